/* infra_sim: Auto Scaling group instances in simulation.
 *
 * An instance boots for --instance-boot-ms (scaled by the timing), then is
 * InService and, when its group backs a capacity provider of a cluster,
 * registers there as a container instance with its type's resources
 * (vCPUs x 1024 CPU units, the type's memory), its zone and the group's
 * name in its identity document, through RegisterContainerInstance as an
 * agent would.  An instance told to terminate leaves its cluster first:
 * with managed draining (the provider's managedDraining) it goes DRAINING
 * and waits until no service task runs on it, the services having replaced
 * them elsewhere (at most the draining hook's hour); then it is deregistered
 * (its tasks stop) and, a step later, Terminated. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "lib/log.h"
#include "model/model_as.h"
#include "scaling/instance_types.h"
#include "server/server.h"

/* Durations as parts of the boot time (--instance-boot-ms, already scaled
 * by the timing): a draining instance looks again every quarter of it; from
 * deregistered to Terminated takes a twelfth (5 s of a 60 s boot). */
static int64_t drain_check_ms(const struct api_ctx *ctx)
{
	int64_t v = ctx->cfg->instance_boot_ms / 4;
	return v > 0 ? v : 1;
}

static int64_t shutdown_ms(const struct api_ctx *ctx)
{
	int64_t v = ctx->cfg->instance_boot_ms / 12;
	return v > 0 ? v : 1;
}

/* The cluster whose provider uses g, and that provider, or NULL. */
static struct cluster *cluster_of(struct api_ctx *ctx, const struct as_group *g, struct capacity_provider **cpo)
{
	struct region *r = model_region(ctx->m, g->region);
	for (size_t i = 0; i < r->clusters.n; i++) {
		struct cluster *c = r->clusters.v[i].val;
		if (c->status == CLUSTER_INACTIVE)
			continue;
		for (size_t k = 0; k < c->n_cps; k++) {
			struct capacity_provider *cp = cp_is_builtin(c->cps[k]) ? NULL : model_cp_find(r, c->cps[k]);
			if (cp && cp->status != CP_INACTIVE && cp->asg_name && strcmp(cp->asg_name, g->name) == 0) {
				*cpo = cp;
				return c;
			}
		}
	}
	*cpo = NULL;
	return NULL;
}

static struct container_instance *ci_of(struct api_ctx *ctx, const struct as_instance *inst)
{
	struct region *r = model_region(ctx->m, inst->group->region);
	return sidx_get(&r->ec2_instances, inst->id);
}

/* An internal request, as a client would send it. */
static int call(struct api_ctx *ctx, const char *action, cJSON *in)
{
	cJSON *out = NULL;
	struct err e;
	err_clear(&e);
	int rc = api_call(ctx, action, in, &out, &e);
	if (rc)
		log_warn("sim infrastructure: %s failed: %s", action, e.msg);
	cJSON_Delete(out);
	cJSON_Delete(in);
	return rc;
}

static void register_instance(struct api_ctx *ctx, struct as_instance *inst)
{
	struct capacity_provider *cp;
	struct cluster *c = cluster_of(ctx, inst->group, &cp);
	const struct instance_type *t = instance_type_find(inst->instance_type);
	if (!c || !t)
		return; /* a group no cluster uses: an instance without ECS */
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "instanceId", inst->id);
	cJSON_AddStringToObject(doc, "instanceType", inst->instance_type);
	cJSON_AddStringToObject(doc, "availabilityZone", inst->zone);
	cJSON_AddStringToObject(doc, "region", inst->group->region);
	cJSON_AddStringToObject(doc, "autoScalingGroupName", inst->group->name);
	char *doc_text = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	cJSON *in = cJSON_CreateObject();
	cJSON_AddStringToObject(in, "cluster", c->name);
	cJSON_AddStringToObject(in, "instanceIdentityDocument", doc_text);
	cJSON *res = cJSON_AddArrayToObject(in, "totalResources");
	cJSON *cpu = cJSON_CreateObject(), *mem = cJSON_CreateObject();
	cJSON_AddStringToObject(cpu, "name", "CPU");
	cJSON_AddStringToObject(cpu, "type", "INTEGER");
	cJSON_AddNumberToObject(cpu, "integerValue", t->vcpu * 1024);
	cJSON_AddStringToObject(mem, "name", "MEMORY");
	cJSON_AddStringToObject(mem, "type", "INTEGER");
	cJSON_AddNumberToObject(mem, "integerValue", t->memory_mib);
	cJSON_AddItemToArray(res, cpu);
	cJSON_AddItemToArray(res, mem);
	free(doc_text);
	const char *saved = ctx->region;
	ctx->region = inst->group->region;
	call(ctx, "RegisterContainerInstance", in);
	ctx->region = saved;
}

static void sim_launch(struct api_ctx *ctx, struct as_group *g, struct as_instance *inst)
{
	(void)g;
	api_infra_due(ctx, inst, ctx->now + (ctx->cfg->instance_boot_ms > 0 ? ctx->cfg->instance_boot_ms : 1));
}

/* Does a service task still run on ci? */
static bool runs_service_task(const struct container_instance *ci)
{
	for (size_t i = 0; i < ci->n_here; i++)
		if (ci->here[i]->svc && ci->here[i]->last < TS_STOPPED && !ci->here[i]->svc->daemon)
			return true;
	return false;
}

/* Managed draining waits at most the lifecycle hook's heartbeat, 3600 s
 * (ECS-SEMANTICS §8.1: then the hook's default result, CONTINUE). */
#define DRAIN_HOOK_MS 3600000

/* Has inst been terminating longer than the draining hook waits? */
static bool drain_timed_out(const struct api_ctx *ctx, struct as_group *g, const struct as_instance *inst)
{
	const struct as_activity *a = inst->activity[0] ? model_as_activity_find(g, inst->activity) : NULL;
	return a && ctx->now - a->start >= (int64_t)((double)DRAIN_HOOK_MS * ctx->cfg->cas_timescale);
}

/* Leave the cluster: drain first with managed draining, then deregister;
 * Terminated a step later. */
static void leave(struct api_ctx *ctx, struct as_group *g, struct as_instance *inst)
{
	struct container_instance *ci = ci_of(ctx, inst);
	struct capacity_provider *cp;
	cluster_of(ctx, g, &cp);
	const char *saved = ctx->region;
	ctx->region = g->region;
	if (ci && ci->status != CI_INACTIVE && cp && cp->cur.draining && runs_service_task(ci) &&
	    !drain_timed_out(ctx, g, inst)) {
		if (ci->status == CI_ACTIVE) {
			cJSON *in = cJSON_CreateObject();
			cJSON_AddStringToObject(in, "cluster", ci->cluster);
			cJSON *l = cJSON_AddArrayToObject(in, "containerInstances");
			cJSON_AddItemToArray(l, cJSON_CreateString(ci->arn));
			cJSON_AddStringToObject(in, "status", "DRAINING");
			call(ctx, "UpdateContainerInstancesState", in);
		}
		ctx->region = saved;
		api_infra_due(ctx, inst, ctx->now + drain_check_ms(ctx));
		return;
	}
	if (ci && ci->status != CI_INACTIVE) {
		cJSON *in = cJSON_CreateObject();
		cJSON_AddStringToObject(in, "cluster", ci->cluster);
		cJSON_AddStringToObject(in, "containerInstance", ci->arn);
		cJSON_AddBoolToObject(in, "force", true);
		call(ctx, "DeregisterContainerInstance", in);
	}
	ctx->region = saved;
	api_infra_due(ctx, inst, ctx->now + shutdown_ms(ctx));
}

static void sim_terminate(struct api_ctx *ctx, struct as_group *g, struct as_instance *inst)
{
	leave(ctx, g, inst);
}

static void sim_step(struct api_ctx *ctx, struct as_group *g, struct as_instance *inst)
{
	if (inst->lifecycle == AS_PENDING) {
		register_instance(ctx, inst);
		api_as_instance_state(ctx, inst, AS_IN_SERVICE);
	} else if (inst->lifecycle == AS_TERMINATING) {
		const struct container_instance *ci = ci_of(ctx, inst);
		if (ci && ci->status != CI_INACTIVE)
			leave(ctx, g, inst);  /* still draining */
		else
			api_as_instance_state(ctx, inst, AS_TERMINATED);  /* frees inst */
	}
}

const struct infra_ops infra_sim_ops = {
	.name = "sim",
	.launch = sim_launch,
	.terminate = sim_terminate,
	.step = sim_step,
};
