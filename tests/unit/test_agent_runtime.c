/* test_agent_runtime: agent/runtime with real processes.  The test binary
 * is its own shim (main hands "shim" to rt_shim_main), each test gets a
 * fresh data directory and loop, and the teardown kills whatever a failed
 * test left running.  Waits are on conditions with deadlines; stop
 * timeouts and health intervals are fractions of a second. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/runtime.h"
#include "lib/clock.h"
#include "lib/xalloc.h"

static char shim_exe[PATH_MAX];

struct fx {
	uv_loop_t loop;
	struct rt *rt;
	char dir[64];      /* the test's scratch directory */
	char data[128];    /* the runtime's data directory */
	char *cgroup_root; /* NULL: the host's */
	int task_reports, container_reports;
	char events[4096];  /* "c:<name>:<STATUS>:<HEALTH> t:<STATUS> ..." */
	int64_t healthy_at; /* when a container was first reported HEALTHY (ms) */
	bool closed;
	bool forget_on_stop; /* on_task forgets a STOPPED task, as the agent does */
	int forgotten;
};

static int64_t now_ms(void)
{
	return clock_mono_us() / 1000;
}

static void on_task(void *arg, struct rt_task *t)
{
	struct fx *f = arg;
	f->task_reports++;
	size_t n = strlen(f->events);
	snprintf(f->events + n, sizeof f->events - n, "t:%s ", rt_status_name(t->status));
	if (f->forget_on_stop && t->status == RT_STOPPED) {
		assert_int_equal(rt_task_forget(f->rt, t), 0);
		f->forgotten++;
	}
}

static void on_container(void *arg, struct rt_task *t, size_t i)
{
	struct fx *f = arg;
	f->container_reports++;
	size_t n = strlen(f->events);
	snprintf(f->events + n, sizeof f->events - n, "c:%s:%s:%s ", t->spec.containers[i].name,
	         rt_status_name(t->c[i].status), rt_health_name(t->c[i].health));
	if (t->c[i].health == RT_HEALTHY && !f->healthy_at)
		f->healthy_at = clock_mono_us() / 1000;
}

static void make_rt(struct fx *f)
{
	struct rt_config cfg = {
	    .data_dir = f->data,
	    .shim_exe = shim_exe,
	    .shim_arg0 = "shim",
	    .cgroup_root = f->cgroup_root,
	};
	f->rt = rt_new(&f->loop, &cfg, on_task, on_container, f);
	assert_non_null(f->rt);
	f->closed = false;
}

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof *f);
	strcpy(f->dir, "/tmp/rt-test-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->data, sizeof f->data, "%s/data", f->dir);
	uv_loop_init(&f->loop);
	make_rt(f);
	*state = f;
	return 0;
}

static void on_closed(void *arg)
{
	((struct fx *)arg)->closed = true;
}

static void close_rt(struct fx *f)
{
	rt_close(f->rt, on_closed, f);
	while (!f->closed)
		uv_run(&f->loop, UV_RUN_ONCE);
	f->rt = NULL;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	if (f->rt) {
		struct rt_task **ts;
		size_t n = rt_tasks(f->rt, &ts);
		for (size_t k = 0; k < n; k++)
			for (size_t i = 0; i < ts[k]->spec.n; i++) {
				if (ts[k]->c[i].status == RT_STOPPED)
					continue;
				if (ts[k]->c[i].pid > 0)
					kill(-ts[k]->c[i].pid, SIGKILL);
				if (ts[k]->c[i].shim_pid > 0)
					kill(ts[k]->c[i].shim_pid, SIGKILL);
			}
		close_rt(f);
	}
	uv_run(&f->loop, UV_RUN_NOWAIT);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f->cgroup_root);
	free(f);
	return 0;
}

/* Test specs are JSON with ` for " (the commands keep their quotes). */
static struct rt_task *start(struct fx *f, struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static struct rt_task *start(struct fx *f, struct err *e, const char *fmt, ...)
{
	char buf[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	for (char *p = buf; *p; p++)
		if (*p == '`')
			*p = '"';
	cJSON *j = cJSON_Parse(buf);
	if (!j)
		fail_msg("bad test JSON: %s", buf);
	struct rt_task_spec spec;
	struct err e2;
	if (rt_spec_from_json(j, &spec, &e2) < 0)
		fail_msg("spec refused: %s", e2.msg);
	cJSON_Delete(j);
	int before = f->task_reports + f->container_reports;
	struct rt_task *t = rt_task_start(f->rt, &spec, e ? e : &e2);
	rt_spec_release(&spec);
	if (!e && !t)
		fail_msg("rt_task_start: %s", e2.msg);
	/* Never a report from within rt_task_start. */
	assert_int_equal(f->task_reports + f->container_reports, before);
	return t;
}

typedef bool (*pred_fn)(void *arg);

static void tick(uv_timer_t *h)
{
	(void)h;
}

static bool wait_for(struct fx *f, pred_fn pred, void *arg, int ms)
{
	uv_timer_t tm;
	uv_timer_init(&f->loop, &tm);
	uv_timer_start(&tm, tick, 10, 10);
	int64_t end = now_ms() + ms;
	bool ok;
	while (!(ok = pred(arg)) && now_ms() < end)
		uv_run(&f->loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&tm, NULL);
	uv_run(&f->loop, UV_RUN_NOWAIT);
	return ok;
}

struct tstat {
	struct rt_task *t;
	int i; /* -1: the task */
	enum rt_status st;
};

static bool is_status(void *arg)
{
	struct tstat *s = arg;
	return (s->i < 0 ? s->t->status : s->t->c[s->i].status) == s->st;
}

static void wait_task(struct fx *f, struct rt_task *t, enum rt_status st, int ms)
{
	struct tstat s = {t, -1, st};
	if (!wait_for(f, is_status, &s, ms))
		fail_msg("task %s is %s, not %s; events: %s", t->spec.id, rt_status_name(t->status),
		         rt_status_name(st), f->events);
}

static void wait_container(struct fx *f, struct rt_task *t, int i, enum rt_status st, int ms)
{
	struct tstat s = {t, i, st};
	if (!wait_for(f, is_status, &s, ms))
		fail_msg("container %s is %s, not %s; events: %s", t->spec.containers[i].name,
		         rt_status_name(t->c[i].status), rt_status_name(st), f->events);
}

struct hstat {
	struct rt_task *t;
	int i;
	enum rt_health h;
};

static bool is_health(void *arg)
{
	struct hstat *s = arg;
	return s->t->c[s->i].health == s->h;
}

static bool wait_health(struct fx *f, struct rt_task *t, int i, enum rt_health h, int ms)
{
	struct hstat s = {t, i, h};
	return wait_for(f, is_health, &s, ms);
}

static bool file_exists(void *arg)
{
	return access(arg, F_OK) == 0;
}

static bool pid_gone(void *arg)
{
	int pid = *(int *)arg;
	if (kill(pid, 0) < 0)
		return true;
	char path[64], st = 0;
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	FILE *fp = fopen(path, "r");
	if (fp) {
		if (fscanf(fp, "%*d (%*[^)]) %c", &st) != 1)
			st = 0;
		fclose(fp);
	}
	return st == 'Z';
}

static char *slurp(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *slurp(const char *fmt, ...)
{
	char path[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(path, sizeof path, fmt, ap);
	va_end(ap);
	FILE *fp = fopen(path, "r");
	if (!fp)
		return NULL;
	char *buf = xcalloc(1, 65536);
	size_t n = fread(buf, 1, 65535, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static void touch(const char *dir, const char *name)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fclose(fp);
}

/* --- specs --- */

static void test_spec_json(void **state)
{
	(void)state;
	const char *text =
	    "{\"taskArn\":\"arn:aws:ecs:us-east-1:1:task/c/abc123\",\"cpu\":\"256\",\"memory\":512,"
	    "\"containers\":[{\"name\":\"web\",\"entryPoint\":[\"/bin/sh\",\"-c\"],\"command\":[\"echo hi\"],"
	    "\"environment\":[{\"name\":\"A\",\"value\":\"1\"},{\"name\":\"B\",\"value\":\"x=y\"}],"
	    "\"workingDirectory\":null,\"user\":\"1000:1000\",\"dependsOn\":[{\"containerName\":\"db\","
	    "\"condition\":\"HEALTHY\"}],\"healthCheck\":null,\"stopTimeout\":2.5,\"cpu\":512,\"memory\":128,"
	    "\"memoryReservation\":null,\"portMappings\":[{\"containerPort\":8080},{\"containerPort\":53,"
	    "\"hostPort\":5353,\"protocol\":\"udp\"}]},"
	    "{\"name\":\"db\",\"command\":[\"sleep\",\"1\"],\"essential\":false,"
	    "\"healthCheck\":{\"command\":[\"CMD-SHELL\",\"true\"],\"interval\":0.5}}]}";
	cJSON *j = cJSON_Parse(text);
	struct rt_task_spec s;
	struct err e;
	assert_int_equal(rt_spec_from_json(j, &s, &e), 0);
	cJSON_Delete(j);
	assert_string_equal(s.id, "abc123");
	assert_int_equal(s.cpu, 256);
	assert_int_equal(s.memory_mib, 512);
	assert_int_equal(s.n, 2);
	const struct rt_container_spec *w = &s.containers[0], *db = &s.containers[1];
	assert_int_equal(w->argc, 3);
	assert_string_equal(w->argv[0], "/bin/sh");
	assert_string_equal(w->argv[2], "echo hi");
	assert_int_equal(w->n_env, 2);
	assert_string_equal(w->env[1], "B=x=y");
	assert_null(w->workdir);
	assert_string_equal(w->user, "1000:1000");
	assert_true(w->essential);
	assert_false(db->essential);
	assert_int_equal(w->deps[0].cond, RT_DEP_HEALTHY);
	assert_int_equal(w->stop_timeout_ms, 2500);
	assert_int_equal(db->stop_timeout_ms, 30000);
	assert_int_equal(w->cpu, 512);
	assert_int_equal(w->memory_mib, 128);
	assert_int_equal(w->memory_reservation_mib, 0);
	assert_int_equal(w->n_ports, 2);
	assert_int_equal(w->ports[0].host_port, 8080);
	assert_int_equal(w->ports[1].host_port, 5353);
	assert_true(w->ports[1].udp);
	assert_null(w->health);
	assert_non_null(db->health);
	assert_int_equal(db->health->interval_ms, 500);
	assert_int_equal(db->health->timeout_ms, 5000);
	assert_int_equal(db->health->retries, 3);
	assert_int_equal(db->health->start_period_ms, 0);

	/* Round trip through the state file's shape. */
	cJSON *out = rt_spec_to_json(&s);
	struct rt_task_spec s2;
	assert_int_equal(rt_spec_from_json(out, &s2, &e), 0);
	cJSON *out2 = rt_spec_to_json(&s2);
	char *a = cJSON_PrintUnformatted(out), *b = cJSON_PrintUnformatted(out2);
	assert_string_equal(a, b);
	free(a);
	free(b);
	cJSON_Delete(out);
	cJSON_Delete(out2);
	rt_spec_release(&s2);
	rt_spec_release(&s);

	static const char *bad[] = {
	    "{\"id\":\"t\",\"containers\":[{\"name\":\"a\",\"command\":[\"x\"]},{\"name\":\"a\",\"command\":["
	    "\"x\"]}]}",
	    "{\"id\":\"t\",\"containers\":[{\"name\":\"a\",\"command\":[\"x\"],\"dependsOn\":[{"
	    "\"containerName\":\"b\",\"condition\":\"START\"}]}]}",
	    "{\"id\":\"t\",\"containers\":[{\"name\":\"a\",\"essential\":false,\"command\":[\"x\"]}]}",
	    "{\"id\":\"t\",\"containers\":[{\"name\":\"a\",\"command\":[\"x\"]},{\"name\":\"b\","
	    "\"dependsOn\":[{\"containerName\":\"a\",\"condition\":\"HAPPY\"}]}]}",
	    "{\"id\":\"t\",\"containers\":[{\"name\":\"a\",\"dependsOn\":[{\"containerName\":\"b\","
	    "\"condition\":\"START\"}]},{\"name\":\"b\",\"dependsOn\":[{\"containerName\":\"a\","
	    "\"condition\":\"START\"}]}]}",
	    "{\"id\":\"t\",\"containers\":[{\"name\":\"a\"},{\"name\":\"b\",\"dependsOn\":[{"
	    "\"containerName\":\"a\",\"condition\":\"HEALTHY\"}]}]}",
	    "{\"id\":\"t\",\"containers\":[{\"name\":\"a/b\",\"command\":[\"x\"]}]}",
	    "{\"id\":\"../t\",\"containers\":[{\"name\":\"a\",\"command\":[\"x\"]}]}",
	    "{\"id\":\"t\",\"containers\":[{\"name\":\"a\",\"command\":[1]}]}",
	    "{\"id\":\"t\",\"containers\":[{\"name\":\"a\",\"portMappings\":[{\"containerPort\":80},{"
	    "\"containerPort\":80}]}]}",
	    "{\"containers\":[{\"name\":\"a\"}]}",
	};
	for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
		j = cJSON_Parse(bad[k]);
		assert_non_null(j);
		if (rt_spec_from_json(j, &s, &e) == 0)
			fail_msg("accepted: %s", bad[k]);
		assert_int_equal(e.code, RT_ERR_INVALID);
		cJSON_Delete(j);
	}
	/* "NONE" means no health check. */
	j = cJSON_Parse(
	    "{\"id\":\"t\",\"containers\":[{\"name\":\"a\",\"healthCheck\":{\"command\":[\"NONE\"]}}]}");
	assert_int_equal(rt_spec_from_json(j, &s, &e), 0);
	assert_null(s.containers[0].health);
	assert_int_equal(s.containers[0].argc, 0);
	rt_spec_release(&s);
	cJSON_Delete(j);
}

/* --- lifecycle --- */

static void test_stop_sigterm(void **state)
{
	struct fx *f = *state;
	struct rt_task *t =
	    start(f, NULL, "{`id`:`t1`,`containers`:[{`name`:`main`,`command`:[`sleep`,`30`]}]}");
	assert_int_equal(t->status, RT_PENDING);
	assert_int_equal(t->c[0].status, RT_PENDING);
	wait_task(f, t, RT_RUNNING, 5000);
	assert_int_equal(t->c[0].status, RT_RUNNING);
	assert_true(t->c[0].pid > 0 && t->c[0].shim_pid > 0);
	assert_int_equal(kill(t->c[0].pid, 0), 0);
	assert_true(t->c[0].started_at > 0 && t->started_at >= t->c[0].started_at);
	assert_non_null(strstr(f->events, "c:main:RUNNING:UNKNOWN t:RUNNING"));
	int pid = t->c[0].pid;
	rt_task_stop(f->rt, t, NULL);
	assert_int_equal(t->desired, RT_STOPPED);
	wait_task(f, t, RT_STOPPED, 5000);
	assert_true(t->c[0].has_exit);
	assert_int_equal(t->c[0].exit_code, 143);
	assert_string_equal(t->c[0].reason, "Killed by signal 15 (SIGTERM)");
	assert_string_equal(t->stopped_reason, "Task stopped by user");
	assert_int_equal(t->stop_cause, RT_STOP_REQUESTED);
	assert_string_equal(rt_stop_cause_name(t->stop_cause), "UserInitiated");
	assert_true(t->stopped_at >= t->stopping_at && t->stopping_at > 0);
	assert_non_null(strstr(f->events, "c:main:STOPPED:UNKNOWN t:STOPPED"));
	assert_true(wait_for(f, pid_gone, &pid, 2000));
	/* A second stop changes nothing. */
	rt_task_stop(f->rt, t, "again");
	assert_string_equal(t->stopped_reason, "Task stopped by user");
}

static void test_stop_timeout_sigkill(void **state)
{
	struct fx *f = *state;
	struct rt_task *t =
	    start(f, NULL,
	          "{`id`:`t2`,`containers`:[{`name`:`stubborn`,`stopTimeout`:0.5,`command`:[`sh`,`-c`,"
	          "`trap '' TERM; sleep 30 & echo $! > %s/bg; wait; sleep 30`]}]}",
	          f->dir);
	wait_task(f, t, RT_RUNNING, 5000);
	char bgpath[256];
	snprintf(bgpath, sizeof bgpath, "%s/bg", f->dir);
	assert_true(wait_for(f, file_exists, bgpath, 3000));
	char *bg = slurp("%s", bgpath);
	int bgpid = atoi(bg);
	free(bg);
	assert_true(bgpid > 0);
	int64_t t0 = now_ms();
	rt_task_stop(f->rt, t, "Scaling activity");
	wait_task(f, t, RT_STOPPED, 5000);
	assert_true(now_ms() - t0 >= 450);
	assert_int_equal(t->c[0].exit_code, 137);
	assert_non_null(strstr(t->c[0].reason, "signal 9"));
	assert_string_equal(t->stopped_reason, "Scaling activity");
	/* The whole process group went. */
	assert_true(wait_for(f, pid_gone, &bgpid, 2000));
}

static void test_essential_exit(void **state)
{
	struct fx *f = *state;
	struct rt_task *t = start(
	    f, NULL,
	    "{`id`:`t3`,`containers`:["
	    "{`name`:`side`,`essential`:false,`command`:[`sh`,`-c`,`sleep 30 & echo $! > %s/bg; exit 5`]},"
	    "{`name`:`main`,`command`:[`sh`,`-c`,`while [ ! -f %s/go ]; do sleep 0.02; done; exit 3`]},"
	    "{`name`:`other`,`command`:[`sleep`,`30`]}]}",
	    f->dir, f->dir);
	wait_container(f, t, 0, RT_STOPPED, 5000);
	assert_int_equal(t->c[0].exit_code, 5);
	assert_null(t->c[0].reason);
	/* What the container left behind died with it. */
	char bgpath[256];
	snprintf(bgpath, sizeof bgpath, "%s/bg", f->dir);
	assert_true(wait_for(f, file_exists, bgpath, 2000));
	char *bg = slurp("%s", bgpath);
	int bgpid = atoi(bg);
	free(bg);
	assert_true(wait_for(f, pid_gone, &bgpid, 2000));
	wait_task(f, t, RT_RUNNING, 5000);
	assert_int_equal(t->desired, RT_RUNNING);
	assert_int_equal(t->c[2].status, RT_RUNNING);

	touch(f->dir, "go");
	wait_task(f, t, RT_STOPPED, 5000);
	assert_int_equal(t->c[1].exit_code, 3);
	assert_string_equal(t->stopped_reason, "Essential container in task exited");
	assert_int_equal(t->stop_cause, RT_STOP_ESSENTIAL_EXITED);
	assert_int_equal(t->c[2].exit_code, 143);
}

static void test_env_workdir(void **state)
{
	struct fx *f = *state;
	char wd[256];
	snprintf(wd, sizeof wd, "%s/wd", f->dir);
	assert_int_equal(mkdir(wd, 0755), 0);
	setenv("RT_TEST_AGENT_ONLY", "leak", 1);
	struct rt_task *t =
	    start(f, NULL,
	          "{`id`:`t4`,`containers`:[{`name`:`env`,`workingDirectory`:`%s`,"
	          "`environment`:[{`name`:`FOO`,`value`:`bar`},{`name`:`SPACED`,`value`:`a b`}],"
	          "`command`:[`sh`,`-c`,`env > env.txt; pwd > pwd.txt`]}]}",
	          wd);
	wait_task(f, t, RT_STOPPED, 5000);
	unsetenv("RT_TEST_AGENT_ONLY");
	assert_int_equal(t->c[0].exit_code, 0);
	char *env = slurp("%s/env.txt", wd);
	char *pwd = slurp("%s/pwd.txt", wd);
	assert_non_null(env);
	assert_non_null(strstr(env, "FOO=bar\n"));
	assert_non_null(strstr(env, "SPACED=a b\n"));
	assert_non_null(strstr(env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"));
	assert_non_null(strstr(env, "HOME="));
	assert_null(strstr(env, "RT_TEST_AGENT_ONLY"));
	assert_null(strstr(env, "ASAN_OPTIONS"));
	char want[300];
	snprintf(want, sizeof want, "%s\n", wd);
	assert_string_equal(pwd, want);
	free(env);
	free(pwd);
}

static void test_logs(void **state)
{
	struct fx *f = *state;
	struct rt_task *t = start(f, NULL,
	                          "{`id`:`t5`,`containers`:[{`name`:`talk`,"
	                          "`command`:[`sh`,`-c`,`echo to-out; echo to-err >&2`]}]}");
	wait_task(f, t, RT_STOPPED, 5000);
	char *out = slurp("%s/logs/t5/talk.stdout", f->data);
	char *err = slurp("%s/logs/t5/talk.stderr", f->data);
	assert_non_null(out);
	assert_non_null(err);
	assert_string_equal(out, "to-out\n");
	assert_string_equal(err, "to-err\n");
	free(out);
	free(err);
	char path[256];
	struct stat st;
	snprintf(path, sizeof path, "%s/logs/t5/talk.stdout", f->data);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
}

static void test_depends_order(void **state)
{
	struct fx *f = *state;
	struct rt_task *t =
	    start(f, NULL,
	          "{`id`:`t6`,`containers`:["
	          "{`name`:`app`,`command`:[`sleep`,`30`],`dependsOn`:[{`containerName`:`init`,`condition`:`"
	          "SUCCESS`},"
	          "{`containerName`:`side`,`condition`:`COMPLETE`}]},"
	          "{`name`:`init`,`essential`:false,`command`:[`sleep`,`0.2`]},"
	          "{`name`:`side`,`essential`:false,`command`:[`sh`,`-c`,`sleep 0.1; exit 4`],"
	          "`dependsOn`:[{`containerName`:`init`,`condition`:`START`}]}]}");
	wait_task(f, t, RT_RUNNING, 5000);
	const struct rt_container *app = &t->c[0], *init = &t->c[1], *side = &t->c[2];
	assert_int_equal(init->status, RT_STOPPED);
	assert_int_equal(init->exit_code, 0);
	assert_int_equal(side->exit_code, 4);
	assert_true(side->started_at >= init->started_at);
	assert_true(app->started_at >= init->stopped_at);
	assert_true(app->started_at >= side->stopped_at);
	assert_true(t->started_at >= app->started_at);
	rt_task_stop(f->rt, t, NULL);
	wait_task(f, t, RT_STOPPED, 5000);
}

static void test_depends_never_met(void **state)
{
	struct fx *f = *state;
	/* A non-essential dependent that can never start: the task runs on. */
	struct rt_task *t = start(f, NULL,
	                          "{`id`:`t7`,`containers`:["
	                          "{`name`:`init`,`essential`:false,`command`:[`sh`,`-c`,`exit 1`]},"
	                          "{`name`:`helper`,`essential`:false,`command`:[`sleep`,`30`],"
	                          "`dependsOn`:[{`containerName`:`init`,`condition`:`SUCCESS`}]},"
	                          "{`name`:`main`,`command`:[`sleep`,`30`]}]}");
	wait_container(f, t, 1, RT_STOPPED, 5000);
	assert_false(t->c[1].has_exit);
	assert_int_equal(t->c[1].started_at, 0);
	assert_string_equal(t->c[1].reason,
	                    "DependencyConditionNotMet: container init did not reach condition SUCCESS: "
	                    "it exited with code 1");
	wait_task(f, t, RT_RUNNING, 5000);
	assert_int_equal(t->desired, RT_RUNNING);

	/* An essential one: the task stops. */
	struct rt_task *t2 = start(f, NULL,
	                           "{`id`:`t7b`,`containers`:["
	                           "{`name`:`init`,`essential`:false,`command`:[`sh`,`-c`,`exit 2`]},"
	                           "{`name`:`app`,`command`:[`sleep`,`30`],"
	                           "`dependsOn`:[{`containerName`:`init`,`condition`:`SUCCESS`}]}]}");
	wait_task(f, t2, RT_STOPPED, 5000);
	assert_int_equal(t2->stop_cause, RT_STOP_FAILED_TO_START);
	assert_non_null(strstr(t2->stopped_reason, "DependencyConditionNotMet"));
	assert_int_equal(t2->c[1].shim_pid, 0);
	assert_int_equal(t2->started_at, 0);
	rt_task_stop(f->rt, t, NULL);
	wait_task(f, t, RT_STOPPED, 5000);
}

static void test_health_and_healthy_dep(void **state)
{
	struct fx *f = *state;
	struct rt_task *t = start(f, NULL,
	                          "{`id`:`t8`,`containers`:["
	                          "{`name`:`db`,`command`:[`sleep`,`30`],`healthCheck`:{`command`:[`CMD-"
	                          "SHELL`,`test -f %s/healthy`],"
	                          "`interval`:0.1,`timeout`:1,`retries`:2,`startPeriod`:30}},"
	                          "{`name`:`app`,`command`:[`sleep`,`30`],`dependsOn`:[{`containerName`:`db`,"
	                          "`condition`:`HEALTHY`}]}]}",
	                          f->dir);
	wait_container(f, t, 0, RT_RUNNING, 5000);
	/* Failing checks in the start period: db stays UNKNOWN, app waits. */
	struct tstat never = {t, 1, RT_RUNNING};
	assert_false(wait_for(f, is_status, &never, 400));
	assert_int_equal(t->c[0].health, RT_HEALTH_UNKNOWN);
	assert_int_equal(t->c[1].status, RT_PENDING);
	assert_int_equal(t->status, RT_PENDING);
	/* The first success ends the start period. */
	touch(f->dir, "healthy");
	wait_task(f, t, RT_RUNNING, 5000);
	assert_int_equal(t->c[0].health, RT_HEALTHY);
	assert_int_equal(t->health, RT_HEALTHY); /* app, the other essential one, has no check */
	assert_true(f->healthy_at > 0);
	assert_non_null(strstr(f->events, "c:db:RUNNING:HEALTHY"));
	char path[256];
	snprintf(path, sizeof path, "%s/healthy", f->dir);
	unlink(path);
	assert_true(wait_health(f, t, 0, RT_UNHEALTHY, 3000));
	assert_int_equal(t->health, RT_UNHEALTHY);
	assert_int_equal(t->status, RT_RUNNING); /* the agent does not stop unhealthy tasks */
	rt_task_stop(f->rt, t, NULL);
	wait_task(f, t, RT_STOPPED, 5000);
}

static void test_healthy_dep_never_met(void **state)
{
	struct fx *f = *state;
	struct rt_task *t =
	    start(f, NULL,
	          "{`id`:`t9`,`containers`:["
	          "{`name`:`db`,`command`:[`sleep`,`30`],`healthCheck`:{`command`:[`CMD`,`false`],"
	          "`interval`:0.1,`timeout`:1,`retries`:2}},"
	          "{`name`:`app`,`command`:[`sleep`,`30`],`dependsOn`:[{`containerName`:`db`,`condition`:`"
	          "HEALTHY`}]}]}");
	wait_task(f, t, RT_STOPPED, 5000);
	assert_int_equal(t->c[0].health, RT_UNHEALTHY);
	assert_string_equal(t->c[1].reason,
	                    "DependencyConditionNotMet: container db did not reach condition HEALTHY: "
	                    "it is UNHEALTHY");
	assert_int_equal(t->c[0].exit_code, 143);
	assert_int_equal(t->stop_cause, RT_STOP_FAILED_TO_START);
}

static void test_health_start_period_timeout(void **state)
{
	struct fx *f = *state;
	/* Every check times out (a failure), but the first 0.6 s do not count. */
	struct rt_task *t = start(
	    f, NULL,
	    "{`id`:`t10`,`containers`:[{`name`:`slow`,`command`:[`sleep`,`30`],"
	    "`healthCheck`:{`command`:[`CMD-SHELL`,`sleep 5`],`interval`:0.05,`timeout`:0.1,`retries`:1,"
	    "`startPeriod`:0.6}}]}");
	wait_task(f, t, RT_RUNNING, 5000);
	assert_true(wait_health(f, t, 0, RT_UNHEALTHY, 4000));
	int64_t wall = 0;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	wall = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	assert_true(wall - t->c[0].started_at >= 600);
	assert_int_equal(t->health, RT_UNHEALTHY);
	rt_task_stop(f->rt, t, NULL);
	wait_task(f, t, RT_STOPPED, 5000);
}

static void test_ports(void **state)
{
	struct fx *f = *state;
	struct err e;
	struct rt_task *a = start(f, NULL,
	                          "{`id`:`pa`,`containers`:[{`name`:`web`,`command`:[`sleep`,`30`],"
	                          "`portMappings`:[{`containerPort`:18080}]}]}");
	const char *b_json = "{`id`:`pb`,`containers`:[{`name`:`web`,`command`:[`sleep`,`30`],"
	                     "`portMappings`:[{`containerPort`:80,`hostPort`:18080}]}]}";
	assert_null(start(f, &e, "%s", b_json));
	assert_int_equal(e.code, RT_ERR_CONFLICT);
	assert_string_equal(e.msg, "port 18080 is in use by task pa");
	/* The same number in UDP is another port. */
	struct rt_task *u = start(f, NULL,
	                          "{`id`:`pu`,`containers`:[{`name`:`dns`,`command`:[`sleep`,`30`],"
	                          "`portMappings`:[{`containerPort`:18080,`protocol`:`udp`}]}]}");
	assert_non_null(u);
	/* A duplicate task id. */
	assert_null(start(f, &e, "{`id`:`pa`,`containers`:[{`name`:`x`,`command`:[`true`]}]}"));
	assert_int_equal(e.code, RT_ERR_CONFLICT);
	assert_string_equal(e.msg, "task pa already exists");
	rt_task_stop(f->rt, a, NULL);
	assert_null(start(f, &e, "%s", b_json)); /* held until STOPPED */
	wait_task(f, a, RT_STOPPED, 5000);
	struct rt_task *b = start(f, NULL, "%s", b_json);
	assert_non_null(b);
	wait_task(f, b, RT_RUNNING, 5000);
	rt_task_stop(f->rt, b, NULL);
	rt_task_stop(f->rt, u, NULL);
	wait_task(f, b, RT_STOPPED, 5000);
	wait_task(f, u, RT_STOPPED, 5000);
}

static void expect_cannot_start(struct fx *f, struct rt_task *t, const char *reason)
{
	wait_task(f, t, RT_STOPPED, 5000);
	assert_false(t->c[0].has_exit);
	assert_int_equal(t->c[0].started_at, 0);
	if (strcmp(t->c[0].reason, reason) != 0)
		fail_msg("reason: %s, expected %s", t->c[0].reason, reason);
	assert_string_equal(t->stopped_reason, reason);
	assert_int_equal(t->stop_cause, RT_STOP_FAILED_TO_START);
	assert_int_equal(t->started_at, 0);
}

static void test_cannot_start(void **state)
{
	struct fx *f = *state;
	struct rt_task *t1 =
	    start(f, NULL,
	          "{`id`:`cs1`,`containers`:[{`name`:`a`,`workingDirectory`:`/nonexistent/wd`,"
	          "`command`:[`true`]}]}");
	struct rt_task *t2 =
	    start(f, NULL, "{`id`:`cs2`,`containers`:[{`name`:`a`,`command`:[`no-such-program-xyz`]}]}");
	struct rt_task *t3 = start(f, NULL, "{`id`:`cs3`,`containers`:[{`name`:`a`}]}");
	struct rt_task *t4 =
	    start(f, NULL, "{`id`:`cs4`,`containers`:[{`name`:`a`,`command`:[`/nonexistent/prog`]}]}");
	expect_cannot_start(f, t1,
	                    "CannotStartContainerError: working directory /nonexistent/wd does not exist");
	expect_cannot_start(
	    f, t2,
	    "CannotStartContainerError: exec: \"no-such-program-xyz\": executable file not found in $PATH");
	expect_cannot_start(f, t3, "CannotStartContainerError: no command");
	expect_cannot_start(
	    f, t4, "CannotStartContainerError: exec: \"/nonexistent/prog\": No such file or directory");
	assert_null(strstr(f->events, ":RUNNING"));
	if (geteuid() == 0) {
		struct rt_task *t5 = start(f, NULL,
		                           "{`id`:`cs5`,`containers`:[{`name`:`a`,`user`:`no-such-user-xyz`,"
		                           "`command`:[`true`]}]}");
		expect_cannot_start(
		    f, t5,
		    "CannotStartContainerError: unable to find user no-such-user-xyz: no matching "
		    "entries in passwd file");
	}
}

static void test_user(void **state)
{
	struct fx *f = *state;
	char out[256];
	snprintf(out, sizeof out, "%s/out", f->dir);
	assert_int_equal(mkdir(out, 0777), 0);
	chmod(out, 0777);
	chmod(f->dir, 0755);
	struct rt_task *t = start(f, NULL,
	                          "{`id`:`u1`,`containers`:[{`name`:`a`,`user`:`65534:65534`,"
	                          "`command`:[`sh`,`-c`,`id -u > %s/uid; id -g >> %s/uid`]}]}",
	                          out, out);
	wait_task(f, t, RT_STOPPED, 5000);
	assert_int_equal(t->c[0].exit_code, 0);
	char *ids = slurp("%s/uid", out);
	assert_non_null(ids);
	if (geteuid() == 0) {
		assert_string_equal(ids, "65534\n65534\n");
		assert_null(t->c[0].notes);
	} else {
		assert_non_null(t->c[0].notes);
		assert_non_null(strstr(t->c[0].notes, "user not applied: agent is not root"));
	}
	free(ids);
}

/* --- adoption --- */

static void reopen(struct fx *f)
{
	close_rt(f);
	uv_run(&f->loop, UV_RUN_NOWAIT);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	uv_loop_init(&f->loop);
	f->events[0] = '\0';
	f->task_reports = f->container_reports = 0;
	make_rt(f);
}

static bool reported(void *arg)
{
	return ((struct fx *)arg)->task_reports > 0;
}

static void test_adopt_running(void **state)
{
	struct fx *f = *state;
	struct rt_task *t = start(f, NULL,
	                          "{`id`:`ad1`,`containers`:[{`name`:`main`,`command`:[`sleep`,`30`],"
	                          "`healthCheck`:{`command`:[`CMD`,`true`],`interval`:0.1}}]}");
	wait_task(f, t, RT_RUNNING, 5000);
	assert_true(wait_health(f, t, 0, RT_HEALTHY, 3000));
	int pid = t->c[0].pid, shim = t->c[0].shim_pid;
	int64_t started = t->c[0].started_at;
	reopen(f);
	assert_int_equal(kill(pid, 0), 0); /* the container outlived the runtime */
	assert_int_equal(kill(shim, 0), 0);
	assert_int_equal(rt_adopt(f->rt), 1);
	t = rt_task_find(f->rt, "ad1");
	assert_non_null(t);
	assert_int_equal(t->status, RT_RUNNING);
	assert_int_equal(t->c[0].status, RT_RUNNING);
	assert_int_equal(t->c[0].pid, pid);
	assert_int_equal(t->c[0].shim_pid, shim);
	assert_int_equal(t->c[0].started_at, started);
	/* Reported once after adoption. */
	assert_true(wait_for(f, reported, f, 2000));
	assert_non_null(strstr(f->events, "c:main:RUNNING:HEALTHY t:RUNNING"));
	rt_task_stop(f->rt, t, NULL);
	wait_task(f, t, RT_STOPPED, 5000);
	assert_int_equal(t->c[0].exit_code, 143);
	assert_true(wait_for(f, pid_gone, &pid, 2000));
	assert_int_equal(rt_task_forget(f->rt, t), 0);
	assert_null(rt_task_find(f->rt, "ad1"));
}

static bool file_exists_sleepy(void *arg)
{
	if (access(arg, F_OK) == 0)
		return true;
	usleep(10000);
	return false;
}

static void test_adopt_exited_while_closed(void **state)
{
	struct fx *f = *state;
	struct rt_task *t = start(
	    f, NULL,
	    "{`id`:`ad2`,`containers`:["
	    "{`name`:`init`,`essential`:false,`command`:[`sh`,`-c`,`while [ ! -f %s/go1 ]; do sleep 0.02; "
	    "done`]},"
	    "{`name`:`main`,`command`:[`sh`,`-c`,`while [ ! -f %s/go2 ]; do sleep 0.02; done; exit 7`]},"
	    "{`name`:`late`,`essential`:false,`command`:[`true`],"
	    "`dependsOn`:[{`containerName`:`init`,`condition`:`SUCCESS`}]}]}",
	    f->dir, f->dir);
	wait_task(f, t, RT_RUNNING, 5000);
	assert_int_equal(t->c[2].status, RT_PENDING);
	close_rt(f);
	/* While no runtime watches: init ends (so late may start), main exits 7. */
	touch(f->dir, "go1");
	char exit1[256];
	snprintf(exit1, sizeof exit1, "%s/run/ad2/init.exit", f->data);
	int64_t end = now_ms() + 5000;
	while (!file_exists_sleepy(exit1) && now_ms() < end)
		;
	assert_int_equal(access(exit1, F_OK), 0);
	uv_run(&f->loop, UV_RUN_NOWAIT);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	uv_loop_init(&f->loop);
	make_rt(f);
	assert_int_equal(rt_adopt(f->rt), 1);
	t = rt_task_find(f->rt, "ad2");
	assert_non_null(t);
	/* late starts from the adopted state (SUCCESS met) and exits 0. */
	wait_container(f, t, 2, RT_STOPPED, 5000);
	assert_int_equal(t->c[0].exit_code, 0);
	assert_int_equal(t->c[2].exit_code, 0);
	assert_int_equal(t->status, RT_RUNNING);

	/* Now main exits while the runtime is closed again. */
	close_rt(f);
	touch(f->dir, "go2");
	char exit2[256];
	snprintf(exit2, sizeof exit2, "%s/run/ad2/main.exit", f->data);
	end = now_ms() + 5000;
	while (!file_exists_sleepy(exit2) && now_ms() < end)
		;
	uv_run(&f->loop, UV_RUN_NOWAIT);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	uv_loop_init(&f->loop);
	make_rt(f);
	assert_int_equal(rt_adopt(f->rt), 1);
	t = rt_task_find(f->rt, "ad2");
	wait_task(f, t, RT_STOPPED, 5000);
	assert_true(t->c[1].has_exit);
	assert_int_equal(t->c[1].exit_code, 7);
	assert_string_equal(t->stopped_reason, "Essential container in task exited");
	assert_non_null(strstr(f->events, "c:main:STOPPED"));
}

static void test_adopt_lost_shim(void **state)
{
	struct fx *f = *state;
	struct rt_task *t =
	    start(f, NULL, "{`id`:`ad3`,`containers`:[{`name`:`main`,`command`:[`sleep`,`30`]}]}");
	wait_task(f, t, RT_RUNNING, 5000);
	int pid = t->c[0].pid, shim = t->c[0].shim_pid;
	close_rt(f);
	/* The shim dies without a word; its container goes with it (it could
	 * no longer be stopped, and would run twice if started elsewhere). */
	kill(shim, SIGKILL);
	assert_true(wait_for(f, pid_gone, &shim, 2000));
	assert_true(wait_for(f, pid_gone, &pid, 2000));
	uv_run(&f->loop, UV_RUN_NOWAIT);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	uv_loop_init(&f->loop);
	make_rt(f);
	assert_int_equal(rt_adopt(f->rt), 1);
	t = rt_task_find(f->rt, "ad3");
	wait_task(f, t, RT_STOPPED, 5000);
	assert_false(t->c[0].has_exit);
	assert_string_equal(t->c[0].reason, "agent lost track of the container");
	assert_string_equal(t->stopped_reason, "Essential container in task exited");
}

static void test_adopt_mid_stop(void **state)
{
	struct fx *f = *state;
	struct rt_task *t = start(f, NULL,
	                          "{`id`:`ad4`,`containers`:[{`name`:`main`,`stopTimeout`:0.3,"
	                          "`command`:[`sh`,`-c`,`trap '' TERM; while :; do sleep 0.05; done`]}]}");
	wait_task(f, t, RT_RUNNING, 5000);
	int pid = t->c[0].pid;
	rt_task_stop(f->rt, t, "Scaling in");
	reopen(f); /* before the SIGKILL was due */
	assert_int_equal(kill(pid, 0), 0);
	assert_int_equal(rt_adopt(f->rt), 1);
	t = rt_task_find(f->rt, "ad4");
	assert_int_equal(t->desired, RT_STOPPED);
	int64_t t0 = now_ms();
	wait_task(f, t, RT_STOPPED, 5000);
	assert_true(now_ms() - t0 >= 250);
	assert_int_equal(t->c[0].exit_code, 137);
	assert_string_equal(t->stopped_reason, "Scaling in");
	assert_int_equal(t->stop_cause, RT_STOP_REQUESTED);
}

static bool forgotten(void *arg)
{
	return ((struct fx *)arg)->forgotten > 0;
}

static void test_forget_in_callback(void **state)
{
	struct fx *f = *state;
	f->forget_on_stop = true;
	struct rt_task *t = start(f, NULL, "{`id`:`fc`,`containers`:[{`name`:`a`,`command`:[`true`]}]}");
	assert_non_null(t);
	assert_true(wait_for(f, forgotten, f, 5000));
	assert_null(rt_task_find(f->rt, "fc"));
	char run[256];
	snprintf(run, sizeof run, "%s/run/fc", f->data);
	assert_int_not_equal(access(run, F_OK), 0);
}

static void test_forget(void **state)
{
	struct fx *f = *state;
	struct rt_task *t =
	    start(f, NULL, "{`id`:`fg`,`containers`:[{`name`:`a`,`command`:[`sh`,`-c`,`echo x`]}]}");
	assert_int_equal(rt_task_forget(f->rt, t), -1); /* not STOPPED */
	wait_task(f, t, RT_STOPPED, 5000);
	char run[256], log[256];
	snprintf(run, sizeof run, "%s/run/fg/state.json", f->data);
	snprintf(log, sizeof log, "%s/logs/fg/a.stdout", f->data);
	assert_int_equal(access(run, F_OK), 0);
	assert_int_equal(rt_task_forget(f->rt, t), 0);
	assert_null(rt_task_find(f->rt, "fg"));
	struct rt_task **ts;
	assert_int_equal(rt_tasks(f->rt, &ts), 0);
	assert_int_not_equal(access(run, F_OK), 0);
	assert_int_equal(access(log, F_OK), 0);
	/* A forgotten id can run again. */
	t = start(f, NULL, "{`id`:`fg`,`containers`:[{`name`:`a`,`command`:[`true`]}]}");
	wait_task(f, t, RT_STOPPED, 5000);
	assert_int_equal(t->c[0].exit_code, 0);
}

/* --- cgroups --- */

static void test_cgroup_host(void **state)
{
	struct fx *f = *state;
	struct rt_task *t = start(f, NULL,
	                          "{`id`:`cg1`,`containers`:[{`name`:`a`,`memory`:64,`cpu`:256,"
	                          "`command`:[`sleep`,`30`]}]}");
	wait_task(f, t, RT_RUNNING, 5000);
	const char *notes = t->c[0].notes;
	print_message("cgroup on this host: %s\n", notes ? notes : "limits applied");
	if (notes) {
		assert_non_null(strstr(notes, "limits not enforced"));
	} else {
		/* Applied: find the memory.max of the container's cgroup. */
		const char *roots[] = {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"};
		bool found = false;
		for (int k = 0; k < 2 && !found; k++) {
			char *v = slurp("%s/berth/cg1/a/memory.max", roots[k]);
			if (v) {
				assert_string_equal(v, "67108864\n");
				found = true;
			}
			free(v);
		}
		assert_true(found);
	}
	rt_task_stop(f->rt, t, NULL);
	wait_task(f, t, RT_STOPPED, 5000);
}

static void test_cgroup_fake_root(void **state)
{
	struct fx *f = *state;
	/* A directory that looks like a cgroup2 root: the writes are checked,
	 * the kernel's part (joining) is not. */
	close_rt(f);
	f->cgroup_root = xasprintf("%s/cg", f->dir);
	assert_int_equal(mkdir(f->cgroup_root, 0755), 0);
	char *ctl = xasprintf("%s/cgroup.controllers", f->cgroup_root);
	FILE *fp = fopen(ctl, "w");
	free(ctl);
	assert_non_null(fp);
	fputs("cpuset cpu io memory pids\n", fp);
	fclose(fp);
	make_rt(f);
	struct rt_task *t =
	    start(f, NULL,
	          "{`id`:`cg2`,`cpu`:`256`,`memory`:`256`,`containers`:[{`name`:`a`,`memory`:128,"
	          "`memoryReservation`:64,`cpu`:512,`command`:[`sleep`,`30`]}]}");
	wait_task(f, t, RT_RUNNING, 5000);
	char *v;
	v = slurp("%s/berth/cg2/a/memory.max", f->cgroup_root);
	assert_string_equal(v, "134217728");
	free(v);
	v = slurp("%s/berth/cg2/a/memory.low", f->cgroup_root);
	assert_string_equal(v, "67108864");
	free(v);
	v = slurp("%s/berth/cg2/a/cpu.weight", f->cgroup_root);
	assert_string_equal(v, "50");
	free(v);
	v = slurp("%s/berth/cg2/cpu.max", f->cgroup_root);
	assert_string_equal(v, "25000 100000");
	free(v);
	v = slurp("%s/berth/cg2/memory.max", f->cgroup_root);
	assert_string_equal(v, "268435456");
	free(v);
	/* The shim could not join a fake cgroup, and said so. */
	assert_non_null(t->c[0].notes);
	assert_non_null(strstr(t->c[0].notes, "cannot join cgroup"));
	rt_task_stop(f->rt, t, NULL);
	wait_task(f, t, RT_STOPPED, 5000);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "shim") == 0)
		return rt_shim_main(argc, argv);
	ssize_t n = readlink("/proc/self/exe", shim_exe, sizeof shim_exe - 1);
	if (n <= 0)
		return 1;
	shim_exe[n] = '\0';
	/* Orphans of killed shims come here, and the teardowns reap them. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_spec_json),
	    cmocka_unit_test_setup_teardown(test_stop_sigterm, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stop_timeout_sigkill, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_essential_exit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_env_workdir, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_logs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_depends_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_depends_never_met, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_health_and_healthy_dep, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_healthy_dep_never_met, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_health_start_period_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ports, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cannot_start, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_user, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_adopt_running, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_adopt_exited_while_closed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_adopt_lost_shim, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_adopt_mid_stop, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_forget, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_forget_in_callback, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cgroup_host, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cgroup_fake_root, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
