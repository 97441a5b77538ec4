/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>

#include "p256_ref.h"

int p256_ref_init(p256_ref_t *ref)
{
	memset(ref, 0, sizeof(*ref));
	ref->group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
	ref->bn = BN_CTX_new();
	ref->n = BN_new();
	ref->p = BN_new();
	if (ref->group == NULL || ref->bn == NULL || ref->n == NULL || ref->p == NULL ||
	    EC_GROUP_get_order(ref->group, ref->n, ref->bn) != 1 ||
	    EC_GROUP_get_curve(ref->group, ref->p, NULL, NULL, ref->bn) != 1) {
		p256_ref_deinit(ref);
		return -1;
	}
	return 0;
}

void p256_ref_deinit(p256_ref_t *ref)
{
	EC_GROUP_free(ref->group);
	BN_CTX_free(ref->bn);
	BN_free(ref->n);
	BN_free(ref->p);
	for (int i = 0; i < 8; i++) {
		EVP_PKEY_CTX_free(ref->keys[i].pctx);
	}
	memset(ref, 0, sizeof(*ref));
}

BIGNUM *p256_ref_bn(const uint8_t b[32])
{
	return BN_bin2bn(b, 32, NULL);
}

void p256_ref_put(const BIGNUM *v, uint8_t out[32])
{
	BN_bn2binpad(v, out, 32);
}

void p256_ref_fill(uint64_t *state, uint8_t *out, size_t len)
{
	for (size_t i = 0; i < len; i += 8) {
		uint64_t v = p256_ref_rand(state);
		for (size_t k = 0; k < 8 && i + k < len; k++) {
			out[i + k] = (uint8_t)(v >> (8 * k));
		}
	}
}

BIGNUM *p256_ref_rand_scalar(p256_ref_t *ref, uint64_t *state)
{
	uint8_t b[32];
	p256_ref_fill(state, b, 32);
	BIGNUM *v = BN_bin2bn(b, 32, NULL);
	BN_nnmod(v, v, ref->n, ref->bn);
	return v;
}

BIGNUM *p256_ref_rand_key(p256_ref_t *ref, uint64_t *state, uint8_t pub[64])
{
	BIGNUM *d = p256_ref_rand_scalar(ref, state);
	while (BN_is_zero(d)) {
		BN_free(d);
		d = p256_ref_rand_scalar(ref, state);
	}
	p256_ref_pub(ref, d, pub);
	return d;
}

int p256_ref_point_pub(p256_ref_t *ref, const EC_POINT *pt, uint8_t pub[64])
{
	BIGNUM *x = BN_new(), *y = BN_new();
	int ret = -1;
	if (x != NULL && y != NULL && !EC_POINT_is_at_infinity(ref->group, pt) &&
	    EC_POINT_get_affine_coordinates(ref->group, pt, x, y, ref->bn) == 1) {
		p256_ref_put(x, pub);
		p256_ref_put(y, pub + 32);
		ret = 0;
	}
	BN_free(x);
	BN_free(y);
	return ret;
}

int p256_ref_pub(p256_ref_t *ref, const BIGNUM *d, uint8_t pub[64])
{
	EC_POINT *q = EC_POINT_new(ref->group);
	int ret = -1;
	if (q != NULL && EC_POINT_mul(ref->group, q, d, NULL, NULL, ref->bn) == 1) {
		ret = p256_ref_point_pub(ref, q, pub);
	}
	EC_POINT_free(q);
	return ret;
}

/* x(P) mod n for P = k·G (or the given point); -1 for infinity or r = 0. */
static int point_r(p256_ref_t *ref, const EC_POINT *pt, BIGNUM *r)
{
	BIGNUM *x = BN_new();
	int ret = -1;
	if (x != NULL && !EC_POINT_is_at_infinity(ref->group, pt) &&
	    EC_POINT_get_affine_coordinates(ref->group, pt, x, NULL, ref->bn) == 1 &&
	    BN_nnmod(r, x, ref->n, ref->bn) == 1 && !BN_is_zero(r)) {
		ret = 0;
	}
	BN_free(x);
	return ret;
}

int p256_ref_sign_u(p256_ref_t *ref, const BIGNUM *d, const BIGNUM *u1, const BIGNUM *u2,
                    uint8_t pub[64], uint8_t digest[32], uint8_t sig[64])
{
	BN_CTX *c = ref->bn;
	BIGNUM *k = BN_new(), *r = BN_new(), *s = BN_new(), *e = BN_new(), *inv = BN_new();
	EC_POINT *R = EC_POINT_new(ref->group);
	int ret = -1;
	if (k == NULL || r == NULL || s == NULL || e == NULL || inv == NULL || R == NULL ||
	    BN_is_zero(u2)) {
		goto out;
	}
	/* k = u1 + u2·d; R = k·G */
	if (BN_mod_mul(k, u2, d, ref->n, c) != 1 || BN_mod_add(k, k, u1, ref->n, c) != 1 ||
	    BN_is_zero(k) || EC_POINT_mul(ref->group, R, k, NULL, NULL, c) != 1 ||
	    point_r(ref, R, r) != 0) {
		goto out;
	}
	/* s = r/u2, e = u1·s */
	if (BN_mod_inverse(inv, u2, ref->n, c) == NULL || BN_mod_mul(s, r, inv, ref->n, c) != 1 ||
	    BN_mod_mul(e, u1, s, ref->n, c) != 1 || p256_ref_pub(ref, d, pub) != 0) {
		goto out;
	}
	p256_ref_put(e, digest);
	p256_ref_put(r, sig);
	p256_ref_put(s, sig + 32);
	ret = 0;
out:
	BN_free(k);
	BN_free(r);
	BN_free(s);
	BN_free(e);
	BN_free(inv);
	EC_POINT_free(R);
	return ret;
}

int p256_ref_sign_R(p256_ref_t *ref, const EC_POINT *R, const BIGNUM *r_given,
                    const BIGNUM *s, const uint8_t digest[32], uint8_t pub[64], uint8_t sig[64])
{
	BN_CTX *c = ref->bn;
	BIGNUM *r = BN_new(), *e = BN_bin2bn(digest, 32, NULL), *rinv = BN_new();
	EC_POINT *Q = EC_POINT_new(ref->group);
	int ret = -1;
	if (r == NULL || e == NULL || rinv == NULL || Q == NULL || BN_is_zero(s) ||
	    (r_given == NULL && point_r(ref, R, r) != 0) ||
	    (r_given != NULL && BN_copy(r, r_given) == NULL) || BN_nnmod(e, e, ref->n, c) != 1 ||
	    BN_mod_inverse(rinv, r, ref->n, c) == NULL) {
		goto out;
	}
	/* Q = r⁻¹·s·R + (-r⁻¹·e)·G */
	BIGNUM *a = BN_new(), *b = BN_new();
	int ok = a != NULL && b != NULL && BN_mod_mul(a, rinv, s, ref->n, c) == 1 &&
	         BN_mod_mul(b, rinv, e, ref->n, c) == 1 && BN_mod_sub(b, ref->n, b, ref->n, c) == 1 &&
	         EC_POINT_mul(ref->group, Q, b, R, a, c) == 1 && p256_ref_point_pub(ref, Q, pub) == 0;
	BN_free(a);
	BN_free(b);
	if (!ok) {
		goto out;
	}
	p256_ref_put(r, sig);
	p256_ref_put(s, sig + 32);
	ret = 0;
out:
	BN_free(r);
	BN_free(e);
	BN_free(rinv);
	EC_POINT_free(Q);
	return ret;
}

int p256_ref_sign(p256_ref_t *ref, const BIGNUM *d, const BIGNUM *k, const uint8_t digest[32],
                  uint8_t sig[64])
{
	BN_CTX *c = ref->bn;
	BIGNUM *r = BN_new(), *s = BN_new(), *e = BN_bin2bn(digest, 32, NULL), *kinv = BN_new();
	EC_POINT *R = EC_POINT_new(ref->group);
	int ret = -1;
	if (r != NULL && s != NULL && e != NULL && kinv != NULL && R != NULL &&
	    EC_POINT_mul(ref->group, R, k, NULL, NULL, c) == 1 && point_r(ref, R, r) == 0 &&
	    BN_nnmod(e, e, ref->n, c) == 1 && BN_mod_inverse(kinv, k, ref->n, c) != NULL &&
	    BN_mod_mul(s, r, d, ref->n, c) == 1 && BN_mod_add(s, s, e, ref->n, c) == 1 &&
	    BN_mod_mul(s, s, kinv, ref->n, c) == 1 && !BN_is_zero(s)) {
		p256_ref_put(r, sig);
		p256_ref_put(s, sig + 32);
		ret = 0;
	}
	BN_free(r);
	BN_free(s);
	BN_free(e);
	BN_free(kinv);
	EC_POINT_free(R);
	return ret;
}

/* OpenSSL's verify context for a public key, NULL if it refuses the key. */
static EVP_PKEY_CTX *pctx_from_pub(const uint8_t pub[64])
{
	uint8_t point[65];
	point[0] = 0x04;
	memcpy(point + 1, pub, 64);
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL), *vctx = NULL;
	EVP_PKEY *pkey = NULL;
	if (bld != NULL && pctx != NULL &&
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) == 1 &&
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, 65) == 1 &&
	    (params = OSSL_PARAM_BLD_to_param(bld)) != NULL && EVP_PKEY_fromdata_init(pctx) == 1 &&
	    EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1) {
		vctx = EVP_PKEY_CTX_new(pkey, NULL);
		if (vctx != NULL && EVP_PKEY_verify_init(vctx) != 1) {
			EVP_PKEY_CTX_free(vctx);
			vctx = NULL;
		}
	}
	EVP_PKEY_free(pkey);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(pctx);
	ERR_clear_error();
	return vctx;
}

int p256_ref_verify(p256_ref_t *ref, const uint8_t pub[64], const uint8_t digest[32],
                    const uint8_t sig[64])
{
	EVP_PKEY_CTX *pctx = NULL;
	bool found = false;
	for (int i = 0; i < 8 && !found; i++) {
		if (ref->keys[i].used && memcmp(ref->keys[i].pub, pub, 64) == 0) {
			pctx = ref->keys[i].pctx;
			found = true;
		}
	}
	if (!found) {
		unsigned i = ref->next_key++ % 8;
		EVP_PKEY_CTX_free(ref->keys[i].pctx);
		pctx = ref->keys[i].pctx = pctx_from_pub(pub);
		memcpy(ref->keys[i].pub, pub, 64);
		ref->keys[i].used = true;
	}
	if (pctx == NULL) {
		return -1;
	}
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, 32, NULL), *s = BN_bin2bn(sig + 32, 32, NULL);
	if (es == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(es, r, s) != 1) {
		ECDSA_SIG_free(es);
		BN_free(r);
		BN_free(s);
		return -2;
	}
	uint8_t der[80], *w = der;
	int dlen = i2d_ECDSA_SIG(es, &w);
	ECDSA_SIG_free(es);
	int v = dlen > 0 && EVP_PKEY_verify(pctx, der, (size_t)dlen, digest, 32) == 1 ? 1 : 0;
	ERR_clear_error();
	return v;
}

EC_POINT *p256_ref_point_x(p256_ref_t *ref, const BIGNUM *x)
{
	EC_POINT *pt = EC_POINT_new(ref->group);
	if (pt != NULL && EC_POINT_set_compressed_coordinates(ref->group, pt, x, 0, ref->bn) == 1) {
		return pt;
	}
	ERR_clear_error();
	EC_POINT_free(pt);
	return NULL;
}
