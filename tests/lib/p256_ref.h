/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * OpenSSL side of the P-256 tests (test_p256, test_p256_diff, fuzz_p256):
 * builds signatures with chosen internals through OpenSSL's EC and BIGNUM
 * API, and gives OpenSSL's own verdict (EVP_PKEY_verify over the digest,
 * the path lib/validate/crypto.c uses without the native verifier).
 *
 * Integers are 32-byte big-endian buffers unless a BIGNUM is asked for.
 * Not thread-safe: one p256_ref_t per thread.
 */
#ifndef ZG_TESTS_P256_REF_H
#define ZG_TESTS_P256_REF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

typedef struct {
	EC_GROUP *group;
	BN_CTX *bn;
	BIGNUM *n, *p;       /* order, field prime */
	/* Keys given to p256_ref_verify(), with OpenSSL's verify contexts. */
	struct {
		uint8_t pub[64];
		EVP_PKEY_CTX *pctx;    /* NULL: OpenSSL refused the key */
		bool used;
	} keys[8];
	unsigned next_key;
} p256_ref_t;

/* Returns 0 or -1. */
int p256_ref_init(p256_ref_t *ref);
void p256_ref_deinit(p256_ref_t *ref);

/* BIGNUM from 32 bytes (the caller frees it). */
BIGNUM *p256_ref_bn(const uint8_t b[32]);
/* Writes v mod 2^256 as 32 bytes (v must be non-negative and < 2^256). */
void p256_ref_put(const BIGNUM *v, uint8_t out[32]);

/* pub = x | y of d·G. Returns 0 or -1. */
int p256_ref_pub(p256_ref_t *ref, const BIGNUM *d, uint8_t pub[64]);

/* pub = x | y of an EC point (not infinity). Returns 0 or -1. */
int p256_ref_point_pub(p256_ref_t *ref, const EC_POINT *pt, uint8_t pub[64]);

/*
 * A valid signature with chosen u1 = e/s and u2 = r/s for the key d·G:
 * k = u1 + u2·d, R = k·G, r = x(R) mod n, s = r/u2, e = u1·s (digest e < n).
 * Returns 0, or -1 when k = 0 or r = 0 (choose again).
 */
int p256_ref_sign_u(p256_ref_t *ref, const BIGNUM *d, const BIGNUM *u1, const BIGNUM *u2,
                    uint8_t pub[64], uint8_t digest[32], uint8_t sig[64]);

/*
 * A signature whose point R is chosen: the key is derived, Q = r⁻¹(s·R - e·G),
 * so that verification computes exactly R. With \a r NULL, r = x(R) mod n
 * (a valid signature); otherwise the given r (1 <= r < 2^256, invertible
 * mod n) goes into the signature, to test what x(R) it must not match.
 * \a digest is used as given (e = digest mod n in the equation).
 * Returns 0, or -1 when r = 0 mod n, s = 0 or Q is infinity.
 */
int p256_ref_sign_R(p256_ref_t *ref, const EC_POINT *R, const BIGNUM *r, const BIGNUM *s,
                    const uint8_t digest[32], uint8_t pub[64], uint8_t sig[64]);

/* An ordinary signature by d with nonce k (both in [1, n-1]). Returns 0 or -1. */
int p256_ref_sign(p256_ref_t *ref, const BIGNUM *d, const BIGNUM *k, const uint8_t digest[32],
                  uint8_t sig[64]);

/*
 * OpenSSL's verdict on (pub, digest, r | s): 1 valid, 0 invalid, -1 when
 * OpenSSL refuses the public key.
 */
int p256_ref_verify(p256_ref_t *ref, const uint8_t pub[64], const uint8_t digest[32],
                    const uint8_t sig[64]);

/* A point with x-coordinate x (either root), or NULL when x is not on the curve. */
EC_POINT *p256_ref_point_x(p256_ref_t *ref, const BIGNUM *x);

/* splitmix64: the tests' reproducible random stream. */
static inline uint64_t p256_ref_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* Fills \a len bytes from the stream. */
void p256_ref_fill(uint64_t *state, uint8_t *out, size_t len);

/* A scalar in [0, n-1] from the stream (the caller frees it). */
BIGNUM *p256_ref_rand_scalar(p256_ref_t *ref, uint64_t *state);

/* A private key in [1, n-1] from the stream and its public key x | y. */
BIGNUM *p256_ref_rand_key(p256_ref_t *ref, uint64_t *state, uint8_t pub[64]);

#endif /* ZG_TESTS_P256_REF_H */
