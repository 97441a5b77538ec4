/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * The DNS transport of every zonegate client: TCP connections with bounded
 * timeouts (requests written with the 2-byte length prefix, answers matched
 * by message id, pipelining), one question over UDP with a TCP retry on
 * truncation, TSIG (RFC 8945) signing and checking, and server addresses.
 * The gateway's UPDATEs and reads, the stub resolver (dns/resolver.h) and the
 * transfer client (dns/xfr.h) use it; no other file opens a DNS socket.
 */
#ifndef ZONEGATE_DNSCLIENT_H
#define ZONEGATE_DNSCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <libknot/packet/pkt.h>
#include <libknot/tsig.h>

#include "core/clock.h"

#define ZG_DNS_TIMEOUT_DEFAULT_MS	10000
/*! Room for a request MAC (the longest TSIG algorithm, HMAC-SHA512). */
#define ZG_DNS_MAC_MAX	64

typedef struct zg_dnsconn zg_dnsconn_t;

/*!
 * Parses "ADDR", "ADDR@PORT" or "ADDR#PORT" (IPv4 or IPv6, no names).
 *
 * \return 0, or ZG_EINPUT if the text is not an address.
 */
int zg_dns_addr_parse(const char *text, uint16_t default_port,
                      struct sockaddr_storage *out);

/*!
 * Whether text can be the id of a configured remote rather than a mistyped
 * address: letters, digits, '-', '_' and '.', not only digits and dots.
 */
bool zg_dns_id_like(const char *text);

/*!
 * The address to reach a server listening on addr from this host: a
 * wildcard (0.0.0.0, ::) becomes loopback (127.0.0.1, ::1), the port kept.
 *
 * \return 0, or ZG_EINPUT if addr is not IPv4 or IPv6 (a UNIX socket).
 */
int zg_dns_addr_local(struct sockaddr_storage *addr);

/*!
 * Writes "ADDR@PORT" of addr into buf (at least 64 bytes). Returns buf.
 */
char *zg_dns_addr_str(const struct sockaddr_storage *addr, char *buf, size_t len);


/*!
 * Waits for \a events (poll(2)) on \a fd until \a deadline (zg_clock_ms()
 * time), EINTR retried.
 *
 * \return 0 ready, ZG_ETIMEOUT, -errno.
 */
int zg_dns_wait_fd(int fd, short events, int64_t deadline);

/*!
 * Opens a TCP connection (non-blocking connect bounded by timeout_ms).
 *
 * \param addr        Server address.
 * \param timeout_ms  Bound for the connect and for every later read/write.
 * \param out         The connection, to close with zg_dnsconn_free().
 *
 * \retval 0, ZG_ECONNECT, ZG_ETIMEOUT or -errno.
 */
int zg_dnsconn_open(const struct sockaddr_storage *addr, int timeout_ms,
                    zg_dnsconn_t **out);

/*!
 * Opens a TCP connection as zg_dnsconn_open() does, from a given local
 * address (bound before the connect; port 0 lets the system choose one).
 *
 * \param local  Local address of the same family as \a addr, or NULL.
 *
 * \retval 0, KNOT_EINVAL (another family), ZG_ECONNECT, ZG_ETIMEOUT or
 *         -errno (-EADDRNOTAVAIL: \a local is not an address of this host).
 */
int zg_dnsconn_open_from(const struct sockaddr_storage *addr,
                         const struct sockaddr_storage *local, int timeout_ms,
                         zg_dnsconn_t **out);

/*!
 * The local address and port of an open connection (getsockname()).
 *
 * \return 0 or -errno.
 */
int zg_dnsconn_local_addr(const zg_dnsconn_t *conn, struct sockaddr_storage *out);

/*!
 * Closes and frees a connection (NULL is fine).
 */
void zg_dnsconn_free(zg_dnsconn_t *conn);

/*! EDNS of a query made by zg_dns_query_make(). */
typedef struct {
	uint16_t payload;          /*!< UDP payload size advertised. */
	bool dnssec_ok;            /*!< The DO flag. */
	uint16_t opt_code;         /*!< One EDNS option (0: none) ... */
	uint16_t opt_len;          /*!< ... its length ... */
	const uint8_t *opt_data;   /*!< ... and data. */
} zg_dns_edns_t;

/*!
 * Makes \a q (cleared first) a query for (\a qname, IN, \a qtype) with id
 * \a id, flags clear, and an OPT record when \a edns is set: the one query
 * builder of the clients (stub resolver, the gateway's pipelined reads).
 *
 * \return 0 or KNOT_E* (\a q too small).
 */
int zg_dns_query_make(knot_pkt_t *q, uint16_t id, const knot_dname_t *qname, uint16_t qtype,
                      const zg_dns_edns_t *edns);

/*!
 * Appends the wire of \a q with its TCP length prefix to \a buf, which has
 * \a space bytes left: framing for zg_dnsconn_write() (pipelining).
 *
 * \return The bytes appended, 0 when they do not fit.
 */
size_t zg_dns_frame(uint8_t *buf, size_t space, const knot_pkt_t *q);

/*!
 * Sends one DNS message (adds the TCP length prefix).
 *
 * \retval 0, ZG_ETIMEOUT, or -errno.
 */
int zg_dnsconn_send(zg_dnsconn_t *conn, const uint8_t *wire, size_t len);

/*!
 * Sends bytes that already are TCP-framed DNS messages (each with its
 * 2-byte length prefix): many pipelined queries in one system call.
 *
 * \retval 0, ZG_ECONNECT, ZG_ETIMEOUT, or -errno.
 */
int zg_dnsconn_write(zg_dnsconn_t *conn, const uint8_t *data, size_t len);

/*!
 * Receives one DNS message into buf (at most max bytes).
 *
 * \retval 0, ZG_ETIMEOUT, ZG_EPROTO (message too big, connection closed) or -errno.
 */
int zg_dnsconn_recv(zg_dnsconn_t *conn, uint8_t *buf, size_t max, size_t *len);

/*!
 * TSIG-signs \a query (RFC 8945) when \a key is set; the packet must have
 * space reserved for it (knot_pkt_reserve(), or a large enough buffer).
 *
 * \param mac      Out: the request MAC (ZG_DNS_MAC_MAX bytes), to check the answer.
 * \param mac_len  Out: its length (0 without a key).
 *
 * \return 0 or KNOT_E*.
 */
int zg_dns_tsig_sign(knot_pkt_t *query, const knot_tsig_key_t *key, uint8_t *mac,
                     size_t *mac_len);

/*!
 * Whether the parsed \a answer is validly signed with \a key for the request
 * MAC \a mac (true without a key: nothing to check).
 */
bool zg_dns_tsig_check(const knot_pkt_t *answer, const knot_tsig_key_t *key,
                       const uint8_t *mac, size_t mac_len);

/*!
 * One request and its answer: TSIG-signs query (when key is set; query must
 * have space reserved for it, see knot_pkt_reserve()), sends it, receives
 * and parses the answer into answer (a packet with a 64 KiB buffer), checks
 * the id and, with a key, the answer's TSIG.
 *
 * \retval 0              Answer received (any RCODE; read it from answer).
 * \retval ZG_EREFUSED    With a key: an error answer (an RCODE or a TSIG
 *                        error such as BADKEY) that is unsigned or whose TSIG
 *                        does not check, as servers answer requests they
 *                        cannot authenticate; answer holds it (see
 *                        zg_dns_answer_error()).
 * \retval ZG_EPROTO      Malformed answer, id mismatch, unsigned or badly
 *                        signed answer without an error.
 * \retval ZG_ETIMEOUT, ZG_ECONNECT, -errno, KNOT_E*.
 */
int zg_dns_request(zg_dnsconn_t *conn, knot_pkt_t *query,
                   const knot_tsig_key_t *key, knot_pkt_t *answer);

/*!
 * Writes what an answer says went wrong into \a buf: its RCODE name and,
 * when its TSIG record carries one, the TSIG error ("NOTAUTH, TSIG error
 * BADKEY"). \a buf is owned by the caller (64 bytes are enough).
 *
 * \return buf.
 */
char *zg_dns_answer_error(const knot_pkt_t *answer, char *buf, size_t len);

/*!
 * Sends query without waiting for the answer (pipelining), TSIG-signed
 * when key is set; the packet is left unsigned afterwards (re-sendable).
 *
 * \param mac      Out: the request MAC (at least 64 bytes), for zg_dns_recv_answer().
 * \param mac_len  Out: its length (0 without a key).
 *
 * \retval 0, ZG_ETIMEOUT, ZG_ECONNECT, -errno, KNOT_E*.
 */
int zg_dns_send_query(zg_dnsconn_t *conn, knot_pkt_t *query, const knot_tsig_key_t *key,
                      uint8_t *mac, size_t *mac_len);

/*!
 * Receives and parses the next answer (any id; read it from answer->wire).
 * With a key, the answer's TSIG is checked against the request MAC that
 * find_mac() returns for the answer's id.
 *
 * \param find_mac  Callback: request MAC (and its length) for an answer id,
 *                  false if the id is unknown.
 *
 * \retval 0, ZG_EPROTO (malformed, unknown id, bad TSIG), ZG_ETIMEOUT, ZG_ECONNECT.
 */
int zg_dns_recv_answer(zg_dnsconn_t *conn, knot_pkt_t *answer, const knot_tsig_key_t *key,
                       bool (*find_mac)(void *ctx, uint16_t id, const uint8_t **mac,
                                        size_t *mac_len),
                       void *ctx);

/*!
 * One question to a server as a stub resolver asks it: over UDP (up to
 * \a udp_tries datagrams, each answer awaited \a timeout_ms; stray or
 * mismatched datagrams ignored), then over TCP (each of connect, send and
 * receive bounded by \a timeout_ms) when the answer is truncated (TC).
 * TSIG-signed when \a key is set.
 *
 * \param answer     A packet with a 64 KiB buffer: receives the parsed answer.
 * \param signed_ok  Out: with a key, whether the answer is validly signed with
 *                   it (true without a key). RCODE and content are the caller's.
 *
 * \return 0, ZG_ETIMEOUT, ZG_ECONNECT (refused, unreachable, closed),
 *         ZG_EPROTO (malformed answer, wrong id over TCP), -errno, KNOT_E*.
 */
int zg_dns_query(const struct sockaddr_storage *addr, knot_pkt_t *query,
                 const knot_tsig_key_t *key, int timeout_ms, int udp_tries,
                 knot_pkt_t *answer, bool *signed_ok);

#endif /* ZONEGATE_DNSCLIENT_H */
