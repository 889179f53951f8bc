/* codec_instance: stub, being written. */
#include <stdlib.h>

#include "lib/xalloc.h"
#include "model/codec.h"

cJSON *codec_ci(const struct model *m, const struct container_instance *ci, unsigned include)
{
	(void)m;
	(void)include;
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "containerInstanceArn", ci->arn);
	return j;
}

struct container_instance *codec_ci_from_record(const cJSON *j)
{
	(void)j;
	return NULL;
}

char *codec_ci_record_id(const struct container_instance *ci)
{
	return xasprintf("%s/%s/%s", ci->region, ci->cluster, ci->id);
}
