/* sigv4: a pure verifier of AWS Signature Version 4 request signatures.
 *
 * No sockets, no clock, no globals but const tables: the caller hands over
 * the request as it received it (method, raw path and query, the headers it
 * collected, the body), the time, and a callback that maps an access key id
 * to its secret.  The answer is one of the outcomes AWS distinguishes, with
 * the message AWS gives for it; the protocol layer maps the outcome to its
 * error table (sigv4_status_type and sigv4_status_http give AWS's names).
 *
 * Canonical request (as botocore builds it for every service but S3): the
 * raw path with its dot segments and empty segments removed, then
 * URI-encoded once more (so "%20" on the wire becomes "%2520": AWS's "encode
 * each segment twice", the first time being the client's); the query's
 * pairs decoded, re-encoded with the SigV4 rules and sorted; the signed
 * headers in SignedHeaders order, lower-case names, values trimmed with
 * inner whitespace collapsed, repeated headers joined with ","; the payload
 * hash: x-amz-content-sha256's value when present, else SHA-256 of the body.
 *
 * Costs: deriving a signing key is four HMACs; struct sigv4_cache keeps the
 * derived keys so that a request with a cached key costs two SHA-256 and one
 * HMAC over a few hundred bytes. */
#ifndef BERTH_LIB_SIGV4_H
#define BERTH_LIB_SIGV4_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

/* The outcomes, in the order AWS checks for them.  err.code is set to one. */
enum sigv4_status {
	SIGV4_OK = 0,
	SIGV4_MISSING_TOKEN,       /* MissingAuthenticationToken, 403 */
	SIGV4_INCOMPLETE,          /* IncompleteSignatureException, 400 */
	SIGV4_UNRECOGNIZED_CLIENT, /* UnrecognizedClientException, 403 */
	SIGV4_INVALID_SIGNATURE,   /* InvalidSignatureException, 403 */
};

#define SIGV4_ALGORITHM      "AWS4-HMAC-SHA256"
#define SIGV4_MAX_SKEW_MS    (15 * 60 * 1000LL)
#define SIGV4_CREDENTIAL_MAX 256  /* "AKID/DATE/REGION/SERVICE/aws4_request" */
#define SIGV4_SIGNED_MAX     1024 /* the SignedHeaders value */
#define SIGV4_SIGNED_NAMES   64   /* names in it */
#define SIGV4_AUTH_MAX       4096 /* the whole Authorization header */
#define SIGV4_CACHE_SLOTS    64

/* AWS's error type ("IncompleteSignatureException") and HTTP status of an
 * outcome; "" and 200 for SIGV4_OK. */
const char *sigv4_status_type(enum sigv4_status s);
int sigv4_status_http(enum sigv4_status s);

/* One header as the caller received it: any case, value untrimmed.  Both
 * NUL-terminated and borrowed for the call. */
struct sigv4_header {
	const char *name;
	const char *value;
};

/* A request as received.  Everything is borrowed for the call. */
struct sigv4_request {
	const char *method;                 /* "POST" */
	const char *path;                   /* raw, as on the wire, without '?' */
	const char *query;                  /* raw text after '?'; NULL: none */
	const struct sigv4_header *headers; /* all the caller collected */
	size_t n_headers;
	const void *body;
	size_t body_len;
	const char *service; /* the scope must name it; NULL: any */
};

/* A parsed Authorization header.  Each credential part is NUL-terminated;
 * names[i] is signed_headers + name_off[i], name_len[i] long (not
 * NUL-terminated). */
struct sigv4_auth {
	char access_key_id[SIGV4_CREDENTIAL_MAX + 1];
	char date[SIGV4_CREDENTIAL_MAX + 1]; /* YYYYMMDD, as given */
	char region[SIGV4_CREDENTIAL_MAX + 1];
	char service[SIGV4_CREDENTIAL_MAX + 1];
	char terminator[SIGV4_CREDENTIAL_MAX + 1]; /* "aws4_request" */
	char scope[SIGV4_CREDENTIAL_MAX + 1];      /* DATE/REGION/SERVICE/TERM */
	char signed_headers[SIGV4_SIGNED_MAX + 1]; /* as given: "host;x-amz-date" */
	uint16_t name_off[SIGV4_SIGNED_NAMES];
	uint16_t name_len[SIGV4_SIGNED_NAMES];
	size_t n_names;
	char signature[65];   /* first 64 chars as given */
	size_t signature_len; /* its full length */
};

/* Where secrets come from: secret(arg, access_key_id) returns the secret
 * access key (NUL-terminated, borrowed until the call returns) or NULL for
 * an unknown key. */
struct sigv4_keys {
	const char *(*secret)(void *arg, const char *access_key_id);
	void *arg;
};

/* Derived signing keys, keyed by (access key id, a SHA-256 fingerprint of
 * the secret, date, region, service): a rotated secret never hits an old
 * entry.  Direct-mapped, SIGV4_CACHE_SLOTS entries, no allocation.  The
 * caller owns it; it is not thread-safe (one per loop thread). */
struct sigv4_cache_ent {
	uint8_t used;
	char key[SIGV4_CREDENTIAL_MAX + 1]; /* "AKID/DATE/REGION/SERVICE/aws4_request" */
	unsigned char secret_fp[32];
	unsigned char k_signing[32];
};
struct sigv4_cache {
	struct sigv4_cache_ent ent[SIGV4_CACHE_SLOTS];
	uint64_t hits, misses;
};

void sigv4_cache_init(struct sigv4_cache *c);
/* Wipes the derived keys. */
void sigv4_cache_release(struct sigv4_cache *c);

/* Parse an Authorization header value into a.  have_date says whether the
 * request has an X-Amz-Date or Date header (AWS reports its absence in the
 * same message as the missing parameters).  Returns SIGV4_OK, or
 * SIGV4_MISSING_TOKEN (NULL, or not an "AWS4-" header) or SIGV4_INCOMPLETE
 * (missing Credential, SignedHeaders or Signature, a part without '=', an
 * unknown algorithm, a credential not of five parts, too long) with AWS's
 * message in e. */
enum sigv4_status sigv4_parse_auth(const char *header, int have_date, struct sigv4_auth *a, struct err *e);

/* Seconds since the epoch of an X-Amz-Date ("20150830T123600Z") or, when
 * rfc1123 is set, a Date header ("Sun, 30 Aug 2015 12:36:00 GMT").  Returns
 * 0 or -EINVAL. */
int sigv4_parse_time(const char *text, int rfc1123, int64_t *secs);

/* kSigning from the secret, the scope's date, region and service. */
void sigv4_signing_key(const char *secret, const char *date, const char *region, const char *service,
                       unsigned char out[32]);

/* The canonical request of req for the signed headers of a, as a new heap
 * string (for tests and debugging; the verifier hashes the same bytes). */
char *sigv4_canonical_request(const struct sigv4_request *req, const struct sigv4_auth *a);

/* Verify req's signature at now_ms (milliseconds since the epoch).
 * cache may be NULL (every key is then derived).  On SIGV4_OK, a (if not
 * NULL) holds the parsed header: the access key id and the region the
 * caller needs.  Otherwise e holds AWS's message and e->code the status. */
enum sigv4_status sigv4_verify(const struct sigv4_request *req, const struct sigv4_keys *keys,
                               struct sigv4_cache *cache, int64_t now_ms, struct sigv4_auth *a,
                               struct err *e);

/* Sign req as a client would: out gets the Authorization header value for
 * the given key, the time amz_date ("20150830T123600Z", which the caller
 * sends as X-Amz-Date) and the signed header names (";"-separated,
 * lower-case, sorted; each must be among req's headers).  region and
 * service make the scope.  Returns 0, or -ENOSPC if out is too small, or
 * -EINVAL for a bad argument. */
int sigv4_sign(const struct sigv4_request *req, const char *access_key_id, const char *secret,
               const char *amz_date, const char *region, const char *service, const char *signed_headers,
               char *out, size_t out_len);

#endif
