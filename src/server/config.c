/* config: see config.h.  The table below is the only list of settings. */
#include "server/config.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

enum opt_type { OPT_STR, OPT_LONG, OPT_BOOL };

struct opt {
	const char *name;           /* flag spelling, without the leading -- */
	enum opt_type type;
	size_t off;
	const char *dflt;
	long min, max;
	const char *help;
};

#define O(field) offsetof(struct config, field)
static const struct opt opts[] = {
	{"listen", OPT_STR, O(listen), "127.0.0.1:4566", 0, 0, "address and port to serve on (port 0: any free port)"},
	{"data-dir", OPT_STR, O(data_dir), "./var", 0, 0, "where the store keeps its files"},
	{"region", OPT_STR, O(region), "us-east-1", 0, 0, "region for unsigned requests"},
	{"account-id", OPT_STR, O(account_id), "000000000000", 0, 0, "the account in every ARN"},
	{"store", OPT_STR, O(store), "sqlite", 0, 0, "store backend: sqlite"},
	{"store-sync", OPT_STR, O(store_sync), "full", 0, 0, "full (survives power loss) or normal (survives crashes)"},
	{"log-level", OPT_STR, O(log_level), "info", 0, 0, "debug, info, warn or error"},
	{"strategy-max-providers", OPT_LONG, O(strategy_max_providers), "6", 1, 20, "capacity providers allowed in one strategy"},
	{"max-cps-per-cluster", OPT_LONG, O(max_cps_per_cluster), "20", 1, 1000, "capacity providers one cluster may have"},
	{"allow-asg-fargate-switch", OPT_BOOL, O(allow_asg_fargate_switch), "false", 0, 0, "let services move between Auto Scaling group and Fargate providers"},
	{"transition-ms", OPT_LONG, O(transition_ms), "1000", 0, 3600000, "how long PROVISIONING and *_IN_PROGRESS states last"},
	{"cluster-retention-s", OPT_LONG, O(cluster_retention_s), "3600", 0, 31536000, "how long INACTIVE clusters stay describable"},
	{"cp-retention-s", OPT_LONG, O(cp_retention_s), "3600", 0, 31536000, "how long INACTIVE capacity providers stay describable"},
	{"instance-retention-s", OPT_LONG, O(instance_retention_s), "3600", 0, 31536000, "how long deregistered (INACTIVE) container instances stay describable"},
	{"task-retention-s", OPT_LONG, O(task_retention_s), "3600", 0, 31536000, "how long STOPPED tasks stay describable"},
	{"driver", OPT_STR, O(driver), "sim", 0, 0, "where tasks run: sim (simulated on the loop's clock)"},
	{"sim-step-ms", OPT_LONG, O(sim_step_ms), "500", 0, 3600000, "sim driver: how long each task lifecycle step takes"},
	{"capacity-wait-s", OPT_LONG, O(capacity_wait_s), "1200", 0, 86400, "how long a PROVISIONING task waits for capacity before it stops"},
	{"fargate-capacity", OPT_LONG, O(fargate_capacity), "0", 0, 100000000, "sim driver: Fargate tasks that may run at once in a region (0: unlimited)"},
	{"spot-warning-s", OPT_LONG, O(spot_warning_s), "120", 0, 3600, "a FARGATE_SPOT interruption's warning before the task stops"},
	{"clock", OPT_STR, O(clock), "real", 0, 0, "real, or virtual: time moves only when the extension action AdvanceClock says (deterministic runs)"},
	{"clock-start", OPT_LONG, O(clock_start), "0", 0, 4102444800, "--clock virtual: the time it starts at, in seconds since 1970 (0: now)"},
	{"seed", OPT_LONG, O(seed), "0", 0, 9007199254740991, "seed of the random numbers (ids, placement draws); 0: from the OS"},
	{"auth", OPT_STR, O(auth), "open", 0, 0, "open (any credentials; the region comes from the signature) or sigv4 (every request signed with a known key)"},
	{"root-access-key-id", OPT_STR, O(root_access_key_id), "", 0, 0, "the root credentials' access key id (--auth sigv4)"},
	{"root-secret-access-key", OPT_STR, O(root_secret_access_key), "", 0, 0, "the root credentials' secret access key (--auth sigv4; never logged)"},
	{"agent-timeout-ms", OPT_LONG, O(agent_timeout_ms), "60000", 0, 86400000, "berth-agent: agentConnected goes false after this long without a poll (0: never)"},
	{"lost-agent-grace-ms", OPT_LONG, O(lost_agent_grace_ms), "0", 0, 86400000, "services replace the tasks of an instance whose agent is disconnected after this long"},
	{"infra", OPT_STR, O(infra), "sim", 0, 0, "Auto Scaling instances: sim (simulated) or process (a berth-agent process each, on this host)"},
	{"fargate", OPT_STR, O(fargate), "sim", 0, 0, "Fargate tasks: sim (simulated) or process (each under a berth-agent of its own, on this host)"},
	{"agent-bin", OPT_STR, O(agent_bin), "", 0, 0, "--infra process: the berth-agent to start (default: the one beside berthd)"},
	{"master-key-file", OPT_STR, O(master_key_file), "", 0, 0, "the key that seals secret access keys in the store: 64 hex digits, made on first start (default: DATA_DIR/master.key)"},
	{"policy-file", OPT_STR, O(policy_file), "", 0, 0, "IAM users, access keys and inline policies to load at start and on SIGHUP (JSON; see docs/auth.md)"},
	{"timing", OPT_STR, O(timing), "ecs", 0, 0, "cluster auto scaling timing: ecs (1-minute metric, 15-minute scale-in, as AWS) or fast (the same logic on a 1-second period)"},
	{"instance-boot-ms", OPT_LONG, O(instance_boot_ms), "60000", 0, 3600000, "sim: how long an Auto Scaling instance takes to boot and register (ecs timing; fast scales it down)"},
	{"healthy-grace-ms", OPT_LONG, O(healthy_grace_ms), "40000", 0, 86400000, "a RUNNING service task without health checks counts as healthy after this (ECS: 40 s)"},
	{"service-retention-s", OPT_LONG, O(service_retention_s), "3600", 0, 31536000, "how long deleted (INACTIVE) services stay describable"},
	{"max-provisioning-tasks", OPT_LONG, O(max_provisioning_tasks), "500", 1, 1000000, "PROVISIONING tasks a cluster may hold"},
	{"max-body-bytes", OPT_LONG, O(max_body_bytes), "1048576", 1024, 67108864, "largest request body accepted"},
	{"http-threads", OPT_LONG, O(http_threads), "2", 1, 64, "HTTP I/O threads (they only move bytes)"},
	{"max-connections", OPT_LONG, O(max_connections), "4096", 16, 65536, "simultaneous client connections"},
	{"config", OPT_STR, O(config_file), "", 0, 0, "a config file of key = value lines (keys as flags, - or _)"},
	{"help", OPT_BOOL, O(help), "false", 0, 0, "print this help and exit"},
};
#undef O
#define NOPTS (sizeof opts / sizeof opts[0])

static int set(struct config *cfg, const struct opt *o, const char *val, const char *where, struct err *e)
{
	char *p = (char *)cfg + o->off;
	switch (o->type) {
	case OPT_STR:
		free(*(char **)p);
		*(char **)p = xstrdup(val);
		return 0;
	case OPT_LONG: {
		char *end;
		errno = 0;
		long v = strtol(val, &end, 10);
		if (errno || end == val || *end || v < o->min || v > o->max)
			return err_set(e, 1, "%s: %s must be a whole number from %ld to %ld, not '%s'", where,
				       o->name, o->min, o->max, val);
		*(long *)p = v;
		return 0;
	}
	case OPT_BOOL:
		if (!strcmp(val, "true") || !strcmp(val, "1") || !strcmp(val, "yes") || !strcmp(val, "on"))
			*(bool *)p = true;
		else if (!strcmp(val, "false") || !strcmp(val, "0") || !strcmp(val, "no") || !strcmp(val, "off"))
			*(bool *)p = false;
		else
			return err_set(e, 1, "%s: %s must be true or false, not '%s'", where, o->name, val);
		return 0;
	}
	return 0;
}

/* Find an option by flag or file spelling ("data-dir" or "data_dir"). */
static const struct opt *find(const char *name, size_t len)
{
	for (size_t i = 0; i < NOPTS; i++) {
		const char *n = opts[i].name;
		if (strlen(n) != len)
			continue;
		size_t j = 0;
		for (; j < len; j++)
			if (!(n[j] == name[j] || (n[j] == '-' && name[j] == '_')))
				break;
		if (j == len)
			return &opts[i];
	}
	return NULL;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static int load_file(struct config *cfg, const char *path, struct err *e)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return err_set(e, 1, "cannot open config file %s: %s", path, strerror(errno));
	char line[4096];
	int lineno = 0, rc = 0;
	while (rc == 0 && fgets(line, sizeof line, f)) {
		lineno++;
		char *s = trim(line);
		if (!*s || *s == '#' || *s == ';' || *s == '[')
			continue;
		char *eq = strchr(s, '=');
		if (!eq) {
			rc = err_set(e, 1, "%s:%d: expected key = value", path, lineno);
			break;
		}
		*eq = '\0';
		char *key = trim(s), *val = trim(eq + 1);
		size_t vl = strlen(val);
		if (vl >= 2 && (val[0] == '"' || val[0] == '\'') && val[vl - 1] == val[0]) {
			val[vl - 1] = '\0';
			val++;
		}
		const struct opt *o = find(key, strlen(key));
		if (!o || !strcmp(o->name, "config") || !strcmp(o->name, "help")) {
			rc = err_set(e, 1, "%s:%d: unknown setting '%s'", path, lineno, key);
			break;
		}
		char where[512];
		snprintf(where, sizeof where, "%s:%d", path, lineno);
		rc = set(cfg, o, val, where, e);
	}
	fclose(f);
	return rc;
}

int config_load(struct config *cfg, int argc, char **argv, struct err *e)
{
	memset(cfg, 0, sizeof *cfg);
	for (size_t i = 0; i < NOPTS; i++)
		if (set(cfg, &opts[i], opts[i].dflt, "default", e))
			return -1;
	/* The config file comes first, so find its name before anything else. */
	const char *file = getenv("BERTH_CONFIG");
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--config") && i + 1 < argc)
			file = argv[i + 1];
		else if (!strncmp(argv[i], "--config=", 9))
			file = argv[i] + 9;
	}
	if (file && *file) {
		set(cfg, find("config", 6), file, "flag", e);
		if (load_file(cfg, file, e))
			return -1;
	}
	for (size_t i = 0; i < NOPTS; i++) {
		char env[64] = "BERTH_";
		size_t k = 6;
		for (const char *p = opts[i].name; *p && k < sizeof env - 1; p++)
			env[k++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
		env[k] = '\0';
		const char *v = getenv(env);
		if (v && strcmp(opts[i].name, "config") != 0 && set(cfg, &opts[i], v, env, e))
			return -1;
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strncmp(a, "--", 2) != 0)
			return err_set(e, 1, "unexpected argument '%s' (see --help)", a);
		a += 2;
		const char *eq = strchr(a, '=');
		size_t len = eq ? (size_t)(eq - a) : strlen(a);
		const struct opt *o = find(a, len);
		if (!o)
			return err_set(e, 1, "unknown option '--%.*s' (see --help)", (int)len, a);
		const char *val = eq ? eq + 1 : NULL;
		if (!val && o->type == OPT_BOOL)
			val = "true";
		if (!val) {
			if (i + 1 >= argc)
				return err_set(e, 1, "option --%s needs a value", o->name);
			val = argv[++i];
		}
		if (set(cfg, o, val, "command line", e))
			return -1;
	}
	return 0;
}

void config_release(struct config *cfg)
{
	for (size_t i = 0; i < NOPTS; i++)
		if (opts[i].type == OPT_STR)
			free(*(char **)((char *)cfg + opts[i].off));
	memset(cfg, 0, sizeof *cfg);
}

void config_usage(FILE *out)
{
	fprintf(out, "usage: berthd [--option value]...\n\n"
		     "berthd serves the Amazon ECS API (AWS JSON 1.1) on one port, with state in an\n"
		     "embedded store.  Every option can also be set in a config file (key = value,\n"
		     "key spelled as the option with - or _) or as an environment variable\n"
		     "BERTH_<OPTION> (upper case, - as _).  Flags win over the environment, which\n"
		     "wins over the file.\n\noptions:\n");
	for (size_t i = 0; i < NOPTS; i++) {
		char flag[64];
		snprintf(flag, sizeof flag, "--%s%s", opts[i].name, opts[i].type == OPT_BOOL ? "" : " V");
		fprintf(out, "  %-32s %s", flag, opts[i].help);
		if (opts[i].dflt[0] && strcmp(opts[i].name, "help"))
			fprintf(out, " (default %s)", opts[i].dflt);
		fprintf(out, "\n");
	}
}
