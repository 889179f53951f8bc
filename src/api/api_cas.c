/* api_cas: the cluster auto scaling controller (ECS-SEMANTICS §8).
 *
 * Once a metric period (`--timing ecs`: a minute; `fast`: a second) it
 * evaluates every (cluster, capacity provider) whose provider has managed
 * scaling and whose Auto Scaling group exists: the group's instance types
 * and instances (busy when their container instance runs a task that is not
 * a DAEMON service's), the provider's PROVISIONING tasks in the cluster and
 * its settings go to the pure core (scaling/cas.c), and its answer is
 * applied: scale-in protection set and cleared (managed termination
 * protection), the group's desired capacity raised (the group launches), or
 * on scale-in exactly the empty unprotected instances the core chose
 * terminated with a decrement each.  Each evaluation is kept in the
 * provider's history (BerthExtensions_v1.GetScalingHistory, /metrics). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/api_task.h"
#include "lib/xalloc.h"
#include "model/model_as.h"
#include "scaling/cas.h"
#include "scaling/instance_types.h"

/* The group's instance types: its launch configuration's, or the
 * MixedInstancesPolicy overrides'. */
static size_t group_types(struct api_ctx *ctx, const struct as_group *g, struct scaling_cas_type *out, size_t max)
{
	size_t n = 0;
	const cJSON *lt = cJSON_GetObjectItemCaseSensitive(g->mixed, "LaunchTemplate");
	const cJSON *it;
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(lt, "Overrides"))
	{
		const struct instance_type *t = instance_type_find(api_str(it, "InstanceType"));
		if (t && n < max)
			out[n++] = (struct scaling_cas_type){(uint32_t)t->vcpu * 1024, (uint32_t)t->memory_mib};
	}
	if (!n && g->launch_config) {
		struct region *r = model_region(ctx->m, g->region);
		const struct as_launch_config *lc = model_as_lc_find(r, g->launch_config);
		const struct instance_type *t = lc ? instance_type_find(lc->instance_type) : NULL;
		if (t)
			out[n++] = (struct scaling_cas_type){(uint32_t)t->vcpu * 1024, (uint32_t)t->memory_mib};
	}
	return n;
}

/* Does ci run a task with desiredStatus RUNNING that no DAEMON service
 * started? */
static bool busy(const struct container_instance *ci)
{
	for (size_t i = 0; ci && i < ci->n_here; i++) {
		const struct task *t = ci->here[i];
		if (t->desired != TS_STOPPED && !(t->svc && t->svc->daemon))
			return true;
	}
	return false;
}

static uint16_t zone_index(const struct as_group *g, const char *zone)
{
	for (size_t i = 0; zone && i < g->n_zones && i < SCALING_CAS_ZONES_MAX - 1; i++)
		if (strcmp(g->zones[i], zone) == 0)
			return (uint16_t)i;
	return (uint16_t)(g->n_zones < SCALING_CAS_ZONES_MAX - 1 ? g->n_zones : SCALING_CAS_ZONES_MAX - 1);
}

/* The PROVISIONING tasks of provider cp in cluster c, waiting for room. */
static size_t waiting_tasks(const struct cluster *c, const char *cp, struct scaling_cas_task **out)
{
	size_t n = 0, cap = 0;
	*out = NULL;
	for (size_t i = 0; c->waiting_tasks && i < c->active.n; i++) {
		const struct task *t = c->active.v[i];
		if (!t || !api_task_waiting(t) || !t->cp_name || strcmp(t->cp_name, cp) != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			*out = xrealloc(*out, cap * sizeof **out);
		}
		struct scaling_cas_task *x = &(*out)[n++];
		memset(x, 0, sizeof *x);
		x->cpu = (uint32_t)t->cpu;
		x->memory = (uint32_t)t->memory;
		uint64_t key = 1469598103934665603ULL;
		for (size_t k = 0; k < t->td->n_containers; k++)
			for (size_t p = 0; p < t->td->containers[k].n_ports; p++) {
				const struct td_port *pt = &t->td->containers[k].ports[p];
				if (pt->host_port <= 0)
					continue;
				x->host_ports++;
				key = (key ^ (uint64_t)(pt->host_port * 2 + pt->udp)) * 1099511628211ULL;
			}
		x->ports_key = x->host_ports ? key : 0;
	}
	return n;
}

/* TerminateInstanceInAutoScalingGroup with ShouldDecrementDesiredCapacity,
 * as the request would do it. */
static void terminate(struct api_ctx *ctx, const struct as_instance *inst)
{
	cJSON *in = cJSON_CreateObject(), *out = NULL;
	cJSON_AddStringToObject(in, "InstanceId", inst->id);
	cJSON_AddBoolToObject(in, "ShouldDecrementDesiredCapacity", true);
	struct err e;
	err_clear(&e);
	api_as_call(ctx, "TerminateInstanceInAutoScalingGroup", in, &out, &e);
	cJSON_Delete(in);
	cJSON_Delete(out);
}

static void evaluate(struct api_ctx *ctx, struct region *r, struct cluster *c, struct capacity_provider *cp,
		     struct as_group *g)
{
	const struct api_config *cfg = ctx->cfg;
	struct scaling_cas_type types[64];
	size_t nt = group_types(ctx, g, types, 64);
	size_t ni;
	struct as_instance *const *inst = api_as_instances(g, &ni);
	struct scaling_cas_instance *iv = xcalloc(ni + 1, sizeof *iv);
	struct as_instance **ip = xcalloc(ni + 1, sizeof *ip);
	size_t n = 0;
	for (size_t i = 0; i < ni; i++) {
		struct as_instance *x = inst[i];
		if (x->lifecycle != AS_PENDING && x->lifecycle != AS_IN_SERVICE)
			continue;
		const struct container_instance *ci = sidx_get(&r->ec2_instances, x->id);
		iv[n] = (struct scaling_cas_instance){
			.launched_at = x->launched_at, .zone = zone_index(g, x->zone),
			.state = x->lifecycle == AS_IN_SERVICE ? SCALING_CAS_IN_SERVICE : SCALING_CAS_PENDING,
			.busy = busy(ci), .is_protected = x->protect,
		};
		ip[n++] = x;
	}
	struct scaling_cas_task *tasks;
	size_t ntasks = waiting_tasks(c, cp->name, &tasks);
	struct cas_state *st = model_cas_state(r, c->name, cp->name);
	/* Warm-up follows the timing, as every other duration here. */
	unsigned warmup = (unsigned)((double)cp->cur.ms.warmup * cfg->cas_timescale + 0.5);
	struct scaling_cas_input in = {
		.types = types, .n_types = nt, .instances = iv, .n_instances = n, .tasks = tasks, .n_tasks = ntasks,
		.settings = {(unsigned)cp->cur.ms.target_capacity, (unsigned)cp->cur.ms.min_step,
			     (unsigned)cp->cur.ms.max_step, warmup, cp->cur.termination_protection},
		.min_size = (unsigned long)g->min, .max_size = (unsigned long)g->max,
		.desired = (unsigned long)g->desired, .now = ctx->now,
		.high_datapoints = 1, .low_datapoints = cfg->cas_low_datapoints,
		.high_streak = st->high_streak, .low_streak = st->low_streak,
	};
	struct scaling_cas_result res;
	scaling_cas_result_init(&res);
	if (nt)
		scaling_cas_evaluate(&in, &res);
	else
		res.decision = SCALING_CAS_INCOMPATIBLE; /* no type Berth knows: nothing to size with */
	st->high_streak = res.high_streak;
	st->low_streak = res.low_streak;
	/* Protection first: the group's scale-in then spares busy instances. */
	for (size_t i = 0; nt && i < res.n_protect; i++)
		api_as_set_protection(ctx, ip[res.protect[i]], true);
	for (size_t i = 0; nt && i < res.n_unprotect; i++)
		api_as_set_protection(ctx, ip[res.unprotect[i]], false);
	if (nt && res.desired > (unsigned long)g->desired) {
		struct err e;
		err_clear(&e);
		api_as_set_desired(ctx, g, (int)res.desired, &e);
	} else if (nt && res.desired < (unsigned long)g->desired) {
		/* Scale-in takes exactly the empty unprotected instances the
		 * core chose, each with a decrement of the desired capacity. */
		for (size_t i = 0; i < res.n_terminate; i++)
			terminate(ctx, ip[res.terminate[i]]);
	}
	size_t in_service = 0, now_n;
	struct as_instance *const *after = api_as_instances(g, &now_n);
	for (size_t i = 0; i < now_n; i++)
		in_service += after[i]->lifecycle == AS_IN_SERVICE;
	struct cas_sample s = {ctx->now, nt ? res.cpr : 100.0, (long)res.m, (long)res.n, g->desired,
			       (long)in_service, (int)res.decision};
	model_cas_sample(st, &s);
	scaling_cas_result_free(&res);
	free(tasks);
	free(ip);
	free(iv);
}

int64_t api_cas_advance(struct api_ctx *ctx)
{
	struct model *m = ctx->m;
	int64_t period = ctx->cfg->cas_period_ms;
	if (period <= 0)
		return 0;
	if (m->cas_next_at && ctx->now < m->cas_next_at)
		return m->cas_next_at;
	bool any = false;
	for (size_t i = 0; i < m->regions.n; i++) {
		struct region *r = m->regions.v[i].val;
		const char *saved = ctx->region;
		ctx->region = r->name;
		for (size_t k = 0; k < r->clusters.n; k++) {
			struct cluster *c = r->clusters.v[k].val;
			if (c->status == CLUSTER_INACTIVE)
				continue;
			for (size_t p = 0; p < c->n_cps; p++) {
				struct capacity_provider *cp = cp_is_builtin(c->cps[p]) ? NULL : model_cp_find(r, c->cps[p]);
				if (!cp || cp->status != CP_ACTIVE || !cp->cur.ms.enabled || !cp->asg_name)
					continue;
				struct as_group *g = api_as_group_find(ctx, cp->asg_name);
				if (g && !g->deleting)
					evaluate(ctx, r, c, cp, g);
				any = true;
			}
		}
		ctx->region = saved;
	}
	/* Nothing to scale: no evaluation until a cluster or provider changes
	 * (which runs api_advance at once). */
	if (!any) {
		m->cas_next_at = 0;
		return 0;
	}
	/* The next evaluation on the period's grid. */
	int64_t base = m->cas_next_at ? m->cas_next_at : ctx->now;
	while (base <= ctx->now)
		base += period;
	m->cas_next_at = base;
	return base;
}

/* ---- the infrastructure driver's deadlines ---- */

void api_infra_due(struct api_ctx *ctx, struct as_instance *inst, int64_t at)
{
	inst->due = at;
	model_dirty_as_group(ctx->m, inst->group);
	if (at && (!ctx->m->infra_next_due || at < ctx->m->infra_next_due))
		ctx->m->infra_next_due = at;
	if (at)
		api_wake(ctx, at);
}

int64_t api_infra_advance(struct api_ctx *ctx)
{
	struct model *m = ctx->m;
	if (!m->infra_next_due || ctx->now < m->infra_next_due || !ctx->infra || !ctx->infra->step)
		return m->infra_next_due;
	m->infra_next_due = 0;
	for (size_t i = 0; i < m->regions.n; i++) {
		struct region *r = m->regions.v[i].val;
		/* Ids first: a step may remove instances from the index. */
		char (*due)[20] = xcalloc(r->as_instances.n + 1, sizeof *due);
		size_t nd = 0;
		for (size_t k = 0; k < r->as_instances.n; k++) {
			const struct as_instance *inst = r->as_instances.v[k].val;
			if (inst->due && inst->due <= ctx->now)
				memcpy(due[nd++], inst->id, sizeof inst->id);
			else if (inst->due && (!m->infra_next_due || inst->due < m->infra_next_due))
				m->infra_next_due = inst->due;
		}
		const char *saved = ctx->region;
		ctx->region = r->name;
		for (size_t k = 0; k < nd; k++) {
			struct as_instance *inst = model_as_instance_find(r, due[k]);
			if (!inst)
				continue;
			inst->due = 0;
			ctx->infra->step(ctx, inst->group, inst);
		}
		ctx->region = saved;
		free(due);
	}
	return m->infra_next_due;
}
