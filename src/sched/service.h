/* service: the ECS service scheduler's decisions (ECS-SEMANTICS §4.4, §6), a
 * pure core.
 *
 * A controller on the event loop calls sched_service_reconcile once per
 * service per pass with a snapshot of the service (its deployments and its
 * tasks as small structs) and applies the actions it answers with: start k
 * tasks of a deployment on a provider (or, DAEMON, on an instance), stop task
 * i for a reason, the deployment transitions, "steady state reached".  The
 * core keeps nothing between calls: whatever it must remember (failed task
 * counts, rollout states, whether the service was steady) the caller stores
 * and passes back.  No I/O, no logging, no globals, no model structs, no
 * time, no randomness: the caller classifies each task (below) and breaks
 * the last ties with an optional order.  Everything is deterministic.
 *
 * Counts used below.  d = desiredCount (REPLICA) or the number of eligible
 * ACTIVE instances (DAEMON).  A task is "non-stopping" unless its state is
 * STOPPING; "healthy" if HEALTHY.  N = non-stopping tasks of every
 * deployment, H = healthy ones.
 *	L = ceil(d * minimumHealthyPercent / 100), at most d
 *	U = floor(d * maximumPercent / 100), at least d
 * [M:DeploymentConfiguration]: minimumHealthyPercent "rounded up",
 * maximumPercent "rounded down"; ECS-SEMANTICS §6.2.  U is never below d
 * (Berth's choice: ECS does not say what a maximumPercent under 100 does
 * outside a deployment; with it no service could reach its desiredCount).
 *
 * Rules, REPLICA (each pass, in this order):
 *
 * 1. Circuit breaker [M:DeploymentCircuitBreaker], [DG:deployment-circuit-
 *    breaker.md]: when it is enabled and the PRIMARY deployment's rollout is
 *    IN_PROGRESS with failed_tasks >= threshold = min(max(cb_min, ceil(d/2)),
 *    200), cb_min 10 by default (the archived developer guide; today's API
 *    reference says 3, so it is a field), the deployment is FAILED.  With
 *    rollback, the newest other deployment whose rollout COMPLETED becomes
 *    PRIMARY again ("rolled back to the last deployment that completed
 *    successfully"); the failed one becomes an old deployment whose tasks are
 *    drained like any old deployment's (first among the old ones), after
 *    which it is removed.  Without rollback, or with no completed deployment
 *    to return to, it stays PRIMARY and FAILED: "a deployment in FAILED state
 *    doesn't launch any new tasks" [M:Deployment.rolloutState], so no task is
 *    started at all; stops still happen.
 * 2. An ACTIVE (non-PRIMARY) deployment with no non-stopping task left is
 *    removed [M:Deployment.status] (§6.2: "when old tasks are all replaced
 *    the old deployment is removed").  One exception: while the PRIMARY is
 *    IN_PROGRESS under a circuit breaker with rollback, the deployment a
 *    rollback would return to stays (ACTIVE, no task: with stop-first
 *    percents it can be drained before the new one fails) and is removed in
 *    the pass where the PRIMARY completes.
 * 3. Targets (§4.4): T[p] = sched_strategy_split(PRIMARY's strategy, d) for
 *    each provider p of the PRIMARY deployment, over the whole service (a
 *    launch type is one provider with T = d).  A task whose provider is not
 *    in its deployment's strategy counts on a provider of target 0.
 * 4. Every non-stopping task is one of:
 *	keeper     of the PRIMARY, not UNHEALTHY, not on a DRAINING instance,
 *	           agent not lost: K[p] counts them per provider
 *	lost       its agent is lost                          (AGENT_LOST)
 *	draining   on a DRAINING instance                     (DRAINING)
 *	unhealthy  UNHEALTHY                                  (UNHEALTHY)
 *	old        of an ACTIVE (older or failed) deployment  (DEPLOYMENT)
 *    (first match wins).  Lost, draining, unhealthy and old tasks are to be
 *    replaced: they are not keepers, so the PRIMARY's deficit makes room for
 *    their replacements on the same provider.
 * 5. Free stops: every lost, draining, unhealthy or old task that is not
 *    HEALTHY is stopped now (stopping it never lowers H; PENDING service
 *    tasks on a DRAINING instance "are stopped immediately"
 *    [DG:container-instance-draining.md]; unhealthy tasks are stopped and
 *    replaced [M:DeploymentConfiguration.minimumHealthyPercent]); so is, on
 *    each provider with a surplus K[p] > T[p], up to that surplus of its
 *    PENDING keepers ("pending before running").
 * 6. Healthy stops, within a budget
 *	B = min(H - L, max(H - d, blocked))
 *    where H - d counts the healthy tasks beyond the desired count (new
 *    tasks have become healthy and cover the ones to go: "stop old ones as
 *    new ones become healthy") and blocked is the part of the PRIMARY's
 *    deficit sum(max(0, T[p] - K[p])) that maximumPercent keeps from
 *    starting now (with maximumPercent 100 old tasks must go first,
 *    "respecting minimumHealthyPercent" [DG:container-instance-draining.md]).
 *    B goes to healthy tasks in this order: lost; draining; old, the
 *    deployments FAILED first then oldest first, within one the provider
 *    holding most of them first; keepers beyond their target (scale-in),
 *    the provider with the largest surplus K[p] - T[p] first
 *    (sched_strategy_pick_shrink, ties to the first listed), never taking a
 *    provider below its target.
 * 7. Starts: while the PRIMARY is not FAILED, min(deficit, U - N) new tasks,
 *    N counted after this pass's stops, each to the provider with the
 *    largest deficit T[p] - K[p] (sched_strategy_pick_grow, ties to the
 *    first listed).  Never to another provider (§4.4: no fall back).
 * 8. Steady state: one deployment left, no action, K[p] == T[p] on every
 *    provider, every keeper HEALTHY and no other non-stopping task.  An
 *    IN_PROGRESS PRIMARY is then COMPLETED [M:Deployment.rolloutState].
 *
 * Consequences: with 100/200 "start N new, then stop N old" (stops wait for
 * H - d > 0); with 50/100 half the old ones stop and as many new ones start
 * in the same pass; with 0/100 all old ones stop and all new ones start; with
 * 100/100 (or any L == d == U) a replacement can never proceed, as ECS
 * documents for draining, and the pass answers nothing and is not steady.
 * After every pass N <= max(U, N before) and H >= min(L, H before): the
 * scheduler never pushes the service over its bounds (it cannot prevent
 * tasks from dying).  Tasks on DRAINING instances and lost tasks are
 * replaced start-first when maximumPercent allows, stop-first when it does
 * not, exactly like old-deployment tasks.
 *
 * Task protection [DG:task-scale-in-protection.md]: a protected task is
 * "protected from termination during scale-in events from Service
 * Autoscaling or deployments", so it is never stopped for SCALE_IN or
 * DEPLOYMENT.  The other reasons (instance draining or gone, agent lost,
 * failed health checks) are not scale-in and stop it anyway (Berth's reading;
 * unconfirmed).  A protected surplus stays and keeps the service from its
 * steady state until the protection ends; a protected old task keeps its
 * deployment alive.
 *
 * DAEMON: one task of the PRIMARY on each eligible ACTIVE instance; the
 * caller lists the eligible instances (registered, of the service's
 * providers or launch type, passing its placement constraints), each ACTIVE
 * or DRAINING, and says which one each task runs on.  Tasks on an instance
 * not listed are stopped at once (INSTANCE_GONE) and do not count in H (the
 * instance is no longer the service's: deregistered, or failing the
 * constraints; unconfirmed whether ECS waits for minimumHealthyPercent
 * there); tasks on DRAINING ones are stopped (pending at once, healthy
 * within B); a second keeper on one instance is stopped (SCALE_IN; a
 * healthy one is kept before a pending one).
 * Replacement is stop-first: a new task starts only on an ACTIVE instance
 * that holds no task of the service at all (not even a stopping one, whose
 * host ports may still be held), so maximumPercent plays no part; healthy
 * stops use B = H - L (minimumHealthyPercent defaults to 0 for DAEMON
 * [M:DeploymentConfiguration], the caller's default to apply).  Lost,
 * unhealthy and old tasks are handled as for REPLICA; steady is one healthy
 * keeper on every ACTIVE instance and nothing else.
 *
 * Which task.  Stops are exact tasks.  Within one group the core considers
 * equal (same reason, deployment, provider or instance, state), the task
 * that comes first in `order` (a permutation of the task indexes the caller
 * may give; index order without one) is stopped first, and STOP actions come
 * in that order.  A caller that wants instance and zone balance on scale-in
 * (sched_place_pick_stops) can call once without an order, and when the
 * result says `ties` (some group had more candidates than stops), build an
 * order and call again with the same input.
 *
 * Actions come in this order: FAILED, REMOVED, STOP (in `order`), START
 * (REPLICA: one per provider, ascending; DAEMON: one per instance,
 * ascending), the REMOVED of a deployment held for a rollback, COMPLETED,
 * STEADY.  Each later action assumes the earlier
 * transitions applied (after a rollback, starts are for the restored
 * PRIMARY).  Deployment indexes are those of the input array.
 *
 * Cost: two passes over the tasks (the second only when something is
 * stopped) plus O(providers) per start or healthy stop decided; memory is
 * scratch kept in the result and reused from call to call.
 */
#ifndef BERTH_SCHED_SERVICE_H
#define BERTH_SCHED_SERVICE_H

#include <stddef.h>
#include <stdint.h>

#include "sched/strategy.h"

#define SCHED_SERVICE_LAUNCH_TYPE (-1)   /* provider of a launch-type task / start */
#define SCHED_SERVICE_NONE ((size_t)-1)  /* no deployment / task / instance */
#define SCHED_SERVICE_NO_INSTANCE UINT32_MAX
#define SCHED_SERVICE_CB_MIN 10          /* [DG:deployment-circuit-breaker.md] */
#define SCHED_SERVICE_CB_MAX 200

enum sched_service_scheduling { SCHED_SERVICE_REPLICA, SCHED_SERVICE_DAEMON };

/* Deployment.rolloutState [M]. */
enum sched_service_rollout {
	SCHED_SERVICE_IN_PROGRESS,
	SCHED_SERVICE_COMPLETED,
	SCHED_SERVICE_FAILED,
};

/* How the caller sees a task now. */
enum sched_service_task_state {
	/* PROVISIONING .. ACTIVATING, and RUNNING until it counts as healthy
	 * (no health check: 40 s after RUNNING; with checks: until they pass;
	 * §6.2 and [M:DeploymentConfiguration.minimumHealthyPercent]). */
	SCHED_SERVICE_PENDING,
	SCHED_SERVICE_HEALTHY,    /* RUNNING and counted healthy */
	SCHED_SERVICE_UNHEALTHY,  /* RUNNING, failing its health checks: replace */
	SCHED_SERVICE_STOPPING,   /* desiredStatus STOPPED: counts for nothing */
};

/* Why a task is stopped.  Every one is stopCode ServiceSchedulerInitiated. */
enum sched_service_reason {
	SCHED_SERVICE_STOP_NONE = 0,
	SCHED_SERVICE_STOP_SCALE_IN,      /* beyond its provider's target */
	SCHED_SERVICE_STOP_DEPLOYMENT,    /* replaced by a newer deployment (or rolled back) */
	SCHED_SERVICE_STOP_DRAINING,      /* its container instance is DRAINING */
	SCHED_SERVICE_STOP_UNHEALTHY,     /* failed its health checks */
	SCHED_SERVICE_STOP_AGENT_LOST,    /* its instance's agent is lost */
	SCHED_SERVICE_STOP_INSTANCE_GONE, /* DAEMON: its instance is no longer eligible */
};

/* One deployment: the PRIMARY or an ACTIVE one.  Borrowed for the call. */
struct sched_service_deployment {
	const char *id;             /* "ecs-svc/..."; for the caller's texts only */
	/* Its capacityProviderStrategy [M:Deployment]; none: a launch type.
	 * Items validated (sched_strategy_validate, rule 3 at least). */
	const struct sched_strategy_item *items;
	size_t n_items;
	enum sched_service_rollout rollout;
	/* Deployment.failedTasks as the caller counts it: tasks that could not
	 * be launched, did not reach RUNNING, or failed health checks; reset
	 * once the deployment has a task running [M:Deployment.failedTasks]. */
	unsigned long failed_tasks;
};

/* One task of the service (16 bytes; a service may have many). */
struct sched_service_task {
	uint32_t deployment;        /* index in deployments[]; not read for STOPPING */
	uint32_t instance;          /* DAEMON: index in instances[], else SCHED_SERVICE_NO_INSTANCE */
	int16_t provider;           /* index in its deployment's items, or SCHED_SERVICE_LAUNCH_TYPE */
	uint8_t state;              /* enum sched_service_task_state */
	uint8_t is_protected;       /* UpdateTaskProtection protectionEnabled, not expired */
	uint8_t on_draining;        /* its container instance is DRAINING */
	uint8_t agent_lost;         /* its container instance's agent is lost */
	uint8_t pad_[2];
};

/* DAEMON: an eligible container instance. */
struct sched_service_instance {
	int provider;               /* index in the PRIMARY's items, or SCHED_SERVICE_LAUNCH_TYPE */
	int active;                 /* 1 ACTIVE, 0 DRAINING */
};

struct sched_service {
	enum sched_service_scheduling scheduling;
	unsigned long desired;          /* REPLICA desiredCount; DAEMON: ignored */
	unsigned min_healthy_percent;   /* deploymentConfiguration, defaults applied by the caller */
	unsigned max_percent;
	int circuit_breaker;            /* deploymentCircuitBreaker.enable */
	int rollback;                   /* deploymentCircuitBreaker.rollback */
	unsigned long cb_min;           /* threshold floor; 0 = SCHED_SERVICE_CB_MIN */
	/* Deployments in creation order, oldest first; primary indexes the
	 * PRIMARY one, the others are ACTIVE.  At least one. */
	const struct sched_service_deployment *deployments;
	size_t n_deployments;
	size_t primary;
	const struct sched_service_task *tasks;  /* every task not yet STOPPED */
	size_t n_tasks;
	/* NULL, or a permutation of 0..n_tasks-1: ties and the order of STOP
	 * actions (see "Which task"). */
	const size_t *order;
	const struct sched_service_instance *instances;  /* DAEMON only */
	size_t n_instances;
	int was_steady;                 /* the last pass answered steady: no STEADY action again */
};

enum sched_service_action_kind {
	SCHED_SERVICE_ACT_START,      /* start `count` tasks of `deployment` on `provider` (DAEMON: on `instance`) */
	SCHED_SERVICE_ACT_STOP,       /* stop tasks[`task`] for `reason` */
	SCHED_SERVICE_ACT_COMPLETED,  /* `deployment`'s rollout is COMPLETED */
	SCHED_SERVICE_ACT_FAILED,     /* `deployment`'s rollout is FAILED; `to` becomes PRIMARY (rollback) or NONE */
	SCHED_SERVICE_ACT_REMOVED,    /* ACTIVE `deployment` has no task left: remove it (INACTIVE) */
	SCHED_SERVICE_ACT_STEADY,     /* the service has reached a steady state */
};

struct sched_service_action {
	enum sched_service_action_kind kind;
	enum sched_service_reason reason;  /* STOP */
	int provider;                      /* START: item index or SCHED_SERVICE_LAUNCH_TYPE */
	size_t deployment;                 /* START, COMPLETED, FAILED, REMOVED */
	size_t count;                      /* START */
	size_t task;                       /* STOP */
	size_t instance;                   /* START of a DAEMON, else SCHED_SERVICE_NONE */
	size_t to;                         /* FAILED: the new PRIMARY, or SCHED_SERVICE_NONE */
};

struct sched_service_result {
	struct sched_service_action *actions;
	size_t n;
	int steady;             /* the service is in a steady state (store it as was_steady) */
	int ties;               /* some stop was chosen among equal candidates */
	unsigned long desired;  /* d: desiredCount, or for DAEMON the number of ACTIVE instances */
	size_t primary;         /* the PRIMARY after this pass's transitions */
	/* owned scratch, reused from call to call */
	size_t cap_;
	unsigned long *scratch_;
	size_t scratch_cap_;
};

void sched_service_result_init(struct sched_service_result *r);
void sched_service_result_free(struct sched_service_result *r);

/* One pass: fill out (its previous actions are discarded).  Aborts on a
 * broken invariant: no deployment, primary or a non-stopping task's
 * deployment out of range, a state out of range, a strategy item out of
 * range (sched_strategy_split). */
void sched_service_reconcile(const struct sched_service *svc, struct sched_service_result *out);

/* The circuit breaker's threshold for d tasks: min(max(cb_min, ceil(d/2)),
 * 200), cb_min 0 meaning SCHED_SERVICE_CB_MIN. */
unsigned long sched_service_cb_threshold(unsigned long d, unsigned long cb_min);

/* ceil(d*min/100) capped at d, and floor(d*max/100) raised to d: the bounds
 * L and U above. */
unsigned long sched_service_min_healthy(unsigned long d, unsigned min_percent);
unsigned long sched_service_max_running(unsigned long d, unsigned max_percent);

/* Short name of a reason, for logs and tests: "scale-in", "deployment",
 * "draining", "unhealthy", "agent-lost", "instance-gone", "" for NONE. */
const char *sched_service_reason_name(enum sched_service_reason r);

/* The stopped task's stoppedReason into buf (snprintf rules; returns its
 * length).  SCALE_IN and DEPLOYMENT: "Scaling activity initiated by
 * (deployment <deployment_id>)" (real ECS text); UNHEALTHY: "Task failed
 * container health checks" (real ECS text; a load-balanced service says
 * "Task failed ELB health checks in (target-group <arn>)", the caller's to
 * write); DRAINING, AGENT_LOST, INSTANCE_GONE: Berth's wording (unconfirmed):
 * "Container instance is draining", "Container instance agent
 * disconnected", "Container instance no longer eligible for the daemon
 * service". */
int sched_service_stopped_reason(enum sched_service_reason r, const char *deployment_id, char *buf,
				 size_t n);

/* The fixed part of the service event ECS writes for an action [DG:service-
 * event-messages.md, real events]; the caller composes:
 *	START      "(service S) has started N tasks: (task T1) (task T2)."
 *	STOP       "(service S) has stopped N running tasks: (task T1)."
 *	COMPLETED  "(service S) (deployment D) deployment completed."
 *	FAILED     "(service S) (deployment D) deployment failed: tasks failed to start."
 *	           then, on rollback, "(service S) rolling back to deployment D2."
 *	STEADY     "(service S) has reached a steady state."
 * and returns "has started", "has stopped", "deployment completed.",
 * "deployment failed: tasks failed to start.", "" (REMOVED: no event),
 * "has reached a steady state.". */
const char *sched_service_event_text(enum sched_service_action_kind k);

/* "rolling back to deployment" (FAILED with a rollback, see above). */
const char *sched_service_event_rollback(void);

/* The event for an UNHEALTHY stop before the "has stopped" one:
 * "(service S) (task T) failed container health checks." -> returns
 * "failed container health checks.". */
const char *sched_service_event_unhealthy(void);

#endif
