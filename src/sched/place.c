/* place: see place.h.
 *
 * The working copy.  A session keeps, per instance (16 bytes), remaining
 * CPU and memory, the group count and a byte of flags: the "static" filter
 * results computed once (status, agent, host port conflicts with what the
 * instance reserved, required attributes, memberOf) and whether this
 * session placed a task there.  Host ports placed in the session need no
 * set: every task of a session has the same ports, so an instance that took
 * one task with a fixed host port conflicts with the next one.  Per
 * spread-attribute strategy it keeps each instance's bucket and each
 * bucket's count of group tasks.
 *
 * Monotonicity.  Within a session resources only shrink and counts only
 * grow, so an instance leaves the feasible set at most once and never comes
 * back, and a failure is final (it is cached).  The fast paths rest on it:
 * their indexes hold exactly the feasible instances, and an instance is
 * dropped from them after the placement that made it infeasible.
 *
 * Equivalence.  The scan path applies the chain literally.  For the chains
 * of the index path, literal application is the lexicographic minimum of
 * (bucket count, key, index) over feasible instances (the bucket count is 0
 * without a spread-attribute head; the key the group count, remaining CPU or
 * memory, or 0), which is what a heap of buckets over sorted runs yields
 * (see "the index path").  The random path draws rng_below(k) over the k
 * feasible instances and takes the k-th in index order, as the scan does. */
#include "sched/place.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/xalloc.h"

#define ZONE_ATTRIBUTE "ecs.availability-zone"

/* Static filter results, one bit each. */
enum {
	F_INACTIVE = 1,
	F_AGENT = 2,
	F_TCP = 4,
	F_UDP = 8,
	F_ATTR = 16,
	F_MEMBER = 32,
};

static const struct reason_row {
	const char *text;
	const char *event;
} reason_rows[] = {
	[SCHED_PLACE_OK] = {"", ""},
	[SCHED_PLACE_NO_INSTANCES] = {"No Container Instances were found in your cluster.", ""},
	[SCHED_PLACE_NOT_ACTIVE] = {"INACTIVE", "encountered error \"INACTIVE\""},
	[SCHED_PLACE_AGENT] = {"AGENT", "encountered error \"AGENT\""},
	[SCHED_PLACE_CPU] = {"RESOURCE:CPU", "has insufficient CPU units available"},
	[SCHED_PLACE_MEMORY] = {"RESOURCE:MEMORY", "has insufficient memory available"},
	[SCHED_PLACE_PORTS] = {"RESOURCE:PORTS", "is already using a port required by your task"},
	[SCHED_PLACE_PORTS_UDP] = {"RESOURCE:PORTS_UDP", "is already using a port required by your task"},
	[SCHED_PLACE_ATTRIBUTE] = {"ATTRIBUTE", "is missing an attribute required by your task"},
	[SCHED_PLACE_MEMBER_OF] = {"MemberOf placement constraint unsatisfied.",
				   "encountered error \"MemberOf placement constraint unsatisfied.\""},
	[SCHED_PLACE_DISTINCT_INSTANCE] = {"DistinctInstance placement constraint unsatisfied.",
					   "encountered error \"DistinctInstance placement constraint "
					   "unsatisfied.\""},
};

#define N_REASONS (sizeof reason_rows / sizeof reason_rows[0])

const char *sched_place_reason_text(enum sched_place_reason r)
{
	BERTH_ASSERT((size_t)r < N_REASONS);
	return reason_rows[r].text;
}

const char *sched_place_reason_event(enum sched_place_reason r)
{
	BERTH_ASSERT((size_t)r < N_REASONS);
	return reason_rows[r].event;
}

/* One row a (type, field) pair.  A NULL field accepts any field; a prefix
 * row needs a non-empty rest, which becomes the attribute name. */
static const struct strategy_row {
	const char *type;
	const char *field;
	int prefix;
	enum sched_place_kind kind;
} strategy_rows[] = {
	{"binpack", "cpu", 0, SCHED_PLACE_BINPACK_CPU},
	{"binpack", "memory", 0, SCHED_PLACE_BINPACK_MEMORY},
	{"spread", "instanceId", 0, SCHED_PLACE_SPREAD_INSTANCE},
	{"spread", "host", 0, SCHED_PLACE_SPREAD_INSTANCE},
	{"spread", "attribute:", 1, SCHED_PLACE_SPREAD_ATTRIBUTE},
	{"random", NULL, 0, SCHED_PLACE_RANDOM},
};

int sched_place_strategy_parse(const char *type, const char *field, struct sched_place_strategy *out)
{
	if (!type)
		return -1;
	for (size_t k = 0; k < sizeof strategy_rows / sizeof strategy_rows[0]; k++) {
		const struct strategy_row *row = &strategy_rows[k];
		if (strcmp(type, row->type) != 0)
			continue;
		if (!row->field) {
			*out = (struct sched_place_strategy){row->kind, NULL};
			return 0;
		}
		if (!field)
			continue;
		size_t len = strlen(row->field);
		if (row->prefix) {
			if (strncasecmp(field, row->field, len) == 0 && field[len]) {
				*out = (struct sched_place_strategy){row->kind, field + len};
				return 0;
			}
		} else if (strcasecmp(field, row->field) == 0) {
			*out = (struct sched_place_strategy){row->kind, NULL};
			return 0;
		}
	}
	return -1;
}

static const struct sched_place_strategy default_task[] = {
	{SCHED_PLACE_RANDOM, NULL},
};
static const struct sched_place_strategy default_service[] = {
	{SCHED_PLACE_SPREAD_ATTRIBUTE, ZONE_ATTRIBUTE},
	{SCHED_PLACE_SPREAD_INSTANCE, NULL},
};

static size_t chain_of(const struct sched_place_request *req, struct sched_place_strategy *chain)
{
	const struct sched_place_strategy *src = req->strategies;
	size_t n = req->n_strategies;
	BERTH_ASSERT(n <= SCHED_PLACE_STRATEGIES_MAX);
	if (n == 0) {
		if (req->caller == SCHED_PLACE_FOR_SERVICE) {
			src = default_service;
			n = sizeof default_service / sizeof default_service[0];
		} else {
			src = default_task;
			n = sizeof default_task / sizeof default_task[0];
		}
	}
	for (size_t s = 0; s < n; s++) {
		chain[s] = src[s];
		if (chain[s].kind == SCHED_PLACE_SPREAD_ATTRIBUTE && !chain[s].attribute)
			chain[s].attribute = "";
	}
	return n;
}

/* Buckets: out[i] = the bucket of instance i for attribute name; ids are
 * given in order of first appearance, instances lacking the attribute share
 * one.  Returns the number of buckets.  Open addressing on FNV-1a. */
static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

static size_t bucketize(const struct sched_place_request *req, const char *name, uint32_t *out)
{
	size_t n = req->n_instances;
	size_t cap = 16;
	while (cap < 2 * n)
		cap <<= 1;
	struct slot {
		const char *key;
		uint32_t id;
	} *t = xcalloc(cap, sizeof *t);
	int is_zone = strcmp(name, ZONE_ATTRIBUTE) == 0;
	uint32_t missing = UINT32_MAX;
	uint32_t nb = 0;
	for (size_t i = 0; i < n; i++) {
		const char *v;
		if (is_zone)
			v = req->instances[i].zone;
		else
			v = req->attr ? req->attr(req->attr_arg, i, name) : NULL;
		if (!v) {
			if (missing == UINT32_MAX)
				missing = nb++;
			out[i] = missing;
			continue;
		}
		size_t h = (size_t)fnv1a(v) & (cap - 1);
		while (t[h].key && strcmp(t[h].key, v) != 0)
			h = (h + 1) & (cap - 1);
		if (!t[h].key) {
			t[h].key = v;
			t[h].id = nb++;
		}
		out[i] = t[h].id;
	}
	free(t);
	return nb;
}

/* Copy the nonzero entries of ports, sorted, without duplicates. */
static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

static size_t norm_ports(const uint16_t *ports, size_t n, uint16_t **out)
{
	uint16_t *v = xmalloc((n ? n : 1) * sizeof *v);
	size_t m = 0;
	for (size_t k = 0; k < n; k++)
		if (ports[k])
			v[m++] = ports[k];
	qsort(v, m, sizeof *v, cmp_u16);
	size_t u = 0;
	for (size_t k = 0; k < m; k++)
		if (u == 0 || v[u - 1] != v[k])
			v[u++] = v[k];
	*out = v;
	return u;
}

/* 1 if the instance cannot take the task's ports: a shared port, or more than
 * SCHED_PLACE_PORTS_MAX together.  Both lists sorted; the reserved one must be
 * strictly ascending (checked: a broken invariant aborts). */
static int ports_conflict(const uint16_t *have, size_t n_have, const uint16_t *want, size_t n_want)
{
	for (size_t k = 1; k < n_have; k++)
		BERTH_ASSERT(have[k - 1] < have[k]);
	if (n_want == 0)
		return 0;
	if (n_have + n_want > SCHED_PLACE_PORTS_MAX)
		return 1;
	size_t a = 0, b = 0;
	while (a < n_have && b < n_want) {
		if (have[a] == want[b])
			return 1;
		if (have[a] < want[b])
			a++;
		else
			b++;
	}
	return 0;
}

enum path { PATH_SCAN, PATH_INDEX, PATH_RANDOM };

/* The key that orders the instances of a bucket on the index path, after
 * the spread-attribute head (or in the one bucket without it): the group
 * count (spread instanceId), remaining CPU or memory (binpack), or none. */
enum inner { IN_NONE, IN_GROUP, IN_CPU, IN_MEM };

/* The working copy of one instance, 16 bytes. */
struct wi {
	int32_t cpu, mem;
	uint32_t g;
	uint8_t flags;          /* F_* plus F_PLACED */
};

#define F_PLACED 64

/* A 16-ary tree of counts over a bitset, for "the k-th set bit". */
#define FAN 16
#define LEVELS_MAX 16

struct sched_place {
	size_t n;
	int32_t tcpu, tmem;
	size_t n_tcp, n_udp;    /* the task's distinct fixed host ports */
	int distinct;
	struct sched_place_strategy chain[SCHED_PLACE_STRATEGIES_MAX];
	size_t n_chain;

	struct wi *w;
	uint32_t *bucket[SCHED_PLACE_STRATEGIES_MAX];  /* spread attribute only */
	uint64_t *total[SCHED_PLACE_STRATEGIES_MAX];

	enum path path;
	/* PATH_INDEX: bucket b owns ent[off[b] .. off[b + 1]), its run sorted
	 * at the start, consumed from pos[b]; entries are key << 32 | index,
	 * so one integer compare orders (key, index). */
	int outer;              /* chain index of the spread-attribute head, or -1 */
	enum inner inner;
	uint64_t *ent;
	size_t *off;
	size_t *pos;
	uint64_t *fifo;         /* IN_GROUP: a ring a bucket, same slices as ent */
	size_t *head, *qlen;
	size_t *oh, on;         /* heap of buckets with a feasible instance */
	/* PATH_RANDOM */
	uint64_t *bits;
	uint32_t *lvl[LEVELS_MAX];
	size_t lvl_len[LEVELS_MAX];
	size_t n_lvl;
	uint64_t n_feasible;
	/* PATH_SCAN */
	size_t *cand;

	int failed;
	struct sched_place_result fail;
};

/* The first filter instance i fails now, or SCHED_PLACE_OK. */
static enum sched_place_reason stage(const struct sched_place *p, size_t i)
{
	const struct wi *w = &p->w[i];
	uint8_t f = w->flags;
	if (f & F_INACTIVE)
		return SCHED_PLACE_NOT_ACTIVE;
	if (f & F_AGENT)
		return SCHED_PLACE_AGENT;
	if (w->cpu < p->tcpu)
		return SCHED_PLACE_CPU;
	if (w->mem < p->tmem)
		return SCHED_PLACE_MEMORY;
	if ((f & F_TCP) || ((f & F_PLACED) && p->n_tcp))
		return SCHED_PLACE_PORTS;
	if ((f & F_UDP) || ((f & F_PLACED) && p->n_udp))
		return SCHED_PLACE_PORTS_UDP;
	if (f & F_ATTR)
		return SCHED_PLACE_ATTRIBUTE;
	if (f & F_MEMBER)
		return SCHED_PLACE_MEMBER_OF;
	if (p->distinct && w->g > 0)
		return SCHED_PLACE_DISTINCT_INSTANCE;
	return SCHED_PLACE_OK;
}

/* Charge instance i with one task; 1 if it can still take another. */
static int apply(struct sched_place *p, size_t i)
{
	struct wi *w = &p->w[i];
	w->cpu -= p->tcpu;
	w->mem -= p->tmem;
	w->g++;
	w->flags |= F_PLACED;
	for (size_t s = 0; s < p->n_chain; s++)
		if (p->total[s])
			p->total[s][p->bucket[s][i]]++;
	return stage(p, i) == SCHED_PLACE_OK;
}

/* The value strategy s minimises over instance i (scan path). */
static int64_t strategy_value(const struct sched_place *p, size_t s, size_t i)
{
	switch (p->chain[s].kind) {
	case SCHED_PLACE_BINPACK_CPU:
		return p->w[i].cpu;
	case SCHED_PLACE_BINPACK_MEMORY:
		return p->w[i].mem;
	case SCHED_PLACE_SPREAD_INSTANCE:
		return p->w[i].g;
	case SCHED_PLACE_SPREAD_ATTRIBUTE:
		return (int64_t)p->total[s][p->bucket[s][i]];
	case SCHED_PLACE_RANDOM:
		break;
	}
	return 0;
}

static size_t place_scan(struct sched_place *p, struct rng *rng)
{
	size_t m = 0;
	for (size_t i = 0; i < p->n; i++)
		if (stage(p, i) == SCHED_PLACE_OK)
			p->cand[m++] = i;
	if (m == 0)
		return SCHED_PLACE_NONE;
	for (size_t s = 0; s < p->n_chain && m > 1; s++) {
		if (p->chain[s].kind == SCHED_PLACE_RANDOM) {
			p->cand[0] = p->cand[rng_below(rng, m)];
			m = 1;
			break;
		}
		int64_t best = strategy_value(p, s, p->cand[0]);
		for (size_t k = 1; k < m; k++) {
			int64_t v = strategy_value(p, s, p->cand[k]);
			if (v < best)
				best = v;
		}
		size_t kept = 0;
		for (size_t k = 0; k < m; k++)
			if (strategy_value(p, s, p->cand[k]) == best)
				p->cand[kept++] = p->cand[k];
		m = kept;
	}
	size_t i = p->cand[0];
	apply(p, i);
	return i;
}

/* ---- the index path ----
 *
 * Each bucket keeps its feasible instances as a run sorted by (key, index)
 * at the start, and placements only ever take the least entry of the
 * bucket at the head of the bucket heap:
 *
 * binpack (or no key): the taken instance's key shrinks (or stays), so it
 * stays the least; it is rewritten in place at the head of the run, and the
 * run moves on when the instance stops being feasible.  Nothing else moves.
 *
 * spread instanceId: each placement takes the least (g, i) and turns it
 * into (g + 1, i), so the keys taken strictly increase and so do the keys
 * produced; appended to a FIFO they stay sorted.  The bucket's least key is
 * the lesser of the heads of the run and of the FIFO.  Each instance is in
 * the run or in the FIFO at most once, so the FIFO needs the bucket's size.
 *
 * Both are O(1) a placement; the bucket heap costs O(log buckets), and
 * placing only changes the head bucket's keys, so one sift-down restores it. */

static uint64_t entry(const struct sched_place *p, size_t i)
{
	const struct wi *w = &p->w[i];
	uint64_t key = 0;
	switch (p->inner) {
	case IN_GROUP:
		key = w->g;
		break;
	case IN_CPU:
		key = (uint32_t)w->cpu;  /* >= 0: the instance is feasible */
		break;
	case IN_MEM:
		key = (uint32_t)w->mem;
		break;
	case IN_NONE:
		break;
	}
	return key << 32 | i;
}

/* The least entry of bucket b; UINT64_MAX if it has none. */
static uint64_t bucket_top(const struct sched_place *p, size_t b)
{
	size_t o = p->off[b];
	uint64_t a = o + p->pos[b] < p->off[b + 1] ? p->ent[o + p->pos[b]] : UINT64_MAX;
	if (p->inner != IN_GROUP || !p->qlen[b])
		return a;
	uint64_t q = p->fifo[o + p->head[b]];
	return a < q ? a : q;
}

static int outer_less(const struct sched_place *p, size_t a, size_t b)
{
	if (p->outer >= 0) {
		uint64_t ta = p->total[p->outer][a], tb = p->total[p->outer][b];
		if (ta != tb)
			return ta < tb;
	}
	return bucket_top(p, a) < bucket_top(p, b);
}

static void outer_sift(struct sched_place *p, size_t pos)
{
	size_t *h = p->oh, size = p->on;
	size_t x = h[pos];
	for (;;) {
		size_t c = 2 * pos + 1;
		if (c >= size)
			break;
		if (c + 1 < size && outer_less(p, h[c + 1], h[c]))
			c++;
		if (!outer_less(p, h[c], x))
			break;
		h[pos] = h[c];
		pos = c;
	}
	h[pos] = x;
}

/* Sort v[0..m) by the key (high half), keeping the order of equal keys:
 * LSD radix, a byte a pass, passes where all keys share the byte skipped
 * (all of them, when every key is equal). */
static void sort_by_key(uint64_t *v, size_t m)
{
	uint64_t *tmp = NULL;
	for (unsigned shift = 32; shift < 64; shift += 8) {
		size_t cnt[257] = {0};
		for (size_t k = 0; k < m; k++)
			cnt[((v[k] >> shift) & 0xff) + 1]++;
		if (m == 0 || cnt[((v[0] >> shift) & 0xff) + 1] == m)
			continue;
		for (size_t d = 0; d < 256; d++)
			cnt[d + 1] += cnt[d];
		if (!tmp)
			tmp = xmalloc(m * sizeof *tmp);
		for (size_t k = 0; k < m; k++)
			tmp[cnt[(v[k] >> shift) & 0xff]++] = v[k];
		memcpy(v, tmp, m * sizeof *v);
	}
	free(tmp);
}

static void index_build(struct sched_place *p, size_t nb)
{
	size_t n = p->n;
	BERTH_ASSERT(n <= UINT32_MAX);
	const uint32_t *bk = p->outer >= 0 ? p->bucket[p->outer] : NULL;
	/* All feasible entries in index order, sorted by key (stable, so by
	 * (key, index)), then spread to their buckets (stable again). */
	uint64_t *all = xmalloc((n ? n : 1) * sizeof *all);
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (stage(p, i) == SCHED_PLACE_OK)
			all[m++] = entry(p, i);
	if (p->inner != IN_NONE)
		sort_by_key(all, m);
	p->ent = xmalloc((m ? m : 1) * sizeof *p->ent);
	p->off = xcalloc(nb + 1, sizeof *p->off);
	p->pos = xcalloc(nb, sizeof *p->pos);
	for (size_t k = 0; k < m; k++)
		p->off[(bk ? bk[(uint32_t)all[k]] : 0) + 1]++;
	for (size_t b = 0; b < nb; b++)
		p->off[b + 1] += p->off[b];
	for (size_t k = 0; k < m; k++) {
		size_t b = bk ? bk[(uint32_t)all[k]] : 0;
		p->ent[p->off[b] + p->pos[b]++] = all[k];
	}
	free(all);
	memset(p->pos, 0, nb * sizeof *p->pos);
	if (p->inner == IN_GROUP) {
		p->head = xcalloc(nb, sizeof *p->head);
		p->qlen = xcalloc(nb, sizeof *p->qlen);
		p->fifo = xmalloc((m ? m : 1) * sizeof *p->fifo);
	}
	p->oh = xmalloc((nb ? nb : 1) * sizeof *p->oh);
	p->on = 0;
	for (size_t b = 0; b < nb; b++)
		if (p->off[b + 1] > p->off[b])
			p->oh[p->on++] = b;
	for (size_t k = p->on / 2; k-- > 0;)
		outer_sift(p, k);
}

static size_t place_index(struct sched_place *p)
{
	if (p->on == 0)
		return SCHED_PLACE_NONE;
	size_t b = p->oh[0];
	size_t o = p->off[b], cap = p->off[b + 1] - o;
	uint64_t a = p->pos[b] < cap ? p->ent[o + p->pos[b]] : UINT64_MAX;
	size_t i;
	if (p->inner == IN_GROUP) {
		uint64_t q = p->qlen[b] ? p->fifo[o + p->head[b]] : UINT64_MAX;
		if (a < q) {
			p->pos[b]++;
		} else {
			a = q;
			p->head[b] = p->head[b] + 1 == cap ? 0 : p->head[b] + 1;
			p->qlen[b]--;
		}
		i = (size_t)(uint32_t)a;
		if (apply(p, i)) {
			size_t tail = p->head[b] + p->qlen[b];
			p->fifo[o + (tail >= cap ? tail - cap : tail)] = entry(p, i);
			p->qlen[b]++;
		}
	} else {
		i = (size_t)(uint32_t)a;
		if (apply(p, i))
			p->ent[o + p->pos[b]] = entry(p, i);
		else
			p->pos[b]++;
	}
	if (bucket_top(p, b) == UINT64_MAX)
		p->oh[0] = p->oh[--p->on];
	if (p->on > 1)
		outer_sift(p, 0);
	return i;
}

/* ---- the random path ----
 *
 * Feasible instances are the set bits of bits[]; lvl[0][j] counts the bits
 * of word j, lvl[l + 1][j] the sum of lvl[l][FAN j .. FAN j + FAN), up to a
 * top level of at most FAN counts.  The k-th feasible instance in index order
 * is found walking down, one run of at most FAN counts a level. */

static void random_build(struct sched_place *p)
{
	size_t nw = (p->n + 63) / 64;
	p->bits = xcalloc(nw ? nw : 1, sizeof *p->bits);
	for (size_t i = 0; i < p->n; i++)
		if (stage(p, i) == SCHED_PLACE_OK) {
			p->bits[i / 64] |= 1ULL << (i % 64);
			p->n_feasible++;
		}
	size_t len = nw ? nw : 1;
	p->lvl[0] = xmalloc(len * sizeof *p->lvl[0]);
	for (size_t j = 0; j < len; j++)
		p->lvl[0][j] = j < nw ? (uint32_t)__builtin_popcountll(p->bits[j]) : 0;
	p->lvl_len[0] = len;
	p->n_lvl = 1;
	while (len > FAN) {
		size_t up = (len + FAN - 1) / FAN;
		BERTH_ASSERT(p->n_lvl < LEVELS_MAX);
		uint32_t *v = xcalloc(up, sizeof *v);
		for (size_t j = 0; j < len; j++)
			v[j / FAN] += p->lvl[p->n_lvl - 1][j];
		p->lvl[p->n_lvl] = v;
		p->lvl_len[p->n_lvl++] = up;
		len = up;
	}
}

/* The position of the k-th (from 0) set bit of w. */
static unsigned select64(uint64_t w, uint64_t k)
{
	unsigned pos = 0;
	for (unsigned half = 32; half; half >>= 1) {
		uint64_t low = w & ((1ULL << half) - 1);
		unsigned c = (unsigned)__builtin_popcountll(low);
		if (k >= c) {
			k -= c;
			w >>= half;
			pos += half;
		} else {
			w = low;
		}
	}
	return pos;
}

static size_t place_random(struct sched_place *p, struct rng *rng)
{
	if (p->n_feasible == 0)
		return SCHED_PLACE_NONE;
	uint64_t k = p->n_feasible > 1 ? rng_below(rng, p->n_feasible) : 0;
	size_t j = 0;
	for (size_t l = p->n_lvl; l-- > 0;) {
		const uint32_t *v = p->lvl[l];
		size_t c = j * FAN;
		while (k >= v[c]) {
			k -= v[c];
			c++;
		}
		j = c;
	}
	size_t i = j * 64 + select64(p->bits[j], k);
	if (!apply(p, i)) {
		p->bits[j] &= ~(1ULL << (i % 64));
		for (size_t l = 0; l < p->n_lvl; l++, j /= FAN)
			p->lvl[l][j]--;
		p->n_feasible--;
	}
	return i;
}

/* ---- sessions ---- */

/* The chain shapes the index path serves; sets outer and inner. */
static int index_shape(struct sched_place *p)
{
	size_t s = 0;
	p->outer = -1;
	p->inner = IN_NONE;
	if (p->n_chain > 0 && p->chain[0].kind == SCHED_PLACE_SPREAD_ATTRIBUTE) {
		p->outer = 0;
		s = 1;
	}
	if (p->n_chain - s > 1)
		return 0;
	if (p->n_chain - s == 0)
		return p->outer >= 0;
	switch (p->chain[s].kind) {
	case SCHED_PLACE_SPREAD_INSTANCE:
		p->inner = IN_GROUP;
		return 1;
	case SCHED_PLACE_BINPACK_CPU:
		p->inner = IN_CPU;
		return 1;
	case SCHED_PLACE_BINPACK_MEMORY:
		p->inner = IN_MEM;
		return 1;
	default:
		return 0;
	}
}

struct sched_place *sched_place_new(const struct sched_place_request *req)
{
	const struct sched_place_task *t = req->task;
	BERTH_ASSERT(t && t->cpu >= 0 && t->memory >= 0);
	struct sched_place *p = xcalloc(1, sizeof *p);
	size_t n = req->n_instances;
	p->n = n;
	p->tcpu = t->cpu;
	p->tmem = t->memory;
	p->distinct = req->distinct_instance;
	p->n_chain = chain_of(req, p->chain);

	uint16_t *tcp, *udp;
	p->n_tcp = norm_ports(t->tcp, t->n_tcp, &tcp);
	p->n_udp = norm_ports(t->udp, t->n_udp, &udp);

	size_t nn = n ? n : 1;
	p->w = xmalloc(nn * sizeof *p->w);
	for (size_t i = 0; i < n; i++) {
		const struct sched_place_instance *in = &req->instances[i];
		uint8_t f = 0;
		if (!in->active)
			f |= F_INACTIVE;
		if (!in->agent_connected)
			f |= F_AGENT;
		if (ports_conflict(in->tcp, in->n_tcp, tcp, p->n_tcp))
			f |= F_TCP;
		if (ports_conflict(in->udp, in->n_udp, udp, p->n_udp))
			f |= F_UDP;
		if (req->attr_ok && !req->attr_ok[i])
			f |= F_ATTR;
		if (req->member_ok && !req->member_ok[i])
			f |= F_MEMBER;
		p->w[i] = (struct wi){in->cpu, in->memory, in->group_count, f};
	}
	free(tcp);
	free(udp);

	size_t nb[SCHED_PLACE_STRATEGIES_MAX] = {0};
	for (size_t s = 0; s < p->n_chain; s++) {
		if (p->chain[s].kind != SCHED_PLACE_SPREAD_ATTRIBUTE)
			continue;
		p->bucket[s] = xmalloc(nn * sizeof *p->bucket[s]);
		nb[s] = bucketize(req, p->chain[s].attribute, p->bucket[s]);
		p->total[s] = xcalloc(nb[s] ? nb[s] : 1, sizeof *p->total[s]);
		for (size_t i = 0; i < n; i++)
			p->total[s][p->bucket[s][i]] += p->w[i].g;
	}

	if (req->general_only) {
		p->path = PATH_SCAN;
	} else if (p->n_chain == 1 && p->chain[0].kind == SCHED_PLACE_RANDOM) {
		p->path = PATH_RANDOM;
		random_build(p);
	} else if (index_shape(p)) {
		p->path = PATH_INDEX;
		index_build(p, p->outer >= 0 ? nb[p->outer] : 1);
	} else {
		p->path = PATH_SCAN;
	}
	if (p->path == PATH_SCAN)
		p->cand = xmalloc(nn * sizeof *p->cand);
	return p;
}

/* The failure of the next task: the closest instance (see place.h). */
static struct sched_place_result closest(const struct sched_place *p)
{
	struct sched_place_result r = {SCHED_PLACE_NO_INSTANCES, SCHED_PLACE_NONE};
	int64_t best_score = 0;
	for (size_t i = 0; i < p->n; i++) {
		enum sched_place_reason why = stage(p, i);
		if (why == SCHED_PLACE_NOT_ACTIVE)
			continue;
		BERTH_ASSERT(why != SCHED_PLACE_OK);
		int64_t score = why == SCHED_PLACE_CPU ? p->w[i].cpu : why == SCHED_PLACE_MEMORY ? p->w[i].mem : 0;
		if (r.instance == SCHED_PLACE_NONE || why > r.reason || (why == r.reason && score > best_score)) {
			r.reason = why;
			r.instance = i;
			best_score = score;
		}
	}
	return r;
}

void sched_place_next(struct sched_place *p, struct rng *rng, struct sched_place_result *out)
{
	if (p->failed) {
		*out = p->fail;
		return;
	}
	size_t i;
	switch (p->path) {
	case PATH_INDEX:
		i = place_index(p);
		break;
	case PATH_RANDOM:
		i = place_random(p, rng);
		break;
	default:
		i = place_scan(p, rng);
		break;
	}
	if (i == SCHED_PLACE_NONE) {
		p->fail = closest(p);
		p->failed = 1;
		*out = p->fail;
		return;
	}
	out->reason = SCHED_PLACE_OK;
	out->instance = i;
}

void sched_place_explain(const struct sched_place *p, enum sched_place_reason *out)
{
	for (size_t i = 0; i < p->n; i++)
		out[i] = stage(p, i);
}

size_t sched_place_chain(const struct sched_place *p, const struct sched_place_strategy **chain)
{
	*chain = p->chain;
	return p->n_chain;
}

int sched_place_is_fast(const struct sched_place *p)
{
	return p->path != PATH_SCAN;
}

void sched_place_free(struct sched_place *p)
{
	if (!p)
		return;
	free(p->w);
	for (size_t s = 0; s < SCHED_PLACE_STRATEGIES_MAX; s++) {
		free(p->bucket[s]);
		free(p->total[s]);
	}
	free(p->ent);
	free(p->off);
	free(p->pos);
	free(p->fifo);
	free(p->head);
	free(p->qlen);
	free(p->oh);
	free(p->bits);
	for (size_t l = 0; l < p->n_lvl; l++)
		free(p->lvl[l]);
	free(p->cand);
	free(p);
}

void sched_place_run(const struct sched_place_request *req, struct rng *rng, size_t count,
		     struct sched_place_result *out)
{
	struct sched_place *p = sched_place_new(req);
	for (size_t k = 0; k < count; k++)
		sched_place_next(p, rng, &out[k]);
	sched_place_free(p);
}

/* ---- scale-in ---- */

size_t sched_place_pick_stops(const struct sched_place_request *req, const size_t *task_instance,
			      size_t n_tasks, size_t count, struct rng *rng, size_t *out)
{
	struct sched_place_strategy chain[SCHED_PLACE_STRATEGIES_MAX];
	size_t n_chain = chain_of(req, chain);
	size_t n = req->n_instances, nn = n ? n : 1;
	size_t k = count < n_tasks ? count : n_tasks;
	if (k == 0)
		return 0;
	int64_t tcpu = req->task ? req->task->cpu : 0;
	int64_t tmem = req->task ? req->task->memory : 0;

	uint32_t *cnt = xcalloc(nn, sizeof *cnt);
	int64_t *cpu = xmalloc(nn * sizeof *cpu);
	int64_t *mem = xmalloc(nn * sizeof *mem);
	for (size_t i = 0; i < n; i++) {
		cpu[i] = req->instances[i].cpu;
		mem[i] = req->instances[i].memory;
	}
	for (size_t j = 0; j < n_tasks; j++) {
		BERTH_ASSERT(task_instance[j] < n);
		cnt[task_instance[j]]++;
	}
	uint32_t *bucket[SCHED_PLACE_STRATEGIES_MAX] = {0};
	uint64_t *bcnt[SCHED_PLACE_STRATEGIES_MAX] = {0};
	for (size_t s = 0; s < n_chain; s++) {
		if (chain[s].kind != SCHED_PLACE_SPREAD_ATTRIBUTE)
			continue;
		bucket[s] = xmalloc(nn * sizeof *bucket[s]);
		size_t nb = bucketize(req, chain[s].attribute, bucket[s]);
		bcnt[s] = xcalloc(nb ? nb : 1, sizeof *bcnt[s]);
		for (size_t j = 0; j < n_tasks; j++)
			bcnt[s][bucket[s][task_instance[j]]]++;
	}
	/* Every criterion is a value of the task's instance, so each round
	 * filters instances (O(instances), not O(tasks)): the tasks of an
	 * instance sit in one segment of `slot`, its first cnt[i] entries the
	 * ones still there. */
	size_t *start = xcalloc(nn + 1, sizeof *start);
	for (size_t i = 0; i < n; i++)
		start[i + 1] = start[i] + cnt[i];
	size_t *fill = xcalloc(nn, sizeof *fill);
	size_t *slot = xmalloc((n_tasks ? n_tasks : 1) * sizeof *slot);
	for (size_t j = 0; j < n_tasks; j++) {
		size_t i = task_instance[j];
		slot[start[i] + fill[i]++] = j;
	}
	size_t *cand = xmalloc(nn * sizeof *cand);

	for (size_t r = 0; r < k; r++) {
		size_t m = 0;
		for (size_t i = 0; i < n; i++)
			if (cnt[i])
				cand[m++] = i;
		for (size_t s = 0; s < n_chain && m > 1; s++) {
			if (chain[s].kind == SCHED_PLACE_RANDOM)
				break;  /* one task uniformly: the draw below */
			int64_t best = INT64_MIN;
			for (int pass = 0; pass < 2; pass++) {
				size_t kept = 0;
				for (size_t c = 0; c < m; c++) {
					size_t i = cand[c];
					int64_t v = 0;
					switch (chain[s].kind) {
					case SCHED_PLACE_BINPACK_CPU:
						v = cpu[i];
						break;
					case SCHED_PLACE_BINPACK_MEMORY:
						v = mem[i];
						break;
					case SCHED_PLACE_SPREAD_INSTANCE:
						v = cnt[i];
						break;
					case SCHED_PLACE_SPREAD_ATTRIBUTE:
						v = (int64_t)bcnt[s][bucket[s][i]];
						break;
					case SCHED_PLACE_RANDOM:
						break;
					}
					if (pass == 0 && v > best)
						best = v;
					else if (pass == 1 && v == best)
						cand[kept++] = cand[c];
				}
				if (pass == 1)
					m = kept;
			}
		}
		/* One of the tasks left on the kept instances, uniformly. */
		uint64_t total = 0;
		for (size_t c = 0; c < m; c++)
			total += cnt[cand[c]];
		uint64_t pick = total > 1 ? rng_below(rng, total) : 0;
		size_t c = 0;
		while (pick >= cnt[cand[c]])
			pick -= cnt[cand[c++]];
		size_t i = cand[c];
		size_t at = start[i] + (size_t)pick, last = start[i] + cnt[i] - 1;
		size_t j = slot[at];
		slot[at] = slot[last];
		slot[last] = j;
		out[r] = j;
		cnt[i]--;
		cpu[i] += tcpu;
		mem[i] += tmem;
		for (size_t s = 0; s < n_chain; s++)
			if (bcnt[s])
				bcnt[s][bucket[s][i]]--;
	}

	free(cand);
	free(slot);
	free(fill);
	free(start);
	for (size_t s = 0; s < SCHED_PLACE_STRATEGIES_MAX; s++) {
		free(bucket[s]);
		free(bcnt[s]);
	}
	free(mem);
	free(cpu);
	free(cnt);
	return k;
}
