/* service_bench: figures for the pure service scheduler core
 * (sched/service.c), issue 4.  No server, no model: the inputs are the
 * core's own small structs, built once.
 *
 *   1. "nothing to do": one reconcile pass over a REPLICA service of 50,000
 *      healthy tasks already on their targets (strategy [A base=2 w=1,
 *      B w=3], desiredCount 50,000, was_steady) — the aim is
 *      <= 5 ms; the same with a caller order given, and a DAEMON service of
 *      50,000 instances with one task each.
 *   2. passes with work on the same 50,000 tasks: a rolling deployment at
 *      100/200 (50,000 starts decided) and at 50/100 (25,000 stops and
 *      25,000 starts), and a scale-in from 50,000 to 10,000.
 *   3. core only, for the "5,000 services of 10 tasks each reach
 *      steady state": every service from nothing to steady, the caller's
 *      part simulated (a started task is healthy at the next pass); the time
 *      of the reconcile calls alone, and the number of passes.  The figure
 *      with a server around it needs the controller.
 *
 * Each figure is the best (and the median) of REPEAT runs in CPU time of
 * the process; wall time beside it.  Figures, never pass/fail.
 *
 * Build and run:
 *   cc -std=c17 -D_GNU_SOURCE -O2 -Isrc bench/service_bench.c src/sched/service.c \
 *      src/sched/strategy.c src/lib/xalloc.c src/lib/err.c -o build/service_bench && build/service_bench
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sched/service.h"

#define NTASKS 50000
#define REPEAT 41
#define SERVICES 5000
#define PER_SERVICE 10

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

static const struct sched_strategy_item STRATEGY[] = {
	{"A", 1, 2, 1, 1},
	{"B", 3, 0, 1, 1},
};

/* REPEAT passes of svc; prints best and median, returns the last result's
 * action count. */
static size_t timed(const char *name, const struct sched_service *svc, struct sched_service_result *res)
{
	struct clock_pair t[REPEAT];
	sched_service_reconcile(svc, res);   /* warm the scratch */
	for (int r = 0; r < REPEAT; r++) {
		struct clock_pair t0 = now();
		sched_service_reconcile(svc, res);
		struct clock_pair t1 = now();
		t[r] = (struct clock_pair){t1.cpu - t0.cpu, t1.wall - t0.wall};
	}
	qsort(t, REPEAT, sizeof t[0], by_cpu);
	printf("  %-44s %8.3f ms cpu best, %8.3f median (wall %8.3f best)  %zu actions%s\n", name,
	       t[0].cpu * 1e3, t[REPEAT / 2].cpu * 1e3, t[0].wall * 1e3, res->n, res->steady ? ", steady" : "");
	return res->n;
}

static void fifty_thousand(void)
{
	struct sched_service_task *tasks = calloc(NTASKS, sizeof *tasks);
	size_t *order = malloc(NTASKS * sizeof *order);
	if (!tasks || !order)
		abort();
	unsigned long target[2];
	sched_strategy_split(STRATEGY, 2, NTASKS, target);
	for (size_t i = 0; i < NTASKS; i++) {
		tasks[i] = (struct sched_service_task){
			.deployment = 0,
			.instance = SCHED_SERVICE_NO_INSTANCE,
			.provider = (int16_t)(i < target[0] ? 0 : 1),
			.state = SCHED_SERVICE_HEALTHY,
		};
		order[i] = NTASKS - 1 - i;
	}
	struct sched_service_deployment deps[2] = {
		{"ecs-svc/1", STRATEGY, 2, SCHED_SERVICE_COMPLETED, 0},
		{"ecs-svc/2", STRATEGY, 2, SCHED_SERVICE_IN_PROGRESS, 0},
	};
	struct sched_service svc = {
		.scheduling = SCHED_SERVICE_REPLICA,
		.desired = NTASKS,
		.min_healthy_percent = 100,
		.max_percent = 200,
		.deployments = deps,
		.n_deployments = 1,
		.primary = 0,
		.tasks = tasks,
		.n_tasks = NTASKS,
		.was_steady = 1,
	};
	struct sched_service_result res;
	sched_service_result_init(&res);

	printf("one pass, %d tasks:\n", NTASKS);
	timed("REPLICA, nothing to do", &svc, &res);
	svc.order = order;
	timed("REPLICA, nothing to do, with an order", &svc, &res);
	svc.order = NULL;

	/* DAEMON: one task on each of 50,000 instances */
	struct sched_service_instance *inst = malloc(NTASKS * sizeof *inst);
	if (!inst)
		abort();
	for (size_t i = 0; i < NTASKS; i++) {
		inst[i] = (struct sched_service_instance){SCHED_SERVICE_LAUNCH_TYPE, 1};
		tasks[i].instance = (uint32_t)i;
	}
	struct sched_service_deployment lt = {"ecs-svc/1", NULL, 0, SCHED_SERVICE_COMPLETED, 0};
	struct sched_service dsvc = svc;
	dsvc.scheduling = SCHED_SERVICE_DAEMON;
	dsvc.min_healthy_percent = 0;
	dsvc.max_percent = 100;
	dsvc.deployments = &lt;
	dsvc.instances = inst;
	dsvc.n_instances = NTASKS;
	for (size_t i = 0; i < NTASKS; i++)
		tasks[i].provider = SCHED_SERVICE_LAUNCH_TYPE;
	timed("DAEMON, 50,000 instances, nothing to do", &dsvc, &res);
	for (size_t i = 0; i < NTASKS; i++) {
		tasks[i].instance = SCHED_SERVICE_NO_INSTANCE;
		tasks[i].provider = (int16_t)(i < target[0] ? 0 : 1);
	}

	printf("one pass with work, same tasks:\n");
	svc.n_deployments = 2;
	svc.primary = 1;
	svc.was_steady = 0;
	timed("rolling 100/200: decide 50,000 starts", &svc, &res);
	svc.min_healthy_percent = 50;
	svc.max_percent = 100;
	timed("rolling 50/100: 25,000 stops + starts", &svc, &res);
	svc.n_deployments = 1;
	svc.primary = 0;
	svc.min_healthy_percent = 100;
	svc.max_percent = 200;
	svc.desired = 10000;
	timed("scale-in 50,000 -> 10,000", &svc, &res);

	sched_service_result_free(&res);
	free(inst);
	free(order);
	free(tasks);
}

/* 5,000 services of 10 tasks from nothing to steady, the controller's part
 * simulated; the whole loop is timed (a timer around each call would cost
 * more than the call). */
static void five_thousand(void)
{
	struct sched_service_task tasks[PER_SERVICE * 2];
	struct sched_service_deployment dep = {"ecs-svc/1", STRATEGY, 2, SCHED_SERVICE_IN_PROGRESS, 0};
	struct sched_service_result res;
	sched_service_result_init(&res);
	double best = 1e9, best_wall = 1e9;
	unsigned long passes = 0;
	for (int rep = 0; rep < 5; rep++) {
		passes = 0;
		struct clock_pair t0 = now();
		for (int s = 0; s < SERVICES; s++) {
			struct sched_service svc = {
				.scheduling = SCHED_SERVICE_REPLICA,
				.desired = PER_SERVICE,
				.min_healthy_percent = 100,
				.max_percent = 200,
				.deployments = &dep,
				.n_deployments = 1,
				.tasks = tasks,
			};
			dep.rollout = SCHED_SERVICE_IN_PROGRESS;
			for (;;) {
				sched_service_reconcile(&svc, &res);
				passes++;
				if (res.steady)
					break;
				/* time passes, then the actions apply */
				for (size_t i = 0; i < svc.n_tasks; i++)
					tasks[i].state = SCHED_SERVICE_HEALTHY;
				for (size_t k = 0; k < res.n; k++) {
					const struct sched_service_action *a = &res.actions[k];
					for (size_t c = 0; a->kind == SCHED_SERVICE_ACT_START && c < a->count; c++)
						tasks[svc.n_tasks++] = (struct sched_service_task){
							.deployment = 0,
							.instance = SCHED_SERVICE_NO_INSTANCE,
							.provider = (int16_t)a->provider,
							.state = SCHED_SERVICE_PENDING,
						};
				}
			}
		}
		struct clock_pair t1 = now();
		if (t1.cpu - t0.cpu < best) {
			best = t1.cpu - t0.cpu;
			best_wall = t1.wall - t0.wall;
		}
	}
	printf("core only, %d services of %d tasks to steady state:\n", SERVICES, PER_SERVICE);
	printf("  %-44s %8.3f ms cpu (wall %.3f ms), %lu passes, %.2f us a pass\n",
	       "from nothing, 100/200 (best of 5)", best * 1e3, best_wall * 1e3, passes,
	       best * 1e6 / (double)passes);
	sched_service_result_free(&res);
}

int main(void)
{
	fifty_thousand();
	five_thousand();
	return 0;
}
