/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * Validation findings and their output (text, JSON, Nagios).
 *
 * A report collects problems as `<owner> <TYPE>: <reason>` items with a
 * severity, plus statistics. Reports of parallel work are merged in order
 * with zg_report_merge(), which keeps the output deterministic.
 */
#ifndef ZONEGATE_REPORT_H
#define ZONEGATE_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/arena.h"

typedef enum {
	ZG_SEV_ERROR = 0,    /*!< The zone is not valid. */
	ZG_SEV_WARNING = 1,  /*!< Valid, but attention needed (e.g. expiry within the horizon). */
} zg_severity_t;

/*! One finding; strings are owned by the report. */
typedef struct {
	zg_severity_t severity;
	uint16_t type;        /*!< RR type concerned. */
	const char *owner;    /*!< Owner, presentation format, absolute. */
	const char *reason;   /*!< Reason, lowercase, no final period. */
} zg_report_item_t;

/*! Counters gathered during validation. */
typedef struct {
	uint64_t signatures;       /*!< Signatures verified successfully. */
	uint64_t rrsets;           /*!< RRsets whose signatures were checked. */
	uint64_t names;            /*!< Owner names checked. */
	uint64_t nsec3;            /*!< NSEC3 owners checked. */
	int64_t earliest_expiry;   /*!< Earliest expiration of a valid signature (unix), INT64_MAX if none. */
} zg_report_stats_t;

/*! A report; embed and zg_report_init(). */
typedef struct {
	zg_arena_t arena;
	zg_report_item_t *items;
	size_t len, cap;
	size_t errors, warnings;
	zg_report_stats_t stats;
} zg_report_t;

/*! Initialises an empty report (allocates nothing until the first item). */
void zg_report_init(zg_report_t *report);

/*! Frees the items and strings of a report. */
void zg_report_deinit(zg_report_t *report);

/*!
 * Adds a finding.
 *
 * \param owner  Owner in wire format.
 * \param type   RR type concerned.
 * \param fmt    printf format of the reason.
 *
 * \return 0 or -ENOMEM.
 */
int zg_report_add(zg_report_t *report, zg_severity_t sev, const uint8_t *owner,
                  uint16_t type, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/*! Appends the items of \a src to \a dst and adds up the statistics. */
int zg_report_merge(zg_report_t *dst, const zg_report_t *src);

/*! Formats `<owner> <TYPE>: <reason>` into \a buf. */
void zg_report_item_str(const zg_report_item_t *item, char *buf, size_t len);

/*! Formats a unix time as RFC 3339 UTC (`2026-11-20T00:00:00Z`); \a buf >= 32 bytes. */
char *zg_time_str(int64_t t, char *buf, size_t len);

/*! Summary information for output. */
typedef struct {
	const char *zone;      /*!< Zone name, presentation format. */
	uint32_t serial;
	int64_t now;           /*!< Validation time. */
	unsigned threads;
	double elapsed;        /*!< Seconds spent validating. */
	const char *p256;      /*!< NULL, or the P-256 engine ("native", "openssl"): the
	                            JSON stats then include it and the table cache. */
} zg_report_info_t;

/*!
 * Text output: errors, then warnings (reason prefixed with "warning: "), each
 * as `<owner> <TYPE>: <reason>`, then the summary line
 * `zone Z serial S: VALID|INVALID, E errors, W warnings, N signatures verified,
 * earliest expiry T`.
 */
void zg_report_print_text(FILE *out, const zg_report_t *report, const zg_report_info_t *info);

/*!
 * JSON output: {zone, serial, valid, errors[], warnings[], stats{}}; with
 * info->p256 set, stats.p256 = {engine, table_cache_keys, tables, table_bytes,
 * table_builds, table_evictions, fallbacks} (see validate/p256.h).
 */
int zg_report_print_json(FILE *out, const zg_report_t *report, const zg_report_info_t *info);

/*!
 * Nagios output: status line first (`ZONEGATE OK|WARNING|CRITICAL - ... | perfdata`),
 * then the problems as in text output.
 *
 * \return The Nagios exit code (0 OK, 1 WARNING, 2 CRITICAL).
 */
int zg_report_print_nagios(FILE *out, const zg_report_t *report, const zg_report_info_t *info);

#endif /* ZONEGATE_REPORT_H */
