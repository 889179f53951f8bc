/* authz: the IAM authorization requests one API call makes, as AWS's
 * Service Authorization Reference documents them for ECS, EC2 Auto
 * Scaling and IAM: for each request an action ("ecs:RunTask"), the ARN of
 * the resource it acts on (or "*" where the action has no resource type)
 * and the condition keys AWS supplies (ecs:cluster, aws:ResourceTag/K,
 * aws:RequestTag/K, aws:TagKeys, ...).  authz.c holds the table and cites
 * the reference row by row.
 *
 * Pure: it reads the model (for the tags of the resources named and for
 * ARNs it can only learn there) and changes nothing; no I/O.  Every string
 * of a list lives in the list's own arena, so a list outlives the request
 * body and the model objects it was built from, until it is released.
 *
 * Invariants: every call yields at least one item; a resource named by the
 * request yields an item whether or not it exists (with the ARN it would
 * have), so a refusal never tells a caller whether something exists. */
#ifndef BERTH_API_AUTHZ_H
#define BERTH_API_AUTHZ_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

struct api_ctx;

/* Which API the operation belongs to; api_authorize takes the same
 * numbers (0 ECS, 1 Auto Scaling, 2 IAM, 3 Berth's extensions). */
enum authz_service { AUTHZ_ECS, AUTHZ_AUTOSCALING, AUTHZ_IAM, AUTHZ_BERTH };

/* One context key and ONE of its values (a multi-valued key such as
 * aws:TagKeys repeats); the same layout as lib/policy.h's struct
 * policy_kv, which the caller converts to. */
struct authz_kv {
	const char *key;
	const char *value;
};

struct authz_item {
	char action[96];            /* "ecs:RunTask" */
	const char *resource;       /* an ARN, or "*"; in the list's arena */
	size_t ctx_off, n_ctx;      /* its keys: list->kv[ctx_off .. ctx_off + n_ctx) */
};

struct authz_block;

struct authz_list {
	struct authz_item *items;
	size_t n, cap;
	struct authz_kv *kv;
	size_t n_kv, cap_kv;
	struct authz_block *arena;  /* the strings items and kv point to */
};

void authz_list_init(struct authz_list *l);
/* Free everything the list holds; it is then empty and reusable. */
void authz_list_release(struct authz_list *l);

/* Append to out the authorization requests of one call of op (of service
 * svc) with the body in, already validated against the model's input
 * shape, in ctx->region.  caller_user is the signing IAM user's name (the
 * IAM operations that default to the caller need it), NULL for the root.
 *
 * A call naming several resources (DescribeClusters with three clusters)
 * yields one item per resource (the same resource once); a cluster the
 * request leaves out is "default", as the handlers take it.  An operation
 * the table lacks yields one item "<prefix>:<op>" on "*", so nothing
 * escapes authorization.  Never fails (out of memory aborts): returns 0. */
int authz_requests(struct api_ctx *ctx, enum authz_service svc, const char *op, const cJSON *in,
		   const char *caller_user, struct authz_list *out);

/* Does the table have a row for op of svc?  (Berth's extension actions
 * have none but AgentPoll, which is ecs:Poll on its container instance;
 * the others map to "berth:<op>" on "*".) */
bool authz_mapped(enum authz_service svc, const char *op);

/* The action prefix of svc: "ecs", "autoscaling", "iam", "berth". */
const char *authz_prefix(enum authz_service svc);

#endif
