/* api_cluster: the cluster actions (ECS-SEMANTICS §2): CreateCluster,
 * DescribeClusters, ListClusters, DeleteCluster, UpdateCluster,
 * UpdateClusterSettings, PutClusterCapacityProviders, and the cluster's
 * lifecycle steps.
 *
 * Invariants: a cluster's capacityProviders are ACTIVE providers of its
 * region (or FARGATE/FARGATE_SPOT); a provider with managed scaling belongs
 * to at most one non-INACTIVE cluster; attachments mirror the Auto Scaling
 * group providers associated (a scaling policy per provider with managed
 * scaling, a lifecycle hook per provider with managed draining). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "lib/xalloc.h"
#include "model/model_as.h"
#include "model/codec.h"
#include "sched/strategy.h"

/* ---- shared checks ---- */

/* Recursively sort object members by key so that equal arguments print
 * equally whatever order a client sent them in. */
static void sort_keys(cJSON *j)
{
	if (cJSON_IsArray(j) || cJSON_IsObject(j))
		for (cJSON *c = j->child; c; c = c->next)
			sort_keys(c);
	if (!cJSON_IsObject(j) || !j->child)
		return;
	/* insertion sort of the child list */
	cJSON *sorted = NULL;
	cJSON *c = j->child;
	while (c) {
		cJSON *next = c->next;
		cJSON **pp = &sorted;
		while (*pp && strcmp((*pp)->string, c->string) <= 0)
			pp = &(*pp)->next;
		c->next = *pp;
		*pp = c;
		c = next;
	}
	cJSON *prev = NULL;
	for (c = sorted; c; c = c->next) {
		c->prev = prev;
		prev = c;
	}
	j->child = sorted;
	if (sorted)
		sorted->prev = prev; /* cJSON keeps the tail in head->prev */
}

/* Drop null members at every depth: a null member means an absent one, so
 * it must neither be echoed back (ECS omits unset members) nor make two
 * otherwise equal requests differ. */
static void strip_nulls(cJSON *j)
{
	for (cJSON *c = j ? j->child : NULL; c;) {
		cJSON *next = c->next;
		if (cJSON_IsNull(c) && cJSON_IsObject(j))
			cJSON_Delete(cJSON_DetachItemViaPointer(j, c));
		else
			strip_nulls(c);
		c = next;
	}
}

/* The members of ClusterConfiguration, as a tree.  configuration is kept
 * as JSON, so only these are copied from a request: a member the model does
 * not have would otherwise be stored and echoed back to every client. */
struct conf_member {
	const char *name;
	const struct conf_member *sub;  /* a structure's members, or NULL */
};

static const struct conf_member conf_log[] = {
	{"cloudWatchLogGroupName", NULL}, {"cloudWatchEncryptionEnabled", NULL},
	{"s3BucketName", NULL}, {"s3EncryptionEnabled", NULL}, {"s3KeyPrefix", NULL}, {NULL, NULL},
};
static const struct conf_member conf_exec[] = {
	{"kmsKeyId", NULL}, {"logging", NULL}, {"logConfiguration", conf_log}, {NULL, NULL},
};
static const struct conf_member conf_storage[] = {
	{"kmsKeyId", NULL}, {"fargateEphemeralStorageKmsKeyId", NULL}, {NULL, NULL},
};
static const struct conf_member conf_top[] = {
	{"executeCommandConfiguration", conf_exec}, {"managedStorageConfiguration", conf_storage}, {NULL, NULL},
};

/* A copy of src holding only the members of shape, nulls left out.  The
 * types were checked against the model before the handler ran. */
static cJSON *conf_copy(const cJSON *src, const struct conf_member *shape)
{
	cJSON *o = cJSON_CreateObject();
	for (const struct conf_member *m = shape; m->name; m++) {
		const cJSON *v = api_get(src, m->name);
		if (v)
			cJSON_AddItemToObject(o, m->name, m->sub ? conf_copy(v, m->sub) : cJSON_Duplicate(v, 1));
	}
	return o;
}

/* The CreateCluster members that define a cluster, for idempotency. */
static const char *const create_members[] = {
	"tags", "settings", "configuration", "capacityProviders", "defaultCapacityProviderStrategy",
	"serviceConnectDefaults",
};

static char *canonical_args(const cJSON *in)
{
	cJSON *d = cJSON_CreateObject();
	for (size_t i = 0; i < sizeof create_members / sizeof create_members[0]; i++) {
		const cJSON *v = api_get(in, create_members[i]);
		if (v)
			cJSON_AddItemToObject(d, create_members[i],
					      strcmp(create_members[i], "configuration") == 0
						      ? conf_copy(v, conf_top)
						      : cJSON_Duplicate(v, 1));
	}
	strip_nulls(d);
	sort_keys(d);
	char *s = cJSON_PrintUnformatted(d);
	cJSON_Delete(d);
	char *r = xstrdup(s);
	cJSON_free(s);
	return r;
}

static int check_settings(const cJSON *settings, struct err *e)
{
	const cJSON *s;
	cJSON_ArrayForEach(s, settings)
	{
		const char *v = api_str(s, "value");
		if (!v || (strcmp(v, "enabled") && strcmp(v, "disabled") && strcmp(v, "enhanced")))
			return err_set(e, ERR_INVALID_PARAMETER,
				       "The value '%s' for the containerInsights setting is invalid. Valid values are enhanced, enabled and disabled.",
				       v ? v : "");
	}
	return 0;
}

static void apply_settings(struct cluster *c, const cJSON *settings)
{
	const cJSON *s;
	cJSON_ArrayForEach(s, settings)
	{
		free(c->insights);
		c->insights = xstrdup(api_str(s, "value"));
	}
}

/* serviceConnectDefaults.namespace: an ARN is kept; a name stands for the
 * HTTP namespace of that name in this region, whose ARN is derived from it
 * so that the same name always gives the same ARN. */
char *api_namespace_arn(struct api_ctx *ctx, const char *ns)
{
	if (strncmp(ns, "arn:", 4) == 0)
		return xstrdup(ns);
	uint64_t h = 1469598103934665603ULL;
	for (const char *p = ns; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	char id[17];
	static const char al[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	for (int i = 0; i < 16; i++) {
		id[i] = al[h % 36];
		h = h / 36 + (h * 31);
	}
	id[16] = '\0';
	return xasprintf("arn:%s:servicediscovery:%s:%s:namespace/ns-%s", ctx->m->partition, ctx->region,
			 ctx->m->account, id);
}

static int check_namespace(const cJSON *scd, bool allow_empty, struct err *e)
{
	const char *ns = api_str(scd, "namespace");
	if (!ns || (!*ns && !allow_empty))
		return err_set(e, ERR_INVALID_PARAMETER,
			       "serviceConnectDefaults.namespace must name a namespace (a name or an ARN).");
	if (strlen(ns) > 1024)
		return err_set(e, ERR_INVALID_PARAMETER, "serviceConnectDefaults.namespace is too long.");
	return 0;
}

/* A service of c (not INACTIVE) has name in a deployment's strategy, or a
 * task of c not yet STOPPED runs on it. */
static bool cp_in_use(const struct cluster *c, const char *name)
{
	for (size_t i = 0; i < c->services.n; i++) {
		const struct service *s = c->services.v[i].val;
		for (size_t d = 0; s->status != SVC_INACTIVE && d < s->n_deps; d++)
			for (size_t k = 0; k < s->deps[d].strategy.n; k++)
				if (strcmp(s->deps[d].strategy.v[k].provider, name) == 0)
					return true;
	}
	for (size_t i = 0; i < c->active.n; i++)
		if (c->active.v[i] && c->active.v[i]->cp_name && strcmp(c->active.v[i]->cp_name, name) == 0)
			return true;
	for (size_t i = 0; i < c->stopped.n; i++) {
		const struct task *t = c->stopped.v[i];
		if (t && t->last != TS_STOPPED && t->cp_name && strcmp(t->cp_name, name) == 0)
			return true;
	}
	return false;
}

/* The non-INACTIVE cluster other than self that has provider name, or NULL. */
static struct cluster *cluster_with_cp(struct region *r, const char *name, const struct cluster *self)
{
	for (size_t i = 0; i < r->clusters.n; i++) {
		struct cluster *c = r->clusters.v[i].val;
		if (c != self && c->status != CLUSTER_INACTIVE && cluster_has_cp(c, name))
			return c;
	}
	return NULL;
}

/* Check a capacityProviders list for cluster self (NULL when creating one
 * called new_name) and copy the names into *out. */
static int check_cp_list(struct api_ctx *ctx, const cJSON *arr, const struct cluster *self,
			 char ***out, size_t *n_out, struct err *e)
{
	struct region *r = model_region(ctx->m, ctx->region);
	int n = cJSON_GetArraySize(arr);
	*out = NULL;
	*n_out = 0;
	if (n > ctx->cfg->max_cps_per_cluster)
		return err_set(e, ERR_INVALID_PARAMETER,
			       "The maximum number of capacity providers per cluster has been exceeded.");
	char **names = xcalloc(n > 0 ? (size_t)n : 1, sizeof *names);
	size_t k = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, arr)
	{
		const char *name = it->valuestring;
		for (size_t j = 0; j < k; j++)
			if (strcmp(names[j], name) == 0) {
				err_set(e, ERR_INVALID_PARAMETER,
					"The capacity provider '%s' is listed more than once.", name);
				goto fail;
			}
		if (!cp_is_builtin(name)) {
			struct capacity_provider *cp = model_cp_find(r, name);
			if (!cp || cp->status == CP_INACTIVE) {
				err_set(e, ERR_INVALID_PARAMETER,
					"The specified capacity provider was not found. Specify a valid capacity provider and try again.");
				goto fail;
			}
			if (cp->status != CP_ACTIVE || cp->update == CP_UPD_DELETE_IN_PROGRESS) {
				err_set(e, ERR_INVALID_PARAMETER,
					"The specified capacity provider '%s' is not in an ACTIVE state. Specify a valid capacity provider and try again.",
					name);
				goto fail;
			}
			struct cluster *other;
			/* A pending update that turns managed scaling on counts
			 * already: it must not land on a shared provider. */
			bool managed = cp->cur.ms.enabled || (cp->has_pending && cp->pending.ms.enabled);
			if (managed && (other = cluster_with_cp(r, name, self))) {
				err_set(e, ERR_INVALID_PARAMETER,
					"The specified capacity provider '%s' is already associated with cluster '%s'. A capacity provider with managed scaling enabled can be associated with only one cluster.",
					name, other->name);
				goto fail;
			}
		}
		names[k++] = (char *)name;
	}
	*out = names;
	*n_out = k;
	return 0;
fail:
	free(names);
	return -1;
}

/* Make the cluster's attachments match its providers; returns true if any
 * changed (then attachmentsStatus goes UPDATE_IN_PROGRESS). */
static bool sync_attachments(struct api_ctx *ctx, struct cluster *c)
{
	struct region *r = model_region(ctx->m, ctx->region);
	bool changed = false;
	/* wanted: (provider, type) pairs */
	for (int pass = 0; pass < 2; pass++) {
		const char *type = pass == 0 ? "as_policy" : "managed_draining";
		for (size_t i = 0; i < c->n_cps; i++) {
			struct capacity_provider *cp = cp_is_builtin(c->cps[i]) ? NULL : model_cp_find(r, c->cps[i]);
			if (!cp)
				continue;
			bool want = pass == 0 ? cp->cur.ms.enabled : cp->cur.draining;
			if (!want)
				continue;
			bool have = false;
			for (size_t a = 0; a < c->n_att; a++) {
				const char *who = kvlist_get(&c->att[a].details, "capacityProviderName");
				if (strcmp(c->att[a].type, type) == 0 && who && strcmp(who, cp->name) == 0 &&
				    strcmp(c->att[a].status, "DELETING") != 0)
					have = true;
			}
			if (have)
				continue;
			c->att = xrealloc(c->att, (c->n_att + 1) * sizeof *c->att);
			struct attachment *t = &c->att[c->n_att++];
			memset(t, 0, sizeof *t);
			rng_uuid(ctx->rng, t->id);
			t->type = xstrdup(type);
			t->status = xstrdup("PRECREATED");
			kvlist_set(&t->details, "capacityProviderName", cp->name);
			if (pass == 0) {
				char u[37];
				rng_uuid(ctx->rng, u);
				char *pol = xasprintf("ECSManagedAutoScalingPolicy-%s", u);
				kvlist_set(&t->details, "scalingPolicyName", pol);
				free(pol);
			} else {
				kvlist_set(&t->details, "autoScalingLifecycleHookName",
					   "ecs-managed-draining-termination-hook");
			}
			changed = true;
		}
	}
	/* attachments of providers no longer associated (or settings turned off) */
	for (size_t a = 0; a < c->n_att; a++) {
		const char *who = kvlist_get(&c->att[a].details, "capacityProviderName");
		struct capacity_provider *cp = who && cluster_has_cp(c, who) ? model_cp_find(r, who) : NULL;
		bool keep = cp && (strcmp(c->att[a].type, "as_policy") == 0 ? cp->cur.ms.enabled : cp->cur.draining);
		if (!keep && strcmp(c->att[a].status, "DELETING") != 0) {
			free(c->att[a].status);
			c->att[a].status = xstrdup("DELETING");
			changed = true;
		}
	}
	return changed;
}

static void begin_update(struct api_ctx *ctx, struct cluster *c)
{
	free(c->att_status);
	c->att_status = xstrdup("UPDATE_IN_PROGRESS");
	c->transition_at = ctx->now + ctx->cfg->transition_ms;
	api_wake(ctx, c->transition_at);
}

void api_cluster_cp_changed(struct api_ctx *ctx, struct region *r, const char *cp_name)
{
	for (size_t i = 0; i < r->clusters.n; i++) {
		struct cluster *c = r->clusters.v[i].val;
		if (c->status == CLUSTER_INACTIVE || !cluster_has_cp(c, cp_name))
			continue;
		if (sync_attachments(ctx, c)) {
			begin_update(ctx, c);
			model_dirty_cluster(ctx->m, c);
		}
		/* A policy already made follows the new settings at once. */
		struct capacity_provider *cp = model_cp_find(r, cp_name);
		struct as_group *g = cp && cp->asg_name ? api_as_group_find(ctx, cp->asg_name) : NULL;
		for (size_t a = 0; g && cp->cur.ms.enabled && a < c->n_att; a++) {
			const char *who = kvlist_get(&c->att[a].details, "capacityProviderName");
			if (strcmp(c->att[a].type, "as_policy") == 0 && strcmp(c->att[a].status, "CREATED") == 0 &&
			    who && strcmp(who, cp_name) == 0)
				api_as_put_managed_policy(ctx, g, c->name, cp_name, cp->cur.ms.target_capacity,
							  cp->cur.ms.warmup);
		}
	}
}

static void set_strategy(struct cluster *c, const cJSON *arr)
{
	strategy_release(&c->default_strategy);
	codec_strategy_parse(&c->default_strategy, arr);
}

static cJSON *wrap_cluster(const struct cluster *c, unsigned include)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *cj = codec_cluster(c, include);
	if (!cJSON_HasObjectItem(cj, "statistics"))
		cJSON_AddArrayToObject(cj, "statistics");
	cJSON_AddItemToObject(o, "cluster", cj);
	return o;
}

#define CLUSTER_ECHO (CODEC_SETTINGS | CODEC_TAGS | CODEC_CONFIGURATIONS | CODEC_ATTACHMENTS)

/* ---- CreateCluster ---- */

int api_create_cluster(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	const char *name = api_str(in, "clusterName");
	if (!name)
		name = "default";
	if (!api_valid_name(name))
		return err_set(e, ERR_INVALID_PARAMETER,
			       "The specified cluster name is invalid. Up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens are allowed.");
	const cJSON *tags = api_get(in, "tags");
	const cJSON *settings = api_get(in, "settings");
	const cJSON *scd = api_get(in, "serviceConnectDefaults");
	const cJSON *cps = api_get(in, "capacityProviders");
	const cJSON *strat = api_get(in, "defaultCapacityProviderStrategy");
	if (api_tags_check(tags, 0, e) || check_settings(settings, e) || (scd && check_namespace(scd, false, e)))
		return -1;

	struct region *r = model_region(ctx->m, ctx->region);
	struct cluster *old = model_cluster_find(r, name);
	char *args = canonical_args(in);
	if (old && old->status != CLUSTER_INACTIVE) {
		/* Idempotent: the same arguments give back the cluster.  One
		 * without recorded arguments was made on first use, which is
		 * CreateCluster with none. */
		bool same = strcmp(old->create_args ? old->create_args : "{}", args) == 0;
		free(args);
		if (!same)
			return err_set(e, ERR_INVALID_PARAMETER,
				       "Arguments on this idempotent request are inconsistent with arguments used in previous request(s).");
		*out = wrap_cluster(old, CLUSTER_ECHO);
		return 0;
	}
	char **names;
	size_t n;
	if (check_cp_list(ctx, cps, NULL, &names, &n, e)) {
		free(args);
		return -1;
	}
	if (api_strategy_check(ctx, strat, names, n, SCHED_USE_SET_DEFAULT, false, e)) {
		free(names);
		free(args);
		return -1;
	}
	struct cluster *c = model_cluster_new(ctx->m, r, name, ctx->now);
	c->create_args = args;
	cluster_set_cps(c, names, n);
	free(names);
	set_strategy(c, strat);
	codec_tags_parse(&c->tags, tags);
	apply_settings(c, settings);
	const cJSON *conf = api_get(in, "configuration");
	if (conf)
		c->configuration = conf_copy(conf, conf_top);
	if (scd)
		c->sc_namespace = api_namespace_arn(ctx, api_str(scd, "namespace"));
	if (c->n_cps > 0) {
		/* The providers' resources are being created. */
		sync_attachments(ctx, c);
		c->status = CLUSTER_PROVISIONING;
		begin_update(ctx, c);
	}
	if (strcmp(name, "default") == 0 && !r->default_created) {
		r->default_created = true;
		model_dirty_region(ctx->m, r);
	}
	*out = wrap_cluster(c, CLUSTER_ECHO);
	return 0;
}

/* ---- DescribeClusters ---- */

static unsigned parse_include(const cJSON *inc)
{
	static const struct {
		const char *name;
		unsigned flag;
	} map[] = {
		{"ATTACHMENTS", CODEC_ATTACHMENTS}, {"CONFIGURATIONS", CODEC_CONFIGURATIONS},
		{"SETTINGS", CODEC_SETTINGS},       {"STATISTICS", CODEC_STATISTICS},
		{"TAGS", CODEC_TAGS},
	};
	unsigned f = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, inc)
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (cJSON_IsString(it) && strcmp(it->valuestring, map[i].name) == 0)
			f |= map[i].flag;
	return f;
}

int api_describe_clusters(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	const cJSON *list = api_get(in, "clusters");
	if (cJSON_GetArraySize(list) > 100)
		return err_set(e, ERR_INVALID_PARAMETER, "clusters can have at most 100 items.");
	unsigned include = parse_include(api_get(in, "include"));
	struct region *r = model_region_find(ctx->m, ctx->region);
	cJSON *o = cJSON_CreateObject();
	cJSON *cl = cJSON_AddArrayToObject(o, "clusters");
	cJSON *fl = cJSON_AddArrayToObject(o, "failures");
	cJSON *dflt = NULL;
	if (!list || cJSON_GetArraySize(list) == 0) {
		dflt = cJSON_CreateArray();
		cJSON_AddItemToArray(dflt, cJSON_CreateString("default"));
		list = dflt;
	}
	const cJSON *it;
	cJSON_ArrayForEach(it, list)
	{
		const char *ref = it->valuestring;
		struct cluster *c = r ? api_cluster_find(ctx, ref) : NULL;
		if (c) {
			cJSON_AddItemToArray(cl, codec_cluster(c, include));
		} else {
			cJSON_AddItemToArray(fl, api_failure(ctx, "cluster/", ref, "MISSING"));
		}
	}
	cJSON_Delete(dflt);
	*out = o;
	return 0;
}

/* ---- ListClusters ---- */

int api_list_clusters(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	int max = api_int(in, "maxResults", 100);
	if (max < 1 || max > 100)
		return err_set(e, ERR_INVALID_PARAMETER,
			       "maxResults must be between 1 and 100; %d is out of range.", max);
	const char *tok = api_str(in, "nextToken");
	char *after = NULL;
	if (tok && !(after = api_token_decode("clusters", tok, e)))
		return -1;
	struct region *r = model_region_find(ctx->m, ctx->region);
	cJSON *o = cJSON_CreateObject();
	cJSON *arns = cJSON_AddArrayToObject(o, "clusterArns");
	if (r) {
		int k = 0;
		size_t i = sidx_after(&r->clusters, after);
		for (; i < r->clusters.n && k < max; i++) {
			struct cluster *c = r->clusters.v[i].val;
			if (c->status == CLUSTER_INACTIVE)
				continue;
			cJSON_AddItemToArray(arns, cJSON_CreateString(c->arn));
			k++;
		}
		/* A next page only if some listable cluster remains. */
		for (; i < r->clusters.n; i++) {
			struct cluster *c = r->clusters.v[i].val;
			if (c->status != CLUSTER_INACTIVE) {
				char *t = api_token_encode("clusters", r->clusters.v[i - 1].key);
				cJSON_AddStringToObject(o, "nextToken", t);
				free(t);
				break;
			}
		}
	}
	free(after);
	*out = o;
	return 0;
}

/* ---- DeleteCluster ---- */

/* Has c an Auto Scaling policy of its own on some group? */
static bool has_scaling_resources(const struct cluster *c)
{
	for (size_t i = 0; i < c->n_att; i++)
		if (strcmp(c->att[i].type, "as_policy") == 0 && strcmp(c->att[i].status, "CREATED") == 0)
			return true;
	return false;
}

/* The deletion's end: INACTIVE, providers disassociated, attachments gone. */
static void finish_delete(struct api_ctx *ctx, struct cluster *c)
{
	c->status = CLUSTER_INACTIVE;
	c->deleted_at = ctx->now;
	c->transition_at = 0;
	api_wake(ctx, c->deleted_at + ctx->cfg->cluster_retention_ms);
	cluster_set_cps(c, NULL, 0);
	strategy_release(&c->default_strategy);
	for (size_t i = 0; i < c->n_att; i++) {
		free(c->att[i].type);
		free(c->att[i].status);
		kvlist_release(&c->att[i].details);
	}
	free(c->att);
	c->att = NULL;
	c->n_att = 0;
}

int api_delete_cluster(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	struct cluster *c;
	if (api_cluster_lookup(ctx, api_str(in, "cluster"), false, &c, e))
		return -1;
	if (c->status != CLUSTER_INACTIVE) {
		if (c->registered_instances > 0)
			return err_set(e, ERR_CLUSTER_CONTAINS_INSTANCES,
				       "The Cluster cannot be deleted while Container Instances are active or draining.");
		if (c->active_services > 0 || c->draining_ec2_services + c->draining_fargate_services > 0)
			return err_set(e, ERR_CLUSTER_CONTAINS_SERVICES,
				       "The Cluster cannot be deleted while Services are active.");
		if (c->live_tasks > 0)
			return err_set(e, ERR_CLUSTER_CONTAINS_TASKS,
				       "The Cluster cannot be deleted while Tasks are active.");
		if (c->att_status && strcmp(c->att_status, "UPDATE_IN_PROGRESS") == 0)
			return err_set(e, ERR_UPDATE_IN_PROGRESS,
				       "The specified cluster is in a busy state. Cluster attachments must be in UPDATE_COMPLETE or UPDATE_FAILED state before they can be updated. Wait and try again.");
		c->deleted_at = ctx->now;
		if (has_scaling_resources(c)) {
			/* Its scaling policies go first: DEPROVISIONING, then
			 * INACTIVE when the update completes. */
			for (size_t i = 0; i < c->n_att; i++) {
				free(c->att[i].status);
				c->att[i].status = xstrdup("DELETING");
			}
			c->status = CLUSTER_DEPROVISIONING;
			begin_update(ctx, c);
		} else {
			finish_delete(ctx, c);
		}
		model_dirty_cluster(ctx->m, c);
	}
	*out = wrap_cluster(c, CLUSTER_ECHO);
	return 0;
}

/* ---- UpdateCluster / UpdateClusterSettings ---- */

static int lookup_active(struct api_ctx *ctx, const cJSON *in, struct cluster **c, struct err *e)
{
	if (api_cluster_lookup(ctx, api_str(in, "cluster"), true, c, e) || api_cluster_require_active(*c, e))
		return -1;
	return 0;
}

int api_update_cluster(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	const cJSON *settings = api_get(in, "settings");
	const cJSON *conf = api_get(in, "configuration");
	const cJSON *scd = api_get(in, "serviceConnectDefaults");
	if (check_settings(settings, e) || (scd && check_namespace(scd, true, e)))
		return -1;
	struct cluster *c;
	if (lookup_active(ctx, in, &c, e))
		return -1;
	apply_settings(c, settings);
	if (conf) {
		if (!c->configuration)
			c->configuration = cJSON_CreateObject();
		/* Each block given replaces the stored one; the others stay. */
		for (const struct conf_member *m = conf_top; m->name; m++) {
			const cJSON *v = api_get(conf, m->name);
			if (!v)
				continue;
			cJSON_DeleteItemFromObjectCaseSensitive(c->configuration, m->name);
			cJSON_AddItemToObject(c->configuration, m->name, conf_copy(v, m->sub));
		}
	}
	if (scd) {
		const char *ns = api_str(scd, "namespace");
		free(c->sc_namespace);
		c->sc_namespace = *ns ? api_namespace_arn(ctx, ns) : NULL;
	}
	model_dirty_cluster(ctx->m, c);
	*out = wrap_cluster(c, CLUSTER_ECHO);
	return 0;
}

int api_update_cluster_settings(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	const cJSON *settings = api_get(in, "settings");
	if (check_settings(settings, e))
		return -1;
	struct cluster *c;
	if (lookup_active(ctx, in, &c, e))
		return -1;
	apply_settings(c, settings);
	model_dirty_cluster(ctx->m, c);
	*out = wrap_cluster(c, CLUSTER_ECHO);
	return 0;
}

/* ---- PutClusterCapacityProviders ---- */

int api_put_cluster_capacity_providers(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	/* A missing default cluster is made on first use, but only once the
	 * request has passed every check: a refused request changes nothing. */
	const char *ref = api_str(in, "cluster");
	struct cluster *c = api_cluster_find(ctx, ref);
	if (c) {
		if (api_cluster_require_active(c, e))
			return -1;
		/* A FAILED cluster may try again (its group may exist now). */
		if (c->status != CLUSTER_ACTIVE && c->status != CLUSTER_FAILED)
			return err_set(e, ERR_CLIENT, "Cluster was not ACTIVE.");
		if (c->att_status && strcmp(c->att_status, "UPDATE_IN_PROGRESS") == 0)
			return err_set(e, ERR_UPDATE_IN_PROGRESS,
				       "The specified cluster is in a busy state. Cluster attachments must be in UPDATE_COMPLETE or UPDATE_FAILED state before they can be updated. Wait and try again.");
	} else {
		struct region *r = model_region_find(ctx->m, ctx->region);
		bool dflt = !ref || strcmp(ref, "default") == 0;
		if (!dflt || (r && r->default_created))
			return err_set(e, ERR_CLUSTER_NOT_FOUND, "Cluster not found.");
	}
	const cJSON *cps = api_get(in, "capacityProviders");
	const cJSON *strat = api_get(in, "defaultCapacityProviderStrategy");
	char **names;
	size_t n;
	if (check_cp_list(ctx, cps, c, &names, &n, e))
		return -1;
	if (api_strategy_check(ctx, strat, names, n, SCHED_USE_SET_DEFAULT, false, e)) {
		free(names);
		return -1;
	}
	if (!c && api_cluster_lookup(ctx, ref, true, &c, e)) {
		free(names);
		return -1;
	}
	/* Removing a provider that tasks or services use is refused. */
	for (size_t i = 0; i < c->n_cps; i++) {
		bool kept = false;
		for (size_t k = 0; k < n && !kept; k++)
			kept = strcmp(names[k], c->cps[i]) == 0;
		if (!kept && cp_in_use(c, c->cps[i])) {
			free(names);
			return err_set(e, ERR_RESOURCE_IN_USE,
				       "The specified capacity provider is in use and cannot be removed.");
		}
	}
	bool same = n == c->n_cps;
	for (size_t i = 0; same && i < n; i++)
		same = strcmp(names[i], c->cps[i]) == 0;
	cluster_set_cps(c, names, n);
	free(names);
	set_strategy(c, strat);
	bool retry = false;
	for (size_t i = 0; i < c->n_att; i++)
		retry = retry || strcmp(c->att[i].status, "FAILED") == 0;
	if (sync_attachments(ctx, c) || !same || retry)
		begin_update(ctx, c);
	/* Resources of removed providers being deleted: DEPROVISIONING. */
	for (size_t i = 0; i < c->n_att && c->status == CLUSTER_ACTIVE; i++)
		if (strcmp(c->att[i].type, "as_policy") == 0 && strcmp(c->att[i].status, "DELETING") == 0)
			c->status = CLUSTER_DEPROVISIONING;
	model_dirty_cluster(ctx->m, c);
	*out = wrap_cluster(c, CLUSTER_ECHO);
	return 0;
}

/* ---- lifecycle ---- */

static void drop_deleted_attachments(struct cluster *c)
{
	size_t k = 0;
	for (size_t i = 0; i < c->n_att; i++) {
		if (strcmp(c->att[i].status, "DELETING") == 0) {
			free(c->att[i].type);
			free(c->att[i].status);
			kvlist_release(&c->att[i].details);
			continue;
		}
		if (strcmp(c->att[i].status, "PRECREATED") == 0) {
			free(c->att[i].status);
			c->att[i].status = xstrdup("CREATED");
		}
		c->att[k++] = c->att[i];
	}
	c->n_att = k;
}

/* Make the attachments real as their update completes: an as_policy
 * attachment being created puts the ECS-managed target-tracking policy on
 * the provider's Auto Scaling group (FAILED, with a reason, when the group
 * does not exist); one being deleted removes it.  Returns true if one
 * failed. */
static bool realize_attachments(struct api_ctx *ctx, struct region *r, struct cluster *c)
{
	bool failed = false;
	for (size_t i = 0; i < c->n_att; i++) {
		struct attachment *a = &c->att[i];
		bool policy = strcmp(a->type, "as_policy") == 0;
		const char *who = kvlist_get(&a->details, "capacityProviderName");
		struct capacity_provider *cp = who ? model_cp_find(r, who) : NULL;
		struct as_group *g = cp && cp->asg_name ? api_as_group_find(ctx, cp->asg_name) : NULL;
		if (g && g->deleting)
			g = NULL;
		if (strcmp(a->status, "DELETING") == 0) {
			struct as_policy *p = g && policy ? api_as_find_managed_policy(ctx, g, c->name, cp->name) : NULL;
			if (p)
				api_as_delete_policy(ctx, g, p->name);
			continue;
		}
		if (strcmp(a->status, "PRECREATED") != 0 && strcmp(a->status, "CREATED") != 0 &&
		    strcmp(a->status, "FAILED") != 0)
			continue;
		if (!g) {
			free(a->status);
			a->status = xstrdup("FAILED");
			kvlist_del(&a->details, "scalingPolicyName");
			kvlist_set(&a->details, "statusReason",
				   "The Auto Scaling group of the capacity provider was not found.");
			failed = true;
			continue;
		}
		kvlist_del(&a->details, "statusReason");
		if (!policy) {
			/* managed draining: its lifecycle hook is the sim driver's draining */
			if (strcmp(a->status, "FAILED") == 0) {
				free(a->status);
				a->status = xstrdup("CREATED");
			}
			continue;
		}
		struct as_policy *p = api_as_put_managed_policy(ctx, g, c->name, cp->name, cp->cur.ms.target_capacity,
								cp->cur.ms.warmup);
		kvlist_set(&a->details, "scalingPolicyName", p->name);
		kvlist_del(&a->details, "statusReason");
		if (strcmp(a->status, "FAILED") == 0) {
			free(a->status);
			a->status = xstrdup("CREATED");
		}
	}
	return failed;
}

int64_t api_cluster_advance(struct api_ctx *ctx, struct region *r)
{
	int64_t next = 0;
	for (size_t i = 0; i < r->clusters.n;) {
		struct cluster *c = r->clusters.v[i].val;
		if (c->status == CLUSTER_INACTIVE) {
			int64_t until = c->deleted_at + ctx->cfg->cluster_retention_ms;
			if (until <= ctx->now) {
				model_cluster_purge(ctx->m, r, c);
				continue; /* the index shifted down */
			}
			if (!next || until < next)
				next = until;
		} else if (c->transition_at) {
			if (c->transition_at <= ctx->now) {
				bool failed = realize_attachments(ctx, r, c);
				if (c->status == CLUSTER_DEPROVISIONING && c->deleted_at) {
					/* a deletion whose scaling policies are gone */
					finish_delete(ctx, c);
					model_dirty_cluster(ctx->m, c);
					i++;
					continue;
				}
				if (failed)
					c->status = CLUSTER_FAILED;
				else if (c->status == CLUSTER_PROVISIONING || c->status == CLUSTER_DEPROVISIONING ||
					 c->status == CLUSTER_FAILED)
					c->status = CLUSTER_ACTIVE;
				drop_deleted_attachments(c);
				free(c->att_status);
				c->att_status = xstrdup(failed ? "UPDATE_FAILED" : "UPDATE_COMPLETE");
				c->transition_at = 0;
				model_dirty_cluster(ctx->m, c);
			} else if (!next || c->transition_at < next) {
				next = c->transition_at;
			}
		}
		i++;
	}
	return next;
}
