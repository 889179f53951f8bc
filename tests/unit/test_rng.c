/* test_rng: lib/rng.c: determinism per seed, rng_below's bounds and spread,
 * and the formats of the identifiers made from it (version-4 UUIDs, 32-hex
 * ids). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <string.h>

#include "lib/rng.h"

static void test_same_seed_same_stream(void **state)
{
	(void)state;
	struct rng a, b;
	rng_seed(&a, 42);
	rng_seed(&b, 42);
	for (int i = 0; i < 1000; i++)
		assert_true(rng_next(&a) == rng_next(&b));
	char ua[37], ub[37];
	rng_uuid(&a, ua);
	rng_uuid(&b, ub);
	assert_string_equal(ua, ub);
}

static void test_different_seeds_differ(void **state)
{
	(void)state;
	struct rng a, b;
	rng_seed(&a, 1);
	rng_seed(&b, 2);
	int same = 0;
	for (int i = 0; i < 100; i++)
		same += rng_next(&a) == rng_next(&b);
	assert_int_equal(same, 0);
	/* Seed 0 must not give the all-zero state xoshiro can never leave. */
	struct rng z;
	rng_seed(&z, 0);
	assert_false(z.s[0] == 0 && z.s[1] == 0 && z.s[2] == 0 && z.s[3] == 0);
	uint64_t x = rng_next(&z), y = rng_next(&z);
	assert_true(x != 0 || y != 0);
}

static void test_known_answers(void **state)
{
	(void)state;
	/* xoshiro256** seeded through splitmix64, computed independently from
	 * the published algorithms.  Pinned so that a change of generator
	 * (which would change every id a seeded test expects) is noticed. */
	struct rng r;
	rng_seed(&r, 42);
	assert_true(rng_next(&r) == 0x15780b2e0c2ec716ULL);
	assert_true(rng_next(&r) == 0x6104d9866d113a7eULL);
	assert_true(rng_next(&r) == 0xae17533239e499a1ULL);
	char u[37], h[33];
	rng_seed(&r, 1);
	rng_uuid(&r, u);
	assert_string_equal(u, "b3f2af6d-0fc7-40c5-853b-559647364cea");
	rng_seed(&r, 1);
	rng_hex32(&r, h);
	assert_string_equal(h, "b3f2af6d0fc710c5853b559647364cea");
}

static void test_below_bounds(void **state)
{
	(void)state;
	struct rng r;
	rng_seed(&r, 7);
	static const uint64_t ns[] = {1, 2, 3, 7, 10, 1000, (1ULL << 32) + 1, UINT64_MAX / 2 + 2, UINT64_MAX};
	for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++)
		for (int i = 0; i < 2000; i++)
			assert_true(rng_below(&r, ns[k]) < ns[k]);
	for (int i = 0; i < 100; i++)
		assert_true(rng_below(&r, 1) == 0);
}

static void test_below_covers_range(void **state)
{
	(void)state;
	/* Every value of a small range comes up, roughly evenly. */
	struct rng r;
	rng_seed(&r, 99);
	enum { N = 10, DRAWS = 100000 };
	int count[N] = {0};
	for (int i = 0; i < DRAWS; i++)
		count[rng_below(&r, N)]++;
	for (int i = 0; i < N; i++) {
		assert_true(count[i] > DRAWS / N * 9 / 10);
		assert_true(count[i] < DRAWS / N * 11 / 10);
	}
}

static int is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static void check_uuid(const char *u)
{
	assert_int_equal(strlen(u), 36);
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (u[i] != '-')
				fail_msg("%s: no '-' at %d", u, i);
		} else if (!is_lower_hex(u[i])) {
			fail_msg("%s: '%c' at %d is not lowercase hex", u, u[i], i);
		}
	}
	if (u[14] != '4')
		fail_msg("%s: version is %c, not 4", u, u[14]);
	if (!strchr("89ab", u[19]))
		fail_msg("%s: variant nibble %c is not 8, 9, a or b", u, u[19]);
}

static void test_uuid_format(void **state)
{
	(void)state;
	struct rng r;
	rng_seed(&r, 2024);
	char prev[37] = "";
	int variants[4] = {0};
	for (int i = 0; i < 2000; i++) {
		char u[37];
		memset(u, 'X', sizeof u);
		rng_uuid(&r, u);
		check_uuid(u);
		assert_string_not_equal(u, prev);
		memcpy(prev, u, sizeof u);
		variants[strchr("89ab", u[19]) - "89ab"]++;
	}
	/* All four variant nibbles occur: the variant mask keeps 2 random bits. */
	for (int i = 0; i < 4; i++)
		assert_true(variants[i] > 0);
}

static void test_hex32_format(void **state)
{
	(void)state;
	struct rng r;
	rng_seed(&r, 5);
	char prev[33] = "";
	int leading_zero = 0;
	for (int i = 0; i < 2000; i++) {
		char h[33];
		memset(h, 'X', sizeof h);
		rng_hex32(&r, h);
		assert_int_equal(strlen(h), 32);
		for (int k = 0; k < 32; k++)
			if (!is_lower_hex(h[k]))
				fail_msg("%s: '%c' at %d", h, h[k], k);
		assert_string_not_equal(h, prev);
		memcpy(prev, h, sizeof h);
		leading_zero += h[0] == '0' || h[16] == '0';
	}
	/* Zero-padded halves, not shortened ones. */
	assert_true(leading_zero > 0);
}

static void test_seed_os_varies(void **state)
{
	(void)state;
	struct rng a, b;
	rng_seed_os(&a);
	rng_seed_os(&b);
	assert_true(rng_next(&a) != rng_next(&b));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_seed_same_stream),
		cmocka_unit_test(test_different_seeds_differ),
		cmocka_unit_test(test_known_answers),
		cmocka_unit_test(test_below_bounds),
		cmocka_unit_test(test_below_covers_range),
		cmocka_unit_test(test_uuid_format),
		cmocka_unit_test(test_hex32_format),
		cmocka_unit_test(test_seed_os_varies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
