/* api_tags: TagResource, UntagResource, ListTagsForResource (ECS-SEMANTICS
 * §9) for the taggable resources Berth has: clusters, capacity providers,
 * task definitions, container instances and tasks.  A resource is named by
 * its full ARN, which must belong to the request's region and account; task
 * and container instance ARNs in the long form (TYPE/CLUSTER/ID) only. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "model/codec.h"

/* What a resource ARN names. */
struct tagged {
	struct kvlist *tags;        /* NULL: FARGATE / FARGATE_SPOT, not taggable */
	void *obj;
	enum model_kind kind;
};

static int invalid_arn(struct err *e)
{
	return err_set(e, ERR_INVALID_PARAMETER, "The ARN provided is invalid.");
}

static int no_such_resource(struct err *e)
{
	return err_set(e, ERR_RESOURCE_NOT_FOUND, "The specified resource could not be found.");
}

static int found(struct tagged *t, struct kvlist *tags, void *obj, enum model_kind kind)
{
	t->tags = tags;
	t->obj = obj;
	t->kind = kind;
	return 0;
}

static int resolve_cluster(struct region *r, const char *name, struct tagged *t, struct err *e)
{
	if (!api_valid_name(name))
		return invalid_arn(e);
	struct cluster *c = r ? model_cluster_find(r, name) : NULL;
	if (!c)
		return err_set(e, ERR_CLUSTER_NOT_FOUND, "Cluster not found.");
	if (api_cluster_require_active(c, e))
		return -1;
	return found(t, &c->tags, c, MODEL_CLUSTER);
}

static int resolve_cp(struct region *r, const char *name, struct tagged *t, struct err *e)
{
	if (!api_valid_name(name))
		return invalid_arn(e);
	if (cp_is_builtin(name))
		return found(t, NULL, NULL, MODEL_CP);
	struct capacity_provider *cp = r ? model_cp_find(r, name) : NULL;
	if (!cp || cp->status == CP_INACTIVE)
		return err_set(e, ERR_RESOURCE_NOT_FOUND,
			       "The specified capacity provider does not exist.");
	return found(t, &cp->tags, cp, MODEL_CP);
}

/* task-definition/FAMILY:REVISION; one being deleted is gone already. */
static int resolve_td(struct region *r, const char *ref, struct tagged *t, struct err *e)
{
	const char *colon = strchr(ref, ':');
	char family[256];
	size_t fl = colon ? (size_t)(colon - ref) : 0;
	if (!colon || fl == 0 || fl >= sizeof family)
		return invalid_arn(e);
	memcpy(family, ref, fl);
	family[fl] = '\0';
	const char *p = colon + 1;
	long rev = 0;
	for (; isdigit((unsigned char)*p) && rev <= 1000000000; p++)
		rev = rev * 10 + (*p - '0');
	if (!api_valid_name(family) || p == colon + 1 || *p || rev < 1 || rev > 1000000000)
		return invalid_arn(e);
	struct task_def *td = r ? model_td_find(r, family, (int)rev) : NULL;
	if (!td || td->status == TD_DELETE_IN_PROGRESS)
		return no_such_resource(e);
	return found(t, &td->tags, td, MODEL_TASKDEF);
}

/* CLUSTER/ID of a long task or container instance ARN, into cluster;
 * returns the ID, or NULL for another form (a short ARN). */
static const char *split_long(const char *rest, char *cluster, size_t len)
{
	const char *slash = strchr(rest, '/');
	size_t cl = slash ? (size_t)(slash - rest) : 0;
	if (!slash || cl == 0 || cl >= len || !slash[1] || strchr(slash + 1, '/'))
		return NULL;
	memcpy(cluster, rest, cl);
	cluster[cl] = '\0';
	return slash + 1;
}

static int resolve_ci(struct region *r, const char *rest, struct tagged *t, struct err *e)
{
	char cluster[256];
	const char *id = split_long(rest, cluster, sizeof cluster);
	if (!id)
		return no_such_resource(e);
	struct cluster *c = r && api_valid_name(cluster) ? model_cluster_find(r, cluster) : NULL;
	struct container_instance *ci = c ? model_ci_find(c, id) : NULL;
	if (!ci)
		return no_such_resource(e);
	return found(t, &ci->tags, ci, MODEL_INSTANCE);
}

static int resolve_task(struct region *r, const char *rest, struct tagged *t, struct err *e)
{
	char cluster[256];
	const char *id = split_long(rest, cluster, sizeof cluster);
	if (!id)
		return no_such_resource(e);
	struct task *tk = r ? model_task_find(r, id) : NULL;
	if (!tk || strcmp(tk->cluster->name, cluster) != 0)
		return no_such_resource(e);
	return found(t, &tk->tags, tk, MODEL_TASK);
}

static int resolve_service(struct region *r, const char *rest, struct tagged *t, struct err *e)
{
	char cluster[256];
	const char *name = split_long(rest, cluster, sizeof cluster);
	if (!name)
		return no_such_resource(e);
	struct cluster *c = r && api_valid_name(cluster) ? model_cluster_find(r, cluster) : NULL;
	struct service *s = c ? model_svc_find(c, name) : NULL;
	if (!s || s->status == SVC_INACTIVE)
		return no_such_resource(e);
	return found(t, &s->tags, s, MODEL_SERVICE);
}

/* The resource part of an ARN of this endpoint, or NULL with e filled.
 * The ARN is taken apart field by field (arn:PARTITION:ecs:REGION:ACCOUNT:
 * TYPE/ID) rather than compared against our own prefix first, so that a
 * short or foreign ARN is never read past its end. */
static const char *resource_of(struct api_ctx *ctx, const char *arn, struct err *e)
{
	/* fields 0..4 end at a ':'; the resource is the rest */
	const char *f[6];
	size_t fl[5];
	const char *p = arn;
	for (int i = 0; i < 5; i++) {
		const char *c = strchr(p, ':');
		if (!c) {
			invalid_arn(e);
			return NULL;
		}
		f[i] = p;
		fl[i] = (size_t)(c - p);
		p = c + 1;
	}
	f[5] = p;
	if (fl[0] != 3 || strncmp(f[0], "arn", 3) != 0 || fl[2] != 3 ||
	    strncmp(f[2], "ecs", 3) != 0 || !fl[1] || !fl[3] || !fl[4] || !strchr(f[5], '/')) {
		invalid_arn(e);
		return NULL;
	}
	/* Another partition, region or account: not a resource of this
	 * endpoint (the same answer whether or not it exists there). */
	char *prefix = model_arn(ctx->m, ctx->region, "");
	size_t pl = strlen(prefix);
	bool ours = strncmp(arn, prefix, pl) == 0 && (size_t)(f[5] - arn) == pl;
	free(prefix);
	if (!ours) {
		err_set(e, ERR_INVALID_PARAMETER,
			"The ARN provided is invalid: it does not belong to this region and account.");
		return NULL;
	}
	return f[5];
}

/* Resolve an ARN to the tag list it names.  Fails with the error ECS gives
 * for each case. */
static int resolve(struct api_ctx *ctx, const char *arn, struct tagged *t, struct err *e)
{
	const char *res = resource_of(ctx, arn, e);
	if (!res)
		return -1;
	struct region *r = model_region_find(ctx->m, ctx->region);
	if (strncmp(res, "cluster/", 8) == 0)
		return resolve_cluster(r, res + 8, t, e);
	if (strncmp(res, "capacity-provider/", 18) == 0)
		return resolve_cp(r, res + 18, t, e);
	if (strncmp(res, "task-definition/", 16) == 0)
		return resolve_td(r, res + 16, t, e);
	if (strncmp(res, "container-instance/", 19) == 0 && res[19])
		return resolve_ci(r, res + 19, t, e);
	if (strncmp(res, "task/", 5) == 0 && res[5])
		return resolve_task(r, res + 5, t, e);
	/* A short (legacy) service ARN, service/NAME: AWS refuses it for all
	 * three operations with this text [M:TagResourceRequest.resourceArn],
	 * [gh:turbot/steampipe-plugin-aws#1247], [gh:kayac/ecspresso#297]. */
	if (strncmp(res, "service/", 8) == 0 && res[8] && !strchr(res + 8, '/'))
		return err_set(e, ERR_INVALID_PARAMETER,
			       "Long arn format must be used for tagging operations");
	if (strncmp(res, "service/", 8) == 0)
		return resolve_service(r, res + 8, t, e);
	/* Kinds Berth does not store yet: nothing of them exists, which is
	 * what a client must hear (never a 5xx). */
	static const char *const later[] = {"task-set/"};
	for (size_t i = 0; i < sizeof later / sizeof later[0]; i++) {
		size_t n = strlen(later[i]);
		if (strncmp(res, later[i], n) == 0 && res[n])
			return no_such_resource(e);
	}
	return invalid_arn(e);
}

static void mark(struct api_ctx *ctx, const struct tagged *t)
{
	switch (t->kind) {
	case MODEL_CLUSTER: model_dirty_cluster(ctx->m, t->obj); break;
	case MODEL_CP: model_dirty_cp(ctx->m, t->obj); break;
	case MODEL_TASKDEF: model_dirty_td(ctx->m, t->obj); break;
	case MODEL_INSTANCE: model_dirty_ci(ctx->m, t->obj); break;
	case MODEL_TASK: model_dirty_task(ctx->m, t->obj); break;
	case MODEL_SERVICE: model_dirty_svc(ctx->m, t->obj); break;
	case MODEL_REGION:
	case MODEL_FAMILY:
	case MODEL_AS_LC:
	case MODEL_IAM_USER:
	case MODEL_AS_GROUP:
	case MODEL_AS_POLICY: break;
	}
}

static int refuse_builtin(struct err *e)
{
	return err_set(e, ERR_INVALID_PARAMETER,
		       "The FARGATE and FARGATE_SPOT capacity providers are reserved and cannot be tagged.");
}

int api_tag_resource(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	struct tagged t;
	const cJSON *req = api_get(in, "tags");
	if (resolve(ctx, api_str(in, "resourceArn"), &t, e))
		return -1;
	if (!t.tags)
		return refuse_builtin(e);
	/* Keys already on the resource that the request does not overwrite. */
	size_t others = 0;
	for (size_t i = 0; i < t.tags->n; i++) {
		bool overwritten = false;
		const cJSON *tag;
		cJSON_ArrayForEach(tag, req)
		{
			const char *k = api_str(tag, "key");
			if (k && strcmp(k, t.tags->v[i].key) == 0)
				overwritten = true;
		}
		if (!overwritten && strncasecmp(t.tags->v[i].key, "aws:", 4) != 0)
			others++;
	}
	if (api_tags_check(req, others, e))
		return -1;
	codec_tags_parse(t.tags, req);
	mark(ctx, &t);
	*out = cJSON_CreateObject();
	return 0;
}

int api_untag_resource(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	struct tagged t;
	const cJSON *keys = api_get(in, "tagKeys");
	if (resolve(ctx, api_str(in, "resourceArn"), &t, e))
		return -1;
	if (!t.tags)
		return refuse_builtin(e);
	const cJSON *k;
	cJSON_ArrayForEach(k, keys)
	{
		if (strncasecmp(k->valuestring, "aws:", 4) == 0)
			return err_set(e, ERR_INVALID_PARAMETER,
				       "Tag keys beginning with 'aws:' are reserved and cannot be removed.");
	}
	bool changed = false;
	cJSON_ArrayForEach(k, keys)
	{
		changed |= kvlist_del(t.tags, k->valuestring) != 0;
	}
	if (changed)
		mark(ctx, &t);
	*out = cJSON_CreateObject();
	return 0;
}

int api_list_tags_for_resource(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	struct tagged t;
	if (resolve(ctx, api_str(in, "resourceArn"), &t, e))
		return -1;
	cJSON *o = cJSON_CreateObject();
	if (t.tags)
		cJSON_AddItemToObject(o, "tags", codec_tags(t.tags));
	else
		cJSON_AddArrayToObject(o, "tags");
	*out = o;
	return 0;
}
