/* server: the loop, the group commit and the lifecycle controller.
 *
 * A loop turn: timers fire (the lifecycle controller completes transitions);
 * the inbox callback answers every queued request into the waiting list;
 * then, in the check phase right after I/O and in the prepare phase right
 * before the loop sleeps, server_flush writes the turn's dirty objects in
 * one store transaction and only then resumes the waiting connections.  So
 * no client ever sees an answer for a change that is not durable. */
#include <errno.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "model/codec.h"
#include "model/codec_as.h"
#include "scaling/cas.h"
#include "server/server.h"

static const char *kind_name(enum model_kind k)
{
	switch (k) {
	case MODEL_REGION: return "region";
	case MODEL_CLUSTER: return "cluster";
	case MODEL_CP: return "capacity_provider";
	case MODEL_TASKDEF: return "task_definition";
	case MODEL_INSTANCE: return "container_instance";
	case MODEL_TASK: return "task";
	case MODEL_FAMILY: return "task_family";
	case MODEL_SERVICE: return "service";
	case MODEL_AS_LC: return "as_launch_config";
	case MODEL_AS_GROUP: return "as_group";
	case MODEL_AS_POLICY: return "as_policy";
	case MODEL_IAM_USER: return "iam_user";
	}
	return "?";
}

static cJSON *record_of(const struct model *model, const struct model_change *c)
{
	switch (c->kind) {
	case MODEL_REGION: return codec_region(c->obj);
	case MODEL_CLUSTER: return codec_cluster(c->obj, CODEC_RECORD);
	case MODEL_CP: return codec_cp(c->obj, CODEC_RECORD);
	case MODEL_TASKDEF: return codec_td(c->obj, CODEC_RECORD);
	case MODEL_INSTANCE: return codec_ci(model, c->obj, CODEC_RECORD);
	case MODEL_TASK: return codec_task(model, c->obj, CODEC_RECORD);
	case MODEL_FAMILY: return codec_family(c->obj);
	case MODEL_SERVICE: return codec_svc(model, c->obj, CODEC_RECORD);
	case MODEL_AS_LC: return codec_as_lc(c->obj, CODEC_RECORD);
	case MODEL_AS_GROUP: return codec_as_group(model, c->obj, CODEC_RECORD);
	case MODEL_AS_POLICY: return codec_as_policy(c->obj, CODEC_RECORD);
	case MODEL_IAM_USER: return codec_iam_user(&model->iam, c->obj);
	}
	return NULL;
}

static char *id_of(const struct model_change *c)
{
	switch (c->kind) {
	case MODEL_REGION: return xstrdup(((struct region *)c->obj)->name);
	case MODEL_CLUSTER: {
		const struct cluster *cl = c->obj;
		return model_record_id(cl->region, cl->name);
	}
	case MODEL_CP: {
		const struct capacity_provider *cp = c->obj;
		return model_record_id(cp->region, cp->name);
	}
	case MODEL_TASKDEF: return codec_td_record_id(c->obj);
	case MODEL_INSTANCE: return codec_ci_record_id(c->obj);
	case MODEL_TASK: return codec_task_record_id(c->obj);
	case MODEL_FAMILY: {
		const struct td_family *f = c->obj;
		return model_record_id(f->region, f->name);
	}
	case MODEL_SERVICE: return codec_svc_record_id(c->obj);
	case MODEL_AS_LC: {
		const struct as_launch_config *lc = c->obj;
		return model_record_id(lc->region, lc->name);
	}
	case MODEL_AS_GROUP: {
		const struct as_group *g = c->obj;
		return model_record_id(g->region, g->name);
	}
	case MODEL_AS_POLICY: return codec_as_policy_record_id(c->obj);
	case MODEL_IAM_USER: return xstrdup(((struct iam_user *)c->obj)->name);
	}
	return NULL;
}

/* Write the changes in one transaction.  Returns 0 or -1 (logged). */
static int commit_changes(struct server *srv, struct model_change *ch, size_t n)
{
	struct err e;
	err_clear(&e);
	int64_t t0 = clock_mono_us();
	if (srv->sops->begin(srv->store, &e))
		goto fail;
	for (size_t i = 0; i < n; i++) {
		int rc;
		if (ch[i].obj) {
			cJSON *j = record_of(&srv->model, &ch[i]);
			char *body = cJSON_PrintUnformatted(j);
			char *id = id_of(&ch[i]);
			rc = srv->sops->put(srv->store, kind_name(ch[i].kind), id, body, strlen(body), &e);
			free(id);
			cJSON_free(body);
			cJSON_Delete(j);
		} else {
			rc = srv->sops->del(srv->store, kind_name(ch[i].kind), ch[i].del_id, &e);
		}
		if (rc) {
			srv->sops->rollback(srv->store);
			goto fail;
		}
	}
	if (srv->sops->commit(srv->store, &e)) {
		srv->sops->rollback(srv->store);
		goto fail;
	}
	srv->stats.commits++;
	srv->stats.commit_records += n;
	srv->stats.commit_us_total += (uint64_t)(clock_mono_us() - t0);
	return 0;
fail:
	log_error("store commit failed: %s", e.msg);
	return -1;
}

static void begin_shutdown(struct server *srv, int code);

void server_flush(struct server *srv)
{
	size_t n;
	struct model_change *ch = model_take_dirty(&srv->model, &n);
	int failed = n ? commit_changes(srv, ch, n) : 0;
	model_changes_free(ch, n);
	struct http_req *r = srv->whead;
	srv->whead = srv->wtail = NULL;
	while (r) {
		struct http_req *next = r->next;
		if (failed) {
			/* The memory state is ahead of the store: refuse the
			 * answers and stop; a restart rebuilds from what is durable. */
			awsjson_error(r, ERR_SERVER, "The change could not be made durable; berthd is stopping.");
			r->close = true;
		}
		srv->stats.requests++;
		http_resume(r);
		r = next;
	}
	if (failed && !srv->stopping)
		begin_shutdown(srv, 1);
}

static void queue_answer(struct server *srv, struct http_req *r)
{
	if (srv->wtail)
		srv->wtail->next = r;
	else
		srv->whead = r;
	srv->wtail = r;
}

static void on_inbox(uv_async_t *h)
{
	struct server *srv = h->data;
	pthread_mutex_lock(&srv->qmu);
	struct http_req *r = srv->qhead;
	srv->qhead = srv->qtail = NULL;
	pthread_mutex_unlock(&srv->qmu);
	while (r) {
		struct http_req *next = r->next;
		r->next = NULL;
		if (!awsjson_handle(srv, r))
			queue_answer(srv, r);
		r = next;
	}
}

void server_run_parked(struct server *srv, bool all)
{
	if (!srv->parked)
		return;
	int64_t now = clock_now(&srv->clock);
	bool news = srv->parked_gen != srv->model.agent_gen;
	/* Each loop turn comes here: without news and before the soonest
	 * deadline, no held poll is due. */
	if (!all && !news && now < srv->parked_soonest)
		return;
	srv->parked_gen = srv->model.agent_gen;
	srv->parked_soonest = 0; /* polls parked again below set it anew */
	struct api_ctx ctx = {.m = &srv->model};
	struct http_req *r = srv->parked;
	srv->parked = NULL;
	int64_t soonest = 0;
	while (r) {
		struct http_req *next = r->next;
		r->next = NULL;
		struct api_park *p = &r->park;
		bool due = all || p->until <= now ||
			   (news && api_agent_work_gen(&ctx, p->region, p->cluster, p->ci_id) != p->gen);
		if (!due) {
			r->next = srv->parked;
			srv->parked = r;
			if (!soonest || p->until < soonest)
				soonest = p->until;
		} else {
			if (all)
				p->until = now; /* answer now: no holding again */
			if (!awsjson_handle(srv, r))
				queue_answer(srv, r);
		}
		r = next;
	}
	/* The advance timer fires once: the polls still held need it again
	 * for the soonest of their deadlines (those parked again above armed
	 * it themselves). */
	if (soonest && (!srv->parked_soonest || soonest < srv->parked_soonest))
		srv->parked_soonest = soonest;
	if (soonest)
		server_wake(srv, soonest);
}

static void on_prepare(uv_prepare_t *h)
{
	server_run_parked(h->data, false);
	server_flush(h->data);
}

static void on_check(uv_check_t *h)
{
	server_run_parked(h->data, false);
	server_flush(h->data);
}

static void on_advance(uv_timer_t *h);

void server_wake(struct server *srv, int64_t at)
{
	if (srv->stopping || (srv->armed_at && srv->armed_at <= at))
		return;
	int64_t now = clock_now(&srv->clock);
	/* A virtual clock moves only by AdvanceClock, which runs what falls
	 * due itself: only what is due now needs the timer. */
	if (srv->clock.ops == &clock_virtual_ops && at > now)
		return;
	srv->armed_at = at;
	uv_timer_start(&srv->advance, on_advance, at > now ? (uint64_t)(at - now) : 0, 0);
}

static void on_advance(uv_timer_t *h)
{
	struct server *srv = h->data;
	srv->armed_at = 0;
	struct api_ctx ctx = {
		.m = &srv->model,
		.cfg = &srv->acfg,
		.region = srv->cfg.region,
		.now = clock_now(&srv->clock),
		.rng = &srv->rng,
		.driver = srv->driver,
		.infra = srv->infra,
	};
	int64_t next = api_advance(&ctx);
	if (next)
		server_wake(srv, next);
}

/* ---- shutdown ---- */

static void on_close(uv_handle_t *h)
{
	(void)h;
}

/* Close every handle of the loop; the loop ends once their callbacks ran.
 * MHD must be stopped first: its workers wake the loop through the inbox. */
static void close_handles(struct server *srv)
{
	uv_close((uv_handle_t *)&srv->inbox, on_close);
	uv_close((uv_handle_t *)&srv->prepare, on_close);
	uv_close((uv_handle_t *)&srv->check, on_close);
	uv_close((uv_handle_t *)&srv->advance, on_close);
	uv_close((uv_handle_t *)&srv->sigterm, on_close);
	uv_close((uv_handle_t *)&srv->sigint, on_close);
	uv_close((uv_handle_t *)&srv->sighup, on_close);
	uv_close((uv_handle_t *)&srv->shutdown_timer, on_close);
}

static void on_shutdown_tick(uv_timer_t *h)
{
	struct server *srv = h->data;
	if (atomic_load(&srv->live) > 0 && srv->shutdown_ticks++ < 300)
		return; /* in-flight requests still finishing (up to 3 s) */
	uv_timer_stop(h);
	http_stop(srv);
	close_handles(srv);
}

static void begin_shutdown(struct server *srv, int code)
{
	if (srv->stopping)
		return;
	srv->stopping = true;
	srv->exit_code = code;
	log_info("stopping");
	uv_timer_stop(&srv->advance);
	http_quiesce(srv);
	pthread_mutex_lock(&srv->qmu);
	srv->qclosed = true;
	struct http_req *r = srv->qhead;
	srv->qhead = srv->qtail = NULL;
	pthread_mutex_unlock(&srv->qmu);
	/* What was already queued is answered normally: it was accepted. */
	while (r) {
		struct http_req *next = r->next;
		r->next = NULL;
		if (!awsjson_handle(srv, r))
			queue_answer(srv, r);
		r = next;
	}
	server_run_parked(srv, true); /* held polls get their answer now */
	server_flush(srv);
	uv_timer_start(&srv->shutdown_timer, on_shutdown_tick, 0, 10);
}

static void on_signal(uv_signal_t *h, int signum)
{
	(void)signum;
	begin_shutdown(h->data, 0);
}

/* Read --policy-file into the model's file users.  Returns 0 or -1 (logged;
 * the users loaded before stay). */
static int load_policy_file(struct server *srv)
{
	if (!*srv->cfg.policy_file)
		return 0;
	FILE *f = fopen(srv->cfg.policy_file, "rb");
	if (!f) {
		log_error("cannot read the policy file %s: %s", srv->cfg.policy_file, strerror(errno));
		return -1;
	}
	char *text = NULL;
	size_t len = 0, cap = 0, n;
	do {
		if (len + 65536 > cap)
			text = xrealloc(text, cap = 2 * cap + 65536);
		n = fread(text + len, 1, cap - len, f);
		len += n;
	} while (n > 0 && len < (size_t)16 << 20);
	fclose(f);
	struct api_ctx ctx = {.m = &srv->model, .cfg = &srv->acfg, .region = srv->cfg.region,
			      .now = clock_now(&srv->clock), .rng = &srv->rng};
	struct err e;
	err_clear(&e);
	int rc = api_iam_load_file(&ctx, text, len, &e);
	seal_wipe(text, len);
	free(text);
	size_t users = 0;
	for (size_t i = 0; i < srv->model.iam.users.n; i++)
		users += ((struct iam_user *)srv->model.iam.users.v[i].val)->from_file;
	if (rc)
		log_error("policy file %s refused: %s", srv->cfg.policy_file, e.msg);
	else
		log_info("policy file %s: %zu users", srv->cfg.policy_file, users);
	return rc;
}

static void on_sighup(uv_signal_t *h, int signum)
{
	(void)signum;
	load_policy_file(h->data);
}

/* ---- start ---- */

struct load_arg {
	struct server *srv;
	size_t clusters, cps, tds, cis, tasks;
	cJSON **deferred;           /* task records: loaded after the rest */
	size_t n_deferred, cap_deferred;
	cJSON **svcs;               /* service records: after all but tasks */
	size_t n_svcs, cap_svcs;
};

static int load_record(void *arg, const char *kind, const char *id, int64_t rev, const char *body, size_t len)
{
	(void)rev;
	struct load_arg *la = arg;
	struct model *m = &la->srv->model;
	cJSON *j = cJSON_ParseWithLength(body, len);
	if (!j) {
		log_error("store record %s %s is not JSON", kind, id);
		return -1;
	}
	int rc = 0;
	if (strcmp(kind, "region") == 0) {
		codec_region_apply(model_region(m, id), j);
	} else if (strcmp(kind, "cluster") == 0) {
		struct cluster *c = codec_cluster_from_record(j);
		if (c) {
			struct region *r = model_region(m, c->region);
			cluster_free(sidx_put(&r->clusters, c->name, c));
			la->clusters++;
		} else {
			rc = -1;
		}
	} else if (strcmp(kind, "capacity_provider") == 0) {
		struct capacity_provider *cp = codec_cp_from_record(j);
		if (cp) {
			struct region *r = model_region(m, cp->region);
			cp_free(sidx_put(&r->cps, cp->name, cp));
			la->cps++;
		} else {
			rc = -1;
		}
	} else if (strcmp(kind, "task_definition") == 0) {
		struct task_def *td = codec_td_from_record(j);
		if (td) {
			model_td_add(m, model_region(m, td->region), td);
			la->tds++;
		} else {
			rc = -1;
		}
	} else if (strcmp(kind, "container_instance") == 0) {
		struct container_instance *ci = codec_ci_from_record(j);
		struct region *r = ci ? model_region(m, ci->region) : NULL;
		struct cluster *c = ci ? model_cluster_find(r, ci->cluster) : NULL;
		if (c) {
			model_ci_add(m, r, c, ci);
			la->cis++;
		} else {
			ci_free(ci);
			rc = -1;
		}
	} else if (strcmp(kind, "task_family") == 0) {
		const char *region = codec_str_of(j, "region"), *name = codec_str_of(j, "name");
		if (region && name) {
			struct td_family *f = model_family(m, model_region(m, region), name);
			int last = codec_int_of(j, "last", 0);
			if (last > f->last)
				f->last = last;
		} else {
			rc = -1;
		}
	} else if (strcmp(kind, "service") == 0) {
		if (la->n_svcs == la->cap_svcs) {
			la->cap_svcs = la->cap_svcs ? la->cap_svcs * 2 : 64;
			la->svcs = xrealloc(la->svcs, la->cap_svcs * sizeof *la->svcs);
		}
		la->svcs[la->n_svcs++] = j;
		return 0;
	} else if (strcmp(kind, "as_launch_config") == 0) {
		struct as_launch_config *lc = codec_as_lc_from_record(j);
		if (lc) {
			struct region *r = model_region(m, lc->region);
			as_lc_free(sidx_put(&r->as_lcs, lc->name, lc));
		} else {
			rc = -1;
		}
	} else if (strcmp(kind, "as_group") == 0) {
		struct as_group *g = codec_as_group_from_record(j);
		if (g)
			model_as_group_load(m, model_region(m, g->region), g);
		else
			rc = -1;
	} else if (strcmp(kind, "as_policy") == 0) {
		struct as_policy *p = codec_as_policy_from_record(j);
		if (p)
			model_as_policy_load(model_region(m, p->region), p);
		else
			rc = -1;
	} else if (strcmp(kind, "iam_user") == 0) {
		struct iam_user *u = codec_iam_user_from_record(m, j);
		if (u) {
			model_iam_user_add(m, u);
		} else {
			log_error("store record iam_user %s: damaged, or its secret access keys do not open with this master key (--master-key-file)", id);
			rc = -1;
		}
	} else if (strcmp(kind, "task") == 0) {
		if (la->n_deferred == la->cap_deferred) {
			la->cap_deferred = la->cap_deferred ? la->cap_deferred * 2 : 256;
			la->deferred = xrealloc(la->deferred, la->cap_deferred * sizeof *la->deferred);
		}
		la->deferred[la->n_deferred++] = j;
		return 0;
	} else {
		log_warn("store record of unknown kind %s ignored", kind);
	}
	if (rc)
		log_error("store record %s %s is malformed", kind, id);
	cJSON_Delete(j);
	return rc;
}

static int by_seq(const void *a, const void *b)
{
	int64_t x = codec_long_of(*(cJSON *const *)a, "seq", 0);
	int64_t y = codec_long_of(*(cJSON *const *)b, "seq", 0);
	return (x > y) - (x < y);
}

static int make_dir(const char *dir)
{
	char *p = xstrdup(dir);
	for (char *s = p + 1; *s; s++) {
		if (*s == '/') {
			*s = '\0';
			mkdir(p, 0755);
			*s = '/';
		}
	}
	int rc = mkdir(p, 0755);
	free(p);
	return (rc == 0 || errno == EEXIST) ? 0 : -1;
}

int server_init(struct server *srv)
{
	srv->started_us = clock_mono_us();
	srv->quiesced_fd = -1;
	int lvl = log_level_parse(srv->cfg.log_level);
	if (lvl < 0) {
		log_error("--log-level %s: expected debug, info, warn or error", srv->cfg.log_level);
		return -1;
	}
	log_set_level((enum log_level)lvl);
	if (strcmp(srv->cfg.store_sync, "full") && strcmp(srv->cfg.store_sync, "normal")) {
		log_error("--store-sync %s: expected full or normal", srv->cfg.store_sync);
		return -1;
	}
	srv->clock.ops = &clock_real_ops;
	if (strcmp(srv->cfg.clock, "virtual") == 0) {
		/* It starts at the wall clock's time and moves only when told. */
		srv->vnow = srv->cfg.clock_start ? (int64_t)srv->cfg.clock_start * 1000 : clock_now(&srv->clock);
		srv->clock = (struct clock){&clock_virtual_ops, &srv->vnow};
	} else if (strcmp(srv->cfg.clock, "real") != 0) {
		log_error("--clock %s: expected real or virtual", srv->cfg.clock);
		return -1;
	}
	if (srv->cfg.seed)
		rng_seed(&srv->rng, (uint64_t)srv->cfg.seed);
	else
		rng_seed_os(&srv->rng);
	sigv4_cache_init(&srv->sigv4);
	if (strcmp(srv->cfg.auth, "open") != 0 && strcmp(srv->cfg.auth, "sigv4") != 0) {
		log_error("--auth %s: expected open or sigv4", srv->cfg.auth);
		return -1;
	}
	if (strcmp(srv->cfg.auth, "sigv4") == 0 && (!*srv->cfg.root_access_key_id || !*srv->cfg.root_secret_access_key)) {
		log_error("--auth sigv4 needs the root credentials: BERTH_ROOT_ACCESS_KEY_ID and BERTH_ROOT_SECRET_ACCESS_KEY (or --root-access-key-id / --root-secret-access-key)");
		return -1;
	}
	srv->acfg = (struct api_config){
		.strategy_max_providers = (int)srv->cfg.strategy_max_providers,
		.max_cps_per_cluster = (int)srv->cfg.max_cps_per_cluster,
		.allow_asg_fargate_switch = srv->cfg.allow_asg_fargate_switch,
		.transition_ms = srv->cfg.transition_ms,
		.cluster_retention_ms = srv->cfg.cluster_retention_s * 1000,
		.cp_retention_ms = srv->cfg.cp_retention_s * 1000,
		.instance_retention_ms = srv->cfg.instance_retention_s * 1000,
		.task_retention_ms = srv->cfg.task_retention_s * 1000,
		.sim_step_ms = srv->cfg.sim_step_ms,
		.capacity_wait_ms = srv->cfg.capacity_wait_s * 1000,
		.fargate_capacity = srv->cfg.fargate_capacity,
		.max_provisioning_tasks = srv->cfg.max_provisioning_tasks,
		.spot_warning_ms = srv->cfg.spot_warning_s * 1000,
		.healthy_grace_ms = srv->cfg.healthy_grace_ms,
		.service_retention_ms = srv->cfg.service_retention_s * 1000,
		.agent_timeout_ms = srv->cfg.agent_timeout_ms,
		.lost_agent_grace_ms = srv->cfg.lost_agent_grace_ms,
	};
	enum scaling_cas_timing_mode tm;
	if (scaling_cas_timing_parse(srv->cfg.timing, &tm)) {
		log_error("--timing %s: expected ecs or fast", srv->cfg.timing);
		return -1;
	}
	struct scaling_cas_timing timing = scaling_cas_timing(tm, 0, 0);
	srv->acfg.cas_period_ms = timing.period_ms;
	srv->acfg.cas_low_datapoints = timing.low_datapoints;
	srv->acfg.cas_timescale = (double)timing.period_ms / SCALING_CAS_ECS_PERIOD_MS;
	srv->acfg.instance_boot_ms = (int64_t)((double)srv->cfg.instance_boot_ms * srv->acfg.cas_timescale);
	if (strcmp(srv->cfg.driver, "sim") != 0) {
		log_error("--driver %s: unknown driver (available: sim)", srv->cfg.driver);
		return -1;
	}
	srv->driver = &driver_sim_ops;
	if (strcmp(srv->cfg.infra, "sim") == 0) {
		srv->infra = &infra_sim_ops;
	} else if (strcmp(srv->cfg.infra, "process") == 0) {
		srv->infra = &infra_process_ops;
	} else {
		log_error("--infra %s: expected sim or process", srv->cfg.infra);
		return -1;
	}
	if (strcmp(srv->cfg.fargate, "sim") != 0 && strcmp(srv->cfg.fargate, "process") != 0) {
		log_error("--fargate %s: expected sim or process", srv->cfg.fargate);
		return -1;
	}
	srv->acfg.fargate_agents = strcmp(srv->cfg.fargate, "process") == 0;
	model_init(&srv->model, srv->cfg.account_id);
	srv->sops = store_find(srv->cfg.store);
	if (!srv->sops) {
		log_error("--store %s: unknown store (available: sqlite)", srv->cfg.store);
		return -1;
	}
	if (make_dir(srv->cfg.data_dir)) {
		log_error("cannot create data directory %s: %s", srv->cfg.data_dir, strerror(errno));
		return -1;
	}
	struct err e;
	err_clear(&e);
	char opt[32];
	snprintf(opt, sizeof opt, "sync=%s", srv->cfg.store_sync);
	if (srv->sops->open(srv->cfg.data_dir, opt, &srv->store, &e)) {
		log_error("cannot open the store in %s: %s", srv->cfg.data_dir, e.msg);
		return -1;
	}
	char *key_path = *srv->cfg.master_key_file ? xstrdup(srv->cfg.master_key_file)
						   : xasprintf("%s/master.key", srv->cfg.data_dir);
	int krc = seal_key_load(key_path, 1, &srv->model.iam.seal, &e);
	free(key_path);
	if (krc) {
		log_error("%s", e.msg);
		return -1;
	}
	srv->model.iam.sealed = true;
	struct load_arg la = {.srv = srv};
	int lrc = srv->sops->load(srv->store, load_record, &la, &e);
	for (size_t i = 0; i < la.n_svcs; i++) {
		if (!lrc && codec_svc_load(&srv->model, la.svcs[i])) {
			log_error("store service record %zu is malformed or refers to a missing resource", i);
			lrc = -1;
			err_set(&e, 0, "malformed service record");
		}
		cJSON_Delete(la.svcs[i]);
	}
	free(la.svcs);
	/* Tasks join their cluster's lists in seq order. */
	if (la.n_deferred)
		qsort(la.deferred, la.n_deferred, sizeof *la.deferred, by_seq);
	for (size_t i = 0; i < la.n_deferred; i++) {
		if (!lrc && codec_task_load(&srv->model, la.deferred[i])) {
			log_error("store task record %zu is malformed or refers to a missing resource", i);
			lrc = -1;
			err_set(&e, 0, "malformed task record");
		}
		cJSON_Delete(la.deferred[i]);
	}
	free(la.deferred);
	la.tasks = la.n_deferred;
	if (lrc) {
		log_error("cannot load the store: %s", e.msg);
		return -1;
	}
	/* What was just loaded is durable already; counters and held
	 * resources are recomputed from it. */
	size_t nloaded;
	struct model_change *loaded = model_take_dirty(&srv->model, &nloaded);
	model_changes_free(loaded, nloaded);
	struct api_ctx lctx = {.m = &srv->model, .cfg = &srv->acfg, .region = srv->cfg.region,
			       .now = clock_now(&srv->clock), .rng = &srv->rng, .driver = srv->driver, .infra = srv->infra};
	api_loaded(&lctx);
	if (load_policy_file(srv))
		return -1;
	if (uv_loop_init(&srv->loop)) {
		log_error("cannot start the event loop");
		return -1;
	}
	pthread_mutex_init(&srv->qmu, NULL);
	uv_async_init(&srv->loop, &srv->inbox, on_inbox);
	uv_prepare_init(&srv->loop, &srv->prepare);
	uv_check_init(&srv->loop, &srv->check);
	uv_timer_init(&srv->loop, &srv->advance);
	uv_timer_init(&srv->loop, &srv->shutdown_timer);
	uv_signal_init(&srv->loop, &srv->sigterm);
	uv_signal_init(&srv->loop, &srv->sigint);
	uv_signal_init(&srv->loop, &srv->sighup);
	srv->sighup.data = srv;
	srv->inbox.data = srv->prepare.data = srv->check.data = srv->advance.data = srv;
	srv->shutdown_timer.data = srv->sigterm.data = srv->sigint.data = srv;
	uv_prepare_start(&srv->prepare, on_prepare);
	uv_check_start(&srv->check, on_check);
	uv_signal_start(&srv->sigterm, on_signal, SIGTERM);
	uv_signal_start(&srv->sigint, on_signal, SIGINT);
	uv_signal_start(&srv->sighup, on_sighup, SIGHUP);
	/* Overdue transitions and retention complete now. */
	on_advance(&srv->advance);
	if (http_start(srv))
		return -1;
	if (srv->infra == &infra_process_ops || srv->acfg.fargate_agents) {
		char self[4096], *agent = NULL;
		ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
		if (*srv->cfg.agent_bin) {
			agent = xstrdup(srv->cfg.agent_bin);
		} else if (n > 0) {
			self[n] = '\0';
			char *slash = strrchr(self, '/');
			if (slash)
				*slash = '\0';
			agent = xasprintf("%s/berth-agent", self);
		}
		char *endpoint = xasprintf("http://127.0.0.1:%d", srv->port);
		infra_process_configure(endpoint, srv->cfg.data_dir, agent);
		free(endpoint);
		free(agent);
	}
	log_info("berthd listening on %s:%d (region %s, account %s, data %s, %zu clusters, %zu capacity providers, %zu task definitions, %zu container instances and %zu tasks loaded in %.1f ms)",
		 strncmp(srv->cfg.listen, "localhost", 9) ? "127.0.0.1" : "127.0.0.1", srv->port, srv->cfg.region,
		 srv->cfg.account_id, srv->cfg.data_dir, la.clusters, la.cps, la.tds, la.cis, la.tasks,
		 (double)(clock_mono_us() - srv->started_us) / 1000.0);
	return 0;
}

int server_run(struct server *srv)
{
	uv_run(&srv->loop, UV_RUN_DEFAULT);
	return srv->exit_code;
}

void server_release(struct server *srv)
{
	if (srv->mhd)
		http_stop(srv);
	/* The loop exists once server_init got past uv_loop_init (the inbox is
	 * made right after).  A start that failed later (the port is taken)
	 * leaves its handles open: close them and run their callbacks, so the
	 * loop closes cleanly and releases the signal handlers and fds. */
	if (srv->inbox.loop) {
		if (!uv_is_closing((uv_handle_t *)&srv->inbox))
			close_handles(srv);
		uv_run(&srv->loop, UV_RUN_DEFAULT);
		uv_loop_close(&srv->loop);
	}
	if (srv->store)
		srv->sops->close(srv->store);
	srv->store = NULL;
	model_release(&srv->model);
	sigv4_cache_release(&srv->sigv4);
	pthread_mutex_destroy(&srv->qmu);
	config_release(&srv->cfg);
}
