/* utf8: decoding and the Unicode character classes some AWS patterns use
 * (\p{L} letters, \p{N} numbers, \p{Z} separators). */
#ifndef BERTH_LIB_UTF8_H
#define BERTH_LIB_UTF8_H

#include <stdbool.h>
#include <stdint.h>

/* Decode one code point at s (valid UTF-8 assumed, as the protocol layer
 * checked it); returns the bytes used (1-4), 0 at the terminating NUL. */
int utf8_next(const char *s, uint32_t *cp);

/* \p{L} or \p{N}: a letter or a number, in any script.  Uses the C.UTF-8
 * locale's classification (glibc's Unicode tables), which also counts the
 * combining marks of some scripts as letters. */
bool utf8_is_letter_or_number(uint32_t cp);
/* \p{Z}: space, line and paragraph separators. */
bool utf8_is_separator(uint32_t cp);

#endif
