/* test_as_codec: model/codec_as.c: the Auto Scaling records round-trip.
 * A launch configuration, a group with instances (one protected, one
 * Pending with a driver deadline), tags, activities and kept members, and
 * an ECS-managed policy are made through api_as_call, as a client and the
 * controller make them; each record is loaded into a second model and
 * written again, which must give the same JSON, and the loaded group's
 * instances must be indexed by id.  Damaged records load as NULL.  Also:
 * the instance type catalogue and ISO 8601 times, and the group logic with
 * an infrastructure driver that answers later (as the lead's sim does):
 * instances wait in Pending and Terminating until the driver reports, a
 * loss is replaced, a forced deletion ends with the last Terminated. */
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
#include "model/codec_as.h"
#include "scaling/instance_types.h"

static struct model a, b;
static struct api_config cfg = {.strategy_max_providers = 6, .max_cps_per_cluster = 20};
static struct rng rng;

static struct api_ctx ctx_of(struct model *m)
{
	return (struct api_ctx){.m = m, .cfg = &cfg, .region = "us-east-1", .now = 1800000000123LL, .rng = &rng};
}

static void call(const char *action, const char *body)
{
	struct api_ctx ctx = ctx_of(&a);
	cJSON *in = cJSON_Parse(body), *out = NULL;
	assert_non_null(in);
	struct err e;
	err_clear(&e);
	if (api_as_call(&ctx, action, in, &out, &e))
		fail_msg("%s: %s", action, e.msg);
	cJSON_Delete(in);
	cJSON_Delete(out);
}

static int setup(void **state)
{
	(void)state;
	model_init(&a, "000000000000");
	model_init(&b, "000000000000");
	rng_seed(&rng, 11);
	call("CreateLaunchConfiguration",
	     "{\"LaunchConfigurationName\":\"lc\",\"ImageId\":\"ami-1\",\"InstanceType\":\"c5.xlarge\","
	     "\"SecurityGroups\":[\"sg-1\"],\"UserData\":\"ZWNobw==\",\"InstanceMonitoring\":{\"Enabled\":false}}");
	call("CreateAutoScalingGroup",
	     "{\"AutoScalingGroupName\":\"g\",\"LaunchConfigurationName\":\"lc\",\"MinSize\":0,\"MaxSize\":6,"
	     "\"DesiredCapacity\":3,\"AvailabilityZones\":[\"us-east-1a\",\"us-east-1b\"],"
	     "\"NewInstancesProtectedFromScaleIn\":true,\"TargetGroupARNs\":[\"arn:tg\"],\"DefaultInstanceWarmup\":60,"
	     "\"Tags\":[{\"Key\":\"team\",\"Value\":\"blue\",\"PropagateAtLaunch\":true},{\"Key\":\"x\",\"Value\":\"\"}]}");
	call("SetDesiredCapacity", "{\"AutoScalingGroupName\":\"g\",\"DesiredCapacity\":1}");
	struct region *r = model_region(&a, "us-east-1");
	struct as_group *g = model_as_group_find(r, "g");
	assert_non_null(g);
	struct api_ctx ctx = ctx_of(&a);
	/* All three are protected, so the scale-in could not happen. */
	assert_int_equal(g->n_inst, 3);
	api_as_set_protection(&ctx, g->inst[0], false);
	assert_int_equal(g->n_inst, 2);
	g->inst[1]->lifecycle = AS_PENDING;
	g->inst[1]->due = 1800000009000LL;
	snprintf(g->inst[1]->activity, sizeof g->inst[1]->activity, "%s", g->acts[0].id);
	assert_non_null(api_as_put_managed_policy(&ctx, g, "cl", "cp", 80, 120));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	model_release(&a);
	model_release(&b);
	return 0;
}

static char *text(cJSON *j)
{
	char *t = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	return t;
}

static void same(const char *t1, const char *t2)
{
	if (strcmp(t1, t2) != 0) {
		size_t i = 0;
		while (t1[i] && t1[i] == t2[i])
			i++;
		size_t from = i > 60 ? i - 60 : 0;
		fail_msg("records differ at %zu:\n  %.160s\n  %.160s", i, t1 + from, t2 + from);
	}
}

static void test_launch_config(void **state)
{
	(void)state;
	struct region *ra = model_region(&a, "us-east-1"), *rb = model_region(&b, "us-east-1");
	char *t1 = text(codec_as_lc(model_as_lc_find(ra, "lc"), CODEC_RECORD));
	cJSON *rec = cJSON_Parse(t1);
	struct as_launch_config *lc = codec_as_lc_from_record(rec);
	cJSON_Delete(rec);
	assert_non_null(lc);
	sidx_put(&rb->as_lcs, lc->name, lc);
	char *t2 = text(codec_as_lc(lc, CODEC_RECORD));
	same(t1, t2);
	/* the answer: the request's members back, defaults for the rest */
	cJSON *ans = codec_as_lc(lc, 0);
	assert_string_equal(codec_str_of(ans, "InstanceType"), "c5.xlarge");
	assert_string_equal(codec_str_of(ans, "UserData"), "ZWNobw==");
	assert_string_equal(codec_str_of(ans, "KeyName"), "");
	assert_false(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(ans, "InstanceMonitoring"), "Enabled")));
	assert_string_equal(codec_str_of(ans, "CreatedTime"), "2027-01-15T08:00:00.123Z");
	cJSON_Delete(ans);
	free(t1);
	free(t2);
}

static void test_group(void **state)
{
	(void)state;
	struct region *ra = model_region(&a, "us-east-1"), *rb = model_region(&b, "us-east-1");
	struct as_group *ga = model_as_group_find(ra, "g");
	char *t1 = text(codec_as_group(&a, ga, CODEC_RECORD));
	cJSON *rec = cJSON_Parse(t1);
	struct as_group *g = codec_as_group_from_record(rec);
	cJSON_Delete(rec);
	assert_non_null(g);
	model_as_group_load(&b, rb, g);
	char *t2 = text(codec_as_group(&b, g, CODEC_RECORD));
	same(t1, t2);
	/* what the group logic reads back */
	assert_int_equal(g->desired, 1);
	assert_int_equal(g->n_inst, 2);
	assert_int_equal(g->n_zones, 2);
	assert_true(g->new_protected);
	assert_int_equal(g->default_instance_warmup, 60);
	assert_int_equal(g->inst_seq, ga->inst_seq);
	assert_int_equal(g->n_acts, ga->n_acts);
	assert_int_equal(g->n_tags, 2);
	assert_true(g->tags[0].propagate);
	for (size_t i = 0; i < g->n_inst; i++) {
		assert_ptr_equal(model_as_instance_find(rb, g->inst[i]->id), g->inst[i]);
		assert_ptr_equal(g->inst[i]->group, g);
		assert_string_equal(g->inst[i]->instance_type, "c5.xlarge");
	}
	assert_int_equal(g->inst[1]->lifecycle, AS_PENDING);
	assert_int_equal(g->inst[1]->due, 1800000009000LL);
	assert_string_equal(g->inst[1]->activity, ga->acts[0].id);
	/* the answers agree too */
	char *a1 = text(codec_as_group(&a, ga, 0)), *a2 = text(codec_as_group(&b, g, 0));
	same(a1, a2);
	assert_non_null(strstr(a1, "\"TargetGroupARNs\":[\"arn:tg\"]"));
	assert_non_null(strstr(a1, "\"Instances\":[{\"InstanceId\":\"i-"));
	free(a1);
	free(a2);
	free(t1);
	free(t2);
}

static void test_policy(void **state)
{
	(void)state;
	struct region *ra = model_region(&a, "us-east-1"), *rb = model_region(&b, "us-east-1");
	assert_int_equal(ra->as_policies.n, 1);
	struct as_policy *pa = ra->as_policies.v[0].val;
	char *t1 = text(codec_as_policy(pa, CODEC_RECORD));
	cJSON *rec = cJSON_Parse(t1);
	struct as_policy *p = codec_as_policy_from_record(rec);
	cJSON_Delete(rec);
	assert_non_null(p);
	model_as_policy_load(rb, p);
	char *t2 = text(codec_as_policy(p, CODEC_RECORD));
	same(t1, t2);
	assert_ptr_equal(model_as_policy_find(rb, "g", p->name), p);
	assert_string_equal(p->ecs_cluster, "cl");
	assert_string_equal(p->ecs_provider, "cp");
	assert_int_equal(strncmp(p->name, "ECSManagedAutoScalingPolicy-", 28), 0);
	char *id = codec_as_policy_record_id(p);
	assert_string_equal(id + strlen(id) - strlen(p->name), p->name);
	assert_int_equal(strncmp(id, "us-east-1/g/", 12), 0);
	free(id);
	free(t1);
	free(t2);
}

static void test_damaged(void **state)
{
	(void)state;
	static const char *const groups[] = {
		"{}",
		"{\"AutoScalingGroupName\":\"g\",\"AutoScalingGroupARN\":\"arn\"}",
		"{\"AutoScalingGroupName\":\"g\",\"AutoScalingGroupARN\":\"arn\",\"berthRegion\":\"r\","
		"\"Instances\":[{\"InstanceId\":\"i-1\",\"LifecycleState\":\"Sleeping\"}]}",
		"{\"AutoScalingGroupName\":\"g\",\"AutoScalingGroupARN\":\"arn\",\"berthRegion\":\"r\","
		"\"Instances\":[{\"LifecycleState\":\"InService\"}]}",
	};
	for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++) {
		cJSON *j = cJSON_Parse(groups[i]);
		assert_null(codec_as_group_from_record(j));
		cJSON_Delete(j);
	}
	cJSON *j = cJSON_Parse("{\"LaunchConfigurationName\":\"lc\"}");
	assert_null(codec_as_lc_from_record(j));
	cJSON_Delete(j);
	j = cJSON_Parse("{\"PolicyName\":\"p\",\"PolicyARN\":\"arn\",\"berthRegion\":\"r\"}");
	assert_null(codec_as_policy_from_record(j));
	cJSON_Delete(j);
}

static void test_catalogue(void **state)
{
	(void)state;
	const struct instance_type *t = instance_type_find("m5.large");
	assert_non_null(t);
	assert_int_equal(t->vcpu, 2);
	assert_int_equal(t->memory_mib, 8192);
	t = instance_type_find("c5.24xlarge");
	assert_non_null(t);
	assert_int_equal(t->vcpu, 96);
	assert_null(instance_type_find("m5.huge"));
	assert_null(instance_type_find(NULL));
	size_t n;
	const struct instance_type *all = instance_types(&n);
	assert_true(n > 100);
	for (size_t i = 0; i < n; i++) {
		assert_true(all[i].vcpu > 0 && all[i].memory_mib >= 512);
		assert_ptr_equal(instance_type_find(all[i].name), &all[i]);
	}
	char buf[40];
	assert_string_equal(codec_as_iso(0, buf, sizeof buf), "1970-01-01T00:00:00.000Z");
	assert_string_equal(codec_as_iso(1800000000123LL, buf, sizeof buf), "2027-01-15T08:00:00.123Z");
}

/* A driver that only remembers what it was asked. */
static struct as_instance *launched[16], *terminated[16];
static size_t n_launched, n_terminated;

static void slow_launch(struct api_ctx *ctx, struct as_group *g, struct as_instance *inst)
{
	(void)ctx;
	(void)g;
	launched[n_launched++] = inst;
}

static void slow_terminate(struct api_ctx *ctx, struct as_group *g, struct as_instance *inst)
{
	(void)ctx;
	(void)g;
	terminated[n_terminated++] = inst;
}

static const struct infra_ops slow = {"slow", slow_launch, slow_terminate, NULL};

static int as_call(struct api_ctx *ctx, const char *action, const char *body)
{
	cJSON *in = cJSON_Parse(body), *out = NULL;
	struct err e;
	err_clear(&e);
	int rc = api_as_call(ctx, action, in, &out, &e);
	cJSON_Delete(in);
	cJSON_Delete(out);
	return rc ? e.code : 0;
}

static void test_slow_driver(void **state)
{
	(void)state;
	struct model m;
	model_init(&m, "000000000000");
	struct api_ctx ctx = ctx_of(&m);
	ctx.infra = &slow;
	n_launched = n_terminated = 0;
	assert_int_equal(as_call(&ctx, "CreateLaunchConfiguration",
				 "{\"LaunchConfigurationName\":\"lc\",\"ImageId\":\"ami-1\",\"InstanceType\":\"m5.large\"}"), 0);
	assert_int_equal(as_call(&ctx, "CreateAutoScalingGroup",
				 "{\"AutoScalingGroupName\":\"g\",\"LaunchConfigurationName\":\"lc\",\"MinSize\":0,"
				 "\"MaxSize\":4,\"DesiredCapacity\":2,\"AvailabilityZones\":[\"us-east-1a\"]}"), 0);
	struct as_group *g = api_as_group_find(&ctx, "arn:aws:autoscaling:us-east-1:000000000000:autoScalingGroup:x:autoScalingGroupName/g");
	assert_non_null(g);
	size_t n;
	struct as_instance *const *v = api_as_instances(g, &n);
	assert_int_equal(n, 2);
	assert_int_equal(n_launched, 2);
	assert_int_equal(v[0]->lifecycle, AS_PENDING);
	assert_string_equal(g->acts[0].status, "InProgress");
	api_as_instance_state(&ctx, launched[0], AS_IN_SERVICE);
	api_as_instance_state(&ctx, launched[1], AS_IN_SERVICE);
	assert_int_equal(v[1]->lifecycle, AS_IN_SERVICE);
	assert_string_equal(g->acts[0].status, "Successful");
	/* scale-in: the oldest waits in Terminating for the driver */
	struct err e;
	err_clear(&e);
	assert_int_equal(api_as_set_desired(&ctx, g, 5, &e), -1);
	assert_int_equal(e.code, ERR_VALIDATION);
	assert_int_equal(api_as_set_desired(&ctx, g, 1, &e), 0);
	assert_int_equal(n_terminated, 1);
	assert_ptr_equal(terminated[0], launched[0]);
	assert_int_equal(launched[0]->lifecycle, AS_TERMINATING);
	assert_int_equal(g->n_inst, 2);
	/* a deletion without ForceDelete waits for the activity */
	assert_int_equal(as_call(&ctx, "SetDesiredCapacity", "{\"AutoScalingGroupName\":\"g\",\"DesiredCapacity\":0}"), 0);
	assert_int_equal(as_call(&ctx, "DeleteAutoScalingGroup", "{\"AutoScalingGroupName\":\"g\"}"),
			 ERR_AS_SCALING_ACTIVITY_IN_PROGRESS);
	api_as_instance_state(&ctx, terminated[0], AS_TERMINATED);
	api_as_instance_state(&ctx, terminated[1], AS_TERMINATED);
	assert_int_equal(g->n_inst, 0);
	/* a loss the group did not ask for is replaced */
	assert_int_equal(api_as_set_desired(&ctx, g, 1, &e), 0);
	assert_int_equal(n_launched, 3);
	api_as_instance_state(&ctx, launched[2], AS_IN_SERVICE);
	api_as_instance_state(&ctx, launched[2], AS_TERMINATED);
	assert_int_equal(n_launched, 4);
	assert_int_equal(g->n_inst, 1);
	/* protection: a protected instance is never picked; a managed policy
	 * goes with its group */
	api_as_set_protection(&ctx, launched[3], true);
	assert_int_equal(api_as_set_desired(&ctx, g, 0, &e), 0);
	assert_int_equal(n_terminated, 2);
	assert_non_null(api_as_put_managed_policy(&ctx, g, "c", "p", 100, 300));
	assert_ptr_equal(api_as_put_managed_policy(&ctx, g, "c", "p", 90, 60), api_as_find_managed_policy(&ctx, g, "c", "p"));
	/* a forced deletion ends with the last Terminated report */
	assert_int_equal(as_call(&ctx, "DeleteAutoScalingGroup", "{\"AutoScalingGroupName\":\"g\",\"ForceDelete\":true}"), 0);
	assert_int_equal(n_terminated, 3);
	assert_true(g->deleting);
	assert_int_equal(model_region(&m, "us-east-1")->as_policies.n, 0);
	assert_int_equal(as_call(&ctx, "SetDesiredCapacity", "{\"AutoScalingGroupName\":\"g\",\"DesiredCapacity\":0}"),
			 ERR_AS_SCALING_ACTIVITY_IN_PROGRESS);
	api_as_instance_state(&ctx, terminated[2], AS_TERMINATED);
	assert_null(api_as_group_find(&ctx, "g"));
	assert_int_equal(model_region(&m, "us-east-1")->as_instances.n, 0);
	model_release(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_launch_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy, setup, teardown),
		cmocka_unit_test(test_damaged),
		cmocka_unit_test(test_catalogue),
		cmocka_unit_test(test_slow_driver),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
