/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "zonegate/mpool.h"

#define MPOOL_ALIGN		16
#define MPOOL_DEFAULT_CHUNK	(64 * 1024)

struct zg_mpool_chunk {
	zg_mpool_chunk_t *next;
	size_t size;
	size_t used;
	_Alignas(16) uint8_t data[];
};

static void *mpool_mm_alloc(void *ctx, size_t len)
{
	return zg_mpool_alloc(ctx, len);
}

void zg_mpool_init(zg_mpool_t *pool, size_t chunk_size)
{
	memset(pool, 0, sizeof(*pool));
	pool->chunk_size = chunk_size > 0 ? chunk_size : MPOOL_DEFAULT_CHUNK;
	pool->mm.ctx = pool;
	pool->mm.alloc = mpool_mm_alloc;
	pool->mm.free = NULL;
}

void zg_mpool_deinit(zg_mpool_t *pool)
{
	zg_mpool_chunk_t *c = pool->head;
	while (c != NULL) {
		zg_mpool_chunk_t *next = c->next;
		free(c);
		c = next;
	}
	pool->head = NULL;
	pool->total = 0;
}

void zg_mpool_reset(zg_mpool_t *pool)
{
	zg_mpool_chunk_t *keep = pool->head;
	if (keep == NULL) {
		return;
	}
	zg_mpool_chunk_t *c = keep->next;
	while (c != NULL) {
		zg_mpool_chunk_t *next = c->next;
		free(c);
		c = next;
	}
	keep->next = NULL;
	keep->used = 0;
	pool->total = 0;
}

void *zg_mpool_alloc(zg_mpool_t *pool, size_t len)
{
	size_t need = (len + MPOOL_ALIGN - 1) & ~(size_t)(MPOOL_ALIGN - 1);
	if (need < len) {
		return NULL;
	}
	zg_mpool_chunk_t *c = pool->head;
	if (c == NULL || c->size - c->used < need) {
		bool own = need > pool->chunk_size / 4;
		size_t size = own ? need : pool->chunk_size;
		zg_mpool_chunk_t *n = malloc(sizeof(*n) + size);
		if (n == NULL) {
			return NULL;
		}
		n->size = size;
		n->used = 0;
		if (own && c != NULL) {
			/* A big allocation gets its own chunk behind the current one. */
			n->next = c->next;
			c->next = n;
		} else {
			n->next = c;
			pool->head = n;
		}
		c = n;
	}
	void *p = c->data + c->used;
	c->used += need;
	pool->total += need;
	return p;
}

void *zg_mpool_memdup(zg_mpool_t *pool, const void *src, size_t len)
{
	void *p = zg_mpool_alloc(pool, len);
	if (p != NULL && len > 0) {
		memcpy(p, src, len);
	}
	return p;
}
