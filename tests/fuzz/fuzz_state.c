/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Fuzz harness: mod-validate's state file -> zg_verdicts_parse(). Whatever
 * parses must hold at most ZG_VERDICTS_MAX verdicts, only "restored" ones,
 * and write back (zg_verdicts_write) to a file that parses to the same
 * verdicts; anything else aborts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "validate/verdicts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same(const zg_verdicts_t *a, const zg_verdicts_t *b)
{
	if (a->count != b->count || a->have_last_valid != b->have_last_valid ||
	    (a->have_last_valid && a->last_valid != b->last_valid) ||
	    memcmp(a->key, b->key, sizeof(a->key)) != 0) {
		return false;
	}
	for (unsigned i = 0; i < a->count; i++) {
		const zg_verdict_t *x = &a->v[i], *y = &b->v[i];
		if (x->serial != y->serial || x->valid != y->valid || x->time != y->time ||
		    (x->valid && x->expiry != y->expiry) || x->has_digest != y->has_digest ||
		    (x->has_digest && memcmp(&x->digest, &y->digest, sizeof(x->digest)) != 0)) {
			return false;
		}
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f = fmemopen((void *)data, size, "r");
	if (size == 0 || f == NULL) {
		if (f != NULL) {
			fclose(f);
		}
		return 0;
	}
	zg_verdicts_t *st = calloc(1, sizeof(*st));
	zg_verdicts_t *again = calloc(1, sizeof(*again));
	if (st == NULL || again == NULL) {
		abort();
	}
	unsigned line = 0;
	const char *why = NULL;
	int ret = zg_verdicts_parse(f, "test.", st, &line, &why);
	fclose(f);
	if (ret == 0) {
		if (st->count > ZG_VERDICTS_MAX || st->version < 1 || st->version > 2) {
			abort();
		}
		for (unsigned i = 0; i < st->count; i++) {
			if (!st->v[i].restored || (st->version < 2 && st->v[i].has_digest)) {
				abort();
			}
		}
		/* Written back, it reads the same (the key of a format 1 file:
		 * whatever the store holds, zeros here). */
		char path[] = "/tmp/zg-fuzz-state.XXXXXX";
		int fd = mkstemp(path);
		if (fd < 0) {
			abort();
		}
		close(fd);
		if (zg_verdicts_write(st, "test.", path) != 0) {
			abort();
		}
		FILE *g = fopen(path, "r");
		if (g == NULL || zg_verdicts_parse(g, "TEST.", again, &line, &why) != 0 ||
		    !same(st, again)) {
			abort();
		}
		fclose(g);
		unlink(path);
	} else if (ret == -EINVAL && (why == NULL || line == 0)) {
		abort();
	}
	free(st);
	free(again);
	return 0;
}
