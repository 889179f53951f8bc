/* api_ext: Berth's own actions, beside the ECS ones, on the same protocol
 * with the target prefix "BerthExtensions_v1." (versioned: a change of
 * meaning gets a new prefix).  They drive what AWS does by itself and a test
 * or a user wants to provoke: FARGATE_SPOT interruptions, a host whose agent
 * stops answering.  There is no
 * botocore model for them, so each handler checks its own input. */
#include <string.h>

#include "api/api.h"
#include "api/api_task.h"
#include "model/codec.h"
#include "scaling/cas.h"

#define SPOT_REASON "Your Spot Task was interrupted."

static bool spot_running(const struct task *t)
{
	return t->cp_name && strcmp(t->cp_name, "FARGATE_SPOT") == 0 && t->desired != TS_STOPPED;
}

/* InterruptSpotTasks {cluster, tasks?: [id or ARN], count?: n}: send the
 * two-minute warning to the named FARGATE_SPOT tasks, or to the first
 * `count` of the cluster (all when neither is given).  Answers
 * {"tasks": [the interrupted tasks]}. */
static int interrupt_spot_tasks(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	const cJSON *cl = api_get(in, "cluster");
	const cJSON *refs = api_get(in, "tasks");
	const cJSON *cnt = api_get(in, "count");
	if ((cl && !cJSON_IsString(cl)) || (refs && !cJSON_IsArray(refs)) || (cnt && !cJSON_IsNumber(cnt)))
		return err_set(e, ERR_SERIALIZATION, "InterruptSpotTasks takes {cluster: string, tasks: [string], count: number}.");
	long count = cnt ? (long)cnt->valuedouble : -1;
	if (cnt && count < 0)
		return err_set(e, ERR_INVALID_PARAMETER, "count must not be negative.");
	struct cluster *c;
	if (api_cluster_lookup(ctx, cl ? cl->valuestring : NULL, false, &c, e))
		return -1;
	*out = cJSON_CreateObject();
	cJSON *done = cJSON_AddArrayToObject(*out, "tasks");
	const cJSON *it;
	cJSON_ArrayForEach(it, refs)
	{
		struct task *t = cJSON_IsString(it) ? api_task_lookup(ctx, c, it->valuestring) : NULL;
		if (!t || !spot_running(t))
			continue;
		api_task_stop(ctx, t, STOP_TERMINATION_NOTICE, SPOT_REASON);
		cJSON_AddItemToArray(done, codec_task(ctx->m, t, 0));
	}
	for (size_t i = 0; !refs && i < c->active.n && count != 0; i++) {
		struct task *t = c->active.v[i];
		if (!t || !spot_running(t))
			continue;
		api_task_stop(ctx, t, STOP_TERMINATION_NOTICE, SPOT_REASON);
		cJSON_AddItemToArray(done, codec_task(ctx->m, t, 0));
		count--;
	}
	return 0;
}

/* SetAgentConnected {cluster, containerInstance, connected}: what a host
 * whose agent stops answering (or comes back) looks like, until real
 * agents report their liveness: agentConnected changes, a disconnected
 * instance takes no new task (reason AGENT), and services replace their
 * tasks on it.  Answers {"containerInstance": ...}. */
static int set_agent_connected(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	const cJSON *cl = api_get(in, "cluster"), *ref = api_get(in, "containerInstance");
	const cJSON *on = api_get(in, "connected");
	if ((cl && !cJSON_IsString(cl)) || !cJSON_IsString(ref) || !cJSON_IsBool(on))
		return err_set(e, ERR_SERIALIZATION,
			       "SetAgentConnected takes {cluster: string, containerInstance: string, connected: boolean}.");
	struct cluster *c;
	if (api_cluster_lookup(ctx, cl ? cl->valuestring : NULL, false, &c, e))
		return -1;
	struct container_instance *ci;
	if (api_ci_lookup(ctx, c, ref->valuestring, &ci) || ci->status == CI_INACTIVE)
		return err_set(e, ERR_INVALID_PARAMETER, "The referenced container instance was not found.");
	bool want = cJSON_IsTrue(on);
	if (ci->agent_connected != want) {
		ci->agent_connected = want;
		model_dirty_ci(ctx->m, ci);
		api_svc_instance_changed(ctx, ci);
	}
	*out = cJSON_CreateObject();
	cJSON_AddItemToObject(*out, "containerInstance", codec_ci(ctx->m, ci, 0));
	return 0;
}

/* AdvanceClock {seconds?: n, milliseconds?: n}: with --clock virtual, move
 * time forward, running every deadline that falls due on the way at its
 * own time (tasks' lifecycle steps, transitions, service passes, scaling
 * evaluations), so that an hour of activity takes milliseconds and gives
 * the same result every run (with --seed).  Answers {"now": epoch seconds,
 * "steps": deadlines run}. */
#define ADVANCE_MAX_STEPS 10000000L

static int advance_clock(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	const cJSON *sec = api_get(in, "seconds"), *ms = api_get(in, "milliseconds");
	if ((sec && !cJSON_IsNumber(sec)) || (ms && !cJSON_IsNumber(ms)) || (!sec && !ms))
		return err_set(e, ERR_SERIALIZATION, "AdvanceClock takes {seconds: number} or {milliseconds: number}.");
	double d = (sec ? sec->valuedouble * 1000.0 : 0) + (ms ? ms->valuedouble : 0);
	if (!(d >= 0 && d <= 366.0 * 86400 * 1000))
		return err_set(e, ERR_INVALID_PARAMETER, "AdvanceClock moves forward by 0 to 366 days.");
	if (!ctx->vclock)
		return err_set(e, ERR_INVALID_PARAMETER,
			       "berthd runs on the real clock; start it with --clock virtual to move time.");
	int64_t target = *ctx->vclock + (int64_t)d;
	long steps = 0, same = 0;
	for (;;) {
		ctx->wake_at = 0;
		int64_t next = api_advance(ctx);
		if (ctx->wake_at && (!next || ctx->wake_at < next))
			next = ctx->wake_at;
		steps++;
		if (!next || next > target || steps >= ADVANCE_MAX_STEPS)
			break;
		/* Work that asks to run again at once (a chain of passes) gets a
		 * few turns; then time moves on by a millisecond. */
		if (next <= ctx->now && ++same > 64)
			next = ctx->now + 1;
		if (next > ctx->now) {
			ctx->now = *ctx->vclock = next;
			same = 0;
		}
	}
	ctx->now = *ctx->vclock = target;
	ctx->wake_at = 0;
	api_advance(ctx);
	*out = cJSON_CreateObject();
	cJSON_AddNumberToObject(*out, "now", (double)target / 1000.0);
	cJSON_AddNumberToObject(*out, "steps", (double)steps);
	return 0;
}

/* GetScalingHistory {cluster, capacityProvider, maxResults?}: the managed
 * scaling evaluations of that pair, newest first (at most the last 1,024):
 * {"samples": [{time, capacityProviderReservation, m, n, desiredCapacity,
 * inServiceCount, decision}]}. */
static int get_scaling_history(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	const cJSON *cl = api_get(in, "cluster"), *cp = api_get(in, "capacityProvider");
	const cJSON *max = api_get(in, "maxResults");
	if ((cl && !cJSON_IsString(cl)) || !cJSON_IsString(cp) || (max && !cJSON_IsNumber(max)))
		return err_set(e, ERR_SERIALIZATION,
			       "GetScalingHistory takes {cluster: string, capacityProvider: string, maxResults: number}.");
	long limit = max ? (long)max->valuedouble : CAS_HISTORY;
	if (limit < 1 || limit > CAS_HISTORY)
		return err_set(e, ERR_INVALID_PARAMETER, "maxResults must be between 1 and %d.", CAS_HISTORY);
	struct cluster *c;
	if (api_cluster_lookup(ctx, cl ? cl->valuestring : NULL, false, &c, e))
		return -1;
	if (!cluster_has_cp(c, cp->valuestring))
		return err_set(e, ERR_INVALID_PARAMETER, "The capacity provider %s is not associated with cluster %s.",
			       cp->valuestring, c->name);
	struct region *r = model_region(ctx->m, ctx->region);
	const struct cas_state *st = model_cas_state_find(r, c->name, cp->valuestring);
	*out = cJSON_CreateObject();
	cJSON *l = cJSON_AddArrayToObject(*out, "samples");
	for (size_t i = 0; st && i < st->n && (long)i < limit; i++) {
		const struct cas_sample *s = model_cas_sample_at(st, i);
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "time", (double)s->at / 1000.0);
		cJSON_AddNumberToObject(o, "capacityProviderReservation", s->cpr);
		cJSON_AddNumberToObject(o, "m", (double)s->m);
		cJSON_AddNumberToObject(o, "n", (double)s->n);
		cJSON_AddNumberToObject(o, "desiredCapacity", (double)s->desired);
		cJSON_AddNumberToObject(o, "inServiceCount", (double)s->in_service);
		cJSON_AddStringToObject(o, "decision", scaling_cas_decision_name((enum scaling_cas_decision)s->decision));
		cJSON_AddItemToArray(l, o);
	}
	return 0;
}

static const struct api_action ext_actions[] = {
	{"GetScalingHistory", get_scaling_history},
	{"AdvanceClock", advance_clock},
	{"InterruptSpotTasks", interrupt_spot_tasks},
	{"SetAgentConnected", set_agent_connected},
	{"AgentPoll", api_agent_poll},
};

int api_ext_call(struct api_ctx *ctx, const char *action, const cJSON *in, cJSON **out, struct err *e)
{
	for (size_t i = 0; i < sizeof ext_actions / sizeof ext_actions[0]; i++)
		if (strcmp(ext_actions[i].name, action) == 0) {
			if (api_authorize(ctx, 3, action, in, e))
				return -1;
			*out = NULL;
			int r = ext_actions[i].fn(ctx, in, out, e);
			if (r == 0 && !*out)
				*out = cJSON_CreateObject();
			return r;
		}
	return err_set(e, ERR_UNKNOWN_OPERATION, "Unknown operation BerthExtensions_v1.%s.", action);
}
