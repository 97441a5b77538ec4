/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Fixtures for the unit tests of mod-dsync's workers without knotd
 * (header only): a server address nothing answers at, and a log callback
 * that keeps the lines.
 */
#ifndef ZG_TESTS_WORKER_FX_H
#define ZG_TESTS_WORKER_FX_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <unistd.h>

#include "dns/resolver.h"

/* 127.0.0.1 at a port nothing listens on (bound, then closed): UDP gets
 * port unreachable, TCP a reset, both at once. */
static inline void fx_dead_server(zg_server_t *srv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	socklen_t len = sizeof(sa);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
		perror("fx_dead_server");
		exit(1);
	}
	close(fd);
	zg_server_set(srv, (struct sockaddr *)&sa);
}

#define FX_LOGS 16

/* The lines logged, in order (the first FX_LOGS). */
typedef struct {
	int n, levels[FX_LOGS];
	char lines[FX_LOGS][1024];
} fx_logs_t;

static inline void fx_log(void *arg, int level, const char *text)
{
	fx_logs_t *l = arg;
	if (l->n < FX_LOGS) {
		l->levels[l->n] = level;
		snprintf(l->lines[l->n++], sizeof(l->lines[0]), "%s", text);
	}
}

#endif /* ZG_TESTS_WORKER_FX_H */
