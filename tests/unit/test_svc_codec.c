/* test_svc_codec: model/codec_service.c: a service's store record
 * round-trips (codec_svc with CODEC_RECORD, codec_svc_load into another
 * model holding the same cluster and task definitions, then codec_svc
 * again gives the same JSON) with two deployments, a capacity provider
 * strategy, placement, tags and events; and codec_svc_load refuses records
 * that lack what they refer to, leaving nothing behind.  The service is
 * made through api_call, as a client makes it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "model/codec.h"
#include "server/server.h"

static struct model a, b;
static struct api_config cfg = {.strategy_max_providers = 6, .max_cps_per_cluster = 20,
				.task_retention_ms = 3600000, .sim_step_ms = 50, .capacity_wait_ms = 60000,
				.max_provisioning_tasks = 500, .healthy_grace_ms = 0,
				.service_retention_ms = 3600000, .cluster_retention_ms = 3600000};
static struct rng rng;

static void call(const char *action, const char *body)
{
	struct api_ctx ctx = {.m = &a, .cfg = &cfg, .region = "us-east-1", .now = 1800000000000LL, .rng = &rng,
			      .driver = &driver_sim_ops};
	cJSON *in = cJSON_Parse(body), *out = NULL;
	struct err e;
	err_clear(&e);
	int rc = api_call(&ctx, action, in, &out, &e);
	if (rc)
		fail_msg("%s: %s", action, e.msg);
	cJSON_Delete(in);
	cJSON_Delete(out);
}

static int setup(void **state)
{
	(void)state;
	model_init(&a, "000000000000");
	model_init(&b, "000000000000");
	rng_seed(&rng, 7);
	call("CreateCluster", "{\"clusterName\":\"c\",\"capacityProviders\":[\"FARGATE\",\"FARGATE_SPOT\"]}");
	call("RegisterTaskDefinition", "{\"family\":\"f\",\"networkMode\":\"awsvpc\",\"requiresCompatibilities\":"
				       "[\"FARGATE\"],\"cpu\":\"256\",\"memory\":\"512\",\"containerDefinitions\":"
				       "[{\"name\":\"a\",\"image\":\"x\"}]}");
	call("RegisterTaskDefinition", "{\"family\":\"f\",\"networkMode\":\"awsvpc\",\"requiresCompatibilities\":"
				       "[\"FARGATE\"],\"cpu\":\"512\",\"memory\":\"1024\",\"containerDefinitions\":"
				       "[{\"name\":\"a\",\"image\":\"y\"}]}");
	call("CreateService",
	     "{\"cluster\":\"c\",\"serviceName\":\"web\",\"taskDefinition\":\"f:1\",\"desiredCount\":0,"
	     "\"capacityProviderStrategy\":[{\"capacityProvider\":\"FARGATE\",\"base\":1,\"weight\":1},"
	     "{\"capacityProvider\":\"FARGATE_SPOT\",\"weight\":3}],"
	     "\"networkConfiguration\":{\"awsvpcConfiguration\":{\"subnets\":[\"subnet-1\"]}},"
	     "\"deploymentConfiguration\":{\"maximumPercent\":150,\"minimumHealthyPercent\":50,"
	     "\"deploymentCircuitBreaker\":{\"enable\":true,\"rollback\":true}},"
	     "\"tags\":[{\"key\":\"team\",\"value\":\"blue\"}],\"propagateTags\":\"SERVICE\","
	     "\"clientToken\":\"tok-1\",\"healthCheckGracePeriodSeconds\":30}");
	call("UpdateService", "{\"cluster\":\"c\",\"service\":\"web\",\"taskDefinition\":\"f:2\"}");
	/* the second model holds what the service refers to, as a load does */
	struct region *ra = model_region(&a, "us-east-1"), *rb = model_region(&b, "us-east-1");
	struct cluster *ca = model_cluster_find(ra, "c");
	cJSON *crec = codec_cluster(ca, CODEC_RECORD);
	struct cluster *cb = codec_cluster_from_record(crec);
	cJSON_Delete(crec);
	assert_non_null(cb);
	sidx_put(&rb->clusters, cb->name, cb);
	for (int rev = 1; rev <= 2; rev++) {
		cJSON *trec = codec_td(model_td_find(ra, "f", rev), CODEC_RECORD);
		struct task_def *td = codec_td_from_record(trec);
		cJSON_Delete(trec);
		assert_non_null(td);
		model_td_add(&b, rb, td);
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	model_release(&a);
	model_release(&b);
	return 0;
}

static struct service *service_a(void)
{
	return model_svc_find(model_cluster_find(model_region(&a, "us-east-1"), "c"), "web");
}

static char *record_text(struct model *m, const struct service *s)
{
	cJSON *j = codec_svc(m, s, CODEC_RECORD);
	char *t = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	return t;
}

static void test_round_trip(void **state)
{
	(void)state;
	struct service *s = service_a();
	assert_non_null(s);
	assert_int_equal(s->n_deps, 2);
	model_svc_event(s, "00000000-0000-0000-0000-000000000001", 1800000000100LL, "(service web) first.");
	model_svc_event(s, "00000000-0000-0000-0000-000000000002", 1800000000200LL, "(service web) second.");
	s->deps[0].failed_tasks = 4;
	s->was_steady = true;
	char *t1 = record_text(&a, s);
	cJSON *rec = cJSON_Parse(t1);
	assert_int_equal(codec_svc_load(&b, rec), 0);
	cJSON_Delete(rec);
	struct service *s2 = model_svc_find(model_cluster_find(model_region(&b, "us-east-1"), "c"), "web");
	assert_non_null(s2);
	char *t2 = record_text(&b, s2);
	if (strcmp(t1, t2) != 0) {
		size_t i = 0;
		while (t1[i] && t1[i] == t2[i])
			i++;
		size_t from = i > 60 ? i - 60 : 0;
		fail_msg("records differ at %zu:\n  %.120s\n  %.120s", i, t1 + from, t2 + from);
	}
	/* what the scheduler reads back */
	assert_int_equal(s2->n_deps, 2);
	assert_int_equal(s2->primary, 1);
	assert_int_equal(s2->deps[0].failed_tasks, 4);
	assert_string_equal(s2->deps[1].td->arn, s->deps[1].td->arn);
	assert_int_equal(s2->max_percent, 150);
	assert_int_equal(s2->min_healthy, 50);
	assert_true(s2->cb_enable && s2->cb_rollback);
	assert_int_equal(s2->n_events, 2);
	assert_string_equal(s2->events[0].msg, "(service web) second.");
	assert_string_equal(s2->deps[1].iid, s->deps[1].iid);
	/* the deployments' task definitions are held */
	assert_int_equal(model_td_find(model_region(&b, "us-east-1"), "f", 2)->tasks, 1);
	free(t1);
	free(t2);
}

static void test_damaged_records(void **state)
{
	(void)state;
	char *t = record_text(&a, service_a());
	static const char *const cuts[][2] = {
		{"\"berthCluster\":\"c\"", "\"berthCluster\":\"gone\""},
		{"\"berthFamily\":\"f\"", "\"berthFamily\":\"nope\""},
		{"\"berthPrimary\":1", "\"berthPrimary\":7"},
		{"\"serviceName\":\"web\"", "\"serviceNam\":\"web\""},
		{"\"berthDeployments\"", "\"berthDeploymentz\""},
	};
	for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
		char *p = strstr(t, cuts[i][0]);
		assert_non_null(p);
		size_t la = strlen(cuts[i][0]), lb = strlen(cuts[i][1]);
		char *bad = malloc(strlen(t) + lb + 1);
		memcpy(bad, t, (size_t)(p - t));
		memcpy(bad + (p - t), cuts[i][1], lb);
		strcpy(bad + (p - t) + lb, p + la);
		cJSON *rec = cJSON_Parse(bad);
		assert_non_null(rec);
		assert_int_equal(codec_svc_load(&b, rec), -1);
		cJSON_Delete(rec);
		free(bad);
		/* nothing left behind, no task definition held */
		assert_null(model_svc_find(model_cluster_find(model_region(&b, "us-east-1"), "c"), "web"));
		assert_int_equal(model_td_find(model_region(&b, "us-east-1"), "f", 1)->tasks, 0);
		assert_int_equal(model_td_find(model_region(&b, "us-east-1"), "f", 2)->tasks, 0);
	}
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_records, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
