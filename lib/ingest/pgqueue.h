/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * The PostgreSQL queue (libpq): table zonegate_queue of doc/contracts.md, one
 * consumer per zone at a time.
 *
 * zg_pgqueue_claim() opens a transaction that takes or renews the zone's
 * lease (table zonegate_lease: holder, fencing token, expiry) and keeps its
 * row locked, then locks the oldest pending rows of the zone in id order
 * (FOR UPDATE SKIP LOCKED). The caller applies them, records each outcome
 * with zg_pgqueue_finish() and ends with zg_pgqueue_commit(), so a row is
 * marked applied (with the serial) in the same transaction that holds the
 * lease. A second consumer cannot take the lease while the first is inside
 * such a transaction, and an expired lease taken over bumps the token.
 * If the transaction is lost (crash, PostgreSQL restart), its rows stay
 * pending and are applied again, which full-state replacement makes
 * invisible.
 *
 * The rows marked applied are also the record of the message ids applied
 * to the zone: zg_pgqueue_applied() finds an earlier applied row with the
 * same message id (the JSON "id"), so that the caller refuses a second
 * message of that id.
 *
 * The schema (doc/zonegate-queue.sql: tables, index, NOTIFY trigger) is
 * checked on every connection. When all of it exists nothing is created
 * or replaced, so a role with only the GRANTs of that file can consume and
 * produce. When part of it is missing, the handle creates it (which needs
 * the right to) and zg_pgqueue_created() says so once.
 */
#ifndef ZONEGATE_PGQUEUE_H
#define ZONEGATE_PGQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ingest/qstatus.h"

#define ZG_PGQUEUE_CHANNEL	"zonegate_queue"

typedef struct zg_pgqueue zg_pgqueue_t;

/*! A claimed row (memory owned by the queue until the next claim). */
typedef struct {
	int64_t id;
	const char *json;     /*!< The message as JSON text. */
	size_t len;
	time_t enqueued;      /*!< enqueued_at. */
} zg_pgitem_t;

/*!
 * Creates a queue handle (connects lazily, on the first claim).
 *
 * \param conninfo  libpq URI or key=value string.
 * \param zone      Zone name (with or without the final dot).
 * \param consumer  This consumer's name in the lease (e.g. host:pid).
 * \param lease_s   Lease duration in seconds (renewed on every claim).
 * \param out       The queue, to release with zg_pgqueue_free().
 *
 * \return 0 or -ENOMEM.
 */
int zg_pgqueue_new(const char *conninfo, const char *zone, const char *consumer,
                   unsigned lease_s, zg_pgqueue_t **out);

/*!
 * Rolls back any open transaction, disconnects and frees (NULL is fine).
 */
void zg_pgqueue_free(zg_pgqueue_t *q);

/*!
 * Whether this handle created missing queue objects since the last call
 * (the caller logs it: the schema changed at run time).
 */
bool zg_pgqueue_created(zg_pgqueue_t *q);

/*!
 * A notice about the schema to log once, or NULL: the index of applied
 * message ids (zonegate_queue_applied_id) is missing on the connection
 * made last. Returned once per connection.
 */
const char *zg_pgqueue_notice(zg_pgqueue_t *q);

/*!
 * Takes the lease and claims up to max pending rows in id order, inside a
 * transaction left open.
 *
 * \param items  Set to an array of count rows (owned by the queue).
 * \param token  If not NULL, set to the fencing token held.
 *
 * \retval 0           Lease held (count may be 0; commit to end the transaction).
 * \retval ZG_EFENCED  Another consumer holds the lease (no transaction open).
 * \retval ZG_EINPUT   The message column is not json (a table made as jsonb
 *                     before: jsonb drops duplicate keys silently); err says
 *                     what to run. Nothing is claimed.
 * \retval ZG_ECONNECT The database is unreachable or failed; err says why
 *                     (the connection is reset; try again later).
 */
int zg_pgqueue_claim(zg_pgqueue_t *q, size_t max, zg_pgitem_t **items, size_t *count,
                     int64_t *token, char *err, size_t err_len);

/*!
 * Whether a row of the zone carrying this message id (the JSON "id") is
 * marked applied (inside the claim's transaction, which keeps it so).
 *
 * \param row  Set to the id of the first such row when found.
 *
 * \retval 1 applied, 0 not, ZG_ECONNECT (err says why; the transaction is lost).
 */
int zg_pgqueue_applied(zg_pgqueue_t *q, const char *msg_id, int64_t *row,
                       char *err, size_t err_len);

/*!
 * Records the outcome of a claimed row (inside the claim's transaction).
 *
 * \param applied  True: state 'applied', applied_serial = serial (if serial >= 0);
 *                 false: state 'refused', error = reason.
 *
 * \return 0 or ZG_ECONNECT.
 */
int zg_pgqueue_finish(zg_pgqueue_t *q, int64_t id, bool applied, int64_t serial,
                      const char *reason, char *err, size_t err_len);

/*!
 * Commits the claim's transaction (checking the lease is still ours first).
 *
 * \retval 0, ZG_EFENCED (lease lost: rolled back), ZG_ECONNECT.
 */
int zg_pgqueue_commit(zg_pgqueue_t *q, char *err, size_t err_len);

/*!
 * Rolls the claim's transaction back (rows stay pending).
 */
void zg_pgqueue_rollback(zg_pgqueue_t *q);

/*!
 * Waits up to timeout_ms for a NOTIFY on the queue channel (a producer
 * inserted a row); returns early on a notification. Bounded.
 *
 * \return 0 (notified or timed out) or ZG_ECONNECT.
 */
int zg_pgqueue_wait(zg_pgqueue_t *q, int timeout_ms);

/*!
 * Number of pending rows of the zone and the enqueue time of the oldest.
 *
 * \return 0 or ZG_ECONNECT.
 */
int zg_pgqueue_pending(zg_pgqueue_t *q, size_t *count, time_t *oldest);

/*!
 * Producer side: inserts one pending message for the queue's zone (its own
 * transaction; not while a claim is open on this handle).
 *
 * \param json  The message (JSON text; PostgreSQL checks it is valid JSON).
 * \param id    Out (may be NULL): the row id.
 *
 * \return 0, ZG_ECONNECT (no connection, err filled), ZG_EINPUT (refused by
 *         PostgreSQL, err filled) or -EINVAL.
 */
int zg_pgqueue_enqueue(zg_pgqueue_t *q, const char *json, int64_t *id, char *err, size_t err_len);

/*!
 * Monitoring: reads the queue's state for ZONE over a connection of its own
 * (connect timeout 5 s, statements 10 s, read-only; nothing is created:
 * missing tables are an error). See zg_queue_status_read().
 *
 * \return 0 or ZG_ECONNECT (err says why: connection, missing tables, query).
 */
int zg_pgqueue_status(const char *conninfo, const char *zone, int64_t served,
                      zg_queue_status_t *out, char *err, size_t err_len);

/*!
 * The handle's connection to PostgreSQL, made (with the schema check of
 * every connection) if there is none, for another store kept in the same
 * database, such as the signer lease (signer/lease.h). Not while a claim
 * is open on this handle. The connection stays owned by the handle; it is
 * dropped (and the pointer becomes invalid) by the handle's next failure.
 *
 * \param err  Says why on failure.
 *
 * \return The connection, or NULL (unreachable or the schema cannot be made).
 */
struct pg_conn *zg_pgqueue_conn(zg_pgqueue_t *q, char *err, size_t err_len);

/*!
 * Drops the handle's connection (after a failure seen by another store on
 * it); the next use connects again.
 */
void zg_pgqueue_reset(zg_pgqueue_t *q);

#endif /* ZONEGATE_PGQUEUE_H */
