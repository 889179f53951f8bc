/* strategy: capacity provider strategies, validated and split (ECS-SEMANTICS §4).
 *
 * A strategy is a list of {provider, weight, base} items.  This module checks
 * one against the providers associated with a cluster (§4.2, rules 1-8 in
 * that order) and splits a number of tasks across its items: base first, then
 * weight by largest remainder (§4.4).  It is pure: no I/O, no logging, no
 * globals, no allocation; inputs are borrowed for the duration of the call.
 *
 * Errors.  The core layer must not name API error codes, so the validator
 * answers with its own enum sched_strategy_rule (0 = valid) and, when given a
 * struct err, fills it with code = that rule and the exact ECS message.  Every
 * rule is an InvalidParameterException in ECS, so the API layer keeps the
 * message and only replaces the code:
 *
 *	if (sched_strategy_validate(items, n, &ctx, e) != SCHED_STRATEGY_OK) {
 *		e->code = ERR_INVALID_PARAMETER;
 *		return -1;
 *	}
 */
#ifndef BERTH_SCHED_STRATEGY_H
#define BERTH_SCHED_STRATEGY_H

#include <stddef.h>

#include "lib/err.h"

#define SCHED_STRATEGY_WEIGHT_MAX 1000    /* weight is 0..1000 [M] */
#define SCHED_STRATEGY_BASE_MAX 100000    /* base is 0..100000 [M] */
#define SCHED_STRATEGY_MAX_DEFAULT 6      /* strategy_max_providers default */

/* One item as the client sent it.  A weight or base that was not sent
 * (has_weight / has_base 0) is 0, the API default, whatever the field holds. */
struct sched_strategy_item {
	const char *provider;   /* short name as sent (an ARN never matches) */
	int weight;
	int base;
	int has_weight;
	int has_base;
};

/* FARGATE and FARGATE_SPOT are both SCHED_CP_FARGATE. */
enum sched_cp_kind { SCHED_CP_ASG, SCHED_CP_FARGATE };

/* A provider associated with the cluster, as the caller sees it now. */
struct sched_cp_ref {
	const char *name;
	enum sched_cp_kind kind;
	int usable;             /* status ACTIVE, or an update in progress */
};

/* Where the strategy is being used; decides rule 8 and its message. */
enum sched_strategy_use {
	/* CreateCluster / PutClusterCapacityProviders storing the cluster's
	 * default: all-zero weights are accepted (rule 8 is not checked). */
	SCHED_USE_SET_DEFAULT,
	/* RunTask / CreateService / UpdateService / CreateTaskSet with the
	 * request's own strategy. */
	SCHED_USE_EXPLICIT,
	/* The same calls falling back to the cluster's default strategy. */
	SCHED_USE_CLUSTER_DEFAULT,
};

struct sched_strategy_ctx {
	/* The providers associated with the cluster; for CreateCluster and
	 * PutClusterCapacityProviders, the new list being set. */
	const struct sched_cp_ref *associated;
	size_t n_associated;
	size_t max_items;       /* strategy_max_providers; 0 = SCHED_STRATEGY_MAX_DEFAULT */
	int launch_type_given;  /* the request also has launchType (rule 1) */
	enum sched_strategy_use use;
};

/* Which rule a strategy broke.  The values follow the order in which the
 * rules are checked, so the first broken one is reported. */
enum sched_strategy_rule {
	SCHED_STRATEGY_OK = 0,
	SCHED_STRATEGY_LAUNCH_TYPE,     /* 1: launchType and a strategy both given */
	SCHED_STRATEGY_TOO_MANY,        /* 2: more than max_items items */
	SCHED_STRATEGY_RANGE,           /* 3: weight or base out of range */
	SCHED_STRATEGY_MULTIPLE_BASE,   /* 4: more than one item with base > 0 */
	SCHED_STRATEGY_DUPLICATE,       /* 4: a provider named twice */
	SCHED_STRATEGY_NOT_ASSOCIATED,  /* 5: provider not associated with the cluster */
	SCHED_STRATEGY_NOT_ACTIVE,      /* 6: provider not ACTIVE (or UPDATING) */
	SCHED_STRATEGY_MIXED,           /* 7: Auto Scaling group and Fargate providers mixed */
	SCHED_STRATEGY_NO_WEIGHT,       /* 8: no item with weight > 0 (use time only) */
};

/* Check items[0..n) against ECS-SEMANTICS §4.2 rules 1-8, in that order; within
 * a rule the first offending item (in list order) is reported, and for rule 4
 * several bases are checked before duplicate names.  A strategy with no items
 * is valid: it means "no strategy", whatever ctx says.
 *
 * Returns SCHED_STRATEGY_OK, or the rule broken; then, if e is not NULL, it is
 * filled with code = that rule and the message ECS answers with (§4.2 texts
 * for rules 1, 5, 6, 7, 8).  e is untouched on success.  Provider names are
 * compared exactly; a NULL name is treated as "". */
enum sched_strategy_rule sched_strategy_validate(
	const struct sched_strategy_item *items, size_t n,
	const struct sched_strategy_ctx *ctx, struct err *e);

/* Split total tasks across items[0..n): out[i] is for items[i].
 *
 * Each item with a base first gets min(base, what is left) in list order (a
 * valid strategy has at most one).  The remainder R is split among the items
 * with weight > 0: item i gets floor(R*w_i/W), then the tasks still left go
 * one each to the items with the largest fractional part (R*w_i mod W), ties
 * to the earlier item.  Weight-0 items get only their base.  Exact integer
 * arithmetic; sum(out) == total unless every weight is 0, in which case the
 * remainder goes to no one and sum(out) == min(total, sum of bases).  That can
 * only happen with a strategy validated as SCHED_USE_SET_DEFAULT; callers that
 * place tasks validate with EXPLICIT or CLUSTER_DEFAULT first, which refuses it.
 *
 * The items must satisfy rule 3 (weight and base in range): a value outside
 * is a broken invariant and aborts.  out has room for n values. */
void sched_strategy_split(const struct sched_strategy_item *items, size_t n,
			  unsigned long total, unsigned long *out);

/* Which item should get the next task: the one with the largest deficit
 * target[i] - current[i] > 0, ties to the lowest index; -1 if no item is
 * below its target.  Starting from current = 0 and adding one task at a time
 * to the picked item reaches target exactly.  target and current have n
 * values (n <= INT_MAX). */
int sched_strategy_pick_grow(const unsigned long *target,
			     const unsigned long *current, size_t n);

/* Which item should lose a task: the one with the largest surplus
 * current[i] - target[i] > 0, ties to the lowest index; -1 if no item is
 * above its target. */
int sched_strategy_pick_shrink(const unsigned long *target,
			       const unsigned long *current, size_t n);

#endif
