/* api_tags: TagResource, UntagResource, ListTagsForResource (ECS-SEMANTICS
 * §9) for the taggable resources Berth has so far: clusters and capacity
 * providers.  A resource is named by its full ARN, which must belong to the
 * request's region and account. */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "lib/xalloc.h"
#include "model/codec.h"

static int invalid_arn(struct err *e)
{
	return err_set(e, ERR_INVALID_PARAMETER, "The ARN provided is invalid.");
}

/* Resolve an ARN to the tag list it names.  Fails with the error ECS gives
 * for each case.  The ARN is taken apart field by field
 * (arn:PARTITION:ecs:REGION:ACCOUNT:TYPE/ID) rather than compared against
 * our own prefix first, so that a short or foreign ARN is never read past
 * its end. */
static int resolve(struct api_ctx *ctx, const char *arn, struct kvlist **tags, void **obj,
		   enum model_kind *kind, struct err *e)
{
	/* fields 0..4 end at a ':'; the resource is the rest */
	const char *f[6];
	size_t fl[5];
	const char *p = arn;
	for (int i = 0; i < 5; i++) {
		const char *c = strchr(p, ':');
		if (!c)
			return invalid_arn(e);
		f[i] = p;
		fl[i] = (size_t)(c - p);
		p = c + 1;
	}
	f[5] = p;
	if (fl[0] != 3 || strncmp(f[0], "arn", 3) != 0 || fl[2] != 3 || strncmp(f[2], "ecs", 3) != 0 || !fl[1] ||
	    !fl[3] || !fl[4] || !strchr(f[5], '/'))
		return invalid_arn(e);
	/* Another partition, region or account: not a resource of this
	 * endpoint (the same answer whether or not it exists there). */
	char *prefix = model_arn(ctx->m, ctx->region, "");
	bool ours = strncmp(arn, prefix, strlen(prefix)) == 0 && (size_t)(f[5] - arn) == strlen(prefix);
	free(prefix);
	if (!ours)
		return err_set(e, ERR_INVALID_PARAMETER,
			       "The ARN provided is invalid: it does not belong to this region and account.");
	const char *res = f[5];
	struct region *r = model_region_find(ctx->m, ctx->region);
	if (strncmp(res, "cluster/", 8) == 0) {
		const char *name = res + 8;
		if (!api_valid_name(name))
			return invalid_arn(e);
		struct cluster *c = r ? model_cluster_find(r, name) : NULL;
		if (!c)
			return err_set(e, ERR_CLUSTER_NOT_FOUND, "Cluster not found.");
		if (api_cluster_require_active(c, e))
			return -1;
		*tags = &c->tags;
		*obj = c;
		*kind = MODEL_CLUSTER;
		return 0;
	}
	if (strncmp(res, "capacity-provider/", 18) == 0) {
		const char *name = res + 18;
		if (!api_valid_name(name))
			return invalid_arn(e);
		if (cp_is_builtin(name)) {
			*tags = NULL;
			*obj = NULL;
			*kind = MODEL_CP;
			return 0;
		}
		struct capacity_provider *cp = r ? model_cp_find(r, name) : NULL;
		if (!cp || cp->status == CP_INACTIVE)
			return err_set(e, ERR_RESOURCE_NOT_FOUND, "The specified capacity provider does not exist.");
		*tags = &cp->tags;
		*obj = cp;
		*kind = MODEL_CP;
		return 0;
	}
	/* A short (legacy) service ARN, service/NAME: AWS refuses it for all
	 * three operations with this text [M:TagResourceRequest.resourceArn],
	 * [gh:turbot/steampipe-plugin-aws#1247], [gh:kayac/ecspresso#297]. */
	if (strncmp(res, "service/", 8) == 0 && res[8] && !strchr(res + 8, '/'))
		return err_set(e, ERR_INVALID_PARAMETER, "Long arn format must be used for tagging operations");
	/* Kinds Berth does not store yet: nothing of them exists, which is
	 * what a client must hear (never a 5xx). */
	static const char *const later[] = {"service/", "task/", "task-definition/", "container-instance/", "task-set/"};
	for (size_t i = 0; i < sizeof later / sizeof later[0]; i++) {
		size_t n = strlen(later[i]);
		if (strncmp(res, later[i], n) == 0 && res[n])
			return err_set(e, ERR_RESOURCE_NOT_FOUND, "The specified resource could not be found.");
	}
	return invalid_arn(e);
}

static void mark(struct api_ctx *ctx, void *obj, enum model_kind kind)
{
	if (kind == MODEL_CLUSTER)
		model_dirty_cluster(ctx->m, obj);
	else
		model_dirty_cp(ctx->m, obj);
}

int api_tag_resource(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	struct kvlist *tags;
	void *obj;
	enum model_kind kind;
	const cJSON *req = api_get(in, "tags");
	if (resolve(ctx, api_str(in, "resourceArn"), &tags, &obj, &kind, e))
		return -1;
	if (!tags)
		return err_set(e, ERR_INVALID_PARAMETER,
			       "The FARGATE and FARGATE_SPOT capacity providers are reserved and cannot be tagged.");
	/* Keys already on the resource that the request does not overwrite. */
	size_t others = 0;
	for (size_t i = 0; i < tags->n; i++) {
		bool overwritten = false;
		const cJSON *t;
		cJSON_ArrayForEach(t, req)
		{
			const char *k = api_str(t, "key");
			if (k && strcmp(k, tags->v[i].key) == 0)
				overwritten = true;
		}
		if (!overwritten && strncasecmp(tags->v[i].key, "aws:", 4) != 0)
			others++;
	}
	if (api_tags_check(req, others, e))
		return -1;
	codec_tags_parse(tags, req);
	mark(ctx, obj, kind);
	*out = cJSON_CreateObject();
	return 0;
}

int api_untag_resource(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	struct kvlist *tags;
	void *obj;
	enum model_kind kind;
	const cJSON *keys = api_get(in, "tagKeys");
	if (resolve(ctx, api_str(in, "resourceArn"), &tags, &obj, &kind, e))
		return -1;
	if (!tags)
		return err_set(e, ERR_INVALID_PARAMETER,
			       "The FARGATE and FARGATE_SPOT capacity providers are reserved and cannot be tagged.");
	const cJSON *k;
	cJSON_ArrayForEach(k, keys)
	if (strncasecmp(k->valuestring, "aws:", 4) == 0)
		return err_set(e, ERR_INVALID_PARAMETER,
			       "Tag keys beginning with 'aws:' are reserved and cannot be removed.");
	bool changed = false;
	cJSON_ArrayForEach(k, keys)
	changed |= kvlist_del(tags, k->valuestring) != 0;
	if (changed)
		mark(ctx, obj, kind);
	*out = cJSON_CreateObject();
	return 0;
}

int api_list_tags_for_resource(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	struct kvlist *tags;
	void *obj;
	enum model_kind kind;
	if (resolve(ctx, api_str(in, "resourceArn"), &tags, &obj, &kind, e))
		return -1;
	cJSON *o = cJSON_CreateObject();
	if (tags)
		cJSON_AddItemToObject(o, "tags", codec_tags(tags));
	else
		cJSON_AddArrayToObject(o, "tags");
	*out = o;
	return 0;
}
