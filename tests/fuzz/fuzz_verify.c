/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Fuzz harness for the RRSIG / NSEC / NSEC3 / DNSKEY / ZONEMD checkers with
 * arbitrary (possibly malformed) rdata, bypassing the zone-file parser.
 *
 * Input: records of [owner index: 1][type: 2][rdlength: 2][rdata], added to
 * a zone "test." that has an SOA; owners come from a fixed list (apex,
 * names, a delegation and glue, an NSEC3-looking owner). Then the zone is
 * validated whole, and the first owner again through the per-node API.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libknot/descriptor.h>
#include <libknot/dname.h>

#include "validate/verify.h"
#include "validate/zone.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const owners[] = {
	"test.", "a.test.", "b.a.test.", "*.w.test.", "d.test.", "ns.d.test.",
	"jo4p9lu3srrfu4qlqihkjan5niuabge5.test.", "z.test.",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t names[8][KNOT_DNAME_MAXLEN];
	for (int i = 0; i < 8; i++) {
		knot_dname_from_str(names[i], owners[i], KNOT_DNAME_MAXLEN);
	}
	zg_zone_t *zone = NULL;
	if (zg_zone_new(&zone, names[0]) != 0) {
		return 0;
	}
	static const uint8_t soa[] = { 2, 'n', 's', 0, 2, 'h', 'm', 0, 0, 0, 0, 1,
	                               0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1 };
	zg_zone_add(zone, names[0], KNOT_RRTYPE_SOA, 300, soa, sizeof(soa));
	size_t pos = 0;
	while (pos + 5 <= size) {
		uint8_t o = data[pos] & 7;
		uint16_t type = (uint16_t)(data[pos + 1] << 8 | data[pos + 2]);
		uint16_t len = (uint16_t)(data[pos + 3] << 8 | data[pos + 4]);
		pos += 5;
		if (len > size - pos) {
			len = (uint16_t)(size - pos);
		}
		zg_zone_add(zone, names[o], type, 300, data + pos, len);
		pos += len;
	}
	if (zg_zone_finalize(zone) == 0) {
		zg_report_t report;
		zg_report_init(&report);
		zg_verify_opts_t opts = { .now = 1735689600, .horizon = 86400, .threads = 1 };
		zg_verifier_t *v = NULL;
		zg_verify_worker_t *w = NULL;
		if (zg_verifier_new(&v, zone, &opts, &report) == 0 && zg_verify_zone(v, &report) == 0 &&
		    zg_verify_worker_new(&w) == 0) {
			zg_node_t *n = zg_zone_first(zone);
			if (n != NULL) {
				zg_verify_node(v, w, n, &report);
			}
			zg_verify_zonemd(v, &report);
		}
		zg_verify_worker_free(w);
		zg_verifier_free(v);
		zg_report_deinit(&report);
	}
	zg_zone_free(zone);
	return 0;
}
