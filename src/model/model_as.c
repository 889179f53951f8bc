/* model_as: indexes and ownership of the Auto Scaling resources.  See
 * model_as.h. */
#include "model/model_as.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "model/model.h"

const char *as_lifecycle_name(int s)
{
	static const char *const names[] = {"Pending", "InService", "Terminating", "Terminated"};
	return s >= 0 && s <= AS_TERMINATED ? names[s] : "Pending";
}

int as_lifecycle_parse(const char *s)
{
	for (int i = 0; s && i <= AS_TERMINATED; i++)
		if (strcmp(as_lifecycle_name(i), s) == 0)
			return i;
	return -1;
}

char *model_as_arn(const struct model *m, const char *region, const char *resource)
{
	return xasprintf("arn:%s:autoscaling:%s:%s:%s", m->partition, region, m->account, resource);
}

void model_as_region_init(struct region *r)
{
	sidx_init(&r->as_lcs);
	sidx_init(&r->as_groups);
	sidx_init(&r->as_policies);
	sidx_init(&r->as_instances);
}

void model_as_region_release(struct region *r)
{
	for (size_t i = 0; i < r->as_policies.n; i++)
		as_policy_free(r->as_policies.v[i].val);
	for (size_t i = 0; i < r->as_groups.n; i++)
		as_group_free(r->as_groups.v[i].val);
	for (size_t i = 0; i < r->as_lcs.n; i++)
		as_lc_free(r->as_lcs.v[i].val);
	sidx_release(&r->as_policies);
	sidx_release(&r->as_groups);
	sidx_release(&r->as_lcs);
	sidx_release(&r->as_instances);
}

/* ---- launch configurations ---- */

void as_lc_free(struct as_launch_config *lc)
{
	if (!lc)
		return;
	free(lc->region);
	free(lc->name);
	free(lc->arn);
	free(lc->image_id);
	free(lc->instance_type);
	cJSON_Delete(lc->body);
	free(lc);
}

struct as_launch_config *model_as_lc_new(struct model *m, struct region *r, const char *name,
					 const char *uuid, int64_t now)
{
	struct as_launch_config *lc = xcalloc(1, sizeof *lc);
	lc->region = xstrdup(r->name);
	lc->name = xstrdup(name);
	char *res = xasprintf("launchConfiguration:%s:launchConfigurationName/%s", uuid, name);
	lc->arn = model_as_arn(m, r->name, res);
	free(res);
	lc->body = cJSON_CreateObject();
	lc->created_at = now;
	struct as_launch_config *old = sidx_put(&r->as_lcs, lc->name, lc);
	if (old) {
		model_change_forget(m, old);
		as_lc_free(old);
	}
	model_dirty_as_lc(m, lc);
	return lc;
}

struct as_launch_config *model_as_lc_find(const struct region *r, const char *name)
{
	return name ? sidx_get(&r->as_lcs, name) : NULL;
}

void model_dirty_as_lc(struct model *m, struct as_launch_config *lc)
{
	if (!lc->dirty) {
		lc->dirty = true;
		model_change_push(m, MODEL_AS_LC, lc, NULL);
	}
}

void model_as_lc_purge(struct model *m, struct region *r, struct as_launch_config *lc)
{
	sidx_del(&r->as_lcs, lc->name);
	model_change_forget(m, lc);
	model_change_push(m, MODEL_AS_LC, NULL, model_record_id(lc->region, lc->name));
	as_lc_free(lc);
}

/* ---- activities ---- */

void as_activity_release(struct as_activity *a)
{
	free(a->description);
	free(a->cause);
	free(a->details);
	free(a->status);
	free(a->status_message);
	memset(a, 0, sizeof *a);
}

struct as_activity *model_as_activity_add(struct as_group *g, const char *id, int64_t start,
					  const char *description, const char *cause,
					  const char *details)
{
	if (g->n_acts == AS_ACTIVITIES_MAX) {
		as_activity_release(&g->acts[g->n_acts - 1]);
		g->n_acts--;
	}
	if (!g->acts)
		g->acts = xcalloc(AS_ACTIVITIES_MAX, sizeof *g->acts);
	memmove(g->acts + 1, g->acts, g->n_acts * sizeof *g->acts);
	g->n_acts++;
	struct as_activity *a = &g->acts[0];
	memset(a, 0, sizeof *a);
	snprintf(a->id, sizeof a->id, "%s", id);
	a->start = start;
	a->description = xstrdup(description);
	a->cause = xstrdup(cause);
	a->details = details ? xstrdup(details) : NULL;
	a->status = xstrdup("InProgress");
	return a;
}

struct as_activity *model_as_activity_find(struct as_group *g, const char *id)
{
	for (size_t i = 0; id && *id && i < g->n_acts; i++)
		if (strcmp(g->acts[i].id, id) == 0)
			return &g->acts[i];
	return NULL;
}

/* ---- instances ---- */

void as_instance_free(struct as_instance *inst)
{
	if (!inst)
		return;
	free(inst->zone);
	free(inst->instance_type);
	free(inst->launch_config);
	free(inst);
}

void model_as_instance_add(struct region *r, struct as_group *g, struct as_instance *inst)
{
	if (g->n_inst == g->cap_inst) {
		g->cap_inst = g->cap_inst ? g->cap_inst * 2 : 8;
		g->inst = xrealloc(g->inst, g->cap_inst * sizeof *g->inst);
	}
	g->inst[g->n_inst++] = inst;
	inst->group = g;
	sidx_put(&r->as_instances, inst->id, inst);
}

void model_as_instance_remove(struct region *r, struct as_instance *inst)
{
	struct as_group *g = inst->group;
	for (size_t i = 0; g && i < g->n_inst; i++) {
		if (g->inst[i] == inst) {
			memmove(g->inst + i, g->inst + i + 1, (g->n_inst - i - 1) * sizeof *g->inst);
			g->n_inst--;
			break;
		}
	}
	if (sidx_get(&r->as_instances, inst->id) == inst)
		sidx_del(&r->as_instances, inst->id);
	as_instance_free(inst);
}

struct as_instance *model_as_instance_find(const struct region *r, const char *id)
{
	return id ? sidx_get(&r->as_instances, id) : NULL;
}

/* ---- groups ---- */

void as_group_free(struct as_group *g)
{
	if (!g)
		return;
	free(g->region);
	free(g->name);
	free(g->arn);
	free(g->launch_config);
	cJSON_Delete(g->launch_template);
	cJSON_Delete(g->mixed);
	for (size_t i = 0; i < g->n_zones; i++)
		free(g->zones[i]);
	free(g->zones);
	free(g->vpc_zone_identifier);
	free(g->health_check_type);
	for (size_t i = 0; i < g->n_tp; i++)
		free(g->termination_policies[i]);
	free(g->termination_policies);
	cJSON_Delete(g->extra);
	for (size_t i = 0; i < g->n_tags; i++) {
		free(g->tags[i].key);
		free(g->tags[i].value);
	}
	free(g->tags);
	for (size_t i = 0; i < g->n_inst; i++)
		as_instance_free(g->inst[i]);
	free(g->inst);
	for (size_t i = 0; i < g->n_acts; i++)
		as_activity_release(&g->acts[i]);
	free(g->acts);
	free(g);
}

/* Take g's instances out of the region's index (they stay in g). */
static void unindex_instances(struct region *r, struct as_group *g)
{
	for (size_t i = 0; i < g->n_inst; i++)
		if (sidx_get(&r->as_instances, g->inst[i]->id) == g->inst[i])
			sidx_del(&r->as_instances, g->inst[i]->id);
}

struct as_group *model_as_group_new(struct model *m, struct region *r, const char *name,
				    const char *uuid, int64_t now)
{
	struct as_group *g = xcalloc(1, sizeof *g);
	g->region = xstrdup(r->name);
	g->name = xstrdup(name);
	char *res = xasprintf("autoScalingGroup:%s:autoScalingGroupName/%s", uuid, name);
	g->arn = model_as_arn(m, r->name, res);
	free(res);
	g->extra = cJSON_CreateObject();
	g->default_instance_warmup = -1;
	g->created_at = now;
	struct as_group *old = sidx_put(&r->as_groups, g->name, g);
	if (old) {
		unindex_instances(r, old);
		model_change_forget(m, old);
		as_group_free(old);
	}
	model_dirty_as_group(m, g);
	return g;
}

void model_as_group_load(struct model *m, struct region *r, struct as_group *g)
{
	(void)m;
	struct as_group *old = sidx_put(&r->as_groups, g->name, g);
	if (old) {
		unindex_instances(r, old);
		as_group_free(old);
	}
	for (size_t i = 0; i < g->n_inst; i++) {
		g->inst[i]->group = g;
		sidx_put(&r->as_instances, g->inst[i]->id, g->inst[i]);
	}
}

struct as_group *model_as_group_find(const struct region *r, const char *name)
{
	return name ? sidx_get(&r->as_groups, name) : NULL;
}

void model_dirty_as_group(struct model *m, struct as_group *g)
{
	if (!g->dirty) {
		g->dirty = true;
		model_change_push(m, MODEL_AS_GROUP, g, NULL);
	}
}

void model_as_group_purge(struct model *m, struct region *r, struct as_group *g)
{
	unindex_instances(r, g);
	sidx_del(&r->as_groups, g->name);
	model_change_forget(m, g);
	model_change_push(m, MODEL_AS_GROUP, NULL, model_record_id(g->region, g->name));
	as_group_free(g);
}

/* ---- policies ---- */

void as_policy_free(struct as_policy *p)
{
	if (!p)
		return;
	free(p->region);
	free(p->group);
	free(p->name);
	free(p->arn);
	free(p->key);
	cJSON_Delete(p->body);
	free(p->ecs_cluster);
	free(p->ecs_provider);
	free(p);
}

struct as_policy *model_as_policy_new(struct model *m, struct region *r, const char *group,
				      const char *name, const char *uuid)
{
	struct as_policy *p = xcalloc(1, sizeof *p);
	p->region = xstrdup(r->name);
	p->group = xstrdup(group);
	p->name = xstrdup(name);
	p->key = xasprintf("%s/%s", group, name);
	char *res = xasprintf("scalingPolicy:%s:autoScalingGroupName/%s:policyName/%s", uuid, group, name);
	p->arn = model_as_arn(m, r->name, res);
	free(res);
	p->body = cJSON_CreateObject();
	struct as_policy *old = sidx_put(&r->as_policies, p->key, p);
	if (old) {
		model_change_forget(m, old);
		as_policy_free(old);
	}
	model_dirty_as_policy(m, p);
	return p;
}

void model_as_policy_load(struct region *r, struct as_policy *p)
{
	as_policy_free(sidx_put(&r->as_policies, p->key, p));
}

struct as_policy *model_as_policy_find(const struct region *r, const char *group, const char *name)
{
	char *key = xasprintf("%s/%s", group, name);
	struct as_policy *p = sidx_get(&r->as_policies, key);
	free(key);
	return p;
}

void model_dirty_as_policy(struct model *m, struct as_policy *p)
{
	if (!p->dirty) {
		p->dirty = true;
		model_change_push(m, MODEL_AS_POLICY, p, NULL);
	}
}

void model_as_policy_purge(struct model *m, struct region *r, struct as_policy *p)
{
	sidx_del(&r->as_policies, p->key);
	model_change_forget(m, p);
	model_change_push(m, MODEL_AS_POLICY, NULL, xasprintf("%s/%s", p->region, p->key));
	as_policy_free(p);
}
