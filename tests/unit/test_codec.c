/* test_codec: model/codec.c: the store records of clusters and capacity
 * providers round-trip (codec_* with CODEC_RECORD, then *_from_record, gives
 * an object that encodes to the same JSON), the API shapes show only what
 * include asks for, and the loaders refuse records without their key
 * members instead of crashing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "model/codec.h"

#define NOW INT64_C(1700000000123)

/* ---- fixtures: objects with every field set ---- */

static struct model model;

static int setup(void **state)
{
	(void)state;
	model_init(&model, "000000000000");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	model_release(&model);
	return 0;
}

static struct cluster *full_cluster(void)
{
	struct region *r = model_region(&model, "eu-west-1");
	struct cluster *c = model_cluster_new(&model, r, "full", NOW);
	c->status = CLUSTER_PROVISIONING;
	c->insights = xstrdup("enhanced");
	c->configuration = cJSON_Parse("{\"executeCommandConfiguration\":{\"logging\":\"OVERRIDE\","
				       "\"logConfiguration\":{\"s3BucketName\":\"b\"}}}");
	c->sc_namespace = xstrdup("arn:aws:servicediscovery:eu-west-1:000000000000:namespace/ns-1");
	char *cps[] = {"cp1", "FARGATE"};
	cluster_set_cps(c, cps, 2);
	c->default_strategy.n = 2;
	c->default_strategy.v = xcalloc(2, sizeof *c->default_strategy.v);
	c->default_strategy.v[0] = (struct strategy_entry){xstrdup("cp1"), 3, 1};
	c->default_strategy.v[1] = (struct strategy_entry){xstrdup("FARGATE"), 1, 0};
	kvlist_set(&c->tags, "team", "blue");
	kvlist_set(&c->tags, "empty", "");
	c->n_att = 1;
	c->att = xcalloc(1, sizeof *c->att);
	snprintf(c->att[0].id, sizeof c->att[0].id, "%s", "0a1b2c3d-0000-4000-8000-000000000001");
	c->att[0].type = xstrdup("as_policy");
	c->att[0].status = xstrdup("PRECREATED");
	kvlist_set(&c->att[0].details, "capacityProviderName", "cp1");
	kvlist_set(&c->att[0].details, "scalingPolicyName", "policy");
	c->att_status = xstrdup("UPDATE_IN_PROGRESS");
	c->create_args = xstrdup("{\"capacityProviders\":[\"cp1\",\"FARGATE\"]}");
	c->deleted_at = NOW + 5;
	c->transition_at = NOW + 1000;
	return c;
}

static struct capacity_provider *full_cp(void)
{
	struct region *r = model_region(&model, "eu-west-1");
	struct capacity_provider *cp = model_cp_new(&model, r, "cp1", NOW);
	cp->asg_arn = xstrdup("arn:aws:autoscaling:eu-west-1:000000000000:autoScalingGroup:x:"
			      "autoScalingGroupName/grp");
	cp->asg_name = xstrdup("grp");
	cp->cur = (struct asg_settings){{true, 90, 2, 20, 60}, true, false};
	cp->has_pending = true;
	cp->pending = (struct asg_settings){{false, 100, 1, 10000, 300}, false, true};
	cp->update = CP_UPD_UPDATE_IN_PROGRESS;
	cp->update_reason = xstrdup("because");
	kvlist_set(&cp->tags, "k", "v");
	cp->status = CP_DEPROVISIONING;
	cp->deleted_at = NOW + 7;
	cp->transition_at = NOW + 999;
	return cp;
}

static void assert_settings_equal(const struct asg_settings *a, const struct asg_settings *b)
{
	assert_int_equal(a->ms.enabled, b->ms.enabled);
	assert_int_equal(a->ms.target_capacity, b->ms.target_capacity);
	assert_int_equal(a->ms.min_step, b->ms.min_step);
	assert_int_equal(a->ms.max_step, b->ms.max_step);
	assert_int_equal(a->ms.warmup, b->ms.warmup);
	assert_int_equal(a->termination_protection, b->termination_protection);
	assert_int_equal(a->draining, b->draining);
}

static char *print(const cJSON *j)
{
	char *s = cJSON_PrintUnformatted(j);
	assert_non_null(s);
	return s;
}

/* ---- round trips ---- */

static void cluster_round_trip(const struct cluster *c)
{
	cJSON *rec = codec_cluster(c, CODEC_RECORD);
	char *a = print(rec);
	/* as the store keeps it: text */
	cJSON *back = cJSON_Parse(a);
	struct cluster *d = codec_cluster_from_record(back);
	assert_non_null(d);
	cJSON *again = codec_cluster(d, CODEC_RECORD);
	char *b = print(again);
	assert_string_equal(a, b);
	/* the fields the encoding does not spell out directly */
	assert_string_equal(d->region, c->region);
	assert_int_equal(d->status, c->status);
	assert_true(d->created_at == c->created_at);
	assert_true(d->deleted_at == c->deleted_at);
	assert_true(d->transition_at == c->transition_at);
	assert_true(strategy_equal(&d->default_strategy, &c->default_strategy));
	assert_int_equal(d->tags.n, c->tags.n);
	cJSON_free(a);
	cJSON_free(b);
	cJSON_Delete(rec);
	cJSON_Delete(back);
	cJSON_Delete(again);
	cluster_free(d);
}

static void test_cluster_round_trip_full(void **state)
{
	(void)state;
	cluster_round_trip(full_cluster());
}

static void test_cluster_round_trip_minimal(void **state)
{
	(void)state;
	struct region *r = model_region(&model, "us-east-1");
	struct cluster *c = model_cluster_new(&model, r, "min", NOW);
	cluster_round_trip(c);
	c->status = CLUSTER_INACTIVE;
	c->deleted_at = NOW + 1;
	cluster_round_trip(c);
}

static void cp_round_trip(const struct capacity_provider *cp)
{
	cJSON *rec = codec_cp(cp, CODEC_RECORD);
	char *a = print(rec);
	cJSON *back = cJSON_Parse(a);
	struct capacity_provider *d = codec_cp_from_record(back);
	assert_non_null(d);
	cJSON *again = codec_cp(d, CODEC_RECORD);
	char *b = print(again);
	assert_string_equal(a, b);
	assert_int_equal(d->status, cp->status);
	assert_int_equal(d->update, cp->update);
	assert_int_equal(d->has_pending, cp->has_pending);
	assert_settings_equal(&d->cur, &cp->cur);
	if (cp->has_pending)
		assert_settings_equal(&d->pending, &cp->pending);
	assert_string_equal(d->asg_name, cp->asg_name);
	assert_true(d->created_at == cp->created_at);
	assert_true(d->deleted_at == cp->deleted_at);
	assert_true(d->transition_at == cp->transition_at);
	cJSON_free(a);
	cJSON_free(b);
	cJSON_Delete(rec);
	cJSON_Delete(back);
	cJSON_Delete(again);
	cp_free(d);
}

static void test_cp_round_trip_full(void **state)
{
	(void)state;
	cp_round_trip(full_cp());
}

static void test_cp_round_trip_defaults(void **state)
{
	(void)state;
	struct region *r = model_region(&model, "us-east-1");
	struct capacity_provider *cp = model_cp_new(&model, r, "plain", NOW);
	cp->asg_arn = xstrdup("grp");
	cp->asg_name = xstrdup("grp");
	cp->cur = (struct asg_settings){{false, 100, 1, 10000, 300}, false, true};
	cp_round_trip(cp);
}

static void test_time_round_trip(void **state)
{
	(void)state;
	/* ms -> epoch seconds (double) -> ms is exact over the range used */
	static const int64_t t[] = {0, 1, 999, 1000, NOW, INT64_C(4102444800999), INT64_C(253402300799999)};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct region *r = model_region(&model, "us-east-1");
		struct cluster *c = model_cluster_new(&model, r, "t", t[i]);
		c->deleted_at = t[i] + 1;
		cJSON *rec = codec_cluster(c, CODEC_RECORD);
		struct cluster *d = codec_cluster_from_record(rec);
		assert_true(d->created_at == t[i]);
		assert_true(d->deleted_at == t[i] + 1);
		cluster_free(d);
		cJSON_Delete(rec);
	}
	assert_true(codec_time(1500) == 1.5);
}

/* ---- the API shape ---- */

static void test_cluster_api_shape_includes(void **state)
{
	(void)state;
	struct cluster *c = full_cluster();
	cJSON *o = codec_cluster(c, 0);
	/* always there */
	static const char *const always[] = {
		"clusterArn", "clusterName", "status", "registeredContainerInstancesCount",
		"runningTasksCount", "pendingTasksCount", "activeServicesCount", "capacityProviders",
		"defaultCapacityProviderStrategy", "serviceConnectDefaults",
	};
	for (size_t i = 0; i < sizeof always / sizeof always[0]; i++)
		if (!cJSON_HasObjectItem(o, always[i]))
			fail_msg("%s missing without include", always[i]);
	/* only when asked for, and never the internal members */
	static const char *const optional[] = {
		"tags", "settings", "statistics", "attachments", "attachmentsStatus", "configuration",
	};
	for (size_t i = 0; i < sizeof optional / sizeof optional[0]; i++)
		if (cJSON_HasObjectItem(o, optional[i]))
			fail_msg("%s present without include", optional[i]);
	for (cJSON *m = o->child; m; m = m->next)
		if (strncmp(m->string, "berth", 5) == 0)
			fail_msg("internal member %s in the API shape", m->string);
	assert_string_equal(cJSON_GetObjectItem(o, "status")->valuestring, "PROVISIONING");
	cJSON_Delete(o);

	struct {
		unsigned flag;
		const char *member;
	} inc[] = {
		{CODEC_TAGS, "tags"},
		{CODEC_SETTINGS, "settings"},
		{CODEC_STATISTICS, "statistics"},
		{CODEC_ATTACHMENTS, "attachments"},
		{CODEC_CONFIGURATIONS, "configuration"},
	};
	for (size_t i = 0; i < sizeof inc / sizeof inc[0]; i++) {
		o = codec_cluster(c, inc[i].flag);
		if (!cJSON_HasObjectItem(o, inc[i].member))
			fail_msg("%s missing with its include", inc[i].member);
		for (size_t k = 0; k < sizeof inc / sizeof inc[0]; k++)
			if (k != i && cJSON_HasObjectItem(o, inc[k].member))
				fail_msg("%s present with include of %s", inc[k].member, inc[i].member);
		cJSON_Delete(o);
	}
	o = codec_cluster(c, CODEC_SETTINGS | CODEC_STATISTICS | CODEC_ATTACHMENTS);
	const cJSON *s = cJSON_GetObjectItem(o, "settings");
	assert_int_equal(cJSON_GetArraySize(s), 1);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(s, 0), "value")->valuestring, "enhanced");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "statistics")), 8);
	assert_string_equal(cJSON_GetObjectItem(o, "attachmentsStatus")->valuestring, "UPDATE_IN_PROGRESS");
	cJSON_Delete(o);
}

static void test_cp_api_shape(void **state)
{
	(void)state;
	struct capacity_provider *cp = full_cp();
	cJSON *o = codec_cp(cp, 0);
	assert_false(cJSON_HasObjectItem(o, "tags"));
	for (cJSON *m = o->child; m; m = m->next)
		if (strncmp(m->string, "berth", 5) == 0)
			fail_msg("internal member %s in the API shape", m->string);
	assert_string_equal(cJSON_GetObjectItem(o, "updateStatus")->valuestring, "UPDATE_IN_PROGRESS");
	assert_string_equal(cJSON_GetObjectItem(o, "type")->valuestring, "EC2_AUTOSCALING");
	const cJSON *asg = cJSON_GetObjectItem(o, "autoScalingGroupProvider");
	/* the current values, not the pending ones */
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(asg, "managedScaling"), "status")->valuestring,
			    "ENABLED");
	assert_string_equal(cJSON_GetObjectItem(asg, "managedDraining")->valuestring, "DISABLED");
	cJSON_Delete(o);
	o = codec_cp(cp, CODEC_TAGS);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "tags")), 1);
	cJSON_Delete(o);
	/* no updateStatus member while none is set */
	cp->update = CP_UPD_NONE;
	o = codec_cp(cp, 0);
	assert_false(cJSON_HasObjectItem(o, "updateStatus"));
	cJSON_Delete(o);
}

static void test_cp_builtin(void **state)
{
	(void)state;
	cJSON *o = codec_cp_builtin(&model, "us-east-1", "FARGATE_SPOT", 0);
	char *s = print(o);
	assert_string_equal(s, "{\"capacityProviderArn\":\"arn:aws:ecs:us-east-1:000000000000:"
			       "capacity-provider/FARGATE_SPOT\",\"name\":\"FARGATE_SPOT\","
			       "\"status\":\"ACTIVE\",\"type\":\"FARGATE_SPOT\"}");
	cJSON_free(s);
	cJSON_Delete(o);
	o = codec_cp_builtin(&model, "us-east-1", "FARGATE", CODEC_TAGS);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "tags")), 0);
	assert_true(cJSON_IsArray(cJSON_GetObjectItem(o, "tags")));
	cJSON_Delete(o);
}

/* ---- pieces and damaged records ---- */

static void test_tags_and_strategy_parse(void **state)
{
	(void)state;
	cJSON *t = cJSON_Parse("[{\"key\":\"a\",\"value\":\"1\"},{\"key\":\"b\"},{\"value\":\"x\"},"
			       "{\"key\":\"a\",\"value\":\"2\"}]");
	struct kvlist l = {0};
	codec_tags_parse(&l, t);
	assert_int_equal(l.n, 2);                        /* no key: skipped */
	assert_string_equal(kvlist_get(&l, "a"), "2");   /* a repeated key: the last */
	assert_string_equal(kvlist_get(&l, "b"), "");    /* no value: "" */
	cJSON *back = codec_tags(&l);
	char *s = print(back);
	assert_string_equal(s, "[{\"key\":\"a\",\"value\":\"2\"},{\"key\":\"b\",\"value\":\"\"}]");
	cJSON_free(s);
	cJSON_Delete(back);
	kvlist_release(&l);
	cJSON_Delete(t);

	cJSON *a = cJSON_Parse("[{\"capacityProvider\":\"x\",\"weight\":2},{\"weight\":5},"
			       "{\"capacityProvider\":\"y\",\"base\":3}]");
	struct strategy st;
	codec_strategy_parse(&st, a);
	assert_int_equal(st.n, 2);
	assert_string_equal(st.v[0].provider, "x");
	assert_int_equal(st.v[0].weight, 2);
	assert_int_equal(st.v[0].base, 0);
	assert_string_equal(st.v[1].provider, "y");
	assert_int_equal(st.v[1].weight, 0);
	assert_int_equal(st.v[1].base, 3);
	strategy_release(&st);
	cJSON_Delete(a);
	codec_strategy_parse(&st, NULL);
	assert_int_equal(st.n, 0);
	assert_null(st.v);
}

static void test_damaged_records(void **state)
{
	(void)state;
	static const char *const clusters[] = {
		"{}",
		"[]",
		"{\"clusterName\":\"c\",\"clusterArn\":\"a\",\"status\":\"ACTIVE\"}",  /* no region */
		"{\"clusterName\":\"c\",\"clusterArn\":\"a\",\"berthRegion\":\"r\",\"status\":\"BOGUS\"}",
		"{\"clusterName\":1,\"clusterArn\":\"a\",\"berthRegion\":\"r\",\"status\":\"ACTIVE\"}",
	};
	for (size_t i = 0; i < sizeof clusters / sizeof clusters[0]; i++) {
		cJSON *j = cJSON_Parse(clusters[i]);
		assert_null(codec_cluster_from_record(j));
		cJSON_Delete(j);
	}
	static const char *const cps[] = {
		"{}",
		"{\"name\":\"p\",\"capacityProviderArn\":\"a\",\"berthRegion\":\"r\",\"status\":\"ACTIVE\"}",
		"{\"name\":\"p\",\"capacityProviderArn\":\"a\",\"berthRegion\":\"r\",\"status\":\"ACTIVE\","
		"\"autoScalingGroupProvider\":{}}",
	};
	for (size_t i = 0; i < sizeof cps / sizeof cps[0]; i++) {
		cJSON *j = cJSON_Parse(cps[i]);
		assert_null(codec_cp_from_record(j));
		cJSON_Delete(j);
	}
	/* Wrong types in optional members are ignored, not trusted. */
	cJSON *j = cJSON_Parse("{\"clusterName\":\"c\",\"clusterArn\":\"a\",\"berthRegion\":\"r\","
			       "\"status\":\"ACTIVE\",\"capacityProviders\":[1,\"x\",null],"
			       "\"tags\":{\"key\":\"k\"},\"attachments\":[{}],\"configuration\":5,"
			       "\"serviceConnectDefaults\":{\"namespace\":7},\"berthCreatedAt\":\"x\"}");
	struct cluster *c = codec_cluster_from_record(j);
	assert_non_null(c);
	assert_int_equal(c->n_cps, 1);
	assert_string_equal(c->cps[0], "x");
	assert_null(c->configuration);
	assert_null(c->sc_namespace);
	assert_int_equal(c->n_att, 1);
	assert_string_equal(c->att[0].type, "");
	assert_true(c->created_at == 0);
	cluster_free(c);
	cJSON_Delete(j);
	/* A provider record without berthAsgName takes the group from the ARN
	 * member as given. */
	j = cJSON_Parse("{\"name\":\"p\",\"capacityProviderArn\":\"a\",\"berthRegion\":\"r\","
			"\"status\":\"INACTIVE\",\"autoScalingGroupProvider\":{\"autoScalingGroupArn\":\"g\"}}");
	struct capacity_provider *cp = codec_cp_from_record(j);
	assert_non_null(cp);
	assert_string_equal(cp->asg_name, "g");
	assert_int_equal(cp->status, CP_INACTIVE);
	/* defaults for a missing managedScaling */
	assert_int_equal(cp->cur.ms.target_capacity, 100);
	assert_int_equal(cp->cur.ms.max_step, 10000);
	assert_false(cp->has_pending);
	cp_free(cp);
	cJSON_Delete(j);
}

static void test_region_record(void **state)
{
	(void)state;
	struct region *r = model_region(&model, "us-east-1");
	r->default_created = true;
	cJSON *o = codec_region(r);
	struct region *r2 = model_region(&model, "eu-west-1");
	codec_region_apply(r2, o);
	assert_true(r2->default_created);
	cJSON_Delete(o);
	r->default_created = false;
	o = codec_region(r);
	codec_region_apply(r2, o);
	assert_false(r2->default_created);
	cJSON_Delete(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cluster_round_trip_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cluster_round_trip_minimal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cp_round_trip_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cp_round_trip_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_time_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cluster_api_shape_includes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cp_api_shape, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cp_builtin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tags_and_strategy_parse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_region_record, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
