/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <libdnssec/binary.h>
#include <libdnssec/error.h>
#include <libdnssec/nsec.h>
#include <libknot/consts.h>
#include <libknot/descriptor.h>
#include <libknot/dname.h>
#include <libknot/errcode.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/error.h"
#include "validate/incr.h"

/* Touched owner entry in incr->touched: u8 flags, u8 name length, name. */
#define T_BELOW 0x01   /* NS or DNAME changed: names below change status. */
#define T_NAME  0x02   /* A record of the name tree changed. */
#define T_N3    0x04   /* An NSEC3 (or its RRSIG) changed: NSEC3 tree. */

/*! Incremental runs with at least this many nodes use opts.threads threads. */
#define PAR_MIN_NODES	256
/*! Nodes per job of a threaded incremental run: one signature batch each,
 *  large enough for the P-256 verifier's affine path (96+ signatures). */
#define PAR_CHUNK	256
/*! Nodes whose signatures are verified in one batch (zg_verify_prefetch()). */
#define BATCH_NODES	256

/* A node to verify; changed: its RRsets changed (verify signatures), else it
 * is only a neighbour of a change (structure only, see zg_verify_node_unchanged()). */
typedef struct {
	zg_node_t *node;
	bool changed;
} vnode_t;

typedef struct {
	uint32_t exp;      /* RRSIG expiration (unix, 32-bit). */
	uint32_t count;    /* Signatures with that expiration. */
} exp_slot_t;

struct zg_incr {
	zg_zone_t *zone;
	uint8_t apex[ZG_DNAME_MAXLEN];
	bool full;               /* Next verify checks the whole zone. */
	zg_buf_t touched;        /* Touched owners since the last verify. */
	size_t last_len;         /* Offset of the last touched entry (dedup of runs). */
	exp_slot_t *exps;        /* Sorted by exp; slots with count 0 removed. */
	size_t nexp, capexp;
	vnode_t *nodes;          /* Scratch: nodes to verify. */
	size_t nnodes, capnodes;
	size_t last_checked;
	zg_digest_ctx_t *dctx;   /* Content digest kept up to date (NULL: not kept). */
	zg_digest_t digest;
};

/* ---- expiry structure ---- */

static size_t exp_find(const zg_incr_t *in, uint32_t exp)
{
	size_t lo = 0, hi = in->nexp;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (in->exps[mid].exp < exp) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return lo;
}

static int exp_add(zg_incr_t *in, uint32_t exp)
{
	size_t i = exp_find(in, exp);
	if (i < in->nexp && in->exps[i].exp == exp) {
		in->exps[i].count++;
		return 0;
	}
	if (in->nexp == in->capexp) {
		size_t cap = in->capexp ? in->capexp * 2 : 16;
		exp_slot_t *n = realloc(in->exps, cap * sizeof(*n));
		if (n == NULL) {
			return -ENOMEM;
		}
		in->exps = n;
		in->capexp = cap;
	}
	memmove(&in->exps[i + 1], &in->exps[i], (in->nexp - i) * sizeof(*in->exps));
	in->exps[i] = (exp_slot_t){ .exp = exp, .count = 1 };
	in->nexp++;
	return 0;
}

static void exp_del(zg_incr_t *in, uint32_t exp)
{
	size_t i = exp_find(in, exp);
	if (i < in->nexp && in->exps[i].exp == exp && --in->exps[i].count == 0) {
		memmove(&in->exps[i], &in->exps[i + 1], (in->nexp - i - 1) * sizeof(*in->exps));
		in->nexp--;
	}
}

static uint32_t rrsig_exp(const uint8_t *rd, uint16_t len)
{
	if (len < 12) {
		return 0;
	}
	return (uint32_t)rd[8] << 24 | (uint32_t)rd[9] << 16 | (uint32_t)rd[10] << 8 | rd[11];
}

static int exp_scan_tree(zg_incr_t *in, zg_node_t *n)
{
	for (; n != NULL; n = zg_node_next(n)) {
		unsigned cnt = zg_node_rrset_count(n);
		for (unsigned i = 0; i < cnt; i++) {
			const zg_rrset_t *set = zg_node_rrset_at(n, i);
			if (set->type != KNOT_RRTYPE_RRSIG) {
				continue;
			}
			const uint8_t *rd;
			uint16_t len;
			size_t pos = 0;
			while (zg_rrset_next(set, &pos, &rd, &len)) {
				if (exp_add(in, rrsig_exp(rd, len)) != 0) {
					return -ENOMEM;
				}
			}
		}
	}
	return 0;
}

int64_t zg_incr_earliest_expiry(const zg_incr_t *incr)
{
	return (incr == NULL || incr->nexp == 0) ? INT64_MAX : (int64_t)incr->exps[0].exp;
}

size_t zg_incr_last_checked(const zg_incr_t *incr)
{
	return incr != NULL ? incr->last_checked : 0;
}

/* ---- life cycle ---- */

int zg_incr_new(zg_incr_t **out, zg_zone_t *zone)
{
	if (out == NULL || zone == NULL) {
		zg_zone_free(zone);
		return KNOT_EINVAL;
	}
	zg_incr_t *in = calloc(1, sizeof(*in));
	if (in == NULL) {
		zg_zone_free(zone);
		return -ENOMEM;
	}
	in->zone = zone;
	in->full = true;
	zg_buf_init(&in->touched);
	memcpy(in->apex, zg_zone_origin(zone), knot_dname_size(zg_zone_origin(zone)));
	if (exp_scan_tree(in, zg_zone_first(zone)) != 0 ||
	    exp_scan_tree(in, zg_zone_nsec3_first(zone)) != 0) {
		zg_incr_free(in);
		return -ENOMEM;
	}
	*out = in;
	return 0;
}

void zg_incr_free(zg_incr_t *incr)
{
	if (incr == NULL) {
		return;
	}
	zg_zone_free(incr->zone);
	zg_buf_deinit(&incr->touched);
	free(incr->exps);
	free(incr->nodes);
	free(incr);
}

const zg_zone_t *zg_incr_zone(const zg_incr_t *incr)
{
	return incr != NULL ? incr->zone : NULL;
}

int zg_incr_digest_start(zg_incr_t *incr, zg_digest_ctx_t *ctx)
{
	if (incr == NULL || ctx == NULL) {
		return KNOT_EINVAL;
	}
	int ret = zg_digest_zone(ctx, incr->zone, &incr->digest);
	incr->dctx = ret == 0 ? ctx : NULL;
	return ret;
}

bool zg_incr_digest(const zg_incr_t *incr, zg_digest_t *out)
{
	if (incr == NULL || incr->dctx == NULL) {
		return false;
	}
	*out = incr->digest;
	return true;
}

/* ---- changes ---- */

/* Node of an owner in either tree (NSEC3 owners: hash label right below the apex). */
static zg_node_t *find_any(const zg_incr_t *in, const uint8_t *owner, bool leq)
{
	zg_node_t *n = zg_zone_find(in->zone, owner);
	if (n != NULL) {
		return n;
	}
	if (zg_dname_labels(owner) == zg_dname_labels(in->apex) + 1 && owner[0] > 0) {
		uint8_t hash[64];
		int hl = zg_base32hex_decode(owner + 1, owner[0], hash, sizeof(hash));
		if (hl > 0) {
			n = zg_zone_find_nsec3(in->zone, hash, (size_t)hl);
			if (n == NULL && leq && zg_zone_nsec3_first(in->zone) != NULL) {
				n = zg_zone_find_nsec3_leq(in->zone, hash, (size_t)hl);
				if (n == NULL) {
					n = zg_zone_nsec3_last(in->zone);
				}
			}
			if (n != NULL) {
				return n;
			}
		}
	}
	return leq ? zg_zone_find_leq(in->zone, owner) : NULL;
}

/* Node of an NSEC3 owner in the NSEC3 tree only. */
static zg_node_t *find_nsec3_owner(const zg_incr_t *in, const uint8_t *owner)
{
	if (zg_dname_labels(owner) != zg_dname_labels(in->apex) + 1 || owner[0] == 0) {
		return NULL;
	}
	uint8_t hash[64];
	int hl = zg_base32hex_decode(owner + 1, owner[0], hash, sizeof(hash));
	return hl > 0 ? zg_zone_find_nsec3(in->zone, hash, (size_t)hl) : NULL;
}

/* Whether an RRSIG with this rdata is at the owner (canonical comparison),
 * looked up in the tree the RRSIG belongs to. */
static bool rrsig_present(const zg_incr_t *in, const uint8_t *owner, const uint8_t *rdata,
                          uint16_t rdlen)
{
	if (rdlen < 2) {
		return false;
	}
	zg_node_t *n = (rdata[0] << 8 | rdata[1]) == KNOT_RRTYPE_NSEC3 ?
	               find_nsec3_owner(in, owner) : zg_zone_find(in->zone, owner);
	if (n == NULL) {
		return false;
	}
	const zg_rrset_t *set = zg_node_rrsig(n, (uint16_t)(rdata[0] << 8 | rdata[1]));
	if (set == NULL) {
		return false;
	}
	uint8_t canon[65535];
	memcpy(canon, rdata, rdlen);
	if (zg_rdata_to_canonical(KNOT_RRTYPE_RRSIG, canon, rdlen) != 0) {
		return false;
	}
	const uint8_t *rd;
	uint16_t len;
	size_t pos = 0;
	while (zg_rrset_next(set, &pos, &rd, &len)) {
		if (len == rdlen && memcmp(rd, canon, len) == 0) {
			return true;
		}
	}
	return false;
}

/* Adds (or subtracts) the RRset an RR change concerns to the digest: the
 * records of that type (or the RRSIGs covering that type) at the owner. */
static int digest_set(zg_incr_t *in, bool add, const uint8_t *owner, uint16_t type,
                      const uint8_t *rdata, uint16_t rdlen)
{
	if (in->dctx == NULL) {
		return 0;
	}
	uint16_t covered = 0;
	if (type == KNOT_RRTYPE_RRSIG) {
		if (rdlen < 2) {
			return 0;  /* Malformed: the zone refuses it. */
		}
		covered = (uint16_t)(rdata[0] << 8 | rdata[1]);
	}
	zg_node_t *n = (type == KNOT_RRTYPE_NSEC3 || covered == KNOT_RRTYPE_NSEC3) ?
	               find_nsec3_owner(in, owner) : zg_zone_find(in->zone, owner);
	if (n == NULL) {
		return 0;
	}
	const zg_rrset_t *set = type == KNOT_RRTYPE_RRSIG ? zg_node_rrsig(n, covered)
	                                                  : zg_node_rrset(n, type);
	return set != NULL ? zg_digest_rrset(in->dctx, &in->digest, add, owner, set) : 0;
}

static int touch(zg_incr_t *in, const uint8_t *owner, uint8_t flags)
{
	size_t olen = knot_dname_size(owner);
	if (in->touched.len > 0) {
		uint8_t *last = in->touched.data + in->last_len;
		if (last[1] == olen && memcmp(last + 2, owner, olen) == 0) {
			last[0] |= flags;
			return 0;
		}
	}
	if (zg_buf_reserve(&in->touched, 2 + olen) != 0) {
		return -ENOMEM;
	}
	in->last_len = in->touched.len;
	uint8_t *p = in->touched.data + in->touched.len;
	p[0] = flags;
	p[1] = (uint8_t)olen;
	memcpy(p + 2, owner, olen);
	in->touched.len += 2 + olen;
	return 0;
}

int zg_incr_apply(zg_incr_t *incr, bool add, const uint8_t *owner, uint16_t type,
                  uint32_t ttl, const uint8_t *rdata, uint16_t rdlen)
{
	if (incr == NULL || owner == NULL || (rdata == NULL && rdlen > 0)) {
		return KNOT_EINVAL;
	}
	uint8_t lower[ZG_DNAME_MAXLEN];
	size_t olen = zg_dname_len(owner, ZG_DNAME_MAXLEN);
	if (olen == 0) {
		return KNOT_EMALF;
	}
	memcpy(lower, owner, olen);
	zg_dname_lower(lower);

	bool sig = type == KNOT_RRTYPE_RRSIG;
	bool sig_known = sig && rrsig_present(incr, lower, rdata, rdlen);
	/* The digest: the changed RRset counts again (its TTL may change too). */
	int ret = digest_set(incr, false, lower, type, rdata, rdlen);
	if (ret != 0) {
		return ret;
	}
	ret = add ? zg_zone_add(incr->zone, lower, type, ttl, rdata, rdlen)
	          : zg_zone_remove(incr->zone, lower, type, rdata, rdlen);
	int dret = digest_set(incr, true, lower, type, rdata, rdlen);
	if (ret != 0) {
		return ret;
	}
	if (dret != 0) {
		return dret;
	}
	if (sig && add && !sig_known) {
		ret = exp_add(incr, rrsig_exp(rdata, rdlen));
	} else if (sig && !add && sig_known) {
		exp_del(incr, rrsig_exp(rdata, rdlen));
	}
	if (ret != 0) {
		return ret;
	}

	uint16_t t = sig && rdlen >= 2 ? (uint16_t)(rdata[0] << 8 | rdata[1]) : type;
	if (knot_dname_is_equal(lower, incr->apex) &&
	    (t == KNOT_RRTYPE_DNSKEY || t == KNOT_RRTYPE_NSEC3PARAM)) {
		incr->full = true;
	}
	/* Apex NS is not a cut: the status of names below changes only at other owners. */
	uint8_t flags = (t == KNOT_RRTYPE_DNAME || (t == KNOT_RRTYPE_NS &&
	                 !knot_dname_is_equal(lower, incr->apex))) ? T_BELOW : 0;
	flags |= t == KNOT_RRTYPE_NSEC3 ? T_N3 : T_NAME;
	return touch(incr, lower, flags);
}

int zg_incr_apply_diff(zg_incr_t *incr, const zg_diff_t *diff)
{
	if (incr == NULL || diff == NULL) {
		return KNOT_EINVAL;
	}
	size_t pos = 0;
	zg_diff_change_t ch;
	while (zg_diff_next(diff, &pos, &ch)) {
		int ret = zg_incr_apply(incr, ch.add, ch.owner, ch.type, ch.ttl, ch.rdata, ch.rdlen);
		if (ret != 0) {
			return ret;
		}
	}
	return 0;
}

/* ---- validation ---- */

static int node_push(zg_incr_t *in, zg_node_t *n, bool changed)
{
	if (n == NULL) {
		return 0;
	}
	if (in->nnodes == in->capnodes) {
		size_t cap = in->capnodes ? in->capnodes * 2 : 64;
		vnode_t *p = realloc(in->nodes, cap * sizeof(*p));
		if (p == NULL) {
			return -ENOMEM;
		}
		in->nodes = p;
		in->capnodes = cap;
	}
	in->nodes[in->nnodes++] = (vnode_t){ .node = n, .changed = changed };
	return 0;
}

static int vnode_cmp(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)((const vnode_t *)a)->node;
	uintptr_t y = (uintptr_t)((const vnode_t *)b)->node;
	return x < y ? -1 : x > y;
}

/*
 * An empty non-terminal is checked (NSEC3) at the first node of its subtree,
 * and whether it may lack its NSEC3 under opt-out depends on every name below
 * it (RFC 5155 7.1): a change anywhere below can change its verdict. Pushes,
 * for each ancestor of \a owner that is an empty non-terminal, the first
 * node of its subtree (NSEC3 zones only).
 */
static int collect_ent_ancestors(zg_incr_t *in, const uint8_t *owner)
{
	if (zg_zone_nsec3_first(in->zone) == NULL) {
		return 0;
	}
	uint8_t key[ZG_KEY_MAXLEN], akey[ZG_KEY_MAXLEN];
	size_t klen = zg_dname_key(owner, key);
	size_t alen = zg_dname_key(in->apex, akey);
	int ret = 0;
	for (size_t l = alen; ret == 0 && l + 1 < klen; l++) {
		if (key[l] != 0) {
			continue;
		}
		uint8_t name[ZG_DNAME_MAXLEN];
		zg_key_to_dname(key, l + 1, name);
		if (zg_zone_find(in->zone, name) != NULL) {
			continue;  /* not empty: its own checks are its node's */
		}
		zg_node_t *leq = zg_zone_find_leq(in->zone, name);
		zg_node_t *first = leq != NULL ? zg_node_next(leq) : zg_zone_first(in->zone);
		size_t flen;
		const uint8_t *fkey = first != NULL ? zg_node_key(first, &flen) : NULL;
		if (fkey != NULL && zg_key_is_ancestor(key, l + 1, fkey, flen)) {
			ret = node_push(in, first, false);
		}
	}
	return ret;
}

/* Collects the nodes a touched owner can affect. */
static int collect(zg_incr_t *in, const uint8_t *owner, uint8_t flags)
{
	/* Only NSEC3 records changed there: the NSEC3 tree (a removed one: below). */
	zg_node_t *n = (flags & (T_N3 | T_NAME)) == T_N3 ? find_nsec3_owner(in, owner) : NULL;
	if (n == NULL) {
		n = find_any(in, owner, false);
	}
	int ret = 0;
	if (n != NULL) {
		bool nsec3 = zg_node_flags(n) & ZG_NODE_NSEC3;
		zg_node_t *prev = zg_node_prev(n);
		if (prev == NULL && nsec3) {
			prev = zg_zone_nsec3_last(in->zone);
		}
		ret = node_push(in, n, true);
		if (ret == 0) {
			ret = node_push(in, prev, false);
		}
		if (ret == 0 && !nsec3) {
			ret = node_push(in, zg_node_next(n), false);
		}
	} else {
		/* Removed owner: its neighbours in both trees. */
		zg_node_t *leq = find_any(in, owner, true);
		ret = node_push(in, leq, false);
		if (ret == 0 && leq != NULL && !(zg_node_flags(leq) & ZG_NODE_NSEC3)) {
			ret = node_push(in, zg_node_next(leq), false);
		}
		zg_node_t *nleq = zg_zone_find_leq(in->zone, owner);
		if (ret == 0 && nleq != leq) {
			ret = node_push(in, nleq, false);
			if (ret == 0 && nleq != NULL) {
				ret = node_push(in, zg_node_next(nleq), false);
			}
		}
		n = nleq;
	}
	if (ret == 0 && (flags & T_BELOW)) {
		uint8_t key[ZG_KEY_MAXLEN];
		size_t klen = zg_dname_key(owner, key);
		zg_node_t *d = n != NULL ? zg_node_next(n) : zg_zone_first(in->zone);
		for (; d != NULL && ret == 0; d = zg_node_next(d)) {
			size_t dlen;
			const uint8_t *dkey = zg_node_key(d, &dlen);
			if (!zg_key_is_ancestor(key, klen, dkey, dlen)) {
				break;
			}
			/* Their status changed: check them in full. */
			ret = node_push(in, d, true);
		}
	}
	if (ret == 0 && (flags & T_NAME)) {
		ret = collect_ent_ancestors(in, owner);
	}
	return ret;
}

/* Reports the NSEC3 of \a owner, if there is one, as an orphan. */
static int orphan_report(zg_incr_t *in, const dnssec_nsec3_params_t *params, const uint8_t *owner,
                         const char *why, zg_report_t *report)
{
	dnssec_binary_t name = { .data = (uint8_t *)owner, .size = knot_dname_size(owner) };
	dnssec_binary_t hash = { 0 };
	if (dnssec_nsec3_hash(&name, params, &hash) != DNSSEC_EOK) {
		return 0;
	}
	zg_node_t *n3 = zg_zone_find_nsec3(in->zone, hash.data, hash.size);
	dnssec_binary_free(&hash);
	if (n3 == NULL) {
		return 0;
	}
	uint8_t n3owner[ZG_DNAME_MAXLEN];
	zg_node_owner(n3, n3owner);
	char nm[1024];
	zg_dname_str(owner, nm, sizeof(nm));
	return zg_report_add(report, ZG_SEV_ERROR, n3owner, KNOT_RRTYPE_NSEC3,
	                     "orphan NSEC3, no name hashes to it (%s %s)", nm, why);
}

/* Names below a cut (delegation or DNAME) that a change made: their NSEC3
 * records, and those of the empty non-terminals between, are orphans now
 * (the whole-zone run finds them unmarked). */
static int orphans_below(zg_incr_t *in, const dnssec_nsec3_params_t *params, const uint8_t *owner,
                         zg_report_t *report)
{
	zg_node_t *cut = zg_zone_find(in->zone, owner);
	if (cut == NULL || (zg_node_flags(cut) & ZG_NODE_NONAUTH)) {
		return 0;
	}
	uint8_t key[ZG_KEY_MAXLEN];
	size_t klen = zg_dname_key(owner, key), plen = klen;
	const uint8_t *pkey = key;
	int ret = 0;
	for (zg_node_t *d = zg_node_next(cut); ret == 0 && d != NULL; d = zg_node_next(d)) {
		size_t dlen;
		const uint8_t *dkey = zg_node_key(d, &dlen);
		if (!zg_key_is_ancestor(key, klen, dkey, dlen)) {
			break;
		}
		if (!(zg_node_flags(d) & ZG_NODE_NONAUTH)) {
			continue;
		}
		/* d and the names between the previous one and d (each once). */
		size_t cp = 0;
		while (cp < plen && cp < dlen && pkey[cp] == dkey[cp]) {
			cp++;
		}
		size_t from = klen;
		for (size_t i = klen; i < cp; i++) {
			if (dkey[i] == 0) {
				from = i + 1;
			}
		}
		for (size_t l = from; ret == 0 && l < dlen; l++) {
			if (dkey[l] == 0) {
				uint8_t name[ZG_DNAME_MAXLEN];
				zg_key_to_dname(dkey, l + 1, name);
				ret = orphan_report(in, params, name, "below a cut", report);
			}
		}
		pkey = dkey;
		plen = dlen;
	}
	return ret;
}

/* A removed owner whose NSEC3 is still there (and that is not an empty
 * non-terminal now): that NSEC3 is an orphan. */
static int orphan_check(zg_incr_t *in, const dnssec_nsec3_params_t *params, const uint8_t *owner,
                        zg_report_t *report)
{
	if (zg_zone_find(in->zone, owner) != NULL) {
		return 0;
	}
	zg_node_t *leq = zg_zone_find_leq(in->zone, owner);
	zg_node_t *next = leq != NULL ? zg_node_next(leq) : zg_zone_first(in->zone);
	if (next != NULL) {
		uint8_t key[ZG_KEY_MAXLEN];
		size_t klen = zg_dname_key(owner, key);
		size_t nlen;
		const uint8_t *nkey = zg_node_key(next, &nlen);
		if (zg_key_is_ancestor(key, klen, nkey, nlen)) {
			return 0;  /* now an empty non-terminal */
		}
	}
	return orphan_report(in, params, owner, "removed", report);
}

/* Orphan NSEC3 records a change left: of removed names, and of names a new
 * cut (delegation, DNAME) made non-authoritative; for every chain checked. */
static int orphans(zg_incr_t *in, const zg_verifier_t *v, zg_report_t *report)
{
	int ret = 0;
	uint8_t alg;
	uint16_t iter;
	const uint8_t *salt;
	size_t salt_len;
	for (unsigned c = 0; ret == 0 && zg_verifier_nsec3_chain(v, c, &alg, &iter, &salt, &salt_len);
	     c++) {
		dnssec_nsec3_params_t params = {
			.algorithm = alg, .iterations = iter,
			.salt = { .data = (uint8_t *)salt, .size = salt_len },
		};
		for (size_t p = 0; ret == 0 && p < in->touched.len;) {
			const uint8_t *e = in->touched.data + p;
			if (e[0] & T_NAME) {  /* NSEC3 owners are not hashed names */
				ret = orphan_check(in, &params, e + 2, report);
			}
			if (ret == 0 && (e[0] & T_BELOW)) {
				ret = orphans_below(in, &params, e + 2, report);
			}
			p += 2 + e[1];
		}
	}
	return ret;
}

typedef struct {
	zg_verifier_t *v;
	const vnode_t *nodes;
	size_t nnodes;
	zg_report_t *reps;     /* One per chunk of PAR_CHUNK nodes. */
	size_t next;           /* Next chunk to take (atomic). */
	int err;               /* First error (atomic). */
} par_run_t;

static int verify_range(zg_verifier_t *v, zg_verify_worker_t *w, const vnode_t *nodes,
                        size_t count, zg_report_t *report)
{
	int ret = 0;
	for (size_t i = 0; ret == 0 && i < count; i++) {
		/* Batch the signature checks of the next changed nodes. */
		for (size_t k = i; ret == 0 && i % BATCH_NODES == 0 && k < count &&
		     k < i + BATCH_NODES; k++) {
			if (nodes[k].changed) {
				ret = zg_verify_prefetch(v, w, nodes[k].node);
			}
		}
		if (ret == 0) {
			ret = nodes[i].changed ? zg_verify_node(v, w, nodes[i].node, report)
			                       : zg_verify_node_unchanged(v, w, nodes[i].node, report);
		}
	}
	return ret;
}

static void *par_worker(void *arg)
{
	par_run_t *run = arg;
	zg_verify_worker_t *w = NULL;
	int ret = zg_verify_worker_new(&w);
	size_t nchunks = (run->nnodes + PAR_CHUNK - 1) / PAR_CHUNK;
	while (ret == 0 && __atomic_load_n(&run->err, __ATOMIC_RELAXED) == 0) {
		size_t c = __atomic_fetch_add(&run->next, 1, __ATOMIC_RELAXED);
		if (c >= nchunks) {
			break;
		}
		size_t start = c * PAR_CHUNK;
		size_t count = run->nnodes - start < PAR_CHUNK ? run->nnodes - start : PAR_CHUNK;
		ret = verify_range(run->v, w, run->nodes + start, count, &run->reps[c]);
	}
	if (ret != 0) {
		int zero = 0;
		__atomic_compare_exchange_n(&run->err, &zero, ret, false, __ATOMIC_RELAXED,
		                            __ATOMIC_RELAXED);
	}
	zg_verify_worker_free(w);
	return NULL;
}

/* Verifies incr->nodes, in threads (opts->threads) when there are many; the
 * findings are appended to report in node order either way. */
static int verify_nodes(zg_incr_t *in, zg_verifier_t *v, const zg_verify_opts_t *opts,
                        zg_report_t *report)
{
	unsigned nthreads = opts->threads;
	if (nthreads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		nthreads = n > 0 ? (unsigned)n : 1;
	}
	size_t nchunks = (in->nnodes + PAR_CHUNK - 1) / PAR_CHUNK;
	if (nthreads > nchunks) {
		nthreads = (unsigned)nchunks;
	}
	if (nthreads > 64) {
		nthreads = 64;
	}
	if (nthreads <= 1 || in->nnodes < PAR_MIN_NODES) {
		zg_verify_worker_t *w = NULL;
		int ret = zg_verify_worker_new(&w);
		if (ret == 0) {
			ret = verify_range(v, w, in->nodes, in->nnodes, report);
		}
		zg_verify_worker_free(w);
		return ret;
	}
	par_run_t run = { .v = v, .nodes = in->nodes, .nnodes = in->nnodes };
	run.reps = calloc(nchunks, sizeof(*run.reps));
	if (run.reps == NULL) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < nchunks; i++) {
		zg_report_init(&run.reps[i]);
	}
	pthread_t tids[64];
	unsigned started = 0;
	for (unsigned i = 1; i < nthreads; i++) {
		if (pthread_create(&tids[started], NULL, par_worker, &run) != 0) {
			break;  /* fewer threads: the others take the rest */
		}
		started++;
	}
	par_worker(&run);
	for (unsigned i = 0; i < started; i++) {
		pthread_join(tids[i], NULL);
	}
	int ret = run.err;
	for (size_t i = 0; i < nchunks; i++) {
		if (ret == 0) {
			ret = zg_report_merge(report, &run.reps[i]);
		}
		zg_report_deinit(&run.reps[i]);
	}
	free(run.reps);
	return ret;
}

int zg_incr_verify(zg_incr_t *incr, const zg_verify_opts_t *opts, zg_report_t *report,
                   bool *full)
{
	if (incr == NULL || opts == NULL || report == NULL) {
		return KNOT_EINVAL;
	}
	zg_verifier_t *v = NULL;
	int ret = zg_verifier_new(&v, incr->zone, opts, report);
	if (ret != 0) {
		return ret;
	}
	/* An expired signature anywhere (the expiry structure covers the whole
	 * zone) is an error wherever it is, also on a name no change touches. */
	bool whole = incr->full || zg_incr_earliest_expiry(incr) < opts->now;
	if (whole) {
		ret = zg_verify_zone(v, report);
		size_t names = 0, nsec3 = 0;
		zg_zone_counts(incr->zone, &names, &nsec3, NULL);
		incr->last_checked = names + nsec3;
	} else {
		incr->nnodes = 0;
		ret = node_push(incr, zg_zone_apex(incr->zone), false);
		if (ret == 0) {
			ret = node_push(incr, zg_zone_last(incr->zone), false);
		}
		for (size_t pos = 0; ret == 0 && pos < incr->touched.len;) {
			const uint8_t *e = incr->touched.data + pos;
			ret = collect(incr, e + 2, e[0]);
			pos += 2 + e[1];
		}
		if (ret == 0) {
			qsort(incr->nodes, incr->nnodes, sizeof(*incr->nodes), vnode_cmp);
			size_t u = 0;
			for (size_t i = 0; i < incr->nnodes; i++) {
				if (u > 0 && incr->nodes[u - 1].node == incr->nodes[i].node) {
					incr->nodes[u - 1].changed |= incr->nodes[i].changed;
				} else {
					incr->nodes[u++] = incr->nodes[i];
				}
			}
			incr->nnodes = u;
			incr->last_checked = u;
			ret = verify_nodes(incr, v, opts, report);
		}
		if (ret == 0) {
			ret = orphans(incr, v, report);
		}
		zg_node_t *apex = zg_zone_apex(incr->zone);
		if (ret == 0 && !opts->skip_zonemd && apex != NULL &&
		    zg_node_rrset(apex, KNOT_RRTYPE_ZONEMD) != NULL) {
			ret = zg_verify_zonemd(v, report);
		}
	}
	zg_verifier_free(v);
	if (ret != 0) {
		return ret;
	}
	incr->touched.len = 0;
	/* After a failure, errors elsewhere may remain: check everything next time. */
	incr->full = report->errors > 0;
	if (full != NULL) {
		*full = whole;
	}
	return 0;
}
