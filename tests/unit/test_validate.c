/* test_validate: the request validator against the real generated ECS and
 * Auto Scaling models, so a regenerated model that changes a rule a handler
 * relies on shows up here. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/errors.h"
#include "api/validate.h"

/* Validate json as the body of op in m; e gets the error, if any. */
static int run(const struct vmodel *m, const char *op, const char *json,
	       struct err *e)
{
	const struct vop *o = validate_find_op(m, op);
	if (!o)
		fail_msg("no operation %s", op);
	cJSON *body = cJSON_Parse(json);
	if (!body)
		fail_msg("test JSON does not parse: %s", json);
	err_clear(e);
	int rc = validate_input(o, body, e);
	cJSON_Delete(body);
	return rc;
}

static void expect_ok(const struct vmodel *m, const char *op, const char *json)
{
	struct err e;
	if (run(m, op, json, &e) != 0)
		fail_msg("%s %s: unexpected error %d: %s", op, json, e.code, e.msg);
}

/* Expect error code with a message containing needle; returns the message
 * for closer checks. */
static void expect_err(const struct vmodel *m, const char *op,
		       const char *json, int code, const char *needle,
		       struct err *e)
{
	if (run(m, op, json, e) != -1)
		fail_msg("%s %s: accepted", op, json);
	if (e->code != code || !strstr(e->msg, needle))
		fail_msg("%s %s: got %s \"%s\", want %s containing \"%s\"", op,
			 json, api_error_type(e->code), e->msg,
			 api_error_type(code), needle);
}

/* A JSON string literal of n copies of c. */
static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 3);
	assert_non_null(s);
	s[0] = '"';
	memset(s + 1, c, n);
	s[n + 1] = '"';
	s[n + 2] = '\0';
	return s;
}

static void test_find_op(void **state)
{
	(void)state;
	const struct vop *o = validate_find_op(&validate_model_ecs, "CreateCluster");
	assert_non_null(o);
	assert_string_equal(o->name, "CreateCluster");
	assert_ptr_equal(o->model, &validate_model_ecs);
	assert_non_null(validate_find_op(&validate_model_ecs, "ContinueServiceDeployment"));
	assert_non_null(validate_find_op(&validate_model_ecs, "UpdateTaskSet"));
	assert_null(validate_find_op(&validate_model_ecs, "CreateWidget"));
	assert_null(validate_find_op(&validate_model_ecs, "createCluster"));
	assert_null(validate_find_op(&validate_model_ecs, ""));
	assert_null(validate_find_op(&validate_model_autoscaling, "CreateCluster"));
	/* The op table must be sorted for the binary search. */
	for (size_t i = 1; i < validate_model_ecs.nops; i++)
		assert_true(strcmp(validate_model_ecs.ops[i - 1].name,
				   validate_model_ecs.ops[i].name) < 0);
	for (size_t i = 0; i < validate_model_ecs.nops; i++)
		assert_ptr_equal(validate_find_op(&validate_model_ecs,
						  validate_model_ecs.ops[i].name),
				 &validate_model_ecs.ops[i]);
}

static void test_create_cluster(void **state)
{
	(void)state;
	struct err e;
	expect_ok(&validate_model_ecs, "CreateCluster", "{}");
	expect_ok(&validate_model_ecs, "CreateCluster",
		  "{\"clusterName\":\"a\",\"tags\":[{\"key\":\"k\",\"value\":\"\"}],"
		  "\"settings\":[{\"name\":\"containerInsights\",\"value\":\"enabled\"}],"
		  "\"somethingNew\":[1,2,{\"x\":null}]}");
	expect_err(&validate_model_ecs, "CreateCluster", "{\"clusterName\":5}",
		   ERR_SERIALIZATION, "'clusterName': expected a string", &e);
	expect_err(&validate_model_ecs, "CreateCluster", "[]",
		   ERR_SERIALIZATION, "JSON object", &e);
	expect_err(&validate_model_ecs, "CreateCluster", "\"x\"",
		   ERR_SERIALIZATION, "JSON object", &e);
	expect_err(&validate_model_ecs, "CreateCluster",
		   "{\"settings\":[{\"name\":\"containerInsights\"},{\"value\":7}]}",
		   ERR_SERIALIZATION, "'settings[1].value'", &e);
	expect_err(&validate_model_ecs, "CreateCluster",
		   "{\"settings\":[{\"name\":\"nope\"}]}",
		   ERR_INVALID_PARAMETER, "Invalid value 'nope' for member 'settings[0].name'", &e);
	expect_err(&validate_model_ecs, "CreateCluster", "{\"tags\":{}}",
		   ERR_SERIALIZATION, "'tags': expected a list", &e);
	expect_err(&validate_model_ecs, "CreateCluster", "{\"tags\":[null]}",
		   ERR_SERIALIZATION, "'tags[0]'", &e);
}

static void test_enum(void **state)
{
	(void)state;
	struct err e;
	expect_ok(&validate_model_ecs, "DescribeClusters", "{\"include\":[\"TAGS\"]}");
	expect_ok(&validate_model_ecs, "DescribeClusters",
		  "{\"clusters\":[\"default\"],\"include\":[\"TAGS\",\"SETTINGS\",\"STATISTICS\"]}");
	expect_err(&validate_model_ecs, "DescribeClusters",
		   "{\"include\":[\"BOGUS\"]}", ERR_INVALID_PARAMETER,
		   "Invalid value 'BOGUS' for member 'include[0]'. Valid values: ", &e);
	assert_non_null(strstr(e.msg, "ATTACHMENTS"));
	assert_non_null(strstr(e.msg, "TAGS"));
	/* Enums are case-sensitive. */
	expect_err(&validate_model_ecs, "DescribeClusters",
		   "{\"include\":[\"TAGS\",\"tags\"]}", ERR_INVALID_PARAMETER,
		   "'include[1]'", &e);
	/* A type error anywhere beats a constraint error earlier. */
	expect_err(&validate_model_ecs, "DescribeClusters",
		   "{\"include\":[\"BOGUS\"],\"clusters\":[1]}",
		   ERR_SERIALIZATION, "'clusters[0]'", &e);
}

static void test_required_and_ranges(void **state)
{
	(void)state;
	struct err e;
	const char *op = "PutClusterCapacityProviders";
	expect_ok(&validate_model_ecs, op,
		  "{\"cluster\":\"c\",\"capacityProviders\":[\"FARGATE\"],"
		  "\"defaultCapacityProviderStrategy\":[{\"capacityProvider\":\"FARGATE\","
		  "\"weight\":1000,\"base\":100000}]}");
	expect_ok(&validate_model_ecs, op,
		  "{\"cluster\":\"c\",\"capacityProviders\":[],"
		  "\"defaultCapacityProviderStrategy\":[{\"capacityProvider\":\"F\","
		  "\"weight\":0,\"base\":0}]}");
	expect_err(&validate_model_ecs, op,
		   "{\"cluster\":\"c\",\"capacityProviders\":[]}",
		   ERR_INVALID_PARAMETER,
		   "Missing required parameter: 'defaultCapacityProviderStrategy'.", &e);
	/* null is absent, so it is missing too. */
	expect_err(&validate_model_ecs, op,
		   "{\"cluster\":\"c\",\"capacityProviders\":[],"
		   "\"defaultCapacityProviderStrategy\":null}",
		   ERR_INVALID_PARAMETER, "'defaultCapacityProviderStrategy'", &e);
	expect_err(&validate_model_ecs, op,
		   "{\"cluster\":\"c\",\"capacityProviders\":[],"
		   "\"defaultCapacityProviderStrategy\":[{\"weight\":1}]}",
		   ERR_INVALID_PARAMETER,
		   "Missing required parameter: 'defaultCapacityProviderStrategy[0].capacityProvider'.",
		   &e);
	expect_err(&validate_model_ecs, op,
		   "{\"cluster\":\"c\",\"capacityProviders\":[],"
		   "\"defaultCapacityProviderStrategy\":[{\"capacityProvider\":\"F\",\"weight\":1001}]}",
		   ERR_INVALID_PARAMETER, "", &e);
	assert_string_equal(e.msg,
			    "Value 1001 for member 'defaultCapacityProviderStrategy[0].weight' "
			    "is out of range: valid range is 0-1000.");
	expect_err(&validate_model_ecs, op,
		   "{\"cluster\":\"c\",\"capacityProviders\":[],"
		   "\"defaultCapacityProviderStrategy\":[{\"capacityProvider\":\"F\",\"base\":-1}]}",
		   ERR_INVALID_PARAMETER,
		   "Value -1 for member 'defaultCapacityProviderStrategy[0].base' is out of range: "
		   "valid range is 0-100000.", &e);
	expect_err(&validate_model_ecs, op,
		   "{\"cluster\":\"c\",\"capacityProviders\":[],"
		   "\"defaultCapacityProviderStrategy\":[{\"capacityProvider\":\"F\",\"weight\":1.5}]}",
		   ERR_SERIALIZATION,
		   "'defaultCapacityProviderStrategy[0].weight': expected an integer", &e);
	expect_err(&validate_model_ecs, op,
		   "{\"cluster\":\"c\",\"capacityProviders\":[],"
		   "\"defaultCapacityProviderStrategy\":[{\"capacityProvider\":\"F\",\"weight\":\"1\"}]}",
		   ERR_SERIALIZATION, "expected an integer", &e);
	expect_err(&validate_model_ecs, op,
		   "{\"cluster\":\"c\",\"capacityProviders\":[],"
		   "\"defaultCapacityProviderStrategy\":[{\"capacityProvider\":\"F\",\"base\":2147483648}]}",
		   ERR_SERIALIZATION, "expected an integer", &e);
	expect_err(&validate_model_ecs, op,
		   "{\"cluster\":\"c\",\"capacityProviders\":[],"
		   "\"defaultCapacityProviderStrategy\":[{\"capacityProvider\":\"F\",\"base\":1e999}]}",
		   ERR_SERIALIZATION, "expected an integer", &e);
	/* 1.0 is the integer 1 once parsed: accepted. */
	expect_ok(&validate_model_ecs, op,
		  "{\"cluster\":\"c\",\"capacityProviders\":[],"
		  "\"defaultCapacityProviderStrategy\":[{\"capacityProvider\":\"F\",\"weight\":1.0}]}");
	/* Required members are reported before the structure's children. */
	expect_err(&validate_model_ecs, op,
		   "{\"capacityProviders\":[],"
		   "\"defaultCapacityProviderStrategy\":[{\"capacityProvider\":\"F\",\"weight\":5000}]}",
		   ERR_INVALID_PARAMETER, "Missing required parameter: 'cluster'.", &e);
}

static void test_lengths(void **state)
{
	(void)state;
	struct err e;
	char body[16384];
	char *k128 = repeat('k', 128), *k129 = repeat('k', 129);

	snprintf(body, sizeof body, "{\"tags\":[{\"key\":%s}]}", k128);
	expect_ok(&validate_model_ecs, "CreateCluster", body);
	snprintf(body, sizeof body, "{\"tags\":[{\"key\":\"a\"},{\"key\":%s}]}", k129);
	expect_err(&validate_model_ecs, "CreateCluster", body, ERR_INVALID_PARAMETER,
		   "Invalid length for member 'tags[1].key': 129 characters, "
		   "valid length is 1-128.", &e);
	expect_err(&validate_model_ecs, "CreateCluster", "{\"tags\":[{\"key\":\"\"}]}",
		   ERR_INVALID_PARAMETER, "'tags[0].key'", &e);

	/* Length counts characters, not bytes: 128 three-byte characters. */
	size_t n = 0;
	n += (size_t)snprintf(body, sizeof body, "{\"tags\":[{\"key\":\"");
	for (int i = 0; i < 128; i++)
		n += (size_t)snprintf(body + n, sizeof body - n, "\xe2\x82\xac");
	snprintf(body + n, sizeof body - n, "\"}]}");
	expect_ok(&validate_model_ecs, "CreateCluster", body);

	/* Tags: at most 50. */
	n = (size_t)snprintf(body, sizeof body, "{\"tags\":[");
	for (int i = 0; i < 51; i++)
		n += (size_t)snprintf(body + n, sizeof body - n, "%s{\"key\":\"k%d\"}",
				      i ? "," : "", i);
	snprintf(body + n, sizeof body - n, "]}");
	expect_err(&validate_model_ecs, "CreateCluster", body, ERR_INVALID_PARAMETER,
		   "Invalid length for member 'tags': 51 items, valid length is 0-50.", &e);
	free(k128);
	free(k129);
}

static void test_long_and_timestamp(void **state)
{
	(void)state;
	struct err e;
	const char *op = "RegisterContainerInstance";
	char body[256];
	const char *ok[] = {"0", "-9007199254740991", "9007199254740991", "4096"};
	for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
		snprintf(body, sizeof body,
			 "{\"totalResources\":[{\"name\":\"CPU\",\"longValue\":%s}]}", ok[i]);
		expect_ok(&validate_model_ecs, op, body);
	}
	/* 2^53 + 1 parses as 2^53: precision is gone, so it is refused. */
	const char *bad[] = {"9007199254740993", "-9007199254740992", "1e300", "0.5", "\"1\""};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		snprintf(body, sizeof body,
			 "{\"totalResources\":[{\"name\":\"CPU\",\"longValue\":%s}]}", bad[i]);
		expect_err(&validate_model_ecs, op, body, ERR_SERIALIZATION,
			   "'totalResources[0].longValue': expected a long integer", &e);
	}
	expect_ok(&validate_model_ecs, "SubmitTaskStateChange",
		  "{\"pullStartedAt\":1700000000.25,\"pullStoppedAt\":\"2023-11-14T22:13:20Z\"}");
	expect_err(&validate_model_ecs, "SubmitTaskStateChange", "{\"pullStartedAt\":true}",
		   ERR_SERIALIZATION, "'pullStartedAt': expected a timestamp", &e);
}

static void test_null_is_absent(void **state)
{
	(void)state;
	struct err e;
	expect_ok(&validate_model_ecs, "CreateCluster",
		  "{\"clusterName\":null,\"tags\":null,\"settings\":null}");
	expect_ok(&validate_model_ecs, "DescribeClusters", "{\"include\":null}");
	expect_ok(&validate_model_ecs, "PutClusterCapacityProviders",
		  "{\"cluster\":\"c\",\"capacityProviders\":[],"
		  "\"defaultCapacityProviderStrategy\":[{\"capacityProvider\":\"F\","
		  "\"weight\":null,\"base\":null}]}");
	expect_err(&validate_model_ecs, "DescribeClusters", "{\"include\":[null]}",
		   ERR_SERIALIZATION, "'include[0]'", &e);
}

static void test_map(void **state)
{
	(void)state;
	struct err e;
	const char *pre = "{\"family\":\"f\",\"containerDefinitions\":[{\"name\":\"c\","
			  "\"image\":\"i\",\"dockerLabels\":";
	char body[512];
	snprintf(body, sizeof body, "%s{\"a\":\"1\",\"b\":\"2\"}}]}", pre);
	expect_ok(&validate_model_ecs, "RegisterTaskDefinition", body);
	snprintf(body, sizeof body, "%s{\"a\":\"1\",\"com.example\":2}}]}", pre);
	expect_err(&validate_model_ecs, "RegisterTaskDefinition", body, ERR_SERIALIZATION,
		   "'containerDefinitions[0].dockerLabels.com.example': expected a string", &e);
	snprintf(body, sizeof body, "%s[]}]}", pre);
	expect_err(&validate_model_ecs, "RegisterTaskDefinition", body, ERR_SERIALIZATION,
		   "'containerDefinitions[0].dockerLabels': expected a map", &e);
	snprintf(body, sizeof body, "%s{\"a\":null}}]}", pre);
	expect_err(&validate_model_ecs, "RegisterTaskDefinition", body, ERR_SERIALIZATION,
		   "'containerDefinitions[0].dockerLabels.a'", &e);
	/* Booleans and integers deeper down. */
	expect_err(&validate_model_ecs, "RegisterTaskDefinition",
		   "{\"family\":\"f\",\"containerDefinitions\":[{\"name\":\"c\","
		   "\"essential\":\"true\"}]}",
		   ERR_SERIALIZATION, "'containerDefinitions[0].essential': expected a boolean", &e);
	expect_err(&validate_model_ecs, "RegisterTaskDefinition",
		   "{\"containerDefinitions\":[]}",
		   ERR_INVALID_PARAMETER, "Missing required parameter: 'family'.", &e);
}

/* An array nested depth deep, built without the parser (cJSON refuses more
 * than 1000 levels), and freed without recursion. */
static cJSON *nest(int depth)
{
	cJSON *v = cJSON_CreateArray();
	for (int i = 1; i < depth; i++) {
		cJSON *outer = cJSON_CreateArray();
		cJSON_AddItemToArray(outer, v);
		v = outer;
	}
	return v;
}

static void unnest(cJSON *v)
{
	while (v) {
		cJSON *inner = v->child;
		v->child = NULL;
		cJSON_Delete(v);
		v = inner;
	}
}

static void test_depth(void **state)
{
	(void)state;
	struct err e;
	const struct vop *create = validate_find_op(&validate_model_ecs, "CreateCluster");
	const struct vop *service = validate_find_op(&validate_model_ecs, "CreateService");
	assert_non_null(create);
	assert_non_null(service);

	/* As the value of a string member, of an unknown member, and of a
	 * list's element. */
	const char *members[] = {"clusterName", "unknownMember", "tags"};
	for (size_t i = 0; i < sizeof members / sizeof *members; i++) {
		cJSON *body = cJSON_CreateObject();
		cJSON *bomb = nest(10000);
		cJSON_AddItemToObject(body, members[i], bomb);
		err_clear(&e);
		int rc = validate_input(create, body, &e);
		if (i == 1) {
			assert_int_equal(rc, 0);
		} else {
			assert_int_equal(rc, -1);
			assert_int_equal(e.code, ERR_SERIALIZATION);
		}
		cJSON_DetachItemViaPointer(body, bomb);
		unnest(bomb);
		cJSON_Delete(body);
	}

	/* A document member takes any JSON, but not any depth. */
	const char *ok = "{\"serviceName\":\"s\",\"deploymentConfiguration\":{\"lifecycleHooks\":"
			 "[{\"hookDetails\":{\"a\":[1,{\"b\":null}],\"c\":\"d\"}}]}}";
	expect_ok(&validate_model_ecs, "CreateService", ok);
	cJSON *body = cJSON_Parse(ok);
	assert_non_null(body);
	cJSON *hook = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(
		body, "deploymentConfiguration"), "lifecycleHooks"), 0);
	assert_non_null(hook);
	cJSON *bomb = nest(10000);
	cJSON_ReplaceItemInObject(hook, "hookDetails", bomb);
	err_clear(&e);
	assert_int_equal(validate_input(service, body, &e), -1);
	assert_int_equal(e.code, ERR_SERIALIZATION);
	if (!strstr(e.msg, "deploymentConfiguration.lifecycleHooks[0].hookDetails"))
		fail_msg("%s", e.msg);
	cJSON_DetachItemViaPointer(hook, bomb);
	unnest(bomb);
	cJSON_Delete(body);

	/* A textual bomb the parser does accept. */
	char text[2048];
	size_t n = (size_t)snprintf(text, sizeof text, "{\"tags\":");
	for (int i = 0; i < 900; i++)
		text[n++] = '[';
	for (int i = 0; i < 900; i++)
		text[n++] = ']';
	memcpy(text + n, "}", 2);
	expect_err(&validate_model_ecs, "CreateCluster", text, ERR_SERIALIZATION,
		   "'tags[0]': expected an object", &e);
}

static void test_value_and_member(void **state)
{
	(void)state;
	struct err e;
	const struct vmodel *m = &validate_model_ecs;
	const struct vop *o = validate_find_op(m, "PutClusterCapacityProviders");
	const struct vmember *strategy =
		validate_find_member(m, o->input, "defaultCapacityProviderStrategy");
	assert_non_null(strategy);
	assert_string_equal(validate_member_name(m, strategy),
			    "defaultCapacityProviderStrategy");
	assert_int_equal(strategy->required, 1);
	assert_int_equal(m->shapes[strategy->shape].type, VT_LIST);
	assert_null(validate_find_member(m, o->input, "nope"));
	assert_null(validate_find_member(m, strategy->shape, "weight"));
	assert_null(validate_find_member(m, 60000, "weight"));

	unsigned item = m->shapes[strategy->shape].item;
	const struct vmember *weight = validate_find_member(m, item, "weight");
	assert_non_null(weight);
	cJSON *v = cJSON_CreateNumber(7);
	assert_int_equal(validate_value(m, weight->shape, v, &e), 0);
	cJSON_SetNumberValue(v, 7000);
	assert_int_equal(validate_value(m, weight->shape, v, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_PARAMETER);
	cJSON_Delete(v);
	v = cJSON_Parse("[{\"capacityProvider\":\"x\",\"base\":1}]");
	assert_int_equal(validate_value(m, strategy->shape, v, &e), 0);
	cJSON_Delete(v);
	v = cJSON_Parse("[{\"base\":1}]");
	assert_int_equal(validate_value(m, strategy->shape, v, &e), -1);
	assert_string_equal(e.msg, "Missing required parameter: '[0].capacityProvider'.");
	cJSON_Delete(v);
	assert_int_equal(validate_value(m, 60000, NULL, &e), -1);
}

static void test_autoscaling(void **state)
{
	(void)state;
	struct err e;
	const struct vmodel *m = &validate_model_autoscaling;
	expect_ok(m, "CreateAutoScalingGroup",
		  "{\"AutoScalingGroupName\":\"g\",\"MinSize\":0,\"MaxSize\":3}");
	expect_err(m, "CreateAutoScalingGroup", "{\"MinSize\":0,\"MaxSize\":3}",
		   ERR_INVALID_PARAMETER,
		   "Missing required parameter: 'AutoScalingGroupName'.", &e);
	expect_err(m, "CreateAutoScalingGroup",
		   "{\"AutoScalingGroupName\":\"\",\"MinSize\":0,\"MaxSize\":3}",
		   ERR_INVALID_PARAMETER, "'AutoScalingGroupName': 0 characters", &e);
	expect_err(m, "CreateAutoScalingGroup",
		   "{\"AutoScalingGroupName\":\"g\",\"MinSize\":\"0\",\"MaxSize\":3}",
		   ERR_SERIALIZATION, "'MinSize'", &e);
	expect_err(m, "CreateAutoScalingGroup",
		   "{\"AutoScalingGroupName\":\"g\",\"MinSize\":0,\"MaxSize\":3,"
		   "\"Tags\":[{\"Value\":\"v\"}]}",
		   ERR_INVALID_PARAMETER, "Missing required parameter: 'Tags[0].Key'.", &e);
	/* An operation with no input takes any object. */
	expect_ok(m, "DescribeAccountLimits", "{}");
	expect_ok(m, "DescribeAccountLimits", "{\"anything\":[1]}");
	expect_err(m, "DescribeAccountLimits", "[]", ERR_SERIALIZATION, "JSON object", &e);
}

/* The generated tables are consistent: indexes in range, members sorted
 * (find_member is a binary search), every op reachable by name. */
static void check_tables(const struct vmodel *m)
{
	for (size_t i = 0; i < m->nshapes; i++) {
		const struct vshape *s = &m->shapes[i];
		assert_true(s->type >= VT_STRUCTURE && s->type <= VT_DOCUMENT);
		if (s->type == VT_LIST || s->type == VT_MAP)
			assert_true(s->item < m->nshapes);
		if (s->type == VT_MAP)
			assert_true(s->value < m->nshapes);
		if (s->type != VT_STRUCTURE)
			continue;
		for (unsigned j = 0; j < s->count; j++) {
			const struct vmember *mem = &m->members[s->first + j];
			assert_true(mem->shape < m->nshapes);
			if (j > 0)
				assert_true(strcmp(validate_member_name(m, mem - 1),
						   validate_member_name(m, mem)) < 0);
			assert_ptr_equal(validate_find_member(m, (unsigned)i,
							      validate_member_name(m, mem)),
					 mem);
		}
	}
	for (size_t i = 0; i < m->nops; i++)
		assert_true(m->ops[i].input == VSHAPE_NONE ||
			    m->ops[i].input < m->nshapes);
}

/* Every top-level member of every operation, given each of a set of hostile
 * values: no crash, and always an answer of 0 or a filled error. */
static void check_hostile(const struct vmodel *m)
{
	static const char *values[] = {
		"null", "0", "-1", "1.5", "1e308", "-1e999", "\"\"", "\"x\"",
		"true", "[]", "{}", "[null]", "[1]", "[\"x\"]", "[{}]", "[[]]",
		"{\"a\":1}", "{\"a\":null}", "{\"a\":[]}",
	};
	for (size_t i = 0; i < m->nops; i++) {
		const struct vop *op = &m->ops[i];
		if (op->input == VSHAPE_NONE)
			continue;
		const struct vshape *s = &m->shapes[op->input];
		for (unsigned j = 0; j < s->count; j++) {
			const char *name = validate_member_name(m, &m->members[s->first + j]);
			for (size_t k = 0; k < sizeof values / sizeof *values; k++) {
				char body[512];
				struct err e;
				snprintf(body, sizeof body, "{\"%s\":%s}", name, values[k]);
				int rc = run(m, op->name, body, &e);
				assert_true(rc == 0 || (rc == -1 && e.msg[0] &&
					    (e.code == ERR_SERIALIZATION ||
					     e.code == ERR_INVALID_PARAMETER)));
			}
		}
	}
}

static void test_tables(void **state)
{
	(void)state;
	check_tables(&validate_model_ecs);
	check_tables(&validate_model_autoscaling);
	check_hostile(&validate_model_ecs);
	check_hostile(&validate_model_autoscaling);
}

static void test_utf8(void **state)
{
	(void)state;
#define U(s, ok) assert_int_equal(validate_utf8(s, sizeof(s) - 1), ok)
	U("", 1);
	U("plain ascii", 1);
	U("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3", 1);  /* e-acute, euro, whale */
	U("\xef\xbf\xbf\xf4\x8f\xbf\xbf", 1);               /* U+FFFF, U+10FFFF */
	U("\xed\x9f\xbf\xee\x80\x80", 1);                   /* U+D7FF, U+E000 */
	U("\xc0\xaf", 0);                                   /* overlong '/' */
	U("\xc1\xbf", 0);
	U("\xe0\x80\xaf", 0);                               /* overlong, 3 bytes */
	U("\xf0\x82\x82\xac", 0);                           /* overlong, 4 bytes */
	U("\xed\xa0\x80", 0);                               /* U+D800 */
	U("\xed\xbf\xbf", 0);                               /* U+DFFF */
	U("\xf4\x90\x80\x80", 0);                           /* U+110000 */
	U("\xf5\x80\x80\x80", 0);
	U("\xe2\x82", 0);                                   /* truncated */
	U("ab\xf0\x9f\x90", 0);
	U("\x80", 0);                                       /* lone continuation */
	U("\xc3\x28", 0);                                   /* bad continuation */
	U("\xff", 0);
#undef U
	/* n bounds the scan: a valid prefix of an invalid buffer. */
	assert_int_equal(validate_utf8("ok\xff", 2), 1);
	assert_int_equal(validate_utf8("\xe2\x82\xac", 2), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_op),
		cmocka_unit_test(test_create_cluster),
		cmocka_unit_test(test_enum),
		cmocka_unit_test(test_required_and_ranges),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_long_and_timestamp),
		cmocka_unit_test(test_null_is_absent),
		cmocka_unit_test(test_map),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_value_and_member),
		cmocka_unit_test(test_autoscaling),
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_utf8),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
