/* host: what berth-agent knows of the machine it runs on, and the little
 * state it keeps across restarts.
 *
 * agent_host_probe measures what RegisterContainerInstance offers: CPU
 * units (1024 a CPU) and memory in MiB, each the least of what the kernel
 * reports and what the agent's cgroup allows (v2 cpu.max and memory.max,
 * or v1 cpu.cfs_quota_us and memory.limit_in_bytes), so that an agent in a
 * container does not offer its host's capacity.
 *
 * agent.json ({"cluster", "containerInstanceArn", "endpoint"}) is written
 * atomically (a temporary file, fsync, rename, fsync of the directory) and
 * readable by its owner only: a crash leaves the old state or the new,
 * never a torn one. */
#ifndef BERTH_AGENT_HOST_H
#define BERTH_AGENT_HOST_H

#include "lib/err.h"

struct agent_host {
	int cpu_units;   /* >= 1 */
	long memory_mib; /* >= 1 */
	char arch[16];   /* "x86_64", "arm64", else uname's machine */
	char os[16];     /* "linux" */
	char hostname[256];
};

/* Probe this machine into h.  Returns 0, or -1 with e (code -errno of the
 * failure) when /proc/meminfo or uname cannot be read. */
int agent_host_probe(struct agent_host *h, struct err *e);

/* The same, reading /proc and /sys/fs/cgroup under root ("" or NULL: the
 * real ones; tests point it at a fake tree).  The CPU count still comes
 * from sysconf and the affinity mask. */
int agent_host_probe_at(struct agent_host *h, const char *root, struct err *e);

#define AGENT_STATE_FILE "agent.json"

struct agent_state {
	char cluster[256];                /* "" if unknown */
	char container_instance_arn[512]; /* "" before the first registration */
	char endpoint[1024];
};

/* Read DATA_DIR/agent.json into s (members it lacks are "").  Returns 0,
 * -ENOENT if there is none (a first start), -EINVAL if it is not a JSON
 * object of strings that fit, or another -errno. */
int agent_state_load(const char *data_dir, struct agent_state *s);

/* Write s to DATA_DIR/agent.json atomically, mode 0600.  Returns 0 or
 * -errno (the old file is then intact). */
int agent_state_save(const char *data_dir, const struct agent_state *s);

#endif
