/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The backup register: parsing (good file, every kind of bad line with its
 * line number), formatting round trip, atomic append with duplicates
 * skipped, a corrupt file left untouched, the latest backup of a key, times
 * and durations; keymgr's JSON key list.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "keys/keyset.h"
#include "keys/register.h"
#include "tap.h"

#define ID1 "0578b3fa5a8963ff77389276af7c7ef1c2e9cd94"
#define ID2 "91977b5f3e96af193dec6128ca3abd6197640925"

static const char good[] =
	"zonegate-keys-register 1\n"
	"# zone\tkey-id\tkey-tag\tkeystore\tbacked-up\tlocation\n"
	"test.\t" ID1 "\t23112\thsm\t2026-12-05T12:16:32Z\t/var/backups/knot keys/1\n"
	"\n"
	"test.\t" ID2 "\t17893\thsm\t2026-12-05T12:16:32Z\t/var/backups/knot keys/1\n"
	"test.\t" ID2 "\t17893\tluna\t2026-12-06T08:00:00Z\tvault 3, tape 49\n";

static void bad(const char *text, const char *want, const char *name)
{
	zg_reg_t reg;
	zg_reg_init(&reg);
	char err[512];
	int ret = zg_reg_parse(&reg, text, strlen(text), err, sizeof(err));
	ok(ret == ZG_ESYNTAX && strstr(err, want) != NULL && reg.count == 0, "%s refused", name);
	if (ret != ZG_ESYNTAX || strstr(err, want) == NULL) {
		diag("  got %d '%s', expected '%s'", ret, err, want);
	}
	zg_reg_deinit(&reg);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		return NULL;
	}
	static char buf[65536];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void test_parse(void)
{
	zg_reg_t reg;
	zg_reg_init(&reg);
	char err[256];
	is_int(zg_reg_parse(&reg, good, strlen(good), err, sizeof(err)), 0, "good register parses");
	is_int(reg.count, 3, "three entries (comments, empty lines skipped)");
	is_str(reg.e[0].zone, "test.", "zone");
	is_str(reg.e[0].id, ID1, "key id");
	is_int(reg.e[0].tag, 23112, "key tag");
	is_str(reg.e[0].keystore, "hsm", "keystore");
	is_int(reg.e[0].time, 1796472992, "backup time");
	is_str(reg.e[0].location, "/var/backups/knot keys/1", "location with a blank");
	const zg_reg_entry_t *l = zg_reg_latest(&reg, "TEST.", ID2);
	ok(l != NULL && strcmp(l->location, "vault 3, tape 49") == 0,
	   "latest backup of a key (case-insensitive zone)");
	ok(zg_reg_latest(&reg, "other.", ID2) == NULL, "no backup of that key in another zone");

	char *text;
	size_t len;
	is_int(zg_reg_format(&reg, &text, &len), 0, "format");
	zg_reg_t again;
	zg_reg_init(&again);
	ok(zg_reg_parse(&again, text, len, err, sizeof(err)) == 0 && again.count == 3 &&
	   memcmp(again.e, reg.e, 3 * sizeof(*reg.e)) == 0, "format/parse round trip");
	free(text);
	zg_reg_deinit(&again);
	zg_reg_deinit(&reg);

	bad("", "empty file", "empty file");
	bad("zonegate-keys-register 2\n", "line 1: not a zonegate key register", "other format version");
	bad("zonegate-keys-register 1\ntest.\t" ID1 "\t1\thsm\t2026-12-05T12:16:32Z\n",
	    "line 2: 5 tab-separated fields, 6 expected", "missing field");
	bad("zonegate-keys-register 1\n#\ntest.\t" ID1 "\t1\thsm\t2026-12-05T12:16:32Z\tx\ty\n",
	    "line 3: more than 6 tab-separated fields", "extra field");
	bad("zonegate-keys-register 1\nTest.\t" ID1 "\t1\thsm\t2026-12-05T12:16:32Z\tx\n",
	    "line 2: zone 'Test.' is not a lowercase domain name", "uppercase zone");
	bad("zonegate-keys-register 1\ntest\t" ID1 "\t1\thsm\t2026-12-05T12:16:32Z\tx\n",
	    "zone 'test' is not", "zone without the final dot");
	bad("zonegate-keys-register 1\ntest.\txyz\t1\thsm\t2026-12-05T12:16:32Z\tx\n",
	    "key id 'xyz' is not lowercase hexadecimal", "bad key id");
	bad("zonegate-keys-register 1\ntest.\t" ID1 "\t65536\thsm\t2026-12-05T12:16:32Z\tx\n",
	    "key tag '65536' is not a number", "key tag out of range");
	bad("zonegate-keys-register 1\ntest.\t" ID1 "\t1\thsm\t2026-12-05 12:16:32\tx\n",
	    "backup time '2026-12-05 12:16:32' is not", "bad time");
	bad("zonegate-keys-register 1\ntest.\t" ID1 "\t1\thsm\t2026-02-30T12:16:32Z\tx\n",
	    "backup time '2026-02-30T12:16:32Z'", "impossible date");
	bad("zonegate-keys-register 1\ntest.\t" ID1 "\t1\th s\t2026-12-05T12:16:32Z\tx\n",
	    "keystore 'h s'", "keystore with a blank");
	bad("zonegate-keys-register 1\ntest.\t" ID1 "\t1\thsm\t2026-12-05T12:16:32Z\t\n",
	    "location is empty", "empty location");
	char nul[] = "zonegate-keys-register 1\n\0\n";
	zg_reg_init(&reg);
	ok(zg_reg_parse(&reg, nul, sizeof(nul) - 1, err, sizeof(err)) == ZG_ESYNTAX &&
	   strstr(err, "NUL") != NULL, "binary file refused");
}

static void test_file(void)
{
	char dir[] = "/tmp/zg-reg-XXXXXX";
	if (mkdtemp(dir) == NULL) {
		skip_all("no temp dir");
	}
	char path[512], err[512];
	snprintf(path, sizeof(path), "%s/register", dir);
	zg_reg_t reg;
	zg_reg_init(&reg);
	is_int(zg_reg_load(&reg, path, err, sizeof(err)), -ENOENT, "missing register: -ENOENT");
	ok(strstr(err, "does not exist") != NULL, "missing register named (%s)", err);

	zg_reg_entry_t e[2];
	memset(e, 0, sizeof(e));
	for (int i = 0; i < 2; i++) {
		snprintf(e[i].zone, sizeof(e[i].zone), "test.");
		snprintf(e[i].id, sizeof(e[i].id), "%s", i == 0 ? ID1 : ID2);
		e[i].tag = (uint16_t)(100 + i);
		snprintf(e[i].keystore, sizeof(e[i].keystore), "hsm");
		e[i].time = 1796472992;
		snprintf(e[i].location, sizeof(e[i].location), "/b/1");
	}
	size_t added = 99;
	is_int(zg_reg_append(path, e, 2, &added, err, sizeof(err)), 0, "append creates the file");
	is_int(added, 2, "two entries added");
	is_int(zg_reg_append(path, e, 2, &added, err, sizeof(err)), 0, "append again");
	is_int(added, 0, "duplicates (same zone, key, location) skipped");
	snprintf(e[1].location, sizeof(e[1].location), "/b/2");
	zg_reg_append(path, &e[1], 1, &added, err, sizeof(err));
	is_int(added, 1, "same key in another backup added");
	is_int(zg_reg_load(&reg, path, err, sizeof(err)), 0, "file loads");
	is_int(reg.count, 3, "three entries in the file");
	char tmpname[600];
	snprintf(tmpname, sizeof(tmpname), "%s.tmp.%ld", path, (long)getpid());
	ok(access(tmpname, F_OK) != 0, "no temporary file left");

	/* A bad entry changes nothing. */
	char before[65536];
	snprintf(before, sizeof(before), "%s", slurp(path));
	zg_reg_entry_t b = e[0];
	snprintf(b.id, sizeof(b.id), "nothex");
	ok(zg_reg_append(path, &b, 1, &added, err, sizeof(err)) == ZG_EINPUT &&
	   strstr(err, "key id 'nothex'") != NULL, "bad entry refused (%s)", err);
	is_str(slurp(path), before, "file unchanged after a refused entry");

	/* A corrupt file is not overwritten. */
	FILE *f = fopen(path, "a");
	fputs("garbage line\n", f);
	fclose(f);
	snprintf(before, sizeof(before), "%s", slurp(path));
	ok(zg_reg_append(path, e, 1, &added, err, sizeof(err)) == ZG_ESYNTAX &&
	   strstr(err, "is corrupt, line 6") != NULL, "append to a corrupt register refused (%s)", err);
	is_str(slurp(path), before, "corrupt file left as it was");
	is_int(zg_reg_load(&reg, path, err, sizeof(err)), ZG_ESYNTAX, "load reports corruption");
	is_int(reg.count, 0, "and yields no entries");
	zg_reg_deinit(&reg);

	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	(void)system(cmd);
}

static void test_time(void)
{
	int64_t t;
	char buf[64];
	is_int(zg_keys_time_parse("2038-01-01T00:00:00Z", &t), 0, "time parses");
	is_int(t, 2145916800LL, "2038-01-01 is the hold time");
	is_str(zg_keys_time_str(1796472992, buf, sizeof(buf)), "2026-12-05T12:16:32Z", "time formats");
	ok(zg_keys_time_parse("2026-12-05T12:16:32", &t) != 0, "time without Z refused");
	ok(zg_keys_duration_parse("7d", &t) == 0 && t == 604800, "7d");
	ok(zg_keys_duration_parse("90m", &t) == 0 && t == 5400, "90m");
	ok(zg_keys_duration_parse("3600", &t) == 0 && t == 3600, "plain seconds");
	ok(zg_keys_duration_parse("7x", &t) != 0, "unknown unit refused");
	ok(zg_keys_duration_parse("-1d", &t) != 0, "negative refused");
	is_str(zg_keys_duration_str(90061, buf, sizeof(buf)), "1d1h", "1d1h (two largest units)");
	is_str(zg_keys_duration_str(45, buf, sizeof(buf)), "45s", "45s");
	is_str(zg_keys_duration_str(-120, buf, sizeof(buf)), "-2m", "negative");
}

static void test_keymgr_json(void)
{
	/* As keymgr -j ZONE list prints it (3.2; 3.4 adds created, 3.5 keystore fields). */
	const char json[] = "[\n"
		"  {\"zone\": \"test.\", \"id\": \"" ID1 "\", \"ksk\": true, \"zsk\": false,\n"
		"   \"tag\": 23112, \"algorithm\": 13, \"size\": 256, \"public-only\": false,\n"
		"   \"pre-active\": 0, \"publish\": 1796472992, \"ready\": 1796472992, \"active\": 0,\n"
		"   \"retire-active\": 0, \"retire\": 0, \"post-active\": 0, \"revoke\": 0, \"remove\": 0},\n"
		"  {\"zone\": \"test.\", \"id\": \"91977B5F3E96AF193DEC6128CA3ABD6197640925\",\n"
		"   \"ksk\": false, \"zsk\": true, \"tag\": 17893, \"algorithm\": 13,\n"
		"   \"created\": 1796472990, \"publish\": 1796472992, \"active\": 1796472992,\n"
		"   \"keystore\": \"hsm\", \"missing\": false}\n"
		"]\n";
	zg_keyset_t ks = { 0 };
	char err[256];
	is_int(zg_keyset_parse_json(&ks, json, strlen(json), err, sizeof(err)), 0, "keymgr JSON parses");
	is_int(ks.count, 2, "two keys");
	ok(ks.keys[0].ksk && !ks.keys[0].zsk && ks.keys[0].tag == 23112, "KSK, tag");
	is_str(zg_key_role(&ks.keys[0]), "KSK", "role KSK");
	is_str(ks.keys[1].id, ID2, "id lowercased");
	is_int(ks.keys[1].t[ZG_KT_CREATED], 1796472990, "created (3.4+)");
	is_int(ks.keys[1].t[ZG_KT_ACTIVE], 1796472992, "active");
	ok(zg_keyset_find(&ks, "17893") == &ks.keys[1], "find by tag");
	ok(zg_keyset_find(&ks, ID1) == &ks.keys[0], "find by id");
	ok(zg_keyset_find(&ks, "1") == NULL, "unknown tag: not found");
	zg_keyset_deinit(&ks);
	ok(zg_keyset_parse_json(&ks, "[]", 2, err, sizeof(err)) == 0 && ks.count == 0, "no keys");
	ok(zg_keyset_parse_json(&ks, "error: x", 8, err, sizeof(err)) == ZG_ESYNTAX,
	   "not JSON refused (%s)", err);
	ok(zg_keyset_parse_json(&ks, "[{\"id\": \"ab\"}]", 14, err, sizeof(err)) == ZG_ESYNTAX &&
	   strstr(err, "key 1") != NULL, "key without tag refused (%s)", err);
}

int main(void)
{
	plan_lazy();
	test_parse();
	test_file();
	test_time();
	test_keymgr_json();
	return done_testing();
}
