/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * AXFR client (TCP, optional TSIG) loading a zone into a zg_zone_t.
 */
#ifndef ZONEGATE_AXFR_H
#define ZONEGATE_AXFR_H

#include <stddef.h>

#include "validate/zone.h"

/*! Seconds any single connect, send or receive may take. */
#define ZG_AXFR_TIMEOUT 30

/*!
 * Transfers a zone by AXFR and builds a finalized zone from it.
 *
 * \param out     Receives the zone; free it with zg_zone_free().
 * \param server  "ADDR" or "ADDR@PORT" (IPv4 or IPv6 literal; port 53 by default).
 * \param tsig    NULL, or "[ALG:]NAME:SECRET" (as knotc/kdig -y; ALG defaults
 *                to hmac-sha256); every signed message is checked.
 * \param zone    Zone name, presentation format.
 * \param reason  Receives a short lowercase reason on failure.
 *
 * \return 0; ZG_EINPUT (bad arguments), ZG_ECONNECT, ZG_ETIMEOUT, ZG_EREFUSED
 *         (error rcode), ZG_EPROTO (malformed answer, TSIG failure, no SOA),
 *         ZG_EOUTOFZONE, -errno, -ENOMEM.
 */
int zg_axfr_load(zg_zone_t **out, const char *server, const char *tsig, const char *zone,
                 char *reason, size_t reason_len);

#endif /* ZONEGATE_AXFR_H */
