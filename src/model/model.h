/* model: the ECS resources Berth keeps, as C structs, and their indexes.
 *
 * Everything lives in memory and is owned by the model: each object belongs
 * to exactly one index (a region's sidx), and is freed only by the model.
 * Every resource is region-scoped, so the model is a set of regions, each
 * with its own indexes.  Changes are recorded by marking objects dirty; the
 * server turns the dirty set into store records at the end of a loop turn
 * (see model_take_dirty), so nothing here does I/O. */
#ifndef BERTH_MODEL_MODEL_H
#define BERTH_MODEL_MODEL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/hmap.h"
#include "lib/sidx.h"
#include "model/model_as.h"
#include "model/model_iam.h"

struct kv {
	char *key;
	char *value;
};

/* An ordered list of key/value pairs: tags, attachment details. */
struct kvlist {
	struct kv *v;
	size_t n;
};

void kvlist_release(struct kvlist *l);
/* Set key (replace the value if present, else append). Copies both. */
void kvlist_set(struct kvlist *l, const char *key, const char *value);
/* Remove key if present; returns 1 if removed. */
int kvlist_del(struct kvlist *l, const char *key);
const char *kvlist_get(const struct kvlist *l, const char *key);
void kvlist_copy(struct kvlist *dst, const struct kvlist *src);

/* One item of a capacity provider strategy as stored. */
struct strategy_entry {
	char *provider;
	int weight;
	int base;
};

struct strategy {
	struct strategy_entry *v;
	size_t n;
};

void strategy_release(struct strategy *s);
void strategy_copy(struct strategy *dst, const struct strategy *src);
bool strategy_equal(const struct strategy *a, const struct strategy *b);

enum cluster_status {
	CLUSTER_ACTIVE,
	CLUSTER_PROVISIONING,
	CLUSTER_DEPROVISIONING,
	CLUSTER_FAILED,
	CLUSTER_INACTIVE,
};
const char *cluster_status_name(enum cluster_status s);
int cluster_status_parse(const char *s);

/* Cluster attachments: the resources ECS keeps for an associated capacity
 * provider (a scaling policy, a draining lifecycle hook). */
struct attachment {
	char id[37];
	char *type;      /* as_policy | managed_draining */
	char *status;    /* PRECREATED | CREATED | DELETING ... */
	struct kvlist details;
};

/* Tasks of a cluster in creation order (seq), for pagination that resumes
 * in O(log n) and costs nothing per task that is not on the page.  Removal
 * leaves a hole (NULL) that a later append compacts away. */
struct task;
struct model;
struct task_list {
	struct task **v;
	size_t n, cap, live;
};

struct cluster {
	char *region;
	char *name;
	char *arn;
	enum cluster_status status;
	char *insights;            /* settings containerInsights value */
	cJSON *configuration;      /* validated CreateCluster configuration, or NULL */
	char *sc_namespace;        /* serviceConnectDefaults.namespace, or NULL */
	char **cps;                /* associated capacity provider names */
	size_t n_cps;
	struct strategy default_strategy;
	struct kvlist tags;
	struct attachment *att;
	size_t n_att;
	char *att_status;          /* attachmentsStatus, or NULL when never set */
	char *create_args;         /* canonical CreateCluster arguments, for idempotency */
	int64_t created_at;        /* ms since epoch */
	int64_t deleted_at;        /* when it went INACTIVE, 0 if never */
	int64_t transition_at;     /* when a pending transition completes, 0 if none */
	/* Counters kept exact by the resources that change them. */
	long registered_instances;
	long running_tasks, pending_tasks, active_services;
	long running_ec2, running_fargate, pending_ec2, pending_fargate;
	long active_ec2_services, active_fargate_services;
	long draining_ec2_services, draining_fargate_services;
	long live_tasks;           /* tasks not yet STOPPED (the deletion guard) */
	long waiting_tasks;        /* PROVISIONING tasks waiting for capacity */
	uint64_t placed_gen;       /* capacity_gen when waiting tasks last looked */
	struct sidx instances;     /* container instances by id (all statuses) */
	struct sidx services;      /* services by name (all statuses; a new one replaces an INACTIVE one) */
	struct task_list active;   /* tasks with desiredStatus RUNNING, in creation order */
	struct task_list stopped;  /* tasks with desiredStatus STOPPED, in creation order */
	bool dirty;
};

enum cp_status { CP_ACTIVE, CP_PROVISIONING, CP_DEPROVISIONING, CP_INACTIVE };
const char *cp_status_name(enum cp_status s);
int cp_status_parse(const char *s);

/* Values of CapacityProviderUpdateStatus; CP_UPD_NONE means "absent". */
enum cp_update {
	CP_UPD_NONE,
	CP_UPD_CREATE_IN_PROGRESS,
	CP_UPD_CREATE_COMPLETE,
	CP_UPD_CREATE_FAILED,
	CP_UPD_DELETE_IN_PROGRESS,
	CP_UPD_DELETE_COMPLETE,
	CP_UPD_DELETE_FAILED,
	CP_UPD_UPDATE_IN_PROGRESS,
	CP_UPD_UPDATE_COMPLETE,
	CP_UPD_UPDATE_FAILED,
};
const char *cp_update_name(enum cp_update u);
int cp_update_parse(const char *s);

enum cp_type { CP_TYPE_EC2_AUTOSCALING, CP_TYPE_FARGATE, CP_TYPE_FARGATE_SPOT };
const char *cp_type_name(enum cp_type t);

struct managed_scaling {
	bool enabled;
	int target_capacity;       /* 1-100, default 100 */
	int min_step;              /* 1-10000, default 1 */
	int max_step;              /* 1-10000, default 10000 */
	int warmup;                /* 0-10000 s, default 300 */
};

struct asg_settings {
	struct managed_scaling ms;
	bool termination_protection;
	bool draining;
};

struct capacity_provider {
	char *region;
	char *name;
	char *arn;
	enum cp_type type;
	enum cp_status status;
	char *asg_arn;             /* as the user gave it: ARN or group name */
	char *asg_name;            /* the group name, for the one-provider-per-group rule */
	struct asg_settings cur;
	bool has_pending;          /* an UpdateCapacityProvider not yet applied */
	struct asg_settings pending;
	enum cp_update update;
	char *update_reason;
	struct kvlist tags;
	int64_t created_at;
	int64_t deleted_at;
	int64_t transition_at;
	bool dirty;
};


/* ---- task definitions ---- */

enum td_status { TD_ACTIVE, TD_INACTIVE, TD_DELETE_IN_PROGRESS };
const char *td_status_name(enum td_status s);

enum { TD_COMPAT_EC2 = 1, TD_COMPAT_FARGATE = 2, TD_COMPAT_EXTERNAL = 4, TD_COMPAT_MANAGED = 8 };

struct td_port {
	int container_port;
	int host_port;              /* 0: dynamic (bridge) */
	bool udp;
};

/* What the scheduler and the sim driver need of a container definition;
 * the full definition stays in task_def.body. */
struct td_container {
	char *name;
	bool essential;
	int cpu, memory, memory_reservation;    /* 0 when absent */
	struct td_port *ports;
	size_t n_ports;
	int64_t sim_runtime_ms;     /* dockerLabels berth.sim.runtime; -1: until stopped */
	int sim_exit_code;          /* dockerLabels berth.sim.exit-code; default 0 */
	int stop_timeout;           /* seconds; 0: the default */
	bool health_check;          /* it has a healthCheck */
	int64_t health_after_ms;    /* sim: its first check's result, this long after RUNNING */
	uint8_t sim_health;         /* sim: that result, TASK_HEALTHY or TASK_UNHEALTHY (berth.sim.health) */
};

struct task_def {
	char *region;
	char *family;
	int revision;
	char *arn;
	enum td_status status;
	/* The taskDefinition object as DescribeTaskDefinition answers it, minus
	 * status, deregisteredAt and deleteRequestedAt (which change). */
	cJSON *body;
	int cpu, memory;            /* task level, 0 when absent */
	unsigned compat;            /* TD_COMPAT_* of compatibilities (as ECS computes them) */
	char *network_mode;         /* bridge | host | awsvpc | none */
	struct td_container *containers;
	size_t n_containers;
	char **constraints;         /* memberOf expressions of placementConstraints */
	size_t n_constraints;
	struct kvlist tags;
	int64_t registered_at;
	int64_t deregistered_at;    /* 0 while ACTIVE */
	int64_t delete_requested_at;
	long tasks;                 /* tasks that reference it, any status */
	bool dirty;
};

/* A family: its revisions by number (revs[i] is revision i + 1, NULL once
 * deleted); revision numbers are never reused. */
struct td_family {
	char *region;
	char *name;
	struct task_def **revs;
	size_t n;
	long active;                /* ACTIVE revisions */
	int last;                   /* the highest revision ever given (stored, so never reused) */
	bool dirty;
};

/* ---- container instances ---- */

enum ci_status {
	CI_ACTIVE, CI_DRAINING, CI_REGISTERING, CI_DEREGISTERING, CI_REGISTRATION_FAILED, CI_INACTIVE,
};
const char *ci_status_name(enum ci_status s);
int ci_status_parse(const char *s);

/* A set of host ports, kept sorted (TCP and UDP are separate sets). */
struct portset {
	int *v;
	size_t n;
};
bool portset_has(const struct portset *p, int port);
void portset_add(struct portset *p, int port);
void portset_del(struct portset *p, int port);
void portset_release(struct portset *p);

struct container_instance {
	char *region;
	char *cluster;              /* the cluster's name */
	char id[33];
	char *arn;
	char *ec2_id;               /* EC2 instance id, or the external host's id */
	char *instance_type;
	char *zone;
	char *cp_name;              /* capacity provider, or NULL */
	enum ci_status status;
	char *status_reason;
	bool agent_connected;
	bool external;              /* EXTERNAL (ecs.capability.external) */
	int reg_cpu, reg_mem;       /* registered CPU units and MiB */
	int used_cpu, used_mem;     /* held by tasks from placement until STOPPED */
	struct portset reg_ports, reg_udp;     /* reserved at registration */
	struct portset used_ports, used_udp;   /* host ports held by tasks */
	struct kvlist attributes;   /* value "" means a name-only attribute */
	cJSON *version_info;        /* {agentVersion, agentHash, dockerVersion} or NULL */
	struct kvlist tags;
	long running_tasks;         /* tasks here with lastStatus RUNNING */
	long pending_tasks;         /* tasks here with lastStatus PENDING */
	struct task **here;         /* tasks placed here and not yet STOPPED, any order */
	size_t n_here, cap_here;
	struct sidx groups;         /* task group (interned) -> how many of here are in it */
	long version;               /* bumps on every change */
	int64_t registered_at;
	int64_t deregistered_at;
	int64_t last_seen;          /* the agent's last call (ms), for liveness */
	int64_t lost_at;            /* when agentConnected went false (ms), 0 while connected */
	bool agent;                 /* berth-agent runs its tasks (versionInfo.agentVersion berth-agent/...) */
	uint64_t work_gen;          /* bumps when what its agent should run changes */
	char *owner;                /* the IAM user ARN that registered it, or NULL (root, --auth open) */
	long tasks;                 /* tasks that reference it, any status */
	bool dirty;
};

/* ---- services ---- */

enum svc_status { SVC_ACTIVE, SVC_DRAINING, SVC_INACTIVE };
const char *svc_status_name(int s);

/* Deployment.rolloutState, the values of enum sched_service_rollout. */
enum { DEP_IN_PROGRESS, DEP_COMPLETED, DEP_FAILED };
const char *dep_rollout_name(int s);
int dep_rollout_parse(const char *s);

#define SVC_EVENTS_MAX 100

struct svc_event {
	char id[37];
	int64_t at;
	char *msg;
};

/* One deployment: what its tasks run (ECS-SEMANTICS §6.2). */
struct deployment {
	char id[28];                /* "ecs-svc/" and 19 digits */
	const char *iid;            /* the same, interned: its tasks' startedBy */
	struct task_def *td;        /* counted in td->tasks */
	int launch_type;            /* enum launch_type, or -1 with a strategy */
	struct strategy strategy;
	char *platform_version;     /* or NULL */
	cJSON *network;             /* networkConfiguration, or NULL */
	cJSON *sc;                  /* serviceConnectConfiguration as used, or NULL */
	int rollout;                /* DEP_* */
	char *rollout_reason;
	unsigned long failed_tasks;
	int64_t created_at, updated_at;
};

struct service {
	char *region;
	struct cluster *cluster;    /* owner */
	char *name;
	char *arn;
	int status;                 /* enum svc_status */
	bool daemon;                /* schedulingStrategy DAEMON */
	long desired;
	int launch_type;            /* enum launch_type, or -1 with a strategy */
	struct strategy strategy;
	char *platform_version;
	int max_percent, min_healthy;
	bool cb_enable, cb_rollback;
	cJSON *deploy_config;       /* deploymentConfiguration as answered (defaults filled) */
	cJSON *constraints;         /* placementConstraints, [] when none */
	cJSON *strategies;          /* placementStrategy, [] when none */
	cJSON *network;             /* networkConfiguration, or NULL */
	cJSON *extra;               /* members kept and echoed as given (loadBalancers, ...) */
	char *sc_namespace;         /* Service Connect namespace in use, or NULL */
	char *propagate_tags;       /* NONE | SERVICE | TASK_DEFINITION */
	bool managed_tags, exec_command;
	char *client_token;         /* CreateService clientToken, or NULL */
	char *create_args;          /* canonical CreateService arguments, for idempotency */
	struct kvlist tags;
	struct deployment *deps;    /* oldest first */
	size_t n_deps;
	size_t primary;             /* index of the PRIMARY one */
	struct svc_event *events;   /* newest first, at most SVC_EVENTS_MAX */
	size_t n_events;
	int64_t created_at, deleted_at;
	bool was_steady;
	/* Not stored: rebuilt on load. */
	bool in_pass;               /* a scheduler pass is applying its actions */
	struct task **tasks;        /* its tasks not yet STOPPED, any order */
	size_t n_tasks, cap_tasks;
	bool queued;                /* in the model's queue for a scheduler pass */
	uint64_t placed_gen;        /* capacity_gen when a start could not be placed, 0 if none */
	int64_t due;                /* a pass due then (a task turning healthy), 0 if none */
	bool dirty;
};

/* ---- managed scaling (cluster auto scaling) ---- */

/* One evaluation of a (cluster, provider), for the history users see. */
struct cas_sample {
	int64_t at;
	double cpr;                 /* CapacityProviderReservation */
	long m, n;
	long desired, in_service;   /* the group after the evaluation */
	int decision;               /* enum scaling_cas_decision */
};

#define CAS_HISTORY 1024

/* What the controller keeps between evaluations of a (cluster, provider):
 * the alarm streaks and the last CAS_HISTORY samples (a ring). */
struct cas_state {
	char *key;                  /* its index key */
	char *cluster, *provider;
	unsigned long high_streak, low_streak;
	struct cas_sample *ring;    /* CAS_HISTORY entries */
	size_t head, n;             /* the next slot, how many are kept */
};

struct cas_state *model_cas_state(struct region *r, const char *cluster, const char *provider);
struct cas_state *model_cas_state_find(const struct region *r, const char *cluster, const char *provider);
void model_cas_sample(struct cas_state *st, const struct cas_sample *s);
/* The i-th newest sample (0: the last), i < st->n. */
const struct cas_sample *model_cas_sample_at(const struct cas_state *st, size_t i);

/* ---- tasks ---- */

enum task_status {
	TS_PROVISIONING, TS_PENDING, TS_ACTIVATING, TS_RUNNING,
	TS_DEACTIVATING, TS_STOPPING, TS_DEPROVISIONING, TS_STOPPED,
};
const char *task_status_name(enum task_status s);
int task_status_parse(const char *s);

enum task_stop_code {
	STOP_NONE, STOP_TASK_FAILED_TO_START, STOP_ESSENTIAL_CONTAINER_EXITED, STOP_USER_INITIATED,
	STOP_SERVICE_SCHEDULER_INITIATED, STOP_SPOT_INTERRUPTION, STOP_TERMINATION_NOTICE,
};
const char *task_stop_code_name(enum task_stop_code c);
int task_stop_code_parse(const char *s);

enum launch_type { LT_EC2, LT_FARGATE, LT_EXTERNAL, LT_MANAGED_INSTANCES };
const char *launch_type_name(enum launch_type t);
int launch_type_parse(const char *s);

#define TASK_NO_EXIT INT32_MIN

/* healthStatus of a container (and of a task). */
enum { TASK_HEALTH_UNKNOWN, TASK_HEALTHY, TASK_UNHEALTHY };
const char *task_health_name(int h);

struct task_container {
	uint8_t status;             /* enum task_status: PENDING, RUNNING or STOPPED */
	uint8_t health;             /* TASK_HEALTH_UNKNOWN, TASK_HEALTHY, TASK_UNHEALTHY */
	int32_t exit_code;          /* TASK_NO_EXIT until it exits */
	uint8_t uuid[16];           /* the container ARN's last part */
	char *reason;               /* or NULL */
	int *host_ports;            /* one a port mapping of the definition (dynamic ones assigned) */
};

struct task {
	struct cluster *cluster;    /* owner: the cluster's lists and the region's map */
	char id[33];
	uint8_t last, desired;      /* enum task_status */
	uint8_t launch_type;        /* enum launch_type */
	uint8_t stop_code;          /* enum task_stop_code */
	uint32_t version;
	struct task_def *td;        /* counted in td->tasks */
	struct container_instance *ci;   /* counted in ci->tasks; NULL for Fargate */
	const char *cp_name;        /* interned, or NULL */
	const char *group;          /* interned */
	const char *started_by;     /* interned, or NULL */
	const char *zone;           /* interned, or NULL */
	const char *subnet;         /* interned, awsvpc tasks only */
	char *stopped_reason;
	cJSON *overrides;           /* as given, or NULL */
	cJSON *placement;           /* a waiting task's request placement, or NULL */
	struct kvlist tags;
	struct task_container *containers;   /* td->n_containers of them */
	int cpu, memory;            /* what the task holds (units, MiB) */
	int64_t created_at, pull_started_at, pull_stopped_at, started_at, connectivity_at;
	int64_t stopping_at, execution_stopped_at, stopped_at;
	int64_t due;                /* the next lifecycle step (ms), 0 if none */
	size_t heap_pos;            /* position in the model's due heap, or SIZE_MAX */
	size_t here_pos;            /* position in ci->here, or SIZE_MAX */
	uint64_t seq;               /* order in its cluster list: creation, then the stop */
	int64_t protect_until;      /* UpdateTaskProtection: protected until then (ms), 0 if not */
	struct service *svc;        /* the service that started it, until it is STOPPED */
	uint32_t svc_pos;           /* its place in svc->tasks */
	bool healthy;               /* a service task that has counted as healthy */
	bool dirty;
};

/* The task's healthStatus: UNHEALTHY if an essential container is,
 * HEALTHY if every container with a health check is, else UNKNOWN (and
 * UNKNOWN when no container has a check). */
int task_health(const struct task *t);
/* Some container of t's definition has a health check. */
bool task_has_health_check(const struct task *t);

/* The task's ARN "arn:aws:ecs:<region>:<account>:task/<cluster>/<id>" into buf. */
const char *task_arn(const struct model *m, const struct task *t, char *buf, size_t len);
/* The container's ARN likewise. */
const char *task_container_arn(const struct model *m, const struct task *t, size_t i, char *buf,
			       size_t len);

/* A RunTask clientToken and what the call answered, for idempotency. */
#define MODEL_RUN_TOKENS 4096
struct run_token {
	char *token;
	char *answer;               /* the JSON answer */
};

struct region {
	char *name;
	struct sidx clusters;      /* by name */
	struct sidx cps;           /* by name; FARGATE and FARGATE_SPOT are not stored */
	struct sidx families;      /* task definition families by name */
	struct hmap tasks;         /* every task of the region by id */
	struct sidx ec2_instances; /* container instances by ec2_id (not INACTIVE) */
	long fargate_live;         /* Fargate tasks placed and not yet STOPPED */
	long td_deleting;          /* task definitions DELETE_IN_PROGRESS (to purge) */
	struct sidx run_tokens;    /* RunTask clientTokens seen lately -> struct run_token */
	struct run_token **token_ring;   /* the same, oldest first, at most MODEL_RUN_TOKENS */
	size_t token_head, n_tokens;
	bool default_created;      /* the default cluster was made on first use */
	int64_t agent_due;         /* no agent can time out before this (ms); 0: look */
	/* Auto Scaling (model_as.h) */
	struct sidx as_lcs;        /* launch configurations by name */
	struct sidx as_groups;     /* Auto Scaling groups by name */
	struct sidx as_policies;   /* scaling policies by "<group>/<name>" */
	struct sidx as_instances;  /* every group's instances by instance id */
	struct sidx cas;           /* managed scaling state by "<cluster>,<provider>" (struct cas_state; not stored) */
	bool dirty;
};

enum model_kind {
	MODEL_REGION, MODEL_CLUSTER, MODEL_CP, MODEL_TASKDEF, MODEL_INSTANCE, MODEL_TASK, MODEL_FAMILY, MODEL_SERVICE,
	MODEL_AS_LC, MODEL_AS_GROUP, MODEL_AS_POLICY, MODEL_IAM_USER,
};

/* An entry of the dirty set: an object to write, or an id to delete. */
struct model_change {
	enum model_kind kind;
	void *obj;                 /* NULL for a deletion */
	char *del_id;              /* heap, for deletions */
};

/* The tasks with a lifecycle deadline, soonest first (an indexed binary
 * heap: each task knows its position, so it can be moved or removed). */
struct task_heap {
	struct task **v;
	size_t n, cap;
};

struct model {
	char *account;
	char *partition;
	struct sidx regions;
	struct task_heap due;
	struct sidx interned;      /* strings shared by many tasks (groups, zones) */
	uint64_t task_seq;
	uint64_t capacity_gen;     /* bumps whenever an instance changes */
	long waiting_tasks;        /* PROVISIONING tasks waiting for capacity, all clusters */
	struct service **svc_queue;  /* services waiting for a scheduler pass */
	size_t n_svc_queue, cap_svc_queue;
	int64_t svc_next_due;      /* the soonest service deadline, 0 if none (may be early) */
	uint64_t svc_gen;          /* capacity_gen when services last looked */
	int64_t cas_next_at;       /* the next managed scaling evaluation, 0: at once */
	int64_t infra_next_due;    /* the soonest Auto Scaling instance deadline, 0 if none (may be early) */
	long svc_watch;            /* services that watch capacity (DAEMON, or a start found no room); may be high */
	struct iam iam;            /* users, keys and policies (model_iam.h) */
	uint64_t agent_gen;        /* bumps with any instance's work_gen (parked agent polls look again) */
	uint64_t fargate_gen;      /* bumps when a Fargate task run by its own agent changes */
	struct model_change *changes;
	size_t n_changes, cap_changes;
};

void model_init(struct model *m, const char *account);
void model_release(struct model *m);

/* The region named name, created on first reference. */
struct region *model_region(struct model *m, const char *name);
/* The region or NULL, without creating it. */
struct region *model_region_find(const struct model *m, const char *name);

/* Record ids of objects: "<region>/<name>". Returned string is heap. */
char *model_record_id(const char *region, const char *name);

/* Mark objects changed: they are written at the end of the loop turn. */
void model_dirty_region(struct model *m, struct region *r);
void model_dirty_cluster(struct model *m, struct cluster *c);
void model_dirty_cp(struct model *m, struct capacity_provider *cp);

/* Hand the dirty set to the caller (who owns the array and the del_id
 * strings afterwards, and frees them with model_changes_free); object
 * pointers stay valid until the model changes again. */
struct model_change *model_take_dirty(struct model *m, size_t *n);
void model_changes_free(struct model_change *c, size_t n);
/* For the model's own files (model_as.c): append a change (obj, or a
 * deletion with a heap del_id), and drop a pending write of obj before it
 * is freed. */
void model_change_push(struct model *m, enum model_kind kind, void *obj, char *del_id);
void model_change_forget(struct model *m, void *obj);

/* Create and index a cluster (status ACTIVE, no settings). The caller fills
 * the rest.  An existing entry with the same name is freed first. */
struct cluster *model_cluster_new(struct model *m, struct region *r, const char *name, int64_t now);
struct cluster *model_cluster_find(const struct region *r, const char *name);
/* Remove from the index, free, and record the deletion. */
void model_cluster_purge(struct model *m, struct region *r, struct cluster *c);
void cluster_free(struct cluster *c);
void cluster_set_cps(struct cluster *c, char **names, size_t n);
bool cluster_has_cp(const struct cluster *c, const char *name);

struct capacity_provider *model_cp_new(struct model *m, struct region *r, const char *name, int64_t now);
struct capacity_provider *model_cp_find(const struct region *r, const char *name);
void model_cp_purge(struct model *m, struct region *r, struct capacity_provider *cp);
void cp_free(struct capacity_provider *cp);
/* FARGATE and FARGATE_SPOT exist in every region without being stored. */
bool cp_is_builtin(const char *name);

/* A shared, immortal copy of s (NULL for NULL). */
const char *model_intern(struct model *m, const char *s);

/* Task definitions.  model_td_add indexes td (its revision already set) in
 * its family, creating the family; model_td_purge removes and frees it. */
struct td_family *model_family(struct model *m, struct region *r, const char *name);
struct td_family *model_family_find(const struct region *r, const char *name);
void model_td_add(struct model *m, struct region *r, struct task_def *td);
struct task_def *model_td_find(const struct region *r, const char *family, int revision);
/* The latest ACTIVE revision of a family, or NULL. */
struct task_def *model_td_latest(const struct region *r, const char *family);
void model_td_purge(struct model *m, struct region *r, struct task_def *td);
void model_dirty_td(struct model *m, struct task_def *td);
void model_dirty_family(struct model *m, struct td_family *f);
void td_free(struct task_def *td);

/* Container instances, indexed in their cluster by id and in the region by
 * ec2_id while not INACTIVE. */
void model_ci_add(struct model *m, struct region *r, struct cluster *c, struct container_instance *ci);
struct container_instance *model_ci_find(const struct cluster *c, const char *id);
/* Take an INACTIVE instance out of the region's ec2 index (it stays in
 * its cluster for describe until purged). */
void model_ci_unindex(struct region *r, struct container_instance *ci);
/* Hold / release a place in ci->here (placement / STOPPED), counting the
 * task's group. */
void model_ci_attach_task(struct container_instance *ci, struct task *t);
void model_ci_detach_task(struct container_instance *ci, struct task *t);
/* Tasks of group (interned) in ci->here. */
unsigned model_ci_group_count(const struct container_instance *ci, const char *group);
void model_ci_purge(struct model *m, struct region *r, struct cluster *c, struct container_instance *ci);
/* Also bumps m->capacity_gen: tasks waiting for capacity look again. */
void model_dirty_ci(struct model *m, struct container_instance *ci);
/* What tasks hold on ci changed (not stored: a load recomputes it): its
 * version and m->capacity_gen move, no record is written. */
void model_touch_ci(struct model *m, struct container_instance *ci);
/* Does berth-agent run ci's tasks?  Its versionInfo.agentVersion says
 * "berth-agent/VERSION (protocol N)". */
#define MODEL_AGENT_VERSION_PREFIX "berth-agent/"
bool ci_is_berth_agent(const struct container_instance *ci);
void ci_free(struct container_instance *ci);

/* Tasks.  model_task_add indexes a new task (seq assigned) in its cluster
 * and region and counts its references; model_task_purge undoes it all. */
void model_task_add(struct model *m, struct region *r, struct task *t);
struct task *model_task_find(const struct region *r, const char *id);
void model_task_purge(struct model *m, struct region *r, struct task *t);
void model_dirty_task(struct model *m, struct task *t);
void task_free(struct task *t);
/* Move a task from the cluster's active list to its stopped list (on
 * desiredStatus STOPPED), with a new seq: each list is in seq order, which
 * its binary searches rely on (and loads must keep: add tasks in seq
 * order). */
void model_task_desire_stop(struct model *m, struct task *t);
/* Schedule (at > 0) or cancel (at == 0) the task's next lifecycle step. */
void model_task_due(struct model *m, struct task *t, int64_t at);
/* The task with the soonest step, or NULL. */
struct task *model_task_next_due(const struct model *m);

/* Services, indexed in their cluster by name.  model_svc_new replaces an
 * INACTIVE service of the same name (its record is overwritten). */
struct service *model_svc_new(struct model *m, struct cluster *c, const char *name, int64_t now);
struct service *model_svc_find(const struct cluster *c, const char *name);
void model_svc_purge(struct model *m, struct service *s);
void model_dirty_svc(struct model *m, struct service *s);
void svc_free(struct service *s);
/* Link t to s (t->svc) / unlink it (at STOPPED, or when s goes). */
void model_svc_attach_task(struct service *s, struct task *t);
void model_svc_detach_task(struct task *t);
/* Ask for a scheduler pass of s (once until it is taken). */
void model_svc_queue(struct model *m, struct service *s);
/* Take the queue: the caller owns the array (n entries, each queued flag cleared). */
struct service **model_svc_take_queue(struct model *m, size_t *n);
/* Deployments: add one (PRIMARY or not is the caller's), drop one. */
struct deployment *model_dep_add(struct model *m, struct service *s);
void model_dep_remove(struct service *s, size_t i);
void dep_release(struct deployment *d);
/* Add an event (newest first; the oldest beyond SVC_EVENTS_MAX goes). */
void model_svc_event(struct service *s, const char *id, int64_t at, const char *msg);

/* RunTask idempotency: the answer given to token, or NULL; remember one
 * (the oldest is forgotten past MODEL_RUN_TOKENS; not stored). */
const char *model_run_token_get(const struct region *r, const char *token);
void model_run_token_put(struct region *r, const char *token, const char *answer);

void task_list_push(struct task_list *l, struct task *t);
void task_list_remove(struct task_list *l, struct task *t);
/* Index of the first entry with seq > after (0 for after == 0). */
size_t task_list_after(const struct task_list *l, uint64_t after);
void task_list_release(struct task_list *l);

/* ARNs. Results are heap strings. */
char *model_arn(const struct model *m, const char *region, const char *resource);

#endif
