/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Fuzz harness: resolver answers (lib/dns/resolver.c) as zg-checkds and
 * mod-dsync take them, over real loopback UDP (and TCP after a truncated
 * answer; tests/fuzz/fuzz_net.h serves the input as the answers): the child
 * view of test. (DNSKEY, CDS, CDNSKEY), the parent view (DS, the parent's
 * DNSKEY), server discovery through a "resolver" (NS, then A and AAAA of
 * each name server), and the DS/CDS evaluation of what was collected.
 *
 * Input: one byte of mode (bit 0: RD set, answers need no AA bit; bit 1:
 * discovery of the parent's servers instead of the child's; bit 2: the CDS
 * delete form allowed), then the
 * answers as fuzz_net.h chunks, one per query in the order above.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libknot/libknot.h>

#include "dns/resolver.h"
#include "dsync/checkds.h"
#include "dsync/ds.h"
#include "fuzz_net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static fz_server_t srv;
static bool srv_ok;

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
	uint8_t mode = data[0];
	zg_server_t server;
	zg_server_set(&server, (const struct sockaddr *)&srv.addr);
	zg_stub_opts_t opts = { .timeout_ms = 300, .udp_tries = 1, .rd = mode & 1 };
	const uint8_t zone[] = "\x04test\x03sub";
	char err[256];
	if (fz_server_start(&srv, data + 1, size - 1, false) != 0) {
		abort();
	}
	zg_child_view_t child;
	zg_parent_view_t parent;
	int cret = zg_child_view_fetch(&child, &server, zone, &opts, err, sizeof(err));
	int pret = zg_parent_view_fetch(&parent, &server, zone, &opts, err, sizeof(err));
	zg_server_t *found = NULL;
	size_t nfound = 0;
	if (zg_stub_discover(&server, zone, mode & 2, &opts, &found, &nfound) == 0) {
		if (nfound == 0 || found == NULL) {
			abort();  /* success promises at least one address */
		}
	}
	if (getenv("ZG_FUZZ_DEBUG") != NULL) {  /* what a seed reaches */
		fprintf(stderr, "child %d parent %d (%s) discovered %zu\n", cret, pret,
		        cret != 0 || pret != 0 ? err : "", nfound);
	}
	free(found);
	fz_server_stop(&srv);
	if (cret == 0 && pret == 0) {
		zg_checkds_input_t in = {
			.zone = zone, .parents = &parent, .nparents = 1,
			.children = &child, .nchildren = 1, .now = 1735689600,
		};
		zg_checkds_report_t rep;
		zg_checkds_evaluate(&in, &rep);
		zg_checkds_parent_serves(&parent, &child);
	}
	if (cret == 0) {
		zg_cds_check_published(&child, 1735689600, mode & 4, err, sizeof(err));
	}
	zg_child_view_deinit(&child);
	zg_parent_view_deinit(&parent);
	return 0;
}
