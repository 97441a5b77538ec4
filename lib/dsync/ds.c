/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * DS/CDS logic (RFC 4034, RFC 7344, RFC 8078) over libknot RRsets, with
 * libdnssec for digests and signature verification.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libdnssec/binary.h>
#include <libdnssec/error.h>
#include <libdnssec/key.h>
#include <libdnssec/keytag.h>
#include <libdnssec/sign.h>
#include <libknot/libknot.h>
#include <libzscanner/scanner.h>

#include "dsync/ds.h"
#include "core/error.h"

#define DNSKEY_FLAG_ZONE	0x0100
#define DNSKEY_FLAG_REVOKE	0x0080
#define RRSIG_FIXED_LEN		18

int zg_signed_rrset_init(zg_signed_rrset_t *s, const knot_dname_t *owner, uint16_t type)
{
	knot_dname_t *copy = NULL;
	if (owner != NULL) {
		copy = knot_dname_copy(owner, NULL);
		if (copy == NULL) {
			return -ENOMEM;
		}
		knot_dname_to_lower(copy);
	}
	knot_rrset_init(&s->rr, copy, type, KNOT_CLASS_IN, 0);
	knot_rdataset_init(&s->sigs);
	return 0;
}

void zg_signed_rrset_deinit(zg_signed_rrset_t *s)
{
	if (s == NULL) {
		return;
	}
	knot_rrset_clear(&s->rr, NULL);
	knot_rdataset_clear(&s->sigs, NULL);
}

int zg_signed_rrset_add_text(zg_signed_rrset_t *s, const char *origin, const char *text)
{
	zs_scanner_t *sc = calloc(1, sizeof(*sc));
	if (sc == NULL) {
		return -ENOMEM;
	}
	int ret = ZG_ESYNTAX;
	knot_rdata_t *rdata = NULL;
	if (zs_init(sc, origin != NULL ? origin : ".", KNOT_CLASS_IN, 3600) != 0) {
		free(sc);
		return ZG_ESYNTAX;
	}
	if (zs_set_input_string(sc, text, strlen(text)) != 0 ||
	    zs_parse_record(sc) != 0 || sc->state != ZS_STATE_DATA) {
		goto done;
	}
	rdata = malloc(knot_rdata_size(sc->r_data_length));
	if (rdata == NULL) {
		ret = -ENOMEM;
		goto done;
	}
	knot_rdata_init(rdata, sc->r_data_length, sc->r_data);
	knot_dname_to_lower(sc->r_owner);

	uint16_t type = sc->r_type;
	if (type == KNOT_RRTYPE_RRSIG && knot_rrsig_type_covered(rdata) == s->rr.type) {
		ret = knot_rdataset_add(&s->sigs, rdata, NULL);
	} else if (type == s->rr.type) {
		if (s->rr.owner == NULL) {
			s->rr.owner = knot_dname_copy(sc->r_owner, NULL);
			if (s->rr.owner == NULL) {
				ret = -ENOMEM;
				goto done;
			}
		} else if (!knot_dname_is_case_equal(s->rr.owner, sc->r_owner)) {
			ret = ZG_EINPUT;
			goto done;
		}
		s->rr.ttl = sc->r_ttl;
		ret = knot_rdataset_add(&s->rr.rrs, rdata, NULL);
	} else {
		ret = ZG_EINPUT;
	}
done:
	free(rdata);
	zs_deinit(sc);
	free(sc);
	return ret;
}

uint16_t zg_dnskey_keytag(const knot_rdata_t *dnskey)
{
	uint16_t tag = 0;
	dnssec_binary_t bin = { .size = dnskey->len, .data = (uint8_t *)dnskey->data };
	dnssec_keytag(&bin, &tag);
	return tag;
}

static int dnskey_to_key(dnssec_key_t **out, const knot_dname_t *owner,
                         const knot_rdata_t *dnskey)
{
	dnssec_key_t *key = NULL;
	int ret = dnssec_key_new(&key);
	if (ret != DNSSEC_EOK) {
		return ret;
	}
	dnssec_binary_t bin = { .size = dnskey->len, .data = (uint8_t *)dnskey->data };
	ret = dnssec_key_set_rdata(key, &bin);
	if (ret == DNSSEC_EOK && owner != NULL) {
		knot_dname_storage_t lower;
		knot_dname_copy_lower(lower, owner);
		ret = dnssec_key_set_dname(key, lower);
	}
	if (ret != DNSSEC_EOK) {
		dnssec_key_free(key);
		return ret;
	}
	*out = key;
	return 0;
}

static bool digest_supported(uint8_t digest)
{
	return digest == ZG_DS_SHA1 || digest == ZG_DS_SHA256 || digest == ZG_DS_SHA384;
}

int zg_ds_from_dnskey(knot_rdataset_t *out, const knot_dname_t *owner,
                      const knot_rdata_t *dnskey, uint8_t digest)
{
	if (out == NULL || owner == NULL || dnskey == NULL) {
		return -EINVAL;
	}
	if (!digest_supported(digest)) {
		return ZG_ENOTSUP;
	}
	if (dnskey->len < 4) {
		return ZG_EINPUT;
	}
	dnssec_key_t *key = NULL;
	int ret = dnskey_to_key(&key, owner, dnskey);
	if (ret != 0) {
		return ZG_EINPUT;
	}
	dnssec_binary_t ds = { 0 };
	ret = dnssec_key_create_ds(key, (dnssec_key_digest_t)digest, &ds);
	dnssec_key_free(key);
	if (ret != DNSSEC_EOK) {
		return ret;
	}
	uint8_t buf[knot_rdata_size(ds.size)];
	knot_rdata_t *rd = (knot_rdata_t *)buf;
	knot_rdata_init(rd, ds.size, ds.data);
	ret = knot_rdataset_add(out, rd, NULL);
	dnssec_binary_free(&ds);
	return ret;
}

bool zg_ds_matches(const knot_dname_t *owner, const knot_rdata_t *ds,
                   const knot_rdata_t *dnskey)
{
	if (ds->len < 5 || dnskey->len < 4) {
		return false;
	}
	if (knot_ds_alg(ds) != knot_dnskey_alg(dnskey) ||
	    knot_ds_key_tag(ds) != zg_dnskey_keytag(dnskey) ||
	    !digest_supported(knot_ds_digest_type(ds))) {
		return false;
	}
	knot_rdataset_t one;
	knot_rdataset_init(&one);
	if (zg_ds_from_dnskey(&one, owner, dnskey, knot_ds_digest_type(ds)) != 0) {
		return false;
	}
	knot_rdata_t *got = one.rdata;
	bool match = got->len == ds->len && memcmp(got->data, ds->data, ds->len) == 0;
	knot_rdataset_clear(&one, NULL);
	return match;
}

bool zg_cds_is_delete(const knot_rdata_t *cds)
{
	/* RFC 8078 section 4: CDS 0 0 0 00; tolerate an empty digest too. */
	static const uint8_t del[] = { 0, 0, 0, 0, 0 };
	return (cds->len == 5 && memcmp(cds->data, del, 5) == 0) ||
	       (cds->len == 4 && memcmp(cds->data, del, 4) == 0);
}

bool zg_cdnskey_is_delete(const knot_rdata_t *cdnskey)
{
	/* RFC 8078 section 4: CDNSKEY 0 3 0 AA== (flags 0, protocol 3, algorithm 0, key 0x00). */
	static const uint8_t del[] = { 0, 0, 3, 0, 0 };
	return cdnskey->len == 5 && memcmp(cdnskey->data, del, 5) == 0;
}

static bool type_has_no_names(uint16_t type)
{
	switch (type) {
	case KNOT_RRTYPE_DS:
	case KNOT_RRTYPE_DNSKEY:
	case KNOT_RRTYPE_CDS:
	case KNOT_RRTYPE_CDNSKEY:
	case KNOT_RRTYPE_A:
	case KNOT_RRTYPE_AAAA:
	case KNOT_RRTYPE_TXT:
		return true;
	default:
		return false;
	}
}

/* RFC 4034 3.1.8.1: RRSIG rdata without signature | RR(1) | RR(2) ... */
static int signed_data(uint8_t **out, size_t *out_len, const knot_rrset_t *rrset,
                       const knot_rdata_t *sig)
{
	const knot_dname_t *signer = knot_rrsig_signer_name(sig);
	size_t signer_len = knot_dname_size(signer);
	size_t owner_len = knot_dname_size(rrset->owner);
	size_t len = RRSIG_FIXED_LEN + signer_len;
	knot_rdata_t *rd = rrset->rrs.rdata;
	for (uint16_t i = 0; i < rrset->rrs.count; i++) {
		len += owner_len + 10 + rd->len;
		rd = knot_rdataset_next(rd);
	}
	uint8_t *buf = malloc(len);
	if (buf == NULL) {
		return -ENOMEM;
	}
	uint8_t *p = buf;
	memcpy(p, sig->data, RRSIG_FIXED_LEN);
	p += RRSIG_FIXED_LEN;
	knot_dname_copy_lower(p, signer);
	p += signer_len;
	uint32_t orig_ttl = knot_rrsig_original_ttl(sig);
	rd = rrset->rrs.rdata;
	for (uint16_t i = 0; i < rrset->rrs.count; i++) {
		knot_dname_copy_lower(p, rrset->owner);
		p += owner_len;
		knot_wire_write_u16(p, rrset->type);
		knot_wire_write_u16(p + 2, KNOT_CLASS_IN);
		knot_wire_write_u32(p + 4, orig_ttl);
		knot_wire_write_u16(p + 8, rd->len);
		p += 10;
		memcpy(p, rd->data, rd->len);
		p += rd->len;
		rd = knot_rdataset_next(rd);
	}
	*out = buf;
	*out_len = len;
	return 0;
}

static bool sig_time_ok(const knot_rdata_t *sig, uint32_t now)
{
	int32_t since = (int32_t)(now - knot_rrsig_sig_inception(sig));
	int32_t until = (int32_t)(knot_rrsig_sig_expiration(sig) - now);
	return since >= 0 && until >= 0;
}

int zg_rrset_verify(const knot_rrset_t *rrset, const knot_rdataset_t *sigs,
                    const knot_dname_t *signer, const knot_rdataset_t *keys,
                    uint32_t now, bool *signed_by)
{
	if (rrset == NULL || rrset->owner == NULL || sigs == NULL || keys == NULL) {
		return -EINVAL;
	}
	if (!type_has_no_names(rrset->type)) {
		return ZG_ENOTSUP;
	}
	if (rrset->rrs.count == 0) {
		return ZG_EVALIDATION;
	}
	size_t labels = knot_dname_labels(rrset->owner, NULL);
	bool any = false;
	knot_rdata_t *sig = sigs->rdata;
	for (uint16_t s = 0; s < sigs->count; s++, sig = knot_rdataset_next(sig)) {
		if (sig->len <= RRSIG_FIXED_LEN + 1 ||
		    knot_rrsig_type_covered(sig) != rrset->type ||
		    knot_rrsig_labels(sig) != labels || !sig_time_ok(sig, now) ||
		    knot_dname_wire_check(knot_rrsig_signer_name(sig), sig->data + sig->len, NULL) <= 0 ||
		    (signer != NULL && !knot_dname_is_case_equal(knot_rrsig_signer_name(sig), signer))) {
			continue;
		}
		uint8_t *data = NULL;
		size_t data_len = 0;
		knot_rdata_t *key = keys->rdata;
		for (uint16_t k = 0; k < keys->count; k++, key = knot_rdataset_next(key)) {
			if (key->len < 4 || knot_dnskey_alg(key) != knot_rrsig_alg(sig) ||
			    (knot_dnskey_flags(key) & DNSKEY_FLAG_ZONE) == 0 ||
			    knot_dnskey_proto(key) != 3 ||
			    zg_dnskey_keytag(key) != knot_rrsig_key_tag(sig)) {
				continue;
			}
			if (data == NULL) {
				int ret = signed_data(&data, &data_len, rrset, sig);
				if (ret != 0) {
					return ret;
				}
			}
			dnssec_key_t *dkey = NULL;
			if (dnskey_to_key(&dkey, knot_rrsig_signer_name(sig), key) != 0) {
				continue;
			}
			dnssec_sign_ctx_t *ctx = NULL;
			bool valid = false;
			if (dnssec_sign_new(&ctx, dkey) == DNSSEC_EOK) {
				dnssec_binary_t bin = { .size = data_len, .data = data };
				const uint8_t *sigdata = knot_rrsig_signature(sig);
				size_t off = sigdata - sig->data;
				dnssec_binary_t sbin = { .size = sig->len - off, .data = (uint8_t *)sigdata };
				valid = dnssec_sign_add(ctx, &bin) == DNSSEC_EOK &&
				        dnssec_sign_verify(ctx, false, &sbin) == DNSSEC_EOK;
				dnssec_sign_free(ctx);
			}
			dnssec_key_free(dkey);
			if (valid) {
				any = true;
				if (signed_by != NULL) {
					signed_by[k] = true;
				}
			}
		}
		free(data);
	}
	return any ? 0 : ZG_EVALIDATION;
}

int zg_dnskey_authenticated(const zg_signed_rrset_t *dnskey, const knot_rdataset_t *ds,
                            uint32_t now, bool *auth, bool *algs_ok)
{
	const knot_rdataset_t *keys = &dnskey->rr.rrs;
	if (algs_ok != NULL) {
		*algs_ok = false;
	}
	if (keys->count == 0 || ds == NULL || ds->count == 0 || dnskey->rr.owner == NULL) {
		if (auth != NULL) {
			memset(auth, 0, keys->count * sizeof(bool));
		}
		return 0;
	}
	bool matched[keys->count];
	bool signs[keys->count];
	memset(matched, 0, sizeof(matched));
	memset(signs, 0, sizeof(signs));

	knot_rdata_t *key = keys->rdata;
	for (uint16_t k = 0; k < keys->count; k++, key = knot_rdataset_next(key)) {
		knot_rdata_t *d = ds->rdata;
		for (uint16_t i = 0; i < ds->count; i++, d = knot_rdataset_next(d)) {
			if (zg_ds_matches(dnskey->rr.owner, d, key)) {
				matched[k] = true;
				break;
			}
		}
	}
	int ret = zg_rrset_verify(&dnskey->rr, &dnskey->sigs, dnskey->rr.owner, keys, now, signs);
	if (ret != 0 && ret != ZG_EVALIDATION) {
		return ret;
	}
	int n = 0;
	key = keys->rdata;
	for (uint16_t k = 0; k < keys->count; k++) {
		bool a = matched[k] && signs[k];
		if (auth != NULL) {
			auth[k] = a;
		}
		n += a ? 1 : 0;
	}
	if (algs_ok != NULL) {
		bool all = true, some = false;
		knot_rdata_t *d = ds->rdata;
		for (uint16_t i = 0; i < ds->count; i++, d = knot_rdataset_next(d)) {
			if (d->len < 4 || !digest_supported(knot_ds_digest_type(d))) {
				continue;
			}
			some = true;
			bool covered = false;
			key = keys->rdata;
			for (uint16_t k = 0; k < keys->count; k++, key = knot_rdataset_next(key)) {
				if (matched[k] && signs[k] && knot_dnskey_alg(key) == knot_ds_alg(d)) {
					covered = true;
					break;
				}
			}
			all = all && covered;
		}
		*algs_ok = some && all;
	}
	return n;
}

int zg_child_view_init(zg_child_view_t *v, const knot_dname_t *zone, const char *server)
{
	memset(v, 0, sizeof(*v));
	v->server = server;
	if (zg_signed_rrset_init(&v->dnskey, zone, KNOT_RRTYPE_DNSKEY) != 0 ||
	    zg_signed_rrset_init(&v->cds, zone, KNOT_RRTYPE_CDS) != 0 ||
	    zg_signed_rrset_init(&v->cdnskey, zone, KNOT_RRTYPE_CDNSKEY) != 0) {
		zg_child_view_deinit(v);
		return -ENOMEM;
	}
	return 0;
}

void zg_child_view_deinit(zg_child_view_t *v)
{
	if (v == NULL) {
		return;
	}
	zg_signed_rrset_deinit(&v->dnskey);
	zg_signed_rrset_deinit(&v->cds);
	zg_signed_rrset_deinit(&v->cdnskey);
}

bool zg_child_view_equal(const zg_child_view_t *a, const zg_child_view_t *b)
{
	return knot_rdataset_eq(&a->dnskey.rr.rrs, &b->dnskey.rr.rrs) &&
	       knot_rdataset_eq(&a->cds.rr.rrs, &b->cds.rr.rrs) &&
	       knot_rdataset_eq(&a->cdnskey.rr.rrs, &b->cdnskey.rr.rrs);
}

char *zg_tags_str(const knot_rdataset_t *rrs, bool dnskey, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	knot_rdata_t *rd = rrs->rdata;
	for (uint16_t i = 0; i < rrs->count && used < len; i++, rd = knot_rdataset_next(rd)) {
		int n;
		const char *sep = i > 0 ? " " : "";
		if (dnskey ? zg_cdnskey_is_delete(rd) : zg_cds_is_delete(rd)) {
			n = snprintf(buf + used, len - used, "%sdelete", sep);
		} else if (dnskey) {
			n = snprintf(buf + used, len - used, "%s%u/%u", sep,
			             rd->len >= 4 ? zg_dnskey_keytag(rd) : 0,
			             rd->len >= 4 ? knot_dnskey_alg(rd) : 0);
		} else {
			n = snprintf(buf + used, len - used, "%s%u/%u/%u", sep,
			             rd->len >= 4 ? knot_ds_key_tag(rd) : 0,
			             rd->len >= 4 ? knot_ds_alg(rd) : 0,
			             rd->len >= 4 ? knot_ds_digest_type(rd) : 0);
		}
		if (n < 0) {
			break;
		}
		used += (size_t)n;
	}
	if (rrs->count == 0 && len > 1) {
		snprintf(buf, len, "-");
	}
	return buf;
}

/* 1 = all delete form, 0 = none, -1 = mixed. Empty set counts as 0. */
static int delete_form(const knot_rdataset_t *rrs, bool cdnskey)
{
	int del = 0;
	knot_rdata_t *rd = rrs->rdata;
	for (uint16_t i = 0; i < rrs->count; i++, rd = knot_rdataset_next(rd)) {
		del += (cdnskey ? zg_cdnskey_is_delete(rd) : zg_cds_is_delete(rd)) ? 1 : 0;
	}
	if (del == 0) {
		return 0;
	}
	return del == rrs->count ? 1 : -1;
}

static void say(char *reason, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(char *reason, size_t len, const char *fmt, ...)
{
	if (reason == NULL || len == 0) {
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, len, fmt, ap);
	va_end(ap);
}

#define UNSAFE(...) do { say(reason, reason_len, __VA_ARGS__); return ZG_EVALIDATION; } while (0)

int zg_cds_check_published(const zg_child_view_t *v, uint32_t now, bool allow_delete,
                           char *reason, size_t reason_len)
{
	const knot_rdataset_t *keys = &v->dnskey.rr.rrs;
	const knot_rdataset_t *cds = &v->cds.rr.rrs;
	const knot_rdataset_t *cdnskey = &v->cdnskey.rr.rrs;
	char t1[128], t2[128];
	say(reason, reason_len, "no cds/cdnskey published");
	if (cds->count == 0 && cdnskey->count == 0) {
		return 0;
	}
	int cds_del = delete_form(cds, false);
	int cdnskey_del = delete_form(cdnskey, true);
	if (cds_del < 0) {
		UNSAFE("cds delete form mixed with other records (cds %s)",
		       zg_tags_str(cds, false, t1, sizeof(t1)));
	}
	if (cdnskey_del < 0) {
		UNSAFE("cdnskey delete form mixed with other records (cdnskey %s)",
		       zg_tags_str(cdnskey, true, t1, sizeof(t1)));
	}
	if ((cds->count > 0 && cdnskey->count > 0 && cds_del != cdnskey_del)) {
		UNSAFE("cds and cdnskey disagree (cds %s, cdnskey %s)",
		       zg_tags_str(cds, false, t1, sizeof(t1)), zg_tags_str(cdnskey, true, t2, sizeof(t2)));
	}
	bool deleting = cds_del > 0 || cdnskey_del > 0;
	if (deleting && !allow_delete) {
		UNSAFE("delete form published without permission (allow-delete not set)");
	}
	if (keys->count == 0) {
		UNSAFE("cds/cdnskey published without a dnskey rrset");
	}
	bool signs[keys->count];
	memset(signs, 0, sizeof(signs));
	int ret = zg_rrset_verify(&v->dnskey.rr, &v->dnskey.sigs, v->dnskey.rr.owner, keys, now, signs);
	if (ret == ZG_EVALIDATION) {
		UNSAFE("dnskey rrset has no valid signature");
	} else if (ret != 0) {
		return ret;
	}
	/* The CDS/CDNSKEY RRsets themselves must be signed by a key of the zone. */
	if (cds->count > 0 &&
	    zg_rrset_verify(&v->cds.rr, &v->cds.sigs, v->dnskey.rr.owner, keys, now, NULL) != 0) {
		UNSAFE("cds rrset not signed by a key of the dnskey rrset");
	}
	if (cdnskey->count > 0 &&
	    zg_rrset_verify(&v->cdnskey.rr, &v->cdnskey.sigs, v->dnskey.rr.owner, keys, now, NULL) != 0) {
		UNSAFE("cdnskey rrset not signed by a key of the dnskey rrset");
	}
	if (deleting) {
		say(reason, reason_len, "delete form published with permission");
		return 0;
	}
	/* Every CDS refers to a key that signs the DNSKEY RRset. */
	knot_rdata_t *d = cds->rdata;
	for (uint16_t i = 0; i < cds->count; i++, d = knot_rdataset_next(d)) {
		bool found = false, signing = false;
		knot_rdata_t *key = keys->rdata;
		for (uint16_t k = 0; k < keys->count; k++, key = knot_rdataset_next(key)) {
			if (zg_ds_matches(v->dnskey.rr.owner, d, key)) {
				found = true;
				signing = signing || signs[k];
			}
		}
		if (d->len < 4) {
			UNSAFE("malformed cds record");
		}
		if (!found) {
			UNSAFE("cds for key %u/%u that is not in the dnskey rrset",
			       knot_ds_key_tag(d), knot_ds_alg(d));
		}
		if (!signing) {
			UNSAFE("cds for key %u/%u that does not sign the dnskey rrset",
			       knot_ds_key_tag(d), knot_ds_alg(d));
		}
	}
	/* Every CDNSKEY is a key of the zone that signs the DNSKEY RRset. */
	d = cdnskey->rdata;
	for (uint16_t i = 0; i < cdnskey->count; i++, d = knot_rdataset_next(d)) {
		if (d->len < 4) {
			UNSAFE("malformed cdnskey record");
		}
		bool found = false, signing = false;
		knot_rdata_t *key = keys->rdata;
		for (uint16_t k = 0; k < keys->count; k++, key = knot_rdataset_next(key)) {
			if (knot_rdata_cmp(d, key) == 0) {
				found = true;
				signing = signs[k];
			}
		}
		if (!found) {
			UNSAFE("cdnskey for key %u/%u that is not in the dnskey rrset",
			       zg_dnskey_keytag(d), knot_dnskey_alg(d));
		}
		if (!signing) {
			UNSAFE("cdnskey for key %u/%u that does not sign the dnskey rrset",
			       zg_dnskey_keytag(d), knot_dnskey_alg(d));
		}
	}
	/* CDS and CDNSKEY name the same keys. */
	if (cds->count > 0 && cdnskey->count > 0) {
		d = cds->rdata;
		for (uint16_t i = 0; i < cds->count; i++, d = knot_rdataset_next(d)) {
			bool found = false;
			knot_rdata_t *key = cdnskey->rdata;
			for (uint16_t k = 0; k < cdnskey->count && !found; k++, key = knot_rdataset_next(key)) {
				found = zg_ds_matches(v->dnskey.rr.owner, d, key);
			}
			if (!found) {
				UNSAFE("cds and cdnskey disagree (cds %u/%u has no cdnskey)",
				       knot_ds_key_tag(d), knot_ds_alg(d));
			}
		}
		knot_rdata_t *key = cdnskey->rdata;
		for (uint16_t k = 0; k < cdnskey->count; k++, key = knot_rdataset_next(key)) {
			bool found = false;
			d = cds->rdata;
			for (uint16_t i = 0; i < cds->count && !found; i++, d = knot_rdataset_next(d)) {
				found = zg_ds_matches(v->dnskey.rr.owner, d, key);
			}
			if (!found) {
				UNSAFE("cds and cdnskey disagree (cdnskey %u/%u has no cds)",
				       zg_dnskey_keytag(key), knot_dnskey_alg(key));
			}
		}
	}
	say(reason, reason_len, "cds %s, cdnskey %s",
	    zg_tags_str(cds, false, t1, sizeof(t1)), zg_tags_str(cdnskey, true, t2, sizeof(t2)));
	return 0;
}

#define REFUSE(...) do { res->verdict = ZG_CDS_REFUSED; \
	say(res->reason, sizeof(res->reason), __VA_ARGS__); ret = 0; goto done; } while (0)

int zg_cds_evaluate(const zg_cds_input_t *in, zg_cds_result_t *res)
{
	if (res == NULL) {
		return -EINVAL;
	}
	memset(res, 0, sizeof(*res));
	knot_rdataset_init(&res->ds);
	if (in == NULL || in->zone == NULL || in->views == NULL || in->nviews == 0 ||
	    in->current_ds == NULL) {
		return -EINVAL;
	}
	int ret = 0;
	char t1[128], t2[128];
	knot_rdataset_t authkeys;
	knot_rdataset_init(&authkeys);
	bool *auth = NULL;

	const zg_child_view_t *v = &in->views[0];
	for (size_t i = 1; i < in->nviews; i++) {
		if (!zg_child_view_equal(v, &in->views[i])) {
			REFUSE("child servers disagree (%s and %s serve different dnskey/cds/cdnskey)",
			       v->server ? v->server : "server 1",
			       in->views[i].server ? in->views[i].server : "another server");
		}
	}
	if (v->cds.rr.rrs.count == 0 && v->cdnskey.rr.rrs.count == 0) {
		res->verdict = ZG_CDS_NONE;
		say(res->reason, sizeof(res->reason), "no cds/cdnskey published");
		goto done;
	}
	if (in->current_ds->count == 0) {
		REFUSE("no ds at the parent, cds bootstrap not supported (cds %s)",
		       zg_tags_str(&v->cds.rr.rrs, false, t1, sizeof(t1)));
	}
	/* The DNSKEY RRset must validate under the current DS set. */
	size_t nkeys = v->dnskey.rr.rrs.count;
	auth = calloc(nkeys > 0 ? nkeys : 1, sizeof(bool));
	if (auth == NULL) {
		ret = -ENOMEM;
		goto done;
	}
	ret = zg_dnskey_authenticated(&v->dnskey, in->current_ds, in->now, auth, NULL);
	if (ret < 0) {
		goto done;
	}
	if (ret == 0) {
		REFUSE("dnskey rrset not authenticated by the current ds set (ds %s)",
		       zg_tags_str(in->current_ds, false, t1, sizeof(t1)));
	}
	knot_rdata_t *key = v->dnskey.rr.rrs.rdata;
	for (size_t k = 0; k < nkeys; k++, key = knot_rdataset_next(key)) {
		if (auth[k] && (ret = knot_rdataset_add(&authkeys, key, NULL)) != 0) {
			goto done;
		}
	}
	/* CDS and CDNSKEY must be signed by a key the current DS set authenticates. */
	if (v->cds.rr.rrs.count > 0 &&
	    zg_rrset_verify(&v->cds.rr, &v->cds.sigs, v->dnskey.rr.owner, &authkeys,
	                    in->now, NULL) != 0) {
		REFUSE("cds not signed by a key the current ds set authenticates (ds %s, cds %s)",
		       zg_tags_str(in->current_ds, false, t1, sizeof(t1)),
		       zg_tags_str(&v->cds.rr.rrs, false, t2, sizeof(t2)));
	}
	if (v->cdnskey.rr.rrs.count > 0 &&
	    zg_rrset_verify(&v->cdnskey.rr, &v->cdnskey.sigs, v->dnskey.rr.owner, &authkeys,
	                    in->now, NULL) != 0) {
		REFUSE("cdnskey not signed by a key the current ds set authenticates (ds %s, cdnskey %s)",
		       zg_tags_str(in->current_ds, false, t1, sizeof(t1)),
		       zg_tags_str(&v->cdnskey.rr.rrs, true, t2, sizeof(t2)));
	}
	/* Consistency and key rules shared with the child side. */
	char why[200];
	ret = zg_cds_check_published(v, in->now, in->allow_delete, why, sizeof(why));
	if (ret == ZG_EVALIDATION) {
		REFUSE("%s", why);
	} else if (ret != 0) {
		goto done;
	}
	if (delete_form(&v->cds.rr.rrs, false) > 0 || delete_form(&v->cdnskey.rr.rrs, true) > 0) {
		res->verdict = ZG_CDS_DELETE;
		say(res->reason, sizeof(res->reason), "delete accepted (ds %s removed)",
		    zg_tags_str(in->current_ds, false, t1, sizeof(t1)));
		goto done;
	}
	/* The resulting DS set. */
	if (v->cds.rr.rrs.count > 0) {
		ret = knot_rdataset_copy(&res->ds, &v->cds.rr.rrs, NULL);
	} else {
		uint8_t digest = in->cdnskey_digest ? in->cdnskey_digest : ZG_DS_SHA256;
		key = v->cdnskey.rr.rrs.rdata;
		for (uint16_t k = 0; k < v->cdnskey.rr.rrs.count && ret == 0; k++) {
			ret = zg_ds_from_dnskey(&res->ds, in->zone, key, digest);
			key = knot_rdataset_next(key);
		}
	}
	if (ret != 0) {
		goto done;
	}
	bool algs_ok = false;
	ret = zg_dnskey_authenticated(&v->dnskey, &res->ds, in->now, NULL, &algs_ok);
	if (ret < 0) {
		goto done;
	}
	if (ret == 0 || !algs_ok) {
		knot_rdataset_clear(&res->ds, NULL);
		REFUSE("resulting ds set does not authenticate the dnskey rrset for each algorithm (ds %s)",
		       zg_tags_str(v->cds.rr.rrs.count > 0 ? &v->cds.rr.rrs : &v->cdnskey.rr.rrs,
		                   v->cds.rr.rrs.count == 0, t1, sizeof(t1)));
	}
	ret = 0;
	if (knot_rdataset_eq(&res->ds, in->current_ds)) {
		res->verdict = ZG_CDS_UNCHANGED;
		say(res->reason, sizeof(res->reason), "cds matches the current ds set (ds %s)",
		    zg_tags_str(&res->ds, false, t1, sizeof(t1)));
	} else {
		res->verdict = ZG_CDS_UPDATE;
		say(res->reason, sizeof(res->reason), "cds accepted (ds %s -> %s)",
		    zg_tags_str(in->current_ds, false, t1, sizeof(t1)),
		    zg_tags_str(&res->ds, false, t2, sizeof(t2)));
	}
done:
	free(auth);
	knot_rdataset_clear(&authkeys, NULL);
	if (ret < 0) {
		knot_rdataset_clear(&res->ds, NULL);
	}
	return ret < 0 ? ret : 0;
}

void zg_cds_result_deinit(zg_cds_result_t *res)
{
	if (res != NULL) {
		knot_rdataset_clear(&res->ds, NULL);
	}
}
