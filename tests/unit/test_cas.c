/* test_cas: scaling/cas.c — managed scaling for one (cluster, capacity
 * provider) (ECS-SEMANTICS §8): every worked number of §8.3 (steady at 100,
 * 150 -> 6, from zero 200 -> 2, scale-in toward 8 after 15 datapoints,
 * targetCapacity 90 keeping a spare instance), the special cases (idle and
 * empty, N = 0, nothing compatible), the binpack estimate (smallest type for
 * compatibility, largest for the count, host ports, grouping), the step
 * clamps, warm-up blocking a stacked scale-out, the datapoint streaks in both
 * timings, scale-in step limits, MinSize/MaxSize, managed termination
 * protection and the choice of instances to terminate; then a small
 * simulation from zero to steady and back, and property checks over random
 * inputs from a seeded rng (never below MinSize nor above MaxSize, never a
 * busy or protected instance terminated, the same answer twice). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rng.h"
#include "scaling/cas.h"

#define MAXI 256
#define MAXS 16
#define NOW 10000000   /* ms */

/* ---- a fixture: one group and its provider ---- */

struct fx {
	struct scaling_cas_input in;
	struct scaling_cas_type types[4];
	struct scaling_cas_instance inst[MAXI];
	struct scaling_cas_shape shapes[MAXS];
	struct scaling_cas_result res;
};

/* A group of m5.large-like instances (2 vCPU, 8 GiB), target 100, steps
 * 1..10000, warm-up 300 s, MTP on, min 0, max 100, desired 0. */
static struct fx *fx_new(void)
{
	struct fx *f = calloc(1, sizeof *f);
	assert_non_null(f);
	f->types[0] = (struct scaling_cas_type){2048, 8192};
	f->in.types = f->types;
	f->in.n_types = 1;
	f->in.instances = f->inst;
	f->in.shapes = f->shapes;
	f->in.settings = (struct scaling_cas_settings){100, 1, 10000, 300, 1};
	f->in.min_size = 0;
	f->in.max_size = 100;
	f->in.now = NOW;
	scaling_cas_result_init(&f->res);
	return f;
}

static void fx_free(struct fx *f)
{
	scaling_cas_result_free(&f->res);
	free(f);
}

/* An instance launched `age_s` seconds ago; desired follows the count. */
static size_t fx_inst(struct fx *f, int in_service, int busy, int64_t age_s, uint16_t zone)
{
	size_t i = f->in.n_instances++;
	assert_true(i < MAXI);
	f->inst[i] = (struct scaling_cas_instance){
		.launched_at = NOW - age_s * 1000,
		.zone = zone,
		.state = (uint8_t)(in_service ? SCALING_CAS_IN_SERVICE : SCALING_CAS_PENDING),
		.busy = (uint8_t)busy,
		.is_protected = (uint8_t)busy,
	};
	if (f->in.desired < f->in.n_instances)
		f->in.desired = f->in.n_instances;
	return i;
}

/* n InService instances, the first `busy` of them busy, out of warm-up. */
static void fx_group(struct fx *f, unsigned n, unsigned busy)
{
	for (unsigned i = 0; i < n; i++)
		fx_inst(f, 1, i < busy, 3600, 0);
}

static void fx_shape(struct fx *f, uint32_t cpu, uint32_t mem, uint32_t ports, unsigned long count)
{
	size_t s = f->in.n_shapes++;
	assert_true(s < MAXS);
	f->shapes[s] = (struct scaling_cas_shape){.task = {cpu, mem, ports, ports ? 80 : 0}, .count = count};
}

static const struct scaling_cas_result *eval(struct fx *f)
{
	scaling_cas_evaluate(&f->in, &f->res);
	return &f->res;
}

/* Evaluate, then carry the streaks into the next input as a caller does. */
static const struct scaling_cas_result *step(struct fx *f)
{
	eval(f);
	f->in.high_streak = f->res.high_streak;
	f->in.low_streak = f->res.low_streak;
	return &f->res;
}

/* ---- §8.3 worked numbers ---- */

static void test_worked_steady(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	fx_group(f, 4, 4);
	const struct scaling_cas_result *r = eval(f);
	assert_int_equal(r->n, 4);
	assert_int_equal(r->m, 4);
	assert_true(r->cpr == 100.0);
	assert_int_equal(r->datapoint, SCALING_CAS_DP_NONE);
	assert_int_equal(r->decision, SCALING_CAS_STEADY);
	assert_int_equal(r->desired, 4);
	assert_int_equal(r->n_terminate, 0);
	fx_free(f);
}

static void test_worked_provisioning_150(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	fx_group(f, 4, 4);
	fx_shape(f, 1024, 4096, 0, 3);   /* 2 a 2048/8192 instance: 3 tasks need 2 */
	const struct scaling_cas_result *r = eval(f);
	assert_int_equal(r->extra_estimate, 2);
	assert_int_equal(r->extra, 2);
	assert_int_equal(r->m, 6);
	assert_true(r->cpr == 150.0);
	assert_int_equal(r->datapoint, SCALING_CAS_DP_HIGH);
	assert_int_equal(r->wanted, 6);
	assert_int_equal(r->decision, SCALING_CAS_SCALE_OUT);
	assert_int_equal(r->desired, 6);
	assert_true(r->cancel_scale_in);
	fx_free(f);
}

static void test_worked_from_zero_200(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	fx_shape(f, 256, 512, 0, 1);
	const struct scaling_cas_result *r = eval(f);
	assert_int_equal(r->n, 0);
	assert_int_equal(r->m, 1);
	assert_true(r->cpr == 200.0);
	assert_int_equal(r->wanted, 2);
	assert_int_equal(r->decision, SCALING_CAS_SCALE_OUT);
	assert_int_equal(r->desired, 2);
	/* many tasks from zero: still 200 %, still 2 */
	f->shapes[0].count = 50;
	r = eval(f);
	assert_true(r->cpr == 200.0);
	assert_int_equal(r->desired, 2);
	/* MaxSize 1 caps it */
	f->in.max_size = 1;
	r = eval(f);
	assert_int_equal(r->desired, 1);
	assert_int_equal(r->decision, SCALING_CAS_SCALE_OUT);
	/* MaxSize 0: nothing can scale out */
	f->in.max_size = 0;
	r = eval(f);
	assert_int_equal(r->desired, 0);
	assert_int_equal(r->decision, SCALING_CAS_AT_MAX);
	fx_free(f);
}

static void test_worked_scale_in_after_15(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	fx_group(f, 10, 8);   /* 2 empty */
	for (int k = 1; k <= 14; k++) {
		const struct scaling_cas_result *r = step(f);
		assert_int_equal(r->m, 8);
		assert_true(r->cpr == 80.0);
		assert_int_equal(r->datapoint, SCALING_CAS_DP_LOW);
		assert_int_equal(r->low_streak, k);
		assert_int_equal(r->decision, SCALING_CAS_WAIT_DATAPOINTS);
		assert_int_equal(r->desired, 10);
		assert_int_equal(r->n_terminate, 0);
	}
	const struct scaling_cas_result *r = step(f);
	assert_int_equal(r->low_streak, 15);
	assert_int_equal(r->wanted, 8);
	assert_int_equal(r->decision, SCALING_CAS_SCALE_IN);
	assert_int_equal(r->desired, 8);
	assert_int_equal(r->n_terminate, 2);
	/* the two empty ones (indexes 8 and 9) */
	size_t a = r->terminate[0], b = r->terminate[1];
	assert_true((a == 8 && b == 9) || (a == 9 && b == 8));
	fx_free(f);
}

static void test_worked_target_90_keeps_spare(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	f->in.settings.target_capacity = 90;
	fx_group(f, 9, 9);
	const struct scaling_cas_result *r = step(f);
	assert_true(r->cpr == 100.0);
	assert_int_equal(r->datapoint, SCALING_CAS_DP_HIGH);
	assert_int_equal(r->wanted, 10);   /* ceil(9 * 100 / 90) */
	assert_int_equal(r->desired, 10);
	/* the new instance is in service, empty: 9/10 = 90 % = target */
	fx_inst(f, 1, 0, 3600, 0);
	for (int k = 0; k < 40; k++) {
		r = step(f);
		assert_true(r->cpr == 90.0);
		assert_int_equal(r->datapoint, SCALING_CAS_DP_NONE);
		assert_int_equal(r->decision, SCALING_CAS_STEADY);
		assert_int_equal(r->desired, 10);
		assert_int_equal(r->n_terminate, 0);
	}
	/* target 50: with 4 busy of 10, wanted 8, two spare instances kept, so
	 * a scale-in toward 8 (not 4) */
	struct fx *g = fx_new();
	g->in.settings.target_capacity = 50;
	fx_group(g, 10, 4);
	g->in.low_streak = 14;
	r = eval(g);
	assert_true(r->cpr == 40.0);
	assert_int_equal(r->wanted, 8);
	assert_int_equal(r->desired, 8);
	assert_int_equal(r->n_terminate, 2);
	fx_free(g);
	fx_free(f);
}

/* ---- special cases ---- */

static void test_idle_and_empty(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	const unsigned targets[] = {100, 90, 50, 1};
	for (size_t k = 0; k < 4; k++) {
		f->in.settings.target_capacity = targets[k];
		f->in.high_streak = 7;
		f->in.low_streak = 7;
		const struct scaling_cas_result *r = eval(f);
		assert_int_equal(r->m, 0);
		assert_int_equal(r->n, 0);
		assert_true(r->cpr == 100.0);
		assert_int_equal(r->datapoint, SCALING_CAS_DP_NONE);
		assert_int_equal(r->decision, SCALING_CAS_STEADY);
		assert_int_equal(r->desired, 0);
		assert_int_equal(r->high_streak, 0);
		assert_int_equal(r->low_streak, 0);
	}
	/* pending instances only, no task: still idle (N = 0, M = 0) */
	fx_inst(f, 0, 0, 10, 0);
	fx_inst(f, 0, 0, 10, 0);
	const struct scaling_cas_result *r = eval(f);
	assert_true(r->cpr == 100.0);
	assert_int_equal(r->decision, SCALING_CAS_STEADY);
	assert_int_equal(r->desired, 2);
	fx_free(f);
}

static void test_n_zero_m_positive_200(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	f->in.settings.target_capacity = 50;
	fx_shape(f, 256, 512, 0, 1);
	const struct scaling_cas_result *r = eval(f);
	assert_true(r->cpr == 200.0);
	assert_int_equal(r->wanted, 4);   /* ceil(200 / 50) */
	assert_int_equal(r->desired, 4);
	f->in.settings.target_capacity = 75;
	r = eval(f);
	assert_int_equal(r->wanted, 3);   /* ceil(200 / 75) */
	/* the group already launched 2 that are still pending, in warm-up */
	f->in.settings.target_capacity = 100;
	fx_inst(f, 0, 0, 30, 0);
	fx_inst(f, 0, 0, 30, 0);
	r = eval(f);
	assert_true(r->cpr == 200.0);
	assert_int_equal(r->decision, SCALING_CAS_WARMUP);
	assert_int_equal(r->desired, 2);
	/* out of warm-up but still pending: wanted 2 == desired */
	f->inst[0].launched_at = f->inst[1].launched_at = NOW - 400000;
	r = eval(f);
	assert_int_equal(r->decision, SCALING_CAS_REACHED);
	assert_int_equal(r->desired, 2);
	fx_free(f);
}

static void test_incompatible(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	f->types[1] = (struct scaling_cas_type){8192, 32768};
	f->in.n_types = 2;
	f->in.settings.target_capacity = 80;
	fx_group(f, 4, 1);
	fx_shape(f, 4096, 1024, 0, 5);    /* more CPU than the smallest (2048) */
	fx_shape(f, 1024, 16384, 0, 2);   /* more memory than the smallest (8192) */
	f->in.low_streak = 30;
	const struct scaling_cas_result *r = eval(f);
	assert_int_equal(r->provisioning, 7);
	assert_int_equal(r->incompatible, 7);
	assert_int_equal(r->extra_estimate, 0);
	assert_true(r->cpr == 80.0);   /* stays at targetCapacity */
	assert_int_equal(r->datapoint, SCALING_CAS_DP_NONE);
	assert_int_equal(r->decision, SCALING_CAS_INCOMPATIBLE);
	assert_int_equal(r->desired, 4);
	assert_int_equal(r->n_terminate, 0);
	assert_int_equal(r->low_streak, 0);
	assert_false(r->shapes[0].compatible);
	assert_int_equal(r->shapes[0].instances, 0);
	/* protection is still managed */
	assert_int_equal(r->n_protect, 0);
	/* a compatible shape beside them counts alone */
	fx_shape(f, 2048, 8192, 0, 3);   /* exactly the smallest; 4 a largest */
	r = eval(f);
	assert_int_equal(r->provisioning, 10);
	assert_int_equal(r->incompatible, 7);
	assert_int_equal(r->extra_estimate, 1);
	assert_int_equal(r->m, 5);
	assert_int_equal(r->decision, SCALING_CAS_SCALE_OUT);
	assert_int_equal(r->desired, 7);   /* ceil(100 * 5 / 80) */
	/* no instance type at all: nothing is compatible */
	f->in.n_types = 0;
	r = eval(f);
	assert_int_equal(r->decision, SCALING_CAS_INCOMPATIBLE);
	fx_free(f);
}

/* ---- the estimate ---- */

static void test_estimate_largest_and_smallest(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	/* c5.large-like (2048, 4096) and r5.xlarge-like (4096, 32768): per
	 * parameter the smallest is (2048, 4096), the largest (4096, 32768) */
	f->types[0] = (struct scaling_cas_type){4096, 32768};
	f->types[1] = (struct scaling_cas_type){2048, 4096};
	f->in.n_types = 2;
	fx_shape(f, 512, 1024, 0, 20);   /* 8 a largest by CPU: 3 */
	fx_shape(f, 256, 4096, 0, 17);   /* 8 by memory: 3 */
	fx_shape(f, 0, 2048, 0, 33);     /* 16 by memory: 3 */
	fx_shape(f, 1024, 512, 0, 9);    /* 4 by CPU: 3 */
	fx_shape(f, 128, 128, 0, 5);     /* 32 by CPU: 1 */
	struct scaling_cas_result *r = &f->res;
	unsigned long e = scaling_cas_estimate(&f->in, r);
	assert_int_equal(e, 3);
	assert_int_equal(r->n_shapes, 5);
	assert_int_equal(r->shapes[0].per_instance, 8);
	assert_int_equal(r->shapes[1].per_instance, 8);
	assert_int_equal(r->shapes[2].per_instance, 16);
	assert_int_equal(r->shapes[3].per_instance, 4);
	assert_int_equal(r->shapes[4].per_instance, 32);
	assert_int_equal(r->shapes[0].instances, 3);
	assert_int_equal(r->shapes[4].instances, 1);
	/* the largest shape count wins: 100 of the first -> 13 */
	f->shapes[0].count = 100;
	assert_int_equal(scaling_cas_estimate(&f->in, r), 13);
	/* a task with no requirement at all: one instance for all of them */
	f->in.n_shapes = 0;
	fx_shape(f, 0, 0, 0, 1000);
	assert_int_equal(scaling_cas_estimate(&f->in, r), 1);
	assert_true(r->shapes[0].per_instance == SCALING_CAS_UNLIMITED);
	assert_int_equal(r->shapes[0].instances, 1);
	fx_free(f);
}

static void test_estimate_host_ports(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	fx_group(f, 2, 2);
	fx_shape(f, 128, 128, 1, 5);   /* host port 80: one a instance */
	const struct scaling_cas_result *r = eval(f);
	assert_int_equal(r->extra, 5);
	assert_int_equal(r->m, 7);
	assert_int_equal(r->desired, 7);
	assert_int_equal(r->shapes[0].per_instance, 1);
	fx_free(f);
}

static void test_estimate_grouping(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	struct scaling_cas_task tasks[10];
	for (int i = 0; i < 10; i++)
		tasks[i] = (struct scaling_cas_task){1024, 2048, 0, 0};
	tasks[3] = (struct scaling_cas_task){1024, 2048, 1, 8080};   /* same resources, a host port */
	tasks[7] = (struct scaling_cas_task){1024, 2048, 1, 9090};   /* another port set */
	f->in.tasks = tasks;
	f->in.n_tasks = 10;
	struct scaling_cas_result *r = &f->res;
	unsigned long e = scaling_cas_estimate(&f->in, r);
	assert_int_equal(r->n_shapes, 3);
	assert_int_equal(r->provisioning, 10);
	assert_int_equal(r->shapes[0].count, 8);
	assert_int_equal(r->shapes[1].count, 1);
	assert_int_equal(r->shapes[1].task.ports_key, 8080);
	assert_int_equal(r->shapes[2].count, 1);
	assert_int_equal(e, 4);   /* 8 tasks, 2 an instance */
	/* shapes with counts and single tasks merge */
	fx_shape(f, 1024, 2048, 0, 2);
	e = scaling_cas_estimate(&f->in, r);
	assert_int_equal(r->n_shapes, 3);
	assert_int_equal(r->shapes[0].count, 10);
	assert_int_equal(e, 5);
	/* a count of 0 is no task */
	f->shapes[0].count = 0;
	f->in.n_tasks = 0;
	assert_int_equal(scaling_cas_estimate(&f->in, r), 0);
	assert_int_equal(r->n_shapes, 0);
	assert_int_equal(r->provisioning, 0);
	/* many shapes: the table grows */
	struct scaling_cas_task *many = calloc(5000, sizeof *many);
	assert_non_null(many);
	for (int i = 0; i < 5000; i++)
		many[i] = (struct scaling_cas_task){(uint32_t)(1 + i % 1000), 64, 0, 0};
	f->in.tasks = many;
	f->in.n_tasks = 5000;
	e = scaling_cas_estimate(&f->in, r);
	assert_int_equal(r->n_shapes, 1000);
	for (size_t s = 0; s < 1000; s++) {
		assert_int_equal(r->shapes[s].task.cpu, s + 1);
		assert_int_equal(r->shapes[s].count, 5);
	}
	assert_int_equal(e, 3);   /* cpu 683..1000: 2 an instance, 5 tasks -> 3 */
	assert_int_equal(r->shapes[999].instances, 3);
	assert_int_equal(r->shapes[0].instances, 1);
	free(many);
	fx_free(f);
}

/* ---- step clamps ---- */

static void test_step_clamps(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	fx_group(f, 10, 10);
	f->in.settings.min_step = 3;
	f->in.settings.max_step = 5;
	fx_shape(f, 2048, 1024, 0, 1);   /* estimate 1 -> 3 */
	const struct scaling_cas_result *r = eval(f);
	assert_int_equal(r->extra_estimate, 1);
	assert_int_equal(r->extra, 3);
	assert_int_equal(r->m, 13);
	assert_true(r->cpr == 130.0);
	assert_int_equal(r->desired, 13);
	f->shapes[0].count = 4;           /* within the bounds */
	r = eval(f);
	assert_int_equal(r->extra, 4);
	assert_int_equal(r->desired, 14);
	f->shapes[0].count = 40;          /* estimate 40 -> 5 */
	r = eval(f);
	assert_int_equal(r->extra_estimate, 40);
	assert_int_equal(r->extra, 5);
	assert_int_equal(r->m, 15);
	assert_int_equal(r->desired, 15);
	/* from zero the clamp makes M but CPR is 200 all the same */
	struct fx *g = fx_new();
	g->in.settings.min_step = 4;
	fx_shape(g, 256, 256, 0, 1);
	r = eval(g);
	assert_int_equal(r->m, 4);
	assert_true(r->cpr == 200.0);
	assert_int_equal(r->desired, 2);
	fx_free(g);
	fx_free(f);
}

/* ---- warm-up, datapoints, MaxSize ---- */

static void test_warmup_blocks_stacked_scale_out(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	fx_group(f, 4, 4);
	fx_shape(f, 2048, 1024, 0, 2);
	const struct scaling_cas_result *r = step(f);
	assert_int_equal(r->desired, 6);
	/* the two new instances launch now; more tasks arrive meanwhile */
	f->in.desired = 6;
	fx_inst(f, 0, 0, 0, 0);
	fx_inst(f, 0, 0, 0, 0);
	f->shapes[0].count = 6;
	int64_t t0 = NOW;
	for (int64_t s = 0; s < 300; s += 60) {
		f->in.now = t0 + s * 1000;
		r = step(f);
		assert_int_equal(r->datapoint, SCALING_CAS_DP_HIGH);
		assert_true(r->in_warmup);
		assert_int_equal(r->decision, SCALING_CAS_WARMUP);
		assert_int_equal(r->desired, 6);
	}
	/* warm-up over (launched_at + 300 s == now): the next scale-out goes */
	f->in.now = t0 + 300 * 1000;
	r = step(f);
	assert_false(r->in_warmup);
	assert_int_equal(r->decision, SCALING_CAS_SCALE_OUT);
	assert_int_equal(r->m, 10);
	assert_int_equal(r->desired, 10);
	/* warm-up 0 never blocks */
	f->in.now = t0;
	f->in.settings.warmup_s = 0;
	r = eval(f);
	assert_int_equal(r->decision, SCALING_CAS_SCALE_OUT);
	fx_free(f);
}

static void test_high_datapoints_and_cancel(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	fx_group(f, 4, 2);
	/* a scale-in under way: low streak high, then tasks arrive */
	f->in.low_streak = 20;
	fx_shape(f, 2048, 1024, 0, 1);
	f->in.high_datapoints = 3;
	const struct scaling_cas_result *r = step(f);
	assert_int_equal(r->datapoint, SCALING_CAS_DP_HIGH);
	assert_true(r->cancel_scale_in);
	assert_int_equal(r->low_streak, 0);
	assert_int_equal(r->high_streak, 1);
	assert_int_equal(r->decision, SCALING_CAS_WAIT_DATAPOINTS);
	r = step(f);
	assert_int_equal(r->decision, SCALING_CAS_WAIT_DATAPOINTS);
	r = step(f);
	assert_int_equal(r->high_streak, 3);
	assert_int_equal(r->decision, SCALING_CAS_SCALE_OUT);
	assert_int_equal(r->desired, 5);
	/* the streak keeps the alarm in ALARM: desired reached, nothing more */
	f->in.desired = 5;
	r = step(f);
	assert_int_equal(r->high_streak, 4);
	assert_int_equal(r->decision, SCALING_CAS_REACHED);
	/* a datapoint at target resets both streaks */
	f->in.n_shapes = 0;
	f->inst[2].busy = f->inst[3].busy = 1;
	r = step(f);
	assert_int_equal(r->datapoint, SCALING_CAS_DP_NONE);
	assert_int_equal(r->high_streak, 0);
	assert_int_equal(r->low_streak, 0);
	assert_false(r->cancel_scale_in);
	fx_free(f);
}

static void test_max_size(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	f->in.max_size = 12;
	fx_group(f, 10, 10);
	fx_shape(f, 2048, 1024, 0, 10);
	const struct scaling_cas_result *r = eval(f);
	assert_int_equal(r->wanted, 20);
	assert_int_equal(r->desired, 12);
	assert_int_equal(r->decision, SCALING_CAS_SCALE_OUT);
	f->in.desired = 12;
	r = eval(f);
	assert_int_equal(r->desired, 12);
	assert_int_equal(r->decision, SCALING_CAS_AT_MAX);
	fx_free(f);
}

/* ---- scale-in ---- */

static void test_scale_in_half_step_and_min(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	fx_group(f, 20, 2);
	f->in.low_streak = 14;
	const struct scaling_cas_result *r = eval(f);
	assert_true(r->cpr == 10.0);
	assert_int_equal(r->wanted, 2);
	assert_int_equal(r->desired, 10);   /* at most half a step */
	assert_int_equal(r->n_terminate, 10);
	for (size_t k = 0; k < r->n_terminate; k++)
		assert_true(r->terminate[k] >= 2);   /* never a busy one */
	/* MinSize 15 */
	f->in.min_size = 15;
	r = eval(f);
	assert_int_equal(r->desired, 15);
	assert_int_equal(r->n_terminate, 5);
	/* at MinSize: nothing */
	struct fx *g = fx_new();
	fx_group(g, 3, 0);
	g->in.min_size = 3;
	g->in.low_streak = 100;
	r = eval(g);
	assert_true(r->cpr == 0.0);
	assert_int_equal(r->decision, SCALING_CAS_AT_MIN);
	assert_int_equal(r->desired, 3);
	/* a group of 1 empty instance, min 0: step max(1, 0) = 1 -> 0 */
	struct fx *h = fx_new();
	fx_group(h, 1, 0);
	h->in.low_streak = 14;
	r = eval(h);
	assert_int_equal(r->desired, 0);
	assert_int_equal(r->n_terminate, 1);
	/* successive evaluations while the alarm stays low: 20 -> 10 -> 5 ->
	 * 3 -> 2 (two busy) */
	struct fx *k = fx_new();
	fx_group(k, 20, 2);
	k->in.low_streak = 14;
	const unsigned long expect[] = {10, 5, 3, 2};
	for (size_t s = 0; s < 4; s++) {
		r = step(k);
		assert_int_equal(r->desired, expect[s]);
		/* the caller terminates them: drop them from the list */
		size_t keep = 0;
		for (size_t i = 0; i < k->in.n_instances; i++) {
			int gone = 0;
			for (size_t j = 0; j < r->n_terminate; j++)
				gone |= r->terminate[j] == i;
			if (!gone)
				k->inst[keep++] = k->inst[i];
		}
		k->in.n_instances = keep;
		k->in.desired = r->desired;
		assert_int_equal(keep, r->desired);
	}
	r = step(k);
	assert_int_equal(r->decision, SCALING_CAS_STEADY);
	fx_free(k);
	fx_free(h);
	fx_free(g);
	fx_free(f);
}

static void test_scale_in_protection(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	fx_group(f, 6, 2);
	/* managed termination protection on: instance 2 (empty) is still
	 * protected, instance 1 (busy) is not yet */
	f->inst[2].is_protected = 1;
	f->inst[1].is_protected = 0;
	const struct scaling_cas_result *r = eval(f);
	assert_int_equal(r->n_protect, 1);
	assert_int_equal(r->protect[0], 1);
	assert_int_equal(r->n_unprotect, 1);
	assert_int_equal(r->unprotect[0], 2);
	/* the scale-in may take it: it is unprotected in this evaluation */
	f->in.low_streak = 14;
	r = eval(f);
	assert_int_equal(r->desired, 3);   /* wanted 2, half a step: 6 -> 3 */
	assert_int_equal(r->n_terminate, 3);
	for (size_t k = 0; k < r->n_terminate; k++)
		assert_true(r->terminate[k] >= 2);
	/* without managed protection the caller's flags hold: 2 and 3
	 * protected, only 4 and 5 may go */
	f->in.settings.managed_termination_protection = 0;
	f->inst[3].is_protected = 1;
	r = eval(f);
	assert_int_equal(r->n_protect, 0);
	assert_int_equal(r->n_unprotect, 0);
	assert_int_equal(r->n_terminate, 2);
	assert_int_equal(r->desired, 4);   /* raised to what can go */
	assert_int_equal(r->decision, SCALING_CAS_SCALE_IN);
	for (size_t k = 0; k < r->n_terminate; k++)
		assert_true(r->terminate[k] == 4 || r->terminate[k] == 5);
	/* all empty ones protected: nothing can go */
	f->inst[4].is_protected = f->inst[5].is_protected = 1;
	r = eval(f);
	assert_int_equal(r->decision, SCALING_CAS_NO_EMPTY);
	assert_int_equal(r->desired, 6);
	assert_int_equal(r->n_terminate, 0);
	/* pending instances are never terminated nor (un)protected */
	struct fx *g = fx_new();
	fx_group(g, 4, 0);
	fx_inst(g, 0, 0, 3600, 0);
	g->inst[4].is_protected = 1;
	g->in.low_streak = 14;
	r = eval(g);
	assert_int_equal(r->n_unprotect, 0);
	/* N 4, M 0, wanted 0, d 5 -> 3: two of the InService ones go */
	assert_int_equal(r->desired, 3);
	assert_int_equal(r->n_terminate, 2);
	for (size_t k = 0; k < r->n_terminate; k++)
		assert_true(r->terminate[k] < 4);
	fx_free(g);
	fx_free(f);
}

static void test_scale_in_zone_balance_and_age(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	/* zone 0: 5 instances (2 busy), zone 1: 3 (all empty), zone 2: 2 empty */
	for (int i = 0; i < 5; i++)
		fx_inst(f, 1, i < 2, 1000 + i, 0);   /* older as i grows */
	for (int i = 0; i < 3; i++)
		fx_inst(f, 1, 0, 2000 - i, 1);
	for (int i = 0; i < 2; i++)
		fx_inst(f, 1, 0, 500, 2);
	f->in.low_streak = 14;
	const struct scaling_cas_result *r = eval(f);
	/* M 2, wanted 2, d 10, step 5 -> 5 */
	assert_int_equal(r->desired, 5);
	assert_int_equal(r->n_terminate, 5);
	/* live per zone 5/3/2: zone 0, its oldest empty (4) -> 4/3/2; zone 0
	 * (3) -> 3/3/2; zone 0 on the tie with zone 1, the lower index (2) ->
	 * 2/3/2; zone 1, its oldest (5) -> 2/2/2; a three-way tie, zone 0 has
	 * no candidate left: zone 1 (6) */
	const size_t expect[] = {4, 3, 2, 5, 6};
	for (size_t k = 0; k < 5; k++)
		assert_int_equal(r->terminate[k], expect[k]);
	fx_free(f);
}

/* ---- timing and determinism ---- */

static void test_timing(void **state)
{
	(void)state;
	struct scaling_cas_timing t = scaling_cas_timing(SCALING_CAS_TIMING_ECS, 5, 2);
	assert_int_equal(t.period_ms, 60000);
	assert_int_equal(t.high_datapoints, 1);
	assert_int_equal(t.low_datapoints, 15);
	t = scaling_cas_timing(SCALING_CAS_TIMING_FAST, 0, 0);
	assert_int_equal(t.period_ms, SCALING_CAS_FAST_PERIOD_MS);
	assert_int_equal(t.high_datapoints, 1);
	assert_int_equal(t.low_datapoints, SCALING_CAS_FAST_LOW_DATAPOINTS);
	t = scaling_cas_timing(SCALING_CAS_TIMING_FAST, 250, 4);
	assert_int_equal(t.period_ms, 250);
	assert_int_equal(t.low_datapoints, 4);
	enum scaling_cas_timing_mode m = SCALING_CAS_TIMING_FAST;
	assert_int_equal(scaling_cas_timing_parse("ecs", &m), 0);
	assert_int_equal(m, SCALING_CAS_TIMING_ECS);
	assert_int_equal(scaling_cas_timing_parse("fast", &m), 0);
	assert_int_equal(m, SCALING_CAS_TIMING_FAST);
	assert_int_equal(scaling_cas_timing_parse("ECS", &m), -1);
	assert_int_equal(scaling_cas_timing_parse("", &m), -1);
	assert_int_equal(scaling_cas_timing_parse(NULL, &m), -1);
	assert_int_equal(m, SCALING_CAS_TIMING_FAST);

	/* the fast timing's low count drives the same scale-in, sooner */
	struct fx *f = fx_new();
	fx_group(f, 10, 8);
	t = scaling_cas_timing(SCALING_CAS_TIMING_FAST, 0, 0);
	f->in.low_datapoints = t.low_datapoints;
	f->in.high_datapoints = t.high_datapoints;
	const struct scaling_cas_result *r = step(f);
	assert_int_equal(r->decision, SCALING_CAS_WAIT_DATAPOINTS);
	r = step(f);
	assert_int_equal(r->decision, SCALING_CAS_WAIT_DATAPOINTS);
	r = step(f);
	assert_int_equal(r->decision, SCALING_CAS_SCALE_IN);
	assert_int_equal(r->desired, 8);

	assert_string_equal(scaling_cas_decision_name(SCALING_CAS_SCALE_OUT), "scale-out");
	assert_string_equal(scaling_cas_decision_name(SCALING_CAS_WARMUP), "warm-up");
	assert_string_equal(scaling_cas_datapoint_name(SCALING_CAS_DP_LOW), "low");
	fx_free(f);
}

static int same_result(const struct scaling_cas_result *a, const struct scaling_cas_result *b)
{
	if (a->n != b->n || a->busy != b->busy || a->m != b->m || a->extra != b->extra ||
	    a->extra_estimate != b->extra_estimate || a->cpr != b->cpr || a->datapoint != b->datapoint ||
	    a->high_streak != b->high_streak || a->low_streak != b->low_streak || a->decision != b->decision ||
	    a->wanted != b->wanted || a->desired != b->desired || a->cancel_scale_in != b->cancel_scale_in ||
	    a->in_warmup != b->in_warmup || a->n_protect != b->n_protect || a->n_unprotect != b->n_unprotect ||
	    a->n_terminate != b->n_terminate || a->n_shapes != b->n_shapes)
		return 0;
	for (size_t k = 0; k < a->n_protect; k++)
		if (a->protect[k] != b->protect[k])
			return 0;
	for (size_t k = 0; k < a->n_unprotect; k++)
		if (a->unprotect[k] != b->unprotect[k])
			return 0;
	for (size_t k = 0; k < a->n_terminate; k++)
		if (a->terminate[k] != b->terminate[k])
			return 0;
	for (size_t s = 0; s < a->n_shapes; s++)
		if (a->shapes[s].count != b->shapes[s].count || a->shapes[s].instances != b->shapes[s].instances)
			return 0;
	return 1;
}

/* ---- a small simulation: from zero to steady and back ---- */

static void test_simulation_zero_to_steady_and_back(void **state)
{
	(void)state;
	/* 10 tasks of 1024 CPU on 2-vCPU instances, MaxSize 10; an instance
	 * is InService 2 minutes after launch; PROVISIONING tasks are placed
	 * (first fit) when an InService instance has room; after 60 minutes
	 * the tasks stop and the group returns to MinSize 1. */
	struct fx *f = fx_new();
	f->in.max_size = 10;
	f->in.min_size = 1;
	f->in.desired = 1;
	fx_inst(f, 1, 0, 3600, 0);
	unsigned tasks_on[MAXI] = {0};
	unsigned waiting = 10;
	fx_shape(f, 1024, 1024, 0, waiting);
	unsigned long max_seen = 0;
	int64_t t0 = NOW;
	for (int minute = 0; minute < 120; minute++) {
		f->in.now = t0 + (int64_t)minute * 60000;
		if (minute == 60) {   /* every task stops */
			for (size_t i = 0; i < f->in.n_instances; i++)
				tasks_on[i] = 0;
			waiting = 0;
		}
		for (size_t i = 0; i < f->in.n_instances; i++) {
			if (f->inst[i].state == SCALING_CAS_PENDING && f->inst[i].launched_at + 120000 <= f->in.now)
				f->inst[i].state = SCALING_CAS_IN_SERVICE;
			while (waiting && f->inst[i].state == SCALING_CAS_IN_SERVICE && tasks_on[i] < 2) {
				tasks_on[i]++;
				waiting--;
			}
			f->inst[i].busy = tasks_on[i] > 0;
		}
		f->shapes[0].count = waiting;
		const struct scaling_cas_result *r = step(f);
		for (size_t k = 0; k < r->n_protect; k++)
			f->inst[r->protect[k]].is_protected = 1;
		for (size_t k = 0; k < r->n_unprotect; k++)
			f->inst[r->unprotect[k]].is_protected = 0;
		for (size_t k = 0; k < r->n_terminate; k++) {
			assert_int_equal(tasks_on[r->terminate[k]], 0);
			tasks_on[r->terminate[k]] = UINT32_MAX;   /* mark */
		}
		size_t keep = 0;
		for (size_t i = 0; i < f->in.n_instances; i++) {
			if (tasks_on[i] == UINT32_MAX)
				continue;
			tasks_on[keep] = tasks_on[i];
			f->inst[keep++] = f->inst[i];
		}
		f->in.n_instances = keep;
		f->in.desired = r->desired;
		while (f->in.n_instances < f->in.desired) {   /* the group launches */
			size_t i = fx_inst(f, 0, 0, 0, (uint16_t)(f->in.n_instances % 3));
			f->inst[i].launched_at = f->in.now;
			f->inst[i].is_protected = 1;   /* NewInstancesProtectedFromScaleIn */
			tasks_on[i] = 0;
		}
		max_seen = r->desired > max_seen ? r->desired : max_seen;
		assert_true(r->desired >= 1 && r->desired <= 10);
		if (minute == 59) {
			assert_int_equal(waiting, 0);
			assert_int_equal(f->in.n_instances, 5);   /* 10 tasks, 2 an instance */
			assert_int_equal(r->decision, SCALING_CAS_STEADY);
		}
	}
	assert_int_equal(max_seen, 5);
	assert_int_equal(f->in.desired, 1);
	assert_int_equal(f->in.n_instances, 1);
	fx_free(f);
}

/* ---- properties over random inputs ---- */

static void test_properties_random(void **state)
{
	(void)state;
	struct rng rng;
	rng_seed(&rng, 20260505);
	struct fx *f = fx_new();
	struct scaling_cas_result again, fresh;
	scaling_cas_result_init(&again);
	scaling_cas_result_init(&fresh);
	unsigned counts[16] = {0};
	for (int it = 0; it < 20000; it++) {
		f->in.n_instances = 0;
		f->in.n_shapes = 0;
		f->in.desired = 0;
		size_t ni = (size_t)rng_below(&rng, it % 10 == 0 ? MAXI : 24);
		unsigned zones = 1 + (unsigned)rng_below(&rng, 4);
		for (size_t i = 0; i < ni; i++) {
			size_t k = fx_inst(f, rng_below(&rng, 5) != 0, rng_below(&rng, 2) == 0,
					   (int64_t)rng_below(&rng, 900), (uint16_t)rng_below(&rng, zones));
			f->inst[k].is_protected = (uint8_t)rng_below(&rng, 2);
		}
		f->in.n_types = 1 + (size_t)rng_below(&rng, 3);
		for (size_t t = 0; t < f->in.n_types; t++)
			f->types[t] = (struct scaling_cas_type){(uint32_t)(1024 * (1 + rng_below(&rng, 8))),
								(uint32_t)(2048 * (1 + rng_below(&rng, 16)))};
		size_t ns = (size_t)rng_below(&rng, 4);
		for (size_t s = 0; s < ns; s++)
			fx_shape(f, (uint32_t)rng_below(&rng, 5000), (uint32_t)rng_below(&rng, 20000),
				 (uint32_t)rng_below(&rng, 2), rng_below(&rng, 30));
		f->in.min_size = rng_below(&rng, 5);
		f->in.max_size = f->in.min_size + rng_below(&rng, 300);
		unsigned long lo = f->in.min_size, hi = f->in.max_size;
		f->in.desired = lo + rng_below(&rng, hi - lo + 1);
		f->in.settings = (struct scaling_cas_settings){
			.target_capacity = 1 + (unsigned)rng_below(&rng, 100),
			.min_step = 1 + (unsigned)rng_below(&rng, 5),
			.max_step = 1 + (unsigned)rng_below(&rng, 50),
			.warmup_s = (unsigned)rng_below(&rng, 2) * 300,
			.managed_termination_protection = (int)rng_below(&rng, 2),
		};
		f->in.high_datapoints = (unsigned)rng_below(&rng, 3);
		f->in.low_datapoints = (unsigned)rng_below(&rng, 16);
		f->in.high_streak = rng_below(&rng, 4);
		f->in.low_streak = rng_below(&rng, 20);

		const struct scaling_cas_result *r = eval(f);
		counts[r->decision]++;
		/* bounds */
		assert_true(r->desired >= f->in.min_size && r->desired <= f->in.max_size);
		if (r->decision == SCALING_CAS_SCALE_OUT)
			assert_true(r->desired > f->in.desired && !r->in_warmup);
		else if (r->decision == SCALING_CAS_SCALE_IN)
			assert_true(r->desired < f->in.desired);
		else
			assert_int_equal(r->desired, f->in.desired);
		if (r->decision == SCALING_CAS_SCALE_IN) {
			unsigned long d = f->in.desired;
			unsigned long half = d / 2 > 1 ? d / 2 : 1;
			assert_true(d - r->desired <= half);
			assert_true(r->desired >= r->wanted || r->desired == f->in.min_size ||
				    r->desired + r->n_terminate >= f->in.n_instances);
		}
		/* the metric */
		unsigned long n = 0, busy = 0;
		for (size_t i = 0; i < ni; i++) {
			n += f->inst[i].state == SCALING_CAS_IN_SERVICE;
			busy += f->inst[i].state == SCALING_CAS_IN_SERVICE && f->inst[i].busy;
		}
		assert_int_equal(r->n, n);
		assert_int_equal(r->busy, busy);
		if (r->provisioning == 0)
			assert_int_equal(r->m, busy);
		else if (r->extra_estimate > 0)
			assert_true(r->extra >= f->in.settings.min_step || r->extra == f->in.settings.max_step);
		/* terminations: InService, empty, unprotected after the changes,
		 * distinct, exactly enough to reach desired */
		unsigned char seen[MAXI] = {0};
		for (size_t k = 0; k < r->n_terminate; k++) {
			size_t i = r->terminate[k];
			assert_true(i < ni);
			assert_false(seen[i]);
			seen[i] = 1;
			assert_int_equal(f->inst[i].state, SCALING_CAS_IN_SERVICE);
			assert_false(f->inst[i].busy);
			if (!f->in.settings.managed_termination_protection)
				assert_false(f->inst[i].is_protected);
		}
		if (r->n_terminate)
			assert_int_equal(ni - r->n_terminate, r->desired > ni - r->n_terminate ? ni - r->n_terminate : r->desired);
		/* protection: exactly the InService instances whose flag differs
		 * from busy, when managed */
		size_t changes = 0;
		for (size_t i = 0; i < ni; i++)
			changes += f->in.settings.managed_termination_protection &&
				   f->inst[i].state == SCALING_CAS_IN_SERVICE && f->inst[i].busy != f->inst[i].is_protected;
		assert_int_equal(r->n_protect + r->n_unprotect, changes);
		for (size_t k = 0; k < r->n_protect; k++)
			assert_true(f->inst[r->protect[k]].busy);
		for (size_t k = 0; k < r->n_unprotect; k++)
			assert_false(f->inst[r->unprotect[k]].busy);
		/* determinism: again with a warm result, and with a fresh one */
		scaling_cas_evaluate(&f->in, &again);
		assert_true(same_result(r, &again));
		scaling_cas_result_free(&fresh);
		scaling_cas_result_init(&fresh);
		scaling_cas_evaluate(&f->in, &fresh);
		assert_true(same_result(r, &fresh));
	}
	/* the random inputs reached the interesting decisions */
	assert_true(counts[SCALING_CAS_SCALE_OUT] > 100);
	assert_true(counts[SCALING_CAS_SCALE_IN] > 100);
	assert_true(counts[SCALING_CAS_WARMUP] > 100);
	assert_true(counts[SCALING_CAS_NO_EMPTY] > 0);
	assert_true(counts[SCALING_CAS_INCOMPATIBLE] > 100);
	scaling_cas_result_free(&again);
	scaling_cas_result_free(&fresh);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_worked_steady),
		cmocka_unit_test(test_worked_provisioning_150),
		cmocka_unit_test(test_worked_from_zero_200),
		cmocka_unit_test(test_worked_scale_in_after_15),
		cmocka_unit_test(test_worked_target_90_keeps_spare),
		cmocka_unit_test(test_idle_and_empty),
		cmocka_unit_test(test_n_zero_m_positive_200),
		cmocka_unit_test(test_incompatible),
		cmocka_unit_test(test_estimate_largest_and_smallest),
		cmocka_unit_test(test_estimate_host_ports),
		cmocka_unit_test(test_estimate_grouping),
		cmocka_unit_test(test_step_clamps),
		cmocka_unit_test(test_warmup_blocks_stacked_scale_out),
		cmocka_unit_test(test_high_datapoints_and_cancel),
		cmocka_unit_test(test_max_size),
		cmocka_unit_test(test_scale_in_half_step_and_min),
		cmocka_unit_test(test_scale_in_protection),
		cmocka_unit_test(test_scale_in_zone_balance_and_age),
		cmocka_unit_test(test_timing),
		cmocka_unit_test(test_simulation_zero_to_steady_and_back),
		cmocka_unit_test(test_properties_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
