/* test_service: sched/service.c — the service scheduler's decisions
 * (ECS-SEMANTICS §4.4, §6): worked examples for each rule (scale out and in
 * across two providers with a base, rolling deployments at 100/200, 50/100,
 * 0/100 and the stuck 100/100, the circuit breaker with and without
 * rollback, draining, lost agents and unhealthy tasks replaced, protected
 * tasks never stopped, ties broken by the caller's order, DAEMON instances
 * joining, draining and leaving), and property checks over random services
 * from a seeded rng.  A small simulator applies each pass's actions the way a
 * controller would (a stopped task is gone one step later, a started one is
 * healthy one step later, or fails for a "bad" deployment) and checks at
 * every pass: the bounds (N <= max(U, N before), H >= min(L, H before)),
 * starts never above a provider's target nor to another deployment, no
 * protected task stopped for scale-in or a deployment, the same answer twice
 * and the same counts under another order; at the end the per-provider counts
 * equal the strategy's split and the run ended within its step bound. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rng.h"
#include "sched/service.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MAXT 1024
#define MAXD 8
#define MAXI 32
#define MAXP 6
#define LT SCHED_SERVICE_LAUNCH_TYPE
#define NOI SCHED_SERVICE_NO_INSTANCE

/* ---- the simulator ---- */

struct sim {
	struct sched_service svc;
	struct sched_service_deployment dep[MAXD];
	struct sched_strategy_item items[MAXD][MAXP];
	int bad[MAXD];           /* its tasks fail instead of becoming healthy */
	struct sched_service_task task[MAXT];
	struct sched_service_instance inst[MAXI];
	struct sched_service_result res, again;
	size_t order[MAXT];
	int steady;
	unsigned steady_events, completed_events, failed_events, removed_events;
	unsigned long started, stopped;
	unsigned long by_reason[8];
	int check_order;         /* also compare against a reversed order */
};

static struct sched_strategy_item item(const char *p, int w, int b)
{
	struct sched_strategy_item it = {p, w, b, 1, 1};
	return it;
}

static struct sim *sim_new(enum sched_service_scheduling sch, unsigned long desired, unsigned min, unsigned max)
{
	struct sim *s = calloc(1, sizeof *s);
	assert_non_null(s);
	s->svc.scheduling = sch;
	s->svc.desired = desired;
	s->svc.min_healthy_percent = min;
	s->svc.max_percent = max;
	s->svc.deployments = s->dep;
	s->svc.tasks = s->task;
	s->svc.instances = s->inst;
	s->check_order = 1;
	sched_service_result_init(&s->res);
	sched_service_result_init(&s->again);
	return s;
}

static void sim_free(struct sim *s)
{
	sched_service_result_free(&s->res);
	sched_service_result_free(&s->again);
	free(s);
}

/* A new deployment, which becomes the PRIMARY. */
static size_t sim_deploy(struct sim *s, const struct sched_strategy_item *items, size_t n,
			 enum sched_service_rollout r)
{
	size_t j = s->svc.n_deployments++;
	assert_true(j < MAXD && n <= MAXP);
	if (n)
		memcpy(s->items[j], items, n * sizeof *items);
	s->dep[j] = (struct sched_service_deployment){
		.id = "ecs-svc/1", .items = n ? s->items[j] : NULL, .n_items = n, .rollout = r};
	s->bad[j] = 0;
	s->svc.primary = j;
	return j;
}

static size_t sim_task(struct sim *s, size_t dep, int prov, enum sched_service_task_state st)
{
	size_t i = s->svc.n_tasks++;
	assert_true(i < MAXT);
	s->task[i] = (struct sched_service_task){
		.deployment = (uint32_t)dep, .instance = NOI, .provider = (int16_t)prov, .state = (uint8_t)st};
	return i;
}

static size_t sim_instance(struct sim *s, int provider, int active)
{
	size_t i = s->svc.n_instances++;
	assert_true(i < MAXI);
	s->inst[i] = (struct sched_service_instance){provider, active};
	return i;
}

/* The instance leaves the list: its tasks are on "no instance". */
static void sim_remove_instance(struct sim *s, size_t gone)
{
	for (size_t i = gone + 1; i < s->svc.n_instances; i++)
		s->inst[i - 1] = s->inst[i];
	s->svc.n_instances--;
	for (size_t t = 0; t < s->svc.n_tasks; t++) {
		if (s->task[t].instance == NOI)
			continue;
		if (s->task[t].instance == gone)
			s->task[t].instance = NOI;
		else if (s->task[t].instance > gone)
			s->task[t].instance--;
	}
}

static int is_keeper(const struct sim *s, size_t primary, const struct sched_service_task *t)
{
	return t->state != SCHED_SERVICE_STOPPING && t->state != SCHED_SERVICE_UNHEALTHY &&
	       t->deployment == primary && !t->on_draining && !t->agent_lost &&
	       (s->svc.scheduling == SCHED_SERVICE_REPLICA ||
		(t->instance < s->svc.n_instances && s->inst[t->instance].active));
}

/* Provider slot of a task of deployment d: an item, or n (unknown). */
static size_t slot(const struct sim *s, size_t d, int prov)
{
	size_t n = s->dep[d].n_items;
	if (n == 0)
		return prov == LT ? 0 : 1;
	return prov >= 0 && (size_t)prov < n ? (size_t)prov : n;
}

static void targets(const struct sim *s, size_t d, unsigned long desired, unsigned long *t)
{
	memset(t, 0, (MAXP + 1) * sizeof *t);
	if (s->dep[d].n_items)
		sched_strategy_split(s->dep[d].items, s->dep[d].n_items, desired, t);
	else
		t[0] = desired;
}

static int same_result(const struct sched_service_result *a, const struct sched_service_result *b)
{
	return a->n == b->n && a->steady == b->steady && a->ties == b->ties && a->desired == b->desired &&
	       a->primary == b->primary &&
	       (a->n == 0 || memcmp(a->actions, b->actions, a->n * sizeof *a->actions) == 0);
}

/* The same answer with the order reversed, but for which tasks stop and the
 * order of STOP actions: as many stops per reason, the same other actions. */
static void check_other_order(struct sim *s)
{
	size_t n = s->svc.n_tasks;
	for (size_t i = 0; i < n; i++)
		s->order[i] = n - 1 - i;
	s->svc.order = s->order;
	sched_service_reconcile(&s->svc, &s->again);
	s->svc.order = NULL;
	const struct sched_service_result *a = &s->res, *b = &s->again;
	assert_int_equal(a->n, b->n);
	assert_int_equal(a->steady, b->steady);
	assert_int_equal(a->primary, b->primary);
	unsigned long ra[8] = {0}, rb[8] = {0};
	for (size_t k = 0; k < a->n; k++) {
		assert_int_equal(a->actions[k].kind, b->actions[k].kind);
		if (a->actions[k].kind == SCHED_SERVICE_ACT_STOP) {
			ra[a->actions[k].reason]++;
			rb[b->actions[k].reason]++;
		} else {
			assert_memory_equal(&a->actions[k], &b->actions[k], sizeof a->actions[k]);
		}
	}
	assert_memory_equal(ra, rb, sizeof ra);
}

/* Invariants of one pass, before it is applied. */
static void check_pass(struct sim *s)
{
	const struct sched_service *svc = &s->svc;
	const struct sched_service_result *res = &s->res;
	int daemon = svc->scheduling == SCHED_SERVICE_DAEMON;
	unsigned long d = res->desired;
	if (daemon) {
		unsigned long active = 0;
		for (size_t i = 0; i < svc->n_instances; i++)
			active += s->inst[i].active != 0;
		assert_int_equal(d, active);
	} else {
		assert_int_equal(d, svc->desired);
	}
	unsigned long lo = sched_service_min_healthy(d, svc->min_healthy_percent);
	unsigned long hi = sched_service_max_running(d, svc->max_percent);
	unsigned long n0 = 0, h0 = 0;
	/* DAEMON: a task on an instance no longer listed is not the
	 * service's to count */
	for (size_t i = 0; i < svc->n_tasks; i++) {
		n0 += s->task[i].state != SCHED_SERVICE_STOPPING;
		h0 += s->task[i].state == SCHED_SERVICE_HEALTHY &&
		      (!daemon || s->task[i].instance < svc->n_instances);
	}

	/* The circuit breaker fires exactly when due. */
	const struct sched_service_deployment *pd = &s->dep[svc->primary];
	int due = svc->circuit_breaker && pd->rollout == SCHED_SERVICE_IN_PROGRESS &&
		  pd->failed_tasks >= sched_service_cb_threshold(d, svc->cb_min);
	size_t primary = svc->primary;
	if (due) {
		assert_true(res->n > 0);
		const struct sched_service_action *a = &res->actions[0];
		assert_int_equal(a->kind, SCHED_SERVICE_ACT_FAILED);
		assert_int_equal(a->deployment, svc->primary);
		if (a->to != SCHED_SERVICE_NONE) {
			assert_true(svc->rollback);
			assert_true(a->to != svc->primary);
			assert_int_equal(s->dep[a->to].rollout, SCHED_SERVICE_COMPLETED);
			primary = a->to;
		}
	}
	assert_int_equal(res->primary, primary);

	static unsigned char stopped[MAXT];
	static unsigned char occupied[MAXI];
	memset(stopped, 0, sizeof stopped);
	memset(occupied, 0, sizeof occupied);
	for (size_t i = 0; i < svc->n_tasks; i++)
		if (s->task[i].instance < svc->n_instances)
			occupied[s->task[i].instance] = 1;
	unsigned long stops = 0, hstops = 0, starts = 0;
	unsigned long added[MAXP + 1] = {0};
	int failed_primary = s->dep[primary].rollout == SCHED_SERVICE_FAILED || (due && primary == svc->primary);
	for (size_t k = 0; k < res->n; k++) {
		const struct sched_service_action *a = &res->actions[k];
		switch (a->kind) {
		case SCHED_SERVICE_ACT_STOP: {
			assert_true(a->task < svc->n_tasks);
			const struct sched_service_task *t = &s->task[a->task];
			assert_true(t->state != SCHED_SERVICE_STOPPING);
			assert_false(stopped[a->task]);
			stopped[a->task] = 1;
			assert_true(a->reason != SCHED_SERVICE_STOP_NONE);
			if (t->is_protected)
				assert_true(a->reason != SCHED_SERVICE_STOP_SCALE_IN &&
					    a->reason != SCHED_SERVICE_STOP_DEPLOYMENT);
			stops++;
			hstops += t->state == SCHED_SERVICE_HEALTHY &&
				  (!daemon || t->instance < svc->n_instances);
			break;
		}
		case SCHED_SERVICE_ACT_START:
			assert_false(failed_primary);
			assert_true(a->count > 0);
			assert_int_equal(a->deployment, primary);
			if (daemon) {
				assert_int_equal(a->count, 1);
				assert_true(a->instance < svc->n_instances);
				assert_true(s->inst[a->instance].active);
				assert_false(occupied[a->instance]);
				occupied[a->instance] = 1;
				assert_int_equal(a->provider, s->inst[a->instance].provider);
			} else {
				size_t sl = slot(s, primary, a->provider);
				assert_true(sl < (s->dep[primary].n_items ? s->dep[primary].n_items : 1));
				added[sl] += a->count;
			}
			starts += a->count;
			break;
		case SCHED_SERVICE_ACT_FAILED:
			assert_true(due && k == 0);
			break;
		case SCHED_SERVICE_ACT_COMPLETED:
			assert_true(res->steady);
			assert_int_equal(a->deployment, primary);
			break;
		case SCHED_SERVICE_ACT_REMOVED:
			assert_true(a->deployment != primary && a->deployment < svc->n_deployments);
			break;
		case SCHED_SERVICE_ACT_STEADY:
			assert_true(res->steady && !svc->was_steady);
			break;
		}
	}
	if (due && res->n > 0)
		assert_int_equal(res->actions[0].kind, SCHED_SERVICE_ACT_FAILED);

	/* the bounds, as the pass leaves them */
	unsigned long n1 = n0 - stops + starts, h1 = h0 - hstops;
	if (!daemon)
		assert_true(n1 <= (hi > n0 ? hi : n0));
	assert_true(h1 >= (lo < h0 ? lo : h0));

	/* starts never take a provider above its target */
	if (!daemon && starts) {
		unsigned long t[MAXP + 1], keep[MAXP + 1] = {0};
		targets(s, primary, d, t);
		for (size_t i = 0; i < svc->n_tasks; i++)
			if (!stopped[i] && is_keeper(s, primary, &s->task[i]))
				keep[slot(s, primary, s->task[i].provider)]++;
		for (size_t p = 0; p <= MAXP; p++)
			if (added[p])
				assert_true(keep[p] + added[p] <= t[p]);
	}

	/* steady is what it says */
	if (res->steady) {
		assert_int_equal(stops + starts, 0);
		unsigned long t[MAXP + 1], keep[MAXP + 1] = {0}, live = 0;
		for (size_t i = 0; i < svc->n_tasks; i++) {
			const struct sched_service_task *x = &s->task[i];
			if (x->state == SCHED_SERVICE_STOPPING)
				continue;
			assert_true(is_keeper(s, primary, x));
			assert_int_equal(x->state, SCHED_SERVICE_HEALTHY);
			live++;
			if (!daemon)
				keep[slot(s, primary, x->provider)]++;
		}
		assert_int_equal(live, d);
		if (!daemon) {
			targets(s, primary, d, t);
			assert_memory_equal(keep, t, sizeof t);
		}
	}
}

/* One pass: reconcile, check, apply. */
static const struct sched_service_result *sim_pass(struct sim *s)
{
	s->svc.was_steady = s->steady;
	s->svc.order = NULL;
	sched_service_reconcile(&s->svc, &s->res);
	sched_service_reconcile(&s->svc, &s->again);
	assert_true(same_result(&s->res, &s->again));
	if (s->check_order)
		check_other_order(s);
	check_pass(s);

	const struct sched_service_result *res = &s->res;
	int removed[MAXD] = {0};
	for (size_t k = 0; k < res->n; k++) {
		const struct sched_service_action *a = &res->actions[k];
		switch (a->kind) {
		case SCHED_SERVICE_ACT_STOP:
			s->task[a->task].state = SCHED_SERVICE_STOPPING;
			s->stopped++;
			s->by_reason[a->reason]++;
			break;
		case SCHED_SERVICE_ACT_START:
			for (size_t c = 0; c < a->count; c++) {
				size_t i = sim_task(s, a->deployment, a->provider, SCHED_SERVICE_PENDING);
				s->task[i].instance = a->instance == SCHED_SERVICE_NONE ? NOI : (uint32_t)a->instance;
			}
			s->started += a->count;
			break;
		case SCHED_SERVICE_ACT_FAILED:
			s->dep[a->deployment].rollout = SCHED_SERVICE_FAILED;
			if (a->to != SCHED_SERVICE_NONE)
				s->svc.primary = a->to;
			s->failed_events++;
			break;
		case SCHED_SERVICE_ACT_COMPLETED:
			s->dep[a->deployment].rollout = SCHED_SERVICE_COMPLETED;
			s->completed_events++;
			break;
		case SCHED_SERVICE_ACT_REMOVED:
			removed[a->deployment] = 1;
			s->removed_events++;
			break;
		case SCHED_SERVICE_ACT_STEADY:
			s->steady_events++;
			break;
		}
	}
	s->steady = res->steady;

	/* drop removed deployments, renumber */
	size_t map[MAXD], nd = 0;
	for (size_t j = 0; j < s->svc.n_deployments; j++) {
		if (removed[j]) {
			map[j] = SIZE_MAX;
			continue;
		}
		map[j] = nd;
		if (nd != j) {
			s->dep[nd] = s->dep[j];
			memcpy(s->items[nd], s->items[j], sizeof s->items[j]);
			s->bad[nd] = s->bad[j];
		}
		s->dep[nd].items = s->dep[nd].n_items ? s->items[nd] : NULL;
		nd++;
	}
	s->svc.n_deployments = nd;
	s->svc.primary = map[s->svc.primary];
	for (size_t i = 0; i < s->svc.n_tasks; i++) {
		struct sched_service_task *t = &s->task[i];
		if (map[t->deployment] == SIZE_MAX) {
			assert_int_equal(t->state, SCHED_SERVICE_STOPPING);
			t->deployment = 0;   /* not read for STOPPING */
		} else {
			t->deployment = (uint32_t)map[t->deployment];
		}
	}
	return res;
}

/* Time passes: stopping tasks are gone; pending ones are healthy, or fail
 * (gone, counted) for a bad deployment. */
static void sim_advance(struct sim *s)
{
	size_t n = 0;
	for (size_t i = 0; i < s->svc.n_tasks; i++) {
		struct sched_service_task t = s->task[i];
		if (t.state == SCHED_SERVICE_STOPPING)
			continue;
		if (t.state == SCHED_SERVICE_PENDING) {
			if (s->bad[t.deployment]) {
				s->dep[t.deployment].failed_tasks++;
				continue;
			}
			t.state = SCHED_SERVICE_HEALTHY;
		}
		s->task[n++] = t;
	}
	s->svc.n_tasks = n;
}

/* Pass and advance until steady; the number of passes, or max + 1. */
static unsigned sim_run(struct sim *s, unsigned max)
{
	for (unsigned step = 1; step <= max; step++) {
		if (sim_pass(s)->steady)
			return step;
		sim_advance(s);
	}
	return max + 1;
}

/* ---- reading results ---- */

static size_t n_kind(const struct sched_service_result *r, enum sched_service_action_kind k)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n; i++)
		n += r->actions[i].kind == k;
	return n;
}

static size_t n_stops(const struct sched_service_result *r, enum sched_service_reason why)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n; i++)
		n += r->actions[i].kind == SCHED_SERVICE_ACT_STOP && r->actions[i].reason == why;
	return n;
}

static size_t started_on(const struct sched_service_result *r, int provider)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n; i++)
		if (r->actions[i].kind == SCHED_SERVICE_ACT_START && r->actions[i].provider == provider)
			n += r->actions[i].count;
	return n;
}

static int stopped_task(const struct sched_service_result *r, size_t task)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->actions[i].kind == SCHED_SERVICE_ACT_STOP && r->actions[i].task == task)
			return 1;
	return 0;
}

/* Live (non-stopping) tasks of deployment d on provider p (or any: -2). */
static size_t live(const struct sim *s, size_t d, int p)
{
	size_t n = 0;
	for (size_t i = 0; i < s->svc.n_tasks; i++) {
		const struct sched_service_task *t = &s->task[i];
		n += t->state != SCHED_SERVICE_STOPPING && t->deployment == d && (p == -2 || t->provider == p);
	}
	return n;
}

/* ---- helpers and texts ---- */

static void test_bounds_helpers(void **state)
{
	(void)state;
	assert_int_equal(sched_service_min_healthy(4, 50), 2);
	assert_int_equal(sched_service_min_healthy(3, 50), 2);     /* rounded up */
	assert_int_equal(sched_service_min_healthy(4, 100), 4);
	assert_int_equal(sched_service_min_healthy(4, 0), 0);
	assert_int_equal(sched_service_min_healthy(4, 150), 4);    /* never above d */
	assert_int_equal(sched_service_min_healthy(0, 100), 0);
	assert_int_equal(sched_service_max_running(4, 200), 8);
	assert_int_equal(sched_service_max_running(3, 150), 4);    /* rounded down */
	assert_int_equal(sched_service_max_running(5, 125), 6);
	assert_int_equal(sched_service_max_running(4, 100), 4);
	assert_int_equal(sched_service_max_running(4, 50), 4);     /* never below d */
	assert_int_equal(sched_service_max_running(0, 200), 0);
	/* no overflow for large counts */
	assert_int_equal(sched_service_max_running(4000000000UL, 200), 8000000000UL);
}

static void test_cb_threshold(void **state)
{
	(void)state;
	/* the developer guide's table */
	assert_int_equal(sched_service_cb_threshold(1, 0), 10);
	assert_int_equal(sched_service_cb_threshold(25, 0), 13);
	assert_int_equal(sched_service_cb_threshold(400, 0), 200);
	assert_int_equal(sched_service_cb_threshold(800, 0), 200);
	assert_int_equal(sched_service_cb_threshold(0, 0), 10);
	assert_int_equal(sched_service_cb_threshold(20, 0), 10);
	assert_int_equal(sched_service_cb_threshold(21, 0), 11);
	/* today's API reference: a floor of 3 */
	assert_int_equal(sched_service_cb_threshold(1, 3), 3);
	assert_int_equal(sched_service_cb_threshold(7, 3), 4);
}

static void test_texts(void **state)
{
	(void)state;
	char buf[128];
	assert_int_equal(sched_service_stopped_reason(SCHED_SERVICE_STOP_SCALE_IN, "ecs-svc/123", buf, sizeof buf),
			 (int)strlen("Scaling activity initiated by (deployment ecs-svc/123)"));
	assert_string_equal(buf, "Scaling activity initiated by (deployment ecs-svc/123)");
	sched_service_stopped_reason(SCHED_SERVICE_STOP_DEPLOYMENT, "ecs-svc/9", buf, sizeof buf);
	assert_string_equal(buf, "Scaling activity initiated by (deployment ecs-svc/9)");
	sched_service_stopped_reason(SCHED_SERVICE_STOP_UNHEALTHY, NULL, buf, sizeof buf);
	assert_string_equal(buf, "Task failed container health checks");
	sched_service_stopped_reason(SCHED_SERVICE_STOP_DRAINING, NULL, buf, sizeof buf);
	assert_string_equal(buf, "Container instance is draining");
	sched_service_stopped_reason(SCHED_SERVICE_STOP_NONE, NULL, buf, sizeof buf);
	assert_string_equal(buf, "");
	/* truncation follows snprintf */
	char small[8];
	sched_service_stopped_reason(SCHED_SERVICE_STOP_SCALE_IN, "x", small, sizeof small);
	assert_string_equal(small, "Scaling");

	assert_string_equal(sched_service_event_text(SCHED_SERVICE_ACT_STEADY), "has reached a steady state.");
	assert_string_equal(sched_service_event_text(SCHED_SERVICE_ACT_START), "has started");
	assert_string_equal(sched_service_event_text(SCHED_SERVICE_ACT_STOP), "has stopped");
	assert_string_equal(sched_service_event_text(SCHED_SERVICE_ACT_COMPLETED), "deployment completed.");
	assert_string_equal(sched_service_event_text(SCHED_SERVICE_ACT_FAILED),
			    "deployment failed: tasks failed to start.");
	assert_string_equal(sched_service_event_text(SCHED_SERVICE_ACT_REMOVED), "");
	assert_string_equal(sched_service_event_rollback(), "rolling back to deployment");
	assert_string_equal(sched_service_event_unhealthy(), "failed container health checks.");

	static const char *const names[] = {"",		 "scale-in",   "deployment",   "draining",
					    "unhealthy", "agent-lost", "instance-gone"};
	for (int r = 0; r <= SCHED_SERVICE_STOP_INSTANCE_GONE; r++)
		assert_string_equal(sched_service_reason_name((enum sched_service_reason)r), names[r]);
}

/* ---- REPLICA: strategy split ---- */

/* §4.4 example 1: [A base=2 w=1, B w=3], desired 10 -> A=4, B=6. */
static void test_scale_out_base(void **state)
{
	(void)state;
	struct sim *s = sim_new(SCHED_SERVICE_REPLICA, 10, 100, 200);
	struct sched_strategy_item st[] = {item("A", 1, 2), item("B", 3, 0)};
	sim_deploy(s, st, 2, SCHED_SERVICE_IN_PROGRESS);

	const struct sched_service_result *r = sim_pass(s);
	assert_int_equal(r->n, 2);
	assert_int_equal(r->actions[0].kind, SCHED_SERVICE_ACT_START);
	assert_int_equal(r->actions[0].provider, 0);
	assert_int_equal(r->actions[0].count, 4);
	assert_int_equal(r->actions[0].deployment, 0);
	assert_int_equal(r->actions[0].instance, SCHED_SERVICE_NONE);
	assert_int_equal(r->actions[1].provider, 1);
	assert_int_equal(r->actions[1].count, 6);
	assert_false(r->steady);

	/* still pending: nothing to do, not steady */
	r = sim_pass(s);
	assert_int_equal(r->n, 0);
	assert_false(r->steady);

	sim_advance(s);
	r = sim_pass(s);
	assert_int_equal(r->n, 2);
	assert_int_equal(r->actions[0].kind, SCHED_SERVICE_ACT_COMPLETED);
	assert_int_equal(r->actions[0].deployment, 0);
	assert_int_equal(r->actions[1].kind, SCHED_SERVICE_ACT_STEADY);
	assert_true(r->steady);
	assert_int_equal(live(s, 0, 0), 4);
	assert_int_equal(live(s, 0, 1), 6);

	/* steady again: no action, no second event */
	r = sim_pass(s);
	assert_int_equal(r->n, 0);
	assert_true(r->steady);
	assert_int_equal(s->steady_events, 1);
	assert_int_equal(s->completed_events, 1);
	sim_free(s);
}

/* From A=4/B=6, desired 6: targets A=3, B=3 (2 base, 4 split 1:3 = 1/3);
 * B has the largest surplus (3) and loses 3, A loses 1. */
static void test_scale_in_two_providers(void **state)
{
	(void)state;
	struct sim *s = sim_new(SCHED_SERVICE_REPLICA, 10, 100, 200);
	struct sched_strategy_item st[] = {item("A", 1, 2), item("B", 3, 0)};
	sim_deploy(s, st, 2, SCHED_SERVICE_COMPLETED);
	for (int i = 0; i < 4; i++)
		sim_task(s, 0, 0, SCHED_SERVICE_HEALTHY);
	for (int i = 0; i < 6; i++)
		sim_task(s, 0, 1, SCHED_SERVICE_HEALTHY);
	assert_true(sim_pass(s)->steady);

	s->svc.desired = 6;
	const struct sched_service_result *r = sim_pass(s);
	assert_int_equal(n_kind(r, SCHED_SERVICE_ACT_STOP), 4);
	assert_int_equal(n_stops(r, SCHED_SERVICE_STOP_SCALE_IN), 4);
	assert_int_equal(n_kind(r, SCHED_SERVICE_ACT_START), 0);
	assert_int_equal(live(s, 0, 0), 3);
	assert_int_equal(live(s, 0, 1), 3);
	sim_advance(s);
	r = sim_pass(s);
	assert_true(r->steady);
	assert_int_equal(n_kind(r, SCHED_SERVICE_ACT_STEADY), 1);
	assert_int_equal(n_kind(r, SCHED_SERVICE_ACT_COMPLETED), 0);   /* already COMPLETED */

	/* desired 8: A = 2 + 2 (the .5 tie goes to the first listed), B = 4 */
	s->svc.desired = 8;
	r = sim_pass(s);
	assert_int_equal(started_on(r, 0), 1);
	assert_int_equal(started_on(r, 1), 1);
	sim_advance(s);
	assert_true(sim_pass(s)->steady);
	assert_int_equal(live(s, 0, 0), 4);
	assert_int_equal(live(s, 0, 1), 4);
	sim_free(s);
}

/* With a budget for only two healthy stops, both come from the provider
 * with the largest surplus; the deficit elsewhere is started at once. */
static void test_scale_in_largest_surplus_first(void **state)
{
	(void)state;
	struct sim *s = sim_new(SCHED_SERVICE_REPLICA, 6, 100, 200);
	struct sched_strategy_item st[] = {item("A", 1, 0), item("B", 1, 0), item("C", 1, 0)};
	sim_deploy(s, st, 3, SCHED_SERVICE_COMPLETED);
	for (int i = 0; i < 5; i++)
		sim_task(s, 0, 0, SCHED_SERVICE_HEALTHY);   /* A: target 2, surplus 3 */
	for (int i = 0; i < 3; i++)
		sim_task(s, 0, 1, SCHED_SERVICE_HEALTHY);   /* B: target 2, surplus 1 */
	/* C: target 2, deficit 2.  H = 8, L = 6: two healthy stops at most */
	const struct sched_service_result *r = sim_pass(s);
	assert_int_equal(n_stops(r, SCHED_SERVICE_STOP_SCALE_IN), 2);
	for (size_t k = 0; k < r->n; k++)
		if (r->actions[k].kind == SCHED_SERVICE_ACT_STOP)
			assert_int_equal(s->task[r->actions[k].task].provider, 0);
	assert_int_equal(started_on(r, 2), 2);
	assert_int_equal(started_on(r, 0) + started_on(r, 1), 0);   /* never another provider */
	assert_true(sim_run(s, 10) <= 3);
	assert_int_equal(live(s, 0, 0), 2);
	assert_int_equal(live(s, 0, 1), 2);
	assert_int_equal(live(s, 0, 2), 2);
	sim_free(s);
}

/* Scale-in stops pending tasks before running ones, and unhealthy ones are
 * replaced whatever the count. */
static void test_scale_in_prefers_pending(void **state)
{
	(void)state;
	struct sim *s = sim_new(SCHED_SERVICE_REPLICA, 2, 100, 200);
	sim_deploy(s, NULL, 0, SCHED_SERVICE_COMPLETED);
	size_t h0 = sim_task(s, 0, LT, SCHED_SERVICE_HEALTHY);
	size_t p0 = sim_task(s, 0, LT, SCHED_SERVICE_PENDING);
	size_t h1 = sim_task(s, 0, LT, SCHED_SERVICE_HEALTHY);
	size_t p1 = sim_task(s, 0, LT, SCHED_SERVICE_PENDING);
	const struct sched_service_result *r = sim_pass(s);
	assert_int_equal(n_kind(r, SCHED_SERVICE_ACT_STOP), 2);
	assert_true(stopped_task(r, p0) && stopped_task(r, p1));
	assert_false(stopped_task(r, h0) || stopped_task(r, h1));
	assert_false(r->ties);   /* every pending one goes: no choice made */
	sim_advance(s);
	assert_true(sim_pass(s)->steady);

	/* one unhealthy among three for desired 2: it goes, nothing starts */
	s->task[0].state = SCHED_SERVICE_UNHEALTHY;
	sim_task(s, 0, LT, SCHED_SERVICE_HEALTHY);
	r = sim_pass(s);
	assert_int_equal(r->n, 1);
	assert_int_equal(n_stops(r, SCHED_SERVICE_STOP_UNHEALTHY), 1);
	assert_true(stopped_task(r, 0));
	sim_free(s);
}

/* Protected tasks are never stopped for scale-in: the surplus stays, the
 * service is not steady, until the protection ends. */
static void test_protected_scale_in(void **state)
{
	(void)state;
	struct sim *s = sim_new(SCHED_SERVICE_REPLICA, 10, 100, 200);
	struct sched_strategy_item st[] = {item("A", 1, 2), item("B", 3, 0)};
	sim_deploy(s, st, 2, SCHED_SERVICE_COMPLETED);
	for (int i = 0; i < 4; i++)
		sim_task(s, 0, 0, SCHED_SERVICE_HEALTHY);
	for (int i = 0; i < 6; i++)
		s->task[sim_task(s, 0, 1, SCHED_SERVICE_HEALTHY)].is_protected = 1;
	s->svc.desired = 2;   /* A = 2, B = 0 */
	const struct sched_service_result *r = sim_pass(s);
	assert_int_equal(n_stops(r, SCHED_SERVICE_STOP_SCALE_IN), 2);   /* A's surplus only */
	for (unsigned step = 0; step < 5; step++) {
		sim_advance(s);
		r = sim_pass(s);
		assert_int_equal(r->n, 0);
		assert_false(r->steady);
	}
	assert_int_equal(live(s, 0, 1), 6);
	for (size_t i = 0; i < s->svc.n_tasks; i++)
		s->task[i].is_protected = 0;
	r = sim_pass(s);
	assert_int_equal(n_stops(r, SCHED_SERVICE_STOP_SCALE_IN), 6);
	assert_true(sim_run(s, 3) <= 2);
	assert_int_equal(live(s, 0, 0), 2);
	sim_free(s);
}

/* A protected task of an old deployment keeps that deployment alive; the
 * new one reaches its count meanwhile, within maximumPercent. */
static void test_protected_deployment(void **state)
{
	(void)state;
	struct sim *s = sim_new(SCHED_SERVICE_REPLICA, 3, 100, 200);
	sim_deploy(s, NULL, 0, SCHED_SERVICE_COMPLETED);
	size_t keep = sim_task(s, 0, LT, SCHED_SERVICE_HEALTHY);
	s->task[keep].is_protected = 1;
	sim_task(s, 0, LT, SCHED_SERVICE_HEALTHY);
	sim_task(s, 0, LT, SCHED_SERVICE_HEALTHY);
	sim_deploy(s, NULL, 0, SCHED_SERVICE_IN_PROGRESS);
	assert_int_equal(sim_run(s, 8), 9);   /* never steady */
	assert_int_equal(live(s, 0, -2), 1);
	assert_int_equal(s->task[keep].state, SCHED_SERVICE_HEALTHY);
	assert_int_equal(live(s, 1, -2), 3);
	assert_int_equal(s->svc.n_deployments, 2);
	for (size_t i = 0; i < s->svc.n_tasks; i++)
		s->task[i].is_protected = 0;
	assert_true(sim_run(s, 4) <= 3);
	assert_int_equal(s->svc.n_deployments, 1);
	assert_int_equal(s->completed_events, 1);
	sim_free(s);
}

/* ---- REPLICA: rolling deployments ---- */

static struct sim *rolling(unsigned min, unsigned max, unsigned long d)
{
	struct sim *s = sim_new(SCHED_SERVICE_REPLICA, d, min, max);
	sim_deploy(s, NULL, 0, SCHED_SERVICE_COMPLETED);
	for (unsigned long i = 0; i < d; i++)
		sim_task(s, 0, LT, SCHED_SERVICE_HEALTHY);
	assert_true(sim_pass(s)->steady);
	sim_deploy(s, NULL, 0, SCHED_SERVICE_IN_PROGRESS);
	return s;
}

/* 100/200: start N new, then stop N old. */
static void test_rolling_100_200(void **state)
{
	(void)state;
	struct sim *s = rolling(100, 200, 4);
	const struct sched_service_result *r = sim_pass(s);
	assert_int_equal(r->n, 1);
	assert_int_equal(r->actions[0].kind, SCHED_SERVICE_ACT_START);
	assert_int_equal(r->actions[0].deployment, 1);
	assert_int_equal(r->actions[0].count, 4);
	sim_advance(s);
	r = sim_pass(s);
	assert_int_equal(r->n, 4);
	assert_int_equal(n_stops(r, SCHED_SERVICE_STOP_DEPLOYMENT), 4);
	for (size_t k = 0; k < 4; k++)
		assert_int_equal(s->task[r->actions[k].task].deployment, 0);
	sim_advance(s);
	r = sim_pass(s);
	assert_int_equal(r->n, 3);
	assert_int_equal(r->actions[0].kind, SCHED_SERVICE_ACT_REMOVED);
	assert_int_equal(r->actions[0].deployment, 0);
	assert_int_equal(r->actions[1].kind, SCHED_SERVICE_ACT_COMPLETED);
	assert_int_equal(r->actions[1].deployment, 1);
	assert_int_equal(r->actions[2].kind, SCHED_SERVICE_ACT_STEADY);
	assert_int_equal(s->svc.n_deployments, 1);
	sim_free(s);
}

/* 50/100: half the old ones stop and as many new ones start, twice. */
static void test_rolling_50_100(void **state)
{
	(void)state;
	struct sim *s = rolling(50, 100, 4);
	const struct sched_service_result *r = sim_pass(s);
	assert_int_equal(n_stops(r, SCHED_SERVICE_STOP_DEPLOYMENT), 2);
	assert_int_equal(started_on(r, LT), 2);
	sim_advance(s);
	r = sim_pass(s);
	assert_int_equal(n_stops(r, SCHED_SERVICE_STOP_DEPLOYMENT), 2);
	assert_int_equal(started_on(r, LT), 2);
	sim_advance(s);
	r = sim_pass(s);
	assert_true(r->steady);
	assert_int_equal(n_kind(r, SCHED_SERVICE_ACT_REMOVED), 1);
	assert_int_equal(n_kind(r, SCHED_SERVICE_ACT_COMPLETED), 1);
	sim_free(s);
}

/* 0/100: everything old stops, everything new starts, in one pass. */
static void test_rolling_0_100(void **state)
{
	(void)state;
	struct sim *s = rolling(0, 100, 4);
	const struct sched_service_result *r = sim_pass(s);
	assert_int_equal(n_stops(r, SCHED_SERVICE_STOP_DEPLOYMENT), 4);
	assert_int_equal(started_on(r, LT), 4);
	sim_advance(s);
	assert_true(sim_pass(s)->steady);
	sim_free(s);
}

/* 100/100 (and 3 tasks at 100/125, whose U is 3): no replacement can
 * proceed; the pass answers nothing and is not steady. */
static void test_rolling_stuck(void **state)
{
	(void)state;
	static const unsigned cfg[][3] = {{100, 100, 4}, {100, 125, 3}, {50, 150, 1}};
	for (size_t c = 0; c < ARRAY_LEN(cfg); c++) {
		struct sim *s = rolling(cfg[c][0], cfg[c][1], cfg[c][2]);
		for (int step = 0; step < 3; step++) {
			const struct sched_service_result *r = sim_pass(s);
			assert_int_equal(r->n, 0);
			assert_false(r->steady);
			sim_advance(s);
		}
		sim_free(s);
	}
}

/* Every percent pair on a few sizes: the bounds hold at each step (checked
 * by sim_pass) and the rollout ends within 2 + 2 * ceil(d / batch) passes. */
static void test_rolling_grid(void **state)
{
	(void)state;
	static const unsigned mins[] = {0, 25, 50, 75, 100};
	static const unsigned maxs[] = {100, 110, 150, 200, 300};
	for (size_t a = 0; a < ARRAY_LEN(mins); a++)
		for (size_t b = 0; b < ARRAY_LEN(maxs); b++)
			for (unsigned long d = 0; d <= 12; d++) {
				unsigned long lo = sched_service_min_healthy(d, mins[a]);
				unsigned long hi = sched_service_max_running(d, maxs[b]);
				if (d > 0 && lo == d && hi == d)
					continue;   /* stuck, see above */
				struct sim *s = rolling(mins[a], maxs[b], d);
				unsigned long batch = (hi - d) + (d - lo);
				unsigned bound = 3 + 2 * (unsigned)(batch ? (d + batch - 1) / batch : 0);
				unsigned steps = sim_run(s, 100);
				assert_true(steps <= bound);
				assert_int_equal(s->svc.n_deployments, 1);
				assert_int_equal(live(s, 0, -2), d);
				sim_free(s);
			}
}

/* ---- REPLICA: replacement ---- */

/* A healthy task on a DRAINING instance: 100/200 starts its replacement on
 * the same provider first, and stops it once the new one is healthy; a
 * pending one is stopped at once. */
static void test_draining_replacement(void **state)
{
	(void)state;
	struct sim *s = sim_new(SCHED_SERVICE_REPLICA, 4, 100, 200);
	struct sched_strategy_item st[] = {item("A", 1, 0), item("B", 1, 0)};
	sim_deploy(s, st, 2, SCHED_SERVICE_COMPLETED);
	size_t drained = sim_task(s, 0, 0, SCHED_SERVICE_HEALTHY);
	sim_task(s, 0, 0, SCHED_SERVICE_HEALTHY);
	sim_task(s, 0, 1, SCHED_SERVICE_HEALTHY);
	size_t pend = sim_task(s, 0, 1, SCHED_SERVICE_PENDING);
	s->task[drained].on_draining = 1;
	s->task[pend].on_draining = 1;
	const struct sched_service_result *r = sim_pass(s);
	assert_int_equal(n_stops(r, SCHED_SERVICE_STOP_DRAINING), 1);
	assert_true(stopped_task(r, pend));
	assert_int_equal(started_on(r, 0), 1);
	assert_int_equal(started_on(r, 1), 1);
	sim_advance(s);
	r = sim_pass(s);
	assert_int_equal(r->n, 1);
	assert_int_equal(r->actions[0].kind, SCHED_SERVICE_ACT_STOP);
	assert_int_equal(r->actions[0].reason, SCHED_SERVICE_STOP_DRAINING);
	sim_advance(s);
	assert_true(sim_pass(s)->steady);
	sim_free(s);

	/* 50/100: no room, so it stops first and the replacement starts in the
	 * same pass */
	s = sim_new(SCHED_SERVICE_REPLICA, 4, 50, 100);
	sim_deploy(s, NULL, 0, SCHED_SERVICE_COMPLETED);
	for (int i = 0; i < 4; i++)
		sim_task(s, 0, LT, SCHED_SERVICE_HEALTHY);
	s->task[2].on_draining = 1;
	r = sim_pass(s);
	assert_int_equal(n_stops(r, SCHED_SERVICE_STOP_DRAINING), 1);
	assert_int_equal(started_on(r, LT), 1);
	sim_free(s);

	/* 100/100: the drained task can never be replaced (as ECS documents) */
	s = sim_new(SCHED_SERVICE_REPLICA, 4, 100, 100);
	sim_deploy(s, NULL, 0, SCHED_SERVICE_COMPLETED);
	for (int i = 0; i < 4; i++)
		sim_task(s, 0, LT, SCHED_SERVICE_HEALTHY);
	s->task[2].on_draining = 1;
	r = sim_pass(s);
	assert_int_equal(r->n, 0);
	assert_false(r->steady);
	sim_free(s);
}

/* A lost agent's task is replaced the same way; a protected one too (it is
 * not a scale-in). */
static void test_agent_lost(void **state)
{
	(void)state;
	struct sim *s = sim_new(SCHED_SERVICE_REPLICA, 2, 100, 200);
	sim_deploy(s, NULL, 0, SCHED_SERVICE_COMPLETED);
	size_t lost = sim_task(s, 0, LT, SCHED_SERVICE_HEALTHY);
	sim_task(s, 0, LT, SCHED_SERVICE_HEALTHY);
	s->task[lost].agent_lost = 1;
	s->task[lost].is_protected = 1;
	const struct sched_service_result *r = sim_pass(s);
	assert_int_equal(r->n, 1);
	assert_int_equal(started_on(r, LT), 1);
	sim_advance(s);
	r = sim_pass(s);
	assert_int_equal(r->n, 1);
	assert_int_equal(n_stops(r, SCHED_SERVICE_STOP_AGENT_LOST), 1);
	assert_true(stopped_task(r, lost));
	sim_advance(s);
	assert_true(sim_pass(s)->steady);
	sim_free(s);
}

/* An unhealthy task goes at once and its replacement starts in the same
 * pass (there is room); a task on a provider the strategy does not know is
 * a surplus. */
static void test_unhealthy_and_unknown_provider(void **state)
{
	(void)state;
	struct sim *s = sim_new(SCHED_SERVICE_REPLICA, 3, 100, 200);
	struct sched_strategy_item st[] = {item("A", 1, 0), item("B", 2, 0)};
	sim_deploy(s, st, 2, SCHED_SERVICE_COMPLETED);
	sim_task(s, 0, 0, SCHED_SERVICE_HEALTHY);
	size_t sick = sim_task(s, 0, 1, SCHED_SERVICE_UNHEALTHY);
	sim_task(s, 0, 1, SCHED_SERVICE_HEALTHY);
	size_t stray = sim_task(s, 0, 5, SCHED_SERVICE_HEALTHY);   /* provider 5: unknown */
	const struct sched_service_result *r = sim_pass(s);
	assert_int_equal(n_stops(r, SCHED_SERVICE_STOP_UNHEALTHY), 1);
	assert_true(stopped_task(r, sick));
	assert_int_equal(started_on(r, 1), 1);
	/* H = 3 = d: the stray waits for the replacement to be healthy */
	assert_false(stopped_task(r, stray));
	sim_advance(s);
	r = sim_pass(s);
	assert_int_equal(n_stops(r, SCHED_SERVICE_STOP_SCALE_IN), 1);
	assert_int_equal(s->task[r->actions[0].task].provider, 5);   /* the stray (renumbered) */
	sim_advance(s);
	assert_true(sim_pass(s)->steady);
	sim_free(s);
}

/* Ties go by the caller's order, index order without one; `ties` says a
 * choice was made. */
static void test_ties_order(void **state)
{
	(void)state;
	struct sim *s = sim_new(SCHED_SERVICE_REPLICA, 2, 100, 200);
	sim_deploy(s, NULL, 0, SCHED_SERVICE_COMPLETED);
	for (int i = 0; i < 4; i++)
		sim_task(s, 0, LT, SCHED_SERVICE_HEALTHY);
	struct sched_service_result r;
	sched_service_result_init(&r);
	sched_service_reconcile(&s->svc, &r);
	assert_int_equal(r.n, 2);
	assert_true(r.ties);
	assert_int_equal(r.actions[0].task, 0);
	assert_int_equal(r.actions[1].task, 1);

	size_t order[] = {3, 1, 2, 0};
	s->svc.order = order;
	sched_service_reconcile(&s->svc, &r);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.actions[0].task, 3);
	assert_int_equal(r.actions[1].task, 1);
	assert_int_equal(r.actions[0].reason, SCHED_SERVICE_STOP_SCALE_IN);

	/* the order also orders the stops that involve no choice */
	s->svc.desired = 0;
	sched_service_reconcile(&s->svc, &r);
	assert_int_equal(r.n, 4);
	assert_false(r.ties);
	for (size_t k = 0; k < 4; k++)
		assert_int_equal(r.actions[k].task, order[k]);
	sched_service_result_free(&r);
	sim_free(s);
}

/* was_steady suppresses the STEADY action, not the steady answer. */
static void test_steady_once(void **state)
{
	(void)state;
	struct sim *s = sim_new(SCHED_SERVICE_REPLICA, 0, 100, 200);
	sim_deploy(s, NULL, 0, SCHED_SERVICE_COMPLETED);
	struct sched_service_result r;
	sched_service_result_init(&r);
	sched_service_reconcile(&s->svc, &r);
	assert_true(r.steady);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.actions[0].kind, SCHED_SERVICE_ACT_STEADY);
	assert_int_equal(r.desired, 0);
	assert_int_equal(r.primary, 0);
	s->svc.was_steady = 1;
	sched_service_reconcile(&s->svc, &r);
	assert_true(r.steady);
	assert_int_equal(r.n, 0);
	sched_service_result_free(&r);
	sim_free(s);
}

/* ---- circuit breaker ---- */

static struct sim *failing(unsigned long d, int rollback)
{
	struct sim *s = rolling(100, 200, d);
	s->svc.circuit_breaker = 1;
	s->svc.rollback = rollback;
	s->bad[1] = 1;
	return s;
}

/* d = 2: each round starts 2 tasks that fail; at 10 failures the
 * deployment FAILED and the old one is PRIMARY again. */
static void test_circuit_breaker_rollback(void **state)
{
	(void)state;
	struct sim *s = failing(2, 1);
	const struct sched_service_result *r = NULL;
	for (int round = 0; round < 5; round++) {
		r = sim_pass(s);
		assert_int_equal(started_on(r, LT), 2);
		assert_int_equal(r->actions[0].deployment, 1);
		sim_advance(s);
	}
	assert_int_equal(s->dep[1].failed_tasks, 10);
	r = sim_pass(s);
	assert_int_equal(r->n, 3);
	assert_int_equal(r->actions[0].kind, SCHED_SERVICE_ACT_FAILED);
	assert_int_equal(r->actions[0].deployment, 1);
	assert_int_equal(r->actions[0].to, 0);
	assert_int_equal(r->actions[1].kind, SCHED_SERVICE_ACT_REMOVED);   /* no task left */
	assert_int_equal(r->actions[1].deployment, 1);
	assert_int_equal(r->actions[2].kind, SCHED_SERVICE_ACT_STEADY);
	assert_int_equal(r->primary, 0);
	assert_true(r->steady);
	assert_int_equal(s->svc.n_deployments, 1);
	assert_int_equal(live(s, 0, -2), 2);
	sim_free(s);
}

/* Rolled back with tasks of the failed deployment still there: the pending
 * one goes at once, the healthy ones once the restored PRIMARY is back at
 * its count; then the failed deployment is removed. */
static void test_circuit_breaker_drains_failed(void **state)
{
	(void)state;
	struct sim *s = sim_new(SCHED_SERVICE_REPLICA, 3, 100, 200);
	s->svc.circuit_breaker = 1;
	s->svc.rollback = 1;
	sim_deploy(s, NULL, 0, SCHED_SERVICE_COMPLETED);
	sim_task(s, 0, LT, SCHED_SERVICE_HEALTHY);
	sim_deploy(s, NULL, 0, SCHED_SERVICE_IN_PROGRESS);
	s->dep[1].failed_tasks = 10;
	sim_task(s, 1, LT, SCHED_SERVICE_HEALTHY);
	sim_task(s, 1, LT, SCHED_SERVICE_HEALTHY);
	size_t pend = sim_task(s, 1, LT, SCHED_SERVICE_PENDING);
	const struct sched_service_result *r = sim_pass(s);
	assert_int_equal(r->actions[0].kind, SCHED_SERVICE_ACT_FAILED);
	assert_int_equal(r->actions[0].to, 0);
	assert_int_equal(n_stops(r, SCHED_SERVICE_STOP_DEPLOYMENT), 1);
	assert_true(stopped_task(r, pend));
	assert_int_equal(started_on(r, LT), 2);
	assert_int_equal(r->actions[r->n - 1].deployment, 0);
	sim_advance(s);
	r = sim_pass(s);
	assert_int_equal(n_stops(r, SCHED_SERVICE_STOP_DEPLOYMENT), 2);
	assert_int_equal(s->dep[1].rollout, SCHED_SERVICE_FAILED);
	sim_advance(s);
	r = sim_pass(s);
	assert_true(r->steady);
	assert_int_equal(n_kind(r, SCHED_SERVICE_ACT_REMOVED), 1);
	assert_int_equal(n_kind(r, SCHED_SERVICE_ACT_COMPLETED), 0);
	assert_int_equal(s->failed_events, 1);
	sim_free(s);
}

/* Without rollback the deployment FAILED stays PRIMARY and starts nothing
 * more; the old tasks keep running. */
static void test_circuit_breaker_no_rollback(void **state)
{
	(void)state;
	struct sim *s = failing(2, 0);
	for (int round = 0; round < 5; round++) {
		sim_pass(s);
		sim_advance(s);
	}
	const struct sched_service_result *r = sim_pass(s);
	assert_int_equal(r->n, 1);
	assert_int_equal(r->actions[0].kind, SCHED_SERVICE_ACT_FAILED);
	assert_int_equal(r->actions[0].to, SCHED_SERVICE_NONE);
	assert_int_equal(r->primary, 1);
	for (int round = 0; round < 3; round++) {
		sim_advance(s);
		r = sim_pass(s);
		assert_int_equal(r->n, 0);
		assert_false(r->steady);
	}
	assert_int_equal(live(s, 0, -2), 2);
	assert_int_equal(s->failed_events, 1);

	/* the breaker off: it never fires, whatever the count */
	struct sim *t = failing(2, 1);
	t->svc.circuit_breaker = 0;
	for (int round = 0; round < 12; round++) {
		r = sim_pass(t);
		assert_int_equal(n_kind(r, SCHED_SERVICE_ACT_FAILED), 0);
		sim_advance(t);
	}
	assert_true(t->dep[1].failed_tasks >= 20);
	sim_free(t);

	/* nothing to roll back to: the first deployment fails for good */
	struct sim *u = sim_new(SCHED_SERVICE_REPLICA, 1, 100, 200);
	u->svc.circuit_breaker = 1;
	u->svc.rollback = 1;
	sim_deploy(u, NULL, 0, SCHED_SERVICE_IN_PROGRESS);
	u->bad[0] = 1;
	for (int round = 0; round < 10; round++) {
		assert_int_equal(started_on(sim_pass(u), LT), 1);
		sim_advance(u);
	}
	r = sim_pass(u);
	assert_int_equal(r->n, 1);
	assert_int_equal(r->actions[0].to, SCHED_SERVICE_NONE);
	sim_advance(u);
	assert_int_equal(sim_pass(u)->n, 0);
	sim_free(u);
	sim_free(s);
}

/* 0/100 drains the old deployment before the new one can fail: with a
 * rollback possible it is kept (no task) and restored; otherwise, or once
 * the new one completes, it is removed. */
static void test_circuit_breaker_held(void **state)
{
	(void)state;
	struct sim *s = rolling(0, 100, 2);
	s->svc.circuit_breaker = 1;
	s->svc.rollback = 1;
	s->bad[1] = 1;
	const struct sched_service_result *r = sim_pass(s);
	assert_int_equal(n_stops(r, SCHED_SERVICE_STOP_DEPLOYMENT), 2);
	assert_int_equal(started_on(r, LT), 2);
	for (int round = 0; round < 4; round++) {
		sim_advance(s);
		r = sim_pass(s);
		assert_int_equal(n_kind(r, SCHED_SERVICE_ACT_REMOVED), 0);   /* held */
		assert_int_equal(started_on(r, LT), 2);
	}
	sim_advance(s);
	r = sim_pass(s);
	assert_int_equal(r->actions[0].kind, SCHED_SERVICE_ACT_FAILED);
	assert_int_equal(r->actions[0].to, 0);
	assert_int_equal(r->actions[1].kind, SCHED_SERVICE_ACT_REMOVED);
	assert_int_equal(r->actions[1].deployment, 1);
	assert_int_equal(started_on(r, LT), 2);
	assert_int_equal(r->actions[2].deployment, 0);
	sim_advance(s);
	assert_true(sim_pass(s)->steady);
	assert_int_equal(s->svc.n_deployments, 1);
	sim_free(s);

	/* a good deployment: the held one goes in the pass that completes */
	s = rolling(0, 100, 2);
	s->svc.circuit_breaker = 1;
	s->svc.rollback = 1;
	sim_pass(s);
	sim_advance(s);
	r = sim_pass(s);
	assert_int_equal(r->n, 3);
	assert_int_equal(r->actions[0].kind, SCHED_SERVICE_ACT_REMOVED);
	assert_int_equal(r->actions[0].deployment, 0);
	assert_int_equal(r->actions[1].kind, SCHED_SERVICE_ACT_COMPLETED);
	assert_int_equal(r->actions[1].deployment, 1);
	assert_int_equal(r->actions[2].kind, SCHED_SERVICE_ACT_STEADY);
	sim_free(s);
}

/* ---- DAEMON ---- */

static void test_daemon_join_leave(void **state)
{
	(void)state;
	struct sim *s = sim_new(SCHED_SERVICE_DAEMON, 0, 0, 100);
	sim_deploy(s, NULL, 0, SCHED_SERVICE_IN_PROGRESS);
	sim_instance(s, LT, 1);
	sim_instance(s, LT, 1);
	sim_instance(s, LT, 1);
	const struct sched_service_result *r = sim_pass(s);
	assert_int_equal(r->desired, 3);
	assert_int_equal(r->n, 3);
	for (size_t k = 0; k < 3; k++) {
		assert_int_equal(r->actions[k].kind, SCHED_SERVICE_ACT_START);
		assert_int_equal(r->actions[k].instance, k);
		assert_int_equal(r->actions[k].count, 1);
		assert_int_equal(r->actions[k].provider, LT);
	}
	sim_advance(s);
	r = sim_pass(s);
	assert_true(r->steady);
	assert_int_equal(n_kind(r, SCHED_SERVICE_ACT_COMPLETED), 1);

	/* an instance joins */
	sim_instance(s, LT, 1);
	r = sim_pass(s);
	assert_int_equal(r->n, 1);
	assert_int_equal(r->actions[0].instance, 3);
	assert_int_equal(r->desired, 4);
	sim_advance(s);
	assert_true(sim_pass(s)->steady);

	/* one drains (minimumHealthyPercent 0: at once), one leaves */
	s->inst[1].active = 0;
	sim_remove_instance(s, 2);
	r = sim_pass(s);
	assert_int_equal(r->desired, 2);
	assert_int_equal(n_stops(r, SCHED_SERVICE_STOP_DRAINING), 1);
	assert_int_equal(n_stops(r, SCHED_SERVICE_STOP_INSTANCE_GONE), 1);
	assert_int_equal(n_kind(r, SCHED_SERVICE_ACT_START), 0);
	sim_advance(s);
	r = sim_pass(s);
	assert_true(r->steady);
	assert_int_equal(s->svc.n_tasks, 2);

	/* the drained one comes back */
	s->inst[1].active = 1;
	r = sim_pass(s);
	assert_int_equal(r->n, 1);
	assert_int_equal(r->actions[0].instance, 1);
	sim_free(s);
}

/* A DAEMON deployment at 50 %: stop half, start on the freed instances once
 * their old tasks are gone, then the other half. */
static void test_daemon_rolling(void **state)
{
	(void)state;
	struct sim *s = sim_new(SCHED_SERVICE_DAEMON, 0, 50, 100);
	sim_deploy(s, NULL, 0, SCHED_SERVICE_COMPLETED);
	for (uint32_t i = 0; i < 4; i++) {
		sim_instance(s, LT, 1);
		s->task[sim_task(s, 0, LT, SCHED_SERVICE_HEALTHY)].instance = i;
	}
	assert_true(sim_pass(s)->steady);
	sim_deploy(s, NULL, 0, SCHED_SERVICE_IN_PROGRESS);
	const struct sched_service_result *r = sim_pass(s);
	assert_int_equal(n_stops(r, SCHED_SERVICE_STOP_DEPLOYMENT), 2);
	assert_int_equal(n_kind(r, SCHED_SERVICE_ACT_START), 0);   /* stop first */
	sim_advance(s);
	r = sim_pass(s);
	assert_int_equal(n_kind(r, SCHED_SERVICE_ACT_START), 2);
	assert_int_equal(n_kind(r, SCHED_SERVICE_ACT_STOP), 0);   /* H = 2 = L */
	sim_advance(s);
	r = sim_pass(s);
	assert_int_equal(n_stops(r, SCHED_SERVICE_STOP_DEPLOYMENT), 2);
	assert_true(sim_run(s, 4) <= 3);
	assert_int_equal(s->completed_events, 1);
	sim_free(s);
}

/* Two tasks of the PRIMARY on one instance: the pending one goes; protected
 * old tasks and a lost agent behave as for REPLICA. */
static void test_daemon_duplicates(void **state)
{
	(void)state;
	struct sim *s = sim_new(SCHED_SERVICE_DAEMON, 0, 0, 100);
	sim_deploy(s, NULL, 0, SCHED_SERVICE_COMPLETED);
	sim_instance(s, LT, 1);
	sim_instance(s, LT, 1);
	size_t a = sim_task(s, 0, LT, SCHED_SERVICE_PENDING);
	size_t b = sim_task(s, 0, LT, SCHED_SERVICE_HEALTHY);
	size_t c = sim_task(s, 0, LT, SCHED_SERVICE_HEALTHY);
	s->task[a].instance = 0;
	s->task[b].instance = 0;
	s->task[c].instance = 1;
	s->task[c].agent_lost = 1;
	const struct sched_service_result *r = sim_pass(s);
	assert_int_equal(r->n, 2);
	assert_true(stopped_task(r, a));
	assert_int_equal(n_stops(r, SCHED_SERVICE_STOP_SCALE_IN), 1);
	assert_int_equal(n_stops(r, SCHED_SERVICE_STOP_AGENT_LOST), 1);
	assert_true(sim_run(s, 4) <= 3);
	sim_free(s);
}

/* ---- properties ---- */

static void random_strategy(struct rng *g, struct sched_strategy_item *it, size_t *n)
{
	static const char *const names[] = {"A", "B", "C", "D"};
	if (rng_below(g, 4) == 0) {
		*n = 0;   /* launch type */
		return;
	}
	*n = 1 + rng_below(g, 4);
	int any = 0;
	for (size_t i = 0; i < *n; i++) {
		it[i] = item(names[i], (int)rng_below(g, 4), 0);
		any |= it[i].weight > 0;
	}
	if (!any)
		it[rng_below(g, *n)].weight = 1;
	if (rng_below(g, 3) == 0)
		it[rng_below(g, *n)].base = (int)rng_below(g, 6);
}

static const unsigned MINS[] = {0, 25, 50, 75, 100};
static const unsigned MAXS[] = {100, 125, 150, 200, 300};

/* A desired count, and percents that let a replacement proceed for it. */
static void random_config(struct rng *g, struct sim *s)
{
	for (;;) {
		unsigned long d = rng_below(g, 25);
		unsigned mn = MINS[rng_below(g, ARRAY_LEN(MINS))];
		unsigned mx = MAXS[rng_below(g, ARRAY_LEN(MAXS))];
		if (d > 0 && sched_service_min_healthy(d, mn) == d && sched_service_max_running(d, mx) == d)
			continue;
		s->svc.desired = d;
		s->svc.min_healthy_percent = mn;
		s->svc.max_percent = mx;
		return;
	}
}

static void random_task(struct rng *g, struct sim *s, size_t dep)
{
	size_t n = s->dep[dep].n_items;
	int prov = n ? (int)rng_below(g, n) : LT;
	if (rng_below(g, 12) == 0)
		prov = n ? 7 : 0;   /* a provider the deployment does not know */
	static const enum sched_service_task_state states[] = {
		SCHED_SERVICE_PENDING, SCHED_SERVICE_HEALTHY, SCHED_SERVICE_HEALTHY,
		SCHED_SERVICE_HEALTHY, SCHED_SERVICE_UNHEALTHY, SCHED_SERVICE_STOPPING};
	size_t i = sim_task(s, dep, prov, states[rng_below(g, ARRAY_LEN(states))]);
	s->task[i].is_protected = rng_below(g, 10) == 0;
	s->task[i].on_draining = rng_below(g, 10) == 0;
	s->task[i].agent_lost = rng_below(g, 20) == 0;
}

/* Random services, random tasks, and mid-run a scale event, a draining
 * instance, a new deployment and the end of every protection: the loop
 * reaches a steady state within its bound, on the strategy's split. */
static void test_replica_random(void **state)
{
	(void)state;
	struct rng g;
	rng_seed(&g, 2024);
	unsigned worst = 0;
	for (int run = 0; run < 1500; run++) {
		struct sim *s = sim_new(SCHED_SERVICE_REPLICA, 0, 100, 200);
		s->check_order = run % 4 == 0;
		random_config(&g, s);
		s->svc.circuit_breaker = (int)rng_below(&g, 2);
		s->svc.rollback = 1;
		size_t nd = 1 + rng_below(&g, 3);
		for (size_t j = 0; j < nd; j++) {
			struct sched_strategy_item it[MAXP];
			size_t n;
			random_strategy(&g, it, &n);
			sim_deploy(s, it, n, j + 1 < nd ? SCHED_SERVICE_COMPLETED : SCHED_SERVICE_IN_PROGRESS);
		}
		size_t nt = rng_below(&g, 40);
		for (size_t i = 0; i < nt; i++)
			random_task(&g, s, rng_below(&g, nd));
		unsigned long dmax = s->svc.desired;

		unsigned step = 0, steady_at = 0;
		const unsigned cap = 400;
		while (step < cap) {
			step++;
			if (step == 2 && rng_below(&g, 2)) {
				random_config(&g, s);
				if (s->svc.desired > dmax)
					dmax = s->svc.desired;
			}
			if (step == 3 && rng_below(&g, 3) == 0)
				for (size_t i = 0; i < s->svc.n_tasks; i++)
					if (rng_below(&g, 3) == 0)
						s->task[i].on_draining = 1;
			if (step == 4 && rng_below(&g, 3) == 0 && s->svc.n_deployments < MAXD) {
				struct sched_strategy_item it[MAXP];
				size_t n;
				random_strategy(&g, it, &n);
				sim_deploy(s, it, n, SCHED_SERVICE_IN_PROGRESS);
			}
			if (step == 8)
				for (size_t i = 0; i < s->svc.n_tasks; i++)
					s->task[i].is_protected = 0;
			if (sim_pass(s)->steady && step >= 8) {
				steady_at = step;
				break;
			}
			sim_advance(s);
		}
		/* the bound: the events are over by step 8; then every task there
		 * was, and every task of the largest desired count, is replaced
		 * at worst one per two passes */
		unsigned bound = 8 + 2 * (unsigned)(nt + 2 * dmax) + 4;
		assert_true(steady_at > 0);
		assert_true(steady_at <= bound);
		if (steady_at > worst)
			worst = steady_at;

		/* the final counts are the split */
		unsigned long t[MAXP + 1], have[MAXP + 1] = {0};
		size_t p = s->svc.primary;
		targets(s, p, s->svc.desired, t);
		for (size_t i = 0; i < s->svc.n_tasks; i++)
			if (s->task[i].state != SCHED_SERVICE_STOPPING)
				have[slot(s, p, s->task[i].provider)]++;
		assert_memory_equal(have, t, sizeof t);
		assert_int_equal(s->svc.n_deployments, 1);
		/* and a pass there has nothing to do */
		s->svc.was_steady = 1;
		sched_service_reconcile(&s->svc, &s->res);
		assert_int_equal(s->res.n, 0);
		sim_free(s);
	}
	print_message("replica: steady after at most %u passes (events until pass 8)\n", worst);
}

/* Random circuit-breaker runs: a bad deployment FAILED exactly once, at its
 * threshold; with rollback the old deployment ends steady at d. */
static void test_circuit_breaker_random(void **state)
{
	(void)state;
	struct rng g;
	rng_seed(&g, 7);
	for (int run = 0; run < 300; run++) {
		unsigned long d = rng_below(&g, 30);
		unsigned mn = MINS[rng_below(&g, 4)];      /* below 100 */
		unsigned mx = MAXS[rng_below(&g, ARRAY_LEN(MAXS))];
		if (d > 0 && sched_service_min_healthy(d, mn) == d && sched_service_max_running(d, mx) == d)
			mn = 0;   /* stuck otherwise, see test_rolling_stuck */
		struct sim *s = rolling(mn, mx, d);
		s->check_order = 0;
		s->svc.circuit_breaker = 1;
		s->svc.rollback = (int)rng_below(&g, 2);
		s->svc.cb_min = rng_below(&g, 2) ? 0 : 3;
		s->bad[1] = 1;
		unsigned steps = sim_run(s, 400);
		if (d == 0) {
			assert_true(steps <= 2);   /* nothing to start: completes */
			sim_free(s);
			continue;
		}
		assert_int_equal(s->failed_events, 1);
		if (s->svc.rollback) {
			assert_true(steps <= 400);
			assert_int_equal(s->svc.n_deployments, 1);
			assert_int_equal(live(s, 0, -2), d);
		} else {
			/* FAILED stays PRIMARY (the old deployment may be gone:
			 * with stop-first percents it was drained) and starts
			 * nothing more: no failure past the last round */
			const struct sched_service_deployment *f = &s->dep[s->svc.primary];
			unsigned long thr = sched_service_cb_threshold(d, s->svc.cb_min);
			assert_int_equal(steps, 401);
			assert_int_equal(f->rollout, SCHED_SERVICE_FAILED);
			assert_true(f->failed_tasks >= thr);
			assert_true(f->failed_tasks < thr + sched_service_max_running(d, mx));
		}
		sim_free(s);
	}
}

/* Random DAEMON services: instances join, drain and leave, a deployment
 * rolls; the end is one healthy task of the PRIMARY on every ACTIVE
 * instance and nothing else. */
static void test_daemon_random(void **state)
{
	(void)state;
	struct rng g;
	rng_seed(&g, 99);
	for (int run = 0; run < 800; run++) {
		struct sim *s = sim_new(SCHED_SERVICE_DAEMON, 0, rng_below(&g, 2) ? 0 : 50, 100);
		s->check_order = run % 4 == 0;
		size_t nd = 1 + rng_below(&g, 2);
		for (size_t j = 0; j < nd; j++)
			sim_deploy(s, NULL, 0, j + 1 < nd ? SCHED_SERVICE_COMPLETED : SCHED_SERVICE_IN_PROGRESS);
		size_t ni = rng_below(&g, 12);
		for (size_t i = 0; i < ni; i++)
			sim_instance(s, LT, rng_below(&g, 5) != 0);
		size_t nt = rng_below(&g, 24);
		for (size_t i = 0; i < nt; i++) {
			random_task(&g, s, rng_below(&g, nd));
			s->task[i].provider = LT;
			s->task[i].instance = rng_below(&g, 10) == 0 || ni == 0 ? NOI : (uint32_t)rng_below(&g, ni);
		}
		unsigned step = 0, steady_at = 0;
		while (step < 200) {
			step++;
			size_t n = s->svc.n_instances;
			if (step == 2 && n && rng_below(&g, 2))
				s->inst[rng_below(&g, n)].active ^= 1;
			if (step == 3 && n && rng_below(&g, 2))
				sim_remove_instance(s, rng_below(&g, n));
			if (step == 4 && n < MAXI && rng_below(&g, 2))
				sim_instance(s, LT, 1);
			if (step == 5 && rng_below(&g, 2))
				sim_deploy(s, NULL, 0, SCHED_SERVICE_IN_PROGRESS);
			if (step == 8)
				for (size_t i = 0; i < s->svc.n_tasks; i++)
					s->task[i].is_protected = 0;
			/* 50 % of one instance is all of it: stuck by the rules */
			unsigned long active = 0;
			for (size_t i = 0; i < s->svc.n_instances; i++)
				active += s->inst[i].active != 0;
			if (active == 1)
				s->svc.min_healthy_percent = 0;
			if (sim_pass(s)->steady && step >= 8) {
				steady_at = step;
				break;
			}
			sim_advance(s);
		}
		assert_true(steady_at > 0);
		assert_true(steady_at <= 8 + 2 * (unsigned)(nt + MAXI) + 4);
		for (size_t i = 0; i < s->svc.n_instances; i++) {
			size_t on = 0;
			for (size_t t = 0; t < s->svc.n_tasks; t++)
				on += s->task[t].state != SCHED_SERVICE_STOPPING && s->task[t].instance == i;
			assert_int_equal(on, s->inst[i].active ? 1 : 0);
		}
		sim_free(s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bounds_helpers),
		cmocka_unit_test(test_cb_threshold),
		cmocka_unit_test(test_texts),
		cmocka_unit_test(test_scale_out_base),
		cmocka_unit_test(test_scale_in_two_providers),
		cmocka_unit_test(test_scale_in_largest_surplus_first),
		cmocka_unit_test(test_scale_in_prefers_pending),
		cmocka_unit_test(test_protected_scale_in),
		cmocka_unit_test(test_protected_deployment),
		cmocka_unit_test(test_rolling_100_200),
		cmocka_unit_test(test_rolling_50_100),
		cmocka_unit_test(test_rolling_0_100),
		cmocka_unit_test(test_rolling_stuck),
		cmocka_unit_test(test_rolling_grid),
		cmocka_unit_test(test_draining_replacement),
		cmocka_unit_test(test_agent_lost),
		cmocka_unit_test(test_unhealthy_and_unknown_provider),
		cmocka_unit_test(test_ties_order),
		cmocka_unit_test(test_steady_once),
		cmocka_unit_test(test_circuit_breaker_rollback),
		cmocka_unit_test(test_circuit_breaker_drains_failed),
		cmocka_unit_test(test_circuit_breaker_no_rollback),
		cmocka_unit_test(test_circuit_breaker_held),
		cmocka_unit_test(test_daemon_join_leave),
		cmocka_unit_test(test_daemon_rolling),
		cmocka_unit_test(test_daemon_duplicates),
		cmocka_unit_test(test_replica_random),
		cmocka_unit_test(test_circuit_breaker_random),
		cmocka_unit_test(test_daemon_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
