/* validate: see validate.h for the rules.
 *
 * One recursive walk serves both passes: it follows the shape, not the
 * document, so it only descends where the model has a container, and it
 * counts depth so no body (or "document" member, which is walked shape-free)
 * can take it past VALIDATE_MAX_DEPTH frames.  Pass 1 reports type errors
 * only; pass 2 runs over a body whose types are known good and reports
 * constraint errors only.  The walk's state is one struct on the caller's
 * stack, holding the path of the value being looked at for messages. */
#include "api/validate.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "api/errors.h"

/* Longest path kept for messages, and longest echo of a client's string
 * (a map key in a path, a bad enum value). */
#define VALIDATE_PATH_MAX 256
#define VALIDATE_ECHO_MAX 64

/* 2^53: doubles represent every integer of smaller magnitude exactly. */
#define VALIDATE_EXACT_LIMIT 9007199254740992.0

enum validate_pass { VALIDATE_TYPES = 1, VALIDATE_CONSTRAINTS = 2 };

struct validate_walk {
	const struct vmodel *m;
	struct err *e;
	enum validate_pass pass;
	int depth;
	size_t len;                       /* strlen(path) */
	char path[VALIDATE_PATH_MAX];
};

/* Length of the longest prefix of s[0..n) not ending inside a UTF-8
 * sequence, so a cut never leaves half a character in a message. */
static size_t utf8_cut(const char *s, size_t n)
{
	size_t i = n;
	while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80)
		i--;
	return i;
}

/* s clipped to VALIDATE_ECHO_MAX bytes on a character boundary, into out
 * (VALIDATE_ECHO_MAX + 4 bytes). */
static const char *echo(const char *s, char *out)
{
	size_t n = strlen(s);
	if (n <= VALIDATE_ECHO_MAX)
		return s;
	n = utf8_cut(s, VALIDATE_ECHO_MAX);
	memcpy(out, s, n);
	memcpy(out + n, "...", 4);
	return out;
}

/* Append to the path; returns the length to restore with path_pop.  A path
 * that no longer fits ends in "..." and stops growing. */
static size_t path_push(struct validate_walk *w, const char *key, int index)
{
	size_t old = w->len, room = sizeof w->path - old;
	char clip[VALIDATE_ECHO_MAX + 4];
	int n;

	if (key)
		n = snprintf(w->path + old, room, "%s%s", old ? "." : "",
			     echo(key, clip));
	else
		n = snprintf(w->path + old, room, "[%d]", index);
	if (n >= 0 && (size_t)n < room) {
		w->len = old + (size_t)n;
		return old;
	}
	size_t keep = utf8_cut(w->path, sizeof w->path - 4);
	memcpy(w->path + keep, "...", 4);
	w->len = keep + 3;
	return old;
}

static void path_pop(struct validate_walk *w, size_t old)
{
	if (old < w->len) {
		w->len = old;
		w->path[old] = '\0';
	}
}

/* The current path quoted for a message: "member 'a.b'", or a neutral
 * subject for the root. */
static const char *subject(const struct validate_walk *w, char *buf, size_t n)
{
	if (w->len == 0)
		return "the input";
	snprintf(buf, n, "member '%s'", w->path);
	return buf;
}

static int type_error(struct validate_walk *w, const char *expected)
{
	char s[VALIDATE_PATH_MAX + 16];
	return err_set(w->e, ERR_SERIALIZATION,
		       "Unexpected value type for %s: expected %s.",
		       subject(w, s, sizeof s), expected);
}

/* Enter a container: the depth check is a type-pass error because a body
 * nested that deep cannot be deserialised at all. */
static int enter(struct validate_walk *w)
{
	if (++w->depth <= VALIDATE_MAX_DEPTH)
		return 0;
	char s[VALIDATE_PATH_MAX + 16];
	return err_set(w->e, ERR_SERIALIZATION,
		       "Request nested too deeply at %s: at most %d levels.",
		       subject(w, s, sizeof s), VALIDATE_MAX_DEPTH);
}

/* The bounds for a message: "0-1000", "-1 to 100", "1 or more", "up to 50". */
static void range_text(const struct vshape *s, const struct vrange *r,
		       char *buf, size_t n)
{
	long long lo = (long long)r->min, hi = (long long)r->max;
	if ((s->flags & VSHAPE_MIN) && (s->flags & VSHAPE_MAX))
		snprintf(buf, n, lo < 0 ? "%lld to %lld" : "%lld-%lld", lo, hi);
	else if (s->flags & VSHAPE_MIN)
		snprintf(buf, n, "%lld or more", lo);
	else
		snprintf(buf, n, "up to %lld", hi);
}

/* Is x outside the shape's bounds? */
static int out_of_range(const struct vmodel *m, const struct vshape *s,
			double x)
{
	const struct vrange *r = &m->ranges[s->range];
	return ((s->flags & VSHAPE_MIN) && x < (double)r->min) ||
	       ((s->flags & VSHAPE_MAX) && x > (double)r->max);
}

/* A count (string length, list items, map entries) against the bounds. */
static int check_count(struct validate_walk *w, const struct vshape *s,
		       size_t count, const char *unit)
{
	if (!(s->flags & (VSHAPE_MIN | VSHAPE_MAX)) ||
	    !out_of_range(w->m, s, (double)count))
		return 0;
	char r[64], subj[VALIDATE_PATH_MAX + 16];
	range_text(s, &w->m->ranges[s->range], r, sizeof r);
	return err_set(w->e, ERR_INVALID_PARAMETER,
		       "Invalid length for %s: %zu %s, valid length is %s.",
		       subject(w, subj, sizeof subj), count, unit, r);
}

/* Unicode scalar values in a UTF-8 string: bytes that do not continue a
 * sequence. */
static size_t utf8_length(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/* Enum membership and length of string str, a value or a map key (`what`
 * is "value" or "key"). */
static int check_string(struct validate_walk *w, const struct vshape *s,
			const char *str, const char *what)
{
	const struct vmodel *m = w->m;
	if (s->count > 0) {
		for (unsigned i = 0; i < s->count; i++)
			if (strcmp(str, m->strs + m->enums[s->first + i]) == 0)
				return 0;
		char valid[ERR_MSG_MAX], clip[VALIDATE_ECHO_MAX + 4];
		char subj[VALIDATE_PATH_MAX + 16];
		size_t used = 0;
		valid[0] = '\0';
		for (unsigned i = 0; i < s->count && used < sizeof valid; i++) {
			int n = snprintf(valid + used, sizeof valid - used,
					 "%s%s", i ? ", " : "",
					 m->strs + m->enums[s->first + i]);
			if (n < 0)
				break;
			used += (size_t)n;
		}
		return err_set(w->e, ERR_INVALID_PARAMETER,
			       "Invalid %s '%s' for %s. Valid values: %s.",
			       what, echo(str, clip),
			       subject(w, subj, sizeof subj), valid);
	}
	return check_count(w, s, utf8_length(str), "characters");
}

/* A number's type for an integer or long shape: integral, and within int32
 * or below 2^53 in magnitude. */
static int check_integral(struct validate_walk *w, double x, int is_long)
{
	/* Comparisons written so that NaN fails them; past them x is within
	 * +-2^53, so the cast to long long is defined. */
	int in_range = is_long ? (x > -VALIDATE_EXACT_LIMIT && x < VALIDATE_EXACT_LIMIT)
			       : (x >= -2147483648.0 && x <= 2147483647.0);
	if (!in_range || (double)(long long)x != x)
		return type_error(w, is_long ? "a long integer" : "an integer");
	return 0;
}

static int walk(struct validate_walk *w, unsigned shape, const cJSON *v);

/* Any JSON at all; only the depth is limited. */
static int walk_document(struct validate_walk *w, const cJSON *v)
{
	if (!cJSON_IsArray(v) && !cJSON_IsObject(v))
		return 0;
	if (enter(w))
		return -1;
	for (const cJSON *c = v->child; c; c = c->next)
		if (walk_document(w, c))
			return -1;
	w->depth--;
	return 0;
}

static const struct vmember *find_member(const struct vmodel *m,
					 const struct vshape *s,
					 const char *name)
{
	const struct vmember *base = m->members + s->first;
	size_t lo = 0, hi = s->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, m->strs + base[mid].name);
		if (c == 0)
			return &base[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static int walk_structure(struct validate_walk *w, const struct vshape *s,
			  const cJSON *v)
{
	const struct vmodel *m = w->m;
	if (!cJSON_IsObject(v))
		return type_error(w, "an object");
	if (enter(w))
		return -1;
	if (w->pass == VALIDATE_CONSTRAINTS) {
		for (unsigned i = 0; i < s->count; i++) {
			const struct vmember *mem = &m->members[s->first + i];
			const char *name = m->strs + mem->name;
			if (!mem->required)
				continue;
			const cJSON *c = cJSON_GetObjectItemCaseSensitive(v, name);
			if (c && !cJSON_IsNull(c))
				continue;
			path_push(w, name, 0);
			return err_set(w->e, ERR_INVALID_PARAMETER,
				       "Missing required parameter: '%s'.",
				       w->path);
		}
	}
	for (const cJSON *c = v->child; c; c = c->next) {
		if (cJSON_IsNull(c) || !c->string)
			continue;
		const struct vmember *mem = find_member(m, s, c->string);
		if (!mem)
			continue;
		size_t old = path_push(w, c->string, 0);
		if (walk(w, mem->shape, c))
			return -1;
		path_pop(w, old);
	}
	w->depth--;
	return 0;
}

static int walk_list(struct validate_walk *w, const struct vshape *s,
		     const cJSON *v)
{
	if (!cJSON_IsArray(v))
		return type_error(w, "a list");
	if (enter(w))
		return -1;
	if (w->pass == VALIDATE_CONSTRAINTS &&
	    check_count(w, s, (size_t)cJSON_GetArraySize(v), "items"))
		return -1;
	int i = 0;
	for (const cJSON *c = v->child; c; c = c->next, i++) {
		size_t old = path_push(w, NULL, i);
		if (cJSON_IsNull(c))
			return type_error(w, "a list element, not null");
		if (walk(w, s->item, c))
			return -1;
		path_pop(w, old);
	}
	w->depth--;
	return 0;
}

static int walk_map(struct validate_walk *w, const struct vshape *s,
		    const cJSON *v)
{
	const struct vshape *key = &w->m->shapes[s->item];
	if (!cJSON_IsObject(v))
		return type_error(w, "a map (JSON object)");
	if (enter(w))
		return -1;
	if (w->pass == VALIDATE_CONSTRAINTS &&
	    check_count(w, s, (size_t)cJSON_GetArraySize(v), "entries"))
		return -1;
	for (const cJSON *c = v->child; c; c = c->next) {
		const char *k = c->string ? c->string : "";
		size_t old = path_push(w, k, 0);
		if (cJSON_IsNull(c))
			return type_error(w, "a map value, not null");
		if (w->pass == VALIDATE_CONSTRAINTS && key->type == VT_STRING &&
		    check_string(w, key, k, "key"))
			return -1;
		if (walk(w, s->value, c))
			return -1;
		path_pop(w, old);
	}
	w->depth--;
	return 0;
}

static int walk_number(struct validate_walk *w, const struct vshape *s,
		       const cJSON *v)
{
	int integral = s->type == VT_INTEGER || s->type == VT_LONG;
	if (!cJSON_IsNumber(v))
		return type_error(w, integral ? (s->type == VT_LONG ?
			"a long integer" : "an integer") : "a number");
	double x = v->valuedouble;
	if (integral) {
		if (check_integral(w, x, s->type == VT_LONG))
			return -1;
	} else if (!isfinite(x)) {
		return type_error(w, "a finite number");
	}
	if (w->pass != VALIDATE_CONSTRAINTS ||
	    !(s->flags & (VSHAPE_MIN | VSHAPE_MAX)) ||
	    !out_of_range(w->m, s, x))
		return 0;
	char r[64], subj[VALIDATE_PATH_MAX + 16];
	range_text(s, &w->m->ranges[s->range], r, sizeof r);
	subject(w, subj, sizeof subj);
	if (integral)
		return err_set(w->e, ERR_INVALID_PARAMETER,
			       "Value %lld for %s is out of range: valid range is %s.",
			       (long long)x, subj, r);
	return err_set(w->e, ERR_INVALID_PARAMETER,
		       "Value %g for %s is out of range: valid range is %s.",
		       x, subj, r);
}

static int walk(struct validate_walk *w, unsigned shape, const cJSON *v)
{
	const struct vshape *s = &w->m->shapes[shape];
	switch ((enum vtype)s->type) {
	case VT_STRUCTURE:
		return walk_structure(w, s, v);
	case VT_LIST:
		return walk_list(w, s, v);
	case VT_MAP:
		return walk_map(w, s, v);
	case VT_STRING:
		if (!cJSON_IsString(v))
			return type_error(w, "a string");
		if (w->pass == VALIDATE_CONSTRAINTS)
			return check_string(w, s, v->valuestring, "value");
		return 0;
	case VT_BLOB:
		/* Base64 text; its length bound is on the decoded bytes,
		 * which the handler that decodes it must check. */
		return cJSON_IsString(v) ? 0 : type_error(w, "a base64 string");
	case VT_INTEGER:
	case VT_LONG:
	case VT_DOUBLE:
	case VT_FLOAT:
		return walk_number(w, s, v);
	case VT_BOOLEAN:
		return cJSON_IsBool(v) ? 0 : type_error(w, "a boolean");
	case VT_TIMESTAMP:
		if (cJSON_IsString(v) ||
		    (cJSON_IsNumber(v) && isfinite(v->valuedouble)))
			return 0;
		return type_error(w, "a timestamp (epoch seconds)");
	case VT_DOCUMENT:
		return walk_document(w, v);
	}
	/* A type the generator never writes: the tables are corrupt. */
	return err_set(w->e, ERR_SERVER, "validate: shape %u has bad type %u",
		       shape, (unsigned)s->type);
}

/* Both passes over v, from the root of a path. */
static int run(const struct vmodel *m, unsigned shape, const cJSON *v,
	       struct err *e)
{
	struct validate_walk w = {.m = m, .e = e};
	for (int pass = VALIDATE_TYPES; pass <= VALIDATE_CONSTRAINTS; pass++) {
		w.pass = (enum validate_pass)pass;
		w.depth = 0;
		w.len = 0;
		w.path[0] = '\0';
		if (walk(&w, shape, v))
			return -1;
	}
	return 0;
}

const struct vop *validate_find_op(const struct vmodel *m, const char *name)
{
	size_t lo = 0, hi = m->nops;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, m->ops[mid].name);
		if (c == 0)
			return &m->ops[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

int validate_input(const struct vop *op, const cJSON *body, struct err *e)
{
	if (!cJSON_IsObject(body))
		return err_set(e, ERR_SERIALIZATION,
			       "The request body must be a JSON object.");
	if (op->input == VSHAPE_NONE)
		return 0;
	return run(op->model, op->input, body, e);
}

int validate_value(const struct vmodel *m, unsigned shape, const cJSON *v,
		   struct err *e)
{
	if (shape >= m->nshapes)
		return err_set(e, ERR_SERVER, "validate: no shape %u in model %s",
			       shape, m->name);
	if (!v)
		return err_set(e, ERR_SERIALIZATION, "Missing input.");
	return run(m, shape, v, e);
}

const struct vmember *validate_find_member(const struct vmodel *m,
					   unsigned shape, const char *name)
{
	if (shape >= m->nshapes || m->shapes[shape].type != VT_STRUCTURE)
		return NULL;
	return find_member(m, &m->shapes[shape], name);
}

int validate_utf8(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	while (p < end) {
		unsigned c = *p++;
		if (c < 0x80)
			continue;
		size_t need;
		uint32_t cp, least;
		if (c >= 0xC2 && c <= 0xDF) {
			need = 1, cp = c & 0x1F, least = 0x80;
		} else if ((c & 0xF0) == 0xE0) {
			need = 2, cp = c & 0x0F, least = 0x800;
		} else if (c >= 0xF0 && c <= 0xF4) {
			need = 3, cp = c & 0x07, least = 0x10000;
		} else {
			return 0;  /* continuation byte, C0/C1, F5-FF */
		}
		if ((size_t)(end - p) < need)
			return 0;
		for (size_t i = 0; i < need; i++) {
			if ((p[i] & 0xC0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i] & 0x3F);
		}
		p += need;
		if (cp < least || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
	}
	return 1;
}
