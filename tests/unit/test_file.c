/* SPDX-License-Identifier: GPL-3.0-or-later */
/* core/file.h: atomic, durable replacement of a file; core/hash.h: FNV-1a. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/file.h"
#include "core/hash.h"
#include "tap.h"

static char dir[] = "/tmp/zg-test-file-XXXXXX";

static char *slurp(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		return NULL;
	}
	size_t n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Entries of dir other than . and .. */
static int entries(void)
{
	DIR *d = opendir(dir);
	int n = 0;
	for (struct dirent *e; d != NULL && (e = readdir(d)) != NULL;) {
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	}
	if (d != NULL) {
		closedir(d);
	}
	return n;
}

int main(void)
{
	plan_lazy();
	if (mkdtemp(dir) == NULL) {
		skip_all("no temporary directory");
	}
	char path[256], tmp[300], buf[64];
	snprintf(path, sizeof(path), "%s/state", dir);

	FILE *f = NULL;
	is_int(zg_file_begin(path, 0640, tmp, sizeof(tmp), &f), 0, "begin");
	ok(strncmp(tmp, path, strlen(path)) == 0 && strstr(tmp, ".tmp.") != NULL,
	   "temporary file is PATH.tmp.*: %s", tmp);
	fputs("one\n", f);
	is_int(zg_file_commit(f, tmp, path), 0, "commit");
	is_str(slurp(path, buf, sizeof(buf)), "one\n", "file written");
	struct stat st;
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0640, "mode 0640");
	is_int(entries(), 1, "no temporary file left");

	is_int(zg_file_begin(path, 0600, tmp, sizeof(tmp), &f), 0, "begin again");
	fputs("two\n", f);
	zg_file_abort(f, tmp);
	is_str(slurp(path, buf, sizeof(buf)), "one\n", "abort keeps the old file");
	is_int(entries(), 1, "abort removes the temporary file");

	is_int(zg_file_begin(path, 0600, tmp, sizeof(tmp), &f), 0, "begin a replacement");
	fputs("three\n", f);
	is_int(zg_file_commit(f, tmp, path), 0, "commit the replacement");
	is_str(slurp(path, buf, sizeof(buf)), "three\n", "file replaced");

	/* The target is a directory: the rename fails, the file stays as it was. */
	char sub[300];
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	mkdir(sub, 0700);
	char inner[320];
	snprintf(inner, sizeof(inner), "%s/x", sub);
	FILE *g = fopen(inner, "w");
	if (g != NULL) {
		fclose(g);
	}
	is_int(zg_file_begin(sub, 0600, tmp, sizeof(tmp), &f), 0, "begin over a directory");
	fputs("four\n", f);
	ok(zg_file_commit(f, tmp, sub) < 0, "commit over a non-empty directory fails");
	is_int(entries(), 2, "the failed commit leaves no temporary file");

	char missing[300];
	snprintf(missing, sizeof(missing), "%s/no/such", dir);
	is_int(zg_file_begin(missing, 0600, tmp, sizeof(tmp), &f), -ENOENT,
	       "begin in a missing directory: ENOENT");
	ok(f == NULL, "no stream on failure");
	char longp[4096];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	is_int(zg_file_begin(longp, 0600, tmp, sizeof(tmp), &f), -ENAMETOOLONG, "name too long");

	unlink(inner);
	rmdir(sub);
	unlink(path);
	rmdir(dir);

	/* FNV-1a 64: the published test values. */
	ok(zg_fnv1a(ZG_FNV1A_INIT, "", 0) == 0xcbf29ce484222325ULL, "fnv1a of nothing");
	ok(zg_fnv1a_str(ZG_FNV1A_INIT, "a") == 0xaf63dc4c8601ec8cULL, "fnv1a(\"a\")");
	ok(zg_fnv1a_str(ZG_FNV1A_INIT, "foobar") == 0x85944171f73967e8ULL, "fnv1a(\"foobar\")");
	ok(zg_fnv1a(zg_fnv1a_str(ZG_FNV1A_INIT, "foo"), "bar", 3) ==
	   zg_fnv1a_str(ZG_FNV1A_INIT, "foobar"), "hashing continues");
	return done_testing();
}
