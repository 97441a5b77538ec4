/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include <libknot/consts.h>

#include "core/error.h"
#include "core/hash.h"
#include "dsync/guard.h"

uint64_t zg_guard_rdataset_hash(const knot_rdataset_t *rrs)
{
	return zg_fnv1a(ZG_FNV1A_INIT, rrs->rdata, rrs->size) ^ rrs->count;
}

uint64_t zg_guard_set_hash(const knot_rdataset_t *dnskey, const knot_rdataset_t *cds,
                           const knot_rdataset_t *cdnskey)
{
	uint64_t h = zg_guard_rdataset_hash(dnskey);
	h = (h ^ zg_guard_rdataset_hash(cds)) * ZG_FNV1A_PRIME;
	h = (h ^ zg_guard_rdataset_hash(cdnskey)) * ZG_FNV1A_PRIME;
	return h & ~1ULL;
}

void zg_guard_init(zg_guard_t *g)
{
	memset(g, 0, sizeof(*g));
}

void zg_guard_step(zg_guard_t *g, const zg_guard_in_t *in, zg_guard_out_t *out)
{
	memset(out, 0, sizeof(*out));
	if (in->fetch_ret != 0) {
		if (in->fetch_ret != g->last_err) {
			out->log = true;
			out->level = LOG_WARNING;
			snprintf(out->text, sizeof(out->text), "failed to check cds/cdnskey (server %s, %s)%s",
			         in->server != NULL ? in->server : "-",
			         in->fetch_err != NULL ? in->fetch_err : zg_strerror(in->fetch_ret),
			         g->state == ZG_GUARD_UNKNOWN ? ", withholding them until checked" : "");
			g->last_err = in->fetch_ret;
		}
		return;
	}
	g->last_err = 0;
	const char *why = in->why != NULL ? in->why : "";
	zg_guard_state_t old = g->state;
	if (in->check_ret == 0 || in->check_ret == ZG_EVALIDATION) {
		g->checked = (in->set_hash & ~1ULL) | (in->check_ret == 0 ? 1 : 0);
	}
	if (in->check_ret == 0) {
		g->state = ZG_GUARD_SAFE;
		if (old != ZG_GUARD_SAFE) {
			out->log = true;
			out->level = old == ZG_GUARD_UNSAFE ? LOG_NOTICE : LOG_INFO;
			snprintf(out->text, sizeof(out->text), "cds/cdnskey %s, serving them (%s)",
			         old == ZG_GUARD_UNSAFE ? "safe again" : "checked", why);
		}
		g->last[0] = '\0';
		out->safe = true;
	} else if (in->check_ret == ZG_EVALIDATION) {
		g->state = ZG_GUARD_UNSAFE;
		if (old != ZG_GUARD_UNSAFE || strcmp(g->last, why) != 0) {
			out->log = true;
			out->level = LOG_ERR;
			snprintf(out->text, sizeof(out->text), "unsafe cds/cdnskey, answering servfail (%s)",
			         why);
			out->unsafe = 1;
			snprintf(g->last, sizeof(g->last), "%s", why);
		}
	} else {
		out->log = true;
		out->level = LOG_WARNING;
		snprintf(out->text, sizeof(out->text), "failed to check cds/cdnskey (%s)",
		         zg_strerror(in->check_ret));
	}
}

zg_guard_verdict_t zg_guard_served(uint64_t checked, const knot_rdataset_t *dnskey,
                                   const knot_rdataset_t *cds, const knot_rdataset_t *cdnskey)
{
	if (cds->count == 0 && cdnskey->count == 0) {
		return ZG_GUARD_PASS;
	}
	uint64_t h = zg_guard_set_hash(dnskey, cds, cdnskey);
	if (checked == (h | 1)) {
		return ZG_GUARD_PASS;
	}
	return (checked & ~1ULL) != h ? ZG_GUARD_UNCHECKED : ZG_GUARD_WITHHOLD;
}

zg_guard_action_t zg_guard_decide(zg_guard_verdict_t verdict, bool xfr)
{
	zg_guard_action_t a = { .rcode = KNOT_RCODE_NOERROR };
	if (verdict == ZG_GUARD_PASS) {
		return a;
	}
	a.wake = verdict == ZG_GUARD_UNCHECKED;
	a.why = a.wake ? "not checked yet" : "unsafe";
	a.rcode = xfr ? KNOT_RCODE_REFUSED : KNOT_RCODE_SERVFAIL;
	return a;
}
