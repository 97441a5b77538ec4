/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * mod-keys: keys are never used before they are backed up, and a lost
 * keystore is noticed at once. A worker thread per signed zone, every
 * check-interval:
 *  - reads the backup register (lib/keys/register.c) and the zone's keys
 *    from Knot's KASP database (`keymgr -D KASP-DIR -j ZONE list`);
 *  - decides (lib/keys/decide.c, pure): a new key in no backup is held
 *    before Knot activates it (ZSK) or submits it (KSK) by changing its
 *    timers with `keymgr set` (see decide.h for how), and released once the
 *    register lists it; keys already in use without a backup are reported;
 *  - checks that the keystore holds every key (libdnssec, in this process:
 *    the same PKCS #11 module knotd signs with);
 *  - checks the supply of backed-up keys against the next scheduled backup;
 *  - logs, counts and runs the alarm command for each new finding;
 *  - with state-command: runs it (bounded by state-timeout) at the first
 *    check and whenever the key set or a key timer differs from what it
 *    last wrote (lib/keys/keyset.c, zg_keyset_changes()), so that the key
 *    state a standby signer restores is written after every key event;
 *    a failure is logged, counted and alarmed, and retried next check.
 * Without a register (allowed only with state-command) there is no backup
 * interlock: the worker writes the key state and checks the keystore.
 * At load it checks the zone's policy against recovery-time (the runway a
 * lost keystore leaves, zg_keys_policy_runway()).
 *
 * Threads: knotd's workers never enter this module (no query hooks); the
 * configuration is read in load; the worker is joined in unload.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "modules/knotd-compat.h"
#include "modules/modalarm.h"
#include "modules/modworker.h"
#include "core/error.h"
#include "dns/ctl.h"
#include "keys/decide.h"
#include "keys/keyset.h"
#include "keys/keystore.h"
#include "keys/knot.h"
#include "keys/register.h"

#ifndef ZG_KEYMGR_PATH
#define ZG_KEYMGR_PATH "/usr/sbin/keymgr"
#endif

#define MOD_REGISTER	"\x08""register"
#define MOD_INTERVAL	"\x0e""check-interval"
#define MOD_RECOVERY	"\x0d""recovery-time"
#define MOD_BACKUP_INT	"\x0f""backup-interval"
#define MOD_ALARM	"\x05""alarm"
#define MOD_ALARM_TO	"\x0d""alarm-timeout"
#define MOD_KEYMGR	"\x06""keymgr"
#define MOD_CONTROL	"\x07""control"
#define MOD_STATE_CMD	"\x0d""state-command"
#define MOD_STATE_TO	"\x0d""state-timeout"

#define C_DATABASE	"\x08""database"
#define C_STORAGE	"\x07""storage"
#define C_KASP_DB	"\x07""kasp-db"
#define C_SIGNING	"\x0e""dnssec-signing"
#define C_POLICY	"\x0d""dnssec-policy"
#define C_POLICY_SEC	"\x06""policy"
#define C_KEYSTORE	"\x08""keystore"
#define C_BACKEND	"\x07""backend"
#define C_CONFIG	"\x06""config"

#define KEYSTORE_PKCS11	2     /* Knot's keystore backend option (3.2 to 3.5). */
#define TOOL_TIMEOUT_MS	30000
#define CTL_TIMEOUT_MS	5000
#define MAX_TRACKED	256

static const yp_item_t keys_conf[] = {
	{ MOD_REGISTER,   YP_TSTR, YP_VNONE },
	{ MOD_INTERVAL,   YP_TINT, YP_VINT = { 1, 3600, 60, YP_STIME } },
	{ MOD_RECOVERY,   YP_TINT, YP_VINT = { 0, UINT32_MAX, 7 * 86400, YP_STIME } },
	{ MOD_BACKUP_INT, YP_TINT, YP_VINT = { 0, UINT32_MAX, 7 * 86400, YP_STIME } },
	{ MOD_ALARM,      YP_TSTR, YP_VNONE },
	{ MOD_ALARM_TO,   YP_TINT, YP_VINT = { 1, 3600, 30, YP_STIME } },
	{ MOD_KEYMGR,     YP_TSTR, YP_VSTR = { ZG_KEYMGR_PATH } },
	{ MOD_CONTROL,    YP_TSTR, YP_VNONE },
	{ MOD_STATE_CMD,  YP_TSTR, YP_VNONE },
	{ MOD_STATE_TO,   YP_TINT, YP_VINT = { 1, 3600, 60, YP_STIME } },
	{ NULL }
};

enum {
	CTR_HELD,
	CTR_UNBACKED,
	CTR_MISSING,
	CTR_RUNWAY,
	CTR_STATE_WRITES,
	CTR_STATE_ERRORS,
	CTR_COUNT
};

static const char *const ctr_names[CTR_COUNT] = {
	[CTR_HELD]     = "keys-held",
	[CTR_UNBACKED] = "keys-without-backup",
	[CTR_MISSING]  = "keys-missing",
	[CTR_RUNWAY]   = "runway-seconds",
	[CTR_STATE_WRITES] = "key-state-writes",
	[CTR_STATE_ERRORS] = "key-state-errors",
};

/* What was already reported about a key (per load of the module). */
typedef struct {
	char id[129];
	zg_key_verdict_t verdict;
	int64_t late_from;    /* First due seen without a backup (rollover late from then). */
	bool alarmed;
	bool missing;
	bool seen;            /* Still in the KASP at the last check. */
} track_t;

typedef struct {
	knotd_mod_t *mod;
	char zone[KNOT_DNAME_TXT_MAXLEN + 1];
	char reg_path[1024];
	unsigned interval;
	int64_t recovery;
	int64_t backup_interval;
	char keymgr[512];
	char kasp_dir[1024];
	char policy_id[128];
	char keystore_id[128];
	char backend[16];
	char ks_config[1024];
	char ctl_path[512];
	char state_cmd[1024];  /* Empty: no state command. */
	unsigned state_timeout;
	zg_keys_policy_t pol;
	zg_alarm_t alarm;

	/* Worker state. */
	zg_reg_t reg;
	struct stat reg_st;
	bool reg_loaded;
	char reg_err[512];
	char list_err[512];
	track_t track[MAX_TRACKED];
	size_t ntrack;
	int64_t last_ok;       /* Last check with every key in the keystore (0 never). */
	int64_t next_full;     /* Next check that fetches every key (with a login). */
	size_t last_missing;   /* Keys missing at the last full check. */
	bool keystore_lost;
	char keystore_msg[512];
	bool supply_short[ZG_ROLES];
	zg_keyset_t state_last; /* The key state the last good state command wrote. */
	bool state_written;     /* state_last is set (a write succeeded since load). */
	unsigned state_failures; /* Failed writes in a row. */
	char state_err[512];

	zg_modworker_t worker;
} keys_ctx_t;

/* Logs of the worker: none once unload began (see zg_worker_log()). */
#define wlog(ctx, ...) zg_worker_log((ctx)->mod, zg_modworker_stopping(&(ctx)->worker), __VA_ARGS__)

static int keys_conf_check(knotd_conf_check_args_t *args)
{
	knotd_conf_t reg = knotd_conf_check_item(args, MOD_REGISTER);
	knotd_conf_t state = knotd_conf_check_item(args, MOD_STATE_CMD);
	bool has_state = state.count > 0 && state.single.string != NULL &&
	                 state.single.string[0] != '\0';
	if (state.count > 0 && !has_state) {
		args->err_str = "state-command must not be empty";
		return KNOT_EINVAL;
	}
	if (reg.count > 0 && (reg.single.string == NULL || reg.single.string[0] != '/')) {
		args->err_str = "register must be an absolute path";
		return KNOT_EINVAL;
	}
	if (reg.count == 0 && !has_state) {
		args->err_str = "register (an absolute path) is required without state-command";
		return KNOT_EINVAL;
	}
	knotd_conf_t alarm = knotd_conf_check_item(args, MOD_ALARM);
	if (alarm.count > 0 && alarm.single.string[0] != '/') {
		args->err_str = "alarm must be an absolute path";
		return KNOT_EINVAL;
	}
	knotd_conf_t keymgr = knotd_conf_check_item(args, MOD_KEYMGR);
	if (keymgr.count > 0 && keymgr.single.string[0] != '/') {
		args->err_str = "keymgr must be an absolute path";
		return KNOT_EINVAL;
	}
	return KNOT_EOK;
}

static void alarm_run(keys_ctx_t *ctx, unsigned tag, const char *reason)
{
	zg_modalarm_run(ctx->mod, &ctx->alarm, ctx->zone, "key tag", tag, reason);
}

/* A configuration reference's id as a string (single or first of many). */
static void ref_str(const knotd_conf_t *c, const char *dflt, char *out, size_t len)
{
	const knotd_conf_val_t *v = c->multi != NULL ? &c->multi[0] : &c->single;
	if (c->count > 0 && v->data != NULL && v->data_len > 0 && v->data[v->data_len - 1] == '\0') {
		snprintf(out, len, "%s", (const char *)v->data);
	} else {
		snprintf(out, len, "%s", dflt);
	}
}

static knotd_conf_t conf_by_id(knotd_mod_t *mod, const char *section, const char *item,
                               const char *id)
{
	knotd_conf_t cid = { .single = { .data = (const uint8_t *)id, .data_len = strlen(id) + 1 },
	                     .count = 1 };
	return knotd_conf(mod, (const yp_name_t *)section, (const yp_name_t *)item, &cid);
}

static int64_t policy_int(keys_ctx_t *ctx, const char *item, int64_t dflt)
{
	knotd_conf_t v = conf_by_id(ctx->mod, C_POLICY_SEC, item, ctx->policy_id);
	int64_t n = v.single.integer;
	return n == YP_NIL ? dflt : n;
}

/* The zone's policy, keystore and KASP directory from knotd's configuration. */
static void read_knot_conf(keys_ctx_t *ctx, const knot_dname_t *zone)
{
	knotd_mod_t *mod = ctx->mod;
	knotd_conf_t pol = knotd_conf_zone(mod, (const yp_name_t *)C_POLICY, zone);
	ref_str(&pol, "default", ctx->policy_id, sizeof(ctx->policy_id));
	knotd_conf_free(&pol);

	zg_keys_policy_t *p = &ctx->pol;
	zg_keys_policy_default(p);
	p->manual = conf_by_id(mod, C_POLICY_SEC, "\x06""manual", ctx->policy_id).single.boolean;
	p->propagation_delay = policy_int(ctx, "\x11""propagation-delay", p->propagation_delay);
	p->dnskey_ttl = policy_int(ctx, "\x0a""dnskey-ttl", -1);
	p->zone_max_ttl = policy_int(ctx, "\x0c""zone-max-ttl", -1);
	p->zsk_lifetime = policy_int(ctx, "\x0c""zsk-lifetime", p->zsk_lifetime);
	p->ksk_lifetime = policy_int(ctx, "\x0c""ksk-lifetime", p->ksk_lifetime);
	p->rrsig_lifetime = policy_int(ctx, "\x0e""rrsig-lifetime", p->rrsig_lifetime);
	p->rrsig_refresh = policy_int(ctx, "\x0d""rrsig-refresh", -1);
	p->rrsig_pre_refresh = policy_int(ctx, "\x11""rrsig-pre-refresh", p->rrsig_pre_refresh);

	knotd_conf_t storage = knotd_conf(mod, (const yp_name_t *)C_DATABASE,
	                                  (const yp_name_t *)C_STORAGE, NULL);
	knotd_conf_t kasp = knotd_conf(mod, (const yp_name_t *)C_DATABASE,
	                               (const yp_name_t *)C_KASP_DB, NULL);
	const char *s = storage.single.string != NULL ? storage.single.string : "/var/lib/knot";
	const char *k = kasp.single.string != NULL && kasp.single.string[0] != '\0' ?
	                kasp.single.string : "keys";
	if (k[0] == '/') {
		snprintf(ctx->kasp_dir, sizeof(ctx->kasp_dir), "%s", k);
	} else {
		snprintf(ctx->kasp_dir, sizeof(ctx->kasp_dir), "%.500s/%.500s", s, k);
	}

	knotd_conf_t ks = conf_by_id(mod, C_POLICY_SEC, C_KEYSTORE, ctx->policy_id);
	ref_str(&ks, "default", ctx->keystore_id, sizeof(ctx->keystore_id));
	knotd_conf_free(&ks);
	knotd_conf_t backend = conf_by_id(mod, C_KEYSTORE, C_BACKEND, ctx->keystore_id);
	knotd_conf_t config = conf_by_id(mod, C_KEYSTORE, C_CONFIG, ctx->keystore_id);
	bool pkcs11 = backend.single.option == KEYSTORE_PKCS11;
	snprintf(ctx->backend, sizeof(ctx->backend), "%s", pkcs11 ? "pkcs11" : "pem");
	const char *c = config.single.string != NULL ? config.single.string : "keys";
	if (!pkcs11 && c[0] != '/') {
		snprintf(ctx->ks_config, sizeof(ctx->ks_config), "%.500s/%.500s", ctx->kasp_dir, c);
	} else {
		snprintf(ctx->ks_config, sizeof(ctx->ks_config), "%s", c);
	}
}

/* ---- worker ---- */

static track_t *tracked(keys_ctx_t *ctx, const char *id)
{
	for (size_t i = 0; i < ctx->ntrack; i++) {
		if (strcmp(ctx->track[i].id, id) == 0) {
			return &ctx->track[i];
		}
	}
	if (ctx->ntrack == MAX_TRACKED) {
		return NULL;
	}
	track_t *t = &ctx->track[ctx->ntrack++];
	memset(t, 0, sizeof(*t));
	snprintf(t->id, sizeof(t->id), "%s", id);
	t->verdict = ZG_KV_BACKED_UP;
	return t;
}

/* Drops the keys that left the KASP; marks all unseen for the next check. */
static void track_sweep(keys_ctx_t *ctx)
{
	size_t k = 0;
	for (size_t i = 0; i < ctx->ntrack; i++) {
		if (ctx->track[i].seen) {
			ctx->track[i].seen = false;
			ctx->track[k++] = ctx->track[i];
		}
	}
	ctx->ntrack = k;
}

/* Reloads the register when the file changed; keeps the last good one on error. */
static void register_refresh(keys_ctx_t *ctx)
{
	struct stat st;
	int sr = stat(ctx->reg_path, &st);
	if (sr == 0 && ctx->reg_loaded && st.st_ino == ctx->reg_st.st_ino &&
	    st.st_size == ctx->reg_st.st_size &&
	    st.st_mtim.tv_sec == ctx->reg_st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == ctx->reg_st.st_mtim.tv_nsec) {
		return;
	}
	char err[512];
	int ret = zg_reg_load(&ctx->reg, ctx->reg_path, err, sizeof(err));
	if (ret == 0 || ret == -ENOENT) {
		if (ret == -ENOENT && strcmp(ctx->reg_err, err) != 0) {
			wlog(ctx, LOG_WARNING, "%s, no key counts as backed up", err);
			snprintf(ctx->reg_err, sizeof(ctx->reg_err), "%s", err);
		} else if (ret == 0 && ctx->reg_err[0] != '\0') {
			wlog(ctx, LOG_NOTICE, "register %s read (%zu entries)",
			     ctx->reg_path, ctx->reg.count);
			ctx->reg_err[0] = '\0';
		}
		ctx->reg_st = st;
		ctx->reg_loaded = sr == 0;
		return;
	}
	/* Corrupt or unreadable: fail closed, no key counts as backed up. */
	zg_reg_deinit(&ctx->reg);
	ctx->reg_loaded = false;
	if (strcmp(ctx->reg_err, err) != 0) {
		wlog(ctx, LOG_ERR, "%s, no key counts as backed up until it is fixed",
		     err);
		alarm_run(ctx, 0, err);
		snprintf(ctx->reg_err, sizeof(ctx->reg_err), "%s", err);
	}
}

static void key_name(const zg_key_t *k, char *buf, size_t len)
{
	snprintf(buf, len, "%s %u (id %s)", zg_key_role(k), (unsigned)k->tag, k->id);
}

/* Applies the plan's timer changes with keymgr, key by key. */
static size_t plan_apply(keys_ctx_t *ctx, const zg_keys_plan_t *plan)
{
	zg_knot_t kt = { .keymgr = ctx->keymgr, .kasp_dir = ctx->kasp_dir,
	                 .timeout_ms = TOOL_TIMEOUT_MS };
	size_t applied = 0;
	for (size_t i = 0; i < plan->nkeys; i++) {
		bool has = false;
		for (size_t c = 0; c < plan->nchanges && !has; c++) {
			has = plan->changes[c].key == i;
		}
		if (!has) {
			continue;
		}
		char err[512], name[200];
		key_name(plan->keys[i].key, name, sizeof(name));
		int ret = zg_keymgr_apply(&kt, ctx->zone, plan, i, err, sizeof(err));
		if (ret != 0) {
			wlog(ctx, LOG_ERR, "cannot change the timers of key %s (%s)",
			     name, err);
			continue;
		}
		applied++;
		wlog(ctx, LOG_DEBUG, "key %s timers changed (%s)", name,
		     zg_key_verdict_name(plan->keys[i].verdict));
	}
	return applied;
}

/* Logs and alarms the findings about each key (each once per change). */
static void report_keys(keys_ctx_t *ctx, const zg_keys_plan_t *plan, int64_t now)
{
	for (size_t i = 0; i < plan->nkeys; i++) {
		const zg_key_decision_t *d = &plan->keys[i];
		track_t *t = tracked(ctx, d->key->id);
		if (t == NULL) {
			continue;
		}
		t->seen = true;
		char name[200], when[32], reason[512];
		key_name(d->key, name, sizeof(name));
		zg_key_verdict_t was = t->verdict;
		t->verdict = d->verdict;
		if (d->verdict == ZG_KV_WAITING || d->verdict == ZG_KV_HELD) {
			if (t->late_from == 0) {
				t->late_from = d->due != 0 ? d->due : now;
			}
			zg_keys_time_str(t->late_from, when, sizeof(when));
		}
		if (d->verdict == ZG_KV_WAITING && d->due != 0 && !t->alarmed) {
			snprintf(reason, sizeof(reason), "key %s has no backup, it is held before Knot "
			         "uses it at %s, the rollover is late from then until a backup is "
			         "recorded", name, when);
			wlog(ctx, LOG_WARNING, "%s", reason);
			alarm_run(ctx, d->key->tag, reason);
			t->alarmed = true;
		} else if (d->verdict == ZG_KV_HELD && was != ZG_KV_HELD) {
			snprintf(reason, sizeof(reason), "key %s has no backup, holding it (%s), the "
			         "rollover is late from %s until a backup is recorded", name,
			         d->key->ksk ? "not submitted" : "not activated", when);
			wlog(ctx, LOG_ERR, "%s", reason);
			if (!t->alarmed) {
				alarm_run(ctx, d->key->tag, reason);
				t->alarmed = true;
			}
		} else if (d->verdict == ZG_KV_IN_USE && was != ZG_KV_IN_USE) {
			snprintf(reason, sizeof(reason), "key %s is in use (%s) without a backup", name,
			         zg_key_state_name(d->state));
			wlog(ctx, LOG_ERR, "%s", reason);
			alarm_run(ctx, d->key->tag, reason);
		}
		if (d->released || (d->verdict == ZG_KV_BACKED_UP && was == ZG_KV_HELD)) {
			/* Knot 3.4+ may have cleared the marks already (it clears future
			 * timers of auto-managed keys): a held key released all the same. */
			char bt[32];
			wlog(ctx, LOG_NOTICE, "key %s backed up (%s, %s), the rollover "
			     "continues", name, zg_keys_time_str(d->backup->time, bt, sizeof(bt)),
			     d->backup->location);
		} else if (d->verdict == ZG_KV_BACKED_UP && (was == ZG_KV_WAITING || was == ZG_KV_IN_USE)) {
			wlog(ctx, LOG_NOTICE, "key %s backed up (%s)", name,
			     d->backup->location);
		}
		if (d->published_ahead) {
			char dt[32];
			wlog(ctx, LOG_NOTICE, "key %s generated ahead and backed up (%s), "
			     "published for the rollover due at %s", name, d->backup->location,
			     zg_keys_time_str(d->due, dt, sizeof(dt)));
		}
		if (d->verdict == ZG_KV_BACKED_UP || d->verdict == ZG_KV_NOT_NEEDED) {
			t->late_from = 0;
			t->alarmed = false;
		}
	}
}

#define FULL_CHECK_S	3600

/*
 * Every key the zone still needs, in the keystore? Each check opens the
 * keystore (a lost token shows at once, no login); every key is fetched (a
 * login, which rewrites SoftHSM's token.object) at the first check, hourly,
 * and at every check while keys are missing. Returns how many are missing.
 */
static size_t keystore_check(keys_ctx_t *ctx, const zg_keyset_t *ks, int64_t now)
{
	zg_key_t *need = calloc(ks->count + 1, sizeof(zg_key_t));
	bool *present = calloc(ks->count + 1, sizeof(bool));
	if (need == NULL || present == NULL) {
		free(need);
		free(present);
		return ctx->last_missing;
	}
	size_t n = 0;
	for (size_t i = 0; i < ks->count; i++) {
		zg_key_state_t st = zg_key_state(&ks->keys[i], now);
		if (!ks->keys[i].pub_only && st != ZG_KS_REMOVED) {
			need[n++] = ks->keys[i];
		}
	}
	char err[512];
	bool full = now >= ctx->next_full || ctx->last_missing > 0;
	int ret = 0;
	/* A token in use by another process (a key being generated) may look absent
	 * for a moment: a failure counts once it persists over three tries. */
	for (int try = 0; try < 3; try++) {
		if (try > 0) {
			struct timespec ts = { 0, 300 * 1000000L };
			nanosleep(&ts, NULL);
		}
		if (full) {
			ret = zg_keystore_check(ctx->backend, ctx->ks_config, need, n, present, err,
			                        sizeof(err));
		} else {
			ret = zg_keystore_available(ctx->backend, ctx->ks_config, err, sizeof(err));
			for (size_t i = 0; i < n; i++) {
				present[i] = ret == 0;
			}
		}
		bool all = ret == 0;
		for (size_t i = 0; i < n && all; i++) {
			all = present[i];
		}
		if (all) {
			break;
		}
	}
	if (full) {
		ctx->next_full = now + FULL_CHECK_S;
	}
	size_t missing = 0;
	char list[1024] = "";
	for (size_t i = 0; i < n; i++) {
		if (!present[i]) {
			missing++;
			size_t used = strlen(list);
			if (used + 100 < sizeof(list)) {
				snprintf(list + used, sizeof(list) - used, "%s%s %u (id %s)",
				         used > 0 ? ", " : "", zg_key_role(&need[i]), (unsigned)need[i].tag,
				         need[i].id);
			}
		}
	}
	if (full || ret != 0) {
		ctx->last_missing = missing;
	}
	if (missing == 0) {
		ctx->last_ok = now;
		if (ctx->keystore_lost) {
			wlog(ctx, LOG_NOTICE, "keystore %s holds every key of the zone "
			     "again (%zu)", ctx->keystore_id, n);
			ctx->keystore_lost = false;
			ctx->keystore_msg[0] = '\0';
		}
	} else {
		char reason[1800];
		snprintf(reason, sizeof(reason), "keystore %s lost %zu of %zu key(s): %s%s%s%s, "
		         "signing fails until they are restored from a backup (zg-keys restore)",
		         ctx->keystore_id, missing, n, list, ret != 0 ? " (" : "",
		         ret != 0 ? err : "", ret != 0 ? ")" : "");
		if (!ctx->keystore_lost || strcmp(ctx->keystore_msg, list) != 0) {
			wlog(ctx, LOG_CRIT, "%s", reason);
			alarm_run(ctx, missing == 1 || ret != 0 ? need[0].tag : 0, reason);
			snprintf(ctx->keystore_msg, sizeof(ctx->keystore_msg), "%s", list);
		}
		ctx->keystore_lost = true;
	}
	free(need);
	free(present);
	return missing;
}

/* The supply of backed-up keys against the next scheduled backup. */
static void supply_check(keys_ctx_t *ctx, const zg_keys_plan_t *plan, int64_t now)
{
	if (ctx->backup_interval == 0) {
		return;
	}
	int64_t last = 0;
	for (size_t i = 0; i < ctx->reg.count; i++) {
		const zg_reg_entry_t *e = &ctx->reg.e[i];
		if (strcasecmp(e->zone, ctx->zone) == 0 && e->time > last) {
			last = e->time;
		}
	}
	int64_t next = last > 0 ? last + ctx->backup_interval : now;
	static const char *const role[ZG_ROLES] = { "ZSK", "KSK" };
	for (int r = 0; r < ZG_ROLES; r++) {
		int64_t end = plan->supply_end[r];
		bool shrt = end != 0 && end < next;
		char t1[32], t2[32], reason[512];
		if (shrt && !ctx->supply_short[r]) {
			snprintf(reason, sizeof(reason), "the supply of backed-up %ss runs out at %s, "
			         "before the next scheduled backup at %s (generate keys ahead and back "
			         "them up: zg-keys backup --supply)", role[r],
			         zg_keys_time_str(end, t1, sizeof(t1)), zg_keys_time_str(next, t2, sizeof(t2)));
			wlog(ctx, LOG_WARNING, "%s", reason);
			alarm_run(ctx, 0, reason);
		} else if (!shrt && ctx->supply_short[r]) {
			wlog(ctx, LOG_NOTICE, "the supply of backed-up %ss lasts beyond "
			     "the next scheduled backup at %s", role[r],
			     zg_keys_time_str(next, t2, sizeof(t2)));
		}
		ctx->supply_short[r] = shrt;
	}
}

/* The last non-empty line of a command's standard error, at most len - 1 bytes. */
static void last_line(const char *text, char *out, size_t len)
{
	out[0] = '\0';
	size_t end = text != NULL ? strlen(text) : 0;
	while (end > 0 && isspace((unsigned char)text[end - 1])) {
		end--;
	}
	size_t start = end;
	while (start > 0 && text[start - 1] != '\n') {
		start--;
	}
	size_t n = end - start < len - 1 ? end - start : len - 1;
	memcpy(out, text + start, n);
	out[n] = '\0';
}

/*
 * Runs the state command (sh -c, the zone as $1 and in ZG_SIGNER_ZONE, killed
 * after state-timeout) when the key state differs from what it last wrote.
 * What was written is recorded only when the command succeeds: a failure is
 * retried at the next check.
 */
static void state_write(keys_ctx_t *ctx, const zg_keyset_t *ks)
{
	char what[256];
	if (ctx->state_cmd[0] == '\0' ||
	    zg_keyset_changes(ctx->state_written ? &ctx->state_last : NULL, ks, what,
	                      sizeof(what)) == 0) {
		return;
	}
	char env_zone[KNOT_DNAME_TXT_MAXLEN + 32];
	snprintf(env_zone, sizeof(env_zone), "ZG_SIGNER_ZONE=%s", ctx->zone);
	const char *const argv[] = { "/bin/sh", "-c", ctx->state_cmd, "state-command", ctx->zone,
	                             NULL };
	const char *const env[] = { env_zone, NULL };
	zg_exec_result_t res = { 0 };
	int ret = zg_exec(argv, env, (int)ctx->state_timeout * 1000, &res);
	char err[512] = "", line[300];
	if (ret == ZG_ETIMEOUT) {
		snprintf(err, sizeof(err), "killed after %us", ctx->state_timeout);
	} else if (ret != 0) {
		snprintf(err, sizeof(err), "cannot run it: %s", zg_strerror(ret));
	} else if (res.status != 0) {
		last_line(res.err, line, sizeof(line));
		snprintf(err, sizeof(err), "exit status %d%s%s", res.status,
		         line[0] != '\0' ? ": " : "", line);
	}
	zg_exec_result_free(&res);
	if (err[0] == '\0') {
		/* Out of memory for the copy: written again at the next check. */
		ctx->state_written = zg_keyset_copy(&ctx->state_last, ks) == 0;
		knotd_mod_stats_incr(ctx->mod, 0, CTR_STATE_WRITES, 0, 1);
		if (ctx->state_failures > 0) {
			wlog(ctx, LOG_NOTICE, "key state written (%s), after %u failed attempts",
			     what, ctx->state_failures);
		} else {
			wlog(ctx, LOG_NOTICE, "key state written (%s)", what);
		}
		ctx->state_failures = 0;
		ctx->state_err[0] = '\0';
		return;
	}
	knotd_mod_stats_incr(ctx->mod, 0, CTR_STATE_ERRORS, 0, 1);
	char reason[1024];
	snprintf(reason, sizeof(reason), "cannot write the key state (%s; state-command %s), a "
	         "standby signer taking over now restores an older one, retrying at the next check",
	         what, err);
	/* One failure is a warning (at knotd's start the zone may not be loaded
	 * yet); the second in a row is an error and runs the alarm. */
	ctx->state_failures++;
	if (ctx->state_failures == 1) {
		wlog(ctx, LOG_WARNING, "%s", reason);
	} else if (ctx->state_failures == 2 || strcmp(ctx->state_err, err) != 0) {
		wlog(ctx, LOG_ERR, "%s", reason);
	}
	if (ctx->state_failures == 2) {
		alarm_run(ctx, 0, reason);
	}
	snprintf(ctx->state_err, sizeof(ctx->state_err), "%s", err);
}

/* One check; returns true when a key is held (the next check comes sooner). */
static bool check_once(keys_ctx_t *ctx, unsigned tick)
{
	zg_modalarm_reap(ctx->mod, &ctx->alarm, false);
	bool interlock = ctx->reg_path[0] != '\0';
	if (interlock) {
		register_refresh(ctx);
	}
	zg_knot_t kt = { .keymgr = ctx->keymgr, .kasp_dir = ctx->kasp_dir,
	                 .timeout_ms = TOOL_TIMEOUT_MS };
	zg_keyset_t ks = { 0 };
	char err[512];
	int ret = zg_keymgr_list(&kt, ctx->zone, &ks, err, sizeof(err));
	if (ret != 0) {
		if (strcmp(ctx->list_err, err) != 0) {
			wlog(ctx, LOG_WARNING, "cannot list the zone's keys (%s)", err);
			snprintf(ctx->list_err, sizeof(ctx->list_err), "%s", err);
		}
		return false;
	}
	ctx->list_err[0] = '\0';
	/* First, so that a new key is in the written state as soon as possible. */
	state_write(ctx, &ks);
	int64_t now = (int64_t)time(NULL);
	zg_keys_opts_t o = { .now = now, .lookahead = 3 * (int64_t)tick + 5 };
	zg_keys_plan_t plan = { 0 };
	if (interlock && zg_keys_decide(&ks, &ctx->reg, ctx->zone, &ctx->pol, &o, &plan) != 0) {
		zg_keyset_deinit(&ks);
		return false;
	}
	if (interlock) {
		report_keys(ctx, &plan, now);
		track_sweep(ctx);
	}
	if (plan.nchanges > 0) {
		plan_apply(ctx, &plan);
		if (plan.released > 0 || plan.published_ahead > 0) {
			/* Let Knot plan its next key event from the changed timers now. */
			char cerr[256];
			if (zg_ctl_zone_command(ctx->ctl_path, CTL_TIMEOUT_MS, "zone-keys-load",
			                        ctx->zone, cerr, sizeof(cerr)) != KNOT_EOK) {
				wlog(ctx, LOG_WARNING, "zone-keys-load failed (%s), knotd "
				     "applies the changed timers at its next key event", cerr);
			}
		}
	}
	size_t missing = keystore_check(ctx, &ks, now);
	if (interlock) {
		supply_check(ctx, &plan, now);
	}

	int64_t runway = ctx->last_ok > 0 ? ctx->last_ok + zg_keys_policy_runway(&ctx->pol) - now : 0;
	knotd_mod_stats_store(ctx->mod, 0, CTR_HELD, 0, plan.held);
	knotd_mod_stats_store(ctx->mod, 0, CTR_UNBACKED, 0, plan.held + plan.waiting + plan.in_use);
	knotd_mod_stats_store(ctx->mod, 0, CTR_MISSING, 0, missing);
	knotd_mod_stats_store(ctx->mod, 0, CTR_RUNWAY, 0, (uint64_t)(runway > 0 ? runway : 0));
	bool held = plan.held > 0;
	zg_keys_plan_deinit(&plan);
	zg_keyset_deinit(&ks);
	return held;
}

static void *worker(void *arg)
{
	keys_ctx_t *ctx = arg;
	/* While a key is held under automatic management its publish timer is
	 * refreshed before Knot's replace step: check at least 3 times per delay. */
	int64_t delay = zg_keys_policy_key_delay(&ctx->pol);
	unsigned held_tick = delay / 3 < ctx->interval ? (unsigned)(delay / 3) : ctx->interval;
	if (held_tick == 0) {
		held_tick = 1;
	}
	unsigned tick = ctx->interval;
	do {
		bool held = check_once(ctx, tick);
		tick = held ? held_tick : ctx->interval;
	} while (!zg_modworker_sleep(&ctx->worker, tick));
	return NULL;
}

static void ctx_free(keys_ctx_t *ctx)
{
	if (ctx == NULL) {
		return;
	}
	zg_modworker_deinit(&ctx->worker);
	zg_modalarm_reap(ctx->mod, &ctx->alarm, true);
	zg_alarm_deinit(&ctx->alarm);
	zg_reg_deinit(&ctx->reg);
	zg_keyset_deinit(&ctx->state_last);
	free(ctx);
}

/* At load: the runway the policy leaves against recovery-time. */
static void runway_check(keys_ctx_t *ctx)
{
	int64_t runway = zg_keys_policy_runway(&ctx->pol);
	char r[32], need[32];
	zg_keys_duration_str(runway, r, sizeof(r));
	zg_keys_duration_str(ctx->recovery, need, sizeof(need));
	const char *src = ctx->pol.rrsig_refresh >= 0 ? "rrsig-refresh" :
	                  "default rrsig-refresh, propagation-delay + zone-max-ttl";
	if (runway < ctx->recovery) {
		wlog(ctx, LOG_WARNING, "policy %s leaves a recovery runway of %s (%s), "
		     "less than recovery-time %s: a lost keystore makes signatures expire "
		     "before it can be restored (raise rrsig-refresh, and rrsig-lifetime "
		     "above it)", ctx->policy_id, r, src, need);
	} else {
		wlog(ctx, LOG_INFO, "policy %s leaves a recovery runway of %s (%s), "
		     "recovery-time %s", ctx->policy_id, r, src, need);
	}
	int64_t delay = zg_keys_policy_key_delay(&ctx->pol);
	if (!ctx->pol.manual && (int64_t)ctx->interval * 2 > delay) {
		wlog(ctx, LOG_WARNING, "check-interval %us is long against the "
		     "policy's propagation-delay + dnskey-ttl (%llds): a new key is held "
		     "only if it is seen before Knot uses it, checks run every %llds while "
		     "a key is held", ctx->interval, (long long)delay,
		     (long long)(delay / 3 > 0 ? delay / 3 : 1));
	}
}

static int keys_load(knotd_mod_t *mod)
{
	keys_ctx_t *ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		return KNOT_ENOMEM;
	}
	zg_modworker_init(&ctx->worker);
	ctx->mod = mod;
	zg_reg_init(&ctx->reg);

	int ret = zg_mod_counters_add(mod, ctr_names, CTR_COUNT);
	if (ret != KNOT_EOK) {
		goto fail;
	}
	ret = KNOT_ENOMEM; /* What the failures below return unless they say. */
	knotd_mod_ctx_set(mod, ctx);
	const knot_dname_t *zone = knotd_mod_zone(mod);
	if (knot_dname_to_str(ctx->zone, zone, sizeof(ctx->zone)) == NULL) {
		ret = KNOT_EINVAL;
		goto fail;
	}
	for (char *c = ctx->zone; *c != '\0'; c++) {
		*c = (char)tolower((unsigned char)*c);
	}
	knotd_conf_t reg = knotd_conf_mod(mod, MOD_REGISTER);
	knotd_conf_t state = knotd_conf_mod(mod, MOD_STATE_CMD);
	if (state.count > 0 && state.single.string != NULL) {
		snprintf(ctx->state_cmd, sizeof(ctx->state_cmd), "%s", state.single.string);
	}
	ctx->state_timeout = (unsigned)knotd_conf_mod(mod, MOD_STATE_TO).single.integer;
	if ((reg.count == 0 || reg.single.string == NULL) && ctx->state_cmd[0] == '\0') {
		knotd_mod_log(mod, LOG_ERR, "no register configured");
		ret = KNOT_EINVAL;
		goto fail;
	}
	if (reg.count > 0 && reg.single.string != NULL) {
		snprintf(ctx->reg_path, sizeof(ctx->reg_path), "%s", reg.single.string);
	}
	snprintf(ctx->keymgr, sizeof(ctx->keymgr), "%s",
	         knotd_conf_mod(mod, MOD_KEYMGR).single.string);
	ctx->interval = (unsigned)knotd_conf_mod(mod, MOD_INTERVAL).single.integer;
	ctx->recovery = knotd_conf_mod(mod, MOD_RECOVERY).single.integer;
	ctx->backup_interval = knotd_conf_mod(mod, MOD_BACKUP_INT).single.integer;
	knotd_conf_t alarm = knotd_conf_mod(mod, MOD_ALARM);
	if (zg_alarm_init(&ctx->alarm, alarm.count > 0 ? alarm.single.string : NULL,
	                  (unsigned)knotd_conf_mod(mod, MOD_ALARM_TO).single.integer) != 0) {
		goto fail;
	}
	knotd_conf_t ctl = knotd_conf_mod(mod, MOD_CONTROL);
	if (zg_mod_ctl_path(mod, ctl.count > 0 ? ctl.single.string : NULL,
	                    ctx->ctl_path, sizeof(ctx->ctl_path)) != 0) {
		knotd_mod_log(mod, LOG_ERR, "control socket path too long");
		goto fail;
	}

	if (!knotd_conf_zone(mod, (const yp_name_t *)C_SIGNING, zone).single.boolean) {
		knotd_mod_log(mod, LOG_NOTICE, "zone not signed by this server (dnssec-signing off), "
		              "no keys to check");
		return KNOT_EOK;
	}
	read_knot_conf(ctx, zone);
	runway_check(ctx);
	if (zg_modworker_start(&ctx->worker, worker, ctx) != 0) {
		goto fail;
	}
	if (ctx->reg_path[0] != '\0') {
		knotd_mod_log(mod, LOG_NOTICE, "backup interlock active (register %s, keystore %s, "
		              "policy %s%s, check-interval %us, backup-interval %llds)", ctx->reg_path,
		              ctx->keystore_id, ctx->policy_id, ctx->pol.manual ? " manual" : "",
		              ctx->interval, (long long)ctx->backup_interval);
	} else {
		knotd_mod_log(mod, LOG_NOTICE, "no register, no backup interlock (keystore %s, "
		              "policy %s, check-interval %us)", ctx->keystore_id, ctx->policy_id,
		              ctx->interval);
	}
	if (ctx->state_cmd[0] != '\0') {
		knotd_mod_log(mod, LOG_NOTICE, "key state written by the state-command at the first "
		              "check and after every key event (seen within check-interval %us, "
		              "state-timeout %us)", ctx->interval, ctx->state_timeout);
	}
	return KNOT_EOK;
fail:
	knotd_mod_ctx_set(mod, NULL);
	ctx_free(ctx);
	return ret;
}

static void keys_unload(knotd_mod_t *mod)
{
	ctx_free(knotd_mod_ctx(mod));
}

KNOTD_MOD_API(keys, KNOTD_MOD_FLAG_SCOPE_ZONE,
              keys_load, keys_unload, keys_conf, keys_conf_check);
