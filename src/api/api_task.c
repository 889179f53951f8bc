/* api_task: the task lifecycle and the actions that read and change it.
 *
 * A task holds its container instance's CPU, memory and host ports from
 * placement until it is STOPPED; cluster and instance counters follow every
 * lastStatus change through one function (set_last), so they are exact at
 * every moment.  Drivers (server/driver_sim.c, and the agent's) move tasks
 * with api_task_progress and friends; the due heap of the model wakes them.
 * RunTask / StartTask are in api_run.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/api_task.h"
#include "lib/xalloc.h"
#include "model/codec.h"

/* ---- counters and resources ---- */

void api_task_count(struct task *t, int delta)
{
	struct cluster *c = t->cluster;
	bool fg = t->launch_type == LT_FARGATE;
	if (t->last == TS_PENDING) {
		c->pending_tasks += delta;
		*(fg ? &c->pending_fargate : &c->pending_ec2) += delta;
		if (t->ci)
			t->ci->pending_tasks += delta;
	} else if (t->last == TS_RUNNING) {
		c->running_tasks += delta;
		*(fg ? &c->running_fargate : &c->running_ec2) += delta;
		if (t->ci)
			t->ci->running_tasks += delta;
	}
	if (t->last != TS_STOPPED)
		c->live_tasks += delta;
}

static bool reserves_host_ports(const struct task *t)
{
	const char *nm = t->td->network_mode;
	return t->ci && (!nm || strcmp(nm, "bridge") == 0 || strcmp(nm, "host") == 0);
}

/* Apply fn to each host port the task holds. */
static void each_port(const struct task *t, void (*fn)(struct portset *, int))
{
	if (!reserves_host_ports(t))
		return;
	for (size_t i = 0; i < t->td->n_containers; i++) {
		const struct td_container *dc = &t->td->containers[i];
		for (size_t k = 0; k < dc->n_ports; k++) {
			int hp = t->containers[i].host_ports ? t->containers[i].host_ports[k]
							      : dc->ports[k].host_port;
			if (hp > 0)
				fn(dc->ports[k].udp ? &t->ci->used_udp : &t->ci->used_ports, hp);
		}
	}
}

/* Charge t's instance; mark says whether that is a change to store and
 * count (not when a load recomputes what it held). */
static void hold(struct api_ctx *ctx, struct task *t, bool mark)
{
	if (t->ci) {
		t->ci->used_cpu += t->cpu;
		t->ci->used_mem += t->memory;
		each_port(t, portset_add);
		model_ci_attach_task(t->ci, t);
		if (mark)
			model_touch_ci(ctx->m, t->ci);
	} else if (t->launch_type == LT_FARGATE) {
		model_region(ctx->m, t->cluster->region)->fargate_live++;
	}
}

void api_task_hold(struct api_ctx *ctx, struct task *t)
{
	hold(ctx, t, true);
}

static void release(struct api_ctx *ctx, struct task *t)
{
	if (t->ci) {
		t->ci->used_cpu -= t->cpu;
		t->ci->used_mem -= t->memory;
		each_port(t, portset_del);
		model_ci_detach_task(t->ci, t);
		model_touch_ci(ctx->m, t->ci);
	} else if (t->launch_type == LT_FARGATE) {
		model_region(ctx->m, t->cluster->region)->fargate_live--;
	}
}

bool api_task_waiting(const struct task *t)
{
	return t->last == TS_PROVISIONING && !t->ci && t->launch_type != LT_FARGATE;
}

void api_task_set_waiting(struct api_ctx *ctx, struct task *t, bool on)
{
	long d = on ? 1 : -1;
	t->cluster->waiting_tasks += d;
	ctx->m->waiting_tasks += d;
}

void api_task_due(struct api_ctx *ctx, struct task *t, int64_t at)
{
	model_task_due(ctx->m, t, at);
	if (at)
		api_wake(ctx, at);
}

static void set_last(struct api_ctx *ctx, struct task *t, enum task_status s)
{
	if (t->last == s)
		return;
	bool was_waiting = api_task_waiting(t);
	api_task_count(t, -1);
	t->last = (uint8_t)s;
	api_task_count(t, +1);
	if (was_waiting && !api_task_waiting(t))
		api_task_set_waiting(ctx, t, false);
	/* Counters are not stored (a load recomputes them): the cluster and
	 * the instance change without a record to write. */
	model_dirty_task(ctx->m, t);
	if (t->ci)
		model_touch_ci(ctx->m, t->ci);
	if (t->svc)
		api_svc_task_changed(ctx, t);
}

void api_task_progress(struct api_ctx *ctx, struct task *t, int s)
{
	if (s <= t->last || t->last == TS_STOPPED)
		return;
	int64_t now = ctx->now;
	if (s >= TS_ACTIVATING && !t->pull_started_at && s <= TS_RUNNING) {
		t->pull_started_at = now;
		t->pull_stopped_at = now;
	}
	if (s >= TS_PENDING && !t->connectivity_at && s <= TS_RUNNING)
		t->connectivity_at = now;
	if (s == TS_RUNNING) {
		t->started_at = now;
		for (size_t i = 0; i < t->td->n_containers; i++)
			if (t->containers[i].status != TS_STOPPED)
				t->containers[i].status = TS_RUNNING;
	}
	if (s == TS_STOPPED) {
		api_task_interrupted(ctx, t);
		for (size_t i = 0; i < t->td->n_containers; i++)
			t->containers[i].status = TS_STOPPED;
		t->stopped_at = now;
		t->execution_stopped_at = now;
		if (t->desired != TS_STOPPED)
			model_task_desire_stop(ctx->m, t);
		set_last(ctx, t, TS_STOPPED);
		release(ctx, t);
		api_task_due(ctx, t, now + ctx->cfg->task_retention_ms);
		return;
	}
	set_last(ctx, t, (enum task_status)s);
}

void api_task_interrupted(struct api_ctx *ctx, struct task *t)
{
	if (t->stop_code == STOP_TERMINATION_NOTICE) {
		t->stop_code = STOP_SPOT_INTERRUPTION;
		model_dirty_task(ctx->m, t);
	}
}

void api_task_stop(struct api_ctx *ctx, struct task *t, int code, const char *reason)
{
	if (t->desired == TS_STOPPED)
		return;
	model_task_desire_stop(ctx->m, t);
	t->stop_code = (uint8_t)code;
	free(t->stopped_reason);
	t->stopped_reason = reason ? xstrdup(reason) : NULL;
	t->stopping_at = ctx->now;
	model_dirty_task(ctx->m, t);
	if (t->svc)
		api_svc_task_changed(ctx, t);
	if (api_task_waiting(t) || t->last == TS_STOPPED) {
		api_task_due(ctx, t, 0);
		api_task_progress(ctx, t, TS_STOPPED);
		return;
	}
	ctx->driver->stop(ctx, t);
}

void api_task_container_health(struct api_ctx *ctx, struct task *t, size_t i, int health)
{
	struct task_container *tc = &t->containers[i];
	if (tc->health == health || tc->status == TS_STOPPED)
		return;
	tc->health = (uint8_t)health;
	model_dirty_task(ctx->m, t);
	if (t->svc)
		api_svc_task_changed(ctx, t);
}

void api_task_container_exited(struct api_ctx *ctx, struct task *t, size_t i, int code,
			       const char *reason)
{
	struct task_container *tc = &t->containers[i];
	if (tc->status == TS_STOPPED)
		return;
	tc->status = TS_STOPPED;
	tc->exit_code = code;
	if (reason) {
		free(tc->reason);
		tc->reason = xstrdup(reason);
	}
	model_dirty_task(ctx->m, t);
	bool all = true;
	for (size_t k = 0; k < t->td->n_containers; k++)
		all = all && t->containers[k].status == TS_STOPPED;
	if (t->td->containers[i].essential || all)
		api_task_stop(ctx, t, STOP_ESSENTIAL_CONTAINER_EXITED, "Essential container in task exited");
}

void api_tasks_instance_gone(struct api_ctx *ctx, struct container_instance *ci, const char *reason)
{
	while (ci->n_here) {
		struct task *t = ci->here[ci->n_here - 1];
		api_task_stop(ctx, t, STOP_TASK_FAILED_TO_START, reason);
		if (t->desired == TS_STOPPED && t->last != TS_STOPPED) {
			/* The instance is gone: nothing will report the stop. */
			api_task_due(ctx, t, 0);
			api_task_progress(ctx, t, TS_STOPPED);
		}
	}
}

/* ---- time ---- */

#define ADVANCE_BATCH 100000

int64_t api_task_advance(struct api_ctx *ctx)
{
	size_t done = 0;
	struct task *t;
	while ((t = model_task_next_due(ctx->m)) && t->due <= ctx->now) {
		if (++done > ADVANCE_BATCH)
			return ctx->now; /* come back next turn; answer requests meanwhile */
		api_task_due(ctx, t, 0);
		if (t->last == TS_STOPPED) {
			model_task_purge(ctx->m, model_region(ctx->m, t->cluster->region), t);
		} else if (api_task_waiting(t)) {
			api_task_stop(ctx, t, STOP_TASK_FAILED_TO_START, "EMPTY CAPACITY PROVIDER");
		} else {
			ctx->driver->step(ctx, t);
		}
	}
	api_place_waiting(ctx);
	t = model_task_next_due(ctx->m);
	return t ? t->due : 0;
}

void api_loaded(struct api_ctx *ctx)
{
	for (size_t i = 0; i < ctx->m->regions.n; i++) {
		struct region *r = ctx->m->regions.v[i].val;
		for (size_t k = 0; k < r->clusters.n; k++) {
			struct cluster *c = r->clusters.v[k].val;
			c->registered_instances = 0;
			for (size_t j = 0; j < c->instances.n; j++) {
				const struct container_instance *ci = c->instances.v[j].val;
				if (ci->status == CI_ACTIVE || ci->status == CI_DRAINING)
					c->registered_instances++;
			}
			struct task_list *lists[2] = {&c->active, &c->stopped};
			for (int l = 0; l < 2; l++)
				for (size_t j = 0; j < lists[l]->n; j++) {
					struct task *t = lists[l]->v[j];
					if (!t)
						continue;
					api_task_count(t, +1);
					if (t->last != TS_STOPPED)
						hold(ctx, t, false);
					if (api_task_waiting(t))
						api_task_set_waiting(ctx, t, true);
				}
		}
	}
	api_svc_loaded(ctx);
}

/* ---- lookups ---- */

/* The task a reference (id or task ARN) names in cluster c, or NULL. */
struct task *api_task_lookup(struct api_ctx *ctx, const struct cluster *c, const char *ref)
{
	const char *slash = strrchr(ref, '/');
	const char *id = slash ? slash + 1 : ref;
	if (slash && strncmp(ref, "arn:", 4) != 0)
		return NULL;
	if (slash) {
		/* arn:...:task/<cluster>/<id>: the cluster part must match. */
		const char *tp = strstr(ref, ":task/");
		if (!tp)
			return NULL;
		const char *cn = tp + 6;
		size_t cl = (size_t)(slash - cn);
		if (cl != strlen(c->name) || strncmp(cn, c->name, cl) != 0)
			return NULL;
	}
	struct region *r = model_region_find(ctx->m, ctx->region);
	struct task *t = r ? model_task_find(r, id) : NULL;
	return t && t->cluster == c ? t : NULL;
}

/* ---- StopTask ---- */

int api_stop_task(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	struct cluster *c;
	if (api_cluster_lookup(ctx, api_str(in, "cluster"), false, &c, e))
		return -1;
	const char *ref = api_str(in, "task");
	struct task *t = api_task_lookup(ctx, c, ref);
	if (!t)
		return err_set(e, ERR_INVALID_PARAMETER, "The referenced task was not found.");
	const char *reason = api_str(in, "reason");
	if (reason && strlen(reason) > 1024)
		return err_set(e, ERR_INVALID_PARAMETER, "Reason must be at most 1024 characters.");
	api_task_stop(ctx, t, STOP_USER_INITIATED, reason && *reason ? reason : "Task stopped by user");
	*out = cJSON_CreateObject();
	cJSON_AddItemToObject(*out, "task", codec_task(ctx->m, t, 0));
	return 0;
}

/* ---- DescribeTasks ---- */

static bool include_has(const cJSON *in, const char *what)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, api_get(in, "include"))
		if (cJSON_IsString(it) && strcmp(it->valuestring, what) == 0)
			return true;
	return false;
}

static cJSON *missing(struct api_ctx *ctx, const struct cluster *c, const char *ref)
{
	char prefix[300];
	snprintf(prefix, sizeof prefix, "task/%s/", c->name);
	return api_failure(ctx, prefix, ref, "MISSING");
}

int api_describe_tasks(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	const cJSON *refs = api_get(in, "tasks");
	if (cJSON_GetArraySize(refs) > 100)
		return err_set(e, ERR_INVALID_PARAMETER, "taskIds can have at most 100 items.");
	if (cJSON_GetArraySize(refs) == 0)
		return err_set(e, ERR_INVALID_PARAMETER, "Tasks cannot be empty.");
	struct cluster *c;
	if (api_cluster_lookup(ctx, api_str(in, "cluster"), false, &c, e))
		return -1;
	unsigned inc = include_has(in, "TAGS") ? CODEC_TAGS : 0;
	*out = cJSON_CreateObject();
	cJSON *tasks = cJSON_AddArrayToObject(*out, "tasks");
	cJSON *fails = cJSON_AddArrayToObject(*out, "failures");
	const cJSON *it;
	cJSON_ArrayForEach(it, refs)
	{
		struct task *t = cJSON_IsString(it) ? api_task_lookup(ctx, c, it->valuestring) : NULL;
		if (t)
			cJSON_AddItemToArray(tasks, codec_task(ctx->m, t, inc));
		else if (cJSON_IsString(it))
			cJSON_AddItemToArray(fails, missing(ctx, c, it->valuestring));
	}
	return 0;
}

/* ---- ListTasks ---- */

struct list_filter {
	const struct container_instance *ci;
	const char *family;
	const char *started_by;
	const char *service;    /* the service's name: tasks of group service:<name> */
	int launch_type;        /* -1: any */
};

static bool matches(const struct task *t, const struct list_filter *f)
{
	if (f->ci && t->ci != f->ci)
		return false;
	if (f->family && strcmp(t->td->family, f->family) != 0)
		return false;
	if (f->started_by && (!t->started_by || strcmp(t->started_by, f->started_by) != 0))
		return false;
	if (f->launch_type >= 0 && t->launch_type != f->launch_type)
		return false;
	if (f->service && (strncmp(t->group, "service:", 8) != 0 || strcmp(t->group + 8, f->service) != 0))
		return false;
	return true;
}

static int list_filter_parse(struct api_ctx *ctx, struct cluster *c, const cJSON *in,
			     struct list_filter *f, struct err *e)
{
	memset(f, 0, sizeof *f);
	f->launch_type = -1;
	const char *ci = api_str(in, "containerInstance");
	if (ci) {
		struct container_instance *inst;
		if (api_ci_lookup(ctx, c, ci, &inst))
			return err_set(e, ERR_INVALID_PARAMETER, "The referenced container instance was not found.");
		f->ci = inst;
	}
	const char *svc = api_str(in, "serviceName");
	if (svc) {
		char buf[512];
		const struct service *s = model_svc_find(c, api_ref_name(svc, "service", buf, sizeof buf));
		if (!s)
			return err_set(e, ERR_SERVICE_NOT_FOUND, "Service not found.");
		f->service = s->name;
	}
	f->family = api_str(in, "family");
	f->started_by = api_str(in, "startedBy");
	const char *lt = api_str(in, "launchType");
	if (lt)
		f->launch_type = launch_type_parse(lt);
	return 0;
}

int api_list_tasks(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	struct cluster *c;
	if (api_cluster_lookup(ctx, api_str(in, "cluster"), false, &c, e))
		return -1;
	int max = api_int(in, "maxResults", 100);
	if (max < 1 || max > 100)
		return err_set(e, ERR_INVALID_PARAMETER, "maxResults must be between 1 and 100.");
	struct list_filter f;
	if (list_filter_parse(ctx, c, in, &f, e))
		return -1;
	const char *ds = api_str(in, "desiredStatus");
	uint64_t after = 0;
	const char *tok = api_str(in, "nextToken");
	if (tok) {
		char *key = api_token_decode("tasks", tok, e);
		if (!key)
			return -1;
		char *end;
		after = strtoull(key, &end, 10);
		bool bad = *end != '\0' || !after;
		free(key);
		if (bad)
			return err_set(e, ERR_INVALID_PARAMETER, "The specified nextToken is invalid.");
	}
	*out = cJSON_CreateObject();
	cJSON *arns = cJSON_AddArrayToObject(*out, "taskArns");
	if (ds && strcmp(ds, "PENDING") == 0)
		return 0;
	const struct task_list *l = ds && strcmp(ds, "STOPPED") == 0 ? &c->stopped : &c->active;
	int n = 0;
	char buf[512];
	for (size_t i = task_list_after(l, after); i < l->n; i++) {
		const struct task *t = l->v[i];
		if (!t || !matches(t, &f))
			continue;
		if (n == max) {
			char key[24];
			snprintf(key, sizeof key, "%llu", (unsigned long long)after);
			char *next = api_token_encode("tasks", key);
			cJSON_AddStringToObject(*out, "nextToken", next);
			free(next);
			break;
		}
		cJSON_AddItemToArray(arns, cJSON_CreateString(task_arn(ctx->m, t, buf, sizeof buf)));
		after = t->seq;
		n++;
	}
	return 0;
}
