/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <stdio.h>
#include <string.h>

#include "dsync/checkds.h"
#include "dsync/ds.h"
#include "dsync/parents.h"

#define MAX_SERVERS 64

/*
 * What authenticates the parent's DNSKEY RRset: the trust anchor when it is
 * the parent's own, else the keys of the parent authenticated by the chain
 * from the anchor down (through the resolver) into *chain. Without either,
 * cin gets no anchor and only TSIG-authenticated parent servers count; err
 * then says why.
 */
static void anchor_keys(const zg_parents_conf_t *c, const knot_dname_t *parent, uint32_t now,
                        zg_checkds_input_t *cin, knot_rdataset_t *chain, char *err, size_t errlen)
{
	if (c->ta_owner == NULL) {
		snprintf(err, errlen, "no trust anchor, and the answers are not tsig-signed");
		return;
	}
	if (parent != NULL && knot_dname_is_case_equal(c->ta_owner, parent)) {
		cin->ta_ds = c->ta_ds;
		cin->ta_dnskey = c->ta_dnskey;
		return;
	}
	if (c->resolver == NULL) {
		snprintf(err, errlen, "no resolver for the trust chain from %.200s",
		         c->ta_path != NULL ? c->ta_path : "the trust anchor");
		return;
	}
	zg_stub_opts_t opts = { .timeout_ms = c->timeout_ms, .udp_tries = c->tries };
	if (parent != NULL && zg_anchor_chain(c->resolver, &opts, c->ta_owner, c->ta_ds,
	                                      c->ta_dnskey, parent, now, chain, err, errlen) == 0) {
		cin->ta_dnskey = chain;
	}
}

bool zg_parents_check(const zg_parents_conf_t *c, const knot_dname_t *zone,
                      const zg_child_view_t *v, const char *tags, uint32_t now,
                      zg_interlock_in_t *in, char *why, size_t whylen)
{
	size_t n = c->nservers < MAX_SERVERS ? c->nservers : MAX_SERVERS;
	zg_parent_view_t pv[MAX_SERVERS];
	memset(pv, 0, sizeof(pv));
	zg_stub_opts_t opts = { .timeout_ms = c->timeout_ms, .udp_tries = c->tries };
	bool matched = true;
	uint32_t ttl = 0;
	for (size_t i = 0; i < n; i++) {
		if (c->stopping != NULL && c->stopping(c->stopping_arg)) {
			/* Unloading: do not hold it for the other servers. */
			for (size_t j = 0; j < i; j++) {
				zg_parent_view_deinit(&pv[j]);
			}
			return false;
		}
		char err[256];
		opts.tsig = c->keys != NULL && c->keys[i].name != NULL ? &c->keys[i] : NULL;
		int ret = zg_parent_view_fetch(&pv[i], &c->servers[i], zone, &opts, err, sizeof(err));
		if (ret != 0) {
			if (matched) {
				snprintf(why, whylen, "parent server %s: %s", c->servers[i].name, err);
			}
			matched = false;
		}
	}
	knot_rdataset_t chain;
	knot_rdataset_init(&chain);
	if (matched) {
		char chain_err[256] = "";
		zg_checkds_input_t cin = {
			.zone = zone, .parents = pv, .nparents = n,
			.children = v, .nchildren = 1,
			.now = now,
			.require_auth = true,
		};
		bool all_tsig = true;
		for (size_t i = 0; i < n; i++) {
			all_tsig = all_tsig && pv[i].tsig;
		}
		if (!all_tsig) {
			/* Every server's answers authenticated by TSIG need no chain. */
			anchor_keys(c, pv[0].parent, now, &cin, &chain, chain_err, sizeof(chain_err));
			if (cin.ta_ds == NULL && cin.ta_dnskey == NULL) {
				cin.anchor_error = chain_err;
			}
		}
		zg_checkds_report_t rep;
		if (zg_checkds_evaluate(&cin, &rep) != 0) {
			matched = false;
			snprintf(why, whylen, "evaluation failed");
		}
		for (size_t i = 0; matched && i < rep.nfindings; i++) {
			if (rep.findings[i].state == ZG_CHECKDS_BROKEN) {
				matched = false;
				snprintf(why, whylen, "%s", rep.findings[i].text);
			}
		}
		in->unauthenticated = rep.unauthenticated;
		for (size_t i = 0; matched && i < n; i++) {
			if (!zg_checkds_parent_serves(&pv[i], v)) {
				char t[256];
				matched = false;
				snprintf(why, whylen, "parent server %s serves ds %s, not yet for key %s",
				         c->servers[i].name, zg_tags_str(&pv[i].ds.rr.rrs, false, t, sizeof(t)),
				         tags != NULL ? tags : "");
			} else if (pv[i].ds.rr.ttl > ttl) {
				ttl = pv[i].ds.rr.ttl;
			}
		}
	}
	for (size_t i = 0; i < n; i++) {
		zg_parent_view_deinit(&pv[i]);
	}
	knot_rdataset_clear(&chain, NULL);
	in->matched = matched;
	in->why = why;
	in->ds_ttl = ttl;
	return true;
}
