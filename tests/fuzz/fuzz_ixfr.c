/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Fuzz harness: the IXFR/AXFR stream parser (lib/dns/xfr.c) over a real
 * loopback TCP connection (tests/fuzz/fuzz_net.h serves the input as the
 * server's messages), then what mod-validate does with the result: an IXFR
 * diff is applied to a shadow of a small zone and validated incrementally,
 * a whole zone (AXFR, or an AXFR-style IXFR answer) validated whole.
 *
 * Input: one byte of mode (bit 0: AXFR instead of IXFR; bit 1: the request
 * is TSIG-signed and answers must be too; bits 2-3: the serial asked from,
 * 1 to 4), then the server's messages as fuzz_net.h chunks. Zone: test.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libknot/libknot.h>

#include "dns/xfr.h"
#include "fuzz_net.h"
#include "validate/incr.h"
#include "validate/verify.h"
#include "validate/zone.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The shadow zone an IXFR applies to: serial 1, unsigned (the checks run
 * and report; the harness looks for crashes, leaks and hangs). */
static const char base_zone[] =
	"$ORIGIN test.\n$TTL 300\n@ SOA ns hm 1 3600 900 604800 300\n@ NS ns\n"
	"ns A 192.0.2.1\nwww A 192.0.2.2\nsub NS ns.sub\nns.sub A 192.0.2.3\n"
	"a.b.ent TXT \"x\"\n";

static fz_server_t srv;
static bool srv_ok;

static void validate_zone(const zg_zone_t *zone)
{
	zg_report_t r;
	zg_report_init(&r);
	zg_verify_opts_t vo = { .now = 1735689600, .threads = 1 };
	zg_verifier_t *v = NULL;
	if (zg_verifier_new(&v, zone, &vo, &r) == 0) {
		zg_verify_zone(v, &r);
	}
	zg_verifier_free(v);
	zg_report_deinit(&r);
}

static void apply_diff(const zg_diff_t *diff)
{
	zg_zone_t *z = NULL;
	if (zg_zone_load_string(&z, base_zone, sizeof(base_zone) - 1, "test.", NULL) != 0) {
		abort();
	}
	zg_incr_t *in = NULL;
	if (zg_incr_new(&in, z) != 0) {
		return;
	}
	zg_verify_opts_t vo = { .now = 1735689600, .threads = 1 };
	zg_report_t r;
	zg_report_init(&r);
	zg_incr_verify(in, &vo, &r, NULL);
	zg_report_deinit(&r);
	if (zg_incr_apply_diff(in, diff) == 0) {
		zg_report_init(&r);
		zg_incr_verify(in, &vo, &r, NULL);
		zg_report_deinit(&r);
	}
	zg_incr_free(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > (1 << 20)) {
		return 0;
	}
	if (!srv_ok) {
		if (fz_server_init(&srv) != 0) {
			abort();
		}
		srv_ok = true;
	}
	static knot_tsig_key_t key;
	static bool key_ok;
	if (!key_ok) {
		knot_tsig_key_init_str(&key, "hmac-sha256:fuzz.:c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0");
		key_ok = true;
	}
	uint8_t mode = data[0];
	uint8_t zone[] = "\x04test";
	zg_xfr_peer_t peer = {
		.addr = &srv.addr,
		.key = (mode & 2) && key.name != NULL ? &key : NULL,
		.zone = zone,
		.timeout_ms = 2000,
	};
	if (fz_server_start(&srv, data + 1, size - 1, true) != 0) {
		abort();
	}
	char reason[256];
	zg_zone_t *full = NULL;
	if (mode & 1) {
		int ret = zg_xfr_axfr(&peer, &full, reason, sizeof(reason));
		if (getenv("ZG_FUZZ_DEBUG") != NULL) {
			fprintf(stderr, "axfr: ret %d%s%s\n", ret, ret != 0 ? ": " : "",
			        ret != 0 ? reason : "");
		}
		if (ret != 0) {
			full = NULL;
		}
	} else {
		zg_diff_t diff;
		zg_diff_init(&diff);
		zg_xfr_kind_t kind = ZG_XFR_UPTODATE;
		uint32_t from = 1 + ((mode >> 2) & 3);
		int ret = zg_xfr_ixfr(&peer, from, &diff, &full, &kind, reason, sizeof(reason));
		if (getenv("ZG_FUZZ_DEBUG") != NULL) {  /* what a seed reaches */
			fprintf(stderr, "ixfr: ret %d kind %d changes %zu%s%s\n", ret, (int)kind,
			        diff.count, ret != 0 ? ": " : "", ret != 0 ? reason : "");
		}
		if (ret == 0 && kind == ZG_XFR_IXFR) {
			size_t pos = 0, n = 0;
			zg_diff_change_t ch;
			while (zg_diff_next(&diff, &pos, &ch)) {
				n++;
			}
			if (n != diff.count) {
				abort();  /* the iteration must see every stored change */
			}
			if (from == 1) {
				apply_diff(&diff);
			}
		}
		if (ret != 0) {
			full = NULL;
		}
		zg_diff_deinit(&diff);
	}
	fz_server_stop(&srv);
	if (full != NULL) {
		validate_zone(full);
		zg_zone_free(full);
	}
	return 0;
}
