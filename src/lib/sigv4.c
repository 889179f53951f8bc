/* sigv4: see sigv4.h.
 *
 * The verifier checks in AWS's order, so that a request wrong in several
 * ways gets the error AWS would give first: the Authorization header's
 * presence and shape, the date's format, the clock skew, the credential
 * scope, the access key, and last the signature itself.  Nothing here
 * allocates but the canonical request's buffer (and the query's pairs);
 * every length that reaches a fixed buffer is bounded at parse time.
 * Derived keys and secrets are wiped from the stack after use. */
#include "lib/sigv4.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "lib/xalloc.h"

static const struct {
	const char *type;
	int http;
} status_table[] = {
    [SIGV4_OK] = {"", 200},
    [SIGV4_MISSING_TOKEN] = {"MissingAuthenticationToken", 403},
    [SIGV4_INCOMPLETE] = {"IncompleteSignatureException", 400},
    [SIGV4_UNRECOGNIZED_CLIENT] = {"UnrecognizedClientException", 403},
    [SIGV4_INVALID_SIGNATURE] = {"InvalidSignatureException", 403},
};

#define MSG_MISSING "Missing Authentication Token"
#define MSG_UNKNOWN "The security token included in the request is invalid."
#define MSG_MISMATCH                                                                                         \
	"The request signature we calculated does not match the signature you provided. "                    \
	"Check your AWS Secret Access Key and signing method. Consult the service "                          \
	"documentation for details."
#define MSG_BAD_DATE                                                                                         \
	"Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601"
#define ISO_LEN     16 /* 20150830T123600Z */
#define RFC1123_LEN 29 /* Sun, 30 Aug 2015 12:36:00 GMT */
#define TERMINATOR  "aws4_request"

const char *sigv4_status_type(enum sigv4_status s)
{
	BERTH_ASSERT((size_t)s < sizeof status_table / sizeof status_table[0]);
	return status_table[s].type;
}

int sigv4_status_http(enum sigv4_status s)
{
	BERTH_ASSERT((size_t)s < sizeof status_table / sizeof status_table[0]);
	return status_table[s].http;
}

static enum sigv4_status fail(struct err *e, enum sigv4_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum sigv4_status fail(struct err *e, enum sigv4_status s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_vset(e, (int)s, fmt, ap);
	va_end(ap);
	return s;
}

/* ---- hashing: libcrypto's SHA-256 through one reusable EVP context ---- */

/* A failure of libcrypto on a digest it always has is a broken invariant. */
static void md_check(int ok)
{
	if (!ok)
		berth_abort(__FILE__, __LINE__, "libcrypto SHA-256 failed");
}

static void md_init(EVP_MD_CTX *c)
{
	md_check(EVP_DigestInit_ex(c, EVP_sha256(), NULL));
}

static void md_final(EVP_MD_CTX *c, unsigned char out[32])
{
	unsigned int n = 0;
	md_check(EVP_DigestFinal_ex(c, out, &n) && n == 32);
}

static void sha256(EVP_MD_CTX *c, const void *d, size_t n, unsigned char out[32])
{
	md_init(c);
	md_check(EVP_DigestUpdate(c, d, n));
	md_final(c, out);
}

/* HMAC-SHA256 (RFC 2104) on the digest context: libcrypto's HMAC() goes
 * through a MAC fetch per call in OpenSSL 3, which costs more than the
 * hashing itself at these sizes. */
static void hmac(EVP_MD_CTX *c, const void *key, size_t klen, const void *msg, size_t mlen,
                 unsigned char out[32])
{
	unsigned char k[64] = {0}, pad[64], inner[32];
	if (klen > sizeof k)
		sha256(c, key, klen, k);
	else
		memcpy(k, key, klen);
	for (size_t i = 0; i < sizeof pad; i++)
		pad[i] = k[i] ^ 0x36;
	md_init(c);
	md_check(EVP_DigestUpdate(c, pad, sizeof pad) && EVP_DigestUpdate(c, msg, mlen));
	md_final(c, inner);
	for (size_t i = 0; i < sizeof pad; i++)
		pad[i] = k[i] ^ 0x5c;
	md_init(c);
	md_check(EVP_DigestUpdate(c, pad, sizeof pad) && EVP_DigestUpdate(c, inner, sizeof inner));
	md_final(c, out);
	OPENSSL_cleanse(k, sizeof k);
	OPENSSL_cleanse(pad, sizeof pad);
}

static EVP_MD_CTX *md_new(void)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	if (!c)
		berth_abort(__FILE__, __LINE__, "out of memory (EVP_MD_CTX_new)");
	return c;
}

static void hex(const unsigned char *d, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[2 * n] = '\0';
}

static void derive_key(EVP_MD_CTX *c, const char *secret, const char *date, const char *region,
                       const char *service, unsigned char out[32])
{
	size_t slen = strlen(secret);
	char *k = xmalloc(slen + 5);
	memcpy(k, "AWS4", 4);
	memcpy(k + 4, secret, slen + 1);
	unsigned char a[32], b[32];
	hmac(c, k, slen + 4, date, strlen(date), a);
	hmac(c, a, 32, region, strlen(region), b);
	hmac(c, b, 32, service, strlen(service), a);
	hmac(c, a, 32, TERMINATOR, strlen(TERMINATOR), out);
	OPENSSL_cleanse(k, slen + 4);
	OPENSSL_cleanse(a, sizeof a);
	OPENSSL_cleanse(b, sizeof b);
	free(k);
}

void sigv4_signing_key(const char *secret, const char *date, const char *region, const char *service,
                       unsigned char out[32])
{
	EVP_MD_CTX *c = md_new();
	derive_key(c, secret, date, region, service, out);
	EVP_MD_CTX_free(c);
}

/* ---- the signing-key cache ---- */

void sigv4_cache_init(struct sigv4_cache *c)
{
	memset(c, 0, sizeof *c);
}

void sigv4_cache_release(struct sigv4_cache *c)
{
	OPENSSL_cleanse(c, sizeof *c);
}

static size_t cache_slot(const char *key)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	return (size_t)(h % SIGV4_CACHE_SLOTS);
}

/* kSigning for a's scope and this secret, from the cache when it has it. */
static void signing_key(EVP_MD_CTX *c, struct sigv4_cache *cache, const struct sigv4_auth *a,
                        const char *secret, unsigned char out[32])
{
	if (!cache) {
		derive_key(c, secret, a->date, a->region, a->service, out);
		return;
	}
	/* The key is the credential itself ("AKID/DATE/REGION/SERVICE/aws4_request"
	 * once the scope is checked), so it fits. */
	char key[SIGV4_CREDENTIAL_MAX + 1];
	size_t kl = strlen(a->access_key_id), sl = strlen(a->scope);
	BERTH_ASSERT(kl + 1 + sl < sizeof key);
	memcpy(key, a->access_key_id, kl);
	key[kl] = '/';
	memcpy(key + kl + 1, a->scope, sl + 1);
	unsigned char fp[32];
	sha256(c, secret, strlen(secret), fp);
	struct sigv4_cache_ent *ent = &cache->ent[cache_slot(key)];
	if (ent->used && strcmp(ent->key, key) == 0 && memcmp(ent->secret_fp, fp, sizeof fp) == 0) {
		memcpy(out, ent->k_signing, 32);
		cache->hits++;
		return;
	}
	derive_key(c, secret, a->date, a->region, a->service, out);
	ent->used = 1;
	memcpy(ent->key, key, sizeof key);
	memcpy(ent->secret_fp, fp, sizeof fp);
	memcpy(ent->k_signing, out, 32);
	cache->misses++;
}

/* ---- a growable byte buffer for the canonical request ---- */

struct sbuf {
	char *p;
	size_t n, cap;
};

static void sb_init(struct sbuf *b, size_t cap)
{
	b->p = xmalloc(cap);
	b->n = 0;
	b->cap = cap;
}

static void sb_room(struct sbuf *b, size_t more)
{
	if (b->n + more <= b->cap)
		return;
	while (b->n + more > b->cap)
		b->cap *= 2;
	b->p = xrealloc(b->p, b->cap);
}

static void sb_put(struct sbuf *b, const void *d, size_t n)
{
	sb_room(b, n);
	memcpy(b->p + b->n, d, n);
	b->n += n;
}

static void sb_putc(struct sbuf *b, char ch)
{
	sb_room(b, 1);
	b->p[b->n++] = ch;
}

static void sb_puts(struct sbuf *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

/* ---- URI encoding (SigV4: everything but A-Z a-z 0-9 - _ . ~ as %XX) ---- */

static int unreserved(unsigned char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       ch == '-' || ch == '_' || ch == '.' || ch == '~';
}

static size_t enc_byte(unsigned char ch, char *out)
{
	static const char digits[] = "0123456789ABCDEF";
	if (unreserved(ch)) {
		out[0] = (char)ch;
		return 1;
	}
	out[0] = '%';
	out[1] = digits[ch >> 4];
	out[2] = digits[ch & 15];
	return 3;
}

static int hexval(unsigned char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Decode s[0..n) ("%41" -> 'A'; a '%' not followed by two hex digits stays
 * as is; '+' stays '+': SigV4 clients send spaces as %20) and re-encode it
 * into out, which has room for 3n bytes.  Returns the length written. */
static size_t reencode(const char *s, size_t n, char *out)
{
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		int hi, lo;
		if (ch == '%' && i + 2 < n && (hi = hexval((unsigned char)s[i + 1])) >= 0 &&
		    (lo = hexval((unsigned char)s[i + 2])) >= 0) {
			ch = (unsigned char)(hi * 16 + lo);
			i += 2;
		}
		w += enc_byte(ch, out + w);
	}
	return w;
}

/* ---- the canonical request ---- */

/* The path as botocore canonicalizes it: empty and "." segments dropped,
 * ".." pops one, the leading and trailing '/' kept, then every byte but the
 * unreserved ones and '/' percent-encoded (so an encoded "%2F" on the wire
 * becomes "%252F": the path is never decoded). */
static void canon_path(struct sbuf *b, const char *path)
{
	size_t len = path ? strlen(path) : 0;
	if (len == 0) {
		sb_putc(b, '/');
		return;
	}
	char *norm = xmalloc(len + 1);
	size_t n = 0;
	for (const char *s = path; *s;) {
		const char *end = strchr(s, '/');
		size_t sl = end ? (size_t)(end - s) : strlen(s);
		if (sl == 2 && s[0] == '.' && s[1] == '.') {
			while (n > 0 && norm[n - 1] != '/')
				n--;
			n = n > 0 ? n - 1 : 0; /* the '/' that joined it */
		} else if (sl > 0 && !(sl == 1 && s[0] == '.')) {
			if (n > 0)
				norm[n++] = '/';
			memcpy(norm + n, s, sl);
			n += sl;
		}
		s += sl + (end != NULL);
	}
	sb_room(b, 3 * n + 2);
	if (path[0] == '/')
		b->p[b->n++] = '/';
	for (size_t i = 0; i < n; i++) {
		if (norm[i] == '/')
			b->p[b->n++] = '/';
		else
			b->n += enc_byte((unsigned char)norm[i], b->p + b->n);
	}
	if (path[len - 1] == '/' && n > 0)
		b->p[b->n++] = '/';
	free(norm);
}

struct qpair {
	const char *k, *v; /* NUL-terminated, encoded, in the arena */
};

static int qpair_cmp(const void *x, const void *y)
{
	const struct qpair *a = x, *b = y;
	int c = strcmp(a->k, b->k);
	return c ? c : strcmp(a->v, b->v);
}

/* Split "k=v&k2" into re-encoded pairs in arena; empty pieces are skipped
 * (no client sends them).  Returns the number of pairs. */
static size_t query_pairs(const char *q, char *arena, struct qpair *pairs)
{
	size_t np = 0, w = 0;
	for (const char *s = q; *s;) {
		const char *end = strchr(s, '&');
		size_t sl = end ? (size_t)(end - s) : strlen(s);
		if (sl > 0) {
			const char *eq = memchr(s, '=', sl);
			size_t kl = eq ? (size_t)(eq - s) : sl;
			pairs[np].k = arena + w;
			w += reencode(s, kl, arena + w);
			arena[w++] = '\0';
			pairs[np].v = arena + w;
			if (eq)
				w += reencode(eq + 1, sl - kl - 1, arena + w);
			arena[w++] = '\0';
			np++;
		}
		s += sl + (end != NULL);
	}
	return np;
}

static void canon_query(struct sbuf *b, const char *q)
{
	if (!q || !*q)
		return;
	size_t len = strlen(q), max_pairs = 1;
	for (const char *s = q; *s; s++)
		max_pairs += *s == '&';
	/* Each byte encodes to at most 3, plus two NULs a pair. */
	char *arena = xmalloc(3 * len + 2 * max_pairs + 1);
	struct qpair *pairs = xmalloc(max_pairs * sizeof *pairs);
	size_t np = query_pairs(q, arena, pairs);
	qsort(pairs, np, sizeof *pairs, qpair_cmp);
	for (size_t i = 0; i < np; i++) {
		if (i > 0)
			sb_putc(b, '&');
		sb_puts(b, pairs[i].k);
		sb_putc(b, '=');
		sb_puts(b, pairs[i].v);
	}
	free(pairs);
	free(arena);
}

static int is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\v' || ch == '\f';
}

/* A header value trimmed, with each inner run of whitespace one space. */
static void put_trimmed(struct sbuf *b, const char *v)
{
	int gap = 0, started = 0;
	for (; *v; v++) {
		if (is_space(*v)) {
			gap = started;
			continue;
		}
		if (gap)
			sb_putc(b, ' ');
		sb_putc(b, *v);
		gap = 0;
		started = 1;
	}
}

static int name_is(const char *hname, const char *name, size_t nlen)
{
	return strncasecmp(hname, name, nlen) == 0 && hname[nlen] == '\0';
}

/* The first header of that name, or NULL. */
static const char *header(const struct sigv4_request *req, const char *name)
{
	size_t nlen = strlen(name);
	for (size_t i = 0; i < req->n_headers; i++)
		if (name_is(req->headers[i].name, name, nlen))
			return req->headers[i].value;
	return NULL;
}

/* "name:v1,v2\n": every header of that name, in the caller's order.  A
 * signed header the request lacks gets an empty value, so the signature
 * decides (it matches only if the client signed it empty). */
static void canon_header(struct sbuf *b, const struct sigv4_request *req, const char *name, size_t nlen)
{
	sb_room(b, nlen + 1);
	for (size_t i = 0; i < nlen; i++) {
		char ch = name[i];
		b->p[b->n++] = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
	}
	sb_putc(b, ':');
	int first = 1;
	for (size_t i = 0; i < req->n_headers; i++) {
		if (!name_is(req->headers[i].name, name, nlen))
			continue;
		if (!first)
			sb_putc(b, ',');
		put_trimmed(b, req->headers[i].value);
		first = 0;
	}
	sb_putc(b, '\n');
}

/* The payload hash the client signed is x-amz-content-sha256's value when
 * present (written trimmed, like any header value), else body_hex. */
static void canon_build(struct sbuf *b, const struct sigv4_request *req, const struct sigv4_auth *a,
                        const char *body_hex)
{
	sb_puts(b, req->method ? req->method : "");
	sb_putc(b, '\n');
	canon_path(b, req->path);
	sb_putc(b, '\n');
	canon_query(b, req->query);
	sb_putc(b, '\n');
	for (size_t i = 0; i < a->n_names; i++)
		canon_header(b, req, a->signed_headers + a->name_off[i], a->name_len[i]);
	sb_putc(b, '\n');
	sb_puts(b, a->signed_headers);
	sb_putc(b, '\n');
	const char *given = header(req, "x-amz-content-sha256");
	if (given)
		put_trimmed(b, given);
	else
		sb_puts(b, body_hex);
}

static void body_hash(EVP_MD_CTX *c, const struct sigv4_request *req, char out[65])
{
	unsigned char d[32];
	sha256(c, req->body ? req->body : "", req->body ? req->body_len : 0, d);
	hex(d, sizeof d, out);
}

/* Whether x-amz-content-sha256 holds a digest (64 lower-case hex digits
 * once trimmed) that is not the body's: a body swapped under a signed hash.
 * Other values (UNSIGNED-PAYLOAD...) are only signed, as AWS does. */
static int content_hash_differs(const struct sigv4_request *req, const char *body_hex)
{
	const char *h = header(req, "x-amz-content-sha256");
	if (!h)
		return 0;
	while (is_space(*h))
		h++;
	size_t n = 0;
	while (n < 64 && hexval((unsigned char)h[n]) >= 0 && !(h[n] >= 'A' && h[n] <= 'F'))
		n++;
	const char *rest = h + n;
	while (is_space(*rest))
		rest++;
	if (n != 64 || *rest)
		return 0;
	return memcmp(h, body_hex, 64) != 0;
}

char *sigv4_canonical_request(const struct sigv4_request *req, const struct sigv4_auth *a)
{
	EVP_MD_CTX *c = md_new();
	char bh[65];
	body_hash(c, req, bh);
	EVP_MD_CTX_free(c);
	struct sbuf b;
	sb_init(&b, 512);
	canon_build(&b, req, a, bh);
	sb_putc(&b, '\0');
	return b.p;
}

/* ---- the Authorization header ---- */

struct auth_parts {
	const char *cred, *signed_h, *sig;
	size_t cred_len, signed_len, sig_len;
};

static enum sigv4_status missing_equal(const char *h, struct err *e)
{
	unsigned char d[32];
	unsigned int n = 0;
	md_check(EVP_Digest(h, strlen(h), d, &n, EVP_sha256(), NULL) && n == 32);
	unsigned char b64[48];
	EVP_EncodeBlock(b64, d, sizeof d);
	return fail(e, SIGV4_INCOMPLETE,
	            "Invalid key=value pair (missing equal-sign) in Authorization header (hashed with "
	            "SHA-256 and encoded with Base64): '%s'.",
	            (const char *)b64);
}

/* Split the parameters after the algorithm: "k=v" parts separated by commas
 * and/or whitespace.  Unknown keys are ignored; a repeated key keeps its
 * last value. */
static enum sigv4_status auth_split(const char *h, const char *p, struct auth_parts *ap, struct err *e)
{
	memset(ap, 0, sizeof *ap);
	while (*p) {
		size_t len = strcspn(p, ", \t");
		if (len == 0) {
			p++;
			continue;
		}
		const char *eq = memchr(p, '=', len);
		if (!eq)
			return missing_equal(h, e);
		size_t kl = (size_t)(eq - p), vl = len - kl - 1;
		if (kl == 10 && memcmp(p, "Credential", 10) == 0) {
			ap->cred = eq + 1, ap->cred_len = vl;
		} else if (kl == 13 && memcmp(p, "SignedHeaders", 13) == 0) {
			ap->signed_h = eq + 1, ap->signed_len = vl;
		} else if (kl == 9 && memcmp(p, "Signature", 9) == 0) {
			ap->sig = eq + 1, ap->sig_len = vl;
		}
		p += len;
	}
	return SIGV4_OK;
}

static enum sigv4_status auth_missing(const char *h, const struct auth_parts *ap, int have_date,
                                      struct err *e)
{
	if (ap->cred && ap->signed_h && ap->sig && have_date)
		return SIGV4_OK;
	char msg[ERR_MSG_MAX];
	snprintf(msg, sizeof msg, "%s%s%s%sAuthorization=%s",
	         ap->cred ? "" : "Authorization header requires 'Credential' parameter. ",
	         ap->sig ? "" : "Authorization header requires 'Signature' parameter. ",
	         ap->signed_h ? "" : "Authorization header requires 'SignedHeaders' parameter. ",
	         have_date ? ""
	                   : "Authorization header requires existence of either a 'X-Amz-Date' or a "
	                     "'Date' header. ",
	         h);
	return fail(e, SIGV4_INCOMPLETE, "%s", msg);
}

/* Copy part i of the slash-separated credential into out. */
static void cred_part(const char *cred, size_t len, int i, char *out)
{
	const char *p = cred, *end = cred + len;
	for (; i > 0; i--)
		p = (const char *)memchr(p, '/', (size_t)(end - p)) + 1;
	const char *slash = memchr(p, '/', (size_t)(end - p));
	size_t n = (size_t)((slash ? slash : end) - p);
	memcpy(out, p, n);
	out[n] = '\0';
}

static enum sigv4_status auth_credential(const struct auth_parts *ap, struct sigv4_auth *a, struct err *e)
{
	size_t slashes = 0;
	for (size_t i = 0; i < ap->cred_len; i++)
		slashes += ap->cred[i] == '/';
	if (slashes != 4 || ap->cred_len > SIGV4_CREDENTIAL_MAX)
		return fail(e, SIGV4_INCOMPLETE,
		            "Credential must have exactly 5 slash-delimited elements, e.g. "
		            "keyid/date/region/service/term, got '%.*s'",
		            (int)(ap->cred_len > 512 ? 512 : ap->cred_len), ap->cred);
	cred_part(ap->cred, ap->cred_len, 0, a->access_key_id);
	cred_part(ap->cred, ap->cred_len, 1, a->date);
	cred_part(ap->cred, ap->cred_len, 2, a->region);
	cred_part(ap->cred, ap->cred_len, 3, a->service);
	cred_part(ap->cred, ap->cred_len, 4, a->terminator);
	size_t skip = strlen(a->access_key_id) + 1;
	memcpy(a->scope, ap->cred + skip, ap->cred_len - skip);
	a->scope[ap->cred_len - skip] = '\0';
	return SIGV4_OK;
}

static enum sigv4_status auth_signed(const struct auth_parts *ap, struct sigv4_auth *a, struct err *e)
{
	if (ap->signed_len > SIGV4_SIGNED_MAX)
		return fail(e, SIGV4_INCOMPLETE, "SignedHeaders is longer than %d characters.",
		            SIGV4_SIGNED_MAX);
	memcpy(a->signed_headers, ap->signed_h, ap->signed_len);
	a->signed_headers[ap->signed_len] = '\0';
	a->n_names = 0;
	for (size_t i = 0; ap->signed_len > 0 && i <= ap->signed_len;) {
		size_t n = strcspn(a->signed_headers + i, ";");
		if (a->n_names == SIGV4_SIGNED_NAMES)
			return fail(e, SIGV4_INCOMPLETE, "SignedHeaders names more than %d headers.",
			            SIGV4_SIGNED_NAMES);
		a->name_off[a->n_names] = (uint16_t)i;
		a->name_len[a->n_names] = (uint16_t)n;
		a->n_names++;
		i += n + 1;
	}
	return SIGV4_OK;
}

enum sigv4_status sigv4_parse_auth(const char *h, int have_date, struct sigv4_auth *a, struct err *e)
{
	a->n_names = 0;
	a->signature_len = 0;
	a->signature[0] = '\0';
	/* AWS treats anything but an "AWS4-" scheme as no SigV4 at all. */
	if (!h || strncmp(h, "AWS4-", 5) != 0)
		return fail(e, SIGV4_MISSING_TOKEN, MSG_MISSING);
	if (strlen(h) > SIGV4_AUTH_MAX)
		return fail(e, SIGV4_INCOMPLETE, "Authorization header is longer than %d characters.",
		            SIGV4_AUTH_MAX);
	size_t alg_len = strcspn(h, " \t");
	struct auth_parts ap;
	enum sigv4_status s = auth_split(h, h + alg_len, &ap, e);
	if (s == SIGV4_OK)
		s = auth_missing(h, &ap, have_date, e);
	if (s != SIGV4_OK)
		return s;
	if (alg_len != strlen(SIGV4_ALGORITHM) || memcmp(h, SIGV4_ALGORITHM, alg_len) != 0)
		return fail(e, SIGV4_INCOMPLETE, "Unsupported AWS 'algorithm': '%.*s'", (int)alg_len, h);
	s = auth_credential(&ap, a, e);
	if (s == SIGV4_OK)
		s = auth_signed(&ap, a, e);
	if (s != SIGV4_OK)
		return s;
	size_t n = ap.sig_len < 64 ? ap.sig_len : 64;
	memcpy(a->signature, ap.sig, n);
	a->signature[n] = '\0';
	a->signature_len = ap.sig_len;
	return SIGV4_OK;
}

/* ---- time ---- */

static int digits(const char *s, size_t n, int *out)
{
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Seconds since the epoch of a checked civil UTC time (year 1..9999). */
static int civil_secs(int y, int mo, int d, int h, int mi, int s, int64_t *out)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (y < 1 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59)
		return -EINVAL;
	if (d > mdays[mo - 1] + (mo == 2 && leap(y)))
		return -EINVAL;
	int64_t yy = y - 1, days = yy * 365 + yy / 4 - yy / 100 + yy / 400;
	days -= 719162; /* days from 0001-01-01 to 1970-01-01 */
	for (int m = 1; m < mo; m++)
		days += mdays[m - 1] + (m == 2 && leap(y));
	days += d - 1;
	*out = days * 86400 + h * 3600 + mi * 60 + s;
	return 0;
}

static int parse_iso(const char *t, int64_t *secs)
{
	int y, mo, d, h, mi, s;
	if (strlen(t) != ISO_LEN || t[8] != 'T' || t[15] != 'Z')
		return -EINVAL;
	if (digits(t, 4, &y) || digits(t + 4, 2, &mo) || digits(t + 6, 2, &d) || digits(t + 9, 2, &h) ||
	    digits(t + 11, 2, &mi) || digits(t + 13, 2, &s))
		return -EINVAL;
	return civil_secs(y, mo, d, h, mi, s, secs);
}

/* "Sun, 30 Aug 2015 12:36:00 GMT" (RFC 7231's IMF-fixdate). */
static int parse_rfc1123(const char *t, int64_t *secs)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	static const char wdays[] = "SunMonTueWedThuFriSat";
	if (strlen(t) != RFC1123_LEN || memcmp(t + 3, ", ", 2) != 0 || t[7] != ' ' || t[11] != ' ' ||
	    t[16] != ' ' || t[19] != ':' || t[22] != ':' || memcmp(t + 25, " GMT", 4) != 0)
		return -EINVAL;
	const char *wd = NULL;
	for (size_t i = 0; i + 3 <= sizeof wdays - 1 && !wd; i += 3)
		wd = memcmp(t, wdays + i, 3) == 0 ? wdays + i : NULL;
	int mo = 0;
	for (int i = 0; i < 12 && !mo; i++)
		mo = memcmp(t + 8, months + 3 * i, 3) == 0 ? i + 1 : 0;
	int y, d, h, mi, s;
	if (!wd || !mo || digits(t + 5, 2, &d) || digits(t + 12, 4, &y) || digits(t + 17, 2, &h) ||
	    digits(t + 20, 2, &mi) || digits(t + 23, 2, &s))
		return -EINVAL;
	return civil_secs(y, mo, d, h, mi, s, secs);
}

int sigv4_parse_time(const char *text, int rfc1123, int64_t *secs)
{
	if (!text)
		return -EINVAL;
	return rfc1123 ? parse_rfc1123(text, secs) : parse_iso(text, secs);
}

static void iso_format(int64_t secs, char out[ISO_LEN + 1])
{
	time_t t = (time_t)secs;
	struct tm tm;
	if (!gmtime_r(&t, &tm) || strftime(out, ISO_LEN + 1, "%Y%m%dT%H%M%SZ", &tm) != ISO_LEN)
		snprintf(out, ISO_LEN + 1, "%s", "00000000T000000Z");
}

/* ---- verification ---- */

/* The request's time from X-Amz-Date, else Date; stamp gets it in ISO-8601
 * basic format, as the string to sign has it. */
static enum sigv4_status request_time(const char *xdate, const char *date, char stamp[ISO_LEN + 1],
                                      int64_t *secs, struct err *e)
{
	const char *text = xdate ? xdate : date;
	if (sigv4_parse_time(text, xdate == NULL, secs) != 0)
		return fail(e, SIGV4_INCOMPLETE, MSG_BAD_DATE, text);
	iso_format(*secs, stamp);
	return SIGV4_OK;
}

/* At most SIGV4_MAX_SKEW_MS either side of now; exactly that is accepted. */
static enum sigv4_status check_skew(int64_t secs, int64_t now_ms, const char *stamp, struct err *e)
{
	int64_t now = now_ms / 1000 - (now_ms % 1000 < 0);
	int64_t skew = SIGV4_MAX_SKEW_MS / 1000;
	char now_s[ISO_LEN + 1], edge[ISO_LEN + 1];
	iso_format(now, now_s);
	if (secs < now - skew) {
		iso_format(now - skew, edge);
		return fail(e, SIGV4_INVALID_SIGNATURE,
		            "Signature expired: %s is now earlier than %s (%s - %lld min.)", stamp, edge,
		            now_s, (long long)(skew / 60));
	}
	if (secs > now + skew) {
		iso_format(now + skew, edge);
		return fail(e, SIGV4_INVALID_SIGNATURE,
		            "Signature not yet current: %s is still later than %s (%s + %lld min.)", stamp,
		            edge, now_s, (long long)(skew / 60));
	}
	return SIGV4_OK;
}

static int valid_region(const char *r)
{
	if (!*r)
		return 0;
	for (; *r; r++)
		if (!((*r >= 'a' && *r <= 'z') || (*r >= '0' && *r <= '9') || *r == '-'))
			return 0;
	return 1;
}

/* The scope's region, service, terminator and date; AWS lists every fault
 * in one message. */
static enum sigv4_status check_scope(const struct sigv4_auth *a, const char *service, const char *stamp,
                                     struct err *e)
{
	char msg[ERR_MSG_MAX];
	size_t n = 0;
	msg[0] = '\0';
	if (!valid_region(a->region))
		n += (size_t)snprintf(msg + n, sizeof msg - n,
		                      "Credential should be scoped to a valid region, not '%.64s'. ",
		                      a->region);
	if (service && strcmp(a->service, service) != 0 && n < sizeof msg)
		n += (size_t)snprintf(msg + n, sizeof msg - n,
		                      "Credential should be scoped to correct service: '%.64s'. ", service);
	if (strcmp(a->terminator, TERMINATOR) != 0 && n < sizeof msg)
		n += (size_t)snprintf(msg + n, sizeof msg - n,
		                      "Credential should be scoped with a valid terminator: 'aws4_request', "
		                      "not '%.64s'. ",
		                      a->terminator);
	if ((strlen(a->date) != 8 || memcmp(a->date, stamp, 8) != 0) && n < sizeof msg)
		n += (size_t)snprintf(
		    msg + n, sizeof msg - n,
		    "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
		    "date from HTTP: '%.64s' != '%.8s', from '%s'.",
		    a->date, stamp, stamp);
	if (n == 0)
		return SIGV4_OK;
	return fail(e, SIGV4_INVALID_SIGNATURE, "%s", msg);
}

/* The expected signature, hex, for a request whose scope checks passed. */
static void compute_signature(EVP_MD_CTX *c, const struct sigv4_request *req, const struct sigv4_auth *a,
                              const char *body_hex, const unsigned char key[32], const char *stamp,
                              char out[65])
{
	struct sbuf b;
	sb_init(&b, 1024);
	canon_build(&b, req, a, body_hex);
	unsigned char d[32];
	sha256(c, b.p, b.n, d);
	b.n = 0;
	sb_puts(&b, SIGV4_ALGORITHM "\n");
	sb_puts(&b, stamp);
	sb_putc(&b, '\n');
	sb_puts(&b, a->scope);
	sb_putc(&b, '\n');
	sb_room(&b, 64);
	hex(d, sizeof d, b.p + b.n);
	b.n += 64;
	unsigned char mac[32];
	hmac(c, key, 32, b.p, b.n, mac);
	hex(mac, sizeof mac, out);
	free(b.p);
}

static enum sigv4_status check_signature(const struct sigv4_request *req, const struct sigv4_auth *a,
                                         const char *secret, struct sigv4_cache *cache, const char *stamp,
                                         struct err *e)
{
	EVP_MD_CTX *c = md_new();
	char body_hex[65], want[65];
	body_hash(c, req, body_hex);
	if (content_hash_differs(req, body_hex)) {
		EVP_MD_CTX_free(c);
		return fail(e, SIGV4_INVALID_SIGNATURE,
		            "The provided 'x-amz-content-sha256' header does not match what was computed.");
	}
	unsigned char key[32];
	signing_key(c, cache, a, secret, key);
	compute_signature(c, req, a, body_hex, key, stamp, want);
	OPENSSL_cleanse(key, sizeof key);
	EVP_MD_CTX_free(c);
	/* Only the length is compared early: it is no secret. */
	if (a->signature_len != 64 || CRYPTO_memcmp(want, a->signature, 64) != 0)
		return fail(e, SIGV4_INVALID_SIGNATURE, MSG_MISMATCH);
	return SIGV4_OK;
}

enum sigv4_status sigv4_verify(const struct sigv4_request *req, const struct sigv4_keys *keys,
                               struct sigv4_cache *cache, int64_t now_ms, struct sigv4_auth *a, struct err *e)
{
	struct sigv4_auth local;
	if (!a)
		a = &local;
	err_clear(e);
	const char *xdate = header(req, "x-amz-date");
	const char *date = xdate ? NULL : header(req, "date");
	enum sigv4_status s = sigv4_parse_auth(header(req, "authorization"), xdate || date, a, e);
	char stamp[ISO_LEN + 1];
	int64_t secs = 0;
	if (s == SIGV4_OK)
		s = request_time(xdate, date, stamp, &secs, e);
	if (s == SIGV4_OK)
		s = check_skew(secs, now_ms, stamp, e);
	if (s == SIGV4_OK)
		s = check_scope(a, req->service, stamp, e);
	if (s != SIGV4_OK)
		return s;
	const char *secret = keys && keys->secret ? keys->secret(keys->arg, a->access_key_id) : NULL;
	if (!secret)
		return fail(e, SIGV4_UNRECOGNIZED_CLIENT, MSG_UNKNOWN);
	return check_signature(req, a, secret, cache, stamp, e);
}

/* ---- signing (clients: tests, benchmarks, the agent) ---- */

int sigv4_sign(const struct sigv4_request *req, const char *access_key_id, const char *secret,
               const char *amz_date, const char *region, const char *service, const char *signed_headers,
               char *out, size_t out_len)
{
	int64_t secs;
	if (!access_key_id || !secret || !region || !service || !signed_headers ||
	    sigv4_parse_time(amz_date, 0, &secs) != 0)
		return -EINVAL;
	/* Build the header with a placeholder signature and parse it back: the
	 * verifier's own parser then decides what was signed. */
	char h[SIGV4_AUTH_MAX + 1];
	int n = snprintf(h, sizeof h, "%s Credential=%s/%.8s/%s/%s/%s, SignedHeaders=%s, Signature=%064d",
	                 SIGV4_ALGORITHM, access_key_id, amz_date, region, service, TERMINATOR,
	                 signed_headers, 0);
	if (n < 0 || (size_t)n >= sizeof h)
		return -EINVAL;
	struct sigv4_auth a;
	struct err e;
	if (sigv4_parse_auth(h, 1, &a, &e) != SIGV4_OK || strcmp(a.access_key_id, access_key_id) != 0 ||
	    strcmp(a.region, region) != 0 || strcmp(a.service, service) != 0)
		return -EINVAL;
	if ((size_t)n >= out_len)
		return -ENOSPC;
	EVP_MD_CTX *c = md_new();
	char body_hex[65];
	body_hash(c, req, body_hex);
	unsigned char key[32];
	derive_key(c, secret, a.date, a.region, a.service, key);
	compute_signature(c, req, &a, body_hex, key, amz_date, h + n - 64);
	OPENSSL_cleanse(key, sizeof key);
	EVP_MD_CTX_free(c);
	memcpy(out, h, (size_t)n + 1);
	return 0;
}
