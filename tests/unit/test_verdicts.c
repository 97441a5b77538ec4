/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The verdict store of mod-validate (lib/validate/verdicts.c): recording
 * (replacement, the oldest dropped), digests, the state file written and
 * read back, format 1 read, and every kind of corrupt file refused with the
 * line and the reason.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "validate/verdicts.h"
#include "tap.h"

static zg_digest_t dg(uint8_t b)
{
	zg_digest_t d;
	memset(&d, b, sizeof(d));
	return d;
}

/* Parses text as a state file of zone test. */
static int parse_text(const char *text, zg_verdicts_t *out, unsigned *line, const char **why)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int ret = zg_verdicts_parse(f, "test.", out, line, why);
	fclose(f);
	return ret;
}

static void test_record(void)
{
	zg_verdicts_t *s = calloc(1, sizeof(*s));
	zg_digest_t d1 = dg(1), d2 = dg(2), out;
	zg_verdicts_record(s, 10, false, 100, 999, &d1);
	is_int(s->count, 1, "one verdict");
	ok(!s->have_last_valid, "a failed verdict is no last valid serial");
	is_int(s->v[0].expiry == INT64_MAX, 1, "a failed verdict has no expiry");
	zg_verdicts_record(s, 10, true, 101, 5000, &d2);
	is_int(s->count, 1, "the same serial again replaces its verdict");
	ok(s->v[0].valid && s->v[0].expiry == 5000 && s->have_last_valid && s->last_valid == 10,
	   "valid now, with its expiry, the last valid serial");
	ok(zg_verdicts_digest(s, 10, true, &out) && memcmp(&out, &d2, sizeof(out)) == 0,
	   "the digest of the valid verdict");
	zg_verdicts_record(s, 11, false, 102, 0, NULL);
	ok(!zg_verdicts_digest(s, 11, false, &out), "no digest recorded: none found");
	ok(!zg_verdicts_digest(s, 12, false, &out), "an unknown serial: none found");
	for (uint32_t i = 0; i < ZG_VERDICTS_MAX + 5; i++) {
		zg_verdicts_record(s, 100 + i, true, 200 + i, 300, &d1);
	}
	is_int(s->count, ZG_VERDICTS_MAX, "at most ZG_VERDICTS_MAX verdicts");
	is_int(s->v[0].serial, 105, "the oldest went first");
	is_int(s->v[ZG_VERDICTS_MAX - 1].serial, 100 + ZG_VERDICTS_MAX + 4, "the newest last");
	free(s);
}

static void test_roundtrip(void)
{
	zg_verdicts_t *s = calloc(1, sizeof(*s)), *r = calloc(1, sizeof(*r));
	memset(s->key, 0x5a, sizeof(s->key));
	zg_digest_t d1 = dg(0xab);
	zg_verdicts_record(s, 7, true, 1700000000, 1800000000, &d1);
	zg_verdicts_record(s, 8, false, 1700000100, 0, &d1);
	zg_verdicts_record(s, 9, true, 1700000200, INT64_MAX, NULL);
	s->lease_token = 12;
	char dir[] = "/tmp/zg-test-verdicts.XXXXXX";
	ok(mkdtemp(dir) != NULL, "temp dir");
	char path[128];
	snprintf(path, sizeof(path), "%s/state", dir);
	is_int(zg_verdicts_write(s, "test.", path), 0, "written");
	FILE *f = fopen(path, "r");
	unsigned line = 0;
	const char *why = NULL;
	is_int(zg_verdicts_parse(f, "TEST.", r, &line, &why), 0, "read back (zone compared without case)");
	fclose(f);
	is_int(r->version, 2, "format 2");
	ok(r->have_key && memcmp(r->key, s->key, sizeof(r->key)) == 0, "the digest key kept");
	is_int(r->count, 3, "three verdicts");
	ok(r->have_last_valid && r->last_valid == 9, "last valid serial 9");
	ok(r->lease_token == 12, "the highest signer lease token kept (12)");
	ok(r->v[0].serial == 7 && r->v[0].valid && r->v[0].time == 1700000000 &&
	   r->v[0].expiry == 1800000000 && r->v[0].has_digest &&
	   memcmp(&r->v[0].digest, &d1, sizeof(d1)) == 0 && r->v[0].restored,
	   "serial 7: valid, time, expiry, digest, restored");
	ok(r->v[1].serial == 8 && !r->v[1].valid && r->v[1].expiry == INT64_MAX,
	   "serial 8: failed, no expiry");
	ok(r->v[2].serial == 9 && r->v[2].valid && !r->v[2].has_digest &&
	   r->v[2].expiry == INT64_MAX, "serial 9: valid, expiry and digest unknown");
	f = fopen(path, "r");
	ok(zg_verdicts_parse(f, "other.", r, &line, &why) == -EINVAL && line == 2 &&
	   strcmp(why, "state of another zone") == 0, "another zone's file refused (line 2)");
	fclose(f);
	struct stat st;
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0640, "file mode 0640");
	char bad[160];
	snprintf(bad, sizeof(bad), "%s/no/such/dir/state", dir);
	is_int(zg_verdicts_write(s, "test.", bad), -ENOENT, "unwritable path: -ENOENT");
	unlink(path);
	rmdir(dir);
	free(s);
	free(r);
}

static void test_corrupt(void)
{
	static const char *key = "key 0000000000000000000000000000000000000000000000000000000000000000\n";
	static const struct {
		const char *body;   /* After "zonegate-mod-validate 2\nzone test.\n" + key. */
		unsigned line;
		const char *why;
	} cases[] = {
		{ "verdict 1 valid 5 - -\n", 5, "end line missing (file truncated)" },
		{ "verdict 1 maybe 5 - -\nend 1\n", 4, "verdict must be valid or failed" },
		{ "verdict 99999999999 valid 5 - -\nend 1\n", 4, "bad serial or time" },
		{ "verdict 1 failed 5 77 -\nend 1\n", 4, "bad expiry" },
		{ "verdict 1 valid 5 - xyz\nend 1\n", 4, "bad content digest" },
		{ "end 1\n", 4, "verdict count does not match" },
		{ "end 0\nend 0\n", 5, "data after the end line" },
		{ "hello\nend 0\n", 4, "unknown line" },
		{ "a b c d e f g h\nend 0\n", 4, "too many fields" },
		{ "last-validated -1\nend 0\n", 4, "bad serial" },
		{ "lease-token 0\nend 0\n", 4, "bad lease token" },
		{ "lease-token x\nend 0\n", 4, "bad lease token" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[512];
		snprintf(text, sizeof(text), "zonegate-mod-validate 2\nzone test.\n%s%s", key,
		         cases[i].body);
		zg_verdicts_t *r = calloc(1, sizeof(*r));
		r->count = 42;
		unsigned line = 0;
		const char *why = NULL;
		int ret = parse_text(text, r, &line, &why);
		ok(ret == -EINVAL && line == cases[i].line && why != NULL &&
		   strcmp(why, cases[i].why) == 0 && r->count == 42,
		   "refused at line %u: %s (got line %u: %s), nothing set", cases[i].line,
		   cases[i].why, line, why ? why : "-");
		free(r);
	}
	zg_verdicts_t *r = calloc(1, sizeof(*r));
	unsigned line = 0;
	const char *why = NULL;
	ok(parse_text("zonegate-mod-validate 3\n", r, &line, &why) == -EINVAL &&
	   strcmp(why, "unsupported version") == 0, "format 3: unsupported version");
	ok(parse_text("#!/bin/sh\n", r, &line, &why) == -EINVAL &&
	   strcmp(why, "not a mod-validate state file") == 0, "another file: named so");
	ok(parse_text("zonegate-mod-validate 2\nzone test.\nkey abc\nend 0\n", r, &line, &why) ==
	   -EINVAL && line == 3 && strcmp(why, "key line expected") == 0, "short key refused");
	ok(parse_text("zonegate-mod-validate 2\nzone test.\nend 0", r, &line, &why) == -EINVAL &&
	   strcmp(why, "line too long or not terminated") == 0, "a last line without newline refused");
	/* Format 1: no key line, verdicts without a digest field. */
	is_int(parse_text("zonegate-mod-validate 1\nzone test.\nlast-validated 3\n"
	                  "verdict 3 valid 1700000000 1800000000\nend 1\n", r, &line, &why), 0,
	       "format 1 read");
	ok(r->version == 1 && !r->have_key && r->count == 1 && r->v[0].valid &&
	   !r->v[0].has_digest && r->last_valid == 3, "format 1: no key, no digest, serial 3");
	free(r);
}

static void test_path(void)
{
	char out[64];
	is_int(zg_verdicts_path("/var/lib/knot", "example.test.", out, sizeof(out)), 0,
	       "state file path made");
	is_str(out, "/var/lib/knot/example.test.mod-validate", "DIR/ZONE.mod-validate");
	zg_verdicts_path("/d", ".", out, sizeof(out));
	is_str(out, "/d/root.mod-validate", "the root zone: root.mod-validate");
	zg_verdicts_path("/d", "a/b.test.", out, sizeof(out));
	is_str(out, "/d/a\\047b.test.mod-validate", "a '/' in the name written \\047");
	ok(zg_verdicts_path("/a-directory-name-that-is-long", "example.test.", out, 20) ==
	   -ENAMETOOLONG && out[0] == '\0', "too long: -ENAMETOOLONG, no path");

	/* A directory relative to knotd's working directory. */
	is_int(zg_verdicts_path_at("/run/knot", "storage", "example.", out, sizeof(out)), 0,
	       "relative directory: path made");
	is_str(out, "/run/knot/storage/example.mod-validate", "joined to the working directory");
	zg_verdicts_path_at("/run/knot", "/var/lib/knot", "example.", out, sizeof(out));
	is_str(out, "/var/lib/knot/example.mod-validate", "an absolute directory is kept");
	zg_verdicts_path_at("", "/d", "example.", out, sizeof(out));
	is_str(out, "/d/example.mod-validate", "no working directory: the directory as is");
	zg_verdicts_path_at(NULL, "d", "example.", out, sizeof(out));
	is_str(out, "d/example.mod-validate", "NULL working directory: the directory as is");
	ok(zg_verdicts_path_at("/run/knot", NULL, "example.", out, sizeof(out)) == -ENOENT &&
	   out[0] == '\0', "no directory: -ENOENT, no path");
	ok(zg_verdicts_path_at("/run/knot", "", "example.", out, sizeof(out)) == -ENOENT,
	   "empty directory: -ENOENT");
	char cwd[PATH_MAX + 8];
	memset(cwd, 'x', sizeof(cwd) - 1);
	cwd[0] = '/';
	cwd[sizeof(cwd) - 1] = '\0';
	ok(zg_verdicts_path_at(cwd, "d", "example.", out, sizeof(out)) == -ENAMETOOLONG &&
	   out[0] == '\0', "joined path too long: -ENAMETOOLONG, no path");
}

int main(void)
{
	plan_lazy();
	test_record();
	test_roundtrip();
	test_corrupt();
	test_path();
	return done_testing();
}
