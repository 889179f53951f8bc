/* test_strategy: sched/strategy.c — validation rules and their order
 * (ECS-SEMANTICS §4.2), the base/weight split and its worked examples
 * (§4.4), pick_grow / pick_shrink, and property checks over random
 * strategies from a seeded xorshift generator (deterministic). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "sched/strategy.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Exact texts a client sees (§4.2). */
#define MSG_LAUNCH_TYPE \
	"Specifying both a launch type and capacity provider strategy is not " \
	"supported. Remove one and try again."
#define MSG_NOT_ASSOCIATED \
	"The specified capacity provider strategy cannot contain a capacity " \
	"provider that is not associated with the cluster. Associate the " \
	"capacity provider with the cluster or specify a valid capacity " \
	"provider and try again."
#define MSG_MIXED \
	"A capacity provider strategy cannot contain a mix of capacity " \
	"providers using Auto Scaling groups and Fargate providers. Specify " \
	"one or the other and try again."
#define MSG_NO_WEIGHT_DEFAULT \
	"There are no capacity providers with a weight value greater than " \
	"zero defined in the default capacity provider strategy. At least one " \
	"capacity provider must have a weight value greater than zero " \
	"specified. Update the cluster's default capacity provider strategy " \
	"or specify a valid capacity provider strategy and try again."
#define MSG_NO_WEIGHT_EXPLICIT \
	"There are no capacity providers with a weight value greater than " \
	"zero defined in the capacity provider strategy. At least one " \
	"capacity provider must have a weight value greater than zero " \
	"specified. Update the cluster's default capacity provider strategy " \
	"or specify a valid capacity provider strategy and try again."

/* The cluster every validation test runs against. */
static const struct sched_cp_ref cluster_cps[] = {
	{ "asg1", SCHED_CP_ASG, 1 },
	{ "asg2", SCHED_CP_ASG, 1 },
	{ "old", SCHED_CP_ASG, 0 },
	{ "FARGATE", SCHED_CP_FARGATE, 1 },
	{ "FARGATE_SPOT", SCHED_CP_FARGATE, 1 },
};

static struct sched_strategy_ctx ctx_for(enum sched_strategy_use use)
{
	struct sched_strategy_ctx c = {
		.associated = cluster_cps,
		.n_associated = ARRAY_LEN(cluster_cps),
		.max_items = 0,
		.launch_type_given = 0,
		.use = use,
	};
	return c;
}

static struct sched_strategy_item item(const char *p, int w, int b)
{
	struct sched_strategy_item it = { p, w, b, 1, 1 };
	return it;
}

/* Validate and check the rule, the err code and the exact message. */
static void expect_rule(const struct sched_strategy_item *items, size_t n,
			const struct sched_strategy_ctx *c,
			enum sched_strategy_rule rule, const char *msg)
{
	struct err e;
	err_clear(&e);
	assert_int_equal(sched_strategy_validate(items, n, c, &e), rule);
	assert_int_equal(e.code, (int)rule);
	if (msg)
		assert_string_equal(e.msg, msg);
	/* The answer does not depend on whether an err is given. */
	assert_int_equal(sched_strategy_validate(items, n, c, NULL), rule);
}

/* ---- validation: each rule ---- */

static void test_valid(void **state)
{
	(void)state;
	struct sched_strategy_ctx c = ctx_for(SCHED_USE_EXPLICIT);
	struct sched_strategy_item s[] = {
		item("FARGATE", 1, 1), item("FARGATE_SPOT", 4, 0),
	};
	struct err e;
	err_clear(&e);
	assert_int_equal(sched_strategy_validate(s, 2, &c, &e),
			 SCHED_STRATEGY_OK);
	assert_int_equal(e.code, 0);
	assert_string_equal(e.msg, "");
}

static void test_empty_is_valid(void **state)
{
	(void)state;
	struct sched_strategy_ctx c = ctx_for(SCHED_USE_EXPLICIT);
	c.launch_type_given = 1;
	c.max_items = 1;
	expect_rule(NULL, 0, &c, SCHED_STRATEGY_OK, "");
	c = ctx_for(SCHED_USE_CLUSTER_DEFAULT);
	c.associated = NULL;
	c.n_associated = 0;
	expect_rule(NULL, 0, &c, SCHED_STRATEGY_OK, "");
}

static void test_rule1_launch_type(void **state)
{
	(void)state;
	struct sched_strategy_ctx c = ctx_for(SCHED_USE_EXPLICIT);
	c.launch_type_given = 1;
	struct sched_strategy_item s[] = { item("asg1", 1, 0) };
	expect_rule(s, 1, &c, SCHED_STRATEGY_LAUNCH_TYPE, MSG_LAUNCH_TYPE);
}

static void test_rule2_too_many(void **state)
{
	(void)state;
	struct sched_strategy_ctx c = ctx_for(SCHED_USE_EXPLICIT);
	struct sched_strategy_item s[7];
	for (size_t i = 0; i < 7; i++)
		s[i] = item("FARGATE", 1, 0);  /* rule 4 would fire later */
	expect_rule(s, 7, &c, SCHED_STRATEGY_TOO_MANY,
		    "The capacity provider strategy can contain at most 6 "
		    "capacity providers.");
	/* today's AWS: 20 */
	c.max_items = 20;
	expect_rule(s, 7, &c, SCHED_STRATEGY_DUPLICATE, NULL);
	c.max_items = 3;
	expect_rule(s, 4, &c, SCHED_STRATEGY_TOO_MANY,
		    "The capacity provider strategy can contain at most 3 "
		    "capacity providers.");
	/* exactly max is fine */
	struct sched_strategy_item ok[] = {
		item("asg1", 1, 0), item("asg2", 1, 0), item("old", 1, 0),
	};
	c.max_items = 3;
	expect_rule(ok, 3, &c, SCHED_STRATEGY_NOT_ACTIVE, NULL);
	expect_rule(ok, 2, &c, SCHED_STRATEGY_OK, "");
}

static void test_rule3_range(void **state)
{
	(void)state;
	struct sched_strategy_ctx c = ctx_for(SCHED_USE_EXPLICIT);
	struct sched_strategy_item s[] = { item("asg1", 1001, 0) };
	expect_rule(s, 1, &c, SCHED_STRATEGY_RANGE,
		    "The specified weight value 1001 for capacity provider "
		    "'asg1' is invalid. The weight must be between 0 and 1000.");
	s[0] = item("asg1", -1, 0);
	expect_rule(s, 1, &c, SCHED_STRATEGY_RANGE,
		    "The specified weight value -1 for capacity provider "
		    "'asg1' is invalid. The weight must be between 0 and 1000.");
	s[0] = item("asg1", 1, 100001);
	expect_rule(s, 1, &c, SCHED_STRATEGY_RANGE,
		    "The specified base value 100001 for capacity provider "
		    "'asg1' is invalid. The base must be between 0 and 100000.");
	s[0] = item("asg1", 1, -5);
	expect_rule(s, 1, &c, SCHED_STRATEGY_RANGE,
		    "The specified base value -5 for capacity provider "
		    "'asg1' is invalid. The base must be between 0 and 100000.");
	/* the bounds themselves are valid */
	s[0] = item("asg1", 1000, 100000);
	expect_rule(s, 1, &c, SCHED_STRATEGY_OK, "");
	s[0] = item("asg1", 0, 0);
	expect_rule(s, 1, &c, SCHED_STRATEGY_NO_WEIGHT, NULL);
	/* a field not sent is 0, whatever it holds */
	struct sched_strategy_item u = { "asg1", 5000, -7, 0, 0 };
	expect_rule(&u, 1, &c, SCHED_STRATEGY_NO_WEIGHT, MSG_NO_WEIGHT_EXPLICIT);
	u.has_weight = 1;
	u.weight = 2;
	expect_rule(&u, 1, &c, SCHED_STRATEGY_OK, "");
}

static void test_rule4_base_and_duplicates(void **state)
{
	(void)state;
	struct sched_strategy_ctx c = ctx_for(SCHED_USE_EXPLICIT);
	struct sched_strategy_item s[] = {
		item("asg1", 1, 1), item("asg2", 1, 2),
	};
	expect_rule(s, 2, &c, SCHED_STRATEGY_MULTIPLE_BASE,
		    "Only one capacity provider in a capacity provider strategy "
		    "can have a base value greater than zero.");
	/* base 0 on several items is fine */
	s[0].base = 0;
	s[1].base = 0;
	expect_rule(s, 2, &c, SCHED_STRATEGY_OK, "");
	/* the same provider twice */
	struct sched_strategy_item d[] = {
		item("asg1", 1, 0), item("asg2", 1, 0), item("asg1", 2, 0),
	};
	expect_rule(d, 3, &c, SCHED_STRATEGY_DUPLICATE,
		    "The capacity provider 'asg1' appears more than once in the "
		    "capacity provider strategy. Specify each capacity provider "
		    "at most once.");
	/* several bases are reported before duplicates */
	d[0].base = 1;
	d[2].base = 1;
	expect_rule(d, 3, &c, SCHED_STRATEGY_MULTIPLE_BASE, NULL);
	/* names are compared exactly */
	struct sched_strategy_item k[] = {
		item("FARGATE", 1, 0), item("fargate", 1, 0),
	};
	expect_rule(k, 2, &c, SCHED_STRATEGY_NOT_ASSOCIATED, MSG_NOT_ASSOCIATED);
}

static void test_rule5_not_associated(void **state)
{
	(void)state;
	struct sched_strategy_ctx c = ctx_for(SCHED_USE_EXPLICIT);
	struct sched_strategy_item s[] = { item("asg1", 1, 0), item("nope", 1, 0) };
	expect_rule(s, 2, &c, SCHED_STRATEGY_NOT_ASSOCIATED, MSG_NOT_ASSOCIATED);
	/* an ARN is not a name */
	s[1] = item("arn:aws:ecs:us-east-1:000000000000:capacity-provider/asg2",
		    1, 0);
	expect_rule(s, 2, &c, SCHED_STRATEGY_NOT_ASSOCIATED, MSG_NOT_ASSOCIATED);
	/* nor are a missing and an empty name */
	s[1] = item(NULL, 1, 0);
	expect_rule(s, 2, &c, SCHED_STRATEGY_NOT_ASSOCIATED, MSG_NOT_ASSOCIATED);
	s[1] = item("", 1, 0);
	expect_rule(s, 2, &c, SCHED_STRATEGY_NOT_ASSOCIATED, MSG_NOT_ASSOCIATED);
	/* a cluster with no providers accepts no strategy */
	c.associated = NULL;
	c.n_associated = 0;
	expect_rule(s, 1, &c, SCHED_STRATEGY_NOT_ASSOCIATED, MSG_NOT_ASSOCIATED);
}

static void test_rule6_not_active(void **state)
{
	(void)state;
	struct sched_strategy_ctx c = ctx_for(SCHED_USE_EXPLICIT);
	struct sched_strategy_item s[] = { item("asg1", 1, 0), item("old", 1, 0) };
	expect_rule(s, 2, &c, SCHED_STRATEGY_NOT_ACTIVE,
		    "The specified capacity provider 'old' is not in an ACTIVE "
		    "state. Specify a valid capacity provider and try again.");
	/* the same when storing a cluster default */
	c = ctx_for(SCHED_USE_SET_DEFAULT);
	expect_rule(s, 2, &c, SCHED_STRATEGY_NOT_ACTIVE,
		    "The specified capacity provider 'old' is not in an ACTIVE "
		    "state. Specify a valid capacity provider and try again.");
}

static void test_rule7_mixed(void **state)
{
	(void)state;
	struct sched_strategy_item s[] = {
		item("asg1", 1, 0), item("FARGATE_SPOT", 1, 0),
	};
	enum sched_strategy_use uses[] = {
		SCHED_USE_SET_DEFAULT, SCHED_USE_EXPLICIT,
		SCHED_USE_CLUSTER_DEFAULT,
	};
	for (size_t u = 0; u < ARRAY_LEN(uses); u++) {
		struct sched_strategy_ctx c = ctx_for(uses[u]);
		expect_rule(s, 2, &c, SCHED_STRATEGY_MIXED, MSG_MIXED);
	}
	/* FARGATE and FARGATE_SPOT are one kind; two ASGs are one kind */
	struct sched_strategy_ctx c = ctx_for(SCHED_USE_EXPLICIT);
	struct sched_strategy_item f[] = {
		item("FARGATE", 0, 1), item("FARGATE_SPOT", 1, 0),
	};
	expect_rule(f, 2, &c, SCHED_STRATEGY_OK, "");
	struct sched_strategy_item a[] = {
		item("asg2", 3, 0), item("asg1", 1, 0),
	};
	expect_rule(a, 2, &c, SCHED_STRATEGY_OK, "");
}

static void test_rule8_no_weight(void **state)
{
	(void)state;
	struct sched_strategy_item s[] = {
		item("FARGATE", 0, 1), item("FARGATE_SPOT", 0, 0),
	};
	struct sched_strategy_ctx c = ctx_for(SCHED_USE_SET_DEFAULT);
	expect_rule(s, 2, &c, SCHED_STRATEGY_OK, "");
	c = ctx_for(SCHED_USE_EXPLICIT);
	expect_rule(s, 2, &c, SCHED_STRATEGY_NO_WEIGHT, MSG_NO_WEIGHT_EXPLICIT);
	c = ctx_for(SCHED_USE_CLUSTER_DEFAULT);
	expect_rule(s, 2, &c, SCHED_STRATEGY_NO_WEIGHT, MSG_NO_WEIGHT_DEFAULT);
	/* one item with no weight sent: stored as default, refused at use */
	struct sched_strategy_item one = { "asg1", 0, 0, 0, 0 };
	c = ctx_for(SCHED_USE_SET_DEFAULT);
	expect_rule(&one, 1, &c, SCHED_STRATEGY_OK, "");
	c = ctx_for(SCHED_USE_CLUSTER_DEFAULT);
	expect_rule(&one, 1, &c, SCHED_STRATEGY_NO_WEIGHT, MSG_NO_WEIGHT_DEFAULT);
	/* one weighted item is enough */
	s[1].weight = 1;
	c = ctx_for(SCHED_USE_EXPLICIT);
	expect_rule(s, 2, &c, SCHED_STRATEGY_OK, "");
}

static void test_long_name_truncated(void **state)
{
	(void)state;
	char name[2 * ERR_MSG_MAX];
	memset(name, 'x', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	struct sched_cp_ref cp = { name, SCHED_CP_ASG, 0 };
	struct sched_strategy_ctx c = ctx_for(SCHED_USE_EXPLICIT);
	c.associated = &cp;
	c.n_associated = 1;
	struct sched_strategy_item s[] = { item(name, 1, 0) };
	struct err e;
	err_clear(&e);
	assert_int_equal(sched_strategy_validate(s, 1, &c, &e),
			 SCHED_STRATEGY_NOT_ACTIVE);
	assert_int_equal(strlen(e.msg), ERR_MSG_MAX - 1);
}

/* ---- validation: the order of the rules ----
 *
 * Start from a valid strategy and apply, for each rule, a change that breaks
 * that rule alone.  The changes compose without interfering, so for every one
 * of the 2^9 combinations the earliest rule in the set must be reported. */

#define N_RULES 9   /* SCHED_STRATEGY_LAUNCH_TYPE .. SCHED_STRATEGY_NO_WEIGHT */

static enum sched_strategy_rule validate_combo(unsigned mask)
{
	struct sched_strategy_item s[8] = {
		item("asg1", 1, 0), item("asg2", 0, 0),
	};
	size_t n = 2;
	struct sched_strategy_ctx c = ctx_for(SCHED_USE_EXPLICIT);

	for (unsigned r = 1; r <= N_RULES; r++) {
		if (!(mask & (1u << (r - 1))))
			continue;
		switch ((enum sched_strategy_rule)r) {
		case SCHED_STRATEGY_LAUNCH_TYPE:
			c.launch_type_given = 1;
			break;
		case SCHED_STRATEGY_TOO_MANY:
			c.max_items = 1;
			break;
		case SCHED_STRATEGY_RANGE:
			s[1].weight = -1;
			break;
		case SCHED_STRATEGY_MULTIPLE_BASE:
			s[0].base = 1;
			s[1].base = 1;
			break;
		case SCHED_STRATEGY_DUPLICATE:
			s[1].provider = "asg1";
			break;
		case SCHED_STRATEGY_NOT_ASSOCIATED:
			s[n++] = item("nope", 0, 0);
			break;
		case SCHED_STRATEGY_NOT_ACTIVE:
			s[n++] = item("old", 0, 0);
			break;
		case SCHED_STRATEGY_MIXED:
			s[n++] = item("FARGATE", 0, 0);
			break;
		case SCHED_STRATEGY_NO_WEIGHT:
			s[0].weight = 0;
			break;
		case SCHED_STRATEGY_OK:
			break;
		}
	}
	if (c.max_items == 0)
		c.max_items = 8;  /* the appended items alone never break rule 2 */
	struct err e;
	err_clear(&e);
	enum sched_strategy_rule got = sched_strategy_validate(s, n, &c, &e);
	assert_int_equal(e.code, (int)got);
	return got;
}

static void test_rule_order(void **state)
{
	(void)state;
	assert_int_equal(validate_combo(0), SCHED_STRATEGY_OK);
	for (unsigned mask = 1; mask < (1u << N_RULES); mask++) {
		unsigned first = 1;
		while (!(mask & (1u << (first - 1))))
			first++;
		assert_int_equal(validate_combo(mask), first);
	}
}

static void test_rule_order_examples(void **state)
{
	(void)state;
	struct sched_strategy_ctx c = ctx_for(SCHED_USE_EXPLICIT);
	/* 2 and 5: too many and unknown names reports too many */
	struct sched_strategy_item s[7];
	static const char *const names[] = {
		"a", "b", "c", "d", "e", "f", "g",
	};
	for (size_t i = 0; i < 7; i++)
		s[i] = item(names[i], 1, 0);
	expect_rule(s, 7, &c, SCHED_STRATEGY_TOO_MANY, NULL);
	/* 5 before 6 even when the inactive item comes first */
	struct sched_strategy_item t[] = { item("old", 1, 0), item("nope", 1, 0) };
	expect_rule(t, 2, &c, SCHED_STRATEGY_NOT_ASSOCIATED, MSG_NOT_ASSOCIATED);
	/* 6 before 7 */
	struct sched_strategy_item u[] = { item("FARGATE", 1, 0), item("old", 1, 0) };
	expect_rule(u, 2, &c, SCHED_STRATEGY_NOT_ACTIVE, NULL);
	/* 7 before 8 */
	struct sched_strategy_item v[] = { item("FARGATE", 0, 0), item("asg1", 0, 0) };
	expect_rule(v, 2, &c, SCHED_STRATEGY_MIXED, MSG_MIXED);
}

/* ---- split: the worked examples of §4.4 ---- */

static void expect_split(const struct sched_strategy_item *items, size_t n,
			 unsigned long total, const unsigned long *want)
{
	unsigned long out[16];
	assert_true(n <= ARRAY_LEN(out));
	memset(out, 0xa5, sizeof out);
	sched_strategy_split(items, n, total, out);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(out[i], want[i]);
}

static void test_split_examples(void **state)
{
	(void)state;
	/* 1. D=10, [A base=2 w=1, B w=3] -> A=4, B=6 */
	struct sched_strategy_item e1[] = { item("A", 1, 2), item("B", 3, 0) };
	expect_split(e1, 2, 10, (unsigned long[]){ 4, 6 });
	/* 2. D=10, [FARGATE base=1 w=1, FARGATE_SPOT w=4] -> 3, 7 */
	struct sched_strategy_item e2[] = {
		item("FARGATE", 1, 1), item("FARGATE_SPOT", 4, 0),
	};
	expect_split(e2, 2, 10, (unsigned long[]){ 3, 7 });
	/* 3. D=5, [A w=1, B w=1] -> tie to the first listed: 3, 2 */
	struct sched_strategy_item e3[] = { item("A", 1, 0), item("B", 1, 0) };
	expect_split(e3, 2, 5, (unsigned long[]){ 3, 2 });
	/* 4. D=3, [A base=5 w=1, B w=1] -> the base absorbs everything */
	struct sched_strategy_item e4[] = { item("A", 1, 5), item("B", 1, 0) };
	expect_split(e4, 2, 3, (unsigned long[]){ 3, 0 });
	/* 5. count=1, [A w=1, B w=4] -> B=1 */
	struct sched_strategy_item e5[] = { item("A", 1, 0), item("B", 4, 0) };
	expect_split(e5, 2, 1, (unsigned long[]){ 0, 1 });
}

static void test_split_edges(void **state)
{
	(void)state;
	/* nothing to split */
	struct sched_strategy_item a[] = { item("A", 1, 2), item("B", 3, 0) };
	expect_split(a, 2, 0, (unsigned long[]){ 0, 0 });
	/* FARGATE base=1 weight=0 + FARGATE_SPOT weight=1 */
	struct sched_strategy_item b[] = { item("F", 0, 1), item("S", 1, 0) };
	expect_split(b, 2, 1, (unsigned long[]){ 1, 0 });
	expect_split(b, 2, 5, (unsigned long[]){ 1, 4 });
	/* weight-0 items without base get nothing */
	struct sched_strategy_item c[] = {
		item("A", 0, 0), item("B", 2, 0), item("C", 0, 0), item("D", 1, 0),
	};
	expect_split(c, 4, 7, (unsigned long[]){ 0, 5, 0, 2 });
	/* three-way tie: the first two listed get the leftovers */
	struct sched_strategy_item d[] = {
		item("A", 1, 0), item("B", 1, 0), item("C", 1, 0),
	};
	expect_split(d, 3, 5, (unsigned long[]){ 2, 2, 1 });
	expect_split(d, 3, 4, (unsigned long[]){ 2, 1, 1 });
	/* a larger remainder wins over list position */
	struct sched_strategy_item f[] = {
		item("A", 1, 0), item("B", 2, 0), item("C", 2, 0),
	};
	/* R=4, W=5: 0.8, 1.6, 1.6 -> floors 0,1,1; left 2: A(.8) then B(.6) */
	expect_split(f, 3, 4, (unsigned long[]){ 1, 2, 1 });
	/* all weights 0 (a stored default used without checks): base only */
	struct sched_strategy_item z[] = { item("A", 0, 3), item("B", 0, 0) };
	expect_split(z, 2, 10, (unsigned long[]){ 3, 0 });
	expect_split(z, 2, 2, (unsigned long[]){ 2, 0 });
	/* fields not sent count as 0 */
	struct sched_strategy_item u[] = {
		{ "A", 900, 900, 0, 0 }, { "B", 1, 0, 1, 0 },
	};
	expect_split(u, 2, 6, (unsigned long[]){ 0, 6 });
	/* no items: nothing written */
	sched_strategy_split(NULL, 0, 10, NULL);
	/* large totals stay exact */
	struct sched_strategy_item l[] = {
		item("A", 1000, 100000), item("B", 999, 0), item("C", 1, 0),
	};
	unsigned long big = 4000000000000UL + 7;
	unsigned long out[3];
	sched_strategy_split(l, 3, big, out);
	assert_int_equal(out[0] + out[1] + out[2], big);
	/* R = big - 100000 = 3999999900007, W = 2000; remainders R*w mod W
	 * are 1000, 993 and 7, so the one task left goes to A */
	unsigned long r = big - 100000;
	assert_int_equal(out[0], 100000 + r / 2 + 1);
	assert_int_equal(out[1], r * 999 / 2000);
	assert_int_equal(out[2], r / 2000);
}

/* ---- split: properties over random strategies ---- */

static uint64_t rng_state;

static uint64_t xorshift64(void)
{
	uint64_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

static unsigned long below(unsigned long n)
{
	return (unsigned long)(xorshift64() % n);
}

static const char *const prop_names[] = {
	"p0", "p1", "p2", "p3", "p4", "p5",
};

static size_t random_strategy(struct sched_strategy_item *s)
{
	size_t n = 1 + below(6);
	size_t based = below(2) ? below(n) : n;  /* n: no base item */
	int all_zero = below(16) == 0;
	for (size_t i = 0; i < n; i++) {
		int w;
		switch (below(4)) {
		case 0: w = 0; break;
		case 1: w = (int)below(5); break;
		case 2: w = (int)below(SCHED_STRATEGY_WEIGHT_MAX + 1); break;
		default: w = SCHED_STRATEGY_WEIGHT_MAX - (int)below(3); break;
		}
		if (all_zero)
			w = 0;
		int b = 0;
		if (i == based)
			b = below(2) ? (int)below(10)
				     : (int)below(SCHED_STRATEGY_BASE_MAX + 1);
		s[i] = item(prop_names[i], w, b);
		s[i].has_weight = w != 0 || below(2);
		s[i].has_base = b != 0 || below(2);
	}
	return n;
}

static unsigned long random_total(void)
{
	switch (below(4)) {
	case 0: return below(12);
	case 1: return below(200);
	case 2: return below(250000);
	default: return below(1000000000000UL);
	}
}

static void test_split_properties(void **state)
{
	(void)state;
	static const struct sched_cp_ref cps[] = {
		{ "p0", SCHED_CP_ASG, 1 }, { "p1", SCHED_CP_ASG, 1 },
		{ "p2", SCHED_CP_ASG, 1 }, { "p3", SCHED_CP_ASG, 1 },
		{ "p4", SCHED_CP_ASG, 1 }, { "p5", SCHED_CP_ASG, 1 },
	};
	struct sched_strategy_ctx c = {
		.associated = cps, .n_associated = ARRAY_LEN(cps),
		.use = SCHED_USE_SET_DEFAULT,
	};
	rng_state = 0x9e3779b97f4a7c15ULL;
	unsigned zero_weight_runs = 0, based_runs = 0;

	for (int run = 0; run < 5000; run++) {
		struct sched_strategy_item s[6];
		unsigned long out[6];
		size_t n = random_strategy(s);
		unsigned long total = random_total();

		/* every generated strategy is a valid stored default */
		assert_int_equal(sched_strategy_validate(s, n, &c, NULL),
				 SCHED_STRATEGY_OK);
		sched_strategy_split(s, n, total, out);

		unsigned long base = 0, wsum = 0, sum = 0;
		for (size_t i = 0; i < n; i++) {
			base += s[i].has_base ? (unsigned long)s[i].base : 0;
			wsum += s[i].has_weight ? (unsigned long)s[i].weight : 0;
			sum += out[i];
		}
		unsigned long given = base < total ? base : total;
		unsigned long rem = total - given;
		based_runs += base > 0;

		if (wsum == 0) {
			zero_weight_runs++;
			assert_int_equal(sum, given);
		} else {
			assert_int_equal(sum, total);
		}
		for (size_t i = 0; i < n; i++) {
			unsigned long b = s[i].has_base ? (unsigned long)s[i].base : 0;
			unsigned long w = s[i].has_weight ? (unsigned long)s[i].weight : 0;
			unsigned long bi = b < total ? b : total;
			/* the base item gets min(total, base) at least */
			assert_true(out[i] >= bi);
			unsigned long share = out[i] - bi;
			if (w == 0) {
				/* nothing beyond the base */
				assert_int_equal(share, 0);
				continue;
			}
			/* |share - rem*w/W| < 1, i.e. |share*W - rem*w| < W;
			 * rem*w < 2^40 * 1000 fits in 64 bits */
			uint64_t lhs = (uint64_t)share * wsum;
			uint64_t rhs = (uint64_t)rem * w;
			uint64_t diff = lhs > rhs ? lhs - rhs : rhs - lhs;
			assert_true(diff < wsum);
		}
	}
	/* the generator did reach the interesting cases */
	assert_true(zero_weight_runs > 100);
	assert_true(based_runs > 1000);
}

/* The split is the largest-remainder apportionment: exact shares are given
 * in full, and a share is never rounded up while a larger remainder is
 * rounded down.  Checked against a direct sort-free reference. */
static void test_split_largest_remainder(void **state)
{
	(void)state;
	rng_state = 12345;
	for (int run = 0; run < 3000; run++) {
		struct sched_strategy_item s[6];
		unsigned long out[6];
		size_t n = random_strategy(s);
		for (size_t i = 0; i < n; i++)
			s[i].has_base = 0;   /* remainder logic only */
		unsigned long total = below(300);
		sched_strategy_split(s, n, total, out);

		unsigned long wsum = 0;
		for (size_t i = 0; i < n; i++)
			wsum += s[i].has_weight ? (unsigned long)s[i].weight : 0;
		if (wsum == 0)
			continue;
		for (size_t i = 0; i < n; i++) {
			unsigned long wi = s[i].has_weight ? (unsigned long)s[i].weight : 0;
			if (wi == 0)
				continue;
			unsigned long fi = total * wi / wsum, ri = total * wi % wsum;
			int up_i = out[i] == fi + 1;
			assert_true(out[i] == fi || up_i);
			for (size_t j = 0; j < n; j++) {
				unsigned long wj = s[j].has_weight ? (unsigned long)s[j].weight : 0;
				if (wj == 0 || j == i)
					continue;
				unsigned long fj = total * wj / wsum, rj = total * wj % wsum;
				int up_j = out[j] == fj + 1;
				/* if j was rounded up and i not, j must rank first */
				if (up_j && !up_i)
					assert_true(rj > ri || (rj == ri && j < i));
			}
		}
	}
}

/* ---- pick_grow / pick_shrink ---- */

static void test_pick_grow(void **state)
{
	(void)state;
	unsigned long t[] = { 4, 6, 0 };
	unsigned long c0[] = { 0, 0, 0 };
	assert_int_equal(sched_strategy_pick_grow(t, c0, 3), 1);
	unsigned long c1[] = { 2, 4, 0 };
	assert_int_equal(sched_strategy_pick_grow(t, c1, 3), 0);  /* tie: first */
	unsigned long c2[] = { 4, 6, 0 };
	assert_int_equal(sched_strategy_pick_grow(t, c2, 3), -1);
	unsigned long c3[] = { 9, 5, 3 };  /* surpluses do not matter */
	assert_int_equal(sched_strategy_pick_grow(t, c3, 3), 1);
	assert_int_equal(sched_strategy_pick_grow(NULL, NULL, 0), -1);
}

static void test_pick_shrink(void **state)
{
	(void)state;
	unsigned long t[] = { 4, 6, 0 };
	unsigned long c0[] = { 4, 6, 0 };
	assert_int_equal(sched_strategy_pick_shrink(t, c0, 3), -1);
	unsigned long c1[] = { 6, 7, 2 };
	assert_int_equal(sched_strategy_pick_shrink(t, c1, 3), 0);  /* tie: first */
	unsigned long c2[] = { 0, 7, 3 };  /* deficits do not matter */
	assert_int_equal(sched_strategy_pick_shrink(t, c2, 3), 2);
	assert_int_equal(sched_strategy_pick_shrink(NULL, NULL, 0), -1);
}

/* Growing one task at a time from zero, and shrinking one at a time from any
 * start, both end exactly on the split. */
static void test_pick_reaches_split(void **state)
{
	(void)state;
	rng_state = 0xdecafbadULL;
	for (int run = 0; run < 2000; run++) {
		struct sched_strategy_item s[6];
		unsigned long target[6], cur[6] = { 0 };
		size_t n = random_strategy(s);
		unsigned long total = below(400);
		sched_strategy_split(s, n, total, target);
		unsigned long want = 0;
		for (size_t i = 0; i < n; i++)
			want += target[i];

		unsigned long steps = 0;
		int k;
		while ((k = sched_strategy_pick_grow(target, cur, n)) >= 0) {
			assert_true(cur[k] < target[k]);
			cur[k]++;
			steps++;
		}
		assert_int_equal(steps, want);
		for (size_t i = 0; i < n; i++)
			assert_int_equal(cur[i], target[i]);
		assert_int_equal(sched_strategy_pick_shrink(target, cur, n), -1);

		/* shrink from a random overshoot */
		unsigned long extra = 0;
		for (size_t i = 0; i < n; i++) {
			unsigned long add = below(20);
			cur[i] += add;
			extra += add;
		}
		steps = 0;
		while ((k = sched_strategy_pick_shrink(target, cur, n)) >= 0) {
			assert_true(cur[k] > target[k]);
			cur[k]--;
			steps++;
		}
		assert_int_equal(steps, extra);
		for (size_t i = 0; i < n; i++)
			assert_int_equal(cur[i], target[i]);
	}
}

/* The order in which a service scaling out from zero to example 2's split
 * (FARGATE=3, FARGATE_SPOT=7) places its tasks. */
static void test_pick_grow_example(void **state)
{
	(void)state;
	struct sched_strategy_item s[] = {
		item("FARGATE", 1, 1), item("FARGATE_SPOT", 4, 0),
	};
	unsigned long target[2], cur[2] = { 0, 0 };
	sched_strategy_split(s, 2, 10, target);
	int order[10];
	for (int i = 0; i < 10; i++) {
		order[i] = sched_strategy_pick_grow(target, cur, 2);
		assert_true(order[i] >= 0);
		cur[order[i]]++;
	}
	assert_int_equal(sched_strategy_pick_grow(target, cur, 2), -1);
	assert_int_equal(cur[0], 3);
	assert_int_equal(cur[1], 7);
	/* deficits 3 and 7: SPOT first until level, then alternating from
	 * FARGATE (ties to the first listed) */
	static const int want[] = { 1, 1, 1, 1, 0, 1, 0, 1, 0, 1 };
	for (int i = 0; i < 10; i++)
		assert_int_equal(order[i], want[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_empty_is_valid),
		cmocka_unit_test(test_rule1_launch_type),
		cmocka_unit_test(test_rule2_too_many),
		cmocka_unit_test(test_rule3_range),
		cmocka_unit_test(test_rule4_base_and_duplicates),
		cmocka_unit_test(test_rule5_not_associated),
		cmocka_unit_test(test_rule6_not_active),
		cmocka_unit_test(test_rule7_mixed),
		cmocka_unit_test(test_rule8_no_weight),
		cmocka_unit_test(test_long_name_truncated),
		cmocka_unit_test(test_rule_order),
		cmocka_unit_test(test_rule_order_examples),
		cmocka_unit_test(test_split_examples),
		cmocka_unit_test(test_split_edges),
		cmocka_unit_test(test_split_properties),
		cmocka_unit_test(test_split_largest_remainder),
		cmocka_unit_test(test_pick_grow),
		cmocka_unit_test(test_pick_shrink),
		cmocka_unit_test(test_pick_reaches_split),
		cmocka_unit_test(test_pick_grow_example),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
