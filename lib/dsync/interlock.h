/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The DS interlock of mod-dsync's child mode as a pure step function: what
 * the zone announces (CDS/CDNSKEY), what the parent servers serve and what
 * zone-ksk-submitted answered go in, with the wall and monotonic time; the
 * log lines, counter increments, alarm and next action come out. No I/O, no
 * clock: the module fetches, logs, counts and runs the alarm.
 *
 * One check of the zone: step ZG_INTERLOCK_ZONE; when out.check_parents,
 * fetch and evaluate the parent views and step ZG_INTERLOCK_PARENTS; when
 * out.submit, run zone-ksk-submitted and step ZG_INTERLOCK_SUBMITTED.
 */
#ifndef ZONEGATE_INTERLOCK_H
#define ZONEGATE_INTERLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*! The DS change the zone announces and how far its confirmation got. */
typedef struct {
	uint32_t overdue;      /*!< Seconds from announcement to the first overdue alarm. */
	size_t nparents;       /*!< Parent servers configured (0: overdue alarm only). */
	bool active;           /*!< A change is announced. */
	bool done;             /*!< Confirmed (or nothing waited for it). */
	uint64_t hash;         /*!< Of the announced CDS (else CDNSKEY) rdata. */
	char tags[128];        /*!< Announced key tags, for logs. */
	uint16_t keytag;       /*!< First announced key tag, for the alarm. */
	int64_t since;         /*!< Announcement first seen (wall, s). */
	int64_t next_overdue;  /*!< Next overdue alarm (wall, s). */
	bool matching;         /*!< Every parent server serves it since match_since. */
	int64_t match_since;   /*!< Monotonic ms. */
	char last[384];        /*!< Last logged parent finding. */
} zg_interlock_t;

/*! What a step reports. */
typedef enum {
	ZG_INTERLOCK_ZONE = 1,   /*!< The zone's (safe) CDS/CDNSKEY were read. */
	ZG_INTERLOCK_PARENTS,    /*!< The parent servers were checked. */
	ZG_INTERLOCK_SUBMITTED,  /*!< zone-ksk-submitted answered. */
} zg_interlock_event_t;

/*! The input of one step. */
typedef struct {
	zg_interlock_event_t event;
	int64_t now;             /*!< Wall clock, s. */
	int64_t mono_ms;         /*!< Monotonic clock, ms. */
	/* ZG_INTERLOCK_ZONE */
	bool announced;          /*!< A CDS (else CDNSKEY) set, not a delete, is published. */
	bool cdnskey;            /*!< It is a CDNSKEY set (no CDS). */
	uint64_t hash;           /*!< Of its rdata. */
	const char *tags;        /*!< Its key tags ("A B"). */
	uint16_t keytag;         /*!< Its first key tag. */
	/* ZG_INTERLOCK_PARENTS */
	bool matched;            /*!< Every parent server serves a validated DS for every key. */
	const char *why;         /*!< Else why not. */
	uint32_t ds_ttl;         /*!< The largest DS TTL served, when matched. */
	bool unauthenticated;    /*!< An answer was not authenticated. */
	/* ZG_INTERLOCK_SUBMITTED */
	int submit_ret;          /*!< 0, or the error of zone-ksk-submitted. */
	const char *submit_err;  /*!< Then knotd's reply or the error text. */
} zg_interlock_in_t;

#define ZG_INTERLOCK_MAX_LOGS 4      /*!< A step writes two at most. */
#define ZG_INTERLOCK_LOG_LEN 1024

/*! One log line to write. */
typedef struct {
	int level;               /*!< syslog level (LOG_ERR ... LOG_DEBUG). */
	char text[ZG_INTERLOCK_LOG_LEN];
} zg_interlock_log_t;

/*! What the module must do after a step, in this order. */
typedef struct {
	zg_interlock_log_t logs[ZG_INTERLOCK_MAX_LOGS];
	size_t nlogs;
	/* Counter increments. */
	unsigned ds_ok;            /*!< parent-ds-checks-ok */
	unsigned ds_failed;        /*!< parent-ds-checks-failed */
	unsigned ds_unauth;        /*!< parent-ds-unauthenticated */
	unsigned overdue;          /*!< syncs-overdue */
	bool alarm;                /*!< Run the alarm command ... */
	uint16_t alarm_keytag;     /*!< ... for this key tag ... */
	char alarm_reason[512];    /*!< ... and reason. */
	bool check_parents;        /*!< Check the parent servers, then step ZG_INTERLOCK_PARENTS. */
	bool submit;               /*!< Run zone-ksk-submitted, then step ZG_INTERLOCK_SUBMITTED. */
} zg_interlock_out_t;

/*!
 * \brief Starts an interlock with nothing announced.
 *
 * \param st        The state.
 * \param overdue   Seconds until an unconfirmed change is overdue (and between alarms).
 * \param nparents  Parent servers configured.
 */
void zg_interlock_init(zg_interlock_t *st, uint32_t overdue, size_t nparents);

/*!
 * \brief One step of the interlock: updates st from in, fills out.
 *
 * \return 0, or ZG_EINPUT (a NULL argument or an unknown event; st unchanged).
 */
int zg_interlock_step(zg_interlock_t *st, const zg_interlock_in_t *in, zg_interlock_out_t *out);

#endif
