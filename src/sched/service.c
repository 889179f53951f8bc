/* service: see service.h.
 *
 * One pass is: the circuit breaker (no task needed), pass 1 over the tasks
 * counting them by category and by "key" (REPLICA: a slot, i.e. one provider
 * of one deployment; DAEMON: an instance), the removals, the quotas (how many
 * tasks of each group to stop, how many to start where), pass 2 over the
 * tasks in the caller's order emitting the stops while the quotas last, then
 * the starts and the steady state.  Pass 2 only runs when something is
 * stopped, so a pass with nothing to do reads each task once.
 *
 * Slots.  Deployment j owns slots off[j] .. off[j+1]-1: one per strategy item
 * (one for a launch type) and a last one, target 0, for tasks whose provider
 * the deployment does not know.
 *
 * Every quota is at most the number of candidates counted for it in pass 1,
 * so pass 2 consumes them all; the number of STOP actions is checked against
 * the plan.  Budgets and counts are unsigned long: a service has fewer tasks
 * than that.
 */
#include "sched/service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

/* What a non-stopping task is (service.h rule 4); first match wins. */
enum cat {
	CAT_KEEP,       /* of the PRIMARY, to be kept */
	CAT_GONE,       /* DAEMON: its instance is not listed */
	CAT_LOST,       /* its agent is lost */
	CAT_DRAIN,      /* on a DRAINING instance */
	CAT_UNHEALTHY,  /* failing its health checks */
	CAT_OLD,        /* of an older (or failed) deployment */
};

static const enum sched_service_reason REASON_OF[] = {
	[CAT_KEEP] = SCHED_SERVICE_STOP_SCALE_IN,
	[CAT_GONE] = SCHED_SERVICE_STOP_INSTANCE_GONE,
	[CAT_LOST] = SCHED_SERVICE_STOP_AGENT_LOST,
	[CAT_DRAIN] = SCHED_SERVICE_STOP_DRAINING,
	[CAT_UNHEALTHY] = SCHED_SERVICE_STOP_UNHEALTHY,
	[CAT_OLD] = SCHED_SERVICE_STOP_DEPLOYMENT,
};

struct pass {
	const struct sched_service *svc;
	struct sched_service_result *out;
	int daemon;
	size_t nd, primary, failed_now;
	size_t held;                    /* a drained deployment kept for a rollback */
	int no_starts;                  /* the PRIMARY is FAILED */
	unsigned long d, lo, hi;        /* d, L, U */

	unsigned long *nonstop;         /* per deployment: non-stopping tasks */
	unsigned long *removed;         /* per deployment: removed this pass */
	unsigned long *off;             /* REPLICA: nd + 1 slot offsets */
	size_t nkeys;                   /* slots (REPLICA) or instances (DAEMON) */
	/* Per key: keepers pending / healthy, unprotected (u) or protected
	 * (p); REPLICA old slots use hu for their unprotected healthy tasks.
	 * qp, qh: how many pending / healthy ones to stop. */
	unsigned long *pu, *pp, *hu, *hp, *qp, *qh;
	unsigned long *any;             /* DAEMON: the instance holds a task of the service */
	unsigned long *tmp;             /* REPLICA: 6 arrays of the largest slot count */
	size_t maxslots;
	unsigned long *seen;            /* bitmap over tasks, when an order is given */

	unsigned long n0, h;            /* N and H */
	unsigned long nfree;            /* stops that need no budget */
	unsigned long lost_h, drain_h, old_h, nonkeep;
	unsigned long q_lost, q_drain, q_old;
	unsigned long hstops;           /* stops charged to the budget */
	unsigned long emitted;          /* STOP actions pushed */
};

/* ---- small helpers ---- */

static unsigned long min_ul(unsigned long a, unsigned long b)
{
	return a < b ? a : b;
}

unsigned long sched_service_cb_threshold(unsigned long d, unsigned long cb_min)
{
	unsigned long lo = cb_min ? cb_min : SCHED_SERVICE_CB_MIN;
	unsigned long t = d / 2 + d % 2;   /* ceil(0.5 * d) */
	if (t < lo)
		t = lo;
	return t > SCHED_SERVICE_CB_MAX ? SCHED_SERVICE_CB_MAX : t;
}

unsigned long sched_service_min_healthy(unsigned long d, unsigned min_percent)
{
	unsigned long long v = ((unsigned long long)d * min_percent + 99) / 100;
	return v > d ? d : (unsigned long)v;
}

unsigned long sched_service_max_running(unsigned long d, unsigned max_percent)
{
	unsigned long long v = (unsigned long long)d * max_percent / 100;
	return v < d ? d : (unsigned long)v;
}

const char *sched_service_reason_name(enum sched_service_reason r)
{
	switch (r) {
	case SCHED_SERVICE_STOP_SCALE_IN:
		return "scale-in";
	case SCHED_SERVICE_STOP_DEPLOYMENT:
		return "deployment";
	case SCHED_SERVICE_STOP_DRAINING:
		return "draining";
	case SCHED_SERVICE_STOP_UNHEALTHY:
		return "unhealthy";
	case SCHED_SERVICE_STOP_AGENT_LOST:
		return "agent-lost";
	case SCHED_SERVICE_STOP_INSTANCE_GONE:
		return "instance-gone";
	case SCHED_SERVICE_STOP_NONE:
		break;
	}
	return "";
}

int sched_service_stopped_reason(enum sched_service_reason r, const char *deployment_id, char *buf,
				 size_t n)
{
	switch (r) {
	case SCHED_SERVICE_STOP_SCALE_IN:
	case SCHED_SERVICE_STOP_DEPLOYMENT:
		return snprintf(buf, n, "Scaling activity initiated by (deployment %s)",
				deployment_id ? deployment_id : "");
	case SCHED_SERVICE_STOP_UNHEALTHY:
		return snprintf(buf, n, "%s", "Task failed container health checks");
	case SCHED_SERVICE_STOP_DRAINING:
		return snprintf(buf, n, "%s", "Container instance is draining");
	case SCHED_SERVICE_STOP_AGENT_LOST:
		return snprintf(buf, n, "%s", "Container instance agent disconnected");
	case SCHED_SERVICE_STOP_INSTANCE_GONE:
		return snprintf(buf, n, "%s", "Container instance no longer eligible for the daemon service");
	case SCHED_SERVICE_STOP_NONE:
		break;
	}
	return snprintf(buf, n, "%s", "");
}

const char *sched_service_event_text(enum sched_service_action_kind k)
{
	switch (k) {
	case SCHED_SERVICE_ACT_START:
		return "has started";
	case SCHED_SERVICE_ACT_STOP:
		return "has stopped";
	case SCHED_SERVICE_ACT_COMPLETED:
		return "deployment completed.";
	case SCHED_SERVICE_ACT_FAILED:
		return "deployment failed: tasks failed to start.";
	case SCHED_SERVICE_ACT_STEADY:
		return "has reached a steady state.";
	case SCHED_SERVICE_ACT_REMOVED:
		break;
	}
	return "";
}

const char *sched_service_event_rollback(void)
{
	return "rolling back to deployment";
}

const char *sched_service_event_unhealthy(void)
{
	return "failed container health checks.";
}

void sched_service_result_init(struct sched_service_result *r)
{
	memset(r, 0, sizeof *r);
	r->primary = SCHED_SERVICE_NONE;
}

void sched_service_result_free(struct sched_service_result *r)
{
	free(r->actions);
	free(r->scratch_);
	sched_service_result_init(r);
}

static struct sched_service_action *push(struct sched_service_result *r, enum sched_service_action_kind k)
{
	if (r->n == r->cap_) {
		r->cap_ = r->cap_ ? 2 * r->cap_ : 16;
		r->actions = xrealloc(r->actions, r->cap_ * sizeof *r->actions);
	}
	struct sched_service_action *a = &r->actions[r->n++];
	memset(a, 0, sizeof *a);   /* padding too: results compare with memcmp */
	a->kind = k;
	a->provider = SCHED_SERVICE_LAUNCH_TYPE;
	a->deployment = SCHED_SERVICE_NONE;
	a->task = SCHED_SERVICE_NONE;
	a->instance = SCHED_SERVICE_NONE;
	a->to = SCHED_SERVICE_NONE;
	return a;
}

/* n zeroed values of the result's scratch, handed out in order. */
static unsigned long *carve(unsigned long **cursor, size_t n)
{
	unsigned long *p = *cursor;
	*cursor += n;
	return p;
}

static unsigned long *scratch(struct sched_service_result *r, size_t n)
{
	if (n > r->scratch_cap_) {
		free(r->scratch_);
		r->scratch_ = xmalloc(n * sizeof *r->scratch_);
		r->scratch_cap_ = n;
	}
	memset(r->scratch_, 0, n * sizeof *r->scratch_);
	return r->scratch_;
}

/* ---- slots (REPLICA) ---- */

static size_t slots_of(const struct sched_service_deployment *dp)
{
	return (dp->n_items ? dp->n_items : 1) + 1;
}

static size_t slot_in(const struct sched_service_deployment *dp, int provider)
{
	size_t n = dp->n_items;
	if (n == 0)
		return provider == SCHED_SERVICE_LAUNCH_TYPE ? 0 : 1;
	return provider >= 0 && (size_t)provider < n ? (size_t)provider : n;
}

static size_t key_of(const struct pass *p, const struct sched_service_task *t)
{
	if (p->daemon)
		return t->instance;
	return p->off[t->deployment] + slot_in(&p->svc->deployments[t->deployment], t->provider);
}

/* ---- classification ---- */

static enum cat classify(const struct pass *p, const struct sched_service_task *t)
{
	const struct sched_service *svc = p->svc;
	if (p->daemon && t->instance >= svc->n_instances)
		return CAT_GONE;
	if (t->agent_lost)
		return CAT_LOST;
	if (t->on_draining || (p->daemon && !svc->instances[t->instance].active))
		return CAT_DRAIN;
	if (t->state == SCHED_SERVICE_UNHEALTHY)
		return CAT_UNHEALTHY;
	if (t->deployment != p->primary)
		return CAT_OLD;
	return CAT_KEEP;
}

static void count(struct pass *p)
{
	const struct sched_service *svc = p->svc;
	for (size_t i = 0; i < svc->n_tasks; i++) {
		const struct sched_service_task *t = &svc->tasks[i];
		BERTH_ASSERT(t->state <= SCHED_SERVICE_STOPPING);
		if (t->state == SCHED_SERVICE_STOPPING) {
			if (p->daemon && t->instance < svc->n_instances)
				p->any[t->instance] = 1;
			continue;
		}
		BERTH_ASSERT(t->deployment < p->nd);
		int healthy = t->state == SCHED_SERVICE_HEALTHY;
		enum cat c = classify(p, t);
		p->n0++;
		p->h += (unsigned long)(healthy && c != CAT_GONE);
		p->nonstop[t->deployment]++;
		if (p->daemon && c != CAT_GONE)
			p->any[t->instance] = 1;
		if (c != CAT_KEEP)
			p->nonkeep++;
		switch (c) {
		case CAT_GONE:
		case CAT_UNHEALTHY:
			p->nfree++;
			break;
		case CAT_LOST:
			if (healthy)
				p->lost_h++;
			else
				p->nfree++;
			break;
		case CAT_DRAIN:
			if (healthy)
				p->drain_h++;
			else
				p->nfree++;
			break;
		case CAT_OLD:
			if (t->is_protected)
				break;
			if (!healthy)
				p->nfree++;
			else if (p->daemon)
				p->old_h++;
			else
				p->hu[key_of(p, t)]++;
			break;
		case CAT_KEEP: {
			size_t k = key_of(p, t);
			if (healthy)
				(t->is_protected ? p->hp : p->hu)[k]++;
			else
				(t->is_protected ? p->pp : p->pu)[k]++;
			break;
		}
		}
	}
}

/* Pass 2: does task t go now, and why?  Consumes the quotas. */
static enum sched_service_reason decide(struct pass *p, const struct sched_service_task *t)
{
	if (t->state == SCHED_SERVICE_STOPPING)
		return SCHED_SERVICE_STOP_NONE;
	enum cat c = classify(p, t);
	int healthy = t->state == SCHED_SERVICE_HEALTHY;
	unsigned long *q = NULL;
	switch (c) {
	case CAT_GONE:
	case CAT_UNHEALTHY:
		return REASON_OF[c];
	case CAT_LOST:
		q = &p->q_lost;
		break;
	case CAT_DRAIN:
		q = &p->q_drain;
		break;
	case CAT_OLD:
		if (t->is_protected)
			return SCHED_SERVICE_STOP_NONE;
		if (!healthy)
			return REASON_OF[c];
		q = p->daemon ? &p->q_old : &p->qh[key_of(p, t)];
		break;
	case CAT_KEEP:
		if (t->is_protected)
			return SCHED_SERVICE_STOP_NONE;
		q = healthy ? &p->qh[key_of(p, t)] : &p->qp[key_of(p, t)];
		break;
	}
	if (c != CAT_KEEP && !healthy)
		return REASON_OF[c];   /* lost or draining, not healthy: free */
	if (*q == 0)
		return SCHED_SERVICE_STOP_NONE;
	(*q)--;
	return REASON_OF[c];
}

static void emit_stops(struct pass *p)
{
	const struct sched_service *svc = p->svc;
	size_t n = svc->n_tasks;
	for (size_t j = 0; j < n; j++) {
		size_t i = j;
		if (svc->order) {
			i = svc->order[j];
			BERTH_ASSERT(i < n);
			unsigned long bit = 1UL << (i % (8 * sizeof(unsigned long)));
			unsigned long *w = &p->seen[i / (8 * sizeof(unsigned long))];
			BERTH_ASSERT(!(*w & bit));   /* order is a permutation */
			*w |= bit;
		}
		enum sched_service_reason r = decide(p, &svc->tasks[i]);
		if (r == SCHED_SERVICE_STOP_NONE)
			continue;
		struct sched_service_action *a = push(p->out, SCHED_SERVICE_ACT_STOP);
		a->task = i;
		a->reason = r;
		p->emitted++;
	}
	BERTH_ASSERT(p->emitted == p->nfree + p->hstops);
}

/* ---- the steps shared by both schedulers ---- */

/* The deployment a rollback would return to: the newest other one whose
 * rollout COMPLETED; SCHED_SERVICE_NONE if none. */
static size_t rollback_target(const struct pass *p)
{
	const struct sched_service_deployment *dep = p->svc->deployments;
	for (size_t j = p->nd; j-- > 0;)
		if (j != p->primary && dep[j].rollout == SCHED_SERVICE_COMPLETED)
			return j;
	return SCHED_SERVICE_NONE;
}

/* Rule 1: the circuit breaker, on the PRIMARY as given. */
static void circuit_breaker(struct pass *p)
{
	const struct sched_service *svc = p->svc;
	const struct sched_service_deployment *dep = svc->deployments;
	p->primary = svc->primary;
	p->failed_now = SCHED_SERVICE_NONE;
	if (dep[p->primary].rollout == SCHED_SERVICE_FAILED) {
		p->no_starts = 1;
		return;
	}
	if (!svc->circuit_breaker || dep[p->primary].rollout != SCHED_SERVICE_IN_PROGRESS ||
	    dep[p->primary].failed_tasks < sched_service_cb_threshold(p->d, svc->cb_min))
		return;
	size_t to = svc->rollback ? rollback_target(p) : SCHED_SERVICE_NONE;
	struct sched_service_action *a = push(p->out, SCHED_SERVICE_ACT_FAILED);
	a->deployment = p->primary;
	a->to = to;
	p->failed_now = p->primary;
	if (to == SCHED_SERVICE_NONE)
		p->no_starts = 1;
	else
		p->primary = to;
}

/* Rule 2; returns how many deployments are left, not counting one held for
 * a rollback (p->held). */
static size_t remove_drained(struct pass *p)
{
	const struct sched_service *svc = p->svc;
	p->held = SCHED_SERVICE_NONE;
	if (svc->circuit_breaker && svc->rollback &&
	    svc->deployments[p->primary].rollout == SCHED_SERVICE_IN_PROGRESS)
		p->held = rollback_target(p);
	size_t live = 0;
	for (size_t j = 0; j < p->nd; j++) {
		if (j == p->primary || p->nonstop[j] > 0) {
			live++;
		} else if (j != p->held) {
			p->removed[j] = 1;
			push(p->out, SCHED_SERVICE_ACT_REMOVED)->deployment = j;
		}
	}
	if (p->held != SCHED_SERVICE_NONE && p->nonstop[p->held] > 0)
		p->held = SCHED_SERVICE_NONE;   /* still has tasks: an ordinary old one */
	return live;
}

static void finish(struct pass *p, int steady)
{
	const struct sched_service *svc = p->svc;
	p->out->steady = steady;
	p->out->primary = p->primary;
	if (!steady)
		return;
	if (p->held != SCHED_SERVICE_NONE)
		push(p->out, SCHED_SERVICE_ACT_REMOVED)->deployment = p->held;
	if (svc->deployments[p->primary].rollout == SCHED_SERVICE_IN_PROGRESS && p->failed_now != p->primary)
		push(p->out, SCHED_SERVICE_ACT_COMPLETED)->deployment = p->primary;
	if (!svc->was_steady)
		push(p->out, SCHED_SERVICE_ACT_STEADY);
}

static void note_tie(struct pass *p, unsigned long q, unsigned long candidates)
{
	if (q > 0 && q < candidates)
		p->out->ties = 1;
}

/* ---- REPLICA ---- */

/* Give up to budget healthy stops to old deployment j, the slot holding the
 * most first (a target of 0 everywhere); returns what is left. */
static unsigned long drain_old(struct pass *p, size_t j, unsigned long budget)
{
	size_t base = p->off[j], ns = p->off[j + 1] - base;
	unsigned long total = 0;
	for (size_t k = 0; k < ns; k++)
		total += p->hu[base + k];
	if (total <= budget) {
		for (size_t k = 0; k < ns; k++)
			p->qh[base + k] = p->hu[base + k];
		return budget - total;
	}
	unsigned long *zero = p->tmp, *cur = p->tmp + p->maxslots;
	for (size_t k = 0; k < ns; k++) {
		zero[k] = 0;
		cur[k] = p->hu[base + k];
	}
	while (budget > 0) {
		int s = sched_strategy_pick_shrink(zero, cur, ns);
		BERTH_ASSERT(s >= 0);   /* total > budget */
		p->qh[base + (size_t)s]++;
		cur[s]--;
		budget--;
	}
	for (size_t k = 0; k < ns; k++)
		note_tie(p, p->qh[base + k], p->hu[base + k]);
	return 0;
}

static void run_replica(struct pass *p)
{
	const struct sched_service *svc = p->svc;
	const struct sched_service_deployment *dep = svc->deployments;

	count(p);
	size_t live = remove_drained(p);

	/* Rule 3: targets and keepers of the PRIMARY. */
	const struct sched_service_deployment *pd = &dep[p->primary];
	size_t base = p->off[p->primary], np = slots_of(pd);
	unsigned long *T = p->tmp + 2 * p->maxslots, *K = T + p->maxslots;
	unsigned long *eff = K + p->maxslots, *avail = eff + p->maxslots;
	if (pd->n_items) {
		sched_strategy_split(pd->items, pd->n_items, p->d, T);
		T[pd->n_items] = 0;
	} else {
		T[0] = p->d;
		T[1] = 0;
	}
	unsigned long deficit = 0, tsum = 0, kpending = 0;
	for (size_t k = 0; k < np; k++) {
		size_t s = base + k;
		K[k] = p->pu[s] + p->pp[s] + p->hu[s] + p->hp[s];
		kpending += p->pu[s] + p->pp[s];
		tsum += T[k];
		if (K[k] > T[k]) {
			/* Rule 5: a surplus goes pending first. */
			p->qp[s] = min_ul(K[k] - T[k], p->pu[s]);
			note_tie(p, p->qp[s], p->pu[s]);
			p->nfree += p->qp[s];
		} else {
			deficit += T[k] - K[k];
		}
	}
	if (p->no_starts)
		deficit = 0;

	/* Rule 6: the budget for healthy stops. */
	unsigned long n1 = p->n0 - p->nfree;
	unsigned long room = p->hi > n1 ? p->hi - n1 : 0;
	unsigned long blocked = deficit > room ? deficit - room : 0;
	unsigned long cover = p->h > p->d ? p->h - p->d : 0;
	unsigned long budget = p->h > p->lo ? p->h - p->lo : 0;
	budget = min_ul(budget, cover > blocked ? cover : blocked);
	unsigned long budget0 = budget;

	p->q_lost = min_ul(budget, p->lost_h);
	note_tie(p, p->q_lost, p->lost_h);
	budget -= p->q_lost;
	p->q_drain = min_ul(budget, p->drain_h);
	note_tie(p, p->q_drain, p->drain_h);
	budget -= p->q_drain;
	for (int failed_first = 1; failed_first >= 0; failed_first--)
		for (size_t j = 0; j < p->nd && budget > 0; j++) {
			if (j == p->primary || p->removed[j])
				continue;
			int failed = dep[j].rollout == SCHED_SERVICE_FAILED || j == p->failed_now;
			if (failed == failed_first)
				budget = drain_old(p, j, budget);
		}
	/* Scale-in of healthy keepers: largest surplus first, never below
	 * the target, never a protected task. */
	for (size_t k = 0; k < np; k++) {
		avail[k] = p->hu[base + k];
		K[k] -= p->qp[base + k];
		eff[k] = avail[k] ? K[k] : T[k];
	}
	while (budget > 0) {
		int k = sched_strategy_pick_shrink(T, eff, np);
		if (k < 0)
			break;
		p->qh[base + (size_t)k]++;
		K[k]--;
		avail[k]--;
		eff[k] = avail[k] ? K[k] : T[k];
		budget--;
	}
	for (size_t k = 0; k < np; k++)
		note_tie(p, p->qh[base + k], p->hu[base + k]);
	p->hstops = budget0 - budget;

	/* Rule 7: starts, where the deficit is largest (K now counts the
	 * keepers left after the stops; surplus slots stay at or above T). */
	unsigned long n2 = n1 - p->hstops;
	unsigned long starts = min_ul(deficit, p->hi > n2 ? p->hi - n2 : 0);
	unsigned long *add = eff;
	for (size_t k = 0; k < np; k++)
		add[k] = 0;
	for (unsigned long s = 0; s < starts; s++) {
		int k = sched_strategy_pick_grow(T, K, np);
		BERTH_ASSERT(k >= 0);   /* starts <= deficit */
		K[k]++;
		add[k]++;
	}

	if (p->nfree + p->hstops > 0)
		emit_stops(p);
	for (size_t k = 0; k < np; k++) {
		if (!add[k])
			continue;
		struct sched_service_action *a = push(p->out, SCHED_SERVICE_ACT_START);
		a->deployment = p->primary;
		a->provider = pd->n_items ? (int)k : SCHED_SERVICE_LAUNCH_TYPE;
		a->count = add[k];
	}

	/* Rule 8. */
	int steady = live == 1 && p->nonkeep == 0 && p->emitted == 0 && starts == 0 && kpending == 0 &&
		     tsum == p->d;
	for (size_t k = 0; steady && k < np; k++)
		steady = K[k] == T[k];
	finish(p, steady);
}

/* ---- DAEMON ---- */

static void run_daemon(struct pass *p)
{
	const struct sched_service *svc = p->svc;
	size_t ni = svc->n_instances;

	count(p);
	size_t live = remove_drained(p);

	/* A second keeper on an instance goes: a healthy one is kept before a
	 * pending one; protected ones stay.  qh holds the healthy ones wanted
	 * gone until the budget clips it. */
	for (size_t i = 0; i < ni; i++) {
		unsigned long kh = p->hu[i] + p->hp[i], kp = p->pu[i] + p->pp[i];
		if (kh >= 1) {
			p->qp[i] = p->pu[i];
			p->qh[i] = min_ul(kh - 1, p->hu[i]);
		} else if (kp > 1) {
			p->qp[i] = min_ul(kp - 1, p->pu[i]);
		}
		note_tie(p, p->qp[i], p->pu[i]);
		p->nfree += p->qp[i];
	}

	unsigned long budget = p->h > p->lo ? p->h - p->lo : 0, budget0 = budget;
	p->q_lost = min_ul(budget, p->lost_h);
	note_tie(p, p->q_lost, p->lost_h);
	budget -= p->q_lost;
	p->q_drain = min_ul(budget, p->drain_h);
	note_tie(p, p->q_drain, p->drain_h);
	budget -= p->q_drain;
	p->q_old = min_ul(budget, p->old_h);
	note_tie(p, p->q_old, p->old_h);
	budget -= p->q_old;
	for (size_t i = 0; i < ni; i++) {
		p->qh[i] = min_ul(budget, p->qh[i]);
		note_tie(p, p->qh[i], p->hu[i]);
		budget -= p->qh[i];
	}
	p->hstops = budget0 - budget;

	if (p->nfree + p->hstops > 0)
		emit_stops(p);
	size_t starts = 0;
	int steady = live == 1 && p->nonkeep == 0 && p->emitted == 0;
	for (size_t i = 0; i < ni; i++) {
		if (!svc->instances[i].active)
			continue;
		if (!p->any[i] && !p->no_starts) {
			struct sched_service_action *a = push(p->out, SCHED_SERVICE_ACT_START);
			a->deployment = p->primary;
			a->provider = svc->instances[i].provider;
			a->instance = i;
			a->count = 1;
			starts++;
		}
		steady = steady && p->hu[i] + p->hp[i] == 1 && p->pu[i] + p->pp[i] == 0;
	}
	finish(p, steady && starts == 0);
}

/* ---- entry ---- */

void sched_service_reconcile(const struct sched_service *svc, struct sched_service_result *out)
{
	BERTH_ASSERT(svc->n_deployments > 0 && svc->primary < svc->n_deployments);
	out->n = 0;
	out->steady = 0;
	out->ties = 0;

	struct pass p;
	memset(&p, 0, sizeof p);
	p.svc = svc;
	p.out = out;
	p.daemon = svc->scheduling == SCHED_SERVICE_DAEMON;
	p.nd = svc->n_deployments;
	if (p.daemon) {
		for (size_t i = 0; i < svc->n_instances; i++)
			p.d += svc->instances[i].active != 0;
	} else {
		p.d = svc->desired;
	}
	p.lo = sched_service_min_healthy(p.d, svc->min_healthy_percent);
	p.hi = sched_service_max_running(p.d, svc->max_percent);
	out->desired = p.d;

	/* Scratch: per deployment, per key, the order bitmap. */
	size_t nslots = 0, maxslots = 0;
	if (!p.daemon)
		for (size_t j = 0; j < p.nd; j++) {
			size_t s = slots_of(&svc->deployments[j]);
			nslots += s;
			if (s > maxslots)
				maxslots = s;
		}
	p.nkeys = p.daemon ? svc->n_instances : nslots;
	size_t words = svc->order ? svc->n_tasks / (8 * sizeof(unsigned long)) + 1 : 0;
	size_t need = 3 * p.nd + 1 + 7 * p.nkeys + 6 * maxslots + words;
	unsigned long *cur = scratch(out, need);
	p.nonstop = carve(&cur, p.nd);
	p.removed = carve(&cur, p.nd);
	p.off = carve(&cur, p.nd + 1);
	p.pu = carve(&cur, p.nkeys);
	p.pp = carve(&cur, p.nkeys);
	p.hu = carve(&cur, p.nkeys);
	p.hp = carve(&cur, p.nkeys);
	p.qp = carve(&cur, p.nkeys);
	p.qh = carve(&cur, p.nkeys);
	p.any = carve(&cur, p.nkeys);
	p.maxslots = maxslots;
	p.tmp = carve(&cur, 6 * maxslots);
	p.seen = carve(&cur, words);
	if (!p.daemon)
		for (size_t j = 0; j < p.nd; j++)
			p.off[j + 1] = p.off[j] + slots_of(&svc->deployments[j]);

	circuit_breaker(&p);
	if (p.daemon)
		run_daemon(&p);
	else
		run_replica(&p);
}
