/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * The queue: one interface over its two backends, the spool directory
 * (ingest/spool.h) and the PostgreSQL table (ingest/pgqueue.h), for every
 * producer and consumer (mod-ingest's and zg-ingest's source, mod-dsync's
 * parent-mode queue).
 *
 * The queue URI is read here, in one place: spool:/ABSOLUTE/DIR or a libpq
 * connection URI, postgresql://... or postgres://...
 *
 * A consumer opens the queue (zg_queue_open() with consume set: the spool's
 * consumer lock is taken, waiting for it), then repeats passes:
 * zg_queue_claim() takes the oldest waiting messages (a PostgreSQL claim also
 * takes the zone's lease and opens a transaction), zg_queue_mark() records
 * the outcome of each (the spool moves the file at once; PostgreSQL marks the
 * row inside the transaction) and zg_queue_commit() ends the pass: once it
 * returns 0, every outcome marked in the pass is final. Backends log their
 * own conditions (with the wording of each) through zg_queue_env_t.log.
 */
#ifndef ZONEGATE_QUEUE_H
#define ZONEGATE_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/*! The forms, for error messages. */
#define ZG_QUEUE_URI_FORMS "spool:/ABSOLUTE/PATH or postgresql://..."

/*! What a queue URI names. */
typedef enum {
	ZG_QUEUE_INVALID = 0, /*!< Neither form (or NULL). */
	ZG_QUEUE_SPOOL,       /*!< A spool directory. */
	ZG_QUEUE_PG,          /*!< A PostgreSQL database. */
} zg_queue_kind_t;

/*!
 * Reads a queue URI.
 *
 * \param uri        The URI (NULL: invalid).
 * \param spool_dir  Out, optional: for a spool, its absolute directory (a
 *                   pointer into uri); else NULL.
 * \return What it names; a spool needs an absolute path other than "/".
 */
zg_queue_kind_t zg_queue_uri(const char *uri, const char **spool_dir);

/*! Log levels of zg_queue_env_t.log (syslog-like, as ZG_INGEST_LOG_*). */
enum {
	ZG_QUEUE_LOG_ERR = 3,
	ZG_QUEUE_LOG_WARNING = 4,
	ZG_QUEUE_LOG_NOTICE = 5,
};

/*! Who uses a queue and how; hooks may be NULL. */
typedef struct {
	const char *zone;      /*!< The zone (text); a PostgreSQL queue needs it. */
	const char *consumer;  /*!< The holder's name in a PostgreSQL lease. */
	unsigned lease_s;      /*!< PostgreSQL lease duration in seconds. */
	bool consume;          /*!< Open as the consumer (takes the spool's lock). */
	bool once;             /*!< Do not wait: for the spool, for its lock. */
	size_t max_size;       /*!< Spool: a bigger file is claimed unread (data
	                        *   empty, len its size), to be refused by size. */
	/*! A line to log (limited: at most once a minute while it repeats). */
	void (*log)(void *ctx, int level, bool limited, const char *text);
	/*! The consumer's state (negative: unchanged; polled: a poll just now). */
	void (*state)(void *ctx, int connected, int holding, bool polled);
	/*! Whether the user asked to stop (every wait ends then). */
	bool (*stopping)(void *ctx);
	/*! Sleeps sec seconds, ending early on a stop request (NULL: nanosleep). */
	void (*sleep)(void *ctx, double sec);
	void *ctx;
} zg_queue_env_t;

/*! A claimed message (memory owned by the queue until the next claim). */
typedef struct {
	const char *name;      /*!< Spool: the file name; PostgreSQL: NULL. */
	int64_t row;           /*!< PostgreSQL: the row id; spool: -1. */
	char *data;            /*!< The message text (NUL-terminated). */
	size_t len;
	time_t enqueued;       /*!< When it was queued (0 if unknown). */
	bool unusable;         /*!< An entry that is no readable message ... */
	char why[512];         /*!< ... and why ("entry NAME: a FIFO, not a message"). */
} zg_queue_item_t;

/*! What a pass claimed. */
typedef struct {
	zg_queue_item_t *items;
	size_t count;
	bool empty;            /*!< Nothing waits (count is 0). */
	bool error;            /*!< The claim stopped short on an error (logged):
	                        *   the pass fails with -EIO. */
} zg_queue_pass_t;

/*! zg_queue_mark(): the outcome could not be recorded, but the pass goes on
 *  without the message (logged; it is not reported). */
#define ZG_QUEUE_SKIPPED 1

typedef struct zg_queue zg_queue_t;

/*!
 * Opens the queue a URI names. As a consumer of a spool, takes its lock:
 * unless env->once, waits (logging) for a missing directory to appear and
 * for another consumer's lock, until env->stopping().
 *
 * \param env  Copied (the strings must outlive the queue).
 * \param err  Why it failed (ZG_EINPUT: a bad URI, a database without zone).
 *
 * \return 0, ZG_EINPUT, ZG_EFENCED (once: the spool is locked by another
 *         consumer), -ENOMEM or -errno. A stop request while waiting: 0
 *         with *out NULL.
 */
int zg_queue_open(const char *uri, const zg_queue_env_t *env, zg_queue_t **out,
                  char *err, size_t err_len);

/*!
 * Closes the queue (rolls back an open pass; NULL is fine).
 */
void zg_queue_close(zg_queue_t *q);

/*!
 * Claims up to max waiting messages in queue order.
 *
 * \retval 0           pass filled (see its empty and error).
 * \retval ZG_EFENCED  Another consumer holds the zone (standby; logged once).
 * \retval ZG_EINPUT   The queue needs the operator (err says what to do).
 * \retval other       Failed (logged); try again after a back-off.
 */
int zg_queue_claim(zg_queue_t *q, size_t max, zg_queue_pass_t *pass, char *err, size_t err_len);

/*!
 * Whether a message of this zone and id was applied already: 1 (where says
 * where, e.g. "done/NAME" or "row 7"), 0, or negative when the record cannot
 * be read (logged; the pass fails with this error: spool -EIO, PostgreSQL
 * ZG_ECONNECT).
 */
int zg_queue_applied(zg_queue_t *q, const char *zone, const char *id, char *where,
                     size_t where_len);

/*!
 * Records the outcome of claimed message i.
 *
 * \param serial  Applied: the zone's serial, or -1 unknown.
 * \param zone    Applied: the message's zone (text), for the record of ids.
 * \param id      Applied: the message's id.
 * \param reason  Refused: why.
 *
 * \return 0, ZG_QUEUE_SKIPPED, or an error (logged; the pass fails with it:
 *         spool -EIO, PostgreSQL ZG_ECONNECT).
 */
int zg_queue_mark(zg_queue_t *q, size_t i, bool applied, int64_t serial, const char *zone,
                  const char *id, const char *reason);

/*!
 * Ends a pass: the outcomes marked become final.
 *
 * \retval 0           Final (report them).
 * \retval ZG_EFENCED  The lease was lost: rolled back (logged).
 * \retval other       The pass failed (logged); nothing is final.
 */
int zg_queue_commit(zg_queue_t *q);

/*!
 * Waits up to timeout_ms for a message to arrive (returns early then, and
 * on a stop request).
 */
void zg_queue_wait(zg_queue_t *q, int timeout_ms);

/*!
 * Number of waiting messages and when the oldest was queued.
 *
 * \return 0 or an error (nothing known).
 */
int zg_queue_pending(zg_queue_t *q, size_t *count, time_t *oldest);

/*!
 * Whether a refused message stays waiting when the consumer is stopping (the
 * spool: the refusal is left for the next consumer, which logs it, as
 * mod-ingest's log closes at unload).
 */
bool zg_queue_keeps_refusals_on_stop(const zg_queue_t *q);

/*!
 * Whether the queue records the serial an applied message went into
 * (PostgreSQL: applied_serial, which a redundant signer's takeover reads to
 * requeue messages of serials never published; the spool records none).
 */
bool zg_queue_records_serial(const zg_queue_t *q);

/*!
 * Producer side: queues one message (JSON text) of the queue's zone.
 *
 * \param id     The message's id (the spool's file is ID.json).
 * \param where  Filled with where it went (" (row 7)"), "" for the spool.
 * \param err    Why it failed ("cannot write ID.json to the spool (...)").
 *
 * \return 0, -EEXIST (a message of that id waits already: not replaced),
 *         or an error.
 */
int zg_queue_put(zg_queue_t *q, const char *id, const char *json, char *where,
                 size_t where_len, char *err, size_t err_len);

#endif /* ZONEGATE_QUEUE_H */
