/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <libdnssec/error.h>
#include <libknot/errcode.h>

#include "validate/p256.h"

typedef unsigned __int128 u128;

/* Affine point (x, y) and Jacobian point (X : Y : Z) = (X/Z², Y/Z³), Z = 0
 * the point at infinity; coordinates in Montgomery form mod p. */
typedef struct {
	uint64_t x[4], y[4];
} aff_t;

typedef struct {
	uint64_t x[4], y[4], z[4];
} jac_t;

/* Comb: window i (0..31) holds j·2^(8i)·P for j = 1..128; the last entry is
 * 2^256·P, for the carry out of the top signed digit. */
#define WINDOWS 32
#define WIN_POINTS 128
#define TABLE_POINTS (WINDOWS * WIN_POINTS + 1)
#define DIGITS (WINDOWS + 1)

/* Signatures per block of a small batch (lanes on the stack). */
#define BLOCK 64
/* Distinct keys whose tables one round holds at once. */
#define BLOCK_KEYS 8

/* Little-endian 64-bit limbs. */
static const uint64_t P[4] = { 0xFFFFFFFFFFFFFFFFull, 0x00000000FFFFFFFFull, 0,
                               0xFFFFFFFF00000001ull };
static const uint64_t N[4] = { 0xF3B9CAC2FC632551ull, 0xBCE6FAADA7179E84ull,
                               0xFFFFFFFFFFFFFFFFull, 0xFFFFFFFF00000000ull };
static const uint64_t N_MINUS_2[4] = { 0xF3B9CAC2FC63254Full, 0xBCE6FAADA7179E84ull,
                                       0xFFFFFFFFFFFFFFFFull, 0xFFFFFFFF00000000ull };
/* -n⁻¹ mod 2^64 (for p it is 1: p ≡ -1 mod 2^64). */
#define N_K0 0xCCD1C8AAEE00BC4Full
static const uint64_t CURVE_B[4] = { 0x3BCE3C3E27D2604Bull, 0x651D06B0CC53B0F6ull,
                                     0xB3EBBD55769886BCull, 0x5AC635D8AA3A93E7ull };
static const uint64_t GEN_X[4] = { 0xF4A13945D898C296ull, 0x77037D812DEB33A0ull,
                                   0xF8BCE6E563A440F2ull, 0x6B17D1F2E12C4247ull };
static const uint64_t GEN_Y[4] = { 0xCBB6406837BF51F5ull, 0x2BCE33576B315ECEull,
                                   0x8EE7EB4A7C0F9E16ull, 0x4FE342E2FE1A7F9Bull };

/* Set once by init(). */
static uint64_t R2_P[4], R2_N[4];   /* 2^512 mod p, mod n */
static uint64_t ONE_P[4], ONE_N[4]; /* 2^256 mod p, mod n: 1 in Montgomery form */
static uint64_t B_M[4];             /* b in Montgomery form */
static aff_t *g_table;              /* NULL: native verification unavailable */

/* ---- 256-bit integers ---- */

static inline uint64_t adc(uint64_t a, uint64_t b, uint64_t *carry)
{
	u128 s = (u128)a + b + *carry;
	*carry = (uint64_t)(s >> 64);
	return (uint64_t)s;
}

static inline uint64_t mac(uint64_t t, uint64_t a, uint64_t b, uint64_t *carry)
{
	u128 s = (u128)a * b + t + *carry;
	*carry = (uint64_t)(s >> 64);
	return (uint64_t)s;
}

static inline uint64_t sbb(uint64_t a, uint64_t b, uint64_t *borrow)
{
	u128 d = (u128)a - b - *borrow;
	*borrow = (uint64_t)(d >> 64) & 1;
	return (uint64_t)d;
}

static inline uint64_t add4(uint64_t r[4], const uint64_t a[4], const uint64_t b[4])
{
	uint64_t c = 0;
#pragma GCC unroll 4
	for (int i = 0; i < 4; i++) {
		r[i] = adc(a[i], b[i], &c);
	}
	return c;
}

static inline uint64_t sub4(uint64_t r[4], const uint64_t a[4], const uint64_t b[4])
{
	uint64_t borrow = 0;
#pragma GCC unroll 4
	for (int i = 0; i < 4; i++) {
		r[i] = sbb(a[i], b[i], &borrow);
	}
	return borrow;
}

/* r = a + b mod m (a, b < m). */
static inline void mod_add(uint64_t r[4], const uint64_t a[4], const uint64_t b[4],
                           const uint64_t m[4])
{
	uint64_t t[4], s[4];
	uint64_t carry = add4(t, a, b);
	uint64_t borrow = sub4(s, t, m);
	/* keep t when there was no carry and t - m borrowed (t < m) */
	uint64_t keep = -((carry ^ 1) & borrow);
#pragma GCC unroll 4
	for (int i = 0; i < 4; i++) {
		r[i] = (t[i] & keep) | (s[i] & ~keep);
	}
}

static inline bool is_zero4(const uint64_t a[4])
{
	return (a[0] | a[1] | a[2] | a[3]) == 0;
}

static inline bool eq4(const uint64_t a[4], const uint64_t b[4])
{
	return ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3])) == 0;
}

/* a < m */
static inline bool below(const uint64_t a[4], const uint64_t m[4])
{
	uint64_t t[4];
	return sub4(t, a, m) != 0;
}

static void from_be(uint64_t r[4], const uint8_t *b)
{
	for (int i = 0; i < 4; i++) {
		uint64_t v = 0;
		for (int k = 0; k < 8; k++) {
			v = v << 8 | b[(3 - i) * 8 + k];
		}
		r[i] = v;
	}
}

/* ---- Montgomery arithmetic mod m (a, b < m < 2^256; result < m) ---- */

/* r = top:t - m if top:t >= m, else t (top:t < 2m). */
static inline void sub_once(uint64_t r[4], const uint64_t t[4], uint64_t top,
                            const uint64_t m[4])
{
	uint64_t s[4];
	uint64_t borrow = sub4(s, t, m);
	uint64_t keep = (top == 0 && borrow) ? ~0ull : 0;
#pragma GCC unroll 4
	for (int i = 0; i < 4; i++) {
		r[i] = (t[i] & keep) | (s[i] & ~keep);
	}
}

/* r = a·b·2^-256 mod m for any odd m, k0 = -m⁻¹ mod 2^64 (CIOS). */
static inline __attribute__((always_inline)) void
mont_mul(uint64_t r[4], const uint64_t a[4], const uint64_t b[4], const uint64_t m[4],
         uint64_t k0)
{
	uint64_t t[6] = { 0 }, c, c2;
#pragma GCC unroll 4
	for (int i = 0; i < 4; i++) {
		c = 0;
#pragma GCC unroll 4
		for (int j = 0; j < 4; j++) {
			t[j] = mac(t[j], a[j], b[i], &c);
		}
		c2 = 0;
		t[4] = adc(t[4], c, &c2);
		t[5] = c2;
		/* Add q·m so that the low limb becomes 0, then shift by 64. */
		uint64_t q = t[0] * k0;
		c = 0;
		(void)mac(t[0], q, m[0], &c);
#pragma GCC unroll 3
		for (int j = 1; j < 4; j++) {
			t[j - 1] = mac(t[j], q, m[j], &c);
		}
		c2 = 0;
		t[3] = adc(t[4], c, &c2);
		t[4] = t[5] + c2;
	}
	sub_once(r, t, t[4], m);
}

/* One Montgomery reduction step mod p on limbs x0..x4: with q = x0, adding
 * q·p clears x0 (p ≡ -1 mod 2^64, so -q·p⁻¹ = q); as q·p = q·(p + 1) - q
 * and p + 1 = 2^96 + 0xFFFFFFFF00000001·2^192, that is q·2^96 and one
 * product added from x1 on. Leaves the carry out of x4 in *carry. */
#define P_REDUCE_STEP(x0, x1, x2, x3, x4, carry) do { \
		uint64_t q_ = (x0), c_ = 0; \
		u128 m_ = (u128)q_ * 0xFFFFFFFF00000001ull; \
		(x1) = adc((x1), q_ << 32, &c_); \
		(x2) = adc((x2), q_ >> 32, &c_); \
		(x3) = adc((x3), (uint64_t)m_, &c_); \
		(x4) = adc((x4), (uint64_t)(m_ >> 64), &c_); \
		(carry) = c_; \
	} while (0)

/* r = a·b·2^-256 mod p (a, b < p): schoolbook product, then four reduction
 * steps specialised for p (one multiplication each instead of four). */
static inline void fp_mul(uint64_t r[4], const uint64_t a[4], const uint64_t b[4])
{
	uint64_t t[9] = { 0 }, c;
#pragma GCC unroll 4
	for (int i = 0; i < 4; i++) {
		c = 0;
#pragma GCC unroll 4
		for (int j = 0; j < 4; j++) {
			t[i + j] = mac(t[i + j], a[j], b[i], &c);
		}
		t[i + 4] = c;
	}
	/* Step i clears t[i]; its carry runs up to t[7], the overflow into t[8]. */
#pragma GCC unroll 4
	for (int i = 0; i < 4; i++) {
		P_REDUCE_STEP(t[i], t[i + 1], t[i + 2], t[i + 3], t[i + 4], c);
#pragma GCC unroll 3
		for (int k = i + 5; k < 8; k++) {
			t[k] = adc(t[k], 0, &c);
		}
		t[8] += c;
	}
	sub_once(r, t + 4, t[8], P);   /* t[8]:t[7..4] < 2p */
}

static inline void fp_sqr(uint64_t r[4], const uint64_t a[4])
{
	fp_mul(r, a, a);
}

static inline void fn_mul(uint64_t r[4], const uint64_t a[4], const uint64_t b[4])
{
	mont_mul(r, a, b, N, N_K0);
}

static inline void fp_add(uint64_t r[4], const uint64_t a[4], const uint64_t b[4])
{
	mod_add(r, a, b, P);
}

/* r = a - b mod p (a, b < p). */
static inline void fp_sub(uint64_t r[4], const uint64_t a[4], const uint64_t b[4])
{
	uint64_t t[4], c = 0;
	uint64_t mask = -sub4(t, a, b);   /* add p back after a borrow */
#pragma GCC unroll 4
	for (int i = 0; i < 4; i++) {
		r[i] = adc(t[i], P[i] & mask, &c);
	}
}

static inline void fp_neg(uint64_t r[4], const uint64_t a[4])
{
	static const uint64_t zero[4] = { 0 };
	fp_sub(r, zero, a);
}

/* r = a^(n-2) = a⁻¹ mod n (a ≠ 0), Montgomery form; 4-bit fixed windows. */
static void fn_inv(uint64_t r[4], const uint64_t a[4])
{
	uint64_t tbl[16][4], acc[4];
	memcpy(tbl[0], ONE_N, 32);
	memcpy(tbl[1], a, 32);
	for (int i = 2; i < 16; i++) {
		fn_mul(tbl[i], tbl[i - 1], a);
	}
	memcpy(acc, ONE_N, 32);
	for (int i = 63; i >= 0; i--) {
		for (int k = 0; k < 4; k++) {
			fn_mul(acc, acc, acc);
		}
		unsigned nib = (unsigned)(N_MINUS_2[i / 16] >> (4 * (i % 16))) & 15;
		if (nib != 0) {
			fn_mul(acc, acc, tbl[nib]);
		}
	}
	memcpy(r, acc, 32);
}

/* r = a^(2^k) */
static void fp_sqr_n(uint64_t r[4], const uint64_t a[4], int k)
{
	memcpy(r, a, 32);
	while (k-- > 0) {
		fp_sqr(r, r);
	}
}

/* r = a^(p-2) = a⁻¹ mod p (a ≠ 0), Montgomery form. From the top, the bits
 * of p - 2 are 32 ones, 31 zeros and a one, 96 zeros, 64 ones, 30 ones, 0, 1:
 * 269 squarings and 13 multiplications with xk = a^(2^k - 1). */
static void fp_inv(uint64_t r[4], const uint64_t a[4])
{
	uint64_t x2[4], x4[4], x8[4], x16[4], x30[4], x32[4], t[4];
	fp_sqr(t, a);
	fp_mul(x2, t, a);
	fp_sqr_n(t, x2, 2);
	fp_mul(x4, t, x2);
	fp_sqr_n(t, x4, 4);
	fp_mul(x8, t, x4);
	fp_sqr_n(t, x8, 8);
	fp_mul(x16, t, x8);
	fp_sqr_n(t, x16, 16);
	fp_mul(x32, t, x16);
	fp_sqr_n(t, x16, 8);
	fp_mul(t, t, x8);              /* x24 */
	fp_sqr_n(t, t, 4);
	fp_mul(t, t, x4);              /* x28 */
	fp_sqr_n(t, t, 2);
	fp_mul(x30, t, x2);
	fp_sqr_n(t, x32, 32);
	fp_mul(t, t, a);
	fp_sqr_n(t, t, 96 + 32);
	fp_mul(t, t, x32);
	fp_sqr_n(t, t, 32);
	fp_mul(t, t, x32);
	fp_sqr_n(t, t, 30);
	fp_mul(t, t, x30);
	fp_sqr_n(t, t, 2);
	fp_mul(r, t, a);
}

/* ---- curve points ---- */

/* y² = x³ - 3x + b, all in Montgomery form. */
static bool on_curve(const uint64_t x[4], const uint64_t y[4])
{
	uint64_t lhs[4], rhs[4], t[4];
	fp_sqr(lhs, y);
	fp_sqr(rhs, x);
	fp_mul(rhs, rhs, x);
	fp_add(t, x, x);
	fp_add(t, t, x);
	fp_sub(rhs, rhs, t);
	fp_add(rhs, rhs, B_M);
	return eq4(lhs, rhs);
}

/* r = 2a (a = -3: dbl-2001-b). r may alias a. */
static void p_double(jac_t *r, const jac_t *a)
{
	if (is_zero4(a->z)) {
		*r = *a;
		return;
	}
	uint64_t delta[4], gamma[4], beta[4], alpha[4], t[4], u[4];
	fp_sqr(delta, a->z);
	fp_sqr(gamma, a->y);
	fp_mul(beta, a->x, gamma);
	fp_sub(t, a->x, delta);
	fp_add(u, a->x, delta);
	fp_mul(alpha, t, u);
	fp_add(t, alpha, alpha);
	fp_add(alpha, t, alpha);
	/* Z3 = (Y + Z)² - gamma - delta (before X, Y are overwritten) */
	fp_add(t, a->y, a->z);
	fp_sqr(t, t);
	fp_sub(t, t, gamma);
	fp_sub(r->z, t, delta);
	/* X3 = alpha² - 8 beta */
	fp_add(beta, beta, beta);
	fp_add(beta, beta, beta);      /* 4 beta */
	fp_sqr(t, alpha);
	fp_sub(t, t, beta);
	fp_sub(r->x, t, beta);
	/* Y3 = alpha (4 beta - X3) - 8 gamma² */
	fp_sub(t, beta, r->x);
	fp_mul(t, t, alpha);
	fp_sqr(gamma, gamma);
	fp_add(gamma, gamma, gamma);
	fp_add(gamma, gamma, gamma);
	fp_add(gamma, gamma, gamma);
	fp_sub(r->y, t, gamma);
}

/* r = a + (x2, y2) (mixed addition, add-1998-cmo-2 with Z2 = 1). r may alias a. */
static void p_add_affine(jac_t *r, const jac_t *a, const uint64_t x2[4], const uint64_t y2[4])
{
	if (is_zero4(a->z)) {
		memcpy(r->x, x2, 32);
		memcpy(r->y, y2, 32);
		memcpy(r->z, ONE_P, 32);
		return;
	}
	uint64_t z1z1[4], u2[4], s2[4], h[4], rr[4], hh[4], hhh[4], v[4], t[4], y3[4];
	fp_sqr(z1z1, a->z);
	fp_mul(u2, x2, z1z1);
	fp_mul(s2, y2, a->z);
	fp_mul(s2, s2, z1z1);
	fp_sub(h, u2, a->x);
	fp_sub(rr, s2, a->y);
	if (is_zero4(h)) {
		if (is_zero4(rr)) {
			p_double(r, a);          /* a == (x2, y2) */
		} else {
			memset(r, 0, sizeof(*r)); /* a == -(x2, y2) */
		}
		return;
	}
	fp_sqr(hh, h);
	fp_mul(hhh, h, hh);
	fp_mul(v, a->x, hh);
	fp_mul(y3, a->y, hhh);
	fp_mul(r->z, a->z, h);
	fp_sqr(t, rr);
	fp_sub(t, t, hhh);
	fp_sub(t, t, v);
	fp_sub(r->x, t, v);
	fp_sub(t, v, r->x);
	fp_mul(t, t, rr);
	fp_sub(r->y, t, y3);
}

/* r = a + b (general Jacobian addition; table building only). r may alias a. */
static void p_add(jac_t *r, const jac_t *a, const jac_t *b)
{
	if (is_zero4(a->z)) {
		*r = *b;
		return;
	}
	if (is_zero4(b->z)) {
		*r = *a;
		return;
	}
	uint64_t z1z1[4], z2z2[4], u1[4], u2[4], s1[4], s2[4], h[4], rr[4], hh[4], hhh[4], v[4];
	uint64_t t[4];
	fp_sqr(z1z1, a->z);
	fp_sqr(z2z2, b->z);
	fp_mul(u1, a->x, z2z2);
	fp_mul(u2, b->x, z1z1);
	fp_mul(s1, a->y, b->z);
	fp_mul(s1, s1, z2z2);
	fp_mul(s2, b->y, a->z);
	fp_mul(s2, s2, z1z1);
	fp_sub(h, u2, u1);
	fp_sub(rr, s2, s1);
	if (is_zero4(h)) {
		if (is_zero4(rr)) {
			p_double(r, a);
		} else {
			memset(r->z, 0, 32);
		}
		return;
	}
	fp_sqr(hh, h);
	fp_mul(hhh, h, hh);
	fp_mul(v, u1, hh);
	fp_mul(t, a->z, b->z);
	fp_mul(r->z, t, h);
	fp_sqr(t, rr);
	fp_sub(t, t, hhh);
	fp_sub(t, t, v);
	fp_sub(r->x, t, v);
	fp_sub(t, v, r->x);
	fp_mul(t, t, rr);
	fp_mul(s1, s1, hhh);
	fp_sub(r->y, t, s1);
}

/* Builds the comb table of the affine point (x, y) (Montgomery form, on the
 * curve, of order n). Returns NULL when out of memory. */
static aff_t *table_build(const uint64_t x[4], const uint64_t y[4])
{
	aff_t *out = aligned_alloc(64, TABLE_POINTS * sizeof(aff_t));
	jac_t *j = malloc(TABLE_POINTS * sizeof(jac_t));
	uint64_t (*pre)[4] = malloc(TABLE_POINTS * sizeof(*pre));
	if (out == NULL || j == NULL || pre == NULL) {
		goto fail;
	}
	jac_t base;
	memcpy(base.x, x, 32);
	memcpy(base.y, y, 32);
	memcpy(base.z, ONE_P, 32);
	for (int i = 0; i < WINDOWS; i++) {
		jac_t *w = j + i * WIN_POINTS;
		w[0] = base;
		for (int k = 1; k < WIN_POINTS; k++) {
			p_add(&w[k], &w[k - 1], &base);
		}
		p_double(&base, &w[WIN_POINTS - 1]);
	}
	j[TABLE_POINTS - 1] = base;

	/* To affine with one inversion (Montgomery's trick). Every entry is
	 * k·P with 0 < k mod n, so no Z is zero; checked all the same. */
	memcpy(pre[0], j[0].z, 32);
	for (int i = 1; i < TABLE_POINTS; i++) {
		fp_mul(pre[i], pre[i - 1], j[i].z);
	}
	if (is_zero4(pre[TABLE_POINTS - 1])) {
		goto fail;
	}
	uint64_t inv[4], zi[4], zi2[4];
	fp_inv(inv, pre[TABLE_POINTS - 1]);
	for (int i = TABLE_POINTS - 1; i >= 0; i--) {
		if (i > 0) {
			fp_mul(zi, inv, pre[i - 1]);
			fp_mul(inv, inv, j[i].z);
		} else {
			memcpy(zi, inv, 32);
		}
		fp_sqr(zi2, zi);
		fp_mul(out[i].x, j[i].x, zi2);
		fp_mul(zi2, zi2, zi);
		fp_mul(out[i].y, j[i].y, zi2);
	}
	free(j);
	free(pre);
	return out;
fail:
	free(out);
	free(j);
	free(pre);
	return NULL;
}

/* ---- one-time set-up ---- */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init(void)
{
	/* 2^256 mod m = 2^256 - m; doubled 256 times: 2^512 mod m. */
	static const uint64_t zero[4] = { 0 };
	sub4(ONE_P, zero, P);
	sub4(ONE_N, zero, N);
	memcpy(R2_P, ONE_P, 32);
	memcpy(R2_N, ONE_N, 32);
	for (int i = 0; i < 256; i++) {
		mod_add(R2_P, R2_P, R2_P, P);
		mod_add(R2_N, R2_N, R2_N, N);
	}
	fp_mul(B_M, CURVE_B, R2_P);
	uint64_t gx[4], gy[4];
	fp_mul(gx, GEN_X, R2_P);
	fp_mul(gy, GEN_Y, R2_P);
	/* Self-check of the constants before anything relies on them. */
	uint64_t t[4];
	fp_inv(t, gx);
	fp_mul(t, t, gx);
	if (N[0] * N_K0 != ~0ull || !on_curve(gx, gy) || !eq4(t, ONE_P)) {
		return;
	}
	g_table = table_build(gx, gy);
}

static bool ready(void)
{
	pthread_once(&init_once, init);
	return g_table != NULL;
}

/* ---- per-key table cache ---- */

typedef struct {
	uint8_t pub[64];
	aff_t *pts;        /* NULL while being built */
	unsigned refs;     /* users now (the builder counts) */
	uint64_t used;     /* last use, for LRU */
} table_t;

static struct {
	pthread_mutex_t lock;
	pthread_cond_t built;
	table_t *slot[ZG_P256_CACHE_MAX];
	unsigned n, cap;
	uint64_t tick, builds, evictions, fallbacks;
	uint64_t affine, affine_special;   /* atomic */
} cache = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.built = PTHREAD_COND_INITIALIZER,
	.cap = ZG_P256_CACHE_DEFAULT,
};

static void cache_remove(table_t *t)
{
	for (unsigned i = 0; i < cache.n; i++) {
		if (cache.slot[i] == t) {
			cache.slot[i] = cache.slot[--cache.n];
			break;
		}
	}
	free(t->pts);
	free(t);
}

/* Drops unused tables, least recently used first, until fewer than \a limit
 * remain; false if tables in use prevent it. Lock held. */
static bool cache_shrink(unsigned limit)
{
	while (cache.n > 0 && cache.n >= limit) {
		table_t *lru = NULL;
		for (unsigned i = 0; i < cache.n; i++) {
			table_t *t = cache.slot[i];
			if (t->refs == 0 && (lru == NULL || t->used < lru->used)) {
				lru = t;
			}
		}
		if (lru == NULL) {
			return false;
		}
		cache_remove(lru);
		cache.evictions++;
	}
	return cache.n < limit;
}

/* Returns the table of \a key (built now if needed) with a reference, or
 * NULL; release it with table_put(). */
static table_t *table_get(const zg_p256_key_t *key)
{
	pthread_mutex_lock(&cache.lock);
	table_t *t;
	for (;;) {
		t = NULL;
		for (unsigned i = 0; i < cache.n; i++) {
			if (memcmp(cache.slot[i]->pub, key->pub, 64) == 0) {
				t = cache.slot[i];
				break;
			}
		}
		if (t == NULL || t->pts != NULL) {
			break;
		}
		pthread_cond_wait(&cache.built, &cache.lock);  /* another thread builds it */
	}
	if (t != NULL) {
		t->refs++;
		t->used = ++cache.tick;
		pthread_mutex_unlock(&cache.lock);
		return t;
	}
	if (cache.cap == 0 || !cache_shrink(cache.cap) || (t = calloc(1, sizeof(*t))) == NULL) {
		cache.fallbacks++;
		pthread_mutex_unlock(&cache.lock);
		return NULL;
	}
	memcpy(t->pub, key->pub, 64);
	t->refs = 1;
	cache.slot[cache.n++] = t;
	cache.builds++;
	pthread_mutex_unlock(&cache.lock);

	aff_t *pts = table_build(key->x, key->y);

	pthread_mutex_lock(&cache.lock);
	if (pts != NULL) {
		t->pts = pts;
		t->used = ++cache.tick;
	} else {
		cache_remove(t);
		t = NULL;
	}
	pthread_cond_broadcast(&cache.built);
	pthread_mutex_unlock(&cache.lock);
	return t;
}

static void table_put(table_t *t)
{
	pthread_mutex_lock(&cache.lock);
	if (--t->refs == 0 && cache.n > cache.cap) {
		cache_remove(t);
		cache.evictions++;
	}
	pthread_mutex_unlock(&cache.lock);
}

void zg_p256_cache_set_size(unsigned keys)
{
	pthread_mutex_lock(&cache.lock);
	cache.cap = keys > ZG_P256_CACHE_MAX ? ZG_P256_CACHE_MAX : keys;
	(void)cache_shrink(cache.cap + 1);
	pthread_mutex_unlock(&cache.lock);
}

void zg_p256_cache_stats(zg_p256_stats_t *out)
{
	bool g = ready();
	pthread_mutex_lock(&cache.lock);
	unsigned built = 0;
	for (unsigned i = 0; i < cache.n; i++) {
		built += cache.slot[i]->pts != NULL;
	}
	*out = (zg_p256_stats_t){
		.capacity = cache.cap,
		.tables = built,
		.bytes = (built + (g ? 1 : 0)) * ZG_P256_TABLE_BYTES,
		.builds = cache.builds,
		.evictions = cache.evictions,
		.fallbacks = cache.fallbacks,
		.affine = __atomic_load_n(&cache.affine, __ATOMIC_RELAXED),
		.affine_special = __atomic_load_n(&cache.affine_special, __ATOMIC_RELAXED),
	};
	pthread_mutex_unlock(&cache.lock);
}

/* ---- verification ---- */

int zg_p256_key_parse(zg_p256_key_t *key, const uint8_t pub[64])
{
	pthread_once(&init_once, init);
	uint64_t x[4], y[4];
	from_be(x, pub);
	from_be(y, pub + 32);
	if (!below(x, P) || !below(y, P)) {
		return KNOT_EMALF;
	}
	fp_mul(key->x, x, R2_P);
	fp_mul(key->y, y, R2_P);
	if (!on_curve(key->x, key->y)) {
		return KNOT_EMALF;
	}
	memcpy(key->pub, pub, 64);
	return 0;
}

/* Signed 8-bit digits: u = Σ d[i]·256^i, d[i] in [-127, 128], d[32] in {0, 1}. */
static void recode(int16_t d[DIGITS], const uint64_t u[4])
{
	int carry = 0;
	for (int i = 0; i < WINDOWS; i++) {
		int v = (int)((u[i / 8] >> (8 * (i % 8))) & 0xFF) + carry;
		carry = v > 128;
		d[i] = (int16_t)(v - (carry << 8));
	}
	d[WINDOWS] = (int16_t)carry;
}

static inline void add_digit(jac_t *acc, const aff_t *win, int d)
{
	if (d > 0) {
		p_add_affine(acc, acc, win[d - 1].x, win[d - 1].y);
	} else if (d < 0) {
		uint64_t ny[4];
		fp_neg(ny, win[-d - 1].y);
		p_add_affine(acc, acc, win[-d - 1].x, ny);
	}
}

/* x(R) mod n == r for x(R) = x/z2 in [0, p) (all in Montgomery form, z2 = Z²,
 * 1 for an affine point): x(R) == r, or x(R) == r + n when r + n < p. */
static int x_matches(const uint64_t x[4], const uint64_t z2[4], const uint64_t r[4])
{
	uint64_t c[4], t[4];
	fp_mul(c, r, R2_P);
	fp_mul(t, c, z2);
	if (eq4(t, x)) {
		return 0;
	}
	if (add4(c, r, N) == 0 && below(c, P)) {
		fp_mul(c, c, R2_P);
		fp_mul(t, c, z2);
		if (eq4(t, x)) {
			return 0;
		}
	}
	return DNSSEC_INVALID_SIGNATURE;
}

/* One signature being verified. */
typedef struct {
	zg_p256_job_t *job;
	table_t *table;            /* Q's table; NULL: none to be had */
	uint64_t r[4], e[4];       /* e reduced mod n */
	uint64_t w[4];             /* s in Montgomery form, then s⁻¹ */
	uint64_t pre[4];           /* prefix product (batch inversions) */
	/* The affine pass (verify_affine()). */
	int16_t d[2][DIGITS];      /* digits of u1 (G) and u2 (Q) */
	uint64_t x[4], y[4];       /* R so far, affine */
	const aff_t *pt;           /* point added in this step ... */
	bool neg;                  /* ... negated */
	uint8_t state;
} lane_t;

enum { L_INF, L_ACTIVE, L_JACOBIAN };

/* Signatures per affine pass; smaller batches use the Jacobian path. */
#define LANES 512
#define AFFINE_MIN 96

/* R = u1·G + u2·Q with u1 = e·w, u2 = r·w (w = s⁻¹ in Montgomery form mod n);
 * valid when R is not infinity and x(R) ≡ r (mod n). Mixed Jacobian
 * additions, every special case handled. */
static int verify_core(const lane_t *l)
{
	uint64_t u1[4], u2[4];
	fn_mul(u1, l->e, l->w);
	fn_mul(u2, l->r, l->w);
	int16_t d1[DIGITS], d2[DIGITS];
	recode(d1, u1);
	recode(d2, u2);
	jac_t acc;
	memset(&acc, 0, sizeof(acc));   /* infinity */
	for (int i = 0; i < DIGITS; i++) {
		add_digit(&acc, g_table + i * WIN_POINTS, d1[i]);
		add_digit(&acc, l->table->pts + i * WIN_POINTS, d2[i]);
	}
	if (is_zero4(acc.z)) {
		return DNSSEC_INVALID_SIGNATURE;
	}
	uint64_t z2[4];
	fp_sqr(z2, acc.z);
	return x_matches(acc.x, z2, l->r);
}

/* Range checks, e mod n, and s⁻¹ for every signature with one inversion:
 * fills lanes from jobs (those refused get their verdict now) and returns
 * their number. */
static size_t lanes_prepare(zg_p256_job_t *jobs, size_t count, lane_t *lanes)
{
	size_t m = 0;
	for (size_t i = 0; i < count; i++) {
		lane_t *l = &lanes[m];
		uint64_t s[4];
		from_be(l->r, jobs[i].sig);
		from_be(s, jobs[i].sig + 32);
		if (is_zero4(l->r) || is_zero4(s) || !below(l->r, N) || !below(s, N)) {
			jobs[i].ret = DNSSEC_INVALID_SIGNATURE;
			continue;
		}
		from_be(l->e, jobs[i].digest);
		if (!below(l->e, N)) {
			sub4(l->e, l->e, N);   /* e < 2^256 < 2n */
		}
		fn_mul(l->w, s, R2_N);
		if (m == 0) {
			memcpy(l->pre, l->w, 32);
		} else {
			fn_mul(l->pre, lanes[m - 1].pre, l->w);
		}
		l->job = &jobs[i];
		m++;
	}
	if (m == 0) {
		return 0;
	}
	/* The product of nonzero values mod the prime n is nonzero. */
	uint64_t inv[4], sk[4];
	fn_inv(inv, lanes[m - 1].pre);
	for (size_t k = m; k-- > 0;) {
		memcpy(sk, lanes[k].w, 32);
		if (k > 0) {
			fn_mul(lanes[k].w, inv, lanes[k - 1].pre);
			fn_mul(inv, inv, sk);
		} else {
			memcpy(lanes[k].w, inv, 32);
		}
	}
	return m;
}

static void lane_swap(lane_t *a, lane_t *b)
{
	lane_t t = *a;
	*a = *b;
	*b = t;
}

/*
 * Takes the tables of up to BLOCK_KEYS distinct keys and moves the lanes of
 * these keys to the front; returns their number. Lanes of other keys stay
 * behind for the next round. A lane whose key gets no table while this
 * round holds none (cache size 0, or every table in use) is answered
 * -EAGAIN and dropped (*m shrinks).
 */
static size_t lanes_round(lane_t *lanes, size_t *m, table_t *tables[BLOCK_KEYS],
                          unsigned *ntables)
{
	const zg_p256_key_t *keys[BLOCK_KEYS];
	unsigned nkeys = 0;
	size_t ready = 0;
	for (size_t k = 0; k < *m;) {
		lane_t *l = &lanes[k];
		l->table = NULL;
		for (unsigned q = 0; q < nkeys && l->table == NULL; q++) {
			if (keys[q] == l->job->key) {
				l->table = tables[q];
			}
		}
		if (l->table == NULL && nkeys < BLOCK_KEYS) {
			l->table = table_get(l->job->key);
			if (l->table != NULL) {
				keys[nkeys] = l->job->key;
				tables[nkeys++] = l->table;
			} else if (nkeys == 0) {
				l->job->ret = -EAGAIN;
				lane_swap(l, &lanes[--*m]);
				continue;
			}
		}
		if (l->table != NULL) {
			lane_swap(l, &lanes[ready++]);
		}
		k++;
	}
	*ntables = nkeys;
	return ready;
}

/* Adds each lane's point of this step (digit d of window win, G or Q):
 * affine additions for all lanes at once, with one inversion mod p for all
 * (Montgomery's trick). A lane whose sum would need a doubling or reach
 * infinity (x equal) is left to the Jacobian path. */
static void affine_step(lane_t *lanes, size_t m, size_t *idx, int win, int which)
{
	/* The table entries first, fetched ahead (they are read at random). */
	for (size_t k = 0; k < m; k++) {
		lane_t *l = &lanes[k];
		int d = l->d[which][win];
		if (l->state == L_JACOBIAN || d == 0) {
			l->pt = NULL;
			continue;
		}
		const aff_t *base = which == 0 ? g_table : l->table->pts;
		l->pt = base + win * WIN_POINTS + (d > 0 ? d : -d) - 1;
		l->neg = d < 0;
		__builtin_prefetch(l->pt);
	}
	size_t np = 0;
	for (size_t k = 0; k < m; k++) {
		lane_t *l = &lanes[k];
		if (l->pt == NULL) {
			continue;
		}
		if (l->state == L_INF) {
			memcpy(l->x, l->pt->x, 32);
			if (l->neg) {
				fp_neg(l->y, l->pt->y);
			} else {
				memcpy(l->y, l->pt->y, 32);
			}
			l->state = L_ACTIVE;
			continue;
		}
		uint64_t dx[4];
		fp_sub(dx, l->pt->x, l->x);
		if (is_zero4(dx)) {
			l->state = L_JACOBIAN;
			continue;
		}
		/* Two chains of prefix products (even and odd positions), so
		 * that consecutive multiplications do not wait for each other. */
		if (np < 2) {
			memcpy(l->pre, dx, 32);
		} else {
			fp_mul(l->pre, lanes[idx[np - 2]].pre, dx);
		}
		idx[np++] = k;
	}
	if (np == 0) {
		return;
	}
	/* inv[c]: the inverse of chain c's product so far; one inversion of
	 * both products together. */
	uint64_t inv[2][4];
	if (np == 1) {
		fp_inv(inv[0], lanes[idx[0]].pre);
	} else {
		const uint64_t *a = lanes[idx[np - 1 - (np - 1) % 2]].pre;   /* even chain */
		const uint64_t *b = lanes[idx[np - 1 - np % 2]].pre;         /* odd chain */
		uint64_t ab[4];
		fp_mul(ab, a, b);
		fp_inv(ab, ab);
		fp_mul(inv[0], ab, b);
		fp_mul(inv[1], ab, a);
	}
	for (size_t j = np; j-- > 0;) {
		lane_t *l = &lanes[idx[j]];
		uint64_t *ic = inv[j % 2];
		uint64_t dx[4], dxinv[4], py[4], lambda[4], x3[4], t[4];
		fp_sub(dx, l->pt->x, l->x);
		if (j > 1) {
			fp_mul(dxinv, ic, lanes[idx[j - 2]].pre);
			fp_mul(ic, ic, dx);
		} else {
			memcpy(dxinv, ic, 32);
		}
		if (l->neg) {
			fp_neg(py, l->pt->y);
		} else {
			memcpy(py, l->pt->y, 32);
		}
		/* lambda = (y2 - y1)/(x2 - x1); x3 = lambda² - x1 - x2;
		 * y3 = lambda (x1 - x3) - y1 */
		fp_sub(t, py, l->y);
		fp_mul(lambda, t, dxinv);
		fp_sqr(x3, lambda);
		fp_sub(x3, x3, l->x);
		fp_sub(x3, x3, l->pt->x);
		fp_sub(t, l->x, x3);
		fp_mul(t, t, lambda);
		fp_sub(l->y, t, l->y);
		memcpy(l->x, x3, 32);
	}
}

/* The lanes in affine coordinates, in step with each other. */
static void verify_affine(lane_t *lanes, size_t m, size_t *idx)
{
	for (size_t k = 0; k < m; k++) {
		lane_t *l = &lanes[k];
		uint64_t u[4];
		fn_mul(u, l->e, l->w);
		recode(l->d[0], u);
		fn_mul(u, l->r, l->w);
		recode(l->d[1], u);
		l->state = L_INF;
	}
	for (int win = 0; win < DIGITS; win++) {
		affine_step(lanes, m, idx, win, 0);
		affine_step(lanes, m, idx, win, 1);
	}
	uint64_t special = 0;
	for (size_t k = 0; k < m; k++) {
		lane_t *l = &lanes[k];
		if (l->state == L_JACOBIAN) {
			l->job->ret = verify_core(l);
			special++;
		} else if (l->state == L_INF) {
			l->job->ret = DNSSEC_INVALID_SIGNATURE;
		} else {
			l->job->ret = x_matches(l->x, ONE_P, l->r);
		}
	}
	__atomic_add_fetch(&cache.affine, m, __ATOMIC_RELAXED);
	__atomic_add_fetch(&cache.affine_special, special, __ATOMIC_RELAXED);
}

/* Verifies \a count jobs (at most the lanes' capacity): one inversion mod n
 * for all, then rounds of up to BLOCK_KEYS keys, each in affine steps when
 * \a idx is given and the round has AFFINE_MIN lanes, else one by one. */
static void verify_jobs(zg_p256_job_t *jobs, size_t count, lane_t *lanes, size_t *idx)
{
	size_t m = lanes_prepare(jobs, count, lanes);
	while (m > 0) {
		table_t *tables[BLOCK_KEYS];
		unsigned nt = 0;
		size_t n = lanes_round(lanes, &m, tables, &nt);
		if (idx != NULL && n >= AFFINE_MIN) {
			verify_affine(lanes, n, idx);
		} else {
			for (size_t k = 0; k < n; k++) {
				lanes[k].job->ret = verify_core(&lanes[k]);
			}
		}
		for (unsigned q = 0; q < nt; q++) {
			table_put(tables[q]);
		}
		memmove(lanes, lanes + n, (m - n) * sizeof(*lanes));
		m -= n;
	}
}

void zg_p256_verify_batch(zg_p256_job_t *jobs, size_t count)
{
	if (!ready()) {
		for (size_t i = 0; i < count; i++) {
			jobs[i].ret = -EAGAIN;
		}
		return;
	}
	/* Large batches on the heap, in affine steps; else (or without
	 * memory) blocks on the stack. */
	lane_t *lanes = NULL;
	size_t *idx = NULL, cap = count < LANES ? count : LANES;
	if (count >= AFFINE_MIN) {
		lanes = malloc(cap * sizeof(*lanes));
		idx = malloc(cap * sizeof(*idx));
	}
	if (lanes != NULL && idx != NULL) {
		for (size_t i = 0; i < count; i += cap) {
			verify_jobs(jobs + i, count - i < cap ? count - i : cap, lanes, idx);
		}
	} else {
		lane_t block[BLOCK];
		for (size_t i = 0; i < count; i += BLOCK) {
			verify_jobs(jobs + i, count - i < BLOCK ? count - i : BLOCK, block, NULL);
		}
	}
	free(lanes);
	free(idx);
}

int zg_p256_verify(const zg_p256_key_t *key, const uint8_t digest[32], const uint8_t sig[64])
{
	zg_p256_job_t job = { .key = key, .digest = digest, .sig = sig };
	zg_p256_verify_batch(&job, 1);
	return job.ret;
}

static pthread_mutex_t users_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned users[ZG_P256_CACHE_MAX + 1];

void zg_p256_cache_use(unsigned keys, bool hold)
{
	keys = keys > ZG_P256_CACHE_MAX ? ZG_P256_CACHE_MAX : keys;
	pthread_mutex_lock(&users_lock);
	if (hold) {
		users[keys]++;
	} else if (users[keys] > 0) {
		users[keys]--;
	}
	for (int v = ZG_P256_CACHE_MAX; v >= 0; v--) {
		if (users[v] > 0) {
			zg_p256_cache_set_size((unsigned)v);
			break;
		}
	}
	pthread_mutex_unlock(&users_lock);
}
