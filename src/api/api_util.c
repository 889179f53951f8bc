/* api_util: small helpers every handler uses: reading members, resolving
 * cluster references, names, tags, pagination tokens, strategy checks. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "lib/utf8.h"
#include "lib/xalloc.h"
#include "sched/strategy.h"

const cJSON *api_get(const cJSON *in, const char *name)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(in, name);
	return (j && !cJSON_IsNull(j)) ? j : NULL;
}

const char *api_str(const cJSON *in, const char *name)
{
	const cJSON *j = api_get(in, name);
	return cJSON_IsString(j) ? j->valuestring : NULL;
}

int api_int(const cJSON *in, const char *name, int dflt)
{
	const cJSON *j = api_get(in, name);
	if (cJSON_IsRaw(j)) /* a whole number the codec made (not from a client) */
		return atoi(j->valuestring);
	return cJSON_IsNumber(j) ? (int)j->valuedouble : dflt;
}

bool api_enabled(const cJSON *in, const char *name, bool dflt)
{
	const char *s = api_str(in, name);
	return s ? strcmp(s, "ENABLED") == 0 : dflt;
}

bool api_valid_name(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > 255)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
			return false;
	return true;
}

const char *api_ref_name(const char *ref, const char *type, char *buf, size_t len)
{
	/* arn:aws:ecs:REGION:ACCOUNT:TYPE/NAME */
	if (strncmp(ref, "arn:", 4) != 0)
		return ref;
	const char *p = ref;
	for (int i = 0; i < 5 && p; i++) {
		p = strchr(p, ':');
		if (p)
			p++;
	}
	size_t tl = strlen(type);
	if (!p || strncmp(p, type, tl) != 0 || p[tl] != '/') {
		snprintf(buf, len, "%s", "");
		return buf;
	}
	const char *name = strrchr(p, '/') + 1;
	snprintf(buf, len, "%s", name);
	return buf;
}

struct cluster *api_cluster_find(struct api_ctx *ctx, const char *ref)
{
	char buf[512];
	const char *name = ref ? ref : "default";
	if (strncmp(name, "arn:", 4) == 0) {
		/* The ARN must name this region and account, and end in exactly
		 * one cluster name: "cluster/a/b" names no cluster, not "b". */
		char *prefix = model_arn(ctx->m, ctx->region, "cluster/");
		size_t pl = strlen(prefix);
		bool ours = strncmp(name, prefix, pl) == 0 && api_valid_name(name + pl);
		free(prefix);
		if (!ours)
			return NULL;
		name = api_ref_name(name, "cluster", buf, sizeof buf);
	}
	struct region *r = model_region_find(ctx->m, ctx->region);
	return r ? model_cluster_find(r, name) : NULL;
}

int api_cluster_lookup(struct api_ctx *ctx, const char *ref, bool use, struct cluster **out,
		       struct err *e)
{
	struct cluster *c = api_cluster_find(ctx, ref);
	if (!c && use && (!ref || strcmp(ref, "default") == 0)) {
		struct region *r = model_region(ctx->m, ctx->region);
		if (!r->default_created) {
			c = model_cluster_new(ctx->m, r, "default", ctx->now);
			r->default_created = true;
			model_dirty_region(ctx->m, r);
		}
	}
	if (!c)
		return err_set(e, ERR_CLUSTER_NOT_FOUND, "Cluster not found.");
	*out = c;
	return 0;
}

int api_cluster_require_active(const struct cluster *c, struct err *e)
{
	if (c->status == CLUSTER_INACTIVE)
		return err_set(e, ERR_INVALID_PARAMETER,
			       "The specified cluster is inactive. Specify an active cluster and try again.");
	return 0;
}

/* Tag characters ECS allows: [\p{L}\p{Z}\p{N}_.:/=+\-@]. */
static bool tag_text_ok(const char *s)
{
	uint32_t cp;
	int n;
	for (; (n = utf8_next(s, &cp)) > 0; s += n) {
		if (utf8_is_letter_or_number(cp) || utf8_is_separator(cp) ||
		    (cp < 0x80 && strchr("_.:/=+-@", (int)cp)))
			continue;
		return false;
	}
	return true;
}

static bool reserved_prefix(const char *s)
{
	return strncasecmp(s, "aws:", 4) == 0;
}

int api_tags_check(const cJSON *tags, size_t existing_other, struct err *e)
{
	size_t n = 0;
	const cJSON *t;
	cJSON_ArrayForEach(t, tags)
	{
		const char *k = api_str(t, "key");
		const char *v = api_str(t, "value");
		if (!k || !*k)
			return err_set(e, ERR_INVALID_PARAMETER, "Tag keys must be between 1 and 128 characters.");
		if (reserved_prefix(k) || (v && reserved_prefix(v)))
			return err_set(e, ERR_INVALID_PARAMETER,
				       "Tag keys and values may not begin with 'aws:': that prefix is reserved for AWS use.");
		if (!tag_text_ok(k) || (v && !tag_text_ok(v)))
			return err_set(e, ERR_INVALID_PARAMETER,
				       "Tag '%s' contains characters that are not allowed. Keys and values may contain letters, numbers, spaces and _ . : / = + - @.",
				       k);
		/* A key repeated in one request counts once. */
		const cJSON *u;
		bool dup = false;
		cJSON_ArrayForEach(u, tags)
		{
			if (u == t)
				break;
			const char *k2 = api_str(u, "key");
			if (k2 && strcmp(k2, k) == 0)
				dup = true;
		}
		if (!dup)
			n++;
	}
	if (n + existing_other > 50)
		return err_set(e, ERR_INVALID_PARAMETER,
			       "A resource can have at most 50 tags; this request would give it %zu.",
			       n + existing_other);
	return 0;
}

static const char hexd[] = "0123456789abcdef";

char *api_token_encode(const char *kind, const char *key)
{
	/* "<kind>:<key>" in hex: opaque to clients, trivially checked. */
	char *plain = xasprintf("%s:%s", kind, key);
	size_t n = strlen(plain);
	char *out = xmalloc(2 * n + 1);
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hexd[(unsigned char)plain[i] >> 4];
		out[2 * i + 1] = hexd[(unsigned char)plain[i] & 15];
	}
	out[2 * n] = '\0';
	free(plain);
	return out;
}

char *api_token_decode(const char *kind, const char *token, struct err *e)
{
	size_t n = strlen(token);
	if (n == 0 || n % 2 || n > 4096)
		goto bad;
	char *plain = xmalloc(n / 2 + 1);
	for (size_t i = 0; i < n / 2; i++) {
		const char *a = strchr(hexd, token[2 * i]), *b = strchr(hexd, token[2 * i + 1]);
		if (!a || !b || !token[2 * i] || !token[2 * i + 1]) {
			free(plain);
			goto bad;
		}
		plain[i] = (char)(((a - hexd) << 4) | (b - hexd));
	}
	plain[n / 2] = '\0';
	size_t kl = strlen(kind);
	if (strlen(plain) != n / 2 || strncmp(plain, kind, kl) != 0 || plain[kl] != ':') {
		free(plain);
		goto bad;
	}
	char *key = xstrdup(plain + kl + 1);
	free(plain);
	return key;
bad:
	err_set(e, ERR_INVALID_PARAMETER, "The specified nextToken is invalid.");
	return NULL;
}

int api_strategy_check(struct api_ctx *ctx, const cJSON *strategy, char *const *names, size_t n,
		       int use, bool launch_type_given, struct err *e)
{
	int ni = cJSON_GetArraySize(strategy);
	if (ni <= 0 && !launch_type_given)
		return 0;
	struct region *r = model_region(ctx->m, ctx->region);
	struct sched_cp_ref *refs = xcalloc(n ? n : 1, sizeof *refs);
	for (size_t i = 0; i < n; i++) {
		refs[i].name = names[i];
		if (cp_is_builtin(names[i])) {
			refs[i].kind = SCHED_CP_FARGATE;
			refs[i].usable = 1;
		} else {
			struct capacity_provider *cp = model_cp_find(r, names[i]);
			refs[i].kind = SCHED_CP_ASG;
			refs[i].usable = cp && cp->status == CP_ACTIVE;
		}
	}
	struct sched_strategy_item *items = xcalloc(ni > 0 ? (size_t)ni : 1, sizeof *items);
	size_t k = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, strategy)
	{
		items[k].provider = api_str(it, "capacityProvider");
		items[k].has_weight = api_get(it, "weight") != NULL;
		items[k].weight = api_int(it, "weight", 0);
		items[k].has_base = api_get(it, "base") != NULL;
		items[k].base = api_int(it, "base", 0);
		k++;
	}
	struct sched_strategy_ctx sc = {
		.associated = refs,
		.n_associated = n,
		.max_items = (size_t)ctx->cfg->strategy_max_providers,
		.launch_type_given = launch_type_given,
		.use = (enum sched_strategy_use)use,
	};
	int rule = sched_strategy_validate(items, k, &sc, e);
	free(items);
	free(refs);
	if (rule != SCHED_STRATEGY_OK) {
		e->code = ERR_INVALID_PARAMETER;
		return -1;
	}
	return 0;
}

cJSON *api_failure(struct api_ctx *ctx, const char *prefix, const char *ref, const char *reason)
{
	cJSON *f = cJSON_CreateObject();
	char *arn;
	if (strncmp(ref, "arn:", 4) == 0) {
		arn = xstrdup(ref);
	} else {
		char *res = xasprintf("%s%s", prefix, ref);
		arn = model_arn(ctx->m, ctx->region, res);
		free(res);
	}
	cJSON_AddStringToObject(f, "arn", arn);
	cJSON_AddStringToObject(f, "reason", reason);
	free(arn);
	return f;
}

bool api_client_token_ok(const char *s, size_t max)
{
	if (strlen(s) > max || !*s)
		return false;
	for (; *s; s++)
		if (*s < 33 || *s > 126)
			return false;
	return true;
}
