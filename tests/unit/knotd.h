/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * A real knotd for the unit tests that talk to one (test_transport,
 * test_gateway): a free port of 127.0.0.1, the configuration written into
 * the test's temporary directory (server, database and log sections here,
 * the key, acl and zone sections from the test), started from KNOTD (or
 * /usr/sbin/knotd), ready once it serves the zone's SOA with the expected
 * serial, stopped by its pid. Every wait is bounded (30 s).
 * Static functions: include it once, in the test program.
 */
#ifndef ZONEGATE_TEST_KNOTD_H
#define ZONEGATE_TEST_KNOTD_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <libknot/libknot.h>

#include "dns/dnsclient.h"
#include "dns/xfr.h"

/* A TCP and UDP port of 127.0.0.1 free right now. */
static int free_port(struct sockaddr_storage *out)
{
	for (int i = 0; i < 100; i++) {
		struct sockaddr_in sa = { .sin_family = AF_INET,
		                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		socklen_t len = sizeof(sa);
		int t = socket(AF_INET, SOCK_STREAM, 0);
		int u = socket(AF_INET, SOCK_DGRAM, 0);
		bool good = t >= 0 && u >= 0 && bind(t, (struct sockaddr *)&sa, len) == 0 &&
		            getsockname(t, (struct sockaddr *)&sa, &len) == 0 &&
		            bind(u, (struct sockaddr *)&sa, len) == 0;
		close(t);
		close(u);
		if (good) {
			memset(out, 0, sizeof(*out));
			memcpy(out, &sa, sizeof(sa));
			return 0;
		}
	}
	return -1;
}

/* Writes text to dir/name. */
static int write_file_in(const char *dir, const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (f == NULL) {
		return -1;
	}
	fputs(text, f);
	return fclose(f);
}

/*
 * Starts knotd with dir/knot.conf: rundir and log in dir, storage dir/db,
 * listening on server, one worker of each kind, then `sections` (key:,
 * acl:, zone: ...; zone files are the test's to write, in dir). Ready when
 * the SOA of zone is answered with serial (plain query).
 *
 * \return true when ready; *pid is the daemon's (-1 when it did not start).
 */
static bool knotd_start_in(const char *dir, const struct sockaddr_storage *server,
                           const char *sections, const uint8_t *zone, uint32_t serial,
                           pid_t *pid)
{
	*pid = -1;
	const char *knotd = getenv("KNOTD");
	if (knotd == NULL || *knotd == '\0') {
		knotd = "/usr/sbin/knotd";
	}
	if (access(knotd, X_OK) != 0) {
		return false;
	}
	char db[256], port[80];
	snprintf(db, sizeof(db), "%s/db", dir);
	mkdir(db, 0700);
	zg_dns_addr_str(server, port, sizeof(port));
	size_t len = strlen(sections) + 1024;
	char *conf = malloc(len);
	if (conf == NULL) {
		return false;
	}
	snprintf(conf, len,
	         "server:\n    rundir: \"%s\"\n    listen: %s\n"
	         "    udp-workers: 1\n    tcp-workers: 1\n    background-workers: 1\n"
	         "database:\n    storage: \"%s\"\n"
	         "log:\n  - target: \"%s/knotd.log\"\n    any: info\n"
	         "%s",
	         dir, port, db, dir, sections);
	int ret = write_file_in(dir, "knot.conf", conf);
	free(conf);
	if (ret != 0) {
		return false;
	}
	char cpath[256], lpath[256];
	snprintf(cpath, sizeof(cpath), "%s/knot.conf", dir);
	snprintf(lpath, sizeof(lpath), "%s/knotd.stderr", dir);
	*pid = fork();
	if (*pid == 0) {
		FILE *err = freopen(lpath, "w", stderr);
		(void)err;
		execl(knotd, knotd, "-c", cpath, (char *)NULL);
		_exit(127);
	}
	if (*pid < 0) {
		*pid = -1;
		return false;
	}
	/* Ready when it answers the SOA query (bounded: 30 s). */
	for (int i = 0; i < 300; i++) {
		uint32_t got = 0;
		if (zg_xfr_soa_serial(server, NULL, zone, 500, &got) == 0 && got == serial) {
			return true;
		}
		if (waitpid(*pid, NULL, WNOHANG) == *pid) {
			*pid = -1;
			return false;
		}
		usleep(100 * 1000);
	}
	return false;
}

/* Stops knotd by its pid: SIGTERM, 30 s, then SIGKILL. */
static void knotd_stop_pid(pid_t *pid)
{
	if (*pid <= 0) {
		return;
	}
	kill(*pid, SIGTERM);
	for (int i = 0; i < 300; i++) {
		if (waitpid(*pid, NULL, WNOHANG) == *pid) {
			*pid = -1;
			return;
		}
		usleep(100 * 1000);
	}
	kill(*pid, SIGKILL);
	waitpid(*pid, NULL, 0);
	*pid = -1;
}

/* The end of knotd's log and stderr as TAP comments. */
static void knotd_diag(const char *dir)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "tail -n 20 %s/knotd.log %s/knotd.stderr 2>/dev/null | "
	         "sed 's/^/# /'", dir, dir);
	fflush(stdout);
	(void)system(cmd);
}

#endif /* ZONEGATE_TEST_KNOTD_H */
