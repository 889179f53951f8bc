/* model_as: the Auto Scaling resources Berth keeps: launch configurations,
 * Auto Scaling groups with their instances and scaling activities, and
 * scaling policies.
 *
 * Like the ECS resources they are region-scoped and owned by the region's
 * indexes (struct region: as_lcs, as_groups, as_policies by name; and
 * as_instances, every group's instances by instance id, for the actions
 * that name an instance without its group).  An instance belongs to its
 * group (g->inst) and lives exactly as long as it is in it: it leaves when
 * it reaches Terminated.  A group's record carries its instances and its
 * recent activities, so one record restores a group whole.
 *
 * Policies are indexed by "<group>/<name>" (names are unique per group). */
#ifndef BERTH_MODEL_MODEL_AS_H
#define BERTH_MODEL_MODEL_AS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct model;
struct region;

struct as_launch_config {
	char *region;
	char *name;
	char *arn;
	char *image_id;
	char *instance_type;
	/* The request's other members as given (KeyName, SecurityGroups,
	 * UserData, BlockDeviceMappings, InstanceMonitoring ...), answered back
	 * as they came; never NULL. */
	cJSON *body;
	int64_t created_at;
	bool dirty;
};

/* LifecycleState values Berth uses. */
enum as_lifecycle { AS_PENDING, AS_IN_SERVICE, AS_TERMINATING, AS_TERMINATED };
const char *as_lifecycle_name(int s);
int as_lifecycle_parse(const char *s);

struct as_group;

struct as_instance {
	char id[20];                /* "i-" and 17 hex digits */
	struct as_group *group;     /* owner */
	char *zone;
	char *instance_type;
	char *launch_config;        /* the configuration it was launched from, or NULL */
	uint8_t lifecycle;          /* enum as_lifecycle */
	bool protect;               /* ProtectedFromScaleIn */
	bool healthy;               /* HealthStatus Healthy / Unhealthy */
	uint64_t seq;               /* launch order in its group: lower is older */
	int64_t launched_at;
	int64_t due;                /* the infrastructure driver's next step for it (ms), 0 if none */
	char activity[37];          /* its launch or termination activity in progress, "" if none */
};

struct as_tag {
	char *key;
	char *value;
	bool propagate;             /* PropagateAtLaunch */
};

/* Activities kept per group, newest first; older ones are forgotten. */
#define AS_ACTIVITIES_MAX 200

struct as_activity {
	char id[37];
	char *description;
	char *cause;
	char *details;              /* JSON text, as AWS gives it */
	char *status;               /* StatusCode: InProgress, Successful, Failed, Cancelled */
	char *status_message;       /* or NULL */
	int progress;
	int64_t start, end;         /* end 0 while in progress */
};

struct as_group {
	char *region;
	char *name;
	char *arn;
	char *launch_config;        /* LaunchConfigurationName, or NULL */
	cJSON *launch_template;     /* LaunchTemplate as given, or NULL */
	cJSON *mixed;               /* MixedInstancesPolicy as given, or NULL */
	int min, max, desired;
	int cooldown;               /* DefaultCooldown, seconds */
	char **zones;               /* AvailabilityZones, in the order given */
	size_t n_zones;
	char *vpc_zone_identifier;  /* or NULL */
	char *health_check_type;
	int health_check_grace;
	char **termination_policies;
	size_t n_tp;
	bool new_protected;         /* NewInstancesProtectedFromScaleIn */
	bool capacity_rebalance;
	int max_instance_lifetime;  /* 0: none */
	int default_instance_warmup;  /* -1: not set */
	/* Members kept and echoed as given (LoadBalancerNames, TargetGroupARNs,
	 * PlacementGroup, Context, DesiredCapacityType ...); never NULL. */
	cJSON *extra;
	struct as_tag *tags;
	size_t n_tags;
	struct as_instance **inst;  /* in launch order */
	size_t n_inst, cap_inst;
	struct as_activity *acts;   /* newest first, at most AS_ACTIVITIES_MAX */
	size_t n_acts;
	uint64_t inst_seq;          /* the last instance seq given */
	bool deleting;              /* Status "Delete in progress" */
	int64_t created_at;
	bool dirty;
};

struct as_policy {
	char *region;
	char *group;                /* the group's name */
	char *name;
	char *arn;
	char *key;                  /* "<group>/<name>", its index key */
	/* The ScalingPolicy as DescribePolicies answers it, minus
	 * AutoScalingGroupName, PolicyName and PolicyARN; never NULL. */
	cJSON *body;
	/* An ECS-managed target-tracking policy: for which cluster and
	 * capacity provider (NULL for others). */
	char *ecs_cluster;
	char *ecs_provider;
	bool dirty;
};

/* "arn:<partition>:autoscaling:<region>:<account>:<resource>", heap. */
char *model_as_arn(const struct model *m, const char *region, const char *resource);

/* Launch configurations.  model_as_lc_new indexes a new one (arn built from
 * uuid) and marks it dirty; the caller fills the rest.  Purge removes,
 * frees and records the deletion. */
struct as_launch_config *model_as_lc_new(struct model *m, struct region *r, const char *name,
					 const char *uuid, int64_t now);
struct as_launch_config *model_as_lc_find(const struct region *r, const char *name);
void model_as_lc_purge(struct model *m, struct region *r, struct as_launch_config *lc);
void model_dirty_as_lc(struct model *m, struct as_launch_config *lc);
void as_lc_free(struct as_launch_config *lc);

/* Groups, likewise.  Purging a group removes its instances from the
 * region's index and frees them; its policies are the caller's. */
struct as_group *model_as_group_new(struct model *m, struct region *r, const char *name,
				    const char *uuid, int64_t now);
struct as_group *model_as_group_find(const struct region *r, const char *name);
void model_as_group_purge(struct model *m, struct region *r, struct as_group *g);
void model_dirty_as_group(struct model *m, struct as_group *g);
void as_group_free(struct as_group *g);
/* Index a group rebuilt from its record (with its instances); an entry of
 * the same name is freed first.  Nothing is marked dirty. */
void model_as_group_load(struct model *m, struct region *r, struct as_group *g);

/* Instances: add one to g (and the region's index); remove one from both
 * and free it. */
void model_as_instance_add(struct region *r, struct as_group *g, struct as_instance *inst);
void model_as_instance_remove(struct region *r, struct as_instance *inst);
struct as_instance *model_as_instance_find(const struct region *r, const char *id);
void as_instance_free(struct as_instance *inst);

/* A new activity at the front of g's list (the oldest beyond
 * AS_ACTIVITIES_MAX goes); strings are copied, details may be NULL. */
struct as_activity *model_as_activity_add(struct as_group *g, const char *id, int64_t start,
					  const char *description, const char *cause,
					  const char *details);
struct as_activity *model_as_activity_find(struct as_group *g, const char *id);
void as_activity_release(struct as_activity *a);

/* Policies. */
struct as_policy *model_as_policy_new(struct model *m, struct region *r, const char *group,
				      const char *name, const char *uuid);
struct as_policy *model_as_policy_find(const struct region *r, const char *group, const char *name);
void model_as_policy_purge(struct model *m, struct region *r, struct as_policy *p);
void model_dirty_as_policy(struct model *m, struct as_policy *p);
/* Index a policy rebuilt from its record. */
void model_as_policy_load(struct region *r, struct as_policy *p);
void as_policy_free(struct as_policy *p);

/* Region lifetime (model.c calls these). */
void model_as_region_init(struct region *r);
void model_as_region_release(struct region *r);

#endif
