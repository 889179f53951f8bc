/* api: one handler per ECS action, a parsed request in, a response or an
 * AWS error out.  No sockets here: the server's protocol layer parses the
 * body, finds the action in this table and renders what comes back.
 *
 * A handler validates everything before it changes anything, so a request
 * that fails changes nothing.  It changes the model through model_* calls,
 * which mark objects dirty; the server commits them before it answers. */
#ifndef BERTH_API_API_H
#define BERTH_API_API_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/errors.h"
#include "lib/err.h"
#include "lib/rng.h"
#include "model/model.h"

/* Settings the handlers obey (from the server's config). */
struct api_config {
	int strategy_max_providers;     /* at most this many items in a strategy (6) */
	int max_cps_per_cluster;        /* capacity providers one cluster may have (20) */
	bool allow_asg_fargate_switch;  /* services may move between ASG and Fargate providers */
	int64_t transition_ms;          /* how long PROVISIONING/UPDATE_IN_PROGRESS... last */
	int64_t cluster_retention_ms;   /* INACTIVE clusters stay describable this long */
	int64_t cp_retention_ms;        /* INACTIVE capacity providers likewise */
	int64_t instance_retention_ms;  /* INACTIVE container instances likewise */
	int64_t task_retention_ms;      /* STOPPED tasks likewise (ECS: about an hour) */
	int64_t sim_step_ms;            /* sim driver: one lifecycle step */
	int64_t capacity_wait_ms;       /* PROVISIONING tasks give up after this */
	long fargate_capacity;          /* sim: Fargate tasks at once a region, 0 unlimited */
	long max_provisioning_tasks;    /* PROVISIONING tasks a cluster may hold */
	int64_t spot_warning_ms;        /* a Spot interruption's warning before the stop */
	int64_t healthy_grace_ms;       /* a RUNNING service task counts as healthy after this */
	int64_t service_retention_ms;   /* INACTIVE services stay describable this long */
	int64_t cas_period_ms;          /* managed scaling: one evaluation (a datapoint) each; 0: never */
	unsigned cas_low_datapoints;    /* consecutive low datapoints before a scale-in */
	double cas_timescale;           /* durations of the scaling world (warm-up, boots) times this */
	int64_t instance_boot_ms;       /* sim: launch to InService and registered (already scaled) */
	int64_t agent_timeout_ms;       /* berth-agent: no poll for this long and agentConnected is false */
	int64_t lost_agent_grace_ms;    /* services replace a lost agent's tasks after this */
	bool fargate_agents;            /* --fargate process: each Fargate task runs under a berth-agent of its own */
};

/* A long poll the server may hold (AgentPoll): the handler sets parked
 * and what to watch; the server runs the request again when the
 * instance's work_gen moves off gen or at until. */
struct api_park {
	int64_t until;                  /* in: 0 the first time, else the deadline set then; out: deadline */
	bool parked;                    /* out: hold the request */
	uint64_t gen;                   /* out: the instance's work_gen when it parked */
	char region[64], cluster[256], ci_id[40];
};

struct infra_ops;

/* What one request sees.  All pointers are borrowed for the call. */
struct api_ctx {
	struct model *m;
	const struct api_config *cfg;
	const char *region;
	int64_t now;                    /* ms since epoch, from the server's clock */
	struct rng *rng;
	int64_t wake_at;                /* out: earliest deadline a handler set, or 0 */
	int64_t *vclock;                /* --clock virtual: the clock to move (AdvanceClock), else NULL */
	const struct driver_ops *driver;
	const struct infra_ops *infra;  /* Auto Scaling instances; NULL: they are in service at once */
	struct iam_user *caller;        /* who signed the request: an IAM user, or NULL for the root (and --auth open) */
	struct api_park *park;          /* set when the server can hold this request (long polls), else NULL */
};

/* A handler that sets a deadline (a transition to complete) says so, so that
 * the server wakes then and calls api_advance. */
static inline void api_wake(struct api_ctx *ctx, int64_t at)
{
	if (!ctx->wake_at || at < ctx->wake_at)
		ctx->wake_at = at;
}

struct task;

/* Where tasks run (the infrastructure driver).  The api layer decides what
 * runs where and moves the task's record; a driver makes it happen and
 * reports back through api_task_progress / api_task_container_exited /
 * api_task_stop.  Deadlines go through api_task_due. */
struct driver_ops {
	const char *name;
	/* The task was placed (lastStatus PROVISIONING or PENDING): start it. */
	void (*launch)(struct api_ctx *ctx, struct task *t);
	/* desiredStatus became STOPPED: stop it. */
	void (*stop)(struct api_ctx *ctx, struct task *t);
	/* A deadline the driver set came due. */
	void (*step)(struct api_ctx *ctx, struct task *t);
};

typedef int (*api_fn)(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e);

struct api_action {
	const char *name;               /* the ECS operation name */
	api_fn fn;
};

/* The action row for name, or NULL. */
const struct api_action *api_find(const char *name);

/* Validate the body against the ECS model's input shape of action, then run
 * its handler.  Returns 0 with *out set (the caller frees it), or -1 with e
 * filled: UnknownOperationException for an action the model does not have,
 * UnsupportedFeatureException for one Berth does not implement yet. */
int api_call(struct api_ctx *ctx, const char *action, const cJSON *in, cJSON **out, struct err *e);

/* Berth's extension actions (target prefix BerthExtensions_v1.), same
 * contract as api_call (api_ext.c). */
#define API_EXT_PREFIX "BerthExtensions_v1."
int api_ext_call(struct api_ctx *ctx, const char *action, const cJSON *in, cJSON **out, struct err *e);

/* Auto Scaling (api_as.c, its table as_actions.def): the same contract for
 * the Query protocol layer, the body already in the model's member names.
 * Errors: InvalidAction for an operation the Auto Scaling model lacks or
 * Berth does not implement yet, ValidationError (in AWS's words) for a body
 * the model refuses, checked before the table is consulted. */
int api_as_call(struct api_ctx *ctx, const char *action, const cJSON *in, cJSON **out,
		struct err *e);
/* e holds the validator's error for op's body in: make it a Query
 * ValidationError in AWS's words ("1 validation error detected: Value ...
 * at 'minSize' failed to satisfy constraint: ...").  Returns -1. */
struct vop;
int api_query_validation_error(const struct vop *op, const cJSON *in, struct err *e);
/* May ctx->caller (an IAM user; NULL: the root, always allowed) call op of
 * service svc (enum authz_service: ECS, Auto Scaling, IAM, Berth's
 * extensions) with the validated body in?  0, or -1 with AccessDenied in e
 * (api_access.c). */
int api_authorize(struct api_ctx *ctx, int svc, const char *op, const cJSON *in, struct err *e);
/* IAM (api_iam.c): the users, access keys and inline policies subset, with
 * the same contract as api_as_call (InvalidAction for operations Berth does
 * not serve). */
int api_iam_call(struct api_ctx *ctx, const char *action, const cJSON *in, cJSON **out, struct err *e);
/* Replace the users of the policy file with those of its text (JSON:
 * {"Users":[{"UserName","Path","AccessKeys":[{"AccessKeyId",
 * "SecretAccessKey"}],"Policies":[{"PolicyName","PolicyDocument"}]}]}).
 * Everything is checked first: on error nothing changes.  Returns 0, or -1
 * with a message naming the user and policy at fault. */
int api_iam_load_file(struct api_ctx *ctx, const char *text, size_t len, struct err *e);
/* The Auto Scaling action row for name, or NULL. */
const struct api_action *api_as_find(const char *name);

/* ---- Auto Scaling groups and their instances (api_autoscaling.c) ----
 *
 * A group reaches its desired capacity by launching and terminating
 * instances through the infrastructure driver.  The group logic creates an
 * instance (LifecycleState Pending) and calls launch; the driver boots it
 * and reports InService with api_as_instance_state.  For scale-in the
 * instance goes Terminating and terminate is called; the driver reports
 * Terminated, which removes the instance from its group (and frees it: a
 * driver must not touch it afterwards).  Either report may come within
 * the call or at a later loop turn. */
struct infra_ops {
	const char *name;
	void (*launch)(struct api_ctx *ctx, struct as_group *g, struct as_instance *inst);
	void (*terminate)(struct api_ctx *ctx, struct as_group *g, struct as_instance *inst);
	/* A deadline the driver set with api_infra_due came (NULL: it sets none). */
	void (*step)(struct api_ctx *ctx, struct as_group *g, struct as_instance *inst);
};

/* The driver's next step for inst at `at` (0: none). */
void api_infra_due(struct api_ctx *ctx, struct as_instance *inst, int64_t at);
/* Run the instances' due steps; the next deadline, or 0 (api_cas.c). */
int64_t api_infra_advance(struct api_ctx *ctx);
/* Managed scaling: evaluate every (cluster, provider) once a period; the
 * next evaluation's time (api_cas.c). */
int64_t api_cas_advance(struct api_ctx *ctx);

/* The group a reference names in ctx->region: a name, or an Auto Scaling
 * group ARN (found by the name in it, as capacity providers refer to
 * groups), or NULL.  A group being deleted is returned too (g->deleting). */
struct as_group *api_as_group_find(struct api_ctx *ctx, const char *ref);
/* Set g's desired capacity as SetDesiredCapacity does: -1 with a
 * ValidationError outside [MinSize, MaxSize] (nothing changed), else the
 * group launches or terminates instances toward it (unprotected ones
 * only on scale-in). */
int api_as_set_desired(struct api_ctx *ctx, struct as_group *g, int desired, struct err *e);
/* Set or clear an instance's scale-in protection (ProtectedFromScaleIn).
 * Clearing it may let a group above its desired capacity terminate it. */
void api_as_set_protection(struct api_ctx *ctx, struct as_instance *inst, bool protect);
/* g's instances in launch order (any LifecycleState; Terminated ones have
 * left); the array is g's, valid until the group changes. */
struct as_instance *const *api_as_instances(const struct as_group *g, size_t *n);
/* The driver's report: inst reached LifecycleState state (enum
 * as_lifecycle).  InService completes its launch activity; Terminated
 * completes its termination and removes and frees it (a loss the group
 * did not ask for is replaced). */
void api_as_instance_state(struct api_ctx *ctx, struct as_instance *inst, int state);
/* Launch or terminate instances so that g has its desired capacity. */
void api_as_reconcile(struct api_ctx *ctx, struct as_group *g);
/* The ECS-managed target-tracking policy of (cluster, provider) on g
 * ("ECSManagedAutoScalingPolicy-<uuid>", metric CapacityProviderReservation,
 * target, warm-up in seconds): created, or updated if it exists. */
struct as_policy *api_as_put_managed_policy(struct api_ctx *ctx, struct as_group *g, const char *cluster,
					    const char *provider, int target, int warmup);
/* That policy, or NULL. */
struct as_policy *api_as_find_managed_policy(struct api_ctx *ctx, struct as_group *g, const char *cluster,
					     const char *provider);
/* Delete g's policy called name; -1 if it has none. */
int api_as_delete_policy(struct api_ctx *ctx, struct as_group *g, const char *name);

/* Complete due transitions (PROVISIONING -> ACTIVE, UPDATE_IN_PROGRESS ->
 * UPDATE_COMPLETE, deletions) and purge INACTIVE resources whose retention
 * ran out.  Returns the time of the next pending deadline, or 0. */
int64_t api_advance(struct api_ctx *ctx);

/* ---- helpers shared by the handlers (api_util.c) ---- */

/* Member of in, treating JSON null as absent. */
const cJSON *api_get(const cJSON *in, const char *name);
/* String member or NULL. */
const char *api_str(const cJSON *in, const char *name);
/* Integer member, or dflt when absent. */
int api_int(const cJSON *in, const char *name, int dflt);
/* "ENABLED"/"DISABLED" member as a bool, or dflt when absent. */
bool api_enabled(const cJSON *in, const char *name, bool dflt);

/* The cluster a reference (name, ARN of this region, NULL for "default")
 * names, or NULL. */
struct cluster *api_cluster_find(struct api_ctx *ctx, const char *ref);
/* Resolve a cluster reference (name, ARN, or NULL for "default") in the
 * request's region.  With use set, a missing "default" cluster is created,
 * as ECS does on first use.  Fails with ClusterNotFoundException. */
int api_cluster_lookup(struct api_ctx *ctx, const char *ref, bool use, struct cluster **out,
		       struct err *e);
/* Fails with "The specified cluster is inactive..." unless c is usable. */
int api_cluster_require_active(const struct cluster *c, struct err *e);
/* The name part of an ECS ARN of the given resource type ("cluster"), or ref
 * itself if it is not an ARN.  Writes into buf. */
const char *api_ref_name(const char *ref, const char *type, char *buf, size_t len);
/* 1-255 letters, digits, hyphens and underscores. */
bool api_valid_name(const char *s);

/* Task definitions, container instances: shared lookups (api_taskdef.c,
 * api_instance.c). */
struct cql_subject;
int api_td_resolve(struct api_ctx *ctx, const char *ref, struct task_def **out, struct err *e);
int api_ci_lookup(struct api_ctx *ctx, struct cluster *c, const char *ref, struct container_instance **out);
void api_ci_subject(const struct container_instance *ci, struct cql_subject *s);

/* A clientToken: 1 to max ASCII characters from 33 to 126. */
bool api_client_token_ok(const char *s, size_t max);

/* A failures[] entry {arn, reason}: ref itself when it is an ARN, else the
 * ARN of resource `prefix` + ref in the request's region ("cluster/",
 * "task/CLUSTER/" ...). */
cJSON *api_failure(struct api_ctx *ctx, const char *prefix, const char *ref, const char *reason);

/* Tags: validate a request's tags list (limits, reserved prefix). */
int api_tags_check(const cJSON *tags, size_t existing_other, struct err *e);

/* Opaque pagination tokens: encode/decode a resume key. */
char *api_token_encode(const char *kind, const char *key);
/* Returns a heap key, or NULL (with e) if the token is not one of ours. */
char *api_token_decode(const char *kind, const char *token, struct err *e);

/* Check a strategy (JSON list) with the core rules against the providers
 * in names[0..n) of region r.  use is a SCHED_USE_* value. */
int api_strategy_check(struct api_ctx *ctx, const cJSON *strategy, char *const *names, size_t n,
		       int use, bool launch_type_given, struct err *e);

/* Handlers, one file a resource. */
int api_create_cluster(struct api_ctx *, const cJSON *, cJSON **, struct err *);
int api_describe_clusters(struct api_ctx *, const cJSON *, cJSON **, struct err *);
int api_list_clusters(struct api_ctx *, const cJSON *, cJSON **, struct err *);
int api_delete_cluster(struct api_ctx *, const cJSON *, cJSON **, struct err *);
int api_update_cluster(struct api_ctx *, const cJSON *, cJSON **, struct err *);
int api_update_cluster_settings(struct api_ctx *, const cJSON *, cJSON **, struct err *);
int api_put_cluster_capacity_providers(struct api_ctx *, const cJSON *, cJSON **, struct err *);
int api_create_capacity_provider(struct api_ctx *, const cJSON *, cJSON **, struct err *);
int api_describe_capacity_providers(struct api_ctx *, const cJSON *, cJSON **, struct err *);
int api_update_capacity_provider(struct api_ctx *, const cJSON *, cJSON **, struct err *);
int api_delete_capacity_provider(struct api_ctx *, const cJSON *, cJSON **, struct err *);
int api_tag_resource(struct api_ctx *, const cJSON *, cJSON **, struct err *);
int api_untag_resource(struct api_ctx *, const cJSON *, cJSON **, struct err *);
int api_list_tags_for_resource(struct api_ctx *, const cJSON *, cJSON **, struct err *);
int api_register_task_definition(struct api_ctx *, const cJSON *, cJSON **, struct err *);
int api_describe_task_definition(struct api_ctx *, const cJSON *, cJSON **, struct err *);
int api_list_task_definitions(struct api_ctx *, const cJSON *, cJSON **, struct err *);
int api_list_task_definition_families(struct api_ctx *, const cJSON *, cJSON **, struct err *);
int api_deregister_task_definition(struct api_ctx *, const cJSON *, cJSON **, struct err *);
int api_delete_task_definitions(struct api_ctx *, const cJSON *, cJSON **, struct err *);
int api_register_container_instance(struct api_ctx *, const cJSON *, cJSON **, struct err *);
int api_deregister_container_instance(struct api_ctx *, const cJSON *, cJSON **, struct err *);
int api_describe_container_instances(struct api_ctx *, const cJSON *, cJSON **, struct err *);
int api_list_container_instances(struct api_ctx *, const cJSON *, cJSON **, struct err *);
int api_update_container_instances_state(struct api_ctx *, const cJSON *, cJSON **, struct err *);
int api_put_attributes(struct api_ctx *, const cJSON *, cJSON **, struct err *);
int api_delete_attributes(struct api_ctx *, const cJSON *, cJSON **, struct err *);
int api_list_attributes(struct api_ctx *, const cJSON *, cJSON **, struct err *);
int api_run_task(struct api_ctx *, const cJSON *, cJSON **, struct err *);
int api_start_task(struct api_ctx *, const cJSON *, cJSON **, struct err *);
int api_stop_task(struct api_ctx *, const cJSON *, cJSON **, struct err *);
int api_submit_task_state_change(struct api_ctx *, const cJSON *, cJSON **, struct err *);
int api_submit_container_state_change(struct api_ctx *, const cJSON *, cJSON **, struct err *);
int api_describe_tasks(struct api_ctx *, const cJSON *, cJSON **, struct err *);
int api_list_tasks(struct api_ctx *, const cJSON *, cJSON **, struct err *);
int api_create_service(struct api_ctx *, const cJSON *, cJSON **, struct err *);
int api_update_service(struct api_ctx *, const cJSON *, cJSON **, struct err *);
int api_delete_service(struct api_ctx *, const cJSON *, cJSON **, struct err *);
int api_describe_services(struct api_ctx *, const cJSON *, cJSON **, struct err *);
int api_list_services(struct api_ctx *, const cJSON *, cJSON **, struct err *);
int api_list_services_by_namespace(struct api_ctx *, const cJSON *, cJSON **, struct err *);
int api_update_task_protection(struct api_ctx *, const cJSON *, cJSON **, struct err *);
int api_get_task_protection(struct api_ctx *, const cJSON *, cJSON **, struct err *);

/* A provider's settings changed: the attachments of the clusters that use
 * it follow (a scaling policy with managed scaling, a lifecycle hook with
 * managed draining), and those clusters go UPDATE_IN_PROGRESS. */
void api_cluster_cp_changed(struct api_ctx *ctx, struct region *r, const char *cp_name);

/* Services: scheduler passes for the services that asked for one, due
 * ones and those waiting for capacity (api_svcctl.c); after a load, tasks
 * rejoin their services; an instance that changes state (DRAINING) sends
 * the services of its tasks, and DAEMON services, a pass. */
int64_t api_svc_advance(struct api_ctx *ctx);
void api_svc_loaded(struct api_ctx *ctx);
void api_svc_instance_changed(struct api_ctx *ctx, struct container_instance *ci);

/* A Service Connect namespace (a name or an ARN) as the ARN Berth keeps. */
char *api_namespace_arn(struct api_ctx *ctx, const char *ns);

/* berth-agent (api_agent.c, docs/agent-protocol.md). */
#define API_AGENT_PROTOCOL 1
int api_agent_poll(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e);
/* What t's agent should run changed (placed, or to stop): wake its poll. */
void api_agent_task_changed(struct api_ctx *ctx, struct task *t);
/* Does a berth-agent run t (its instance's, or its own for a Fargate task
 * under --fargate process), rather than the simulation? */
bool api_task_on_agent(const struct api_ctx *ctx, const struct task *t);
/* The work_gen of an instance, UINT64_MAX when it is gone. */
uint64_t api_agent_work_gen(struct api_ctx *ctx, const char *region, const char *cluster, const char *ci_id);
/* Mark instances whose agent stopped polling disconnected; the next deadline. */
int64_t api_agent_advance(struct api_ctx *ctx, struct region *r);

/* Tasks on an instance that goes away (forced deregistration): they stop
 * with reason (api_task.c). */
void api_tasks_instance_gone(struct api_ctx *ctx, struct container_instance *ci, const char *reason);

/* The task lifecycle, for drivers and handlers (api_task.c). */
void api_task_due(struct api_ctx *ctx, struct task *t, int64_t at);
/* Move lastStatus forward to s, with its timestamps and counters; at
 * STOPPED the task's resources are released. */
void api_task_progress(struct api_ctx *ctx, struct task *t, int s);
/* Container i's health checks report health (TASK_HEALTHY, TASK_UNHEALTHY). */
void api_task_container_health(struct api_ctx *ctx, struct task *t, size_t i, int health);
/* Container i exited; an essential one stops the task. */
void api_task_container_exited(struct api_ctx *ctx, struct task *t, size_t i, int code,
			       const char *reason);
/* desiredStatus STOPPED with a stopCode (enum task_stop_code) and reason. */
void api_task_stop(struct api_ctx *ctx, struct task *t, int code, const char *reason);
/* A Spot task's warning ran out: its stopCode becomes SpotInterruption. */
void api_task_interrupted(struct api_ctx *ctx, struct task *t);
/* After a load: recompute what is not stored (counters, held resources). */
void api_loaded(struct api_ctx *ctx);

/* Lifecycle steps of each resource, called by api_advance. */
int64_t api_td_advance(struct api_ctx *ctx, struct region *r);
int64_t api_ci_advance(struct api_ctx *ctx, struct region *r);
int64_t api_task_advance(struct api_ctx *ctx);
int64_t api_cluster_advance(struct api_ctx *ctx, struct region *r);
int64_t api_cp_advance(struct api_ctx *ctx, struct region *r);

#endif
