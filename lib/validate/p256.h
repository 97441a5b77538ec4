/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * ECDSA P-256 / SHA-256 signature verification (DNSSEC algorithm 13, RFC 6605)
 * with precomputed tables, for zones where one key makes most signatures.
 *
 * Verification computes R = u1·G + u2·Q (u1 = e·s⁻¹, u2 = r·s⁻¹ mod n) as a
 * sum of 8-bit signed-digit comb entries: a table of j·2^(8i)·P (j = 1..128,
 * i = 0..31, and 2^256·P) exists for G (built once per process) and for
 * each key Q (built on the key's first use), so both products take at most
 * 33 mixed additions each and no doublings. The result is compared without
 * an inversion (X against r·Z² and, when r + n < p, (r + n)·Z²). A batch
 * shares one inversion mod n among its signatures (Montgomery's trick); in
 * large batches (96 signatures or more of the same few keys) the sums run in
 * affine coordinates for all signatures in step, one inversion mod p per
 * step shared by all, which takes about half the multiplications; a sum that
 * meets a doubling or the point at infinity is redone in Jacobian
 * coordinates, which handle every case.
 *
 * Field arithmetic: 4×64-bit limbs, Montgomery form mod p and mod n. The
 * code uses public data only (verification), so it is not constant-time.
 *
 * Per-key tables (262 KiB each) live in one process-wide cache of a bounded
 * number of keys (zg_p256_cache_set_size(), default ZG_P256_CACHE_DEFAULT),
 * shared by all threads; the least recently used table without a current
 * user is dropped when a new key needs room. Without a table for the key
 * (cache size 0, every cached table in use, out of memory), the functions
 * return -EAGAIN and the caller verifies another way (OpenSSL).
 */
#ifndef ZONEGATE_P256_H
#define ZONEGATE_P256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*! Default number of per-key tables kept (see zg_p256_cache_set_size()). */
#define ZG_P256_CACHE_DEFAULT 16

/*! Largest accepted cache size (keys). */
#define ZG_P256_CACHE_MAX 4096

/*! Bytes of one per-key table. */
#define ZG_P256_TABLE_BYTES ((size_t)(32 * 128 + 1) * 64)

/*! A validated public key; fill it with zg_p256_key_parse(). Embeddable; fields are private. */
typedef struct {
	uint64_t x[4], y[4];   /*!< Affine point, Montgomery form. */
	uint8_t pub[64];       /*!< Encoded x | y (the cache key). */
} zg_p256_key_t;

/*! One signature of a batch (see zg_p256_verify_batch()). */
typedef struct {
	const zg_p256_key_t *key;  /*!< Parsed key (caller-owned). */
	const uint8_t *digest;     /*!< SHA-256 digest, 32 bytes (caller-owned). */
	const uint8_t *sig;        /*!< r | s, 2 × 32 bytes big-endian (caller-owned). */
	int ret;                   /*!< Out: as zg_p256_verify(). */
} zg_p256_job_t;

/*! Cache statistics (zg_p256_cache_stats()). */
typedef struct {
	unsigned capacity;     /*!< Configured size (keys). */
	unsigned tables;       /*!< Per-key tables held now. */
	size_t bytes;          /*!< Memory of the tables held now, G's table included. */
	uint64_t builds;       /*!< Per-key tables built since start. */
	uint64_t evictions;    /*!< Tables dropped to make room. */
	uint64_t fallbacks;    /*!< Table requests refused (cache size 0 or full of tables in
	                            use): the signatures waited for a later round or got -EAGAIN. */
	uint64_t affine;       /*!< Signatures verified in affine batches since start ... */
	uint64_t affine_special; /*!< ... of which a sum met a doubling or infinity
	                              (redone in Jacobian coordinates). */
} zg_p256_stats_t;

/*!
 * Parses and validates an uncompressed public key (x | y, as in a DNSKEY of
 * algorithm 13): both coordinates below p, the point on the curve (the
 * point at infinity has no such encoding).
 *
 * \return 0, or KNOT_EMALF for a key that is not a curve point.
 */
int zg_p256_key_parse(zg_p256_key_t *key, const uint8_t pub[64]);

/*!
 * Verifies one signature (r | s, big-endian, 64 bytes) over a SHA-256 digest.
 *
 * \return 0 valid; DNSSEC_INVALID_SIGNATURE (r or s outside [1, n-1], or
 *         the equation does not hold); -EAGAIN when no table could be had
 *         for the key (verify another way).
 */
int zg_p256_verify(const zg_p256_key_t *key, const uint8_t digest[32], const uint8_t sig[64]);

/*!
 * Verifies \a count signatures, sharing one inversion mod n per block of
 * signatures and one table lookup per key; sets jobs[i].ret as
 * zg_p256_verify() would. Thread-safe.
 */
void zg_p256_verify_batch(zg_p256_job_t *jobs, size_t count);

/*!
 * Sets how many per-key tables the process keeps (0 disables them, and so
 * the native verifier: zg_p256_verify() returns -EAGAIN). Values above
 * ZG_P256_CACHE_MAX are capped. Tables beyond the new size are dropped
 * (those in use when their user is done). Thread-safe.
 */
void zg_p256_cache_set_size(unsigned keys);

/*!
 * One user of the cache (e.g. a zone of mod-validate) asks for \a keys
 * tables (\a hold), or no longer (!hold, the same keys): the cache's size is
 * the largest asked by its current users. Thread-safe.
 */
void zg_p256_cache_use(unsigned keys, bool hold);

/*! Fills \a out with the cache's current statistics. Thread-safe. */
void zg_p256_cache_stats(zg_p256_stats_t *out);

#endif /* ZONEGATE_P256_H */
