/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Fuzz harness: zone text -> zg_zone_load_string() -> full validation.
 * Exercises the loader (libzscanner callbacks, canonicalisation, node
 * building, sorting and merging) and every checker on whatever loads.
 * The same text loaded in parallel parts (zg_zone_load_string_opts()) must
 * give the same result and the same zone, and the cuts must be increasing
 * line starts; any difference aborts.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "validate/verify.h"
#include "validate/zone.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same_zone(const zg_zone_t *a, const zg_zone_t *b)
{
	size_t na, nb, ha, hb, ra, rb;
	zg_zone_counts(a, &na, &ha, &ra);
	zg_zone_counts(b, &nb, &hb, &rb);
	if (na != nb || ha != hb || ra != rb) {
		return false;
	}
	for (int t = 0; t < 2; t++) {
		zg_node_t *x = t ? zg_zone_nsec3_first(a) : zg_zone_first(a);
		zg_node_t *y = t ? zg_zone_nsec3_first(b) : zg_zone_first(b);
		for (; x != NULL && y != NULL; x = zg_node_next(x), y = zg_node_next(y)) {
			size_t kx, ky;
			const uint8_t *px = zg_node_key(x, &kx), *py = zg_node_key(y, &ky);
			if (kx != ky || memcmp(px, py, kx) != 0 ||
			    zg_node_flags(x) != zg_node_flags(y) ||
			    zg_node_rrset_count(x) != zg_node_rrset_count(y)) {
				return false;
			}
			for (unsigned i = 0; i < zg_node_rrset_count(x); i++) {
				const zg_rrset_t *sx = zg_node_rrset_at(x, i), *sy = zg_node_rrset_at(y, i);
				if (sx->type != sy->type || sx->covered != sy->covered ||
				    sx->ttl != sy->ttl || sx->count != sy->count || sx->size != sy->size ||
				    memcmp(sx->data, sy->data, sx->size) != 0) {
					return false;
				}
			}
		}
		if (x != NULL || y != NULL) {
			return false;
		}
	}
	return true;
}

/* Parallel parts against the one-piece load \a whole (NULL if it failed with \a ret). */
static void check_parts(const uint8_t *data, size_t size, const zg_zone_t *whole, int ret)
{
	size_t cuts[ZG_LOAD_MAX_PARTS];
	unsigned n = zg_zone_text_split((const char *)data, size, 3, cuts);
	for (unsigned i = 0; i + 1 < n; i++) {
		if (cuts[i] == 0 || cuts[i] >= size || data[cuts[i] - 1] != '\n' ||
		    (i > 0 && cuts[i] <= cuts[i - 1])) {
			abort();
		}
	}
	zg_zone_t *zone = NULL;
	zg_load_error_t err;
	zg_load_opts_t opts = { .threads = 3 };
	int pret = zg_zone_load_string_opts(&zone, (const char *)data, size, "test.", &opts, &err);
	if (pret != ret || (ret == 0 && !same_zone(whole, zone))) {
		abort();
	}
	zg_zone_free(zone);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1 << 20) {
		return 0;
	}
	/* No $INCLUDE: the harness must not read the file system. */
	for (size_t i = 0; i + 8 <= size; i++) {
		if (data[i] == '$' && strncasecmp((const char *)data + i, "$INCLUDE", 8) == 0) {
			return 0;
		}
	}
	zg_zone_t *zone = NULL;
	zg_load_error_t err;
	int ret = zg_zone_load_string(&zone, (const char *)data, size, "test.", &err);
	check_parts(data, size, zone, ret);
	if (ret != 0) {
		return 0;
	}
	zg_report_t report;
	zg_report_init(&report);
	zg_verify_opts_t opts = { .now = 1735689600, .horizon = 86400, .threads = 1 };
	zg_verifier_t *v = NULL;
	if (zg_verifier_new(&v, zone, &opts, &report) == 0) {
		zg_verify_zone(v, &report);
	}
	zg_verifier_free(v);
	zg_report_deinit(&report);
	zg_zone_free(zone);
	return 0;
}
