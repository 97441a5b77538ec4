/* SPDX-License-Identifier: GPL-3.0-or-later */
#define _GNU_SOURCE /* qsort_r */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libknot/consts.h>
#include <libknot/descriptor.h>
#include <libknot/errcode.h>

#include "core/arena.h"
#include "core/error.h"
#include "validate/zone.h"

#define SL_MAX 24

/*
 * Node memory. Every node is one block of the zone's arena (header, RRsets,
 * key, rdata). A node that a change replaces (or removes) gives its block
 * back to the zone's free lists, and new nodes are taken from them before
 * the arena grows: so a stream of changes reuses the blocks of the nodes it
 * replaced and the store stays at the size of its content (issue 20), with
 * no heap allocation per change. Small blocks are kept in lists per size
 * (8-byte steps), found with a bitmap; a request takes the smallest block
 * that fits and splits off what it does not need when that can hold a node.
 * Larger blocks (rare: huge RRsets) go to one list, first fit.
 */
#define FL_GRAIN    8
#define FL_CLASSES  512                         /* blocks up to 4 KiB - 8 */
#define FL_WORDS    (FL_CLASSES / 64)
#define FL_SPLIT    128                          /* smallest block split off */

typedef struct fl_block {
	struct fl_block *next;
	size_t size;                                 /* large list only */
} fl_block_t;

struct zg_node {
	zg_node_t *prev;
	zg_rrset_t *rrsets;
	const uint8_t *key;
	uint32_t flags;
	uint16_t keylen;
	uint16_t rrset_count;
	uint8_t height;
	uint32_t bytes;         /* Size of the node's block. */
	zg_node_t *next[];
};

typedef struct {
	zg_node_t *head[SL_MAX];
	zg_node_t *tail;
	int level;
	size_t count;
} zg_tree_t;

/* One pending RR of the owner being built. */
typedef struct {
	uint16_t type;
	uint16_t covered;
	uint32_t ttl;
	uint32_t off;
	uint16_t len;
} pend_rr_t;

typedef struct {
	zg_node_t **v;
	size_t len, cap;
} node_vec_t;

struct zg_zone {
	uint8_t origin[ZG_DNAME_MAXLEN];
	uint8_t origin_key[ZG_KEY_MAXLEN];
	size_t origin_keylen;
	zg_arena_t arena;
	zg_tree_t tree[2];      /* 0: names, 1: NSEC3 */
	bool building;
	uint64_t rng;
	size_t rr_count;
	/* Free node blocks (see "Node memory" above). */
	fl_block_t *fl[FL_CLASSES];
	uint64_t fl_bits[FL_WORDS];
	fl_block_t *fl_large;
	size_t fl_bytes;
	/* Owner being collected (bulk) or rebuilt (incremental). */
	uint8_t pend_key[ZG_KEY_MAXLEN];
	size_t pend_keylen;
	int pend_tree;
	pend_rr_t *pend;
	size_t pend_len, pend_cap;
	zg_buf_t pend_data;
	node_vec_t vec[2];
	/* Out-of-zone records (zg_zone_note_outside()): entries of u16 type,
	 * u8 name length, name; the last pair noted (also past the cap). */
	zg_buf_t outside;
	size_t outside_n, outside_more, outside_more_denial;
	uint8_t outside_last[ZG_DNAME_MAXLEN];
	uint16_t outside_last_type;
};

/* ---- small helpers ---- */

static int keycmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	size_t m = alen < blen ? alen : blen;
	int c = memcmp(a, b, m);
	if (c != 0) {
		return c;
	}
	return (alen > blen) - (alen < blen);
}

static inline int node_keycmp(const zg_node_t *n, const uint8_t *key, size_t len)
{
	return keycmp(n->key, n->keylen, key, len);
}

static uint8_t random_height(zg_zone_t *z)
{
	/* xorshift64*, geometric with p = 1/4 */
	z->rng ^= z->rng >> 12;
	z->rng ^= z->rng << 25;
	z->rng ^= z->rng >> 27;
	uint64_t r = z->rng * 2685821657736338717ULL;
	uint8_t h = 1;
	while (h < SL_MAX && (r & 3) == 0) {
		h++;
		r >>= 2;
	}
	return h;
}

/* ---- skip list ---- */

static zg_node_t *tree_leq(const zg_tree_t *t, const uint8_t *key, size_t len,
                           zg_node_t **update, bool *exact)
{
	zg_node_t *x = NULL;
	for (int lvl = (t->level > 0 ? t->level : 1) - 1; lvl >= 0; lvl--) {
		for (;;) {
			zg_node_t *n = x ? x->next[lvl] : t->head[lvl];
			if (n == NULL || node_keycmp(n, key, len) >= 0) {
				break;
			}
			x = n;
		}
		if (update != NULL) {
			update[lvl] = x;
		}
	}
	zg_node_t *n = x ? x->next[0] : t->head[0];
	if (n != NULL && node_keycmp(n, key, len) == 0) {
		*exact = true;
		return n;
	}
	*exact = false;
	return x;
}

/* Links node into t; update: its predecessors at every level (tree_leq()). */
static void tree_insert_at(zg_tree_t *t, zg_node_t *node, zg_node_t **update)
{
	for (int i = t->level; i < node->height; i++) {
		update[i] = NULL;
	}
	if (node->height > t->level) {
		t->level = node->height;
	}
	for (int i = 0; i < node->height; i++) {
		zg_node_t **link = update[i] ? &update[i]->next[i] : &t->head[i];
		node->next[i] = *link;
		*link = node;
	}
	node->prev = update[0];
	if (node->next[0] != NULL) {
		node->next[0]->prev = node;
	} else {
		t->tail = node;
	}
	t->count++;
}

/* Unlinks node from t; update: its predecessors at every level (tree_leq()). */
static void tree_remove_at(zg_tree_t *t, zg_node_t *node, zg_node_t **update)
{
	for (int i = 0; i < node->height; i++) {
		zg_node_t **link = update[i] ? &update[i]->next[i] : &t->head[i];
		if (*link == node) {
			*link = node->next[i];
		}
	}
	if (node->next[0] != NULL) {
		node->next[0]->prev = node->prev;
	} else {
		t->tail = node->prev;
	}
	while (t->level > 0 && t->head[t->level - 1] == NULL) {
		t->level--;
	}
	t->count--;
}

/* Puts node (same key, same height) in the place of old in t. */
static void tree_replace_at(zg_tree_t *t, zg_node_t *old, zg_node_t *node, zg_node_t **update)
{
	for (int i = 0; i < old->height; i++) {
		zg_node_t **link = update[i] ? &update[i]->next[i] : &t->head[i];
		node->next[i] = old->next[i];
		if (*link == old) {
			*link = node;
		}
	}
	node->prev = old->prev;
	if (old->next[0] != NULL) {
		old->next[0]->prev = node;
	} else {
		t->tail = node;
	}
}

/* ---- node building ---- */

static int pend_cmp(const void *a, const void *b, void *arg)
{
	const pend_rr_t *x = a, *y = b;
	const uint8_t *base = arg;
	if (x->type != y->type) {
		return x->type < y->type ? -1 : 1;
	}
	if (x->covered != y->covered) {
		return x->covered < y->covered ? -1 : 1;
	}
	return zg_rdata_cmp(base + x->off, x->len, base + y->off, y->len);
}

static int pend_push(zg_zone_t *z, uint16_t type, uint32_t ttl, const uint8_t *rdata,
                     uint16_t rdlen)
{
	if (z->pend_len == z->pend_cap) {
		size_t ncap = z->pend_cap ? 2 * z->pend_cap : 64;
		pend_rr_t *n = realloc(z->pend, ncap * sizeof(*n));
		if (n == NULL) {
			return -ENOMEM;
		}
		z->pend = n;
		z->pend_cap = ncap;
	}
	size_t off = z->pend_data.len;
	int ret = zg_buf_append(&z->pend_data, rdata, rdlen);
	if (ret != 0) {
		return ret;
	}
	ret = zg_rdata_to_canonical(type, z->pend_data.data + off, rdlen);
	if (ret != 0) {
		z->pend_data.len = off;
		return ret;
	}
	uint16_t covered = 0;
	if (type == KNOT_RRTYPE_RRSIG) {
		covered = (uint16_t)(rdata[0] << 8 | rdata[1]);
	}
	z->pend[z->pend_len++] = (pend_rr_t){
		.type = type, .covered = covered, .ttl = ttl, .off = (uint32_t)off, .len = rdlen
	};
	return 0;
}

static void pend_reset(zg_zone_t *z)
{
	z->pend_len = 0;
	z->pend_data.len = 0;
	z->pend_keylen = 0;
}

static void fl_put(zg_zone_t *z, void *mem, size_t size)
{
	fl_block_t *b = mem;
	z->fl_bytes += size;
	size_t c = size / FL_GRAIN;
	if (c < FL_CLASSES) {
		b->next = z->fl[c];
		z->fl[c] = b;
		z->fl_bits[c / 64] |= (uint64_t)1 << (c % 64);
	} else {
		b->size = size;
		b->next = z->fl_large;
		z->fl_large = b;
	}
}

/* Smallest non-empty class >= c, or FL_CLASSES. */
static size_t fl_find(const zg_zone_t *z, size_t c)
{
	for (size_t w = c / 64; w < FL_WORDS; w++) {
		uint64_t bits = z->fl_bits[w];
		if (w == c / 64) {
			bits &= ~(uint64_t)0 << (c % 64);
		}
		if (bits != 0) {
			return w * 64 + (size_t)__builtin_ctzll(bits);
		}
	}
	return FL_CLASSES;
}

/* A block of at least size bytes (a multiple of FL_GRAIN) for a node:
 * a free one if there is one, else new from the arena. *bytes receives
 * the block's size. */
static void *node_alloc(zg_zone_t *z, size_t size, size_t *bytes)
{
	if (z->fl_bytes == 0) {  /* a bulk load: nothing freed yet */
		*bytes = size;
		return zg_arena_alloc(&z->arena, size);
	}
	void *mem = NULL;
	size_t got = 0;
	size_t c = size / FL_GRAIN;
	size_t f = c < FL_CLASSES ? fl_find(z, c) : FL_CLASSES;
	if (f < FL_CLASSES) {
		fl_block_t *b = z->fl[f];
		z->fl[f] = b->next;
		if (b->next == NULL) {
			z->fl_bits[f / 64] &= ~((uint64_t)1 << (f % 64));
		}
		mem = b;
		got = f * FL_GRAIN;
	} else {
		for (fl_block_t **p = &z->fl_large; *p != NULL; p = &(*p)->next) {
			if ((*p)->size >= size) {
				mem = *p;
				got = (*p)->size;
				*p = (*p)->next;
				break;
			}
		}
	}
	if (mem == NULL) {
		*bytes = size;
		return zg_arena_alloc(&z->arena, size);
	}
	z->fl_bytes -= got;
	if (got - size >= FL_SPLIT) {
		fl_put(z, (uint8_t *)mem + size, got - size);
		got = size;
	}
	*bytes = got;
	return mem;
}

/* Gives the block of a node no tree holds any more to the free lists. */
static void node_release(zg_zone_t *z, zg_node_t *node)
{
	fl_put(z, node, node->bytes);
}

/* Builds a node from the pending RRs (sorted, deduplicated); *dropped (may
 * be NULL) receives the number of duplicate RRs left out. */
static zg_node_t *pend_build(zg_zone_t *z, uint8_t height, size_t *dropped)
{
	uint8_t *base = z->pend_data.data;
	if (z->pend_len > 1) {
		qsort_r(z->pend, z->pend_len, sizeof(pend_rr_t), pend_cmp, base);
	}
	/* Deduplicate and count. */
	size_t n = 0, nsets = 0, datalen = 0;
	for (size_t i = 0; i < z->pend_len; i++) {
		pend_rr_t *r = &z->pend[i];
		if (n > 0) {
			pend_rr_t *p = &z->pend[n - 1];
			if (pend_cmp(p, r, base) == 0) {
				continue;
			}
			if (p->type != r->type || p->covered != r->covered) {
				nsets++;
			}
		} else {
			nsets = 1;
		}
		z->pend[n++] = *r;
		datalen += 2 + (size_t)r->len;
	}
	if (dropped != NULL) {
		*dropped = z->pend_len - n;
	}
	z->pend_len = n;

	size_t hdr = sizeof(zg_node_t) + height * sizeof(zg_node_t *);
	size_t total = hdr + nsets * sizeof(zg_rrset_t) + z->pend_keylen + datalen;
	if (total > UINT32_MAX - FL_GRAIN) {
		return NULL;
	}
	size_t bytes = 0;
	zg_node_t *node = node_alloc(z, (total + FL_GRAIN - 1) & ~(size_t)(FL_GRAIN - 1), &bytes);
	if (node == NULL) {
		return NULL;
	}
	memset(node, 0, hdr);
	node->height = height;
	node->bytes = (uint32_t)bytes;
	node->rrsets = (zg_rrset_t *)((uint8_t *)node + hdr);
	node->rrset_count = (uint16_t)nsets;
	uint8_t *key = (uint8_t *)(node->rrsets + nsets);
	memcpy(key, z->pend_key, z->pend_keylen);
	node->key = key;
	node->keylen = (uint16_t)z->pend_keylen;
	uint8_t *data = key + z->pend_keylen;

	zg_rrset_t *set = NULL;
	for (size_t i = 0; i < n; i++) {
		pend_rr_t *r = &z->pend[i];
		if (set == NULL || set->type != r->type || set->covered != r->covered) {
			set = (set == NULL) ? node->rrsets : set + 1;
			*set = (zg_rrset_t){
				.type = r->type, .covered = r->covered, .ttl = r->ttl, .data = data
			};
		}
		memcpy(data, &r->len, 2);
		memcpy(data + 2, base + r->off, r->len);
		data += 2 + (size_t)r->len;
		set->size += 2 + (uint32_t)r->len;
		set->count++;
	}
	return node;
}

static int vec_push(node_vec_t *v, zg_node_t *node)
{
	if (v->len == v->cap) {
		size_t ncap = v->cap ? 2 * v->cap : 1024;
		zg_node_t **n = realloc(v->v, ncap * sizeof(*n));
		if (n == NULL) {
			return -ENOMEM;
		}
		v->v = n;
		v->cap = ncap;
	}
	v->v[v->len++] = node;
	return 0;
}

static int pend_flush(zg_zone_t *z)
{
	if (z->pend_len == 0) {
		pend_reset(z);
		return 0;
	}
	size_t dropped = 0;
	zg_node_t *node = pend_build(z, random_height(z), &dropped);
	if (node == NULL) {
		return -ENOMEM;
	}
	z->rr_count -= dropped;
	int ret = vec_push(&z->vec[z->pend_tree], node);
	pend_reset(z);
	return ret;
}

/* Loads a node's RRs into the pending set. */
static int pend_load_node(zg_zone_t *z, const zg_node_t *node)
{
	for (unsigned i = 0; i < node->rrset_count; i++) {
		const zg_rrset_t *s = &node->rrsets[i];
		size_t pos = 0;
		const uint8_t *rd = NULL;
		uint16_t len = 0;
		while (zg_rrset_next(s, &pos, &rd, &len)) {
			int ret = pend_push(z, s->type, s->ttl, rd, len);
			if (ret != 0) {
				return ret;
			}
		}
	}
	return 0;
}

static int tree_of(uint16_t type, const uint8_t *rdata, uint16_t rdlen)
{
	if (type == KNOT_RRTYPE_NSEC3) {
		return 1;
	}
	if (type == KNOT_RRTYPE_RRSIG && rdlen >= 2 &&
	    (rdata[0] << 8 | rdata[1]) == KNOT_RRTYPE_NSEC3) {
		return 1;
	}
	return 0;
}

/* ---- flags ---- */

#define STATUS_FLAGS (ZG_NODE_APEX | ZG_NODE_DELEG | ZG_NODE_NONAUTH | ZG_NODE_BELOW_DNAME)

/* Whether the names below an authoritative node are cut off by it: a
 * delegation, or a DNAME (RFC 6672 2.3), also at the apex. */
static inline bool is_cut(const zg_node_t *n)
{
	return (n->flags & ZG_NODE_DELEG) ||
	       (!(n->flags & ZG_NODE_NONAUTH) && zg_node_rrset(n, KNOT_RRTYPE_DNAME) != NULL);
}

/* Sets the flags of a name-tree node that follows the nodes already seen in
 * canonical order; \a cut is the delegation or DNAME owner they left in
 * force. Returns the cut in force after the node. */
static inline const zg_node_t *flags_step(const zg_zone_t *z, zg_node_t *n,
                                          const zg_node_t *cut)
{
	n->flags &= ~(uint32_t)STATUS_FLAGS;
	if (cut != NULL && zg_key_is_ancestor(cut->key, cut->keylen, n->key, n->keylen)) {
		n->flags |= ZG_NODE_NONAUTH | (cut->flags & ZG_NODE_DELEG ? 0 : ZG_NODE_BELOW_DNAME);
		return cut;
	}
	if (n->keylen == z->origin_keylen) {
		n->flags |= ZG_NODE_APEX;
	} else if (zg_node_rrset(n, KNOT_RRTYPE_NS) != NULL) {
		n->flags |= ZG_NODE_DELEG;
	}
	return is_cut(n) ? n : NULL;
}

static void flags_walk(zg_zone_t *z, zg_node_t *start, const uint8_t *stop_key,
                       size_t stop_len, const zg_node_t *cut)
{
	for (zg_node_t *n = start; n != NULL; n = n->next[0]) {
		if (stop_key != NULL && !zg_key_is_ancestor(stop_key, stop_len, n->key, n->keylen)) {
			break;
		}
		cut = flags_step(z, n, cut);
	}
}

/*
 * Links tree t from nodes in canonical order and sets their flags, in one
 * pass over the nodes. With \a check, stops and returns false at the first
 * node that does not sort strictly after its predecessor (the caller then
 * sorts or merges and links again).
 */
static bool tree_link(zg_zone_t *z, int t, zg_node_t **v, size_t n, bool check)
{
	zg_tree_t *tree = &z->tree[t];
	zg_node_t *last[SL_MAX] = { NULL };
	memset(tree, 0, sizeof(*tree));
	zg_node_t *prev = NULL;
	const zg_node_t *cut = NULL;
	for (size_t k = 0; k < n; k++) {
		zg_node_t *node = v[k];
		if (check && prev != NULL &&
		    keycmp(prev->key, prev->keylen, node->key, node->keylen) >= 0) {
			return false;
		}
		for (int i = 0; i < node->height; i++) {
			node->next[i] = NULL;
			if (last[i] != NULL) {
				last[i]->next[i] = node;
			} else {
				tree->head[i] = node;
			}
			last[i] = node;
		}
		if (node->height > tree->level) {
			tree->level = node->height;
		}
		node->prev = prev;
		prev = node;
		if (t == 0) {
			cut = flags_step(z, node, cut);
		} else {
			node->flags |= ZG_NODE_NSEC3;
		}
	}
	tree->tail = prev;
	tree->count = n;
	return true;
}

/* Sets the flags of the names from key down: the node itself and, when
 * \a subtree, every name below it (their status depends on whether the node
 * is a delegation). */
static void flags_update(zg_zone_t *z, zg_node_t *node, const uint8_t *key, size_t keylen,
                         bool subtree)
{
	/* The outermost cut (delegation or DNAME) among existing ancestors,
	 * from the apex down; a 0x00 byte in a key always ends a label. */
	const zg_node_t *cut = NULL;
	bool exact;
	if (keylen > z->origin_keylen) {
		zg_node_t *apex = tree_leq(&z->tree[0], z->origin_key, z->origin_keylen, NULL, &exact);
		cut = (exact && is_cut(apex)) ? apex : NULL;
	}
	for (size_t l = z->origin_keylen; cut == NULL && l + 1 < keylen; l++) {
		if (key[l] != 0) {
			continue;
		}
		zg_node_t *a = tree_leq(&z->tree[0], key, l + 1, NULL, &exact);
		if (exact && is_cut(a)) {
			cut = a;
		}
	}
	zg_node_t *start = node;
	if (start == NULL) {
		start = tree_leq(&z->tree[0], key, keylen, NULL, &exact);
		start = start ? (exact ? start : start->next[0]) : z->tree[0].head[0];
	}
	if (subtree) {
		flags_walk(z, start, key, keylen, cut);
	} else if (start != NULL && start->keylen == keylen &&
	           memcmp(start->key, key, keylen) == 0) {
		flags_step(z, start, cut);
	}
}

/* ---- public API ---- */

int zg_zone_new(zg_zone_t **out, const uint8_t *origin)
{
	size_t olen = zg_dname_len(origin, ZG_DNAME_MAXLEN);
	if (olen == 0) {
		return KNOT_EINVAL;
	}
	zg_zone_t *z = calloc(1, sizeof(*z));
	if (z == NULL) {
		return -ENOMEM;
	}
	memcpy(z->origin, origin, olen);
	zg_dname_lower(z->origin);
	z->origin_keylen = zg_dname_key(z->origin, z->origin_key);
	zg_arena_init(&z->arena, 4 << 20);
	zg_buf_init(&z->pend_data);
	zg_buf_init(&z->outside);
	z->building = true;
	z->rng = 0x9E3779B97F4A7C15ULL;
	*out = z;
	return 0;
}

void zg_zone_free(zg_zone_t *zone)
{
	if (zone == NULL) {
		return;
	}
	/* Every node is in the arena. */
	for (int t = 0; t < 2; t++) {
		free(zone->vec[t].v);
	}
	zg_arena_deinit(&zone->arena);
	zg_buf_deinit(&zone->pend_data);
	zg_buf_deinit(&zone->outside);
	free(zone->pend);
	free(zone);
}

static int check_rdata(uint16_t type, const uint8_t *rdata, uint16_t rdlen)
{
	if (type == KNOT_RRTYPE_RRSIG && rdlen < 19) {
		return KNOT_EMALF;
	}
	return 0;
}

static int zone_change(zg_zone_t *z, const uint8_t *key, size_t keylen, int t,
                       uint16_t type, uint32_t ttl, const uint8_t *rdata, uint16_t rdlen,
                       bool add)
{
	/* One search: the predecessors at every level serve the replacement,
	 * removal or insertion below (no change to the tree in between). */
	zg_node_t *update[SL_MAX];
	bool exact;
	zg_node_t *old = tree_leq(&z->tree[t], key, keylen, update, &exact);
	if (!exact) {
		old = NULL;
	}
	pend_reset(z);
	memcpy(z->pend_key, key, keylen);
	z->pend_keylen = keylen;
	int ret = 0;
	if (old != NULL) {
		ret = pend_load_node(z, old);
	}
	size_t before = z->pend_len;
	if (ret == 0) {
		ret = pend_push(z, type, ttl, rdata, rdlen);
	}
	if (ret != 0) {
		pend_reset(z);
		return ret;
	}
	if (!add) {
		/* Drop every pending RR equal to the last one pushed. */
		pend_rr_t target = z->pend[z->pend_len - 1];
		z->pend_len--;
		size_t w = 0;
		bool found = false;
		for (size_t i = 0; i < z->pend_len; i++) {
			if (pend_cmp(&z->pend[i], &target, z->pend_data.data) == 0) {
				found = true;
				continue;
			}
			z->pend[w++] = z->pend[i];
		}
		z->pend_len = w;
		if (!found) {
			pend_reset(z);
			return KNOT_ENOENT;
		}
	} else if (old != NULL) {
		for (size_t i = 0; i < before; i++) {
			if (pend_cmp(&z->pend[i], &z->pend[before], z->pend_data.data) == 0) {
				pend_reset(z); /* already present */
				return 0;
			}
		}
	}
	zg_node_t *node = NULL;
	if (z->pend_len > 0) {
		node = pend_build(z, old ? old->height : random_height(z), NULL);
		if (node == NULL) {
			pend_reset(z);
			return -ENOMEM;
		}
	}
	pend_reset(z);
	uint32_t keep = old ? (old->flags & ZG_NODE_MARK) : 0;
	uint32_t old_flags = old ? old->flags : 0;
	if (node != NULL) {
		node->flags = keep | (t == 1 ? ZG_NODE_NSEC3 : 0);
	}
	if (old != NULL && node != NULL && node->height == old->height) {
		tree_replace_at(&z->tree[t], old, node, update);
	} else {
		if (old != NULL) {
			tree_remove_at(&z->tree[t], old, update);
		}
		if (node != NULL) {
			tree_insert_at(&z->tree[t], node, update);
		}
	}
	if (old != NULL) {
		node_release(z, old);
	}
	z->rr_count += add ? 1 : (size_t)-1;
	if (t == 0 && (type == KNOT_RRTYPE_NS || type == KNOT_RRTYPE_DNAME)) {
		/* Whether the owner is a cut (delegation, DNAME) may have changed:
		 * so has the status of every name below it. */
		flags_update(z, node, key, keylen, true);
	} else if (t == 0 && node != NULL && old != NULL) {
		/* Same owner, same NS and DNAME sets: same status, nothing below
		 * changes (the apex's SOA changes with every serial: no walk of the
		 * whole zone). */
		node->flags |= old_flags & STATUS_FLAGS;
	} else if (t == 0 && node != NULL) {
		/* A new owner without NS: its own status only. */
		flags_update(z, node, key, keylen, false);
	}
	return 0;
}

int zg_zone_add(zg_zone_t *z, const uint8_t *owner, uint16_t type, uint32_t ttl,
                const uint8_t *rdata, uint16_t rdlen)
{
	uint8_t key[ZG_KEY_MAXLEN];
	size_t keylen = zg_dname_key(owner, key);
	if (!zg_key_is_ancestor(z->origin_key, z->origin_keylen, key, keylen)) {
		return ZG_EOUTOFZONE;
	}
	int ret = check_rdata(type, rdata, rdlen);
	if (ret != 0) {
		return ret;
	}
	int t = tree_of(type, rdata, rdlen);
	if (!z->building) {
		return zone_change(z, key, keylen, t, type, ttl, rdata, rdlen, true);
	}
	if (z->pend_len > 0 && (t != z->pend_tree || keylen != z->pend_keylen ||
	                        memcmp(key, z->pend_key, keylen) != 0)) {
		ret = pend_flush(z);
		if (ret != 0) {
			return ret;
		}
	}
	if (z->pend_len == 0) {
		memcpy(z->pend_key, key, keylen);
		z->pend_keylen = keylen;
		z->pend_tree = t;
	}
	ret = pend_push(z, type, ttl, rdata, rdlen);
	if (ret == 0) {
		z->rr_count++;
	}
	return ret;
}

int zg_zone_remove(zg_zone_t *z, const uint8_t *owner, uint16_t type,
                   const uint8_t *rdata, uint16_t rdlen)
{
	if (z->building) {
		return KNOT_EINVAL;
	}
	uint8_t key[ZG_KEY_MAXLEN];
	size_t keylen = zg_dname_key(owner, key);
	int ret = check_rdata(type, rdata, rdlen);
	if (ret != 0) {
		return ret;
	}
	return zone_change(z, key, keylen, tree_of(type, rdata, rdlen), type, 0, rdata,
	                   rdlen, false);
}

int zg_zone_absorb(zg_zone_t *dst, zg_zone_t *src)
{
	if (!dst->building || !src->building || dst->origin_keylen != src->origin_keylen ||
	    memcmp(dst->origin_key, src->origin_key, src->origin_keylen) != 0) {
		return KNOT_EINVAL;
	}
	/* Flushing keeps each zone's content, so a failure leaves both usable. */
	int ret = pend_flush(dst);
	if (ret == 0) {
		ret = pend_flush(src);
	}
	for (int t = 0; t < 2 && ret == 0; t++) {
		node_vec_t *d = &dst->vec[t];
		size_t need = d->len + src->vec[t].len;
		if (need > d->cap) {
			zg_node_t **n = realloc(d->v, need * sizeof(*n));
			if (n == NULL) {
				return -ENOMEM;
			}
			d->v = n;
			d->cap = need;
		}
	}
	if (ret != 0) {
		return ret;
	}
	for (int t = 0; t < 2; t++) {
		node_vec_t *d = &dst->vec[t], *s = &src->vec[t];
		if (s->len > 0) {
			memcpy(d->v + d->len, s->v, s->len * sizeof(*s->v));
		}
		d->len += s->len;
		s->len = 0;
	}
	const uint8_t *o;
	uint16_t ot;
	for (size_t i = 0; zg_zone_outside(src, i, &o, &ot); i++) {
		if (zg_zone_note_outside(dst, o, ot) != 0) {
			return -ENOMEM;  /* both zones stay usable (src keeps its nodes) */
		}
	}
	dst->outside_more += src->outside_more;
	dst->outside_more_denial += src->outside_more_denial;
	zg_arena_adopt(&dst->arena, &src->arena);
	dst->rr_count += src->rr_count;
	zg_zone_free(src);
	return 0;
}

static int node_ptr_cmp(const void *a, const void *b)
{
	const zg_node_t *x = *(zg_node_t *const *)a, *y = *(zg_node_t *const *)b;
	return keycmp(x->key, x->keylen, y->key, y->keylen);
}

/* Sorts nodes into canonical order (if needed) and merges repeated owners. */
static int sort_merge(zg_zone_t *z, node_vec_t *v)
{
	bool sorted = true;
	for (size_t i = 1; i < v->len && sorted; i++) {
		sorted = node_ptr_cmp(&v->v[i - 1], &v->v[i]) <= 0;
	}
	if (!sorted) {
		/* glibc's qsort is a merge sort: input order among equal owners is kept. */
		qsort(v->v, v->len, sizeof(*v->v), node_ptr_cmp);
	}
	size_t w = 0;
	for (size_t i = 0; i < v->len; i++) {
		if (w > 0 && node_ptr_cmp(&v->v[w - 1], &v->v[i]) == 0) {
			/* Same owner seen twice: merge into a new node. */
			zg_node_t *a = v->v[w - 1], *b = v->v[i];
			pend_reset(z);
			memcpy(z->pend_key, a->key, a->keylen);
			z->pend_keylen = a->keylen;
			int ret = pend_load_node(z, a);
			if (ret == 0) {
				ret = pend_load_node(z, b);
			}
			size_t dropped = 0;
			zg_node_t *m = (ret == 0) ? pend_build(z, a->height, &dropped) : NULL;
			pend_reset(z);
			if (m == NULL) {
				return ret != 0 ? ret : -ENOMEM;
			}
			node_release(z, a);
			node_release(z, b);
			z->rr_count -= dropped;
			v->v[w - 1] = m;
			continue;
		}
		v->v[w++] = v->v[i];
	}
	v->len = w;
	return 0;
}

int zg_zone_finalize(zg_zone_t *z)
{
	if (!z->building) {
		return 0;
	}
	int ret = pend_flush(z);
	if (ret != 0) {
		return ret;
	}
	for (int t = 0; t < 2; t++) {
		node_vec_t *v = &z->vec[t];
		/* Zone files from signers are in canonical order: then one pass links
		 * the tree and sets the flags. Otherwise, or when an owner appears
		 * twice in a row (e.g. split between parts of a parallel load), sort
		 * and merge, then link. */
		if (!tree_link(z, t, v->v, v->len, true)) {
			ret = sort_merge(z, v);
			if (ret != 0) {
				return ret;
			}
			tree_link(z, t, v->v, v->len, false);
		}
		free(v->v);
		v->v = NULL;
		v->len = v->cap = 0;
	}
	/* Duplicate RRs were counted out as the nodes were built. */
	z->building = false;
	return 0;
}

const uint8_t *zg_zone_origin(const zg_zone_t *zone)
{
	return zone->origin;
}

zg_node_t *zg_zone_apex(const zg_zone_t *zone)
{
	bool exact;
	zg_node_t *n = tree_leq(&zone->tree[0], zone->origin_key, zone->origin_keylen, NULL, &exact);
	return exact ? n : NULL;
}

uint32_t zg_zone_serial(const zg_zone_t *zone, bool *found)
{
	zg_node_t *apex = zg_zone_apex(zone);
	const zg_rrset_t *soa = apex ? zg_node_rrset(apex, KNOT_RRTYPE_SOA) : NULL;
	if (soa == NULL || soa->count == 0) {
		if (found) {
			*found = false;
		}
		return 0;
	}
	const uint8_t *rd = NULL;
	uint16_t len = 0;
	size_t pos = 0;
	zg_rrset_next(soa, &pos, &rd, &len);
	size_t n1 = zg_dname_len(rd, len);
	size_t n2 = n1 ? zg_dname_len(rd + n1, len - n1) : 0;
	if (n2 == 0 || n1 + n2 + 4 > len) {
		if (found) {
			*found = false;
		}
		return 0;
	}
	const uint8_t *s = rd + n1 + n2;
	if (found) {
		*found = true;
	}
	return (uint32_t)s[0] << 24 | (uint32_t)s[1] << 16 | (uint32_t)s[2] << 8 | s[3];
}

void zg_zone_counts(const zg_zone_t *zone, size_t *names, size_t *nsec3, size_t *rrs)
{
	if (names) {
		*names = zone->tree[0].count;
	}
	if (nsec3) {
		*nsec3 = zone->tree[1].count;
	}
	if (rrs) {
		*rrs = zone->rr_count;
	}
}

zg_node_t *zg_zone_first(const zg_zone_t *zone)
{
	return zone->tree[0].head[0];
}

zg_node_t *zg_zone_nsec3_first(const zg_zone_t *zone)
{
	return zone->tree[1].head[0];
}

zg_node_t *zg_zone_last(const zg_zone_t *zone)
{
	return zone->tree[0].tail;
}

zg_node_t *zg_zone_nsec3_last(const zg_zone_t *zone)
{
	return zone->tree[1].tail;
}

zg_node_t *zg_zone_find(const zg_zone_t *zone, const uint8_t *owner)
{
	uint8_t key[ZG_KEY_MAXLEN];
	size_t len = zg_dname_key(owner, key);
	bool exact;
	zg_node_t *n = tree_leq(&zone->tree[0], key, len, NULL, &exact);
	return exact ? n : NULL;
}

zg_node_t *zg_zone_find_leq(const zg_zone_t *zone, const uint8_t *owner)
{
	uint8_t key[ZG_KEY_MAXLEN];
	size_t len = zg_dname_key(owner, key);
	bool exact;
	return tree_leq(&zone->tree[0], key, len, NULL, &exact);
}

static size_t nsec3_key(const zg_zone_t *zone, const uint8_t *hash, size_t hash_len,
                        uint8_t *key)
{
	char b32[128];
	size_t l = zg_base32hex_encode(hash, hash_len, b32, sizeof(b32), true);
	memcpy(key, zone->origin_key, zone->origin_keylen);
	memcpy(key + zone->origin_keylen, b32, l);
	key[zone->origin_keylen + l] = 0;
	return zone->origin_keylen + l + 1;
}

zg_node_t *zg_zone_find_nsec3(const zg_zone_t *zone, const uint8_t *hash, size_t hash_len)
{
	uint8_t key[ZG_KEY_MAXLEN];
	if (hash_len > 64) {
		return NULL;
	}
	size_t len = nsec3_key(zone, hash, hash_len, key);
	bool exact;
	zg_node_t *n = tree_leq(&zone->tree[1], key, len, NULL, &exact);
	return exact ? n : NULL;
}

zg_node_t *zg_zone_find_nsec3_leq(const zg_zone_t *zone, const uint8_t *hash, size_t hash_len)
{
	uint8_t key[ZG_KEY_MAXLEN];
	if (hash_len > 64) {
		return NULL;
	}
	size_t len = nsec3_key(zone, hash, hash_len, key);
	bool exact;
	return tree_leq(&zone->tree[1], key, len, NULL, &exact);
}

zg_node_t *zg_node_next(const zg_node_t *node)
{
	return node->next[0];
}

zg_node_t *zg_node_prev(const zg_node_t *node)
{
	return node->prev;
}

uint32_t zg_node_flags(const zg_node_t *node)
{
	return __atomic_load_n(&node->flags, __ATOMIC_RELAXED);
}

bool zg_node_mark(zg_node_t *node)
{
	uint32_t old = __atomic_fetch_or(&node->flags, (uint32_t)ZG_NODE_MARK, __ATOMIC_RELAXED);
	return (old & ZG_NODE_MARK) != 0;
}

void zg_zone_clear_marks(zg_zone_t *zone)
{
	for (int t = 0; t < 2; t++) {
		for (zg_node_t *n = zone->tree[t].head[0]; n != NULL; n = n->next[0]) {
			n->flags &= ~(uint32_t)ZG_NODE_MARK;
		}
	}
}

size_t zg_node_owner(const zg_node_t *node, uint8_t *buf)
{
	return zg_key_to_dname(node->key, node->keylen, buf);
}

const uint8_t *zg_node_key(const zg_node_t *node, size_t *len)
{
	*len = node->keylen;
	return node->key;
}

unsigned zg_node_rrset_count(const zg_node_t *node)
{
	return node->rrset_count;
}

const zg_rrset_t *zg_node_rrset_at(const zg_node_t *node, unsigned i)
{
	return i < node->rrset_count ? &node->rrsets[i] : NULL;
}

const zg_rrset_t *zg_node_rrset(const zg_node_t *node, uint16_t type)
{
	for (unsigned i = 0; i < node->rrset_count; i++) {
		if (node->rrsets[i].type == type) {
			return &node->rrsets[i];
		}
	}
	return NULL;
}

const zg_rrset_t *zg_node_rrsig(const zg_node_t *node, uint16_t covered)
{
	for (unsigned i = 0; i < node->rrset_count; i++) {
		const zg_rrset_t *s = &node->rrsets[i];
		if (s->type == KNOT_RRTYPE_RRSIG && s->covered == covered) {
			return s;
		}
	}
	return NULL;
}

void zg_zone_mem(const zg_zone_t *zone, size_t *total, size_t *nfree)
{
	if (total != NULL) {
		*total = zone->arena.used;
	}
	if (nfree != NULL) {
		*nfree = zone->fl_bytes;
	}
}

int zg_zone_node_to_diff(const zg_node_t *node, bool add, zg_diff_t *diff)
{
	uint8_t owner[ZG_DNAME_MAXLEN];
	zg_node_owner(node, owner);
	for (unsigned i = 0; i < node->rrset_count; i++) {
		const zg_rrset_t *set = &node->rrsets[i];
		const uint8_t *rd = NULL;
		uint16_t len = 0;
		size_t pos = 0;
		while (zg_rrset_next(set, &pos, &rd, &len)) {
			int ret = zg_diff_put(diff, add, owner, set->type, set->ttl, rd, len);
			if (ret != 0) {
				return ret;
			}
		}
	}
	return 0;
}

/* ---- out-of-zone records ---- */

int zg_zone_note_outside(zg_zone_t *z, const uint8_t *owner, uint16_t type)
{
	uint8_t lower[ZG_DNAME_MAXLEN];
	size_t len = zg_dname_len(owner, ZG_DNAME_MAXLEN);
	if (len == 0) {
		return KNOT_EINVAL;
	}
	memcpy(lower, owner, len);
	zg_dname_lower(lower);
	if (z->outside_n + z->outside_more > 0 && z->outside_last_type == type &&
	    zg_dname_len(z->outside_last, ZG_DNAME_MAXLEN) == len &&
	    memcmp(z->outside_last, lower, len) == 0) {
		return 0;  /* the same owner and type as the record before */
	}
	if (z->outside_n < ZG_ZONE_OUTSIDE_MAX) {
		uint8_t hdr[3] = { (uint8_t)(type >> 8), (uint8_t)type, (uint8_t)len };
		if (zg_buf_append(&z->outside, hdr, sizeof(hdr)) != 0 ||
		    zg_buf_append(&z->outside, lower, len) != 0) {
			return -ENOMEM;
		}
		z->outside_n++;
	} else {
		z->outside_more++;
		if (type == KNOT_RRTYPE_NSEC || type == KNOT_RRTYPE_NSEC3) {
			z->outside_more_denial++;
		}
	}
	memcpy(z->outside_last, lower, len);
	z->outside_last_type = type;
	return 0;
}

bool zg_zone_outside(const zg_zone_t *zone, size_t i, const uint8_t **owner, uint16_t *type)
{
	if (i >= zone->outside_n) {
		return false;
	}
	size_t pos = 0;
	for (size_t k = 0; k < i; k++) {
		pos += 3 + (size_t)zone->outside.data[pos + 2];
	}
	const uint8_t *e = zone->outside.data + pos;
	*type = (uint16_t)(e[0] << 8 | e[1]);
	*owner = e + 3;
	return true;
}

void zg_zone_outside_more(const zg_zone_t *zone, size_t *more, size_t *more_denial)
{
	if (more != NULL) {
		*more = zone->outside_more;
	}
	if (more_denial != NULL) {
		*more_denial = zone->outside_more_denial;
	}
}
