/* fuzz_request: libFuzzer harness for the whole request path without
 * sockets: awsjson_call (target, Authorization, body) -> api_call ->
 * validator -> handlers -> model, then the store's view of the dirty set.
 *
 * Input format (tests/fuzz/README.md has examples): one or more requests
 * separated by the line "\n%%\n" (never part of a valid JSON body), at most
 * FUZZ_MAX_REQS an input.  Each request is
 *
 *	byte 0   the action: actions[(uint8_t)(b0 - 'A') % N], so 'A' is
 *	         CreateCluster, 'B' DescribeClusters ... (letters, readable)
 *	byte 1   low 3 bits: the Authorization variant (auth[]), so the digits
 *	         '0'..'7' pick it; 0x08: run api_advance before the request;
 *	         0x40: jump the clock past the retention periods first
 *	rest     the JSON body, as is (may be empty, invalid, anything)
 *
 * State.  One model lives across inputs, as in a real server, so that a
 * create in one input meets a delete in the next.  Memory stays flat: the
 * model is rebuilt every FUZZ_RESET_EVERY requests or when it holds more
 * than FUZZ_MAX_OBJECTS objects.  The clock is virtual: a fixed start that
 * moves FUZZ_TICK_MS a request; the rng is seeded once.  As the server's
 * timer does, api_advance runs when a deadline a handler asked for is due
 * (and when the input asks for it).
 *
 * Invariants (a violation aborts, which is a crash to libFuzzer).  After
 * every request:
 *   - the status is 200 or 4xx; no 5xx and never ServerException, for any
 *     input; the return code is 0 exactly when the status is 200;
 *   - the body is valid JSON: an object on 200, and on 4xx an object with
 *     string __type and message, __type matching the code.
 * For each object in the dirty set (the objects the request changed):
 *   - it is a live object of the model (a dangling one is a use after
 *     free), listed once; a deletion carries its record id;
 *   - it lives in the region it says, with the ARN the model gives it; a
 *     live cluster only names providers that exist and are not INACTIVE;
 *   - its record round-trips: codec(CODEC_RECORD) -> *_from_record ->
 *     codec(CODEC_RECORD) gives the same JSON (what the store relies on).
 * The whole model (indexes sorted, each key its object's name, and the
 * above for every object) every FUZZ_FULL_CHECK_EVERY changing requests and
 * before each reset: it is O(objects), too slow for every request.
 * The dirty set is then dropped, as the server drops it after its commit. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/validate.h"
#include "lib/xalloc.h"
#include "model/codec.h"
#include "server/server.h"

#define FUZZ_MAX_REQS 16
#define FUZZ_RESET_EVERY 2000
#define FUZZ_FULL_CHECK_EVERY 16
#define FUZZ_MAX_OBJECTS 1000
#define FUZZ_START_MS INT64_C(1700000000000)
#define FUZZ_TICK_MS 137
#define FUZZ_SEED UINT64_C(0x6265727468) /* "berth" */
#define FUZZ_SEP "\n%%\n"
#define FUZZ_REGION "us-east-1"
#define FUZZ_ACCOUNT "000000000000"

#define ECS_PREFIX "AmazonEC2ContainerServiceV20141113."

#include "fuzz_check.h"

/* The X-Amz-Target of each action byte.  A name starting with '!' is sent
 * as the whole target (another service); NULL sends no target at all. */
static const char *const actions[] = {
	"CreateCluster",                   /* A */
	"DescribeClusters",                /* B */
	"ListClusters",                    /* C */
	"DeleteCluster",                   /* D */
	"UpdateCluster",                   /* E */
	"UpdateClusterSettings",           /* F */
	"PutClusterCapacityProviders",     /* G */
	"CreateCapacityProvider",          /* H */
	"DescribeCapacityProviders",       /* I */
	"UpdateCapacityProvider",          /* J */
	"DeleteCapacityProvider",          /* K */
	"TagResource",                     /* L */
	"UntagResource",                   /* M */
	"ListTagsForResource",             /* N */
	"CreateService",                   /* O */
	"RunTask",                         /* P */
	"DescribeTaskDefinition",          /* Q */
	"",                                /* R: the prefix alone */
	"NoSuchAction",                    /* S: unknown */
	"createcluster",                   /* T: case matters */
	"CreateCluster ",                  /* U: trailing space */
	"CreateClusterCreateClusterCreateClusterCreateClusterCreateCluster"
	"CreateClusterCreateClusterCreateClusterCreateClusterCreateCluster"
	"CreateClusterCreateClusterCreateClusterCreateClusterCreateCluster"
	"CreateClusterCreateClusterCreateClusterCreateClusterCreateCluster",
	                                   /* V: long unknown */
	"!AnyScaleFrontendService.CreateCluster", /* W: another service */
	NULL,                              /* X: no X-Amz-Target */
	"RegisterTaskDefinition",          /* Y */
	"RegisterContainerInstance",       /* Z */
	"StartTask",                       /* [ */
	"StopTask",                        /* \\ */
	"DescribeTasks",                   /* ] */
	"ListTasks",                       /* ^ */
	"DeregisterContainerInstance",     /* _ */
	"UpdateContainerInstancesState",   /* ` */
	"ListContainerInstances",          /* a */
	"PutAttributes",                   /* b */
	"DeregisterTaskDefinition",        /* c */
	"DeleteTaskDefinitions",           /* d */
	"ListTaskDefinitions",             /* e */
	"!BerthExtensions_v1.InterruptSpotTasks", /* f */
	"UpdateService",                   /* g */
	"DeleteService",                   /* h */
	"DescribeServices",                /* i */
	"ListServices",                    /* j */
	"ListServicesByNamespace",         /* k */
	"UpdateTaskProtection",            /* l */
	"GetTaskProtection",               /* m */
	"!BerthExtensions_v1.SetAgentConnected", /* n */
};
#define N_ACTIONS (sizeof actions / sizeof actions[0])

/* Authorization header variants: unsigned, SigV4 scopes for three regions
 * (so regions multiply), and scopes the region parser must refuse. */
static const char *const auths[8] = {
	NULL,
	"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/ecs/aws4_request, "
	"SignedHeaders=host;x-amz-date;x-amz-target, Signature=00",
	"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/eu-west-1/ecs/aws4_request, "
	"SignedHeaders=host, Signature=00",
	"AWS4-HMAC-SHA256 Credential=test/20240101/ap-southeast-2/ecs/aws4_request",
	"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101",
	"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101//ecs/aws4_request",
	"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/EU-WEST-1/ecs/aws4_request",
	"Credential=a/b/"
	"region-name-that-is-far-too-long-for-the-sixty-four-byte-buffer-xxxxxxx"
	"/ecs/aws4_request",
};

static struct {
	bool ready;
	struct model m;
	struct api_config cfg;
	struct rng rng;
	int64_t now;
	int64_t wake_at;            /* when the "timer" would fire, 0 if idle */
	unsigned long reqs;         /* since the last reset */
	unsigned long changes;      /* requests that changed the model */
	bool trace;                 /* FUZZ_TRACE=1: print each answer */
} fz;

static void check_model(void);

static void fuzz_reset(void)
{
	if (fz.ready) {
		check_model();
		model_release(&fz.m);
	}
	model_init(&fz.m, FUZZ_ACCOUNT);
	/* berthd's defaults (src/server/config.c) */
	fz.cfg = (struct api_config){
		.strategy_max_providers = 6,
		.max_cps_per_cluster = 20,
		.allow_asg_fargate_switch = false,
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

static size_t model_objects(const struct model *m)
{
	size_t n = m->regions.n;
	for (size_t i = 0; i < m->regions.n; i++) {
		const struct region *r = m->regions.v[i].val;
		n += r->clusters.n + r->cps.n;
	}
	return n;
}

static void wake(int64_t at)
{
	if (at && (!fz.wake_at || at < fz.wake_at))
		fz.wake_at = at;
}

static void advance(void)
{
	struct api_ctx ctx = {
		.m = &fz.m, .cfg = &fz.cfg, .region = FUZZ_REGION, .now = fz.now, .rng = &fz.rng,
		.driver = &driver_sim_ops,
	};
	fz.wake_at = 0;
	wake(api_advance(&ctx));
	wake(ctx.wake_at);
}

/* ---- invariants ---- */

static void check_answer(const struct http_req *r, int code)
{
	FUZZ_CHECK(r->resp != NULL, "no body (status %d)", r->status);
	FUZZ_CHECK(r->resp_len == strlen(r->resp), "resp_len %zu, strlen %zu", r->resp_len,
		   strlen(r->resp));
	FUZZ_CHECK(r->status == 200 || (r->status >= 400 && r->status < 500), "status %d: %s",
		   r->status, r->resp);
	FUZZ_CHECK((code == 0) == (r->status == 200), "code %d with status %d", code, r->status);
	cJSON *j = cJSON_ParseWithLength(r->resp, r->resp_len);
	FUZZ_CHECK(j && cJSON_IsObject(j), "body is not a JSON object: %s", r->resp);
	if (r->status != 200) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "__type");
		const cJSON *msg = cJSON_GetObjectItemCaseSensitive(j, "message");
		FUZZ_CHECK(cJSON_IsString(t) && *t->valuestring, "no __type: %s", r->resp);
		FUZZ_CHECK(cJSON_IsString(msg) && *msg->valuestring, "no message: %s", r->resp);
		FUZZ_CHECK(strcmp(t->valuestring, "ServerException") != 0, "ServerException: %s",
			   msg->valuestring);
		FUZZ_CHECK(strcmp(t->valuestring, api_error_type(code)) == 0, "__type %s, code %d",
			   t->valuestring, code);
	}
	cJSON_Delete(j);
}

static void check_sidx(const struct sidx *x)
{
	for (size_t i = 1; i < x->n; i++)
		FUZZ_CHECK(strcmp(x->v[i - 1].key, x->v[i].key) < 0, "index out of order at %zu: %s, %s",
			   i, x->v[i - 1].key, x->v[i].key);
}

static void check_arn(const char *arn, const char *region, const char *type, const char *name)
{
	char want[1024];
	snprintf(want, sizeof want, "arn:%s:ecs:%s:%s:%s/%s", fz.m.partition, region, fz.m.account,
		 type, name);
	FUZZ_CHECK(strcmp(arn, want) == 0, "ARN %s, want %s", arn, want);
}

static void check_cp(const struct region *r, const struct capacity_provider *cp)
{
	FUZZ_CHECK(strcmp(cp->region, r->name) == 0, "cp %s in %s says %s", cp->name, r->name,
		   cp->region);
	FUZZ_CHECK(!cp_is_builtin(cp->name), "builtin %s stored", cp->name);
	FUZZ_CHECK(cp->asg_arn && cp->asg_name, "cp %s without group", cp->name);
	check_arn(cp->arn, r->name, "capacity-provider", cp->name);
}

static void check_cluster(const struct region *r, const struct cluster *c)
{
	FUZZ_CHECK(strcmp(c->region, r->name) == 0, "cluster %s in %s says %s", c->name, r->name,
		   c->region);
	check_arn(c->arn, r->name, "cluster", c->name);
	if (c->status == CLUSTER_INACTIVE) {
		FUZZ_CHECK(c->n_cps == 0, "INACTIVE cluster %s keeps providers", c->name);
		return;
	}
	for (size_t p = 0; p < c->n_cps; p++) {
		if (cp_is_builtin(c->cps[p]))
			continue;
		const struct capacity_provider *cp = model_cp_find(r, c->cps[p]);
		FUZZ_CHECK(cp && cp->status != CP_INACTIVE, "cluster %s names provider %s, which is %s",
			   c->name, c->cps[p], cp ? cp_status_name(cp->status) : "gone");
	}
}

static int by_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A provider with managed scaling (now or once its pending update applies)
 * is associated with at most one non-INACTIVE cluster (api_cluster.c). */
static void check_managed_scaling_owners(const struct region *r)
{
	size_t n = 0;
	for (size_t k = 0; k < r->clusters.n; k++) {
		const struct cluster *c = r->clusters.v[k].val;
		if (c->status != CLUSTER_INACTIVE)
			n += c->n_cps;
	}
	const char **names = xcalloc(n ? n : 1, sizeof *names);
	n = 0;
	for (size_t k = 0; k < r->clusters.n; k++) {
		const struct cluster *c = r->clusters.v[k].val;
		if (c->status != CLUSTER_INACTIVE)
			for (size_t p = 0; p < c->n_cps; p++)
				names[n++] = c->cps[p];
	}
	qsort(names, n, sizeof *names, by_str);
	for (size_t i = 1; i < n; i++) {
		if (strcmp(names[i - 1], names[i]) != 0)
			continue;
		const struct capacity_provider *cp = model_cp_find(r, names[i]);
		FUZZ_CHECK(!cp || !(cp->cur.ms.enabled || (cp->has_pending && cp->pending.ms.enabled)),
			   "provider %s has managed scaling and more than one cluster", names[i]);
	}
	free(names);
}

/* The whole model: O(objects), so run every FUZZ_FULL_CHECK_EVERY changes;
 * between, check_dirty checks the objects that changed. */
static void check_model(void)
{
	check_sidx(&fz.m.regions);
	for (size_t i = 0; i < fz.m.regions.n; i++) {
		const struct region *r = fz.m.regions.v[i].val;
		FUZZ_CHECK(strcmp(fz.m.regions.v[i].key, r->name) == 0, "region key %s",
			   fz.m.regions.v[i].key);
		check_sidx(&r->clusters);
		check_sidx(&r->cps);
		for (size_t k = 0; k < r->cps.n; k++) {
			const struct capacity_provider *cp = r->cps.v[k].val;
			FUZZ_CHECK(strcmp(r->cps.v[k].key, cp->name) == 0, "cp key %s, name %s",
				   r->cps.v[k].key, cp->name);
			check_cp(r, cp);
		}
		for (size_t k = 0; k < r->clusters.n; k++) {
			const struct cluster *c = r->clusters.v[k].val;
			FUZZ_CHECK(strcmp(r->clusters.v[k].key, c->name) == 0, "cluster key %s, name %s",
				   r->clusters.v[k].key, c->name);
			check_cluster(r, c);
		}
		check_managed_scaling_owners(r);
	}
}

/* Is obj a live object of the model (of the kind said)?  A dangling obj is
 * read here, which ASan reports as a use after free. */
static bool live(enum model_kind kind, const void *obj)
{
	const struct region *r;
	switch (kind) {
	case MODEL_REGION:
		r = obj;
		return model_region_find(&fz.m, r->name) == r;
	case MODEL_IAM_USER: {
		const struct iam_user *u = obj;
		return sidx_get(&fz.m.iam.users, u->name) == u;
	}
	case MODEL_CLUSTER: {
		const struct cluster *c = obj;
		r = model_region_find(&fz.m, c->region);
		return r && model_cluster_find(r, c->name) == c;
	}
	case MODEL_CP: {
		const struct capacity_provider *cp = obj;
		r = model_region_find(&fz.m, cp->region);
		return r && model_cp_find(r, cp->name) == cp;
	}
	case MODEL_TASKDEF: {
		const struct task_def *td = obj;
		r = model_region_find(&fz.m, td->region);
		return r && model_td_find(r, td->family, td->revision) == td;
	}
	case MODEL_INSTANCE: {
		const struct container_instance *ci = obj;
		r = model_region_find(&fz.m, ci->region);
		const struct cluster *c = r ? model_cluster_find(r, ci->cluster) : NULL;
		return c && model_ci_find(c, ci->id) == ci;
	}
	case MODEL_TASK: {
		const struct task *t = obj;
		r = model_region_find(&fz.m, t->cluster->region);
		return r && model_task_find(r, t->id) == t;
	}
	case MODEL_FAMILY: {
		const struct td_family *f = obj;
		r = model_region_find(&fz.m, f->region);
		return r && model_family_find(r, f->name) == f;
	}
	case MODEL_SERVICE: {
		const struct service *s = obj;
		r = model_region_find(&fz.m, s->region);
		const struct cluster *c = r ? model_cluster_find(r, s->cluster->name) : NULL;
		return c && c == s->cluster && model_svc_find(c, s->name) == s;
	}
	case MODEL_AS_LC: {
		const struct as_launch_config *lc = obj;
		r = model_region_find(&fz.m, lc->region);
		return r && model_as_lc_find(r, lc->name) == lc;
	}
	case MODEL_AS_GROUP: {
		const struct as_group *g = obj;
		r = model_region_find(&fz.m, g->region);
		return r && model_as_group_find(r, g->name) == g;
	}
	case MODEL_AS_POLICY: {
		const struct as_policy *p = obj;
		r = model_region_find(&fz.m, p->region);
		return r && model_as_policy_find(r, p->group, p->name) == p;
	}
	}
	return false;
}

static void check_round_trip(cJSON *rec, struct cluster *c, struct capacity_provider *cp)
{
	char *a = cJSON_PrintUnformatted(rec);
	cJSON *again = c ? codec_cluster(c, CODEC_RECORD) : codec_cp(cp, CODEC_RECORD);
	char *b = cJSON_PrintUnformatted(again);
	FUZZ_CHECK(strcmp(a, b) == 0, "record does not round-trip:\n  %s\n  %s", a, b);
	cJSON_free(a);
	cJSON_free(b);
	cJSON_Delete(again);
}

/* Take the dirty set as the server does, check it, and drop it.  Returns
 * the number of changes. */
static size_t check_dirty(void)
{
	size_t n;
	struct model_change *ch = model_take_dirty(&fz.m, &n);
	for (size_t i = 0; i < n; i++) {
		if (!ch[i].obj) {
			FUZZ_CHECK(ch[i].del_id && *ch[i].del_id, "deletion without id");
			continue;
		}
		FUZZ_CHECK(!ch[i].del_id, "write with a deletion id");
		FUZZ_CHECK(live(ch[i].kind, ch[i].obj), "dirty set holds a dead object (kind %d)",
			   (int)ch[i].kind);
		for (size_t k = 0; k < i; k++)
			FUZZ_CHECK(ch[k].obj != ch[i].obj, "object twice in the dirty set");
		if (ch[i].kind == MODEL_CLUSTER) {
			const struct cluster *cl = ch[i].obj;
			check_cluster(model_region_find(&fz.m, cl->region), cl);
			cJSON *rec = codec_cluster(ch[i].obj, CODEC_RECORD);
			struct cluster *c = codec_cluster_from_record(rec);
			FUZZ_CHECK(c != NULL, "cluster record does not load");
			check_round_trip(rec, c, NULL);
			cluster_free(c);
			cJSON_Delete(rec);
		} else if (ch[i].kind == MODEL_CP) {
			const struct capacity_provider *p = ch[i].obj;
			check_cp(model_region_find(&fz.m, p->region), p);
			cJSON *rec = codec_cp(ch[i].obj, CODEC_RECORD);
			struct capacity_provider *cp = codec_cp_from_record(rec);
			FUZZ_CHECK(cp != NULL, "capacity provider record does not load");
			check_round_trip(rec, NULL, cp);
			cp_free(cp);
			cJSON_Delete(rec);
		} else if (ch[i].kind == MODEL_SERVICE) {
			const struct service *s = ch[i].obj;
			FUZZ_CHECK(s->n_deps && s->primary < s->n_deps, "service %s without its PRIMARY", s->name);
			FUZZ_CHECK(s->n_events <= SVC_EVENTS_MAX, "service %s has %zu events", s->name, s->n_events);
			cJSON *rec = codec_svc(&fz.m, s, CODEC_RECORD);
			FUZZ_CHECK(rec != NULL, "service record");
			cJSON_Delete(rec);
		}
	}
	model_changes_free(ch, n);
	return n;
}

/* ---- one request ---- */

static void one_request(const uint8_t *data, size_t size)
{
	if (size == 0)
		return;
	uint8_t b0 = data[0], b1 = size > 1 ? data[1] : 0;
	const char *name = actions[(uint8_t)(b0 - 'A') % N_ACTIONS];
	size_t body_len = size > 2 ? size - 2 : 0;

	fz.now += FUZZ_TICK_MS;
	if (b1 & 0x40)
		fz.now += fz.cfg.cluster_retention_ms + fz.cfg.cp_retention_ms;
	bool advanced = false;
	if ((b1 & 0x08) || (fz.wake_at && fz.wake_at <= fz.now)) {
		advance();
		advanced = true;
	}

	struct http_req r;
	memset(&r, 0, sizeof r);
	r.method = "POST";
	r.path = "/";
	char *target = NULL;
	if (name)
		target = name[0] == '!' ? xstrdup(name + 1) : xasprintf("%s%s", ECS_PREFIX, name);
	r.target = target;
	r.auth = (char *)auths[b1 & 7];
	r.ctype = "application/x-amz-json-1.1";
	/* An exact-size heap copy, so a read past the body is caught. */
	r.body = xmalloc(body_len);
	if (body_len)
		memcpy(r.body, data + 2, body_len);
	r.len = body_len;
	snprintf(r.request_id, sizeof r.request_id, "00000000-0000-4000-8000-000000000000");

	struct api_ctx ctx = {
		.m = &fz.m, .cfg = &fz.cfg, .region = FUZZ_REGION, .now = fz.now, .rng = &fz.rng,
		.driver = &driver_sim_ops,
	};
	int code = awsjson_call(&ctx, &r);
	if (fz.trace)
		fprintf(stderr, "%s %d %s\n", name ? name : "(none)", r.status, r.resp ? r.resp : "");
	check_answer(&r, code);
	wake(ctx.wake_at);
	/* The whole model is walked now and then, and only after a change: a
	 * request that changes nothing leaves it as the last check saw it. */
	if ((check_dirty() || advanced) && ++fz.changes % FUZZ_FULL_CHECK_EVERY == 0)
		check_model();

	free(r.resp);
	free(r.body);
	free(target);
	fz.reqs++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!fz.ready || fz.reqs >= FUZZ_RESET_EVERY || model_objects(&fz.m) > FUZZ_MAX_OBJECTS)
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
