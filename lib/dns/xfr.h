/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * Small zone-transfer helpers for followers of a primary (mod-validate):
 * SOA serial query, NOTIFY, and the TSIG key in the text form zg_axfr_load()
 * takes. All requests go over TCP with bounded timeouts (lib/dnsclient.h).
 */
#ifndef ZONEGATE_XFR_H
#define ZONEGATE_XFR_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <libknot/tsig.h>

#include "core/arena.h"
#include "dns/diff.h"
#include "dns/dnsclient.h"
#include "dns/xfrstream.h"
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
 * zg_xfr_soa_serial() over an open connection (kept open; several clients
 * reuse theirs).
 *
 * \param answer  A packet with a 64 KiB buffer; holds the answer afterwards.
 *
 * \return As zg_xfr_soa_serial().
 */
int zg_xfr_soa_serial_on(zg_dnsconn_t *conn, const knot_tsig_key_t *key, const uint8_t *zone,
                         knot_pkt_t *answer, uint32_t *serial);

/*!
 * zg_xfr_soa_serial() from the local address \a via (NULL: any), as a
 * server's remote with a `via` sends its queries.
 *
 * \return As zg_xfr_soa_serial(); -EADDRNOTAVAIL when \a via is not an
 *         address of this host.
 */
int zg_xfr_soa_serial_from(const struct sockaddr_storage *addr,
                           const struct sockaddr_storage *via, const knot_tsig_key_t *key,
                           const uint8_t *zone, int timeout_ms, uint32_t *serial);

/*!
 * Sends NOTIFY (RFC 1996) for \a zone with \a serial in the answer section
 * over TCP and waits for the acknowledgement (TSIG-signed and checked when
 * \a key is set).
 *
 * \param via     Local address to send from (a remote's `via`), or NULL.
 * \param reason  Receives why it failed ("server answered NOTAUTH, TSIG
 *                error BADKEY"); owned by the caller.
 *
 * \return 0 when the server answered NOERROR; ZG_EREFUSED for another RCODE
 *         or a TSIG error, ZG_ECONNECT, ZG_ETIMEOUT, ZG_EPROTO, -errno.
 */
int zg_xfr_notify(const struct sockaddr_storage *addr, const struct sockaddr_storage *via,
                  const knot_tsig_key_t *key, const uint8_t *zone, uint32_t serial,
                  int timeout_ms, char *reason, size_t rlen);

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

/*! Bound for one step (connect, send, each message) of an AXFR/IXFR, by default. */
#define ZG_XFR_TIMEOUT_MS 10000

/*! Records of one transfer when nothing is known of the zone (automatic limit). */
#define ZG_XFR_AUTO_RECORDS	50000000ULL
/*! Automatic records limit once the zone is known: this many times its records ... */
#define ZG_XFR_AUTO_FACTOR	4
/*! ... but at least this many. */
#define ZG_XFR_AUTO_MIN_RECORDS	1000000ULL
/*! Automatic bytes limit: this many bytes per record of the records limit. */
#define ZG_XFR_AUTO_BYTES_PER_RECORD	256
/*! Automatic time limit: the records limit at this many records per second ... */
#define ZG_XFR_AUTO_RECORDS_PER_SEC	10000
/*! ... but at least this many seconds. */
#define ZG_XFR_AUTO_MIN_SEC	600

/*!
 * Bounds of one transfer (AXFR or IXFR answer), so that a hostile or broken
 * server cannot make a client grow without end (an endless AXFR, an IXFR
 * looping between serials). 0 in a field means "automatic", see
 * zg_xfr_limits_resolve(); a transfer over a limit stops with ZG_ETOOBIG.
 */
typedef struct {
	uint64_t records;   /*!< Resource records in the answer sections. */
	uint64_t bytes;     /*!< Bytes of the DNS messages received. */
	uint32_t time_ms;   /*!< From the connect to the last message (checked
	                         between messages; each message is also bounded by
	                         the peer's step timeout). */
} zg_xfr_limits_t;

/*!
 * The limits of a transfer of a zone of \a zone_records records (0: not known
 * yet): every field of \a conf that is set is taken as is; the others are
 * automatic: records ZG_XFR_AUTO_RECORDS for an unknown zone, else
 * max(ZG_XFR_AUTO_MIN_RECORDS, ZG_XFR_AUTO_FACTOR x zone_records); bytes
 * ZG_XFR_AUTO_BYTES_PER_RECORD per record of that records limit; time that
 * records limit at ZG_XFR_AUTO_RECORDS_PER_SEC, at least ZG_XFR_AUTO_MIN_SEC.
 *
 * \param conf  Configured limits (NULL: all automatic).
 */
zg_xfr_limits_t zg_xfr_limits_resolve(const zg_xfr_limits_t *conf, uint64_t zone_records);

/*! Which limit stopped a transfer. */
typedef enum {
	ZG_XFR_LIMIT_NONE = 0,
	ZG_XFR_LIMIT_RECORDS,
	ZG_XFR_LIMIT_BYTES,
	ZG_XFR_LIMIT_TIME,
} zg_xfr_limit_t;

/*! What one transfer brought (filled whether it succeeded or not). */
typedef struct {
	uint64_t records;     /*!< Records received. */
	uint64_t bytes;       /*!< Message bytes received. */
	uint32_t ms;          /*!< Duration. */
	bool have_serial;     /*!< The answer began with the zone's SOA ... */
	uint32_t serial;      /*!< ... of this serial (the serial transferred). */
	zg_xfr_limit_t limit; /*!< The limit that stopped the transfer, if any. */
	struct sockaddr_storage local; /*!< Local end of the connection (family 0: none). */
} zg_xfr_stats_t;

/*! Transfer connections a zg_xfr_self_t can hold at once. */
#define ZG_XFR_SELF_MAX 4

/*!
 * The local address and port of every transfer connection a client has
 * open, so that the server it connects to (a knotd module gating its own
 * server's transfers) can recognise the client's own requests exactly: the
 * remote address of such a request is one of these. A connection is added
 * right after connect(), before the request is sent, and removed before it
 * is closed. Embed, zg_xfr_self_init(); safe to use from several threads.
 */
typedef struct {
	pthread_mutex_t lock;
	struct sockaddr_storage addr[ZG_XFR_SELF_MAX];
	bool used[ZG_XFR_SELF_MAX];
} zg_xfr_self_t;

/*! Initialises an empty set. */
void zg_xfr_self_init(zg_xfr_self_t *self);

/*! Frees what zg_xfr_self_init() set up (not self). */
void zg_xfr_self_deinit(zg_xfr_self_t *self);

/*!
 * Whether \a remote (address and port, as a server sees its client) is the
 * local end of one of the connections in \a self.
 */
bool zg_xfr_self_match(zg_xfr_self_t *self, const struct sockaddr_storage *remote);

/*! Where and how to transfer a zone from. */
typedef struct {
	const struct sockaddr_storage *addr;  /*!< Server. */
	const knot_tsig_key_t *key;           /*!< TSIG key, NULL for unsigned transfers. */
	const uint8_t *zone;                  /*!< Zone name, wire format, lowercase. */
	int timeout_ms;                       /*!< Bound per step; 0: ZG_XFR_TIMEOUT_MS. */
	const atomic_bool *cancel;            /*!< NULL, or checked between messages. */
	zg_xfr_limits_t limits;               /*!< Bounds of each transfer; fields left 0
	                                           are taken from zg_xfr_limits_resolve()
	                                           for an unknown zone. */
	zg_xfr_stats_t *stats;                /*!< NULL, or receives what each transfer brought. */
	zg_xfr_self_t *self;                  /*!< NULL, or holds the local end of each
	                                           transfer connection while it is open. */
	const struct sockaddr_storage *via;   /*!< NULL, or the local address the
	                                           transfer connections come from. */
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
 *         before the end), ZG_ETOOBIG (a limit of peer->limits was reached;
 *         the reason names it, peer->stats says which and the serial),
 *         -ECANCELED, -ENOMEM.
 */
int zg_xfr_ixfr(const zg_xfr_peer_t *peer, uint32_t serial, zg_diff_t *diff,
                zg_zone_t **full, zg_xfr_kind_t *kind, char *reason, size_t reason_len);

/*!
 * Transfers the whole zone by AXFR into a finalized zone (free it with
 * zg_zone_free()). Same checks, bounds and return codes as zg_xfr_ixfr().
 */
int zg_xfr_axfr(const zg_xfr_peer_t *peer, zg_zone_t **out, char *reason, size_t reason_len);

/*!
 * Called by zg_xfr_axfr_each() for every record of the zone after the first
 * SOA (the closing SOA excluded), in transfer order; rdata is uncompressed
 * wire format, valid during the call only.
 *
 * \return 0 to go on, a negative code to stop the transfer with it.
 */
typedef int (*zg_xfr_rr_cb_t)(void *ctx, const uint8_t *owner, uint16_t type, uint32_t ttl,
                              const uint8_t *rdata, uint16_t rdlen);

/*!
 * Transfers the whole zone by AXFR without keeping it: every record goes to
 * \a each (counting, scanning a zone of any size in constant memory). Same
 * checks (TSIG on every message when peer->key is set), bounds and return
 * codes as zg_xfr_axfr(); a code returned by \a each ends the transfer with it.
 */
int zg_xfr_axfr_each(const zg_xfr_peer_t *peer, zg_xfr_rr_cb_t each, void *ctx,
                     char *reason, size_t reason_len);

#endif /* ZONEGATE_XFR_H */
