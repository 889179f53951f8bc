/* cas: cluster auto scaling decisions, a pure core.  The rules and their
 * sources are in cas.h; this file only implements them.
 *
 * Shapes are grouped with an open-addressing table of indexes into
 * out->shapes (UINT32_MAX = empty slot), kept at most half full, so that
 * 100,000 tasks in 1,000 shapes cost one hash and a probe or two each.  Scale-in
 * candidates are sorted once by (zone, launched_at, index); each zone is then a
 * run of that array, and each termination takes the next candidate of the
 * zone with the most live instances. */
#include "scaling/cas.h"

#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

#define EMPTY_SLOT UINT32_MAX

/* A scale-in candidate with its sort key. */
struct scaling_cas_cand_ {
	int64_t launched_at;
	size_t index;
	uint16_t zone;
};

struct scaling_cas_timing scaling_cas_timing(enum scaling_cas_timing_mode mode, int64_t period_ms,
					     unsigned low_datapoints)
{
	struct scaling_cas_timing t = {SCALING_CAS_ECS_PERIOD_MS, SCALING_CAS_HIGH_DATAPOINTS,
				       SCALING_CAS_LOW_DATAPOINTS};
	if (mode == SCALING_CAS_TIMING_FAST) {
		t.period_ms = period_ms > 0 ? period_ms : SCALING_CAS_FAST_PERIOD_MS;
		t.low_datapoints = low_datapoints ? low_datapoints : SCALING_CAS_FAST_LOW_DATAPOINTS;
	} else {
		BERTH_ASSERT(mode == SCALING_CAS_TIMING_ECS);
	}
	return t;
}

int scaling_cas_timing_parse(const char *name, enum scaling_cas_timing_mode *out)
{
	if (!name)
		return -1;
	if (strcmp(name, "ecs") == 0) {
		*out = SCALING_CAS_TIMING_ECS;
		return 0;
	}
	if (strcmp(name, "fast") == 0) {
		*out = SCALING_CAS_TIMING_FAST;
		return 0;
	}
	return -1;
}

const char *scaling_cas_datapoint_name(enum scaling_cas_datapoint d)
{
	switch (d) {
	case SCALING_CAS_DP_NONE: return "none";
	case SCALING_CAS_DP_HIGH: return "high";
	case SCALING_CAS_DP_LOW: return "low";
	}
	return "?";
}

const char *scaling_cas_decision_name(enum scaling_cas_decision d)
{
	switch (d) {
	case SCALING_CAS_STEADY: return "steady";
	case SCALING_CAS_SCALE_OUT: return "scale-out";
	case SCALING_CAS_SCALE_IN: return "scale-in";
	case SCALING_CAS_WAIT_DATAPOINTS: return "wait-datapoints";
	case SCALING_CAS_WARMUP: return "warm-up";
	case SCALING_CAS_AT_MAX: return "at-max";
	case SCALING_CAS_AT_MIN: return "at-min";
	case SCALING_CAS_NO_EMPTY: return "no-empty";
	case SCALING_CAS_REACHED: return "reached";
	case SCALING_CAS_INCOMPATIBLE: return "incompatible";
	}
	return "?";
}

void scaling_cas_result_init(struct scaling_cas_result *r)
{
	memset(r, 0, sizeof *r);
}

void scaling_cas_result_free(struct scaling_cas_result *r)
{
	free(r->protect);
	free(r->unprotect);
	free(r->terminate);
	free(r->shapes);
	free(r->table_);
	free(r->cand_);
	memset(r, 0, sizeof *r);
}

/* ---- the estimate ---- */

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static uint64_t task_hash(const struct scaling_cas_task *t)
{
	uint64_t h = mix64(((uint64_t)t->cpu << 32 | t->memory) + 0x9e3779b97f4a7c15ULL);
	h = mix64(h ^ t->host_ports);
	return mix64(h ^ t->ports_key);
}

static int same_task(const struct scaling_cas_task *a, const struct scaling_cas_task *b)
{
	return a->cpu == b->cpu && a->memory == b->memory && a->host_ports == b->host_ports &&
	       a->ports_key == b->ports_key;
}

/* (Re)build the table for `slots` slots (a power of two) over out->shapes. */
static void table_rebuild(struct scaling_cas_result *out, size_t slots)
{
	if (slots > out->cap_table_) {
		out->table_ = xrealloc(out->table_, slots * sizeof *out->table_);
		out->cap_table_ = slots;
	}
	for (size_t i = 0; i < slots; i++)
		out->table_[i] = EMPTY_SLOT;
	for (size_t s = 0; s < out->n_shapes; s++) {
		size_t j = (size_t)task_hash(&out->shapes[s].task) & (slots - 1);
		while (out->table_[j] != EMPTY_SLOT)
			j = (j + 1) & (slots - 1);
		out->table_[j] = (uint32_t)s;
	}
}

/* Add count tasks of shape t; slots is the table's current size. */
static void add_tasks(struct scaling_cas_result *out, size_t *slots, const struct scaling_cas_task *t,
		      unsigned long count)
{
	if (count == 0)
		return;
	size_t mask = *slots - 1;
	size_t j = (size_t)task_hash(t) & mask;
	for (;;) {
		uint32_t s = out->table_[j];
		if (s == EMPTY_SLOT)
			break;
		if (same_task(&out->shapes[s].task, t)) {
			out->shapes[s].count += count;
			return;
		}
		j = (j + 1) & mask;
	}
	BERTH_ASSERT(out->n_shapes < EMPTY_SLOT);
	if (out->n_shapes == out->cap_shapes_) {
		out->cap_shapes_ = out->cap_shapes_ ? 2 * out->cap_shapes_ : 64;
		out->shapes = xrealloc(out->shapes, out->cap_shapes_ * sizeof *out->shapes);
	}
	size_t s = out->n_shapes++;
	out->shapes[s] = (struct scaling_cas_shape){.task = *t, .count = count};
	if (2 * out->n_shapes > *slots) {   /* keep the table at most half full */
		*slots *= 2;
		table_rebuild(out, *slots);
	} else {
		out->table_[j] = (uint32_t)s;
	}
}

unsigned long scaling_cas_estimate(const struct scaling_cas_input *in, struct scaling_cas_result *out)
{
	BERTH_ASSERT(in->n_shapes == 0 || in->shapes);
	BERTH_ASSERT(in->n_tasks == 0 || in->tasks);
	BERTH_ASSERT(in->n_types == 0 || in->types);
	out->n_shapes = 0;
	out->provisioning = 0;
	out->incompatible = 0;
	size_t slots = 128;
	table_rebuild(out, slots);
	for (size_t i = 0; i < in->n_shapes; i++)
		add_tasks(out, &slots, &in->shapes[i].task, in->shapes[i].count);
	for (size_t i = 0; i < in->n_tasks; i++)
		add_tasks(out, &slots, &in->tasks[i], 1);

	/* smallest and largest "for each parameter" */
	uint32_t cpu_min = UINT32_MAX, mem_min = UINT32_MAX, cpu_max = 0, mem_max = 0;
	for (size_t i = 0; i < in->n_types; i++) {
		const struct scaling_cas_type *ty = &in->types[i];
		cpu_min = ty->cpu < cpu_min ? ty->cpu : cpu_min;
		mem_min = ty->memory < mem_min ? ty->memory : mem_min;
		cpu_max = ty->cpu > cpu_max ? ty->cpu : cpu_max;
		mem_max = ty->memory > mem_max ? ty->memory : mem_max;
	}

	unsigned long extra = 0;
	for (size_t s = 0; s < out->n_shapes; s++) {
		struct scaling_cas_shape *sh = &out->shapes[s];
		const struct scaling_cas_task *t = &sh->task;
		out->provisioning += sh->count;
		sh->compatible = in->n_types > 0 && t->cpu <= cpu_min && t->memory <= mem_min;
		if (!sh->compatible) {
			sh->per_instance = 0;
			sh->instances = 0;
			out->incompatible += sh->count;
			continue;
		}
		unsigned long k = SCALING_CAS_UNLIMITED;
		if (t->cpu && cpu_max / t->cpu < k)
			k = cpu_max / t->cpu;
		if (t->memory && mem_max / t->memory < k)
			k = mem_max / t->memory;
		if (t->host_ports && k > 1)
			k = 1;
		BERTH_ASSERT(k >= 1);  /* it fits the smallest, so the largest */
		sh->per_instance = k;
		sh->instances = k == SCALING_CAS_UNLIMITED ? 1 : sh->count / k + (sh->count % k != 0);
		if (sh->instances > extra)
			extra = sh->instances;
	}
	return extra;
}

/* ---- the evaluation ---- */

static void grow_inst(struct scaling_cas_result *out, size_t n)
{
	if (n <= out->cap_inst_)
		return;
	size_t cap = out->cap_inst_ ? out->cap_inst_ : 64;
	while (cap < n)
		cap *= 2;
	out->protect = xrealloc(out->protect, cap * sizeof *out->protect);
	out->unprotect = xrealloc(out->unprotect, cap * sizeof *out->unprotect);
	out->terminate = xrealloc(out->terminate, cap * sizeof *out->terminate);
	out->cand_ = xrealloc(out->cand_, cap * sizeof *out->cand_);
	out->cap_inst_ = cap;
}

/* Candidates by (zone, launched_at, index). */
static int cand_cmp(const void *a, const void *b)
{
	const struct scaling_cas_cand_ *p = a, *q = b;
	if (p->zone != q->zone)
		return p->zone < q->zone ? -1 : 1;
	if (p->launched_at != q->launched_at)
		return p->launched_at < q->launched_at ? -1 : 1;
	return (p->index > q->index) - (p->index < q->index);
}

/* Choose up to `want` terminations among the out->cand_[0..c) candidates,
 * balancing zones (cas.h "Terminations"); returns how many. */
static size_t choose_terminations(const struct scaling_cas_input *in, struct scaling_cas_result *out, size_t c,
				  size_t want)
{
	if (c == 0 || want == 0)
		return 0;
	struct scaling_cas_cand_ *cand = out->cand_;
	qsort(cand, c, sizeof *cand, cand_cmp);

	/* live instances per zone, and each zone's run of candidates */
	unsigned long live[SCALING_CAS_ZONES_MAX];
	size_t first[SCALING_CAS_ZONES_MAX], end[SCALING_CAS_ZONES_MAX];
	memset(live, 0, sizeof live);
	for (size_t z = 0; z < SCALING_CAS_ZONES_MAX; z++)
		first[z] = end[z] = 0;
	for (size_t i = 0; i < in->n_instances; i++)
		live[in->instances[i].zone]++;
	uint16_t zones[SCALING_CAS_ZONES_MAX] = {0};
	size_t nz = 0;
	for (size_t i = 0; i < c; i++) {
		uint16_t z = cand[i].zone;
		if (i == 0 || cand[i - 1].zone != z) {
			zones[nz++] = z;
			first[z] = i;
		}
		end[z] = i + 1;
	}
	size_t t = 0;
	while (t < want) {
		size_t best = SIZE_MAX;
		for (size_t k = 0; k < nz; k++) {
			uint16_t z = zones[k];
			if (first[z] == end[z])
				continue;
			if (best == SIZE_MAX || live[z] > live[zones[best]])
				best = k;   /* zones[] ascending: ties keep the lowest */
		}
		if (best == SIZE_MAX)
			break;
		uint16_t z = zones[best];
		out->terminate[t++] = cand[first[z]++].index;
		live[z]--;
	}
	return t;
}

static unsigned long ceil_div(uint64_t a, uint64_t b)
{
	return (unsigned long)(a / b + (a % b != 0));
}

void scaling_cas_evaluate(const struct scaling_cas_input *in, struct scaling_cas_result *out)
{
	const struct scaling_cas_settings *set = &in->settings;
	BERTH_ASSERT(in->n_instances == 0 || in->instances);
	BERTH_ASSERT(in->min_size <= in->max_size);
	BERTH_ASSERT(in->min_size <= in->desired && in->desired <= in->max_size);
	BERTH_ASSERT(set->target_capacity >= 1 && set->target_capacity <= 100);
	BERTH_ASSERT(set->min_step >= 1 && set->max_step >= 1);

	grow_inst(out, in->n_instances);
	out->n_protect = out->n_unprotect = out->n_terminate = 0;
	out->cancel_scale_in = 0;
	out->in_warmup = 0;
	out->wanted = 0;
	out->desired = in->desired;

	/* one pass over the instances: N, busy, warm-up, protection */
	unsigned long n = 0, busy = 0;
	int64_t warm_ms = (int64_t)set->warmup_s * 1000;
	for (size_t i = 0; i < in->n_instances; i++) {
		const struct scaling_cas_instance *x = &in->instances[i];
		BERTH_ASSERT(x->state == SCALING_CAS_PENDING || x->state == SCALING_CAS_IN_SERVICE);
		BERTH_ASSERT(x->zone < SCALING_CAS_ZONES_MAX);
		if (x->launched_at > in->now - warm_ms)
			out->in_warmup = 1;
		if (x->state != SCALING_CAS_IN_SERVICE)
			continue;
		n++;
		if (x->busy)
			busy++;
		if (set->managed_termination_protection) {
			if (x->busy && !x->is_protected)
				out->protect[out->n_protect++] = i;
			else if (!x->busy && x->is_protected)
				out->unprotect[out->n_unprotect++] = i;
		}
	}
	out->n = n;
	out->busy = busy;

	/* M and CPR */
	unsigned long est = scaling_cas_estimate(in, out);
	out->extra_estimate = est;
	unsigned long extra = 0;
	if (est > 0) {
		extra = est > set->min_step ? est : set->min_step;
		extra = extra < set->max_step ? extra : set->max_step;
	}
	out->extra = extra;
	unsigned long m = out->provisioning ? n + extra : busy;
	out->m = m;
	const unsigned T = set->target_capacity;
	unsigned long need_high = in->high_datapoints ? in->high_datapoints : SCALING_CAS_HIGH_DATAPOINTS;
	unsigned long need_low = in->low_datapoints ? in->low_datapoints : SCALING_CAS_LOW_DATAPOINTS;

	if (out->provisioning && est == 0) {
		/* PROVISIONING tasks, none compatible: CPR stays at target */
		out->cpr = T;
		out->datapoint = SCALING_CAS_DP_NONE;
		out->high_streak = out->low_streak = 0;
		out->decision = SCALING_CAS_INCOMPATIBLE;
		return;
	}
	if (m == 0 && n == 0) {
		/* idle and empty: 100, no action */
		out->cpr = 100.0;
		out->datapoint = SCALING_CAS_DP_NONE;
		out->high_streak = out->low_streak = 0;
		out->decision = SCALING_CAS_STEADY;
		return;
	}
	int high, low;
	if (n == 0) {   /* m > 0: 200 */
		out->cpr = 200.0;
		high = 1;   /* 200 > T for every T <= 100 */
		low = 0;
		out->wanted = ceil_div(200, T);
	} else {
		out->cpr = 100.0 * (double)m / (double)n;
		uint64_t lhs = 100 * (uint64_t)m, rhs = (uint64_t)T * n;
		high = lhs > rhs;
		low = lhs < rhs;
		out->wanted = ceil_div(lhs, T);
	}
	out->datapoint = high ? SCALING_CAS_DP_HIGH : low ? SCALING_CAS_DP_LOW : SCALING_CAS_DP_NONE;
	out->high_streak = high ? in->high_streak + 1 : 0;
	out->low_streak = low ? in->low_streak + 1 : 0;

	unsigned long d = in->desired;
	if (high) {
		out->cancel_scale_in = 1;
		if (out->high_streak < need_high) {
			out->decision = SCALING_CAS_WAIT_DATAPOINTS;
		} else if (out->in_warmup) {
			out->decision = SCALING_CAS_WARMUP;
		} else {
			unsigned long to = out->wanted > d ? out->wanted : d;
			to = to < in->max_size ? to : in->max_size;
			if (to > d) {
				out->desired = to;
				out->decision = SCALING_CAS_SCALE_OUT;
			} else {
				out->decision = out->wanted > d ? SCALING_CAS_AT_MAX : SCALING_CAS_REACHED;
			}
		}
		return;
	}
	if (!low) {
		out->decision = SCALING_CAS_STEADY;
		return;
	}
	if (out->low_streak < need_low) {
		out->decision = SCALING_CAS_WAIT_DATAPOINTS;
		return;
	}
	if (d <= out->wanted) {
		out->decision = SCALING_CAS_REACHED;
		return;
	}
	unsigned long half = d / 2 > 1 ? d / 2 : 1;
	unsigned long step = d - out->wanted < half ? d - out->wanted : half;
	unsigned long d1 = d - step > in->min_size ? d - step : in->min_size;
	if (d1 == d) {
		out->decision = SCALING_CAS_AT_MIN;
		return;
	}
	/* terminations: L - d1 of the empty unprotected InService instances */
	size_t live = in->n_instances, c = 0;
	for (size_t i = 0; i < in->n_instances; i++) {
		const struct scaling_cas_instance *x = &in->instances[i];
		if (x->state != SCALING_CAS_IN_SERVICE || x->busy)
			continue;
		if (!set->managed_termination_protection && x->is_protected)
			continue;
		out->cand_[c++] = (struct scaling_cas_cand_){x->launched_at, i, x->zone};
	}
	size_t want = live > d1 ? live - d1 : 0;
	size_t t = choose_terminations(in, out, c, want);
	if (t < want) {
		unsigned long floor_d = live - t < d ? live - t : d;
		d1 = d1 > floor_d ? d1 : floor_d;
	}
	if (d1 == d) {
		out->n_terminate = 0;
		out->decision = SCALING_CAS_NO_EMPTY;
		return;
	}
	out->n_terminate = t;
	out->desired = d1;
	out->decision = SCALING_CAS_SCALE_IN;
}
