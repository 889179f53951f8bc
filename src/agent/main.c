/* berth-agent: run the tasks berthd places on this host as processes.
 *
 *	berth-agent --endpoint URL [--cluster NAME] [--data-dir DIR] [--region R]
 *	            [--cpu UNITS] [--memory MIB] [--zone Z] [--identity-document JSON]
 *	            [--access-key-id K --secret-access-key S] [--no-cgroups]
 *	            [--log-level L]
 *
 * The protocol is docs/agent-protocol.md.  Two threads:
 *   - the loop (libuv) owns the runtime (runtime.h): it registers the host,
 *     applies berthd's answers (start, stop, forget tasks), and reports
 *     every change with SubmitTaskStateChange / SubmitContainerStateChange
 *     (one attempt each; a lost report is repaired by the next poll, which
 *     carries the state of every task) and a report poll (waitSeconds 0)
 *     when a health status changes;
 *   - the poller holds the AgentPoll long poll (20 s) open with the latest
 *     snapshot the loop made, and hands each answer to the loop; it retries
 *     with backoff while berthd is away.
 * A task berthd does not list is stopped only when it started before the
 * poll that omits it was sent, so a stale answer never stops a task a newer
 * answer started.
 *
 * SIGTERM / SIGINT stop the agent, not its tasks: their shims keep them
 * running and the next agent adopts them (rt_adopt) before it polls. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>
#include <uv.h>

#include "agent/client.h"
#include "agent/host.h"
#include "agent/runtime.h"
#include "lib/log.h"
#include "lib/xalloc.h"

#define POLL_WAIT_S    20
#define POLL_TIMEOUT   ((POLL_WAIT_S + 10) * 1000L)
#define REPORT_TIMEOUT 5000L

struct opts {
	const char *endpoint, *cluster, *data_dir, *region, *zone, *identity;
	const char *access_key_id, *secret_access_key, *log_level;
	int cpu;
	long memory;
	bool no_cgroups;
	bool sync_state;
	bool exit_stops_tasks;    /* an instance going away: its tasks stop with the agent */
	const char *task_arn;     /* --task-arn: run this one (Fargate) task, no instance; exit after it */
	int protocol;             /* the protocol version spoken (tests set another) */
};

struct agent {
	struct opts o;
	uv_loop_t loop;
	uv_async_t wake;
	uv_signal_t sigterm, sigint;
	uv_timer_t ending;             /* --exit-stops-tasks: waits for the tasks to stop */
	int64_t ending_since;
	bool listed_none;              /* berthd's last answer listed no task */
	bool dirty;                    /* the tasks changed since the last snapshot */
	uv_check_t turn_end;           /* publishes the snapshot when dirty */
	struct rt *rt;
	struct agent_client *report;   /* the loop's */
	char *instance_arn;
	char cluster[256];
	/* shared with the poller (mu) */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char *snapshot;                /* the "tasks" array the next poll sends */
	cJSON *answer;                 /* the newest answer not yet applied */
	int64_t answer_sent_at;        /* when its request left */
	char *fatal;                   /* the poller stops the agent with this */
	bool stopping;
	char **acked;                  /* ids of STOPPED tasks berthd acknowledged */
	size_t n_acked, cap_acked;
	pthread_t poller;
	struct reporter *reporters;
	int exit_code;
};

/* Reports leave the loop through a few reporter threads, each with its own
 * keep-alive connection: the loop never waits for berthd (whose answers
 * wait for a durable commit), and concurrent reports share berthd's group
 * commits.  A task's reports always go through the same reporter, so they
 * arrive in order. */
#define REPORTERS 4

struct job {
	struct job *next;
	char target[96];
	cJSON *body;
	char *task_id;                 /* forget this task once acknowledged, or NULL */
	bool poll;                     /* an AgentPoll whose answer is applied */
};

struct reporter {
	struct agent *a;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job *head, *tail;
	bool stop;
};

static int64_t now_ms(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* ---- what the agent runs, as berthd reads it ---- */

static const char *task_arn(const struct rt_task *t)
{
	return t->spec.arn ? t->spec.arn : t->spec.id;
}

static cJSON *container_json(const struct rt_task *t, size_t i, bool ecs_names)
{
	const struct rt_container *c = &t->c[i];
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, ecs_names ? "containerName" : "name", t->spec.containers[i].name);
	cJSON_AddStringToObject(o, ecs_names ? "status" : "lastStatus", rt_status_name(c->status));
	if (c->has_exit)
		cJSON_AddNumberToObject(o, "exitCode", c->exit_code);
	if (c->reason)
		cJSON_AddStringToObject(o, "reason", c->reason);
	if (c->pid) {
		char pid[24];
		snprintf(pid, sizeof pid, "%d", c->pid);
		cJSON_AddStringToObject(o, "runtimeId", pid);
	}
	if (!ecs_names && c->health != RT_HEALTH_UNKNOWN)
		cJSON_AddStringToObject(o, "healthStatus", rt_health_name(c->health));
	return o;
}

static char *snapshot(struct agent *a)
{
	struct rt_task **v;
	size_t n = rt_tasks(a->rt, &v);
	cJSON *list = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "taskArn", task_arn(v[i]));
		cJSON_AddStringToObject(o, "lastStatus", rt_status_name(v[i]->status));
		cJSON_AddStringToObject(o, "desiredStatus", rt_status_name(v[i]->desired));
		if (v[i]->stopped_reason)
			cJSON_AddStringToObject(o, "stoppedReason", v[i]->stopped_reason);
		cJSON *cs = cJSON_AddArrayToObject(o, "containers");
		for (size_t k = 0; k < v[i]->spec.n; k++)
			cJSON_AddItemToArray(cs, container_json(v[i], k, false));
		cJSON_AddItemToArray(list, o);
	}
	char *s = cJSON_PrintUnformatted(list);
	cJSON_Delete(list);
	return s;
}

/* Publish the current snapshot for the poller. */
static void publish_now(struct agent *a)
{
	char *s = snapshot(a);
	pthread_mutex_lock(&a->mu);
	free(a->snapshot);
	a->snapshot = s;
	pthread_mutex_unlock(&a->mu);
	a->dirty = false;
}

/* The snapshot changed: it is made again once, at the end of this loop
 * turn (a start of 100 tasks is hundreds of changes in a few turns). */
static void publish(struct agent *a)
{
	a->dirty = true;
}

static void on_turn_end(uv_check_t *h)
{
	struct agent *a = h->data;
	if (a->dirty)
		publish_now(a);
}

static cJSON *poll_body(struct agent *a, const char *tasks, int wait)
{
	cJSON *b = cJSON_CreateObject();
	cJSON_AddNumberToObject(b, "protocolVersion", a->o.protocol);
	cJSON_AddStringToObject(b, "cluster", a->cluster);
	if (a->o.task_arn)
		cJSON_AddStringToObject(b, "task", a->o.task_arn);
	else
		cJSON_AddStringToObject(b, "containerInstance", a->instance_arn);
	cJSON_AddNumberToObject(b, "waitSeconds", wait);
	cJSON *t = cJSON_Parse(tasks ? tasks : "[]");
	cJSON_AddItemToObject(b, "tasks", t ? t : cJSON_CreateArray());
	return b;
}

/* ---- reports ---- */

static unsigned pick(const char *id)
{
	unsigned h = 2166136261u;
	for (; id && *id; id++)
		h = (h ^ (unsigned char)*id) * 16777619u;
	return h % REPORTERS;
}

static void enqueue(struct agent *a, unsigned i, const char *action, cJSON *body, const char *forget, bool poll)
{
	struct job *j = xcalloc(1, sizeof *j);
	snprintf(j->target, sizeof j->target, "%s%s", poll ? AGENT_TARGET_BERTH : AGENT_TARGET_ECS, action);
	j->body = body;
	j->task_id = forget ? xstrdup(forget) : NULL;
	j->poll = poll;
	struct reporter *r = &a->reporters[i];
	pthread_mutex_lock(&r->mu);
	if (r->tail)
		r->tail->next = j;
	else
		r->head = j;
	r->tail = j;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

/* An answer for the loop: the newest one wins (by the time its request left). */
static void hand_answer(struct agent *a, cJSON *out, int64_t sent)
{
	pthread_mutex_lock(&a->mu);
	if (!a->answer || sent >= a->answer_sent_at) {
		cJSON_Delete(a->answer);
		a->answer = out;
		a->answer_sent_at = sent;
	} else {
		cJSON_Delete(out);
	}
	uv_async_send(&a->wake);
	pthread_mutex_unlock(&a->mu);
}

static void *reporter(void *arg)
{
	struct reporter *r = arg;
	struct agent *a = r->a;
	struct agent_client_cfg cc = {a->o.endpoint, a->o.region, a->o.access_key_id, a->o.secret_access_key};
	struct err e;
	err_clear(&e);
	struct agent_client *c = agent_client_new(&cc, &e);
	pthread_mutex_lock(&r->mu);
	for (;;) {
		while (!r->head && !r->stop)
			pthread_cond_wait(&r->cv, &r->mu);
		if (!r->head)
			break;
		struct job *j = r->head;
		r->head = j->next;
		if (!r->head)
			r->tail = NULL;
		pthread_mutex_unlock(&r->mu);
		cJSON *out = NULL;
		err_clear(&e);
		int64_t sent = now_ms();
		int rc = c ? agent_call(c, j->target, j->body, REPORT_TIMEOUT, j->poll ? &out : NULL, &e) : -1;
		if (rc) {
			log_warn("%s failed (the next poll repairs it): %s", j->target, e.msg);
		} else if (j->poll) {
			hand_answer(a, out, sent);
			out = NULL;
		} else if (j->task_id) {
			pthread_mutex_lock(&a->mu);
			if (a->n_acked == a->cap_acked) {
				a->cap_acked = a->cap_acked ? 2 * a->cap_acked : 16;
				a->acked = xrealloc(a->acked, a->cap_acked * sizeof *a->acked);
			}
			a->acked[a->n_acked++] = j->task_id;
			j->task_id = NULL;
			uv_async_send(&a->wake);
			pthread_mutex_unlock(&a->mu);
		}
		cJSON_Delete(out);
		cJSON_Delete(j->body);
		free(j->task_id);
		free(j);
		pthread_mutex_lock(&r->mu);
	}
	pthread_mutex_unlock(&r->mu);
	agent_client_free(c);
	return NULL;
}

static void on_container(void *arg, struct rt_task *t, size_t i)
{
	struct agent *a = arg;
	const struct rt_container *c = &t->c[i];
	if (c->status == RT_RUNNING && c->notes) /* e.g. limits this host cannot enforce */
		log_info("task %s container %s: %s", t->spec.id, t->spec.containers[i].name, c->notes);
	if (c->status != RT_PENDING) {
		cJSON *b = container_json(t, i, true);
		cJSON_AddStringToObject(b, "cluster", a->cluster);
		cJSON_AddStringToObject(b, "task", task_arn(t));
		enqueue(a, pick(t->spec.id), "SubmitContainerStateChange", b, NULL, false);
	}
	publish(a);
}

static void apply(struct agent *a, cJSON *answer, int64_t sent_at);
static void finish(struct agent *a);

/* A poll with waitSeconds 0: the report of a health change (no ECS call
 * carries health), whose answer is applied like any other. */
static void report_poll(struct agent *a)
{
	char *tasks = snapshot(a);
	enqueue(a, 0, "AgentPoll", poll_body(a, tasks, 0), NULL, true);
	free(tasks);
}

/* The same, waited for: the first word after a start (a full resync, and
 * the protocol check).  Returns 0, or -1 when berthd refused it. */
static int first_poll(struct agent *a)
{
	char *tasks = snapshot(a);
	cJSON *b = poll_body(a, tasks, 0), *out = NULL;
	free(tasks);
	struct err e;
	err_clear(&e);
	int64_t sent = now_ms();
	int rc = 0;
	if (agent_call(a->report, AGENT_TARGET_BERTH "AgentPoll", b, REPORT_TIMEOUT, &out, &e) == 0) {
		apply(a, out, sent);
	} else if (!agent_err_retryable(e.code)) {
		log_error("berthd refused the poll: %s", e.msg);
		rc = -1;
	} else {
		log_warn("first poll failed (the poller retries): %s", e.msg);
	}
	cJSON_Delete(out);
	cJSON_Delete(b);
	return rc;
}

static void on_task(void *arg, struct rt_task *t)
{
	struct agent *a = arg;
	publish(a);
	if (t->status == RT_PENDING) {
		if (t->health != RT_HEALTH_UNKNOWN)
			report_poll(a); /* a health change while starting */
		return;
	}
	cJSON *b = cJSON_CreateObject();
	cJSON_AddStringToObject(b, "cluster", a->cluster);
	cJSON_AddStringToObject(b, "task", task_arn(t));
	cJSON_AddStringToObject(b, "status", rt_status_name(t->status));
	if (t->status == RT_STOPPED && t->stopped_reason)
		cJSON_AddStringToObject(b, "reason", t->stopped_reason);
	cJSON *cs = cJSON_AddArrayToObject(b, "containers");
	for (size_t i = 0; i < t->spec.n; i++)
		cJSON_AddItemToArray(cs, container_json(t, i, true));
	bool stopped = t->status == RT_STOPPED;
	/* Once berthd has a STOPPED task, there is nothing more to say of it. */
	enqueue(a, pick(t->spec.id), "SubmitTaskStateChange", b, stopped ? t->spec.id : NULL, false);
	if (!stopped && t->health != RT_HEALTH_UNKNOWN)
		report_poll(a);
}

/* ---- berthd's answers (loop thread) ---- */

static const cJSON *listed(const cJSON *tasks, const char *arn)
{
	const cJSON *t;
	cJSON_ArrayForEach(t, tasks)
	{
		const cJSON *x = cJSON_GetObjectItemCaseSensitive(t, "taskArn");
		if (cJSON_IsString(x) && strcmp(x->valuestring, arn) == 0)
			return t;
	}
	return NULL;
}

static void refuse_task(struct agent *a, const cJSON *spec, const char *why)
{
	const cJSON *arn = cJSON_GetObjectItemCaseSensitive(spec, "taskArn");
	if (!cJSON_IsString(arn))
		return;
	char reason[ERR_MSG_MAX + 64];
	snprintf(reason, sizeof reason, "CannotStartContainerError: %s", why);
	log_warn("task %s refused: %s", arn->valuestring, why);
	cJSON *b = cJSON_CreateObject();
	cJSON_AddStringToObject(b, "cluster", a->cluster);
	cJSON_AddStringToObject(b, "task", arn->valuestring);
	cJSON_AddStringToObject(b, "status", "STOPPED");
	cJSON_AddStringToObject(b, "reason", reason);
	enqueue(a, pick(arn->valuestring), "SubmitTaskStateChange", b, NULL, false);
}

static void apply(struct agent *a, cJSON *answer, int64_t sent_at)
{
	const cJSON *pv = cJSON_GetObjectItemCaseSensitive(answer, "protocolVersion");
	if (!cJSON_IsNumber(pv) || pv->valuedouble != a->o.protocol) {
		log_error("berthd speaks protocol %g; this berth-agent speaks %d: run matching versions",
			  cJSON_IsNumber(pv) ? pv->valuedouble : 0.0, a->o.protocol);
		a->exit_code = 2;
		uv_stop(&a->loop);
		return;
	}
	const cJSON *tasks = cJSON_GetObjectItemCaseSensitive(answer, "tasks"), *t;
	a->listed_none = cJSON_GetArraySize(tasks) == 0;
	cJSON_ArrayForEach(t, tasks)
	{
		const cJSON *spec = cJSON_GetObjectItemCaseSensitive(t, "spec");
		const cJSON *desired = cJSON_GetObjectItemCaseSensitive(t, "desiredStatus");
		const cJSON *reason = cJSON_GetObjectItemCaseSensitive(t, "stopReason");
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(spec, "id");
		if (!cJSON_IsString(id) || !cJSON_IsString(desired))
			continue;
		struct rt_task *rt = rt_task_find(a->rt, id->valuestring);
		if (strcmp(desired->valuestring, "STOPPED") == 0) {
			if (rt)
				rt_task_stop(a->rt, rt, cJSON_IsString(reason) ? reason->valuestring : NULL);
			continue;
		}
		if (rt)
			continue; /* running, or started already: never twice */
		struct rt_task_spec s;
		struct err e;
		err_clear(&e);
		if (rt_spec_from_json(spec, &s, &e)) {
			refuse_task(a, spec, e.msg);
			continue;
		}
		if (!rt_task_start(a->rt, &s, &e))
			refuse_task(a, spec, e.msg);
		else
			log_info("task %s started", s.id);
		rt_spec_release(&s);
	}
	/* What berthd no longer lists. */
	struct rt_task **v;
	size_t n = rt_tasks(a->rt, &v);
	struct rt_task **gone = xcalloc(n + 1, sizeof *gone);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (!listed(tasks, task_arn(v[i])) && v[i]->created_at < sent_at)
			gone[k++] = v[i];
	for (size_t i = 0; i < k; i++) {
		if (gone[i]->status == RT_STOPPED)
			rt_task_forget(a->rt, gone[i]);
		else
			rt_task_stop(a->rt, gone[i], "Task not known to berthd");
	}
	free(gone);
	publish(a);
}

/* --task-arn: once berthd lists nothing and the runtime holds nothing,
 * the task is over and so is the agent. */
static void task_mode_done(struct agent *a)
{
	struct rt_task **v;
	if (a->o.task_arn && a->listed_none && rt_tasks(a->rt, &v) == 0) {
		log_info("task %s is over", a->o.task_arn);
		uv_stop(&a->loop);
	}
}

/* ---- ending ---- */

#define ENDING_MAX_MS 60000

static void on_ending(uv_timer_t *h)
{
	struct agent *a = h->data;
	struct rt_task **v;
	size_t n = rt_tasks(a->rt, &v), live = 0;
	for (size_t i = 0; i < n; i++)
		live += v[i]->status != RT_STOPPED;
	if (live == 0 || now_ms() - a->ending_since > ENDING_MAX_MS) {
		uv_timer_stop(h);
		uv_stop(&a->loop);
	}
}

/* Stop the agent: at once, leaving the tasks to the next agent, or (with
 * --exit-stops-tasks: the instance itself goes away) once every task has
 * stopped, at most a minute. */
static void finish(struct agent *a)
{
	if (!a->o.exit_stops_tasks) {
		uv_stop(&a->loop);
		return;
	}
	if (a->ending_since)
		return;
	a->ending_since = now_ms();
	struct rt_task **v;
	size_t n = rt_tasks(a->rt, &v);
	for (size_t i = 0; i < n; i++)
		rt_task_stop(a->rt, v[i], "Container instance terminated");
	uv_timer_init(&a->loop, &a->ending);
	a->ending.data = a;
	uv_timer_start(&a->ending, on_ending, 0, 100);
}

static void on_wake(uv_async_t *h)
{
	struct agent *a = h->data;
	pthread_mutex_lock(&a->mu);
	cJSON *answer = a->answer;
	int64_t sent = a->answer_sent_at;
	char *fatal = a->fatal;
	a->answer = NULL;
	a->fatal = NULL;
	char **acked = a->acked;
	size_t n_acked = a->n_acked;
	a->acked = NULL;
	a->n_acked = a->cap_acked = 0;
	pthread_mutex_unlock(&a->mu);
	for (size_t i = 0; i < n_acked; i++) {
		struct rt_task *t = rt_task_find(a->rt, acked[i]);
		if (t && t->status == RT_STOPPED)
			rt_task_forget(a->rt, t);
		free(acked[i]);
	}
	free(acked);
	if (answer)
		apply(a, answer, sent);
	cJSON_Delete(answer);
	task_mode_done(a);
	if (fatal) {
		log_error("%s", fatal);
		free(fatal);
		a->exit_code = 2;
		finish(a);
	}
}

/* ---- the poller thread ---- */

static void *poller(void *arg)
{
	struct agent *a = arg;
	struct agent_client_cfg cc = {a->o.endpoint, a->o.region, a->o.access_key_id, a->o.secret_access_key};
	struct err e;
	err_clear(&e);
	struct agent_client *c = agent_client_new(&cc, &e);
	int attempt = 0;
	pthread_mutex_lock(&a->mu);
	while (c && !a->stopping) {
		char *tasks = xstrdup(a->snapshot ? a->snapshot : "[]");
		pthread_mutex_unlock(&a->mu);
		cJSON *b = poll_body(a, tasks, POLL_WAIT_S), *out = NULL;
		free(tasks);
		int64_t sent = now_ms();
		err_clear(&e);
		int rc = agent_call(c, AGENT_TARGET_BERTH "AgentPoll", b, POLL_TIMEOUT, &out, &e);
		cJSON_Delete(b);
		pthread_mutex_lock(&a->mu);
		if (rc == 0) {
			attempt = 0;
			pthread_mutex_unlock(&a->mu);
			hand_answer(a, out, sent);
			pthread_mutex_lock(&a->mu);
		} else if (!agent_err_retryable(e.code)) {
			/* A refusal: a version mismatch, the instance deregistered. */
			a->fatal = xasprintf("berthd refused the poll: %s", e.msg);
			uv_async_send(&a->wake);
			break;
		} else {
			struct timespec until;
			long ms = agent_backoff_ms(attempt++);
			log_warn("poll failed (retrying in %ld ms): %s", ms, e.msg);
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += ms / 1000;
			until.tv_nsec += (ms % 1000) * 1000000L;
			if (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
			if (!a->stopping)
				pthread_cond_timedwait(&a->cv, &a->mu, &until);
		}
	}
	pthread_mutex_unlock(&a->mu);
	agent_client_free(c);
	return NULL;
}

/* ---- start and stop ---- */

static void on_signal(uv_signal_t *h, int signum)
{
	struct agent *a = h->data;
	log_info("signal %d: stopping (%s)", signum,
		 a->o.exit_stops_tasks ? "its tasks stop too" : "tasks keep running for the next agent");
	finish(a);
}

static int register_host(struct agent *a)
{
	struct agent_host h;
	struct err e;
	err_clear(&e);
	if (agent_host_probe(&h, &e)) {
		log_error("cannot probe the host: %s", e.msg);
		return -1;
	}
	struct agent_state st;
	memset(&st, 0, sizeof st);
	bool known = agent_state_load(a->o.data_dir, &st) == 0 && strcmp(st.cluster, a->cluster) == 0 &&
		     st.container_instance_arn[0];
	struct agent_reg_opts ro = {
		.cluster = a->cluster, .instance_arn = known ? st.container_instance_arn : NULL,
		.cpu_units = a->o.cpu, .memory_mib = a->o.memory, .zone = a->o.zone,
		.identity_document = a->o.identity,
	};
	for (int attempt = 0;; attempt++) {
		char *arn = NULL;
		err_clear(&e);
		if (agent_register(a->report, &h, &ro, &arn, &e) == 0) {
			a->instance_arn = arn;
			break;
		}
		if (ro.instance_arn && !agent_err_retryable(e.code)) {
			log_warn("re-registration refused (%s): registering anew", e.msg);
			ro.instance_arn = NULL;
			continue;
		}
		if (!agent_err_retryable(e.code)) {
			log_error("registration refused: %s", e.msg);
			return -1;
		}
		long ms = agent_backoff_ms(attempt);
		log_warn("registration failed (retrying in %ld ms): %s", ms, e.msg);
		usleep((useconds_t)ms * 1000);
	}
	snprintf(st.cluster, sizeof st.cluster, "%s", a->cluster);
	snprintf(st.container_instance_arn, sizeof st.container_instance_arn, "%s", a->instance_arn);
	snprintf(st.endpoint, sizeof st.endpoint, "%s", a->o.endpoint);
	if (agent_state_save(a->o.data_dir, &st))
		log_warn("cannot save %s/%s", a->o.data_dir, AGENT_STATE_FILE);
	log_info("registered %s in cluster %s (%d CPU units, %ld MiB)", a->instance_arn, a->cluster,
		 a->o.cpu > 0 ? a->o.cpu : h.cpu_units, a->o.memory > 0 ? a->o.memory : h.memory_mib);
	return 0;
}

static void usage(FILE *f)
{
	fputs("usage: berth-agent --endpoint URL [--cluster NAME] [--data-dir DIR] [--region R]\n"
	      "                   [--cpu UNITS] [--memory MIB] [--zone Z] [--identity-document JSON]\n"
	      "                   [--access-key-id K --secret-access-key S] [--no-cgroups] [--sync-state]\n"
	      "                   [--exit-stops-tasks] [--task-arn ARN] [--log-level L]\n"
	      "Credentials also come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.\n",
	      f);
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option longs[] = {
		{"endpoint", required_argument, NULL, 'e'}, {"cluster", required_argument, NULL, 'c'},
		{"data-dir", required_argument, NULL, 'd'}, {"region", required_argument, NULL, 'r'},
		{"cpu", required_argument, NULL, 'C'},       {"memory", required_argument, NULL, 'M'},
		{"zone", required_argument, NULL, 'z'},      {"identity-document", required_argument, NULL, 'i'},
		{"access-key-id", required_argument, NULL, 'a'},
		{"secret-access-key", required_argument, NULL, 's'},
		{"no-cgroups", no_argument, NULL, 'n'},      {"log-level", required_argument, NULL, 'l'},
		{"protocol-version", required_argument, NULL, 'P'},
		{"sync-state", no_argument, NULL, 'S'},
		{"exit-stops-tasks", no_argument, NULL, 'X'},
		{"task-arn", required_argument, NULL, 'T'},
		{"help", no_argument, NULL, 'h'},            {NULL, 0, NULL, 0},
	};
	*o = (struct opts){.cluster = "default", .data_dir = "./var/agent", .region = "us-east-1",
			   .log_level = "info", .protocol = AGENT_PROTOCOL_VERSION, .access_key_id = getenv("AWS_ACCESS_KEY_ID"),
			   .secret_access_key = getenv("AWS_SECRET_ACCESS_KEY")};
	int ch;
	while ((ch = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (ch) {
		case 'e': o->endpoint = optarg; break;
		case 'c': o->cluster = optarg; break;
		case 'd': o->data_dir = optarg; break;
		case 'r': o->region = optarg; break;
		case 'C': o->cpu = atoi(optarg); break;
		case 'M': o->memory = atol(optarg); break;
		case 'z': o->zone = optarg; break;
		case 'i': o->identity = optarg; break;
		case 'a': o->access_key_id = optarg; break;
		case 's': o->secret_access_key = optarg; break;
		case 'n': o->no_cgroups = true; break;
		case 'l': o->log_level = optarg; break;
		case 'P': o->protocol = atoi(optarg); break;
		case 'S': o->sync_state = true; break;
		case 'X': o->exit_stops_tasks = true; break;
		case 'T': o->task_arn = optarg; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (!o->endpoint || optind != argc) {
		usage(stderr);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "shim") == 0)
		return rt_shim_main(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	log_set_name("berth-agent");
	/* Static: the poller may still sit in a poll when main returns, and
	 * what it and the runtime hold stays reachable until the process ends. */
	static struct agent a;
	if (parse(argc, argv, &a.o))
		return 64;
	int lvl = log_level_parse(a.o.log_level);
	if (lvl < 0) {
		fprintf(stderr, "--log-level %s: expected debug, info, warn or error\n", a.o.log_level);
		return 64;
	}
	log_set_level((enum log_level)lvl);
	snprintf(a.cluster, sizeof a.cluster, "%s", a.o.cluster);
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0) {
		log_error("cannot find my own executable for the shims: %s", strerror(errno));
		return 1;
	}
	self[n] = '\0';
	pthread_mutex_init(&a.mu, NULL);
	pthread_cond_init(&a.cv, NULL);
	uv_loop_init(&a.loop);
	/* The shim: berth-shim beside this program (a small binary, quick to
	 * start), else this program's own "shim" mode. */
	char shim[PATH_MAX + 16];
	snprintf(shim, sizeof shim, "%s", self);
	char *slash = strrchr(shim, '/');
	snprintf(slash ? slash + 1 : shim, sizeof shim - (size_t)(slash ? slash + 1 - shim : 0), "berth-shim");
	bool lean = access(shim, X_OK) == 0;
	struct rt_config rc = {.data_dir = a.o.data_dir, .shim_exe = lean ? shim : self,
			       .shim_arg0 = lean ? NULL : "shim",
			       .no_cgroups = a.o.no_cgroups, .sync_state = a.o.sync_state};
	a.rt = rt_new(&a.loop, &rc, on_task, on_container, &a);
	struct agent_client_cfg cc = {a.o.endpoint, a.o.region, a.o.access_key_id, a.o.secret_access_key};
	struct err e;
	err_clear(&e);
	a.report = a.rt ? agent_client_new(&cc, &e) : NULL;
	if (!a.rt || !a.report) {
		log_error("cannot start: %s", a.rt ? e.msg : "the data directory cannot be used");
		return 1;
	}
	int adopted = rt_adopt(a.rt);
	if (adopted > 0)
		log_info("adopted %d tasks from a previous agent", adopted);
	if (a.o.task_arn) {
		/* A Fargate task's own agent: no instance to register. */
		a.instance_arn = NULL;
	} else if (register_host(&a)) {
		return 1;
	}
	publish_now(&a);
	uv_check_init(&a.loop, &a.turn_end);
	a.turn_end.data = &a;
	uv_check_start(&a.turn_end, on_turn_end);
	uv_async_init(&a.loop, &a.wake, on_wake);
	a.wake.data = &a;
	uv_signal_init(&a.loop, &a.sigterm);
	uv_signal_init(&a.loop, &a.sigint);
	a.sigterm.data = a.sigint.data = &a;
	uv_signal_start(&a.sigterm, on_signal, SIGTERM);
	uv_signal_start(&a.sigint, on_signal, SIGINT);
	a.reporters = xcalloc(REPORTERS, sizeof *a.reporters);
	for (unsigned i = 0; i < REPORTERS; i++) {
		struct reporter *r = &a.reporters[i];
		r->a = &a;
		pthread_mutex_init(&r->mu, NULL);
		pthread_cond_init(&r->cv, NULL);
		if (pthread_create(&r->th, NULL, reporter, r)) {
			log_error("cannot start a reporter thread");
			return 1;
		}
	}
	if (first_poll(&a))
		return 2;
	if (pthread_create(&a.poller, NULL, poller, &a)) {
		log_error("cannot start the poller thread");
		return 1;
	}
	uv_run(&a.loop, UV_RUN_DEFAULT);
	/* Stop: the poller may sit in a 20 s poll; it is detached rather than
	 * waited for (the process ends). */
	pthread_mutex_lock(&a.mu);
	a.stopping = true;
	pthread_cond_signal(&a.cv);
	pthread_mutex_unlock(&a.mu);
	/* The reports already queued (the tasks' last states) get a second. */
	for (unsigned i = 0; i < REPORTERS; i++) {
		struct reporter *r = &a.reporters[i];
		pthread_mutex_lock(&r->mu);
		r->stop = true;
		pthread_cond_signal(&r->cv);
		pthread_mutex_unlock(&r->mu);
	}
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 1;
	for (unsigned i = 0; i < REPORTERS; i++)
		pthread_timedjoin_np(a.reporters[i].th, NULL, &until);
	log_info("stopped");
	return a.exit_code;
}
