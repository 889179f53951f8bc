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

#endif
