/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * Parent-side CDS/CDNSKEY scanner (mod-dsync parent mode): lists the
 * delegations of a parent zone (AXFR from the parent's own server) or looks
 * one up (referral), asks each child's servers for CDS/CDNSKEY at a bounded
 * query rate, applies the RFC 7344/8078 rules (zg_cds_evaluate()) against the
 * DS set the parent serves now, and writes every accepted DS change as a JSON
 * ingest message (doc/contracts.md, version 1) into the ingest queue (spool
 * directory or PostgreSQL), so that the parent zone changes through
 * mod-ingest only. Every accepted or refused CDS/CDNSKEY set gives one audit
 * line through the log callback, once per distinct published set and
 * verdict of a child.
 *
 * One scanner is used by one thread at a time.
 */
#ifndef ZONEGATE_CDSCAN_H
#define ZONEGATE_CDSCAN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <libknot/libknot.h>

#include "dns/resolver.h"

/*! Most child server addresses used per delegation. */
#define ZG_CDSCAN_MAX_ADDRS 16

/*! Log callback: level is a syslog level (LOG_ERR...), msg one line. */
typedef void (*zg_cdscan_log_t)(void *arg, int level, const char *msg);

/*! Scanner configuration (strings are copied by zg_cdscan_new()). */
typedef struct {
	const char *zone;          /*!< Parent zone, presentation format. */
	zg_server_t server;        /*!< The parent's own server (AXFR, DS/NS reads). */
	const char *tsig;          /*!< "[ALG:]NAME:SECRET" for the AXFR, or NULL. */
	const zg_server_t *resolver; /*!< Recursive resolver for addresses of
	                                  out-of-zone name servers, or NULL. */
	uint16_t child_port;       /*!< Port of the children's servers (0 = 53). */
	unsigned query_rate;       /*!< Queries per second to child servers (0 = no limit). */
	int timeout_ms;            /*!< Per query attempt (0 = 1000). */
	bool allow_delete;         /*!< Accept the RFC 8078 delete form. */
	bool dry_run;              /*!< Log what would be queued, queue nothing. */
	const char *queue;         /*!< "spool:/DIR" or "postgresql://..." (NULL with dry_run). */
	unsigned requeue_s;        /*!< Same DS change not queued again within this (0 = 600). */
	zg_cdscan_log_t log;
	void *log_arg;
	const atomic_bool *cancel; /*!< Set by another thread to stop waits early (or NULL). */
} zg_cdscan_conf_t;

/*! A delegation to scan. */
typedef struct {
	uint8_t name[KNOT_DNAME_MAXLEN]; /*!< Child apex, wire, lowercase. */
	bool secure;                     /*!< The parent has a DS for it (as listed). */
	size_t naddrs;
	zg_server_t addrs[ZG_CDSCAN_MAX_ADDRS];
	char noaddr[128];                /*!< Name server(s) without an address, for the log. */
} zg_cdscan_deleg_t;

/*! What one child scan ended with. */
typedef enum {
	ZG_CDSCAN_NONE = 0,   /*!< No CDS/CDNSKEY (or the same verdict as before, nothing to do). */
	ZG_CDSCAN_UNCHANGED,  /*!< CDS/CDNSKEY match the DS served. */
	ZG_CDSCAN_QUEUED,     /*!< Accepted, message written to the queue. */
	ZG_CDSCAN_DRYRUN,     /*!< Accepted, dry-run: logged only. */
	ZG_CDSCAN_PENDING,    /*!< Accepted, the same change was queued recently. */
	ZG_CDSCAN_REFUSED,    /*!< Refused (audit line logged). */
	ZG_CDSCAN_FAILED,     /*!< Could not scan or could not queue (retried next time). */
} zg_cdscan_outcome_t;

/*! Running totals (monotonic). */
typedef struct {
	uint64_t scanned;     /*!< Children scanned. */
	uint64_t queries;     /*!< Queries sent to child servers. */
	uint64_t accepted;    /*!< Accepted CDS/CDNSKEY sets (distinct, queued or dry-run). */
	uint64_t refused;     /*!< Refused sets (distinct). */
	uint64_t queued;      /*!< Messages written to the queue. */
	uint64_t failed;      /*!< Scans or queue writes that failed. */
} zg_cdscan_stats_t;

typedef struct zg_cdscan zg_cdscan_t;

/*!
 * Creates a scanner (connects to nothing yet).
 * \param out  The scanner, to release with zg_cdscan_free().
 * \return 0, ZG_EINPUT (bad zone name or queue) or -ENOMEM.
 */
int zg_cdscan_new(const zg_cdscan_conf_t *conf, zg_cdscan_t **out);

/*! Frees the scanner and closes its queue (NULL is fine). */
void zg_cdscan_free(zg_cdscan_t *scan);

/*!
 * Lists every delegation of the parent zone by AXFR from conf->server, with
 * the addresses of its name servers (glue from the zone; out-of-zone names
 * through conf->resolver when set).
 * \param out    Out: malloc'd array (caller frees with free()).
 * \param count  Out: number of delegations.
 * \return 0 or the zg_axfr_load() error (err filled).
 */
int zg_cdscan_list(zg_cdscan_t *scan, zg_cdscan_deleg_t **out, size_t *count,
                   char *err, size_t errlen);

/*!
 * Looks one child up at the parent's own server (referral: NS and glue;
 * out-of-zone names through conf->resolver).
 * \param child  Child apex (presentation format).
 * \return 0, ZG_EINPUT (not a delegation of the zone) or a query error (err filled).
 */
int zg_cdscan_lookup(zg_cdscan_t *scan, const char *child, zg_cdscan_deleg_t *out,
                     char *err, size_t errlen);

/*!
 * Scans one child: CDS and CDNSKEY from its first server; when something is
 * published, DNSKEY/CDS/CDNSKEY from every server and the DS the parent
 * serves now, then the RFC 7344/8078 verdict, the audit line and, when
 * accepted, the ingest message (unless dry-run).
 */
zg_cdscan_outcome_t zg_cdscan_child(zg_cdscan_t *scan, const zg_cdscan_deleg_t *deleg);

/*! The running totals. */
void zg_cdscan_stats(const zg_cdscan_t *scan, zg_cdscan_stats_t *stats);

/*! A pass over every delegation: when it started and the totals then. */
typedef struct {
	size_t count;              /*!< Delegations listed. */
	double t0;                 /*!< Start (zg_clock_s()). */
	zg_cdscan_stats_t base;    /*!< The totals at the start. */
} zg_cdscan_pass_t;

/*! Starts the pass over count delegations. */
void zg_cdscan_pass_begin(const zg_cdscan_t *scan, zg_cdscan_pass_t *pass, size_t count);

/*!
 * Ends the pass: its summary line ("scan of N delegations done in S s, ...")
 * into buf. 
eturn the pass's duration in seconds.
 */
double zg_cdscan_pass_end(const zg_cdscan_t *scan, const zg_cdscan_pass_t *pass,
                          char *buf, size_t len);

/*!
 * Builds the JSON ingest message (version 1) that sets the complete data of
 * a delegation point: its NS RRset and its DS RRset (none = DS removed).
 * \param id     Message id.
 * \param zone   Parent zone (presentation format, with the final dot).
 * \param ns     NS RRset of the delegation (owner = child).
 * \param ds     DS RRset (may have no rdata).
 * \return malloc'd JSON text (caller frees with free()), or NULL (no memory,
 *         or an rdata that cannot be written).
 */
char *zg_cdscan_message(const char *id, const char *zone, const knot_rrset_t *ns,
                        const knot_rrset_t *ds);

/*!
 * The id of a scanner message (also its spool file name without ".json"):
 * "YYYYMMDDTHHMMSSZ-dsync-NNNNNN-CHILD", the child's name cut to 34
 * characters, lower case, characters other than letters, digits, '-' and '.'
 * replaced by '_': at most 64 characters (the ingest limit), sorting by time.
 * \param buf  Output (at least 65 bytes), NUL-terminated.
 */
void zg_cdscan_message_id(char *buf, size_t len, const knot_dname_t *child, unsigned seq,
                          time_t now);

#endif /* ZONEGATE_CDSCAN_H */
