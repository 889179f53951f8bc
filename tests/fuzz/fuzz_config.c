/* fuzz_config: libFuzzer harness for berthd's configuration loader: the
 * config file parser and the command-line flags (src/server/config.c).
 *
 * Input: NUL-separated parts.  The first is the config file's text (written
 * to a memfd that --config names); each further part, up to FUZZ_MAX_ARGS,
 * is one command-line argument.  Arguments that would name another config
 * file are dropped: the harness must not read the machine's files.  BERTH_*
 * variables are removed from the environment once, so runs do not depend on
 * the caller's.
 *
 * Invariants (a violation aborts): config_load returns 0 or -1; on -1 there
 * is a message; on 0 every string setting is set and every number is within
 * its documented range.  config_release frees everything (LeakSanitizer
 * checks). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "server/config.h"

#define FUZZ_MAX_ARGS 16

#include "fuzz_check.h"

extern char **environ;

static int memfd = -1;
static char path[64];

static void setup(void)
{
	/* Drop BERTH_* from the environment (collect first: unsetenv moves
	 * entries). */
	char *names[256];
	size_t n = 0;
	for (char **e = environ; *e && n < 256; e++)
		if (strncmp(*e, "BERTH_", 6) == 0) {
			const char *eq = strchr(*e, '=');
			names[n++] = strndup(*e, eq ? (size_t)(eq - *e) : strlen(*e));
		}
	for (size_t i = 0; i < n; i++) {
		unsetenv(names[i]);
		free(names[i]);
	}
	memfd = memfd_create("berth-fuzz-config", 0);
	if (memfd < 0) {
		perror("fuzz_config: memfd_create");
		abort();
	}
	snprintf(path, sizeof path, "/proc/self/fd/%d", memfd);
}

static void check_range(const char *name, long v, long lo, long hi)
{
	FUZZ_CHECK(v >= lo && v <= hi, "%s = %ld, outside %ld..%ld", name, v, lo, hi);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (memfd < 0)
		setup();
	const char *p = (const char *)data, *end = p + size;
	const char *nul = memchr(p, '\0', size);
	size_t flen = nul ? (size_t)(nul - p) : size;
	if (ftruncate(memfd, 0) != 0 || pwrite(memfd, p, flen, 0) != (ssize_t)flen)
		abort();

	char *argv[FUZZ_MAX_ARGS + 4];
	int argc = 0;
	argv[argc++] = strdup("berthd");
	argv[argc++] = strdup("--config");
	argv[argc++] = strdup(path);
	for (p = nul ? nul + 1 : end; p < end && argc < FUZZ_MAX_ARGS + 3;) {
		const char *q = memchr(p, '\0', (size_t)(end - p));
		size_t n = q ? (size_t)(q - p) : (size_t)(end - p);
		char *a = strndup(p, n);
		if (strstr(a, "config"))
			free(a);
		else
			argv[argc++] = a;
		p = q ? q + 1 : end;
	}
	argv[argc] = NULL;

	struct config cfg;
	struct err e;
	err_clear(&e);
	int rc = config_load(&cfg, argc, argv, &e);
	FUZZ_CHECK(rc == 0 || rc == -1, "rc %d", rc);
	if (rc) {
		FUZZ_CHECK(e.msg[0] != '\0', "error without a message");
	} else {
		FUZZ_CHECK(cfg.listen && cfg.data_dir && cfg.region && cfg.account_id && cfg.store &&
				   cfg.store_sync && cfg.log_level && cfg.config_file,
			   "a string setting is unset");
		FUZZ_CHECK(strcmp(cfg.config_file, path) == 0, "config_file %s", cfg.config_file);
		check_range("strategy-max-providers", cfg.strategy_max_providers, 1, 20);
		check_range("max-cps-per-cluster", cfg.max_cps_per_cluster, 1, 1000);
		check_range("transition-ms", cfg.transition_ms, 0, 3600000);
		check_range("cluster-retention-s", cfg.cluster_retention_s, 0, 31536000);
		check_range("cp-retention-s", cfg.cp_retention_s, 0, 31536000);
		check_range("max-body-bytes", cfg.max_body_bytes, 1024, 67108864);
		check_range("http-threads", cfg.http_threads, 1, 64);
		check_range("max-connections", cfg.max_connections, 16, 65536);
	}
	config_release(&cfg);
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	return 0;
}
