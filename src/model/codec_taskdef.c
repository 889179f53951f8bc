/* codec_taskdef: task definitions as ECS answers them and as the store
 * keeps them.
 *
 * td->body is the taskDefinition object minus the members that change
 * (status, deregisteredAt, deleteRequestedAt).  A record is the full
 * object plus berthRegion and berthTags.  The scheduling fields of struct
 * task_def (sizes, network mode, containers, ports, constraints) are
 * derived from the body here and nowhere else: RegisterTaskDefinition
 * builds a record and comes through codec_td_from_record as a start does.
 *
 * Simulation labels (dockerLabels of a container):
 *   berth.sim.runtime    how long the container runs: "500ms", "30s", "2m",
 *                        "1h" or a bare number of seconds ("30", "0.5");
 *                        absent: until stopped (-1).  An unreadable value
 *                        also gives -1 (RegisterTaskDefinition refuses it).
 *   berth.sim.exit-code  the exit code it then reports (default 0).
 *   berth.sim.health     with a healthCheck: HEALTHY (default) or UNHEALTHY, the
 *                        result its checks report one lifecycle step (plus the
 *                        check's startPeriod) after the task is RUNNING. */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/xalloc.h"
#include "model/codec.h"

/* ---- writing ---- */

static void put_time_if(cJSON *o, const char *key, int64_t ms)
{
	if (ms)
		codec_put_time(o, key, ms);
}

cJSON *codec_td(const struct task_def *td, unsigned include)
{
	cJSON *o = cJSON_CreateObject();
	bool status_put = false;
	for (const cJSON *c = td->body ? td->body->child : NULL; c; c = c->next) {
		cJSON_AddItemToObject(o, c->string, cJSON_Duplicate(c, 1));
		/* ECS's own member order: status after volumes, the
		 * lifecycle times after registeredAt. */
		if (strcmp(c->string, "volumes") == 0) {
			codec_put_str(o, "status", td_status_name(td->status));
			status_put = true;
		} else if (strcmp(c->string, "registeredAt") == 0) {
			put_time_if(o, "deregisteredAt", td->deregistered_at);
			put_time_if(o, "deleteRequestedAt", td->delete_requested_at);
		}
	}
	if (!status_put)
		codec_put_str(o, "status", td_status_name(td->status));
	if (include & CODEC_RECORD) {
		codec_put_str(o, "berthRegion", td->region);
		if (td->tags.n)
			cJSON_AddItemToObjectCS(o, "berthTags", codec_tags(&td->tags));
	}
	return o;
}

char *codec_td_record_id(const struct task_def *td)
{
	return xasprintf("%s/%s:%d", td->region, td->family, td->revision);
}

/* ---- reading ---- */

static enum td_status status_parse(const char *s)
{
	if (s && strcmp(s, "INACTIVE") == 0)
		return TD_INACTIVE;
	if (s && strcmp(s, "DELETE_IN_PROGRESS") == 0)
		return TD_DELETE_IN_PROGRESS;
	return TD_ACTIVE;
}

/* The record minus the members that are not part of the body. */
static cJSON *body_of(const cJSON *j)
{
	cJSON *b = cJSON_Duplicate(j, 1);
	static const char *const changing[] = {"status", "deregisteredAt", "deleteRequestedAt"};
	for (size_t i = 0; i < sizeof changing / sizeof changing[0]; i++)
		cJSON_DeleteItemFromObjectCaseSensitive(b, changing[i]);
	for (cJSON *c = b->child; c;) {
		cJSON *next = c->next;
		if (strncmp(c->string, "berth", 5) == 0)
			cJSON_Delete(cJSON_DetachItemViaPointer(b, c));
		c = next;
	}
	return b;
}

/* A whole number in a string member ("1024"), 0 when absent. */
static int size_of(const cJSON *o, const char *name)
{
	const char *s = codec_str_of(o, name);
	return s ? atoi(s) : 0;
}

static unsigned compat_of(const cJSON *arr)
{
	static const struct {
		const char *name;
		unsigned bit;
	} names[] = {
		{"EC2", TD_COMPAT_EC2},
		{"FARGATE", TD_COMPAT_FARGATE},
		{"EXTERNAL", TD_COMPAT_EXTERNAL},
		{"MANAGED_INSTANCES", TD_COMPAT_MANAGED},
	};
	unsigned bits = 0;
	const cJSON *c;
	cJSON_ArrayForEach(c, arr)
	{
		for (size_t i = 0; cJSON_IsString(c) && i < sizeof names / sizeof names[0]; i++)
			if (strcmp(c->valuestring, names[i].name) == 0)
				bits |= names[i].bit;
	}
	return bits;
}

/* berth.sim.runtime in milliseconds, or -1 (absent or unreadable). */
static int64_t sim_runtime(const char *s)
{
	if (!s)
		return -1;
	int64_t whole = 0, frac = 0, scale = 1;
	const char *p = s;
	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		whole = whole * 10 + (*p - '0');
		if (whole > 1000000000)
			return -1;
	}
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p); p++) {
			if (scale >= 1000)
				return -1;
			frac = frac * 10 + (*p - '0');
			scale *= 10;
		}
	}
	int64_t unit_ms;
	if (strcmp(p, "ms") == 0)
		unit_ms = 1;
	else if (strcmp(p, "s") == 0 || *p == '\0')
		unit_ms = 1000;
	else if (strcmp(p, "m") == 0)
		unit_ms = 60 * 1000;
	else if (strcmp(p, "h") == 0)
		unit_ms = 3600 * 1000;
	else
		return -1;
	return whole * unit_ms + frac * unit_ms / scale;
}

static int sim_exit_code(const char *s)
{
	if (!s)
		return 0;
	char *end;
	long v = strtol(s, &end, 10);
	return (*s && !*end && v >= INT_MIN && v <= INT_MAX) ? (int)v : 0;
}

static void ports_of(struct td_container *tc, const cJSON *maps)
{
	int n = cJSON_GetArraySize(maps);
	tc->ports = n > 0 ? xcalloc((size_t)n, sizeof *tc->ports) : NULL;
	const cJSON *pm;
	cJSON_ArrayForEach(pm, maps)
	{
		int cp = codec_int_of(pm, "containerPort", 0);
		if (cp <= 0)
			continue; /* a containerPortRange mapping: no fixed port */
		struct td_port *p = &tc->ports[tc->n_ports++];
		p->container_port = cp;
		p->host_port = codec_int_of(pm, "hostPort", 0);
		const char *proto = codec_str_of(pm, "protocol");
		p->udp = proto && strcmp(proto, "udp") == 0;
	}
}

static void container_of(struct td_container *tc, const cJSON *c)
{
	const char *name = codec_str_of(c, "name");
	tc->name = xstrdup(name ? name : "");
	const cJSON *ess = cJSON_GetObjectItemCaseSensitive(c, "essential");
	tc->essential = !cJSON_IsFalse(ess);
	tc->cpu = codec_int_of(c, "cpu", 0);
	tc->memory = codec_int_of(c, "memory", 0);
	tc->memory_reservation = codec_int_of(c, "memoryReservation", 0);
	tc->stop_timeout = codec_int_of(c, "stopTimeout", 0);
	ports_of(tc, cJSON_GetObjectItemCaseSensitive(c, "portMappings"));
	const cJSON *labels = cJSON_GetObjectItemCaseSensitive(c, "dockerLabels");
	tc->sim_runtime_ms = sim_runtime(codec_str_of(labels, "berth.sim.runtime"));
	tc->sim_exit_code = sim_exit_code(codec_str_of(labels, "berth.sim.exit-code"));
	const cJSON *hc = cJSON_GetObjectItemCaseSensitive(c, "healthCheck");
	tc->health_check = hc != NULL && !cJSON_IsNull(hc);
	tc->health_after_ms = (int64_t)codec_int_of(hc, "startPeriod", 0) * 1000;
	const char *sh = codec_str_of(labels, "berth.sim.health");
	tc->sim_health = sh && strcasecmp(sh, "UNHEALTHY") == 0 ? TASK_UNHEALTHY : TASK_HEALTHY;
}

static void constraints_of(struct task_def *td, const cJSON *arr)
{
	int n = cJSON_GetArraySize(arr);
	td->constraints = n > 0 ? xcalloc((size_t)n, sizeof *td->constraints) : NULL;
	const cJSON *pc;
	cJSON_ArrayForEach(pc, arr)
	{
		const char *type = codec_str_of(pc, "type");
		const char *x = codec_str_of(pc, "expression");
		if (type && strcmp(type, "memberOf") == 0 && x)
			td->constraints[td->n_constraints++] = xstrdup(x);
	}
}

/* The scheduling fields, from td->body. */
static void derive(struct task_def *td)
{
	const cJSON *b = td->body;
	td->cpu = size_of(b, "cpu");
	td->memory = size_of(b, "memory");
	const char *mode = codec_str_of(b, "networkMode");
	td->network_mode = xstrdup(mode ? mode : "bridge");
	td->compat = compat_of(cJSON_GetObjectItemCaseSensitive(b, "compatibilities"));
	const cJSON *defs = cJSON_GetObjectItemCaseSensitive(b, "containerDefinitions");
	int n = cJSON_GetArraySize(defs);
	td->containers = n > 0 ? xcalloc((size_t)n, sizeof *td->containers) : NULL;
	const cJSON *c;
	cJSON_ArrayForEach(c, defs)
	{
		container_of(&td->containers[td->n_containers++], c);
	}
	constraints_of(td, cJSON_GetObjectItemCaseSensitive(b, "placementConstraints"));
	td->registered_at = codec_time_of(b, "registeredAt");
}

struct task_def *codec_td_from_record(const cJSON *j)
{
	const char *family = codec_str_of(j, "family");
	const char *arn = codec_str_of(j, "taskDefinitionArn");
	const char *region = codec_str_of(j, "berthRegion");
	int revision = codec_int_of(j, "revision", 0);
	const cJSON *defs = cJSON_GetObjectItemCaseSensitive(j, "containerDefinitions");
	if (!cJSON_IsObject(j) || !family || !arn || !region || revision < 1 ||
	    !cJSON_IsArray(defs))
		return NULL;
	struct task_def *td = xcalloc(1, sizeof *td);
	td->region = xstrdup(region);
	td->family = xstrdup(family);
	td->arn = xstrdup(arn);
	td->revision = revision;
	td->status = status_parse(codec_str_of(j, "status"));
	td->deregistered_at = codec_time_of(j, "deregisteredAt");
	td->delete_requested_at = codec_time_of(j, "deleteRequestedAt");
	codec_tags_parse(&td->tags, cJSON_GetObjectItemCaseSensitive(j, "berthTags"));
	td->body = body_of(j);
	derive(td);
	return td;
}

cJSON *codec_family(const struct td_family *f)
{
	cJSON *o = cJSON_CreateObject();
	codec_put_str(o, "region", f->region);
	codec_put_str(o, "name", f->name);
	codec_put_int(o, "last", f->last);
	return o;
}
