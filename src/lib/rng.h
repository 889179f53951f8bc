/* rng: random sources and the identifiers made from them.
 *
 * struct rng is a small deterministic generator (xoshiro256**) so that pure
 * layers can take randomness as an argument and tests can seed it.  Ids that
 * clients see (request ids, uuids, 32-hex task ids) come from an rng seeded
 * from the kernel at start. */
#ifndef BERTH_LIB_RNG_H
#define BERTH_LIB_RNG_H

#include <stdint.h>

struct rng {
	uint64_t s[4];
};

/* Seed deterministically from one 64-bit value. */
void rng_seed(struct rng *r, uint64_t seed);
/* Seed from getrandom(2); falls back to time and pid if that fails. */
void rng_seed_os(struct rng *r);
uint64_t rng_next(struct rng *r);
/* Uniform in [0, n); n > 0. */
uint64_t rng_below(struct rng *r, uint64_t n);

/* A version-4 UUID, 36 chars + NUL, lowercase. */
void rng_uuid(struct rng *r, char out[37]);
/* 32 lowercase hex chars + NUL (ECS's new-format task and instance ids). */
void rng_hex32(struct rng *r, char out[33]);

#endif
