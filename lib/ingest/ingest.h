/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * The ingest loop shared by zg-ingest and mod-ingest: takes messages from
 * a queue (spool directory or PostgreSQL), checks them, applies them in
 * batches through the gateway and records each outcome in the queue.
 */
#ifndef ZONEGATE_INGEST_H
#define ZONEGATE_INGEST_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <libknot/dname.h>

#include "ingest/gateway.h"
#include "ingest/msg.h"

/*! Outcome of one message, reported after it is recorded in the queue.
 *  name and reason come from outside (file names, message text): they are
 *  given escaped (zg_msg_escape()), one line each, ready to be logged. */
typedef struct {
	bool applied;                  /*!< Applied (else refused). */
	const char *name;              /*!< Spool file name, or NULL. */
	int64_t row_id;                /*!< PostgreSQL row id, or -1. */
	const char *msg_id;            /*!< Message id ("" if it did not parse). */
	const zg_apply_result_t *res;  /*!< What was done (applied only). */
	const char *reason;            /*!< Refusal reason (refused only). */
	time_t enqueued;               /*!< When the message was queued. */
} zg_ingest_outcome_t;

/*! The consumer's state, given to zg_ingest_conf_t.on_state. */
typedef struct {
	bool connected;  /*!< The spool is open and readable, or PostgreSQL answered. */
	bool holding;    /*!< This consumer holds the queue: the spool's lock, or the
	                      zone's PostgreSQL lease (renewed on every poll). */
	time_t polled;   /*!< Unix time of the last successful poll, one that read
	                      the queue while holding it (0: none yet). */
} zg_ingest_state_t;

/*! Log levels of zg_ingest_conf_t.on_log (syslog-like). */
enum {
	ZG_INGEST_LOG_ERR = 3,
	ZG_INGEST_LOG_WARNING = 4,
	ZG_INGEST_LOG_NOTICE = 5,
	ZG_INGEST_LOG_INFO = 6,
};

/*! Settings of the loop. Strings are borrowed for the duration of the run. */
typedef struct {
	const char *source;            /*!< spool:/DIR or postgresql://... */
	const knot_dname_t *zone;      /*!< The zone (required for PostgreSQL), or NULL. */
	const char *consumer;          /*!< Lease holder name (PostgreSQL); NULL: host:pid. */
	unsigned lease_s;              /*!< Lease duration (PostgreSQL), default 30. */
	zg_gateway_conf_t gw;          /*!< Where and how to apply. */
	zg_msg_limits_t limits;        /*!< Message limits. */
	double interval;               /*!< Poll interval when idle (s). */
	bool once;                     /*!< Drain the queue and return. */
	volatile sig_atomic_t *stop;   /*!< Set to non-zero to stop (checked every 50 ms). */
	/*! Called for each message once its outcome is recorded (may be NULL). */
	void (*on_outcome)(void *ctx, const zg_ingest_outcome_t *outcome);
	/*! Called with a one-line message (may be NULL). */
	void (*on_log)(void *ctx, int level, const char *text);
	/*! Called after each pass with the age in seconds of the oldest message
	 *  still waiting (0 if none) (may be NULL). */
	void (*on_lag)(void *ctx, int64_t seconds);
	/*! Called when the state changes and after each successful poll, and
	 *  with connected and holding cleared when the run ends (may be NULL). */
	void (*on_state)(void *ctx, const zg_ingest_state_t *state);
	void *ctx;                     /*!< Passed to the callbacks. */
} zg_ingest_conf_t;

/*!
 * Fills conf with defaults (gateway defaults, message limits, 1 s interval,
 * 30 s lease); the caller sets source and the rest.
 */
void zg_ingest_conf_default(zg_ingest_conf_t *conf);

/*!
 * Runs the loop until *conf->stop is set, or (once) the queue is drained.
 *
 * A spool is consumed by one consumer at a time (zg_spool_lock()): without
 * once, the loop waits for the lock; entries of incoming/ that are no
 * readable regular file are moved to failed/ with their reason; spool I/O
 * errors are logged (at most once a minute while they last) and retried.
 * Every line given to on_log is escaped (zg_msg_escape()).
 *
 * \retval 0            Stopped, or drained.
 * \retval ZG_EINPUT    Bad settings, or (once) a PostgreSQL queue whose
 *                      message column is not json (reported through on_log).
 * \retval ZG_EFENCED   (once) Another consumer holds the spool's lock.
 * \retval ZG_ECONNECT  (once) The server or database stayed unreachable, or
 *                      messages stayed held.
 * \retval -errno       (once) Spool I/O error.
 */
int zg_ingest_run(const zg_ingest_conf_t *conf);

#endif /* ZONEGATE_INGEST_H */
