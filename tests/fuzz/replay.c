/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Replays every file of a fuzz seed corpus through LLVMFuzzerTestOneInput()
 * and prints TAP (built with gcc for `make check`; clang -fsanitize=fuzzer
 * builds of the harnesses do not need it).
 *
 * Corpus: the directories given as arguments, or
 * $ZG_SRCDIR/tests/fuzz/corpus/ZG_FUZZ_NAME.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void replay_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (!ok(d != NULL, "corpus %s opened", dir)) {
		return;
	}
	char *names[4096];
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL && n < 4096) {
		if (e->d_name[0] != '.') {
			names[n++] = strdup(e->d_name);
		}
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp);
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		FILE *f = fopen(path, "rb");
		uint8_t *buf = NULL;
		size_t len = 0;
		if (f != NULL) {
			fseek(f, 0, SEEK_END);
			long sz = ftell(f);
			fseek(f, 0, SEEK_SET);
			buf = malloc(sz > 0 ? (size_t)sz : 1);
			len = (buf != NULL && sz > 0) ? fread(buf, 1, (size_t)sz, f) : 0;
			fclose(f);
		}
		if (ok(buf != NULL, "%s read", names[i])) {
			LLVMFuzzerTestOneInput(buf, len);
			ok(true, "%s replayed", names[i]);
		}
		free(buf);
		free(names[i]);
	}
}

int main(int argc, char **argv)
{
	plan_lazy();
	if (argc > 1) {
		for (int i = 1; i < argc; i++) {
			replay_dir(argv[i]);
		}
	} else {
		const char *src = getenv("ZG_SRCDIR");
		char dir[4096];
		snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/%s", src ? src : ".", ZG_FUZZ_NAME);
		replay_dir(dir);
	}
	return done_testing();
}
