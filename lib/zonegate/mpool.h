/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * A resettable bump allocator for per-message data that doubles as libknot's
 * knot_mm_t: records, names and rdata of one message are allocated from it
 * (knot_rrset_* and knot_dname_* with zg_mpool_mm()) and released all at
 * once. libknot's free calls on it are no-ops. Not thread-safe.
 */
#ifndef ZONEGATE_MPOOL_H
#define ZONEGATE_MPOOL_H

#include <stddef.h>

#include <libknot/mm_ctx.h>

typedef struct zg_mpool_chunk zg_mpool_chunk_t;

/*! A pool, embedded in its owner (zg_mpool_init/zg_mpool_deinit). */
typedef struct {
	knot_mm_t mm;            /*!< libknot allocator view (ctx points here). */
	zg_mpool_chunk_t *head;  /*!< Current chunk (older ones behind it). */
	size_t chunk_size;       /*!< Default chunk size. */
	size_t total;            /*!< Bytes handed out since the last reset. */
} zg_mpool_t;

/*!
 * Initialises an empty pool; allocates nothing yet.
 *
 * \param pool        Pool to initialise (storage owned by the caller).
 * \param chunk_size  Size of each chunk (0 for the default, 64 KiB).
 */
void zg_mpool_init(zg_mpool_t *pool, size_t chunk_size);

/*!
 * Releases every chunk of the pool. The pool may be initialised again.
 */
void zg_mpool_deinit(zg_mpool_t *pool);

/*!
 * Forgets every allocation but keeps one chunk for reuse. Pointers handed
 * out before become invalid.
 */
void zg_mpool_reset(zg_mpool_t *pool);

/*!
 * Allocates len bytes aligned to 16 bytes.
 *
 * \return Memory owned by the pool (never free it), or NULL if out of memory.
 */
void *zg_mpool_alloc(zg_mpool_t *pool, size_t len);

/*!
 * Copies len bytes into the pool.
 *
 * \return Pool-owned copy, or NULL if out of memory.
 */
void *zg_mpool_memdup(zg_mpool_t *pool, const void *src, size_t len);

/*!
 * The pool as a libknot memory context (valid as long as the pool).
 */
static inline knot_mm_t *zg_mpool_mm(zg_mpool_t *pool)
{
	return &pool->mm;
}

#endif /* ZONEGATE_MPOOL_H */
