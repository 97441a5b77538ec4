/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Test helpers for the DS/CDS unit tests (header only, static functions):
 * ECDSA keys generated in-process (GnuTLS + libdnssec), an independent RRSIG
 * signer, DS sets and child views. Set `zone` and `now` before use.
 */
#ifndef ZG_TEST_DS_KEYS_H
#define ZG_TEST_DS_KEYS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <libdnssec/binary.h>
#include <libdnssec/crypto.h>
#include <libdnssec/error.h>
#include <libdnssec/key.h>
#include <libdnssec/sign.h>
#include <libknot/libknot.h>

#include "tap.h"
#include "dsync/ds.h"

static knot_dname_t *zone;
static uint32_t now;

typedef struct {
	dnssec_key_t *key;
	knot_rdata_t *rdata; /* DNSKEY rdata */
	uint16_t tag;
} tkey_t;

static tkey_t *key_gen_for(const knot_dname_t *owner, uint16_t flags, uint8_t alg)
{
	gnutls_x509_privkey_t pk;
	gnutls_x509_privkey_init(&pk);
	gnutls_ecc_curve_t curve = alg == 14 ? GNUTLS_ECC_CURVE_SECP384R1 : GNUTLS_ECC_CURVE_SECP256R1;
	if (gnutls_x509_privkey_generate(pk, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(curve), 0) != 0) {
		return NULL;
	}
	gnutls_datum_t pem = { 0 };
	gnutls_x509_privkey_export2_pkcs8(pk, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN, &pem);
	gnutls_x509_privkey_deinit(pk);

	tkey_t *k = calloc(1, sizeof(*k));
	dnssec_key_new(&k->key);
	dnssec_key_set_dname(k->key, owner);
	dnssec_key_set_flags(k->key, flags);
	dnssec_key_set_algorithm(k->key, alg);
	dnssec_binary_t bpem = { .size = pem.size, .data = pem.data };
	int ret = dnssec_key_load_pkcs8(k->key, &bpem);
	gnutls_free(pem.data);
	if (ret != DNSSEC_EOK) {
		diag("load_pkcs8: %s", dnssec_strerror(ret));
		return NULL;
	}
	dnssec_binary_t rd = { 0 };
	dnssec_key_get_rdata(k->key, &rd);
	k->rdata = malloc(knot_rdata_size(rd.size));
	knot_rdata_init(k->rdata, rd.size, rd.data);
	k->tag = dnssec_key_get_keytag(k->key);
	return k;
}

static tkey_t *key_gen(uint16_t flags, uint8_t alg)
{
	return key_gen_for(zone, flags, alg);
}

static void key_free(tkey_t *k)
{
	if (k != NULL) {
		dnssec_key_free(k->key);
		free(k->rdata);
		free(k);
	}
}

/* Independent signer for the tests: RFC 4034 3.1.8.1 signed data, libdnssec sign. */
static void sign_rrset_by(zg_signed_rrset_t *s, const tkey_t *k, const knot_dname_t *signer,
                          uint32_t inception, uint32_t expiration)
{
	uint8_t hdr[18 + KNOT_DNAME_MAXLEN];
	size_t zlen = knot_dname_size(signer);
	knot_wire_write_u16(hdr, s->rr.type);
	hdr[2] = dnssec_key_get_algorithm(k->key);
	hdr[3] = knot_dname_labels(s->rr.owner, NULL);
	knot_wire_write_u32(hdr + 4, 3600);
	knot_wire_write_u32(hdr + 8, expiration);
	knot_wire_write_u32(hdr + 12, inception);
	knot_wire_write_u16(hdr + 16, k->tag);
	memcpy(hdr + 18, signer, zlen);

	dnssec_sign_ctx_t *ctx = NULL;
	dnssec_sign_new(&ctx, k->key);
	dnssec_binary_t b = { .size = 18 + zlen, .data = hdr };
	dnssec_sign_add(ctx, &b);
	knot_rdata_t *rd = s->rr.rrs.rdata;
	for (uint16_t i = 0; i < s->rr.rrs.count; i++, rd = knot_rdataset_next(rd)) {
		uint8_t rr[KNOT_DNAME_MAXLEN + 10];
		size_t olen = knot_dname_size(s->rr.owner);
		memcpy(rr, s->rr.owner, olen);
		knot_wire_write_u16(rr + olen, s->rr.type);
		knot_wire_write_u16(rr + olen + 2, KNOT_CLASS_IN);
		knot_wire_write_u32(rr + olen + 4, 3600);
		knot_wire_write_u16(rr + olen + 8, rd->len);
		dnssec_binary_t h = { .size = olen + 10, .data = rr };
		dnssec_binary_t d = { .size = rd->len, .data = rd->data };
		dnssec_sign_add(ctx, &h);
		dnssec_sign_add(ctx, &d);
	}
	dnssec_binary_t sig = { 0 };
	dnssec_sign_write(ctx, DNSSEC_SIGN_NORMAL, &sig);
	dnssec_sign_free(ctx);

	size_t len = 18 + zlen + sig.size;
	uint8_t *buf = malloc(len);
	memcpy(buf, hdr, 18 + zlen);
	memcpy(buf + 18 + zlen, sig.data, sig.size);
	knot_rdata_t *srd = malloc(knot_rdata_size(len));
	knot_rdata_init(srd, len, buf);
	knot_rdataset_add(&s->sigs, srd, NULL);
	free(srd);
	free(buf);
	dnssec_binary_free(&sig);
}

static void sign_rrset(zg_signed_rrset_t *s, const tkey_t *k, uint32_t inception, uint32_t expiration)
{
	sign_rrset_by(s, k, zone, inception, expiration);
}

static void sign(zg_signed_rrset_t *s, const tkey_t *k)
{
	sign_rrset(s, k, now - 3600, now + 86400);
}

static void add_ds(knot_rdataset_t *ds, const tkey_t *k, uint8_t digest)
{
	zg_ds_from_dnskey(ds, zone, k->rdata, digest);
}

/* A child view: DNSKEY = keys, signed by signers; CDS for cds keys (SHA-256),
 * CDNSKEY for cdnskey keys; CDS/CDNSKEY signed by the same signers. */
static void view_make(zg_child_view_t *v, const char *server, tkey_t **keys, tkey_t **signers,
                      tkey_t **cds, tkey_t **cdnskey)
{
	zg_child_view_init(v, zone, server);
	for (tkey_t **k = keys; k && *k; k++) {
		knot_rdataset_add(&v->dnskey.rr.rrs, (*k)->rdata, NULL);
	}
	for (tkey_t **k = cds; k && *k; k++) {
		add_ds(&v->cds.rr.rrs, *k, ZG_DS_SHA256);
	}
	for (tkey_t **k = cdnskey; k && *k; k++) {
		knot_rdataset_add(&v->cdnskey.rr.rrs, (*k)->rdata, NULL);
	}
	for (tkey_t **k = signers; k && *k; k++) {
		sign(&v->dnskey, *k);
		if (v->cds.rr.rrs.count > 0) {
			sign(&v->cds, *k);
		}
		if (v->cdnskey.rr.rrs.count > 0) {
			sign(&v->cdnskey, *k);
		}
	}
}

static void resign(zg_signed_rrset_t *s, tkey_t **signers)
{
	knot_rdataset_clear(&s->sigs, NULL);
	for (tkey_t **k = signers; k && *k; k++) {
		sign(s, *k);
	}
}

#endif /* ZG_TEST_DS_KEYS_H */
