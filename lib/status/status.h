/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * The pipeline at a glance (zg-status): reads what the queue, the signer's
 * and the hidden primary's knotd control sockets (zone-status, zone-stats of
 * mod-ingest, mod-validate, mod-dsync) and the public secondaries (SOA)
 * already expose, derives the freshness (the age of the oldest change not
 * yet served, validated, by every secondary) and a Nagios state, and prints
 * it as text, JSON, a Nagios line or Prometheus textfile metrics.
 * Nothing is changed anywhere.
 */
#ifndef ZONEGATE_STATUS_H
#define ZONEGATE_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ingest/qstatus.h"

#define ZG_STATUS_SECONDARIES	16	/*!< Most secondaries asked. */
#define ZG_STATUS_PROBLEMS	24	/*!< Most problems reported. */
#define ZG_STATUS_ZONES		1024	/*!< Most zones of one all-zones report. */

/*! States, with the Nagios exit codes. */
typedef enum {
	ZG_STATUS_OK = 0,
	ZG_STATUS_WARNING = 1,
	ZG_STATUS_CRITICAL = 2,
	ZG_STATUS_UNKNOWN = 3,
} zg_status_level_t;

/*! Output formats. */
typedef enum {
	ZG_STATUS_TEXT,
	ZG_STATUS_JSON,
	ZG_STATUS_NAGIOS,
	ZG_STATUS_PROMETHEUS,
} zg_status_format_t;

/*! What to read (strings borrowed; NULL: that part is not configured). */
typedef struct {
	const char *zone;             /*!< Zone name (text). */
	const char *queue;            /*!< spool:/DIR or postgresql://... */
	const char *signer_ctl;       /*!< The signer's knotd control socket. */
	const char *gate_ctl;         /*!< The hidden primary's knotd control socket. */
	const char *keystate_dir;     /*!< Where zg-signer-knot's key-state watcher writes
	                                   keystate-ZONE.json (its -W pid file's directory). */
	const char *secondaries[ZG_STATUS_SECONDARIES]; /*!< ADDR[@PORT] */
	size_t nsecondaries;
	int timeout_ms;               /*!< Per socket step / DNS query; default 2000. */
	int64_t now;                  /*!< Unix time of the report. */
	int64_t warn_freshness, crit_freshness;  /*!< Seconds (0: default 300, 1800). */
	int64_t warn_runway, crit_runway;        /*!< Seconds (0: default 3d, 1d). */
} zg_status_conf_t;

/*! Counters of one module read by zone-stats (-1: not reported). */
typedef struct {
	int64_t ing_applied, ing_refused, ing_changes, ing_lag, ing_last_row, ing_connected,
	        ing_lease, ing_last_poll;
	int64_t val_validated, val_failed, val_last, val_latency_ms, val_xfr_refused,
	        val_expiry_s, val_content_refused;
	int64_t ds_ok, ds_failed, ds_overdue, ds_unsafe, ds_unauth, ds_xfr_refused;
	int64_t keys_writes, keys_errors;
} zg_status_counters_t;

/*! The key-state watcher's status file (zg-signer-knot watch; -1: null). */
typedef struct {
	char path[512];
	char err[256];                /*!< "" when read. */
	char state[16];               /*!< running, stopped, off, fenced, unreachable. */
	int64_t pid, token, period, timeout, started, updated, checks, writes, errors,
	        in_a_row, last_write, last_error, pub_token, pub_at;
} zg_status_keystate_t;

/*! One public secondary. */
typedef struct {
	char name[64];
	int64_t serial;               /*!< -1: no answer (err says why). */
	char err[160];
} zg_status_secondary_t;

/*! One finding, worst first after zg_status_collect(). */
typedef struct {
	zg_status_level_t level;
	char text[384];
} zg_status_problem_t;

/*! The whole picture. */
typedef struct {
	char zone[256];               /*!< Lower case, final dot. */
	int64_t now;
	zg_status_level_t level;
	bool have_queue;
	char queue_src[256];
	char queue_err[384];          /*!< "" when read. */
	zg_queue_status_t q;
	bool have_signer, have_gate;
	char signer_err[384], gate_err[384];
	int64_t signer_serial;        /*!< zone-status (-1 unknown). */
	int64_t gate_serial;
	zg_status_counters_t sc, gc;  /*!< Counters at the signer and at the gate. */
	bool have_keystate;
	zg_status_keystate_t ks;      /*!< The key-state watcher (conf->keystate_dir). */
	zg_status_secondary_t sec[ZG_STATUS_SECONDARIES];
	size_t nsec;
	int64_t served;               /*!< Lowest serial of the secondaries (or the gate's
	                                   last validated one without secondaries), -1 unknown. */
	const char *verdict;          /*!< "valid", "failed", "validating", "unknown". */
	int64_t freshness;            /*!< Seconds, -1 unknown. */
	bool freshness_exact;         /*!< False: a lower bound (a spool records no serials). */
	int64_t runway;               /*!< Seconds to the earliest signature expiry, -1 unknown. */
	int64_t warn_freshness, crit_freshness, warn_runway, crit_runway;
	zg_status_problem_t problems[ZG_STATUS_PROBLEMS];
	size_t nproblems;
} zg_status_t;

/*!
 * Reads every configured source and evaluates them into st. Sources that
 * fail are recorded (their err, an UNKNOWN problem); the rest is still read.
 *
 * \return 0, or ZG_EINPUT (a secondary that is no address: st->problems[0]
 *         says which; nothing was read).
 */
int zg_status_collect(const zg_status_conf_t *conf, zg_status_t *st);

/*!
 * Prints st in the format to out.
 */
void zg_status_print(const zg_status_t *st, zg_status_format_t format, FILE *out);

/*!
 * The zones of a configuration: every zone the signer's and the hidden
 * primary's knotd (conf->signer_ctl, conf->gate_ctl; at least one given)
 * list in zone-status, lower case with the final dot, sorted, each once.
 *
 * \param zones  Receives an array of *n strings (free with zg_status_zones_free()).
 * \return 0; ZG_EINPUT (no socket given, no zone, more than ZG_STATUS_ZONES)
 *         or a control socket's error, with err saying why.
 */
int zg_status_zones(const zg_status_conf_t *conf, char ***zones, size_t *n,
                    char *err, size_t errlen);

/*! Frees what zg_status_zones() returned. */
void zg_status_zones_free(char **zones, size_t n);

/*! The worst state of n reports (CRITICAL above UNKNOWN above WARNING). */
zg_status_level_t zg_status_worst(const zg_status_t *sts, size_t n);

/*!
 * Prints n reports (the zones of a configuration) in the format to out:
 * text, one block per zone; json, {"status", "exit", "time", "zones": [the
 * one-zone object of each]}; nagios, one line with the worst state, the
 * count per state and each zone's findings; prometheus, each metric once with
 * a sample per zone.
 */
void zg_status_print_all(const zg_status_t *sts, size_t n, zg_status_format_t format, FILE *out);

/*! "OK", "WARNING", "CRITICAL" or "UNKNOWN". */
const char *zg_status_level_str(zg_status_level_t level);

#endif /* ZONEGATE_STATUS_H */
