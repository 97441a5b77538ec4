/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * AXFR of a zone given as text (server "ADDR[@PORT]", TSIG "ALG:NAME:SECRET",
 * zone name), over the transfer client of dns/xfr.h, into a zg_zone_t.
 */
#ifndef ZONEGATE_AXFR_H
#define ZONEGATE_AXFR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <libknot/dname.h>
#include <libknot/tsig.h>

#include "dns/xfr.h"
#include "validate/zone.h"

/*! Seconds any single connect, send or receive may take. */
#define ZG_AXFR_TIMEOUT 30

/*! A transfer source given as text, parsed (see zg_xfr_source_parse()). */
typedef struct {
	struct sockaddr_storage addr;     /*!< The server. */
	uint8_t zone[KNOT_DNAME_MAXLEN];  /*!< The zone, wire format, lowercase. */
	knot_tsig_key_t key;              /*!< The TSIG key (empty without one). */
	bool has_key;
} zg_xfr_source_t;

/*!
 * Parses where to transfer a zone from, as the tools and zg_axfr_load() take
 * it: \a server "ADDR[@PORT]" (IPv4 or IPv6 literal, port 53 by default),
 * \a tsig NULL or "[ALG:]NAME:SECRET" (as knotc/kdig -y; ALG defaults to
 * hmac-sha256), \a zone a name in presentation format.
 *
 * \param reason  On failure, which argument is bad (the secret is not quoted).
 *
 * \return 0 (free with zg_xfr_source_deinit()) or ZG_EINPUT.
 */
int zg_xfr_source_parse(zg_xfr_source_t *src, const char *server, const char *tsig,
                        const char *zone, char *reason, size_t reason_len);

/*! Frees what zg_xfr_source_parse() set up (not src). */
void zg_xfr_source_deinit(zg_xfr_source_t *src);

/*!
 * Transfers a zone by AXFR and builds a finalized zone from it.
 *
 * \param out     Receives the zone; free it with zg_zone_free().
 * \param server  "ADDR" or "ADDR@PORT" (IPv4 or IPv6 literal; port 53 by default).
 * \param tsig    NULL, or "[ALG:]NAME:SECRET" (as knotc/kdig -y; ALG defaults
 *                to hmac-sha256); every signed message is checked.
 * \param zone    Zone name, presentation format.
 * \param limits  Bounds of the transfer (NULL or 0 fields: automatic, see
 *                zg_xfr_limits_resolve()).
 * \param stats   NULL, or receives what the transfer brought (also on failure:
 *                the serial and the limit hit).
 * \param reason  Receives a short lowercase reason on failure.
 *
 * \return 0; ZG_EINPUT (bad arguments), ZG_ECONNECT, ZG_ETIMEOUT, ZG_EREFUSED
 *         (error rcode), ZG_EPROTO (malformed answer, TSIG failure, no SOA),
 *         ZG_ETOOBIG (a limit was reached), -errno, -ENOMEM.
 */
int zg_axfr_load(zg_zone_t **out, const char *server, const char *tsig, const char *zone,
                 const zg_xfr_limits_t *limits, zg_xfr_stats_t *stats,
                 char *reason, size_t reason_len);

#endif /* ZONEGATE_AXFR_H */
