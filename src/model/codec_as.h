/* codec_as: the Auto Scaling resources as the Auto Scaling API answers them
 * (member names of the botocore model, as cJSON for the Query protocol's
 * XML renderer) and as the store keeps them.
 *
 * As for the ECS resources one function writes both: with CODEC_RECORD
 * (codec.h) the object carries what a restart needs besides the answer
 * (members prefixed "berth"), and times are whole milliseconds; in answers
 * times are ISO 8601 strings ("2024-05-01T10:00:00.000Z"), which is how the
 * Query protocol sends timestamps.  The *_from_record functions trust the
 * store but return NULL rather than crash on a record that lacks what the
 * object needs. */
#ifndef BERTH_MODEL_CODEC_AS_H
#define BERTH_MODEL_CODEC_AS_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "model/model.h"

/* ms since the epoch as "YYYY-MM-DDTHH:MM:SS.mmmZ" into buf (at least 32
 * bytes); returns buf. */
const char *codec_as_iso(int64_t ms, char *buf, size_t len);

/* LaunchConfiguration. */
cJSON *codec_as_lc(const struct as_launch_config *lc, unsigned include);
struct as_launch_config *codec_as_lc_from_record(const cJSON *j);

/* AutoScalingGroup, with its Instances and Tags; the record adds the
 * instances' internal state and the group's activities. */
cJSON *codec_as_group(const struct model *m, const struct as_group *g, unsigned include);
/* A group with its instances (not yet indexed: model_as_group_load). */
struct as_group *codec_as_group_from_record(const cJSON *j);

/* An instance: as an Instance of a group (with_group false) or as an
 * AutoScalingInstanceDetails (with_group true: AutoScalingGroupName). */
cJSON *codec_as_instance(const struct as_instance *inst, bool with_group);

/* An Activity of group g. */
cJSON *codec_as_activity(const struct as_group *g, const struct as_activity *a);

/* ScalingPolicy. */
cJSON *codec_as_policy(const struct as_policy *p, unsigned include);
struct as_policy *codec_as_policy_from_record(const cJSON *j);
/* Record ids: "<region>/<name>" for groups and launch configurations,
 * "<region>/<group>/<name>" for policies. */
char *codec_as_policy_record_id(const struct as_policy *p);

#endif
