/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * Small DNS stub for the DS/CDS checks: asks one given server for one
 * question with the DO bit over UDP (TCP when the answer is truncated), with
 * a bounded timeout and bounded retries, and collects RRsets with the RRSIGs
 * that cover them into zg_signed_rrset_t (lib/dsync/ds.h). Validation is
 * not done here: see ds.h and checkds.h.
 */
#ifndef ZONEGATE_RESOLVER_H
#define ZONEGATE_RESOLVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <libknot/libknot.h>

#include "dsync/ds.h"

/*! A server address with its printable form. */
typedef struct {
	struct sockaddr_storage addr;
	char name[64]; /*!< "192.0.2.1@53", "2001:db8::1@53". */
} zg_server_t;

/*!
 * Parses "ADDR[@PORT]" or "ADDR#PORT" (IPv4 or IPv6 literal, no brackets
 * needed), as zg_dns_addr_parse() does.
 *
 * \return 0 or ZG_EINPUT (not an address / bad port).
 */
int zg_server_parse(zg_server_t *srv, const char *text, uint16_t default_port);

/*! Fills srv from a socket address (its name is formatted). */
void zg_server_set(zg_server_t *srv, const struct sockaddr *sa);

/*! Query options; zero values mean the defaults. */
typedef struct {
	int timeout_ms;   /*!< Per attempt; default 2000. */
	int udp_tries;    /*!< UDP attempts before giving up; default 3. */
	bool rd;          /*!< Set RD (for recursive resolvers); default off. */
	uint16_t edns_opt_code;      /*!< Extra EDNS option sent with every query (0 = none). */
	const uint8_t *edns_opt_data; /*!< Its data (not owned). */
	uint16_t edns_opt_len;
	const knot_tsig_key_t *tsig; /*!< Sign every query with this key and accept only
	                                  answers validly signed with it (NULL: no TSIG). */
} zg_stub_opts_t;

/*!
 * The first nameserver of /etc/resolv.conf (port 53).
 *
 * \return 0, ZG_EINPUT (no usable nameserver line) or -errno.
 */
int zg_resolv_conf(zg_server_t *srv);

/*!
 * Sends one query (EDNS0, DO bit, 1232 bytes payload) and waits for the
 * matching answer; on TC retries over TCP once.
 *
 * \param answer  Out: the parsed answer; the caller frees it with knot_pkt_free().
 *
 * \return 0, ZG_ETIMEOUT (no answer within tries * timeout), ZG_ECONNECT
 *         (refused / unreachable), ZG_EPROTO (malformed or mismatched answer,
 *         with opts->tsig an answer not validly signed), ZG_EREFUSED (rcode
 *         REFUSED/NOTAUTH), -ENOMEM.
 *         Other rcodes (SERVFAIL, NXDOMAIN) return 0; check the header.
 */
int zg_stub_query(const zg_server_t *srv, const knot_dname_t *qname, uint16_t qtype,
                  const zg_stub_opts_t *opts, knot_pkt_t **answer);

/*!
 * Adds the RRs of type out->rr.type owned by out->rr.owner in the given
 * section (and the RRSIGs covering them) to out. Sets the TTL from the RRs.
 *
 * \return Number of RRs of the type found (0 = none), or a negative code.
 */
int zg_stub_collect(const knot_pkt_t *pkt, knot_section_t section, zg_signed_rrset_t *out);

/*!
 * Asks srv for out->rr.owner / out->rr.type and collects the answer.
 * SERVFAIL is ZG_EPROTO. An authoritative answer (AA) is required when
 * opts->rd is off; NXDOMAIN and NODATA give an empty set.
 *
 * \param err, errlen  Optional (NULL): on failure a lowercase sentence such as
 *                     "CDS query answered SERVFAIL".
 *
 * \return 0 or a code from zg_stub_query(), ZG_EPROTO.
 */
int zg_stub_fetch(const zg_server_t *srv, const zg_stub_opts_t *opts, zg_signed_rrset_t *out,
                  char *err, size_t errlen);

/*!
 * Fetches DNSKEY, CDS and CDNSKEY of zone from one child server into v
 * (initialized here; free with zg_child_view_deinit() also on error).
 * v->server points to srv->name. err/errlen as for zg_stub_fetch().
 */
int zg_child_view_fetch(zg_child_view_t *v, const zg_server_t *srv, const knot_dname_t *zone,
                        const zg_stub_opts_t *opts, char *err, size_t errlen);

/*! What a parent server serves for one child. */
typedef struct {
	const char *server;         /*!< Label for reports; not owned. */
	knot_dname_t *parent;       /*!< Parent zone apex (owned). */
	zg_signed_rrset_t ds;       /*!< DS of the child with RRSIGs. */
	zg_signed_rrset_t dnskey;   /*!< The parent zone's DNSKEY with RRSIGs. */
	bool tsig;                  /*!< Both answers were TSIG-signed by the server. */
} zg_parent_view_t;

/*!
 * Fetches the child's DS and the parent's DNSKEY from one parent server.
 * The parent apex is the DS RRSIG signer name, or the child minus one label.
 * With opts->tsig both queries are signed and v->tsig tells that the answers
 * were authenticated by it.
 * Free with zg_parent_view_deinit() (also on error). err/errlen as for zg_stub_fetch().
 */
int zg_parent_view_fetch(zg_parent_view_t *v, const zg_server_t *srv, const knot_dname_t *zone,
                         const zg_stub_opts_t *opts, char *err, size_t errlen);

/*! Frees what a parent view holds (not v). */
void zg_parent_view_deinit(zg_parent_view_t *v);

/*!
 * Basic server discovery through a recursive resolver: the NS set of zone
 * (children) or of the closest enclosing zone cut above it (parents), then
 * the A and AAAA of every name server, port 53.
 *
 * \param servers  Out: malloc'd array, the caller frees it with free().
 * \param count    Out: number of addresses (at least 1 on success).
 *
 * \return 0, ZG_EINPUT (no NS / no address found) or a query error.
 */
int zg_stub_discover(const zg_server_t *resolver, const knot_dname_t *zone, bool parent,
                     const zg_stub_opts_t *opts, zg_server_t **servers, size_t *count);

#endif /* ZONEGATE_RESOLVER_H */
