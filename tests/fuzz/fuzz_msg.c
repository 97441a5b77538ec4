/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Fuzz harness for the ingest message parser (libFuzzer entry point).
 *
 *   clang -fsanitize=fuzzer,address -Ilib tests/fuzz/fuzz_msg.c ... && ./a.out corpus/msg
 *
 * Built with -DZG_FUZZ_REPLAY it is a plain program instead: it replays every
 * file of the seed corpus (ZG_SRCDIR/tests/fuzz/corpus/msg, or the directory
 * given as argument) plus deterministic mutations of each (every prefix and
 * bit flips) and prints TAP, one point per seed. make check runs it so.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libknot/dname.h>

#include "ingest/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static zg_msg_parser_t *fuzz_parser;
static zg_msg_t fuzz_msg;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (fuzz_parser == NULL) {
		zg_msg_limits_t lim;
		zg_msg_limits_default(&lim);
		lim.max_size = 1 << 20;
		fuzz_parser = zg_msg_parser_new(&lim);
		zg_msg_init(&fuzz_msg);
		if (fuzz_parser == NULL) {
			abort();
		}
	}
	char reason[ZG_MSG_REASON_MAX];
	int ret = zg_msg_parse(fuzz_parser, (const char *)data, size, NULL, &fuzz_msg,
	                       reason, sizeof(reason));
	if (ret != 0 && (reason[0] == '\0' || strchr(reason, '\n') != NULL)) {
		abort(); /* Every refusal has a one-line reason. */
	}
	if (ret == 0) {
		/* Touch everything the parser produced. */
		size_t rrs = 0;
		for (size_t i = 0; i < fuzz_msg.change_count; i++) {
			const zg_change_t *ch = &fuzz_msg.changes[i];
			if (knot_dname_in_bailiwick(ch->owner, fuzz_msg.zone) < 0) {
				abort();
			}
			for (uint16_t j = 0; j < ch->rrset_count; j++) {
				rrs += ch->rrsets[j].rrs.count;
			}
		}
		if (rrs != fuzz_msg.rr_count) {
			abort();
		}
	}
	return 0;
}

#ifdef ZG_FUZZ_REPLAY
static int replay_file(const char *path, unsigned *runs)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		return -1;
	}
	static uint8_t buf[1 << 20];
	size_t len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	static uint8_t mut[1 << 20];
	LLVMFuzzerTestOneInput(buf, len);
	(*runs)++;
	size_t step = len > 2048 ? len / 512 : 1;
	for (size_t n = 0; n < len; n += step) {
		memcpy(mut, buf, n);
		LLVMFuzzerTestOneInput(mut, n);
		(*runs)++;
	}
	uint32_t x = 2463534242U;
	for (int i = 0; i < 300 && len > 0; i++) {
		memcpy(mut, buf, len);
		for (int k = 0; k < 1 + i % 4; k++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			size_t pos = x % len;
			static const uint8_t tokens[] = "{}[]\",:\\0129.-eE \xff\x80\n";
			mut[pos] = (i & 1) ? (uint8_t)(mut[pos] ^ (1u << (x % 8))) :
			           tokens[x % (sizeof(tokens) - 1)];
		}
		LLVMFuzzerTestOneInput(mut, len);
		(*runs)++;
	}
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	char dir[4096];
	if (argc > 1) {
		snprintf(dir, sizeof(dir), "%s", argv[1]);
	} else {
		const char *src = getenv("ZG_SRCDIR");
		snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/msg", src ? src : ".");
	}
	DIR *d = opendir(dir);
	if (d == NULL) {
		printf("Bail out! cannot open corpus %s\n", dir);
		return 1;
	}
	char *names[4096];
	size_t count = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL && count < 4096) {
		if (e->d_name[0] != '.') {
			names[count++] = strdup(e->d_name);
		}
	}
	closedir(d);
	qsort(names, count, sizeof(names[0]), name_cmp);
	int failed = 0;
	for (size_t i = 0; i < count; i++) {
		char path[8192];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unsigned runs = 0;
		int ret = replay_file(path, &runs);
		printf("%s %zu - %s (%u inputs)\n", ret == 0 ? "ok" : "not ok", i + 1,
		       names[i], runs);
		failed += ret != 0;
		free(names[i]);
	}
	printf("1..%zu\n", count);
	zg_msg_parser_free(fuzz_parser);
	zg_msg_deinit(&fuzz_msg);
	return (failed == 0 && count > 0) ? 0 : 1;
}
#endif
