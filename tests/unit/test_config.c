/* test_config: server/config.c: the built-in defaults, the config file,
 * BERTH_* environment variables and flags, in that order of precedence;
 * both flag spellings (--x=y, --x y) and bare boolean flags; and the usage
 * errors with their messages.  Each test starts from an environment without
 * BERTH_* variables and writes its config file to a temporary path. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/config.h"

extern char **environ;

static char file[64];

static void clear_berth_env(void)
{
	for (;;) {
		char **e = environ;
		while (*e && strncmp(*e, "BERTH_", 6) != 0)
			e++;
		if (!*e)
			return;
		char name[256];
		size_t n = strcspn(*e, "=");
		snprintf(name, sizeof name, "%.*s", (int)n, *e);
		unsetenv(name);
	}
}

static int setup(void **state)
{
	(void)state;
	clear_berth_env();
	snprintf(file, sizeof file, "/tmp/berth-test-config-XXXXXX");
	int fd = mkstemp(file);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(file);
	clear_berth_env();
	return 0;
}

static void write_file(const char *text)
{
	FILE *f = fopen(file, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Load with argv (NULL-terminated, without argv[0]); expect success. */
static void load_ok(struct config *cfg, const char *const *args)
{
	char *argv[32] = {"berthd"};
	int argc = 1;
	for (; args && args[argc - 1]; argc++)
		argv[argc] = (char *)args[argc - 1];
	struct err e;
	err_clear(&e);
	if (config_load(cfg, argc, argv, &e) != 0)
		fail_msg("config_load failed: %s", e.msg);
}

/* Load and expect a usage error whose message contains each needle. */
static void load_err(const char *const *args, const char *needle1, const char *needle2)
{
	char *argv[32] = {"berthd"};
	int argc = 1;
	for (; args && args[argc - 1]; argc++)
		argv[argc] = (char *)args[argc - 1];
	struct config cfg;
	struct err e;
	err_clear(&e);
	int rc = config_load(&cfg, argc, argv, &e);
	config_release(&cfg); /* as main does, also on failure */
	if (rc != -1)
		fail_msg("config_load accepted %s", argc > 1 ? argv[1] : "(no args)");
	if (!strstr(e.msg, needle1) || (needle2 && !strstr(e.msg, needle2)))
		fail_msg("message \"%s\" lacks \"%s\"%s%s", e.msg, needle1, needle2 ? " or " : "",
			 needle2 ? needle2 : "");
}

static void test_defaults(void **state)
{
	(void)state;
	struct config c;
	load_ok(&c, NULL);
	assert_string_equal(c.listen, "127.0.0.1:4566");
	assert_string_equal(c.data_dir, "./var");
	assert_string_equal(c.region, "us-east-1");
	assert_string_equal(c.account_id, "000000000000");
	assert_string_equal(c.store, "sqlite");
	assert_string_equal(c.store_sync, "full");
	assert_string_equal(c.log_level, "info");
	assert_string_equal(c.config_file, "");
	assert_int_equal(c.strategy_max_providers, 6);
	assert_int_equal(c.max_cps_per_cluster, 20);
	assert_false(c.allow_asg_fargate_switch);
	assert_int_equal(c.transition_ms, 1000);
	assert_int_equal(c.cluster_retention_s, 3600);
	assert_int_equal(c.cp_retention_s, 3600);
	assert_int_equal(c.max_body_bytes, 1048576);
	assert_int_equal(c.http_threads, 2);
	assert_int_equal(c.max_connections, 4096);
	assert_false(c.help);
	config_release(&c);
	assert_null(c.listen);
}

static void test_file(void **state)
{
	(void)state;
	write_file("# a comment\n"
		   "; another\n"
		   "[berthd]\n"
		   "\n"
		   "  region = eu-west-1  \n"
		   "data_dir = \"/tmp/with space\"\n"
		   "account-id='123456789012'\n"
		   "strategy_max_providers=10\n"
		   "allow_asg_fargate_switch = yes\n"
		   "log_level =\n");
	const char *args[] = {"--config", file, NULL};
	struct config c;
	load_ok(&c, args);
	assert_string_equal(c.region, "eu-west-1");
	assert_string_equal(c.data_dir, "/tmp/with space");
	assert_string_equal(c.account_id, "123456789012");
	assert_int_equal(c.strategy_max_providers, 10);
	assert_true(c.allow_asg_fargate_switch);
	assert_string_equal(c.config_file, file);
	assert_string_equal(c.log_level, "");             /* an empty value is a value */
	assert_string_equal(c.listen, "127.0.0.1:4566"); /* untouched: default */
	config_release(&c);
}

static void test_file_from_env_and_equals_flag(void **state)
{
	(void)state;
	write_file("region = ap-southeast-2\n");
	setenv("BERTH_CONFIG", file, 1);
	struct config c;
	load_ok(&c, NULL);
	assert_string_equal(c.region, "ap-southeast-2");
	config_release(&c);
	unsetenv("BERTH_CONFIG");

	char flag[128];
	snprintf(flag, sizeof flag, "--config=%s", file);
	const char *args[] = {flag, NULL};
	load_ok(&c, args);
	assert_string_equal(c.region, "ap-southeast-2");
	config_release(&c);
}

static void test_env(void **state)
{
	(void)state;
	setenv("BERTH_REGION", "us-west-2", 1);
	setenv("BERTH_MAX_CPS_PER_CLUSTER", "7", 1);
	setenv("BERTH_ALLOW_ASG_FARGATE_SWITCH", "on", 1);
	setenv("BERTH_DATA_DIR", "/srv/berth", 1);
	struct config c;
	load_ok(&c, NULL);
	assert_string_equal(c.region, "us-west-2");
	assert_int_equal(c.max_cps_per_cluster, 7);
	assert_true(c.allow_asg_fargate_switch);
	assert_string_equal(c.data_dir, "/srv/berth");
	config_release(&c);
}

static void test_precedence(void **state)
{
	(void)state;
	/* file < environment < flags, setting by setting */
	write_file("region = from-file\n"
		   "listen = 0.0.0.0:1\n"
		   "log_level = debug\n");
	setenv("BERTH_REGION", "from-env", 1);
	setenv("BERTH_LISTEN", "0.0.0.0:2", 1);
	const char *args[] = {"--config", file, "--region", "from-flag", NULL};
	struct config c;
	load_ok(&c, args);
	assert_string_equal(c.region, "from-flag");  /* flag beats env and file */
	assert_string_equal(c.listen, "0.0.0.0:2");  /* env beats file */
	assert_string_equal(c.log_level, "debug");   /* file beats default */
	config_release(&c);
}

static void test_flag_spellings(void **state)
{
	(void)state;
	const char *args[] = {
		"--listen=127.0.0.1:0", "--data-dir", "/d", "--http_threads=8", "--transition-ms", "0",
		"--allow-asg-fargate-switch", "--store-sync=normal", "--region=a=b", NULL,
	};
	struct config c;
	load_ok(&c, args);
	assert_string_equal(c.listen, "127.0.0.1:0");
	assert_string_equal(c.data_dir, "/d");
	assert_int_equal(c.http_threads, 8);   /* _ spelling accepted for flags too */
	assert_int_equal(c.transition_ms, 0);
	assert_true(c.allow_asg_fargate_switch); /* bare boolean flag */
	assert_string_equal(c.store_sync, "normal");
	assert_string_equal(c.region, "a=b");  /* only the first = splits */
	config_release(&c);

	const char *args2[] = {"--allow-asg-fargate-switch=false", "--help", NULL};
	load_ok(&c, args2);
	assert_false(c.allow_asg_fargate_switch);
	assert_true(c.help);
	config_release(&c);

	/* a later flag wins over an earlier one */
	const char *args3[] = {"--region", "one", "--region=two", NULL};
	load_ok(&c, args3);
	assert_string_equal(c.region, "two");
	config_release(&c);
}

static void test_numbers_at_bounds(void **state)
{
	(void)state;
	const char *args[] = {"--strategy-max-providers=1", "--max-cps-per-cluster=1000",
			      "--max-body-bytes", "67108864", "--cluster-retention-s=0", NULL};
	struct config c;
	load_ok(&c, args);
	assert_int_equal(c.strategy_max_providers, 1);
	assert_int_equal(c.max_cps_per_cluster, 1000);
	assert_int_equal(c.max_body_bytes, 67108864);
	assert_int_equal(c.cluster_retention_s, 0);
	config_release(&c);
}

static void test_bad_numbers(void **state)
{
	(void)state;
	const char *a1[] = {"--http-threads=0", NULL};
	load_err(a1, "http-threads must be a whole number from 1 to 64", "'0'");
	const char *a2[] = {"--http-threads", "65", NULL};
	load_err(a2, "from 1 to 64", "'65'");
	const char *a3[] = {"--transition-ms=1.5", NULL};
	load_err(a3, "transition-ms must be a whole number", "'1.5'");
	const char *a4[] = {"--transition-ms=", NULL};
	load_err(a4, "transition-ms must be a whole number", NULL);
	const char *a5[] = {"--max-connections=99999999999999999999", NULL};
	load_err(a5, "max-connections must be a whole number", NULL);
	const char *a6[] = {"--max-connections=12abc", NULL};
	load_err(a6, "command line", "'12abc'");
}

static void test_bad_bool(void **state)
{
	(void)state;
	const char *a[] = {"--allow-asg-fargate-switch=maybe", NULL};
	load_err(a, "allow-asg-fargate-switch must be true or false", "'maybe'");
	setenv("BERTH_ALLOW_ASG_FARGATE_SWITCH", "TRUE", 1);
	load_err(NULL, "BERTH_ALLOW_ASG_FARGATE_SWITCH", "must be true or false");
}

static void test_bad_env_number(void **state)
{
	(void)state;
	setenv("BERTH_HTTP_THREADS", "lots", 1);
	load_err(NULL, "BERTH_HTTP_THREADS: http-threads must be a whole number", "'lots'");
	/* a flag does not rescue a bad environment value: it is read first */
	const char *a[] = {"--http-threads=4", NULL};
	load_err(a, "BERTH_HTTP_THREADS", NULL);
}

static void test_unknown_and_malformed_flags(void **state)
{
	(void)state;
	const char *a1[] = {"--bogus", NULL};
	load_err(a1, "unknown option '--bogus'", "--help");
	const char *a2[] = {"--bogus=1", NULL};
	load_err(a2, "unknown option '--bogus'", NULL);
	const char *a3[] = {"--region", NULL};
	load_err(a3, "option --region needs a value", NULL);
	const char *a4[] = {"positional", NULL};
	load_err(a4, "unexpected argument 'positional'", NULL);
	const char *a5[] = {"-r", "x", NULL};
	load_err(a5, "unexpected argument '-r'", NULL);
	const char *a6[] = {"--", NULL};
	load_err(a6, "unknown option '--'", NULL);
}

static void test_file_errors(void **state)
{
	(void)state;
	const char *args[] = {"--config", file, NULL};
	write_file("region = x\nthis line has no equals\n");
	load_err(args, ":2: expected key = value", file);
	write_file("bogus_key = 1\n");
	load_err(args, ":1: unknown setting 'bogus_key'", NULL);
	write_file("config = /etc/other\n");
	load_err(args, "unknown setting 'config'", NULL);
	write_file("\n\nhttp_threads = many\n");
	load_err(args, ":3: http-threads must be a whole number", "'many'");
	write_file("allow_asg_fargate_switch = \"perhaps\"\n");
	load_err(args, "must be true or false", "'perhaps'");
	const char *missing[] = {"--config", "/nonexistent/berth.conf", NULL};
	load_err(missing, "cannot open config file /nonexistent/berth.conf", NULL);
}

static void test_usage_lists_every_option(void **state)
{
	(void)state;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	config_usage(f);
	fclose(f);
	static const char *const flags[] = {
		"--listen V", "--data-dir V", "--region V", "--account-id V", "--store V", "--store-sync V",
		"--log-level V", "--strategy-max-providers V", "--max-cps-per-cluster V",
		"--allow-asg-fargate-switch ", "--transition-ms V", "--cluster-retention-s V",
		"--cp-retention-s V", "--max-body-bytes V", "--http-threads V", "--max-connections V",
		"--config V", "--help ",
	};
	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
		if (!strstr(buf, flags[i]))
			fail_msg("usage lacks %s", flags[i]);
	assert_non_null(strstr(buf, "(default 127.0.0.1:4566)"));
	assert_non_null(strstr(buf, "BERTH_"));
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_from_env_and_equals_flag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_env, setup, teardown),
		cmocka_unit_test_setup_teardown(test_precedence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flag_spellings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_numbers_at_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_numbers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_bool, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_env_number, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_and_malformed_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_usage_lists_every_option, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
