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

#include "lib/xalloc.h"
#include "model/codec.h"

static void put_opt_str(cJSON *o, const char *key, const char *v)
{
	if (v)
		codec_put_str(o, key, v);
}

static void put_opt_time(cJSON *o, const char *key, int64_t ms)
{
	if (ms)
		codec_put_time(o, key, ms);
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

static void put_bindings(cJSON *o, const struct task *t, size_t i)
{
	const struct td_container *dc = &t->td->containers[i];
	cJSON *a = codec_put_array(o, "networkBindings");
	if (!is_bridge_or_host(t->td) || !t->ci || t->containers[i].status == TS_STOPPED)
		return;
	for (size_t k = 0; k < dc->n_ports; k++) {
		cJSON *b = cJSON_CreateObject();
		codec_put_str(b, "bindIP", "0.0.0.0");
		codec_put_int(b, "containerPort", dc->ports[k].container_port);
		int hp = t->containers[i].host_ports ? t->containers[i].host_ports[k] : dc->ports[k].host_port;
		codec_put_int(b, "hostPort", hp);
		codec_put_str(b, "protocol", dc->ports[k].udp ? "udp" : "tcp");
		cJSON_AddItemToArray(a, b);
	}
}

static cJSON *container_json(const struct model *m, const struct task *t, size_t i)
{
	const struct td_container *dc = &t->td->containers[i];
	const struct task_container *tc = &t->containers[i];
	const cJSON *def = td_container_json(t->td, dc->name);
	char buf[512];
	cJSON *o = cJSON_CreateObject();
	codec_put_str(o, "containerArn", task_container_arn(m, t, i, buf, sizeof buf));
	codec_put_str(o, "taskArn", task_arn(m, t, buf, sizeof buf));
	codec_put_str(o, "name", dc->name);
	put_opt_str(o, "image", item_str(def, "image"));
	codec_put_str(o, "lastStatus", task_status_name(tc->status));
	if (tc->exit_code != TASK_NO_EXIT)
		codec_put_int(o, "exitCode", tc->exit_code);
	put_opt_str(o, "reason", tc->reason);
	put_bindings(o, t, i);
	cJSON *ni = codec_put_array(o, "networkInterfaces");
	if (t->subnet) {
		cJSON *n = cJSON_CreateObject();
		snprintf(buf, sizeof buf, "%.8s-%.4s-%.4s-%.4s-%.12s", t->id, t->id + 8, t->id + 12,
			 t->id + 16, t->id + 20);
		codec_put_str(n, "attachmentId", buf);
		snprintf(buf, sizeof buf, "10.0.%u.%u", (unsigned)(t->seq >> 8) & 255u, (unsigned)t->seq & 255u);
		codec_put_str(n, "privateIpv4Address", buf);
		cJSON_AddItemToArray(ni, n);
	}
	codec_put_str(o, "healthStatus", "UNKNOWN");
	snprintf(buf, sizeof buf, "%d", dc->cpu);
	codec_put_str(o, "cpu", buf);
	if (dc->memory) {
		snprintf(buf, sizeof buf, "%d", dc->memory);
		codec_put_str(o, "memory", buf);
	}
	if (dc->memory_reservation) {
		snprintf(buf, sizeof buf, "%d", dc->memory_reservation);
		codec_put_str(o, "memoryReservation", buf);
	}
	return o;
}

static void put_attachment(cJSON *o, const struct task *t)
{
	cJSON *a = codec_put_array(o, "attachments");
	if (!t->subnet)
		return;
	char buf[64];
	cJSON *att = cJSON_CreateObject();
	snprintf(buf, sizeof buf, "%.8s-%.4s-%.4s-%.4s-%.12s", t->id, t->id + 8, t->id + 12, t->id + 16,
		 t->id + 20);
	codec_put_str(att, "id", buf);
	codec_put_str(att, "type", "ElasticNetworkInterface");
	codec_put_str(att, "status", t->last >= TS_DEPROVISIONING ? "DELETED"
				     : t->last == TS_PROVISIONING ? "PRECREATED" : "ATTACHED");
	cJSON *d = codec_put_array(att, "details");
	struct { const char *k; char v[64]; } kv[4] = {{"subnetId", ""}, {"networkInterfaceId", ""},
						      {"macAddress", ""}, {"privateIPv4Address", ""}};
	snprintf(kv[0].v, sizeof kv[0].v, "%s", t->subnet);
	snprintf(kv[1].v, sizeof kv[1].v, "eni-%.17s", t->id);
	snprintf(kv[2].v, sizeof kv[2].v, "0a:%.2s:%.2s:%.2s:%.2s:%.2s", t->id, t->id + 2, t->id + 4, t->id + 6,
		 t->id + 8);
	snprintf(kv[3].v, sizeof kv[3].v, "10.0.%u.%u", (unsigned)(t->seq >> 8) & 255u, (unsigned)t->seq & 255u);
	for (size_t i = 0; i < 4; i++) {
		cJSON *p = cJSON_CreateObject();
		codec_put_str(p, "name", kv[i].k);
		codec_put_str(p, "value", kv[i].v);
		cJSON_AddItemToArray(d, p);
	}
	cJSON_AddItemToArray(a, att);
}

static void put_overrides(cJSON *o, const struct task *t)
{
	if (t->overrides) {
		cJSON *ov = cJSON_Duplicate(t->overrides, 1);
		if (!cJSON_GetObjectItemCaseSensitive(ov, "inferenceAcceleratorOverrides"))
			codec_put_array(ov, "inferenceAcceleratorOverrides");
		cJSON_AddItemToObjectCS(o, "overrides", ov);
		return;
	}
	cJSON *ov = codec_put_object(o, "overrides");
	cJSON *co = codec_put_array(ov, "containerOverrides");
	for (size_t i = 0; i < t->td->n_containers; i++) {
		cJSON *c = cJSON_CreateObject();
		codec_put_str(c, "name", t->td->containers[i].name);
		cJSON_AddItemToArray(co, c);
	}
	codec_put_array(ov, "inferenceAcceleratorOverrides");
}

static void put_api(cJSON *o, const struct model *m, const struct task *t, unsigned include)
{
	char buf[512];
	put_attachment(o, t);
	cJSON *attrs = codec_put_array(o, "attributes");
	cJSON *ca = cJSON_CreateObject();
	codec_put_str(ca, "name", "ecs.cpu-architecture");
	codec_put_str(ca, "value", "x86_64");
	cJSON_AddItemToArray(attrs, ca);
	put_opt_str(o, "availabilityZone", t->zone);
	put_opt_str(o, "capacityProviderName", t->cp_name);
	codec_put_str(o, "clusterArn", t->cluster->arn);
	codec_put_str(o, "connectivity", t->connectivity_at ? "CONNECTED" : "DISCONNECTED");
	put_opt_time(o, "connectivityAt", t->connectivity_at);
	if (t->ci)
		codec_put_str(o, "containerInstanceArn", t->ci->arn);
	cJSON *cs = codec_put_array(o, "containers");
	for (size_t i = 0; i < t->td->n_containers; i++)
		cJSON_AddItemToArray(cs, container_json(m, t, i));
	snprintf(buf, sizeof buf, "%d", t->cpu);
	codec_put_str(o, "cpu", buf);
	codec_put_time(o, "createdAt", t->created_at);
	codec_put_str(o, "desiredStatus", task_status_name(t->desired));
	cJSON_AddItemToObjectCS(o, "enableExecuteCommand", cJSON_CreateFalse());
	put_opt_time(o, "executionStoppedAt", t->execution_stopped_at);
	codec_put_str(o, "group", t->group);
	codec_put_str(o, "healthStatus", "UNKNOWN");
	codec_put_str(o, "lastStatus", task_status_name(t->last));
	codec_put_str(o, "launchType", launch_type_name(t->launch_type));
	snprintf(buf, sizeof buf, "%d", t->memory);
	codec_put_str(o, "memory", buf);
	put_overrides(o, t);
	if (t->launch_type == LT_FARGATE) {
		codec_put_str(o, "platformVersion", "1.4.0");
		codec_put_str(o, "platformFamily", "Linux");
		cJSON *es = codec_put_object(o, "ephemeralStorage");
		codec_put_int(es, "sizeInGiB", 20);
	}
	put_opt_time(o, "pullStartedAt", t->pull_started_at);
	put_opt_time(o, "pullStoppedAt", t->pull_stopped_at);
	put_opt_time(o, "startedAt", t->started_at);
	put_opt_str(o, "startedBy", t->started_by);
	if (t->stop_code)
		codec_put_str(o, "stopCode", task_stop_code_name(t->stop_code));
	put_opt_time(o, "stoppedAt", t->stopped_at);
	put_opt_str(o, "stoppedReason", t->stopped_reason);
	put_opt_time(o, "stoppingAt", t->stopping_at);
	if (include & CODEC_TAGS)
		cJSON_AddItemToObjectCS(o, "tags", codec_tags(&t->tags));
	codec_put_str(o, "taskArn", task_arn(m, t, buf, sizeof buf));
	codec_put_str(o, "taskDefinitionArn", t->td->arn);
	codec_put_int(o, "version", t->version);
}

/* ---- records ---- */

static void put_record(cJSON *o, const struct task *t)
{
	codec_put_str(o, "id", t->id);
	codec_put_str(o, "region", t->cluster->region);
	codec_put_str(o, "cluster", t->cluster->name);
	codec_put_str(o, "family", t->td->family);
	codec_put_int(o, "revision", t->td->revision);
	put_opt_str(o, "ci", t->ci ? t->ci->id : NULL);
	put_opt_str(o, "cp", t->cp_name);
	codec_put_int(o, "lt", t->launch_type);
	codec_put_int(o, "last", t->last);
	codec_put_int(o, "desired", t->desired);
	codec_put_int(o, "stop", t->stop_code);
	codec_put_int(o, "version", t->version);
	put_opt_str(o, "reason", t->stopped_reason);
	codec_put_str(o, "group", t->group);
	put_opt_str(o, "startedBy", t->started_by);
	put_opt_str(o, "zone", t->zone);
	put_opt_str(o, "subnet", t->subnet);
	if (t->overrides)
		cJSON_AddItemToObjectCS(o, "overrides", cJSON_Duplicate(t->overrides, 1));
	if (t->placement)
		cJSON_AddItemToObjectCS(o, "placement", cJSON_Duplicate(t->placement, 1));
	if (t->tags.n)
		cJSON_AddItemToObjectCS(o, "tags", codec_tags(&t->tags));
	codec_put_int(o, "cpu", t->cpu);
	codec_put_int(o, "memory", t->memory);
	codec_put_int(o, "seq", (long)t->seq);
	codec_put_int(o, "due", (long)t->due);
	const int64_t times[8] = {t->created_at, t->pull_started_at, t->pull_stopped_at, t->started_at,
				  t->connectivity_at, t->stopping_at, t->execution_stopped_at, t->stopped_at};
	cJSON *ta = codec_put_array(o, "times");
	for (size_t i = 0; i < 8; i++) {
		char b[24];
		snprintf(b, sizeof b, "%lld", (long long)times[i]);
		cJSON_AddItemToArray(ta, cJSON_CreateRaw(b));
	}
	cJSON *cs = codec_put_array(o, "containers");
	for (size_t i = 0; i < t->td->n_containers; i++) {
		const struct task_container *tc = &t->containers[i];
		cJSON *c = cJSON_CreateObject();
		codec_put_int(c, "s", tc->status);
		if (tc->exit_code != TASK_NO_EXIT)
			codec_put_int(c, "x", tc->exit_code);
		char u[33];
		for (int k = 0; k < 16; k++)
			snprintf(u + 2 * k, 3, "%02x", tc->uuid[k]);
		codec_put_str(c, "u", u);
		put_opt_str(c, "r", tc->reason);
		if (tc->host_ports) {
			cJSON *hp = codec_put_array(c, "p");
			for (size_t k = 0; k < t->td->containers[i].n_ports; k++)
				cJSON_AddItemToArray(hp, cJSON_CreateNumber(tc->host_ports[k]));
		}
		cJSON_AddItemToArray(cs, c);
	}
}

cJSON *codec_task(const struct model *m, const struct task *t, unsigned include)
{
	cJSON *o = cJSON_CreateObject();
	if (include & CODEC_RECORD)
		put_record(o, t);
	else
		put_api(o, m, t, include);
	return o;
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
