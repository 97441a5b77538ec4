/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The native P-256 verifier (lib/validate/p256.c) on known answers: fixed
 * vectors computed independently of both implementations, and the edge
 * cases of Project Wycheproof's ECDSA P-256 SHA-256 set rebuilt at test time
 * with OpenSSL's EC/BIGNUM API (x(R) >= n, r or s at 0, 1, n-1, n, p, r + n,
 * s + n, high s, chosen u1/u2, points at infinity during and after the
 * sum, keys off the curve...). Every case is checked against its expected
 * verdict and OpenSSL's, one at a time and in one batch. Then the table
 * cache (bounded, shared by threads, fallback when full or off) and the
 * batch API of validate/crypto.h.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include <libdnssec/error.h>
#include <libknot/errcode.h>

#include "core/error.h"
#include "validate/crypto.h"
#include "validate/p256.h"
#include "p256_ref.h"
#include "tap.h"

static p256_ref_t ref;

/* Every checked case, replayed as one batch at the end. */
#define MAX_CASES 2048
static struct {
	zg_p256_key_t key;
	uint8_t digest[32], sig[64];
	int want;
	char what[96];
} cases[MAX_CASES];
static size_t ncases;

static void hex(const char *s, uint8_t *out, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned v = 0;
		sscanf(s + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
}

/* want: 1 valid, 0 invalid, -1 key refused. */
static void check(const char *what, const uint8_t pub[64], const uint8_t digest[32],
                  const uint8_t sig[64], int want)
{
	zg_p256_key_t key;
	int native = -1;
	if (zg_p256_key_parse(&key, pub) == 0) {
		int r = zg_p256_verify(&key, digest, sig);
		native = r == 0 ? 1 : r == DNSSEC_INVALID_SIGNATURE ? 0 : 100 + r;
	}
	int ossl = p256_ref_verify(&ref, pub, digest, sig);
	ok(native == want && ossl == want, "%s: %s (native %d, openssl %d)", what,
	   want == 1 ? "valid" : want == 0 ? "invalid" : "key refused", native, ossl);
	if (native >= 0 && ncases < MAX_CASES) {
		cases[ncases].key = key;
		memcpy(cases[ncases].digest, digest, 32);
		memcpy(cases[ncases].sig, sig, 64);
		cases[ncases].want = want;
		snprintf(cases[ncases].what, sizeof(cases[ncases].what), "%s", what);
		ncases++;
	}
}

static BIGNUM *bn_word(unsigned long w)
{
	BIGNUM *b = BN_new();
	BN_set_word(b, w);
	return b;
}

static BIGNUM *rand_scalar(uint64_t *rng)
{
	return p256_ref_rand_scalar(&ref, rng);
}

/* a + delta (delta may be negative), as a new BIGNUM. */
static BIGNUM *bn_plus(const BIGNUM *a, long delta)
{
	BIGNUM *b = BN_dup(a);
	if (delta >= 0) {
		BN_add_word(b, (unsigned long)delta);
	} else {
		BN_sub_word(b, (unsigned long)-delta);
	}
	return b;
}

static const struct {
	const char *what, *pub, *digest, *sig;
	int valid;
} fixed[] = {
	/* Computed with a separate big-integer implementation of the curve. */
	{ "ordinary signature",
	  "89ef41f78a4b42f9610dfa88539e530d034d7db145538e3585762b41e7a0019c51ebed8d2cef5350966c3c99dcb50bcc1fd952fdc3220c71684658273960f336",
	  "05c5a2e6b689a197fff5acacbf2b407ea04a5c62af259d6820dcccc759c3ca0a",
	  "730a10b03c216129975231f1aa99807d9eca7e85bdba60a87269c0d09b4d0058afff202cb63a549c82fa5bdde735a6c0b6f4ffaaa06f291bd0ea15002b10ef5e", 1 },
	{ "same, s replaced by n - s (high s)",
	  "89ef41f78a4b42f9610dfa88539e530d034d7db145538e3585762b41e7a0019c51ebed8d2cef5350966c3c99dcb50bcc1fd952fdc3220c71684658273960f336",
	  "05c5a2e6b689a197fff5acacbf2b407ea04a5c62af259d6820dcccc759c3ca0a",
	  "730a10b03c216129975231f1aa99807d9eca7e85bdba60a87269c0d09b4d00585000dfd249c5ab647d05a42218ca593f05f1fb0306a8756922cfb5c2d15235f3", 1 },
	{ "same, last bit of r flipped",
	  "89ef41f78a4b42f9610dfa88539e530d034d7db145538e3585762b41e7a0019c51ebed8d2cef5350966c3c99dcb50bcc1fd952fdc3220c71684658273960f336",
	  "05c5a2e6b689a197fff5acacbf2b407ea04a5c62af259d6820dcccc759c3ca0a",
	  "730a10b03c216129975231f1aa99807d9eca7e85bdba60a87269c0d09b4d0059afff202cb63a549c82fa5bdde735a6c0b6f4ffaaa06f291bd0ea15002b10ef5e", 0 },
	{ "same, digest + 1",
	  "89ef41f78a4b42f9610dfa88539e530d034d7db145538e3585762b41e7a0019c51ebed8d2cef5350966c3c99dcb50bcc1fd952fdc3220c71684658273960f336",
	  "05c5a2e6b689a197fff5acacbf2b407ea04a5c62af259d6820dcccc759c3ca0b",
	  "730a10b03c216129975231f1aa99807d9eca7e85bdba60a87269c0d09b4d0058afff202cb63a549c82fa5bdde735a6c0b6f4ffaaa06f291bd0ea15002b10ef5e", 0 },
	{ "same, r and s swapped",
	  "89ef41f78a4b42f9610dfa88539e530d034d7db145538e3585762b41e7a0019c51ebed8d2cef5350966c3c99dcb50bcc1fd952fdc3220c71684658273960f336",
	  "05c5a2e6b689a197fff5acacbf2b407ea04a5c62af259d6820dcccc759c3ca0a",
	  "afff202cb63a549c82fa5bdde735a6c0b6f4ffaaa06f291bd0ea15002b10ef5e730a10b03c216129975231f1aa99807d9eca7e85bdba60a87269c0d09b4d0058", 0 },
	{ "x(R) = n + 3: r = 3 (valid only through r + n)",
	  "d9f5c6191bdf39b0456d7e213bf022852a9d4f0d01950615ceceeec318ea36396551b55439e7572c53e607f97a0de53902a97df4c8f403e6707cdc25994db14e",
	  "a84dd2fe16f7e764e8c4fcc5d755baf12f9b527888cc9f109e10398ca0efd867",
	  "000000000000000000000000000000000000000000000000000000000000000326cfe33b56f2ed26e75e8737e6a223d9a0c53f1785e4891b5c63a67accdf51c1", 1 },
	{ "x(R) = n + 3: r = n + 3 (not reduced)",
	  "d9f5c6191bdf39b0456d7e213bf022852a9d4f0d01950615ceceeec318ea36396551b55439e7572c53e607f97a0de53902a97df4c8f403e6707cdc25994db14e",
	  "a84dd2fe16f7e764e8c4fcc5d755baf12f9b527888cc9f109e10398ca0efd867",
	  "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc63255426cfe33b56f2ed26e75e8737e6a223d9a0c53f1785e4891b5c63a67accdf51c1", 0 },
	{ "x(R) = n + 3: r = 4",
	  "d9f5c6191bdf39b0456d7e213bf022852a9d4f0d01950615ceceeec318ea36396551b55439e7572c53e607f97a0de53902a97df4c8f403e6707cdc25994db14e",
	  "a84dd2fe16f7e764e8c4fcc5d755baf12f9b527888cc9f109e10398ca0efd867",
	  "000000000000000000000000000000000000000000000000000000000000000426cfe33b56f2ed26e75e8737e6a223d9a0c53f1785e4891b5c63a67accdf51c1", 0 },
	{ "x(R) = 5, r = 5, s = 1",
	  "dff264414535d1c611ae47922155f2cfabc77058a2b2c9fcbd4f63244dc6a0a0fd6999d5bc1551c037b7e0df08a440ea4766cf730b9ff308f4227eb1d92f6f21",
	  "0f356c6aa1bf507e53b3610a49ccb4ac1930666fba316b756f8bc91bcbf03ce8",
	  "00000000000000000000000000000000000000000000000000000000000000050000000000000000000000000000000000000000000000000000000000000001", 1 },
	{ "x(R) = 5, r = n + 5",
	  "dff264414535d1c611ae47922155f2cfabc77058a2b2c9fcbd4f63244dc6a0a0fd6999d5bc1551c037b7e0df08a440ea4766cf730b9ff308f4227eb1d92f6f21",
	  "0f356c6aa1bf507e53b3610a49ccb4ac1930666fba316b756f8bc91bcbf03ce8",
	  "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc6325560000000000000000000000000000000000000000000000000000000000000001", 0 },
	{ "digest 2^256 - 1 (>= n)",
	  "e81074211e0b987b1c9b17eb3a17b5e9b29c1546c3e472d72ee5414dcad66903a5fe60fd5d2cd2301ce7f21aafd0c773c3263aa9a2f8432b7752e54dbfca0fa7",
	  "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	  "c41761dd714795ee2b73ded9e5977280293bc86befcb2a76052e001a60924ec1ca0a726ba0e7e0382aebe0a82271c25ed13dd9278ac6dfff584589d977ad9c9d", 1 },
};

static void test_fixed(void)
{
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		uint8_t pub[64], dg[32], sig[64];
		hex(fixed[i].pub, pub, 64);
		hex(fixed[i].digest, dg, 32);
		hex(fixed[i].sig, sig, 64);
		check(fixed[i].what, pub, dg, sig, fixed[i].valid);
	}
}

/* A valid base signature and the range cases built on it. */
static void test_ranges(uint64_t *rng)
{
	uint8_t pub[64], dg[32], sig[64];
	BIGNUM *d = NULL, *u1 = NULL, *u2 = NULL;
	do {
		BN_free(d);
		BN_free(u1);
		BN_free(u2);
		d = rand_scalar(rng);
		u1 = rand_scalar(rng);
		u2 = rand_scalar(rng);
	} while (BN_is_zero(d) || p256_ref_sign_u(&ref, d, u1, u2, pub, dg, sig) != 0);
	check("range base signature", pub, dg, sig, 1);

	BIGNUM *two256 = BN_new();
	BN_set_bit(two256, 256);
	BIGNUM *special[] = { bn_word(0), bn_word(1), bn_plus(ref.n, -1), BN_dup(ref.n),
	                      bn_plus(ref.n, 1), BN_dup(ref.p), bn_plus(ref.p, 1),
	                      bn_plus(two256, -1) };
	const char *names[] = { "0", "1", "n-1", "n", "n+1", "p", "p+1", "2^256-1" };
	char what[96];
	for (int i = 0; i < 8; i++) {
		for (int k = 0; k < 8; k++) {
			uint8_t s2[64];
			p256_ref_put(special[i], s2);
			p256_ref_put(special[k], s2 + 32);
			snprintf(what, sizeof(what), "r = %s, s = %s", names[i], names[k]);
			check(what, pub, dg, s2, 0);
		}
		uint8_t s2[64];
		memcpy(s2, sig, 64);
		p256_ref_put(special[i], s2);
		snprintf(what, sizeof(what), "r = %s, s of the base", names[i]);
		check(what, pub, dg, s2, 0);
		memcpy(s2, sig, 64);
		p256_ref_put(special[i], s2 + 32);
		snprintf(what, sizeof(what), "s = %s, r of the base", names[i]);
		check(what, pub, dg, s2, 0);
	}
	for (int i = 0; i < 8; i++) {
		BN_free(special[i]);
	}

	/* r + n, s + n where they fit in 32 bytes; n - r; n - s (valid). */
	BIGNUM *r = BN_bin2bn(sig, 32, NULL), *s = BN_bin2bn(sig + 32, 32, NULL), *t = BN_new();
	uint8_t s2[64];
	memcpy(s2, sig, 64);
	BN_sub(t, ref.n, s);
	p256_ref_put(t, s2 + 32);
	check("s replaced by n - s", pub, dg, s2, 1);
	memcpy(s2, sig, 64);
	BN_sub(t, ref.n, r);
	p256_ref_put(t, s2);
	check("r replaced by n - r", pub, dg, s2, 0);
	/* Small r and s so that r + n and s + n fit in 32 bytes. */
	BIGNUM *small_r = bn_word(0), *small_s = bn_word(0);
	BN_rshift(small_r, r, 40);
	BN_rshift(small_s, s, 40);
	BN_set_bit(small_r, 0);
	BN_set_bit(small_s, 0);
	/* A signature with these r, s: R from x = r mod n needs x on the curve,
	 * so take the key from the signature instead (p256_ref_sign_R). */
	for (int tries = 0; tries < 64; tries++, BN_add_word(small_r, 2)) {
		EC_POINT *R = p256_ref_point_x(&ref, small_r);
		uint8_t kpub[64], ksig[64];
		if (R == NULL) {
			continue;
		}
		int ret = p256_ref_sign_R(&ref, R, NULL, small_s, dg, kpub, ksig);
		EC_POINT_free(R);
		if (ret != 0) {
			continue;
		}
		check("r and s below 2^216", kpub, dg, ksig, 1);
		BIGNUM *v = BN_bin2bn(ksig, 32, NULL);
		BN_add(v, v, ref.n);
		memcpy(s2, ksig, 64);
		p256_ref_put(v, s2);
		check("r replaced by r + n", kpub, dg, s2, 0);
		BN_sub(v, v, ref.n);
		BN_add(v, v, ref.p);
		p256_ref_put(v, s2);
		check("r replaced by r + p", kpub, dg, s2, 0);
		BN_free(v);
		v = BN_bin2bn(ksig + 32, 32, NULL);
		BN_add(v, v, ref.n);
		memcpy(s2, ksig, 64);
		p256_ref_put(v, s2 + 32);
		check("s replaced by s + n", kpub, dg, s2, 0);
		BN_free(v);
		/* The digest plus n denotes the same e mod n: still valid. */
		BIGNUM *e = BN_bin2bn(dg, 32, NULL);
		if (BN_num_bits(e) <= 224) {
			uint8_t dg2[32];
			BN_add(e, e, ref.n);
			p256_ref_put(e, dg2);
			check("digest replaced by digest + n", kpub, dg2, ksig, 1);
		}
		BN_free(e);
		break;
	}
	BN_free(small_r);
	BN_free(small_s);
	BN_free(r);
	BN_free(s);
	BN_free(t);
	BN_free(two256);
	BN_free(d);
	BN_free(u1);
	BN_free(u2);
}

/* Signatures valid exactly through the x(R) >= n comparison, and the
 * r + n >= p boundary. */
static void test_large_x(void)
{
	uint8_t dg[32], pub[64], sig[64], s2[64];
	memset(dg, 0x5a, sizeof(dg));
	BIGNUM *s = bn_word(0x1234567), *x = BN_dup(ref.n);
	char what[96];
	int found = 0;
	for (int i = 0; i < 200 && found < 6; i++, BN_add_word(x, 1)) {
		EC_POINT *R = p256_ref_point_x(&ref, x);
		if (R == NULL) {
			continue;
		}
		for (int neg = 0; neg < 2; neg++) {
			if (neg) {
				EC_POINT_invert(ref.group, R, ref.bn);
			}
			if (p256_ref_sign_R(&ref, R, NULL, s, dg, pub, sig) != 0) {
				continue;
			}
			snprintf(what, sizeof(what), "x(R) = n + %d (%s root): r = x - n", i,
			         neg ? "second" : "first");
			check(what, pub, dg, sig, 1);
			memcpy(s2, sig, 64);
			p256_ref_put(x, s2);
			snprintf(what, sizeof(what), "x(R) = n + %d: r = x", i);
			check(what, pub, dg, s2, 0);
			found++;
		}
		EC_POINT_free(R);
	}
	ok(found >= 6, "x(R) >= n cases found (%d)", found);

	/* The largest x < p on the curve: r = x - n, r + n < p, valid. */
	BN_sub(x, ref.p, BN_value_one());
	for (int i = 0; i < 200; i++, BN_sub_word(x, 1)) {
		EC_POINT *R = p256_ref_point_x(&ref, x);
		if (R == NULL) {
			continue;
		}
		int ret = p256_ref_sign_R(&ref, R, NULL, s, dg, pub, sig);
		EC_POINT_free(R);
		if (ret == 0) {
			check("x(R) just below p: r = x - n", pub, dg, sig, 1);
			break;
		}
	}
	/* Verification computes R with x(R) = 5 while r is something else that
	 * gives 5 when r + n is reduced mod p or mod 2^256 (the key is made for
	 * that r): r + n may only be compared when r + n < p. */
	BN_set_word(x, 5);
	EC_POINT *R = p256_ref_point_x(&ref, x);
	if (ok(R != NULL && p256_ref_sign_R(&ref, R, NULL, s, dg, pub, sig) == 0,
	       "x(R) = 5 signature")) {
		check("x(R) = 5, r = 5", pub, dg, sig, 1);
		BIGNUM *r = BN_new(), *two256 = BN_new();
		BN_set_bit(two256, 256);
		const struct {
			const char *what;
			const BIGNUM *base;   /* r = base - n + 5; NULL: r = n + 5 */
		} rc[] = {
			{ "x(R) = 5, r = p - n + 5 (r + n = p + 5)", ref.p },
			{ "x(R) = 5, r = 2^256 - n + 5 (r + n wraps to 5)", two256 },
			{ "x(R) = 5, r = n + 5 (not reduced)", NULL },
		};
		for (size_t i = 0; i < sizeof(rc) / sizeof(rc[0]); i++) {
			if (rc[i].base != NULL) {
				BN_sub(r, rc[i].base, ref.n);
			} else {
				BN_copy(r, ref.n);
			}
			BN_add_word(r, 5);
			if (ok(p256_ref_sign_R(&ref, R, r, s, dg, pub, sig) == 0, "%s: made",
			       rc[i].what)) {
				check(rc[i].what, pub, dg, sig, 0);
			}
		}
		BN_free(r);
		BN_free(two256);
	}
	EC_POINT_free(R);
	/* Verification computes x(R) = n + 3 with r = n + 3 in the signature. */
	BN_copy(x, ref.n);
	BN_add_word(x, 3);
	R = p256_ref_point_x(&ref, x);
	if (ok(R != NULL && p256_ref_sign_R(&ref, R, x, s, dg, pub, sig) == 0,
	       "x(R) = n + 3 with r = n + 3: made")) {
		check("x(R) = n + 3, r = n + 3 (not reduced)", pub, dg, sig, 0);
	}
	EC_POINT_free(R);
	BN_free(s);
	BN_free(x);
}


/* u2 = random high part + (±u1 mod 256^m), mod n: the m lowest signed
 * digits of u1 and u2 are equal or opposite. */
static BIGNUM *u2_like(const BIGNUM *u1, int m, bool neg, uint64_t *rng)
{
	BIGNUM *u2 = BN_dup(u1), *mod = BN_new(), *hi = rand_scalar(rng);
	BN_set_bit(mod, 8 * m);
	BN_rshift(hi, hi, (8 * m) < 256 ? 8 * m : 255);
	BN_lshift(hi, hi, 8 * m);
	if (neg) {
		BN_sub(u2, ref.n, u1);
	}
	BN_nnmod(u2, u2, mod, ref.bn);
	BN_add(u2, u2, hi);
	BN_nnmod(u2, u2, ref.n, ref.bn);
	BN_free(mod);
	BN_free(hi);
	return u2;
}

/* Chosen u1, u2: edge values, and sums that pass through infinity or
 * double inside the comb (Q = G and Q = -G share G's table entries). */
static void test_u(uint64_t *rng)
{
	BIGNUM *one = bn_word(1), *nm1 = bn_plus(ref.n, -1), *two128 = BN_new();
	BN_set_bit(two128, 128);
	uint8_t pub[64], dg[32], sig[64];
	BIGNUM *d = rand_scalar(rng), *rnd = rand_scalar(rng);
	BIGNUM *zero = bn_word(0);
	struct {
		const char *what;
		BIGNUM *u1, *u2;
	} uc[] = {
		{ "u1 = 1", one, rnd }, { "u1 = n - 1", nm1, rnd }, { "u2 = 1", rnd, one },
		{ "u2 = n - 1", rnd, nm1 }, { "u1 = 0 (e = 0)", zero, rnd },
		{ "u1 = 2^128", two128, rnd }, { "u1 = u2 = 1", one, one },
		{ "u1 = u2 = n - 1", nm1, nm1 },
	};
	for (size_t i = 0; i < sizeof(uc) / sizeof(uc[0]); i++) {
		if (ok(p256_ref_sign_u(&ref, d, uc[i].u1, uc[i].u2, pub, dg, sig) == 0, "%s signed",
		       uc[i].what)) {
			check(uc[i].what, pub, dg, sig, 1);
		}
	}
	/* e = 0 and e = n are the same: the u1 = 0 signature with digest n. */
	if (p256_ref_sign_u(&ref, d, zero, rnd, pub, dg, sig) == 0) {
		p256_ref_put(ref.n, dg);
		check("digest n (e = 0 mod n)", pub, dg, sig, 1);
	}

	/* Q = G (d = 1) and Q = -G (d = n - 1): u2 = ±u1 mod 256^m makes the
	 * first m windows double or cancel. */
	const BIGNUM *keys[] = { one, nm1 };
	for (int kq = 0; kq < 2; kq++) {
		for (int m = 1; m <= 32; m += (m < 4 ? 1 : 9)) {
			for (int sign = 0; sign < 2; sign++) {
				BIGNUM *u1 = rand_scalar(rng), *u2 = u2_like(u1, m, sign, rng);
				char what[96];
				snprintf(what, sizeof(what), "Q = %sG, u2 = %su1 mod 256^%d", kq ? "-" : "",
				         sign ? "-" : "", m);
				if (!BN_is_zero(u2) &&
				    p256_ref_sign_u(&ref, keys[kq], u1, u2, pub, dg, sig) == 0) {
					check(what, pub, dg, sig, 1);
				} else {
					ok(true, "%s: no such signature (u2 or k is 0)", what);
				}
				BN_free(u1);
				BN_free(u2);
			}
		}
	}

	/* u1·G + u2·Q = infinity: e = -r·d mod n, any r and s. */
	for (int kq = 0; kq < 3; kq++) {
		const BIGNUM *dk = kq == 0 ? one : kq == 1 ? nm1 : d;
		BIGNUM *r = BN_new(), *s = BN_new(), *e = BN_new();
		BN_free(r);
		r = rand_scalar(rng);
		BN_free(s);
		s = rand_scalar(rng);
		BN_mod_mul(e, r, dk, ref.n, ref.bn);
		BN_sub(e, ref.n, e);
		p256_ref_pub(&ref, dk, pub);
		p256_ref_put(e, dg);
		p256_ref_put(r, sig);
		p256_ref_put(s, sig + 32);
		check(kq == 0 ? "R = infinity (Q = G)" : kq == 1 ? "R = infinity (Q = -G)"
		                                       : "R = infinity (random key)",
		      pub, dg, sig, 0);
		BN_free(r);
		BN_free(s);
		BN_free(e);
	}
	BN_free(one);
	BN_free(nm1);
	BN_free(two128);
	BN_free(d);
	BN_free(rnd);
	BN_free(zero);
}

static void test_keys(uint64_t *rng)
{
	uint8_t pub[64], dg[32], sig[64], bad[64];
	BIGNUM *d = bn_word(7), *k = bn_word(11);
	memset(dg, 0x33, sizeof(dg));
	p256_ref_pub(&ref, d, pub);
	p256_ref_sign(&ref, d, k, dg, sig);
	check("key 7G", pub, dg, sig, 1);
	memcpy(bad, pub, 64);
	bad[63] ^= 1;
	check("key off the curve (y + 1)", bad, dg, sig, -1);
	memcpy(bad, pub, 64);
	bad[5] ^= 0x10;
	check("key off the curve (x changed)", bad, dg, sig, -1);
	memset(bad, 0, 64);
	check("key (0, 0)", bad, dg, sig, -1);
	memset(bad, 0xff, 64);
	check("key (2^256-1, 2^256-1)", bad, dg, sig, -1);
	/* y + p and x + p where they fit: the same point mod p, not reduced. */
	BIGNUM *y = BN_bin2bn(pub + 32, 32, NULL), *x = BN_bin2bn(pub, 32, NULL);
	BIGNUM *two256 = BN_new();
	BN_set_bit(two256, 256);
	BN_add(y, y, ref.p);
	if (BN_cmp(y, two256) < 0) {
		memcpy(bad, pub, 64);
		p256_ref_put(y, bad + 32);
		check("key with y + p", bad, dg, sig, -1);
	}
	/* A key whose x is small, so x + p fits: search one. */
	BIGNUM *sx = bn_word(1);
	for (int i = 0; i < 100; i++, BN_add_word(sx, 1)) {
		EC_POINT *P = p256_ref_point_x(&ref, sx);
		if (P == NULL) {
			continue;
		}
		uint8_t kp[64];
		p256_ref_point_pub(&ref, P, kp);
		EC_POINT_free(P);
		/* A valid signature for this key (Q = d·G unknown: use sign_u with
		 * a key d is not possible), so only the key parse is compared. */
		zg_p256_key_t key;
		ok(zg_p256_key_parse(&key, kp) == 0 && p256_ref_verify(&ref, kp, dg, sig) == 0,
		   "key with x = %d accepted by both", i + 1);
		BIGNUM *xp = BN_bin2bn(kp, 32, NULL);
		BN_add(xp, xp, ref.p);
		memcpy(bad, kp, 64);
		p256_ref_put(xp, bad);
		check("key with x + p", bad, dg, sig, -1);
		BN_free(xp);
		break;
	}
	/* x = 0 is on the curve: a valid key. */
	BIGNUM *zero = bn_word(0);
	EC_POINT *P0 = p256_ref_point_x(&ref, zero);
	uint8_t kp[64];
	if (ok(P0 != NULL && p256_ref_point_pub(&ref, P0, kp) == 0, "point with x = 0 exists")) {
		zg_p256_key_t key;
		ok(zg_p256_key_parse(&key, kp) == 0 && p256_ref_verify(&ref, kp, dg, sig) == 0,
		   "key with x = 0 accepted by both (signature by another key refused)");
		/* A signature valid under it, through a chosen R. */
		uint8_t rp[64], rs[64];
		BIGNUM *s = bn_word(99);
		EC_POINT *R = EC_POINT_new(ref.group);
		EC_POINT_mul(ref.group, R, k, NULL, NULL, ref.bn);
		if (p256_ref_sign_R(&ref, R, NULL, s, dg, rp, rs) == 0) {
			check("random signature with a derived key", rp, dg, rs, 1);
		}
		EC_POINT_free(R);
		BN_free(s);
	}
	EC_POINT_free(P0);
	/* Random keys: parse agrees with OpenSSL's acceptance. */
	int agree = 0, total = 0;
	for (int i = 0; i < 2000; i++) {
		uint8_t rp[64];
		p256_ref_fill(rng, rp, 64);
		if (i % 2 == 0) {
			/* a real key with one byte changed */
			BIGNUM *dd = bn_word((unsigned long)i + 2);
			p256_ref_pub(&ref, dd, rp);
			BN_free(dd);
			if (i % 4 == 0) {
				rp[i % 64] ^= (uint8_t)(1u << (i % 8));
			}
		}
		zg_p256_key_t key;
		bool mine = zg_p256_key_parse(&key, rp) == 0;
		bool theirs = p256_ref_verify(&ref, rp, dg, sig) >= 0;
		agree += mine == theirs;
		total++;
	}
	ok(agree == total, "key acceptance agrees with OpenSSL on %d keys (%d agree)", total, agree);
	BN_free(d);
	BN_free(k);
	BN_free(x);
	BN_free(y);
	BN_free(two256);
	BN_free(sx);
	BN_free(zero);
}

/* Random valid signatures and their high-s twins; special digests. */
static void test_random(uint64_t *rng)
{
	const uint8_t digests[][32] = {
		{ 0 },
		{ [31] = 1 },
		{ 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		  0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63,
		  0x25, 0x50 },   /* n - 1 */
		{ [0] = 0x80 },
		{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		  0xff, 0xff },
	};
	int good = 0, total = 0;
	for (int i = 0; i < 64; i++) {
		uint8_t pub[64], dg[32], sig[64];
		BIGNUM *d = rand_scalar(rng), *k = rand_scalar(rng);
		if (i < 5) {
			memcpy(dg, digests[i], 32);
		} else {
			p256_ref_fill(rng, dg, 32);
		}
		if (!BN_is_zero(d) && !BN_is_zero(k) && p256_ref_pub(&ref, d, pub) == 0 &&
		    p256_ref_sign(&ref, d, k, dg, sig) == 0) {
			char what[64];
			snprintf(what, sizeof(what), "random signature %d", i);
			check(what, pub, dg, sig, 1);
			BIGNUM *s = BN_bin2bn(sig + 32, 32, NULL);
			BN_sub(s, ref.n, s);
			p256_ref_put(s, sig + 32);
			snprintf(what, sizeof(what), "random signature %d, high s", i);
			check(what, pub, dg, sig, 1);
			BN_free(s);
			good++;
		}
		total++;
		BN_free(d);
		BN_free(k);
	}
	ok(good == total, "random signatures made (%d of %d)", good, total);
}

/* Every case again in one batch: once each (rounds of a few signatures per
 * key: Jacobian sums), then 16 times each (rounds of 8 keys, 128 signatures:
 * affine sums). */
static void test_batch_replay(void)
{
	for (int copies = 1; copies <= 16; copies += 15) {
		size_t n = ncases * (size_t)copies;
		zg_p256_job_t *jobs = calloc(n, sizeof(*jobs));
		for (size_t i = 0; i < n; i++) {
			size_t c = i / (size_t)copies;
			jobs[i] = (zg_p256_job_t){ .key = &cases[c].key, .digest = cases[c].digest,
			                           .sig = cases[c].sig };
		}
		zg_p256_stats_t st0, st;
		zg_p256_cache_stats(&st0);
		zg_p256_verify_batch(jobs, n);
		zg_p256_cache_stats(&st);
		size_t agree = 0;
		for (size_t i = 0; i < n; i++) {
			size_t c = i / (size_t)copies;
			if (jobs[i].ret == (cases[c].want ? 0 : DNSSEC_INVALID_SIGNATURE)) {
				agree++;
			} else if (i % (size_t)copies == 0) {
				diag("batch: %s: got %d", cases[c].what, jobs[i].ret);
			}
		}
		ok(agree == n, "batch of %zu cases x %d: every verdict as expected", ncases, copies);
		if (copies > 1) {
			ok(st.affine - st0.affine >= n / 2,
			   "batch of %zu cases x %d: in affine steps (%llu of %zu)", ncases, copies,
			   (unsigned long long)(st.affine - st0.affine), n);
		}
		free(jobs);
	}
}

/*
 * The affine batch path on its edge cases: per key (Q = G, Q = -G, a random
 * one), one batch of 160 signatures: ordinary valid ones, valid ones whose
 * sums double or cancel in the comb, R = infinity, and corrupted ones. Every
 * verdict as expected and as OpenSSL's; the batch ran in affine steps and
 * some sums were redone in Jacobian coordinates.
 */
static void test_affine_edges(uint64_t *rng)
{
	enum { NB = 160 };
	static uint8_t dg[NB][32], sig[NB][64];
	int want[NB];
	zg_p256_job_t jobs[NB];
	BIGNUM *dk[3] = { bn_word(1), bn_plus(ref.n, -1), rand_scalar(rng) };
	const char *names[3] = { "Q = G", "Q = -G", "random key" };
	zg_p256_stats_t st0, st;
	zg_p256_cache_stats(&st0);
	for (int q = 0; q < 3; q++) {
		uint8_t pub[64];
		p256_ref_pub(&ref, dk[q], pub);
		zg_p256_key_t key;
		zg_p256_key_parse(&key, pub);
		int made = 0;
		for (int i = 0; i < NB; i++) {
			int kind = i % 5;
			BIGNUM *u1 = rand_scalar(rng);
			BIGNUM *u2 = kind == 1 || kind == 2 ? u2_like(u1, 1 + i % 4, kind == 2, rng)
			                                    : rand_scalar(rng);
			uint8_t kp[64];
			want[i] = kind == 3 || kind == 4 ? 0 : 1;
			if (BN_is_zero(u2) || p256_ref_sign_u(&ref, dk[q], u1, u2, kp, dg[i], sig[i]) != 0) {
				/* no such signature: an invalid one instead */
				memset(sig[i], 0, 64);
				want[i] = 0;
			} else {
				made++;
			}
			if (kind == 3) {
				/* e = -r·d: R = infinity */
				BIGNUM *r = BN_bin2bn(sig[i], 32, NULL), *e = BN_new();
				BN_mod_mul(e, r, dk[q], ref.n, ref.bn);
				BN_sub(e, ref.n, e);
				p256_ref_put(e, dg[i]);
				BN_free(r);
				BN_free(e);
			} else if (kind == 4) {
				sig[i][33 + i % 31] ^= 0x10;
			}
			jobs[i] = (zg_p256_job_t){ .key = &key, .digest = dg[i], .sig = sig[i] };
			BN_free(u1);
			BN_free(u2);
		}
		zg_p256_verify_batch(jobs, NB);
		int right = 0, agree = 0;
		for (int i = 0; i < NB; i++) {
			int got = jobs[i].ret == 0 ? 1 : jobs[i].ret == DNSSEC_INVALID_SIGNATURE ? 0 : -1;
			right += got == want[i];
			agree += got == p256_ref_verify(&ref, pub, dg[i], sig[i]);
		}
		ok(made > NB * 3 / 4 && right == NB && agree == NB,
		   "affine batch, %s: %d signatures, every verdict as expected (%d) and as OpenSSL's (%d)",
		   names[q], NB, right, agree);
	}
	zg_p256_cache_stats(&st);
	ok(st.affine >= st0.affine + 3 * NB * 3 / 5,
	   "the batches ran in affine steps (%llu signatures)",
	   (unsigned long long)(st.affine - st0.affine));
	ok(st.affine_special > st0.affine_special,
	   "doublings and cancellations were redone in Jacobian coordinates (%llu)",
	   (unsigned long long)(st.affine_special - st0.affine_special));
	for (int q = 0; q < 3; q++) {
		BN_free(dk[q]);
	}
}

/* ---- cache ---- */

#define TKEYS 5
static struct {
	zg_p256_key_t key;
	uint8_t pub[64];
	uint8_t dg[16][32], sig[16][64];
} tkeys[TKEYS];

static void make_tkeys(uint64_t *rng)
{
	for (int i = 0; i < TKEYS; i++) {
		BIGNUM *d = bn_word(1000 + (unsigned long)i);
		p256_ref_pub(&ref, d, tkeys[i].pub);
		zg_p256_key_parse(&tkeys[i].key, tkeys[i].pub);
		for (int j = 0; j < 16; j++) {
			BIGNUM *k = bn_word(5000 + 16 * (unsigned long)i + (unsigned long)j);
			p256_ref_fill(rng, tkeys[i].dg[j], 32);
			p256_ref_sign(&ref, d, k, tkeys[i].dg[j], tkeys[i].sig[j]);
			if (j % 2) {
				tkeys[i].sig[j][40] ^= 4;   /* odd ones invalid */
			}
			BN_free(k);
		}
		BN_free(d);
	}
}

static int tkey_round(int key, bool batch)
{
	int wrong = 0;
	if (batch) {
		zg_p256_job_t jobs[16];
		for (int j = 0; j < 16; j++) {
			jobs[j] = (zg_p256_job_t){ .key = &tkeys[key].key, .digest = tkeys[key].dg[j],
			                           .sig = tkeys[key].sig[j] };
		}
		zg_p256_verify_batch(jobs, 16);
		for (int j = 0; j < 16; j++) {
			wrong += jobs[j].ret != (j % 2 ? DNSSEC_INVALID_SIGNATURE : 0) &&
			         jobs[j].ret != -EAGAIN;
		}
	} else {
		for (int j = 0; j < 16; j++) {
			int r = zg_p256_verify(&tkeys[key].key, tkeys[key].dg[j], tkeys[key].sig[j]);
			wrong += r != (j % 2 ? DNSSEC_INVALID_SIGNATURE : 0) && r != -EAGAIN;
		}
	}
	return wrong;
}

static void *cache_thread(void *arg)
{
	uintptr_t id = (uintptr_t)arg;
	int wrong = 0;
	for (int i = 0; i < 40; i++) {
		wrong += tkey_round((int)((id + (uintptr_t)i) % TKEYS), i % 2);
	}
	return (void *)(uintptr_t)wrong;
}

static void test_cache(void)
{
	zg_p256_stats_t st0, st;
	zg_p256_cache_set_size(0);
	zg_p256_cache_stats(&st0);
	is_int(st0.tables, 0, "cache size 0: no table kept");
	is_int(zg_p256_verify(&tkeys[0].key, tkeys[0].dg[0], tkeys[0].sig[0]), -EAGAIN,
	       "cache size 0: verification left to the caller (-EAGAIN)");
	zg_p256_cache_stats(&st);
	ok(st.fallbacks > st0.fallbacks, "cache size 0: fallback counted");

	zg_p256_cache_set_size(2);
	int wrong = 0;
	for (int round = 0; round < 3; round++) {
		for (int k = 0; k < 3; k++) {
			wrong += tkey_round(k, round % 2);
			int r = zg_p256_verify(&tkeys[k].key, tkeys[k].dg[0], tkeys[k].sig[0]);
			wrong += r != 0;   /* a table is free for the taking: never -EAGAIN */
		}
	}
	zg_p256_cache_stats(&st);
	is_int(wrong, 0, "cache of 2, 3 keys in turn: every verdict right");
	is_int(st.tables, 2, "cache of 2: 2 tables kept");
	ok(st.evictions >= 7 && st.builds >= st0.builds + 9,
	   "cache of 2, 3 keys in turn: tables dropped and rebuilt (%llu builds, %llu evictions)",
	   (unsigned long long)st.builds, (unsigned long long)st.evictions);
	is_int((long long)st.bytes, (long long)(3 * ZG_P256_TABLE_BYTES),
	       "memory: 2 key tables and G's");
	ok(st.capacity == 2, "capacity reported");

	/* Threads over 5 keys with room for 2: waits, evictions, fallbacks. */
	pthread_t t[4];
	for (uintptr_t i = 0; i < 4; i++) {
		pthread_create(&t[i], NULL, cache_thread, (void *)i);
	}
	wrong = 0;
	for (int i = 0; i < 4; i++) {
		void *w = NULL;
		pthread_join(t[i], &w);
		wrong += (int)(uintptr_t)w;
	}
	zg_p256_cache_stats(&st);
	is_int(wrong, 0, "4 threads, 5 keys, cache of 2: every verdict right");
	ok(st.tables <= 2, "4 threads, cache of 2: at most 2 tables (%u)", st.tables);

	zg_p256_cache_set_size(1);
	zg_p256_cache_stats(&st);
	is_int(st.tables, 1, "cache shrunk to 1: 1 table left");
	zg_p256_cache_set_size(100000);
	zg_p256_cache_stats(&st);
	is_int(st.capacity, ZG_P256_CACHE_MAX, "cache size capped at ZG_P256_CACHE_MAX");
	zg_p256_cache_set_size(ZG_P256_CACHE_DEFAULT);
}

/* ---- validate/crypto.h: key switch, batches, fallback ---- */

static void dnskey(uint8_t rd[68], const uint8_t pub[64])
{
	rd[0] = 1;
	rd[1] = 0;
	rd[2] = 3;
	rd[3] = 13;
	memcpy(rd + 4, pub, 64);
}

static void test_crypto_batch(uint64_t *rng)
{
	zg_crypto_ctx_t *ctx = NULL;
	is_int(zg_crypto_ctx_new(&ctx), 0, "crypto context");
	uint8_t rd[68];
	BIGNUM *d = bn_word(424242);
	uint8_t pub[64];
	p256_ref_pub(&ref, d, pub);
	dnskey(rd, pub);
	zg_key_t *key = NULL, *okey = NULL;
	is_int(zg_key_new(&key, rd, 68), 0, "DNSKEY alg 13 parsed");
	is_int(zg_key_new(&okey, rd, 68), 0, "same DNSKEY parsed again");
	ok(zg_key_native(key) == zg_crypto_p256_native(), "native verifier unless ZG_P256=openssl");
	zg_key_use_openssl(okey);
	ok(!zg_key_native(okey), "zg_key_use_openssl() switches the key to OpenSSL");

	enum { NSIG = 300 };
	uint8_t (*data)[48] = calloc(NSIG, 48), (*sig)[64] = calloc(NSIG, 64);
	bool *valid = calloc(NSIG, sizeof(bool));
	for (int i = 0; i < NSIG; i++) {
		uint8_t dg[32];
		unsigned dl = 0;
		p256_ref_fill(rng, data[i], 48);
		EVP_Digest(data[i], 48, dg, &dl, EVP_sha256(), NULL);
		BIGNUM *k = bn_word(77 + (unsigned long)i);
		p256_ref_sign(&ref, d, k, dg, sig[i]);
		BN_free(k);
		valid[i] = i % 3 != 0;
		if (!valid[i]) {
			sig[i][(i * 7) % 64] ^= 0x20;
		}
	}
	int wrong_single = 0, wrong_openssl = 0, wrong_batch = 0, queued = 0;
	for (int i = 0; i < NSIG; i++) {
		int want = valid[i] ? 0 : DNSSEC_INVALID_SIGNATURE;
		wrong_single += zg_crypto_verify(ctx, key, data[i], 48, sig[i], 64) != want;
		wrong_openssl += zg_crypto_verify(ctx, okey, data[i], 48, sig[i], 64) != want;
		queued += zg_crypto_batch_add(ctx, key, data[i], 48, sig[i], 64) == i;
	}
	is_int(wrong_single, 0, "zg_crypto_verify(): %d signatures, every verdict right", NSIG);
	is_int(wrong_openssl, 0, "zg_crypto_verify() through OpenSSL: every verdict right");
	if (zg_key_native(key)) {
		is_int(queued, NSIG, "every signature queued in order");
		zg_crypto_batch_run(ctx);
		for (int i = 0; i < NSIG; i++) {
			wrong_batch += zg_crypto_batch_result(ctx, (size_t)i) !=
			               (valid[i] ? 0 : DNSSEC_INVALID_SIGNATURE);
		}
		is_int(wrong_batch, 0, "batch of %d: every verdict right", NSIG);
		is_int(zg_crypto_batch_result(ctx, NSIG), KNOT_EINVAL, "index past the batch refused");
		/* Cache off: the batch falls back to OpenSSL with the same verdicts. */
		zg_crypto_batch_clear(ctx);
		zg_p256_cache_set_size(0);
		for (int i = 0; i < NSIG; i++) {
			zg_crypto_batch_add(ctx, key, data[i], 48, sig[i], 64);
		}
		zg_crypto_batch_run(ctx);
		wrong_batch = 0;
		for (int i = 0; i < NSIG; i++) {
			wrong_batch += zg_crypto_batch_result(ctx, (size_t)i) !=
			               (valid[i] ? 0 : DNSSEC_INVALID_SIGNATURE);
			wrong_single += zg_crypto_verify(ctx, key, data[i], 48, sig[i], 64) !=
			                (valid[i] ? 0 : DNSSEC_INVALID_SIGNATURE);
		}
		is_int(wrong_batch, 0, "cache off: batch verdicts from OpenSSL, every one right");
		is_int(wrong_single, 0, "cache off: single verdicts from OpenSSL, every one right");
		zg_p256_cache_set_size(ZG_P256_CACHE_DEFAULT);
	} else {
		for (int i = 0; i < 4; i++) {
			ok(true, "# SKIP ZG_P256=openssl");
		}
	}
	is_int(zg_crypto_batch_add(ctx, okey, data[0], 48, sig[0], 64), ZG_ENOTSUP,
	       "OpenSSL key not queued");
	is_int(zg_crypto_batch_add(ctx, key, data[0], 48, sig[0], 63), ZG_ENOTSUP,
	       "63-byte signature not queued");
	is_int(zg_crypto_verify(ctx, key, data[0], 48, sig[0], 63), DNSSEC_MALFORMED_DATA,
	       "63-byte signature malformed");
	free(data);
	free(sig);
	free(valid);
	BN_free(d);
	zg_key_free(key);
	zg_key_free(okey);
	zg_crypto_ctx_free(ctx);
}

int main(void)
{
	plan_lazy();
	if (p256_ref_init(&ref) != 0) {
		skip_all("OpenSSL EC group unavailable");
	}
	uint64_t rng = 0x7a6f6e6567617465ull;   /* fixed seed */
	test_fixed();
	test_ranges(&rng);
	test_large_x();
	test_u(&rng);
	test_keys(&rng);
	test_random(&rng);
	test_batch_replay();
	test_affine_edges(&rng);
	make_tkeys(&rng);
	test_cache();
	test_crypto_batch(&rng);
	p256_ref_deinit(&ref);
	return done_testing();
}
