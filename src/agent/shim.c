/* shim: the process between the agent and a container.
 *
 * The runtime spawns `<shim_exe> [shim_arg0] <spec-file>` with the write end
 * of a status socket as fd 3.  The shim, in its own session (so that it
 * survives the agent), with SIGHUP and SIGPIPE ignored, no descriptor but
 * 0-3 and / as its working directory:
 *   1. joins the container's cgroup, if any;
 *   2. opens the log files (append, 0640);
 *   3. checks the working directory;
 *   4. forks the container: own process group, stdin /dev/null, stdout and
 *      stderr to the logs, chdir, setgroups/setgid/setuid, SIGKILL when the
 *      shim dies (PR_SET_PDEATHSIG), environment exactly as given, execvp
 *      (PATH looked up in that environment);
 *   5. learns whether the exec worked (a close-on-exec pipe), writes the pid
 *      file "<shim pid> <shim start time> <container pid>" and the status
 *      line "ok <pid>" (or "err <reason>" and an exit file "error <reason>");
 *   6. waits: SIGTERM is passed on to the container's process group as
 *      SIGTERM, SIGUSR1 as SIGKILL (the runtime cannot ask with SIGKILL:
 *      that would kill the shim);
 *   7. when the container's process exits, kills what is left of its group
 *      (and cgroup), reaps it (the shim is a child subreaper, so orphans of
 *      the container are its children, not init's), writes the exit file
 *      ("exit N" or "signal N") atomically, and exits 0.
 * Status lines may also carry "note <text>" (a limit that could not be
 * applied).  The exit file is the truth about the container; the shim's
 * own exit status means nothing. */
#include "agent/rt_int.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/xalloc.h"

extern char **environ;

enum { STAGE_STDIO = 1, STAGE_CHDIR, STAGE_USER, STAGE_EXEC };

struct shim {
	char **argv, **env;
	char *workdir, *cgroup, *out, *err, *exitp, *pidp;
	bool apply_user;
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	size_t n_groups;
	int status_fd;
};

static void say(struct shim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct shim *s, const char *fmt, ...)
{
	if (s->status_fd < 0)
		return;
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof line - 2)
		n = (int)sizeof line - 2;
	line[n++] = '\n';
	/* The agent may be gone: EPIPE is ignored (SIGPIPE is). */
	while (write(s->status_fd, line, (size_t)n) < 0 && errno == EINTR)
		;
}

static void write_exit(struct shim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void write_exit(struct shim *s, const char *fmt, ...)
{
	char line[1100];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line - 1, fmt, ap);
	va_end(ap);
	strcat(line, "\n");
	rt_write_atomic(s->exitp, line, strlen(line), 0644);
}

/* A start failure: recorded durably, then told to the agent. */
static int fail(struct shim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct shim *s, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	for (char *p = msg; *p; p++)
		if (*p == '\n')
			*p = ' ';
	write_exit(s, "error CannotStartContainerError: %s", msg);
	say(s, "err CannotStartContainerError: %s", msg);
	return 0;
}

static char **strv(const cJSON *a)
{
	int n = cJSON_GetArraySize(a);
	char **v = xcalloc((size_t)n + 1, sizeof *v);
	for (int i = 0; i < n; i++) {
		const char *str = cJSON_GetStringValue(cJSON_GetArrayItem(a, i));
		v[i] = xstrdup(str ? str : "");
	}
	return v;
}

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static char *opt_str(const cJSON *o, const char *k)
{
	const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
	return v ? xstrdup(v) : NULL;
}

static int load(struct shim *s, const char *path)
{
	char *text = rt_read_file(path);
	cJSON *o = text ? cJSON_Parse(text) : NULL;
	free(text);
	if (!o)
		return -1;
	s->argv = strv(cJSON_GetObjectItemCaseSensitive(o, "argv"));
	s->env = strv(cJSON_GetObjectItemCaseSensitive(o, "env"));
	s->workdir = opt_str(o, "workdir");
	s->cgroup = opt_str(o, "cgroup");
	s->out = opt_str(o, "stdout");
	s->err = opt_str(o, "stderr");
	s->exitp = opt_str(o, "exit");
	s->pidp = opt_str(o, "pid");
	s->apply_user = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "applyUser"));
	s->uid = (uid_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, "uid"));
	s->gid = (gid_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, "gid"));
	const cJSON *g = cJSON_GetObjectItemCaseSensitive(o, "groups"), *it;
	s->groups = xcalloc((size_t)cJSON_GetArraySize(g) + 1, sizeof *s->groups);
	cJSON_ArrayForEach(it, g)
	{
		s->groups[s->n_groups++] = (gid_t)it->valuedouble;
	}
	cJSON_Delete(o);
	return s->argv[0] && s->out && s->err && s->exitp && s->pidp ? 0 : -1;
}

static void release(struct shim *s)
{
	strv_free(s->argv);
	strv_free(s->env);
	free(s->workdir);
	free(s->cgroup);
	free(s->out);
	free(s->err);
	free(s->exitp);
	free(s->pidp);
	free(s->groups);
}

static void put_file(const char *dir, const char *file, const char *v)
{
	char *path = xasprintf("%s/%s", dir, file);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, v, strlen(v)) < 0) {
			/* best effort */
		}
		close(fd);
	}
	free(path);
}

/* The child: only async-signal-safe calls until exec. */
static void child(struct shim *s, int out, int err, int devnull, int report, pid_t shim)
    __attribute__((noreturn));
static void child(struct shim *s, int out, int err, int devnull, int report, pid_t shim)
{
	int why[2] = {STAGE_STDIO, 0};
	sigset_t none;
	sigemptyset(&none);
	signal(SIGHUP, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setpgid(0, 0);
	if (dup2(devnull, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		goto fail;
	why[0] = STAGE_CHDIR;
	if (s->workdir && chdir(s->workdir) < 0)
		goto fail;
	why[0] = STAGE_USER;
	if (s->apply_user &&
	    (setgroups(s->n_groups, s->groups) < 0 || setgid(s->gid) < 0 || setuid(s->uid) < 0))
		goto fail;
	/* Dies with its shim: a container nobody can stop or watch would be
	 * reported STOPPED and could run twice.  Set after the user change,
	 * which clears it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != shim)
		_exit(127);
	why[0] = STAGE_EXEC;
	umask(022);
	environ = s->env;
	execvp(s->argv[0], s->argv);
fail:
	why[1] = errno;
	if (write(report, why, sizeof why) < 0) {
		/* nothing more to do */
	}
	_exit(127);
}

static void explain(struct shim *s, const int why[2])
{
	switch (why[0]) {
	case STAGE_CHDIR:
		fail(s, "chdir to working directory %s: %s", s->workdir, strerror(why[1]));
		break;
	case STAGE_USER:
		fail(s, "cannot set user %u:%u: %s", (unsigned)s->uid, (unsigned)s->gid, strerror(why[1]));
		break;
	case STAGE_EXEC:
		if (why[1] == ENOENT && !strchr(s->argv[0], '/'))
			fail(s, "exec: \"%s\": executable file not found in $PATH", s->argv[0]);
		else
			fail(s, "exec: \"%s\": %s", s->argv[0], strerror(why[1]));
		break;
	default:
		fail(s, "cannot set up stdio: %s", strerror(why[1]));
	}
}

/* Reap the orphans the container left (they are ours: subreaper), for at
 * most 200 ms: one that left the process group may live on. */
static void reap_rest(void)
{
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	struct timespec slice = {0, 20 * 1000 * 1000};
	for (int k = 0; k < 10; k++) {
		pid_t w;
		while ((w = waitpid(-1, NULL, WNOHANG)) > 0)
			;
		if (w < 0)
			return; /* ECHILD: none left */
		sigtimedwait(&chld, NULL, &slice);
	}
}

static int open_log(const char *path)
{
	mode_t old = umask(0);
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	umask(old);
	return fd;
}

int rt_shim_main(int argc, char **argv)
{
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	setsid(); /* EPERM when spawned detached already: fine */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	/* Nothing of the agent's may outlive it here: descriptors it forgot to
	 * mark close-on-exec (a listening socket...), its working directory. */
	close_range(RT_SHIM_STATUS_FD + 1, ~0U, 0);
	if (chdir("/") < 0) {
		/* the container's chdir decides */
	}

	struct shim s;
	memset(&s, 0, sizeof s);
	s.status_fd = fcntl(RT_SHIM_STATUS_FD, F_GETFD) < 0 ? -1 : RT_SHIM_STATUS_FD;
	if (s.status_fd >= 0)
		fcntl(s.status_fd, F_SETFD, FD_CLOEXEC);
	if (argc < 2 || load(&s, argv[argc - 1]) < 0) {
		if (s.exitp)
			fail(&s, "shim: cannot read its spec %s", argc >= 2 ? argv[argc - 1] : "(none)");
		else
			say(&s, "err CannotStartContainerError: shim: cannot read its spec");
		release(&s);
		return 2;
	}
	int out = -1, err = -1, devnull = -1, pipefd[2] = {-1, -1};
	if (s.cgroup) {
		char pid[32];
		snprintf(pid, sizeof pid, "%d", (int)getpid());
		char *procs = xasprintf("%s/cgroup.procs", s.cgroup);
		int fd = open(procs, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, pid, strlen(pid)) < 0)
			say(&s, "note limits not enforced: cannot join cgroup %s: %s", s.cgroup,
			    strerror(errno));
		if (fd >= 0)
			close(fd);
		free(procs);
	}
	struct stat st;
	if ((out = open_log(s.out)) < 0 || (err = open_log(s.err)) < 0) {
		fail(&s, "cannot open log file %s: %s", out < 0 ? s.out : s.err, strerror(errno));
		goto done;
	}
	if (s.workdir && (stat(s.workdir, &st) < 0 || !S_ISDIR(st.st_mode))) {
		fail(&s, "working directory %s does not exist", s.workdir);
		goto done;
	}
	if ((devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0 || pipe2(pipefd, O_CLOEXEC) < 0) {
		fail(&s, "shim: %s", strerror(errno));
		goto done;
	}
	pid_t shim_pid = getpid();
	pid_t cpid = fork();
	if (cpid < 0) {
		fail(&s, "fork: %s", strerror(errno));
		goto done;
	}
	if (cpid == 0)
		child(&s, out, err, devnull, pipefd[1], shim_pid);
	setpgid(cpid, cpid); /* both sides, so no signal can miss the group */
	close(pipefd[1]);
	pipefd[1] = -1;
	int why[2];
	ssize_t r;
	while ((r = read(pipefd[0], why, sizeof why)) < 0 && errno == EINTR)
		;
	if (r == (ssize_t)sizeof why) {
		while (waitpid(cpid, NULL, 0) < 0 && errno == EINTR)
			;
		explain(&s, why);
		goto done;
	}
	close(out);
	close(err);
	close(devnull);
	out = err = devnull = -1;

	char line[96];
	snprintf(line, sizeof line, "%d %lld %d\n", (int)getpid(),
	         (long long)rt_proc_start_time((int)getpid()), (int)cpid);
	rt_write_atomic(s.pidp, line, strlen(line), 0644);
	say(&s, "ok %d", (int)cpid);
	close(s.status_fd);
	s.status_fd = -1;

	int status = 0;
	for (bool done = false; !done;) {
		siginfo_t si;
		int sig = sigwaitinfo(&set, &si);
		if (sig == SIGTERM || sig == SIGINT) {
			kill(-cpid, SIGTERM);
		} else if (sig == SIGUSR1) {
			kill(-cpid, SIGKILL);
		} else if (sig == SIGCHLD) {
			int ws;
			pid_t w;
			while ((w = waitpid(-1, &ws, WNOHANG)) > 0)
				if (w == cpid) {
					status = ws;
					done = true;
				}
		}
	}
	/* What the container leaves behind dies with it, as in a container. */
	kill(-cpid, SIGKILL);
	if (s.cgroup)
		put_file(s.cgroup, "cgroup.kill", "1");
	reap_rest();
	if (WIFSIGNALED(status))
		write_exit(&s, "signal %d", WTERMSIG(status));
	else
		write_exit(&s, "exit %d", WEXITSTATUS(status));
done:
	if (out >= 0)
		close(out);
	if (err >= 0)
		close(err);
	if (devnull >= 0)
		close(devnull);
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (s.status_fd >= 0)
		close(s.status_fd);
	release(&s);
	return 0;
}
