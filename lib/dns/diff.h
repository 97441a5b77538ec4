/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * A zone diff: RR removals and additions in order, as an IXFR brings them
 * (RFC 1995: possibly several deltas, the SOA included), kept in one reused
 * buffer. The transfer client fills it (dns/xfr.h); the incremental
 * validation engine applies it (validate/incr.h) without knowing where it
 * came from.
 */
#ifndef ZONEGATE_DIFF_H
#define ZONEGATE_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"

/*! One RR change, in diff order (views into the diff's buffer). */
typedef struct {
	bool add;              /*!< Added (true) or removed (false). */
	uint16_t type;
	uint32_t ttl;
	uint16_t rdlen;
	const uint8_t *owner;  /*!< Wire format, as received. */
	const uint8_t *rdata;  /*!< Uncompressed wire rdata. */
} zg_diff_change_t;

/*! The changes from one serial to another: apply them in order. */
typedef struct {
	zg_buf_t buf;
	size_t count;          /*!< Number of changes. */
	uint32_t serial_from;  /*!< Serial the diff applies to. */
	uint32_t serial_to;    /*!< Serial after the diff. */
} zg_diff_t;

/*! Initialises an empty diff (no allocation). */
void zg_diff_init(zg_diff_t *diff);

/*! Frees the diff's buffer. */
void zg_diff_deinit(zg_diff_t *diff);

/*! Empties the diff, keeping its buffer for reuse. */
void zg_diff_clear(zg_diff_t *diff);

/*!
 * Appends one change.
 *
 * \param owner  Wire-format owner name (at most 255 bytes).
 *
 * \return 0, -ENOMEM.
 */
int zg_diff_put(zg_diff_t *diff, bool add, const uint8_t *owner, uint16_t type,
                uint32_t ttl, const uint8_t *rdata, uint16_t rdlen);

/*!
 * Iterates the changes: `size_t pos = 0; zg_diff_change_t ch;
 * while (zg_diff_next(diff, &pos, &ch)) { ... }`.
 */
bool zg_diff_next(const zg_diff_t *diff, size_t *pos, zg_diff_change_t *out);

#endif
