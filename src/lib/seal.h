/* seal: secrets at rest.  A secret (an IAM secret access key) is stored as
 * AES-256-GCM ciphertext under the daemon's master key, bound to a label
 * (its access key id) as associated data, so a ciphertext copied onto
 * another key's record does not open.
 *
 *	sealed text = "v1:" base64(nonce[12] || ciphertext || tag[16])
 *
 * The master key is 32 random bytes kept outside the store (a key file of
 * mode 0600 beside it by default, or a path the operator chooses), so a copy
 * of the store alone reveals no secret.  No globals, no I/O but
 * seal_key_load. */
#ifndef BERTH_LIB_SEAL_H
#define BERTH_LIB_SEAL_H

#include <stddef.h>

#include "lib/err.h"

#define SEAL_KEY_BYTES 32

struct seal_key {
	unsigned char k[SEAL_KEY_BYTES];
};

/* Read the master key from path: 64 hex digits (and an optional newline).
 * When the file does not exist and create is set, make one with a fresh
 * random key (mode 0600, written to a temporary file and renamed).  Returns
 * 0, or -1 with a message in e (the path is named; the key never is). */
int seal_key_load(const char *path, int create, struct seal_key *key, struct err *e);
/* The key from 64 hex digits; 0 or -1. */
int seal_key_from_hex(const char *hex, struct seal_key *key);

/* Seal the NUL-terminated secret for label: a new heap string. */
char *seal_encrypt(const struct seal_key *key, const char *label, const char *secret);
/* Open sealed text for label: a new heap string, or NULL when it is
 * malformed or was not sealed by this key for this label. */
char *seal_decrypt(const struct seal_key *key, const char *label, const char *sealed);

/* Overwrite n bytes of p in a way the compiler keeps. */
void seal_wipe(void *p, size_t n);

#endif
