/* api_task.c: stub, being written. */
#include "api/api.h"

int api_run_task(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	(void)ctx;
	(void)in;
	(void)out;
	return err_set(e, ERR_UNSUPPORTED_FEATURE, "Berth does not implement RunTask yet.");
}

int api_start_task(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	(void)ctx;
	(void)in;
	(void)out;
	return err_set(e, ERR_UNSUPPORTED_FEATURE, "Berth does not implement StartTask yet.");
}

int api_stop_task(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	(void)ctx;
	(void)in;
	(void)out;
	return err_set(e, ERR_UNSUPPORTED_FEATURE, "Berth does not implement StopTask yet.");
}

int api_describe_tasks(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	(void)ctx;
	(void)in;
	(void)out;
	return err_set(e, ERR_UNSUPPORTED_FEATURE, "Berth does not implement DescribeTasks yet.");
}

int api_list_tasks(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	(void)ctx;
	(void)in;
	(void)out;
	return err_set(e, ERR_UNSUPPORTED_FEATURE, "Berth does not implement ListTasks yet.");
}

void api_tasks_instance_gone(struct api_ctx *ctx, struct container_instance *ci, const char *reason)
{
	(void)ctx;
	(void)ci;
	(void)reason;
}

int64_t api_task_advance(struct api_ctx *ctx)
{
	(void)ctx;
	return 0;
}
