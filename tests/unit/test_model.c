/* test_model: model/model.c: kvlist, strategy copy/equal, status names,
 * regions, cluster and capacity provider new/find/purge, ARNs, and the
 * dirty set the server commits (taking it clears the marks, a purged
 * object's pending write is dropped, a deletion is recorded with its id, a
 * replaced object's write is not left dangling). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "model/model.h"

#define NOW INT64_C(1700000000000)

/* ---- kvlist ---- */

static void test_kvlist_set_get_del(void **state)
{
	(void)state;
	struct kvlist l = {0};
	assert_null(kvlist_get(&l, "a"));
	kvlist_set(&l, "a", "1");
	kvlist_set(&l, "b", "2");
	kvlist_set(&l, "c", "3");
	assert_int_equal(l.n, 3);
	assert_string_equal(kvlist_get(&l, "b"), "2");
	/* replace keeps the position */
	kvlist_set(&l, "b", "two");
	assert_int_equal(l.n, 3);
	assert_string_equal(l.v[1].key, "b");
	assert_string_equal(l.v[1].value, "two");
	/* delete keeps the order of the rest */
	assert_int_equal(kvlist_del(&l, "a"), 1);
	assert_int_equal(kvlist_del(&l, "a"), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0].key, "b");
	assert_string_equal(l.v[1].key, "c");
	assert_int_equal(kvlist_del(&l, "c"), 1);
	assert_int_equal(kvlist_del(&l, "b"), 1);
	assert_int_equal(l.n, 0);
	kvlist_release(&l);
	assert_null(l.v);
	assert_int_equal(l.n, 0);
}

static void test_kvlist_copies_strings(void **state)
{
	(void)state;
	struct kvlist l = {0};
	char k[] = "key", v[] = "value";
	kvlist_set(&l, k, v);
	k[0] = 'X';
	v[0] = 'X';
	assert_string_equal(kvlist_get(&l, "key"), "value");
	kvlist_set(&l, "empty", "");
	assert_string_equal(kvlist_get(&l, "empty"), "");

	struct kvlist c;
	kvlist_copy(&c, &l);
	assert_int_equal(c.n, 2);
	assert_ptr_not_equal(c.v[0].key, l.v[0].key);
	kvlist_set(&l, "key", "changed");
	assert_string_equal(kvlist_get(&c, "key"), "value");
	kvlist_release(&l);
	assert_string_equal(kvlist_get(&c, "empty"), "");
	kvlist_release(&c);

	struct kvlist empty = {0}, e2;
	kvlist_copy(&e2, &empty);
	assert_int_equal(e2.n, 0);
	kvlist_release(&e2);
}

/* ---- strategy ---- */

static void strategy_make(struct strategy *s, const char *const *names, const int *w, const int *b,
			  size_t n)
{
	s->n = n;
	s->v = n ? xcalloc(n, sizeof *s->v) : NULL;
	for (size_t i = 0; i < n; i++) {
		s->v[i].provider = xstrdup(names[i]);
		s->v[i].weight = w[i];
		s->v[i].base = b[i];
	}
}

static void test_strategy_copy_equal(void **state)
{
	(void)state;
	static const char *const names[] = {"FARGATE", "cp1"};
	static const int w[] = {1, 3}, b[] = {2, 0};
	struct strategy a, c;
	strategy_make(&a, names, w, b, 2);
	strategy_copy(&c, &a);
	assert_true(strategy_equal(&a, &c));
	assert_true(strategy_equal(&c, &a));
	assert_ptr_not_equal(c.v[0].provider, a.v[0].provider);

	c.v[1].weight = 4;
	assert_false(strategy_equal(&a, &c));
	c.v[1].weight = 3;
	c.v[0].base = 0;
	assert_false(strategy_equal(&a, &c));
	c.v[0].base = 2;
	free(c.v[1].provider);
	c.v[1].provider = xstrdup("cp2");
	assert_false(strategy_equal(&a, &c));
	strategy_release(&c);
	assert_null(c.v);
	assert_int_equal(c.n, 0);

	/* order matters; a prefix is not equal */
	struct strategy one;
	strategy_make(&one, names, w, b, 1);
	assert_false(strategy_equal(&a, &one));
	struct strategy e1 = {0}, e2;
	strategy_copy(&e2, &e1);
	assert_true(strategy_equal(&e1, &e2));
	assert_false(strategy_equal(&e1, &one));
	strategy_release(&e2);
	strategy_release(&one);
	strategy_release(&a);
}

/* ---- names ---- */

static void test_status_names(void **state)
{
	(void)state;
	for (int s = CLUSTER_ACTIVE; s <= CLUSTER_INACTIVE; s++)
		assert_int_equal(cluster_status_parse(cluster_status_name((enum cluster_status)s)), s);
	assert_int_equal(cluster_status_parse("active"), -1);
	assert_int_equal(cluster_status_parse(NULL), -1);
	for (int s = CP_ACTIVE; s <= CP_INACTIVE; s++)
		assert_int_equal(cp_status_parse(cp_status_name((enum cp_status)s)), s);
	assert_int_equal(cp_status_parse("BOGUS"), -1);
	for (int u = CP_UPD_CREATE_IN_PROGRESS; u <= CP_UPD_UPDATE_FAILED; u++)
		assert_int_equal(cp_update_parse(cp_update_name((enum cp_update)u)), u);
	assert_int_equal(cp_update_parse(NULL), CP_UPD_NONE);
	assert_int_equal(cp_update_parse("BOGUS"), CP_UPD_NONE);
	assert_string_equal(cp_type_name(CP_TYPE_EC2_AUTOSCALING), "EC2_AUTOSCALING");
	assert_true(cp_is_builtin("FARGATE"));
	assert_true(cp_is_builtin("FARGATE_SPOT"));
	assert_false(cp_is_builtin("fargate"));
	assert_false(cp_is_builtin("FARGATE_SPOTX"));
}

/* ---- model, regions, ARNs ---- */

static int setup_model(void **state)
{
	struct model *m = xcalloc(1, sizeof *m);
	model_init(m, "123456789012");
	*state = m;
	return 0;
}

static int teardown_model(void **state)
{
	struct model *m = *state;
	model_release(m);
	free(m);
	return 0;
}

static void test_regions_and_arns(void **state)
{
	struct model *m = *state;
	assert_null(model_region_find(m, "eu-west-1"));
	struct region *r = model_region(m, "eu-west-1");
	assert_non_null(r);
	assert_string_equal(r->name, "eu-west-1");
	assert_ptr_equal(model_region(m, "eu-west-1"), r);
	assert_ptr_equal(model_region_find(m, "eu-west-1"), r);
	assert_int_equal(m->regions.n, 1);
	/* a region alone is not a change */
	size_t n;
	struct model_change *ch = model_take_dirty(m, &n);
	assert_int_equal(n, 0);
	model_changes_free(ch, n);

	char *arn = model_arn(m, "eu-west-1", "cluster/c");
	assert_string_equal(arn, "arn:aws:ecs:eu-west-1:123456789012:cluster/c");
	free(arn);
	char *id = model_record_id("eu-west-1", "c");
	assert_string_equal(id, "eu-west-1/c");
	free(id);
}

static void test_cluster_new_find(void **state)
{
	struct model *m = *state;
	struct region *r = model_region(m, "us-east-1");
	struct cluster *c = model_cluster_new(m, r, "web", NOW);
	assert_string_equal(c->name, "web");
	assert_string_equal(c->region, "us-east-1");
	assert_string_equal(c->arn, "arn:aws:ecs:us-east-1:123456789012:cluster/web");
	assert_int_equal(c->status, CLUSTER_ACTIVE);
	assert_true(c->created_at == NOW);
	assert_int_equal(c->n_cps, 0);
	assert_true(c->dirty);
	assert_ptr_equal(model_cluster_find(r, "web"), c);
	assert_null(model_cluster_find(r, "Web"));
	/* another region does not see it */
	assert_null(model_cluster_find(model_region(m, "eu-west-1"), "web"));

	char *names[] = {"FARGATE", "cp1"};
	cluster_set_cps(c, names, 2);
	assert_true(cluster_has_cp(c, "cp1"));
	assert_false(cluster_has_cp(c, "cp2"));
	cluster_set_cps(c, NULL, 0);
	assert_false(cluster_has_cp(c, "cp1"));
	assert_null(c->cps);
}

static void test_dirty_take_clears(void **state)
{
	struct model *m = *state;
	struct region *r = model_region(m, "us-east-1");
	struct cluster *a = model_cluster_new(m, r, "a", NOW);
	struct capacity_provider *p = model_cp_new(m, r, "p", NOW);
	model_dirty_region(m, r);
	/* marking twice records once */
	model_dirty_cluster(m, a);
	model_dirty_cp(m, p);
	model_dirty_region(m, r);
	size_t n;
	struct model_change *ch = model_take_dirty(m, &n);
	assert_int_equal(n, 3);
	assert_int_equal(ch[0].kind, MODEL_CLUSTER);
	assert_ptr_equal(ch[0].obj, a);
	assert_int_equal(ch[1].kind, MODEL_CP);
	assert_ptr_equal(ch[1].obj, p);
	assert_int_equal(ch[2].kind, MODEL_REGION);
	assert_ptr_equal(ch[2].obj, r);
	for (size_t i = 0; i < n; i++)
		assert_null(ch[i].del_id);
	assert_false(a->dirty);
	assert_false(p->dirty);
	assert_false(r->dirty);
	model_changes_free(ch, n);

	/* the set is empty now, and marking again records again */
	ch = model_take_dirty(m, &n);
	assert_int_equal(n, 0);
	model_changes_free(ch, n);
	model_dirty_cluster(m, a);
	ch = model_take_dirty(m, &n);
	assert_int_equal(n, 1);
	assert_ptr_equal(ch[0].obj, a);
	model_changes_free(ch, n);
}

static void test_purge_drops_pending_write(void **state)
{
	struct model *m = *state;
	struct region *r = model_region(m, "us-east-1");
	struct cluster *keep = model_cluster_new(m, r, "keep", NOW);
	struct cluster *gone = model_cluster_new(m, r, "gone", NOW);
	struct capacity_provider *p = model_cp_new(m, r, "p", NOW);
	/* gone and p have pending writes; purging must drop them, or the
	 * commit would read freed memory */
	model_cluster_purge(m, r, gone);
	model_cp_purge(m, r, p);
	assert_null(model_cluster_find(r, "gone"));
	assert_null(model_cp_find(r, "p"));
	assert_ptr_equal(model_cluster_find(r, "keep"), keep);
	size_t n;
	struct model_change *ch = model_take_dirty(m, &n);
	assert_int_equal(n, 3);
	assert_ptr_equal(ch[0].obj, keep);
	assert_int_equal(ch[1].kind, MODEL_CLUSTER);
	assert_null(ch[1].obj);
	assert_string_equal(ch[1].del_id, "us-east-1/gone");
	assert_int_equal(ch[2].kind, MODEL_CP);
	assert_null(ch[2].obj);
	assert_string_equal(ch[2].del_id, "us-east-1/p");
	model_changes_free(ch, n);
}

static void test_purge_after_take_records_deletion(void **state)
{
	struct model *m = *state;
	struct region *r = model_region(m, "us-east-1");
	struct cluster *c = model_cluster_new(m, r, "c", NOW);
	size_t n;
	struct model_change *ch = model_take_dirty(m, &n);
	assert_int_equal(n, 1);
	assert_false(c->dirty);
	model_changes_free(ch, n);
	model_cluster_purge(m, r, c);
	ch = model_take_dirty(m, &n);
	assert_int_equal(n, 1);
	assert_null(ch[0].obj);
	assert_string_equal(ch[0].del_id, "us-east-1/c");
	model_changes_free(ch, n);
	assert_int_equal(r->clusters.n, 0);
}

static void test_new_replaces_old(void **state)
{
	struct model *m = *state;
	struct region *r = model_region(m, "us-east-1");
	struct cluster *old = model_cluster_new(m, r, "c", NOW);
	old->status = CLUSTER_INACTIVE;
	/* the old object's write is pending when a new one takes its name */
	struct cluster *c = model_cluster_new(m, r, "c", NOW + 1);
	assert_ptr_equal(model_cluster_find(r, "c"), c);
	assert_int_equal(c->status, CLUSTER_ACTIVE);
	assert_int_equal(r->clusters.n, 1);
	struct capacity_provider *p1 = model_cp_new(m, r, "p", NOW);
	struct capacity_provider *p2 = model_cp_new(m, r, "p", NOW);
	assert_ptr_equal(model_cp_find(r, "p"), p2);
	(void)p1;
	size_t n;
	struct model_change *ch = model_take_dirty(m, &n);
	assert_int_equal(n, 2);
	assert_ptr_equal(ch[0].obj, c);
	assert_ptr_equal(ch[1].obj, p2);
	model_changes_free(ch, n);
}

static void test_cp_new_find(void **state)
{
	struct model *m = *state;
	struct region *r = model_region(m, "ap-southeast-2");
	struct capacity_provider *p = model_cp_new(m, r, "cp1", NOW);
	assert_string_equal(p->arn, "arn:aws:ecs:ap-southeast-2:123456789012:capacity-provider/cp1");
	assert_int_equal(p->type, CP_TYPE_EC2_AUTOSCALING);
	assert_int_equal(p->status, CP_ACTIVE);
	assert_int_equal(p->update, CP_UPD_NONE);
	assert_ptr_equal(model_cp_find(r, "cp1"), p);
	assert_null(model_cp_find(r, "cp2"));
	/* the index stays sorted whatever the creation order */
	model_cp_new(m, r, "a", NOW);
	model_cp_new(m, r, "z", NOW);
	assert_string_equal(r->cps.v[0].key, "a");
	assert_string_equal(r->cps.v[1].key, "cp1");
	assert_string_equal(r->cps.v[2].key, "z");
}

static void test_many_objects_release(void **state)
{
	/* Built up and released by teardown with pending changes: no leak
	 * (LeakSanitizer under make SANITIZE=1). */
	struct model *m = *state;
	struct region *r = model_region(m, "us-east-1");
	for (int i = 0; i < 200; i++) {
		char name[16];
		snprintf(name, sizeof name, "c%03d", i);
		struct cluster *c = model_cluster_new(m, r, name, NOW);
		kvlist_set(&c->tags, "k", "v");
		if (i % 3 == 0)
			model_cluster_purge(m, r, c);
	}
	assert_int_equal(r->clusters.n, 200 - 67);
	assert_int_equal(m->n_changes, 200);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kvlist_set_get_del),
		cmocka_unit_test(test_kvlist_copies_strings),
		cmocka_unit_test(test_strategy_copy_equal),
		cmocka_unit_test(test_status_names),
		cmocka_unit_test_setup_teardown(test_regions_and_arns, setup_model, teardown_model),
		cmocka_unit_test_setup_teardown(test_cluster_new_find, setup_model, teardown_model),
		cmocka_unit_test_setup_teardown(test_dirty_take_clears, setup_model, teardown_model),
		cmocka_unit_test_setup_teardown(test_purge_drops_pending_write, setup_model, teardown_model),
		cmocka_unit_test_setup_teardown(test_purge_after_take_records_deletion, setup_model,
						teardown_model),
		cmocka_unit_test_setup_teardown(test_new_replaces_old, setup_model, teardown_model),
		cmocka_unit_test_setup_teardown(test_cp_new_find, setup_model, teardown_model),
		cmocka_unit_test_setup_teardown(test_many_objects_release, setup_model, teardown_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
