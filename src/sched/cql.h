/* cql: the cluster query language (ECS-SEMANTICS §5.8, the developer guide's
 * "Cluster query language" page), parsed once and evaluated against many
 * candidate container instances.  Used by memberOf placement constraints and
 * by ListContainerInstances.filter.
 *
 *	expr      := and_expr { ("or" | "||") and_expr }
 *	and_expr  := not_expr { ("and" | "&&") not_expr }
 *	not_expr  := ("not" | "!") not_expr | "(" expr ")" | condition
 *	condition := subject operator [argument]
 *
 * So `not` binds tightest, then `and`, then `or`.  Keywords, operator words
 * and subject names are case-insensitive (`AND`, `Equals`, `agentconnected`);
 * attribute names and values are not.  Subjects: attribute:<name>, task:group,
 * agentConnected, agentVersion, ec2InstanceId, registeredAt,
 * runningTasksCount.  Operators: == equals, != not_equals, > greater_than,
 * >= greater_than_equal, < less_than, <= less_than_equal, exists, !exists
 * not_exists, in, !in not_in, =~ matches, !~ not_matches.  The five built-in
 * fields accept only the operators the guide lists for them; attribute: and
 * task:group accept all.  An argument is a bare word (letters, digits and
 * . - _ * : / \ @ +), a quoted string ('...' or "...", no escapes, quotes
 * stripped) or, for in / !in, a list [a, b, ...] (a single value is taken as
 * a one-item list).  A bare regular expression (after =~ / !~) runs to the
 * next blank or to a ')' that closes an outer group; quote it otherwise.
 *
 * Evaluation.  A condition on an absent subject is false, negated operators
 * included: `attribute:stack != prod` selects the instances that have a
 * stack attribute with another value (the guide's own reading of its
 * example); `!exists` is the way to select the ones without it.  task:group
 * is existential: the condition holds when some task group on the instance
 * satisfies it, so `task:group != database` means "runs a task of another
 * group" and anti-affinity is `not(task:group == database)`.  Comparisons
 * are exact decimal when both sides are numbers; agentVersion compares as
 * dotted versions (1.10.0 > 1.9.0); registeredAt as instants (arguments are
 * dates, checked at parse time); otherwise bytewise.  An argument to ==, !=,
 * in or !in that contains '*' matches as a glob ('*' is any run of
 * characters): the guide only shows =~ for wildcards but much published
 * usage writes `== t2.*`, and no attribute value can hold '*'.  matches uses
 * POSIX extended regular expressions (<regex.h>) in place of Java's, anchored
 * to the whole value as Java's Pattern.matches() is; \d and \D are
 * translated; back-references are refused, and so are patterns glibc would
 * compile slowly (quantifiers nested more than two deep, as in ((a*)*)* or
 * a*++, or more than 600 nodes once {m,n} and + are unrolled).  Java's lazy
 * suffix (a*?) is read as ERE, which for whole-value matching gives the same
 * answer; its possessive one (a*+) is too, which can match where Java would
 * not.  Evaluation never fails: a type mismatch (a non-numeric
 * runningTasksCount, say) is simply false.
 *
 * Pure: no I/O, no globals.  A parsed expression is immutable and can be
 * evaluated any number of times; the subject's strings are borrowed for the
 * duration of the call only. */
#ifndef BERTH_SCHED_CQL_H
#define BERTH_SCHED_CQL_H

#include "lib/err.h"

#define CQL_TEXT_MAX 2000 /* characters in an expression [M:PlacementConstraint] */
#define CQL_DEPTH_MAX 32  /* nested parentheses and nots */
#define CQL_LIST_MAX 100  /* items in an argument list */

/* The code cql_parse puts in a struct err.  The core layer names no API
 * error: every syntax error is an InvalidParameterException, so the caller
 * keeps the message and replaces the code. */
#define CQL_ERR_SYNTAX 1

struct cql_expr; /* parsed expression: opaque, heap, owned by the caller */

/* Parse text (at most CQL_TEXT_MAX characters; NULL is taken as "").
 * Returns a new expression the caller frees with cql_free, or NULL with e
 * filled: code CQL_ERR_SYNTAX and a message that names the 1-based position
 * and what was expected there ("position 24: expected an operator (...),
 * found 'prod'"), fit for an InvalidParameterException.  Regular expressions
 * are compiled here, so an invalid one is a parse error. */
struct cql_expr *cql_parse(const char *text, struct err *e);

/* Free x and everything it holds; NULL is a no-op. */
void cql_free(struct cql_expr *x);

/* Names the field callback is asked about. */
#define CQL_FIELD_AGENT_CONNECTED "agentConnected"       /* "true" / "false" */
#define CQL_FIELD_AGENT_VERSION "agentVersion"           /* "1.35.0" */
#define CQL_FIELD_EC2_INSTANCE_ID "ec2InstanceId"        /* "i-0abc..." */
#define CQL_FIELD_REGISTERED_AT "registeredAt"           /* epoch ms, decimal */
#define CQL_FIELD_RUNNING_TASKS_COUNT "runningTasksCount" /* decimal */

/* What an expression is evaluated against: one candidate instance, seen
 * through callbacks so that this module knows no model structs.  Any
 * callback may be NULL, which means "nothing there".  Returned strings are
 * borrowed and must stay valid until the callback is called again or
 * cql_eval returns. */
struct cql_subject {
	/* Value of attribute name (custom attributes and the ecs.* built-ins
	 * such as ecs.instance-type, ecs.availability-zone, ecs.os-type,
	 * ecs.cpu-architecture, ecs.ami-id); NULL if the instance has no such
	 * attribute, "" if it has one with no value. */
	const char *(*attribute)(void *arg, const char *name);
	/* Value of one of the CQL_FIELD_* names; NULL if unknown. */
	const char *(*field)(void *arg, const char *name);
	/* Call visit(ctx, group) once for each task group with a task on the
	 * instance (each group once, any order).  Stop as soon as visit
	 * returns non-zero and return 1; return 0 when every group was
	 * visited.  The engine tests its condition inside visit, so an
	 * instance with many groups is walked once a condition. */
	int (*each_task_group)(void *arg, int (*visit)(void *ctx, const char *group), void *ctx);
	void *arg; /* passed back to every callback */
};

/* 1 if the candidate s matches x, 0 if not.  Never fails. */
int cql_eval(const struct cql_expr *x, const struct cql_subject *s);

/* Canonical text of x, a new heap string the caller frees: single blanks,
 * symbolic operators (==, !=, >, >=, <, <=, exists, !exists, in, !in, =~,
 * !~), lower-case and / or / not, canonical subject names, the fewest
 * parentheses that keep the meaning, arguments bare when they can be and
 * quoted otherwise, lists as [a, b].  Parsing the result gives an expression
 * that prints the same and evaluates the same (it may exceed CQL_TEXT_MAX
 * when the input used && and no blanks). */
char *cql_print(const struct cql_expr *x);

#endif
