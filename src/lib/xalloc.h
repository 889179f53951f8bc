/* xalloc: allocation that never returns NULL.
 *
 * Out of memory is not a condition Berth recovers from: these abort with a
 * message, so no caller has an OOM branch.  BERTH_ASSERT aborts with file and
 * line when an invariant is broken. */
#ifndef BERTH_LIB_XALLOC_H
#define BERTH_LIB_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a new heap string. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void berth_abort(const char *file, int line, const char *what)
	__attribute__((noreturn));
#define BERTH_ASSERT(c) \
	((c) ? (void)0 : berth_abort(__FILE__, __LINE__, #c))

#endif
