/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * FNV-1a, the one non-cryptographic hash of the library: hash-table slots and
 * the identities of RRsets and verdicts (never for anything an attacker must
 * not collide on purpose; those use SHA-2 in validate/digest.h).
 */
#ifndef ZONEGATE_HASH_H
#define ZONEGATE_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*! FNV-1a's 64-bit offset basis: the hash of no data. */
#define ZG_FNV1A_INIT 14695981039346656037ULL
/*! FNV-1a's 64-bit prime. */
#define ZG_FNV1A_PRIME 1099511628211ULL

/*!
 * Continues a 64-bit FNV-1a hash over len bytes.
 *
 * \param h     The hash so far (ZG_FNV1A_INIT to start).
 * \param data  The bytes (may be NULL when len is 0).
 * \param len   Their number.
 * \return The hash including the bytes.
 */
static inline uint64_t zg_fnv1a(uint64_t h, const void *data, size_t len)
{
	const uint8_t *p = data;
	for (size_t i = 0; i < len; i++) {
		h = (h ^ p[i]) * ZG_FNV1A_PRIME;
	}
	return h;
}

/*!
 * Continues a 64-bit FNV-1a hash over a NUL-terminated string (without the NUL).
 *
 * \param h  The hash so far (ZG_FNV1A_INIT to start).
 * \param s  The string.
 * \return The hash including the string.
 */
static inline uint64_t zg_fnv1a_str(uint64_t h, const char *s)
{
	return zg_fnv1a(h, s, strlen(s));
}

#endif /* ZONEGATE_HASH_H */
