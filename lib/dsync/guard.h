/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * The CDS/CDNSKEY guard of mod-dsync's child mode, without knotd: what the
 * zone publishes is checked (dsync/ds.h), the outcome goes through a pure
 * step that keeps the guard's state and says what to log and count, and the
 * query and transfer hooks ask zg_guard_served() whether the set the zone
 * serves now is the one found safe.
 *
 * Threads: one worker steps the guard; the hooks read only the two numbers
 * the module publishes from it (state and checked), e.g. as atomics.
 */
#ifndef ZONEGATE_GUARD_H
#define ZONEGATE_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libknot/rdataset.h>

/*! The guard's view of the published CDS/CDNSKEY. */
typedef enum {
	ZG_GUARD_UNKNOWN = 0, /*!< Not checked yet: CDS/CDNSKEY withheld. */
	ZG_GUARD_SAFE,        /*!< Checked and safe: served. */
	ZG_GUARD_UNSAFE,      /*!< Checked and unsafe: withheld. */
} zg_guard_state_t;

/*! The guard's state (owned by the worker that steps it). */
typedef struct {
	zg_guard_state_t state;
	/*! What was checked last: zg_guard_set_hash() of the set, with the low
	 *  bit set when it was safe (0: nothing checked). */
	uint64_t checked;
	char last[256];  /*!< The last unsafe reason logged. */
	int last_err;    /*!< The last fetch error logged (0: none). */
} zg_guard_t;

/*! The outcome of one check of the published set. */
typedef struct {
	int fetch_ret;          /*!< 0, or the error fetching the set ... */
	const char *fetch_err;  /*!< ... with its text. */
	const char *server;     /*!< The server asked, for logs. */
	int check_ret;          /*!< zg_cds_check_published(): 0, ZG_EVALIDATION or an error. */
	const char *why;        /*!< Its reason. */
	uint64_t set_hash;      /*!< zg_guard_set_hash() of the fetched set. */
} zg_guard_in_t;

#define ZG_GUARD_LOG_LEN 512

/*! What the module does after a step. */
typedef struct {
	bool log;                     /*!< Write one log line: */
	int level;                    /*!< its syslog level ... */
	char text[ZG_GUARD_LOG_LEN];  /*!< ... and text. */
	unsigned unsafe;              /*!< Increment of cds-unsafe. */
	bool safe;                    /*!< The set is safe: go on with the DS interlock. */
} zg_guard_out_t;

/*!
 * The identity of a set: 64-bit FNV-1a of each RRset's rdata and count.
 *
 * \return The hash, low bit cleared.
 */
uint64_t zg_guard_set_hash(const knot_rdataset_t *dnskey, const knot_rdataset_t *cds,
                           const knot_rdataset_t *cdnskey);

/*!
 * The identity of one RRset's rdata (FNV-1a of the rdata, xor the count).
 */
uint64_t zg_guard_rdataset_hash(const knot_rdataset_t *rrs);

/*! Starts a guard with nothing checked (CDS/CDNSKEY withheld). */
void zg_guard_init(zg_guard_t *g);

/*!
 * One check of the published set: updates g from in, fills out.
 *
 * Logs only transitions (first check, safe again, a new unsafe reason, a new
 * fetch error), so a steady state writes nothing.
 */
void zg_guard_step(zg_guard_t *g, const zg_guard_in_t *in, zg_guard_out_t *out);

/*! What a hook does with the set the zone serves now. */
typedef enum {
	ZG_GUARD_PASS = 0,   /*!< The set found safe, or no CDS/CDNSKEY at all. */
	ZG_GUARD_UNCHECKED,  /*!< Another set than the one checked: withhold, wake the worker. */
	ZG_GUARD_WITHHOLD,   /*!< The set found unsafe: withhold. */
} zg_guard_verdict_t;

/*! What a hook does with a guarded query, given the verdict. */
typedef struct {
	int rcode;        /*!< 0: answer as usual; else the rcode to answer with. */
	bool wake;        /*!< Wake the worker: the zone serves a set it has not checked. */
	const char *why;  /*!< The withheld set, for the log: "not checked yet" or "unsafe". */
} zg_guard_action_t;

/*!
 * The hooks' decision: a set that may not go out gets SERVFAIL (a CDS or
 * CDNSKEY query) or REFUSED (an outgoing transfer, xfr); one not checked
 * yet also wakes the worker.
 */
zg_guard_action_t zg_guard_decide(zg_guard_verdict_t verdict, bool xfr);

/*!
 * The hooks' question: may the set the zone serves now go out?
 *
 * \param checked  zg_guard_t.checked as the worker published it.
 */
zg_guard_verdict_t zg_guard_served(uint64_t checked, const knot_rdataset_t *dnskey,
                                   const knot_rdataset_t *cds, const knot_rdataset_t *cdnskey);

#endif /* ZONEGATE_GUARD_H */
