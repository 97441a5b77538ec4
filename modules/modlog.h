/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The modules' rate-limited log lines about refused requests (hooks run in
 * every knotd worker thread): at most one line per interval, telling how
 * many were left out since the last one. Header only, included by
 * mod-validate and mod-dsync.
 */
#ifndef ZONEGATE_MODULES_MODLOG_H
#define ZONEGATE_MODULES_MODLOG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>

#include <knot/module.h>

#include "dns/dnsclient.h"

/* A rate-limited log line; zero-initialised. */
typedef struct {
	atomic_llong logged;   /* Unix time of the last line written. */
	atomic_ullong quiet;   /* Lines left out since. */
} zg_modlog_limit_t;

/*
 * Whether a line is due at now (at most one every interval seconds, any
 * thread); *quiet receives how many were left out since the last one.
 */
static inline bool zg_modlog_due(zg_modlog_limit_t *l, long long now, long long interval,
                                 unsigned long long *quiet)
{
	long long last = atomic_load(&l->logged);
	if (now - last >= interval && atomic_compare_exchange_strong(&l->logged, &last, now)) {
		*quiet = atomic_exchange(&l->quiet, 0);
		return true;
	}
	atomic_fetch_add(&l->quiet, 1);
	return false;
}

/* The remote address of a request as "ADDR@PORT" ("unknown" without one). */
static inline char *zg_modlog_remote(knotd_qdata_t *qdata, char *buf, size_t len)
{
	const struct sockaddr_storage *remote = knotd_qdata_remote_addr(qdata);
	if (remote == NULL) {
		snprintf(buf, len, "unknown");
		return buf;
	}
	return zg_dns_addr_str(remote, buf, len);
}

#endif /* ZONEGATE_MODULES_MODLOG_H */
