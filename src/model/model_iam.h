/* model_iam: the principals berthd knows when it checks signatures and
 * policies (--auth sigv4): IAM users with their access keys and inline
 * policies.  They are account-wide (no region) and live in m->iam.
 *
 * Users come from two places.  The IAM API (api_iam.c) makes stored users:
 * one record each, kind "iam_user", whose secret access keys are sealed
 * with the daemon's master key (lib/seal.h) so the store never holds a
 * secret in clear.  The policy file (--policy-file) makes users marked
 * from_file: never stored, replaced whole when the file is read again
 * (SIGHUP), and not changeable through the API.
 *
 * Every access key id, of either kind, is in iam->keys (id -> its user), so
 * a signature check finds its secret with one lookup.  Each policy is kept
 * as the user gave it and parsed once (struct policy) for evaluation. */
#ifndef BERTH_MODEL_MODEL_IAM_H
#define BERTH_MODEL_MODEL_IAM_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/seal.h"
#include "lib/sidx.h"

struct model;
struct policy;

#define IAM_MAX_KEYS         2     /* access keys a user may have (IAM's quota) */
#define IAM_KEY_ID_LEN       20    /* "AKIA" and 16 characters */
#define IAM_SECRET_LEN       40
#define IAM_INLINE_MAX_CHARS 2048  /* a user's inline policies together, without whitespace */

struct iam_access_key {
	char id[IAM_KEY_ID_LEN + 1];
	char *secret;              /* in clear, in memory only */
	bool active;               /* Status Active / Inactive */
	int64_t created_at;
};

struct iam_user_policy {
	char *name;
	char *doc;                 /* the document as given */
	struct policy *parsed;
};

struct iam_user {
	char *name;
	char *id;                  /* "AIDA" and 17 characters */
	char *arn;                 /* arn:aws:iam::ACCOUNT:user{path}{name} */
	char *path;                /* "/" by default */
	int64_t created_at;
	struct iam_access_key keys[IAM_MAX_KEYS];
	size_t n_keys;
	struct sidx policies;      /* by name -> struct iam_user_policy */
	bool from_file;
	bool dirty;
};

struct iam {
	struct sidx users;         /* by name */
	struct sidx keys;          /* access key id -> struct iam_user */
	struct seal_key seal;      /* the master key sealing stored secrets */
	bool sealed;               /* seal holds a key (server start) */
	uint64_t gen;              /* bumps on every change of users, keys or policies */
};

void iam_init(struct iam *iam);
void iam_release(struct iam *iam);

/* A new user (not yet in iam); path NULL means "/".  The caller adds it. */
struct iam_user *iam_user_new(const struct model *m, const char *name, const char *path, const char *id,
			      int64_t now);
void iam_user_free(struct iam_user *u);
/* Add u (its keys too) to iam; a user of the same name is replaced and
 * freed.  Stored users are marked dirty. */
void model_iam_user_add(struct model *m, struct iam_user *u);
/* Remove and free u, recording the deletion of its record when stored. */
void model_iam_user_delete(struct model *m, struct iam_user *u);
void model_dirty_iam_user(struct model *m, struct iam_user *u);
/* Remove every user that came from the policy file. */
void model_iam_drop_file_users(struct model *m);

/* Keys and policies (each marks u dirty). */
struct iam_access_key *iam_key_add(struct model *m, struct iam_user *u, const char *id, const char *secret,
				   int64_t now);
void iam_key_delete(struct model *m, struct iam_user *u, size_t i);
/* Set a policy (parsed already; u takes both); replaces one of that name. */
void iam_policy_put(struct model *m, struct iam_user *u, const char *name, const char *doc, struct policy *parsed);
void iam_policy_delete(struct model *m, struct iam_user *u, const char *name);

/* The user holding access key id, or NULL; *key (if not NULL) gets it. */
struct iam_user *iam_user_by_key(const struct iam *iam, const char *id, const struct iam_access_key **key);

/* The record of a stored user, secrets sealed; and back (NULL when the
 * record is malformed or a secret does not open with iam->seal). */
cJSON *codec_iam_user(const struct iam *iam, const struct iam_user *u);
struct iam_user *codec_iam_user_from_record(const struct model *m, const cJSON *j);

/* Characters of a policy document without its whitespace (IAM's measure). */
size_t iam_policy_chars(const char *doc);

#endif
