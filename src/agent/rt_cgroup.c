/* rt_cgroup: memory and CPU limits through cgroup v2.
 *
 * Layout: <root>/berth/<task-id>/<container>.  The task's directory carries
 * the task-level limits (memory.max, cpu.max from the task's cpu units), a
 * container's its own (memory.max from memory, memory.low from
 * memoryReservation, cpu.weight from cpu units: 1024 units -> weight 100,
 * the default, so containers without cpu units are not starved).  The shim
 * joins the container's directory before it forks the container.
 *
 * Limits are best effort, as the brief for the agent asks: when anything is
 * missing (no cgroup2 mount, a controller bound to a v1 hierarchy as on
 * hybrid hosts, no permission) the container runs without them and the
 * reason is returned as a note for the caller to report. */
#include "agent/rt_int.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "lib/xalloc.h"

static bool is_cgroup2(const char *dir)
{
	struct statfs sf;
	return statfs(dir, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
}

void rt_cgroup_probe(struct rt *rt, const char *configured, bool disabled)
{
	if (disabled) {
		rt->cg_why = xstrdup("cgroups are disabled by configuration");
		return;
	}
	if (configured) {
		char *ctl = xasprintf("%s/cgroup.controllers", configured);
		if (access(ctl, R_OK) == 0)
			rt->cg_root = xstrdup(configured);
		else
			rt->cg_why = xasprintf("no cgroup v2 hierarchy at %s", configured);
		free(ctl);
		return;
	}
	static const char *candidates[] = {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"};
	for (size_t i = 0; i < 2; i++)
		if (is_cgroup2(candidates[i])) {
			rt->cg_root = xstrdup(candidates[i]);
			return;
		}
	rt->cg_why = xstrdup("no cgroup v2 hierarchy is mounted");
}

static bool has_word(const char *list, const char *w)
{
	size_t n = strlen(w);
	for (const char *p = list; p && *p;) {
		while (*p == ' ' || *p == '\n')
			p++;
		size_t len = strcspn(p, " \n");
		if (len == n && strncmp(p, w, n) == 0)
			return true;
		p += len;
	}
	return false;
}

/* Write v to dir/file; on failure fill *note. */
static int put(const char *dir, const char *file, const char *v, char **note)
{
	char *path = xasprintf("%s/%s", dir, file);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int rc = 0;
	if (fd < 0 || write(fd, v, strlen(v)) != (ssize_t)strlen(v))
		rc = -errno;
	if (fd >= 0 && close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc < 0)
		*note = xasprintf("limits not enforced: cannot write %s to %s: %s", v, path, strerror(-rc));
	free(path);
	return rc;
}

static int make_dir(const char *dir, char **note)
{
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		*note = xasprintf("limits not enforced: cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* Enable the controllers for the children of dir. */
static int enable(const char *dir, bool mem, bool cpu, char **note)
{
	if (mem && put(dir, "cgroup.subtree_control", "+memory", note) < 0)
		return -1;
	if (cpu && put(dir, "cgroup.subtree_control", "+cpu", note) < 0)
		return -1;
	return 0;
}

char *rt_cgroup_setup(struct rt *rt, const struct rt_task *t, size_t i, char **note)
{
	const struct rt_container_spec *c = &t->spec.containers[i];
	bool mem = c->memory_mib > 0 || c->memory_reservation_mib > 0 || t->spec.memory_mib > 0;
	bool cpu = c->cpu > 0 || t->spec.cpu > 0;
	*note = NULL;
	if (!mem && !cpu)
		return NULL;
	if (!rt->cg_root) {
		*note = xasprintf("limits not enforced: %s", rt->cg_why);
		return NULL;
	}
	char *ctl_path = xasprintf("%s/cgroup.controllers", rt->cg_root);
	char *ctl = rt_read_file(ctl_path);
	free(ctl_path);
	const char *missing = NULL;
	if (mem && !has_word(ctl, "memory"))
		missing = "memory";
	else if (cpu && !has_word(ctl, "cpu"))
		missing = "cpu";
	free(ctl);
	if (missing) {
		*note = xasprintf("limits not enforced: cgroup v2 %s controller unavailable in %s", missing,
		                  rt->cg_root);
		return NULL;
	}
	char *berth = xasprintf("%s/berth", rt->cg_root);
	char *task = xasprintf("%s/%s", berth, t->spec.id);
	char *dir = xasprintf("%s/%s", task, c->name);
	char v[64];
	bool made = false;
	int rc = -1;
	if (make_dir(berth, note) < 0 || enable(rt->cg_root, mem, cpu, note) < 0 ||
	    make_dir(task, note) < 0 || enable(berth, mem, cpu, note) < 0)
		goto out;
	if (t->spec.memory_mib > 0) {
		snprintf(v, sizeof v, "%lld", (long long)t->spec.memory_mib * 1048576);
		if (put(task, "memory.max", v, note) < 0)
			goto out;
	}
	if (t->spec.cpu > 0) {
		long quota = t->spec.cpu * 100000 / 1024;
		snprintf(v, sizeof v, "%ld 100000", quota < 1000 ? 1000 : quota);
		if (put(task, "cpu.max", v, note) < 0)
			goto out;
	}
	if (enable(task, mem, cpu, note) < 0 || make_dir(dir, note) < 0)
		goto out;
	made = true;
	if (c->memory_mib > 0) {
		snprintf(v, sizeof v, "%lld", (long long)c->memory_mib * 1048576);
		if (put(dir, "memory.max", v, note) < 0)
			goto out;
	}
	if (c->memory_reservation_mib > 0) {
		snprintf(v, sizeof v, "%lld", (long long)c->memory_reservation_mib * 1048576);
		if (put(dir, "memory.low", v, note) < 0)
			goto out;
	}
	if (c->cpu > 0) {
		long w = c->cpu * 100 / 1024;
		snprintf(v, sizeof v, "%ld", w < 1 ? 1 : w > 10000 ? 10000 : w);
		if (put(dir, "cpu.weight", v, note) < 0)
			goto out;
	}
	rc = 0;
out:
	if (rc < 0 && made)
		rmdir(dir);
	free(berth);
	free(task);
	if (rc < 0) {
		free(dir);
		return NULL;
	}
	return dir;
}

bool rt_cgroup_oom(const char *dir)
{
	char *path = xasprintf("%s/memory.events", dir);
	char *ev = rt_read_file(path);
	free(path);
	bool oom = false;
	const char *p = ev ? strstr(ev, "oom_kill ") : NULL;
	if (p)
		oom = strtol(p + 9, NULL, 10) > 0;
	free(ev);
	return oom;
}

void rt_cgroup_remove_container(const char *dir)
{
	rmdir(dir);
}

void rt_cgroup_remove_task(struct rt *rt, const struct rt_task *t)
{
	if (!rt->cg_root)
		return;
	char *task = xasprintf("%s/berth/%s", rt->cg_root, t->spec.id);
	rmdir(task);
	free(task);
}
