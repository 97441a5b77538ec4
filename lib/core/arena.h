/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * Bump allocator for data that lives as long as its owner (a zone, a report).
 *
 * Memory comes in large chunks; single allocations cannot be freed, only the
 * whole arena at once with zg_arena_deinit(). Not thread-safe: use one arena
 * per thread or per object.
 */
#ifndef ZONEGATE_ARENA_H
#define ZONEGATE_ARENA_H

#include <stddef.h>
#include <stdint.h>

#include <libknot/mm_ctx.h>

typedef struct zg_arena_chunk zg_arena_chunk_t;

/*! Arena; embed it and initialise with zg_arena_init(). */
typedef struct {
	zg_arena_chunk_t *head;  /*!< Current chunk (chunks form a list). */
	size_t chunk_size;       /*!< Default chunk payload size. */
	size_t used;             /*!< Bytes handed out (statistics). */
	knot_mm_t mm;            /*!< libknot allocator view, see zg_arena_mm(). */
} zg_arena_t;

/*!
 * Initialises an empty arena.
 *
 * \param arena       Arena to initialise (caller-owned storage).
 * \param chunk_size  Largest chunk payload (chunks grow from 16 KiB up to
 *                    it); 0 selects 1 MiB.
 */
void zg_arena_init(zg_arena_t *arena, size_t chunk_size);

/*!
 * Frees every chunk of the arena; all pointers it handed out become invalid.
 * The arena can be reused after another zg_arena_init().
 */
void zg_arena_deinit(zg_arena_t *arena);

/*!
 * Allocates \a size bytes aligned to 8 bytes.
 *
 * \return Pointer owned by the arena (never free it), or NULL if out of memory.
 */
void *zg_arena_alloc(zg_arena_t *arena, size_t size);

/*!
 * Copies \a size bytes into the arena.
 *
 * \return Arena-owned copy, or NULL if out of memory.
 */
void *zg_arena_memdup(zg_arena_t *arena, const void *src, size_t size);

/*!
 * Moves every chunk of \a src into \a dst: the pointers \a src handed out
 * stay valid and now belong to \a dst (freed by its zg_arena_deinit()).
 * \a src is left empty and can be used again.
 */
void zg_arena_adopt(zg_arena_t *dst, zg_arena_t *src);

/*!
 * Forgets every allocation but keeps the newest chunk for reuse, so a loop
 * that resets the arena per item allocates nothing in steady state.
 */
void zg_arena_reset(zg_arena_t *arena);

/*!
 * Returns a libknot allocator (knot_mm_t) that allocates from the arena and
 * never frees (memory goes with zg_arena_reset/zg_arena_deinit). The pointer
 * is valid while the arena lives; the arena must not be moved meanwhile.
 */
knot_mm_t *zg_arena_mm(zg_arena_t *arena);

/*! Growable byte buffer, reused across operations to avoid per-record malloc. */
typedef struct {
	uint8_t *data;  /*!< Heap storage (owned by the buffer). */
	size_t len;     /*!< Bytes in use. */
	size_t cap;     /*!< Bytes allocated. */
} zg_buf_t;

/*! Initialises an empty buffer (no allocation). */
static inline void zg_buf_init(zg_buf_t *buf)
{
	buf->data = NULL;
	buf->len = 0;
	buf->cap = 0;
}

/*! Frees the buffer's storage. */
void zg_buf_deinit(zg_buf_t *buf);

/*!
 * Makes room for \a extra more bytes after buf->len.
 *
 * \return 0, or -ENOMEM (the buffer is unchanged).
 */
int zg_buf_reserve(zg_buf_t *buf, size_t extra);

/*!
 * Appends \a len bytes.
 *
 * \return 0, or -ENOMEM.
 */
int zg_buf_append(zg_buf_t *buf, const void *src, size_t len);

#endif /* ZONEGATE_ARENA_H */
