/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * zg-checkds logic: given what every parent server and every child server
 * serves (resolver.h fills it), decide in-sync / pending / broken /
 * inconsistent (doc/contracts.md), naming the servers and key tags. Pure
 * function, no network.
 */
#ifndef ZONEGATE_CHECKDS_H
#define ZONEGATE_CHECKDS_H

#include <stddef.h>
#include <stdint.h>

#include <libknot/libknot.h>

#include "dsync/ds.h"
#include "dns/resolver.h"

/*! States in increasing severity; the report's state is the worst finding. */
typedef enum {
	ZG_CHECKDS_IN_SYNC = 0,
	ZG_CHECKDS_PENDING,
	ZG_CHECKDS_INCONSISTENT,
	ZG_CHECKDS_BROKEN,
} zg_checkds_state_t;

#define ZG_CHECKDS_MAX_FINDINGS 32

/*! One finding: a state and a lowercase sentence naming server(s) and key tags. */
typedef struct {
	zg_checkds_state_t state;
	char text[384];
} zg_checkds_finding_t;

/*! Result of zg_checkds_evaluate() (caller-owned, no heap). */
typedef struct {
	zg_checkds_state_t state;
	zg_checkds_finding_t findings[ZG_CHECKDS_MAX_FINDINGS];
	size_t nfindings;
	char child_keys[256];  /*!< DNSKEY tags of the (first) child server. */
	char child_cds[256];   /*!< CDS tags ("-" none). */
	char child_cdnskey[256];
	bool anchored;         /*!< The parent's DNSKEY was validated by a trust anchor. */
	bool unauthenticated;  /*!< With require_auth: a parent server's answers were
	                            refused as not authenticated (no anchor, no TSIG). */
} zg_checkds_report_t;

/*! Input of zg_checkds_evaluate(). */
typedef struct {
	const knot_dname_t *zone;
	const zg_parent_view_t *parents;
	size_t nparents;
	const zg_child_view_t *children;
	size_t nchildren;
	const knot_rdataset_t *ta_ds;     /*!< Trust anchor DS for the parent apex, or NULL. */
	const knot_rdataset_t *ta_dnskey; /*!< Trust anchor DNSKEYs of the parent, or NULL. */
	uint32_t now;
	const char *anchor_error;         /*!< The trust anchor could not authenticate the
	                                       parent's keys (why, e.g. a broken chain): the
	                                       answers of servers without TSIG are broken
	                                       ("not authenticated (WHY)"). NULL: none. */
	bool require_auth;                /*!< Without a trust anchor, only answers of TSIG-
	                                       authenticated parent servers count (the others
	                                       are broken: "not authenticated"); otherwise a
	                                       self-signed DNSKEY RRset is accepted. */
} zg_checkds_input_t;

/*!
 * Evaluates the DS/DNSKEY/CDS state of a delegation:
 *  - broken: a parent server's DNSKEY is not validated (by the trust anchor;
 *    without one: self-signed and, with require_auth, from a TSIG-
 *    authenticated server), its DS RRset has no valid RRSIG by the
 *    parent's keys, or its DS set authenticates no DNSKEY of the child (or
 *    not every algorithm), or the child publishes an unsafe CDS/CDNSKEY set;
 *  - inconsistent: child servers disagree, or parent servers disagree in a
 *    way a pending change does not explain;
 *  - pending: the child announces (CDS/CDNSKEY) a DS set that some parent
 *    server does not serve yet;
 *  - in-sync otherwise.
 *
 * \return 0 (the state is in rep) or -EINVAL.
 */
int zg_checkds_evaluate(const zg_checkds_input_t *in, zg_checkds_report_t *rep);

/*!
 * The parent server serves a DS for every key the child announces: every CDS
 * rdata is in its DS set, or (CDNSKEY only) every CDNSKEY has a matching DS.
 * Other DS records may be served too (double-DS rollover). Validation is
 * zg_checkds_evaluate()'s job; this only compares.
 *
 * \return false when the child announces nothing or the delete form.
 */
bool zg_checkds_parent_serves(const zg_parent_view_t *p, const zg_child_view_t *c);

/*! Trust anchor files of Debian's dns-root-data, tried in this order. */
#define ZG_ROOT_ANCHOR_DS	"/usr/share/dns/root.ds"
#define ZG_ROOT_ANCHOR_KEY	"/usr/share/dns/root.key"

/*! The root trust anchor file installed (dns-root-data), or NULL. */
const char *zg_trust_anchor_default(void);

/*!
 * Authenticates the DNSKEY RRset of zone \a target from a trust anchor of one
 * of its ancestors (or of \a target itself), walking the chain down: the
 * DNSKEY RRset of the anchor's zone (authenticated by the anchor's DS or
 * signed by one of its DNSKEYs), then for every name below it down to
 * \a target its DS RRset, which must be signed by the keys of the closest
 * zone authenticated so far, and the DNSKEY RRset it authenticates. Names
 * without a DS are not zone cuts of a secure chain and are passed by; a
 * missing or forged link cannot be passed by (the next DS does not verify).
 * The data is asked from \a resolver (recursion desired); nothing it says is
 * trusted unless it validates.
 *
 * \param keys  Out: the authenticated DNSKEY rdata of \a target (the caller
 *              clears it with knot_rdataset_clear(keys, NULL)).
 * \param err   Out: a lowercase reason naming the link that failed.
 *
 * \return 0, ZG_EVALIDATION (a link does not validate), ZG_EINPUT (the anchor
 *         is not at or above target), or a query error.
 */
int zg_anchor_chain(const zg_server_t *resolver, const zg_stub_opts_t *opts,
                    const knot_dname_t *ta_owner, const knot_rdataset_t *ta_ds,
                    const knot_rdataset_t *ta_dnskey, const knot_dname_t *target,
                    uint32_t now, knot_rdataset_t *keys, char *err, size_t errlen);

/*! "in-sync", "pending", "inconsistent", "broken". */
const char *zg_checkds_state_str(zg_checkds_state_t state);

/*! Exit status of zg-checkds for a state (0 in-sync, 1 pending, 2 otherwise). */
int zg_checkds_exit_code(zg_checkds_state_t state);

/*!
 * Reads a trust-anchor file (zone-file syntax: DS and/or DNSKEY records of
 * one owner, the parent apex; other types are refused).
 *
 * \param ds, dnskey  Out: rdata added (caller clears with knot_rdataset_clear(x, NULL)).
 * \param owner       Out: the anchor's owner (malloc'd, caller frees with knot_dname_free()).
 * \param err, errlen Out: a reason with the line number on failure.
 *
 * \return 0, ZG_ESYNTAX, ZG_EINPUT or -errno (file cannot be read).
 */
int zg_trust_anchor_load(const char *path, knot_rdataset_t *ds, knot_rdataset_t *dnskey,
                         knot_dname_t **owner, char *err, size_t errlen);

#endif /* ZONEGATE_CHECKDS_H */
