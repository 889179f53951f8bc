/* err: the one error convention of Berth.
 *
 * A function that can fail for a reason a client must see returns -1 and
 * fills a struct err: a code (an enum owned by the layer that knows the
 * protocol's error names, see api/errors.def) and a human message.  Only the
 * protocol layer renders it.  lib functions that fail for system reasons
 * return negative errno instead. */
#ifndef BERTH_LIB_ERR_H
#define BERTH_LIB_ERR_H

#include <stdarg.h>

#define ERR_MSG_MAX 1024

struct err {
	int code;               /* 0 = no error */
	char msg[ERR_MSG_MAX];  /* NUL-terminated, truncated if longer */
};

/* Fill e with code and a printf-style message.  Always returns -1 so that a
 * handler can write `return err_set(e, ...)`. */
int err_set(struct err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int err_vset(struct err *e, int code, const char *fmt, va_list ap);

/* Reset e to "no error". */
void err_clear(struct err *e);

#endif
