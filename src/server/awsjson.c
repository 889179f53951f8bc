/* awsjson: the AWS JSON 1.1 protocol (ECS) and the plain HTTP paths.
 *
 * It knows X-Amz-Target, Content-Type, the SigV4 credential scope (for the
 * region) and the error body {"__type","message"}; it knows nothing of ECS
 * resources: the body goes to api_call and its answer or error comes back. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/validate.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "server/server.h"

#define ECS_PREFIX "AmazonEC2ContainerServiceV20141113."

void awsjson_error(struct http_req *r, int code, const char *msg)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "__type", api_error_type(code));
	cJSON_AddStringToObject(o, "message", msg);
	free(r->resp);
	r->resp = cJSON_PrintUnformatted(o);
	r->resp_len = strlen(r->resp);
	cJSON_Delete(o);
	r->status = api_error_status(code);
	r->resp_ctype = "application/x-amz-json-1.1";
}

static void set_body(struct http_req *r, int status, const char *ctype, char *body)
{
	free(r->resp);
	r->resp = body;
	r->resp_len = strlen(body);
	r->status = status;
	r->resp_ctype = ctype;
}

/* The region of a SigV4 Authorization header's credential scope:
 * "AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, ..."
 * Writes it into out and returns 1, or returns 0 when there is none.
 * awsquery.c takes the region the same way. */
int awsjson_auth_region(const char *auth, char *out, size_t len)
{
	if (!auth)
		return 0;
	const char *p = strstr(auth, "Credential=");
	if (!p)
		return 0;
	p += strlen("Credential=");
	for (int i = 0; i < 2; i++) {
		p = strchr(p, '/');
		if (!p)
			return 0;
		p++;
	}
	const char *end = strchr(p, '/');
	if (!end || end == p || (size_t)(end - p) >= len)
		return 0;
	for (const char *q = p; q < end; q++)
		if (!islower((unsigned char)*q) && !isdigit((unsigned char)*q) && *q != '-')
			return 0;
	memcpy(out, p, (size_t)(end - p));
	out[end - p] = '\0';
	return 1;
}

/* Append to head (which it frees) the last managed scaling evaluation of
 * every (cluster, capacity provider): its CapacityProviderReservation and
 * the group's desired and in-service counts. */
static char *scaling_metrics(struct server *srv, char *head)
{
	static const char *const names[3] = {
		"berth_capacity_provider_reservation", "berth_capacity_provider_desired_capacity",
		"berth_capacity_provider_in_service"};
	static const char *const help[3] = {
		"CapacityProviderReservation at the last managed scaling evaluation.",
		"The Auto Scaling group's desired capacity after it.",
		"The group's InService instances after it."};
	char *out = head;
	for (int k = 0; k < 3; k++) {
		char *t = xasprintf("%s# HELP %s %s\n# TYPE %s gauge\n", out, names[k], help[k], names[k]);
		free(out);
		out = t;
		for (size_t i = 0; i < srv->model.regions.n; i++) {
			const struct region *rg = srv->model.regions.v[i].val;
			for (size_t j = 0; j < rg->cas.n; j++) {
				const struct cas_state *st = rg->cas.v[j].val;
				if (!st->n)
					continue;
				const struct cas_sample *s = model_cas_sample_at(st, 0);
				double v = k == 0 ? s->cpr : k == 1 ? (double)s->desired : (double)s->in_service;
				t = xasprintf("%s%s{region=\"%s\",cluster=\"%s\",capacity_provider=\"%s\"} %g\n", out,
					      names[k], rg->name, st->cluster, st->provider, v);
				free(out);
				out = t;
			}
		}
	}
	return out;
}

static void metrics(struct server *srv, struct http_req *r)
{
	size_t clusters = 0, cps = 0;
	for (size_t i = 0; i < srv->model.regions.n; i++) {
		struct region *rg = srv->model.regions.v[i].val;
		clusters += rg->clusters.n;
		cps += rg->cps.n;
	}
	char *b = xasprintf(
		"# HELP berth_requests_total Requests answered.\n# TYPE berth_requests_total counter\n"
		"berth_requests_total %llu\n"
		"# HELP berth_request_errors_total Requests answered with an error.\n# TYPE berth_request_errors_total counter\n"
		"berth_request_errors_total %llu\n"
		"# HELP berth_store_commits_total Store transactions committed.\n# TYPE berth_store_commits_total counter\n"
		"berth_store_commits_total %llu\n"
		"# HELP berth_store_records_written_total Records written or deleted.\n# TYPE berth_store_records_written_total counter\n"
		"berth_store_records_written_total %llu\n"
		"# HELP berth_store_commit_seconds_total Time spent committing.\n# TYPE berth_store_commit_seconds_total counter\n"
		"berth_store_commit_seconds_total %.6f\n"
		"# HELP berth_clusters Clusters stored (all regions, all statuses).\n# TYPE berth_clusters gauge\n"
		"berth_clusters %zu\n"
		"# HELP berth_capacity_providers Capacity providers stored.\n# TYPE berth_capacity_providers gauge\n"
		"berth_capacity_providers %zu\n",
		(unsigned long long)srv->stats.requests, (unsigned long long)srv->stats.errors,
		(unsigned long long)srv->stats.commits, (unsigned long long)srv->stats.commit_records,
		(double)srv->stats.commit_us_total / 1e6, clusters, cps);
	char *all = scaling_metrics(srv, b);
	set_body(r, 200, "text/plain; version=0.0.4", all);
}

static void plain_http(struct server *srv, struct http_req *r)
{
	if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) {
		awsjson_error(r, ERR_METHOD_NOT_ALLOWED, "Only POST / is served here.");
		return;
	}
	if (strcmp(r->path, "/metrics") == 0) {
		metrics(srv, r);
	} else if (strcmp(r->path, "/") == 0 || strcmp(r->path, "/health") == 0) {
		set_body(r, 200, "application/json",
			 xasprintf("{\"service\":\"berthd\",\"status\":\"running\",\"region\":\"%s\"}",
				   srv->cfg.region));
	} else {
		awsjson_error(r, ERR_NOT_FOUND_HTTP, "No such path.");
	}
}

/* Is [p, end) only JSON whitespace? */
static bool json_rest_blank(const char *p, const char *end)
{
	if (!p)
		return false;
	for (; p < end; p++)
		if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
			return false;
	return true;
}

/* Does a JSON string in body[0..n) hold the escape \u0000?  cJSON decodes
 * it into a C string that ends there, so "ab\u0000cd" would quietly act
 * on "ab"; no ECS member admits the NUL character, so such a body is
 * refused instead. */
static bool json_has_nul_escape(const char *body, size_t n)
{
	bool in_string = false;
	for (size_t i = 0; i < n; i++) {
		if (!in_string) {
			in_string = body[i] == '"';
		} else if (body[i] == '"') {
			in_string = false;
		} else if (body[i] == '\\' && i + 1 < n) {
			if (body[i + 1] == 'u' && i + 5 < n && memcmp(body + i + 2, "0000", 4) == 0)
				return true;
			i++; /* the escaped character cannot end the string */
		}
	}
	return false;
}

int awsjson_call(struct api_ctx *ctx, struct http_req *r)
{
	if (!r->target) {
		/* A form body without a target: the AWS Query protocol
		 * (Auto Scaling). */
		if (r->ctype && strstr(r->ctype, "x-www-form-urlencoded"))
			return awsquery_call(ctx, r);
		awsjson_error(r, ERR_UNKNOWN_OPERATION,
			      "Missing X-Amz-Target header: it names the operation (AmazonEC2ContainerServiceV20141113.<Action>).");
		return ERR_UNKNOWN_OPERATION;
	}
	bool ext = strncmp(r->target, API_EXT_PREFIX, strlen(API_EXT_PREFIX)) == 0;
	if (!ext && strncmp(r->target, ECS_PREFIX, strlen(ECS_PREFIX)) != 0) {
		char msg[300];
		snprintf(msg, sizeof msg, "Unknown operation target %.200s.", r->target);
		awsjson_error(r, ERR_UNKNOWN_OPERATION, msg);
		return ERR_UNKNOWN_OPERATION;
	}
	const char *action = r->target + strlen(ext ? API_EXT_PREFIX : ECS_PREFIX);
	if (r->len && !validate_utf8(r->body, r->len)) {
		awsjson_error(r, ERR_SERIALIZATION, "The request body is not valid UTF-8.");
		return ERR_SERIALIZATION;
	}
	cJSON *in = NULL;
	if (r->len == 0) {
		in = cJSON_CreateObject();
	} else {
		/* cJSON stops at the end of the first value; anything but
		 * whitespace after it ("{} x", "{}{}") makes the body not one
		 * JSON document, and acting on its first half would be wrong. */
		const char *end = NULL;
		in = cJSON_ParseWithLengthOpts(r->body, r->len, &end, false);
		if (in && !json_rest_blank(end, r->body + r->len)) {
			cJSON_Delete(in);
			in = NULL;
		}
		if (!in || !cJSON_IsObject(in)) {
			cJSON_Delete(in);
			awsjson_error(r, ERR_SERIALIZATION, "The request body is not a valid JSON object.");
			return ERR_SERIALIZATION;
		}
		if (json_has_nul_escape(r->body, r->len)) {
			cJSON_Delete(in);
			awsjson_error(r, ERR_SERIALIZATION, "The request body holds a NUL character (\\u0000), which no member admits.");
			return ERR_SERIALIZATION;
		}
	}
	char region[64];
	if (awsjson_auth_region(r->auth, region, sizeof region))
		ctx->region = region;
	struct err e;
	err_clear(&e);
	cJSON *out = NULL;
	int code = 0;
	if ((ext ? api_ext_call : api_call)(ctx, action, in, &out, &e) == 0) {
		set_body(r, 200, "application/x-amz-json-1.1", cJSON_PrintUnformatted(out));
	} else {
		code = e.code ? e.code : ERR_SERVER;
		awsjson_error(r, code, e.msg);
	}
	ctx->region = NULL; /* region pointed into this frame */
	cJSON_Delete(out);
	cJSON_Delete(in);
	return code;
}

/* --auth sigv4: the access keys berthd knows: the root's and the IAM
 * users' active ones. */
static const char *secret_of(void *arg, const char *access_key_id)
{
	const struct server *srv = arg;
	if (strcmp(access_key_id, srv->cfg.root_access_key_id) == 0)
		return srv->cfg.root_secret_access_key;
	const struct iam_access_key *k = NULL;
	return iam_user_by_key(&srv->model.iam, access_key_id, &k) && k && k->active ? k->secret : NULL;
}

/* Is r signed by a known key?  If not, its answer is the error AWS gives,
 * in the protocol's shape (JSON 1.1, or Query for a form body without
 * X-Amz-Target), and false. */
static bool signature_ok(struct server *srv, struct http_req *r, struct iam_user **caller)
{
	struct sigv4_request q = {
		.method = r->method, .path = r->path, .query = NULL, .headers = r->hdrs, .n_headers = r->n_hdrs,
		.body = r->body, .body_len = r->len, .service = NULL,
	};
	struct sigv4_keys keys = {secret_of, srv};
	struct sigv4_auth a;
	struct err e;
	err_clear(&e);
	enum sigv4_status st = sigv4_verify(&q, &keys, &srv->sigv4, clock_now(&srv->clock), &a, &e);
	if (st == SIGV4_OK) {
		/* The root's key is not an IAM user's (load_policy_file and
		 * CreateAccessKey never make one with its id). */
		*caller = strcmp(a.access_key_id, srv->cfg.root_access_key_id) == 0
				  ? NULL
				  : iam_user_by_key(&srv->model.iam, a.access_key_id, NULL);
		return true;
	}
	bool query = !r->target && r->ctype && strstr(r->ctype, "x-www-form-urlencoded");
	static const int json_codes[] = {
		[SIGV4_MISSING_TOKEN] = ERR_MISSING_AUTH_TOKEN, [SIGV4_INCOMPLETE] = ERR_INCOMPLETE_SIGNATURE,
		[SIGV4_UNRECOGNIZED_CLIENT] = ERR_UNRECOGNIZED_CLIENT, [SIGV4_INVALID_SIGNATURE] = ERR_INVALID_SIGNATURE,
	};
	static const int query_codes[] = {
		[SIGV4_MISSING_TOKEN] = ERR_Q_MISSING_AUTH_TOKEN, [SIGV4_INCOMPLETE] = ERR_Q_INCOMPLETE_SIGNATURE,
		[SIGV4_UNRECOGNIZED_CLIENT] = ERR_Q_INVALID_CLIENT_TOKEN, [SIGV4_INVALID_SIGNATURE] = ERR_Q_SIGNATURE_MISMATCH,
	};
	if (query)
		awsquery_error(r, query_codes[st], e.msg);
	else
		awsjson_error(r, json_codes[st], e.msg);
	srv->stats.errors++;
	return false;
}

bool awsjson_handle(struct server *srv, struct http_req *r)
{
	rng_uuid(&srv->rng, r->request_id);
	if (strcmp(r->method, "POST") != 0) {
		plain_http(srv, r);
		return false;
	}
	struct iam_user *caller = NULL;
	if (strcmp(srv->cfg.auth, "sigv4") == 0 && !signature_ok(srv, r, &caller))
		return false;
	struct api_ctx ctx = {
		.m = &srv->model,
		.cfg = &srv->acfg,
		.region = srv->cfg.region,
		.now = clock_now(&srv->clock),
		.rng = &srv->rng,
		.driver = srv->driver,
		.infra = srv->infra,
		.vclock = srv->clock.ops == &clock_virtual_ops ? &srv->vnow : NULL,
		.caller = caller,
		.park = srv->stopping ? NULL : &r->park,
	};
	r->park.parked = false;
	int code = awsjson_call(&ctx, r);
	if (r->park.parked) {
		r->next = srv->parked;
		srv->parked = r;
		if (!srv->parked_soonest || r->park.until < srv->parked_soonest)
			srv->parked_soonest = r->park.until;
		server_wake(srv, r->park.until);
		if (ctx.wake_at)
			server_wake(srv, ctx.wake_at);
		return true;
	}
	if (code) {
		srv->stats.errors++;
		if (api_error_status(code) >= 500)
			srv->stats.server_errors++;
	}
	if (ctx.wake_at)
		server_wake(srv, ctx.wake_at);
	return false;
}
