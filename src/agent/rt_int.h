/* rt_int: what the runtime's files share and nobody else sees.
 *
 * runtime.c   tasks, containers, their state machine, health checks, reports
 * rt_spec.c   specs: check, copy, release, JSON in and out
 * rt_state.c  files: atomic writes, state.json save and load, adoption,
 *             /proc start times, user lookup
 * rt_cgroup.c cgroup v2 limits
 * shim.c      the shim process
 *
 * Every libuv handle of a task lives inside its task (struct rt_tpriv /
 * struct rt_cpriv); n_open counts the ones not yet closed.  A dying task
 * (forgotten, or the runtime closing) is freed when its count reaches 0, and
 * the runtime calls its close callback when no dying task is left. */
#ifndef BERTH_AGENT_RT_INT_H
#define BERTH_AGENT_RT_INT_H

#include <sys/types.h>

#include "agent/runtime.h"

/* The shim's exit-file words and the status lines it sends on fd 3. */
#define RT_SHIM_STATUS_FD 3

struct rt {
	uv_loop_t *loop;
	char *data_dir, *shim_exe, *shim_arg0;
	char *cg_root;          /* NULL: no usable cgroup v2 hierarchy */
	char *cg_why;           /* why not, when cg_root is NULL */
	int64_t (*now_ms)(void);
	rt_task_cb on_task;
	rt_container_cb on_container;
	void *arg;
	bool root;              /* euid 0: users are applied */
	struct rt_task **tasks;
	size_t n_tasks, cap_tasks;
	size_t n_dying;         /* tasks whose handles are still closing */
	uv_timer_t idle;        /* the runtime's own handle: closing it ends rt_close */
	bool idle_open;
	bool closing;
	void (*close_done)(void *);
	void *close_arg;
};

struct rt_cpriv {
	struct rt_task *t;
	size_t i;
	bool dirty;             /* changed since its last report */
	bool launched;          /* a shim was (or may have been) spawned */
	bool ok;                /* the container process is known to have started */
	bool shim_gone;         /* the shim exited (finish once the pipe is closed too) */
	int64_t shim_start;     /* the shim's start time, /proc/<pid>/stat field 22 */
	int pidfd;
	bool poll_open;
	uv_poll_t poll;
	bool pipe_open;
	uv_pipe_t pipe;         /* the shim's status lines */
	char line[1024];
	size_t n_line;
	bool proc_open;
	uv_process_t proc;      /* the shim as spawned; closed at once (pidfd watches it) */
	uv_timer_t kill_timer;
	int kill_stage;         /* 0, 1 SIGTERM sent, 2 SIGKILL asked, 3 shim SIGKILLed */
	char *cgroup;           /* the container's cgroup directory, or NULL */
	/* health checks */
	uv_timer_t hc_timer, hc_timeout;
	uv_process_t hc_proc;
	bool hc_running, hc_timed_out, hc_succeeded;
	int hc_fails;
};

struct rt_tpriv {
	struct rt *rt;
	uv_timer_t kick;        /* runs advance() from the loop */
	int n_open;
	bool dying;
	bool status_dirty;      /* status or health changed since the last on_task */
	char *run_dir, *log_dir;
};

/* runtime.c */
int64_t rt_now(struct rt *rt);
struct rt_task *rt_task_new(struct rt *rt, const struct rt_task_spec *spec);
void rt_task_add(struct rt *rt, struct rt_task *t);
void rt_kick(struct rt_task *t);
void rt_note(struct rt_container *c, const char *note);
/* Start watching an adopted live shim through its pidfd. */
void rt_watch_shim(struct rt_task *t, size_t i, int pidfd);
void rt_health_arm(struct rt_task *t, size_t i);

/* rt_spec.c */
char *rt_task_dir(const struct rt *rt, const char *sub, const char *id);
bool rt_name_ok(const char *s, bool dots);

/* rt_state.c */
/* Write data to path through a temporary file, fsync and rename (and fsync
 * the directory).  0 or -errno. */
int rt_write_atomic(const char *path, const char *data, size_t n, mode_t mode);
/* fsync every write (rt_config.sync_state). */
void rt_state_set_sync(bool on);
/* The whole file, NUL-terminated, or NULL (errno set). */
char *rt_read_file(const char *path);
int rt_mkdirs(const char *path, mode_t mode);
/* /proc/<pid>/stat's start time (clock ticks since boot), or -1. */
int64_t rt_proc_start_time(int pid);
/* Save the task's state.json; logs a warning on failure.  0 or -errno. */
int rt_state_save(struct rt_task *t);
/* Remove the run directory and what is in it. */
void rt_state_remove(struct rt_task *t);

struct rt_user {
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	size_t n_groups;
	char *home;
};
/* Resolve "name", "uid", "uid:gid", "name:group" as Docker does.  0, or -1
 * with *why (heap) set.  Release with rt_user_release. */
int rt_user_resolve(const char *spec, struct rt_user *u, char **why);
void rt_user_release(struct rt_user *u);

/* rt_cgroup.c */
/* Find the hierarchy: sets rt->cg_root or rt->cg_why. */
void rt_cgroup_probe(struct rt *rt, const char *configured, bool disabled);
/* Make the container's cgroup when the task or container asks for limits.
 * Returns its directory (heap), or NULL: no limits asked (no note), or
 * not enforceable (*note set, heap). */
char *rt_cgroup_setup(struct rt *rt, const struct rt_task *t, size_t i, char **note);
/* Did the OOM killer act in this cgroup? */
bool rt_cgroup_oom(const char *dir);
void rt_cgroup_remove_container(const char *dir);
void rt_cgroup_remove_task(struct rt *rt, const struct rt_task *t);

#endif
