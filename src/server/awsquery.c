/* awsquery: the AWS Query protocol (Auto Scaling, version 2011-01-01).
 *
 * A request is a form body (application/x-www-form-urlencoded) of flat
 * parameters: Action, Version, and the input's members with dotted names
 * (`A.B`, lists `A.member.N`, maps `A.entry.N.key`/`.value`), every value a
 * string.  This file turns them into the JSON object the api layer takes,
 * typed by the Auto Scaling input shapes (validate.h's tables), hands it to
 * api_as_call, and renders what comes back as AWS's XML: the result as
 * nested elements, lists as <member> items, errors as <ErrorResponse>.  It
 * knows no Auto Scaling resource.
 *
 * The conversion works in two steps.  Each parameter is placed in a tree of
 * cJSON objects, lists and maps still keyed by their 1-based index (their
 * items may come in any order); then one walk over the tree, led by the
 * shapes, makes the lists arrays and the maps objects in index order.
 * Every failure is a ValidationError, as AWS answers a malformed request. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/validate.h"
#include "lib/xalloc.h"
#include "server/server.h"

/* Segments one parameter name may have: deeper than any shape nests, and
 * a bound on the recursion of the second step. */
#define AWSQUERY_MAX_SEGMENTS 64
/* Largest list or map index accepted (1-based). */
#define AWSQUERY_MAX_INDEX 100000
/* Bytes of a client's string echoed in a message. */
#define AWSQUERY_ECHO_MAX 128

/* ---- the form ---- */

void awsquery_form_release(struct awsquery_form *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->v[i].key);
		free(f->v[i].val);
	}
	free(f->v);
	*f = (struct awsquery_form){0};
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Characters XML 1.0 cannot carry (and AWS's string patterns refuse):
 * controls but tab, LF and CR; U+FFFE and U+FFFF.  s is valid UTF-8. */
static bool xml_forbidden(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
			return true;
		if (c == 0xEF && i + 2 < n && (unsigned char)s[i + 1] == 0xBF &&
		    ((unsigned char)s[i + 2] & 0xFE) == 0xBE)
			return true;
	}
	return false;
}

/* Percent-decode s[0..n) ('+' is a space) into a new string, or NULL when
 * an escape is malformed or the result is not text XML can carry. */
static char *form_decode(const char *s, size_t n)
{
	char *out = xmalloc(n + 1);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+') {
			out[k++] = ' ';
		} else if (s[i] != '%') {
			out[k++] = s[i];
		} else if (i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			out[k++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else {
			free(out);
			return NULL;
		}
	}
	out[k] = '\0';
	/* A NUL (%00) would end the C string early; neither it nor the other
	 * controls XML refuses belong in any member. */
	if (memchr(out, '\0', k) || !validate_utf8(out, k) || xml_forbidden(out, k)) {
		free(out);
		return NULL;
	}
	return out;
}

int awsquery_form_parse(const char *body, size_t len, struct awsquery_form *f, struct err *e)
{
	*f = (struct awsquery_form){0};
	const char *p = body, *end = body + len;
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(stop - p));
		if (stop > p && eq != p) { /* "&&" and "=x" carry nothing */
			const char *kend = eq ? eq : stop;
			char *key = form_decode(p, (size_t)(kend - p));
			char *val = eq ? form_decode(eq + 1, (size_t)(stop - eq - 1)) : xstrdup("");
			if (!key || !val) {
				free(key);
				free(val);
				awsquery_form_release(f);
				return err_set(e, ERR_VALIDATION,
					       "The request body is not a valid form: a malformed percent escape, "
					       "invalid UTF-8 or a character XML cannot carry.");
			}
			if (f->n == f->cap) {
				f->cap = f->cap ? 2 * f->cap : 16;
				f->v = xrealloc(f->v, f->cap * sizeof *f->v);
			}
			f->v[f->n++] = (struct awsquery_param){key, val};
		}
		p = stop + 1;
	}
	return 0;
}

const char *awsquery_form_get(const struct awsquery_form *f, const char *key)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->v[i].key, key) == 0)
			return f->v[i].val;
	return NULL;
}

/* ---- parameters into JSON ---- */

/* s clipped to AWSQUERY_ECHO_MAX bytes on a character boundary (s is valid
 * UTF-8), into out (AWSQUERY_ECHO_MAX + 4 bytes), for a message. */
static const char *echo(const char *s, char *out)
{
	size_t n = strlen(s);
	if (n <= AWSQUERY_ECHO_MAX)
		return s;
	n = AWSQUERY_ECHO_MAX;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	memcpy(out, s, n);
	memcpy(out + n, "...", 4);
	return out;
}

static int bad_name(struct err *e, const char *key, const char *why)
{
	char clip[AWSQUERY_ECHO_MAX + 4];
	return err_set(e, ERR_VALIDATION, "The parameter name '%s' is malformed: %s.", echo(key, clip),
		       why);
}

static int bad_value(struct err *e, const char *key, const char *val, const char *rule)
{
	char k[AWSQUERY_ECHO_MAX + 4], v[AWSQUERY_ECHO_MAX + 4];
	return err_set(e, ERR_VALIDATION,
		       "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: "
		       "Member must %s",
		       echo(val, v), echo(key, k), rule);
}

/* A wire name that differs from its member's (a locationName in the
 * model, which the generated tables do not carry). */
static const struct {
	const char *wire, *member;
} member_aliases[] = {
	{"Reference", "References"}, /* CpuPerformanceFactorRequest */
};

static const struct vmember *wire_member(const struct vmodel *m, unsigned shape, const char *seg)
{
	const struct vmember *mem = validate_find_member(m, shape, seg);
	for (size_t i = 0; !mem && i < sizeof member_aliases / sizeof member_aliases[0]; i++)
		if (strcmp(seg, member_aliases[i].wire) == 0)
			mem = validate_find_member(m, shape, member_aliases[i].member);
	return mem;
}

static bool is_container(const struct vmodel *m, unsigned shape)
{
	unsigned t = m->shapes[shape].type;
	return t == VT_STRUCTURE || t == VT_LIST || t == VT_MAP;
}

/* A 1-based index as a list or map entry has it: digits, no leading zero. */
static bool is_index(const char *s)
{
	size_t n = strspn(s, "0123456789");
	return n > 0 && n <= 6 && s[n] == '\0' && s[0] != '0' && atol(s) <= AWSQUERY_MAX_INDEX;
}

/* Child `name` of obj as an object, made if absent; NULL if it holds a
 * value already (the same name used as a scalar and as a prefix). */
static cJSON *child_object(cJSON *obj, const char *name)
{
	cJSON *c = cJSON_GetObjectItemCaseSensitive(obj, name);
	if (!c)
		c = cJSON_AddObjectToObject(obj, name);
	return cJSON_IsObject(c) ? c : NULL;
}

/* The JSON value of a scalar of shape type t, or NULL if val is not one. */
static cJSON *scalar(unsigned t, const char *val, const char **rule)
{
	char *end;
	errno = 0;
	switch (t) {
	case VT_BOOLEAN:
		*rule = "be a boolean (true or false)";
		if (strcmp(val, "true") == 0 || strcmp(val, "false") == 0)
			return cJSON_CreateBool(val[0] == 't');
		return NULL;
	case VT_INTEGER:
	case VT_LONG: {
		*rule = t == VT_LONG ? "be a long integer" : "be an integer";
		if (val[0] != '-' && (val[0] < '0' || val[0] > '9'))
			return NULL;
		long long x = strtoll(val, &end, 10);
		bool fits = t == VT_LONG ? (x > -(1LL << 53) && x < (1LL << 53))
					 : (x >= -2147483648LL && x <= 2147483647LL);
		return *end || errno || !fits ? NULL : cJSON_CreateNumber((double)x);
	}
	case VT_DOUBLE:
	case VT_FLOAT: {
		*rule = "be a number";
		if (val[0] != '-' && val[0] != '.' && (val[0] < '0' || val[0] > '9'))
			return NULL;
		double x = strtod(val, &end);
		return *end || !isfinite(x) ? NULL : cJSON_CreateNumber(x);
	}
	default: /* strings, blobs (base64), timestamps (ISO 8601), documents */
		return cJSON_CreateString(val);
	}
}

/* Parameter p ends at member `name` of obj, of shape `shape`. */
static int place_leaf(const struct vmodel *m, unsigned shape, cJSON *obj, const char *name,
		      const struct awsquery_param *p, struct err *e)
{
	unsigned t = m->shapes[shape].type;
	if (t == VT_LIST && p->val[0] == '\0') /* how an empty list is sent */
		return child_object(obj, name) ? 0 : bad_name(e, p->key, "given twice");
	if (is_container(m, shape))
		return bad_name(e, p->key, t == VT_LIST ? "a list item is NAME.member.N"
							: "it names a structure, not one of its members");
	if (cJSON_GetObjectItemCaseSensitive(obj, name))
		return bad_name(e, p->key, "given twice");
	const char *rule = "";
	cJSON *v = scalar(t, p->val, &rule);
	if (!v)
		return bad_value(e, p->key, p->val, rule);
	cJSON_AddItemToObject(obj, name, v);
	return 0;
}

/* Place parameter p in the tree under root (input shape `shape`): its
 * dotted name walked down the shapes.  A member the model does not know is
 * ignored, as AWS does. */
static int place(const struct vmodel *m, unsigned shape, cJSON *root,
		 const struct awsquery_param *p, struct err *e)
{
	char *copy = xstrdup(p->key), *seg[AWSQUERY_MAX_SEGMENTS];
	size_t n = 0, i = 0;
	int rc = 0;
	for (char *s = copy, *dot;; s = dot + 1) {
		if (n == AWSQUERY_MAX_SEGMENTS) {
			rc = bad_name(e, p->key, "too many parts");
			break;
		}
		seg[n++] = s;
		if (!(dot = strchr(s, '.')))
			break;
		*dot = '\0';
	}
	cJSON *obj = root;
	while (rc == 0) {
		const struct vshape *s = &m->shapes[shape];
		const char *name;
		unsigned child;
		if (s->type == VT_STRUCTURE) {
			const struct vmember *mem = wire_member(m, shape, seg[i]);
			if (!mem)
				break; /* unknown: ignored */
			name = validate_member_name(m, mem);
			child = mem->shape;
			i += 1;
		} else if (s->type == VT_LIST) {
			if (i + 1 >= n || (strcmp(seg[i], "member") && strcmp(seg[i], "item")) ||
			    !is_index(seg[i + 1])) {
				rc = bad_name(e, p->key, "a list item is NAME.member.N, N from 1");
				break;
			}
			name = seg[i + 1];
			child = s->item;
			i += 2;
		} else {
			if (i + 2 >= n || strcmp(seg[i], "entry") || !is_index(seg[i + 1]) ||
			    (strcmp(seg[i + 2], "key") && strcmp(seg[i + 2], "value")) ||
			    !(obj = child_object(obj, seg[i + 1]))) {
				rc = bad_name(e, p->key, "a map entry is NAME.entry.N.key or NAME.entry.N.value");
				break;
			}
			name = seg[i + 2];
			child = name[0] == 'k' ? s->item : s->value;
			i += 3;
		}
		if (i == n) {
			rc = place_leaf(m, child, obj, name, p, e);
			break;
		}
		if (!is_container(m, child) || !(obj = child_object(obj, name))) {
			rc = bad_name(e, p->key, "it goes on past a value");
			break;
		}
		shape = child;
	}
	free(copy);
	return rc;
}

static cJSON *finish(const struct vmodel *m, unsigned shape, cJSON *node, struct err *e);

static long index_of(const cJSON *c)
{
	return atol(c->string);
}

static int by_index(const void *a, const void *b)
{
	long x = index_of(*(cJSON *const *)a), y = index_of(*(cJSON *const *)b);
	return (x > y) - (x < y);
}

/* node's children (detached) in index order; *n gets their number. */
static cJSON **children_by_index(cJSON *node, size_t *n)
{
	*n = (size_t)cJSON_GetArraySize(node);
	cJSON **v = xcalloc(*n ? *n : 1, sizeof *v);
	for (size_t i = 0; i < *n; i++)
		v[i] = cJSON_DetachItemViaPointer(node, node->child);
	qsort(v, *n, sizeof *v, by_index);
	return v;
}

/* A node about to get a new place drops the name of its old one. */
static cJSON *unname(cJSON *c)
{
	if (c->string && !(c->type & cJSON_StringIsConst))
		cJSON_free(c->string);
	c->string = NULL;
	return c;
}

/* Items keyed by index into an array, in index order (gaps close up). */
static cJSON *finish_list(const struct vmodel *m, const struct vshape *s, cJSON *node,
			  struct err *e)
{
	size_t n;
	cJSON **v = children_by_index(node, &n);
	cJSON_Delete(node);
	cJSON *out = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++) {
		cJSON *item = out ? finish(m, s->item, v[i], e) : NULL;
		if (item) {
			cJSON_AddItemToArray(out, unname(item));
			continue;
		}
		if (out)
			cJSON_Delete(out);
		else
			cJSON_Delete(v[i]);
		out = NULL;
	}
	free(v);
	return out;
}

/* One map entry's key and value into out.  Returns 0 or -1 (entry freed
 * either way). */
static int finish_entry(const struct vmodel *m, const struct vshape *s, cJSON *out, cJSON *entry,
			struct err *e)
{
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(entry, "key");
	cJSON *val = cJSON_DetachItemFromObjectCaseSensitive(entry, "value");
	int rc = 0;
	if (!cJSON_IsString(k) || !val) {
		rc = err_set(e, ERR_VALIDATION, "Map entry %s needs both a key and a value.",
			     entry->string);
	} else if (cJSON_GetObjectItemCaseSensitive(out, k->valuestring)) {
		char clip[AWSQUERY_ECHO_MAX + 4];
		rc = err_set(e, ERR_VALIDATION, "Map key '%s' is given twice.", echo(k->valuestring, clip));
	} else if ((val = finish(m, s->value, val, e))) {
		cJSON_AddItemToObject(out, k->valuestring, unname(val));
	} else {
		rc = -1;
	}
	if (rc && val)
		cJSON_Delete(val);
	cJSON_Delete(entry);
	return rc;
}

/* Entries keyed by index into an object of key -> value. */
static cJSON *finish_map(const struct vmodel *m, const struct vshape *s, cJSON *node,
			 struct err *e)
{
	size_t n;
	cJSON **v = children_by_index(node, &n);
	cJSON_Delete(node);
	cJSON *out = cJSON_CreateObject();
	for (size_t i = 0; i < n; i++) {
		if (!out) {
			cJSON_Delete(v[i]);
		} else if (finish_entry(m, s, out, v[i], e)) {
			cJSON_Delete(out);
			out = NULL;
		}
	}
	free(v);
	return out;
}

/* A structure's members, each finished, in their order. */
static cJSON *finish_structure(const struct vmodel *m, unsigned shape, cJSON *node,
			       struct err *e)
{
	cJSON *out = cJSON_CreateObject();
	while (out && node->child) {
		cJSON *c = cJSON_DetachItemViaPointer(node, node->child);
		char *name = xstrdup(c->string);
		const struct vmember *mem = validate_find_member(m, shape, name);
		cJSON *fin = mem ? finish(m, mem->shape, c, e) : c;
		if (fin) {
			cJSON_AddItemToObject(out, name, unname(fin));
		} else {
			cJSON_Delete(out);
			out = NULL;
		}
		free(name);
	}
	cJSON_Delete(node);
	return out;
}

/* The placed tree at node (owned) as the JSON shape wants it, or NULL with
 * e set (node freed either way). */
static cJSON *finish(const struct vmodel *m, unsigned shape, cJSON *node, struct err *e)
{
	const struct vshape *s = &m->shapes[shape];
	switch (s->type) {
	case VT_STRUCTURE:
		return finish_structure(m, shape, node, e);
	case VT_LIST:
		return finish_list(m, s, node, e);
	case VT_MAP:
		return finish_map(m, s, node, e);
	default:
		return node;
	}
}

int awsquery_to_json(const struct vmodel *m, unsigned shape, const struct awsquery_form *f,
		     cJSON **out, struct err *e)
{
	*out = NULL;
	cJSON *root = cJSON_CreateObject();
	if (shape == VSHAPE_NONE) { /* an operation without input: nothing to place */
		*out = root;
		return 0;
	}
	for (size_t i = 0; i < f->n; i++) {
		if (place(m, shape, root, &f->v[i], e)) {
			cJSON_Delete(root);
			return -1;
		}
	}
	*out = finish(m, shape, root, e);
	return *out ? 0 : -1;
}

/* ---- XML ---- */

struct xbuf {
	char *p;
	size_t n, cap;
};

static void xb_put(struct xbuf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		b->cap = (b->n + n + 1) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void xb_str(struct xbuf *b, const char *s)
{
	xb_put(b, s, strlen(s));
}

/* Bytes of the UTF-8 sequence at s (at most n), or 0 if it is not a
 * well-formed one. */
static size_t utf8_seq(const char *s, size_t n)
{
	unsigned char c = (unsigned char)*s;
	size_t len = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
	return len && len <= n && validate_utf8(s, len) ? len : 0;
}

/* s as XML character data.  Whatever XML cannot carry (a control, invalid
 * UTF-8 from a handler's bug) becomes U+FFFD rather than a body no client
 * can parse; CR is escaped so that XML's newline rule keeps it. */
static void xb_text(struct xbuf *b, const char *s)
{
	size_t n = strlen(s);
	for (size_t i = 0; i < n;) {
		size_t len = utf8_seq(s + i, n - i);
		const char *rep = NULL;
		switch (len ? s[i] : 0) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&apos;"; break;
		case '\r': rep = "&#13;"; break;
		case '\t': case '\n': break;
		default:
			if (!len || xml_forbidden(s + i, len))
				rep = "\xEF\xBF\xBD";
		}
		if (rep)
			xb_str(b, rep);
		else
			xb_put(b, s + i, len);
		i += len ? len : 1;
	}
}

/* Could name be an element's name?  Handlers' keys always are; anything
 * else is left out rather than break the document. */
static bool xml_name(const char *name)
{
	if (!name || !((*name >= 'A' && *name <= 'Z') || (*name >= 'a' && *name <= 'z') || *name == '_'))
		return false;
	return name[strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")] == '\0';
}

static void xb_value(struct xbuf *b, const cJSON *v);

static void xb_element(struct xbuf *b, const char *name, const cJSON *v)
{
	if (cJSON_IsNull(v) || !xml_name(name))
		return;
	xb_str(b, "<");
	xb_str(b, name);
	xb_str(b, ">");
	xb_value(b, v);
	xb_str(b, "</");
	xb_str(b, name);
	xb_str(b, ">");
}

/* The content of an element for v: members as elements, list items as
 * <member> elements, scalars as text. */
static void xb_value(struct xbuf *b, const cJSON *v)
{
	char num[64];
	if (cJSON_IsObject(v)) {
		for (const cJSON *c = v->child; c; c = c->next)
			xb_element(b, c->string, c);
	} else if (cJSON_IsArray(v)) {
		for (const cJSON *c = v->child; c; c = c->next)
			xb_element(b, "member", c);
	} else if (cJSON_IsBool(v)) {
		xb_str(b, cJSON_IsTrue(v) ? "true" : "false");
	} else if (cJSON_IsNumber(v)) {
		double x = v->valuedouble;
		if (!isfinite(x))
			snprintf(num, sizeof num, "0");
		else if (x == (double)(long long)x && fabs(x) < 9007199254740992.0)
			snprintf(num, sizeof num, "%lld", (long long)x);
		else
			snprintf(num, sizeof num, "%.17g", x);
		xb_str(b, num);
	} else if (cJSON_IsString(v)) {
		xb_text(b, v->valuestring);
	}
}

/* The Auto Scaling operations without an output shape, sorted: their
 * answer has no Result element.  Every other operation's has one, empty or
 * not, since botocore looks its result wrapper up by name and fails
 * without it.  (The generated tables keep inputs only; the API version is
 * fixed at 2011-01-01, and operations added to it come with outputs.) */
static const char *const no_output[] = {
	"AttachInstances", "CreateAutoScalingGroup", "CreateLaunchConfiguration",
	"CreateOrUpdateTags", "DeleteAutoScalingGroup", "DeleteLaunchConfiguration",
	"DeleteNotificationConfiguration", "DeletePolicy", "DeleteScheduledAction", "DeleteTags",
	"DisableMetricsCollection", "EnableMetricsCollection", "ExecutePolicy",
	"PutNotificationConfiguration", "PutScheduledUpdateGroupAction", "ResumeProcesses",
	"SetDesiredCapacity", "SetInstanceHealth", "SuspendProcesses", "UpdateAutoScalingGroup",
};

/* The IAM operations Berth serves that have no output shape. */
static const char *const iam_no_output[] = {
	"DeleteAccessKey", "DeleteUser", "DeleteUserPolicy", "PutUserPolicy", "UpdateAccessKey",
};

const struct awsquery_service awsquery_autoscaling = {
	"autoscaling", "2011-01-01", "http://autoscaling.amazonaws.com/doc/2011-01-01/",
	&validate_model_autoscaling, api_as_call, no_output, sizeof no_output / sizeof no_output[0],
};
const struct awsquery_service awsquery_iam = {
	"iam", "2010-05-08", "https://iam.amazonaws.com/doc/2010-05-08/",
	&validate_model_iam, api_iam_call, iam_no_output, sizeof iam_no_output / sizeof iam_no_output[0],
};

static int by_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool svc_has_output(const struct awsquery_service *svc, const char *action)
{
	return !bsearch(&action, svc->no_output, svc->n_no_output, sizeof svc->no_output[0], by_str);
}

bool awsquery_has_output(const char *action)
{
	return svc_has_output(&awsquery_autoscaling, action);
}

char *awsquery_render_svc(const struct awsquery_service *svc, const char *action, const cJSON *out,
			  const char *request_id)
{
	struct xbuf b = {0};
	xb_str(&b, "<");
	xb_str(&b, action);
	xb_str(&b, "Response xmlns=\"");
	xb_str(&b, svc->xmlns);
	xb_str(&b, "\">");
	if (svc_has_output(svc, action)) {
		xb_str(&b, "<");
		xb_str(&b, action);
		xb_str(&b, "Result>");
		xb_value(&b, out);
		xb_str(&b, "</");
		xb_str(&b, action);
		xb_str(&b, "Result>");
	}
	xb_str(&b, "<ResponseMetadata><RequestId>");
	xb_text(&b, request_id);
	xb_str(&b, "</RequestId></ResponseMetadata></");
	xb_str(&b, action);
	xb_str(&b, "Response>");
	return b.p;
}

char *awsquery_render(const char *action, const cJSON *out, const char *request_id)
{
	return awsquery_render_svc(&awsquery_autoscaling, action, out, request_id);
}

/* Server-side faults are the Receiver's; everything else the Sender's
 * (ResourceContention too, a retryable 500 the model calls a sender
 * fault). */
static bool receiver_fault(int code)
{
	return code == ERR_SERVER || code == ERR_UNAVAILABLE || code <= 0 || code >= ERR__COUNT;
}

char *awsquery_render_error_svc(const struct awsquery_service *svc, int code, const char *msg,
				const char *request_id)
{
	struct xbuf b = {0};
	xb_str(&b, "<ErrorResponse xmlns=\"");
	xb_str(&b, svc->xmlns);
	xb_str(&b, "\"><Error><Type>");
	xb_str(&b, receiver_fault(code) ? "Receiver" : "Sender");
	xb_str(&b, "</Type><Code>");
	xb_text(&b, api_error_type(code));
	xb_str(&b, "</Code><Message>");
	xb_text(&b, msg);
	xb_str(&b, "</Message></Error><RequestId>");
	xb_text(&b, request_id);
	xb_str(&b, "</RequestId></ErrorResponse>");
	return b.p;
}

char *awsquery_render_error(int code, const char *msg, const char *request_id)
{
	return awsquery_render_error_svc(&awsquery_autoscaling, code, msg, request_id);
}

void awsquery_error_svc(const struct awsquery_service *svc, struct http_req *r, int code, const char *msg)
{
	free(r->resp);
	r->resp = awsquery_render_error_svc(svc, code, msg, r->request_id);
	r->resp_len = strlen(r->resp);
	r->status = api_error_status(code);
	r->resp_ctype = "text/xml";
}

void awsquery_error(struct http_req *r, int code, const char *msg)
{
	free(r->resp);
	r->resp = awsquery_render_error(code, msg, r->request_id);
	r->resp_len = strlen(r->resp);
	r->status = api_error_status(code);
	r->resp_ctype = "text/xml";
}

/* ---- one request ---- */

/* The service a request's Version names (NULL: none of ours). */
static const struct awsquery_service *const services[] = {&awsquery_autoscaling, &awsquery_iam};

const struct awsquery_service *awsquery_service_of(const char *version)
{
	for (size_t i = 0; version && i < sizeof services / sizeof services[0]; i++)
		if (strcmp(version, services[i]->version) == 0)
			return services[i];
	return NULL;
}

/* Action and Version, checked as AWS does; returns the operation or NULL
 * with e set. */
static const struct vop *query_op(const struct awsquery_form *f, const struct awsquery_service *svc,
				  struct err *e)
{
	const char *action = awsquery_form_get(f, "Action");
	const char *version = awsquery_form_get(f, "Version");
	if (!action || !*action) {
		err_set(e, ERR_MISSING_ACTION, "The request must contain the parameter Action.");
		return NULL;
	}
	const struct vop *op = svc ? validate_find_op(svc->model, action) : NULL;
	if (!op) {
		char a[AWSQUERY_ECHO_MAX + 4], v[AWSQUERY_ECHO_MAX + 4];
		err_set(e, ERR_INVALID_ACTION, "Could not find operation %s for version %s",
			echo(action, a), version && *version ? echo(version, v) : "NO_VERSION_SPECIFIED");
		return NULL;
	}
	return op;
}

int awsquery_call(struct api_ctx *ctx, struct http_req *r)
{
	struct awsquery_form f;
	struct err e;
	err_clear(&e);
	cJSON *in = NULL, *out = NULL;
	const struct vop *op = NULL;
	const struct awsquery_service *svc = NULL;
	bool ok = false;
	if (awsquery_form_parse(r->body ? r->body : "", r->len, &f, &e) == 0 &&
	    (svc = awsquery_service_of(awsquery_form_get(&f, "Version")), op = query_op(&f, svc, &e)) &&
	    awsquery_to_json(op->model, op->input, &f, &in, &e) == 0) {
		char region[64];
		if (awsjson_auth_region(r->auth, region, sizeof region))
			ctx->region = region;
		if (svc->call(ctx, op->name, in, &out, &e) == 0) {
			ok = true;
			free(r->resp);
			r->resp = awsquery_render_svc(svc, op->name, out, r->request_id);
			r->resp_len = strlen(r->resp);
			r->status = 200;
			r->resp_ctype = "text/xml";
		}
		ctx->region = NULL; /* region pointed into this frame */
	}
	int code = 0;
	if (!ok) {
		code = e.code ? e.code : ERR_SERVER;
		awsquery_error_svc(svc ? svc : &awsquery_autoscaling, r, code, e.msg);
	}
	awsquery_form_release(&f);
	cJSON_Delete(in);
	cJSON_Delete(out);
	return code;
}
