/* seal: see seal.h. */
#include "lib/seal.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/xalloc.h"

#define NONCE 12
#define TAG   16
#define PREFIX "v1:"

void seal_wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;
	while (n--)
		*v++ = 0;
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

int seal_key_from_hex(const char *hex, struct seal_key *key)
{
	size_t n = strlen(hex);
	while (n && (hex[n - 1] == '\n' || hex[n - 1] == '\r' || hex[n - 1] == ' '))
		n--;
	if (n != 2 * SEAL_KEY_BYTES)
		return -1;
	for (size_t i = 0; i < SEAL_KEY_BYTES; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			seal_wipe(key, sizeof *key);
			return -1;
		}
		key->k[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

static int key_create(const char *path, struct seal_key *key, struct err *e)
{
	if (RAND_bytes(key->k, SEAL_KEY_BYTES) != 1)
		return err_set(e, 1, "cannot make a master key: no random bytes");
	char hex[2 * SEAL_KEY_BYTES + 2];
	for (size_t i = 0; i < SEAL_KEY_BYTES; i++)
		snprintf(hex + 2 * i, 3, "%02x", key->k[i]);
	hex[2 * SEAL_KEY_BYTES] = '\n';
	hex[2 * SEAL_KEY_BYTES + 1] = '\0';
	char *tmp = xasprintf("%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int rc = -1;
	if (fd >= 0) {
		size_t want = 2 * SEAL_KEY_BYTES + 1;
		rc = (write(fd, hex, want) == (ssize_t)want && fsync(fd) == 0) ? 0 : -1;
		close(fd);
		if (rc == 0)
			rc = rename(tmp, path);
		if (rc)
			unlink(tmp);
	}
	seal_wipe(hex, sizeof hex);
	free(tmp);
	if (rc)
		return err_set(e, 1, "cannot write the master key file %s: %s", path, strerror(errno));
	return 0;
}

int seal_key_load(const char *path, int create, struct seal_key *key, struct err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT && create)
			return key_create(path, key, e);
		return err_set(e, 1, "cannot read the master key file %s: %s", path, strerror(errno));
	}
	char buf[2 * SEAL_KEY_BYTES + 8];
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	int rc = -1;
	if (n > 0) {
		buf[n] = '\0';
		rc = seal_key_from_hex(buf, key);
	}
	seal_wipe(buf, sizeof buf);
	if (rc)
		return err_set(e, 1, "the master key file %s must hold 64 hexadecimal digits", path);
	return 0;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *b64_encode(const unsigned char *d, size_t n)
{
	char *out = xmalloc(4 * ((n + 2) / 3) + 1), *o = out;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)d[i] << 16 | (i + 1 < n ? (unsigned)d[i + 1] << 8 : 0) |
			     (i + 2 < n ? d[i + 2] : 0);
		*o++ = b64[v >> 18 & 63];
		*o++ = b64[v >> 12 & 63];
		*o++ = i + 1 < n ? b64[v >> 6 & 63] : '=';
		*o++ = i + 2 < n ? b64[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

static int b64_val(char c)
{
	const char *p = c ? strchr(b64, c) : NULL;
	return p ? (int)(p - b64) : -1;
}

/* Decode s into a new buffer of *n bytes, or NULL if it is not base64. */
static unsigned char *b64_decode(const char *s, size_t *n)
{
	size_t len = strlen(s);
	if (len == 0 || len % 4)
		return NULL;
	unsigned char *out = xmalloc(len / 4 * 3);
	size_t k = 0;
	for (size_t i = 0; i < len; i += 4) {
		int v[4];
		for (int j = 0; j < 4; j++) {
			v[j] = s[i + j] == '=' && i + 4 == len && j >= 2 ? 0 : b64_val(s[i + j]);
			if (v[j] < 0 || (s[i + j] == '=' && j == 2 && s[i + 3] != '=')) {
				free(out);
				return NULL;
			}
		}
		unsigned w = (unsigned)v[0] << 18 | (unsigned)v[1] << 12 | (unsigned)v[2] << 6 | (unsigned)v[3];
		/* Canonical only: the bits padding leaves out must be zero, so
		 * one text has one meaning. */
		if ((s[i + 2] == '=' && (w & 0xFFFF)) || (s[i + 3] == '=' && (w & 0xFF))) {
			free(out);
			return NULL;
		}
		out[k++] = (unsigned char)(w >> 16);
		if (s[i + 2] != '=')
			out[k++] = (unsigned char)(w >> 8);
		if (s[i + 3] != '=')
			out[k++] = (unsigned char)w;
	}
	*n = k;
	return out;
}

/* One AES-256-GCM pass: encrypt (enc 1) or decrypt and check the tag. */
static int gcm(int enc, const struct seal_key *key, const unsigned char *nonce, const char *label,
	       const unsigned char *in, size_t n, unsigned char *out, unsigned char *tag)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int len = 0, ok = c && EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) == 1 &&
			  EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, NONCE, NULL) == 1 &&
			  EVP_CipherInit_ex(c, NULL, NULL, key->k, nonce, enc) == 1 &&
			  EVP_CipherUpdate(c, NULL, &len, (const unsigned char *)label, (int)strlen(label)) == 1 &&
			  (n == 0 || EVP_CipherUpdate(c, out, &len, in, (int)n) == 1);
	if (ok && !enc)
		ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG, tag) == 1;
	if (ok)
		ok = EVP_CipherFinal_ex(c, out + (n ? len : 0), &len) == 1;
	if (ok && enc)
		ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG, tag) == 1;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -1;
}

char *seal_encrypt(const struct seal_key *key, const char *label, const char *secret)
{
	size_t n = strlen(secret);
	unsigned char *buf = xmalloc(NONCE + n + TAG);
	BERTH_ASSERT(RAND_bytes(buf, NONCE) == 1);
	BERTH_ASSERT(gcm(1, key, buf, label, (const unsigned char *)secret, n, buf + NONCE, buf + NONCE + n) == 0);
	char *b = b64_encode(buf, NONCE + n + TAG);
	char *out = xasprintf(PREFIX "%s", b);
	free(b);
	free(buf);
	return out;
}

char *seal_decrypt(const struct seal_key *key, const char *label, const char *sealed)
{
	if (!sealed || strncmp(sealed, PREFIX, strlen(PREFIX)) != 0)
		return NULL;
	size_t n = 0;
	unsigned char *buf = b64_decode(sealed + strlen(PREFIX), &n);
	if (!buf)
		return NULL;
	if (n < NONCE + TAG) {
		free(buf);
		return NULL;
	}
	size_t m = n - NONCE - TAG;
	char *out = xmalloc(m + 1);
	if (gcm(0, key, buf, label, buf + NONCE, m, (unsigned char *)out, buf + NONCE + m)) {
		seal_wipe(out, m + 1);
		free(out);
		free(buf);
		return NULL;
	}
	out[m] = '\0';
	if (memchr(out, '\0', m)) { /* a secret is text */
		seal_wipe(out, m + 1);
		free(out);
		out = NULL;
	}
	free(buf);
	return out;
}
