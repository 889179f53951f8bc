/* fuzz_query: libFuzzer harness for the AWS Query protocol path without
 * sockets: awsjson_call (a form body, no X-Amz-Target) -> awsquery_call ->
 * form parsing -> JSON by the Auto Scaling shapes -> api_as_call ->
 * validator -> handlers -> model, and the XML that comes back.
 *
 * Input format (tests/fuzz/README.md): one or more requests separated by
 * the line "\n%%\n", at most FUZZ_MAX_REQS an input.  Each request is
 *
 *	byte 0   low 3 bits: the Authorization variant (auths[]), so the
 *	         digits '0'..'7' pick it; 0x08: run api_advance first
 *	rest     the form body, as is ("Action=...&Version=2011-01-01&...")
 *
 * State.  One model lives across inputs, as in a server, rebuilt every
 * FUZZ_RESET_EVERY requests; the clock is virtual (FUZZ_TICK_MS a
 * request), the rng seeded once; the dirty set is dropped after each
 * request, as the server's commit does.
 *
 * Invariants (a violation aborts).  After every request:
 *   - the answer is text/xml, resp_len is its length, the status is 200 or
 *     4xx (never 5xx, for any input), and the return code is 0 exactly
 *     when the status is 200;
 *   - the body is well-formed XML as far as a client's parser cares: valid
 *     UTF-8 without the characters XML 1.0 refuses, tags nested and closed
 *     by name, text and attribute values without a raw '<' and with '&'
 *     only in the five entities or a numeric reference;
 *   - on 200 the root is <ActionResponse> for the Action sent, with a
 *     RequestId; on 4xx it is <ErrorResponse> with Type Sender and the Code
 *     of the error returned;
 *   - the dirty set holds either an object or a deletion id, never both. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/validate.h"
#include "lib/xalloc.h"
#include "server/server.h"

#include "fuzz_check.h"

#define FUZZ_MAX_REQS 16
#define FUZZ_RESET_EVERY 2000
#define FUZZ_START_MS INT64_C(1700000000000)
#define FUZZ_TICK_MS 137
#define FUZZ_SEED UINT64_C(0x6265727468) /* "berth" */
#define FUZZ_SEP "\n%%\n"
#define FUZZ_REGION "us-east-1"
#define FUZZ_ACCOUNT "000000000000"
#define FUZZ_XML_DEPTH 256

/* Authorization variants: unsigned, SigV4 scopes of three regions, and
 * scopes the region parser must refuse. */
static const char *const auths[8] = {
	NULL,
	"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/autoscaling/aws4_request, "
	"SignedHeaders=content-type;host;x-amz-date, Signature=00",
	"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/eu-west-1/autoscaling/aws4_request",
	"AWS4-HMAC-SHA256 Credential=test/20240101/ap-southeast-2/autoscaling/aws4_request",
	"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101",
	"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101//autoscaling/aws4_request",
	"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/EU-WEST-1/autoscaling/aws4_request",
	"Credential=a/b/"
	"region-name-that-is-far-too-long-for-the-sixty-four-byte-buffer-xxxxxxx"
	"/autoscaling/aws4_request",
};

static struct {
	bool ready;
	struct model m;
	struct api_config cfg;
	struct rng rng;
	int64_t now;
	int64_t wake_at;
	unsigned long reqs;
	bool trace;                 /* FUZZ_TRACE=1: print each answer */
} fz;

static void fuzz_reset(void)
{
	if (fz.ready)
		model_release(&fz.m);
	model_init(&fz.m, FUZZ_ACCOUNT);
	/* berthd's defaults (src/server/config.c) */
	fz.cfg = (struct api_config){
		.strategy_max_providers = 6,
		.max_cps_per_cluster = 20,
		.transition_ms = 1000,
		.cluster_retention_ms = 3600 * 1000,
		.cp_retention_ms = 3600 * 1000,
		.instance_retention_ms = 3600 * 1000,
		.task_retention_ms = 3600 * 1000,
		.sim_step_ms = 500,
		.capacity_wait_ms = 1200 * 1000,
		.max_provisioning_tasks = 500,
		.spot_warning_ms = 120 * 1000,
		.healthy_grace_ms = 40 * 1000,
		.service_retention_ms = 3600 * 1000,
	};
	rng_seed(&fz.rng, FUZZ_SEED);
	fz.now = FUZZ_START_MS;
	fz.wake_at = 0;
	fz.reqs = 0;
	fz.trace = getenv("FUZZ_TRACE") != NULL;
	fz.ready = true;
}

static void wake(int64_t at)
{
	if (at && (!fz.wake_at || at < fz.wake_at))
		fz.wake_at = at;
}

static struct api_ctx new_ctx(void)
{
	return (struct api_ctx){
		.m = &fz.m, .cfg = &fz.cfg, .region = FUZZ_REGION, .now = fz.now, .rng = &fz.rng,
		.driver = &driver_sim_ops,
	};
}

static void advance(void)
{
	struct api_ctx ctx = new_ctx();
	fz.wake_at = 0;
	wake(api_advance(&ctx));
	wake(ctx.wake_at);
}

/* ---- a small XML checker: what a client's parser would refuse ---- */

struct xml_check {
	const char *p, *end;
	const char *stack[FUZZ_XML_DEPTH];
	size_t len[FUZZ_XML_DEPTH];
	int depth;
	const char *root;
	size_t root_len;
};

static size_t name_len(const char *p, const char *end)
{
	size_t n = 0;
	while (p + n < end && (((p[n] | 0x20) >= 'a' && (p[n] | 0x20) <= 'z') ||
			       (n > 0 && ((p[n] >= '0' && p[n] <= '9') || p[n] == '.' || p[n] == '-')) ||
			       p[n] == '_'))
		n++;
	return n;
}

/* A reference at p ("&amp;" ...): its length, or 0 if it is not one. */
static size_t ref_len(const char *p, const char *end)
{
	static const char *const ents[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};
	for (size_t i = 0; i < sizeof ents / sizeof ents[0]; i++)
		if ((size_t)(end - p) >= strlen(ents[i]) && memcmp(p, ents[i], strlen(ents[i])) == 0)
			return strlen(ents[i]);
	if (end - p < 4 || p[1] != '#')
		return 0;
	size_t n = 2;
	while (p + n < end && p[n] >= '0' && p[n] <= '9')
		n++;
	return n > 2 && p + n < end && p[n] == ';' ? n + 1 : 0;
}

/* Text up to the next '<' (or end): no raw '&' outside a reference. */
static void check_text(struct xml_check *x, const char *body)
{
	while (x->p < x->end && *x->p != '<') {
		if (*x->p == '&') {
			size_t n = ref_len(x->p, x->end);
			FUZZ_CHECK(n > 0, "raw '&' in text at %zu: %s", (size_t)(x->p - body), body);
			x->p += n;
		} else {
			x->p++;
		}
	}
}

/* A tag at x->p (after '<'). */
static void check_tag(struct xml_check *x, const char *body)
{
	bool close = *x->p == '/';
	x->p += close;
	size_t n = name_len(x->p, x->end);
	FUZZ_CHECK(n > 0, "tag without a name at %zu: %s", (size_t)(x->p - body), body);
	const char *name = x->p;
	x->p += n;
	if (close) {
		FUZZ_CHECK(x->depth > 0, "close tag with nothing open: %s", body);
		x->depth--;
		FUZZ_CHECK(x->len[x->depth] == n && memcmp(x->stack[x->depth], name, n) == 0,
			   "</%.*s> closes <%.*s>: %s", (int)n, name, (int)x->len[x->depth],
			   x->stack[x->depth], body);
	} else {
		FUZZ_CHECK(x->depth > 0 || !x->root, "a second root element: %s", body);
		FUZZ_CHECK(x->depth < FUZZ_XML_DEPTH, "nested too deeply: %s", body);
		if (!x->root) {
			x->root = name;
			x->root_len = n;
			/* the one attribute, on the root */
			const char *ns = " xmlns=\"http://autoscaling.amazonaws.com/doc/2011-01-01/\"";
			if ((size_t)(x->end - x->p) > strlen(ns) && memcmp(x->p, ns, strlen(ns)) == 0)
				x->p += strlen(ns);
		}
		x->stack[x->depth] = name;
		x->len[x->depth++] = n;
	}
	FUZZ_CHECK(x->p < x->end && *x->p == '>', "tag not closed by '>' at %zu: %s",
		   (size_t)(x->p - body), body);
	x->p++;
}

static void check_xml(const char *body, size_t len, struct xml_check *x)
{
	memset(x, 0, sizeof *x);
	FUZZ_CHECK(validate_utf8(body, len), "body not UTF-8: %s", body);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)body[i];
		FUZZ_CHECK(c >= 0x20 || c == '\t' || c == '\n' || c == '\r', "control 0x%02x: %s", c, body);
		FUZZ_CHECK(!(c == 0xEF && i + 2 < len && (unsigned char)body[i + 1] == 0xBF &&
			     ((unsigned char)body[i + 2] & 0xFE) == 0xBE),
			   "U+FFFE/U+FFFF: %s", body);
	}
	x->p = body;
	x->end = body + len;
	while (x->p < x->end) {
		check_text(x, body);
		if (x->p < x->end) {
			x->p++;
			check_tag(x, body);
		}
		FUZZ_CHECK(x->depth > 0 || x->p == x->end, "content after the root: %s", body);
	}
	FUZZ_CHECK(x->root && x->depth == 0, "no root, or left open: %s", body);
}

/* ---- one request ---- */

static void check_answer(const struct http_req *r, int code, const char *action)
{
	FUZZ_CHECK(r->resp != NULL, "no body (status %d)", r->status);
	FUZZ_CHECK(r->resp_len == strlen(r->resp), "resp_len %zu, strlen %zu", r->resp_len,
		   strlen(r->resp));
	FUZZ_CHECK(r->resp_ctype && strcmp(r->resp_ctype, "text/xml") == 0, "Content-Type %s",
		   r->resp_ctype ? r->resp_ctype : "(none)");
	FUZZ_CHECK(r->status == 200 || (r->status >= 400 && r->status < 500), "status %d: %s",
		   r->status, r->resp);
	FUZZ_CHECK((code == 0) == (r->status == 200), "code %d with status %d", code, r->status);
	struct xml_check x;
	check_xml(r->resp, r->resp_len, &x);
	if (r->status == 200) {
		char root[300];
		snprintf(root, sizeof root, "%sResponse", action ? action : "");
		FUZZ_CHECK(action && x.root_len == strlen(root) && memcmp(x.root, root, x.root_len) == 0,
			   "root %.*s for action %s", (int)x.root_len, x.root, action ? action : "(none)");
		FUZZ_CHECK(strstr(r->resp, "<ResponseMetadata><RequestId>"), "no RequestId: %s", r->resp);
		return;
	}
	char want[200];
	snprintf(want, sizeof want, "<Error><Type>Sender</Type><Code>%s</Code><Message>",
		 api_error_type(code));
	FUZZ_CHECK(x.root_len == strlen("ErrorResponse") && memcmp(x.root, "ErrorResponse", x.root_len) == 0,
		   "error root %.*s", (int)x.root_len, x.root);
	FUZZ_CHECK(strstr(r->resp, want), "want %s: %s", want, r->resp);
	FUZZ_CHECK(code != ERR_SERVER, "ServerException: %s", r->resp);
}

static void drop_dirty(void)
{
	size_t n;
	struct model_change *ch = model_take_dirty(&fz.m, &n);
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK(!ch[i].obj != !ch[i].del_id, "change %zu: object and deletion id", i);
	model_changes_free(ch, n);
}

static void one_request(const uint8_t *data, size_t size)
{
	if (size == 0)
		return;
	uint8_t b0 = data[0];
	size_t body_len = size - 1;
	fz.now += FUZZ_TICK_MS;
	if ((b0 & 0x08) || (fz.wake_at && fz.wake_at <= fz.now))
		advance();

	struct http_req r;
	memset(&r, 0, sizeof r);
	r.method = "POST";
	r.path = "/";
	r.auth = (char *)auths[b0 & 7];
	r.ctype = "application/x-www-form-urlencoded; charset=utf-8";
	/* An exact-size heap copy, so a read past the body is caught. */
	r.body = xmalloc(body_len);
	if (body_len)
		memcpy(r.body, data + 1, body_len);
	r.len = body_len;
	snprintf(r.request_id, sizeof r.request_id, "00000000-0000-4000-8000-000000000000");

	struct api_ctx ctx = new_ctx();
	int code = awsjson_call(&ctx, &r);
	if (fz.trace)
		fprintf(stderr, "%d %s\n", r.status, r.resp ? r.resp : "");
	/* The Action the answer should be for, as the layer decoded it. */
	struct awsquery_form f;
	struct err e;
	const char *action = NULL;
	if (awsquery_form_parse(r.body, r.len, &f, &e) == 0)
		action = awsquery_form_get(&f, "Action");
	check_answer(&r, code, action);
	awsquery_form_release(&f);
	wake(ctx.wake_at);
	drop_dirty();
	free(r.resp);
	free(r.body);
	fz.reqs++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!fz.ready || fz.reqs >= FUZZ_RESET_EVERY)
		fuzz_reset();
	const uint8_t *p = data, *end = data + size;
	size_t sep = strlen(FUZZ_SEP);
	for (int i = 0; i < FUZZ_MAX_REQS && p < end; i++) {
		const uint8_t *q = memmem(p, (size_t)(end - p), FUZZ_SEP, sep);
		size_t n = q ? (size_t)(q - p) : (size_t)(end - p);
		one_request(p, n);
		p = q ? q + sep : end;
	}
	return 0;
}
