/* berthd: the Berth control plane.  main parses the configuration, builds
 * the one struct server, runs the loop until SIGTERM/SIGINT and exits. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "lib/log.h"
#include "server/server.h"

int main(int argc, char **argv)
{
	static struct server srv; /* large; lives for the whole process */
	struct err e;
	err_clear(&e);
	if (config_load(&srv.cfg, argc, argv, &e)) {
		fprintf(stderr, "berthd: %s\n", e.msg);
		config_release(&srv.cfg);
		return 2;
	}
	if (srv.cfg.help) {
		config_usage(stdout);
		config_release(&srv.cfg);
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	if (server_init(&srv)) {
		server_release(&srv);
		return 1;
	}
	int code = server_run(&srv);
	/* Stopping is under way and bounded (the store's final checkpoint);
	 * a repeated SIGTERM must not cut it short. */
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	server_release(&srv);
	log_info("stopped");
	return code;
}
