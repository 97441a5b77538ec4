/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libdnssec/random.h>
#include <libknot/consts.h>
#include <libknot/descriptor.h>
#include <libknot/dname.h>
#include <libknot/errcode.h>
#include <openssl/evp.h>

#include "core/error.h"
#include "dns/dname.h"
#include "validate/digest.h"

/* SHA-256 block: the key is padded to one block, hashed once, and every
 * record hash starts from a copy of that state. */
#define KEY_BLOCK 64

struct zg_digest_ctx {
	EVP_MD_CTX *keyed;     /* SHA-256 after the key block. */
	EVP_MD_CTX *work;
	uint8_t buf[KNOT_DNAME_MAXLEN + 10 + 65535];  /* One record, encoded. */
};

int zg_digest_ctx_new(zg_digest_ctx_t **out, const uint8_t key[ZG_DIGEST_KEY_LEN])
{
	zg_digest_ctx_t *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		return -ENOMEM;
	}
	uint8_t block[KEY_BLOCK] = { 0 };
	memcpy(block, key, ZG_DIGEST_KEY_LEN);
	c->keyed = EVP_MD_CTX_new();
	c->work = EVP_MD_CTX_new();
	if (c->keyed == NULL || c->work == NULL ||
	    EVP_DigestInit_ex(c->keyed, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(c->keyed, block, sizeof(block)) != 1) {
		zg_digest_ctx_free(c);
		return -ENOMEM;
	}
	*out = c;
	return 0;
}

void zg_digest_ctx_free(zg_digest_ctx_t *ctx)
{
	if (ctx != NULL) {
		EVP_MD_CTX_free(ctx->keyed);
		EVP_MD_CTX_free(ctx->work);
		free(ctx);
	}
}

int zg_digest_key_new(uint8_t key[ZG_DIGEST_KEY_LEN])
{
	return dnssec_random_buffer(key, ZG_DIGEST_KEY_LEN);
}

/* d += h or d -= h, modulo 2^256 (h: 32 bytes, big-endian limbs read as
 * they come; any fixed reading is fine as long as it is always the same). */
static void sum(zg_digest_t *d, const uint8_t h[32], bool add)
{
	unsigned __int128 carry = 0;
	for (int i = 0; i < 4; i++) {
		uint64_t v = 0;
		for (int k = 0; k < 8; k++) {
			v = v << 8 | h[i * 8 + k];
		}
		if (add) {
			carry += (unsigned __int128)d->w[i] + v;
			d->w[i] = (uint64_t)carry;
			carry >>= 64;
		} else {
			/* Subtract with borrow: d - v - borrow. */
			unsigned __int128 sub = (unsigned __int128)v + carry;
			carry = (unsigned __int128)d->w[i] < sub ? 1 : 0;
			d->w[i] = (uint64_t)((unsigned __int128)d->w[i] - sub);
		}
	}
}

/* Hashes ctx->buf[0..len) (one encoded record) into d. */
static int hash_record(zg_digest_ctx_t *ctx, zg_digest_t *d, bool add, size_t len)
{
	uint8_t h[32];
	unsigned hl = 0;
	if (EVP_MD_CTX_copy_ex(ctx->work, ctx->keyed) != 1 ||
	    EVP_DigestUpdate(ctx->work, ctx->buf, len) != 1 ||
	    EVP_DigestFinal_ex(ctx->work, h, &hl) != 1 || hl != sizeof(h)) {
		return -ENOMEM;
	}
	sum(d, h, add);
	return 0;
}

/* Encodes owner | type | TTL (0 for RRSIG) | rdlen into ctx->buf; returns the
 * offset of the rdata. */
static size_t encode_head(zg_digest_ctx_t *ctx, const uint8_t *owner, size_t olen,
                          uint16_t type, uint32_t ttl, uint16_t rdlen)
{
	uint8_t *p = ctx->buf;
	memcpy(p, owner, olen);
	p += olen;
	if (type == KNOT_RRTYPE_RRSIG) {
		ttl = 0;
	}
	p[0] = (uint8_t)(type >> 8);
	p[1] = (uint8_t)type;
	p[2] = (uint8_t)(ttl >> 24);
	p[3] = (uint8_t)(ttl >> 16);
	p[4] = (uint8_t)(ttl >> 8);
	p[5] = (uint8_t)ttl;
	p[6] = (uint8_t)(rdlen >> 8);
	p[7] = (uint8_t)rdlen;
	return olen + 8;
}

int zg_digest_rr(zg_digest_ctx_t *ctx, zg_digest_t *d, bool add, const uint8_t *owner,
                 uint16_t type, uint32_t ttl, const uint8_t *rdata, uint16_t rdlen)
{
	size_t olen = zg_dname_len(owner, KNOT_DNAME_MAXLEN);
	if (olen == 0 || (rdata == NULL && rdlen > 0)) {
		return KNOT_EMALF;
	}
	size_t off = encode_head(ctx, owner, olen, type, ttl, rdlen);
	zg_dname_lower(ctx->buf);
	if (rdlen > 0) {
		memcpy(ctx->buf + off, rdata, rdlen);
	}
	if (zg_rdata_to_canonical(type, ctx->buf + off, rdlen) != 0) {
		return KNOT_EMALF;
	}
	return hash_record(ctx, d, add, off + rdlen);
}

int zg_digest_rrset(zg_digest_ctx_t *ctx, zg_digest_t *d, bool add, const uint8_t *owner,
                    const zg_rrset_t *set)
{
	size_t olen = zg_dname_len(owner, KNOT_DNAME_MAXLEN);
	if (olen == 0) {
		return KNOT_EMALF;
	}
	const uint8_t *rd = NULL;
	uint16_t len = 0;
	size_t pos = 0;
	while (zg_rrset_next(set, &pos, &rd, &len)) {
		size_t off = encode_head(ctx, owner, olen, set->type, set->ttl, len);
		memcpy(ctx->buf + off, rd, len);
		int ret = hash_record(ctx, d, add, off + len);
		if (ret != 0) {
			return ret;
		}
	}
	return 0;
}

static int digest_tree(zg_digest_ctx_t *ctx, zg_node_t *n, zg_digest_t *out)
{
	uint8_t owner[KNOT_DNAME_MAXLEN];
	for (; n != NULL; n = zg_node_next(n)) {
		zg_node_owner(n, owner);
		unsigned cnt = zg_node_rrset_count(n);
		for (unsigned i = 0; i < cnt; i++) {
			int ret = zg_digest_rrset(ctx, out, true, owner, zg_node_rrset_at(n, i));
			if (ret != 0) {
				return ret;
			}
		}
	}
	return 0;
}

int zg_digest_zone(zg_digest_ctx_t *ctx, const zg_zone_t *zone, zg_digest_t *out)
{
	memset(out, 0, sizeof(*out));
	int ret = digest_tree(ctx, zg_zone_first(zone), out);
	if (ret == 0) {
		ret = digest_tree(ctx, zg_zone_nsec3_first(zone), out);
	}
	return ret;
}

bool zg_digest_equal(const zg_digest_t *a, const zg_digest_t *b)
{
	return memcmp(a->w, b->w, sizeof(a->w)) == 0;
}

char *zg_digest_str(const zg_digest_t *d, char *buf, size_t len)
{
	if (len < ZG_DIGEST_STR_LEN + 1) {
		if (len > 0) {
			buf[0] = '\0';
		}
		return buf;
	}
	/* Most significant limb first. */
	for (int i = 0; i < 4; i++) {
		snprintf(buf + i * 16, 17, "%016llx", (unsigned long long)d->w[3 - i]);
	}
	return buf;
}

int zg_digest_parse(const char *text, zg_digest_t *out)
{
	if (text == NULL || strlen(text) != ZG_DIGEST_STR_LEN) {
		return ZG_EINPUT;
	}
	zg_digest_t d;
	for (int i = 0; i < 4; i++) {
		uint64_t v = 0;
		for (int k = 0; k < 16; k++) {
			char c = text[i * 16 + k];
			int x = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
			        c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
			if (x < 0) {
				return ZG_EINPUT;
			}
			v = v << 4 | (uint64_t)x;
		}
		d.w[3 - i] = v;
	}
	*out = d;
	return 0;
}

/* ---- the digest of a transfer answer ---- */

static int stream_full(void *arg, const uint8_t *owner, uint16_t type, uint32_t ttl,
                       const uint8_t *rdata, uint16_t rdlen, char *reason, size_t rlen)
{
	zg_digest_stream_t *s = arg;
	if (knot_dname_in_bailiwick(owner, s->stream.zone) < 0) {
		return 0;  /* Not stored by receivers. */
	}
	int ret = zg_digest_rr(s->ctx, &s->sum, true, owner, type, ttl, rdata, rdlen);
	return ret == 0 ? 0 : zg_reason(reason, rlen, ret, "record not summed (%s)", zg_strerror(ret));
}

static int stream_change(void *arg, bool add, const uint8_t *owner, uint16_t type, uint32_t ttl,
                         const uint8_t *rdata, uint16_t rdlen, char *reason, size_t rlen)
{
	zg_digest_stream_t *s = arg;
	if (!s->based) {
		/* The first change removes the SOA of the serial asked from. */
		if (s->base == NULL || !s->base(s->base_arg, s->stream.from, &s->sum)) {
			return zg_reason(reason, rlen, ZG_ENOTSUP, "no content digest of serial %u, the "
			           "base of the incremental answer", s->stream.from);
		}
		s->based = true;
	}
	if (knot_dname_in_bailiwick(owner, s->stream.zone) < 0) {
		return 0;
	}
	int ret = zg_digest_rr(s->ctx, &s->sum, add, owner, type, ttl, rdata, rdlen);
	return ret == 0 ? 0 : zg_reason(reason, rlen, ret, "record not summed (%s)", zg_strerror(ret));
}

static const zg_xfr_sink_t stream_sink = { .full_rr = stream_full, .change = stream_change };

void zg_digest_stream_init(zg_digest_stream_t *s, zg_digest_ctx_t *ctx, const uint8_t *zone,
                           bool axfr, uint32_t serial,
                           bool (*base)(void *arg, uint32_t serial, zg_digest_t *out),
                           void *base_arg)
{
	memset(s, 0, sizeof(*s));
	s->ctx = ctx;
	s->base = base;
	s->base_arg = base_arg;
	zg_xfr_stream_init(&s->stream, zone, axfr, serial, &stream_sink, s);
}

int zg_digest_stream_rr(zg_digest_stream_t *s, const uint8_t *owner, uint16_t type,
                        uint32_t ttl, const uint8_t *rdata, uint16_t rdlen,
                        char *reason, size_t rlen)
{
	return zg_xfr_stream_rr(&s->stream, owner, type, ttl, rdata, rdlen, reason, rlen);
}
