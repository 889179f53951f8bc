/* hmap: see hmap.h. */
#include "lib/hmap.h"

#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

void hmap_init(struct hmap *h)
{
	h->v = NULL;
	h->n = h->cap = 0;
}

void hmap_release(struct hmap *h)
{
	free(h->v);
	hmap_init(h);
}

/* FNV-1a, then a finalising mix so that ids sharing a prefix spread. */
uint64_t hmap_hash(const char *key)
{
	uint64_t x = 0xcbf29ce484222325ULL;
	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		x = (x ^ *p) * 0x100000001b3ULL;
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

static size_t find(const struct hmap *h, const char *key, uint64_t hash)
{
	size_t mask = h->cap - 1;
	for (size_t i = hash & mask;; i = (i + 1) & mask) {
		if (!h->v[i].key)
			return i;
		if (h->v[i].hash == hash && strcmp(h->v[i].key, key) == 0)
			return i;
	}
}

void *hmap_get(const struct hmap *h, const char *key)
{
	if (!h->n)
		return NULL;
	size_t i = find(h, key, hmap_hash(key));
	return h->v[i].key ? h->v[i].val : NULL;
}

static void grow(struct hmap *h)
{
	size_t ncap = h->cap ? h->cap * 2 : 16;
	struct hmap_ent *old = h->v;
	size_t ocap = h->cap;
	h->v = xcalloc(ncap, sizeof *h->v);
	h->cap = ncap;
	for (size_t i = 0; i < ocap; i++)
		if (old[i].key)
			h->v[find(h, old[i].key, old[i].hash)] = old[i];
	free(old);
}

void *hmap_put(struct hmap *h, const char *key, void *val)
{
	if ((h->n + 1) * 4 > h->cap * 3)
		grow(h);
	uint64_t hash = hmap_hash(key);
	size_t i = find(h, key, hash);
	if (h->v[i].key) {
		void *prev = h->v[i].val;
		h->v[i].key = key;
		h->v[i].val = val;
		return prev;
	}
	h->v[i] = (struct hmap_ent){key, val, hash};
	h->n++;
	return NULL;
}

void *hmap_del(struct hmap *h, const char *key)
{
	if (!h->n)
		return NULL;
	size_t mask = h->cap - 1;
	size_t i = find(h, key, hmap_hash(key));
	if (!h->v[i].key)
		return NULL;
	void *val = h->v[i].val;
	/* Backward shift: move later entries of the run into the hole when
	 * their home slot does not lie between the hole and them. */
	size_t j = i;
	for (;;) {
		j = (j + 1) & mask;
		if (!h->v[j].key)
			break;
		size_t home = h->v[j].hash & mask;
		if ((j > i && (home <= i || home > j)) || (j < i && (home <= i && home > j))) {
			h->v[i] = h->v[j];
			i = j;
		}
	}
	h->v[i] = (struct hmap_ent){0};
	h->n--;
	return val;
}
