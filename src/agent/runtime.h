/* runtime: the agent's process runtime.  It runs the containers of ECS tasks
 * as plain processes on a libuv loop and reports every change.
 *
 * Each container process runs under a shim (rt_shim_main, in shim.c): a small
 * process in its own session that opens the log files, joins the cgroup,
 * applies the user and working directory, execs the container in its own
 * process group, forwards stop requests to that group, and writes the exit
 * status to a file.  The shim outlives the agent, so that a restarted agent
 * adopts (rt_adopt) what the previous one started: no task is lost and none
 * runs twice.  The container's process dies with its shim (SIGKILL through
 * PR_SET_PDEATHSIG): one whose shim was killed is reported STOPPED ("agent
 * lost track of the container") and must not run on unwatched.  So kill
 * containers, not shims, to clean up (their pid is the 3rd field of the
 * .pid file, and their process group id).
 *
 * Files under the data directory:
 *   run/<task-id>/state.json          the task (spec and per-container state),
 *                                      rewritten atomically on every change
 *   run/<task-id>/<name>.shim.json    what the shim runs (0600: it holds the env)
 *   run/<task-id>/<name>.pid          "<shim pid> <shim start time> <container pid>"
 *   run/<task-id>/<name>.exit         "exit N", "signal N" or "error <reason>"
 *   logs/<task-id>/<name>.stdout|.stderr   the container's output (append, 0640)
 *
 * Invariants:
 *   - one thread (the loop's) calls every rt_* function;
 *   - callbacks are never made from inside an rt_* call: rt_task_start,
 *     rt_task_stop and rt_adopt only schedule work, and every report comes
 *     from a loop callback (a task's first report is its first change after
 *     rt_task_start returned it PENDING);
 *   - a container's state is saved to disk before it is reported;
 *   - a container is launched at most once, across agent restarts: a
 *     container recorded as launched whose shim is gone is reported STOPPED,
 *     never started again.
 *
 * Statuses and reasons (ECS's, see ECS-SEMANTICS.md §5):
 *   container PENDING -> RUNNING -> STOPPED.  An exit is exitCode N, no
 *   reason.  Death by signal N is exitCode 128+N (as Docker reports it) with
 *   reason "Killed by signal N (SIGNAME)", or "OutOfMemoryError: Container
 *   killed due to memory usage" when the cgroup's OOM killer did it.  A
 *   container that never ran has no exitCode and a reason: "CannotStartContainerError: ...",
 *   "DependencyConditionNotMet: ...", "Task stopped before the container started",
 *   or "agent lost track of the container" (its shim died without a word).
 *   task PENDING -> RUNNING (every essential container RUNNING) -> STOPPED
 *   (every container STOPPED).  A stop begins when an essential container
 *   stops ("Essential container in task exited", or the container's reason
 *   when it never ran) or on rt_task_stop; from then `desired` is STOPPED
 *   and each running container gets SIGTERM to its process group, then
 *   SIGKILL after its stopTimeout.  Host ports are held until STOPPED.
 */
#ifndef BERTH_AGENT_RUNTIME_H
#define BERTH_AGENT_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "lib/err.h"

enum rt_status { RT_PENDING, RT_RUNNING, RT_STOPPED };
enum rt_health { RT_HEALTH_UNKNOWN, RT_HEALTHY, RT_UNHEALTHY };
enum rt_dep_cond { RT_DEP_START, RT_DEP_COMPLETE, RT_DEP_SUCCESS, RT_DEP_HEALTHY };
/* Why a task stopped; the names are ECS's stopCode values. */
enum rt_stop_cause {
	RT_STOP_NONE,
	RT_STOP_REQUESTED,          /* rt_task_stop: "UserInitiated" */
	RT_STOP_ESSENTIAL_EXITED,   /* "EssentialContainerExited" */
	RT_STOP_FAILED_TO_START,    /* "TaskFailedToStart" */
};
/* struct err codes set by this module. */
enum rt_err_code {
	RT_ERR_INVALID = 1,   /* a bad spec */
	RT_ERR_CONFLICT,      /* duplicate task id, host port in use */
	RT_ERR_SYSTEM,        /* the data directory cannot be written */
};

/* "PENDING", "RUNNING", "STOPPED"; "UNKNOWN", "HEALTHY", "UNHEALTHY";
 * "START", ...; "UserInitiated", ... (NULL for RT_STOP_NONE). */
const char *rt_status_name(enum rt_status s);
const char *rt_health_name(enum rt_health h);
const char *rt_dep_cond_name(enum rt_dep_cond c);
const char *rt_stop_cause_name(enum rt_stop_cause c);

/* A Docker-style health check.  Times are milliseconds (the JSON gives
 * seconds, fractions allowed). */
struct rt_health_spec {
	char **cmd;            /* ["CMD-SHELL", "line"] or ["CMD", "prog", "arg"...] */
	size_t n_cmd;
	int interval_ms;       /* default 30 s */
	int timeout_ms;        /* default 5 s */
	int retries;           /* default 3 */
	int start_period_ms;   /* default 0 */
};

struct rt_dep {
	char *container;
	enum rt_dep_cond cond;
};

struct rt_port {
	int container_port;
	int host_port;         /* == container_port unless the mapping gave one */
	bool udp;
};

struct rt_container_spec {
	char *name;            /* [A-Za-z0-9_-]{1,255}, unique in the task */
	char **argv;           /* entryPoint ++ command; argc 0 fails to start */
	size_t argc;
	char **env;            /* "K=V"; the process gets only these, plus PATH
				  and HOME when they are not given */
	size_t n_env;
	char *workdir;         /* NULL: the shim's (/) ; must exist */
	char *user;            /* NULL, "name", "uid", "uid:gid", "name:group" */
	bool essential;
	struct rt_dep *deps;
	size_t n_deps;
	struct rt_health_spec *health;   /* NULL: none */
	int stop_timeout_ms;   /* SIGTERM, then SIGKILL after this; default 30 s */
	long cpu;              /* CPU units (1024 = a core), 0: none -> cpu.weight */
	long memory_mib;       /* hard limit, 0: none -> memory.max */
	long memory_reservation_mib;   /* soft, 0: none -> memory.low */
	struct rt_port *ports;
	size_t n_ports;
};

struct rt_task_spec {
	char *id;              /* the task id (last part of the ARN): [A-Za-z0-9_.-]+ */
	char *arn;             /* may be NULL */
	struct rt_container_spec *containers;
	size_t n;
	long cpu, memory_mib;  /* task-level limits (cpu.max, memory.max), 0: none */
};

struct rt_cpriv;
struct rt_tpriv;

/* A container's observed state.  Read it; the runtime writes it. */
struct rt_container {
	enum rt_status status;
	bool has_exit;
	int exit_code;         /* valid when has_exit */
	char *reason;          /* NULL or why it stopped / never ran */
	enum rt_health health; /* UNKNOWN without a health check */
	int pid;               /* the container's process (and group) id, 0 unknown */
	int shim_pid;          /* 0 before launch */
	int64_t started_at, stopped_at;   /* ms since the epoch, 0: not yet */
	char *notes;           /* NULL or "; "-separated notes for the caller to
				  report, e.g. "limits not enforced: ...",
				  "user not applied: agent is not root" */
	struct rt_cpriv *priv;
};

struct rt_task {
	struct rt_task_spec spec;
	enum rt_status status;
	enum rt_status desired;          /* RT_RUNNING, RT_STOPPED once a stop began */
	enum rt_stop_cause stop_cause;
	char *stopped_reason;            /* set when the stop begins */
	enum rt_health health;           /* UNHEALTHY if an essential container is,
					    HEALTHY if all essential ones with a
					    check are, else UNKNOWN */
	int64_t created_at, started_at, stopping_at, stopped_at;   /* ms, 0: not yet */
	struct rt_container *c;          /* spec.n of them, in spec order */
	struct rt_tpriv *priv;
};

struct rt_config {
	const char *data_dir;      /* required; created if missing */
	const char *shim_exe;      /* required: absolute path of the shim program */
	const char *shim_arg0;     /* its first argument, e.g. "shim"; NULL: none */
	const char *cgroup_root;   /* a cgroup v2 directory; NULL: /sys/fs/cgroup or
				      /sys/fs/cgroup/unified, whichever is cgroup2 */
	bool no_cgroups;           /* never use cgroups (limits are noted as not enforced) */
	bool sync_state;           /* fsync state files: survive power loss, not only agent crashes */
	int64_t (*now_ms)(void);   /* NULL: the wall clock */
};

struct rt;

/* Called on the loop thread.  on_task: the task's status or health changed.
 * on_container: container `index`'s status, exit code, reason, health or
 * notes changed.  Container reports of one change come before the task's.
 * A callback may call rt_task_stop, rt_task_forget and rt_close. */
typedef void (*rt_task_cb)(void *arg, struct rt_task *t);
typedef void (*rt_container_cb)(void *arg, struct rt_task *t, size_t index);

/* A runtime on `loop`; the strings of cfg are copied.  NULL (with a log line)
 * when the data directory cannot be created. */
struct rt *rt_new(uv_loop_t *loop, const struct rt_config *cfg, rt_task_cb on_task,
		  rt_container_cb on_container, void *arg);

/* Reload every task under <data>/run (call once, after rt_new and before
 * rt_task_start).  Live shims are watched again; dead ones' exit files are
 * read (on the loop, then reported); pending containers start when their
 * dependencies allow; stops in progress are resumed with a fresh SIGTERM and
 * stopTimeout; health checks restart (the start period still counts from
 * the container's start).  Returns how many tasks were adopted, or a
 * negative errno when <data>/run cannot be read. */
int rt_adopt(struct rt *rt);

/* Start a task: the spec is checked and copied (the caller keeps its own).
 * Returns the task, PENDING; containers are launched from the loop.  NULL
 * with e set when the spec is invalid (RT_ERR_INVALID), a task with this id
 * is known (RT_ERR_CONFLICT, "task <id> already exists": callers dedupe with
 * rt_task_find), a host port is held by another task that is not STOPPED
 * (RT_ERR_CONFLICT, "port 8080 is in use by task <id>"), or the state
 * cannot be saved (RT_ERR_SYSTEM). */
struct rt_task *rt_task_start(struct rt *rt, const struct rt_task_spec *spec, struct err *e);

/* The task with this id, or NULL.  Borrowed: valid until it is forgotten. */
struct rt_task *rt_task_find(struct rt *rt, const char *id);

/* Begin stopping the task; reason NULL means "Task stopped by user".  No-op
 * for a task that is stopping or STOPPED (the first reason stays). */
void rt_task_stop(struct rt *rt, struct rt_task *t, const char *reason);

/* Drop a STOPPED task (once its stop was reported): its run directory is
 * removed (the logs stay) and the pointer becomes invalid after the current
 * loop callback.  Returns -1, doing nothing, when the task is not STOPPED. */
int rt_task_forget(struct rt *rt, struct rt_task *t);

/* Every known task (any status), in start/adoption order.  The array is
 * borrowed until the next rt_task_start, rt_task_forget or rt_close. */
size_t rt_tasks(struct rt *rt, struct rt_task ***out);

/* Stop watching: close every handle and free everything, then call done
 * (from the loop; run it until then).  The shims are NOT signalled: their
 * containers keep running for the next agent's rt_adopt.  Health check
 * processes (children of this agent) are killed. */
void rt_close(struct rt *rt, void (*done)(void *), void *arg);

/* --- specs --- */

/* Parse the task the control plane sends (an ECS task with its task
 * definition's containerDefinitions; see docs/agent-protocol.md):
 * {"taskArn","id","cpu","memory","containers":[{"name","entryPoint","command",
 * "environment":[{"name","value"}],"workingDirectory","user","essential",
 * "dependsOn":[{"containerName","condition"}],"healthCheck":{"command",
 * "interval","timeout","retries","startPeriod"},"stopTimeout","cpu","memory",
 * "memoryReservation","portMappings":[{"containerPort","hostPort","protocol"}]}]}.
 * JSON null means absent.  "id" defaults to the ARN's last part.  argv is
 * entryPoint ++ command.  Times are seconds (fractions allowed).  A health
 * check command ["NONE"] means none.  Returns 0, or -1 with e
 * (RT_ERR_INVALID) and nothing to release. */
int rt_spec_from_json(const cJSON *task, struct rt_task_spec *out, struct err *e);

/* The spec in the shape rt_spec_from_json reads (argv as "command"): the two
 * round-trip.  Caller owns the result. */
cJSON *rt_spec_to_json(const struct rt_task_spec *s);

/* Check a spec as rt_task_start does: 0, or -1 with e (RT_ERR_INVALID). */
int rt_spec_check(const struct rt_task_spec *s, struct err *e);

/* Deep copy; release what dst held with rt_spec_release. */
void rt_spec_copy(struct rt_task_spec *dst, const struct rt_task_spec *src);

/* Free what the spec owns (not the struct itself) and zero it. */
void rt_spec_release(struct rt_task_spec *s);

/* --- the shim --- */

/* The shim's main: the agent's main (and the tests) call it when argv[1] is
 * the configured shim_arg0.  The last argument is the path of the shim spec
 * written by the runtime.  Returns the process exit code. */
int rt_shim_main(int argc, char **argv);

#endif
