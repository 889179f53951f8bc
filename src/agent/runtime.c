/* runtime: tasks and their containers on the loop (see runtime.h for the
 * contract, rt_int.h for the file map).
 *
 * Everything that changes a task goes through one path: an event (the
 * task's kick timer, a shim's status line, a shim's exit seen on its pidfd,
 * a health check's end, a stop timer) updates a container, then advance()
 * derives the rest (launch what the dependencies allow, stop what can never
 * start, begin the task's stop when an essential container stopped, send
 * the stop signals, move the task's status) and flush() saves state.json
 * and only then reports the dirty containers and the task.
 *
 * A shim is spawned with uv_spawn (which closes every other descriptor and
 * reports a failed exec), but its uv_process_t is closed at once: the shim
 * is watched through a pidfd for its whole life, exactly as an adopted shim
 * whose parent is no longer this process.  Its exit is final only when the
 * status socket has also reached EOF, so that the "ok <pid>" line, when
 * there was one, is always read first. */
#include "agent/rt_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/xalloc.h"

#define RT_DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
/* After SIGKILL was asked of the shim, how long before the shim itself is killed. */
#define RT_SHIM_GRACE_MS 5000

static void advance(struct rt_task *t);
static void flush(struct rt_task *t);
static void hc_stop(struct rt_task *t, size_t i);

static int64_t real_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t rt_now(struct rt *rt)
{
	return rt->now_ms();
}

/* --- lifetime of handles, tasks and the runtime --- */

static void maybe_done(struct rt *rt)
{
	if (!rt->closing || rt->n_dying || rt->idle_open)
		return;
	void (*done)(void *) = rt->close_done;
	void *arg = rt->close_arg;
	free(rt->tasks);
	free(rt->data_dir);
	free(rt->shim_exe);
	free(rt->shim_arg0);
	free(rt->cg_root);
	free(rt->cg_why);
	free(rt);
	if (done)
		done(arg);
}

static void task_free(struct rt_task *t)
{
	struct rt *rt = t->priv->rt;
	for (size_t i = 0; i < t->spec.n; i++) {
		free(t->c[i].reason);
		free(t->c[i].notes);
		free(t->c[i].priv->cgroup);
		free(t->c[i].priv);
	}
	free(t->c);
	rt_spec_release(&t->spec);
	free(t->stopped_reason);
	free(t->priv->run_dir);
	free(t->priv->log_dir);
	free(t->priv);
	free(t);
	rt->n_dying--;
	maybe_done(rt);
}

static void task_unref(struct rt_task *t)
{
	BERTH_ASSERT(t->priv->n_open > 0);
	if (--t->priv->n_open == 0 && t->priv->dying)
		task_free(t);
}

static void on_cclosed(uv_handle_t *h)
{
	struct rt_cpriv *p = h->data;
	task_unref(p->t);
}

static void on_tclosed(uv_handle_t *h)
{
	task_unref(h->data);
}

static void close_poll(struct rt_cpriv *p)
{
	if (!p->poll_open)
		return;
	uv_close((uv_handle_t *)&p->poll, on_cclosed);
	close(p->pidfd);
	p->pidfd = -1;
	p->poll_open = false;
}

static void close_pipe(struct rt_cpriv *p)
{
	if (!p->pipe_open)
		return;
	uv_close((uv_handle_t *)&p->pipe, on_cclosed);
	p->pipe_open = false;
}

/* Close every handle of the task; it is freed when the last one is closed.
 * The shims are left alone. */
static void task_die(struct rt_task *t)
{
	BERTH_ASSERT(!t->priv->dying);
	t->priv->dying = true;
	t->priv->rt->n_dying++;
	uv_close((uv_handle_t *)&t->priv->kick, on_tclosed);
	for (size_t i = 0; i < t->spec.n; i++) {
		struct rt_cpriv *p = t->c[i].priv;
		hc_stop(t, i);
		if (p->hc_running) {
			uv_close((uv_handle_t *)&p->hc_proc, on_cclosed);
			p->hc_running = false;
		}
		uv_close((uv_handle_t *)&p->kill_timer, on_cclosed);
		uv_close((uv_handle_t *)&p->hc_timer, on_cclosed);
		uv_close((uv_handle_t *)&p->hc_timeout, on_cclosed);
		close_poll(p);
		close_pipe(p);
	}
}

struct rt_task *rt_task_new(struct rt *rt, const struct rt_task_spec *spec)
{
	struct rt_task *t = xcalloc(1, sizeof *t);
	rt_spec_copy(&t->spec, spec);
	t->priv = xcalloc(1, sizeof *t->priv);
	t->priv->rt = rt;
	t->priv->run_dir = rt_task_dir(rt, "run", spec->id);
	t->priv->log_dir = rt_task_dir(rt, "logs", spec->id);
	t->status = RT_PENDING;
	t->desired = RT_RUNNING;
	uv_timer_init(rt->loop, &t->priv->kick);
	t->priv->kick.data = t;
	t->priv->n_open = 1;
	t->c = xcalloc(spec->n, sizeof *t->c);
	for (size_t i = 0; i < spec->n; i++) {
		struct rt_cpriv *p = xcalloc(1, sizeof *p);
		t->c[i].priv = p;
		p->t = t;
		p->i = i;
		p->pidfd = -1;
		uv_timer_init(rt->loop, &p->kill_timer);
		uv_timer_init(rt->loop, &p->hc_timer);
		uv_timer_init(rt->loop, &p->hc_timeout);
		p->kill_timer.data = p->hc_timer.data = p->hc_timeout.data = p;
		t->priv->n_open += 3;
	}
	return t;
}

void rt_task_add(struct rt *rt, struct rt_task *t)
{
	if (rt->n_tasks == rt->cap_tasks) {
		rt->cap_tasks = rt->cap_tasks ? rt->cap_tasks * 2 : 8;
		rt->tasks = xrealloc(rt->tasks, rt->cap_tasks * sizeof *rt->tasks);
	}
	rt->tasks[rt->n_tasks++] = t;
}

static void on_kick(uv_timer_t *h);

void rt_kick(struct rt_task *t)
{
	if (!t->priv->dying)
		uv_timer_start(&t->priv->kick, on_kick, 0, 0);
}

void rt_note(struct rt_container *c, const char *note)
{
	if (c->notes && strstr(c->notes, note))
		return;
	char *n = c->notes ? xasprintf("%s; %s", c->notes, note) : xstrdup(note);
	free(c->notes);
	c->notes = n;
	c->priv->dirty = true;
}

/* --- container transitions --- */

static void set_stopped(struct rt_task *t, size_t i, char *reason)
{
	struct rt_container *c = &t->c[i];
	struct rt_cpriv *p = c->priv;
	c->status = RT_STOPPED;
	c->stopped_at = rt_now(t->priv->rt);
	free(c->reason);
	c->reason = reason;
	p->dirty = true;
	hc_stop(t, i);
	uv_timer_stop(&p->kill_timer);
	if (p->cgroup)
		rt_cgroup_remove_container(p->cgroup);
}

/* The shim is gone and its status socket closed: its exit file says how
 * the container ended. */
static void finish(struct rt_task *t, size_t i)
{
	struct rt_container *c = &t->c[i];
	struct rt_cpriv *p = c->priv;
	if (c->status == RT_STOPPED)
		return;
	char *path = xasprintf("%s/%s.exit", t->priv->run_dir, t->spec.containers[i].name);
	char *text = rt_read_file(path);
	free(path);
	char *reason = NULL;
	int n;
	if (text && sscanf(text, "exit %d", &n) == 1) {
		c->has_exit = true;
		c->exit_code = n;
	} else if (text && sscanf(text, "signal %d", &n) == 1) {
		c->has_exit = true;
		c->exit_code = 128 + n;
		if (n == SIGKILL && p->cgroup && rt_cgroup_oom(p->cgroup)) {
			reason = xstrdup("OutOfMemoryError: Container killed due to memory usage");
		} else {
			const char *abbrev = sigabbrev_np(n);
			reason = xasprintf("Killed by signal %d (SIG%s)", n, abbrev ? abbrev : "?");
		}
	} else if (text && strncmp(text, "error ", 6) == 0) {
		reason = xstrndup(text + 6, strcspn(text + 6, "\n"));
	} else {
		reason = xstrdup("agent lost track of the container");
	}
	if (c->has_exit && !c->started_at)
		c->started_at = rt_now(t->priv->rt); /* it ran, too briefly to be seen */
	free(text);
	set_stopped(t, i, reason);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
	(void)status;
	(void)events;
	struct rt_cpriv *p = h->data;
	struct rt_task *t = p->t;
	close_poll(p);
	/* Reap it if it is our child; ECHILD for an adopted one.  Its pid
	 * cannot have been reused: an unreaped child keeps it. */
	while (waitpid(t->c[p->i].shim_pid, NULL, WNOHANG) < 0 && errno == EINTR)
		;
	p->shim_gone = true;
	if (!p->pipe_open)
		finish(t, p->i);
	advance(t);
	flush(t);
}

void rt_watch_shim(struct rt_task *t, size_t i, int pidfd)
{
	struct rt_cpriv *p = t->c[i].priv;
	p->pidfd = pidfd;
	int r = uv_poll_init(t->priv->rt->loop, &p->poll, pidfd);
	BERTH_ASSERT(r == 0);
	p->poll.data = p;
	p->poll_open = true;
	t->priv->n_open++;
	uv_poll_start(&p->poll, UV_READABLE, on_poll);
}

static void status_line(struct rt_task *t, size_t i, const char *line)
{
	struct rt_container *c = &t->c[i];
	struct rt_cpriv *p = c->priv;
	int pid;
	if (sscanf(line, "ok %d", &pid) == 1) {
		c->pid = pid;
		p->ok = true;
		if (c->status == RT_PENDING) {
			c->status = RT_RUNNING;
			c->started_at = rt_now(t->priv->rt);
			p->dirty = true;
		}
		rt_health_arm(t, i);
	} else if (strncmp(line, "note ", 5) == 0) {
		rt_note(c, line + 5);
	}
	/* "err ...": the exit file says it too, and is read at the shim's exit. */
}

static void on_status_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	(void)hint;
	struct rt_cpriv *p = h->data;
	if (p->n_line >= sizeof p->line - 1)
		p->n_line = 0; /* a line too long: drop it */
	buf->base = p->line + p->n_line;
	buf->len = sizeof p->line - 1 - p->n_line;
}

static void on_status(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	(void)buf;
	struct rt_cpriv *p = s->data;
	struct rt_task *t = p->t;
	if (nread > 0) {
		p->n_line += (size_t)nread;
		char *nl;
		while ((nl = memchr(p->line, '\n', p->n_line))) {
			*nl = '\0';
			status_line(t, p->i, p->line);
			size_t used = (size_t)(nl + 1 - p->line);
			memmove(p->line, nl + 1, p->n_line - used);
			p->n_line -= used;
		}
	} else if (nread < 0) {
		close_pipe(p);
		if (p->shim_gone)
			finish(t, p->i);
	}
	advance(t);
	flush(t);
}

/* --- launching --- */

static char *home_of_agent(void)
{
	struct passwd *pw = getpwuid(geteuid());
	return xstrdup(pw && pw->pw_dir && *pw->pw_dir ? pw->pw_dir : "/");
}

static bool has_var(char **env, size_t n, const char *name)
{
	size_t len = strlen(name);
	for (size_t i = 0; i < n; i++)
		if (strncmp(env[i], name, len) == 0 && env[i][len] == '=')
			return true;
	return false;
}

/* The container's environment: its own, plus PATH and HOME when missing. */
static cJSON *env_json(const struct rt_container_spec *cs, const char *home)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < cs->n_env; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(cs->env[i]));
	if (!has_var(cs->env, cs->n_env, "PATH"))
		cJSON_AddItemToArray(a, cJSON_CreateString(RT_DEFAULT_PATH));
	if (!has_var(cs->env, cs->n_env, "HOME")) {
		char *h = xasprintf("HOME=%s", home);
		cJSON_AddItemToArray(a, cJSON_CreateString(h));
		free(h);
	}
	return a;
}

static char **env_vec(const cJSON *a)
{
	int n = cJSON_GetArraySize(a);
	char **v = xcalloc((size_t)n + 1, sizeof *v);
	for (int i = 0; i < n; i++)
		v[i] = cJSON_GetArrayItem(a, i)->valuestring;
	return v;
}

/* Resolve the container's user when it is applied (running as root). */
static int user_of(struct rt *rt, const struct rt_container_spec *cs, struct rt_user *u, bool *have,
                   char **why)
{
	*have = false;
	if (!cs->user || !rt->root)
		return 0;
	if (rt_user_resolve(cs->user, u, why) < 0)
		return -1;
	*have = true;
	return 0;
}

static void launch_fail(struct rt_task *t, size_t i, char *reason)
{
	set_stopped(t, i, reason);
}

static void launch(struct rt_task *t, size_t i)
{
	struct rt *rt = t->priv->rt;
	struct rt_container *c = &t->c[i];
	struct rt_cpriv *p = c->priv;
	const struct rt_container_spec *cs = &t->spec.containers[i];
	p->launched = true;
	if (cs->argc == 0) {
		launch_fail(t, i, xstrdup("CannotStartContainerError: no command"));
		return;
	}
	struct rt_user u;
	bool have_user;
	char *why = NULL;
	if (user_of(rt, cs, &u, &have_user, &why) < 0) {
		launch_fail(t, i, xasprintf("CannotStartContainerError: %s", why));
		free(why);
		return;
	}
	if (cs->user && !rt->root)
		rt_note(c, "user not applied: agent is not root");
	char *note = NULL;
	p->cgroup = rt_cgroup_setup(rt, t, i, &note);
	if (note) {
		rt_note(c, note);
		free(note);
	}

	const char *name = cs->name;
	char *home = have_user ? xstrdup(u.home) : home_of_agent();
	cJSON *o = cJSON_CreateObject();
	cJSON *argv = cJSON_AddArrayToObject(o, "argv");
	for (size_t k = 0; k < cs->argc; k++)
		cJSON_AddItemToArray(argv, cJSON_CreateString(cs->argv[k]));
	cJSON_AddItemToObject(o, "env", env_json(cs, home));
	free(home);
	if (cs->workdir)
		cJSON_AddStringToObject(o, "workdir", cs->workdir);
	if (p->cgroup)
		cJSON_AddStringToObject(o, "cgroup", p->cgroup);
	cJSON_AddBoolToObject(o, "applyUser", have_user);
	if (have_user) {
		cJSON_AddNumberToObject(o, "uid", u.uid);
		cJSON_AddNumberToObject(o, "gid", u.gid);
		cJSON *g = cJSON_AddArrayToObject(o, "groups");
		for (size_t k = 0; k < u.n_groups; k++)
			cJSON_AddItemToArray(g, cJSON_CreateNumber(u.groups[k]));
		rt_user_release(&u);
	}
	char *out = xasprintf("%s/%s.stdout", t->priv->log_dir, name);
	char *err = xasprintf("%s/%s.stderr", t->priv->log_dir, name);
	char *exitp = xasprintf("%s/%s.exit", t->priv->run_dir, name);
	char *pidp = xasprintf("%s/%s.pid", t->priv->run_dir, name);
	char *specp = xasprintf("%s/%s.shim.json", t->priv->run_dir, name);
	cJSON_AddStringToObject(o, "stdout", out);
	cJSON_AddStringToObject(o, "stderr", err);
	cJSON_AddStringToObject(o, "exit", exitp);
	cJSON_AddStringToObject(o, "pid", pidp);
	char *text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	unlink(exitp);
	unlink(pidp);
	int rc = rt_write_atomic(specp, text, strlen(text), 0600);
	free(text);
	if (rc < 0) {
		launch_fail(
		    t, i, xasprintf("CannotStartContainerError: cannot write %s: %s", specp, strerror(-rc)));
		goto out;
	}
	/* Recorded as launched before the spawn: a crash from here on can lose
	 * the container, never run it twice. */
	rt_state_save(t);

	uv_pipe_init(rt->loop, &p->pipe, 0);
	p->pipe.data = p;
	p->pipe_open = true;
	t->priv->n_open++;
	uv_stdio_container_t stdio[4];
	memset(stdio, 0, sizeof stdio);
	stdio[0].flags = stdio[1].flags = stdio[2].flags = UV_IGNORE;
	stdio[3].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[3].data.stream = (uv_stream_t *)&p->pipe;
	char *args[4];
	size_t k = 0;
	args[k++] = rt->shim_exe;
	if (rt->shim_arg0)
		args[k++] = rt->shim_arg0;
	args[k++] = specp;
	args[k] = NULL;
	uv_process_options_t opt;
	memset(&opt, 0, sizeof opt);
	opt.file = rt->shim_exe;
	opt.args = args;
	opt.flags = UV_PROCESS_DETACHED;
	opt.stdio_count = 4;
	opt.stdio = stdio;
	p->proc.data = p;
	t->priv->n_open++;
	int r = uv_spawn(rt->loop, &p->proc, &opt);
	int pid = p->proc.pid;
	uv_close((uv_handle_t *)&p->proc, on_cclosed);
	if (r < 0) {
		close_pipe(p);
		launch_fail(t, i,
		            xasprintf("CannotStartContainerError: cannot run the shim %s: %s", rt->shim_exe,
		                      uv_strerror(r)));
		goto out;
	}
	c->shim_pid = pid;
	p->shim_start = rt_proc_start_time(pid);
	int fd = pidfd_open(pid, 0);
	if (fd < 0) {
		int saved = errno;
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		close_pipe(p);
		launch_fail(t, i, xasprintf("CannotStartContainerError: pidfd_open: %s", strerror(saved)));
		goto out;
	}
	rt_watch_shim(t, i, fd);
	uv_read_start((uv_stream_t *)&p->pipe, on_status_alloc, on_status);
	rt_state_save(t);
out:
	free(out);
	free(err);
	free(exitp);
	free(pidp);
	free(specp);
}

/* --- stopping --- */

static void shim_signal(struct rt_cpriv *p, int sig)
{
	if (p->poll_open && pidfd_send_signal(p->pidfd, sig, NULL, 0) < 0 && errno != ESRCH)
		log_warn("runtime: cannot signal shim %d: %s", p->t->c[p->i].shim_pid, strerror(errno));
}

static void on_kill_timer(uv_timer_t *h)
{
	struct rt_cpriv *p = h->data;
	if (p->kill_stage == 1) {
		shim_signal(p, SIGUSR1); /* the shim SIGKILLs the container's group */
		p->kill_stage = 2;
		uv_timer_start(&p->kill_timer, on_kill_timer, RT_SHIM_GRACE_MS, 0);
	} else if (p->kill_stage == 2) {
		log_warn("runtime: shim %d did not end its container; killing the shim",
		         p->t->c[p->i].shim_pid);
		shim_signal(p, SIGKILL);
		p->kill_stage = 3;
	}
}

static void container_stop(struct rt_task *t, size_t i)
{
	struct rt_cpriv *p = t->c[i].priv;
	p->kill_stage = 1;
	hc_stop(t, i);
	shim_signal(p, SIGTERM);
	uv_timer_start(&p->kill_timer, on_kill_timer, (uint64_t)t->spec.containers[i].stop_timeout_ms, 0);
}

static void begin_stop(struct rt_task *t, enum rt_stop_cause cause, const char *reason)
{
	if (t->desired == RT_STOPPED)
		return;
	t->desired = RT_STOPPED;
	t->stop_cause = cause;
	t->stopped_reason = xstrdup(reason);
	t->stopping_at = rt_now(t->priv->rt);
}

/* --- health checks --- */

static void hc_stop(struct rt_task *t, size_t i)
{
	struct rt_cpriv *p = t->c[i].priv;
	uv_timer_stop(&p->hc_timer);
	uv_timer_stop(&p->hc_timeout);
	if (p->hc_running)
		kill(-p->hc_proc.pid, SIGKILL);
}

static void on_hc_timer(uv_timer_t *h);

void rt_health_arm(struct rt_task *t, size_t i)
{
	struct rt_cpriv *p = t->c[i].priv;
	const struct rt_health_spec *hs = t->spec.containers[i].health;
	if (!hs || p->kill_stage || t->desired == RT_STOPPED || t->c[i].status != RT_RUNNING ||
	    t->priv->dying || p->hc_running)
		return;
	uv_timer_start(&p->hc_timer, on_hc_timer, (uint64_t)hs->interval_ms, 0);
}

static void hc_result(struct rt_task *t, size_t i, bool ok)
{
	struct rt_container *c = &t->c[i];
	struct rt_cpriv *p = c->priv;
	const struct rt_health_spec *hs = t->spec.containers[i].health;
	if (ok) {
		p->hc_succeeded = true; /* ends the start period */
		p->hc_fails = 0;
		if (c->health != RT_HEALTHY) {
			c->health = RT_HEALTHY;
			p->dirty = true;
		}
		return;
	}
	if (!p->hc_succeeded && rt_now(t->priv->rt) - c->started_at < hs->start_period_ms)
		return; /* failures in the start period do not count */
	if (++p->hc_fails >= hs->retries && c->health != RT_UNHEALTHY) {
		c->health = RT_UNHEALTHY;
		p->dirty = true;
	}
}

static void on_hc_exit(uv_process_t *proc, int64_t exit_status, int term_signal)
{
	struct rt_cpriv *p = proc->data;
	struct rt_task *t = p->t;
	uv_timer_stop(&p->hc_timeout);
	bool ok = !p->hc_timed_out && exit_status == 0 && term_signal == 0;
	uv_close((uv_handle_t *)proc, on_cclosed);
	p->hc_running = false;
	if (t->c[p->i].status != RT_RUNNING || p->kill_stage || t->desired == RT_STOPPED)
		return;
	hc_result(t, p->i, ok);
	rt_health_arm(t, p->i);
	advance(t);
	flush(t);
}

static void on_hc_timeout(uv_timer_t *h)
{
	struct rt_cpriv *p = h->data;
	if (p->hc_running) {
		p->hc_timed_out = true;
		kill(-p->hc_proc.pid, SIGKILL);
	}
}

/* Run one check the way Docker does inside the container: the container's
 * environment, working directory and user. */
static void on_hc_timer(uv_timer_t *h)
{
	struct rt_cpriv *p = h->data;
	struct rt_task *t = p->t;
	struct rt *rt = t->priv->rt;
	const struct rt_container_spec *cs = &t->spec.containers[p->i];
	const struct rt_health_spec *hs = cs->health;
	struct rt_user u;
	bool have_user;
	char *why = NULL;
	if (user_of(rt, cs, &u, &have_user, &why) < 0) {
		free(why);
		hc_result(t, p->i, false);
		rt_health_arm(t, p->i);
		advance(t);
		flush(t);
		return;
	}
	char *home = have_user ? xstrdup(u.home) : home_of_agent();
	cJSON *envj = env_json(cs, home);
	char **env = env_vec(envj);
	free(home);
	char *shell[4] = {"/bin/sh", "-c", NULL, NULL};
	char **args;
	char *line = NULL;
	if (strcmp(hs->cmd[0], "CMD-SHELL") == 0) {
		size_t len = 1;
		for (size_t k = 1; k < hs->n_cmd; k++)
			len += strlen(hs->cmd[k]) + 1;
		line = xcalloc(len, 1);
		for (size_t k = 1; k < hs->n_cmd; k++) {
			if (k > 1)
				strcat(line, " ");
			strcat(line, hs->cmd[k]);
		}
		shell[2] = line;
		args = shell;
	} else {
		args = hs->cmd + 1;
	}
	uv_process_options_t opt;
	memset(&opt, 0, sizeof opt);
	opt.file = args[0];
	opt.args = args;
	opt.env = env;
	opt.cwd = cs->workdir;
	opt.flags = UV_PROCESS_DETACHED;
	opt.exit_cb = on_hc_exit;
	if (have_user) {
		opt.flags |= UV_PROCESS_SETUID | UV_PROCESS_SETGID;
		opt.uid = u.uid;
		opt.gid = u.gid;
		rt_user_release(&u);
	}
	p->hc_proc.data = p;
	p->hc_timed_out = false;
	t->priv->n_open++;
	int r = uv_spawn(rt->loop, &p->hc_proc, &opt);
	free(line);
	free(env);
	cJSON_Delete(envj);
	if (r < 0) {
		uv_close((uv_handle_t *)&p->hc_proc, on_cclosed);
		hc_result(t, p->i, false);
		rt_health_arm(t, p->i);
		advance(t);
		flush(t);
		return;
	}
	p->hc_running = true;
	uv_timer_start(&p->hc_timeout, on_hc_timeout, (uint64_t)hs->timeout_ms, 0);
}

/* --- the state machine --- */

/* 1: every dependency of container i holds; 0: wait; -1: one never will
 * (*why set, heap). */
static int deps_state(struct rt_task *t, size_t i, char **why)
{
	const struct rt_container_spec *cs = &t->spec.containers[i];
	int res = 1;
	for (size_t d = 0; d < cs->n_deps; d++) {
		const struct rt_dep *dep = &cs->deps[d];
		size_t j = 0;
		while (strcmp(t->spec.containers[j].name, dep->container) != 0)
			j++;
		const struct rt_container *o = &t->c[j];
		bool stopped = o->status == RT_STOPPED, ran = o->started_at != 0;
		const char *never = NULL;
		bool met = false;
		char code[48] = "";
		if (o->has_exit)
			snprintf(code, sizeof code, ": it exited with code %d", o->exit_code);
		if (stopped && !ran) {
			never = "it never started";
		} else {
			switch (dep->cond) {
			case RT_DEP_START:
				met = o->status == RT_RUNNING || stopped;
				break;
			case RT_DEP_COMPLETE:
				met = stopped;
				break;
			case RT_DEP_SUCCESS:
				met = stopped && o->has_exit && o->exit_code == 0;
				if (stopped && !met)
					never = code[0] ? code + 2 : "it stopped without an exit code";
				break;
			case RT_DEP_HEALTHY:
				met = !stopped && o->health == RT_HEALTHY;
				if (stopped)
					never = code[0] ? code + 2 : "it stopped";
				else if (o->health == RT_UNHEALTHY)
					never = "it is UNHEALTHY";
				break;
			}
		}
		if (never) {
			*why = xasprintf(
			    "DependencyConditionNotMet: container %s did not reach condition %s: %s",
			    dep->container, rt_dep_cond_name(dep->cond), never);
			return -1;
		}
		if (!met)
			res = 0;
	}
	return res;
}

static enum rt_health task_health(const struct rt_task *t)
{
	bool any = false, all = true;
	for (size_t i = 0; i < t->spec.n; i++) {
		if (!t->spec.containers[i].essential || !t->spec.containers[i].health)
			continue;
		any = true;
		if (t->c[i].health == RT_UNHEALTHY)
			return RT_UNHEALTHY;
		all &= t->c[i].health == RT_HEALTHY;
	}
	return any && all ? RT_HEALTHY : RT_HEALTH_UNKNOWN;
}

static void task_stopped(struct rt_task *t)
{
	struct rt *rt = t->priv->rt;
	t->status = RT_STOPPED;
	t->stopped_at = rt_now(rt);
	t->priv->status_dirty = true;
	if (!t->stopped_reason) {
		t->stop_cause = RT_STOP_ESSENTIAL_EXITED;
		t->stopped_reason = xstrdup("Essential container in task exited");
	}
	if (t->desired != RT_STOPPED) {
		t->desired = RT_STOPPED;
		t->stopping_at = t->stopped_at;
	}
	uv_timer_stop(&t->priv->kick);
	rt_cgroup_remove_task(rt, t);
}

static void advance(struct rt_task *t)
{
	if (t->status == RT_STOPPED || t->priv->dying)
		return;
	size_t n = t->spec.n;
	for (size_t round = 0; round <= 2 * n + 2; round++) {
		bool changed = false;
		for (size_t i = 0; i < n && t->desired == RT_RUNNING; i++) {
			if (t->c[i].status != RT_PENDING || t->c[i].priv->launched)
				continue;
			char *why = NULL;
			int d = deps_state(t, i, &why);
			if (d > 0) {
				launch(t, i);
				changed = true;
			} else if (d < 0) {
				t->c[i].priv->launched = true; /* never to be launched */
				set_stopped(t, i, why);
				changed = true;
			}
		}
		for (size_t i = 0; i < n && t->desired == RT_RUNNING; i++) {
			const struct rt_container *c = &t->c[i];
			if (!t->spec.containers[i].essential || c->status != RT_STOPPED)
				continue;
			if (c->started_at)
				begin_stop(t, RT_STOP_ESSENTIAL_EXITED, "Essential container in task exited");
			else
				begin_stop(t, RT_STOP_FAILED_TO_START,
				           c->reason ? c->reason : "CannotStartContainerError");
			changed = true;
		}
		bool all_stopped = true, essentials_up = true;
		for (size_t i = 0; i < n; i++) {
			struct rt_container *c = &t->c[i];
			struct rt_cpriv *p = c->priv;
			if (t->desired == RT_STOPPED && c->status == RT_PENDING && !p->launched) {
				p->launched = true;
				set_stopped(t, i, xstrdup("Task stopped before the container started"));
				changed = true;
			}
			if (t->desired == RT_STOPPED && c->status != RT_STOPPED && p->ok && !p->kill_stage &&
			    !p->shim_gone)
				container_stop(t, i);
			all_stopped &= c->status == RT_STOPPED;
			if (t->spec.containers[i].essential)
				essentials_up &= c->status == RT_RUNNING;
		}
		if (all_stopped) {
			task_stopped(t);
			return;
		}
		if (t->status == RT_PENDING && t->desired == RT_RUNNING && essentials_up) {
			t->status = RT_RUNNING;
			t->started_at = rt_now(t->priv->rt);
			t->priv->status_dirty = true;
		}
		if (!changed)
			break;
	}
	enum rt_health h = task_health(t);
	if (h != t->health) {
		t->health = h;
		t->priv->status_dirty = true;
	}
}

/* Save, then report: containers first, then the task. */
static void flush(struct rt_task *t)
{
	struct rt *rt = t->priv->rt;
	if (t->priv->dying)
		return;
	bool any = t->priv->status_dirty;
	for (size_t i = 0; i < t->spec.n; i++)
		any |= t->c[i].priv->dirty;
	if (!any)
		return;
	rt_state_save(t);
	for (size_t i = 0; i < t->spec.n && !t->priv->dying; i++) {
		if (!t->c[i].priv->dirty)
			continue;
		t->c[i].priv->dirty = false;
		if (rt->on_container)
			rt->on_container(rt->arg, t, i);
	}
	if (!t->priv->dying && t->priv->status_dirty) {
		t->priv->status_dirty = false;
		if (rt->on_task)
			rt->on_task(rt->arg, t);
	}
}

static void on_kick(uv_timer_t *h)
{
	struct rt_task *t = h->data;
	for (size_t i = 0; i < t->spec.n; i++) {
		struct rt_cpriv *p = t->c[i].priv;
		if (p->shim_gone && !p->pipe_open && t->c[i].status != RT_STOPPED)
			finish(t, i);
	}
	advance(t);
	flush(t);
}

/* --- the API --- */

struct rt *rt_new(uv_loop_t *loop, const struct rt_config *cfg, rt_task_cb on_task,
                  rt_container_cb on_container, void *arg)
{
	BERTH_ASSERT(cfg->data_dir && cfg->shim_exe);
	rt_state_set_sync(cfg->sync_state);
	char *run = xasprintf("%s/run", cfg->data_dir);
	char *logs = xasprintf("%s/logs", cfg->data_dir);
	int rc = rt_mkdirs(run, 0750);
	if (rc == 0)
		rc = rt_mkdirs(logs, 0750);
	free(run);
	free(logs);
	if (rc < 0) {
		log_error("runtime: cannot create %s/run and /logs: %s", cfg->data_dir, strerror(-rc));
		return NULL;
	}
	struct rt *rt = xcalloc(1, sizeof *rt);
	rt->loop = loop;
	rt->data_dir = xstrdup(cfg->data_dir);
	rt->shim_exe = xstrdup(cfg->shim_exe);
	rt->shim_arg0 = cfg->shim_arg0 ? xstrdup(cfg->shim_arg0) : NULL;
	rt->now_ms = cfg->now_ms ? cfg->now_ms : real_now;
	rt->on_task = on_task;
	rt->on_container = on_container;
	rt->arg = arg;
	rt->root = geteuid() == 0;
	rt_cgroup_probe(rt, cfg->cgroup_root, cfg->no_cgroups);
	uv_timer_init(loop, &rt->idle);
	rt->idle.data = rt;
	rt->idle_open = true;
	return rt;
}

struct rt_task *rt_task_find(struct rt *rt, const char *id)
{
	for (size_t i = 0; i < rt->n_tasks; i++)
		if (strcmp(rt->tasks[i]->spec.id, id) == 0)
			return rt->tasks[i];
	return NULL;
}

static const struct rt_task *port_holder(struct rt *rt, const struct rt_port *pp)
{
	for (size_t k = 0; k < rt->n_tasks; k++) {
		const struct rt_task *o = rt->tasks[k];
		if (o->status == RT_STOPPED)
			continue;
		for (size_t i = 0; i < o->spec.n; i++)
			for (size_t q = 0; q < o->spec.containers[i].n_ports; q++) {
				const struct rt_port *op = &o->spec.containers[i].ports[q];
				if (op->host_port == pp->host_port && op->udp == pp->udp)
					return o;
			}
	}
	return NULL;
}

struct rt_task *rt_task_start(struct rt *rt, const struct rt_task_spec *spec, struct err *e)
{
	if (rt->closing) {
		err_set(e, RT_ERR_SYSTEM, "the runtime is closing");
		return NULL;
	}
	if (rt_spec_check(spec, e) < 0)
		return NULL;
	if (rt_task_find(rt, spec->id)) {
		err_set(e, RT_ERR_CONFLICT, "task %s already exists", spec->id);
		return NULL;
	}
	for (size_t i = 0; i < spec->n; i++)
		for (size_t q = 0; q < spec->containers[i].n_ports; q++) {
			const struct rt_port *pp = &spec->containers[i].ports[q];
			const struct rt_task *o = port_holder(rt, pp);
			if (o) {
				err_set(e, RT_ERR_CONFLICT, "port %d%s is in use by task %s", pp->host_port,
				        pp->udp ? "/udp" : "", o->spec.id);
				return NULL;
			}
		}
	char *run = rt_task_dir(rt, "run", spec->id);
	char *logs = rt_task_dir(rt, "logs", spec->id);
	int rc = rt_mkdirs(run, 0750);
	if (rc == 0)
		rc = rt_mkdirs(logs, 0750);
	free(run);
	free(logs);
	if (rc < 0) {
		err_set(e, RT_ERR_SYSTEM, "cannot create the directories of task %s: %s", spec->id,
		        strerror(-rc));
		return NULL;
	}
	struct rt_task *t = rt_task_new(rt, spec);
	t->created_at = rt_now(rt);
	rc = rt_state_save(t);
	if (rc < 0) {
		err_set(e, RT_ERR_SYSTEM, "cannot save the state of task %s: %s", spec->id, strerror(-rc));
		rt_state_remove(t);
		task_die(t);
		return NULL;
	}
	rt_task_add(rt, t);
	rt_kick(t);
	return t;
}

void rt_task_stop(struct rt *rt, struct rt_task *t, const char *reason)
{
	(void)rt;
	if (t->status == RT_STOPPED || t->desired == RT_STOPPED || t->priv->dying)
		return;
	begin_stop(t, RT_STOP_REQUESTED, reason ? reason : "Task stopped by user");
	rt_state_save(t);
	rt_kick(t);
}

int rt_task_forget(struct rt *rt, struct rt_task *t)
{
	if (t->status != RT_STOPPED || t->priv->dying)
		return -1;
	for (size_t k = 0; k < rt->n_tasks; k++)
		if (rt->tasks[k] == t) {
			memmove(&rt->tasks[k], &rt->tasks[k + 1], (rt->n_tasks - k - 1) * sizeof *rt->tasks);
			rt->n_tasks--;
			break;
		}
	rt_state_remove(t);
	/* A cgroup can stay busy for a moment after its last process exited
	 * (an adopted shim reaped by init): try again. */
	for (size_t i = 0; i < t->spec.n; i++)
		if (t->c[i].priv->cgroup)
			rt_cgroup_remove_container(t->c[i].priv->cgroup);
	rt_cgroup_remove_task(rt, t);
	task_die(t);
	return 0;
}

size_t rt_tasks(struct rt *rt, struct rt_task ***out)
{
	*out = rt->tasks;
	return rt->n_tasks;
}

static void on_idle_closed(uv_handle_t *h)
{
	struct rt *rt = h->data;
	rt->idle_open = false;
	maybe_done(rt);
}

void rt_close(struct rt *rt, void (*done)(void *), void *arg)
{
	BERTH_ASSERT(!rt->closing);
	rt->closing = true;
	rt->close_done = done;
	rt->close_arg = arg;
	for (size_t k = 0; k < rt->n_tasks; k++)
		task_die(rt->tasks[k]);
	rt->n_tasks = 0;
	uv_close((uv_handle_t *)&rt->idle, on_idle_closed);
}
