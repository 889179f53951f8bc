/* fuzz_check: the harnesses' one assertion.  A broken invariant says which,
 * where, and why, then aborts so that libFuzzer (or the replay driver) keeps
 * and names the input. */
#ifndef BERTH_FUZZ_CHECK_H
#define BERTH_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(c, ...)                                                  \
	do {                                                                \
		if (!(c)) {                                                 \
			fprintf(stderr, "%s:%d: invariant %s: ", __FILE__, \
				__LINE__, #c);                              \
			fprintf(stderr, __VA_ARGS__);                       \
			fputc('\n', stderr);                                \
			abort();                                            \
		}                                                           \
	} while (0)

#endif
