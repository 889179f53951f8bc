/* api_iam: the IAM subset berthd serves over the Query protocol (Version
 * 2010-05-08), so that `aws iam` and boto3's IAM client manage the users
 * whose signatures and policies --auth sigv4 checks: users, their access
 * keys (at most two, Active or Inactive) and their inline policies.
 *
 * Errors are IAM's: NoSuchEntity (404) "The user with name X cannot be
 * found.", EntityAlreadyExists (409), DeleteConflict (409) for a user that
 * still has keys or policies, LimitExceeded (409) for a third key or
 * policies over 2,048 characters, MalformedPolicyDocument (400).  Users
 * of the policy file are UnmodifiableEntity.
 *
 * A secret access key is made from the operating system's random source
 * (never the seeded rng), answered once by CreateAccessKey, kept in memory
 * and stored sealed (model_iam.h). */
#include <ctype.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/validate.h"
#include "lib/policy.h"
#include "lib/xalloc.h"
#include "model/codec_as.h"

/* ---- helpers ---- */

static const char *iso(int64_t ms, char *buf, size_t len)
{
	return codec_as_iso(ms, buf, len);
}

/* IAM's name rule [\w+=,.@-]+ (the model's lengths are checked already). */
static int name_ok(const char *s, const char *member, struct err *e)
{
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_+=,.@-", *p))
			return err_set(e, ERR_VALIDATION,
				       "1 validation error detected: Value '%.128s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+",
				       s, member);
	return 0;
}

/* A path: "/" or "/a/b/" of printable ASCII. */
static int path_ok(const char *s, const char *member, struct err *e)
{
	size_t n = strlen(s);
	bool ok = n >= 1 && s[0] == '/' && s[n - 1] == '/';
	for (const char *p = s; ok && *p; p++)
		ok = *p >= 0x21 && *p <= 0x7e;
	if (!ok)
		return err_set(e, ERR_VALIDATION,
			       "1 validation error detected: Value '%.128s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)",
			       s, member);
	return 0;
}

static void random_chars(const char *alphabet, char *out, size_t n)
{
	unsigned char b[64];
	size_t k = strlen(alphabet);
	BERTH_ASSERT(n <= sizeof b && RAND_bytes(b, (int)n) == 1);
	for (size_t i = 0; i < n; i++)
		out[i] = alphabet[b[i] % k];
	out[n] = '\0';
	seal_wipe(b, sizeof b);
}

static void new_id(const char *prefix, size_t n, char *out)
{
	strcpy(out, prefix);
	random_chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", out + strlen(prefix), n);
}

static cJSON *user_json(const struct iam_user *u)
{
	char t[40];
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "Path", u->path);
	cJSON_AddStringToObject(o, "UserName", u->name);
	cJSON_AddStringToObject(o, "UserId", u->id);
	cJSON_AddStringToObject(o, "Arn", u->arn);
	cJSON_AddStringToObject(o, "CreateDate", iso(u->created_at, t, sizeof t));
	return o;
}

static struct iam_user *user_named(struct api_ctx *ctx, const char *name, struct err *e)
{
	struct iam_user *u = sidx_get(&ctx->m->iam.users, name);
	if (!u)
		err_set(e, ERR_IAM_NO_SUCH_ENTITY, "The user with name %.64s cannot be found.", name);
	return u;
}

/* The user an optional UserName names, else the caller; NULL with e set
 * when there is none (the root has no IAM user). */
static struct iam_user *user_or_caller(struct api_ctx *ctx, const cJSON *in, struct err *e)
{
	const char *name = api_str(in, "UserName");
	if (name)
		return user_named(ctx, name, e);
	if (ctx->caller)
		return ctx->caller;
	err_set(e, ERR_IAM_INVALID_INPUT,
		"Berth's root credentials come from its configuration, not from IAM: name a user with UserName.");
	return NULL;
}

static int writable(const struct iam_user *u, struct err *e)
{
	if (u->from_file)
		return err_set(e, ERR_IAM_UNMODIFIABLE,
			       "Cannot change user %.64s: it comes from berthd's policy file; edit the file and send SIGHUP.",
			       u->name);
	return 0;
}

/* MaxItems (1..1000, default 100) and Marker (the last name answered). */
static int paging(const cJSON *in, int *max, const char **marker, struct err *e)
{
	*max = api_int(in, "MaxItems", 100);
	*marker = api_str(in, "Marker");
	if (*max < 1 || *max > 1000)
		return err_set(e, ERR_VALIDATION,
			       "1 validation error detected: Value '%d' at 'maxItems' failed to satisfy constraint: Member must have value %s",
			       *max, *max < 1 ? "greater than or equal to 1" : "less than or equal to 1000");
	return 0;
}

static void page_end(cJSON *out, bool truncated, const char *last)
{
	cJSON_AddBoolToObject(out, "IsTruncated", truncated);
	if (truncated)
		cJSON_AddStringToObject(out, "Marker", last);
}

/* ---- users ---- */

static int create_user(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	const char *name = api_str(in, "UserName"), *path = api_str(in, "Path");
	if (name_ok(name, "userName", e) || (path && path_ok(path, "path", e)))
		return -1;
	if (api_get(in, "PermissionsBoundary") || api_get(in, "Tags"))
		return err_set(e, ERR_IAM_INVALID_INPUT,
			       "Berth does not keep permissions boundaries or user tags yet; docs/api-coverage.md lists what it does.");
	/* IAM user names are unique without regard to case. */
	for (size_t i = 0; i < ctx->m->iam.users.n; i++)
		if (strcasecmp(ctx->m->iam.users.v[i].key, name) == 0)
			return err_set(e, ERR_IAM_ENTITY_EXISTS, "User with name %.64s already exists.", name);
	char id[32];
	new_id("AIDA", 17, id);
	struct iam_user *u = iam_user_new(ctx->m, name, path, id, ctx->now);
	model_iam_user_add(ctx->m, u);
	*out = cJSON_CreateObject();
	cJSON_AddItemToObject(*out, "User", user_json(u));
	return 0;
}

static int get_user(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	*out = cJSON_CreateObject();
	if (!api_str(in, "UserName") && !ctx->caller) {
		/* The root, as IAM answers it. */
		char t[40];
		cJSON *o = cJSON_AddObjectToObject(*out, "User");
		char *arn = xasprintf("arn:%s:iam::%s:root", ctx->m->partition, ctx->m->account);
		cJSON_AddStringToObject(o, "Path", "/");
		cJSON_AddStringToObject(o, "UserName", "root");
		cJSON_AddStringToObject(o, "UserId", ctx->m->account);
		cJSON_AddStringToObject(o, "Arn", arn);
		cJSON_AddStringToObject(o, "CreateDate", iso(0, t, sizeof t));
		free(arn);
		return 0;
	}
	struct iam_user *u = user_or_caller(ctx, in, e);
	if (!u)
		return -1;
	cJSON_AddItemToObject(*out, "User", user_json(u));
	return 0;
}

static int list_users(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	int max;
	const char *marker, *prefix = api_str(in, "PathPrefix");
	if (paging(in, &max, &marker, e) || (prefix && prefix[0] != '/' && path_ok(prefix, "pathPrefix", e)))
		return -1;
	*out = cJSON_CreateObject();
	cJSON *list = cJSON_AddArrayToObject(*out, "Users");
	const struct sidx *x = &ctx->m->iam.users;
	int n = 0;
	const char *last = NULL;
	bool more = false;
	for (size_t i = marker ? sidx_after(x, marker) : 0; i < x->n; i++) {
		const struct iam_user *u = x->v[i].val;
		if (prefix && strncmp(u->path, prefix, strlen(prefix)) != 0)
			continue;
		if (n == max) {
			more = true;
			break;
		}
		cJSON_AddItemToArray(list, user_json(u));
		last = u->name;
		n++;
	}
	page_end(*out, more, last);
	return 0;
}

static int delete_user(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	(void)out;
	struct iam_user *u = user_named(ctx, api_str(in, "UserName"), e);
	if (!u || writable(u, e))
		return -1;
	if (u->n_keys)
		return err_set(e, ERR_IAM_DELETE_CONFLICT, "Cannot delete entity, must delete access keys first.");
	if (u->policies.n)
		return err_set(e, ERR_IAM_DELETE_CONFLICT, "Cannot delete entity, must delete policies first.");
	model_iam_user_delete(ctx->m, u);
	return 0;
}

/* ---- access keys ---- */

static int create_access_key(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	struct iam_user *u = user_or_caller(ctx, in, e);
	if (!u || writable(u, e))
		return -1;
	if (u->n_keys >= IAM_MAX_KEYS)
		return err_set(e, ERR_IAM_LIMIT_EXCEEDED, "Cannot exceed quota for AccessKeysPerUser: %d", IAM_MAX_KEYS);
	char id[IAM_KEY_ID_LEN + 1], secret[IAM_SECRET_LEN + 1];
	do
		new_id("AKIA", IAM_KEY_ID_LEN - 4, id);
	while (sidx_get(&ctx->m->iam.keys, id));
	random_chars("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", secret, IAM_SECRET_LEN);
	struct iam_access_key *k = iam_key_add(ctx->m, u, id, secret, ctx->now);
	seal_wipe(secret, sizeof secret);
	char t[40];
	*out = cJSON_CreateObject();
	cJSON *o = cJSON_AddObjectToObject(*out, "AccessKey");
	cJSON_AddStringToObject(o, "UserName", u->name);
	cJSON_AddStringToObject(o, "AccessKeyId", k->id);
	cJSON_AddStringToObject(o, "Status", "Active");
	cJSON_AddStringToObject(o, "SecretAccessKey", k->secret);
	cJSON_AddStringToObject(o, "CreateDate", iso(k->created_at, t, sizeof t));
	return 0;
}

static int key_index(const struct iam_user *u, const char *id, struct err *e)
{
	for (size_t i = 0; i < u->n_keys; i++)
		if (strcmp(u->keys[i].id, id) == 0)
			return (int)i;
	return err_set(e, ERR_IAM_NO_SUCH_ENTITY, "The Access Key with id %.128s cannot be found.", id);
}

static int delete_access_key(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	(void)out;
	struct iam_user *u = user_or_caller(ctx, in, e);
	int i;
	if (!u || writable(u, e) || (i = key_index(u, api_str(in, "AccessKeyId"), e)) < 0)
		return -1;
	iam_key_delete(ctx->m, u, (size_t)i);
	return 0;
}

static int update_access_key(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	(void)out;
	struct iam_user *u = user_or_caller(ctx, in, e);
	int i;
	if (!u || writable(u, e) || (i = key_index(u, api_str(in, "AccessKeyId"), e)) < 0)
		return -1;
	u->keys[i].active = strcmp(api_str(in, "Status"), "Active") == 0;
	model_dirty_iam_user(ctx->m, u);
	return 0;
}

static int list_access_keys(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	int max;
	const char *marker;
	struct iam_user *u = user_or_caller(ctx, in, e);
	if (!u || paging(in, &max, &marker, e))
		return -1;
	*out = cJSON_CreateObject();
	cJSON *list = cJSON_AddArrayToObject(*out, "AccessKeyMetadata");
	char t[40];
	for (size_t i = 0; i < u->n_keys; i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "UserName", u->name);
		cJSON_AddStringToObject(o, "AccessKeyId", u->keys[i].id);
		cJSON_AddStringToObject(o, "Status", u->keys[i].active ? "Active" : "Inactive");
		cJSON_AddStringToObject(o, "CreateDate", iso(u->keys[i].created_at, t, sizeof t));
		cJSON_AddItemToArray(list, o);
	}
	page_end(*out, false, NULL);
	return 0;
}

/* ---- inline policies ---- */

/* Parse doc as a policy for u under name; the total of u's policies
 * (name replaced) must stay within IAM's 2,048 characters. */
static struct policy *checked_policy(const struct iam_user *u, const char *name, const char *doc, struct err *e)
{
	struct policy *p = NULL;
	struct err pe;
	err_clear(&pe);
	if (policy_parse(doc, strlen(doc), &p, &pe)) {
		err_set(e, ERR_IAM_MALFORMED_POLICY, "%s", pe.msg);
		return NULL;
	}
	size_t total = iam_policy_chars(doc);
	for (size_t i = 0; i < u->policies.n; i++) {
		const struct iam_user_policy *up = u->policies.v[i].val;
		if (strcmp(up->name, name) != 0)
			total += iam_policy_chars(up->doc);
	}
	if (total > IAM_INLINE_MAX_CHARS) {
		policy_free(p);
		err_set(e, ERR_IAM_LIMIT_EXCEEDED, "Maximum policy size of %d bytes exceeded for user %.64s",
			IAM_INLINE_MAX_CHARS, u->name);
		return NULL;
	}
	return p;
}

static int put_user_policy(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	(void)out;
	const char *pname = api_str(in, "PolicyName"), *doc = api_str(in, "PolicyDocument");
	struct iam_user *u = user_named(ctx, api_str(in, "UserName"), e);
	if (!u || writable(u, e) || name_ok(pname, "policyName", e))
		return -1;
	struct policy *p = checked_policy(u, pname, doc, e);
	if (!p)
		return -1;
	iam_policy_put(ctx->m, u, pname, doc, p);
	return 0;
}

static const struct iam_user_policy *policy_named(const struct iam_user *u, const char *name, struct err *e)
{
	const struct iam_user_policy *p = sidx_get(&u->policies, name);
	if (!p)
		err_set(e, ERR_IAM_NO_SUCH_ENTITY, "The user policy with name %.128s cannot be found.", name);
	return p;
}

/* IAM answers a policy document URL-encoded (RFC 3986 unreserved kept);
 * the SDKs decode it. */
static char *url_encode(const char *s)
{
	char *out = xmalloc(3 * strlen(s) + 1), *o = out;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || strchr("-_.~", *p))
			*o++ = (char)*p;
		else
			o += sprintf(o, "%%%02X", *p);
	}
	*o = '\0';
	return out;
}

static int get_user_policy(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	struct iam_user *u = user_named(ctx, api_str(in, "UserName"), e);
	const struct iam_user_policy *p = u ? policy_named(u, api_str(in, "PolicyName"), e) : NULL;
	if (!p)
		return -1;
	*out = cJSON_CreateObject();
	cJSON_AddStringToObject(*out, "UserName", u->name);
	cJSON_AddStringToObject(*out, "PolicyName", p->name);
	char *enc = url_encode(p->doc);
	cJSON_AddStringToObject(*out, "PolicyDocument", enc);
	free(enc);
	return 0;
}

static int delete_user_policy(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	(void)out;
	struct iam_user *u = user_named(ctx, api_str(in, "UserName"), e);
	if (!u || writable(u, e) || !policy_named(u, api_str(in, "PolicyName"), e))
		return -1;
	iam_policy_delete(ctx->m, u, api_str(in, "PolicyName"));
	return 0;
}

static int list_user_policies(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	int max;
	const char *marker;
	struct iam_user *u = user_named(ctx, api_str(in, "UserName"), e);
	if (!u || paging(in, &max, &marker, e))
		return -1;
	*out = cJSON_CreateObject();
	cJSON *list = cJSON_AddArrayToObject(*out, "PolicyNames");
	int n = 0;
	const char *last = NULL;
	bool more = false;
	for (size_t i = marker ? sidx_after(&u->policies, marker) : 0; i < u->policies.n; i++) {
		if (n == max) {
			more = true;
			break;
		}
		last = u->policies.v[i].key;
		cJSON_AddItemToArray(list, cJSON_CreateString(last));
		n++;
	}
	page_end(*out, more, last);
	return 0;
}

/* ---- the table ---- */

static const struct api_action iam_actions[] = {
	{"CreateAccessKey", create_access_key},
	{"CreateUser", create_user},
	{"DeleteAccessKey", delete_access_key},
	{"DeleteUser", delete_user},
	{"DeleteUserPolicy", delete_user_policy},
	{"GetUser", get_user},
	{"GetUserPolicy", get_user_policy},
	{"ListAccessKeys", list_access_keys},
	{"ListUserPolicies", list_user_policies},
	{"ListUsers", list_users},
	{"PutUserPolicy", put_user_policy},
	{"UpdateAccessKey", update_access_key},
};

int api_iam_call(struct api_ctx *ctx, const char *action, const cJSON *in, cJSON **out, struct err *e)
{
	const struct vop *op = validate_find_op(&validate_model_iam, action);
	if (!op)
		return err_set(e, ERR_INVALID_ACTION, "Could not find operation %s for version 2010-05-08", action);
	if (validate_input(op, in, e))
		return api_query_validation_error(op, in, e);
	if (api_authorize(ctx, 2, action, in, e))
		return -1;
	const struct api_action *a = NULL;
	for (size_t i = 0; i < sizeof iam_actions / sizeof iam_actions[0] && !a; i++)
		if (strcmp(iam_actions[i].name, action) == 0)
			a = &iam_actions[i];
	if (!a)
		return err_set(e, ERR_INVALID_ACTION,
			       "Berth does not implement %s yet; docs/api-coverage.md lists what it does.", action);
	*out = NULL;
	int r = a->fn(ctx, in, out, e);
	if (r == 0 && !*out)
		*out = cJSON_CreateObject();
	return r;
}

/* ---- the policy file ---- */

static const char *jstr(const cJSON *o, const char *name)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, name);
	return cJSON_IsString(j) ? j->valuestring : NULL;
}

/* One user of the file, checked whole; NULL with e set. */
static struct iam_user *file_user(struct api_ctx *ctx, const cJSON *ju, struct sidx *seen_keys, struct err *e)
{
	const char *name = jstr(ju, "UserName"), *path = jstr(ju, "Path");
	if (!name || !*name || strlen(name) > 64 || name_ok(name, "UserName", e))
		return err_set(e, ERR_IAM_INVALID_INPUT, "a user without a valid UserName"), NULL;
	if (path && path_ok(path, "Path", e))
		return NULL;
	char id[32];
	new_id("AIDA", 17, id);
	struct iam_user *u = iam_user_new(ctx->m, name, path, id, ctx->now);
	u->from_file = true;
	const cJSON *keys = cJSON_GetObjectItemCaseSensitive(ju, "AccessKeys"), *k;
	const cJSON *pols = cJSON_GetObjectItemCaseSensitive(ju, "Policies"), *p;
	if ((keys && !cJSON_IsArray(keys)) || (pols && !cJSON_IsArray(pols)) || cJSON_GetArraySize(keys) > IAM_MAX_KEYS) {
		err_set(e, ERR_IAM_INVALID_INPUT, "user %.64s: AccessKeys and Policies are arrays (at most %d keys)",
			name, IAM_MAX_KEYS);
		goto bad;
	}
	cJSON_ArrayForEach(k, keys)
	{
		const char *kid = jstr(k, "AccessKeyId"), *secret = jstr(k, "SecretAccessKey");
		if (!kid || strlen(kid) < 16 || strlen(kid) > IAM_KEY_ID_LEN || !secret || !*secret) {
			err_set(e, ERR_IAM_INVALID_INPUT,
				"user %.64s: an access key needs AccessKeyId (16 to 20 characters) and SecretAccessKey", name);
			goto bad;
		}
		if (sidx_get(seen_keys, kid)) {
			err_set(e, ERR_IAM_INVALID_INPUT, "user %.64s: access key %s is given twice", name, kid);
			goto bad;
		}
		struct iam_access_key *ak = &u->keys[u->n_keys++];
		strcpy(ak->id, kid);
		ak->secret = xstrdup(secret);
		ak->active = true;
		ak->created_at = ctx->now;
		sidx_put(seen_keys, ak->id, u);
	}
	cJSON_ArrayForEach(p, pols)
	{
		const char *pname = jstr(p, "PolicyName");
		const cJSON *doc = cJSON_GetObjectItemCaseSensitive(p, "PolicyDocument");
		char *text = cJSON_IsString(doc) ? xstrdup(doc->valuestring)
			     : cJSON_IsObject(doc) ? cJSON_PrintUnformatted(doc) : NULL;
		struct policy *parsed = NULL;
		struct err pe;
		if (!pname || !text || policy_parse(text, strlen(text), &parsed, &pe)) {
			err_set(e, ERR_IAM_MALFORMED_POLICY, "user %.64s, policy %.128s: %s", name,
				pname ? pname : "(no PolicyName)", text ? pe.msg : "no PolicyDocument");
			free(text);
			goto bad;
		}
		struct iam_user_policy *up = xcalloc(1, sizeof *up);
		up->name = xstrdup(pname);
		up->doc = text;
		up->parsed = parsed;
		struct iam_user_policy *old = sidx_put(&u->policies, up->name, up);
		if (old) {
			err_set(e, ERR_IAM_INVALID_INPUT, "user %.64s: policy %.128s is given twice", name, pname);
			free(old->name);
			free(old->doc);
			policy_free(old->parsed);
			free(old);
			goto bad;
		}
	}
	return u;
bad:
	for (size_t i = 0; i < u->n_keys; i++)
		sidx_del(seen_keys, u->keys[i].id);
	iam_user_free(u);
	return NULL;
}

int api_iam_load_file(struct api_ctx *ctx, const char *text, size_t len, struct err *e)
{
	cJSON *j = cJSON_ParseWithLength(text, len);
	const cJSON *users = j ? cJSON_GetObjectItemCaseSensitive(j, "Users") : NULL;
	if (!cJSON_IsObject(j) || !cJSON_IsArray(users)) {
		cJSON_Delete(j);
		return err_set(e, ERR_IAM_INVALID_INPUT, "the policy file must be a JSON object with a Users array");
	}
	size_t n = (size_t)cJSON_GetArraySize(users), k = 0;
	struct iam_user **made = xcalloc(n ? n : 1, sizeof *made);
	struct sidx seen;
	sidx_init(&seen);
	const cJSON *ju;
	int rc = 0;
	cJSON_ArrayForEach(ju, users)
	{
		made[k] = file_user(ctx, ju, &seen, e);
		if (!made[k]) {
			rc = -1;
			break;
		}
		struct iam_user *other = sidx_get(&ctx->m->iam.users, made[k]->name);
		bool dup = false;
		for (size_t i = 0; i < k; i++)
			dup |= strcmp(made[i]->name, made[k]->name) == 0;
		if (dup || (other && !other->from_file)) {
			err_set(e, ERR_IAM_INVALID_INPUT, "user %.64s is %s", made[k]->name,
				dup ? "given twice" : "already an IAM user made through the API");
			k++;
			rc = -1;
			break;
		}
		for (size_t i = 0; i < made[k]->n_keys && !rc; i++) {
			struct iam_user *holder = sidx_get(&ctx->m->iam.keys, made[k]->keys[i].id);
			if (holder && !holder->from_file) {
				err_set(e, ERR_IAM_INVALID_INPUT, "access key %s belongs to IAM user %.64s",
					made[k]->keys[i].id, holder->name);
				rc = -1;
			}
		}
		k++;
		if (rc)
			break;
	}
	if (rc == 0) {
		model_iam_drop_file_users(ctx->m);
		for (size_t i = 0; i < k; i++)
			model_iam_user_add(ctx->m, made[i]);
	} else {
		for (size_t i = 0; i < k; i++)
			iam_user_free(made[i]);
	}
	free(made);
	sidx_release(&seen);
	cJSON_Delete(j);
	return rc;
}
