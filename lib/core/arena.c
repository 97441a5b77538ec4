/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/arena.h"

#define HUGE_2M ((uintptr_t)2 << 20)

struct zg_arena_chunk {
	zg_arena_chunk_t *next;
	size_t size;
	size_t pos;
	_Alignas(8) uint8_t data[];
};

void zg_arena_init(zg_arena_t *arena, size_t chunk_size)
{
	arena->head = NULL;
	arena->chunk_size = chunk_size ? chunk_size : (1 << 20);
	arena->used = 0;
}

void zg_arena_deinit(zg_arena_t *arena)
{
	zg_arena_chunk_t *c = arena->head;
	while (c != NULL) {
		zg_arena_chunk_t *next = c->next;
		free(c);
		c = next;
	}
	arena->head = NULL;
	arena->used = 0;
}

void zg_arena_reset(zg_arena_t *arena)
{
	zg_arena_chunk_t *keep = arena->head;
	if (keep == NULL) {
		return;
	}
	zg_arena_chunk_t *c = keep->next;
	while (c != NULL) {
		zg_arena_chunk_t *next = c->next;
		free(c);
		c = next;
	}
	keep->next = NULL;
	keep->pos = 0;
	arena->used = 0;
}

void zg_arena_adopt(zg_arena_t *dst, zg_arena_t *src)
{
	zg_arena_chunk_t *first = src->head;
	if (first == NULL) {
		return;
	}
	zg_arena_chunk_t *last = first;
	while (last->next != NULL) {
		last = last->next;
	}
	/* Behind dst's current chunk, so dst keeps allocating where it was. */
	if (dst->head != NULL) {
		last->next = dst->head->next;
		dst->head->next = first;
	} else {
		dst->head = first;
	}
	dst->used += src->used;
	src->head = NULL;
	src->used = 0;
}

static void *arena_mm_alloc(void *ctx, size_t len)
{
	return zg_arena_alloc(ctx, len);
}

knot_mm_t *zg_arena_mm(zg_arena_t *arena)
{
	arena->mm.ctx = arena;
	arena->mm.alloc = arena_mm_alloc;
	arena->mm.free = NULL;
	return &arena->mm;
}

void *zg_arena_alloc(zg_arena_t *arena, size_t size)
{
	if (size > SIZE_MAX - 7) {
		return NULL;
	}
	size = (size + 7) & ~(size_t)7;
	zg_arena_chunk_t *c = arena->head;
	if (c == NULL || c->size - c->pos < size) {
		if (size > arena->chunk_size / 4) {
			/* Big item: own chunk, keep using the current one. */
			zg_arena_chunk_t *big = malloc(sizeof(*big) + size);
			if (big == NULL) {
				return NULL;
			}
			big->size = size;
			big->pos = size;
			if (c != NULL) {
				big->next = c->next;
				c->next = big;
			} else {
				big->next = NULL;
				arena->head = big;
			}
			arena->used += size;
			return big->data;
		}
		/* Chunks grow from 16 KiB up to chunk_size, so small arenas stay small. */
		size_t csize = (c == NULL) ? 16384 : c->size * 2;
		if (csize > arena->chunk_size) {
			csize = arena->chunk_size;
		}
		if (csize < size) {
			csize = size;
		}
		zg_arena_chunk_t *nc = NULL;
		if (csize >= HUGE_2M) {
			/* Big chunks are filled completely: 2 MiB-aligned and backed by
			 * huge pages where the system allows, they need far fewer page
			 * faults. */
			size_t total = (csize + HUGE_2M - 1) & ~(HUGE_2M - 1);
			if (total - sizeof(*nc) < size) {
				total += HUGE_2M;
			}
			void *mem = NULL;
			if (posix_memalign(&mem, HUGE_2M, total) != 0) {
				return NULL;
			}
			(void)madvise(mem, total, MADV_HUGEPAGE);
			nc = mem;
			csize = total - sizeof(*nc);
		} else {
			nc = malloc(sizeof(*nc) + csize);
		}
		if (nc == NULL) {
			return NULL;
		}
		nc->size = csize;
		nc->pos = 0;
		nc->next = c;
		arena->head = nc;
		c = nc;
	}
	void *p = c->data + c->pos;
	c->pos += size;
	arena->used += size;
	return p;
}

void *zg_arena_memdup(zg_arena_t *arena, const void *src, size_t size)
{
	void *p = zg_arena_alloc(arena, size);
	if (p != NULL && size > 0) {
		memcpy(p, src, size);
	}
	return p;
}

void zg_buf_deinit(zg_buf_t *buf)
{
	free(buf->data);
	zg_buf_init(buf);
}

int zg_buf_reserve(zg_buf_t *buf, size_t extra)
{
	if (buf->cap - buf->len >= extra) {
		return 0;
	}
	size_t ncap = buf->cap ? buf->cap : 256;
	while (ncap - buf->len < extra) {
		ncap *= 2;
	}
	uint8_t *n = realloc(buf->data, ncap);
	if (n == NULL) {
		return -ENOMEM;
	}
	buf->data = n;
	buf->cap = ncap;
	return 0;
}

int zg_buf_append(zg_buf_t *buf, const void *src, size_t len)
{
	int ret = zg_buf_reserve(buf, len);
	if (ret != 0) {
		return ret;
	}
	if (len > 0) {
		memcpy(buf->data + buf->len, src, len);
	}
	buf->len += len;
	return 0;
}
