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
 * (its tasks stop) and, a step later, Terminated.
 *
 * infra_process_ops: the same instances, each a real berth-agent process on
 * this host (--infra process).  At the end of its boot the instance starts
 * `berth-agent --identity-document ... --cpu --memory` (its type's slice)
 * in a session of its own, with its data under DATA_DIR/instances/ID; the
 * agent registers itself and runs the tasks placed there as processes.
 * Leaving the cluster is as above; at Terminated the agent gets SIGTERM and,
 * started with --exit-stops-tasks, stops its tasks and exits.  Its pid is
 * kept in DATA_DIR/instances/ID/agent.pid, so a restarted berthd still ends
 * the agents of the instances it terminates. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api/api.h"
#include "lib/log.h"
#include "lib/xalloc.h"
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

/* The instance identity document an agent on inst sends (heap text). */
static char *identity_document(const struct as_instance *inst)
{
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "instanceId", inst->id);
	cJSON_AddStringToObject(doc, "instanceType", inst->instance_type);
	cJSON_AddStringToObject(doc, "availabilityZone", inst->zone);
	cJSON_AddStringToObject(doc, "region", inst->group->region);
	cJSON_AddStringToObject(doc, "autoScalingGroupName", inst->group->name);
	char *text = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	return text;
}

static void register_instance(struct api_ctx *ctx, struct as_instance *inst)
{
	struct capacity_provider *cp;
	struct cluster *c = cluster_of(ctx, inst->group, &cp);
	const struct instance_type *t = instance_type_find(inst->instance_type);
	if (!c || !t)
		return; /* a group no cluster uses: an instance without ECS */
	char *doc_text = identity_document(inst);
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

/* One step of inst's life, the same for both drivers but for what an
 * instance is: boot makes it an ECS host, gone ends what boot made. */
static void step(struct api_ctx *ctx, struct as_group *g, struct as_instance *inst,
		 void (*boot)(struct api_ctx *, struct as_instance *), void (*gone)(const struct as_instance *))
{
	if (inst->lifecycle == AS_PENDING) {
		boot(ctx, inst);
		api_as_instance_state(ctx, inst, AS_IN_SERVICE);
	} else if (inst->lifecycle == AS_TERMINATING) {
		const struct container_instance *ci = ci_of(ctx, inst);
		if (ci && ci->status != CI_INACTIVE) {
			leave(ctx, g, inst);  /* still draining */
		} else {
			if (gone)
				gone(inst);
			api_as_instance_state(ctx, inst, AS_TERMINATED);  /* frees inst */
		}
	}
}

static void sim_step(struct api_ctx *ctx, struct as_group *g, struct as_instance *inst)
{
	step(ctx, g, inst, register_instance, NULL);
}

/* ---- the process driver ---- */

static struct {
	char *endpoint, *dir, *fargate_dir, *agent;
} proc_cfg;

void infra_process_configure(const char *endpoint, const char *data_dir, const char *agent_bin)
{
	free(proc_cfg.endpoint);
	free(proc_cfg.dir);
	free(proc_cfg.fargate_dir);
	free(proc_cfg.agent);
	proc_cfg.endpoint = endpoint ? xstrdup(endpoint) : NULL;
	proc_cfg.dir = data_dir ? xasprintf("%s/instances", data_dir) : NULL;
	proc_cfg.fargate_dir = data_dir ? xasprintf("%s/fargate", data_dir) : NULL;
	proc_cfg.agent = agent_bin ? xstrdup(agent_bin) : NULL;
}

static char *pid_path(const struct as_instance *inst)
{
	return xasprintf("%s/%s/agent.pid", proc_cfg.dir, inst->id);
}

/* Start argv detached (its own session, reparented to init), output to
 * log_path, its pid written to pid_file.  Everything is prepared before the
 * fork: after it, berthd's other threads are not there to release locks.
 * Returns the pid or -1. */
static pid_t spawn_detached(char *const argv[], const char *log_path, const char *pid_file)
{
	int fds[2];
	pid_t pid = -1;
	if (pipe2(fds, O_CLOEXEC) != 0)
		return -1;
	pid_t mid = fork();
	if (mid == 0) {
		setsid();
		pid_t g = fork();
		if (g == 0) {
			int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0640);
			if (fd >= 0) {
				dup2(fd, 1);
				dup2(fd, 2);
			}
			execv(argv[0], argv);
			_exit(127);
		}
		ssize_t w = write(fds[1], &g, sizeof g);
		_exit(w == (ssize_t)sizeof g ? 0 : 1);
	}
	close(fds[1]);
	if (mid > 0) {
		if (read(fds[0], &pid, sizeof pid) != (ssize_t)sizeof pid)
			pid = -1;
		while (waitpid(mid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	close(fds[0]);
	if (pid > 0) {
		FILE *f = fopen(pid_file, "w");
		if (f) {
			fprintf(f, "%d\n", (int)pid);
			fclose(f);
		}
	}
	return pid;
}

/* Start inst's agent, and keep its pid. */
static void spawn_agent(struct api_ctx *ctx, struct as_instance *inst)
{
	struct capacity_provider *cp;
	struct cluster *c = cluster_of(ctx, inst->group, &cp);
	const struct instance_type *t = instance_type_find(inst->instance_type);
	if (!c || !t || !proc_cfg.agent)
		return; /* a group no cluster uses: an instance without ECS */
	char *home = xasprintf("%s/%s", proc_cfg.dir, inst->id);
	mkdir(proc_cfg.dir, 0750);
	mkdir(home, 0750);
	char *doc_text = identity_document(inst);
	char *data = xasprintf("%s/data", home), *log_path = xasprintf("%s/agent.log", home);
	char cpu[24], mem[24];
	snprintf(cpu, sizeof cpu, "%d", t->vcpu * 1024);
	snprintf(mem, sizeof mem, "%ld", (long)t->memory_mib);
	char *argv[] = {proc_cfg.agent, "--endpoint", proc_cfg.endpoint, "--cluster", c->name, "--region",
			inst->group->region, "--data-dir", data, "--identity-document", doc_text, "--cpu", cpu,
			"--memory", mem, "--zone", inst->zone, "--exit-stops-tasks", NULL};
	char *pp = pid_path(inst);
	pid_t agent = spawn_detached(argv, log_path, pp);
	free(pp);
	if (agent > 0)
		log_info("instance %s: berth-agent pid %d (cluster %s)", inst->id, (int)agent, c->name);
	else
		log_warn("instance %s: cannot start %s", inst->id, proc_cfg.agent);
	free(doc_text);
	free(data);
	free(log_path);
	free(home);
}

void infra_fargate_spawn(struct api_ctx *ctx, struct task *t)
{
	if (!proc_cfg.agent || !proc_cfg.endpoint)
		return;
	char arn[256];
	task_arn(ctx->m, t, arn, sizeof arn);
	char *home = xasprintf("%s/%s", proc_cfg.fargate_dir, t->id);
	mkdir(proc_cfg.fargate_dir, 0750);
	mkdir(home, 0750);
	char *data = xasprintf("%s/data", home), *log_path = xasprintf("%s/agent.log", home);
	char *pid_file = xasprintf("%s/agent.pid", home);
	char *argv[] = {proc_cfg.agent, "--endpoint", proc_cfg.endpoint, "--cluster", t->cluster->name, "--region",
			t->cluster->region, "--data-dir", data, "--task-arn", arn, "--exit-stops-tasks", NULL};
	pid_t pid = spawn_detached(argv, log_path, pid_file);
	if (pid > 0)
		log_info("Fargate task %s: berth-agent pid %d", t->id, (int)pid);
	else
		log_warn("Fargate task %s: cannot start %s", t->id, proc_cfg.agent);
	free(pid_file);
	free(log_path);
	free(data);
	free(home);
}

static void stop_agent(const struct as_instance *inst)
{
	if (!proc_cfg.dir)
		return;
	char *pp = pid_path(inst);
	FILE *f = fopen(pp, "r");
	int pid = 0;
	if (f) {
		if (fscanf(f, "%d", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	if (pid > 1 && kill(pid, SIGTERM) == 0)
		log_info("instance %s terminated: berth-agent pid %d stops with its tasks", inst->id, pid);
	unlink(pp);
	free(pp);
}

static void proc_step(struct api_ctx *ctx, struct as_group *g, struct as_instance *inst)
{
	if (inst->lifecycle == AS_PENDING && !proc_cfg.endpoint) {
		api_infra_due(ctx, inst, ctx->now + 100); /* berthd is not listening yet */
		return;
	}
	step(ctx, g, inst, spawn_agent, stop_agent);
}

const struct infra_ops infra_process_ops = {
	.name = "process",
	.launch = sim_launch,
	.terminate = sim_terminate,
	.step = proc_step,
};

const struct infra_ops infra_sim_ops = {
	.name = "sim",
	.launch = sim_launch,
	.terminate = sim_terminate,
	.step = sim_step,
};
