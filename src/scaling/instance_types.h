/* instance_types: the catalogue of EC2 instance types (instance_types.def):
 * each type's vCPUs and memory, which the Auto Scaling handlers check
 * names against and the infrastructure driver and the managed scaling core
 * size instances with.  Pure data: no state, no allocation. */
#ifndef BERTH_SCALING_INSTANCE_TYPES_H
#define BERTH_SCALING_INSTANCE_TYPES_H

#include <stddef.h>

struct instance_type {
	const char *name;           /* "m5.large" */
	int vcpu;
	int memory_mib;
};

/* The type called name, or NULL if the catalogue does not have it (or name
 * is NULL).  The result points into static data. */
const struct instance_type *instance_type_find(const char *name);

/* The catalogue as an array, in the order of instance_types.def. */
const struct instance_type *instance_types(size_t *n);

#endif
