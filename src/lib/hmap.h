/* hmap: a hash map from string keys to pointers.
 *
 * Open addressing with linear probing and backward-shift deletion, so there
 * are no tombstones and lookups stay short however many tasks come and go.
 * Keys are borrowed, as in sidx: each key must live as long as its entry
 * (a task's id is a field of the task).  Use sidx where order matters and
 * hmap where only lookup does and the set is large. */
#ifndef BERTH_LIB_HMAP_H
#define BERTH_LIB_HMAP_H

#include <stddef.h>
#include <stdint.h>

struct hmap_ent {
	const char *key;
	void *val;
	uint64_t hash;
};

struct hmap {
	struct hmap_ent *v;
	size_t n, cap;              /* cap is 0 or a power of two */
};

void hmap_init(struct hmap *h);
/* Frees the table only; the values belong to the caller. */
void hmap_release(struct hmap *h);
void *hmap_get(const struct hmap *h, const char *key);
/* Insert or replace; returns the previous value or NULL. */
void *hmap_put(struct hmap *h, const char *key, void *val);
/* Remove; returns the removed value or NULL. */
void *hmap_del(struct hmap *h, const char *key);
uint64_t hmap_hash(const char *key);

#endif
