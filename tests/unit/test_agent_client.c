/* test_agent_client: agent/client.c against a small libmicrohttpd server
 * started in the test on a free loopback port, and agent/host.c against
 * the real machine and a fake /proc and /sys tree.
 *
 * The server verifies every request's SigV4 signature with the verifier
 * berthd uses, keeps what it saw (target, body, signed headers, region,
 * access key id) for the test to inspect, and answers by target: echo, a
 * 400 or 500 AWS error, a non-JSON 502 or 200, a registration, or a hang
 * that lasts until the test releases it (so a timeout is tested without a
 * bare sleep). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "agent/client.h"
#include "agent/host.h"
#include "lib/sigv4.h"
#include "lib/xalloc.h"

#define AKID   "AKIDTEST0000"
#define SECRET "test/secret+KEY"
#define REGION "eu-west-1"
#define ARN    "arn:aws:ecs:eu-west-1:000000000000:container-instance/prod/0123456789abcdef0123456789abcdef"

/* ---- the server ---- */

struct seen {
	int n_requests;
	int n_connections;
	int sig_status; /* enum sigv4_status of the last request */
	char sig_msg[ERR_MSG_MAX];
	char akid[SIGV4_CREDENTIAL_MAX + 1], region[SIGV4_CREDENTIAL_MAX + 1];
	char signed_headers[SIGV4_SIGNED_MAX + 1];
	char target[256], content_type[128];
	char *body; /* the last request's */
};

static struct {
	struct MHD_Daemon *d;
	int port;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int hanging;  /* a Test.Hang handler is waiting */
	int released; /* the test let it go */
	struct seen seen;
} srv = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

struct upload {
	char *p;
	size_t n;
};

struct collected {
	struct sigv4_header h[32];
	size_t n;
};

static enum MHD_Result collect(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void)kind;
	struct collected *c = cls;
	if (c->n < 32)
		c->h[c->n++] = (struct sigv4_header){key, value ? value : ""};
	return MHD_YES;
}

static const char *key_secret(void *arg, const char *akid)
{
	(void)arg;
	if (strcmp(akid, AKID) == 0)
		return SECRET;
	if (strcmp(akid, "berth-agent") == 0)
		return "berth-agent";
	return NULL;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *text)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
	MHD_add_response_header(r, "Content-Type", "application/x-amz-json-1.1");
	enum MHD_Result ok = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ok;
}

/* Record the request and check its signature. */
static void record(struct MHD_Connection *conn, const char *url, const char *method, const struct upload *u)
{
	struct collected c = {.n = 0};
	MHD_get_connection_values(conn, MHD_HEADER_KIND, collect, &c);
	const struct sigv4_keys keys = {key_secret, NULL};
	struct sigv4_request req = {
	    .method = method,
	    .path = url,
	    .headers = c.h,
	    .n_headers = c.n,
	    .body = u->p ? u->p : "",
	    .body_len = u->n,
	    .service = "ecs",
	};
	struct sigv4_auth a;
	struct err e;
	enum sigv4_status s = sigv4_verify(&req, &keys, NULL, now_ms(), &a, &e);
	const char *target = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Amz-Target");
	const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
	pthread_mutex_lock(&srv.mu);
	struct seen *w = &srv.seen;
	w->n_requests++;
	w->sig_status = (int)s;
	snprintf(w->sig_msg, sizeof w->sig_msg, "%s", s == SIGV4_OK ? "" : e.msg);
	snprintf(w->akid, sizeof w->akid, "%s", s == SIGV4_OK ? a.access_key_id : "");
	snprintf(w->region, sizeof w->region, "%s", s == SIGV4_OK ? a.region : "");
	snprintf(w->signed_headers, sizeof w->signed_headers, "%s", s == SIGV4_OK ? a.signed_headers : "");
	snprintf(w->target, sizeof w->target, "%s", target ? target : "");
	snprintf(w->content_type, sizeof w->content_type, "%s", ct ? ct : "");
	free(w->body);
	w->body = xstrndup(u->p ? u->p : "", u->n);
	pthread_mutex_unlock(&srv.mu);
}

/* Wait (at most 5 s, a safety net) until the test releases the hang. */
static void hang(void)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	pthread_mutex_lock(&srv.mu);
	srv.hanging = 1;
	pthread_cond_broadcast(&srv.cv);
	while (!srv.released && pthread_cond_timedwait(&srv.cv, &srv.mu, &until) == 0)
		;
	srv.hanging = 0;
	pthread_mutex_unlock(&srv.mu);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *data, size_t *data_size, void **con_cls)
{
	(void)cls;
	(void)version;
	struct upload *u = *con_cls;
	if (!u) {
		*con_cls = xcalloc(1, sizeof *u);
		return MHD_YES;
	}
	if (*data_size) {
		u->p = xrealloc(u->p, u->n + *data_size + 1);
		memcpy(u->p + u->n, data, *data_size);
		u->n += *data_size;
		*data_size = 0;
		return MHD_YES;
	}
	record(conn, url, method, u);
	const char *t = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Amz-Target");
	t = t ? t : "";
	if (strcmp(t, "Test.ClientError") == 0)
		return reply(conn, 400, "{\"__type\":\"ClientException\",\"message\":\"boom\"}");
	if (strcmp(t, "Test.Prefixed") == 0)
		return reply(conn, 400,
		             "{\"__type\":\"com.amazonaws.ecs#AccessDeniedException\",\"Message\":\"no\"}");
	if (strcmp(t, "Test.ServerError") == 0)
		return reply(conn, 500, "{\"__type\":\"ServerException\",\"message\":\"down\"}");
	if (strcmp(t, "Test.Html") == 0)
		return reply(conn, 502, "<html>Bad Gateway</html>\nmore");
	if (strcmp(t, "Test.NotJson") == 0)
		return reply(conn, 200, "not json");
	if (strcmp(t, "Test.Hang") == 0) {
		hang();
		return reply(conn, 200, "{}");
	}
	if (strstr(t, "RegisterContainerInstance"))
		return reply(conn, 200,
		             "{\"containerInstance\":{\"containerInstanceArn\":\"" ARN
		             "\",\"status\":\"ACTIVE\"}}");
	/* Echo: the target and the body as JSON. */
	char *ans = xasprintf("{\"target\":\"%s\",\"body\":%.*s}", t, (int)u->n, u->p ? u->p : "null");
	enum MHD_Result ok = reply(conn, 200, ans);
	free(ans);
	return ok;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode tc)
{
	(void)cls;
	(void)conn;
	(void)tc;
	struct upload *u = *con_cls;
	if (u) {
		free(u->p);
		free(u);
	}
	*con_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
	(void)cls;
	(void)conn;
	(void)socket_context;
	if (code != MHD_CONNECTION_NOTIFY_STARTED)
		return;
	pthread_mutex_lock(&srv.mu);
	srv.seen.n_connections++;
	pthread_mutex_unlock(&srv.mu);
}

static int server_start(void **state)
{
	(void)state;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	srv.d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL,
	                         NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	                         MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
	                         MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL, MHD_OPTION_END);
	if (!srv.d)
		return -1;
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv.d, MHD_DAEMON_INFO_BIND_PORT);
	srv.port = info ? info->port : 0;
	return srv.port > 0 ? 0 : -1;
}

static int server_stop(void **state)
{
	(void)state;
	pthread_mutex_lock(&srv.mu);
	srv.released = 1;
	pthread_cond_broadcast(&srv.cv);
	pthread_mutex_unlock(&srv.mu);
	MHD_stop_daemon(srv.d);
	free(srv.seen.body);
	return 0;
}

/* A snapshot of what the server saw (body copied: the caller frees it). */
static struct seen seen_now(void)
{
	pthread_mutex_lock(&srv.mu);
	struct seen s = srv.seen;
	s.body = xstrdup(srv.seen.body ? srv.seen.body : "");
	pthread_mutex_unlock(&srv.mu);
	return s;
}

static int n_connections(void)
{
	pthread_mutex_lock(&srv.mu);
	int n = srv.seen.n_connections;
	pthread_mutex_unlock(&srv.mu);
	return n;
}

static int n_requests(void)
{
	pthread_mutex_lock(&srv.mu);
	int n = srv.seen.n_requests;
	pthread_mutex_unlock(&srv.mu);
	return n;
}

static struct agent_client *client_for(const char *akid, const char *secret)
{
	char url[64];
	snprintf(url, sizeof url, "http://127.0.0.1:%d", srv.port);
	struct agent_client_cfg cfg = {url, REGION, akid, secret};
	struct err e;
	struct agent_client *c = agent_client_new(&cfg, &e);
	assert_non_null(c);
	return c;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- agent_call ---- */

static void test_call_signed_echo(void **state)
{
	(void)state;
	struct agent_client *c = client_for(AKID, SECRET);
	cJSON *body = cJSON_Parse("{\"protocolVersion\":1,\"cluster\":\"prod\",\"tasks\":[]}");
	cJSON *out = NULL;
	struct err e;
	assert_int_equal(agent_call(c, AGENT_TARGET_BERTH "AgentPoll", body, 2000, &out, &e), 0);
	assert_int_equal(e.code, 0);
	assert_int_equal(agent_client_last_status(c), 200);
	assert_string_equal(cJSON_GetObjectItem(out, "target")->valuestring, "BerthExtensions_v1.AgentPoll");
	assert_true(cJSON_Compare(cJSON_GetObjectItem(out, "body"), body, 1));
	struct seen s = seen_now();
	assert_int_equal(s.sig_status, SIGV4_OK);
	assert_string_equal(s.akid, AKID);
	assert_string_equal(s.region, REGION);
	assert_string_equal(s.signed_headers, "content-type;host;x-amz-date;x-amz-target");
	assert_string_equal(s.content_type, "application/x-amz-json-1.1");
	free(s.body);
	cJSON_Delete(out);
	cJSON_Delete(body);

	/* No body is {}; the answer may be dropped. */
	assert_int_equal(agent_call(c, "Test.Echo", NULL, 2000, NULL, &e), 0);
	s = seen_now();
	assert_string_equal(s.body, "{}");
	assert_int_equal(s.sig_status, SIGV4_OK);
	free(s.body);
	agent_client_free(c);
}

static void test_call_dummy_credentials(void **state)
{
	(void)state;
	struct agent_client *c = client_for(NULL, NULL);
	struct err e;
	assert_int_equal(agent_call(c, "Test.Echo", NULL, 2000, NULL, &e), 0);
	struct seen s = seen_now();
	assert_int_equal(s.sig_status, SIGV4_OK);
	assert_string_equal(s.akid, "berth-agent");
	assert_string_equal(s.region, REGION);
	free(s.body);
	agent_client_free(c);

	/* A wrong secret is signed, but does not verify. */
	c = client_for(AKID, "not-the-secret");
	assert_int_equal(agent_call(c, "Test.Echo", NULL, 2000, NULL, &e), 0);
	s = seen_now();
	assert_int_equal(s.sig_status, SIGV4_INVALID_SIGNATURE);
	free(s.body);
	agent_client_free(c);
}

static void test_call_keeps_alive(void **state)
{
	(void)state;
	struct agent_client *c = client_for(AKID, SECRET);
	struct err e;
	int before = n_connections();
	for (int i = 0; i < 3; i++)
		assert_int_equal(agent_call(c, "Test.Echo", NULL, 2000, NULL, &e), 0);
	/* An error answer keeps the connection too. */
	assert_int_equal(agent_call(c, "Test.ClientError", NULL, 2000, NULL, &e), -1);
	assert_int_equal(agent_call(c, "Test.Echo", NULL, 2000, NULL, &e), 0);
	assert_int_equal(n_connections() - before, 1);
	agent_client_free(c);
}

static void test_call_errors(void **state)
{
	(void)state;
	struct agent_client *c = client_for(AKID, SECRET);
	struct err e;
	cJSON *out = (cJSON *)1;

	assert_int_equal(agent_call(c, "Test.ClientError", NULL, 2000, &out, &e), -1);
	assert_null(out);
	assert_int_equal(e.code, AGENT_ERR_CLIENT);
	assert_string_equal(e.msg, "ClientException: boom");
	assert_int_equal(agent_client_last_status(c), 400);
	assert_string_equal(agent_client_last_type(c), "ClientException");
	assert_false(agent_err_retryable(e.code));

	assert_int_equal(agent_call(c, "Test.Prefixed", NULL, 2000, &out, &e), -1);
	assert_int_equal(e.code, AGENT_ERR_CLIENT);
	assert_string_equal(e.msg, "AccessDeniedException: no");

	assert_int_equal(agent_call(c, "Test.ServerError", NULL, 2000, &out, &e), -1);
	assert_int_equal(e.code, AGENT_ERR_SERVER);
	assert_string_equal(e.msg, "ServerException: down");
	assert_int_equal(agent_client_last_status(c), 500);
	assert_true(agent_err_retryable(e.code));

	assert_int_equal(agent_call(c, "Test.Html", NULL, 2000, &out, &e), -1);
	assert_int_equal(e.code, AGENT_ERR_SERVER);
	assert_string_equal(e.msg, "Html: berthd answered HTTP 502: <html>Bad Gateway</html>");
	assert_string_equal(agent_client_last_type(c), "");

	assert_int_equal(agent_call(c, "Test.NotJson", NULL, 2000, &out, &e), -1);
	assert_int_equal(e.code, AGENT_ERR_SERVER);
	assert_null(out);

	/* A target that would break the header is refused before sending. */
	int n = n_requests();
	assert_int_equal(agent_call(c, "Test.Echo\r\nX-Evil: 1", NULL, 2000, &out, &e), -1);
	assert_int_equal(e.code, AGENT_ERR_CLIENT);
	assert_int_equal(n_requests(), n);

	/* And the client still works after all that. */
	assert_int_equal(agent_call(c, "Test.Echo", NULL, 2000, &out, &e), 0);
	cJSON_Delete(out);
	agent_client_free(c);
}

static void test_call_refused(void **state)
{
	(void)state;
	/* A bound socket that does not listen: connecting is refused, and no
	 * other test can take the port meanwhile. */
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	socklen_t len = sizeof sa;
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	char url[64];
	snprintf(url, sizeof url, "http://127.0.0.1:%d/", ntohs(sa.sin_port));
	struct agent_client_cfg cfg = {url, REGION, AKID, SECRET};
	struct err e;
	struct agent_client *c = agent_client_new(&cfg, &e);
	assert_non_null(c);
	cJSON *out = NULL;
	assert_int_equal(agent_call(c, "Test.Echo", NULL, 1000, &out, &e), -1);
	assert_int_equal(e.code, AGENT_ERR_TRANSPORT);
	assert_true(agent_err_retryable(e.code));
	assert_int_equal(agent_client_last_status(c), 0);
	assert_null(strstr(e.msg, SECRET));
	agent_client_free(c);
	close(fd);
}

static void test_call_timeout(void **state)
{
	(void)state;
	struct agent_client *c = client_for(AKID, SECRET);
	pthread_mutex_lock(&srv.mu);
	srv.released = 0;
	pthread_mutex_unlock(&srv.mu);
	struct err e;
	int64_t t0 = mono_ms();
	assert_int_equal(agent_call(c, "Test.Hang", NULL, 300, NULL, &e), -1);
	int64_t took = mono_ms() - t0;
	assert_int_equal(e.code, AGENT_ERR_TRANSPORT);
	assert_non_null(strstr(e.msg, "within 300 ms"));
	assert_true(took >= 250);
	assert_true(took < 1000);
	/* Let the server's handler go, then the same client works again. */
	pthread_mutex_lock(&srv.mu);
	srv.released = 1;
	pthread_cond_broadcast(&srv.cv);
	pthread_mutex_unlock(&srv.mu);
	assert_int_equal(agent_call(c, "Test.Echo", NULL, 2000, NULL, &e), 0);
	agent_client_free(c);
}

static void test_bad_endpoint(void **state)
{
	(void)state;
	static const char *bad[] = {"127.0.0.1:8080", "ftp://x/", "http://", "http://u:pw@host/",
	                            "http://h/?q=1"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct agent_client_cfg cfg = {bad[i], NULL, NULL, NULL};
		struct err e;
		assert_null(agent_client_new(&cfg, &e));
		assert_int_equal(e.code, AGENT_ERR_CLIENT);
		assert_null(strstr(e.msg, "pw"));
	}
}

/* ---- agent_register ---- */

static const cJSON *find_named(const cJSON *arr, const char *name)
{
	const cJSON *x;
	cJSON_ArrayForEach(x, arr)
	{
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(x, "name");
		if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
			return x;
	}
	return NULL;
}

static void check_int_resource(const cJSON *res, const char *name, double v)
{
	const cJSON *r = find_named(res, name);
	assert_non_null(r);
	assert_string_equal(cJSON_GetObjectItem(r, "type")->valuestring, "INTEGER");
	assert_true(cJSON_GetObjectItem(r, "integerValue")->valuedouble == v);
	assert_true(cJSON_GetObjectItem(r, "longValue")->valuedouble == 0);
	assert_true(cJSON_GetObjectItem(r, "doubleValue")->valuedouble == 0);
}

static char *set_text(const cJSON *res, const char *name)
{
	const cJSON *r = find_named(res, name);
	assert_non_null(r);
	assert_string_equal(cJSON_GetObjectItem(r, "type")->valuestring, "STRINGSET");
	return cJSON_PrintUnformatted(cJSON_GetObjectItem(r, "stringSetValue"));
}

static const char *attr_value(const cJSON *attrs, const char *name)
{
	const cJSON *a = find_named(attrs, name);
	if (!a)
		return NULL;
	const cJSON *v = cJSON_GetObjectItem(a, "value");
	return cJSON_IsString(v) ? v->valuestring : "";
}

static void test_register_external(void **state)
{
	(void)state;
	struct agent_client *c = client_for(AKID, SECRET);
	struct agent_host h = {
	    .cpu_units = 2048, .memory_mib = 3900, .arch = "arm64", .os = "linux", .hostname = "h1"};
	struct agent_reg_opts o = {.cluster = "prod", .zone = "eu-west-1a", .agent_hash = "abc123"};
	char *arn = NULL;
	struct err e;
	assert_int_equal(agent_register(c, &h, &o, &arn, &e), 0);
	assert_string_equal(arn, ARN);
	free(arn);

	struct seen s = seen_now();
	assert_int_equal(s.sig_status, SIGV4_OK);
	assert_string_equal(s.target, "AmazonEC2ContainerServiceV20141113.RegisterContainerInstance");
	cJSON *in = cJSON_Parse(s.body);
	free(s.body);
	assert_non_null(in);
	assert_string_equal(cJSON_GetObjectItem(in, "cluster")->valuestring, "prod");
	assert_null(cJSON_GetObjectItem(in, "containerInstanceArn"));
	assert_null(cJSON_GetObjectItem(in, "instanceIdentityDocument"));
	const cJSON *res = cJSON_GetObjectItem(in, "totalResources");
	assert_int_equal(cJSON_GetArraySize(res), 4);
	check_int_resource(res, "CPU", 2048);
	check_int_resource(res, "MEMORY", 3900);
	char *ports = set_text(res, "PORTS"), *udp = set_text(res, "PORTS_UDP");
	assert_string_equal(ports, "[\"22\"]");
	assert_string_equal(udp, "[]");
	free(ports);
	free(udp);
	const cJSON *v = cJSON_GetObjectItem(in, "versionInfo");
	assert_string_equal(cJSON_GetObjectItem(v, "agentVersion")->valuestring,
	                    "berth-agent/0.1.0 (protocol 1)");
	assert_string_equal(cJSON_GetObjectItem(v, "agentHash")->valuestring, "abc123");
	assert_string_equal(cJSON_GetObjectItem(v, "dockerVersion")->valuestring, "none");
	const cJSON *attrs = cJSON_GetObjectItem(in, "attributes");
	assert_string_equal(attr_value(attrs, "ecs.os-type"), "linux");
	assert_string_equal(attr_value(attrs, "ecs.cpu-architecture"), "arm64");
	assert_string_equal(attr_value(attrs, "ecs.availability-zone"), "eu-west-1a");
	/* Name only: berthd refuses an empty value. */
	const cJSON *ext = find_named(attrs, "ecs.capability.external");
	assert_non_null(ext);
	assert_null(cJSON_GetObjectItem(ext, "value"));
	cJSON_Delete(in);
	agent_client_free(c);
}

static void test_register_again_asg(void **state)
{
	(void)state;
	struct agent_client *c = client_for(AKID, SECRET);
	struct agent_host h = {.cpu_units = 4096, .memory_mib = 8000, .arch = "x86_64", .os = "linux"};
	static const int tcp[] = {22, 2375}, udp[] = {53};
	static const struct agent_attr extra[] = {{"stack", "blue"}};
	const char *doc = "{\"instanceId\":\"i-0123456789abcdef0\",\"availabilityZone\":\"eu-west-1b\","
	                  "\"instanceType\":\"m5.large\",\"region\":\"eu-west-1\"}";
	struct agent_reg_opts o = {
	    .cluster = "prod",
	    .instance_arn = ARN,
	    .cpu_units = 1024,
	    .memory_mib = 512,
	    .ports = tcp,
	    .n_ports = 2,
	    .ports_udp = udp,
	    .n_ports_udp = 1,
	    .identity_document = doc,
	    .attrs = extra,
	    .n_attrs = 1,
	};
	char *arn = NULL;
	struct err e;
	assert_int_equal(agent_register(c, &h, &o, &arn, &e), 0);
	free(arn);
	struct seen s = seen_now();
	cJSON *in = cJSON_Parse(s.body);
	free(s.body);
	assert_string_equal(cJSON_GetObjectItem(in, "containerInstanceArn")->valuestring, ARN);
	assert_string_equal(cJSON_GetObjectItem(in, "instanceIdentityDocument")->valuestring, doc);
	const cJSON *res = cJSON_GetObjectItem(in, "totalResources");
	check_int_resource(res, "CPU", 1024);
	check_int_resource(res, "MEMORY", 512);
	char *ports = set_text(res, "PORTS"), *udps = set_text(res, "PORTS_UDP");
	assert_string_equal(ports, "[\"22\",\"2375\"]");
	assert_string_equal(udps, "[\"53\"]");
	free(ports);
	free(udps);
	const cJSON *attrs = cJSON_GetObjectItem(in, "attributes");
	assert_null(find_named(attrs, "ecs.capability.external"));
	assert_null(find_named(attrs, "ecs.availability-zone"));
	assert_string_equal(attr_value(attrs, "ecs.cpu-architecture"), "x86_64");
	assert_string_equal(attr_value(attrs, "stack"), "blue");
	assert_string_equal(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(in, "versionInfo"), "agentHash")->valuestring, "unknown");
	cJSON_Delete(in);

	/* No ports at all: an empty set, not the default. */
	o.n_ports = 0;
	cJSON *body = agent_register_body(&h, &o);
	char *p = set_text(cJSON_GetObjectItem(body, "totalResources"), "PORTS");
	assert_string_equal(p, "[]");
	free(p);
	cJSON_Delete(body);
	agent_client_free(c);
}

/* ---- backoff ---- */

static void test_backoff(void **state)
{
	(void)state;
	assert_int_equal(agent_backoff_ms_r(0, 0), 250);
	assert_int_equal(agent_backoff_ms_r(0, UINT64_MAX), 250);
	assert_int_equal(agent_backoff_ms_r(1, 0), 250);
	assert_int_equal(agent_backoff_ms_r(1, 250), 500);
	assert_int_equal(agent_backoff_ms_r(3, 0), 1000);
	assert_int_equal(agent_backoff_ms_r(100, 0), 15000);
	assert_int_equal(agent_backoff_ms_r(100, 15000), 30000);
	assert_int_equal(agent_backoff_ms_r(-5, 7), 250);
	long prev_max = 0;
	for (int a = 0; a < 40; a++) {
		long lo = 1L << 62, hi = 0;
		for (int i = 0; i < 200; i++) {
			long ms = agent_backoff_ms(a);
			lo = ms < lo ? ms : lo;
			hi = ms > hi ? ms : hi;
		}
		assert_true(lo >= AGENT_BACKOFF_MIN_MS);
		assert_true(hi <= AGENT_BACKOFF_MAX_MS);
		assert_true(hi >= prev_max / 2);
		if (a >= 2)
			assert_true(hi > lo); /* jitter */
		prev_max = hi;
	}
}

/* ---- host ---- */

static void test_host_probe(void **state)
{
	(void)state;
	struct agent_host h;
	struct err e;
	assert_int_equal(agent_host_probe(&h, &e), 0);
	assert_true(h.cpu_units >= 1024);
	assert_true(h.memory_mib > 0);
	assert_string_equal(h.os, "linux");
	assert_true(strcmp(h.arch, "x86_64") == 0 || strcmp(h.arch, "arm64") == 0);
	assert_true(h.hostname[0] != '\0');
}

static char tmp_root[64];

static void put(const char *rel, const char *text)
{
	char path[256];
	snprintf(path, sizeof path, "%s/%s", tmp_root, rel);
	/* mkdir -p of the parents */
	for (char *p = path + strlen(tmp_root) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0700);
		*p = '/';
	}
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void rm_tree(const char *dir)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

static void test_host_probe_cgroups(void **state)
{
	(void)state;
	snprintf(tmp_root, sizeof tmp_root, "/tmp/berth-host-XXXXXX");
	assert_non_null(mkdtemp(tmp_root));
	struct agent_host h;
	struct err e;

	/* No /proc/meminfo: an error with errno. */
	assert_int_equal(agent_host_probe_at(&h, tmp_root, &e), -1);
	assert_int_equal(e.code, -ENOENT);

	put("proc/meminfo", "MemFree:         100 kB\nMemTotal:        8388608 kB\n");
	assert_int_equal(agent_host_probe_at(&h, tmp_root, &e), 0);
	assert_int_equal(h.memory_mib, 8192);
	assert_true(h.cpu_units >= 1024);

	/* v2: the limits of the agent's cgroup and of its parent; the lower wins. */
	put("proc/self/cgroup", "0::/agent.slice/berth\n");
	put("sys/fs/cgroup/agent.slice/berth/cpu.max", "max 100000\n");
	put("sys/fs/cgroup/agent.slice/berth/memory.max", "2147483648\n");
	put("sys/fs/cgroup/agent.slice/cpu.max", "50000 100000\n");
	put("sys/fs/cgroup/agent.slice/memory.max", "max\n");
	assert_int_equal(agent_host_probe_at(&h, tmp_root, &e), 0);
	assert_int_equal(h.cpu_units, 512);
	assert_int_equal(h.memory_mib, 2048);

	/* v1: cfs quota and limit_in_bytes; an unlimited v1 limit is huge. */
	put("proc/self/cgroup", "4:memory:/docker/x\n1:cpu,cpuacct:/docker/x\n0::/\n");
	put("sys/fs/cgroup/cpu/docker/x/cpu.cfs_quota_us", "150000\n");
	put("sys/fs/cgroup/cpu/docker/x/cpu.cfs_period_us", "100000\n");
	put("sys/fs/cgroup/memory/docker/x/memory.limit_in_bytes", "1073741824\n");
	put("sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n");
	assert_int_equal(agent_host_probe_at(&h, tmp_root, &e), 0);
	/* 1.5 CPUs, or all of them on a host with one. */
	assert_true(h.cpu_units == 1536 || h.cpu_units == 1024);
	assert_int_equal(h.memory_mib, 1024);
	rm_tree(tmp_root);
}

static void test_state_roundtrip(void **state)
{
	(void)state;
	char dir[] = "/tmp/berth-state-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct agent_state s;
	assert_int_equal(agent_state_load(dir, &s), -ENOENT);

	struct agent_state w = {
	    .cluster = "prod", .container_instance_arn = ARN, .endpoint = "http://127.0.0.1:8080"};
	assert_int_equal(agent_state_save(dir, &w), 0);
	assert_int_equal(agent_state_load(dir, &s), 0);
	assert_string_equal(s.cluster, "prod");
	assert_string_equal(s.container_instance_arn, ARN);
	assert_string_equal(s.endpoint, "http://127.0.0.1:8080");

	char *path = xasprintf("%s/agent.json", dir), *tmp = xasprintf("%s/.agent.json.tmp", dir);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(tmp, &st), -1);

	/* Overwrite: the new state replaces the old. */
	snprintf(w.container_instance_arn, sizeof w.container_instance_arn, "%s", "");
	assert_int_equal(agent_state_save(dir, &w), 0);
	assert_int_equal(agent_state_load(dir, &s), 0);
	assert_string_equal(s.container_instance_arn, "");
	assert_string_equal(s.cluster, "prod");

	/* Torn or foreign content is -EINVAL, and s is left empty. */
	FILE *f = fopen(path, "w");
	fputs("{\"cluster\":\"pr", f);
	fclose(f);
	assert_int_equal(agent_state_load(dir, &s), -EINVAL);
	assert_string_equal(s.cluster, "");
	f = fopen(path, "w");
	fputs("{\"cluster\":7}", f);
	fclose(f);
	assert_int_equal(agent_state_load(dir, &s), -EINVAL);

	/* A directory that does not exist. */
	char *gone = xasprintf("%s/nope", dir);
	assert_int_equal(agent_state_save(gone, &w), -ENOENT);
	free(gone);
	free(path);
	free(tmp);
	rm_tree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_call_signed_echo),   cmocka_unit_test(test_call_dummy_credentials),
	    cmocka_unit_test(test_call_keeps_alive),   cmocka_unit_test(test_call_errors),
	    cmocka_unit_test(test_call_refused),       cmocka_unit_test(test_call_timeout),
	    cmocka_unit_test(test_bad_endpoint),       cmocka_unit_test(test_register_external),
	    cmocka_unit_test(test_register_again_asg), cmocka_unit_test(test_backoff),
	    cmocka_unit_test(test_host_probe),         cmocka_unit_test(test_host_probe_cgroups),
	    cmocka_unit_test(test_state_roundtrip),
	};
	return cmocka_run_group_tests(tests, server_start, server_stop);
}
