/* policy: a pure IAM identity-policy engine: the JSON policy language's
 * parser and its evaluator.
 *
 * No clock, no I/O, no globals but const tables.  policy_parse checks a
 * document the way IAM does before it stores one (the messages are IAM's
 * MalformedPolicyDocument texts) and compiles it into flat arrays: every
 * Action, Resource and condition value becomes a short list of tokens
 * (literal run, '*', '?', policy variable), so that policy_eval neither
 * allocates nor copies: it walks the statements and matches the request's
 * strings in place, resolving a ${variable} from the request context when
 * the matcher reaches it.
 *
 * What a statement means (IAM's JSON policy reference):
 *   - Action/NotAction: "*" or "vendor:pattern", matched without regard to
 *     case, '*' any run and '?' one character;
 *   - Resource/NotResource: "*" or an ARN pattern, matched with case, '*'
 *     spanning ':' and '/' (one glob over the whole string);
 *   - Condition: operators AND'ed, keys within an operator AND'ed, the values
 *     of a key OR'ed (NOR'ed by a negated operator).  Context keys are
 *     compared without regard to case.  A key absent from the request makes
 *     a positive operator false and a negated one (StringNotEquals,
 *     StringNotLike, ArnNotLike, NumericNotEquals, NotIpAddress, ...) true;
 *     ...IfExists is true when the key is absent; ForAllValues: is true and
 *     ForAnyValue: false for an absent key; Null {"k":"true"} holds when k is
 *     absent.  ArnEquals behaves as ArnLike (IAM documents them together):
 *     the six ':'-separated parts are globbed one by one.  Operators:
 *     String*, Numeric*, Date*, Bool, BinaryEquals, IpAddress, NotIpAddress,
 *     Arn*, Null, names case-sensitive; a Numeric, Date or IP value that
 *     does not parse matches nothing;
 *   - policy variables (${aws:username}, ${aws:PrincipalTag/team, 'dflt'},
 *     ${*} ${?} ${$}) in Resource and in String and Arn condition values,
 *     Version 2012-10-17 only.  A variable takes its key's value from the
 *     request literally (a '*' in a user name is no wildcard); a key absent
 *     or given several values, with no default, makes that one pattern match
 *     nothing.
 * Evaluation: an explicit Deny in any matching statement of any document
 * wins, else any matching Allow, else the implicit deny. */
#ifndef BERTH_LIB_POLICY_H
#define BERTH_LIB_POLICY_H

#include <stddef.h>

#include "lib/err.h"

/* err.code of every refusal by policy_parse (MalformedPolicyDocument). */
#define POLICY_ERR_MALFORMED 1

#define POLICY_MAX_BYTES 10240 /* a document longer than this is refused */
#define POLICY_MAX_DEPTH 64    /* JSON nesting levels */

/* policy_parse_flags: the document is a managed policy's (CreatePolicy,
 * CreatePolicyVersion), which IAM only takes with Version 2012-10-17;
 * an inline policy may also say 2008-10-17 or leave Version out. */
#define POLICY_PARSE_MANAGED 0x1

struct policy; /* a parsed document, immutable after parse */

/* Parse one IAM policy document: json is len bytes, not necessarily
 * NUL-terminated.  Returns 0 and a new *out (the caller frees it with
 * policy_free; it borrows nothing from json), or -1 with e->code
 * POLICY_ERR_MALFORMED and IAM's message in e->msg ("Syntax errors in
 * policy." for anything that is not JSON, not UTF-8, nested too deep, or
 * has a key IAM does not know or gives twice).  *out is untouched on
 * error. */
int policy_parse(const char *json, size_t len, struct policy **out, struct err *e);
/* The same with POLICY_PARSE_* flags. */
int policy_parse_flags(const char *json, size_t len, unsigned flags, struct policy **out, struct err *e);
/* Free p (NULL is fine). */
void policy_free(struct policy *p);

/* The number of statements in p. */
size_t policy_statement_count(const struct policy *p);

/* A context key and ONE of its values; a multi-valued key (aws:TagKeys)
 * appears once per value.  Both NUL-terminated; an entry with a NULL key
 * or value is skipped. */
struct policy_kv {
	const char *key;
	const char *value;
};

/* One request, everything borrowed for the call. */
struct policy_request {
	const char *action;          /* "ecs:RunTask"; NULL matches no Action pattern */
	const char *resource;        /* an ARN, or "*" (also when NULL) */
	const struct policy_kv *ctx; /* ecs:cluster, aws:ResourceTag/K, aws:RequestTag/K, */
	size_t n_ctx;                /* aws:TagKeys, aws:username, aws:PrincipalArn, ... */
};

enum policy_decision { POLICY_IMPLICIT_DENY = 0, POLICY_ALLOW, POLICY_EXPLICIT_DENY };

/* Evaluate a principal's documents (all of them together; a NULL entry is
 * skipped) for one request.  Allocation-free. */
enum policy_decision policy_eval(const struct policy *const *docs, size_t n, const struct policy_request *r);

/* Which statement decided (for explanations and SimulatePrincipalPolicy's
 * MatchedStatements): the first matching Deny, else the first matching
 * Allow.  For the implicit deny doc is n and statement 0. */
struct policy_match {
	size_t doc;       /* index into docs */
	size_t statement; /* 0-based, in document order */
	const char *sid;  /* its Sid, "" if none; borrowed from the document */
};
enum policy_decision policy_eval_why(const struct policy *const *docs, size_t n,
                                     const struct policy_request *r, struct policy_match *why);

/* IAM's EvalDecision words: "implicitDeny", "allowed", "explicitDeny". */
const char *policy_decision_name(enum policy_decision d);

#endif
