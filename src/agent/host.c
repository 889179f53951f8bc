/* host: see host.h.
 *
 * The cgroup limits are looked for in the agent's own cgroup and each of
 * its ancestors (a limit set on a parent binds the child too), in the v2
 * unified hierarchy and in the v1 cpu and memory ones; a file that is
 * absent or unreadable is no limit.  Inside a cgroup namespace
 * /proc/self/cgroup says "/" and the walk is the mount's root alone. */
#include "agent/host.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "lib/xalloc.h"

#define MIB          (1024L * 1024L)
#define SMALL_FILE   (64 * 1024)
#define CPU_UNITS    1024
#define CGROUP_MOUNT "/sys/fs/cgroup"

/* Read up to cap - 1 bytes of path into buf, NUL-terminated.  Returns the
 * length or -errno. */
static long read_small(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t n = 0;
	while (n + 1 < cap) {
		ssize_t r = read(fd, buf + n, cap - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int err = errno;
			close(fd);
			return -err;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	return (long)n;
}

/* ---- cgroups ---- */

/* The least CPU units and memory MiB the cgroups allow; LONG_MAX: none. */
struct limits {
	long cpu_units;
	long memory_mib;
};

static void lower(long *have, long v)
{
	if (v > 0 && v < *have)
		*have = v;
}

/* A non-negative decimal, or -1 ("max", "-1", anything else). */
static long long parse_num(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || v > LLONG_MAX)
		return -1;
	return (long long)v;
}

static long units_of(long long quota, long long period)
{
	if (quota <= 0 || period <= 0)
		return -1;
	long long u = quota * CPU_UNITS / period;
	return u < 1 ? 1 : (long)(u > LONG_MAX ? LONG_MAX : u);
}

static long mib_of(long long bytes)
{
	if (bytes <= 0)
		return -1;
	long long m = bytes / MIB;
	return m < 1 ? 1 : (long)m;
}

/* v2: "max 100000" or "150000 100000" in cpu.max; "max" or bytes in
 * memory.max. */
static void dir_v2(const char *dir, struct limits *l)
{
	char path[PATH_MAX], buf[256];
	snprintf(path, sizeof path, "%s/cpu.max", dir);
	if (read_small(path, buf, sizeof buf) > 0) {
		long long quota = parse_num(buf), period = -1;
		const char *sp = strchr(buf, ' ');
		if (sp)
			period = parse_num(sp + 1);
		lower(&l->cpu_units, units_of(quota, period));
	}
	snprintf(path, sizeof path, "%s/memory.max", dir);
	if (read_small(path, buf, sizeof buf) > 0)
		lower(&l->memory_mib, mib_of(parse_num(buf)));
}

/* v1: cpu.cfs_quota_us (-1: none) over cpu.cfs_period_us. */
static void dir_v1_cpu(const char *dir, struct limits *l)
{
	char path[PATH_MAX], buf[64];
	long long quota = -1, period = -1;
	snprintf(path, sizeof path, "%s/cpu.cfs_quota_us", dir);
	if (read_small(path, buf, sizeof buf) > 0)
		quota = parse_num(buf);
	snprintf(path, sizeof path, "%s/cpu.cfs_period_us", dir);
	if (read_small(path, buf, sizeof buf) > 0)
		period = parse_num(buf);
	lower(&l->cpu_units, units_of(quota, period));
}

/* v1: memory.limit_in_bytes (a huge number when unlimited, which is then
 * above MemTotal and changes nothing). */
static void dir_v1_memory(const char *dir, struct limits *l)
{
	char path[PATH_MAX], buf[64];
	snprintf(path, sizeof path, "%s/memory.limit_in_bytes", dir);
	if (read_small(path, buf, sizeof buf) > 0)
		lower(&l->memory_mib, mib_of(parse_num(buf)));
}

/* Apply fn to base + cg_path and to each ancestor up to base itself. */
static void walk_up(const char *base, const char *cg_path, void (*fn)(const char *, struct limits *),
                    struct limits *l)
{
	char dir[PATH_MAX];
	int n = snprintf(dir, sizeof dir, "%s%s", base, cg_path);
	if (n < 0 || (size_t)n >= sizeof dir)
		return;
	size_t floor = strlen(base);
	for (;;) {
		size_t len = strlen(dir);
		while (len > floor && dir[len - 1] == '/')
			dir[--len] = '\0';
		fn(dir, l);
		if (len <= floor)
			return;
		char *slash = strrchr(dir + floor, '/');
		if (!slash)
			dir[floor] = '\0';
		else
			*slash = '\0';
	}
}

/* Whether the comma-separated list has name. */
static int has_controller(const char *list, size_t n, const char *name)
{
	size_t nl = strlen(name);
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && list[j] != ',')
			j++;
		if (j - i == nl && memcmp(list + i, name, nl) == 0)
			return 1;
		i = j + 1;
	}
	return 0;
}

/* /proc/self/cgroup's lines are "ID:CONTROLLERS:PATH"; v2's is "0::PATH". */
static void cgroup_limits(const char *root, struct limits *l)
{
	char path[PATH_MAX], base[PATH_MAX];
	snprintf(path, sizeof path, "%s/proc/self/cgroup", root);
	char *text = xmalloc(SMALL_FILE);
	if (read_small(path, text, SMALL_FILE) < 0) {
		/* No cgroup file: look at the mount's root, which is ours in a
		 * cgroup namespace. */
		snprintf(base, sizeof base, "%s" CGROUP_MOUNT, root);
		walk_up(base, "", dir_v2, l);
		free(text);
		return;
	}
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		char *c1 = strchr(line, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		const char *ctrl = c1 + 1, *cg = c2 + 1;
		size_t ctrl_len = (size_t)(c2 - ctrl);
		if (ctrl_len == 0 && strncmp(line, "0:", 2) == 0) {
			snprintf(base, sizeof base, "%s" CGROUP_MOUNT, root);
			walk_up(base, cg, dir_v2, l);
		}
		if (has_controller(ctrl, ctrl_len, "cpu")) {
			snprintf(base, sizeof base, "%s" CGROUP_MOUNT "/cpu", root);
			walk_up(base, cg, dir_v1_cpu, l);
		}
		if (has_controller(ctrl, ctrl_len, "memory")) {
			snprintf(base, sizeof base, "%s" CGROUP_MOUNT "/memory", root);
			walk_up(base, cg, dir_v1_memory, l);
		}
	}
	free(text);
}

/* ---- the probe ---- */

static long online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	cpu_set_t set;
	CPU_ZERO(&set);
	if (sched_getaffinity(0, sizeof set, &set) == 0) {
		long a = CPU_COUNT(&set);
		if (a >= 1 && a < n)
			n = a;
	}
	return n;
}

/* MemTotal in MiB, or -errno. */
static long mem_total_mib(const char *root)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/proc/meminfo", root);
	char *text = xmalloc(SMALL_FILE);
	long n = read_small(path, text, SMALL_FILE);
	long mib = -EINVAL;
	if (n < 0)
		mib = n;
	for (char *line = n < 0 ? NULL : text; line && *line;) {
		if (strncmp(line, "MemTotal:", 9) == 0) {
			long long kb = parse_num(line + 9);
			if (kb > 0)
				mib = (long)(kb / 1024 < 1 ? 1 : kb / 1024);
			break;
		}
		line = strchr(line, '\n');
		line = line ? line + 1 : NULL;
	}
	free(text);
	return mib;
}

static void set_arch(struct agent_host *h, const char *machine)
{
	const char *a = machine;
	if (strcmp(machine, "aarch64") == 0 || strcmp(machine, "arm64") == 0)
		a = "arm64";
	else if (strcmp(machine, "x86_64") == 0 || strcmp(machine, "amd64") == 0)
		a = "x86_64";
	snprintf(h->arch, sizeof h->arch, "%.15s", a);
}

int agent_host_probe_at(struct agent_host *h, const char *root, struct err *e)
{
	if (!root)
		root = "";
	memset(h, 0, sizeof *h);
	struct utsname u;
	if (uname(&u) != 0)
		return err_set(e, -errno, "uname: %s", strerror(errno));
	set_arch(h, u.machine);
	snprintf(h->os, sizeof h->os, "linux");
	if (gethostname(h->hostname, sizeof h->hostname) != 0)
		snprintf(h->hostname, sizeof h->hostname, "%s", u.nodename);
	h->hostname[sizeof h->hostname - 1] = '\0';

	long mem = mem_total_mib(root);
	if (mem < 0)
		return err_set(e, (int)mem, "%s/proc/meminfo: no MemTotal (%s)", root, strerror((int)-mem));
	struct limits l = {LONG_MAX, LONG_MAX};
	cgroup_limits(root, &l);
	long cpu = online_cpus() * CPU_UNITS;
	lower(&cpu, l.cpu_units);
	lower(&mem, l.memory_mib);
	h->cpu_units = cpu > INT_MAX ? INT_MAX : (int)cpu;
	h->memory_mib = mem;
	return 0;
}

int agent_host_probe(struct agent_host *h, struct err *e)
{
	return agent_host_probe_at(h, "", e);
}

/* ---- agent.json ---- */

static const struct {
	const char *name;
	size_t off, size;
} state_fields[] = {
    {"cluster", offsetof(struct agent_state, cluster), sizeof(((struct agent_state *)0)->cluster)},
    {"containerInstanceArn", offsetof(struct agent_state, container_instance_arn),
     sizeof(((struct agent_state *)0)->container_instance_arn)},
    {"endpoint", offsetof(struct agent_state, endpoint), sizeof(((struct agent_state *)0)->endpoint)},
};
#define N_STATE_FIELDS (sizeof state_fields / sizeof state_fields[0])

int agent_state_load(const char *data_dir, struct agent_state *s)
{
	memset(s, 0, sizeof *s);
	char *path = xasprintf("%s/%s", data_dir, AGENT_STATE_FILE);
	char *text = xmalloc(SMALL_FILE);
	long n = read_small(path, text, SMALL_FILE);
	free(path);
	if (n < 0) {
		free(text);
		return (int)n;
	}
	int rc = 0;
	cJSON *o = n + 1 >= SMALL_FILE ? NULL : cJSON_ParseWithLength(text, (size_t)n);
	free(text);
	if (!cJSON_IsObject(o))
		rc = -EINVAL;
	for (size_t i = 0; rc == 0 && i < N_STATE_FIELDS; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, state_fields[i].name);
		if (!v || cJSON_IsNull(v))
			continue;
		if (!cJSON_IsString(v) || strlen(v->valuestring) >= state_fields[i].size) {
			rc = -EINVAL;
			break;
		}
		memcpy((char *)s + state_fields[i].off, v->valuestring, strlen(v->valuestring) + 1);
	}
	cJSON_Delete(o);
	if (rc)
		memset(s, 0, sizeof *s);
	return rc;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The directory's entry must reach the disk too, or a crash after the
 * rename could bring back the old file. */
static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = fsync(fd) == 0 ? 0 : -errno;
	close(fd);
	return rc;
}

int agent_state_save(const char *data_dir, const struct agent_state *s)
{
	cJSON *o = cJSON_CreateObject();
	for (size_t i = 0; i < N_STATE_FIELDS; i++) {
		const char *v = (const char *)s + state_fields[i].off;
		/* Bounded by the array, whatever the caller left in it. */
		char *copy = xstrndup(v, state_fields[i].size - 1);
		cJSON_AddStringToObject(o, state_fields[i].name, copy);
		free(copy);
	}
	char *json = cJSON_Print(o);
	cJSON_Delete(o);
	BERTH_ASSERT(json != NULL);
	char *text = xasprintf("%s\n", json);
	cJSON_free(json);

	char *path = xasprintf("%s/%s", data_dir, AGENT_STATE_FILE);
	char *tmp = xasprintf("%s/.%s.tmp", data_dir, AGENT_STATE_FILE);
	int rc = 0;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		rc = -errno;
	/* A temporary left by a crash keeps its mode under O_TRUNC. */
	if (rc == 0 && fchmod(fd, 0600) != 0)
		rc = -errno;
	if (rc == 0)
		rc = write_all(fd, text, strlen(text));
	if (rc == 0 && fsync(fd) != 0)
		rc = -errno;
	if (fd >= 0 && close(fd) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc == 0)
		rc = sync_dir(data_dir);
	else if (fd >= 0)
		unlink(tmp);
	free(tmp);
	free(path);
	free(text);
	return rc;
}
