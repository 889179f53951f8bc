/* codec: see codec.h.  ECS member names live here and in api/. */
#include "model/codec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

/* Member keys are string literals: adding them as constants spares a copy
 * and a free per member on every answer. */
static void put_str(cJSON *o, const char *key, const char *v)
{
	cJSON_AddItemToObjectCS(o, key, cJSON_CreateString(v));
}

/* Whole numbers are printed here once: cJSON prints every number with
 * "%1.15g" and reads it back to check, which dominated answer encoding. */
static cJSON *int_json(long v)
{
	char buf[24];
	snprintf(buf, sizeof buf, "%ld", v);
	return cJSON_CreateRaw(buf);
}

static void put_int(cJSON *o, const char *key, long v)
{
	cJSON_AddItemToObjectCS(o, key, int_json(v));
}

static cJSON *put_array(cJSON *o, const char *key)
{
	cJSON *a = cJSON_CreateArray();
	cJSON_AddItemToObjectCS(o, key, a);
	return a;
}

static cJSON *put_object(cJSON *o, const char *key)
{
	cJSON *a = cJSON_CreateObject();
	cJSON_AddItemToObjectCS(o, key, a);
	return a;
}

double codec_time(int64_t ms)
{
	return (double)ms / 1000.0;
}

static int64_t time_ms(const cJSON *j)
{
	return cJSON_IsNumber(j) ? (int64_t)llround(j->valuedouble * 1000.0) : 0;
}

static const char *str_of(const cJSON *o, const char *name)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, name);
	return cJSON_IsString(j) ? j->valuestring : NULL;
}

static char *dup_of(const cJSON *o, const char *name)
{
	const char *s = str_of(o, name);
	return s ? xstrdup(s) : NULL;
}

static int int_of(const cJSON *o, const char *name, int dflt)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, name);
	if (cJSON_IsRaw(j)) /* a whole number from int_json, not yet printed */
		return atoi(j->valuestring);
	return cJSON_IsNumber(j) ? (int)j->valuedouble : dflt;
}

void codec_put_str(cJSON *o, const char *key, const char *v)
{
	put_str(o, key, v);
}

void codec_put_int(cJSON *o, const char *key, long v)
{
	put_int(o, key, v);
}

cJSON *codec_put_array(cJSON *o, const char *key)
{
	return put_array(o, key);
}

cJSON *codec_put_object(cJSON *o, const char *key)
{
	return put_object(o, key);
}

void codec_put_time(cJSON *o, const char *key, int64_t ms)
{
	cJSON_AddItemToObjectCS(o, key, cJSON_CreateNumber(codec_time(ms)));
}

const char *codec_str_of(const cJSON *o, const char *name)
{
	return str_of(o, name);
}

char *codec_dup_of(const cJSON *o, const char *name)
{
	return dup_of(o, name);
}

int codec_int_of(const cJSON *o, const char *name, int dflt)
{
	return int_of(o, name, dflt);
}

int64_t codec_long_of(const cJSON *o, const char *name, int64_t dflt)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, name);
	if (cJSON_IsRaw(j))
		return atoll(j->valuestring);
	return cJSON_IsNumber(j) ? (int64_t)j->valuedouble : dflt;
}

int64_t codec_time_of(const cJSON *o, const char *name)
{
	return time_ms(cJSON_GetObjectItemCaseSensitive(o, name));
}

cJSON *codec_tags(const struct kvlist *tags)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < tags->n; i++) {
		cJSON *t = cJSON_CreateObject();
		put_str(t, "key", tags->v[i].key);
		put_str(t, "value", tags->v[i].value);
		cJSON_AddItemToArray(a, t);
	}
	return a;
}

void codec_tags_parse(struct kvlist *out, const cJSON *arr)
{
	const cJSON *t;
	cJSON_ArrayForEach(t, arr)
	{
		const char *k = str_of(t, "key");
		const char *v = str_of(t, "value");
		if (k)
			kvlist_set(out, k, v ? v : "");
	}
}

cJSON *codec_strategy(const struct strategy *s)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < s->n; i++) {
		cJSON *t = cJSON_CreateObject();
		put_str(t, "capacityProvider", s->v[i].provider);
		put_int(t, "weight", s->v[i].weight);
		put_int(t, "base", s->v[i].base);
		cJSON_AddItemToArray(a, t);
	}
	return a;
}

void codec_strategy_parse(struct strategy *out, const cJSON *arr)
{
	out->n = 0;
	out->v = NULL;
	int n = cJSON_GetArraySize(arr);
	if (n <= 0)
		return;
	out->v = xcalloc((size_t)n, sizeof *out->v);
	const cJSON *t;
	cJSON_ArrayForEach(t, arr)
	{
		const char *p = str_of(t, "capacityProvider");
		if (!p)
			continue;
		struct strategy_entry *e = &out->v[out->n++];
		e->provider = xstrdup(p);
		e->weight = int_of(t, "weight", 0);
		e->base = int_of(t, "base", 0);
	}
}

static cJSON *kv_list(const struct kvlist *l)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < l->n; i++) {
		cJSON *t = cJSON_CreateObject();
		put_str(t, "name", l->v[i].key);
		put_str(t, "value", l->v[i].value);
		cJSON_AddItemToArray(a, t);
	}
	return a;
}

void codec_name_values_parse(struct kvlist *out, const cJSON *arr)
{
	const cJSON *t;
	cJSON_ArrayForEach(t, arr)
	{
		const char *k = str_of(t, "name");
		const char *v = str_of(t, "value");
		if (k)
			kvlist_set(out, k, v ? v : "");
	}
}

static void add_stat(cJSON *a, const char *name, long v)
{
	char buf[32];
	snprintf(buf, sizeof buf, "%ld", v);
	cJSON *t = cJSON_CreateObject();
	put_str(t, "name", name);
	put_str(t, "value", buf);
	cJSON_AddItemToArray(a, t);
}

static cJSON *attachments_json(const struct cluster *c)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < c->n_att; i++) {
		cJSON *t = cJSON_CreateObject();
		put_str(t, "id", c->att[i].id);
		put_str(t, "type", c->att[i].type);
		put_str(t, "status", c->att[i].status);
		cJSON_AddItemToObjectCS(t, "details", kv_list(&c->att[i].details));
		cJSON_AddItemToArray(a, t);
	}
	return a;
}

/* The store's form of a cluster: only what cannot be derived and differs
 * from the defaults, so that records stay small and a restart with many
 * clusters parses little.  The counters are not stored: they are derived
 * from the instances, tasks and services that change them. */
static cJSON *cluster_record(const struct cluster *c)
{
	cJSON *o = cJSON_CreateObject();
	put_str(o, "clusterArn", c->arn);
	put_str(o, "clusterName", c->name);
	put_str(o, "status", cluster_status_name(c->status));
	put_str(o, "berthRegion", c->region);
	cJSON_AddItemToObjectCS(o, "berthCreatedAt", cJSON_CreateNumber(codec_time(c->created_at)));
	if (c->configuration)
		cJSON_AddItemToObjectCS(o, "configuration", cJSON_Duplicate(c->configuration, 1));
	if (c->tags.n)
		cJSON_AddItemToObjectCS(o, "tags", codec_tags(&c->tags));
	if (c->insights)
		put_str(o, "berthInsights", c->insights);
	if (c->n_cps) {
		cJSON *cps = put_array(o, "capacityProviders");
		for (size_t i = 0; i < c->n_cps; i++)
			cJSON_AddItemToArray(cps, cJSON_CreateString(c->cps[i]));
	}
	if (c->default_strategy.n)
		cJSON_AddItemToObjectCS(o, "defaultCapacityProviderStrategy", codec_strategy(&c->default_strategy));
	if (c->n_att)
		cJSON_AddItemToObjectCS(o, "attachments", attachments_json(c));
	if (c->att_status)
		put_str(o, "attachmentsStatus", c->att_status);
	if (c->sc_namespace)
		put_str(o, "berthNamespace", c->sc_namespace);
	if (c->create_args)
		put_str(o, "berthCreateArgs", c->create_args);
	if (c->deleted_at)
		cJSON_AddItemToObjectCS(o, "berthDeletedAt", cJSON_CreateNumber(codec_time(c->deleted_at)));
	if (c->transition_at)
		cJSON_AddItemToObjectCS(o, "berthTransitionAt", cJSON_CreateNumber(codec_time(c->transition_at)));
	return o;
}

cJSON *codec_cluster(const struct cluster *c, unsigned include)
{
	if (include & CODEC_RECORD)
		return cluster_record(c);
	cJSON *o = cJSON_CreateObject();
	put_str(o, "clusterArn", c->arn);
	put_str(o, "clusterName", c->name);
	if (c->configuration && (include & CODEC_CONFIGURATIONS))
		cJSON_AddItemToObjectCS(o, "configuration", cJSON_Duplicate(c->configuration, 1));
	put_str(o, "status", cluster_status_name(c->status));
	put_int(o, "registeredContainerInstancesCount", (long)c->registered_instances);
	put_int(o, "runningTasksCount", (long)c->running_tasks);
	put_int(o, "pendingTasksCount", (long)c->pending_tasks);
	put_int(o, "activeServicesCount", (long)c->active_services);
	if (include & CODEC_STATISTICS) {
		cJSON *s = put_array(o, "statistics");
		add_stat(s, "runningEC2TasksCount", c->running_ec2);
		add_stat(s, "runningFargateTasksCount", c->running_fargate);
		add_stat(s, "pendingEC2TasksCount", c->pending_ec2);
		add_stat(s, "pendingFargateTasksCount", c->pending_fargate);
		add_stat(s, "activeEC2ServiceCount", c->active_ec2_services);
		add_stat(s, "activeFargateServiceCount", c->active_fargate_services);
		add_stat(s, "drainingEC2ServiceCount", c->draining_ec2_services);
		add_stat(s, "drainingFargateServiceCount", c->draining_fargate_services);
	}
	if (include & CODEC_TAGS)
		cJSON_AddItemToObjectCS(o, "tags", codec_tags(&c->tags));
	if (include & CODEC_SETTINGS) {
		cJSON *s = put_array(o, "settings");
		cJSON *t = cJSON_CreateObject();
		put_str(t, "name", "containerInsights");
		put_str(t, "value", c->insights ? c->insights : "disabled");
		cJSON_AddItemToArray(s, t);
	}
	cJSON *cps = put_array(o, "capacityProviders");
	for (size_t i = 0; i < c->n_cps; i++)
		cJSON_AddItemToArray(cps, cJSON_CreateString(c->cps[i]));
	cJSON_AddItemToObjectCS(o, "defaultCapacityProviderStrategy", codec_strategy(&c->default_strategy));
	if (include & CODEC_ATTACHMENTS) {
		cJSON_AddItemToObjectCS(o, "attachments", attachments_json(c));
		if (c->att_status)
			put_str(o, "attachmentsStatus", c->att_status);
	}
	if (c->sc_namespace) {
		cJSON *d = put_object(o, "serviceConnectDefaults");
		put_str(d, "namespace", c->sc_namespace);
	}
	return o;
}

static char *dup_str(const cJSON *v)
{
	return cJSON_IsString(v) ? xstrdup(v->valuestring) : NULL;
}

static void parse_attachments(struct cluster *c, const cJSON *att)
{
	int n = cJSON_GetArraySize(att);
	if (n <= 0)
		return;
	c->att = xcalloc((size_t)n, sizeof *c->att);
	const cJSON *a;
	cJSON_ArrayForEach(a, att)
	{
		struct attachment *t = &c->att[c->n_att++];
		snprintf(t->id, sizeof t->id, "%s", str_of(a, "id") ? str_of(a, "id") : "");
		t->type = xstrdup(str_of(a, "type") ? str_of(a, "type") : "");
		t->status = xstrdup(str_of(a, "status") ? str_of(a, "status") : "");
		codec_name_values_parse(&t->details, cJSON_GetObjectItemCaseSensitive(a, "details"));
	}
}

struct cluster *codec_cluster_from_record(const cJSON *j)
{
	struct cluster *c = xcalloc(1, sizeof *c);
	int st = -1;
	/* One pass over the members: restart cost is parse cost. */
	for (const cJSON *v = j ? j->child : NULL; v; v = v->next) {
		const char *k = v->string;
		if (!strcmp(k, "clusterArn")) {
			free(c->arn);
			c->arn = dup_str(v);
		} else if (!strcmp(k, "clusterName")) {
			free(c->name);
			c->name = dup_str(v);
		} else if (!strcmp(k, "status")) {
			st = cJSON_IsString(v) ? cluster_status_parse(v->valuestring) : -1;
		} else if (!strcmp(k, "berthRegion")) {
			free(c->region);
			c->region = dup_str(v);
		} else if (!strcmp(k, "berthCreatedAt")) {
			c->created_at = time_ms(v);
		} else if (!strcmp(k, "configuration")) {
			if (cJSON_IsObject(v) && !c->configuration)
				c->configuration = cJSON_Duplicate(v, 1);
		} else if (!strcmp(k, "tags")) {
			codec_tags_parse(&c->tags, v);
		} else if (!strcmp(k, "berthInsights")) {
			free(c->insights);
			c->insights = dup_str(v);
		} else if (!strcmp(k, "capacityProviders")) {
			int n = cJSON_GetArraySize(v);
			if (n > 0 && !c->cps) {
				c->cps = xcalloc((size_t)n, sizeof *c->cps);
				const cJSON *e;
				cJSON_ArrayForEach(e, v)
				if (cJSON_IsString(e))
					c->cps[c->n_cps++] = xstrdup(e->valuestring);
			}
		} else if (!strcmp(k, "defaultCapacityProviderStrategy")) {
			strategy_release(&c->default_strategy);
			codec_strategy_parse(&c->default_strategy, v);
		} else if (!strcmp(k, "attachments")) {
			if (!c->att)
				parse_attachments(c, v);
		} else if (!strcmp(k, "attachmentsStatus")) {
			free(c->att_status);
			c->att_status = dup_str(v);
		} else if (!strcmp(k, "berthNamespace")) {
			free(c->sc_namespace);
			c->sc_namespace = dup_str(v);
		} else if (!strcmp(k, "berthCreateArgs")) {
			free(c->create_args);
			c->create_args = dup_str(v);
		} else if (!strcmp(k, "berthDeletedAt")) {
			c->deleted_at = time_ms(v);
		} else if (!strcmp(k, "berthTransitionAt")) {
			c->transition_at = time_ms(v);
		}
	}
	if (!c->name || !c->arn || !c->region || st < 0) {
		cluster_free(c);
		return NULL;
	}
	c->status = (enum cluster_status)st;
	return c;
}

static const char *onoff(bool b)
{
	return b ? "ENABLED" : "DISABLED";
}

static cJSON *asg_settings_json(const struct capacity_provider *cp, const struct asg_settings *s)
{
	cJSON *a = cJSON_CreateObject();
	put_str(a, "autoScalingGroupArn", cp->asg_arn);
	cJSON *ms = put_object(a, "managedScaling");
	put_str(ms, "status", onoff(s->ms.enabled));
	put_int(ms, "targetCapacity", s->ms.target_capacity);
	put_int(ms, "minimumScalingStepSize", s->ms.min_step);
	put_int(ms, "maximumScalingStepSize", s->ms.max_step);
	put_int(ms, "instanceWarmupPeriod", s->ms.warmup);
	put_str(a, "managedTerminationProtection", onoff(s->termination_protection));
	put_str(a, "managedDraining", onoff(s->draining));
	return a;
}

static void asg_settings_parse(struct asg_settings *s, const cJSON *a)
{
	const cJSON *ms = cJSON_GetObjectItemCaseSensitive(a, "managedScaling");
	const char *st = str_of(ms, "status");
	s->ms.enabled = st && strcmp(st, "ENABLED") == 0;
	s->ms.target_capacity = int_of(ms, "targetCapacity", 100);
	s->ms.min_step = int_of(ms, "minimumScalingStepSize", 1);
	s->ms.max_step = int_of(ms, "maximumScalingStepSize", 10000);
	s->ms.warmup = int_of(ms, "instanceWarmupPeriod", 300);
	const char *tp = str_of(a, "managedTerminationProtection");
	s->termination_protection = tp && strcmp(tp, "ENABLED") == 0;
	const char *dr = str_of(a, "managedDraining");
	s->draining = dr && strcmp(dr, "ENABLED") == 0;
}

cJSON *codec_cp(const struct capacity_provider *cp, unsigned include)
{
	bool rec = include & CODEC_RECORD;
	cJSON *o = cJSON_CreateObject();
	put_str(o, "capacityProviderArn", cp->arn);
	put_str(o, "name", cp->name);
	put_str(o, "status", cp_status_name(cp->status));
	cJSON_AddItemToObjectCS(o, "autoScalingGroupProvider", asg_settings_json(cp, &cp->cur));
	if (cp->update != CP_UPD_NONE)
		put_str(o, "updateStatus", cp_update_name(cp->update));
	if (cp->update_reason)
		put_str(o, "updateStatusReason", cp->update_reason);
	if (rec || (include & CODEC_TAGS))
		cJSON_AddItemToObjectCS(o, "tags", codec_tags(&cp->tags));
	put_str(o, "type", cp_type_name(cp->type));
	if (rec) {
		put_str(o, "berthRegion", cp->region);
		put_str(o, "berthAsgName", cp->asg_name);
		cJSON_AddItemToObjectCS(o, "berthCreatedAt", cJSON_CreateNumber(codec_time(cp->created_at)));
		if (cp->deleted_at)
			cJSON_AddItemToObjectCS(o, "berthDeletedAt", cJSON_CreateNumber(codec_time(cp->deleted_at)));
		if (cp->transition_at)
			cJSON_AddItemToObjectCS(o, "berthTransitionAt", cJSON_CreateNumber(codec_time(cp->transition_at)));
		if (cp->has_pending)
			cJSON_AddItemToObjectCS(o, "berthPending", asg_settings_json(cp, &cp->pending));
	}
	return o;
}

cJSON *codec_cp_builtin(const struct model *m, const char *region, const char *name, unsigned include)
{
	cJSON *o = cJSON_CreateObject();
	char *res = xasprintf("capacity-provider/%s", name);
	char *arn = model_arn(m, region, res);
	put_str(o, "capacityProviderArn", arn);
	free(arn);
	free(res);
	put_str(o, "name", name);
	put_str(o, "status", "ACTIVE");
	if (include & CODEC_TAGS)
		put_array(o, "tags");
	put_str(o, "type", name);
	return o;
}

struct capacity_provider *codec_cp_from_record(const cJSON *j)
{
	const char *name = str_of(j, "name");
	const char *arn = str_of(j, "capacityProviderArn");
	const char *region = str_of(j, "berthRegion");
	int st = cp_status_parse(str_of(j, "status"));
	const cJSON *asg = cJSON_GetObjectItemCaseSensitive(j, "autoScalingGroupProvider");
	if (!name || !arn || !region || st < 0 || !str_of(asg, "autoScalingGroupArn"))
		return NULL;
	struct capacity_provider *cp = xcalloc(1, sizeof *cp);
	cp->name = xstrdup(name);
	cp->arn = xstrdup(arn);
	cp->region = xstrdup(region);
	cp->status = (enum cp_status)st;
	cp->type = CP_TYPE_EC2_AUTOSCALING;
	cp->asg_arn = dup_of(asg, "autoScalingGroupArn");
	cp->asg_name = dup_of(j, "berthAsgName");
	if (!cp->asg_name)
		cp->asg_name = xstrdup(cp->asg_arn);
	asg_settings_parse(&cp->cur, asg);
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "berthPending");
	if (p) {
		cp->has_pending = true;
		asg_settings_parse(&cp->pending, p);
	}
	cp->update = (enum cp_update)cp_update_parse(str_of(j, "updateStatus"));
	cp->update_reason = dup_of(j, "updateStatusReason");
	codec_tags_parse(&cp->tags, cJSON_GetObjectItemCaseSensitive(j, "tags"));
	cp->created_at = time_ms(cJSON_GetObjectItemCaseSensitive(j, "berthCreatedAt"));
	cp->deleted_at = time_ms(cJSON_GetObjectItemCaseSensitive(j, "berthDeletedAt"));
	cp->transition_at = time_ms(cJSON_GetObjectItemCaseSensitive(j, "berthTransitionAt"));
	return cp;
}

cJSON *codec_region(const struct region *r)
{
	cJSON *o = cJSON_CreateObject();
	put_str(o, "region", r->name);
	cJSON_AddBoolToObject(o, "defaultCreated", r->default_created);
	return o;
}

void codec_region_apply(struct region *r, const cJSON *j)
{
	r->default_created = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "defaultCreated"));
}
