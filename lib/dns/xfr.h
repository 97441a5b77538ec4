/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * Small zone-transfer helpers for followers of a primary (mod-validate):
 * SOA serial query, NOTIFY, and the TSIG key in the text form zg_axfr_load()
 * takes. All requests go over TCP with bounded timeouts (lib/dnsclient.h).
 */
#ifndef ZONEGATE_XFR_H
#define ZONEGATE_XFR_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <libknot/tsig.h>

#include "core/arena.h"
#include "validate/zone.h"

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

/*! What an IXFR request brought. */
typedef enum {
	ZG_XFR_UPTODATE = 0,  /*!< The server has no newer serial (single SOA answer). */
	ZG_XFR_IXFR,          /*!< Incremental answer: the diff holds the changes. */
	ZG_XFR_AXFR,          /*!< The server answered with the whole zone (AXFR style). */
} zg_xfr_kind_t;

/*! One RR change of an IXFR, in transfer order (views into the diff buffer). */
typedef struct {
	bool add;              /*!< Added (true) or removed (false). */
	uint16_t type;
	uint32_t ttl;
	uint16_t rdlen;
	const uint8_t *owner;  /*!< Wire format, as received. */
	const uint8_t *rdata;  /*!< Uncompressed wire rdata. */
} zg_xfr_change_t;

/*!
 * The changes of one IXFR answer (possibly several deltas, RFC 1995), kept in
 * one reused buffer: apply them in order (removals and additions of each
 * delta, the SOA included).
 */
typedef struct {
	zg_buf_t buf;
	size_t count;          /*!< Number of changes. */
	uint32_t serial_from;  /*!< Serial the diff applies to. */
	uint32_t serial_to;    /*!< Serial after the diff. */
} zg_xfr_diff_t;

/*! Initialises an empty diff (no allocation). */
void zg_xfr_diff_init(zg_xfr_diff_t *diff);

/*! Frees the diff's buffer. */
void zg_xfr_diff_deinit(zg_xfr_diff_t *diff);

/*!
 * Iterates the changes: `size_t pos = 0; zg_xfr_change_t ch;
 * while (zg_xfr_diff_next(diff, &pos, &ch)) { ... }`.
 */
bool zg_xfr_diff_next(const zg_xfr_diff_t *diff, size_t *pos, zg_xfr_change_t *out);

/*! Bound for one step (connect, send, each message) of an AXFR/IXFR, by default. */
#define ZG_XFR_TIMEOUT_MS 10000

/*! Where and how to transfer a zone from. */
typedef struct {
	const struct sockaddr_storage *addr;  /*!< Server. */
	const knot_tsig_key_t *key;           /*!< TSIG key, NULL for unsigned transfers. */
	const uint8_t *zone;                  /*!< Zone name, wire format, lowercase. */
	int timeout_ms;                       /*!< Bound per step; 0: ZG_XFR_TIMEOUT_MS. */
	const atomic_bool *cancel;            /*!< NULL, or checked between messages. */
} zg_xfr_peer_t;

/*!
 * Requests IXFR from \a serial (RFC 1995; TSIG-checked when peer->key is set,
 * at most 99 unsigned messages in a row).
 *
 * \param diff    Filled (cleared first) for ZG_XFR_IXFR; owned by the caller.
 * \param full    For ZG_XFR_AXFR (the server answered with the whole zone),
 *                receives the finalized zone; the caller frees it with
 *                zg_zone_free(). NULL otherwise.
 * \param kind    Receives what the server answered.
 * \param reason  Receives a short lowercase reason on failure.
 *
 * \return 0; ZG_ECONNECT, ZG_ETIMEOUT, ZG_EREFUSED (error rcode), ZG_EPROTO
 *         (malformed or inconsistent answer, TSIG failure, connection closed
 *         before the end), -ECANCELED, -ENOMEM.
 */
int zg_xfr_ixfr(const zg_xfr_peer_t *peer, uint32_t serial, zg_xfr_diff_t *diff,
                zg_zone_t **full, zg_xfr_kind_t *kind, char *reason, size_t reason_len);

/*!
 * Transfers the whole zone by AXFR into a finalized zone (free it with
 * zg_zone_free()). Same checks, bounds and return codes as zg_xfr_ixfr().
 */
int zg_xfr_axfr(const zg_xfr_peer_t *peer, zg_zone_t **out, char *reason, size_t reason_len);

#endif /* ZONEGATE_XFR_H */
