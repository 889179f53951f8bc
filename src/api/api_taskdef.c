/* api_taskdef: the task definition actions: RegisterTaskDefinition,
 * DescribeTaskDefinition, ListTaskDefinitions, ListTaskDefinitionFamilies,
 * DeregisterTaskDefinition, DeleteTaskDefinitions, the purge of deleted
 * revisions, and api_td_resolve for the task actions.
 *
 * A registration is stored as the taskDefinition object ECS answers with:
 * the request's modelled members, ECS's defaults (essential, cpu 0, tcp,
 * the host port of awsvpc and host mappings, empty lists) and what ECS
 * computes (compatibilities, requiresAttributes, sizes as whole numbers).
 * The scheduling fields are derived from that object by the codec, so a
 * definition is the same struct after registration and after a restart.
 *
 * Invariants: revisions of a family are numbered from 1 and never reused
 * while berthd runs; f->active counts the ACTIVE revisions; a
 * DELETE_IN_PROGRESS revision is purged once no task refers to it and
 * transition_ms has passed since the request. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "api/validate.h"
#include "lib/xalloc.h"
#include "model/codec.h"
#include "sched/cql.h"

#define MAX_CONTAINERS 10      /* containers per task definition (ECS quota) */
#define MAX_CONSTRAINTS 10     /* placement constraints per task definition */
#define MAX_DELETE 10          /* DeleteTaskDefinitions references */
#define NOT_FOUND "Unable to describe task definition."

static int not_found(struct err *e)
{
	return err_set(e, ERR_CLIENT, NOT_FOUND);
}

static void add_num(cJSON *o, const char *key, double v)
{
	cJSON_AddItemToObjectCS(o, key, cJSON_CreateNumber(v));
}

/* ---- references: "family", "family:revision" or an ARN ---- */

struct td_ref {
	char family[256];
	int revision;               /* 0 when none was given */
	const char *rev_text;       /* the revision as given, or NULL */
};

enum ref_kind { REF_OK, REF_BAD, REF_BAD_REVISION };

static enum ref_kind parse_ref(struct api_ctx *ctx, const char *ref, struct td_ref *out)
{
	memset(out, 0, sizeof *out);
	const char *s = ref;
	if (strncmp(ref, "arn:", 4) == 0) {
		char *prefix = model_arn(ctx->m, ctx->region, "task-definition/");
		size_t pl = strlen(prefix);
		bool ours = strncmp(ref, prefix, pl) == 0;
		free(prefix);
		if (!ours)
			return REF_BAD;
		s = ref + pl;
	}
	const char *colon = strchr(s, ':');
	size_t fl = colon ? (size_t)(colon - s) : strlen(s);
	if (fl == 0 || fl >= sizeof out->family)
		return REF_BAD;
	memcpy(out->family, s, fl);
	if (!api_valid_name(out->family))
		return REF_BAD;
	if (!colon)
		return REF_OK;
	/* Not a number: refused as such; a number no revision has (0, too
	 * large): simply not found. */
	out->rev_text = colon + 1;
	long v = 0;
	const char *p = colon + 1;
	for (; isdigit((unsigned char)*p); p++)
		v = v > 1000000000 ? v : v * 10 + (*p - '0');
	if (p == colon + 1 || *p)
		return REF_BAD_REVISION;
	if (v < 1 || v > 1000000000)
		return REF_BAD;
	out->revision = (int)v;
	return REF_OK;
}

/* The definition ref names, any status: a family alone is its latest
 * ACTIVE revision.  need_revision: a family alone is refused. */
static int td_lookup(struct api_ctx *ctx, const char *ref, bool need_revision,
		     struct task_def **out, struct err *e)
{
	struct td_ref tr;
	enum ref_kind k = ref ? parse_ref(ctx, ref, &tr) : REF_BAD;
	if (k == REF_BAD_REVISION)
		return err_set(e, ERR_INVALID_PARAMETER,
			       "Invalid revision number. Number: %s", tr.rev_text);
	if (k == REF_BAD)
		return not_found(e);
	if (!tr.revision && need_revision)
		return err_set(e, ERR_CLIENT, "Revision is missing.");
	struct region *r = model_region_find(ctx->m, ctx->region);
	struct task_def *td = !r ? NULL
			      : tr.revision ? model_td_find(r, tr.family, tr.revision)
					    : model_td_latest(r, tr.family);
	if (!td)
		return not_found(e);
	*out = td;
	return 0;
}

int api_td_resolve(struct api_ctx *ctx, const char *ref, struct task_def **out, struct err *e)
{
	struct task_def *td;
	if (td_lookup(ctx, ref, false, &td, e))
		return -1;
	/* An INACTIVE revision named explicitly still runs, as in ECS; one
	 * being deleted does not. */
	if (td->status == TD_DELETE_IN_PROGRESS)
		return err_set(e, ERR_CLIENT,
			       "The task definition %s:%d is being deleted and cannot be used. Specify a valid task definition and try again.",
			       td->family, td->revision);
	*out = td;
	return 0;
}

/* ---- RegisterTaskDefinition: reading the request ---- */

/* What the checks share. */
struct reg {
	const cJSON *in;
	const char *family;
	const char *mode;           /* networkMode, "bridge" when absent */
	long cpu, memory;           /* task level, whole numbers; 0 when absent */
	unsigned required;          /* TD_COMPAT_* of requiresCompatibilities */
	const cJSON *defs;          /* containerDefinitions */
};

/* A task size: a whole number, or a number of `unit` (case-insensitive,
 * blanks allowed before it) counted as 1024 each: "1024", "1 vCPU",
 * "0.25 vcpu", "2GB", "0.5 GB".  Returns the whole number, or -1. */
static long parse_size(const char *s, const char *unit)
{
	while (isspace((unsigned char)*s))
		s++;
	long whole = 0, frac = 0, scale = 1;
	const char *p = s;
	for (; isdigit((unsigned char)*p); p++)
		if ((whole = whole * 10 + (*p - '0')) > 10000000)
			return -1;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++) {
			if (scale >= 1000)
				return -1;
			frac = frac * 10 + (*p - '0');
			scale *= 10;
		}
	if (p == s || (p == s + 1 && *s == '.'))
		return -1; /* no digit */
	while (isspace((unsigned char)*p))
		p++;
	if (!*p)
		return scale == 1 ? whole : -1;
	size_t ul = strlen(unit);
	if (strncasecmp(p, unit, ul) != 0)
		return -1;
	for (p += ul; isspace((unsigned char)*p);)
		p++;
	long n = whole * 1024 * scale + frac * 1024;
	return *p || n % scale ? -1 : n / scale;
}

static int read_sizes(struct reg *g, struct err *e)
{
	const char *cpu = api_str(g->in, "cpu");
	const char *mem = api_str(g->in, "memory");
	if (cpu) {
		g->cpu = parse_size(cpu, "vcpu");
		/* EC2 accepts 128 (0.125 vCPU) to 196608 (192 vCPU). */
		if (g->cpu < 128 || g->cpu > 196608)
			return err_set(e, ERR_CLIENT,
				       "Invalid 'cpu' setting for task. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.");
	}
	if (mem) {
		g->memory = parse_size(mem, "gb");
		if (g->memory < 1)
			return err_set(e, ERR_CLIENT,
				       "Invalid 'memory' setting for task. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.");
	}
	return 0;
}

static unsigned compat_bits(const cJSON *arr)
{
	unsigned bits = 0;
	const cJSON *c;
	cJSON_ArrayForEach(c, arr)
	{
		const char *s = c->valuestring;
		bits |= strcmp(s, "EC2") == 0 ? TD_COMPAT_EC2
			: strcmp(s, "FARGATE") == 0 ? TD_COMPAT_FARGATE
			: strcmp(s, "EXTERNAL") == 0 ? TD_COMPAT_EXTERNAL
						     : TD_COMPAT_MANAGED;
	}
	return bits;
}

static int read_request(struct reg *g, const cJSON *in, struct err *e)
{
	memset(g, 0, sizeof *g);
	g->in = in;
	g->family = api_str(in, "family");
	if (!g->family || !api_valid_name(g->family))
		return err_set(e, ERR_CLIENT,
			       "Family contains invalid characters. Up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens are allowed.");
	const cJSON *tags = api_get(in, "tags");
	/* An empty list is refused (the Terraform provider leaves tags out
	 * rather than send one: "ClientException: Tags can not be empty."). */
	if (tags && cJSON_GetArraySize(tags) == 0)
		return err_set(e, ERR_CLIENT, "Tags can not be empty.");
	if (api_tags_check(tags, 0, e))
		return -1;
	const char *mode = api_str(in, "networkMode");
	g->mode = mode ? mode : "bridge";
	g->required = compat_bits(api_get(in, "requiresCompatibilities"));
	g->defs = api_get(in, "containerDefinitions");
	return read_sizes(g, e);
}

/* ---- RegisterTaskDefinition: the checks ---- */

static bool mode_is(const struct reg *g, const char *mode)
{
	return strcmp(g->mode, mode) == 0;
}

/* Fargate's task sizes [M:RegisterTaskDefinitionRequest.memory]. */
static bool fargate_size_ok(long cpu, long mem)
{
	static const struct {
		long cpu, lo, hi, step;
	} sizes[] = {
		{256, 512, 512, 1}, {256, 1024, 2048, 1024}, {512, 1024, 4096, 1024},
		{1024, 2048, 8192, 1024}, {2048, 4096, 16384, 1024}, {4096, 8192, 30720, 1024},
		{8192, 16384, 61440, 4096}, {16384, 32768, 122880, 8192},
	};
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
		if (sizes[i].cpu == cpu && mem >= sizes[i].lo && mem <= sizes[i].hi &&
		    (mem - sizes[i].lo) % sizes[i].step == 0)
			return true;
	return false;
}

static int check_fargate(const struct reg *g, struct err *e)
{
	if (!(g->required & TD_COMPAT_FARGATE))
		return 0;
	if (!mode_is(g, "awsvpc"))
		return err_set(e, ERR_CLIENT,
			       "Fargate only supports network mode \u2018awsvpc\u2019.");
	if (!g->cpu)
		return err_set(e, ERR_CLIENT,
			       "Fargate requires that 'cpu' be defined at the task level.");
	if (!g->memory)
		return err_set(e, ERR_CLIENT,
			       "Fargate requires that 'memory' be defined at the task level.");
	if (!fargate_size_ok(g->cpu, g->memory))
		return err_set(e, ERR_CLIENT,
			       "No Fargate configuration exists for given values: %ld CPU, %ld memory. See the Amazon ECS documentation for the valid values.",
			       g->cpu, g->memory);
	const char *pid = api_str(g->in, "pidMode");
	if (pid && strcmp(pid, "task") != 0)
		return err_set(e, ERR_CLIENT,
			       "Tasks using the Fargate launch type do not support pidMode '%s'. The supported value for pidMode is 'task'.",
			       pid);
	if (cJSON_GetArraySize(api_get(g->in, "placementConstraints")) > 0)
		return err_set(e, ERR_CLIENT,
			       "Task definition placement constraints are not supported for the Fargate launch type.");
	return 0;
}

static int check_external(const struct reg *g, struct err *e)
{
	if ((g->required & TD_COMPAT_EXTERNAL) && mode_is(g, "awsvpc"))
		return err_set(e, ERR_CLIENT,
			       "Tasks using the EXTERNAL launch type do not support network mode 'awsvpc'.");
	return 0;
}

static int check_container_names(const struct reg *g, struct err *e)
{
	int n = cJSON_GetArraySize(g->defs);
	if (n == 0)
		return err_set(e, ERR_CLIENT, "Container list cannot be empty.");
	if (n > MAX_CONTAINERS)
		return err_set(e, ERR_CLIENT, "Too many containers.");
	const cJSON *c;
	cJSON_ArrayForEach(c, g->defs)
	{
		const char *name = api_str(c, "name");
		const char *image = api_str(c, "image");
		if (!name || !*name)
			return err_set(e, ERR_CLIENT,
				       "Container.name should not be null or empty.");
		if (!api_valid_name(name))
			return err_set(e, ERR_CLIENT,
				       "Container.name contains invalid characters.");
		if (!image || !*image)
			return err_set(e, ERR_CLIENT,
				       "Container.image should not be null or empty.");
		for (const cJSON *d = g->defs->child; d != c; d = d->next)
			if (strcmp(api_str(d, "name"), name) == 0)
				return err_set(e, ERR_CLIENT,
					       "Container names must be unique within a Task Definition.");
	}
	return 0;
}

/* A positive integer member, or 0 when absent; -1 when present and not
 * positive. */
static int positive(const cJSON *c, const char *name)
{
	if (!api_get(c, name))
		return 0;
	int v = api_int(c, name, 0);
	return v > 0 ? v : -1;
}

static int check_memory(const struct reg *g, struct err *e)
{
	long reserved = 0;
	const cJSON *c;
	cJSON_ArrayForEach(c, g->defs)
	{
		const char *name = api_str(c, "name");
		int mem = positive(c, "memory"), res = positive(c, "memoryReservation");
		if (mem < 0 || res < 0)
			return err_set(e, ERR_CLIENT, "Invalid '%s' setting for container '%s'.",
				       mem < 0 ? "memory" : "memoryReservation", name);
		if (!mem && !res && !g->memory)
			return err_set(e, ERR_CLIENT,
				       "Invalid setting for container '%s'. At least one of 'memory' or 'memoryReservation' must be specified.",
				       name);
		if (mem && res > mem)
			return err_set(e, ERR_CLIENT,
				       "Invalid setting for container '%s'. 'memoryReservation' must be less than or equal to 'memory'.",
				       name);
		if (g->memory && mem > g->memory)
			return err_set(e, ERR_CLIENT,
				       "The 'memory' setting for container '%s' is greater than for the task.",
				       name);
		reserved += res;
	}
	if (g->memory && reserved > g->memory)
		return err_set(e, ERR_CLIENT,
			       "The sum of all container 'memoryReservation' values cannot be greater than the value of the task 'memory'.");
	return 0;
}

static int check_cpu(const struct reg *g, struct err *e)
{
	long sum = 0;
	const cJSON *c;
	cJSON_ArrayForEach(c, g->defs)
	{
		int cpu = api_int(c, "cpu", 0);
		if (cpu < 0)
			return err_set(e, ERR_CLIENT,
				       "Invalid 'cpu' setting for container '%s'.",
				       api_str(c, "name"));
		sum += cpu;
	}
	if (g->cpu && sum > g->cpu)
		return err_set(e, ERR_CLIENT,
			       "The sum of all container 'cpu' values cannot be greater than the value of the task 'cpu'.");
	return 0;
}

/* The host port a mapping holds: awsvpc and host map the container port
 * itself, bridge a fixed port or (0) a dynamic one. */
static int host_port_of(const struct reg *g, const cJSON *pm)
{
	int cp = api_int(pm, "containerPort", 0);
	int hp = api_int(pm, "hostPort", 0);
	return mode_is(g, "bridge") ? hp : cp;
}

static int check_mapping(const struct reg *g, const char *name, const cJSON *pm, struct err *e)
{
	bool ranged = api_get(pm, "containerPortRange") && !api_get(pm, "containerPort");
	int cp = api_int(pm, "containerPort", 0);
	int hp = api_int(pm, "hostPort", 0);
	if (!ranged && (cp < 1 || cp > 65535))
		return err_set(e, ERR_CLIENT,
			       "Invalid 'containerPort' setting for container '%s'.", name);
	if (hp < 0 || hp > 65535)
		return err_set(e, ERR_CLIENT,
			       "Invalid 'hostPort' setting for container '%s'.", name);
	if (!mode_is(g, "bridge") && hp && hp != cp)
		return err_set(e, ERR_CLIENT,
			       "When networkMode=%s, the host ports and container ports in port mappings must match.",
			       g->mode);
	return 0;
}

/* Each fixed host port (per protocol) at most once in the task. */
static int check_port_reuse(const struct reg *g, const cJSON *c0, const cJSON *pm0, struct err *e)
{
	int hp = host_port_of(g, pm0);
	const char *proto = api_str(pm0, "protocol");
	bool udp = proto && strcmp(proto, "udp") == 0;
	if (!hp)
		return 0;
	for (const cJSON *c = g->defs->child; c; c = c->next) {
		const cJSON *pm;
		cJSON_ArrayForEach(pm, api_get(c, "portMappings"))
		{
			if (c == c0 && pm == pm0)
				return 0;
			const char *p2 = api_str(pm, "protocol");
			if (host_port_of(g, pm) == hp && udp == (p2 && strcmp(p2, "udp") == 0))
				return err_set(e, ERR_CLIENT,
					       "%s host port '%d' is mapped multiple times in task.",
					       udp ? "UDP" : "TCP", hp);
		}
	}
	return 0;
}

static int check_ports(const struct reg *g, struct err *e)
{
	const cJSON *c;
	cJSON_ArrayForEach(c, g->defs)
	{
		const cJSON *maps = api_get(c, "portMappings");
		if (cJSON_GetArraySize(maps) > 0 && mode_is(g, "none"))
			return err_set(e, ERR_CLIENT,
				       "Port mappings are not supported when networkMode=none (container '%s').",
				       api_str(c, "name"));
		const cJSON *pm;
		cJSON_ArrayForEach(pm, maps)
		{
			if (check_mapping(g, api_str(c, "name"), pm, e) ||
			    check_port_reuse(g, c, pm, e))
				return -1;
		}
	}
	return 0;
}

static const cJSON *container_named(const struct reg *g, const char *name)
{
	const cJSON *c;
	cJSON_ArrayForEach(c, g->defs)
	{
		if (strcmp(api_str(c, "name"), name) == 0)
			return c;
	}
	return NULL;
}

static int check_depends(const struct reg *g, struct err *e)
{
	const cJSON *c;
	cJSON_ArrayForEach(c, g->defs)
	{
		const char *name = api_str(c, "name");
		const cJSON *d;
		cJSON_ArrayForEach(d, api_get(c, "dependsOn"))
		{
			const char *on = api_str(d, "containerName");
			if (!on || !container_named(g, on) || strcmp(on, name) == 0)
				return err_set(e, ERR_CLIENT,
					       "Invalid dependsOn for container '%s': '%s' is not another container of this task definition.",
					       name, on ? on : "");
		}
	}
	return 0;
}

static int check_essential(const struct reg *g, struct err *e)
{
	const cJSON *c;
	cJSON_ArrayForEach(c, g->defs)
	{
		if (!cJSON_IsFalse(api_get(c, "essential")))
			return 0;
	}
	return err_set(e, ERR_CLIENT,
		       "A task definition must have at least one essential container.");
}

static int check_exit_codes(const struct reg *g, struct err *e)
{
	const cJSON *c;
	cJSON_ArrayForEach(c, g->defs)
	{
		const char *v = api_str(api_get(c, "dockerLabels"), "berth.sim.exit-code");
		char *end;
		long code = v ? strtol(v, &end, 10) : 0;
		if (v && (!*v || *end || code < 0 || code > 255))
			return err_set(e, ERR_CLIENT,
				       "Invalid dockerLabels 'berth.sim.exit-code' value '%s' for container '%s': an exit code 0-255 is expected.",
				       v, api_str(c, "name"));
		const char *h = api_str(api_get(c, "dockerLabels"), "berth.sim.health");
		if (h && strcasecmp(h, "HEALTHY") != 0 && strcasecmp(h, "UNHEALTHY") != 0)
			return err_set(e, ERR_CLIENT,
				       "Invalid dockerLabels 'berth.sim.health' value '%s' for container '%s': HEALTHY or UNHEALTHY is expected.",
				       h, api_str(c, "name"));
	}
	return 0;
}

static int check_constraints(const struct reg *g, struct err *e)
{
	const cJSON *pcs = api_get(g->in, "placementConstraints");
	if (cJSON_GetArraySize(pcs) > MAX_CONSTRAINTS)
		return err_set(e, ERR_INVALID_PARAMETER,
			       "A task definition can have at most %d placement constraints.",
			       MAX_CONSTRAINTS);
	const cJSON *pc;
	cJSON_ArrayForEach(pc, pcs)
	{
		const char *x = api_str(pc, "expression");
		if (!x || !*x)
			return err_set(e, ERR_INVALID_PARAMETER,
				       "A memberOf placement constraint requires an expression.");
		struct err sub = {0};
		struct cql_expr *q = cql_parse(x, &sub);
		if (!q)
			return err_set(e, ERR_INVALID_PARAMETER,
				       "Invalid memberOf expression: %s", sub.msg);
		cql_free(q);
	}
	return 0;
}

static int check_request(const struct reg *g, struct err *e)
{
	return check_container_names(g, e) || check_fargate(g, e) || check_external(g, e) ||
	       check_memory(g, e) || check_cpu(g, e) || check_ports(g, e) || check_depends(g, e) ||
	       check_essential(g, e) || check_exit_codes(g, e) || check_constraints(g, e);
}

/* berth.sim.runtime: the codec reads it; a label it could not read is
 * refused here (td is the registration, not yet indexed). */
static int check_runtimes(const struct task_def *td, struct err *e)
{
	const cJSON *defs = cJSON_GetObjectItemCaseSensitive(td->body, "containerDefinitions");
	size_t i = 0;
	const cJSON *c;
	cJSON_ArrayForEach(c, defs)
	{
		const char *v = api_str(api_get(c, "dockerLabels"), "berth.sim.runtime");
		if (v && i < td->n_containers && td->containers[i].sim_runtime_ms < 0)
			return err_set(e, ERR_CLIENT,
				       "Invalid dockerLabels 'berth.sim.runtime' value '%s' for container '%s': a number of seconds or a duration such as 500ms, 30s, 2m or 1h is expected.",
				       v, api_str(c, "name"));
		i++;
	}
	return 0;
}

/* ---- RegisterTaskDefinition: the answer ---- */

/* A copy of v holding only what the ECS model's shape has: members it
 * does not know, and nulls, are left out at every depth, so nothing a
 * client made up is stored and echoed.  v was validated against shape. */
static cJSON *model_copy(unsigned shape, const cJSON *v)
{
	const struct vmodel *m = &validate_model_ecs;
	const struct vshape *s = &m->shapes[shape];
	if (s->type == VT_STRUCTURE && cJSON_IsObject(v)) {
		cJSON *o = cJSON_CreateObject();
		for (const cJSON *c = v->child; c; c = c->next) {
			const struct vmember *mem = validate_find_member(m, shape, c->string);
			if (mem && !cJSON_IsNull(c))
				cJSON_AddItemToObject(o, c->string, model_copy(mem->shape, c));
		}
		return o;
	}
	if ((s->type == VT_LIST && cJSON_IsArray(v)) || (s->type == VT_MAP && cJSON_IsObject(v))) {
		cJSON *o = cJSON_IsArray(v) ? cJSON_CreateArray() : cJSON_CreateObject();
		for (const cJSON *c = v->child; c; c = c->next) {
			cJSON *item = model_copy(s->type == VT_LIST ? s->item : s->value, c);
			if (cJSON_IsArray(v))
				cJSON_AddItemToArray(o, item);
			else
				cJSON_AddItemToObject(o, c->string, item);
		}
		return o;
	}
	return cJSON_Duplicate(v, 1);
}

static cJSON *request_copy(const cJSON *in)
{
	const struct vop *op = validate_find_op(&validate_model_ecs, "RegisterTaskDefinition");
	return model_copy(op->input, in);
}

/* Add member key from src (moved), or dflt (taken) when src has none. */
static void take(cJSON *o, cJSON *src, const char *key, cJSON *dflt)
{
	cJSON *v = cJSON_DetachItemFromObjectCaseSensitive(src, key);
	if (!v)
		v = dflt;
	else
		cJSON_Delete(dflt);
	if (v)
		cJSON_AddItemToObjectCS(o, key, v);
}

static void default_member(cJSON *o, const char *key, cJSON *v)
{
	if (cJSON_HasObjectItem(o, key))
		cJSON_Delete(v);
	else
		cJSON_AddItemToObjectCS(o, key, v);
}

static void normalize_mapping(const struct reg *g, cJSON *pm)
{
	default_member(pm, "protocol", cJSON_CreateString("tcp"));
	if (!cJSON_HasObjectItem(pm, "containerPort"))
		return; /* a containerPortRange: ECS assigns the host ports */
	int hp = host_port_of(g, pm);
	if (cJSON_HasObjectItem(pm, "hostPort"))
		cJSON_ReplaceItemInObjectCaseSensitive(pm, "hostPort", cJSON_CreateNumber(hp));
	else
		cJSON_AddItemToObjectCS(pm, "hostPort", cJSON_CreateNumber(hp));
}

/* ECS's defaults in a container definition. */
static void normalize_container(const struct reg *g, cJSON *c)
{
	default_member(c, "cpu", cJSON_CreateNumber(0));
	default_member(c, "portMappings", cJSON_CreateArray());
	cJSON *pm;
	cJSON_ArrayForEach(pm, cJSON_GetObjectItemCaseSensitive(c, "portMappings"))
	{
		normalize_mapping(g, pm);
	}
	default_member(c, "essential", cJSON_CreateTrue());
	default_member(c, "environment", cJSON_CreateArray());
	default_member(c, "mountPoints", cJSON_CreateArray());
	default_member(c, "volumesFrom", cJSON_CreateArray());
}

/* What ECS computes from the definition: the launch types it can run
 * on.  EC2 always; EXTERNAL (ECS Anywhere) without awsvpc; FARGATE with
 * awsvpc, a Fargate task size, no placement constraints and no host pid
 * namespace; MANAGED_INSTANCES when asked for. */
static cJSON *compatibilities(const struct reg *g)
{
	const char *pid = api_str(g->in, "pidMode");
	bool fargate = mode_is(g, "awsvpc") && fargate_size_ok(g->cpu, g->memory) &&
		       cJSON_GetArraySize(api_get(g->in, "placementConstraints")) == 0 &&
		       (!pid || strcmp(pid, "task") == 0);
	cJSON *a = cJSON_CreateArray();
	if (!mode_is(g, "awsvpc"))
		cJSON_AddItemToArray(a, cJSON_CreateString("EXTERNAL"));
	cJSON_AddItemToArray(a, cJSON_CreateString("EC2"));
	if (fargate)
		cJSON_AddItemToArray(a, cJSON_CreateString("FARGATE"));
	if (g->required & TD_COMPAT_MANAGED)
		cJSON_AddItemToArray(a, cJSON_CreateString("MANAGED_INSTANCES"));
	return a;
}

static void add_attribute(cJSON *a, const char *name)
{
	const cJSON *x;
	cJSON_ArrayForEach(x, a)
	{
		if (strcmp(cJSON_GetObjectItemCaseSensitive(x, "name")->valuestring, name) == 0)
			return;
	}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "name", cJSON_CreateString(name));
	cJSON_AddItemToArray(a, o);
}

/* The container instance attributes the definition needs, as the agent
 * names its capabilities (a modest subset of what ECS derives). */
static cJSON *required_attributes(const struct reg *g)
{
	cJSON *a = cJSON_CreateArray();
	const cJSON *c;
	cJSON_ArrayForEach(c, g->defs)
	{
		if (api_get(c, "dockerLabels"))
			add_attribute(a, "com.amazonaws.ecs.capability.docker-remote-api.1.18");
		if (api_get(c, "memoryReservation"))
			add_attribute(a, "com.amazonaws.ecs.capability.docker-remote-api.1.21");
		if (cJSON_GetArraySize(api_get(c, "dependsOn")) > 0)
			add_attribute(a, "ecs.capability.container-ordering");
		const char *drv = api_str(api_get(c, "logConfiguration"), "logDriver");
		if (drv) {
			char buf[128];
			snprintf(buf, sizeof buf, "com.amazonaws.ecs.capability.logging-driver.%s",
				 drv);
			add_attribute(a, buf);
		}
	}
	if (api_get(g->in, "taskRoleArn"))
		add_attribute(a, "com.amazonaws.ecs.capability.task-iam-role");
	if (mode_is(g, "awsvpc"))
		add_attribute(a, "ecs.capability.task-eni");
	return a;
}

static cJSON *size_string(long v)
{
	char buf[24];
	snprintf(buf, sizeof buf, "%ld", v);
	return cJSON_CreateString(buf);
}

/* The record of the registration: the taskDefinition object in ECS's
 * member order, plus berthRegion and berthTags. */
static cJSON *registration(struct api_ctx *ctx, const struct reg *g, int revision)
{
	cJSON *req = request_copy(g->in);
	cJSON *o = cJSON_CreateObject();
	char *res = xasprintf("task-definition/%s:%d", g->family, revision);
	char *arn = model_arn(ctx->m, ctx->region, res);
	codec_put_str(o, "taskDefinitionArn", arn);
	free(arn);
	free(res);
	cJSON *defs = cJSON_DetachItemFromObjectCaseSensitive(req, "containerDefinitions");
	cJSON *c;
	cJSON_ArrayForEach(c, defs)
	{
		normalize_container(g, c);
	}
	cJSON_AddItemToObjectCS(o, "containerDefinitions", defs);
	take(o, req, "family", NULL);
	take(o, req, "taskRoleArn", NULL);
	take(o, req, "executionRoleArn", NULL);
	take(o, req, "networkMode", NULL);
	add_num(o, "revision", revision);
	take(o, req, "volumes", cJSON_CreateArray());
	codec_put_str(o, "status", "ACTIVE");
	cJSON *attrs = required_attributes(g);
	if (cJSON_GetArraySize(attrs) > 0)
		cJSON_AddItemToObjectCS(o, "requiresAttributes", attrs);
	else
		cJSON_Delete(attrs);
	take(o, req, "placementConstraints", cJSON_CreateArray());
	cJSON_AddItemToObjectCS(o, "compatibilities", compatibilities(g));
	take(o, req, "runtimePlatform", NULL);
	const cJSON *rc = cJSON_GetObjectItemCaseSensitive(req, "requiresCompatibilities");
	if (cJSON_GetArraySize(rc) > 0)
		take(o, req, "requiresCompatibilities", NULL);
	if (g->cpu)
		cJSON_AddItemToObjectCS(o, "cpu", size_string(g->cpu));
	if (g->memory)
		cJSON_AddItemToObjectCS(o, "memory", size_string(g->memory));
	take(o, req, "inferenceAccelerators", NULL);
	take(o, req, "pidMode", NULL);
	take(o, req, "ipcMode", NULL);
	take(o, req, "proxyConfiguration", NULL);
	codec_put_time(o, "registeredAt", ctx->now);
	char *by = xasprintf("arn:%s:iam::%s:root", ctx->m->partition, ctx->m->account);
	codec_put_str(o, "registeredBy", by);
	free(by);
	take(o, req, "ephemeralStorage", NULL);
	take(o, req, "enableFaultInjection", NULL);
	codec_put_str(o, "berthRegion", ctx->region);
	struct kvlist tags = {0};
	codec_tags_parse(&tags, api_get(g->in, "tags"));
	if (tags.n)
		cJSON_AddItemToObjectCS(o, "berthTags", codec_tags(&tags));
	kvlist_release(&tags);
	cJSON_Delete(req);
	return o;
}

static int next_revision(struct api_ctx *ctx, const char *family)
{
	struct region *r = model_region_find(ctx->m, ctx->region);
	struct td_family *f = r ? model_family_find(r, family) : NULL;
	return f ? f->last + 1 : 1;
}

int api_register_task_definition(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	struct reg g;
	if (read_request(&g, in, e) || check_request(&g, e))
		return -1;
	cJSON *rec = registration(ctx, &g, next_revision(ctx, g.family));
	struct task_def *td = codec_td_from_record(rec);
	cJSON_Delete(rec);
	if (!td)
		return err_set(e, ERR_SERVER, "The task definition could not be built.");
	if (check_runtimes(td, e)) {
		td_free(td);
		return -1;
	}
	model_td_add(ctx->m, model_region(ctx->m, ctx->region), td);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "taskDefinition", codec_td(td, 0));
	if (td->tags.n)
		cJSON_AddItemToObject(o, "tags", codec_tags(&td->tags));
	*out = o;
	return 0;
}

/* ---- DescribeTaskDefinition ---- */

static bool includes(const cJSON *in, const char *what)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, api_get(in, "include"))
	{
		if (cJSON_IsString(it) && strcmp(it->valuestring, what) == 0)
			return true;
	}
	return false;
}

int api_describe_task_definition(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	struct task_def *td;
	if (td_lookup(ctx, api_str(in, "taskDefinition"), false, &td, e))
		return -1;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "taskDefinition", codec_td(td, 0));
	if (includes(in, "TAGS"))
		cJSON_AddItemToObject(o, "tags", codec_tags(&td->tags));
	*out = o;
	return 0;
}

/* ---- DeregisterTaskDefinition ---- */

static void set_inactive(struct api_ctx *ctx, struct task_def *td)
{
	struct region *r = model_region(ctx->m, ctx->region);
	struct td_family *f = model_family_find(r, td->family);
	if (f && td->status == TD_ACTIVE)
		f->active--;
	td->status = TD_INACTIVE;
	td->deregistered_at = ctx->now;
	model_dirty_td(ctx->m, td);
}

int api_deregister_task_definition(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	struct task_def *td;
	if (td_lookup(ctx, api_str(in, "taskDefinition"), true, &td, e))
		return -1;
	/* Deregistering again (or one being deleted) changes nothing. */
	if (td->status == TD_ACTIVE)
		set_inactive(ctx, td);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "taskDefinition", codec_td(td, 0));
	*out = o;
	return 0;
}

/* ---- DeleteTaskDefinitions ---- */

static void add_failure(cJSON *failures, const char *arn, const char *reason)
{
	cJSON *f = cJSON_CreateObject();
	cJSON_AddItemToObject(f, "arn", cJSON_CreateString(arn));
	cJSON_AddItemToObject(f, "reason", cJSON_CreateString(reason));
	cJSON_AddItemToArray(failures, f);
}

/* One reference: the definition it deletes, or NULL with a failure. */
static struct task_def *delete_one(struct api_ctx *ctx, const char *ref, cJSON *failures)
{
	struct td_ref tr;
	if (parse_ref(ctx, ref, &tr) != REF_OK || !tr.revision) {
		add_failure(failures, ref,
			    "The specified task definition identifier is invalid. Specify a valid name or ARN and try again.");
		return NULL;
	}
	struct region *r = model_region_find(ctx->m, ctx->region);
	struct task_def *td = r ? model_td_find(r, tr.family, tr.revision) : NULL;
	char *res = xasprintf("task-definition/%s:%d", tr.family, tr.revision);
	char *arn = model_arn(ctx->m, ctx->region, res);
	free(res);
	if (!td)
		add_failure(failures, arn,
			    "The specified task definition does not exist. Specify a valid account, family, revision and try again.");
	else if (td->status == TD_ACTIVE)
		add_failure(failures, arn,
			    "The specified task definition is still in ACTIVE status. Please deregister the target and try again.");
	free(arn);
	return td && td->status != TD_ACTIVE ? td : NULL;
}

static void request_delete(struct api_ctx *ctx, struct task_def *td)
{
	if (td->status == TD_DELETE_IN_PROGRESS)
		return; /* asked again: the first request stands */
	td->status = TD_DELETE_IN_PROGRESS;
	model_region(ctx->m, td->region)->td_deleting++;
	td->delete_requested_at = ctx->now;
	model_dirty_td(ctx->m, td);
	api_wake(ctx, ctx->now + ctx->cfg->transition_ms);
}

int api_delete_task_definitions(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	const cJSON *refs = api_get(in, "taskDefinitions");
	int n = cJSON_GetArraySize(refs);
	if (n < 1)
		return err_set(e, ERR_INVALID_PARAMETER,
			       "taskDefinitions must have at least 1 item.");
	if (n > MAX_DELETE)
		return err_set(e, ERR_INVALID_PARAMETER,
			       "taskDefinitions can have at most %d items.", MAX_DELETE);
	cJSON *o = cJSON_CreateObject();
	cJSON *done = cJSON_AddArrayToObject(o, "taskDefinitions");
	cJSON *failures = cJSON_AddArrayToObject(o, "failures");
	struct task_def *seen[MAX_DELETE];
	int k = 0;
	const cJSON *ref;
	cJSON_ArrayForEach(ref, refs)
	{
		struct task_def *td = delete_one(ctx, ref->valuestring, failures);
		bool again = false;
		for (int i = 0; i < k; i++)
			again |= seen[i] == td;
		if (!td || again)
			continue;
		request_delete(ctx, td);
		seen[k++] = td;
		cJSON_AddItemToArray(done, codec_td(td, 0));
	}
	*out = o;
	return 0;
}

/* ---- ListTaskDefinitions ---- */

/* Position of the first family >= name. */
static size_t family_lower_bound(const struct sidx *x, const char *name)
{
	size_t i = sidx_after(x, name);
	return i > 0 && strcmp(x->v[i - 1].key, name) == 0 ? i - 1 : i;
}

static int read_max(const cJSON *in, int *max, struct err *e)
{
	*max = api_int(in, "maxResults", 100);
	if (*max < 1 || *max > 100)
		return err_set(e, ERR_INVALID_PARAMETER,
			       "maxResults must be between 1 and 100; %d is out of range.",
			       *max);
	return 0;
}

/* A listing of revisions in progress. */
struct td_list {
	enum td_status want;
	bool desc;
	const char *after_family;   /* resume after this revision, or NULL */
	int after_rev;
	int max, n;
	cJSON *arns;
	const struct task_def *last;
	bool more;
};

static bool past_token(const struct td_list *l, const struct task_def *td)
{
	if (!l->after_family)
		return true;
	int c = strcmp(td->family, l->after_family);
	if (c == 0)
		c = td->revision - l->after_rev;
	return l->desc ? c < 0 : c > 0;
}

/* Visit one revision; false once the page is full. */
static bool list_visit(struct td_list *l, const struct task_def *td)
{
	if (!td || td->status != l->want || !past_token(l, td))
		return true;
	if (l->n == l->max) {
		l->more = true;
		return false;
	}
	cJSON_AddItemToArray(l->arns, cJSON_CreateString(td->arn));
	l->n++;
	l->last = td;
	return true;
}

static bool list_family(struct td_list *l, const struct td_family *f)
{
	if (l->want == TD_ACTIVE && f->active == 0)
		return true;
	for (size_t k = 0; k < f->n; k++)
		if (!list_visit(l, f->revs[l->desc ? f->n - 1 - k : k]))
			return false;
	return true;
}

/* Families lo..hi, in the listing's order, from the token on. */
static void list_families(struct td_list *l, const struct sidx *fams, size_t lo, size_t hi)
{
	if (l->after_family) {
		size_t at = family_lower_bound(fams, l->after_family);
		if (l->desc && at < fams->n && strcmp(fams->v[at].key, l->after_family) == 0)
			at++;
		if (l->desc)
			hi = at < hi ? at : hi;
		else
			lo = at > lo ? at : lo;
	}
	for (size_t i = 0; lo + i < hi; i++)
		if (!list_family(l, fams->v[l->desc ? hi - 1 - i : lo + i].val))
			return;
}

static int read_td_token(const cJSON *in, struct td_list *l, char **key, struct err *e)
{
	const char *tok = api_str(in, "nextToken");
	*key = NULL;
	if (!tok)
		return 0;
	if (!(*key = api_token_decode("taskdefs", tok, e)))
		return -1;
	char *colon = strrchr(*key, ':');
	if (!colon)
		return err_set(e, ERR_INVALID_PARAMETER, "The specified nextToken is invalid.");
	*colon = '\0';
	l->after_family = *key;
	l->after_rev = atoi(colon + 1);
	return 0;
}

int api_list_task_definitions(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	struct td_list l = {0};
	const char *status = api_str(in, "status");
	const char *sort = api_str(in, "sort");
	l.want = !status || strcmp(status, "ACTIVE") == 0 ? TD_ACTIVE
		 : strcmp(status, "INACTIVE") == 0     ? TD_INACTIVE
						       : TD_DELETE_IN_PROGRESS;
	l.desc = sort && strcmp(sort, "DESC") == 0;
	char *key = NULL;
	if (read_max(in, &l.max, e) || read_td_token(in, &l, &key, e)) {
		free(key);
		return -1;
	}
	cJSON *o = cJSON_CreateObject();
	l.arns = cJSON_AddArrayToObject(o, "taskDefinitionArns");
	struct region *r = model_region_find(ctx->m, ctx->region);
	if (r) {
		/* familyPrefix is a full family name [M:ListTaskDefinitionsRequest]. */
		const char *family = api_str(in, "familyPrefix");
		size_t lo = family ? family_lower_bound(&r->families, family) : 0;
		size_t hi = r->families.n;
		if (family)
			hi = lo < hi && strcmp(r->families.v[lo].key, family) == 0 ? lo + 1 : lo;
		list_families(&l, &r->families, lo, hi);
	}
	if (l.more) {
		char *k = xasprintf("%s:%d", l.last->family, l.last->revision);
		char *t = api_token_encode("taskdefs", k);
		cJSON_AddStringToObject(o, "nextToken", t);
		free(t);
		free(k);
	}
	free(key);
	*out = o;
	return 0;
}

/* ---- ListTaskDefinitionFamilies ---- */

/* ACTIVE if the family has an ACTIVE revision, INACTIVE if it has
 * revisions but none ACTIVE, NULL if every revision was purged. */
static const char *family_status(const struct td_family *f)
{
	if (f->active > 0)
		return "ACTIVE";
	for (size_t k = 0; k < f->n; k++)
		if (f->revs[k])
			return "INACTIVE";
	return NULL;
}

int api_list_task_definition_families(struct api_ctx *ctx, const cJSON *in, cJSON **out,
				      struct err *e)
{
	int max;
	const char *tok = api_str(in, "nextToken");
	char *after = NULL;
	if (read_max(in, &max, e) || (tok && !(after = api_token_decode("families", tok, e))))
		return -1;
	const char *prefix = api_str(in, "familyPrefix");
	const char *want = api_str(in, "status");
	if (want && strcmp(want, "ALL") == 0)
		want = NULL;
	size_t pl = prefix ? strlen(prefix) : 0;
	cJSON *o = cJSON_CreateObject();
	cJSON *names = cJSON_AddArrayToObject(o, "families");
	struct region *r = model_region_find(ctx->m, ctx->region);
	const struct sidx *fams = r ? &r->families : NULL;
	size_t i = fams && prefix ? family_lower_bound(fams, prefix) : 0;
	if (fams && after && sidx_after(fams, after) > i)
		i = sidx_after(fams, after);
	int n = 0;
	for (; fams && i < fams->n && (!prefix || strncmp(fams->v[i].key, prefix, pl) == 0); i++) {
		const char *st = family_status(fams->v[i].val);
		if (!st || (want && strcmp(want, st) != 0))
			continue;
		if (n == max) {
			char *t = api_token_encode("families", fams->v[i - 1].key);
			cJSON_AddStringToObject(o, "nextToken", t);
			free(t);
			break;
		}
		cJSON_AddItemToArray(names, cJSON_CreateString(fams->v[i].key));
		n++;
	}
	free(after);
	*out = o;
	return 0;
}

/* ---- lifecycle ---- */

int64_t api_td_advance(struct api_ctx *ctx, struct region *r)
{
	int64_t next = 0;
	/* Runs on every lifecycle tick: walk the revisions only when some
	 * deletion is pending. */
	for (size_t i = 0; r->td_deleting && i < r->families.n; i++) {
		struct td_family *f = r->families.v[i].val;
		for (size_t k = 0; k < f->n; k++) {
			struct task_def *td = f->revs[k];
			if (!td || td->status != TD_DELETE_IN_PROGRESS || td->tasks > 0)
				continue;
			int64_t due = td->delete_requested_at + ctx->cfg->transition_ms;
			if (due <= ctx->now)
				model_td_purge(ctx->m, r, td);
			else if (!next || due < next)
				next = due;
		}
	}
	return next;
}
