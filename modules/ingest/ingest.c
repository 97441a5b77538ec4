/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * mod-ingest: applies registry JSON messages from a queue to the zone as
 * RFC 2136 UPDATEs signed with TSIG.
 *
 * This build registers the configuration schema and the counters; the
 * gateway itself lands with the ingest issue, and until then a configured
 * instance says once at load that it is inactive.
 */
#include <stdlib.h>
#include <string.h>

#include <knot/module.h>

#define MOD_SOURCE	"\x06""source"
#define MOD_KEY		"\x03""key"
#define MOD_SERVER	"\x06""server"

#define SPOOL_PREFIX	"spool:"

static const yp_item_t ingest_conf[] = {
	{ MOD_SOURCE, YP_TSTR,  YP_VSTR = { "spool:/var/lib/knot/ingest" } },
	{ MOD_KEY,    YP_TREF,  YP_VREF = { "\x03""key" }, YP_FNONE,
	                        { knotd_conf_check_ref } },
	{ MOD_SERVER, YP_TADDR, YP_VADDR = { 53 } },
	{ NULL }
};

enum {
	CTR_MSG_APPLIED,
	CTR_MSG_REFUSED,
	CTR_CHANGES_APPLIED,
	CTR_QUEUE_LAG,
	CTR_LAST_ID,
	CTR_COUNT
};

static const char *const ctr_names[CTR_COUNT] = {
	[CTR_MSG_APPLIED]     = "messages-applied",
	[CTR_MSG_REFUSED]     = "messages-refused",
	[CTR_CHANGES_APPLIED] = "changes-applied",
	[CTR_QUEUE_LAG]       = "queue-lag-seconds",
	[CTR_LAST_ID]         = "last-applied-id",
};

typedef struct {
	char *source;
} ingest_ctx_t;

static bool source_valid(const char *src)
{
	if (strncmp(src, SPOOL_PREFIX, strlen(SPOOL_PREFIX)) == 0) {
		return src[strlen(SPOOL_PREFIX)] == '/';
	}
	return strncmp(src, "postgresql://", 13) == 0 ||
	       strncmp(src, "postgres://", 11) == 0;
}

static int ingest_conf_check(knotd_conf_check_args_t *args)
{
	knotd_conf_t src = knotd_conf_check_item(args, MOD_SOURCE);
	if (src.count == 1 && !source_valid(src.single.string)) {
		args->err_str = "source must be spool:/ABSOLUTE/PATH or postgresql://...";
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

static int ingest_load(knotd_mod_t *mod)
{
	ingest_ctx_t *ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		return KNOT_ENOMEM;
	}

	knotd_conf_t src = knotd_conf_mod(mod, MOD_SOURCE);
	ctx->source = strdup(src.single.string);
	if (ctx->source == NULL) {
		goto fail;
	}

	for (int i = 0; i < CTR_COUNT; i++) {
		int ret = knotd_mod_stats_add(mod, ctr_names[i], 1, NULL);
		if (ret != KNOT_EOK) {
			goto fail;
		}
	}

	knotd_mod_ctx_set(mod, ctx);
	knotd_mod_log(mod, LOG_NOTICE, "configured but inactive, queue not consumed "
	              "in this build (source %s)", ctx->source);
	return KNOT_EOK;
fail:
	free(ctx->source);
	free(ctx);
	return KNOT_ENOMEM;
}

static void ingest_unload(knotd_mod_t *mod)
{
	ingest_ctx_t *ctx = knotd_mod_ctx(mod);
	if (ctx != NULL) {
		free(ctx->source);
		free(ctx);
	}
}

KNOTD_MOD_API(ingest, KNOTD_MOD_FLAG_SCOPE_ZONE | KNOTD_MOD_FLAG_OPT_CONF,
              ingest_load, ingest_unload, ingest_conf, ingest_conf_check);
