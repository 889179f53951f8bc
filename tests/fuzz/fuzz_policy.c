/* fuzz_policy: libFuzzer harness for the IAM policy engine (lib/policy.c).
 *
 * Input: a policy document, as is.  The requests come from the input too:
 * it is cut at every '"' into pieces (the strings of a JSON document, and
 * what lies between them), and each of the first MAX_REQUESTS pieces starts
 * a request whose action, resource and context values are the pieces that
 * follow it (so "ecs:RunTask", an ARN and a tag value written in the policy
 * come back as a request that may match it).  A few fixed requests are
 * added.
 *
 * Invariants (a violation aborts):
 *   - policy_parse answers 0 with a policy, or -1 with POLICY_ERR_MALFORMED,
 *     a NUL-terminated message and *out untouched;
 *   - a document parsed as a managed policy parses as an inline one too;
 *   - determinism: the input parsed twice gives the same decisions;
 *   - each decision is one of the enum's, and policy_eval_why agrees with
 *     policy_eval and names a statement that exists (or none);
 *   - composition: the decision over [p, q] is the stronger of p's and q's
 *     (implicit deny < allow < explicit deny), q a fixed document;
 *   - no leak, no read past the input (ASan). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "lib/policy.h"

#define MAX_PIECES   64
#define MAX_REQUESTS 12

static const char other_doc[] = "{\"Version\":\"2012-10-17\",\"Statement\":["
                                "{\"Effect\":\"Allow\",\"Action\":\"ecs:Describe*\",\"Resource\":\"*\"},"
                                "{\"Effect\":\"Deny\",\"Action\":\"*\",\"Resource\":\"*\","
                                "\"Condition\":{\"StringEquals\":{\"aws:username\":\"mallory\"}}}]}";

static const char *const keys[] = {
    "aws:username", "ecs:cluster", "aws:ResourceTag/team", "aws:TagKeys", "aws:TagKeys", "aws:PrincipalArn",
};

static void check_refusal(int rc, const struct policy *p, const struct err *e)
{
	FUZZ_CHECK(rc == -1, "rc %d", rc);
	FUZZ_CHECK(p == (const struct policy *)&other_doc, "*out changed on error");
	FUZZ_CHECK(e->code == POLICY_ERR_MALFORMED, "code %d", e->code);
	FUZZ_CHECK(memchr(e->msg, '\0', sizeof e->msg) && e->msg[0], "no message");
}

static enum policy_decision stronger(enum policy_decision a, enum policy_decision b)
{
	return a > b ? a : b;
}

static void check_request(const struct policy *p1, const struct policy *p2, const struct policy *q,
                          const struct policy_request *r)
{
	const struct policy *one[] = {p1}, *again[] = {p2}, *other[] = {q}, *both[] = {p1, q};
	enum policy_decision d1 = policy_eval(one, 1, r);
	FUZZ_CHECK(d1 == POLICY_IMPLICIT_DENY || d1 == POLICY_ALLOW || d1 == POLICY_EXPLICIT_DENY,
	           "decision %d", (int)d1);
	enum policy_decision d2 = policy_eval(again, 1, r);
	FUZZ_CHECK(d1 == d2, "not deterministic: %d then %d", (int)d1, (int)d2);

	struct policy_match why;
	enum policy_decision dw = policy_eval_why(one, 1, r, &why);
	FUZZ_CHECK(dw == d1, "why says %d, eval %d", (int)dw, (int)d1);
	if (dw == POLICY_IMPLICIT_DENY)
		FUZZ_CHECK(why.doc == 1, "implicit deny names doc %zu", why.doc);
	else
		FUZZ_CHECK(why.doc == 0 && why.statement < policy_statement_count(p1) && why.sid,
		           "names doc %zu statement %zu", why.doc, why.statement);

	enum policy_decision dq = policy_eval(other, 1, r), db = policy_eval(both, 2, r);
	FUZZ_CHECK(db == stronger(d1, dq), "[p,q] %d, p %d, q %d", (int)db, (int)d1, (int)dq);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct policy *q;
	struct err e;
	if (!q) {
		FUZZ_CHECK(policy_parse(other_doc, strlen(other_doc), &q, &e) == 0, "fixed document: %s",
		           e.msg);
	}

	const char *json = (const char *)data;
	struct policy *p1 = (struct policy *)&other_doc, *p2 = (struct policy *)&other_doc;
	int rc = policy_parse(json, size, &p1, &e);
	if (rc != 0) {
		check_refusal(rc, p1, &e);
		struct err e2;
		rc = policy_parse_flags(json, size, POLICY_PARSE_MANAGED, &p2, &e2);
		check_refusal(rc, p2, &e2);
		FUZZ_CHECK(strcmp(e.msg, e2.msg) == 0 || strstr(e2.msg, "2012-10-17"),
		           "managed: \"%s\" vs \"%s\"", e2.msg, e.msg);
		return 0;
	}
	FUZZ_CHECK(p1 && p1 != (struct policy *)&other_doc, "no policy");
	rc = policy_parse_flags(json, size, POLICY_PARSE_MANAGED, &p2, &e);
	if (rc == 0)
		policy_free(p2);
	else
		check_refusal(rc, p2, &e);
	p2 = NULL;
	FUZZ_CHECK(policy_parse(json, size, &p2, &e) == 0, "second parse refused: %s", e.msg);
	FUZZ_CHECK(policy_statement_count(p1) == policy_statement_count(p2), "statement counts differ");

	/* The pieces between quotes, NUL-terminated. */
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	const char *piece[MAX_PIECES];
	size_t n = 0;
	piece[n++] = text;
	for (size_t i = 0; i < size && n < MAX_PIECES; i++) {
		if (text[i] == '"') {
			text[i] = '\0';
			piece[n++] = text + i + 1;
		}
	}

	struct policy_kv kv[sizeof keys / sizeof keys[0] + 1];
	for (size_t k = 0; k < n && k < MAX_REQUESTS; k++) {
		struct policy_request r = {piece[k], n > k + 2 ? piece[k + 2] : "*", kv, 0};
		/* Context values: the pieces after the resource, under the usual
		 * keys, then one piece as a key of its own. */
		for (size_t j = 0; j < sizeof keys / sizeof keys[0] && k + 4 + 2 * j < n; j++)
			kv[r.n_ctx++] = (struct policy_kv){keys[j], piece[k + 4 + 2 * j]};
		if (n > k + 1)
			kv[r.n_ctx++] = (struct policy_kv){piece[(k + 1) % n], piece[k]};
		check_request(p1, p2, q, &r);
		r.n_ctx = 0;
		check_request(p1, p2, q, &r);
	}
	static const struct policy_request fixed[] = {
	    {"ecs:RunTask", "*", NULL, 0},
	    {"ecs:DescribeClusters", "arn:aws:ecs:us-east-1:123456789012:cluster/default", NULL, 0},
	    {NULL, NULL, NULL, 0},
	};
	for (size_t k = 0; k < sizeof fixed / sizeof fixed[0]; k++)
		check_request(p1, p2, q, &fixed[k]);

	free(text);
	policy_free(p1);
	policy_free(p2);
	return 0;
}
