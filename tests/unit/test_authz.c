/* test_authz: api/authz.c: the IAM authorization requests of API calls.
 * A model is made through the API as a client makes it (a tagged cluster,
 * a tagged task definition, service, container instance, task and
 * capacity provider, an Auto Scaling group and launch configuration, IAM
 * users), then representative calls of every kind are mapped and their
 * items checked: single resources, batch describes (one item a resource,
 * missing ones included), lists scoped by ecs:cluster, creates with
 * request tags and their dependent TagResource, RunTask's task definition
 * with ecs:cluster, Auto Scaling groups, IAM users, extensions and unknown
 * operations.  Every row of actions.def and as_actions.def must have a
 * mapping. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/authz.h"
#include "lib/xalloc.h"
#include "model/model_iam.h"
#include "server/server.h"

#define ACCT "000000000000"
#define ECS_ARN(res) "arn:aws:ecs:us-east-1:" ACCT ":" res

static struct model m;
static struct api_config cfg = {.strategy_max_providers = 6, .max_cps_per_cluster = 20,
				.task_retention_ms = 3600000, .sim_step_ms = 50, .capacity_wait_ms = 60000,
				.max_provisioning_tasks = 500, .service_retention_ms = 3600000,
				.cluster_retention_ms = 3600000};
static struct rng rng;
static char ci_id[64], task_id[64], group_arn[256], lc_arn[256], inst_id[32];
static struct authz_list l;

static struct api_ctx ctx_of(void)
{
	return (struct api_ctx){.m = &m, .cfg = &cfg, .region = "us-east-1", .now = 1800000000000LL,
				.rng = &rng, .driver = &driver_sim_ops};
}

/* Call action (ECS or Auto Scaling) and return its answer (the caller frees). */
static cJSON *call(bool as, const char *action, const char *body)
{
	struct api_ctx ctx = ctx_of();
	cJSON *in = cJSON_Parse(body), *out = NULL;
	assert_non_null(in);
	struct err e;
	err_clear(&e);
	int rc = as ? api_as_call(&ctx, action, in, &out, &e) : api_call(&ctx, action, in, &out, &e);
	if (rc)
		fail_msg("%s: %s", action, e.msg);
	cJSON_Delete(in);
	return out;
}

static void run(bool as, const char *action, const char *body)
{
	cJSON_Delete(call(as, action, body));
}

static void last_part(char *dst, size_t len, const char *arn)
{
	const char *s = strrchr(arn, '/');
	snprintf(dst, len, "%s", s ? s + 1 : arn);
}

static int setup(void **state)
{
	(void)state;
	model_init(&m, ACCT);
	rng_seed(&rng, 5);
	run(true, "CreateLaunchConfiguration",
	    "{\"LaunchConfigurationName\":\"lc\",\"ImageId\":\"ami-1\",\"InstanceType\":\"c5.large\"}");
	run(true, "CreateAutoScalingGroup",
	    "{\"AutoScalingGroupName\":\"asg\",\"LaunchConfigurationName\":\"lc\",\"MinSize\":0,\"MaxSize\":4,"
	    "\"DesiredCapacity\":1,\"AvailabilityZones\":[\"us-east-1a\"],"
	    "\"Tags\":[{\"Key\":\"owner\",\"Value\":\"ops\",\"PropagateAtLaunch\":false}]}");
	struct region *r = model_region(&m, "us-east-1");
	struct as_group *g = model_as_group_find(r, "asg");
	assert_non_null(g);
	assert_true(g->n_inst >= 1);
	snprintf(group_arn, sizeof group_arn, "%s", g->arn);
	snprintf(inst_id, sizeof inst_id, "%s", g->inst[0]->id);
	snprintf(lc_arn, sizeof lc_arn, "%s", model_as_lc_find(r, "lc")->arn);

	run(false, "CreateCluster", "{\"clusterName\":\"prod\",\"tags\":[{\"key\":\"env\",\"value\":\"prod\"}]}");
	char body[1024];
	snprintf(body, sizeof body,
		 "{\"name\":\"cp1\",\"autoScalingGroupProvider\":{\"autoScalingGroupArn\":\"%s\"},"
		 "\"tags\":[{\"key\":\"tier\",\"value\":\"gold\"}]}",
		 group_arn);
	run(false, "CreateCapacityProvider", body);
	run(false, "RegisterTaskDefinition",
	    "{\"family\":\"web\",\"containerDefinitions\":[{\"name\":\"a\",\"image\":\"x\",\"memory\":128}],"
	    "\"tags\":[{\"key\":\"app\",\"value\":\"web\"}]}");
	cJSON *out = call(false, "RegisterContainerInstance",
			  "{\"cluster\":\"prod\",\"totalResources\":[{\"name\":\"CPU\",\"type\":\"INTEGER\","
			  "\"integerValue\":2048},{\"name\":\"MEMORY\",\"type\":\"INTEGER\",\"integerValue\":4096}],"
			  "\"tags\":[{\"key\":\"role\",\"value\":\"worker\"}]}");
	const char *arn = cJSON_GetStringValue(
		cJSON_GetObjectItem(cJSON_GetObjectItem(out, "containerInstance"), "containerInstanceArn"));
	assert_non_null(arn);
	last_part(ci_id, sizeof ci_id, arn);
	cJSON_Delete(out);
	out = call(false, "RunTask",
		   "{\"cluster\":\"prod\",\"taskDefinition\":\"web\",\"launchType\":\"EXTERNAL\","
		   "\"tags\":[{\"key\":\"job\",\"value\":\"nightly\"}]}");
	/* the answer holds raw JSON: read it back as text */
	char *text = cJSON_PrintUnformatted(out);
	cJSON_Delete(out);
	out = cJSON_Parse(text);
	free(text);
	const cJSON *tasks = cJSON_GetObjectItem(out, "tasks");
	assert_int_equal(cJSON_GetArraySize(tasks), 1);
	const char *task_arn = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(tasks, 0), "taskArn"));
	assert_non_null(task_arn);
	last_part(task_id, sizeof task_id, task_arn);
	cJSON_Delete(out);
	run(false, "CreateService",
	    "{\"cluster\":\"prod\",\"serviceName\":\"api\",\"taskDefinition\":\"web:1\",\"desiredCount\":0,"
	    "\"tags\":[{\"key\":\"team\",\"value\":\"blue\"}]}");

	model_iam_user_add(&m, iam_user_new(&m, "alice", "/eng/", "AIDAALICE0000000000", 1800000000000LL));
	model_iam_user_add(&m, iam_user_new(&m, "bob", NULL, "AIDABOB000000000000", 1800000000000LL));
	authz_list_init(&l);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	authz_list_release(&l);
	model_release(&m);
	return 0;
}

/* Map one call into l (emptied first). */
static void map_user(enum authz_service svc, const char *op, const char *body, const char *user)
{
	authz_list_release(&l);
	struct api_ctx ctx = ctx_of();
	cJSON *in = cJSON_Parse(body);
	assert_non_null(in);
	assert_int_equal(authz_requests(&ctx, svc, op, in, user, &l), 0);
	cJSON_Delete(in);
	assert_true(l.n >= 1);
}

static void map(enum authz_service svc, const char *op, const char *body)
{
	map_user(svc, op, body, NULL);
}

/* Item i's first value of key, or NULL; how many values it has. */
static const char *val(size_t i, const char *key)
{
	assert_true(i < l.n);
	for (size_t k = 0; k < l.items[i].n_ctx; k++) {
		const struct authz_kv *p = &l.kv[l.items[i].ctx_off + k];
		if (strcmp(p->key, key) == 0)
			return p->value;
	}
	return NULL;
}

static size_t count(size_t i, const char *key)
{
	size_t n = 0;
	for (size_t k = 0; k < l.items[i].n_ctx; k++)
		n += strcmp(l.kv[l.items[i].ctx_off + k].key, key) == 0;
	return n;
}

static bool has_value(size_t i, const char *key, const char *value)
{
	for (size_t k = 0; k < l.items[i].n_ctx; k++) {
		const struct authz_kv *p = &l.kv[l.items[i].ctx_off + k];
		if (strcmp(p->key, key) == 0 && strcmp(p->value, value) == 0)
			return true;
	}
	return false;
}

static void expect_item(size_t i, const char *action, const char *resource)
{
	assert_true(i < l.n);
	assert_string_equal(l.items[i].action, action);
	assert_string_equal(l.items[i].resource, resource);
}

/* ---- every operation has a row ---- */

static void every_ecs_action_mapped(void **state)
{
	(void)state;
	static const char *const ops[] = {
#define X(name, fn) name,
#include "api/actions.def"
#undef X
	};
	assert_true(sizeof ops / sizeof ops[0] >= 41);
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		assert_non_null(api_find(ops[i]));
		if (!authz_mapped(AUTHZ_ECS, ops[i]))
			fail_msg("ECS %s has no authorization mapping", ops[i]);
	}
}

static void every_as_action_mapped(void **state)
{
	(void)state;
	static const char *const ops[] = {
#define X(name, fn) name,
#include "api/as_actions.def"
#undef X
	};
	assert_int_equal(sizeof ops / sizeof ops[0], 13);
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		assert_non_null(api_as_find(ops[i]));
		if (!authz_mapped(AUTHZ_AUTOSCALING, ops[i]))
			fail_msg("Auto Scaling %s has no authorization mapping", ops[i]);
	}
}

static void agent_and_iam_actions_mapped(void **state)
{
	(void)state;
	static const char *const ecs[] = {"SubmitTaskStateChange", "SubmitContainerStateChange",
					  "SubmitAttachmentStateChanges", "DiscoverPollEndpoint", "Poll"};
	for (size_t i = 0; i < sizeof ecs / sizeof ecs[0]; i++)
		assert_true(authz_mapped(AUTHZ_ECS, ecs[i]));
	static const char *const iam[] = {"CreateUser", "DeleteUser", "GetUser", "ListUsers", "CreateAccessKey",
					  "DeleteAccessKey", "ListAccessKeys", "PutUserPolicy", "GetUserPolicy",
					  "DeleteUserPolicy", "ListUserPolicies", "UpdateAccessKey"};
	for (size_t i = 0; i < sizeof iam / sizeof iam[0]; i++)
		assert_true(authz_mapped(AUTHZ_IAM, iam[i]));
	assert_false(authz_mapped(AUTHZ_IAM, "CreateCluster"));
}

/* ---- ECS ---- */

static void list_clusters_is_star(void **state)
{
	(void)state;
	map(AUTHZ_ECS, "ListClusters", "{}");
	assert_int_equal(l.n, 1);
	expect_item(0, "ecs:ListClusters", "*");
	assert_int_equal(l.items[0].n_ctx, 0);
}

static void delete_cluster_has_resource_tags(void **state)
{
	(void)state;
	map(AUTHZ_ECS, "DeleteCluster", "{\"cluster\":\"prod\"}");
	assert_int_equal(l.n, 1);
	expect_item(0, "ecs:DeleteCluster", ECS_ARN("cluster/prod"));
	assert_string_equal(val(0, "aws:ResourceTag/env"), "prod");
	assert_string_equal(val(0, "ecs:ResourceTag/env"), "prod");
}

static void describe_clusters_one_item_each(void **state)
{
	(void)state;
	map(AUTHZ_ECS, "DescribeClusters",
	    "{\"clusters\":[\"prod\",\"" ECS_ARN("cluster/prod") "\",\"ghost\"]}");
	/* prod twice (name and ARN) is one item; ghost does not exist */
	assert_int_equal(l.n, 2);
	expect_item(0, "ecs:DescribeClusters", ECS_ARN("cluster/prod"));
	assert_string_equal(val(0, "aws:ResourceTag/env"), "prod");
	expect_item(1, "ecs:DescribeClusters", ECS_ARN("cluster/ghost"));
	assert_int_equal(l.items[1].n_ctx, 0);
}

static void describe_clusters_defaults_to_default(void **state)
{
	(void)state;
	map(AUTHZ_ECS, "DescribeClusters", "{}");
	assert_int_equal(l.n, 1);
	expect_item(0, "ecs:DescribeClusters", ECS_ARN("cluster/default"));
}

static void create_cluster_request_tags(void **state)
{
	(void)state;
	map(AUTHZ_ECS, "CreateCluster",
	    "{\"clusterName\":\"new\",\"capacityProviders\":[\"FARGATE\"],"
	    "\"tags\":[{\"key\":\"a\",\"value\":\"1\"},{\"key\":\"b\",\"value\":\"2\"}]}");
	assert_int_equal(l.n, 2);
	expect_item(0, "ecs:CreateCluster", ECS_ARN("cluster/new"));
	assert_string_equal(val(0, "aws:RequestTag/a"), "1");
	assert_string_equal(val(0, "aws:RequestTag/b"), "2");
	assert_int_equal(count(0, "aws:TagKeys"), 2);
	assert_true(has_value(0, "aws:TagKeys", "a") && has_value(0, "aws:TagKeys", "b"));
	assert_string_equal(val(0, "ecs:capacity-provider"), ECS_ARN("capacity-provider/FARGATE"));
	assert_null(val(0, "aws:ResourceTag/env"));
	/* tagging on create also needs ecs:TagResource */
	expect_item(1, "ecs:TagResource", ECS_ARN("cluster/new"));
	assert_string_equal(val(1, "ecs:CreateAction"), "CreateCluster");
	assert_string_equal(val(1, "aws:RequestTag/a"), "1");
}

static void create_cluster_untagged_default(void **state)
{
	(void)state;
	map(AUTHZ_ECS, "CreateCluster", "{}");
	assert_int_equal(l.n, 1);
	expect_item(0, "ecs:CreateCluster", ECS_ARN("cluster/default"));
	assert_int_equal(count(0, "aws:TagKeys"), 0);
}

static void run_task_authorizes_the_task_definition(void **state)
{
	(void)state;
	map(AUTHZ_ECS, "RunTask",
	    "{\"cluster\":\"prod\",\"taskDefinition\":\"web\",\"tags\":[{\"key\":\"job\",\"value\":\"x\"}],"
	    "\"capacityProviderStrategy\":[{\"capacityProvider\":\"cp1\",\"weight\":1}]}");
	assert_int_equal(l.n, 1);
	expect_item(0, "ecs:RunTask", ECS_ARN("task-definition/web:1"));
	assert_string_equal(val(0, "ecs:cluster"), ECS_ARN("cluster/prod"));
	assert_string_equal(val(0, "aws:ResourceTag/app"), "web");
	assert_string_equal(val(0, "aws:RequestTag/job"), "x");
	assert_string_equal(val(0, "aws:TagKeys"), "job");
	assert_string_equal(val(0, "ecs:capacity-provider"), ECS_ARN("capacity-provider/cp1"));
	assert_string_equal(val(0, "ecs:enable-execute-command"), "false");
}

static void run_task_unknown_family_default_cluster(void **state)
{
	(void)state;
	map(AUTHZ_ECS, "RunTask", "{\"taskDefinition\":\"nope\"}");
	expect_item(0, "ecs:RunTask", ECS_ARN("task-definition/nope:*"));
	assert_string_equal(val(0, "ecs:cluster"), ECS_ARN("cluster/default"));
	map(AUTHZ_ECS, "RunTask", "{\"taskDefinition\":\"web:7\",\"cluster\":\"" ECS_ARN("cluster/prod") "\"}");
	expect_item(0, "ecs:RunTask", ECS_ARN("task-definition/web:7"));
	assert_null(val(0, "aws:ResourceTag/app"));
	assert_string_equal(val(0, "ecs:cluster"), ECS_ARN("cluster/prod"));
}

static void start_task_names_container_instances(void **state)
{
	(void)state;
	char body[512], ci[256];
	snprintf(body, sizeof body,
		 "{\"cluster\":\"prod\",\"taskDefinition\":\"web:1\",\"containerInstances\":[\"%s\"]}", ci_id);
	snprintf(ci, sizeof ci, ECS_ARN("container-instance/prod/%s"), ci_id);
	map(AUTHZ_ECS, "StartTask", body);
	assert_int_equal(l.n, 1);
	expect_item(0, "ecs:StartTask", ECS_ARN("task-definition/web:1"));
	assert_string_equal(val(0, "ecs:container-instances"), ci);
	assert_string_equal(val(0, "ecs:cluster"), ECS_ARN("cluster/prod"));
}

static void describe_tasks_batch(void **state)
{
	(void)state;
	char body[512], arn[256];
	snprintf(body, sizeof body, "{\"cluster\":\"prod\",\"tasks\":[\"%s\",\"0123456789abcdef\"]}", task_id);
	snprintf(arn, sizeof arn, ECS_ARN("task/prod/%s"), task_id);
	map(AUTHZ_ECS, "DescribeTasks", body);
	assert_int_equal(l.n, 2);
	expect_item(0, "ecs:DescribeTasks", arn);
	assert_string_equal(val(0, "aws:ResourceTag/job"), "nightly");
	assert_string_equal(val(0, "ecs:cluster"), ECS_ARN("cluster/prod"));
	expect_item(1, "ecs:DescribeTasks", ECS_ARN("task/prod/0123456789abcdef"));
	assert_null(val(1, "aws:ResourceTag/job"));
	assert_string_equal(val(1, "ecs:cluster"), ECS_ARN("cluster/prod"));
}

static void stop_task_by_arn(void **state)
{
	(void)state;
	char body[512], arn[256];
	snprintf(arn, sizeof arn, ECS_ARN("task/prod/%s"), task_id);
	snprintf(body, sizeof body, "{\"cluster\":\"prod\",\"task\":\"%s\"}", arn);
	map(AUTHZ_ECS, "StopTask", body);
	assert_int_equal(l.n, 1);
	expect_item(0, "ecs:StopTask", arn);
	assert_string_equal(val(0, "ecs:ResourceTag/job"), "nightly");
}

static void list_tasks_scopes(void **state)
{
	(void)state;
	map(AUTHZ_ECS, "ListTasks", "{\"cluster\":\"prod\"}");
	expect_item(0, "ecs:ListTasks", "*");
	assert_string_equal(val(0, "ecs:cluster"), ECS_ARN("cluster/prod"));
	char body[256], ci[256];
	snprintf(body, sizeof body, "{\"cluster\":\"prod\",\"containerInstance\":\"%s\"}", ci_id);
	snprintf(ci, sizeof ci, ECS_ARN("container-instance/prod/%s"), ci_id);
	map(AUTHZ_ECS, "ListTasks", body);
	expect_item(0, "ecs:ListTasks", ci);
	assert_string_equal(val(0, "aws:ResourceTag/role"), "worker");
	assert_string_equal(val(0, "ecs:cluster"), ECS_ARN("cluster/prod"));
}

static void list_services_and_instances(void **state)
{
	(void)state;
	map(AUTHZ_ECS, "ListServices", "{}");
	expect_item(0, "ecs:ListServices", "*");
	assert_string_equal(val(0, "ecs:cluster"), ECS_ARN("cluster/default"));
	map(AUTHZ_ECS, "ListContainerInstances", "{\"cluster\":\"prod\"}");
	expect_item(0, "ecs:ListContainerInstances", ECS_ARN("cluster/prod"));
	assert_string_equal(val(0, "aws:ResourceTag/env"), "prod");
}

static void describe_services_tagged(void **state)
{
	(void)state;
	map(AUTHZ_ECS, "DescribeServices", "{\"cluster\":\"prod\",\"services\":[\"api\",\"gone\"]}");
	assert_int_equal(l.n, 2);
	expect_item(0, "ecs:DescribeServices", ECS_ARN("service/prod/api"));
	assert_string_equal(val(0, "aws:ResourceTag/team"), "blue");
	assert_string_equal(val(0, "ecs:cluster"), ECS_ARN("cluster/prod"));
	expect_item(1, "ecs:DescribeServices", ECS_ARN("service/prod/gone"));
}

static void create_and_update_service_keys(void **state)
{
	(void)state;
	map(AUTHZ_ECS, "CreateService",
	    "{\"cluster\":\"prod\",\"serviceName\":\"s2\",\"taskDefinition\":\"web\",\"desiredCount\":1,"
	    "\"networkConfiguration\":{\"awsvpcConfiguration\":{\"subnets\":[\"subnet-1\",\"subnet-2\"],"
	    "\"assignPublicIp\":\"ENABLED\"}},\"tags\":[{\"key\":\"team\",\"value\":\"red\"}]}");
	assert_int_equal(l.n, 2);
	expect_item(0, "ecs:CreateService", ECS_ARN("service/prod/s2"));
	assert_string_equal(val(0, "ecs:cluster"), ECS_ARN("cluster/prod"));
	assert_string_equal(val(0, "ecs:task-definition"), ECS_ARN("task-definition/web:1"));
	assert_string_equal(val(0, "aws:RequestTag/team"), "red");
	assert_int_equal(count(0, "ecs:subnet"), 2);
	assert_string_equal(val(0, "ecs:auto-assign-public-ip"), "true");
	assert_string_equal(val(0, "ecs:enable-execute-command"), "false");
	expect_item(1, "ecs:TagResource", ECS_ARN("service/prod/s2"));
	assert_string_equal(val(1, "ecs:CreateAction"), "CreateService");

	map(AUTHZ_ECS, "UpdateService", "{\"cluster\":\"prod\",\"service\":\"api\",\"taskDefinition\":\"web:1\"}");
	assert_int_equal(l.n, 1);
	expect_item(0, "ecs:UpdateService", ECS_ARN("service/prod/api"));
	assert_string_equal(val(0, "aws:ResourceTag/team"), "blue");
	assert_string_equal(val(0, "ecs:task-definition"), ECS_ARN("task-definition/web:1"));
	assert_null(val(0, "ecs:enable-execute-command"));
}

static void tag_and_untag_resource(void **state)
{
	(void)state;
	map(AUTHZ_ECS, "TagResource",
	    "{\"resourceArn\":\"" ECS_ARN("service/prod/api") "\",\"tags\":[{\"key\":\"k\",\"value\":\"v\"}]}");
	assert_int_equal(l.n, 1);
	expect_item(0, "ecs:TagResource", ECS_ARN("service/prod/api"));
	assert_string_equal(val(0, "aws:ResourceTag/team"), "blue");
	assert_string_equal(val(0, "aws:RequestTag/k"), "v");
	assert_string_equal(val(0, "aws:TagKeys"), "k");

	map(AUTHZ_ECS, "UntagResource",
	    "{\"resourceArn\":\"" ECS_ARN("task-definition/web:1") "\",\"tagKeys\":[\"app\",\"zz\"]}");
	expect_item(0, "ecs:UntagResource", ECS_ARN("task-definition/web:1"));
	assert_string_equal(val(0, "aws:ResourceTag/app"), "web");
	assert_int_equal(count(0, "aws:TagKeys"), 2);
	assert_null(val(0, "aws:RequestTag/app"));

	map(AUTHZ_ECS, "ListTagsForResource", "{\"resourceArn\":\"" ECS_ARN("capacity-provider/cp1") "\"}");
	expect_item(0, "ecs:ListTagsForResource", ECS_ARN("capacity-provider/cp1"));
	assert_string_equal(val(0, "aws:ResourceTag/tier"), "gold");
}

static void put_attributes_per_target(void **state)
{
	(void)state;
	char body[1024], ci[256];
	snprintf(ci, sizeof ci, ECS_ARN("container-instance/prod/%s"), ci_id);
	snprintf(body, sizeof body,
		 "{\"cluster\":\"prod\",\"attributes\":[{\"name\":\"a\",\"targetId\":\"%s\"},"
		 "{\"name\":\"b\",\"targetId\":\"%s\"}]}",
		 ci, ci);
	map(AUTHZ_ECS, "PutAttributes", body);
	assert_int_equal(l.n, 1);
	expect_item(0, "ecs:PutAttributes", ci);
	assert_int_equal(count(0, "aws:ResourceTag/role"), 1);
	assert_string_equal(val(0, "ecs:cluster"), ECS_ARN("cluster/prod"));
}

static void capacity_providers(void **state)
{
	(void)state;
	map(AUTHZ_ECS, "DescribeCapacityProviders", "{\"capacityProviders\":[\"cp1\",\"FARGATE\"]}");
	assert_int_equal(l.n, 2);
	expect_item(0, "ecs:DescribeCapacityProviders", ECS_ARN("capacity-provider/cp1"));
	assert_string_equal(val(0, "ecs:ResourceTag/tier"), "gold");
	expect_item(1, "ecs:DescribeCapacityProviders", ECS_ARN("capacity-provider/FARGATE"));
	map(AUTHZ_ECS, "DescribeCapacityProviders", "{}");
	expect_item(0, "ecs:DescribeCapacityProviders", "*");
	map(AUTHZ_ECS, "PutClusterCapacityProviders",
	    "{\"cluster\":\"prod\",\"capacityProviders\":[\"cp1\"],\"defaultCapacityProviderStrategy\":[]}");
	expect_item(0, "ecs:PutClusterCapacityProviders", ECS_ARN("cluster/prod"));
	assert_string_equal(val(0, "ecs:capacity-provider"), ECS_ARN("capacity-provider/cp1"));
}

static void register_and_delete_task_definitions(void **state)
{
	(void)state;
	map(AUTHZ_ECS, "RegisterTaskDefinition",
	    "{\"family\":\"web\",\"requiresCompatibilities\":[\"FARGATE\"],\"cpu\":\"1 vCPU\",\"memory\":\"2048\","
	    "\"containerDefinitions\":[{\"name\":\"a\",\"image\":\"x\"}]}");
	assert_int_equal(l.n, 1);
	expect_item(0, "ecs:RegisterTaskDefinition", ECS_ARN("task-definition/web:2"));
	assert_string_equal(val(0, "ecs:compute-compatibility"), "FARGATE");
	assert_string_equal(val(0, "ecs:task-cpu"), "1024");
	assert_string_equal(val(0, "ecs:task-memory"), "2048");
	assert_string_equal(val(0, "ecs:privileged"), "false");

	map(AUTHZ_ECS, "DeleteTaskDefinitions", "{\"taskDefinitions\":[\"web:1\",\"other:3\"]}");
	assert_int_equal(l.n, 2);
	expect_item(0, "ecs:DeleteTaskDefinitions", ECS_ARN("task-definition/web:1"));
	assert_string_equal(val(0, "aws:ResourceTag/app"), "web");
	expect_item(1, "ecs:DeleteTaskDefinitions", ECS_ARN("task-definition/other:3"));

	map(AUTHZ_ECS, "DescribeTaskDefinition", "{\"taskDefinition\":\"web:1\"}");
	expect_item(0, "ecs:DescribeTaskDefinition", "*");
}

static void namespace_and_agent_actions(void **state)
{
	(void)state;
	map(AUTHZ_ECS, "ListServicesByNamespace", "{\"namespace\":\"arn:aws:servicediscovery:us-east-1:"
						  ACCT ":namespace/ns-1\"}");
	expect_item(0, "ecs:ListServicesByNamespace", "*");
	assert_string_equal(val(0, "ecs:namespace"), "arn:aws:servicediscovery:us-east-1:" ACCT ":namespace/ns-1");
	map(AUTHZ_ECS, "SubmitTaskStateChange", "{\"cluster\":\"prod\",\"task\":\"x\",\"status\":\"RUNNING\"}");
	expect_item(0, "ecs:SubmitTaskStateChange", ECS_ARN("cluster/prod"));
	map(AUTHZ_ECS, "DiscoverPollEndpoint", "{\"cluster\":\"prod\"}");
	expect_item(0, "ecs:DiscoverPollEndpoint", "*");
	char body[256], ci[256];
	snprintf(body, sizeof body, "{\"cluster\":\"prod\",\"containerInstance\":\"%s\"}", ci_id);
	snprintf(ci, sizeof ci, ECS_ARN("container-instance/prod/%s"), ci_id);
	map(AUTHZ_ECS, "Poll", body);
	expect_item(0, "ecs:Poll", ci);
	assert_string_equal(val(0, "ecs:cluster"), ECS_ARN("cluster/prod"));
	map(AUTHZ_BERTH, "AgentPoll", body);
	expect_item(0, "ecs:Poll", ci);
}

/* ---- Auto Scaling ---- */

static void as_group_operations(void **state)
{
	(void)state;
	map(AUTHZ_AUTOSCALING, "UpdateAutoScalingGroup", "{\"AutoScalingGroupName\":\"asg\",\"MinSize\":1,\"MaxSize\":5}");
	assert_int_equal(l.n, 1);
	expect_item(0, "autoscaling:UpdateAutoScalingGroup", group_arn);
	assert_string_equal(val(0, "autoscaling:ResourceTag/owner"), "ops");
	assert_string_equal(val(0, "aws:ResourceTag/owner"), "ops");
	assert_string_equal(val(0, "autoscaling:MinSize"), "1");
	assert_string_equal(val(0, "autoscaling:MaxSize"), "5");

	map(AUTHZ_AUTOSCALING, "DeleteAutoScalingGroup", "{\"AutoScalingGroupName\":\"asg\",\"ForceDelete\":true}");
	expect_item(0, "autoscaling:DeleteAutoScalingGroup", group_arn);
	assert_string_equal(val(0, "autoscaling:ForceDelete"), "true");

	char body[128];
	snprintf(body, sizeof body, "{\"InstanceId\":\"%s\",\"ShouldDecrementDesiredCapacity\":false}", inst_id);
	map(AUTHZ_AUTOSCALING, "TerminateInstanceInAutoScalingGroup", body);
	expect_item(0, "autoscaling:TerminateInstanceInAutoScalingGroup", group_arn);
	assert_string_equal(val(0, "autoscaling:ResourceTag/owner"), "ops");
}

static void as_create_group_with_tags(void **state)
{
	(void)state;
	map(AUTHZ_AUTOSCALING, "CreateAutoScalingGroup",
	    "{\"AutoScalingGroupName\":\"g2\",\"LaunchConfigurationName\":\"lc\",\"MinSize\":0,\"MaxSize\":2,"
	    "\"VPCZoneIdentifier\":\"subnet-a, subnet-b\",\"Tags\":[{\"Key\":\"cost\",\"Value\":\"42\"}]}");
	assert_int_equal(l.n, 2);
	expect_item(0, "autoscaling:CreateAutoScalingGroup",
		    "arn:aws:autoscaling:us-east-1:" ACCT ":autoScalingGroup:*:autoScalingGroupName/g2");
	assert_string_equal(val(0, "aws:RequestTag/cost"), "42");
	assert_string_equal(val(0, "aws:TagKeys"), "cost");
	assert_string_equal(val(0, "autoscaling:LaunchConfigurationName"), "lc");
	assert_true(has_value(0, "autoscaling:VPCZoneIdentifiers", "subnet-a"));
	assert_true(has_value(0, "autoscaling:VPCZoneIdentifiers", "subnet-b"));
	expect_item(1, "autoscaling:CreateOrUpdateTags",
		    "arn:aws:autoscaling:us-east-1:" ACCT ":autoScalingGroup:*:autoScalingGroupName/g2");
}

static void as_describe_and_launch_configurations(void **state)
{
	(void)state;
	map(AUTHZ_AUTOSCALING, "DescribeAutoScalingGroups", "{\"AutoScalingGroupNames\":[\"asg\"]}");
	assert_int_equal(l.n, 1);
	expect_item(0, "autoscaling:DescribeAutoScalingGroups", "*");
	map(AUTHZ_AUTOSCALING, "DeleteLaunchConfiguration", "{\"LaunchConfigurationName\":\"lc\"}");
	expect_item(0, "autoscaling:DeleteLaunchConfiguration", lc_arn);
	map(AUTHZ_AUTOSCALING, "CreateLaunchConfiguration",
	    "{\"LaunchConfigurationName\":\"lc2\",\"ImageId\":\"ami-9\",\"InstanceType\":\"t3.micro\"}");
	expect_item(0, "autoscaling:CreateLaunchConfiguration",
		    "arn:aws:autoscaling:us-east-1:" ACCT ":launchConfiguration:*:launchConfigurationName/lc2");
	assert_string_equal(val(0, "autoscaling:ImageId"), "ami-9");
	assert_string_equal(val(0, "autoscaling:InstanceType"), "t3.micro");
}

/* ---- IAM, extensions, the rest ---- */

static void iam_users(void **state)
{
	(void)state;
	map(AUTHZ_IAM, "GetUser", "{\"UserName\":\"alice\"}");
	expect_item(0, "iam:GetUser", "arn:aws:iam::" ACCT ":user/eng/alice");
	map_user(AUTHZ_IAM, "ListAccessKeys", "{}", "bob");
	expect_item(0, "iam:ListAccessKeys", "arn:aws:iam::" ACCT ":user/bob");
	map(AUTHZ_IAM, "GetUser", "{}");
	expect_item(0, "iam:GetUser", "arn:aws:iam::" ACCT ":root");
	map(AUTHZ_IAM, "CreateUser", "{\"UserName\":\"carol\",\"Path\":\"/ops/\"}");
	expect_item(0, "iam:CreateUser", "arn:aws:iam::" ACCT ":user/ops/carol");
	map(AUTHZ_IAM, "PutUserPolicy",
	    "{\"UserName\":\"dave\",\"PolicyName\":\"p\",\"PolicyDocument\":\"{}\"}");
	expect_item(0, "iam:PutUserPolicy", "arn:aws:iam::" ACCT ":user/dave");
	map(AUTHZ_IAM, "ListUsers", "{}");
	expect_item(0, "iam:ListUsers", "*");
}

static void extensions_and_unknown_operations(void **state)
{
	(void)state;
	map(AUTHZ_BERTH, "AdvanceClock", "{\"seconds\":5}");
	assert_int_equal(l.n, 1);
	expect_item(0, "berth:AdvanceClock", "*");
	map(AUTHZ_ECS, "Frobnicate", "{}");
	expect_item(0, "ecs:Frobnicate", "*");
	map(AUTHZ_AUTOSCALING, "PutScalingPolicy", "{\"AutoScalingGroupName\":\"asg\"}");
	expect_item(0, "autoscaling:PutScalingPolicy", "*");
}

static void lists_append_and_outlive_the_body(void **state)
{
	(void)state;
	authz_list_release(&l);
	struct api_ctx ctx = ctx_of();
	cJSON *a = cJSON_Parse("{\"cluster\":\"prod\"}"), *b = cJSON_Parse("{\"clusters\":[\"x\",\"y\"]}");
	authz_requests(&ctx, AUTHZ_ECS, "DeleteCluster", a, NULL, &l);
	authz_requests(&ctx, AUTHZ_ECS, "DescribeClusters", b, NULL, &l);
	cJSON_Delete(a);
	cJSON_Delete(b);
	assert_int_equal(l.n, 3);
	expect_item(0, "ecs:DeleteCluster", ECS_ARN("cluster/prod"));
	assert_string_equal(val(0, "aws:ResourceTag/env"), "prod");
	expect_item(2, "ecs:DescribeClusters", ECS_ARN("cluster/y"));
	assert_int_equal(l.items[2].ctx_off + l.items[2].n_ctx, l.n_kv);
	authz_list_release(&l);
	assert_int_equal(l.n, 0);
	assert_null(l.items);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_ecs_action_mapped),
		cmocka_unit_test(every_as_action_mapped),
		cmocka_unit_test(agent_and_iam_actions_mapped),
		cmocka_unit_test(list_clusters_is_star),
		cmocka_unit_test(delete_cluster_has_resource_tags),
		cmocka_unit_test(describe_clusters_one_item_each),
		cmocka_unit_test(describe_clusters_defaults_to_default),
		cmocka_unit_test(create_cluster_request_tags),
		cmocka_unit_test(create_cluster_untagged_default),
		cmocka_unit_test(run_task_authorizes_the_task_definition),
		cmocka_unit_test(run_task_unknown_family_default_cluster),
		cmocka_unit_test(start_task_names_container_instances),
		cmocka_unit_test(describe_tasks_batch),
		cmocka_unit_test(stop_task_by_arn),
		cmocka_unit_test(list_tasks_scopes),
		cmocka_unit_test(list_services_and_instances),
		cmocka_unit_test(describe_services_tagged),
		cmocka_unit_test(create_and_update_service_keys),
		cmocka_unit_test(tag_and_untag_resource),
		cmocka_unit_test(put_attributes_per_target),
		cmocka_unit_test(capacity_providers),
		cmocka_unit_test(register_and_delete_task_definitions),
		cmocka_unit_test(namespace_and_agent_actions),
		cmocka_unit_test(as_group_operations),
		cmocka_unit_test(as_create_group_with_tags),
		cmocka_unit_test(as_describe_and_launch_configurations),
		cmocka_unit_test(iam_users),
		cmocka_unit_test(extensions_and_unknown_operations),
		cmocka_unit_test(lists_append_and_outlive_the_body),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
