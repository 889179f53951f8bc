/* test_taskidx: the indexes tasks live in: lib/hmap.c (lookup by id, with
 * backward-shift deletion), the model's creation-order task lists (holes,
 * compaction, resume after a seq) and its due heap (soonest first, moved
 * and cancelled entries), each against a naive reference under random
 * operations from a seeded generator. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hmap.h"
#include "lib/rng.h"
#include "model/model.h"

#define N 5000

static void test_hmap_against_array(void **state)
{
	(void)state;
	static char keys[N][16];
	static int present[N];
	struct rng r;
	rng_seed(&r, 7);
	struct hmap h;
	hmap_init(&h);
	for (int i = 0; i < N; i++)
		snprintf(keys[i], sizeof keys[i], "k%d", i);
	size_t live = 0;
	for (int step = 0; step < 200000; step++) {
		int i = (int)rng_below(&r, N);
		switch (rng_below(&r, 3)) {
		case 0:
			assert_ptr_equal(hmap_put(&h, keys[i], keys[i]), present[i] ? keys[i] : NULL);
			live += !present[i];
			present[i] = 1;
			break;
		case 1:
			assert_ptr_equal(hmap_del(&h, keys[i]), present[i] ? keys[i] : NULL);
			live -= present[i];
			present[i] = 0;
			break;
		default:
			assert_ptr_equal(hmap_get(&h, keys[i]), present[i] ? keys[i] : NULL);
		}
		assert_int_equal(h.n, live);
	}
	for (int i = 0; i < N; i++)
		assert_ptr_equal(hmap_get(&h, keys[i]), present[i] ? keys[i] : NULL);
	hmap_release(&h);
}

static void test_task_list_pages(void **state)
{
	(void)state;
	static struct task tasks[N];
	struct task_list l = {0};
	struct rng r;
	rng_seed(&r, 11);
	for (int i = 0; i < N; i++) {
		tasks[i].seq = (uint64_t)(i + 1) * 3; /* gaps, as other clusters take seqs */
		task_list_push(&l, &tasks[i]);
	}
	static int gone[N];
	for (int i = 0; i < N; i++)
		if (rng_below(&r, 3) == 0) {
			task_list_remove(&l, &tasks[i]);
			gone[i] = 1;
		}
	/* pages of 7 resume after the last seq seen, and see every live task once in order */
	uint64_t after = 0;
	int seen = 0, expect = 0;
	for (int i = 0; i < N; i++)
		expect += !gone[i];
	for (;;) {
		int got = 0;
		for (size_t i = task_list_after(&l, after); i < l.n && got < 7; i++) {
			if (!l.v[i])
				continue;
			assert_true(l.v[i]->seq > after);
			after = l.v[i]->seq;
			got++;
		}
		seen += got;
		if (got < 7)
			break;
	}
	assert_int_equal(seen, expect);
	assert_int_equal(l.live, (size_t)expect);
	/* pushing after many removals compacts the holes */
	struct task extra[N];
	for (int i = 0; i < N; i++) {
		extra[i].seq = (uint64_t)(N + i + 1) * 3;
		task_list_push(&l, &extra[i]);
	}
	assert_true(l.n <= (size_t)(expect + N) + (size_t)N / 2);
	task_list_release(&l);
}

static void test_due_heap_order(void **state)
{
	(void)state;
	struct model m;
	model_init(&m, "000000000000");
	static struct task tasks[N];
	static int64_t due[N];
	struct rng r;
	rng_seed(&r, 5);
	for (int i = 0; i < N; i++) {
		tasks[i].heap_pos = SIZE_MAX;
		tasks[i].seq = (uint64_t)i + 1;
	}
	for (int step = 0; step < 50000; step++) {
		int i = (int)rng_below(&r, N);
		int64_t at = rng_below(&r, 4) == 0 ? 0 : (int64_t)rng_below(&r, 1000000) + 1;
		model_task_due(&m, &tasks[i], at);
		due[i] = at;
	}
	int64_t last = 0;
	size_t popped = 0;
	struct task *t;
	while ((t = model_task_next_due(&m))) {
		size_t i = (size_t)(t - tasks);
		assert_true(t->due == due[i] && t->due >= last);
		last = t->due;
		model_task_due(&m, t, 0);
		due[i] = 0;
		popped++;
	}
	for (int i = 0; i < N; i++)
		assert_int_equal(due[i], 0);
	assert_true(popped > 0);
	model_release(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hmap_against_array),
		cmocka_unit_test(test_task_list_pages),
		cmocka_unit_test(test_due_heap_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
