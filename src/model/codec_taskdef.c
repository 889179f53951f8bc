/* codec_taskdef: stub, being written. */
#include <stdlib.h>

#include "lib/xalloc.h"
#include "model/codec.h"

cJSON *codec_td(const struct task_def *td, unsigned include)
{
	(void)include;
	return cJSON_Duplicate(td->body, 1);
}

struct task_def *codec_td_from_record(const cJSON *j)
{
	(void)j;
	return NULL;
}

char *codec_td_record_id(const struct task_def *td)
{
	return xasprintf("%s/%s:%d", td->region, td->family, td->revision);
}
