/* api_svcctl: the service scheduler's controller, on the loop.
 *
 * A service gets a pass when something it depends on changed: a request
 * (create, update, delete), one of its tasks (lastStatus, desiredStatus),
 * an instance its tasks run on (DRAINING), capacity while some start could
 * not be placed or the service is DAEMON, or a deadline (a task turning
 * healthy, a protection running out).  A pass hands a snapshot to the pure
 * core (sched/service.c) and applies what it answers: tasks started through
 * the placement of api_run.c, exact tasks stopped, deployment transitions,
 * and the events that say so (ECS-SEMANTICS §6; texts of real ECS events
 * where known). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/api_svc.h"
#include "api/api_task.h"
#include "lib/xalloc.h"
#include "model/codec.h"
#include "sched/place.h"
#include "sched/service.h"

#define EVENT_REPEAT_MS (6LL * 3600 * 1000)  /* ECS suppresses a repeated event this long */
#define MAX_ROUNDS 8

void api_svc_queue(struct api_ctx *ctx, struct service *s)
{
	if (s->in_pass)
		return;
	model_svc_queue(ctx->m, s);
	api_wake(ctx, ctx->now);
}

void api_svc_task_changed(struct api_ctx *ctx, struct task *t)
{
	struct service *s = t->svc;
	if (!s)
		return;
	if (t->last == TS_STOPPED) {
		/* A task that ends before it ever counted as healthy, and not
		 * because the scheduler or a user stopped it, failed: the
		 * circuit breaker counts it [M:Deployment.failedTasks]. */
		if (!t->healthy && t->stop_code != STOP_USER_INITIATED &&
		    t->stop_code != STOP_SERVICE_SCHEDULER_INITIATED) {
			for (size_t i = 0; i < s->n_deps; i++)
				if (s->deps[i].iid == t->started_by) {
					s->deps[i].failed_tasks++;
					model_dirty_svc(ctx->m, s);
				}
		}
		model_svc_detach_task(t);
	}
	api_svc_queue(ctx, s);
}

void api_svc_instance_changed(struct api_ctx *ctx, struct container_instance *ci)
{
	for (size_t i = 0; i < ci->n_here; i++)
		if (ci->here[i]->svc)
			api_svc_queue(ctx, ci->here[i]->svc);
	struct cluster *c = NULL;
	struct region *r = model_region_find(ctx->m, ci->region);
	if (r)
		c = model_cluster_find(r, ci->cluster);
	for (size_t i = 0; c && i < c->services.n; i++) {
		struct service *s = c->services.v[i].val;
		if (s->daemon && s->status != SVC_INACTIVE)
			api_svc_queue(ctx, s);
	}
}

/* ---- events ---- */

static void event(struct api_ctx *ctx, struct service *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void event(struct api_ctx *ctx, struct service *s, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (s->n_events && strcmp(s->events[0].msg, msg) == 0 && ctx->now - s->events[0].at < EVENT_REPEAT_MS)
		return;
	char id[37];
	rng_uuid(ctx->rng, id);
	model_svc_event(s, id, ctx->now, msg);
	model_dirty_svc(ctx->m, s);
}

/* A growing "(task ID) (task ID)" list. */
struct idlist {
	char *buf;
	size_t len, cap, n;
};

static void idlist_add(struct idlist *l, const char *id)
{
	size_t need = l->len + strlen(id) + 9;
	if (need > l->cap) {
		l->cap = need * 2;
		l->buf = xrealloc(l->buf, l->cap);
	}
	l->len += (size_t)snprintf(l->buf + l->len, l->cap - l->len, "%s(task %s)", l->n ? " " : "", id);
	l->n++;
}

static const char *tail_id(const char *arn)
{
	const char *p = arn ? strrchr(arn, '/') : NULL;
	return p ? p + 1 : arn ? arn : "";
}

static void unplaced_event(struct api_ctx *ctx, struct service *s, const struct svc_start *st)
{
	int why = st->fail_why;
	if (why > SCHED_PLACE_NO_INSTANCES && st->fail_arn && *sched_place_reason_event((enum sched_place_reason)why)) {
		event(ctx, s,
		      "(service %s) was unable to place a task because no container instance met all of its requirements. The closest matching (container-instance %s) %s. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.",
		      s->name, tail_id(st->fail_arn), sched_place_reason_event((enum sched_place_reason)why));
		return;
	}
	const char *reason = st->fail_reason ? st->fail_reason : "No Container Instances were found in your cluster.";
	event(ctx, s, "(service %s) was unable to place a task. Reason: %s", s->name, reason);
}

/* ---- one pass ---- */

struct snap {
	struct task **tp;                       /* the tasks, as the core indexes them */
	struct sched_service_task *tv;
	struct sched_service_deployment *dv;
	struct sched_strategy_item *items;      /* every deployment's, one after the other */
	struct container_instance **inst;       /* DAEMON: eligible instances */
	struct sched_service_instance *iv;
	size_t n_inst;
	int64_t due;
};

static void snap_free(struct snap *sn)
{
	free(sn->tp);
	free(sn->tv);
	free(sn->dv);
	free(sn->items);
	free(sn->inst);
	free(sn->iv);
}

static void sooner(int64_t *at, int64_t t)
{
	if (t && (!*at || t < *at))
		*at = t;
}

static size_t dep_of(const struct service *s, const struct task *t)
{
	for (size_t i = 0; i < s->n_deps; i++)
		if (s->deps[i].iid == t->started_by)
			return i;
	return SCHED_SERVICE_NONE;
}

static int provider_of(const struct deployment *d, const struct task *t)
{
	if (d->launch_type >= 0)
		return SCHED_SERVICE_LAUNCH_TYPE;
	for (size_t i = 0; i < d->strategy.n; i++)
		if (t->cp_name && strcmp(d->strategy.v[i].provider, t->cp_name) == 0)
			return (int)i;
	return (int)d->strategy.n; /* not in its strategy: a provider of target 0 */
}

/* DAEMON: the instances of the service's launch type, ACTIVE or DRAINING. */
static void daemon_instances(struct service *s, struct snap *sn)
{
	const struct cluster *c = s->cluster;
	sn->inst = xcalloc(c->instances.n + 1, sizeof *sn->inst);
	sn->iv = xcalloc(c->instances.n + 1, sizeof *sn->iv);
	if (s->status != SVC_ACTIVE)
		return;
	const struct deployment *pd = &s->deps[s->primary];
	bool external = pd->launch_type == LT_EXTERNAL;
	for (size_t i = 0; i < c->instances.n; i++) {
		struct container_instance *ci = c->instances.v[i].val;
		if ((ci->status == CI_ACTIVE || ci->status == CI_DRAINING) && ci->external == external)
			sn->inst[sn->n_inst++] = ci;
	}
	/* Those the placement constraints rule out are not the service's. */
	bool *ok = xcalloc(sn->n_inst + 1, sizeof *ok);
	api_ci_eligible(pd->td, s->constraints, sn->inst, sn->n_inst, ok);
	size_t k = 0;
	for (size_t i = 0; i < sn->n_inst; i++) {
		if (!ok[i])
			continue;
		sn->inst[k] = sn->inst[i];
		sn->iv[k++] = (struct sched_service_instance){SCHED_SERVICE_LAUNCH_TYPE, sn->inst[i]->status == CI_ACTIVE};
	}
	sn->n_inst = k;
	free(ok);
}

/* ci's index in sn->inst, which keeps the cluster's order (by id): a
 * binary search, since a DAEMON service has a task on every instance. */
static uint32_t instance_index(const struct snap *sn, const struct container_instance *ci)
{
	size_t lo = 0, hi = sn->n_inst;
	while (ci && lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int cmp = strcmp(sn->inst[mid]->id, ci->id);
		if (cmp == 0)
			return sn->inst[mid] == ci ? (uint32_t)mid : SCHED_SERVICE_NO_INSTANCE;
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return SCHED_SERVICE_NO_INSTANCE;
}

static void snapshot(struct api_ctx *ctx, struct service *s, struct snap *sn)
{
	memset(sn, 0, sizeof *sn);
	int64_t now = ctx->now, grace = ctx->cfg->healthy_grace_ms;
	if (s->daemon)
		daemon_instances(s, sn);
	size_t n = s->n_tasks;
	sn->tp = xcalloc(n + 1, sizeof *sn->tp);
	sn->tv = xcalloc(n + 1, sizeof *sn->tv);
	if (n)
		memcpy(sn->tp, s->tasks, n * sizeof *sn->tp);
	for (size_t i = 0; i < n; i++) {
		struct task *t = sn->tp[i];
		struct sched_service_task *x = &sn->tv[i];
		size_t d = dep_of(s, t);
		x->instance = s->daemon ? instance_index(sn, t->ci) : SCHED_SERVICE_NO_INSTANCE;
		if (t->desired == TS_STOPPED || d == SCHED_SERVICE_NONE) {
			/* Stopping, or of a deployment already gone: counts for nothing. */
			x->state = SCHED_SERVICE_STOPPING;
			x->deployment = (uint32_t)s->primary;
			x->provider = SCHED_SERVICE_LAUNCH_TYPE;
			continue;
		}
		x->deployment = (uint32_t)d;
		x->provider = (int16_t)provider_of(&s->deps[d], t);
		x->state = SCHED_SERVICE_PENDING;
		if (t->last == TS_RUNNING && task_has_health_check(t)) {
			/* Health checks decide, not the grace period. */
			int h = task_health(t);
			if (h == TASK_UNHEALTHY) {
				x->state = SCHED_SERVICE_UNHEALTHY;
			} else if (h == TASK_HEALTHY) {
				if (!t->healthy) {
					t->healthy = true;
					if (s->deps[d].failed_tasks) {
						s->deps[d].failed_tasks = 0;
						model_dirty_svc(ctx->m, s);
					}
				}
				x->state = SCHED_SERVICE_HEALTHY;
			}
		} else if (t->last == TS_RUNNING) {
			if (!t->healthy && now >= t->started_at + grace) {
				t->healthy = true;
				/* A task counts: the deployment's failures start over. */
				if (s->deps[d].failed_tasks) {
					s->deps[d].failed_tasks = 0;
					model_dirty_svc(ctx->m, s);
				}
			}
			if (t->healthy)
				x->state = SCHED_SERVICE_HEALTHY;
			else
				sooner(&sn->due, t->started_at + grace);
		}
		if (t->protect_until > now) {
			x->is_protected = 1;
			sooner(&sn->due, t->protect_until);
		}
		x->on_draining = t->ci && t->ci->status == CI_DRAINING;
		/* A lost agent's tasks count as lost once the grace passed
		 * (lost_at is 0 for a disconnection from before a restart:
		 * then at once). */
		if (t->ci && !t->ci->agent_connected) {
			int64_t lost_at = t->ci->lost_at, lost_grace = ctx->cfg->lost_agent_grace_ms;
			x->agent_lost = !lost_grace || !lost_at || lost_at + lost_grace <= now;
			if (!x->agent_lost)
				sooner(&sn->due, lost_at + lost_grace);
		}
	}
	size_t ni = 0;
	for (size_t d = 0; d < s->n_deps; d++)
		ni += s->deps[d].strategy.n;
	sn->items = xcalloc(ni + 1, sizeof *sn->items);
	sn->dv = xcalloc(s->n_deps, sizeof *sn->dv);
	size_t k = 0;
	for (size_t d = 0; d < s->n_deps; d++) {
		const struct deployment *dp = &s->deps[d];
		struct sched_service_deployment *x = &sn->dv[d];
		x->id = dp->id;
		x->rollout = (enum sched_service_rollout)dp->rollout;
		x->failed_tasks = dp->failed_tasks;
		if (dp->launch_type >= 0)
			continue;
		x->items = &sn->items[k];
		x->n_items = dp->strategy.n;
		for (size_t i = 0; i < dp->strategy.n; i++, k++)
			sn->items[k] = (struct sched_strategy_item){dp->strategy.v[i].provider, dp->strategy.v[i].weight,
								    dp->strategy.v[i].base, 1, 1};
	}
}

static void start(struct api_ctx *ctx, struct service *s, const struct snap *sn,
		  const struct sched_service_action *a, bool *blocked)
{
	const struct deployment *d = &s->deps[a->deployment];
	struct svc_start st = {.svc = s, .dep = d, .count = a->count};
	if (a->instance != SCHED_SERVICE_NONE && a->instance < sn->n_inst)
		st.ci = sn->inst[a->instance];
	if (d->launch_type >= 0) {
		st.lt = (enum launch_type)d->launch_type;
	} else if (a->provider < 0 || (size_t)a->provider >= d->strategy.n) {
		return; /* a deployment with neither: nothing to start on */
	} else {
		st.cp = d->strategy.v[a->provider].provider;
		st.lt = cp_is_builtin(st.cp) ? LT_FARGATE : LT_EC2;
	}
	st.started = xcalloc(a->count + 1, sizeof *st.started);
	api_svc_start(ctx, &st);
	if (st.n_started) {
		struct idlist l = {0};
		for (size_t i = 0; i < st.n_started; i++)
			idlist_add(&l, st.started[i]->id);
		event(ctx, s, "(service %s) has started %zu tasks: %s.", s->name, st.n_started, l.buf);
		free(l.buf);
	}
	if (st.n_failed) {
		unplaced_event(ctx, s, &st);
		*blocked = true;
	}
	free(st.started);
}

/* The service's own fields follow its PRIMARY deployment (after a rollback). */
static void follow_primary(struct service *s)
{
	const struct deployment *d = &s->deps[s->primary];
	api_svc_count(s, -1);
	strategy_release(&s->strategy);
	s->launch_type = d->launch_type;
	strategy_copy(&s->strategy, &d->strategy);
	api_svc_count(s, +1);
	free(s->platform_version);
	s->platform_version = d->platform_version ? xstrdup(d->platform_version) : NULL;
}

static void set_rollout(struct deployment *d, int rollout, char *reason, int64_t now)
{
	d->rollout = rollout;
	free(d->rollout_reason);
	d->rollout_reason = reason;
	d->updated_at = now;
}

static void apply(struct api_ctx *ctx, struct service *s, const struct snap *sn,
		  const struct sched_service_result *res)
{
	struct idlist stopped = {0};
	bool *remove = xcalloc(s->n_deps, sizeof *remove);
	bool blocked = false;
	char reason[256];
	for (size_t i = 0; i < res->n; i++) {
		const struct sched_service_action *a = &res->actions[i];
		switch (a->kind) {
		case SCHED_SERVICE_ACT_FAILED: {
			struct deployment *d = &s->deps[a->deployment];
			set_rollout(d, DEP_FAILED, xstrdup("ECS deployment circuit breaker: tasks failed to start."), ctx->now);
			event(ctx, s, "(service %s) (deployment %s) deployment failed: tasks failed to start.", s->name, d->id);
			if (a->to != SCHED_SERVICE_NONE) {
				struct deployment *to = &s->deps[a->to];
				s->primary = a->to;
				set_rollout(to, DEP_IN_PROGRESS,
					    xasprintf("ECS deployment circuit breaker: rolling back to deploymentId %s.", to->id),
					    ctx->now);
				follow_primary(s);
				event(ctx, s, "(service %s) rolling back to deployment %s.", s->name, to->id);
			}
			break;
		}
		case SCHED_SERVICE_ACT_REMOVED:
			remove[a->deployment] = true;
			break;
		case SCHED_SERVICE_ACT_STOP: {
			struct task *t = sn->tp[a->task];
			if (a->reason == SCHED_SERVICE_STOP_UNHEALTHY) {
				event(ctx, s, "(service %s) (task %s) failed container health checks.", s->name, t->id);
				/* A task that failed its checks counts for the circuit breaker. */
				size_t d = dep_of(s, t);
				if (d != SCHED_SERVICE_NONE && !t->healthy)
					s->deps[d].failed_tasks++;
			}
			sched_service_stopped_reason(a->reason, s->deps[s->primary].id, reason, sizeof reason);
			idlist_add(&stopped, t->id);
			api_task_stop(ctx, t, STOP_SERVICE_SCHEDULER_INITIATED, reason);
			break;
		}
		case SCHED_SERVICE_ACT_START:
			if (stopped.n) {
				event(ctx, s, "(service %s) has stopped %zu running tasks: %s.", s->name, stopped.n, stopped.buf);
				stopped.n = stopped.len = 0;
			}
			start(ctx, s, sn, a, &blocked);
			break;
		case SCHED_SERVICE_ACT_COMPLETED: {
			struct deployment *d = &s->deps[a->deployment];
			set_rollout(d, DEP_COMPLETED, xasprintf("ECS deployment %s completed.", d->id), ctx->now);
			event(ctx, s, "(service %s) (deployment %s) deployment completed.", s->name, d->id);
			break;
		}
		case SCHED_SERVICE_ACT_STEADY:
			if (stopped.n) {
				event(ctx, s, "(service %s) has stopped %zu running tasks: %s.", s->name, stopped.n, stopped.buf);
				stopped.n = stopped.len = 0;
			}
			event(ctx, s, "(service %s) has reached a steady state.", s->name);
			break;
		}
	}
	if (stopped.n)
		event(ctx, s, "(service %s) has stopped %zu running tasks: %s.", s->name, stopped.n, stopped.buf);
	free(stopped.buf);
	for (size_t d = s->n_deps; d-- > 0;)
		if (remove[d] && d != s->primary)
			model_dep_remove(s, d);
	free(remove);
	s->placed_gen = blocked ? ctx->m->capacity_gen : 0;
	if (res->n)
		model_dirty_svc(ctx->m, s);
}

/* A task of s that is not yet STOPPING: a deleted service stays DRAINING
 * until there is none (ECS-SEMANTICS §6.3). */
static bool has_live_task(const struct service *s)
{
	for (size_t i = 0; i < s->n_tasks; i++)
		if (s->tasks[i]->desired != TS_STOPPED || s->tasks[i]->last < TS_STOPPING)
			return true;
	return false;
}

static void pass(struct api_ctx *ctx, struct service *s)
{
	if (s->status == SVC_INACTIVE)
		return;
	struct snap sn;
	snapshot(ctx, s, &sn);
	struct sched_service in = {
		.scheduling = s->daemon ? SCHED_SERVICE_DAEMON : SCHED_SERVICE_REPLICA,
		.desired = s->status == SVC_ACTIVE ? (unsigned long)s->desired : 0,
		.min_healthy_percent = (unsigned)s->min_healthy,
		.max_percent = (unsigned)s->max_percent,
		.circuit_breaker = s->cb_enable,
		.rollback = s->cb_rollback,
		.deployments = sn.dv,
		.n_deployments = s->n_deps,
		.primary = s->primary,
		.tasks = sn.tv,
		.n_tasks = s->n_tasks,
		.instances = sn.iv,
		.n_instances = sn.n_inst,
		.was_steady = s->was_steady,
	};
	struct sched_service_result res;
	sched_service_result_init(&res);
	sched_service_reconcile(&in, &res);
	size_t *order = NULL;
	if (res.ties && !s->daemon && s->n_tasks) {
		/* Equal candidates: stop those that keep zones and instances
		 * balanced, and decide again with that order. */
		order = xcalloc(s->n_tasks, sizeof *order);
		api_svc_stop_order(ctx, s, sn.tp, s->n_tasks, order);
		in.order = order;
		sched_service_reconcile(&in, &res);
	}
	s->in_pass = true;
	apply(ctx, s, &sn, &res);
	s->in_pass = false;
	if (s->was_steady != (bool)res.steady) {
		s->was_steady = res.steady;
		model_dirty_svc(ctx->m, s);
	}
	/* A DAEMON service wants a task on each of its instances. */
	if (s->daemon && s->status == SVC_ACTIVE && s->desired != (long)res.desired) {
		s->desired = (long)res.desired;
		model_dirty_svc(ctx->m, s);
	}
	if (s->daemon || s->placed_gen)
		ctx->m->svc_watch++;
	s->due = sn.due;
	if (s->due)
		sooner(&ctx->m->svc_next_due, s->due);
	sched_service_result_free(&res);
	free(order);
	snap_free(&sn);
	/* A deleted service is INACTIVE once no task of it is left running. */
	if (s->status == SVC_DRAINING && !has_live_task(s)) {
		api_svc_set_status(ctx, s, SVC_INACTIVE);
		s->due = ctx->now + ctx->cfg->service_retention_ms;
		sooner(&ctx->m->svc_next_due, s->due);
	}
	if (ctx->m->svc_next_due)
		api_wake(ctx, ctx->m->svc_next_due);
}

/* Services whose deadline came, DAEMON services and services with starts
 * that found no room (when capacity moved), INACTIVE ones to purge. */
static void scan(struct api_ctx *ctx)
{
	struct model *m = ctx->m;
	bool moved = m->capacity_gen != m->svc_gen;
	bool timed = m->svc_next_due && m->svc_next_due <= ctx->now;
	if (!moved && !timed)
		return;
	m->svc_gen = m->capacity_gen;
	if (timed)
		m->svc_next_due = 0;
	if (moved)
		m->svc_watch = 0;  /* counted again below, exactly */
	for (size_t i = 0; i < m->regions.n; i++) {
		struct region *r = m->regions.v[i].val;
		for (size_t k = 0; k < r->clusters.n; k++) {
			struct cluster *c = r->clusters.v[k].val;
			for (size_t j = c->services.n; j-- > 0;) {
				struct service *s = c->services.v[j].val;
				if (s->status == SVC_INACTIVE) {
					if (timed && s->due && s->due <= ctx->now)
						model_svc_purge(m, s);
					else if (timed)
						sooner(&m->svc_next_due, s->due);
					continue;
				}
				if (timed && s->due && s->due <= ctx->now)
					model_svc_queue(m, s);
				else if (timed)
					sooner(&m->svc_next_due, s->due);
				if (moved && (s->daemon || s->placed_gen)) {
					model_svc_queue(m, s);
					m->svc_watch++;
				}
			}
		}
	}
}

int64_t api_svc_advance(struct api_ctx *ctx)
{
	struct model *m = ctx->m;
	scan(ctx);
	for (int round = 0; round < MAX_ROUNDS && m->n_svc_queue; round++) {
		size_t n;
		struct service **q = model_svc_take_queue(m, &n);
		for (size_t i = 0; i < n; i++)
			pass(ctx, q[i]);
		free(q);
	}
	if (m->n_svc_queue)
		return ctx->now;
	return m->svc_next_due;
}

/* ---- after a load ---- */

static void rejoin(struct api_ctx *ctx, struct cluster *c, struct task *t)
{
	if (t->last == TS_STOPPED || strncmp(t->group, "service:", 8) != 0)
		return;
	struct service *s = model_svc_find(c, t->group + 8);
	if (!s || s->status == SVC_INACTIVE || dep_of(s, t) == SCHED_SERVICE_NONE)
		return;
	model_svc_attach_task(s, t);
	t->healthy = t->last == TS_RUNNING && t->started_at + ctx->cfg->healthy_grace_ms <= ctx->now;
}

void api_svc_loaded(struct api_ctx *ctx)
{
	struct model *m = ctx->m;
	for (size_t i = 0; i < m->regions.n; i++) {
		struct region *r = m->regions.v[i].val;
		for (size_t k = 0; k < r->clusters.n; k++) {
			struct cluster *c = r->clusters.v[k].val;
			for (size_t j = 0; j < c->active.n; j++)
				if (c->active.v[j])
					rejoin(ctx, c, c->active.v[j]);
			for (size_t j = 0; j < c->stopped.n; j++)
				if (c->stopped.v[j])
					rejoin(ctx, c, c->stopped.v[j]);
			for (size_t j = 0; j < c->services.n; j++) {
				struct service *s = c->services.v[j].val;
				api_svc_count(s, +1);
				if (s->status == SVC_INACTIVE) {
					s->due = s->deleted_at + ctx->cfg->service_retention_ms;
					sooner(&m->svc_next_due, s->due);
				} else {
					model_svc_queue(m, s);
				}
			}
		}
	}
	if (m->n_svc_queue)
		api_wake(ctx, ctx->now);
	if (m->svc_next_due)
		api_wake(ctx, m->svc_next_due);
}
