/* client: see client.h.
 *
 * Each call signs exactly the headers it sends (Content-Type, Host,
 * X-Amz-Date, X-Amz-Target): Host is set by hand to the endpoint's
 * authority so that what curl sends is what was signed.  "Expect:" is
 * sent empty so that curl never waits for a 100 Continue on a large report.
 * CURLOPT_NOSIGNAL keeps curl's timeouts free of SIGALRM, since the agent
 * runs two clients on two threads; curl's global initialisation is done
 * once, under pthread_once, because it is not thread-safe.
 *
 * An answer is read into memory, bounded by CLIENT_ANSWER_MAX; berthd's
 * largest (a poll listing every task of a full host with its spec) is far
 * below it. */
#include "agent/client.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib/log.h"
#include "lib/rng.h"
#include "lib/sigv4.h"
#include "lib/xalloc.h"

#define CLIENT_ANSWER_MAX   (16u << 20)
#define CLIENT_TIMEOUT_MS   30000L
#define CLIENT_CONNECT_MS   5000L
#define CLIENT_REGION       "us-east-1"
#define CLIENT_DUMMY_KEY    "berth-agent"
#define CLIENT_CONTENT_TYPE "application/x-amz-json-1.1"
#define CLIENT_SIGNED       "content-type;host;x-amz-date;x-amz-target"
#define CLIENT_TYPE_MAX     128

struct agent_client {
	CURL *curl;
	char *url;  /* what curl is given: the endpoint with a path */
	char *path; /* the path signed: "/" or the endpoint's */
	char *host; /* the Host header: the endpoint's authority */
	char *region;
	char *akid;
	char *secret; /* wiped on free; never logged */
	char errbuf[CURL_ERROR_SIZE];
	long last_status;
	char last_type[CLIENT_TYPE_MAX];
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		berth_abort(__FILE__, __LINE__, "curl_global_init failed");
}

/* ---- setup ---- */

static int split_endpoint(struct agent_client *c, const char *ep, struct err *e)
{
	size_t scheme = strncasecmp(ep, "http://", 7) == 0 ? 7 : strncasecmp(ep, "https://", 8) == 0 ? 8 : 0;
	if (!scheme)
		return err_set(e, AGENT_ERR_CLIENT, "endpoint '%.200s' is not an http:// or https:// URL",
		               ep);
	const char *auth = ep + scheme;
	size_t alen = strcspn(auth, "/?#");
	const char *rest = auth + alen;
	if (alen == 0)
		return err_set(e, AGENT_ERR_CLIENT, "endpoint '%.200s' names no host", ep);
	/* Not echoed: the part before '@' may be a password. */
	if (memchr(auth, '@', alen))
		return err_set(e, AGENT_ERR_CLIENT, "the endpoint may not carry user:password@");
	if (strpbrk(ep, "?# \t\r\n"))
		return err_set(e, AGENT_ERR_CLIENT, "endpoint '%.200s' has a query, a fragment or a space",
		               ep);
	c->host = xstrndup(auth, alen);
	c->path = xstrdup(*rest ? rest : "/");
	c->url = *rest ? xstrdup(ep) : xasprintf("%s/", ep);
	return 0;
}

struct agent_client *agent_client_new(const struct agent_client_cfg *cfg, struct err *e)
{
	pthread_once(&curl_once, curl_init_once);
	struct agent_client *c = xcalloc(1, sizeof *c);
	if (!cfg->endpoint || split_endpoint(c, cfg->endpoint, e) != 0) {
		if (!cfg->endpoint)
			err_set(e, AGENT_ERR_CLIENT, "no endpoint");
		agent_client_free(c);
		return NULL;
	}
	c->region = xstrdup(cfg->region && *cfg->region ? cfg->region : CLIENT_REGION);
	int have_key = cfg->access_key_id && *cfg->access_key_id && cfg->secret_access_key;
	c->akid = xstrdup(have_key ? cfg->access_key_id : CLIENT_DUMMY_KEY);
	c->secret = xstrdup(have_key ? cfg->secret_access_key : CLIENT_DUMMY_KEY);
	c->curl = curl_easy_init();
	if (!c->curl)
		berth_abort(__FILE__, __LINE__, "curl_easy_init failed");
	CURL *h = c->curl;
	curl_easy_setopt(h, CURLOPT_URL, c->url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "berth-agent/" AGENT_VERSION);
	return c;
}

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void agent_client_free(struct agent_client *c)
{
	if (!c)
		return;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	free(c->url);
	free(c->path);
	free(c->host);
	free(c->region);
	free(c->akid);
	wipe_free(c->secret);
	free(c);
}

long agent_client_last_status(const struct agent_client *c)
{
	return c->last_status;
}

const char *agent_client_last_type(const struct agent_client *c)
{
	return c->last_type;
}

/* ---- one call ---- */

struct answer {
	char *p;
	size_t n, cap;
	int too_big;
};

static size_t on_data(char *d, size_t size, size_t nmemb, void *arg)
{
	struct answer *a = arg;
	size_t n = size * nmemb;
	if (a->n + n + 1 > CLIENT_ANSWER_MAX) {
		a->too_big = 1;
		return 0; /* curl stops with CURLE_WRITE_ERROR */
	}
	if (a->n + n + 1 > a->cap) {
		while (a->n + n + 1 > a->cap)
			a->cap = a->cap ? a->cap * 2 : 4096;
		a->p = xrealloc(a->p, a->cap);
	}
	memcpy(a->p + a->n, d, n);
	a->n += n;
	a->p[a->n] = '\0';
	return n;
}

static void amz_now(char out[17])
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

/* A target goes into a header: printable ASCII only. */
static int target_ok(const char *t)
{
	if (!t || !*t || strlen(t) > 256)
		return 0;
	for (; *t; t++)
		if (*t <= ' ' || *t > '~')
			return 0;
	return 1;
}

/* The short name of a target, for messages: "AgentPoll". */
static const char *short_target(const char *t)
{
	const char *dot = strrchr(t, '.');
	return dot ? dot + 1 : t;
}

static struct curl_slist *add_header(struct curl_slist *l, const char *name, const char *value)
{
	char *line = xasprintf("%s: %s", name, value);
	struct curl_slist *n = curl_slist_append(l, line);
	free(line);
	if (!n)
		berth_abort(__FILE__, __LINE__, "out of memory (curl_slist_append)");
	return n;
}

/* Fill e from a non-200 answer: AWS JSON 1.1 errors carry __type
 * ("ClientException" or "prefix#ClientException") and message (or
 * Message); anything else is described by its status and first bytes. */
static int answer_error(struct agent_client *c, long status, const struct answer *a, const char *target,
                        struct err *e)
{
	int code = status >= 400 && status < 500 ? AGENT_ERR_CLIENT : AGENT_ERR_SERVER;
	cJSON *j = a->p ? cJSON_ParseWithLength(a->p, a->n) : NULL;
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(j, "__type");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(j, "message");
	if (!cJSON_IsString(msg))
		msg = cJSON_GetObjectItemCaseSensitive(j, "Message");
	if (cJSON_IsString(type)) {
		const char *hash = strrchr(type->valuestring, '#');
		snprintf(c->last_type, sizeof c->last_type, "%s", hash ? hash + 1 : type->valuestring);
		if (cJSON_IsString(msg))
			err_set(e, code, "%s: %s", c->last_type, msg->valuestring);
		else
			err_set(e, code, "%s", c->last_type);
	} else {
		/* A proxy's page, say: its first line, printable bytes only. */
		char head[121];
		size_t k = 0;
		for (size_t i = 0; a->p && i < a->n && k < sizeof head - 1 && a->p[i] != '\n'; i++)
			if (a->p[i] >= ' ' && a->p[i] <= '~')
				head[k++] = a->p[i];
		head[k] = '\0';
		err_set(e, code, "%s: berthd answered HTTP %ld%s%s", short_target(target), status,
		        k ? ": " : "", head);
	}
	cJSON_Delete(j);
	return -1;
}

static int transport_error(struct agent_client *c, CURLcode rc, const struct answer *a, const char *target,
                           long timeout_ms, struct err *e)
{
	if (a->too_big)
		return err_set(e, AGENT_ERR_SERVER, "%s: the answer is larger than %u bytes",
		               short_target(target), CLIENT_ANSWER_MAX);
	if (rc == CURLE_OPERATION_TIMEDOUT)
		return err_set(e, AGENT_ERR_TRANSPORT, "%s: no answer from %s within %ld ms",
		               short_target(target), c->url, timeout_ms);
	return err_set(e, AGENT_ERR_TRANSPORT, "%s: %s: %s", short_target(target), c->url,
	               c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
}

int agent_call(struct agent_client *c, const char *target, const cJSON *body, long timeout_ms, cJSON **out,
               struct err *e)
{
	if (out)
		*out = NULL;
	err_clear(e);
	c->last_status = 0;
	c->last_type[0] = '\0';
	c->errbuf[0] = '\0';
	if (!target_ok(target))
		return err_set(e, AGENT_ERR_CLIENT, "bad X-Amz-Target");
	if (timeout_ms <= 0)
		timeout_ms = CLIENT_TIMEOUT_MS;

	char *text = body ? cJSON_PrintUnformatted(body) : xstrdup("{}");
	BERTH_ASSERT(text != NULL);
	char amz_date[17];
	amz_now(amz_date);
	const struct sigv4_header hs[] = {
	    {"Content-Type", CLIENT_CONTENT_TYPE},
	    {"Host", c->host},
	    {"X-Amz-Date", amz_date},
	    {"X-Amz-Target", target},
	};
	const struct sigv4_request req = {
	    .method = "POST",
	    .path = c->path,
	    .headers = hs,
	    .n_headers = sizeof hs / sizeof hs[0],
	    .body = text,
	    .body_len = strlen(text),
	    .service = "ecs",
	};
	char auth[SIGV4_AUTH_MAX + 1];
	if (sigv4_sign(&req, c->akid, c->secret, amz_date, c->region, "ecs", CLIENT_SIGNED, auth,
	               sizeof auth)) {
		free(text);
		return err_set(e, AGENT_ERR_CLIENT,
		               "cannot sign for region '%.64s' (a bad access key id or region?)", c->region);
	}

	struct curl_slist *hl = NULL;
	for (size_t i = 0; i < sizeof hs / sizeof hs[0]; i++)
		hl = add_header(hl, hs[i].name, hs[i].value);
	hl = add_header(hl, "Authorization", auth);
	hl = curl_slist_append(hl, "Expect:");
	BERTH_ASSERT(hl != NULL);

	struct answer a = {0};
	CURL *h = c->curl;
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, text);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req.body_len);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
	                 timeout_ms < CLIENT_CONNECT_MS ? timeout_ms : CLIENT_CONNECT_MS);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &a);

	CURLcode rc = curl_easy_perform(h);
	/* The handle must not keep pointers to what is freed below. */
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, NULL);
	curl_slist_free_all(hl);
	free(text);

	int result = 0;
	long status = 0;
	if (rc != CURLE_OK) {
		result = transport_error(c, rc, &a, target, timeout_ms, e);
	} else {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		c->last_status = status;
		if (status != 200) {
			result = answer_error(c, status, &a, target, e);
		} else {
			cJSON *j = a.p ? cJSON_ParseWithLength(a.p, a.n) : NULL;
			if (!j)
				result = err_set(e, AGENT_ERR_SERVER,
				                 "%s: berthd answered 200 with a body that is not JSON",
				                 short_target(target));
			else if (out)
				*out = j;
			else
				cJSON_Delete(j);
		}
	}
	free(a.p);
	if (result)
		log_debug("agent call %s: %s", short_target(target), e->msg);
	return result;
}

/* ---- RegisterContainerInstance ---- */

/* ECS's Resource shape, all four typed members present as the ECS agent
 * sends them. */
static cJSON *resource(const char *name, const char *type, long integer)
{
	cJSON *r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "name", name);
	cJSON_AddStringToObject(r, "type", type);
	cJSON_AddNumberToObject(r, "integerValue", (double)integer);
	cJSON_AddNumberToObject(r, "longValue", 0);
	cJSON_AddNumberToObject(r, "doubleValue", 0);
	return r;
}

static cJSON *port_set(const char *name, const int *ports, size_t n)
{
	cJSON *r = resource(name, "STRINGSET", 0);
	cJSON *set = cJSON_AddArrayToObject(r, "stringSetValue");
	for (size_t i = 0; i < n; i++) {
		char num[16];
		snprintf(num, sizeof num, "%d", ports[i]);
		cJSON_AddItemToArray(set, cJSON_CreateString(num));
	}
	return r;
}

static void add_attr(cJSON *arr, const char *name, const char *value)
{
	cJSON *a = cJSON_CreateObject();
	cJSON_AddStringToObject(a, "name", name);
	if (value)
		cJSON_AddStringToObject(a, "value", value);
	cJSON_AddItemToArray(arr, a);
}

cJSON *agent_register_body(const struct agent_host *h, const struct agent_reg_opts *o)
{
	static const int default_ports[] = {22};
	cJSON *in = cJSON_CreateObject();
	if (o->cluster)
		cJSON_AddStringToObject(in, "cluster", o->cluster);
	if (o->instance_arn && *o->instance_arn)
		cJSON_AddStringToObject(in, "containerInstanceArn", o->instance_arn);
	if (o->identity_document)
		cJSON_AddStringToObject(in, "instanceIdentityDocument", o->identity_document);

	cJSON *res = cJSON_AddArrayToObject(in, "totalResources");
	cJSON_AddItemToArray(res, resource("CPU", "INTEGER", o->cpu_units > 0 ? o->cpu_units : h->cpu_units));
	cJSON_AddItemToArray(
	    res, resource("MEMORY", "INTEGER", o->memory_mib > 0 ? o->memory_mib : h->memory_mib));
	cJSON_AddItemToArray(res, o->ports ? port_set("PORTS", o->ports, o->n_ports)
	                                   : port_set("PORTS", default_ports, 1));
	cJSON_AddItemToArray(res, port_set("PORTS_UDP", o->ports_udp, o->ports_udp ? o->n_ports_udp : 0));

	cJSON *v = cJSON_AddObjectToObject(in, "versionInfo");
	cJSON_AddStringToObject(v, "agentVersion", "berth-agent/" AGENT_VERSION " (protocol 1)");
	cJSON_AddStringToObject(v, "agentHash", o->agent_hash ? o->agent_hash : "unknown");
	cJSON_AddStringToObject(v, "dockerVersion", "none");

	cJSON *attrs = cJSON_AddArrayToObject(in, "attributes");
	add_attr(attrs, "ecs.os-type", h->os[0] ? h->os : "linux");
	add_attr(attrs, "ecs.cpu-architecture", h->arch);
	if (o->zone)
		add_attr(attrs, "ecs.availability-zone", o->zone);
	if (!o->identity_document)
		add_attr(attrs, "ecs.capability.external", NULL);
	for (size_t i = 0; i < o->n_attrs; i++)
		add_attr(attrs, o->attrs[i].name, o->attrs[i].value);
	return in;
}

/* "protocol 1" in agentVersion must say AGENT_PROTOCOL_VERSION. */
_Static_assert(AGENT_PROTOCOL_VERSION == 1, "update agentVersion's protocol number");

int agent_register(struct agent_client *c, const struct agent_host *h, const struct agent_reg_opts *o,
                   char **arn_out, struct err *e)
{
	*arn_out = NULL;
	cJSON *in = agent_register_body(h, o);
	cJSON *ans = NULL;
	int rc = agent_call(c, AGENT_TARGET_ECS "RegisterContainerInstance", in, o->timeout_ms, &ans, e);
	cJSON_Delete(in);
	if (rc)
		return -1;
	const cJSON *ci = cJSON_GetObjectItemCaseSensitive(ans, "containerInstance");
	const cJSON *arn = cJSON_GetObjectItemCaseSensitive(ci, "containerInstanceArn");
	if (cJSON_IsString(arn) && *arn->valuestring)
		*arn_out = xstrdup(arn->valuestring);
	cJSON_Delete(ans);
	if (!*arn_out)
		return err_set(e, AGENT_ERR_SERVER,
		               "RegisterContainerInstance: the answer has no containerInstanceArn");
	return 0;
}

/* ---- backoff ---- */

long agent_backoff_ms_r(int attempt, uint64_t rnd)
{
	long ceil = AGENT_BACKOFF_MIN_MS;
	for (int i = 0; i < attempt && ceil < AGENT_BACKOFF_MAX_MS; i++)
		ceil *= 2;
	if (ceil > AGENT_BACKOFF_MAX_MS)
		ceil = AGENT_BACKOFF_MAX_MS;
	long half = ceil / 2;
	long ms = half + (long)(rnd % (uint64_t)(ceil - half + 1));
	return ms < AGENT_BACKOFF_MIN_MS ? AGENT_BACKOFF_MIN_MS : ms;
}

long agent_backoff_ms(int attempt)
{
	/* One generator a thread: the two clients' threads each back off. */
	static _Thread_local struct rng r;
	static _Thread_local int seeded;
	if (!seeded) {
		rng_seed_os(&r);
		seeded = 1;
	}
	return agent_backoff_ms_r(attempt, rng_next(&r));
}
