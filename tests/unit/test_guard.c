/* SPDX-License-Identifier: GPL-3.0-or-later */
/* dsync/guard.h: mod-dsync's CDS/CDNSKEY guard without knotd. */
#include <errno.h>
#include <string.h>
#include <syslog.h>

#include <libknot/consts.h>

#include "core/error.h"
#include "dsync/guard.h"
#include "tap.h"

static uint8_t buf_a[8] = { 0, 4, 1, 2, 3, 4 }, buf_b[8] = { 0, 4, 9, 9, 9, 9 };

static knot_rdataset_t set(uint8_t *buf, uint16_t count)
{
	knot_rdataset_t r = { .count = count, .size = count ? 6 : 0,
	                      .rdata = count ? (knot_rdata_t *)buf : NULL };
	return r;
}

static zg_guard_in_t checked_in(int check_ret, const char *why, uint64_t h)
{
	zg_guard_in_t in = { .server = "127.0.0.1@53", .check_ret = check_ret, .why = why,
	                     .set_hash = h };
	return in;
}

int main(void)
{
	plan_lazy();
	knot_rdataset_t key = set(buf_a, 1), cds = set(buf_b, 1), none = set(NULL, 0);
	uint64_t h = zg_guard_set_hash(&key, &cds, &none);
	ok((h & 1) == 0, "set hash has the low bit clear");
	ok(h != zg_guard_set_hash(&key, &none, &cds), "CDS and CDNSKEY are told apart");

	zg_guard_t g;
	zg_guard_out_t out;
	zg_guard_init(&g);
	is_int(g.state, ZG_GUARD_UNKNOWN, "starts unknown");
	is_int(zg_guard_served(g.checked, &key, &cds, &none), ZG_GUARD_UNCHECKED,
	       "nothing checked: a published set is withheld, the worker woken");
	is_int(zg_guard_served(g.checked, &key, &none, &none), ZG_GUARD_PASS,
	       "no CDS/CDNSKEY at all: passes");

	zg_guard_in_t in = { .server = "127.0.0.1@53", .fetch_ret = ZG_ETIMEOUT, .fetch_err = "timed out" };
	zg_guard_step(&g, &in, &out);
	ok(out.log && out.level == LOG_WARNING, "a failed fetch is logged");
	is_str(out.text, "failed to check cds/cdnskey (server 127.0.0.1@53, timed out), "
	       "withholding them until checked", "while unknown it says they are withheld");
	ok(!out.safe && g.state == ZG_GUARD_UNKNOWN && g.checked == 0, "and changes nothing");
	zg_guard_step(&g, &in, &out);
	ok(!out.log, "the same failure again is not logged again");

	in = checked_in(0, "cds 1/13/2 signed by a key of the dnskey set", h);
	zg_guard_step(&g, &in, &out);
	ok(out.safe && g.state == ZG_GUARD_SAFE && g.checked == (h | 1), "a safe set: safe, marked");
	ok(out.log && out.level == LOG_INFO, "first check logged at info");
	is_str(out.text, "cds/cdnskey checked, serving them (cds 1/13/2 signed by a key of the dnskey set)",
	       "the line");
	is_int(zg_guard_served(g.checked, &key, &cds, &none), ZG_GUARD_PASS, "the hooks pass it");
	knot_rdataset_t cds2 = set(buf_a, 1);
	is_int(zg_guard_served(g.checked, &key, &cds2, &none), ZG_GUARD_UNCHECKED,
	       "another set is withheld until checked");
	zg_guard_step(&g, &in, &out);
	ok(out.safe && !out.log && out.unsafe == 0, "steady safe: no log");

	uint64_t h2 = zg_guard_set_hash(&key, &cds2, &none);
	in = checked_in(ZG_EVALIDATION, "cds for key 9/13 that does not sign the dnskey rrset", h2);
	zg_guard_step(&g, &in, &out);
	ok(!out.safe && g.state == ZG_GUARD_UNSAFE && g.checked == h2, "an unsafe set: unsafe, marked");
	ok(out.log && out.level == LOG_ERR && out.unsafe == 1, "logged as an error, counted");
	is_str(out.text, "unsafe cds/cdnskey, answering servfail (cds for key 9/13 that does not "
	       "sign the dnskey rrset)", "the line");
	is_int(zg_guard_served(g.checked, &key, &cds2, &none), ZG_GUARD_WITHHOLD, "the hooks withhold it");
	is_int(zg_guard_served(g.checked, &key, &cds, &none), ZG_GUARD_UNCHECKED,
	       "the earlier safe set is no longer the checked one");
	zg_guard_step(&g, &in, &out);
	ok(!out.log && out.unsafe == 0, "the same reason again: not logged, not counted");
	in.why = "another reason";
	zg_guard_step(&g, &in, &out);
	ok(out.log && out.unsafe == 1, "a new reason is logged and counted");

	in = checked_in(-ENOMEM, "", h);
	zg_guard_step(&g, &in, &out);
	ok(out.log && out.level == LOG_WARNING && g.state == ZG_GUARD_UNSAFE && g.checked == h2,
	   "a check error is logged and changes nothing");
	in = (zg_guard_in_t){ .server = "s", .fetch_ret = ZG_ETIMEOUT, .fetch_err = "timed out" };
	zg_guard_step(&g, &in, &out);
	is_str(out.text, "failed to check cds/cdnskey (server s, timed out)",
	       "a failed fetch when checked before does not say withheld");

	in = checked_in(0, "ok", h);
	zg_guard_step(&g, &in, &out);
	ok(out.safe && out.level == LOG_NOTICE, "safe again: notice");
	is_str(out.text, "cds/cdnskey safe again, serving them (ok)", "the line");

	/* The hooks' decision on a guarded query or transfer. */
	zg_guard_action_t a = zg_guard_decide(ZG_GUARD_PASS, false);
	ok(a.rcode == KNOT_RCODE_NOERROR && !a.wake, "a set that may go out: answered as usual");
	a = zg_guard_decide(ZG_GUARD_PASS, true);
	ok(a.rcode == KNOT_RCODE_NOERROR && !a.wake, "and transferred");
	a = zg_guard_decide(ZG_GUARD_UNCHECKED, false);
	ok(a.rcode == KNOT_RCODE_SERVFAIL && a.wake && strcmp(a.why, "not checked yet") == 0,
	   "a set not checked yet: servfail, the worker woken");
	a = zg_guard_decide(ZG_GUARD_UNCHECKED, true);
	ok(a.rcode == KNOT_RCODE_REFUSED && a.wake && strcmp(a.why, "not checked yet") == 0,
	   "its transfer refused, the worker woken");
	a = zg_guard_decide(ZG_GUARD_WITHHOLD, false);
	ok(a.rcode == KNOT_RCODE_SERVFAIL && !a.wake && strcmp(a.why, "unsafe") == 0,
	   "an unsafe set: servfail, no wake-up");
	a = zg_guard_decide(ZG_GUARD_WITHHOLD, true);
	ok(a.rcode == KNOT_RCODE_REFUSED && !a.wake && strcmp(a.why, "unsafe") == 0,
	   "its transfer refused");
	return done_testing();
}
