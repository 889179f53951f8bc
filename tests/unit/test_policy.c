/* test_policy: lib/policy.c against the IAM JSON policy reference: the ECS
 * developer guide's example policies as written, every condition operator
 * (with the key present, absent, and under IfExists / ForAnyValue: /
 * ForAllValues:), wildcards in actions and ARNs, NotAction and NotResource,
 * policy variables, the evaluation order across documents, and each
 * MalformedPolicyDocument message.
 *
 * Policies are written with ' for " so that they stay readable; jq() swaps
 * them back (tests that need a real ' build their JSON by hand). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/policy.h"

#define CTX(...)                                                                \
	(const struct policy_kv[]){__VA_ARGS__},                                \
	    sizeof((const struct policy_kv[]){__VA_ARGS__}) / sizeof(struct policy_kv)
#define NOCTX NULL, 0

#define ALLOW POLICY_ALLOW
#define DENY  POLICY_EXPLICIT_DENY
#define NONE  POLICY_IMPLICIT_DENY

static char *jq(const char *s)
{
	char *t = strdup(s);
	for (char *c = t; *c; c++)
		if (*c == '\'')
			*c = '"';
	return t;
}

static struct policy *parse_raw(const char *json)
{
	struct policy *p = NULL;
	struct err e = {0};
	if (policy_parse(json, strlen(json), &p, &e) != 0)
		fail_msg("refused %s: %s", json, e.msg);
	return p;
}

static struct policy *parse(const char *sq)
{
	char *j = jq(sq);
	struct policy *p = parse_raw(j);
	free(j);
	return p;
}

static enum policy_decision eval_one(const struct policy *p, const char *action, const char *resource,
                                     const struct policy_kv *ctx, size_t n)
{
	struct policy_request r = {action, resource, ctx, n};
	const struct policy *docs[1] = {p};
	return policy_eval(docs, 1, &r);
}

/* Parse sq, evaluate one request, free. */
static enum policy_decision decide(const char *sq, const char *action, const char *resource,
                                   const struct policy_kv *ctx, size_t n)
{
	struct policy *p = parse(sq);
	enum policy_decision d = eval_one(p, action, resource, ctx, n);
	policy_free(p);
	return d;
}

/* A one-statement Allow of everything under a condition block. */
static enum policy_decision cond(const char *condition_sq, const struct policy_kv *ctx, size_t n)
{
	char doc[2048];
	snprintf(doc, sizeof doc,
	         "{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'*','Resource':'*',"
	         "'Condition':%s}}",
	         condition_sq);
	return decide(doc, "ecs:RunTask", "*", ctx, n);
}

static void expect_raw(const char *json, size_t len, unsigned flags, const char *msg)
{
	struct policy *p = (struct policy *)0x1;
	struct err e = {0};
	assert_int_equal(policy_parse_flags(json, len, flags, &p, &e), -1);
	assert_ptr_equal(p, (struct policy *)0x1);
	assert_int_equal(e.code, POLICY_ERR_MALFORMED);
	if (strcmp(e.msg, msg) != 0)
		fail_msg("for %.*s\n  got  \"%s\"\n  want \"%s\"", (int)len, json, e.msg, msg);
}

static void expect_malformed(const char *sq, const char *msg)
{
	char *j = jq(sq);
	expect_raw(j, strlen(j), 0, msg);
	free(j);
}

#define SYNTAX "Syntax errors in policy."

/* ---- the ECS developer guide's examples ---- */

static const char ecs_cluster_policy[] =
    "{'Version':'2012-10-17','Statement':["
    "{'Effect':'Allow','Action':['ecs:Describe*','ecs:List*'],'Resource':'*'},"
    "{'Effect':'Allow','Action':['ecs:RunTask','ecs:StartTask','ecs:StopTask'],'Resource':'*',"
    "'Condition':{'ArnEquals':{'ecs:cluster':'arn:aws:ecs:us-east-1:123456789012:cluster/default'}}},"
    "{'Effect':'Allow','Action':['ecs:DescribeClusters','ecs:DeleteCluster'],"
    "'Resource':['arn:aws:ecs:us-east-1:123456789012:cluster/default']}]}";

#define DEFAULT_CLUSTER "arn:aws:ecs:us-east-1:123456789012:cluster/default"
#define OTHER_CLUSTER   "arn:aws:ecs:us-east-1:123456789012:cluster/other"

static void test_ecs_cluster_example(void **state)
{
	(void)state;
	struct policy *p = parse(ecs_cluster_policy);
	assert_int_equal(policy_statement_count(p), 3);
	assert_int_equal(eval_one(p, "ecs:DescribeClusters", "*", NOCTX), ALLOW);
	assert_int_equal(eval_one(p, "ecs:ListTasks", OTHER_CLUSTER, NOCTX), ALLOW);
	assert_int_equal(eval_one(p, "ecs:RunTask", "*", CTX({"ecs:cluster", DEFAULT_CLUSTER})), ALLOW);
	assert_int_equal(eval_one(p, "ecs:StopTask", "*", CTX({"ecs:cluster", OTHER_CLUSTER})), NONE);
	assert_int_equal(eval_one(p, "ecs:RunTask", "*", NOCTX), NONE);
	assert_int_equal(eval_one(p, "ecs:DeleteCluster", DEFAULT_CLUSTER, NOCTX), ALLOW);
	assert_int_equal(eval_one(p, "ecs:DeleteCluster", OTHER_CLUSTER, NOCTX), NONE);
	assert_int_equal(eval_one(p, "ecs:DeleteCluster", "*", NOCTX), NONE);
	assert_int_equal(eval_one(p, "ecs:CreateCluster", "*", NOCTX), NONE);
	policy_free(p);
}

static void test_ecs_task_definition_example(void **state)
{
	(void)state;
	/* "Run tasks": a task definition family with any revision, on one cluster. */
	struct policy *p = parse(
	    "{'Version':'2012-10-17','Statement':[{'Effect':'Allow','Action':['ecs:RunTask'],"
	    "'Condition':{'ArnEquals':{'ecs:cluster':'arn:aws:ecs:us-east-1:123456789012:cluster/default'}},"
	    "'Resource':['arn:aws:ecs:us-east-1:123456789012:task-definition/web:*']}]}");
	const char *td = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:7";
	assert_int_equal(eval_one(p, "ecs:RunTask", td, CTX({"ecs:cluster", DEFAULT_CLUSTER})), ALLOW);
	assert_int_equal(eval_one(p, "ecs:RunTask", "arn:aws:ecs:us-east-1:123456789012:task-definition/db:7",
	                          CTX({"ecs:cluster", DEFAULT_CLUSTER})),
	                 NONE);
	assert_int_equal(eval_one(p, "ecs:RunTask", td, CTX({"ecs:cluster", OTHER_CLUSTER})), NONE);
	policy_free(p);

	/* Tag-based access, as the guide's ABAC examples. */
	p = parse("{'Version':'2012-10-17','Statement':[{'Effect':'Allow','Action':'ecs:*','Resource':'*',"
	          "'Condition':{'StringEquals':{'aws:ResourceTag/environment':'dev'}}},"
	          "{'Effect':'Allow','Action':['ecs:CreateCluster','ecs:TagResource'],'Resource':'*',"
	          "'Condition':{'StringEquals':{'aws:RequestTag/environment':'dev'},"
	          "'ForAllValues:StringEquals':{'aws:TagKeys':['environment','team']}}}]}");
	assert_int_equal(eval_one(p, "ecs:UpdateCluster", "*", CTX({"aws:ResourceTag/environment", "dev"})), ALLOW);
	assert_int_equal(eval_one(p, "ecs:UpdateCluster", "*", CTX({"aws:ResourceTag/environment", "prod"})), NONE);
	assert_int_equal(eval_one(p, "ecs:CreateCluster", "*",
	                          CTX({"aws:RequestTag/environment", "dev"}, {"aws:TagKeys", "environment"},
	                              {"aws:TagKeys", "team"})),
	                 ALLOW);
	assert_int_equal(eval_one(p, "ecs:CreateCluster", "*",
	                          CTX({"aws:RequestTag/environment", "dev"}, {"aws:TagKeys", "environment"},
	                              {"aws:TagKeys", "cost"})),
	                 NONE);
	policy_free(p);
}

static void test_ecs_container_instance_example(void **state)
{
	(void)state;
	/* The container agent's policy, scoped to one cluster. */
	struct policy *p = parse(
	    "{'Version':'2012-10-17','Statement':[{'Effect':'Allow','Action':['ecs:DeregisterContainerInstance',"
	    "'ecs:RegisterContainerInstance','ecs:Submit*'],"
	    "'Resource':['arn:aws:ecs:us-east-1:123456789012:cluster/default']},"
	    "{'Effect':'Allow','Action':['ecs:DiscoverPollEndpoint','ecs:Poll','ecs:StartTelemetrySession'],"
	    "'Resource':['*'],'Condition':{'ArnEquals':{'ecs:cluster':'" DEFAULT_CLUSTER "'}}}]}");
	assert_int_equal(eval_one(p, "ecs:RegisterContainerInstance", DEFAULT_CLUSTER, NOCTX), ALLOW);
	assert_int_equal(eval_one(p, "ecs:SubmitTaskStateChange", DEFAULT_CLUSTER, NOCTX), ALLOW);
	assert_int_equal(eval_one(p, "ecs:SubmitTaskStateChange", OTHER_CLUSTER, NOCTX), NONE);
	assert_int_equal(eval_one(p, "ecs:Poll", "*", CTX({"ecs:cluster", DEFAULT_CLUSTER})), ALLOW);
	assert_int_equal(eval_one(p, "ecs:Poll", "*", CTX({"ecs:cluster", OTHER_CLUSTER})), NONE);
	assert_int_equal(eval_one(p, "ecs:RunTask", DEFAULT_CLUSTER, NOCTX), NONE);
	policy_free(p);
}

/* ---- actions ---- */

static void test_action_wildcards(void **state)
{
	(void)state;
	const char *fmt = "{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'%s','Resource':'*'}}";
	char doc[256];
	static const struct {
		const char *pattern, *action;
		enum policy_decision want;
	} cases[] = {
	    {"ecs:Describe*", "ecs:DescribeClusters", ALLOW}, {"ecs:Describe*", "ecs:Describe", ALLOW},
	    {"ecs:Describe*", "ecs:ListClusters", NONE},      {"ecs:Describe*", "ec2:DescribeInstances", NONE},
	    {"ecs:*", "ecs:RunTask", ALLOW},                  {"ecs:*", "ecr:GetAuthorizationToken", NONE},
	    {"*", "iam:PassRole", ALLOW},                     {"ecs:?unTask", "ecs:RunTask", ALLOW},
	    {"ecs:?unTask", "ecs:unTask", NONE},              {"ecs:*Task", "ecs:StopTask", ALLOW},
	    {"ecs:*Task*", "ecs:StartTask", ALLOW},           {"ecs:*Task", "ecs:ListTasks", NONE},
	    {"ecs:List*s", "ecs:ListServices", ALLOW},        {"ecs:Run?ask", "ecs:RunTask", ALLOW},
	    {"ecs:RunTask", "ecs:RunTasks", NONE},            {"ecs:R*T*k", "ecs:RunTask", ALLOW},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(doc, sizeof doc, fmt, cases[i].pattern);
		if (decide(doc, cases[i].action, "*", NOCTX) != cases[i].want)
			fail_msg("%s vs %s", cases[i].pattern, cases[i].action);
	}
}

static void test_action_case_insensitive(void **state)
{
	(void)state;
	const char *doc = "{'Version':'2012-10-17','Statement':{'Effect':'Allow',"
	                  "'Action':['ECS:runtask','ecs:describe*'],'Resource':'*'}}";
	assert_int_equal(decide(doc, "ecs:RunTask", "*", NOCTX), ALLOW);
	assert_int_equal(decide(doc, "ECS:RUNTASK", "*", NOCTX), ALLOW);
	assert_int_equal(decide(doc, "ecs:DescribeTasks", "*", NOCTX), ALLOW);
	assert_int_equal(decide(doc, "ecs:StopTask", "*", NOCTX), NONE);
	assert_int_equal(decide(doc, NULL, "*", NOCTX), NONE);
}

static void test_not_action(void **state)
{
	(void)state;
	const char *doc = "{'Version':'2012-10-17','Statement':{'Effect':'Allow',"
	                  "'NotAction':['iam:*','ecs:Delete*'],'Resource':'*'}}";
	assert_int_equal(decide(doc, "ecs:RunTask", "*", NOCTX), ALLOW);
	assert_int_equal(decide(doc, "ecs:DeleteCluster", "*", NOCTX), NONE);
	assert_int_equal(decide(doc, "IAM:PassRole", "*", NOCTX), NONE);
	/* A Deny with NotAction: everything but the listed actions is denied. */
	const char *two = "{'Version':'2012-10-17','Statement':["
	                  "{'Effect':'Allow','Action':'*','Resource':'*'},"
	                  "{'Effect':'Deny','NotAction':'ecs:Describe*','Resource':'*'}]}";
	assert_int_equal(decide(two, "ecs:DescribeServices", "*", NOCTX), ALLOW);
	assert_int_equal(decide(two, "ecs:CreateService", "*", NOCTX), DENY);
}

/* ---- resources ---- */

static void test_resource_wildcards(void **state)
{
	(void)state;
	const char *fmt = "{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'ecs:*','Resource':'%s'}}";
	char doc[256];
	static const struct {
		const char *pattern, *resource;
		enum policy_decision want;
	} cases[] = {
	    {"*", DEFAULT_CLUSTER, ALLOW},
	    {"*", "*", ALLOW},
	    {"arn:aws:ecs:*:123456789012:cluster/*", DEFAULT_CLUSTER, ALLOW},
	    {"arn:aws:ecs:*:123456789012:cluster/*", "arn:aws:ecs:us-east-1:999999999999:cluster/default", NONE},
	    {"arn:aws:ecs:*", DEFAULT_CLUSTER, ALLOW}, /* '*' spans ':' and '/' */
	    {"arn:aws:ecs:us-east-1:123456789012:cluster/def?ult", DEFAULT_CLUSTER, ALLOW},
	    {"arn:aws:ecs:us-east-1:123456789012:cluster/Default", DEFAULT_CLUSTER, NONE}, /* case matters */
	    {"arn:aws:ecs:us-east-1:123456789012:cluster/default", DEFAULT_CLUSTER "x", NONE},
	    {"arn:aws:ecs:us-east-1:123456789012:cluster/default", "*", NONE},
	    {"arn:aws:ecs:us-east-1:123456789012:service/default/*",
	     "arn:aws:ecs:us-east-1:123456789012:service/default/web", ALLOW},
	    {"arn:aws:ecs:us-east-1:123456789012:task/*/*", "arn:aws:ecs:us-east-1:123456789012:task/c/0a1b", ALLOW},
	    {"arn:aws:ecs:us-east-1:123456789012:task/*/*", "arn:aws:ecs:us-east-1:123456789012:task/0a1b", NONE},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(doc, sizeof doc, fmt, cases[i].pattern);
		if (decide(doc, "ecs:DescribeClusters", cases[i].resource, NOCTX) != cases[i].want)
			fail_msg("%s vs %s", cases[i].pattern, cases[i].resource);
	}
	/* NULL is "*". */
	assert_int_equal(decide("{'Statement':{'Effect':'Allow','Action':'*','Resource':'*'}}", "a:b", NULL, NOCTX),
	                 ALLOW);
}

static void test_not_resource(void **state)
{
	(void)state;
	const char *doc = "{'Version':'2012-10-17','Statement':["
	                  "{'Effect':'Allow','Action':'ecs:*','Resource':'*'},"
	                  "{'Effect':'Deny','Action':'ecs:DeleteCluster',"
	                  "'NotResource':['arn:aws:ecs:*:*:cluster/sandbox-*']}]}";
	assert_int_equal(decide(doc, "ecs:DeleteCluster", "arn:aws:ecs:us-east-1:1:cluster/sandbox-a", NOCTX), ALLOW);
	assert_int_equal(decide(doc, "ecs:DeleteCluster", DEFAULT_CLUSTER, NOCTX), DENY);
	assert_int_equal(decide(doc, "ecs:DeleteCluster", "*", NOCTX), DENY);
	assert_int_equal(decide(doc, "ecs:RunTask", DEFAULT_CLUSTER, NOCTX), ALLOW);
}

static void test_utf8_question_mark(void **state)
{
	(void)state;
	const char *doc = "{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'*',"
	                  "'Resource':'arn:aws:ecs:r:1:cluster/?-x','Condition':{'StringLike':{'aws:username':'*\xc3\xa9'}}}}";
	const char *one = "arn:aws:ecs:r:1:cluster/\xc3\xa9-x";   /* é: one character, two bytes */
	const char *two = "arn:aws:ecs:r:1:cluster/\xe2\x82\xac\x65-x"; /* €e: two characters */
	assert_int_equal(decide(doc, "a:b", one, CTX({"aws:username", "jos\xc3\xa9"})), ALLOW);
	assert_int_equal(decide(doc, "a:b", two, CTX({"aws:username", "jos\xc3\xa9"})), NONE);
	assert_int_equal(decide(doc, "a:b", one, CTX({"aws:username", "jose"})), NONE);
}

/* ---- evaluation order ---- */

static void test_explicit_deny_across_documents(void **state)
{
	(void)state;
	struct policy *allow = parse("{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'ecs:*','Resource':'*'}}");
	struct policy *deny = parse("{'Version':'2012-10-17','Statement':{'Sid':'NoDelete','Effect':'Deny',"
	                            "'Action':'ecs:Delete*','Resource':'*'}}");
	struct policy_request del = {"ecs:DeleteCluster", DEFAULT_CLUSTER, NULL, 0};
	struct policy_request run = {"ecs:RunTask", "*", NULL, 0};
	const struct policy *ab[] = {allow, deny}, *ba[] = {deny, allow}, *d[] = {deny}, *withnull[] = {NULL, allow};
	assert_int_equal(policy_eval(ab, 2, &del), DENY);
	assert_int_equal(policy_eval(ba, 2, &del), DENY);
	assert_int_equal(policy_eval(ab, 2, &run), ALLOW);
	assert_int_equal(policy_eval(d, 1, &run), NONE);
	assert_int_equal(policy_eval(d, 1, &del), DENY);
	assert_int_equal(policy_eval(withnull, 2, &run), ALLOW);

	struct policy_match why;
	assert_int_equal(policy_eval_why(ab, 2, &del, &why), DENY);
	assert_int_equal(why.doc, 1);
	assert_int_equal(why.statement, 0);
	assert_string_equal(why.sid, "NoDelete");
	assert_int_equal(policy_eval_why(ab, 2, &run, &why), ALLOW);
	assert_int_equal(why.doc, 0);
	assert_string_equal(why.sid, "");
	assert_int_equal(policy_eval_why(d, 1, &run, &why), NONE);
	assert_int_equal(why.doc, 1);
	policy_free(allow);
	policy_free(deny);
}

static void test_many_documents(void **state)
{
	(void)state;
	/* Ten documents of twenty statements, at IAM's scale. */
	struct policy *docs[10];
	char doc[8192];
	for (int d = 0; d < 10; d++) {
		size_t n = (size_t)snprintf(doc, sizeof doc, "{\"Version\":\"2012-10-17\",\"Statement\":[");
		for (int s = 0; s < 20; s++)
			n += (size_t)snprintf(doc + n, sizeof doc - n,
			                      "%s{\"Sid\":\"S%d\",\"Effect\":\"%s\",\"Action\":\"ecs:Op%d_%d\","
			                      "\"Resource\":\"arn:aws:ecs:*:*:cluster/c%d\"}",
			                      s ? "," : "", s, d == 9 && s == 19 ? "Deny" : "Allow", d, s, s);
		snprintf(doc + n, sizeof doc - n, "]}");
		docs[d] = parse_raw(doc);
	}
	const struct policy *const *all = (const struct policy *const *)docs;
	struct policy_match why;
	struct policy_request r = {"ecs:op3_7", "arn:aws:ecs:r:1:cluster/c7", NULL, 0};
	assert_int_equal(policy_eval_why(all, 10, &r, &why), ALLOW);
	assert_int_equal(why.doc, 3);
	assert_int_equal(why.statement, 7);
	assert_string_equal(why.sid, "S7");
	r.resource = "arn:aws:ecs:r:1:cluster/c8";
	assert_int_equal(policy_eval(all, 10, &r), NONE);
	r = (struct policy_request){"ecs:Op9_19", "arn:aws:ecs:r:1:cluster/c19", NULL, 0};
	assert_int_equal(policy_eval_why(all, 10, &r, &why), DENY);
	assert_int_equal(why.doc, 9);
	assert_int_equal(why.statement, 19);
	for (int d = 0; d < 10; d++)
		policy_free(docs[d]);
}

static void test_default_deny(void **state)
{
	(void)state;
	struct policy_request r = {"ecs:RunTask", "*", NULL, 0};
	assert_int_equal(policy_eval(NULL, 0, &r), NONE);
	assert_int_equal(decide("{'Version':'2012-10-17','Statement':[]}", "ecs:RunTask", "*", NOCTX), NONE);
	assert_int_equal(decide("{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'ecs:List*','Resource':'*'}}",
	                        "ecs:RunTask", "*", NOCTX),
	                 NONE);
	assert_string_equal(policy_decision_name(NONE), "implicitDeny");
	assert_string_equal(policy_decision_name(ALLOW), "allowed");
	assert_string_equal(policy_decision_name(DENY), "explicitDeny");
}

static void test_statement_forms(void **state)
{
	(void)state;
	/* Statement as one object, Sid and Id, Version absent (2008-10-17). */
	struct policy *p = parse("{'Id':'x','Statement':{'Sid':'A1','Effect':'Allow','Action':'ecs:RunTask','Resource':['*']}}");
	assert_int_equal(policy_statement_count(p), 1);
	assert_int_equal(eval_one(p, "ecs:RunTask", "*", NOCTX), ALLOW);
	policy_free(p);
	p = parse("{'Version':'2008-10-17','Statement':[{'Effect':'Deny','Action':'*','Resource':'*'},"
	          "{'Effect':'Allow','Action':'*','Resource':'*'}]}");
	assert_int_equal(policy_statement_count(p), 2);
	assert_int_equal(eval_one(p, "ecs:RunTask", "*", NOCTX), DENY);
	policy_free(p);
	/* Whitespace around, a document not NUL-terminated. */
	char buf[] = "  {\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}}\n\tXX";
	struct policy *q = NULL;
	struct err e = {0};
	assert_int_equal(policy_parse(buf, strlen(buf) - 2, &q, &e), 0);
	policy_free(q);
	policy_free(NULL);
}

/* ---- condition operators ---- */

static void test_string_operators(void **state)
{
	(void)state;
	const char *eq = "{'StringEquals':{'aws:username':['alice','bob']}}";
	assert_int_equal(cond(eq, CTX({"aws:username", "alice"})), ALLOW);
	assert_int_equal(cond(eq, CTX({"aws:username", "bob"})), ALLOW);
	assert_int_equal(cond(eq, CTX({"aws:username", "Alice"})), NONE);
	assert_int_equal(cond(eq, NOCTX), NONE);
	assert_int_equal(cond("{'StringEquals':{'aws:username':'a*'}}", CTX({"aws:username", "alice"})), NONE);
	assert_int_equal(cond("{'StringEquals':{'aws:username':'a*'}}", CTX({"aws:username", "a*"})), ALLOW);

	const char *ne = "{'StringNotEquals':{'aws:username':['alice','bob']}}";
	assert_int_equal(cond(ne, CTX({"aws:username", "carol"})), ALLOW);
	assert_int_equal(cond(ne, CTX({"aws:username", "bob"})), NONE);
	assert_int_equal(cond(ne, NOCTX), ALLOW);

	const char *ic = "{'StringEqualsIgnoreCase':{'aws:username':'Alice'}}";
	assert_int_equal(cond(ic, CTX({"aws:username", "ALICE"})), ALLOW);
	assert_int_equal(cond(ic, CTX({"aws:username", "alicia"})), NONE);
	assert_int_equal(cond(ic, NOCTX), NONE);
	const char *nic = "{'StringNotEqualsIgnoreCase':{'aws:username':'Alice'}}";
	assert_int_equal(cond(nic, CTX({"aws:username", "aLiCe"})), NONE);
	assert_int_equal(cond(nic, CTX({"aws:username", "bob"})), ALLOW);
	assert_int_equal(cond(nic, NOCTX), ALLOW);

	const char *like = "{'StringLike':{'ecs:cluster':['*:cluster/dev-*','*/qa?']}}";
	assert_int_equal(cond(like, CTX({"ecs:cluster", "arn:aws:ecs:r:1:cluster/dev-1"})), ALLOW);
	assert_int_equal(cond(like, CTX({"ecs:cluster", "arn:aws:ecs:r:1:cluster/qa1"})), ALLOW);
	assert_int_equal(cond(like, CTX({"ecs:cluster", "arn:aws:ecs:r:1:cluster/Dev-1"})), NONE);
	assert_int_equal(cond(like, NOCTX), NONE);
	const char *nlike = "{'StringNotLike':{'ecs:cluster':'*/prod*'}}";
	assert_int_equal(cond(nlike, CTX({"ecs:cluster", "arn:aws:ecs:r:1:cluster/prod-eu"})), NONE);
	assert_int_equal(cond(nlike, CTX({"ecs:cluster", "arn:aws:ecs:r:1:cluster/dev"})), ALLOW);
	assert_int_equal(cond(nlike, NOCTX), ALLOW);

	assert_int_equal(cond("{'BinaryEquals':{'s3:x':'QmVydGg='}}", CTX({"s3:x", "QmVydGg="})), ALLOW);
	assert_int_equal(cond("{'BinaryEquals':{'s3:x':'QmVydGg='}}", CTX({"s3:x", "qmVydGg="})), NONE);
}

static void test_numeric_operators(void **state)
{
	(void)state;
	static const struct {
		const char *op;
		int lt, eq, gt, absent, junk; /* allowed for 5, 10, 15, no key, "ten" against 10 */
	} cases[] = {
	    {"NumericEquals", 0, 1, 0, 0, 0},         {"NumericNotEquals", 1, 0, 1, 1, 1},
	    {"NumericLessThan", 1, 0, 0, 0, 0},       {"NumericLessThanEquals", 1, 1, 0, 0, 0},
	    {"NumericGreaterThan", 0, 0, 1, 0, 0},    {"NumericGreaterThanEquals", 0, 1, 1, 0, 0},
	};
	char c[128];
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(c, sizeof c, "{'%s':{'ecs:count':'10'}}", cases[i].op);
		assert_int_equal(cond(c, CTX({"ecs:count", "5"})) == ALLOW, cases[i].lt);
		assert_int_equal(cond(c, CTX({"ecs:count", "10.0"})) == ALLOW, cases[i].eq);
		assert_int_equal(cond(c, CTX({"ecs:count", "15"})) == ALLOW, cases[i].gt);
		assert_int_equal(cond(c, NOCTX) == ALLOW, cases[i].absent);
		assert_int_equal(cond(c, CTX({"ecs:count", "ten"})) == ALLOW, cases[i].junk);
	}
	/* A JSON number as the value, and a negative decimal. */
	assert_int_equal(cond("{'NumericLessThan':{'ecs:count':10}}", CTX({"ecs:count", "9"})), ALLOW);
	assert_int_equal(cond("{'NumericGreaterThan':{'ecs:count':-1.5}}", CTX({"ecs:count", "-1"})), ALLOW);
	/* A policy value that is no number never matches. */
	assert_int_equal(cond("{'NumericEquals':{'ecs:count':'x'}}", CTX({"ecs:count", "1"})), NONE);
}

static void test_json_scalar_values(void **state)
{
	(void)state;
	/* Numbers and booleans in the policy compare as their JSON text. */
	assert_int_equal(cond("{'StringEquals':{'ecs:count':3}}", CTX({"ecs:count", "3"})), ALLOW);
	assert_int_equal(cond("{'StringEquals':{'ecs:count':[3,4.5]}}", CTX({"ecs:count", "4.5"})), ALLOW);
	assert_int_equal(cond("{'StringEquals':{'aws:SecureTransport':true}}", CTX({"aws:SecureTransport", "true"})),
	                 ALLOW);
	assert_int_equal(cond("{'Bool':{'aws:SecureTransport':[true]}}", CTX({"aws:SecureTransport", "false"})), NONE);
	/* A Bool value that is neither true nor false matches nothing. */
	assert_int_equal(cond("{'Bool':{'aws:SecureTransport':'yes'}}", CTX({"aws:SecureTransport", "false"})), NONE);
	assert_int_equal(cond("{'Null':{'aws:SecureTransport':'maybe'}}", NOCTX), NONE);
}

static void test_date_operators(void **state)
{
	(void)state;
	const char *lt = "{'DateLessThan':{'aws:CurrentTime':'2024-06-01T00:00:00Z'}}";
	assert_int_equal(cond(lt, CTX({"aws:CurrentTime", "2024-05-31T23:59:59Z"})), ALLOW);
	assert_int_equal(cond(lt, CTX({"aws:CurrentTime", "2024-06-01T00:00:00Z"})), NONE);
	assert_int_equal(cond(lt, CTX({"aws:CurrentTime", "2024-06-01T01:00:00+02:00"})), ALLOW);
	assert_int_equal(cond(lt, CTX({"aws:CurrentTime", "1717199999"})), ALLOW); /* epoch seconds */
	assert_int_equal(cond(lt, NOCTX), NONE);
	assert_int_equal(cond("{'DateEquals':{'aws:CurrentTime':'2024-06-01'}}",
	                      CTX({"aws:CurrentTime", "2024-06-01T00:00:00.000Z"})),
	                 ALLOW);
	assert_int_equal(cond("{'DateNotEquals':{'aws:CurrentTime':'2024-06-01'}}", NOCTX), ALLOW);
	assert_int_equal(cond("{'DateGreaterThanEquals':{'aws:CurrentTime':'2024-06-01'}}",
	                      CTX({"aws:CurrentTime", "2024-06-01T00:00:00Z"})),
	                 ALLOW);
	assert_int_equal(cond("{'DateGreaterThan':{'aws:CurrentTime':'2024-06-01'}}",
	                      CTX({"aws:CurrentTime", "not a date"})),
	                 NONE);
}

static void test_bool_and_null(void **state)
{
	(void)state;
	const char *b = "{'Bool':{'aws:SecureTransport':'true'}}";
	assert_int_equal(cond(b, CTX({"aws:SecureTransport", "true"})), ALLOW);
	assert_int_equal(cond(b, CTX({"aws:SecureTransport", "TRUE"})), ALLOW);
	assert_int_equal(cond(b, CTX({"aws:SecureTransport", "false"})), NONE);
	assert_int_equal(cond(b, NOCTX), NONE);
	assert_int_equal(cond("{'Bool':{'aws:SecureTransport':false}}", CTX({"aws:SecureTransport", "false"})), ALLOW);
	assert_int_equal(cond("{'BoolIfExists':{'aws:MultiFactorAuthPresent':'true'}}", NOCTX), ALLOW);

	const char *absent = "{'Null':{'aws:ResourceTag/owner':'true'}}";
	assert_int_equal(cond(absent, NOCTX), ALLOW);
	assert_int_equal(cond(absent, CTX({"aws:ResourceTag/owner", "x"})), NONE);
	const char *present = "{'Null':{'aws:ResourceTag/owner':'false'}}";
	assert_int_equal(cond(present, NOCTX), NONE);
	assert_int_equal(cond(present, CTX({"aws:resourcetag/OWNER", "x"})), ALLOW);
}

static void test_arn_operators(void **state)
{
	(void)state;
	const char *like = "{'ArnLike':{'aws:PrincipalArn':['arn:aws:iam::*:role/*','arn:aws:ec2:*:*:instance/i-????" "?']}}";
	assert_int_equal(cond(like, CTX({"aws:PrincipalArn", "arn:aws:iam::123456789012:role/Admin"})), ALLOW);
	assert_int_equal(cond(like, CTX({"aws:PrincipalArn", "arn:aws:ec2:us-east-1:1:instance/i-12345"})), ALLOW);
	assert_int_equal(cond(like, CTX({"aws:PrincipalArn", "arn:aws:iam::123456789012:user/Bob"})), NONE);
	assert_int_equal(cond(like, CTX({"aws:PrincipalArn", "arn:aws:iam::1:role/a:b"})), ALLOW); /* ':' in part 6 */
	assert_int_equal(cond(like, CTX({"aws:PrincipalArn", "not-an-arn"})), NONE);
	assert_int_equal(cond(like, NOCTX), NONE);
	/* A wildcard does not span parts, unlike in Resource. */
	assert_int_equal(cond("{'ArnLike':{'ecs:cluster':'arn:aws:*:cluster/x'}}",
	                      CTX({"ecs:cluster", "arn:aws:ecs:r:1:cluster/x"})),
	                 NONE);
	assert_int_equal(cond("{'ArnLike':{'ecs:cluster':'arn:aws:ecs:*'}}", CTX({"ecs:cluster", DEFAULT_CLUSTER})),
	                 NONE);
	assert_int_equal(cond("{'ArnLike':{'ecs:cluster':'arn:aws:ecs:*:*:*'}}", CTX({"ecs:cluster", DEFAULT_CLUSTER})),
	                 ALLOW);
	/* ArnEquals is ArnLike (IAM documents them as one row); case matters. */
	assert_int_equal(cond("{'ArnEquals':{'ecs:cluster':'arn:aws:ecs:*:123456789012:cluster/*'}}",
	                      CTX({"ecs:cluster", DEFAULT_CLUSTER})),
	                 ALLOW);
	assert_int_equal(cond("{'ArnEquals':{'ecs:cluster':'" DEFAULT_CLUSTER "'}}",
	                      CTX({"ecs:cluster", "arn:aws:ecs:us-east-1:123456789012:cluster/Default"})),
	                 NONE);
	const char *notlike = "{'ArnNotLike':{'ecs:cluster':'arn:aws:ecs:*:*:cluster/prod-*'}}";
	assert_int_equal(cond(notlike, CTX({"ecs:cluster", "arn:aws:ecs:r:1:cluster/prod-1"})), NONE);
	assert_int_equal(cond(notlike, CTX({"ecs:cluster", "arn:aws:ecs:r:1:cluster/dev"})), ALLOW);
	assert_int_equal(cond(notlike, NOCTX), ALLOW);
	assert_int_equal(cond("{'ArnNotEquals':{'ecs:cluster':'" DEFAULT_CLUSTER "'}}", NOCTX), ALLOW);
	assert_int_equal(cond("{'ArnNotEquals':{'ecs:cluster':'" DEFAULT_CLUSTER "'}}",
	                      CTX({"ecs:cluster", DEFAULT_CLUSTER})),
	                 NONE);
}

static void test_ip_operators(void **state)
{
	(void)state;
	const char *in = "{'IpAddress':{'aws:SourceIp':['203.0.113.0/24','2001:db8::/32','198.51.100.7']}}";
	assert_int_equal(cond(in, CTX({"aws:SourceIp", "203.0.113.77"})), ALLOW);
	assert_int_equal(cond(in, CTX({"aws:SourceIp", "203.0.114.1"})), NONE);
	assert_int_equal(cond(in, CTX({"aws:SourceIp", "2001:db8:1::5"})), ALLOW);
	assert_int_equal(cond(in, CTX({"aws:SourceIp", "198.51.100.7"})), ALLOW);
	assert_int_equal(cond(in, CTX({"aws:SourceIp", "198.51.100.8"})), NONE);
	assert_int_equal(cond(in, CTX({"aws:SourceIp", "junk"})), NONE);
	assert_int_equal(cond(in, NOCTX), NONE);
	assert_int_equal(cond("{'NotIpAddress':{'aws:SourceIp':'10.0.0.0/8'}}", CTX({"aws:SourceIp", "10.1.2.3"})), NONE);
	assert_int_equal(cond("{'NotIpAddress':{'aws:SourceIp':'10.0.0.0/8'}}", CTX({"aws:SourceIp", "11.1.2.3"})), ALLOW);
	assert_int_equal(cond("{'NotIpAddress':{'aws:SourceIp':'10.0.0.0/8'}}", NOCTX), ALLOW);
	/* A prefix that is not a whole number of bytes; values that are no network. */
	assert_int_equal(cond("{'IpAddress':{'aws:SourceIp':'10.16.0.0/12'}}", CTX({"aws:SourceIp", "10.31.255.1"})), ALLOW);
	assert_int_equal(cond("{'IpAddress':{'aws:SourceIp':'10.16.0.0/12'}}", CTX({"aws:SourceIp", "10.32.0.1"})), NONE);
	assert_int_equal(cond("{'IpAddress':{'aws:SourceIp':['10.0.0.0/33','x/8','1.2.3.4/']}}",
	                      CTX({"aws:SourceIp", "10.0.0.1"})),
	                 NONE);
	assert_int_equal(cond("{'IpAddress':{'aws:SourceIp':'10.0.0.0/8'}}", CTX({"aws:SourceIp", "10.0.0.1/32"})), NONE);
}

static void test_negated_with_missing_key(void **state)
{
	(void)state;
	static const char *const negated[] = {
	    "StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "ArnNotEquals",
	    "ArnNotLike",      "NumericNotEquals",          "DateNotEquals", "NotIpAddress",
	};
	static const char *const positive[] = {
	    "StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike", "NumericEquals",
	    "NumericLessThan", "DateEquals", "DateGreaterThan", "IpAddress", "Bool", "BinaryEquals",
	};
	char c[160];
	for (size_t i = 0; i < sizeof negated / sizeof negated[0]; i++) {
		snprintf(c, sizeof c, "{'%s':{'aws:missing':'arn:aws:ecs:r:1:cluster/x'}}", negated[i]);
		if (cond(c, CTX({"aws:other", "x"})) != ALLOW)
			fail_msg("%s with the key absent should hold", negated[i]);
	}
	for (size_t i = 0; i < sizeof positive / sizeof positive[0]; i++) {
		snprintf(c, sizeof c, "{'%s':{'aws:missing':'1'}}", positive[i]);
		if (cond(c, NOCTX) != NONE)
			fail_msg("%s with the key absent should not hold", positive[i]);
		snprintf(c, sizeof c, "{'%sIfExists':{'aws:missing':'1'}}", positive[i]);
		if (cond(c, NOCTX) != ALLOW)
			fail_msg("%sIfExists with the key absent should hold", positive[i]);
	}
}

static void test_if_exists(void **state)
{
	(void)state;
	const char *c = "{'StringEqualsIfExists':{'ecs:cluster':'" DEFAULT_CLUSTER "'}}";
	assert_int_equal(cond(c, NOCTX), ALLOW);
	assert_int_equal(cond(c, CTX({"ecs:cluster", DEFAULT_CLUSTER})), ALLOW);
	assert_int_equal(cond(c, CTX({"ecs:cluster", OTHER_CLUSTER})), NONE);
	const char *n = "{'ArnNotLikeIfExists':{'ecs:cluster':'*:cluster/prod'}}";
	assert_int_equal(cond(n, NOCTX), ALLOW);
	assert_int_equal(cond("{'NumericLessThanIfExists':{'ecs:count':'3'}}", CTX({"ecs:count", "4"})), NONE);
}

static void test_for_any_value(void **state)
{
	(void)state;
	const char *c = "{'ForAnyValue:StringEquals':{'aws:TagKeys':['team','owner']}}";
	assert_int_equal(cond(c, CTX({"aws:TagKeys", "cost"}, {"aws:TagKeys", "owner"})), ALLOW);
	assert_int_equal(cond(c, CTX({"aws:TagKeys", "cost"})), NONE);
	assert_int_equal(cond(c, NOCTX), NONE);
	assert_int_equal(cond("{'ForAnyValue:StringEqualsIfExists':{'aws:TagKeys':'x'}}", NOCTX), ALLOW);
	/* Negated: some value is none of the policy's. */
	const char *n = "{'ForAnyValue:StringNotEquals':{'aws:TagKeys':['team','owner']}}";
	assert_int_equal(cond(n, CTX({"aws:TagKeys", "team"}, {"aws:TagKeys", "cost"})), ALLOW);
	assert_int_equal(cond(n, CTX({"aws:TagKeys", "team"}, {"aws:TagKeys", "owner"})), NONE);
	assert_int_equal(cond(n, NOCTX), NONE);
	assert_int_equal(cond("{'ForAnyValue:StringLike':{'aws:TagKeys':'aws:*'}}", CTX({"aws:TagKeys", "aws:x"})), ALLOW);
}

static void test_for_all_values(void **state)
{
	(void)state;
	const char *c = "{'ForAllValues:StringEquals':{'aws:TagKeys':['team','owner']}}";
	assert_int_equal(cond(c, CTX({"aws:TagKeys", "team"}, {"aws:TagKeys", "owner"})), ALLOW);
	assert_int_equal(cond(c, CTX({"aws:TagKeys", "team"}, {"aws:TagKeys", "cost"})), NONE);
	assert_int_equal(cond(c, NOCTX), ALLOW); /* vacuously */
	const char *n = "{'ForAllValues:StringNotLike':{'aws:TagKeys':'aws:*'}}";
	assert_int_equal(cond(n, CTX({"aws:TagKeys", "team"}, {"aws:TagKeys", "cost"})), ALLOW);
	assert_int_equal(cond(n, CTX({"aws:TagKeys", "team"}, {"aws:TagKeys", "aws:x"})), NONE);
	assert_int_equal(cond(n, NOCTX), ALLOW);
	/* Without a set operator, a multi-valued key: any value for a positive
	 * operator, none for a negated one. */
	assert_int_equal(cond("{'StringEquals':{'aws:TagKeys':'team'}}", CTX({"aws:TagKeys", "x"}, {"aws:TagKeys", "team"})),
	                 ALLOW);
	assert_int_equal(cond("{'StringNotEquals':{'aws:TagKeys':'team'}}", CTX({"aws:TagKeys", "x"}, {"aws:TagKeys", "team"})),
	                 NONE);
}

static void test_condition_logic(void **state)
{
	(void)state;
	/* Operators AND'ed, keys AND'ed, values OR'ed. */
	const char *c = "{'StringEquals':{'aws:username':['alice','bob'],'aws:ResourceTag/team':'red'},"
	                "'Bool':{'aws:SecureTransport':'true'}}";
	assert_int_equal(cond(c, CTX({"aws:username", "bob"}, {"aws:ResourceTag/team", "red"},
	                             {"aws:SecureTransport", "true"})),
	                 ALLOW);
	assert_int_equal(cond(c, CTX({"aws:username", "bob"}, {"aws:ResourceTag/team", "blue"},
	                             {"aws:SecureTransport", "true"})),
	                 NONE);
	assert_int_equal(cond(c, CTX({"aws:username", "bob"}, {"aws:ResourceTag/team", "red"},
	                             {"aws:SecureTransport", "false"})),
	                 NONE);
	/* Keys are compared without regard to case. */
	assert_int_equal(cond("{'StringEquals':{'AWS:UserName':'alice'}}", CTX({"aws:username", "alice"})), ALLOW);
	/* An empty condition block, an empty value list. */
	assert_int_equal(cond("{}", NOCTX), ALLOW);
	assert_int_equal(cond("{'StringEquals':{'aws:username':[]}}", CTX({"aws:username", "a"})), NONE);
	assert_int_equal(cond("{'StringNotEquals':{'aws:username':[]}}", CTX({"aws:username", "a"})), ALLOW);
	/* A Deny under a condition. */
	assert_int_equal(decide("{'Version':'2012-10-17','Statement':[{'Effect':'Allow','Action':'*','Resource':'*'},"
	                        "{'Effect':'Deny','Action':'*','Resource':'*',"
	                        "'Condition':{'StringNotEquals':{'aws:RequestedRegion':'eu-west-1'}}}]}",
	                        "ecs:RunTask", "*", CTX({"aws:RequestedRegion", "us-east-1"})),
	                 DENY);
}

/* ---- policy variables ---- */

static void test_policy_variables(void **state)
{
	(void)state;
	const char *doc = "{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'ecs:*',"
	                  "'Resource':'arn:aws:ecs:*:*:cluster/${aws:username}-*'}}";
	const char *mine = "arn:aws:ecs:us-east-1:1:cluster/alice-dev";
	assert_int_equal(decide(doc, "ecs:DeleteCluster", mine, CTX({"aws:username", "alice"})), ALLOW);
	assert_int_equal(decide(doc, "ecs:DeleteCluster", mine, CTX({"AWS:USERNAME", "alice"})), ALLOW);
	assert_int_equal(decide(doc, "ecs:DeleteCluster", mine, CTX({"aws:username", "bob"})), NONE);
	assert_int_equal(decide(doc, "ecs:DeleteCluster", mine, NOCTX), NONE); /* unresolved: no match */
	/* A value from the request is literal: '*' in it is no wildcard. */
	assert_int_equal(decide(doc, "ecs:DeleteCluster", mine, CTX({"aws:username", "*"})), NONE);
	assert_int_equal(decide(doc, "ecs:DeleteCluster", "arn:aws:ecs:r:1:cluster/*-x", CTX({"aws:username", "*"})),
	                 ALLOW);
	/* A key with several values does not resolve. */
	assert_int_equal(decide(doc, "ecs:DeleteCluster", mine, CTX({"aws:username", "alice"}, {"aws:username", "b"})),
	                 NONE);

	/* 2008-10-17 and no Version: the text is literal. */
	const char *old = "{'Version':'2008-10-17','Statement':{'Effect':'Allow','Action':'ecs:*',"
	                  "'Resource':'arn:aws:ecs:*:*:cluster/${aws:username}'}}";
	assert_int_equal(decide(old, "ecs:DeleteCluster", "arn:aws:ecs:r:1:cluster/alice", CTX({"aws:username", "alice"})),
	                 NONE);
	assert_int_equal(decide(old, "ecs:DeleteCluster", "arn:aws:ecs:r:1:cluster/${aws:username}",
	                        CTX({"aws:username", "alice"})),
	                 ALLOW);
	const char *none = "{'Statement':{'Effect':'Allow','Action':'ecs:*','Resource':'arn:aws:ecs:*:*:cluster/${aws:username}'}}";
	assert_int_equal(decide(none, "ecs:DeleteCluster", "arn:aws:ecs:r:1:cluster/alice", CTX({"aws:username", "alice"})),
	                 NONE);

	/* In condition values: String and Arn operators. */
	assert_int_equal(cond("{'StringEquals':{'aws:ResourceTag/owner':'${aws:username}'}}",
	                      CTX({"aws:username", "alice"}, {"aws:ResourceTag/owner", "alice"})),
	                 ALLOW);
	assert_int_equal(cond("{'StringEquals':{'aws:ResourceTag/owner':'${aws:username}'}}",
	                      CTX({"aws:username", "alice"}, {"aws:ResourceTag/owner", "bob"})),
	                 NONE);
	assert_int_equal(cond("{'StringNotEquals':{'aws:ResourceTag/owner':'${aws:username}'}}",
	                      CTX({"aws:ResourceTag/owner", "bob"})),
	                 ALLOW); /* unresolved: no match, so the negation holds */
	assert_int_equal(cond("{'ArnLike':{'aws:PrincipalArn':'arn:aws:iam::${aws:PrincipalAccount}:user/*'}}",
	                      CTX({"aws:PrincipalAccount", "123456789012"},
	                          {"aws:PrincipalArn", "arn:aws:iam::123456789012:user/alice"})),
	                 ALLOW);
	assert_int_equal(cond("{'StringLike':{'ecs:cluster':'*/${aws:PrincipalTag/team}-*'}}",
	                      CTX({"aws:PrincipalTag/team", "red"}, {"ecs:cluster", "arn:aws:ecs:r:1:cluster/red-1"})),
	                 ALLOW);
}

static void test_variable_escapes_and_defaults(void **state)
{
	(void)state;
	/* ${*} ${?} ${$}: the characters themselves, not wildcards. */
	const char *esc = "{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'ecs:*',"
	                  "'Resource':'arn:aws:ecs:r:1:cluster/a${*}b${?}${$}{x}'}}";
	assert_int_equal(decide(esc, "ecs:RunTask", "arn:aws:ecs:r:1:cluster/a*b?${x}", NOCTX), ALLOW);
	assert_int_equal(decide(esc, "ecs:RunTask", "arn:aws:ecs:r:1:cluster/aXXb!${x}", NOCTX), NONE);
	/* A default value, with '' for a quote and spaces around. */
	const char *dflt = "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\","
	                   "\"Resource\":\"arn:aws:ecs:r:1:cluster/${ aws:PrincipalTag/team , 'o''neil' }\"}}";
	struct policy *p = parse_raw(dflt);
	assert_int_equal(eval_one(p, "a:b", "arn:aws:ecs:r:1:cluster/o'neil", NOCTX), ALLOW);
	assert_int_equal(eval_one(p, "a:b", "arn:aws:ecs:r:1:cluster/red", CTX({"aws:PrincipalTag/team", "red"})), ALLOW);
	assert_int_equal(eval_one(p, "a:b", "arn:aws:ecs:r:1:cluster/o'neil", CTX({"aws:PrincipalTag/team", "red"})),
	                 NONE);
	policy_free(p);
	/* An escape first; a default that is not one quoted string never resolves. */
	assert_int_equal(cond("{'StringEquals':{'aws:username':'${*}${aws:username}'}}", CTX({"aws:username", "x"})),
	                 NONE);
	assert_int_equal(cond("{'StringEquals':{'aws:userid':'${*}${aws:username}'}}",
	                      CTX({"aws:username", "x"}, {"aws:userid", "*x"})),
	                 ALLOW);
	assert_int_equal(cond("{'StringEquals':{'aws:userid':'${aws:username, x}'}}", CTX({"aws:userid", "x"})), NONE);
	/* An unterminated ${ is literal text. */
	assert_int_equal(decide("{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'*',"
	                        "'Resource':'arn:aws:ecs:r:1:cluster/${x'}}",
	                        "a:b", "arn:aws:ecs:r:1:cluster/${x", NOCTX),
	                 ALLOW);
}

/* ---- malformed documents ---- */

static void test_malformed_syntax(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "",
	    "{",
	    "not json",
	    "[{'Effect':'Allow','Action':'*','Resource':'*'}]",
	    "'a string'",
	    "{'Statement':{'Effect':'Allow','Action':'*','Resource':'*'}} trailing",
	    "{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'*','Resource':'*'},'Extra':1}",
	    "{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'*','Resource':'*','Actions':'*'}}",
	    "{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'*','Resource':'*','effect':'Allow'}}",
	    "{'Version':'2012-10-17','Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'*','Resource':'*'}}",
	    "{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'*','Action':'*','Resource':'*'}}",
	    "{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':7,'Resource':'*'}}",
	    "{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':['*',7],'Resource':'*'}}",
	    "{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'*','Resource':{'a':'b'}}}",
	    "{'Version':'2012-10-17','Statement':{'Effect':['Allow'],'Action':'*','Resource':'*'}}",
	    "{'Version':'2012-10-17','Statement':{'Sid':1,'Effect':'Allow','Action':'*','Resource':'*'}}",
	    "{'Version':2012,'Statement':{'Effect':'Allow','Action':'*','Resource':'*'}}",
	    "{'Id':[],'Statement':{'Effect':'Allow','Action':'*','Resource':'*'}}",
	    "{'Version':'2012-10-17','Statement':'x'}",
	    "{'Version':'2012-10-17','Statement':['x']}",
	    "{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'*','Resource':'*','Condition':[]}}",
	    "{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'*','Resource':'*',"
	    "'Condition':{'StringEquals':'x'}}}",
	    "{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'*','Resource':'*',"
	    "'Condition':{'StringEquals':{'aws:a':{'b':'c'}}}}}",
	    "{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'*','Resource':'*',"
	    "'Condition':{'StringEquals':{'aws:a':[null]}}}}",
	    "{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'*','Resource':'*',"
	    "'Condition':{'StringEquals':{'aws:a':'1','aws:a':'2'}}}}",
	    "{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'*','Resource':'*',"
	    "'Condition':{'Bool':{'aws:a':'1'},'Bool':{'aws:b':'2'}}}}",
	    "{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'ecs:Run\\u0000Task','Resource':'*'}}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		expect_malformed(bad[i], SYNTAX);

	/* Invalid UTF-8: a lone continuation byte, an overlong '/', a surrogate. */
	static const char *const bytes[] = {
	    "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"arn:\x80\"}}",
	    "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"arn:\xc0\xaf\"}}",
	    "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"arn:\xed\xa0\x80\"}}",
	    "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"arn:\xf4\x90\x80\x80\"}}",
	    "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"arn:\xe2\x82\"}}",
	};
	for (size_t i = 0; i < sizeof bytes / sizeof bytes[0]; i++)
		expect_raw(bytes[i], strlen(bytes[i]), 0, SYNTAX);
	/* A NUL byte inside. */
	const char nul[] = "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\0\"}}";
	expect_raw(nul, sizeof nul - 1, 0, SYNTAX);
}

static void test_malformed_limits(void **state)
{
	(void)state;
	/* Nesting past POLICY_MAX_DEPTH is refused before cJSON recurses. */
	char deep[10000];
	size_t n = 0;
	deep[n++] = '{';
	memcpy(deep + n, "\"Id\":", 5);
	n += 5;
	while (n < 5000)
		deep[n++] = '[';
	while (n < 9999)
		deep[n++] = ']';
	deep[n++] = '}';
	expect_raw(deep, n, 0, SYNTAX);
	char *big = malloc(POLICY_MAX_BYTES + 100);
	const char *head = "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"arn:";
	const char *tail = "\"}}";
	size_t hl = strlen(head), tl = strlen(tail);
	memcpy(big, head, hl);
	memset(big + hl, 'x', POLICY_MAX_BYTES - hl - tl);
	memcpy(big + POLICY_MAX_BYTES - tl, tail, tl);
	struct policy *p = NULL;
	struct err e = {0};
	assert_int_equal(policy_parse(big, POLICY_MAX_BYTES, &p, &e), 0); /* exactly the limit */
	policy_free(p);
	big[POLICY_MAX_BYTES] = ' ';
	expect_raw(big, POLICY_MAX_BYTES + 1, 0, "Policy document is 10241 bytes; the limit is 10240.");
	free(big);
}

static void test_malformed_messages(void **state)
{
	(void)state;
	static const struct {
		const char *doc, *msg;
	} cases[] = {
	    {"{'Version':'2012-10-17','Statement':{'Action':'*','Resource':'*'}}", "Missing required field Effect"},
	    {"{'Version':'2012-10-17','Statement':{'Effect':'allow','Action':'*','Resource':'*'}}",
	     "Invalid effect: allow"},
	    {"{'Version':'2012-10-17','Statement':{'Effect':'Allow','Resource':'*'}}",
	     "Policy statement must contain actions."},
	    {"{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':[],'Resource':'*'}}",
	     "Policy statement must contain actions."},
	    {"{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'*','NotAction':'*','Resource':'*'}}",
	     "Policy statement must contain Action or NotAction, not both."},
	    {"{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'*'}}",
	     "Policy statement must contain resources."},
	    {"{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'*','NotResource':[]}}",
	     "Policy statement must contain resources."},
	    {"{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'*','Resource':'*','NotResource':'*'}}",
	     "Policy statement must contain Resource or NotResource, not both."},
	    {"{'Version':'2012-10-17','Statement':{'Effect':'Allow','Principal':'*','Action':'*','Resource':'*'}}",
	     "Policy document should not specify a principal."},
	    {"{'Version':'2012-10-17','Statement':{'Effect':'Deny','NotPrincipal':{'AWS':'x'},'Action':'*','Resource':'*'}}",
	     "Policy document should not specify a principal."},
	    {"{'Version':'2012-10-18','Statement':{'Effect':'Allow','Action':'*','Resource':'*'}}",
	     "The policy failed legacy parsing"},
	    {"{'Version':'2012-10-17'}", "Missing required field Statement"},
	    {"{'Version':'2012-10-17','Statement':[{'Sid':'A','Effect':'Allow','Action':'*','Resource':'*'},"
	     "{'Sid':'A','Effect':'Deny','Action':'*','Resource':'*'}]}",
	     "Statement IDs (SID) in a single policy must be unique."},
	    {"{'Version':'2012-10-17','Statement':{'Sid':'my-sid','Effect':'Allow','Action':'*','Resource':'*'}}",
	     "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression "
	     "[0-9A-Za-z]*"},
	    {"{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'RunTask','Resource':'*'}}",
	     "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."},
	    {"{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':':RunTask','Resource':'*'}}",
	     "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."},
	    {"{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'ecs:Run:Task','Resource':'*'}}",
	     "Actions/Condition can contain only one colon."},
	    {"{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'*','Resource':'cluster/default'}}",
	     "Resource cluster/default must be in ARN format or \"*\"."},
	    {"{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'*','Resource':''}}",
	     "Resource  must be in ARN format or \"*\"."},
	    {"{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'*','Resource':'*',"
	     "'Condition':{'StringEqualz':{'aws:username':'a'}}}}",
	     "Invalid Condition type : StringEqualz."},
	    {"{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'*','Resource':'*',"
	     "'Condition':{'NullIfExists':{'aws:username':'true'}}}}",
	     "Invalid Condition type : NullIfExists."},
	    {"{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'*','Resource':'*',"
	     "'Condition':{'ForSomeValues:StringEquals':{'aws:username':'a'}}}}",
	     "Invalid Condition type : ForSomeValues:StringEquals."},
	    {"{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'*','Resource':'*',"
	     "'Condition':{'StringEquals':{'username':'a'}}}}",
	     "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		expect_malformed(cases[i].doc, cases[i].msg);

	/* A managed policy must say 2012-10-17. */
	const char *old = "{\"Version\":\"2008-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}}";
	const char *none = "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}}";
	expect_raw(old, strlen(old), POLICY_PARSE_MANAGED, "Policy document must be version 2012-10-17 or greater.");
	expect_raw(none, strlen(none), POLICY_PARSE_MANAGED, "Policy document must be version 2012-10-17 or greater.");
	struct policy *p = NULL;
	struct err e = {0};
	const char *cur = "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}}";
	assert_int_equal(policy_parse_flags(cur, strlen(cur), POLICY_PARSE_MANAGED, &p, &e), 0);
	policy_free(p);
}

static void test_operator_names(void **state)
{
	(void)state;
	/* Every operator, with each prefix and suffix, parses. */
	static const char *const ops[] = {
	    "StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "StringLike",
	    "StringNotLike", "NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals",
	    "NumericGreaterThan", "NumericGreaterThanEquals", "DateEquals", "DateNotEquals", "DateLessThan",
	    "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals", "Bool", "BinaryEquals", "IpAddress",
	    "NotIpAddress", "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike",
	};
	static const char *const pre[] = {"", "ForAnyValue:", "ForAllValues:"};
	char doc[512];
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
		for (size_t j = 0; j < 3; j++)
			for (int ie = 0; ie < 2; ie++) {
				snprintf(doc, sizeof doc,
				         "{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'*','Resource':'*',"
				         "'Condition':{'%s%s%s':{'aws:k':['1',2,true]}}}}",
				         pre[j], ops[i], ie ? "IfExists" : "");
				policy_free(parse(doc));
			}
	policy_free(parse("{'Statement':{'Effect':'Allow','Action':'*','Resource':'*','Condition':{'Null':{'aws:k':'true'}}}}"));
	/* Names are case-sensitive, as IAM's element names are. */
	expect_malformed("{'Statement':{'Effect':'Allow','Action':'*','Resource':'*','Condition':{'stringequals':{'aws:k':'1'}}}}",
	                 "Invalid Condition type : stringequals.");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ecs_cluster_example),
	    cmocka_unit_test(test_ecs_task_definition_example),
	    cmocka_unit_test(test_ecs_container_instance_example),
	    cmocka_unit_test(test_action_wildcards),
	    cmocka_unit_test(test_action_case_insensitive),
	    cmocka_unit_test(test_not_action),
	    cmocka_unit_test(test_resource_wildcards),
	    cmocka_unit_test(test_not_resource),
	    cmocka_unit_test(test_utf8_question_mark),
	    cmocka_unit_test(test_explicit_deny_across_documents),
	    cmocka_unit_test(test_many_documents),
	    cmocka_unit_test(test_default_deny),
	    cmocka_unit_test(test_statement_forms),
	    cmocka_unit_test(test_string_operators),
	    cmocka_unit_test(test_numeric_operators),
	    cmocka_unit_test(test_json_scalar_values),
	    cmocka_unit_test(test_date_operators),
	    cmocka_unit_test(test_bool_and_null),
	    cmocka_unit_test(test_arn_operators),
	    cmocka_unit_test(test_ip_operators),
	    cmocka_unit_test(test_negated_with_missing_key),
	    cmocka_unit_test(test_if_exists),
	    cmocka_unit_test(test_for_any_value),
	    cmocka_unit_test(test_for_all_values),
	    cmocka_unit_test(test_condition_logic),
	    cmocka_unit_test(test_policy_variables),
	    cmocka_unit_test(test_variable_escapes_and_defaults),
	    cmocka_unit_test(test_malformed_syntax),
	    cmocka_unit_test(test_malformed_limits),
	    cmocka_unit_test(test_malformed_messages),
	    cmocka_unit_test(test_operator_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
