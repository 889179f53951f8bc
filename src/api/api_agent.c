/* api_agent: berthd's side of the berth-agent protocol (docs/agent-protocol.md).
 *
 * An instance whose versionInfo says berth-agent (ci->agent) has its tasks
 * run by that agent instead of the simulation: placing a task on it or
 * stopping one there bumps ci->work_gen (and m->agent_gen), which answers
 * the agent's parked long poll; the agent reports back with
 * SubmitTaskStateChange / SubmitContainerStateChange, and each AgentPoll
 * carries everything it runs, so a lost report is repaired by the next poll.
 *
 * Liveness: every AgentPoll is a heartbeat.  api_agent_advance marks an
 * instance agentConnected false when its agent has not polled for the
 * agent timeout; services replace its tasks once the lost-agent grace has
 * passed too (api_svcctl.c reads ci->lost_at).
 *
 * Ownership: an instance registered by an IAM user (ci->owner) takes
 * polls and reports only from that user. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/api_task.h"
#include "lib/xalloc.h"
#include "model/codec.h"

#define AGENT_WAIT_MAX_S 20

/* ---- the driver side: what the agent should run changed ---- */

bool api_task_on_agent(const struct api_ctx *ctx, const struct task *t)
{
	return t->ci ? t->ci->agent : t->launch_type == LT_FARGATE && ctx->cfg->fargate_agents;
}

void api_agent_task_changed(struct api_ctx *ctx, struct task *t)
{
	if (t->ci)
		t->ci->work_gen++;
	else
		ctx->m->fargate_gen++;
	ctx->m->agent_gen++;
}

uint64_t api_agent_work_gen(struct api_ctx *ctx, const char *region, const char *cluster, const char *ci_id)
{
	if (!*ci_id)
		return ctx->m->fargate_gen; /* a Fargate task's own agent */
	struct region *r = model_region_find(ctx->m, region);
	struct cluster *c = r ? model_cluster_find(r, cluster) : NULL;
	struct container_instance *ci = c ? sidx_get(&c->instances, ci_id) : NULL;
	return ci ? ci->work_gen : UINT64_MAX;
}

/* ---- liveness ---- */

static void set_connected(struct api_ctx *ctx, struct container_instance *ci, bool on)
{
	if (ci->agent_connected == on)
		return;
	ci->agent_connected = on;
	ci->lost_at = on ? 0 : ctx->now;
	model_dirty_ci(ctx->m, ci);
	ctx->m->capacity_gen++;
	api_svc_instance_changed(ctx, ci);
	if (!on && ctx->cfg->lost_agent_grace_ms)
		api_wake(ctx, ctx->now + ctx->cfg->lost_agent_grace_ms);
}

int64_t api_agent_advance(struct api_ctx *ctx, struct region *r)
{
	int64_t next = 0, timeout = ctx->cfg->agent_timeout_ms;
	if (timeout <= 0)
		return 0;
	/* Heartbeats only move deadlines later and a new agent's is the
	 * latest: the soonest found last time still bounds them all. */
	if (r->agent_due && ctx->now < r->agent_due)
		return r->agent_due;
	for (size_t i = 0; i < r->clusters.n; i++) {
		struct cluster *c = r->clusters.v[i].val;
		for (size_t k = 0; k < c->instances.n; k++) {
			struct container_instance *ci = c->instances.v[k].val;
			if (!ci->agent || ci->status == CI_INACTIVE || !ci->agent_connected)
				continue;
			int64_t at = ci->last_seen + timeout;
			if (at <= ctx->now)
				set_connected(ctx, ci, false);
			else if (!next || at < next)
				next = at;
		}
	}
	/* None connected: none can time out before a timeout from now. */
	r->agent_due = next ? next : ctx->now + timeout;
	return next;
}

/* ---- lookups shared by the three calls ---- */

static int denied(struct api_ctx *ctx, const char *action, const char *arn, struct err *e)
{
	return err_set(e, ERR_ACCESS_DENIED,
		       "User: %s is not authorized to perform: %s on resource: %s because the container instance was registered by another principal",
		       ctx->caller->arn, action, arn);
}

static bool owns(const struct api_ctx *ctx, const struct container_instance *ci)
{
	return !ctx->caller || !ci->owner || strcmp(ci->owner, ctx->caller->arn) == 0;
}

/* The task a report names, on an instance the caller owns. */
static int report_task(struct api_ctx *ctx, const cJSON *in, const char *action, struct task **out, struct err *e)
{
	struct cluster *c;
	if (api_cluster_lookup(ctx, api_str(in, "cluster"), false, &c, e))
		return -1;
	const char *ref = api_str(in, "task");
	struct task *t = ref ? api_task_lookup(ctx, c, ref) : NULL;
	if (!t)
		return err_set(e, ERR_INVALID_PARAMETER, "The referenced task was not found.");
	char arn[256];
	if (!t->ci && api_task_on_agent(ctx, t)) {
		*out = t; /* a Fargate task's own agent */
		return 0;
	}
	if (!t->ci || !owns(ctx, t->ci))
		return t->ci && ctx->caller ? denied(ctx, action, task_arn(ctx->m, t, arn, sizeof arn), e)
					    : err_set(e, ERR_CLIENT, "The task %s does not run on a container instance.",
						      task_arn(ctx->m, t, arn, sizeof arn));
	*out = t;
	return 0;
}

static long container_index(const struct task *t, const char *name)
{
	for (size_t i = 0; name && i < t->td->n_containers; i++)
		if (strcmp(t->td->containers[i].name, name) == 0)
			return (long)i;
	return -1;
}

static void container_running(struct api_ctx *ctx, struct task *t, size_t i)
{
	if (t->containers[i].status == TS_STOPPED || t->containers[i].status == TS_RUNNING)
		return;
	t->containers[i].status = TS_RUNNING;
	model_dirty_task(ctx->m, t);
}

/* One container's report: {status, exitCode, reason} (ECS's names, or
 * the poll's lastStatus / healthStatus). */
static void container_report(struct api_ctx *ctx, struct task *t, size_t i, const cJSON *c)
{
	const char *st = api_str(c, "status");
	if (!st)
		st = api_str(c, "lastStatus");
	const char *health = api_str(c, "healthStatus");
	if (health && strcmp(health, "HEALTHY") == 0)
		api_task_container_health(ctx, t, i, TASK_HEALTHY);
	else if (health && strcmp(health, "UNHEALTHY") == 0)
		api_task_container_health(ctx, t, i, TASK_UNHEALTHY);
	if (!st)
		return;
	if (strcmp(st, "RUNNING") == 0) {
		container_running(ctx, t, i);
	} else if (strcmp(st, "STOPPED") == 0) {
		const cJSON *x = api_get(c, "exitCode");
		api_task_container_exited(ctx, t, i, cJSON_IsNumber(x) ? x->valueint : TASK_NO_EXIT,
					  api_str(c, "reason"));
	}
}

/* The task reached status (RUNNING or STOPPED) on its host. */
static void task_report(struct api_ctx *ctx, struct task *t, const char *status, const char *reason,
			const cJSON *containers, const char *name_member)
{
	const cJSON *c;
	cJSON_ArrayForEach(c, containers)
	{
		long i = container_index(t, api_str(c, name_member));
		if (i >= 0)
			container_report(ctx, t, (size_t)i, c);
	}
	if (t->last == TS_STOPPED)
		return;
	if (strcmp(status, "RUNNING") == 0) {
		api_task_progress(ctx, t, TS_RUNNING);
	} else if (strcmp(status, "PENDING") == 0) {
		api_task_progress(ctx, t, TS_ACTIVATING);
	} else if (strcmp(status, "STOPPED") == 0) {
		/* Stopped on the host without being asked: it failed there. */
		if (t->desired != TS_STOPPED)
			api_task_stop(ctx, t, t->last < TS_RUNNING ? STOP_TASK_FAILED_TO_START
								   : STOP_ESSENTIAL_CONTAINER_EXITED,
				      reason ? reason : "Essential container in task exited");
		api_task_due(ctx, t, 0);
		api_task_progress(ctx, t, TS_STOPPED);
		if (!t->ci)
			api_agent_task_changed(ctx, t); /* its own agent may go */
	}
}

static const char *const report_statuses[] = {"PENDING", "RUNNING", "STOPPED"};

static bool known_status(const char *s)
{
	for (size_t i = 0; s && i < sizeof report_statuses / sizeof *report_statuses; i++)
		if (strcmp(s, report_statuses[i]) == 0)
			return true;
	return false;
}

static void acknowledge(cJSON **out)
{
	*out = cJSON_CreateObject();
	cJSON_AddStringToObject(*out, "acknowledgment", "true");
}

int api_submit_task_state_change(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	struct task *t;
	const char *status = api_str(in, "status");
	if (report_task(ctx, in, "ecs:SubmitTaskStateChange", &t, e))
		return -1;
	if (!known_status(status))
		return err_set(e, ERR_INVALID_PARAMETER, "status must be one of PENDING, RUNNING, STOPPED.");
	if (t->last == TS_STOPPED && strcmp(status, "STOPPED") != 0)
		return err_set(e, ERR_INVALID_PARAMETER, "The task is STOPPED; it cannot become %s.", status);
	task_report(ctx, t, status, api_str(in, "reason"), api_get(in, "containers"), "containerName");
	acknowledge(out);
	return 0;
}

int api_submit_container_state_change(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	struct task *t;
	if (report_task(ctx, in, "ecs:SubmitContainerStateChange", &t, e))
		return -1;
	long i = container_index(t, api_str(in, "containerName"));
	const char *status = api_str(in, "status");
	if (i < 0)
		return err_set(e, ERR_INVALID_PARAMETER, "The task has no container named %.255s.",
			       api_str(in, "containerName") ? api_str(in, "containerName") : "");
	if (status && !known_status(status))
		return err_set(e, ERR_INVALID_PARAMETER, "status must be one of PENDING, RUNNING, STOPPED.");
	container_report(ctx, t, (size_t)i, in);
	acknowledge(out);
	return 0;
}

/* ---- AgentPoll ---- */

/* The override of container name in t's overrides, or NULL. */
static const cJSON *override_of(const struct task *t, const char *name)
{
	const cJSON *o;
	cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(t->overrides, "containerOverrides"))
	{
		const char *n = api_str(o, "name");
		if (n && strcmp(n, name) == 0)
			return o;
	}
	return NULL;
}

static void copy_member(cJSON *to, const cJSON *from, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(from, name);
	if (v)
		cJSON_AddItemToObject(to, name, cJSON_Duplicate(v, 1));
}

/* environment: the definition's, then the override's (same name wins). */
static cJSON *environment(const cJSON *def, const cJSON *ov)
{
	cJSON *env = cJSON_CreateArray();
	const cJSON *lists[] = {cJSON_GetObjectItemCaseSensitive(def, "environment"),
				cJSON_GetObjectItemCaseSensitive(ov, "environment")};
	for (size_t l = 0; l < 2; l++) {
		const cJSON *kv;
		cJSON_ArrayForEach(kv, lists[l])
		{
			const char *name = api_str(kv, "name");
			if (!name)
				continue;
			cJSON *old = env->child;
			for (; old; old = old->next)
				if (strcmp(api_str(old, "name"), name) == 0)
					break;
			if (old) {
				cJSON_ReplaceItemInObjectCaseSensitive(old, "value",
								       cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(kv, "value"), 1));
				continue;
			}
			cJSON_AddItemToArray(env, cJSON_Duplicate(kv, 1));
		}
	}
	return env;
}

/* What the agent needs to run t: its containers as the definition gives
 * them, with RunTask's overrides and the host ports placement chose. */
static cJSON *task_spec(struct api_ctx *ctx, const struct task *t)
{
	char buf[256];
	cJSON *s = cJSON_CreateObject();
	cJSON_AddStringToObject(s, "taskArn", task_arn(ctx->m, t, buf, sizeof buf));
	cJSON_AddStringToObject(s, "id", t->id);
	cJSON_AddStringToObject(s, "family", t->td->family);
	cJSON_AddNumberToObject(s, "revision", t->td->revision);
	copy_member(s, t->td->body, "cpu");
	copy_member(s, t->td->body, "memory");
	cJSON *list = cJSON_AddArrayToObject(s, "containers");
	const cJSON *defs = cJSON_GetObjectItemCaseSensitive(t->td->body, "containerDefinitions");
	for (size_t i = 0; i < t->td->n_containers; i++) {
		const struct td_container *dc = &t->td->containers[i];
		const cJSON *def = cJSON_GetArrayItem(defs, (int)i);
		const cJSON *ov = override_of(t, dc->name);
		cJSON *c = cJSON_CreateObject();
		cJSON_AddStringToObject(c, "name", dc->name);
		const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(ov, "command");
		if (cmd)
			cJSON_AddItemToObject(c, "command", cJSON_Duplicate(cmd, 1));
		else
			copy_member(c, def, "command");
		copy_member(c, def, "entryPoint");
		cJSON_AddItemToObject(c, "environment", environment(def, ov));
		copy_member(c, def, "workingDirectory");
		copy_member(c, def, "user");
		cJSON_AddBoolToObject(c, "essential", dc->essential);
		copy_member(c, def, "dependsOn");
		copy_member(c, def, "healthCheck");
		if (dc->stop_timeout)
			cJSON_AddNumberToObject(c, "stopTimeout", dc->stop_timeout);
		cJSON_AddNumberToObject(c, "cpu", dc->cpu);
		if (dc->memory)
			cJSON_AddNumberToObject(c, "memory", dc->memory);
		if (dc->memory_reservation)
			cJSON_AddNumberToObject(c, "memoryReservation", dc->memory_reservation);
		cJSON *pm = cJSON_AddArrayToObject(c, "portMappings");
		for (size_t k = 0; k < dc->n_ports; k++) {
			cJSON *p = cJSON_CreateObject();
			cJSON_AddNumberToObject(p, "containerPort", dc->ports[k].container_port);
			int hp = t->containers[i].host_ports ? t->containers[i].host_ports[k] : dc->ports[k].host_port;
			cJSON_AddNumberToObject(p, "hostPort", hp ? hp : dc->ports[k].container_port);
			cJSON_AddStringToObject(p, "protocol", dc->ports[k].udp ? "udp" : "tcp");
			cJSON_AddItemToArray(pm, p);
		}
		cJSON_AddItemToArray(list, c);
	}
	return s;
}

/* The agent's report of task t in the poll, or NULL. */
static const cJSON *reported(const cJSON *tasks, const char *arn)
{
	const cJSON *r;
	cJSON_ArrayForEach(r, tasks)
	{
		const char *a = api_str(r, "taskArn");
		if (a && strcmp(a, arn) == 0)
			return r;
	}
	return NULL;
}

static int poll_input(const cJSON *in, int *wait, struct err *e)
{
	const cJSON *v = api_get(in, "protocolVersion"), *w = api_get(in, "waitSeconds");
	const cJSON *tasks = api_get(in, "tasks");
	if (!cJSON_IsNumber(v))
		return err_set(e, ERR_SERIALIZATION, "AgentPoll needs protocolVersion (berthd speaks %d).",
			       API_AGENT_PROTOCOL);
	if (v->valuedouble != API_AGENT_PROTOCOL)
		return err_set(e, ERR_CLIENT,
			       "berth-agent protocol %g is not spoken by this berthd (it speaks %d): run matching versions.",
			       v->valuedouble, API_AGENT_PROTOCOL);
	if ((!cJSON_IsString(api_get(in, "containerInstance")) && !cJSON_IsString(api_get(in, "task"))) ||
	    (w && !cJSON_IsNumber(w)) ||
	    (tasks && !cJSON_IsArray(tasks)))
		return err_set(e, ERR_SERIALIZATION,
			       "AgentPoll takes {protocolVersion, cluster, containerInstance (or task), waitSeconds, tasks: [...]}.");
	const cJSON *t;
	cJSON_ArrayForEach(t, tasks)
	{
		if (!cJSON_IsObject(t) || !cJSON_IsString(api_get(t, "taskArn")) ||
		    !cJSON_IsString(api_get(t, "lastStatus")))
			return err_set(e, ERR_SERIALIZATION, "Each of tasks needs taskArn and lastStatus strings.");
	}
	*wait = w ? (int)w->valuedouble : AGENT_WAIT_MAX_S;
	if (*wait < 0 || *wait > AGENT_WAIT_MAX_S)
		return err_set(e, ERR_INVALID_PARAMETER, "waitSeconds must be between 0 and %d.", AGENT_WAIT_MAX_S);
	return 0;
}

/* The answer to a poll (or its parking): the agent's report first, then
 * the tasks berthd wants there (want[0..n), any order; a task may leave
 * that set here when it turns STOPPED).  ci is the agent's instance, or
 * NULL for a Fargate task's own agent. */
static int answer(struct api_ctx *ctx, struct cluster *c, struct container_instance *ci, struct task *fargate,
		  const cJSON *in, int wait, cJSON **out)
{
	/* The agent's view first: what it reports moves the tasks on. */
	const cJSON *tasks = api_get(in, "tasks"), *rep;
	cJSON_ArrayForEach(rep, tasks)
	{
		struct task *t = api_task_lookup(ctx, c, api_str(rep, "taskArn"));
		if (t && (ci ? t->ci == ci : t == fargate))
			task_report(ctx, t, api_str(rep, "lastStatus"), api_str(rep, "stoppedReason"),
				    api_get(rep, "containers"), "name");
	}
	/* Then what berthd wants: every task placed here and not STOPPED. */
	bool news = false;
	cJSON *list = cJSON_CreateArray();
	char arn[256];
	size_t n = ci ? ci->n_here : fargate->last != TS_STOPPED;
	for (size_t i = n; i-- > 0;) {
		struct task *t = ci ? ci->here[i] : fargate;
		const cJSON *r = reported(tasks, task_arn(ctx->m, t, arn, sizeof arn));
		if (t->desired == TS_STOPPED && !r) {
			/* Never started there (or its stop was reported and lost
			 * with the agent's state): nothing runs, it is STOPPED. */
			api_task_due(ctx, t, 0);
			api_task_progress(ctx, t, TS_STOPPED);
			continue;
		}
		/* News: a task the agent does not run, or one to stop that it
		 * is not stopping yet (desiredStatus in its report). */
		const char *rd = r ? api_str(r, "desiredStatus") : NULL;
		news |= !r || (t->desired == TS_STOPPED && strcmp(api_str(r, "lastStatus"), "STOPPED") != 0 &&
			       !(rd && strcmp(rd, "STOPPED") == 0));
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "taskArn", arn);
		cJSON_AddStringToObject(o, "desiredStatus", t->desired == TS_STOPPED ? "STOPPED" : "RUNNING");
		if (t->desired == TS_STOPPED && t->stopped_reason)
			cJSON_AddStringToObject(o, "stopReason", t->stopped_reason);
		cJSON_AddItemToObject(o, "spec", task_spec(ctx, t));
		cJSON_AddItemToArray(list, o);
	}
	/* A Fargate task's own agent whose task is over: nothing will come;
	 * answer now so that it ends. */
	if (!ci && fargate->last == TS_STOPPED)
		news = true;
	/* Tasks the agent runs that berthd does not list: it must stop them. */
	cJSON_ArrayForEach(rep, tasks)
	{
		if (strcmp(api_str(rep, "lastStatus"), "STOPPED") != 0 && !reported(list, api_str(rep, "taskArn")))
			news = true;
	}
	if (!news && wait > 0 && ctx->park) {
		/* Held at most a third of the agent timeout, so that a
		 * connected agent polls again (a heartbeat) well within it. */
		int64_t hold = (int64_t)wait * 1000, third = ctx->cfg->agent_timeout_ms / 3;
		if (third > 0 && hold > third)
			hold = third;
		if (!ctx->park->until)
			ctx->park->until = ctx->now + hold;
		if (ctx->park->until > ctx->now) {
			ctx->park->gen = ci ? ci->work_gen : ctx->m->fargate_gen;
			snprintf(ctx->park->region, sizeof ctx->park->region, "%s", c->region);
			snprintf(ctx->park->cluster, sizeof ctx->park->cluster, "%s", c->name);
			snprintf(ctx->park->ci_id, sizeof ctx->park->ci_id, "%s", ci ? ci->id : "");
			ctx->park->parked = true;
			cJSON_Delete(list);
			return 0;
		}
	}
	*out = cJSON_CreateObject();
	cJSON_AddNumberToObject(*out, "protocolVersion", API_AGENT_PROTOCOL);
	cJSON_AddNumberToObject(*out, "heartbeatSeconds", AGENT_WAIT_MAX_S);
	if (ci)
		cJSON_AddStringToObject(*out, "containerInstanceStatus", ci_status_name(ci->status));
	cJSON_AddItemToObject(*out, "tasks", list);
	return 0;
}

int api_agent_poll(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	int wait = 0;
	struct cluster *c;
	struct container_instance *ci;
	if (poll_input(in, &wait, e) || api_cluster_lookup(ctx, api_str(in, "cluster"), false, &c, e))
		return -1;
	const char *ref = api_str(in, "containerInstance");
	if (!ref) {
		/* A Fargate task's own agent (--fargate process): no instance,
		 * no liveness; it asks for its one task. */
		const char *task = api_str(in, "task");
		struct task *t = api_task_lookup(ctx, c, task);
		if (!t || t->ci || !api_task_on_agent(ctx, t))
			return err_set(e, ERR_CLIENT, "The task %.200s is not a Fargate task run by its own agent.", task);
		return answer(ctx, c, NULL, t, in, wait, out);
	}
	if (api_ci_lookup(ctx, c, ref, &ci))
		return err_set(e, ERR_CLIENT, "Referenced container instance %.200s not found.", ref);
	if (!owns(ctx, ci))
		return denied(ctx, "ecs:Poll", ci->arn, e);
	if (ci->status == CI_INACTIVE)
		return err_set(e, ERR_CLIENT, "Container instance %s is inactive.", ci->id);
	/* A heartbeat. */
	ci->last_seen = ctx->now;
	if (ctx->cfg->agent_timeout_ms > 0)
		api_wake(ctx, ctx->now + ctx->cfg->agent_timeout_ms);
	set_connected(ctx, ci, true);
	return answer(ctx, c, ci, NULL, in, wait, out);
}
