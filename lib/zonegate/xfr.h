/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * Small zone-transfer helpers for followers of a primary (mod-validate):
 * SOA serial query, NOTIFY, and the TSIG key in the text form zg_axfr_load()
 * takes. All requests go over TCP with bounded timeouts (lib/dnsclient.h).
 */
#ifndef ZONEGATE_XFR_H
#define ZONEGATE_XFR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <libknot/tsig.h>

/*! Default bound for one SOA query or NOTIFY exchange (connect, send, receive). */
#define ZG_XFR_QUERY_TIMEOUT_MS 3000

/*!
 * Asks \a addr for the SOA serial of \a zone (TCP, one question, TSIG-signed
 * when \a key is set; the answer's TSIG is then checked).
 *
 * \param zone    Zone name, wire format.
 * \param serial  Receives the serial.
 *
 * \return 0; ZG_ECONNECT, ZG_ETIMEOUT, ZG_EREFUSED (answer with an error
 *         RCODE), ZG_EPROTO (malformed or unsigned answer, no SOA), -errno.
 */
int zg_xfr_soa_serial(const struct sockaddr_storage *addr, const knot_tsig_key_t *key,
                      const uint8_t *zone, int timeout_ms, uint32_t *serial);

/*!
 * Sends NOTIFY (RFC 1996) for \a zone with \a serial in the answer section
 * over TCP and waits for the acknowledgement.
 *
 * \return 0 when the server answered NOERROR; ZG_EREFUSED for another RCODE,
 *         ZG_ECONNECT, ZG_ETIMEOUT, ZG_EPROTO, -errno.
 */
int zg_xfr_notify(const struct sockaddr_storage *addr, const knot_tsig_key_t *key,
                  const uint8_t *zone, uint32_t serial, int timeout_ms);

/*!
 * Writes a TSIG key as "ALG:NAME:SECRET" (secret in base64), the form that
 * zg_axfr_load() and kdig -y take.
 *
 * \param buf  Output, NUL-terminated; owned by the caller.
 *
 * \return 0, ZG_ETOOBIG if \a len is too small, KNOT_EINVAL, -ENOMEM.
 */
int zg_xfr_key_str(const knot_tsig_key_t *key, char *buf, size_t len);

#endif /* ZONEGATE_XFR_H */
