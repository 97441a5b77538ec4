/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * mod-validate: follows the zone by IXFR, validates every serial
 * incrementally and refuses outgoing transfers of serials that did not
 * validate.
 *
 * This build registers the configuration schema and the counters; the
 * validator lands with its own issue, and until then a configured instance
 * says once at load that it is inactive (it refuses nothing).
 */
#include <stdlib.h>
#include <string.h>

#include <knot/module.h>

#define MOD_SOURCE	"\x06""source"
#define MOD_HORIZON	"\x07""horizon"
#define MOD_ALARM	"\x05""alarm"

static const yp_item_t validate_conf[] = {
	{ MOD_SOURCE,  YP_TADDR, YP_VADDR = { 53 } },
	{ MOD_HORIZON, YP_TINT,  YP_VINT = { 0, UINT32_MAX, 2 * 86400, YP_STIME } },
	{ MOD_ALARM,   YP_TSTR,  YP_VNONE },
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

typedef struct {
	uint32_t horizon;
	char *alarm;
} validate_ctx_t;

static int validate_conf_check(knotd_conf_check_args_t *args)
{
	knotd_conf_t alarm = knotd_conf_check_item(args, MOD_ALARM);
	if (alarm.count == 1 && alarm.single.string[0] != '/') {
		args->err_str = "alarm must be an absolute path to an executable";
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

static int validate_load(knotd_mod_t *mod)
{
	validate_ctx_t *ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		return KNOT_ENOMEM;
	}

	ctx->horizon = knotd_conf_mod(mod, MOD_HORIZON).single.integer;
	knotd_conf_t alarm = knotd_conf_mod(mod, MOD_ALARM);
	if (alarm.count == 1 && (ctx->alarm = strdup(alarm.single.string)) == NULL) {
		goto fail;
	}

	for (int i = 0; i < CTR_COUNT; i++) {
		if (knotd_mod_stats_add(mod, ctr_names[i], 1, NULL) != KNOT_EOK) {
			goto fail;
		}
	}

	knotd_mod_ctx_set(mod, ctx);
	knotd_mod_log(mod, LOG_NOTICE, "configured but inactive, zone not validated "
	              "and transfers not gated in this build");
	return KNOT_EOK;
fail:
	free(ctx->alarm);
	free(ctx);
	return KNOT_ENOMEM;
}

static void validate_unload(knotd_mod_t *mod)
{
	validate_ctx_t *ctx = knotd_mod_ctx(mod);
	if (ctx != NULL) {
		free(ctx->alarm);
		free(ctx);
	}
}

KNOTD_MOD_API(validate, KNOTD_MOD_FLAG_SCOPE_ZONE | KNOTD_MOD_FLAG_OPT_CONF,
              validate_load, validate_unload, validate_conf, validate_conf_check);
