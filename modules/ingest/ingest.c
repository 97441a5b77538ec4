/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * mod-ingest: applies registry JSON messages from a queue to the zone as
 * RFC 2136 UPDATEs signed with TSIG.
 *
 * One worker thread per zone, started in load and stopped and joined in
 * unload (a configuration reload unloads and loads the module again). The
 * thread runs zg_ingest_run() of libzgcore: messages from the queue are
 * applied in batches as UPDATEs to this server (or the configured one),
 * signed with the TSIG key from the key section, and counted.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libknot/dname.h>
#include <libknot/tsig.h>

#include "modules/knotd-compat.h"
#include "modules/modaddr.h"
#include "modules/modkey.h"
#include "core/error.h"
#include "ingest/ingest.h"
#include "ingest/queue.h"

#define MOD_SOURCE	"\x06""source"
#define MOD_KEY		"\x03""key"
#define MOD_SERVER	"\x06""server"
#define MOD_INTERVAL	"\x0d""poll-interval"
#define MOD_BATCH	"\x0a""batch-size"
#define MOD_REMOVAL	"\x0b""max-removal"
#define MOD_MAXSIZE	"\x10""max-message-size"


static const yp_item_t ingest_conf[] = {
	{ MOD_SOURCE, YP_TSTR,  YP_VSTR = { "spool:/var/lib/knot/ingest" } },
	{ MOD_KEY,    YP_TREF,  YP_VREF = { "\x03""key" }, YP_FNONE,
	                        { knotd_conf_check_ref } },
	{ MOD_SERVER, YP_TADDR, YP_VADDR = { 53 } },
	{ MOD_INTERVAL, YP_TINT, YP_VINT = { 1, 3600, 1, YP_STIME } },
	{ MOD_BATCH,    YP_TINT, YP_VINT = { 1, 256, 16 } },
	{ MOD_REMOVAL,  YP_TINT, YP_VINT = { 0, 100, 10 } },
	{ MOD_MAXSIZE,  YP_TINT, YP_VINT = { 1024, 1024 * 1024 * 1024,
	                                     ZG_MSG_MAX_SIZE_DEFAULT, YP_SSIZE } },
	{ NULL }
};

enum {
	CTR_MSG_APPLIED,
	CTR_MSG_REFUSED,
	CTR_CHANGES_APPLIED,
	CTR_QUEUE_LAG,
	CTR_LAST_ID,
	CTR_CONNECTED,
	CTR_LEASE,
	CTR_LAST_POLL,
	CTR_COUNT
};

static const char *const ctr_names[CTR_COUNT] = {
	[CTR_MSG_APPLIED]     = "messages-applied",
	[CTR_MSG_REFUSED]     = "messages-refused",
	[CTR_CHANGES_APPLIED] = "changes-applied",
	[CTR_QUEUE_LAG]       = "queue-lag-seconds",
	[CTR_LAST_ID]         = "last-applied-id",
	[CTR_CONNECTED]       = "consumer-connected",
	[CTR_LEASE]           = "lease-held",
	[CTR_LAST_POLL]       = "last-poll-time",
};

#define WORKER_TIMEOUT_MS	5000	/* Bound of each network operation. */
#define CTL_TIMEOUT_MS		30000	/* Bound of each control operation (a commit signs). */

typedef struct {
	knotd_mod_t *mod;
	char *source;
	char ctl_socket[512];  /* knotd's own control socket (zg_mod_ctl_path()). */
	knot_tsig_key_t key;
	bool have_key;
	knot_dname_t *zone;
	zg_ingest_conf_t conf;
	pthread_t thread;
	bool started;
	volatile sig_atomic_t stop;
} ingest_ctx_t;

/* Logs of the worker: none once unload began (see zg_worker_log()). */
#define wlog(ctx, ...) zg_worker_log((ctx)->mod, (ctx)->stop, __VA_ARGS__)

static int ingest_conf_check(knotd_conf_check_args_t *args)
{
	knotd_conf_t src = knotd_conf_check_item(args, MOD_SOURCE);
	if (src.count == 1 && zg_queue_uri(src.single.string, NULL) == ZG_QUEUE_INVALID) {
		args->err_str = "source must be " ZG_QUEUE_URI_FORMS;
		return KNOT_EINVAL;
	}
	knotd_conf_t srv = knotd_conf_check_item(args, MOD_SERVER);
	if (srv.count == 1 && srv.single.addr.ss_family != AF_INET &&
	    srv.single.addr.ss_family != AF_INET6) {
		args->err_str = "server must be an IP address, optionally with @port";
		return KNOT_EINVAL;
	}
	return KNOT_EOK;
}

static void on_outcome(void *arg, const zg_ingest_outcome_t *o)
{
	ingest_ctx_t *ctx = arg;
	char what[300];
	if (o->name != NULL) {
		snprintf(what, sizeof(what), "%s", o->name);
	} else {
		snprintf(what, sizeof(what), "row %lld", (long long)o->row_id);
	}
	if (o->applied) {
		knotd_mod_stats_incr(ctx->mod, 0, CTR_MSG_APPLIED, 0, 1);
		knotd_mod_stats_incr(ctx->mod, 0, CTR_CHANGES_APPLIED, 0, o->res->owners_changed);
		if (o->row_id >= 0) {
			knotd_mod_stats_store(ctx->mod, 0, CTR_LAST_ID, 0, (uint64_t)o->row_id);
		}
		if (o->res->transaction) {
			wlog(ctx, LOG_INFO, "applied %s (message %s, %zu owners changed, "
			     "one zone transaction)", what, o->msg_id, o->res->owners_changed);
		} else {
			wlog(ctx, LOG_INFO, "applied %s (message %s, %zu owners changed, "
			     "%zu updates)", what, o->msg_id, o->res->owners_changed, o->res->updates);
		}
	} else {
		knotd_mod_stats_incr(ctx->mod, 0, CTR_MSG_REFUSED, 0, 1);
		wlog(ctx, LOG_WARNING, "refused %s (%s)", what, o->reason);
	}
}

static void on_log(void *arg, int level, const char *text)
{
	ingest_ctx_t *ctx = arg;
	wlog(ctx, level, "%s", text);
}

static void on_lag(void *arg, int64_t seconds)
{
	ingest_ctx_t *ctx = arg;
	knotd_mod_stats_store(ctx->mod, 0, CTR_QUEUE_LAG, 0, seconds > 0 ? (uint64_t)seconds : 0);
}

/* The consumer's state as counters. The last poll is a unix time, not an
 * age: knotd reads counters only when asked, so an age stored by the worker
 * would stop growing exactly when the worker is stuck. */
static void on_state(void *arg, const zg_ingest_state_t *st)
{
	ingest_ctx_t *ctx = arg;
	knotd_mod_stats_store(ctx->mod, 0, CTR_CONNECTED, 0, st->connected ? 1 : 0);
	knotd_mod_stats_store(ctx->mod, 0, CTR_LEASE, 0, st->holding ? 1 : 0);
	knotd_mod_stats_store(ctx->mod, 0, CTR_LAST_POLL, 0,
	                      st->polled > 0 ? (uint64_t)st->polled : 0);
}

static void *worker(void *arg)
{
	ingest_ctx_t *ctx = arg;
	/* Signals belong to knotd's main thread. */
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	int ret = zg_ingest_run(&ctx->conf);
	if (ret != 0) {
		wlog(ctx, LOG_ERR, "stopped, queue not consumed (source %s, %s)",
		     ctx->source, zg_strerror(ret));
	}
	return NULL;
}

/* The TSIG key of the key section named by the key item. */
static int load_key(knotd_mod_t *mod, ingest_ctx_t *ctx)
{
	knotd_conf_t id = knotd_conf_mod(mod, MOD_KEY);
	if (id.count == 0) {
		return KNOT_EOK;
	}
	int ret = zg_modkey_load(mod, &id.single, &ctx->key);
	if (ret == KNOT_ENOENT) {
		knotd_mod_log(mod, LOG_ERR, "key has no secret");
		return KNOT_EINVAL;
	} else if (ret != KNOT_EOK) {
		return ret;
	}
	ctx->have_key = true;
	return KNOT_EOK;
}

/* The configured server, or this server's first listen address (an
 * unspecified address becomes loopback). */
static int load_server(knotd_mod_t *mod, struct sockaddr_storage *out)
{
	return zg_mod_listen_addr(mod, MOD_SERVER, out);
}

static void ctx_free(ingest_ctx_t *ctx)
{
	if (ctx == NULL) {
		return;
	}
	free(ctx->source);
	knot_dname_free(ctx->zone, NULL);
	if (ctx->have_key || ctx->key.name != NULL || ctx->key.secret.data != NULL) {
		knot_dname_free(ctx->key.name, NULL);
		free(ctx->key.secret.data);
	}
	free(ctx);
}

static int ingest_load(knotd_mod_t *mod)
{
	ingest_ctx_t *ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		return KNOT_ENOMEM;
	}
	ctx->mod = mod;
	int ret = KNOT_ENOMEM;

	knotd_conf_t src = knotd_conf_mod(mod, MOD_SOURCE);
	ctx->source = strdup(src.single.string);
	ctx->zone = knot_dname_copy(knotd_mod_zone(mod), NULL);
	if (ctx->source == NULL || ctx->zone == NULL) {
		goto fail;
	}

	for (int i = 0; i < CTR_COUNT; i++) {
		ret = knotd_mod_stats_add(mod, ctr_names[i], 1, NULL);
		if (ret != KNOT_EOK) {
			goto fail;
		}
	}

	ret = load_key(mod, ctx);
	if (ret != KNOT_EOK) {
		goto fail;
	}
	zg_ingest_conf_default(&ctx->conf);
	ret = load_server(mod, &ctx->conf.gw.server);
	if (ret != KNOT_EOK) {
		knotd_mod_log(mod, LOG_ERR, "no server address to send updates to");
		goto fail;
	}
	ctx->conf.source = ctx->source;
	ctx->conf.zone = ctx->zone;
	ctx->conf.gw.key = ctx->have_key ? &ctx->key : NULL;
	ctx->conf.gw.timeout_ms = WORKER_TIMEOUT_MS;
	ctx->conf.interval = knotd_conf_mod(mod, MOD_INTERVAL).single.integer;
	ctx->conf.gw.batch_max = knotd_conf_mod(mod, MOD_BATCH).single.integer;
	ctx->conf.gw.max_removal_pct = knotd_conf_mod(mod, MOD_REMOVAL).single.integer;
	/* A message too big for one UPDATE is applied in one transaction on
	 * knotd's own control socket (3.5: the first of control.listen). */
	if (zg_mod_ctl_path(mod, NULL, ctx->ctl_socket, sizeof(ctx->ctl_socket)) != 0) {
		knotd_mod_log(mod, LOG_ERR, "control socket path too long");
		ret = KNOT_EINVAL;
		goto fail;
	}
	ctx->conf.gw.ctl_socket = ctx->ctl_socket;
	ctx->conf.gw.ctl_timeout_ms = CTL_TIMEOUT_MS;
	ctx->conf.limits.max_size = knotd_conf_mod(mod, MOD_MAXSIZE).single.integer;
	ctx->conf.stop = &ctx->stop;
	ctx->conf.on_outcome = on_outcome;
	ctx->conf.on_log = on_log;
	ctx->conf.on_lag = on_lag;
	ctx->conf.on_state = on_state;
	ctx->conf.ctx = ctx;

	if (pthread_create(&ctx->thread, NULL, worker, ctx) != 0) {
		ret = KNOT_ERROR;
		goto fail;
	}
	ctx->started = true;
	knotd_mod_ctx_set(mod, ctx);
	knotd_mod_log(mod, LOG_INFO, "consuming %s", ctx->source);
	return KNOT_EOK;
fail:
	ctx_free(ctx);
	return ret;
}

static void ingest_unload(knotd_mod_t *mod)
{
	ingest_ctx_t *ctx = knotd_mod_ctx(mod);
	if (ctx == NULL) {
		return;
	}
	if (ctx->started) {
		ctx->stop = 1;
		pthread_join(ctx->thread, NULL);
	}
	ctx_free(ctx);
}

KNOTD_MOD_API(ingest, KNOTD_MOD_FLAG_SCOPE_ZONE | KNOTD_MOD_FLAG_OPT_CONF,
              ingest_load, ingest_unload, ingest_conf, ingest_conf_check);
