/* jw: see jw.h. */
#include "lib/jw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

void jw_init(struct jw *w)
{
	memset(w, 0, sizeof *w);
	w->first[0] = true;
}

void jw_release(struct jw *w)
{
	free(w->p);
	jw_init(w);
}

char *jw_take(struct jw *w)
{
	char *s = w->p ? w->p : xstrdup("");
	w->p = NULL;
	jw_release(w);
	return s;
}

static void put(struct jw *w, const char *s, size_t n)
{
	if (w->n + n + 1 > w->cap) {
		w->cap = (w->n + n + 1) * 2 + 256;
		w->p = xrealloc(w->p, w->cap);
	}
	memcpy(w->p + w->n, s, n);
	w->n += n;
	w->p[w->n] = '\0';
}

/* A value starts here: a comma unless it is the first at this depth or
 * follows a key. */
static void value(struct jw *w)
{
	if (!w->first[w->depth])
		put(w, ",", 1);
	w->first[w->depth] = false;
}

static void open(struct jw *w, const char *c)
{
	value(w);
	put(w, c, 1);
	if (w->depth < JW_DEPTH - 1)
		w->depth++;
	w->first[w->depth] = true;
}

static void close_(struct jw *w, const char *c)
{
	put(w, c, 1);
	if (w->depth > 0)
		w->depth--;
}

void jw_obj(struct jw *w) { open(w, "{"); }
void jw_arr(struct jw *w) { open(w, "["); }
void jw_end_obj(struct jw *w) { close_(w, "}"); }
void jw_end_arr(struct jw *w) { close_(w, "]"); }

void jw_key(struct jw *w, const char *k)
{
	value(w);
	put(w, "\"", 1);
	put(w, k, strlen(k));
	put(w, "\":", 2);
	w->first[w->depth] = true; /* the value that follows takes no comma */
}

void jw_str(struct jw *w, const char *s)
{
	value(w);
	put(w, "\"", 1);
	const char *run = s;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		put(w, run, (size_t)(s - run));
		char esc[8];
		switch (c) {
		case '"': put(w, "\\\"", 2); break;
		case '\\': put(w, "\\\\", 2); break;
		case '\n': put(w, "\\n", 2); break;
		case '\r': put(w, "\\r", 2); break;
		case '\t': put(w, "\\t", 2); break;
		default:
			snprintf(esc, sizeof esc, "\\u%04x", c);
			put(w, esc, 6);
		}
		run = s + 1;
	}
	put(w, run, (size_t)(s - run));
	put(w, "\"", 1);
	w->first[w->depth] = false;
}

void jw_int(struct jw *w, long long v)
{
	char b[24];
	int n = snprintf(b, sizeof b, "%lld", v);
	value(w);
	put(w, b, (size_t)n);
}

void jw_bool(struct jw *w, bool v)
{
	value(w);
	put(w, v ? "true" : "false", v ? 4 : 5);
}

void jw_raw(struct jw *w, const char *json)
{
	value(w);
	put(w, json, strlen(json));
}

void jw_time(struct jw *w, int64_t ms)
{
	char b[32];
	int64_t s = ms / 1000, r = ms % 1000;
	if (r < 0) {
		s -= 1;
		r += 1000;
	}
	int n = r ? snprintf(b, sizeof b, "%lld.%03lld", (long long)s, (long long)r)
		  : snprintf(b, sizeof b, "%lld", (long long)s);
	/* trim trailing zeros of the fraction, as a number prints */
	while (r && b[n - 1] == '0')
		n--;
	value(w);
	put(w, b, (size_t)n);
}

void jw_kstr(struct jw *w, const char *k, const char *s)
{
	jw_key(w, k);
	jw_str(w, s);
}

void jw_kint(struct jw *w, const char *k, long long v)
{
	jw_key(w, k);
	jw_int(w, v);
}

void jw_ktime(struct jw *w, const char *k, int64_t ms)
{
	jw_key(w, k);
	jw_time(w, ms);
}
