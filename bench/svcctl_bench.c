/* svcctl_bench: figures for the service controller (api/api_svcctl.c)
 * with the model, the placement and the sim driver around it, in one
 * process: no HTTP, no store, a virtual clock.  Issue 4's figures:
 *
 *   1. "nothing to do": one scheduler pass of a REPLICA service whose
 *      50,000 tasks are all RUNNING and healthy on 500 instances — the
 *      snapshot of the service, the pure core and applying its (empty)
 *      answer.  Aim <= 5 ms.  The best and the median of REPEAT passes.
 *      Then a scale-in to 10,000: the pass that picks and stops 40,000.
 *   2. 5,000 services of 10 tasks each (on 500 instances) from
 *      CreateService to every service steady: the CPU time of the
 *      controller, placement and sim lifecycle together (api_advance on
 *      the virtual clock), and how many loop turns it took.
 *
 * Requests go through api_call as the server's protocol layer sends them.
 * Figures, never pass/fail.  Build and run (bench/run.sh does):
 *   make build/libberth.a && cc -std=c17 -D_GNU_SOURCE -O2 -Isrc bench/svcctl_bench.c build/libberth.a \
 *      -luv -lmicrohttpd -lcjson -lsqlite3 -lcrypto -lm -lpthread -o build/svcctl_bench && build/svcctl_bench
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "api/api_svc.h"
#include "server/server.h"

#define INSTANCES 500
#define BIG 50000
#define REPEAT 21
#define SERVICES 5000
#define PER_SERVICE 10
#define STEP_MS 50

static struct model m;
static struct api_config cfg;
static struct rng rng;
static int64_t now_ms = 1800000000000LL;

static double cpu_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

static struct api_ctx ctx_now(void)
{
	return (struct api_ctx){.m = &m, .cfg = &cfg, .region = "us-east-1", .now = now_ms, .rng = &rng,
				.driver = &driver_sim_ops};
}

static void drop_dirty(void)
{
	size_t n;
	struct model_change *c = model_take_dirty(&m, &n);
	model_changes_free(c, n);
}

static void call(const char *action, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void call(const char *action, const char *fmt, ...)
{
	char body[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(body, sizeof body, fmt, ap);
	va_end(ap);
	cJSON *in = cJSON_Parse(body), *out = NULL;
	struct err e;
	err_clear(&e);
	struct api_ctx ctx = ctx_now();
	if (api_call(&ctx, action, in, &out, &e)) {
		fprintf(stderr, "svcctl_bench: %s failed: %s\n", action, e.msg);
		exit(1);
	}
	cJSON_Delete(in);
	cJSON_Delete(out);
	drop_dirty();
}

/* Run the loop's timer work until nothing is due before `until`, stepping
 * the virtual clock to each deadline.  Returns the number of turns. */
static long run_until(int64_t until)
{
	long turns = 0;
	int64_t next = now_ms;
	while (next && next <= until) {
		if (next > now_ms)
			now_ms = next;
		struct api_ctx ctx = ctx_now();
		next = api_advance(&ctx);
		if (ctx.wake_at && (!next || ctx.wake_at < next))
			next = ctx.wake_at;
		drop_dirty();
		turns++;
	}
	return turns;
}

static void setup(void)
{
	model_init(&m, "000000000000");
	rng_seed(&rng, 42);
	cfg = (struct api_config){
		.strategy_max_providers = 6, .max_cps_per_cluster = 20, .transition_ms = 0,
		.cluster_retention_ms = 3600000, .cp_retention_ms = 3600000, .instance_retention_ms = 3600000,
		.task_retention_ms = 0, .sim_step_ms = STEP_MS, .capacity_wait_ms = 1200000,
		.max_provisioning_tasks = 500, .spot_warning_ms = 120000, .healthy_grace_ms = 0,
		.service_retention_ms = 3600000,
	};
}

static void cluster_with_instances(const char *name, int n)
{
	call("CreateCluster", "{\"clusterName\":\"%s\"}", name);
	for (int i = 0; i < n; i++)
		call("RegisterContainerInstance",
		     "{\"cluster\":\"%s\",\"instanceIdentityDocument\":\"{\\\"instanceId\\\":\\\"i-%s%013x\\\","
		     "\\\"instanceType\\\":\\\"m5.4xlarge\\\",\\\"availabilityZone\\\":\\\"us-east-1%c\\\","
		     "\\\"region\\\":\\\"us-east-1\\\"}\",\"totalResources\":[{\"name\":\"CPU\",\"type\":\"INTEGER\","
		     "\"integerValue\":16384},{\"name\":\"MEMORY\",\"type\":\"INTEGER\",\"integerValue\":65536}]}",
		     name, name[0] == 'b' ? "b" : "a", i, "abc"[i % 3]);
}

static int by_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static long running(const char *cluster)
{
	struct region *r = model_region(&m, "us-east-1");
	return model_cluster_find(r, cluster)->running_tasks;
}

int main(void)
{
	setup();
	call("RegisterTaskDefinition",
	     "{\"family\":\"tiny\",\"containerDefinitions\":[{\"name\":\"a\",\"image\":\"x\",\"cpu\":10,\"memory\":32}]}");

	/* 1. one service of 50,000 tasks, then passes with nothing to do */
	cluster_with_instances("big", INSTANCES);
	double t0 = cpu_s();
	call("CreateService", "{\"cluster\":\"big\",\"serviceName\":\"s\",\"taskDefinition\":\"tiny\",\"desiredCount\":%d}",
	     BIG);
	long turns = run_until(now_ms + 60000);
	double t1 = cpu_s();
	struct region *r = model_region(&m, "us-east-1");
	struct service *s = model_svc_find(model_cluster_find(r, "big"), "s");
	printf("svcctl: service of %d tasks on %d instances: running %ld, steady %d, after %.3f s CPU and %ld turns\n",
	       BIG, INSTANCES, running("big"), s->was_steady, t1 - t0, turns);
	double pass[REPEAT];
	for (int i = 0; i < REPEAT; i++) {
		struct api_ctx ctx = ctx_now();
		double a = cpu_s();
		api_svc_queue(&ctx, s);
		api_svc_advance(&ctx);
		pass[i] = cpu_s() - a;
		drop_dirty();
	}
	qsort(pass, REPEAT, sizeof pass[0], by_double);
	printf("svcctl: one pass, nothing to do, %d tasks: best %.3f ms, median %.3f ms (aim <= 5 ms)\n", BIG,
	       pass[0] * 1e3, pass[REPEAT / 2] * 1e3);

	/* scale-in 50,000 -> 10,000: stops chosen to keep zones and
	 * instances balanced (the engine's order) */
	call("UpdateService", "{\"cluster\":\"big\",\"service\":\"s\",\"desiredCount\":10000}");
	{
		struct api_ctx ctx = ctx_now();
		double a = cpu_s();
		api_svc_advance(&ctx);
		double b = cpu_s();
		drop_dirty();
		printf("svcctl: scale-in %d -> 10000, the pass that stops %d tasks: %.1f ms\n", BIG, BIG - 10000,
		       (b - a) * 1e3);
	}
	run_until(now_ms + 60000);

	/* 2. 5,000 services of 10 tasks to steady state */
	cluster_with_instances("many", INSTANCES);
	double c0 = cpu_s();
	int64_t w0 = now_ms;
	for (int i = 0; i < SERVICES; i++)
		call("CreateService",
		     "{\"cluster\":\"many\",\"serviceName\":\"svc-%d\",\"taskDefinition\":\"tiny\",\"desiredCount\":%d}", i,
		     PER_SERVICE);
	double c1 = cpu_s();
	turns = run_until(now_ms + 600000);
	double c2 = cpu_s();
	struct cluster *many = model_cluster_find(r, "many");
	long steady = 0;
	for (size_t i = 0; i < many->services.n; i++)
		steady += ((struct service *)many->services.v[i].val)->was_steady;
	printf("svcctl: %d services x %d tasks: %ld running, %ld steady; CreateService x %d %.3f s CPU, "
	       "then to steady %.3f s CPU in %ld turns (%.1f s of virtual time at %d ms a lifecycle step)\n",
	       SERVICES, PER_SERVICE, running("many"), steady, SERVICES, c1 - c0, c2 - c1, turns,
	       (double)(now_ms - w0) / 1000.0, STEP_MS);
	model_release(&m);
	return 0;
}
