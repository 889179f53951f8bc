/* sidx: a sorted index from string keys to pointers.
 *
 * One structure serves both lookup (binary search, O(log n)) and ordered
 * pagination (ListClusters pages in key order and resumes after a key).
 * Keys are borrowed: each key must live as long as its entry, which holds
 * when the key is a field of the value (a cluster's name).  Insertion is
 * O(n) pointer moves, cheap at the sizes ECS allows per region. */
#ifndef BERTH_LIB_SIDX_H
#define BERTH_LIB_SIDX_H

#include <stddef.h>

struct sidx_ent {
	const char *key;
	void *val;
};

struct sidx {
	struct sidx_ent *v;
	size_t n, cap;
};

void sidx_init(struct sidx *x);
/* Frees the array only; the values belong to the caller. */
void sidx_release(struct sidx *x);
void *sidx_get(const struct sidx *x, const char *key);
/* Insert or replace; returns the previous value or NULL. */
void *sidx_put(struct sidx *x, const char *key, void *val);
/* Remove; returns the removed value or NULL. */
void *sidx_del(struct sidx *x, const char *key);
/* Position of the first key > after (0 if after is NULL). */
size_t sidx_after(const struct sidx *x, const char *after);

#endif
