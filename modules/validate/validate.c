/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * mod-validate: a worker thread per zone follows the zone (NOTIFY received
 * by the server and SOA polling of the source), keeps a shadow copy of the
 * zone up to date by IXFR (AXFR at first and as fallback), validates what
 * each diff can affect (lib/validate/incr.c) and keeps the verdict per serial (also
 * in a state file per zone, read back in load); a KNOTD_STAGE_BEGIN hook
 * refuses outgoing AXFR/IXFR of a served serial that has not validated.
 * Validated serials are announced to the zone's notify remotes; failed
 * serials are logged and passed to the alarm command.
 *
 * Threads: knotd's workers only run the hook (lock-free verdict lookup, a
 * condition-variable signal for NOTIFY); everything else, including the
 * configuration read at load, belongs to the worker thread of the module,
 * which is joined in unload.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libknot/rrtype/soa.h>

#include "modules/knotd-compat.h"
#include "modules/modaddr.h"
#include "modules/modalarm.h"
#include "modules/modkey.h"
#include "modules/modlog.h"
#include "dns/dnsclient.h"
#include "dns/ctl.h"
#include "core/error.h"
#include "signer/fence.h"
#include "signer/lease.h"
#include "validate/digest.h"
#include "validate/crypto.h"
#include "validate/incr.h"
#include "validate/verdicts.h"
#include "validate/p256.h"
#include "validate/report.h"
#include "validate/verify.h"
#include "dns/xfr.h"
#include "validate/zone.h"


#define MOD_SOURCE	"\x06""source"
#define MOD_HORIZON	"\x07""horizon"
#define MOD_ALARM	"\x05""alarm"
#define MOD_ALARM_TO	"\x0d""alarm-timeout"
#define MOD_POLL	"\x0d""poll-interval"
#define MOD_ALLOW	"\x05""allow"
#define MOD_KEY		"\x03""key"
#define MOD_RESIGN	"\x11""resign-on-failure"
#define MOD_STATE_DIR	"\x09""state-dir"
#define MOD_MAX_RECORDS	"\x0f""xfr-max-records"
#define MOD_MAX_SIZE	"\x0c""xfr-max-size"
#define MOD_MAX_TIME	"\x0c""xfr-max-time"
#define MOD_P256_OPENSSL "\x0c""p256-openssl"
#define MOD_P256_CACHE	"\x10""p256-table-cache"
#define MOD_LEASE	"\x05""lease"
#define MOD_SIGNER	"\x06""signer"

#define C_KEY		"\x03""key"
#define C_ALG		"\x09""algorithm"
#define C_SECRET	"\x06""secret"
#define C_RMT		"\x06""remote"
#define C_RMTS		"\x07""remotes"
#define C_ADDR		"\x07""address"
#define C_VIA		"\x03""via"
#define C_NOTIFY	"\x06""notify"
#define C_SERVER	"\x06""server"
#define C_LISTEN	"\x06""listen"
#define C_STORAGE	"\x07""storage"

/*! Verdicts remembered (most recent serials). */
#define VERDICTS	64
/*! Problems of a failed serial written to the log. */
#define LOG_PROBLEMS	10
/*! Seconds between two log lines about refused transfers. */
#define REFUSE_LOG_SEC	10
/*! A transfer refused for a failed serial has the served content checked
 *  again (it may have changed behind the serial), at most this often (s). */
#define RECHECK_SEC	30
/*! After a NOTIFY, the source is polled this often (ms) ... */
#define BURST_MS	200
/*! ... this many times. */
#define BURST_POLLS	50
/*! Alarm commands running at once. */
/*! NOTIFY targets kept. */
#define NOTIFY_MAX	16
/*! Addresses of a source remote used (tried in order). */
#define SOURCE_MAX	8
/*! signer items (HOLDER@ADDR) used. */
#define SIGNER_MAX	16

static int source_check(knotd_conf_check_args_t *args);

static const yp_item_t validate_conf[] = {
	{ MOD_SOURCE,   YP_TSTR,  YP_VNONE, YP_FNONE, { source_check } },
	{ MOD_HORIZON,  YP_TINT,  YP_VINT = { 0, UINT32_MAX, 2 * 86400, YP_STIME } },
	{ MOD_ALARM,    YP_TSTR,  YP_VNONE },
	{ MOD_ALARM_TO, YP_TINT,  YP_VINT = { 1, 3600, 30, YP_STIME } },
	{ MOD_POLL,     YP_TINT,  YP_VINT = { 1, 86400, 5, YP_STIME } },
	{ MOD_ALLOW,    YP_TNET,  YP_VNONE, YP_FMULTI },
	{ MOD_KEY,      YP_TREF,  YP_VREF = { C_KEY }, YP_FNONE, { knotd_conf_check_ref } },
	{ MOD_RESIGN,   YP_TBOOL, YP_VNONE },
	{ MOD_STATE_DIR, YP_TSTR, YP_VNONE },
	{ MOD_MAX_RECORDS, YP_TINT, YP_VINT = { 0, INT64_MAX, 0 } },
	{ MOD_MAX_SIZE,  YP_TINT, YP_VINT = { 0, INT64_MAX, 0, YP_SSIZE } },
	{ MOD_MAX_TIME,  YP_TINT, YP_VINT = { 0, UINT32_MAX / 1000, 0, YP_STIME } },
	{ MOD_P256_OPENSSL, YP_TBOOL, YP_VNONE },
	{ MOD_P256_CACHE, YP_TINT, YP_VINT = { 0, ZG_P256_CACHE_MAX, ZG_P256_CACHE_DEFAULT } },
	{ MOD_LEASE,    YP_TSTR,  YP_VNONE },
	{ MOD_SIGNER,   YP_TSTR,  YP_VNONE, YP_FMULTI },
	{ NULL }
};

enum {
	CTR_SERIALS_VALIDATED,
	CTR_SERIALS_FAILED,
	CTR_LAST_SERIAL,
	CTR_LATENCY_MS,
	CTR_XFR_REFUSED,
	CTR_EXPIRY_SECONDS,
	CTR_CONTENT_REFUSED,
	CTR_BASE_COUNT,             /* Those below only with lease (downstream fencing). */
	CTR_SERIALS_FENCED = CTR_BASE_COUNT,
	CTR_LEASE_ERRORS,
	CTR_LEASE_TOKEN,
	CTR_COUNT
};

static const char *const ctr_names[CTR_COUNT] = {
	[CTR_SERIALS_VALIDATED] = "serials-validated",
	[CTR_SERIALS_FAILED]    = "serials-failed",
	[CTR_LAST_SERIAL]       = "last-validated-serial",
	[CTR_LATENCY_MS]        = "validation-latency-ms",
	[CTR_XFR_REFUSED]       = "transfers-refused",
	[CTR_EXPIRY_SECONDS]    = "earliest-expiry-seconds",
	[CTR_CONTENT_REFUSED]   = "transfers-content-refused",
	[CTR_SERIALS_FENCED]    = "serials-fenced",
	[CTR_LEASE_ERRORS]      = "lease-errors",
	[CTR_LEASE_TOKEN]       = "lease-token",
};

/* A verdict entry: bit 32 present, bit 33 valid, low 32 bits the serial. */
#define V_PRESENT	(1ULL << 32)
#define V_VALID		(1ULL << 33)

typedef struct {
	struct sockaddr_storage addr;
	struct sockaddr_storage via;  /*!< AF_UNSPEC: any local address. */
	knot_tsig_key_t key;    /*!< name NULL: unsigned. */
} notify_target_t;

/*! An address of the source and the local address to use towards it. */
typedef struct {
	struct sockaddr_storage addr;
	struct sockaddr_storage via;  /*!< AF_UNSPEC: any local address. */
} source_addr_t;

/*!
 * An outgoing AXFR/IXFR being summed in one knotd thread (its records go out
 * in messages, each passing the END hook). A transfer is told apart by the
 * connection socket, the query id and the remote address.
 */
typedef struct {
	bool active;
	int socket;
	uint16_t qid;
	struct sockaddr_storage remote;
	zg_digest_ctx_t *dctx;
	zg_digest_stream_t stream;
	knot_pkt_t *parsed;     /*!< The message as sent, parsed again from its wire. */
} xfr_check_t;


typedef struct {
	knotd_mod_t *mod;
	char zone_str[KNOT_DNAME_TXT_MAXLEN + 1];
	uint8_t zone[KNOT_DNAME_MAXLEN];

	/* Configuration (read in load, constant afterwards). */
	source_addr_t sources[SOURCE_MAX]; /*!< Tried in order (a remote's addresses). */
	unsigned source_count;
	unsigned source_cur;        /*!< The one that answered last (worker only). */
	char source_str[80];        /*!< Its address, for the logs. */
	char source_name[320];      /*!< The source as configured, for the logs. */
	knot_tsig_key_t source_key; /*!< The source remote's key; name NULL: none. */
	char soa_reason[512];       /*!< Why the last SOA query failed (each address). */
	bool source_self;
	struct sockaddr_storage self_addr;  /*!< This server (its first listen address). */
	char self_str[80];
	uint32_t horizon;
	uint32_t poll_sec;
	zg_alarm_t alarm;          /*!< The alarm command runner. */
	knotd_conf_t allow;         /*!< Configured ranges (count 0: none). */
	zg_xfr_self_t self;         /*!< The module's own transfer connections to this
	                                 server (source_self): they pass the gate. */
	knot_tsig_key_t key;        /*!< name NULL: no key. */
	bool resign;                /*!< Ask this server to re-sign on failure. */
	zg_xfr_limits_t limits;     /*!< xfr-max-*: 0 fields automatic. */
	bool p256_openssl;          /*!< Algorithm 13 on OpenSSL, not the native verifier. */
	unsigned p256_cache;        /*!< p256-table-cache of this zone ... */
	bool p256_cache_held;       /*!< ... counted in p256_cache_users. */
	char ctl_path[512];         /*!< This server's control socket. */
	notify_target_t notify[NOTIFY_MAX];
	unsigned notify_count;

	/* Downstream fencing (lease configured; worker only). */
	zg_lease_store_t *lease;    /*!< NULL: no fencing, one signer. */
	char (*signer_map)[320];    /*!< signer items, HOLDER@ADDR. */
	size_t signer_count;
	zg_lease_info_t lease_info; /*!< As read last. */
	char fence_state[512];      /*!< Why nothing is accepted now ("" fine). */
	uint32_t other_serial[SOURCE_MAX];  /*!< Last refused serial per address ... */
	bool other_refused[SOURCE_MAX];     /*!< ... reported. */
	int64_t refused_token;      /*!< The holder's serial refused last ... */
	uint32_t refused_serial;
	int refused_src;            /*!< ... its source (-1: none). */

	/* Verdicts, read by the hook without locks. */
	_Atomic uint64_t verdicts[VERDICTS];
	atomic_uint verdict_next;

	/* The verdicts with their content digests, oldest first: written by the
	 * worker (filled in load before it starts) under dlock, read by the
	 * transfer check at the end of an outgoing transfer under dlock; the
	 * state file. */
	char state_path[PATH_MAX];
	pthread_mutex_t dlock;
	zg_verdicts_t vs;           /*!< With the digest key (vs.key, kept in the file). */
	zg_digest_ctx_t *wdctx;     /*!< The worker's hashing context. */
	bool have_digest;           /*!< The content the next verdict is about ... */
	zg_digest_t digest;         /*!< ... has this digest. */

	char state_err[PATH_MAX + 128];  /*!< Last write failure logged. */
	time_t state_err_time;

	/* Outgoing transfers, summed as they are sent (one per knotd thread). */
	xfr_check_t *checks;
	unsigned nchecks;
	atomic_bool content_check;  /*!< A transfer found other content: check it. */
	atomic_llong recheck_asked; /*!< When a refused transfer last asked for a recheck. */

	/* Log rate limits. */
	zg_modlog_limit_t refuse_log;     /*!< Refused transfers. */
	zg_modlog_limit_t content_log;    /*!< Transfers failed at their end. */

	/* Worker. */
	pthread_t thread;
	bool thread_started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
	atomic_bool cancel;         /*!< Set with stop: ends a running transfer. */
	bool notified;
	int64_t earliest_expiry;    /*!< Of the shadow zone; INT64_MAX if unknown. */
	int expiry_state;           /*!< 0 fine, 1 within horizon (alarmed), 2 expired. */
	zg_incr_t *shadow;          /*!< Shadow zone, NULL before the first AXFR. */
	char last_fail[384];        /*!< Last transfer failure logged. */
	time_t last_fail_time;
	zg_diff_t diff;         /*!< Reused IXFR buffer. */
	zg_xfr_stats_t xstats;      /*!< Of the last incoming transfer. */
	char xfr_reason[320];       /*!< Why the last transfer stopped at a limit. */
	char hint[192];             /*!< Scratch for self_refused_hint(). */
} validate_ctx_t;

/* Logs of the worker: none once unload began (see zg_worker_log()). */
#define wlog(ctx, ...) zg_worker_log((ctx)->mod, atomic_load(&(ctx)->cancel), __VA_ARGS__)

/* ---- verdicts ---- */

static int verdict_get(validate_ctx_t *ctx, uint32_t serial)
{
	for (unsigned i = 0; i < VERDICTS; i++) {
		uint64_t v = atomic_load_explicit(&ctx->verdicts[i], memory_order_acquire);
		if ((v & V_PRESENT) && (uint32_t)v == serial) {
			return (v & V_VALID) ? 1 : 0;
		}
	}
	return -1;
}

/* Records the verdict of serial for the hook only. */
static void verdict_set(validate_ctx_t *ctx, uint32_t serial, bool valid)
{
	uint64_t v = V_PRESENT | (valid ? V_VALID : 0) | serial;
	for (unsigned i = 0; i < VERDICTS; i++) {
		uint64_t old = atomic_load(&ctx->verdicts[i]);
		if ((old & V_PRESENT) && (uint32_t)old == serial) {
			atomic_store_explicit(&ctx->verdicts[i], v, memory_order_release);
			return;
		}
	}
	unsigned i = atomic_fetch_add(&ctx->verdict_next, 1) % VERDICTS;
	atomic_store_explicit(&ctx->verdicts[i], v, memory_order_release);
}

static void state_record(validate_ctx_t *ctx, uint32_t serial, bool valid);
static void state_save(validate_ctx_t *ctx);

/* Records the verdict of serial with the digest of its content (if
 * ctx->have_digest), for the hook and in the state file (for a valid one,
 * ctx->earliest_expiry must be that of serial). Worker only. */
static void verdict_put(validate_ctx_t *ctx, uint32_t serial, bool valid)
{
	state_record(ctx, serial, valid);
	verdict_set(ctx, serial, valid);
	state_save(ctx);
}

/* The digest of the content of a verdict of serial (valid only: a valid
 * one). Any thread. */
static bool verdict_digest(validate_ctx_t *ctx, uint32_t serial, bool valid_only,
                           zg_digest_t *out)
{
	pthread_mutex_lock(&ctx->dlock);
	bool found = zg_verdicts_digest(&ctx->vs, serial, valid_only, out);
	pthread_mutex_unlock(&ctx->dlock);
	return found;
}

/* ---- state file ---- */

/* Logs a failure to write the state file unless the same one was logged within a minute. */
static void state_failed(validate_ctx_t *ctx, int err)
{
	char msg[sizeof(ctx->state_err)];
	snprintf(msg, sizeof(msg), "failed to write verdicts to %s (%s)", ctx->state_path,
	         zg_strerror(err));
	time_t now = time(NULL);
	if (strcmp(msg, ctx->state_err) != 0 || now - ctx->state_err_time >= 60) {
		wlog(ctx, LOG_WARNING, "%s", msg);
		snprintf(ctx->state_err, sizeof(ctx->state_err), "%s", msg);
		ctx->state_err_time = now;
	}
}

/* Writes the verdicts to the state file (see validate/verdicts.h). Worker
 * only: the worker is the only writer of ctx->vs, so it reads it unlocked. */
static int state_write(validate_ctx_t *ctx)
{
	return zg_verdicts_write(&ctx->vs, ctx->zone_str, ctx->state_path);
}

/* Writes the state file (if there is one); a failure is logged (rate-limited),
 * the first success after failures too, nothing else. */
static void state_save(validate_ctx_t *ctx)
{
	if (ctx->state_path[0] == '\0') {
		return;
	}
	int ret = state_write(ctx);
	if (ret != 0) {
		state_failed(ctx, ret);
	} else if (ctx->state_err[0] != '\0') {
		wlog(ctx, LOG_INFO, "verdicts written to %s again", ctx->state_path);
		ctx->state_err[0] = '\0';
	}
}

/* Keeps the verdict of serial (the newest last, ZG_VERDICTS_MAX at most)
 * with the digest of its content (ctx->have_digest), for the state file. */
static void state_record(validate_ctx_t *ctx, uint32_t serial, bool valid)
{
	pthread_mutex_lock(&ctx->dlock);
	zg_verdicts_record(&ctx->vs, serial, valid, time(NULL), ctx->earliest_expiry,
	                   ctx->have_digest ? &ctx->digest : NULL);
	pthread_mutex_unlock(&ctx->dlock);
}

/* Restores the verdicts of the state file (in load, before the hook can run):
 * a valid verdict whose signatures have expired since counts as failed. A
 * missing file is no verdict; an unreadable or corrupt one is ignored whole
 * with a warning. */
static void state_restore(validate_ctx_t *ctx)
{
	if (ctx->state_path[0] == '\0') {
		return;
	}
	FILE *f = fopen(ctx->state_path, "r");
	if (f == NULL) {
		if (errno == ENOENT) {
			wlog(ctx, LOG_DEBUG, "no verdicts to restore (%s does not exist)",
			     ctx->state_path);
		} else {
			wlog(ctx, LOG_WARNING, "verdicts not restored, cannot read %s (%s)",
			     ctx->state_path, zg_strerror(-errno));
		}
		return;
	}
	zg_verdicts_t *st = calloc(1, sizeof(*st));
	if (st == NULL) {
		fclose(f);
		return;
	}
	unsigned line = 0;
	const char *why = NULL;
	int ret = zg_verdicts_parse(f, ctx->zone_str, st, &line, &why);
	fclose(f);
	if (ret != 0) {
		wlog(ctx, LOG_WARNING, "verdicts not restored, %s line %u: %s, "
		     "file ignored", ctx->state_path, line,
		     why != NULL ? why : zg_strerror(ret));
		free(st);
		return;
	}
	zg_verdict_t *saved = st->v;
	unsigned count = st->count;
	uint32_t last = st->last_valid;
	bool have_last = st->have_last_valid;
	if (!st->have_key) {
		memcpy(st->key, ctx->vs.key, sizeof(st->key));
	}

	int64_t now = time(NULL);
	unsigned nodigest = 0;
	const zg_verdict_t *newest = NULL;
	const zg_verdict_t *expired = NULL;
	unsigned nexpired = 0;
	for (unsigned i = 0; i < count; i++) {
		zg_verdict_t *e = &saved[i];
		if (e->valid && e->expiry != INT64_MAX && e->expiry <= now) {
			e->valid = false;
			e->time = now;
			expired = e;
			nexpired++;
		}
		if (e->valid && !e->has_digest) {
			/* Format 1: the content is not known, the verdict cannot open
			 * the gate; the served serial is validated again. */
			nodigest++;
			continue;
		}
		if (e->valid) {
			newest = e;
		}
		verdict_set(ctx, e->serial, e->valid);
	}
	ctx->vs = *st;
	if (have_last) {
		knotd_mod_stats_store(ctx->mod, 0, CTR_LAST_SERIAL, 0, last);
	}

	char t1[32], t2[32];
	if (newest != NULL) {
		zg_time_str(newest->time, t1, sizeof(t1));
		if (newest->expiry != INT64_MAX) {
			zg_time_str(newest->expiry, t2, sizeof(t2));
		} else {
			snprintf(t2, sizeof(t2), "unknown");
		}
		wlog(ctx, LOG_INFO, "verdicts restored from %s, serial %u validated "
		     "at %s (earliest signature expiry %s, %u verdicts)", ctx->state_path,
		     newest->serial, t1, t2, count);
	} else {
		wlog(ctx, LOG_INFO, "verdicts restored from %s, no valid serial "
		     "(%u verdicts)", ctx->state_path, count);
	}
	if (expired != NULL) {
		zg_time_str(expired->expiry, t2, sizeof(t2));
		wlog(ctx, LOG_NOTICE, "serial %u, signatures expired at %s, "
		     "restored as failed (%u restored verdicts so)", expired->serial, t2,
		     nexpired);
	}
	if (nodigest > 0) {
		wlog(ctx, LOG_NOTICE, "%u valid verdicts restored without the digest "
		     "of their content (state file format %u), transfers wait until the "
		     "served serial validates again", nodigest, st->version);
	}
	free(st);
}

/* ---- alarm ---- */

static void alarms_reap(validate_ctx_t *ctx, bool kill_all)
{
	zg_modalarm_reap(ctx->mod, &ctx->alarm, kill_all);
}

/* Starts 'alarm ZONE SERIAL REASON' without waiting for it. */
static void alarm_run(validate_ctx_t *ctx, uint32_t serial, const char *reason)
{
	zg_modalarm_run(ctx->mod, &ctx->alarm, ctx->zone_str, "serial", serial, reason);
}

/* ---- re-sign request ---- */

/* Sends zone-sign for the zone to this server's control socket (bounded). */
static void resign_request(validate_ctx_t *ctx, uint32_t serial)
{
	if (!ctx->resign) {
		return;
	}
	char err[256];
	int ret = zg_ctl_zone_command(ctx->ctl_path, 5000, "zone-sign", ctx->zone_str,
	                              err, sizeof(err));
	if (ret == KNOT_EOK) {
		wlog(ctx, LOG_NOTICE, "serial %u, re-signing requested (zone-sign)", serial);
	} else {
		wlog(ctx, LOG_WARNING, "serial %u, re-signing request failed (%s)", serial,
		     err);
	}
}

/* ---- worker ---- */

static void notify_all(validate_ctx_t *ctx, uint32_t serial)
{
	for (unsigned i = 0; i < ctx->notify_count; i++) {
		notify_target_t *t = &ctx->notify[i];
		char addr[80];
		zg_dns_addr_str(&t->addr, addr, sizeof(addr));
		char reason[160] = "";
		int ret = ZG_ETIMEOUT;
		for (int attempt = 0; attempt < 2 && ret != 0; attempt++) {
			ret = zg_xfr_notify(&t->addr, t->via.ss_family != AF_UNSPEC ? &t->via : NULL,
			                    t->key.name != NULL ? &t->key : NULL, ctx->zone,
			                    serial, ZG_XFR_QUERY_TIMEOUT_MS, reason, sizeof(reason));
		}
		if (ret == 0) {
			wlog(ctx, LOG_INFO, "NOTIFY, outgoing, remote %s, serial %u",
			     addr, serial);
		} else {
			wlog(ctx, LOG_WARNING, "NOTIFY, outgoing, remote %s, "
			     "serial %u, failed (%s)", addr, serial,
			     reason[0] != '\0' ? reason : zg_strerror(ret));
		}
	}
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool stopping(validate_ctx_t *ctx)
{
	pthread_mutex_lock(&ctx->lock);
	bool s = ctx->stop;
	pthread_mutex_unlock(&ctx->lock);
	return s;
}

/* Brings the shadow zone to the source's current serial: IXFR when there is a
 * shadow, AXFR otherwise or when the source answers IXFR with a full zone or
 * the diff does not fit. Sets *changed when the shadow changed. */
/* Logs a transfer failure unless the same one was logged within a minute. */
static void xfr_failed(validate_ctx_t *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void xfr_failed(validate_ctx_t *ctx, const char *fmt, ...)
{
	char msg[sizeof(ctx->last_fail)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	time_t now = time(NULL);
	if (strcmp(msg, ctx->last_fail) != 0 || now - ctx->last_fail_time >= 60) {
		wlog(ctx, LOG_WARNING, "%s", msg);
		snprintf(ctx->last_fail, sizeof(ctx->last_fail), "%s", msg);
		ctx->last_fail_time = now;
	}
}

/* When this server refuses the module's own transfer, nothing can ever
 * validate: say what to change. */
static const char *self_refused_hint(validate_ctx_t *ctx, int ret)
{
	if (!ctx->source_self || ret != ZG_EREFUSED || ctx->xstats.local.ss_family == 0) {
		return "";
	}
	char addr[80];
	zg_dns_addr_str(&ctx->xstats.local, addr, sizeof(addr));
	char *at = strrchr(addr, '@');
	if (at != NULL) {
		*at = '\0';
	}
	snprintf(ctx->hint, sizeof(ctx->hint), ", this server refuses the module's own "
	         "transfer: the zone's acl must allow transfers from %s", addr);
	return ctx->hint;
}

/* A zg_incr_t over zone (taken, also on failure) that keeps its content digest. */
static int incr_new(validate_ctx_t *ctx, zg_incr_t **out, zg_zone_t *zone)
{
	int ret = zg_incr_new(out, zone);
	if (ret == 0) {
		ret = zg_incr_digest_start(*out, ctx->wdctx);
	}
	if (ret != 0) {
		zg_incr_free(*out);
		*out = NULL;
	}
	return ret;
}

/* The local end of the module's connections to this server: its address
 * with any port. */
static void self_via(const validate_ctx_t *ctx, struct sockaddr_storage *out)
{
	*out = ctx->self_addr;
	if (out->ss_family == AF_INET) {
		((struct sockaddr_in *)out)->sin_port = 0;
	} else if (out->ss_family == AF_INET6) {
		((struct sockaddr_in6 *)out)->sin6_port = 0;
	}
}

/* The key of the module's queries and transfers to the source: the source
 * remote's own key, else the module's key, else none. */
static const knot_tsig_key_t *source_key(const validate_ctx_t *ctx)
{
	if (ctx->source_key.name != NULL) {
		return &ctx->source_key;
	}
	return ctx->key.name != NULL ? &ctx->key : NULL;
}

/* Asks the source's addresses for the zone's serial, in order, as knotd asks
 * a remote's addresses; the first that answers is the one transferred from
 * (logged when it changes). On failure soa_reason says why, per address. */
static int source_soa(validate_ctx_t *ctx, uint32_t *serial)
{
	int ret = ZG_ECONNECT;
	size_t len = 0;
	ctx->soa_reason[0] = '\0';
	if (ctx->source_count == 0) {
		snprintf(ctx->soa_reason, sizeof(ctx->soa_reason), "no remote of that id "
		         "and not an IP address, nothing is validated");
		return ZG_EINPUT;
	}
	for (unsigned i = 0; i < ctx->source_count; i++) {
		const source_addr_t *s = &ctx->sources[i];
		ret = zg_xfr_soa_serial_from(&s->addr, s->via.ss_family != AF_UNSPEC ? &s->via : NULL,
		                             source_key(ctx), ctx->zone, ZG_XFR_QUERY_TIMEOUT_MS,
		                             serial);
		char addr[80];
		zg_dns_addr_str(&s->addr, addr, sizeof(addr));
		if (ret == 0) {
			if (i != ctx->source_cur) {
				if (len > 0) {
					wlog(ctx, LOG_NOTICE, "SOA query, remote %s, using %s (%s)",
					     ctx->source_name, addr, ctx->soa_reason);
				} else {
					wlog(ctx, LOG_NOTICE, "SOA query, remote %s, using %s",
					     ctx->source_name, addr);
				}
				ctx->source_cur = i;
				snprintf(ctx->source_str, sizeof(ctx->source_str), "%s", addr);
			}
			return 0;
		}
		if (len < sizeof(ctx->soa_reason)) {
			int n = ctx->source_count == 1 ?
			        snprintf(ctx->soa_reason, sizeof(ctx->soa_reason), "%s", zg_strerror(ret)) :
			        snprintf(ctx->soa_reason + len, sizeof(ctx->soa_reason) - len,
			                 "%s%s failed: %s", len > 0 ? "; " : "", addr, zg_strerror(ret));
			len += n > 0 ? (size_t)n : 0;
		}
	}
	return ret;
}

/* ---- downstream fencing (lease) ---- */

/* Logs why no serial is accepted now, once per reason ("" when fine again). */
static void fence_state(validate_ctx_t *ctx, int level, const char *why)
{
	if (strcmp(why, ctx->fence_state) == 0) {
		return;
	}
	if (why[0] != '\0') {
		wlog(ctx, level, "no serial accepted, %s, serving the last validated serial", why);
	} else {
		wlog(ctx, LOG_INFO, "signer lease readable, held by %s, token %lld",
		     ctx->lease_info.holder, (long long)ctx->lease_info.token);
	}
	snprintf(ctx->fence_state, sizeof(ctx->fence_state), "%s", why);
}

/* The address of the lease's holder (signer items, else its name). */
static bool fence_holder(const validate_ctx_t *ctx, const zg_lease_info_t *li,
                         struct sockaddr_storage *addr)
{
	const char *map[SIGNER_MAX];
	for (size_t i = 0; i < ctx->signer_count; i++) {
		map[i] = ctx->signer_map[i];
	}
	return li->exists && zg_fence_holder_addr(map, ctx->signer_count, li->holder, addr) == 0;
}

/* The decision on serial from \a from, under lease \a li. */
static zg_fence_t fence_decide(validate_ctx_t *ctx, const zg_lease_info_t *li, uint32_t serial,
                               const struct sockaddr_storage *from, bool *new_token,
                               char *why, size_t why_len)
{
	struct sockaddr_storage haddr;
	bool known = fence_holder(ctx, li, &haddr);
	zg_fence_in_t in = {
		.lease = li,
		.holder_addr = known ? &haddr : NULL,
		.from = from,
		.last_token = ctx->vs.lease_token,
		.serial = serial,
		.have_last_serial = ctx->vs.have_last_valid,
		.last_serial = ctx->vs.last_valid,
	};
	zg_fence_t d = zg_fence_decide(&in, new_token);
	zg_fence_reason(d, &in, why, why_len);
	return d;
}

/* A refused serial: log line, counter, alarm. */
static void fence_refused(validate_ctx_t *ctx, uint32_t serial, const char *from,
                          const char *why)
{
	wlog(ctx, LOG_WARNING, "refused serial %u from %s: %s", serial, from, why);
	knotd_mod_stats_incr(ctx->mod, 0, CTR_SERIALS_FENCED, 0, 1);
	char reason[600];
	snprintf(reason, sizeof(reason), "refused serial %u from %s: %s", serial, from, why);
	alarm_run(ctx, serial, reason);
}

/* Reads the lease into ctx->lease_info; a failure is counted and logged. */
static int fence_read(validate_ctx_t *ctx, zg_lease_info_t *li)
{
	char err[256] = "";
	int ret = zg_lease_read(ctx->lease, ctx->zone_str, li, err, sizeof(err));
	if (ret != 0) {
		knotd_mod_stats_incr(ctx->mod, 0, CTR_LEASE_ERRORS, 0, 1);
		char why[400];
		snprintf(why, sizeof(why), "signer lease not readable (%s)",
		         err[0] != '\0' ? err : zg_strerror(ret));
		fence_state(ctx, LOG_ERR, why);
	}
	return ret;
}

/* With a lease, instead of source_soa(): reads the lease, asks every
 * address of the source for its serial, reports a serial of another
 * address than the holder's that is above the holder's (or above the last
 * validated one) as refused, and sets *serial to the holder's (the source
 * transferred from). ZG_EFENCED: nothing to transfer now (logged here). */
static int fence_soa(validate_ctx_t *ctx, uint32_t *serial)
{
	ctx->soa_reason[0] = '\0';
	zg_lease_info_t li;
	if (fence_read(ctx, &li) != 0) {
		return ZG_EFENCED;
	}
	ctx->lease_info = li;

	/* The holder's address among the source's. */
	int hidx = -1;
	bool nt = false;
	char why[400];
	struct sockaddr_storage haddr;
	if (li.remaining_ms > 0 && fence_holder(ctx, &li, &haddr)) {
		for (unsigned i = 0; i < ctx->source_count && hidx < 0; i++) {
			if (zg_fence_addr_equal(&ctx->sources[i].addr, &haddr)) {
				hidx = (int)i;
			}
		}
	}
	uint32_t hserial = 0;
	int hret = ZG_EFENCED;
	if (hidx >= 0) {
		const source_addr_t *s = &ctx->sources[hidx];
		hret = zg_xfr_soa_serial_from(&s->addr, s->via.ss_family != AF_UNSPEC ? &s->via : NULL,
		                              source_key(ctx), ctx->zone, ZG_XFR_QUERY_TIMEOUT_MS,
		                              &hserial);
		if (hret != 0) {
			char addr[80];
			snprintf(ctx->soa_reason, sizeof(ctx->soa_reason), "lease holder %s at %s: %s",
			         li.holder, zg_dns_addr_str(&s->addr, addr, sizeof(addr)),
			         zg_strerror(hret));
		}
	} else {
		fence_decide(ctx, &li, 0, &ctx->sources[0].addr, &nt, why, sizeof(why));
		char state[512];
		snprintf(state, sizeof(state), "%s%s", why, li.exists && li.remaining_ms > 0 ?
		         ", not an address of the source" : "");
		fence_state(ctx, LOG_WARNING, state);
	}

	/* Every other address: a serial above the holder's is refused. */
	for (unsigned i = 0; i < ctx->source_count; i++) {
		if ((int)i == hidx) {
			continue;
		}
		const source_addr_t *s = &ctx->sources[i];
		uint32_t other = 0;
		if (zg_xfr_soa_serial_from(&s->addr, s->via.ss_family != AF_UNSPEC ? &s->via : NULL,
		                           source_key(ctx), ctx->zone, ZG_XFR_QUERY_TIMEOUT_MS,
		                           &other) != 0) {
			continue;
		}
		bool above = hret == 0 ? other != hserial && (uint32_t)(other - hserial) < 0x80000000U :
		             ctx->vs.have_last_valid ?
		             other != ctx->vs.last_valid &&
		             (uint32_t)(other - ctx->vs.last_valid) < 0x80000000U : true;
		if (!above || (ctx->other_refused[i] && ctx->other_serial[i] == other)) {
			continue;
		}
		/* The lease as read now: it may have passed to that address since
		 * (then the next poll transfers from it). */
		zg_lease_info_t now;
		if (fence_read(ctx, &now) != 0 ||
		    fence_decide(ctx, &now, other, &s->addr, &nt, why, sizeof(why)) !=
		    (now.remaining_ms > 0 ? ZG_FENCE_NOT_HOLDER : ZG_FENCE_EXPIRED)) {
			continue;
		}
		ctx->other_refused[i] = true;
		ctx->other_serial[i] = other;
		char addr[80];
		fence_refused(ctx, other, zg_dns_addr_str(&s->addr, addr, sizeof(addr)), why);
	}
	if (hidx < 0) {
		return ZG_EFENCED;
	}
	if (hret != 0) {
		return hret;
	}
	fence_state(ctx, LOG_INFO, "");
	if ((unsigned)hidx != ctx->source_cur) {
		ctx->source_cur = (unsigned)hidx;
		zg_dns_addr_str(&ctx->sources[hidx].addr, ctx->source_str, sizeof(ctx->source_str));
		wlog(ctx, LOG_NOTICE, "SOA query, remote %s, using %s, signer lease held by %s, "
		     "token %lld", ctx->source_name, ctx->source_str, li.holder, (long long)li.token);
	}
	*serial = hserial;
	if (ctx->refused_src == hidx && ctx->refused_token == li.token &&
	    ctx->refused_serial == hserial) {
		return ZG_EFENCED;   /* Refused already: not transferred again. */
	}
	return 0;
}

/* Whether serial, transferred from \a from, may be accepted: under the
 * lease read last, or (reread) under the lease as read now, right before
 * the gate opens for it; then a new token is recorded (state file).
 * ZG_EFENCED when refused (logged, counted, alarmed once). */
static int fence_check(validate_ctx_t *ctx, uint32_t serial, const struct sockaddr_storage *from,
                       bool reread)
{
	zg_lease_info_t li = ctx->lease_info;
	if (reread && fence_read(ctx, &li) != 0) {
		wlog(ctx, LOG_ERR, "serial %u, validated, not accepted: signer lease not readable",
		     serial);
		return ZG_EFENCED;
	}
	bool nt = false;
	char why[400];
	zg_fence_t d = fence_decide(ctx, &li, serial, from, &nt, why, sizeof(why));
	int src = -1;
	for (unsigned i = 0; i < ctx->source_count; i++) {
		if (zg_fence_addr_equal(&ctx->sources[i].addr, from)) {
			src = (int)i;
		}
	}
	if (d != ZG_FENCE_ACCEPT) {
		if (ctx->refused_src != src || ctx->refused_token != li.token ||
		    ctx->refused_serial != serial) {
			char addr[80];
			fence_refused(ctx, serial, zg_dns_addr_str(from, addr, sizeof(addr)), why);
			ctx->refused_src = src;
			ctx->refused_token = li.token;
			ctx->refused_serial = serial;
		}
		return ZG_EFENCED;
	}
	if (reread && nt) {
		pthread_mutex_lock(&ctx->dlock);
		ctx->vs.lease_token = li.token;
		pthread_mutex_unlock(&ctx->dlock);
		knotd_mod_stats_store(ctx->mod, 0, CTR_LEASE_TOKEN, 0, (uint64_t)li.token);
		wlog(ctx, LOG_NOTICE, "serial %u, signer lease token %lld of %s accepted",
		     serial, (long long)li.token, li.holder);
	}
	return 0;
}

static int shadow_update(validate_ctx_t *ctx, bool *changed)
{
	char reason[256] = "";
	*changed = false;
	size_t rrs = 0;
	if (ctx->shadow != NULL) {
		zg_zone_counts(zg_incr_zone(ctx->shadow), NULL, NULL, &rrs);
	}
	const source_addr_t *src = &ctx->sources[ctx->source_cur];
	zg_xfr_peer_t peer = {
		.addr = &src->addr,
		.via = src->via.ss_family != AF_UNSPEC ? &src->via : NULL,
		.key = source_key(ctx),
		.zone = ctx->zone,
		.cancel = &ctx->cancel,
		.limits = zg_xfr_limits_resolve(&ctx->limits, rrs),
		.stats = &ctx->xstats,
		.self = ctx->source_self ? &ctx->self : NULL,
	};
	zg_zone_t *zone = NULL;
	if (ctx->shadow != NULL) {
		uint32_t from = zg_zone_serial(zg_incr_zone(ctx->shadow), NULL);
		zg_xfr_kind_t kind = ZG_XFR_UPTODATE;
		int ret = zg_xfr_ixfr(&peer, from, &ctx->diff, &zone, &kind, reason, sizeof(reason));
		if (ret == ZG_ETOOBIG) {
			snprintf(ctx->xfr_reason, sizeof(ctx->xfr_reason), "IXFR from serial %u: %s",
			         from, reason);
			return ret;
		}
		if (ret != 0) {
			xfr_failed(ctx, "IXFR, incoming, remote %s, serial %u, failed (%s)%s",
			           ctx->source_str, from, reason[0] != '\0' ? reason : zg_strerror(ret),
			           self_refused_hint(ctx, ret));
			return ret;
		}
		if (kind == ZG_XFR_UPTODATE) {
			return 0;
		}
		if (kind == ZG_XFR_IXFR) {
			ret = zg_incr_apply_diff(ctx->shadow, &ctx->diff);
			if (ret == 0) {
				wlog(ctx, LOG_INFO, "IXFR, incoming, remote %s, serial %u -> %u, "
				     "%zu changes", ctx->source_str, ctx->diff.serial_from,
				     ctx->diff.serial_to, ctx->diff.count);
				*changed = true;
				return 0;
			}
			wlog(ctx, LOG_WARNING, "IXFR, incoming, remote %s, serial %u -> %u, "
			     "does not apply to the shadow zone (%s), falling back to AXFR",
			     ctx->source_str, ctx->diff.serial_from, ctx->diff.serial_to,
			     zg_strerror(ret));
		} else {
			wlog(ctx, LOG_INFO, "IXFR, incoming, remote %s, serial %u, "
			     "answered with the whole zone, serial %u", ctx->source_str, from,
			     zg_zone_serial(zone, NULL));
		}
		zg_incr_free(ctx->shadow);
		ctx->shadow = NULL;
	}

	if (zone == NULL) {
		int ret = zg_xfr_axfr(&peer, &zone, reason, sizeof(reason));
		if (ret == ZG_ETOOBIG) {
			snprintf(ctx->xfr_reason, sizeof(ctx->xfr_reason), "AXFR: %s", reason);
			return ret;
		}
		if (ret != 0) {
			xfr_failed(ctx, "AXFR, incoming, remote %s, failed (%s)%s", ctx->source_str,
			           reason[0] != '\0' ? reason : zg_strerror(ret),
			           self_refused_hint(ctx, ret));
			return ret;
		}
		wlog(ctx, LOG_INFO, "AXFR, incoming, remote %s, serial %u",
		     ctx->source_str, zg_zone_serial(zone, NULL));
	}
	int ret = incr_new(ctx, &ctx->shadow, zone);
	if (ret != 0) {
		return ret;
	}
	*changed = true;
	return 0;
}

static int judge(validate_ctx_t *ctx, zg_incr_t *in, uint32_t serial, int64_t t0,
                 int64_t t_xfr, const struct sockaddr_storage *from);

/* Follows the source and validates; returns 0 with *serial set once the
 * shadow's serial has a verdict. */
static int check_serial(validate_ctx_t *ctx, uint32_t *serial)
{
	int64_t t0 = mono_ms();
	bool changed = false;
	int ret = shadow_update(ctx, &changed);
	if (ret == ZG_ETOOBIG && ctx->xstats.have_serial) {
		/* A transfer over a limit: its serial fails like an invalid one, and
		 * is not transferred again until the source announces another. */
		*serial = ctx->xstats.serial;
		if (verdict_get(ctx, *serial) != 0) {
			ctx->have_digest = false;   /* The content never arrived whole. */
			verdict_put(ctx, *serial, false);
			knotd_mod_stats_incr(ctx->mod, 0, CTR_SERIALS_FAILED, 0, 1);
			wlog(ctx, LOG_ERR, "serial %u, transfer from %s stopped by a limit "
			     "(%s), transfers of it refused", *serial, ctx->source_str,
			     ctx->xfr_reason);
			char why[400];
			snprintf(why, sizeof(why), "transfer stopped by a limit, %s", ctx->xfr_reason);
			alarm_run(ctx, *serial, why);
		}
		return 0;
	}
	if (ret != 0) {
		return ret;
	}
	*serial = zg_zone_serial(zg_incr_zone(ctx->shadow), NULL);
	if (!changed && verdict_get(ctx, *serial) >= 0) {
		return 0;
	}
	const struct sockaddr_storage *from = &ctx->sources[ctx->source_cur].addr;
	if (ctx->lease != NULL && fence_check(ctx, *serial, from, false) != 0) {
		zg_incr_free(ctx->shadow);
		ctx->shadow = NULL;
		return ZG_EFENCED;
	}
	ret = judge(ctx, ctx->shadow, *serial, t0, mono_ms() - t0, from);
	if (ret != 0) {
		zg_incr_free(ctx->shadow);
		ctx->shadow = NULL;
	}
	return ret;
}

/*
 * Validates the content in \a in (serial \a serial, transferred since t0 in
 * t_xfr ms from \a from) and records, logs and announces the verdict with
 * the digest of that content. With a lease, valid content is accepted only
 * if the lease, read again now, allows it (fence_check()). Returns 0, or the
 * error that aborted the validation or ZG_EFENCED (the caller drops \a in).
 */
static int judge(validate_ctx_t *ctx, zg_incr_t *in, uint32_t serial, int64_t t0,
                 int64_t t_xfr, const struct sockaddr_storage *from)
{
	ctx->have_digest = zg_incr_digest(in, &ctx->digest);
	zg_digest_t before;
	if (ctx->have_digest && verdict_digest(ctx, serial, false, &before) &&
	    !zg_digest_equal(&before, &ctx->digest)) {
		char d1[ZG_DIGEST_STR_LEN + 1], d2[ZG_DIGEST_STR_LEN + 1];
		wlog(ctx, LOG_NOTICE, "serial %u, content differs from that of its "
		     "earlier verdict without a serial change (digest %s, was %s), validated "
		     "as new content", serial, zg_digest_str(&ctx->digest, d1, sizeof(d1)),
		     zg_digest_str(&before, d2, sizeof(d2)));
		/* Until it has validated, that serial is not valid. */
		verdict_set(ctx, serial, false);
	}

	zg_verify_opts_t opts = {
		.now = time(NULL),
		.horizon = ctx->horizon,
		.threads = 0,            /* One per CPU (small diffs: one). */
		.cancel = &ctx->cancel,  /* Unload does not wait for a whole-zone run. */
		.p256_openssl = ctx->p256_openssl,
	};
	zg_report_t report;
	zg_report_init(&report);
	bool full = false;
	int ret = zg_incr_verify(in, &opts, &report, &full);
	if (ret == -ECANCELED) {
		wlog(ctx, LOG_INFO, "serial %u, validation canceled (module unloaded)",
		     serial);
	} else if (ret != 0) {
		wlog(ctx, LOG_ERR, "serial %u, validation aborted (%s)", serial,
		     zg_strerror(ret));
	}
	if (ret != 0) {
		zg_report_deinit(&report);
		return ret;
	}
	int64_t ms = mono_ms() - t0;
	knotd_mod_stats_store(ctx->mod, 0, CTR_LATENCY_MS, 0, (uint64_t)ms);
	ctx->earliest_expiry = zg_incr_earliest_expiry(in);

	if (report.errors == 0 && ctx->lease != NULL && fence_check(ctx, serial, from, true) != 0) {
		zg_report_deinit(&report);
		return ZG_EFENCED;
	}
	if (report.errors == 0) {
		/* The gate opens at once (with the digest of the content known to
		 * the transfer check); the state file is written once the
		 * secondaries have been told (its fsync is not in their way). */
		state_record(ctx, serial, true);
		verdict_set(ctx, serial, true);
		knotd_mod_stats_incr(ctx->mod, 0, CTR_SERIALS_VALIDATED, 0, 1);
		knotd_mod_stats_store(ctx->mod, 0, CTR_LAST_SERIAL, 0, serial);
		wlog(ctx, LOG_INFO, "serial %u, validated (%s, %zu names checked, "
		     "%llu signatures, %zu warnings, transfer %lld ms, checks %lld ms, "
		     "%lld ms)", serial,
		     full ? "whole zone" : "incremental", zg_incr_last_checked(in),
		     (unsigned long long)report.stats.signatures, report.warnings,
		     (long long)t_xfr, (long long)(ms - t_xfr), (long long)ms);
		if (report.warnings > 0) {
			char line[1024];
			for (size_t i = 0; i < report.len; i++) {
				zg_report_item_str(&report.items[i], line, sizeof(line));
				wlog(ctx, LOG_WARNING, "serial %u, %s", serial, line);
				if (i + 1 == LOG_PROBLEMS) {
					break;
				}
			}
		}
		ctx->expiry_state = 0;
		notify_all(ctx, serial);
		state_save(ctx);
	} else {
		verdict_put(ctx, serial, false);
		knotd_mod_stats_incr(ctx->mod, 0, CTR_SERIALS_FAILED, 0, 1);
		wlog(ctx, LOG_ERR, "serial %u, validation failed (%s, %zu errors, "
		     "transfers of it refused)", serial, full ? "whole zone" : "incremental",
		     report.errors);
		char line[1024];
		char first[1024] = "";
		size_t logged = 0;
		for (size_t i = 0; i < report.len && logged < LOG_PROBLEMS; i++) {
			if (report.items[i].severity != ZG_SEV_ERROR) {
				continue;
			}
			zg_report_item_str(&report.items[i], line, sizeof(line));
			if (logged == 0) {
				snprintf(first, sizeof(first), "%s", line);
			}
			wlog(ctx, LOG_ERR, "serial %u, %s", serial, line);
			logged++;
		}
		char why[1200];
		snprintf(why, sizeof(why), "%zu validation errors, first: %s", report.errors, first);
		alarm_run(ctx, serial, why);
		resign_request(ctx, serial);
	}
	zg_report_deinit(&report);
	return 0;
}

/* The alarm (and the re-sign request) of a served serial whose signatures
 * expired at when. */
static void expired_alarm(validate_ctx_t *ctx, uint32_t serial, const char *when)
{
	char why[96];
	snprintf(why, sizeof(why), "signatures expired at %s", when);
	alarm_run(ctx, serial, why);
	resign_request(ctx, serial);
}

/* Restored valid verdicts (not validated again by this load yet) whose
 * signatures expire count as failed from then on, like expiry_check() does
 * for the shadow's serial; the newest such serial is logged and alarmed. */
static void restored_expiry_check(validate_ctx_t *ctx)
{
	int64_t now = time(NULL);
	zg_verdict_t *newest = NULL;
	unsigned n = 0;
	pthread_mutex_lock(&ctx->dlock);
	for (unsigned i = 0; i < ctx->vs.count; i++) {
		zg_verdict_t *e = &ctx->vs.v[i];
		if (e->restored && e->valid && e->expiry != INT64_MAX && e->expiry <= now) {
			e->valid = false;
			e->time = now;
			verdict_set(ctx, e->serial, false);
			newest = e;
			n++;
		}
	}
	pthread_mutex_unlock(&ctx->dlock);
	if (n == 0) {
		return;
	}
	knotd_mod_stats_incr(ctx->mod, 0, CTR_SERIALS_FAILED, 0, n);
	state_save(ctx);
	char when[32];
	zg_time_str(newest->expiry, when, sizeof(when));
	wlog(ctx, LOG_ERR, "serial %u, signatures expired at %s (verdict restored "
	     "at load, %u restored serials expired), transfers of it refused",
	     newest->serial, when, n);
	expired_alarm(ctx, newest->serial, when);
}

/* Signatures age without any change of the zone: once the earliest one is
 * within the horizon, log and alarm once; once it has expired, the served
 * serial is no longer valid (refused, alarm) until a newer serial validates. */
static void expiry_check(validate_ctx_t *ctx)
{
	if (ctx->shadow == NULL || ctx->earliest_expiry == INT64_MAX) {
		return;
	}
	uint32_t serial = zg_zone_serial(zg_incr_zone(ctx->shadow), NULL);
	if (verdict_get(ctx, serial) != 1) {
		return;
	}
	int64_t left = ctx->earliest_expiry - (int64_t)time(NULL);
	char when[32];
	zg_time_str(ctx->earliest_expiry, when, sizeof(when));
	if (left <= 0 && ctx->expiry_state < 2) {
		ctx->expiry_state = 2;
		ctx->have_digest = zg_incr_digest(ctx->shadow, &ctx->digest);
		verdict_put(ctx, serial, false);
		knotd_mod_stats_incr(ctx->mod, 0, CTR_SERIALS_FAILED, 0, 1);
		wlog(ctx, LOG_ERR, "serial %u, signatures expired at %s, "
		     "transfers of it refused", serial, when);
		expired_alarm(ctx, serial, when);
	} else if (left > 0 && ctx->horizon > 0 && left < (int64_t)ctx->horizon &&
	           ctx->expiry_state < 1) {
		ctx->expiry_state = 1;
		wlog(ctx, LOG_WARNING, "serial %u, signatures expire within the "
		     "horizon (earliest at %s)", serial, when);
		char why[96];
		snprintf(why, sizeof(why), "signatures expire within the horizon, earliest at %s", when);
		alarm_run(ctx, serial, why);
	}
}

/* Shortens a wait of ms so that the worker wakes up when the earliest
 * signature enters the horizon or expires, whatever the poll interval. */
static int64_t expiry_wait_ms(const validate_ctx_t *ctx, int64_t ms)
{
	if (ctx->shadow == NULL || ctx->earliest_expiry == INT64_MAX || ctx->expiry_state >= 2) {
		return ms;
	}
	int64_t now = (int64_t)time(NULL);
	int64_t at[2] = { ctx->earliest_expiry + 1, 0 };
	if (ctx->expiry_state < 1 && ctx->horizon > 0) {
		at[1] = ctx->earliest_expiry - (int64_t)ctx->horizon + 1;
	}
	for (int i = 0; i < 2; i++) {
		if (at[i] > now && (at[i] - now) * 1000 < ms) {
			ms = (at[i] - now) * 1000;
		}
	}
	return ms;
}

/*
 * An outgoing transfer sent content other than the validated one of its
 * serial (see validate_end()): transfers the zone from this server, and
 * validates it as new content unless it is the content judged. With the
 * source being this server, it becomes the shadow zone.
 */
static void content_recheck(validate_ctx_t *ctx)
{
	int64_t t0 = mono_ms();
	size_t rrs = 0;
	if (ctx->shadow != NULL) {
		zg_zone_counts(zg_incr_zone(ctx->shadow), NULL, NULL, &rrs);
	}
	zg_xfr_stats_t xs;
	struct sockaddr_storage via;
	self_via(ctx, &via);
	zg_xfr_peer_t peer = {
		.addr = &ctx->self_addr,
		.via = &via,
		.key = ctx->source_self && ctx->key.name != NULL ? &ctx->key : NULL,
		.zone = ctx->zone,
		.cancel = &ctx->cancel,
		.limits = zg_xfr_limits_resolve(&ctx->limits, rrs),
		.stats = &xs,
		.self = &ctx->self,
	};
	zg_zone_t *zone = NULL;
	char reason[256] = "";
	int ret = zg_xfr_axfr(&peer, &zone, reason, sizeof(reason));
	if (ret != 0) {
		xfr_failed(ctx, "AXFR, incoming, remote %s, failed (%s), served content not checked",
		           ctx->self_str, reason[0] != '\0' ? reason : zg_strerror(ret));
		return;
	}
	uint32_t serial = zg_zone_serial(zone, NULL);
	zg_incr_t *in = NULL;
	if (incr_new(ctx, &in, zone) != 0) {
		return;
	}
	zg_digest_t served, judged;
	zg_incr_digest(in, &served);
	if (verdict_digest(ctx, serial, false, &judged) && zg_digest_equal(&served, &judged)) {
		char d[ZG_DIGEST_STR_LEN + 1];
		wlog(ctx, LOG_DEBUG, "serial %u, served content checked, it is the one "
		     "judged (digest %s)", serial, zg_digest_str(&served, d, sizeof(d)));
		zg_incr_free(in);
		return;
	}
	/* With a lease this content is fenced: it came from this server, not
	 * from the holder's address. */
	ret = judge(ctx, in, serial, t0, mono_ms() - t0, &ctx->self_addr);
	if (ret == 0 && ctx->source_self) {
		zg_incr_free(ctx->shadow);
		ctx->shadow = in;
		return;
	}
	zg_incr_free(in);
	if (ctx->shadow != NULL) {
		ctx->earliest_expiry = zg_incr_earliest_expiry(ctx->shadow);
	}
}

static void *worker(void *arg)
{
	validate_ctx_t *ctx = arg;
	bool have_serial = false;
	uint32_t last = 0;
	int burst = BURST_POLLS;   /* Poll fast while the server starts. */
	int last_err = 0;

	while (!stopping(ctx)) {
		uint32_t serial = 0;
		int ret = ctx->lease != NULL ? fence_soa(ctx, &serial) : source_soa(ctx, &serial);
		if (ret == ZG_EFENCED) {
			/* Nothing accepted now (fence_soa() logged why). */
		} else if (ret != 0) {
			if (ret != last_err && burst == 0) {
				wlog(ctx, LOG_WARNING, "SOA query, remote %s, failed (%s)",
				     ctx->source_name, ctx->soa_reason);
			}
			last_err = burst == 0 ? ret : 0;
		} else {
			if (last_err != 0) {
				wlog(ctx, LOG_INFO, "SOA query, remote %s, answered again",
				     ctx->source_name);
			}
			last_err = 0;
			if (!have_serial || serial != last) {
				uint32_t got = 0;
				if (check_serial(ctx, &got) == 0) {
					have_serial = true;
					last = got;
					if (got != serial) {
						continue;  /* Changed during the transfer: ask again. */
					}
				}
			}
		}
		if (atomic_exchange(&ctx->content_check, false)) {
			content_recheck(ctx);
		}
		expiry_check(ctx);
		restored_expiry_check(ctx);
		if (ctx->earliest_expiry != INT64_MAX && ctx->earliest_expiry != 0) {
			int64_t left = ctx->earliest_expiry - time(NULL);
			knotd_mod_stats_store(ctx->mod, 0, CTR_EXPIRY_SECONDS, 0,
			                      left > 0 ? (uint64_t)left : 0);
		}
		alarms_reap(ctx, false);

		pthread_mutex_lock(&ctx->lock);
		if (!ctx->stop && !ctx->notified) {
			int64_t ms = burst > 0 ? BURST_MS : (int64_t)ctx->poll_sec * 1000;
			ms = expiry_wait_ms(ctx, ms);
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_sec += ms / 1000;
			ts.tv_nsec += (ms % 1000) * 1000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&ctx->cond, &ctx->lock, &ts);
		}
		if (ctx->notified) {
			ctx->notified = false;
			burst = BURST_POLLS;
		} else if (burst > 0) {
			burst--;
		}
		pthread_mutex_unlock(&ctx->lock);
	}
	alarms_reap(ctx, true);
	zg_incr_free(ctx->shadow);
	ctx->shadow = NULL;
	zg_diff_deinit(&ctx->diff);
	return NULL;
}

/* ---- the gate ---- */

/* Asks the worker to check the content this server serves (content_recheck()). */
static void content_recheck_request(validate_ctx_t *ctx)
{
	pthread_mutex_lock(&ctx->lock);
	atomic_store(&ctx->content_check, true);
	ctx->notified = true;
	pthread_cond_signal(&ctx->cond);
	pthread_mutex_unlock(&ctx->lock);
}

/* Transfers that pass the gate whatever the verdict: the module's own (the
 * remote end is the local end of a connection it opened to this server:
 * address and port), those from the allow ranges, those signed with key. */
static bool transfer_allowed(validate_ctx_t *ctx, knotd_qdata_t *qdata)
{
	const struct sockaddr_storage *remote = knotd_qdata_remote_addr(qdata);
	if (remote != NULL) {
		if (zg_xfr_self_match(&ctx->self, remote)) {
			return true;
		}
		if (ctx->allow.count > 0 && knotd_conf_addr_range_match(&ctx->allow, remote)) {
			return true;
		}
	}
	/* The key name only: knotd verifies the signature against the zone ACL later. */
	const knot_rrset_t *tsig = qdata->query->tsig_rr;
	return ctx->key.name != NULL && tsig != NULL &&
	       knot_dname_is_equal(tsig->owner, ctx->key.name);
}

static knotd_state_t validate_begin(knotd_state_t state, knot_pkt_t *pkt,
                                    knotd_qdata_t *qdata, knotd_mod_t *mod)
{
	(void)pkt;
	validate_ctx_t *ctx = knotd_mod_ctx(mod);
	if (ctx == NULL) {
		return state;
	}
	if (qdata->type == KNOTD_QUERY_TYPE_NOTIFY) {
		pthread_mutex_lock(&ctx->lock);
		ctx->notified = true;
		pthread_cond_signal(&ctx->cond);
		pthread_mutex_unlock(&ctx->lock);
		return state;
	}
	if (qdata->type != KNOTD_QUERY_TYPE_AXFR && qdata->type != KNOTD_QUERY_TYPE_IXFR) {
		return state;
	}
	if (transfer_allowed(ctx, qdata)) {
		return state;
	}
	knot_rrset_t soa = knotd_qdata_zone_apex_rrset(qdata, KNOT_RRTYPE_SOA);
	if (soa.rrs.count == 0) {
		return state;  /* Zone not loaded: knotd answers that itself. */
	}
	uint32_t serial = knot_soa_serial(soa.rrs.rdata);
	int verdict = verdict_get(ctx, serial);
	if (verdict == 1) {
		return state;
	}

	knotd_mod_stats_incr(mod, qdata->params->thread_id, CTR_XFR_REFUSED, 0, 1);
	long long now = (long long)time(NULL);
	if (verdict == 0) {
		/* The serial failed; its content may have changed since (fixed
		 * behind the same serial): the worker looks again, at most every
		 * RECHECK_SEC, when someone asks for it. */
		long long asked = atomic_load(&ctx->recheck_asked);
		if (now - asked >= RECHECK_SEC &&
		    atomic_compare_exchange_strong(&ctx->recheck_asked, &asked, now)) {
			content_recheck_request(ctx);
		}
	}
	unsigned long long quiet = 0;
	if (zg_modlog_due(&ctx->refuse_log, now, REFUSE_LOG_SEC, &quiet)) {
		char addr[80];
		knotd_mod_log(mod, LOG_NOTICE, "%s, outgoing, remote %s, refused (serial %u %s, "
		              "%llu more refused since the last message)",
		              qdata->type == KNOTD_QUERY_TYPE_AXFR ? "AXFR" : "IXFR",
		              zg_modlog_remote(qdata, addr, sizeof(addr)), serial,
		              verdict == 0 ? "failed validation" : "not validated yet", quiet);
	}
	qdata->rcode = KNOT_RCODE_REFUSED;
	return KNOTD_STATE_FAIL;
}

/* The digest of the content of serial (any verdict): the base of an IXFR. */
static bool base_digest(void *arg, uint32_t serial, zg_digest_t *out)
{
	return verdict_digest(arg, serial, false, out);
}

/* The serial an IXFR request asks from (its authority SOA); 0 if none. */
static uint32_t ixfr_serial(const knot_pkt_t *query)
{
	const knot_pktsection_t *au = knot_pkt_section(query, KNOT_AUTHORITY);
	for (uint16_t i = 0; i < au->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(au, i);
		if (rr->type == KNOT_RRTYPE_SOA && rr->rrs.count > 0) {
			return knot_soa_serial(rr->rrs.rdata);
		}
	}
	return 0;
}

static bool same_remote(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

/*
 * The end of each outgoing AXFR/IXFR message: the records sent are summed
 * (per knotd thread; a transfer is produced by one thread, message after
 * message). When the answer ends, the content it leaves at the receiver
 * must be the validated content of its serial (the digest of the verdict);
 * otherwise the last message is replaced by an error, so the receiver drops
 * the whole transfer, and the worker checks the served content. This is
 * what makes a verdict belong to the content, not to the serial number.
 */
static knotd_state_t validate_end(knotd_state_t state, knot_pkt_t *pkt,
                                  knotd_qdata_t *qdata, knotd_mod_t *mod)
{
	validate_ctx_t *ctx = knotd_mod_ctx(mod);
	if (ctx == NULL || state == KNOTD_STATE_FAIL ||
	    (qdata->type != KNOTD_QUERY_TYPE_AXFR && qdata->type != KNOTD_QUERY_TYPE_IXFR) ||
	    knot_wire_get_rcode(pkt->wire) != KNOT_RCODE_NOERROR || transfer_allowed(ctx, qdata)) {
		return state;
	}
	const struct sockaddr_storage *remote = knotd_qdata_remote_addr(qdata);
	unsigned tid = qdata->params->thread_id;
	char reason[320] = "";
	bool recheck = false;
	if (tid >= ctx->nchecks || remote == NULL) {
		snprintf(reason, sizeof(reason), "content not checked (thread %u)", tid);
		goto refuse;
	}
	xfr_check_t *c = &ctx->checks[tid];
	uint16_t qid = knot_wire_get_id(qdata->query->wire);
	if (!c->active || c->socket != qdata->params->socket || c->qid != qid ||
	    !same_remote(&c->remote, remote)) {
		bool axfr = qdata->type == KNOTD_QUERY_TYPE_AXFR;
		zg_digest_stream_init(&c->stream, c->dctx, ctx->zone, axfr,
		                      axfr ? 0 : ixfr_serial(qdata->query), base_digest, ctx);
		c->active = true;
		c->socket = qdata->params->socket;
		c->qid = qid;
		c->remote = *remote;
	}
	/* The records as they are on the wire: the RRsets knotd put into the
	 * message may be gone by now (an IXFR from the journal frees each one
	 * once it is written). */
	knot_pkt_t *msg = c->parsed;
	knot_pkt_clear(msg);
	if (pkt->size > msg->max_size) {
		c->active = false;
		snprintf(reason, sizeof(reason), "content not checked, message of %zu bytes",
		         pkt->size);
		goto refuse;
	}
	memcpy(msg->wire, pkt->wire, pkt->size);
	msg->size = pkt->size;
	int pret = knot_pkt_parse(msg, 0);
	if (pret != KNOT_EOK) {
		c->active = false;
		snprintf(reason, sizeof(reason), "content not checked, message not parsed (%s)",
		         knot_strerror(pret));
		goto refuse;
	}
	const knot_pktsection_t *an = knot_pkt_section(msg, KNOT_ANSWER);
	zg_xfr_stream_t *st = &c->stream.stream;
	for (uint16_t i = 0; i < an->count && !zg_xfr_stream_done(st); i++) {
		const knot_rrset_t *rr = knot_pkt_rr(an, i);
		if (rr->rclass != KNOT_CLASS_IN) {
			continue;
		}
		knot_rdata_t *rd = rr->rrs.rdata;
		for (uint16_t k = 0; k < rr->rrs.count && !zg_xfr_stream_done(st); k++) {
			char why[256] = "";
			int ret = zg_digest_stream_rr(&c->stream, rr->owner, rr->type, rr->ttl, rd->data,
			                              rd->len, why, sizeof(why));
			if (ret != 0) {
				c->active = false;
				snprintf(reason, sizeof(reason), "content not checked, %s", why);
				goto refuse;
			}
			rd = knot_rdataset_next(rd);
		}
	}
	if (zg_xfr_stream_uptodate(st) && an->count == 1) {
		c->active = false;   /* A lone SOA: nothing transferred. */
		return state;
	}
	if (!zg_xfr_stream_done(st)) {
		return state;        /* More messages follow. */
	}
	c->active = false;
	if (!st->full && !c->stream.based) {
		return state;        /* An empty answer. */
	}
	zg_digest_t want;
	if (verdict_get(ctx, st->to) == 1 && verdict_digest(ctx, st->to, true, &want)) {
		if (zg_digest_equal(&c->stream.sum, &want)) {
			return state;
		}
		char d1[ZG_DIGEST_STR_LEN + 1], d2[ZG_DIGEST_STR_LEN + 1];
		snprintf(reason, sizeof(reason), "serial %u, content differs from the validated "
		         "content, digest %s, validated %s", st->to,
		         zg_digest_str(&c->stream.sum, d1, sizeof(d1)), zg_digest_str(&want, d2, sizeof(d2)));
	} else {
		snprintf(reason, sizeof(reason), "serial %u, no validated content", st->to);
	}
	recheck = true;
refuse:
	knotd_mod_stats_incr(mod, tid, CTR_CONTENT_REFUSED, 0, 1);
	unsigned long long quiet = 0;
	if (zg_modlog_due(&ctx->content_log, (long long)time(NULL), REFUSE_LOG_SEC, &quiet)) {
		char addr[80];
		knotd_mod_log(mod, LOG_WARNING, "%s, outgoing, remote %s, failed at its end (%s, "
		              "%llu more since the last message)",
		              qdata->type == KNOTD_QUERY_TYPE_AXFR ? "AXFR" : "IXFR",
		              zg_modlog_remote(qdata, addr, sizeof(addr)), reason, quiet);
	}
	if (recheck) {
		content_recheck_request(ctx);
	}
	qdata->rcode = KNOT_RCODE_REFUSED;
	return KNOTD_STATE_FAIL;
}

/* ---- configuration ---- */

static int validate_conf_check(knotd_conf_check_args_t *args)
{
	knotd_conf_t alarm = knotd_conf_check_item(args, MOD_ALARM);
	if (alarm.count == 1 && alarm.single.string[0] != '/') {
		args->err_str = "alarm must be an absolute path to an executable";
		return KNOT_EINVAL;
	}
	knotd_conf_t dir = knotd_conf_check_item(args, MOD_STATE_DIR);
	if (dir.count == 1 && dir.single.string[0] != '/') {
		args->err_str = "state-dir must be an absolute path";
		return KNOT_EINVAL;
	}
	knotd_conf_t signer = knotd_conf_check_item(args, MOD_SIGNER);
	int ret = KNOT_EOK;
	if (signer.count > SIGNER_MAX) {
		args->err_str = "at most 16 signer items";
		ret = KNOT_EINVAL;
	}
	for (size_t i = 0; i < signer.count && ret == KNOT_EOK; i++) {
		char holder[256];
		struct sockaddr_storage ss;
		if (zg_fence_map_parse(signer.multi[i].string, holder, sizeof(holder), &ss) != 0) {
			args->err_str = "signer must be HOLDER@ADDRESS (the lease holder's name, "
			                "an IP address, optionally with @port)";
			ret = KNOT_EINVAL;
		}
	}
	knotd_conf_t lease = knotd_conf_check_item(args, MOD_LEASE);
	if (ret == KNOT_EOK && signer.count > 0 && lease.count == 0) {
		args->err_str = "signer needs lease";
		ret = KNOT_EINVAL;
	}
	if (ret == KNOT_EOK && lease.count == 1) {
		zg_lease_store_t *st = NULL;
		char err[128];
		if (zg_lease_open(lease.single.string, &st, err, sizeof(err)) != 0) {
			args->err_str = "lease must be a postgresql:// URI or a libpq key=value string";
			ret = KNOT_EINVAL;
		}
		zg_lease_free(st);
	}
	knotd_conf_free(&signer);
	return ret;
}

/* Whether text can be a remote's id rather than a mistyped address: letters,
 * digits, '-', '_' and '.', not only digits and dots. */
static bool source_id_like(const char *text)
{
	bool letter = false;
	for (const char *p = text; *p != '\0'; p++) {
		if (isalpha((unsigned char)*p) || *p == '-' || *p == '_') {
			letter = true;
		} else if (!isdigit((unsigned char)*p) && *p != '.') {
			return false;
		}
	}
	return letter;
}

/* source: an IP address with an optional port, or the id of a remote
 * (resolved in load: a module's schema cannot refer to the remote section
 * under another item name). */
static int source_check(knotd_conf_check_args_t *args)
{
	const char *text = (const char *)args->data;
	struct sockaddr_storage ss;
	if (args->data_len > 0 && text[args->data_len - 1] == '\0' &&
	    (zg_dns_addr_parse(text, 53, &ss) == 0 || source_id_like(text))) {
		return KNOT_EOK;
	}
	args->err_str = "source must be a remote id or an IP address, optionally with @port";
	return KNOT_EINVAL;
}

/* The local address to use towards addr: as Knot, the first of the remote's
 * via addresses of addr's family (AF_UNSPEC: none, any local address). */
static void via_pick(const knotd_conf_t *via, const struct sockaddr_storage *addr,
                     struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t v = 0; v < via->count; v++) {
		if (via->multi[v].addr.ss_family == addr->ss_family) {
			*out = via->multi[v].addr;
			return;
		}
	}
}

/* The source of the zone: this server (not configured), a remote (its
 * addresses in order, each with its via, and its key) or an address. */
static int source_load(validate_ctx_t *ctx)
{
	knotd_conf_t src = knotd_conf_mod(ctx->mod, MOD_SOURCE);
	ctx->source_self = src.count == 0;
	ctx->source_cur = 0;
	if (src.count == 0) {
		/* From the listen address itself, so that the zone's acl allows
		 * the module's own transfers by that address (on a host with
		 * several addresses, also on the loopback). */
		ctx->sources[0].addr = ctx->self_addr;
		self_via(ctx, &ctx->sources[0].via);
		ctx->source_count = 1;
		zg_dns_addr_str(&ctx->self_addr, ctx->source_name, sizeof(ctx->source_name));
		zg_dns_addr_str(&ctx->self_addr, ctx->source_str, sizeof(ctx->source_str));
		return KNOT_EOK;
	}
	const char *text = src.single.string;
	knotd_conf_t id = { .count = 1 };
	id.single.data = (const uint8_t *)text;
	id.single.data_len = strlen(text) + 1;
	knotd_conf_t addrs = knotd_conf(ctx->mod, C_RMT, C_ADDR, &id);
	if (addrs.count == 0) {
		knotd_conf_free(&addrs);
		if (zg_dns_addr_parse(text, 53, &ctx->sources[0].addr) != 0) {
			/* Fail closed: loaded, but nothing validates, so the gate
			 * refuses every transfer; the worker says why. */
			snprintf(ctx->source_name, sizeof(ctx->source_name), "%s", text);
			ctx->source_count = 0;
			return KNOT_EOK;
		}
		ctx->source_count = 1;
		zg_dns_addr_str(&ctx->sources[0].addr, ctx->source_name, sizeof(ctx->source_name));
		zg_dns_addr_str(&ctx->sources[0].addr, ctx->source_str, sizeof(ctx->source_str));
		return KNOT_EOK;
	}
	knotd_conf_t via = knotd_conf(ctx->mod, C_RMT, C_VIA, &id);
	knotd_conf_t key = knotd_conf(ctx->mod, C_RMT, C_KEY, &id);
	int ret = KNOT_EOK;
	if (key.count == 1) {
		ret = zg_modkey_load(ctx->mod, &key.single, &ctx->source_key);
		if (ret != KNOT_EOK) {
			knotd_mod_log(ctx->mod, LOG_ERR, "source remote key not usable (%s)",
			              zg_strerror(ret));
		}
	}
	int n = snprintf(ctx->source_name, sizeof(ctx->source_name), "%s (", text);
	for (size_t i = 0; i < addrs.count && ctx->source_count < SOURCE_MAX; i++) {
		source_addr_t *s = &ctx->sources[ctx->source_count++];
		s->addr = addrs.multi[i].addr;
		via_pick(&via, &s->addr, &s->via);
		char a[80];
		zg_dns_addr_str(&s->addr, a, sizeof(a));
		if (n > 0 && (size_t)n < sizeof(ctx->source_name)) {
			n += snprintf(ctx->source_name + n, sizeof(ctx->source_name) - n, "%s%s",
			              i > 0 ? ", " : "", a);
		}
	}
	if (n > 0 && (size_t)n < sizeof(ctx->source_name)) {
		snprintf(ctx->source_name + n, sizeof(ctx->source_name) - n, ")");
	}
	if (addrs.count > SOURCE_MAX) {
		knotd_mod_log(ctx->mod, LOG_WARNING, "source remote has %zu addresses, "
		              "the first %u are used", addrs.count, SOURCE_MAX);
	}
	zg_dns_addr_str(&ctx->sources[0].addr, ctx->source_str, sizeof(ctx->source_str));
	knotd_conf_free(&key);
	knotd_conf_free(&via);
	knotd_conf_free(&addrs);
	return ret;
}

static void notify_add_remote(validate_ctx_t *ctx, const knotd_conf_val_t *ref)
{
	knotd_conf_t id = { .single = *ref, .count = 1 };
	knotd_conf_t addrs = knotd_conf(ctx->mod, C_RMT, C_ADDR, &id);
	if (addrs.count == 0) {
		/* A remotes: group: its members. */
		knotd_conf_t members = knotd_conf(ctx->mod, C_RMTS, C_RMT, &id);
		for (size_t i = 0; i < members.count; i++) {
			knotd_conf_t mid = { .single = members.multi[i], .count = 1 };
			knotd_conf_t maddrs = knotd_conf(ctx->mod, C_RMT, C_ADDR, &mid);
			if (maddrs.count > 0) {
				notify_add_remote(ctx, &members.multi[i]);
			}
			knotd_conf_free(&maddrs);
		}
		knotd_conf_free(&members);
		return;
	}
	knotd_conf_t key = knotd_conf(ctx->mod, C_RMT, C_KEY, &id);
	knotd_conf_t via = knotd_conf(ctx->mod, C_RMT, C_VIA, &id);
	for (size_t i = 0; i < addrs.count && ctx->notify_count < NOTIFY_MAX; i++) {
		notify_target_t *t = &ctx->notify[ctx->notify_count];
		memset(t, 0, sizeof(*t));
		t->addr = addrs.multi[i].addr;
		via_pick(&via, &t->addr, &t->via);
		if (key.count == 1 && zg_modkey_load(ctx->mod, &key.single, &t->key) != KNOT_EOK) {
			wlog(ctx, LOG_WARNING, "notify remote key not usable, "
			     "sending unsigned NOTIFY");
		}
		ctx->notify_count++;
	}
	knotd_conf_free(&via);
	knotd_conf_free(&addrs);
}

/* The state file: STATE-DIR/NAME.mod-validate, STATE-DIR by default the
 * zone's storage (relative to knotd's working directory, as knotd does),
 * NAME the zone name without the final dot ("root" for the root zone). */
static int state_path_init(validate_ctx_t *ctx, const knot_dname_t *zone)
{
	char cwd[PATH_MAX] = "";
	const char *dir = NULL;
	knotd_conf_t conf = knotd_conf_mod(ctx->mod, MOD_STATE_DIR);
	if (conf.count == 1) {
		dir = conf.single.string;
	} else {
		conf = knotd_conf_zone(ctx->mod, C_STORAGE, zone);
		dir = conf.single.string;
		if (dir != NULL && dir[0] != '/' && getcwd(cwd, sizeof(cwd)) == NULL) {
			return -errno;
		}
	}
	if (dir == NULL || dir[0] == '\0') {
		return -ENOENT;
	}
	char name[4 * sizeof(ctx->zone_str)] = "";
	size_t len = 0;
	if (strcmp(ctx->zone_str, ".") == 0) {
		snprintf(name, sizeof(name), "root");
	} else {
		for (const char *p = ctx->zone_str; *p != '\0' && len + 5 < sizeof(name); p++) {
			if (*p == '.' && p[1] == '\0') {
				break;
			}
			if (*p == '/') {
				memcpy(name + len, "\\047", 4);
				len += 4;
			} else {
				name[len++] = *p;
			}
		}
		name[len] = '\0';
	}
	int n = snprintf(ctx->state_path, sizeof(ctx->state_path), "%s%s%s/%s.mod-validate",
	                 cwd, cwd[0] != '\0' ? "/" : "", dir, name);
	if (n < 0 || (size_t)n >= sizeof(ctx->state_path)) {
		ctx->state_path[0] = '\0';
		return -ENAMETOOLONG;
	}
	return 0;
}

/* This server's address: its first listen address (loopback for a wildcard),
 * else 127.0.0.1@53. */
static void self_address(knotd_mod_t *mod, struct sockaddr_storage *out)
{
	if (zg_mod_listen_addr(mod, NULL, out) != KNOT_EOK) {
		struct sockaddr_in *in = (struct sockaddr_in *)out;
		memset(out, 0, sizeof(*out));
		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		in->sin_port = htons(53);
	}
}

/*
 * The P-256 table cache is one per process (the module's copy of the
 * library): its size is the largest p256-table-cache of the loaded zones.
 */
static pthread_mutex_t p256_cache_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned p256_cache_users[ZG_P256_CACHE_MAX + 1];

static void p256_cache_apply(void)
{
	for (int v = ZG_P256_CACHE_MAX; v >= 0; v--) {
		if (p256_cache_users[v] > 0) {
			zg_p256_cache_set_size((unsigned)v);
			return;
		}
	}
}

static void p256_cache_hold(validate_ctx_t *ctx, bool hold)
{
	if (ctx->p256_cache_held == hold) {
		return;
	}
	pthread_mutex_lock(&p256_cache_lock);
	if (hold) {
		p256_cache_users[ctx->p256_cache]++;
	} else {
		p256_cache_users[ctx->p256_cache]--;
	}
	p256_cache_apply();
	pthread_mutex_unlock(&p256_cache_lock);
	ctx->p256_cache_held = hold;
}

/* lease and signer: downstream fencing. The source must be the signers. */
static int lease_load(validate_ctx_t *ctx, const char *uri)
{
	if (ctx->source_self) {
		knotd_mod_log(ctx->mod, LOG_ERR, "lease needs source (the signers' remote)");
		return KNOT_EINVAL;
	}
	char err[256] = "";
	int ret = zg_lease_open(uri, &ctx->lease, err, sizeof(err));
	if (ret != 0) {
		knotd_mod_log(ctx->mod, LOG_ERR, "lease store not usable (%s)",
		              err[0] != '\0' ? err : zg_strerror(ret));
		return KNOT_EINVAL;
	}
	knotd_conf_t signer = knotd_conf_mod(ctx->mod, MOD_SIGNER);
	size_t n = signer.count < SIGNER_MAX ? signer.count : SIGNER_MAX;
	ctx->signer_map = calloc(n > 0 ? n : 1, sizeof(ctx->signer_map[0]));
	if (ctx->signer_map == NULL) {
		knotd_conf_free(&signer);
		return KNOT_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(ctx->signer_map[i], sizeof(ctx->signer_map[i]), "%s",
		         signer.multi[i].string);
	}
	ctx->signer_count = n;
	knotd_conf_free(&signer);
	return KNOT_EOK;
}

static void ctx_free(validate_ctx_t *ctx)
{
	if (ctx == NULL) {
		return;
	}
	p256_cache_hold(ctx, false);
	zg_alarm_deinit(&ctx->alarm);
	zg_xfr_self_deinit(&ctx->self);
	for (unsigned i = 0; i < ctx->nchecks; i++) {
		zg_digest_ctx_free(ctx->checks[i].dctx);
		knot_pkt_free(ctx->checks[i].parsed);
	}
	free(ctx->checks);
	zg_digest_ctx_free(ctx->wdctx);
	zg_lease_free(ctx->lease);
	free(ctx->signer_map);
	pthread_mutex_destroy(&ctx->dlock);
	knotd_conf_free(&ctx->allow);
	knot_tsig_key_deinit(&ctx->key);
	knot_tsig_key_deinit(&ctx->source_key);
	for (unsigned i = 0; i < ctx->notify_count; i++) {
		knot_tsig_key_deinit(&ctx->notify[i].key);
	}
	pthread_mutex_destroy(&ctx->lock);
	pthread_cond_destroy(&ctx->cond);
	free(ctx);
}

static int validate_load(knotd_mod_t *mod)
{
	validate_ctx_t *ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		return KNOT_ENOMEM;
	}
	ctx->mod = mod;
	ctx->earliest_expiry = INT64_MAX;
	zg_diff_init(&ctx->diff);
	zg_xfr_self_init(&ctx->self);
	pthread_mutex_init(&ctx->dlock, NULL);
	pthread_mutex_init(&ctx->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ctx->cond, &ca);
	pthread_condattr_destroy(&ca);

	int ret = KNOT_ENOMEM;
	const knot_dname_t *zone = knotd_mod_zone(mod);
	if (zone == NULL) {
		ret = KNOT_EINVAL;
		goto fail;
	}
	knot_dname_to_wire(ctx->zone, zone, sizeof(ctx->zone));
	knot_dname_to_str(ctx->zone_str, zone, sizeof(ctx->zone_str));

	ctx->horizon = knotd_conf_mod(mod, MOD_HORIZON).single.integer;
	ctx->poll_sec = knotd_conf_mod(mod, MOD_POLL).single.integer;
	knotd_conf_t alarm = knotd_conf_mod(mod, MOD_ALARM);
	if (zg_alarm_init(&ctx->alarm, alarm.count == 1 ? alarm.single.string : NULL,
	                  knotd_conf_mod(mod, MOD_ALARM_TO).single.integer) != 0) {
		goto fail;
	}

	knotd_conf_t key = knotd_conf_mod(mod, MOD_KEY);
	if (key.count == 1) {
		ret = zg_modkey_load(mod, &key.single, &ctx->key);
		if (ret != KNOT_EOK) {
			knotd_mod_log(mod, LOG_ERR, "key not usable (%s)", zg_strerror(ret));
			goto fail;
		}
	}

	self_address(mod, &ctx->self_addr);
	ret = source_load(ctx);
	if (ret != KNOT_EOK) {
		goto fail;
	}
	if (ctx->source_count == 0) {
		knotd_mod_log(mod, LOG_ERR, "source '%s' is neither a remote of this server "
		              "nor an IP address, nothing is validated and transfers are refused",
		              ctx->source_name);
	}
	ret = KNOT_ENOMEM;
	zg_dns_addr_str(&ctx->self_addr, ctx->self_str, sizeof(ctx->self_str));

	ctx->resign = knotd_conf_mod(mod, MOD_RESIGN).single.boolean;
	ctx->limits.records = (uint64_t)knotd_conf_mod(mod, MOD_MAX_RECORDS).single.integer;
	ctx->limits.bytes = (uint64_t)knotd_conf_mod(mod, MOD_MAX_SIZE).single.integer;
	ctx->limits.time_ms = (uint32_t)knotd_conf_mod(mod, MOD_MAX_TIME).single.integer * 1000;
	ctx->p256_openssl = knotd_conf_mod(mod, MOD_P256_OPENSSL).single.boolean ||
	                    !zg_crypto_p256_native();
	ctx->p256_cache = (unsigned)knotd_conf_mod(mod, MOD_P256_CACHE).single.integer;
	p256_cache_hold(ctx, true);
	if (ctx->resign) {
		if (zg_mod_ctl_path(mod, NULL, ctx->ctl_path, sizeof(ctx->ctl_path)) != 0) {
			knotd_mod_log(mod, LOG_ERR, "control socket path too long");
			ret = KNOT_EINVAL;
			goto fail;
		}
	}

	ctx->allow = knotd_conf_mod(mod, MOD_ALLOW);

	knotd_conf_t notify = knotd_conf_zone(mod, C_NOTIFY, zone);
	for (size_t i = 0; i < notify.count; i++) {
		notify_add_remote(ctx, &notify.multi[i]);
	}
	knotd_conf_free(&notify);

	ctx->refused_src = -1;
	knotd_conf_t lease = knotd_conf_mod(mod, MOD_LEASE);
	if (lease.count == 1) {
		ret = lease_load(ctx, lease.single.string);
		if (ret != KNOT_EOK) {
			goto fail;
		}
	}
	ret = KNOT_ENOMEM;
	for (int i = 0; i < (ctx->lease != NULL ? CTR_COUNT : CTR_BASE_COUNT); i++) {
		if (knotd_mod_stats_add(mod, ctr_names[i], 1, NULL) != KNOT_EOK) {
			ret = KNOT_ENOMEM;
			goto fail;
		}
	}

	/* The hook sees the restored verdicts from the first request on. */
	int sret = state_path_init(ctx, zone);
	if (sret != 0) {
		knotd_mod_log(mod, LOG_WARNING, "verdicts not kept across restarts, no state file "
		              "(%s)", zg_strerror(sret));
	}
	ret = zg_digest_key_new(ctx->vs.key);   /* Unless the state file has one. */
	if (ret != 0) {
		knotd_mod_log(mod, LOG_ERR, "no random digest key (%s)", zg_strerror(ret));
		ret = KNOT_ERROR;
		goto fail;
	}
	state_restore(ctx);
	if (ctx->lease != NULL && ctx->vs.lease_token > 0) {
		knotd_mod_stats_store(mod, 0, CTR_LEASE_TOKEN, 0, (uint64_t)ctx->vs.lease_token);
	}
	ret = KNOT_ENOMEM;
	ctx->nchecks = knotd_mod_threads(mod);
	ctx->checks = calloc(ctx->nchecks > 0 ? ctx->nchecks : 1, sizeof(ctx->checks[0]));
	if (ctx->checks == NULL || zg_digest_ctx_new(&ctx->wdctx, ctx->vs.key) != 0) {
		ctx->nchecks = 0;
		goto fail;
	}
	for (unsigned i = 0; i < ctx->nchecks; i++) {
		ctx->checks[i].parsed = knot_pkt_new(NULL, KNOT_WIRE_MAX_PKTSIZE, NULL);
		if (ctx->checks[i].parsed == NULL ||
		    zg_digest_ctx_new(&ctx->checks[i].dctx, ctx->vs.key) != 0) {
			goto fail;
		}
	}

	ret = knotd_mod_hook(mod, KNOTD_STAGE_BEGIN, validate_begin);
	if (ret == KNOT_EOK) {
		ret = knotd_mod_hook(mod, KNOTD_STAGE_END, validate_end);
	}
	if (ret != KNOT_EOK) {
		goto fail;
	}

	knotd_mod_ctx_set(mod, ctx);
	if (pthread_create(&ctx->thread, NULL, worker, ctx) != 0) {
		knotd_mod_ctx_set(mod, NULL);
		ret = KNOT_ENOMEM;
		goto fail;
	}
	ctx->thread_started = true;
	knotd_mod_log(mod, LOG_INFO, "validating transfers from %s, poll interval %u s, "
	              "%u notify targets, P-256 verifier %s%s", ctx->source_name, ctx->poll_sec,
	              ctx->notify_count, ctx->p256_openssl ? "openssl" : "native",
	              ctx->lease != NULL ? ", serials of the signer lease holder only" : "");
	return KNOT_EOK;
fail:
	ctx_free(ctx);
	return ret;
}

static void validate_unload(knotd_mod_t *mod)
{
	validate_ctx_t *ctx = knotd_mod_ctx(mod);
	if (ctx == NULL) {
		return;
	}
	atomic_store(&ctx->cancel, true); /* First: the worker logs no more. */
	if (ctx->thread_started) {
		pthread_mutex_lock(&ctx->lock);
		ctx->stop = true;
		pthread_cond_signal(&ctx->cond);
		pthread_mutex_unlock(&ctx->lock);
		pthread_join(ctx->thread, NULL);
	}
	knotd_mod_ctx_set(mod, NULL);
	ctx_free(ctx);
}

KNOTD_MOD_API(validate, KNOTD_MOD_FLAG_SCOPE_ZONE | KNOTD_MOD_FLAG_OPT_CONF,
              validate_load, validate_unload, validate_conf, validate_conf_check);
