/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Backups and Knot's configuration as zg-keys reads them: the MANIFEST
 * (write, read back, hash and verify the files, every kind of bad record),
 * the token restore plan (missing directory, missing files, another token),
 * `knotc conf-export` text (zone -> template -> policy -> keystore, KASP
 * directory, defaults), the keystore config without its PIN, a child
 * process's output and exit status.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "keys/backup.h"
#include "keys/keystore.h"
#include "keys/knot.h"
#include "tap.h"

static char dir[] = "/tmp/zg-backup-XXXXXX";

static void put(const char *rel, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

static void mk(const char *rel)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	mkdir(path, 0700);
}

static void test_manifest(void)
{
	mk("b");
	mk("b/knot");
	mk("b/knot/keys");
	mk("b/token");
	mk("b/token/t1");
	put("b/knot/keys/data.mdb", "kasp");
	put("b/knot/keys/lock.mdb", "lock");
	put("b/token/t1/token.object", "TOKENOBJtoken");
	put("b/token/t1/k1.object", "key one");

	zg_backup_manifest_t m;
	memset(&m, 0, sizeof(m));
	m.created = 1796472992;
	snprintf(m.keystore, sizeof(m.keystore), "hsm");
	snprintf(m.backend, sizeof(m.backend), "pkcs11");
	snprintf(m.config, sizeof(m.config), "pkcs11:token=zonegate /usr/lib/softhsm/libsofthsm2.so");
	zg_backup_manifest_add_zone(&m, "test.");
	zg_key_t k = { .tag = 23112, .algorithm = 13, .ksk = true };
	snprintf(k.id, sizeof(k.id), "0578b3fa");
	zg_backup_manifest_add_key(&m, "test.", &k);
	k.ksk = false;
	k.zsk = true;
	k.tag = 17893;
	snprintf(k.id, sizeof(k.id), "91977b5f");
	zg_backup_manifest_add_key(&m, "test.", &k);

	char path[512], err[512];
	snprintf(path, sizeof(path), "%s/b", dir);
	is_int(zg_backup_hash_files(&m, path, err, sizeof(err)), 0, "files hashed");
	is_int(m.nfiles, 3, "three files (lock.mdb left out)");
	is_str(m.files[0].path, "knot/keys/data.mdb", "sorted by path");
	is_int(zg_backup_manifest_write(&m, path, err, sizeof(err)), 0, "manifest written");
	zg_backup_manifest_t r;
	is_int(zg_backup_manifest_load(&r, path, err, sizeof(err)), 0, "manifest read back");
	ok(r.created == m.created && r.nzones == 1 && r.nkeys == 2 && r.nfiles == 3,
	   "same created time, zones, keys, files");
	is_str(r.config, m.config, "keystore config");
	ok(r.keys[0].key.ksk && !r.keys[0].key.zsk && r.keys[1].key.zsk, "key roles");
	ok(zg_backup_find_key(&r, "TEST", "91977B5F") != NULL, "key found (case, final dot)");
	ok(zg_backup_has_zone(&r, "test") && !zg_backup_has_zone(&r, "other."), "zones");
	is_int(zg_backup_verify_files(&r, path, err, sizeof(err)), 0, "files verify");
	put("b/knot/keys/lock.mdb", "changed by LMDB");
	is_int(zg_backup_verify_files(&r, path, err, sizeof(err)), 0, "a changed lock.mdb is fine");
	put("b/token/t1/k1.object", "key 1");
	ok(zg_backup_verify_files(&r, path, err, sizeof(err)) == ZG_EINPUT &&
	   strcmp(err, "token/t1/k1.object: checksum mismatch") == 0, "changed file found (%s)", err);
	put("b/token/t1/k1.object", "key one");
	put("b/token/t1/k2.object", "extra");
	ok(zg_backup_verify_files(&r, path, err, sizeof(err)) == ZG_EINPUT &&
	   strcmp(err, "token/t1/k2.object: not in the manifest") == 0, "added file found (%s)", err);
	snprintf(path, sizeof(path), "%s/b/token/t1/k2.object", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/b/token/t1/k1.object", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/b", dir);
	ok(zg_backup_verify_files(&r, path, err, sizeof(err)) == ZG_EINPUT &&
	   strcmp(err, "token/t1/k1.object: missing") == 0, "missing file found (%s)", err);
	put("b/token/t1/k1.object", "key one");
	zg_backup_manifest_deinit(&r);
	zg_backup_manifest_deinit(&m);

	static const struct { const char *text, *want, *name; } bad[] = {
		{ "zonegate-keys-backup 2\n", "line 1: not a zonegate key backup manifest", "version" },
		{ "zonegate-keys-backup 1\ncreated\tyesterday\n", "line 2: bad time", "time" },
		{ "zonegate-keys-backup 1\nkey\ttest.\tzz\t1\t13\tZSK\n", "bad key record", "key id" },
		{ "zonegate-keys-backup 1\nkey\ttest.\tab\t1\t13\tXSK\n", "key role 'XSK'", "role" },
		{ "zonegate-keys-backup 1\nfile\tabc\tknot/x\n", "bad file record", "hash" },
		{ "zonegate-keys-backup 1\nfile\t0000000000000000000000000000000000000000000000000000000000000000\t../etc/passwd\n",
		  "bad file record for '../etc/passwd'", "path outside the backup" },
		{ "zonegate-keys-backup 1\nzone\ttest.\n", "incomplete manifest", "incomplete" },
		{ "zonegate-keys-backup 1\nbogus\n", "unknown record 'bogus'", "unknown record" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret = zg_backup_manifest_parse(&r, bad[i].text, strlen(bad[i].text), err, sizeof(err));
		ok(ret == ZG_ESYNTAX && strstr(err, bad[i].want) != NULL, "bad manifest refused: %s (%s)",
		   bad[i].name, err);
	}
}

static void test_token_restore(void)
{
	mk("live");
	char b[512], l[512], sum[512], err[512], path[512];
	snprintf(b, sizeof(b), "%s/b/token", dir);
	snprintf(l, sizeof(l), "%s/live", dir);
	is_int(zg_token_restore(b, l, false, sum, sizeof(sum), err, sizeof(err)), 0, "plan: dir missing");
	is_str(sum, "token directory t1 restored", "the plan restores it");
	snprintf(path, sizeof(path), "%s/live/t1", dir);
	struct stat st;
	ok(stat(path, &st) != 0, "planning changed nothing");
	is_int(zg_token_restore(b, l, true, sum, sizeof(sum), err, sizeof(err)), 0, "restore: dir copied");
	snprintf(path, sizeof(path), "%s/live/t1/k1.object", dir);
	ok(stat(path, &st) == 0, "its files are there");
	is_int(zg_token_restore(b, l, false, sum, sizeof(sum), err, sizeof(err)), 0, "plan again");
	is_str(sum, "keystore intact, nothing to restore", "intact");
	unlink(path);
	put("live/t1/token.object", "XXXXXXXXtoken"); /* Generation counter changed only. */
	is_int(zg_token_restore(b, l, true, sum, sizeof(sum), err, sizeof(err)), 0,
	       "restore: missing file of the same token");
	is_str(sum, "token t1: 1 missing file(s) restored", "one file restored");
	ok(stat(path, &st) == 0, "the file is back");
	put("live/t1/token.object", "XXXXXXXXother");
	unlink(path);
	ok(zg_token_restore(b, l, false, sum, sizeof(sum), err, sizeof(err)) == ZG_EINPUT &&
	   strstr(err, "holds another token than the backup") != NULL, "another token refused (%s)", err);
	ok(stat(path, &st) != 0, "nothing copied into another token");
}

static const char conf_text[] =
	"# Configuration export (Knot DNS 3.2.6)\n\n"
	"server:\n    rundir: \"/run/knot\"\n    listen: [ \"127.0.0.1@53\", \"::1@53\" ]\n\n"
	"database:\n    storage: \"/srv/knot\"\n\n"
	"keystore:\n  - id: \"hsm\"\n    backend: \"pkcs11\"\n"
	"    config: \"pkcs11:token=zonegate;pin-value=1234 /usr/lib/softhsm/libsofthsm2.so\"\n\n"
	"policy:\n  - id: \"fast\"\n    keystore: \"hsm\"\n    propagation-delay: \"5\"\n"
	"    dnskey-ttl: \"2\"\n    rrsig-refresh: \"86400\"\n    manual: \"on\"\n\n"
	"template:\n  - id: \"default\"\n    dnssec-signing: \"on\"\n    dnssec-policy: \"fast\"\n\n"
	"  - id: \"plain\"\n    semantic-checks: \"on\"\n\n"
	"zone:\n  - domain: \"test.\"\n\n"
	"  - domain: \"other.\"\n    template: \"plain\"\n\n"
	"  - domain: \"pem.\"\n    dnssec-policy: \"default\"\n";

static void test_kconf(void)
{
	zg_kconf_t conf;
	char err[256];
	is_int(zg_kconf_parse(&conf, conf_text, err, sizeof(err)), 0, "conf-export text parses");
	is_str(zg_kconf_get(&conf, "server", NULL, "rundir"), "/run/knot", "unquoted value");
	is_str(zg_kconf_get(&conf, "server", NULL, "listen"), "127.0.0.1@53", "first of a list");
	is_str(zg_kconf_zone(&conf, "test", "dnssec-policy"), "fast", "zone item from the default template");
	ok(zg_kconf_zone(&conf, "other.", "dnssec-signing") == NULL, "own template without it");
	const char *zones[8];
	is_int(zg_kconf_signed_zones(&conf, zones, 8), 2, "two signed zones");
	zg_kconf_zone_keys_t zk;
	zg_keys_policy_t pol;
	is_int(zg_kconf_zone_keys(&conf, "test.", true, &zk, &pol, err, sizeof(err)), 0, "test.'s keys");
	is_str(zk.keystore, "hsm", "keystore");
	is_str(zk.backend, "pkcs11", "backend");
	is_str(zk.kasp_dir, "/srv/knot/keys", "KASP directory (kasp-db default in storage)");
	ok(pol.manual && pol.propagation_delay == 5 && pol.dnskey_ttl == 2 &&
	   pol.rrsig_refresh == 86400 && pol.rrsig_lifetime == 14 * 86400 && pol.zone_max_ttl == -1,
	   "policy values, Knot's defaults for the rest");
	is_int(zg_kconf_zone_keys(&conf, "pem.", true, &zk, &pol, err, sizeof(err)), 0, "built-in policy");
	ok(strcmp(zk.backend, "pem") == 0 && strcmp(zk.config, "/srv/knot/keys/keys") == 0,
	   "default keystore: PEM files in the KASP directory (%s)", zk.config);
	ok(zg_kconf_zone_keys(&conf, "other.", true, &zk, &pol, err, sizeof(err)) == ZG_EINPUT &&
	   strstr(err, "not signed") != NULL, "unsigned zone refused (%s)", err);
	ok(zg_kconf_zone_keys(&conf, "other.", false, &zk, &pol, err, sizeof(err)) == 0 &&
	   strcmp(zk.policy, "default") == 0, "unless a restore asks for it");
	ok(zg_kconf_zone_keys(&conf, "nope.", true, &zk, &pol, err, sizeof(err)) == ZG_EINPUT &&
	   strstr(err, "not in knotd's configuration") != NULL, "unknown zone refused");
	zg_kconf_deinit(&conf);
	ok(zg_kconf_parse(&conf, "server:\n    rundir\n", err, sizeof(err)) == ZG_ESYNTAX &&
	   strstr(err, "line 2") != NULL, "bad line refused (%s)", err);
}

static void test_misc(void)
{
	char out[256];
	zg_keystore_config_public("pkcs11:token=zonegate;pin-value=1234 /usr/lib/softhsm/libsofthsm2.so",
	                          out, sizeof(out));
	is_str(out, "pkcs11:token=zonegate /usr/lib/softhsm/libsofthsm2.so", "PIN removed at the end");
	zg_keystore_config_public("pkcs11:pin-value=1234;token=z /lib/p11.so", out, sizeof(out));
	is_str(out, "pkcs11:token=z /lib/p11.so", "PIN removed in the middle");
	zg_keystore_config_public("/var/lib/knot/keys", out, sizeof(out));
	is_str(out, "/var/lib/knot/keys", "no PIN: unchanged");

	zg_exec_result_t r;
	const char *argv[] = { "/bin/sh", "-c", "echo out; echo err >&2; exit 3", NULL };
	ok(zg_exec(argv, NULL, 5000, &r) == 0 && r.status == 3 && strcmp(r.out, "out\n") == 0 &&
	   strcmp(r.err, "err\n") == 0, "child output, errors and exit status");
	zg_exec_result_free(&r);
	const char *env[] = { "ZG_TEST_VAR=42", NULL };
	const char *argv2[] = { "/bin/sh", "-c", "echo $ZG_TEST_VAR", NULL };
	ok(zg_exec(argv2, env, 5000, &r) == 0 && strcmp(r.out, "42\n") == 0, "environment added");
	zg_exec_result_free(&r);
	const char *argv3[] = { "/bin/sleep", "10", NULL };
	is_int(zg_exec(argv3, NULL, 200, &r), ZG_ETIMEOUT, "a child over its time is killed");
	const char *argv4[] = { "/nonexistent/tool", NULL };
	is_int(zg_exec(argv4, NULL, 1000, &r), -ENOENT, "a missing tool is -ENOENT");
}

int main(void)
{
	plan_lazy();
	if (mkdtemp(dir) == NULL) {
		skip_all("no temp dir");
	}
	test_manifest();
	test_token_restore();
	test_kconf();
	test_misc();
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	(void)system(cmd);
	return done_testing();
}
