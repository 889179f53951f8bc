/* codec_as: see codec_as.h.  Auto Scaling member names live here and in
 * api/api_autoscaling.c. */
#include "model/codec_as.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/xalloc.h"
#include "model/codec.h"

const char *codec_as_iso(int64_t ms, char *buf, size_t len)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&s, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
	return buf;
}

/* A time: ms in records, ISO 8601 in answers. */
static void put_time(cJSON *o, const char *key, int64_t ms, bool rec)
{
	if (rec) {
		cJSON_AddNumberToObject(o, key, (double)ms);
	} else {
		char buf[40];
		cJSON_AddStringToObject(o, key, codec_as_iso(ms, buf, sizeof buf));
	}
}

static void put_opt_str(cJSON *o, const char *key, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, key, v);
}

static cJSON *str_array(char *const *v, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
	return a;
}

/* Copy of the strings of a JSON array (non-strings skipped). */
static char **str_array_parse(const cJSON *a, size_t *n)
{
	*n = 0;
	int k = cJSON_GetArraySize(a);
	if (k <= 0)
		return NULL;
	char **v = xcalloc((size_t)k, sizeof *v);
	const cJSON *it;
	cJSON_ArrayForEach(it, a)
	{
		if (cJSON_IsString(it))
			v[(*n)++] = xstrdup(it->valuestring);
	}
	return v;
}

/* Each member of extra, copied into o unless o has it already. */
static void merge(cJSON *o, const cJSON *extra)
{
	for (const cJSON *v = extra ? extra->child : NULL; v; v = v->next)
		if (v->string && !cJSON_HasObjectItem(o, v->string))
			cJSON_AddItemToObject(o, v->string, cJSON_Duplicate(v, 1));
}

static bool bool_of(const cJSON *o, const char *name, bool dflt)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, name);
	return cJSON_IsBool(j) ? cJSON_IsTrue(j) : dflt;
}

static cJSON *dup_member(const cJSON *o, const char *name)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, name);
	return j && !cJSON_IsNull(j) ? cJSON_Duplicate(j, 1) : NULL;
}

/* ---- launch configurations ---- */

cJSON *codec_as_lc(const struct as_launch_config *lc, unsigned include)
{
	bool rec = include & CODEC_RECORD;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "LaunchConfigurationName", lc->name);
	cJSON_AddStringToObject(o, "LaunchConfigurationARN", lc->arn);
	put_opt_str(o, "ImageId", lc->image_id);
	put_opt_str(o, "InstanceType", lc->instance_type);
	if (rec) {
		cJSON_AddItemToObject(o, "berthBody", cJSON_Duplicate(lc->body, 1));
		cJSON_AddStringToObject(o, "berthRegion", lc->region);
		put_time(o, "CreatedTime", lc->created_at, true);
		return o;
	}
	merge(o, lc->body);
	/* What AWS answers for members the request left out. */
	static const char *const empty_str[] = {"KeyName", "KernelId", "RamdiskId", "UserData"};
	for (size_t i = 0; i < sizeof empty_str / sizeof empty_str[0]; i++)
		if (!cJSON_HasObjectItem(o, empty_str[i]))
			cJSON_AddStringToObject(o, empty_str[i], "");
	static const char *const empty_list[] = {"SecurityGroups", "ClassicLinkVPCSecurityGroups",
						 "BlockDeviceMappings"};
	for (size_t i = 0; i < sizeof empty_list / sizeof empty_list[0]; i++)
		if (!cJSON_HasObjectItem(o, empty_list[i]))
			cJSON_AddItemToObject(o, empty_list[i], cJSON_CreateArray());
	if (!cJSON_HasObjectItem(o, "InstanceMonitoring")) {
		cJSON *im = cJSON_AddObjectToObject(o, "InstanceMonitoring");
		cJSON_AddBoolToObject(im, "Enabled", true);
	}
	if (!cJSON_HasObjectItem(o, "EbsOptimized"))
		cJSON_AddBoolToObject(o, "EbsOptimized", false);
	put_time(o, "CreatedTime", lc->created_at, false);
	return o;
}

struct as_launch_config *codec_as_lc_from_record(const cJSON *j)
{
	const char *name = codec_str_of(j, "LaunchConfigurationName");
	const char *arn = codec_str_of(j, "LaunchConfigurationARN");
	const char *region = codec_str_of(j, "berthRegion");
	if (!name || !arn || !region)
		return NULL;
	struct as_launch_config *lc = xcalloc(1, sizeof *lc);
	lc->name = xstrdup(name);
	lc->arn = xstrdup(arn);
	lc->region = xstrdup(region);
	lc->image_id = codec_dup_of(j, "ImageId");
	lc->instance_type = codec_dup_of(j, "InstanceType");
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(j, "berthBody");
	lc->body = cJSON_IsObject(b) ? cJSON_Duplicate(b, 1) : cJSON_CreateObject();
	lc->created_at = codec_long_of(j, "CreatedTime", 0);
	return lc;
}

/* ---- instances ---- */

static void put_instance(cJSON *o, const struct as_instance *inst, bool rec)
{
	cJSON_AddStringToObject(o, "InstanceId", inst->id);
	cJSON_AddStringToObject(o, "InstanceType", inst->instance_type ? inst->instance_type : "");
	cJSON_AddStringToObject(o, "AvailabilityZone", inst->zone ? inst->zone : "");
	cJSON_AddStringToObject(o, "LifecycleState", as_lifecycle_name(inst->lifecycle));
	cJSON_AddStringToObject(o, "HealthStatus", inst->healthy ? "Healthy" : "Unhealthy");
	put_opt_str(o, "LaunchConfigurationName", inst->launch_config);
	cJSON_AddBoolToObject(o, "ProtectedFromScaleIn", inst->protect);
	if (rec) {
		cJSON_AddNumberToObject(o, "berthSeq", (double)inst->seq);
		cJSON_AddNumberToObject(o, "berthLaunchedAt", (double)inst->launched_at);
		if (inst->due)
			cJSON_AddNumberToObject(o, "berthDue", (double)inst->due);
		if (inst->activity[0])
			cJSON_AddStringToObject(o, "berthActivity", inst->activity);
	}
}

cJSON *codec_as_instance(const struct as_instance *inst, bool with_group)
{
	cJSON *o = cJSON_CreateObject();
	if (with_group) {
		/* AutoScalingInstanceDetails: the group's name after the id. */
		cJSON_AddStringToObject(o, "InstanceId", inst->id);
		cJSON_AddStringToObject(o, "InstanceType", inst->instance_type ? inst->instance_type : "");
		cJSON_AddStringToObject(o, "AutoScalingGroupName", inst->group ? inst->group->name : "");
		cJSON_AddStringToObject(o, "AvailabilityZone", inst->zone ? inst->zone : "");
		cJSON_AddStringToObject(o, "LifecycleState", as_lifecycle_name(inst->lifecycle));
		/* DescribeAutoScalingInstances spells the health in upper case,
		 * unlike DescribeAutoScalingGroups (AWS's documented example). */
		cJSON_AddStringToObject(o, "HealthStatus", inst->healthy ? "HEALTHY" : "UNHEALTHY");
		put_opt_str(o, "LaunchConfigurationName", inst->launch_config);
		cJSON_AddBoolToObject(o, "ProtectedFromScaleIn", inst->protect);
		return o;
	}
	put_instance(o, inst, false);
	return o;
}

static struct as_instance *instance_parse(const cJSON *j)
{
	const char *id = codec_str_of(j, "InstanceId");
	int lc = as_lifecycle_parse(codec_str_of(j, "LifecycleState"));
	if (!id || strlen(id) >= sizeof ((struct as_instance *)0)->id || lc < 0)
		return NULL;
	struct as_instance *inst = xcalloc(1, sizeof *inst);
	snprintf(inst->id, sizeof inst->id, "%s", id);
	inst->lifecycle = (uint8_t)lc;
	inst->instance_type = codec_dup_of(j, "InstanceType");
	inst->zone = codec_dup_of(j, "AvailabilityZone");
	inst->launch_config = codec_dup_of(j, "LaunchConfigurationName");
	const char *h = codec_str_of(j, "HealthStatus");
	inst->healthy = !h || strcmp(h, "Healthy") == 0;
	inst->protect = bool_of(j, "ProtectedFromScaleIn", false);
	inst->seq = (uint64_t)codec_long_of(j, "berthSeq", 0);
	inst->launched_at = codec_long_of(j, "berthLaunchedAt", 0);
	inst->due = codec_long_of(j, "berthDue", 0);
	const char *act = codec_str_of(j, "berthActivity");
	if (act)
		snprintf(inst->activity, sizeof inst->activity, "%s", act);
	return inst;
}

/* ---- activities ---- */

static void put_activity(cJSON *o, const struct as_group *g, const struct as_activity *a, bool rec)
{
	cJSON_AddStringToObject(o, "ActivityId", a->id);
	cJSON_AddStringToObject(o, "AutoScalingGroupName", g->name);
	cJSON_AddStringToObject(o, "Description", a->description ? a->description : "");
	cJSON_AddStringToObject(o, "Cause", a->cause ? a->cause : "");
	put_time(o, "StartTime", a->start, rec);
	if (a->end)
		put_time(o, "EndTime", a->end, rec);
	cJSON_AddStringToObject(o, "StatusCode", a->status ? a->status : "InProgress");
	put_opt_str(o, "StatusMessage", a->status_message);
	cJSON_AddNumberToObject(o, "Progress", a->progress);
	put_opt_str(o, "Details", a->details);
	if (!rec)
		cJSON_AddStringToObject(o, "AutoScalingGroupARN", g->arn);
}

cJSON *codec_as_activity(const struct as_group *g, const struct as_activity *a)
{
	cJSON *o = cJSON_CreateObject();
	put_activity(o, g, a, false);
	return o;
}

static void activities_parse(struct as_group *g, const cJSON *arr)
{
	int n = cJSON_GetArraySize(arr);
	if (n <= 0)
		return;
	g->acts = xcalloc(AS_ACTIVITIES_MAX, sizeof *g->acts);
	const cJSON *j;
	cJSON_ArrayForEach(j, arr)
	{
		const char *id = codec_str_of(j, "ActivityId");
		if (!id || g->n_acts == AS_ACTIVITIES_MAX)
			continue;
		struct as_activity *a = &g->acts[g->n_acts++];
		snprintf(a->id, sizeof a->id, "%s", id);
		a->description = codec_dup_of(j, "Description");
		a->cause = codec_dup_of(j, "Cause");
		a->details = codec_dup_of(j, "Details");
		a->status = codec_dup_of(j, "StatusCode");
		a->status_message = codec_dup_of(j, "StatusMessage");
		a->progress = codec_int_of(j, "Progress", 0);
		a->start = codec_long_of(j, "StartTime", 0);
		a->end = codec_long_of(j, "EndTime", 0);
	}
}

/* ---- groups ---- */

static cJSON *tags_json(const struct as_group *g)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < g->n_tags; i++) {
		cJSON *t = cJSON_CreateObject();
		cJSON_AddStringToObject(t, "ResourceId", g->name);
		cJSON_AddStringToObject(t, "ResourceType", "auto-scaling-group");
		cJSON_AddStringToObject(t, "Key", g->tags[i].key);
		cJSON_AddStringToObject(t, "Value", g->tags[i].value);
		cJSON_AddBoolToObject(t, "PropagateAtLaunch", g->tags[i].propagate);
		cJSON_AddItemToArray(a, t);
	}
	return a;
}

cJSON *codec_as_group(const struct model *m, const struct as_group *g, unsigned include)
{
	bool rec = include & CODEC_RECORD;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "AutoScalingGroupName", g->name);
	cJSON_AddStringToObject(o, "AutoScalingGroupARN", g->arn);
	put_opt_str(o, "LaunchConfigurationName", g->launch_config);
	if (g->launch_template)
		cJSON_AddItemToObject(o, "LaunchTemplate", cJSON_Duplicate(g->launch_template, 1));
	if (g->mixed)
		cJSON_AddItemToObject(o, "MixedInstancesPolicy", cJSON_Duplicate(g->mixed, 1));
	cJSON_AddNumberToObject(o, "MinSize", g->min);
	cJSON_AddNumberToObject(o, "MaxSize", g->max);
	cJSON_AddNumberToObject(o, "DesiredCapacity", g->desired);
	cJSON_AddNumberToObject(o, "DefaultCooldown", g->cooldown);
	cJSON_AddItemToObject(o, "AvailabilityZones", str_array(g->zones, g->n_zones));
	cJSON_AddStringToObject(o, "HealthCheckType", g->health_check_type ? g->health_check_type : "EC2");
	cJSON_AddNumberToObject(o, "HealthCheckGracePeriod", g->health_check_grace);
	cJSON *insts = cJSON_AddArrayToObject(o, "Instances");
	for (size_t i = 0; i < g->n_inst; i++) {
		cJSON *t = cJSON_CreateObject();
		put_instance(t, g->inst[i], rec);
		cJSON_AddItemToArray(insts, t);
	}
	put_time(o, "CreatedTime", g->created_at, rec);
	if (!rec) {
		cJSON_AddArrayToObject(o, "SuspendedProcesses");
		cJSON_AddArrayToObject(o, "EnabledMetrics");
	}
	put_opt_str(o, "VPCZoneIdentifier", g->vpc_zone_identifier);
	if (g->deleting)
		cJSON_AddStringToObject(o, "Status", "Delete in progress");
	cJSON_AddItemToObject(o, "Tags", tags_json(g));
	if (g->n_tp) {
		cJSON_AddItemToObject(o, "TerminationPolicies", str_array(g->termination_policies, g->n_tp));
	} else if (!rec) {
		cJSON *tp = cJSON_AddArrayToObject(o, "TerminationPolicies");
		cJSON_AddItemToArray(tp, cJSON_CreateString("Default"));
	}
	cJSON_AddBoolToObject(o, "NewInstancesProtectedFromScaleIn", g->new_protected);
	if (!rec) {
		char *slr = xasprintf("arn:%s:iam::%s:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling",
				      m->partition, m->account);
		cJSON_AddStringToObject(o, "ServiceLinkedRoleARN", slr);
		free(slr);
	}
	if (g->max_instance_lifetime)
		cJSON_AddNumberToObject(o, "MaxInstanceLifetime", g->max_instance_lifetime);
	cJSON_AddBoolToObject(o, "CapacityRebalance", g->capacity_rebalance);
	if (g->default_instance_warmup >= 0)
		cJSON_AddNumberToObject(o, "DefaultInstanceWarmup", g->default_instance_warmup);
	if (rec) {
		cJSON_AddItemToObject(o, "berthExtra", cJSON_Duplicate(g->extra, 1));
		cJSON_AddStringToObject(o, "berthRegion", g->region);
		cJSON_AddNumberToObject(o, "berthInstSeq", (double)g->inst_seq);
		cJSON *acts = cJSON_AddArrayToObject(o, "berthActivities");
		for (size_t i = 0; i < g->n_acts; i++) {
			cJSON *t = cJSON_CreateObject();
			put_activity(t, g, &g->acts[i], true);
			cJSON_AddItemToArray(acts, t);
		}
		return o;
	}
	merge(o, g->extra);
	if (!cJSON_HasObjectItem(o, "LoadBalancerNames"))
		cJSON_AddArrayToObject(o, "LoadBalancerNames");
	if (!cJSON_HasObjectItem(o, "TargetGroupARNs"))
		cJSON_AddArrayToObject(o, "TargetGroupARNs");
	if (!cJSON_HasObjectItem(o, "TrafficSources"))
		cJSON_AddArrayToObject(o, "TrafficSources");
	return o;
}

static void tags_parse(struct as_group *g, const cJSON *arr)
{
	int n = cJSON_GetArraySize(arr);
	if (n <= 0)
		return;
	g->tags = xcalloc((size_t)n, sizeof *g->tags);
	const cJSON *t;
	cJSON_ArrayForEach(t, arr)
	{
		const char *k = codec_str_of(t, "Key");
		if (!k)
			continue;
		const char *v = codec_str_of(t, "Value");
		struct as_tag *tag = &g->tags[g->n_tags++];
		tag->key = xstrdup(k);
		tag->value = xstrdup(v ? v : "");
		tag->propagate = bool_of(t, "PropagateAtLaunch", false);
	}
}

struct as_group *codec_as_group_from_record(const cJSON *j)
{
	const char *name = codec_str_of(j, "AutoScalingGroupName");
	const char *arn = codec_str_of(j, "AutoScalingGroupARN");
	const char *region = codec_str_of(j, "berthRegion");
	if (!name || !arn || !region)
		return NULL;
	struct as_group *g = xcalloc(1, sizeof *g);
	g->name = xstrdup(name);
	g->arn = xstrdup(arn);
	g->region = xstrdup(region);
	g->launch_config = codec_dup_of(j, "LaunchConfigurationName");
	g->launch_template = dup_member(j, "LaunchTemplate");
	g->mixed = dup_member(j, "MixedInstancesPolicy");
	g->min = codec_int_of(j, "MinSize", 0);
	g->max = codec_int_of(j, "MaxSize", 0);
	g->desired = codec_int_of(j, "DesiredCapacity", 0);
	g->cooldown = codec_int_of(j, "DefaultCooldown", 300);
	g->zones = str_array_parse(cJSON_GetObjectItemCaseSensitive(j, "AvailabilityZones"), &g->n_zones);
	g->health_check_type = codec_dup_of(j, "HealthCheckType");
	g->health_check_grace = codec_int_of(j, "HealthCheckGracePeriod", 0);
	g->created_at = codec_long_of(j, "CreatedTime", 0);
	g->vpc_zone_identifier = codec_dup_of(j, "VPCZoneIdentifier");
	const char *st = codec_str_of(j, "Status");
	g->deleting = st && strcmp(st, "Delete in progress") == 0;
	tags_parse(g, cJSON_GetObjectItemCaseSensitive(j, "Tags"));
	g->termination_policies = str_array_parse(cJSON_GetObjectItemCaseSensitive(j, "TerminationPolicies"), &g->n_tp);
	g->new_protected = bool_of(j, "NewInstancesProtectedFromScaleIn", false);
	g->max_instance_lifetime = codec_int_of(j, "MaxInstanceLifetime", 0);
	g->capacity_rebalance = bool_of(j, "CapacityRebalance", false);
	g->default_instance_warmup = codec_int_of(j, "DefaultInstanceWarmup", -1);
	const cJSON *ex = cJSON_GetObjectItemCaseSensitive(j, "berthExtra");
	g->extra = cJSON_IsObject(ex) ? cJSON_Duplicate(ex, 1) : cJSON_CreateObject();
	g->inst_seq = (uint64_t)codec_long_of(j, "berthInstSeq", 0);
	const cJSON *it;
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(j, "Instances"))
	{
		struct as_instance *inst = instance_parse(it);
		if (!inst) {
			as_group_free(g);
			return NULL;
		}
		if (g->n_inst == g->cap_inst) {
			g->cap_inst = g->cap_inst ? g->cap_inst * 2 : 8;
			g->inst = xrealloc(g->inst, g->cap_inst * sizeof *g->inst);
		}
		inst->group = g;
		g->inst[g->n_inst++] = inst;
		if (inst->seq > g->inst_seq)
			g->inst_seq = inst->seq;
	}
	activities_parse(g, cJSON_GetObjectItemCaseSensitive(j, "berthActivities"));
	return g;
}

/* ---- policies ---- */

cJSON *codec_as_policy(const struct as_policy *p, unsigned include)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "AutoScalingGroupName", p->group);
	cJSON_AddStringToObject(o, "PolicyName", p->name);
	cJSON_AddStringToObject(o, "PolicyARN", p->arn);
	merge(o, p->body);
	if (include & CODEC_RECORD) {
		cJSON_AddStringToObject(o, "berthRegion", p->region);
		put_opt_str(o, "berthEcsCluster", p->ecs_cluster);
		put_opt_str(o, "berthEcsProvider", p->ecs_provider);
	}
	return o;
}

struct as_policy *codec_as_policy_from_record(const cJSON *j)
{
	const char *group = codec_str_of(j, "AutoScalingGroupName");
	const char *name = codec_str_of(j, "PolicyName");
	const char *arn = codec_str_of(j, "PolicyARN");
	const char *region = codec_str_of(j, "berthRegion");
	if (!group || !name || !arn || !region)
		return NULL;
	struct as_policy *p = xcalloc(1, sizeof *p);
	p->group = xstrdup(group);
	p->name = xstrdup(name);
	p->arn = xstrdup(arn);
	p->region = xstrdup(region);
	p->key = xasprintf("%s/%s", group, name);
	p->ecs_cluster = codec_dup_of(j, "berthEcsCluster");
	p->ecs_provider = codec_dup_of(j, "berthEcsProvider");
	p->body = cJSON_CreateObject();
	for (const cJSON *v = j->child; v; v = v->next) {
		if (!v->string || !strcmp(v->string, "AutoScalingGroupName") || !strcmp(v->string, "PolicyName") ||
		    !strcmp(v->string, "PolicyARN") || !strncmp(v->string, "berth", 5))
			continue;
		cJSON_AddItemToObject(p->body, v->string, cJSON_Duplicate(v, 1));
	}
	return p;
}

char *codec_as_policy_record_id(const struct as_policy *p)
{
	return xasprintf("%s/%s", p->region, p->key);
}
