/* rt_state: the runtime's files.  A task's state.json is rewritten whole
 * (temporary file, rename) on every change, so that after a crash of the
 * agent it holds either the old or the new state, never a mix.  The page
 * cache outlives the agent, which is what adoption needs (the containers
 * die with the machine anyway); with rt_config.sync_state each write is also
 * fsync'd with its directory, to survive power loss too, at a few
 * milliseconds a change.  rt_adopt rebuilds tasks from these files and from what the shims
 * left: their pid files (written once the container started) and exit
 * files.  A shim is recognised as alive only if its pid exists with the
 * start time recorded, checked again after its pidfd is open, so a reused
 * pid is never mistaken for it.  Also here: user lookup (passwd/group). */
#include "agent/rt_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/xalloc.h"

#define RT_STATE_VERSION 1

/* Written once by rt_new, before any file is. */
static bool sync_state;

void rt_state_set_sync(bool on)
{
	sync_state = on;
}

int rt_write_atomic(const char *path, const char *data, size_t n, mode_t mode)
{
	char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	int rc = 0;
	if (fd < 0) {
		rc = -errno;
		free(tmp);
		return rc;
	}
	size_t off = 0;
	while (off < n) {
		ssize_t w = write(fd, data + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			rc = -errno;
			break;
		}
		off += (size_t)w;
	}
	if (rc == 0 && fchmod(fd, mode) < 0)
		rc = -errno;
	if (rc == 0 && sync_state && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0) {
		unlink(tmp);
	} else if (sync_state) {
		char *dir = xstrdup(path);
		char *slash = strrchr(dir, '/');
		if (slash) {
			*slash = '\0';
			int dfd = open(*dir ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (dfd >= 0) {
				fsync(dfd);
				close(dfd);
			}
		}
		free(dir);
	}
	free(tmp);
	return rc;
}

char *rt_read_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	size_t cap = 4096, n = 0;
	char *buf = xmalloc(cap);
	for (;;) {
		if (n + 1 >= cap)
			buf = xrealloc(buf, cap *= 2);
		ssize_t r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int saved = errno;
			free(buf);
			close(fd);
			errno = saved;
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	return buf;
}

int rt_mkdirs(const char *path, mode_t mode)
{
	char *p = xstrdup(path);
	int rc = 0;
	for (char *s = p + 1;; s++) {
		if (*s == '/' || *s == '\0') {
			char saved = *s;
			*s = '\0';
			if (mkdir(p, mode) < 0 && errno != EEXIST)
				rc = -errno;
			*s = saved;
			if (rc < 0 || saved == '\0')
				break;
		}
	}
	free(p);
	return rc;
}

int64_t rt_proc_start_time(int pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	char *buf = rt_read_file(path);
	if (!buf)
		return -1;
	int64_t start = -1;
	char *p = strrchr(buf, ')');
	if (p) {
		/* Field 3 (state) follows ") "; the start time is field 22. */
		p += 2;
		for (int field = 3; field < 22 && p; field++) {
			p = strchr(p, ' ');
			if (p)
				p++;
		}
		if (p)
			start = strtoll(p, NULL, 10);
	}
	free(buf);
	return start;
}

/* --- state.json --- */

static void add_str(cJSON *o, const char *k, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

int rt_state_save(struct rt_task *t)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "version", RT_STATE_VERSION);
	cJSON_AddItemToObject(o, "spec", rt_spec_to_json(&t->spec));
	cJSON_AddStringToObject(o, "status", rt_status_name(t->status));
	cJSON_AddStringToObject(o, "desired", rt_status_name(t->desired));
	cJSON_AddNumberToObject(o, "stopCause", t->stop_cause);
	add_str(o, "stoppedReason", t->stopped_reason);
	cJSON_AddNumberToObject(o, "createdAt", (double)t->created_at);
	cJSON_AddNumberToObject(o, "startedAt", (double)t->started_at);
	cJSON_AddNumberToObject(o, "stoppingAt", (double)t->stopping_at);
	cJSON_AddNumberToObject(o, "stoppedAt", (double)t->stopped_at);
	cJSON *cs = cJSON_AddArrayToObject(o, "containers");
	for (size_t i = 0; i < t->spec.n; i++) {
		const struct rt_container *c = &t->c[i];
		cJSON *j = cJSON_CreateObject();
		cJSON_AddItemToArray(cs, j);
		cJSON_AddStringToObject(j, "name", t->spec.containers[i].name);
		cJSON_AddStringToObject(j, "status", rt_status_name(c->status));
		cJSON_AddBoolToObject(j, "launched", c->priv->launched);
		cJSON_AddBoolToObject(j, "ok", c->priv->ok);
		if (c->has_exit)
			cJSON_AddNumberToObject(j, "exitCode", c->exit_code);
		else
			cJSON_AddNullToObject(j, "exitCode");
		add_str(j, "reason", c->reason);
		cJSON_AddStringToObject(j, "health", rt_health_name(c->health));
		cJSON_AddNumberToObject(j, "pid", c->pid);
		cJSON_AddNumberToObject(j, "shimPid", c->shim_pid);
		cJSON_AddNumberToObject(j, "shimStart", (double)c->priv->shim_start);
		cJSON_AddNumberToObject(j, "startedAt", (double)c->started_at);
		cJSON_AddNumberToObject(j, "stoppedAt", (double)c->stopped_at);
		add_str(j, "notes", c->notes);
		add_str(j, "cgroup", c->priv->cgroup);
	}
	char *text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	char *path = xasprintf("%s/state.json", t->priv->run_dir);
	int rc = rt_write_atomic(path, text, strlen(text), 0600);
	if (rc < 0)
		log_warn("runtime: cannot save %s: %s", path, strerror(-rc));
	free(path);
	free(text);
	return rc;
}

void rt_state_remove(struct rt_task *t)
{
	DIR *d = opendir(t->priv->run_dir);
	if (d) {
		struct dirent *de;
		while ((de = readdir(d))) {
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			char *p = xasprintf("%s/%s", t->priv->run_dir, de->d_name);
			unlink(p);
			free(p);
		}
		closedir(d);
	}
	rmdir(t->priv->run_dir);
}

static int status_parse(const char *s, enum rt_status *out)
{
	for (int i = RT_PENDING; i <= RT_STOPPED; i++)
		if (s && strcmp(s, rt_status_name((enum rt_status)i)) == 0) {
			*out = (enum rt_status)i;
			return 0;
		}
	return -1;
}

static double num(const cJSON *o, const char *k)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(j) ? j->valuedouble : 0;
}

static char *str(const cJSON *o, const char *k)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(j) ? xstrdup(j->valuestring) : NULL;
}

static bool flag(const cJSON *o, const char *k)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, k));
}

/* Bring one container back: watch its shim if it lives, else leave the
 * exit file to be read from the loop (the task's kick). */
static void adopt_container(struct rt *rt, struct rt_task *t, size_t i, const cJSON *j)
{
	struct rt_container *c = &t->c[i];
	struct rt_cpriv *p = c->priv;
	status_parse(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "status")), &c->status);
	const cJSON *ec = cJSON_GetObjectItemCaseSensitive(j, "exitCode");
	if (cJSON_IsNumber(ec)) {
		c->has_exit = true;
		c->exit_code = ec->valueint;
	}
	c->reason = str(j, "reason");
	c->notes = str(j, "notes");
	p->cgroup = str(j, "cgroup");
	const char *h = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "health"));
	for (int k = RT_HEALTH_UNKNOWN; k <= RT_UNHEALTHY; k++)
		if (h && strcmp(h, rt_health_name((enum rt_health)k)) == 0)
			c->health = (enum rt_health)k;
	c->pid = (int)num(j, "pid");
	c->shim_pid = (int)num(j, "shimPid");
	p->shim_start = (int64_t)num(j, "shimStart");
	c->started_at = (int64_t)num(j, "startedAt");
	c->stopped_at = (int64_t)num(j, "stoppedAt");
	p->launched = flag(j, "launched");
	p->ok = flag(j, "ok");
	if (c->status == RT_STOPPED || !p->launched)
		return;

	/* The state may predate the spawn's record: the shim's pid file is
	 * written once the container runs. */
	const char *name = t->spec.containers[i].name;
	char *pidpath = xasprintf("%s/%s.pid", t->priv->run_dir, name);
	char *pidtext = rt_read_file(pidpath);
	free(pidpath);
	if (pidtext) {
		int spid = 0, cpid = 0;
		long long sstart = 0;
		if (sscanf(pidtext, "%d %lld %d", &spid, &sstart, &cpid) == 3 &&
		    (c->shim_pid == 0 || c->shim_pid == spid)) {
			c->shim_pid = spid;
			p->shim_start = sstart;
			c->pid = cpid;
			p->ok = true;
		}
		free(pidtext);
	}
	int pidfd = -1;
	if (c->shim_pid > 0 && rt_proc_start_time(c->shim_pid) == p->shim_start) {
		pidfd = pidfd_open(c->shim_pid, 0);
		if (pidfd >= 0 && rt_proc_start_time(c->shim_pid) != p->shim_start) {
			close(pidfd);
			pidfd = -1;
		}
	}
	if (pidfd < 0) {
		p->shim_gone = true; /* rt's kick reads the exit file */
		return;
	}
	rt_watch_shim(t, i, pidfd);
	/* A live shim past its start is taken to have started the container;
	 * if the exec failed, its exit file will say so in a moment. */
	p->ok = true;
	if (c->status == RT_PENDING) {
		c->status = RT_RUNNING;
		if (!c->started_at)
			c->started_at = rt_now(rt);
		p->dirty = true;
	}
	if (c->status == RT_RUNNING && t->desired == RT_RUNNING)
		rt_health_arm(t, i);
}

static struct rt_task *adopt_one(struct rt *rt, const char *id)
{
	char *dir = rt_task_dir(rt, "run", id);
	char *path = xasprintf("%s/state.json", dir);
	char *text = rt_read_file(path);
	cJSON *o = text ? cJSON_Parse(text) : NULL;
	struct rt_task *t = NULL;
	struct rt_task_spec spec;
	struct err e;
	err_clear(&e);
	if (!o) {
		if (text)
			log_warn("runtime: %s is not JSON; task %s not adopted", path, id);
		goto out;
	}
	if (num(o, "version") != RT_STATE_VERSION) {
		log_warn("runtime: %s has an unknown version; task %s not adopted", path, id);
		goto out;
	}
	if (rt_spec_from_json(cJSON_GetObjectItemCaseSensitive(o, "spec"), &spec, &e) < 0) {
		log_warn("runtime: %s: %s; task %s not adopted", path, e.msg, id);
		goto out;
	}
	const cJSON *cs = cJSON_GetObjectItemCaseSensitive(o, "containers");
	if (strcmp(spec.id, id) != 0 || cJSON_GetArraySize(cs) != (int)spec.n || rt_task_find(rt, id)) {
		log_warn("runtime: %s does not match its directory; task %s not adopted", path, id);
		rt_spec_release(&spec);
		goto out;
	}
	t = rt_task_new(rt, &spec);
	rt_spec_release(&spec);
	status_parse(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "status")), &t->status);
	status_parse(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "desired")), &t->desired);
	int cause = (int)num(o, "stopCause");
	if (cause >= RT_STOP_NONE && cause <= RT_STOP_FAILED_TO_START)
		t->stop_cause = (enum rt_stop_cause)cause;
	t->stopped_reason = str(o, "stoppedReason");
	t->created_at = (int64_t)num(o, "createdAt");
	t->started_at = (int64_t)num(o, "startedAt");
	t->stopping_at = (int64_t)num(o, "stoppingAt");
	t->stopped_at = (int64_t)num(o, "stoppedAt");
	/* Every adopted task and container is reported once, from the kick. */
	t->priv->status_dirty = true;
	for (size_t i = 0; i < t->spec.n; i++) {
		adopt_container(rt, t, i, cJSON_GetArrayItem(cs, (int)i));
		t->c[i].priv->dirty = true;
	}
	rt_task_add(rt, t);
	rt_kick(t);
out:
	cJSON_Delete(o);
	free(text);
	free(path);
	free(dir);
	return t;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int rt_adopt(struct rt *rt)
{
	char *run = xasprintf("%s/run", rt->data_dir);
	DIR *d = opendir(run);
	int n = 0;
	if (!d) {
		int rc = errno == ENOENT ? 0 : -errno;
		free(run);
		return rc;
	}
	/* Sorted, so that adoption order (and rt_tasks) is stable. */
	char **names = NULL;
	size_t n_names = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!rt_name_ok(de->d_name, true))
			continue;
		names = xrealloc(names, (n_names + 1) * sizeof *names);
		names[n_names++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n_names)
		qsort(names, n_names, sizeof *names, cmp_names);
	for (size_t i = 0; i < n_names; i++) {
		if (adopt_one(rt, names[i]))
			n++;
		free(names[i]);
	}
	free(names);
	free(run);
	return n;
}

/* --- users --- */

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

int rt_user_resolve(const char *spec, struct rt_user *u, char **why)
{
	memset(u, 0, sizeof *u);
	char *user = xstrdup(spec);
	char *group = strchr(user, ':');
	if (group)
		*group++ = '\0';
	struct passwd *pw = NULL;
	int rc = -1;
	if (all_digits(user)) {
		u->uid = (uid_t)strtoul(user, NULL, 10);
		pw = getpwuid(u->uid);
	} else {
		pw = getpwnam(user);
		if (!pw) {
			*why = xasprintf("unable to find user %s: no matching entries in passwd file", user);
			goto out;
		}
		u->uid = pw->pw_uid;
	}
	u->gid = pw ? pw->pw_gid : 0;
	u->home = xstrdup(pw && pw->pw_dir && *pw->pw_dir ? pw->pw_dir : "/");
	if (group && all_digits(group)) {
		u->gid = (gid_t)strtoul(group, NULL, 10);
	} else if (group) {
		struct group *gr = getgrnam(group);
		if (!gr) {
			*why = xasprintf("unable to find group %s: no matching entries in group file", group);
			goto out;
		}
		u->gid = gr->gr_gid;
	}
	if (pw) {
		int ng = 16;
		u->groups = xmalloc((size_t)ng * sizeof *u->groups);
		if (getgrouplist(pw->pw_name, u->gid, u->groups, &ng) < 0) {
			u->groups = xrealloc(u->groups, (size_t)ng * sizeof *u->groups);
			getgrouplist(pw->pw_name, u->gid, u->groups, &ng);
		}
		u->n_groups = (size_t)ng;
	} else {
		u->groups = xmalloc(sizeof *u->groups);
		u->groups[0] = u->gid;
		u->n_groups = 1;
	}
	rc = 0;
out:
	if (rc < 0)
		rt_user_release(u);
	free(user);
	return rc;
}

void rt_user_release(struct rt_user *u)
{
	free(u->groups);
	free(u->home);
	memset(u, 0, sizeof *u);
}
