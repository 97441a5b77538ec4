/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * mod-dsync: CDS/DS synchronisation interlock. In child mode it holds a KSK
 * rollover until every parent server serves the matching DS and guards the
 * CDS/CDNSKEY the zone publishes; in parent mode it scans the delegated
 * children's CDS/CDNSKEY and turns them into DS changes.
 *
 * Child mode: a worker thread polls the zone's DNSKEY/CDS/CDNSKEY from this
 * server over loopback at a bounded interval and checks them
 * (zg_cds_check_published()); while the set is unsafe, or not checked yet, a
 * BEGIN hook answers CDS/CDNSKEY queries for the apex with SERVFAIL. While the
 * (safe) zone announces a DS change through CDS/CDNSKEY, the worker asks every
 * configured parent server for the DS as zg-checkds does
 * (zg_checkds_evaluate()); once every parent server serves a validated DS for
 * every announced key and the DS TTL has passed since then, it confirms the
 * KSK submission through this server's control socket (zone-ksk-submitted).
 * A change not confirmed within 'overdue' is logged at error level, counted
 * and passed to the alarm command, once per overdue interval. What to do when
 * is decided by the interlock's step function (lib/dsync/interlock.c); this
 * file does the I/O it asks for.
 *
 * Parent mode: a worker thread scans the zone's delegations (listed by AXFR
 * from this server every scan-interval, at a bounded query rate) and the
 * listed children (every check-interval) with lib/dsync/cdscan.c: CDS/CDNSKEY
 * checked by the RFC 7344/8078 rules against the DS served now, each accepted
 * change written as a JSON message into the ingest queue (mod-ingest applies
 * it), every accepted or refused set logged once (audit).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libdnssec/random.h>

#include "modules/knotd-compat.h"
#include "modules/modaddr.h"
#include "modules/modworker.h"
#include "modules/modalarm.h"
#include "modules/modkey.h"
#include "modules/modlog.h"
#include "dsync/cdscan.h"
#include "dsync/checkds.h"
#include "dns/ctl.h"
#include "dsync/ds.h"
#include "dsync/guard.h"
#include "dsync/interlock.h"
#include "dsync/parents.h"
#include "dsync/scansched.h"
#include "ingest/queue.h"
#include "core/error.h"
#include "dns/resolver.h"
#include "dns/xfr.h"

#define MOD_MODE		"\x04""mode"
#define MOD_ALLOW_DELETE	"\x0c""allow-delete"
#define MOD_INTERVAL		"\x0e""check-interval"
#define MOD_SERVER		"\x06""server"
#define MOD_PARENT		"\x06""parent"
#define MOD_TA			"\x0c""trust-anchor"
#define MOD_OVERDUE		"\x07""overdue"
#define MOD_ALARM		"\x05""alarm"
#define MOD_ALARM_TO		"\x0d""alarm-timeout"
#define MOD_CONTROL		"\x07""control"
#define MOD_QUEUE		"\x05""queue"
#define MOD_DRY_RUN		"\x07""dry-run"
#define MOD_SCAN_INTERVAL	"\x0d""scan-interval"
#define MOD_CHILD		"\x05""child"
#define MOD_QUERY_RATE		"\x0a""query-rate"
#define MOD_CHILD_PORT		"\x0a""child-port"
#define MOD_RESOLVER		"\x08""resolver"
#define MOD_KEY			"\x03""key"

#define CONF_SERVER		"\x06""server"
#define CONF_LISTEN		"\x06""listen"
#define CONF_REMOTE		"\x06""remote"
#define CONF_ADDRESS		"\x07""address"
#define CONF_KEY		"\x03""key"
#define CONF_ALG		"\x09""algorithm"
#define CONF_SECRET		"\x06""secret"


#define MAX_PARENTS		16
#define PARENT_TIMEOUT_MS	1000
#define PARENT_TRIES		2
#define CTL_TIMEOUT_MS		5000

/* EDNS option (local/experimental range) marking the worker's own queries. */
#define GUARD_OPT_CODE		65433
#define GUARD_TOKEN_LEN		16
#define POLL_TIMEOUT_MS		500
#define POLL_TRIES		2
#define RETRY_UNKNOWN_S		1

enum dsync_mode {
	DSYNC_CHILD = 1,
	DSYNC_PARENT = 2,
};

static const knot_lookup_t dsync_modes[] = {
	{ DSYNC_CHILD,  "child" },
	{ DSYNC_PARENT, "parent" },
	{ 0, NULL }
};

static const yp_item_t dsync_conf[] = {
	{ MOD_MODE,         YP_TOPT,  YP_VOPT = { dsync_modes, DSYNC_CHILD } },
	{ MOD_ALLOW_DELETE, YP_TBOOL, YP_VBOOL = { false } },
	{ MOD_INTERVAL,     YP_TINT,  YP_VINT = { 1, 3600, 10, YP_STIME } },
	{ MOD_SERVER,       YP_TADDR, YP_VADDR = { 53 } },
	{ MOD_PARENT,       YP_TSTR,  YP_VNONE, YP_FMULTI },
	{ MOD_TA,           YP_TSTR,  YP_VNONE },
	{ MOD_OVERDUE,      YP_TINT,  YP_VINT = { 1, UINT32_MAX, 172800, YP_STIME } },
	{ MOD_ALARM,        YP_TSTR,  YP_VNONE },
	{ MOD_ALARM_TO,     YP_TINT,  YP_VINT = { 1, 3600, 30, YP_STIME } },
	{ MOD_CONTROL,      YP_TSTR,  YP_VNONE },
	{ MOD_QUEUE,        YP_TSTR,  YP_VNONE },
	{ MOD_DRY_RUN,      YP_TBOOL, YP_VBOOL = { false } },
	{ MOD_SCAN_INTERVAL, YP_TINT, YP_VINT = { 1, UINT32_MAX, 86400, YP_STIME } },
	{ MOD_CHILD,        YP_TDNAME, YP_VNONE, YP_FMULTI },
	{ MOD_QUERY_RATE,   YP_TINT,  YP_VINT = { 1, 100000, 100 } },
	{ MOD_CHILD_PORT,   YP_TINT,  YP_VINT = { 1, 65535, 53 } },
	{ MOD_RESOLVER,     YP_TADDR, YP_VADDR = { 53 } },
	{ MOD_KEY,          YP_TREF,  YP_VREF = { CONF_KEY }, YP_FNONE, { knotd_conf_check_ref } },
	{ NULL }
};

enum {
	CTR_DS_OK,
	CTR_DS_FAILED,
	CTR_OVERDUE,
	CTR_CDS_UNSAFE,
	CTR_CDS_SERVFAIL,
	CTR_SCANNED,
	CTR_ACCEPTED,
	CTR_REFUSED,
	CTR_QUEUED,
	CTR_SCAN_FAILED,
	CTR_PASS_SECONDS,
	CTR_DS_UNAUTH,
	CTR_XFR_REFUSED,
	CTR_COUNT
};

static const char *const ctr_names[CTR_COUNT] = {
	[CTR_DS_OK]        = "parent-ds-checks-ok",
	[CTR_DS_FAILED]    = "parent-ds-checks-failed",
	[CTR_OVERDUE]      = "syncs-overdue",
	[CTR_CDS_UNSAFE]   = "cds-unsafe",
	[CTR_CDS_SERVFAIL] = "cds-servfail",
	[CTR_SCANNED]      = "children-scanned",
	[CTR_ACCEPTED]     = "cds-accepted",
	[CTR_REFUSED]      = "cds-refused",
	[CTR_QUEUED]       = "ds-messages-queued",
	[CTR_SCAN_FAILED]  = "child-scans-failed",
	[CTR_PASS_SECONDS] = "scan-pass-seconds",
	[CTR_DS_UNAUTH]    = "parent-ds-unauthenticated",
	[CTR_XFR_REFUSED]  = "transfers-refused",
};

typedef struct {
	enum dsync_mode mode;
	bool allow_delete;
	unsigned interval;
	zg_server_t server;
	knot_dname_t *zone;
	knotd_mod_t *mod;
	uint8_t token[GUARD_TOKEN_LEN];

	zg_server_t parents[MAX_PARENTS];
	knot_tsig_key_t parent_keys[MAX_PARENTS];  /* name NULL: queries not signed. */
	size_t nparents;
	knot_rdataset_t ta_ds, ta_dnskey;
	knot_dname_t *ta_owner;    /* NULL: no trust anchor. */
	char ta_path[512];
	zg_server_t resolver;      /* For the chain from the anchor down to the parent. */
	bool have_resolver;
	uint32_t overdue;
	zg_alarm_t alarm;          /* The alarm command runner. */
	char ctl_path[512];
	char zone_str[KNOT_DNAME_TXT_MAXLEN + 1];
	zg_interlock_t sync;     /* The DS interlock (lib/dsync/interlock.c). */

	zg_guard_t guard_st;       /* The guard (lib/dsync/guard.c), the worker's own. */
	atomic_int guard;          /* Its state, published for the hooks ... */
	_Atomic uint64_t checked;  /* ... and what it checked (zg_guard_t.checked). */
	zg_modlog_limit_t refuse_log;  /* Refused transfers. */

	/* Parent mode. */
	zg_cdscan_t *scan;
	zg_cdscan_stats_t scan_seen;   /* Totals already added to the counters. */
	unsigned scan_interval;
	char **children;               /* Listed children (presentation), NULL-terminated. */

	zg_modworker_t worker;         /* The guard's or the scanner's thread. */
} dsync_ctx_t;

/* Logs of the workers: none once unload began (see zg_worker_log()). */
#define wlog(ctx, ...) zg_worker_log((ctx)->mod, zg_modworker_stopping(&(ctx)->worker), __VA_ARGS__)

static int dsync_conf_check(knotd_conf_check_args_t *args)
{
	knotd_conf_t mode = knotd_conf_check_item(args, MOD_MODE);
	bool parent = mode.count > 0 && mode.single.option == DSYNC_PARENT;
	knotd_conf_t queue = knotd_conf_check_item(args, MOD_QUEUE);
	knotd_conf_t dry = knotd_conf_check_item(args, MOD_DRY_RUN);
	if (parent) {
		const yp_name_t *child_only[] = { MOD_PARENT, MOD_TA, MOD_OVERDUE, MOD_ALARM,
		                                  MOD_ALARM_TO, MOD_CONTROL };
		for (size_t i = 0; i < sizeof(child_only) / sizeof(child_only[0]); i++) {
			if (knotd_conf_check_item(args, child_only[i]).count > 0) {
				args->err_str = "parent, trust-anchor, overdue, alarm, alarm-timeout and "
				                "control apply to child mode only";
				return KNOT_EINVAL;
			}
		}
		bool dry_on = dry.count > 0 && dry.single.boolean;
		if (queue.count == 0 && !dry_on) {
			args->err_str = "parent mode needs a queue (spool:/PATH or postgresql://...), "
			                "or dry-run on";
			return KNOT_EINVAL;
		}
		if (queue.count > 0) {
			const char *q = queue.single.string;
			if (zg_queue_uri(q, NULL) == ZG_QUEUE_INVALID) {
				args->err_str = "queue must be " ZG_QUEUE_URI_FORMS;
				return KNOT_EINVAL;
			}
		}
	} else {
		const yp_name_t *parent_only[] = { MOD_QUEUE, MOD_DRY_RUN, MOD_SCAN_INTERVAL, MOD_CHILD,
		                                   MOD_QUERY_RATE, MOD_CHILD_PORT, MOD_KEY };
		for (size_t i = 0; i < sizeof(parent_only) / sizeof(parent_only[0]); i++) {
			if (knotd_conf_check_item(args, parent_only[i]).count > 0) {
				args->err_str = "queue, dry-run, scan-interval, child, query-rate, child-port "
				                "and key apply to parent mode only";
				return KNOT_EINVAL;
			}
		}
	}
	return KNOT_EOK;
}

/* The address the worker polls: 'server', else the first 'listen' of the server section. */
static int guard_server(knotd_mod_t *mod, zg_server_t *srv)
{
	struct sockaddr_storage ss;
	int ret = zg_mod_listen_addr(mod, MOD_SERVER, &ss);
	if (ret == KNOT_EOK) {
		zg_server_set(srv, (struct sockaddr *)&ss);
	}
	return ret;
}

/* One check of what the zone publishes; the guard's state is published for
 * the hooks. Returns true when the set is safe; v then holds it (the caller
 * deinits v always). */
static bool guard_check(dsync_ctx_t *ctx, zg_child_view_t *v)
{
	zg_stub_opts_t opts = {
		.timeout_ms = POLL_TIMEOUT_MS,
		.udp_tries = POLL_TRIES,
		.edns_opt_code = GUARD_OPT_CODE,
		.edns_opt_data = ctx->token,
		.edns_opt_len = GUARD_TOKEN_LEN,
	};
	char err[256] = "", why[256] = "";
	zg_guard_in_t in = { .server = ctx->server.name, .fetch_err = err, .why = why };
	in.fetch_ret = zg_child_view_fetch(v, &ctx->server, ctx->zone, &opts, err, sizeof(err));
	if (in.fetch_ret == 0) {
		in.check_ret = zg_cds_check_published(v, (uint32_t)time(NULL), ctx->allow_delete,
		                                      why, sizeof(why));
		in.set_hash = zg_guard_set_hash(&v->dnskey.rr.rrs, &v->cds.rr.rrs,
		                                &v->cdnskey.rr.rrs);
	}
	zg_guard_out_t out;
	zg_guard_step(&ctx->guard_st, &in, &out);
	atomic_store(&ctx->checked, ctx->guard_st.checked);
	atomic_store(&ctx->guard, ctx->guard_st.state);
	if (out.log) {
		wlog(ctx, out.level, "%s", out.text);
	}
	knotd_mod_stats_incr(ctx->mod, 0, CTR_CDS_UNSAFE, 0, out.unsafe);
	return out.safe;
}

/* ---- alarm ---- */

static void alarms_reap(dsync_ctx_t *ctx, bool kill_all)
{
	zg_modalarm_reap(ctx->mod, &ctx->alarm, kill_all);
}

/* Starts 'alarm ZONE KEYTAG REASON' without waiting for it. */
static void alarm_run(dsync_ctx_t *ctx, uint16_t keytag, const char *reason)
{
	zg_modalarm_run(ctx->mod, &ctx->alarm, ctx->zone_str, "key tag", keytag, reason);
}

/* ---- KSK submission confirmation ---- */

/* zone-ksk-submitted through the control socket (bounded). 0, or the error
 * (err filled with knotd's reply when it answered one). */
static int ctl_ksk_submitted(dsync_ctx_t *ctx, char *err, size_t errlen)
{
	return zg_ctl_zone_command(ctx->ctl_path, CTL_TIMEOUT_MS, "zone-ksk-submitted",
	                           ctx->zone_str, err, errlen);
}


static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + 1; /* Never 0. */
}

/* Does what a step of the interlock asks: logs, counters, the alarm. */
static void sync_apply(dsync_ctx_t *ctx, const zg_interlock_out_t *out)
{
	for (size_t i = 0; i < out->nlogs; i++) {
		wlog(ctx, out->logs[i].level, "%s", out->logs[i].text);
	}
	knotd_mod_stats_incr(ctx->mod, 0, CTR_DS_UNAUTH, 0, out->ds_unauth);
	knotd_mod_stats_incr(ctx->mod, 0, CTR_DS_FAILED, 0, out->ds_failed);
	knotd_mod_stats_incr(ctx->mod, 0, CTR_DS_OK, 0, out->ds_ok);
	knotd_mod_stats_incr(ctx->mod, 0, CTR_OVERDUE, 0, out->overdue);
	if (out->alarm) {
		alarm_run(ctx, out->alarm_keytag, out->alarm_reason);
	}
}

static bool worker_stopping(void *arg)
{
	dsync_ctx_t *ctx = arg;
	return zg_modworker_stopping(&ctx->worker);
}

/* One round of the DS interlock for the published set v (a safe one): the
 * step function decides, this does the I/O it asks for. */
static void parent_check(dsync_ctx_t *ctx, const zg_child_view_t *v)
{
	const knot_rdataset_t *cds = &v->cds.rr.rrs, *cdnskey = &v->cdnskey.rr.rrs;
	bool has_cds = cds->count > 0;
	const knot_rdataset_t *ann = has_cds ? cds : cdnskey;
	char tags[128] = "";
	zg_interlock_in_t in = {
		.event = ZG_INTERLOCK_ZONE,
		.now = time(NULL),
		.announced = ann->count > 0 && !(has_cds ? zg_cds_is_delete(cds->rdata) :
		                                           zg_cdnskey_is_delete(cdnskey->rdata)),
		.cdnskey = !has_cds,
		.tags = tags,
	};
	if (in.announced) {
		in.hash = zg_guard_rdataset_hash(ann);
		zg_tags_str(ann, !has_cds, tags, sizeof(tags));
		in.keytag = has_cds ? knot_ds_key_tag(ann->rdata) : zg_dnskey_keytag(ann->rdata);
	}
	zg_interlock_out_t out;
	zg_interlock_step(&ctx->sync, &in, &out);
	sync_apply(ctx, &out);
	if (!out.check_parents) {
		return;
	}
	char why[384] = "";
	zg_parents_conf_t pc = {
		.servers = ctx->parents, .keys = ctx->parent_keys, .nservers = ctx->nparents,
		.ta_owner = ctx->ta_owner, .ta_ds = &ctx->ta_ds, .ta_dnskey = &ctx->ta_dnskey,
		.ta_path = ctx->ta_path, .resolver = ctx->have_resolver ? &ctx->resolver : NULL,
		.timeout_ms = PARENT_TIMEOUT_MS, .tries = PARENT_TRIES,
		.stopping = worker_stopping, .stopping_arg = ctx,
	};
	if (!zg_parents_check(&pc, ctx->zone, v, ctx->sync.tags, (uint32_t)in.now, &in, why,
	                      sizeof(why))) {
		return;
	}
	in.event = ZG_INTERLOCK_PARENTS;
	in.mono_ms = mono_ms();
	zg_interlock_step(&ctx->sync, &in, &out);
	sync_apply(ctx, &out);
	if (!out.submit) {
		return;
	}
	char err[256] = "";
	in.event = ZG_INTERLOCK_SUBMITTED;
	in.submit_ret = ctl_ksk_submitted(ctx, err, sizeof(err));
	in.submit_err = err;
	zg_interlock_step(&ctx->sync, &in, &out);
	sync_apply(ctx, &out);
}

static void *guard_worker(void *arg)
{
	dsync_ctx_t *ctx = arg;
	do {
		zg_child_view_t v;
		if (guard_check(ctx, &v)) {
			parent_check(ctx, &v);
		}
		zg_child_view_deinit(&v);
		alarms_reap(ctx, false);
	} while (!zg_modworker_sleep(&ctx->worker,
	                             atomic_load(&ctx->guard) == ZG_GUARD_UNKNOWN &&
	                             ctx->interval > RETRY_UNKNOWN_S ? RETRY_UNKNOWN_S : ctx->interval));
	return NULL;
}

/* ---- parent mode ---- */

static void scan_log(void *arg, int level, const char *msg)
{
	dsync_ctx_t *ctx = arg;
	wlog(ctx, level, "%s", msg);
}

/* Adds what the scanner counted since the last call to the counters. */
static void scan_counters(dsync_ctx_t *ctx)
{
	zg_cdscan_stats_t now;
	zg_cdscan_stats(ctx->scan, &now);
	zg_cdscan_stats_t *old = &ctx->scan_seen;
	knotd_mod_stats_incr(ctx->mod, 0, CTR_SCANNED, 0, now.scanned - old->scanned);
	knotd_mod_stats_incr(ctx->mod, 0, CTR_ACCEPTED, 0, now.accepted - old->accepted);
	knotd_mod_stats_incr(ctx->mod, 0, CTR_REFUSED, 0, now.refused - old->refused);
	knotd_mod_stats_incr(ctx->mod, 0, CTR_QUEUED, 0, now.queued - old->queued);
	knotd_mod_stats_incr(ctx->mod, 0, CTR_SCAN_FAILED, 0, now.failed - old->failed);
	*old = now;
}

static bool parent_stopping(dsync_ctx_t *ctx)
{
	return zg_modworker_stopping(&ctx->worker);
}

/* The listed children, looked up by referral and scanned. */
static void scan_listed(dsync_ctx_t *ctx, char *last_err, size_t last_len)
{
	for (char **c = ctx->children; c != NULL && *c != NULL && !parent_stopping(ctx); c++) {
		zg_cdscan_deleg_t d;
		char err[384];
		int ret = zg_cdscan_lookup(ctx->scan, *c, &d, err, sizeof(err));
		if (ret != 0) {
			if (strcmp(last_err, err) != 0) {
				wlog(ctx, LOG_WARNING, "child %s not scanned (%s)", *c, err);
				snprintf(last_err, last_len, "%s", err);
			}
			continue;
		}
		(void)zg_cdscan_child(ctx->scan, &d);
	}
	scan_counters(ctx);
}

static int64_t mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* Parent mode's worker: dsync/scansched.h says what is due, this does it. */
static void *parent_worker(void *arg)
{
	dsync_ctx_t *ctx = arg;
	zg_cdscan_deleg_t *list = NULL;
	size_t count = 0, pos = 0;
	char last_axfr[256] = "", last_listed[384] = "";
	zg_cdscan_pass_t pass;
	zg_scansched_t sched;
	zg_scansched_init(&sched, mono_s(), ctx->interval, ctx->scan_interval,
	                  ctx->children != NULL);

	while (!parent_stopping(ctx)) {
		int64_t now = mono_s(), wait = 0;
		switch (zg_scansched_next(&sched, now, &wait)) {
		case ZG_SCANSCHED_LISTED:
			scan_listed(ctx, last_listed, sizeof(last_listed));
			zg_scansched_listed_done(&sched, mono_s());
			continue;
		case ZG_SCANSCHED_LIST: {
			char err[256] = "";
			int ret = zg_cdscan_list(ctx->scan, &list, &count, err, sizeof(err));
			zg_scansched_listing(&sched, now, mono_s(), ret == 0);
			if (ret != 0) {
				if (strcmp(last_axfr, err) != 0) {
					wlog(ctx, LOG_WARNING, "cannot list the delegations, AXFR "
					     "from %s failed (%s), retrying every %us", ctx->server.name,
					     err, ctx->interval);
					snprintf(last_axfr, sizeof(last_axfr), "%s", err);
				}
				list = NULL;
				continue;
			}
			last_axfr[0] = '\0';
			pos = 0;
			zg_cdscan_pass_begin(ctx->scan, &pass, count);
			wlog(ctx, LOG_DEBUG, "scan of %zu delegations started", count);
			continue;
		}
		case ZG_SCANSCHED_SLICE: {
			/* A slice of the pass, so listed children keep their interval. */
			int64_t until = mono_s() + 1;
			while (pos < count && !parent_stopping(ctx) && mono_s() <= until) {
				(void)zg_cdscan_child(ctx->scan, &list[pos++]);
			}
			scan_counters(ctx);
			if (pos == count) {
				char line[256];
				double secs = zg_cdscan_pass_end(ctx->scan, &pass, line, sizeof(line));
				wlog(ctx, LOG_INFO, "%s", line);
				knotd_mod_stats_store(ctx->mod, 0, CTR_PASS_SECONDS, 0,
				                      (uint64_t)(secs + 0.5));
				free(list);
				list = NULL;
				zg_scansched_pass_done(&sched);
			}
			continue;
		}
		default:
			break;
		}
		/* Idle until the next listed scan or the next pass, or a wake-up. */
		zg_modworker_sleep(&ctx->worker, wait);
	}
	free(list);
	return NULL;
}

/* "ALG:NAME:SECRET" of the key item, for the AXFR. */
static int parent_key(knotd_mod_t *mod, char *buf, size_t len)
{
	knotd_conf_t ref = knotd_conf_mod(mod, MOD_KEY);
	if (ref.count == 0) {
		buf[0] = '\0';
		return KNOT_EOK;
	}
	knot_tsig_key_t key;
	int ret = zg_modkey_load(mod, &ref.single, &key);
	if (ret != KNOT_EOK) {
		return ret;
	}
	ret = zg_xfr_key_str(&key, buf, len) == 0 ? KNOT_EOK : KNOT_EINVAL;
	knot_tsig_key_deinit(&key);
	return ret;
}

static int parent_load(knotd_mod_t *mod, dsync_ctx_t *ctx)
{
	ctx->scan_interval = (unsigned)knotd_conf_mod(mod, MOD_SCAN_INTERVAL).single.integer;
	char tsig[512];
	if (parent_key(mod, tsig, sizeof(tsig)) != KNOT_EOK) {
		knotd_mod_log(mod, LOG_ERR, "key has no usable secret");
		return KNOT_EINVAL;
	}
	knotd_conf_t queue = knotd_conf_mod(mod, MOD_QUEUE);
	bool dry = knotd_conf_mod(mod, MOD_DRY_RUN).single.boolean;
	knotd_conf_t resolver = knotd_conf_mod(mod, MOD_RESOLVER);
	zg_server_t res;
	if (resolver.count > 0) {
		zg_server_set(&res, (const struct sockaddr *)&resolver.single.addr);
	}
	char zone[KNOT_DNAME_TXT_MAXLEN + 1];
	if (knot_dname_to_str(zone, ctx->zone, sizeof(zone)) == NULL) {
		return KNOT_EINVAL;
	}
	zg_cdscan_conf_t sc = {
		.zone = zone,
		.server = ctx->server,
		.tsig = tsig[0] != '\0' ? tsig : NULL,
		.resolver = resolver.count > 0 ? &res : NULL,
		.child_port = (uint16_t)knotd_conf_mod(mod, MOD_CHILD_PORT).single.integer,
		.query_rate = (unsigned)knotd_conf_mod(mod, MOD_QUERY_RATE).single.integer,
		.allow_delete = ctx->allow_delete,
		.dry_run = dry,
		.queue = queue.count > 0 ? queue.single.string : NULL,
		.log = scan_log,
		.log_arg = ctx,
		.cancel = &ctx->worker.stop,
	};
	int ret = zg_cdscan_new(&sc, &ctx->scan);
	if (ret != 0) {
		knotd_mod_log(mod, LOG_ERR, "cannot open the queue %s (%s)",
		              sc.queue != NULL ? sc.queue : "-", zg_strerror(ret));
		return KNOT_EINVAL;
	}
	knotd_conf_t kids = knotd_conf_mod(mod, MOD_CHILD);
	if (kids.count > 0) {
		ctx->children = calloc(kids.count + 1, sizeof(char *));
		if (ctx->children == NULL) {
			knotd_conf_free(&kids);
			return KNOT_ENOMEM;
		}
		for (size_t i = 0; i < kids.count; i++) {
			char buf[KNOT_DNAME_TXT_MAXLEN + 1];
			if (knot_dname_to_str(buf, kids.multi[i].dname, sizeof(buf)) == NULL ||
			    (ctx->children[i] = strdup(buf)) == NULL) {
				knotd_conf_free(&kids);
				return KNOT_ENOMEM;
			}
		}
	}
	size_t nkids = kids.count;
	knotd_conf_free(&kids);
	if (zg_modworker_start(&ctx->worker, parent_worker, ctx) != 0) {
		return KNOT_ENOMEM;
	}
	knotd_mod_log(mod, LOG_NOTICE, "cds scanner active (queue %s%s, server %s, scan-interval %us, "
	              "%zu listed children every %us, query-rate %u/s, child-port %u, allow-delete %s)",
	              sc.queue != NULL ? sc.queue : "none", dry ? ", dry-run" : "", ctx->server.name,
	              ctx->scan_interval, nkids, ctx->interval, sc.query_rate,
	              (unsigned)sc.child_port, ctx->allow_delete ? "on" : "off");
	return KNOT_EOK;
}

/* The guard's verdict on the DNSKEY, CDS and CDNSKEY the zone serves now. */
static zg_guard_verdict_t served_set(dsync_ctx_t *ctx, knotd_qdata_t *qdata)
{
	knot_rrset_t dnskey = knotd_qdata_zone_apex_rrset(qdata, KNOT_RRTYPE_DNSKEY);
	knot_rrset_t cds = knotd_qdata_zone_apex_rrset(qdata, KNOT_RRTYPE_CDS);
	knot_rrset_t cdnskey = knotd_qdata_zone_apex_rrset(qdata, KNOT_RRTYPE_CDNSKEY);
	return zg_guard_served(atomic_load(&ctx->checked), &dnskey.rrs, &cds.rrs, &cdnskey.rrs);
}

/* Wakes the worker: the zone serves a set it has not checked. */
static void guard_wake(dsync_ctx_t *ctx)
{
	zg_modworker_wake(&ctx->worker);
}

/*
 * The guard, before knotd answers: CDS/CDNSKEY queries for the apex, and
 * outgoing AXFR/IXFR of the zone, while the zone publishes a CDS/CDNSKEY set
 * that is not the one checked and found safe (unsafe, not checked yet, or
 * changed since the last check), get SERVFAIL (queries) or REFUSED
 * (transfers): no parent and no secondary receives an unsafe set.
 */
static knotd_state_t guard_hook(knotd_state_t state, knot_pkt_t *pkt, knotd_qdata_t *qdata,
                                knotd_mod_t *mod)
{
	(void)pkt;
	dsync_ctx_t *ctx = knotd_mod_ctx(mod);
	if (state == KNOTD_STATE_FAIL) {
		return state;
	}
	bool xfr = qdata->type == KNOTD_QUERY_TYPE_AXFR || qdata->type == KNOTD_QUERY_TYPE_IXFR;
	if (!xfr) {
		uint16_t qtype = knot_pkt_qtype(qdata->query);
		if (qdata->type != KNOTD_QUERY_TYPE_NORMAL ||
		    (qtype != KNOT_RRTYPE_CDS && qtype != KNOT_RRTYPE_CDNSKEY) ||
		    !knot_dname_is_case_equal(knot_pkt_qname(qdata->query), ctx->zone)) {
			return state;
		}
		/* The worker's own poll. */
		const knot_rrset_t *opt_rr = qdata->query->opt_rr;
		uint8_t *opt = opt_rr != NULL ? knot_edns_get_option(opt_rr, GUARD_OPT_CODE, NULL) : NULL;
		if (opt != NULL && knot_edns_opt_get_length(opt) == GUARD_TOKEN_LEN &&
		    memcmp(knot_edns_opt_get_data(opt), ctx->token, GUARD_TOKEN_LEN) == 0) {
			return state;
		}
	}
	zg_guard_verdict_t verdict = served_set(ctx, qdata);
	if (verdict == ZG_GUARD_PASS) {
		return state;
	}
	bool other = verdict == ZG_GUARD_UNCHECKED;
	if (other) {
		guard_wake(ctx);
	}
	if (!xfr) {
		knotd_mod_stats_incr(mod, qdata->params->thread_id, CTR_CDS_SERVFAIL, 0, 1);
		qdata->rcode = KNOT_RCODE_SERVFAIL;
		return KNOTD_STATE_FAIL;
	}
	knotd_mod_stats_incr(mod, qdata->params->thread_id, CTR_XFR_REFUSED, 0, 1);
	unsigned long long quiet = 0;
	if (zg_modlog_due(&ctx->refuse_log, (long long)time(NULL), 10, &quiet)) {
		char addr[80];
		knotd_mod_log(mod, LOG_WARNING, "%s, outgoing, remote %s, refused (cds/cdnskey %s, "
		              "%llu more refused since the last message)",
		              qdata->type == KNOTD_QUERY_TYPE_AXFR ? "AXFR" : "IXFR",
		              zg_modlog_remote(qdata, addr, sizeof(addr)),
		              other ? "not checked yet" : "unsafe", quiet);
	}
	qdata->rcode = KNOT_RCODE_REFUSED;
	return KNOTD_STATE_FAIL;
}

static void ctx_free(dsync_ctx_t *ctx)
{
	if (ctx == NULL) {
		return;
	}
	zg_modworker_deinit(&ctx->worker);
	alarms_reap(ctx, true);
	zg_cdscan_free(ctx->scan);
	for (char **c = ctx->children; c != NULL && *c != NULL; c++) {
		free(*c);
	}
	free(ctx->children);
	knot_rdataset_clear(&ctx->ta_ds, NULL);
	knot_rdataset_clear(&ctx->ta_dnskey, NULL);
	knot_dname_free(ctx->ta_owner, NULL);
	for (size_t i = 0; i < ctx->nparents; i++) {
		knot_tsig_key_deinit(&ctx->parent_keys[i]);
	}
	zg_alarm_deinit(&ctx->alarm);
	knot_dname_free(ctx->zone, NULL);
	free(ctx);
}

/* A parent server; key: its TSIG key (copied) or NULL. */
static void add_parent(dsync_ctx_t *ctx, const struct sockaddr_storage *ss,
                       const knot_tsig_key_t *key)
{
	if (ctx->nparents < MAX_PARENTS) {
		if (key != NULL &&
		    knot_tsig_key_copy(&ctx->parent_keys[ctx->nparents], key) != KNOT_EOK) {
			knotd_mod_log(ctx->mod, LOG_WARNING, "parent key not usable, queries unsigned");
		}
		zg_server_set(&ctx->parents[ctx->nparents++], (const struct sockaddr *)ss);
	} else {
		wlog(ctx, LOG_WARNING, "more than %u parent addresses, the rest ignored",
		     MAX_PARENTS);
	}
}

/* Parent servers, trust anchor, overdue, alarm, control socket. */
static int sync_conf(knotd_mod_t *mod, dsync_ctx_t *ctx)
{
	/* Each value: an address (ADDR[@PORT]) or the id of a remote (all its addresses). */
	knotd_conf_t refs = knotd_conf_mod(mod, MOD_PARENT);
	int ret = KNOT_EOK;
	for (size_t i = 0; i < refs.count && ret == KNOT_EOK; i++) {
		const char *val = refs.multi[i].string;
		zg_server_t srv;
		if (zg_server_parse(&srv, val, 53) == 0) {
			add_parent(ctx, (const struct sockaddr_storage *)&srv.addr, NULL);
			continue;
		}
		knotd_conf_t id = { .single = { .data = (const uint8_t *)val,
		                                .data_len = strlen(val) + 1 }, .count = 1 };
		knotd_conf_t addr = knotd_conf(mod, CONF_REMOTE, CONF_ADDRESS, &id);
		if (addr.count == 0) {
			knotd_mod_log(mod, LOG_ERR, "parent '%s' is neither an address nor a remote "
			              "with an address", val);
			ret = KNOT_EINVAL;
		}
		/* A remote with a key: every query to it signed, every answer checked. */
		knotd_conf_t kref = knotd_conf(mod, CONF_REMOTE, CONF_KEY, &id);
		knot_tsig_key_t key = { 0 };
		if (kref.count > 0 && zg_modkey_load(mod, &kref.single, &key) != KNOT_EOK) {
			knotd_mod_log(mod, LOG_ERR, "parent '%s': key not usable", val);
			ret = KNOT_EINVAL;
		}
		for (size_t j = 0; j < addr.count; j++) {
			add_parent(ctx, &addr.multi[j].addr, key.name != NULL ? &key : NULL);
		}
		knot_tsig_key_deinit(&key);
		knotd_conf_free(&addr);
	}
	knotd_conf_free(&refs);
	if (ret != KNOT_EOK) {
		return ret;
	}

	/* The trust anchor: configured, else the root's (dns-root-data). */
	knotd_conf_t ta = knotd_conf_mod(mod, MOD_TA);
	const char *ta_path = ta.count > 0 && ta.single.string != NULL ? ta.single.string
	                                                             : zg_trust_anchor_default();
	if (ta_path != NULL) {
		char err[512];
		ret = zg_trust_anchor_load(ta_path, &ctx->ta_ds, &ctx->ta_dnskey, &ctx->ta_owner,
		                           err, sizeof(err));
		if (ret != 0) {
			knotd_mod_log(mod, LOG_ERR, "%s", err);
			return KNOT_EINVAL;
		}
		snprintf(ctx->ta_path, sizeof(ctx->ta_path), "%s", ta_path);
	}
	knotd_conf_t res = knotd_conf_mod(mod, MOD_RESOLVER);
	if (res.count > 0) {
		zg_server_set(&ctx->resolver, (const struct sockaddr *)&res.single.addr);
		ctx->have_resolver = true;
	} else {
		ctx->have_resolver = zg_resolv_conf(&ctx->resolver) == 0;
	}

	ctx->overdue = (uint32_t)knotd_conf_mod(mod, MOD_OVERDUE).single.integer;
	zg_interlock_init(&ctx->sync, ctx->overdue, ctx->nparents);
	knotd_conf_t alarm = knotd_conf_mod(mod, MOD_ALARM);
	if (zg_alarm_init(&ctx->alarm, alarm.count > 0 ? alarm.single.string : NULL,
	                  (unsigned)knotd_conf_mod(mod, MOD_ALARM_TO).single.integer) != 0) {
		return KNOT_ENOMEM;
	}

	knotd_conf_t ctl = knotd_conf_mod(mod, MOD_CONTROL);
	if (zg_mod_ctl_path(mod, ctl.count > 0 ? ctl.single.string : NULL,
	                    ctx->ctl_path, sizeof(ctx->ctl_path)) != 0) {
		knotd_mod_log(mod, LOG_ERR, "control socket path too long");
		return KNOT_EINVAL;
	}
	if (knot_dname_to_str(ctx->zone_str, ctx->zone, sizeof(ctx->zone_str)) == NULL) {
		return KNOT_EINVAL;
	}
	return KNOT_EOK;
}

static int dsync_load(knotd_mod_t *mod)
{
	dsync_ctx_t *ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		return KNOT_ENOMEM;
	}
	zg_modworker_init(&ctx->worker);
	zg_guard_init(&ctx->guard_st);
	atomic_init(&ctx->guard, ZG_GUARD_UNKNOWN);
	ctx->mod = mod;
	ctx->mode = knotd_conf_mod(mod, MOD_MODE).single.option;
	ctx->allow_delete = knotd_conf_mod(mod, MOD_ALLOW_DELETE).single.boolean;
	ctx->interval = (unsigned)knotd_conf_mod(mod, MOD_INTERVAL).single.integer;

	int ret = zg_mod_counters_add(mod, ctr_names, CTR_COUNT);
	if (ret != KNOT_EOK) {
		goto fail;
	}
	knotd_mod_ctx_set(mod, ctx);

	ctx->zone = knot_dname_copy(knotd_mod_zone(mod), NULL);
	if (ctx->zone == NULL) {
		ret = KNOT_ENOMEM;
		goto fail;
	}
	knot_dname_to_lower(ctx->zone);
	if ((ret = guard_server(mod, &ctx->server)) != KNOT_EOK) {
		knotd_mod_log(mod, LOG_ERR, "no address to check the zone at (set 'server' or a "
		              "server 'listen' address)");
		goto fail;
	}
	if (ctx->mode == DSYNC_PARENT) {
		if ((ret = parent_load(mod, ctx)) != KNOT_EOK) {
			goto fail;
		}
		return KNOT_EOK;
	}
	if ((ret = sync_conf(mod, ctx)) != KNOT_EOK) {
		goto fail;
	}
	if (dnssec_random_buffer(ctx->token, sizeof(ctx->token)) != 0) {
		ret = KNOT_ERROR;
		goto fail;
	}
	ret = knotd_mod_hook(mod, KNOTD_STAGE_BEGIN, guard_hook);
	if (ret != KNOT_EOK) {
		goto fail;
	}
	if (zg_modworker_start(&ctx->worker, guard_worker, ctx) != 0) {
		ret = KNOT_ENOMEM;
		goto fail;
	}
	knotd_mod_log(mod, LOG_NOTICE, "cds/cdnskey guard active (server %s, interval %us, "
	              "allow-delete %s)", ctx->server.name, ctx->interval,
	              ctx->allow_delete ? "on" : "off");
	if (ctx->nparents > 0) {
		size_t nkeys = 0;
		for (size_t i = 0; i < ctx->nparents; i++) {
			nkeys += ctx->parent_keys[i].name != NULL;
		}
		knotd_mod_log(mod, LOG_NOTICE, "parent ds confirmation active (%zu parent server(s), "
		              "%zu with a tsig key, trust anchor %s, resolver %s, overdue %us, control %s)",
		              ctx->nparents, nkeys, ctx->ta_owner != NULL ? ctx->ta_path : "none",
		              ctx->have_resolver ? ctx->resolver.name : "none", ctx->overdue,
		              ctx->ctl_path);
		if (ctx->ta_owner == NULL && nkeys < ctx->nparents) {
			knotd_mod_log(mod, LOG_WARNING, "no trust anchor (install dns-root-data or set "
			              "trust-anchor) and %zu parent server(s) without a tsig key: their "
			              "answers are not authenticated, no ds change will be confirmed",
			              ctx->nparents - nkeys);
		}
	} else {
		knotd_mod_log(mod, LOG_NOTICE, "no parent configured, ds changes not confirmed "
		              "(overdue alarm only)");
	}
	return KNOT_EOK;
fail:
	knotd_mod_ctx_set(mod, NULL);
	ctx_free(ctx);
	return ret;
}

static void dsync_unload(knotd_mod_t *mod)
{
	ctx_free(knotd_mod_ctx(mod));
}

KNOTD_MOD_API(dsync, KNOTD_MOD_FLAG_SCOPE_ZONE | KNOTD_MOD_FLAG_OPT_CONF,
              dsync_load, dsync_unload, dsync_conf, dsync_conf_check);
