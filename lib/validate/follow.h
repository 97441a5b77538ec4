/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * The follow-and-verify loop of a validating follower (mod-validate), with
 * no knotd: it follows a zone at its source (SOA polling, IXFR into a shadow
 * zone, AXFR at first and as fallback), validates what each diff can affect
 * (validate/incr.h), keeps the verdict per serial with the digest of the
 * content it was made on (validate/verdicts.h, and its state file), checks
 * signature expiry as time passes, checks again content served behind a
 * failed serial, fences serials by the signer lease (signer/fence.h) and
 * announces validated serials to NOTIFY targets. The caller supplies
 * logging, counters, the alarm, the re-sign request and what to do with
 * each verdict (zg_follow_ops_t, each optional) and the thread: it calls
 * zg_follow_round() and sleeps what it returns, or applies its own rules to
 * what the round did (zg_follow_result_t).
 *
 * mod-validate runs it on its worker thread; `zg-verify --follow` runs it
 * in its main loop with no state file, NOTIFY target, lease, log, counter
 * or alarm (then none of these costs anything) and prints each verdict.
 *
 * Threads: one worker runs zg_follow_round() and zg_follow_waited(); any
 * thread may call zg_follow_verdict() (lock-free), zg_follow_digest()
 * and zg_follow_recheck_request().
 */
#ifndef ZONEGATE_FOLLOW_H
#define ZONEGATE_FOLLOW_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <libknot/libknot.h>

#include "dns/diff.h"
#include "dns/xfr.h"
#include "signer/fence.h"
#include "signer/lease.h"
#include "validate/digest.h"
#include "validate/incr.h"
#include "validate/report.h"
#include "validate/verdicts.h"
#include "validate/verify.h"

/*! Addresses of a source used (tried in order). */
#define ZG_FOLLOW_SOURCES  8
/*! NOTIFY targets kept. */
#define ZG_FOLLOW_NOTIFY   16
/*! Signer map items (HOLDER@ADDR) used. */
#define ZG_FOLLOW_SIGNERS  ZG_FENCE_MAP_MAX

/*! A shadow zone kept up to date by transfers. */
typedef struct {
	zg_incr_t *shadow;          /*!< NULL before the first AXFR. */
	zg_diff_t diff;             /*!< Reused IXFR buffer. */
	zg_digest_ctx_t *dctx;      /*!< Content digests of the shadow (NULL: none). */
} zg_shadow_t;

/*! What zg_shadow_update() did, for the caller's log. */
typedef enum {
	ZG_SHADOW_IXFR,             /*!< A diff applied (diff). */
	ZG_SHADOW_IXFR_NOAPPLY,     /*!< A diff that does not apply (diff, err): AXFR follows. */
	ZG_SHADOW_IXFR_FULL,        /*!< IXFR answered with the whole zone (from, serial). */
	ZG_SHADOW_AXFR,             /*!< A whole zone transferred (serial). */
} zg_shadow_event_t;

typedef void (*zg_shadow_note_t)(void *arg, zg_shadow_event_t ev, const zg_diff_t *diff,
                                 uint32_t from, uint32_t serial, int err);

/*! Why zg_shadow_update() failed. */
typedef struct {
	bool shadow;                /*!< The transfer worked, making the shadow failed. */
	bool ixfr;                  /*!< The IXFR from serial from failed (else the AXFR). */
	uint32_t from;
	char reason[256];           /*!< The transfer's reason ("" none). */
} zg_shadow_fail_t;

void zg_shadow_init(zg_shadow_t *s);
void zg_shadow_deinit(zg_shadow_t *s);

/*!
 * Brings the shadow zone to the peer's current serial: IXFR when there is a
 * shadow, AXFR otherwise, when the peer answers IXFR with the whole zone or
 * when the diff does not apply. peer->limits are resolved here from
 * \a limits and the shadow's size.
 *
 * \param changed  Set when the shadow changed.
 * \return 0 or the error (the transfer's in *fail).
 */
int zg_shadow_update(zg_shadow_t *s, zg_xfr_peer_t *peer, const zg_xfr_limits_t *limits,
                     bool *changed, zg_shadow_fail_t *fail, zg_shadow_note_t note, void *arg);

/*! A shadow (taken, also on failure) keeping its content digest with dctx (NULL: none). */
int zg_shadow_new(zg_incr_t **out, zg_zone_t *zone, zg_digest_ctx_t *dctx);

/*! The counters the follower moves. */
typedef enum {
	ZG_FOLLOW_CTR_SERIALS_VALIDATED,
	ZG_FOLLOW_CTR_SERIALS_FAILED,
	ZG_FOLLOW_CTR_LAST_SERIAL,
	ZG_FOLLOW_CTR_LATENCY_MS,
	ZG_FOLLOW_CTR_EXPIRY_SECONDS,
	ZG_FOLLOW_CTR_SERIALS_FENCED,
	ZG_FOLLOW_CTR_LEASE_ERRORS,
	ZG_FOLLOW_CTR_LEASE_TOKEN,
} zg_follow_ctr_t;

/*! A verdict as it is made (zg_follow_ops_t.verdict). */
typedef struct {
	uint32_t serial;
	bool valid;
	/*! The findings (the caller may change them while it is called); NULL for a
	 *  transfer stopped by a limit (then limit says why). */
	zg_report_t *report;
	const char *limit;          /*!< "IXFR from serial N: ..." or "AXFR: ..."; NULL. */
	bool full;                  /*!< The whole zone validated (else incremental). */
	size_t checked;             /*!< Names checked. */
	int64_t now;                /*!< The validation time (unix seconds). */
	double elapsed;             /*!< Seconds the validation took (not the transfer). */
	int64_t earliest_expiry;    /*!< Of the whole zone (INT64_MAX: none). */
} zg_follow_verdict_t;

/*! What the follower needs from its host; a NULL member is not called. */
typedef struct {
	void *arg;
	/*! A log line (syslog level). */
	void (*log)(void *arg, int level, const char *msg);
	/*! Adds value to counter (store: sets it). */
	void (*count)(void *arg, zg_follow_ctr_t ctr, bool store, uint64_t value);
	/*! Runs the alarm for serial, without waiting. */
	void (*alarm)(void *arg, uint32_t serial, const char *reason);
	/*! Asks the signer to sign again (serial failed). */
	void (*resign)(void *arg, uint32_t serial);
	/*! Each verdict made (after it is recorded and logged). */
	void (*verdict)(void *arg, const zg_follow_verdict_t *v);
	/*! What each transfer did to the shadow zone (after the log line). */
	zg_shadow_note_t note;
} zg_follow_ops_t;

/*! What one round (zg_follow_round()) did. */
typedef enum {
	ZG_FOLLOW_UNCHANGED = 0,    /*!< The source's serial is the one judged last (or the
	                                 SOA query and transfer were not tried). */
	ZG_FOLLOW_NOTHING_NEW,      /*!< Transferred, nothing new to judge. */
	ZG_FOLLOW_VERDICT,          /*!< A verdict made on serial (also a transfer over a limit). */
	ZG_FOLLOW_SOA_FAILED,       /*!< The SOA query failed (err, reason). */
	ZG_FOLLOW_XFR_FAILED,       /*!< The transfer failed (err, reason). */
	ZG_FOLLOW_ABORTED,          /*!< The validation of serial aborted (err): the shadow
	                                 is dropped, the next transfer is an AXFR. */
	ZG_FOLLOW_FENCED,           /*!< Nothing accepted now (signer lease, logged). */
} zg_follow_outcome_t;

typedef struct {
	zg_follow_outcome_t outcome;
	int err;
	uint32_t soa;               /*!< The source's serial (outcome past SOA_FAILED). */
	uint32_t serial;            /*!< VERDICT, NOTHING_NEW, ABORTED: the serial judged. */
	bool limit;                 /*!< VERDICT: a transfer stopped by a limit. */
	char reason[512];           /*!< SOA_FAILED, XFR_FAILED: why. */
} zg_follow_result_t;

/*! An address of the source and the local address to use towards it. */
typedef struct {
	struct sockaddr_storage addr;
	struct sockaddr_storage via;  /*!< AF_UNSPEC: any local address. */
} zg_follow_addr_t;

/*! A NOTIFY target. */
typedef struct {
	struct sockaddr_storage addr;
	struct sockaddr_storage via;  /*!< AF_UNSPEC: any local address. */
	knot_tsig_key_t key;          /*!< name NULL: unsigned. */
} zg_follow_notify_t;

/*!
 * A follower. The configuration part is filled by the caller between
 * zg_follow_init() and zg_follow_restore(), then constant.
 */
typedef struct {
	/* Configuration. */
	zg_follow_ops_t ops;
	char zone_str[KNOT_DNAME_TXT_MAXLEN + 1];
	uint8_t zone[KNOT_DNAME_MAXLEN];
	zg_follow_addr_t sources[ZG_FOLLOW_SOURCES]; /*!< Tried in order. */
	unsigned source_count;      /*!< 0: not usable, nothing validates. */
	char source_name[320];      /*!< The source as configured, for the logs. */
	char source_str[80];        /*!< The address used last, for the logs. */
	knot_tsig_key_t source_key; /*!< The source's own key; name NULL: none. */
	bool source_self;           /*!< The source is this server. */
	struct sockaddr_storage self_addr;  /*!< This server. */
	char self_str[80];
	zg_xfr_self_t self;         /*!< Own connections to this server. */
	knot_tsig_key_t key;        /*!< The gate's key (also towards the source); name NULL: none. */
	int64_t horizon;            /*!< Seconds; 0: off. */
	uint32_t poll_sec;
	zg_verify_opts_t verify;    /*!< Options of each validation: threads, ds (now,
	                                 horizon, p256_openssl, cancel set from f). */
	zg_xfr_limits_t limits;     /*!< 0 fields automatic. */
	bool p256_openssl;
	zg_follow_notify_t notify[ZG_FOLLOW_NOTIFY];
	unsigned notify_count;
	zg_lease_store_t *lease;    /*!< NULL: no fencing (taken: freed in deinit). */
	char (*signer_map)[320];    /*!< HOLDER@ADDR items (malloc'ed, freed in deinit). */
	size_t signer_count;
	char state_path[PATH_MAX];  /*!< "": no state file. */
	atomic_bool cancel;         /*!< Set to end a transfer or validation (unload). */

	/* State (worker). */
	unsigned source_cur;
	char soa_reason[512];
	zg_lease_info_t lease_info;
	char fence_state[512];
	uint32_t other_serial[ZG_FOLLOW_SOURCES];
	bool other_refused[ZG_FOLLOW_SOURCES];
	int64_t refused_token;
	uint32_t refused_serial;
	int refused_src;
	_Atomic uint64_t verdicts[ZG_VERDICTS_MAX];
	atomic_uint verdict_next;
	pthread_mutex_t dlock;
	zg_verdicts_t vs;
	bool have_digest;
	zg_digest_t digest;
	char state_err[PATH_MAX + 128];
	long long state_err_time;
	atomic_bool content_check;
	int64_t earliest_expiry;
	int expiry_state;
	zg_shadow_t sh;
	char last_fail[384];
	long long last_fail_time;
	zg_xfr_stats_t xstats;
	char xfr_reason[320];
	char hint[192];
	bool have_serial;
	uint32_t last;
	int burst;
	int last_err;
} zg_follow_t;

/*! Sets up f (zeroed by the caller); the caller sets vs.key (zg_digest_key_new()). */
void zg_follow_init(zg_follow_t *f);

/*! The source is this server (self_addr, set before): its own transfers. */
void zg_follow_source_self(zg_follow_t *f);

/*! Adds an address of the source (tried in order; beyond ZG_FOLLOW_SOURCES
 *  dropped), with the local address to use towards it. arg: the follower. */
void zg_follow_source_add(void *arg, const struct sockaddr_storage *addr,
                          const struct sockaddr_storage *via);

/*! Adds a NOTIFY target, unsigned (beyond ZG_FOLLOW_NOTIFY dropped). arg: the follower. */
void zg_follow_notify_add(void *arg, const struct sockaddr_storage *addr,
                          const struct sockaddr_storage *via);

/*!
 * Names the source for the logs (source_name, source_str), its addresses
 * added before (zg_follow_source_add()): "ID (ADDR, ADDR)", \a text the
 * remote's id. With no address, \a text is read as an address (the one
 * source address) or, if it is none, kept as the name: source_count stays
 * 0 and nothing validates (fail closed).
 */
void zg_follow_source_describe(zg_follow_t *f, const char *text);

/*!
 * Sets the signer map (HOLDER@ADDR items, checked by zg_fence_conf_check()):
 * copies the first ZG_FOLLOW_SIGNERS of the n items.
 *
 * \return 0 or -ENOMEM.
 */
int zg_follow_signers_set(zg_follow_t *f, const char *const *items, size_t n);

/*! Frees what f holds (the worker stopped). */
void zg_follow_deinit(zg_follow_t *f);

/*!
 * Reads the verdict store's digest key and verdicts back from the state
 * file (before the gate or the worker run): a valid verdict whose signatures
 * have expired counts as failed; format 1 verdicts without a digest do not
 * open the gate. A missing file is no verdict; an unreadable or corrupt one
 * is ignored whole, with a warning. Then makes the digest context.
 *
 * \return 0 or -ENOMEM (no digest context).
 */
int zg_follow_restore(zg_follow_t *f);

/*! The verdict on serial: 1 valid, 0 failed, -1 none. Any thread, lock-free. */
int zg_follow_verdict(zg_follow_t *f, uint32_t serial);

/*! The content digest of a verdict on serial (valid_only: a valid one). Any thread. */
bool zg_follow_digest(zg_follow_t *f, uint32_t serial, bool valid_only, zg_digest_t *out);

/*! Asks the next round to check again the content this server serves. Any thread. */
void zg_follow_recheck_request(zg_follow_t *f);

/*!
 * One round of the worker: polls the source, transfers and validates a new
 * serial, checks content, expiry. mod-validate runs it on its worker thread,
 * `zg-verify --follow` in its main loop (with its own rules on the result:
 * exit status, count, first contact).
 *
 * \param res  NULL, or receives what the round did.
 * \return The milliseconds to wait before the next round (negative: at once,
 *         the source changed during the transfer).
 */
int64_t zg_follow_round(zg_follow_t *f, zg_follow_result_t *res);

/*! After the wait: woken (a NOTIFY, a recheck) or not. */
void zg_follow_waited(zg_follow_t *f, bool woken);

/*!
 * An outgoing AXFR/IXFR of the served zone, summed message after message as
 * it is sent: the content it leaves at the receiver must be the validated
 * content of its serial (the digest of the verdict). This is what makes a
 * verdict belong to the content, not to the serial number.
 */
typedef struct {
	bool active;                /*!< A transfer is being summed. */
	zg_digest_ctx_t *dctx;
	zg_digest_stream_t stream;
	knot_pkt_t *parsed;         /*!< The message as sent, parsed again from its wire. */
} zg_follow_out_t;

/*! What to do with a message of an outgoing transfer. */
typedef enum {
	ZG_FOLLOW_OUT_SEND = 0,     /*!< Send it (more follow, or the content is the validated one). */
	ZG_FOLLOW_OUT_REFUSE,       /*!< Replace it by an error (reason set). */
	ZG_FOLLOW_OUT_RECHECK,      /*!< Likewise, and check the served content again. */
} zg_follow_out_verdict_t;

/*! Sets up c (zeroed by the caller). Returns 0 or -ENOMEM. After zg_follow_restore(). */
int zg_follow_out_init(zg_follow_t *f, zg_follow_out_t *c);
void zg_follow_out_deinit(zg_follow_out_t *c);

/*! Starts summing a new transfer: AXFR, or IXFR from serial ixfr_from. */
void zg_follow_out_begin(zg_follow_t *f, zg_follow_out_t *c, bool axfr, uint32_t ixfr_from);

/*! One message of the transfer, as on the wire. Any thread (one per c). */
zg_follow_out_verdict_t zg_follow_out_msg(zg_follow_t *f, zg_follow_out_t *c,
                                          const uint8_t *wire, size_t size,
                                          char *reason, size_t rlen);

/*! The worker ends: drops the shadow. */
void zg_follow_finish(zg_follow_t *f);

#endif /* ZONEGATE_FOLLOW_H */
