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

cJSON *codec_region(const struct region *r);
void codec_region_apply(struct region *r, const cJSON *j);

#endif
