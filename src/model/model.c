/* model: indexes, ownership and the dirty set.  See model.h. */
#include "model/model.h"

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

static void region_free(struct region *r)
{
	for (size_t i = 0; i < r->clusters.n; i++)
		cluster_free(r->clusters.v[i].val);
	for (size_t i = 0; i < r->cps.n; i++)
		cp_free(r->cps.v[i].val);
	sidx_release(&r->clusters);
	sidx_release(&r->cps);
	free(r->name);
	free(r);
}

void model_release(struct model *m)
{
	for (size_t i = 0; i < m->regions.n; i++)
		region_free(m->regions.v[i].val);
	sidx_release(&m->regions);
	model_changes_free(m->changes, m->n_changes);
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

struct cluster *model_cluster_new(struct model *m, struct region *r, const char *name, int64_t now)
{
	struct cluster *old = sidx_get(&r->clusters, name);
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
