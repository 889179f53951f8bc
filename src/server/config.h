/* config: berthd's settings, from (lowest to highest precedence) built-in
 * defaults, a config file (--config FILE or BERTH_CONFIG), BERTH_*
 * environment variables and command-line flags.  One table row a setting:
 * its name is the flag (--data-dir), the file key (data_dir) and the
 * environment variable (BERTH_DATA_DIR). */
#ifndef BERTH_SERVER_CONFIG_H
#define BERTH_SERVER_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/err.h"

struct config {
	char *listen;               /* ADDR:PORT; port 0 picks a free one */
	char *data_dir;
	char *region;
	char *account_id;
	char *store;                /* sqlite */
	char *store_sync;           /* full | normal */
	char *log_level;
	char *config_file;
	long strategy_max_providers;
	long max_cps_per_cluster;
	bool allow_asg_fargate_switch;
	long transition_ms;
	long cluster_retention_s;
	long cp_retention_s;
	long instance_retention_s;
	long task_retention_s;
	char *driver;
	long sim_step_ms;
	long capacity_wait_s;
	long fargate_capacity;
	long max_provisioning_tasks;
	long spot_warning_s;
	char *clock;
	long seed;
	long clock_start;
	char *auth;
	char *root_access_key_id;
	char *root_secret_access_key;
	char *master_key_file;
	char *infra;
	char *fargate;
	char *agent_bin;
	long agent_timeout_ms;
	long lost_agent_grace_ms;
	char *policy_file;
	char *timing;
	long instance_boot_ms;
	long healthy_grace_ms;
	long service_retention_s;
	long max_body_bytes;
	long http_threads;
	long max_connections;
	bool help;
};

/* Fill cfg from defaults, file, environment and argv.  Returns 0, or -1 with
 * a message in e (a usage error).  The caller releases with config_release. */
int config_load(struct config *cfg, int argc, char **argv, struct err *e);
void config_release(struct config *cfg);
/* Print the options, their defaults and their environment names. */
void config_usage(FILE *out);

#endif
