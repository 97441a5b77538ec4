/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * Incremental validation of a zone that follows its primary by IXFR.
 *
 * A zg_incr_t owns a shadow zone (zg_zone_t). Changes are applied one RR at a
 * time (zg_incr_apply(), or a whole IXFR diff with zg_incr_apply_diff()); the
 * owners they touch are remembered, and zg_incr_verify() then validates only
 * what the changes can affect:
 *   - every touched owner (its RRSIGs, delegation/glue rules, its NSEC or
 *     NSEC3 and the NSEC3 of empty non-terminals before it);
 *   - the canonical neighbours of touched owners (an NSEC predecessor must
 *     now point to an added owner or past a removed one), in the name tree
 *     and, for NSEC3 owners, in the hash-ordered NSEC3 tree;
 *   - every name below an owner whose NS or DNAME set changed (glue and
 *     occluded data change status; the NSEC3 records of names that became
 *     occluded are orphans);
 *   - in NSEC3 zones, for each empty non-terminal above a touched owner, the
 *     first node below it, where its NSEC3 is checked (whether opt-out may
 *     leave it out depends on every name below it, RFC 5155 7.1);
 *   - the apex (the SOA changes with every serial); ZONEMD when present.
 * Only the signatures of touched owners (and of names below a changed NS or
 * DNAME) are verified cryptographically: a neighbour that did not change had
 * its signatures verified with the same keys before, so it gets every check
 * but that one (zg_verify_node_unchanged()).
 * A change of the apex DNSKEY or NSEC3PARAM RRset (or their signatures), the
 * first validation, the validation after a failed one, and a validation while
 * a signature anywhere in the zone has expired (opts->now past the earliest
 * expiry) check the whole zone. An NSEC3 record left behind when its name is removed (orphan) is
 * found by hashing the removed names with the zone's NSEC3 parameters.
 *
 * The earliest signature expiry of the zone is kept in a structure updated
 * with every RRSIG change (no scan after the initial one).
 */
#ifndef ZONEGATE_INCR_H
#define ZONEGATE_INCR_H

#include <stdbool.h>
#include <stdint.h>

#include "validate/digest.h"
#include "validate/report.h"
#include "validate/verify.h"
#include "dns/diff.h"
#include "validate/zone.h"

/*! Incremental validation state; opaque. */
typedef struct zg_incr zg_incr_t;

/*!
 * Creates the state over a finalized zone and scans its signatures once
 * for the expiry structure.
 *
 * \param zone  Finalized zone; ownership passes to the state (freed by
 *              zg_incr_free(), also on failure).
 *
 * \return 0, -ENOMEM.
 */
int zg_incr_new(zg_incr_t **out, zg_zone_t *zone);

/*! Frees the state and its zone (NULL is allowed). */
void zg_incr_free(zg_incr_t *incr);

/*! The shadow zone (owned by the state; valid until the next change). */
const zg_zone_t *zg_incr_zone(const zg_incr_t *incr);

/*!
 * Keeps the content digest of the shadow zone (validate/digest.h) from now
 * on: computes it over the whole zone once, then updates it with every
 * change, in time proportional to the change.
 *
 * \param ctx  Hashing context, used by this state only (not owned; it must
 *             outlive the state or the next zg_incr_digest_start()).
 *
 * \return 0, -ENOMEM.
 */
int zg_incr_digest_start(zg_incr_t *incr, zg_digest_ctx_t *ctx);

/*! The content digest of the shadow zone; false when it is not kept. */
bool zg_incr_digest(const zg_incr_t *incr, zg_digest_t *out);

/*!
 * Applies one RR change to the shadow zone and records what it touches.
 *
 * \return 0; KNOT_ENOENT when removing an RR that is not there (the diff does
 *         not fit the shadow: transfer the zone again), ZG_EOUTOFZONE,
 *         KNOT_EMALF, -ENOMEM.
 */
int zg_incr_apply(zg_incr_t *incr, bool add, const uint8_t *owner, uint16_t type,
                  uint32_t ttl, const uint8_t *rdata, uint16_t rdlen);

/*!
 * Applies every change of an IXFR diff in order (see zg_incr_apply()).
 * On failure the shadow is partly changed and must be dropped.
 */
int zg_incr_apply_diff(zg_incr_t *incr, const zg_diff_t *diff);

/*!
 * Validates what changed since the last call (or the whole zone, see above)
 * and clears the record of changes.
 *
 * \param opts    Validation options (time, horizon, DS, threads); threads are
 *                used for whole-zone runs and for incremental runs of at
 *                least 256 nodes.
 * \param report  Receives the findings; report->errors == 0 means valid.
 * \param full    Receives whether the whole zone was validated (may be NULL).
 *
 * \return 0 (see report->errors for the verdict), -ENOMEM.
 */
int zg_incr_verify(zg_incr_t *incr, const zg_verify_opts_t *opts, zg_report_t *report,
                   bool *full);

/*!
 * Earliest expiration (unix time) of any RRSIG in the shadow zone, or
 * INT64_MAX without signatures. O(1).
 */
int64_t zg_incr_earliest_expiry(const zg_incr_t *incr);

/*! Number of nodes checked by the last zg_incr_verify() (whole zone: all). */
size_t zg_incr_last_checked(const zg_incr_t *incr);

#endif /* ZONEGATE_INCR_H */
