/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * mod-dsync's parent-mode worker without knotd: the schedule (scansched.h)
 * driving the CDS scanner (cdscan.h) over the listed children and passes
 * over every delegation, one action per zg_scanrun_step(). The caller gives
 * the clock (monotonic seconds; a fake one in tests) and a stop flag, logs
 * through the scanner's log callback, and adds the counts a step reports to
 * its counters.
 *
 * Worker loop: `while (!stopping) { wait = zg_scanrun_step(r, &out); count
 * out; if (wait > 0) sleep wait (or until woken); }`.
 */
#ifndef ZONEGATE_SCANRUN_H
#define ZONEGATE_SCANRUN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libknot/libknot.h>

#include "dsync/cdscan.h"
#include "dsync/scansched.h"

/*! What one step did, for the counters. */
typedef struct {
	zg_cdscan_stats_t delta;  /*!< Scanner totals added since the last step. */
	bool pass_done;           /*!< A pass over every delegation ended ... */
	uint64_t pass_seconds;    /*!< ... and took this long (rounded). */
} zg_scanrun_out_t;

/*! The worker's state (zg_scanrun_init() ... zg_scanrun_deinit()). */
typedef struct {
	zg_cdscan_t *scan;        /*!< Owned: freed by zg_scanrun_deinit(). */
	zg_cdscan_conf_t conf;    /*!< The scanner's settings (log, server, ...) ... */
	char *queue;              /*!< ... with its own copy of the queue (or NULL). */
	unsigned interval;        /*!< Listed children and listing retries, s. */
	unsigned scan_interval;   /*!< Passes, start to start, s. */
	char **children;          /*!< Listed children (presentation), NULL-terminated. */
	size_t nchildren;
	int64_t (*clock)(void *arg); /*!< Monotonic seconds (NULL: the real clock). */
	void *clock_arg;
	const atomic_bool *stop;  /*!< Set: a step ends early (or NULL). */

	bool started;
	zg_scansched_t sched;
	zg_cdscan_deleg_t *list;  /*!< The pass under way ... */
	size_t count, pos;        /*!< ... its length and the next to scan. */
	zg_cdscan_pass_t pass;
	zg_cdscan_stats_t seen;   /*!< Totals already reported. */
	char last_axfr[256];      /*!< Last listing error logged. */
	char last_listed[384];    /*!< Last listed-child error logged. */
} zg_scanrun_t;

/*!
 * Starts a worker state: creates its scanner from sc (sc->log, log_arg and
 * server are the worker's too; zone, tsig and resolver are not kept).
 *
 * \return 0, or zg_cdscan_new()'s error (nothing to deinit then).
 */
int zg_scanrun_init(zg_scanrun_t *r, const zg_cdscan_conf_t *sc, unsigned interval,
                    unsigned scan_interval);

/*!
 * zg_scanrun_init() as mod-dsync starts parent mode: the scanner's zone is
 * zone in lowercase, its AXFR key (tsig) is key as "ALG:NAME:SECRET", and
 * r->stop is sc->cancel.
 *
 * \param sc   The scanner's settings; its zone and tsig are not read.
 * \param key  The key item (NULL: none; one without a name: set, but it
 *             could not be read).
 * \param msg  Out: the line to log when not 0 (empty: none).
 *
 * \return 0, ZG_EINPUT (the key has no usable secret, or the zone cannot
 *         be printed), or zg_scanrun_init()'s error (the queue's).
 */
int zg_scanrun_open(zg_scanrun_t *r, const knot_dname_t *zone, const knot_tsig_key_t *key,
                    const zg_cdscan_conf_t *sc, unsigned interval, unsigned scan_interval,
                    char *msg, size_t msglen);

/*! Logs (notice) what is active, once the children are added. */
void zg_scanrun_log_conf(const zg_scanrun_t *r);

/*! Adds a listed child (before the first step). \return 0, ZG_EINPUT or -ENOMEM. */
int zg_scanrun_add_child(zg_scanrun_t *r, const knot_dname_t *child);

/*! Frees the pass under way, the children and the scanner (not r). */
void zg_scanrun_deinit(zg_scanrun_t *r);

/*!
 * Does what is due now: scans the listed children, lists the delegations or
 * scans a slice (about a second) of the pass.
 *
 * \return 0 (something was done: step again), or the seconds to wait until
 *         something is due (idle; a wake-up may end the wait early).
 */
int64_t zg_scanrun_step(zg_scanrun_t *r, zg_scanrun_out_t *out);

#endif /* ZONEGATE_SCANRUN_H */
