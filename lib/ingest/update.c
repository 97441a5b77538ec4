/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libdnssec/random.h>
#include <libknot/codes.h>
#include <libknot/descriptor.h>
#include <libknot/errcode.h>
#include <libknot/lookup.h>
#include <libknot/rrtype/opt.h>
#include <libknot/rrtype/rrsig.h>
#include <libknot/wire.h>

#include "core/error.h"
#include "dns/dname.h"
#include "ingest/update.h"
#include "validate/crypto.h"

typedef enum {
	OP_DEL_NODE,
	OP_DEL_RRSET,
	OP_ADD,
} op_kind_t;

typedef struct {
	op_kind_t kind;
	uint16_t type;
	const knot_rrset_t *rr;	/* OP_ADD */
} op_t;

/* Per-build state. */
typedef struct {
	zg_update_list_t *list;
	const zg_msg_t *msg;
	size_t max_size;
	size_t tsig_reserve;
	size_t capacity;	/* Bytes for records in an empty packet. */
	zg_update_t *cur;	/* Packet being filled. */
	size_t cur_used;	/* Estimated record bytes in it. */
	op_t ops[2 * 256 + 1];
	size_t nops;
} build_t;

void zg_update_list_init(zg_update_list_t *list)
{
	memset(list, 0, sizeof(*list));
	zg_arena_init(&list->pool, 0);
}

void zg_update_list_deinit(zg_update_list_t *list)
{
	for (size_t i = 0; i < list->alloc; i++) {
		knot_pkt_free(list->items[i].pkt);
	}
	free(list->items);
	zg_arena_deinit(&list->pool);
	memset(list, 0, sizeof(*list));
}

static bool type_protected(uint16_t type, bool apex)
{
	return zg_msg_type_is_dnssec(type) || type == KNOT_RRTYPE_SOA ||
	       (apex && type == KNOT_RRTYPE_NS);
}

static const knot_rrset_t *find_type(const knot_rrset_t *v, uint16_t n, uint16_t type)
{
	for (uint16_t i = 0; i < n; i++) {
		if (v[i].type == type) {
			return &v[i];
		}
	}
	return NULL;
}

static bool rrset_same(const knot_rrset_t *a, const knot_rrset_t *b)
{
	return a->ttl == b->ttl && knot_rdataset_eq(&a->rrs, &b->rrs);
}

/* Operations turning the state st into the change ch. */
static void plan_change(build_t *b, const zg_change_t *ch, const zg_owner_state_t *st)
{
	b->nops = 0;
	op_t *ops = b->ops;
	if (st == NULL || (st->complete && st->types_unknown && !st->absent)) {
		/* Blind, or no type list (a zone without DNSSEC): replace the owner
		 * whole; at the apex (never deleted whole) the listed types. */
		if (!ch->apex) {
			ops[b->nops++] = (op_t){ OP_DEL_NODE, KNOT_RRTYPE_ANY, NULL };
		}
		for (uint16_t i = 0; i < ch->rrset_count; i++) {
			if (ch->apex) {
				ops[b->nops++] = (op_t){ OP_DEL_RRSET, ch->rrsets[i].type, NULL };
			}
			ops[b->nops++] = (op_t){ OP_ADD, ch->rrsets[i].type, &ch->rrsets[i] };
		}
		return;
	}
	if (st->complete) {
		for (uint16_t i = 0; i < st->count; i++) {
			uint16_t t = st->rrsets[i].type;
			if (!type_protected(t, ch->apex) &&
			    find_type(ch->rrsets, ch->rrset_count, t) == NULL) {
				ops[b->nops++] = (op_t){ OP_DEL_RRSET, t, NULL };
			}
		}
		for (uint16_t i = 0; i < ch->rrset_count; i++) {
			const knot_rrset_t *w = &ch->rrsets[i];
			const knot_rrset_t *cur = find_type(st->rrsets, st->count, w->type);
			if (cur != NULL && rrset_same(cur, w)) {
				continue;
			}
			if (cur != NULL) {
				ops[b->nops++] = (op_t){ OP_DEL_RRSET, w->type, NULL };
			}
			ops[b->nops++] = (op_t){ OP_ADD, w->type, w };
		}
		return;
	}
	/* At or below a zone cut only part of the data is visible: leave an
	 * owner alone if what is seen is what is wanted, else replace it all. */
	bool same = true;
	for (uint16_t i = 0; i < st->count && same; i++) {
		const knot_rrset_t *w = find_type(ch->rrsets, ch->rrset_count, st->rrsets[i].type);
		same = w != NULL && rrset_same(w, &st->rrsets[i]);
	}
	for (uint16_t i = 0; i < ch->rrset_count && same; i++) {
		same = find_type(st->rrsets, st->count, ch->rrsets[i].type) != NULL;
	}
	if (same) {
		return;
	}
	ops[b->nops++] = (op_t){ OP_DEL_NODE, KNOT_RRTYPE_ANY, NULL };
	for (uint16_t i = 0; i < ch->rrset_count; i++) {
		ops[b->nops++] = (op_t){ OP_ADD, ch->rrsets[i].type, &ch->rrsets[i] };
	}
}

static size_t op_size(const op_t *op, const knot_dname_t *owner)
{
	size_t rr_head = knot_dname_size(owner) + 10;
	if (op->kind != OP_ADD) {
		return rr_head;
	}
	return op->rr->rrs.count * rr_head + op->rr->rrs.size -
	       op->rr->rrs.count * (sizeof(uint16_t)); /* knot_rdata_t keeps len + data (+pad). */
}

static int new_packet(build_t *b, size_t change_idx)
{
	zg_update_list_t *l = b->list;
	if (l->count == l->alloc) {
		size_t n = l->alloc ? l->alloc * 2 : 4;
		zg_update_t *items = realloc(l->items, n * sizeof(*items));
		if (items == NULL) {
			return -ENOMEM;
		}
		memset(items + l->alloc, 0, (n - l->alloc) * sizeof(*items));
		l->items = items;
		l->alloc = n;
	}
	zg_update_t *u = &l->items[l->count];
	if (u->pkt == NULL) {
		u->pkt = knot_pkt_new(NULL, ZG_UPDATE_MAX_SIZE, NULL);
		if (u->pkt == NULL) {
			return -ENOMEM;
		}
	}
	knot_pkt_t *pkt = u->pkt;
	knot_pkt_clear(pkt);
	pkt->max_size = b->max_size;
	memset(pkt->wire, 0, KNOT_WIRE_HEADER_SIZE);
	knot_wire_set_id(pkt->wire, dnssec_random_uint16_t());
	knot_wire_set_opcode(pkt->wire, KNOT_OPCODE_UPDATE);
	int ret = knot_pkt_put_question(pkt, b->msg->zone, KNOT_CLASS_IN, KNOT_RRTYPE_SOA);
	if (ret == KNOT_EOK) {
		ret = knot_pkt_reserve(pkt, b->tsig_reserve + KNOT_EDNS_MIN_SIZE);
	}
	if (ret == KNOT_EOK) {
		ret = knot_pkt_begin(pkt, KNOT_AUTHORITY);
	}
	if (ret != KNOT_EOK) {
		return ret;
	}
	u->first_change = change_idx;
	u->last_change = change_idx;
	l->count++;
	b->cur = u;
	b->cur_used = 0;
	return 0;
}

static int put_rr(build_t *b, const knot_rrset_t *rr)
{
	/* The packet keeps a shallow copy of rr: it must live in the pool. */
	int ret = knot_pkt_put(b->cur->pkt, KNOT_COMPR_HINT_NONE, rr, 0);
	if (ret == KNOT_ESPACE) {
		return ZG_ETOOBIG; /* The size estimate is an upper bound: a bug. */
	}
	b->list->ops += rr->rrs.count;
	return ret;
}

static int put_op(build_t *b, const op_t *op, const knot_dname_t *owner)
{
	if (op->kind == OP_ADD) {
		return put_rr(b, op->rr);
	}
	knot_rrset_t *rr = zg_arena_alloc(&b->list->pool, sizeof(*rr));
	if (rr == NULL) {
		return -ENOMEM;
	}
	/* RFC 2136 2.5.2/2.5.3: class ANY, TTL 0, RDLENGTH 0. */
	knot_rrset_init(rr, (knot_dname_t *)owner, op->type, KNOT_CLASS_ANY, 0);
	if (knot_rrset_add_rdata(rr, NULL, 0, zg_arena_mm(&b->list->pool)) != KNOT_EOK) {
		return -ENOMEM;
	}
	return put_rr(b, rr);
}

/* An owner too big for one packet: its records one by one over several. */
static int put_split(build_t *b, const knot_dname_t *owner, size_t change_idx)
{
	size_t rr_head = knot_dname_size(owner) + 10;
	for (size_t i = 0; i < b->nops; i++) {
		const op_t *op = &b->ops[i];
		if (op->kind != OP_ADD) {
			if (b->cur_used + rr_head > b->capacity) {
				int ret = new_packet(b, change_idx);
				if (ret != 0) {
					return ret;
				}
			}
			int ret = put_op(b, op, owner);
			if (ret != 0) {
				return ret;
			}
			b->cur_used += rr_head;
			b->cur->last_change = change_idx;
			continue;
		}
		knot_rdata_t *rd = op->rr->rrs.rdata;
		for (uint16_t j = 0; j < op->rr->rrs.count; j++) {
			size_t sz = rr_head + rd->len;
			if (b->cur_used + sz > b->capacity) {
				int ret = new_packet(b, change_idx);
				if (ret != 0) {
					return ret;
				}
			}
			knot_rrset_t *one = zg_arena_alloc(&b->list->pool, sizeof(*one));
			if (one == NULL) {
				return -ENOMEM;
			}
			*one = *op->rr;
			one->rrs.count = 1;
			one->rrs.size = knot_rdata_size(rd->len);
			one->rrs.rdata = rd;
			int ret = put_rr(b, one);
			if (ret != 0) {
				return ret;
			}
			b->cur_used += sz;
			b->cur->last_change = change_idx;
			rd = knot_rdataset_next(rd);
		}
	}
	return 0;
}

/* Ends every packet of the list with an empty OPT record (its space was
 * reserved in new_packet): with EDNS in the UPDATE, Knot can tell why it
 * refuses one (EDE "not ready" while the zone is frozen, see gateway.c). */
static int put_opt(zg_update_list_t *list)
{
	knot_rrset_t *opt = zg_arena_alloc(&list->pool, sizeof(*opt));
	if (opt == NULL) {
		return -ENOMEM;
	}
	int ret = knot_edns_init(opt, KNOT_WIRE_MAX_PKTSIZE, 0, KNOT_EDNS_VERSION,
	                         zg_arena_mm(&list->pool));
	for (size_t i = 0; i < list->count && ret == KNOT_EOK; i++) {
		knot_pkt_t *pkt = list->items[i].pkt;
		ret = knot_pkt_reclaim(pkt, KNOT_EDNS_MIN_SIZE);
		if (ret == KNOT_EOK) {
			ret = knot_pkt_begin(pkt, KNOT_ADDITIONAL);
		}
		if (ret == KNOT_EOK) {
			ret = knot_pkt_put(pkt, KNOT_COMPR_HINT_NONE, opt, 0);
		}
	}
	return ret == KNOT_EOK ? 0 : (ret == -ENOMEM ? ret : ZG_ETOOBIG);
}

int zg_update_build(zg_update_list_t *list, const zg_msg_t *msg,
                    const zg_owner_state_t *states, size_t max_size,
                    size_t tsig_reserve)
{
	if (max_size == 0 || max_size > ZG_UPDATE_MAX_SIZE) {
		max_size = ZG_UPDATE_MAX_SIZE;
	}
	size_t fixed = KNOT_WIRE_HEADER_SIZE + knot_dname_size(msg->zone) + 4 + tsig_reserve +
	               KNOT_EDNS_MIN_SIZE;
	if (fixed + 512 > max_size) {
		return ZG_ETOOBIG;
	}
	list->count = 0;
	list->owners_changed = 0;
	list->ops = 0;
	zg_arena_reset(&list->pool);
	build_t *b = calloc(1, sizeof(*b));
	if (b == NULL) {
		return -ENOMEM;
	}
	b->list = list;
	b->msg = msg;
	b->max_size = max_size;
	b->tsig_reserve = tsig_reserve;
	b->capacity = max_size - fixed;

	int ret = 0;
	for (size_t i = 0; i < msg->change_count && ret == 0; i++) {
		const zg_change_t *ch = &msg->changes[i];
		plan_change(b, ch, states != NULL ? &states[i] : NULL);
		if (b->nops == 0) {
			continue;
		}
		list->owners_changed++;
		size_t total = 0;
		for (size_t k = 0; k < b->nops; k++) {
			total += op_size(&b->ops[k], ch->owner);
		}
		if (b->cur == NULL || (b->cur_used + total > b->capacity && total <= b->capacity)) {
			ret = new_packet(b, i);
			if (ret != 0) {
				break;
			}
		}
		if (b->cur_used + total > b->capacity) {
			ret = put_split(b, ch->owner, i);
			continue;
		}
		for (size_t k = 0; k < b->nops && ret == 0; k++) {
			ret = put_op(b, &b->ops[k], ch->owner);
		}
		b->cur_used += total;
		b->cur->last_change = i;
	}
	free(b);
	if (ret == 0) {
		ret = put_opt(list);
	}
	return ret;
}

int zg_update_plan(const zg_msg_t *msg, const zg_owner_state_t *states,
                   zg_update_op_cb_t cb, void *ctx)
{
	build_t *b = calloc(1, sizeof(*b));
	if (b == NULL) {
		return -ENOMEM;
	}
	b->msg = msg;
	int ret = 0;
	for (size_t i = 0; i < msg->change_count && ret == 0; i++) {
		const zg_change_t *ch = &msg->changes[i];
		plan_change(b, ch, states != NULL ? &states[i] : NULL);
		for (size_t k = 0; k < b->nops && ret == 0; k++) {
			const op_t *op = &b->ops[k];
			zg_update_op_t kind = op->kind == OP_ADD ? ZG_UPDATE_ADD :
			                      op->kind == OP_DEL_RRSET ? ZG_UPDATE_DEL_RRSET :
			                      ZG_UPDATE_DEL_NODE;
			ret = cb(ctx, i, kind, op->kind == OP_DEL_NODE ? 0 : op->type, op->rr);
		}
	}
	free(b);
	return ret;
}

/* ---- Which messages may share a serial ---------------------------------- */

static bool lists_type(const zg_change_t *ch, uint16_t type);

bool zg_update_removes_cut(const zg_change_t *ch, const zg_owner_state_t *st)
{
	return st != NULL && st->at_cut && !ch->apex && !lists_type(ch, KNOT_RRTYPE_NS);
}

/* Does a remove a delegation at or above an owner of b? */
static bool cut_over(const zg_msg_t *a, const zg_owner_state_t *sa, const zg_msg_t *b)
{
	for (size_t i = 0; i < a->change_count; i++) {
		const knot_dname_t *cut = a->changes[i].owner;
		if (!zg_update_removes_cut(&a->changes[i], &sa[i])) {
			continue;
		}
		for (size_t j = 0; j < b->change_count; j++) {
			if (knot_dname_in_bailiwick(b->changes[j].owner, cut) >= 0) {
				return true;
			}
		}
	}
	return false;
}

bool zg_update_cut_conflict(const zg_msg_t *a, const zg_owner_state_t *sa,
                            const zg_msg_t *b, const zg_owner_state_t *sb)
{
	return (sa != NULL && cut_over(a, sa, b)) || (sb != NULL && cut_over(b, sb, a));
}

/* ---- Reading the current state ---------------------------------------- */

/* The RRset array of a state grows in powers of two from 4 (from the pool):
 * most owners hold one to three RRsets. */
static int state_grow(zg_owner_state_t *st, zg_arena_t *pool, uint16_t max)
{
	uint16_t n = st->count;
	if (n >= max) {
		return ZG_EPROTO;
	}
	if (n != 0 && (n < 4 || (n & (n - 1)) != 0)) {
		return 0; /* Room left. */
	}
	size_t cap = n == 0 ? 4 : (size_t)n * 2;
	knot_rrset_t *a = zg_arena_alloc(pool, cap * sizeof(*a));
	if (a == NULL) {
		return -ENOMEM;
	}
	if (n > 0) {
		memcpy(a, st->rrsets, n * sizeof(*a));
	}
	st->rrsets = a;
	return 0;
}

static int state_add(zg_owner_state_t *st, const knot_rrset_t *rr, zg_arena_t *pool,
                     uint16_t max)
{
	for (uint16_t i = 0; i < st->count; i++) {
		if (st->rrsets[i].type == rr->type) {
			knot_rdata_t *rd = rr->rrs.rdata;
			for (uint16_t j = 0; j < rr->rrs.count; j++) {
				int ret = knot_rdataset_add(&st->rrsets[i].rrs, rd, zg_arena_mm(pool));
				if (ret != KNOT_EOK) {
					return -ENOMEM;
				}
				rd = knot_rdataset_next(rd);
			}
			return 0;
		}
	}
	int ret = state_grow(st, pool, max);
	if (ret != 0) {
		return ret;
	}
	knot_rrset_t *n = &st->rrsets[st->count];
	knot_rrset_init(n, rr->owner, rr->type, rr->rclass, rr->ttl);
	if (knot_rdataset_copy(&n->rrs, &rr->rrs, zg_arena_mm(pool)) != KNOT_EOK) {
		return -ENOMEM;
	}
	st->count++;
	return 0;
}

/* Reading an owner takes two phases over one connection.
 *
 * Phase 1 asks every owner for its NSEC records (DO set). The answer tells
 * what the owner is: NXDOMAIN (absent); a referral from the owner itself (a
 * zone cut: the NS set and, DO being set, the DS set or the proof that there
 * is none are in it, everything else at a cut is occluded) or from a cut
 * above (glue); or an authoritative answer that carries the signer's own
 * list of the owner's types: its NSEC record (an NSEC zone answers the NSEC
 * query with it) or the NSEC3 record whose hash is the owner's (an NSEC3
 * zone answers NODATA with it). That type bitmap is the real set of types
 * at the owner, whatever they are (TYPE65280 included), taken per owner and
 * never by a transfer of the zone. A signed answer without a record of the
 * owner's own means the owner holds no data (an empty non-terminal, or a
 * name only a wildcard covers). Knot answers ANY with one RRset (RFC 8482),
 * over TCP and with TSIG too, so ANY cannot list the types.
 *
 * Phase 2 reads each type of the bitmap (DNSSEC types and SOA aside). Below
 * a cut, the listed types and A/AAAA (glue) are read. A zone without DNSSEC
 * has no bitmaps: the types there are unknown and a changed owner is
 * replaced whole (see plan_change()). */
#define STATE_MAX	512

static bool lists_type(const zg_change_t *ch, uint16_t type)
{
	for (uint16_t i = 0; i < ch->rrset_count; i++) {
		if (ch->rrsets[i].type == type) {
			return true;
		}
	}
	return false;
}

/* The k-th type to read in phase 2 at change ch (false when no more). */
static bool nth_type(const zg_change_t *ch, const zg_owner_state_t *st, size_t k,
                     uint16_t *type)
{
	if (st->absent || st->at_cut) {
		return false;
	}
	if (st->complete && !st->types_unknown) {
		if (k >= st->type_count) {
			return false;
		}
		*type = st->types[k];
		return true;
	}
	/* Below a cut, or types unknown: the listed types (then glue). */
	size_t n = 0;
	for (uint16_t i = 0; i < ch->rrset_count; i++) {
		if (n++ == k) {
			*type = ch->rrsets[i].type;
			return true;
		}
	}
	static const uint16_t glue[] = { KNOT_RRTYPE_A, KNOT_RRTYPE_AAAA };
	for (size_t j = 0; j < 2 && !st->complete; j++) {
		if (!lists_type(ch, glue[j]) && n++ == k) {
			*type = glue[j];
			return true;
		}
	}
	return false;
}

/* The types of an NSEC/NSEC3 type bitmap (RFC 4034 4.1.2) worth reading:
 * not SOA, not the signer's DNSSEC types, not NS at the apex (the operator's),
 * into st->types (from pool). */
static int bitmap_types(zg_owner_state_t *st, const uint8_t *bm, size_t len, bool apex,
                        zg_arena_t *pool)
{
	uint16_t n = 0;
	uint16_t buf[STATE_MAX];
	while (len >= 2) {
		uint8_t win = bm[0], blen = bm[1];
		if (blen == 0 || blen > 32 || (size_t)blen + 2 > len) {
			return ZG_EPROTO;
		}
		for (unsigned i = 0; i < blen * 8u; i++) {
			if (!(bm[2 + i / 8] & (0x80 >> (i % 8)))) {
				continue;
			}
			uint16_t type = (uint16_t)(win * 256 + i);
			if (type == KNOT_RRTYPE_SOA || zg_msg_type_is_dnssec(type) ||
			    (apex && type == KNOT_RRTYPE_NS)) {
				continue;
			}
			if (n == STATE_MAX) {
				return ZG_EPROTO;
			}
			buf[n++] = type;
		}
		bm += 2 + blen;
		len -= 2 + (size_t)blen;
	}
	if (len != 0) {
		return ZG_EPROTO;
	}
	st->types = n > 0 ? zg_arena_alloc(pool, n * sizeof(*buf)) : NULL;
	if (n > 0 && st->types == NULL) {
		return -ENOMEM;
	}
	if (n > 0) {
		memcpy(st->types, buf, n * sizeof(*buf));
	}
	st->type_count = n;
	return 0;
}

/* Is rr (an NSEC3) the record of owner? Its hashed owner label against
 * owner hashed with its parameters. */
static bool nsec3_is_of(const knot_rrset_t *rr, const knot_dname_t *owner,
                        zg_crypto_ctx_t *crypto)
{
	const knot_rdata_t *rd = rr->rrs.rdata;
	if (rr->rrs.count == 0 || rd->len < 5 || (size_t)rd->len < 5u + rd->data[4]) {
		return false;
	}
	uint8_t hash[64], label[64];
	int hl = zg_nsec3_hash(crypto, rd->data[0], knot_wire_read_u16(rd->data + 2),
	                       rd->data + 5, rd->data[4], owner, hash);
	int ll = zg_base32hex_decode(rr->owner + 1, rr->owner[0], label, sizeof(label));
	return hl > 0 && ll == hl && memcmp(hash, label, (size_t)hl) == 0;
}

/* The bitmap of an NSEC3 rdata (after hash alg, flags, iterations, salt,
 * next hash), or NULL. */
static const uint8_t *nsec3_bitmap(const knot_rdata_t *rd, size_t *len)
{
	size_t pos = 4;
	if (rd->len < pos + 1) {
		return NULL;
	}
	pos += 1 + rd->data[pos];
	if (rd->len < pos + 1) {
		return NULL;
	}
	pos += 1 + rd->data[pos];
	if (rd->len < pos) {
		return NULL;
	}
	*len = rd->len - pos;
	return rd->data + pos;
}

/* Collects owner's RRset of type from a section. */
static int collect(zg_owner_state_t *st, const knot_pktsection_t *sec,
                   const knot_dname_t *owner, uint16_t type, zg_arena_t *pool,
                   bool *wildcard)
{
	size_t labels = wildcard != NULL ? knot_dname_labels(owner, NULL) : 0;
	for (uint16_t i = 0; i < sec->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(sec, i);
		if ((rr->type != type && rr->type != KNOT_RRTYPE_RRSIG) ||
		    rr->rclass != KNOT_CLASS_IN || !knot_dname_is_equal(rr->owner, owner)) {
			continue;
		}
		if (rr->type == KNOT_RRTYPE_RRSIG) {
			if (wildcard != NULL && rr->rrs.count > 0 && !knot_dname_is_wildcard(owner) &&
			    knot_rrsig_labels(rr->rrs.rdata) < labels) {
				*wildcard = true;
			}
			continue;
		}
		int ret = state_add(st, rr, pool, STATE_MAX);
		if (ret != 0) {
			return ret;
		}
	}
	return 0;
}

/* Phase 1, an authoritative answer to (owner, NSEC): the owner's types
 * from its NSEC or NSEC3 record (see above). */
static int parse_types(const knot_pkt_t *ans, const knot_dname_t *owner, bool apex,
                       zg_owner_state_t *st, zg_arena_t *pool, zg_crypto_ctx_t *crypto)
{
	size_t labels = knot_dname_labels(owner, NULL);
	bool signed_zone = false, wildcard = false;
	const uint8_t *bitmap = NULL;
	size_t bitmap_len = 0;
	const knot_pktsection_t *an = knot_pkt_section(ans, KNOT_ANSWER);
	for (uint16_t i = 0; i < an->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(an, i);
		if (rr->rclass != KNOT_CLASS_IN || !knot_dname_is_equal(rr->owner, owner)) {
			continue;
		}
		if (rr->type == KNOT_RRTYPE_RRSIG) {
			signed_zone = true;
			wildcard = wildcard || (rr->rrs.count > 0 && !knot_dname_is_wildcard(owner) &&
			                        knot_rrsig_labels(rr->rrs.rdata) < labels);
		} else if (rr->type == KNOT_RRTYPE_NSEC && rr->rrs.count > 0) {
			/* Next owner name, then the bitmap. */
			const knot_rdata_t *rd = rr->rrs.rdata;
			int nlen = knot_dname_size(rd->data);
			signed_zone = true;
			if (nlen > 0 && nlen <= rd->len) {
				bitmap = rd->data + nlen;
				bitmap_len = rd->len - (size_t)nlen;
			}
		} else if (!zg_msg_type_is_dnssec(rr->type)) {
			/* A CNAME followed by the server: the owner holds only it. */
			int ret = state_add(st, rr, pool, STATE_MAX);
			if (ret != 0) {
				return ret;
			}
		}
	}
	if (wildcard) {
		/* Synthesised from a wildcard: nothing of it is at the owner. */
		st->count = 0;
		bitmap = NULL;
	}
	const knot_pktsection_t *au = knot_pkt_section(ans, KNOT_AUTHORITY);
	for (uint16_t i = 0; i < au->count && bitmap == NULL && st->count == 0; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(au, i);
		if (rr->type == KNOT_RRTYPE_NSEC || rr->type == KNOT_RRTYPE_RRSIG) {
			signed_zone = true;
		} else if (rr->type == KNOT_RRTYPE_NSEC3) {
			signed_zone = true;
			if (crypto != NULL && nsec3_is_of(rr, owner, crypto)) {
				bitmap = nsec3_bitmap(rr->rrs.rdata, &bitmap_len);
			}
		}
	}
	if (st->count > 0) {
		return 0; /* A CNAME owner: nothing else can be there. */
	}
	if (bitmap != NULL) {
		return bitmap_types(st, bitmap, bitmap_len, apex, pool);
	}
	/* Signed, but no record of the owner's own: it holds no data. Unsigned:
	 * no type list to be had. */
	st->types_unknown = !signed_zone;
	return 0;
}

/* Adds what an answer to (owner, type) says to the owner's state. */
static int parse_state(const knot_pkt_t *ans, const knot_dname_t *owner, uint16_t type,
                       bool apex, zg_owner_state_t *st, zg_arena_t *pool,
                       zg_crypto_ctx_t *crypto)
{
	uint8_t rcode = knot_wire_get_rcode(ans->wire);
	if (rcode == KNOT_RCODE_NXDOMAIN) {
		st->absent = true;
		return 0;
	}
	if (rcode != KNOT_RCODE_NOERROR) {
		return ZG_EREFUSED;
	}
	if (knot_wire_get_aa(ans->wire)) {
		if (type == KNOT_RRTYPE_NSEC) {
			return parse_types(ans, owner, apex, st, pool, crypto);
		}
		bool wildcard = false;
		uint16_t before = st->count;
		int ret = collect(st, knot_pkt_section(ans, KNOT_ANSWER), owner, type, pool, &wildcard);
		if (ret == 0 && wildcard) {
			st->count = before; /* Synthesised from a wildcard: not at the owner. */
		}
		return ret;
	}
	/* A referral. At the cut, NS is in the authority section, and so is DS
	 * (DO is set; a DS query would be answered with AA), other types are
	 * occluded. Below it only glue named by the cut's NS is visible, in the
	 * additional section. */
	const knot_pktsection_t *auth = knot_pkt_section(ans, KNOT_AUTHORITY);
	bool at_cut = false;
	for (uint16_t i = 0; i < auth->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(auth, i);
		if (rr->type == KNOT_RRTYPE_NS && knot_dname_is_equal(rr->owner, owner)) {
			at_cut = true;
		}
	}
	if (at_cut) {
		if (st->at_cut) {
			return 0;
		}
		st->at_cut = true;
		int ret = collect(st, auth, owner, KNOT_RRTYPE_NS, pool, NULL);
		if (ret == 0) {
			ret = collect(st, auth, owner, KNOT_RRTYPE_DS, pool, NULL);
		}
		return ret;
	}
	st->complete = false;
	return collect(st, knot_pkt_section(ans, KNOT_ADDITIONAL), owner, type, pool, NULL);
}

/* The DNAME above owner that an authoritative answer carries, or NULL.
 * Data below a DNAME is occluded (RFC 6672): Knot 3.2 fails the whole DDNS
 * batch over it, 3.4 and later silently ignore the addition, so a message
 * for such an owner is refused before anything is sent. */
static const knot_dname_t *dname_above(const knot_pkt_t *ans, const knot_dname_t *owner)
{
	if (knot_wire_get_rcode(ans->wire) != KNOT_RCODE_NOERROR || !knot_wire_get_aa(ans->wire)) {
		return NULL;
	}
	const knot_pktsection_t *sec = knot_pkt_section(ans, KNOT_ANSWER);
	for (uint16_t i = 0; i < sec->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(sec, i);
		if (rr->type == KNOT_RRTYPE_DNAME && knot_dname_in_bailiwick(owner, rr->owner) > 0) {
			return rr->owner;
		}
	}
	return NULL;
}

#define READ_WINDOW	128	/* Queries in flight on one connection. */
#define READ_REFILL	(READ_WINDOW / 2)	/* Send more when this few are left. */
/* One query: header, question, OPT without options (framed: 2 more). */
#define QUERY_MAX	(KNOT_WIRE_HEADER_SIZE + KNOT_DNAME_MAXLEN + 4 + KNOT_EDNS_MIN_SIZE)

int zg_update_read_state(zg_dnsconn_t *conn, const zg_msg_t *msg,
                         zg_owner_state_t *states, zg_arena_t *pool,
                         char *reason, size_t reason_len)
{
	typedef struct {
		size_t owner;
		uint16_t type;
	} inflight_t;
	inflight_t ring[READ_WINDOW];
	const size_t qcap = READ_WINDOW * (2 + QUERY_MAX);
	const zg_dns_edns_t edns = { .payload = KNOT_WIRE_MAX_PKTSIZE, .dnssec_ok = true };
	uint8_t *qbuf = malloc(qcap);
	knot_pkt_t *qp = knot_pkt_new(NULL, QUERY_MAX, NULL);
	knot_pkt_t *a = knot_pkt_new(NULL, KNOT_WIRE_MAX_PKTSIZE, NULL);
	zg_crypto_ctx_t *crypto = NULL;
	int ret = 0, refused = 0;
	if (qbuf == NULL || qp == NULL || a == NULL || zg_crypto_ctx_new(&crypto) != 0) {
		ret = -ENOMEM;
		goto done;
	}
	size_t n = msg->change_count;
	for (size_t i = 0; i < n; i++) {
		memset(&states[i], 0, sizeof(states[i]));
		states[i].complete = true;
	}
	/* Queries (owner, type) in order, pipelined; answers come back in order. */
	uint16_t base = dnssec_random_uint16_t();
	size_t sent = 0, received = 0;
	for (int phase = 1; phase <= 2 && ret == 0; phase++) {
		size_t s_owner = 0, s_k = 0;
		for (;;) {
			/* Refill the window in one write. */
			if (s_owner < n && sent - received <= READ_REFILL) {
				size_t qlen = 0;
				while (s_owner < n && sent - received < READ_WINDOW) {
					uint16_t stype = KNOT_RRTYPE_NSEC;
					if (phase == 1 ? s_k > 0 :
					    !nth_type(&msg->changes[s_owner], &states[s_owner], s_k,
					              &stype)) {
						s_owner++;
						s_k = 0;
						continue;
					}
					ring[sent % READ_WINDOW] = (inflight_t){ s_owner, stype };
					size_t flen = 0;
					if (zg_dns_query_make(qp, (uint16_t)(base + sent),
					                      msg->changes[s_owner].owner, stype,
					                      &edns) == KNOT_EOK) {
						flen = zg_dns_frame(qbuf + qlen, qcap - qlen, qp);
					}
					if (flen == 0) {
						ret = -ENOMEM; /* Cannot be: QUERY_MAX holds any. */
						break;
					}
					qlen += flen;
					sent++;
					s_k++;
				}
				if (qlen > 0 && ret == 0) {
					ret = zg_dnsconn_write(conn, qbuf, qlen);
				}
				if (ret != 0) {
					snprintf(reason, reason_len, "cannot send queries (%s)",
					         zg_strerror(ret));
					goto done;
				}
			}
			if (received == sent) {
				break; /* Phase done. */
			}
			knot_pkt_clear(a);
			size_t len = 0;
			ret = zg_dnsconn_recv(conn, a->wire, a->max_size, &len);
			if (ret != 0) {
				snprintf(reason, reason_len, "no answer to a query (%s)", zg_strerror(ret));
				goto done;
			}
			a->size = len;
			if (knot_wire_get_id(a->wire) != (uint16_t)(base + received) ||
			    knot_pkt_parse(a, 0) != KNOT_EOK) {
				ret = ZG_EPROTO;
				snprintf(reason, reason_len, "malformed or out-of-order answer to a query");
				goto done;
			}
			const inflight_t *q = &ring[received % READ_WINDOW];
			const knot_dname_t *owner = msg->changes[q->owner].owner;
			const knot_dname_t *dname = dname_above(a, owner);
			if (dname != NULL) {
				/* The verdict; the answers in flight are still read. */
				if (refused == 0) {
					char otxt[KNOT_DNAME_TXT_MAXLEN + 1], dtxt[KNOT_DNAME_TXT_MAXLEN + 1];
					knot_dname_to_str(otxt, owner, sizeof(otxt));
					knot_dname_to_str(dtxt, dname, sizeof(dtxt));
					snprintf(reason, reason_len, "owner %s is below the DNAME at %s "
					         "(data there is occluded)", otxt, dtxt);
					refused = ZG_EINPUT;
				}
				received++;
				continue;
			}
			ret = parse_state(a, owner, q->type, msg->changes[q->owner].apex,
			                  &states[q->owner], pool, crypto);
			if (ret != 0) {
				char otxt[KNOT_DNAME_TXT_MAXLEN + 1], ttxt[32];
				knot_dname_to_str(otxt, owner, sizeof(otxt));
				knot_rrtype_to_string(q->type, ttxt, sizeof(ttxt));
				const knot_lookup_t *l = knot_lookup_by_id(knot_rcode_names,
				                                           knot_wire_get_rcode(a->wire));
				snprintf(reason, reason_len, "query %s %s answered %s", otxt, ttxt,
				         l ? l->name : "?");
				goto done;
			}
			received++;
		}
	}
done:
	free(qbuf);
	knot_pkt_free(qp);
	knot_pkt_free(a);
	zg_crypto_ctx_free(crypto);
	return ret != 0 ? ret : refused;
}
