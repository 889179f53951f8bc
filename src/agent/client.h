/* client: berth-agent's HTTP client for berthd (docs/agent-protocol.md).
 *
 * Every call is an AWS JSON 1.1 POST signed with SigV4 (service "ecs"), as
 * any ECS client sends it.  A struct agent_client owns one libcurl easy
 * handle, so consecutive calls reuse one kept-alive connection; it is used
 * from one thread only.  The agent makes two: one for the long poll on its
 * own thread, one for the loop thread's reports, so that a report never
 * waits behind a poll berthd is holding.
 *
 * Failures fill a struct err whose code is an enum agent_err: transport
 * failures and 5xx answers are worth retrying (after agent_backoff_ms), a
 * 4xx answer is not (the same request gets the same refusal).  The secret
 * access key is never logged nor put in a message. */
#ifndef BERTH_AGENT_CLIENT_H
#define BERTH_AGENT_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "agent/host.h"
#include "lib/err.h"

#define AGENT_VERSION          "0.1.0"
#define AGENT_PROTOCOL_VERSION 1
#define AGENT_TARGET_ECS       "AmazonEC2ContainerServiceV20141113."
#define AGENT_TARGET_BERTH     "BerthExtensions_v1."

/* Backoff between retries: from AGENT_BACKOFF_MIN_MS, doubling, capped. */
#define AGENT_BACKOFF_MIN_MS 250
#define AGENT_BACKOFF_MAX_MS 30000

/* err.code of a failed call. */
enum agent_err {
	AGENT_ERR_NONE = 0,
	AGENT_ERR_TRANSPORT, /* no answer: refused, reset, DNS, timeout; retry */
	AGENT_ERR_SERVER,    /* 5xx, or an answer that is not JSON; retry */
	AGENT_ERR_CLIENT,    /* 4xx (berthd refused the request), or a bad call; do not retry */
};

/* Whether a failure with this code is worth retrying. */
static inline int agent_err_retryable(int code)
{
	return code == AGENT_ERR_TRANSPORT || code == AGENT_ERR_SERVER;
}

struct agent_client_cfg {
	const char *endpoint;          /* "http://127.0.0.1:8080" (a path is kept) */
	const char *region;            /* NULL: "us-east-1" */
	const char *access_key_id;     /* NULL or "": sign with "berth-agent"/"berth-agent", */
	const char *secret_access_key; /* which berthd --auth open accepts (it reads the region) */
};

/* Opaque: holds the curl handle and a copy of the credentials. */
struct agent_client;

/* A client for cfg (everything copied).  Returns NULL and fills e
 * (AGENT_ERR_CLIENT) for an endpoint that is not an http:// or https://
 * URL, or that carries user:password@. */
struct agent_client *agent_client_new(const struct agent_client_cfg *cfg, struct err *e);
/* Close the connection and wipe the secret.  NULL is a no-op. */
void agent_client_free(struct agent_client *c);

/* POST body (NULL: {}) to the endpoint with X-Amz-Target target (the full
 * name, e.g. AGENT_TARGET_BERTH "AgentPoll"), waiting at most timeout_ms
 * for the whole exchange (<= 0: 30 s; a long poll of waitSeconds needs
 * waitSeconds * 1000 plus a margin, e.g. 25,000 for 20 s).
 *
 * Returns 0 on HTTP 200 with *out (if out is not NULL) the parsed answer,
 * which the caller frees with cJSON_Delete.  Otherwise returns -1 with
 * *out NULL and e filled: code an enum agent_err, msg "__type: message"
 * from an AWS error body ("ClientException: boom"), else a description. */
int agent_call(struct agent_client *c, const char *target, const cJSON *body, long timeout_ms, cJSON **out,
               struct err *e);

/* The HTTP status of the last call (0 if none came) and the AWS error
 * type of its answer ("ClientException", without any "prefix#"; "" if
 * none), to tell refusals apart (e.g. a containerInstanceArn that berthd
 * no longer knows, which is a ClientException). */
long agent_client_last_status(const struct agent_client *c);
const char *agent_client_last_type(const struct agent_client *c);

/* An attribute to register with ("name", value or NULL). */
struct agent_attr {
	const char *name;
	const char *value;
};

/* What RegisterContainerInstance says beyond the probed host.  All
 * borrowed for the call. */
struct agent_reg_opts {
	const char *cluster;      /* NULL: berthd's "default" */
	const char *instance_arn; /* from agent.json when re-registering; NULL: new */
	int cpu_units;            /* <= 0: the host's */
	long memory_mib;          /* <= 0: the host's */
	const int *ports;         /* reserved TCP ports; NULL: {22} (set n_ports 0 with a */
	size_t n_ports;           /*   non-NULL pointer to reserve none) */
	const int *ports_udp;     /* reserved UDP ports; NULL: none */
	size_t n_ports_udp;
	const char *zone;               /* ecs.availability-zone; NULL: none */
	const char *identity_document;  /* JSON text for an Auto Scaling instance; NULL: EXTERNAL host */
	const char *agent_hash;         /* versionInfo.agentHash; NULL: "unknown" */
	const struct agent_attr *attrs; /* extra attributes */
	size_t n_attrs;
	long timeout_ms; /* <= 0: 30 s */
};

/* The RegisterContainerInstance request for host h and o, as
 * docs/agent-protocol.md gives it.  The caller frees it. */
cJSON *agent_register_body(const struct agent_host *h, const struct agent_reg_opts *o);

/* Register (or re-register) the host.  Returns 0 with *arn_out the
 * containerInstanceArn berthd answered (the caller frees it), or -1 with
 * e filled as agent_call does (AGENT_ERR_SERVER if the answer has no ARN). */
int agent_register(struct agent_client *c, const struct agent_host *h, const struct agent_reg_opts *o,
                   char **arn_out, struct err *e);

/* How long to wait before retry number attempt (0 for the first retry):
 * a uniform draw from [ceil/2, ceil], ceil = 250 ms << attempt capped at
 * 30 s, never below 250 ms ("equal jitter": agents that lost berthd at the
 * same moment spread out, and none waits less than half its step).  rnd
 * is the random draw (any 64 bits). */
long agent_backoff_ms_r(int attempt, uint64_t rnd);
/* The same with a per-thread generator seeded from the kernel. */
long agent_backoff_ms(int attempt);

#endif
