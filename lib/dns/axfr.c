/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <string.h>

#include <libknot/dname.h>
#include <libknot/errcode.h>
#include <libknot/tsig.h>

#include "core/error.h"
#include "dns/axfr.h"
#include "dns/dnsclient.h"

int zg_axfr_load(zg_zone_t **out, const char *server, const char *tsig, const char *zone_str,
                 const zg_xfr_limits_t *limits, zg_xfr_stats_t *stats,
                 char *reason, size_t rlen)
{
	struct sockaddr_storage ss;
	if (out == NULL || server == NULL || zone_str == NULL ||
	    zg_dns_addr_parse(server, 53, &ss) != 0) {
		return zg_reason(reason, rlen, ZG_EINPUT, "bad server address '%s' (ADDR[@PORT])",
		            server != NULL ? server : "");
	}
	uint8_t qname[KNOT_DNAME_MAXLEN];
	if (knot_dname_from_str(qname, zone_str, sizeof(qname)) == NULL) {
		return zg_reason(reason, rlen, ZG_EINPUT, "bad zone name '%s'", zone_str);
	}
	knot_dname_to_lower(qname);
	knot_tsig_key_t key = { 0 };
	if (tsig != NULL && knot_tsig_key_init_str(&key, tsig) != KNOT_EOK) {
		return zg_reason(reason, rlen, ZG_EINPUT, "bad TSIG key (ALG:NAME:SECRET)");
	}
	zg_xfr_peer_t peer = {
		.addr = &ss,
		.key = tsig != NULL ? &key : NULL,
		.zone = qname,
		.timeout_ms = ZG_AXFR_TIMEOUT * 1000,
		.limits = limits != NULL ? *limits : (zg_xfr_limits_t){ 0 },
		.stats = stats,
	};
	int ret = zg_xfr_axfr(&peer, out, reason, rlen);
	knot_tsig_key_deinit(&key);
	return ret;
}
