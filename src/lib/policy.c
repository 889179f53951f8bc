/* policy: see policy.h.
 *
 * A parsed document is five flat arrays and a string pool, all owned by
 * struct policy: statements point at ranges of patterns (Action, Resource)
 * and of conditions; a condition at a range of values; a value at one
 * pattern (six for an ARN, one a part); a pattern at a range of tokens; a
 * token at text in the pool.  Indexes, not pointers, because the arrays
 * grow while parsing.
 *
 * Parsing checks in the order IAM seems to complain in: the bytes (size,
 * UTF-8, depth), the JSON, the top level (Version, Statement), then each
 * statement (Sid, Principal, Effect, Action, Resource, Condition), then the
 * Sids' unity.
 * On any error the half-built policy is freed and nothing is returned.
 *
 * The matcher is the usual glob with one backtrack point (the last '*'),
 * so it is O(pattern x text) at worst and needs no memory; it walks tokens
 * with a cursor, so a variable's value is matched where it lies in the
 * request, never copied.  '?' and the '*' backtrack step over one UTF-8
 * character, not one byte. */
#include "lib/policy.h"

#include <arpa/inet.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "lib/xalloc.h"

#define MSG_SYNTAX    "Syntax errors in policy."
#define MSG_LEGACY    "The policy failed legacy parsing"
#define MSG_VERSION   "Policy document must be version 2012-10-17 or greater."
#define MSG_PRINCIPAL "Policy document should not specify a principal."
#define MSG_EFFECT    "Missing required field Effect"
#define MSG_STATEMENT "Missing required field Statement"
#define MSG_ACTIONS   "Policy statement must contain actions."
#define MSG_RESOURCES "Policy statement must contain resources."
#define MSG_VENDOR    "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
#define MSG_ONE_COLON "Actions/Condition can contain only one colon."
#define MSG_SID_CHARS                                                                                        \
	"Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression " \
	"[0-9A-Za-z]*"
#define MSG_SID_UNIQUE "Statement IDs (SID) in a single policy must be unique."

enum tok_kind { TOK_LIT, TOK_STAR, TOK_QMARK, TOK_VAR };

struct tok {
	uint8_t kind;
	uint8_t has_def;           /* TOK_VAR: a default value follows */
	uint32_t off, len;         /* LIT: the text; VAR: the key (NUL-terminated) */
	uint32_t def_off, def_len; /* VAR: the default */
};

struct pat {
	uint32_t tok, ntok;
	uint8_t all; /* only '*' tokens: matches anything */
	uint8_t has_var;
};

/* How a condition operator compares. */
enum kind { K_STR, K_STR_IC, K_LIKE, K_NUM, K_DATE, K_BOOL, K_BIN, K_IP, K_ARN, K_NULL };
enum cmp { C_EQ, C_LT, C_LE, C_GT, C_GE };
enum set { SET_NONE, SET_ANY, SET_ALL };

struct val {
	uint32_t pat;
	uint8_t npat; /* 1; 6 for an ARN; 0: an ARN of fewer parts, never matches */
	/* K_NUM, K_DATE, K_IP: the value parsed; K_BOOL, K_NULL: 1 "true", 0 "false", 2 neither */
	uint8_t ok;
	uint8_t family, prefix; /* K_IP: 4 or 6, the prefix length in bits */
	uint8_t addr[16];       /* K_IP */
	double num;             /* K_NUM; K_DATE: milliseconds since the epoch */
};

struct cond {
	uint8_t kind, cmp, neg, set, if_exists;
	uint32_t key; /* pool offset, NUL-terminated */
	uint32_t val, nval;
};

struct stmt {
	uint8_t deny, not_action, not_resource;
	uint32_t sid; /* pool offset; "" when absent */
	uint32_t act, nact, res, nres, cond, ncond;
};

struct policy {
	int v2012; /* Version 2012-10-17: policy variables are substituted */
	struct stmt *st;
	struct cond *co;
	struct val *va;
	struct pat *pa;
	struct tok *to;
	char *pool;
	size_t nst, nco, nva, npa, nto, npool;
	size_t cst, cco, cva, cpa, cto, cpool; /* capacities, while parsing */
};

static const struct op_def {
	const char *name;
	uint8_t kind, cmp, neg;
} op_table[] = {
    {"StringEquals", K_STR, C_EQ, 0},
    {"StringNotEquals", K_STR, C_EQ, 1},
    {"StringEqualsIgnoreCase", K_STR_IC, C_EQ, 0},
    {"StringNotEqualsIgnoreCase", K_STR_IC, C_EQ, 1},
    {"StringLike", K_LIKE, C_EQ, 0},
    {"StringNotLike", K_LIKE, C_EQ, 1},
    {"NumericEquals", K_NUM, C_EQ, 0},
    {"NumericNotEquals", K_NUM, C_EQ, 1},
    {"NumericLessThan", K_NUM, C_LT, 0},
    {"NumericLessThanEquals", K_NUM, C_LE, 0},
    {"NumericGreaterThan", K_NUM, C_GT, 0},
    {"NumericGreaterThanEquals", K_NUM, C_GE, 0},
    {"DateEquals", K_DATE, C_EQ, 0},
    {"DateNotEquals", K_DATE, C_EQ, 1},
    {"DateLessThan", K_DATE, C_LT, 0},
    {"DateLessThanEquals", K_DATE, C_LE, 0},
    {"DateGreaterThan", K_DATE, C_GT, 0},
    {"DateGreaterThanEquals", K_DATE, C_GE, 0},
    {"Bool", K_BOOL, C_EQ, 0},
    {"BinaryEquals", K_BIN, C_EQ, 0},
    {"IpAddress", K_IP, C_EQ, 0},
    {"NotIpAddress", K_IP, C_EQ, 1},
    {"ArnEquals", K_ARN, C_EQ, 0},
    {"ArnLike", K_ARN, C_EQ, 0},
    {"ArnNotEquals", K_ARN, C_EQ, 1},
    {"ArnNotLike", K_ARN, C_EQ, 1},
    {"Null", K_NULL, C_EQ, 0},
};

/* ---- small helpers ---- */

static inline unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static bool eq_icase(const char *a, const char *b)
{
	while (*a && lower((unsigned char)*a) == lower((unsigned char)*b)) {
		a++;
		b++;
	}
	return lower((unsigned char)*a) == lower((unsigned char)*b);
}

/* The length of the valid UTF-8 sequence at s (at most n bytes), 0 if
 * invalid: no overlong forms, no surrogates, nothing past U+10FFFF. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t k;
	unsigned char lo = 0x80, hi = 0xbf;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		k = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		k = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		k = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (n < k || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < k; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return k;
}

/* The bytes before JSON sees them: valid UTF-8, no NUL (raw or \u0000,
 * which would cut a C string short), at most POLICY_MAX_DEPTH levels. */
static int scan_bytes(const char *json, size_t len)
{
	const unsigned char *s = (const unsigned char *)json;
	size_t depth = 0;
	bool in_str = false;
	for (size_t i = 0; i < len;) {
		unsigned char c = s[i];
		if (c == 0)
			return -1;
		if (c >= 0x80) {
			size_t k = utf8_seq(s + i, len - i);
			if (!k)
				return -1;
			i += k;
			continue;
		}
		if (in_str) {
			if (c == '\\' && i + 1 < len && s[i + 1] < 0x80) {
				if (s[i + 1] == 'u' && i + 5 < len && s[i + 2] == '0' && s[i + 3] == '0' &&
				    s[i + 4] == '0' && s[i + 5] == '0')
					return -1;
				i += 2;
				continue;
			}
			if (c == '"')
				in_str = false;
		} else if (c == '"') {
			in_str = true;
		} else if (c == '[' || c == '{') {
			if (++depth > POLICY_MAX_DEPTH)
				return -1;
		} else if ((c == ']' || c == '}') && depth) {
			depth--;
		}
		i++;
	}
	return 0;
}

/* ---- the builder ---- */

#define GROW(arr, n, cap)                                                                                    \
	do {                                                                                                 \
		if ((n) == (cap)) {                                                                          \
			(cap) = (cap) ? 2 * (cap) : 8;                                                       \
			(arr) = xrealloc((arr), (cap) * sizeof *(arr));                                      \
		}                                                                                            \
	} while (0)

static void pool_putc(struct policy *p, char c)
{
	GROW(p->pool, p->npool, p->cpool);
	p->pool[p->npool++] = c;
}

/* Append n bytes and a NUL; returns their offset. */
static uint32_t pool_add(struct policy *p, const char *s, size_t n)
{
	uint32_t off = (uint32_t)p->npool;
	for (size_t i = 0; i < n; i++)
		pool_putc(p, s[i]);
	pool_putc(p, '\0');
	return off;
}

static uint32_t tok_add(struct policy *p, uint8_t kind)
{
	GROW(p->to, p->nto, p->cto);
	memset(&p->to[p->nto], 0, sizeof p->to[0]);
	p->to[p->nto].kind = kind;
	return (uint32_t)p->nto++;
}

static void pat_begin(struct policy *p)
{
	GROW(p->pa, p->npa, p->cpa);
	memset(&p->pa[p->npa], 0, sizeof p->pa[0]);
	p->pa[p->npa].tok = (uint32_t)p->nto;
	p->npa++;
}

static void pat_end(struct policy *p)
{
	struct pat *pt = &p->pa[p->npa - 1];
	pt->ntok = (uint32_t)p->nto - pt->tok;
	pt->all = pt->ntok > 0;
	for (uint32_t i = 0; i < pt->ntok; i++) {
		uint8_t k = p->to[pt->tok + i].kind;
		if (k != TOK_STAR)
			pt->all = 0;
		if (k == TOK_VAR)
			pt->has_var = 1;
	}
}

static const char *skip_sp(const char *s, const char *end)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	return s;
}

static const char *trim_end(const char *s, const char *end)
{
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	return end;
}

/* The '}' that closes a variable whose text starts at s, skipping quoted
 * defaults ('' is a quote inside one); NULL if none. */
static const char *var_close(const char *s)
{
	bool q = false;
	for (; *s; s++) {
		if (*s == '\'') {
			if (q && s[1] == '\'')
				s++;
			else
				q = !q;
		} else if (*s == '}' && !q) {
			return s;
		}
	}
	return NULL;
}

/* Emit the variable whose text is [s, end): a TOK_VAR, or for ${*} ${?}
 * ${$} the character itself, appended to the literal run *lit (-1: none).
 * A default that is not one quoted string leaves a variable that never
 * resolves. */
static void emit_var(struct policy *p, const char *s, const char *end, long *lit)
{
	s = skip_sp(s, end);
	end = trim_end(s, end);
	if (end - s == 1 && (*s == '*' || *s == '?' || *s == '$')) {
		if (*lit < 0) {
			*lit = tok_add(p, TOK_LIT);
			p->to[*lit].off = (uint32_t)p->npool;
		}
		pool_putc(p, *s);
		p->to[*lit].len++;
		return;
	}
	const char *comma = memchr(s, ',', (size_t)(end - s));
	const char *kend = trim_end(s, comma ? comma : end);
	uint32_t key = pool_add(p, s, (size_t)(kend - s));
	uint32_t t = tok_add(p, TOK_VAR);
	p->to[t].off = key;
	p->to[t].len = (uint32_t)(kend - s);
	*lit = -1;
	if (!comma)
		return;
	const char *d = skip_sp(comma + 1, end);
	if (end - d < 2 || *d != '\'' || end[-1] != '\'') {
		p->to[t].len = 0; /* never resolves */
		return;
	}
	uint32_t off = (uint32_t)p->npool, n = 0;
	for (const char *c = d + 1; c < end - 1; c++) {
		if (*c == '\'') {
			if (c + 1 < end - 1 && c[1] == '\'') {
				c++;
			} else { /* a lone quote: not one string */
				p->to[t].len = 0;
				return;
			}
		}
		pool_putc(p, *c);
		n++;
	}
	p->to[t].has_def = 1;
	p->to[t].def_off = off;
	p->to[t].def_len = n;
}

/* Compile s into patterns: glob makes '*' and '?' wildcards, vars reads
 * ${...}, split cuts an ARN into its six parts at the first five literal
 * ':'.  Returns the number of patterns made (1 or 6), or 0 for an ARN of
 * fewer parts (nothing is kept). */
static uint8_t compile(struct policy *p, const char *s, bool glob, bool vars, bool split)
{
	size_t first_pat = p->npa, first_tok = p->nto;
	unsigned parts = 1;
	long lit = -1;
	pat_begin(p);
	for (const char *c = s; *c;) {
		if (split && *c == ':' && parts < 6) {
			pat_end(p);
			pat_begin(p);
			parts++;
			lit = -1;
			c++;
			continue;
		}
		if (glob && (*c == '*' || *c == '?')) {
			tok_add(p, *c == '*' ? TOK_STAR : TOK_QMARK);
			lit = -1;
			c++;
			continue;
		}
		if (vars && c[0] == '$' && c[1] == '{') {
			const char *close = var_close(c + 2);
			if (close) {
				emit_var(p, c + 2, close, &lit);
				c = close + 1;
				continue;
			}
		}
		if (lit < 0) {
			lit = tok_add(p, TOK_LIT);
			p->to[lit].off = (uint32_t)p->npool;
		}
		pool_putc(p, *c);
		p->to[lit].len++;
		c++;
	}
	pat_end(p);
	if (split && parts < 6) {
		p->npa = first_pat;
		p->nto = first_tok;
		return 0;
	}
	return (uint8_t)parts;
}

/* ---- the matcher ---- */

struct gpos {
	uint32_t ti;   /* token */
	const char *s; /* LIT or VAR: its text */
	size_t n, i;   /* its length, the next character */
};

/* The value of variable t in r: the key's one value, else the default.
 * Returns 0, or -1 when neither. */
static int var_value(const struct policy *p, const struct tok *t, const struct policy_request *r,
                     const char **s, size_t *n)
{
	const char *hit = NULL;
	size_t count = 0;
	if (t->len) {
		const char *key = p->pool + t->off;
		for (size_t i = 0; i < r->n_ctx; i++) {
			const struct policy_kv *kv = &r->ctx[i];
			if (kv->key && kv->value && eq_icase(kv->key, key)) {
				hit = kv->value;
				count++;
			}
		}
	}
	if (count == 1) {
		*s = hit;
		*n = strlen(hit);
		return 0;
	}
	if (t->has_def) {
		*s = p->pool + t->def_off;
		*n = t->def_len;
		return 0;
	}
	return -1;
}

struct matcher {
	const struct policy *p;
	const struct tok *t;
	uint32_t nt;
	const struct policy_request *r;
	bool icase;
};

static void gpos_load(const struct matcher *m, struct gpos *g)
{
	g->i = g->n = 0;
	g->s = "";
	if (g->ti >= m->nt)
		return;
	const struct tok *t = &m->t[g->ti];
	if (t->kind == TOK_LIT) {
		g->s = m->p->pool + t->off;
		g->n = t->len;
	} else if (t->kind == TOK_VAR) {
		(void)var_value(m->p, t, m->r, &g->s, &g->n); /* checked before */
	}
}

#define U_END  (-1)
#define U_STAR (-2)
#define U_QM   (-3)

/* The unit at g: a character, a wildcard or the end. */
static int gpos_unit(const struct matcher *m, struct gpos *g)
{
	for (;;) {
		if (g->ti >= m->nt)
			return U_END;
		uint8_t k = m->t[g->ti].kind;
		if (k == TOK_STAR)
			return U_STAR;
		if (k == TOK_QMARK)
			return U_QM;
		if (g->i < g->n)
			return (unsigned char)g->s[g->i];
		g->ti++;
		gpos_load(m, g);
	}
}

static void gpos_next(const struct matcher *m, struct gpos *g)
{
	uint8_t k = m->t[g->ti].kind;
	if (k == TOK_STAR || k == TOK_QMARK) {
		g->ti++;
		gpos_load(m, g);
	} else {
		g->i++;
	}
}

/* The index after the UTF-8 character at s[i]. */
static size_t next_char(const char *s, size_t n, size_t i)
{
	i++;
	while (i < n && ((unsigned char)s[i] & 0xc0) == 0x80)
		i++;
	return i;
}

static bool pat_match(const struct policy *p, const struct pat *pt, const char *s, size_t n, bool icase,
                      const struct policy_request *r)
{
	if (pt->all)
		return true;
	const struct tok *t = p->to + pt->tok;
	if (pt->ntok == 1 && t->kind == TOK_LIT) {
		const char *lit = p->pool + t->off;
		if (t->len != n)
			return false;
		if (!icase)
			return memcmp(lit, s, n) == 0;
		for (size_t i = 0; i < n; i++)
			if (lower((unsigned char)lit[i]) != lower((unsigned char)s[i]))
				return false;
		return true;
	}
	if (pt->has_var) {
		const char *vs;
		size_t vn;
		for (uint32_t i = 0; i < pt->ntok; i++)
			if (t[i].kind == TOK_VAR && var_value(p, &t[i], r, &vs, &vn) < 0)
				return false;
	}
	struct matcher m = {p, t, pt->ntok, r, icase};
	struct gpos g = {0}, star = {0};
	size_t i = 0, star_i = 0;
	bool have_star = false;
	gpos_load(&m, &g);
	for (;;) {
		int u = gpos_unit(&m, &g);
		if (u == U_STAR) {
			gpos_next(&m, &g);
			have_star = true;
			star = g;
			star_i = i;
			continue;
		}
		if (i == n)
			return u == U_END;
		if (u == U_QM) {
			gpos_next(&m, &g);
			i = next_char(s, n, i);
			continue;
		}
		if (u >= 0 && (icase ? lower((unsigned char)u) == lower((unsigned char)s[i])
		                     : (unsigned char)u == (unsigned char)s[i])) {
			gpos_next(&m, &g);
			i++;
			continue;
		}
		if (!have_star)
			return false;
		star_i = next_char(s, n, star_i);
		i = star_i;
		g = star;
	}
}

/* ---- parsing ---- */

static int syntax(struct err *e)
{
	return err_set(e, POLICY_ERR_MALFORMED, MSG_SYNTAX);
}

/* Object o's children are all named in names[] (n of them), none twice;
 * seen[i] gets the child named names[i] (or NULL). */
static int object_fields(const cJSON *o, const char *const *names, size_t n, const cJSON **seen,
                         struct err *e)
{
	for (size_t i = 0; i < n; i++)
		seen[i] = NULL;
	for (const cJSON *c = o->child; c; c = c->next) {
		size_t i = 0;
		while (i < n && strcmp(c->string, names[i]) != 0)
			i++;
		if (i == n || seen[i])
			return syntax(e);
		seen[i] = c;
	}
	return 0;
}

/* Object o's keys are distinct (exactly). */
static int distinct_keys(const cJSON *o, struct err *e)
{
	for (const cJSON *a = o->child; a; a = a->next)
		for (const cJSON *b = a->next; b; b = b->next)
			if (strcmp(a->string, b->string) == 0)
				return syntax(e);
	return 0;
}

/* A string or a non-empty array of strings; *n gets the count. */
static int string_list(const cJSON *v, size_t *n, struct err *e)
{
	*n = 0;
	if (cJSON_IsString(v)) {
		*n = 1;
		return 0;
	}
	if (!cJSON_IsArray(v))
		return syntax(e);
	for (const cJSON *c = v->child; c; c = c->next) {
		if (!cJSON_IsString(c))
			return syntax(e);
		(*n)++;
	}
	return 0;
}

static const cJSON *list_item(const cJSON *v, const cJSON *prev)
{
	if (cJSON_IsString(v))
		return prev ? NULL : v;
	return prev ? prev->next : v->child;
}

static int check_action(const char *a, struct err *e)
{
	if (strcmp(a, "*") == 0)
		return 0;
	const char *colon = strchr(a, ':');
	if (!colon || colon == a)
		return err_set(e, POLICY_ERR_MALFORMED, MSG_VENDOR);
	if (strchr(colon + 1, ':'))
		return err_set(e, POLICY_ERR_MALFORMED, MSG_ONE_COLON);
	return 0;
}

static int parse_actions(struct policy *p, struct stmt *st, const cJSON *v, struct err *e)
{
	size_t n;
	if (string_list(v, &n, e) < 0)
		return -1;
	if (n == 0)
		return err_set(e, POLICY_ERR_MALFORMED, MSG_ACTIONS);
	st->act = (uint32_t)p->npa;
	for (const cJSON *c = list_item(v, NULL); c; c = list_item(v, c)) {
		if (check_action(c->valuestring, e) < 0)
			return -1;
		compile(p, c->valuestring, true, false, false);
	}
	st->nact = (uint32_t)(p->npa - st->act);
	return 0;
}

static int parse_resources(struct policy *p, struct stmt *st, const cJSON *v, struct err *e)
{
	size_t n;
	if (string_list(v, &n, e) < 0)
		return -1;
	if (n == 0)
		return err_set(e, POLICY_ERR_MALFORMED, MSG_RESOURCES);
	st->res = (uint32_t)p->npa;
	for (const cJSON *c = list_item(v, NULL); c; c = list_item(v, c)) {
		const char *s = c->valuestring;
		if (strcmp(s, "*") != 0 && strncmp(s, "arn:", 4) != 0)
			return err_set(e, POLICY_ERR_MALFORMED, "Resource %s must be in ARN format or \"*\".",
			               s);
		compile(p, s, true, p->v2012, false);
	}
	st->nres = (uint32_t)(p->npa - st->res);
	return 0;
}

/* A decimal number, whole: -?digits(.digits)?(e[+-]?digits)?.  At most
 * 64 characters, so strtod never needs the heap. */
static bool parse_number(const char *s, double *out)
{
	const char *c = s;
	if (*c == '-' || *c == '+')
		c++;
	if (!(*c >= '0' && *c <= '9'))
		return false;
	while (*c >= '0' && *c <= '9')
		c++;
	if (*c == '.') {
		c++;
		if (!(*c >= '0' && *c <= '9'))
			return false;
		while (*c >= '0' && *c <= '9')
			c++;
	}
	if (*c == 'e' || *c == 'E') {
		c++;
		if (*c == '-' || *c == '+')
			c++;
		if (!(*c >= '0' && *c <= '9'))
			return false;
		while (*c >= '0' && *c <= '9')
			c++;
	}
	if (*c || c - s > 64)
		return false;
	*out = strtod(s, NULL);
	return true;
}

static int digits(const char **c, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++, (*c)++) {
		if (**c < '0' || **c > '9')
			return -1;
		v = v * 10 + (**c - '0');
	}
	*out = v;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* A date as IAM takes one: epoch seconds, or ISO 8601
 * (YYYY-MM-DD[Thh:mm[:ss[.fff]]][Z|+hh:mm|-hh:mm|+hhmm]).  *ms: milliseconds
 * since the epoch. */
static bool parse_date(const char *s, double *ms)
{
	double secs;
	if (strchr(s, '-') == NULL || (s[0] == '-' && strchr(s + 1, '-') == NULL)) {
		if (!parse_number(s, &secs))
			return false;
		*ms = secs * 1000.0;
		return true;
	}
	const char *c = s;
	int y, mo, d, h = 0, mi = 0, se = 0, frac = 0, tz = 0;
	if (digits(&c, 4, &y) < 0 || *c++ != '-' || digits(&c, 2, &mo) < 0 || *c++ != '-' ||
	    digits(&c, 2, &d) < 0)
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > 31)
		return false;
	if (*c == 'T' || *c == 't') {
		c++;
		if (digits(&c, 2, &h) < 0 || *c++ != ':' || digits(&c, 2, &mi) < 0)
			return false;
		if (*c == ':') {
			c++;
			if (digits(&c, 2, &se) < 0)
				return false;
			if (*c == '.') {
				int scale = 100;
				c++;
				if (*c < '0' || *c > '9')
					return false;
				while (*c >= '0' && *c <= '9') {
					frac += (*c - '0') * scale;
					scale /= 10;
					c++;
				}
			}
		}
		if (h > 23 || mi > 59 || se > 60)
			return false;
		if (*c == 'Z' || *c == 'z') {
			c++;
		} else if (*c == '+' || *c == '-') {
			int sign = *c++ == '-' ? -1 : 1, th, tm;
			if (digits(&c, 2, &th) < 0)
				return false;
			if (*c == ':')
				c++;
			if (digits(&c, 2, &tm) < 0 || th > 23 || tm > 59)
				return false;
			tz = sign * (th * 60 + tm);
		}
	}
	if (*c)
		return false;
	int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - tz * 60;
	*ms = (double)t * 1000.0 + frac;
	return true;
}

/* An IPv4 or IPv6 address, with a /prefix when cidr allows one. */
static bool parse_ip(const char *s, bool cidr, struct val *v)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	if (n == 0 || n >= sizeof buf || (slash && !cidr))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	memset(v->addr, 0, sizeof v->addr);
	if (inet_pton(AF_INET, buf, v->addr) == 1)
		v->family = 4;
	else if (inet_pton(AF_INET6, buf, v->addr) == 1)
		v->family = 6;
	else
		return false;
	unsigned max = v->family == 4 ? 32 : 128, bits = max;
	if (slash) {
		const char *c = slash + 1;
		if (!*c || strlen(c) > 3)
			return false;
		bits = 0;
		for (; *c; c++) {
			if (*c < '0' || *c > '9')
				return false;
			bits = bits * 10 + (unsigned)(*c - '0');
		}
		if (bits > max)
			return false;
	}
	v->prefix = (uint8_t)bits;
	return true;
}

static bool is_true(const char *s)
{
	return eq_icase(s, "true");
}

/* One condition value (a string, number or boolean) as text in buf. */
static const char *value_text(const cJSON *v, char *buf, size_t n)
{
	if (cJSON_IsString(v))
		return v->valuestring;
	if (cJSON_IsBool(v))
		return cJSON_IsTrue(v) ? "true" : "false";
	double d = v->valuedouble;
	if (d > -1e15 && d < 1e15 && d == (double)(long long)d)
		snprintf(buf, n, "%.0f", d);
	else
		snprintf(buf, n, "%.17g", d);
	return buf;
}

static void parse_value(struct policy *p, const struct cond *c, const cJSON *item)
{
	char buf[64];
	const char *s = value_text(item, buf, sizeof buf);
	GROW(p->va, p->nva, p->cva);
	struct val *v = &p->va[p->nva];
	memset(v, 0, sizeof *v);
	switch (c->kind) {
	case K_STR:
	case K_STR_IC:
		v->pat = (uint32_t)p->npa;
		v->npat = compile(p, s, false, p->v2012, false);
		break;
	case K_LIKE:
		v->pat = (uint32_t)p->npa;
		v->npat = compile(p, s, true, p->v2012, false);
		break;
	case K_BIN:
		v->pat = (uint32_t)p->npa;
		v->npat = compile(p, s, false, false, false);
		break;
	case K_ARN:
		v->pat = (uint32_t)p->npa;
		v->npat = compile(p, s, true, p->v2012, true);
		break;
	case K_NUM:
		if (cJSON_IsNumber(item)) {
			v->num = item->valuedouble;
			v->ok = !isnan(v->num);
		} else {
			v->ok = parse_number(s, &v->num);
		}
		break;
	case K_DATE:
		v->ok = parse_date(s, &v->num);
		break;
	case K_IP:
		v->ok = parse_ip(s, true, v);
		break;
	case K_BOOL:
	case K_NULL:
		v->ok = is_true(s) ? 1 : eq_icase(s, "false") ? 0 : 2; /* 2: neither, never matches */
		break;
	}
	p->nva++;
}

static int parse_operator(const char *name, struct cond *c, struct err *e)
{
	const char *base = name;
	size_t n;
	c->set = SET_NONE;
	c->if_exists = 0;
	if (strncmp(base, "ForAnyValue:", 12) == 0) {
		c->set = SET_ANY;
		base += 12;
	} else if (strncmp(base, "ForAllValues:", 13) == 0) {
		c->set = SET_ALL;
		base += 13;
	}
	n = strlen(base);
	if (n > 8 && strcmp(base + n - 8, "IfExists") == 0) {
		c->if_exists = 1;
		n -= 8;
	}
	for (size_t i = 0; i < sizeof op_table / sizeof op_table[0]; i++) {
		const struct op_def *d = &op_table[i];
		if (strlen(d->name) == n && strncmp(d->name, base, n) == 0) {
			if (d->kind == K_NULL && c->if_exists)
				break;
			c->kind = d->kind;
			c->cmp = d->cmp;
			c->neg = d->neg;
			return 0;
		}
	}
	return err_set(e, POLICY_ERR_MALFORMED, "Invalid Condition type : %s.", name);
}

static bool is_scalar(const cJSON *v)
{
	return cJSON_IsString(v) || cJSON_IsNumber(v) || cJSON_IsBool(v);
}

static int parse_conditions(struct policy *p, struct stmt *st, const cJSON *v, struct err *e)
{
	if (!cJSON_IsObject(v) || distinct_keys(v, e) < 0)
		return syntax(e);
	st->cond = (uint32_t)p->nco;
	for (const cJSON *op = v->child; op; op = op->next) {
		struct cond proto;
		memset(&proto, 0, sizeof proto);
		if (parse_operator(op->string, &proto, e) < 0)
			return -1;
		if (!cJSON_IsObject(op) || distinct_keys(op, e) < 0)
			return syntax(e);
		for (const cJSON *k = op->child; k; k = k->next) {
			const char *colon = strchr(k->string, ':');
			if (!colon || colon == k->string)
				return err_set(e, POLICY_ERR_MALFORMED, MSG_VENDOR);
			if (cJSON_IsArray(k)) {
				for (const cJSON *x = k->child; x; x = x->next)
					if (!is_scalar(x))
						return syntax(e);
			} else if (!is_scalar(k)) {
				return syntax(e);
			}
			GROW(p->co, p->nco, p->cco);
			size_t ci = p->nco++;
			p->co[ci] = proto;
			p->co[ci].key = pool_add(p, k->string, strlen(k->string));
			p->co[ci].val = (uint32_t)p->nva;
			if (cJSON_IsArray(k)) {
				for (const cJSON *x = k->child; x; x = x->next)
					parse_value(p, &p->co[ci], x);
			} else {
				parse_value(p, &p->co[ci], k);
			}
			p->co[ci].nval = (uint32_t)p->nva - p->co[ci].val;
		}
	}
	st->ncond = (uint32_t)(p->nco - st->cond);
	return 0;
}

static bool sid_ok(const char *s)
{
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')))
			return false;
	return true;
}

enum {
	F_SID,
	F_EFFECT,
	F_ACTION,
	F_NOTACTION,
	F_RESOURCE,
	F_NOTRESOURCE,
	F_CONDITION,
	F_PRINCIPAL,
	F_NOTPRINCIPAL,
	F_N
};
static const char *const stmt_fields[F_N] = {
    "Sid",         "Effect",    "Action",    "NotAction",    "Resource",
    "NotResource", "Condition", "Principal", "NotPrincipal",
};

static int parse_statement(struct policy *p, const cJSON *o, struct err *e)
{
	const cJSON *f[F_N];
	if (!cJSON_IsObject(o) || object_fields(o, stmt_fields, F_N, f, e) < 0)
		return syntax(e);
	GROW(p->st, p->nst, p->cst);
	struct stmt *st = &p->st[p->nst++];
	memset(st, 0, sizeof *st);
	if (f[F_SID]) {
		if (!cJSON_IsString(f[F_SID]))
			return syntax(e);
		if (!sid_ok(f[F_SID]->valuestring))
			return err_set(e, POLICY_ERR_MALFORMED, MSG_SID_CHARS);
		st->sid = pool_add(p, f[F_SID]->valuestring, strlen(f[F_SID]->valuestring));
	} else {
		st->sid = pool_add(p, "", 0);
	}
	if (f[F_PRINCIPAL] || f[F_NOTPRINCIPAL])
		return err_set(e, POLICY_ERR_MALFORMED, MSG_PRINCIPAL);
	if (!f[F_EFFECT])
		return err_set(e, POLICY_ERR_MALFORMED, MSG_EFFECT);
	if (!cJSON_IsString(f[F_EFFECT]))
		return syntax(e);
	if (strcmp(f[F_EFFECT]->valuestring, "Deny") == 0)
		st->deny = 1;
	else if (strcmp(f[F_EFFECT]->valuestring, "Allow") != 0)
		return err_set(e, POLICY_ERR_MALFORMED, "Invalid effect: %s", f[F_EFFECT]->valuestring);
	if (f[F_ACTION] && f[F_NOTACTION])
		return err_set(e, POLICY_ERR_MALFORMED,
		               "Policy statement must contain Action or NotAction, not both.");
	if (!f[F_ACTION] && !f[F_NOTACTION])
		return err_set(e, POLICY_ERR_MALFORMED, MSG_ACTIONS);
	st->not_action = f[F_ACTION] == NULL;
	if (parse_actions(p, st, f[F_ACTION] ? f[F_ACTION] : f[F_NOTACTION], e) < 0)
		return -1;
	if (f[F_RESOURCE] && f[F_NOTRESOURCE])
		return err_set(e, POLICY_ERR_MALFORMED,
		               "Policy statement must contain Resource or NotResource, not both.");
	if (!f[F_RESOURCE] && !f[F_NOTRESOURCE])
		return err_set(e, POLICY_ERR_MALFORMED, MSG_RESOURCES);
	st->not_resource = f[F_RESOURCE] == NULL;
	if (parse_resources(p, st, f[F_RESOURCE] ? f[F_RESOURCE] : f[F_NOTRESOURCE], e) < 0)
		return -1;
	if (f[F_CONDITION] && parse_conditions(p, st, f[F_CONDITION], e) < 0)
		return -1;
	return 0;
}

enum { D_VERSION, D_ID, D_STATEMENT, D_N };
static const char *const doc_fields[D_N] = {"Version", "Id", "Statement"};

static int parse_document(struct policy *p, const cJSON *root, unsigned flags, struct err *e)
{
	const cJSON *f[D_N];
	if (!cJSON_IsObject(root) || object_fields(root, doc_fields, D_N, f, e) < 0)
		return syntax(e);
	if (f[D_VERSION]) {
		if (!cJSON_IsString(f[D_VERSION]))
			return syntax(e);
		if (strcmp(f[D_VERSION]->valuestring, "2012-10-17") == 0)
			p->v2012 = 1;
		else if (strcmp(f[D_VERSION]->valuestring, "2008-10-17") != 0)
			return err_set(e, POLICY_ERR_MALFORMED, MSG_LEGACY);
	}
	if ((flags & POLICY_PARSE_MANAGED) && !p->v2012)
		return err_set(e, POLICY_ERR_MALFORMED, MSG_VERSION);
	if (f[D_ID] && !cJSON_IsString(f[D_ID]))
		return syntax(e);
	const cJSON *s = f[D_STATEMENT];
	if (!s)
		return err_set(e, POLICY_ERR_MALFORMED, MSG_STATEMENT);
	if (cJSON_IsObject(s)) {
		if (parse_statement(p, s, e) < 0)
			return -1;
	} else if (cJSON_IsArray(s)) {
		for (const cJSON *c = s->child; c; c = c->next)
			if (parse_statement(p, c, e) < 0)
				return -1;
	} else {
		return syntax(e);
	}
	for (size_t i = 0; i < p->nst; i++) {
		const char *a = p->pool + p->st[i].sid;
		if (!*a)
			continue;
		for (size_t j = i + 1; j < p->nst; j++)
			if (strcmp(a, p->pool + p->st[j].sid) == 0)
				return err_set(e, POLICY_ERR_MALFORMED, MSG_SID_UNIQUE);
	}
	return 0;
}

int policy_parse_flags(const char *json, size_t len, unsigned flags, struct policy **out, struct err *e)
{
	if (len > POLICY_MAX_BYTES)
		return err_set(e, POLICY_ERR_MALFORMED, "Policy document is %zu bytes; the limit is %d.", len,
		               POLICY_MAX_BYTES);
	if (!json || scan_bytes(json, len) < 0)
		return syntax(e);
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
	if (!root)
		return syntax(e);
	for (; end && end < json + len; end++) {
		if (*end != ' ' && *end != '\t' && *end != '\n' && *end != '\r') {
			cJSON_Delete(root);
			return syntax(e);
		}
	}
	struct policy *p = xcalloc(1, sizeof *p);
	int rc = parse_document(p, root, flags, e);
	cJSON_Delete(root);
	if (rc < 0) {
		policy_free(p);
		return -1;
	}
	*out = p;
	return 0;
}

int policy_parse(const char *json, size_t len, struct policy **out, struct err *e)
{
	return policy_parse_flags(json, len, 0, out, e);
}

void policy_free(struct policy *p)
{
	if (!p)
		return;
	free(p->st);
	free(p->co);
	free(p->va);
	free(p->pa);
	free(p->to);
	free(p->pool);
	free(p);
}

size_t policy_statement_count(const struct policy *p)
{
	return p->nst;
}

/* ---- evaluation ---- */

/* An ARN's six parts: [off, off+len) of s. */
static bool arn_split(const char *s, size_t n, const char *part[6], size_t len[6])
{
	size_t k = 0, start = 0;
	for (size_t i = 0; i < n && k < 5; i++) {
		if (s[i] == ':') {
			part[k] = s + start;
			len[k++] = i - start;
			start = i + 1;
		}
	}
	if (k < 5)
		return false;
	part[5] = s + start;
	len[5] = n - start;
	return true;
}

static bool cmp_num(uint8_t cmp, double a, double b)
{
	switch (cmp) {
	case C_LT:
		return a < b;
	case C_LE:
		return a <= b;
	case C_GT:
		return a > b;
	case C_GE:
		return a >= b;
	default:
		return a == b;
	}
}

static bool ip_in(const struct val *net, const struct val *a)
{
	if (net->family != a->family)
		return false;
	unsigned bits = net->prefix, i = 0;
	for (; bits >= 8; bits -= 8, i++)
		if (net->addr[i] != a->addr[i])
			return false;
	if (bits) {
		uint8_t mask = (uint8_t)(0xff << (8 - bits));
		if ((net->addr[i] & mask) != (a->addr[i] & mask))
			return false;
	}
	return true;
}

/* Does request value s match policy value v under c's operator, before
 * negation? */
static bool value_match(const struct policy *p, const struct cond *c, const struct val *v, const char *s,
                        const struct policy_request *r)
{
	size_t n = strlen(s);
	double x;
	switch (c->kind) {
	case K_STR:
	case K_LIKE:
	case K_BIN:
		return v->npat == 1 && pat_match(p, &p->pa[v->pat], s, n, false, r);
	case K_STR_IC:
		return v->npat == 1 && pat_match(p, &p->pa[v->pat], s, n, true, r);
	case K_ARN: {
		const char *part[6];
		size_t len[6];
		if (v->npat != 6 || !arn_split(s, n, part, len))
			return false;
		for (int i = 0; i < 6; i++)
			if (!pat_match(p, &p->pa[v->pat + i], part[i], len[i], false, r))
				return false;
		return true;
	}
	case K_NUM:
		return v->ok && parse_number(s, &x) && cmp_num(c->cmp, x, v->num);
	case K_DATE:
		return v->ok && parse_date(s, &x) && cmp_num(c->cmp, x, v->num);
	case K_BOOL:
		return (is_true(s) && v->ok == 1) || (eq_icase(s, "false") && v->ok == 0);
	case K_IP: {
		struct val a;
		return v->ok && parse_ip(s, false, &a) && ip_in(v, &a);
	}
	default:
		return false;
	}
}

/* Some policy value of c matches s (the positive operator). */
static bool any_value(const struct policy *p, const struct cond *c, const char *s,
                      const struct policy_request *r)
{
	for (uint32_t i = 0; i < c->nval; i++)
		if (value_match(p, c, &p->va[c->val + i], s, r))
			return true;
	return false;
}

static bool cond_holds(const struct policy *p, const struct cond *c, const struct policy_request *r)
{
	const char *key = p->pool + c->key;
	size_t present = 0;
	for (size_t i = 0; i < r->n_ctx; i++)
		if (r->ctx[i].key && r->ctx[i].value && eq_icase(r->ctx[i].key, key))
			present++;
	if (c->kind == K_NULL) {
		for (uint32_t i = 0; i < c->nval; i++)
			if (p->va[c->val + i].ok == (present == 0))
				return true;
		return false;
	}
	if (!present) {
		if (c->if_exists || c->set == SET_ALL)
			return true;
		if (c->set == SET_ANY)
			return false;
		return c->neg;
	}
	bool any = false;
	for (size_t i = 0; i < r->n_ctx; i++) {
		const struct policy_kv *kv = &r->ctx[i];
		if (!kv->key || !kv->value || !eq_icase(kv->key, key))
			continue;
		bool m = any_value(p, c, kv->value, r);
		if (c->set == SET_ALL && m == (bool)c->neg)
			return false; /* a value that fails */
		if (c->set == SET_ANY && m != (bool)c->neg)
			return true; /* a value that passes */
		if (m) {
			any = true;
			if (c->set == SET_NONE)
				break;
		}
	}
	if (c->set == SET_ALL)
		return true;
	if (c->set == SET_ANY)
		return false;
	return c->neg ? !any : any;
}

static bool stmt_matches(const struct policy *p, const struct stmt *st, const struct policy_request *r)
{
	const char *action = r->action;
	bool hit = false;
	if (action) {
		size_t n = strlen(action);
		for (uint32_t i = 0; i < st->nact && !hit; i++)
			hit = pat_match(p, &p->pa[st->act + i], action, n, true, r);
	}
	if (hit == (bool)st->not_action)
		return false;
	const char *res = r->resource ? r->resource : "*";
	size_t n = strlen(res);
	hit = false;
	for (uint32_t i = 0; i < st->nres && !hit; i++)
		hit = pat_match(p, &p->pa[st->res + i], res, n, false, r);
	if (hit == (bool)st->not_resource)
		return false;
	for (uint32_t i = 0; i < st->ncond; i++)
		if (!cond_holds(p, &p->co[st->cond + i], r))
			return false;
	return true;
}

enum policy_decision policy_eval_why(const struct policy *const *docs, size_t n,
                                     const struct policy_request *r, struct policy_match *why)
{
	struct policy_match allow = {n, 0, ""};
	bool allowed = false;
	for (size_t d = 0; d < n; d++) {
		const struct policy *p = docs[d];
		if (!p)
			continue;
		for (size_t i = 0; i < p->nst; i++) {
			const struct stmt *st = &p->st[i];
			if ((!st->deny && allowed) || !stmt_matches(p, st, r))
				continue;
			if (st->deny) {
				if (why)
					*why = (struct policy_match){d, i, p->pool + st->sid};
				return POLICY_EXPLICIT_DENY;
			}
			allowed = true;
			allow = (struct policy_match){d, i, p->pool + st->sid};
		}
	}
	if (why)
		*why = allow;
	return allowed ? POLICY_ALLOW : POLICY_IMPLICIT_DENY;
}

enum policy_decision policy_eval(const struct policy *const *docs, size_t n, const struct policy_request *r)
{
	return policy_eval_why(docs, n, r, NULL);
}

const char *policy_decision_name(enum policy_decision d)
{
	switch (d) {
	case POLICY_ALLOW:
		return "allowed";
	case POLICY_EXPLICIT_DENY:
		return "explicitDeny";
	default:
		return "implicitDeny";
	}
}
