/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * mod-dsync: CDS/DS synchronisation interlock, the knotd adapter: schema,
 * configuration check and loading, the guard hook, counters and logging.
 * The logic lives in lib/dsync/ and knows no knotd: the configuration rules
 * (conf.c), the hook's decision (childsync.c, guard.c), the parent servers
 * a 'parent' value names (childsync.c), parent mode's start (scanrun.c).
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
#include "dsync/conf.h"
#include "dsync/scanrun.h"
#include "dns/ctl.h"

#define CONF_KEY		"\x03""key"

#define CTL_TIMEOUT_MS		5000

static const knot_lookup_t dsync_modes[] = {
	{ ZG_DSYNC_CHILD,  "child" },
	{ ZG_DSYNC_PARENT, "parent" },
	{ 0, NULL }
};

/* The item names are dsync/conf.h's (one list with the rules of the modes). */
static const yp_item_t dsync_conf[] = {
	{ ZG_DSYNC_ITEM_MODE,          YP_TOPT,  YP_VOPT = { dsync_modes, ZG_DSYNC_CHILD } },
	{ ZG_DSYNC_ITEM_ALLOW_DELETE,  YP_TBOOL, YP_VBOOL = { false } },
	{ ZG_DSYNC_ITEM_INTERVAL,      YP_TINT,  YP_VINT = { 1, 3600, 10, YP_STIME } },
	{ ZG_DSYNC_ITEM_SERVER,        YP_TADDR, YP_VADDR = { 53 } },
	{ ZG_DSYNC_ITEM_PARENT,        YP_TSTR,  YP_VNONE, YP_FMULTI },
	{ ZG_DSYNC_ITEM_TA,            YP_TSTR,  YP_VNONE },
	{ ZG_DSYNC_ITEM_OVERDUE,       YP_TINT,  YP_VINT = { 1, UINT32_MAX, 172800, YP_STIME } },
	{ ZG_DSYNC_ITEM_ALARM,         YP_TSTR,  YP_VNONE },
	{ ZG_DSYNC_ITEM_ALARM_TO,      YP_TINT,  YP_VINT = { 1, 3600, 30, YP_STIME } },
	{ ZG_DSYNC_ITEM_CONTROL,       YP_TSTR,  YP_VNONE },
	{ ZG_DSYNC_ITEM_QUEUE,         YP_TSTR,  YP_VNONE },
	{ ZG_DSYNC_ITEM_DRY_RUN,       YP_TBOOL, YP_VBOOL = { false } },
	{ ZG_DSYNC_ITEM_SCAN_INTERVAL, YP_TINT, YP_VINT = { 1, UINT32_MAX, 86400, YP_STIME } },
	{ ZG_DSYNC_ITEM_CHILD,         YP_TDNAME, YP_VNONE, YP_FMULTI },
	{ ZG_DSYNC_ITEM_QUERY_RATE,    YP_TINT,  YP_VINT = { 1, 100000, 100 } },
	{ ZG_DSYNC_ITEM_CHILD_PORT,    YP_TINT,  YP_VINT = { 1, 65535, 53 } },
	{ ZG_DSYNC_ITEM_RESOLVER,      YP_TADDR, YP_VADDR = { 53 } },
	{ ZG_DSYNC_ITEM_KEY,           YP_TREF,  YP_VREF = { CONF_KEY }, YP_FNONE, { knotd_conf_check_ref } },
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

/* Whether the item (its name as text) is set. */
static bool item_set(void *arg, const char *name)
{
	yp_name_t item[64] = { (yp_name_t)strlen(name) };
	memcpy(item + 1, name, item[0]);
	return knotd_conf_check_item(arg, item).count > 0;
}

/* The rules are dsync/conf.h's. */
static int dsync_conf_check(knotd_conf_check_args_t *args)
{
	knotd_conf_t mode = knotd_conf_check_item(args, ZG_DSYNC_ITEM_MODE);
	knotd_conf_t queue = knotd_conf_check_item(args, ZG_DSYNC_ITEM_QUEUE);
	knotd_conf_t dry = knotd_conf_check_item(args, ZG_DSYNC_ITEM_DRY_RUN);
	zg_dsync_conf_t c = {
		.mode = mode.count > 0 ? (zg_dsync_mode_t)mode.single.option : ZG_DSYNC_CHILD,
		.queue = queue.count > 0 ? queue.single.string : NULL,
		.dry_run = dry.count > 0 && dry.single.boolean,
		.is_set = item_set, .arg = args,
	};
	args->err_str = zg_dsync_conf_check(&c);
	return args->err_str == NULL ? KNOT_EOK : KNOT_EINVAL;
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

static int parent_load(knotd_mod_t *mod, dsync_ctx_t *ctx, const zg_server_t *server,
                       const zg_server_t *resolver, bool allow_delete, unsigned interval)
{
	/* The key item for the AXFR: left without a name when it cannot be read. */
	knotd_conf_t ref = knotd_conf_mod(mod, ZG_DSYNC_ITEM_KEY);
	knot_tsig_key_t key = { 0 };
	if (ref.count > 0) {
		zg_modkey_load(mod, &ref.single, &key);
	}
	knotd_conf_t queue = knotd_conf_mod(mod, ZG_DSYNC_ITEM_QUEUE);
	zg_cdscan_conf_t sc = {
		.server = *server,
		.resolver = resolver,
		.child_port = (uint16_t)knotd_conf_mod(mod, ZG_DSYNC_ITEM_CHILD_PORT).single.integer,
		.query_rate = (unsigned)knotd_conf_mod(mod, ZG_DSYNC_ITEM_QUERY_RATE).single.integer,
		.allow_delete = allow_delete,
		.dry_run = knotd_conf_mod(mod, ZG_DSYNC_ITEM_DRY_RUN).single.boolean,
		.queue = queue.count > 0 ? queue.single.string : NULL,
		.log = worker_log,
		.log_arg = ctx,
		.cancel = &ctx->worker.stop,
	};
	unsigned scan_interval = (unsigned)knotd_conf_mod(mod, ZG_DSYNC_ITEM_SCAN_INTERVAL).single.integer;
	char msg[640];
	int ret = zg_scanrun_open(&ctx->run, knotd_mod_zone(mod), ref.count > 0 ? &key : NULL, &sc,
	                          interval, scan_interval, msg, sizeof(msg));
	knot_tsig_key_deinit(&key);
	if (ret != 0) {
		if (msg[0] != '\0') {
			knotd_mod_log(mod, LOG_ERR, "%s", msg);
		}
		return KNOT_EINVAL;
	}
	knotd_conf_t kids = knotd_conf_mod(mod, ZG_DSYNC_ITEM_CHILD);
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

/* An apex RRset of the zone as served now (the guard's reads). */
static knot_rdataset_t apex_rrs(void *qdata, uint16_t type)
{
	return knotd_qdata_zone_apex_rrset(qdata, type).rrs;
}

/*
 * The guard, before knotd answers: CDS/CDNSKEY queries for the apex, and
 * outgoing AXFR/IXFR of the zone, while the zone publishes a CDS/CDNSKEY set
 * that is not the one checked and found safe (unsafe, not checked yet, or
 * changed since the last check), get SERVFAIL (queries) or REFUSED
 * (transfers): no parent and no secondary receives an unsafe set. The
 * decision is zg_childsync_decide()'s; this applies it, counts and logs.
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
	zg_guard_action_t act = zg_childsync_decide(&ctx->child, xfr,
	                                            qdata->type == KNOTD_QUERY_TYPE_NORMAL,
	                                            knot_pkt_qtype(qdata->query),
	                                            knot_pkt_qname(qdata->query),
	                                            qdata->query->opt_rr, apex_rrs, qdata);
	if (act.wake) {
		zg_modworker_wake(&ctx->worker);
	}
	if (act.rcode == KNOT_RCODE_NOERROR) {
		return state;
	}
	knotd_mod_stats_incr(mod, qdata->params->thread_id, xfr ? CTR_XFR_REFUSED : CTR_CDS_SERVFAIL,
	                     0, 1);
	unsigned long long quiet = 0;
	if (xfr && zg_modlog_due(&ctx->refuse_log, (long long)time(NULL), 10, &quiet)) {
		char addr[80];
		knotd_mod_log(mod, LOG_WARNING, "%s, outgoing, remote %s, refused (cds/cdnskey %s, "
		              "%llu more refused since the last message)",
		              qdata->type == KNOTD_QUERY_TYPE_AXFR ? "AXFR" : "IXFR",
		              zg_modlog_remote(qdata, addr, sizeof(addr)), act.why, quiet);
	}
	qdata->rcode = act.rcode;
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

/* A remote named by a parent value: its addresses and key (dsync/childsync.h). */
static int parent_remote(void *mod, const char *id, zg_childsync_remote_t *r)
{
	knotd_conf_t cid = zg_mod_conf_id(id);
	return zg_mod_remote(mod, &cid, zg_childsync_remote_addr, r, &r->naddr, &r->key);
}

/* Parent servers, trust anchor, overdue, alarm, control socket. */
static int sync_conf(knotd_mod_t *mod, dsync_ctx_t *ctx, const zg_server_t *resolver)
{
	/* Each value: an address (ADDR[@PORT]) or the id of a remote (all its addresses). */
	zg_childsync_ops_t ops = { .log = worker_log, .arg = ctx };
	knotd_conf_t refs = knotd_conf_mod(mod, ZG_DSYNC_ITEM_PARENT);
	int ret = 0;
	for (size_t i = 0; i < refs.count && ret == 0; i++) {
		ret = zg_childsync_add_parents(&ctx->child, refs.multi[i].string, parent_remote, mod,
		                               &ops);
	}
	knotd_conf_free(&refs);
	if (ret != 0) {
		return KNOT_EINVAL;
	}

	/* The trust anchor: configured, else the root's (dns-root-data). */
	knotd_conf_t ta = knotd_conf_mod(mod, ZG_DSYNC_ITEM_TA);
	char err[512];
	if (zg_childsync_conf(&ctx->child, ta.count > 0 ? ta.single.string : NULL, resolver,
	                      (uint32_t)knotd_conf_mod(mod, ZG_DSYNC_ITEM_OVERDUE).single.integer,
	                      err, sizeof(err)) != 0) {
		knotd_mod_log(mod, LOG_ERR, "%s", err);
		return KNOT_EINVAL;
	}
	knotd_conf_t alarm = knotd_conf_mod(mod, ZG_DSYNC_ITEM_ALARM);
	if (zg_alarm_init(&ctx->alarm, alarm.count > 0 ? alarm.single.string : NULL,
	                  (unsigned)knotd_conf_mod(mod, ZG_DSYNC_ITEM_ALARM_TO).single.integer) != 0) {
		return KNOT_ENOMEM;
	}

	knotd_conf_t ctl = knotd_conf_mod(mod, ZG_DSYNC_ITEM_CONTROL);
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
	bool allow_delete = knotd_conf_mod(mod, ZG_DSYNC_ITEM_ALLOW_DELETE).single.boolean;
	unsigned interval = (unsigned)knotd_conf_mod(mod, ZG_DSYNC_ITEM_INTERVAL).single.integer;

	int ret = zg_mod_counters_add(mod, ctr_names, CTR_COUNT);
	if (ret != KNOT_EOK) {
		goto fail;
	}
	knotd_mod_ctx_set(mod, ctx);

	/* The address the worker polls: 'server', else the first 'listen' of the server section. */
	struct sockaddr_storage ss;
	if ((ret = zg_mod_listen_addr(mod, ZG_DSYNC_ITEM_SERVER, &ss)) != KNOT_EOK) {
		knotd_mod_log(mod, LOG_ERR, "no address to check the zone at (set 'server' or a "
		              "server 'listen' address)");
		goto fail;
	}
	zg_server_t server, res;
	zg_server_set(&server, (struct sockaddr *)&ss);
	knotd_conf_t resolver = knotd_conf_mod(mod, ZG_DSYNC_ITEM_RESOLVER);
	if (resolver.count > 0) {
		zg_server_set(&res, (const struct sockaddr *)&resolver.single.addr);
	}
	const zg_server_t *rp = resolver.count > 0 ? &res : NULL;
	if (knotd_conf_mod(mod, ZG_DSYNC_ITEM_MODE).single.option == ZG_DSYNC_PARENT) {
		if ((ret = parent_load(mod, ctx, &server, rp, allow_delete, interval)) != KNOT_EOK) {
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
	if ((ret = sync_conf(mod, ctx, rp)) != KNOT_EOK) {
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
