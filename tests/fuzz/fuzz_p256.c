/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Differential fuzz harness: the native P-256 verifier against OpenSSL on
 * keys, digests and signatures taken from the input; aborts on any
 * disagreement (key acceptance or verdict, one at a time or in a batch of
 * 100 signatures, which takes the affine path).
 *
 *   clang -g -O1 -fsanitize=fuzzer,address -Ilib -Itests/lib \
 *       tests/fuzz/fuzz_p256.c tests/lib/p256_ref.c lib/validate/p256.c \
 *       $(pkg-config --cflags libknot libdnssec) -lcrypto -lpthread -o fuzz_p256
 *   ./fuzz_p256 -max_len=256 tests/fuzz/corpus/p256
 *
 * make check replays the seed corpus with tests/fuzz/replay.c instead.
 *
 * Input: a mode byte, then
 *   0: public key (64), digest (32), signature (64), as given (zero-padded);
 *   1: key index or scalar, u1, u2 (32 each): a valid signature with these
 *      u1 = e/s and u2 = r/s (p256_ref_sign_u);
 *   2: x (32), s (32), digest (32), r flag (1), r (32): a signature whose
 *      point R has x-coordinate x (if on the curve), with r = x(R) mod n or
 *      the r given (p256_ref_sign_R);
 *   3: key scalar, nonce, digest (32 each): an ordinary signature;
 * and for modes 1-3, the rest of the input as (position, xor) byte pairs
 * applied to digest | signature (96 bytes).
 * Keys of modes 1 and 3 with a first byte below 8 are one of 8 small keys,
 * so that most inputs reuse a cached table.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libdnssec/error.h>

#include "validate/p256.h"
#include "p256_ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Jobs of the batch check: at least lib/validate/p256.c's AFFINE_MIN (96). */
#define BATCH 100

static p256_ref_t ref;
static bool ref_ready;

/* Bytes [off, off + len) of the input, zero-padded. */
static void take(const uint8_t *data, size_t size, size_t off, uint8_t *out, size_t len)
{
	memset(out, 0, len);
	if (off < size) {
		memcpy(out, data + off, size - off < len ? size - off : len);
	}
}

/* A scalar in [1, n-1] from 32 bytes; a first byte below 8 picks key 1..8. */
static BIGNUM *scalar(const uint8_t b[32], bool small)
{
	BIGNUM *v = BN_new();
	if (small && b[0] < 8) {
		BN_set_word(v, (unsigned long)b[0] + 1);
		return v;
	}
	BN_bin2bn(b, 32, v);
	BN_nnmod(v, v, ref.n, ref.bn);
	if (BN_is_zero(v)) {
		BN_one(v);
	}
	return v;
}

static void compare(const uint8_t pub[64], const uint8_t digest[32], const uint8_t sig[64])
{
	zg_p256_key_t key;
	bool mine = zg_p256_key_parse(&key, pub) == 0;
	int theirs = p256_ref_verify(&ref, pub, digest, sig);
	if (mine != (theirs >= 0)) {
		abort();   /* key acceptance differs */
	}
	if (!mine) {
		return;
	}
	/* One thread: a table is always to be had, so never -EAGAIN. */
	int r = zg_p256_verify(&key, digest, sig);
	if ((r == 0) != (theirs == 1) || (r != 0 && r != DNSSEC_INVALID_SIGNATURE)) {
		abort();
	}
	/* In a batch large enough for the affine path (BATCH jobs), alternating
	 * with its twin whose s is replaced by n - s (valid or not alike). */
	uint8_t twin[64];
	memcpy(twin, sig, 64);
	BIGNUM *s = BN_bin2bn(sig + 32, 32, NULL);
	if (BN_cmp(s, ref.n) < 0 && !BN_is_zero(s)) {
		BN_sub(s, ref.n, s);
		p256_ref_put(s, twin + 32);
	}
	BN_free(s);
	zg_p256_job_t jobs[BATCH];
	for (int i = 0; i < BATCH; i++) {
		jobs[i] = (zg_p256_job_t){ .key = &key, .digest = digest, .sig = i % 2 ? sig : twin };
	}
	zg_p256_verify_batch(jobs, BATCH);
	int twin_ref = p256_ref_verify(&ref, pub, digest, twin);
	for (int i = 0; i < BATCH; i++) {
		int want = i % 2 ? theirs : twin_ref;
		if ((jobs[i].ret == 0) != (want == 1) ||
		    (jobs[i].ret != 0 && jobs[i].ret != DNSSEC_INVALID_SIGNATURE)) {
			abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ref_ready) {
		if (p256_ref_init(&ref) != 0) {
			abort();
		}
		ref_ready = true;
	}
	if (size < 1) {
		return 0;
	}
	uint8_t pub[64], buf[96], a[32], b[32], c[32];   /* buf: digest | signature */
	uint8_t *digest = buf, *sig = buf + 32;
	size_t rest = size;
	int made = -1;
	switch (data[0] % 4) {
	case 0:
		take(data, size, 1, pub, 64);
		take(data, size, 65, buf, 96);
		compare(pub, digest, sig);
		return 0;
	case 1: {
		take(data, size, 1, a, 32);
		take(data, size, 33, b, 32);
		take(data, size, 65, c, 32);
		BIGNUM *d = scalar(a, true), *u1 = BN_bin2bn(b, 32, NULL), *u2 = BN_bin2bn(c, 32, NULL);
		BN_nnmod(u1, u1, ref.n, ref.bn);
		BN_nnmod(u2, u2, ref.n, ref.bn);
		made = p256_ref_sign_u(&ref, d, u1, u2, pub, digest, sig);
		BN_free(d);
		BN_free(u1);
		BN_free(u2);
		rest = 97;
		break;
	}
	case 2: {
		take(data, size, 1, a, 32);
		take(data, size, 33, b, 32);
		take(data, size, 65, digest, 32);
		uint8_t flag = size > 97 ? data[97] : 0;
		take(data, size, 98, c, 32);
		BIGNUM *x = BN_bin2bn(a, 32, NULL), *s = scalar(b, false), *r = BN_bin2bn(c, 32, NULL);
		BN_nnmod(x, x, ref.p, ref.bn);
		EC_POINT *R = p256_ref_point_x(&ref, x);
		if (R != NULL) {
			made = p256_ref_sign_R(&ref, R, (flag & 1) && !BN_is_zero(r) ? r : NULL, s,
			                       digest, pub, sig);
		}
		EC_POINT_free(R);
		BN_free(x);
		BN_free(s);
		BN_free(r);
		rest = 130;
		break;
	}
	case 3: {
		take(data, size, 1, a, 32);
		take(data, size, 33, b, 32);
		take(data, size, 65, digest, 32);
		BIGNUM *d = scalar(a, true), *k = scalar(b, false);
		made = p256_ref_pub(&ref, d, pub) == 0 ? p256_ref_sign(&ref, d, k, digest, sig) : -1;
		BN_free(d);
		BN_free(k);
		rest = 97;
		break;
	}
	}
	if (made != 0) {
		return 0;
	}
	for (size_t i = rest; i + 1 < size; i += 2) {
		buf[data[i] % 96] ^= data[i + 1];
	}
	compare(pub, digest, sig);
	return 0;
}
