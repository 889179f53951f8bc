/* model: indexes, ownership and the dirty set.  See model.h. */
#include "model/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

void kvlist_release(struct kvlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].value);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void kvlist_set(struct kvlist *l, const char *key, const char *value)
{
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->v[i].key, key) == 0) {
			free(l->v[i].value);
			l->v[i].value = xstrdup(value);
			return;
		}
	}
	l->v = xrealloc(l->v, (l->n + 1) * sizeof *l->v);
	l->v[l->n].key = xstrdup(key);
	l->v[l->n].value = xstrdup(value);
	l->n++;
}

int kvlist_del(struct kvlist *l, const char *key)
{
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->v[i].key, key) == 0) {
			free(l->v[i].key);
			free(l->v[i].value);
			memmove(l->v + i, l->v + i + 1, (l->n - i - 1) * sizeof *l->v);
			l->n--;
			return 1;
		}
	}
	return 0;
}

const char *kvlist_get(const struct kvlist *l, const char *key)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].key, key) == 0)
			return l->v[i].value;
	return NULL;
}

void kvlist_copy(struct kvlist *dst, const struct kvlist *src)
{
	dst->v = NULL;
	dst->n = 0;
	for (size_t i = 0; i < src->n; i++)
		kvlist_set(dst, src->v[i].key, src->v[i].value);
}

void strategy_release(struct strategy *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].provider);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

void strategy_copy(struct strategy *dst, const struct strategy *src)
{
	dst->n = src->n;
	dst->v = src->n ? xcalloc(src->n, sizeof *dst->v) : NULL;
	for (size_t i = 0; i < src->n; i++) {
		dst->v[i] = src->v[i];
		dst->v[i].provider = xstrdup(src->v[i].provider);
	}
}

bool strategy_equal(const struct strategy *a, const struct strategy *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i].provider, b->v[i].provider) != 0 ||
		    a->v[i].weight != b->v[i].weight || a->v[i].base != b->v[i].base)
			return false;
	return true;
}

static const char *const cluster_status_names[] = {
	"ACTIVE", "PROVISIONING", "DEPROVISIONING", "FAILED", "INACTIVE",
};

const char *cluster_status_name(enum cluster_status s)
{
	return cluster_status_names[s];
}

static int parse_name(const char *const *names, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (s && strcmp(names[i], s) == 0)
			return i;
	return -1;
}

int cluster_status_parse(const char *s)
{
	return parse_name(cluster_status_names, 5, s);
}

static const char *const cp_status_names[] = {"ACTIVE", "PROVISIONING", "DEPROVISIONING", "INACTIVE"};

const char *cp_status_name(enum cp_status s)
{
	return cp_status_names[s];
}

int cp_status_parse(const char *s)
{
	return parse_name(cp_status_names, 4, s);
}

static const char *const cp_update_names[] = {
	"",
	"CREATE_IN_PROGRESS", "CREATE_COMPLETE", "CREATE_FAILED",
	"DELETE_IN_PROGRESS", "DELETE_COMPLETE", "DELETE_FAILED",
	"UPDATE_IN_PROGRESS", "UPDATE_COMPLETE", "UPDATE_FAILED",
};

const char *cp_update_name(enum cp_update u)
{
	return cp_update_names[u];
}

int cp_update_parse(const char *s)
{
	int r = parse_name(cp_update_names, 10, s);
	return r < 0 ? 0 : r;
}

const char *cp_type_name(enum cp_type t)
{
	static const char *const names[] = {"EC2_AUTOSCALING", "FARGATE", "FARGATE_SPOT"};
	return names[t];
}

bool cp_is_builtin(const char *name)
{
	return strcmp(name, "FARGATE") == 0 || strcmp(name, "FARGATE_SPOT") == 0;
}

void model_init(struct model *m, const char *account)
{
	memset(m, 0, sizeof *m);
	m->account = xstrdup(account);
	m->partition = xstrdup("aws");
	sidx_init(&m->regions);
	iam_init(&m->iam);
}

void cluster_free(struct cluster *c)
{
	if (!c)
		return;
	free(c->region);
	free(c->name);
	free(c->arn);
	free(c->insights);
	cJSON_Delete(c->configuration);
	free(c->sc_namespace);
	for (size_t i = 0; i < c->n_cps; i++)
		free(c->cps[i]);
	free(c->cps);
	strategy_release(&c->default_strategy);
	kvlist_release(&c->tags);
	for (size_t i = 0; i < c->n_att; i++) {
		free(c->att[i].type);
		free(c->att[i].status);
		kvlist_release(&c->att[i].details);
	}
	free(c->att);
	free(c->att_status);
	free(c->create_args);
	for (size_t i = 0; i < c->services.n; i++)
		svc_free(c->services.v[i].val);
	sidx_release(&c->services);
	/* Tasks first: they point at the instances. */
	for (size_t i = 0; i < c->active.n; i++)
		task_free(c->active.v[i]);
	for (size_t i = 0; i < c->stopped.n; i++)
		task_free(c->stopped.v[i]);
	task_list_release(&c->active);
	task_list_release(&c->stopped);
	for (size_t i = 0; i < c->instances.n; i++)
		ci_free(c->instances.v[i].val);
	sidx_release(&c->instances);
	free(c);
}

void cp_free(struct capacity_provider *cp)
{
	if (!cp)
		return;
	free(cp->region);
	free(cp->name);
	free(cp->arn);
	free(cp->asg_arn);
	free(cp->asg_name);
	free(cp->update_reason);
	kvlist_release(&cp->tags);
	free(cp);
}

static void family_free(struct td_family *f);

static void region_free(struct region *r)
{
	/* Clusters (and their tasks) before the task definitions they use. */
	for (size_t i = 0; i < r->clusters.n; i++)
		cluster_free(r->clusters.v[i].val);
	for (size_t i = 0; i < r->cps.n; i++)
		cp_free(r->cps.v[i].val);
	for (size_t i = 0; i < r->families.n; i++)
		family_free(r->families.v[i].val);
	sidx_release(&r->clusters);
	sidx_release(&r->cps);
	sidx_release(&r->families);
	sidx_release(&r->ec2_instances);
	hmap_release(&r->tasks);
	for (size_t i = 0; i < r->n_tokens; i++) {
		struct run_token *tk = r->token_ring[(r->token_head + i) % MODEL_RUN_TOKENS];
		free(tk->token);
		free(tk->answer);
		free(tk);
	}
	free(r->token_ring);
	sidx_release(&r->run_tokens);
	model_as_region_release(r);
	for (size_t i = 0; i < r->cas.n; i++) {
		struct cas_state *st = r->cas.v[i].val;
		free(st->key);
		free(st->cluster);
		free(st->provider);
		free(st->ring);
		free(st);
	}
	sidx_release(&r->cas);
	free(r->name);
	free(r);
}

void model_release(struct model *m)
{
	for (size_t i = 0; i < m->regions.n; i++)
		region_free(m->regions.v[i].val);
	sidx_release(&m->regions);
	free(m->due.v);
	free(m->svc_queue);
	for (size_t i = 0; i < m->interned.n; i++)
		free(m->interned.v[i].val);
	sidx_release(&m->interned);
	model_changes_free(m->changes, m->n_changes);
	iam_release(&m->iam);
	free(m->account);
	free(m->partition);
	memset(m, 0, sizeof *m);
}

struct region *model_region_find(const struct model *m, const char *name)
{
	return sidx_get(&m->regions, name);
}

struct region *model_region(struct model *m, const char *name)
{
	struct region *r = sidx_get(&m->regions, name);
	if (r)
		return r;
	r = xcalloc(1, sizeof *r);
	r->name = xstrdup(name);
	sidx_init(&r->clusters);
	sidx_init(&r->cps);
	sidx_init(&r->families);
	sidx_init(&r->ec2_instances);
	hmap_init(&r->tasks);
	model_as_region_init(r);
	sidx_init(&r->cas);
	sidx_put(&m->regions, r->name, r);
	return r;
}

char *model_record_id(const char *region, const char *name)
{
	return xasprintf("%s/%s", region, name);
}

static void push_change(struct model *m, enum model_kind kind, void *obj, char *del_id)
{
	if (m->n_changes == m->cap_changes) {
		m->cap_changes = m->cap_changes ? m->cap_changes * 2 : 64;
		m->changes = xrealloc(m->changes, m->cap_changes * sizeof *m->changes);
	}
	m->changes[m->n_changes++] = (struct model_change){kind, obj, del_id};
}

void model_dirty_region(struct model *m, struct region *r)
{
	if (!r->dirty) {
		r->dirty = true;
		push_change(m, MODEL_REGION, r, NULL);
	}
}

void model_dirty_cluster(struct model *m, struct cluster *c)
{
	if (!c->dirty) {
		c->dirty = true;
		push_change(m, MODEL_CLUSTER, c, NULL);
	}
}

void model_dirty_cp(struct model *m, struct capacity_provider *cp)
{
	if (!cp->dirty) {
		cp->dirty = true;
		push_change(m, MODEL_CP, cp, NULL);
	}
}

struct model_change *model_take_dirty(struct model *m, size_t *n)
{
	struct model_change *c = m->changes;
	*n = m->n_changes;
	for (size_t i = 0; i < *n; i++) {
		if (!c[i].obj)
			continue;
		switch (c[i].kind) {
		case MODEL_REGION: ((struct region *)c[i].obj)->dirty = false; break;
		case MODEL_CLUSTER: ((struct cluster *)c[i].obj)->dirty = false; break;
		case MODEL_CP: ((struct capacity_provider *)c[i].obj)->dirty = false; break;
		case MODEL_TASKDEF: ((struct task_def *)c[i].obj)->dirty = false; break;
		case MODEL_INSTANCE: ((struct container_instance *)c[i].obj)->dirty = false; break;
		case MODEL_TASK: ((struct task *)c[i].obj)->dirty = false; break;
		case MODEL_FAMILY: ((struct td_family *)c[i].obj)->dirty = false; break;
		case MODEL_SERVICE: ((struct service *)c[i].obj)->dirty = false; break;
		case MODEL_AS_LC: ((struct as_launch_config *)c[i].obj)->dirty = false; break;
		case MODEL_AS_GROUP: ((struct as_group *)c[i].obj)->dirty = false; break;
		case MODEL_AS_POLICY: ((struct as_policy *)c[i].obj)->dirty = false; break;
		case MODEL_IAM_USER: ((struct iam_user *)c[i].obj)->dirty = false; break;
		}
	}
	m->changes = NULL;
	m->n_changes = m->cap_changes = 0;
	return c;
}

void model_changes_free(struct model_change *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(c[i].del_id);
	free(c);
}

/* Drop a pending write of obj (it is about to be freed) so the dirty set
 * never holds a dangling pointer. */
static void forget_change(struct model *m, void *obj);

void model_change_push(struct model *m, enum model_kind kind, void *obj, char *del_id)
{
	push_change(m, kind, obj, del_id);
}

void model_change_forget(struct model *m, void *obj)
{
	forget_change(m, obj);
}

static void forget_change(struct model *m, void *obj)
{
	for (size_t i = 0; i < m->n_changes; i++)
		if (m->changes[i].obj == obj) {
			memmove(m->changes + i, m->changes + i + 1,
				(m->n_changes - i - 1) * sizeof *m->changes);
			m->n_changes--;
			return;
		}
}

char *model_arn(const struct model *m, const char *region, const char *resource)
{
	return xasprintf("arn:%s:ecs:%s:%s:%s", m->partition, region, m->account, resource);
}

struct cluster *model_cluster_find(const struct region *r, const char *name)
{
	return sidx_get(&r->clusters, name);
}

/* Remove a cluster's tasks and instances, recording their deletions. */
static void purge_children(struct model *m, struct region *r, struct cluster *c)
{
	while (c->services.n)
		model_svc_purge(m, c->services.v[c->services.n - 1].val);
	while (c->active.live || c->stopped.live) {
		struct task_list *l = c->active.live ? &c->active : &c->stopped;
		size_t i = 0;
		while (!l->v[i])
			i++;
		model_task_purge(m, r, l->v[i]);
	}
	while (c->instances.n)
		model_ci_purge(m, r, c, c->instances.v[c->instances.n - 1].val);
}

struct cluster *model_cluster_new(struct model *m, struct region *r, const char *name, int64_t now)
{
	struct cluster *old = sidx_get(&r->clusters, name);
	if (old)
		purge_children(m, r, old);
	struct cluster *c = xcalloc(1, sizeof *c);
	c->region = xstrdup(r->name);
	c->name = xstrdup(name);
	char *res = xasprintf("cluster/%s", name);
	c->arn = model_arn(m, r->name, res);
	free(res);
	c->status = CLUSTER_ACTIVE;
	c->created_at = now;
	sidx_put(&r->clusters, c->name, c);
	if (old) {
		forget_change(m, old);
		cluster_free(old);
	}
	model_dirty_cluster(m, c);
	return c;
}

void model_cluster_purge(struct model *m, struct region *r, struct cluster *c)
{
	purge_children(m, r, c);
	sidx_del(&r->clusters, c->name);
	forget_change(m, c);
	push_change(m, MODEL_CLUSTER, NULL, model_record_id(r->name, c->name));
	cluster_free(c);
}

void cluster_set_cps(struct cluster *c, char **names, size_t n)
{
	for (size_t i = 0; i < c->n_cps; i++)
		free(c->cps[i]);
	free(c->cps);
	c->cps = n ? xcalloc(n, sizeof *c->cps) : NULL;
	for (size_t i = 0; i < n; i++)
		c->cps[i] = xstrdup(names[i]);
	c->n_cps = n;
}

bool cluster_has_cp(const struct cluster *c, const char *name)
{
	for (size_t i = 0; i < c->n_cps; i++)
		if (strcmp(c->cps[i], name) == 0)
			return true;
	return false;
}

struct capacity_provider *model_cp_find(const struct region *r, const char *name)
{
	return sidx_get(&r->cps, name);
}

struct capacity_provider *model_cp_new(struct model *m, struct region *r, const char *name, int64_t now)
{
	struct capacity_provider *old = sidx_get(&r->cps, name);
	struct capacity_provider *cp = xcalloc(1, sizeof *cp);
	cp->region = xstrdup(r->name);
	cp->name = xstrdup(name);
	char *res = xasprintf("capacity-provider/%s", name);
	cp->arn = model_arn(m, r->name, res);
	free(res);
	cp->type = CP_TYPE_EC2_AUTOSCALING;
	cp->status = CP_ACTIVE;
	cp->created_at = now;
	sidx_put(&r->cps, cp->name, cp);
	if (old) {
		forget_change(m, old);
		cp_free(old);
	}
	model_dirty_cp(m, cp);
	return cp;
}

void model_cp_purge(struct model *m, struct region *r, struct capacity_provider *cp)
{
	sidx_del(&r->cps, cp->name);
	forget_change(m, cp);
	push_change(m, MODEL_CP, NULL, model_record_id(r->name, cp->name));
	cp_free(cp);
}

/* ---- names of the enums ---- */

static const char *const td_status_names[] = {"ACTIVE", "INACTIVE", "DELETE_IN_PROGRESS"};

const char *td_status_name(enum td_status s)
{
	return td_status_names[s];
}

static const char *const ci_status_names[] = {
	"ACTIVE", "DRAINING", "REGISTERING", "DEREGISTERING", "REGISTRATION_FAILED", "INACTIVE",
};

const char *ci_status_name(enum ci_status s)
{
	return ci_status_names[s];
}

int ci_status_parse(const char *s)
{
	return parse_name(ci_status_names, 6, s);
}

static const char *const task_status_names[] = {
	"PROVISIONING", "PENDING", "ACTIVATING", "RUNNING",
	"DEACTIVATING", "STOPPING", "DEPROVISIONING", "STOPPED",
};

const char *task_status_name(enum task_status s)
{
	return task_status_names[s];
}

int task_status_parse(const char *s)
{
	return parse_name(task_status_names, 8, s);
}

static const char *const stop_code_names[] = {
	"", "TaskFailedToStart", "EssentialContainerExited", "UserInitiated",
	"ServiceSchedulerInitiated", "SpotInterruption", "TerminationNotice",
};

const char *task_stop_code_name(enum task_stop_code c)
{
	return stop_code_names[c];
}

int task_stop_code_parse(const char *s)
{
	int r = parse_name(stop_code_names, 7, s);
	return r < 0 ? 0 : r;
}

static const char *const launch_type_names[] = {"EC2", "FARGATE", "EXTERNAL", "MANAGED_INSTANCES"};

const char *launch_type_name(enum launch_type t)
{
	return launch_type_names[t];
}

int launch_type_parse(const char *s)
{
	return parse_name(launch_type_names, 4, s);
}

/* ---- port sets ---- */

static size_t port_lb(const struct portset *p, int port)
{
	size_t lo = 0, hi = p->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (p->v[mid] < port)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool portset_has(const struct portset *p, int port)
{
	size_t i = port_lb(p, port);
	return i < p->n && p->v[i] == port;
}

void portset_add(struct portset *p, int port)
{
	size_t i = port_lb(p, port);
	if (i < p->n && p->v[i] == port)
		return;
	p->v = xrealloc(p->v, (p->n + 1) * sizeof *p->v);
	memmove(p->v + i + 1, p->v + i, (p->n - i) * sizeof *p->v);
	p->v[i] = port;
	p->n++;
}

void portset_del(struct portset *p, int port)
{
	size_t i = port_lb(p, port);
	if (i < p->n && p->v[i] == port) {
		memmove(p->v + i, p->v + i + 1, (p->n - i - 1) * sizeof *p->v);
		p->n--;
	}
}

void portset_release(struct portset *p)
{
	free(p->v);
	p->v = NULL;
	p->n = 0;
}

/* ---- interned strings ---- */

const char *model_intern(struct model *m, const char *s)
{
	if (!s)
		return NULL;
	const char *got = sidx_get(&m->interned, s);
	if (got)
		return got;
	char *copy = xstrdup(s);
	sidx_put(&m->interned, copy, copy);
	return copy;
}

/* ---- task definitions ---- */

void td_free(struct task_def *td)
{
	if (!td)
		return;
	free(td->region);
	free(td->family);
	free(td->arn);
	cJSON_Delete(td->body);
	free(td->network_mode);
	for (size_t i = 0; i < td->n_containers; i++) {
		free(td->containers[i].name);
		free(td->containers[i].ports);
	}
	free(td->containers);
	for (size_t i = 0; i < td->n_constraints; i++)
		free(td->constraints[i]);
	free(td->constraints);
	kvlist_release(&td->tags);
	free(td);
}

static void family_free(struct td_family *f)
{
	for (size_t i = 0; i < f->n; i++)
		td_free(f->revs[i]);
	free(f->revs);
	free(f->name);
	free(f->region);
	free(f);
}

struct td_family *model_family_find(const struct region *r, const char *name)
{
	return sidx_get(&r->families, name);
}

struct td_family *model_family(struct model *m, struct region *r, const char *name)
{
	(void)m;
	struct td_family *f = sidx_get(&r->families, name);
	if (f)
		return f;
	f = xcalloc(1, sizeof *f);
	f->name = xstrdup(name);
	f->region = xstrdup(r->name);
	sidx_put(&r->families, f->name, f);
	return f;
}

void model_td_add(struct model *m, struct region *r, struct task_def *td)
{
	struct td_family *f = model_family(m, r, td->family);
	size_t need = (size_t)td->revision;
	if (need > f->n) {
		f->revs = xrealloc(f->revs, need * sizeof *f->revs);
		memset(f->revs + f->n, 0, (need - f->n) * sizeof *f->revs);
		f->n = need;
	}
	struct task_def *old = f->revs[need - 1];
	if (old) {
		if (old->status == TD_ACTIVE)
			f->active--;
		if (old->status == TD_DELETE_IN_PROGRESS)
			r->td_deleting--;
		forget_change(m, old);
		td_free(old);
	}
	f->revs[need - 1] = td;
	if (td->status == TD_ACTIVE)
		f->active++;
	if (td->status == TD_DELETE_IN_PROGRESS)
		r->td_deleting++;
	if (td->revision > f->last) {
		f->last = td->revision;
		model_dirty_family(m, f);
	}
	model_dirty_td(m, td);
}

struct task_def *model_td_find(const struct region *r, const char *family, int revision)
{
	struct td_family *f = sidx_get(&r->families, family);
	if (!f || revision < 1 || (size_t)revision > f->n)
		return NULL;
	return f->revs[revision - 1];
}

struct task_def *model_td_latest(const struct region *r, const char *family)
{
	struct td_family *f = sidx_get(&r->families, family);
	if (!f)
		return NULL;
	for (size_t i = f->n; i > 0; i--)
		if (f->revs[i - 1] && f->revs[i - 1]->status == TD_ACTIVE)
			return f->revs[i - 1];
	return NULL;
}

void model_td_purge(struct model *m, struct region *r, struct task_def *td)
{
	struct td_family *f = sidx_get(&r->families, td->family);
	if (f && td->revision >= 1 && (size_t)td->revision <= f->n && f->revs[td->revision - 1] == td) {
		f->revs[td->revision - 1] = NULL;
		if (td->status == TD_ACTIVE)
			f->active--;
		if (td->status == TD_DELETE_IN_PROGRESS)
			r->td_deleting--;
	}
	forget_change(m, td);
	char *res = xasprintf("%s:%d", td->family, td->revision);
	push_change(m, MODEL_TASKDEF, NULL, model_record_id(r->name, res));
	free(res);
	td_free(td);
}

void model_dirty_family(struct model *m, struct td_family *f)
{
	if (!f->dirty) {
		f->dirty = true;
		push_change(m, MODEL_FAMILY, f, NULL);
	}
}

void model_dirty_td(struct model *m, struct task_def *td)
{
	if (!td->dirty) {
		td->dirty = true;
		push_change(m, MODEL_TASKDEF, td, NULL);
	}
}

/* ---- container instances ---- */

bool ci_is_berth_agent(const struct container_instance *ci)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(ci->version_info, "agentVersion");
	return cJSON_IsString(v) && strncmp(v->valuestring, MODEL_AGENT_VERSION_PREFIX,
					    strlen(MODEL_AGENT_VERSION_PREFIX)) == 0;
}

void ci_free(struct container_instance *ci)
{
	if (!ci)
		return;
	free(ci->region);
	free(ci->cluster);
	free(ci->arn);
	free(ci->ec2_id);
	free(ci->instance_type);
	free(ci->zone);
	free(ci->cp_name);
	free(ci->status_reason);
	free(ci->owner);
	portset_release(&ci->reg_ports);
	portset_release(&ci->reg_udp);
	portset_release(&ci->used_ports);
	portset_release(&ci->used_udp);
	kvlist_release(&ci->attributes);
	free(ci->here);
	sidx_release(&ci->groups);
	cJSON_Delete(ci->version_info);
	kvlist_release(&ci->tags);
	free(ci);
}

void model_ci_add(struct model *m, struct region *r, struct cluster *c, struct container_instance *ci)
{
	struct container_instance *old = sidx_put(&c->instances, ci->id, ci);
	if (old && old != ci) {
		if (old->ec2_id && sidx_get(&r->ec2_instances, old->ec2_id) == old)
			sidx_del(&r->ec2_instances, old->ec2_id);
		forget_change(m, old);
		ci_free(old);
	}
	if (ci->ec2_id && ci->status != CI_INACTIVE)
		sidx_put(&r->ec2_instances, ci->ec2_id, ci);
	model_dirty_ci(m, ci);
}

struct container_instance *model_ci_find(const struct cluster *c, const char *id)
{
	return sidx_get(&c->instances, id);
}

void model_ci_unindex(struct region *r, struct container_instance *ci)
{
	if (ci->ec2_id && sidx_get(&r->ec2_instances, ci->ec2_id) == ci)
		sidx_del(&r->ec2_instances, ci->ec2_id);
}

void model_ci_attach_task(struct container_instance *ci, struct task *t)
{
	if (t->here_pos != SIZE_MAX)
		return;
	if (ci->n_here == ci->cap_here) {
		ci->cap_here = ci->cap_here ? ci->cap_here * 2 : 8;
		ci->here = xrealloc(ci->here, ci->cap_here * sizeof *ci->here);
	}
	t->here_pos = ci->n_here;
	ci->here[ci->n_here++] = t;
	if (t->group) {
		uintptr_t n = (uintptr_t)sidx_get(&ci->groups, t->group);
		sidx_put(&ci->groups, t->group, (void *)(n + 1));
	}
}

unsigned model_ci_group_count(const struct container_instance *ci, const char *group)
{
	return group ? (unsigned)(uintptr_t)sidx_get(&ci->groups, group) : 0;
}

void model_ci_detach_task(struct container_instance *ci, struct task *t)
{
	size_t i = t->here_pos;
	if (i == SIZE_MAX || i >= ci->n_here || ci->here[i] != t)
		return;
	ci->here[i] = ci->here[--ci->n_here];
	ci->here[i]->here_pos = i;
	t->here_pos = SIZE_MAX;
	if (t->group) {
		uintptr_t n = (uintptr_t)sidx_get(&ci->groups, t->group);
		if (n <= 1)
			sidx_del(&ci->groups, t->group);
		else
			sidx_put(&ci->groups, t->group, (void *)(n - 1));
	}
}

static char *ci_record_id(const struct container_instance *ci)
{
	return xasprintf("%s/%s/%s", ci->region, ci->cluster, ci->id);
}

void model_ci_purge(struct model *m, struct region *r, struct cluster *c, struct container_instance *ci)
{
	model_ci_unindex(r, ci);
	if (sidx_get(&c->instances, ci->id) == ci)
		sidx_del(&c->instances, ci->id);
	if (ci->dirty)
		forget_change(m, ci);
	push_change(m, MODEL_INSTANCE, NULL, ci_record_id(ci));
	ci_free(ci);
}

void model_touch_ci(struct model *m, struct container_instance *ci)
{
	ci->version++;
	m->capacity_gen++;
}

void model_dirty_ci(struct model *m, struct container_instance *ci)
{
	ci->version++;
	m->capacity_gen++;
	if (!ci->dirty) {
		ci->dirty = true;
		push_change(m, MODEL_INSTANCE, ci, NULL);
	}
}

/* ---- RunTask client tokens ---- */

const char *model_run_token_get(const struct region *r, const char *token)
{
	const struct run_token *tk = sidx_get(&r->run_tokens, token);
	return tk ? tk->answer : NULL;
}

void model_run_token_put(struct region *r, const char *token, const char *answer)
{
	if (!r->token_ring)
		r->token_ring = xcalloc(MODEL_RUN_TOKENS, sizeof *r->token_ring);
	if (r->n_tokens == MODEL_RUN_TOKENS) {
		struct run_token *old = r->token_ring[r->token_head];
		sidx_del(&r->run_tokens, old->token);
		free(old->token);
		free(old->answer);
		free(old);
		r->token_head = (r->token_head + 1) % MODEL_RUN_TOKENS;
		r->n_tokens--;
	}
	struct run_token *tk = xcalloc(1, sizeof *tk);
	tk->token = xstrdup(token);
	tk->answer = xstrdup(answer);
	sidx_put(&r->run_tokens, tk->token, tk);
	r->token_ring[(r->token_head + r->n_tokens) % MODEL_RUN_TOKENS] = tk;
	r->n_tokens++;
}

/* ---- task lists ---- */

void task_list_push(struct task_list *l, struct task *t)
{
	if (l->n == l->cap) {
		if (l->live * 2 <= l->n && l->n) {
			size_t k = 0;
			for (size_t i = 0; i < l->n; i++)
				if (l->v[i])
					l->v[k++] = l->v[i];
			l->n = k;
		}
		if (l->n == l->cap) {
			l->cap = l->cap ? l->cap * 2 : 16;
			l->v = xrealloc(l->v, l->cap * sizeof *l->v);
		}
	}
	l->v[l->n++] = t;
	l->live++;
}

/* Position of the first entry (live or a hole's neighbour) with seq >= s.
 * Holes are skipped by looking at the nearest live entry to the right. */
static size_t list_lb(const struct task_list *l, uint64_t s)
{
	size_t lo = 0, hi = l->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		size_t k = mid;
		while (k < hi && !l->v[k])
			k++;
		if (k == hi) {
			hi = mid;
			continue;
		}
		if (l->v[k]->seq < s)
			lo = k + 1;
		else
			hi = mid;
	}
	return lo;
}

void task_list_remove(struct task_list *l, struct task *t)
{
	size_t i = list_lb(l, t->seq);
	while (i < l->n && !l->v[i])
		i++;
	if (i < l->n && l->v[i] == t) {
		l->v[i] = NULL;
		l->live--;
		while (l->n && !l->v[l->n - 1])
			l->n--;
	}
}

size_t task_list_after(const struct task_list *l, uint64_t after)
{
	return after ? list_lb(l, after + 1) : 0;
}

void task_list_release(struct task_list *l)
{
	free(l->v);
	memset(l, 0, sizeof *l);
}

/* ---- the due heap ---- */

static bool due_before(const struct task *a, const struct task *b)
{
	return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void heap_set(struct task_heap *h, size_t i, struct task *t)
{
	h->v[i] = t;
	t->heap_pos = i;
}

static void heap_up(struct task_heap *h, size_t i)
{
	struct task *t = h->v[i];
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!due_before(t, h->v[p]))
			break;
		heap_set(h, i, h->v[p]);
		i = p;
	}
	heap_set(h, i, t);
}

static void heap_down(struct task_heap *h, size_t i)
{
	struct task *t = h->v[i];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && due_before(h->v[c + 1], h->v[c]))
			c++;
		if (!due_before(h->v[c], t))
			break;
		heap_set(h, i, h->v[c]);
		i = c;
	}
	heap_set(h, i, t);
}

static void heap_remove(struct task_heap *h, struct task *t)
{
	size_t i = t->heap_pos;
	if (i == SIZE_MAX || i >= h->n || h->v[i] != t)
		return;
	t->heap_pos = SIZE_MAX;
	h->n--;
	if (i == h->n)
		return;
	heap_set(h, i, h->v[h->n]);
	heap_up(h, i);
	heap_down(h, h->v[i]->heap_pos);
}

void model_task_due(struct model *m, struct task *t, int64_t at)
{
	struct task_heap *h = &m->due;
	heap_remove(h, t);
	t->due = at;
	if (!at)
		return;
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 64;
		h->v = xrealloc(h->v, h->cap * sizeof *h->v);
	}
	heap_set(h, h->n++, t);
	heap_up(h, h->n - 1);
}

struct task *model_task_next_due(const struct model *m)
{
	return m->due.n ? m->due.v[0] : NULL;
}

/* ---- tasks ---- */

void task_free(struct task *t)
{
	if (!t)
		return;
	free(t->stopped_reason);
	cJSON_Delete(t->overrides);
	cJSON_Delete(t->placement);
	kvlist_release(&t->tags);
	size_t n = t->td ? t->td->n_containers : 0;
	for (size_t i = 0; t->containers && i < n; i++) {
		free(t->containers[i].reason);
		free(t->containers[i].host_ports);
	}
	free(t->containers);
	free(t);
}

void model_task_add(struct model *m, struct region *r, struct task *t)
{
	if (!t->seq)
		t->seq = ++m->task_seq;
	else if (t->seq > m->task_seq)
		m->task_seq = t->seq;
	t->heap_pos = SIZE_MAX;
	t->here_pos = SIZE_MAX;
	hmap_put(&r->tasks, t->id, t);
	task_list_push(t->desired == TS_STOPPED ? &t->cluster->stopped : &t->cluster->active, t);
	if (t->td)
		t->td->tasks++;
	if (t->ci)
		t->ci->tasks++;
	model_dirty_task(m, t);
}

struct task *model_task_find(const struct region *r, const char *id)
{
	return hmap_get(&r->tasks, id);
}

void model_task_desire_stop(struct model *m, struct task *t)
{
	if (t->desired == TS_STOPPED)
		return;
	task_list_remove(&t->cluster->active, t);
	t->desired = TS_STOPPED;
	/* A new place in the order: the stopped list stays sorted by seq. */
	t->seq = ++m->task_seq;
	task_list_push(&t->cluster->stopped, t);
	if (t->due)
		model_task_due(m, t, t->due); /* the heap breaks ties by seq */
}

void model_task_purge(struct model *m, struct region *r, struct task *t)
{
	heap_remove(&m->due, t);
	if (hmap_get(&r->tasks, t->id) == t)
		hmap_del(&r->tasks, t->id);
	task_list_remove(t->desired == TS_STOPPED ? &t->cluster->stopped : &t->cluster->active, t);
	model_svc_detach_task(t);
	if (t->td)
		t->td->tasks--;
	if (t->ci) {
		model_ci_detach_task(t->ci, t);
		t->ci->tasks--;
	}
	if (t->dirty)
		forget_change(m, t);
	push_change(m, MODEL_TASK, NULL, xasprintf("%s/%s/%s", r->name, t->cluster->name, t->id));
	task_free(t);
}

void model_dirty_task(struct model *m, struct task *t)
{
	t->version++;
	if (!t->dirty) {
		t->dirty = true;
		push_change(m, MODEL_TASK, t, NULL);
	}
}

const char *task_arn(const struct model *m, const struct task *t, char *buf, size_t len)
{
	snprintf(buf, len, "arn:%s:ecs:%s:%s:task/%s/%s", m->partition, t->cluster->region, m->account,
		 t->cluster->name, t->id);
	return buf;
}

const char *task_container_arn(const struct model *m, const struct task *t, size_t i, char *buf,
			       size_t len)
{
	const uint8_t *u = t->containers[i].uuid;
	snprintf(buf, len,
		 "arn:%s:ecs:%s:%s:container/%s/%s/"
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 m->partition, t->cluster->region, m->account, t->cluster->name, t->id, u[0], u[1], u[2],
		 u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
	return buf;
}

/* ---- services ---- */

static const char *const svc_status_names[] = {"ACTIVE", "DRAINING", "INACTIVE"};

const char *svc_status_name(int s)
{
	return s >= 0 && s <= SVC_INACTIVE ? svc_status_names[s] : "INACTIVE";
}

static const char *const rollout_names[] = {"IN_PROGRESS", "COMPLETED", "FAILED"};

const char *dep_rollout_name(int s)
{
	return s >= 0 && s <= DEP_FAILED ? rollout_names[s] : "IN_PROGRESS";
}

int dep_rollout_parse(const char *s)
{
	return parse_name(rollout_names, 3, s);
}

void dep_release(struct deployment *d)
{
	if (d->td)
		d->td->tasks--;
	strategy_release(&d->strategy);
	free(d->platform_version);
	cJSON_Delete(d->network);
	cJSON_Delete(d->sc);
	free(d->rollout_reason);
	memset(d, 0, sizeof *d);
}

void svc_free(struct service *s)
{
	if (!s)
		return;
	free(s->region);
	free(s->name);
	free(s->arn);
	strategy_release(&s->strategy);
	free(s->platform_version);
	cJSON_Delete(s->deploy_config);
	cJSON_Delete(s->constraints);
	cJSON_Delete(s->strategies);
	cJSON_Delete(s->network);
	cJSON_Delete(s->extra);
	free(s->sc_namespace);
	free(s->propagate_tags);
	free(s->client_token);
	free(s->create_args);
	kvlist_release(&s->tags);
	/* The task definitions' counts matter only while the model lives:
	 * model_svc_purge releases them; here they are just freed. */
	for (size_t i = 0; i < s->n_deps; i++) {
		s->deps[i].td = NULL;
		dep_release(&s->deps[i]);
	}
	free(s->deps);
	for (size_t i = 0; i < s->n_events; i++)
		free(s->events[i].msg);
	free(s->events);
	for (size_t i = 0; i < s->n_tasks; i++)
		s->tasks[i]->svc = NULL;
	free(s->tasks);
	free(s);
}

static char *svc_record_id(const struct service *s)
{
	return xasprintf("%s/%s/%s", s->region, s->cluster->name, s->name);
}

struct service *model_svc_find(const struct cluster *c, const char *name)
{
	return sidx_get(&c->services, name);
}

static void svc_unqueue(struct model *m, struct service *s)
{
	if (s->queued)
		for (size_t i = 0; i < m->n_svc_queue; i++)
			if (m->svc_queue[i] == s) {
				m->svc_queue[i] = m->svc_queue[--m->n_svc_queue];
				break;
			}
}

static void svc_drop(struct model *m, struct service *s)
{
	svc_unqueue(m, s);
	for (size_t i = 0; i < s->n_deps; i++)
		if (s->deps[i].td) {
			s->deps[i].td->tasks--;
			s->deps[i].td = NULL;
		}
	if (s->dirty)
		forget_change(m, s);
	svc_free(s);
}

struct service *model_svc_new(struct model *m, struct cluster *c, const char *name, int64_t now)
{
	struct service *old = sidx_get(&c->services, name);
	struct service *s = xcalloc(1, sizeof *s);
	s->region = xstrdup(c->region);
	s->cluster = c;
	s->name = xstrdup(name);
	char *res = xasprintf("service/%s/%s", c->name, name);
	s->arn = model_arn(m, c->region, res);
	free(res);
	s->status = SVC_ACTIVE;
	s->launch_type = -1;
	s->created_at = now;
	sidx_put(&c->services, s->name, s);
	if (old)
		svc_drop(m, old);
	model_dirty_svc(m, s);
	return s;
}

void model_svc_purge(struct model *m, struct service *s)
{
	sidx_del(&s->cluster->services, s->name);
	push_change(m, MODEL_SERVICE, NULL, svc_record_id(s));
	svc_drop(m, s);
}

void model_dirty_svc(struct model *m, struct service *s)
{
	if (!s->dirty) {
		s->dirty = true;
		push_change(m, MODEL_SERVICE, s, NULL);
	}
}

void model_svc_attach_task(struct service *s, struct task *t)
{
	if (s->n_tasks == s->cap_tasks) {
		s->cap_tasks = s->cap_tasks ? s->cap_tasks * 2 : 8;
		s->tasks = xrealloc(s->tasks, s->cap_tasks * sizeof *s->tasks);
	}
	t->svc = s;
	t->svc_pos = (uint32_t)s->n_tasks;
	s->tasks[s->n_tasks++] = t;
}

void model_svc_detach_task(struct task *t)
{
	struct service *s = t->svc;
	if (!s)
		return;
	struct task *last = s->tasks[--s->n_tasks];
	s->tasks[t->svc_pos] = last;
	last->svc_pos = t->svc_pos;
	t->svc = NULL;
}

void model_svc_queue(struct model *m, struct service *s)
{
	if (s->queued)
		return;
	if (m->n_svc_queue == m->cap_svc_queue) {
		m->cap_svc_queue = m->cap_svc_queue ? m->cap_svc_queue * 2 : 64;
		m->svc_queue = xrealloc(m->svc_queue, m->cap_svc_queue * sizeof *m->svc_queue);
	}
	s->queued = true;
	m->svc_queue[m->n_svc_queue++] = s;
}

struct service **model_svc_take_queue(struct model *m, size_t *n)
{
	struct service **q = m->svc_queue;
	*n = m->n_svc_queue;
	for (size_t i = 0; i < *n; i++)
		q[i]->queued = false;
	m->svc_queue = NULL;
	m->n_svc_queue = m->cap_svc_queue = 0;
	return q;
}

struct deployment *model_dep_add(struct model *m, struct service *s)
{
	(void)m;
	s->deps = xrealloc(s->deps, (s->n_deps + 1) * sizeof *s->deps);
	struct deployment *d = &s->deps[s->n_deps++];
	memset(d, 0, sizeof *d);
	d->launch_type = -1;
	return d;
}

void model_dep_remove(struct service *s, size_t i)
{
	dep_release(&s->deps[i]);
	memmove(s->deps + i, s->deps + i + 1, (s->n_deps - i - 1) * sizeof *s->deps);
	s->n_deps--;
	if (s->primary > i)
		s->primary--;
}

void model_svc_event(struct service *s, const char *id, int64_t at, const char *msg)
{
	if (!s->events)
		s->events = xcalloc(SVC_EVENTS_MAX, sizeof *s->events);
	if (s->n_events == SVC_EVENTS_MAX)
		free(s->events[--s->n_events].msg);
	memmove(s->events + 1, s->events, s->n_events * sizeof *s->events);
	snprintf(s->events[0].id, sizeof s->events[0].id, "%s", id);
	s->events[0].at = at;
	s->events[0].msg = xstrdup(msg);
	s->n_events++;
}

/* ---- task health ---- */

const char *task_health_name(int h)
{
	return h == TASK_HEALTHY ? "HEALTHY" : h == TASK_UNHEALTHY ? "UNHEALTHY" : "UNKNOWN";
}

bool task_has_health_check(const struct task *t)
{
	for (size_t i = 0; i < t->td->n_containers; i++)
		if (t->td->containers[i].health_check)
			return true;
	return false;
}

int task_health(const struct task *t)
{
	bool any = false, all = true;
	for (size_t i = 0; i < t->td->n_containers; i++) {
		const struct td_container *dc = &t->td->containers[i];
		if (!dc->health_check)
			continue;
		any = true;
		int h = t->containers[i].health;
		if (h == TASK_UNHEALTHY && dc->essential)
			return TASK_UNHEALTHY;
		all = all && h == TASK_HEALTHY;
	}
	return any && all ? TASK_HEALTHY : TASK_HEALTH_UNKNOWN;
}

/* ---- managed scaling state ---- */

struct cas_state *model_cas_state_find(const struct region *r, const char *cluster, const char *provider)
{
	char *key = xasprintf("%s,%s", cluster, provider);
	struct cas_state *st = sidx_get(&r->cas, key);
	free(key);
	return st;
}

struct cas_state *model_cas_state(struct region *r, const char *cluster, const char *provider)
{
	struct cas_state *st = model_cas_state_find(r, cluster, provider);
	if (st)
		return st;
	st = xcalloc(1, sizeof *st);
	st->cluster = xstrdup(cluster);
	st->provider = xstrdup(provider);
	st->ring = xcalloc(CAS_HISTORY, sizeof *st->ring);
	st->key = xasprintf("%s,%s", cluster, provider);
	sidx_put(&r->cas, st->key, st);
	return st;
}

void model_cas_sample(struct cas_state *st, const struct cas_sample *s)
{
	st->ring[st->head] = *s;
	st->head = (st->head + 1) % CAS_HISTORY;
	if (st->n < CAS_HISTORY)
		st->n++;
}

const struct cas_sample *model_cas_sample_at(const struct cas_state *st, size_t i)
{
	return &st->ring[(st->head + CAS_HISTORY - 1 - i) % CAS_HISTORY];
}
