/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libdnssec/error.h>
#include <libknot/descriptor.h>
#include <libknot/dname.h>
#include <libknot/errcode.h>

#include "validate/crypto.h"
#include "core/error.h"
#include "validate/zone.h"
#include "tap.h"

static char *fixture(const char *name)
{
	static char path[4096];
	const char *src = getenv("ZG_SRCDIR");
	snprintf(path, sizeof(path), "%s/tests/data/verify/%s", src ? src : ".", name);
	return path;
}

/* Verifies the RRSIGs of every RRset at the apex of a fixture. */
static void test_alg(zg_crypto_ctx_t *ctx, const char *alg)
{
	char name[128];
	snprintf(name, sizeof(name), "alg-%s.zone", alg);
	zg_zone_t *z = NULL;
	zg_load_error_t err;
	if (!ok(zg_zone_load_file(&z, fixture(name), NULL, &err) == 0, "%s: fixture loads", alg)) {
		diag("%s:%llu: %s", err.file, (unsigned long long)err.line, err.reason);
		return;
	}
	zg_node_t *apex = zg_zone_apex(z);
	const zg_rrset_t *dnskey = zg_node_rrset(apex, KNOT_RRTYPE_DNSKEY);
	size_t pos = 0;
	const uint8_t *rd = NULL;
	uint16_t len = 0;
	zg_key_t *key = NULL;
	ok(dnskey != NULL && zg_rrset_next(dnskey, &pos, &rd, &len) && zg_key_new(&key, rd, len) == 0,
	   "%s: DNSKEY parsed", alg);
	if (key == NULL) {
		zg_zone_free(z);
		return;
	}
	const zg_rrset_t *soa = zg_node_rrset(apex, KNOT_RRTYPE_SOA);
	const zg_rrset_t *sig = zg_node_rrsig(apex, KNOT_RRTYPE_SOA);
	pos = 0;
	ok(sig != NULL && zg_rrset_next(sig, &pos, &rd, &len), "%s: SOA RRSIG present", alg);
	is_int(rd[2], zg_key_alg(key), "%s: algorithm matches", alg);
	is_int((rd[16] << 8) | rd[17], zg_key_tag(key), "%s: key tag matches the RRSIG", alg);
	size_t slen = zg_dname_len(rd + 18, len - 18u);
	zg_buf_t buf;
	zg_buf_init(&buf);
	uint8_t owner[256];
	zg_node_owner(apex, owner);
	is_int(zg_rrsig_signed_data(&buf, owner, soa, rd, slen), 0, "%s: signed data built", alg);
	const uint8_t *s = rd + 18 + slen;
	size_t sl = len - 18 - slen;
	is_int(zg_crypto_verify(ctx, key, buf.data, buf.len, s, sl), 0, "%s: signature valid", alg);
	is_int(zg_crypto_verify(ctx, key, buf.data, buf.len, s, sl), 0, "%s: valid again (cached context)", alg);
	buf.data[buf.len - 1] ^= 1;
	is_int(zg_crypto_verify(ctx, key, buf.data, buf.len, s, sl), DNSSEC_INVALID_SIGNATURE,
	       "%s: altered data refused", alg);
	buf.data[buf.len - 1] ^= 1;
	uint8_t bad[1024];
	memcpy(bad, s, sl);
	bad[sl / 2] ^= 0x40;
	is_int(zg_crypto_verify(ctx, key, buf.data, buf.len, bad, sl), DNSSEC_INVALID_SIGNATURE,
	       "%s: altered signature refused", alg);
	zg_buf_deinit(&buf);
	zg_key_free(key);
	zg_zone_free(z);
}

int main(void)
{
	plan_lazy();
	zg_crypto_ctx_t *ctx = NULL;
	is_int(zg_crypto_ctx_new(&ctx), 0, "context created");

	const char *algs[] = { "RSASHA1", "RSASHA1-NSEC3-SHA1", "RSASHA256", "RSASHA512",
	                       "ECDSAP256SHA256", "ECDSAP384SHA384", "ED25519", "ED448" };
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		test_alg(ctx, algs[i]);
	}

	/* Unsupported and malformed keys. */
	uint8_t k[68] = { 1, 1, 3, 3 };
	zg_key_t *key = NULL;
	is_int(zg_key_new(&key, k, 36), ZG_ENOTSUP, "DSA (alg 3) not supported");
	k[3] = 13;
	is_int(zg_key_new(&key, k, 36), KNOT_EMALF, "P-256 key of the wrong size refused");
	memset(k + 4, 0xAB, 64);
	is_int(zg_key_new(&key, k, 68), KNOT_EMALF, "P-256 point not on the curve refused");
	ok(!zg_alg_supported(3) && !zg_alg_supported(12) && zg_alg_supported(13), "supported algorithms");

	/* DS matching against the fixture KSK. */
	zg_zone_t *z = NULL;
	zg_load_error_t err;
	is_int(zg_zone_load_file(&z, fixture("nsec.zone"), NULL, &err), 0, "nsec.zone loads");
	zg_buf_t ds;
	zg_buf_init(&ds);
	FILE *f = fopen(fixture("example.ds"), "r");
	char line[512] = "";
	if (f != NULL) {
		if (fgets(line, sizeof(line), f) == NULL) {
			line[0] = '\0';
		}
		fclose(f);
	}
	unsigned tag = 0, alg = 0, dt = 0;
	char hex[200] = "";
	ok(sscanf(line, "%*s %*s %*s %u %u %u %199s", &tag, &alg, &dt, hex) == 4, "DS fixture read");
	uint8_t dsr[64] = { (uint8_t)(tag >> 8), (uint8_t)tag, (uint8_t)alg, (uint8_t)dt };
	size_t dl = strlen(hex) / 2;
	for (size_t i = 0; i < dl && i < 60; i++) {
		unsigned b;
		sscanf(hex + 2 * i, "%2x", &b);
		dsr[4 + i] = (uint8_t)b;
	}
	const zg_rrset_t *dnskey = zg_node_rrset(zg_zone_apex(z), KNOT_RRTYPE_DNSKEY);
	size_t pos = 0;
	const uint8_t *rd = NULL;
	uint16_t len = 0;
	int matches = 0, mismatches = 0;
	while (dnskey && zg_rrset_next(dnskey, &pos, &rd, &len)) {
		int r = zg_ds_match(dsr, 4 + dl, zg_zone_origin(z), rd, len);
		matches += r == 0;
		mismatches += r == ZG_EVALIDATION;
	}
	is_int(matches, 1, "DS matches the KSK");
	is_int(mismatches, 1, "DS does not match the ZSK");
	dsr[10] ^= 1;
	pos = 0;
	matches = 0;
	while (dnskey && zg_rrset_next(dnskey, &pos, &rd, &len)) {
		matches += zg_ds_match(dsr, 4 + dl, zg_zone_origin(z), rd, len) == 0;
	}
	is_int(matches, 0, "altered DS digest matches nothing");
	zg_zone_free(z);

	/* NSEC3 hash, RFC 5155 Appendix A: H(example) with salt aabbccdd, 12 iterations. */
	uint8_t name[32], hash[20], salt[4] = { 0xaa, 0xbb, 0xcc, 0xdd };
	knot_dname_from_str(name, "EXAMPLE.", sizeof(name));
	is_int(zg_nsec3_hash(ctx, 1, 12, salt, 4, name, hash), 20, "NSEC3 hash length");
	char b32[64];
	zg_base32hex_encode(hash, 20, b32, sizeof(b32), true);
	is_str(b32, "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom", "RFC 5155 test vector");
	knot_dname_from_str(name, "a.example.", sizeof(name));
	zg_nsec3_hash(ctx, 1, 12, salt, 4, name, hash);
	zg_base32hex_encode(hash, 20, b32, sizeof(b32), true);
	is_str(b32, "35mthgpgcu1qg68fab165klnsnk3dpvl", "RFC 5155 test vector for a.example");
	is_int(zg_nsec3_hash(ctx, 2, 0, NULL, 0, name, hash), ZG_ENOTSUP, "unknown NSEC3 hash");

	/* ZONEMD digests. */
	zg_zonemd_hash_t *d = NULL;
	uint8_t out[64];
	is_int(zg_zonemd_hash_new(&d, 1), 0, "SHA-384 digest");
	zg_zonemd_hash_update(d, "abc", 3);
	is_int(zg_zonemd_hash_finish(d, out), 48, "SHA-384 length");
	ok(out[0] == 0xcb && out[1] == 0x00 && out[47] == 0xa7, "SHA-384(abc) known value");
	is_int(zg_zonemd_hash_new(&d, 2), 0, "SHA-512 digest");
	is_int(zg_zonemd_hash_finish(d, out), 64, "SHA-512 length");
	is_int(zg_zonemd_hash_new(&d, 3), ZG_ENOTSUP, "unknown ZONEMD hash");

	zg_crypto_ctx_free(ctx);
	return done_testing();
}
