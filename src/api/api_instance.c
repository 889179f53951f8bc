/* api_instance: the container instance actions (ECS-SEMANTICS §7):
 * RegisterContainerInstance, DeregisterContainerInstance,
 * DescribeContainerInstances, ListContainerInstances,
 * UpdateContainerInstancesState, PutAttributes, DeleteAttributes,
 * ListAttributes, and the retention of deregistered instances.
 *
 * Invariants: an EC2 instance id is registered (not INACTIVE) in at most one
 * cluster of a region (region->ec2_instances); a cluster's
 * registered_instances is the number of its ACTIVE and DRAINING instances;
 * an instance has at most ATTR_CUSTOM_MAX custom attributes, custom meaning
 * a name outside the prefixes ECS and Berth reserve (ecs.,
 * com.amazonaws.ecs., berth.), which only registration sets.  Only tasks
 * change used_cpu / used_mem / used ports and the task counts; this file
 * reads them. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "lib/xalloc.h"
#include "model/codec.h"
#include "sched/cql.h"

#define ATTR_CUSTOM_MAX 10      /* custom attributes an instance may have */
#define ATTR_PER_CALL_MAX 10    /* attributes in one PutAttributes / DeleteAttributes */
#define PORTS_MAX 100           /* reserved ports in one PORTS / PORTS_UDP resource */
#define DESCRIBE_MAX 100
#define UPDATE_STATE_MAX 10
#define INCLUDE_HEALTH (1u << 16)   /* beside the CODEC_* flags */

/* Registration hints Berth reads from the agent's attributes (and does not
 * keep as attributes). */
#define HINT_CP "berth.capacity-provider"
#define HINT_ID "berth.instance-id"

/* ---- shared helpers ---- */

static cJSON *wrap(const char *key, cJSON *v)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, key, v);
	return o;
}

static void add_failure(cJSON *fl, const char *arn, const char *reason, const char *detail)
{
	cJSON *f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "arn", arn);
	cJSON_AddStringToObject(f, "reason", reason);
	if (detail)
		cJSON_AddStringToObject(f, "detail", detail);
	cJSON_AddItemToArray(fl, f);
}

static bool counts_as_registered(enum ci_status s)
{
	return s == CI_ACTIVE || s == CI_DRAINING;
}

/* Tasks waiting for capacity look again at once when capacity appears. */
static void capacity_appeared(struct api_ctx *ctx)
{
	if (ctx->m->waiting_tasks > 0)
		api_wake(ctx, ctx->now);
}

/* The id an instance reference names in cluster c: the reference itself,
 * or the last part of an ARN of this region and account, in the long form
 * container-instance/<cluster>/<id> (the cluster must be c) or the legacy
 * container-instance/<id>.  NULL if it can name no instance of c. */
static const char *ref_id(struct api_ctx *ctx, const struct cluster *c, const char *ref)
{
	if (strncmp(ref, "arn:", 4) != 0)
		return strchr(ref, '/') ? NULL : ref;
	char *prefix = model_arn(ctx->m, ctx->region, "container-instance/");
	size_t pl = strlen(prefix);
	bool ours = strncmp(ref, prefix, pl) == 0;
	free(prefix);
	if (!ours)
		return NULL;
	const char *rest = ref + pl;
	const char *slash = strchr(rest, '/');
	if (!slash)
		return rest;
	size_t n = (size_t)(slash - rest);
	if (strncmp(rest, c->name, n) != 0 || c->name[n] || strchr(slash + 1, '/'))
		return NULL;
	return slash + 1;
}

int api_ci_lookup(struct api_ctx *ctx, struct cluster *c, const char *ref,
		  struct container_instance **out)
{
	const char *id = ref ? ref_id(ctx, c, ref) : NULL;
	struct container_instance *ci = id ? model_ci_find(c, id) : NULL;
	if (!ci)
		return -1;
	*out = ci;
	return 0;
}

/* The ARN a failure names for a reference that matched nothing. */
static char *missing_arn(struct api_ctx *ctx, const struct cluster *c, const char *ref)
{
	if (strncmp(ref, "arn:", 4) == 0)
		return xstrdup(ref);
	char *res = xasprintf("container-instance/%s/%s", c->name, ref);
	char *arn = model_arn(ctx->m, ctx->region, res);
	free(res);
	return arn;
}

/* healthStatus (include CONTAINER_INSTANCE_HEALTH): the container runtime
 * check, OK while the agent is connected. */
static void add_health(cJSON *o, const struct container_instance *ci)
{
	bool ok = ci->status != CI_INACTIVE && ci->agent_connected;
	const char *st = ok ? "OK" : "INSUFFICIENT_DATA";
	cJSON *h = codec_put_object(o, "healthStatus");
	codec_put_str(h, "overallStatus", st);
	cJSON *d = codec_put_array(h, "details");
	cJSON *x = cJSON_CreateObject();
	codec_put_str(x, "type", "CONTAINER_RUNTIME");
	codec_put_str(x, "status", st);
	codec_put_time(x, "lastUpdated", ci->last_seen ? ci->last_seen : ci->registered_at);
	codec_put_time(x, "lastStatusChange", ci->registered_at);
	cJSON_AddItemToArray(d, x);
}

static cJSON *ci_json(struct api_ctx *ctx, const struct container_instance *ci, unsigned include)
{
	cJSON *o = codec_ci(ctx->m, ci, include & CODEC_TAGS);
	if (include & INCLUDE_HEALTH)
		add_health(o, ci);
	return o;
}

/* Answers of the changing actions carry the tags, as ECS's samples do. */
#define CI_ECHO CODEC_TAGS

/* ---- attributes: names and values ---- */

static bool reserved_attr(const char *name)
{
	return strncmp(name, "ecs.", 4) == 0 || strncmp(name, "com.amazonaws.ecs.", 18) == 0 ||
	       strncmp(name, "berth.", 6) == 0;
}

/* 1-128 letters, digits, hyphens, underscores, slashes, back slashes and
 * periods [M:Attribute.name]. */
static bool attr_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > 128)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("-_/\\.", s[i]))
			return false;
	return true;
}

/* 1-128 letters, digits, - _ . @ / \ : and blanks, no blank at either end
 * [M:Attribute.value]. */
static bool attr_value_ok(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > 128 || s[0] == ' ' || s[n - 1] == ' ')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("-_.@/\\: ", s[i]))
			return false;
	return true;
}

static int check_attr(const cJSON *a, struct err *e)
{
	const char *name = api_str(a, "name");
	const char *value = api_str(a, "value");
	if (!name || !attr_name_ok(name))
		return err_set(e, ERR_INVALID_PARAMETER,
			       "The attribute name '%.200s' is invalid. Names are 1-128 letters, numbers, hyphens, underscores, periods, and forward or back slashes.",
			       name ? name : "");
	if (value && !attr_value_ok(value))
		return err_set(e, ERR_INVALID_PARAMETER,
			       "The value of attribute '%s' is invalid. Values are 1-128 letters, numbers, hyphens, underscores, periods, at signs, colons, slashes and spaces, and cannot start or end with a space.",
			       name);
	return 0;
}

static size_t custom_count(const struct kvlist *l)
{
	size_t n = 0;
	for (size_t i = 0; i < l->n; i++)
		n += !reserved_attr(l->v[i].key);
	return n;
}

static int attr_limit(const struct container_instance *ci, size_t n, struct err *e)
{
	return err_set(e, ERR_ATTRIBUTE_LIMIT,
		       "A container instance can have at most %d custom attributes; container instance %s would have %zu.",
		       ATTR_CUSTOM_MAX, ci ? ci->id : "(new)", n);
}

/* ---- the cluster query language subject ---- */

static const char *subj_attribute(void *arg, const char *name)
{
	const struct container_instance *ci = arg;
	return kvlist_get(&ci->attributes, name);
}

static const char *subj_field(void *arg, const char *name)
{
	/* Valid until the next call, as cql_subject allows; the loop thread
	 * is the only caller. */
	static _Thread_local char buf[32];
	const struct container_instance *ci = arg;
	if (strcmp(name, CQL_FIELD_AGENT_CONNECTED) == 0)
		return ci->agent_connected ? "true" : "false";
	if (strcmp(name, CQL_FIELD_AGENT_VERSION) == 0) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(ci->version_info, "agentVersion");
		return cJSON_IsString(v) ? v->valuestring : NULL;
	}
	if (strcmp(name, CQL_FIELD_EC2_INSTANCE_ID) == 0)
		return ci->ec2_id;
	if (strcmp(name, CQL_FIELD_REGISTERED_AT) == 0) {
		snprintf(buf, sizeof buf, "%lld", (long long)ci->registered_at);
		return buf;
	}
	if (strcmp(name, CQL_FIELD_RUNNING_TASKS_COUNT) == 0) {
		snprintf(buf, sizeof buf, "%ld", ci->running_tasks);
		return buf;
	}
	return NULL;
}

/* Each task group with a task on the instance, once (the instance counts
 * its tasks by group). */
static int subj_groups(void *arg, int (*visit)(void *ctx, const char *group), void *vctx)
{
	const struct container_instance *ci = arg;
	for (size_t i = 0; i < ci->groups.n; i++)
		if (visit(vctx, ci->groups.v[i].key))
			return 1;
	return 0;
}

void api_ci_subject(const struct container_instance *ci, struct cql_subject *s)
{
	s->attribute = subj_attribute;
	s->field = subj_field;
	s->each_task_group = subj_groups;
	s->arg = (void *)ci;
}

/* ---- RegisterContainerInstance ---- */

/* A registration request, checked and taken apart. */
struct reg {
	cJSON *doc;                 /* the identity document, or NULL (an external host) */
	const char *ec2_id;         /* from the document or HINT_ID, or NULL */
	const char *itype, *zone, *ami, *arch, *asg;
	const char *cp_hint;        /* HINT_CP */
	int cpu, mem;
	struct portset ports, udp;
	const cJSON *attrs, *tags, *version;
	const char *arn_ref;        /* containerInstanceArn: a re-registration */
};

static void reg_release(struct reg *q)
{
	cJSON_Delete(q->doc);
	portset_release(&q->ports);
	portset_release(&q->udp);
}

/* EC2 ids (i-0123...), external ids (mi-0123...): short and plain. */
static bool instance_id_ok(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return false;
	return true;
}

/* A string member of the document, which must be fit for an attribute
 * value (it becomes one: ecs.instance-type, ecs.availability-zone...). */
static int doc_member(const cJSON *doc, const char *name, const char **out, struct err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, name);
	*out = NULL;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v) || !attr_value_ok(v->valuestring))
		return err_set(e, ERR_INVALID_PARAMETER,
			       "The instance identity document member %s is not a valid value.", name);
	*out = v->valuestring;
	return 0;
}

static int parse_doc(struct api_ctx *ctx, struct reg *q, const char *text, struct err *e)
{
	q->doc = cJSON_Parse(text);
	if (!cJSON_IsObject(q->doc))
		return err_set(e, ERR_INVALID_PARAMETER,
			       "The instance identity document is not a JSON object.");
	const char *region;
	if (doc_member(q->doc, "instanceId", &q->ec2_id, e) ||
	    doc_member(q->doc, "region", &region, e) ||
	    doc_member(q->doc, "instanceType", &q->itype, e) ||
	    doc_member(q->doc, "availabilityZone", &q->zone, e) ||
	    doc_member(q->doc, "imageId", &q->ami, e) ||
	    doc_member(q->doc, "architecture", &q->arch, e) ||
	    doc_member(q->doc, "autoScalingGroupName", &q->asg, e))
		return -1;
	if (!q->asg && doc_member(q->doc, "asgName", &q->asg, e))
		return -1;
	if (!q->ec2_id || !instance_id_ok(q->ec2_id))
		return err_set(e, ERR_INVALID_PARAMETER,
			       "The instance identity document must give the instanceId of the EC2 instance.");
	if (region && strcmp(region, ctx->region) != 0)
		return err_set(e, ERR_INVALID_PARAMETER,
			       "The instance identity document is for region %s, not %s.", region, ctx->region);
	return 0;
}

static const char *const resource_names[] = {"CPU", "MEMORY", "PORTS", "PORTS_UDP"};

static int parse_int_resource(const cJSON *r, const char *name, int *out, struct err *e)
{
	const char *type = api_str(r, "type");
	const cJSON *v = api_get(r, "integerValue");
	if (!v)
		v = api_get(r, "longValue");
	if ((type && strcmp(type, "INTEGER") != 0) || !cJSON_IsNumber(v) || v->valuedouble < 1 ||
	    v->valuedouble > 2147483647.0)
		return err_set(e, ERR_INVALID_PARAMETER,
			       "The %s resource must be of type INTEGER with an integerValue of at least 1.", name);
	*out = (int)v->valuedouble;
	return 0;
}

static bool port_text_ok(const char *s, int *port)
{
	size_t n = strlen(s);
	if (n < 1 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	*port = atoi(s);
	return *port >= 1 && *port <= 65535;
}

static int parse_port_resource(const cJSON *r, const char *name, struct portset *p, struct err *e)
{
	const char *type = api_str(r, "type");
	const cJSON *set = api_get(r, "stringSetValue");
	if ((type && strcmp(type, "STRINGSET") != 0) || cJSON_GetArraySize(set) > PORTS_MAX)
		return err_set(e, ERR_INVALID_PARAMETER,
			       "The %s resource must be of type STRINGSET with at most %d ports.", name, PORTS_MAX);
	const cJSON *v;
	cJSON_ArrayForEach(v, set)
	{
		int port;
		if (!cJSON_IsString(v) || !port_text_ok(v->valuestring, &port))
			return err_set(e, ERR_INVALID_PARAMETER,
				       "The %s resource lists '%.20s', which is not a port (1-65535).", name,
				       cJSON_IsString(v) ? v->valuestring : "");
		portset_add(p, port);
	}
	return 0;
}

static int parse_resources(const cJSON *arr, struct reg *q, struct err *e)
{
	unsigned seen = 0;
	const cJSON *r;
	cJSON_ArrayForEach(r, arr)
	{
		const char *name = api_str(r, "name");
		int k = -1;
		for (int i = 0; name && i < 4; i++)
			if (strcmp(name, resource_names[i]) == 0)
				k = i;
		if (k < 0)
			return err_set(e, ERR_INVALID_PARAMETER,
				       "The resource '%.60s' is not supported: totalResources may give CPU, MEMORY, PORTS and PORTS_UDP.",
				       name ? name : "");
		if (seen & (1u << k))
			return err_set(e, ERR_INVALID_PARAMETER,
				       "The resource %s is given more than once.", name);
		seen |= 1u << k;
		int rc = k == 0   ? parse_int_resource(r, name, &q->cpu, e)
			 : k == 1 ? parse_int_resource(r, name, &q->mem, e)
				  : parse_port_resource(r, name, k == 2 ? &q->ports : &q->udp, e);
		if (rc)
			return -1;
	}
	if ((seen & 3u) != 3u)
		return err_set(e, ERR_INVALID_PARAMETER,
			       "totalResources must give the instance's CPU and MEMORY (INTEGER resources).");
	return 0;
}

/* The registration's attributes; berth.* ones are hints, read here. */
static int parse_reg_attrs(struct reg *q, struct err *e)
{
	const cJSON *a;
	cJSON_ArrayForEach(a, q->attrs)
	{
		if (check_attr(a, e))
			return -1;
		const char *name = api_str(a, "name");
		const char *value = api_str(a, "value");
		if (strncmp(name, "berth.", 6) != 0)
			continue;
		if (strcmp(name, HINT_CP) && strcmp(name, HINT_ID))
			return err_set(e, ERR_INVALID_PARAMETER,
				       "Attribute names beginning with berth. are reserved; Berth reads %s and %s.",
				       HINT_CP, HINT_ID);
		if (!value)
			return err_set(e, ERR_INVALID_PARAMETER, "The attribute %s needs a value.",
				       name);
		if (strcmp(name, HINT_CP) == 0)
			q->cp_hint = value;
		else
			q->ec2_id = value;
	}
	return 0;
}

static int parse_reg(struct api_ctx *ctx, const cJSON *in, struct reg *q, struct err *e)
{
	q->attrs = api_get(in, "attributes");
	q->tags = api_get(in, "tags");
	q->version = api_get(in, "versionInfo");
	q->arn_ref = api_str(in, "containerInstanceArn");
	if (parse_reg_attrs(q, e))
		return -1;
	const char *hint_id = q->ec2_id;
	const char *doc = api_str(in, "instanceIdentityDocument");
	if (doc && hint_id)
		return err_set(e, ERR_INVALID_PARAMETER,
			       "%s names hosts without an instance identity document; this registration has one.",
			       HINT_ID);
	if (doc && parse_doc(ctx, q, doc, e))
		return -1;
	if (hint_id && !instance_id_ok(hint_id))
		return err_set(e, ERR_INVALID_PARAMETER,
			       "The %s attribute must be 1-64 letters, numbers and hyphens.", HINT_ID);
	return parse_resources(api_get(in, "totalResources"), q, e);
}

/* The cluster to register in: an existing usable one, or NULL when the
 * "default" cluster is to be made on first use (once every check passed,
 * so that a refused registration changes nothing). */
static int reg_cluster(struct api_ctx *ctx, const char *ref, struct cluster **out, struct err *e)
{
	struct cluster *c = api_cluster_find(ctx, ref);
	*out = c;
	if (c)
		return api_cluster_require_active(c, e);
	struct region *r = model_region_find(ctx->m, ctx->region);
	bool dflt = !ref || strcmp(ref, "default") == 0;
	if (!dflt || (r && r->default_created))
		return err_set(e, ERR_CLUSTER_NOT_FOUND, "Cluster not found.");
	return 0;
}

/* The capacity provider the instance belongs to: the one HINT_CP names
 * (which must be an Auto Scaling group provider of the cluster), else the
 * cluster's provider whose group is the document's autoScalingGroupName,
 * else none (instances that pre-date a provider are not linked). */
static int reg_cp(struct api_ctx *ctx, const struct cluster *c, const struct reg *q,
		  const char **out, struct err *e)
{
	struct region *r = model_region_find(ctx->m, ctx->region);
	*out = NULL;
	if (q->cp_hint) {
		struct capacity_provider *cp = r ? model_cp_find(r, q->cp_hint) : NULL;
		if (!cp || cp->status == CP_INACTIVE || !c || !cluster_has_cp(c, cp->name))
			return err_set(e, ERR_INVALID_PARAMETER,
				       "The capacity provider '%s' is not an Auto Scaling group capacity provider associated with cluster '%s'.",
				       q->cp_hint, c ? c->name : "default");
		*out = cp->name;
		return 0;
	}
	for (size_t i = 0; q->asg && c && r && i < c->n_cps; i++) {
		const char *name = c->cps[i];
		struct capacity_provider *cp = cp_is_builtin(name) ? NULL : model_cp_find(r, name);
		if (cp && cp->status != CP_INACTIVE && cp->asg_name &&
		    strcmp(cp->asg_name, q->asg) == 0) {
			*out = cp->name;
			break;
		}
	}
	return 0;
}

/* The instance a registration is about, if it exists already: the one
 * containerInstanceArn names (the agent re-registering), else the one the
 * EC2 instance is registered as in this cluster (an agent that lost its
 * state).  An EC2 instance registered in another cluster is refused: an
 * instance belongs to one cluster at a time. */
static int reg_existing(struct api_ctx *ctx, struct cluster *c, const struct reg *q,
			struct container_instance **out, struct err *e)
{
	struct region *r = model_region_find(ctx->m, ctx->region);
	struct container_instance *held =
		r && q->ec2_id ? sidx_get(&r->ec2_instances, q->ec2_id) : NULL;
	*out = NULL;
	if (q->arn_ref) {
		struct container_instance *ci;
		if (!c || api_ci_lookup(ctx, c, q->arn_ref, &ci)) {
			const char *slash = strrchr(q->arn_ref, '/');
			return err_set(e, ERR_CLIENT,
				       "Referenced container instance %.100s not registered.",
				       slash ? slash + 1 : q->arn_ref);
		}
		if (ci->status == CI_INACTIVE)
			return err_set(e, ERR_CLIENT, "Container instance %s is inactive.", ci->id);
		if (q->ec2_id && strcmp(q->ec2_id, ci->ec2_id) != 0)
			return err_set(e, ERR_INVALID_PARAMETER,
				       "Container instance %s is registered for instance %s, not %s.", ci->id,
				       ci->ec2_id, q->ec2_id);
		*out = ci;
		return 0;
	}
	if (held && (!c || strcmp(held->cluster, c->name) != 0))
		return err_set(e, ERR_INVALID_PARAMETER,
			       "The instance %s is already registered with cluster %s. An instance can be registered with one cluster at a time; deregister it first.",
			       q->ec2_id, held->cluster);
	*out = held;
	return 0;
}

/* Custom attributes and tags stay within their limits. */
static int reg_limits(const struct reg *q, const struct container_instance *ci, struct err *e)
{
	size_t n = ci ? custom_count(&ci->attributes) : 0;
	const cJSON *a;
	cJSON_ArrayForEach(a, q->attrs)
	{
		const char *name = api_str(a, "name");
		bool seen = reserved_attr(name) || (ci && kvlist_get(&ci->attributes, name));
		for (const cJSON *b = q->attrs->child; b != a && !seen; b = b->next)
			seen = strcmp(api_str(b, "name"), name) == 0;
		n += !seen;
	}
	if (n > ATTR_CUSTOM_MAX)
		return attr_limit(ci, n, e);
	size_t other = 0;
	for (size_t i = 0; ci && i < ci->tags.n; i++) {
		bool given = false;
		const cJSON *t;
		cJSON_ArrayForEach(t, q->tags)
		{
			const char *k = api_str(t, "key");
			given = given || (k && strcmp(k, ci->tags.v[i].key) == 0);
		}
		other += !given;
	}
	return api_tags_check(q->tags, other, e);
}

static void set_default(struct kvlist *l, const char *name, const char *value)
{
	if (!kvlist_get(l, name))
		kvlist_set(l, name, value);
}

/* The agent's attributes, then what ECS adds: the document's facts win over
 * the agent's, the platform defaults do not. */
static void reg_attributes(struct container_instance *ci, const struct reg *q)
{
	const cJSON *a;
	cJSON_ArrayForEach(a, q->attrs)
	{
		const char *name = api_str(a, "name");
		const char *value = api_str(a, "value");
		if (strncmp(name, "berth.", 6) != 0)
			kvlist_set(&ci->attributes, name, value ? value : "");
	}
	if (q->ami)
		kvlist_set(&ci->attributes, "ecs.ami-id", q->ami);
	if (q->zone)
		kvlist_set(&ci->attributes, "ecs.availability-zone", q->zone);
	if (q->itype)
		kvlist_set(&ci->attributes, "ecs.instance-type", q->itype);
	set_default(&ci->attributes, "ecs.os-type", "linux");
	set_default(&ci->attributes, "ecs.os-family", "LINUX");
	set_default(&ci->attributes, "ecs.cpu-architecture", q->arch ? q->arch : "x86_64");
	if (ci->external)
		set_default(&ci->attributes, "ecs.capability.external", "");
}

static void reg_version(struct container_instance *ci, const cJSON *v)
{
	static const char *const members[] = {"agentVersion", "agentHash", "dockerVersion"};
	if (!v)
		return;
	cJSON_Delete(ci->version_info);
	ci->version_info = cJSON_CreateObject();
	for (size_t i = 0; i < 3; i++) {
		const char *s = api_str(v, members[i]);
		if (s)
			cJSON_AddStringToObject(ci->version_info, members[i], s);
	}
}

static void replace_str(char **dst, const char *src)
{
	if (!src)
		return;
	free(*dst);
	*dst = xstrdup(src);
}

/* Apply a checked registration to ci (new or re-registering). */
static void reg_apply(struct api_ctx *ctx, struct container_instance *ci, struct reg *q,
		      const char *cp)
{
	ci->reg_cpu = q->cpu;
	ci->reg_mem = q->mem;
	portset_release(&ci->reg_ports);
	portset_release(&ci->reg_udp);
	ci->reg_ports = q->ports;
	ci->reg_udp = q->udp;
	q->ports = (struct portset){0};
	q->udp = (struct portset){0};
	reg_version(ci, q->version);
	replace_str(&ci->instance_type, q->itype);
	replace_str(&ci->zone, q->zone);
	replace_str(&ci->cp_name, cp);
	reg_attributes(ci, q);
	codec_tags_parse(&ci->tags, q->tags);
	ci->agent_connected = true;
	ci->lost_at = 0;
	ci->last_seen = ctx->now;
	ci->agent = ci_is_berth_agent(ci);
	free(ci->owner);
	ci->owner = ctx->caller ? xstrdup(ctx->caller->arn) : NULL;
}

static struct container_instance *reg_new(struct api_ctx *ctx, struct cluster *c,
					  const struct reg *q)
{
	struct container_instance *ci = xcalloc(1, sizeof *ci);
	ci->region = xstrdup(c->region);
	ci->cluster = xstrdup(c->name);
	rng_hex32(ctx->rng, ci->id);
	char *res = xasprintf("container-instance/%s/%s", c->name, ci->id);
	ci->arn = model_arn(ctx->m, c->region, res);
	free(res);
	if (q->ec2_id) {
		ci->ec2_id = xstrdup(q->ec2_id);
	} else {
		/* An external host that named itself nothing: an id of the
		 * shape ECS Anywhere gives managed instances. */
		char hex[33];
		rng_hex32(ctx->rng, hex);
		ci->ec2_id = xasprintf("mi-%.17s", hex);
	}
	ci->external = !q->doc;
	ci->status = CI_ACTIVE;
	ci->registered_at = ctx->now;
	return ci;
}

int api_register_container_instance(struct api_ctx *ctx, const cJSON *in, cJSON **out,
				    struct err *e)
{
	struct reg q = {0};
	struct cluster *c;
	struct container_instance *ci;
	const char *cp;
	const char *ref = api_str(in, "cluster");
	if (parse_reg(ctx, in, &q, e) || reg_cluster(ctx, ref, &c, e) ||
	    reg_cp(ctx, c, &q, &cp, e) || reg_existing(ctx, c, &q, &ci, e) ||
	    reg_limits(&q, ci, e)) {
		reg_release(&q);
		return -1;
	}
	if (!c && api_cluster_lookup(ctx, ref, true, &c, e)) {
		reg_release(&q);
		return -1;
	}
	if (ci && ctx->caller && ci->owner && strcmp(ci->owner, ctx->caller->arn) != 0) {
		reg_release(&q);
		return err_set(e, ERR_ACCESS_DENIED,
			       "User: %s is not authorized to perform: ecs:RegisterContainerInstance on resource: %s because another principal registered it",
			       ctx->caller->arn, ci->arn);
	}
	if (ci) {
		reg_apply(ctx, ci, &q, cp);
		model_dirty_ci(ctx->m, ci);
	} else {
		ci = reg_new(ctx, c, &q);
		reg_apply(ctx, ci, &q, cp);
		model_ci_add(ctx->m, model_region(ctx->m, c->region), c, ci);
		c->registered_instances++;
		model_dirty_cluster(ctx->m, c);
	}
	reg_release(&q);
	capacity_appeared(ctx);
	*out = wrap("containerInstance", ci_json(ctx, ci, CI_ECHO));
	return 0;
}

/* ---- DeregisterContainerInstance ---- */

static void deactivate(struct api_ctx *ctx, struct cluster *c, struct container_instance *ci)
{
	if (counts_as_registered(ci->status)) {
		c->registered_instances--;
		model_dirty_cluster(ctx->m, c);
	}
	ci->status = CI_INACTIVE;
	ci->deregistered_at = ctx->now;
	model_ci_unindex(model_region(ctx->m, ci->region), ci);
	model_dirty_ci(ctx->m, ci);
	api_wake(ctx, ci->deregistered_at + ctx->cfg->instance_retention_ms);
}

int api_deregister_container_instance(struct api_ctx *ctx, const cJSON *in, cJSON **out,
				      struct err *e)
{
	struct cluster *c;
	struct container_instance *ci;
	if (api_cluster_lookup(ctx, api_str(in, "cluster"), false, &c, e))
		return -1;
	const char *ref = api_str(in, "containerInstance");
	if (api_ci_lookup(ctx, c, ref, &ci))
		return err_set(e, ERR_CLIENT, "Referenced container instance %.200s not found.",
			       ref ? ref : "");
	bool force = cJSON_IsTrue(api_get(in, "force"));
	/* An INACTIVE instance is answered as it is, as DeleteCluster answers
	 * an INACTIVE cluster. */
	if (ci->status != CI_INACTIVE) {
		if (ci->n_here > 0 && !force)
			return err_set(e, ERR_INVALID_PARAMETER,
				       "Found running tasks on the instance.");
		if (ci->n_here > 0)
			api_tasks_instance_gone(ctx, ci, "Container instance deregistered");
		deactivate(ctx, c, ci);
	}
	*out = wrap("containerInstance", ci_json(ctx, ci, CI_ECHO));
	return 0;
}

/* ---- DescribeContainerInstances ---- */

static unsigned parse_include(const cJSON *inc)
{
	unsigned f = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, inc)
	{
		if (!cJSON_IsString(it))
			continue;
		if (strcmp(it->valuestring, "TAGS") == 0)
			f |= CODEC_TAGS;
		else if (strcmp(it->valuestring, "CONTAINER_INSTANCE_HEALTH") == 0)
			f |= INCLUDE_HEALTH;
	}
	return f;
}

int api_describe_container_instances(struct api_ctx *ctx, const cJSON *in, cJSON **out,
				     struct err *e)
{
	const cJSON *list = api_get(in, "containerInstances");
	if (cJSON_GetArraySize(list) > DESCRIBE_MAX)
		return err_set(e, ERR_INVALID_PARAMETER, "instanceIds can have at most %d items.",
			       DESCRIBE_MAX);
	unsigned include = parse_include(api_get(in, "include"));
	struct cluster *c;
	if (api_cluster_lookup(ctx, api_str(in, "cluster"), false, &c, e))
		return -1;
	cJSON *o = cJSON_CreateObject();
	cJSON *cl = cJSON_AddArrayToObject(o, "containerInstances");
	cJSON *fl = cJSON_AddArrayToObject(o, "failures");
	const cJSON *it;
	cJSON_ArrayForEach(it, list)
	{
		struct container_instance *ci;
		if (api_ci_lookup(ctx, c, it->valuestring, &ci) == 0) {
			cJSON_AddItemToArray(cl, ci_json(ctx, ci, include));
		} else {
			char *arn = missing_arn(ctx, c, it->valuestring);
			add_failure(fl, arn, "MISSING", NULL);
			free(arn);
		}
	}
	*out = o;
	return 0;
}

/* ---- ListContainerInstances ---- */

static int page_size(const cJSON *in, int *max, struct err *e)
{
	*max = api_int(in, "maxResults", 100);
	if (*max < 1 || *max > 100)
		return err_set(e, ERR_INVALID_PARAMETER,
			       "maxResults must be between 1 and 100; %d is out of range.", *max);
	return 0;
}

/* The listing's filter, or NULL for none (an empty one included). */
static int parse_filter(const cJSON *in, struct cql_expr **x, struct err *e)
{
	const char *text = api_str(in, "filter");
	*x = NULL;
	if (!text || !*text)
		return 0;
	*x = cql_parse(text, e);
	if (!*x) {
		e->code = ERR_INVALID_PARAMETER;
		return -1;
	}
	return 0;
}

/* status < 0: every status but INACTIVE. */
static bool ci_listed(const struct container_instance *ci, int status, const struct cql_expr *x)
{
	if (status < 0 ? ci->status == CI_INACTIVE : (int)ci->status != status)
		return false;
	if (!x)
		return true;
	struct cql_subject s;
	api_ci_subject(ci, &s);
	return cql_eval(x, &s) == 1;
}

static void list_page(struct cluster *c, const char *after, int max, int status,
		      const struct cql_expr *x, cJSON *o)
{
	cJSON *arns = cJSON_AddArrayToObject(o, "containerInstanceArns");
	int k = 0;
	const char *last = NULL;
	for (size_t i = sidx_after(&c->instances, after); i < c->instances.n; i++) {
		const struct container_instance *ci = c->instances.v[i].val;
		if (!ci_listed(ci, status, x))
			continue;
		if (k == max) {
			/* A next page only if something listable remains. */
			char *t = api_token_encode("instances", last);
			cJSON_AddStringToObject(o, "nextToken", t);
			free(t);
			return;
		}
		cJSON_AddItemToArray(arns, cJSON_CreateString(ci->arn));
		last = ci->id;
		k++;
	}
}

int api_list_container_instances(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	int max;
	const char *st = api_str(in, "status");
	const char *tok = api_str(in, "nextToken");
	struct cql_expr *x;
	char *after = NULL;
	struct cluster *c;
	if (page_size(in, &max, e) || (tok && !(after = api_token_decode("instances", tok, e))))
		return -1;
	if (parse_filter(in, &x, e) ||
	    api_cluster_lookup(ctx, api_str(in, "cluster"), false, &c, e)) {
		free(after);
		cql_free(x);
		return -1;
	}
	*out = cJSON_CreateObject();
	list_page(c, after, max, st ? ci_status_parse(st) : -1, x, *out);
	free(after);
	cql_free(x);
	return 0;
}

/* ---- UpdateContainerInstancesState ---- */

/* Move one instance to want (ACTIVE or DRAINING); false (with a failure)
 * if its status cannot change. */
static bool set_state(struct api_ctx *ctx, struct container_instance *ci, enum ci_status want,
		      cJSON *fl)
{
	if (!counts_as_registered(ci->status)) {
		char detail[160];
		snprintf(detail, sizeof detail,
			 "The container instance is %s; only ACTIVE and DRAINING instances can change state.",
			 ci_status_name(ci->status));
		add_failure(fl, ci->arn, ci_status_name(ci->status), detail);
		return false;
	}
	if (ci->status != want) {
		ci->status = want;
		model_dirty_ci(ctx->m, ci);
		if (want == CI_ACTIVE)
			capacity_appeared(ctx);
		api_svc_instance_changed(ctx, ci);
	}
	return true;
}

int api_update_container_instances_state(struct api_ctx *ctx, const cJSON *in, cJSON **out,
					 struct err *e)
{
	const cJSON *list = api_get(in, "containerInstances");
	const char *st = api_str(in, "status");
	if (cJSON_GetArraySize(list) > UPDATE_STATE_MAX)
		return err_set(e, ERR_INVALID_PARAMETER, "instanceIds can have at most %d items.",
			       UPDATE_STATE_MAX);
	if (!st || (strcmp(st, "ACTIVE") && strcmp(st, "DRAINING")))
		return err_set(e, ERR_INVALID_PARAMETER,
			       "Container instances can only be set to ACTIVE or DRAINING, not %s.", st ? st : "");
	struct cluster *c;
	if (api_cluster_lookup(ctx, api_str(in, "cluster"), false, &c, e))
		return -1;
	enum ci_status want = strcmp(st, "ACTIVE") == 0 ? CI_ACTIVE : CI_DRAINING;
	struct container_instance *done[UPDATE_STATE_MAX] = {0};
	size_t n = 0;
	cJSON *o = cJSON_CreateObject();
	cJSON *cl = cJSON_AddArrayToObject(o, "containerInstances");
	cJSON *fl = cJSON_AddArrayToObject(o, "failures");
	const cJSON *it;
	cJSON_ArrayForEach(it, list)
	{
		struct container_instance *ci;
		if (api_ci_lookup(ctx, c, it->valuestring, &ci)) {
			char *arn = missing_arn(ctx, c, it->valuestring);
			add_failure(fl, arn, "MISSING", NULL);
			free(arn);
			continue;
		}
		bool again = false;
		for (size_t k = 0; k < n; k++)
			again = again || done[k] == ci;
		if (again || !set_state(ctx, ci, want, fl))
			continue;
		done[n++] = ci;
		cJSON_AddItemToArray(cl, ci_json(ctx, ci, CI_ECHO));
	}
	*out = o;
	return 0;
}

/* ---- PutAttributes / DeleteAttributes ---- */

/* The instance an attribute's targetId names in cluster c: a full ARN, or
 * a short id together with targetType. */
static int attr_target(struct api_ctx *ctx, struct cluster *c, const cJSON *a,
		       struct container_instance **out, struct err *e)
{
	const char *id = api_str(a, "targetId");
	if (!id)
		return err_set(e, ERR_INVALID_PARAMETER,
			       "The attribute '%s' has no targetId: name the container instance by its ARN, or by its ID with targetType container-instance.",
			       api_str(a, "name"));
	if (strncmp(id, "arn:", 4) != 0 && !api_str(a, "targetType"))
		return err_set(e, ERR_INVALID_PARAMETER,
			       "targetType is required when targetId is not a full ARN.");
	if (api_ci_lookup(ctx, c, id, out) || (*out)->status == CI_INACTIVE)
		return err_set(e, ERR_TARGET_NOT_FOUND, "Could not find %.200s", id);
	return 0;
}

/* A Put/Delete request, checked: each attribute with its target. */
struct attr_req {
	size_t n;
	const cJSON *items[ATTR_PER_CALL_MAX];
	const char *names[ATTR_PER_CALL_MAX];
	struct container_instance *targets[ATTR_PER_CALL_MAX];
};

static int attr_request(struct api_ctx *ctx, const cJSON *in, struct attr_req *q, struct err *e)
{
	const cJSON *attrs = api_get(in, "attributes");
	struct cluster *c;
	if (cJSON_GetArraySize(attrs) > ATTR_PER_CALL_MAX)
		return err_set(e, ERR_INVALID_PARAMETER, "attributes can have at most %d items.",
			       ATTR_PER_CALL_MAX);
	if (api_cluster_lookup(ctx, api_str(in, "cluster"), false, &c, e))
		return -1;
	const cJSON *a;
	cJSON_ArrayForEach(a, attrs)
	{
		if (check_attr(a, e) || attr_target(ctx, c, a, &q->targets[q->n], e))
			return -1;
		q->items[q->n] = a;
		q->names[q->n] = api_str(a, "name");
		if (reserved_attr(q->names[q->n]))
			return err_set(e, ERR_INVALID_PARAMETER,
				       "The attribute '%s' is reserved: names beginning with ecs., com.amazonaws.ecs. or berth. are set at registration only.",
				       q->names[q->n]);
		q->n++;
	}
	return 0;
}

/* An attribute as the answers echo it. */
static cJSON *attr_echo(const cJSON *a, const char *value)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", api_str(a, "name"));
	if (value && *value)
		cJSON_AddStringToObject(o, "value", value);
	const char *type = api_str(a, "targetType");
	if (type)
		cJSON_AddStringToObject(o, "targetType", type);
	cJSON_AddStringToObject(o, "targetId", api_str(a, "targetId"));
	return o;
}

/* Whether item i is the first of the request on its target (with same_name:
 * the first to name its attribute there). */
static bool first_on_target(const struct attr_req *q, size_t i, bool same_name)
{
	for (size_t k = 0; k < i; k++)
		if (q->targets[k] == q->targets[i] &&
		    (!same_name || strcmp(q->names[k], q->names[i]) == 0))
			return false;
	return true;
}

/* Each target keeps at most ATTR_CUSTOM_MAX custom attributes. */
static int put_limits(const struct attr_req *q, struct err *e)
{
	for (size_t i = 0; i < q->n; i++) {
		const struct container_instance *ci = q->targets[i];
		if (!first_on_target(q, i, false))
			continue;
		size_t count = custom_count(&ci->attributes);
		for (size_t k = i; k < q->n; k++)
			count += q->targets[k] == ci && !kvlist_get(&ci->attributes, q->names[k]) &&
				 first_on_target(q, k, true);
		if (count > ATTR_CUSTOM_MAX)
			return attr_limit(ci, count, e);
	}
	return 0;
}

/* Mark each distinct target changed once. */
static void dirty_targets(struct api_ctx *ctx, const struct attr_req *q)
{
	for (size_t i = 0; i < q->n; i++)
		if (first_on_target(q, i, false))
			model_dirty_ci(ctx->m, q->targets[i]);
}

int api_put_attributes(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	struct attr_req q = {0};
	if (attr_request(ctx, in, &q, e) || put_limits(&q, e))
		return -1;
	cJSON *o = cJSON_CreateObject();
	cJSON *echo = cJSON_AddArrayToObject(o, "attributes");
	for (size_t i = 0; i < q.n; i++) {
		const char *value = api_str(q.items[i], "value");
		kvlist_set(&q.targets[i]->attributes, q.names[i], value ? value : "");
		cJSON_AddItemToArray(echo, attr_echo(q.items[i], value));
	}
	dirty_targets(ctx, &q);
	*out = o;
	return 0;
}

int api_delete_attributes(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	struct attr_req q = {0};
	if (attr_request(ctx, in, &q, e))
		return -1;
	cJSON *o = cJSON_CreateObject();
	cJSON *echo = cJSON_AddArrayToObject(o, "attributes");
	for (size_t i = 0; i < q.n; i++) {
		struct kvlist *l = &q.targets[i]->attributes;
		const char *had = kvlist_get(l, q.names[i]);
		/* The answer says what was deleted: the stored value. */
		const char *value = had ? had : api_str(q.items[i], "value");
		cJSON_AddItemToArray(echo, attr_echo(q.items[i], value));
		kvlist_del(l, q.names[i]);
	}
	dirty_targets(ctx, &q);
	*out = o;
	return 0;
}

/* ---- ListAttributes ---- */

/* Pages run over (instance id, attribute name) in order; a token is the
 * last pair answered, "<id>/<name>" (ids hold no '/'). */
struct attr_page {
	const char *name, *value;   /* the filters, or NULL */
	const char *after_id, *after_name;
	int left;
	const struct container_instance *last_ci;
	const char *last_name;
	cJSON *arr;
	bool more;
};

static int kv_cmp(const void *a, const void *b)
{
	const struct kv *x = *(const struct kv *const *)a, *y = *(const struct kv *const *)b;
	return strcmp(x->key, y->key);
}

static bool attr_matches(const struct attr_page *p, const struct kv *kv)
{
	return (!p->name || strcmp(kv->key, p->name) == 0) &&
	       (!p->value || strcmp(kv->value, p->value) == 0);
}

/* Add ci's matching attributes past the resume point to the page; false
 * once the page is full and one more item was seen. */
static bool attr_page_add(struct attr_page *p, const struct container_instance *ci)
{
	const struct kv **v = xcalloc(ci->attributes.n ? ci->attributes.n : 1, sizeof *v);
	size_t n = 0;
	bool resume = p->after_id && strcmp(ci->id, p->after_id) == 0;
	for (size_t i = 0; i < ci->attributes.n; i++) {
		const struct kv *kv = &ci->attributes.v[i];
		if (attr_matches(p, kv) && (!resume || strcmp(kv->key, p->after_name) > 0))
			v[n++] = kv;
	}
	qsort(v, n, sizeof *v, kv_cmp);
	for (size_t i = 0; i < n; i++) {
		if (p->left == 0) {
			p->more = true;
			break;
		}
		cJSON *a = cJSON_CreateObject();
		cJSON_AddStringToObject(a, "name", v[i]->key);
		if (*v[i]->value)
			cJSON_AddStringToObject(a, "value", v[i]->value);
		cJSON_AddStringToObject(a, "targetId", ci->arn);
		cJSON_AddItemToArray(p->arr, a);
		p->left--;
		p->last_ci = ci;
		p->last_name = v[i]->key;
	}
	free(v);
	return !p->more;
}

static void attr_list(struct cluster *c, struct attr_page *p, cJSON *o)
{
	p->arr = cJSON_AddArrayToObject(o, "attributes");
	size_t i = 0;
	if (p->after_id) {
		i = sidx_after(&c->instances, p->after_id);
		if (i > 0 && strcmp(c->instances.v[i - 1].key, p->after_id) == 0)
			i--;
	}
	for (; i < c->instances.n; i++) {
		const struct container_instance *ci = c->instances.v[i].val;
		if (ci->status != CI_INACTIVE && !attr_page_add(p, ci))
			break;
	}
	if (p->more) {
		char *key = xasprintf("%s/%s", p->last_ci->id, p->last_name);
		char *t = api_token_encode("attributes", key);
		cJSON_AddStringToObject(o, "nextToken", t);
		free(t);
		free(key);
	}
}

int api_list_attributes(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	struct attr_page p = {.name = api_str(in, "attributeName"),
			      .value = api_str(in, "attributeValue")};
	const char *tok = api_str(in, "nextToken");
	char *key = NULL;
	struct cluster *c;
	if (p.value && !p.name)
		return err_set(e, ERR_INVALID_PARAMETER,
			       "attributeValue can only be given with attributeName.");
	if (page_size(in, &p.left, e) || (tok && !(key = api_token_decode("attributes", tok, e))))
		return -1;
	if (key) {
		char *slash = strchr(key, '/');
		if (!slash) {
			free(key);
			return err_set(e, ERR_INVALID_PARAMETER,
				       "The specified nextToken is invalid.");
		}
		*slash = '\0';
		p.after_id = key;
		p.after_name = slash + 1;
	}
	if (api_cluster_lookup(ctx, api_str(in, "cluster"), false, &c, e)) {
		free(key);
		return -1;
	}
	*out = cJSON_CreateObject();
	attr_list(c, &p, *out);
	free(key);
	return 0;
}

/* ---- lifecycle ---- */

int64_t api_ci_advance(struct api_ctx *ctx, struct region *r)
{
	int64_t next = 0;
	for (size_t k = 0; k < r->clusters.n; k++) {
		struct cluster *c = r->clusters.v[k].val;
		/* Instances are ACTIVE, DRAINING or INACTIVE: when every one
		 * is registered there is nothing to purge (the common case,
		 * checked without walking them). */
		if (c->instances.n == (size_t)c->registered_instances)
			continue;
		for (size_t i = 0; i < c->instances.n;) {
			struct container_instance *ci = c->instances.v[i].val;
			int64_t until = ci->deregistered_at + ctx->cfg->instance_retention_ms;
			/* Tasks that still refer to it keep it; their own purge
			 * comes first in api_advance and brings us back. */
			if (ci->status == CI_INACTIVE && ci->tasks == 0) {
				if (until <= ctx->now) {
					model_ci_purge(ctx->m, r, c, ci);
					continue; /* the index shifted down */
				}
				if (!next || until < next)
					next = until;
			}
			i++;
		}
	}
	return next;
}
