/* cql: see cql.h.
 *
 * A recursive-descent parser straight over the text: there is no separate
 * token stream because what a "word" is depends on where it stands (the
 * argument of =~ is a regular expression, everything else is a bare word or a
 * quoted string).  The tree it builds has n-ary and / or nodes, flattened so
 * that an and never holds an and and an or never holds an or; with the
 * nesting limit this bounds the tree's height by 2 * CQL_DEPTH_MAX + 2
 * however long the text, so evaluating, printing and freeing may recurse.
 *
 * Invariants of a parsed tree: an and / or node has at least two children, a
 * not node exactly one; a condition holds the number of values its operator
 * takes (none, one, or 1..CQL_LIST_MAX for in / !in), a compiled regex_t for
 * =~ / !~, and for registeredAt the argument already turned into epoch ms.
 * Everything that can be wrong with an expression is found here, so that
 * evaluation cannot fail.  Values are compared as written, without quotes;
 * printing re-quotes what cannot be read back bare. */
#include "sched/cql.h"

#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/xalloc.h"

/* Bounds on what a pattern may ask of glibc's regcomp, whose cost grows
 * much faster than the pattern: it copies the operand of a+ once and of
 * a{m,n} n times, and computes epsilon closures in time roughly cubic in the
 * number of nullable nodes, worse with nested quantifiers.  Measured (-O2, no
 * sanitizer): (a|b)++++++++++ 0.8 s, ((a*)*){299} 1.4 s, 660 nested (a*)* 3 s.
 * CQL_REGEX_NODES_MAX counts the nodes regcomp builds, copies included and
 * nested repeats counted four times; CQL_REGEX_NEST_MAX is how deep quantifiers
 * may apply to quantified operands: ((a*)*) and ([a-z]+-)* pass, ((a*)*)*
 * and a*++ do not.  Within both, the worst patterns found (85 x (a*|b?),
 * ((a|b)*(c|d)*){19}) compile in about 20 ms; .{0,255} still passes. */
#define CQL_REGEX_NODES_MAX 600
#define CQL_REGEX_NEST_MAX 2

enum cql_node { CQL_COND, CQL_AND, CQL_OR, CQL_NOT };

enum cql_subj {
	SUBJ_ATTRIBUTE,
	SUBJ_TASK_GROUP,
	SUBJ_AGENT_CONNECTED,
	SUBJ_AGENT_VERSION,
	SUBJ_EC2_INSTANCE_ID,
	SUBJ_REGISTERED_AT,
	SUBJ_RUNNING_TASKS_COUNT,
};

enum cql_op {
	OP_EQ,
	OP_NE,
	OP_GT,
	OP_GE,
	OP_LT,
	OP_LE,
	OP_EXISTS,
	OP_NOT_EXISTS,
	OP_IN,
	OP_NOT_IN,
	OP_MATCHES,
	OP_NOT_MATCHES,
};

/* What follows an operator. */
enum cql_arg { ARG_NONE, ARG_ONE, ARG_LIST, ARG_REGEX };

#define OPBIT(o) (1u << (o))
#define OPS_ALL 0xfffu
#define OPS_ORDER (OPBIT(OP_EQ) | OPBIT(OP_NE) | OPBIT(OP_GT) | OPBIT(OP_GE) | OPBIT(OP_LT) | OPBIT(OP_LE))
#define OPS_MEMBER                                                                                          \
	(OPBIT(OP_EQ) | OPBIT(OP_NE) | OPBIT(OP_IN) | OPBIT(OP_NOT_IN) | OPBIT(OP_MATCHES) |                \
	 OPBIT(OP_NOT_MATCHES))

/* One row an operator, indexed by enum cql_op.  sym is what cql_print
 * writes; word is the spelled-out alias.  Both are accepted in any case. */
static const struct op_row {
	const char *sym;
	const char *word;
	enum cql_arg arg;
} op_rows[] = {
	[OP_EQ] = { "==", "equals", ARG_ONE },
	[OP_NE] = { "!=", "not_equals", ARG_ONE },
	[OP_GT] = { ">", "greater_than", ARG_ONE },
	[OP_GE] = { ">=", "greater_than_equal", ARG_ONE },
	[OP_LT] = { "<", "less_than", ARG_ONE },
	[OP_LE] = { "<=", "less_than_equal", ARG_ONE },
	[OP_EXISTS] = { "exists", "exists", ARG_NONE },
	[OP_NOT_EXISTS] = { "!exists", "not_exists", ARG_NONE },
	[OP_IN] = { "in", "in", ARG_LIST },
	[OP_NOT_IN] = { "!in", "not_in", ARG_LIST },
	[OP_MATCHES] = { "=~", "matches", ARG_REGEX },
	[OP_NOT_MATCHES] = { "!~", "not_matches", ARG_REGEX },
};
#define N_OPS (sizeof op_rows / sizeof op_rows[0])

/* One row a subject but attribute:<name>, indexed by enum cql_subj.  ops is
 * the set the guide lists as valid for the subject (all, where it lists
 * none); valid is that set as a client reads it in an error message. */
static const struct subj_row {
	const char *name;
	unsigned ops;
	const char *valid;
} subj_rows[] = {
	[SUBJ_ATTRIBUTE] = { "attribute:", OPS_ALL, NULL },
	[SUBJ_TASK_GROUP] = { "task:group", OPS_ALL, NULL },
	[SUBJ_AGENT_CONNECTED] = { CQL_FIELD_AGENT_CONNECTED, OPS_MEMBER, "==, !=, in, !in, =~, !~" },
	[SUBJ_AGENT_VERSION] = { CQL_FIELD_AGENT_VERSION, OPS_ORDER, "==, !=, >, >=, <, <=" },
	[SUBJ_EC2_INSTANCE_ID] = { CQL_FIELD_EC2_INSTANCE_ID, OPS_MEMBER, "==, !=, in, !in, =~, !~" },
	[SUBJ_REGISTERED_AT] = { CQL_FIELD_REGISTERED_AT, OPS_ORDER, "==, !=, >, >=, <, <=" },
	[SUBJ_RUNNING_TASKS_COUNT] = { CQL_FIELD_RUNNING_TASKS_COUNT, OPS_ORDER, "==, !=, >, >=, <, <=" },
};
#define N_SUBJ (sizeof subj_rows / sizeof subj_rows[0])

#define SUBJECTS_TEXT                                                                                      \
	"attribute:<name>, task:group, agentConnected, agentVersion, ec2InstanceId, registeredAt or "      \
	"runningTasksCount"
#define OPERATORS_TEXT "==, !=, >, >=, <, <=, exists, !exists, in, !in, =~ or !~"
#define DATES_TEXT "2018-06-18T22:28:28+00:00, 2018-06-18T22:28:28Z, 2018-06-18T22:28:28 or 2018-06-18"

struct cql_value {
	char *text;  /* as written, quotes stripped */
	size_t len;
	int glob;    /* ==, !=, in, !in with a '*' in text */
	int64_t ms;  /* registeredAt: text as epoch milliseconds */
};

struct cql_cond {
	enum cql_subj subj;
	char *name; /* attribute:<name>, else NULL */
	enum cql_op op;
	struct cql_value *vals;
	size_t n_vals;
	regex_t re; /* =~ and !~ only */
	int has_re;
};

struct cql_expr {
	enum cql_node kind;
	struct cql_cond cond;    /* CQL_COND */
	struct cql_expr **kids;  /* CQL_AND, CQL_OR: >= 2; CQL_NOT: 1 */
	size_t n_kids, cap_kids;
};

/* ---- characters ---- */

static int is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int is_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* A character of a bare word: subjects, operator words, keywords, values.
 * It takes in everything an attribute value, an instance id, a task group, a
 * version or a date is written with; it leaves out the operator and grouping
 * characters, so `a==b&&(c!=d)` needs no blanks. */
static int is_word(int c)
{
	return is_alnum(c) || (c != '\0' && strchr("._-*:/\\@+", c) != NULL);
}

/* Attribute names: letters, digits, hyphens, underscores, slashes, back
 * slashes and periods [DG:task-placement-constraints.md], and ':' which the
 * ecs.* names do not use but custom ones in the wild do. */
static int is_name(int c)
{
	return is_alnum(c) || (c != '\0' && strchr("._-/\\:", c) != NULL);
}

/* ---- regular expressions: lexing and preparing ---- */

/* Index just past the bracket expression that opens at s[i] == '[' (POSIX:
 * an optional ^, a leading ] taken literally, [:class:], [.coll.] and
 * [=equiv=] inside), or where it stops unterminated: at the end, or at a
 * blank when stop_blank. */
static size_t bracket_end(const char *s, size_t n, size_t i, int stop_blank)
{
	size_t j = i + 1;
	if (j < n && s[j] == '^')
		j++;
	if (j < n && s[j] == ']')
		j++;
	while (j < n && !(stop_blank && is_blank(s[j]))) {
		if (s[j] == ']')
			return j + 1;
		if (s[j] == '[' && j + 1 < n && (s[j + 1] == ':' || s[j + 1] == '.' || s[j + 1] == '=')) {
			char close = s[j + 1];
			size_t k = j + 2;
			while (k < n && !(stop_blank && is_blank(s[k])) && !(s[k] == close && k + 1 < n && s[k + 1] == ']'))
				k++;
			if (k < n && s[k] == close && k + 1 < n && s[k + 1] == ']') {
				j = k + 2;
				continue;
			}
			return k;
		}
		j++;
	}
	return j;
}

/* Walk s[0..n) as a regular expression: escapes and bracket expressions
 * skipped, parentheses counted.  With stop_blank, stop at the first blank or
 * at a ')' that closes no '(' of the pattern's own: that is where a bare
 * pattern ends.  Returns where the walk stopped; *balanced is 1 when the
 * depth never went negative and is 0 there. */
static size_t regex_walk(const char *s, size_t n, int stop_blank, int *balanced)
{
	size_t i = 0;
	long depth = 0;
	int ok = 1;
	while (i < n && !(stop_blank && is_blank(s[i]))) {
		char c = s[i];
		if (c == '\\') {
			i += (i + 1 < n && !(stop_blank && is_blank(s[i + 1]))) ? 2 : 1;
			continue;
		}
		if (c == '[') {
			i = bracket_end(s, n, i, stop_blank);
			continue;
		}
		if (c == '(') {
			depth++;
		} else if (c == ')') {
			if (depth == 0) {
				if (stop_blank)
					break;
				ok = 0;
			} else {
				depth--;
			}
		}
		i++;
	}
	*balanced = ok && depth == 0;
	return i;
}

/* Whether a pattern prints bare and reads back the same. */
static int regex_prints_bare(const char *s, size_t n)
{
	int balanced;
	if (n == 0 || s[0] == '\'' || s[0] == '"')
		return 0;
	return regex_walk(s, n, 1, &balanced) == n && balanced;
}

struct sbuf {
	char *p;
	size_t len, cap;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		while (cap < b->len + n + 1)
			cap *= 2;
		b->p = xrealloc(b->p, cap);
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_str(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

/* Turn a Java-flavoured pattern into the POSIX ERE handed to regcomp: \d and
 * \D outside brackets become [0-9] and [^0-9].  Refuses, with *why set,
 * back-references (glibc matches them by backtracking, exponential in the
 * worst case) and patterns past CQL_REGEX_NODES_MAX or CQL_REGEX_NEST_MAX.
 * Anything else wrong is left to regcomp.  The parentheses are balanced
 * (regex_walk). */
static char *regex_prepare(const char *s, size_t n, const char **why)
{
	struct sbuf b = { 0 };
	/* For the group open at depth d: nodes[d] so far and nest[d], the
	 * deepest quantifier nesting inside.  last / last_nest: the same for
	 * the operand a quantifier here would apply to. */
	unsigned long *nodes = xcalloc(n + 1, sizeof *nodes);
	int *nest = xcalloc(n + 1, sizeof *nest);
	unsigned long last = 0;
	int last_nest = 0;
	size_t d = 0, i = 0;
	sb_add(&b, "", 0);
	while (i < n) {
		char c = s[i];
		unsigned long copies = 0; /* a quantifier: copies of its operand */
		size_t next = i + 1;
		if (c == '\\' && i + 1 < n) {
			char e = s[i + 1];
			if (e >= '1' && e <= '9') {
				*why = "back-references (\\1 to \\9) are not supported";
				goto refuse;
			}
			if (e == 'd')
				sb_str(&b, "[0-9]");
			else if (e == 'D')
				sb_str(&b, "[^0-9]");
			else
				sb_add(&b, s + i, 2);
			nodes[d]++;
			last = 1;
			last_nest = 0;
			i += 2;
			continue;
		}
		if (c == '[' || (c != '(' && c != ')' && c != '|' && c != '*' && c != '?' && c != '+' && c != '{')) {
			if (c == '[')
				next = bracket_end(s, n, i, 0);
			nodes[d]++;
			last = 1;
			last_nest = 0;
		} else if (c == '(') {
			d++;
			nodes[d] = 0;
			nest[d] = 0;
			last = 0;
			last_nest = 0;
		} else if (c == ')') {
			last = nodes[d] + 2; /* the subexpression's open and close */
			last_nest = nest[d];
			if (d > 0)
				d--;
			nodes[d] += last;
		} else if (c == '|') {
			nodes[d]++;
			last = 0;
			last_nest = 0;
		} else if (c == '*' || c == '?') {
			copies = 1;
		} else if (c == '+') {
			copies = 2; /* a+ is aa* */
		} else {
			/* {m}, {m,} or {m,n}: as many copies as the larger bound,
			 * plus one.  A brace that is no interval is counted too,
			 * erring on the safe side. */
			unsigned long bound = 0, v = 0;
			int digits = 0;
			for (; next < n && (is_digit(s[next]) || s[next] == ','); next++) {
				if (s[next] == ',') {
					v = 0;
					digits = 0;
				} else if (++digits > 6) {
					bound = CQL_REGEX_NODES_MAX;
					break;
				} else {
					v = v * 10 + (unsigned long)(s[next] - '0');
					if (v > bound)
						bound = v;
				}
			}
			copies = bound + 1;
			/* A whole interval is one quantifier; else the digits
			 * are literals to come. */
			if (next < n && s[next] == '}')
				next++;
			else
				next = i + 1;
		}
		if (copies > 0) {
			unsigned long grown;
			if (++last_nest > CQL_REGEX_NEST_MAX) {
				*why = "quantifiers nest more than two deep";
				goto refuse;
			}
			/* Each copy and its repeat node; a quantifier over a
			 * quantified operand counts four times, its closures
			 * being the costly ones. */
			if (last_nest > 1)
				copies *= 4;
			if (last + 1 > CQL_REGEX_NODES_MAX / copies) {
				*why = "it is too complex for the matcher (more than 600 nodes once unrolled)";
				goto refuse;
			}
			grown = (last + 1) * copies;
			nodes[d] += grown - last;
			last = grown;
			if (last_nest > nest[d])
				nest[d] = last_nest;
		}
		if (nodes[d] > CQL_REGEX_NODES_MAX) {
			*why = "it is too complex for the matcher (more than 600 nodes once unrolled)";
			goto refuse;
		}
		sb_add(&b, s + i, next - i);
		i = next;
	}
	free(nodes);
	free(nest);
	return b.p;
refuse:
	free(nodes);
	free(nest);
	free(b.p);
	return NULL;
}

/* Whether pattern re matches all of v (Java's matches(), not find()).  POSIX
 * regexec reports the leftmost match and, among those, the longest; so a
 * match of the whole value exists exactly when the reported one starts at 0
 * and ends at the end. */
static int regex_full(const regex_t *re, const char *v)
{
	regmatch_t m[1];
	if (regexec(re, v, 1, m, 0) != 0)
		return 0;
	return m[0].rm_so == 0 && (size_t)m[0].rm_eo == strlen(v);
}

/* ---- values: numbers, versions, dates, globs ---- */

struct decimal {
	int neg;
	const char *ip; /* integer digits, leading zeros dropped */
	size_t in;
	const char *fp; /* fraction digits, trailing zeros dropped */
	size_t fn;
};

/* [+-]digits[.digits], exactly. */
static int decimal_parse(const char *s, struct decimal *d)
{
	const char *p = s;
	d->neg = 0;
	if (*p == '+' || *p == '-')
		d->neg = *p++ == '-';
	d->ip = p;
	while (is_digit(*p))
		p++;
	if (p == d->ip)
		return 0;
	d->in = (size_t)(p - d->ip);
	d->fp = p;
	d->fn = 0;
	if (*p == '.') {
		d->fp = ++p;
		while (is_digit(*p))
			p++;
		d->fn = (size_t)(p - d->fp);
		if (d->fn == 0)
			return 0;
	}
	if (*p != '\0')
		return 0;
	while (d->in > 0 && d->ip[0] == '0')
		d->ip++, d->in--;
	while (d->fn > 0 && d->fp[d->fn - 1] == '0')
		d->fn--;
	if (d->in == 0 && d->fn == 0)
		d->neg = 0; /* -0 == 0 */
	return 1;
}

static int sign(int v)
{
	return (v > 0) - (v < 0);
}

/* Compare two digit strings without leading zeros as numbers. */
static int digits_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	if (an != bn)
		return an < bn ? -1 : 1;
	return sign(memcmp(a, b, an));
}

/* Exact comparison of two decimals, whatever their length.  1 and *r when
 * both are numbers. */
static int decimal_cmp(const char *a, const char *b, int *r)
{
	struct decimal x, y;
	size_t n;
	int m;
	if (!decimal_parse(a, &x) || !decimal_parse(b, &y))
		return 0;
	if (x.neg != y.neg) {
		*r = x.neg ? -1 : 1;
		return 1;
	}
	m = digits_cmp(x.ip, x.in, y.ip, y.in);
	if (m == 0) {
		n = x.fn < y.fn ? x.fn : y.fn;
		m = sign(memcmp(x.fp, y.fp, n));
		if (m == 0 && x.fn != y.fn)
			m = x.fn > y.fn ? 1 : -1; /* the longer has a non-zero digit more */
	}
	*r = x.neg ? -m : m;
	return 1;
}

/* Dotted versions: digits { . digits }.  A missing component counts as 0,
 * so 1.35 == 1.35.0.  1 and *r when both are versions. */
static int version_cmp(const char *a, const char *b, int *r)
{
	const char *p, *q;
	for (p = a; *p; p++)
		if (!is_digit(*p) && !(*p == '.' && p > a && is_digit(p[-1]) && is_digit(p[1])))
			return 0;
	for (q = b; *q; q++)
		if (!is_digit(*q) && !(*q == '.' && q > b && is_digit(q[-1]) && is_digit(q[1])))
			return 0;
	if (*a == '\0' || *b == '\0')
		return 0;
	p = a;
	q = b;
	while (*p || *q) {
		const char *ps = p, *qs = q;
		size_t pn, qn;
		while (is_digit(*p))
			p++;
		while (is_digit(*q))
			q++;
		pn = (size_t)(p - ps);
		qn = (size_t)(q - qs);
		while (pn > 0 && *ps == '0')
			ps++, pn--;
		while (qn > 0 && *qs == '0')
			qs++, qn--;
		int m = digits_cmp(ps, pn, qs, qn);
		if (m != 0) {
			*r = m;
			return 1;
		}
		if (*p == '.')
			p++;
		if (*q == '.')
			q++;
	}
	*r = 0;
	return 1;
}

/* A registeredAt value: epoch ms as decimal digits, optionally negative. */
static int epoch_ms_parse(const char *s, int64_t *ms)
{
	int neg = 0;
	int64_t v = 0;
	size_t n = 0;
	if (*s == '-')
		neg = 1, s++;
	for (; is_digit(*s); s++, n++) {
		if (n >= 18)
			return 0;
		v = v * 10 + (*s - '0');
	}
	if (n == 0 || *s != '\0')
		return 0;
	*ms = neg ? -v : v;
	return 1;
}

static int is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Days from 1970-01-01 to y-m-d (1 <= y <= 9999): the days of the whole
 * years since year 1, minus those before 1970, plus the months so far. */
static int64_t days_since_epoch(int y, int m, int d)
{
	int64_t py = y - 1;
	int64_t days = py * 365 + py / 4 - py / 100 + py / 400;
	for (int i = 1; i < m; i++)
		days += month_days(y, i);
	return days + (d - 1) - 719162; /* 719162: days from 0001-01-01 to 1970-01-01 */
}

/* n digits at s as a number; -1 if any is not a digit. */
static int fixed_digits(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* The registeredAt argument forms the guide lists, YYYY-MM-DD[Thh:mm:ss[Z |
 * +hh:mm | -hh:mm]], plus a fraction of a second (.sss, cut to ms) and a
 * lower-case t or z; no zone means UTC.  1 and *ms when s is one. */
static int date_parse(const char *s, int64_t *ms)
{
	size_t n = strlen(s);
	int y, mo, d, h = 0, mi = 0, se = 0, frac = 0;
	int64_t off = 0;
	const char *p;
	if (n < 10 || s[4] != '-' || s[7] != '-')
		return 0;
	y = fixed_digits(s, 4);
	mo = fixed_digits(s + 5, 2);
	d = fixed_digits(s + 8, 2);
	if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo))
		return 0;
	p = s + 10;
	if (*p == 'T' || *p == 't') {
		if (strlen(p) < 9 || p[3] != ':' || p[6] != ':')
			return 0;
		h = fixed_digits(p + 1, 2);
		mi = fixed_digits(p + 4, 2);
		se = fixed_digits(p + 7, 2);
		if (h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 59)
			return 0;
		p += 9;
		if (*p == '.') {
			int nd = 0;
			for (p++; is_digit(*p); p++, nd++)
				if (nd < 3)
					frac = frac * 10 + (*p - '0');
			if (nd == 0)
				return 0;
			for (; nd < 3; nd++)
				frac *= 10;
		}
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			int oh, om;
			if (strlen(p) < 6 || p[3] != ':')
				return 0;
			oh = fixed_digits(p + 1, 2);
			om = fixed_digits(p + 4, 2);
			if (oh < 0 || oh > 23 || om < 0 || om > 59)
				return 0;
			off = (int64_t)(oh * 60 + om) * 60000;
			if (*p == '-')
				off = -off;
			p += 6;
		}
	}
	if (*p != '\0')
		return 0;
	*ms = ((days_since_epoch(y, mo, d) * 24 + h) * 60 + mi) * 60000 + (int64_t)se * 1000 + frac - off;
	return 1;
}

/* '*' matches any run of characters, everything else itself. */
static int glob_match(const char *pat, const char *s)
{
	const char *star = NULL, *resume = NULL;
	while (*s) {
		if (*pat == '*') {
			star = pat++;
			resume = s;
		} else if (*pat == *s) {
			pat++;
			s++;
		} else if (star) {
			pat = star + 1;
			s = ++resume;
		} else {
			return 0;
		}
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

/* ---- the tree ---- */

static struct cql_expr *node_new(enum cql_node kind)
{
	struct cql_expr *x = xcalloc(1, sizeof *x);
	x->kind = kind;
	return x;
}

static void kid_push(struct cql_expr *x, struct cql_expr *k)
{
	if (x->n_kids == x->cap_kids) {
		x->cap_kids = x->cap_kids ? x->cap_kids * 2 : 4;
		x->kids = xrealloc(x->kids, x->cap_kids * sizeof *x->kids);
	}
	x->kids[x->n_kids++] = k;
}

/* Add k under the and / or node x, splicing in k's children when k is of
 * the same kind: the tree stays flat. */
static void kid_add_flat(struct cql_expr *x, struct cql_expr *k)
{
	if (k->kind != x->kind) {
		kid_push(x, k);
		return;
	}
	for (size_t i = 0; i < k->n_kids; i++)
		kid_push(x, k->kids[i]);
	free(k->kids);
	free(k);
}

void cql_free(struct cql_expr *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->n_kids; i++)
		cql_free(x->kids[i]);
	free(x->kids);
	if (x->kind == CQL_COND) {
		for (size_t i = 0; i < x->cond.n_vals; i++)
			free(x->cond.vals[i].text);
		free(x->cond.vals);
		free(x->cond.name);
		if (x->cond.has_re)
			regfree(&x->cond.re);
	}
	free(x);
}

/* ---- the parser ---- */

struct parser {
	const char *s;
	size_t len;
	size_t pos;
	int depth;
	struct err *e;
};

static void skip_blanks(struct parser *p)
{
	while (p->pos < p->len && is_blank(p->s[p->pos]))
		p->pos++;
}

static size_t word_len(const struct parser *p, size_t at)
{
	size_t i = at;
	while (i < p->len && is_word(p->s[i]))
		i++;
	return i - at;
}

/* Whether the bare word at the cursor is kw, in any case. */
static int at_keyword(const struct parser *p, const char *kw)
{
	size_t n = strlen(kw);
	return word_len(p, p->pos) == n && strncasecmp(p->s + p->pos, kw, n) == 0;
}

static int at_symbol(const struct parser *p, const char *sym)
{
	size_t n = strlen(sym);
	return p->len - p->pos >= n && memcmp(p->s + p->pos, sym, n) == 0;
}

/* What stands at `at`, for "found ..." in messages. */
static void describe(const struct parser *p, size_t at, char *out, size_t size)
{
	size_t w;
	unsigned char c;
	if (at >= p->len) {
		snprintf(out, size, "the end of the expression");
		return;
	}
	c = (unsigned char)p->s[at];
	w = word_len(p, at);
	if (w > 0)
		snprintf(out, size, "'%.*s%s'", (int)(w > 24 ? 24 : w), p->s + at, w > 24 ? "..." : "");
	else if (c >= 0x20 && c < 0x7f)
		snprintf(out, size, "'%c'", c);
	else
		snprintf(out, size, "byte 0x%02x", c);
}

/* Fill the error for position `at` (0-based; messages count from 1). */
static void fail(struct parser *p, size_t at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(struct parser *p, size_t at, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	err_set(p->e, CQL_ERR_SYNTAX, "position %zu: %s", at + 1, msg);
}

static struct cql_expr *parse_or(struct parser *p);

/* The operator at the cursor, consumed; -1 if there is none. */
static int lex_operator(struct parser *p)
{
	static const struct {
		const char *sym;
		enum cql_op op;
	} syms[] = {
		{ "==", OP_EQ }, { "=~", OP_MATCHES }, { "!=", OP_NE }, { "!~", OP_NOT_MATCHES },
		{ ">=", OP_GE }, { "<=", OP_LE },      { ">", OP_GT },  { "<", OP_LT },
	};
	size_t w;
	if (p->pos < p->len && p->s[p->pos] == '!') {
		/* !exists and !in: the ! glued to the word. */
		p->pos++;
		if (at_keyword(p, "exists") || at_keyword(p, "in")) {
			int op = at_keyword(p, "in") ? OP_NOT_IN : OP_NOT_EXISTS;
			p->pos += word_len(p, p->pos);
			return op;
		}
		p->pos--;
	}
	for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
		if (at_symbol(p, syms[i].sym)) {
			p->pos += strlen(syms[i].sym);
			return (int)syms[i].op;
		}
	}
	w = word_len(p, p->pos);
	for (size_t i = 0; w > 0 && i < N_OPS; i++) {
		if (strlen(op_rows[i].word) == w && strncasecmp(p->s + p->pos, op_rows[i].word, w) == 0) {
			p->pos += w;
			return (int)i;
		}
	}
	return -1;
}

/* One value at the cursor: a quoted string, or a bare word (a bare pattern
 * when regex).  Fills v->text / v->len; *at is where it started. */
static int lex_value(struct parser *p, struct cql_value *v, int regex, size_t *at)
{
	char what[64];
	size_t n;
	skip_blanks(p);
	*at = p->pos;
	if (p->pos < p->len && (p->s[p->pos] == '\'' || p->s[p->pos] == '"')) {
		const char *close = memchr(p->s + p->pos + 1, p->s[p->pos], p->len - p->pos - 1);
		if (!close) {
			fail(p, p->pos, "the quoted string that starts here is not closed (no matching %c)",
			     p->s[p->pos]);
			return -1;
		}
		n = (size_t)(close - (p->s + p->pos + 1));
		v->text = xstrndup(p->s + p->pos + 1, n);
		v->len = n;
		p->pos += n + 2;
		return 0;
	}
	if (regex) {
		int balanced;
		n = regex_walk(p->s + p->pos, p->len - p->pos, 1, &balanced);
	} else {
		n = word_len(p, p->pos);
	}
	if (n == 0) {
		describe(p, p->pos, what, sizeof what);
		fail(p, p->pos, "expected %s, found %s",
		     regex ? "a regular expression" : "a value (a word or a quoted string)", what);
		return -1;
	}
	v->text = xstrndup(p->s + p->pos, n);
	v->len = n;
	p->pos += n;
	return 0;
}

/* The argument of c's operator; c->subj and c->op are set. */
static int parse_argument(struct parser *p, struct cql_cond *c)
{
	enum cql_arg arg = op_rows[c->op].arg;
	char what[64];
	size_t at = 0;
	if (arg == ARG_NONE)
		return 0;
	skip_blanks(p);
	if (arg == ARG_LIST && p->pos < p->len && p->s[p->pos] == '[') {
		size_t open = p->pos++;
		for (;;) {
			if (c->n_vals == CQL_LIST_MAX) {
				fail(p, p->pos, "a list holds at most %d values", CQL_LIST_MAX);
				return -1;
			}
			c->vals = xrealloc(c->vals, (c->n_vals + 1) * sizeof *c->vals);
			memset(&c->vals[c->n_vals], 0, sizeof *c->vals);
			if (lex_value(p, &c->vals[c->n_vals++], 0, &at) < 0)
				return -1;
			skip_blanks(p);
			if (p->pos < p->len && p->s[p->pos] == ',') {
				p->pos++;
				continue;
			}
			if (p->pos < p->len && p->s[p->pos] == ']') {
				p->pos++;
				break;
			}
			describe(p, p->pos, what, sizeof what);
			fail(p, p->pos, "expected ',' or ']' in the list opened at position %zu, found %s", open + 1,
			     what);
			return -1;
		}
	} else {
		if (arg != ARG_LIST && arg != ARG_REGEX && p->pos < p->len && p->s[p->pos] == '[') {
			fail(p, p->pos, "'%s' takes a single value; lists go with in and !in", op_rows[c->op].sym);
			return -1;
		}
		c->vals = xcalloc(1, sizeof *c->vals);
		c->n_vals = 1;
		if (lex_value(p, &c->vals[0], arg == ARG_REGEX, &at) < 0)
			return -1;
	}
	for (size_t i = 0; i < c->n_vals; i++) {
		struct cql_value *v = &c->vals[i];
		if ((c->op == OP_EQ || c->op == OP_NE || c->op == OP_IN || c->op == OP_NOT_IN) &&
		    memchr(v->text, '*', v->len))
			v->glob = 1;
	}
	if (c->subj == SUBJ_REGISTERED_AT && !date_parse(c->vals[0].text, &c->vals[0].ms)) {
		fail(p, at, "registeredAt takes a date (" DATES_TEXT "), found '%.40s'", c->vals[0].text);
		return -1;
	}
	if (arg == ARG_REGEX) {
		const char *why = NULL;
		char *ere;
		int balanced, rc;
		regex_walk(c->vals[0].text, c->vals[0].len, 0, &balanced);
		if (!balanced) {
			fail(p, at, "invalid regular expression: unbalanced parentheses");
			return -1;
		}
		ere = regex_prepare(c->vals[0].text, c->vals[0].len, &why);
		if (!ere) {
			fail(p, at, "invalid regular expression: %s", why);
			return -1;
		}
		rc = regcomp(&c->re, ere, REG_EXTENDED);
		free(ere);
		if (rc != 0) {
			char msg[128];
			regerror(rc, &c->re, msg, sizeof msg);
			fail(p, at, "invalid regular expression: %s", msg);
			return -1;
		}
		c->has_re = 1;
	}
	return 0;
}

static struct cql_expr *parse_condition(struct parser *p)
{
	struct cql_expr *x;
	struct cql_cond *c;
	char what[64];
	size_t at, w, op_at;
	int op = -1, subj = -1;

	skip_blanks(p);
	at = p->pos;
	w = word_len(p, at);
	if (w == 0 || at_keyword(p, "and") || at_keyword(p, "or")) {
		describe(p, at, what, sizeof what);
		fail(p, at, "expected a subject (" SUBJECTS_TEXT "), found %s", what);
		return NULL;
	}
	if (w >= 10 && strncasecmp(p->s + at, "attribute:", 10) == 0) {
		if (w == 10) {
			fail(p, at + 10, "expected an attribute name after 'attribute:'");
			return NULL;
		}
		for (size_t i = at + 10; i < at + w; i++) {
			if (!is_name(p->s[i])) {
				fail(p, i, "'%c' cannot be part of an attribute name", p->s[i]);
				return NULL;
			}
		}
		subj = SUBJ_ATTRIBUTE;
	} else {
		for (size_t i = 0; i < N_SUBJ; i++) {
			if (i != SUBJ_ATTRIBUTE && strlen(subj_rows[i].name) == w &&
			    strncasecmp(p->s + at, subj_rows[i].name, w) == 0)
				subj = (int)i;
		}
		if (subj < 0) {
			describe(p, at, what, sizeof what);
			fail(p, at, "unknown subject %s; expected " SUBJECTS_TEXT, what);
			return NULL;
		}
	}
	p->pos = at + w;
	skip_blanks(p);
	op_at = p->pos;
	op = lex_operator(p);
	if (op < 0) {
		describe(p, op_at, what, sizeof what);
		fail(p, op_at, "expected an operator (" OPERATORS_TEXT ") after the subject, found %s", what);
		return NULL;
	}
	if (!(subj_rows[subj].ops & OPBIT(op))) {
		fail(p, op_at, "operator '%.*s' cannot be used with %s, which takes %s", (int)(p->pos - op_at),
		     p->s + op_at, subj_rows[subj].name, subj_rows[subj].valid);
		return NULL;
	}
	x = node_new(CQL_COND);
	c = &x->cond;
	c->subj = (enum cql_subj)subj;
	c->op = (enum cql_op)op;
	if (subj == SUBJ_ATTRIBUTE)
		c->name = xstrndup(p->s + at + 10, w - 10);
	if (parse_argument(p, c) < 0) {
		cql_free(x);
		return NULL;
	}
	return x;
}

static struct cql_expr *parse_not(struct parser *p)
{
	struct cql_expr *x, *k;
	size_t at;
	skip_blanks(p);
	at = p->pos;
	if (at < p->len && p->s[at] == '!') {
		p->pos++;
	} else if (at_keyword(p, "not")) {
		p->pos += 3;
	} else if (at < p->len && p->s[at] == '(') {
		if (++p->depth > CQL_DEPTH_MAX) {
			fail(p, at, "expressions nest deeper than %d levels", CQL_DEPTH_MAX);
			return NULL;
		}
		p->pos++;
		x = parse_or(p);
		if (!x)
			return NULL;
		skip_blanks(p);
		if (p->pos >= p->len || p->s[p->pos] != ')') {
			char what[64];
			describe(p, p->pos, what, sizeof what);
			fail(p, p->pos, "expected 'and', 'or' or ')' closing the '(' at position %zu, found %s",
			     at + 1, what);
			cql_free(x);
			return NULL;
		}
		p->pos++;
		p->depth--;
		return x;
	} else {
		return parse_condition(p);
	}
	if (++p->depth > CQL_DEPTH_MAX) {
		fail(p, at, "expressions nest deeper than %d levels", CQL_DEPTH_MAX);
		return NULL;
	}
	k = parse_not(p);
	if (!k)
		return NULL;
	p->depth--;
	x = node_new(CQL_NOT);
	kid_push(x, k);
	return x;
}

/* and_expr or or_expr: operands from sub, joined by the keyword or symbol. */
static struct cql_expr *parse_chain(struct parser *p, enum cql_node kind, const char *kw, const char *sym,
				    struct cql_expr *(*sub)(struct parser *))
{
	struct cql_expr *x = sub(p), *y, *n;
	if (!x)
		return NULL;
	for (;;) {
		skip_blanks(p);
		if (at_symbol(p, sym))
			p->pos += 2;
		else if (at_keyword(p, kw))
			p->pos += strlen(kw);
		else
			return x;
		y = sub(p);
		if (!y) {
			cql_free(x);
			return NULL;
		}
		if (x->kind != kind) {
			n = node_new(kind);
			kid_push(n, x);
			x = n;
		}
		kid_add_flat(x, y);
	}
}

static struct cql_expr *parse_and(struct parser *p)
{
	return parse_chain(p, CQL_AND, "and", "&&", parse_not);
}

static struct cql_expr *parse_or(struct parser *p)
{
	return parse_chain(p, CQL_OR, "or", "||", parse_and);
}

struct cql_expr *cql_parse(const char *text, struct err *e)
{
	struct parser p = { .s = text ? text : "", .e = e };
	struct cql_expr *x;
	p.len = strlen(p.s);
	if (p.len > CQL_TEXT_MAX) {
		err_set(e, CQL_ERR_SYNTAX, "the expression is %zu characters long; at most %d are allowed", p.len,
			CQL_TEXT_MAX);
		return NULL;
	}
	x = parse_or(&p);
	if (!x)
		return NULL;
	skip_blanks(&p);
	if (p.pos < p.len) {
		char what[64];
		describe(&p, p.pos, what, sizeof what);
		if (p.s[p.pos] == ')')
			fail(&p, p.pos, "')' closes no '('");
		else
			fail(&p, p.pos, "expected 'and', 'or' or the end of the expression, found %s", what);
		cql_free(x);
		return NULL;
	}
	return x;
}

/* ---- evaluation ---- */

static int value_equal(const struct cql_cond *c, const struct cql_value *a, const char *v)
{
	int64_t ms;
	int r;
	if (a->glob)
		return glob_match(a->text, v);
	switch (c->subj) {
	case SUBJ_REGISTERED_AT:
		return epoch_ms_parse(v, &ms) && ms == a->ms;
	case SUBJ_AGENT_CONNECTED:
		return strcasecmp(v, a->text) == 0;
	case SUBJ_AGENT_VERSION:
		if (version_cmp(v, a->text, &r))
			return r == 0;
		return strcmp(v, a->text) == 0;
	default:
		if (decimal_cmp(v, a->text, &r))
			return r == 0;
		return strcmp(v, a->text) == 0;
	}
}

/* Order v against a: 1 and *r (<0, 0, >0), or 0 when they do not compare. */
static int value_order(const struct cql_cond *c, const struct cql_value *a, const char *v, int *r)
{
	int64_t ms;
	switch (c->subj) {
	case SUBJ_REGISTERED_AT:
		if (!epoch_ms_parse(v, &ms))
			return 0;
		*r = (ms > a->ms) - (ms < a->ms);
		return 1;
	case SUBJ_AGENT_VERSION:
		return version_cmp(v, a->text, r);
	case SUBJ_RUNNING_TASKS_COUNT:
		return decimal_cmp(v, a->text, r);
	default:
		if (decimal_cmp(v, a->text, r) || version_cmp(v, a->text, r))
			return 1;
		*r = sign(strcmp(v, a->text));
		return 1;
	}
}

/* c on one value the subject has. */
static int value_test(const struct cql_cond *c, const char *v)
{
	int r;
	switch (c->op) {
	case OP_EQ:
		return value_equal(c, &c->vals[0], v);
	case OP_NE:
		return !value_equal(c, &c->vals[0], v);
	case OP_GT:
		return value_order(c, &c->vals[0], v, &r) && r > 0;
	case OP_GE:
		return value_order(c, &c->vals[0], v, &r) && r >= 0;
	case OP_LT:
		return value_order(c, &c->vals[0], v, &r) && r < 0;
	case OP_LE:
		return value_order(c, &c->vals[0], v, &r) && r <= 0;
	case OP_EXISTS:
		return 1;
	case OP_NOT_EXISTS:
		return 0;
	case OP_IN:
	case OP_NOT_IN:
		for (size_t i = 0; i < c->n_vals; i++)
			if (value_equal(c, &c->vals[i], v))
				return c->op == OP_IN;
		return c->op == OP_NOT_IN;
	case OP_MATCHES:
		return regex_full(&c->re, v);
	case OP_NOT_MATCHES:
		return !regex_full(&c->re, v);
	}
	return 0;
}

struct group_visit {
	const struct cql_cond *c;
};

static int group_test(void *ctx, const char *group)
{
	const struct group_visit *g = ctx;
	return group && value_test(g->c, group);
}

static int group_any(void *ctx, const char *group)
{
	(void)ctx;
	return group != NULL;
}

static int cond_eval(const struct cql_cond *c, const struct cql_subject *s)
{
	const char *v = NULL;
	if (c->subj == SUBJ_TASK_GROUP) {
		struct group_visit g = { c };
		if (c->op == OP_EXISTS || c->op == OP_NOT_EXISTS) {
			int any = s->each_task_group && s->each_task_group(s->arg, group_any, NULL);
			return c->op == OP_EXISTS ? any : !any;
		}
		return s->each_task_group && s->each_task_group(s->arg, group_test, &g) ? 1 : 0;
	}
	if (c->subj == SUBJ_ATTRIBUTE)
		v = s->attribute ? s->attribute(s->arg, c->name) : NULL;
	else
		v = s->field ? s->field(s->arg, subj_rows[c->subj].name) : NULL;
	if (c->op == OP_NOT_EXISTS)
		return v == NULL;
	return v != NULL && value_test(c, v);
}

int cql_eval(const struct cql_expr *x, const struct cql_subject *s)
{
	BERTH_ASSERT(x != NULL && s != NULL);
	switch (x->kind) {
	case CQL_COND:
		return cond_eval(&x->cond, s);
	case CQL_NOT:
		return !cql_eval(x->kids[0], s);
	case CQL_AND:
		for (size_t i = 0; i < x->n_kids; i++)
			if (!cql_eval(x->kids[i], s))
				return 0;
		return 1;
	case CQL_OR:
		for (size_t i = 0; i < x->n_kids; i++)
			if (cql_eval(x->kids[i], s))
				return 1;
		return 0;
	}
	return 0;
}

/* ---- printing ---- */

static void print_value(struct sbuf *b, const struct cql_value *v, int regex)
{
	int bare;
	char q;
	if (regex) {
		bare = regex_prints_bare(v->text, v->len);
	} else {
		bare = v->len > 0;
		for (size_t i = 0; bare && i < v->len; i++)
			bare = is_word(v->text[i]);
	}
	if (bare) {
		sb_add(b, v->text, v->len);
		return;
	}
	/* A value needs quotes only if it was quoted, so it holds at most one
	 * kind of quote: a bare word has none, and a bare pattern holds no
	 * blank and starts with no quote, so it prints bare. */
	q = memchr(v->text, '\'', v->len) ? '"' : '\'';
	BERTH_ASSERT(!(q == '"' && memchr(v->text, '"', v->len)));
	sb_add(b, &q, 1);
	sb_add(b, v->text, v->len);
	sb_add(b, &q, 1);
}

static void print_expr(struct sbuf *b, const struct cql_expr *x)
{
	const struct cql_cond *c = &x->cond;
	switch (x->kind) {
	case CQL_COND:
		sb_str(b, subj_rows[c->subj].name);
		if (c->subj == SUBJ_ATTRIBUTE)
			sb_str(b, c->name);
		sb_str(b, " ");
		sb_str(b, op_rows[c->op].sym);
		if (op_rows[c->op].arg == ARG_LIST) {
			sb_str(b, " [");
			for (size_t i = 0; i < c->n_vals; i++) {
				if (i)
					sb_str(b, ", ");
				print_value(b, &c->vals[i], 0);
			}
			sb_str(b, "]");
		} else if (op_rows[c->op].arg != ARG_NONE) {
			sb_str(b, " ");
			print_value(b, &c->vals[0], op_rows[c->op].arg == ARG_REGEX);
		}
		return;
	case CQL_NOT:
		sb_str(b, "not ");
		if (x->kids[0]->kind == CQL_AND || x->kids[0]->kind == CQL_OR) {
			sb_str(b, "(");
			print_expr(b, x->kids[0]);
			sb_str(b, ")");
		} else {
			print_expr(b, x->kids[0]);
		}
		return;
	case CQL_AND:
	case CQL_OR:
		for (size_t i = 0; i < x->n_kids; i++) {
			int paren = x->kind == CQL_AND && x->kids[i]->kind == CQL_OR;
			if (i)
				sb_str(b, x->kind == CQL_AND ? " and " : " or ");
			if (paren)
				sb_str(b, "(");
			print_expr(b, x->kids[i]);
			if (paren)
				sb_str(b, ")");
		}
		return;
	}
}

char *cql_print(const struct cql_expr *x)
{
	struct sbuf b = { 0 };
	BERTH_ASSERT(x != NULL);
	sb_add(&b, "", 0);
	print_expr(&b, x);
	return b.p;
}
