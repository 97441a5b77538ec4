/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Content digests (lib/validate/digest.c): what changes a digest and what
 * does not, the digest kept up to date by zg_incr equal to the digest of
 * the resulting zone after every kind of change, and the digest of AXFR and
 * IXFR answer streams equal to the digest of the content they leave.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libknot/descriptor.h>
#include <libknot/dname.h>
#include <libzscanner/scanner.h>

#include "core/error.h"
#include "validate/digest.h"
#include "validate/incr.h"
#include "validate/zone.h"
#include "tap.h"

static const uint8_t KEY[ZG_DIGEST_KEY_LEN] = "zonegate-test-digest-key-0123456";

static char *fixture(const char *name)
{
	static char path[4096];
	const char *src = getenv("ZG_SRCDIR");
	snprintf(path, sizeof(path), "%s/tests/data/verify/%s", src ? src : ".", name);
	return path;
}

/* Records parsed from text, in order. */
typedef struct {
	uint8_t owner[KNOT_DNAME_MAXLEN];
	uint16_t type;
	uint32_t ttl;
	uint16_t rdlen;
	uint8_t rdata[1024];
} rec_t;

static size_t parse(const char *text, rec_t *out, size_t max)
{
	zs_scanner_t sc;
	size_t n = 0;
	if (zs_init(&sc, "example.test.", KNOT_CLASS_IN, 300) != 0 ||
	    zs_set_input_string(&sc, text, strlen(text)) != 0) {
		return 0;
	}
	while (n < max && zs_parse_record(&sc) == 0 && sc.state == ZS_STATE_DATA) {
		rec_t *r = &out[n++];
		memcpy(r->owner, sc.r_owner, sc.r_owner_length);
		r->type = sc.r_type;
		r->ttl = sc.r_ttl;
		r->rdlen = (uint16_t)sc.r_data_length;
		memcpy(r->rdata, sc.r_data, sc.r_data_length);
	}
	zs_deinit(&sc);
	return n;
}

static zg_zone_t *zone_of(const char *text)
{
	zg_zone_t *z = NULL;
	zg_load_error_t err;
	if (zg_zone_load_string(&z, text, strlen(text), "example.test.", &err) != 0) {
		diag("zone: %s line %llu", err.reason, (unsigned long long)err.line);
		return NULL;
	}
	return z;
}

static zg_digest_t digest_of(zg_digest_ctx_t *ctx, const char *text)
{
	zg_digest_t d = { { 0 } };
	zg_zone_t *z = zone_of(text);
	if (z != NULL) {
		zg_digest_zone(ctx, z, &d);
	}
	zg_zone_free(z);
	return d;
}

#define BASE \
	"@ 300 SOA ns1 h 1 3600 900 604800 300\n" \
	"@ 300 NS ns1\n" \
	"ns1 300 A 192.0.2.1\n" \
	"www 300 A 192.0.2.2\n" \
	"www 300 A 192.0.2.3\n" \
	"www 300 RRSIG A 13 3 300 20300101000000 20240101000000 1 example.test. AAAA\n" \
	"mail 300 MX 10 MX.Example.test.\n"

static void test_identity(zg_digest_ctx_t *ctx)
{
	zg_digest_t base = digest_of(ctx, BASE);
	zg_digest_t zero = { { 0 } };
	ok(!zg_digest_equal(&base, &zero), "a zone has a digest");
	zg_digest_t d = digest_of(ctx,
		"mail 300 MX 10 mx.example.test.\n"
		"www 300 A 192.0.2.3\n"
		"WWW 300 RRSIG A 13 3 300 20300101000000 20240101000000 1 example.test. AAAA\n"
		"www 300 A 192.0.2.2\n"
		"Ns1 300 A 192.0.2.1\n"
		"@ 300 NS ns1\n"
		"@ 300 SOA ns1 h 1 3600 900 604800 300\n");
	ok(zg_digest_equal(&d, &base), "same records in another order and case: same digest");
	d = digest_of(ctx, BASE "www 300 A 192.0.2.2\n");
	ok(zg_digest_equal(&d, &base), "a duplicate record: same digest (a zone is a set)");
	d = digest_of(ctx, BASE "www 300 A 192.0.2.4\n");
	ok(!zg_digest_equal(&d, &base), "one more record: another digest");
	d = digest_of(ctx,
		"@ 300 SOA ns1 h 1 3600 900 604800 300\n@ 300 NS ns1\nns1 300 A 192.0.2.1\n"
		"www 300 A 192.0.2.2\nwww 300 A 192.0.2.9\n"
		"www 300 RRSIG A 13 3 300 20300101000000 20240101000000 1 example.test. AAAA\n"
		"mail 300 MX 10 mx.example.test.\n");
	ok(!zg_digest_equal(&d, &base), "one address changed: another digest");
	d = digest_of(ctx,
		"@ 300 SOA ns1 h 1 3600 900 604800 300\n@ 300 NS ns1\nns1 300 A 192.0.2.1\n"
		"www 600 A 192.0.2.2\nwww 600 A 192.0.2.3\n"
		"www 300 RRSIG A 13 3 300 20300101000000 20240101000000 1 example.test. AAAA\n"
		"mail 300 MX 10 mx.example.test.\n");
	ok(!zg_digest_equal(&d, &base), "a TTL changed: another digest");
	d = digest_of(ctx,
		"@ 300 SOA ns1 h 1 3600 900 604800 300\n@ 300 NS ns1\nns1 300 A 192.0.2.1\n"
		"www 300 A 192.0.2.2\nwww 300 A 192.0.2.3\n"
		"www 999 RRSIG A 13 3 300 20300101000000 20240101000000 1 example.test. AAAA\n"
		"mail 300 MX 10 mx.example.test.\n");
	ok(zg_digest_equal(&d, &base), "the TTL of an RRSIG record is not content (its original TTL is)");
	d = digest_of(ctx,
		"@ 300 SOA ns1 h 1 3600 900 604800 300\n@ 300 NS ns1\nns1 300 A 192.0.2.1\n"
		"www 300 A 192.0.2.2\nwww 300 A 192.0.2.3\n"
		"www 300 RRSIG A 13 3 300 20300101000000 20240101000000 1 example.test. AAAB\n"
		"mail 300 MX 10 mx.example.test.\n");
	ok(!zg_digest_equal(&d, &base), "one signature byte changed: another digest");

	uint8_t other[ZG_DIGEST_KEY_LEN];
	memcpy(other, KEY, sizeof(other));
	other[0] ^= 1;
	zg_digest_ctx_t *c2 = NULL;
	zg_digest_ctx_new(&c2, other);
	d = digest_of(c2, BASE);
	ok(!zg_digest_equal(&d, &base), "another key: another digest of the same zone");
	zg_digest_ctx_free(c2);

	char s[ZG_DIGEST_STR_LEN + 1];
	zg_digest_str(&base, s, sizeof(s));
	zg_digest_t back;
	ok(zg_digest_parse(s, &back) == 0 && zg_digest_equal(&back, &base),
	   "text form round trip (%s)", s);
	is_int(zg_digest_parse("12", &back), ZG_EINPUT, "short text refused");
	s[5] = 'x';
	is_int(zg_digest_parse(s, &back), ZG_EINPUT, "non-hex text refused");
}

/* Applies "+ record" / "- record" lines to the incremental state. */
static int apply(zg_incr_t *in, const char *changes)
{
	char line[2048];
	const char *p = changes;
	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		snprintf(line, sizeof(line), "%.*s\n", (int)len - 2, p + 2);
		bool add = p[0] == '+';
		rec_t r;
		if (parse(line, &r, 1) != 1) {
			diag("cannot parse %s", line);
			return -1;
		}
		int ret = zg_incr_apply(in, add, r.owner, r.type, r.ttl, r.rdata, r.rdlen);
		if (ret != 0) {
			diag("apply %s: %s", line, zg_strerror(ret));
			return ret;
		}
		p += len + (nl ? 1 : 0);
	}
	return 0;
}

static void test_incremental(zg_digest_ctx_t *ctx)
{
	zg_zone_t *z = NULL;
	zg_load_error_t err;
	if (!ok(zg_zone_load_file(&z, fixture("nsec3.zone"), NULL, &err) == 0, "NSEC3 fixture loads")) {
		return;
	}
	zg_incr_t *in = NULL;
	if (!ok(zg_incr_new(&in, z) == 0, "incremental state")) {
		return;
	}
	zg_digest_t d;
	ok(!zg_incr_digest(in, &d), "no digest before zg_incr_digest_start()");
	is_int(zg_incr_digest_start(in, ctx), 0, "digest started");
	zg_digest_t whole;
	zg_digest_zone(ctx, zg_incr_zone(in), &whole);
	ok(zg_incr_digest(in, &d) && zg_digest_equal(&d, &whole), "digest of the fixture");

	static const struct {
		const char *what;
		const char *changes;
	} steps[] = {
		{ "serial change (SOA and its RRSIG)",
		  "- @ 300 SOA ns1.example.test. Hostmaster.Example.test. 2024010101 3600 900 604800 300\n"
		  "+ @ 300 SOA ns1.example.test. hostmaster.example.test. 2024010102 3600 900 604800 300\n"
		  "+ @ 300 RRSIG SOA 13 2 300 20300101000000 20240101000000 21708 example.test. AAAA" },
		{ "a new owner with two records",
		  "+ new 300 A 192.0.2.50\n+ new 300 TXT \"hello\"" },
		{ "a record added to an RRset with another TTL",
		  "+ new 900 A 192.0.2.51" },
		{ "a TTL changed (removed and added)",
		  "- new 300 TXT \"hello\"\n+ new 60 TXT \"hello\"" },
		{ "an NSEC3 and its RRSIG added",
		  "+ vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv 300 NSEC3 1 1 1 0a0b 00000000000000000000000000000000 A\n"
		  "+ vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv 300 RRSIG NSEC3 13 3 300 20300101000000 20240101000000 21708 example.test. AAAA" },
		{ "an NSEC3 removed",
		  "- vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv 300 NSEC3 1 1 1 0a0b 00000000000000000000000000000000 A" },
		{ "an owner removed whole",
		  "- new 900 A 192.0.2.50\n- new 900 A 192.0.2.51\n- new 60 TXT \"hello\"" },
		{ "a record with names in its rdata, in another case",
		  "+ @ 300 MX 20 MAIL2.Example.Test." },
		{ "a record added twice (no change)",
		  "+ @ 300 MX 20 mail2.example.test." },
	};
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		zg_digest_t before;
		zg_incr_digest(in, &before);
		int ret = apply(in, steps[i].changes);
		zg_digest_zone(ctx, zg_incr_zone(in), &whole);
		ok(ret == 0 && zg_incr_digest(in, &d) && zg_digest_equal(&d, &whole),
		   "%s: kept digest equals the zone's", steps[i].what);
		if (i == sizeof(steps) / sizeof(steps[0]) - 1) {
			ok(zg_digest_equal(&d, &before), "%s: unchanged", steps[i].what);
		}
	}
	rec_t r;
	parse("nothere 300 A 192.0.2.99\n", &r, 1);
	zg_incr_digest(in, &d);
	ok(zg_incr_apply(in, false, r.owner, r.type, r.ttl, r.rdata, r.rdlen) != 0,
	   "removing a record that is not there fails");
	zg_digest_t after;
	zg_incr_digest(in, &after);
	ok(zg_digest_equal(&d, &after), "and leaves the digest as it was");
	zg_incr_free(in);
}

/* An answer stream from records: each fed in order. */
static int feed(zg_digest_stream_t *s, const char *text)
{
	rec_t *recs = calloc(256, sizeof(rec_t));
	size_t n = parse(text, recs, 256);
	int ret = 0;
	char reason[256] = "";
	for (size_t i = 0; i < n && ret == 0; i++) {
		ret = zg_digest_stream_rr(s, recs[i].owner, recs[i].type, recs[i].ttl, recs[i].rdata,
		                          recs[i].rdlen, reason, sizeof(reason));
	}
	if (ret != 0) {
		diag("stream: %s", reason);
	}
	free(recs);
	return ret;
}

static zg_digest_t g_base;
static uint32_t g_base_serial;

static bool base_of(void *arg, uint32_t serial, zg_digest_t *out)
{
	(void)arg;
	if (serial != g_base_serial) {
		return false;
	}
	*out = g_base;
	return true;
}

#define SOA1 "@ 300 SOA ns1 h 1 3600 900 604800 300\n"
#define SOA2 "@ 300 SOA ns1 h 2 3600 900 604800 300\n"
#define SOA3 "@ 300 SOA ns1 h 3 3600 900 604800 300\n"

static void test_stream(zg_digest_ctx_t *ctx)
{
	uint8_t apex[KNOT_DNAME_MAXLEN];
	knot_dname_from_str(apex, "example.test.", sizeof(apex));
	zg_digest_t base = digest_of(ctx, BASE);

	zg_digest_stream_t s;
	zg_digest_stream_init(&s, ctx, apex, true, 0, NULL, NULL);
	is_int(feed(&s, BASE "other.example. 300 A 192.0.2.9\n" SOA1), 0, "AXFR answer summed");
	ok(zg_xfr_stream_done(&s.stream), "the closing SOA ends it");
	ok(zg_digest_equal(&s.sum, &base), "AXFR sum equals the zone's digest (out-of-zone record skipped)");

	zg_digest_stream_init(&s, ctx, apex, true, 0, NULL, NULL);
	feed(&s, BASE "www 300 A 192.0.2.7\n" SOA1);
	ok(!zg_digest_equal(&s.sum, &base), "an AXFR with one more record: another sum");

	/* IXFR from 1 to 3 in two deltas: base, -www .3, +www .4; then -mail, +TXT. */
	const char *target =
		"@ 300 SOA ns1 h 3 3600 900 604800 300\n@ 300 NS ns1\nns1 300 A 192.0.2.1\n"
		"www 300 A 192.0.2.2\nwww 300 A 192.0.2.4\n"
		"www 300 RRSIG A 13 3 300 20300101000000 20240101000000 1 example.test. AAAA\n"
		"txt 300 TXT \"x\"\n";
	zg_digest_t want = digest_of(ctx, target);
	g_base = base;
	g_base_serial = 1;
	const char *ixfr =
		SOA3
		SOA1 "www 300 A 192.0.2.3\n" SOA2 "www 300 A 192.0.2.4\n"
		SOA2 "mail 300 MX 10 mx.example.test.\n" SOA3 "txt 300 TXT \"x\"\n"
		SOA3;
	zg_digest_stream_init(&s, ctx, apex, false, 1, base_of, NULL);
	is_int(feed(&s, ixfr), 0, "IXFR answer summed from the base digest of serial 1");
	ok(zg_xfr_stream_done(&s.stream) && zg_digest_equal(&s.sum, &want),
	   "IXFR sum equals the digest of the content it leaves");

	g_base_serial = 7;
	zg_digest_stream_init(&s, ctx, apex, false, 1, base_of, NULL);
	is_int(feed(&s, ixfr), ZG_ENOTSUP, "IXFR from a serial without a known digest: refused");

#define BODY "@ 300 NS ns1\nns1 300 A 192.0.2.1\nwww 300 A 192.0.2.2\n"
	zg_digest_stream_init(&s, ctx, apex, false, 1, base_of, NULL);
	is_int(feed(&s, SOA3 BODY SOA3), 0, "IXFR answered with the whole zone: summed as such");
	want = digest_of(ctx, SOA3 BODY);
	ok(zg_digest_equal(&s.sum, &want), "its sum is that of the zone sent, no base needed");

	zg_digest_stream_init(&s, ctx, apex, false, 3, base_of, NULL);
	is_int(feed(&s, SOA3), 0, "IXFR answered up to date");
	ok(zg_xfr_stream_uptodate(&s.stream), "recognised as up to date");
}

int main(void)
{
	plan_lazy();
	zg_digest_ctx_t *ctx = NULL;
	if (!ok(zg_digest_ctx_new(&ctx, KEY) == 0, "hashing context")) {
		return done_testing();
	}
	uint8_t k1[ZG_DIGEST_KEY_LEN], k2[ZG_DIGEST_KEY_LEN];
	ok(zg_digest_key_new(k1) == 0 && zg_digest_key_new(k2) == 0 && memcmp(k1, k2, sizeof(k1)) != 0,
	   "random keys differ");
	test_identity(ctx);
	test_incremental(ctx);
	test_stream(ctx);
	zg_digest_ctx_free(ctx);
	return done_testing();
}
