/* instance_types: the table of instance_types.def and its lookup.  About
 * 150 rows: a linear scan costs less than keeping the rows sorted by hand. */
#include "scaling/instance_types.h"

#include <string.h>

static const struct instance_type rows[] = {
#define X(name, vcpu, mem) {name, vcpu, mem},
#include "scaling/instance_types.def"
#undef X
};

const struct instance_type *instance_type_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
		if (strcmp(rows[i].name, name) == 0)
			return &rows[i];
	return NULL;
}

const struct instance_type *instance_types(size_t *n)
{
	*n = sizeof rows / sizeof rows[0];
	return rows;
}
