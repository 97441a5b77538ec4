/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <string.h>

#include <libknot/dname.h>
#include <libknot/errcode.h>
#include <libknot/tsig.h>

#include "core/error.h"
#include "dns/axfr.h"
#include "dns/dnsclient.h"

int zg_xfr_source_parse(zg_xfr_source_t *src, const char *server, const char *tsig,
                        const char *zone, char *reason, size_t rlen)
{
	memset(src, 0, sizeof(*src));
	if (server == NULL || zg_dns_addr_parse(server, 53, &src->addr) != 0) {
		return zg_reason(reason, rlen, ZG_EINPUT, "bad server address '%s' (IPv4 or IPv6 "
		                 "address, optionally @PORT)", server != NULL ? server : "");
	}
	if (zone == NULL || knot_dname_from_str(src->zone, zone, sizeof(src->zone)) == NULL) {
		return zg_reason(reason, rlen, ZG_EINPUT, "bad zone name '%s'",
		                 zone != NULL ? zone : "");
	}
	knot_dname_to_lower(src->zone);
	if (tsig != NULL && knot_tsig_key_init_str(&src->key, tsig) != KNOT_EOK) {
		return zg_reason(reason, rlen, ZG_EINPUT, "bad TSIG key (expected "
		                 "[ALG:]NAME:BASE64-SECRET)");
	}
	src->has_key = tsig != NULL;
	return 0;
}

void zg_xfr_source_deinit(zg_xfr_source_t *src)
{
	if (src != NULL && src->has_key) {
		knot_tsig_key_deinit(&src->key);
		src->has_key = false;
	}
}

int zg_axfr_load(zg_zone_t **out, const char *server, const char *tsig, const char *zone_str,
                 const zg_xfr_limits_t *limits, zg_xfr_stats_t *stats,
                 char *reason, size_t rlen)
{
	zg_xfr_source_t src;
	if (out == NULL) {
		return zg_reason(reason, rlen, ZG_EINPUT, "no zone to fill");
	}
	int ret = zg_xfr_source_parse(&src, server, tsig, zone_str, reason, rlen);
	if (ret != 0) {
		return ret;
	}
	zg_xfr_peer_t peer = {
		.addr = &src.addr,
		.key = src.has_key ? &src.key : NULL,
		.zone = src.zone,
		.timeout_ms = ZG_AXFR_TIMEOUT * 1000,
		.limits = limits != NULL ? *limits : (zg_xfr_limits_t){ 0 },
		.stats = stats,
	};
	ret = zg_xfr_axfr(&peer, out, reason, rlen);
	zg_xfr_source_deinit(&src);
	return ret;
}
