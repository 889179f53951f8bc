/* api_access: may the caller do this?  With --auth sigv4 a request signed
 * by an IAM user is checked against that user's inline policies before its
 * handler runs (after the model's validation, so the mapping reads a
 * well-formed body): authz.c turns the call into the IAM requests AWS
 * makes for it (action, resource ARN, condition keys), and each must be
 * allowed (lib/policy.h: an explicit deny wins, no allow is a deny).  The
 * root (and --auth open) is never checked.
 *
 * A refusal is AccessDeniedException (JSON) or AccessDenied (Query) in
 * AWS's words: "User: ARN is not authorized to perform: ACTION on
 * resource: ARN because no identity-based policy allows the ACTION
 * action" (or "with an explicit deny in an identity-based policy"). */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/authz.h"
#include "lib/policy.h"
#include "lib/xalloc.h"

#define POLICY_DOCS_MAX 64

int api_authorize(struct api_ctx *ctx, int svc, const char *op, const cJSON *in, struct err *e)
{
	const struct iam_user *u = ctx->caller;
	if (!u)
		return 0;
	const struct policy *docs[POLICY_DOCS_MAX];
	size_t n_docs = 0;
	for (size_t i = 0; i < u->policies.n && n_docs < POLICY_DOCS_MAX; i++)
		docs[n_docs++] = ((const struct iam_user_policy *)u->policies.v[i].val)->parsed;
	struct authz_list l;
	authz_list_init(&l);
	authz_requests(ctx, (enum authz_service)svc, op, in, u->name, &l);
	/* The principal's own keys come after each request's. */
	const struct policy_kv who[] = {
		{"aws:username", u->name},
		{"aws:userid", u->id},
		{"aws:PrincipalArn", u->arn},
		{"aws:PrincipalType", "User"},
		{"aws:PrincipalAccount", ctx->m->account},
	};
	size_t n_who = sizeof who / sizeof who[0];
	int rc = 0;
	struct policy_kv *kv = NULL;
	size_t cap = 0;
	for (size_t i = 0; i < l.n && rc == 0; i++) {
		const struct authz_item *it = &l.items[i];
		if (it->n_ctx + n_who > cap) {
			cap = it->n_ctx + n_who;
			kv = xrealloc(kv, cap * sizeof *kv);
		}
		for (size_t k = 0; k < it->n_ctx; k++)
			kv[k] = (struct policy_kv){l.kv[it->ctx_off + k].key, l.kv[it->ctx_off + k].value};
		memcpy(kv + it->n_ctx, who, sizeof who);
		struct policy_request req = {it->action, it->resource, kv, it->n_ctx + n_who};
		enum policy_decision d = policy_eval(docs, n_docs, &req);
		if (d == POLICY_ALLOW)
			continue;
		int code = svc == AUTHZ_AUTOSCALING || svc == AUTHZ_IAM ? ERR_Q_ACCESS_DENIED : ERR_ACCESS_DENIED;
		if (d == POLICY_EXPLICIT_DENY)
			rc = err_set(e, code,
				     "User: %s is not authorized to perform: %s on resource: %s with an explicit deny in an identity-based policy",
				     u->arn, it->action, it->resource);
		else
			rc = err_set(e, code,
				     "User: %s is not authorized to perform: %s on resource: %s because no identity-based policy allows the %s action",
				     u->arn, it->action, it->resource, it->action);
	}
	free(kv);
	authz_list_release(&l);
	return rc;
}
