/* server: the daemon.  One struct server, made in main and passed down.
 *
 * Threads: libmicrohttpd's small pool (http.c) only moves bytes.  A complete
 * request is pushed on the inbox queue and the loop thread (libuv) is woken;
 * the loop thread owns the model, runs the handlers, and answers each
 * request only after the writes of its loop turn are committed to the store
 * (the group commit of server_flush).  See docs/ARCHITECTURE.md. */
#ifndef BERTH_SERVER_SERVER_H
#define BERTH_SERVER_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "api/api.h"
#include "lib/clock.h"
#include "lib/sigv4.h"
#include "lib/rng.h"
#include "model/model.h"
#include "server/config.h"
#include "store/store.h"

struct MHD_Daemon;
struct vmodel;
struct MHD_Connection;

enum http_phase { HTTP_READING, HTTP_QUEUED, HTTP_READY };

/* One HTTP request, from the first header to the completed answer.  Owned
 * by the MHD worker except between the push on the inbox and
 * MHD_resume_connection, when the loop thread owns it. */
struct http_req {
	struct MHD_Connection *conn;
	enum http_phase phase;
	char *method, *path;
	char *target, *auth, *ctype;      /* headers the protocols need */
	struct sigv4_header *hdrs;        /* every header, for signature checks (names and values heap) */
	size_t n_hdrs;
	char *body;
	size_t len, cap;
	bool too_large;
	/* the answer */
	int status;
	char *resp;                       /* malloc'd, handed to MHD */
	size_t resp_len;
	const char *resp_ctype;
	char request_id[37];
	bool close;
	struct api_park park;             /* a held long poll (AgentPoll) */
	struct http_req *next;
};

struct server_stats {
	uint64_t requests, errors, server_errors, commits, commit_records;
	uint64_t commit_us_total;
};

struct server {
	struct config cfg;
	uv_loop_t loop;
	uv_async_t inbox;
	uv_prepare_t prepare;
	uv_check_t check;
	uv_timer_t advance;
	uv_timer_t shutdown_timer;
	uv_signal_t sigterm, sigint, sighup;
	/* inbox queue: MHD workers push, the loop pops (qmu guards all four) */
	pthread_mutex_t qmu;
	struct http_req *qhead, *qtail;
	bool qclosed;
	/* answered requests waiting for the turn's commit (loop thread only) */
	struct http_req *whead, *wtail;
	/* held long polls (loop thread only), and model.agent_gen when they
	 * were last looked at */
	struct http_req *parked;
	uint64_t parked_gen;
	int64_t parked_soonest;           /* no held poll's deadline comes before this */
	struct MHD_Daemon *mhd;
	int quiesced_fd;
	atomic_int live;
	int port;
	/* state */
	struct model model;
	const struct store_ops *sops;
	struct store *store;
	struct api_config acfg;
	const struct driver_ops *driver;
	const struct infra_ops *infra;    /* Auto Scaling instances: sim or process */
	struct clock clock;
	int64_t vnow;                     /* --clock virtual: the time it shows */
	struct rng rng;
	int64_t armed_at;                 /* when the advance timer fires, 0 if idle */
	struct server_stats stats;
	struct sigv4_cache sigv4;         /* signing keys (--auth sigv4) */
	int64_t started_us;
	int shutdown_ticks;
	bool stopping;
	int exit_code;
};

/* Build everything: config already loaded into srv->cfg.  Opens the store,
 * rebuilds the model, starts HTTP.  Returns 0 or -1 (logged). */
int server_init(struct server *srv);
/* Run the loop until SIGTERM/SIGINT; returns the exit code. */
int server_run(struct server *srv);
void server_release(struct server *srv);

/* Commit the model's dirty set in one store transaction, then answer the
 * waiting requests.  Loop thread. */
void server_flush(struct server *srv);

/* Make sure the lifecycle controller runs at (or soon after) time at. */
void server_wake(struct server *srv, int64_t at);

/* http.c */
int http_start(struct server *srv);
/* Stop accepting, answer what is queued with 503, wait for in-flight
 * requests (bounded), then stop the workers. */
void http_quiesce(struct server *srv);
void http_stop(struct server *srv);
/* Hand a request back to its worker to send (loop thread; last touch). */
void http_resume(struct http_req *r);
void http_req_free_headers(struct http_req *r);

/* awsjson.c: answer one request (fills r->status/resp). */
/* The protocol core without the server: run r (target, auth, body) against
 * ctx's model and fill r's answer.  ctx->region is the default region on
 * entry.  Returns 0 or the error code answered.  The fuzzer calls this. */
int awsjson_call(struct api_ctx *ctx, struct http_req *r);
/* Answer r, or hold it (a long poll with nothing to say yet: it is then
 * on srv->parked and true is returned). */
bool awsjson_handle(struct server *srv, struct http_req *r);
/* Run the held polls whose instance has news or whose time is up; their
 * answers join the turn's queue. */
void server_run_parked(struct server *srv, bool all);
/* Set r's answer to an AWS JSON 1.1 error. */
void awsjson_error(struct http_req *r, int code, const char *msg);
/* The region of a SigV4 Authorization header's credential scope
 * ("Credential=AKID/DATE/REGION/SERVICE/aws4_request"): written into out
 * (len bytes) and 1 returned, or 0 when there is none or it is malformed. */
int awsjson_auth_region(const char *auth, char *out, size_t len);

/* awsquery.c: the AWS Query protocol (Auto Scaling), reached from
 * awsjson_call for a POST with a form body and no X-Amz-Target. */
struct awsquery_param {
	char *key, *val;                  /* percent-decoded, valid UTF-8 */
};
struct awsquery_form {
	struct awsquery_param *v;
	size_t n, cap;
};
/* Split a form body into its parameters, in order ('+' is a space; pairs
 * without a name are skipped; a pair without '=' has the value "").  Fails
 * with ValidationError on a malformed escape, invalid UTF-8, NUL or another
 * character XML cannot carry (f is then empty).  Release f either way. */
int awsquery_form_parse(const char *body, size_t len, struct awsquery_form *f, struct err *e);
void awsquery_form_release(struct awsquery_form *f);
/* The first value of parameter key, or NULL. */
const char *awsquery_form_get(const struct awsquery_form *f, const char *key);
/* The parameters as the JSON object of input shape `shape` of m (VSHAPE_NONE:
 * an empty object): structure members `A.B`, lists `A.member.N`, maps
 * `A.entry.N.key`/`.value`, scalars typed by their shape; parameters the
 * shape does not name (Action, Version) are ignored.  Returns 0 with *out
 * set (the caller frees it), or -1 with a ValidationError in e. */
int awsquery_to_json(const struct vmodel *m, unsigned shape, const struct awsquery_form *f,
		     cJSON **out, struct err *e);
/* A service spoken in the Query protocol, chosen by the request's Version:
 * Auto Scaling (2011-01-01) and IAM (2010-05-08). */
struct awsquery_service {
	const char *name;           /* the SigV4 signing name */
	const char *version;
	const char *xmlns;
	const struct vmodel *model;
	int (*call)(struct api_ctx *ctx, const char *action, const cJSON *in, cJSON **out, struct err *e);
	const char *const *no_output; /* sorted: operations without an output shape */
	size_t n_no_output;
};
extern const struct awsquery_service awsquery_autoscaling, awsquery_iam;
/* The service whose API version is version, or NULL. */
const struct awsquery_service *awsquery_service_of(const char *version);
/* Does the Auto Scaling operation action have an output shape? */
bool awsquery_has_output(const char *action);
/* The XML answers, heap strings: <ActionResponse> with <ActionResult> (out's
 * members; there, even empty, exactly when the operation has an output)
 * and <ResponseMetadata>; <ErrorResponse>. */
char *awsquery_render(const char *action, const cJSON *out, const char *request_id);
char *awsquery_render_error(int code, const char *msg, const char *request_id);
/* The same for any Query service (its namespace, its operations). */
char *awsquery_render_svc(const struct awsquery_service *svc, const char *action, const cJSON *out,
			  const char *request_id);
char *awsquery_render_error_svc(const struct awsquery_service *svc, int code, const char *msg,
				const char *request_id);
void awsquery_error_svc(const struct awsquery_service *svc, struct http_req *r, int code, const char *msg);
/* Set r's answer to a Query error (text/xml). */
void awsquery_error(struct http_req *r, int code, const char *msg);
/* Run r (a form body) against ctx's model through api_as_call and fill
 * r's answer; the region comes from the SigV4 scope as in awsjson_call.
 * Returns 0 or the error code answered. */
int awsquery_call(struct api_ctx *ctx, struct http_req *r);

/* The sim driver (driver_sim.c): tasks run in simulation. */
extern const struct driver_ops driver_sim_ops;
extern const struct infra_ops infra_sim_ops;
/* Auto Scaling instances as berth-agent processes (infra_sim.c): the
 * endpoint agents reach berthd at, the data directory, the agent binary. */
extern const struct infra_ops infra_process_ops;
void infra_process_configure(const char *endpoint, const char *data_dir, const char *agent_bin);
/* --fargate process: start the berth-agent of Fargate task t (it runs that
 * task alone and exits once it is STOPPED); data in DATA_DIR/fargate/ID. */
void infra_fargate_spawn(struct api_ctx *ctx, struct task *t);

#endif
