/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * Content digests of a zone: what identifies the content a verdict was made
 * on, beyond its serial (a zone can change behind an unchanged serial).
 *
 * The digest of a set of records is the sum modulo 2^256 of a keyed SHA-256
 * of each record (owner lowercased, type, TTL, canonical rdata; the TTL of an
 * RRSIG record is left out, its original TTL field is in the rdata). A sum
 * does not depend on the order of the records, and is updated in time
 * proportional to a change: add the hashes of the records added, subtract
 * those of the records removed. So the digest of a zone kept up to date by
 * IXFR costs what the changes cost, and the records a server sends in an
 * AXFR or IXFR answer can be summed as they go out and compared with the
 * digest of the validated content (zg_digest_stream_t).
 *
 * The key (random, kept with the verdicts) makes the record hashes
 * unpredictable: finding two different record sets with one sum needs the
 * hashes, which only the holder of the key can compute.
 */
#ifndef ZONEGATE_DIGEST_H
#define ZONEGATE_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/xfrstream.h"
#include "validate/zone.h"

/*! A content digest (four 64-bit limbs, least significant first). */
typedef struct {
	uint64_t w[4];
} zg_digest_t;

/*! Bytes of a digest key. */
#define ZG_DIGEST_KEY_LEN 32
/*! Length of the text form of a digest (hex, without the NUL). */
#define ZG_DIGEST_STR_LEN 64

/*! A hashing context with its key; one per thread. */
typedef struct zg_digest_ctx zg_digest_ctx_t;

/*!
 * Creates a hashing context for \a key.
 *
 * \return 0 or -ENOMEM; free with zg_digest_ctx_free().
 */
int zg_digest_ctx_new(zg_digest_ctx_t **out, const uint8_t key[ZG_DIGEST_KEY_LEN]);

/*! Frees a context (NULL is allowed). */
void zg_digest_ctx_free(zg_digest_ctx_t *ctx);

/*! Fills \a key with random bytes. \return 0 or a negative code. */
int zg_digest_key_new(uint8_t key[ZG_DIGEST_KEY_LEN]);

/*!
 * Adds (or with \a add false, subtracts) one record to the digest.
 *
 * \param owner  Owner in wire format, any case.
 * \param rdata  Uncompressed rdata, any case (canonicalised here).
 *
 * \return 0, KNOT_EMALF for malformed rdata, -ENOMEM.
 */
int zg_digest_rr(zg_digest_ctx_t *ctx, zg_digest_t *d, bool add, const uint8_t *owner,
                 uint16_t type, uint32_t ttl, const uint8_t *rdata, uint16_t rdlen);

/*!
 * Adds (or subtracts) every record of an RRset of a zg_zone_t (owner in wire
 * format, lowercase; the set's rdata is canonical already).
 */
int zg_digest_rrset(zg_digest_ctx_t *ctx, zg_digest_t *d, bool add, const uint8_t *owner,
                    const zg_rrset_t *set);

/*! The digest of every record of a zone. \return 0 or -ENOMEM. */
int zg_digest_zone(zg_digest_ctx_t *ctx, const zg_zone_t *zone, zg_digest_t *out);

/*! Whether two digests are equal. */
bool zg_digest_equal(const zg_digest_t *a, const zg_digest_t *b);

/*! Writes the digest as 64 hex digits (\a buf at least ZG_DIGEST_STR_LEN + 1). */
char *zg_digest_str(const zg_digest_t *d, char *buf, size_t len);

/*! Parses the text form. \return 0 or ZG_EINPUT. */
int zg_digest_parse(const char *text, zg_digest_t *out);

/*!
 * The digest of the content an AXFR or IXFR answer leaves at its receiver,
 * summed as the answer's records go by (a server checking what it sends).
 * For an incremental answer the receiver's content before it is the content
 * of the serial it asked from, whose digest \a base must give.
 */
typedef struct {
	zg_xfr_stream_t stream;
	zg_digest_ctx_t *ctx;
	zg_digest_t sum;
	bool based;              /*!< IXFR: the sum started from the base digest. */
	bool (*base)(void *arg, uint32_t serial, zg_digest_t *out);
	void *base_arg;
} zg_digest_stream_t;

/*!
 * Starts summing the answer to an AXFR (\a axfr) or to an IXFR from \a serial
 * of \a zone (wire, lowercase; kept by reference).
 *
 * \param base  Gives the digest of a serial's content (false: unknown; the
 *              incremental answer then fails with ZG_ENOTSUP).
 */
void zg_digest_stream_init(zg_digest_stream_t *s, zg_digest_ctx_t *ctx, const uint8_t *zone,
                           bool axfr, uint32_t serial,
                           bool (*base)(void *arg, uint32_t serial, zg_digest_t *out),
                           void *base_arg);

/*!
 * Takes the next answer record (class IN; others are not content).
 * Records outside the zone are skipped, as receivers do.
 *
 * \return 0; ZG_EPROTO for a record that breaks the answer's structure,
 *         ZG_ENOTSUP when the base digest of an incremental answer is not
 *         known, KNOT_EMALF, -ENOMEM (the reason says which).
 */
int zg_digest_stream_rr(zg_digest_stream_t *s, const uint8_t *owner, uint16_t type,
                        uint32_t ttl, const uint8_t *rdata, uint16_t rdlen,
                        char *reason, size_t rlen);

#endif /* ZONEGATE_DIGEST_H */
