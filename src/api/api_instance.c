/* api_instance.c: stub, being written. */
#include "api/api.h"

int api_register_container_instance(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	(void)ctx;
	(void)in;
	(void)out;
	return err_set(e, ERR_UNSUPPORTED_FEATURE, "Berth does not implement RegisterContainerInstance yet.");
}

int api_deregister_container_instance(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	(void)ctx;
	(void)in;
	(void)out;
	return err_set(e, ERR_UNSUPPORTED_FEATURE, "Berth does not implement DeregisterContainerInstance yet.");
}

int api_describe_container_instances(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	(void)ctx;
	(void)in;
	(void)out;
	return err_set(e, ERR_UNSUPPORTED_FEATURE, "Berth does not implement DescribeContainerInstances yet.");
}

int api_list_container_instances(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	(void)ctx;
	(void)in;
	(void)out;
	return err_set(e, ERR_UNSUPPORTED_FEATURE, "Berth does not implement ListContainerInstances yet.");
}

int api_update_container_instances_state(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	(void)ctx;
	(void)in;
	(void)out;
	return err_set(e, ERR_UNSUPPORTED_FEATURE, "Berth does not implement UpdateContainerInstancesState yet.");
}

int api_put_attributes(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	(void)ctx;
	(void)in;
	(void)out;
	return err_set(e, ERR_UNSUPPORTED_FEATURE, "Berth does not implement PutAttributes yet.");
}

int api_delete_attributes(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	(void)ctx;
	(void)in;
	(void)out;
	return err_set(e, ERR_UNSUPPORTED_FEATURE, "Berth does not implement DeleteAttributes yet.");
}

int api_list_attributes(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	(void)ctx;
	(void)in;
	(void)out;
	return err_set(e, ERR_UNSUPPORTED_FEATURE, "Berth does not implement ListAttributes yet.");
}

int64_t api_ci_advance(struct api_ctx *ctx, struct region *r)
{
	(void)ctx;
	(void)r;
	return 0;
}
