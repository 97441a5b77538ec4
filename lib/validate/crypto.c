/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include <libdnssec/error.h>
#include <libknot/consts.h>
#include <libknot/descriptor.h>
#include <libknot/errcode.h>

#include "validate/crypto.h"
#include "validate/p256.h"
#include "core/error.h"

#define CACHE_SIZE 16

struct zg_key {
	EVP_PKEY *pkey;
	uint64_t id;          /* unique per process, for the per-thread cache */
	uint16_t tag;
	uint16_t flags;
	uint8_t alg;
	uint8_t sig_len;      /* fixed signature size for ECDSA/EdDSA, 0 for RSA */
	bool native;          /* algorithm 13 on the native verifier (p256) */
	zg_p256_key_t p256;
};

/* A queued signature (zg_crypto_batch_add()). */
typedef struct {
	const zg_key_t *key;
	uint8_t digest[32];
	uint8_t sig[64];
	int ret;
} batch_item_t;

struct zg_crypto_ctx {
	EVP_MD_CTX *md;
	EVP_MD *sha1, *sha256, *sha384, *sha512;
	struct {
		uint64_t id;
		EVP_PKEY_CTX *pctx;
	} cache[CACHE_SIZE];
	unsigned cache_next;
	batch_item_t *batch;
	zg_p256_job_t *jobs;
	size_t batch_len, batch_cap;
};

static uint64_t key_ids;

static bool p256_env_native = true;
static pthread_once_t p256_env_once = PTHREAD_ONCE_INIT;

static void p256_env_read(void)
{
	const char *v = getenv(ZG_P256_ENV);
	p256_env_native = v == NULL || strcmp(v, "openssl") != 0;
}

bool zg_crypto_p256_native(void)
{
	pthread_once(&p256_env_once, p256_env_read);
	return p256_env_native;
}

bool zg_alg_supported(uint8_t alg)
{
	switch (alg) {
	case 5: case 7: case 8: case 10: case 13: case 14: case 15: case 16:
		return true;
	default:
		return false;
	}
}

uint16_t zg_dnskey_tag(const uint8_t *rdata, size_t len)
{
	uint32_t ac = 0;
	for (size_t i = 0; i < len; i++) {
		ac += (i & 1) ? rdata[i] : (uint32_t)rdata[i] << 8;
	}
	ac += (ac >> 16) & 0xFFFF;
	return (uint16_t)(ac & 0xFFFF);
}

static EVP_PKEY *pkey_from_params(const char *name, OSSL_PARAM_BLD *bld)
{
	EVP_PKEY *pkey = NULL;
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(NULL, name, NULL);
	if (params != NULL && pctx != NULL && EVP_PKEY_fromdata_init(pctx) == 1) {
		if (EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
			pkey = NULL;
		}
	}
	EVP_PKEY_CTX_free(pctx);
	OSSL_PARAM_free(params);
	return pkey;
}

static EVP_PKEY *rsa_key(const uint8_t *p, size_t len)
{
	if (len < 3) {
		return NULL;
	}
	size_t elen, off;
	if (p[0] != 0) {
		elen = p[0];
		off = 1;
	} else {
		elen = (size_t)p[1] << 8 | p[2];
		off = 3;
	}
	if (elen == 0 || off + elen >= len) {
		return NULL;
	}
	BIGNUM *e = BN_bin2bn(p + off, (int)elen, NULL);
	BIGNUM *n = BN_bin2bn(p + off + elen, (int)(len - off - elen), NULL);
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	EVP_PKEY *pkey = NULL;
	if (e != NULL && n != NULL && bld != NULL &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) == 1 &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) == 1) {
		pkey = pkey_from_params("RSA", bld);
	}
	OSSL_PARAM_BLD_free(bld);
	BN_free(e);
	BN_free(n);
	return pkey;
}

static EVP_PKEY *ec_key(const char *group, const uint8_t *p, size_t len)
{
	uint8_t point[1 + 96];
	if (len > 96) {
		return NULL;
	}
	point[0] = 0x04;
	memcpy(point + 1, p, len);
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	EVP_PKEY *pkey = NULL;
	if (bld != NULL &&
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) == 1 &&
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, len + 1) == 1) {
		pkey = pkey_from_params("EC", bld);
	}
	OSSL_PARAM_BLD_free(bld);
	return pkey;
}

int zg_key_new(zg_key_t **out, const uint8_t *rdata, size_t len)
{
	if (len < 4) {
		return KNOT_EMALF;
	}
	uint8_t alg = rdata[3];
	if (!zg_alg_supported(alg)) {
		return ZG_ENOTSUP;
	}
	const uint8_t *pub = rdata + 4;
	size_t plen = len - 4;
	EVP_PKEY *pkey = NULL;
	uint8_t sig_len = 0;
	switch (alg) {
	case 5: case 7: case 8: case 10:
		pkey = rsa_key(pub, plen);
		break;
	case 13:
		pkey = (plen == 64) ? ec_key("prime256v1", pub, plen) : NULL;
		sig_len = 64;
		break;
	case 14:
		pkey = (plen == 96) ? ec_key("secp384r1", pub, plen) : NULL;
		sig_len = 96;
		break;
	case 15:
		pkey = (plen == 32) ? EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, plen) : NULL;
		sig_len = 64;
		break;
	case 16:
		pkey = (plen == 57) ? EVP_PKEY_new_raw_public_key(EVP_PKEY_ED448, NULL, pub, plen) : NULL;
		sig_len = 114;
		break;
	}
	if (pkey == NULL) {
		ERR_clear_error();
		return KNOT_EMALF;
	}
	zg_key_t *key = calloc(1, sizeof(*key));
	if (key == NULL) {
		EVP_PKEY_free(pkey);
		return -ENOMEM;
	}
	key->pkey = pkey;
	key->id = __atomic_add_fetch(&key_ids, 1, __ATOMIC_RELAXED);
	key->tag = zg_dnskey_tag(rdata, len);
	key->flags = (uint16_t)(rdata[0] << 8 | rdata[1]);
	key->alg = alg;
	key->sig_len = sig_len;
	/* OpenSSL accepted the point; the native verifier checks it again and
	 * leaves the key to OpenSSL should it ever disagree. */
	key->native = alg == 13 && zg_crypto_p256_native() &&
	              zg_p256_key_parse(&key->p256, pub) == 0;
	*out = key;
	return 0;
}

void zg_key_use_openssl(zg_key_t *key)
{
	key->native = false;
}

bool zg_key_native(const zg_key_t *key)
{
	return key->native;
}

void zg_key_free(zg_key_t *key)
{
	if (key != NULL) {
		EVP_PKEY_free(key->pkey);
		free(key);
	}
}

uint16_t zg_key_tag(const zg_key_t *key)
{
	return key->tag;
}

uint8_t zg_key_alg(const zg_key_t *key)
{
	return key->alg;
}

uint16_t zg_key_flags(const zg_key_t *key)
{
	return key->flags;
}

int zg_crypto_ctx_new(zg_crypto_ctx_t **out)
{
	zg_crypto_ctx_t *ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		return -ENOMEM;
	}
	ctx->md = EVP_MD_CTX_new();
	ctx->sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
	ctx->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	ctx->sha384 = EVP_MD_fetch(NULL, "SHA384", NULL);
	ctx->sha512 = EVP_MD_fetch(NULL, "SHA512", NULL);
	if (ctx->md == NULL || ctx->sha1 == NULL || ctx->sha256 == NULL ||
	    ctx->sha384 == NULL || ctx->sha512 == NULL) {
		zg_crypto_ctx_free(ctx);
		return -ENOMEM;
	}
	*out = ctx;
	return 0;
}

void zg_crypto_ctx_free(zg_crypto_ctx_t *ctx)
{
	if (ctx == NULL) {
		return;
	}
	for (unsigned i = 0; i < CACHE_SIZE; i++) {
		EVP_PKEY_CTX_free(ctx->cache[i].pctx);
	}
	EVP_MD_CTX_free(ctx->md);
	EVP_MD_free(ctx->sha1);
	EVP_MD_free(ctx->sha256);
	EVP_MD_free(ctx->sha384);
	EVP_MD_free(ctx->sha512);
	free(ctx->batch);
	free(ctx->jobs);
	free(ctx);
}

static EVP_MD *alg_md(zg_crypto_ctx_t *ctx, uint8_t alg)
{
	switch (alg) {
	case 5: case 7: return ctx->sha1;
	case 8: case 13: return ctx->sha256;
	case 14: return ctx->sha384;
	case 10: return ctx->sha512;
	default: return NULL;
	}
}

static EVP_PKEY_CTX *pctx_get(zg_crypto_ctx_t *ctx, const zg_key_t *key, EVP_MD *md)
{
	for (unsigned i = 0; i < CACHE_SIZE; i++) {
		if (ctx->cache[i].id == key->id && ctx->cache[i].pctx != NULL) {
			return ctx->cache[i].pctx;
		}
	}
	EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL);
	if (pctx == NULL || EVP_PKEY_verify_init(pctx) != 1) {
		EVP_PKEY_CTX_free(pctx);
		return NULL;
	}
	if (key->sig_len == 0) {
		if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1 ||
		    EVP_PKEY_CTX_set_signature_md(pctx, md) != 1) {
			EVP_PKEY_CTX_free(pctx);
			return NULL;
		}
	}
	unsigned slot = ctx->cache_next++ % CACHE_SIZE;
	EVP_PKEY_CTX_free(ctx->cache[slot].pctx);
	ctx->cache[slot].id = key->id;
	ctx->cache[slot].pctx = pctx;
	return pctx;
}

/* Raw r||s to DER SEQUENCE { INTEGER r, INTEGER s }. */
static size_t ecdsa_der(const uint8_t *sig, size_t siglen, uint8_t *der)
{
	size_t half = siglen / 2;
	uint8_t ints[2][1 + 48 + 2];
	size_t ilen[2];
	for (int k = 0; k < 2; k++) {
		const uint8_t *v = sig + k * half;
		size_t n = half;
		while (n > 1 && *v == 0) {
			v++;
			n--;
		}
		size_t o = 0;
		ints[k][o++] = 0x02;
		bool pad = (v[0] & 0x80) != 0;
		ints[k][o++] = (uint8_t)(n + pad);
		if (pad) {
			ints[k][o++] = 0;
		}
		memcpy(ints[k] + o, v, n);
		ilen[k] = o + n;
	}
	size_t body = ilen[0] + ilen[1];
	size_t o = 0;
	der[o++] = 0x30;
	if (body >= 128) {
		der[o++] = 0x81;
	}
	der[o++] = (uint8_t)body;
	memcpy(der + o, ints[0], ilen[0]);
	memcpy(der + o + ilen[0], ints[1], ilen[1]);
	return o + body;
}

/* Digest of \a data with the key's hash; returns its length or -ENOMEM. */
static int key_digest(zg_crypto_ctx_t *ctx, EVP_MD *md, const uint8_t *data, size_t len,
                      uint8_t *digest)
{
	unsigned dlen = 0;
	if (EVP_DigestInit_ex2(ctx->md, md, NULL) != 1 ||
	    EVP_DigestUpdate(ctx->md, data, len) != 1 ||
	    EVP_DigestFinal_ex(ctx->md, digest, &dlen) != 1) {
		ERR_clear_error();
		return -ENOMEM;
	}
	return (int)dlen;
}

/* Verifies a signature over a digest with OpenSSL (RSA, ECDSA). */
static int openssl_verify_digest(zg_crypto_ctx_t *ctx, const zg_key_t *key, EVP_MD *md,
                                 const uint8_t *digest, size_t dlen, const uint8_t *sig,
                                 size_t siglen)
{
	EVP_PKEY_CTX *pctx = pctx_get(ctx, key, md);
	if (pctx == NULL) {
		ERR_clear_error();
		return -ENOMEM;
	}
	int r;
	if (key->sig_len != 0) {
		uint8_t der[2 * (48 + 3) + 3];
		size_t dl = ecdsa_der(sig, siglen, der);
		r = EVP_PKEY_verify(pctx, der, dl, digest, dlen);
	} else {
		r = EVP_PKEY_verify(pctx, sig, siglen, digest, dlen);
	}
	if (r == 1) {
		return 0;
	}
	ERR_clear_error();
	return DNSSEC_INVALID_SIGNATURE;
}

int zg_crypto_verify(zg_crypto_ctx_t *ctx, const zg_key_t *key, const uint8_t *data,
                     size_t len, const uint8_t *sig, size_t siglen)
{
	if (key->sig_len != 0 && siglen != key->sig_len) {
		return DNSSEC_MALFORMED_DATA;
	}
	if (key->alg == 15 || key->alg == 16) {
		if (EVP_DigestVerifyInit_ex(ctx->md, NULL, NULL, NULL, NULL, key->pkey, NULL) != 1) {
			ERR_clear_error();
			return -ENOMEM;
		}
		int r = EVP_DigestVerify(ctx->md, sig, siglen, data, len);
		EVP_MD_CTX_reset(ctx->md);
		if (r == 1) {
			return 0;
		}
		ERR_clear_error();
		return DNSSEC_INVALID_SIGNATURE;
	}
	EVP_MD *md = alg_md(ctx, key->alg);
	if (md == NULL) {
		return ZG_ENOTSUP;
	}
	uint8_t digest[EVP_MAX_MD_SIZE];
	int dlen = key_digest(ctx, md, data, len, digest);
	if (dlen < 0) {
		return dlen;
	}
	if (key->native) {
		int r = zg_p256_verify(&key->p256, digest, sig);
		if (r != -EAGAIN) {
			return r;
		}
	}
	return openssl_verify_digest(ctx, key, md, digest, (size_t)dlen, sig, siglen);
}

int zg_crypto_batch_add(zg_crypto_ctx_t *ctx, const zg_key_t *key, const uint8_t *data,
                        size_t len, const uint8_t *sig, size_t siglen)
{
	if (!key->native || siglen != 64) {
		return ZG_ENOTSUP;
	}
	if (ctx->batch_len == ctx->batch_cap) {
		size_t cap = ctx->batch_cap ? 2 * ctx->batch_cap : 256;
		batch_item_t *b = realloc(ctx->batch, cap * sizeof(*b));
		if (b == NULL) {
			return -ENOMEM;
		}
		ctx->batch = b;
		zg_p256_job_t *j = realloc(ctx->jobs, cap * sizeof(*j));
		if (j == NULL) {
			return -ENOMEM;
		}
		ctx->jobs = j;
		ctx->batch_cap = cap;
	}
	if (ctx->batch_len >= INT_MAX) {
		return -ENOMEM;
	}
	batch_item_t *it = &ctx->batch[ctx->batch_len];
	int dlen = key_digest(ctx, ctx->sha256, data, len, it->digest);
	if (dlen < 0) {
		return dlen;
	}
	it->key = key;
	memcpy(it->sig, sig, 64);
	it->ret = -EAGAIN;
	return (int)ctx->batch_len++;
}

void zg_crypto_batch_run(zg_crypto_ctx_t *ctx)
{
	for (size_t i = 0; i < ctx->batch_len; i++) {
		batch_item_t *it = &ctx->batch[i];
		ctx->jobs[i] = (zg_p256_job_t){ .key = &it->key->p256, .digest = it->digest,
		                                .sig = it->sig };
	}
	zg_p256_verify_batch(ctx->jobs, ctx->batch_len);
	for (size_t i = 0; i < ctx->batch_len; i++) {
		batch_item_t *it = &ctx->batch[i];
		it->ret = ctx->jobs[i].ret;
		if (it->ret == -EAGAIN) {
			it->ret = openssl_verify_digest(ctx, it->key, ctx->sha256, it->digest, 32,
			                                it->sig, 64);
		}
	}
}

int zg_crypto_batch_result(const zg_crypto_ctx_t *ctx, size_t index)
{
	return index < ctx->batch_len ? ctx->batch[index].ret : KNOT_EINVAL;
}

void zg_crypto_batch_clear(zg_crypto_ctx_t *ctx)
{
	ctx->batch_len = 0;
}

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

int zg_rrsig_signed_data(zg_buf_t *buf, const uint8_t *owner, const zg_rrset_t *rrset,
                         const uint8_t *rrsig, size_t signer_len)
{
	buf->len = 0;
	uint8_t name[ZG_DNAME_MAXLEN];
	size_t olen = zg_dname_len(owner, ZG_DNAME_MAXLEN);
	unsigned labels = rrsig[3];
	unsigned have = zg_dname_labels(owner);
	bool wild = owner[0] == 1 && owner[1] == '*';
	if (labels > have - (wild ? 1 : 0)) {
		return KNOT_EMALF;
	}
	if (labels < have) {
		/* Wildcard expansion: "*." + the rightmost `labels` labels. */
		const uint8_t *p = owner;
		for (unsigned i = 0; i < have - labels; i++) {
			p += *p + 1;
		}
		name[0] = 1;
		name[1] = '*';
		size_t rest = olen - (size_t)(p - owner);
		memcpy(name + 2, p, rest);
		owner = name;
		olen = rest + 2;
	}
	size_t head = 18 + signer_len;
	size_t need = head + rrset->count * (olen + 10) + rrset->size;
	int ret = zg_buf_reserve(buf, need);
	if (ret != 0) {
		return ret;
	}
	uint8_t *w = buf->data;
	memcpy(w, rrsig, head);
	w += head;
	const uint8_t *ttl = rrsig + 4;
	size_t pos = 0;
	const uint8_t *rd = NULL;
	uint16_t len = 0;
	while (zg_rrset_next(rrset, &pos, &rd, &len)) {
		memcpy(w, owner, olen);
		w += olen;
		put16(w, rrset->type);
		put16(w + 2, KNOT_CLASS_IN);
		memcpy(w + 4, ttl, 4);
		put16(w + 8, len);
		memcpy(w + 10, rd, len);
		w += 10 + (size_t)len;
	}
	buf->len = (size_t)(w - buf->data);
	return 0;
}

int zg_ds_match(const uint8_t *ds, size_t dslen, const uint8_t *owner,
                const uint8_t *dnskey, size_t dnskeylen)
{
	if (dslen < 5 || dnskeylen < 4) {
		return KNOT_EMALF;
	}
	uint16_t tag = (uint16_t)(ds[0] << 8 | ds[1]);
	if (tag != zg_dnskey_tag(dnskey, dnskeylen) || ds[2] != dnskey[3]) {
		return ZG_EVALIDATION;
	}
	const char *mdname;
	switch (ds[3]) {
	case 1: mdname = "SHA1"; break;
	case 2: mdname = "SHA256"; break;
	case 4: mdname = "SHA384"; break;
	default: return ZG_ENOTSUP;
	}
	uint8_t name[ZG_DNAME_MAXLEN];
	size_t olen = zg_dname_len(owner, ZG_DNAME_MAXLEN);
	if (olen == 0) {
		return KNOT_EMALF;
	}
	memcpy(name, owner, olen);
	zg_dname_lower(name);
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	uint8_t digest[EVP_MAX_MD_SIZE];
	unsigned dlen = 0;
	int ok = c != NULL && EVP_DigestInit_ex2(c, EVP_get_digestbyname(mdname), NULL) == 1 &&
	         EVP_DigestUpdate(c, name, olen) == 1 &&
	         EVP_DigestUpdate(c, dnskey, dnskeylen) == 1 &&
	         EVP_DigestFinal_ex(c, digest, &dlen) == 1;
	EVP_MD_CTX_free(c);
	if (!ok) {
		ERR_clear_error();
		return -ENOMEM;
	}
	if (dslen - 4 != dlen || memcmp(ds + 4, digest, dlen) != 0) {
		return ZG_EVALIDATION;
	}
	return 0;
}

int zg_nsec3_hash(zg_crypto_ctx_t *ctx, uint8_t alg, uint16_t iterations,
                  const uint8_t *salt, size_t salt_len, const uint8_t *name,
                  uint8_t *out)
{
	if (alg != 1) {
		return ZG_ENOTSUP;
	}
	uint8_t lname[ZG_DNAME_MAXLEN];
	size_t nlen = zg_dname_len(name, ZG_DNAME_MAXLEN);
	memcpy(lname, name, nlen);
	zg_dname_lower(lname);
	const uint8_t *in = lname;
	size_t inlen = nlen;
	unsigned dlen = 0;
	for (unsigned i = 0; i <= iterations; i++) {
		if (EVP_DigestInit_ex2(ctx->md, ctx->sha1, NULL) != 1 ||
		    EVP_DigestUpdate(ctx->md, in, inlen) != 1 ||
		    EVP_DigestUpdate(ctx->md, salt, salt_len) != 1 ||
		    EVP_DigestFinal_ex(ctx->md, out, &dlen) != 1) {
			ERR_clear_error();
			return -ENOMEM;
		}
		in = out;
		inlen = dlen;
	}
	return (int)dlen;
}

struct zg_zonemd_hash {
	EVP_MD_CTX *c;
};

int zg_zonemd_hash_new(zg_zonemd_hash_t **out, uint8_t alg)
{
	const char *name = alg == 1 ? "SHA384" : alg == 2 ? "SHA512" : NULL;
	if (name == NULL) {
		return ZG_ENOTSUP;
	}
	zg_zonemd_hash_t *d = malloc(sizeof(*d));
	if (d == NULL) {
		return -ENOMEM;
	}
	d->c = EVP_MD_CTX_new();
	if (d->c == NULL || EVP_DigestInit_ex2(d->c, EVP_get_digestbyname(name), NULL) != 1) {
		EVP_MD_CTX_free(d->c);
		free(d);
		ERR_clear_error();
		return -ENOMEM;
	}
	*out = d;
	return 0;
}

int zg_zonemd_hash_update(zg_zonemd_hash_t *d, const void *data, size_t len)
{
	return EVP_DigestUpdate(d->c, data, len) == 1 ? 0 : -ENOMEM;
}

int zg_zonemd_hash_finish(zg_zonemd_hash_t *d, uint8_t *out)
{
	unsigned len = 0;
	int ok = EVP_DigestFinal_ex(d->c, out, &len) == 1;
	EVP_MD_CTX_free(d->c);
	free(d);
	return ok ? (int)len : -ENOMEM;
}
