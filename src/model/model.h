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

#include "lib/sidx.h"

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

struct region {
	char *name;
	struct sidx clusters;      /* by name */
	struct sidx cps;           /* by name; FARGATE and FARGATE_SPOT are not stored */
	bool default_created;      /* the default cluster was made on first use */
	bool dirty;
};

enum model_kind { MODEL_REGION, MODEL_CLUSTER, MODEL_CP };

/* An entry of the dirty set: an object to write, or an id to delete. */
struct model_change {
	enum model_kind kind;
	void *obj;                 /* NULL for a deletion */
	char *del_id;              /* heap, for deletions */
};

struct model {
	char *account;
	char *partition;
	struct sidx regions;
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

/* ARNs. Results are heap strings. */
char *model_arn(const struct model *m, const char *region, const char *resource);

#endif
