/* api_capacity: the capacity provider actions (ECS-SEMANTICS §3):
 * CreateCapacityProvider, DescribeCapacityProviders, UpdateCapacityProvider,
 * DeleteCapacityProvider, and their status/updateStatus transitions (§3.9):
 *
 *   Create        -> ACTIVE, no updateStatus
 *   Update        -> ACTIVE + UPDATE_IN_PROGRESS (old values shown)
 *                    -> new values + UPDATE_COMPLETE after the transition delay
 *   Delete, free  -> ACTIVE + DELETE_IN_PROGRESS
 *                    -> INACTIVE + DELETE_COMPLETE, describable for the retention
 *   Delete, in use-> ACTIVE + DELETE_FAILED with the cluster named
 *
 * FARGATE and FARGATE_SPOT are not stored: they exist in every region and
 * can be neither created, updated nor deleted. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "lib/xalloc.h"
#include "model/codec.h"

static int invalid_name(struct err *e)
{
	return err_set(e, ERR_CLIENT,
		       "The specified capacity provider name is invalid. Up to 255 characters are allowed, including letters (upper and lowercase), numbers, underscores, and hyphens. The name cannot be prefixed with \"aws\", \"ecs\", or \"fargate\". Specify a valid name and try again.");
}

static bool reserved_prefix(const char *name)
{
	return strncasecmp(name, "aws", 3) == 0 || strncasecmp(name, "ecs", 3) == 0 ||
	       strncasecmp(name, "fargate", 7) == 0;
}

/* The group name inside an Auto Scaling group ARN, or the reference itself
 * when it is a plain name: one provider per group, whichever form is used. */
static char *asg_name_of(const char *ref)
{
	const char *p = strstr(ref, ":autoScalingGroupName/");
	if (strncmp(ref, "arn:", 4) == 0 && p)
		return xstrdup(p + strlen(":autoScalingGroupName/"));
	return xstrdup(ref);
}

static int check_asg_ref(const char *ref, struct err *e)
{
	if (strncmp(ref, "arn:", 4) == 0) {
		if (!strstr(ref, ":autoscaling:") || !strstr(ref, ":autoScalingGroupName/") ||
		    ref[strlen(ref) - 1] == '/')
			return err_set(e, ERR_CLIENT,
				       "The specified Auto Scaling group ARN is invalid. Specify a valid Auto Scaling group ARN or name and try again.");
		return 0;
	}
	size_t n = strlen(ref);
	if (n < 1 || n > 255)
		return err_set(e, ERR_CLIENT,
			       "The specified Auto Scaling group ARN is invalid. Specify a valid Auto Scaling group ARN or name and try again.");
	return 0;
}

/* Fill s from a request's managedScaling/termination/draining members,
 * starting from base (the defaults or the current values). */
static void read_settings(struct asg_settings *s, const cJSON *p)
{
	const cJSON *ms = api_get(p, "managedScaling");
	if (ms) {
		s->ms.enabled = api_enabled(ms, "status", s->ms.enabled);
		s->ms.target_capacity = api_int(ms, "targetCapacity", s->ms.target_capacity);
		s->ms.min_step = api_int(ms, "minimumScalingStepSize", s->ms.min_step);
		s->ms.max_step = api_int(ms, "maximumScalingStepSize", s->ms.max_step);
		s->ms.warmup = api_int(ms, "instanceWarmupPeriod", s->ms.warmup);
	}
	s->termination_protection = api_enabled(p, "managedTerminationProtection", s->termination_protection);
	s->draining = api_enabled(p, "managedDraining", s->draining);
}

static int check_settings(const struct asg_settings *s, struct err *e)
{
	if (s->ms.min_step > s->ms.max_step)
		return err_set(e, ERR_CLIENT,
			       "The specified minimum scaling step size is invalid. It cannot be greater than the maximum scaling step size (%d).",
			       s->ms.max_step);
	if (s->termination_protection && !s->ms.enabled)
		return err_set(e, ERR_CLIENT,
			       "The managed termination protection setting for the capacity provider is invalid. To enable managed termination protection for a capacity provider, the capacity provider must also have managed scaling enabled.");
	return 0;
}

static const struct asg_settings defaults = {
	.ms = {.enabled = false, .target_capacity = 100, .min_step = 1, .max_step = 10000, .warmup = 300},
	.termination_protection = false,
	.draining = true,
};

static cJSON *wrap(const struct capacity_provider *cp)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "capacityProvider", codec_cp(cp, CODEC_TAGS));
	return o;
}

int api_create_capacity_provider(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	const char *name = api_str(in, "name");
	const cJSON *asg = api_get(in, "autoScalingGroupProvider");
	const cJSON *tags = api_get(in, "tags");
	if (!api_valid_name(name) || reserved_prefix(name))
		return invalid_name(e);
	if (api_get(in, "managedInstancesProvider"))
		return err_set(e, ERR_UNSUPPORTED_FEATURE,
			       "Berth supports Auto Scaling group capacity providers; managedInstancesProvider is not supported.");
	if (!asg)
		return err_set(e, ERR_INVALID_PARAMETER,
			       "autoScalingGroupProvider must be specified for an Auto Scaling group capacity provider.");
	if (api_get(in, "cluster"))
		return err_set(e, ERR_INVALID_PARAMETER,
			       "The cluster parameter is only valid for Managed Instances capacity providers.");
	const char *ref = api_str(asg, "autoScalingGroupArn");
	if (check_asg_ref(ref, e) || api_tags_check(tags, 0, e))
		return -1;
	struct asg_settings s = defaults;
	read_settings(&s, asg);
	if (check_settings(&s, e))
		return -1;
	struct region *r = model_region(ctx->m, ctx->region);
	if (model_cp_find(r, name))
		return err_set(e, ERR_CLIENT,
			       "The specified capacity provider already exists. To change the configuration of an existing capacity provider, update the capacity provider.");
	/* A deleted (INACTIVE) provider keeps its group, as it keeps its name,
	 * until its record is purged (§3.3: names of deleted providers were not
	 * reusable; the group follows the same rule so that a provider still
	 * describable never shares its group with a live one). */
	char *group = asg_name_of(ref);
	for (size_t i = 0; i < r->cps.n; i++) {
		struct capacity_provider *o = r->cps.v[i].val;
		if (strcmp(o->asg_name, group) == 0) {
			free(group);
			return err_set(e, ERR_CLIENT,
				       "The specified Auto Scaling group ARN is already being used by another capacity provider. Specify a unique Auto Scaling group ARN and try again.");
		}
	}
	struct capacity_provider *cp = model_cp_new(ctx->m, r, name, ctx->now);
	cp->asg_arn = xstrdup(ref);
	cp->asg_name = group;
	cp->cur = s;
	codec_tags_parse(&cp->tags, tags);
	*out = wrap(cp);
	return 0;
}

/* The stored provider a reference (name or ARN of this region) names. */
static struct capacity_provider *find_cp(struct api_ctx *ctx, const char *ref)
{
	const char *name = ref;
	if (strncmp(ref, "arn:", 4) == 0) {
		/* Only this region's capacity-provider/NAME: a longer path such
		 * as capacity-provider/x/NAME names nothing. */
		char *prefix = model_arn(ctx->m, ctx->region, "capacity-provider/");
		size_t pl = strlen(prefix);
		bool ours = strncmp(ref, prefix, pl) == 0 && !strchr(ref + pl, '/');
		free(prefix);
		if (!ours)
			return NULL;
		name = ref + pl;
	}
	struct region *r = model_region_find(ctx->m, ctx->region);
	return r ? model_cp_find(r, name) : NULL;
}

/* FARGATE or FARGATE_SPOT, by name or ARN; NULL otherwise. */
static const char *builtin_of(struct api_ctx *ctx, const char *ref)
{
	static const char *const names[] = {"FARGATE", "FARGATE_SPOT"};
	for (int i = 0; i < 2; i++) {
		if (strcmp(ref, names[i]) == 0)
			return names[i];
		char *res = xasprintf("capacity-provider/%s", names[i]);
		char *arn = model_arn(ctx->m, ctx->region, res);
		bool eq = strcmp(arn, ref) == 0;
		free(arn);
		free(res);
		if (eq)
			return names[i];
	}
	return NULL;
}

static int not_found(struct err *e)
{
	return err_set(e, ERR_CLIENT,
		       "The specified capacity provider does not exist. Specify a valid name or ARN and try again.");
}

int api_describe_capacity_providers(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	const cJSON *names = api_get(in, "capacityProviders");
	if (cJSON_GetArraySize(names) > 100)
		return err_set(e, ERR_INVALID_PARAMETER, "capacityProviders can have at most 100 items.");
	const cJSON *mr = api_get(in, "maxResults");
	int max = api_int(in, "maxResults", 10);
	if (max < 1 || max > 10)
		return err_set(e, ERR_INVALID_PARAMETER,
			       "maxResults must be between 1 and 10; %d is out of range.", max);
	unsigned include = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, api_get(in, "include"))
	if (cJSON_IsString(it) && strcmp(it->valuestring, "TAGS") == 0)
		include |= CODEC_TAGS;
	const char *tok = api_str(in, "nextToken");
	char *after = NULL;
	if (tok && !(after = api_token_decode("capacityProviders", tok, e)))
		return -1;

	cJSON *o = cJSON_CreateObject();
	cJSON *list = cJSON_AddArrayToObject(o, "capacityProviders");
	cJSON *fl = cJSON_AddArrayToObject(o, "failures");
	if (cJSON_GetArraySize(names) > 0) {
		/* Named providers: all of them, pages only when asked for. */
		int idx = 0, start = after ? atoi(after) : 0, k = 0;
		cJSON_ArrayForEach(it, names)
		{
			if (idx++ < start)
				continue;
			if (mr && k == max) {
				char num[16];
				snprintf(num, sizeof num, "%d", idx - 1);
				char *t = api_token_encode("capacityProviders", num);
				cJSON_AddStringToObject(o, "nextToken", t);
				free(t);
				break;
			}
			const char *b = builtin_of(ctx, it->valuestring);
			struct capacity_provider *cp = b ? NULL : find_cp(ctx, it->valuestring);
			if (b) {
				cJSON_AddItemToArray(list, codec_cp_builtin(ctx->m, ctx->region, b, include));
			} else if (cp) {
				cJSON_AddItemToArray(list, codec_cp(cp, include));
			} else {
				cJSON_AddItemToArray(fl, api_failure(ctx, "capacity-provider/", it->valuestring, "MISSING"));
			}
			k++;
		}
	} else {
		/* Every provider: FARGATE, FARGATE_SPOT, then the stored ones by
		 * name.  The token is the last name returned. */
		static const char *const builtins[] = {"FARGATE", "FARGATE_SPOT"};
		struct region *r = model_region_find(ctx->m, ctx->region);
		size_t nb = 2, ns = r ? r->cps.n : 0;
		/* position in the virtual list [FARGATE, FARGATE_SPOT, stored...] */
		size_t pos = 0;
		if (after && strcmp(after, "FARGATE") == 0)
			pos = 1;
		else if (after && strcmp(after, "FARGATE_SPOT") == 0)
			pos = 2;
		else if (after)
			pos = nb + (r ? sidx_after(&r->cps, after) : 0);
		int k = 0;
		const char *last = NULL;
		bool more = false;
		for (; pos < nb + ns; pos++) {
			if (k == max) {
				more = true;
				break;
			}
			if (pos < nb) {
				cJSON_AddItemToArray(list, codec_cp_builtin(ctx->m, ctx->region, builtins[pos], include));
				last = builtins[pos];
			} else {
				struct capacity_provider *cp = r->cps.v[pos - nb].val;
				cJSON_AddItemToArray(list, codec_cp(cp, include));
				last = cp->name;
			}
			k++;
		}
		if (more && last) {
			char *t = api_token_encode("capacityProviders", last);
			cJSON_AddStringToObject(o, "nextToken", t);
			free(t);
		}
	}
	free(after);
	*out = o;
	return 0;
}

/* The names of the non-INACTIVE clusters provider name is associated with,
 * as "a, b" (heap), and their count in *n. */
static char *clusters_of(const struct region *r, const char *name, size_t *n)
{
	char *list = xstrdup("");
	*n = 0;
	for (size_t i = 0; r && i < r->clusters.n; i++) {
		const struct cluster *c = r->clusters.v[i].val;
		if (c->status == CLUSTER_INACTIVE || !cluster_has_cp(c, name))
			continue;
		char *next = xasprintf("%s%s%s", list, *n ? ", " : "", c->name);
		free(list);
		list = next;
		(*n)++;
	}
	return list;
}

int api_update_capacity_provider(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	const char *ref = api_str(in, "name");
	const cJSON *asg = api_get(in, "autoScalingGroupProvider");
	if (builtin_of(ctx, ref))
		return err_set(e, ERR_CLIENT,
			       "The specified capacity provider is reserved and cannot be updated.");
	if (api_get(in, "managedInstancesProvider"))
		return err_set(e, ERR_UNSUPPORTED_FEATURE,
			       "Berth supports Auto Scaling group capacity providers; managedInstancesProvider is not supported.");
	if (!asg)
		return err_set(e, ERR_INVALID_PARAMETER,
			       "autoScalingGroupProvider must be specified to update an Auto Scaling group capacity provider.");
	struct capacity_provider *cp = find_cp(ctx, ref);
	if (!cp || cp->status == CP_INACTIVE)
		return not_found(e);
	if (cp->status != CP_ACTIVE || cp->update == CP_UPD_DELETE_IN_PROGRESS)
		return err_set(e, ERR_CLIENT,
			       "The specified capacity provider '%s' is not in an ACTIVE state and cannot be updated.", cp->name);
	if (cp->update == CP_UPD_UPDATE_IN_PROGRESS)
		return err_set(e, ERR_UPDATE_IN_PROGRESS,
			       "The specified capacity provider '%s' is being updated. Wait for the update to complete and try again.",
			       cp->name);
	struct asg_settings s = cp->cur;
	read_settings(&s, asg);
	if (check_settings(&s, e))
		return -1;
	if (s.ms.enabled && !cp->cur.ms.enabled) {
		/* A provider with managed scaling belongs to one cluster at most
		 * (§3.8); turning it on for a shared provider would break that
		 * rule behind the clusters' back. */
		size_t n;
		char *list = clusters_of(model_region_find(ctx->m, ctx->region), cp->name, &n);
		if (n > 1) {
			err_set(e, ERR_INVALID_PARAMETER,
				"The specified capacity provider '%s' is associated with more than one cluster (%s). A capacity provider with managed scaling enabled can be associated with only one cluster. Remove it from all but one cluster and try again.",
				cp->name, list);
			free(list);
			return -1;
		}
		free(list);
	}
	/* The answer shows the old values; the new ones apply after the
	 * transition, as ECS does. */
	cp->pending = s;
	cp->has_pending = true;
	cp->update = CP_UPD_UPDATE_IN_PROGRESS;
	free(cp->update_reason);
	cp->update_reason = NULL;
	cp->transition_at = ctx->now + ctx->cfg->transition_ms;
	api_wake(ctx, cp->transition_at);
	model_dirty_cp(ctx->m, cp);
	*out = wrap(cp);
	return 0;
}

int api_delete_capacity_provider(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	const char *ref = api_str(in, "capacityProvider");
	if (builtin_of(ctx, ref))
		return err_set(e, ERR_CLIENT,
			       "The specified capacity provider is reserved and cannot be deleted.");
	struct capacity_provider *cp = find_cp(ctx, ref);
	if (!cp)
		return not_found(e);
	if (cp->status == CP_ACTIVE && cp->update != CP_UPD_DELETE_IN_PROGRESS) {
		struct region *r = model_region(ctx->m, ctx->region);
		struct cluster *in_use = NULL;
		for (size_t i = 0; i < r->clusters.n && !in_use; i++) {
			struct cluster *c = r->clusters.v[i].val;
			if (c->status != CLUSTER_INACTIVE && cluster_has_cp(c, cp->name))
				in_use = c;
		}
		free(cp->update_reason);
		cp->update_reason = NULL;
		if (in_use) {
			cp->update = CP_UPD_DELETE_FAILED;
			cp->update_reason = xasprintf(
				"The capacity provider cannot be deleted because it is associated with cluster: %s. Remove the capacity provider from the cluster and try again.",
				in_use->name);
			cp->transition_at = 0;
		} else {
			cp->update = CP_UPD_DELETE_IN_PROGRESS;
			cp->has_pending = false;
			cp->transition_at = ctx->now + ctx->cfg->transition_ms;
			api_wake(ctx, cp->transition_at);
		}
		model_dirty_cp(ctx->m, cp);
	}
	*out = wrap(cp);
	return 0;
}

int64_t api_cp_advance(struct api_ctx *ctx, struct region *r)
{
	int64_t next = 0;
	for (size_t i = 0; i < r->cps.n;) {
		struct capacity_provider *cp = r->cps.v[i].val;
		int64_t due = 0;
		if (cp->status == CP_INACTIVE) {
			due = cp->deleted_at + ctx->cfg->cp_retention_ms;
			if (due <= ctx->now) {
				model_cp_purge(ctx->m, r, cp);
				continue;
			}
		} else if (cp->transition_at) {
			due = cp->transition_at;
			if (due <= ctx->now) {
				due = 0;
				cp->transition_at = 0;
				if (cp->update == CP_UPD_UPDATE_IN_PROGRESS) {
					/* The one-cluster rule for managed scaling was
					 * checked when the update was accepted, and a
					 * pending enable already counts when clusters
					 * add the provider, so the update always applies. */
					cp->cur = cp->pending;
					cp->update = CP_UPD_UPDATE_COMPLETE;
					/* The clusters' scaling policies and draining
					 * hooks follow the new settings. */
					api_cluster_cp_changed(ctx, r, cp->name);
					cp->has_pending = false;
				} else if (cp->update == CP_UPD_DELETE_IN_PROGRESS || cp->status == CP_DEPROVISIONING) {
					/* Straight from ACTIVE to INACTIVE: Terraform's
					 * AWS provider (5.x) waits for deletion with
					 * ACTIVE as its only pending state and fails on
					 * DEPROVISIONING, so real ECS evidently does not
					 * show it for Auto Scaling group providers.  A
					 * DEPROVISIONING record from an older berthd
					 * completes here too. */
					cp->status = CP_INACTIVE;
					cp->update = CP_UPD_DELETE_COMPLETE;
					cp->deleted_at = ctx->now;
					due = cp->deleted_at + ctx->cfg->cp_retention_ms;
				}
				model_dirty_cp(ctx->m, cp);
			}
		}
		if (due && (!next || due < next))
			next = due;
		i++;
	}
	return next;
}
