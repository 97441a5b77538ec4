/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libknot/consts.h>
#include <libknot/descriptor.h>
#include <libknot/dname.h>
#include <libknot/errcode.h>
#include <libzscanner/scanner.h>

#include "validate/crypto.h"
#include "core/error.h"
#include "validate/verify.h"

#define CHUNK_NODES 1024
/* Nodes whose signatures zg_verify_zone() verifies in one batch: a whole
 * chunk (in a TLD-like zone a third of the delegations are signed: 256 would
 * give fewer signatures than the P-256 verifier's affine path takes). */
#define BATCH_NODES CHUNK_NODES
#define MAX_KEYS 64
#define MAX_TYPES 1024

#define RT_NS      KNOT_RRTYPE_NS
#define RT_DS      KNOT_RRTYPE_DS
#define RT_RRSIG   KNOT_RRTYPE_RRSIG
#define RT_NSEC    KNOT_RRTYPE_NSEC
#define RT_NSEC3   KNOT_RRTYPE_NSEC3
#define RT_DNSKEY  KNOT_RRTYPE_DNSKEY
#define RT_ZONEMD  63

enum { MODE_NONE = 0, MODE_NSEC, MODE_NSEC3 };

#define MSG_RRSIG_RRSIG "RRSIG covering type RRSIG (RFC 4035 2.2: RRSIGs are not signed)"

typedef struct {
	zg_key_t *key;
	const uint8_t *rdata;
	uint16_t len;
	bool ds_match;
} vkey_t;

/* Parameters of one NSEC3 chain (from an NSEC3PARAM with flags 0), and its
 * owners in hash order, collected when a lookup needs them (see chain_cover()). */
typedef struct {
	uint8_t alg;
	uint16_t iter;
	uint8_t salt_len;
	uint8_t salt[255];
	zg_node_t **index;
	size_t nindex;
	bool indexed;
} chain_t;

/*! Owners a covering-NSEC3 lookup steps back before it uses the chain's index. */
#define COVER_STEPS 64

struct zg_verifier {
	const zg_zone_t *zone;
	zg_verify_opts_t opts;
	uint8_t origin[ZG_DNAME_MAXLEN];
	size_t origin_len;
	unsigned origin_labels;
	vkey_t keys[MAX_KEYS];
	unsigned nkeys;
	uint8_t algs[MAX_KEYS];
	unsigned nalgs;
	uint8_t zone_algs[32];  /* bit set: algorithms of all zone keys (also unsupported) */
	int mode;
	chain_t chains[ZG_VERIFY_MAX_NSEC3_CHAINS];  /* NSEC3 chains to check */
	unsigned nchains;
	pthread_mutex_t index_lock;  /* building chain_t.index */
	uint32_t crowded[16];        /* alg << 16 | tag shared by too many keys */
	unsigned ncrowded;
};

/* A signature queued by zg_verify_prefetch(): RRSIG rdata and key index. */
typedef struct {
	const uint8_t *rd;
	unsigned key;
	int idx;           /* index in the crypto batch */
} pre_t;

struct zg_verify_worker {
	zg_crypto_ctx_t *crypto;
	zg_buf_t buf;
	bool trust_sigs;   /* zg_verify_node_unchanged(): no signature crypto. */
	/* Signatures queued by zg_verify_prefetch() (hash table, open addressing). */
	const zg_verifier_t *pre_v;
	pre_t *pre;
	size_t pre_cap, pre_len;
	bool pre_ran;
};

/* ---- helpers ---- */

/* The caller's cancel flag is set: stop at the next node. */
static inline bool canceled(const zg_verifier_t *v)
{
	return v->opts.cancel != NULL &&
	       atomic_load_explicit(v->opts.cancel, memory_order_relaxed);
}

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* RRSIG times are 32-bit serial numbers (RFC 4034 3.1.5): take the value
 * closest to the validation time. */
static inline int64_t rrsig_time(uint32_t t, int64_t now)
{
	return now + (int32_t)(t - (uint32_t)now);
}

static const char *type_str(uint16_t type, char *buf, size_t len)
{
	if (knot_rrtype_to_string(type, buf, len) < 0) {
		snprintf(buf, len, "TYPE%u", type);
	}
	return buf;
}

#define ERR(r, owner, type, ...) do { \
	if (zg_report_add((r), ZG_SEV_ERROR, (owner), (type), __VA_ARGS__) != 0) { return -ENOMEM; } \
} while (0)
#define WARN(r, owner, type, ...) do { \
	if (zg_report_add((r), ZG_SEV_WARNING, (owner), (type), __VA_ARGS__) != 0) { return -ENOMEM; } \
} while (0)

/* ---- setup ---- */

int zg_verify_worker_new(zg_verify_worker_t **out)
{
	zg_verify_worker_t *w = calloc(1, sizeof(*w));
	if (w == NULL) {
		return -ENOMEM;
	}
	int ret = zg_crypto_ctx_new(&w->crypto);
	if (ret != 0) {
		free(w);
		return ret;
	}
	zg_buf_init(&w->buf);
	*out = w;
	return 0;
}

void zg_verify_worker_free(zg_verify_worker_t *w)
{
	if (w != NULL) {
		zg_crypto_ctx_free(w->crypto);
		zg_buf_deinit(&w->buf);
		free(w->pre);
		free(w);
	}
}

bool zg_verifier_nsec3_chain(const zg_verifier_t *v, unsigned i, uint8_t *alg, uint16_t *iter,
                             const uint8_t **salt, size_t *salt_len)
{
	if (v->mode != MODE_NSEC3 || i >= v->nchains) {
		return false;
	}
	*alg = v->chains[i].alg;
	*iter = v->chains[i].iter;
	*salt = v->chains[i].salt;
	*salt_len = v->chains[i].salt_len;
	return true;
}

void zg_verifier_free(zg_verifier_t *v)
{
	if (v == NULL) {
		return;
	}
	for (unsigned i = 0; i < v->nkeys; i++) {
		zg_key_free(v->keys[i].key);
	}
	for (unsigned i = 0; i < v->nchains; i++) {
		free(v->chains[i].index);
	}
	pthread_mutex_destroy(&v->index_lock);
	free(v);
}

static bool has_alg(const zg_verifier_t *v, uint8_t alg)
{
	for (unsigned i = 0; i < v->nalgs; i++) {
		if (v->algs[i] == alg) {
			return true;
		}
	}
	return false;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/* Zone keys sharing an algorithm and key tag: a validator must try each for
 * every signature with that tag (KeyTrap, CVE-2023-50387). */
static int check_tag_collisions(zg_verifier_t *v, const zg_rrset_t *dnskey, zg_report_t *report)
{
	uint32_t *ids = malloc(dnskey->count * sizeof(*ids));
	if (ids == NULL) {
		return -ENOMEM;
	}
	size_t n = 0, pos = 0;
	const uint8_t *rd = NULL;
	uint16_t len = 0;
	while (zg_rrset_next(dnskey, &pos, &rd, &len)) {
		if (len >= 4 && (get16(rd) & 0x0100)) {
			ids[n++] = (uint32_t)rd[3] << 16 | zg_dnskey_tag(rd, len);
		}
	}
	qsort(ids, n, sizeof(*ids), cmp_u32);
	int ret = 0;
	for (size_t i = 0; i < n && ret == 0;) {
		size_t j = i;
		while (j < n && ids[j] == ids[i]) {
			j++;
		}
		unsigned same = (unsigned)(j - i), tag = ids[i] & 0xffff, alg = ids[i] >> 16;
		if (same > ZG_VERIFY_MAX_TAG_KEYS) {
			if (v->ncrowded < sizeof(v->crowded) / sizeof(v->crowded[0])) {
				v->crowded[v->ncrowded++] = ids[i];
			}
			ret = zg_report_add(report, ZG_SEV_ERROR, v->origin, RT_DNSKEY,
			                    "%u keys share key tag %u alg %u, more than %u: "
			                    "KeyTrap-hardened resolvers refuse to try them all; "
			                    "signatures with this tag are tried against %u of them "
			                    "and not reported one by one",
			                    same, tag, alg, ZG_VERIFY_MAX_TAG_KEYS, ZG_VERIFY_MAX_TAG_KEYS);
		} else if (same > 1) {
			ret = zg_report_add(report, ZG_SEV_WARNING, v->origin, RT_DNSKEY,
			                    "%u keys share key tag %u alg %u: validators must try each "
			                    "(limit %u)", same, tag, alg, ZG_VERIFY_MAX_TAG_KEYS);
		}
		i = j;
	}
	free(ids);
	return ret;
}

/* The zone keys of the apex DNSKEY RRset. */
static int setup_keys(zg_verifier_t *v, const zg_node_t *apex, zg_report_t *report)
{
	const zg_rrset_t *dnskey = apex ? zg_node_rrset(apex, RT_DNSKEY) : NULL;
	if (dnskey == NULL) {
		ERR(report, v->origin, RT_DNSKEY, "no DNSKEY RRset at the apex, the zone is not signed");
		return 0;
	}
	size_t pos = 0;
	const uint8_t *rd = NULL;
	uint16_t len = 0;
	uint8_t unsupported[MAX_KEYS];
	unsigned nunsup = 0;
	while (zg_rrset_next(dnskey, &pos, &rd, &len)) {
		if (len < 4) {
			ERR(report, v->origin, RT_DNSKEY, "malformed DNSKEY record");
			continue;
		}
		uint16_t flags = get16(rd);
		uint16_t tag = zg_dnskey_tag(rd, len);
		if (!(flags & 0x0100)) {
			continue; /* not a zone key */
		}
		if (rd[2] != 3) {
			ERR(report, v->origin, RT_DNSKEY, "key %u alg %u has protocol %u, expected 3",
			    tag, rd[3], rd[2]);
			continue;
		}
		v->zone_algs[rd[3] >> 3] |= (uint8_t)(1 << (rd[3] & 7));
		zg_key_t *key = NULL;
		int ret = zg_key_new(&key, rd, len);
		if (ret == 0 && v->opts.p256_openssl) {
			zg_key_use_openssl(key);
		}
		if (ret == ZG_ENOTSUP) {
			bool seen = false;
			for (unsigned i = 0; i < nunsup; i++) {
				seen |= unsupported[i] == rd[3];
			}
			if (!seen && nunsup < MAX_KEYS) {
				unsupported[nunsup++] = rd[3];
				WARN(report, v->origin, RT_DNSKEY, "algorithm %u is not supported, "
				     "its signatures are not checked", rd[3]);
			}
			continue;
		} else if (ret == -ENOMEM) {
			return ret;
		} else if (ret != 0) {
			ERR(report, v->origin, RT_DNSKEY, "key %u alg %u: malformed public key", tag, rd[3]);
			continue;
		}
		if (v->nkeys == MAX_KEYS) {
			zg_key_free(key);
			WARN(report, v->origin, RT_DNSKEY, "more than %u keys, ignoring the rest", MAX_KEYS);
			break;
		}
		v->keys[v->nkeys++] = (vkey_t){ .key = key, .rdata = rd, .len = len };
		if (!has_alg(v, rd[3])) {
			v->algs[v->nalgs++] = rd[3];
		}
	}
	return check_tag_collisions(v, dnskey, report);
}

/* Trusted DS: which keys they match. */
static int setup_ds(zg_verifier_t *v, const zg_verify_opts_t *opts, zg_report_t *report)
{
	if (opts->ds == NULL) {
		return 0;
	}
	const zg_rrset_t ds = { .type = RT_DS, .count = opts->ds_count,
	                        .size = (uint32_t)opts->ds_size, .data = opts->ds };
	size_t pos = 0;
	const uint8_t *rd = NULL;
	uint16_t len = 0;
	while (zg_rrset_next(&ds, &pos, &rd, &len)) {
		bool matched = false;
		for (unsigned i = 0; i < v->nkeys; i++) {
			if (zg_ds_match(rd, len, v->origin, v->keys[i].rdata, v->keys[i].len) == 0) {
				v->keys[i].ds_match = true;
				matched = true;
			}
		}
		if (!matched && len >= 4) {
			WARN(report, v->origin, RT_DS, "DS key %u alg %u digest %u matches no DNSKEY",
			     get16(rd), rd[2], rd[3]);
		}
	}
	return 0;
}

/* Adds a chain (NSEC3 parameters at rd, alg flags iterations salt) unless its
 * iterations exceed the limit (RFC 9276 3.1: 0 is the value to use). */
static int add_chain(zg_verifier_t *v, const uint8_t *rd, uint16_t type, zg_report_t *report)
{
	uint16_t iter = get16(rd + 2);
	if (rd[0] != 1) {
		ERR(report, v->origin, type, "hash algorithm %u is not supported", rd[0]);
		return 0;
	}
	if (iter > ZG_VERIFY_MAX_NSEC3_ITERATIONS) {
		ERR(report, v->origin, type, "NSEC3 iterations %u, more than %u: resolvers treat the "
		    "zone's denials as insecure or bogus (RFC 9276 3.2), the chain is not checked",
		    iter, ZG_VERIFY_MAX_NSEC3_ITERATIONS);
		return 0;
	}
	if (iter > 0) {
		WARN(report, v->origin, type, "NSEC3 iterations %u, RFC 9276 recommends 0 (each "
		     "iteration costs resolvers and secondaries a hash per name)", iter);
	}
	for (unsigned i = 0; i < v->nchains; i++) {
		const chain_t *c = &v->chains[i];
		if (c->alg == rd[0] && c->iter == iter && c->salt_len == rd[4] &&
		    memcmp(c->salt, rd + 5, rd[4]) == 0) {
			return 0;
		}
	}
	if (v->nchains == ZG_VERIFY_MAX_NSEC3_CHAINS) {
		ERR(report, v->origin, type, "more than %u NSEC3 chains announced, the others are "
		    "not checked", ZG_VERIFY_MAX_NSEC3_CHAINS);
		return 0;
	}
	chain_t *c = &v->chains[v->nchains++];
	c->alg = rd[0];
	c->iter = iter;
	c->salt_len = rd[4];
	memcpy(c->salt, rd + 5, rd[4]);
	return 0;
}

/* Algorithms that RFC 5155 section 2 forbids with NSEC3 (their NSEC3
 * aliases are 6 and 7; RSAMD5 has none). */
static int check_nsec3_algs(zg_verifier_t *v, zg_report_t *report)
{
	static const struct { uint8_t alg, alias; const char *name; } bad[] = {
		{ 1, 0, "RSAMD5" }, { 3, 6, "DSA" }, { 5, 7, "RSASHA1" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t a = bad[i].alg;
		if (!(v->zone_algs[a >> 3] & (1 << (a & 7)))) {
			continue;
		}
		if (bad[i].alias != 0) {
			ERR(report, v->origin, RT_DNSKEY, "algorithm %u (%s) must not sign an NSEC3 zone, "
			    "its NSEC3 alias is %u (RFC 5155 section 2)", a, bad[i].name, bad[i].alias);
		} else {
			ERR(report, v->origin, RT_DNSKEY, "algorithm %u (%s) must not sign an NSEC3 zone "
			    "(RFC 5155 section 2)", a, bad[i].name);
		}
	}
	return 0;
}

/* Denial of existence: NSEC, or the NSEC3 chains announced by NSEC3PARAM
 * records with flags 0 (others are ignored, RFC 5155 4.1.2). */
static int setup_denial(zg_verifier_t *v, const zg_node_t *apex, zg_report_t *report)
{
	const zg_rrset_t *param = apex ? zg_node_rrset(apex, KNOT_RRTYPE_NSEC3PARAM) : NULL;
	size_t n3count = 0;
	zg_zone_counts(v->zone, NULL, &n3count, NULL);
	unsigned flagged = 0;
	size_t pos = 0;
	const uint8_t *rd = NULL;
	uint16_t len = 0;
	while (param != NULL && zg_rrset_next(param, &pos, &rd, &len)) {
		if (len < 5 || 5u + rd[4] != len) {
			ERR(report, v->origin, KNOT_RRTYPE_NSEC3PARAM, "malformed NSEC3PARAM record");
		} else if (rd[1] != 0) {
			flagged++;
			WARN(report, v->origin, KNOT_RRTYPE_NSEC3PARAM, "NSEC3PARAM with flags %u is "
			     "ignored (RFC 5155 4.1.2)", rd[1]);
		} else {
			int ret = add_chain(v, rd, KNOT_RRTYPE_NSEC3PARAM, report);
			if (ret != 0) {
				return ret;
			}
		}
	}
	bool announced = param != NULL && param->count > flagged;
	if (announced) {
		v->mode = MODE_NSEC3;
	} else if (n3count > 0 && (apex == NULL || zg_node_rrset(apex, RT_NSEC) == NULL)) {
		if (flagged > 0) {
			WARN(report, v->origin, KNOT_RRTYPE_NSEC3PARAM, "no NSEC3PARAM with flags 0: "
			     "secondaries cannot tell which NSEC3 chain is complete (RFC 5155 7.3); "
			     "the chain of the first NSEC3 record is checked");
		} else {
			ERR(report, v->origin, KNOT_RRTYPE_NSEC3PARAM,
			    "missing NSEC3PARAM while the zone has NSEC3 records");
		}
		/* Check the chain with the parameters of its first record. */
		v->mode = MODE_NSEC3;
		const zg_rrset_t *n3 = zg_node_rrset(zg_zone_nsec3_first(v->zone), RT_NSEC3);
		pos = 0;
		if (n3 != NULL && zg_rrset_next(n3, &pos, &rd, &len) && len >= 5 &&
		    5u + rd[4] <= len) {
			int ret = add_chain(v, rd, RT_NSEC3, report);
			if (ret != 0) {
				return ret;
			}
		}
	} else {
		v->mode = MODE_NSEC;
		return 0;
	}
	return check_nsec3_algs(v, report);
}

/* Records left out of the zone because they are outside it (zone files):
 * a warning each, as the peers give; an NSEC or NSEC3 there is an error. */
static int report_outside(zg_verifier_t *v, zg_report_t *report)
{
	char origin[1024];
	zg_dname_str(v->origin, origin, sizeof(origin));
	const uint8_t *owner;
	uint16_t type;
	for (size_t i = 0; zg_zone_outside(v->zone, i, &owner, &type); i++) {
		if (type == RT_NSEC || type == RT_NSEC3) {
			char tb[32];
			ERR(report, owner, type, "%s record outside the zone %s", type_str(type, tb,
			    sizeof(tb)), origin);
		} else {
			WARN(report, owner, type, "outside the zone %s, ignored", origin);
		}
	}
	size_t more = 0, more_denial = 0;
	zg_zone_outside_more(v->zone, &more, &more_denial);
	if (more_denial > 0) {
		ERR(report, v->origin, RT_NSEC3, "%zu more NSEC or NSEC3 records outside the zone %s",
		    more_denial, origin);
	}
	if (more > more_denial) {
		WARN(report, v->origin, KNOT_RRTYPE_SOA, "%zu more records outside the zone %s, "
		     "ignored", more - more_denial, origin);
	}
	return 0;
}

int zg_verifier_new(zg_verifier_t **out, const zg_zone_t *zone, const zg_verify_opts_t *opts,
                    zg_report_t *report)
{
	zg_verifier_t *v = calloc(1, sizeof(*v));
	if (v == NULL) {
		return -ENOMEM;
	}
	v->zone = zone;
	v->opts = *opts;
	pthread_mutex_init(&v->index_lock, NULL);
	v->origin_len = zg_dname_len(zg_zone_origin(zone), ZG_DNAME_MAXLEN);
	memcpy(v->origin, zg_zone_origin(zone), v->origin_len);
	v->origin_labels = zg_dname_labels(v->origin);
	*out = v;

	zg_node_t *apex = zg_zone_apex(zone);
	int ret = setup_keys(v, apex, report);
	if (ret == 0) {
		ret = setup_ds(v, opts, report);
	}
	if (ret == 0) {
		ret = setup_denial(v, apex, report);
	}
	if (ret == 0) {
		ret = report_outside(v, report);
	}
	return ret;
}

/* ---- batched signatures ---- */

#define NOT_PREFETCHED 1

static size_t pre_slot(const zg_verify_worker_t *w, const uint8_t *rd, unsigned key)
{
	uint64_t h = ((uint64_t)(uintptr_t)rd ^ key) * 0x9E3779B97F4A7C15ull;
	return (size_t)(h >> 32) & (w->pre_cap - 1);
}

static int pre_put(zg_verify_worker_t *w, const uint8_t *rd, unsigned key, int idx)
{
	if (2 * (w->pre_len + 1) > w->pre_cap) {
		size_t cap = w->pre_cap ? 2 * w->pre_cap : 1024;
		pre_t *old = w->pre, *tab = calloc(cap, sizeof(*tab));
		if (tab == NULL) {
			return -ENOMEM;
		}
		size_t old_cap = w->pre_cap;
		w->pre = tab;
		w->pre_cap = cap;
		for (size_t i = 0; i < old_cap; i++) {
			if (old[i].rd != NULL) {
				size_t j = pre_slot(w, old[i].rd, old[i].key);
				while (tab[j].rd != NULL) {
					j = (j + 1) & (cap - 1);
				}
				tab[j] = old[i];
			}
		}
		free(old);
	}
	size_t j = pre_slot(w, rd, key);
	while (w->pre[j].rd != NULL) {
		j = (j + 1) & (w->pre_cap - 1);
	}
	w->pre[j] = (pre_t){ .rd = rd, .key = key, .idx = idx };
	w->pre_len++;
	return 0;
}

/* Result of a signature queued by zg_verify_prefetch() (running the batch
 * first if needed), or NOT_PREFETCHED. */
static int prefetched(const zg_verifier_t *v, zg_verify_worker_t *w, const uint8_t *rd,
                      unsigned key)
{
	if (w->pre_len == 0 || w->pre_v != v) {
		return NOT_PREFETCHED;
	}
	if (!w->pre_ran) {
		zg_crypto_batch_run(w->crypto);
		w->pre_ran = true;
	}
	for (size_t j = pre_slot(w, rd, key); w->pre[j].rd != NULL; j = (j + 1) & (w->pre_cap - 1)) {
		if (w->pre[j].rd == rd && w->pre[j].key == key) {
			return zg_crypto_batch_result(w->crypto, (size_t)w->pre[j].idx);
		}
	}
	return NOT_PREFETCHED;
}

int zg_verify_prefetch(zg_verifier_t *v, zg_verify_worker_t *w, zg_node_t *node)
{
	if (w->pre_ran || w->pre_v != v) {
		zg_crypto_batch_clear(w->crypto);
		if (w->pre_len > 0) {
			memset(w->pre, 0, w->pre_cap * sizeof(*w->pre));
		}
		w->pre_len = 0;
		w->pre_ran = false;
		w->pre_v = v;
	}
	uint32_t flags = zg_node_flags(node);
	bool nsec3 = flags & ZG_NODE_NSEC3;
	if (!nsec3 && (flags & ZG_NODE_NONAUTH)) {
		return 0;
	}
	uint8_t owner[ZG_DNAME_MAXLEN];
	zg_node_owner(node, owner);
	unsigned owner_labels = zg_dname_labels(owner);
	if (owner[0] == 1 && owner[1] == '*') {
		owner_labels--;
	}
	/* The signatures verify_rrset() would verify; any other is queued in
	 * vain (and then verified one at a time as before). */
	for (unsigned i = 0; i < zg_node_rrset_count(node); i++) {
		const zg_rrset_t *sigs = zg_node_rrset_at(node, i);
		const zg_rrset_t *set = sigs->type == RT_RRSIG ? zg_node_rrset(node, sigs->covered) : NULL;
		if (set == NULL || (nsec3 && set->type != RT_NSEC3) ||
		    ((flags & ZG_NODE_DELEG) && set->type != RT_DS && set->type != RT_NSEC)) {
			continue;
		}
		size_t pos = 0;
		const uint8_t *rd = NULL;
		uint16_t len = 0;
		while (zg_rrset_next(sigs, &pos, &rd, &len)) {
			size_t slen = len > 18 ? zg_dname_len(rd + 18, len - 18u) : 0;
			if (slen == 0 || 18 + slen >= len || slen != v->origin_len ||
			    memcmp(rd + 18, v->origin, slen) != 0 || rd[3] != owner_labels ||
			    v->opts.now > rrsig_time(get32(rd + 8), v->opts.now) ||
			    v->opts.now < rrsig_time(get32(rd + 12), v->opts.now)) {
				continue;
			}
			bool built = false;
			for (unsigned k = 0; k < v->nkeys; k++) {
				const zg_key_t *key = v->keys[k].key;
				if (zg_key_tag(key) != get16(rd + 16) || zg_key_alg(key) != rd[2] ||
				    !zg_key_native(key)) {
					continue;
				}
				int ret = built ? 0 : zg_rrsig_signed_data(&w->buf, owner, set, rd, slen);
				if (ret == -ENOMEM) {
					return ret;
				} else if (ret != 0) {
					break;
				}
				built = true;
				ret = zg_crypto_batch_add(w->crypto, key, w->buf.data, w->buf.len,
				                          rd + 18 + slen, len - 18 - slen);
				if (ret == -ENOMEM) {
					return ret;
				} else if (ret >= 0 && (ret = pre_put(w, rd, k, ret)) != 0) {
					return ret;
				}
			}
		}
	}
	return 0;
}

/* Queues the signatures of \a count nodes from \a n for one batch. */
static int prefetch_nodes(zg_verifier_t *v, zg_verify_worker_t *w, zg_node_t *n, size_t count)
{
	for (size_t k = 0; k < count && n != NULL; k++, n = zg_node_next(n)) {
		int ret = zg_verify_prefetch(v, w, n);
		if (ret != 0) {
			return ret;
		}
	}
	return 0;
}

/* ---- RRSIG checks ---- */

/* Whether more zone keys than ZG_VERIFY_MAX_TAG_KEYS share this tag and
 * algorithm (reported once at the DNSKEY RRset). */
static bool crowded(const zg_verifier_t *v, uint8_t alg, uint16_t tag)
{
	for (unsigned i = 0; i < v->ncrowded; i++) {
		if (v->crowded[i] == ((uint32_t)alg << 16 | tag)) {
			return true;
		}
	}
	return false;
}

/*
 * Signatures of an RRset outside their validity period (those that passed
 * the signer and labels checks): an error, or a warning when another
 * signature of the same algorithm validates the RRset (alg_ok), as a
 * validator then accepts it (e.g. an old signature left beside a new one).
 */
static int report_untimely(zg_verifier_t *v, const uint8_t *owner, unsigned owner_labels,
                           const zg_rrset_t *set, const zg_rrset_t *sigs, const uint8_t *alg_ok,
                           zg_report_t *r)
{
	int64_t now = v->opts.now;
	char tbuf[32];
	size_t pos = 0;
	const uint8_t *rd = NULL;
	uint16_t len = 0;
	while (zg_rrset_next(sigs, &pos, &rd, &len)) {
		uint8_t alg = rd[2];
		uint16_t tag = get16(rd + 16);
		size_t slen = zg_dname_len(rd + 18, len - 18u);
		if (slen == 0 || 18 + slen >= len || slen != v->origin_len ||
		    memcmp(rd + 18, v->origin, slen) != 0 || rd[3] != owner_labels) {
			continue;  /* reported by verify_rrset() */
		}
		int64_t exp = rrsig_time(get32(rd + 8), now);
		int64_t inc = rrsig_time(get32(rd + 12), now);
		if (now <= exp && now >= inc) {
			continue;
		}
		bool other = alg_ok[alg >> 3] & (1 << (alg & 7));
		zg_severity_t sev = other ? ZG_SEV_WARNING : ZG_SEV_ERROR;
		const char *also = other ? ", another signature of the algorithm validates" : "";
		int ret = now > exp
		          ? zg_report_add(r, sev, owner, set->type, "signature expired %s (key %u alg %u)%s",
		                          zg_time_str(exp, tbuf, sizeof(tbuf)), tag, alg, also)
		          : zg_report_add(r, sev, owner, set->type, "signature not yet valid, inception "
		                          "%s (key %u alg %u)%s", zg_time_str(inc, tbuf, sizeof(tbuf)),
		                          tag, alg, also);
		if (ret != 0) {
			return ret;
		}
	}
	return 0;
}

/* Verifies the RRSIGs of one RRset. signed_by (may be NULL) gets, per key
 * index, whether a valid signature by that key was found. */
static int verify_rrset(zg_verifier_t *v, zg_verify_worker_t *w, const uint8_t *owner,
                        const zg_node_t *node, const zg_rrset_t *set, bool *signed_by,
                        zg_report_t *r)
{
	const zg_rrset_t *sigs = zg_node_rrsig(node, set->type);
	int64_t now = v->opts.now;
	uint8_t alg_ok[32] = { 0 }, alg_seen[32] = { 0 };
	bool untimely = false;
	int64_t set_expiry = INT64_MAX;
	const char *horizon_key = NULL;
	uint16_t hz_tag = 0;
	uint8_t hz_alg = 0;
	char tbuf[32];
	unsigned owner_labels = zg_dname_labels(owner);
	if (owner[0] == 1 && owner[1] == '*') {
		owner_labels--;
	}
	r->stats.rrsets++;

	size_t pos = 0;
	const uint8_t *rd = NULL;
	uint16_t len = 0;
	while (sigs != NULL && zg_rrset_next(sigs, &pos, &rd, &len)) {
		uint8_t alg = rd[2];
		uint16_t tag = get16(rd + 16);
		size_t slen = zg_dname_len(rd + 18, len - 18u);
		if (slen == 0 || 18 + slen >= len) {
			ERR(r, owner, set->type, "malformed RRSIG (key %u alg %u)", tag, alg);
			continue;
		}
		alg_seen[alg >> 3] |= (uint8_t)(1 << (alg & 7));
		const uint8_t *sig = rd + 18 + slen;
		size_t siglen = len - 18 - slen;
		if (slen != v->origin_len || memcmp(rd + 18, v->origin, slen) != 0) {
			char name[1024];
			ERR(r, owner, set->type, "signer name %s is not the zone apex (key %u alg %u)",
			    zg_dname_str(rd + 18, name, sizeof(name)), tag, alg);
			continue;
		}
		if (rd[3] != owner_labels) {
			ERR(r, owner, set->type, "RRSIG labels field %u, expected %u (key %u alg %u)",
			    rd[3], owner_labels, tag, alg);
			continue;
		}
		uint32_t ottl = get32(rd + 4);
		if (ottl != set->ttl) {
			ERR(r, owner, set->type, "RRSIG original TTL %u differs from the RRset TTL %u "
			    "(key %u alg %u)", ottl, set->ttl, tag, alg);
		}
		int64_t exp = rrsig_time(get32(rd + 8), now);
		int64_t inc = rrsig_time(get32(rd + 12), now);
		if (now > exp || now < inc) {
			untimely = true;  /* reported below, once the others are known */
			continue;
		}
		bool candidate = false, valid = false;
		bool built = false;
		unsigned tried = 0;
		for (unsigned i = 0; i < v->nkeys && !valid && tried < ZG_VERIFY_MAX_TAG_KEYS; i++) {
			const vkey_t *k = &v->keys[i];
			if (zg_key_tag(k->key) != tag || zg_key_alg(k->key) != alg) {
				continue;
			}
			candidate = true;
			tried++;
			if (w->trust_sigs) {
				/* Unchanged RRset and keys: this signature validated before. */
				valid = true;
				if (signed_by != NULL) {
					signed_by[i] = true;
				}
				break;
			}
			int ret = prefetched(v, w, rd, i);
			if (ret == NOT_PREFETCHED) {
				if (!built) {
					ret = zg_rrsig_signed_data(&w->buf, owner, set, rd, slen);
					if (ret == -ENOMEM) {
						return ret;
					}
					built = true;
				}
				ret = zg_crypto_verify(w->crypto, k->key, w->buf.data, w->buf.len, sig,
				                       siglen);
			}
			if (ret == -ENOMEM) {
				return ret;
			}
			if (ret == 0) {
				valid = true;
				if (signed_by != NULL) {
					signed_by[i] = true;
				}
			}
		}
		if (!candidate) {
			if (zg_alg_supported(alg)) {
				WARN(r, owner, set->type, "signature by a key not in the DNSKEY RRset "
				     "(key %u alg %u)", tag, alg);
			}
			continue;
		}
		if (!valid && !crowded(v, alg, tag)) {
			ERR(r, owner, set->type, "bad signature (key %u alg %u)", tag, alg);
		}
		if (!valid) {
			continue;
		}
		if (!w->trust_sigs) {
			r->stats.signatures++;
		}
		alg_ok[alg >> 3] |= (uint8_t)(1 << (alg & 7));
		if (exp < set_expiry) {
			set_expiry = exp;
			horizon_key = "";
			hz_tag = tag;
			hz_alg = alg;
		}
	}
	if (untimely) {
		int ret = report_untimely(v, owner, owner_labels, set, sigs, alg_ok, r);
		if (ret != 0) {
			return ret;
		}
	}
	for (unsigned i = 0; i < v->nalgs; i++) {
		uint8_t a = v->algs[i];
		if (alg_ok[a >> 3] & (1 << (a & 7))) {
			continue;
		}
		if (!(alg_seen[a >> 3] & (1 << (a & 7)))) {
			ERR(r, owner, set->type, "missing RRSIG for algorithm %u", a);
		}
		/* otherwise the bad signatures were reported above */
	}
	if (set_expiry < r->stats.earliest_expiry) {
		r->stats.earliest_expiry = set_expiry;
	}
	if (horizon_key != NULL && v->opts.horizon > 0 && set_expiry - now < v->opts.horizon) {
		WARN(r, owner, set->type, "signature expires %s, within the horizon (key %u alg %u)",
		     zg_time_str(set_expiry, tbuf, sizeof(tbuf)), hz_tag, hz_alg);
	}
	return 0;
}

/* ---- type bitmaps ---- */

static size_t node_types(const zg_node_t *node, uint32_t flags, bool add_nsec, uint16_t *out)
{
	size_t n = 0;
	bool sig = false;
	unsigned cnt = node ? zg_node_rrset_count(node) : 0;
	for (unsigned i = 0; i < cnt && n < MAX_TYPES - 2; i++) {
		const zg_rrset_t *s = zg_node_rrset_at(node, i);
		if (s->type == RT_RRSIG) {
			sig = true;
			continue;
		}
		if ((flags & ZG_NODE_DELEG) && s->type != RT_NS && s->type != RT_DS &&
		    s->type != RT_NSEC) {
			continue;
		}
		out[n++] = s->type;
	}
	if (add_nsec) {
		out[n++] = RT_NSEC;
	}
	if (sig) {
		out[n++] = RT_RRSIG;
	}
	/* sort (small n: insertion sort), unique */
	for (size_t i = 1; i < n; i++) {
		uint16_t t = out[i];
		size_t j = i;
		while (j > 0 && out[j - 1] > t) {
			out[j] = out[j - 1];
			j--;
		}
		out[j] = t;
	}
	size_t u = 0;
	for (size_t i = 0; i < n; i++) {
		if (u == 0 || out[u - 1] != out[i]) {
			out[u++] = out[i];
		}
	}
	return u;
}

static int bitmap_types(const uint8_t *bm, size_t len, uint16_t *out, size_t *n)
{
	size_t pos = 0;
	*n = 0;
	int last_win = -1;
	while (pos < len) {
		if (pos + 2 > len) {
			return -1;
		}
		uint8_t win = bm[pos], blen = bm[pos + 1];
		if (blen == 0 || blen > 32 || pos + 2 + blen > len || (int)win <= last_win) {
			return -1;
		}
		last_win = win;
		for (unsigned i = 0; i < blen; i++) {
			uint8_t b = bm[pos + 2 + i];
			for (unsigned bit = 0; bit < 8; bit++) {
				if ((b & (0x80 >> bit)) && *n < MAX_TYPES) {
					out[(*n)++] = (uint16_t)(win * 256 + i * 8 + bit);
				}
			}
		}
		pos += 2 + (size_t)blen;
	}
	return 0;
}

/* Compares a bitmap with the expected types; reports at owner/type. */
static int compare_bitmap(zg_report_t *r, const uint8_t *owner, uint16_t rtype,
                          const uint8_t *bm, size_t bmlen, const uint16_t *want, size_t nwant,
                          const char *suffix)
{
	uint16_t have[MAX_TYPES];
	size_t nhave;
	if (bitmap_types(bm, bmlen, have, &nhave) != 0) {
		ERR(r, owner, rtype, "malformed type bitmap%s", suffix);
		return 0;
	}
	char lacks[512] = "", extra[512] = "", tb[32];
	size_t i = 0, j = 0, ll = 0, el = 0;
	while (i < nwant || j < nhave) {
		if (j >= nhave || (i < nwant && want[i] < have[j])) {
			ll += (size_t)snprintf(lacks + ll, ll < sizeof(lacks) ? sizeof(lacks) - ll : 0,
			                       "%s%s", ll ? " " : "", type_str(want[i], tb, sizeof(tb)));
			i++;
		} else if (i >= nwant || have[j] < want[i]) {
			el += (size_t)snprintf(extra + el, el < sizeof(extra) ? sizeof(extra) - el : 0,
			                       "%s%s", el ? " " : "", type_str(have[j], tb, sizeof(tb)));
			j++;
		} else {
			i++;
			j++;
		}
		if (ll >= sizeof(lacks)) {
			ll = sizeof(lacks) - 1;
		}
		if (el >= sizeof(extra)) {
			el = sizeof(extra) - 1;
		}
	}
	if (ll > 0) {
		ERR(r, owner, rtype, "type bitmap lacks %s%s", lacks, suffix);
	}
	if (el > 0) {
		ERR(r, owner, rtype, "type bitmap lists %s, which %s not present%s", extra,
		    strchr(extra, ' ') ? "are" : "is", suffix);
	}
	return 0;
}

/* ---- NSEC ---- */

static int check_nsec(zg_verifier_t *v, const uint8_t *owner, zg_node_t *node, uint32_t flags,
                      zg_report_t *r)
{
	const zg_rrset_t *nsec = zg_node_rrset(node, RT_NSEC);
	if (nsec == NULL) {
		ERR(r, owner, RT_NSEC, "missing NSEC");
		return 0;
	}
	if (nsec->count > 1) {
		ERR(r, owner, RT_NSEC, "%u NSEC records, expected one", nsec->count);
	}
	size_t pos = 0;
	const uint8_t *rd = NULL;
	uint16_t len = 0;
	zg_rrset_next(nsec, &pos, &rd, &len);
	size_t nl = zg_dname_len(rd, len);
	if (nl == 0) {
		ERR(r, owner, RT_NSEC, "malformed NSEC record");
		return 0;
	}
	zg_node_t *next = zg_node_next(node);
	while (next != NULL && (zg_node_flags(next) & ZG_NODE_NONAUTH)) {
		next = zg_node_next(next);
	}
	if (next == NULL) {
		next = zg_zone_first(v->zone);
	}
	uint8_t key[ZG_KEY_MAXLEN];
	size_t klen = zg_dname_key(rd, key), nklen;
	const uint8_t *nkey = zg_node_key(next, &nklen);
	if (klen != nklen || memcmp(key, nkey, klen) != 0) {
		char got[1024], want[1024];
		uint8_t nname[ZG_DNAME_MAXLEN];
		zg_node_owner(next, nname);
		ERR(r, owner, RT_NSEC, "next name %s, expected %s", zg_dname_str(rd, got, sizeof(got)),
		    zg_dname_str(nname, want, sizeof(want)));
	}
	uint16_t want[MAX_TYPES];
	size_t nwant = node_types(node, flags, true, want);
	return compare_bitmap(r, owner, RT_NSEC, rd + nl, len - nl, want, nwant, "");
}

/* ---- NSEC3 ---- */

typedef struct {
	uint8_t alg, flags;
	uint16_t iter;
	const uint8_t *salt;
	uint8_t salt_len;
	const uint8_t *next;
	uint8_t next_len;
	const uint8_t *bitmap;
	size_t bitmap_len;
} nsec3_t;

static bool nsec3_parse(const uint8_t *rd, size_t len, nsec3_t *out)
{
	if (len < 6) {
		return false;
	}
	out->alg = rd[0];
	out->flags = rd[1];
	out->iter = get16(rd + 2);
	out->salt_len = rd[4];
	size_t pos = 5 + (size_t)rd[4];
	if (pos + 1 > len) {
		return false;
	}
	out->salt = rd + 5;
	out->next_len = rd[pos];
	out->next = rd + pos + 1;
	pos += 1 + (size_t)rd[pos];
	if (pos > len || out->next_len == 0) {
		return false;
	}
	out->bitmap = rd + pos;
	out->bitmap_len = len - pos;
	return true;
}

static bool nsec3_params_match(const chain_t *c, const nsec3_t *n3)
{
	return n3->alg == c->alg && n3->iter == c->iter && n3->salt_len == c->salt_len &&
	       memcmp(n3->salt, c->salt, n3->salt_len) == 0;
}

/* The NSEC3 record of a node that matches the chain parameters. */
static bool node_nsec3(const chain_t *c, const zg_node_t *n3node, nsec3_t *out)
{
	const zg_rrset_t *set = zg_node_rrset(n3node, RT_NSEC3);
	size_t pos = 0;
	const uint8_t *rd = NULL;
	uint16_t len = 0;
	while (set != NULL && zg_rrset_next(set, &pos, &rd, &len)) {
		if (nsec3_parse(rd, len, out) && nsec3_params_match(c, out)) {
			return true;
		}
	}
	return false;
}

/* Whether an empty non-terminal (key \a ekey) has only insecure delegations
 * (and what lies below them) in its subtree, which starts at \a first: only
 * then may an opt-out chain leave it out (RFC 5155 7.1). */
static bool ent_only_insecure(const zg_node_t *first, const uint8_t *ekey, size_t elen)
{
	for (const zg_node_t *n = first; n != NULL; n = zg_node_next(n)) {
		size_t klen;
		const uint8_t *key = zg_node_key(n, &klen);
		if (!zg_key_is_ancestor(ekey, elen, key, klen)) {
			break;
		}
		uint32_t f = zg_node_flags(n);
		if (f & ZG_NODE_NONAUTH) {
			continue;
		}
		if (!(f & ZG_NODE_DELEG) || zg_node_rrset(n, RT_DS) != NULL) {
			return false;
		}
	}
	return true;
}

static int cmp_node_key(const zg_node_t *a, const zg_node_t *b)
{
	size_t al, bl;
	const uint8_t *ak = zg_node_key(a, &al), *bk = zg_node_key(b, &bl);
	int c = memcmp(ak, bk, al < bl ? al : bl);
	return c != 0 ? c : (al > bl) - (al < bl);
}

/* Collects the owners of chain c in hash order (once; under the lock). */
static int chain_index(zg_verifier_t *v, chain_t *c)
{
	pthread_mutex_lock(&v->index_lock);
	int ret = 0;
	if (!__atomic_load_n(&c->indexed, __ATOMIC_ACQUIRE)) {
		size_t n = 0, cap = 0;
		zg_node_t **idx = NULL;
		nsec3_t rec;
		for (zg_node_t *n3 = zg_zone_nsec3_first(v->zone); n3 != NULL; n3 = zg_node_next(n3)) {
			if (!node_nsec3(c, n3, &rec)) {
				continue;
			}
			if (n == cap) {
				cap = cap ? 2 * cap : 1024;
				zg_node_t **p = realloc(idx, cap * sizeof(*p));
				if (p == NULL) {
					free(idx);
					idx = NULL;
					ret = -ENOMEM;
					break;
				}
				idx = p;
			}
			idx[n++] = n3;
		}
		if (ret == 0) {
			c->index = idx;
			c->nindex = n;
			__atomic_store_n(&c->indexed, true, __ATOMIC_RELEASE);
		}
	}
	pthread_mutex_unlock(&v->index_lock);
	return ret;
}

/*
 * The record of chain c that covers \a hash: at the greatest owner <= hash
 * with a record of the chain, wrapping to the last. Other chains' owners
 * share the tree: a few steps back find it between interleaved chains,
 * otherwise a binary search in the chain's index. Returns 1 (found), 0, -ENOMEM.
 */
static int chain_cover(zg_verifier_t *v, chain_t *c, const uint8_t *hash, size_t hl, nsec3_t *rec)
{
	zg_node_t *leq = zg_zone_find_nsec3_leq(v->zone, hash, hl);
	zg_node_t *last = zg_zone_nsec3_last(v->zone);
	zg_node_t *n = leq != NULL ? leq : last;
	for (unsigned i = 0; n != NULL && i < COVER_STEPS; i++) {
		if (node_nsec3(c, n, rec)) {
			return 1;
		}
		n = zg_node_prev(n) != NULL ? zg_node_prev(n) : last;
		if (n == (leq != NULL ? leq : last)) {
			return 0;  /* the whole tree: no record of the chain */
		}
	}
	if (n == NULL) {
		return 0;
	}
	if (!__atomic_load_n(&c->indexed, __ATOMIC_ACQUIRE)) {
		int ret = chain_index(v, c);
		if (ret != 0) {
			return ret;
		}
	}
	if (c->nindex == 0) {
		return 0;
	}
	/* Greatest indexed owner <= leq, else (wrapping) the last one. */
	size_t lo = 0, hi = leq != NULL ? c->nindex : 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cmp_node_key(c->index[mid], leq) <= 0) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	zg_node_t *cov = c->index[lo > 0 ? lo - 1 : c->nindex - 1];
	return node_nsec3(c, cov, rec) ? 1 : 0;
}

static int check_nsec3_name(zg_verifier_t *v, zg_verify_worker_t *w, chain_t *c,
                            const uint8_t *name, const zg_node_t *node, uint32_t flags, bool ent,
                            bool ent_opt_out_ok, zg_report_t *r)
{
	uint8_t hash[64];
	int hl = zg_nsec3_hash(w->crypto, c->alg, c->iter, c->salt, c->salt_len, name, hash);
	if (hl < 0) {
		return hl == -ENOMEM ? hl : 0;
	}
	char b32[128];
	zg_base32hex_encode(hash, (size_t)hl, b32, sizeof(b32), false);
	zg_node_t *n3 = zg_zone_find_nsec3(v->zone, hash, (size_t)hl);
	if (n3 != NULL && zg_node_rrset(n3, RT_NSEC3) == NULL) {
		n3 = NULL; /* only an RRSIG left there: the NSEC3 is missing */
	}
	if (n3 != NULL) {
		zg_node_mark(n3);
		nsec3_t rec;
		if (!node_nsec3(c, n3, &rec)) {
			return 0; /* other parameters: reported with the NSEC3 node */
		}
		uint16_t want[MAX_TYPES];
		size_t nwant = ent ? 0 : node_types(node, flags, false, want);
		char suffix[1100], nm[1024];
		snprintf(suffix, sizeof(suffix), " (hashed name %s)", zg_dname_str(name, nm, sizeof(nm)));
		uint8_t n3owner[ZG_DNAME_MAXLEN];
		zg_node_owner(n3, n3owner);
		return compare_bitmap(r, n3owner, RT_NSEC3, rec.bitmap, rec.bitmap_len, want, nwant,
		                      suffix);
	}
	bool may_opt_out = ent ? ent_opt_out_ok : ((flags & ZG_NODE_DELEG) && zg_node_rrset(node, RT_DS) == NULL);
	if (may_opt_out) {
		nsec3_t rec;
		int cret = chain_cover(v, c, hash, (size_t)hl, &rec);
		if (cret < 0) {
			return cret;
		}
		if (cret == 1 && (rec.flags & 1)) {
			return 0;
		}
	}
	ERR(r, name, RT_NSEC3, "missing NSEC3 (hash %s)%s", b32, ent ? " for the empty non-terminal" : "");
	return 0;
}

/* Checks the record of chain \a c at an NSEC3 node (hash \a hash): flags,
 * next hash against the successor in the chain, orphans. */
static int check_nsec3_record(zg_verifier_t *v, const chain_t *c, zg_node_t *node,
                              const uint8_t *owner, const uint8_t *hash, int hl,
                              const nsec3_t *rec, bool orphans, zg_report_t *r)
{
	if (rec->flags & ~1u) {
		WARN(r, owner, RT_NSEC3, "unknown flags %u", rec->flags);
	}
	if (rec->next_len != hl) {
		ERR(r, owner, RT_NSEC3, "next hash length %u, expected %d", rec->next_len, hl);
		return 0;
	}
	/* Successor in hash order within the chain, wrapping to the first. */
	zg_node_t *succ = node;
	nsec3_t srec;
	do {
		succ = zg_node_next(succ);
		if (succ == NULL) {
			succ = zg_zone_nsec3_first(v->zone);
		}
	} while (succ != node && !node_nsec3(c, succ, &srec));
	uint8_t sowner[ZG_DNAME_MAXLEN], shash[64];
	zg_node_owner(succ, sowner);
	int shl = zg_base32hex_decode(sowner + 1, sowner[0], shash, sizeof(shash));
	if (shl == hl && memcmp(rec->next, shash, (size_t)hl) != 0) {
		char nb[128], sb[128];
		zg_base32hex_encode(rec->next, rec->next_len, nb, sizeof(nb), false);
		zg_base32hex_encode(shash, (size_t)hl, sb, sizeof(sb), false);
		int c_own_next = memcmp(hash, rec->next, (size_t)hl);
		int c_next_succ = memcmp(rec->next, shash, (size_t)hl);
		int c_own_succ = memcmp(hash, shash, (size_t)hl);
		bool between = (c_own_succ < 0) ? (c_own_next < 0 && c_next_succ < 0)
		                                : (c_own_next < 0 || c_next_succ < 0);
		if (between) {
			ERR(r, owner, RT_NSEC3, "next hash %s names no NSEC3 owner (the next one is %s)",
			    nb, sb);
		} else {
			ERR(r, owner, RT_NSEC3, "next hash skips %s (next hash is %s)", sb, nb);
		}
	}
	if (orphans && !(zg_node_flags(node) & ZG_NODE_MARK)) {
		ERR(r, owner, RT_NSEC3, "no name in the zone hashes to this NSEC3 (orphan)");
	}
	return 0;
}

static int check_nsec3_node(zg_verifier_t *v, zg_verify_worker_t *w, zg_node_t *node,
                            bool orphans, zg_report_t *r)
{
	uint8_t owner[ZG_DNAME_MAXLEN];
	zg_node_owner(node, owner);
	r->stats.nsec3++;
	const zg_rrset_t *set = zg_node_rrset(node, RT_NSEC3);
	for (unsigned i = 0; i < zg_node_rrset_count(node); i++) {
		const zg_rrset_t *s = zg_node_rrset_at(node, i);
		if (s->type == RT_RRSIG && s->covered == RT_RRSIG) {
			ERR(r, owner, RT_RRSIG, MSG_RRSIG_RRSIG);
		} else if (s->type == RT_RRSIG && zg_node_rrset(node, s->covered) == NULL) {
			ERR(r, owner, s->covered, "RRSIG without a matching RRset");
		}
	}
	if (set == NULL) {
		return 0;
	}
	int ret = verify_rrset(v, w, owner, node, set, NULL, r);
	if (ret != 0) {
		return ret;
	}
	if (v->mode != MODE_NSEC3) {
		if (v->mode == MODE_NSEC) {
			ERR(r, owner, RT_NSEC3, "NSEC3 record in a zone signed with NSEC");
		}
		return 0;
	}
	if (v->nchains == 0) {
		return 0; /* no chain to check (reported at the apex) */
	}
	uint8_t hash[64];
	int hl = -1;
	if (zg_dname_labels(owner) == v->origin_labels + 1) {
		hl = zg_base32hex_decode(owner + 1, owner[0], hash, sizeof(hash));
	} else {
		ERR(r, owner, RT_NSEC3, "NSEC3 owner is not directly below the apex");
		return 0;
	}
	if (hl <= 0) {
		ERR(r, owner, RT_NSEC3, "owner label is not a base32hex hash");
		return 0;
	}
	nsec3_t recs[ZG_VERIFY_MAX_NSEC3_CHAINS];
	bool found[ZG_VERIFY_MAX_NSEC3_CHAINS] = { false };
	size_t pos = 0;
	const uint8_t *rd = NULL;
	uint16_t len = 0;
	while (zg_rrset_next(set, &pos, &rd, &len)) {
		nsec3_t tmp;
		if (!nsec3_parse(rd, len, &tmp)) {
			ERR(r, owner, RT_NSEC3, "malformed NSEC3 record");
			continue;
		}
		unsigned c = 0;
		while (c < v->nchains && !nsec3_params_match(&v->chains[c], &tmp)) {
			c++;
		}
		if (c == v->nchains) {
			char salt[520] = "-";
			for (unsigned i = 0; i < tmp.salt_len; i++) {
				snprintf(salt + 2 * i, 3, "%02X", tmp.salt[i]);
			}
			ERR(r, owner, RT_NSEC3, "parameters (alg %u, iterations %u, salt %s) differ from "
			    "NSEC3PARAM", tmp.alg, tmp.iter, salt);
			continue;
		}
		if (found[c]) {
			ERR(r, owner, RT_NSEC3, "more than one NSEC3 record with the chain parameters");
			continue;
		}
		recs[c] = tmp;
		found[c] = true;
	}
	for (unsigned c = 0; c < v->nchains; c++) {
		if (found[c]) {
			ret = check_nsec3_record(v, &v->chains[c], node, owner, hash, hl, &recs[c],
			                         orphans, r);
			if (ret != 0) {
				return ret;
			}
		}
	}
	return 0;
}

/* ---- names ---- */

static int check_apex(zg_verifier_t *v, zg_verify_worker_t *w, const uint8_t *owner,
                      zg_node_t *node, zg_report_t *r, bool *dnskey_done)
{
	*dnskey_done = false;
	const zg_rrset_t *dnskey = zg_node_rrset(node, RT_DNSKEY);
	if (dnskey == NULL) {
		return 0;
	}
	bool signed_by[MAX_KEYS] = { false };
	int ret = verify_rrset(v, w, owner, node, dnskey, signed_by, r);
	if (ret != 0) {
		return ret;
	}
	*dnskey_done = true;
	bool ok = false, any_sep = false;
	for (unsigned i = 0; i < v->nkeys; i++) {
		bool trusted = v->opts.ds ? v->keys[i].ds_match : (zg_key_flags(v->keys[i].key) & 1);
		any_sep |= trusted;
		ok |= trusted && signed_by[i];
	}
	if (!ok && v->nkeys > 0) {
		if (v->opts.ds) {
			ERR(r, owner, RT_DNSKEY, "no signature by a key matching a trusted DS%s",
			    any_sep ? "" : " (no DNSKEY matches any DS)");
		} else {
			ERR(r, owner, RT_DNSKEY, "no signature by a key with the SEP flag%s",
			    any_sep ? "" : " (no zone key has the SEP flag)");
		}
	}
	return 0;
}

static int check_name_node(zg_verifier_t *v, zg_verify_worker_t *w, zg_node_t *node,
                           zg_report_t *r)
{
	uint8_t owner[ZG_DNAME_MAXLEN];
	zg_node_owner(node, owner);
	uint32_t flags = zg_node_flags(node);
	unsigned cnt = zg_node_rrset_count(node);
	char tb[32];
	r->stats.names++;

	if (flags & ZG_NODE_NONAUTH) {
		/* Glue, or data occluded by a delegation or a DNAME (RFC 6672 2.3:
		 * no glue below a DNAME, every type there is occluded). */
		bool dname = flags & ZG_NODE_BELOW_DNAME, warned = false;
		const char *cut = dname ? "a DNAME" : "a delegation";
		for (unsigned i = 0; i < cnt; i++) {
			const zg_rrset_t *s = zg_node_rrset_at(node, i);
			if (s->type == RT_RRSIG) {
				ERR(r, owner, s->covered, "RRSIG on non-authoritative data below %s", cut);
			} else if (s->type == RT_NSEC) {
				ERR(r, owner, RT_NSEC, "NSEC below %s", cut);
			} else if ((dname || (s->type != KNOT_RRTYPE_A && s->type != KNOT_RRTYPE_AAAA)) &&
			           !warned) {
				WARN(r, owner, s->type, "occluded by %s, not authoritative", cut);
				warned = true;
			}
		}
		return 0;
	}

	bool apex_dnskey_done = false;
	if (flags & ZG_NODE_APEX) {
		const zg_rrset_t *soa = zg_node_rrset(node, KNOT_RRTYPE_SOA);
		if (soa != NULL && soa->count > 1) {
			ERR(r, owner, KNOT_RRTYPE_SOA, "%u SOA records at the apex, expected one "
			    "(RFC 1035 5.2)", soa->count);
		}
		int ret = check_apex(v, w, owner, node, r, &apex_dnskey_done);
		if (ret != 0) {
			return ret;
		}
	}

	for (unsigned i = 0; i < cnt; i++) {
		const zg_rrset_t *s = zg_node_rrset_at(node, i);
		if (s->type == RT_RRSIG) {
			if (s->covered == RT_RRSIG) {
				ERR(r, owner, RT_RRSIG, MSG_RRSIG_RRSIG);
			} else if (zg_node_rrset(node, s->covered) == NULL) {
				ERR(r, owner, s->covered, "RRSIG without a matching RRset");
			} else if ((flags & ZG_NODE_DELEG) && s->covered == RT_NS) {
				ERR(r, owner, RT_NS, "delegation NS must not be signed");
			} else if ((flags & ZG_NODE_DELEG) && s->covered != RT_DS && s->covered != RT_NSEC) {
				ERR(r, owner, s->covered, "RRSIG on non-authoritative data at a delegation");
			}
			continue;
		}
		if (flags & ZG_NODE_DELEG) {
			if (s->type != RT_DS && s->type != RT_NSEC) {
				continue; /* NS and occluded data are not signed */
			}
		} else if (s->type == RT_DS && !(flags & ZG_NODE_APEX)) {
			ERR(r, owner, RT_DS, "DS at a name that is not a delegation");
		} else if (s->type == RT_DS) {
			ERR(r, owner, RT_DS, "DS at the zone apex belongs in the parent zone");
		}
		if (s->type == RT_DNSKEY && apex_dnskey_done) {
			continue;
		}
		if (s->type == RT_NSEC && v->mode == MODE_NSEC3) {
			WARN(r, owner, RT_NSEC, "NSEC record in a zone signed with NSEC3");
		}
		(void)tb;
		int ret = verify_rrset(v, w, owner, node, s, NULL, r);
		if (ret != 0) {
			return ret;
		}
	}

	if (v->mode == MODE_NSEC) {
		return check_nsec(v, owner, node, flags, r);
	}
	if (v->mode != MODE_NSEC3) {
		return 0;
	}
	/* Empty non-terminals between the predecessor and this node. */
	zg_node_t *prev = zg_node_prev(node);
	size_t klen = 0, boundary = 0;
	const uint8_t *key = zg_node_key(node, &klen);
	if (prev != NULL && !(flags & ZG_NODE_APEX)) {
		size_t plen;
		const uint8_t *pkey = zg_node_key(prev, &plen);
		size_t cp = 0;
		while (cp < plen && cp < klen && pkey[cp] == key[cp]) {
			cp++;
		}
		for (size_t i = 0; i < cp; i++) {
			if (key[i] == 0) {
				boundary = i + 1;
			}
		}
	} else {
		boundary = klen;  /* the apex, or no predecessor: no empty non-terminal */
	}
	for (size_t l = boundary; l + 1 < klen; l++) {
		if (key[l] != 0) {
			continue;
		}
		uint8_t ent[ZG_DNAME_MAXLEN];
		zg_key_to_dname(key, l + 1, ent);
		bool opt_ok = ent_only_insecure(node, key, l + 1);
		for (unsigned c = 0; c < v->nchains; c++) {
			int ret = check_nsec3_name(v, w, &v->chains[c], ent, NULL, 0, true, opt_ok, r);
			if (ret != 0) {
				return ret;
			}
		}
	}
	for (unsigned c = 0; c < v->nchains; c++) {
		int ret = check_nsec3_name(v, w, &v->chains[c], owner, node, flags, false, false, r);
		if (ret != 0) {
			return ret;
		}
	}
	return 0;
}

int zg_verify_node(zg_verifier_t *v, zg_verify_worker_t *w, zg_node_t *node, zg_report_t *report)
{
	if (canceled(v)) {
		return -ECANCELED;
	}
	if (zg_node_flags(node) & ZG_NODE_NSEC3) {
		return check_nsec3_node(v, w, node, false, report);
	}
	return check_name_node(v, w, node, report);
}

int zg_verify_node_unchanged(zg_verifier_t *v, zg_verify_worker_t *w, zg_node_t *node,
                             zg_report_t *report)
{
	w->trust_sigs = true;
	int ret = zg_verify_node(v, w, node, report);
	w->trust_sigs = false;
	return ret;
}

/* ---- ZONEMD ---- */

static int digest_node(zg_zonemd_hash_t **d, unsigned nd, zg_buf_t *buf, const zg_node_t *node,
                       bool apex)
{
	uint8_t owner[ZG_DNAME_MAXLEN];
	size_t olen = zg_node_owner(node, owner);
	for (unsigned i = 0; i < zg_node_rrset_count(node); i++) {
		const zg_rrset_t *s = zg_node_rrset_at(node, i);
		if (apex && (s->type == RT_ZONEMD || (s->type == RT_RRSIG && s->covered == RT_ZONEMD))) {
			continue;
		}
		size_t pos = 0;
		const uint8_t *rd = NULL;
		uint16_t len = 0;
		while (zg_rrset_next(s, &pos, &rd, &len)) {
			if (buf->cap - buf->len < olen + 10 + len) {
				for (unsigned k = 0; k < nd; k++) {
					zg_zonemd_hash_update(d[k], buf->data, buf->len);
				}
				buf->len = 0;
				int ret = zg_buf_reserve(buf, olen + 10 + len);
				if (ret != 0) {
					return ret;
				}
			}
			uint8_t *p = buf->data + buf->len;
			memcpy(p, owner, olen);
			p += olen;
			p[0] = (uint8_t)(s->type >> 8);
			p[1] = (uint8_t)s->type;
			p[2] = 0;
			p[3] = KNOT_CLASS_IN;
			p[4] = (uint8_t)(s->ttl >> 24);
			p[5] = (uint8_t)(s->ttl >> 16);
			p[6] = (uint8_t)(s->ttl >> 8);
			p[7] = (uint8_t)s->ttl;
			p[8] = (uint8_t)(len >> 8);
			p[9] = (uint8_t)len;
			memcpy(p + 10, rd, len);
			buf->len += olen + 10 + len;
		}
	}
	return 0;
}

int zg_verify_zonemd(zg_verifier_t *v, zg_report_t *r)
{
	zg_node_t *apex = zg_zone_apex(v->zone);
	const zg_rrset_t *zm = apex ? zg_node_rrset(apex, RT_ZONEMD) : NULL;
	if (zm == NULL) {
		return 0;
	}
	uint32_t serial = zg_zone_serial(v->zone, NULL);
	const uint8_t *want[2] = { NULL, NULL };
	uint16_t want_len[2] = { 0, 0 };
	size_t pos = 0;
	const uint8_t *rd = NULL;
	uint16_t len = 0;
	bool any_supported = false;
	while (zg_rrset_next(zm, &pos, &rd, &len)) {
		if (len < 6 + 12) {
			ERR(r, v->origin, RT_ZONEMD, "malformed ZONEMD record");
			continue;
		}
		uint8_t scheme = rd[4], alg = rd[5];
		if (scheme != 1 || (alg != 1 && alg != 2)) {
			continue;
		}
		any_supported = true;
		if (get32(rd) != serial) {
			ERR(r, v->origin, RT_ZONEMD, "ZONEMD serial %u differs from the SOA serial %u",
			    get32(rd), serial);
			continue;
		}
		if (want[alg - 1] != NULL) {
			ERR(r, v->origin, RT_ZONEMD, "more than one ZONEMD record with scheme 1 hash %u", alg);
			continue;
		}
		want[alg - 1] = rd + 6;
		want_len[alg - 1] = (uint16_t)(len - 6);
	}
	if (!any_supported) {
		WARN(r, v->origin, RT_ZONEMD, "no ZONEMD record with a supported scheme and hash algorithm");
		return 0;
	}
	if (v->opts.skip_zonemd || (want[0] == NULL && want[1] == NULL)) {
		return 0;
	}
	zg_zonemd_hash_t *d[2] = { NULL, NULL };
	uint8_t algs[2];
	unsigned nd = 0;
	for (unsigned a = 0; a < 2; a++) {
		if (want[a] != NULL) {
			int ret = zg_zonemd_hash_new(&d[nd], (uint8_t)(a + 1));
			if (ret != 0) {
				for (unsigned k = 0; k < nd; k++) {
					uint8_t tmp[64];
					zg_zonemd_hash_finish(d[k], tmp);
				}
				return ret;
			}
			algs[nd++] = (uint8_t)(a + 1);
		}
	}
	zg_buf_t buf;
	zg_buf_init(&buf);
	int ret = zg_buf_reserve(&buf, 1 << 20);
	/* Merge the name and NSEC3 trees in canonical order. */
	zg_node_t *a = zg_zone_first(v->zone), *b = zg_zone_nsec3_first(v->zone);
	for (size_t k = 0; ret == 0 && (a != NULL || b != NULL); k++) {
		if (k % CHUNK_NODES == 0 && canceled(v)) {
			ret = -ECANCELED;
			break;
		}
		zg_node_t *n;
		if (b == NULL) {
			n = a;
		} else if (a == NULL) {
			n = b;
		} else {
			size_t al, bl;
			const uint8_t *ak = zg_node_key(a, &al), *bk = zg_node_key(b, &bl);
			size_t m = al < bl ? al : bl;
			int c = memcmp(ak, bk, m);
			if (c == 0) {
				c = (al > bl) - (al < bl);
			}
			n = (c <= 0) ? a : b;
		}
		ret = digest_node(d, nd, &buf, n, n == apex);
		if (n == a) {
			a = zg_node_next(a);
		} else {
			b = zg_node_next(b);
		}
	}
	for (unsigned k = 0; k < nd; k++) {
		if (ret == 0) {
			zg_zonemd_hash_update(d[k], buf.data, buf.len);
		}
		uint8_t out[64];
		int dl = zg_zonemd_hash_finish(d[k], out);
		if (ret != 0) {
			continue;
		}
		unsigned a_i = algs[k] - 1u;
		if (dl < 0) {
			ret = dl;
		} else if (want_len[a_i] != (uint16_t)dl || memcmp(want[a_i], out, (size_t)dl) != 0) {
			if (zg_report_add(r, ZG_SEV_ERROR, v->origin, RT_ZONEMD,
			                  "digest mismatch (scheme 1, hash %s)",
			                  algs[k] == 1 ? "SHA-384" : "SHA-512") != 0) {
				ret = -ENOMEM;
			}
		}
	}
	zg_buf_deinit(&buf);
	return ret;
}

/* ---- whole zone, threads ---- */

typedef struct {
	zg_node_t *start;
	size_t count;
	zg_report_t rep;
} chunk_t;

typedef struct {
	zg_verifier_t *v;
	chunk_t *chunks;
	size_t nchunks;
	bool nsec3_phase;
	bool zonemd_job;
	zg_report_t zonemd_rep;
	/* Jobs are claimed in order under the lock; the node cursor moves one
	 * chunk per claim, so no thread walks the whole tree before the checks
	 * start. */
	pthread_mutex_t lock;
	size_t next;
	zg_node_t *cursor;
	int err;
} run_t;

/* Claims the next job: SIZE_MAX when none is left, otherwise its index
 * (the ZONEMD job first, then the chunks; chunk i is job i + zonemd_job). */
static size_t claim_job(run_t *run)
{
	size_t njobs = run->nchunks + (run->zonemd_job ? 1 : 0);
	pthread_mutex_lock(&run->lock);
	size_t i = run->next;
	if (i >= njobs) {
		pthread_mutex_unlock(&run->lock);
		return SIZE_MAX;
	}
	run->next++;
	if (!run->zonemd_job || i > 0) {
		size_t ci = i - (run->zonemd_job ? 1 : 0);
		/* The last chunk takes whatever is left. */
		size_t limit = (ci + 1 == run->nchunks) ? SIZE_MAX : CHUNK_NODES;
		chunk_t *c = &run->chunks[ci];
		c->start = run->cursor;
		c->count = 0;
		zg_node_t *n = run->cursor;
		while (n != NULL && c->count < limit) {
			n = zg_node_next(n);
			c->count++;
		}
		run->cursor = n;
	}
	pthread_mutex_unlock(&run->lock);
	return i;
}

static void *run_worker(void *arg)
{
	run_t *run = arg;
	zg_verify_worker_t *w = NULL;
	int ret = zg_verify_worker_new(&w);
	if (ret != 0) {
		__atomic_store_n(&run->err, ret, __ATOMIC_RELAXED);
		return NULL;
	}
	for (;;) {
		if (__atomic_load_n(&run->err, __ATOMIC_RELAXED) != 0) {
			break;
		}
		size_t i = claim_job(run);
		if (i == SIZE_MAX) {
			break;
		}
		if (run->zonemd_job) {
			if (i == 0) {
				ret = zg_verify_zonemd(run->v, &run->zonemd_rep);
				if (ret != 0) {
					__atomic_store_n(&run->err, ret, __ATOMIC_RELAXED);
				}
				continue;
			}
			i--;
		}
		chunk_t *c = &run->chunks[i];
		zg_node_t *n = c->start;
		for (size_t k = 0; k < c->count && n != NULL; k++, n = zg_node_next(n)) {
			if (canceled(run->v)) {
				__atomic_store_n(&run->err, -ECANCELED, __ATOMIC_RELAXED);
				break;
			}
			if (k % BATCH_NODES == 0 &&
			    (ret = prefetch_nodes(run->v, w, n, c->count - k < BATCH_NODES ?
			                          c->count - k : BATCH_NODES)) != 0) {
				__atomic_store_n(&run->err, ret, __ATOMIC_RELAXED);
				break;
			}
			ret = run->nsec3_phase ? check_nsec3_node(run->v, w, n, true, &c->rep)
			                       : check_name_node(run->v, w, n, &c->rep);
			if (ret != 0) {
				__atomic_store_n(&run->err, ret, __ATOMIC_RELAXED);
				break;
			}
		}
	}
	zg_verify_worker_free(w);
	return NULL;
}

/* Checks the nodes of one tree (\a count of them from \a first) in chunks
 * spread over the threads; reports are merged in tree order. */
static int run_phase(zg_verifier_t *v, zg_node_t *first, size_t count, bool nsec3,
                     bool zonemd, zg_report_t *report)
{
	run_t run = { .v = v, .nsec3_phase = nsec3, .zonemd_job = zonemd, .cursor = first };
	run.nchunks = (count + CHUNK_NODES - 1) / CHUNK_NODES;
	run.chunks = calloc(run.nchunks ? run.nchunks : 1, sizeof(chunk_t));
	if (run.chunks == NULL) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < run.nchunks; i++) {
		zg_report_init(&run.chunks[i].rep);
	}
	zg_report_init(&run.zonemd_rep);
	pthread_mutex_init(&run.lock, NULL);

	unsigned nthreads = v->opts.threads;
	if (nthreads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		nthreads = n > 0 ? (unsigned)n : 1;
	}
	size_t njobs = run.nchunks + (zonemd ? 1 : 0);
	if (nthreads > njobs) {
		nthreads = njobs > 0 ? (unsigned)njobs : 1;
	}
	if (nthreads > 256) {
		nthreads = 256;
	}
	pthread_t tids[256];
	unsigned started = 0;
	for (unsigned i = 1; i < nthreads; i++) {
		if (pthread_create(&tids[started], NULL, run_worker, &run) != 0) {
			break;
		}
		started++;
	}
	run_worker(&run);
	for (unsigned i = 0; i < started; i++) {
		pthread_join(tids[i], NULL);
	}
	pthread_mutex_destroy(&run.lock);
	int ret = run.err;
	for (size_t i = 0; i < run.nchunks; i++) {
		if (ret == 0) {
			ret = zg_report_merge(report, &run.chunks[i].rep);
		}
		zg_report_deinit(&run.chunks[i].rep);
	}
	if (ret == 0) {
		ret = zg_report_merge(report, &run.zonemd_rep);
	}
	zg_report_deinit(&run.zonemd_rep);
	free(run.chunks);
	return ret;
}

int zg_verify_zone(zg_verifier_t *v, zg_report_t *report)
{
	if (canceled(v)) {
		return -ECANCELED;
	}
	size_t names = 0, nsec3 = 0;
	zg_zone_counts(v->zone, &names, &nsec3, NULL);
	/* Only NSEC3 nodes are marked (by the name checks, read by the NSEC3
	 * checks): without them there is nothing to clear. */
	if (nsec3 > 0) {
		zg_zone_clear_marks((zg_zone_t *)v->zone);
	}
	int ret = run_phase(v, zg_zone_first(v->zone), names, false, true, report);
	if (ret == 0) {
		ret = run_phase(v, zg_zone_nsec3_first(v->zone), nsec3, true, false, report);
	}
	return ret;
}

/* ---- DS file ---- */

typedef struct {
	const uint8_t *origin;
	zg_buf_t *out;
	uint16_t count;
	zg_load_error_t *err;
	int ret;
} ds_ctx_t;

static void ds_fail(zs_scanner_t *s, ds_ctx_t *c, int ret, const char *reason)
{
	if (c->ret == 0) {
		c->ret = ret;
		if (c->err != NULL) {
			snprintf(c->err->file, sizeof(c->err->file), "%s", s->file.name ? s->file.name : "");
			c->err->line = s->line_counter;
			snprintf(c->err->reason, sizeof(c->err->reason), "%s", reason);
		}
	}
	s->state = ZS_STATE_STOP;
}

static void ds_on_error(zs_scanner_t *s)
{
	ds_fail(s, s->process.data, ZG_ESYNTAX, zs_strerror(s->error.code));
}

static void ds_on_record(zs_scanner_t *s)
{
	ds_ctx_t *c = s->process.data;
	if (s->r_type != RT_DS) {
		ds_fail(s, c, ZG_EINPUT, "only DS records are allowed in a DS file");
		return;
	}
	uint8_t a[ZG_KEY_MAXLEN], b[ZG_KEY_MAXLEN];
	size_t al = zg_dname_key(s->r_owner, a), bl = zg_dname_key(c->origin, b);
	if (al != bl || memcmp(a, b, al) != 0) {
		ds_fail(s, c, ZG_EINPUT, "DS owner is not the zone apex");
		return;
	}
	uint16_t l = (uint16_t)s->r_data_length;
	if (zg_buf_append(c->out, &l, 2) != 0 || zg_buf_append(c->out, s->r_data, l) != 0) {
		ds_fail(s, c, -ENOMEM, "out of memory");
		return;
	}
	c->count++;
}

int zg_ds_load_file(const char *path, const uint8_t *origin, zg_buf_t *out, uint16_t *count,
                    zg_load_error_t *err)
{
	*count = 0;
	int ret = zg_zone_file_check(path, err);
	if (ret != 0) {
		return ret;
	}
	if (err != NULL) {
		memset(err, 0, sizeof(*err));
		snprintf(err->file, sizeof(err->file), "%s", path);
	}
	char otxt[1024];
	zg_dname_str(origin, otxt, sizeof(otxt));
	zs_scanner_t *s = malloc(sizeof(*s));
	if (s == NULL) {
		return -ENOMEM;
	}
	ds_ctx_t c = { .origin = origin, .out = out, .err = err };
	if (zs_init(s, otxt, KNOT_CLASS_IN, 3600) != 0 || zs_set_input_file(s, path) != 0 ||
	    zs_set_processing(s, ds_on_record, ds_on_error, &c) != 0) {
		if (err != NULL) {
			snprintf(err->reason, sizeof(err->reason), "%s", zs_strerror(s->error.code));
		}
		ret = (s->error.code == ZS_FILE_OPEN || s->error.code == ZS_FILE_ACCESS) ? -ENOENT
		                                                                          : ZG_ESYNTAX;
	} else {
		int pr = zs_parse_all(s);
		ret = c.ret;
		if (ret == 0 && pr != 0) {
			ret = ZG_ESYNTAX;
			if (err != NULL) {
				err->line = s->line_counter;
				snprintf(err->reason, sizeof(err->reason), "%s", zs_strerror(s->error.code));
			}
		}
	}
	zs_deinit(s);
	free(s);
	if (ret == 0 && c.count == 0) {
		if (err != NULL) {
			snprintf(err->reason, sizeof(err->reason), "no DS record found");
		}
		ret = ZG_EINPUT;
	}
	*count = c.count;
	return ret;
}
