/* cas_controller_bench: one managed scaling evaluation by the controller
 * (api/api_cas.c) with everything around it, in one process: the snapshot
 * of an Auto Scaling group of 10,000 instances (registered as container
 * instances by the sim infrastructure driver, then set DRAINING so that no
 * task fits) and the cluster's 100,000 PROVISIONING tasks in 1,000 shapes,
 * the pure core, and applying its answer (protection of every instance).
 * Issue 5's aim: <= 50 ms on one core.  No HTTP, no store, a virtual
 * clock; requests go through api_call / api_as_call as the protocol layers
 * send them.  Figures, never pass/fail.
 *
 *   make build/libberth.a && cc -std=c17 -D_GNU_SOURCE -O2 -Isrc bench/cas_controller_bench.c build/libberth.a \
 *      -luv -lmicrohttpd -lcjson -lsqlite3 -lcrypto -lm -lpthread -o build/cas_controller_bench \
 *      && build/cas_controller_bench
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "api/api_task.h"
#include "model/model_as.h"
#include "server/server.h"

#define INSTANCES 10000
#define TASKS 100000
#define SHAPES 1000
#define REPEAT 11

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
				.driver = &driver_sim_ops, .infra = &infra_sim_ops};
}

static void drop_dirty(void)
{
	size_t n;
	struct model_change *c = model_take_dirty(&m, &n);
	model_changes_free(c, n);
}

static cJSON *call(int as, const char *action, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static cJSON *call(int as, const char *action, const char *fmt, ...)
{
	static char body[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(body, sizeof body, fmt, ap);
	va_end(ap);
	cJSON *in = cJSON_Parse(body), *out = NULL;
	struct err e;
	err_clear(&e);
	struct api_ctx ctx = ctx_now();
	if ((as ? api_as_call : api_call)(&ctx, action, in, &out, &e)) {
		fprintf(stderr, "cas_controller_bench: %s failed: %s\n", action, e.msg);
		exit(1);
	}
	cJSON_Delete(in);
	drop_dirty();
	return out;
}

static void run_until(int64_t until)
{
	int64_t next = now_ms;
	while (next && next <= until) {
		if (next > now_ms)
			now_ms = next;
		struct api_ctx ctx = ctx_now();
		next = api_advance(&ctx);
		if (ctx.wake_at && (!next || ctx.wake_at < next))
			next = ctx.wake_at;
		drop_dirty();
	}
}

static int by_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(void)
{
	model_init(&m, "000000000000");
	rng_seed(&rng, 5);
	cfg = (struct api_config){
		.strategy_max_providers = 6, .max_cps_per_cluster = 20, .transition_ms = 0,
		.cluster_retention_ms = 3600000, .cp_retention_ms = 3600000, .instance_retention_ms = 3600000,
		.task_retention_ms = 3600000, .sim_step_ms = 1000, .capacity_wait_ms = 86400000,
		.max_provisioning_tasks = TASKS + 1, .spot_warning_ms = 120000, .healthy_grace_ms = 0,
		.service_retention_ms = 3600000, .cas_period_ms = 0 /* no evaluation until measured */,
		.cas_low_datapoints = 15, .cas_timescale = 1.0, .instance_boot_ms = 1000,
	};
	cJSON_Delete(call(1, "CreateLaunchConfiguration",
			  "{\"LaunchConfigurationName\":\"lc\",\"ImageId\":\"ami-1\",\"InstanceType\":\"m5.4xlarge\"}"));
	cJSON_Delete(call(1, "CreateAutoScalingGroup",
			  "{\"AutoScalingGroupName\":\"g\",\"LaunchConfigurationName\":\"lc\",\"MinSize\":0,"
			  "\"MaxSize\":%d,\"DesiredCapacity\":0,\"AvailabilityZones\":[\"us-east-1a\",\"us-east-1b\","
			  "\"us-east-1c\"]}", INSTANCES * 3));
	cJSON_Delete(call(0, "CreateCapacityProvider",
			  "{\"name\":\"cp\",\"autoScalingGroupProvider\":{\"autoScalingGroupArn\":\"g\","
			  "\"managedScaling\":{\"status\":\"ENABLED\",\"targetCapacity\":100,"
			  "\"maximumScalingStepSize\":10000},\"managedTerminationProtection\":\"ENABLED\"}}"));
	cJSON_Delete(call(0, "CreateCluster",
			  "{\"clusterName\":\"c\",\"capacityProviders\":[\"cp\"],\"defaultCapacityProviderStrategy\":"
			  "[{\"capacityProvider\":\"cp\",\"weight\":1}]}"));
	double t0 = cpu_s();
	cJSON_Delete(call(1, "SetDesiredCapacity", "{\"AutoScalingGroupName\":\"g\",\"DesiredCapacity\":%d}", INSTANCES));
	run_until(now_ms + 5000);
	struct region *r = model_region(&m, "us-east-1");
	struct cluster *c = model_cluster_find(r, "c");
	printf("cas: %d instances launched, booted and registered in %.2f s CPU (%ld registered)\n", INSTANCES,
	       cpu_s() - t0, c->registered_instances);
	/* Drain them all: no task fits, every one waits PROVISIONING. */
	for (size_t i = 0; i < c->instances.n; i += 10) {
		char list[10 * 40 + 16] = "";
		size_t len = 0;
		for (size_t k = i; k < i + 10 && k < c->instances.n; k++)
			len += (size_t)snprintf(list + len, sizeof list - len, "%s\"%s\"", k > i ? "," : "",
						((struct container_instance *)c->instances.v[k].val)->id);
		cJSON_Delete(call(0, "UpdateContainerInstancesState",
				  "{\"cluster\":\"c\",\"containerInstances\":[%s],\"status\":\"DRAINING\"}", list));
	}
	for (int s = 0; s < SHAPES; s++)
		cJSON_Delete(call(0, "RegisterTaskDefinition",
				  "{\"family\":\"f%d\",\"containerDefinitions\":[{\"name\":\"a\",\"image\":\"x\","
				  "\"cpu\":%d,\"memory\":%d}]}", s, 16 + s, 64 + 2 * s));
	t0 = cpu_s();
	for (int i = 0; i < TASKS / 10; i++)
		cJSON_Delete(call(0, "RunTask", "{\"cluster\":\"c\",\"taskDefinition\":\"f%d\",\"count\":10}", i % SHAPES));
	printf("cas: %d PROVISIONING tasks in %d shapes made in %.2f s CPU (%ld waiting)\n", TASKS, SHAPES,
	       cpu_s() - t0, c->waiting_tasks);
	/* The measured evaluations: the controller alone, once each. */
	cfg.cas_period_ms = 60000;
	double ev[REPEAT];
	for (int i = 0; i < REPEAT; i++) {
		m.cas_next_at = 0;
		struct api_ctx ctx = ctx_now();
		double a = cpu_s();
		api_cas_advance(&ctx);
		ev[i] = cpu_s() - a;
		drop_dirty();
		now_ms += 60000;
	}
	qsort(ev, REPEAT, sizeof ev[0], by_double);
	/* Capacity moved, still no room: the waiting tasks look again. */
	m.capacity_gen++;
	{
		struct api_ctx ctx = ctx_now();
		double a = cpu_s();
		api_place_waiting(&ctx);
		printf("cas: %d waiting tasks look for room after a capacity change (none fits): %.1f ms\n", TASKS,
		       (cpu_s() - a) * 1e3);
		drop_dirty();
	}
	const struct cas_state *st = model_cas_state_find(r, "c", "cp");
	const struct cas_sample *last = st ? model_cas_sample_at(st, 0) : NULL;
	printf("cas: one evaluation over %d instances and %d PROVISIONING tasks (%d shapes): best %.2f ms, "
	       "median %.2f ms (aim <= 50 ms); CPR %.1f, M %ld, N %ld, desired %ld\n",
	       INSTANCES, TASKS, SHAPES, ev[0] * 1e3, ev[REPEAT / 2] * 1e3, last ? last->cpr : 0.0,
	       last ? last->m : 0, last ? last->n : 0, last ? last->desired : 0);
	model_release(&m);
	return 0;
}
