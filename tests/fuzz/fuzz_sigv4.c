/* fuzz_sigv4: libFuzzer harness for the SigV4 verifier (lib/sigv4.c).
 *
 * Input: a request as text, lines separated by '\n':
 *   line 1  the method; line 2 the path; line 3 the query ("-": none);
 *   then "Name:value" header lines (at most MAX_HEADERS) up to an empty
 *   line; the rest is the body.
 * The first byte also moves the clock: now is X-Amz-Date's time (or a fixed
 * time) plus (byte % 34 - 17) minutes, so both sides of the skew limit are
 * reached ('G' and 'P' land within it: -14 and -5).  Keys: any access key id that starts with 'A' is known. A
 * signing-key cache lives across inputs (as in the server).
 *
 * Invariants (a violation aborts):
 *   - sigv4_parse_auth on the whole input and sigv4_verify answer one of
 *     the enum's outcomes; a refusal sets e.code to it and a message;
 *   - verify with the cache and without it agree;
 *   - re-signed: when the Authorization header parses, signing the request
 *     with a known key for the header's own SignedHeaders, at the clock's
 *     time, gives a request that verifies (unless it signs Authorization
 *     itself, which the new header changes). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz_check.h"
#include "lib/sigv4.h"

#define MAX_HEADERS  24
#define FIXED_NOW_MS 1440938160000LL /* 20150830T123600Z */

static const char *secret_of(void *arg, const char *akid)
{
	(void)arg;
	return akid[0] == 'A' ? "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" : NULL;
}

static const struct sigv4_keys keys = {secret_of, NULL};
static struct sigv4_cache cache; /* all zero: an empty cache */

struct input {
	char *text;
	struct sigv4_header h[MAX_HEADERS + 2];
	struct sigv4_request r;
};

static char *next_line(char **p)
{
	char *s = *p, *nl = strchr(s, '\n');
	if (nl) {
		*nl = '\0';
		*p = nl + 1;
	} else {
		*p = s + strlen(s);
	}
	return s;
}

/* Split text (NUL-terminated, owned by in) into the request. */
static void input_parse(struct input *in, size_t size)
{
	char *p = in->text, *end = in->text + size;
	memset(&in->r, 0, sizeof in->r);
	in->r.method = next_line(&p);
	in->r.path = next_line(&p);
	in->r.query = next_line(&p);
	if (strcmp(in->r.query, "-") == 0)
		in->r.query = NULL;
	in->r.headers = in->h;
	while (p < end && *p && *p != '\n' && in->r.n_headers < MAX_HEADERS) {
		char *line = next_line(&p), *colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = '\0';
		in->h[in->r.n_headers].name = line;
		in->h[in->r.n_headers++].value = colon + 1;
	}
	if (p < end && *p == '\n')
		p++;
	in->r.body = p;
	in->r.body_len = (size_t)(end - p);
	in->r.service = NULL;
}

static void check_outcome(enum sigv4_status s, const struct err *e)
{
	FUZZ_CHECK(s >= SIGV4_OK && s <= SIGV4_INVALID_SIGNATURE, "status %d", (int)s);
	FUZZ_CHECK(memchr(e->msg, '\0', sizeof e->msg) != NULL, "message not terminated");
	if (s != SIGV4_OK)
		FUZZ_CHECK(e->code == (int)s && e->msg[0], "code %d for status %d", e->code, (int)s);
}

static const char *find(const struct sigv4_request *r, const char *name)
{
	for (size_t i = 0; i < r->n_headers; i++)
		if (strcasecmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	return NULL;
}

static int signs_authorization(const struct sigv4_auth *a)
{
	for (size_t i = 0; i < a->n_names; i++)
		if (a->name_len[i] == 13 &&
		    strncasecmp(a->signed_headers + a->name_off[i], "authorization", 13) == 0)
			return 1;
	return 0;
}

/* Re-sign with a known key at a fixed time and check it verifies. */
static void check_resign(struct input *in, const struct sigv4_auth *a)
{
	if (signs_authorization(a))
		return;
	struct sigv4_header h[MAX_HEADERS + 2];
	struct sigv4_request r = in->r;
	size_t n = 0;
	for (size_t i = 0; i < in->r.n_headers; i++) {
		const char *name = in->r.headers[i].name;
		/* Ours replace these; a digest that is not the body's is refused
		 * by design, so drop that header too. */
		if (strcasecmp(name, "authorization") && strcasecmp(name, "x-amz-date") &&
		    strcasecmp(name, "date") && strcasecmp(name, "x-amz-content-sha256"))
			h[n++] = in->r.headers[i];
	}
	char auth[SIGV4_AUTH_MAX + 1];
	h[n++] = (struct sigv4_header){"X-Amz-Date", "20150830T123600Z"};
	h[n++] = (struct sigv4_header){"Authorization", ""};
	r.headers = h;
	r.n_headers = n;
	r.service = "service";
	if (sigv4_sign(&r, "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830T123600Z",
	               "us-east-1", "service", a->signed_headers, auth, sizeof auth) != 0)
		return;
	h[n - 1].value = auth;
	struct err e;
	enum sigv4_status s = sigv4_verify(&r, &keys, &cache, FIXED_NOW_MS, NULL, &e);
	FUZZ_CHECK(s == SIGV4_OK, "re-signed request refused: %d %s (%s)", (int)s, e.msg, auth);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in;
	in.text = malloc(size + 1);
	memcpy(in.text, data, size);
	in.text[size] = '\0';

	/* The parser alone, on the raw bytes. */
	struct sigv4_auth a;
	struct err e;
	check_outcome(sigv4_parse_auth(in.text, size & 1, &a, &e), &e);

	input_parse(&in, size);
	int64_t secs, now = FIXED_NOW_MS;
	const char *xdate = find(&in.r, "x-amz-date");
	if (xdate && sigv4_parse_time(xdate, 0, &secs) == 0)
		now = secs * 1000;
	now += ((size ? data[0] : 0) % 34 - 17) * 60000LL;

	struct err e2;
	enum sigv4_status s1 = sigv4_verify(&in.r, &keys, &cache, now, &a, &e);
	enum sigv4_status s2 = sigv4_verify(&in.r, &keys, NULL, now, NULL, &e2);
	check_outcome(s1, &e);
	check_outcome(s2, &e2);
	FUZZ_CHECK(s1 == s2 && strcmp(e.msg, e2.msg) == 0, "cache changes the answer: %d/%d", (int)s1,
	           (int)s2);

	struct sigv4_auth pa;
	if (sigv4_parse_auth(find(&in.r, "authorization"), 1, &pa, &e) == SIGV4_OK)
		check_resign(&in, &pa);
	free(in.text);
	return 0;
}
