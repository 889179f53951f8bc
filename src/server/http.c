/* http: the libmicrohttpd front end.  Its threads only move bytes: they read
 * a request, suspend the connection and push the request on the inbox; the
 * loop thread fills the answer and resumes the connection; the worker then
 * queues the stored answer when MHD calls the handler again.
 *
 * The rules that keep this safe (measured in the HTTP-LOOP design note):
 * suspend before publishing; never touch a request after resuming it; never
 * queue a response from the loop thread; suspend and push under the same
 * mutex that closes the queue at shutdown; uv_close(inbox) only after
 * MHD_stop_daemon. */
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "server/server.h"

#if MHD_VERSION >= 0x00097002
#define MHD_RESULT enum MHD_Result
#else
#define MHD_RESULT int
#endif

static char *header_dup(struct MHD_Connection *c, const char *name)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
	return v ? xstrdup(v) : NULL;
}

/* Keep a header (at most SIGV4_SIGNED_NAMES * 2 of them) for the signature
 * check: SignedHeaders names any of them. */
static MHD_RESULT keep_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void)kind;
	struct http_req *r = cls;
	if (!key || r->n_hdrs >= SIGV4_SIGNED_NAMES * 2)
		return MHD_YES;
	r->hdrs = xrealloc(r->hdrs, (r->n_hdrs + 1) * sizeof *r->hdrs);
	r->hdrs[r->n_hdrs].name = xstrdup(key);
	r->hdrs[r->n_hdrs].value = xstrdup(value ? value : "");
	r->n_hdrs++;
	return MHD_YES;
}

static MHD_RESULT send_ready(struct MHD_Connection *c, struct http_req *r)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(r->resp_len, r->resp, MHD_RESPMEM_MUST_FREE);
	r->resp = NULL; /* MHD owns it now */
	MHD_add_response_header(resp, "Content-Type", r->resp_ctype ? r->resp_ctype : "application/x-amz-json-1.1");
	if (r->request_id[0])
		MHD_add_response_header(resp, "x-amzn-RequestId", r->request_id);
	if (r->close)
		MHD_add_response_header(resp, "Connection", "close");
	MHD_RESULT ret = MHD_queue_response(c, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* Answer directly from the worker thread (limits, shutdown). */
static MHD_RESULT send_now(struct server *srv, struct MHD_Connection *c, struct http_req *r, int code,
			   const char *msg)
{
	(void)srv;
	/* Each worker thread has its own generator for the ids of the answers
	 * it makes itself. */
	static _Thread_local struct rng trng;
	static _Thread_local bool seeded;
	if (!seeded) {
		rng_seed_os(&trng);
		seeded = true;
	}
	rng_uuid(&trng, r->request_id);
	awsjson_error(r, code, msg);
	r->close = true;
	return send_ready(c, r);
}

static MHD_RESULT on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			     const char *version, const char *upload_data, size_t *upload_data_size,
			     void **con_cls)
{
	(void)version;
	struct server *srv = cls;
	struct http_req *r = *con_cls;
	if (!r) {
		r = xcalloc(1, sizeof *r);
		r->conn = c;
		r->method = xstrdup(method);
		r->path = xstrdup(url);
		atomic_fetch_add(&srv->live, 1);
		*con_cls = r;
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
		if (cl && strtoull(cl, NULL, 10) > (unsigned long long)srv->cfg.max_body_bytes) {
			r->too_large = true;
			/* Answering now suppresses "100 Continue": the body is never read. */
			return send_now(srv, c, r, ERR_PAYLOAD_TOO_LARGE, "The request body is too large.");
		}
		return MHD_YES;
	}
	if (r->phase == HTTP_READY)
		return send_ready(c, r);
	if (*upload_data_size) {
		size_t n = *upload_data_size;
		if (!r->too_large && r->len + n > (size_t)srv->cfg.max_body_bytes) {
			r->too_large = true;
			free(r->body);
			r->body = NULL;
			r->len = r->cap = 0;
		}
		if (!r->too_large) {
			if (r->len + n + 1 > r->cap) {
				r->cap = (r->len + n + 1) * 2;
				r->body = xrealloc(r->body, r->cap);
			}
			memcpy(r->body + r->len, upload_data, n);
			r->len += n;
			r->body[r->len] = '\0';
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (r->phase != HTTP_READING)
		return MHD_YES;
	if (r->too_large)
		return send_now(srv, c, r, ERR_PAYLOAD_TOO_LARGE, "The request body is too large.");
	r->target = header_dup(c, "X-Amz-Target");
	r->auth = header_dup(c, "Authorization");
	r->ctype = header_dup(c, "Content-Type");
	if (srv->cfg.auth && strcmp(srv->cfg.auth, "sigv4") == 0)
		MHD_get_connection_values(c, MHD_HEADER_KIND, keep_header, r);
	pthread_mutex_lock(&srv->qmu);
	if (srv->qclosed) {
		pthread_mutex_unlock(&srv->qmu);
		return send_now(srv, c, r, ERR_UNAVAILABLE, "berthd is shutting down.");
	}
	r->phase = HTTP_QUEUED;
	MHD_suspend_connection(c);
	if (srv->qtail)
		srv->qtail->next = r;
	else
		srv->qhead = r;
	srv->qtail = r;
	pthread_mutex_unlock(&srv->qmu);
	uv_async_send(&srv->inbox);
	return MHD_YES;
}

void http_req_free_headers(struct http_req *r)
{
	for (size_t i = 0; i < r->n_hdrs; i++) {
		free((char *)r->hdrs[i].name);
		free((char *)r->hdrs[i].value);
	}
	free(r->hdrs);
	r->hdrs = NULL;
	r->n_hdrs = 0;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)c;
	(void)toe;
	struct server *srv = cls;
	struct http_req *r = *con_cls;
	if (!r)
		return;
	free(r->method);
	free(r->path);
	free(r->target);
	free(r->auth);
	free(r->ctype);
	http_req_free_headers(r);
	free(r->body);
	free(r->resp);
	free(r);
	*con_cls = NULL;
	atomic_fetch_sub(&srv->live, 1);
}

void http_resume(struct http_req *r)
{
	r->phase = HTTP_READY;
	MHD_resume_connection(r->conn);
}

static int parse_listen(const char *listen, struct sockaddr_in *sa)
{
	const char *colon = strrchr(listen, ':');
	if (!colon)
		return -1;
	char host[256];
	size_t hl = (size_t)(colon - listen);
	if (hl >= sizeof host)
		return -1;
	memcpy(host, listen, hl);
	host[hl] = '\0';
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end || port < 0 || port > 65535)
		return -1;
	memset(sa, 0, sizeof *sa);
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (!*host || !strcmp(host, "localhost"))
		strcpy(host, "127.0.0.1");
	return uv_inet_pton(AF_INET, host, &sa->sin_addr) == 0 ? 0 : -1;
}

int http_start(struct server *srv)
{
	struct sockaddr_in sa;
	if (parse_listen(srv->cfg.listen, &sa)) {
		log_error("--listen %s: expected IPv4-ADDRESS:PORT", srv->cfg.listen);
		return -1;
	}
	/* Suspended connections count against the limit and a full worker
	 * stops accepting silently, so give the process room. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)srv->cfg.max_connections + 64) {
		rl.rlim_cur = rl.rlim_max < (rlim_t)srv->cfg.max_connections + 64 ? rl.rlim_max
										   : (rlim_t)srv->cfg.max_connections + 64;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	/* No MHD_OPTION_LISTENING_ADDRESS_REUSE: set to 1 it means SO_REUSEPORT,
	 * which lets a second berthd bind the same port and silently take half
	 * of the connections (with its own model and, maybe, store).  MHD's
	 * default, SO_REUSEADDR, is what a quick restart needs. */
	srv->mhd = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME, 0, NULL, NULL,
		on_request, srv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_THREAD_POOL_SIZE,
		(unsigned)srv->cfg.http_threads, MHD_OPTION_CONNECTION_LIMIT, (unsigned)srv->cfg.max_connections,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
		MHD_OPTION_END);
	if (!srv->mhd) {
		log_error("cannot listen on %s (is the port in use by another process?)", srv->cfg.listen);
		return -1;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_BIND_PORT);
	srv->port = info ? info->port : ntohs(sa.sin_port);
	return 0;
}

void http_quiesce(struct server *srv)
{
	if (!srv->mhd)
		return;
	srv->quiesced_fd = MHD_quiesce_daemon(srv->mhd);
}

void http_stop(struct server *srv)
{
	if (!srv->mhd)
		return;
	MHD_stop_daemon(srv->mhd);
	srv->mhd = NULL;
	if (srv->quiesced_fd >= 0)
		close(srv->quiesced_fd);
	srv->quiesced_fd = -1;
}
