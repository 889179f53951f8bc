/* cas_bench: figures for the pure managed scaling core (scaling/cas.c),
 * issue 5.  No server, no model: the inputs are the core's own small
 * structs, built once from a seeded generator.
 *
 *   1. the figure: one evaluation over 10,000 instances (3 zones,
 *      60 % busy, managed termination protection with 10 % of the flags
 *      wrong) and 100,000 PROVISIONING tasks given one by one in 1,000
 *      distinct shapes (the core groups them), 4 instance types: a
 *      scale-out.  Aim <= 50 ms on one core.
 *   2. the same with the tasks given already grouped (1,000 shapes with
 *      counts).
 *   3. a scale-in evaluation over the same 10,000 instances without
 *      PROVISIONING tasks, the low alarm due: 4,000 empty instances, 4,000
 *      terminations chosen zone by zone.
 *
 * Each figure is the best and the median of REPEAT runs in CPU time of the
 * process, wall time beside it; the scratch is warmed by one call first.
 * Figures, never pass/fail.
 *
 * Build and run (bench/cas_run.sh does this):
 *   cc -std=c17 -D_GNU_SOURCE -O2 -Isrc bench/cas_bench.c src/scaling/cas.c \
 *      src/lib/rng.c src/lib/xalloc.c src/lib/err.c -o build/cas_bench && build/cas_bench
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/rng.h"
#include "scaling/cas.h"

#define NINST 10000
#define NTASKS 100000
#define NSHAPES 1000
#define REPEAT 31

struct clock_pair {
	double cpu, wall;
};

static struct clock_pair now(void)
{
	struct timespec c, w;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c);
	clock_gettime(CLOCK_MONOTONIC, &w);
	return (struct clock_pair){c.tv_sec + c.tv_nsec * 1e-9, w.tv_sec + w.tv_nsec * 1e-9};
}

static int by_cpu(const void *a, const void *b)
{
	double x = ((const struct clock_pair *)a)->cpu, y = ((const struct clock_pair *)b)->cpu;
	return (x > y) - (x < y);
}

static void timed(const char *name, const struct scaling_cas_input *in, struct scaling_cas_result *res)
{
	struct clock_pair t[REPEAT];
	scaling_cas_evaluate(in, res);   /* warm the scratch */
	for (int r = 0; r < REPEAT; r++) {
		struct clock_pair t0 = now();
		scaling_cas_evaluate(in, res);
		struct clock_pair t1 = now();
		t[r] = (struct clock_pair){t1.cpu - t0.cpu, t1.wall - t0.wall};
	}
	qsort(t, REPEAT, sizeof t[0], by_cpu);
	printf("  %-52s %7.3f ms cpu best, %7.3f median (wall %7.3f best)\n", name, t[0].cpu * 1e3,
	       t[REPEAT / 2].cpu * 1e3, t[0].wall * 1e3);
	printf("  %-52s N %lu, busy %lu, M %lu (extra %lu of %lu estimated), CPR %.1f, %s, desired %lu -> %lu,\n"
	       "  %-52s %zu shapes, %zu protect, %zu unprotect, %zu terminate\n",
	       "", res->n, res->busy, res->m, res->extra, res->extra_estimate, res->cpr,
	       scaling_cas_decision_name(res->decision), in->desired, res->desired, "", res->n_shapes,
	       res->n_protect, res->n_unprotect, res->n_terminate);
}

int main(void)
{
	struct rng rng;
	rng_seed(&rng, 5);
	static const struct scaling_cas_type types[] = {
		{2048, 7680}, {4096, 15600}, {8192, 31400}, {16384, 63200},   /* m5.large .. m5.4xlarge-like */
	};
	struct scaling_cas_instance *inst = calloc(NINST, sizeof *inst);
	struct scaling_cas_task *tasks = calloc(NTASKS, sizeof *tasks);
	struct scaling_cas_shape *shapes = calloc(NSHAPES, sizeof *shapes);
	if (!inst || !tasks || !shapes)
		abort();
	const int64_t t_now = 100LL * 24 * 3600 * 1000;
	for (size_t i = 0; i < NINST; i++) {
		int busy = i % 10 < 6;
		inst[i] = (struct scaling_cas_instance){
			.launched_at = t_now - 3600000 - (int64_t)rng_below(&rng, 86400000),
			.zone = (uint16_t)(i % 3),
			.state = SCALING_CAS_IN_SERVICE,
			.busy = (uint8_t)busy,
			.is_protected = (uint8_t)(rng_below(&rng, 10) == 0 ? !busy : busy),
		};
	}
	for (size_t s = 0; s < NSHAPES; s++) {
		struct scaling_cas_task t = {
			.cpu = (uint32_t)(128 * (1 + rng_below(&rng, 16))),
			/* + s (< 1024) keeps the 1,000 shapes distinct */
			.memory = (uint32_t)(1024 * (1 + rng_below(&rng, 30)) + s),
			.host_ports = 0,
		};
		if (s % 10 == 0) {   /* a tenth with a host port */
			t.host_ports = 1;
			t.ports_key = 8000 + s;
		}
		shapes[s] = (struct scaling_cas_shape){.task = t, .count = NTASKS / NSHAPES};
	}
	for (size_t i = 0; i < NTASKS; i++)
		tasks[i] = shapes[rng_below(&rng, NSHAPES)].task;

	struct scaling_cas_input in = {
		.types = types,
		.n_types = sizeof types / sizeof types[0],
		.instances = inst,
		.n_instances = NINST,
		.tasks = tasks,
		.n_tasks = NTASKS,
		.settings = {100, 1, 10000, 300, 1},
		.min_size = 0,
		.max_size = 20000,
		.desired = NINST,
		.now = t_now,
	};
	struct scaling_cas_result res;
	scaling_cas_result_init(&res);

	printf("one evaluation, %d instances, 4 instance types, 3 zones:\n", NINST);
	timed("100,000 PROVISIONING tasks one by one, 1,000 shapes", &in, &res);
	in.tasks = NULL;
	in.n_tasks = 0;
	in.shapes = shapes;
	in.n_shapes = NSHAPES;
	timed("the same, 1,000 shapes given grouped", &in, &res);
	in.shapes = NULL;
	in.n_shapes = 0;
	in.low_streak = SCALING_CAS_LOW_DATAPOINTS;
	timed("no PROVISIONING task, low alarm due: scale-in", &in, &res);

	scaling_cas_result_free(&res);
	free(inst);
	free(tasks);
	free(shapes);
	return 0;
}
