/* test_cql: sched/cql.c — every example of the developer guide's "Cluster
 * query language" page and of its filter / constraint examples, evaluated
 * against fake instances; the word and symbol spellings of each operator;
 * precedence; the canonical print and its round trip; syntax errors and the
 * position they name; the limits (length, depth, list size); absent
 * subjects; numbers, versions, dates, globs, regular expressions and task
 * groups. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched/cql.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_ATTRS 16
#define MAX_GROUPS 8

/* A candidate instance.  attrs[i][1] == "" is a name-only attribute; a
 * field left NULL is unknown. */
struct fake {
	const char *attrs[MAX_ATTRS][2];
	const char *agent_connected;
	const char *agent_version;
	const char *ec2_instance_id;
	const char *registered_at;
	const char *running_tasks_count;
	const char *groups[MAX_GROUPS];
	int visits; /* groups handed to visit, to see the walk stop early */
};

static const char *fake_attribute(void *arg, const char *name)
{
	const struct fake *f = arg;
	for (size_t i = 0; i < MAX_ATTRS && f->attrs[i][0]; i++)
		if (strcmp(f->attrs[i][0], name) == 0)
			return f->attrs[i][1];
	return NULL;
}

static const char *fake_field(void *arg, const char *name)
{
	const struct fake *f = arg;
	if (strcmp(name, CQL_FIELD_AGENT_CONNECTED) == 0)
		return f->agent_connected;
	if (strcmp(name, CQL_FIELD_AGENT_VERSION) == 0)
		return f->agent_version;
	if (strcmp(name, CQL_FIELD_EC2_INSTANCE_ID) == 0)
		return f->ec2_instance_id;
	if (strcmp(name, CQL_FIELD_REGISTERED_AT) == 0)
		return f->registered_at;
	if (strcmp(name, CQL_FIELD_RUNNING_TASKS_COUNT) == 0)
		return f->running_tasks_count;
	fail_msg("unexpected field %s", name);
	return NULL;
}

static int fake_each_group(void *arg, int (*visit)(void *ctx, const char *group), void *ctx)
{
	struct fake *f = arg;
	for (size_t i = 0; i < MAX_GROUPS && f->groups[i]; i++) {
		f->visits++;
		if (visit(ctx, f->groups[i]))
			return 1;
	}
	return 0;
}

static struct cql_subject subject_of(struct fake *f)
{
	struct cql_subject s = { fake_attribute, fake_field, fake_each_group, f };
	return s;
}

/* An m4.large in us-east-1a running two tasks of service web. */
static struct fake web_a(void)
{
	struct fake f = {
		.attrs = { { "ecs.instance-type", "m4.large" },
			   { "ecs.availability-zone", "us-east-1a" },
			   { "ecs.os-type", "linux" },
			   { "ecs.cpu-architecture", "x86_64" },
			   { "ecs.ami-id", "ami-1234abcd" },
			   { "stack", "prod" },
			   { "gpu", "" } },
		.agent_connected = "true",
		.agent_version = "1.35.0",
		.ec2_instance_id = "i-abcd1234",
		.registered_at = "1529360908000", /* 2018-06-18T22:28:28Z */
		.running_tasks_count = "2",
		.groups = { "service:web", "family:batch" },
	};
	return f;
}

/* A g2.2xlarge in us-east-1d, one database task, an old agent. */
static struct fake db_d(void)
{
	struct fake f = {
		.attrs = { { "ecs.instance-type", "g2.2xlarge" },
			   { "ecs.availability-zone", "us-east-1d" },
			   { "ecs.os-type", "linux" },
			   { "stack", "dev" } },
		.agent_connected = "false",
		.agent_version = "1.14.4",
		.ec2_instance_id = "i-wxyx7890",
		.registered_at = "1518480000000", /* 2018-02-13T00:00:00Z */
		.running_tasks_count = "1",
		.groups = { "database" },
	};
	return f;
}

/* A t2.small in us-east-1b with nothing running and no stack attribute. */
static struct fake empty_b(void)
{
	struct fake f = {
		.attrs = { { "ecs.instance-type", "t2.small" }, { "ecs.availability-zone", "us-east-1b" } },
		.agent_connected = "true",
		.agent_version = "1.9.0",
		.ec2_instance_id = "i-00000001",
		.registered_at = "1518479999999",
		.running_tasks_count = "0",
	};
	return f;
}

/* Parse text (it must parse), evaluate against f, free. */
static int eval_on(const char *text, struct fake *f)
{
	struct err e = { 0 };
	struct cql_expr *x = cql_parse(text, &e);
	struct cql_subject s = subject_of(f);
	int r;
	if (!x)
		fail_msg("'%s' did not parse: %s", text, e.msg);
	r = cql_eval(x, &s);
	assert_true(r == 0 || r == 1);
	cql_free(x);
	return r;
}

/* "wab": expected result on web_a, db_d, empty_b ('1' or '0'). */
static void expect(const char *text, const char *wab)
{
	struct fake fs[3] = { web_a(), db_d(), empty_b() };
	for (int i = 0; i < 3; i++) {
		int r = eval_on(text, &fs[i]);
		if (r != wab[i] - '0')
			fail_msg("'%s' on instance %d: got %d, want %c", text, i, r, wab[i]);
	}
}

/* text must fail to parse with a message containing want. */
static void expect_error(const char *text, const char *want)
{
	struct err e = { 0 };
	struct cql_expr *x = cql_parse(text, &e);
	if (x) {
		char *p = cql_print(x);
		cql_free(x);
		fail_msg("'%s' parsed (as '%s'), want an error with '%s'", text, p, want);
	}
	assert_int_equal(e.code, CQL_ERR_SYNTAX);
	if (!strstr(e.msg, want))
		fail_msg("'%s': message '%s' lacks '%s'", text, e.msg, want);
}

/* The canonical print of text, which must parse. */
static char *print_of(const char *text)
{
	struct err e = { 0 };
	struct cql_expr *x = cql_parse(text, &e);
	char *p;
	if (!x)
		fail_msg("'%s' did not parse: %s", text, e.msg);
	p = cql_print(x);
	cql_free(x);
	return p;
}

static void expect_print(const char *text, const char *want)
{
	char *p = print_of(text);
	if (strcmp(p, want) != 0)
		fail_msg("'%s' printed as '%s', want '%s'", text, p, want);
	free(p);
}

/* ---- the guide ---- */

/* cluster-query-language.md, "Example expressions", in page order. */
static void test_guide_examples(void **state)
{
	(void)state;
	/* String equality. */
	expect("attribute:ecs.instance-type == t2.small", "001");
	/* Argument list. */
	expect("attribute:ecs.availability-zone in [us-east-1a, us-east-1b]", "101");
	/* Compound expression: G2 instances not in us-east-1d. */
	expect("attribute:ecs.instance-type =~ g2.* and attribute:ecs.availability-zone != us-east-1d", "000");
	{
		struct fake g2a = db_d();
		g2a.attrs[1][1] = "us-east-1a";
		assert_int_equal(eval_on("attribute:ecs.instance-type =~ g2.* and "
					 "attribute:ecs.availability-zone != us-east-1d",
					 &g2a),
				 1);
	}
	/* Task affinity and anti-affinity. */
	expect("task:group == service:production", "000");
	expect("task:group == service:web", "100");
	expect("not(task:group == database)", "101");
	/* Running task count. */
	expect("runningTasksCount == 1", "010");
	/* Agent version below 1.14.5. */
	expect("agentVersion < 1.14.5", "011");
	/* Registered before February 13, 2018. */
	expect("registeredAt < 2018-02-13", "001");
	/* EC2 instance ids, quoted. */
	expect("ec2InstanceId in ['i-abcd1234', 'i-wxyx7890']", "110");
	/* The precedence example's shape. */
	expect("(attribute:stack == prod or attribute:stack == dev) and runningTasksCount >= 1", "110");
}

/* task-placement-constraints.md: the ListContainerInstances filters and the
 * memberOf constraints, and the examples in the brief. */
static void test_guide_filter_examples(void **state)
{
	(void)state;
	expect("attribute:ecs.instance-type == g2.2xlarge", "010");
	expect("attribute:stack == prod", "100");
	/* "the instances with the custom attribute stack unless its value is
	 * prod": empty_b, without stack, is not listed. */
	expect("attribute:stack != prod", "010");
	expect("attribute:ecs.instance-type in [t2.small, t2.medium]", "001");
	expect("attribute:ecs.instance-type =~ t2.* and attribute:ecs.availability-zone == us-east-1a", "000");
	expect("attribute:ecs.instance-type =~ t2.* and attribute:ecs.availability-zone == us-east-1b", "001");
	expect("attribute:ecs.instance-type =~ t2.*", "001");
	expect("task:group == databases", "000");
	expect("task:group == database", "010");
	expect("registeredAt < 2018-06-18T22:28:28+00:00", "011");
	expect("registeredAt <= 2018-06-18T22:28:28+00:00", "111");
	expect("agentVersion >= 1.35.0", "100");
	expect("attribute:ecs.os-type == linux and attribute:ecs.cpu-architecture == x86_64", "100");
	expect("attribute:ecs.ami-id exists", "100");
}

/* ---- spellings ---- */

static void test_word_operators(void **state)
{
	static const struct {
		const char *word, *sym;
	} pairs[] = {
		{ "attribute:stack equals prod", "attribute:stack == prod" },
		{ "attribute:stack not_equals prod", "attribute:stack != prod" },
		{ "runningTasksCount greater_than 1", "runningTasksCount > 1" },
		{ "runningTasksCount greater_than_equal 1", "runningTasksCount >= 1" },
		{ "runningTasksCount less_than 1", "runningTasksCount < 1" },
		{ "runningTasksCount less_than_equal 1", "runningTasksCount <= 1" },
		{ "attribute:gpu exists", "attribute:gpu exists" },
		{ "attribute:gpu not_exists", "attribute:gpu !exists" },
		{ "attribute:stack in [prod]", "attribute:stack in [prod]" },
		{ "attribute:stack not_in [prod]", "attribute:stack !in [prod]" },
		{ "attribute:stack matches pr.*", "attribute:stack =~ pr.*" },
		{ "attribute:stack not_matches pr.*", "attribute:stack !~ pr.*" },
		{ "attribute:gpu exists && attribute:stack exists", "attribute:gpu exists and attribute:stack exists" },
		{ "attribute:gpu exists || attribute:stack exists", "attribute:gpu exists or attribute:stack exists" },
		{ "!attribute:gpu exists", "not attribute:gpu exists" },
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(pairs); i++) {
		char *a = print_of(pairs[i].word), *b = print_of(pairs[i].sym);
		assert_string_equal(a, b);
		assert_string_equal(a, pairs[i].sym);
		free(a);
		free(b);
		for (int k = 0; k < 3; k++) {
			struct fake fs[3] = { web_a(), db_d(), empty_b() };
			assert_int_equal(eval_on(pairs[i].word, &fs[k]), eval_on(pairs[i].sym, &fs[k]));
		}
	}
}

static void test_case_insensitive_words(void **state)
{
	(void)state;
	expect_print("ATTRIBUTE:stack EQUALS prod AND NOT Task:Group == database OR AgentConnected == TRUE",
		     "attribute:stack == prod and not task:group == database or agentConnected == TRUE");
	expect_print("attribute:gpu Not_Exists", "attribute:gpu !exists");
	expect_print("attribute:gpu !EXISTS", "attribute:gpu !exists");
	expect_print("runningtaskscount < 3", "runningTasksCount < 3");
	/* Attribute names and values keep their case. */
	expect("attribute:STACK == prod", "000");
	expect("attribute:stack == PROD", "000");
	/* agentConnected's true / false do not. */
	expect("agentConnected == TRUE", "101");
	expect("agentConnected == false", "010");
	expect("agentConnected in [True]", "101");
}

/* ---- precedence and printing ---- */

static void test_precedence(void **state)
{
	(void)state;
	/* not binds tightest, then and, then or. */
	expect_print("attribute:a exists or attribute:b exists and attribute:c exists",
		     "attribute:a exists or attribute:b exists and attribute:c exists");
	expect_print("(attribute:a exists or attribute:b exists) and attribute:c exists",
		     "(attribute:a exists or attribute:b exists) and attribute:c exists");
	expect_print("not attribute:a exists and attribute:b exists",
		     "not attribute:a exists and attribute:b exists");
	expect_print("not (attribute:a exists and attribute:b exists)",
		     "not (attribute:a exists and attribute:b exists)");
	/* web_a has stack=prod and gpu; db_d stack=dev; empty_b neither. */
	expect("attribute:stack == dev or attribute:stack == prod and attribute:gpu exists", "110");
	expect("(attribute:stack == dev or attribute:stack == prod) and attribute:gpu exists", "100");
	expect("attribute:stack == prod and attribute:gpu exists or attribute:stack == dev", "110");
	expect("attribute:stack == prod and (attribute:gpu exists or attribute:stack == dev)", "100");
	expect("not attribute:gpu exists and attribute:stack exists", "010");
	expect("not (attribute:gpu exists and attribute:stack exists)", "011");
	expect("! ! attribute:gpu exists", "100");
	expect("not not not attribute:gpu exists", "011");
	expect("!(attribute:gpu exists)&&!(attribute:stack exists)", "001");
}

static void test_print_canonical(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "  attribute:ecs.instance-type==t2.small  ", "attribute:ecs.instance-type == t2.small" },
		{ "attribute:x in[a,b ,  c]", "attribute:x in [a, b, c]" },
		{ "attribute:x in a", "attribute:x in [a]" },
		{ "ec2InstanceId in ['i-abcd1234', \"i-wxyx7890\"]", "ec2InstanceId in [i-abcd1234, i-wxyx7890]" },
		{ "attribute:x == 'has space'", "attribute:x == 'has space'" },
		{ "attribute:x == \"it's\"", "attribute:x == \"it's\"" },
		{ "attribute:x == 'say \"hi\"'", "attribute:x == 'say \"hi\"'" },
		{ "attribute:x == ''", "attribute:x == ''" },
		{ "attribute:x == 'plain'", "attribute:x == plain" },
		{ "attribute:x =~ '(a|b) c'", "attribute:x =~ '(a|b) c'" },
		{ "attribute:x =~ \"(a|b)c\"", "attribute:x =~ (a|b)c" },
		{ "((attribute:a exists))", "attribute:a exists" },
		{ "(attribute:a exists and attribute:b exists) and (attribute:c exists and attribute:d exists)",
		  "attribute:a exists and attribute:b exists and attribute:c exists and attribute:d exists" },
		{ "attribute:a exists or (attribute:b exists or attribute:c exists)",
		  "attribute:a exists or attribute:b exists or attribute:c exists" },
		{ "not(task:group == database)", "not task:group == database" },
		{ "task:group==service:web&&agentVersion>=1.35.0||registeredAt<2018-06-18",
		  "task:group == service:web and agentVersion >= 1.35.0 or registeredAt < 2018-06-18" },
		{ "not (not attribute:a exists)", "not not attribute:a exists" },
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		expect_print(cases[i].in, cases[i].out);
}

/* print -> parse -> print is a fixed point, and the reparsed expression
 * evaluates the same on every fake instance. */
static void test_round_trip(void **state)
{
	static const char *texts[] = {
		"attribute:ecs.instance-type == t2.small",
		"attribute:ecs.availability-zone in [us-east-1a, us-east-1b]",
		"attribute:ecs.instance-type =~ g2.* and attribute:ecs.availability-zone != us-east-1d",
		"not(task:group == database)",
		"ec2InstanceId in ['i-abcd1234', 'i-wxyx7890']",
		"registeredAt < 2018-06-18T22:28:28+00:00",
		"attribute:x =~ '[ (]+'",
		"attribute:x =~ [(]",
		"attribute:x =~ \"it's\\d\"",
		"attribute:x =~ 'a\\)b'",
		"(attribute:x =~ (a|b)) and (attribute:y =~ c)",
		"not (attribute:a exists or not (attribute:b exists and attribute:c !in ['x y', z]))",
		"attribute:weird\\name:with/colons == a@b+c",
		"task:group != service:*",
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(texts); i++) {
		struct err e = { 0 };
		struct cql_expr *x = cql_parse(texts[i], &e), *y;
		char *p, *q;
		if (!x)
			fail_msg("'%s': %s", texts[i], e.msg);
		p = cql_print(x);
		y = cql_parse(p, &e);
		if (!y)
			fail_msg("'%s' printed as '%s', which does not parse: %s", texts[i], p, e.msg);
		q = cql_print(y);
		assert_string_equal(p, q);
		for (int k = 0; k < 3; k++) {
			struct fake fs[3] = { web_a(), db_d(), empty_b() };
			struct cql_subject s = subject_of(&fs[k]);
			assert_int_equal(cql_eval(x, &s), cql_eval(y, &s));
		}
		free(p);
		free(q);
		cql_free(x);
		cql_free(y);
	}
}

/* ---- errors ---- */

static void test_syntax_errors(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "", "position 1: expected a subject" },
		{ "   ", "position 4: expected a subject" },
		{ "== t2.small", "position 1: expected a subject" },
		{ "instance-type == t2.small", "position 1: unknown subject 'instance-type'" },
		{ "attribute: == x", "position 11: expected an attribute name" },
		{ "attribute:a*b exists", "position 12: '*' cannot be part of an attribute name" },
		{ "attribute:stack prod", "position 17: expected an operator" },
		{ "attribute:stack", "position 16: expected an operator (==, !=, >, >=, <, <=, exists, !exists, in, "
				 "!in, =~ or !~) after the subject, found the end of the expression" },
		{ "attribute:stack = prod", "position 17: expected an operator" },
		{ "attribute:stack ==", "position 19: expected a value" },
		{ "attribute:stack == )", "position 20: expected a value (a word or a quoted string), found ')'" },
		{ "attribute:stack == [a, b]", "position 20: '==' takes a single value" },
		{ "attribute:stack == 'prod", "position 20: the quoted string that starts here is not closed" },
		{ "attribute:stack in [a b]", "position 23: expected ',' or ']' in the list opened at position 20" },
		{ "attribute:stack in [a,]", "position 23: expected a value" },
		{ "attribute:stack in []", "position 21: expected a value" },
		{ "attribute:stack in [a", "position 22: expected ',' or ']'" },
		{ "attribute:stack == prod dev", "position 25: expected 'and', 'or' or the end of the expression, "
					      "found 'dev'" },
		{ "attribute:stack == prod)", "position 24: ')' closes no '('" },
		{ "(attribute:stack == prod", "position 25: expected 'and', 'or' or ')' closing the '(' at "
					  "position 1, found the end of the expression" },
		{ "attribute:a exists and", "position 23: expected a subject" },
		{ "attribute:a exists or or", "position 23: expected a subject (attribute:<name>, task:group, "
						"agentConnected, agentVersion, ec2InstanceId, registeredAt or "
						"runningTasksCount), found 'or'" },
		{ "attribute:a exists and and", "position 24: expected a subject" },
		{ "attribute:a exists & attribute:b exists", "position 20: expected 'and', 'or'" },
		{ "attribute:a exists |", "position 20: expected 'and', 'or'" },
		{ "not", "position 4: expected a subject" },
		{ "()", "position 2: expected a subject" },
		{ "attribute:a =~ '('", "position 16: invalid regular expression" },
		{ "attribute:a =~ a)", "position 17: ')' closes no '('" },
		{ "attribute:a =~ (a)\\1", "position 16: invalid regular expression: back-references" },
		{ "attribute:a =~ (a{100}){5}", "position 16: invalid regular expression: it is too complex" },
		{ "attribute:a =~ a{1234567}", "invalid regular expression: it is too complex" },
		{ "attribute:a =~ '(a|b)+++++++ c'", "invalid regular expression: quantifiers nest more than two deep" },
		{ "attribute:a =~ ((a*)*){70}", "invalid regular expression: quantifiers nest more than two deep" },
		/* Found by fuzz_cql: regcomp took minutes on these. */
		{ "attribute:x =~ '(a^)`*++++++++++$m'", "quantifiers nest more than two deep" },
		{ "attribute:x =~ ((((((a*)*)*)*)*)*)", "quantifiers nest more than two deep" },
		{ "attribute:x =~ (x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)"
		  "(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)"
		  "(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)"
		  "(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)"
		  "(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)"
		  "(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)"
		  "(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)(x*|y?)",
		  "more than 600 nodes once unrolled" },
		{ "attribute:a =~ (((((((a+)+)+)+)+)+)+)", "quantifiers nest more than two deep" },
		{ "attribute:a =~ ", "position 16: expected a regular expression" },
		{ "registeredAt < yesterday", "position 16: registeredAt takes a date (2018-06-18T22:28:28+00:00" },
		{ "registeredAt < 2018-02-30", "position 16: registeredAt takes a date" },
		{ "registeredAt < 2018-13-01", "registeredAt takes a date" },
		{ "registeredAt < 2018-06-18T24:00:00", "registeredAt takes a date" },
		{ "registeredAt < 2018-06-18T22:28", "registeredAt takes a date" },
		{ "registeredAt < 2018-06-18T22:28:28+0000", "registeredAt takes a date" },
		{ "registeredAt < 2018-06-18T22:28:28.", "registeredAt takes a date" },
		{ "registeredAt in [2018-06-18]", "position 14: operator 'in' cannot be used with registeredAt, "
						  "which takes ==, !=, >, >=, <, <=" },
		{ "agentVersion =~ 1.*", "operator '=~' cannot be used with agentVersion" },
		{ "runningTasksCount exists", "operator 'exists' cannot be used with runningTasksCount" },
		{ "ec2InstanceId > i-1", "operator '>' cannot be used with ec2InstanceId, which takes ==, !=, in, "
					 "!in, =~, !~" },
		{ "agentConnected less_than true", "operator 'less_than' cannot be used with agentConnected" },
		{ "attribute:x == \x01", "position 16: expected a value (a word or a quoted string), found byte 0x01" },
		{ "attribute:x ! exists", "position 13: expected an operator" },
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		expect_error(cases[i].text, cases[i].want);
}

static void test_null_text(void **state)
{
	struct err e = { 0 };
	(void)state;
	assert_null(cql_parse(NULL, &e));
	assert_int_equal(e.code, CQL_ERR_SYNTAX);
	assert_non_null(strstr(e.msg, "expected a subject"));
	cql_free(NULL);
}

/* ---- limits ---- */

/* A text of exactly len characters: a condition padded with blanks. */
static char *padded(const char *cond, size_t len)
{
	char *s = malloc(len + 1);
	size_t n = strlen(cond);
	assert_true(n <= len);
	memcpy(s, cond, n);
	memset(s + n, ' ', len - n);
	s[len] = '\0';
	return s;
}

static void test_limit_length(void **state)
{
	char *ok = padded("attribute:stack == prod", CQL_TEXT_MAX);
	char *over = padded("attribute:stack == prod", CQL_TEXT_MAX + 1);
	struct err e = { 0 };
	struct cql_expr *x;
	(void)state;
	x = cql_parse(ok, &e);
	assert_non_null(x);
	cql_free(x);
	assert_null(cql_parse(over, &e));
	assert_string_equal(e.msg, "the expression is 2001 characters long; at most 2000 are allowed");
	free(ok);
	free(over);
}

/* n parentheses (or nots) around a condition. */
static char *nested(int n, int nots)
{
	char *s = malloc((size_t)n * 4 + 64), *p = s;
	for (int i = 0; i < n; i++)
		p += sprintf(p, "%s", nots ? "not " : "(");
	p += sprintf(p, "attribute:gpu exists");
	for (int i = 0; !nots && i < n; i++)
		*p++ = ')';
	*p = '\0';
	return s;
}

static void test_limit_depth(void **state)
{
	struct err e = { 0 };
	(void)state;
	for (int nots = 0; nots < 2; nots++) {
		char *ok = nested(CQL_DEPTH_MAX, nots), *over = nested(CQL_DEPTH_MAX + 1, nots);
		struct cql_expr *x = cql_parse(ok, &e);
		struct fake f = web_a();
		struct cql_subject s = subject_of(&f);
		assert_non_null(x);
		/* 32 nots is even: the same as no not. */
		assert_int_equal(cql_eval(x, &s), 1);
		cql_free(x);
		assert_null(cql_parse(over, &e));
		if (!strstr(e.msg, "nest deeper than 32 levels"))
			fail_msg("%s", e.msg);
		free(ok);
		free(over);
	}
	/* Mixed: 20 parentheses and 13 nots is 33 levels. */
	{
		char buf[512], *p = buf;
		for (int i = 0; i < 20; i++)
			*p++ = '(';
		for (int i = 0; i < 13; i++)
			p += sprintf(p, "! ");
		p += sprintf(p, "attribute:a exists");
		for (int i = 0; i < 20; i++)
			*p++ = ')';
		*p = '\0';
		expect_error(buf, "position 45: expressions nest deeper than 32 levels");
	}
	/* Long flat chains are not nesting: 80 ors parse. */
	{
		char *s = malloc(80 * 24 + 1), *p = s;
		struct cql_expr *x;
		for (int i = 0; i < 80; i++)
			p += sprintf(p, "%sattribute:a%d exists", i ? " or " : "", i % 10);
		x = cql_parse(s, &e);
		assert_non_null(x);
		cql_free(x);
		free(s);
	}
}

static void test_limit_list(void **state)
{
	char buf[1024], *p;
	struct err e = { 0 };
	struct cql_expr *x;
	(void)state;
	p = buf + sprintf(buf, "attribute:x in [");
	for (int i = 0; i < CQL_LIST_MAX; i++)
		p += sprintf(p, "%sv%d", i ? "," : "", i);
	strcpy(p, "]");
	x = cql_parse(buf, &e);
	assert_non_null(x);
	{
		struct fake f = { .attrs = { { "x", "v99" } } };
		struct cql_subject s = subject_of(&f);
		assert_int_equal(cql_eval(x, &s), 1);
	}
	cql_free(x);
	strcpy(p, ",v100]");
	x = cql_parse(buf, &e);
	assert_null(x);
	assert_non_null(strstr(e.msg, "a list holds at most 100 values"));
}

/* ---- evaluation ---- */

/* A condition on an absent subject is false, negated operators included;
 * only !exists holds. */
static void test_absent_subjects(void **state)
{
	static const char *false_on_absent[] = {
		"attribute:nope == a",  "attribute:nope != a",  "attribute:nope > a",  "attribute:nope <= a",
		"attribute:nope in [a]", "attribute:nope !in [a]", "attribute:nope =~ .*", "attribute:nope !~ a",
		"attribute:nope exists", "attribute:nope == *",
	};
	struct fake f = web_a();
	struct fake none = { 0 };
	struct cql_subject nothing = { 0 };
	struct err e = { 0 };
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(false_on_absent); i++)
		assert_int_equal(eval_on(false_on_absent[i], &f), 0);
	assert_int_equal(eval_on("attribute:nope !exists", &f), 1);
	assert_int_equal(eval_on("not attribute:nope == a", &f), 1);
	/* Unknown fields. */
	assert_int_equal(eval_on("agentVersion >= 0", &none), 0);
	assert_int_equal(eval_on("agentVersion != 1.0.0", &none), 0);
	assert_int_equal(eval_on("runningTasksCount == 0", &none), 0);
	assert_int_equal(eval_on("registeredAt > 1970-01-01", &none), 0);
	assert_int_equal(eval_on("ec2InstanceId !in [i-1]", &none), 0);
	assert_int_equal(eval_on("agentConnected == true", &none), 0);
	/* No callbacks at all. */
	{
		static const char *texts[] = { "attribute:a exists",   "attribute:a !exists", "agentConnected == true",
					       "task:group exists",    "task:group !exists",  "task:group != x",
					       "runningTasksCount < 5" };
		static const int want[] = { 0, 1, 0, 0, 1, 0, 0 };
		for (size_t i = 0; i < ARRAY_LEN(texts); i++) {
			struct cql_expr *x = cql_parse(texts[i], &e);
			assert_non_null(x);
			assert_int_equal(cql_eval(x, &nothing), want[i]);
			cql_free(x);
		}
	}
	/* A name-only attribute exists and equals the empty string. */
	assert_int_equal(eval_on("attribute:gpu exists", &f), 1);
	assert_int_equal(eval_on("attribute:gpu == ''", &f), 1);
	assert_int_equal(eval_on("attribute:gpu != ''", &f), 0);
	assert_int_equal(eval_on("attribute:gpu =~ ''", &f), 1);
	assert_int_equal(eval_on("attribute:gpu == *", &f), 1);
}

static void test_numbers(void **state)
{
	struct fake f = { .attrs = { { "n", "10" }, { "d", "2.50" }, { "neg", "-3" }, { "s", "abc" },
				     { "big", "123456789012345678901234567890" } },
			  .running_tasks_count = "10" };
	(void)state;
	/* Numerically, not as strings ("10" < "9" as strings). */
	assert_int_equal(eval_on("runningTasksCount > 9", &f), 1);
	assert_int_equal(eval_on("runningTasksCount < 9", &f), 0);
	assert_int_equal(eval_on("runningTasksCount == 010", &f), 1);
	assert_int_equal(eval_on("runningTasksCount >= 10.0", &f), 1);
	assert_int_equal(eval_on("runningTasksCount <= 9.99", &f), 0);
	/* A non-number does not compare with runningTasksCount. */
	assert_int_equal(eval_on("runningTasksCount < abc", &f), 0);
	assert_int_equal(eval_on("runningTasksCount > abc", &f), 0);
	assert_int_equal(eval_on("runningTasksCount != abc", &f), 1);
	/* Attributes: exact decimals, signs, any length. */
	assert_int_equal(eval_on("attribute:d == 2.5", &f), 1);
	assert_int_equal(eval_on("attribute:d > 2.49999", &f), 1);
	assert_int_equal(eval_on("attribute:d < 2.500001", &f), 1);
	assert_int_equal(eval_on("attribute:neg < -2", &f), 1);
	assert_int_equal(eval_on("attribute:neg > -4", &f), 1);
	assert_int_equal(eval_on("attribute:neg < 0", &f), 1);
	assert_int_equal(eval_on("attribute:n == +10", &f), 1);
	assert_int_equal(eval_on("attribute:big > 123456789012345678901234567889", &f), 1);
	assert_int_equal(eval_on("attribute:big < 123456789012345678901234567891", &f), 1);
	assert_int_equal(eval_on("attribute:n == -0", &f), 0);
	/* Strings compare bytewise when either side is no number. */
	assert_int_equal(eval_on("attribute:s > abb", &f), 1);
	assert_int_equal(eval_on("attribute:s < abd", &f), 1);
	assert_int_equal(eval_on("attribute:n < abc", &f), 1);
	{
		struct fake z = { .attrs = { { "z", "0" }, { "mz", "-0.00" } } };
		assert_int_equal(eval_on("attribute:z == -0", &z), 1);
		assert_int_equal(eval_on("attribute:mz == 0", &z), 1);
		assert_int_equal(eval_on("attribute:mz >= 0", &z), 1);
	}
}

static void test_versions(void **state)
{
	struct fake f = { .agent_version = "1.10.0", .attrs = { { "v", "1.10.0" } } };
	(void)state;
	assert_int_equal(eval_on("agentVersion > 1.9.0", &f), 1);
	assert_int_equal(eval_on("agentVersion > 1.9", &f), 1);
	assert_int_equal(eval_on("agentVersion < 1.10.1", &f), 1);
	assert_int_equal(eval_on("agentVersion == 1.10", &f), 1);
	assert_int_equal(eval_on("agentVersion == 1.010.0", &f), 1);
	assert_int_equal(eval_on("agentVersion >= 2", &f), 0);
	assert_int_equal(eval_on("agentVersion != 1.10.0", &f), 0);
	/* Attributes: dotted versions compare as versions too. */
	assert_int_equal(eval_on("attribute:v > 1.9.0", &f), 1);
	/* A version against a non-version: no order. */
	assert_int_equal(eval_on("agentVersion > abc", &f), 0);
	assert_int_equal(eval_on("agentVersion < abc", &f), 0);
	{
		struct fake odd = { .agent_version = "1.0.0-rc1" };
		assert_int_equal(eval_on("agentVersion >= 0.1", &odd), 0);
		assert_int_equal(eval_on("agentVersion == 1.0.0-rc1", &odd), 1);
	}
}

static void test_dates(void **state)
{
	struct fake f = { .registered_at = "1529360908000" }; /* 2018-06-18T22:28:28Z */
	struct fake bad = { .registered_at = "yesterday" };
	(void)state;
	/* The four forms of the guide. */
	assert_int_equal(eval_on("registeredAt == 2018-06-18T22:28:28+00:00", &f), 1);
	assert_int_equal(eval_on("registeredAt == 2018-06-18T22:28:28Z", &f), 1);
	assert_int_equal(eval_on("registeredAt == 2018-06-18T22:28:28", &f), 1);
	assert_int_equal(eval_on("registeredAt > 2018-06-18", &f), 1);
	assert_int_equal(eval_on("registeredAt < 2018-06-19", &f), 1);
	/* Offsets, fractions, lower case. */
	assert_int_equal(eval_on("registeredAt == 2018-06-19T00:28:28+02:00", &f), 1);
	assert_int_equal(eval_on("registeredAt == 2018-06-18T17:58:28-04:30", &f), 1);
	assert_int_equal(eval_on("registeredAt == 2018-06-18t22:28:28.000z", &f), 1);
	assert_int_equal(eval_on("registeredAt < 2018-06-18T22:28:28.001Z", &f), 1);
	assert_int_equal(eval_on("registeredAt > 2018-06-18T22:28:27.9999Z", &f), 1);
	assert_int_equal(eval_on("registeredAt != 2018-06-18T22:28:29Z", &f), 1);
	/* Calendar arithmetic at the edges. */
	{
		struct fake g = { .registered_at = "951845400000" };
		assert_int_equal(eval_on("registeredAt == 2000-02-29T12:00:00-05:30", &g), 1);
		g.registered_at = "-1000";
		assert_int_equal(eval_on("registeredAt == 1969-12-31T23:59:59Z", &g), 1);
		g.registered_at = "1735689599999";
		assert_int_equal(eval_on("registeredAt == 2024-12-31T23:59:59.999Z", &g), 1);
		g.registered_at = "-62135596800000";
		assert_int_equal(eval_on("registeredAt == 0001-01-01", &g), 1);
		g.registered_at = "253402300799000";
		assert_int_equal(eval_on("registeredAt == 9999-12-31T23:59:59Z", &g), 1);
	}
	expect_error("registeredAt < 2019-02-29", "registeredAt takes a date");
	expect_error("registeredAt < 0000-01-01", "registeredAt takes a date");
	/* A value that is no epoch ms does not compare. */
	assert_int_equal(eval_on("registeredAt > 1970-01-01", &bad), 0);
	assert_int_equal(eval_on("registeredAt < 1970-01-01", &bad), 0);
	assert_int_equal(eval_on("registeredAt != 1970-01-01", &bad), 1);
}

static void test_globs(void **state)
{
	(void)state;
	expect("attribute:ecs.instance-type == t2.*", "001");
	expect("attribute:ecs.instance-type == *.large", "100");
	expect("attribute:ecs.instance-type == *2*", "011");
	expect("attribute:ecs.instance-type != t2.*", "110");
	expect("attribute:ecs.instance-type in [t2.*, g2.*]", "011");
	expect("attribute:ecs.instance-type !in [t2.*, g2.*]", "100");
	expect("task:group == service:*", "100");
	expect("attribute:ecs.availability-zone == 'us-east-1?'", "000"); /* only * is special */
	/* The ordering operators take * literally: "t2.small" > "t2.*"
	 * bytewise, as 's' > '*'. */
	expect("attribute:ecs.instance-type > t2.*", "001");
	expect("attribute:ecs.instance-type < t2.*", "110");
	{
		struct fake f = { .attrs = { { "x", "a*b" } } };
		assert_int_equal(eval_on("attribute:x == a*b", &f), 1);
		assert_int_equal(eval_on("attribute:x == 'a*b'", &f), 1);
		assert_int_equal(eval_on("attribute:x == a**", &f), 1);
		assert_int_equal(eval_on("attribute:x == *c", &f), 0);
	}
}

static void test_regex(void **state)
{
	struct fake f = { .attrs = { { "t", "t2.small" }, { "ab", "ab" }, { "id", "i-0123456789" },
				     { "sp", "a b" }, { "paren", "a)b" } } };
	(void)state;
	/* Anchored to the whole value, as Java's matches(). */
	assert_int_equal(eval_on("attribute:t =~ t2", &f), 0);
	assert_int_equal(eval_on("attribute:t =~ t2.*", &f), 1);
	assert_int_equal(eval_on("attribute:t =~ .*small", &f), 1);
	assert_int_equal(eval_on("attribute:t =~ small", &f), 0);
	assert_int_equal(eval_on("attribute:t !~ t2", &f), 1);
	assert_int_equal(eval_on("attribute:t !~ t2\\..*", &f), 0);
	/* Leftmost-longest finds the whole value when an alternative does. */
	assert_int_equal(eval_on("attribute:ab =~ a|ab", &f), 1);
	assert_int_equal(eval_on("attribute:ab =~ (a|ab)(c|bcd)?", &f), 1);
	/* \d is translated; classes and intervals work. */
	assert_int_equal(eval_on("attribute:id =~ i-\\d+", &f), 1);
	assert_int_equal(eval_on("attribute:id =~ i-\\D+", &f), 0);
	assert_int_equal(eval_on("attribute:id =~ i-[[:digit:]]{10}", &f), 1);
	assert_int_equal(eval_on("attribute:id =~ i-[0-9a-f]{8,17}", &f), 1);
	assert_int_equal(eval_on("attribute:id =~ 'i-[\\d]+'", &f), 0); /* \ and d in brackets */
	/* Realistic quantifiers are well inside the size limit. */
	assert_int_equal(eval_on("attribute:id =~ [a-z]+-[0-9]+[a-z]*[0-9]+(-[a-z]+)?", &f), 1);
	assert_int_equal(eval_on("attribute:t =~ ((t2)?.){1,9}small", &f), 1);
	assert_int_equal(eval_on("attribute:t =~ .{0,255}", &f), 1);
	assert_int_equal(eval_on("attribute:t =~ (t2|m5)+\\.(small)*", &f), 1);
	/* Java's lazy a*? is a*'s language; whole-value matching cannot tell. */
	assert_int_equal(eval_on("attribute:t =~ t2.*?", &f), 1);
	/* Blanks and stray parentheses need quotes. */
	assert_int_equal(eval_on("attribute:sp =~ 'a b'", &f), 1);
	assert_int_equal(eval_on("attribute:paren =~ 'a\\)b'", &f), 1);
	assert_int_equal(eval_on("attribute:paren =~ a\\)b", &f), 1);
	assert_int_equal(eval_on("(attribute:t =~ (t2|m5)\\..*)", &f), 1);
	assert_int_equal(eval_on("not(attribute:t =~ (t2|m5)\\..*)", &f), 0);
	assert_int_equal(eval_on("attribute:t =~ [)(t]2.*", &f), 1);
	assert_int_equal(eval_on("ec2InstanceId =~ i-abcd.*", &(struct fake){ .ec2_instance_id = "i-abcd1234" }),
			 1);
}

static void test_task_groups(void **state)
{
	struct fake f = web_a(); /* service:web, family:batch */
	struct fake idle = empty_b();
	(void)state;
	assert_int_equal(eval_on("task:group == family:batch", &f), 1);
	assert_int_equal(eval_on("task:group exists", &f), 1);
	assert_int_equal(eval_on("task:group !exists", &f), 0);
	assert_int_equal(eval_on("task:group exists", &idle), 0);
	assert_int_equal(eval_on("task:group !exists", &idle), 1);
	/* Existential: != holds when some other group runs there. */
	assert_int_equal(eval_on("task:group != service:web", &f), 1);
	assert_int_equal(eval_on("task:group != service:web", &idle), 0);
	assert_int_equal(eval_on("not task:group == service:web", &idle), 1);
	assert_int_equal(eval_on("task:group in [database, family:batch]", &f), 1);
	assert_int_equal(eval_on("task:group !in [service:web, family:batch]", &f), 0);
	assert_int_equal(eval_on("task:group =~ service:.*", &f), 1);
	assert_int_equal(eval_on("task:group !~ service:.*", &f), 1);
	assert_int_equal(eval_on("task:group > service:a", &f), 1);
	/* The walk stops at the first group that matches. */
	f.visits = 0;
	assert_int_equal(eval_on("task:group == service:web", &f), 1);
	assert_int_equal(f.visits, 1);
	f.visits = 0;
	assert_int_equal(eval_on("task:group == nothing", &f), 0);
	assert_int_equal(f.visits, 2);
}

static void test_agent_connected(void **state)
{
	(void)state;
	expect("agentConnected == true", "101");
	expect("agentConnected != true", "010");
	expect("agentConnected !in [true]", "010");
	expect("agentConnected =~ t.*", "101");
	expect("agentConnected == false or runningTasksCount == 0", "011");
}

/* The subject's strings are only read during cql_eval: one expression,
 * many instances, in any order. */
static void test_reuse(void **state)
{
	struct err e = { 0 };
	struct cql_expr *x = cql_parse("attribute:ecs.instance-type =~ (t2|g2)\\..* and runningTasksCount < 2", &e);
	struct fake fs[3] = { web_a(), db_d(), empty_b() };
	(void)state;
	assert_non_null(x);
	for (int round = 0; round < 3; round++) {
		for (int i = 2; i >= 0; i--) {
			struct cql_subject s = subject_of(&fs[i]);
			assert_int_equal(cql_eval(x, &s), i != 0);
		}
	}
	cql_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guide_examples),
		cmocka_unit_test(test_guide_filter_examples),
		cmocka_unit_test(test_word_operators),
		cmocka_unit_test(test_case_insensitive_words),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_print_canonical),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_null_text),
		cmocka_unit_test(test_limit_length),
		cmocka_unit_test(test_limit_depth),
		cmocka_unit_test(test_limit_list),
		cmocka_unit_test(test_absent_subjects),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_globs),
		cmocka_unit_test(test_regex),
		cmocka_unit_test(test_task_groups),
		cmocka_unit_test(test_agent_connected),
		cmocka_unit_test(test_reuse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
