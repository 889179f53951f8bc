/* jw: a small streaming JSON writer.
 *
 * For answers built in bulk (a RunTask of ten tasks, a DescribeTasks of a
 * hundred), writing the text directly costs a fraction of building a cJSON
 * tree and printing it: no allocation per member, no second pass.  The
 * writer tracks commas itself; strings are escaped as JSON requires (the
 * input is valid UTF-8, which every request was checked to be).  The result
 * can be handed to cJSON as a Raw node. */
#ifndef BERTH_LIB_JW_H
#define BERTH_LIB_JW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JW_DEPTH 32

struct jw {
	char *p;
	size_t n, cap;
	int depth;
	bool first[JW_DEPTH];       /* no member yet at this depth */
};

void jw_init(struct jw *w);
/* The text (NUL-terminated, heap); the writer is reset. */
char *jw_take(struct jw *w);
void jw_release(struct jw *w);

void jw_obj(struct jw *w);          /* { */
void jw_arr(struct jw *w);          /* [ */
void jw_end_obj(struct jw *w);      /* } */
void jw_end_arr(struct jw *w);      /* ] */
void jw_key(struct jw *w, const char *k);   /* "k": (k needs no escaping) */

void jw_str(struct jw *w, const char *s);   /* an escaped string */
void jw_int(struct jw *w, long long v);
void jw_bool(struct jw *w, bool v);
void jw_raw(struct jw *w, const char *json);  /* a value already in JSON */
/* ECS timestamps: epoch seconds with milliseconds. */
void jw_time(struct jw *w, int64_t ms);

/* Key and value together. */
void jw_kstr(struct jw *w, const char *k, const char *s);
void jw_kint(struct jw *w, const char *k, long long v);
void jw_ktime(struct jw *w, const char *k, int64_t ms);

#endif
