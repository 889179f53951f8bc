/* test_place: sched/place.c — worked cases for each strategy, chain and
 * failure reason (ECS-SEMANTICS §5.1, §5.8), explanations, scale-in, and
 * property checks over random clusters from a seeded rng: never over-commit
 * CPU, memory or ports, constraints hold, a task fails only when no
 * instance can take it, spread keeps counts within one, binpack uses no more
 * instances than first-fit-decreasing, the general path agrees with an
 * independent lexicographic oracle, and the fast paths agree with the
 * general path decision for decision (and rng draw for draw). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "sched/place.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MAXN 48

/* ---- building clusters ---- */

struct cluster {
	size_t n;
	struct sched_place_instance inst[MAXN];
	uint16_t tcp[MAXN][8];
	uint16_t udp[MAXN][8];
	const char *rack[MAXN];
	unsigned char member[MAXN];
	unsigned char attr[MAXN];
	char ids[MAXN][16];
};

static size_t add(struct cluster *c, int cpu, int mem, const char *zone, unsigned group)
{
	size_t i = c->n++;
	assert_true(i < MAXN);
	snprintf(c->ids[i], sizeof c->ids[i], "i-%02zu", i);
	c->inst[i] = (struct sched_place_instance){
		.id = c->ids[i],
		.cpu = cpu,
		.memory = mem,
		.active = 1,
		.agent_connected = 1,
		.zone = zone,
		.group_count = group,
	};
	c->member[i] = 1;
	c->attr[i] = 1;
	return i;
}

static void reserve_tcp(struct cluster *c, size_t i, const uint16_t *ports, size_t n)
{
	memcpy(c->tcp[i], ports, n * sizeof *ports);
	c->inst[i].tcp = c->tcp[i];
	c->inst[i].n_tcp = n;
}

static void reserve_udp(struct cluster *c, size_t i, const uint16_t *ports, size_t n)
{
	memcpy(c->udp[i], ports, n * sizeof *ports);
	c->inst[i].udp = c->udp[i];
	c->inst[i].n_udp = n;
}

static const char *rack_of(void *arg, size_t i, const char *name)
{
	const struct cluster *c = arg;
	return strcmp(name, "rack") == 0 ? c->rack[i] : NULL;
}

static struct sched_place_request req_for(struct cluster *c, const struct sched_place_task *t,
					  const struct sched_place_strategy *chain, size_t n_chain)
{
	return (struct sched_place_request){
		.instances = c->inst,
		.n_instances = c->n,
		.task = t,
		.strategies = chain,
		.n_strategies = n_chain,
		.caller = SCHED_PLACE_FOR_TASK,
		.member_ok = c->member,
		.attr_ok = c->attr,
		.attr = rack_of,
		.attr_arg = c,
	};
}

/* Initializers (usable in static tables) and one object each. */
#define BP_CPU_INIT {SCHED_PLACE_BINPACK_CPU, NULL}
#define BP_MEM_INIT {SCHED_PLACE_BINPACK_MEMORY, NULL}
#define SP_INST_INIT {SCHED_PLACE_SPREAD_INSTANCE, NULL}
#define SP_ZONE_INIT {SCHED_PLACE_SPREAD_ATTRIBUTE, "ecs.availability-zone"}
#define SP_RACK_INIT {SCHED_PLACE_SPREAD_ATTRIBUTE, "rack"}
#define RANDOM_INIT {SCHED_PLACE_RANDOM, NULL}
static const struct sched_place_strategy BP_CPU = BP_CPU_INIT;
static const struct sched_place_strategy BP_MEM = BP_MEM_INIT;
static const struct sched_place_strategy SP_INST = SP_INST_INIT;
static const struct sched_place_strategy SP_ZONE = SP_ZONE_INIT;
static const struct sched_place_strategy SP_RACK = SP_RACK_INIT;
static const struct sched_place_strategy RANDOM = RANDOM_INIT;

/* Place count tasks; out gets the instance index or -(reason) - 1. */
static void place(const struct sched_place_request *r, uint64_t seed, size_t count, long *out)
{
	struct rng g;
	rng_seed(&g, seed);
	struct sched_place_result res[64];
	assert_true(count <= ARRAY_LEN(res));
	sched_place_run(r, &g, count, res);
	for (size_t k = 0; k < count; k++)
		out[k] = res[k].reason == SCHED_PLACE_OK ? (long)res[k].instance : -(long)res[k].reason - 1;
}

static struct sched_place_result one(const struct sched_place_request *r)
{
	struct rng g;
	rng_seed(&g, 1);
	struct sched_place_result res;
	sched_place_run(r, &g, 1, &res);
	return res;
}

/* ---- parsing, texts, defaults ---- */

static void test_parse(void **state)
{
	(void)state;
	struct sched_place_strategy s;
	assert_int_equal(sched_place_strategy_parse("binpack", "cpu", &s), 0);
	assert_int_equal(s.kind, SCHED_PLACE_BINPACK_CPU);
	assert_int_equal(sched_place_strategy_parse("binpack", "MEMORY", &s), 0);
	assert_int_equal(s.kind, SCHED_PLACE_BINPACK_MEMORY);
	assert_int_equal(sched_place_strategy_parse("spread", "instanceId", &s), 0);
	assert_int_equal(s.kind, SCHED_PLACE_SPREAD_INSTANCE);
	assert_int_equal(sched_place_strategy_parse("spread", "host", &s), 0);
	assert_int_equal(s.kind, SCHED_PLACE_SPREAD_INSTANCE);
	assert_int_equal(sched_place_strategy_parse("spread", "attribute:ecs.availability-zone", &s), 0);
	assert_int_equal(s.kind, SCHED_PLACE_SPREAD_ATTRIBUTE);
	assert_string_equal(s.attribute, "ecs.availability-zone");
	assert_int_equal(sched_place_strategy_parse("random", NULL, &s), 0);
	assert_int_equal(s.kind, SCHED_PLACE_RANDOM);
	assert_int_equal(sched_place_strategy_parse("random", "whatever", &s), 0);

	s.kind = SCHED_PLACE_RANDOM;
	assert_int_equal(sched_place_strategy_parse("binpack", "disk", &s), -1);
	assert_int_equal(sched_place_strategy_parse("binpack", NULL, &s), -1);
	assert_int_equal(sched_place_strategy_parse("binpack", "instanceId", &s), -1);
	assert_int_equal(sched_place_strategy_parse("spread", "cpu", &s), -1);
	assert_int_equal(sched_place_strategy_parse("spread", "attribute:", &s), -1);
	assert_int_equal(sched_place_strategy_parse("spread", NULL, &s), -1);
	assert_int_equal(sched_place_strategy_parse("Spread", "host", &s), -1);
	assert_int_equal(sched_place_strategy_parse("pack", "cpu", &s), -1);
	assert_int_equal(sched_place_strategy_parse(NULL, "cpu", &s), -1);
	assert_int_equal(s.kind, SCHED_PLACE_RANDOM); /* untouched on error */
}

static void test_reason_texts(void **state)
{
	(void)state;
	assert_string_equal(sched_place_reason_text(SCHED_PLACE_OK), "");
	assert_string_equal(sched_place_reason_text(SCHED_PLACE_CPU), "RESOURCE:CPU");
	assert_string_equal(sched_place_reason_text(SCHED_PLACE_MEMORY), "RESOURCE:MEMORY");
	assert_string_equal(sched_place_reason_text(SCHED_PLACE_PORTS), "RESOURCE:PORTS");
	assert_string_equal(sched_place_reason_text(SCHED_PLACE_PORTS_UDP), "RESOURCE:PORTS_UDP");
	assert_string_equal(sched_place_reason_text(SCHED_PLACE_AGENT), "AGENT");
	assert_string_equal(sched_place_reason_text(SCHED_PLACE_ATTRIBUTE), "ATTRIBUTE");
	assert_string_equal(sched_place_reason_text(SCHED_PLACE_MEMBER_OF),
			    "MemberOf placement constraint unsatisfied.");
	assert_string_equal(sched_place_reason_text(SCHED_PLACE_DISTINCT_INSTANCE),
			    "DistinctInstance placement constraint unsatisfied.");
	assert_string_equal(sched_place_reason_text(SCHED_PLACE_NO_INSTANCES),
			    "No Container Instances were found in your cluster.");
	assert_string_equal(sched_place_reason_event(SCHED_PLACE_CPU), "has insufficient CPU units available");
	assert_string_equal(sched_place_reason_event(SCHED_PLACE_MEMORY), "has insufficient memory available");
	assert_string_equal(sched_place_reason_event(SCHED_PLACE_PORTS),
			    "is already using a port required by your task");
	assert_string_equal(sched_place_reason_event(SCHED_PLACE_AGENT), "encountered error \"AGENT\"");
	assert_string_equal(sched_place_reason_event(SCHED_PLACE_DISTINCT_INSTANCE),
			    "encountered error \"DistinctInstance placement constraint unsatisfied.\"");
}

static void test_default_chains(void **state)
{
	(void)state;
	struct cluster c = {0};
	add(&c, 1024, 1024, "a", 0);
	struct sched_place_task t = {.cpu = 1, .memory = 1};
	struct sched_place_request r = req_for(&c, &t, NULL, 0);
	const struct sched_place_strategy *chain;

	struct sched_place *p = sched_place_new(&r);
	assert_int_equal(sched_place_chain(p, &chain), 1);
	assert_int_equal(chain[0].kind, SCHED_PLACE_RANDOM);
	assert_true(sched_place_is_fast(p));
	sched_place_free(p);

	r.caller = SCHED_PLACE_FOR_SERVICE;
	p = sched_place_new(&r);
	assert_int_equal(sched_place_chain(p, &chain), 2);
	assert_int_equal(chain[0].kind, SCHED_PLACE_SPREAD_ATTRIBUTE);
	assert_string_equal(chain[0].attribute, "ecs.availability-zone");
	assert_int_equal(chain[1].kind, SCHED_PLACE_SPREAD_INSTANCE);
	assert_true(sched_place_is_fast(p));
	sched_place_free(p);

	/* An explicit chain wins over the default, whoever places. */
	r.strategies = &BP_MEM;
	r.n_strategies = 1;
	p = sched_place_new(&r);
	assert_int_equal(sched_place_chain(p, &chain), 1);
	assert_int_equal(chain[0].kind, SCHED_PLACE_BINPACK_MEMORY);
	sched_place_free(p);

	r.general_only = 1;
	p = sched_place_new(&r);
	assert_false(sched_place_is_fast(p));
	sched_place_free(p);

	/* A chain outside the fast shapes scans. */
	const struct sched_place_strategy odd[] = {SP_INST, BP_MEM};
	r = req_for(&c, &t, odd, 2);
	p = sched_place_new(&r);
	assert_false(sched_place_is_fast(p));
	sched_place_free(p);
}

/* ---- strategies ---- */

static void test_binpack_memory(void **state)
{
	(void)state;
	struct cluster c = {0};
	add(&c, 4096, 2048, "a", 0); /* 0 */
	add(&c, 4096, 1024, "a", 0); /* 1: least memory that fits */
	add(&c, 4096, 4096, "b", 0); /* 2 */
	add(&c, 4096, 256, "b", 0);  /* 3: less memory but does not fit */
	struct sched_place_task t = {.cpu = 256, .memory = 512};
	struct sched_place_request r = req_for(&c, &t, &BP_MEM, 1);
	long got[8];
	place(&r, 1, 8, got);
	/* 1 until full (2 tasks), then 0 (4), then 2. */
	long want[8] = {1, 1, 0, 0, 0, 0, 2, 2};
	assert_memory_equal(got, want, sizeof want);
}

static void test_binpack_cpu(void **state)
{
	(void)state;
	struct cluster c = {0};
	add(&c, 2048, 8192, "a", 0);
	add(&c, 1024, 8192, "a", 0);
	add(&c, 512, 8192, "a", 0);
	struct sched_place_task t = {.cpu = 512, .memory = 128};
	struct sched_place_request r = req_for(&c, &t, &BP_CPU, 1);
	long got[8];
	place(&r, 1, 8, got);
	long want[8] = {2, 1, 1, 0, 0, 0, 0, -(long)SCHED_PLACE_CPU - 1};
	assert_memory_equal(got, want, sizeof want);
}

static void test_binpack_tie_lowest_index(void **state)
{
	(void)state;
	struct cluster c = {0};
	add(&c, 1024, 1000, "a", 0);
	add(&c, 1024, 900, "a", 0);
	add(&c, 1024, 900, "a", 0);
	struct sched_place_task t = {.cpu = 0, .memory = 500};
	struct sched_place_request r = req_for(&c, &t, &BP_MEM, 1);
	long got[4];
	place(&r, 1, 4, got);
	long want[4] = {1, 2, 0, 0}; /* 1 (900) -> 400, then 2 (900), then 0 */
	assert_memory_equal(got, want, sizeof want);
}

static void test_spread_instance(void **state)
{
	(void)state;
	struct cluster c = {0};
	add(&c, 4096, 4096, "a", 2);
	add(&c, 4096, 4096, "a", 0);
	add(&c, 4096, 4096, "b", 1);
	struct sched_place_task t = {.cpu = 128, .memory = 128};
	struct sched_place_request r = req_for(&c, &t, &SP_INST, 1);
	long got[6];
	place(&r, 1, 6, got);
	/* counts 2,0,1 -> 1 (2,1,1) -> 1 again? no: ties 1,2 -> 1 (2,2,1) -> 2 (2,2,2) -> 0,1,2 */
	long want[6] = {1, 1, 2, 0, 1, 2};
	assert_memory_equal(got, want, sizeof want);
}

static void test_spread_zone(void **state)
{
	(void)state;
	struct cluster c = {0};
	add(&c, 4096, 4096, "a", 1);
	add(&c, 4096, 4096, "a", 0);
	add(&c, 4096, 4096, "b", 1);
	add(&c, 4096, 4096, "c", 0);
	add(&c, 4096, 4096, "c", 0);
	struct sched_place_task t = {.cpu = 128, .memory = 128};
	struct sched_place_request r = req_for(&c, &t, &SP_ZONE, 1);
	long got[5];
	place(&r, 1, 5, got);
	/* zones a=1 b=1 c=0: c (lowest index 3); then all 1: a (index 0);
	 * then b=1 c=1 a=2: b (2); then c (3 again: spread on zone only);
	 * then a=2 b=2 c=2: a (0). */
	long want[5] = {3, 0, 2, 3, 0};
	assert_memory_equal(got, want, sizeof want);
}

static void test_spread_zone_then_instance(void **state)
{
	(void)state;
	struct cluster c = {0};
	add(&c, 4096, 4096, "a", 1);
	add(&c, 4096, 4096, "a", 0);
	add(&c, 4096, 4096, "b", 1);
	add(&c, 4096, 4096, "c", 0);
	add(&c, 4096, 4096, "c", 0);
	struct sched_place_task t = {.cpu = 128, .memory = 128};
	struct sched_place_request r = req_for(&c, &t, NULL, 0);
	r.caller = SCHED_PLACE_FOR_SERVICE; /* the default: zone, then instance */
	long got[6];
	place(&r, 1, 6, got);
	/* zones a=1 b=1 c=0: c, fewest on instance -> 3; all zones 1: fewest
	 * on any instance -> 1 (a=2); b=1 c=1: instances 2 (1), 3 (1), 4 (0)
	 * -> 4; b -> 2; all 2: instances 0,1,3,4 have 1 -> 0; b=2 c=2:
	 * 2 (2), 3 (1), 4 (1) -> 3. */
	long want[6] = {3, 1, 4, 2, 0, 3};
	assert_memory_equal(got, want, sizeof want);
}

static void test_spread_zone_then_binpack(void **state)
{
	(void)state;
	struct cluster c = {0};
	add(&c, 4096, 3000, "a", 0);
	add(&c, 4096, 1000, "a", 0);
	add(&c, 4096, 2000, "b", 0);
	add(&c, 4096, 600, "b", 0);
	struct sched_place_task t = {.cpu = 1, .memory = 500};
	const struct sched_place_strategy chain[] = {SP_ZONE, BP_MEM};
	struct sched_place_request r = req_for(&c, &t, chain, 2);
	long got[6];
	place(&r, 1, 6, got);
	/* both zones 0: least memory overall 3 (600 -> 100); a: 1 (1000 -> 500);
	 * tie: 1 (500 -> 0); b: 2 (2000; 3 has 100); tie: 2 (1500) beats
	 * 0 (3000); a: 0 */
	long want[6] = {3, 1, 1, 2, 2, 0};
	assert_memory_equal(got, want, sizeof want);
}

static void test_spread_custom_attribute(void **state)
{
	(void)state;
	struct cluster c = {0};
	add(&c, 4096, 4096, "a", 3);
	c.rack[0] = "r1";
	add(&c, 4096, 4096, "a", 0);
	c.rack[1] = "r1";
	add(&c, 4096, 4096, "a", 2);
	c.rack[2] = "r2";
	add(&c, 4096, 4096, "a", 1); /* no rack: a bucket of its own */
	add(&c, 4096, 4096, "a", 1);
	struct sched_place_task t = {.cpu = 1, .memory = 1};
	struct sched_place_request r = req_for(&c, &t, &SP_RACK, 1);
	long got[4];
	place(&r, 1, 4, got);
	/* r1=3, r2=2, none=2: r2 and none tie -> lowest index 2 (r2=3);
	 * then none=2 -> 3; none=3 r1=3 r2=3 -> 0; then r2 / none tie (3) -> 2 */
	long want[4] = {2, 3, 0, 2};
	assert_memory_equal(got, want, sizeof want);
}

/* A draining instance's tasks count for its zone even though it is not a
 * candidate ("running tasks for this service in the same zone"). */
static void test_spread_counts_non_candidates(void **state)
{
	(void)state;
	struct cluster c = {0};
	add(&c, 4096, 4096, "a", 0);
	size_t d = add(&c, 4096, 4096, "a", 5);
	c.inst[d].active = 0;
	add(&c, 4096, 4096, "b", 2);
	struct sched_place_task t = {.cpu = 1, .memory = 1};
	struct sched_place_request r = req_for(&c, &t, &SP_ZONE, 1);
	long got[4];
	place(&r, 1, 4, got);
	long want[4] = {2, 2, 2, 0}; /* a=5 b=2: b until 5, then a (lowest) */
	assert_memory_equal(got, want, sizeof want);
}

static void test_random_uniform(void **state)
{
	(void)state;
	struct cluster c = {0};
	for (int i = 0; i < 4; i++)
		add(&c, 1024, 1024, "a", 0);
	add(&c, 100, 1024, "a", 0); /* cannot fit */
	struct sched_place_task t = {.cpu = 256, .memory = 256};
	struct sched_place_request r = req_for(&c, &t, &RANDOM, 1);
	struct rng g;
	rng_seed(&g, 42);
	unsigned hits[5] = {0};
	for (int k = 0; k < 4000; k++) {
		struct sched_place_result res;
		sched_place_run(&r, &g, 1, &res);
		assert_int_equal(res.reason, SCHED_PLACE_OK);
		hits[res.instance]++;
	}
	for (int i = 0; i < 4; i++)
		assert_in_range(hits[i], 850, 1150);
	assert_int_equal(hits[4], 0);

	/* Run-task default is random and takes the same draws. */
	struct sched_place_request dflt = req_for(&c, &t, NULL, 0);
	long a[16], b[16];
	place(&r, 7, 16, a);
	place(&dflt, 7, 16, b);
	assert_memory_equal(a, b, sizeof a);
}

static void test_sequential_never_overcommits(void **state)
{
	(void)state;
	struct cluster c = {0};
	add(&c, 1024, 1024, "a", 0);
	struct sched_place_task t = {.cpu = 512, .memory = 256};
	struct sched_place_request r = req_for(&c, &t, &BP_MEM, 1);
	long got[4];
	place(&r, 1, 4, got);
	long want[4] = {0, 0, -(long)SCHED_PLACE_CPU - 1, -(long)SCHED_PLACE_CPU - 1};
	assert_memory_equal(got, want, sizeof want);
}

/* ---- failures ---- */

static void test_fail_cpu_closest_has_most_cpu(void **state)
{
	(void)state;
	struct cluster c = {0};
	add(&c, 100, 4096, "a", 0);
	add(&c, 300, 4096, "a", 0);
	add(&c, 200, 4096, "a", 0);
	add(&c, 300, 4096, "a", 0);
	struct sched_place_task t = {.cpu = 512, .memory = 128};
	struct sched_place_request r = req_for(&c, &t, &BP_MEM, 1);
	struct sched_place_result res = one(&r);
	assert_int_equal(res.reason, SCHED_PLACE_CPU);
	assert_int_equal(res.instance, 1);
}

static void test_fail_memory_beats_cpu(void **state)
{
	(void)state;
	struct cluster c = {0};
	add(&c, 100, 4096, "a", 0);  /* CPU */
	add(&c, 4096, 100, "a", 0);  /* MEMORY: passed CPU, so closer */
	add(&c, 4096, 200, "a", 0);  /* MEMORY with more memory: closest */
	struct sched_place_task t = {.cpu = 512, .memory = 512};
	struct sched_place_request r = req_for(&c, &t, NULL, 0);
	struct sched_place_result res = one(&r);
	assert_int_equal(res.reason, SCHED_PLACE_MEMORY);
	assert_int_equal(res.instance, 2);
}

static void test_fail_ports(void **state)
{
	(void)state;
	struct cluster c = {0};
	size_t i = add(&c, 4096, 4096, "a", 0);
	const uint16_t res_tcp[] = {22, 80, 2375};
	reserve_tcp(&c, i, res_tcp, 3);
	const uint16_t want_tcp[] = {8080, 80};
	struct sched_place_task t = {.cpu = 1, .memory = 1, .tcp = want_tcp, .n_tcp = 2};
	struct sched_place_request r = req_for(&c, &t, NULL, 0);
	struct sched_place_result res = one(&r);
	assert_int_equal(res.reason, SCHED_PLACE_PORTS);
	assert_int_equal(res.instance, 0);

	/* A port taken by an earlier task of the same call. */
	const uint16_t p8080[] = {8080};
	t.tcp = p8080;
	t.n_tcp = 1;
	long got[3];
	place(&r, 1, 3, got);
	long want[3] = {0, -(long)SCHED_PLACE_PORTS - 1, -(long)SCHED_PLACE_PORTS - 1};
	assert_memory_equal(got, want, sizeof want);

	/* Dynamic host ports (0) reserve nothing. */
	const uint16_t dyn[] = {0, 0};
	t.tcp = dyn;
	t.n_tcp = 2;
	place(&r, 1, 3, got);
	long want_dyn[3] = {0, 0, 0};
	assert_memory_equal(got, want_dyn, sizeof want_dyn);
}

static void test_fail_ports_udp(void **state)
{
	(void)state;
	struct cluster c = {0};
	size_t i = add(&c, 4096, 4096, "a", 0);
	const uint16_t u[] = {53};
	reserve_udp(&c, i, u, 1);
	const uint16_t tcp53[] = {53};
	struct sched_place_task t = {.cpu = 1, .memory = 1, .tcp = tcp53, .n_tcp = 1};
	struct sched_place_request r = req_for(&c, &t, NULL, 0);
	assert_int_equal(one(&r).reason, SCHED_PLACE_OK); /* TCP 53 is free */
	t.tcp = NULL;
	t.n_tcp = 0;
	t.udp = tcp53;
	t.n_udp = 1;
	struct sched_place_result res = one(&r);
	assert_int_equal(res.reason, SCHED_PLACE_PORTS_UDP);
	assert_int_equal(res.instance, 0);
}

static void test_fail_port_limit(void **state)
{
	(void)state;
	static uint16_t many[SCHED_PLACE_PORTS_MAX];
	for (int k = 0; k < SCHED_PLACE_PORTS_MAX; k++)
		many[k] = (uint16_t)(1000 + k);
	struct cluster c = {0};
	size_t i = add(&c, 4096, 4096, "a", 0);
	const uint16_t res_tcp[] = {22, 2375, 2376, 51678, 51679};
	reserve_tcp(&c, i, res_tcp, 5);
	struct sched_place_task t = {.cpu = 1, .memory = 1, .tcp = many, .n_tcp = 95};
	struct sched_place_request r = req_for(&c, &t, NULL, 0);
	assert_int_equal(one(&r).reason, SCHED_PLACE_OK); /* 100 in all */
	t.n_tcp = 96;
	assert_int_equal(one(&r).reason, SCHED_PLACE_PORTS);
}

static void test_fail_attribute_memberof_distinct_agent(void **state)
{
	(void)state;
	struct cluster c = {0};
	add(&c, 4096, 4096, "a", 0);
	add(&c, 4096, 4096, "a", 0);
	struct sched_place_task t = {.cpu = 1, .memory = 1};
	struct sched_place_request r = req_for(&c, &t, NULL, 0);

	c.attr[0] = c.attr[1] = 0;
	struct sched_place_result res = one(&r);
	assert_int_equal(res.reason, SCHED_PLACE_ATTRIBUTE);
	assert_int_equal(res.instance, 0);

	c.attr[0] = c.attr[1] = 1;
	c.member[0] = c.member[1] = 0;
	res = one(&r);
	assert_int_equal(res.reason, SCHED_PLACE_MEMBER_OF);

	c.member[0] = c.member[1] = 1;
	c.inst[0].group_count = 1;
	c.inst[1].group_count = 2;
	r.distinct_instance = 1;
	res = one(&r);
	assert_int_equal(res.reason, SCHED_PLACE_DISTINCT_INSTANCE);
	assert_int_equal(res.instance, 0);

	/* distinctInstance within one call: one task each, then the failure. */
	c.inst[0].group_count = 0;
	c.inst[1].group_count = 0;
	long got[3];
	place(&r, 1, 3, got);
	assert_true(got[0] >= 0 && got[1] >= 0 && got[0] != got[1]);
	assert_int_equal(got[2], -(long)SCHED_PLACE_DISTINCT_INSTANCE - 1);

	r.distinct_instance = 0;
	c.inst[0].agent_connected = 0;
	c.inst[1].agent_connected = 0;
	res = one(&r);
	assert_int_equal(res.reason, SCHED_PLACE_AGENT);
	assert_int_equal(res.instance, 0);
}

static void test_fail_no_instances(void **state)
{
	(void)state;
	struct cluster c = {0};
	struct sched_place_task t = {.cpu = 1, .memory = 1};
	struct sched_place_request r = req_for(&c, &t, NULL, 0);
	struct sched_place_result res = one(&r);
	assert_int_equal(res.reason, SCHED_PLACE_NO_INSTANCES);
	assert_true(res.instance == SCHED_PLACE_NONE);

	/* Only DRAINING instances: none is a candidate. */
	add(&c, 4096, 4096, "a", 0);
	c.inst[0].active = 0;
	r = req_for(&c, &t, NULL, 0);
	res = one(&r);
	assert_int_equal(res.reason, SCHED_PLACE_NO_INSTANCES);
	r.caller = SCHED_PLACE_FOR_SERVICE;
	res = one(&r);
	assert_int_equal(res.reason, SCHED_PLACE_NO_INSTANCES);
}

/* The closest instance failed the latest filter. */
static void test_closest_is_latest_filter(void **state)
{
	(void)state;
	struct cluster c = {0};
	add(&c, 10, 4096, "a", 0);   /* CPU */
	add(&c, 4096, 4096, "a", 0); /* memberOf */
	add(&c, 4096, 4096, "a", 0); /* agent */
	add(&c, 4096, 10, "a", 0);   /* MEMORY */
	c.member[1] = 0;
	c.inst[2].agent_connected = 0;
	struct sched_place_task t = {.cpu = 100, .memory = 100};
	struct sched_place_request r = req_for(&c, &t, &BP_CPU, 1);
	struct sched_place_result res = one(&r);
	assert_int_equal(res.reason, SCHED_PLACE_MEMBER_OF);
	assert_int_equal(res.instance, 1);
}

static void test_explain(void **state)
{
	(void)state;
	struct cluster c = {0};
	add(&c, 1024, 1024, "a", 0);
	size_t d = add(&c, 4096, 4096, "a", 0);
	c.inst[d].active = 0;
	add(&c, 4096, 4096, "a", 0);
	c.inst[2].agent_connected = 0;
	add(&c, 100, 4096, "a", 0);
	add(&c, 4096, 100, "a", 0);
	size_t pi = add(&c, 4096, 4096, "a", 0);
	const uint16_t p80[] = {80};
	reserve_tcp(&c, pi, p80, 1);
	size_t ui = add(&c, 4096, 4096, "a", 0);
	reserve_udp(&c, ui, p80, 1);
	add(&c, 4096, 4096, "a", 0);
	c.attr[7] = 0;
	add(&c, 4096, 4096, "a", 0);
	c.member[8] = 0;
	add(&c, 4096, 4096, "a", 1);
	struct sched_place_task t = {.cpu = 512, .memory = 512, .tcp = p80, .n_tcp = 1, .udp = p80, .n_udp = 1};
	struct sched_place_request r = req_for(&c, &t, &BP_MEM, 1);
	r.distinct_instance = 1;
	struct sched_place *p = sched_place_new(&r);
	enum sched_place_reason why[10];
	sched_place_explain(p, why);
	const enum sched_place_reason want[10] = {
		SCHED_PLACE_OK,        SCHED_PLACE_NOT_ACTIVE, SCHED_PLACE_AGENT,     SCHED_PLACE_CPU,
		SCHED_PLACE_MEMORY,    SCHED_PLACE_PORTS,      SCHED_PLACE_PORTS_UDP, SCHED_PLACE_ATTRIBUTE,
		SCHED_PLACE_MEMBER_OF, SCHED_PLACE_DISTINCT_INSTANCE,
	};
	assert_memory_equal(why, want, sizeof want);

	struct rng g;
	rng_seed(&g, 1);
	struct sched_place_result res;
	sched_place_next(p, &g, &res);
	assert_int_equal(res.reason, SCHED_PLACE_OK);
	assert_int_equal(res.instance, 0);
	sched_place_explain(p, why);
	assert_int_equal(why[0], SCHED_PLACE_PORTS); /* its port 80 is taken now */
	sched_place_next(p, &g, &res);
	assert_int_equal(res.reason, SCHED_PLACE_DISTINCT_INSTANCE);
	assert_int_equal(res.instance, 9);
	sched_place_free(p);
}

/* ---- scale-in ---- */

static void test_stop_spread_zone(void **state)
{
	(void)state;
	struct cluster c = {0};
	add(&c, 4096, 4096, "a", 0); /* 0 */
	add(&c, 4096, 4096, "a", 0); /* 1 */
	add(&c, 4096, 4096, "b", 0); /* 2 */
	add(&c, 4096, 4096, "c", 0); /* 3 */
	/* a: 3 tasks (2 on instance 0), b: 1, c: 2 */
	const size_t on[] = {0, 0, 1, 2, 3, 3};
	struct sched_place_task t = {.cpu = 1, .memory = 1};
	struct sched_place_request r = req_for(&c, &t, NULL, 0);
	r.caller = SCHED_PLACE_FOR_SERVICE;
	struct rng g;
	rng_seed(&g, 3);
	size_t out[6];
	assert_int_equal(sched_place_pick_stops(&r, on, 6, 3, &g, out), 3);
	/* a=3: the instance with most -> 0 (task 0 or 1); then a=2 c=2: a is
	 * instance 0 or 1 (1 each), c is instance 3 (2) - zone tie, keep both,
	 * then the instance with most: 3; then a=2 b=1 c=1: a */
	assert_true(out[0] == 0 || out[0] == 1);
	assert_true(out[1] == 4 || out[1] == 5);
	assert_true(on[out[2]] == 0 || on[out[2]] == 1);
	/* All six, then no more. */
	assert_int_equal(sched_place_pick_stops(&r, on, 6, 10, &g, out), 6);
	assert_int_equal(sched_place_pick_stops(&r, on, 0, 10, &g, out), 0);
}

static void test_stop_binpack(void **state)
{
	(void)state;
	struct cluster c = {0};
	add(&c, 4096, 1000, "a", 0);
	add(&c, 4096, 3000, "a", 0);
	add(&c, 4096, 2500, "a", 0);
	const size_t on[] = {0, 1, 2, 2};
	struct sched_place_task t = {.cpu = 1, .memory = 600};
	struct sched_place_request r = req_for(&c, &t, &BP_MEM, 1);
	struct rng g;
	rng_seed(&g, 3);
	size_t out[3];
	assert_int_equal(sched_place_pick_stops(&r, on, 4, 3, &g, out), 3);
	/* most memory left: 1 (3000 -> 3600); then 2 (2500) vs 1 (gone); 2 -> 3100; then 2 again */
	assert_int_equal(out[0], 1);
	assert_true(out[1] == 2 || out[1] == 3);
	assert_true(out[2] == 2 || out[2] == 3);
	assert_true(out[1] != out[2]);
}

static void test_stop_spread_instance_and_random(void **state)
{
	(void)state;
	struct cluster c = {0};
	add(&c, 4096, 4096, "a", 0);
	add(&c, 4096, 4096, "a", 0);
	const size_t on[] = {0, 1, 1, 1};
	struct sched_place_task t = {.cpu = 1, .memory = 1};
	struct sched_place_request r = req_for(&c, &t, &SP_INST, 1);
	struct rng g;
	rng_seed(&g, 9);
	size_t out[2];
	sched_place_pick_stops(&r, on, 4, 2, &g, out);
	assert_true(on[out[0]] == 1 && on[out[1]] == 1);

	/* Random: every task gets picked first sometimes, evenly. */
	r = req_for(&c, &t, &RANDOM, 1);
	unsigned hits[4] = {0};
	for (int k = 0; k < 4000; k++) {
		sched_place_pick_stops(&r, on, 4, 1, &g, out);
		hits[out[0]]++;
	}
	for (int j = 0; j < 4; j++)
		assert_in_range(hits[j], 850, 1150);
}

/* ---- properties over random clusters ---- */

static const char *const ZONES[] = {"a", "b", "c", NULL};
static const char *const RACKS[] = {"r0", "r1", "r2", NULL};
static const uint16_t PORT_POOL[] = {22, 53, 80, 443, 8080};

static int chance(struct rng *g, unsigned pct)
{
	return rng_below(g, 100) < pct;
}

static void random_ports(struct rng *g, uint16_t *out, size_t *n, unsigned pct)
{
	_Static_assert(ARRAY_LEN(PORT_POOL) <= ARRAY_LEN(((struct cluster *)0)->udp[0]), "room for the pool");
	*n = 0;
	for (size_t k = 0; k < ARRAY_LEN(PORT_POOL); k++)
		if (chance(g, pct))
			out[(*n)++] = PORT_POOL[k];
}

static void random_cluster(struct rng *g, struct cluster *c, size_t max_n)
{
	memset(c, 0, sizeof *c);
	size_t n = rng_below(g, max_n + 1);
	for (size_t i = 0; i < n; i++) {
		add(c, (int)rng_below(g, 9) * 256, (int)rng_below(g, 9) * 512,
		    ZONES[rng_below(g, ARRAY_LEN(ZONES))], (unsigned)rng_below(g, 3));
		c->rack[i] = RACKS[rng_below(g, ARRAY_LEN(RACKS))];
		c->inst[i].active = chance(g, 90);
		c->inst[i].agent_connected = chance(g, 90);
		c->member[i] = chance(g, 85);
		c->attr[i] = chance(g, 90);
		size_t k;
		random_ports(g, c->tcp[i], &k, 15);
		c->inst[i].tcp = c->tcp[i];
		c->inst[i].n_tcp = k;
		random_ports(g, c->udp[i], &k, 10);
		c->inst[i].udp = c->udp[i];
		c->inst[i].n_udp = k;
	}
}

struct random_task {
	struct sched_place_task t;
	uint16_t tcp[8], udp[8];
};

static void random_task(struct rng *g, struct random_task *rt)
{
	memset(rt, 0, sizeof *rt);
	rt->t.cpu = (int)rng_below(g, 5) * 128;
	rt->t.memory = (int)rng_below(g, 5) * 256;
	size_t n = 0;
	if (chance(g, 25))
		rt->tcp[n++] = PORT_POOL[rng_below(g, ARRAY_LEN(PORT_POOL))];
	if (chance(g, 20))
		rt->tcp[n++] = 0;
	rt->t.tcp = rt->tcp;
	rt->t.n_tcp = n;
	n = 0;
	if (chance(g, 15))
		rt->udp[n++] = 53;
	rt->t.udp = rt->udp;
	rt->t.n_udp = n;
	rt->t.group = "family:web";
}

/* Chains: the fast shapes, then some others. */
static const struct sched_place_strategy CHAINS[][3] = {
	{BP_CPU_INIT}, {BP_MEM_INIT}, {SP_INST_INIT}, {SP_ZONE_INIT}, {SP_RACK_INIT}, {RANDOM_INIT},
	{SP_ZONE_INIT, SP_INST_INIT}, {SP_RACK_INIT, SP_INST_INIT},
	{SP_ZONE_INIT, BP_MEM_INIT}, {SP_RACK_INIT, BP_CPU_INIT},
	/* not fast: */
	{BP_MEM_INIT, SP_ZONE_INIT, RANDOM_INIT}, {SP_INST_INIT, BP_MEM_INIT},
	{SP_ZONE_INIT, SP_RACK_INIT, SP_INST_INIT}, {RANDOM_INIT, BP_CPU_INIT},
	{SP_ZONE_INIT, RANDOM_INIT}, {BP_CPU_INIT, BP_MEM_INIT, SP_INST_INIT},
};
static const size_t CHAIN_LEN[] = {1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 3, 2, 3, 2, 2, 3};
#define N_FAST_CHAINS 10

static int has_port(const uint16_t *v, size_t n, uint16_t port)
{
	for (size_t k = 0; k < n; k++)
		if (v[k] == port)
			return 1;
	return 0;
}

static size_t fixed_ports(const uint16_t *v, size_t n)
{
	size_t m = 0;
	for (size_t k = 0; k < n; k++)
		if (v[k] && !has_port(v, k, v[k]))
			m++;
	return m;
}

/* The spec, written out independently: can instance i take the task, given
 * what the test has placed so far? */
struct model {
	long cpu[MAXN], mem[MAXN];
	unsigned g[MAXN], placed[MAXN];
};

static int feasible(const struct cluster *c, const struct sched_place_request *r, const struct model *m,
		    size_t i)
{
	const struct sched_place_instance *in = &c->inst[i];
	const struct sched_place_task *t = r->task;
	if (!in->active || !in->agent_connected)
		return 0;
	if (m->cpu[i] < t->cpu || m->mem[i] < t->memory)
		return 0;
	size_t nt = fixed_ports(t->tcp, t->n_tcp), nu = fixed_ports(t->udp, t->n_udp);
	if (nt && (m->placed[i] || in->n_tcp + nt > SCHED_PLACE_PORTS_MAX))
		return 0;
	if (nu && (m->placed[i] || in->n_udp + nu > SCHED_PLACE_PORTS_MAX))
		return 0;
	for (size_t k = 0; k < t->n_tcp; k++)
		if (t->tcp[k] && has_port(in->tcp, in->n_tcp, t->tcp[k]))
			return 0;
	for (size_t k = 0; k < t->n_udp; k++)
		if (t->udp[k] && has_port(in->udp, in->n_udp, t->udp[k]))
			return 0;
	if (!c->member[i] || !c->attr[i])
		return 0;
	if (r->distinct_instance && m->g[i] > 0)
		return 0;
	return 1;
}

static const char *value_of(const struct cluster *c, size_t i, const struct sched_place_strategy *s)
{
	return strcmp(s->attribute, "rack") == 0 ? c->rack[i] : c->inst[i].zone;
}

static int same_value(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* The key strategy s minimises, from the model. */
static long key_of(const struct cluster *c, const struct model *m, const struct sched_place_strategy *s,
		   size_t i)
{
	switch (s->kind) {
	case SCHED_PLACE_BINPACK_CPU:
		return m->cpu[i];
	case SCHED_PLACE_BINPACK_MEMORY:
		return m->mem[i];
	case SCHED_PLACE_SPREAD_INSTANCE:
		return m->g[i];
	case SCHED_PLACE_SPREAD_ATTRIBUTE: {
		long sum = 0;
		for (size_t j = 0; j < c->n; j++)
			if (same_value(value_of(c, i, s), value_of(c, j, s)))
				sum += m->g[j];
		return sum;
	}
	default:
		return 0;
	}
}

/* For a chain without random: the lexicographic minimum of the keys, then
 * the index. */
static long oracle_choice(const struct cluster *c, const struct sched_place_request *r, const struct model *m,
			  const struct sched_place_strategy *chain, size_t n_chain)
{
	long best = -1;
	for (size_t i = 0; i < c->n; i++) {
		if (!feasible(c, r, m, i))
			continue;
		if (best < 0) {
			best = (long)i;
			continue;
		}
		for (size_t s = 0; s < n_chain; s++) {
			long a = key_of(c, m, &chain[s], i), b = key_of(c, m, &chain[s], (size_t)best);
			if (a != b) {
				if (a < b)
					best = (long)i;
				break;
			}
		}
	}
	return best;
}

static int chain_has_random(const struct sched_place_strategy *chain, size_t n)
{
	for (size_t s = 0; s < n; s++)
		if (chain[s].kind == SCHED_PLACE_RANDOM)
			return 1;
	return 0;
}

/* Never over-commit CPU, memory or ports; constraints and distinctInstance
 * hold; a task fails only when no instance could take it, with the reason
 * of the closest one; deterministic chains choose what the oracle chooses. */
static void test_prop_invariants(void **state)
{
	(void)state;
	struct rng g;
	rng_seed(&g, 2024);
	static struct cluster c;
	for (int round = 0; round < 3000; round++) {
		random_cluster(&g, &c, 24);
		struct random_task rt;
		random_task(&g, &rt);
		size_t ci = rng_below(&g, ARRAY_LEN(CHAINS));
		struct sched_place_request r = req_for(&c, &rt.t, CHAINS[ci], CHAIN_LEN[ci]);
		r.distinct_instance = chance(&g, 25);
		r.general_only = chance(&g, 50);
		if (chance(&g, 10)) {
			r.member_ok = NULL;
			memset(c.member, 1, sizeof c.member);
		}
		struct model m = {0};
		for (size_t i = 0; i < c.n; i++) {
			m.cpu[i] = c.inst[i].cpu;
			m.mem[i] = c.inst[i].memory;
			m.g[i] = c.inst[i].group_count;
		}
		struct sched_place *p = sched_place_new(&r);
		struct rng pg;
		rng_seed(&pg, (uint64_t)round);
		size_t count = rng_below(&g, 40);
		for (size_t k = 0; k < count; k++) {
			struct sched_place_result res;
			long want = -1;
			if (!chain_has_random(CHAINS[ci], CHAIN_LEN[ci]))
				want = oracle_choice(&c, &r, &m, CHAINS[ci], CHAIN_LEN[ci]);
			sched_place_next(p, &pg, &res);
			if (res.reason == SCHED_PLACE_OK) {
				size_t i = res.instance;
				assert_true(i < c.n);
				assert_true(feasible(&c, &r, &m, i));
				if (!chain_has_random(CHAINS[ci], CHAIN_LEN[ci]))
					assert_int_equal((long)i, want);
				m.cpu[i] -= rt.t.cpu;
				m.mem[i] -= rt.t.memory;
				m.g[i]++;
				m.placed[i]++;
				assert_true(m.cpu[i] >= 0 && m.mem[i] >= 0);
				continue;
			}
			int any_active = 0;
			for (size_t i = 0; i < c.n; i++) {
				assert_false(feasible(&c, &r, &m, i));
				any_active |= c.inst[i].active;
			}
			if (!any_active) {
				assert_int_equal(res.reason, SCHED_PLACE_NO_INSTANCES);
				continue;
			}
			enum sched_place_reason why[MAXN];
			sched_place_explain(p, why);
			assert_true(res.instance < c.n);
			assert_int_equal(why[res.instance], res.reason);
			for (size_t i = 0; i < c.n; i++) {
				assert_int_not_equal(why[i], SCHED_PLACE_OK);
				if (why[i] == SCHED_PLACE_NOT_ACTIVE || i == res.instance)
					continue;
				/* the closest failed the latest filter; among equals
				 * the most CPU (memory) left, then the lowest index */
				assert_true(why[i] <= res.reason);
				if (why[i] < res.reason)
					continue;
				long si = why[i] == SCHED_PLACE_CPU	 ? m.cpu[i]
					  : why[i] == SCHED_PLACE_MEMORY ? m.mem[i]
									 : 0;
				size_t b = res.instance;
				long sb = why[i] == SCHED_PLACE_CPU	 ? m.cpu[b]
					  : why[i] == SCHED_PLACE_MEMORY ? m.mem[b]
									 : 0;
				assert_true(si < sb || (si == sb && i > b));
			}
		}
		/* Ports: an instance took at most one task with fixed ports. */
		if (fixed_ports(rt.t.tcp, rt.t.n_tcp) || fixed_ports(rt.t.udp, rt.t.n_udp))
			for (size_t i = 0; i < c.n; i++)
				assert_true(m.placed[i] <= 1);
		if (r.distinct_instance)
			for (size_t i = 0; i < c.n; i++)
				if (m.placed[i])
					assert_true(m.placed[i] == 1 && c.inst[i].group_count == 0);
		sched_place_free(p);
	}
}

/* The fast paths decide exactly as the general path, draw for draw. */
static void test_prop_fast_equals_general(void **state)
{
	(void)state;
	struct rng g;
	rng_seed(&g, 77);
	static struct cluster c;
	for (int round = 0; round < 4000; round++) {
		random_cluster(&g, &c, 40);
		if (chance(&g, 20)) /* large keys: every byte of the radix sort */
			for (size_t i = 0; i < c.n; i++) {
				c.inst[i].cpu = (int)rng_below(&g, (uint64_t)1 << 31);
				c.inst[i].memory = chance(&g, 50) ? (int)rng_below(&g, (uint64_t)1 << 31) : 4096;
				c.inst[i].group_count = (unsigned)rng_below(&g, chance(&g, 50) ? 3 : 1u << 20);
			}
		struct random_task rt;
		random_task(&g, &rt);
		size_t ci = rng_below(&g, N_FAST_CHAINS + 2);
		struct sched_place_request r;
		if (ci < N_FAST_CHAINS) {
			r = req_for(&c, &rt.t, CHAINS[ci], CHAIN_LEN[ci]);
		} else {
			r = req_for(&c, &rt.t, NULL, 0);
			r.caller = ci == N_FAST_CHAINS ? SCHED_PLACE_FOR_TASK : SCHED_PLACE_FOR_SERVICE;
		}
		r.distinct_instance = chance(&g, 20);
		if (chance(&g, 20))
			r.attr_ok = NULL;
		size_t count = rng_below(&g, 60);
		uint64_t seed = rng_next(&g);

		struct sched_place *fast = sched_place_new(&r);
		r.general_only = 1;
		struct sched_place *slow = sched_place_new(&r);
		assert_true(sched_place_is_fast(fast));
		assert_false(sched_place_is_fast(slow));
		struct rng ga, gb;
		rng_seed(&ga, seed);
		rng_seed(&gb, seed);
		for (size_t k = 0; k < count; k++) {
			struct sched_place_result a, b;
			sched_place_next(fast, &ga, &a);
			sched_place_next(slow, &gb, &b);
			assert_int_equal(a.reason, b.reason);
			assert_int_equal(a.instance, b.instance);
		}
		assert_memory_equal(&ga, &gb, sizeof ga);
		enum sched_place_reason wa[MAXN], wb[MAXN];
		sched_place_explain(fast, wa);
		sched_place_explain(slow, wb);
		assert_memory_equal(wa, wb, c.n * sizeof wa[0]);
		sched_place_free(fast);
		sched_place_free(slow);
	}
}

/* The same on large clusters (up to ~5,000 instances: several words and
 * levels of the random path's count tree, long sorted runs), a few hundred
 * placements each. */
static const char *no_attr(void *arg, size_t i, const char *name)
{
	(void)arg;
	(void)i;
	(void)name;
	return NULL;
}

static void test_prop_fast_equals_general_large(void **state)
{
	(void)state;
	struct rng g;
	rng_seed(&g, 4242);
	for (int round = 0; round < 20; round++) {
		size_t n = 65 + rng_below(&g, 5000);
		struct sched_place_instance *inst = test_calloc(n, sizeof *inst);
		for (size_t i = 0; i < n; i++)
			inst[i] = (struct sched_place_instance){
				.id = "i",
				.cpu = (int)rng_below(&g, 5) * 512,
				.memory = (int)rng_below(&g, 5) * 1024,
				.active = chance(&g, 95),
				.agent_connected = 1,
				.zone = ZONES[rng_below(&g, 3)],
				.group_count = (unsigned)rng_below(&g, 3),
			};
		struct sched_place_task t = {.cpu = 256, .memory = 512};
		/* every other round random (index 5), the rest each fast chain */
		size_t ci = round % 2 ? 5 : (size_t)round / 2 % N_FAST_CHAINS;
		struct sched_place_request r = {
			.instances = inst,
			.n_instances = n,
			.task = &t,
			.strategies = CHAINS[ci],
			.n_strategies = CHAIN_LEN[ci],
			.distinct_instance = round % 7 == 0,
			.attr = no_attr,
		};
		struct sched_place *fast = sched_place_new(&r);
		r.general_only = 1;
		struct sched_place *slow = sched_place_new(&r);
		struct rng ga, gb;
		rng_seed(&ga, (uint64_t)round);
		rng_seed(&gb, (uint64_t)round);
		size_t count = 100 + rng_below(&g, 300);
		for (size_t k = 0; k < count; k++) {
			struct sched_place_result a, b;
			sched_place_next(fast, &ga, &a);
			sched_place_next(slow, &gb, &b);
			assert_int_equal(a.reason, b.reason);
			assert_int_equal(a.instance, b.instance);
		}
		sched_place_free(fast);
		sched_place_free(slow);
		test_free(inst);
	}
}

/* With room everywhere, spread keeps the group's per-bucket counts within
 * one (and, after spread instanceId, per instance within each zone). */
static void test_prop_spread_within_one(void **state)
{
	(void)state;
	struct rng g;
	rng_seed(&g, 5);
	static struct cluster c;
	for (int round = 0; round < 500; round++) {
		memset(&c, 0, sizeof c);
		size_t n = 1 + rng_below(&g, MAXN);
		for (size_t i = 0; i < n; i++)
			add(&c, 1 << 20, 1 << 20, ZONES[rng_below(&g, 3)], 0);
		struct sched_place_task t = {.cpu = 256, .memory = 512};
		int which = (int)rng_below(&g, 4);
		const struct sched_place_strategy zi[] = {SP_ZONE, SP_INST};
		struct sched_place_request r = which == 0   ? req_for(&c, &t, &SP_ZONE, 1)
					       : which == 1 ? req_for(&c, &t, zi, 2)
					       : which == 2 ? req_for(&c, &t, &SP_INST, 1)
							    : req_for(&c, &t, NULL, 0);
		if (which == 3)
			r.caller = SCHED_PLACE_FOR_SERVICE;
		r.general_only = chance(&g, 30);
		struct sched_place *p = sched_place_new(&r);
		struct rng pg;
		rng_seed(&pg, 1);
		unsigned on[MAXN] = {0};
		size_t count = rng_below(&g, 200);
		for (size_t k = 0; k < count; k++) {
			struct sched_place_result res;
			sched_place_next(p, &pg, &res);
			assert_int_equal(res.reason, SCHED_PLACE_OK);
			on[res.instance]++;
			/* after every placement, not only at the end */
			unsigned zc[3] = {0}, zmin[3], zmax[3];
			int present[3] = {0};
			for (int z = 0; z < 3; z++) {
				zmin[z] = ~0u;
				zmax[z] = 0;
			}
			for (size_t i = 0; i < n; i++) {
				int z = c.inst[i].zone[0] - 'a';
				present[z] = 1;
				zc[z] += on[i];
				zmin[z] = on[i] < zmin[z] ? on[i] : zmin[z];
				zmax[z] = on[i] > zmax[z] ? on[i] : zmax[z];
			}
			if (which == 2) {
				unsigned lo = ~0u, hi = 0;
				for (size_t i = 0; i < n; i++) {
					lo = on[i] < lo ? on[i] : lo;
					hi = on[i] > hi ? on[i] : hi;
				}
				assert_true(hi - lo <= 1);
				continue;
			}
			unsigned lo = ~0u, hi = 0;
			for (int z = 0; z < 3; z++)
				if (present[z]) {
					lo = zc[z] < lo ? zc[z] : lo;
					hi = zc[z] > hi ? zc[z] : hi;
					if (which != 0)
						assert_true(zmax[z] - zmin[z] <= 1);
				}
			assert_true(hi - lo <= 1);
		}
		sched_place_free(p);
	}
}

/* binpack uses no more instances than first-fit-decreasing (all tasks have
 * one shape, so FFD is first fit in index order) on identical instances
 * with some load already; both place the same number of tasks. */
static void test_prop_binpack_vs_ffd(void **state)
{
	(void)state;
	struct rng g;
	rng_seed(&g, 11);
	static struct cluster c;
	const int CAP_CPU = 4096, CAP_MEM = 8192;
	for (int round = 0; round < 1000; round++) {
		memset(&c, 0, sizeof c);
		size_t n = 1 + rng_below(&g, MAXN);
		for (size_t i = 0; i < n; i++) {
			int cpu = CAP_CPU, mem = CAP_MEM;
			if (chance(&g, 50)) {
				cpu -= 1 + (int)rng_below(&g, CAP_CPU);
				mem -= 1 + (int)rng_below(&g, CAP_MEM);
			}
			add(&c, cpu, mem, ZONES[rng_below(&g, 3)], 0);
		}
		struct sched_place_task t = {.cpu = 1 + (int)rng_below(&g, 1024),
					     .memory = 1 + (int)rng_below(&g, 2048)};
		int by_cpu = chance(&g, 50);
		struct sched_place_request r = req_for(&c, &t, by_cpu ? &BP_CPU : &BP_MEM, 1);
		size_t count = rng_below(&g, 300);

		struct sched_place *p = sched_place_new(&r);
		struct rng pg;
		rng_seed(&pg, 1);
		int used_bp[MAXN] = {0};
		size_t placed_bp = 0;
		for (size_t k = 0; k < count; k++) {
			struct sched_place_result res;
			sched_place_next(p, &pg, &res);
			if (res.reason != SCHED_PLACE_OK)
				break;
			used_bp[res.instance] = 1;
			placed_bp++;
		}
		sched_place_free(p);

		long cpu[MAXN], mem[MAXN];
		int used_ff[MAXN] = {0};
		size_t placed_ff = 0;
		for (size_t i = 0; i < n; i++) {
			cpu[i] = c.inst[i].cpu;
			mem[i] = c.inst[i].memory;
		}
		for (size_t k = 0; k < count; k++) {
			size_t i = 0;
			while (i < n && (cpu[i] < t.cpu || mem[i] < t.memory))
				i++;
			if (i == n)
				break;
			cpu[i] -= t.cpu;
			mem[i] -= t.memory;
			used_ff[i] = 1;
			placed_ff++;
		}
		size_t nbp = 0, nff = 0;
		for (size_t i = 0; i < n; i++) {
			int loaded = c.inst[i].cpu < CAP_CPU;
			nbp += loaded || used_bp[i];
			nff += loaded || used_ff[i];
		}
		assert_int_equal(placed_bp, placed_ff);
		assert_true(nbp <= nff);
	}
}

/* Scale-in with the service default keeps zones balanced: from counts
 * within one, stopping tasks keeps them within one. */
static void test_prop_stop_keeps_zones_balanced(void **state)
{
	(void)state;
	struct rng g;
	rng_seed(&g, 8);
	static struct cluster c;
	for (int round = 0; round < 300; round++) {
		memset(&c, 0, sizeof c);
		size_t n = 3 + rng_below(&g, 20);
		for (size_t i = 0; i < n; i++)
			add(&c, 4096, 4096, ZONES[i % 3], 0);
		/* a balanced start: place with the default, then stop some */
		struct sched_place_task t = {.cpu = 1, .memory = 1};
		struct sched_place_request r = req_for(&c, &t, NULL, 0);
		r.caller = SCHED_PLACE_FOR_SERVICE;
		size_t nt = rng_below(&g, 60);
		struct sched_place_result res[60];
		struct rng pg;
		rng_seed(&pg, (uint64_t)round);
		sched_place_run(&r, &pg, nt, res);
		size_t on[60];
		for (size_t j = 0; j < nt; j++)
			on[j] = res[j].instance;
		size_t k = rng_below(&g, nt + 1);
		size_t out[60];
		assert_int_equal(sched_place_pick_stops(&r, on, nt, k, &pg, out), k);
		/* after each stop the zone counts stay within one */
		unsigned zc[3] = {0};
		int gone[60] = {0};
		for (size_t j = 0; j < nt; j++)
			zc[c.inst[on[j]].zone[0] - 'a']++;
		for (size_t s = 0; s < k; s++) {
			assert_false(gone[out[s]]);
			gone[out[s]] = 1;
			zc[c.inst[on[out[s]]].zone[0] - 'a']--;
			unsigned lo = zc[0], hi = zc[0];
			for (int z = 1; z < 3; z++) {
				lo = zc[z] < lo ? zc[z] : lo;
				hi = zc[z] > hi ? zc[z] : hi;
			}
			assert_true(hi - lo <= 1);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_reason_texts),
		cmocka_unit_test(test_default_chains),
		cmocka_unit_test(test_binpack_memory),
		cmocka_unit_test(test_binpack_cpu),
		cmocka_unit_test(test_binpack_tie_lowest_index),
		cmocka_unit_test(test_spread_instance),
		cmocka_unit_test(test_spread_zone),
		cmocka_unit_test(test_spread_zone_then_instance),
		cmocka_unit_test(test_spread_zone_then_binpack),
		cmocka_unit_test(test_spread_custom_attribute),
		cmocka_unit_test(test_spread_counts_non_candidates),
		cmocka_unit_test(test_random_uniform),
		cmocka_unit_test(test_sequential_never_overcommits),
		cmocka_unit_test(test_fail_cpu_closest_has_most_cpu),
		cmocka_unit_test(test_fail_memory_beats_cpu),
		cmocka_unit_test(test_fail_ports),
		cmocka_unit_test(test_fail_ports_udp),
		cmocka_unit_test(test_fail_port_limit),
		cmocka_unit_test(test_fail_attribute_memberof_distinct_agent),
		cmocka_unit_test(test_fail_no_instances),
		cmocka_unit_test(test_closest_is_latest_filter),
		cmocka_unit_test(test_explain),
		cmocka_unit_test(test_stop_spread_zone),
		cmocka_unit_test(test_stop_binpack),
		cmocka_unit_test(test_stop_spread_instance_and_random),
		cmocka_unit_test(test_prop_invariants),
		cmocka_unit_test(test_prop_fast_equals_general),
		cmocka_unit_test(test_prop_fast_equals_general_large),
		cmocka_unit_test(test_prop_spread_within_one),
		cmocka_unit_test(test_prop_binpack_vs_ffd),
		cmocka_unit_test(test_prop_stop_keeps_zones_balanced),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
