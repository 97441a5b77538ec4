/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * Bulk load of a zone through knotd's control socket (libknot/control):
 * zone-begin, then every record as one zone-set data unit of a single
 * block, then zone-commit (or zone-abort if any record failed). One atomic
 * transaction without the 64 KiB limit of UPDATE. Knot 3.2 is strict:
 * adding a record that exists already is an error. Into a zone without
 * contents the transaction is the whole zone (zg_ctlload_full()).
 */
#ifndef ZONEGATE_CTLLOAD_H
#define ZONEGATE_CTLLOAD_H

#include <stdbool.h>
#include <stddef.h>

#include <libknot/dname.h>
#include <libknot/rrset.h>

typedef struct zg_ctlload zg_ctlload_t;

/*!
 * Connects to the control socket and opens a zone transaction.
 *
 * \param socket      Path of knotd's control socket.
 * \param zone        The zone.
 * \param timeout_ms  Bound of each control operation.
 * \param out         The load, to finish with zg_ctlload_commit() and free
 *                    with zg_ctlload_free().
 * \param err         One-line reason on error.
 *
 * \return 0, ZG_ECONNECT, ZG_EREFUSED (knotd refused zone-begin), -ENOMEM.
 */
int zg_ctlload_begin(const char *socket, const knot_dname_t *zone, int timeout_ms,
                     zg_ctlload_t **out, char *err, size_t err_len);

/*!
 * Whether the zone had no contents when the transaction began (knotd
 * started without zone data): knotd then builds the zone from the
 * transaction alone, so SOA and apex NS must be in it, and the commit signs
 * it as a whole, as a load from a zone file does. Otherwise the records are
 * added to the served zone and the commit signs them incrementally.
 */
bool zg_ctlload_full(const zg_ctlload_t *load);

/*!
 * Sends every record of rr as a zone-set data unit.
 *
 * \return 0, ZG_ECONNECT or -ENOMEM.
 */
int zg_ctlload_add(zg_ctlload_t *load, const knot_rrset_t *rr);

/*!
 * Ends the block, collects knotd's answers and commits the transaction if
 * every record was accepted, else aborts it.
 *
 * \param added   Set to the number of records sent.
 * \param failed  Set to the number knotd refused (first reason in err).
 *
 * \return 0 committed, ZG_EREFUSED aborted (records refused or commit failed),
 *         ZG_ECONNECT.
 */
int zg_ctlload_commit(zg_ctlload_t *load, size_t *added, size_t *failed,
                      char *err, size_t err_len);

/*!
 * Aborts the transaction if still open, disconnects and frees (NULL is fine).
 */
void zg_ctlload_free(zg_ctlload_t *load);

#endif /* ZONEGATE_CTLLOAD_H */
