/* api_autoscaling: the Auto Scaling actions (launch configurations, groups
 * and their instances, policies, activities) and the group logic that
 * keeps a group at its desired capacity.
 *
 * A group launches instances (zones balanced round-robin over its
 * AvailabilityZones, the type of its launch configuration or of the first
 * MixedInstancesPolicy override) through the infrastructure driver
 * (ctx->infra; without one they are in service at once) and terminates
 * them on scale-in with AWS's default policy, simplified: the zone with the
 * most instances first, then instances of another launch configuration,
 * then the oldest.  Instances protected from scale-in are never chosen: if
 * only protected ones are left the group stays above its desired capacity,
 * as AWS's does.  Every launch and termination is a scaling activity.
 *
 * Errors use Auto Scaling's codes (ValidationError for almost everything)
 * and AWS's texts where they are known. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "lib/xalloc.h"
#include "model/codec.h"
#include "model/codec_as.h"
#include "scaling/instance_types.h"

/* ---- the default infrastructure: instances in service at once ---- */

static void instant_launch(struct api_ctx *ctx, struct as_group *g, struct as_instance *inst)
{
	(void)g;
	api_as_instance_state(ctx, inst, AS_IN_SERVICE);
}

static void instant_terminate(struct api_ctx *ctx, struct as_group *g, struct as_instance *inst)
{
	(void)g;
	api_as_instance_state(ctx, inst, AS_TERMINATED);
}

static const struct infra_ops infra_instant = {"instant", instant_launch, instant_terminate, NULL};

static const struct infra_ops *infra_of(const struct api_ctx *ctx)
{
	return ctx->infra ? ctx->infra : &infra_instant;
}

/* ---- small helpers ---- */

static const char *iso(const struct api_ctx *ctx, char *buf, size_t len)
{
	return codec_as_iso(ctx->now, buf, len);
}

static bool api_bool(const cJSON *in, const char *name, bool dflt)
{
	const cJSON *j = api_get(in, name);
	return cJSON_IsBool(j) ? cJSON_IsTrue(j) : dflt;
}

/* MaxRecords in [1, max], dflt when absent. */
static int max_records(const cJSON *in, int dflt, int max, int *out, struct err *e)
{
	int n = api_int(in, "MaxRecords", dflt);
	if (n < 1)
		return err_set(e, ERR_VALIDATION,
			       "1 validation error detected: Value '%d' at 'maxRecords' failed to satisfy constraint: Member must have value greater than or equal to 1",
			       n);
	if (n > max)
		return err_set(e, ERR_VALIDATION,
			       "1 validation error detected: Value '%d' at 'maxRecords' failed to satisfy constraint: Member must have value less than or equal to %d",
			       n, max);
	*out = n;
	return 0;
}

/* The resume key of a NextToken of kind, or NULL (with *after NULL) when
 * the request has none; -1 with InvalidNextToken for a token not ours. */
static int next_token(const cJSON *in, const char *kind, char **after, struct err *e)
{
	*after = NULL;
	const char *tok = api_str(in, "NextToken");
	if (!tok)
		return 0;
	*after = api_token_decode(kind, tok, e);
	if (!*after)
		return err_set(e, ERR_AS_INVALID_NEXT_TOKEN, "The token '%.64s' is invalid.", tok);
	return 0;
}

static void put_token(cJSON *o, const char *kind, const char *key)
{
	char *t = api_token_encode(kind, key);
	cJSON_AddStringToObject(o, "NextToken", t);
	free(t);
}

static bool in_list(const cJSON *list, const char *s)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, list)
	{
		if (cJSON_IsString(it) && strcmp(it->valuestring, s) == 0)
			return true;
	}
	return false;
}

/* The group name an ARN refers to, or the reference itself. */
static const char *group_name_of(const char *ref)
{
	static const char key[] = ":autoScalingGroupName/";
	const char *p = strncmp(ref, "arn:", 4) == 0 ? strstr(ref, key) : NULL;
	return p ? p + strlen(key) : ref;
}

struct as_group *api_as_group_find(struct api_ctx *ctx, const char *ref)
{
	struct region *r = model_region_find(ctx->m, ctx->region);
	return r && ref ? model_as_group_find(r, group_name_of(ref)) : NULL;
}

struct as_instance *const *api_as_instances(const struct as_group *g, size_t *n)
{
	*n = g->n_inst;
	return g->inst;
}

static bool live(const struct as_instance *inst)
{
	return inst->lifecycle == AS_PENDING || inst->lifecycle == AS_IN_SERVICE;
}

static int live_count(const struct as_group *g)
{
	int n = 0;
	for (size_t i = 0; i < g->n_inst; i++)
		n += live(g->inst[i]);
	return n;
}

/* The instance type g launches: its launch configuration's, or the first
 * override of its MixedInstancesPolicy. */
static const char *group_type(const struct region *r, const struct as_group *g)
{
	if (g->launch_config) {
		const struct as_launch_config *lc = model_as_lc_find(r, g->launch_config);
		return lc ? lc->instance_type : NULL;
	}
	const cJSON *lt = cJSON_GetObjectItemCaseSensitive(g->mixed, "LaunchTemplate");
	const cJSON *ov = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(lt, "Overrides"), 0);
	return api_str(ov, "InstanceType");
}

/* ---- activities and the instance lifecycle ---- */

static struct as_activity *activity(struct api_ctx *ctx, struct as_group *g, const char *description,
				    const char *cause, const char *zone)
{
	char id[37];
	rng_uuid(ctx->rng, id);
	char *details = zone ? xasprintf("{\"Subnet ID\":\"\",\"Availability Zone\":\"%s\"}", zone) : NULL;
	struct as_activity *a = model_as_activity_add(g, id, ctx->now, description, cause, details);
	free(details);
	a->progress = 20;
	model_dirty_as_group(ctx->m, g);
	return a;
}

static void activity_done(struct api_ctx *ctx, struct as_activity *a, const char *status)
{
	free(a->status);
	a->status = xstrdup(status);
	a->progress = 100;
	a->end = ctx->now;
}

static void reconcile(struct api_ctx *ctx, struct as_group *g, const char *why);

void api_as_instance_state(struct api_ctx *ctx, struct as_instance *inst, int state)
{
	struct as_group *g = inst->group;
	int prev = inst->lifecycle;
	if (state == prev || state < AS_PENDING || state > AS_TERMINATED)
		return;
	struct region *r = model_region(ctx->m, g->region);
	struct as_activity *a = model_as_activity_find(g, inst->activity);
	model_dirty_as_group(ctx->m, g);
	if (state != AS_TERMINATED) {
		if (a && prev == AS_PENDING && state == AS_IN_SERVICE) {
			activity_done(ctx, a, "Successful");
			inst->activity[0] = '\0';
		}
		inst->lifecycle = (uint8_t)state;
		return;
	}
	bool lost = prev != AS_TERMINATING;
	if (a)
		activity_done(ctx, a, lost ? "Failed" : "Successful");
	if (lost) {
		char t[40];
		char *desc = xasprintf("Terminating EC2 instance: %s", inst->id);
		char *cause = xasprintf("At %s an instance was taken out of service in response to an EC2 instance status check failure.",
					iso(ctx, t, sizeof t));
		activity_done(ctx, activity(ctx, g, desc, cause, inst->zone), "Successful");
		free(desc);
		free(cause);
	}
	model_as_instance_remove(r, inst);
	if (g->deleting) {
		if (!g->n_inst)
			model_as_group_purge(ctx->m, r, g);
	} else if (lost) {
		reconcile(ctx, g, NULL);
	}
}

/* A new instance id, "i-" and 17 hex digits, not in use in r. */
static void instance_id(struct api_ctx *ctx, const struct region *r, char out[20])
{
	do {
		uint64_t a = rng_next(ctx->rng), b = rng_next(ctx->rng);
		snprintf(out, 20, "i-%016llx%01llx", (unsigned long long)a, (unsigned long long)(b & 15));
	} while (model_as_instance_find(r, out));
}

/* The zone for g's next instance: the one of its zones with the fewest
 * live instances, the first such in order. */
static const char *next_zone(const struct as_group *g)
{
	const char *best = NULL;
	int best_n = 0;
	for (size_t z = 0; z < g->n_zones; z++) {
		int n = 0;
		for (size_t i = 0; i < g->n_inst; i++)
			n += live(g->inst[i]) && g->inst[i]->zone && strcmp(g->inst[i]->zone, g->zones[z]) == 0;
		if (!best || n < best_n) {
			best = g->zones[z];
			best_n = n;
		}
	}
	return best;
}

static void launch_one(struct api_ctx *ctx, struct region *r, struct as_group *g, const char *cause)
{
	struct as_instance *inst = xcalloc(1, sizeof *inst);
	instance_id(ctx, r, inst->id);
	const char *zone = next_zone(g);
	const char *type = group_type(r, g);
	inst->zone = zone ? xstrdup(zone) : NULL;
	inst->instance_type = type ? xstrdup(type) : NULL;
	inst->launch_config = g->launch_config ? xstrdup(g->launch_config) : NULL;
	inst->lifecycle = AS_PENDING;
	inst->protect = g->new_protected;
	inst->healthy = true;
	inst->seq = ++g->inst_seq;
	inst->launched_at = ctx->now;
	model_as_instance_add(r, g, inst);
	char *desc = xasprintf("Launching a new EC2 instance: %s", inst->id);
	struct as_activity *a = activity(ctx, g, desc, cause, inst->zone);
	free(desc);
	snprintf(inst->activity, sizeof inst->activity, "%s", a->id);
	ctx->m->capacity_gen++;
	infra_of(ctx)->launch(ctx, g, inst);
}

/* Take inst out of service: Terminating, an activity, the driver's
 * terminate (which may free inst at once).  Returns the activity's answer
 * if want_json. */
static cJSON *terminate_one(struct api_ctx *ctx, struct as_group *g, struct as_instance *inst,
			    const char *cause, bool want_json)
{
	inst->lifecycle = AS_TERMINATING;
	char *desc = xasprintf("Terminating EC2 instance: %s", inst->id);
	struct as_activity *a = activity(ctx, g, desc, cause, inst->zone);
	free(desc);
	snprintf(inst->activity, sizeof inst->activity, "%s", a->id);
	cJSON *j = want_json ? codec_as_activity(g, a) : NULL;
	ctx->m->capacity_gen++;
	infra_of(ctx)->terminate(ctx, g, inst);
	return j;
}

/* The instance scale-in takes next, or NULL if every live one is
 * protected: in the zone with the most live instances (among zones with a
 * candidate), one of another launch configuration first, then the oldest. */
static struct as_instance *scale_in_pick(const struct as_group *g)
{
	struct as_instance *best = NULL;
	int best_zone_n = -1;
	for (size_t i = 0; i < g->n_inst; i++) {
		struct as_instance *c = g->inst[i];
		if (!live(c) || c->protect)
			continue;
		int zn = 0;
		for (size_t k = 0; k < g->n_inst; k++)
			zn += live(g->inst[k]) && ((!c->zone && !g->inst[k]->zone) ||
						   (c->zone && g->inst[k]->zone && strcmp(c->zone, g->inst[k]->zone) == 0));
		bool c_old = !g->launch_config || !c->launch_config || strcmp(c->launch_config, g->launch_config) != 0;
		if (!best || zn > best_zone_n) {
			best = c;
			best_zone_n = zn;
			continue;
		}
		if (zn < best_zone_n)
			continue;
		bool b_old = !g->launch_config || !best->launch_config ||
			     strcmp(best->launch_config, g->launch_config) != 0;
		if ((c_old && !b_old) || (c_old == b_old && c->seq < best->seq))
			best = c;
	}
	return best;
}

/* Launch or terminate toward g->desired.  why: the first sentence of the
 * activities' cause (what changed the desired capacity), or NULL. */
static void reconcile(struct api_ctx *ctx, struct as_group *g, const char *why)
{
	if (g->deleting)
		return;
	struct region *r = model_region(ctx->m, g->region);
	int n = live_count(g);
	char t[40];
	iso(ctx, t, sizeof t);
	if (n < g->desired) {
		char *cause = xasprintf("%s%sAt %s an instance was started in response to a difference between desired and actual capacity, increasing the capacity from %d to %d.",
					why ? why : "", why ? "  " : "", t, n, g->desired);
		for (int k = n; k < g->desired; k++)
			launch_one(ctx, r, g, cause);
		free(cause);
		return;
	}
	int from = n;
	while (n > g->desired) {
		struct as_instance *v = scale_in_pick(g);
		if (!v)
			break;
		char *cause = xasprintf("%s%sAt %s an instance was taken out of service in response to a difference between desired and actual capacity, shrinking the capacity from %d to %d.  At %s instance %s was selected for termination.",
					why ? why : "", why ? "  " : "", t, from, g->desired, t, v->id);
		terminate_one(ctx, g, v, cause, false);
		free(cause);
		n--;
	}
}

void api_as_reconcile(struct api_ctx *ctx, struct as_group *g)
{
	reconcile(ctx, g, NULL);
}

static int check_desired(const struct as_group *g, int desired, struct err *e)
{
	if (desired > g->max)
		return err_set(e, ERR_VALIDATION,
			       "New SetDesiredCapacity value %d is above max value %d for the AutoScalingGroup.",
			       desired, g->max);
	if (desired < g->min)
		return err_set(e, ERR_VALIDATION,
			       "New SetDesiredCapacity value %d is below min value %d for the AutoScalingGroup.",
			       desired, g->min);
	return 0;
}

static int check_not_deleting(const struct as_group *g, struct err *e)
{
	if (g->deleting)
		return err_set(e, ERR_AS_SCALING_ACTIVITY_IN_PROGRESS,
			       "The AutoScalingGroup %s is being deleted.", g->name);
	return 0;
}

int api_as_set_desired(struct api_ctx *ctx, struct as_group *g, int desired, struct err *e)
{
	if (check_not_deleting(g, e) || check_desired(g, desired, e))
		return -1;
	char t[40];
	char *why = xasprintf("At %s a user request explicitly set group desired capacity changing the desired capacity from %d to %d.",
			      iso(ctx, t, sizeof t), g->desired, desired);
	g->desired = desired;
	model_dirty_as_group(ctx->m, g);
	reconcile(ctx, g, why);
	free(why);
	return 0;
}

void api_as_set_protection(struct api_ctx *ctx, struct as_instance *inst, bool protect)
{
	if (inst->protect == protect)
		return;
	inst->protect = protect;
	model_dirty_as_group(ctx->m, inst->group);
	if (!protect)
		reconcile(ctx, inst->group, NULL);
}

/* ---- launch configurations ---- */

static int lc_not_found(const char *name, struct err *e)
{
	return err_set(e, ERR_VALIDATION, "Launch configuration name not found - Launch configuration %s not found",
		       name);
}

static int check_instance_type(const char *type, struct err *e)
{
	if (!instance_type_find(type))
		return err_set(e, ERR_VALIDATION,
			       "Invalid instance type: %s. Berth knows the instance types of its catalogue (src/scaling/instance_types.def).",
			       type);
	return 0;
}

int api_as_create_launch_configuration(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	(void)out;
	const char *name = api_str(in, "LaunchConfigurationName");
	const char *image = api_str(in, "ImageId");
	const char *type = api_str(in, "InstanceType");
	if (api_get(in, "InstanceId"))
		return err_set(e, ERR_VALIDATION,
			       "Berth has no EC2 instances to copy: give ImageId and InstanceType instead of InstanceId.");
	if (!image || !type)
		return err_set(e, ERR_VALIDATION,
			       "Valid requests must contain either the InstanceID parameter or both the ImageId and InstanceType parameters.");
	if (check_instance_type(type, e))
		return -1;
	struct region *r = model_region(ctx->m, ctx->region);
	if (model_as_lc_find(r, name))
		return err_set(e, ERR_AS_ALREADY_EXISTS,
			       "Launch Configuration by this name already exists - A launch configuration already exists with the name %s",
			       name);
	char uuid[37];
	rng_uuid(ctx->rng, uuid);
	struct as_launch_config *lc = model_as_lc_new(ctx->m, r, name, uuid, ctx->now);
	lc->image_id = xstrdup(image);
	lc->instance_type = xstrdup(type);
	for (const cJSON *v = in->child; v; v = v->next) {
		if (!v->string || cJSON_IsNull(v) || !strcmp(v->string, "LaunchConfigurationName") ||
		    !strcmp(v->string, "ImageId") || !strcmp(v->string, "InstanceType"))
			continue;
		cJSON_AddItemToObject(lc->body, v->string, cJSON_Duplicate(v, 1));
	}
	return 0;
}

int api_as_describe_launch_configurations(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	int max;
	char *after;
	if (max_records(in, 50, 100, &max, e) || next_token(in, "launchConfigurations", &after, e))
		return -1;
	const cJSON *names = api_get(in, "LaunchConfigurationNames");
	struct region *r = model_region_find(ctx->m, ctx->region);
	cJSON *o = cJSON_CreateObject();
	cJSON *list = cJSON_AddArrayToObject(o, "LaunchConfigurations");
	int k = 0;
	for (size_t i = r ? sidx_after(&r->as_lcs, after) : 0; r && i < r->as_lcs.n; i++) {
		const struct as_launch_config *lc = r->as_lcs.v[i].val;
		if (names && cJSON_GetArraySize(names) > 0 && !in_list(names, lc->name))
			continue;
		if (k == max) {
			put_token(o, "launchConfigurations", r->as_lcs.v[i - 1].key);
			break;
		}
		cJSON_AddItemToArray(list, codec_as_lc(lc, 0));
		k++;
	}
	free(after);
	*out = o;
	return 0;
}

int api_as_delete_launch_configuration(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	(void)out;
	const char *name = api_str(in, "LaunchConfigurationName");
	struct region *r = model_region_find(ctx->m, ctx->region);
	struct as_launch_config *lc = r ? model_as_lc_find(r, name) : NULL;
	if (!lc)
		return lc_not_found(name, e);
	for (size_t i = 0; i < r->as_groups.n; i++) {
		const struct as_group *g = r->as_groups.v[i].val;
		if (g->launch_config && strcmp(g->launch_config, name) == 0)
			return err_set(e, ERR_AS_RESOURCE_IN_USE,
				       "Cannot delete launch configuration %s because it is attached to AutoScalingGroup %s",
				       name, g->name);
	}
	model_as_lc_purge(ctx->m, r, lc);
	return 0;
}

/* ---- groups: the request's settings ---- */

/* What a create or update asks for, checked before anything changes. */
struct group_req {
	const char *lc;             /* LaunchConfigurationName, or NULL */
	const cJSON *mixed;         /* MixedInstancesPolicy, or NULL */
	char **zones;               /* AvailabilityZones, or derived from VPCZoneIdentifier */
	size_t n_zones;
	bool zones_given;
};

static void group_req_release(struct group_req *q)
{
	for (size_t i = 0; i < q->n_zones; i++)
		free(q->zones[i]);
	free(q->zones);
}

static const char source_rule[] =
	"Valid requests must contain either LaunchTemplate, LaunchConfigurationName, InstanceId or MixedInstancesPolicy parameter.";

/* The launch source: a launch configuration that exists, or a
 * MixedInstancesPolicy whose overrides name catalogue types.  required:
 * one must be given (create). */
static int check_source(const struct region *r, const cJSON *in, bool required, struct group_req *q,
			struct err *e)
{
	q->lc = api_str(in, "LaunchConfigurationName");
	q->mixed = api_get(in, "MixedInstancesPolicy");
	const cJSON *lt = api_get(in, "LaunchTemplate");
	const cJSON *iid = api_get(in, "InstanceId");
	int n = !!q->lc + !!q->mixed + !!lt + !!iid;
	if (n > 1 || (required && n == 0))
		return err_set(e, ERR_VALIDATION, source_rule);
	if (iid)
		return err_set(e, ERR_VALIDATION,
			       "Berth has no EC2 instances to copy: give LaunchConfigurationName or MixedInstancesPolicy instead of InstanceId.");
	if (lt)
		return err_set(e, ERR_VALIDATION,
			       "Berth has no EC2 launch templates to read an instance type from: give LaunchConfigurationName, or MixedInstancesPolicy with instance type overrides.");
	if (q->lc && !model_as_lc_find(r, q->lc))
		return lc_not_found(q->lc, e);
	if (q->mixed) {
		const cJSON *ov = api_get(api_get(q->mixed, "LaunchTemplate"), "Overrides");
		if (cJSON_GetArraySize(ov) < 1)
			return err_set(e, ERR_VALIDATION,
				       "Berth needs the instance types of a MixedInstancesPolicy: give LaunchTemplate.Overrides with at least one InstanceType.");
		const cJSON *it;
		cJSON_ArrayForEach(it, ov)
		{
			const char *type = api_str(it, "InstanceType");
			if (!type)
				return err_set(e, ERR_VALIDATION,
					       "Berth needs an InstanceType in every override of a MixedInstancesPolicy (InstanceRequirements are not supported).");
			if (check_instance_type(type, e))
				return -1;
		}
	}
	return 0;
}

/* AvailabilityZones (each "<region><letter>"), or one zone a subnet of
 * VPCZoneIdentifier ("<region>a", "<region>b" ... in order).  required: one
 * of them must be given (create). */
static int check_zones(struct api_ctx *ctx, const cJSON *in, bool required, struct group_req *q, struct err *e)
{
	const cJSON *az = api_get(in, "AvailabilityZones");
	const char *vpc = api_str(in, "VPCZoneIdentifier");
	size_t rl = strlen(ctx->region);
	if (cJSON_GetArraySize(az) > 0) {
		const cJSON *it;
		cJSON_ArrayForEach(it, az)
		{
			const char *z = it->valuestring;
			if (strncmp(z, ctx->region, rl) != 0 || strlen(z) != rl + 1 || z[rl] < 'a' || z[rl] > 'z')
				return err_set(e, ERR_VALIDATION, "The availability zone %s is not legal", z);
		}
		q->zones = xcalloc((size_t)cJSON_GetArraySize(az), sizeof *q->zones);
		cJSON_ArrayForEach(it, az)
		{
			bool dup = false;
			for (size_t i = 0; i < q->n_zones; i++)
				dup = dup || strcmp(q->zones[i], it->valuestring) == 0;
			if (!dup)
				q->zones[q->n_zones++] = xstrdup(it->valuestring);
		}
		q->zones_given = true;
		return 0;
	}
	if (vpc && *vpc) {
		size_t n = 1;
		for (const char *p = vpc; *p; p++)
			n += *p == ',';
		q->zones = xcalloc(n < 26 ? n : 26, sizeof *q->zones);
		for (size_t i = 0; i < n && i < 26; i++)
			q->zones[q->n_zones++] = xasprintf("%s%c", ctx->region, (char)('a' + i));
		q->zones_given = true;
		return 0;
	}
	if (required)
		return err_set(e, ERR_VALIDATION, "At least one Availability Zone or VPC Subnet is required.");
	return 0;
}

static int check_size(const char *member, int v, struct err *e)
{
	if (v < 0)
		return err_set(e, ERR_VALIDATION,
			       "1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have value greater than or equal to 0",
			       v, member);
	return 0;
}

static int check_bounds(int min, int max, struct err *e)
{
	if (min > max)
		return err_set(e, ERR_VALIDATION, "Max bound, %d, must be greater than or equal to min bound, %d", max,
			       min);
	return 0;
}

static int check_tags(const cJSON *tags, struct err *e)
{
	if (cJSON_GetArraySize(tags) > 50)
		return err_set(e, ERR_AS_LIMIT_EXCEEDED,
			       "The number of tags exceeds the limit of 50 tags per Auto Scaling group.");
	const cJSON *t;
	cJSON_ArrayForEach(t, tags)
	{
		const char *k = api_str(t, "Key");
		if (!k || !*k)
			return err_set(e, ERR_VALIDATION, "Tag key must not be empty.");
		if (strncmp(k, "aws:", 4) == 0)
			return err_set(e, ERR_VALIDATION, "Tag keys starting with 'aws:' are reserved for internal use.");
	}
	return 0;
}

/* Members Berth keeps and answers back as given. */
static const char *const kept[] = {
	"LoadBalancerNames", "TargetGroupARNs", "PlacementGroup", "Context", "DesiredCapacityType",
	"TrafficSources", "InstanceMaintenancePolicy", "AvailabilityZoneDistribution",
	"AvailabilityZoneImpairmentPolicy", "CapacityReservationSpecification", "DeletionProtection",
	"InstanceLifecyclePolicy",
};

/* Apply the settings of a create or update request (already checked) to g. */
static void apply_settings(struct as_group *g, const cJSON *in, struct group_req *q)
{
	if (q->lc) {
		free(g->launch_config);
		g->launch_config = xstrdup(q->lc);
		cJSON_Delete(g->mixed);
		g->mixed = NULL;
	} else if (q->mixed) {
		cJSON_Delete(g->mixed);
		g->mixed = cJSON_Duplicate(q->mixed, 1);
		free(g->launch_config);
		g->launch_config = NULL;
	}
	if (q->zones_given) {
		for (size_t i = 0; i < g->n_zones; i++)
			free(g->zones[i]);
		free(g->zones);
		g->zones = q->zones;
		g->n_zones = q->n_zones;
		q->zones = NULL;
		q->n_zones = 0;
	}
	const char *vpc = api_str(in, "VPCZoneIdentifier");
	if (vpc) {
		free(g->vpc_zone_identifier);
		g->vpc_zone_identifier = xstrdup(vpc);
	}
	g->cooldown = api_int(in, "DefaultCooldown", g->cooldown);
	const char *hct = api_str(in, "HealthCheckType");
	if (hct) {
		free(g->health_check_type);
		g->health_check_type = xstrdup(hct);
	}
	g->health_check_grace = api_int(in, "HealthCheckGracePeriod", g->health_check_grace);
	const cJSON *tp = api_get(in, "TerminationPolicies");
	if (tp) {
		for (size_t i = 0; i < g->n_tp; i++)
			free(g->termination_policies[i]);
		free(g->termination_policies);
		g->termination_policies = NULL;
		g->n_tp = 0;
		int n = cJSON_GetArraySize(tp);
		if (n > 0) {
			g->termination_policies = xcalloc((size_t)n, sizeof *g->termination_policies);
			const cJSON *it;
			cJSON_ArrayForEach(it, tp)
			{
				g->termination_policies[g->n_tp++] = xstrdup(it->valuestring);
			}
		}
	}
	g->new_protected = api_bool(in, "NewInstancesProtectedFromScaleIn", g->new_protected);
	g->capacity_rebalance = api_bool(in, "CapacityRebalance", g->capacity_rebalance);
	g->max_instance_lifetime = api_int(in, "MaxInstanceLifetime", g->max_instance_lifetime);
	g->default_instance_warmup = api_int(in, "DefaultInstanceWarmup", g->default_instance_warmup);
	for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
		const cJSON *v = api_get(in, kept[i]);
		if (!v)
			continue;
		cJSON_DeleteItemFromObjectCaseSensitive(g->extra, kept[i]);
		cJSON_AddItemToObject(g->extra, kept[i], cJSON_Duplicate(v, 1));
	}
}

static void set_tags(struct as_group *g, const cJSON *tags)
{
	const cJSON *t;
	cJSON_ArrayForEach(t, tags)
	{
		const char *k = api_str(t, "Key");
		const char *v = api_str(t, "Value");
		struct as_tag *tag = NULL;
		for (size_t i = 0; i < g->n_tags && !tag; i++)
			if (strcmp(g->tags[i].key, k) == 0)
				tag = &g->tags[i];
		if (!tag) {
			g->tags = xrealloc(g->tags, (g->n_tags + 1) * sizeof *g->tags);
			tag = &g->tags[g->n_tags++];
			tag->key = xstrdup(k);
		} else {
			free(tag->value);
		}
		tag->value = xstrdup(v ? v : "");
		tag->propagate = api_bool(t, "PropagateAtLaunch", false);
	}
}

static int group_not_found(const char *name, struct err *e)
{
	(void)name;
	return err_set(e, ERR_VALIDATION, "AutoScalingGroup name not found - null");
}

/* ---- groups: the actions ---- */

int api_as_create_auto_scaling_group(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	(void)out;
	const char *name = api_str(in, "AutoScalingGroupName");
	struct region *r = model_region(ctx->m, ctx->region);
	if (model_as_group_find(r, name))
		return err_set(e, ERR_AS_ALREADY_EXISTS,
			       "AutoScalingGroup by this name already exists - A group with the name %s already exists",
			       name);
	int min = api_int(in, "MinSize", 0), max = api_int(in, "MaxSize", 0);
	bool has_desired = api_get(in, "DesiredCapacity") != NULL;
	int desired = api_int(in, "DesiredCapacity", min);
	const cJSON *tags = api_get(in, "Tags");
	struct group_req q = {0};
	if (check_source(r, in, true, &q, e) || check_size("minSize", min, e) || check_size("maxSize", max, e) ||
	    (has_desired && check_size("desiredCapacity", desired, e)) || check_bounds(min, max, e))
		return -1;
	if (desired < min || desired > max)
		return err_set(e, ERR_VALIDATION,
			       "Desired capacity:%d must be between the specified min size:%d and max size:%d", desired,
			       min, max);
	if (check_tags(tags, e) || check_zones(ctx, in, true, &q, e)) {
		group_req_release(&q);
		return -1;
	}
	char uuid[37];
	rng_uuid(ctx->rng, uuid);
	struct as_group *g = model_as_group_new(ctx->m, r, name, uuid, ctx->now);
	g->min = min;
	g->max = max;
	g->desired = desired;
	g->cooldown = 300;
	g->health_check_type = xstrdup("EC2");
	apply_settings(g, in, &q);
	group_req_release(&q);
	set_tags(g, tags);
	char t[40];
	char *why = xasprintf("At %s a user request created an AutoScalingGroup changing the desired capacity from 0 to %d.",
			      iso(ctx, t, sizeof t), desired);
	reconcile(ctx, g, why);
	free(why);
	return 0;
}

/* The tag filters of DescribeAutoScalingGroups: tag-key, tag-value,
 * tag:<key>; every filter must match (values within one: any). */
static int check_filters(const cJSON *filters, struct err *e)
{
	const cJSON *f;
	cJSON_ArrayForEach(f, filters)
	{
		const char *n = api_str(f, "Name");
		if (!n || (strcmp(n, "tag-key") && strcmp(n, "tag-value") && strncmp(n, "tag:", 4)))
			return err_set(e, ERR_VALIDATION,
				       "Filter name %s is not supported: Berth filters groups by tag-key, tag-value and tag:<key>.",
				       n ? n : "null");
	}
	return 0;
}

static bool filters_match(const struct as_group *g, const cJSON *filters)
{
	const cJSON *f;
	cJSON_ArrayForEach(f, filters)
	{
		const char *n = api_str(f, "Name");
		const cJSON *vals = api_get(f, "Values");
		bool ok = false;
		for (size_t i = 0; i < g->n_tags && !ok; i++) {
			const struct as_tag *t = &g->tags[i];
			if (strcmp(n, "tag-key") == 0)
				ok = in_list(vals, t->key);
			else if (strcmp(n, "tag-value") == 0)
				ok = in_list(vals, t->value);
			else
				ok = strcmp(n + 4, t->key) == 0 && in_list(vals, t->value);
		}
		if (!ok)
			return false;
	}
	return true;
}

int api_as_describe_auto_scaling_groups(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	int max;
	char *after;
	const cJSON *filters = api_get(in, "Filters");
	if (max_records(in, 50, 100, &max, e) || check_filters(filters, e) ||
	    next_token(in, "autoScalingGroups", &after, e))
		return -1;
	const cJSON *names = api_get(in, "AutoScalingGroupNames");
	bool with_instances = api_bool(in, "IncludeInstances", true);
	struct region *r = model_region_find(ctx->m, ctx->region);
	cJSON *o = cJSON_CreateObject();
	cJSON *list = cJSON_AddArrayToObject(o, "AutoScalingGroups");
	int k = 0;
	for (size_t i = r ? sidx_after(&r->as_groups, after) : 0; r && i < r->as_groups.n; i++) {
		const struct as_group *g = r->as_groups.v[i].val;
		if (names && cJSON_GetArraySize(names) > 0 && !in_list(names, g->name))
			continue;
		if (!filters_match(g, filters))
			continue;
		if (k == max) {
			put_token(o, "autoScalingGroups", r->as_groups.v[i - 1].key);
			break;
		}
		cJSON *j = codec_as_group(ctx->m, g, 0);
		if (!with_instances)
			cJSON_DeleteItemFromObjectCaseSensitive(j, "Instances");
		cJSON_AddItemToArray(list, j);
		k++;
	}
	free(after);
	*out = o;
	return 0;
}

int api_as_update_auto_scaling_group(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	(void)out;
	const char *name = api_str(in, "AutoScalingGroupName");
	struct region *r = model_region(ctx->m, ctx->region);
	struct as_group *g = model_as_group_find(r, name);
	if (!g)
		return group_not_found(name, e);
	if (check_not_deleting(g, e))
		return -1;
	bool has_min = api_get(in, "MinSize"), has_max = api_get(in, "MaxSize");
	bool has_desired = api_get(in, "DesiredCapacity") != NULL;
	int min = api_int(in, "MinSize", g->min), max = api_int(in, "MaxSize", g->max);
	int desired = api_int(in, "DesiredCapacity", g->desired);
	if ((has_min && check_size("minSize", min, e)) || (has_max && check_size("maxSize", max, e)) ||
	    (has_desired && check_size("desiredCapacity", desired, e)) || check_bounds(min, max, e))
		return -1;
	if (has_desired && (desired < min || desired > max))
		return err_set(e, ERR_VALIDATION,
			       "Desired capacity:%d must be between the specified min size:%d and max size:%d", desired,
			       min, max);
	/* New bounds carry the desired capacity with them, as AWS does. */
	if (desired < min)
		desired = min;
	if (desired > max)
		desired = max;
	struct group_req q = {0};
	if (check_source(r, in, false, &q, e) || check_zones(ctx, in, false, &q, e)) {
		group_req_release(&q);
		return -1;
	}
	int old = g->desired;
	g->min = min;
	g->max = max;
	g->desired = desired;
	apply_settings(g, in, &q);
	group_req_release(&q);
	model_dirty_as_group(ctx->m, g);
	char t[40];
	char *why = old == desired ? NULL
				   : xasprintf("At %s a user request update of AutoScalingGroup constraints to min: %d, max: %d, desired: %d changing the desired capacity from %d to %d.",
					       iso(ctx, t, sizeof t), min, max, desired, old, desired);
	reconcile(ctx, g, why);
	free(why);
	return 0;
}

int api_as_set_desired_capacity(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	(void)out;
	const char *name = api_str(in, "AutoScalingGroupName");
	struct as_group *g = api_as_group_find(ctx, name);
	if (!g || strncmp(name, "arn:", 4) == 0)
		return group_not_found(name, e);
	int desired = api_int(in, "DesiredCapacity", 0);
	if (check_size("desiredCapacity", desired, e))
		return -1;
	return api_as_set_desired(ctx, g, desired, e);
}

static void purge_policies(struct api_ctx *ctx, struct region *r, const char *group)
{
	for (size_t i = r->as_policies.n; i-- > 0;) {
		struct as_policy *p = r->as_policies.v[i].val;
		if (strcmp(p->group, group) == 0)
			model_as_policy_purge(ctx->m, r, p);
	}
}

int api_as_delete_auto_scaling_group(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	(void)out;
	const char *name = api_str(in, "AutoScalingGroupName");
	bool force = api_bool(in, "ForceDelete", false);
	struct region *r = model_region(ctx->m, ctx->region);
	struct as_group *g = model_as_group_find(r, name);
	if (!g)
		return err_set(e, ERR_VALIDATION, "AutoScalingGroup name not found - AutoScalingGroup '%s' not found",
			       name);
	if (g->deleting)
		return 0;
	const cJSON *dp = cJSON_GetObjectItemCaseSensitive(g->extra, "DeletionProtection");
	const char *prot = cJSON_IsString(dp) ? dp->valuestring : "none";
	if (strcmp(prot, "prevent-all-deletion") == 0 || (force && strcmp(prot, "prevent-force-deletion") == 0))
		return err_set(e, ERR_VALIDATION,
			       "AutoScalingGroup %s has deletion protection set to %s and cannot be deleted%s.", name, prot,
			       force ? " with ForceDelete" : "");
	if (!force) {
		bool any_live = false, any_terminating = false;
		for (size_t i = 0; i < g->n_inst; i++) {
			any_live = any_live || live(g->inst[i]);
			any_terminating = any_terminating || g->inst[i]->lifecycle == AS_TERMINATING;
		}
		if (any_live)
			return err_set(e, ERR_AS_RESOURCE_IN_USE,
				       "You cannot delete an AutoScalingGroup while there are instances or pending Spot instance request(s) still in the group.");
		if (any_terminating)
			return err_set(e, ERR_AS_SCALING_ACTIVITY_IN_PROGRESS,
				       "You cannot delete an AutoScalingGroup while there are scaling activities in progress for that group.");
	}
	purge_policies(ctx, r, g->name);
	if (!g->n_inst) {
		model_as_group_purge(ctx->m, r, g);
		return 0;
	}
	char t[40];
	char *why = xasprintf("At %s a user request deleted the AutoScalingGroup changing the desired capacity from %d to 0.",
			      iso(ctx, t, sizeof t), g->desired);
	g->deleting = true;
	g->min = g->max = g->desired = 0;
	model_dirty_as_group(ctx->m, g);
	/* Each termination may complete at once and purge the group with its
	 * last instance: look it up again every time. */
	char *gname = xstrdup(g->name);
	while ((g = model_as_group_find(r, gname))) {
		struct as_instance *v = NULL;
		for (size_t i = 0; i < g->n_inst && !v; i++)
			if (live(g->inst[i]))
				v = g->inst[i];
		if (!v)
			break;
		terminate_one(ctx, g, v, why, false);
	}
	if (g && !g->n_inst)
		model_as_group_purge(ctx->m, r, g);
	free(gname);
	free(why);
	return 0;
}

/* ---- instances ---- */

int api_as_set_instance_protection(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	(void)out;
	const char *name = api_str(in, "AutoScalingGroupName");
	const cJSON *ids = api_get(in, "InstanceIds");
	bool protect = api_bool(in, "ProtectedFromScaleIn", false);
	struct region *r = model_region(ctx->m, ctx->region);
	struct as_group *g = model_as_group_find(r, name);
	if (!g)
		return err_set(e, ERR_VALIDATION, "AutoScalingGroup name not found - AutoScalingGroup %s not found", name);
	if (cJSON_GetArraySize(ids) > 50)
		return err_set(e, ERR_AS_LIMIT_EXCEEDED,
			       "The number of instances in the request exceeds the limit of 50 instances.");
	const cJSON *it;
	cJSON_ArrayForEach(it, ids)
	{
		const struct as_instance *inst = model_as_instance_find(r, it->valuestring);
		if (!inst || inst->group != g)
			return err_set(e, ERR_VALIDATION, "The instance %s is not part of Auto Scaling group %s.",
				       it->valuestring, name);
	}
	/* Protection first, reconciliation after: clearing it for several
	 * instances of a group above its desired capacity must not terminate
	 * one before the next is looked up. */
	bool cleared = false;
	cJSON_ArrayForEach(it, ids)
	{
		struct as_instance *inst = model_as_instance_find(r, it->valuestring);
		if (inst && inst->protect != protect) {
			inst->protect = protect;
			cleared = cleared || !protect;
		}
	}
	model_dirty_as_group(ctx->m, g);
	if (cleared)
		reconcile(ctx, g, NULL);
	return 0;
}

int api_as_describe_auto_scaling_instances(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	int max;
	char *after;
	if (max_records(in, 50, 50, &max, e) || next_token(in, "autoScalingInstances", &after, e))
		return -1;
	const cJSON *ids = api_get(in, "InstanceIds");
	struct region *r = model_region_find(ctx->m, ctx->region);
	cJSON *o = cJSON_CreateObject();
	cJSON *list = cJSON_AddArrayToObject(o, "AutoScalingInstances");
	int k = 0;
	for (size_t i = r ? sidx_after(&r->as_instances, after) : 0; r && i < r->as_instances.n; i++) {
		const struct as_instance *inst = r->as_instances.v[i].val;
		if (ids && cJSON_GetArraySize(ids) > 0 && !in_list(ids, inst->id))
			continue;
		if (k == max) {
			put_token(o, "autoScalingInstances", r->as_instances.v[i - 1].key);
			break;
		}
		cJSON_AddItemToArray(list, codec_as_instance(inst, true));
		k++;
	}
	free(after);
	*out = o;
	return 0;
}

int api_as_terminate_instance_in_auto_scaling_group(struct api_ctx *ctx, const cJSON *in, cJSON **out,
						    struct err *e)
{
	const char *id = api_str(in, "InstanceId");
	bool decrement = api_bool(in, "ShouldDecrementDesiredCapacity", false);
	struct region *r = model_region(ctx->m, ctx->region);
	struct as_instance *inst = model_as_instance_find(r, id);
	if (!inst)
		return err_set(e, ERR_VALIDATION,
			       "Instance Id not found - No managed instance found for instance ID: %s", id);
	struct as_group *g = inst->group;
	if (check_not_deleting(g, e))
		return -1;
	if (!live(inst)) {
		/* Already on its way out: its termination is the answer. */
		const struct as_activity *a = model_as_activity_find(g, inst->activity);
		if (!a)
			return err_set(e, ERR_AS_SCALING_ACTIVITY_IN_PROGRESS,
				       "Instance %s is already being terminated.", id);
		*out = cJSON_CreateObject();
		cJSON_AddItemToObject(*out, "Activity", codec_as_activity(g, a));
		return 0;
	}
	if (decrement && g->desired <= g->min)
		return err_set(e, ERR_VALIDATION,
			       "Currently, desiredSize equals minSize (%d). Terminating instance without replacement will violate group's min size constraint. Either set shouldDecrementDesiredCapacity flag to false or lower group's min size.",
			       g->min);
	char t[40];
	iso(ctx, t, sizeof t);
	char *cause;
	if (decrement) {
		cause = xasprintf("At %s instance %s was taken out of service in response to a user request, shrinking the capacity from %d to %d.",
				  t, id, g->desired, g->desired - 1);
		g->desired--;
	} else {
		cause = xasprintf("At %s instance %s was taken out of service in response to a user request.", t, id);
	}
	model_dirty_as_group(ctx->m, g);
	char *gname = xstrdup(g->name);
	cJSON *act = terminate_one(ctx, g, inst, cause, true);
	free(cause);
	/* Without the decrement the group launches a replacement. */
	g = model_as_group_find(r, gname);
	free(gname);
	if (g && !decrement)
		reconcile(ctx, g, NULL);
	*out = cJSON_CreateObject();
	cJSON_AddItemToObject(*out, "Activity", act);
	return 0;
}

/* ---- activities ---- */

struct act_ref {
	const struct as_group *g;
	const struct as_activity *a;
	size_t gi, k;               /* the group's place in the region, the activity's in the group */
};

static int newest_first(const void *x, const void *y)
{
	const struct act_ref *a = x, *b = y;
	if (a->a->start != b->a->start)
		return a->a->start < b->a->start ? 1 : -1;
	/* Within a millisecond: a group's own order (newest first). */
	if (a->gi != b->gi)
		return a->gi < b->gi ? -1 : 1;
	return (a->k > b->k) - (a->k < b->k);
}

int api_as_describe_scaling_activities(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	int max;
	char *after;
	if (max_records(in, 100, 100, &max, e) || next_token(in, "activities", &after, e))
		return -1;
	const char *name = api_str(in, "AutoScalingGroupName");
	const cJSON *ids = api_get(in, "ActivityIds");
	struct region *r = model_region_find(ctx->m, ctx->region);
	size_t n = 0, cap = 0;
	struct act_ref *v = NULL;
	for (size_t i = 0; r && i < r->as_groups.n; i++) {
		const struct as_group *g = r->as_groups.v[i].val;
		if (name && strcmp(g->name, name) != 0)
			continue;
		for (size_t k = 0; k < g->n_acts; k++) {
			if (ids && cJSON_GetArraySize(ids) > 0 && !in_list(ids, g->acts[k].id))
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				v = xrealloc(v, cap * sizeof *v);
			}
			v[n++] = (struct act_ref){g, &g->acts[k], i, k};
		}
	}
	if (n > 1)
		qsort(v, n, sizeof *v, newest_first);
	size_t start = 0;
	if (after) {
		while (start < n && strcmp(v[start].a->id, after) != 0)
			start++;
		if (start == n) {
			free(v);
			err_set(e, ERR_AS_INVALID_NEXT_TOKEN, "The token '%.64s' is invalid.", api_str(in, "NextToken"));
			free(after);
			return -1;
		}
		start++;
	}
	free(after);
	cJSON *o = cJSON_CreateObject();
	cJSON *list = cJSON_AddArrayToObject(o, "Activities");
	for (size_t i = start; i < n; i++) {
		if (i - start == (size_t)max) {
			put_token(o, "activities", v[i - 1].a->id);
			break;
		}
		cJSON_AddItemToArray(list, codec_as_activity(v[i].g, v[i].a));
	}
	free(v);
	*out = o;
	return 0;
}

/* ---- policies ---- */

int api_as_describe_policies(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	int max;
	char *after;
	if (max_records(in, 50, 100, &max, e) || next_token(in, "policies", &after, e))
		return -1;
	const char *group = api_str(in, "AutoScalingGroupName");
	const cJSON *names = api_get(in, "PolicyNames");
	const cJSON *types = api_get(in, "PolicyTypes");
	struct region *r = model_region_find(ctx->m, ctx->region);
	cJSON *o = cJSON_CreateObject();
	cJSON *list = cJSON_AddArrayToObject(o, "ScalingPolicies");
	int k = 0;
	for (size_t i = r ? sidx_after(&r->as_policies, after) : 0; r && i < r->as_policies.n; i++) {
		const struct as_policy *p = r->as_policies.v[i].val;
		if (group && strcmp(p->group, group_name_of(group)) != 0)
			continue;
		if (cJSON_GetArraySize(names) > 0 && !in_list(names, p->name) && !in_list(names, p->arn))
			continue;
		const char *type = api_str(p->body, "PolicyType");
		if (cJSON_GetArraySize(types) > 0 && !(type && in_list(types, type)))
			continue;
		if (k == max) {
			put_token(o, "policies", r->as_policies.v[i - 1].key);
			break;
		}
		cJSON_AddItemToArray(list, codec_as_policy(p, 0));
		k++;
	}
	free(after);
	*out = o;
	return 0;
}

struct as_policy *api_as_find_managed_policy(struct api_ctx *ctx, struct as_group *g, const char *cluster,
					     const char *provider)
{
	struct region *r = model_region_find(ctx->m, g->region);
	for (size_t i = 0; r && i < r->as_policies.n; i++) {
		struct as_policy *p = r->as_policies.v[i].val;
		if (strcmp(p->group, g->name) == 0 && p->ecs_cluster && p->ecs_provider &&
		    strcmp(p->ecs_cluster, cluster) == 0 && strcmp(p->ecs_provider, provider) == 0)
			return p;
	}
	return NULL;
}

static cJSON *alarm(struct api_ctx *ctx, const struct as_group *g, const char *uuid, const char *which)
{
	cJSON *a = cJSON_CreateObject();
	char *name = xasprintf("TargetTracking-%s-%s-%s", g->name, which, uuid);
	char *arn = xasprintf("arn:%s:cloudwatch:%s:%s:alarm:%s", ctx->m->partition, g->region, ctx->m->account, name);
	cJSON_AddStringToObject(a, "AlarmName", name);
	cJSON_AddStringToObject(a, "AlarmARN", arn);
	free(name);
	free(arn);
	return a;
}

struct as_policy *api_as_put_managed_policy(struct api_ctx *ctx, struct as_group *g, const char *cluster,
					    const char *provider, int target, int warmup)
{
	struct region *r = model_region(ctx->m, g->region);
	struct as_policy *p = api_as_find_managed_policy(ctx, g, cluster, provider);
	char uuid[37];
	rng_uuid(ctx->rng, uuid);
	if (!p) {
		char *name = xasprintf("ECSManagedAutoScalingPolicy-%s", uuid);
		p = model_as_policy_new(ctx->m, r, g->name, name, uuid);
		free(name);
		p->ecs_cluster = xstrdup(cluster);
		p->ecs_provider = xstrdup(provider);
	}
	cJSON_Delete(p->body);
	cJSON *b = p->body = cJSON_CreateObject();
	cJSON_AddStringToObject(b, "PolicyType", "TargetTrackingScaling");
	cJSON_AddArrayToObject(b, "StepAdjustments");
	cJSON_AddNumberToObject(b, "EstimatedInstanceWarmup", warmup);
	cJSON *alarms = cJSON_AddArrayToObject(b, "Alarms");
	cJSON_AddItemToArray(alarms, alarm(ctx, g, uuid, "AlarmHigh"));
	cJSON_AddItemToArray(alarms, alarm(ctx, g, uuid, "AlarmLow"));
	cJSON *tt = cJSON_AddObjectToObject(b, "TargetTrackingConfiguration");
	cJSON *cm = cJSON_AddObjectToObject(tt, "CustomizedMetricSpecification");
	cJSON_AddStringToObject(cm, "MetricName", "CapacityProviderReservation");
	cJSON_AddStringToObject(cm, "Namespace", "AWS/ECS/ManagedScaling");
	cJSON *dims = cJSON_AddArrayToObject(cm, "Dimensions");
	cJSON *d1 = cJSON_CreateObject();
	cJSON_AddStringToObject(d1, "Name", "CapacityProviderName");
	cJSON_AddStringToObject(d1, "Value", provider);
	cJSON_AddItemToArray(dims, d1);
	cJSON *d2 = cJSON_CreateObject();
	cJSON_AddStringToObject(d2, "Name", "ClusterName");
	cJSON_AddStringToObject(d2, "Value", cluster);
	cJSON_AddItemToArray(dims, d2);
	cJSON_AddStringToObject(cm, "Statistic", "Average");
	cJSON_AddNumberToObject(tt, "TargetValue", target);
	cJSON_AddBoolToObject(tt, "DisableScaleIn", false);
	cJSON_AddBoolToObject(b, "Enabled", true);
	model_dirty_as_policy(ctx->m, p);
	return p;
}

int api_as_delete_policy(struct api_ctx *ctx, struct as_group *g, const char *name)
{
	struct region *r = model_region_find(ctx->m, g->region);
	struct as_policy *p = r ? model_as_policy_find(r, g->name, name) : NULL;
	if (!p)
		return -1;
	model_as_policy_purge(ctx->m, r, p);
	return 0;
}
