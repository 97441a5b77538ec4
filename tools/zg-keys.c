/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * zg-keys: backups of a Knot + SoftHSM signer's keys and the backup register
 * (see zg-keys(1), modules/keys/keys.rst and doc/runbook-keys.md).
 *
 *   zg-keys backup       back up keystore + KASP with Knot's own means, record it
 *   zg-keys backup-done  record a backup made with an HSM vendor's tool
 *   zg-keys status       each key's state and backup, supply, runway, keystore
 *   zg-keys check        verify a backup (checksums, keys in the KASP copy and token copy)
 *   zg-keys restore      bring a lost keystore (and KASP state) back from a backup
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "core/error.h"
#include "core/format.h"
#include "keys/backup.h"
#include "keys/decide.h"
#include "keys/keyset.h"
#include "keys/keystore.h"
#include "keys/knot.h"
#include "keys/register.h"

#define EXIT_OK		0
#define EXIT_WARNING	1
#define EXIT_CRITICAL	2
#define EXIT_UNKNOWN	3
#define MAX_ZONES	256
#define MAX_KEYS	64

enum {
	OPT_FORMAT = 256, OPT_SUPPLY, OPT_SOFTHSM, OPT_LOCATION, OPT_KEYSTORE, OPT_KEY, OPT_ALL,
	OPT_TIME, OPT_RECOVERY, OPT_BACKUP_INT, OPT_KASP, OPT_KEYMGR, OPT_KNOTC, OPT_TIMEOUT,
};

typedef struct {
	const char *cmd;
	const char *conf_opt, *conf_arg;
	const char *keymgr, *knotc;
	const char *reg_path;
	const char *dir;
	const char *zones[MAX_ZONES];
	size_t nzones;
	int64_t supply;
	const char *softhsm_conf;
	const char *location;
	const char *keystore;
	const char *keys[MAX_KEYS];
	size_t nkeys;
	bool all;
	int64_t now;
	int64_t recovery;
	int64_t backup_interval;
	bool kasp;
	int timeout_ms;
	const char *arg;       /* LOCATION of check and restore. */
} opts_t;

static zg_format_t g_format = ZG_FORMAT_TEXT;
static json_t *g_json;     /* The JSON answer being built (ZG_FORMAT_JSON). */

static void usage(FILE *out)
{
	fprintf(out,
	"Usage: zg-keys [-c FILE | -C DIR] COMMAND [options]\n"
	"\n"
	"  backup      -r REGISTER -d DIR [-z ZONE]... [--supply PERIOD] [--softhsm-conf FILE]\n"
	"              back up the zones' keys (SoftHSM token directory and Knot's KASP\n"
	"              database, knotc zone-backup) into a new directory under DIR, check\n"
	"              the copy and record every key in the register; --supply first\n"
	"              generates the ZSKs for PERIOD ahead (keymgr pregenerate), so that\n"
	"              this backup covers them\n"
	"  backup-done -r REGISTER -z ZONE --location TEXT (--key ID|TAG... | --all)\n"
	"              [--keystore NAME] [--time YYYY-MM-DDTHH:MM:SSZ]\n"
	"              record a backup made with an HSM vendor's tool\n"
	"  status      -r REGISTER [-z ZONE]... [--recovery-time DUR] [--backup-interval DUR]\n"
	"              [--softhsm-conf FILE] [--time UNIXTIME]\n"
	"              each key's state and backup, held rollovers, the supply of\n"
	"              backed-up keys, the keystore, the recovery runway\n"
	"  check       [--softhsm-conf FILE] LOCATION\n"
	"              verify a backup: checksums, every key in its KASP copy and token copy\n"
	"  restore     -z ZONE [-r REGISTER] [--kasp] [--softhsm-conf FILE] LOCATION\n"
	"              check the backup, bring back the missing token directory (or token\n"
	"              files); with --kasp also the zone's KASP state (knotc zone-restore)\n"
	"\n"
	"Options:\n"
	"  -c, --config FILE          knotd's configuration file (passed to knotc and keymgr)\n"
	"  -C, --confdb DIR           knotd's configuration database instead\n"
	"  -r, --register FILE        the backup register (mod-keys' register item)\n"
	"  -d, --dir DIR              where backups are made (backup)\n"
	"  -z, --zone ZONE            a zone (repeat; default: every signed zone)\n"
	"      --supply PERIOD        pre-generate ZSKs for PERIOD (e.g. 90d) before the backup\n"
	"      --softhsm-conf FILE    SoftHSM configuration (default: $SOFTHSM2_CONF)\n"
	"      --location TEXT        where a vendor backup is kept (backup-done)\n"
	"      --keystore NAME        HSM or keystore name recorded (default: the zone's keystore)\n"
	"      --key ID|TAG           a key (repeat); --all: every key of the zone\n"
	"      --time T               backup-done: when the backup was made (default now);\n"
	"                             status: evaluate as of UNIXTIME\n"
	"      --recovery-time DUR    least runway wanted (default 7d)\n"
	"      --backup-interval DUR  backups are scheduled this often (default 7d; 0 none)\n"
	"      --kasp                 restore the zone's KASP state too (knotd must see the keystore)\n"
	"      --keymgr PATH, --knotc PATH   Knot's tools (default: from PATH)\n"
	"      --timeout SEC          bound for each Knot tool run (default 120)\n"
	"      --format FORMAT        text (default), json or nagios\n"
	"  -h, --help                 this help\n"
	"\n"
	"Exit status: status: 0 OK, 1 WARNING (a rollover held or due without a backup,\n"
	"the supply runs out before the next backup, the policy leaves less runway than\n"
	"wanted), 2 CRITICAL (a key missing from the keystore, a key in use without a\n"
	"backup), 3 UNKNOWN; other commands: 0 done, 2 failed (nothing changed), 3 usage.\n"
	"With --format nagios the same codes read OK, WARNING, CRITICAL, UNKNOWN.\n");
}

/* ---- output ---- */

static void out_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out_line(const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (g_format == ZG_FORMAT_TEXT) {
		printf("%s\n", msg);
	} else if (g_format == ZG_FORMAT_JSON) {
		json_t *lines = json_object_get(g_json, "messages");
		if (lines == NULL) {
			json_object_set_new(g_json, "messages", lines = json_array());
		}
		json_array_append_new(lines, json_string(msg));
	}
}

static void json_done(int code, const char *state)
{
	json_object_set_new(g_json, "state", json_string(state));
	json_object_set_new(g_json, "exit", json_integer(code));
	json_dumpf(g_json, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	printf("\n");
	json_decref(g_json);
	g_json = NULL;
}

/* Ends a command that failed: the message in the format, exit code. */
static int fail_code(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail_code(int code, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (g_format == ZG_FORMAT_NAGIOS) {
		printf("ZONEGATE KEYS %s - %s\n", code == EXIT_UNKNOWN ? "UNKNOWN" : "CRITICAL", msg);
	} else if (g_format == ZG_FORMAT_JSON) {
		json_object_set_new(g_json, "error", json_string(msg));
		json_done(code, code == EXIT_UNKNOWN ? "unknown" : "failed");
	} else {
		fprintf(stderr, "zg-keys: %s\n", msg);
	}
	return code;
}

#define fail(...) fail_code(EXIT_CRITICAL, __VA_ARGS__)

static int done(const char *summary)
{
	if (g_format == ZG_FORMAT_NAGIOS) {
		printf("ZONEGATE KEYS OK - %s\n", summary);
	} else if (g_format == ZG_FORMAT_JSON) {
		json_object_set_new(g_json, "summary", json_string(summary));
		json_done(EXIT_OK, "ok");
	} else {
		printf("%s\n", summary);
	}
	return EXIT_OK;
}

/* ---- helpers ---- */

static zg_knot_t knot_of(const opts_t *o, const char *kasp_dir)
{
	return (zg_knot_t){
		.keymgr = o->keymgr, .knotc = o->knotc, .conf_opt = o->conf_opt,
		.conf_arg = o->conf_arg, .kasp_dir = kasp_dir, .timeout_ms = o->timeout_ms,
	};
}

/* out = a followed by b, truncated to fit (no format: no truncation warnings). */
static void cat(char *out, size_t len, const char *a, const char *b)
{
	size_t la = strnlen(a, len - 1), lb = strnlen(b, len - 1 - la);
	memmove(out, a, la);
	memcpy(out + la, b, lb);
	out[la + lb] = '\0';
}

/* Lowercase with the final dot: the register's form of a zone name. */
static void zone_norm(const char *in, char *out, size_t len)
{
	size_t i = 0;
	for (; in[i] != '\0' && i + 2 < len; i++) {
		out[i] = (char)((in[i] >= 'A' && in[i] <= 'Z') ? in[i] + 32 : in[i]);
	}
	if (i == 0 || out[i - 1] != '.') {
		out[i++] = '.';
	}
	out[i] = '\0';
}

/* The zones to work on (copied into zbuf): the -z ones, else every signed
 * zone of the configuration. */
static int zone_list(const opts_t *o, const zg_kconf_t *conf, const char **zones,
                     char zbuf[][256], size_t *n)
{
	if (o->nzones > 0) {
		for (size_t i = 0; i < o->nzones; i++) {
			zones[i] = o->zones[i];
		}
		*n = o->nzones;
	} else {
		*n = zg_kconf_signed_zones(conf, zones, MAX_ZONES);
		if (*n > MAX_ZONES) {
			*n = MAX_ZONES;
		}
	}
	for (size_t i = 0; i < *n; i++) {
		snprintf(zbuf[i], 256, "%s", zones[i]);
		zones[i] = zbuf[i];
	}
	return *n > 0 ? 0 : ZG_EINPUT;
}

static const char *softhsm_conf(const opts_t *o)
{
	return o->softhsm_conf != NULL ? o->softhsm_conf : getenv("SOFTHSM2_CONF");
}

/* Copies a directory to a fresh temporary one (callers rm -rf it). */
static int temp_copy(const char *src, char *tmp, size_t tmplen, char *err, size_t errlen)
{
	char base[] = "/tmp/zg-keys-XXXXXX";
	if (mkdtemp(base) == NULL) {
		snprintf(err, errlen, "cannot create a temporary directory (%s)", strerror(errno));
		return -errno;
	}
	snprintf(tmp, tmplen, "%s/copy", base);
	return zg_copy_tree(src, tmp, err, errlen);
}

static void rm_rf(const char *path)
{
	if (path[0] != '/' || strncmp(path, "/tmp/zg-keys-", 13) != 0) {
		return; /* Only our own temporary trees. */
	}
	char top[PATH_MAX];
	snprintf(top, sizeof(top), "%.*s", (int)strcspn(path + 5, "/") + 5, path);
	const char *argv[] = { "rm", "-rf", "--", top, NULL };
	zg_exec_result_t r;
	if (zg_exec(argv, NULL, 60000, &r) == 0) {
		zg_exec_result_free(&r);
	}
}

/*
 * Checks a backup directory: manifest, checksums, every key of the manifest
 * in the KASP copy and (with a token directory) in the token copy. With
 * zone set, only that zone's keys, and the zone must be in the backup.
 */
static int check_backup(const opts_t *o, const char *dir, const zg_kconf_t *conf,
                        zg_backup_manifest_t *m, const char *zone, char *err, size_t errlen)
{
	int ret = zg_backup_manifest_load(m, dir, err, errlen);
	if (ret != 0) {
		return ret;
	}
	if (zone != NULL && !zg_backup_has_zone(m, zone)) {
		char zones[512] = "";
		for (size_t i = 0; i < m->nzones; i++) {
			size_t u = strlen(zones);
			snprintf(zones + u, sizeof(zones) - u, "%s%s", u ? ", " : "", m->zones[i]);
		}
		snprintf(err, errlen, "backup %s holds zone(s) %s, not %s", dir, zones, zone);
		return ZG_EINPUT;
	}
	char why[600];
	ret = zg_backup_verify_files(m, dir, why, sizeof(why));
	if (ret != 0) {
		snprintf(err, errlen, "backup %s is corrupt (%s)", dir, why);
		return ret;
	}
	/* Every key in Knot's KASP copy (read from a temporary copy: LMDB writes its lock file). */
	char src[PATH_MAX], tmp[PATH_MAX];
	snprintf(src, sizeof(src), "%s/knot/keys", dir);
	ret = temp_copy(src, tmp, sizeof(tmp), why, sizeof(why));
	if (ret != 0) {
		snprintf(err, errlen, "backup %s has no readable KASP copy (%s)", dir, why);
		return ZG_EINPUT;
	}
	zg_knot_t kt = knot_of(o, tmp);
	for (size_t z = 0; z < m->nzones && ret == 0; z++) {
		if (zone != NULL && strcasecmp(m->zones[z], zone) != 0) {
			continue;
		}
		zg_keyset_t ks = { 0 };
		ret = zg_keymgr_list(&kt, m->zones[z], &ks, why, sizeof(why));
		if (ret != 0) {
			snprintf(err, errlen, "backup %s: cannot read the KASP copy of %s (%s)", dir,
			         m->zones[z], why);
			break;
		}
		for (size_t k = 0; k < m->nkeys && ret == 0; k++) {
			const zg_backup_key_t *bk = &m->keys[k];
			if (strcasecmp(bk->zone, m->zones[z]) != 0) {
				continue;
			}
			const zg_key_t *kk = zg_keyset_find(&ks, bk->key.id);
			if (kk == NULL || kk->tag != bk->key.tag) {
				snprintf(err, errlen, "backup %s is corrupt (key %s %u of %s is not in its "
				         "KASP copy)", dir, zg_key_role(&bk->key), (unsigned)bk->key.tag,
				         bk->zone);
				ret = ZG_EINPUT;
			}
		}
		zg_keyset_deinit(&ks);
	}
	rm_rf(tmp);
	if (ret != 0) {
		return ret;
	}
	/* Every key's private key in the token copy (PKCS #11), under the live PIN. */
	snprintf(src, sizeof(src), "%s/token", dir);
	struct stat st;
	if (strcmp(m->backend, "pkcs11") != 0 || stat(src, &st) != 0) {
		return 0; /* PEM keys are in Knot's backup; vendor HSMs are checked with their tools. */
	}
	const char *live = conf != NULL ? zg_kconf_get(conf, "keystore", m->keystore, "config") : NULL;
	if (live == NULL) {
		snprintf(err, errlen, "keystore %s of the backup is not in knotd's configuration "
		         "(its PIN is needed to check the token copy)", m->keystore);
		return ZG_EINPUT;
	}
	ret = temp_copy(src, tmp, sizeof(tmp), why, sizeof(why));
	char hsmconf[PATH_MAX];
	cat(hsmconf, sizeof(hsmconf), tmp, ".conf");
	if (ret == 0) {
		ret = zg_softhsm_conf_write(hsmconf, tmp, why, sizeof(why));
	}
	size_t n = 0;
	zg_key_t keys[MAX_KEYS * 4];
	for (size_t k = 0; k < m->nkeys && n < sizeof(keys) / sizeof(keys[0]); k++) {
		if (zone == NULL || strcasecmp(m->keys[k].zone, zone) == 0) {
			keys[n++] = m->keys[k].key;
		}
	}
	bool present[MAX_KEYS * 4];
	if (ret == 0) {
		ret = zg_keystore_check_child(hsmconf, "pkcs11", live, keys, n, present,
		                              o->timeout_ms, why, sizeof(why));
	}
	if (ret != 0) {
		snprintf(err, errlen, "backup %s: the token copy cannot be opened (%s)", dir, why);
		rm_rf(tmp);
		return ZG_EINPUT;
	}
	for (size_t k = 0; k < n && ret == 0; k++) {
		if (!present[k]) {
			snprintf(err, errlen, "backup %s is corrupt (the token copy lacks key %s %u, "
			         "id %s)", dir, zg_key_role(&keys[k]), (unsigned)keys[k].tag, keys[k].id);
			ret = ZG_EINPUT;
		}
	}
	rm_rf(tmp);
	return ret;
}

/* ---- backup ---- */

static int cmd_backup(const opts_t *o)
{
	if (o->reg_path == NULL || o->dir == NULL) {
		return fail_code(EXIT_UNKNOWN, "backup needs --register and --dir");
	}
	char err[2048];
	zg_knot_t kt = knot_of(o, NULL);
	zg_kconf_t conf;
	if (zg_kconf_load(&conf, &kt, err, sizeof(err)) != 0) {
		return fail("cannot read knotd's configuration (%s)", err);
	}
	const char *zones[MAX_ZONES];
	static char zbuf[MAX_ZONES][256];
	size_t nz = 0;
	if (zone_list(o, &conf, zones, zbuf, &nz) != 0) {
		zg_kconf_deinit(&conf);
		return fail("no signed zone in knotd's configuration");
	}
	zg_kconf_zone_keys_t zk[MAX_ZONES];
	zg_keys_policy_t pol;
	for (size_t i = 0; i < nz; i++) {
		if (zg_kconf_zone_keys(&conf, zones[i], true, &zk[i], &pol, err, sizeof(err)) != 0) {
			zg_kconf_deinit(&conf);
			return fail("%s", err);
		}
		if (strcmp(zk[i].keystore, zk[0].keystore) != 0) {
			zg_kconf_deinit(&conf);
			return fail("zones %s and %s use different keystores (%s, %s): back them up "
			            "separately", zones[0], zones[i], zk[0].keystore, zk[i].keystore);
		}
	}
	bool pkcs11 = strcmp(zk[0].backend, "pkcs11") == 0;
	char tokendir[PATH_MAX] = "";
	if (pkcs11) {
		const char *hc = softhsm_conf(o);
		if (hc == NULL) {
			zg_kconf_deinit(&conf);
			return fail("keystore %s is PKCS #11 and no SoftHSM configuration is given "
			            "(--softhsm-conf or SOFTHSM2_CONF); for another HSM back it up with its "
			            "tools and record it with zg-keys backup-done", zk[0].keystore);
		}
		if (zg_softhsm_tokendir(hc, tokendir, sizeof(tokendir), err, sizeof(err)) != 0) {
			zg_kconf_deinit(&conf);
			return fail("%s", err);
		}
	}

	/* 1. Keys ahead, so that this backup covers them. */
	for (size_t i = 0; i < nz && o->supply > 0; i++) {
		char sup[32];
		int pr = 0;
		for (int try = 0; try < 3; try++) {
			/* SoftHSM may refuse a key generation while another process uses the
			 * token; pregenerate goes on from the keys it already made. */
			if (try > 0) {
				sleep(1);
			}
			if ((pr = zg_keymgr_pregenerate(&kt, zones[i], o->supply, err, sizeof(err))) == 0) {
				break;
			}
		}
		if (pr != 0) {
			zg_kconf_deinit(&conf);
			return fail("cannot generate the keys ahead for %s (%s); nothing backed up",
			            zones[i], err);
		}
		const char *args[] = { "zone-keys-load", zones[i], NULL };
		if (zg_knotc(&kt, args, err, sizeof(err)) != 0) {
			out_line("warning: knotd did not reload the keys of %s (%s)", zones[i], err);
		}
		out_line("%s: ZSKs generated for %s ahead", zones[i],
		         zg_keys_duration_str(o->supply, sup, sizeof(sup)));
	}

	/* 2. The keys to record. */
	int64_t now = time(NULL);
	zg_backup_manifest_t m;
	memset(&m, 0, sizeof(m));
	m.created = now;
	cat(m.keystore, sizeof(m.keystore), zk[0].keystore, "");
	snprintf(m.backend, sizeof(m.backend), "%s", zk[0].backend);
	zg_keystore_config_public(zk[0].config, m.config, sizeof(m.config));
	int ret = 0;
	for (size_t i = 0; i < nz && ret == 0; i++) {
		char zn[256];
		zone_norm(zones[i], zn, sizeof(zn));
		zg_knot_t kd = knot_of(o, zk[i].kasp_dir);
		zg_keyset_t ks = { 0 };
		ret = zg_keymgr_list(&kd, zones[i], &ks, err, sizeof(err));
		if (ret != 0) {
			break;
		}
		ret = zg_backup_manifest_add_zone(&m, zn);
		for (size_t k = 0; k < ks.count && ret == 0; k++) {
			if (!ks.keys[k].pub_only && zg_key_state(&ks.keys[k], now) != ZG_KS_REMOVED) {
				ret = zg_backup_manifest_add_key(&m, zn, &ks.keys[k]);
			}
		}
		zg_keyset_deinit(&ks);
	}
	if (ret != 0) {
		zg_backup_manifest_deinit(&m);
		zg_kconf_deinit(&conf);
		return fail("cannot list the keys (%s); nothing backed up", err);
	}

	/* 3. A new directory: Knot's backup of the KASP, the token copy. */
	char root[PATH_MAX], dir[PATH_MAX], stamp[32];
	if (realpath(o->dir, root) == NULL) {
		zg_backup_manifest_deinit(&m);
		zg_kconf_deinit(&conf);
		return fail("backup directory %s (%s)", o->dir, strerror(errno));
	}
	struct tm tm;
	time_t tt = (time_t)now;
	gmtime_r(&tt, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(dir, sizeof(dir), "%.4000s/%s", root, stamp);
	for (int i = 1; mkdir(dir, 0700) != 0; i++) {
		if (errno != EEXIST || i > 99) {
			zg_backup_manifest_deinit(&m);
			zg_kconf_deinit(&conf);
			return fail("cannot create %s (%s)", dir, strerror(errno));
		}
		snprintf(dir, sizeof(dir), "%.4000s/%s-%d", root, stamp, i);
	}
	char knotdir[PATH_MAX];
	cat(knotdir, sizeof(knotdir), dir, "/knot");
	const char *args[MAX_ZONES + 10];
	size_t na = 0;
	args[na++] = "zone-backup";
	for (size_t i = 0; i < nz; i++) {
		args[na++] = zones[i];
	}
	args[na++] = "+backupdir";
	args[na++] = knotdir;
	args[na++] = "+kaspdb";
	args[na++] = "+nozonefile";
	args[na++] = "+notimers";
	args[na++] = "+nocatalog";
	args[na] = NULL;
	ret = zg_knotc(&kt, args, err, sizeof(err));
	if (ret != 0) {
		zg_backup_manifest_deinit(&m);
		zg_kconf_deinit(&conf);
		return fail("knotd's backup of the KASP failed (%s); %s is incomplete (no MANIFEST), "
		            "nothing recorded", err, dir);
	}
	if (pkcs11) {
		char tdir[PATH_MAX];
		cat(tdir, sizeof(tdir), dir, "/token");
		if (zg_copy_tree(tokendir, tdir, err, sizeof(err)) != 0) {
			zg_backup_manifest_deinit(&m);
			zg_kconf_deinit(&conf);
			return fail("cannot copy the SoftHSM token directory (%s); %s is incomplete, "
			            "nothing recorded", err, dir);
		}
	}
	if (zg_backup_hash_files(&m, dir, err, sizeof(err)) != 0 ||
	    zg_backup_manifest_write(&m, dir, err, sizeof(err)) != 0) {
		zg_backup_manifest_deinit(&m);
		zg_kconf_deinit(&conf);
		return fail("%s; %s is incomplete, nothing recorded", err, dir);
	}

	/* 4. Check what was written, as a restore would read it. */
	zg_backup_manifest_t chk;
	ret = check_backup(o, dir, &conf, &chk, NULL, err, sizeof(err));
	zg_backup_manifest_deinit(&chk);
	if (ret != 0) {
		char manifest[PATH_MAX];
		cat(manifest, sizeof(manifest), dir, "/MANIFEST");
		unlink(manifest);
		zg_backup_manifest_deinit(&m);
		zg_kconf_deinit(&conf);
		return fail("the new backup does not check out (%s); nothing recorded", err);
	}

	/* 5. Record it. */
	zg_reg_entry_t *e = calloc(m.nkeys + 1, sizeof(*e));
	for (size_t k = 0; e != NULL && k < m.nkeys; k++) {
		snprintf(e[k].zone, sizeof(e[k].zone), "%s", m.keys[k].zone);
		snprintf(e[k].id, sizeof(e[k].id), "%s", m.keys[k].key.id);
		e[k].tag = m.keys[k].key.tag;
		snprintf(e[k].keystore, sizeof(e[k].keystore), "%s", m.keystore);
		e[k].time = m.created;
		cat(e[k].location, sizeof(e[k].location), dir, "");
	}
	size_t added = 0;
	ret = e != NULL ? zg_reg_append(o->reg_path, e, m.nkeys, &added, err, sizeof(err)) : -ENOMEM;
	free(e);
	size_t nkeys = m.nkeys;
	if (g_format == ZG_FORMAT_JSON) {
		json_t *keys = json_array();
		for (size_t k = 0; k < m.nkeys; k++) {
			json_array_append_new(keys, json_pack("{s:s, s:s, s:i, s:s}", "zone", m.keys[k].zone,
			                      "id", m.keys[k].key.id, "tag", m.keys[k].key.tag, "role",
			                      zg_key_role(&m.keys[k].key)));
		}
		json_object_set_new(g_json, "location", json_string(dir));
		json_object_set_new(g_json, "keys", keys);
	} else {
		for (size_t k = 0; k < m.nkeys; k++) {
			out_line("%s %s %u (id %s) backed up", m.keys[k].zone, zg_key_role(&m.keys[k].key),
			         (unsigned)m.keys[k].key.tag, m.keys[k].key.id);
		}
	}
	zg_backup_manifest_deinit(&m);
	zg_kconf_deinit(&conf);
	if (ret != 0) {
		return fail("backup %s made but not recorded (%s): record it with zg-keys backup-done "
		            "once the register is fixed", dir, err);
	}
	char summary[PATH_MAX + 200];
	snprintf(summary, sizeof(summary), "backup %s: %zu key(s) of %zu zone(s), recorded in %s",
	         dir, nkeys, nz, o->reg_path);
	return done(summary);
}

/* ---- backup-done ---- */

static int cmd_backup_done(const opts_t *o)
{
	if (o->reg_path == NULL || o->nzones != 1 || o->location == NULL ||
	    (o->nkeys == 0 && !o->all)) {
		return fail_code(EXIT_UNKNOWN, "backup-done needs --register, one --zone, --location "
		                 "and --key (or --all)");
	}
	char err[2048];
	zg_knot_t kt = knot_of(o, NULL);
	zg_kconf_t conf;
	if (zg_kconf_load(&conf, &kt, err, sizeof(err)) != 0) {
		return fail("cannot read knotd's configuration (%s)", err);
	}
	zg_kconf_zone_keys_t zk;
	zg_keys_policy_t pol;
	if (zg_kconf_zone_keys(&conf, o->zones[0], true, &zk, &pol, err, sizeof(err)) != 0) {
		zg_kconf_deinit(&conf);
		return fail("%s; nothing recorded", err);
	}
	zg_kconf_deinit(&conf);
	zg_knot_t kd = knot_of(o, zk.kasp_dir);
	zg_keyset_t ks = { 0 };
	if (zg_keymgr_list(&kd, o->zones[0], &ks, err, sizeof(err)) != 0) {
		return fail("cannot list the keys of %s (%s); nothing recorded", o->zones[0], err);
	}
	char zn[256];
	zone_norm(o->zones[0], zn, sizeof(zn));
	size_t n = o->all ? ks.count : o->nkeys;
	zg_reg_entry_t *e = calloc(n + 1, sizeof(*e));
	int ret = e != NULL ? 0 : -ENOMEM;
	size_t ne = 0;
	for (size_t i = 0; i < n && ret == 0; i++) {
		const zg_key_t *k = o->all ? &ks.keys[i] : zg_keyset_find(&ks, o->keys[i]);
		if (k == NULL) {
			snprintf(err, sizeof(err), "no key %s in zone %s (keymgr list shows its keys by id "
			         "and tag); nothing recorded", o->keys[i], zn);
			ret = ZG_EINPUT;
			break;
		}
		if (o->all && k->pub_only) {
			continue;
		}
		zg_reg_entry_t *r = &e[ne++];
		snprintf(r->zone, sizeof(r->zone), "%s", zn);
		snprintf(r->id, sizeof(r->id), "%s", k->id);
		r->tag = k->tag;
		cat(r->keystore, sizeof(r->keystore), o->keystore != NULL ? o->keystore : zk.keystore,
		    "");
		r->time = o->now;
		snprintf(r->location, sizeof(r->location), "%s", o->location);
	}
	size_t added = 0;
	if (ret == 0) {
		ret = zg_reg_append(o->reg_path, e, ne, &added, err, sizeof(err));
	}
	for (size_t i = 0; ret == 0 && i < ne; i++) {
		out_line("%s key %u (id %s) recorded as backed up at %s", zn, (unsigned)e[i].tag,
		         e[i].id, o->location);
	}
	free(e);
	zg_keyset_deinit(&ks);
	if (ret != 0) {
		return fail("%s", err);
	}
	char summary[1024];
	snprintf(summary, sizeof(summary), "%zu key(s) of %s recorded (%zu new) in %s", ne, zn,
	         added, o->reg_path);
	return done(summary);
}

/* ---- status ---- */

static int worse(int a, int b)
{
	return a > b ? a : b;
}

/* The mod-keys counter of a zone through knotc zone-stats, or -1. */
static int64_t module_counter(const opts_t *o, const char *zone, const char *name)
{
	zg_exec_result_t r;
	const char *argv[8];
	size_t n = 0;
	argv[n++] = o->knotc;
	if (o->conf_opt != NULL) {
		argv[n++] = o->conf_opt;
		argv[n++] = o->conf_arg;
	}
	argv[n++] = "zone-stats";
	argv[n++] = zone;
	argv[n++] = "mod-keys";
	argv[n] = NULL;
	if (zg_exec(argv, NULL, 10000, &r) != 0) {
		return -1;
	}
	int64_t v = -1;
	char pat[64];
	snprintf(pat, sizeof(pat), "mod-keys.%s = ", name);
	const char *p = r.status == 0 ? strstr(r.out, pat) : NULL;
	if (p != NULL) {
		v = strtoll(p + strlen(pat), NULL, 10);
	}
	zg_exec_result_free(&r);
	return v;
}

static int status_zone(const opts_t *o, const zg_kconf_t *conf, const zg_reg_t *reg,
                       const char *zone, json_t *jzones, char *line, size_t linelen)
{
	char err[1024], zn[256];
	zone_norm(zone, zn, sizeof(zn));
	zg_kconf_zone_keys_t zk;
	zg_keys_policy_t pol;
	if (zg_kconf_zone_keys(conf, zone, true, &zk, &pol, err, sizeof(err)) != 0) {
		snprintf(line, linelen, "%.400s", err);
		out_line("%s: %s", zn, err);
		return EXIT_UNKNOWN;
	}
	zg_knot_t kd = knot_of(o, zk.kasp_dir);
	zg_keyset_t ks = { 0 };
	if (zg_keymgr_list(&kd, zone, &ks, err, sizeof(err)) != 0) {
		snprintf(line, linelen, "%.255s: cannot list keys (%.200s)", zn, err);
		out_line("%s", line);
		return EXIT_UNKNOWN;
	}
	/* Under automatic management mod-keys keeps a held key's replace step
	 * (publish + key delay) at most one key delay ahead, and Knot 3.4+ clears
	 * the hold marks at each key event: an unbacked key due within that
	 * delay is held whether its marks are there at this moment or not. */
	zg_keys_opts_t dopt = { .now = o->now,
	                        .lookahead = pol.manual ? 0 : zg_keys_policy_key_delay(&pol) };
	zg_keys_plan_t plan;
	if (zg_keys_decide(&ks, reg, zn, &pol, &dopt, &plan) != 0) {
		zg_keyset_deinit(&ks);
		return EXIT_UNKNOWN;
	}
	/* The keystore: every key the zone still needs. */
	bool *present = calloc(ks.count + 1, sizeof(bool));
	zg_key_t *need = calloc(ks.count + 1, sizeof(zg_key_t));
	size_t *idx = calloc(ks.count + 1, sizeof(size_t));
	size_t nn = 0;
	for (size_t i = 0; need != NULL && idx != NULL && i < ks.count; i++) {
		if (!ks.keys[i].pub_only && plan.keys[i].state != ZG_KS_REMOVED) {
			idx[nn] = i;
			need[nn++] = ks.keys[i];
		}
	}
	bool *has = calloc(ks.count + 1, sizeof(bool));
	char kerr[512] = "";
	int kret = present != NULL && has != NULL ?
	           zg_keystore_check_child(strcmp(zk.backend, "pkcs11") == 0 ? softhsm_conf(o) : NULL,
	                                   zk.backend, zk.config, need, nn, has, o->timeout_ms,
	                                   kerr, sizeof(kerr)) : -ENOMEM;
	size_t missing = 0;
	for (size_t i = 0; i < nn; i++) {
		if (has[i]) {
			present[idx[i]] = true;
		} else {
			missing++;
		}
	}
	int code = EXIT_OK;
	json_t *jkeys = json_array();
	for (size_t i = 0; i < ks.count; i++) {
		const zg_key_decision_t *d = &plan.keys[i];
		const zg_key_t *k = d->key;
		char bt[32] = "-", due[32] = "-";
		if (d->backup != NULL) {
			zg_keys_time_str(d->backup->time, bt, sizeof(bt));
		}
		if (d->due != 0) {
			zg_keys_time_str(d->due, due, sizeof(due));
		}
		bool needed = !k->pub_only && d->state != ZG_KS_REMOVED;
		const char *ksstate = !needed ? "-" : (present[i] ? "present" : "MISSING");
		const char *verdict = d->marked && d->verdict == ZG_KV_HELD ? "held" :
		                      zg_key_verdict_name(d->verdict);
		if (d->verdict == ZG_KV_WAITING && d->marked) {
			verdict = "held";
		}
		out_line("%s %s %5u %s %s keystore=%s backup=%s%s%s%s%s", zn, zg_key_role(k),
		         (unsigned)k->tag, k->id, zg_key_state_name(d->state), ksstate, verdict,
		         d->backup != NULL ? " " : "", d->backup != NULL ? bt : "",
		         d->backup != NULL ? " " : "", d->backup != NULL ? d->backup->location : "");
		if (d->verdict == ZG_KV_WAITING || d->verdict == ZG_KV_HELD) {
			out_line("  %s %u has no backup: Knot %s it at %s, held until a backup is recorded",
			         zg_key_role(k), (unsigned)k->tag, k->ksk ? "submits" : "activates", due);
			code = worse(code, d->due != 0 || d->marked ? EXIT_WARNING : EXIT_OK);
		}
		if (d->verdict == ZG_KV_IN_USE) {
			code = worse(code, EXIT_CRITICAL);
		}
		json_t *jk = json_pack("{s:s, s:s, s:i, s:i, s:s, s:s, s:s}", "id", k->id, "role",
		                       zg_key_role(k), "tag", k->tag, "algorithm", k->algorithm,
		                       "state", zg_key_state_name(d->state), "backup", verdict,
		                       "keystore", ksstate);
		if (d->backup != NULL) {
			json_object_set_new(jk, "backed_up", json_string(bt));
			json_object_set_new(jk, "location", json_string(d->backup->location));
		}
		if (d->due != 0) {
			json_object_set_new(jk, "due", json_string(due));
		}
		json_array_append_new(jkeys, jk);
	}
	if (missing > 0 || kret != 0) {
		code = worse(code, EXIT_CRITICAL);
		out_line("%s: keystore %s lacks %zu key(s)%s%s%s", zn, zk.keystore, missing,
		         kerr[0] ? " (" : "", kerr, kerr[0] ? ")" : "");
	}
	/* Supply against the next scheduled backup. */
	int64_t last = 0;
	for (size_t i = 0; i < reg->count; i++) {
		if (strcasecmp(reg->e[i].zone, zn) == 0 && reg->e[i].time > last) {
			last = reg->e[i].time;
		}
	}
	int64_t next = last > 0 ? last + o->backup_interval : o->now;
	char lt[32] = "never", nt[32], st[2][32];
	if (last > 0) {
		zg_keys_time_str(last, lt, sizeof(lt));
	}
	zg_keys_time_str(next, nt, sizeof(nt));
	static const char *const roles[ZG_ROLES] = { "ZSK", "KSK" };
	json_t *jsupply = json_object();
	for (int r = 0; r < ZG_ROLES; r++) {
		int64_t end = plan.supply_end[r];
		snprintf(st[r], sizeof(st[r]), "unlimited");
		if (end != 0) {
			zg_keys_time_str(end, st[r], sizeof(st[r]));
		}
		json_object_set_new(jsupply, roles[r], json_string(st[r]));
		if (o->backup_interval > 0 && end != 0 && end < next) {
			code = worse(code, EXIT_WARNING);
			out_line("%s: the supply of backed-up %ss runs out at %s, before the next "
			         "scheduled backup at %s", zn, roles[r], st[r], nt);
		}
	}
	/* Runway: the policy's, and the module's counter when knotd runs it. */
	int64_t prunway = zg_keys_policy_runway(&pol);
	int64_t runway = module_counter(o, zn, "runway-seconds");
	char pr[32], rr[32], need_s[32];
	zg_keys_duration_str(prunway, pr, sizeof(pr));
	zg_keys_duration_str(o->recovery, need_s, sizeof(need_s));
	if (prunway < o->recovery) {
		code = worse(code, EXIT_WARNING);
		out_line("%s: policy %s leaves a recovery runway of %s, less than %s", zn, zk.policy,
		         pr, need_s);
	}
	if (runway >= 0) {
		zg_keys_duration_str(runway, rr, sizeof(rr));
	} else {
		snprintf(rr, sizeof(rr), "unknown");
	}
	out_line("%s: last backup %s, next due %s; supply ZSK %s, KSK %s; runway %s (policy %s, "
	         "wanted %s)", zn, lt, nt, st[0], st[1], rr, pr, need_s);
	snprintf(line, linelen, "%s %zu keys, %zu held, %zu without backup, %zu missing, runway %s",
	         zn, ks.count, plan.held, plan.held + plan.waiting + plan.in_use, missing, rr);
	if (jzones != NULL) {
		json_t *jz = json_pack("{s:s, s:s, s:s, s:o, s:s, s:s, s:o, s:I, s:I, s:i}", "zone", zn,
		                       "policy", zk.policy, "keystore", zk.keystore, "keys", jkeys,
		                       "last_backup", lt, "next_backup", nt, "supply", jsupply,
		                       "runway_s", (json_int_t)runway, "policy_runway_s",
		                       (json_int_t)prunway, "missing", (int)missing);
		json_array_append_new(jzones, jz);
	} else {
		json_decref(jkeys);
		json_decref(jsupply);
	}
	free(present);
	free(need);
	free(idx);
	free(has);
	zg_keys_plan_deinit(&plan);
	zg_keyset_deinit(&ks);
	return code;
}

static int cmd_status(const opts_t *o)
{
	if (o->reg_path == NULL) {
		return fail_code(EXIT_UNKNOWN, "status needs --register");
	}
	char err[2048];
	zg_knot_t kt = knot_of(o, NULL);
	zg_kconf_t conf;
	if (zg_kconf_load(&conf, &kt, err, sizeof(err)) != 0) {
		return fail_code(EXIT_UNKNOWN, "cannot read knotd's configuration (%s)", err);
	}
	zg_reg_t reg;
	zg_reg_init(&reg);
	int ret = zg_reg_load(&reg, o->reg_path, err, sizeof(err));
	int code = EXIT_OK;
	if (ret == -ENOENT) {
		out_line("register %s does not exist: no key is backed up", o->reg_path);
		code = EXIT_WARNING;
	} else if (ret != 0) {
		zg_kconf_deinit(&conf);
		return fail_code(EXIT_UNKNOWN, "%s", err);
	}
	const char *zones[MAX_ZONES];
	static char zbuf[MAX_ZONES][256];
	size_t nz = 0;
	if (zone_list(o, &conf, zones, zbuf, &nz) != 0) {
		zg_kconf_deinit(&conf);
		zg_reg_deinit(&reg);
		return fail_code(EXIT_UNKNOWN, "no signed zone in knotd's configuration");
	}
	json_t *jzones = g_format == ZG_FORMAT_JSON ? json_array() : NULL;
	char summary[4096] = "";
	for (size_t i = 0; i < nz; i++) {
		char line[512];
		code = worse(code, status_zone(o, &conf, &reg, zones[i], jzones, line, sizeof(line)));
		size_t u = strlen(summary);
		snprintf(summary + u, sizeof(summary) - u, "%s%s", u ? "; " : "", line);
	}
	zg_kconf_deinit(&conf);
	zg_reg_deinit(&reg);
	static const char *const names[] = { "OK", "WARNING", "CRITICAL", "UNKNOWN" };
	if (g_format == ZG_FORMAT_NAGIOS) {
		printf("ZONEGATE KEYS %s - %s\n", names[code], summary);
	} else if (g_format == ZG_FORMAT_JSON) {
		json_object_set_new(g_json, "zones", jzones);
		json_object_set_new(g_json, "summary", json_string(summary));
		json_done(code, names[code]);
	} else {
		printf("%s: %s\n", names[code], summary);
	}
	return code;
}

/* ---- check, restore ---- */

static int cmd_check(const opts_t *o)
{
	if (o->arg == NULL) {
		return fail_code(EXIT_UNKNOWN, "check needs the LOCATION of a backup");
	}
	char err[2048];
	zg_knot_t kt = knot_of(o, NULL);
	zg_kconf_t conf;
	bool have_conf = zg_kconf_load(&conf, &kt, err, sizeof(err)) == 0;
	zg_backup_manifest_t m;
	int ret = check_backup(o, o->arg, have_conf ? &conf : NULL, &m, NULL, err, sizeof(err));
	if (have_conf) {
		zg_kconf_deinit(&conf);
	}
	if (ret != 0) {
		return fail("%s", err);
	}
	char t[32], summary[PATH_MAX + 200];
	for (size_t k = 0; k < m.nkeys; k++) {
		out_line("%s %s %u (id %s) in the backup", m.keys[k].zone, zg_key_role(&m.keys[k].key),
		         (unsigned)m.keys[k].key.tag, m.keys[k].key.id);
	}
	snprintf(summary, sizeof(summary), "backup %s of %s checks out: %zu file(s), %zu key(s) "
	         "in its KASP copy%s", o->arg, zg_keys_time_str(m.created, t, sizeof(t)), m.nfiles,
	         m.nkeys, strcmp(m.backend, "pkcs11") == 0 ? " and its token copy" : "");
	zg_backup_manifest_deinit(&m);
	return done(summary);
}

static int cmd_restore(const opts_t *o)
{
	if (o->arg == NULL || o->nzones != 1) {
		return fail_code(EXIT_UNKNOWN, "restore needs one --zone and the LOCATION of a backup");
	}
	char err[2048], zn[256];
	zone_norm(o->zones[0], zn, sizeof(zn));
	zg_knot_t kt = knot_of(o, NULL);
	zg_kconf_t conf;
	if (zg_kconf_load(&conf, &kt, err, sizeof(err)) != 0) {
		return fail("cannot read knotd's configuration (%s); nothing restored", err);
	}
	zg_kconf_zone_keys_t zk;
	zg_keys_policy_t pol;
	if (zg_kconf_zone_keys(&conf, zn, false, &zk, &pol, err, sizeof(err)) != 0) {
		zg_kconf_deinit(&conf);
		return fail("%s; nothing restored", err);
	}
	/* 1. The backup checks out for this zone. */
	zg_backup_manifest_t m;
	int ret = check_backup(o, o->arg, &conf, &m, zn, err, sizeof(err));
	zg_kconf_deinit(&conf);
	if (ret != 0) {
		return fail("%s; nothing restored", err);
	}
	/* 2. The register agrees: every key it records in this backup is in it. */
	if (o->reg_path != NULL) {
		zg_reg_t reg;
		zg_reg_init(&reg);
		ret = zg_reg_load(&reg, o->reg_path, err, sizeof(err));
		if (ret != 0 && ret != -ENOENT) {
			zg_backup_manifest_deinit(&m);
			return fail("%s; nothing restored", err);
		}
		char real[PATH_MAX];
		const char *loc = realpath(o->arg, real) != NULL ? real : o->arg;
		for (size_t i = 0; i < reg.count && ret == 0; i++) {
			const zg_reg_entry_t *e = &reg.e[i];
			if (strcasecmp(e->zone, zn) == 0 && strcmp(e->location, loc) == 0 &&
			    zg_backup_find_key(&m, zn, e->id) == NULL) {
				snprintf(err, sizeof(err), "register %.500s records key %u (id %.128s) of %.255s "
				         "in backup %.500s, which does not hold it", o->reg_path, (unsigned)e->tag,
				         e->id, zn, loc);
				ret = ZG_EINPUT;
			}
		}
		zg_reg_deinit(&reg);
		if (ret != 0) {
			zg_backup_manifest_deinit(&m);
			return fail("%s; nothing restored", err);
		}
	}
	/* 3. The keystore: plan first (a conflict changes nothing), then restore. */
	char summary[2048] = "keystore not restored (no token copy in the backup)";
	char tdir[PATH_MAX];
	snprintf(tdir, sizeof(tdir), "%s/token", o->arg);
	struct stat st;
	bool token = strcmp(m.backend, "pkcs11") == 0 && stat(tdir, &st) == 0;
	if (token) {
		const char *hc = softhsm_conf(o);
		char live[PATH_MAX];
		if (hc == NULL) {
			zg_backup_manifest_deinit(&m);
			return fail("no SoftHSM configuration (--softhsm-conf or SOFTHSM2_CONF); nothing "
			            "restored");
		}
		if (zg_softhsm_tokendir(hc, live, sizeof(live), err, sizeof(err)) != 0 ||
		    zg_token_restore(tdir, live, false, summary, sizeof(summary), err, sizeof(err)) != 0) {
			zg_backup_manifest_deinit(&m);
			return fail("%s; nothing restored", err);
		}
		if (zg_token_restore(tdir, live, true, summary, sizeof(summary), err, sizeof(err)) != 0) {
			zg_backup_manifest_deinit(&m);
			return fail("restoring the token failed (%s)", err);
		}
	}
	out_line("%s", summary);
	/* 4. The KASP state. */
	char knotdir[PATH_MAX];
	snprintf(knotdir, sizeof(knotdir), "%s/knot", o->arg);
	if (o->kasp) {
		const char *args[] = { "zone-restore", zn, "+backupdir", knotdir, "+kaspdb",
		                       "+nozonefile", "+notimers", "+nocatalog", NULL };
		if (zg_knotc(&kt, args, err, sizeof(err)) != 0) {
			zg_backup_manifest_deinit(&m);
			return fail("knotd did not restore the KASP state of %s (%s)%s", zn, err,
			            strstr(err, "token") != NULL ? ": restart knotd so that it sees the "
			            "restored keystore, then run restore --kasp again" : "");
		}
		out_line("%s: KASP state restored from %s (knotc zone-restore)", zn, knotdir);
	} else {
		zg_knot_t kd = knot_of(o, zk.kasp_dir);
		zg_keyset_t ks = { 0 };
		if (zg_keymgr_list(&kd, zn, &ks, err, sizeof(err)) == 0) {
			for (size_t k = 0; k < m.nkeys; k++) {
				if (strcasecmp(m.keys[k].zone, zn) == 0 &&
				    zg_keyset_find(&ks, m.keys[k].key.id) == NULL) {
					out_line("%s: Knot's KASP database lacks key %u of the backup: run "
					         "restore --kasp once knotd sees the keystore", zn,
					         (unsigned)m.keys[k].key.tag);
				}
			}
			zg_keyset_deinit(&ks);
		}
	}
	char keys[1024] = "", msg[3200];
	for (size_t k = 0; k < m.nkeys; k++) {
		if (strcasecmp(m.keys[k].zone, zn) == 0) {
			size_t u = strlen(keys);
			snprintf(keys + u, sizeof(keys) - u, "%s%s %u", u ? ", " : "",
			         zg_key_role(&m.keys[k].key), (unsigned)m.keys[k].key.tag);
		}
	}
	snprintf(msg, sizeof(msg), "%s restored from %s (%s); keys %s. %s", zn, o->arg, summary,
	         keys, token ? "Restart knotd so that its PKCS #11 module sees the restored "
	         "token; signing then resumes with the same keys" : "Signing resumes with the "
	         "same keys");
	zg_backup_manifest_deinit(&m);
	return done(msg);
}

/* ---- main ---- */

int main(int argc, char *argv[])
{
	opts_t o = {
		.keymgr = "keymgr", .knotc = "knotc", .now = time(NULL), .recovery = 7 * 86400,
		.backup_interval = 7 * 86400, .timeout_ms = 120000,
	};
	static const struct option longopts[] = {
		{ "config",          required_argument, NULL, 'c' },
		{ "confdb",          required_argument, NULL, 'C' },
		{ "register",        required_argument, NULL, 'r' },
		{ "dir",             required_argument, NULL, 'd' },
		{ "zone",            required_argument, NULL, 'z' },
		{ "supply",          required_argument, NULL, OPT_SUPPLY },
		{ "softhsm-conf",    required_argument, NULL, OPT_SOFTHSM },
		{ "location",        required_argument, NULL, OPT_LOCATION },
		{ "keystore",        required_argument, NULL, OPT_KEYSTORE },
		{ "key",             required_argument, NULL, OPT_KEY },
		{ "all",             no_argument,       NULL, OPT_ALL },
		{ "time",            required_argument, NULL, OPT_TIME },
		{ "recovery-time",   required_argument, NULL, OPT_RECOVERY },
		{ "backup-interval", required_argument, NULL, OPT_BACKUP_INT },
		{ "kasp",            no_argument,       NULL, OPT_KASP },
		{ "keymgr",          required_argument, NULL, OPT_KEYMGR },
		{ "knotc",           required_argument, NULL, OPT_KNOTC },
		{ "timeout",         required_argument, NULL, OPT_TIMEOUT },
		{ "format",          required_argument, NULL, OPT_FORMAT },
		{ "help",            no_argument,       NULL, 'h' },
		{ NULL }
	};
	g_format = zg_format_prescan(argc, argv);
	g_json = json_object();
	const char *time_arg = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "c:C:r:d:z:h", longopts, NULL)) != -1) {
		int64_t v;
		switch (c) {
		case 'c': o.conf_opt = "-c"; o.conf_arg = optarg; break;
		case 'C': o.conf_opt = "-C"; o.conf_arg = optarg; break;
		case 'r': o.reg_path = optarg; break;
		case 'd': o.dir = optarg; break;
		case 'z':
			if (o.nzones == MAX_ZONES) {
				return fail_code(EXIT_UNKNOWN, "too many --zone options");
			}
			o.zones[o.nzones++] = optarg;
			break;
		case OPT_SUPPLY:
			if (zg_keys_duration_parse(optarg, &o.supply) != 0) {
				return fail_code(EXIT_UNKNOWN, "bad --supply '%s' (e.g. 90d)", optarg);
			}
			break;
		case OPT_SOFTHSM: o.softhsm_conf = optarg; break;
		case OPT_LOCATION: o.location = optarg; break;
		case OPT_KEYSTORE: o.keystore = optarg; break;
		case OPT_KEY:
			if (o.nkeys == MAX_KEYS) {
				return fail_code(EXIT_UNKNOWN, "too many --key options");
			}
			o.keys[o.nkeys++] = optarg;
			break;
		case OPT_ALL: o.all = true; break;
		case OPT_TIME: time_arg = optarg; break;
		case OPT_RECOVERY:
			if (zg_keys_duration_parse(optarg, &o.recovery) != 0) {
				return fail_code(EXIT_UNKNOWN, "bad --recovery-time '%s' (e.g. 7d)", optarg);
			}
			break;
		case OPT_BACKUP_INT:
			if (zg_keys_duration_parse(optarg, &o.backup_interval) != 0) {
				return fail_code(EXIT_UNKNOWN, "bad --backup-interval '%s' (e.g. 7d)", optarg);
			}
			break;
		case OPT_KASP: o.kasp = true; break;
		case OPT_KEYMGR: o.keymgr = optarg; break;
		case OPT_KNOTC: o.knotc = optarg; break;
		case OPT_TIMEOUT:
			if (zg_keys_duration_parse(optarg, &v) != 0 || v == 0 || v > INT_MAX / 1000) {
				return fail_code(EXIT_UNKNOWN, "bad --timeout '%s'", optarg);
			}
			o.timeout_ms = (int)(v * 1000);
			break;
		case OPT_FORMAT:
			if (zg_format_parse(optarg, &g_format) != 0) {
				g_format = ZG_FORMAT_TEXT;
				return fail_code(EXIT_UNKNOWN, "unknown format '%s' (" ZG_FORMAT_NAMES ")",
				                 optarg);
			}
			break;
		case 'h':
			usage(stdout);
			json_decref(g_json);
			return EXIT_OK;
		default:
			usage(stderr);
			json_decref(g_json);
			return EXIT_UNKNOWN;
		}
	}
	if (optind < argc) {
		o.cmd = argv[optind++]; /* GNU getopt moved the operands to the end. */
	}
	if (o.cmd == NULL) {
		usage(stderr);
		json_decref(g_json);
		return EXIT_UNKNOWN;
	}
	if (optind < argc) {
		o.arg = argv[optind++];
	}
	if (optind < argc) {
		return fail_code(EXIT_UNKNOWN, "unexpected argument '%s'", argv[optind]);
	}
	json_object_set_new(g_json, "command", json_string(o.cmd));
	if (time_arg != NULL) {
		bool unix_time = strspn(time_arg, "0123456789") == strlen(time_arg);
		if (unix_time) {
			o.now = strtoll(time_arg, NULL, 10);
		} else if (zg_keys_time_parse(time_arg, &o.now) != 0) {
			return fail_code(EXIT_UNKNOWN, "bad --time '%s' (UNIXTIME or "
			                 "YYYY-MM-DDTHH:MM:SSZ)", time_arg);
		}
	}
	if (strcmp(o.cmd, "backup") == 0) {
		return cmd_backup(&o);
	} else if (strcmp(o.cmd, "backup-done") == 0) {
		return cmd_backup_done(&o);
	} else if (strcmp(o.cmd, "status") == 0) {
		return cmd_status(&o);
	} else if (strcmp(o.cmd, "check") == 0) {
		return cmd_check(&o);
	} else if (strcmp(o.cmd, "restore") == 0) {
		return cmd_restore(&o);
	}
	return fail_code(EXIT_UNKNOWN, "unknown command '%s' (backup, backup-done, status, check, "
	                 "restore)", o.cmd);
}
