/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libknot/descriptor.h>
#include <libknot/dname.h>

#include "core/error.h"
#include "validate/crypto.h"
#include "validate/verify.h"
#include "validate/zone.h"
#include "tap.h"

#define T_2025 1735689600LL   /* fixtures are valid 2024-01-01 .. 2030-01-01 */

static char *fixture(const char *name)
{
	static char path[4096];
	const char *src = getenv("ZG_SRCDIR");
	snprintf(path, sizeof(path), "%s/tests/data/verify/%s", src ? src : ".", name);
	return path;
}

static const uint8_t *dn(const char *s)
{
	static uint8_t bufs[8][256];
	static int i;
	uint8_t *b = bufs[i++ % 8];
	knot_dname_from_str(b, s, 256);
	return b;
}

static zg_zone_t *load(const char *name)
{
	zg_zone_t *z = NULL;
	zg_load_error_t err;
	if (zg_zone_load_file(&z, fixture(name), NULL, &err) != 0) {
		diag("cannot load %s: %s:%llu: %s", name, err.file, (unsigned long long)err.line, err.reason);
		return NULL;
	}
	return z;
}

typedef struct {
	int64_t now;
	int64_t horizon;
	const zg_buf_t *ds;
	uint16_t ds_count;
	bool keep_zonemd;
	bool p256_openssl;
} run_opts_t;

/* Changed zones: the fixture's ZONEMD no longer matches; not the point. */
static const run_opts_t nozm = { .keep_zonemd = false };

static void run(zg_zone_t *z, const run_opts_t *o, zg_report_t *r)
{
	zg_verify_opts_t vo = { .now = o && o->now ? o->now : T_2025, .threads = 2,
	                        .skip_zonemd = o != NULL && !o->keep_zonemd };
	if (o != NULL) {
		vo.horizon = o->horizon;
		vo.p256_openssl = o->p256_openssl;
		if (o->ds != NULL) {
			vo.ds = o->ds->data;
			vo.ds_size = o->ds->len;
			vo.ds_count = o->ds_count;
		}
	}
	zg_report_init(r);
	zg_verifier_t *v = NULL;
	if (zg_verifier_new(&v, z, &vo, r) != 0 || zg_verify_zone(v, r) != 0) {
		diag("verification aborted");
	}
	zg_verifier_free(v);
}

static bool has(const zg_report_t *r, const char *needle)
{
	char line[2300];
	for (size_t i = 0; i < r->len; i++) {
		zg_report_item_str(&r->items[i], line, sizeof(line));
		if (strstr(line, needle) != NULL) {
			return true;
		}
	}
	return false;
}

static void dump(const zg_report_t *r)
{
	char line[2300];
	for (size_t i = 0; i < r->len && i < 20; i++) {
		zg_report_item_str(&r->items[i], line, sizeof(line));
		diag("  %s", line);
	}
}

#define expect(z, opts, needle, desc) do { \
	zg_report_t rep_; \
	run((z), (opts), &rep_); \
	if (!ok(has(&rep_, (needle)), "%s: reports '%s'", (desc), (needle))) { dump(&rep_); } \
	zg_report_deinit(&rep_); \
} while (0)

/* Copies the RRs of an RRset so they survive changes of the node. */
typedef struct {
	uint8_t data[8192];
	uint16_t len[32];
	size_t n;
} rrs_copy_t;

static void copy_rrs(const zg_rrset_t *s, rrs_copy_t *c)
{
	c->n = 0;
	size_t pos = 0, off = 0;
	const uint8_t *rd;
	uint16_t len;
	while (s != NULL && zg_rrset_next(s, &pos, &rd, &len) && c->n < 32) {
		memcpy(c->data + off, rd, len);
		c->len[c->n++] = len;
		off += len;
	}
}

static const uint8_t *copy_at(const rrs_copy_t *c, size_t i)
{
	size_t off = 0;
	for (size_t k = 0; k < i; k++) {
		off += c->len[k];
	}
	return c->data + off;
}

static void remove_rrsigs(zg_zone_t *z, const char *owner, uint16_t covered, int only_tag)
{
	rrs_copy_t c;
	copy_rrs(zg_node_rrsig(zg_zone_find(z, dn(owner)), covered), &c);
	for (size_t i = 0; i < c.n; i++) {
		const uint8_t *rd = copy_at(&c, i);
		if (only_tag >= 0 && ((rd[16] << 8) | rd[17]) != only_tag) {
			continue;
		}
		zg_zone_remove(z, dn(owner), KNOT_RRTYPE_RRSIG, rd, c.len[i]);
	}
}

static void test_nsec(void)
{
	zg_zone_t *z = load("nsec.zone");
	if (!ok(z != NULL, "nsec.zone loaded")) {
		return;
	}
	zg_report_t r;
	run(z, NULL, &r);
	is_int(r.errors, 0, "signed NSEC zone validates");
	is_int(r.warnings, 0, "no warnings");
	is_int(r.stats.signatures, 24, "24 signatures verified");
	is_int(r.stats.earliest_expiry, 1893456000, "earliest expiry 2030-01-01");
	dump(&r);
	zg_report_deinit(&r);

	run_opts_t late = { .now = 1893456000LL + 10 };
	expect(z, &late, "mail.example.test. A: signature expired 2030-01-01T00:00:00Z (key ", "after expiry");
	run_opts_t early = { .now = 1704067200LL - 10 };
	expect(z, &early, "signature not yet valid, inception 2024-01-01T00:00:00Z", "before inception");
	run_opts_t hz = { .now = 1893456000LL - 86400, .horizon = 2 * 86400 };
	run(z, &hz, &r);
	ok(r.errors == 0 && r.warnings > 0 && has(&r, "within the horizon"), "horizon warnings, no errors");
	zg_report_deinit(&r);

	/* DS trust anchor. */
	zg_buf_t ds;
	zg_buf_init(&ds);
	uint16_t nds = 0;
	zg_load_error_t err;
	is_int(zg_ds_load_file(fixture("example.ds"), zg_zone_origin(z), &ds, &nds, &err), 0, "DS file loads");
	run_opts_t with_ds = { .ds = &ds, .ds_count = nds };
	run(z, &with_ds, &r);
	is_int(r.errors, 0, "DNSKEY signed by a key matching the DS");
	zg_report_deinit(&r);
	ds.data[ds.len - 1] ^= 1;
	expect(z, &with_ds, "example.test. DNSKEY: no signature by a key matching a trusted DS", "wrong DS");
	zg_buf_deinit(&ds);

	/* Faults injected through the incremental API. */
	uint8_t a99[4] = { 192, 0, 2, 99 };
	zg_zone_add(z, dn("mail.example.test."), KNOT_RRTYPE_A, 300, a99, 4);
	expect(z, NULL, "mail.example.test. A: bad signature (key ", "RR added to a signed RRset");
	zg_zone_remove(z, dn("mail.example.test."), KNOT_RRTYPE_A, a99, 4);

	remove_rrsigs(z, "mail.example.test.", KNOT_RRTYPE_A, -1);
	expect(z, NULL, "mail.example.test. A: missing RRSIG for algorithm 13", "RRSIG removed");
	zg_zone_free(z);

	z = load("nsec.zone");
	uint8_t txt[] = { 3, 'a', 'b', 'c' };
	zg_zone_add(z, dn("mail.example.test."), KNOT_RRTYPE_TXT, 300, txt, sizeof(txt));
	run(z, NULL, &r);
	ok(has(&r, "mail.example.test. NSEC: type bitmap lacks TXT"), "NSEC bitmap lacks a new type");
	ok(has(&r, "mail.example.test. TXT: missing RRSIG for algorithm 13"), "new RRset unsigned");
	ok(has(&r, "example.test. ZONEMD: digest mismatch (scheme 1, hash SHA-384)"), "ZONEMD SHA-384 mismatch");
	ok(has(&r, "example.test. ZONEMD: digest mismatch (scheme 1, hash SHA-512)"), "ZONEMD SHA-512 mismatch");
	zg_report_deinit(&r);

	/* Per-owner validation (mod-validate's path). */
	zg_verify_opts_t vo = { .now = T_2025 };
	zg_report_init(&r);
	zg_verifier_t *v = NULL;
	zg_verify_worker_t *w = NULL;
	ok(zg_verifier_new(&v, z, &vo, &r) == 0 && zg_verify_worker_new(&w) == 0, "verifier and worker");
	zg_verify_node(v, w, zg_zone_find(z, dn("mail.example.test.")), &r);
	is_int(r.errors, 2, "per-owner check finds the two problems at mail");
	zg_report_deinit(&r);
	zg_report_init(&r);
	zg_verify_node(v, w, zg_zone_find(z, dn("ns1.example.test.")), &r);
	is_int(r.errors, 0, "per-owner check of an intact owner");
	zg_report_deinit(&r);
	zg_verify_worker_free(w);
	zg_verifier_free(v);
	zg_zone_free(z);

	z = load("nsec.zone");
	rrs_copy_t c;
	copy_rrs(zg_node_rrset(zg_zone_find(z, dn("mail.example.test.")), KNOT_RRTYPE_NSEC), &c);
	zg_zone_remove(z, dn("mail.example.test."), KNOT_RRTYPE_NSEC, c.data, c.len[0]);
	expect(z, NULL, "mail.example.test. NSEC: missing NSEC", "NSEC removed");
	zg_zone_free(z);

	z = load("nsec.zone");
	zg_zone_add(z, dn("mailb.example.test."), KNOT_RRTYPE_A, 300, a99, 4);
	expect(z, NULL, "mail.example.test. NSEC: next name ns1.example.test., expected mailb.example.test.",
	       "name inserted into the chain");
	zg_zone_free(z);

	/* Delegation NS signed: reuse the DS signature with the type covered changed. */
	z = load("nsec.zone");
	copy_rrs(zg_node_rrsig(zg_zone_find(z, dn("secure.example.test.")), KNOT_RRTYPE_DS), &c);
	c.data[1] = KNOT_RRTYPE_NS;
	zg_zone_add(z, dn("secure.example.test."), KNOT_RRTYPE_RRSIG, 300, c.data, c.len[0]);
	expect(z, NULL, "secure.example.test. NS: delegation NS must not be signed", "signed delegation NS");
	copy_rrs(zg_node_rrsig(zg_zone_find(z, dn("ns1.example.test.")), KNOT_RRTYPE_A), &c);
	zg_zone_add(z, dn("ns.sub.example.test."), KNOT_RRTYPE_RRSIG, 300, c.data, c.len[0]);
	expect(z, NULL, "ns.sub.example.test. A: RRSIG on non-authoritative data below a delegation",
	       "signed glue");
	zg_zone_free(z);

	/* DNSKEY signed only by the ZSK. */
	z = load("nsec.zone");
	const zg_rrset_t *keys = zg_node_rrset(zg_zone_apex(z), KNOT_RRTYPE_DNSKEY);
	size_t pos = 0;
	const uint8_t *rd;
	uint16_t len;
	int ksk_tag = -1;
	while (zg_rrset_next(keys, &pos, &rd, &len)) {
		if (rd[1] & 1) {
			extern uint16_t zg_dnskey_tag(const uint8_t *, size_t);
			ksk_tag = zg_dnskey_tag(rd, len);
		}
	}
	remove_rrsigs(z, "example.test.", KNOT_RRTYPE_DNSKEY, ksk_tag);
	run(z, NULL, &r);
	ok(has(&r, "example.test. DNSKEY: no signature by a key with the SEP flag"), "DNSKEY not signed by the KSK");
	ok(has(&r, "example.test. DNSKEY: missing RRSIG for algorithm 13"), "DNSKEY lost its only signature");
	is_int(r.errors, 4, "and ZONEMD no longer matches (SHA-384, SHA-512)");
	zg_report_deinit(&r);
	/* DS at a non-delegation. */
	uint8_t dsr[36] = { 0x30, 0x39, 13, 2 };
	zg_zone_add(z, dn("mail.example.test."), KNOT_RRTYPE_DS, 300, dsr, sizeof(dsr));
	expect(z, NULL, "mail.example.test. DS: DS at a name that is not a delegation", "stray DS");
	zg_zone_free(z);

	/* Unsigned zone. */
	z = load("nsec.zone");
	copy_rrs(zg_node_rrset(zg_zone_apex(z), KNOT_RRTYPE_DNSKEY), &c);
	for (size_t i = 0; i < c.n; i++) {
		zg_zone_remove(z, dn("example.test."), KNOT_RRTYPE_DNSKEY, copy_at(&c, i), c.len[i]);
	}
	expect(z, NULL, "example.test. DNSKEY: no DNSKEY RRset at the apex", "no DNSKEY");
	zg_zone_free(z);
}

static void test_nsec3(void)
{
	zg_zone_t *z = load("nsec3.zone");
	if (!ok(z != NULL, "nsec3.zone loaded")) {
		return;
	}
	zg_report_t r;
	run(z, NULL, &r);
	is_int(r.errors, 0, "signed NSEC3 zone validates");
	is_int(r.warnings, 1, "one warning");
	ok(has(&r, "example.test. NSEC3PARAM: warning: NSEC3 iterations 1, RFC 9276 recommends 0"),
	   "the fixture's 1 iteration warns (RFC 9276)");
	dump(&r);
	zg_report_deinit(&r);

	uint8_t txt[] = { 3, 'a', 'b', 'c' };
	zg_zone_add(z, dn("mail.example.test."), KNOT_RRTYPE_TXT, 300, txt, sizeof(txt));
	expect(z, NULL, "NSEC3: type bitmap lacks TXT (hashed name mail.example.test.)", "NSEC3 bitmap");
	zg_zone_free(z);

	/* Remove the first NSEC3 record. */
	z = load("nsec3.zone");
	zg_node_t *first = zg_zone_nsec3_first(z);
	uint8_t owner[256];
	zg_node_owner(first, owner);
	rrs_copy_t c;
	copy_rrs(zg_node_rrset(first, KNOT_RRTYPE_NSEC3), &c);
	zg_zone_remove(z, owner, KNOT_RRTYPE_NSEC3, c.data, c.len[0]);
	run(z, NULL, &r);
	ok(has(&r, "NSEC3: missing NSEC3 (hash "), "a hashed name lost its NSEC3");
	ok(has(&r, "names no NSEC3 owner"), "the last NSEC3 points to the removed one");
	ok(has(&r, "RRSIG without a matching RRset"), "its RRSIG is left alone");
	zg_report_deinit(&r);

	/* An orphan NSEC3: a copy of an existing one at another hash. */
	copy_rrs(zg_node_rrset(zg_zone_nsec3_first(z), KNOT_RRTYPE_NSEC3), &c);
	zg_zone_add(z, dn("00000000000000000000000000000000.example.test."), KNOT_RRTYPE_NSEC3, 300,
	            c.data, c.len[0]);
	run(z, NULL, &r);
	ok(has(&r, "00000000000000000000000000000000.example.test. NSEC3: no name in the zone hashes to this NSEC3 (orphan)"),
	   "orphan NSEC3");
	ok(has(&r, "00000000000000000000000000000000.example.test. NSEC3: missing RRSIG for algorithm 13"),
	   "orphan NSEC3 unsigned");
	zg_report_deinit(&r);
	zg_zone_free(z);

	/* NSEC3PARAM with another salt. */
	z = load("nsec3.zone");
	copy_rrs(zg_node_rrset(zg_zone_apex(z), KNOT_RRTYPE_NSEC3PARAM), &c);
	zg_zone_remove(z, dn("example.test."), KNOT_RRTYPE_NSEC3PARAM, c.data, c.len[0]);
	uint8_t p2[] = { 1, 0, 0, 1, 2, 0xBE, 0xEF };
	zg_zone_add(z, dn("example.test."), KNOT_RRTYPE_NSEC3PARAM, 0, p2, sizeof(p2));
	run(z, NULL, &r);
	ok(has(&r, "NSEC3: parameters (alg 1, iterations 1, salt 0A0B) differ from NSEC3PARAM"),
	   "chain parameters differ");
	ok(has(&r, "example.test. NSEC3PARAM: bad signature"), "NSEC3PARAM signature broken");
	zg_report_deinit(&r);
	zg_zone_free(z);
}


/* Counts report items of a severity whose line contains \a needle. */
static size_t count(const zg_report_t *r, zg_severity_t sev, const char *needle)
{
	char line[2300];
	size_t n = 0;
	for (size_t i = 0; i < r->len; i++) {
		zg_report_item_str(&r->items[i], line, sizeof(line));
		n += r->items[i].severity == sev && strstr(line, needle) != NULL;
	}
	return n;
}

/* The first RR of an RRset (RRSIG: covering \a covered) at owner, copied. */
static uint16_t first_rr(zg_zone_t *z, const char *owner, uint16_t type, uint16_t covered,
                         uint8_t *out)
{
	zg_node_t *n = zg_zone_find(z, dn(owner));
	const zg_rrset_t *set = n == NULL ? NULL : type == KNOT_RRTYPE_RRSIG ?
	                        zg_node_rrsig(n, covered) : zg_node_rrset(n, type);
	size_t pos = 0;
	const uint8_t *rd;
	uint16_t len = 0;
	if (set == NULL || !zg_rrset_next(set, &pos, &rd, &len)) {
		diag("no %u at %s", type, owner);
		return 0;
	}
	memcpy(out, rd, len);
	return len;
}

static void set_nsec3param(zg_zone_t *z, const uint8_t *rd, uint16_t len)
{
	uint8_t old[512];
	uint16_t ol = first_rr(z, "example.test.", KNOT_RRTYPE_NSEC3PARAM, 0, old);
	zg_zone_remove(z, dn("example.test."), KNOT_RRTYPE_NSEC3PARAM, old, ol);
	zg_zone_add(z, dn("example.test."), KNOT_RRTYPE_NSEC3PARAM, 3600, rd, len);
}

/* The rules taken from the RFCs (issue 12): each fault alone, in both fixtures. */
static void test_rfc_rules(void)
{
	zg_report_t r;
	uint8_t rd[1024];
	uint16_t len;

	/* Two SOA records at the apex (RFC 1035 5.2). */
	zg_zone_t *z = load("nsec.zone");
	len = first_rr(z, "example.test.", KNOT_RRTYPE_SOA, 0, rd);
	rd[len - 17] ^= 1;  /* another serial */
	zg_zone_add(z, dn("example.test."), KNOT_RRTYPE_SOA, 300, rd, len);
	expect(z, &nozm, "example.test. SOA: 2 SOA records at the apex, expected one (RFC 1035 5.2)",
	       "two SOA records");
	zg_zone_free(z);

	/* An RRSIG covering type RRSIG (RFC 4035 2.2), in the name and NSEC3 trees. */
	const char *files[] = { "nsec.zone", "nsec3.zone" };
	for (int f = 0; f < 2; f++) {
		z = load(files[f]);
		len = first_rr(z, "mail.example.test.", KNOT_RRTYPE_RRSIG, KNOT_RRTYPE_A, rd);
		rd[0] = 0;
		rd[1] = KNOT_RRTYPE_RRSIG;
		zg_zone_add(z, dn("mail.example.test."), KNOT_RRTYPE_RRSIG, 300, rd, len);
		run(z, &nozm, &r);
		ok(has(&r, "mail.example.test. RRSIG: RRSIG covering type RRSIG (RFC 4035 2.2"),
		   "%s: an RRSIG covering RRSIG is an error", files[f]);
		is_int(r.errors, 1, "%s: the only error", files[f]);
		dump(&r);
		zg_report_deinit(&r);
		zg_zone_free(z);
	}

	/* One valid and one expired signature: a warning; only expired: an error. */
	z = load("nsec.zone");
	len = first_rr(z, "mail.example.test.", KNOT_RRTYPE_RRSIG, KNOT_RRTYPE_A, rd);
	memcpy(rd + 8, "\x60\x00\x00\x00", 4);   /* expiration 2021-01-13 */
	memcpy(rd + 12, "\x5f\x00\x00\x00", 4);  /* inception 2020-08-01 */
	zg_zone_add(z, dn("mail.example.test."), KNOT_RRTYPE_RRSIG, 300, rd, len);
	run(z, &nozm, &r);
	ok(count(&r, ZG_SEV_WARNING, "mail.example.test. A: warning: signature expired "
	         "2021-01-14T") == 1 && has(&r, "another signature of the algorithm validates"),
	   "an expired signature beside a valid one warns");
	is_int(r.errors, 0, "and the RRset validates");
	zg_report_deinit(&r);
	remove_rrsigs(z, "mail.example.test.", KNOT_RRTYPE_A, -1);
	zg_zone_add(z, dn("mail.example.test."), KNOT_RRTYPE_RRSIG, 300, rd, len);
	expect(z, &nozm, "mail.example.test. A: signature expired 2021-01-14T", "only an expired one: error");
	zg_zone_free(z);

	/* NSEC3 iterations (RFC 9276): 151 is an error and the chain is not checked. */
	z = load("nsec3.zone");
	uint8_t p151[] = { 1, 0, 0, 151, 2, 0x0A, 0x0B };
	set_nsec3param(z, p151, sizeof(p151));
	run(z, &nozm, &r);
	ok(has(&r, "example.test. NSEC3PARAM: NSEC3 iterations 151, more than 150"),
	   "151 iterations: an error");
	ok(!has(&r, "missing NSEC3") && !has(&r, "differ from NSEC3PARAM"), "the chain is not checked");
	dump(&r);
	zg_report_deinit(&r);
	uint8_t p150[] = { 1, 0, 0, 150, 2, 0x0A, 0x0B };
	set_nsec3param(z, p150, sizeof(p150));
	run(z, &nozm, &r);
	ok(has(&r, "warning: NSEC3 iterations 150, RFC 9276 recommends 0") &&
	   !has(&r, "more than 150") && has(&r, "differ from NSEC3PARAM"),
	   "150 iterations: a warning, and the chain is checked (against the 150)");
	zg_report_deinit(&r);
	zg_zone_free(z);

	/* NSEC3PARAM flags other than 0 are ignored (RFC 5155 4.1.2). */
	z = load("nsec3.zone");
	uint8_t flagged[] = { 1, 1, 0, 1, 2, 0x0A, 0x0B };
	zg_zone_add(z, dn("example.test."), KNOT_RRTYPE_NSEC3PARAM, 3600, flagged, sizeof(flagged));
	run(z, &nozm, &r);
	ok(has(&r, "example.test. NSEC3PARAM: warning: NSEC3PARAM with flags 1 is ignored (RFC 5155 4.1.2)"),
	   "a flagged NSEC3PARAM beside the real one: warning");
	ok(!has(&r, "flags 1, expected") && count(&r, ZG_SEV_ERROR, "example.test. NSEC3PARAM: bad signature") == 1 &&
	   r.errors == 1, "only the RRset's changed signature is an error");
	zg_report_deinit(&r);
	set_nsec3param(z, flagged, sizeof(flagged));  /* the flagged one alone */
	remove_rrsigs(z, "example.test.", KNOT_RRTYPE_NSEC3PARAM, -1);
	run(z, &nozm, &r);
	ok(has(&r, "warning: no NSEC3PARAM with flags 0: secondaries cannot tell which NSEC3 chain is complete"),
	   "only a flagged NSEC3PARAM: a warning, the chain checked with its records' parameters");
	ok(!has(&r, "missing NSEC3 (") && !has(&r, "differ from NSEC3PARAM"), "and the chain is complete");
	zg_report_deinit(&r);
	zg_zone_free(z);

	/* Every chain announced is checked: a second NSEC3PARAM without its chain. */
	z = load("nsec3.zone");
	uint8_t other[] = { 1, 0, 0, 0, 0 };
	zg_zone_add(z, dn("example.test."), KNOT_RRTYPE_NSEC3PARAM, 3600, other, sizeof(other));
	run(z, &nozm, &r);
	ok(has(&r, "mail.example.test. NSEC3: missing NSEC3 (hash ") && !has(&r, "NSEC3PARAM records"),
	   "two NSEC3PARAMs: the second chain is checked (and missing), no error for the count");
	zg_report_deinit(&r);
	zg_zone_free(z);

	/* A second chain of one opt-out record (its next hash its own) among
	 * many owners of the first: the record covering each hash is found in
	 * the second chain (past COVER_STEPS owners: through its index), so the
	 * insecure delegation may lack its NSEC3 there, the other names not. */
	z = load("nsec3.zone");
	uint8_t p2[] = { 1, 0, 0, 0, 1, 0xCC };
	zg_zone_add(z, dn("example.test."), KNOT_RRTYPE_NSEC3PARAM, 3600, p2, sizeof(p2));
	uint8_t lone[64] = { 1, 1, 0, 0, 1, 0xCC, 20 };
	memset(lone + 7, 0xff, 20);  /* next hash vvvv...: the owner below */
	zg_zone_add(z, dn("vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv.example.test."), KNOT_RRTYPE_NSEC3, 300,
	            lone, 27);
	uint8_t filler[64] = { 1, 1, 0, 1, 2, 0x0A, 0x0B, 20 };
	for (int i = 0; i < 200; i++) {
		char nm[80];
		snprintf(nm, sizeof(nm), "%03d%029d.example.test.", i, 0);
		zg_zone_add(z, dn(nm), KNOT_RRTYPE_NSEC3, 300, filler, 28);
	}
	run(z, &nozm, &r);
	ok(has(&r, "mail.example.test. NSEC3: missing NSEC3 (hash "), "second chain: mail is missing");
	ok(!has(&r, "insecure.example.test. NSEC3: missing NSEC3"),
	   "second chain: the insecure delegation is covered by its opt-out record");
	zg_report_deinit(&r);
	zg_zone_free(z);

	/* Algorithm 5 keys in an NSEC3 zone (RFC 5155 2); 7, its alias, is fine. */
	const char *algs[] = { "alg-RSASHA1.zone", "alg-RSASHA1-NSEC3-SHA1.zone" };
	for (int a = 0; a < 2; a++) {
		zg_zone_t *za = load(algs[a]);
		uint8_t p0[] = { 1, 0, 0, 0, 0 };
		zg_zone_add(za, dn("alg.test."), KNOT_RRTYPE_NSEC3PARAM, 3600, p0, sizeof(p0));
		run(za, &nozm, &r);
		is_int(count(&r, ZG_SEV_ERROR, "alg.test. DNSKEY: algorithm 5 (RSASHA1) must not sign an "
		             "NSEC3 zone, its NSEC3 alias is 7 (RFC 5155 section 2)"), a == 0 ? 1 : 0,
		       "%s made NSEC3: %s", algs[a], a == 0 ? "error" : "no algorithm error");
		zg_report_deinit(&r);
		zg_zone_free(za);
	}

	/* Zone keys sharing an algorithm and a key tag (KeyTrap): two warn,
	 * three fail. Changing two bytes in opposite ways keeps the tag. */
	z = load("nsec.zone");
	len = first_rr(z, "example.test.", KNOT_RRTYPE_DNSKEY, 0, rd);
	uint16_t tag = zg_dnskey_tag(rd, len);
	rd[10]++;
	rd[12]--;
	is_int(zg_dnskey_tag(rd, len), tag, "a second key with the same tag (%u)", tag);
	zg_zone_add(z, dn("example.test."), KNOT_RRTYPE_DNSKEY, 3600, rd, len);
	run(z, &nozm, &r);
	char msg[256];
	snprintf(msg, sizeof(msg), "example.test. DNSKEY: warning: 2 keys share key tag %u alg 13", tag);
	ok(has(&r, msg), "two keys with one tag: %s", msg);
	zg_report_deinit(&r);
	rd[10]++;
	rd[12]--;
	zg_zone_add(z, dn("example.test."), KNOT_RRTYPE_DNSKEY, 3600, rd, len);
	snprintf(msg, sizeof(msg), "example.test. DNSKEY: 3 keys share key tag %u alg 13, more than 2", tag);
	expect(z, &nozm, msg, "three keys with one tag");
	zg_zone_free(z);

	/* Out-of-zone records: a warning each; NSEC or NSEC3 there: an error. */
	z = load("nsec.zone");
	zg_zone_note_outside(z, dn("x.other."), KNOT_RRTYPE_A);
	zg_zone_note_outside(z, dn("y.other."), KNOT_RRTYPE_NSEC);
	run(z, &nozm, &r);
	ok(has(&r, "x.other. A: warning: outside the zone example.test., ignored"), "out-of-zone A warns");
	ok(count(&r, ZG_SEV_ERROR, "y.other. NSEC: NSEC record outside the zone example.test.") == 1 &&
	   r.errors == 1, "out-of-zone NSEC: the only error");
	zg_report_deinit(&r);
	zg_zone_free(z);
}

/* Names below a DNAME are occluded (RFC 6672 2.3); at the apex too. */
static void test_dname(void)
{
	zg_report_t r;
	const uint8_t *tgt = dn("target.example.");
	uint8_t target[64];
	uint16_t tl = (uint16_t)zg_dname_len(tgt, 255);
	memcpy(target, tgt, tl);
	uint8_t txt[] = { 3, 'a', 'b', 'c' };
	const char *files[] = { "nsec.zone", "nsec3.zone" };
	for (int f = 0; f < 2; f++) {
		zg_zone_t *z = load(files[f]);
		/* A DNAME beside a.b.c.ent's A: the A and an added TXT below are occluded. */
		zg_zone_add(z, dn("c.ent.example.test."), KNOT_RRTYPE_DNAME, 300, target, tl);
		zg_zone_add(z, dn("x.c.ent.example.test."), KNOT_RRTYPE_TXT, 300, txt, sizeof(txt));
		run(z, &nozm, &r);
		ok(has(&r, "a.b.c.ent.example.test. A: warning: occluded by a DNAME, not authoritative") &&
		   has(&r, "x.c.ent.example.test. TXT: warning: occluded by a DNAME"),
		   "%s: names below a DNAME warn as occluded", files[f]);
		ok(count(&r, ZG_SEV_ERROR, "a.b.c.ent.example.test. A: RRSIG on non-authoritative data "
		         "below a DNAME") == 1, "%s: the signature left on a.b.c.ent's A is an error",
		   files[f]);
		is_int(count(&r, ZG_SEV_ERROR, "a.b.c.ent.example.test. NSEC: NSEC below a DNAME"),
		       f == 0 ? 1 : 0, "%s: so is an NSEC left there", files[f]);
		ok(count(&r, ZG_SEV_ERROR, "x.c.ent.example.test.") == 0 &&
		   count(&r, ZG_SEV_ERROR, "a.b.c.ent.example.test. NSEC3") == 0 &&
		   count(&r, ZG_SEV_ERROR, "b.c.ent.example.test. NSEC3") == 0,
		   "%s: no signature or NSEC/NSEC3 needed below the DNAME", files[f]);
		dump(&r);
		zg_report_deinit(&r);
		zg_zone_free(z);
	}
}

/* The cancel flag of zg_verify_opts_t (mod-validate's unload, zg-verify --follow). */
static void test_cancel(void)
{
	zg_zone_t *z = load("nsec3.zone");
	if (!ok(z != NULL, "cancel: nsec3.zone loaded")) {
		return;
	}
	atomic_bool cancel = true;
	zg_verify_opts_t vo = { .now = T_2025, .threads = 2, .cancel = &cancel };
	zg_report_t r;
	zg_report_init(&r);
	zg_verifier_t *v = NULL;
	is_int(zg_verifier_new(&v, z, &vo, &r), 0, "cancel: verifier created with the flag set");
	is_int(zg_verify_zone(v, &r), -ECANCELED, "cancel: flag set, zg_verify_zone returns -ECANCELED");
	zg_verify_worker_t *w = NULL;
	is_int(zg_verify_worker_new(&w), 0, "cancel: worker created");
	is_int(zg_verify_node(v, w, zg_zone_apex(z), &r), -ECANCELED,
	       "cancel: flag set, zg_verify_node returns -ECANCELED");
	is_int(zg_verify_zonemd(v, &r), 0, "cancel: no ZONEMD, nothing to cancel");
	zg_verify_worker_free(w);
	zg_verifier_free(v);
	zg_report_deinit(&r);

	/* The flag is read at run time: cleared, the same options validate. */
	atomic_store(&cancel, false);
	zg_report_init(&r);
	v = NULL;
	int ret = zg_verifier_new(&v, z, &vo, &r);
	if (ret == 0) {
		ret = zg_verify_zone(v, &r);
	}
	is_int(ret, 0, "cancel: flag clear, the zone is validated");
	is_int(r.errors, 0, "cancel: flag clear, no errors");
	ok(r.stats.names > 0, "cancel: flag clear, names were checked");
	zg_verifier_free(v);
	zg_report_deinit(&r);
	zg_zone_free(z);
}

/* Checks the apex node alone (zg_verify_node(), after zg_verify_prefetch()
 * when asked); true if \a needle is reported. */
static bool apex_reports(zg_zone_t *z, bool openssl, bool prefetch, const char *needle)
{
	zg_verify_opts_t vo = { .now = T_2025, .p256_openssl = openssl };
	zg_report_t r;
	zg_report_init(&r);
	zg_verifier_t *v = NULL;
	zg_verify_worker_t *w = NULL;
	bool found = false;
	if (zg_verifier_new(&v, z, &vo, &r) == 0 && zg_verify_worker_new(&w) == 0 &&
	    (!prefetch || zg_verify_prefetch(v, w, zg_zone_apex(z)) == 0) &&
	    zg_verify_node(v, w, zg_zone_apex(z), &r) == 0) {
		found = needle != NULL ? has(&r, needle) : r.errors == 0;
	}
	zg_verify_worker_free(w);
	zg_verifier_free(v);
	zg_report_deinit(&r);
	return found;
}

/* Every algorithm, both P-256 engines: the fixture validates; with one bit
 * of the SOA signature flipped, the whole-zone run and the apex alone (with
 * and without a batch) report it. */
static void test_algorithms(void)
{
	static const char *algs[] = { "RSASHA1", "RSASHA1-NSEC3-SHA1", "RSASHA256", "RSASHA512",
	                              "ECDSAP256SHA256", "ECDSAP384SHA384", "ED25519", "ED448" };
	for (size_t a = 0; a < sizeof(algs) / sizeof(algs[0]); a++) {
		for (int openssl = 0; openssl < 2; openssl++) {
			char name[64], what[96];
			snprintf(name, sizeof(name), "alg-%s.zone", algs[a]);
			snprintf(what, sizeof(what), "%s%s", algs[a], openssl ? " (P-256 on OpenSSL)" : "");
			zg_zone_t *z = load(name);
			if (!ok(z != NULL, "%s: fixture loads", what)) {
				continue;
			}
			run_opts_t o = { .p256_openssl = openssl };
			zg_report_t r;
			run(z, &o, &r);
			ok(r.errors == 0 && r.stats.signatures > 0, "%s: valid, %llu signatures verified",
			   what, (unsigned long long)r.stats.signatures);
			zg_report_deinit(&r);
			ok(apex_reports(z, openssl, false, NULL) && apex_reports(z, openssl, true, NULL),
			   "%s: apex alone valid", what);

			const zg_rrset_t *sig = zg_node_rrsig(zg_zone_apex(z), KNOT_RRTYPE_SOA);
			size_t pos = 0;
			const uint8_t *rd = NULL;
			uint16_t len = 0;
			if (!ok(sig != NULL && zg_rrset_next(sig, &pos, &rd, &len), "%s: SOA RRSIG", what)) {
				zg_zone_free(z);
				continue;
			}
			uint8_t *last = (uint8_t *)rd + len - 1;
			*last ^= 0x01;
			expect(z, &o, "SOA: bad signature", what);
			ok(apex_reports(z, openssl, false, "SOA: bad signature"),
			   "%s: apex alone reports the bad signature", what);
			ok(apex_reports(z, openssl, true, "SOA: bad signature"),
			   "%s: apex alone, batched, reports the bad signature", what);
			*last ^= 0x01;
			zg_zone_free(z);
		}
	}
}

int main(void)
{
	plan_lazy();
	test_nsec();
	test_nsec3();
	test_rfc_rules();
	test_dname();
	test_cancel();
	test_algorithms();
	return done_testing();
}
