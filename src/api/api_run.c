/* api_run: RunTask and StartTask, and the placement of tasks that wait for
 * capacity.
 *
 * RunTask decides which capacity (ECS-SEMANTICS §4.3): the request's
 * strategy, its launch type, the cluster's default strategy, or EC2.  A
 * strategy's tasks are split over its providers by base and weight (§4.4)
 * into lanes; each lane is placed by the pure engine (sched/place.c) on the
 * lane's candidate instances, with the memberOf constraints evaluated here by
 * sched/cql.c.  Everything is validated before any task is made, so a call
 * that fails changes nothing; tasks that cannot be placed come back as
 * failures (§5.1), or, on a provider with managed scaling, wait in
 * PROVISIONING for room (§5.5). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/api_task.h"
#include "lib/xalloc.h"
#include "model/codec.h"
#include "sched/cql.h"
#include "sched/place.h"
#include "sched/strategy.h"

#define MAX_CONSTRAINTS 10
#define MAX_LANES 20
#define DYNAMIC_PORT_MIN 32768
#define DYNAMIC_PORT_MAX 60999

/* ---- placement spec: constraints and strategies ---- */

struct pspec {
	struct cql_expr *member[MAX_CONSTRAINTS];
	size_t n_member;
	bool distinct;
	struct sched_place_strategy strat[SCHED_PLACE_STRATEGIES_MAX];
	size_t n_strat;
	bool service;               /* a service's tasks: its default chain spreads over instances */
};

static void pspec_free(struct pspec *p)
{
	for (size_t i = 0; i < p->n_member; i++)
		cql_free(p->member[i]);
	p->n_member = 0;
}

static int add_member(struct pspec *p, const char *expr, struct err *e)
{
	if (p->n_member + p->distinct >= MAX_CONSTRAINTS)
		return err_set(e, ERR_INVALID_PARAMETER,
			       "A task can have at most 10 placement constraints, including those of its task definition.");
	struct cql_expr *x = cql_parse(expr, e);
	if (!x) {
		e->code = ERR_INVALID_PARAMETER;
		return -1;
	}
	p->member[p->n_member++] = x;
	return 0;
}

/* Parse the request's constraints and strategies (either may be NULL) and
 * the task definition's constraints.  The strategies borrow their field
 * strings from strategies. */
static int pspec_parse(struct pspec *p, const struct task_def *td, const cJSON *constraints,
		       const cJSON *strategies, struct err *e)
{
	memset(p, 0, sizeof *p);
	for (size_t i = 0; i < td->n_constraints; i++)
		if (add_member(p, td->constraints[i], e))
			goto fail;
	const cJSON *it;
	cJSON_ArrayForEach(it, constraints)
	{
		const char *type = api_str(it, "type");
		const char *expr = api_str(it, "expression");
		if (type && strcmp(type, "distinctInstance") == 0) {
			if (expr && *expr) {
				err_set(e, ERR_INVALID_PARAMETER,
					"A distinctInstance placement constraint cannot have an expression.");
				goto fail;
			}
			if (p->n_member + 1 > MAX_CONSTRAINTS) {
				err_set(e, ERR_INVALID_PARAMETER,
					"A task can have at most 10 placement constraints, including those of its task definition.");
				goto fail;
			}
			p->distinct = true;
		} else if (!expr || !*expr) {
			err_set(e, ERR_INVALID_PARAMETER, "A memberOf placement constraint needs an expression.");
			goto fail;
		} else if (add_member(p, expr, e)) {
			goto fail;
		}
	}
	cJSON_ArrayForEach(it, strategies)
	{
		const char *type = api_str(it, "type");
		const char *field = api_str(it, "field");
		if (p->n_strat == SCHED_PLACE_STRATEGIES_MAX) {
			err_set(e, ERR_INVALID_PARAMETER, "A task can have at most 5 placement strategies.");
			goto fail;
		}
		if (sched_place_strategy_parse(type ? type : "", field, &p->strat[p->n_strat])) {
			err_set(e, ERR_INVALID_PARAMETER, "Invalid placement strategy: type %s with field %s.",
				type ? type : "(none)", field ? field : "(none)");
			goto fail;
		}
		p->n_strat++;
	}
	return 0;
fail:
	pspec_free(p);
	return -1;
}

/* ---- candidates ---- */

struct cands {
	struct container_instance **ci;
	struct sched_place_instance *in;
	unsigned char *member_ok;
	unsigned char *attr_ok;     /* NULL: the definition requires no attribute */
	uint16_t *ports;            /* every candidate's TCP then UDP lists */
	size_t n;
};

static void cands_free(struct cands *c)
{
	free(c->ci);
	free(c->in);
	free(c->member_ok);
	free(c->attr_ok);
	free(c->ports);
	memset(c, 0, sizeof *c);
}

/* Which instances a lane may use: a provider's own, EC2 ones, or external
 * ones; INACTIVE and deregistering instances are never candidates. */
static bool lane_takes(const struct container_instance *ci, enum launch_type lt, const char *cp)
{
	if (ci->status != CI_ACTIVE && ci->status != CI_DRAINING)
		return false;
	if (cp)
		return ci->cp_name && strcmp(ci->cp_name, cp) == 0;
	return lt == LT_EXTERNAL ? ci->external : !ci->external;
}

static size_t merge_ports(const struct portset *a, const struct portset *b, uint16_t *out)
{
	size_t i = 0, j = 0, n = 0;
	while (i < a->n || j < b->n) {
		int v;
		if (j >= b->n || (i < a->n && a->v[i] < b->v[j]))
			v = a->v[i++];
		else if (i >= a->n || b->v[j] < a->v[i])
			v = b->v[j++];
		else
			v = a->v[i++], j++;
		out[n++] = (uint16_t)v;
	}
	return n;
}

static int members_ok(const struct pspec *p, const struct container_instance *ci)
{
	if (!p->n_member)
		return 1;
	struct cql_subject s;
	api_ci_subject(ci, &s);
	for (size_t i = 0; i < p->n_member; i++)
		if (!cql_eval(p->member[i], &s))
			return 0;
	return 1;
}

/* ---- required attributes (the ATTRIBUTE reason) ---- */

#define CAPABILITY "com.amazonaws.ecs.capability."

/* What an instance that declares no capabilities of its own is taken to
 * have: what the ECS agent reports by default on Linux.  An instance whose
 * registration lists any com.amazonaws.ecs.capability.* attribute is judged
 * by its own list only. */
static const char *const assumed_capabilities[] = {
	CAPABILITY "docker-remote-api.1.17", CAPABILITY "docker-remote-api.1.18",
	CAPABILITY "docker-remote-api.1.19", CAPABILITY "docker-remote-api.1.20",
	CAPABILITY "docker-remote-api.1.21", CAPABILITY "docker-remote-api.1.22",
	CAPABILITY "docker-remote-api.1.23", CAPABILITY "docker-remote-api.1.24",
	CAPABILITY "docker-remote-api.1.25", CAPABILITY "docker-remote-api.1.26",
	CAPABILITY "docker-remote-api.1.27", CAPABILITY "docker-remote-api.1.28",
	CAPABILITY "docker-remote-api.1.29", CAPABILITY "docker-remote-api.1.30",
	CAPABILITY "docker-remote-api.1.31", CAPABILITY "docker-remote-api.1.32",
	CAPABILITY "logging-driver.json-file", CAPABILITY "logging-driver.none",
	CAPABILITY "logging-driver.awslogs", CAPABILITY "logging-driver.syslog",
	CAPABILITY "logging-driver.journald", CAPABILITY "logging-driver.gelf",
	CAPABILITY "logging-driver.fluentd", CAPABILITY "task-iam-role",
	CAPABILITY "task-iam-role-network-host", "ecs.capability.task-eni",
	"ecs.capability.container-ordering", "ecs.capability.execution-role-awslogs",
};

static bool declares_capabilities(const struct container_instance *ci)
{
	for (size_t i = 0; i < ci->attributes.n; i++)
		if (strncmp(ci->attributes.v[i].key, CAPABILITY, strlen(CAPABILITY)) == 0)
			return true;
	return false;
}

static bool has_attribute(const struct container_instance *ci, bool declared, const char *name,
			  const char *value)
{
	const char *got = kvlist_get(&ci->attributes, name);
	if (got)
		return !value || strcmp(got, value) == 0;
	if (declared || value)
		return false;
	for (size_t i = 0; i < sizeof assumed_capabilities / sizeof *assumed_capabilities; i++)
		if (strcmp(assumed_capabilities[i], name) == 0)
			return true;
	return false;
}

/* The instance has every attribute the task definition requires. */
static int attributes_ok(const cJSON *required, const struct container_instance *ci)
{
	bool declared = declares_capabilities(ci);
	const cJSON *it;
	cJSON_ArrayForEach(it, required)
	{
		const char *name = api_str(it, "name");
		if (name && !has_attribute(ci, declared, name, api_str(it, "value")))
			return 0;
	}
	return 1;
}

/* Whether the task group's counts matter: distinctInstance and spread do. */
static bool needs_groups(const struct pspec *p)
{
	if (p->distinct || (p->service && !p->n_strat))
		return true;
	for (size_t i = 0; i < p->n_strat; i++)
		if (p->strat[i].kind == SCHED_PLACE_SPREAD_INSTANCE || p->strat[i].kind == SCHED_PLACE_SPREAD_ATTRIBUTE)
			return true;
	return false;
}

/* The candidates of a lane among c's instances (only `only` when it is not
 * NULL: StartTask and DAEMON starts name their instance, and building the
 * whole cluster's candidates for one would cost O(instances) each). */
static bool cand_of(const struct container_instance *ci, enum launch_type lt, const char *cp,
		    const struct container_instance *only)
{
	return (!only || ci == only) && lane_takes(ci, lt, cp);
}

static void cands_build(struct cands *cs, const struct cluster *c, enum launch_type lt, const char *cp,
			const struct pspec *p, const char *group, const struct task_def *td,
			const struct container_instance *only)
{
	const cJSON *required = cJSON_GetObjectItemCaseSensitive(td->body, "requiresAttributes");
	memset(cs, 0, sizeof *cs);
	size_t total = 0, nports = 0;
	size_t from = 0, to = c->instances.n;
	if (only) {
		/* its place in the index (sorted by id): just before the first
		 * key greater than its own */
		size_t after = sidx_after(&c->instances, only->id);
		bool found = after > 0 && c->instances.v[after - 1].val == only;
		from = found ? after - 1 : 0;
		to = found ? after : 0;
	}
	for (size_t i = from; i < to; i++) {
		const struct container_instance *ci = c->instances.v[i].val;
		if (cand_of(ci, lt, cp, only)) {
			total++;
			nports += ci->reg_ports.n + ci->used_ports.n + ci->reg_udp.n + ci->used_udp.n;
		}
	}
	/* Every member is written below: no need to zero. */
	cs->ci = xmalloc((total ? total : 1) * sizeof *cs->ci);
	cs->in = xmalloc((total ? total : 1) * sizeof *cs->in);
	cs->member_ok = p->n_member ? xmalloc(total ? total : 1) : NULL; /* NULL: all pass */
	cs->attr_ok = cJSON_GetArraySize(required) > 0 ? xmalloc(total ? total : 1) : NULL;
	cs->ports = xmalloc((nports ? nports : 1) * sizeof *cs->ports);
	bool groups = needs_groups(p);
	uint16_t *pp = cs->ports;
	for (size_t i = from; i < to; i++) {
		struct container_instance *ci = c->instances.v[i].val;
		if (!cand_of(ci, lt, cp, only))
			continue;
		struct sched_place_instance *in = &cs->in[cs->n];
		in->id = ci->id;
		in->cpu = ci->reg_cpu - ci->used_cpu;
		in->memory = ci->reg_mem - ci->used_mem;
		in->tcp = pp;
		in->n_tcp = merge_ports(&ci->reg_ports, &ci->used_ports, pp);
		pp += in->n_tcp;
		in->udp = pp;
		in->n_udp = merge_ports(&ci->reg_udp, &ci->used_udp, pp);
		pp += in->n_udp;
		in->active = ci->status == CI_ACTIVE;
		in->agent_connected = ci->agent_connected;
		in->zone = ci->zone;
		in->group_count = groups ? model_ci_group_count(ci, group) : 0;
		if (cs->member_ok)
			cs->member_ok[cs->n] = (unsigned char)members_ok(p, ci);
		if (cs->attr_ok)
			cs->attr_ok[cs->n] = (unsigned char)attributes_ok(required, ci);
		cs->ci[cs->n++] = ci;
	}
}

static const char *attr_of(void *arg, size_t i, const char *name)
{
	const struct cands *cs = arg;
	return kvlist_get(&cs->ci[i]->attributes, name);
}

/* ---- the task's shape ---- */

struct shape {
	int cpu, memory;
	uint16_t tcp[64], udp[64];
	size_t n_tcp, n_udp;
};

/* A placement request for tasks of shape sh on the candidates cs under ps
 * (NULL: no strategies or constraints). */
static void request_init(struct sched_place_request *req, struct sched_place_task *task,
			 const struct shape *sh, const char *group, struct cands *cs, const struct pspec *ps)
{
	*task = (struct sched_place_task){
		.cpu = sh->cpu, .memory = sh->memory,
		.tcp = sh->tcp, .n_tcp = sh->n_tcp,
		.udp = sh->udp, .n_udp = sh->n_udp, .group = group,
	};
	*req = (struct sched_place_request){
		.instances = cs->in, .n_instances = cs->n, .task = task,
		.strategies = ps ? ps->strat : NULL, .n_strategies = ps ? ps->n_strat : 0,
		.caller = SCHED_PLACE_FOR_TASK, .distinct_instance = ps && ps->distinct,
		.member_ok = cs->member_ok, .attr_ok = cs->attr_ok, .attr = attr_of, .attr_arg = cs,
	};
}

static bool uses_host_ports(const struct task_def *td, enum launch_type lt)
{
	const char *nm = td->network_mode;
	return lt != LT_FARGATE && (!nm || strcmp(nm, "bridge") == 0 || strcmp(nm, "host") == 0);
}

static void shape_ports(struct shape *s, const struct task_def *td, enum launch_type lt)
{
	s->n_tcp = s->n_udp = 0;
	if (!uses_host_ports(td, lt))
		return;
	for (size_t i = 0; i < td->n_containers; i++)
		for (size_t k = 0; k < td->containers[i].n_ports; k++) {
			const struct td_port *p = &td->containers[i].ports[k];
			if (p->host_port <= 0)
				continue;
			if (p->udp && s->n_udp < 64)
				s->udp[s->n_udp++] = (uint16_t)p->host_port;
			else if (!p->udp && s->n_tcp < 64)
				s->tcp[s->n_tcp++] = (uint16_t)p->host_port;
		}
}

static const cJSON *container_override(const cJSON *overrides, const char *name)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, api_get(overrides, "containerOverrides"))
	{
		const char *n = api_str(it, "name");
		if (n && strcmp(n, name) == 0)
			return it;
	}
	return NULL;
}

static int parse_units(const char *s, int *out)
{
	char *end;
	long v = s ? strtol(s, &end, 10) : -1;
	if (!s || end == s || *end || v < 0 || v > 10000000)
		return -1;
	*out = (int)v;
	return 0;
}

/* What one task needs: task-level cpu/memory (overridden or the
 * definition's), else the sum of its containers'. */
static int shape_resources(struct shape *s, const struct task_def *td, const cJSON *ov, struct err *e)
{
	const char *ocpu = api_str(ov, "cpu"), *omem = api_str(ov, "memory");
	s->cpu = td->cpu;
	s->memory = td->memory;
	if (ocpu && parse_units(ocpu, &s->cpu))
		return err_set(e, ERR_INVALID_PARAMETER, "Invalid 'cpu' override: %s.", ocpu);
	if (omem && parse_units(omem, &s->memory))
		return err_set(e, ERR_INVALID_PARAMETER, "Invalid 'memory' override: %s.", omem);
	int sum_cpu = 0, sum_mem = 0;
	for (size_t i = 0; i < td->n_containers; i++) {
		const struct td_container *dc = &td->containers[i];
		const cJSON *co = container_override(ov, dc->name);
		int mem = dc->memory ? dc->memory : dc->memory_reservation;
		sum_cpu += api_int(co, "cpu", dc->cpu);
		if (api_get(co, "memory"))
			mem = api_int(co, "memory", mem);
		else if (api_get(co, "memoryReservation") && !dc->memory)
			mem = api_int(co, "memoryReservation", mem);
		sum_mem += mem;
	}
	if (!s->cpu)
		s->cpu = sum_cpu;
	if (!s->memory)
		s->memory = sum_mem;
	return 0;
}

static int check_overrides(const struct task_def *td, const cJSON *ov, struct err *e)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, api_get(ov, "containerOverrides"))
	{
		const char *n = api_str(it, "name");
		bool found = false;
		for (size_t i = 0; n && i < td->n_containers; i++)
			found = found || strcmp(td->containers[i].name, n) == 0;
		if (!found)
			return err_set(e, ERR_INVALID_PARAMETER,
				       "Override for container named %s is not a container in the TaskDefinition.",
				       n ? n : "(none)");
	}
	return 0;
}

/* ---- making tasks ---- */

struct run {
	struct api_ctx *ctx;
	struct region *r;
	struct cluster *c;
	struct task_def *td;
	const char *group, *started_by, *subnet;
	const cJSON *overrides;
	const cJSON *placement_json;  /* constraints and strategies, for tasks that wait */
	struct kvlist tags;
	struct shape shape;
	struct pspec ps;
	cJSON *tasks, *failures;    /* the RunTask / StartTask answer, or NULL */
	struct svc_start *st;       /* a service's starts instead, or NULL */
	int why;                    /* the placement reason of the next fail(), or -1 */
};

static int free_dynamic_port(const struct container_instance *ci, const struct task *t, bool udp)
{
	const struct portset *reg = udp ? &ci->reg_udp : &ci->reg_ports;
	const struct portset *used = udp ? &ci->used_udp : &ci->used_ports;
	for (int p = DYNAMIC_PORT_MIN; p <= DYNAMIC_PORT_MAX; p++) {
		if (portset_has(reg, p) || portset_has(used, p))
			continue;
		bool mine = false;
		for (size_t i = 0; i < t->td->n_containers && !mine; i++)
			for (size_t k = 0; t->containers[i].host_ports && k < t->td->containers[i].n_ports; k++)
				mine = mine || t->containers[i].host_ports[k] == p;
		if (!mine)
			return p;
	}
	return 0;
}

/* Give bridge-mode mappings without a host port one from the dynamic range. */
static void assign_dynamic_ports(struct task *t)
{
	if (!t->ci || !uses_host_ports(t->td, (enum launch_type)t->launch_type))
		return;
	for (size_t i = 0; i < t->td->n_containers; i++) {
		const struct td_container *dc = &t->td->containers[i];
		bool dyn = false;
		for (size_t k = 0; k < dc->n_ports; k++)
			dyn = dyn || dc->ports[k].host_port <= 0;
		if (!dyn)
			continue;
		t->containers[i].host_ports = xcalloc(dc->n_ports, sizeof(int));
		for (size_t k = 0; k < dc->n_ports; k++)
			t->containers[i].host_ports[k] = dc->ports[k].host_port > 0
							   ? dc->ports[k].host_port
							   : free_dynamic_port(t->ci, t, dc->ports[k].udp);
	}
}

static struct task *task_make(struct run *rn, enum launch_type lt, const char *cp)
{
	struct api_ctx *ctx = rn->ctx;
	struct task *t = xcalloc(1, sizeof *t);
	t->cluster = rn->c;
	/* The id starts with the time in ms (11 hex digits), so that new task
	 * records land next to each other in the store's index instead of on
	 * random pages; the rest is random. */
	char head[16];
	snprintf(head, sizeof head, "%011llx", (unsigned long long)ctx->now & 0xfffffffffffULL);
	do {
		rng_hex32(ctx->rng, t->id);
		memcpy(t->id, head, 11);
	} while (model_task_find(rn->r, t->id));
	t->td = rn->td;
	t->launch_type = (uint8_t)lt;
	t->cp_name = model_intern(ctx->m, cp);
	t->desired = TS_RUNNING;
	t->group = model_intern(ctx->m, rn->group);
	t->started_by = model_intern(ctx->m, rn->started_by);
	t->subnet = model_intern(ctx->m, rn->subnet);
	t->overrides = rn->overrides ? cJSON_Duplicate(rn->overrides, 1) : NULL;
	kvlist_copy(&t->tags, &rn->tags);
	size_t n = rn->td->n_containers;
	t->containers = xcalloc(n ? n : 1, sizeof *t->containers);
	for (size_t i = 0; i < n; i++) {
		t->containers[i].status = TS_PENDING;
		t->containers[i].exit_code = TASK_NO_EXIT;
		uint64_t a = rng_next(ctx->rng), b = rng_next(ctx->rng);
		memcpy(t->containers[i].uuid, &a, 8);
		memcpy(t->containers[i].uuid + 8, &b, 8);
	}
	t->cpu = rn->shape.cpu;
	t->memory = rn->shape.memory;
	t->created_at = ctx->now;
	return t;
}

/* Index t and count it in its first status (PROVISIONING or PENDING). */
static void task_index(struct run *rn, struct task *t, enum task_status first)
{
	t->last = (uint8_t)first;
	model_task_add(rn->ctx->m, rn->r, t);
	api_task_count(t, +1);
	if (rn->st) {
		model_svc_attach_task(rn->st->svc, t);
		rn->st->started[rn->st->n_started++] = t;
	}
}

/* Put t on ci: its zone, its dynamic host ports. */
static void attach(struct api_ctx *ctx, struct task *t, struct container_instance *ci)
{
	t->ci = ci;
	t->zone = model_intern(ctx->m, ci->zone);
	assign_dynamic_ports(t);
}

static void task_launch(struct api_ctx *ctx, struct task *t)
{
	api_task_hold(ctx, t);
	model_dirty_task(ctx->m, t);
	ctx->driver->launch(ctx, t);
}

static enum task_status first_status(const struct task_def *td, enum launch_type lt)
{
	bool awsvpc = td->network_mode && strcmp(td->network_mode, "awsvpc") == 0;
	return awsvpc || lt == LT_FARGATE ? TS_PROVISIONING : TS_PENDING;
}

static void place_on(struct run *rn, enum launch_type lt, const char *cp, struct container_instance *ci)
{
	struct task *t = task_make(rn, lt, cp);
	attach(rn->ctx, t, ci);
	task_index(rn, t, first_status(rn->td, lt));
	task_launch(rn->ctx, t);
	if (rn->tasks)
		cJSON_AddItemToArray(rn->tasks, codec_task(rn->ctx->m, t, CODEC_TAGS));
}

static void fail(struct run *rn, const char *arn, const char *reason)
{
	if (rn->st) {
		rn->st->n_failed++;
		if (!rn->st->fail_reason) {
			rn->st->fail_reason = reason;
			rn->st->fail_arn = arn;
			rn->st->fail_why = rn->why;
		}
		rn->why = -1;
		return;
	}
	cJSON *f = cJSON_CreateObject();
	if (arn)
		cJSON_AddStringToObject(f, "arn", arn);
	cJSON_AddStringToObject(f, "reason", reason);
	cJSON_AddItemToArray(rn->failures, f);
}

static void wait_for_capacity(struct run *rn, const char *cp)
{
	struct api_ctx *ctx = rn->ctx;
	if (rn->c->waiting_tasks >= ctx->cfg->max_provisioning_tasks) {
		fail(rn, NULL, "Tasks provisioning capacity limit exceeded.");
		return;
	}
	struct task *t = task_make(rn, LT_EC2, cp);
	if (rn->placement_json)
		t->placement = cJSON_Duplicate(rn->placement_json, 1);
	task_index(rn, t, TS_PROVISIONING);
	api_task_set_waiting(ctx, t, true);
	api_task_due(ctx, t, ctx->now + ctx->cfg->capacity_wait_ms);
	if (rn->tasks)
		cJSON_AddItemToArray(rn->tasks, codec_task(ctx->m, t, CODEC_TAGS));
}

/* ---- lanes ---- */

struct lane {
	const char *cp;             /* provider, or NULL for a launch type */
	enum launch_type lt;
	bool managed;               /* ASG provider with managed scaling */
	unsigned long n;
};

static void place_fargate(struct run *rn, const struct lane *ln)
{
	struct api_ctx *ctx = rn->ctx;
	static const char zones[] = "abc";
	for (unsigned long i = 0; i < ln->n; i++) {
		long cap = ctx->cfg->fargate_capacity;
		if (cap && rn->r->fargate_live >= cap) {
			fail(rn, NULL, "Capacity is unavailable at this time. Please try again later or in a different availability zone");
			continue;
		}
		struct task *t = task_make(rn, LT_FARGATE, ln->cp);
		char zone[64];
		snprintf(zone, sizeof zone, "%s%c", rn->r->name, zones[rng_below(ctx->rng, 3)]);
		t->zone = model_intern(ctx->m, zone);
		task_index(rn, t, TS_PROVISIONING);
		task_launch(ctx, t);
		if (rn->tasks)
			cJSON_AddItemToArray(rn->tasks, codec_task(ctx->m, t, CODEC_TAGS));
	}
}

static const char *failure_reason(enum sched_place_reason why, const struct lane *ln)
{
	if (why == SCHED_PLACE_NO_INSTANCES && ln->cp)
		return "No Container Instances were found in your capacity provider.";
	return sched_place_reason_text(why);
}

static void place_lane(struct run *rn, const struct lane *ln)
{
	if (!ln->n)
		return;
	if (ln->lt == LT_FARGATE) {
		place_fargate(rn, ln);
		return;
	}
	struct cands cs;
	cands_build(&cs, rn->c, ln->lt, ln->cp, &rn->ps, rn->group, rn->td, NULL);
	shape_ports(&rn->shape, rn->td, ln->lt);
	struct sched_place_task task;
	struct sched_place_request req;
	request_init(&req, &task, &rn->shape, rn->group, &cs, &rn->ps);
	if (rn->ps.service)
		req.caller = SCHED_PLACE_FOR_SERVICE;
	struct sched_place_result *res = xcalloc(ln->n, sizeof *res);
	sched_place_run(&req, rn->ctx->rng, ln->n, res);
	for (unsigned long i = 0; i < ln->n; i++) {
		if (res[i].reason == SCHED_PLACE_OK)
			place_on(rn, ln->lt, ln->cp, cs.ci[res[i].instance]);
		else if (ln->managed)
			wait_for_capacity(rn, ln->cp);
		else {
			rn->why = (int)res[i].reason;
			fail(rn, res[i].instance != SCHED_PLACE_NONE ? cs.ci[res[i].instance]->arn : NULL,
			     failure_reason(res[i].reason, ln));
		}
	}
	free(res);
	cands_free(&cs);
}

/* ---- which capacity (§4.3) ---- */

static bool is_fargate_cp(const char *name)
{
	return cp_is_builtin(name);
}

/* Split count over the strategy's items into lanes. */
static int lanes_from_strategy(struct api_ctx *ctx, struct region *r, const cJSON *strategy,
			       unsigned long count, struct lane *lanes, size_t *n)
{
	struct sched_strategy_item items[MAX_LANES] = {0};
	size_t k = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, strategy)
	{
		if (k == MAX_LANES)
			break;
		items[k].provider = api_str(it, "capacityProvider");
		items[k].weight = api_int(it, "weight", 0);
		items[k].base = api_int(it, "base", 0);
		items[k].has_weight = api_get(it, "weight") != NULL;
		items[k].has_base = api_get(it, "base") != NULL;
		k++;
	}
	unsigned long split[MAX_LANES];
	sched_strategy_split(items, k, count, split);
	for (size_t i = 0; i < k; i++) {
		struct lane *ln = &lanes[i];
		ln->cp = items[i].provider;
		ln->n = split[i];
		ln->lt = is_fargate_cp(ln->cp) ? LT_FARGATE : LT_EC2;
		const struct capacity_provider *cp = ln->lt == LT_EC2 ? model_cp_find(r, ln->cp) : NULL;
		ln->managed = cp && cp->cur.ms.enabled;
	}
	(void)ctx;
	*n = k;
	return 0;
}

/* Fill lanes for the request: its strategy, its launch type, the cluster's
 * default strategy, or EC2.  *owned receives a JSON copy of the default
 * strategy when that is used (the lanes point into it). */
static int resolve_capacity(struct api_ctx *ctx, struct run *rn, const cJSON *in, unsigned long count,
			    struct lane *lanes, size_t *n, cJSON **owned, struct err *e)
{
	const cJSON *strategy = api_get(in, "capacityProviderStrategy");
	const char *lt = api_str(in, "launchType");
	struct cluster *c = rn->c;
	*owned = NULL;
	if (cJSON_GetArraySize(strategy) > 0) { /* [] is no strategy */
		if (api_strategy_check(ctx, strategy, c->cps, c->n_cps, SCHED_USE_EXPLICIT, lt != NULL, e))
			return -1;
		return lanes_from_strategy(ctx, rn->r, strategy, count, lanes, n);
	}
	if (lt) {
		int t = launch_type_parse(lt);
		if (t < 0 || t == LT_MANAGED_INSTANCES)
			return err_set(e, ERR_INVALID_PARAMETER, "Launch type %s is not supported by Berth.", lt);
		lanes[0] = (struct lane){NULL, (enum launch_type)t, false, count};
		*n = 1;
		return 0;
	}
	if (c->default_strategy.n) {
		*owned = codec_strategy(&c->default_strategy);
		if (api_strategy_check(ctx, *owned, c->cps, c->n_cps, SCHED_USE_CLUSTER_DEFAULT, false, e))
			return -1;
		return lanes_from_strategy(ctx, rn->r, *owned, count, lanes, n);
	}
	lanes[0] = (struct lane){NULL, LT_EC2, false, count};
	*n = 1;
	return 0;
}

bool api_td_supports(const struct task_def *td, enum launch_type lt)
{
	bool awsvpc = td->network_mode && strcmp(td->network_mode, "awsvpc") == 0;
	switch (lt) {
	case LT_FARGATE:
		return (td->compat & TD_COMPAT_FARGATE) ||
		       (!td->compat && awsvpc && td->cpu > 0 && td->memory > 0);
	case LT_EC2: return !td->compat || (td->compat & TD_COMPAT_EC2);
	case LT_EXTERNAL: return !td->compat || (td->compat & (TD_COMPAT_EXTERNAL | TD_COMPAT_EC2));
	default: return false;
	}
}

static int check_lanes(struct run *rn, const cJSON *in, const struct lane *lanes, size_t n, struct err *e)
{
	bool placement = cJSON_GetArraySize(api_get(in, "placementConstraints")) > 0 ||
			 cJSON_GetArraySize(api_get(in, "placementStrategy")) > 0;
	for (size_t i = 0; i < n; i++) {
		const struct lane *ln = &lanes[i];
		if (!api_td_supports(rn->td, ln->lt))
			return err_set(e, ERR_INVALID_PARAMETER, "Task definition does not support launch_type %s.",
				       launch_type_name(ln->lt));
		if (ln->lt == LT_FARGATE && placement)
			return err_set(e, ERR_INVALID_PARAMETER,
				       "Task placement constraints and strategies are not supported for tasks on Fargate.");
		if (ln->lt != LT_FARGATE && api_str(in, "platformVersion"))
			return err_set(e, ERR_INVALID_PARAMETER,
				       "The platform version must be null when specifying an EC2 launch type.");
		bool ec2ish = ln->lt != LT_FARGATE && !ln->managed;
		if (ec2ish && ln->n && rn->c->registered_instances == 0)
			return err_set(e, ERR_INVALID_PARAMETER, "No Container Instances were found in your cluster.");
	}
	return 0;
}

static int check_network(struct run *rn, const cJSON *in, struct err *e)
{
	return api_network_check(rn->td, api_get(in, "networkConfiguration"), &rn->subnet, e);
}

int api_network_check(const struct task_def *td, const cJSON *network, const char **subnet, struct err *e)
{
	bool awsvpc = td->network_mode && strcmp(td->network_mode, "awsvpc") == 0;
	const cJSON *vpc = api_get(network, "awsvpcConfiguration");
	if (!awsvpc) {
		if (vpc)
			return err_set(e, ERR_INVALID_PARAMETER,
				       "Network Configuration is not valid for the given networkMode of this task definition.");
		return 0;
	}
	const cJSON *subnets = api_get(vpc, "subnets");
	if (!vpc || cJSON_GetArraySize(subnets) == 0)
		return err_set(e, ERR_INVALID_PARAMETER,
			       "Network Configuration must be provided when networkMode 'awsvpc' is specified.");
	if (cJSON_GetArraySize(subnets) > 16)
		return err_set(e, ERR_INVALID_PARAMETER, "subnets can have at most 16 items.");
	if (cJSON_GetArraySize(api_get(vpc, "securityGroups")) > 5)
		return err_set(e, ERR_INVALID_PARAMETER, "securityGroups can have at most 5 items.");
	const cJSON *s0 = cJSON_GetArrayItem(subnets, 0);
	*subnet = cJSON_IsString(s0) ? s0->valuestring : NULL;
	return 0;
}

static bool started_by_ok(const char *s)
{
	if (strlen(s) > 128)
		return false;
	for (; *s; s++)
		if (!(('a' <= *s && *s <= 'z') || ('A' <= *s && *s <= 'Z') || ('0' <= *s && *s <= '9') ||
		      *s == '-' || *s == '/' || *s == '_'))
			return false;
	return true;
}

/* Members common to RunTask and StartTask: group, startedBy, overrides,
 * tags, propagateTags, network.  Fills rn. */
static int check_common(struct run *rn, const cJSON *in, size_t started_by_max, struct err *e)
{
	const char *sb = api_str(in, "startedBy");
	if (sb && (!started_by_ok(sb) || strlen(sb) > started_by_max))
		return err_set(e, ERR_INVALID_PARAMETER,
			       "startedBy may have up to %zu letters (uppercase and lowercase), numbers, hyphens, forward slashes and underscores.",
			       started_by_max);
	rn->started_by = sb;
	const char *group = api_str(in, "group");
	if (group && (strlen(group) > 255 || !*group))
		return err_set(e, ERR_INVALID_PARAMETER, "group must be 1 to 255 characters.");
	rn->overrides = api_get(in, "overrides");
	if (check_overrides(rn->td, rn->overrides, e) || shape_resources(&rn->shape, rn->td, rn->overrides, e))
		return -1;
	const char *prop = api_str(in, "propagateTags");
	if (prop && strcmp(prop, "SERVICE") == 0)
		return err_set(e, ERR_INVALID_PARAMETER,
			       "The propagateTags value SERVICE is only valid for tasks started by a service.");
	const cJSON *tags = api_get(in, "tags");
	if (api_tags_check(tags, 0, e))
		return -1;
	if (prop && strcmp(prop, "TASK_DEFINITION") == 0)
		kvlist_copy(&rn->tags, &rn->td->tags);
	struct kvlist req = {0};
	codec_tags_parse(&req, tags);
	for (size_t i = 0; i < req.n; i++)
		kvlist_set(&rn->tags, req.v[i].key, req.v[i].value);
	kvlist_release(&req);
	return check_network(rn, in, e);
}

static void run_release(struct run *rn, char *group)
{
	pspec_free(&rn->ps);
	kvlist_release(&rn->tags);
	free(group);
}

static int run_begin(struct api_ctx *ctx, struct run *rn, const cJSON *in, struct err *e)
{
	memset(rn, 0, sizeof *rn);
	rn->ctx = ctx;
	if (api_cluster_lookup(ctx, api_str(in, "cluster"), true, &rn->c, e) ||
	    api_cluster_require_active(rn->c, e))
		return -1;
	rn->r = model_region(ctx->m, ctx->region);
	return api_td_resolve(ctx, api_str(in, "taskDefinition"), &rn->td, e);
}

static void answer(struct run *rn, cJSON **out)
{
	*out = cJSON_CreateObject();
	rn->tasks = cJSON_AddArrayToObject(*out, "tasks");
	rn->failures = cJSON_AddArrayToObject(*out, "failures");
}

int api_run_task(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	const char *token = api_str(in, "clientToken");
	if (token && !api_client_token_ok(token, 64))
		return err_set(e, ERR_INVALID_PARAMETER,
			       "clientToken must be 1 to 64 ASCII characters from 33 to 126.");
	struct region *reg = model_region(ctx->m, ctx->region);
	const char *seen = token ? model_run_token_get(reg, token) : NULL;
	if (seen) {
		*out = cJSON_Parse(seen);
		return 0;
	}
	struct run rn;
	if (run_begin(ctx, &rn, in, e))
		return -1;
	int count = api_int(in, "count", 1);
	if (count < 1 || count > 10)
		return err_set(e, ERR_INVALID_PARAMETER, "count must be between 1 and 10.");
	struct lane lanes[MAX_LANES];
	size_t nl = 0;
	cJSON *owned = NULL;
	char *group = NULL;
	int rc = -1;
	if (resolve_capacity(ctx, &rn, in, (unsigned long)count, lanes, &nl, &owned, e) ||
	    check_lanes(&rn, in, lanes, nl, e) || check_common(&rn, in, 128, e))
		goto done;
	if (pspec_parse(&rn.ps, rn.td, api_get(in, "placementConstraints"), api_get(in, "placementStrategy"), e))
		goto done;
	group = api_str(in, "group") ? xstrdup(api_str(in, "group")) : xasprintf("family:%s", rn.td->family);
	rn.group = group;
	cJSON *pj = cJSON_CreateObject();
	if (api_get(in, "placementConstraints"))
		cJSON_AddItemToObject(pj, "placementConstraints", cJSON_Duplicate(api_get(in, "placementConstraints"), 1));
	if (api_get(in, "placementStrategy"))
		cJSON_AddItemToObject(pj, "placementStrategy", cJSON_Duplicate(api_get(in, "placementStrategy"), 1));
	rn.placement_json = pj->child ? pj : NULL;
	answer(&rn, out);
	for (size_t i = 0; i < nl; i++)
		place_lane(&rn, &lanes[i]);
	cJSON_Delete(pj);
	if (token) {
		char *txt = cJSON_PrintUnformatted(*out);
		model_run_token_put(reg, token, txt);
		cJSON_free(txt);
	}
	rc = 0;
done:
	cJSON_Delete(owned);
	run_release(&rn, group);
	return rc;
}

/* ---- StartTask ---- */

static void start_on(struct run *rn, const char *ref, struct container_instance *ci)
{
	if (!ci) {
		fail(rn, ref, "MISSING");
		return;
	}
	struct cands cs;
	memset(&cs, 0, sizeof cs);
	cands_build(&cs, rn->c, ci->external ? LT_EXTERNAL : LT_EC2, NULL, &rn->ps, rn->group, rn->td, ci);
	size_t k = 0;
	while (k < cs.n && cs.ci[k] != ci)
		k++;
	if (k == cs.n) {
		fail(rn, ci->arn, "INACTIVE");
		cands_free(&cs);
		return;
	}
	enum launch_type lt = ci->external ? LT_EXTERNAL : LT_EC2;
	shape_ports(&rn->shape, rn->td, lt);
	struct sched_place_task task;
	struct sched_place_request req;
	request_init(&req, &task, &rn->shape, rn->group, &cs, NULL);
	/* only the named instance */
	req.instances = &cs.in[k];
	req.n_instances = 1;
	req.member_ok = cs.member_ok ? &cs.member_ok[k] : NULL;
	req.attr_ok = cs.attr_ok ? &cs.attr_ok[k] : NULL;
	req.attr = NULL;
	struct sched_place_result res;
	sched_place_run(&req, rn->ctx->rng, 1, &res);
	if (res.reason == SCHED_PLACE_OK)
		place_on(rn, lt, ci->cp_name, ci);
	else {
		rn->why = (int)res.reason;
		fail(rn, ci->arn, res.reason == SCHED_PLACE_NOT_ACTIVE ? "INACTIVE" : sched_place_reason_text(res.reason));
	}
	cands_free(&cs);
}

int api_start_task(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	struct run rn;
	if (run_begin(ctx, &rn, in, e))
		return -1;
	const cJSON *refs = api_get(in, "containerInstances");
	int n = cJSON_GetArraySize(refs);
	if (n < 1 || n > 10)
		return err_set(e, ERR_INVALID_PARAMETER, "containerInstances must have 1 to 10 items.");
	char *group = NULL;
	int rc = -1;
	if (!api_td_supports(rn.td, LT_EC2)) {
		err_set(e, ERR_INVALID_PARAMETER, "Task definition does not support launch_type EC2.");
		goto done;
	}
	if (check_common(&rn, in, 36, e) || pspec_parse(&rn.ps, rn.td, NULL, NULL, e))
		goto done;
	group = api_str(in, "group") ? xstrdup(api_str(in, "group")) : xasprintf("family:%s", rn.td->family);
	rn.group = group;
	answer(&rn, out);
	const cJSON *it;
	cJSON_ArrayForEach(it, refs)
	{
		struct container_instance *ci = NULL;
		if (!cJSON_IsString(it) || api_ci_lookup(ctx, rn.c, it->valuestring, &ci))
			ci = NULL;
		start_on(&rn, cJSON_IsString(it) ? it->valuestring : "", ci);
	}
	rc = 0;
done:
	run_release(&rn, group);
	return rc;
}

/* ---- tasks waiting for capacity ---- */

/* Try to place one waiting task on its provider's instances; false if it
 * found no room. */
static bool retry_one(struct api_ctx *ctx, struct region *r, struct task *t)
{
	struct run rn;
	memset(&rn, 0, sizeof rn);
	rn.ctx = ctx;
	rn.r = r;
	rn.c = t->cluster;
	rn.td = t->td;
	rn.group = t->group;
	struct err e;
	err_clear(&e);
	if (pspec_parse(&rn.ps, t->td, api_get(t->placement, "placementConstraints"),
			api_get(t->placement, "placementStrategy"), &e))
		return false;
	struct cands cs;
	cands_build(&cs, t->cluster, LT_EC2, t->cp_name, &rn.ps, t->group, t->td, NULL);
	rn.shape.cpu = t->cpu;
	rn.shape.memory = t->memory;
	shape_ports(&rn.shape, t->td, LT_EC2);
	struct sched_place_task task;
	struct sched_place_request req;
	request_init(&req, &task, &rn.shape, t->group, &cs, &rn.ps);
	struct sched_place_result res;
	sched_place_run(&req, ctx->rng, 1, &res);
	if (res.reason == SCHED_PLACE_OK) {
		api_task_set_waiting(ctx, t, false);
		api_task_due(ctx, t, 0);
		cJSON_Delete(t->placement);
		t->placement = NULL;
		attach(ctx, t, cs.ci[res.instance]);
		t->ci->tasks++;
		task_launch(ctx, t);
	}
	cands_free(&cs);
	pspec_free(&rn.ps);
	return res.reason == SCHED_PLACE_OK;
}

/* Waiting tasks alike in everything placement looks at: when one finds no
 * room, the others of its kind do not look (a pass over 100,000 waiting
 * tasks costs one placement per kind, not one per task). */
struct waiting_kind {
	const struct task_def *td;
	const char *cp, *group;
	int cpu, memory;
};

static bool kind_failed(const struct waiting_kind *failed, size_t n, const struct task *t)
{
	for (size_t i = 0; i < n; i++)
		if (failed[i].td == t->td && failed[i].cp == t->cp_name && failed[i].group == t->group &&
		    failed[i].cpu == t->cpu && failed[i].memory == t->memory)
			return true;
	return false;
}

void api_place_waiting(struct api_ctx *ctx)
{
	if (!ctx->m->waiting_tasks)
		return;
	for (size_t i = 0; i < ctx->m->regions.n; i++) {
		struct region *r = ctx->m->regions.v[i].val;
		for (size_t k = 0; k < r->clusters.n; k++) {
			struct cluster *c = r->clusters.v[k].val;
			if (!c->waiting_tasks || c->placed_gen == ctx->m->capacity_gen)
				continue;
			struct waiting_kind *failed = NULL;
			size_t nf = 0, capf = 0;
			for (size_t j = 0; j < c->active.n && c->waiting_tasks; j++) {
				struct task *t = c->active.v[j];
				if (!t || !api_task_waiting(t) || (!t->placement && kind_failed(failed, nf, t)))
					continue;
				if (retry_one(ctx, r, t) || t->placement)
					continue;
				if (nf == capf) {
					capf = capf ? capf * 2 : 16;
					failed = xrealloc(failed, capf * sizeof *failed);
				}
				failed[nf++] = (struct waiting_kind){t->td, t->cp_name, t->group, t->cpu, t->memory};
			}
			free(failed);
			c->placed_gen = ctx->m->capacity_gen;
		}
	}
}

/* ---- what services share ---- */

int api_placement_check(const struct task_def *td, const cJSON *constraints, const cJSON *strategies,
			struct err *e)
{
	struct pspec ps;
	if (pspec_parse(&ps, td, constraints, strategies, e))
		return -1;
	pspec_free(&ps);
	return 0;
}

int api_svc_start(struct api_ctx *ctx, struct svc_start *st)
{
	struct service *s = st->svc;
	const struct deployment *d = st->dep;
	struct run rn;
	memset(&rn, 0, sizeof rn);
	rn.ctx = ctx;
	rn.r = model_region(ctx->m, s->region);
	rn.c = s->cluster;
	rn.td = d->td;
	rn.st = st;
	rn.why = -1;
	st->fail_why = -1;
	char group[300];
	snprintf(group, sizeof group, "service:%s", s->name);
	rn.group = model_intern(ctx->m, group);
	rn.started_by = d->iid;
	struct err e;
	err_clear(&e);
	if (api_network_check(d->td, d->network, &rn.subnet, &e) || shape_resources(&rn.shape, d->td, NULL, &e) ||
	    pspec_parse(&rn.ps, d->td, s->constraints, s->strategies, &e)) {
		/* Checked when the deployment was made: a definition cannot
		 * change since, so this does not happen; say so in the event. */
		st->fail_reason = "The service's task definition or placement cannot be used.";
		st->n_failed = st->count;
		return -1;
	}
	rn.ps.service = true;
	if (s->propagate_tags && strcmp(s->propagate_tags, "SERVICE") == 0)
		kvlist_copy(&rn.tags, &s->tags);
	else if (s->propagate_tags && strcmp(s->propagate_tags, "TASK_DEFINITION") == 0)
		kvlist_copy(&rn.tags, &d->td->tags);
	if (s->managed_tags) {
		/* enableECSManagedTags: the tags ECS adds to a service's tasks. */
		kvlist_set(&rn.tags, "aws:ecs:clusterName", s->cluster->name);
		kvlist_set(&rn.tags, "aws:ecs:serviceName", s->name);
	}
	cJSON *pj = NULL;
	if (cJSON_GetArraySize(s->constraints) > 0 || cJSON_GetArraySize(s->strategies) > 0) {
		pj = cJSON_CreateObject();
		if (cJSON_GetArraySize(s->constraints) > 0)
			cJSON_AddItemToObject(pj, "placementConstraints", cJSON_Duplicate(s->constraints, 1));
		if (cJSON_GetArraySize(s->strategies) > 0)
			cJSON_AddItemToObject(pj, "placementStrategy", cJSON_Duplicate(s->strategies, 1));
	}
	rn.placement_json = pj;
	if (st->ci) {
		/* DAEMON: the one instance, as StartTask places. */
		pspec_free(&rn.ps);
		pspec_parse(&rn.ps, d->td, s->constraints, NULL, &e);
		start_on(&rn, st->ci->arn, st->ci);
	} else {
		struct lane ln = {st->cp, st->lt, false, st->count};
		if (st->cp && st->lt == LT_EC2) {
			const struct capacity_provider *cp = model_cp_find(rn.r, st->cp);
			ln.managed = cp && cp->cur.ms.enabled;
		}
		place_lane(&rn, &ln);
	}
	cJSON_Delete(pj);
	run_release(&rn, NULL);
	return 0;
}

void api_ci_eligible(const struct task_def *td, const cJSON *constraints, struct container_instance *const *cis,
		     size_t n, bool *ok)
{
	struct pspec ps;
	struct err e;
	err_clear(&e);
	if (pspec_parse(&ps, td, constraints, NULL, &e)) {
		for (size_t i = 0; i < n; i++)
			ok[i] = false;
		return;
	}
	const cJSON *required = cJSON_GetObjectItemCaseSensitive(td->body, "requiresAttributes");
	bool attrs = cJSON_GetArraySize(required) > 0;
	for (size_t i = 0; i < n; i++)
		ok[i] = members_ok(&ps, cis[i]) && (!attrs || attributes_ok(required, cis[i]));
	pspec_free(&ps);
}

void api_svc_stop_order(struct api_ctx *ctx, const struct service *s, struct task *const *tasks, size_t n,
			size_t *order)
{
	/* The tasks on instances, and their instances, as the engine sees them. */
	struct sched_place_instance *in = xcalloc(n + 1, sizeof *in);
	struct container_instance **cis = xcalloc(n + 1, sizeof *cis);
	size_t *where = xcalloc(n + 1, sizeof *where), *idx = xcalloc(n + 1, sizeof *idx);
	size_t ni = 0, nt = 0;
	for (size_t i = 0; i < n; i++) {
		struct container_instance *ci = tasks[i]->ci;
		if (!ci || tasks[i]->desired == TS_STOPPED)
			continue;
		size_t k = 0;
		while (k < ni && cis[k] != ci)
			k++;
		if (k == ni) {
			cis[ni] = ci;
			in[ni] = (struct sched_place_instance){.id = ci->id, .cpu = ci->reg_cpu - ci->used_cpu,
							      .memory = ci->reg_mem - ci->used_mem, .zone = ci->zone,
							      .active = ci->status == CI_ACTIVE,
							      .agent_connected = ci->agent_connected};
			ni++;
		}
		where[nt] = k;
		idx[nt++] = i;
	}
	struct pspec ps;
	struct err e;
	err_clear(&e);
	bool parsed = pspec_parse(&ps, tasks[0]->td, NULL, s->strategies, &e) == 0;
	struct cands cs = {.ci = cis, .in = in, .n = ni};
	struct sched_place_task task = {.cpu = tasks[0]->cpu, .memory = tasks[0]->memory};
	struct sched_place_request req = {
		.instances = in, .n_instances = ni, .task = &task,
		.strategies = parsed ? ps.strat : NULL, .n_strategies = parsed ? ps.n_strat : 0,
		.caller = SCHED_PLACE_FOR_SERVICE, .attr = attr_of, .attr_arg = &cs,
	};
	size_t *picked = xcalloc(nt + 1, sizeof *picked);
	size_t k = nt ? sched_place_pick_stops(&req, where, nt, nt, ctx->rng, picked) : 0;
	/* The engine's order first, then every other task in index order. */
	bool *used = xcalloc(n + 1, sizeof *used);
	size_t o = 0;
	for (size_t i = 0; i < k; i++) {
		order[o++] = idx[picked[i]];
		used[idx[picked[i]]] = true;
	}
	for (size_t i = 0; i < n; i++)
		if (!used[i])
			order[o++] = i;
	if (parsed)
		pspec_free(&ps);
	free(used);
	free(picked);
	free(in);
	free(cis);
	free(where);
	free(idx);
}
