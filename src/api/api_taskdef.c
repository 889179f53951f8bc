/* api_taskdef.c: stub, being written. */
#include "api/api.h"

int api_register_task_definition(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	(void)ctx;
	(void)in;
	(void)out;
	return err_set(e, ERR_UNSUPPORTED_FEATURE, "Berth does not implement RegisterTaskDefinition yet.");
}

int api_describe_task_definition(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	(void)ctx;
	(void)in;
	(void)out;
	return err_set(e, ERR_UNSUPPORTED_FEATURE, "Berth does not implement DescribeTaskDefinition yet.");
}

int api_list_task_definitions(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	(void)ctx;
	(void)in;
	(void)out;
	return err_set(e, ERR_UNSUPPORTED_FEATURE, "Berth does not implement ListTaskDefinitions yet.");
}

int api_list_task_definition_families(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	(void)ctx;
	(void)in;
	(void)out;
	return err_set(e, ERR_UNSUPPORTED_FEATURE, "Berth does not implement ListTaskDefinitionFamilies yet.");
}

int api_deregister_task_definition(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	(void)ctx;
	(void)in;
	(void)out;
	return err_set(e, ERR_UNSUPPORTED_FEATURE, "Berth does not implement DeregisterTaskDefinition yet.");
}

int api_delete_task_definitions(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	(void)ctx;
	(void)in;
	(void)out;
	return err_set(e, ERR_UNSUPPORTED_FEATURE, "Berth does not implement DeleteTaskDefinitions yet.");
}

int64_t api_td_advance(struct api_ctx *ctx, struct region *r)
{
	(void)ctx;
	(void)r;
	return 0;
}
