/* api_as: the Auto Scaling entry point, as_actions.def's table behind it.
 *
 * The Query protocol layer (server/awsquery.c) hands over a body already
 * shaped as JSON with the model's member names; here it is validated
 * against the Auto Scaling model and given to the action's handler.  The
 * validator runs before the table lookup, so a bad request to an action
 * Berth does not implement yet still gets AWS's ValidationError.
 *
 * Auto Scaling reports every bad parameter as ValidationError in the
 * message style of AWS's services ("1 validation error detected: Value
 * null at 'minSize' failed to satisfy constraint: Member must not be
 * null"); the validator's own messages (validate.c) are rewritten into it
 * here, from the failing member's path, shape and value. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/validate.h"

/* Each row's handler, declared from the row itself. */
#define X(name, fn) int fn(struct api_ctx *, const cJSON *, cJSON **, struct err *);
#include "api/as_actions.def"
#undef X

static const struct api_action as_actions[] = {
#define X(name, fn) {name, fn},
#include "api/as_actions.def"
#undef X
	{NULL, NULL}, /* the end: lets the table compile with no rows */
};

const struct api_action *api_as_find(const char *name)
{
	/* A handful of rows in any order: a linear scan needs no sorting
	 * rule for the file's editors to keep. */
	for (const struct api_action *a = as_actions; a->name; a++)
		if (strcmp(a->name, name) == 0)
			return a;
	return NULL;
}

/* ---- the validator's errors in AWS's words ---- */

/* Where a validator path leads: the shape and value of the member it
 * names (v NULL when absent) and the path as AWS writes it, member names
 * with a lower-case initial and list items 1-based ("tags.1.member.key"). */
struct as_where {
	unsigned shape;
	const cJSON *v;
	char path[300];
};

/* Append piece to w->path, after a '.' unless it is the first. */
static void where_append(struct as_where *w, const char *piece)
{
	size_t n = strlen(w->path);
	snprintf(w->path + n, sizeof w->path - n, "%s%s", n ? "." : "", piece);
}

/* One member step of a path: name[0..len) in structure (or map) w->shape. */
static int where_member(const struct vmodel *m, struct as_where *w, const char *name, size_t len)
{
	char buf[128];
	if (len == 0 || len >= sizeof buf)
		return -1;
	memcpy(buf, name, len);
	buf[len] = '\0';
	w->v = cJSON_IsObject(w->v) ? cJSON_GetObjectItemCaseSensitive(w->v, buf) : NULL;
	const struct vshape *s = &m->shapes[w->shape];
	if (s->type == VT_MAP) {
		w->shape = s->value;
	} else {
		const struct vmember *mem = validate_find_member(m, w->shape, buf);
		if (!mem)
			return -1;
		w->shape = mem->shape;
		if (buf[0] >= 'A' && buf[0] <= 'Z')
			buf[0] = (char)(buf[0] - 'A' + 'a');
	}
	where_append(w, buf);
	return 0;
}

/* Follow a validator path ("Tags[0].Key", path[0..len)) from op's input.
 * Returns 0, or -1 when the path does not lead anywhere (clipped with
 * "...", or a name the model lacks). */
static int where_resolve(const struct vop *op, const cJSON *in, const char *path, size_t len,
			 struct as_where *w)
{
	const struct vmodel *m = op->model;
	const char *p = path, *end = path + len;
	*w = (struct as_where){.shape = op->input, .v = in};
	if (op->input == VSHAPE_NONE)
		return -1;
	while (p < end) {
		if (*p == '.') {
			p++;
		} else if (*p == '[') {
			char *q;
			long i = strtol(p + 1, &q, 10);
			if (q >= end || *q != ']' || i < 0 || i > INT_MAX || m->shapes[w->shape].type != VT_LIST)
				return -1;
			w->shape = m->shapes[w->shape].item;
			w->v = cJSON_IsArray(w->v) ? cJSON_GetArrayItem(w->v, (int)i) : NULL;
			char num[32];
			snprintf(num, sizeof num, "%ld.member", i + 1);
			where_append(w, num);
			p = q + 1;
		} else {
			const char *q = p;
			while (q < end && *q != '.' && *q != '[')
				q++;
			if (where_member(m, w, p, (size_t)(q - p)))
				return -1;
			p = q;
		}
	}
	return 0;
}

/* Bytes of s to echo: at most max, not ending inside a UTF-8 sequence. */
static int clip(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	return (int)n;
}

/* The value of a failing member as AWS echoes it: a string as is (clipped),
 * a number in decimal, a list as "[a, b]". */
static void where_value(const cJSON *v, char *buf, size_t n)
{
	if (cJSON_IsString(v)) {
		snprintf(buf, n, "%.*s", clip(v->valuestring, 128), v->valuestring);
	} else if (cJSON_IsNumber(v)) {
		snprintf(buf, n, "%.17g", v->valuedouble);
	} else if (cJSON_IsArray(v)) {
		size_t used = (size_t)snprintf(buf, n, "[");
		for (const cJSON *c = v->child; c && used < n; c = c->next) {
			const char *item = cJSON_IsString(c) ? c->valuestring : "...";
			used += (size_t)snprintf(buf + used, n - used, "%s%.*s", c == v->child ? "" : ", ",
						 clip(item, 64), item);
		}
		if (used < n)
			snprintf(buf + used, n - used, "]");
	} else {
		snprintf(buf, n, "...");
	}
}

/* Characters (Unicode scalar values) in a UTF-8 string, as the validator
 * counts a length. */
static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/* The constraint a count or value x breaks: "have length greater than or
 * equal to 1" (what "length" or "value"). */
static void where_bound(const struct vmodel *m, unsigned shape, double x, const char *what,
			char *buf, size_t n)
{
	const struct vshape *s = &m->shapes[shape];
	const struct vrange *r = &m->ranges[s->range];
	if ((s->flags & VSHAPE_MIN) && x < (double)r->min)
		snprintf(buf, n, "Member must have %s greater than or equal to %lld", what,
			 (long long)r->min);
	else
		snprintf(buf, n, "Member must have %s less than or equal to %lld", what,
			 (long long)r->max);
}

static void where_enum(const struct vmodel *m, unsigned shape, char *buf, size_t n)
{
	const struct vshape *s = &m->shapes[shape];
	size_t used = (size_t)snprintf(buf, n, "Member must satisfy enum value set: [");
	for (unsigned i = 0; i < s->count && used < n; i++)
		used += (size_t)snprintf(buf + used, n - used, "%s%s", i ? ", " : "",
					 m->strs + m->enums[s->first + i]);
	if (used < n)
		snprintf(buf + used, n - used, "]");
}

/* The validator's message kinds (validate.c), each with the text before the
 * quoted path. */
enum as_kind { AS_MISSING, AS_LENGTH, AS_RANGE, AS_ENUM };

static const struct {
	const char *prefix, *before_path;
} as_kinds[] = {
	[AS_MISSING] = {"Missing required parameter: '", "parameter: '"},
	[AS_LENGTH] = {"Invalid length for member '", "member '"},
	[AS_RANGE] = {"Value ", " for member '"},
	[AS_ENUM] = {"Invalid value '", " for member '"},
};

/* e holds a validator error for op's body in: make it a ValidationError in
 * AWS's words when its kind is known, else keep its text.  Returns -1. */
int api_query_validation_error(const struct vop *op, const cJSON *in, struct err *e)
{
	if (e->code == ERR_SERVER)
		return -1;
	int kind = -1;
	for (size_t k = 0; k < sizeof as_kinds / sizeof as_kinds[0] && kind < 0; k++)
		if (strncmp(e->msg, as_kinds[k].prefix, strlen(as_kinds[k].prefix)) == 0)
			kind = (int)k;
	/* The path follows the last " for member '": an echoed value may
	 * hold the words too, a path (member names) never does. */
	const char *p = NULL;
	if (kind >= 0) {
		const char *before = as_kinds[kind].before_path;
		for (const char *q = e->msg; (q = strstr(q, before)); q++)
			p = q + strlen(before);
	}
	const char *end = p ? strchr(p, '\'') : NULL;
	struct as_where w;
	if (!end || where_resolve(op, in, p, (size_t)(end - p), &w)) {
		e->code = ERR_VALIDATION; /* a kind without a rewrite: its own words */
		return -1;
	}
	char value[300], rule[ERR_MSG_MAX];
	where_value(w.v, value, sizeof value);
	const cJSON *v = w.v;
	switch ((enum as_kind)kind) {
	case AS_MISSING:
		return err_set(e, ERR_VALIDATION,
			       "1 validation error detected: Value null at '%s' failed to satisfy "
			       "constraint: Member must not be null", w.path);
	case AS_LENGTH:
		where_bound(op->model, w.shape,
			    cJSON_IsString(v) ? (double)utf8_chars(v->valuestring)
					      : (double)cJSON_GetArraySize(v),
			    "length", rule, sizeof rule);
		break;
	case AS_RANGE:
		where_bound(op->model, w.shape, cJSON_IsNumber(v) ? v->valuedouble : 0, "value", rule,
			    sizeof rule);
		break;
	case AS_ENUM:
		where_enum(op->model, w.shape, rule, sizeof rule);
		break;
	}
	return err_set(e, ERR_VALIDATION,
		       "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s",
		       value, w.path, rule);
}

int api_as_call(struct api_ctx *ctx, const char *action, const cJSON *in, cJSON **out,
		struct err *e)
{
	const struct vop *op = validate_find_op(&validate_model_autoscaling, action);
	if (!op)
		return err_set(e, ERR_INVALID_ACTION, "Could not find operation %s for version 2011-01-01",
			       action);
	if (validate_input(op, in, e))
		return api_query_validation_error(op, in, e);
	if (api_authorize(ctx, 1, action, in, e))
		return -1;
	const struct api_action *a = api_as_find(action);
	if (!a)
		return err_set(e, ERR_INVALID_ACTION,
			       "Berth does not implement %s yet; docs/api-coverage.md lists what it does.",
			       action);
	*out = NULL;
	uint64_t gen = ctx->m->capacity_gen;
	int r = a->fn(ctx, in, out, e);
	/* As api_call: instances a group launched or terminated give waiting
	 * tasks and services another look. */
	if ((ctx->m->waiting_tasks || ctx->m->svc_watch) && gen != ctx->m->capacity_gen)
		api_wake(ctx, ctx->now);
	if (r == 0 && !*out)
		*out = cJSON_CreateObject();
	return r;
}
