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

#include <knot/module.h>
#include <libknot/rrtype/soa.h>

#include "modules/modalarm.h"
#include "modules/modkey.h"
#include "dns/dnsclient.h"
#include "dns/ctl.h"
#include "core/error.h"
#include "validate/crypto.h"
#include "validate/incr.h"
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
#define MOD_P256_OPENSSL "\x0c""p256-openssl"
#define MOD_P256_CACHE	"\x10""p256-table-cache"

#define C_KEY		"\x03""key"
#define C_ALG		"\x09""algorithm"
#define C_SECRET	"\x06""secret"
#define C_RMT		"\x06""remote"
#define C_RMTS		"\x07""remotes"
#define C_ADDR		"\x07""address"
#define C_NOTIFY	"\x06""notify"
#define C_SERVER	"\x06""server"
#define C_LISTEN	"\x06""listen"
#define C_CONTROL	"\x07""control"
#define C_RUNDIR	"\x06""rundir"
#define C_STORAGE	"\x07""storage"

/*! Verdicts remembered (most recent serials). */
#define VERDICTS	64
/*! Problems of a failed serial written to the log. */
#define LOG_PROBLEMS	10
/*! Seconds between two log lines about refused transfers. */
#define REFUSE_LOG_SEC	10
/*! After a NOTIFY, the source is polled this often (ms) ... */
#define BURST_MS	200
/*! ... this many times. */
#define BURST_POLLS	50
/*! Alarm commands running at once. */
/*! NOTIFY targets kept. */
#define NOTIFY_MAX	16

static const yp_item_t validate_conf[] = {
	{ MOD_SOURCE,   YP_TADDR, YP_VADDR = { 53 } },
	{ MOD_HORIZON,  YP_TINT,  YP_VINT = { 0, UINT32_MAX, 2 * 86400, YP_STIME } },
	{ MOD_ALARM,    YP_TSTR,  YP_VNONE },
	{ MOD_ALARM_TO, YP_TINT,  YP_VINT = { 1, 3600, 30, YP_STIME } },
	{ MOD_POLL,     YP_TINT,  YP_VINT = { 1, 86400, 5, YP_STIME } },
	{ MOD_ALLOW,    YP_TNET,  YP_VNONE, YP_FMULTI },
	{ MOD_KEY,      YP_TREF,  YP_VREF = { C_KEY }, YP_FNONE, { knotd_conf_check_ref } },
	{ MOD_RESIGN,   YP_TBOOL, YP_VNONE },
	{ MOD_STATE_DIR, YP_TSTR, YP_VNONE },
	{ MOD_P256_OPENSSL, YP_TBOOL, YP_VNONE },
	{ MOD_P256_CACHE, YP_TINT, YP_VINT = { 0, ZG_P256_CACHE_MAX, ZG_P256_CACHE_DEFAULT } },
	{ NULL }
};

enum {
	CTR_SERIALS_VALIDATED,
	CTR_SERIALS_FAILED,
	CTR_LAST_SERIAL,
	CTR_LATENCY_MS,
	CTR_XFR_REFUSED,
	CTR_EXPIRY_SECONDS,
	CTR_COUNT
};

static const char *const ctr_names[CTR_COUNT] = {
	[CTR_SERIALS_VALIDATED] = "serials-validated",
	[CTR_SERIALS_FAILED]    = "serials-failed",
	[CTR_LAST_SERIAL]       = "last-validated-serial",
	[CTR_LATENCY_MS]        = "validation-latency-ms",
	[CTR_XFR_REFUSED]       = "transfers-refused",
	[CTR_EXPIRY_SECONDS]    = "earliest-expiry-seconds",
};

/* A verdict entry: bit 32 present, bit 33 valid, low 32 bits the serial. */
#define V_PRESENT	(1ULL << 32)
#define V_VALID		(1ULL << 33)

typedef struct {
	struct sockaddr_storage addr;
	knot_tsig_key_t key;    /*!< name NULL: unsigned. */
} notify_target_t;

/*! A verdict as kept in the state file (see state_write()). */
typedef struct {
	uint32_t serial;
	bool valid;
	bool restored;              /*!< Read from the file, not validated by this load yet. */
	int64_t time;               /*!< Unix time of the verdict. */
	int64_t expiry;             /*!< Valid: earliest signature expiry, INT64_MAX unknown. */
} saved_verdict_t;

/*! The state file's first line (format version 1). */
#define STATE_MAGIC	"zonegate-mod-validate 1"

typedef struct {
	knotd_mod_t *mod;
	char zone_str[KNOT_DNAME_TXT_MAXLEN + 1];
	uint8_t zone[KNOT_DNAME_MAXLEN];

	/* Configuration (read in load, constant afterwards). */
	struct sockaddr_storage source;
	char source_str[80];
	bool source_self;
	uint32_t horizon;
	uint32_t poll_sec;
	zg_alarm_t alarm;          /*!< The alarm command runner. */
	knotd_conf_t allow;         /*!< Configured ranges (count 0: none). */
	bool allow_loopback;        /*!< Default: 127.0.0.1 and ::1. */
	knot_tsig_key_t key;        /*!< name NULL: no key. */
	bool resign;                /*!< Ask this server to re-sign on failure. */
	bool p256_openssl;          /*!< Algorithm 13 on OpenSSL, not the native verifier. */
	unsigned p256_cache;        /*!< p256-table-cache of this zone ... */
	bool p256_cache_held;       /*!< ... counted in p256_cache_users. */
	char ctl_path[512];         /*!< This server's control socket. */
	notify_target_t notify[NOTIFY_MAX];
	unsigned notify_count;

	/* Verdicts, read by the hook without locks. */
	_Atomic uint64_t verdicts[VERDICTS];
	atomic_uint verdict_next;

	/* The state file: verdicts in the order given, oldest first (the worker's,
	 * filled in load before the worker starts). */
	char state_path[PATH_MAX];
	saved_verdict_t saved[VERDICTS];
	unsigned saved_count;
	uint32_t last_valid;        /*!< Last validated serial (have_last_valid). */
	bool have_last_valid;
	char state_err[PATH_MAX + 128];  /*!< Last write failure logged. */
	time_t state_err_time;

	/* Refusal log rate limit. */
	atomic_llong refuse_logged;
	atomic_ullong refuse_quiet;

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
	zg_xfr_diff_t diff;         /*!< Reused IXFR buffer. */
} validate_ctx_t;

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

static void state_note(validate_ctx_t *ctx, uint32_t serial, bool valid);

/* Records the verdict of serial for the hook and in the state file (for a
 * valid one, ctx->earliest_expiry must be that of serial). Worker only. */
static void verdict_put(validate_ctx_t *ctx, uint32_t serial, bool valid)
{
	verdict_set(ctx, serial, valid);
	state_note(ctx, serial, valid);
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
		knotd_mod_log(ctx->mod, LOG_WARNING, "%s", msg);
		snprintf(ctx->state_err, sizeof(ctx->state_err), "%s", msg);
		ctx->state_err_time = now;
	}
}

/* Writes the verdicts to the state file atomically: a temporary file in the
 * same directory, fsync, rename, fsync of the directory. Format (version 1):
 *
 *   zonegate-mod-validate 1
 *   zone ZONE
 *   last-validated SERIAL                       (once a serial has validated)
 *   verdict SERIAL valid TIME EXPIRY            (EXPIRY "-" if unknown)
 *   verdict SERIAL failed TIME -
 *   end COUNT                                   (COUNT verdict lines above)
 */
static int state_write(validate_ctx_t *ctx)
{
	char tmp[sizeof(ctx->state_path) + 8];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", ctx->state_path) >= sizeof(tmp)) {
		return -ENAMETOOLONG;
	}
	int fd = mkstemp(tmp);
	if (fd < 0) {
		return -errno;
	}
	FILE *f = fdopen(fd, "w");
	if (f == NULL) {
		int ret = -errno;
		close(fd);
		unlink(tmp);
		return ret;
	}
	(void)fchmod(fd, 0640);
	fprintf(f, "%s\nzone %s\n", STATE_MAGIC, ctx->zone_str);
	if (ctx->have_last_valid) {
		fprintf(f, "last-validated %u\n", ctx->last_valid);
	}
	for (unsigned i = 0; i < ctx->saved_count; i++) {
		const saved_verdict_t *e = &ctx->saved[i];
		fprintf(f, "verdict %u %s %lld ", e->serial, e->valid ? "valid" : "failed",
		        (long long)e->time);
		if (e->valid && e->expiry != INT64_MAX) {
			fprintf(f, "%lld\n", (long long)e->expiry);
		} else {
			fprintf(f, "-\n");
		}
	}
	fprintf(f, "end %u\n", ctx->saved_count);
	int ret = 0;
	if (fflush(f) != 0 || ferror(f) || fsync(fd) != 0) {
		ret = errno != 0 ? -errno : -EIO;
	}
	if (fclose(f) != 0 && ret == 0) {
		ret = -errno;
	}
	if (ret == 0 && rename(tmp, ctx->state_path) != 0) {
		ret = -errno;
	}
	if (ret != 0) {
		unlink(tmp);
		return ret;
	}
	/* The rename itself durable. */
	char *slash = strrchr(tmp, '/');
	if (slash != NULL) {
		*(slash == tmp ? slash + 1 : slash) = '\0';
		int dfd = open(tmp, O_RDONLY | O_DIRECTORY);
		if (dfd >= 0) {
			(void)fsync(dfd);
			close(dfd);
		}
	}
	return 0;
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
		knotd_mod_log(ctx->mod, LOG_INFO, "verdicts written to %s again", ctx->state_path);
		ctx->state_err[0] = '\0';
	}
}

/* Keeps the verdict of serial (the newest last, VERDICTS at most) and writes
 * the state file; a write failure is logged (rate-limited), nothing else. */
static void state_note(validate_ctx_t *ctx, uint32_t serial, bool valid)
{
	unsigned n = ctx->saved_count;
	for (unsigned i = 0; i < n; i++) {
		if (ctx->saved[i].serial == serial) {
			memmove(&ctx->saved[i], &ctx->saved[i + 1], (n - i - 1) * sizeof(ctx->saved[0]));
			n--;
			break;
		}
	}
	if (n == VERDICTS) {
		memmove(&ctx->saved[0], &ctx->saved[1], (n - 1) * sizeof(ctx->saved[0]));
		n--;
	}
	ctx->saved[n] = (saved_verdict_t){
		.serial = serial,
		.valid = valid,
		.time = time(NULL),
		.expiry = valid ? ctx->earliest_expiry : INT64_MAX,
	};
	ctx->saved_count = n + 1;
	if (valid) {
		ctx->last_valid = serial;
		ctx->have_last_valid = true;
	}
	state_save(ctx);
}

/* Parses an unsigned decimal number not above max. */
static bool parse_num(const char *s, uint64_t max, uint64_t *out)
{
	if (s == NULL || *s < '0' || *s > '9') {
		return false;
	}
	errno = 0;
	char *end = NULL;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max) {
		return false;
	}
	*out = v;
	return true;
}

/* Parses the state file f into saved/count/last (nothing is kept by the
 * caller unless the whole file parses). On error sets *line and *why. */
static int state_parse(validate_ctx_t *ctx, FILE *f, saved_verdict_t *saved, unsigned *count,
                       uint32_t *last, bool *have_last, unsigned *line, const char **why)
{
	char buf[256];
	unsigned n = 0;
	bool ended = false;
	*count = 0;
	*have_last = false;
	*line = 0;
	while (fgets(buf, sizeof(buf), f) != NULL) {
		(*line)++;
		size_t len = strlen(buf);
		if (len == 0 || buf[len - 1] != '\n') {
			*why = "line too long or not terminated";
			return -EINVAL;
		}
		buf[len - 1] = '\0';
		if (ended) {
			*why = "data after the end line";
			return -EINVAL;
		}
		char *save = NULL;
		char *tok[6] = { NULL };
		unsigned ntok = 0;
		for (char *t = strtok_r(buf, " ", &save); t != NULL; t = strtok_r(NULL, " ", &save)) {
			if (ntok == 6) {
				*why = "too many fields";
				return -EINVAL;
			}
			tok[ntok++] = t;
		}
		uint64_t a, b, c;
		if (*line == 1) {
			if (ntok == 2 && strcmp(tok[0], "zonegate-mod-validate") == 0) {
				if (strcmp(tok[1], "1") != 0) {
					*why = "unsupported version";
					return -EINVAL;
				}
				continue;
			}
			*why = "not a mod-validate state file";
			return -EINVAL;
		} else if (*line == 2) {
			if (ntok != 2 || strcmp(tok[0], "zone") != 0) {
				*why = "zone line expected";
				return -EINVAL;
			}
			if (strcasecmp(tok[1], ctx->zone_str) != 0) {
				*why = "state of another zone";
				return -EINVAL;
			}
		} else if (ntok == 2 && strcmp(tok[0], "last-validated") == 0 && *line == 3) {
			if (!parse_num(tok[1], UINT32_MAX, &a)) {
				*why = "bad serial";
				return -EINVAL;
			}
			*last = (uint32_t)a;
			*have_last = true;
		} else if (ntok == 5 && strcmp(tok[0], "verdict") == 0) {
			bool valid = strcmp(tok[2], "valid") == 0;
			if (!valid && strcmp(tok[2], "failed") != 0) {
				*why = "verdict must be valid or failed";
				return -EINVAL;
			}
			if (!parse_num(tok[1], UINT32_MAX, &a) || !parse_num(tok[3], INT64_MAX, &b)) {
				*why = "bad serial or time";
				return -EINVAL;
			}
			c = INT64_MAX;
			if (strcmp(tok[4], "-") != 0 && (!valid || !parse_num(tok[4], INT64_MAX, &c))) {
				*why = "bad expiry";
				return -EINVAL;
			}
			if (n == VERDICTS) {
				*why = "too many verdicts";
				return -EINVAL;
			}
			saved[n++] = (saved_verdict_t){
				.serial = (uint32_t)a, .valid = valid, .restored = true,
				.time = (int64_t)b, .expiry = (int64_t)c,
			};
		} else if (ntok == 2 && strcmp(tok[0], "end") == 0) {
			if (!parse_num(tok[1], VERDICTS, &a) || a != n) {
				*why = "verdict count does not match";
				return -EINVAL;
			}
			ended = true;
		} else {
			*why = "unknown line";
			return -EINVAL;
		}
	}
	if (ferror(f)) {
		return errno != 0 ? -errno : -EIO;
	}
	if (!ended) {
		(*line)++;
		*why = "end line missing (file truncated)";
		return -EINVAL;
	}
	*count = n;
	return 0;
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
			knotd_mod_log(ctx->mod, LOG_DEBUG, "no verdicts to restore (%s does not exist)",
			              ctx->state_path);
		} else {
			knotd_mod_log(ctx->mod, LOG_WARNING, "verdicts not restored, cannot read %s (%s)",
			              ctx->state_path, zg_strerror(-errno));
		}
		return;
	}
	saved_verdict_t saved[VERDICTS];
	unsigned count = 0;
	uint32_t last = 0;
	bool have_last = false;
	unsigned line = 0;
	const char *why = NULL;
	int ret = state_parse(ctx, f, saved, &count, &last, &have_last, &line, &why);
	fclose(f);
	if (ret != 0) {
		knotd_mod_log(ctx->mod, LOG_WARNING, "verdicts not restored, %s line %u: %s, "
		              "file ignored", ctx->state_path, line,
		              why != NULL ? why : zg_strerror(ret));
		return;
	}

	int64_t now = time(NULL);
	const saved_verdict_t *newest = NULL;
	const saved_verdict_t *expired = NULL;
	unsigned nexpired = 0;
	for (unsigned i = 0; i < count; i++) {
		saved_verdict_t *e = &saved[i];
		if (e->valid && e->expiry != INT64_MAX && e->expiry <= now) {
			e->valid = false;
			e->time = now;
			expired = e;
			nexpired++;
		}
		if (e->valid) {
			newest = e;
		}
		verdict_set(ctx, e->serial, e->valid);
	}
	memcpy(ctx->saved, saved, count * sizeof(saved[0]));
	ctx->saved_count = count;
	ctx->last_valid = last;
	ctx->have_last_valid = have_last;
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
		knotd_mod_log(ctx->mod, LOG_INFO, "verdicts restored from %s, serial %u validated "
		              "at %s (earliest signature expiry %s, %u verdicts)", ctx->state_path,
		              newest->serial, t1, t2, count);
	} else {
		knotd_mod_log(ctx->mod, LOG_INFO, "verdicts restored from %s, no valid serial "
		              "(%u verdicts)", ctx->state_path, count);
	}
	if (expired != NULL) {
		zg_time_str(expired->expiry, t2, sizeof(t2));
		knotd_mod_log(ctx->mod, LOG_NOTICE, "serial %u, signatures expired at %s, "
		              "restored as failed (%u restored verdicts so)", expired->serial, t2,
		              nexpired);
	}
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
		knotd_mod_log(ctx->mod, LOG_NOTICE, "serial %u, re-signing requested (zone-sign)", serial);
	} else {
		knotd_mod_log(ctx->mod, LOG_WARNING, "serial %u, re-signing request failed (%s)", serial,
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
		int ret = ZG_ETIMEOUT;
		for (int attempt = 0; attempt < 2 && ret != 0; attempt++) {
			ret = zg_xfr_notify(&t->addr, t->key.name != NULL ? &t->key : NULL, ctx->zone,
			                    serial, ZG_XFR_QUERY_TIMEOUT_MS);
		}
		if (ret == 0) {
			knotd_mod_log(ctx->mod, LOG_INFO, "NOTIFY, outgoing, remote %s, serial %u",
			              addr, serial);
		} else {
			knotd_mod_log(ctx->mod, LOG_WARNING, "NOTIFY, outgoing, remote %s, "
			              "serial %u, failed (%s)", addr, serial, zg_strerror(ret));
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
		knotd_mod_log(ctx->mod, LOG_WARNING, "%s", msg);
		snprintf(ctx->last_fail, sizeof(ctx->last_fail), "%s", msg);
		ctx->last_fail_time = now;
	}
}

static int shadow_update(validate_ctx_t *ctx, bool *changed)
{
	char reason[256] = "";
	*changed = false;
	zg_xfr_peer_t peer = {
		.addr = &ctx->source,
		.key = ctx->key.name != NULL ? &ctx->key : NULL,
		.zone = ctx->zone,
		.cancel = &ctx->cancel,
	};
	zg_zone_t *zone = NULL;
	if (ctx->shadow != NULL) {
		uint32_t from = zg_zone_serial(zg_incr_zone(ctx->shadow), NULL);
		zg_xfr_kind_t kind = ZG_XFR_UPTODATE;
		int ret = zg_xfr_ixfr(&peer, from, &ctx->diff, &zone, &kind, reason, sizeof(reason));
		if (ret != 0) {
			xfr_failed(ctx, "IXFR, incoming, remote %s, serial %u, failed (%s)",
			           ctx->source_str, from, reason[0] != '\0' ? reason : zg_strerror(ret));
			return ret;
		}
		if (kind == ZG_XFR_UPTODATE) {
			return 0;
		}
		if (kind == ZG_XFR_IXFR) {
			ret = zg_incr_apply_diff(ctx->shadow, &ctx->diff);
			if (ret == 0) {
				knotd_mod_log(ctx->mod, LOG_INFO, "IXFR, incoming, remote %s, serial %u -> %u, "
				              "%zu changes", ctx->source_str, ctx->diff.serial_from,
				              ctx->diff.serial_to, ctx->diff.count);
				*changed = true;
				return 0;
			}
			knotd_mod_log(ctx->mod, LOG_WARNING, "IXFR, incoming, remote %s, serial %u -> %u, "
			              "does not apply to the shadow zone (%s), falling back to AXFR",
			              ctx->source_str, ctx->diff.serial_from, ctx->diff.serial_to,
			              zg_strerror(ret));
		} else {
			knotd_mod_log(ctx->mod, LOG_INFO, "IXFR, incoming, remote %s, serial %u, "
			              "answered with the whole zone, serial %u", ctx->source_str, from,
			              zg_zone_serial(zone, NULL));
		}
		zg_incr_free(ctx->shadow);
		ctx->shadow = NULL;
	}

	if (zone == NULL) {
		int ret = zg_xfr_axfr(&peer, &zone, reason, sizeof(reason));
		if (ret != 0) {
			xfr_failed(ctx, "AXFR, incoming, remote %s, failed (%s)", ctx->source_str,
			           reason[0] != '\0' ? reason : zg_strerror(ret));
			return ret;
		}
		knotd_mod_log(ctx->mod, LOG_INFO, "AXFR, incoming, remote %s, serial %u",
		              ctx->source_str, zg_zone_serial(zone, NULL));
	}
	int ret = zg_incr_new(&ctx->shadow, zone);
	if (ret != 0) {
		ctx->shadow = NULL;
		return ret;
	}
	*changed = true;
	return 0;
}

/* Follows the source and validates; returns 0 with *serial set once the
 * shadow's serial has a verdict. */
static int check_serial(validate_ctx_t *ctx, uint32_t *serial)
{
	int64_t t0 = mono_ms();
	bool changed = false;
	int ret = shadow_update(ctx, &changed);
	if (ret != 0) {
		return ret;
	}
	*serial = zg_zone_serial(zg_incr_zone(ctx->shadow), NULL);
	if (!changed && verdict_get(ctx, *serial) >= 0) {
		return 0;
	}
	int64_t t_xfr = mono_ms() - t0;   /* Transfer and application to the shadow. */

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
	ret = zg_incr_verify(ctx->shadow, &opts, &report, &full);
	if (ret == -ECANCELED) {
		knotd_mod_log(ctx->mod, LOG_INFO, "serial %u, validation canceled (module unloaded)",
		              *serial);
	} else if (ret != 0) {
		knotd_mod_log(ctx->mod, LOG_ERR, "serial %u, validation aborted (%s)", *serial,
		              zg_strerror(ret));
	}
	if (ret != 0) {
		zg_report_deinit(&report);
		zg_incr_free(ctx->shadow);
		ctx->shadow = NULL;
		return ret;
	}
	int64_t ms = mono_ms() - t0;
	knotd_mod_stats_store(ctx->mod, 0, CTR_LATENCY_MS, 0, (uint64_t)ms);
	ctx->earliest_expiry = zg_incr_earliest_expiry(ctx->shadow);

	if (report.errors == 0) {
		/* The gate opens at once; the state file is written once the
		 * secondaries have been told (its fsync is not in their way). */
		verdict_set(ctx, *serial, true);
		knotd_mod_stats_incr(ctx->mod, 0, CTR_SERIALS_VALIDATED, 0, 1);
		knotd_mod_stats_store(ctx->mod, 0, CTR_LAST_SERIAL, 0, *serial);
		knotd_mod_log(ctx->mod, LOG_INFO, "serial %u, validated (%s, %zu names checked, "
		              "%llu signatures, %zu warnings, transfer %lld ms, checks %lld ms, "
		              "%lld ms)", *serial,
		              full ? "whole zone" : "incremental", zg_incr_last_checked(ctx->shadow),
		              (unsigned long long)report.stats.signatures, report.warnings,
		              (long long)t_xfr, (long long)(ms - t_xfr), (long long)ms);
		if (report.warnings > 0) {
			char line[1024];
			for (size_t i = 0; i < report.len; i++) {
				zg_report_item_str(&report.items[i], line, sizeof(line));
				knotd_mod_log(ctx->mod, LOG_WARNING, "serial %u, %s", *serial, line);
				if (i + 1 == LOG_PROBLEMS) {
					break;
				}
			}
		}
		ctx->expiry_state = 0;
		notify_all(ctx, *serial);
		state_note(ctx, *serial, true);
	} else {
		verdict_put(ctx, *serial, false);
		knotd_mod_stats_incr(ctx->mod, 0, CTR_SERIALS_FAILED, 0, 1);
		knotd_mod_log(ctx->mod, LOG_ERR, "serial %u, validation failed (%s, %zu errors, "
		              "transfers of it refused)", *serial, full ? "whole zone" : "incremental",
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
			knotd_mod_log(ctx->mod, LOG_ERR, "serial %u, %s", *serial, line);
			logged++;
		}
		char why[1200];
		snprintf(why, sizeof(why), "%zu validation errors, first: %s", report.errors, first);
		alarm_run(ctx, *serial, why);
		resign_request(ctx, *serial);
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
	saved_verdict_t *newest = NULL;
	unsigned n = 0;
	for (unsigned i = 0; i < ctx->saved_count; i++) {
		saved_verdict_t *e = &ctx->saved[i];
		if (e->restored && e->valid && e->expiry != INT64_MAX && e->expiry <= now) {
			e->valid = false;
			e->time = now;
			verdict_set(ctx, e->serial, false);
			newest = e;
			n++;
		}
	}
	if (n == 0) {
		return;
	}
	knotd_mod_stats_incr(ctx->mod, 0, CTR_SERIALS_FAILED, 0, n);
	state_save(ctx);
	char when[32];
	zg_time_str(newest->expiry, when, sizeof(when));
	knotd_mod_log(ctx->mod, LOG_ERR, "serial %u, signatures expired at %s (verdict restored "
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
		verdict_put(ctx, serial, false);
		knotd_mod_stats_incr(ctx->mod, 0, CTR_SERIALS_FAILED, 0, 1);
		knotd_mod_log(ctx->mod, LOG_ERR, "serial %u, signatures expired at %s, "
		              "transfers of it refused", serial, when);
		expired_alarm(ctx, serial, when);
	} else if (left > 0 && ctx->horizon > 0 && left < (int64_t)ctx->horizon &&
	           ctx->expiry_state < 1) {
		ctx->expiry_state = 1;
		knotd_mod_log(ctx->mod, LOG_WARNING, "serial %u, signatures expire within the "
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

static void *worker(void *arg)
{
	validate_ctx_t *ctx = arg;
	bool have_serial = false;
	uint32_t last = 0;
	int burst = BURST_POLLS;   /* Poll fast while the server starts. */
	int last_err = 0;

	while (!stopping(ctx)) {
		uint32_t serial = 0;
		int ret = zg_xfr_soa_serial(&ctx->source, ctx->key.name != NULL ? &ctx->key : NULL,
		                            ctx->zone, ZG_XFR_QUERY_TIMEOUT_MS, &serial);
		if (ret != 0) {
			if (ret != last_err && burst == 0) {
				knotd_mod_log(ctx->mod, LOG_WARNING, "SOA query, remote %s, failed (%s)",
				              ctx->source_str, zg_strerror(ret));
			}
			last_err = burst == 0 ? ret : 0;
		} else {
			if (last_err != 0) {
				knotd_mod_log(ctx->mod, LOG_INFO, "SOA query, remote %s, answered again",
				              ctx->source_str);
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
	zg_xfr_diff_deinit(&ctx->diff);
	return NULL;
}

/* ---- the gate ---- */

static bool is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
		return ntohl(in->sin_addr.s_addr) == INADDR_LOOPBACK;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
		return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
	}
	return false;
}

static bool transfer_allowed(validate_ctx_t *ctx, knotd_qdata_t *qdata)
{
	const struct sockaddr_storage *remote = knotd_qdata_remote_addr(qdata);
	if (remote != NULL) {
		if (ctx->allow.count > 0 && knotd_conf_addr_range_match(&ctx->allow, remote)) {
			return true;
		}
		if (ctx->allow_loopback && is_loopback(remote)) {
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
	long long last = atomic_load(&ctx->refuse_logged);
	if (now - last >= REFUSE_LOG_SEC &&
	    atomic_compare_exchange_strong(&ctx->refuse_logged, &last, now)) {
		char addr[80] = "unknown";
		const struct sockaddr_storage *remote = knotd_qdata_remote_addr(qdata);
		if (remote != NULL) {
			zg_dns_addr_str(remote, addr, sizeof(addr));
		}
		unsigned long long quiet = atomic_exchange(&ctx->refuse_quiet, 0);
		knotd_mod_log(mod, LOG_NOTICE, "%s, outgoing, remote %s, refused (serial %u %s, "
		              "%llu more refused since the last message)",
		              qdata->type == KNOTD_QUERY_TYPE_AXFR ? "AXFR" : "IXFR", addr, serial,
		              verdict == 0 ? "failed validation" : "not validated yet", quiet);
	} else {
		atomic_fetch_add(&ctx->refuse_quiet, 1);
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
	knotd_conf_t src = knotd_conf_check_item(args, MOD_SOURCE);
	if (src.count == 1 && src.single.addr.ss_family != AF_INET &&
	    src.single.addr.ss_family != AF_INET6) {
		args->err_str = "source must be an IP address, optionally with @port";
		return KNOT_EINVAL;
	}
	return KNOT_EOK;
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
	for (size_t i = 0; i < addrs.count && ctx->notify_count < NOTIFY_MAX; i++) {
		notify_target_t *t = &ctx->notify[ctx->notify_count];
		memset(t, 0, sizeof(*t));
		t->addr = addrs.multi[i].addr;
		if (key.count == 1 && zg_modkey_load(ctx->mod, &key.single, &t->key) != KNOT_EOK) {
			knotd_mod_log(ctx->mod, LOG_WARNING, "notify remote key not usable, "
			              "sending unsigned NOTIFY");
		}
		ctx->notify_count++;
	}
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

static void ctx_free(validate_ctx_t *ctx)
{
	if (ctx == NULL) {
		return;
	}
	p256_cache_hold(ctx, false);
	zg_alarm_deinit(&ctx->alarm);
	knotd_conf_free(&ctx->allow);
	knot_tsig_key_deinit(&ctx->key);
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
	zg_xfr_diff_init(&ctx->diff);
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

	knotd_conf_t src = knotd_conf_mod(mod, MOD_SOURCE);
	if (src.count == 1) {
		ctx->source = src.single.addr;
	} else {
		/* This server: its first listen address (loopback for a wildcard). */
		ctx->source_self = true;
		knotd_conf_t listen = knotd_conf(mod, C_SERVER, C_LISTEN, NULL);
		struct sockaddr_storage ss = { 0 };
		if (listen.count > 0) {
			ss = listen.multi[0].addr;
		}
		knotd_conf_free(&listen);
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *in = (struct sockaddr_in *)&ss;
			if (in->sin_addr.s_addr == htonl(INADDR_ANY)) {
				in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			}
		} else if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
			if (IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr)) {
				in6->sin6_addr = in6addr_loopback;
			}
		} else {
			struct sockaddr_in *in = (struct sockaddr_in *)&ss;
			memset(&ss, 0, sizeof(ss));
			in->sin_family = AF_INET;
			in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			in->sin_port = htons(53);
		}
		ctx->source = ss;
	}
	zg_dns_addr_str(&ctx->source, ctx->source_str, sizeof(ctx->source_str));

	ctx->resign = knotd_conf_mod(mod, MOD_RESIGN).single.boolean;
	ctx->p256_openssl = knotd_conf_mod(mod, MOD_P256_OPENSSL).single.boolean ||
	                    !zg_crypto_p256_native();
	ctx->p256_cache = (unsigned)knotd_conf_mod(mod, MOD_P256_CACHE).single.integer;
	p256_cache_hold(ctx, true);
	if (ctx->resign) {
		knotd_conf_t path = knotd_conf(mod, C_CONTROL, C_LISTEN, NULL);
		knotd_conf_t rundir = knotd_conf(mod, C_SERVER, C_RUNDIR, NULL);
		const char *p = path.single.string != NULL ? path.single.string : "knot.sock";
		if (p[0] == '/' || rundir.single.string == NULL) {
			snprintf(ctx->ctl_path, sizeof(ctx->ctl_path), "%s", p);
		} else {
			snprintf(ctx->ctl_path, sizeof(ctx->ctl_path), "%s/%s", rundir.single.string, p);
		}
	}

	ctx->allow = knotd_conf_mod(mod, MOD_ALLOW);
	ctx->allow_loopback = ctx->allow.count == 0 && key.count == 0 && ctx->source_self;

	knotd_conf_t notify = knotd_conf_zone(mod, C_NOTIFY, zone);
	for (size_t i = 0; i < notify.count; i++) {
		notify_add_remote(ctx, &notify.multi[i]);
	}
	knotd_conf_free(&notify);

	for (int i = 0; i < CTR_COUNT; i++) {
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
	state_restore(ctx);

	ret = knotd_mod_hook(mod, KNOTD_STAGE_BEGIN, validate_begin);
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
	              "%u notify targets, P-256 verifier %s", ctx->source_str, ctx->poll_sec,
	              ctx->notify_count, ctx->p256_openssl ? "openssl" : "native");
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
	if (ctx->thread_started) {
		pthread_mutex_lock(&ctx->lock);
		ctx->stop = true;
		atomic_store(&ctx->cancel, true);
		pthread_cond_signal(&ctx->cond);
		pthread_mutex_unlock(&ctx->lock);
		pthread_join(ctx->thread, NULL);
	}
	knotd_mod_ctx_set(mod, NULL);
	ctx_free(ctx);
}

KNOTD_MOD_API(validate, KNOTD_MOD_FLAG_SCOPE_ZONE | KNOTD_MOD_FLAG_OPT_CONF,
              validate_load, validate_unload, validate_conf, validate_conf_check);
