/* test_sidx: lib/sidx.c, the sorted string index: put (insert and
 * replace), get, del, after, on fixed cases and then against a naive model
 * (an unsorted array searched linearly) under random operations from a
 * seeded generator, so every run is the same run. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rng.h"
#include "lib/sidx.h"

/* The index must be strictly sorted by key. */
static void assert_sorted(const struct sidx *x)
{
	for (size_t i = 1; i < x->n; i++)
		if (strcmp(x->v[i - 1].key, x->v[i].key) >= 0)
			fail_msg("out of order at %zu: '%s' then '%s'", i, x->v[i - 1].key, x->v[i].key);
	assert_true(x->n <= x->cap || (x->n == 0 && x->cap == 0));
}

static void test_empty(void **state)
{
	(void)state;
	struct sidx x;
	sidx_init(&x);
	assert_int_equal(x.n, 0);
	assert_null(sidx_get(&x, "a"));
	assert_null(sidx_del(&x, "a"));
	assert_int_equal(sidx_after(&x, NULL), 0);
	assert_int_equal(sidx_after(&x, "a"), 0);
	sidx_release(&x);
	assert_null(x.v);
	assert_int_equal(x.n, 0);
}

static void test_put_get_sorted(void **state)
{
	(void)state;
	static const char *const keys[] = {"m", "b", "z", "a", "k", "bb", "", "B"};
	int vals[8];
	struct sidx x;
	sidx_init(&x);
	for (int i = 0; i < 8; i++)
		assert_null(sidx_put(&x, keys[i], &vals[i]));
	assert_int_equal(x.n, 8);
	assert_sorted(&x);
	for (int i = 0; i < 8; i++)
		assert_ptr_equal(sidx_get(&x, keys[i]), &vals[i]);
	assert_null(sidx_get(&x, "c"));
	assert_null(sidx_get(&x, "zz"));
	/* strcmp order: "" < "B" < "a" < "b" < "bb" < ... */
	assert_string_equal(x.v[0].key, "");
	assert_string_equal(x.v[1].key, "B");
	assert_string_equal(x.v[7].key, "z");
	sidx_release(&x);
}

static void test_replace(void **state)
{
	(void)state;
	int a, b;
	struct sidx x;
	sidx_init(&x);
	char k1[] = "key", k2[] = "key"; /* equal keys, different storage */
	assert_null(sidx_put(&x, k1, &a));
	assert_ptr_equal(sidx_put(&x, k2, &b), &a);
	assert_int_equal(x.n, 1);
	assert_ptr_equal(sidx_get(&x, "key"), &b);
	/* The entry now borrows the new key, so the old one may die. */
	assert_ptr_equal(x.v[0].key, k2);
	sidx_release(&x);
}

static void test_del(void **state)
{
	(void)state;
	int v[5];
	static const char *const keys[] = {"a", "b", "c", "d", "e"};
	struct sidx x;
	sidx_init(&x);
	for (int i = 0; i < 5; i++)
		sidx_put(&x, keys[i], &v[i]);
	assert_ptr_equal(sidx_del(&x, "c"), &v[2]);
	assert_null(sidx_del(&x, "c"));
	assert_ptr_equal(sidx_del(&x, "a"), &v[0]); /* first */
	assert_ptr_equal(sidx_del(&x, "e"), &v[4]); /* last */
	assert_int_equal(x.n, 2);
	assert_sorted(&x);
	assert_ptr_equal(sidx_get(&x, "b"), &v[1]);
	assert_ptr_equal(sidx_get(&x, "d"), &v[3]);
	assert_null(sidx_get(&x, "a"));
	sidx_release(&x);
}

static void test_after(void **state)
{
	(void)state;
	int v;
	static const char *const keys[] = {"b", "d", "f"};
	struct sidx x;
	sidx_init(&x);
	for (int i = 0; i < 3; i++)
		sidx_put(&x, keys[i], &v);
	assert_int_equal(sidx_after(&x, NULL), 0);
	assert_int_equal(sidx_after(&x, ""), 0);
	assert_int_equal(sidx_after(&x, "a"), 0);
	assert_int_equal(sidx_after(&x, "b"), 1);  /* present: the next one */
	assert_int_equal(sidx_after(&x, "c"), 1);  /* absent: the first greater */
	assert_int_equal(sidx_after(&x, "d"), 2);
	assert_int_equal(sidx_after(&x, "e"), 2);
	assert_int_equal(sidx_after(&x, "f"), 3);
	assert_int_equal(sidx_after(&x, "zzz"), 3);
	/* Paging: resuming after each key visits every key once. */
	size_t seen = 0;
	const char *last = NULL;
	for (size_t i = sidx_after(&x, last); i < x.n; i = sidx_after(&x, last)) {
		last = x.v[i].key;
		seen++;
	}
	assert_int_equal(seen, 3);
	sidx_release(&x);
}

static void test_growth(void **state)
{
	(void)state;
	/* Past the first capacity (16) several times, in descending order so
	 * every insertion moves the whole array. */
	enum { N = 300 };
	static char keys[N][16];
	struct sidx x;
	sidx_init(&x);
	for (int i = N - 1; i >= 0; i--) {
		snprintf(keys[i], sizeof keys[i], "k%04d", i);
		assert_null(sidx_put(&x, keys[i], keys[i]));
	}
	assert_int_equal(x.n, N);
	assert_sorted(&x);
	for (int i = 0; i < N; i++) {
		assert_string_equal(x.v[i].key, keys[i]);
		assert_ptr_equal(sidx_get(&x, keys[i]), keys[i]);
	}
	sidx_release(&x);
}

/* ---- against a naive model ---- */

#define MODEL_KEYS 64

struct naive {
	bool present[MODEL_KEYS];
	void *val[MODEL_KEYS];
};

static char model_keys[MODEL_KEYS][16];

static void test_random_vs_naive(void **state)
{
	(void)state;
	/* Keys share prefixes and differ in length so comparisons matter. */
	for (int i = 0; i < MODEL_KEYS; i++)
		snprintf(model_keys[i], sizeof model_keys[i], "%.*s%d", i % 4, "aaaa", i * 7 % 13);
	/* Some keys above repeat; keep the table's own view of distinct keys. */
	struct rng r;
	for (uint64_t seed = 1; seed <= 20; seed++) {
		rng_seed(&r, seed);
		struct sidx x;
		struct naive m;
		memset(&m, 0, sizeof m);
		sidx_init(&x);
		for (int step = 0; step < 2000; step++) {
			int k = (int)rng_below(&r, MODEL_KEYS);
			const char *key = model_keys[k];
			/* the naive model's slot for key: the first with the same text */
			int slot = k;
			for (int j = 0; j < MODEL_KEYS; j++)
				if (strcmp(model_keys[j], key) == 0) {
					slot = j;
					break;
				}
			void *val = (void *)(uintptr_t)(step + 1);
			switch (rng_below(&r, 4)) {
			case 0:
			case 1: {
				void *old = sidx_put(&x, key, val);
				assert_ptr_equal(old, m.present[slot] ? m.val[slot] : NULL);
				m.present[slot] = true;
				m.val[slot] = val;
				break;
			}
			case 2: {
				void *old = sidx_del(&x, key);
				assert_ptr_equal(old, m.present[slot] ? m.val[slot] : NULL);
				m.present[slot] = false;
				break;
			}
			case 3: {
				/* after(key) is the number of present keys <= key */
				size_t want = 0;
				for (int j = 0; j < MODEL_KEYS; j++)
					if (m.present[j] && strcmp(model_keys[j], key) <= 0)
						want++;
				assert_int_equal(sidx_after(&x, key), want);
				break;
			}
			}
			assert_ptr_equal(sidx_get(&x, key), m.present[slot] ? m.val[slot] : NULL);
			if (step % 97 == 0) {
				size_t n = 0;
				for (int j = 0; j < MODEL_KEYS; j++)
					if (m.present[j]) {
						n++;
						assert_ptr_equal(sidx_get(&x, model_keys[j]), m.val[j]);
					}
				assert_int_equal(x.n, n);
				assert_sorted(&x);
			}
		}
		sidx_release(&x);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_put_get_sorted),
		cmocka_unit_test(test_replace),
		cmocka_unit_test(test_del),
		cmocka_unit_test(test_after),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_random_vs_naive),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
