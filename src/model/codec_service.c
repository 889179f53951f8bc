/* codec_service: services as DescribeServices answers them, and their
 * records (the same shape plus a few "berth" members).  Counts come from the
 * service's live tasks, so they are exact and never stored. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "model/codec.h"

struct counts {
	long running, pending;
};

/* Tasks of deployment d (NULL: every deployment) by lastStatus: running
 * counts tasks whose lastStatus is RUNNING (also one being stopped, until it
 * leaves RUNNING), pending those not yet RUNNING that are still wanted. */
static struct counts count_tasks(const struct service *s, const struct deployment *d)
{
	struct counts k = {0, 0};
	for (size_t i = 0; i < s->n_tasks; i++) {
		const struct task *t = s->tasks[i];
		if (d && t->started_by != d->iid)
			continue;
		if (t->last == TS_RUNNING)
			k.running++;
		else if (t->last < TS_RUNNING && t->desired != TS_STOPPED)
			k.pending++;
	}
	return k;
}

static long live_of(const struct service *s, const struct deployment *d)
{
	long n = 0;
	for (size_t i = 0; i < s->n_tasks; i++)
		n += s->tasks[i]->desired != TS_STOPPED && s->tasks[i]->started_by == d->iid;
	return n;
}

static cJSON *deployment_json(const struct service *s, size_t i, unsigned include)
{
	const struct deployment *d = &s->deps[i];
	cJSON *o = cJSON_CreateObject();
	codec_put_str(o, "id", d->id);
	codec_put_str(o, "status", i == s->primary ? "PRIMARY" : "ACTIVE");
	codec_put_str(o, "taskDefinition", d->td->arn);
	/* The PRIMARY wants the service's count; an older one what it still
	 * runs, which falls to 0 as it is replaced. */
	long desired = i == s->primary ? (s->status == SVC_ACTIVE ? s->desired : 0) : live_of(s, d);
	struct counts k = count_tasks(s, d);
	codec_put_int(o, "desiredCount", desired);
	codec_put_int(o, "pendingCount", k.pending);
	codec_put_int(o, "runningCount", k.running);
	codec_put_int(o, "failedTasks", (long)d->failed_tasks);
	codec_put_time(o, "createdAt", d->created_at);
	codec_put_time(o, "updatedAt", d->updated_at);
	if (d->launch_type >= 0)
		codec_put_str(o, "launchType", launch_type_name((enum launch_type)d->launch_type));
	else
		cJSON_AddItemToObjectCS(o, "capacityProviderStrategy", codec_strategy(&d->strategy));
	if (d->platform_version) {
		codec_put_str(o, "platformVersion", d->platform_version);
		codec_put_str(o, "platformFamily", "Linux");
	}
	if (d->network)
		cJSON_AddItemToObjectCS(o, "networkConfiguration", cJSON_Duplicate(d->network, 1));
	if (d->sc)
		cJSON_AddItemToObjectCS(o, "serviceConnectConfiguration", cJSON_Duplicate(d->sc, 1));
	codec_put_str(o, "rolloutState", dep_rollout_name(d->rollout));
	if (d->rollout_reason)
		codec_put_str(o, "rolloutStateReason", d->rollout_reason);
	(void)include;
	return o;
}

static cJSON *events_json(const struct service *s)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < s->n_events; i++) {
		cJSON *e = cJSON_CreateObject();
		codec_put_str(e, "id", s->events[i].id);
		codec_put_time(e, "createdAt", s->events[i].at);
		codec_put_str(e, "message", s->events[i].msg);
		cJSON_AddItemToArray(a, e);
	}
	return a;
}

cJSON *codec_svc(const struct model *m, const struct service *s, unsigned include)
{
	(void)m;
	cJSON *o = cJSON_CreateObject();
	codec_put_str(o, "serviceArn", s->arn);
	codec_put_str(o, "serviceName", s->name);
	codec_put_str(o, "clusterArn", s->cluster->arn);
	/* loadBalancers and serviceRegistries always ([] when none), then the
	 * other members kept as given, in a fixed order (records round-trip). */
	static const char *const always[] = {"loadBalancers", "serviceRegistries"};
	for (size_t i = 0; i < 2; i++) {
		const cJSON *x = cJSON_GetObjectItemCaseSensitive(s->extra, always[i]);
		cJSON_AddItemToObjectCS(o, always[i], x ? cJSON_Duplicate(x, 1) : cJSON_CreateArray());
	}
	const cJSON *it;
	cJSON_ArrayForEach(it, s->extra)
		if (strcmp(it->string, always[0]) != 0 && strcmp(it->string, always[1]) != 0)
			cJSON_AddItemToObject(o, it->string, cJSON_Duplicate(it, 1));
	codec_put_str(o, "status", svc_status_name(s->status));
	codec_put_int(o, "desiredCount", s->status == SVC_ACTIVE ? s->desired : 0);
	struct counts k = count_tasks(s, NULL);
	codec_put_int(o, "runningCount", k.running);
	codec_put_int(o, "pendingCount", k.pending);
	if (s->launch_type >= 0)
		codec_put_str(o, "launchType", launch_type_name((enum launch_type)s->launch_type));
	else
		cJSON_AddItemToObjectCS(o, "capacityProviderStrategy", codec_strategy(&s->strategy));
	if (s->platform_version) {
		codec_put_str(o, "platformVersion", s->platform_version);
		codec_put_str(o, "platformFamily", "Linux");
	}
	const struct deployment *pd = s->n_deps ? &s->deps[s->primary] : NULL;
	if (pd)
		codec_put_str(o, "taskDefinition", pd->td->arn);
	cJSON_AddItemToObjectCS(o, "deploymentConfiguration", cJSON_Duplicate(s->deploy_config, 1));
	cJSON *deps = codec_put_array(o, "deployments");
	/* The PRIMARY first, then the others newest first, as ECS lists them. */
	if (pd)
		cJSON_AddItemToArray(deps, deployment_json(s, s->primary, include));
	for (size_t i = s->n_deps; i-- > 0;)
		if (i != s->primary)
			cJSON_AddItemToArray(deps, deployment_json(s, i, include));
	if (s->network || (pd && pd->td->network_mode && strcmp(pd->td->network_mode, "awsvpc") == 0)) {
		char *role = xasprintf("arn:%s:iam::%s:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS",
				       m->partition, m->account);
		codec_put_str(o, "roleArn", role);
		free(role);
	}
	cJSON_AddItemToObjectCS(o, "events", events_json(s));
	codec_put_time(o, "createdAt", s->created_at);
	cJSON_AddItemToObjectCS(o, "placementConstraints",
				s->constraints ? cJSON_Duplicate(s->constraints, 1) : cJSON_CreateArray());
	cJSON_AddItemToObjectCS(o, "placementStrategy",
				s->strategies ? cJSON_Duplicate(s->strategies, 1) : cJSON_CreateArray());
	if (s->network)
		cJSON_AddItemToObjectCS(o, "networkConfiguration", cJSON_Duplicate(s->network, 1));
	codec_put_str(o, "schedulingStrategy", s->daemon ? "DAEMON" : "REPLICA");
	cJSON *dc = codec_put_object(o, "deploymentController");
	codec_put_str(dc, "type", "ECS");
	if ((include & (CODEC_TAGS | CODEC_RECORD)) && s->tags.n)
		cJSON_AddItemToObjectCS(o, "tags", codec_tags(&s->tags));
	char *by = xasprintf("arn:%s:iam::%s:root", m->partition, m->account);
	codec_put_str(o, "createdBy", by);
	free(by);
	cJSON_AddItemToObjectCS(o, "enableECSManagedTags", cJSON_CreateBool(s->managed_tags));
	codec_put_str(o, "propagateTags", s->propagate_tags ? s->propagate_tags : "NONE");
	cJSON_AddItemToObjectCS(o, "enableExecuteCommand", cJSON_CreateBool(s->exec_command));
	if (!(include & CODEC_RECORD))
		return o;
	codec_put_str(o, "berthRegion", s->region);
	codec_put_str(o, "berthCluster", s->cluster->name);
	codec_put_int(o, "berthDesired", s->desired);
	codec_put_int(o, "berthPrimary", (long)s->primary);
	cJSON_AddItemToObjectCS(o, "berthSteady", cJSON_CreateBool(s->was_steady));
	if (s->deleted_at)
		codec_put_time(o, "berthDeletedAt", s->deleted_at);
	if (s->client_token)
		codec_put_str(o, "berthClientToken", s->client_token);
	if (s->create_args)
		codec_put_str(o, "berthCreateArgs", s->create_args);
	if (s->sc_namespace)
		codec_put_str(o, "berthNamespace", s->sc_namespace);
	/* Deployments in creation order, with what the answer leaves out. */
	cJSON *rd = codec_put_array(o, "berthDeployments");
	for (size_t i = 0; i < s->n_deps; i++) {
		cJSON *d = deployment_json(s, i, include);
		codec_put_str(d, "berthFamily", s->deps[i].td->family);
		codec_put_int(d, "berthRevision", s->deps[i].td->revision);
		cJSON_AddItemToArray(rd, d);
	}
	return o;
}

char *codec_svc_record_id(const struct service *s)
{
	return xasprintf("%s/%s/%s", s->region, s->cluster->name, s->name);
}

static cJSON *dup_member(const cJSON *j, const char *name)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(j, name);
	return x && !cJSON_IsNull(x) ? cJSON_Duplicate(x, 1) : NULL;
}

static bool bool_of(const cJSON *j, const char *name)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, name));
}

static int load_deployment(struct model *m, struct region *r, struct service *s, const cJSON *j)
{
	const char *id = codec_str_of(j, "id"), *family = codec_str_of(j, "berthFamily");
	struct task_def *td = family ? model_td_find(r, family, codec_int_of(j, "berthRevision", 0)) : NULL;
	if (!id || !td || strlen(id) >= sizeof s->deps[0].id)
		return -1;
	struct deployment *d = model_dep_add(m, s);
	snprintf(d->id, sizeof d->id, "%s", id);
	d->iid = model_intern(m, d->id);
	d->td = td;
	td->tasks++;
	const char *lt = codec_str_of(j, "launchType");
	d->launch_type = lt ? launch_type_parse(lt) : -1;
	codec_strategy_parse(&d->strategy, cJSON_GetObjectItemCaseSensitive(j, "capacityProviderStrategy"));
	d->platform_version = codec_dup_of(j, "platformVersion");
	d->network = dup_member(j, "networkConfiguration");
	d->sc = dup_member(j, "serviceConnectConfiguration");
	const char *ro = codec_str_of(j, "rolloutState");
	d->rollout = ro && dep_rollout_parse(ro) >= 0 ? dep_rollout_parse(ro) : DEP_IN_PROGRESS;
	d->rollout_reason = codec_dup_of(j, "rolloutStateReason");
	d->failed_tasks = (unsigned long)codec_long_of(j, "failedTasks", 0);
	d->created_at = codec_time_of(j, "createdAt");
	d->updated_at = codec_time_of(j, "updatedAt");
	return 0;
}

/* Members kept as given and echoed (CreateService / UpdateService keep them,
 * records restore them). */
const char *const codec_svc_extra[CODEC_SVC_EXTRA_N] = {
	"loadBalancers", "serviceRegistries", "healthCheckGracePeriodSeconds", "availabilityZoneRebalancing",
	"volumeConfigurations", "vpcLatticeConfigurations",
};

int codec_svc_load(struct model *m, const cJSON *j)
{
	const char *region = codec_str_of(j, "berthRegion"), *cname = codec_str_of(j, "berthCluster");
	const char *name = codec_str_of(j, "serviceName");
	struct region *r = region ? model_region_find(m, region) : NULL;
	struct cluster *c = r && cname ? model_cluster_find(r, cname) : NULL;
	if (!c || !name)
		return -1;
	struct service *s = model_svc_new(m, c, name, codec_time_of(j, "createdAt"));
	const cJSON *it;
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(j, "berthDeployments"))
		if (load_deployment(m, r, s, it))
			goto fail;
	if (!s->n_deps)
		goto fail;
	s->primary = (size_t)codec_long_of(j, "berthPrimary", 0);
	if (s->primary >= s->n_deps)
		goto fail;
	const char *st = codec_str_of(j, "status");
	s->status = st && strcmp(st, "DRAINING") == 0 ? SVC_DRAINING
		    : st && strcmp(st, "INACTIVE") == 0 ? SVC_INACTIVE : SVC_ACTIVE;
	const char *ss = codec_str_of(j, "schedulingStrategy");
	s->daemon = ss && strcmp(ss, "DAEMON") == 0;
	s->desired = codec_long_of(j, "berthDesired", 0);
	const char *lt = codec_str_of(j, "launchType");
	s->launch_type = lt ? launch_type_parse(lt) : -1;
	codec_strategy_parse(&s->strategy, cJSON_GetObjectItemCaseSensitive(j, "capacityProviderStrategy"));
	s->platform_version = codec_dup_of(j, "platformVersion");
	s->deploy_config = dup_member(j, "deploymentConfiguration");
	if (!s->deploy_config)
		s->deploy_config = cJSON_CreateObject();
	s->max_percent = codec_int_of(s->deploy_config, "maximumPercent", 200);
	s->min_healthy = codec_int_of(s->deploy_config, "minimumHealthyPercent", 100);
	const cJSON *cb = cJSON_GetObjectItemCaseSensitive(s->deploy_config, "deploymentCircuitBreaker");
	s->cb_enable = bool_of(cb, "enable");
	s->cb_rollback = bool_of(cb, "rollback");
	s->constraints = dup_member(j, "placementConstraints");
	s->strategies = dup_member(j, "placementStrategy");
	s->network = dup_member(j, "networkConfiguration");
	s->extra = cJSON_CreateObject();
	for (size_t i = 0; i < CODEC_SVC_EXTRA_N; i++) {
		cJSON *x = dup_member(j, codec_svc_extra[i]);
		if (x)
			cJSON_AddItemToObject(s->extra, codec_svc_extra[i], x);
	}
	s->sc_namespace = codec_dup_of(j, "berthNamespace");
	s->propagate_tags = codec_dup_of(j, "propagateTags");
	s->managed_tags = bool_of(j, "enableECSManagedTags");
	s->exec_command = bool_of(j, "enableExecuteCommand");
	s->client_token = codec_dup_of(j, "berthClientToken");
	s->create_args = codec_dup_of(j, "berthCreateArgs");
	codec_tags_parse(&s->tags, cJSON_GetObjectItemCaseSensitive(j, "tags"));
	s->deleted_at = codec_time_of(j, "berthDeletedAt");
	s->was_steady = bool_of(j, "berthSteady");
	/* Events are newest first in the record: add them oldest first. */
	const cJSON *ev = cJSON_GetObjectItemCaseSensitive(j, "events");
	for (int i = cJSON_GetArraySize(ev) - 1; i >= 0; i--) {
		const cJSON *e = cJSON_GetArrayItem(ev, i);
		const char *id = codec_str_of(e, "id"), *msg = codec_str_of(e, "message");
		if (id && msg)
			model_svc_event(s, id, codec_time_of(e, "createdAt"), msg);
	}
	return 0;
fail:
	model_svc_purge(m, s);
	return -1;
}
