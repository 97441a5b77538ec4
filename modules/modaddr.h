/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The address a module uses to reach its own server over DNS. Header only,
 * included by mod-ingest, mod-validate and mod-dsync.
 */
#ifndef ZONEGATE_MODULES_MODADDR_H
#define ZONEGATE_MODULES_MODADDR_H

#include <sys/socket.h>

#include "modules/knotd-compat.h"
#include "dns/dnsclient.h"

/*
 * The module's address item (item, if not NULL and set), else the first
 * server.listen; a wildcard listen address is reached over loopback
 * (zg_dns_addr_local()). Returns KNOT_EOK, or KNOT_EINVAL when there is no
 * address or it is not an IP address (a UNIX socket is not a DNS listener).
 */
static inline int zg_mod_listen_addr(knotd_mod_t *mod, const yp_name_t *item,
                                     struct sockaddr_storage *out)
{
	if (item != NULL) {
		knotd_conf_t conf = knotd_conf_mod(mod, item);
		if (conf.count > 0) {
			*out = conf.single.addr;
			return zg_dns_addr_local(out) == 0 ? KNOT_EOK : KNOT_EINVAL;
		}
	}
	knotd_conf_t listen = knotd_conf(mod, (const yp_name_t *)"\x06""server",
	                                 (const yp_name_t *)"\x06""listen", NULL);
	const knotd_conf_val_t *first = zg_conf_first(&listen);
	if (first == NULL) {
		knotd_conf_free(&listen);
		return KNOT_EINVAL;
	}
	*out = first->addr;
	knotd_conf_free(&listen);
	return zg_dns_addr_local(out) == 0 ? KNOT_EOK : KNOT_EINVAL;
}

#endif /* ZONEGATE_MODULES_MODADDR_H */
