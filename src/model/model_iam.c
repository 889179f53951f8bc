/* model_iam: see model_iam.h. */
#include "model/model_iam.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "lib/policy.h"
#include "lib/xalloc.h"
#include "model/codec.h"
#include "model/model.h"

void iam_init(struct iam *iam)
{
	memset(iam, 0, sizeof *iam);
	sidx_init(&iam->users);
	sidx_init(&iam->keys);
}

void iam_release(struct iam *iam)
{
	for (size_t i = 0; i < iam->users.n; i++)
		iam_user_free(iam->users.v[i].val);
	sidx_release(&iam->users);
	sidx_release(&iam->keys);
	seal_wipe(&iam->seal, sizeof iam->seal);
}

struct iam_user *iam_user_new(const struct model *m, const char *name, const char *path, const char *id,
			      int64_t now)
{
	struct iam_user *u = xcalloc(1, sizeof *u);
	u->name = xstrdup(name);
	u->path = xstrdup(path && *path ? path : "/");
	u->id = xstrdup(id);
	u->arn = xasprintf("arn:%s:iam::%s:user%s%s", m->partition, m->account, u->path, name);
	u->created_at = now;
	sidx_init(&u->policies);
	return u;
}

static void policy_entry_free(struct iam_user_policy *p)
{
	if (!p)
		return;
	free(p->name);
	free(p->doc);
	policy_free(p->parsed);
	free(p);
}

static void key_wipe(struct iam_access_key *k)
{
	if (k->secret) {
		seal_wipe(k->secret, strlen(k->secret));
		free(k->secret);
	}
	memset(k, 0, sizeof *k);
}

void iam_user_free(struct iam_user *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->n_keys; i++)
		key_wipe(&u->keys[i]);
	for (size_t i = 0; i < u->policies.n; i++)
		policy_entry_free(u->policies.v[i].val);
	sidx_release(&u->policies);
	free(u->name);
	free(u->path);
	free(u->id);
	free(u->arn);
	free(u);
}

void model_dirty_iam_user(struct model *m, struct iam_user *u)
{
	m->iam.gen++;
	if (u->from_file || u->dirty)
		return;
	u->dirty = true;
	model_change_push(m, MODEL_IAM_USER, u, NULL);
}

static void unindex(struct model *m, struct iam_user *u)
{
	for (size_t i = 0; i < u->n_keys; i++)
		if (sidx_get(&m->iam.keys, u->keys[i].id) == u)
			sidx_del(&m->iam.keys, u->keys[i].id);
	sidx_del(&m->iam.users, u->name);
	model_change_forget(m, u);
	u->dirty = false;
}

void model_iam_user_add(struct model *m, struct iam_user *u)
{
	struct iam_user *old = sidx_get(&m->iam.users, u->name);
	if (old) {
		unindex(m, old);
		iam_user_free(old);
	}
	sidx_put(&m->iam.users, u->name, u);
	for (size_t i = 0; i < u->n_keys; i++)
		sidx_put(&m->iam.keys, u->keys[i].id, u);
	u->dirty = false;
	model_dirty_iam_user(m, u);
}

void model_iam_user_delete(struct model *m, struct iam_user *u)
{
	bool stored = !u->from_file;
	char *name = xstrdup(u->name);
	unindex(m, u);
	iam_user_free(u);
	m->iam.gen++;
	if (stored)
		model_change_push(m, MODEL_IAM_USER, NULL, name);
	else
		free(name);
}

void model_iam_drop_file_users(struct model *m)
{
	for (size_t i = m->iam.users.n; i-- > 0;) {
		struct iam_user *u = m->iam.users.v[i].val;
		if (u->from_file)
			model_iam_user_delete(m, u);
	}
}

struct iam_access_key *iam_key_add(struct model *m, struct iam_user *u, const char *id, const char *secret,
				   int64_t now)
{
	BERTH_ASSERT(u->n_keys < IAM_MAX_KEYS && strlen(id) <= IAM_KEY_ID_LEN);
	struct iam_access_key *k = &u->keys[u->n_keys++];
	memset(k, 0, sizeof *k);
	strcpy(k->id, id);
	k->secret = xstrdup(secret);
	k->active = true;
	k->created_at = now;
	if (sidx_get(&m->iam.users, u->name) == u)
		sidx_put(&m->iam.keys, k->id, u);
	model_dirty_iam_user(m, u);
	return k;
}

void iam_key_delete(struct model *m, struct iam_user *u, size_t i)
{
	if (sidx_get(&m->iam.keys, u->keys[i].id) == u)
		sidx_del(&m->iam.keys, u->keys[i].id);
	key_wipe(&u->keys[i]);
	memmove(u->keys + i, u->keys + i + 1, (u->n_keys - i - 1) * sizeof *u->keys);
	u->n_keys--;
	memset(&u->keys[u->n_keys], 0, sizeof u->keys[0]);
	model_dirty_iam_user(m, u);
}

void iam_policy_put(struct model *m, struct iam_user *u, const char *name, const char *doc, struct policy *parsed)
{
	struct iam_user_policy *p = xcalloc(1, sizeof *p);
	p->name = xstrdup(name);
	p->doc = xstrdup(doc);
	p->parsed = parsed;
	policy_entry_free(sidx_put(&u->policies, p->name, p));
	model_dirty_iam_user(m, u);
}

void iam_policy_delete(struct model *m, struct iam_user *u, const char *name)
{
	policy_entry_free(sidx_del(&u->policies, name));
	model_dirty_iam_user(m, u);
}

struct iam_user *iam_user_by_key(const struct iam *iam, const char *id, const struct iam_access_key **key)
{
	struct iam_user *u = sidx_get(&iam->keys, id);
	if (u && key) {
		*key = NULL;
		for (size_t i = 0; i < u->n_keys; i++)
			if (strcmp(u->keys[i].id, id) == 0)
				*key = &u->keys[i];
	}
	return u;
}

size_t iam_policy_chars(const char *doc)
{
	size_t n = 0;
	for (; *doc; doc++)
		n += !isspace((unsigned char)*doc);
	return n;
}

cJSON *codec_iam_user(const struct iam *iam, const struct iam_user *u)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "name", u->name);
	cJSON_AddStringToObject(j, "id", u->id);
	cJSON_AddStringToObject(j, "path", u->path);
	cJSON_AddNumberToObject(j, "created", (double)u->created_at);
	cJSON *keys = cJSON_AddArrayToObject(j, "keys");
	for (size_t i = 0; i < u->n_keys; i++) {
		const struct iam_access_key *k = &u->keys[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "id", k->id);
		char *sealed = seal_encrypt(&iam->seal, k->id, k->secret);
		cJSON_AddStringToObject(o, "secret", sealed);
		free(sealed);
		cJSON_AddBoolToObject(o, "active", k->active);
		cJSON_AddNumberToObject(o, "created", (double)k->created_at);
		cJSON_AddItemToArray(keys, o);
	}
	cJSON *pols = cJSON_AddArrayToObject(j, "policies");
	for (size_t i = 0; i < u->policies.n; i++) {
		const struct iam_user_policy *p = u->policies.v[i].val;
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", p->name);
		cJSON_AddStringToObject(o, "doc", p->doc);
		cJSON_AddItemToArray(pols, o);
	}
	return j;
}

struct iam_user *codec_iam_user_from_record(const struct model *m, const cJSON *j)
{
	const char *name = codec_str_of(j, "name"), *id = codec_str_of(j, "id"), *path = codec_str_of(j, "path");
	const cJSON *keys = cJSON_GetObjectItemCaseSensitive(j, "keys");
	const cJSON *pols = cJSON_GetObjectItemCaseSensitive(j, "policies");
	if (!name || !id || !path || !cJSON_IsArray(keys) || !cJSON_IsArray(pols) ||
	    cJSON_GetArraySize(keys) > IAM_MAX_KEYS)
		return NULL;
	struct iam_user *u = iam_user_new(m, name, path, id, codec_long_of(j, "created", 0));
	const cJSON *k;
	cJSON_ArrayForEach(k, keys)
	{
		const char *kid = codec_str_of(k, "id"), *sealed = codec_str_of(k, "secret");
		char *secret = kid && strlen(kid) <= IAM_KEY_ID_LEN ? seal_decrypt(&m->iam.seal, kid, sealed) : NULL;
		if (!secret) {
			iam_user_free(u);
			return NULL;
		}
		struct iam_access_key *ak = &u->keys[u->n_keys++];
		strcpy(ak->id, kid);
		ak->secret = secret;
		ak->active = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(k, "active"));
		ak->created_at = codec_long_of(k, "created", 0);
	}
	const cJSON *p;
	cJSON_ArrayForEach(p, pols)
	{
		const char *pname = codec_str_of(p, "name"), *doc = codec_str_of(p, "doc");
		struct policy *parsed = NULL;
		struct err e;
		if (!pname || !doc || policy_parse(doc, strlen(doc), &parsed, &e)) {
			iam_user_free(u);
			return NULL;
		}
		struct iam_user_policy *up = xcalloc(1, sizeof *up);
		up->name = xstrdup(pname);
		up->doc = xstrdup(doc);
		up->parsed = parsed;
		sidx_put(&u->policies, up->name, up);
	}
	return u;
}
