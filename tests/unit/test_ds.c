/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Unit tests for lib/dsync/ds.c: DS from DNSKEY, delete forms, RRSIG verification
 * and the RFC 7344/8078 acceptance rules, with keys generated and RRsets
 * signed in-process (GnuTLS + libdnssec), no network.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libknot/libknot.h>

#include "tap.h"
#include "test_ds_keys.h"
#include "dsync/ds.h"
#include "core/error.h"

/* Reference vector made with BIND's dnssec-dsfromkey. */
#define REF_KEY "child.test. 3600 IN DNSKEY 257 3 13 5ZtlgSqFRTrZ8GvHg1EivBWubfhez4oRLrHvv5zJmV1TR/8RsePzBnb4 Vli3+Nb25tahTGrOcyLRSyy/XjuH8g=="
#define REF_DS2 "child.test. 3600 IN DS 2466 13 2 40961B207715EC223C537783B991484592FB0498C4EFFAE74E55205C21CF1D81"
#define REF_DS4 "child.test. 3600 IN DS 2466 13 4 1780276098C1B78A185B1D92FA9BE5E5897FC3508C36DDB0615EB70D129456F5CCFCBBBEA54B2CCD9F6143574FEF57C0"

static zg_cds_verdict_t eval(const knot_rdataset_t *cur, zg_child_view_t *views, size_t n,
                             bool allow_delete, zg_cds_result_t *res)
{
	zg_cds_input_t in = {
		.zone = zone, .current_ds = cur, .views = views, .nviews = n,
		.now = now, .allow_delete = allow_delete,
	};
	int ret = zg_cds_evaluate(&in, res);
	if (ret != 0) {
		diag("zg_cds_evaluate: %s", zg_strerror(ret));
		return (zg_cds_verdict_t)-1;
	}
	diag("verdict %d: %s", res->verdict, res->reason);
	return res->verdict;
}

static void test_reference(void)
{
	zg_signed_rrset_t key, ds;
	zg_signed_rrset_init(&key, NULL, KNOT_RRTYPE_DNSKEY);
	zg_signed_rrset_init(&ds, NULL, KNOT_RRTYPE_DS);
	is_int(zg_signed_rrset_add_text(&key, "test.", REF_KEY), 0, "parse reference DNSKEY");
	is_int(zg_signed_rrset_add_text(&ds, "test.", REF_DS2), 0, "parse reference DS SHA-256");
	is_int(zg_signed_rrset_add_text(&ds, "test.", REF_DS4), 0, "parse reference DS SHA-384");
	is_int(zg_signed_rrset_add_text(&ds, "test.", "child.test. DS 2466 13 2 zz"), ZG_ESYNTAX,
	       "bad DS text is a syntax error");
	is_int(zg_signed_rrset_add_text(&ds, "test.", REF_KEY), ZG_EINPUT, "type mismatch refused");
	is_int(zg_dnskey_keytag(key.rr.rrs.rdata), 2466, "key tag of reference key");

	knot_rdataset_t out;
	knot_rdataset_init(&out);
	is_int(zg_ds_from_dnskey(&out, key.rr.owner, key.rr.rrs.rdata, ZG_DS_SHA256), 0, "DS SHA-256 computed");
	is_int(zg_ds_from_dnskey(&out, key.rr.owner, key.rr.rrs.rdata, ZG_DS_SHA384), 0, "DS SHA-384 computed");
	is_int(zg_ds_from_dnskey(&out, key.rr.owner, key.rr.rrs.rdata, 3), ZG_ENOTSUP, "GOST digest not supported");
	ok(knot_rdataset_eq(&out, &ds.rr.rrs), "DS SHA-256 and SHA-384 equal dnssec-dsfromkey's");
	knot_rdata_t *d = ds.rr.rrs.rdata;
	ok(zg_ds_matches(key.rr.owner, d, key.rr.rrs.rdata), "DS matches its key");
	ok(zg_ds_matches(key.rr.owner, knot_rdataset_next(d), key.rr.rrs.rdata), "DS SHA-384 matches its key");

	/* One flipped digest bit: no match. */
	knot_rdata_t *bad = malloc(knot_rdata_size(d->len));
	knot_rdata_init(bad, d->len, d->data);
	bad->data[d->len - 1] ^= 1;
	ok(!zg_ds_matches(key.rr.owner, bad, key.rr.rrs.rdata), "wrong digest does not match");
	free(bad);
	uint8_t other_owner[] = "\x05""other""\x04""test";
	ok(!zg_ds_matches(other_owner, d, key.rr.rrs.rdata), "DS of another owner does not match");

	char buf[128];
	is_str(zg_tags_str(&ds.rr.rrs, false, buf, sizeof(buf)), "2466/13/2 2466/13/4", "DS tags formatted");
	is_str(zg_tags_str(&key.rr.rrs, true, buf, sizeof(buf)), "2466/13", "DNSKEY tags formatted");
	knot_rdataset_clear(&out, NULL);
	zg_signed_rrset_deinit(&key);
	zg_signed_rrset_deinit(&ds);
}

static void test_delete_forms(void)
{
	zg_signed_rrset_t cds, cdnskey, ds;
	zg_signed_rrset_init(&cds, NULL, KNOT_RRTYPE_CDS);
	zg_signed_rrset_init(&cdnskey, NULL, KNOT_RRTYPE_CDNSKEY);
	zg_signed_rrset_init(&ds, NULL, KNOT_RRTYPE_CDS);
	is_int(zg_signed_rrset_add_text(&cds, "test.", "child CDS 0 0 0 00"), 0, "parse CDS delete");
	is_int(zg_signed_rrset_add_text(&cdnskey, "test.", "child CDNSKEY 0 3 0 AA=="), 0, "parse CDNSKEY delete");
	ok(zg_cds_is_delete(cds.rr.rrs.rdata), "CDS 0 0 0 00 is the delete form");
	ok(zg_cdnskey_is_delete(cdnskey.rr.rrs.rdata), "CDNSKEY 0 3 0 AA== is the delete form");
	is_int(zg_signed_rrset_add_text(&ds, "test.", REF_DS2 + 0), ZG_EINPUT, "DS text into a CDS set refused");
	is_int(zg_signed_rrset_add_text(&ds, "test.", "child.test. CDS 2466 13 2 40961B207715EC223C537783B991484592FB0498C4EFFAE74E55205C21CF1D81"),
	       0, "parse normal CDS");
	ok(!zg_cds_is_delete(ds.rr.rrs.rdata), "normal CDS is not the delete form");
	zg_signed_rrset_t k;
	zg_signed_rrset_init(&k, NULL, KNOT_RRTYPE_CDNSKEY);
	zg_signed_rrset_add_text(&k, "test.", "child.test. CDNSKEY 257 3 13 5ZtlgSqFRTrZ8GvHg1EivBWubfhez4oRLrHvv5zJmV1TR/8RsePzBnb4 Vli3+Nb25tahTGrOcyLRSyy/XjuH8g==");
	ok(!zg_cdnskey_is_delete(k.rr.rrs.rdata), "normal CDNSKEY is not the delete form");
	char buf[64];
	is_str(zg_tags_str(&cds.rr.rrs, false, buf, sizeof(buf)), "delete", "delete form formatted");
	zg_signed_rrset_deinit(&k);
	zg_signed_rrset_deinit(&cds);
	zg_signed_rrset_deinit(&cdnskey);
	zg_signed_rrset_deinit(&ds);
}

static void test_verify(tkey_t *ksk, tkey_t *zsk, tkey_t *other)
{
	zg_signed_rrset_t s;
	zg_signed_rrset_init(&s, zone, KNOT_RRTYPE_DNSKEY);
	knot_rdataset_add(&s.rr.rrs, ksk->rdata, NULL);
	knot_rdataset_add(&s.rr.rrs, zsk->rdata, NULL);
	sign(&s, ksk);
	bool by[2] = { false, false };
	is_int(zg_rrset_verify(&s.rr, &s.sigs, zone, &s.rr.rrs, now, by), 0, "valid RRSIG verifies");
	ok(by[0] != by[1], "exactly one key marked as signer");

	knot_rdataset_t keys;
	knot_rdataset_init(&keys);
	knot_rdataset_add(&keys, other->rdata, NULL);
	is_int(zg_rrset_verify(&s.rr, &s.sigs, zone, &keys, now, NULL), ZG_EVALIDATION,
	       "RRSIG by a key not offered does not verify");
	knot_rdataset_clear(&keys, NULL);

	is_int(zg_rrset_verify(&s.rr, &s.sigs, zone, &s.rr.rrs, now + 200000, NULL), ZG_EVALIDATION,
	       "expired RRSIG refused");
	is_int(zg_rrset_verify(&s.rr, &s.sigs, zone, &s.rr.rrs, now - 7200, NULL), ZG_EVALIDATION,
	       "not yet valid RRSIG refused");
	uint8_t wrong[] = "\x04""test";
	is_int(zg_rrset_verify(&s.rr, &s.sigs, wrong, &s.rr.rrs, now, NULL), ZG_EVALIDATION,
	       "RRSIG with another signer name refused");

	/* Data changed after signing. */
	knot_rdataset_add(&s.rr.rrs, other->rdata, NULL);
	is_int(zg_rrset_verify(&s.rr, &s.sigs, zone, &s.rr.rrs, now, NULL), ZG_EVALIDATION,
	       "RRSIG over other data refused");
	/* Tampered signature. */
	zg_signed_rrset_t t;
	zg_signed_rrset_init(&t, zone, KNOT_RRTYPE_DNSKEY);
	knot_rdataset_add(&t.rr.rrs, ksk->rdata, NULL);
	sign(&t, ksk);
	t.sigs.rdata->data[t.sigs.rdata->len - 3] ^= 0x40;
	is_int(zg_rrset_verify(&t.rr, &t.sigs, zone, &t.rr.rrs, now, NULL), ZG_EVALIDATION,
	       "tampered signature refused");
	zg_signed_rrset_deinit(&t);

	zg_signed_rrset_t ns;
	zg_signed_rrset_init(&ns, zone, KNOT_RRTYPE_NS);
	is_int(zg_rrset_verify(&ns.rr, &ns.sigs, zone, &s.rr.rrs, now, NULL), ZG_ENOTSUP,
	       "types with names in rdata not supported");
	zg_signed_rrset_deinit(&ns);
	zg_signed_rrset_deinit(&s);
}

static void test_authenticated(tkey_t *ksk, tkey_t *zsk, tkey_t *ksk14)
{
	zg_signed_rrset_t s;
	zg_signed_rrset_init(&s, zone, KNOT_RRTYPE_DNSKEY);
	knot_rdataset_add(&s.rr.rrs, ksk->rdata, NULL);
	knot_rdataset_add(&s.rr.rrs, zsk->rdata, NULL);
	knot_rdataset_add(&s.rr.rrs, ksk14->rdata, NULL);
	sign(&s, ksk);
	sign(&s, zsk);

	knot_rdataset_t ds;
	knot_rdataset_init(&ds);
	add_ds(&ds, ksk, ZG_DS_SHA256);
	bool algs = false;
	is_int(zg_dnskey_authenticated(&s, &ds, now, NULL, &algs), 1, "DS of signing KSK authenticates");
	ok(algs, "every DS algorithm covered");

	add_ds(&ds, ksk14, ZG_DS_SHA384);
	is_int(zg_dnskey_authenticated(&s, &ds, now, NULL, &algs), 1, "still one authenticating key");
	ok(!algs, "DS algorithm 14 whose key does not sign: not every algorithm covered");
	sign(&s, ksk14);
	is_int(zg_dnskey_authenticated(&s, &ds, now, NULL, &algs), 2, "both algorithms authenticate once signed");
	ok(algs, "every algorithm covered");
	knot_rdataset_clear(&ds, NULL);

	knot_rdataset_t none;
	knot_rdataset_init(&none);
	is_int(zg_dnskey_authenticated(&s, &none, now, NULL, &algs), 0, "empty DS set authenticates nothing");
	add_ds(&none, zsk, ZG_DS_SHA256);
	bool auth[3];
	is_int(zg_dnskey_authenticated(&s, &none, now, auth, &algs), 1, "DS of the ZSK authenticates (it signs)");
	knot_rdataset_clear(&none, NULL);
	zg_signed_rrset_deinit(&s);
}

static void test_published(tkey_t *k1, tkey_t *k2, tkey_t *zsk)
{
	zg_child_view_t v;
	char why[256];
	tkey_t *keys[] = { k1, zsk, NULL };
	tkey_t *sig1[] = { k1, zsk, NULL };
	tkey_t *c1[] = { k1, NULL };
	tkey_t *c2[] = { k2, NULL };

	view_make(&v, "a", keys, sig1, NULL, NULL);
	is_int(zg_cds_check_published(&v, now, false, why, sizeof(why)), 0, "nothing published is safe");
	zg_child_view_deinit(&v);

	view_make(&v, "a", keys, sig1, c1, c1);
	is_int(zg_cds_check_published(&v, now, false, why, sizeof(why)), 0, "CDS+CDNSKEY of the signing KSK: safe");
	zg_child_view_deinit(&v);

	tkey_t *keys2[] = { k1, k2, zsk, NULL };
	view_make(&v, "a", keys2, sig1, c2, NULL);
	is_int(zg_cds_check_published(&v, now, false, why, sizeof(why)), ZG_EVALIDATION,
	       "CDS for a published key that does not sign the DNSKEY RRset: unsafe");
	ok(strstr(why, "does not sign the dnskey rrset") != NULL, "reason names it (%s)", why);
	zg_child_view_deinit(&v);

	view_make(&v, "a", keys, sig1, c2, NULL);
	is_int(zg_cds_check_published(&v, now, false, why, sizeof(why)), ZG_EVALIDATION,
	       "CDS for a key not in the DNSKEY RRset: unsafe");
	ok(strstr(why, "not in the dnskey rrset") != NULL, "reason names it (%s)", why);
	zg_child_view_deinit(&v);

	tkey_t *sig12[] = { k1, k2, NULL };
	view_make(&v, "a", keys2, sig12, c1, c2);
	is_int(zg_cds_check_published(&v, now, false, why, sizeof(why)), ZG_EVALIDATION,
	       "CDS and CDNSKEY naming different keys: unsafe");
	ok(strstr(why, "cds and cdnskey disagree") != NULL, "reason names it (%s)", why);
	zg_child_view_deinit(&v);

	/* Delete form. */
	view_make(&v, "a", keys, NULL, NULL, NULL);
	zg_signed_rrset_add_text(&v.cds, "test.", "child CDS 0 0 0 00");
	zg_signed_rrset_add_text(&v.cdnskey, "test.", "child CDNSKEY 0 3 0 AA==");
	resign(&v.dnskey, sig1);
	resign(&v.cds, sig1);
	resign(&v.cdnskey, sig1);
	is_int(zg_cds_check_published(&v, now, false, why, sizeof(why)), ZG_EVALIDATION,
	       "delete form without permission: unsafe");
	ok(strstr(why, "allow-delete") != NULL, "reason names the permission (%s)", why);
	is_int(zg_cds_check_published(&v, now, true, why, sizeof(why)), 0, "delete form with permission: safe");
	add_ds(&v.cds.rr.rrs, k1, ZG_DS_SHA256);
	resign(&v.cds, sig1);
	is_int(zg_cds_check_published(&v, now, true, why, sizeof(why)), ZG_EVALIDATION,
	       "delete form mixed with a CDS: unsafe");
	zg_child_view_deinit(&v);

	view_make(&v, "a", keys, sig1, c1, NULL);
	knot_rdataset_clear(&v.cds.sigs, NULL);
	is_int(zg_cds_check_published(&v, now, false, why, sizeof(why)), ZG_EVALIDATION,
	       "unsigned CDS RRset: unsafe");
	zg_child_view_deinit(&v);
}

static void test_evaluate(tkey_t *k1, tkey_t *k2, tkey_t *zsk)
{
	zg_child_view_t v[2];
	zg_cds_result_t res;
	knot_rdataset_t cur;
	knot_rdataset_init(&cur);
	add_ds(&cur, k1, ZG_DS_SHA256);

	tkey_t *keys[] = { k1, zsk, NULL };
	tkey_t *keys2[] = { k1, k2, zsk, NULL };
	tkey_t *s1[] = { k1, zsk, NULL };
	tkey_t *s12[] = { k1, k2, zsk, NULL };
	tkey_t *s2[] = { k2, zsk, NULL };
	tkey_t *c1[] = { k1, NULL };
	tkey_t *c2[] = { k2, NULL };

	view_make(&v[0], "a", keys, s1, NULL, NULL);
	is_int(eval(&cur, v, 1, false, &res), ZG_CDS_NONE, "no CDS: nothing to do");
	zg_cds_result_deinit(&res);
	zg_child_view_deinit(&v[0]);

	view_make(&v[0], "a", keys, s1, c1, c1);
	view_make(&v[1], "b", keys, s1, c1, c1);
	is_int(eval(&cur, v, 2, false, &res), ZG_CDS_UNCHANGED, "CDS equal to DS: unchanged");
	zg_cds_result_deinit(&res);
	zg_child_view_deinit(&v[0]);
	zg_child_view_deinit(&v[1]);

	/* KSK rollover: new KSK signs, CDS names it, old KSK still signs. */
	view_make(&v[0], "a", keys2, s12, c2, c2);
	view_make(&v[1], "b", keys2, s12, c2, c2);
	is_int(eval(&cur, v, 2, false, &res), ZG_CDS_UPDATE, "CDS for the new KSK accepted");
	knot_rdataset_t want;
	knot_rdataset_init(&want);
	add_ds(&want, k2, ZG_DS_SHA256);
	ok(knot_rdataset_eq(&res.ds, &want), "resulting DS set is the new KSK's DS");
	ok(strstr(res.reason, "accepted") != NULL, "audit reason says accepted");
	zg_cds_result_deinit(&res);

	/* Same, but child servers disagree. */
	zg_child_view_deinit(&v[1]);
	view_make(&v[1], "b", keys, s1, c1, c1);
	is_int(eval(&cur, v, 2, false, &res), ZG_CDS_REFUSED, "child servers disagree: refused");
	ok(strstr(res.reason, "child servers disagree") != NULL && strstr(res.reason, "b") != NULL,
	   "reason names the servers");
	zg_cds_result_deinit(&res);
	zg_child_view_deinit(&v[0]);
	zg_child_view_deinit(&v[1]);

	/* CDS signed only by the new key (and the ZSK, which the DS does not name). */
	view_make(&v[0], "a", keys2, s2, c2, c2);
	is_int(eval(&cur, v, 1, false, &res), ZG_CDS_REFUSED, "CDS signed only by the new KSK: refused");
	ok(strstr(res.reason, "not authenticated") != NULL || strstr(res.reason, "not signed") != NULL,
	   "reason says it is not authenticated");
	zg_cds_result_deinit(&res);
	/* DNSKEY signed by k1 too but CDS only by k2. */
	resign(&v[0].dnskey, s12);
	tkey_t *only2[] = { k2, NULL };
	resign(&v[0].cds, only2);
	resign(&v[0].cdnskey, s12);
	is_int(eval(&cur, v, 1, false, &res), ZG_CDS_REFUSED, "CDS RRset signed only by the new KSK: refused");
	ok(strstr(res.reason, "cds not signed by a key the current ds set authenticates") != NULL,
	   "reason: cds signature (%s)", res.reason);
	zg_cds_result_deinit(&res);
	zg_child_view_deinit(&v[0]);

	/* CDS for a key that does not sign the DNSKEY RRset. */
	view_make(&v[0], "a", keys2, s1, c2, NULL);
	is_int(eval(&cur, v, 1, false, &res), ZG_CDS_REFUSED, "CDS for a non-signing key: refused");
	zg_cds_result_deinit(&res);
	zg_child_view_deinit(&v[0]);

	/* CDS and CDNSKEY disagree. */
	view_make(&v[0], "a", keys2, s12, c2, c1);
	is_int(eval(&cur, v, 1, false, &res), ZG_CDS_REFUSED, "CDS and CDNSKEY disagree: refused");
	zg_cds_result_deinit(&res);
	zg_child_view_deinit(&v[0]);

	/* CDNSKEY only: DS computed with SHA-256. */
	view_make(&v[0], "a", keys2, s12, NULL, c2);
	is_int(eval(&cur, v, 1, false, &res), ZG_CDS_UPDATE, "CDNSKEY-only accepted");
	ok(knot_rdataset_eq(&res.ds, &want), "DS computed from CDNSKEY");
	zg_cds_result_deinit(&res);
	zg_child_view_deinit(&v[0]);

	/* Current DS authenticates nothing (parent has a wrong DS). */
	knot_rdataset_t wrong;
	knot_rdataset_init(&wrong);
	add_ds(&wrong, k2, ZG_DS_SHA256);
	view_make(&v[0], "a", keys, s1, c1, NULL);
	is_int(eval(&wrong, v, 1, false, &res), ZG_CDS_REFUSED, "DNSKEY not authenticated by the current DS: refused");
	zg_cds_result_deinit(&res);
	knot_rdataset_t empty;
	knot_rdataset_init(&empty);
	is_int(eval(&empty, v, 1, false, &res), ZG_CDS_REFUSED, "no current DS (bootstrap): refused");
	zg_cds_result_deinit(&res);
	zg_child_view_deinit(&v[0]);
	knot_rdataset_clear(&wrong, NULL);

	/* Delete form. */
	view_make(&v[0], "a", keys, NULL, NULL, NULL);
	zg_signed_rrset_add_text(&v[0].cds, "test.", "child CDS 0 0 0 00");
	resign(&v[0].dnskey, s1);
	resign(&v[0].cds, s1);
	is_int(eval(&cur, v, 1, false, &res), ZG_CDS_REFUSED, "delete without permission: refused");
	zg_cds_result_deinit(&res);
	is_int(eval(&cur, v, 1, true, &res), ZG_CDS_DELETE, "delete with permission: accepted");
	zg_cds_result_deinit(&res);
	zg_child_view_deinit(&v[0]);

	/* Spoofed: valid-looking data, signatures stripped. */
	view_make(&v[0], "a", keys2, NULL, c2, c2);
	is_int(eval(&cur, v, 1, false, &res), ZG_CDS_REFUSED, "unsigned answers: refused");
	zg_cds_result_deinit(&res);
	zg_child_view_deinit(&v[0]);

	zg_cds_input_t bad = { 0 };
	is_int(zg_cds_evaluate(&bad, &res), -EINVAL, "no views: invalid input");
	zg_cds_result_deinit(&res);

	knot_rdataset_clear(&want, NULL);
	knot_rdataset_clear(&cur, NULL);
}

int main(void)
{
	plan_lazy();
	dnssec_crypto_init();
	zone = knot_dname_from_str_alloc("child.test.");
	now = (uint32_t)time(NULL);

	test_reference();
	test_delete_forms();

	tkey_t *k1 = key_gen(257, 13), *k2 = key_gen(257, 13), *zsk = key_gen(256, 13);
	tkey_t *k14 = key_gen(257, 14);
	if (!ok(k1 && k2 && zsk && k14, "test keys generated")) {
		return done_testing();
	}
	test_verify(k1, zsk, k2);
	test_authenticated(k1, zsk, k14);
	test_published(k1, k2, zsk);
	test_evaluate(k1, k2, zsk);

	key_free(k1);
	key_free(k2);
	key_free(zsk);
	key_free(k14);
	knot_dname_free(zone, NULL);
	dnssec_crypto_cleanup();
	return done_testing();
}
