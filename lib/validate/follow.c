/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The follow-and-verify loop (see validate/follow.h): moved here from
 * mod-validate, which keeps the gate (its hooks), its schema, counters and
 * logging, and runs zg_follow_round() on its worker thread.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/format.h"
#include "dns/dnsclient.h"
#include "signer/fence.h"
#include "validate/follow.h"
#include "validate/report.h"
#include "validate/verify.h"
#include "validate/zone.h"

/*! Problems of a failed serial written to the log. */
#define LOG_PROBLEMS	10
/*! After a NOTIFY, the source is polled this often (ms) ... */
#define BURST_MS	200
/*! ... this many times. */
#define BURST_POLLS	50

/* A verdict entry: bit 32 present, bit 33 valid, low 32 bits the serial. */
#define V_PRESENT	(1ULL << 32)
#define V_VALID		(1ULL << 33)

static void logf_(zg_follow_t *f, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void logf_(zg_follow_t *f, int level, const char *fmt, ...)
{
	if (f->ops.log == NULL) {
		return;
	}
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	f->ops.log(f->ops.arg, level, msg);
}

static void fcount(zg_follow_t *f, zg_follow_ctr_t ctr, bool store, uint64_t value)
{
	if (f->ops.count != NULL) {
		f->ops.count(f->ops.arg, ctr, store, value);
	}
}

/* ---- the shadow zone ---- */

void zg_shadow_init(zg_shadow_t *s)
{
	memset(s, 0, sizeof(*s));
	zg_diff_init(&s->diff);
}

void zg_shadow_deinit(zg_shadow_t *s)
{
	zg_incr_free(s->shadow);
	s->shadow = NULL;
	zg_diff_deinit(&s->diff);
}

int zg_shadow_new(zg_incr_t **out, zg_zone_t *zone, zg_digest_ctx_t *dctx)
{
	int ret = zg_incr_new(out, zone);
	if (ret == 0 && dctx != NULL) {
		ret = zg_incr_digest_start(*out, dctx);
	}
	if (ret != 0) {
		zg_incr_free(*out);
		*out = NULL;
	}
	return ret;
}

int zg_shadow_update(zg_shadow_t *s, zg_xfr_peer_t *peer, const zg_xfr_limits_t *limits,
                     bool *changed, zg_shadow_fail_t *fail, zg_shadow_note_t note, void *arg)
{
	*changed = false;
	memset(fail, 0, sizeof(*fail));
	size_t rrs = 0;
	if (s->shadow != NULL) {
		zg_zone_counts(zg_incr_zone(s->shadow), NULL, NULL, &rrs);
	}
	peer->limits = zg_xfr_limits_resolve(limits, rrs);
	zg_zone_t *zone = NULL;
	if (s->shadow != NULL) {
		uint32_t from = zg_zone_serial(zg_incr_zone(s->shadow), NULL);
		zg_xfr_kind_t kind = ZG_XFR_UPTODATE;
		int ret = zg_xfr_ixfr(peer, from, &s->diff, &zone, &kind, fail->reason,
		                      sizeof(fail->reason));
		if (ret != 0) {
			fail->ixfr = true;
			fail->from = from;
			return ret;
		}
		if (kind == ZG_XFR_UPTODATE) {
			return 0;
		}
		if (kind == ZG_XFR_IXFR) {
			ret = zg_incr_apply_diff(s->shadow, &s->diff);
			if (ret == 0) {
				note(arg, ZG_SHADOW_IXFR, &s->diff, from, s->diff.serial_to, 0);
				*changed = true;
				return 0;
			}
			note(arg, ZG_SHADOW_IXFR_NOAPPLY, &s->diff, from, s->diff.serial_to, ret);
		} else {
			note(arg, ZG_SHADOW_IXFR_FULL, &s->diff, from, zg_zone_serial(zone, NULL), 0);
		}
		zg_incr_free(s->shadow);
		s->shadow = NULL;
	}
	if (zone == NULL) {
		fail->reason[0] = '\0';
		int ret = zg_xfr_axfr(peer, &zone, fail->reason, sizeof(fail->reason));
		if (ret != 0) {
			return ret;
		}
		note(arg, ZG_SHADOW_AXFR, NULL, 0, zg_zone_serial(zone, NULL), 0);
	}
	int ret = zg_shadow_new(&s->shadow, zone, s->dctx);
	if (ret != 0) {
		fail->shadow = true;
		return ret;
	}
	*changed = true;
	return 0;
}

/* ---- the follower ---- */

void zg_follow_init(zg_follow_t *f)
{
	f->earliest_expiry = INT64_MAX;
	f->refused_src = -1;
	f->burst = BURST_POLLS;   /* Poll fast while the server starts. */
	zg_shadow_init(&f->sh);
	zg_xfr_self_init(&f->self);
	pthread_mutex_init(&f->dlock, NULL);
}

void zg_follow_deinit(zg_follow_t *f)
{
	zg_shadow_deinit(&f->sh);
	zg_digest_ctx_free(f->sh.dctx);
	f->sh.dctx = NULL;
	zg_xfr_self_deinit(&f->self);
	zg_lease_free(f->lease);
	f->lease = NULL;
	free(f->signer_map);
	f->signer_map = NULL;
	pthread_mutex_destroy(&f->dlock);
	knot_tsig_key_deinit(&f->key);
	knot_tsig_key_deinit(&f->source_key);
	for (unsigned i = 0; i < f->notify_count; i++) {
		knot_tsig_key_deinit(&f->notify[i].key);
	}
}

static void state_restore(zg_follow_t *f);

int zg_follow_restore(zg_follow_t *f)
{
	state_restore(f);
	if (f->lease != NULL && f->vs.lease_token > 0) {
		fcount(f, ZG_FOLLOW_CTR_LEASE_TOKEN, true, (uint64_t)f->vs.lease_token);
	}
	return zg_digest_ctx_new(&f->sh.dctx, f->vs.key);
}

/* ---- verdicts ---- */

static int verdict_get(zg_follow_t *f, uint32_t serial)
{
	for (unsigned i = 0; i < ZG_VERDICTS_MAX; i++) {
		uint64_t v = atomic_load_explicit(&f->verdicts[i], memory_order_acquire);
		if ((v & V_PRESENT) && (uint32_t)v == serial) {
			return (v & V_VALID) ? 1 : 0;
		}
	}
	return -1;
}

/* Records the verdict of serial for the hook only. */
static void verdict_set(zg_follow_t *f, uint32_t serial, bool valid)
{
	uint64_t v = V_PRESENT | (valid ? V_VALID : 0) | serial;
	for (unsigned i = 0; i < ZG_VERDICTS_MAX; i++) {
		uint64_t old = atomic_load(&f->verdicts[i]);
		if ((old & V_PRESENT) && (uint32_t)old == serial) {
			atomic_store_explicit(&f->verdicts[i], v, memory_order_release);
			return;
		}
	}
	unsigned i = atomic_fetch_add(&f->verdict_next, 1) % ZG_VERDICTS_MAX;
	atomic_store_explicit(&f->verdicts[i], v, memory_order_release);
}

static void state_record(zg_follow_t *f, uint32_t serial, bool valid);
static void state_save(zg_follow_t *f);

/* Records the verdict of serial with the digest of its content (if
 * f->have_digest), for the hook and in the state file (for a valid one,
 * f->earliest_expiry must be that of serial). Worker only. */
static void verdict_put(zg_follow_t *f, uint32_t serial, bool valid)
{
	state_record(f, serial, valid);
	verdict_set(f, serial, valid);
	state_save(f);
}

/* The digest of the content of a verdict of serial (valid only: a valid
 * one). Any thread. */
static bool verdict_digest(zg_follow_t *f, uint32_t serial, bool valid_only,
                           zg_digest_t *out)
{
	pthread_mutex_lock(&f->dlock);
	bool found = zg_verdicts_digest(&f->vs, serial, valid_only, out);
	pthread_mutex_unlock(&f->dlock);
	return found;
}

/* ---- state file ---- */

/* Logs a failure to write the state file unless the same one was logged within a minute. */
static void state_failed(zg_follow_t *f, int err)
{
	char msg[sizeof(f->state_err)];
	snprintf(msg, sizeof(msg), "failed to write verdicts to %s (%s)", f->state_path,
	         zg_strerror(err));
	time_t now = time(NULL);
	if (strcmp(msg, f->state_err) != 0 || now - f->state_err_time >= 60) {
		logf_(f, LOG_WARNING, "%s", msg);
		snprintf(f->state_err, sizeof(f->state_err), "%s", msg);
		f->state_err_time = now;
	}
}

/* Writes the verdicts to the state file (see validate/verdicts.h). Worker
 * only: the worker is the only writer of f->vs, so it reads it unlocked. */
static int state_write(zg_follow_t *f)
{
	return zg_verdicts_write(&f->vs, f->zone_str, f->state_path);
}

/* Writes the state file (if there is one); a failure is logged (rate-limited),
 * the first success after failures too, nothing else. */
static void state_save(zg_follow_t *f)
{
	if (f->state_path[0] == '\0') {
		return;
	}
	int ret = state_write(f);
	if (ret != 0) {
		state_failed(f, ret);
	} else if (f->state_err[0] != '\0') {
		logf_(f, LOG_INFO, "verdicts written to %s again", f->state_path);
		f->state_err[0] = '\0';
	}
}

/* Keeps the verdict of serial (the newest last, ZG_VERDICTS_MAX at most)
 * with the digest of its content (f->have_digest), for the state file. */
static void state_record(zg_follow_t *f, uint32_t serial, bool valid)
{
	pthread_mutex_lock(&f->dlock);
	zg_verdicts_record(&f->vs, serial, valid, time(NULL), f->earliest_expiry,
	                   f->have_digest ? &f->digest : NULL);
	pthread_mutex_unlock(&f->dlock);
}

/* Restores the verdicts of the state file (in load, before the hook can run):
 * a valid verdict whose signatures have expired since counts as failed. A
 * missing file is no verdict; an unreadable or corrupt one is ignored whole
 * with a warning. */
static void state_restore(zg_follow_t *f)
{
	if (f->state_path[0] == '\0') {
		return;
	}
	FILE *fp = fopen(f->state_path, "r");
	if (fp == NULL) {
		if (errno == ENOENT) {
			logf_(f, LOG_DEBUG, "no verdicts to restore (%s does not exist)",
			     f->state_path);
		} else {
			logf_(f, LOG_WARNING, "verdicts not restored, cannot read %s (%s)",
			     f->state_path, zg_strerror(-errno));
		}
		return;
	}
	zg_verdicts_t *st = calloc(1, sizeof(*st));
	if (st == NULL) {
		fclose(fp);
		return;
	}
	unsigned line = 0;
	const char *why = NULL;
	int ret = zg_verdicts_parse(fp, f->zone_str, st, &line, &why);
	fclose(fp);
	if (ret != 0) {
		logf_(f, LOG_WARNING, "verdicts not restored, %s line %u: %s, "
		     "file ignored", f->state_path, line,
		     why != NULL ? why : zg_strerror(ret));
		free(st);
		return;
	}
	zg_verdict_t *saved = st->v;
	unsigned count = st->count;
	uint32_t last = st->last_valid;
	bool have_last = st->have_last_valid;
	if (!st->have_key) {
		memcpy(st->key, f->vs.key, sizeof(st->key));
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
		verdict_set(f, e->serial, e->valid);
	}
	f->vs = *st;
	if (have_last) {
		fcount(f, ZG_FOLLOW_CTR_LAST_SERIAL, true, last);
	}

	char t1[32], t2[32];
	if (newest != NULL) {
		zg_time_str(newest->time, t1, sizeof(t1));
		if (newest->expiry != INT64_MAX) {
			zg_time_str(newest->expiry, t2, sizeof(t2));
		} else {
			snprintf(t2, sizeof(t2), "unknown");
		}
		logf_(f, LOG_INFO, "verdicts restored from %s, serial %u validated "
		     "at %s (earliest signature expiry %s, %u verdicts)", f->state_path,
		     newest->serial, t1, t2, count);
	} else {
		logf_(f, LOG_INFO, "verdicts restored from %s, no valid serial "
		     "(%u verdicts)", f->state_path, count);
	}
	if (expired != NULL) {
		zg_time_str(expired->expiry, t2, sizeof(t2));
		logf_(f, LOG_NOTICE, "serial %u, signatures expired at %s, "
		     "restored as failed (%u restored verdicts so)", expired->serial, t2,
		     nexpired);
	}
	if (nodigest > 0) {
		logf_(f, LOG_NOTICE, "%u valid verdicts restored without the digest "
		     "of their content (state file format %u), transfers wait until the "
		     "served serial validates again", nodigest, st->version);
	}
	free(st);
}

/* ---- alarm, re-sign request ---- */

/* Starts 'alarm ZONE SERIAL REASON' without waiting for it. */
static void alarm_run(zg_follow_t *f, uint32_t serial, const char *reason)
{
	if (f->ops.alarm != NULL) {
		f->ops.alarm(f->ops.arg, serial, reason);
	}
}

static void resign_request(zg_follow_t *f, uint32_t serial)
{
	if (f->ops.resign != NULL) {
		f->ops.resign(f->ops.arg, serial);
	}
}

/* ---- worker ---- */

static void notify_all(zg_follow_t *f, uint32_t serial)
{
	for (unsigned i = 0; i < f->notify_count; i++) {
		zg_follow_notify_t *t = &f->notify[i];
		char addr[80];
		zg_dns_addr_str(&t->addr, addr, sizeof(addr));
		char reason[160] = "";
		int ret = ZG_ETIMEOUT;
		for (int attempt = 0; attempt < 2 && ret != 0; attempt++) {
			ret = zg_xfr_notify(&t->addr, t->via.ss_family != AF_UNSPEC ? &t->via : NULL,
			                    t->key.name != NULL ? &t->key : NULL, f->zone,
			                    serial, ZG_XFR_QUERY_TIMEOUT_MS, reason, sizeof(reason));
		}
		if (ret == 0) {
			logf_(f, LOG_INFO, "NOTIFY, outgoing, remote %s, serial %u",
			     addr, serial);
		} else {
			logf_(f, LOG_WARNING, "NOTIFY, outgoing, remote %s, "
			     "serial %u, failed (%s)", addr, serial,
			     reason[0] != '\0' ? reason : zg_strerror(ret));
		}
	}
}

/* Logs a transfer failure unless the same one was logged within a minute. */
static void xfr_failed(zg_follow_t *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void xfr_failed(zg_follow_t *f, const char *fmt, ...)
{
	char msg[sizeof(f->last_fail)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	time_t now = time(NULL);
	if (strcmp(msg, f->last_fail) != 0 || now - f->last_fail_time >= 60) {
		logf_(f, LOG_WARNING, "%s", msg);
		snprintf(f->last_fail, sizeof(f->last_fail), "%s", msg);
		f->last_fail_time = now;
	}
}

/* When this server refuses the module's own transfer, nothing can ever
 * validate: say what to change. */
static const char *self_refused_hint(zg_follow_t *f, int ret)
{
	if (!f->source_self || ret != ZG_EREFUSED || f->xstats.local.ss_family == 0) {
		return "";
	}
	char addr[80];
	zg_dns_addr_str(&f->xstats.local, addr, sizeof(addr));
	char *at = strrchr(addr, '@');
	if (at != NULL) {
		*at = '\0';
	}
	snprintf(f->hint, sizeof(f->hint), ", this server refuses the module's own "
	         "transfer: the zone's acl must allow transfers from %s", addr);
	return f->hint;
}

/* The local end of the module's connections to this server: its address
 * with any port. */
static void self_via(const zg_follow_t *f, struct sockaddr_storage *out)
{
	*out = f->self_addr;
	if (out->ss_family == AF_INET) {
		((struct sockaddr_in *)out)->sin_port = 0;
	} else if (out->ss_family == AF_INET6) {
		((struct sockaddr_in6 *)out)->sin6_port = 0;
	}
}

void zg_follow_source_self(zg_follow_t *f)
{
	f->source_self = true;
	f->sources[0].addr = f->self_addr;
	self_via(f, &f->sources[0].via);
	f->source_count = 1;
	zg_dns_addr_str(&f->self_addr, f->source_name, sizeof(f->source_name));
	zg_dns_addr_str(&f->self_addr, f->source_str, sizeof(f->source_str));
}

void zg_follow_source_add(void *arg, const struct sockaddr_storage *addr,
                          const struct sockaddr_storage *via)
{
	zg_follow_t *f = arg;
	if (f->source_count < ZG_FOLLOW_SOURCES) {
		f->sources[f->source_count++] = (zg_follow_addr_t){ .addr = *addr, .via = *via };
	}
}

void zg_follow_notify_add(void *arg, const struct sockaddr_storage *addr,
                          const struct sockaddr_storage *via)
{
	zg_follow_t *f = arg;
	if (f->notify_count < ZG_FOLLOW_NOTIFY) {
		f->notify[f->notify_count++] = (zg_follow_notify_t){ .addr = *addr, .via = *via };
	}
}

void zg_follow_source_describe(zg_follow_t *f, const char *text)
{
	if (f->source_count == 0) {
		if (zg_dns_addr_parse(text, 53, &f->sources[0].addr) != 0) {
			snprintf(f->source_name, sizeof(f->source_name), "%s", text);
			return;
		}
		f->source_count = 1;
		zg_dns_addr_str(&f->sources[0].addr, f->source_name, sizeof(f->source_name));
		zg_dns_addr_str(&f->sources[0].addr, f->source_str, sizeof(f->source_str));
		return;
	}
	int n = snprintf(f->source_name, sizeof(f->source_name), "%s (", text);
	for (unsigned i = 0; i < f->source_count; i++) {
		char a[80];
		zg_dns_addr_str(&f->sources[i].addr, a, sizeof(a));
		if (n > 0 && (size_t)n < sizeof(f->source_name)) {
			n += snprintf(f->source_name + n, sizeof(f->source_name) - n, "%s%s",
			              i > 0 ? ", " : "", a);
		}
	}
	if (n > 0 && (size_t)n < sizeof(f->source_name)) {
		snprintf(f->source_name + n, sizeof(f->source_name) - n, ")");
	}
	zg_dns_addr_str(&f->sources[0].addr, f->source_str, sizeof(f->source_str));
}

int zg_follow_signers_set(zg_follow_t *f, const char *const *items, size_t n)
{
	n = n < ZG_FOLLOW_SIGNERS ? n : ZG_FOLLOW_SIGNERS;
	char (*map)[320] = calloc(n > 0 ? n : 1, sizeof(map[0]));
	if (map == NULL) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(map[i], sizeof(map[i]), "%s", items[i]);
	}
	free(f->signer_map);
	f->signer_map = map;
	f->signer_count = n;
	return 0;
}

/* The key of the module's queries and transfers to the source: the source
 * remote's own key, else the module's key, else none. */
static const knot_tsig_key_t *source_key(const zg_follow_t *f)
{
	if (f->source_key.name != NULL) {
		return &f->source_key;
	}
	return f->key.name != NULL ? &f->key : NULL;
}

/* Asks the source's addresses for the zone's serial, in order, as knotd asks
 * a remote's addresses; the first that answers is the one transferred from
 * (logged when it changes). On failure soa_reason says why, per address. */
static int source_soa(zg_follow_t *f, uint32_t *serial)
{
	int ret = ZG_ECONNECT;
	size_t len = 0;
	f->soa_reason[0] = '\0';
	if (f->source_count == 0) {
		snprintf(f->soa_reason, sizeof(f->soa_reason), "no remote of that id "
		         "and not an IP address, nothing is validated");
		return ZG_EINPUT;
	}
	for (unsigned i = 0; i < f->source_count; i++) {
		const zg_follow_addr_t *s = &f->sources[i];
		ret = zg_xfr_soa_serial_from(&s->addr, s->via.ss_family != AF_UNSPEC ? &s->via : NULL,
		                             source_key(f), f->zone, ZG_XFR_QUERY_TIMEOUT_MS,
		                             serial);
		char addr[80];
		zg_dns_addr_str(&s->addr, addr, sizeof(addr));
		if (ret == 0) {
			if (i != f->source_cur) {
				if (len > 0) {
					logf_(f, LOG_NOTICE, "SOA query, remote %s, using %s (%s)",
					     f->source_name, addr, f->soa_reason);
				} else {
					logf_(f, LOG_NOTICE, "SOA query, remote %s, using %s",
					     f->source_name, addr);
				}
				f->source_cur = i;
				snprintf(f->source_str, sizeof(f->source_str), "%s", addr);
			}
			return 0;
		}
		if (len < sizeof(f->soa_reason)) {
			int n = f->source_count == 1 ?
			        snprintf(f->soa_reason, sizeof(f->soa_reason), "%s", zg_strerror(ret)) :
			        snprintf(f->soa_reason + len, sizeof(f->soa_reason) - len,
			                 "%s%s failed: %s", len > 0 ? "; " : "", addr, zg_strerror(ret));
			len += n > 0 ? (size_t)n : 0;
		}
	}
	return ret;
}

/* ---- downstream fencing (lease) ---- */

/* Logs why no serial is accepted now, once per reason ("" when fine again). */
static void fence_state(zg_follow_t *f, int level, const char *why)
{
	if (strcmp(why, f->fence_state) == 0) {
		return;
	}
	if (why[0] != '\0') {
		logf_(f, level, "no serial accepted, %s, serving the last validated serial", why);
	} else {
		logf_(f, LOG_INFO, "signer lease readable, held by %s, token %lld",
		     f->lease_info.holder, (long long)f->lease_info.token);
	}
	snprintf(f->fence_state, sizeof(f->fence_state), "%s", why);
}

/* The address of the lease's holder (signer items, else its name). */
static bool fence_holder(const zg_follow_t *f, const zg_lease_info_t *li,
                         struct sockaddr_storage *addr)
{
	const char *map[ZG_FOLLOW_SIGNERS];
	for (size_t i = 0; i < f->signer_count; i++) {
		map[i] = f->signer_map[i];
	}
	return li->exists && zg_fence_holder_addr(map, f->signer_count, li->holder, addr) == 0;
}

/* The decision on serial from \a from, under lease \a li. */
static zg_fence_t fence_decide(zg_follow_t *f, const zg_lease_info_t *li, uint32_t serial,
                               const struct sockaddr_storage *from, bool *new_token,
                               char *why, size_t why_len)
{
	struct sockaddr_storage haddr;
	bool known = fence_holder(f, li, &haddr);
	zg_fence_in_t in = {
		.lease = li,
		.holder_addr = known ? &haddr : NULL,
		.from = from,
		.last_token = f->vs.lease_token,
		.serial = serial,
		.have_last_serial = f->vs.have_last_valid,
		.last_serial = f->vs.last_valid,
	};
	zg_fence_t d = zg_fence_decide(&in, new_token);
	zg_fence_reason(d, &in, why, why_len);
	return d;
}

/* A refused serial: log line, counter, alarm. */
static void fence_refused(zg_follow_t *f, uint32_t serial, const char *from,
                          const char *why)
{
	logf_(f, LOG_WARNING, "refused serial %u from %s: %s", serial, from, why);
	fcount(f, ZG_FOLLOW_CTR_SERIALS_FENCED, false, 1);
	char reason[600];
	snprintf(reason, sizeof(reason), "refused serial %u from %s: %s", serial, from, why);
	alarm_run(f, serial, reason);
}

/* Reads the lease into f->lease_info; a failure is counted and logged. */
static int fence_read(zg_follow_t *f, zg_lease_info_t *li)
{
	char err[256] = "";
	int ret = zg_lease_read(f->lease, f->zone_str, li, err, sizeof(err));
	if (ret != 0) {
		fcount(f, ZG_FOLLOW_CTR_LEASE_ERRORS, false, 1);
		char why[400];
		snprintf(why, sizeof(why), "signer lease not readable (%s)",
		         err[0] != '\0' ? err : zg_strerror(ret));
		fence_state(f, LOG_ERR, why);
	}
	return ret;
}

/* With a lease, instead of source_soa(): reads the lease, asks every
 * address of the source for its serial, reports a serial of another
 * address than the holder's that is above the holder's (or above the last
 * validated one) as refused, and sets *serial to the holder's (the source
 * transferred from). ZG_EFENCED: nothing to transfer now (logged here). */
static int fence_soa(zg_follow_t *f, uint32_t *serial)
{
	f->soa_reason[0] = '\0';
	zg_lease_info_t li;
	if (fence_read(f, &li) != 0) {
		return ZG_EFENCED;
	}
	f->lease_info = li;

	/* The holder's address among the source's. */
	int hidx = -1;
	bool nt = false;
	char why[400];
	struct sockaddr_storage haddr;
	if (li.remaining_ms > 0 && fence_holder(f, &li, &haddr)) {
		for (unsigned i = 0; i < f->source_count && hidx < 0; i++) {
			if (zg_fence_addr_equal(&f->sources[i].addr, &haddr)) {
				hidx = (int)i;
			}
		}
	}
	uint32_t hserial = 0;
	int hret = ZG_EFENCED;
	if (hidx >= 0) {
		const zg_follow_addr_t *s = &f->sources[hidx];
		hret = zg_xfr_soa_serial_from(&s->addr, s->via.ss_family != AF_UNSPEC ? &s->via : NULL,
		                              source_key(f), f->zone, ZG_XFR_QUERY_TIMEOUT_MS,
		                              &hserial);
		if (hret != 0) {
			char addr[80];
			snprintf(f->soa_reason, sizeof(f->soa_reason), "lease holder %s at %s: %s",
			         li.holder, zg_dns_addr_str(&s->addr, addr, sizeof(addr)),
			         zg_strerror(hret));
		}
	} else {
		fence_decide(f, &li, 0, &f->sources[0].addr, &nt, why, sizeof(why));
		char state[512];
		snprintf(state, sizeof(state), "%s%s", why, li.exists && li.remaining_ms > 0 ?
		         ", not an address of the source" : "");
		fence_state(f, LOG_WARNING, state);
	}

	/* Every other address: a serial above the holder's is refused. */
	for (unsigned i = 0; i < f->source_count; i++) {
		if ((int)i == hidx) {
			continue;
		}
		const zg_follow_addr_t *s = &f->sources[i];
		uint32_t other = 0;
		if (zg_xfr_soa_serial_from(&s->addr, s->via.ss_family != AF_UNSPEC ? &s->via : NULL,
		                           source_key(f), f->zone, ZG_XFR_QUERY_TIMEOUT_MS,
		                           &other) != 0) {
			continue;
		}
		bool above = hret == 0 ? other != hserial && (uint32_t)(other - hserial) < 0x80000000U :
		             f->vs.have_last_valid ?
		             other != f->vs.last_valid &&
		             (uint32_t)(other - f->vs.last_valid) < 0x80000000U : true;
		if (!above || (f->other_refused[i] && f->other_serial[i] == other)) {
			continue;
		}
		/* The lease as read now: it may have passed to that address since
		 * (then the next poll transfers from it). */
		zg_lease_info_t now;
		if (fence_read(f, &now) != 0 ||
		    fence_decide(f, &now, other, &s->addr, &nt, why, sizeof(why)) !=
		    (now.remaining_ms > 0 ? ZG_FENCE_NOT_HOLDER : ZG_FENCE_EXPIRED)) {
			continue;
		}
		f->other_refused[i] = true;
		f->other_serial[i] = other;
		char addr[80];
		fence_refused(f, other, zg_dns_addr_str(&s->addr, addr, sizeof(addr)), why);
	}
	if (hidx < 0) {
		return ZG_EFENCED;
	}
	if (hret != 0) {
		return hret;
	}
	fence_state(f, LOG_INFO, "");
	if ((unsigned)hidx != f->source_cur) {
		f->source_cur = (unsigned)hidx;
		zg_dns_addr_str(&f->sources[hidx].addr, f->source_str, sizeof(f->source_str));
		logf_(f, LOG_NOTICE, "SOA query, remote %s, using %s, signer lease held by %s, "
		     "token %lld", f->source_name, f->source_str, li.holder, (long long)li.token);
	}
	*serial = hserial;
	if (f->refused_src == hidx && f->refused_token == li.token &&
	    f->refused_serial == hserial) {
		return ZG_EFENCED;   /* Refused already: not transferred again. */
	}
	return 0;
}

/* Whether serial, transferred from \a from, may be accepted: under the
 * lease read last, or (reread) under the lease as read now, right before
 * the gate opens for it; then a new token is recorded (state file).
 * ZG_EFENCED when refused (logged, counted, alarmed once). */
static int fence_check(zg_follow_t *f, uint32_t serial, const struct sockaddr_storage *from,
                       bool reread)
{
	zg_lease_info_t li = f->lease_info;
	if (reread && fence_read(f, &li) != 0) {
		logf_(f, LOG_ERR, "serial %u, validated, not accepted: signer lease not readable",
		     serial);
		return ZG_EFENCED;
	}
	bool nt = false;
	char why[400];
	zg_fence_t d = fence_decide(f, &li, serial, from, &nt, why, sizeof(why));
	int src = -1;
	for (unsigned i = 0; i < f->source_count; i++) {
		if (zg_fence_addr_equal(&f->sources[i].addr, from)) {
			src = (int)i;
		}
	}
	if (d != ZG_FENCE_ACCEPT) {
		if (f->refused_src != src || f->refused_token != li.token ||
		    f->refused_serial != serial) {
			char addr[80];
			fence_refused(f, serial, zg_dns_addr_str(from, addr, sizeof(addr)), why);
			f->refused_src = src;
			f->refused_token = li.token;
			f->refused_serial = serial;
		}
		return ZG_EFENCED;
	}
	if (reread && nt) {
		pthread_mutex_lock(&f->dlock);
		f->vs.lease_token = li.token;
		pthread_mutex_unlock(&f->dlock);
		fcount(f, ZG_FOLLOW_CTR_LEASE_TOKEN, true, (uint64_t)li.token);
		logf_(f, LOG_NOTICE, "serial %u, signer lease token %lld of %s accepted",
		     serial, (long long)li.token, li.holder);
	}
	return 0;
}

/* Logs what zg_shadow_update() did. */
static void shadow_note(void *arg, zg_shadow_event_t ev, const zg_diff_t *diff, uint32_t from,
                        uint32_t serial, int err)
{
	zg_follow_t *f = arg;
	switch (ev) {
	case ZG_SHADOW_IXFR:
		logf_(f, LOG_INFO, "IXFR, incoming, remote %s, serial %u -> %u, %zu changes",
		     f->source_str, diff->serial_from, diff->serial_to, diff->count);
		break;
	case ZG_SHADOW_IXFR_NOAPPLY:
		logf_(f, LOG_WARNING, "IXFR, incoming, remote %s, serial %u -> %u, "
		     "does not apply to the shadow zone (%s), falling back to AXFR",
		     f->source_str, diff->serial_from, diff->serial_to, zg_strerror(err));
		break;
	case ZG_SHADOW_IXFR_FULL:
		logf_(f, LOG_INFO, "IXFR, incoming, remote %s, serial %u, "
		     "answered with the whole zone, serial %u", f->source_str, from, serial);
		break;
	case ZG_SHADOW_AXFR:
		logf_(f, LOG_INFO, "AXFR, incoming, remote %s, serial %u", f->source_str, serial);
		break;
	}
	if (f->ops.note != NULL) {
		f->ops.note(f->ops.arg, ev, diff, from, serial, err);
	}
}

/* Brings the shadow zone to the source's current serial (zg_shadow_update()):
 * a failure leaves its reason in f->xfr_reason; one not stopped by a limit
 * is logged. */
static int shadow_update(zg_follow_t *f, bool *changed)
{
	const zg_follow_addr_t *src = &f->sources[f->source_cur];
	zg_xfr_peer_t peer = {
		.addr = &src->addr,
		.via = src->via.ss_family != AF_UNSPEC ? &src->via : NULL,
		.key = source_key(f),
		.zone = f->zone,
		.cancel = &f->cancel,
		.stats = &f->xstats,
		.self = f->source_self ? &f->self : NULL,
	};
	zg_shadow_fail_t fail;
	int ret = zg_shadow_update(&f->sh, &peer, &f->limits, changed, &fail, shadow_note, f);
	if (ret == 0) {
		return ret;
	}
	const char *why = fail.reason[0] != '\0' ? fail.reason : zg_strerror(ret);
	if (fail.shadow) {
		snprintf(f->xfr_reason, sizeof(f->xfr_reason), "shadow zone: %s", zg_strerror(ret));
		return ret;
	}
	if (fail.ixfr) {
		snprintf(f->xfr_reason, sizeof(f->xfr_reason), "IXFR from serial %u: %s",
		         fail.from, why);
	} else {
		snprintf(f->xfr_reason, sizeof(f->xfr_reason), "AXFR: %s", why);
	}
	if (ret == ZG_ETOOBIG) {
		/* Logged with the verdict (check_serial()). */
	} else if (fail.ixfr) {
		xfr_failed(f, "IXFR, incoming, remote %s, serial %u, failed (%s)%s",
		           f->source_str, fail.from,
		           fail.reason[0] != '\0' ? fail.reason : zg_strerror(ret),
		           self_refused_hint(f, ret));
	} else {
		xfr_failed(f, "AXFR, incoming, remote %s, failed (%s)%s", f->source_str,
		           fail.reason[0] != '\0' ? fail.reason : zg_strerror(ret),
		           self_refused_hint(f, ret));
	}
	return ret;
}

static int judge(zg_follow_t *f, zg_incr_t *in, uint32_t serial, int64_t t0,
                 int64_t t_xfr, const struct sockaddr_storage *from);

/* Follows the source and validates; returns 0 with *serial set once the
 * shadow's serial has a verdict. What it did goes to res. */
static int check_serial(zg_follow_t *f, uint32_t *serial, zg_follow_result_t *res)
{
	int64_t t0 = zg_clock_ms();
	bool changed = false;
	int ret = shadow_update(f, &changed);
	if (ret == ZG_ETOOBIG && f->xstats.have_serial) {
		/* A transfer over a limit: its serial fails like an invalid one, and
		 * is not transferred again until the source announces another. */
		*serial = f->xstats.serial;
		if (verdict_get(f, *serial) != 0) {
			f->have_digest = false;   /* The content never arrived whole. */
			verdict_put(f, *serial, false);
			fcount(f, ZG_FOLLOW_CTR_SERIALS_FAILED, false, 1);
			logf_(f, LOG_ERR, "serial %u, transfer from %s stopped by a limit "
			     "(%s), transfers of it refused", *serial, f->source_str,
			     f->xfr_reason);
			char why[400];
			snprintf(why, sizeof(why), "transfer stopped by a limit, %s", f->xfr_reason);
			alarm_run(f, *serial, why);
		}
		res->outcome = ZG_FOLLOW_VERDICT;
		res->serial = *serial;
		res->limit = true;
		if (f->ops.verdict != NULL) {
			zg_follow_verdict_t v = {
				.serial = *serial, .limit = f->xfr_reason, .now = (int64_t)time(NULL),
				.earliest_expiry = INT64_MAX,
			};
			f->ops.verdict(f->ops.arg, &v);
		}
		return 0;
	}
	if (ret != 0) {
		res->outcome = ZG_FOLLOW_XFR_FAILED;
		res->err = ret;
		snprintf(res->reason, sizeof(res->reason), "%s", f->xfr_reason);
		return ret;
	}
	*serial = zg_zone_serial(zg_incr_zone(f->sh.shadow), NULL);
	res->serial = *serial;
	if (!changed && verdict_get(f, *serial) >= 0) {
		res->outcome = ZG_FOLLOW_NOTHING_NEW;
		return 0;
	}
	const struct sockaddr_storage *from = &f->sources[f->source_cur].addr;
	if (f->lease != NULL && fence_check(f, *serial, from, false) != 0) {
		zg_incr_free(f->sh.shadow);
		f->sh.shadow = NULL;
		res->outcome = ZG_FOLLOW_FENCED;
		return ZG_EFENCED;
	}
	ret = judge(f, f->sh.shadow, *serial, t0, zg_clock_ms() - t0, from);
	if (ret != 0) {
		zg_incr_free(f->sh.shadow);
		f->sh.shadow = NULL;
		res->outcome = ret == ZG_EFENCED ? ZG_FOLLOW_FENCED : ZG_FOLLOW_ABORTED;
		res->err = ret;
		return ret;
	}
	res->outcome = ZG_FOLLOW_VERDICT;
	return 0;
}

/*
 * Validates the content in \a in (serial \a serial, transferred since t0 in
 * t_xfr ms from \a from) and records, logs and announces the verdict with
 * the digest of that content. With a lease, valid content is accepted only
 * if the lease, read again now, allows it (fence_check()). Returns 0, or the
 * error that aborted the validation or ZG_EFENCED (the caller drops \a in).
 */
static int judge(zg_follow_t *f, zg_incr_t *in, uint32_t serial, int64_t t0,
                 int64_t t_xfr, const struct sockaddr_storage *from)
{
	f->have_digest = zg_incr_digest(in, &f->digest);
	zg_digest_t before;
	if (f->have_digest && verdict_digest(f, serial, false, &before) &&
	    !zg_digest_equal(&before, &f->digest)) {
		char d1[ZG_DIGEST_STR_LEN + 1], d2[ZG_DIGEST_STR_LEN + 1];
		logf_(f, LOG_NOTICE, "serial %u, content differs from that of its "
		     "earlier verdict without a serial change (digest %s, was %s), validated "
		     "as new content", serial, zg_digest_str(&f->digest, d1, sizeof(d1)),
		     zg_digest_str(&before, d2, sizeof(d2)));
		/* Until it has validated, that serial is not valid. */
		verdict_set(f, serial, false);
	}

	/* Threads 0: one per CPU (small diffs: one). */
	zg_verify_opts_t opts = f->verify;
	opts.now = time(NULL);
	opts.horizon = f->horizon;
	opts.cancel = &f->cancel;  /* Unload does not wait for a whole-zone run. */
	opts.p256_openssl = f->p256_openssl;
	zg_report_t report;
	zg_report_init(&report);
	bool full = false;
	double tv = zg_clock_s();
	int ret = zg_incr_verify(in, &opts, &report, &full);
	tv = zg_clock_s() - tv;
	if (ret == -ECANCELED) {
		logf_(f, LOG_INFO, "serial %u, validation canceled (module unloaded)",
		     serial);
	} else if (ret != 0) {
		logf_(f, LOG_ERR, "serial %u, validation aborted (%s)", serial,
		     zg_strerror(ret));
	}
	if (ret != 0) {
		zg_report_deinit(&report);
		return ret;
	}
	int64_t ms = zg_clock_ms() - t0;
	fcount(f, ZG_FOLLOW_CTR_LATENCY_MS, true, (uint64_t)ms);
	f->earliest_expiry = zg_incr_earliest_expiry(in);

	if (report.errors == 0 && f->lease != NULL && fence_check(f, serial, from, true) != 0) {
		zg_report_deinit(&report);
		return ZG_EFENCED;
	}
	if (report.errors == 0) {
		/* The gate opens at once (with the digest of the content known to
		 * the transfer check); the state file is written once the
		 * secondaries have been told (its fsync is not in their way). */
		state_record(f, serial, true);
		verdict_set(f, serial, true);
		fcount(f, ZG_FOLLOW_CTR_SERIALS_VALIDATED, false, 1);
		fcount(f, ZG_FOLLOW_CTR_LAST_SERIAL, true, serial);
		logf_(f, LOG_INFO, "serial %u, validated (%s, %zu names checked, "
		     "%llu signatures, %zu warnings, transfer %lld ms, checks %lld ms, "
		     "%lld ms)", serial,
		     full ? "whole zone" : "incremental", zg_incr_last_checked(in),
		     (unsigned long long)report.stats.signatures, report.warnings,
		     (long long)t_xfr, (long long)(ms - t_xfr), (long long)ms);
		if (report.warnings > 0) {
			char line[1024];
			for (size_t i = 0; i < report.len; i++) {
				zg_report_item_str(&report.items[i], line, sizeof(line));
				logf_(f, LOG_WARNING, "serial %u, %s", serial, line);
				if (i + 1 == LOG_PROBLEMS) {
					break;
				}
			}
		}
		f->expiry_state = 0;
		notify_all(f, serial);
		state_save(f);
	} else {
		verdict_put(f, serial, false);
		fcount(f, ZG_FOLLOW_CTR_SERIALS_FAILED, false, 1);
		logf_(f, LOG_ERR, "serial %u, validation failed (%s, %zu errors, "
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
			logf_(f, LOG_ERR, "serial %u, %s", serial, line);
			logged++;
		}
		char why[1200];
		snprintf(why, sizeof(why), "%zu validation errors, first: %s", report.errors, first);
		alarm_run(f, serial, why);
		resign_request(f, serial);
	}
	if (f->ops.verdict != NULL) {
		zg_follow_verdict_t v = {
			.serial = serial, .valid = report.errors == 0, .report = &report, .full = full,
			.checked = zg_incr_last_checked(in), .now = opts.now, .elapsed = tv,
			.earliest_expiry = f->earliest_expiry,
		};
		f->ops.verdict(f->ops.arg, &v);
	}
	zg_report_deinit(&report);
	return 0;
}

/* The alarm (and the re-sign request) of a served serial whose signatures
 * expired at when. */
static void expired_alarm(zg_follow_t *f, uint32_t serial, const char *when)
{
	char why[96];
	snprintf(why, sizeof(why), "signatures expired at %s", when);
	alarm_run(f, serial, why);
	resign_request(f, serial);
}

/* Restored valid verdicts (not validated again by this load yet) whose
 * signatures expire count as failed from then on, like expiry_check() does
 * for the shadow's serial; the newest such serial is logged and alarmed. */
static void restored_expiry_check(zg_follow_t *f)
{
	int64_t now = time(NULL);
	zg_verdict_t *newest = NULL;
	unsigned n = 0;
	pthread_mutex_lock(&f->dlock);
	for (unsigned i = 0; i < f->vs.count; i++) {
		zg_verdict_t *e = &f->vs.v[i];
		if (e->restored && e->valid && e->expiry != INT64_MAX && e->expiry <= now) {
			e->valid = false;
			e->time = now;
			verdict_set(f, e->serial, false);
			newest = e;
			n++;
		}
	}
	pthread_mutex_unlock(&f->dlock);
	if (n == 0) {
		return;
	}
	fcount(f, ZG_FOLLOW_CTR_SERIALS_FAILED, false, n);
	state_save(f);
	char when[32];
	zg_time_str(newest->expiry, when, sizeof(when));
	logf_(f, LOG_ERR, "serial %u, signatures expired at %s (verdict restored "
	     "at load, %u restored serials expired), transfers of it refused",
	     newest->serial, when, n);
	expired_alarm(f, newest->serial, when);
}

/* Signatures age without any change of the zone: once the earliest one is
 * within the horizon, log and alarm once; once it has expired, the served
 * serial is no longer valid (refused, alarm) until a newer serial validates. */
static void expiry_check(zg_follow_t *f)
{
	if (f->sh.shadow == NULL || f->earliest_expiry == INT64_MAX) {
		return;
	}
	uint32_t serial = zg_zone_serial(zg_incr_zone(f->sh.shadow), NULL);
	if (verdict_get(f, serial) != 1) {
		return;
	}
	int64_t left = f->earliest_expiry - (int64_t)time(NULL);
	char when[32];
	zg_time_str(f->earliest_expiry, when, sizeof(when));
	if (left <= 0 && f->expiry_state < 2) {
		f->expiry_state = 2;
		f->have_digest = zg_incr_digest(f->sh.shadow, &f->digest);
		verdict_put(f, serial, false);
		fcount(f, ZG_FOLLOW_CTR_SERIALS_FAILED, false, 1);
		logf_(f, LOG_ERR, "serial %u, signatures expired at %s, "
		     "transfers of it refused", serial, when);
		expired_alarm(f, serial, when);
	} else if (left > 0 && f->horizon > 0 && left < (int64_t)f->horizon &&
	           f->expiry_state < 1) {
		f->expiry_state = 1;
		logf_(f, LOG_WARNING, "serial %u, signatures expire within the "
		     "horizon (earliest at %s)", serial, when);
		char why[96];
		snprintf(why, sizeof(why), "signatures expire within the horizon, earliest at %s", when);
		alarm_run(f, serial, why);
	}
}

/* Shortens a wait of ms so that the worker wakes up when the earliest
 * signature enters the horizon or expires, whatever the poll interval. */
static int64_t expiry_wait_ms(const zg_follow_t *f, int64_t ms)
{
	if (f->sh.shadow == NULL || f->earliest_expiry == INT64_MAX || f->expiry_state >= 2) {
		return ms;
	}
	int64_t now = (int64_t)time(NULL);
	int64_t at[2] = { f->earliest_expiry + 1, 0 };
	if (f->expiry_state < 1 && f->horizon > 0) {
		at[1] = f->earliest_expiry - (int64_t)f->horizon + 1;
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
static void content_recheck(zg_follow_t *f)
{
	int64_t t0 = zg_clock_ms();
	size_t rrs = 0;
	if (f->sh.shadow != NULL) {
		zg_zone_counts(zg_incr_zone(f->sh.shadow), NULL, NULL, &rrs);
	}
	zg_xfr_stats_t xs;
	struct sockaddr_storage via;
	self_via(f, &via);
	zg_xfr_peer_t peer = {
		.addr = &f->self_addr,
		.via = &via,
		.key = f->source_self && f->key.name != NULL ? &f->key : NULL,
		.zone = f->zone,
		.cancel = &f->cancel,
		.limits = zg_xfr_limits_resolve(&f->limits, rrs),
		.stats = &xs,
		.self = &f->self,
	};
	zg_zone_t *zone = NULL;
	char reason[256] = "";
	int ret = zg_xfr_axfr(&peer, &zone, reason, sizeof(reason));
	if (ret != 0) {
		xfr_failed(f, "AXFR, incoming, remote %s, failed (%s), served content not checked",
		           f->self_str, reason[0] != '\0' ? reason : zg_strerror(ret));
		return;
	}
	uint32_t serial = zg_zone_serial(zone, NULL);
	zg_incr_t *in = NULL;
	if (zg_shadow_new(&in, zone, f->sh.dctx) != 0) {
		return;
	}
	zg_digest_t served, judged;
	zg_incr_digest(in, &served);
	if (verdict_digest(f, serial, false, &judged) && zg_digest_equal(&served, &judged)) {
		char d[ZG_DIGEST_STR_LEN + 1];
		logf_(f, LOG_DEBUG, "serial %u, served content checked, it is the one "
		     "judged (digest %s)", serial, zg_digest_str(&served, d, sizeof(d)));
		zg_incr_free(in);
		return;
	}
	/* With a lease this content is fenced: it came from this server, not
	 * from the holder's address. */
	ret = judge(f, in, serial, t0, zg_clock_ms() - t0, &f->self_addr);
	if (ret == 0 && f->source_self) {
		zg_incr_free(f->sh.shadow);
		f->sh.shadow = in;
		return;
	}
	zg_incr_free(in);
	if (f->sh.shadow != NULL) {
		f->earliest_expiry = zg_incr_earliest_expiry(f->sh.shadow);
	}
}

int64_t zg_follow_round(zg_follow_t *f, zg_follow_result_t *res)
{
	zg_follow_result_t local;
	if (res == NULL) {
		res = &local;
	}
	memset(res, 0, sizeof(*res));
	uint32_t serial = 0;
	int ret = f->lease != NULL ? fence_soa(f, &serial) : source_soa(f, &serial);
	if (ret == ZG_EFENCED) {
		/* Nothing accepted now (fence_soa() logged why). */
		res->outcome = ZG_FOLLOW_FENCED;
	} else if (ret != 0) {
		if (ret != f->last_err && f->burst == 0) {
			logf_(f, LOG_WARNING, "SOA query, remote %s, failed (%s)",
			     f->source_name, f->soa_reason);
		}
		f->last_err = f->burst == 0 ? ret : 0;
		res->outcome = ZG_FOLLOW_SOA_FAILED;
		res->err = ret;
		snprintf(res->reason, sizeof(res->reason), "%s", f->soa_reason);
	} else {
		if (f->last_err != 0) {
			logf_(f, LOG_INFO, "SOA query, remote %s, answered again", f->source_name);
		}
		f->last_err = 0;
		res->soa = serial;
		if (!f->have_serial || serial != f->last) {
			uint32_t got = 0;
			bool had = f->have_serial;
			uint32_t before = f->last;
			if (check_serial(f, &got, res) == 0) {
				f->have_serial = true;
				f->last = got;
				/* Changed during the transfer: ask again at once. Not when
				 * the transfer brought nothing new (a source whose SOA
				 * announces a serial its IXFR does not serve yet, or
				 * never): that waits for the next poll like any other. */
				if (got != serial && (!had || got != before)) {
					return -1;
				}
			}
		}
	}
	if (atomic_exchange(&f->content_check, false)) {
		content_recheck(f);
	}
	expiry_check(f);
	restored_expiry_check(f);
	if (f->earliest_expiry != INT64_MAX && f->earliest_expiry != 0) {
		int64_t left = f->earliest_expiry - time(NULL);
		fcount(f, ZG_FOLLOW_CTR_EXPIRY_SECONDS, true, left > 0 ? (uint64_t)left : 0);
	}
	int64_t ms = f->burst > 0 ? BURST_MS : (int64_t)f->poll_sec * 1000;
	return expiry_wait_ms(f, ms);
}

void zg_follow_waited(zg_follow_t *f, bool woken)
{
	if (woken) {
		f->burst = BURST_POLLS;
	} else if (f->burst > 0) {
		f->burst--;
	}
}

void zg_follow_finish(zg_follow_t *f)
{
	zg_incr_free(f->sh.shadow);
	f->sh.shadow = NULL;
	zg_diff_deinit(&f->sh.diff);
}

void zg_follow_recheck_request(zg_follow_t *f)
{
	atomic_store(&f->content_check, true);
}

int zg_follow_verdict(zg_follow_t *f, uint32_t serial)
{
	return verdict_get(f, serial);
}

bool zg_follow_digest(zg_follow_t *f, uint32_t serial, bool valid_only, zg_digest_t *out)
{
	return verdict_digest(f, serial, valid_only, out);
}

/* ---- outgoing transfers ---- */

/* The digest of the content of serial (any verdict): the base of an IXFR. */
static bool base_digest(void *arg, uint32_t serial, zg_digest_t *out)
{
	return verdict_digest(arg, serial, false, out);
}

int zg_follow_out_init(zg_follow_t *f, zg_follow_out_t *c)
{
	c->parsed = knot_pkt_new(NULL, KNOT_WIRE_MAX_PKTSIZE, NULL);
	if (c->parsed == NULL || zg_digest_ctx_new(&c->dctx, f->vs.key) != 0) {
		return -ENOMEM;
	}
	return 0;
}

void zg_follow_out_deinit(zg_follow_out_t *c)
{
	zg_digest_ctx_free(c->dctx);
	knot_pkt_free(c->parsed);
}

void zg_follow_out_begin(zg_follow_t *f, zg_follow_out_t *c, bool axfr, uint32_t ixfr_from)
{
	zg_digest_stream_init(&c->stream, c->dctx, f->zone, axfr, ixfr_from, base_digest, f);
	c->active = true;
}

zg_follow_out_verdict_t zg_follow_out_msg(zg_follow_t *f, zg_follow_out_t *c,
                                          const uint8_t *wire, size_t size,
                                          char *reason, size_t rlen)
{
	/* The records as they are on the wire: the RRsets knotd put into the
	 * message may be gone by now (an IXFR from the journal frees each one
	 * once it is written). */
	knot_pkt_t *msg = c->parsed;
	knot_pkt_clear(msg);
	if (size > msg->max_size) {
		c->active = false;
		snprintf(reason, rlen, "content not checked, message of %zu bytes", size);
		return ZG_FOLLOW_OUT_REFUSE;
	}
	memcpy(msg->wire, wire, size);
	msg->size = size;
	int pret = knot_pkt_parse(msg, 0);
	if (pret != KNOT_EOK) {
		c->active = false;
		snprintf(reason, rlen, "content not checked, message not parsed (%s)",
		         knot_strerror(pret));
		return ZG_FOLLOW_OUT_REFUSE;
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
				snprintf(reason, rlen, "content not checked, %s", why);
				return ZG_FOLLOW_OUT_REFUSE;
			}
			rd = knot_rdataset_next(rd);
		}
	}
	if (zg_xfr_stream_uptodate(st) && an->count == 1) {
		c->active = false;   /* A lone SOA: nothing transferred. */
		return ZG_FOLLOW_OUT_SEND;
	}
	if (!zg_xfr_stream_done(st)) {
		return ZG_FOLLOW_OUT_SEND;   /* More messages follow. */
	}
	c->active = false;
	if (!st->full && !c->stream.based) {
		return ZG_FOLLOW_OUT_SEND;   /* An empty answer. */
	}
	zg_digest_t want;
	if (verdict_get(f, st->to) == 1 && verdict_digest(f, st->to, true, &want)) {
		if (zg_digest_equal(&c->stream.sum, &want)) {
			return ZG_FOLLOW_OUT_SEND;
		}
		char d1[ZG_DIGEST_STR_LEN + 1], d2[ZG_DIGEST_STR_LEN + 1];
		snprintf(reason, rlen, "serial %u, content differs from the validated "
		         "content, digest %s, validated %s", st->to,
		         zg_digest_str(&c->stream.sum, d1, sizeof(d1)),
		         zg_digest_str(&want, d2, sizeof(d2)));
	} else {
		snprintf(reason, rlen, "serial %u, no validated content", st->to);
	}
	return ZG_FOLLOW_OUT_RECHECK;
}
