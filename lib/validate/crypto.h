/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * DNSSEC signature verification with OpenSSL libcrypto 3 (EVP).
 *
 * A DNSKEY is parsed once into a zg_key_t; signatures are verified through a
 * per-thread zg_crypto_ctx_t that caches digest and verify contexts and reuses
 * its buffers, so verifying a signature allocates nothing.
 *
 * Algorithms: 5, 7 (RSASHA1), 8 (RSASHA256), 10 (RSASHA512), 13 (ECDSAP256SHA256),
 * 14 (ECDSAP384SHA384), 15 (ED25519), 16 (ED448).
 *
 * Algorithm 13 goes to the native P-256 verifier (validate/p256.h: per-key
 * precomputed tables, batches sharing one inversion) unless the environment
 * sets ZG_P256=openssl or the key is switched with zg_key_use_openssl(); it
 * falls back to OpenSSL by itself when no table can be had for a key.
 * Every other algorithm is verified by OpenSSL.
 */
#ifndef ZONEGATE_CRYPTO_H
#define ZONEGATE_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "validate/zone.h"

/*! Parsed DNSKEY (public key ready for verification). */
typedef struct zg_key zg_key_t;

/*! Per-thread verification context. */
typedef struct zg_crypto_ctx zg_crypto_ctx_t;

/*! Whether zonegate can verify signatures of this DNSSEC algorithm. */
bool zg_alg_supported(uint8_t alg);

/*! Key tag of a DNSKEY rdata (RFC 4034 Appendix B). */
uint16_t zg_dnskey_tag(const uint8_t *rdata, size_t len);

/*!
 * Parses DNSKEY rdata into a key object.
 *
 * \param out    Receives the key; free it with zg_key_free().
 *
 * \return 0; ZG_ENOTSUP for an algorithm zonegate cannot verify; KNOT_EMALF
 *         for a malformed key (bad length, point not on the curve...).
 */
int zg_key_new(zg_key_t **out, const uint8_t *rdata, size_t len);

/*! Frees a key (NULL is allowed). */
void zg_key_free(zg_key_t *key);

/*! Environment variable selecting the P-256 engine ("openssl" forces OpenSSL). */
#define ZG_P256_ENV "ZG_P256"

/*!
 * Whether algorithm 13 keys use the native P-256 verifier by default: true
 * unless the environment variable ZG_P256 is "openssl" (read once per process).
 */
bool zg_crypto_p256_native(void);

/*! Makes \a key verify with OpenSSL (for algorithm 13 keys; no effect on others). */
void zg_key_use_openssl(zg_key_t *key);

/*! Whether signatures by \a key are verified by the native P-256 verifier. */
bool zg_key_native(const zg_key_t *key);

/*! Key tag, algorithm, flags of a parsed key. */
uint16_t zg_key_tag(const zg_key_t *key);
uint8_t zg_key_alg(const zg_key_t *key);
uint16_t zg_key_flags(const zg_key_t *key);

/*!
 * Creates a per-thread context.
 *
 * \return 0 or -ENOMEM; free with zg_crypto_ctx_free().
 */
int zg_crypto_ctx_new(zg_crypto_ctx_t **out);

/*! Frees a context (NULL is allowed). */
void zg_crypto_ctx_free(zg_crypto_ctx_t *ctx);

/*!
 * Verifies a raw DNSSEC signature (as in RRSIG rdata) over \a data.
 *
 * \return 0 valid; DNSSEC_INVALID_SIGNATURE bad signature; DNSSEC_MALFORMED_DATA
 *         for a signature of the wrong size; ZG_ENOTSUP; -ENOMEM.
 */
int zg_crypto_verify(zg_crypto_ctx_t *ctx, const zg_key_t *key, const uint8_t *data,
                     size_t len, const uint8_t *sig, size_t siglen);

/*!
 * Queues a signature for batched verification in \a ctx. Only signatures
 * that gain from a batch are queued: a 64-byte signature by an algorithm 13
 * key on the native verifier (zg_key_native()). The data is hashed and the
 * signature copied now; \a key must stay alive until zg_crypto_batch_run().
 *
 * \return The signature's index in the batch (>= 0); ZG_ENOTSUP when it is
 *         not queued (verify it with zg_crypto_verify()); -ENOMEM.
 */
int zg_crypto_batch_add(zg_crypto_ctx_t *ctx, const zg_key_t *key, const uint8_t *data,
                        size_t len, const uint8_t *sig, size_t siglen);

/*!
 * Verifies every queued signature (one inversion per block of signatures,
 * OpenSSL for keys without a table); results stay until zg_crypto_batch_clear().
 */
void zg_crypto_batch_run(zg_crypto_ctx_t *ctx);

/*!
 * Result of the queued signature \a index after zg_crypto_batch_run(): as
 * zg_crypto_verify() (0 valid, DNSSEC_INVALID_SIGNATURE, -ENOMEM); KNOT_EINVAL
 * for an index not in the batch.
 */
int zg_crypto_batch_result(const zg_crypto_ctx_t *ctx, size_t index);

/*! Empties the batch of \a ctx (its memory is kept for the next one). */
void zg_crypto_batch_clear(zg_crypto_ctx_t *ctx);

/*!
 * Builds the RFC 4034 3.1.8.1 signed data of an RRSIG over an RRset into
 * \a buf (cleared first): the RRSIG rdata without the signature, then every
 * RR as owner | type | class IN | original TTL | rdlength | rdata, with the
 * rdata already in canonical form and order (as zg_zone stores it).
 *
 * \param owner         Owner name, wire format, lowercase; replaced by
 *                      "*." + the last `labels` labels when the RRSIG labels
 *                      field is smaller than the owner's label count.
 * \param rrsig         RRSIG rdata (signer name in canonical form).
 * \param signer_len    Length of the signer name inside \a rrsig.
 *
 * \return 0, KNOT_EMALF (labels field larger than the owner), -ENOMEM.
 */
int zg_rrsig_signed_data(zg_buf_t *buf, const uint8_t *owner, const zg_rrset_t *rrset,
                         const uint8_t *rrsig, size_t signer_len);

/*!
 * Checks whether DS rdata matches a DNSKEY (digest types 1, 2, 4).
 *
 * \param owner  Owner of the DNSKEY (wire, any case).
 *
 * \return 0 match; DNSSEC_INVALID_DS_ALGORITHM or ZG_ENOTSUP for an unknown
 *         digest type; ZG_EVALIDATION for no match; KNOT_EMALF.
 */
int zg_ds_match(const uint8_t *ds, size_t dslen, const uint8_t *owner,
                const uint8_t *dnskey, size_t dnskeylen);

/*!
 * NSEC3 hash (RFC 5155 5), algorithm 1 (SHA-1) only.
 *
 * \param out  At least 20 bytes.
 *
 * \return Hash length (20), or ZG_ENOTSUP / -ENOMEM.
 */
int zg_nsec3_hash(zg_crypto_ctx_t *ctx, uint8_t alg, uint16_t iterations,
                  const uint8_t *salt, size_t salt_len, const uint8_t *name,
                  uint8_t *out);

/*! Digest helper: 1 = SHA-384, 2 = SHA-512 (ZONEMD hash algorithms). */
typedef struct zg_zonemd_hash zg_zonemd_hash_t;

/*! Starts a ZONEMD digest; returns ZG_ENOTSUP for an unknown hash algorithm. */
int zg_zonemd_hash_new(zg_zonemd_hash_t **out, uint8_t zonemd_hash_alg);

/*! Feeds bytes. */
int zg_zonemd_hash_update(zg_zonemd_hash_t *d, const void *data, size_t len);

/*! Finishes, writes up to 64 bytes to \a out, returns the length; frees \a d. */
int zg_zonemd_hash_finish(zg_zonemd_hash_t *d, uint8_t *out);

#endif /* ZONEGATE_CRYPTO_H */
