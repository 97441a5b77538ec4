/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * mod-dsync: CDS/DS synchronisation interlock, the knotd adapter: schema,
 * configuration check and loading, the guard hook, counters and logging.
 * The logic lives in lib/dsync/ and knows no knotd.
 *
 * Child mode (lib/dsync/childsync.c): a worker thread polls the zone's
 * DNSKEY/CDS/CDNSKEY from this server and checks them (guard.c); while the
 * set is unsafe, or not checked yet, a BEGIN hook answers CDS/CDNSKEY
 * queries for the apex with SERVFAIL and refuses outgoing transfers. While
 * the safe zone announces a DS change, the DS interlock (interlock.c) asks
 * every configured parent server for the DS (parents.c) and, once every one
 * serves a validated DS for every announced key and the DS TTL has passed,
 * confirms the KSK submission through this server's control socket
 * (zone-ksk-submitted). A change not confirmed within 'overdue' is logged,
 * counted and passed to the alarm command, once per overdue interval.
 *
 * Parent mode (lib/dsync/scanrun.c): a worker thread scans the zone's
 * delegations (AXFR from this server every scan-interval, at a bounded query
 * rate) and the listed children (every check-interval) with cdscan.c, each
 * accepted change written as a JSON message into the ingest queue.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/knotd-compat.h"
#include "modules/modaddr.h"
#include "modules/modworker.h"
#include "modules/modalarm.h"
#include "modules/modkey.h"
#include "modules/modremote.h"
#include "modules/modlog.h"
#include "dsync/childsync.h"
#include "dsync/scanrun.h"
#include "dns/ctl.h"
#include "ingest/queue.h"
#include "core/error.h"
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

#define CONF_KEY		"\x03""key"

#define CTL_TIMEOUT_MS		5000

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

/* The counters, in the order knotc zone-stats lists them. */
enum {
	CTR_DS_OK, CTR_DS_FAILED, CTR_OVERDUE, CTR_CDS_UNSAFE, CTR_CDS_SERVFAIL, CTR_SCANNED,
	CTR_ACCEPTED, CTR_REFUSED, CTR_QUEUED, CTR_SCAN_FAILED, CTR_PASS_SECONDS, CTR_DS_UNAUTH,
	CTR_XFR_REFUSED, CTR_COUNT
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
	knotd_mod_t *mod;
	zg_childsync_t child;          /* Child mode (lib/dsync/childsync.c). */
	zg_alarm_t alarm;              /* The alarm command runner. */
	char ctl_path[512];
	zg_modlog_limit_t refuse_log;  /* Refused transfers. */
	zg_scanrun_t run;              /* Parent mode (lib/dsync/scanrun.c). */
	zg_modworker_t worker;         /* The guard's or the scanner's thread. */
} dsync_ctx_t;

/* Logs of the workers: none once unload began (see zg_worker_log()). */
#define wlog(ctx, ...) zg_worker_log((ctx)->mod, zg_modworker_stopping(&(ctx)->worker), __VA_ARGS__)

/* Whether any of the items (NULL-terminated) is set. */
static bool any_set(knotd_conf_check_args_t *args, const yp_name_t *const *items)
{
	for (; *items != NULL; items++) {
		if (knotd_conf_check_item(args, *items).count > 0) {
			return true;
		}
	}
	return false;
}

static int dsync_conf_check(knotd_conf_check_args_t *args)
{
	static const yp_name_t *const child_only[] = { MOD_PARENT, MOD_TA, MOD_OVERDUE, MOD_ALARM,
	                                               MOD_ALARM_TO, MOD_CONTROL, NULL };
	static const yp_name_t *const parent_only[] = { MOD_QUEUE, MOD_DRY_RUN, MOD_SCAN_INTERVAL,
	                                                MOD_CHILD, MOD_QUERY_RATE, MOD_CHILD_PORT,
	                                                MOD_KEY, NULL };
	knotd_conf_t mode = knotd_conf_check_item(args, MOD_MODE);
	knotd_conf_t queue = knotd_conf_check_item(args, MOD_QUEUE);
	knotd_conf_t dry = knotd_conf_check_item(args, MOD_DRY_RUN);
	if (mode.count == 0 || mode.single.option != DSYNC_PARENT) {
		if (any_set(args, parent_only)) {
			args->err_str = "queue, dry-run, scan-interval, child, query-rate, child-port "
			                "and key apply to parent mode only";
			return KNOT_EINVAL;
		}
	} else if (any_set(args, child_only)) {
		args->err_str = "parent, trust-anchor, overdue, alarm, alarm-timeout and "
		                "control apply to child mode only";
		return KNOT_EINVAL;
	} else if (queue.count == 0 && !(dry.count > 0 && dry.single.boolean)) {
		args->err_str = "parent mode needs a queue (spool:/PATH or postgresql://...), "
		                "or dry-run on";
		return KNOT_EINVAL;
	} else if (queue.count > 0 && zg_queue_uri(queue.single.string, NULL) == ZG_QUEUE_INVALID) {
		args->err_str = "queue must be " ZG_QUEUE_URI_FORMS;
		return KNOT_EINVAL;
	}
	return KNOT_EOK;
}

/* ---- child mode: the effects of a round (dsync/childsync.h) ---- */

static const int child_ctr[] = {
	[ZG_CHILDSYNC_DS_OK]      = CTR_DS_OK,
	[ZG_CHILDSYNC_DS_FAILED]  = CTR_DS_FAILED,
	[ZG_CHILDSYNC_DS_UNAUTH]  = CTR_DS_UNAUTH,
	[ZG_CHILDSYNC_OVERDUE]    = CTR_OVERDUE,
	[ZG_CHILDSYNC_CDS_UNSAFE] = CTR_CDS_UNSAFE,
};

/* The workers' log lines (child round, scanner). */
static void worker_log(void *arg, int level, const char *text)
{
	dsync_ctx_t *ctx = arg;
	wlog(ctx, level, "%s", text);
}

static void child_count(void *arg, zg_childsync_ctr_t ctr, uint64_t n)
{
	dsync_ctx_t *ctx = arg;
	knotd_mod_stats_incr(ctx->mod, 0, child_ctr[ctr], 0, n);
}

/* Starts 'alarm ZONE KEYTAG REASON' without waiting for it. */
static void child_alarm(void *arg, uint16_t keytag, const char *reason)
{
	dsync_ctx_t *ctx = arg;
	zg_modalarm_run(ctx->mod, &ctx->alarm, ctx->child.zone_str, "key tag", keytag, reason);
}

/* zone-ksk-submitted through the control socket (bounded). 0, or the error
 * (err filled with knotd's reply when it answered one). */
static int child_submit(void *arg, char *err, size_t errlen)
{
	dsync_ctx_t *ctx = arg;
	return zg_ctl_zone_command(ctx->ctl_path, CTL_TIMEOUT_MS, "zone-ksk-submitted",
	                           ctx->child.zone_str, err, errlen);
}

static bool worker_stopping(void *arg)
{
	dsync_ctx_t *ctx = arg;
	return zg_modworker_stopping(&ctx->worker);
}

static void *guard_worker(void *arg)
{
	dsync_ctx_t *ctx = arg;
	zg_childsync_ops_t ops = {
		.log = worker_log, .count = child_count, .alarm = child_alarm,
		.submit = child_submit, .stopping = worker_stopping, .arg = ctx,
	};
	do {
		zg_childsync_round(&ctx->child, &ops);
		zg_modalarm_reap(ctx->mod, &ctx->alarm, false);
	} while (!zg_modworker_sleep(&ctx->worker, zg_childsync_wait(&ctx->child)));
	return NULL;
}

/* ---- parent mode ---- */

/* Parent mode's worker: dsync/scanrun.h does what is due, this counts it. */
static void *parent_worker(void *arg)
{
	dsync_ctx_t *ctx = arg;
	while (!zg_modworker_stopping(&ctx->worker)) {
		zg_scanrun_out_t out;
		int64_t wait = zg_scanrun_step(&ctx->run, &out);
		knotd_mod_stats_incr(ctx->mod, 0, CTR_SCANNED, 0, out.delta.scanned);
		knotd_mod_stats_incr(ctx->mod, 0, CTR_ACCEPTED, 0, out.delta.accepted);
		knotd_mod_stats_incr(ctx->mod, 0, CTR_REFUSED, 0, out.delta.refused);
		knotd_mod_stats_incr(ctx->mod, 0, CTR_QUEUED, 0, out.delta.queued);
		knotd_mod_stats_incr(ctx->mod, 0, CTR_SCAN_FAILED, 0, out.delta.failed);
		if (out.pass_done) {
			knotd_mod_stats_store(ctx->mod, 0, CTR_PASS_SECONDS, 0, out.pass_seconds);
		}
		if (wait > 0) {
			/* Idle until the next listed scan or the next pass, or a wake-up. */
			zg_modworker_sleep(&ctx->worker, wait);
		}
	}
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

static int parent_load(knotd_mod_t *mod, dsync_ctx_t *ctx, const zg_server_t *server,
                       bool allow_delete, unsigned interval)
{
	unsigned scan_interval = (unsigned)knotd_conf_mod(mod, MOD_SCAN_INTERVAL).single.integer;
	char tsig[512];
	if (parent_key(mod, tsig, sizeof(tsig)) != KNOT_EOK) {
		knotd_mod_log(mod, LOG_ERR, "key has no usable secret");
		return KNOT_EINVAL;
	}
	knotd_conf_t queue = knotd_conf_mod(mod, MOD_QUEUE);
	knotd_conf_t resolver = knotd_conf_mod(mod, MOD_RESOLVER);
	zg_server_t res;
	if (resolver.count > 0) {
		zg_server_set(&res, (const struct sockaddr *)&resolver.single.addr);
	}
	knot_dname_storage_t lower;
	char zone[KNOT_DNAME_TXT_MAXLEN + 1];
	if (knot_dname_to_wire(lower, knotd_mod_zone(mod), sizeof(lower)) <= 0) {
		return KNOT_EINVAL;
	}
	knot_dname_to_lower(lower);
	if (knot_dname_to_str(zone, lower, sizeof(zone)) == NULL) {
		return KNOT_EINVAL;
	}
	zg_cdscan_conf_t sc = {
		.zone = zone,
		.server = *server,
		.tsig = tsig[0] != '\0' ? tsig : NULL,
		.resolver = resolver.count > 0 ? &res : NULL,
		.child_port = (uint16_t)knotd_conf_mod(mod, MOD_CHILD_PORT).single.integer,
		.query_rate = (unsigned)knotd_conf_mod(mod, MOD_QUERY_RATE).single.integer,
		.allow_delete = allow_delete,
		.dry_run = knotd_conf_mod(mod, MOD_DRY_RUN).single.boolean,
		.queue = queue.count > 0 ? queue.single.string : NULL,
		.log = worker_log,
		.log_arg = ctx,
		.cancel = &ctx->worker.stop,
	};
	int ret = zg_scanrun_init(&ctx->run, &sc, interval, scan_interval);
	if (ret != 0) {
		knotd_mod_log(mod, LOG_ERR, "cannot open the queue %s (%s)",
		              sc.queue != NULL ? sc.queue : "-", zg_strerror(ret));
		return KNOT_EINVAL;
	}
	ctx->run.stop = &ctx->worker.stop;
	knotd_conf_t kids = knotd_conf_mod(mod, MOD_CHILD);
	for (size_t i = 0; i < kids.count && ret == 0; i++) {
		ret = zg_scanrun_add_child(&ctx->run, kids.multi[i].dname);
	}
	knotd_conf_free(&kids);
	if (ret != 0 || zg_modworker_start(&ctx->worker, parent_worker, ctx) != 0) {
		return KNOT_ENOMEM;
	}
	zg_scanrun_log_conf(&ctx->run);
	return KNOT_EOK;
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
	if (!zg_childsync_guarded(&ctx->child, xfr, qdata->type == KNOTD_QUERY_TYPE_NORMAL,
	                          knot_pkt_qtype(qdata->query), knot_pkt_qname(qdata->query),
	                          qdata->query->opt_rr)) {
		return state;
	}
	/* The guard's verdict on the DNSKEY, CDS and CDNSKEY the zone serves now. */
	knot_rrset_t dnskey = knotd_qdata_zone_apex_rrset(qdata, KNOT_RRTYPE_DNSKEY);
	knot_rrset_t cds = knotd_qdata_zone_apex_rrset(qdata, KNOT_RRTYPE_CDS);
	knot_rrset_t cdnskey = knotd_qdata_zone_apex_rrset(qdata, KNOT_RRTYPE_CDNSKEY);
	zg_guard_verdict_t verdict = zg_childsync_served(&ctx->child, &dnskey.rrs, &cds.rrs,
	                                                 &cdnskey.rrs);
	if (verdict == ZG_GUARD_PASS) {
		return state;
	}
	bool other = verdict == ZG_GUARD_UNCHECKED;
	if (other) {
		/* Wakes the worker: the zone serves a set it has not checked. */
		zg_modworker_wake(&ctx->worker);
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
	zg_modalarm_reap(ctx->mod, &ctx->alarm, true);
	zg_scanrun_deinit(&ctx->run);
	zg_childsync_deinit(&ctx->child);
	zg_alarm_deinit(&ctx->alarm);
	free(ctx);
}

/* A parent server; key: its TSIG key (copied) or NULL. */
static void add_parent(dsync_ctx_t *ctx, const struct sockaddr_storage *ss,
                       const knot_tsig_key_t *key)
{
	int ret = zg_childsync_add_parent(&ctx->child, (const struct sockaddr *)ss, key);
	if (ret == ZG_EINPUT) {
		knotd_mod_log(ctx->mod, LOG_WARNING, "parent key not usable, queries unsigned");
	} else if (ret == ZG_ETOOBIG) {
		wlog(ctx, LOG_WARNING, "more than %u parent addresses, the rest ignored",
		     ZG_CHILDSYNC_MAX_PARENTS);
	}
}

/* A parent remote's addresses (one more than used, to be warned of). */
typedef struct {
	struct sockaddr_storage addr[ZG_CHILDSYNC_MAX_PARENTS + 1];
	size_t n;
} parent_addrs_t;

static void parent_addr(void *arg, const struct sockaddr_storage *addr,
                        const struct sockaddr_storage *via)
{
	(void)via;
	parent_addrs_t *pa = arg;
	if (pa->n < sizeof(pa->addr) / sizeof(pa->addr[0])) {
		pa->addr[pa->n++] = *addr;
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
		/* A remote with a key: every query to it signed, every answer checked. */
		knotd_conf_t id = zg_mod_conf_id(val);
		parent_addrs_t pa = { .n = 0 };
		size_t naddr = 0;
		knot_tsig_key_t key;
		if (zg_mod_remote(mod, &id, parent_addr, &pa, &naddr, &key) != KNOT_EOK) {
			knotd_mod_log(mod, LOG_ERR, "parent '%s': key not usable", val);
			ret = KNOT_EINVAL;
		}
		if (naddr == 0) {
			knotd_mod_log(mod, LOG_ERR, "parent '%s' is neither an address nor a remote "
			              "with an address", val);
			ret = KNOT_EINVAL;
		}
		for (size_t j = 0; j < pa.n; j++) {
			add_parent(ctx, &pa.addr[j], key.name != NULL ? &key : NULL);
		}
		knot_tsig_key_deinit(&key);
	}
	knotd_conf_free(&refs);
	if (ret != KNOT_EOK) {
		return ret;
	}

	/* The trust anchor: configured, else the root's (dns-root-data). */
	knotd_conf_t ta = knotd_conf_mod(mod, MOD_TA);
	knotd_conf_t res = knotd_conf_mod(mod, MOD_RESOLVER);
	zg_server_t resolver;
	if (res.count > 0) {
		zg_server_set(&resolver, (const struct sockaddr *)&res.single.addr);
	}
	char err[512];
	if (zg_childsync_conf(&ctx->child, ta.count > 0 ? ta.single.string : NULL,
	                      res.count > 0 ? &resolver : NULL,
	                      (uint32_t)knotd_conf_mod(mod, MOD_OVERDUE).single.integer,
	                      err, sizeof(err)) != 0) {
		knotd_mod_log(mod, LOG_ERR, "%s", err);
		return KNOT_EINVAL;
	}
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
	return KNOT_EOK;
}

static int dsync_load(knotd_mod_t *mod)
{
	dsync_ctx_t *ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		return KNOT_ENOMEM;
	}
	zg_modworker_init(&ctx->worker);
	ctx->mod = mod;
	bool allow_delete = knotd_conf_mod(mod, MOD_ALLOW_DELETE).single.boolean;
	unsigned interval = (unsigned)knotd_conf_mod(mod, MOD_INTERVAL).single.integer;

	int ret = zg_mod_counters_add(mod, ctr_names, CTR_COUNT);
	if (ret != KNOT_EOK) {
		goto fail;
	}
	knotd_mod_ctx_set(mod, ctx);

	/* The address the worker polls: 'server', else the first 'listen' of the server section. */
	struct sockaddr_storage ss;
	if ((ret = zg_mod_listen_addr(mod, MOD_SERVER, &ss)) != KNOT_EOK) {
		knotd_mod_log(mod, LOG_ERR, "no address to check the zone at (set 'server' or a "
		              "server 'listen' address)");
		goto fail;
	}
	zg_server_t server;
	zg_server_set(&server, (struct sockaddr *)&ss);
	if (knotd_conf_mod(mod, MOD_MODE).single.option == DSYNC_PARENT) {
		if ((ret = parent_load(mod, ctx, &server, allow_delete, interval)) != KNOT_EOK) {
			goto fail;
		}
		return KNOT_EOK;
	}
	ret = zg_childsync_init(&ctx->child, knotd_mod_zone(mod), &server, allow_delete,
	                        interval);
	if (ret != 0) {
		ret = ret == -ENOMEM ? KNOT_ENOMEM : KNOT_ERROR;
		goto fail;
	}
	if ((ret = sync_conf(mod, ctx)) != KNOT_EOK) {
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
	zg_childsync_ops_t ops = { .log = worker_log, .arg = ctx };
	zg_childsync_log_conf(&ctx->child, ctx->ctl_path, &ops);
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
