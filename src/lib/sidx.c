/* sidx: see sidx.h. */
#include "lib/sidx.h"

#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

void sidx_init(struct sidx *x)
{
	x->v = NULL;
	x->n = x->cap = 0;
}

void sidx_release(struct sidx *x)
{
	free(x->v);
	sidx_init(x);
}

/* Index of the first entry whose key is >= key. */
static size_t lower_bound(const struct sidx *x, const char *key)
{
	size_t lo = 0, hi = x->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(x->v[mid].key, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void *sidx_get(const struct sidx *x, const char *key)
{
	size_t i = lower_bound(x, key);
	return (i < x->n && strcmp(x->v[i].key, key) == 0) ? x->v[i].val : NULL;
}

void *sidx_put(struct sidx *x, const char *key, void *val)
{
	size_t i = lower_bound(x, key);
	if (i < x->n && strcmp(x->v[i].key, key) == 0) {
		void *old = x->v[i].val;
		x->v[i].key = key;
		x->v[i].val = val;
		return old;
	}
	if (x->n == x->cap) {
		x->cap = x->cap ? x->cap * 2 : 16;
		x->v = xrealloc(x->v, x->cap * sizeof *x->v);
	}
	memmove(x->v + i + 1, x->v + i, (x->n - i) * sizeof *x->v);
	x->v[i].key = key;
	x->v[i].val = val;
	x->n++;
	return NULL;
}

void *sidx_del(struct sidx *x, const char *key)
{
	size_t i = lower_bound(x, key);
	if (i >= x->n || strcmp(x->v[i].key, key) != 0)
		return NULL;
	void *old = x->v[i].val;
	memmove(x->v + i, x->v + i + 1, (x->n - i - 1) * sizeof *x->v);
	x->n--;
	return old;
}

size_t sidx_after(const struct sidx *x, const char *after)
{
	if (!after)
		return 0;
	size_t i = lower_bound(x, after);
	if (i < x->n && strcmp(x->v[i].key, after) == 0)
		i++;
	return i;
}
