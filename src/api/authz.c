/* authz: which IAM authorization requests an API call makes (authz.h).
 *
 * Source: the Service Authorization Reference, "Actions, resources, and
 * condition keys for Amazon Elastic Container Service" (ecs), "... for
 * Amazon EC2 Auto Scaling" (autoscaling) and "... for AWS Identity and
 * Access Management" (iam), read in their machine-readable form; * marks a
 * required resource type, "-" an action with none (its resource is "*").
 * Keys in [brackets] are listed by the reference but not supplied here.
 * Every ECS resource type also carries aws:ResourceTag/K and
 * ecs:ResourceTag/K (both are supplied, from the model's tags); an Auto
 * Scaling group carries aws:ResourceTag/K and autoscaling:ResourceTag/K.
 *
 * ECS (ARNs arn:aws:ecs:R:A:cluster/NAME, container-instance/CLUSTER/ID,
 * service/CLUSTER/NAME, task/CLUSTER/ID, task-definition/FAMILY:REV,
 * capacity-provider/NAME):
 *   CreateCapacityProvider  capacity-provider*  RequestTag, TagKeys [propagate-tags,
 *                           instance-metadata-tags-propagation]; dep. ecs:TagResource
 *   CreateCluster           cluster*            RequestTag, TagKeys, capacity-provider,
 *                           fargate-ephemeral-storage-kms-key; dep. ecs:TagResource
 *   CreateService           service*            RequestTag, TagKeys, cluster, capacity-provider,
 *                           task-definition, enable-execute-command, enable-ecs-managed-tags,
 *                           propagate-tags, subnet, auto-assign-public-ip, enable-service-connect,
 *                           namespace [enable-ebs-volumes, enable-vpc-lattice, task-cpu,
 *                           task-memory]; dep. ecs:TagResource
 *   DeleteAttributes        container-instance* cluster (one item per attribute target)
 *   DeleteCapacityProvider  capacity-provider*
 *   DeleteCluster           cluster*
 *   DeleteService           service*            cluster
 *   DeleteTaskDefinitions   task-definition*    (one item per definition)
 *   DeregisterContainerInstance cluster*
 *   DeregisterTaskDefinition -
 *   DescribeCapacityProviders capacity-provider* (none named: "*" (unconfirmed))
 *   DescribeClusters        cluster*            (none named: "default")
 *   DescribeContainerInstances container-instance* cluster
 *   DescribeServices        service*            cluster
 *   DescribeTaskDefinition  -
 *   DescribeTasks           task*               cluster
 *   GetTaskProtection       task*               cluster (no tasks named: "*" (unconfirmed))
 *   ListAttributes          cluster*
 *   ListClusters            -
 *   ListContainerInstances  cluster*
 *   ListServices            -                   cluster
 *   ListServicesByNamespace -                   namespace
 *   ListTagsForResource     any ECS type        (the resourceArn named)
 *   ListTaskDefinitionFamilies, ListTaskDefinitions  -
 *   ListTasks               container-instance* cluster; without containerInstance the
 *                           resource is "*" (AWS's own AccessDenied messages say so)
 *   PutAttributes           container-instance* cluster (one item per attribute target)
 *   PutClusterCapacityProviders cluster*        capacity-provider
 *   RegisterContainerInstance cluster*          RequestTag, TagKeys
 *   RegisterTaskDefinition  task-definition*    RequestTag, TagKeys, compute-compatibility,
 *                           privileged, task-cpu, task-memory; dep. ecs:TagResource.  ARN:
 *                           FAMILY:<next revision> (unconfirmed: which ARN AWS evaluates)
 *   RunTask                 task-definition*    RequestTag, TagKeys, cluster, capacity-provider,
 *                           enable-execute-command [enable-ebs-volumes]
 *   StartTask               task-definition*    RequestTag, TagKeys, cluster, container-instances,
 *                           enable-execute-command [enable-ebs-volumes]
 *   StopTask                task*               cluster
 *   TagResource             any ECS type        RequestTag, TagKeys [CreateAction]
 *   UntagResource           any ECS type        TagKeys
 *   UpdateCapacityProvider  capacity-provider*
 *   UpdateCluster           cluster*            fargate-ephemeral-storage-kms-key
 *   UpdateClusterSettings   cluster*
 *   UpdateContainerInstancesState container-instance* cluster
 *   UpdateService           service*            cluster, capacity-provider, task-definition,
 *                           enable-execute-command, enable-ecs-managed-tags, propagate-tags,
 *                           subnet, auto-assign-public-ip, enable-service-connect, namespace
 *   UpdateTaskProtection    task*               cluster
 *   agent: SubmitTaskStateChange, SubmitContainerStateChange,
 *          SubmitAttachmentStateChanges  cluster*
 *          DiscoverPollEndpoint  - (the reference lists no resource type)
 *          Poll  container-instance*  cluster (members cluster, containerInstance (unconfirmed))
 * Where a key's value is a setting the request may leave out
 * (enable-execute-command, enable-ecs-managed-tags on a create), the
 * default ("false") is supplied (unconfirmed: AWS may omit the key).
 * "dep. ecs:TagResource": a create that carries tags also needs
 * ecs:TagResource on the new resource with ecs:CreateAction = the
 * operation (the reference's dependent action; ECS's tagResourceAuthorization).
 *
 * Auto Scaling (ARNs arn:aws:autoscaling:R:A:autoScalingGroup:UUID:
 * autoScalingGroupName/NAME, launchConfiguration:UUID:launchConfigurationName/NAME;
 * UUID is "*" for one that does not exist (unconfirmed)):
 *   CreateLaunchConfiguration  launchConfiguration*  ImageId, InstanceType [Metadata*, SpotPrice]
 *   DeleteLaunchConfiguration  launchConfiguration*
 *   CreateAutoScalingGroup     autoScalingGroup*  RequestTag, TagKeys, LaunchConfigurationName,
 *                              MinSize, MaxSize, VPCZoneIdentifiers [ImageId, InstanceTypes,
 *                              LoadBalancerNames, TargetGroupARNs, ...]; dep.
 *                              autoscaling:CreateOrUpdateTags when tagged
 *   UpdateAutoScalingGroup     autoScalingGroup*  LaunchConfigurationName, MinSize, MaxSize,
 *                              VPCZoneIdentifiers
 *   DeleteAutoScalingGroup     autoScalingGroup*  ForceDelete
 *   SetDesiredCapacity, SetInstanceProtection  autoScalingGroup*
 *   TerminateInstanceInAutoScalingGroup  autoScalingGroup*  (the instance's group; an unknown
 *                              instance: autoScalingGroup:*:autoScalingGroupName/ANY, ANY being "*"
 *                              (unconfirmed))
 *   DescribeLaunchConfigurations, DescribeAutoScalingGroups, DescribeAutoScalingInstances,
 *   DescribePolicies, DescribeScalingActivities  -
 *
 * IAM (user ARN arn:aws:iam::A:user{path}{name}; "UserName" absent: the
 * caller, arn:aws:iam::A:root for the root):
 *   GetUser, GetUserPolicy, ListAccessKeys, ListUserPolicies, PutUserPolicy  user*
 *   CreateUser, DeleteUser, CreateAccessKey, DeleteAccessKey, UpdateAccessKey,
 *   DeleteUserPolicy  user* (unconfirmed: not re-read; the pattern of the others)
 *   CreateUser also RequestTag, TagKeys [PermissionsBoundary]
 *   ListUsers  -
 * Berth's extensions: "berth:<op>" on "*", except AgentPoll, the agent's long
 * poll, which is ECS's Poll: ecs:Poll on the container instance, with
 * ecs:cluster (as the ECS agent's instance role grants it). */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "api/authz.h"
#include "lib/xalloc.h"

#define ARENA_BLOCK 4096

struct authz_block {
	struct authz_block *next;
	size_t used, cap;
	char data[];
};

/* One call being mapped. */
struct az {
	struct api_ctx *ctx;
	const cJSON *in;
	struct authz_list *l;
	struct region *r;           /* NULL when the region holds nothing yet */
	const char *prefix;         /* "ecs" */
	const char *op;
	const char *caller;         /* the signing user's name, NULL for the root */
	const struct authz_row *row;
	size_t first;               /* this call's first item */
	bool skip;                  /* the current item repeats an earlier one: drop its keys */
};

typedef void (*authz_fn)(struct az *z);

struct authz_row {
	enum authz_service svc;
	const char *op;
	authz_fn fn;
	const char *member;         /* the request member naming the resource(s), if any */
	unsigned flags;
	const char *action;         /* the IAM action, when not "<prefix>:<op>" */
};

/* Row flags. */
enum {
	F_LIST = 1u << 0,           /* member is a list of references */
	F_REQ_TAGS = 1u << 1,       /* the request's tags: aws:RequestTag/K, aws:TagKeys */
	F_TAG_DEP = 1u << 2,        /* tags on a create: the dependent TagResource item */
	F_CPS = 1u << 3,            /* capacityProviders: ecs:capacity-provider */
	F_KMS = 1u << 4,            /* configuration's ecs:fargate-ephemeral-storage-kms-key */
	F_SVC = 1u << 5,            /* CreateService / UpdateService keys */
	F_CREATE = 1u << 6,         /* a create: defaults for keys the request leaves out */
	F_STAR_EMPTY = 1u << 7,     /* no references given: one item on "*" */
	F_AS_SIZE = 1u << 8,        /* Auto Scaling: LaunchConfigurationName, MinSize, MaxSize, VPCZoneIdentifiers */
	F_AS_FORCE = 1u << 9,       /* Auto Scaling: ForceDelete */
	F_START = 1u << 10,         /* StartTask: ecs:container-instances */
};

/* ---- the list and its arena ---- */

void authz_list_init(struct authz_list *l)
{
	memset(l, 0, sizeof *l);
}

void authz_list_release(struct authz_list *l)
{
	free(l->items);
	free(l->kv);
	for (struct authz_block *b = l->arena, *next; b; b = next) {
		next = b->next;
		free(b);
	}
	authz_list_init(l);
}

static char *arena_alloc(struct authz_list *l, size_t n)
{
	struct authz_block *b = l->arena;
	if (!b || b->cap - b->used < n) {
		size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
		b = xmalloc(sizeof *b + cap);
		b->next = l->arena;
		b->used = 0;
		b->cap = cap;
		l->arena = b;
	}
	char *p = b->data + b->used;
	b->used += n;
	return p;
}

static const char *az_strdup(struct az *z, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = arena_alloc(z->l, n);
	memcpy(p, s, n);
	return p;
}

static const char *az_vprintf(struct az *z, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	BERTH_ASSERT(n >= 0);
	char *p = arena_alloc(z->l, (size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

static const char *az_printf(struct az *z, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *az_printf(struct az *z, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	const char *s = az_vprintf(z, fmt, ap);
	va_end(ap);
	return s;
}

/* Start an item for action on resource (copied).  The same action on the
 * same resource a second time in one call adds nothing. */
static void item_act(struct az *z, const char *action, const char *resource)
{
	struct authz_list *l = z->l;
	for (size_t i = z->first; i < l->n; i++)
		if (strcmp(l->items[i].action, action) == 0 && strcmp(l->items[i].resource, resource) == 0) {
			z->skip = true;
			return;
		}
	z->skip = false;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 8;
		l->items = xrealloc(l->items, l->cap * sizeof *l->items);
	}
	struct authz_item *it = &l->items[l->n++];
	snprintf(it->action, sizeof it->action, "%s", action);
	it->resource = az_strdup(z, resource);
	it->ctx_off = l->n_kv;
	it->n_ctx = 0;
}

static void item(struct az *z, const char *resource)
{
	char action[96];
	if (z->row && z->row->action)
		snprintf(action, sizeof action, "%s", z->row->action);
	else
		snprintf(action, sizeof action, "%s:%s", z->prefix, z->op);
	item_act(z, action, resource);
}

/* A key of the current item; a NULL value adds nothing. */
static void kv(struct az *z, const char *key, const char *value)
{
	struct authz_list *l = z->l;
	if (z->skip || !value || !l->n)
		return;
	if (l->n_kv == l->cap_kv) {
		l->cap_kv = l->cap_kv ? 2 * l->cap_kv : 16;
		l->kv = xrealloc(l->kv, l->cap_kv * sizeof *l->kv);
	}
	l->kv[l->n_kv++] = (struct authz_kv){az_strdup(z, key), az_strdup(z, value)};
	l->items[l->n - 1].n_ctx++;
}

static void kv_bool(struct az *z, const char *key, bool v)
{
	kv(z, key, v ? "true" : "false");
}

/* ---- reading the request ---- */

static bool is_arn(const char *s)
{
	return s && strncmp(s, "arn:", 4) == 0;
}

/* The part after the last '/' of an ARN, or ref itself. */
static const char *last_part(const char *ref)
{
	const char *s = is_arn(ref) ? strrchr(ref, '/') : NULL;
	return s ? s + 1 : ref;
}

/* A number or string member as text, or NULL. */
static const char *num_text(struct az *z, const cJSON *j)
{
	if (cJSON_IsNumber(j))
		return az_printf(z, "%.0f", j->valuedouble);
	return cJSON_IsString(j) ? j->valuestring : NULL;
}

/* aws:RequestTag/K and aws:TagKeys of a tags list [{kname, vname}]. */
static void req_tags(struct az *z, const cJSON *tags, const char *kname, const char *vname)
{
	const cJSON *t;
	cJSON_ArrayForEach(t, tags) {
		const char *k = api_str(t, kname), *v = api_str(t, vname);
		if (!k)
			continue;
		kv(z, az_printf(z, "aws:RequestTag/%s", k), v ? v : "");
	}
	cJSON_ArrayForEach(t, tags) {
		const char *k = api_str(t, kname);
		if (k)
			kv(z, "aws:TagKeys", k);
	}
}

static bool has_items(const cJSON *list)
{
	return cJSON_IsArray(list) && cJSON_GetArraySize(list) > 0;
}

/* ---- ECS resources ---- */

static const char *ecs_arn(struct az *z, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *ecs_arn(struct az *z, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	const char *res = az_vprintf(z, fmt, ap);
	va_end(ap);
	const struct model *m = z->ctx->m;
	return az_printf(z, "arn:%s:ecs:%s:%s:%s", m->partition, z->ctx->region, m->account, res);
}

/* aws:ResourceTag/K and ecs:ResourceTag/K of an ECS resource's tags. */
static void res_tags(struct az *z, const struct kvlist *tags)
{
	for (size_t i = 0; tags && i < tags->n; i++) {
		kv(z, az_printf(z, "aws:ResourceTag/%s", tags->v[i].key), tags->v[i].value);
		kv(z, az_printf(z, "ecs:ResourceTag/%s", tags->v[i].key), tags->v[i].value);
	}
}

/* A cluster reference: NULL is "default". */
struct cref {
	const char *name;           /* for the ARNs of its children */
	const char *arn;
	struct cluster *c;          /* NULL: none such in this region */
};

static struct cref cluster_ref(struct az *z, const char *ref)
{
	struct cref cr = {0};
	cr.c = api_cluster_find(z->ctx, ref);
	if (is_arn(ref)) {
		cr.arn = az_strdup(z, ref);
		cr.name = last_part(cr.arn);
	} else {
		cr.name = az_strdup(z, ref ? ref : "default");
		cr.arn = ecs_arn(z, "cluster/%s", cr.name);
	}
	return cr;
}

static struct cref req_cluster(struct az *z)
{
	return cluster_ref(z, api_str(z->in, "cluster"));
}

/* The ARN of a child of cluster cr ("service", "task", "container-instance")
 * that ref names (a name, an ID or an ARN). */
static const char *child_arn(struct az *z, const struct cref *cr, const char *type, const char *ref)
{
	return is_arn(ref) ? ref : ecs_arn(z, "%s/%s/%s", type, cr->name, ref);
}

static struct container_instance *ci_of(const struct cref *cr, const char *ref)
{
	return cr->c && ref ? model_ci_find(cr->c, last_part(ref)) : NULL;
}

static void ci_item(struct az *z, const struct cref *cr, const char *ref)
{
	struct container_instance *ci = ci_of(cr, ref);
	item(z, child_arn(z, cr, "container-instance", ref));
	if (ci)
		res_tags(z, &ci->tags);
	kv(z, "ecs:cluster", cr->arn);
}

static void task_item(struct az *z, const struct cref *cr, const char *ref)
{
	struct task *t = z->r ? model_task_find(z->r, last_part(ref)) : NULL;
	item(z, child_arn(z, cr, "task", ref));
	if (t && t->cluster == cr->c)
		res_tags(z, &t->tags);
	kv(z, "ecs:cluster", cr->arn);
}

static const char *cp_arn(struct az *z, const char *ref, struct capacity_provider **out)
{
	*out = z->r && ref ? model_cp_find(z->r, last_part(ref)) : NULL;
	return is_arn(ref) ? ref : ecs_arn(z, "capacity-provider/%s", ref);
}

/* The task definition ref names: "family", "family:revision" or an ARN.
 * A family alone is its latest ACTIVE revision, as the handlers take it;
 * with none, FAMILY:* (the ARN is not knowable). */
static const char *td_arn(struct az *z, const char *ref, struct task_def **out)
{
	*out = NULL;
	if (!ref)
		return ecs_arn(z, "task-definition/*");
	const char *s = ref;
	if (is_arn(ref)) {
		const char *ours = ecs_arn(z, "task-definition/");
		size_t n = strlen(ours);
		if (strncmp(ref, ours, n) != 0)
			return ref;
		s = ref + n;
	}
	const char *colon = strchr(s, ':');
	char family[256];
	size_t fl = colon ? (size_t)(colon - s) : strlen(s);
	if (fl >= sizeof family)
		return is_arn(ref) ? ref : ecs_arn(z, "task-definition/%s", s);
	memcpy(family, s, fl);
	family[fl] = '\0';
	if (colon) {
		char *end;
		long rev = strtol(colon + 1, &end, 10);
		if (z->r && !*end && end != colon + 1 && rev > 0 && rev <= 1000000000)
			*out = model_td_find(z->r, family, (int)rev);
		return is_arn(ref) ? ref : ecs_arn(z, "task-definition/%s", s);
	}
	*out = z->r ? model_td_latest(z->r, family) : NULL;
	return *out ? (*out)->arn : ecs_arn(z, "task-definition/%s:*", family);
}

/* ecs:capacity-provider of a capacity provider strategy. */
static void strategy_cps(struct az *z, const cJSON *strategy)
{
	const cJSON *it;
	struct capacity_provider *cp;
	cJSON_ArrayForEach(it, strategy) {
		const char *p = api_str(it, "capacityProvider");
		if (p)
			kv(z, "ecs:capacity-provider", cp_arn(z, p, &cp));
	}
}

/* The tags of the ECS resource an ARN of this region and account names,
 * or NULL. */
static const struct kvlist *tags_of_arn(struct az *z, const char *arn)
{
	const char *ours = ecs_arn(z, "%s", "");
	size_t n = strlen(ours);
	if (!arn || !z->r || strncmp(arn, ours, n) != 0)
		return NULL;
	const char *res = arn + n;
	const char *slash = strchr(res, '/');
	if (!slash)
		return NULL;
	size_t tl = (size_t)(slash - res);
	const char *rest = slash + 1;
	char first[256];
	const char *second = strchr(rest, '/');
	size_t fl = second ? (size_t)(second - rest) : strlen(rest);
	if (fl >= sizeof first)
		return NULL;
	memcpy(first, rest, fl);
	first[fl] = '\0';
	if (tl == 7 && strncmp(res, "cluster", tl) == 0 && !second) {
		struct cluster *c = model_cluster_find(z->r, first);
		return c ? &c->tags : NULL;
	}
	if (tl == 17 && strncmp(res, "capacity-provider", tl) == 0 && !second) {
		struct capacity_provider *cp = model_cp_find(z->r, first);
		return cp ? &cp->tags : NULL;
	}
	if (tl == 15 && strncmp(res, "task-definition", tl) == 0 && !second) {
		struct task_def *td;
		td_arn(z, rest, &td);
		return td && strchr(rest, ':') ? &td->tags : NULL;
	}
	if (!second || strchr(second + 1, '/'))
		return NULL;
	struct cluster *c = model_cluster_find(z->r, first);
	const char *id = second + 1;
	if (!c)
		return NULL;
	if (tl == 4 && strncmp(res, "task", tl) == 0) {
		struct task *t = model_task_find(z->r, id);
		return t && t->cluster == c ? &t->tags : NULL;
	}
	if (tl == 18 && strncmp(res, "container-instance", tl) == 0) {
		struct container_instance *ci = model_ci_find(c, id);
		return ci ? &ci->tags : NULL;
	}
	if (tl == 7 && strncmp(res, "service", tl) == 0) {
		struct service *s = model_svc_find(c, id);
		return s ? &s->tags : NULL;
	}
	return NULL;
}

/* The dependent ecs:TagResource of a create that carries tags. */
static void tag_dep(struct az *z, const char *resource, const cJSON *tags)
{
	if (!(z->row->flags & F_TAG_DEP) || !has_items(tags))
		return;
	item_act(z, "ecs:TagResource", resource);
	req_tags(z, tags, "key", "value");
	kv(z, "ecs:CreateAction", z->op);
}

/* ---- ECS mappings ---- */

static void m_star(struct az *z)
{
	item(z, "*");
}

static void kms_key(struct az *z)
{
	const cJSON *msc = api_get(api_get(z->in, "configuration"), "managedStorageConfiguration");
	kv(z, "ecs:fargate-ephemeral-storage-kms-key", api_str(msc, "fargateEphemeralStorageKmsKeyId"));
}

/* One cluster named by row->member ("cluster" by default). */
static void m_cluster(struct az *z)
{
	const char *member = z->row->member ? z->row->member : "cluster";
	struct cref cr = cluster_ref(z, api_str(z->in, member));
	const cJSON *tags = api_get(z->in, "tags");
	item(z, cr.arn);
	if (cr.c)
		res_tags(z, &cr.c->tags);
	if (z->row->flags & F_REQ_TAGS)
		req_tags(z, tags, "key", "value");
	if (z->row->flags & F_CPS) {
		const cJSON *it;
		struct capacity_provider *cp;
		cJSON_ArrayForEach(it, api_get(z->in, "capacityProviders"))
			if (cJSON_IsString(it))
				kv(z, "ecs:capacity-provider", cp_arn(z, it->valuestring, &cp));
	}
	if (z->row->flags & F_KMS)
		kms_key(z);
	tag_dep(z, cr.arn, tags);
}

/* DescribeClusters: each cluster named, or "default". */
static void m_clusters(struct az *z)
{
	const cJSON *list = api_get(z->in, "clusters"), *it;
	if (!has_items(list)) {
		struct cref cr = cluster_ref(z, NULL);
		item(z, cr.arn);
		if (cr.c)
			res_tags(z, &cr.c->tags);
		return;
	}
	cJSON_ArrayForEach(it, list) {
		if (!cJSON_IsString(it))
			continue;
		struct cref cr = cluster_ref(z, it->valuestring);
		item(z, cr.arn);
		if (cr.c)
			res_tags(z, &cr.c->tags);
	}
}

/* "*" with ecs:cluster (ListServices; GetTaskProtection naming no task). */
static void m_cluster_key(struct az *z)
{
	struct cref cr = req_cluster(z);
	item(z, "*");
	kv(z, "ecs:cluster", cr.arn);
}

static void svc_keys(struct az *z)
{
	const cJSON *in = z->in;
	bool create = z->row->flags & F_CREATE;
	struct task_def *td;
	const char *tdref = api_str(in, "taskDefinition");
	if (tdref)
		kv(z, "ecs:task-definition", td_arn(z, tdref, &td));
	strategy_cps(z, api_get(in, "capacityProviderStrategy"));
	const cJSON *v = api_get(in, "enableExecuteCommand");
	if (v || create)
		kv_bool(z, "ecs:enable-execute-command", cJSON_IsTrue(v));
	v = api_get(in, "enableECSManagedTags");
	if (v || create)
		kv_bool(z, "ecs:enable-ecs-managed-tags", cJSON_IsTrue(v));
	kv(z, "ecs:propagate-tags", api_str(in, "propagateTags"));
	const cJSON *vpc = api_get(api_get(in, "networkConfiguration"), "awsvpcConfiguration"), *it;
	cJSON_ArrayForEach(it, api_get(vpc, "subnets"))
		if (cJSON_IsString(it))
			kv(z, "ecs:subnet", it->valuestring);
	const char *pub = api_str(vpc, "assignPublicIp");
	if (pub)
		kv_bool(z, "ecs:auto-assign-public-ip", strcmp(pub, "ENABLED") == 0);
	const cJSON *sc = api_get(in, "serviceConnectConfiguration");
	if (sc) {
		kv_bool(z, "ecs:enable-service-connect", cJSON_IsTrue(api_get(sc, "enabled")));
		const char *ns = api_str(sc, "namespace");
		if (ns) {
			char *arn = api_namespace_arn(z->ctx, ns);
			kv(z, "ecs:namespace", arn);
			free(arn);
		}
	}
}

/* Services of the request's cluster: row->member names one ("service",
 * "serviceName") or, with F_LIST, a list ("services"). */
static void svc_item(struct az *z, const struct cref *cr, const char *ref)
{
	struct service *s = cr->c ? model_svc_find(cr->c, last_part(ref)) : NULL;
	const char *arn = child_arn(z, cr, "service", ref);
	const cJSON *tags = api_get(z->in, "tags");
	item(z, arn);
	if (s)
		res_tags(z, &s->tags);
	kv(z, "ecs:cluster", cr->arn);
	if (z->row->flags & F_REQ_TAGS)
		req_tags(z, tags, "key", "value");
	if (z->row->flags & F_SVC)
		svc_keys(z);
	tag_dep(z, arn, tags);
}

static void m_services(struct az *z)
{
	struct cref cr = req_cluster(z);
	const cJSON *v = api_get(z->in, z->row->member), *it;
	if (!(z->row->flags & F_LIST)) {
		svc_item(z, &cr, cJSON_IsString(v) ? v->valuestring : "");
		return;
	}
	cJSON_ArrayForEach(it, v)
		if (cJSON_IsString(it))
			svc_item(z, &cr, it->valuestring);
}

/* Tasks of the request's cluster ("task" or the list "tasks"). */
static void m_tasks(struct az *z)
{
	struct cref cr = req_cluster(z);
	const cJSON *v = api_get(z->in, z->row->member), *it;
	if (!(z->row->flags & F_LIST)) {
		task_item(z, &cr, cJSON_IsString(v) ? v->valuestring : "");
		return;
	}
	if (!has_items(v) && (z->row->flags & F_STAR_EMPTY)) {
		m_cluster_key(z);
		return;
	}
	cJSON_ArrayForEach(it, v)
		if (cJSON_IsString(it))
			task_item(z, &cr, it->valuestring);
}

/* Container instances of the request's cluster ("containerInstance" or the
 * list "containerInstances"). */
static void m_cis(struct az *z)
{
	struct cref cr = req_cluster(z);
	const cJSON *v = api_get(z->in, z->row->member), *it;
	if (!(z->row->flags & F_LIST)) {
		if (cJSON_IsString(v))
			ci_item(z, &cr, v->valuestring);
		else
			m_cluster_key(z);
		return;
	}
	cJSON_ArrayForEach(it, v)
		if (cJSON_IsString(it))
			ci_item(z, &cr, it->valuestring);
}

/* ListTasks: a container instance when one is named, else "*"; both with
 * ecs:cluster. */
static void m_list_tasks(struct az *z)
{
	const char *ci = api_str(z->in, "containerInstance");
	struct cref cr = req_cluster(z);
	if (ci)
		ci_item(z, &cr, ci);
	else
		m_cluster_key(z);
}

/* PutAttributes / DeleteAttributes: the container instance each attribute
 * targets. */
static void m_attributes(struct az *z)
{
	struct cref cr = req_cluster(z);
	const cJSON *it;
	bool any = false;
	cJSON_ArrayForEach(it, api_get(z->in, "attributes")) {
		const char *id = api_str(it, "targetId");
		if (!id)
			continue;
		ci_item(z, &cr, id);
		any = true;
	}
	if (!any)
		m_cluster_key(z);
}

/* Capacity providers: row->member names one ("name", "capacityProvider")
 * or, with F_LIST, a list ("capacityProviders"). */
static void cp_item(struct az *z, const char *ref)
{
	struct capacity_provider *cp;
	const char *arn = cp_arn(z, ref, &cp);
	const cJSON *tags = api_get(z->in, "tags");
	item(z, arn);
	if (cp)
		res_tags(z, &cp->tags);
	if (z->row->flags & F_REQ_TAGS)
		req_tags(z, tags, "key", "value");
	tag_dep(z, arn, tags);
}

static void m_cps(struct az *z)
{
	const cJSON *v = api_get(z->in, z->row->member), *it;
	if (!(z->row->flags & F_LIST)) {
		cp_item(z, cJSON_IsString(v) ? v->valuestring : "");
		return;
	}
	if (!has_items(v)) {
		item(z, "*");
		return;
	}
	cJSON_ArrayForEach(it, v)
		if (cJSON_IsString(it))
			cp_item(z, it->valuestring);
}

/* DeleteTaskDefinitions: each definition named. */
static void m_tds(struct az *z)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, api_get(z->in, z->row->member)) {
		if (!cJSON_IsString(it))
			continue;
		struct task_def *td;
		item(z, td_arn(z, it->valuestring, &td));
		if (td)
			res_tags(z, &td->tags);
	}
}

/* A task size as ECS counts it: "1024", "1 vCPU", "0.5 GB" -> 1024, 1024, 512. */
static const char *task_size(struct az *z, const char *s, const char *unit)
{
	if (!s)
		return NULL;
	char *end;
	double v = strtod(s, &end);
	if (end == s || v < 0)
		return NULL;
	while (isspace((unsigned char)*end))
		end++;
	if (*end && strcasecmp(end, unit) != 0)
		return NULL;
	return az_printf(z, "%.0f", *end ? v * 1024 : v);
}

/* RegisterTaskDefinition: the revision it will create. */
static void m_register_td(struct az *z)
{
	const cJSON *in = z->in, *it;
	const char *family = api_str(in, "family");
	if (!family)
		family = "";
	struct td_family *f = z->r ? model_family_find(z->r, family) : NULL;
	const char *arn = ecs_arn(z, "task-definition/%s:%d", family, f ? f->last + 1 : 1);
	const cJSON *tags = api_get(in, "tags");
	item(z, arn);
	req_tags(z, tags, "key", "value");
	cJSON_ArrayForEach(it, api_get(in, "requiresCompatibilities"))
		if (cJSON_IsString(it))
			kv(z, "ecs:compute-compatibility", it->valuestring);
	bool privileged = false;
	cJSON_ArrayForEach(it, api_get(in, "containerDefinitions"))
		privileged |= cJSON_IsTrue(api_get(it, "privileged"));
	kv_bool(z, "ecs:privileged", privileged);
	kv(z, "ecs:task-cpu", task_size(z, api_str(in, "cpu"), "vcpu"));
	kv(z, "ecs:task-memory", task_size(z, api_str(in, "memory"), "gb"));
	tag_dep(z, arn, tags);
}

/* RunTask / StartTask: the task definition, with the cluster as a key. */
static void m_run(struct az *z)
{
	const cJSON *in = z->in, *it;
	struct cref cr = req_cluster(z);
	struct task_def *td;
	item(z, td_arn(z, api_str(in, "taskDefinition"), &td));
	if (td)
		res_tags(z, &td->tags);
	req_tags(z, api_get(in, "tags"), "key", "value");
	kv(z, "ecs:cluster", cr.arn);
	strategy_cps(z, api_get(in, "capacityProviderStrategy"));
	kv_bool(z, "ecs:enable-execute-command", cJSON_IsTrue(api_get(in, "enableExecuteCommand")));
	if (z->row->flags & F_START)
		cJSON_ArrayForEach(it, api_get(in, "containerInstances"))
			if (cJSON_IsString(it))
				kv(z, "ecs:container-instances", child_arn(z, &cr, "container-instance", it->valuestring));
}

/* TagResource, UntagResource, ListTagsForResource: the resourceArn. */
static void m_resource_arn(struct az *z)
{
	const char *arn = api_str(z->in, "resourceArn");
	item(z, arn ? arn : "*");
	res_tags(z, tags_of_arn(z, arn));
	if (z->row->flags & F_REQ_TAGS)
		req_tags(z, api_get(z->in, "tags"), "key", "value");
	const cJSON *it;
	cJSON_ArrayForEach(it, api_get(z->in, "tagKeys"))
		if (cJSON_IsString(it))
			kv(z, "aws:TagKeys", it->valuestring);
}

static void m_namespace(struct az *z)
{
	const char *ns = api_str(z->in, "namespace");
	item(z, "*");
	if (ns) {
		char *arn = api_namespace_arn(z->ctx, ns);
		kv(z, "ecs:namespace", arn);
		free(arn);
	}
}

/* ---- Auto Scaling ---- */

static const char *as_arn(struct az *z, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *as_arn(struct az *z, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	const char *res = az_vprintf(z, fmt, ap);
	va_end(ap);
	const struct model *m = z->ctx->m;
	return az_printf(z, "arn:%s:autoscaling:%s:%s:%s", m->partition, z->ctx->region, m->account, res);
}

static void as_group_tags(struct az *z, const struct as_group *g)
{
	for (size_t i = 0; g && i < g->n_tags; i++) {
		const char *v = g->tags[i].value ? g->tags[i].value : "";
		kv(z, az_printf(z, "aws:ResourceTag/%s", g->tags[i].key), v);
		kv(z, az_printf(z, "autoscaling:ResourceTag/%s", g->tags[i].key), v);
	}
}

static void as_size_keys(struct az *z)
{
	const cJSON *in = z->in;
	kv(z, "autoscaling:LaunchConfigurationName", api_str(in, "LaunchConfigurationName"));
	kv(z, "autoscaling:MinSize", num_text(z, api_get(in, "MinSize")));
	kv(z, "autoscaling:MaxSize", num_text(z, api_get(in, "MaxSize")));
	const char *vpc = api_str(in, "VPCZoneIdentifier");
	while (vpc && *vpc) {
		while (*vpc == ',' || isspace((unsigned char)*vpc))
			vpc++;
		size_t n = strcspn(vpc, ",");
		size_t k = n;
		while (k && isspace((unsigned char)vpc[k - 1]))
			k--;
		if (k)
			kv(z, "autoscaling:VPCZoneIdentifiers", az_printf(z, "%.*s", (int)k, vpc));
		vpc += n;
	}
}

/* The group AutoScalingGroupName names (a name or an ARN). */
static void m_as_group(struct az *z)
{
	const char *ref = api_str(z->in, "AutoScalingGroupName");
	struct as_group *g = ref ? api_as_group_find(z->ctx, ref) : NULL;
	const char *arn = g ? g->arn
		: is_arn(ref) ? ref
			      : as_arn(z, "autoScalingGroup:*:autoScalingGroupName/%s", ref ? ref : "*");
	const cJSON *tags = api_get(z->in, "Tags");
	item(z, arn);
	as_group_tags(z, g);
	if (z->row->flags & F_REQ_TAGS)
		req_tags(z, tags, "Key", "Value");
	if (z->row->flags & F_AS_SIZE)
		as_size_keys(z);
	const cJSON *force = api_get(z->in, "ForceDelete");
	if ((z->row->flags & F_AS_FORCE) && force)
		kv_bool(z, "autoscaling:ForceDelete", cJSON_IsTrue(force));
	if ((z->row->flags & F_TAG_DEP) && has_items(tags)) {
		item_act(z, "autoscaling:CreateOrUpdateTags", arn);
		req_tags(z, tags, "Key", "Value");
	}
}

/* TerminateInstanceInAutoScalingGroup: the instance's group. */
static void m_as_instance(struct az *z)
{
	const char *id = api_str(z->in, "InstanceId");
	struct as_instance *inst = z->r && id ? model_as_instance_find(z->r, id) : NULL;
	struct as_group *g = inst ? inst->group : NULL;
	item(z, g ? g->arn : as_arn(z, "autoScalingGroup:*:autoScalingGroupName/*"));
	as_group_tags(z, g);
}

static void m_as_lc(struct az *z)
{
	const char *name = api_str(z->in, "LaunchConfigurationName");
	struct as_launch_config *lc = z->r && name ? model_as_lc_find(z->r, name) : NULL;
	item(z, lc ? lc->arn
		   : as_arn(z, "launchConfiguration:*:launchConfigurationName/%s", name ? name : "*"));
	if (z->row->flags & F_CREATE) {
		kv(z, "autoscaling:ImageId", api_str(z->in, "ImageId"));
		kv(z, "autoscaling:InstanceType", api_str(z->in, "InstanceType"));
	}
}

/* ---- IAM ---- */

/* The user UserName names, else the caller; CreateUser's from its Path. */
static void m_iam_user(struct az *z)
{
	const struct model *m = z->ctx->m;
	const char *name = api_str(z->in, "UserName");
	if (!name)
		name = z->caller;
	if (!name) {
		item(z, az_printf(z, "arn:%s:iam::%s:root", m->partition, m->account));
		return;
	}
	const struct iam_user *u = sidx_get(&m->iam.users, name);
	const char *arn;
	if (u)
		arn = u->arn;
	else if (z->row->flags & F_CREATE) {
		const char *path = api_str(z->in, "Path");
		arn = az_printf(z, "arn:%s:iam::%s:user%s%s", m->partition, m->account, path ? path : "/", name);
	} else
		arn = az_printf(z, "arn:%s:iam::%s:user/%s", m->partition, m->account, name);
	item(z, arn);
	if (z->row->flags & F_REQ_TAGS)
		req_tags(z, api_get(z->in, "Tags"), "Key", "Value");
}

/* ---- the table ---- */

#define E AUTHZ_ECS
#define AS AUTHZ_AUTOSCALING
#define IAM AUTHZ_IAM
#define R(s, o, f, m, fl) {.svc = (s), .op = (o), .fn = (f), .member = (m), .flags = (fl)}

static const struct authz_row rows[] = {
	R(E, "CreateCapacityProvider", m_cps, "name", F_REQ_TAGS | F_TAG_DEP),
	R(E, "CreateCluster", m_cluster, "clusterName", F_REQ_TAGS | F_TAG_DEP | F_CPS | F_KMS),
	R(E, "CreateService", m_services, "serviceName", F_REQ_TAGS | F_TAG_DEP | F_SVC | F_CREATE),
	R(E, "DeleteAttributes", m_attributes, NULL, 0),
	R(E, "DeleteCapacityProvider", m_cps, "capacityProvider", 0),
	R(E, "DeleteCluster", m_cluster, NULL, 0),
	R(E, "DeleteService", m_services, "service", 0),
	R(E, "DeleteTaskDefinitions", m_tds, "taskDefinitions", 0),
	R(E, "DeregisterContainerInstance", m_cluster, NULL, 0),
	R(E, "DeregisterTaskDefinition", m_star, NULL, 0),
	R(E, "DescribeCapacityProviders", m_cps, "capacityProviders", F_LIST),
	R(E, "DescribeClusters", m_clusters, NULL, 0),
	R(E, "DescribeContainerInstances", m_cis, "containerInstances", F_LIST),
	R(E, "DescribeServices", m_services, "services", F_LIST),
	R(E, "DescribeTaskDefinition", m_star, NULL, 0),
	R(E, "DescribeTasks", m_tasks, "tasks", F_LIST),
	R(E, "DiscoverPollEndpoint", m_star, NULL, 0),
	R(E, "GetTaskProtection", m_tasks, "tasks", F_LIST | F_STAR_EMPTY),
	R(E, "ListAttributes", m_cluster, NULL, 0),
	R(E, "ListClusters", m_star, NULL, 0),
	R(E, "ListContainerInstances", m_cluster, NULL, 0),
	R(E, "ListServices", m_cluster_key, NULL, 0),
	R(E, "ListServicesByNamespace", m_namespace, NULL, 0),
	R(E, "ListTagsForResource", m_resource_arn, NULL, 0),
	R(E, "ListTaskDefinitionFamilies", m_star, NULL, 0),
	R(E, "ListTaskDefinitions", m_star, NULL, 0),
	R(E, "ListTasks", m_list_tasks, NULL, 0),
	R(E, "Poll", m_cis, "containerInstance", 0),
	R(E, "PutAttributes", m_attributes, NULL, 0),
	R(E, "PutClusterCapacityProviders", m_cluster, NULL, F_CPS),
	R(E, "RegisterContainerInstance", m_cluster, NULL, F_REQ_TAGS),
	R(E, "RegisterTaskDefinition", m_register_td, NULL, F_TAG_DEP),
	R(E, "RunTask", m_run, NULL, 0),
	R(E, "StartTask", m_run, NULL, F_START),
	R(E, "StopTask", m_tasks, "task", 0),
	R(E, "SubmitAttachmentStateChanges", m_cluster, NULL, 0),
	R(E, "SubmitContainerStateChange", m_cluster, NULL, 0),
	R(E, "SubmitTaskStateChange", m_cluster, NULL, 0),
	R(E, "TagResource", m_resource_arn, NULL, F_REQ_TAGS),
	R(E, "UntagResource", m_resource_arn, NULL, 0),
	R(E, "UpdateCapacityProvider", m_cps, "name", 0),
	R(E, "UpdateCluster", m_cluster, NULL, F_KMS),
	R(E, "UpdateClusterSettings", m_cluster, NULL, 0),
	R(E, "UpdateContainerInstancesState", m_cis, "containerInstances", F_LIST),
	R(E, "UpdateService", m_services, "service", F_SVC),
	R(E, "UpdateTaskProtection", m_tasks, "tasks", F_LIST),

	R(AS, "CreateAutoScalingGroup", m_as_group, NULL, F_REQ_TAGS | F_TAG_DEP | F_AS_SIZE),
	R(AS, "CreateLaunchConfiguration", m_as_lc, NULL, F_CREATE),
	R(AS, "DeleteAutoScalingGroup", m_as_group, NULL, F_AS_FORCE),
	R(AS, "DeleteLaunchConfiguration", m_as_lc, NULL, 0),
	R(AS, "DescribeAutoScalingGroups", m_star, NULL, 0),
	R(AS, "DescribeAutoScalingInstances", m_star, NULL, 0),
	R(AS, "DescribeLaunchConfigurations", m_star, NULL, 0),
	R(AS, "DescribePolicies", m_star, NULL, 0),
	R(AS, "DescribeScalingActivities", m_star, NULL, 0),
	R(AS, "SetDesiredCapacity", m_as_group, NULL, 0),
	R(AS, "SetInstanceProtection", m_as_group, NULL, 0),
	R(AS, "TerminateInstanceInAutoScalingGroup", m_as_instance, NULL, 0),
	R(AS, "UpdateAutoScalingGroup", m_as_group, NULL, F_AS_SIZE),

	R(IAM, "CreateAccessKey", m_iam_user, NULL, 0),
	R(IAM, "CreateUser", m_iam_user, NULL, F_CREATE | F_REQ_TAGS),
	R(IAM, "DeleteAccessKey", m_iam_user, NULL, 0),
	R(IAM, "DeleteUser", m_iam_user, NULL, 0),
	R(IAM, "DeleteUserPolicy", m_iam_user, NULL, 0),
	R(IAM, "GetUser", m_iam_user, NULL, 0),
	R(IAM, "GetUserPolicy", m_iam_user, NULL, 0),
	R(IAM, "ListAccessKeys", m_iam_user, NULL, 0),
	R(IAM, "ListUserPolicies", m_iam_user, NULL, 0),
	R(IAM, "ListUsers", m_star, NULL, 0),
	R(IAM, "PutUserPolicy", m_iam_user, NULL, 0),
	R(IAM, "UpdateAccessKey", m_iam_user, NULL, 0),

	/* Berth's agent poll is ECS's Poll: the container instance it polls for. */
	{.svc = AUTHZ_BERTH, .op = "AgentPoll", .fn = m_cis, .member = "containerInstance", .action = "ecs:Poll"},
};

#undef E
#undef AS
#undef IAM
#undef R

static const struct authz_row *find_row(enum authz_service svc, const char *op)
{
	for (size_t i = 0; op && i < sizeof rows / sizeof rows[0]; i++)
		if (rows[i].svc == svc && strcmp(rows[i].op, op) == 0)
			return &rows[i];
	return NULL;
}

bool authz_mapped(enum authz_service svc, const char *op)
{
	return find_row(svc, op) != NULL;
}

const char *authz_prefix(enum authz_service svc)
{
	switch (svc) {
	case AUTHZ_ECS:
		return "ecs";
	case AUTHZ_AUTOSCALING:
		return "autoscaling";
	case AUTHZ_IAM:
		return "iam";
	case AUTHZ_BERTH:
		return "berth";
	}
	return "unknown";
}

int authz_requests(struct api_ctx *ctx, enum authz_service svc, const char *op, const cJSON *in,
		   const char *caller_user, struct authz_list *out)
{
	struct az z = {
		.ctx = ctx,
		.in = in,
		.l = out,
		.r = model_region_find(ctx->m, ctx->region),
		.prefix = authz_prefix(svc),
		.op = op ? op : "",
		.caller = caller_user,
		.row = find_row(svc, op),
		.first = out->n,
	};
	if (z.row)
		z.row->fn(&z);
	if (out->n == z.first)
		item(&z, "*");
	return 0;
}
