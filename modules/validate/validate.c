/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * mod-validate: the validating gate of a distribution server. The loop that
 * follows the zone at its source and judges each serial, the verdicts and
 * their state file are lib/validate/follow.c; this module reads the
 * configuration, runs that loop on its worker thread (modules/modworker.h),
 * gives it knotd's logging, counters, the alarm command and the re-sign
 * request, and holds the gate: a KNOTD_STAGE_BEGIN hook refuses outgoing
 * AXFR/IXFR of a served serial that has not validated, a KNOTD_STAGE_END
 * hook refuses a transfer whose content is not the validated content.
 *
 * Threads: knotd's workers only run the hooks (lock-free verdict lookup, a
 * wake-up of the worker for a NOTIFY); everything else belongs to the
 * worker thread, which is joined in unload.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libknot/rrtype/soa.h>

#include "modules/knotd-compat.h"
#include "modules/modaddr.h"
#include "modules/modalarm.h"
#include "modules/modkey.h"
#include "modules/modlog.h"
#include "modules/modremote.h"
#include "modules/modworker.h"
#include "dns/dnsclient.h"
#include "dns/ctl.h"
#include "core/error.h"
#include "signer/fence.h"
#include "signer/lease.h"
#include "validate/crypto.h"
#include "validate/digest.h"
#include "validate/follow.h"
#include "validate/p256.h"

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
#define C_RMTS		"\x07""remotes"
#define C_NOTIFY	"\x06""notify"
#define C_SERVER	"\x06""server"
#define C_LISTEN	"\x06""listen"
#define C_STORAGE	"\x07""storage"

/*! Seconds between two log lines about refused transfers. */
#define REFUSE_LOG_SEC	10
/*! A transfer refused for a failed serial has the served content checked
 *  again (it may have changed behind the serial), at most this often (s). */
#define RECHECK_SEC	30

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

/*!
 * An outgoing AXFR/IXFR being summed in one knotd thread (its records go out
 * in messages, each passing the END hook). A transfer is told apart by the
 * connection socket, the query id and the remote address.
 */
typedef struct {
	zg_follow_out_t out;    /*!< The content check (lib/validate/follow). */
	int socket;
	uint16_t qid;
	struct sockaddr_storage remote;
} xfr_check_t;

typedef struct {
	knotd_mod_t *mod;
	zg_follow_t f;              /*!< The follow-and-verify loop and the verdicts. */
	zg_modworker_t w;           /*!< Runs it. */
	zg_alarm_t alarm;           /*!< The alarm command runner. */
	knotd_conf_t allow;         /*!< Configured ranges (count 0: none). */
	bool resign;                /*!< Ask this server to re-sign on failure. */
	char ctl_path[512];         /*!< This server's control socket. */
	unsigned p256_cache;        /*!< p256-table-cache of this zone ... */
	bool p256_cache_held;       /*!< ... counted in p256_cache_users. */

	/* Outgoing transfers, summed as they are sent (one per knotd thread). */
	xfr_check_t *checks;
	unsigned nchecks;
	atomic_llong recheck_asked; /*!< When a refused transfer last asked for a recheck. */

	/* Log rate limits. */
	zg_modlog_limit_t refuse_log;     /*!< Refused transfers. */
	zg_modlog_limit_t content_log;    /*!< Transfers failed at their end. */
} validate_ctx_t;

/* ---- what the loop needs from knotd ---- */

/* Logs of the worker: none once unload began (see zg_worker_log()). */
#define wlog(ctx, ...) zg_worker_log((ctx)->mod, atomic_load(&(ctx)->f.cancel), __VA_ARGS__)

static void on_log(void *arg, int level, const char *msg)
{
	wlog((validate_ctx_t *)arg, level, "%s", msg);
}

static void on_count(void *arg, zg_follow_ctr_t c, bool store, uint64_t value)
{
	static const int ctr[] = {
		[ZG_FOLLOW_CTR_SERIALS_VALIDATED] = CTR_SERIALS_VALIDATED,
		[ZG_FOLLOW_CTR_SERIALS_FAILED]    = CTR_SERIALS_FAILED,
		[ZG_FOLLOW_CTR_LAST_SERIAL]       = CTR_LAST_SERIAL,
		[ZG_FOLLOW_CTR_LATENCY_MS]        = CTR_LATENCY_MS,
		[ZG_FOLLOW_CTR_EXPIRY_SECONDS]    = CTR_EXPIRY_SECONDS,
		[ZG_FOLLOW_CTR_SERIALS_FENCED]    = CTR_SERIALS_FENCED,
		[ZG_FOLLOW_CTR_LEASE_ERRORS]      = CTR_LEASE_ERRORS,
		[ZG_FOLLOW_CTR_LEASE_TOKEN]       = CTR_LEASE_TOKEN,
	};
	validate_ctx_t *ctx = arg;
	if (store) {
		knotd_mod_stats_store(ctx->mod, 0, ctr[c], 0, value);
	} else {
		knotd_mod_stats_incr(ctx->mod, 0, ctr[c], 0, value);
	}
}

/* Starts 'alarm ZONE SERIAL REASON' without waiting for it. */
static void on_alarm(void *arg, uint32_t serial, const char *reason)
{
	validate_ctx_t *ctx = arg;
	zg_modalarm_run(ctx->mod, &ctx->alarm, ctx->f.zone_str, "serial", serial, reason);
}

/* Sends zone-sign for the zone to this server's control socket (bounded). */
static void on_resign(void *arg, uint32_t serial)
{
	validate_ctx_t *ctx = arg;
	char err[256];
	int ret = zg_ctl_zone_command(ctx->ctl_path, 5000, "zone-sign", ctx->f.zone_str,
	                              err, sizeof(err));
	if (ret == KNOT_EOK) {
		wlog(ctx, LOG_NOTICE, "serial %u, re-signing requested (zone-sign)", serial);
	} else {
		wlog(ctx, LOG_WARNING, "serial %u, re-signing request failed (%s)", serial, err);
	}
}

static void *worker(void *arg)
{
	validate_ctx_t *ctx = arg;
	while (!zg_modworker_stopping(&ctx->w)) {
		int64_t ms = zg_follow_round(&ctx->f);
		if (ms < 0) {
			continue;  /* At once. */
		}
		zg_modalarm_reap(ctx->mod, &ctx->alarm, false);
		zg_follow_waited(&ctx->f, zg_modworker_sleep_ms(&ctx->w, ms));
	}
	zg_modalarm_reap(ctx->mod, &ctx->alarm, true);
	zg_follow_finish(&ctx->f);
	return NULL;
}

/* ---- the gate ---- */

/* Asks the worker to check the content this server serves (content_recheck()). */
static void content_recheck_request(validate_ctx_t *ctx)
{
	zg_follow_recheck_request(&ctx->f);
	zg_modworker_kick(&ctx->w);
}

/* Transfers that pass the gate whatever the verdict: the module's own (the
 * remote end is the local end of a connection it opened to this server:
 * address and port), those from the allow ranges, those signed with key. */
static bool transfer_allowed(validate_ctx_t *ctx, knotd_qdata_t *qdata)
{
	const struct sockaddr_storage *remote = knotd_qdata_remote_addr(qdata);
	if (remote != NULL) {
		if (zg_xfr_self_match(&ctx->f.self, remote)) {
			return true;
		}
		if (ctx->allow.count > 0 && knotd_conf_addr_range_match(&ctx->allow, remote)) {
			return true;
		}
	}
	/* The key name only: knotd verifies the signature against the zone ACL later. */
	const knot_rrset_t *tsig = qdata->query->tsig_rr;
	return ctx->f.key.name != NULL && tsig != NULL &&
	       knot_dname_is_equal(tsig->owner, ctx->f.key.name);
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
		zg_modworker_kick(&ctx->w);
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
	int verdict = zg_follow_verdict(&ctx->f, serial);
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
 * message, see zg_follow_out_msg()). A transfer whose content is not the
 * validated content of its serial has its last message replaced by an
 * error, so the receiver drops the whole transfer, and the worker checks
 * the served content.
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
	if (!c->out.active || c->socket != qdata->params->socket || c->qid != qid ||
	    !same_remote(&c->remote, remote)) {
		bool axfr = qdata->type == KNOTD_QUERY_TYPE_AXFR;
		zg_follow_out_begin(&ctx->f, &c->out, axfr, axfr ? 0 : ixfr_serial(qdata->query));
		c->socket = qdata->params->socket;
		c->qid = qid;
		c->remote = *remote;
	}
	zg_follow_out_verdict_t v = zg_follow_out_msg(&ctx->f, &c->out, pkt->wire, pkt->size,
	                                              reason, sizeof(reason));
	if (v == ZG_FOLLOW_OUT_SEND) {
		return state;
	}
	recheck = v == ZG_FOLLOW_OUT_RECHECK;
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
	if (signer.count > ZG_FOLLOW_SIGNERS) {
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

/* Each address of the source remote, in order. */
static void source_add(void *arg, const struct sockaddr_storage *addr,
                       const struct sockaddr_storage *via)
{
	zg_follow_t *f = arg;
	if (f->source_count < ZG_FOLLOW_SOURCES) {
		f->sources[f->source_count++] = (zg_follow_addr_t){ .addr = *addr, .via = *via };
	}
}

/* The source of the zone: this server (not configured), a remote (its
 * addresses in order, each with its via, and its key) or an address. */
static int source_load(validate_ctx_t *ctx)
{
	knotd_conf_t src = knotd_conf_mod(ctx->mod, MOD_SOURCE);
	zg_follow_t *f = &ctx->f;
	f->source_self = src.count == 0;
	f->source_cur = 0;
	if (src.count == 0) {
		/* From the listen address itself, so that the zone's acl allows
		 * the module's own transfers by that address (on a host with
		 * several addresses, also on the loopback). */
		zg_follow_source_self(f);
		return KNOT_EOK;
	}
	const char *text = src.single.string;
	knotd_conf_t id = zg_mod_conf_id(text);
	size_t naddr = 0;
	int ret = zg_mod_remote(ctx->mod, &id, source_add, f, &naddr, &f->source_key);
	if (ret != KNOT_EOK) {
		knotd_mod_log(ctx->mod, LOG_ERR, "source remote key not usable (%s)",
		              zg_strerror(ret));
	}
	if (naddr == 0) {
		if (zg_dns_addr_parse(text, 53, &f->sources[0].addr) != 0) {
			/* Fail closed: loaded, but nothing validates, so the gate
			 * refuses every transfer; the worker says why. */
			snprintf(f->source_name, sizeof(f->source_name), "%s", text);
			f->source_count = 0;
			return KNOT_EOK;
		}
		f->source_count = 1;
		zg_dns_addr_str(&f->sources[0].addr, f->source_name, sizeof(f->source_name));
		zg_dns_addr_str(&f->sources[0].addr, f->source_str, sizeof(f->source_str));
		return KNOT_EOK;
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
	if (naddr > ZG_FOLLOW_SOURCES) {
		knotd_mod_log(ctx->mod, LOG_WARNING, "source remote has %zu addresses, "
		              "the first %u are used", naddr, ZG_FOLLOW_SOURCES);
	}
	zg_dns_addr_str(&f->sources[0].addr, f->source_str, sizeof(f->source_str));
	return ret;
}

/* Each address of a notify remote: a target (its key set afterwards). */
static void notify_add(void *arg, const struct sockaddr_storage *addr,
                       const struct sockaddr_storage *via)
{
	zg_follow_t *f = arg;
	if (f->notify_count < ZG_FOLLOW_NOTIFY) {
		f->notify[f->notify_count++] = (zg_follow_notify_t){ .addr = *addr, .via = *via };
	}
}

/* A remote's addresses as targets, each with the remote's key; returns their
 * number (0: not a remote with an address). */
static size_t notify_add_one(validate_ctx_t *ctx, const knotd_conf_t *id)
{
	unsigned first = ctx->f.notify_count;
	size_t naddr = 0;
	knot_tsig_key_t key;
	int ret = zg_mod_remote(ctx->mod, id, notify_add, &ctx->f, &naddr, &key);
	for (unsigned i = first; i < ctx->f.notify_count && ret == KNOT_EOK &&
	                         key.name != NULL; i++) {
		ret = knot_tsig_key_copy(&ctx->f.notify[i].key, &key);
	}
	if (ret != KNOT_EOK) {
		wlog(ctx, LOG_WARNING, "notify remote key not usable, sending unsigned NOTIFY");
	}
	knot_tsig_key_deinit(&key);
	return naddr;
}

/* A notify value: a remote, or a remotes: group (its members). */
static void notify_add_remote(validate_ctx_t *ctx, const knotd_conf_val_t *ref)
{
	knotd_conf_t id = { .single = *ref, .count = 1 };
	if (notify_add_one(ctx, &id) > 0) {
		return;
	}
	knotd_conf_t members = knotd_conf(ctx->mod, C_RMTS, ZG_MOD_C_RMT, &id);
	for (size_t i = 0; i < members.count; i++) {
		knotd_conf_t mid = { .single = members.multi[i], .count = 1 };
		notify_add_one(ctx, &mid);
	}
	knotd_conf_free(&members);
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
	char full[PATH_MAX];
	int n = snprintf(full, sizeof(full), "%s%s%s", cwd, cwd[0] != '\0' ? "/" : "", dir);
	if (n < 0 || (size_t)n >= sizeof(full)) {
		return -ENAMETOOLONG;
	}
	return zg_verdicts_path(full, ctx->f.zone_str, ctx->f.state_path,
	                        sizeof(ctx->f.state_path));
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

/* The P-256 table cache is one per process (the module's copy of the
 * library): its size is the largest p256-table-cache of the loaded zones. */
static void p256_cache_hold(validate_ctx_t *ctx, bool hold)
{
	if (ctx->p256_cache_held != hold) {
		zg_p256_cache_use(ctx->p256_cache, hold);
		ctx->p256_cache_held = hold;
	}
}

/* lease and signer: downstream fencing. The source must be the signers. */
static int lease_load(validate_ctx_t *ctx, const char *uri)
{
	if (ctx->f.source_self) {
		knotd_mod_log(ctx->mod, LOG_ERR, "lease needs source (the signers' remote)");
		return KNOT_EINVAL;
	}
	char err[256] = "";
	int ret = zg_lease_open(uri, &ctx->f.lease, err, sizeof(err));
	if (ret != 0) {
		knotd_mod_log(ctx->mod, LOG_ERR, "lease store not usable (%s)",
		              err[0] != '\0' ? err : zg_strerror(ret));
		return KNOT_EINVAL;
	}
	knotd_conf_t signer = knotd_conf_mod(ctx->mod, MOD_SIGNER);
	size_t n = signer.count < ZG_FOLLOW_SIGNERS ? signer.count : ZG_FOLLOW_SIGNERS;
	ctx->f.signer_map = calloc(n > 0 ? n : 1, sizeof(ctx->f.signer_map[0]));
	if (ctx->f.signer_map == NULL) {
		knotd_conf_free(&signer);
		return KNOT_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(ctx->f.signer_map[i], sizeof(ctx->f.signer_map[i]), "%s",
		         signer.multi[i].string);
	}
	ctx->f.signer_count = n;
	knotd_conf_free(&signer);
	return KNOT_EOK;
}

static void ctx_free(validate_ctx_t *ctx)
{
	if (ctx == NULL) {
		return;
	}
	zg_modworker_deinit(&ctx->w);  /* Stops and joins the worker first. */
	p256_cache_hold(ctx, false);
	zg_alarm_deinit(&ctx->alarm);
	for (unsigned i = 0; i < ctx->nchecks; i++) {
		zg_follow_out_deinit(&ctx->checks[i].out);
	}
	free(ctx->checks);
	zg_follow_deinit(&ctx->f);
	knotd_conf_free(&ctx->allow);
	free(ctx);
}

static int validate_load(knotd_mod_t *mod)
{
	validate_ctx_t *ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		return KNOT_ENOMEM;
	}
	ctx->mod = mod;
	ctx->f.ops = (zg_follow_ops_t){
		.arg = ctx, .log = on_log, .count = on_count, .alarm = on_alarm,
	};
	zg_follow_init(&ctx->f);
	zg_modworker_init(&ctx->w);

	int ret = KNOT_ENOMEM;
	const knot_dname_t *zone = knotd_mod_zone(mod);
	if (zone == NULL) {
		ret = KNOT_EINVAL;
		goto fail;
	}
	knot_dname_to_wire(ctx->f.zone, zone, sizeof(ctx->f.zone));
	knot_dname_to_str(ctx->f.zone_str, zone, sizeof(ctx->f.zone_str));

	ctx->f.horizon = knotd_conf_mod(mod, MOD_HORIZON).single.integer;
	ctx->f.poll_sec = knotd_conf_mod(mod, MOD_POLL).single.integer;
	knotd_conf_t alarm = knotd_conf_mod(mod, MOD_ALARM);
	if (zg_alarm_init(&ctx->alarm, alarm.count == 1 ? alarm.single.string : NULL,
	                  knotd_conf_mod(mod, MOD_ALARM_TO).single.integer) != 0) {
		goto fail;
	}

	knotd_conf_t key = knotd_conf_mod(mod, MOD_KEY);
	if (key.count == 1) {
		ret = zg_modkey_load(mod, &key.single, &ctx->f.key);
		if (ret != KNOT_EOK) {
			knotd_mod_log(mod, LOG_ERR, "key not usable (%s)", zg_strerror(ret));
			goto fail;
		}
	}

	self_address(mod, &ctx->f.self_addr);
	ret = source_load(ctx);
	if (ret != KNOT_EOK) {
		goto fail;
	}
	if (ctx->f.source_count == 0) {
		knotd_mod_log(mod, LOG_ERR, "source '%s' is neither a remote of this server "
		              "nor an IP address, nothing is validated and transfers are refused",
		              ctx->f.source_name);
	}
	ret = KNOT_ENOMEM;
	zg_dns_addr_str(&ctx->f.self_addr, ctx->f.self_str, sizeof(ctx->f.self_str));

	ctx->resign = knotd_conf_mod(mod, MOD_RESIGN).single.boolean;
	ctx->f.ops.resign = ctx->resign ? on_resign : NULL;
	ctx->f.limits.records = (uint64_t)knotd_conf_mod(mod, MOD_MAX_RECORDS).single.integer;
	ctx->f.limits.bytes = (uint64_t)knotd_conf_mod(mod, MOD_MAX_SIZE).single.integer;
	ctx->f.limits.time_ms = (uint32_t)knotd_conf_mod(mod, MOD_MAX_TIME).single.integer * 1000;
	ctx->f.p256_openssl = knotd_conf_mod(mod, MOD_P256_OPENSSL).single.boolean ||
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

	knotd_conf_t lease = knotd_conf_mod(mod, MOD_LEASE);
	if (lease.count == 1) {
		ret = lease_load(ctx, lease.single.string);
		if (ret != KNOT_EOK) {
			goto fail;
		}
	}
	ret = KNOT_ENOMEM;
	for (int i = 0; i < (ctx->f.lease != NULL ? CTR_COUNT : CTR_BASE_COUNT); i++) {
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
	ret = zg_digest_key_new(ctx->f.vs.key);   /* Unless the state file has one. */
	if (ret != 0) {
		knotd_mod_log(mod, LOG_ERR, "no random digest key (%s)", zg_strerror(ret));
		ret = KNOT_ERROR;
		goto fail;
	}
	ret = KNOT_ENOMEM;
	ctx->nchecks = knotd_mod_threads(mod);
	ctx->checks = calloc(ctx->nchecks > 0 ? ctx->nchecks : 1, sizeof(ctx->checks[0]));
	if (ctx->checks == NULL || zg_follow_restore(&ctx->f) != 0) {
		ctx->nchecks = 0;
		goto fail;
	}
	for (unsigned i = 0; i < ctx->nchecks; i++) {
		if (zg_follow_out_init(&ctx->f, &ctx->checks[i].out) != 0) {
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
	if (zg_modworker_start(&ctx->w, worker, ctx) != 0) {
		knotd_mod_ctx_set(mod, NULL);
		ret = KNOT_ENOMEM;
		goto fail;
	}
	knotd_mod_log(mod, LOG_INFO, "validating transfers from %s, poll interval %u s, "
	              "%u notify targets, P-256 verifier %s%s", ctx->f.source_name, ctx->f.poll_sec,
	              ctx->f.notify_count, ctx->f.p256_openssl ? "openssl" : "native",
	              ctx->f.lease != NULL ? ", serials of the signer lease holder only" : "");
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
	atomic_store(&ctx->f.cancel, true); /* First: the worker logs no more. */
	knotd_mod_ctx_set(mod, NULL);
	ctx_free(ctx);
}

KNOTD_MOD_API(validate, KNOTD_MOD_FLAG_SCOPE_ZONE | KNOTD_MOD_FLAG_OPT_CONF,
              validate_load, validate_unload, validate_conf, validate_conf_check);
