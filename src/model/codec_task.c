/* codec_task: the Task object of DescribeTasks / RunTask, and task records.
 *
 * A task's answer is built from the task and its task definition: the
 * containers' names, images and resources come from the definition, their
 * states and exit codes from the task.  Records are small and flat (a task
 * is the one resource there are millions of): references by name, the
 * changing fields, nothing the definition already says. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/jw.h"
#include "lib/xalloc.h"
#include "model/codec.h"

static void w_opt_str(struct jw *w, const char *key, const char *v)
{
	if (v)
		jw_kstr(w, key, v);
}

static void w_opt_time(struct jw *w, const char *key, int64_t ms)
{
	if (ms)
		jw_ktime(w, key, ms);
}

static const char *item_str(const cJSON *o, const char *name)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, name);
	return cJSON_IsString(j) ? j->valuestring : NULL;
}

/* The definition's container object named name, or NULL. */
static const cJSON *td_container_json(const struct task_def *td, const char *name)
{
	const cJSON *defs = cJSON_GetObjectItemCaseSensitive(td->body, "containerDefinitions");
	const cJSON *c;
	cJSON_ArrayForEach(c, defs)
	{
		const char *n = item_str(c, "name");
		if (n && strcmp(n, name) == 0)
			return c;
	}
	return NULL;
}

static bool is_bridge_or_host(const struct task_def *td)
{
	return !td->network_mode || strcmp(td->network_mode, "bridge") == 0 ||
	       strcmp(td->network_mode, "host") == 0;
}

static void w_bindings(struct jw *w, const struct task *t, size_t i)
{
	const struct td_container *dc = &t->td->containers[i];
	jw_key(w, "networkBindings");
	jw_arr(w);
	bool bound = is_bridge_or_host(t->td) && t->ci && t->containers[i].status != TS_STOPPED;
	for (size_t k = 0; bound && k < dc->n_ports; k++) {
		jw_obj(w);
		jw_kstr(w, "bindIP", "0.0.0.0");
		jw_kint(w, "containerPort", dc->ports[k].container_port);
		int hp = t->containers[i].host_ports ? t->containers[i].host_ports[k] : dc->ports[k].host_port;
		jw_kint(w, "hostPort", hp);
		jw_kstr(w, "protocol", dc->ports[k].udp ? "udp" : "tcp");
		jw_end_obj(w);
	}
	jw_end_arr(w);
}

/* The awsvpc attachment's id (a uuid made of the task id) and address. */
static void eni_id(const struct task *t, char *buf, size_t len)
{
	snprintf(buf, len, "%.8s-%.4s-%.4s-%.4s-%.12s", t->id, t->id + 8, t->id + 12, t->id + 16, t->id + 20);
}

static void eni_ip(const struct task *t, char *buf, size_t len)
{
	snprintf(buf, len, "10.0.%u.%u", (unsigned)(t->seq >> 8) & 255u, (unsigned)t->seq & 255u);
}

static void w_container(struct jw *w, const struct model *m, const struct task *t, size_t i)
{
	const struct td_container *dc = &t->td->containers[i];
	const struct task_container *tc = &t->containers[i];
	char buf[512];
	jw_obj(w);
	jw_kstr(w, "containerArn", task_container_arn(m, t, i, buf, sizeof buf));
	jw_kstr(w, "taskArn", task_arn(m, t, buf, sizeof buf));
	jw_kstr(w, "name", dc->name);
	w_opt_str(w, "image", item_str(td_container_json(t->td, dc->name), "image"));
	jw_kstr(w, "lastStatus", task_status_name(tc->status));
	if (tc->exit_code != TASK_NO_EXIT)
		jw_kint(w, "exitCode", tc->exit_code);
	w_opt_str(w, "reason", tc->reason);
	w_bindings(w, t, i);
	jw_key(w, "networkInterfaces");
	jw_arr(w);
	if (t->subnet) {
		jw_obj(w);
		eni_id(t, buf, sizeof buf);
		jw_kstr(w, "attachmentId", buf);
		eni_ip(t, buf, sizeof buf);
		jw_kstr(w, "privateIpv4Address", buf);
		jw_end_obj(w);
	}
	jw_end_arr(w);
	jw_kstr(w, "healthStatus", task_health_name(dc->health_check ? tc->health : TASK_HEALTH_UNKNOWN));
	snprintf(buf, sizeof buf, "%d", dc->cpu);
	jw_kstr(w, "cpu", buf);
	if (dc->memory) {
		snprintf(buf, sizeof buf, "%d", dc->memory);
		jw_kstr(w, "memory", buf);
	}
	if (dc->memory_reservation) {
		snprintf(buf, sizeof buf, "%d", dc->memory_reservation);
		jw_kstr(w, "memoryReservation", buf);
	}
	jw_end_obj(w);
}

static void w_detail(struct jw *w, const char *name, const char *value)
{
	jw_obj(w);
	jw_kstr(w, "name", name);
	jw_kstr(w, "value", value);
	jw_end_obj(w);
}

static void w_attachments(struct jw *w, const struct task *t)
{
	jw_key(w, "attachments");
	jw_arr(w);
	if (t->subnet) {
		char buf[64];
		jw_obj(w);
		eni_id(t, buf, sizeof buf);
		jw_kstr(w, "id", buf);
		jw_kstr(w, "type", "ElasticNetworkInterface");
		jw_kstr(w, "status", t->last >= TS_DEPROVISIONING ? "DELETED"
				     : t->last == TS_PROVISIONING ? "PRECREATED" : "ATTACHED");
		jw_key(w, "details");
		jw_arr(w);
		w_detail(w, "subnetId", t->subnet);
		snprintf(buf, sizeof buf, "eni-%.17s", t->id);
		w_detail(w, "networkInterfaceId", buf);
		snprintf(buf, sizeof buf, "0a:%.2s:%.2s:%.2s:%.2s:%.2s", t->id, t->id + 2, t->id + 4, t->id + 6,
			 t->id + 8);
		w_detail(w, "macAddress", buf);
		eni_ip(t, buf, sizeof buf);
		w_detail(w, "privateIPv4Address", buf);
		jw_end_arr(w);
		jw_end_obj(w);
	}
	jw_end_arr(w);
}

static void w_overrides(struct jw *w, const struct task *t)
{
	jw_key(w, "overrides");
	if (t->overrides) {
		cJSON *ov = cJSON_Duplicate(t->overrides, 1);
		if (!cJSON_GetObjectItemCaseSensitive(ov, "inferenceAcceleratorOverrides"))
			codec_put_array(ov, "inferenceAcceleratorOverrides");
		char *txt = cJSON_PrintUnformatted(ov);
		jw_raw(w, txt);
		cJSON_free(txt);
		cJSON_Delete(ov);
		return;
	}
	jw_obj(w);
	jw_key(w, "containerOverrides");
	jw_arr(w);
	for (size_t i = 0; i < t->td->n_containers; i++) {
		jw_obj(w);
		jw_kstr(w, "name", t->td->containers[i].name);
		jw_end_obj(w);
	}
	jw_end_arr(w);
	jw_key(w, "inferenceAcceleratorOverrides");
	jw_arr(w);
	jw_end_arr(w);
	jw_end_obj(w);
}

static void w_tags(struct jw *w, const struct kvlist *tags)
{
	jw_key(w, "tags");
	jw_arr(w);
	for (size_t i = 0; i < tags->n; i++) {
		jw_obj(w);
		jw_kstr(w, "key", tags->v[i].key);
		jw_kstr(w, "value", tags->v[i].value);
		jw_end_obj(w);
	}
	jw_end_arr(w);
}

/* The Task object, written as text. */
static void w_api(struct jw *w, const struct model *m, const struct task *t, unsigned include)
{
	char buf[512];
	jw_obj(w);
	w_attachments(w, t);
	jw_key(w, "attributes");
	jw_arr(w);
	w_detail(w, "ecs.cpu-architecture", "x86_64");
	jw_end_arr(w);
	w_opt_str(w, "availabilityZone", t->zone);
	w_opt_str(w, "capacityProviderName", t->cp_name);
	jw_kstr(w, "clusterArn", t->cluster->arn);
	jw_kstr(w, "connectivity", t->connectivity_at ? "CONNECTED" : "DISCONNECTED");
	w_opt_time(w, "connectivityAt", t->connectivity_at);
	if (t->ci)
		jw_kstr(w, "containerInstanceArn", t->ci->arn);
	jw_key(w, "containers");
	jw_arr(w);
	for (size_t i = 0; i < t->td->n_containers; i++)
		w_container(w, m, t, i);
	jw_end_arr(w);
	snprintf(buf, sizeof buf, "%d", t->cpu);
	jw_kstr(w, "cpu", buf);
	jw_ktime(w, "createdAt", t->created_at);
	jw_kstr(w, "desiredStatus", task_status_name(t->desired));
	jw_key(w, "enableExecuteCommand");
	jw_bool(w, false);
	w_opt_time(w, "executionStoppedAt", t->execution_stopped_at);
	jw_kstr(w, "group", t->group);
	jw_kstr(w, "healthStatus", task_health_name(task_health(t)));
	jw_kstr(w, "lastStatus", task_status_name(t->last));
	jw_kstr(w, "launchType", launch_type_name(t->launch_type));
	snprintf(buf, sizeof buf, "%d", t->memory);
	jw_kstr(w, "memory", buf);
	w_overrides(w, t);
	if (t->launch_type == LT_FARGATE) {
		jw_kstr(w, "platformVersion", "1.4.0");
		jw_kstr(w, "platformFamily", "Linux");
		jw_key(w, "ephemeralStorage");
		jw_obj(w);
		jw_kint(w, "sizeInGiB", 20);
		jw_end_obj(w);
	}
	w_opt_time(w, "pullStartedAt", t->pull_started_at);
	w_opt_time(w, "pullStoppedAt", t->pull_stopped_at);
	w_opt_time(w, "startedAt", t->started_at);
	w_opt_str(w, "startedBy", t->started_by);
	if (t->stop_code)
		jw_kstr(w, "stopCode", task_stop_code_name(t->stop_code));
	w_opt_time(w, "stoppedAt", t->stopped_at);
	w_opt_str(w, "stoppedReason", t->stopped_reason);
	w_opt_time(w, "stoppingAt", t->stopping_at);
	if (include & CODEC_TAGS)
		w_tags(w, &t->tags);
	jw_kstr(w, "taskArn", task_arn(m, t, buf, sizeof buf));
	jw_kstr(w, "taskDefinitionArn", t->td->arn);
	jw_kint(w, "version", t->version);
	jw_end_obj(w);
}

/* ---- records ---- */

static void w_json(struct jw *w, const char *key, const cJSON *j)
{
	char *txt = cJSON_PrintUnformatted(j);
	jw_key(w, key);
	jw_raw(w, txt);
	cJSON_free(txt);
}

static void w_record_container(struct jw *w, const struct task *t, size_t i)
{
	const struct task_container *tc = &t->containers[i];
	jw_obj(w);
	jw_kint(w, "s", tc->status);
	if (tc->health)
		jw_kint(w, "h", tc->health);
	if (tc->exit_code != TASK_NO_EXIT)
		jw_kint(w, "x", tc->exit_code);
	char u[33];
	for (int k = 0; k < 16; k++)
		snprintf(u + 2 * k, 3, "%02x", tc->uuid[k]);
	jw_kstr(w, "u", u);
	w_opt_str(w, "r", tc->reason);
	if (tc->host_ports) {
		jw_key(w, "p");
		jw_arr(w);
		for (size_t k = 0; k < t->td->containers[i].n_ports; k++)
			jw_int(w, tc->host_ports[k]);
		jw_end_arr(w);
	}
	jw_end_obj(w);
}

/* The record: references by name, the fields that change, written as text
 * (there is one a task, and a RunTask writes ten). */
static void w_record(struct jw *w, const struct task *t)
{
	jw_obj(w);
	jw_kstr(w, "id", t->id);
	jw_kstr(w, "region", t->cluster->region);
	jw_kstr(w, "cluster", t->cluster->name);
	jw_kstr(w, "family", t->td->family);
	jw_kint(w, "revision", t->td->revision);
	w_opt_str(w, "ci", t->ci ? t->ci->id : NULL);
	w_opt_str(w, "cp", t->cp_name);
	jw_kint(w, "lt", t->launch_type);
	jw_kint(w, "last", t->last);
	jw_kint(w, "desired", t->desired);
	jw_kint(w, "stop", t->stop_code);
	jw_kint(w, "version", t->version);
	w_opt_str(w, "reason", t->stopped_reason);
	jw_kstr(w, "group", t->group);
	w_opt_str(w, "startedBy", t->started_by);
	w_opt_str(w, "zone", t->zone);
	w_opt_str(w, "subnet", t->subnet);
	if (t->overrides)
		w_json(w, "overrides", t->overrides);
	if (t->placement)
		w_json(w, "placement", t->placement);
	if (t->tags.n)
		w_tags(w, &t->tags);
	jw_kint(w, "cpu", t->cpu);
	jw_kint(w, "memory", t->memory);
	jw_kint(w, "seq", (long long)t->seq);
	jw_kint(w, "due", (long long)t->due);
	if (t->protect_until)
		jw_kint(w, "protectUntil", (long long)t->protect_until);
	const int64_t times[8] = {t->created_at, t->pull_started_at, t->pull_stopped_at, t->started_at,
				  t->connectivity_at, t->stopping_at, t->execution_stopped_at, t->stopped_at};
	jw_key(w, "times");
	jw_arr(w);
	for (size_t i = 0; i < 8; i++)
		jw_int(w, (long long)times[i]);
	jw_end_arr(w);
	jw_key(w, "containers");
	jw_arr(w);
	for (size_t i = 0; i < t->td->n_containers; i++)
		w_record_container(w, t, i);
	jw_end_arr(w);
	jw_end_obj(w);
}

cJSON *codec_task(const struct model *m, const struct task *t, unsigned include)
{
	struct jw w;
	jw_init(&w);
	if (include & CODEC_RECORD)
		w_record(&w, t);
	else
		w_api(&w, m, t, include);
	char *txt = jw_take(&w);
	cJSON *raw = cJSON_CreateRaw(txt);
	free(txt);
	return raw;
}

char *codec_task_record_id(const struct task *t)
{
	return xasprintf("%s/%s/%s", t->cluster->region, t->cluster->name, t->id);
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int load_containers(struct task *t, const cJSON *cs)
{
	size_t n = t->td->n_containers;
	if ((size_t)cJSON_GetArraySize(cs) != n)
		return -1;
	t->containers = xcalloc(n ? n : 1, sizeof *t->containers);
	size_t i = 0;
	const cJSON *c;
	cJSON_ArrayForEach(c, cs)
	{
		struct task_container *tc = &t->containers[i];
		tc->status = (uint8_t)codec_int_of(c, "s", TS_PENDING);
		tc->health = (uint8_t)codec_int_of(c, "h", TASK_HEALTH_UNKNOWN);
		tc->exit_code = cJSON_GetObjectItemCaseSensitive(c, "x") ? codec_int_of(c, "x", 0) : TASK_NO_EXIT;
		const char *u = codec_str_of(c, "u");
		for (int k = 0; u && strlen(u) == 32 && k < 16; k++)
			tc->uuid[k] = (uint8_t)(hexval(u[2 * k]) << 4 | hexval(u[2 * k + 1]));
		tc->reason = codec_dup_of(c, "r");
		const cJSON *hp = cJSON_GetObjectItemCaseSensitive(c, "p");
		size_t np = t->td->containers[i].n_ports;
		if (hp && (size_t)cJSON_GetArraySize(hp) == np && np) {
			tc->host_ports = xcalloc(np, sizeof *tc->host_ports);
			for (size_t k = 0; k < np; k++)
				tc->host_ports[k] = (int)cJSON_GetArrayItem(hp, (int)k)->valuedouble;
		}
		i++;
	}
	return 0;
}

static int load_fields(struct model *m, struct task *t, const cJSON *j)
{
	const char *id = codec_str_of(j, "id");
	if (!id || strlen(id) != 32)
		return -1;
	memcpy(t->id, id, 33);
	t->cp_name = model_intern(m, codec_str_of(j, "cp"));
	t->launch_type = (uint8_t)codec_int_of(j, "lt", LT_EC2);
	t->last = (uint8_t)codec_int_of(j, "last", TS_PENDING);
	t->desired = (uint8_t)codec_int_of(j, "desired", TS_RUNNING);
	t->stop_code = (uint8_t)codec_int_of(j, "stop", STOP_NONE);
	t->version = (uint32_t)codec_long_of(j, "version", 1);
	t->stopped_reason = codec_dup_of(j, "reason");
	t->group = model_intern(m, codec_str_of(j, "group") ? codec_str_of(j, "group") : "");
	t->started_by = model_intern(m, codec_str_of(j, "startedBy"));
	t->zone = model_intern(m, codec_str_of(j, "zone"));
	t->subnet = model_intern(m, codec_str_of(j, "subnet"));
	const cJSON *ov = cJSON_GetObjectItemCaseSensitive(j, "overrides");
	if (ov)
		t->overrides = cJSON_Duplicate(ov, 1);
	const cJSON *pl = cJSON_GetObjectItemCaseSensitive(j, "placement");
	if (pl)
		t->placement = cJSON_Duplicate(pl, 1);
	codec_tags_parse(&t->tags, cJSON_GetObjectItemCaseSensitive(j, "tags"));
	t->cpu = codec_int_of(j, "cpu", 0);
	t->memory = codec_int_of(j, "memory", 0);
	t->seq = (uint64_t)codec_long_of(j, "seq", 0);
	t->due = codec_long_of(j, "due", 0);
	t->protect_until = codec_long_of(j, "protectUntil", 0);
	int64_t *times[8] = {&t->created_at, &t->pull_started_at, &t->pull_stopped_at, &t->started_at,
			     &t->connectivity_at, &t->stopping_at, &t->execution_stopped_at, &t->stopped_at};
	const cJSON *ta = cJSON_GetObjectItemCaseSensitive(j, "times");
	for (int i = 0; i < 8; i++) {
		const cJSON *v = cJSON_GetArrayItem(ta, i);
		*times[i] = cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
	}
	return t->seq ? 0 : -1;
}

int codec_task_load(struct model *m, const cJSON *j)
{
	const char *region = codec_str_of(j, "region");
	const char *cname = codec_str_of(j, "cluster");
	const char *family = codec_str_of(j, "family");
	struct region *r = region ? model_region_find(m, region) : NULL;
	struct cluster *c = r && cname ? model_cluster_find(r, cname) : NULL;
	struct task_def *td = c && family ? model_td_find(r, family, codec_int_of(j, "revision", 0)) : NULL;
	if (!td)
		return -1;
	struct task *t = xcalloc(1, sizeof *t);
	t->cluster = c;
	t->td = td;
	const char *ci = codec_str_of(j, "ci");
	if (ci && !(t->ci = model_ci_find(c, ci))) {
		free(t);
		return -1;
	}
	if (load_fields(m, t, j) || load_containers(t, cJSON_GetObjectItemCaseSensitive(j, "containers"))) {
		t->td = NULL;
		task_free(t);
		return -1;
	}
	int64_t due = t->due;
	model_task_add(m, r, t);
	t->version--; /* model_task_add counted a change that is not one */
	if (due)
		model_task_due(m, t, due);
	return 0;
}
