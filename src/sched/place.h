/* place: the task placement engine (ECS-SEMANTICS §5.8), a pure core.
 *
 * It decides, for tasks of one resource shape, which container instances they
 * go to (RunTask, services), why a task cannot be placed, and which task a
 * service should stop when it scales in.  It knows no model structs: the
 * caller gives arrays of candidate instances and the task's requirement, with
 * constraints already evaluated (memberOf lives in cql.c, the task
 * definition's required attributes in the model).  No I/O, no logging, no
 * globals; randomness comes from the struct rng given to each call.
 *
 * Filters.  Each instance is judged by one ordered chain of filters, and the
 * first one it fails is its reason (enum sched_place_reason, in that order):
 *
 *	NOT_ACTIVE  status is not ACTIVE (DRAINING ...): not a candidate at all
 *	AGENT       agentConnected is false
 *	CPU         remaining CPU units < the task's
 *	MEMORY      remaining MiB < the task's
 *	PORTS       a TCP host port of the task is reserved on the instance, or
 *	            the instance would hold more than SCHED_PLACE_PORTS_MAX
 *	PORTS_UDP   the same for UDP
 *	ATTRIBUTE   lacks an attribute the task definition requires (caller)
 *	MEMBER_OF   fails the memberOf constraints (caller, with cql)
 *	DISTINCT_INSTANCE  distinctInstance and a task of the group is there
 *
 * An instance that passes them all is feasible.  Strategies then choose among
 * the feasible ones, each one a tie-breaker for the ones before (ECS's
 * "successive tie-breakers"):
 *
 *	binpack cpu|memory   keep the instances with the least remaining of it
 *	spread instanceId    keep those with the fewest tasks of the group
 *	spread attribute:X   keep those whose bucket (value of X) holds the
 *	                     fewest tasks of the group; counts are summed over
 *	                     every instance given, candidate or not; instances
 *	                     lacking X share one bucket of their own
 *	random               keep one, uniformly: one rng_below(k) draw when
 *	                     k > 1 instances are left, none otherwise
 *
 * and, when several instances are still left, the lowest index wins, so a
 * caller controls the last tie by the order of its array.
 *
 * Failure.  When no instance is feasible the task fails with the reason of
 * the "closest" instance: the one whose first failed filter comes latest in
 * the chain above; among equals, for CPU (MEMORY) the one with the most CPU
 * (memory) remaining, then the lowest index.  NOT_ACTIVE instances are never
 * closest: with no ACTIVE instance at all (or none given) the answer is
 * SCHED_PLACE_NO_INSTANCES, which RunTask turns into the exception
 * "No Container Instances were found in your cluster." (§5.1).
 *
 * Sessions.  Placing N tasks is sequential: sched_place_new takes a working
 * copy of what placements change (remaining CPU and memory, host ports, group
 * counts, bucket counts), each sched_place_next updates it, so a later task
 * sees the earlier ones and nothing is over-committed.  Since every task of a
 * session has the same shape, an instance that stops being feasible never
 * becomes feasible again within the session; the engine relies on that.
 *
 * Speed.  The common chains run on indexes built in O(n) at the start:
 *	[binpack F], [spread instanceId], [spread attribute:A] optionally
 *	followed by one of [spread instanceId | binpack F]: a heap of buckets
 *	ordered by (bucket count, best instance) over one sorted run of
 *	instances a bucket; O(1) a placement, plus O(log buckets);
 *	[random]: a 16-ary tree of counts over a bitset of feasible
 *	instances, O(log16 n).
 * Any other chain scans the instances, O(n) a placement.  Both give exactly
 * the same decisions and consume the rng the same way (tested).
 */
#ifndef BERTH_SCHED_PLACE_H
#define BERTH_SCHED_PLACE_H

#include <stddef.h>
#include <stdint.h>

#include "lib/rng.h"

#define SCHED_PLACE_STRATEGIES_MAX 5    /* placementStrategy: at most 5 [M] */
#define SCHED_PLACE_PORTS_MAX 100       /* reserved host ports an instance may hold, per protocol */
#define SCHED_PLACE_NONE ((size_t)-1)   /* "no instance" / "no task" */

/* Why an instance cannot take the task, in the order the filters apply;
 * SCHED_PLACE_OK (0) means it can. */
enum sched_place_reason {
	SCHED_PLACE_OK = 0,
	SCHED_PLACE_NO_INSTANCES, /* a result only: no ACTIVE instance at all */
	SCHED_PLACE_NOT_ACTIVE,
	SCHED_PLACE_AGENT,
	SCHED_PLACE_CPU,
	SCHED_PLACE_MEMORY,
	SCHED_PLACE_PORTS,
	SCHED_PLACE_PORTS_UDP,
	SCHED_PLACE_ATTRIBUTE,
	SCHED_PLACE_MEMBER_OF,
	SCHED_PLACE_DISTINCT_INSTANCE,
};

/* The failure `reason` ECS puts in RunTask/StartTask failures[] for r:
 * "RESOURCE:CPU", "RESOURCE:MEMORY", "RESOURCE:PORTS", "RESOURCE:PORTS_UDP",
 * "AGENT", "ATTRIBUTE", "MemberOf placement constraint unsatisfied.",
 * "DistinctInstance placement constraint unsatisfied.", for NO_INSTANCES the
 * exception message "No Container Instances were found in your cluster.",
 * for NOT_ACTIVE "INACTIVE" (StartTask), for OK "".  Static strings. */
const char *sched_place_reason_text(enum sched_place_reason r);

/* The end of ECS's service event sentence "... The closest matching
 * container-instance <id> %s." for r, e.g. "has insufficient CPU units
 * available", "encountered error \"AGENT\"".  Static strings; "" for OK and
 * NO_INSTANCES (whose event is "Reason: No Container Instances were found in
 * your cluster."). */
const char *sched_place_reason_event(enum sched_place_reason r);

enum sched_place_kind {
	SCHED_PLACE_BINPACK_CPU,
	SCHED_PLACE_BINPACK_MEMORY,
	SCHED_PLACE_SPREAD_INSTANCE,    /* field instanceId or host */
	SCHED_PLACE_SPREAD_ATTRIBUTE,   /* field attribute:<name> */
	SCHED_PLACE_RANDOM,
};

struct sched_place_strategy {
	enum sched_place_kind kind;
	/* SPREAD_ATTRIBUTE: the attribute name (after "attribute:"), borrowed.
	 * "ecs.availability-zone" is read from sched_place_instance.zone, any
	 * other name through sched_place_request.attr. */
	const char *attribute;
};

/* One PlacementStrategy as the client sent it: type "binpack" with field
 * "cpu" or "memory", "spread" with "instanceId", "host" or
 * "attribute:<name>" (name not empty), "random" (field ignored).  Types are
 * matched exactly; the fixed field words ignoring case (unconfirmed: AWS
 * documents them lower case).  Returns 0 and fills out (out->attribute points
 * into field), or -1 if the pair is not valid; out is then untouched. */
int sched_place_strategy_parse(const char *type, const char *field, struct sched_place_strategy *out);

/* Who places, which decides the default chain when no strategy is given:
 * standalone tasks (RunTask) are placed randomly; service tasks are spread
 * over attribute:ecs.availability-zone, then over instances (fewest tasks of
 * the service on the instance) [DG:task-placement-strategies.md,
 * update-service-parameters.md]. */
enum sched_place_caller {
	SCHED_PLACE_FOR_TASK,
	SCHED_PLACE_FOR_SERVICE,
};

/* A candidate container instance, as it is now.  Everything is borrowed for
 * the life of the session (or the call) that uses it. */
struct sched_place_instance {
	const char *id;         /* for explanations only; spread instanceId is per index */
	int cpu;                /* remaining CPU units */
	int memory;             /* remaining MiB */
	/* Reserved host ports (the agent's plus those of tasks already there),
	 * each list sorted ascending without duplicates. */
	const uint16_t *tcp;
	size_t n_tcp;
	const uint16_t *udp;
	size_t n_udp;
	int active;             /* status ACTIVE; DRAINING and the rest are 0 */
	int agent_connected;
	const char *zone;       /* attribute ecs.availability-zone; NULL if none */
	unsigned group_count;   /* tasks of the task's group already on it */
};

/* What one task needs.  Host ports in any order; 0 (dynamic) entries and
 * duplicates are ignored. */
struct sched_place_task {
	int cpu;                /* >= 0 */
	int memory;             /* >= 0 */
	const uint16_t *tcp;
	size_t n_tcp;
	const uint16_t *udp;
	size_t n_udp;
	const char *group;      /* the group group_count and spread refer to (informational) */
};

struct sched_place_request {
	const struct sched_place_instance *instances;
	size_t n_instances;
	const struct sched_place_task *task;
	/* The chain, at most SCHED_PLACE_STRATEGIES_MAX; none = the default
	 * for caller. */
	const struct sched_place_strategy *strategies;
	size_t n_strategies;
	enum sched_place_caller caller;
	int distinct_instance;  /* a distinctInstance constraint applies */
	/* Per instance, 1 if it passes; NULL means every instance passes. */
	const unsigned char *member_ok;  /* all memberOf constraints */
	const unsigned char *attr_ok;    /* the task definition's required attributes */
	/* Value of attribute `name` on instance i, or NULL when it has none;
	 * the string must stay valid until the call that asked returns
	 * (sched_place_new, sched_place_pick_stops).  NULL callback: no
	 * instance has any attribute but its zone. */
	const char *(*attr)(void *arg, size_t instance, const char *name);
	void *attr_arg;
	int general_only;       /* tests and benchmarks: never take a fast path */
};

struct sched_place_result {
	enum sched_place_reason reason;   /* SCHED_PLACE_OK: placed */
	/* OK: the chosen instance; otherwise the closest instance, or
	 * SCHED_PLACE_NONE with SCHED_PLACE_NO_INSTANCES. */
	size_t instance;
};

struct sched_place;

/* Start a session for req, which (and all it points to) is borrowed until
 * sched_place_free.  O(n) time and memory plus the attribute look-ups of the
 * spread strategies (once per instance and strategy, all done here).  Aborts
 * on a broken invariant: negative task cpu/memory, more than
 * SCHED_PLACE_STRATEGIES_MAX strategies, unsorted reserved port lists. */
struct sched_place *sched_place_new(const struct sched_place_request *req);

/* Place the next task: fill *out and, on SCHED_PLACE_OK, charge the chosen
 * instance in the working copy.  rng is drawn from only by random
 * strategies.  Once a task fails every later one fails the same way. */
void sched_place_next(struct sched_place *p, struct rng *rng, struct sched_place_result *out);

/* Why each instance cannot take the next task now: out[i] for instance i
 * (n_instances values), SCHED_PLACE_OK where it can. */
void sched_place_explain(const struct sched_place *p, enum sched_place_reason *out);

/* Which chain the session applies (the default substituted) and whether it
 * runs on a fast path (1) or by scanning (0). */
size_t sched_place_chain(const struct sched_place *p, const struct sched_place_strategy **chain);
int sched_place_is_fast(const struct sched_place *p);

void sched_place_free(struct sched_place *p);

/* sched_place_new, count times sched_place_next into out[0..count), free. */
void sched_place_run(const struct sched_place_request *req, struct rng *rng, size_t count,
		     struct sched_place_result *out);

/* Scale-in: choose `count` of the group's running tasks to stop, one after
 * the other.  Task j runs on instance task_instance[j] (an index into
 * req->instances).  The chain of req (or its caller's default) is applied in
 * reverse, each strategy a tie-breaker for the ones before:
 *	spread attribute:X  keep the tasks in the bucket holding the most of
 *	                    the tasks not yet chosen (keeps zones balanced)
 *	spread instanceId   keep those on the instance holding the most
 *	binpack F           keep those on the instance that will have the most
 *	                    F remaining once its chosen tasks (of shape
 *	                    req->task) are gone
 *	random              keep one, uniformly
 * and among the tasks still left one is drawn uniformly (ECS: "within an
 * Availability Zone, tasks are selected randomly").  Only task_instance,
 * instances[].zone/cpu/memory, the chain, req->task (cpu and memory) and
 * req->attr are used.  out[0..k) receives the chosen task indexes, k =
 * min(count, n_tasks), which is returned. */
size_t sched_place_pick_stops(const struct sched_place_request *req, const size_t *task_instance,
			      size_t n_tasks, size_t count, struct rng *rng, size_t *out);

#endif
