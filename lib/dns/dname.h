/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * Domain names in wire format: canonical order keys, labels, lowercase,
 * presentation, canonical rdata, base32hex (NSEC3 owner labels).
 * Pure functions on caller-owned buffers; nothing here allocates.
 */
#ifndef ZONEGATE_DNAME_H
#define ZONEGATE_DNAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*! Longest canonical key of a name (escaped, see zg_dname_key()). */
#define ZG_KEY_MAXLEN 640
/*! Longest wire-format domain name. */
#define ZG_DNAME_MAXLEN 255

/*!
 * Canonical key of a wire name: labels from the root down, lowercased, each
 * followed by 0x00, bytes 0x00/0x01 escaped as 0x01 0x01 / 0x01 0x02. memcmp()
 * of two keys gives the canonical DNS order; a key that is a prefix of
 * another belongs to an ancestor.
 *
 * \param key  At least ZG_KEY_MAXLEN bytes.
 *
 * \return Key length.
 */
size_t zg_dname_key(const uint8_t *name, uint8_t *key);

/*! Converts a key back to a wire name (lowercase); returns the name length. */
size_t zg_key_to_dname(const uint8_t *key, size_t keylen, uint8_t *name);

/*! Number of labels of a wire name (the root has 0). */
unsigned zg_dname_labels(const uint8_t *name);

/*! Length of a wire name, or 0 if malformed within \a maxlen bytes. */
size_t zg_dname_len(const uint8_t *name, size_t maxlen);

/*! Whether key \a a belongs to an ancestor of (or the same name as) key \a b. */
bool zg_key_is_ancestor(const uint8_t *akey, size_t alen, const uint8_t *bkey, size_t blen);

/*!
 * Base32hex (RFC 4648) without padding, as used by NSEC3 owner labels.
 *
 * \return Characters written (NUL-terminated), 0 if \a outlen is too small.
 */
size_t zg_base32hex_encode(const uint8_t *in, size_t len, char *out, size_t outlen, bool lower);

/*!
 * Decodes base32hex (either case, no padding).
 *
 * \return Bytes written, or -1 on a bad character, bad length or overflow.
 */
int zg_base32hex_decode(const uint8_t *in, size_t len, uint8_t *out, size_t outlen);

/*! Lowercases ASCII letters of a wire name in place. */
void zg_dname_lower(uint8_t *name);

/*!
 * Presentation form of a wire name (absolute, with the final dot).
 *
 * \param out  At least 1024 bytes (worst case escaping).
 */
char *zg_dname_str(const uint8_t *name, char *out, size_t outlen);

/*!
 * Rewrites the domain names inside rdata to lowercase if the type is one of
 * RFC 4034 6.2 as amended by RFC 6840 5.1 (not NSEC).
 *
 * \return 0, or KNOT_EMALF if the rdata does not match the type.
 */
int zg_rdata_to_canonical(uint16_t type, uint8_t *rdata, size_t len);

/*! Canonical rdata order (RFC 4034 6.3): memcmp, shorter first on a tie. */
int zg_rdata_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

#endif /* ZONEGATE_DNAME_H */
