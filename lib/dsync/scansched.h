/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * When mod-dsync's parent mode scans what, without knotd: a pure schedule
 * over a clock the caller passes in (monotonic seconds).
 *
 * Two kinds of scan share one worker:
 * - the listed children (`child` items), every `interval` seconds;
 * - a pass over every delegation of the zone (listed by AXFR), every
 *   `scan-interval` seconds from the start of the previous pass, done in
 *   slices of about a second so that the listed children keep their
 *   interval during a long pass. A listing that fails is retried every
 *   `interval` seconds.
 *
 * The worker asks zg_scansched_next() what is due, does it, and reports it
 * back (zg_scansched_listed_done(), zg_scansched_listing(),
 * zg_scansched_pass_done()).
 */
#ifndef ZONEGATE_SCANSCHED_H
#define ZONEGATE_SCANSCHED_H

#include <stdbool.h>
#include <stdint.h>

/*! The longest idle wait zg_scansched_next() asks for, in seconds. */
#define ZG_SCANSCHED_MAX_WAIT 3600

/*! What is due. */
typedef enum {
	ZG_SCANSCHED_LISTED = 1, /*!< Scan the listed children. */
	ZG_SCANSCHED_LIST,       /*!< List the delegations (a pass starts if it works). */
	ZG_SCANSCHED_SLICE,      /*!< Scan the next slice (about a second) of the pass. */
	ZG_SCANSCHED_IDLE,       /*!< Nothing: wait (or until woken). */
} zg_scansched_action_t;

/*! The schedule's state. */
typedef struct {
	unsigned interval;       /*!< Listed children, and listing retries (s). */
	unsigned scan_interval;  /*!< Passes, start to start (s). */
	bool listed;             /*!< There are listed children. */
	bool in_pass;            /*!< A pass is under way. */
	int64_t next_listed;     /*!< When the listed children are due. */
	int64_t next_full;       /*!< When the next listing is due. */
	int64_t pass_start;      /*!< When the pass under way started. */
} zg_scansched_t;

/*! Starts a schedule at now: both kinds of scan are due at once. */
void zg_scansched_init(zg_scansched_t *s, int64_t now, unsigned interval,
                       unsigned scan_interval, bool listed);

/*!
 * What is due at now. Listed children come first, then the listing, then a
 * slice of the pass under way. For ZG_SCANSCHED_IDLE, *wait_s (if not NULL)
 * is the wait in seconds until something is due, at most
 * ZG_SCANSCHED_MAX_WAIT; otherwise 0.
 */
zg_scansched_action_t zg_scansched_next(const zg_scansched_t *s, int64_t now, int64_t *wait_s);

/*! The listed children were scanned; now is when that ended. */
void zg_scansched_listed_done(zg_scansched_t *s, int64_t now);

/*! The listing asked for at start (the time it was asked) worked (a pass
 *  starts) or failed (retried `interval` seconds after end). */
void zg_scansched_listing(zg_scansched_t *s, int64_t start, int64_t end, bool ok);

/*! The pass under way ended: the next listing is due scan_interval after its start. */
void zg_scansched_pass_done(zg_scansched_t *s);

#endif /* ZONEGATE_SCANSCHED_H */
