/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * mod-validate: the validating gate of a distribution server. The loop that
 * follows the zone at its source and judges each serial, the verdicts and
 * their state file are lib/validate/follow.c; this module reads the
 * configuration, runs that loop on its worker thread (modules/modworker.h),
 * gives it knotd's logging, counters, the alarm command and the re-sign
 * request, and installs the gate (gate.c): a KNOTD_STAGE_BEGIN hook refuses
 * outgoing AXFR/IXFR of a served serial that has not validated, a
 * KNOTD_STAGE_END hook refuses a transfer whose content is not the
 * validated content.
 *
 * Threads: knotd's workers only run the hooks (lock-free verdict lookup, a
 * wake-up of the worker for a NOTIFY); everything else belongs to the
 * worker thread, which is joined in unload.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "modules/modaddr.h"
#include "modules/modkey.h"
#include "modules/modremote.h"
#include "modules/validate/validate.h"
#include "dns/dnsclient.h"
#include "dns/ctl.h"
#include "core/error.h"
#include "signer/fence.h"
#include "validate/crypto.h"
#include "validate/digest.h"
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
#define MOD_NOTIFY	"\x06""notify"

#define C_KEY		"\x03""key"
#define C_RMTS		"\x07""remotes"
#define C_NOTIFY	"\x06""notify"
#define C_STORAGE	"\x07""storage"

static int source_check(knotd_conf_check_args_t *args);
static int notify_check(knotd_conf_check_args_t *args);

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
	/* Not a YP_TREF: knotd 3.2 resolves a module item's reference within
	 * the module's own items first, so only an item named like the section
	 * could refer to it; looked up at load, as source. */
	{ MOD_NOTIFY,   YP_TSTR,  YP_VNONE, YP_FMULTI, { notify_check } },
	{ NULL }
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
		int64_t ms = zg_follow_round(&ctx->f, NULL);
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

/* ---- configuration ---- */

/* The signer items (the first ZG_FOLLOW_SIGNERS) as strings; returns their number. */
static size_t signer_items(const knotd_conf_t *signer, const char **items)
{
	size_t n = signer->count < ZG_FOLLOW_SIGNERS ? signer->count : ZG_FOLLOW_SIGNERS;
	for (size_t i = 0; i < n; i++) {
		items[i] = signer->multi[i].string;
	}
	return n;
}

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
	/* The signer map and the lease (lib/signer/fence). */
	knotd_conf_t signer = knotd_conf_check_item(args, MOD_SIGNER);
	knotd_conf_t lease = knotd_conf_check_item(args, MOD_LEASE);
	const char *items[ZG_FOLLOW_SIGNERS];
	signer_items(&signer, items);
	args->err_str = zg_fence_conf_check(items, signer.count,
	                                    lease.count == 1 ? lease.single.string : NULL);
	knotd_conf_free(&signer);
	return args->err_str == NULL ? KNOT_EOK : KNOT_EINVAL;
}

/* source: an IP address with an optional port, or the id of a remote
 * (resolved in load: a module's schema cannot refer to the remote section
 * under another item name). */
static int source_check(knotd_conf_check_args_t *args)
{
	const char *text = (const char *)args->data;
	struct sockaddr_storage ss;
	if (args->data_len > 0 && text[args->data_len - 1] == '\0' &&
	    (zg_dns_addr_parse(text, 53, &ss) == 0 || zg_dns_id_like(text))) {
		return KNOT_EOK;
	}
	args->err_str = "source must be a remote id or an IP address, optionally with @port";
	return KNOT_EINVAL;
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
	int ret = zg_mod_remote(ctx->mod, &id, zg_follow_source_add, f, &naddr, &f->source_key);
	if (ret != KNOT_EOK) {
		knotd_mod_log(ctx->mod, LOG_ERR, "source remote key not usable (%s)",
		              zg_strerror(ret));
	}
	/* Without an address (neither a remote nor an address): fail closed,
	 * loaded, but nothing validates, so the gate refuses every transfer;
	 * the worker says why. */
	zg_follow_source_describe(f, text);
	if (naddr > ZG_FOLLOW_SOURCES) {
		knotd_mod_log(ctx->mod, LOG_WARNING, "source remote has %zu addresses, "
		              "the first %u are used", naddr, ZG_FOLLOW_SOURCES);
	}
	return naddr > 0 ? ret : KNOT_EOK;
}

/* A remote's addresses as targets, each with the remote's key; returns their
 * number (0: not a remote with an address). */
static size_t notify_add_one(validate_ctx_t *ctx, const knotd_conf_t *id)
{
	unsigned first = ctx->f.notify_count;
	size_t naddr = 0;
	knot_tsig_key_t key;
	int ret = zg_mod_remote(ctx->mod, id, zg_follow_notify_add, &ctx->f, &naddr, &key);
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

/* A notify value: a remote, or a remotes: group (its members); returns the
 * number of addresses (0: neither, or none with an address). */
static size_t notify_add_remote(validate_ctx_t *ctx, const knotd_conf_t *id)
{
	size_t n = notify_add_one(ctx, id);
	if (n > 0) {
		return n;
	}
	knotd_conf_t members = knotd_conf(ctx->mod, C_RMTS, ZG_MOD_C_RMT, id);
	for (size_t i = 0; i < members.count; i++) {
		knotd_conf_t mid = { .single = members.multi[i], .count = 1 };
		n += notify_add_one(ctx, &mid);
	}
	knotd_conf_free(&members);
	return n;
}

/* A notify value must look like a remote or remotes id. */
static int notify_check(knotd_conf_check_args_t *args)
{
	const char *text = (const char *)args->data;
	if (args->data_len > 0 && text[args->data_len - 1] == '\0' && zg_dns_id_like(text)) {
		return KNOT_EOK;
	}
	args->err_str = "notify must be the id of a remote or a remotes group";
	return KNOT_EINVAL;
}

/*
 * The NOTIFY targets: the module's own notify remotes when it has any (the
 * zone then needs no notify of its own, and Knot sends none before the
 * verdict), else the zone's notify remotes, which Knot NOTIFYs itself as soon
 * as this server has a serial: their transfers are refused until it
 * validates, and they come back on the module's NOTIFY.
 */
static void notify_load(validate_ctx_t *ctx, const knot_dname_t *zone)
{
	knotd_conf_t own = knotd_conf_mod(ctx->mod, MOD_NOTIFY);
	knotd_conf_t znotify = knotd_conf_zone(ctx->mod, C_NOTIFY, zone);
	for (size_t i = 0; i < own.count; i++) {
		const char *text = own.multi[i].string;
		knotd_conf_t id = zg_mod_conf_id(text);
		if (notify_add_remote(ctx, &id) == 0) {
			knotd_mod_log(ctx->mod, LOG_ERR, "notify '%s' is neither a remote nor a "
			              "remotes group of this server with an address, not notified", text);
		}
	}
	for (size_t i = 0; own.count == 0 && i < znotify.count; i++) {
		knotd_conf_t id = { .single = znotify.multi[i], .count = 1 };
		notify_add_remote(ctx, &id);
	}
	if (own.count > 0 && znotify.count > 0) {
		knotd_mod_log(ctx->mod, LOG_NOTICE, "the zone's notify remotes are not notified by "
		              "the module (it has notify remotes of its own); Knot notifies them "
		              "before the verdict, and their transfers are refused until then");
	}
	knotd_conf_free(&own);
	knotd_conf_free(&znotify);
}

/* The state file: STATE-DIR/NAME.mod-validate, STATE-DIR by default the
 * zone's storage (relative to knotd's working directory, as knotd does),
 * NAME the zone name without the final dot ("root" for the root zone). */
static int state_path_init(validate_ctx_t *ctx, const knot_dname_t *zone)
{
	char cwd[PATH_MAX] = "";
	knotd_conf_t conf = knotd_conf_mod(ctx->mod, MOD_STATE_DIR);
	if (conf.count != 1) {
		conf = knotd_conf_zone(ctx->mod, C_STORAGE, zone);
		const char *dir = conf.single.string;
		if (dir != NULL && dir[0] != '/' && getcwd(cwd, sizeof(cwd)) == NULL) {
			return -errno;
		}
	}
	return zg_verdicts_path_at(cwd, conf.single.string, ctx->f.zone_str,
	                           ctx->f.state_path, sizeof(ctx->f.state_path));
}

/* This server's address: its first listen address (loopback for a wildcard),
 * else 127.0.0.1@53. */
static void self_address(knotd_mod_t *mod, struct sockaddr_storage *out)
{
	if (zg_mod_listen_addr(mod, NULL, out) != KNOT_EOK) {
		zg_dns_addr_parse("127.0.0.1", 53, out);
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
	const char *items[ZG_FOLLOW_SIGNERS];
	ret = zg_follow_signers_set(&ctx->f, items, signer_items(&signer, items));
	knotd_conf_free(&signer);
	return ret == 0 ? KNOT_EOK : KNOT_ENOMEM;
}

static void ctx_free(validate_ctx_t *ctx)
{
	if (ctx == NULL) {
		return;
	}
	zg_modworker_deinit(&ctx->w);  /* Stops and joins the worker first. */
	p256_cache_hold(ctx, false);
	zg_alarm_deinit(&ctx->alarm);
	gate_deinit(ctx);
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

	notify_load(ctx, zone);

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
	if (zg_follow_restore(&ctx->f) != 0) {
		goto fail;
	}
	ret = gate_init(ctx);
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
