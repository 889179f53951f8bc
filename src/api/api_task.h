/* api_task.h: what api_task.c (lifecycle, StopTask, DescribeTasks,
 * ListTasks) and api_run.c (RunTask, StartTask, placement) share. */
#ifndef BERTH_API_API_TASK_H
#define BERTH_API_API_TASK_H

#include <stdbool.h>

#include "api/api.h"

/* Add delta to the counters t's lastStatus feeds (cluster, instance). */
void api_task_count(struct task *t, int delta);
/* Charge the task's instance (or its region's Fargate pool) with it. */
void api_task_hold(struct api_ctx *ctx, struct task *t);
/* A PROVISIONING task with no instance yet, waiting for capacity. */
bool api_task_waiting(const struct task *t);
void api_task_set_waiting(struct api_ctx *ctx, struct task *t, bool on);
/* The task an id or ARN names in cluster c, or NULL. */
struct task *api_task_lookup(struct api_ctx *ctx, const struct cluster *c, const char *ref);
/* Try to place tasks waiting for capacity, where instances changed. */
void api_place_waiting(struct api_ctx *ctx);

/* RunTask's checks, shared with services (api_run.c). */
bool api_td_supports(const struct task_def *td, enum launch_type lt);
/* networkConfiguration against the definition's network mode; *subnet is
 * the first subnet (awsvpc) or NULL. */
int api_network_check(const struct task_def *td, const cJSON *network, const char **subnet, struct err *e);
/* placementConstraints and placementStrategy (either may be NULL) with the
 * definition's own constraints. */
int api_placement_check(const struct task_def *td, const cJSON *constraints, const cJSON *strategies,
			struct err *e);

/* DAEMON: which of cis[0..n) pass the definition's and the service's
 * memberOf constraints and the definition's required attributes. */
void api_ci_eligible(const struct task_def *td, const cJSON *constraints, struct container_instance *const *cis,
		     size_t n, bool *ok);

/* The order in which a service's tasks[0..n) should go on scale-in, as a
 * permutation into order[0..n): the service's placement strategies (or
 * its default, zones then instances) applied in reverse, so that what
 * stays is balanced; tasks without an instance come last. */
void api_svc_stop_order(struct api_ctx *ctx, const struct service *s, struct task *const *tasks, size_t n,
			size_t *order);

/* Start count tasks of a service's deployment on one lane (a provider or
 * a launch type), or on one instance (ci, DAEMON).  Tasks join the service
 * and go into started[] (room for count); the first failure's reason and
 * instance ARN (borrowed, valid until the model changes) say why the rest
 * could not be placed. */
struct svc_start {
	struct service *svc;
	const struct deployment *dep;
	const char *cp;             /* provider, or NULL for the launch type lt */
	enum launch_type lt;
	struct container_instance *ci;
	unsigned long count;
	struct task **started;
	size_t n_started;
	size_t n_failed;
	const char *fail_reason;
	const char *fail_arn;
	int fail_why;               /* enum sched_place_reason, or -1 (fail_reason says) */
};
int api_svc_start(struct api_ctx *ctx, struct svc_start *st);

/* A service task changed (lastStatus, desiredStatus): its service gets a
 * scheduler pass (api_service.c). */
void api_svc_task_changed(struct api_ctx *ctx, struct task *t);

#endif
