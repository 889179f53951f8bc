/* codec_instance: the ContainerInstance object of the container instance
 * actions, and container instance records.
 *
 * Every resource answers all four typed fields, as ECS does: an INTEGER one
 * {"name","type","doubleValue":0.0,"longValue":0,"integerValue":N}, a
 * STRINGSET one the same with integerValue 0 and stringSetValue.  The
 * remaining PORTS are the reserved ports plus the host ports tasks hold.
 *
 * Records keep what registration and the instance actions decided, and
 * nothing tasks decide: used CPU, memory and ports and the task counts are
 * recomputed from the tasks at load (api_loaded). */
#include <limits.h>
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

static cJSON *resource(const char *name, const char *type, long integer)
{
	cJSON *r = cJSON_CreateObject();
	codec_put_str(r, "name", name);
	codec_put_str(r, "type", type);
	cJSON_AddItemToObjectCS(r, "doubleValue", cJSON_CreateRaw("0.0"));
	codec_put_int(r, "longValue", 0);
	codec_put_int(r, "integerValue", integer);
	return r;
}

/* A STRINGSET resource of the ports in a, plus those in b if b is given
 * (both sorted; the union is printed in order, each port once). */
static cJSON *port_resource(const char *name, const struct portset *a, const struct portset *b)
{
	cJSON *r = resource(name, "STRINGSET", 0);
	cJSON *set = codec_put_array(r, "stringSetValue");
	size_t i = 0, k = 0, nb = b ? b->n : 0;
	while (i < a->n || k < nb) {
		int p;
		if (k >= nb || (i < a->n && a->v[i] <= b->v[k])) {
			p = a->v[i++];
			if (k < nb && b->v[k] == p)
				k++;
		} else {
			p = b->v[k++];
		}
		char buf[16];
		snprintf(buf, sizeof buf, "%d", p);
		cJSON_AddItemToArray(set, cJSON_CreateString(buf));
	}
	return r;
}

static cJSON *resources(const struct container_instance *ci, bool remaining)
{
	cJSON *a = cJSON_CreateArray();
	long cpu = remaining ? (long)ci->reg_cpu - ci->used_cpu : ci->reg_cpu;
	long mem = remaining ? (long)ci->reg_mem - ci->used_mem : ci->reg_mem;
	cJSON_AddItemToArray(a, resource("CPU", "INTEGER", cpu));
	cJSON_AddItemToArray(a, resource("MEMORY", "INTEGER", mem));
	const struct portset *tcp = remaining ? &ci->used_ports : NULL;
	const struct portset *udp = remaining ? &ci->used_udp : NULL;
	cJSON_AddItemToArray(a, port_resource("PORTS", &ci->reg_ports, tcp));
	cJSON_AddItemToArray(a, port_resource("PORTS_UDP", &ci->reg_udp, udp));
	return a;
}

/* Attributes as ECS answers them: a name-only one has no value member. */
static cJSON *attributes(const struct kvlist *l)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < l->n; i++) {
		cJSON *t = cJSON_CreateObject();
		codec_put_str(t, "name", l->v[i].key);
		if (*l->v[i].value)
			codec_put_str(t, "value", l->v[i].value);
		cJSON_AddItemToArray(a, t);
	}
	return a;
}

/* The members the answer and the record share, in the answer's order. */
static void put_identity(cJSON *o, const struct container_instance *ci)
{
	codec_put_str(o, "containerInstanceArn", ci->arn);
	codec_put_str(o, "ec2InstanceId", ci->ec2_id);
	put_opt_str(o, "capacityProviderName", ci->cp_name);
	codec_put_int(o, "version", ci->version);
	if (ci->version_info)
		cJSON_AddItemToObjectCS(o, "versionInfo", cJSON_Duplicate(ci->version_info, 1));
}

static void put_api(cJSON *o, const struct container_instance *ci, unsigned include)
{
	put_identity(o, ci);
	cJSON_AddItemToObjectCS(o, "remainingResources", resources(ci, true));
	cJSON_AddItemToObjectCS(o, "registeredResources", resources(ci, false));
	codec_put_str(o, "status", ci_status_name(ci->status));
	put_opt_str(o, "statusReason", ci->status_reason);
	cJSON_AddItemToObjectCS(o, "agentConnected", cJSON_CreateBool(ci->agent_connected));
	codec_put_int(o, "runningTasksCount", ci->running_tasks);
	codec_put_int(o, "pendingTasksCount", ci->pending_tasks);
	cJSON_AddItemToObjectCS(o, "attributes", attributes(&ci->attributes));
	codec_put_time(o, "registeredAt", ci->registered_at);
	codec_put_array(o, "attachments");
	if (include & CODEC_TAGS)
		cJSON_AddItemToObjectCS(o, "tags", codec_tags(&ci->tags));
}

/* ---- records ---- */

static cJSON *port_list(const struct portset *p)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < p->n; i++) {
		char buf[16];
		snprintf(buf, sizeof buf, "%d", p->v[i]);
		cJSON_AddItemToArray(a, cJSON_CreateRaw(buf));
	}
	return a;
}

static void put_record(cJSON *o, const struct container_instance *ci)
{
	put_identity(o, ci);
	codec_put_str(o, "status", ci_status_name(ci->status));
	put_opt_str(o, "statusReason", ci->status_reason);
	cJSON_AddItemToObjectCS(o, "agentConnected", cJSON_CreateBool(ci->agent_connected));
	if (ci->attributes.n)
		cJSON_AddItemToObjectCS(o, "attributes", attributes(&ci->attributes));
	codec_put_time(o, "registeredAt", ci->registered_at);
	if (ci->tags.n)
		cJSON_AddItemToObjectCS(o, "tags", codec_tags(&ci->tags));
	codec_put_str(o, "berthRegion", ci->region);
	codec_put_str(o, "berthCluster", ci->cluster);
	put_opt_str(o, "berthInstanceType", ci->instance_type);
	put_opt_str(o, "berthZone", ci->zone);
	if (ci->external)
		cJSON_AddItemToObjectCS(o, "berthExternal", cJSON_CreateTrue());
	codec_put_int(o, "berthCpu", ci->reg_cpu);
	codec_put_int(o, "berthMemory", ci->reg_mem);
	if (ci->reg_ports.n)
		cJSON_AddItemToObjectCS(o, "berthPorts", port_list(&ci->reg_ports));
	if (ci->reg_udp.n)
		cJSON_AddItemToObjectCS(o, "berthPortsUdp", port_list(&ci->reg_udp));
	if (ci->deregistered_at)
		codec_put_time(o, "berthDeregisteredAt", ci->deregistered_at);
	if (ci->last_seen)
		codec_put_time(o, "berthLastSeen", ci->last_seen);
	if (ci->owner)
		codec_put_str(o, "berthOwner", ci->owner);
}

cJSON *codec_ci(const struct model *m, const struct container_instance *ci, unsigned include)
{
	(void)m;
	cJSON *o = cJSON_CreateObject();
	if (include & CODEC_RECORD)
		put_record(o, ci);
	else
		put_api(o, ci, include);
	return o;
}

char *codec_ci_record_id(const struct container_instance *ci)
{
	return xasprintf("%s/%s/%s", ci->region, ci->cluster, ci->id);
}

static void ports_parse(struct portset *p, const cJSON *arr)
{
	const cJSON *v;
	cJSON_ArrayForEach(v, arr)
	{
		if (cJSON_IsNumber(v) && v->valuedouble > 0 && v->valuedouble <= 65535)
			portset_add(p, (int)v->valuedouble);
	}
}

/* The id is the last segment of the ARN: 32 hex characters. */
static int id_from_arn(struct container_instance *ci)
{
	const char *slash = strrchr(ci->arn, '/');
	if (!slash || strlen(slash + 1) != 32)
		return -1;
	memcpy(ci->id, slash + 1, 33);
	return 0;
}

static void parse_rest(struct container_instance *ci, const cJSON *j)
{
	ci->cp_name = codec_dup_of(j, "capacityProviderName");
	/* The server indexes the instance with model_ci_add, which counts one
	 * change that is not one. */
	ci->version = codec_long_of(j, "version", 1) - 1;
	const cJSON *vi = cJSON_GetObjectItemCaseSensitive(j, "versionInfo");
	if (cJSON_IsObject(vi))
		ci->version_info = cJSON_Duplicate(vi, 1);
	ci->status_reason = codec_dup_of(j, "statusReason");
	ci->agent_connected = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "agentConnected"));
	codec_name_values_parse(&ci->attributes, cJSON_GetObjectItemCaseSensitive(j, "attributes"));
	ci->registered_at = codec_time_of(j, "registeredAt");
	codec_tags_parse(&ci->tags, cJSON_GetObjectItemCaseSensitive(j, "tags"));
	ci->instance_type = codec_dup_of(j, "berthInstanceType");
	ci->zone = codec_dup_of(j, "berthZone");
	ci->external = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "berthExternal"));
	ci->reg_cpu = codec_int_of(j, "berthCpu", 0);
	ci->reg_mem = codec_int_of(j, "berthMemory", 0);
	ports_parse(&ci->reg_ports, cJSON_GetObjectItemCaseSensitive(j, "berthPorts"));
	ports_parse(&ci->reg_udp, cJSON_GetObjectItemCaseSensitive(j, "berthPortsUdp"));
	ci->deregistered_at = codec_time_of(j, "berthDeregisteredAt");
	ci->last_seen = codec_time_of(j, "berthLastSeen");
	ci->owner = codec_dup_of(j, "berthOwner");
	ci->agent = ci_is_berth_agent(ci);
}

struct container_instance *codec_ci_from_record(const cJSON *j)
{
	const char *arn = codec_str_of(j, "containerInstanceArn");
	const char *ec2 = codec_str_of(j, "ec2InstanceId");
	const char *region = codec_str_of(j, "berthRegion");
	const char *cluster = codec_str_of(j, "berthCluster");
	int st = ci_status_parse(codec_str_of(j, "status"));
	if (!arn || !ec2 || !region || !cluster || st < 0)
		return NULL;
	struct container_instance *ci = xcalloc(1, sizeof *ci);
	ci->arn = xstrdup(arn);
	ci->ec2_id = xstrdup(ec2);
	ci->region = xstrdup(region);
	ci->cluster = xstrdup(cluster);
	ci->status = (enum ci_status)st;
	if (id_from_arn(ci)) {
		ci_free(ci);
		return NULL;
	}
	parse_rest(ci, j);
	return ci;
}
