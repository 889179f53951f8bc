/* driver_sim: tasks run in simulation on the loop's clock.
 *
 * Each lifecycle step takes --sim-step-ms: PROVISIONING -> PENDING ->
 * ACTIVATING -> RUNNING, and once stopped DEACTIVATING -> STOPPING ->
 * DEPROVISIONING -> STOPPED.  A container runs until its task is stopped,
 * unless its definition says otherwise with dockerLabels berth.sim.runtime
 * (how long it runs) and berth.sim.exit-code (how it exits); an essential
 * container's exit stops the task (api_task_container_exited).  A container
 * stopped by a StopTask exits 143 (SIGTERM), as a process that honours it
 * does.  Containers with a healthCheck report the berth.sim.health result
 * (HEALTHY unless the label says UNHEALTHY) a step after the task runs. */
#include "api/api.h"
#include "server/server.h"

#define SIGTERM_EXIT 143

static int64_t step_at(const struct api_ctx *ctx)
{
	return ctx->now + ctx->cfg->sim_step_ms;
}

static void sim_launch(struct api_ctx *ctx, struct task *t)
{
	if (api_task_on_agent(ctx, t)) {
		if (!t->ci)
			infra_fargate_spawn(ctx, t); /* a Fargate task's own agent */
		api_agent_task_changed(ctx, t); /* its agent runs it */
		return;
	}
	api_task_due(ctx, t, step_at(ctx));
}

static void sim_stop(struct api_ctx *ctx, struct task *t)
{
	if (api_task_on_agent(ctx, t)) {
		api_agent_task_changed(ctx, t);
		return;
	}
	int64_t at = step_at(ctx);
	/* A Spot interruption's warning: the task runs on for its stopTimeout
	 * (ECS gives two minutes), then stops with SpotInterruption. */
	if (t->stop_code == STOP_TERMINATION_NOTICE && t->last == TS_RUNNING)
		at = ctx->now + ctx->cfg->spot_warning_ms;
	if (!t->due || t->due > at)
		api_task_due(ctx, t, at);
}

/* The soonest end of a container that declares its runtime, or 0. */
static int64_t next_exit(const struct task *t)
{
	int64_t next = 0;
	for (size_t i = 0; i < t->td->n_containers; i++) {
		int64_t rt = t->td->containers[i].sim_runtime_ms;
		if (rt < 0 || t->containers[i].status == TS_STOPPED)
			continue;
		int64_t at = t->started_at + rt;
		if (!next || at < next)
			next = at;
	}
	return next;
}

static void exit_due_containers(struct api_ctx *ctx, struct task *t)
{
	for (size_t i = 0; i < t->td->n_containers && t->desired != TS_STOPPED; i++) {
		const struct td_container *dc = &t->td->containers[i];
		if (dc->sim_runtime_ms >= 0 && t->containers[i].status != TS_STOPPED &&
		    t->started_at + dc->sim_runtime_ms <= ctx->now)
			api_task_container_exited(ctx, t, i, dc->sim_exit_code, NULL);
	}
}

/* Health checks: each container with one reports its berth.sim.health
 * result a step (plus its startPeriod) after the task started running.
 * Returns when the next result is due, or 0. */
static int64_t report_health(struct api_ctx *ctx, struct task *t)
{
	int64_t next = 0;
	for (size_t i = 0; i < t->td->n_containers && t->desired != TS_STOPPED; i++) {
		const struct td_container *dc = &t->td->containers[i];
		if (!dc->health_check || t->containers[i].health || t->containers[i].status == TS_STOPPED)
			continue;
		int64_t at = t->started_at + ctx->cfg->sim_step_ms + dc->health_after_ms;
		if (at <= ctx->now)
			api_task_container_health(ctx, t, i, dc->sim_health);
		else if (!next || at < next)
			next = at;
	}
	return next;
}

static void step_running(struct api_ctx *ctx, struct task *t)
{
	exit_due_containers(ctx, t);
	int64_t health = report_health(ctx, t);
	if (t->desired == TS_STOPPED && t->stop_code != STOP_TERMINATION_NOTICE) {
		sim_stop(ctx, t);
		return;
	}
	int64_t at = next_exit(t);
	if (health && (!at || health < at))
		at = health;
	if (at)
		api_task_due(ctx, t, at);
}

static void step_stopping(struct api_ctx *ctx, struct task *t)
{
	switch (t->last) {
	case TS_RUNNING:
		if (t->stop_code == STOP_TERMINATION_NOTICE)
			api_task_interrupted(ctx, t);
		api_task_progress(ctx, t, TS_DEACTIVATING);
		break;
	case TS_DEACTIVATING:
		api_task_progress(ctx, t, TS_STOPPING);
		break;
	case TS_STOPPING:
		for (size_t i = 0; i < t->td->n_containers; i++)
			api_task_container_exited(ctx, t, i, SIGTERM_EXIT, NULL);
		api_task_progress(ctx, t, TS_DEPROVISIONING);
		break;
	default:
		/* Never started, or done: straight to STOPPED. */
		api_task_progress(ctx, t, TS_STOPPED);
		return;
	}
	api_task_due(ctx, t, step_at(ctx));
}

static void sim_step(struct api_ctx *ctx, struct task *t)
{
	if (api_task_on_agent(ctx, t))
		return; /* its agent reports its steps */
	if (t->desired == TS_STOPPED) {
		step_stopping(ctx, t);
		return;
	}
	switch (t->last) {
	case TS_PROVISIONING:
		api_task_progress(ctx, t, TS_PENDING);
		api_task_due(ctx, t, step_at(ctx));
		break;
	case TS_PENDING:
		api_task_progress(ctx, t, TS_ACTIVATING);
		api_task_due(ctx, t, step_at(ctx));
		break;
	case TS_ACTIVATING:
		api_task_progress(ctx, t, TS_RUNNING);
		step_running(ctx, t);
		break;
	case TS_RUNNING:
		step_running(ctx, t);
		break;
	default:
		break;
	}
}

const struct driver_ops driver_sim_ops = {
	.name = "sim",
	.launch = sim_launch,
	.stop = sim_stop,
	.step = sim_step,
};
