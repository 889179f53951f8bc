/* api: the action table and the one entry point the protocol layer calls. */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/api_task.h"
#include "api/validate.h"

static const struct api_action actions[] = {
#define X(name, fn) {name, fn},
#include "api/actions.def"
#undef X
};

const struct api_action *api_find(const char *name)
{
	/* actions.def is sorted by name */
	size_t lo = 0, hi = sizeof actions / sizeof actions[0];
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(actions[mid].name, name);
		if (c == 0)
			return &actions[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int api_call(struct api_ctx *ctx, const char *action, const cJSON *in, cJSON **out, struct err *e)
{
	const struct vop *op = validate_find_op(&validate_model_ecs, action);
	if (!op)
		return err_set(e, ERR_UNKNOWN_OPERATION, "Unknown operation %s.", action);
	if (validate_input(op, in, e) || api_authorize(ctx, 0, action, in, e))
		return -1;
	const struct api_action *a = api_find(action);
	if (!a)
		return err_set(e, ERR_UNSUPPORTED_FEATURE,
			       "Berth does not implement %s yet; docs/api-coverage.md lists what it does.", action);
	*out = NULL;
	uint64_t gen = ctx->m->capacity_gen;
	int r = a->fn(ctx, in, out, e);
	/* Instances changed: tasks waiting for capacity, and services whose
	 * starts found no room or that run on every instance, look again. */
	if ((ctx->m->waiting_tasks || ctx->m->svc_watch) && gen != ctx->m->capacity_gen)
		api_wake(ctx, ctx->now);
	if (r == 0 && !*out)
		*out = cJSON_CreateObject();
	return r;
}

static void sooner(int64_t *next, int64_t at)
{
	if (at && (!*next || at < *next))
		*next = at;
}

int64_t api_advance(struct api_ctx *ctx)
{
	int64_t next = 0;
	/* Tasks first: a task that stops frees its instance and definition
	 * for the steps below. */
	sooner(&next, api_task_advance(ctx));
	for (size_t i = 0; i < ctx->m->regions.n; i++) {
		struct region *r = ctx->m->regions.v[i].val;
		const char *saved = ctx->region;
		ctx->region = r->name;
		sooner(&next, api_cluster_advance(ctx, r));
		sooner(&next, api_cp_advance(ctx, r));
		sooner(&next, api_agent_advance(ctx, r));
		sooner(&next, api_td_advance(ctx, r));
		sooner(&next, api_ci_advance(ctx, r));
		ctx->region = saved;
	}
	/* Auto Scaling instances booting or leaving, then managed scaling. */
	sooner(&next, api_infra_advance(ctx));
	/* Instances that just registered take the waiting tasks before the
	 * evaluation counts those as still needing room. */
	api_place_waiting(ctx);
	sooner(&next, api_cas_advance(ctx));
	/* Services last: they see this turn's tasks and instances. */
	sooner(&next, api_svc_advance(ctx));
	/* A step may start another transition (a provider update puts its
	 * clusters' attachments in progress). */
	if (ctx->wake_at && (!next || ctx->wake_at < next))
		next = ctx->wake_at;
	return next;
}
