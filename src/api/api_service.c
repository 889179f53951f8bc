/* api_service: CreateService, UpdateService, DeleteService,
 * DescribeServices, ListServices, ListServicesByNamespace (ECS-SEMANTICS §6).
 *
 * A handler validates the whole request, changes the service and asks for a
 * scheduler pass; the pass (api_svcctl.c) is what starts and stops tasks, so
 * CreateService answers with no task yet, as ECS does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/api_svc.h"
#include "api/api_task.h"
#include "lib/xalloc.h"
#include "model/codec.h"
#include "sched/strategy.h"

#define DESCRIBE_MAX 10
#define CONSTRAINTS_MAX 10
#define STRATEGIES_MAX 5

/* ---- counters ---- */

static bool svc_fargate(const struct service *s)
{
	if (s->launch_type >= 0)
		return s->launch_type == LT_FARGATE;
	return s->strategy.n && cp_is_builtin(s->strategy.v[0].provider);
}

void api_svc_count(struct service *s, int delta)
{
	struct cluster *c = s->cluster;
	bool fg = svc_fargate(s);
	if (s->status == SVC_ACTIVE) {
		c->active_services += delta;
		*(fg ? &c->active_fargate_services : &c->active_ec2_services) += delta;
	} else if (s->status == SVC_DRAINING) {
		*(fg ? &c->draining_fargate_services : &c->draining_ec2_services) += delta;
	}
}

void api_svc_set_status(struct api_ctx *ctx, struct service *s, int status)
{
	api_svc_count(s, -1);
	s->status = status;
	api_svc_count(s, +1);
	model_dirty_svc(ctx->m, s);
	model_dirty_cluster(ctx->m, s->cluster);
}

/* ---- lookups ---- */

/* The service a name or ARN names in cluster c, or NULL. */
static struct service *find_service(const struct cluster *c, const char *ref)
{
	if (strncmp(ref, "arn:", 4) == 0) {
		/* arn:...:service/CLUSTER/NAME (or the old service/NAME) */
		const char *p = strstr(ref, ":service/");
		if (!p)
			return NULL;
		p += 9;
		const char *slash = strchr(p, '/');
		if (slash) {
			if ((size_t)(slash - p) != strlen(c->name) || strncmp(p, c->name, (size_t)(slash - p)) != 0)
				return NULL;
			p = slash + 1;
		}
		return model_svc_find(c, p);
	}
	return model_svc_find(c, ref);
}

static int lookup_service(struct api_ctx *ctx, const cJSON *in, const char *member, struct cluster **c,
			  struct service **out, struct err *e)
{
	if (api_cluster_lookup(ctx, api_str(in, "cluster"), false, c, e))
		return -1;
	const char *ref = api_str(in, member);
	*out = ref ? find_service(*c, ref) : NULL;
	if (!*out)
		return err_set(e, ERR_SERVICE_NOT_FOUND, "Service not found.");
	return 0;
}

/* ---- what CreateService and UpdateService share ---- */

/* The capacity a service's tasks use (§4.3), as one deployment stores it. */
struct capacity {
	int launch_type;            /* or -1 */
	cJSON *strategy;            /* owned, or NULL */
};

/* Resolve launchType / capacityProviderStrategy / the cluster default. */
static int resolve_capacity(struct api_ctx *ctx, struct cluster *c, const cJSON *in, bool daemon,
			    struct capacity *cap, struct err *e)
{
	const cJSON *strategy = api_get(in, "capacityProviderStrategy");
	const char *lt = api_str(in, "launchType");
	cap->launch_type = -1;
	cap->strategy = NULL;
	/* An empty strategy is no strategy (Terraform sends [] beside a
	 * launch type, and ECS takes it). */
	if (cJSON_GetArraySize(strategy) > 0) {
		if (daemon && cJSON_GetArraySize(strategy) > 0)
			return err_set(e, ERR_INVALID_PARAMETER,
				       "Capacity provider strategies are not supported for services using the DAEMON scheduling strategy.");
		if (api_strategy_check(ctx, strategy, c->cps, c->n_cps, SCHED_USE_EXPLICIT, lt != NULL, e))
			return -1;
		cap->strategy = cJSON_Duplicate(strategy, 1);
		return 0;
	}
	if (lt) {
		int t = launch_type_parse(lt);
		if (t < 0 || t == LT_MANAGED_INSTANCES)
			return err_set(e, ERR_INVALID_PARAMETER, "Launch type %s is not supported by Berth.", lt);
		cap->launch_type = t;
		return 0;
	}
	if (c->default_strategy.n && !daemon) {
		cap->strategy = codec_strategy(&c->default_strategy);
		if (api_strategy_check(ctx, cap->strategy, c->cps, c->n_cps, SCHED_USE_CLUSTER_DEFAULT, false, e)) {
			cJSON_Delete(cap->strategy);
			cap->strategy = NULL;
			return -1;
		}
		return 0;
	}
	cap->launch_type = LT_EC2;
	return 0;
}

static bool strategy_fargate(const cJSON *strategy)
{
	const cJSON *it = cJSON_GetArrayItem(strategy, 0);
	return it && cp_is_builtin(api_str(it, "capacityProvider"));
}

/* The task definition can run on that capacity, with that network and
 * placement, as a service. */
static int check_runnable(const struct task_def *td, const struct capacity *cap, const cJSON *network,
			  const cJSON *constraints, const cJSON *strategies, bool daemon, const char *pv,
			  struct err *e)
{
	bool fargate = cap->launch_type == LT_FARGATE || (cap->strategy && strategy_fargate(cap->strategy));
	enum launch_type lt = fargate ? LT_FARGATE : cap->launch_type >= 0 ? (enum launch_type)cap->launch_type : LT_EC2;
	if (!api_td_supports(td, lt))
		return err_set(e, ERR_INVALID_PARAMETER, "Task definition does not support launch_type %s.",
			       launch_type_name(lt));
	if (daemon && fargate)
		return err_set(e, ERR_INVALID_PARAMETER,
			       "The DAEMON scheduling strategy is not supported for services on Fargate.");
	if (daemon && cJSON_GetArraySize(strategies) > 0)
		return err_set(e, ERR_INVALID_PARAMETER,
			       "Placement strategies are not supported for services using the DAEMON scheduling strategy.");
	if (fargate && (cJSON_GetArraySize(constraints) > 0 || cJSON_GetArraySize(strategies) > 0))
		return err_set(e, ERR_INVALID_PARAMETER,
			       "Task placement constraints and strategies are not supported for tasks on Fargate.");
	if (!fargate && pv)
		return err_set(e, ERR_INVALID_PARAMETER,
			       "The platform version must be null when specifying an EC2 launch type.");
	if (cJSON_GetArraySize(constraints) > CONSTRAINTS_MAX)
		return err_set(e, ERR_INVALID_PARAMETER, "A service can have at most 10 placement constraints.");
	if (cJSON_GetArraySize(strategies) > STRATEGIES_MAX)
		return err_set(e, ERR_INVALID_PARAMETER, "A service can have at most 5 placement strategies.");
	const char *subnet;
	if (api_network_check(td, network, &subnet, e))
		return -1;
	return api_placement_check(td, constraints, strategies, e);
}

/* deploymentConfiguration with its defaults (§6.1), into *out. */
static int parse_deploy_config(const cJSON *dc, bool daemon, const cJSON *prev, cJSON **out, struct err *e)
{
	cJSON *o = prev ? cJSON_Duplicate(prev, 1) : cJSON_CreateObject();
	const cJSON *it;
	cJSON_ArrayForEach(it, dc)
	{
		if (cJSON_IsNull(it))
			continue;
		cJSON_DeleteItemFromObjectCaseSensitive(o, it->string);
		cJSON_AddItemToObject(o, it->string, cJSON_Duplicate(it, 1));
	}
	if (!cJSON_GetObjectItemCaseSensitive(o, "maximumPercent"))
		cJSON_AddNumberToObject(o, "maximumPercent", daemon ? 100 : 200);
	if (!cJSON_GetObjectItemCaseSensitive(o, "minimumHealthyPercent"))
		cJSON_AddNumberToObject(o, "minimumHealthyPercent", daemon ? 0 : 100);
	int max = api_int(o, "maximumPercent", 200), min = api_int(o, "minimumHealthyPercent", 100);
	const cJSON *cb = api_get(o, "deploymentCircuitBreaker");
	if (cb && (!cJSON_IsBool(api_get(cb, "enable")) || !cJSON_IsBool(api_get(cb, "rollback")))) {
		cJSON_Delete(o);
		return err_set(e, ERR_INVALID_PARAMETER,
			       "deploymentCircuitBreaker needs both enable and rollback.");
	}
	if (min < 0 || min > 100 || max < 100 || max > 400) {
		cJSON_Delete(o);
		return err_set(e, ERR_INVALID_PARAMETER,
			       "deploymentConfiguration: minimumHealthyPercent must be 0 to 100 and maximumPercent 100 to 400 (got %d and %d).",
			       min, max);
	}
	const char *strategy = api_str(o, "strategy");
	if (strategy && strcmp(strategy, "ROLLING") != 0) {
		cJSON_Delete(o);
		return err_set(e, ERR_INVALID_PARAMETER,
			       "Berth supports the ROLLING deployment strategy only, not %s.", strategy);
	}
	*out = o;
	return 0;
}

static void apply_deploy_config(struct service *s, cJSON *dc)
{
	cJSON_Delete(s->deploy_config);
	s->deploy_config = dc;
	s->max_percent = api_int(dc, "maximumPercent", 200);
	s->min_healthy = api_int(dc, "minimumHealthyPercent", 100);
	const cJSON *cb = api_get(dc, "deploymentCircuitBreaker");
	s->cb_enable = cJSON_IsTrue(api_get(cb, "enable"));
	s->cb_rollback = cJSON_IsTrue(api_get(cb, "rollback"));
}

/* serviceConnectConfiguration: the namespace it uses (heap ARN) or NULL
 * when it is absent or disabled. */
static int check_service_connect(struct api_ctx *ctx, const struct cluster *c, const cJSON *sc, char **ns,
				 struct err *e)
{
	*ns = NULL;
	if (!sc || !cJSON_IsTrue(api_get(sc, "enabled")))
		return 0;
	const char *given = api_str(sc, "namespace");
	if (given && *given) {
		*ns = api_namespace_arn(ctx, given);
		return 0;
	}
	if (!c->sc_namespace)
		return err_set(e, ERR_INVALID_PARAMETER,
			       "Service Connect is enabled but no namespace was given, and the cluster has no serviceConnectDefaults namespace.");
	*ns = xstrdup(c->sc_namespace);
	return 0;
}


static void keep_extras(struct service *s, const cJSON *in)
{
	if (!s->extra)
		s->extra = cJSON_CreateObject();
	for (size_t i = 0; i < CODEC_SVC_EXTRA_N; i++) {
		const cJSON *x = api_get(in, codec_svc_extra[i]);
		if (!x)
			continue;
		cJSON_DeleteItemFromObjectCaseSensitive(s->extra, codec_svc_extra[i]);
		cJSON_AddItemToObject(s->extra, codec_svc_extra[i], cJSON_Duplicate(x, 1));
	}
}

/* A new deployment becomes the PRIMARY; the previous one stays ACTIVE
 * until its tasks are replaced. */
static struct deployment *new_deployment(struct api_ctx *ctx, struct service *s, struct task_def *td,
					 const struct capacity *cap, const char *pv, const cJSON *network,
					 const cJSON *sc)
{
	struct deployment *d = model_dep_add(ctx->m, s);
	char digits[20];
	digits[0] = (char)('1' + rng_below(ctx->rng, 9));
	for (int i = 1; i < 19; i++)
		digits[i] = (char)('0' + rng_below(ctx->rng, 10));
	digits[19] = '\0';
	snprintf(d->id, sizeof d->id, "ecs-svc/%s", digits);
	d->iid = model_intern(ctx->m, d->id);
	d->td = td;
	td->tasks++;
	d->launch_type = cap->launch_type;
	codec_strategy_parse(&d->strategy, cap->strategy);
	d->platform_version = pv ? xstrdup(pv) : NULL;
	d->network = network ? cJSON_Duplicate(network, 1) : NULL;
	d->sc = sc ? cJSON_Duplicate(sc, 1) : NULL;
	d->rollout = DEP_IN_PROGRESS;
	d->rollout_reason = xstrdup("ECS deployment in progress.");
	d->created_at = d->updated_at = ctx->now;
	s->primary = s->n_deps - 1;
	s->was_steady = false;
	return d;
}

static void set_capacity(struct service *s, const struct capacity *cap)
{
	strategy_release(&s->strategy);
	s->launch_type = cap->launch_type;
	codec_strategy_parse(&s->strategy, cap->strategy);
}

static void replace_json(cJSON **slot, const cJSON *v)
{
	cJSON_Delete(*slot);
	*slot = v ? cJSON_Duplicate(v, 1) : NULL;
}

static cJSON *wrap(struct api_ctx *ctx, const struct service *s)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToObjectCS(o, "service", codec_svc(ctx->m, s, CODEC_TAGS));
	return o;
}

/* ---- CreateService ---- */

int api_create_service(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	const char *name = api_str(in, "serviceName");
	if (!name || !api_valid_name(name))
		return err_set(e, ERR_INVALID_PARAMETER,
			       "Service name must be 1 to 255 letters (uppercase and lowercase), numbers, hyphens and underscores.");
	const char *token = api_str(in, "clientToken");
	if (token && !api_client_token_ok(token, 36))
		return err_set(e, ERR_INVALID_PARAMETER, "clientToken must be 1 to 36 ASCII characters from 33 to 126.");
	struct cluster *c;
	if (api_cluster_lookup(ctx, api_str(in, "cluster"), true, &c, e) || api_cluster_require_active(c, e))
		return -1;
	struct service *old = model_svc_find(c, name);
	if (old && old->status == SVC_ACTIVE) {
		if (token && old->client_token && strcmp(token, old->client_token) == 0) {
			*out = wrap(ctx, old);
			return 0;
		}
		return err_set(e, ERR_INVALID_PARAMETER, "Creation of service was not idempotent.");
	}
	if (old && old->status == SVC_DRAINING)
		return err_set(e, ERR_INVALID_PARAMETER, "Unable to Start a service that is still Draining.");
	const char *ctl = api_str(api_get(in, "deploymentController"), "type");
	if (ctl && strcmp(ctl, "ECS") != 0)
		return err_set(e, ERR_INVALID_PARAMETER,
			       "Berth supports the ECS deployment controller only, not %s.", ctl);
	const char *sched = api_str(in, "schedulingStrategy");
	bool daemon = sched && strcmp(sched, "DAEMON") == 0;
	const cJSON *dcount = api_get(in, "desiredCount");
	if (!daemon && !dcount)
		return err_set(e, ERR_INVALID_PARAMETER,
			       "desiredCount is required for a service with the REPLICA scheduling strategy.");
	int desired = api_int(in, "desiredCount", 0);
	if (desired < 0)
		return err_set(e, ERR_INVALID_PARAMETER, "desiredCount must be 0 or more.");
	const char *tdref = api_str(in, "taskDefinition");
	if (!tdref)
		return err_set(e, ERR_INVALID_PARAMETER, "A task definition is required for a service.");
	struct task_def *td;
	if (api_td_resolve(ctx, tdref, &td, e))
		return -1;
	const char *prop = api_str(in, "propagateTags");
	const cJSON *tags = api_get(in, "tags");
	if (api_tags_check(tags, 0, e))
		return -1;
	struct capacity cap;
	if (resolve_capacity(ctx, c, in, daemon, &cap, e))
		return -1;
	const cJSON *network = api_get(in, "networkConfiguration");
	const cJSON *constraints = api_get(in, "placementConstraints");
	const cJSON *strategies = api_get(in, "placementStrategy");
	const char *pv = api_str(in, "platformVersion");
	cJSON *dc = NULL;
	char *ns = NULL;
	if (check_runnable(td, &cap, network, constraints, strategies, daemon, pv, e) ||
	    parse_deploy_config(api_get(in, "deploymentConfiguration"), daemon, NULL, &dc, e) ||
	    check_service_connect(ctx, c, api_get(in, "serviceConnectConfiguration"), &ns, e)) {
		cJSON_Delete(cap.strategy);
		return -1;
	}
	bool fargate = cap.launch_type == LT_FARGATE || (cap.strategy && strategy_fargate(cap.strategy));
	if (fargate && !pv)
		pv = "LATEST";
	/* Everything is valid: make it. */
	struct service *s = model_svc_new(ctx->m, c, name, ctx->now);
	s->daemon = daemon;
	s->desired = daemon ? 0 : desired;
	set_capacity(s, &cap);
	s->platform_version = pv ? xstrdup(pv) : NULL;
	apply_deploy_config(s, dc);
	s->constraints = constraints ? cJSON_Duplicate(constraints, 1) : cJSON_CreateArray();
	s->strategies = strategies ? cJSON_Duplicate(strategies, 1) : cJSON_CreateArray();
	s->network = network ? cJSON_Duplicate(network, 1) : NULL;
	keep_extras(s, in);
	s->sc_namespace = ns;
	s->propagate_tags = xstrdup(prop ? prop : "NONE");
	s->managed_tags = cJSON_IsTrue(api_get(in, "enableECSManagedTags"));
	s->exec_command = cJSON_IsTrue(api_get(in, "enableExecuteCommand"));
	s->client_token = token ? xstrdup(token) : NULL;
	codec_tags_parse(&s->tags, tags);
	cJSON *sc = NULL;
	if (ns) {
		sc = cJSON_Duplicate(api_get(in, "serviceConnectConfiguration"), 1);
		cJSON_DeleteItemFromObjectCaseSensitive(sc, "namespace");
		cJSON_AddStringToObject(sc, "namespace", ns);
	}
	new_deployment(ctx, s, td, &cap, pv, network, sc);
	cJSON_Delete(sc);
	cJSON_Delete(cap.strategy);
	api_svc_count(s, +1);
	model_dirty_cluster(ctx->m, c);
	api_svc_queue(ctx, s);
	*out = wrap(ctx, s);
	return 0;
}

/* ---- UpdateService ---- */

static bool has_asg(const struct strategy *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (!cp_is_builtin(s->v[i].provider))
			return true;
	return false;
}

static bool has_fargate(const struct strategy *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (cp_is_builtin(s->v[i].provider))
			return true;
	return false;
}

int api_update_service(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	struct cluster *c;
	struct service *s;
	if (lookup_service(ctx, in, "service", &c, &s, e))
		return -1;
	if (s->status != SVC_ACTIVE)
		return err_set(e, ERR_SERVICE_NOT_ACTIVE, "Service was not ACTIVE.");
	const struct deployment *pd = &s->deps[s->primary];
	bool force = cJSON_IsTrue(api_get(in, "forceNewDeployment"));
	const cJSON *dcount = api_get(in, "desiredCount");
	int desired = api_int(in, "desiredCount", (int)s->desired);
	if (dcount && desired < 0)
		return err_set(e, ERR_INVALID_PARAMETER, "desiredCount must be 0 or more.");
	struct task_def *td = pd->td;
	const char *tdref = api_str(in, "taskDefinition");
	if (tdref && api_td_resolve(ctx, tdref, &td, e))
		return -1;
	/* Capacity: unchanged unless a strategy (or a launch type) is given. */
	const cJSON *strategy = api_get(in, "capacityProviderStrategy");
	const char *lt = api_str(in, "launchType");
	struct capacity cap = {s->launch_type, s->launch_type < 0 ? codec_strategy(&s->strategy) : NULL};
	bool cap_changed = false;
	if (strategy || lt) {
		cJSON_Delete(cap.strategy);
		cap.strategy = NULL;
		if (strategy && lt)
			return err_set(e, ERR_INVALID_PARAMETER,
				       "Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.");
		if (cJSON_GetArraySize(strategy) > 0) {
			if (s->daemon)
				return err_set(e, ERR_INVALID_PARAMETER,
					       "Capacity provider strategies are not supported for services using the DAEMON scheduling strategy.");
			if (api_strategy_check(ctx, strategy, c->cps, c->n_cps, SCHED_USE_EXPLICIT, false, e))
				return -1;
			cap.launch_type = -1;
			cap.strategy = cJSON_Duplicate(strategy, 1);
		} else {
			/* [] (or a launch type): back to a launch type. */
			int t = lt ? launch_type_parse(lt) : LT_EC2;
			if (t < 0 || t == LT_MANAGED_INSTANCES)
				return err_set(e, ERR_INVALID_PARAMETER, "Launch type %s is not supported by Berth.", lt);
			cap.launch_type = t;
		}
		struct strategy ns = {0};
		codec_strategy_parse(&ns, cap.strategy);
		cap_changed = cap.launch_type != s->launch_type || !strategy_equal(&ns, &s->strategy);
		bool from_asg = s->launch_type < 0 ? has_asg(&s->strategy) : s->launch_type != LT_FARGATE;
		bool from_fg = s->launch_type < 0 ? has_fargate(&s->strategy) : s->launch_type == LT_FARGATE;
		bool to_asg = cap.launch_type < 0 ? has_asg(&ns) : cap.launch_type != LT_FARGATE;
		bool to_fg = cap.launch_type < 0 ? has_fargate(&ns) : cap.launch_type == LT_FARGATE;
		strategy_release(&ns);
		if (cap_changed && !force) {
			cJSON_Delete(cap.strategy);
			return err_set(e, ERR_INVALID_PARAMETER,
				       "When switching from launch type to capacity provider strategy on an existing service, or making a change to a capacity provider strategy on a service that is already using one, you must force a new deployment.");
		}
		if (cap_changed && !ctx->cfg->allow_asg_fargate_switch &&
		    ((from_asg && to_fg && !from_fg) || (from_fg && to_asg && !from_asg))) {
			cJSON_Delete(cap.strategy);
			return err_set(e, ERR_INVALID_PARAMETER,
				       "A service cannot be moved between Auto Scaling group capacity and Fargate capacity. Create a new service instead (or start berthd with --allow-asg-fargate-switch).");
		}
	}
	const cJSON *network = api_get(in, "networkConfiguration");
	if (!network)
		network = s->network;
	const cJSON *constraints = api_get(in, "placementConstraints");
	const cJSON *strategies = api_get(in, "placementStrategy");
	const char *pv_in = api_str(in, "platformVersion");
	bool pv_changed = pv_in && (!pd->platform_version || strcmp(pv_in, pd->platform_version) != 0);
	/* The platform version kept from Fargate is dropped on a move to EC2;
	 * only one given now is refused there. */
	const char *pv = pv_in ? pv_in : pd->platform_version;
	cJSON *dc = NULL;
	char *ns = NULL;
	const cJSON *scin = api_get(in, "serviceConnectConfiguration");
	if (check_runnable(td, &cap, network, constraints ? constraints : s->constraints,
			   strategies ? strategies : s->strategies, s->daemon, pv_in, e) ||
	    parse_deploy_config(api_get(in, "deploymentConfiguration"), s->daemon, s->deploy_config, &dc, e) ||
	    (scin && check_service_connect(ctx, c, scin, &ns, e)) || api_tags_check(NULL, 0, e)) {
		cJSON_Delete(cap.strategy);
		return -1;
	}
	bool fargate = cap.launch_type == LT_FARGATE || (cap.strategy && strategy_fargate(cap.strategy));
	if (!fargate)
		pv = NULL;
	else if (!pv)
		pv = "LATEST";
	bool net_changed = api_get(in, "networkConfiguration") &&
			   !(s->network && cJSON_Compare(s->network, network, 1));
	bool redeploy = force || td != pd->td || cap_changed || net_changed || pv_changed || scin ||
			api_get(in, "loadBalancers") || api_get(in, "serviceRegistries") ||
			api_get(in, "volumeConfigurations") || api_get(in, "vpcLatticeConfigurations");
	/* Everything is valid: change it. */
	if (dcount && !s->daemon)
		s->desired = desired;
	apply_deploy_config(s, dc);
	if (constraints)
		replace_json(&s->constraints, constraints);
	if (strategies)
		replace_json(&s->strategies, strategies);
	if (api_get(in, "networkConfiguration"))
		replace_json(&s->network, network);
	keep_extras(s, in);
	const char *prop = api_str(in, "propagateTags");
	if (prop) {
		free(s->propagate_tags);
		s->propagate_tags = xstrdup(prop);
	}
	if (api_get(in, "enableECSManagedTags"))
		s->managed_tags = cJSON_IsTrue(api_get(in, "enableECSManagedTags"));
	if (api_get(in, "enableExecuteCommand"))
		s->exec_command = cJSON_IsTrue(api_get(in, "enableExecuteCommand"));
	if (scin) {
		free(s->sc_namespace);
		s->sc_namespace = ns;
	}
	api_svc_count(s, -1);
	set_capacity(s, &cap);
	api_svc_count(s, +1);
	free(s->platform_version);
	s->platform_version = pv ? xstrdup(pv) : NULL;
	if (redeploy) {
		cJSON *sc = NULL;
		if (s->sc_namespace) {
			sc = cJSON_Duplicate(scin ? scin : s->deps[s->primary].sc, 1);
			cJSON_DeleteItemFromObjectCaseSensitive(sc, "namespace");
			cJSON_AddStringToObject(sc, "namespace", s->sc_namespace);
		}
		new_deployment(ctx, s, td, &cap, pv, s->network, sc);
		cJSON_Delete(sc);
	} else {
		s->deps[s->primary].updated_at = ctx->now;
	}
	s->was_steady = false;
	cJSON_Delete(cap.strategy);
	model_dirty_svc(ctx->m, s);
	model_dirty_cluster(ctx->m, c);
	api_svc_queue(ctx, s);
	*out = wrap(ctx, s);
	return 0;
}

/* ---- DeleteService ---- */

int api_delete_service(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	struct cluster *c;
	struct service *s;
	if (lookup_service(ctx, in, "service", &c, &s, e))
		return -1;
	if (s->status == SVC_INACTIVE)
		return err_set(e, ERR_SERVICE_NOT_ACTIVE, "Service was not ACTIVE.");
	bool force = cJSON_IsTrue(api_get(in, "force"));
	if (s->status == SVC_ACTIVE) {
		if (!force && !s->daemon && s->desired > 0)
			return err_set(e, ERR_INVALID_PARAMETER, "The service cannot be stopped while it is scaled above 0.");
		s->deleted_at = ctx->now;
		api_svc_set_status(ctx, s, SVC_DRAINING);
		api_svc_queue(ctx, s);
	}
	*out = wrap(ctx, s);
	return 0;
}

/* ---- DescribeServices ---- */

int api_describe_services(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	const cJSON *list = api_get(in, "services");
	int n = cJSON_GetArraySize(list);
	if (n < 1 || n > DESCRIBE_MAX)
		return err_set(e, ERR_INVALID_PARAMETER, "services must have 1 to %d items.", DESCRIBE_MAX);
	struct cluster *c;
	if (api_cluster_lookup(ctx, api_str(in, "cluster"), false, &c, e))
		return -1;
	bool tags = false;
	const cJSON *it;
	cJSON_ArrayForEach(it, api_get(in, "include"))
		tags = tags || (cJSON_IsString(it) && strcmp(it->valuestring, "TAGS") == 0);
	cJSON *o = cJSON_CreateObject();
	cJSON *sl = cJSON_AddArrayToObject(o, "services");
	cJSON *fl = cJSON_AddArrayToObject(o, "failures");
	cJSON_ArrayForEach(it, list)
	{
		const char *ref = cJSON_IsString(it) ? it->valuestring : "";
		struct service *s = find_service(c, ref);
		if (s) {
			cJSON_AddItemToArray(sl, codec_svc(ctx->m, s, tags ? CODEC_TAGS : 0));
			continue;
		}
		char prefix[300];
		snprintf(prefix, sizeof prefix, "service/%s/", c->name);
		cJSON_AddItemToArray(fl, api_failure(ctx, prefix, ref, "MISSING"));
	}
	*out = o;
	return 0;
}

/* ---- ListServices / ListServicesByNamespace ---- */

static int page_args(const cJSON *in, const char *kind, int *max, char **after, struct err *e)
{
	*max = api_int(in, "maxResults", 10);
	if (*max < 1 || *max > 100)
		return err_set(e, ERR_INVALID_PARAMETER, "maxResults must be between 1 and 100; %d is out of range.",
			       *max);
	const char *tok = api_str(in, "nextToken");
	*after = NULL;
	if (tok && !(*after = api_token_decode(kind, tok, e)))
		return -1;
	return 0;
}

typedef bool (*svc_pred)(const struct service *s, const void *arg);

/* One page of the services of c passing pred, in name order. */
static void list_page(const struct cluster *c, svc_pred pred, const void *arg, const char *kind, int max,
		      const char *after, cJSON *o, const char *key)
{
	cJSON *arns = cJSON_AddArrayToObject(o, key);
	int k = 0;
	size_t i = sidx_after(&c->services, after);
	const char *last = NULL;
	for (; i < c->services.n; i++) {
		const struct service *s = c->services.v[i].val;
		if (s->status != SVC_ACTIVE || !pred(s, arg))
			continue;
		if (k == max) {
			char *t = api_token_encode(kind, last);
			cJSON_AddStringToObject(o, "nextToken", t);
			free(t);
			return;
		}
		cJSON_AddItemToArray(arns, cJSON_CreateString(s->arn));
		last = s->name;
		k++;
	}
}

struct list_filter {
	int launch_type;            /* or -1 */
	int daemon;                 /* or -1 */
};

static bool filter_ok(const struct service *s, const void *arg)
{
	const struct list_filter *f = arg;
	if (f->daemon >= 0 && s->daemon != (f->daemon == 1))
		return false;
	if (f->launch_type >= 0) {
		/* A strategy service lists under the launch type of its providers. */
		int lt = s->launch_type >= 0 ? s->launch_type : svc_fargate(s) ? LT_FARGATE : LT_EC2;
		if (lt != f->launch_type)
			return false;
	}
	return true;
}

int api_list_services(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	struct list_filter f = {-1, -1};
	const char *lt = api_str(in, "launchType");
	if (lt && (f.launch_type = launch_type_parse(lt)) < 0)
		return err_set(e, ERR_INVALID_PARAMETER, "Unknown launchType %s.", lt);
	const char *ss = api_str(in, "schedulingStrategy");
	if (ss)
		f.daemon = strcmp(ss, "DAEMON") == 0;
	if (api_get(in, "resourceManagementType"))
		return err_set(e, ERR_INVALID_PARAMETER, "resourceManagementType is not supported by Berth.");
	int max;
	char *after;
	if (page_args(in, "services", &max, &after, e))
		return -1;
	struct cluster *c;
	if (api_cluster_lookup(ctx, api_str(in, "cluster"), false, &c, e)) {
		free(after);
		return -1;
	}
	cJSON *o = cJSON_CreateObject();
	list_page(c, filter_ok, &f, "services", max, after, o, "serviceArns");
	free(after);
	*out = o;
	return 0;
}

static bool in_namespace(const struct service *s, const void *arg)
{
	return s->sc_namespace && strcmp(s->sc_namespace, arg) == 0;
}

int api_list_services_by_namespace(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	const char *nsref = api_str(in, "namespace");
	if (!nsref || !*nsref)
		return err_set(e, ERR_INVALID_PARAMETER, "namespace is required.");
	int max;
	char *after;
	if (page_args(in, "services-ns", &max, &after, e))
		return -1;
	char *ns = api_namespace_arn(ctx, nsref);
	/* Across the region's clusters: the page key is "<cluster>,<service>"
	 * (a comma sorts before every character of a name, so keys sort as the
	 * clusters and their services do). */
	cJSON *o = cJSON_CreateObject();
	cJSON *arns = cJSON_AddArrayToObject(o, "serviceArns");
	struct region *r = model_region_find(ctx->m, ctx->region);
	int k = 0;
	char *last = NULL;
	for (size_t i = 0; r && i < r->clusters.n; i++) {
		const struct cluster *c = r->clusters.v[i].val;
		for (size_t j = 0; j < c->services.n; j++) {
			const struct service *s = c->services.v[j].val;
			if (s->status != SVC_ACTIVE || !in_namespace(s, ns))
				continue;
			char *key = xasprintf("%s,%s", c->name, s->name);
			if (after && strcmp(key, after) <= 0) {
				free(key);
				continue;
			}
			if (k == max) {
				char *t = api_token_encode("services-ns", last);
				cJSON_AddStringToObject(o, "nextToken", t);
				free(t);
				free(key);
				goto done;
			}
			cJSON_AddItemToArray(arns, cJSON_CreateString(s->arn));
			free(last);
			last = key;
			k++;
		}
	}
done:
	free(last);
	free(ns);
	free(after);
	*out = o;
	return 0;
}

/* ---- UpdateTaskProtection / GetTaskProtection ---- */

#define PROTECT_DEFAULT_MIN 120
#define PROTECT_MAX_MIN 2880

static cJSON *protected_json(struct api_ctx *ctx, const struct task *t)
{
	char arn[256];
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "taskArn", task_arn(ctx->m, t, arn, sizeof arn));
	bool on = t->protect_until > ctx->now;
	cJSON_AddBoolToObject(o, "protectionEnabled", on);
	if (on)
		codec_put_time(o, "expirationDate", t->protect_until);
	return o;
}

static void protect_failure(cJSON *fl, struct api_ctx *ctx, const struct cluster *c, const char *ref,
			    const char *reason)
{
	char prefix[300];
	snprintf(prefix, sizeof prefix, "task/%s/", c->name);
	cJSON *f = api_failure(ctx, prefix, ref, reason);
	if (strcmp(reason, "TASK_NOT_VALID") == 0)
		cJSON_AddStringToObject(f, "detail", "Task protection is for tasks that a service started and that are not stopped.");
	cJSON_AddItemToArray(fl, f);
}

/* Each reference of list: the task (NULL, with a failure, when it cannot
 * be protected).  fn gets each valid one. */
static int protect_each(struct api_ctx *ctx, const cJSON *in, cJSON **out, const char *key,
			void (*fn)(struct api_ctx *, struct task *, const void *), const void *arg, struct err *e)
{
	struct cluster *c;
	if (api_cluster_lookup(ctx, api_str(in, "cluster"), false, &c, e))
		return -1;
	const cJSON *list = api_get(in, "tasks");
	int n = cJSON_GetArraySize(list);
	if (n > 10 || (n < 1 && strcmp(key, "protectedTasks") == 0 && fn))
		return err_set(e, ERR_INVALID_PARAMETER, "tasks must have 1 to 10 items.");
	cJSON *o = cJSON_CreateObject();
	cJSON *pl = cJSON_AddArrayToObject(o, key);
	cJSON *fl = cJSON_AddArrayToObject(o, "failures");
	const cJSON *it;
	cJSON_ArrayForEach(it, list)
	{
		const char *ref = cJSON_IsString(it) ? it->valuestring : "";
		struct task *t = api_task_lookup(ctx, c, ref);
		if (!t) {
			protect_failure(fl, ctx, c, ref, "MISSING");
			continue;
		}
		if (!t->svc || t->desired == TS_STOPPED) {
			protect_failure(fl, ctx, c, ref, "TASK_NOT_VALID");
			continue;
		}
		if (fn)
			fn(ctx, t, arg);
		cJSON_AddItemToArray(pl, protected_json(ctx, t));
	}
	*out = o;
	return 0;
}

struct protect_arg {
	bool on;
	int minutes;
};

static void set_protection(struct api_ctx *ctx, struct task *t, const void *arg)
{
	const struct protect_arg *p = arg;
	int64_t until = p->on ? ctx->now + (int64_t)p->minutes * 60000 : 0;
	if (t->protect_until != until) {
		t->protect_until = until;
		model_dirty_task(ctx->m, t);
	}
	/* Protection changes what scale-in may stop: look again. */
	api_svc_queue(ctx, t->svc);
}

int api_update_task_protection(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	const cJSON *on = api_get(in, "protectionEnabled");
	if (!cJSON_IsBool(on))
		return err_set(e, ERR_INVALID_PARAMETER, "protectionEnabled is required.");
	struct protect_arg p = {cJSON_IsTrue(on), api_int(in, "expiresInMinutes", PROTECT_DEFAULT_MIN)};
	if (p.minutes < 1 || p.minutes > PROTECT_MAX_MIN)
		return err_set(e, ERR_INVALID_PARAMETER, "expiresInMinutes must be between 1 and %d.", PROTECT_MAX_MIN);
	return protect_each(ctx, in, out, "protectedTasks", set_protection, &p, e);
}

int api_get_task_protection(struct api_ctx *ctx, const cJSON *in, cJSON **out, struct err *e)
{
	if (!api_get(in, "tasks"))
		return err_set(e, ERR_INVALID_PARAMETER, "tasks is required.");
	return protect_each(ctx, in, out, "protectedTasks", NULL, NULL, e);
}
