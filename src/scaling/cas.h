/* cas: cluster auto scaling (managed scaling) for one (cluster, capacity
 * provider), a pure core (ECS-SEMANTICS §8).
 *
 * A controller calls scaling_cas_evaluate once per metric period for every
 * cluster and capacity provider of type EC2_AUTOSCALING whose managedScaling
 * is ENABLED, with a snapshot of the Auto Scaling group (its instance types,
 * its instances, min/max/desired), the provider's PROVISIONING tasks, the
 * managedScaling settings, the time and the low/high datapoint streaks it
 * stored from the previous evaluation.  The core answers with the metric
 * (M, N, CapacityProviderReservation), the datapoint, the new desired
 * capacity, which instances to protect from scale-in and unprotect (managed
 * termination protection), and which instances to terminate.  No I/O, no
 * logging, no globals, no clock (the caller passes `now`), no randomness, no
 * model structs; memory is scratch kept in the result and reused from call to
 * call.  Deterministic: the same input gives the same output.
 *
 * The metric [DOC cluster-auto-scaling], [DG:cluster-auto-scaling.md],
 * ECS-SEMANTICS §8.2, §8.3:
 *	N     instances of the group InService (SCALING_CAS_IN_SERVICE);
 *	      PENDING ones are not counted (they only count for warm-up)
 *	busy  InService instances running >= 1 task with desiredStatus RUNNING
 *	      that is not a DAEMON-service task (the caller's flag; DAEMON-only
 *	      instances are "empty")
 *	M     without PROVISIONING tasks: busy;
 *	      with them: N + extra, extra the binpack estimate below, clamped
 *	      when > 0: extra = min(max(extra, minimumScalingStepSize),
 *	      maximumScalingStepSize) [DOC managed-scaling-behavior]
 *	CPR   100 when M = 0 and N = 0; 200 when N = 0 and M > 0 ("a scale-out
 *	      from no usable instances always goes to 200 %": one task from zero
 *	      brings the group to 2); otherwise 100 * M / N.
 * When there are PROVISIONING tasks but none is compatible (below), CPR is
 * targetCapacity and nothing scales: "when all tasks are incompatible with
 * the smallest instance type, cluster auto scaling stops and the
 * CapacityProviderReservation value remains at the targetCapacity value"
 * [DOC managed-scaling-behavior] (ECS-SEMANTICS §8.2 says "stays 100", the
 * same value at the default targetCapacity 100; with a lower target only
 * the developer guide's reading leaves the group alone).
 * (The newer guide's "100 - empty instances" for scale-in is not used: M/N
 * gives a value below target in the same cases, §8.2.)
 *
 * Binpack estimate [DOC managed-scaling-behavior], §8.2 steps 2-3.  The
 * PROVISIONING tasks are grouped by shape: identical (cpu, memory, fixed
 * host ports); the caller gives shapes with counts, or single tasks that the
 * core groups (a hash on the four fields; first appearance order).  The
 * instance types are reduced "for each parameter" to a smallest (the least
 * cpu, the least memory of any type) and a largest (the most of each).  A
 * shape that the smallest cannot run once is incompatible and ignored (its
 * tasks stay PROVISIONING).  Otherwise one instance of the largest takes
 *	k = min(cpu_max / cpu, memory_max / memory, 1 if it has host ports)
 * tasks (a zero requirement does not limit; a shape with none at all takes
 * one instance for all its tasks), and the shape needs ceil(count / k)
 * instances.  extra is the largest of the shapes' counts: the guide's
 * "maximum calculated instance count" (Berth's reading: a lower bound, which
 * later evaluations raise while tasks stay PROVISIONING; unconfirmed).
 * ENIs and GPUs are not modelled.
 *
 * Datapoints (§8.3, §8.4).  This evaluation's datapoint is HIGH when
 * CPR > targetCapacity, LOW when CPR < targetCapacity, NONE otherwise and
 * always NONE when M = 0 and N = 0 (idle and empty: no action) or nothing is
 * compatible.  The streaks count consecutive datapoints: the caller passes
 * the ones the previous result returned (0, 0 at first) and stores the new
 * ones.  The ECS timing is one datapoint a minute, the high alarm firing on 1
 * and the low alarm on 15 consecutive datapoints (target tracking's alarms:
 * "1 datapoint within 1 minute" / "15 datapoints within 15 minutes"; users
 * see ~15 min to remove an idle instance [gh:aws/containers-roadmap#653]);
 * the fast timing is the same logic on a shorter period with fewer low
 * datapoints, both the caller's (scaling_cas_timing).  A streak keeps
 * growing while the alarm stays in ALARM, and target tracking acts again on
 * every such datapoint (Berth's reading; unconfirmed).
 *
 * Target tracking, T = targetCapacity, d = the group's desired capacity
 * (§8.3):
 *	wanted = ceil(max(N, 1) * CPR / T), computed exactly in integers:
 *	         ceil(100 * M / T) when N > 0, ceil(200 / T) when N = 0
 *	scale-out  when high_streak >= high_datapoints: d' = min(MaxSize,
 *	         max(d, wanted)), unless an instance of the group (PENDING or
 *	         InService) is still inside instanceWarmupPeriod: launched_at +
 *	         warm-up > now ("scale-out is blocked while instances are still
 *	         in warm-up" [DG]: no stacked scale-outs).  Every HIGH datapoint
 *	         cancels a scale-in in progress ("a scale-out request while
 *	         scale-in is running cancels it" [DG]): cancel_scale_in.
 *	scale-in   when low_streak >= low_datapoints and d > wanted:
 *	         step = min(d - wanted, max(1, floor(d / 2))) (at most 50 % of
 *	         the group a step, the "Faster Scaling-in" blog; it was 5-10 %),
 *	         d' = max(MinSize, d - step).
 *	MinSize and MaxSize are never changed; d' stays within them.
 *
 * Terminations.  Lowering d' below the L live (PENDING + InService)
 * instances terminates L - d' of them, and only empty, unprotected InService
 * instances may go: not busy, and not protected after this evaluation's
 * protection changes (with managed termination protection that is every
 * empty one; without it, the caller's flag).  When fewer qualify, only those
 * go and d' is raised to L - terminated (never above d): the group never
 * asks the Auto Scaling group for a termination it cannot do.  Which ones:
 * the Auto Scaling default termination policy balances zones first (each
 * termination from the zone with the most live instances that still has a
 * candidate, the lowest zone index on ties); within a zone Berth takes the
 * oldest (smallest launched_at), then the lowest index (Berth's choice; the
 * ASG's later criteria, launch template age and billing hour, do not apply).
 *
 * Managed termination protection [DG:asg-capacity-providers-create-
 * capacity-provider.md], §8.3, §8.4: when enabled, every InService instance
 * is protected from scale-in exactly when it is busy (DAEMON tasks do not
 * protect): `protect` lists the busy ones not yet protected, `unprotect` the
 * empty ones still protected.  PENDING instances are left alone.  The caller
 * applies protect/unprotect before the terminations.
 *
 * Cost: O(instances + tasks + shapes + types), plus O(t * zones + c log c)
 * for t terminations among c candidates; no allocation once the scratch has
 * grown.  Aborts (BERTH_ASSERT) on a broken invariant: MinSize > MaxSize,
 * desired outside [MinSize, MaxSize], targetCapacity outside 1..100, a step
 * size of 0, an instance state or zone out of range, a NULL array with a
 * non-zero count.
 */
#ifndef BERTH_SCALING_CAS_H
#define BERTH_SCALING_CAS_H

#include <stddef.h>
#include <stdint.h>

#define SCALING_CAS_HIGH_DATAPOINTS 1    /* target tracking's high alarm: 1 of 1 minute */
#define SCALING_CAS_LOW_DATAPOINTS 15    /* its low alarm: 15 of 15 minutes [DG] */
#define SCALING_CAS_ECS_PERIOD_MS 60000  /* ECS evaluates every minute [DG] */
#define SCALING_CAS_FAST_PERIOD_MS 1000  /* Berth's fast timing, defaults */
#define SCALING_CAS_FAST_LOW_DATAPOINTS 3
#define SCALING_CAS_ZONES_MAX 256        /* zone indexes are below this */
#define SCALING_CAS_UNLIMITED ((unsigned long)-1)  /* per_instance of a shape needing nothing */

/* The timing of the metric and its alarms. */
enum scaling_cas_timing_mode {
	SCALING_CAS_TIMING_ECS,   /* --timing ecs: 1-minute datapoints, 1 high, 15 low */
	SCALING_CAS_TIMING_FAST,  /* --timing fast: the same logic, shorter */
};

struct scaling_cas_timing {
	int64_t period_ms;          /* one evaluation (datapoint) every period */
	unsigned high_datapoints;   /* consecutive HIGH datapoints before a scale-out */
	unsigned low_datapoints;    /* consecutive LOW datapoints before a scale-in */
};

/* The timing for mode.  ECS: SCALING_CAS_ECS_PERIOD_MS, 1 high, 15 low
 * datapoints; period_ms and low_datapoints are ignored.  FAST: period_ms and
 * low_datapoints as given (0: SCALING_CAS_FAST_PERIOD_MS and
 * SCALING_CAS_FAST_LOW_DATAPOINTS), 1 high datapoint, so that a task entering
 * PROVISIONING changes the desired capacity within one period. */
struct scaling_cas_timing scaling_cas_timing(enum scaling_cas_timing_mode mode, int64_t period_ms,
					     unsigned low_datapoints);

/* "ecs" or "fast" (exact, lower case) into *out: 0, or -1 for anything else
 * (out untouched). */
int scaling_cas_timing_parse(const char *name, enum scaling_cas_timing_mode *out);

/* One instance type of the group: what an instance of it registers. */
struct scaling_cas_type {
	uint32_t cpu;       /* CPU units, 1024 a vCPU */
	uint32_t memory;    /* MiB */
};

/* Where an instance of the group is in its life.  Terminating and
 * terminated instances are not given at all. */
enum scaling_cas_instance_state {
	SCALING_CAS_PENDING,     /* launched, not yet InService: warm-up only */
	SCALING_CAS_IN_SERVICE,  /* counted in N */
};

/* One live instance of the group (16 bytes). */
struct scaling_cas_instance {
	int64_t launched_at;    /* ms on the caller's clock, the same as `now` */
	uint16_t zone;          /* the caller's index of its zone, < SCALING_CAS_ZONES_MAX */
	uint8_t state;          /* enum scaling_cas_instance_state */
	uint8_t busy;           /* runs >= 1 non-DAEMON task with desiredStatus RUNNING */
	uint8_t is_protected;   /* ProtectedFromScaleIn now */
	uint8_t pad_[3];
};

/* A PROVISIONING task of the provider. */
struct scaling_cas_task {
	uint32_t cpu;           /* CPU units the task needs */
	uint32_t memory;        /* MiB */
	uint32_t host_ports;    /* fixed host ports it reserves (tcp + udp); 0: none or dynamic */
	uint64_t ports_key;     /* the caller's key of that port set (e.g. a hash); 0 with none */
};

/* Tasks of one shape, and what the estimate made of them. */
struct scaling_cas_shape {
	struct scaling_cas_task task;  /* the requirement */
	unsigned long count;           /* PROVISIONING tasks of that shape; 0 is ignored */
	/* Filled in the result's shapes only: */
	int compatible;                /* the smallest type can run one */
	unsigned long per_instance;    /* k above (compatible only); SCALING_CAS_UNLIMITED: no limit */
	unsigned long instances;       /* ceil(count / k), 0 when incompatible */
};

/* The provider's managedScaling and managedTerminationProtection. */
struct scaling_cas_settings {
	unsigned target_capacity;      /* 1..100 */
	unsigned min_step;             /* minimumScalingStepSize, >= 1 */
	unsigned max_step;             /* maximumScalingStepSize, >= 1 */
	unsigned warmup_s;             /* instanceWarmupPeriod, seconds */
	int managed_termination_protection;
};

struct scaling_cas_input {
	const struct scaling_cas_type *types;   /* the group's instance types (launch config or overrides) */
	size_t n_types;
	const struct scaling_cas_instance *instances;
	size_t n_instances;
	/* The PROVISIONING tasks of this provider in this cluster: shapes with
	 * counts, single tasks, or both; the core groups them all. */
	const struct scaling_cas_shape *shapes;
	size_t n_shapes;
	const struct scaling_cas_task *tasks;
	size_t n_tasks;
	struct scaling_cas_settings settings;
	unsigned long min_size, max_size, desired;  /* the group's MinSize, MaxSize, DesiredCapacity */
	int64_t now;                    /* ms, the clock of launched_at */
	unsigned high_datapoints;       /* 0: SCALING_CAS_HIGH_DATAPOINTS */
	unsigned low_datapoints;        /* 0: SCALING_CAS_LOW_DATAPOINTS */
	unsigned long high_streak;      /* consecutive HIGH datapoints before this one (the last result's) */
	unsigned long low_streak;       /* the same for LOW */
};

enum scaling_cas_datapoint {
	SCALING_CAS_DP_NONE,   /* CPR == T, idle and empty, or nothing compatible */
	SCALING_CAS_DP_HIGH,   /* CPR > T */
	SCALING_CAS_DP_LOW,    /* CPR < T */
};

/* What target tracking did, and when it did nothing, why. */
enum scaling_cas_decision {
	SCALING_CAS_STEADY,          /* CPR == T, or idle and empty: nothing to do */
	SCALING_CAS_SCALE_OUT,       /* desired raised */
	SCALING_CAS_SCALE_IN,        /* desired lowered (terminate lists the instances) */
	SCALING_CAS_WAIT_DATAPOINTS, /* the alarm needs more consecutive datapoints */
	SCALING_CAS_WARMUP,          /* a scale-out blocked by an instance in warm-up */
	SCALING_CAS_AT_MAX,          /* a scale-out wanted, desired already at MaxSize */
	SCALING_CAS_AT_MIN,          /* a scale-in wanted, desired already at MinSize */
	SCALING_CAS_NO_EMPTY,        /* a scale-in wanted, no empty unprotected instance */
	SCALING_CAS_REACHED,         /* the alarm fired, desired already where it leads */
	SCALING_CAS_INCOMPATIBLE,    /* PROVISIONING tasks, none fits the smallest type */
};

struct scaling_cas_result {
	/* The metric. */
	unsigned long n;               /* InService instances */
	unsigned long busy;            /* of which busy */
	unsigned long m;
	unsigned long extra_estimate;  /* binpack estimate before the step clamps */
	unsigned long extra;           /* after them; M = N + extra with PROVISIONING tasks */
	unsigned long provisioning;    /* PROVISIONING tasks given */
	unsigned long incompatible;    /* of which incompatible */
	double cpr;                    /* CapacityProviderReservation to publish */
	/* The alarms. */
	enum scaling_cas_datapoint datapoint;
	unsigned long high_streak;     /* store for the next evaluation */
	unsigned long low_streak;
	int cancel_scale_in;           /* HIGH datapoint: abandon a scale-in in progress */
	/* Target tracking. */
	enum scaling_cas_decision decision;
	unsigned long wanted;          /* ceil(max(N,1) * CPR / T); 0 when idle/incompatible */
	unsigned long desired;         /* the new DesiredCapacity (== input when unchanged) */
	int in_warmup;                 /* some instance is within its warm-up now */
	/* Instance indexes (into input.instances), ascending except terminate,
	 * which is in the order chosen. */
	size_t *protect, n_protect;
	size_t *unprotect, n_unprotect;
	size_t *terminate, n_terminate;
	/* The shapes after grouping, in first-appearance order, with their
	 * estimate (scratch: valid until the next call). */
	struct scaling_cas_shape *shapes;
	size_t n_shapes;
	/* owned scratch, reused from call to call */
	size_t cap_inst_, cap_shapes_, cap_table_;
	uint32_t *table_;
	struct scaling_cas_cand_ *cand_;
};

void scaling_cas_result_init(struct scaling_cas_result *r);
void scaling_cas_result_free(struct scaling_cas_result *r);

/* One evaluation: fill out (everything it held before is replaced).  in and
 * all it points to are borrowed for the call.  Aborts on a broken invariant
 * (see the top of this file). */
void scaling_cas_evaluate(const struct scaling_cas_input *in, struct scaling_cas_result *out);

/* The estimate alone: group the PROVISIONING tasks of in (shapes and tasks)
 * into out->shapes with their counts and return extra before the clamps (0
 * when nothing is compatible or there is no task).  Also fills
 * out->provisioning and out->incompatible; nothing else. */
unsigned long scaling_cas_estimate(const struct scaling_cas_input *in, struct scaling_cas_result *out);

/* Short names for logs, events and tests: "none", "high", "low"; "steady",
 * "scale-out", "scale-in", "wait-datapoints", "warm-up", "at-max",
 * "at-min", "no-empty", "reached", "incompatible". */
const char *scaling_cas_datapoint_name(enum scaling_cas_datapoint d);
const char *scaling_cas_decision_name(enum scaling_cas_decision d);

#endif
