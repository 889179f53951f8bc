/* strategy: see strategy.h.
 *
 * Validation walks the whole list once per rule, so the rule order of
 * ECS-SEMANTICS §4.2 holds however the broken items are placed.  Strategies
 * are short (at most strategy_max_providers items once rule 2 passed), so the
 * quadratic scans here (duplicates, largest remainder) cost nothing and need
 * no memory.
 *
 * The split never overflows for in-range items: with W the sum of weights
 * (each <= 1000) and R = q*W + r, R*w/W = q*w + r*w/W where q*w <= R and
 * r*w < W*1000. */
#include "sched/strategy.h"

#include <stdarg.h>
#include <string.h>

#include "lib/xalloc.h"

static const char MSG_LAUNCH_TYPE[] =
	"Specifying both a launch type and capacity provider strategy is not "
	"supported. Remove one and try again.";
static const char MSG_NOT_ASSOCIATED[] =
	"The specified capacity provider strategy cannot contain a capacity "
	"provider that is not associated with the cluster. Associate the "
	"capacity provider with the cluster or specify a valid capacity "
	"provider and try again.";
static const char MSG_MIXED[] =
	"A capacity provider strategy cannot contain a mix of capacity "
	"providers using Auto Scaling groups and Fargate providers. Specify "
	"one or the other and try again.";
/* %s is "default capacity provider strategy" (the cluster default, the text
 * AWS answers with) or "capacity provider strategy" (an explicit one; the
 * same sentence, wording unconfirmed). */
static const char FMT_NO_WEIGHT[] =
	"There are no capacity providers with a weight value greater than zero "
	"defined in the %s. At least one capacity provider must have a weight "
	"value greater than zero specified. Update the cluster's default "
	"capacity provider strategy or specify a valid capacity provider "
	"strategy and try again.";

static enum sched_strategy_rule fail(struct err *e,
				     enum sched_strategy_rule rule,
				     const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum sched_strategy_rule fail(struct err *e,
				     enum sched_strategy_rule rule,
				     const char *fmt, ...)
{
	if (e) {
		va_list ap;
		va_start(ap, fmt);
		err_vset(e, (int)rule, fmt, ap);
		va_end(ap);
	}
	return rule;
}

static const char *name_of(const struct sched_strategy_item *it)
{
	return it->provider ? it->provider : "";
}

/* The API defaults: a weight or base not sent is 0. */
static int weight_of(const struct sched_strategy_item *it)
{
	return it->has_weight ? it->weight : 0;
}

static int base_of(const struct sched_strategy_item *it)
{
	return it->has_base ? it->base : 0;
}

static const struct sched_cp_ref *find_cp(const struct sched_strategy_ctx *ctx,
					  const char *name)
{
	for (size_t i = 0; i < ctx->n_associated; i++) {
		const char *cp = ctx->associated[i].name;
		if (cp && strcmp(cp, name) == 0)
			return &ctx->associated[i];
	}
	return NULL;
}

enum sched_strategy_rule sched_strategy_validate(
	const struct sched_strategy_item *items, size_t n,
	const struct sched_strategy_ctx *ctx, struct err *e)
{
	if (n == 0)
		return SCHED_STRATEGY_OK;

	/* 1 */
	if (ctx->launch_type_given)
		return fail(e, SCHED_STRATEGY_LAUNCH_TYPE, "%s", MSG_LAUNCH_TYPE);

	/* 2 */
	size_t max = ctx->max_items ? ctx->max_items : SCHED_STRATEGY_MAX_DEFAULT;
	if (n > max)
		return fail(e, SCHED_STRATEGY_TOO_MANY,
			    "The capacity provider strategy can contain at most "
			    "%zu capacity providers.", max);

	/* 3 */
	for (size_t i = 0; i < n; i++) {
		int w = weight_of(&items[i]), b = base_of(&items[i]);
		if (w < 0 || w > SCHED_STRATEGY_WEIGHT_MAX)
			return fail(e, SCHED_STRATEGY_RANGE,
				    "The specified weight value %d for capacity "
				    "provider '%s' is invalid. The weight must be "
				    "between 0 and %d.", w, name_of(&items[i]),
				    SCHED_STRATEGY_WEIGHT_MAX);
		if (b < 0 || b > SCHED_STRATEGY_BASE_MAX)
			return fail(e, SCHED_STRATEGY_RANGE,
				    "The specified base value %d for capacity "
				    "provider '%s' is invalid. The base must be "
				    "between 0 and %d.", b, name_of(&items[i]),
				    SCHED_STRATEGY_BASE_MAX);
	}

	/* 4 */
	size_t with_base = 0;
	for (size_t i = 0; i < n; i++)
		with_base += base_of(&items[i]) > 0;
	if (with_base > 1)
		return fail(e, SCHED_STRATEGY_MULTIPLE_BASE,
			    "Only one capacity provider in a capacity provider "
			    "strategy can have a base value greater than zero.");
	for (size_t i = 1; i < n; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(name_of(&items[i]), name_of(&items[j])) == 0)
				return fail(e, SCHED_STRATEGY_DUPLICATE,
					    "The capacity provider '%s' appears "
					    "more than once in the capacity "
					    "provider strategy. Specify each "
					    "capacity provider at most once.",
					    name_of(&items[i]));

	/* 5 */
	for (size_t i = 0; i < n; i++)
		if (!find_cp(ctx, name_of(&items[i])))
			return fail(e, SCHED_STRATEGY_NOT_ASSOCIATED, "%s",
				    MSG_NOT_ASSOCIATED);

	/* 6 */
	for (size_t i = 0; i < n; i++)
		if (!find_cp(ctx, name_of(&items[i]))->usable)
			return fail(e, SCHED_STRATEGY_NOT_ACTIVE,
				    "The specified capacity provider '%s' is not "
				    "in an ACTIVE state. Specify a valid capacity "
				    "provider and try again.", name_of(&items[i]));

	/* 7 */
	enum sched_cp_kind kind = find_cp(ctx, name_of(&items[0]))->kind;
	for (size_t i = 1; i < n; i++)
		if (find_cp(ctx, name_of(&items[i]))->kind != kind)
			return fail(e, SCHED_STRATEGY_MIXED, "%s", MSG_MIXED);

	/* 8: only where tasks are placed, never when a default is stored. */
	if (ctx->use == SCHED_USE_SET_DEFAULT)
		return SCHED_STRATEGY_OK;
	for (size_t i = 0; i < n; i++)
		if (weight_of(&items[i]) > 0)
			return SCHED_STRATEGY_OK;
	return fail(e, SCHED_STRATEGY_NO_WEIGHT, FMT_NO_WEIGHT,
		    ctx->use == SCHED_USE_CLUSTER_DEFAULT
			    ? "default capacity provider strategy"
			    : "capacity provider strategy");
}

void sched_strategy_split(const struct sched_strategy_item *items, size_t n,
			  unsigned long total, unsigned long *out)
{
	unsigned long left = total, wsum = 0;

	for (size_t i = 0; i < n; i++) {
		int w = weight_of(&items[i]), b = base_of(&items[i]);
		BERTH_ASSERT(w >= 0 && w <= SCHED_STRATEGY_WEIGHT_MAX);
		BERTH_ASSERT(b >= 0 && b <= SCHED_STRATEGY_BASE_MAX);
		out[i] = (unsigned long)b < left ? (unsigned long)b : left;
		left -= out[i];
		wsum += (unsigned long)w;
	}
	if (left == 0 || wsum == 0)
		return;

	/* Floors first; what they leave goes by largest fractional part. */
	unsigned long q = left / wsum, r = left % wsum, floors = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned long w = (unsigned long)weight_of(&items[i]);
		unsigned long f = q * w + r * w / wsum;
		out[i] += f;
		floors += f;
	}
	unsigned long extra = left - floors;   /* < number of weighted items */

	/* Item i gets one more iff fewer than `extra` weighted items come
	 * before it in (remainder descending, position ascending) order. */
	for (size_t i = 0; extra > 0 && i < n; i++) {
		unsigned long wi = (unsigned long)weight_of(&items[i]);
		if (wi == 0)
			continue;
		unsigned long ri = r * wi % wsum, ahead = 0;
		for (size_t j = 0; j < n; j++) {
			unsigned long wj = (unsigned long)weight_of(&items[j]);
			unsigned long rj = r * wj % wsum;
			if (wj > 0 && (rj > ri || (rj == ri && j < i)))
				ahead++;
		}
		if (ahead < extra)
			out[i]++;
	}
}

int sched_strategy_pick_grow(const unsigned long *target,
			     const unsigned long *current, size_t n)
{
	int best = -1;
	unsigned long best_gap = 0;
	for (size_t i = 0; i < n; i++) {
		if (current[i] >= target[i])
			continue;
		unsigned long gap = target[i] - current[i];
		if (gap > best_gap) {
			best = (int)i;
			best_gap = gap;
		}
	}
	return best;
}

int sched_strategy_pick_shrink(const unsigned long *target,
			       const unsigned long *current, size_t n)
{
	int best = -1;
	unsigned long best_gap = 0;
	for (size_t i = 0; i < n; i++) {
		if (current[i] <= target[i])
			continue;
		unsigned long gap = current[i] - target[i];
		if (gap > best_gap) {
			best = (int)i;
			best_gap = gap;
		}
	}
	return best;
}
