/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * mod-dsync: CDS/DS synchronisation interlock. In child mode it holds a KSK
 * rollover until every parent server serves the matching DS and guards the
 * CDS/CDNSKEY the zone publishes; in parent mode it scans the delegated
 * children's CDS/CDNSKEY and turns them into DS changes.
 *
 * This build implements the child mode's CDS guard: a worker thread polls the
 * zone's DNSKEY/CDS/CDNSKEY from this server over loopback at a bounded
 * interval and checks them (zg_cds_check_published()); while the set is
 * unsafe, or not checked yet, a BEGIN hook answers CDS/CDNSKEY queries for the
 * apex with SERVFAIL. The parent DS confirmation and the parent mode are not
 * in this build; a parent-mode instance says so once at load.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <knot/module.h>
#include <libdnssec/random.h>

#include "zonegate/ds.h"
#include "zonegate/error.h"
#include "zonegate/resolver.h"

#define MOD_MODE		"\x04""mode"
#define MOD_ALLOW_DELETE	"\x0c""allow-delete"
#define MOD_INTERVAL		"\x0e""check-interval"
#define MOD_SERVER		"\x06""server"

#define CONF_SERVER		"\x06""server"
#define CONF_LISTEN		"\x06""listen"

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
	{ NULL }
};

enum {
	CTR_DS_OK,
	CTR_DS_FAILED,
	CTR_OVERDUE,
	CTR_CDS_UNSAFE,
	CTR_CDS_SERVFAIL,
	CTR_COUNT
};

static const char *const ctr_names[CTR_COUNT] = {
	[CTR_DS_OK]        = "parent-ds-checks-ok",
	[CTR_DS_FAILED]    = "parent-ds-checks-failed",
	[CTR_OVERDUE]      = "syncs-overdue",
	[CTR_CDS_UNSAFE]   = "cds-unsafe",
	[CTR_CDS_SERVFAIL] = "cds-servfail",
};

enum guard_state {
	GUARD_UNKNOWN = 0, /* Not checked yet: CDS/CDNSKEY withheld. */
	GUARD_SAFE,
	GUARD_UNSAFE,
};

typedef struct {
	enum dsync_mode mode;
	bool allow_delete;
	unsigned interval;
	zg_server_t server;
	knot_dname_t *zone;
	knotd_mod_t *mod;
	uint8_t token[GUARD_TOKEN_LEN];

	atomic_int guard;

	pthread_t thread;
	bool thread_started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
} dsync_ctx_t;

static int dsync_conf_check(knotd_conf_check_args_t *args)
{
	knotd_conf_t mode = knotd_conf_check_item(args, MOD_MODE);
	knotd_conf_t del = knotd_conf_check_item(args, MOD_ALLOW_DELETE);
	if (mode.count > 0 && mode.single.option == DSYNC_PARENT && del.count > 0 &&
	    del.single.boolean) {
		args->err_str = "allow-delete applies to child mode only";
		return KNOT_EINVAL;
	}
	return KNOT_EOK;
}

/* The address the worker polls: 'server', else the first 'listen' of the server section. */
static int guard_server(knotd_mod_t *mod, zg_server_t *srv)
{
	knotd_conf_t conf = knotd_conf_mod(mod, MOD_SERVER);
	struct sockaddr_storage ss;
	if (conf.count > 0) {
		ss = conf.single.addr;
	} else {
		knotd_conf_t listen = knotd_conf(mod, CONF_SERVER, CONF_LISTEN, NULL);
		if (listen.count == 0) {
			knotd_conf_free(&listen);
			return KNOT_EINVAL;
		}
		ss = listen.multi[0].addr;
		knotd_conf_free(&listen);
	}
	/* A wildcard listen address is reached over loopback. */
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		if (s4->sin_addr.s_addr == htonl(INADDR_ANY)) {
			s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		}
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		if (memcmp(&s6->sin6_addr, &in6addr_any, sizeof(in6addr_any)) == 0) {
			s6->sin6_addr = in6addr_loopback;
		}
	} else {
		return KNOT_EINVAL; /* UNIX socket: not a DNS listener. */
	}
	zg_server_set(srv, (struct sockaddr *)&ss);
	return KNOT_EOK;
}

/* One check; updates ctx->guard, logs transitions. */
static void guard_check(dsync_ctx_t *ctx, char *last, size_t last_len, int *last_err)
{
	zg_stub_opts_t opts = {
		.timeout_ms = POLL_TIMEOUT_MS,
		.udp_tries = POLL_TRIES,
		.edns_opt_code = GUARD_OPT_CODE,
		.edns_opt_data = ctx->token,
		.edns_opt_len = GUARD_TOKEN_LEN,
	};
	zg_child_view_t v;
	char err[256];
	int ret = zg_child_view_fetch(&v, &ctx->server, ctx->zone, &opts, err, sizeof(err));
	if (ret != 0) {
		if (ret != *last_err) {
			knotd_mod_log(ctx->mod, LOG_WARNING, "failed to check cds/cdnskey (server %s, %s)%s",
			              ctx->server.name, err,
			              atomic_load(&ctx->guard) == GUARD_UNKNOWN ?
			              ", withholding them until checked" : "");
			*last_err = ret;
		}
		zg_child_view_deinit(&v);
		return;
	}
	*last_err = 0;
	char why[256];
	ret = zg_cds_check_published(&v, (uint32_t)time(NULL), ctx->allow_delete, why, sizeof(why));
	zg_child_view_deinit(&v);
	int old = atomic_load(&ctx->guard);
	if (ret == 0) {
		atomic_store(&ctx->guard, GUARD_SAFE);
		if (old != GUARD_SAFE) {
			knotd_mod_log(ctx->mod, old == GUARD_UNSAFE ? LOG_NOTICE : LOG_INFO,
			              "cds/cdnskey %s, serving them (%s)",
			              old == GUARD_UNSAFE ? "safe again" : "checked", why);
		}
		last[0] = '\0';
	} else if (ret == ZG_EVALIDATION) {
		atomic_store(&ctx->guard, GUARD_UNSAFE);
		if (old != GUARD_UNSAFE || strcmp(last, why) != 0) {
			knotd_mod_log(ctx->mod, LOG_ERR, "unsafe cds/cdnskey, answering servfail (%s)", why);
			knotd_mod_stats_incr(ctx->mod, 0, CTR_CDS_UNSAFE, 0, 1);
			snprintf(last, last_len, "%s", why);
		}
	} else {
		knotd_mod_log(ctx->mod, LOG_WARNING, "failed to check cds/cdnskey (%s)", zg_strerror(ret));
	}
}

static void *guard_worker(void *arg)
{
	dsync_ctx_t *ctx = arg;
	char last[256] = "";
	int last_err = 0;
	pthread_mutex_lock(&ctx->lock);
	while (!ctx->stop) {
		pthread_mutex_unlock(&ctx->lock);
		guard_check(ctx, last, sizeof(last), &last_err);
		pthread_mutex_lock(&ctx->lock);

		unsigned wait = atomic_load(&ctx->guard) == GUARD_UNKNOWN && ctx->interval > RETRY_UNKNOWN_S ?
		                RETRY_UNKNOWN_S : ctx->interval;
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += wait;
		while (!ctx->stop) {
			if (pthread_cond_timedwait(&ctx->cond, &ctx->lock, &until) == ETIMEDOUT) {
				break;
			}
		}
	}
	pthread_mutex_unlock(&ctx->lock);
	return NULL;
}

static knotd_state_t guard_hook(knotd_state_t state, knot_pkt_t *pkt, knotd_qdata_t *qdata,
                                knotd_mod_t *mod)
{
	(void)pkt;
	dsync_ctx_t *ctx = knotd_mod_ctx(mod);
	if (state == KNOTD_STATE_FAIL || qdata->type != KNOTD_QUERY_TYPE_NORMAL) {
		return state;
	}
	uint16_t qtype = knot_pkt_qtype(qdata->query);
	if ((qtype != KNOT_RRTYPE_CDS && qtype != KNOT_RRTYPE_CDNSKEY) ||
	    atomic_load(&ctx->guard) == GUARD_SAFE ||
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
	knotd_mod_stats_incr(mod, qdata->params->thread_id, CTR_CDS_SERVFAIL, 0, 1);
	qdata->rcode = KNOT_RCODE_SERVFAIL;
	return KNOTD_STATE_FAIL;
}

static void ctx_free(dsync_ctx_t *ctx)
{
	if (ctx == NULL) {
		return;
	}
	if (ctx->thread_started) {
		pthread_mutex_lock(&ctx->lock);
		ctx->stop = true;
		pthread_cond_signal(&ctx->cond);
		pthread_mutex_unlock(&ctx->lock);
		pthread_join(ctx->thread, NULL);
	}
	pthread_cond_destroy(&ctx->cond);
	pthread_mutex_destroy(&ctx->lock);
	knot_dname_free(ctx->zone, NULL);
	free(ctx);
}

static int dsync_load(knotd_mod_t *mod)
{
	dsync_ctx_t *ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		return KNOT_ENOMEM;
	}
	pthread_mutex_init(&ctx->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ctx->cond, &ca);
	pthread_condattr_destroy(&ca);
	atomic_init(&ctx->guard, GUARD_UNKNOWN);
	ctx->mod = mod;
	ctx->mode = knotd_conf_mod(mod, MOD_MODE).single.option;
	ctx->allow_delete = knotd_conf_mod(mod, MOD_ALLOW_DELETE).single.boolean;
	ctx->interval = (unsigned)knotd_conf_mod(mod, MOD_INTERVAL).single.integer;

	int ret = KNOT_ENOMEM;
	for (int i = 0; i < CTR_COUNT; i++) {
		if (knotd_mod_stats_add(mod, ctr_names[i], 1, NULL) != KNOT_EOK) {
			goto fail;
		}
	}
	knotd_mod_ctx_set(mod, ctx);

	if (ctx->mode == DSYNC_PARENT) {
		knotd_mod_log(mod, LOG_NOTICE, "configured but inactive in parent mode, children's "
		              "cds not scanned in this build");
		return KNOT_EOK;
	}

	ctx->zone = knot_dname_copy(knotd_mod_zone(mod), NULL);
	if (ctx->zone == NULL) {
		goto fail;
	}
	knot_dname_to_lower(ctx->zone);
	if ((ret = guard_server(mod, &ctx->server)) != KNOT_EOK) {
		knotd_mod_log(mod, LOG_ERR, "no address to check the zone at (set 'server' or a "
		              "server 'listen' address)");
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
	if (pthread_create(&ctx->thread, NULL, guard_worker, ctx) != 0) {
		ret = KNOT_ENOMEM;
		goto fail;
	}
	ctx->thread_started = true;
	knotd_mod_log(mod, LOG_NOTICE, "cds/cdnskey guard active (server %s, interval %us, "
	              "allow-delete %s), parent ds confirmation configured but inactive in this build",
	              ctx->server.name, ctx->interval, ctx->allow_delete ? "on" : "off");
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
