/* fuzz_cql: libFuzzer harness for the cluster query language (sched/cql.c).
 *
 * Input: the expression text, as is (a NUL ends it early; more than
 * CQL_TEXT_MAX characters exercises the length check).  No state is kept
 * across inputs.
 *
 * Invariants, checked for every input (a violation aborts, which is a crash
 * to libFuzzer):
 *   - cql_parse either returns an expression, or NULL with code
 *     CQL_ERR_SYNTAX and a message naming a position (or the length);
 *   - round trip: the canonical text cql_print gives parses again, prints
 *     the same text, and evaluates the same as the original on every fake
 *     subject (skipped when the canonical text is longer than CQL_TEXT_MAX,
 *     which `a==b&&c==d`-style input can reach: blanks are added);
 *   - cql_eval answers 0 or 1 on each subject: a rich instance, one with
 *     values of the wrong type (no numbers, no epoch ms, no version) and one
 *     with no callbacks at all. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "sched/cql.h"

struct fake {
	const char *const (*attrs)[2];
	size_t n_attrs;
	const char *fields[5][2];
	const char *const *groups;
	size_t n_groups;
};

static const char *const rich_attrs[][2] = {
	{ "ecs.instance-type", "t2.small" },  { "ecs.availability-zone", "us-east-1a" },
	{ "ecs.os-type", "linux" },           { "ecs.cpu-architecture", "x86_64" },
	{ "ecs.ami-id", "ami-1234abcd" },     { "stack", "prod" },
	{ "gpu", "" },                        { "n", "42" },
	{ "d", "-2.50" },                     { "v", "1.10.0" },
	{ "a", "a" },                         { "x", "a b" },
	{ "weird\\name:with/colons", "a@b+c" }, { "star", "a*b" },
};
static const char *const rich_groups[] = { "service:web", "family:batch", "database" };

static const char *const odd_attrs[][2] = {
	{ "ecs.instance-type", "" }, { "n", "forty-two" }, { "v", "1.0.0-rc1" }, { "a", "A" },
};
static const char *const odd_groups[] = { "", "*" };

static const struct fake rich = {
	rich_attrs,
	sizeof rich_attrs / sizeof rich_attrs[0],
	{ { CQL_FIELD_AGENT_CONNECTED, "true" },
	  { CQL_FIELD_AGENT_VERSION, "1.35.0" },
	  { CQL_FIELD_EC2_INSTANCE_ID, "i-abcd1234" },
	  { CQL_FIELD_REGISTERED_AT, "1529360908000" },
	  { CQL_FIELD_RUNNING_TASKS_COUNT, "2" } },
	rich_groups,
	sizeof rich_groups / sizeof rich_groups[0],
};

static const struct fake odd = {
	odd_attrs,
	sizeof odd_attrs / sizeof odd_attrs[0],
	{ { CQL_FIELD_AGENT_CONNECTED, "maybe" },
	  { CQL_FIELD_AGENT_VERSION, "latest" },
	  { CQL_FIELD_EC2_INSTANCE_ID, "" },
	  { CQL_FIELD_REGISTERED_AT, "yesterday" },
	  { CQL_FIELD_RUNNING_TASKS_COUNT, "-0.0" } },
	odd_groups,
	sizeof odd_groups / sizeof odd_groups[0],
};

static const char *fake_attribute(void *arg, const char *name)
{
	const struct fake *f = arg;
	for (size_t i = 0; i < f->n_attrs; i++)
		if (strcmp(f->attrs[i][0], name) == 0)
			return f->attrs[i][1];
	return NULL;
}

static const char *fake_field(void *arg, const char *name)
{
	const struct fake *f = arg;
	for (size_t i = 0; i < 5; i++)
		if (strcmp(f->fields[i][0], name) == 0)
			return f->fields[i][1];
	BERTH_ASSERT(!"a field cql.h does not name");
	return NULL;
}

static int fake_each_group(void *arg, int (*visit)(void *ctx, const char *group), void *ctx)
{
	const struct fake *f = arg;
	for (size_t i = 0; i < f->n_groups; i++)
		if (visit(ctx, f->groups[i]))
			return 1;
	return 0;
}

#define N_SUBJECTS 3

static void eval_all(const struct cql_expr *x, int out[N_SUBJECTS])
{
	const struct cql_subject subjects[N_SUBJECTS] = {
		{ fake_attribute, fake_field, fake_each_group, (void *)&rich },
		{ fake_attribute, fake_field, fake_each_group, (void *)&odd },
		{ NULL, NULL, NULL, NULL },
	};
	for (int i = 0; i < N_SUBJECTS; i++) {
		out[i] = cql_eval(x, &subjects[i]);
		BERTH_ASSERT(out[i] == 0 || out[i] == 1);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = xmalloc(size + 1);
	struct err e = { 0 };
	struct cql_expr *x, *y;
	char *p, *q;
	int rx[N_SUBJECTS], ry[N_SUBJECTS];

	memcpy(text, data, size);
	text[size] = '\0';
	x = cql_parse(text, &e);
	free(text);
	if (!x) {
		BERTH_ASSERT(e.code == CQL_ERR_SYNTAX);
		BERTH_ASSERT(strncmp(e.msg, "position ", 9) == 0 || strncmp(e.msg, "the expression is ", 18) == 0);
		return 0;
	}
	eval_all(x, rx);
	p = cql_print(x);
	if (strlen(p) <= CQL_TEXT_MAX) {
		y = cql_parse(p, &e);
		if (!y) {
			fprintf(stderr, "canonical text does not parse: %s\n  text: %s\n", e.msg, p);
			abort();
		}
		q = cql_print(y);
		if (strcmp(p, q) != 0) {
			fprintf(stderr, "print is not a fixed point:\n  first:  %s\n  second: %s\n", p, q);
			abort();
		}
		eval_all(y, ry);
		if (memcmp(rx, ry, sizeof rx) != 0) {
			fprintf(stderr, "canonical text evaluates differently: %s\n", p);
			abort();
		}
		free(q);
		cql_free(y);
	}
	free(p);
	cql_free(x);
	return 0;
}
