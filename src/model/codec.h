/* codec: the JSON shapes of the resources, both as ECS answers them and as
 * the store keeps them.
 *
 * A record is the full API shape (every optional block) plus a few internal
 * members prefixed with "berth" (deletion time, pending updates), so one
 * function per resource writes both and the store needs no schema of its
 * own.  The *_from_record functions rebuild an object from a record; they
 * trust the store but never crash on a missing member. */
#ifndef BERTH_MODEL_CODEC_H
#define BERTH_MODEL_CODEC_H

#include <cjson/cJSON.h>

#include "model/model.h"

enum {
	CODEC_ATTACHMENTS = 1 << 0,
	CODEC_CONFIGURATIONS = 1 << 1,
	CODEC_SETTINGS = 1 << 2,
	CODEC_STATISTICS = 1 << 3,
	CODEC_TAGS = 1 << 4,
	CODEC_RECORD = 1 << 5,      /* everything, plus internal members */
};

/* Building blocks for the codec_* files: constant member keys, whole
 * numbers printed once (cJSON Raw), and tolerant readers for records. */
void codec_put_str(cJSON *o, const char *key, const char *v);
void codec_put_int(cJSON *o, const char *key, long v);
cJSON *codec_put_array(cJSON *o, const char *key);
cJSON *codec_put_object(cJSON *o, const char *key);
void codec_put_time(cJSON *o, const char *key, int64_t ms);
const char *codec_str_of(const cJSON *o, const char *name);
char *codec_dup_of(const cJSON *o, const char *name);
int codec_int_of(const cJSON *o, const char *name, int dflt);
int64_t codec_long_of(const cJSON *o, const char *name, int64_t dflt);
int64_t codec_time_of(const cJSON *o, const char *name);

/* Parse [{name, value}] (attachment details, attributes); a missing value
 * is "". */
void codec_name_values_parse(struct kvlist *out, const cJSON *arr);

/* ECS timestamps: epoch seconds with milliseconds, as a JSON number. */
double codec_time(int64_t ms);

cJSON *codec_tags(const struct kvlist *tags);
/* Parse [{key,value}] (already validated); missing value means "". */
void codec_tags_parse(struct kvlist *out, const cJSON *arr);

cJSON *codec_strategy(const struct strategy *s);
void codec_strategy_parse(struct strategy *out, const cJSON *arr);

cJSON *codec_cluster(const struct cluster *c, unsigned include);
struct cluster *codec_cluster_from_record(const cJSON *j);

cJSON *codec_cp(const struct capacity_provider *cp, unsigned include);
/* FARGATE / FARGATE_SPOT as DescribeCapacityProviders shows them. */
cJSON *codec_cp_builtin(const struct model *m, const char *region, const char *name, unsigned include);
struct capacity_provider *codec_cp_from_record(const cJSON *j);

/* Task definitions: the taskDefinition object (CODEC_TAGS adds nothing
 * here: DescribeTaskDefinition answers tags beside it, see codec_tags).
 * Records are "<region>/<family>:<revision>". */
cJSON *codec_td(const struct task_def *td, unsigned include);
struct task_def *codec_td_from_record(const cJSON *j);
char *codec_td_record_id(const struct task_def *td);

/* A family's record: the highest revision it gave ("<region>/<family>"). */
cJSON *codec_family(const struct td_family *f);

/* Container instances (CODEC_TAGS: with tags).  Records are
 * "<region>/<cluster>/<id>". */
cJSON *codec_ci(const struct model *m, const struct container_instance *ci, unsigned include);
struct container_instance *codec_ci_from_record(const cJSON *j);
char *codec_ci_record_id(const struct container_instance *ci);

/* Tasks (CODEC_TAGS: with tags).  Records are "<region>/<cluster>/<id>";
 * a task record refers to its cluster, task definition and instance, so
 * tasks are loaded after everything else: codec_task_load finds them in m
 * and indexes the task (returns -1 if the record is malformed or they are
 * gone). */
cJSON *codec_task(const struct model *m, const struct task *t, unsigned include);
int codec_task_load(struct model *m, const cJSON *j);
char *codec_task_record_id(const struct task *t);

/* Services (CODEC_TAGS: with tags).  Records are
 * "<region>/<cluster>/<name>"; a record refers to its cluster and task
 * definitions, so services load after them (and before tasks, which join
 * them): codec_svc_load indexes the service, or returns -1. */
cJSON *codec_svc(const struct model *m, const struct service *s, unsigned include);
/* The request members a service keeps and echoes as given (s->extra). */
#define CODEC_SVC_EXTRA_N 6
extern const char *const codec_svc_extra[CODEC_SVC_EXTRA_N];
int codec_svc_load(struct model *m, const cJSON *j);
char *codec_svc_record_id(const struct service *s);

cJSON *codec_region(const struct region *r);
void codec_region_apply(struct region *r, const cJSON *j);

#endif
