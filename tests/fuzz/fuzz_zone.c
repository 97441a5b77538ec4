/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Fuzz harness: zone text -> zg_zone_load_string() -> full validation.
 * Exercises the loader (libzscanner callbacks, canonicalisation, node
 * building, sorting and merging) and every checker on whatever loads.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "zonegate/verify.h"
#include "zonegate/zone.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
	if (zg_zone_load_string(&zone, (const char *)data, size, "test.", &err) != 0) {
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
