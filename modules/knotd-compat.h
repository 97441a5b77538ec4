/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The knotd module API across the Knot series zonegate builds for (3.2 of
 * Debian 12, 3.4 of Debian 13, 3.5 of Debian unstable; 3.3 builds, untested).
 * configure finds each difference by a compile test against the installed
 * knot/module.h and defines the ZG_KNOTD_* macros of config.h; this header
 * is the only place the modules look at them. Header only, included by
 * mod-ingest, mod-validate and mod-dsync instead of <knot/module.h>.
 *
 * What differs, and what the modules do about it:
 *  - KNOTD_MOD_ABI_VERSION: 400 (3.2), 500 (3.3), 600 (3.4, 3.5). knotd loads
 *    a module only with its own number, so the modules are built against the
 *    headers of the Knot that loads them (checked below).
 *  - 3.4 renumbered knotd_stage_t (KNOTD_STAGE_PROTO_BEGIN first) and added
 *    protocol hooks: the modules use the names only; their hooks stay at
 *    KNOTD_STAGE_BEGIN, which still sees every request with its type (NORMAL,
 *    AXFR, IXFR, NOTIFY, UPDATE) before the ACL check, on every series.
 *  - 3.3 made the module parameters of knotd_mod_ctx(), knotd_mod_zone(),
 *    knotd_qdata_zone_name() and knotd_qdata_zone_apex_rrset() const and
 *    dropped the buffer of knotd_qdata_local_addr() (zg_qdata_local_addr()).
 *  - 3.5 made control.listen a list (several control sockets): a module that
 *    talks to this server's control socket takes the first one
 *    (zg_mod_ctl_path()).
 *  - knotd frees a zone's name before it unloads the zone's modules (every
 *    series): a module worker must not log once unload has begun
 *    (zg_worker_log()).
 */
#ifndef ZONEGATE_MODULES_KNOTD_COMPAT_H
#define ZONEGATE_MODULES_KNOTD_COMPAT_H

#include <stdio.h>
#include <sys/socket.h>

#include "config.h"

#include <knot/module.h>

#if !defined(ZG_KNOTD_MOD_ABI) || KNOTD_MOD_ABI_VERSION != ZG_KNOTD_MOD_ABI
#error "knot/module.h is not the header configure checked (module ABI differs): run configure again"
#endif

/*
 * The local address qdata arrived on; buf is storage the 3.2 API may use.
 * The result points into buf or into knotd's query data (valid during the hook).
 */
static inline const struct sockaddr_storage *zg_qdata_local_addr(knotd_qdata_t *qdata,
                                                                 struct sockaddr_storage *buf)
{
#ifdef ZG_KNOTD_LOCAL_ADDR_BUF
	return knotd_qdata_local_addr(qdata, buf);
#else
	(void)buf;
	return knotd_qdata_local_addr(qdata);
#endif
}

/*
 * The value of a knotd_conf() result whether the item is single (3.2-3.4's
 * control.listen) or a list (3.5's): the first one, or NULL if none. The
 * pointer stays valid until knotd_conf_free(conf).
 */
static inline const knotd_conf_val_t *zg_conf_first(const knotd_conf_t *conf)
{
	if (conf->count == 0) {
		return NULL;
	}
	return conf->multi != NULL ? &conf->multi[0] : &conf->single;
}

/*
 * Writes the path of this server's control socket into out: path if not
 * NULL, else the first control.listen, else knotd's default "knot.sock";
 * a relative path is taken relative to server.rundir, as knotd does.
 * Returns 0, or -1 if it does not fit.
 */
static inline int zg_mod_ctl_path(knotd_mod_t *mod, const char *path, char *out, size_t len)
{
	knotd_conf_t listen = knotd_conf(mod, (const yp_name_t *)"\x07""control",
	                                 (const yp_name_t *)"\x06""listen", NULL);
	knotd_conf_t rundir = knotd_conf(mod, (const yp_name_t *)"\x06""server",
	                                 (const yp_name_t *)"\x06""rundir", NULL);
	const knotd_conf_val_t *first = zg_conf_first(&listen);
	const char *p = path;
	if (p == NULL) {
		p = first != NULL && first->string != NULL ? first->string : "knot.sock";
	}
	int n;
	if (p[0] == '/' || rundir.single.string == NULL) {
		n = snprintf(out, len, "%s", p);
	} else {
		n = snprintf(out, len, "%s/%s", rundir.single.string, p);
	}
	knotd_conf_free(&listen);
	knotd_conf_free(&rundir);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/*
 * knotd_mod_log() for a module's worker thread: logs nothing once unloading
 * (an expression the module's unload makes true before it waits for the
 * worker) holds. knotd frees the zone's name, which knotd_mod_log() prints,
 * before it calls the modules' unload (3.2 to 3.5); a line logged during
 * unload would read freed memory (seen as a garbage zone name on 3.4).
 */
#define zg_worker_log(mod, unloading, ...) \
	do { \
		if (!(unloading)) { \
			knotd_mod_log((mod), __VA_ARGS__); \
		} \
	} while (0)

#endif /* ZONEGATE_MODULES_KNOTD_COMPAT_H */
