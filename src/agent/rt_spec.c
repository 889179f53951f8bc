/* rt_spec: task specs of the runtime: the checks rt_task_start relies on
 * (names safe as file names, dependencies that can be resolved), deep copy
 * and release, and the JSON shape berthd sends (ECS containerDefinitions
 * members under their ECS names).  No I/O. */
#include "agent/rt_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

#define RT_DEFAULT_STOP_MS 30000
#define RT_HC_INTERVAL_MS  30000
#define RT_HC_TIMEOUT_MS   5000
#define RT_HC_RETRIES      3

static const char *status_names[] = {"PENDING", "RUNNING", "STOPPED"};
static const char *health_names[] = {"UNKNOWN", "HEALTHY", "UNHEALTHY"};
static const char *cond_names[] = {"START", "COMPLETE", "SUCCESS", "HEALTHY"};
static const char *cause_names[] = {NULL, "UserInitiated", "EssentialContainerExited", "TaskFailedToStart"};

const char *rt_status_name(enum rt_status s)
{
	return status_names[s];
}

const char *rt_health_name(enum rt_health h)
{
	return health_names[h];
}

const char *rt_dep_cond_name(enum rt_dep_cond c)
{
	return cond_names[c];
}

const char *rt_stop_cause_name(enum rt_stop_cause c)
{
	return cause_names[c];
}

/* Names become file names: letters, digits, '-', '_' (and '.' for task ids,
 * but never "." or ".."). */
bool rt_name_ok(const char *s, bool dots)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > 255)
		return false;
	if (dots && (strcmp(s, ".") == 0 || strcmp(s, "..") == 0))
		return false;
	for (const char *p = s; *p; p++) {
		char ch = *p;
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		          ch == '-' || ch == '_' || (dots && ch == '.');
		if (!ok)
			return false;
	}
	return true;
}

char *rt_task_dir(const struct rt *rt, const char *sub, const char *id)
{
	return xasprintf("%s/%s/%s", rt->data_dir, sub, id);
}

static int find_container(const struct rt_task_spec *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->containers[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* Depth-first search for a cycle through dependsOn; colour 1 = on the path. */
static bool has_cycle(const struct rt_task_spec *s, size_t i, char *colour)
{
	if (colour[i] == 1)
		return true;
	if (colour[i] == 2)
		return false;
	colour[i] = 1;
	const struct rt_container_spec *c = &s->containers[i];
	for (size_t d = 0; d < c->n_deps; d++) {
		int j = find_container(s, c->deps[d].container);
		if (j >= 0 && has_cycle(s, (size_t)j, colour))
			return true;
	}
	colour[i] = 2;
	return false;
}

int rt_spec_check(const struct rt_task_spec *s, struct err *e)
{
	if (!rt_name_ok(s->id, true))
		return err_set(e, RT_ERR_INVALID, "task id must be 1-255 letters, digits, '-', '_' or '.'");
	if (s->n == 0)
		return err_set(e, RT_ERR_INVALID, "task %s has no containers", s->id);
	for (size_t i = 0; i < s->n; i++)
		if (!rt_name_ok(s->containers[i].name, false))
			return err_set(e, RT_ERR_INVALID,
			               "container name must be 1-255 letters, digits, '-' or '_'");
	bool essential = false;
	for (size_t i = 0; i < s->n; i++) {
		const struct rt_container_spec *c = &s->containers[i];
		if (find_container(s, c->name) != (int)i)
			return err_set(e, RT_ERR_INVALID, "container name %s is used twice", c->name);
		essential |= c->essential;
		if (c->stop_timeout_ms < 0)
			return err_set(e, RT_ERR_INVALID, "container %s: stopTimeout must not be negative",
			               c->name);
		for (size_t k = 0; k < c->n_env; k++)
			if (!strchr(c->env[k], '=') || c->env[k][0] == '=')
				return err_set(e, RT_ERR_INVALID,
				               "container %s: environment entry is not NAME=value", c->name);
		for (size_t d = 0; d < c->n_deps; d++) {
			int j = find_container(s, c->deps[d].container);
			if (j < 0)
				return err_set(e, RT_ERR_INVALID,
				               "container %s depends on unknown container %s", c->name,
				               c->deps[d].container);
			if ((size_t)j == i)
				return err_set(e, RT_ERR_INVALID, "container %s depends on itself", c->name);
			if (c->deps[d].cond == RT_DEP_HEALTHY && !s->containers[j].health)
				return err_set(
				    e, RT_ERR_INVALID,
				    "container %s depends on %s being HEALTHY, which has no health check",
				    c->name, c->deps[d].container);
		}
		const struct rt_health_spec *h = c->health;
		if (h && (h->n_cmd == 0 || h->interval_ms <= 0 || h->timeout_ms <= 0 || h->retries < 1 ||
		          h->start_period_ms < 0))
			return err_set(e, RT_ERR_INVALID,
			               "container %s: healthCheck needs a command, a positive interval and "
			               "timeout, and retries >= 1",
			               c->name);
		if (h && strcmp(h->cmd[0], "CMD-SHELL") != 0 && strcmp(h->cmd[0], "CMD") != 0)
			return err_set(e, RT_ERR_INVALID,
			               "container %s: healthCheck command must start with CMD or CMD-SHELL",
			               c->name);
		if (h && h->n_cmd < 2)
			return err_set(e, RT_ERR_INVALID, "container %s: healthCheck command is empty",
			               c->name);
		for (size_t p = 0; p < c->n_ports; p++) {
			const struct rt_port *pp = &c->ports[p];
			if (pp->host_port < 1 || pp->host_port > 65535 || pp->container_port < 1 ||
			    pp->container_port > 65535)
				return err_set(e, RT_ERR_INVALID, "container %s: port out of range", c->name);
			for (size_t i2 = 0; i2 <= i; i2++) {
				const struct rt_container_spec *o = &s->containers[i2];
				size_t end = i2 == i ? p : o->n_ports;
				for (size_t q = 0; q < end; q++)
					if (o->ports[q].host_port == pp->host_port &&
					    o->ports[q].udp == pp->udp)
						return err_set(e, RT_ERR_INVALID,
						               "host port %d is mapped twice in task %s",
						               pp->host_port, s->id);
			}
		}
	}
	if (!essential)
		return err_set(e, RT_ERR_INVALID, "task %s has no essential container", s->id);
	char *colour = xcalloc(s->n, 1);
	bool cycle = false;
	for (size_t i = 0; i < s->n && !cycle; i++)
		cycle = has_cycle(s, i, colour);
	free(colour);
	if (cycle)
		return err_set(e, RT_ERR_INVALID, "the dependsOn of task %s form a cycle", s->id);
	return 0;
}

static char **strv_copy(char **v, size_t n)
{
	char **out = xcalloc(n + 1, sizeof *out);
	for (size_t i = 0; i < n; i++)
		out[i] = xstrdup(v[i]);
	return out;
}

static void strv_free(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

void rt_spec_copy(struct rt_task_spec *dst, const struct rt_task_spec *src)
{
	memset(dst, 0, sizeof *dst);
	dst->id = xstrdup(src->id);
	dst->arn = dup_or_null(src->arn);
	dst->cpu = src->cpu;
	dst->memory_mib = src->memory_mib;
	dst->n = src->n;
	dst->containers = xcalloc(src->n, sizeof *dst->containers);
	for (size_t i = 0; i < src->n; i++) {
		const struct rt_container_spec *s = &src->containers[i];
		struct rt_container_spec *d = &dst->containers[i];
		*d = *s;
		d->name = xstrdup(s->name);
		d->argv = strv_copy(s->argv, s->argc);
		d->env = strv_copy(s->env, s->n_env);
		d->workdir = dup_or_null(s->workdir);
		d->user = dup_or_null(s->user);
		d->deps = xcalloc(s->n_deps, sizeof *d->deps);
		for (size_t k = 0; k < s->n_deps; k++) {
			d->deps[k].container = xstrdup(s->deps[k].container);
			d->deps[k].cond = s->deps[k].cond;
		}
		if (s->health) {
			d->health = xmalloc(sizeof *d->health);
			*d->health = *s->health;
			d->health->cmd = strv_copy(s->health->cmd, s->health->n_cmd);
		}
		d->ports = xcalloc(s->n_ports, sizeof *d->ports);
		if (s->n_ports)
			memcpy(d->ports, s->ports, s->n_ports * sizeof *d->ports);
	}
}

void rt_spec_release(struct rt_task_spec *s)
{
	for (size_t i = 0; s->containers && i < s->n; i++) {
		struct rt_container_spec *c = &s->containers[i];
		free(c->name);
		strv_free(c->argv, c->argc);
		strv_free(c->env, c->n_env);
		free(c->workdir);
		free(c->user);
		for (size_t k = 0; c->deps && k < c->n_deps; k++)
			free(c->deps[k].container);
		free(c->deps);
		if (c->health) {
			strv_free(c->health->cmd, c->health->n_cmd);
			free(c->health);
		}
		free(c->ports);
	}
	free(s->containers);
	free(s->id);
	free(s->arn);
	memset(s, 0, sizeof *s);
}

/* --- JSON in --- */

static bool is_absent(const cJSON *j)
{
	return !j || cJSON_IsNull(j);
}

/* A number, or a string holding one (ECS gives task cpu/memory as strings). */
static int get_number(const cJSON *o, const char *key, double *out, bool *present, struct err *e)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
	*present = false;
	if (is_absent(j))
		return 0;
	if (cJSON_IsNumber(j)) {
		*out = j->valuedouble;
	} else if (cJSON_IsString(j)) {
		char *end;
		*out = strtod(j->valuestring, &end);
		if (end == j->valuestring || *end)
			return err_set(e, RT_ERR_INVALID, "%s must be a number", key);
	} else {
		return err_set(e, RT_ERR_INVALID, "%s must be a number", key);
	}
	if (!isfinite(*out) || *out < 0 || *out > 1e12)
		return err_set(e, RT_ERR_INVALID, "%s is out of range", key);
	*present = true;
	return 0;
}

static int get_long(const cJSON *o, const char *key, long *out, struct err *e)
{
	double v;
	bool present;
	if (get_number(o, key, &v, &present, e) < 0)
		return -1;
	if (present)
		*out = (long)v;
	return 0;
}

/* Seconds (fractions allowed) into milliseconds. */
static int get_ms(const cJSON *o, const char *key, int *out, struct err *e)
{
	double v;
	bool present;
	if (get_number(o, key, &v, &present, e) < 0)
		return -1;
	if (present) {
		if (v > 86400.0 * 24)
			return err_set(e, RT_ERR_INVALID, "%s is out of range", key);
		*out = (int)lround(v * 1000.0);
	}
	return 0;
}

static int get_string(const cJSON *o, const char *key, char **out, struct err *e)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
	if (is_absent(j))
		return 0;
	if (!cJSON_IsString(j))
		return err_set(e, RT_ERR_INVALID, "%s must be a string", key);
	*out = xstrdup(j->valuestring);
	return 0;
}

/* Append the strings of array `key` to *v (count *n). */
static int get_strings(const cJSON *o, const char *key, char ***v, size_t *n, struct err *e)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key);
	if (is_absent(a))
		return 0;
	if (!cJSON_IsArray(a))
		return err_set(e, RT_ERR_INVALID, "%s must be a list of strings", key);
	size_t add = (size_t)cJSON_GetArraySize(a);
	*v = xrealloc(*v, (*n + add + 1) * sizeof **v);
	const cJSON *it;
	cJSON_ArrayForEach(it, a)
	{
		if (!cJSON_IsString(it)) {
			(*v)[*n] = NULL;
			return err_set(e, RT_ERR_INVALID, "%s must be a list of strings", key);
		}
		(*v)[(*n)++] = xstrdup(it->valuestring);
	}
	(*v)[*n] = NULL;
	return 0;
}

static int parse_health(const cJSON *j, struct rt_health_spec **out, struct err *e)
{
	if (is_absent(j))
		return 0;
	if (!cJSON_IsObject(j))
		return err_set(e, RT_ERR_INVALID, "healthCheck must be an object");
	struct rt_health_spec *h = xcalloc(1, sizeof *h);
	h->interval_ms = RT_HC_INTERVAL_MS;
	h->timeout_ms = RT_HC_TIMEOUT_MS;
	h->retries = RT_HC_RETRIES;
	*out = h;
	long retries = h->retries;
	if (get_strings(j, "command", &h->cmd, &h->n_cmd, e) < 0 ||
	    get_ms(j, "interval", &h->interval_ms, e) < 0 || get_ms(j, "timeout", &h->timeout_ms, e) < 0 ||
	    get_long(j, "retries", &retries, e) < 0 || get_ms(j, "startPeriod", &h->start_period_ms, e) < 0)
		return -1;
	h->retries = retries > 1000 ? 1000 : (int)retries;
	if (h->n_cmd == 1 && strcmp(h->cmd[0], "NONE") == 0) {
		strv_free(h->cmd, h->n_cmd);
		free(h);
		*out = NULL;
	}
	return 0;
}

static int cond_parse(const char *s, enum rt_dep_cond *out)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, cond_names[i]) == 0) {
			*out = (enum rt_dep_cond)i;
			return 0;
		}
	return -1;
}

static int parse_container(const cJSON *j, struct rt_container_spec *c, struct err *e)
{
	c->essential = true;
	c->stop_timeout_ms = RT_DEFAULT_STOP_MS;
	if (!cJSON_IsObject(j))
		return err_set(e, RT_ERR_INVALID, "containers must be objects");
	if (get_string(j, "name", &c->name, e) < 0)
		return -1;
	if (!c->name)
		return err_set(e, RT_ERR_INVALID, "a container has no name");
	if (get_strings(j, "entryPoint", &c->argv, &c->argc, e) < 0 ||
	    get_strings(j, "command", &c->argv, &c->argc, e) < 0 ||
	    get_string(j, "workingDirectory", &c->workdir, e) < 0 || get_string(j, "user", &c->user, e) < 0 ||
	    get_ms(j, "stopTimeout", &c->stop_timeout_ms, e) < 0 || get_long(j, "cpu", &c->cpu, e) < 0 ||
	    get_long(j, "memory", &c->memory_mib, e) < 0 ||
	    get_long(j, "memoryReservation", &c->memory_reservation_mib, e) < 0)
		return -1;
	const cJSON *ess = cJSON_GetObjectItemCaseSensitive(j, "essential");
	if (!is_absent(ess)) {
		if (!cJSON_IsBool(ess))
			return err_set(e, RT_ERR_INVALID, "essential must be true or false");
		c->essential = cJSON_IsTrue(ess);
	}
	const cJSON *env = cJSON_GetObjectItemCaseSensitive(j, "environment"), *it;
	if (!is_absent(env)) {
		if (!cJSON_IsArray(env))
			return err_set(e, RT_ERR_INVALID, "environment must be a list");
		c->env = xcalloc((size_t)cJSON_GetArraySize(env) + 1, sizeof *c->env);
		cJSON_ArrayForEach(it, env)
		{
			const cJSON *n = cJSON_GetObjectItemCaseSensitive(it, "name");
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(it, "value");
			if (!cJSON_IsString(n) || (!is_absent(v) && !cJSON_IsString(v)))
				return err_set(e, RT_ERR_INVALID,
				               "environment entries are {name, value} strings");
			c->env[c->n_env++] =
			    xasprintf("%s=%s", n->valuestring, cJSON_IsString(v) ? v->valuestring : "");
		}
	}
	const cJSON *deps = cJSON_GetObjectItemCaseSensitive(j, "dependsOn");
	if (!is_absent(deps)) {
		if (!cJSON_IsArray(deps))
			return err_set(e, RT_ERR_INVALID, "dependsOn must be a list");
		c->deps = xcalloc((size_t)cJSON_GetArraySize(deps) + 1, sizeof *c->deps);
		cJSON_ArrayForEach(it, deps)
		{
			const cJSON *n = cJSON_GetObjectItemCaseSensitive(it, "containerName");
			const cJSON *cond = cJSON_GetObjectItemCaseSensitive(it, "condition");
			if (!cJSON_IsString(n) || !cJSON_IsString(cond))
				return err_set(e, RT_ERR_INVALID,
				               "dependsOn entries are {containerName, condition}");
			struct rt_dep *d = &c->deps[c->n_deps];
			if (cond_parse(cond->valuestring, &d->cond) < 0)
				return err_set(
				    e, RT_ERR_INVALID,
				    "dependsOn condition %s is not START, COMPLETE, SUCCESS or HEALTHY",
				    cond->valuestring);
			d->container = xstrdup(n->valuestring);
			c->n_deps++;
		}
	}
	if (parse_health(cJSON_GetObjectItemCaseSensitive(j, "healthCheck"), &c->health, e) < 0)
		return -1;
	const cJSON *pm = cJSON_GetObjectItemCaseSensitive(j, "portMappings");
	if (!is_absent(pm)) {
		if (!cJSON_IsArray(pm))
			return err_set(e, RT_ERR_INVALID, "portMappings must be a list");
		c->ports = xcalloc((size_t)cJSON_GetArraySize(pm) + 1, sizeof *c->ports);
		cJSON_ArrayForEach(it, pm)
		{
			long cp = 0, hp = 0;
			char *proto = NULL;
			if (get_long(it, "containerPort", &cp, e) < 0 ||
			    get_long(it, "hostPort", &hp, e) < 0 || get_string(it, "protocol", &proto, e) < 0)
				return -1;
			bool udp = proto && strcmp(proto, "udp") == 0;
			bool bad = proto && !udp && strcmp(proto, "tcp") != 0;
			free(proto);
			if (bad)
				return err_set(e, RT_ERR_INVALID, "portMappings protocol must be tcp or udp");
			if (cp < 1 || cp > 65535 || hp > 65535)
				return err_set(e, RT_ERR_INVALID,
				               "portMappings containerPort must be 1-65535");
			struct rt_port *p = &c->ports[c->n_ports++];
			p->container_port = (int)cp;
			p->host_port = hp > 0 ? (int)hp : (int)cp;
			p->udp = udp;
		}
	}
	return 0;
}

int rt_spec_from_json(const cJSON *task, struct rt_task_spec *out, struct err *e)
{
	memset(out, 0, sizeof *out);
	if (!cJSON_IsObject(task))
		return err_set(e, RT_ERR_INVALID, "a task must be an object");
	if (get_string(task, "taskArn", &out->arn, e) < 0 || get_string(task, "id", &out->id, e) < 0 ||
	    get_long(task, "cpu", &out->cpu, e) < 0 || get_long(task, "memory", &out->memory_mib, e) < 0)
		goto fail;
	if (!out->id && out->arn) {
		const char *slash = strrchr(out->arn, '/');
		out->id = xstrdup(slash ? slash + 1 : out->arn);
	}
	if (!out->id) {
		err_set(e, RT_ERR_INVALID, "a task needs an id or a taskArn");
		goto fail;
	}
	const cJSON *cs = cJSON_GetObjectItemCaseSensitive(task, "containers"), *it;
	if (!cJSON_IsArray(cs)) {
		err_set(e, RT_ERR_INVALID, "a task needs a list of containers");
		goto fail;
	}
	out->containers = xcalloc((size_t)cJSON_GetArraySize(cs) + 1, sizeof *out->containers);
	cJSON_ArrayForEach(it, cs)
	{
		/* Count it first so that a half-parsed container is released too. */
		if (parse_container(it, &out->containers[out->n++], e) < 0)
			goto fail;
	}
	if (rt_spec_check(out, e) < 0)
		goto fail;
	return 0;
fail:
	rt_spec_release(out);
	return -1;
}

/* --- JSON out --- */

static cJSON *strv_json(char **v, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
	return a;
}

static void add_str(cJSON *o, const char *k, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

static void add_long(cJSON *o, const char *k, long v)
{
	if (v)
		cJSON_AddNumberToObject(o, k, (double)v);
	else
		cJSON_AddNullToObject(o, k);
}

cJSON *rt_spec_to_json(const struct rt_task_spec *s)
{
	cJSON *o = cJSON_CreateObject();
	add_str(o, "taskArn", s->arn);
	cJSON_AddStringToObject(o, "id", s->id);
	char num[32];
	if (s->cpu) {
		snprintf(num, sizeof num, "%ld", s->cpu);
		cJSON_AddStringToObject(o, "cpu", num);
	}
	if (s->memory_mib) {
		snprintf(num, sizeof num, "%ld", s->memory_mib);
		cJSON_AddStringToObject(o, "memory", num);
	}
	cJSON *cs = cJSON_AddArrayToObject(o, "containers");
	for (size_t i = 0; i < s->n; i++) {
		const struct rt_container_spec *c = &s->containers[i];
		cJSON *j = cJSON_CreateObject();
		cJSON_AddItemToArray(cs, j);
		cJSON_AddStringToObject(j, "name", c->name);
		cJSON_AddItemToObject(j, "command", strv_json(c->argv, c->argc));
		cJSON *env = cJSON_AddArrayToObject(j, "environment");
		for (size_t k = 0; k < c->n_env; k++) {
			const char *eq = strchr(c->env[k], '=');
			cJSON *kv = cJSON_CreateObject();
			char *name = xstrndup(c->env[k], (size_t)(eq - c->env[k]));
			cJSON_AddStringToObject(kv, "name", name);
			cJSON_AddStringToObject(kv, "value", eq + 1);
			free(name);
			cJSON_AddItemToArray(env, kv);
		}
		add_str(j, "workingDirectory", c->workdir);
		add_str(j, "user", c->user);
		cJSON_AddBoolToObject(j, "essential", c->essential);
		cJSON *deps = cJSON_AddArrayToObject(j, "dependsOn");
		for (size_t k = 0; k < c->n_deps; k++) {
			cJSON *d = cJSON_CreateObject();
			cJSON_AddStringToObject(d, "containerName", c->deps[k].container);
			cJSON_AddStringToObject(d, "condition", cond_names[c->deps[k].cond]);
			cJSON_AddItemToArray(deps, d);
		}
		if (c->health) {
			const struct rt_health_spec *h = c->health;
			cJSON *hj = cJSON_AddObjectToObject(j, "healthCheck");
			cJSON_AddItemToObject(hj, "command", strv_json(h->cmd, h->n_cmd));
			cJSON_AddNumberToObject(hj, "interval", h->interval_ms / 1000.0);
			cJSON_AddNumberToObject(hj, "timeout", h->timeout_ms / 1000.0);
			cJSON_AddNumberToObject(hj, "retries", h->retries);
			cJSON_AddNumberToObject(hj, "startPeriod", h->start_period_ms / 1000.0);
		} else {
			cJSON_AddNullToObject(j, "healthCheck");
		}
		cJSON_AddNumberToObject(j, "stopTimeout", c->stop_timeout_ms / 1000.0);
		add_long(j, "cpu", c->cpu);
		add_long(j, "memory", c->memory_mib);
		add_long(j, "memoryReservation", c->memory_reservation_mib);
		cJSON *pm = cJSON_AddArrayToObject(j, "portMappings");
		for (size_t k = 0; k < c->n_ports; k++) {
			cJSON *p = cJSON_CreateObject();
			cJSON_AddNumberToObject(p, "containerPort", c->ports[k].container_port);
			cJSON_AddNumberToObject(p, "hostPort", c->ports[k].host_port);
			cJSON_AddStringToObject(p, "protocol", c->ports[k].udp ? "udp" : "tcp");
			cJSON_AddItemToArray(pm, p);
		}
	}
	return o;
}
