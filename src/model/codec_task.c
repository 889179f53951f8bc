/* codec_task: stub, being written. */
#include <stdlib.h>

#include "lib/xalloc.h"
#include "model/codec.h"

cJSON *codec_task(const struct model *m, const struct task *t, unsigned include)
{
	(void)include;
	char arn[256];
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "taskArn", task_arn(m, t, arn, sizeof arn));
	return j;
}

int codec_task_load(struct model *m, const cJSON *j)
{
	(void)m;
	(void)j;
	return -1;
}

char *codec_task_record_id(const struct task *t)
{
	return xasprintf("%s/%s/%s", t->cluster->region, t->cluster->name, t->id);
}
