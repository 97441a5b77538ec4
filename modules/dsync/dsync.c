/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * mod-dsync: CDS/DS synchronisation interlock. In child mode it holds a KSK
 * rollover until every parent server serves the matching DS and guards the
 * CDS/CDNSKEY the zone publishes; in parent mode it scans the delegated
 * children's CDS/CDNSKEY and turns them into DS changes.
 *
 * This build registers the configuration schema and the counters; the
 * interlock lands with its own issue, and until then a configured instance
 * says once at load that it is inactive.
 */
#include <stdlib.h>

#include <knot/module.h>

#define MOD_MODE	"\x04""mode"

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
	{ MOD_MODE, YP_TOPT, YP_VOPT = { dsync_modes, DSYNC_CHILD } },
	{ NULL }
};

enum {
	CTR_DS_OK,
	CTR_DS_FAILED,
	CTR_OVERDUE,
	CTR_COUNT
};

static const char *const ctr_names[CTR_COUNT] = {
	[CTR_DS_OK]     = "parent-ds-checks-ok",
	[CTR_DS_FAILED] = "parent-ds-checks-failed",
	[CTR_OVERDUE]   = "syncs-overdue",
};

typedef struct {
	enum dsync_mode mode;
} dsync_ctx_t;

static int dsync_load(knotd_mod_t *mod)
{
	dsync_ctx_t *ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		return KNOT_ENOMEM;
	}
	ctx->mode = knotd_conf_mod(mod, MOD_MODE).single.option;

	for (int i = 0; i < CTR_COUNT; i++) {
		if (knotd_mod_stats_add(mod, ctr_names[i], 1, NULL) != KNOT_EOK) {
			free(ctx);
			return KNOT_ENOMEM;
		}
	}

	knotd_mod_ctx_set(mod, ctx);
	knotd_mod_log(mod, LOG_NOTICE, "configured but inactive in %s mode, parent DS "
	              "not checked in this build",
	              ctx->mode == DSYNC_PARENT ? "parent" : "child");
	return KNOT_EOK;
}

static void dsync_unload(knotd_mod_t *mod)
{
	free(knotd_mod_ctx(mod));
}

KNOTD_MOD_API(dsync, KNOTD_MOD_FLAG_SCOPE_ZONE | KNOTD_MOD_FLAG_OPT_CONF,
              dsync_load, dsync_unload, dsync_conf, NULL);
