/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Incremental validation (lib/validate/incr.c) against whole-zone validation on the
 * same data: for each change set applied to the signed NSEC3 fixture, the
 * incremental verdict equals the verdict of a whole-zone run over a fresh copy
 * of the zone with the same changes. Also: the expiry structure, the number
 * of nodes checked, IXFR diff iteration.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libknot/descriptor.h>
#include <libknot/dname.h>
#include <libknot/errcode.h>

#include "core/error.h"
#include "validate/incr.h"
#include "validate/verify.h"
#include "dns/xfr.h"
#include "validate/zone.h"
#include "tap.h"

#define T_2025 1735689600LL   /* fixtures are valid 2024-01-01 .. 2030-01-01 */
#define EXP_2030 1893456000LL /* 20300101000000 */

static char *fixture(const char *name)
{
	static char path[4096];
	const char *src = getenv("ZG_SRCDIR");
	snprintf(path, sizeof(path), "%s/tests/data/verify/%s", src ? src : ".", name);
	return path;
}

static zg_zone_t *load(void)
{
	zg_zone_t *z = NULL;
	zg_load_error_t err;
	if (zg_zone_load_file(&z, fixture("nsec3.zone"), NULL, &err) != 0) {
		diag("cannot load: %s:%llu: %s", err.file, (unsigned long long)err.line, err.reason);
		return NULL;
	}
	return z;
}

typedef struct {
	bool add;
	uint8_t owner[256];
	uint16_t type;
	uint32_t ttl;
	uint8_t rd[1024];
	uint16_t len;
} op_t;

static op_t ops[16];
static size_t nops;
/* Changes made to the base zone before the first validation (check_errors()). */
static op_t pre[16];
static size_t npre;

static zg_node_t *node_of(zg_zone_t *z, const uint8_t *owner)
{
	zg_node_t *n = zg_zone_find(z, owner);
	if (n == NULL && owner[0] > 0) {
		uint8_t hash[64];
		int hl = zg_base32hex_decode(owner + 1, owner[0], hash, sizeof(hash));
		if (hl > 0) {
			n = zg_zone_find_nsec3(z, hash, (size_t)hl);
		}
	}
	return n;
}

/* Queues an operation with explicit rdata. */
static void op_raw(bool add, const char *owner, uint16_t type, const void *rd, uint16_t len)
{
	op_t *o = &ops[nops++];
	o->add = add;
	knot_dname_from_str(o->owner, owner, sizeof(o->owner));
	o->type = type;
	o->ttl = 300;
	memcpy(o->rd, rd, len);
	o->len = len;
}

/* Queues the removal of the first RR of a type (RRSIG: covering \a covered) at owner. */
static bool op_remove_existing(zg_zone_t *z, const char *owner, uint16_t type, uint16_t covered)
{
	uint8_t name[256];
	knot_dname_from_str(name, owner, sizeof(name));
	zg_node_t *n = node_of(z, name);
	const zg_rrset_t *set = n == NULL ? NULL : type == KNOT_RRTYPE_RRSIG
	                        ? zg_node_rrsig(n, covered) : zg_node_rrset(n, type);
	if (set == NULL) {
		diag("no %u at %s", type, owner);
		return false;
	}
	const uint8_t *rd = NULL;
	uint16_t len = 0;
	size_t pos = 0;
	if (!zg_rrset_next(set, &pos, &rd, &len)) {
		return false;
	}
	op_raw(false, owner, type, rd, len);
	return true;
}

static int apply_plain(zg_zone_t *z)
{
	for (size_t i = 0; i < nops; i++) {
		op_t *o = &ops[i];
		int ret = o->add ? zg_zone_add(z, o->owner, o->type, o->ttl, o->rd, o->len)
		                 : zg_zone_remove(z, o->owner, o->type, o->rd, o->len);
		if (ret != 0) {
			return ret;
		}
	}
	return 0;
}

static zg_verify_opts_t vopts = { .now = T_2025, .threads = 1 };

/* Moves the queued operations to the base changes of the next check_errors(). */
static void ops_to_base(void)
{
	memcpy(pre, ops, nops * sizeof(*ops));
	npre = nops;
	nops = 0;
}

static int apply_ops(zg_zone_t *z, const op_t *o, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int ret = o[i].add ? zg_zone_add(z, o[i].owner, o[i].type, o[i].ttl, o[i].rd, o[i].len)
		                   : zg_zone_remove(z, o[i].owner, o[i].type, o[i].rd, o[i].len);
		if (ret != 0) {
			return ret;
		}
	}
	return 0;
}

/* Whether every error "<owner> <TYPE>" of \a a is also one of \a b. */
static bool errors_within(const zg_report_t *a, const zg_report_t *b, char *missing, size_t mlen)
{
	for (size_t i = 0; i < a->len; i++) {
		const zg_report_item_t *x = &a->items[i];
		bool found = x->severity != ZG_SEV_ERROR;
		for (size_t k = 0; k < b->len && !found; k++) {
			const zg_report_item_t *y = &b->items[k];
			found = y->severity == ZG_SEV_ERROR && y->type == x->type &&
			        strcmp(y->owner, x->owner) == 0;
		}
		if (!found) {
			zg_report_item_str(x, missing, mlen);
			return false;
		}
	}
	return true;
}

/*
 * Like check_case(), on the base zone changed by the queued base operations
 * (valid, checked whole first), and comparing the errors themselves: the
 * incremental run must name every owner and type the whole-zone run names as
 * an error, and no other.
 */
static void check_errors(const char *name, bool want_valid)
{
	zg_zone_t *z = load();
	zg_incr_t *in = NULL;
	int ret = z == NULL ? -1 : apply_ops(z, pre, npre);
	if (ret != 0 || zg_incr_new(&in, z) != 0) {
		ok(false, "%s: setup", name);
		nops = npre = 0;
		return;
	}
	zg_report_t r0;
	zg_report_init(&r0);
	bool full = false;
	zg_incr_verify(in, &vopts, &r0, &full);
	ok(full && r0.errors == 0, "%s: the base is valid", name);
	zg_report_deinit(&r0);
	ret = 0;
	for (size_t i = 0; i < nops && ret == 0; i++) {
		op_t *o = &ops[i];
		ret = zg_incr_apply(in, o->add, o->owner, o->type, o->ttl, o->rd, o->len);
	}
	is_int(ret, 0, "%s: changes apply to the shadow", name);
	zg_report_t ri, rw;
	zg_report_init(&ri);
	zg_report_init(&rw);
	zg_incr_verify(in, &vopts, &ri, &full);
	ok(!full, "%s: incremental run", name);
	zg_zone_t *w = load();
	zg_verifier_t *v = NULL;
	if (w == NULL || apply_ops(w, pre, npre) != 0 || apply_ops(w, ops, nops) != 0 ||
	    zg_verifier_new(&v, w, &vopts, &rw) != 0 || zg_verify_zone(v, &rw) != 0) {
		diag("%s: whole-zone run failed", name);
	}
	is_int(rw.errors == 0, want_valid, "%s: whole-zone verdict is %s", name,
	       want_valid ? "valid" : "invalid");
	char missing[1024] = "";
	bool same = errors_within(&rw, &ri, missing, sizeof(missing));
	if (!ok(same, "%s: the incremental run names every error of the whole-zone run", name)) {
		diag("missing: %s", missing);
	}
	same = errors_within(&ri, &rw, missing, sizeof(missing));
	if (!ok(same, "%s: and no other", name)) {
		diag("extra: %s", missing);
	}
	zg_verifier_free(v);
	zg_report_deinit(&ri);
	zg_report_deinit(&rw);
	zg_zone_free(w);
	zg_incr_free(in);
	nops = npre = 0;
}

/* Runs one case: incremental vs whole-zone verdict on the queued changes. */
static void check_case(const char *name, bool want_valid)
{
	zg_zone_t *z = load();
	zg_incr_t *in = NULL;
	if (z == NULL || zg_incr_new(&in, z) != 0) {
		ok(false, "%s: setup", name);
		return;
	}
	zg_report_t r0;
	zg_report_init(&r0);
	bool full = false;
	is_int(zg_incr_verify(in, &vopts, &r0, &full), 0, "%s: first validation runs", name);
	ok(full && r0.errors == 0, "%s: first validation is whole-zone and valid", name);
	zg_report_deinit(&r0);

	int ret = 0;
	for (size_t i = 0; i < nops && ret == 0; i++) {
		op_t *o = &ops[i];
		ret = zg_incr_apply(in, o->add, o->owner, o->type, o->ttl, o->rd, o->len);
	}
	is_int(ret, 0, "%s: changes apply to the shadow", name);
	zg_report_t ri;
	zg_report_init(&ri);
	is_int(zg_incr_verify(in, &vopts, &ri, &full), 0, "%s: incremental validation runs", name);

	zg_zone_t *w = load();
	zg_report_t rw;
	zg_report_init(&rw);
	zg_verifier_t *v = NULL;
	if (w == NULL || apply_plain(w) != 0 || zg_verifier_new(&v, w, &vopts, &rw) != 0 ||
	    zg_verify_zone(v, &rw) != 0) {
		diag("%s: whole-zone run failed", name);
	}
	is_int(ri.errors == 0, rw.errors == 0, "%s: incremental verdict equals whole-zone verdict", name);
	is_int(rw.errors == 0, want_valid, "%s: verdict is %s", name, want_valid ? "valid" : "invalid");
	if ((ri.errors == 0) != (rw.errors == 0) || (rw.errors == 0) != want_valid) {
		char line[1024];
		for (size_t i = 0; i < rw.len; i++) {
			zg_report_item_str(&rw.items[i], line, sizeof(line));
			diag("whole: %s", line);
		}
		for (size_t i = 0; i < ri.len; i++) {
			zg_report_item_str(&ri.items[i], line, sizeof(line));
			diag("incr: %s", line);
		}
	}
	if (!full && want_valid) {
		size_t names = 0, nsec3 = 0;
		zg_zone_counts(zg_incr_zone(in), &names, &nsec3, NULL);
		ok(zg_incr_last_checked(in) < names + nsec3, "%s: checked %zu of %zu nodes", name,
		   zg_incr_last_checked(in), names + nsec3);
	}
	zg_verifier_free(v);
	zg_report_deinit(&ri);
	zg_report_deinit(&rw);
	zg_zone_free(w);
	zg_incr_free(in);
	nops = 0;
}

/*
 * Issue 20: diffs that replace every node again and again (each owner's RRs
 * removed and added back, its node shrinking to nothing and growing again
 * one RR at a time) leave the store's memory flat: the blocks of replaced
 * nodes are reused. Content, digest and verdict stay those of the zone.
 */
static void test_replace_cycles(void)
{
	enum { CYCLES = 40 };
	zg_zone_t *z = load();
	zg_incr_t *in = NULL;
	zg_digest_ctx_t *dctx = NULL;
	uint8_t key[ZG_DIGEST_KEY_LEN];
	zg_report_t r;
	zg_report_init(&r);
	bool full = false;
	if (z == NULL || zg_incr_new(&in, z) != 0 || zg_digest_key_new(key) != 0 ||
	    zg_digest_ctx_new(&dctx, key) != 0 || zg_incr_digest_start(in, dctx) != 0 ||
	    zg_incr_verify(in, &vopts, &r, &full) != 0 || r.errors > 0) {
		ok(false, "replace cycles: setup");
		zg_incr_free(in);
		zg_digest_ctx_free(dctx);
		zg_report_deinit(&r);
		return;
	}
	zg_report_deinit(&r);
	zg_digest_t d0, d;
	zg_incr_digest(in, &d0);
	size_t total0 = 0, total = 0, nfree = 0, nodes = 0;
	zg_zone_mem(z, &total0, NULL);
	zg_diff_t diff;
	zg_diff_init(&diff);
	int ret = 0, bad_verdict = 0, bad_digest = 0, incremental = 0;
	for (int c = 1; c <= CYCLES && ret == 0; c++) {
		zg_diff_clear(&diff);
		nodes = 0;
		zg_node_t *firsts[2] = { zg_zone_first(z), zg_zone_nsec3_first(z) };
		for (int t = 0; t < 2; t++) {
			for (zg_node_t *n = firsts[t]; n != NULL && ret == 0; n = zg_node_next(n)) {
				if (!(zg_node_flags(n) & ZG_NODE_APEX)) {
					ret = zg_zone_node_to_diff(n, false, &diff);
					ret = ret ? ret : zg_zone_node_to_diff(n, true, &diff);
					nodes++;
				}
			}
		}
		ret = ret ? ret : zg_incr_apply_diff(in, &diff);
		zg_report_init(&r);
		ret = ret ? ret : zg_incr_verify(in, &vopts, &r, &full);
		bad_verdict += r.errors > 0;
		incremental += !full;
		zg_report_deinit(&r);
		bad_digest += !zg_incr_digest(in, &d) || !zg_digest_equal(&d, &d0);
	}
	zg_zone_mem(z, &total, &nfree);
	is_int(ret, 0, "replace cycles: %d diffs of %zu owners applied and validated", CYCLES, nodes);
	is_int(bad_verdict, 0, "replace cycles: every validation valid");
	is_int(incremental, CYCLES, "replace cycles: every validation incremental");
	is_int(bad_digest, 0, "replace cycles: the content digest is that of the zone after every diff");
	/* Without reuse every replaced node would be new memory: twice the zone
	 * after the first diff. What the store keeps beyond the zone is the
	 * working set of a diff (this zone is tiny: 27 owners, each one through
	 * every size from nothing to whole; test_zone and bench/zonemem show
	 * large zones). */
	ok(total < total0 + total0 / 2, "replace cycles: %zu bytes for nodes of %zu loaded "
	   "(%zu in free blocks)", total, total0, nfree);
	zg_diff_deinit(&diff);
	zg_incr_free(in);
	zg_digest_ctx_free(dctx);
}

int main(void)
{
	plan_lazy();
	zg_zone_t *z = load();
	if (z == NULL) {
		skip_all("fixture not loadable");
	}

	/* Expiry structure. */
	zg_incr_t *in = NULL;
	is_int(zg_incr_new(&in, z), 0, "state over the fixture");
	is_int(zg_incr_earliest_expiry(in), EXP_2030, "earliest expiry found by the initial scan");
	uint8_t sig[64] = { 0, KNOT_RRTYPE_A, 13, 3, 0, 0, 1, 44, 0x70, 0, 0, 0 };
	/* expiration 0x70000000 (2029-07-14), inception 0, keytag 0, signer example.test. */
	uint8_t signer[] = "\x07""example""\x04""test";
	memcpy(sig + 18, signer, sizeof(signer));
	sig[18 + sizeof(signer)] = 0xaa;
	uint16_t siglen = 18 + sizeof(signer) + 1;
	uint8_t owner[256];
	knot_dname_from_str(owner, "mail.example.test.", sizeof(owner));
	is_int(zg_incr_apply(in, true, owner, KNOT_RRTYPE_RRSIG, 300, sig, siglen), 0, "add an RRSIG");
	is_int(zg_incr_earliest_expiry(in), 0x70000000, "earliest expiry follows an added RRSIG");
	is_int(zg_incr_apply(in, true, owner, KNOT_RRTYPE_RRSIG, 300, sig, siglen), 0, "add it twice");
	is_int(zg_incr_apply(in, false, owner, KNOT_RRTYPE_RRSIG, 300, sig, siglen), 0, "remove it");
	is_int(zg_incr_earliest_expiry(in), EXP_2030, "earliest expiry back after the removal");
	is_int(zg_incr_apply(in, false, owner, KNOT_RRTYPE_RRSIG, 300, sig, siglen), KNOT_ENOENT,
	       "removing an absent RR fails (diff does not fit)");
	zg_incr_free(in);

	/* Verdict equivalence. */
	zg_zone_t *ref = load();
	uint8_t a4[4] = { 192, 0, 2, 99 };
	uint8_t ns_x[] = "\x02""ns""\x04""else""\x07""example";

	check_case("no change", true);

	op_remove_existing(ref, "mail.example.test.", KNOT_RRTYPE_A, 0);
	uint8_t a_mail[4] = { 192, 0, 2, 2 };
	op_raw(true, "mail.example.test.", KNOT_RRTYPE_A, a_mail, 4);
	check_case("remove and re-add an A record", true);

	op_raw(true, "new.example.test.", KNOT_RRTYPE_NS, ns_x, sizeof(ns_x));
	check_case("insecure delegation added under opt-out", true);

	op_raw(true, "ns2.sub.example.test.", KNOT_RRTYPE_A, a4, 4);
	check_case("glue added below a delegation", true);

	op_remove_existing(ref, "secure.example.test.", KNOT_RRTYPE_RRSIG, KNOT_RRTYPE_DS);
	check_case("DS signature removed", false);

	op_raw(true, "txt.example.test.", KNOT_RRTYPE_A, a4, 4);
	check_case("unsigned A added at a signed name", false);

	/* A signature replaced by a copy with one bit flipped, with both
	 * P-256 verifiers (the fixture is ECDSA P-256). */
	for (int openssl = 0; openssl < 2; openssl++) {
		vopts.p256_openssl = openssl;
		uint8_t rd[1024];
		if (op_remove_existing(ref, "mail.example.test.", KNOT_RRTYPE_RRSIG, KNOT_RRTYPE_A)) {
			uint16_t len = ops[nops - 1].len;
			memcpy(rd, ops[nops - 1].rd, len);
			rd[len - 1] ^= 0x01;
			op_raw(true, "mail.example.test.", KNOT_RRTYPE_RRSIG, rd, len);
		}
		check_case(openssl ? "a signature corrupted (OpenSSL)" : "a signature corrupted", false);
	}
	vopts.p256_openssl = false;

	op_remove_existing(ref, "a1veaseodd2lkj8orhvbovlps5loali4.example.test.", KNOT_RRTYPE_NSEC3, 0);
	check_case("NSEC3 of a name removed", false);

	op_remove_existing(ref, "insecure.example.test.", KNOT_RRTYPE_NS, 0);
	op_remove_existing(ref, "86ec26j2m3vrg29a27jcpoqr2ne23uup.example.test.", KNOT_RRTYPE_NSEC3, 0);
	op_remove_existing(ref, "86ec26j2m3vrg29a27jcpoqr2ne23uup.example.test.", KNOT_RRTYPE_RRSIG,
	                   KNOT_RRTYPE_NSEC3);
	check_case("delegation and its NSEC3 removed (chain broken)", false);

	op_raw(true, "txt.example.test.", KNOT_RRTYPE_NS, ns_x, sizeof(ns_x));
	check_case("signed name turned into a delegation", false);

	op_remove_existing(ref, "mail.example.test.", KNOT_RRTYPE_A, 0);
	op_remove_existing(ref, "mail.example.test.", KNOT_RRTYPE_RRSIG, KNOT_RRTYPE_A);
	check_case("name removed, its NSEC3 left behind (orphan)", false);

	op_remove_existing(ref, "a.b.c.ent.example.test.", KNOT_RRTYPE_A, 0);
	op_remove_existing(ref, "a.b.c.ent.example.test.", KNOT_RRTYPE_RRSIG, KNOT_RRTYPE_A);
	check_case("leaf below empty non-terminals removed, NSEC3s left", false);

	op_raw(true, "a.b.c.ent.example.test.", KNOT_RRTYPE_NS, ns_x, sizeof(ns_x));
	check_case("ENT branch leaf turned into a delegation", false);

	op_remove_existing(ref, "example.test.", KNOT_RRTYPE_DNSKEY, 0);
	check_case("a DNSKEY removed (whole-zone fallback)", false);

	/* Empty non-terminals under opt-out (RFC 5155 7.1): x.ent2 holds two
	 * insecure delegations (the first with glue), so it may lack its NSEC3.
	 * A DS at the second one makes the NSEC3 of x.ent2 required: the check
	 * runs at the first delegation, which is neither changed nor a neighbour. */
	uint8_t ds[36] = { 0x30, 0x39, 13, 2 };
	uint8_t ns_a[] = "\x02""ns""\x01""a""\x01""x""\x04""ent2""\x07""example""\x04""test";
	op_raw(true, "a.x.ent2.example.test.", KNOT_RRTYPE_NS, ns_a, sizeof(ns_a));
	op_raw(true, "ns.a.x.ent2.example.test.", KNOT_RRTYPE_A, a4, 4);
	op_raw(true, "b.x.ent2.example.test.", KNOT_RRTYPE_NS, ns_x, sizeof(ns_x));
	ops_to_base();
	op_raw(true, "b.x.ent2.example.test.", KNOT_RRTYPE_DS, ds, sizeof(ds));
	check_errors("DS below an opted-out empty non-terminal", false);
	op_raw(true, "a.x.ent2.example.test.", KNOT_RRTYPE_NS, ns_a, sizeof(ns_a));
	op_raw(true, "ns.a.x.ent2.example.test.", KNOT_RRTYPE_A, a4, 4);
	op_raw(true, "b.x.ent2.example.test.", KNOT_RRTYPE_NS, ns_x, sizeof(ns_x));
	ops_to_base();
	op_raw(true, "c.x.ent2.example.test.", KNOT_RRTYPE_A, a4, 4);
	check_errors("data added below an opted-out empty non-terminal", false);
	op_raw(true, "a.x.ent2.example.test.", KNOT_RRTYPE_NS, ns_a, sizeof(ns_a));
	op_raw(true, "ns.a.x.ent2.example.test.", KNOT_RRTYPE_A, a4, 4);
	op_raw(true, "b.x.ent2.example.test.", KNOT_RRTYPE_NS, ns_x, sizeof(ns_x));
	ops_to_base();
	op_raw(true, "c.x.ent2.example.test.", KNOT_RRTYPE_NS, ns_x, sizeof(ns_x));
	check_errors("an insecure delegation added there (still valid)", true);

	/* A DNAME: the names below become occluded (their NSEC3s orphans). */
	uint8_t dname[] = "\x06""target""\x07""example";
	op_raw(true, "c.ent.example.test.", KNOT_RRTYPE_DNAME, dname, sizeof(dname));
	check_errors("DNAME added above signed names", false);

	/* A signature that expired on a name no change touches: the validation
	 * runs on the whole zone and reports it (the fixture's signatures all
	 * expire at EXP_2030; the change is an insecure delegation under opt-out,
	 * valid without new signatures). */
	zg_zone_t *ze = load();
	zg_incr_t *ie = NULL;
	if (ze != NULL && zg_incr_new(&ie, ze) == 0) {
		zg_report_t re;
		zg_report_init(&re);
		bool full = false;
		zg_incr_verify(ie, &vopts, &re, &full);
		ok(full && re.errors == 0, "expiry: first validation whole and valid");
		zg_report_deinit(&re);
		uint8_t downer[256];
		knot_dname_from_str(downer, "late.example.test.", sizeof(downer));
		is_int(zg_incr_apply(ie, true, downer, KNOT_RRTYPE_NS, 3600, ns_x, sizeof(ns_x)), 0,
		       "expiry: a delegation added");
		zg_report_init(&re);
		zg_verify_opts_t late = vopts;
		late.now = EXP_2030 + 1;
		is_int(zg_incr_verify(ie, &late, &re, &full), 0, "expiry: validation after expiry runs");
		ok(full, "expiry: an expired signature in the zone makes the validation whole-zone");
		size_t expired = 0;
		char line[1024];
		for (size_t i = 0; i < re.len; i++) {
			zg_report_item_str(&re.items[i], line, sizeof(line));
			if (re.items[i].severity == ZG_SEV_ERROR && strstr(line, "signature expired")) {
				expired++;
			}
		}
		size_t names = 0, nsec3 = 0;
		zg_zone_counts(zg_incr_zone(ie), &names, &nsec3, NULL);
		/* Besides them: the DNSKEY RRset has no valid KSK signature left. */
		ok(expired > 0 && expired + 1 == re.errors && zg_incr_last_checked(ie) == names + nsec3,
		   "expiry: the expired signatures reported (%zu of %zu errors, %zu of %zu nodes)",
		   expired, re.errors, zg_incr_last_checked(ie), names + nsec3);
		zg_report_deinit(&re);
		zg_report_init(&re);
		late.now = EXP_2030;
		zg_incr_apply(ie, false, downer, KNOT_RRTYPE_NS, 3600, ns_x, sizeof(ns_x));
		is_int(zg_incr_verify(ie, &late, &re, &full), 0, "expiry: validation at the expiry second");
		ok(re.errors == 0, "expiry: a signature is valid through its expiration second");
		zg_report_deinit(&re);
	} else {
		ok(false, "expiry: setup");
	}
	zg_incr_free(ie);

	zg_zone_free(ref);

	test_replace_cycles();

	/* IXFR diff iteration. */
	zg_diff_t d;
	zg_diff_init(&d);
	is_int((int)d.count, 0, "empty diff");
	zg_diff_change_t ch;
	size_t pos = 0;
	ok(!zg_diff_next(&d, &pos, &ch), "empty diff iterates nothing");
	zg_diff_deinit(&d);

	return done_testing();
}
