/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * The state of a queue for monitoring (zg-status): what is waiting, what was
 * applied last, what was refused, who holds the zone. Read-only: nothing is
 * claimed, moved, created or locked.
 */
#ifndef ZONEGATE_QSTATUS_H
#define ZONEGATE_QSTATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/*! A queue's state. Times are unix seconds, 0 when unknown. */
typedef struct {
	bool pg;                 /*!< PostgreSQL (else a spool). */
	size_t pending;          /*!< Messages waiting (of the zone; a spool: all). */
	time_t oldest;           /*!< Enqueue time of the oldest one waiting. */
	size_t refused;          /*!< Messages refused (failed/, or rows 'refused'). */
	bool have_last;          /*!< A message was applied: */
	char last_id[256];       /*!< its message id (PostgreSQL) or file name (spool), */
	int64_t last_row;        /*!< its row id (PostgreSQL; -1 spool), */
	int64_t last_serial;     /*!< the serial it became (-1: not recorded, a spool), */
	time_t last_enqueued;    /*!< when it was enqueued, */
	time_t last_applied;     /*!< when it was applied. */
	/*! Enqueue time of the oldest applied message whose serial is above the
	 *  served serial given to zg_queue_status_read() (0: none; PostgreSQL only). */
	time_t unserved_oldest;
	bool have_lease;         /*!< PostgreSQL: zonegate_lease has the zone's row: */
	char lease_holder[128];
	int64_t lease_token;
	time_t lease_expires;
} zg_queue_status_t;

/*!
 * Reads the state of the queue SOURCE (spool:/DIR or postgresql://...) for
 * ZONE. A spool must exist with its incoming/ directory; a PostgreSQL queue
 * must have its tables (nothing is created).
 *
 * \param served  Serial served by every public secondary (-1 unknown): applied
 *                rows above it count for unserved_oldest.
 * \param err     Receives the reason of a failure (one line).
 *
 * \return 0, ZG_EINPUT (not a queue source), ZG_ECONNECT (database), -errno.
 */
int zg_queue_status_read(const char *source, const char *zone, int64_t served,
                         zg_queue_status_t *out, char *err, size_t errlen);

#endif /* ZONEGATE_QSTATUS_H */
