/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * DS/CDS logic: DS from DNSKEY, CDS/CDNSKEY (RFC 7344) including the delete
 * form (RFC 8078), RRSIG verification of small RRsets with libdnssec, and the
 * acceptance rules as pure functions over the data fetched from each server.
 *
 * Data model: every RRset is a libknot knot_rrset_t (owner, type, TTL, rdata
 * in canonical order, as knot_rrset_add_rdata() keeps it) with the RRSIGs that
 * cover it in a separate knot_rdataset_t (zg_signed_rrset_t). Nothing here
 * touches the network; lib/dns/resolver.h fills these structures.
 *
 * RRSIG verification supports the RR types without domain names in their
 * rdata (DS, DNSKEY, CDS, CDNSKEY, SOA excluded): exactly what DS/CDS logic
 * needs.
 */
#ifndef ZONEGATE_DS_H
#define ZONEGATE_DS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libknot/libknot.h>

/*! Digest types zonegate computes and compares (DS RR digest type field). */
#define ZG_DS_SHA1	1
#define ZG_DS_SHA256	2
#define ZG_DS_SHA384	4

/*! RRset plus the RRSIG rdata covering it, as one server served them. */
typedef struct {
	knot_rrset_t rr;      /*!< Data; rr.owner NULL when the RRset was not asked for. */
	knot_rdataset_t sigs; /*!< RRSIG rdata covering rr.type at rr.owner. */
} zg_signed_rrset_t;

/*!
 * Initializes an empty signed RRset of the given owner and type.
 *
 * \param s      Structure to initialize (caller-owned storage).
 * \param owner  Owner name, copied (may be NULL: no owner yet).
 * \param type   RR type.
 *
 * \return 0 or -ENOMEM. Release with zg_signed_rrset_deinit().
 */
int zg_signed_rrset_init(zg_signed_rrset_t *s, const knot_dname_t *owner, uint16_t type);

/*! Frees what zg_signed_rrset_init() and later additions allocated (not s itself). */
void zg_signed_rrset_deinit(zg_signed_rrset_t *s);

/*!
 * Adds one RR given in presentation format ("owner TTL CLASS TYPE rdata",
 * relative names against origin) to a signed RRset: an RRSIG goes to s->sigs
 * (when it covers s->rr.type), anything else to s->rr (type must match).
 * Convenience for tests and trust-anchor files; parses with libzscanner.
 *
 * \return 0, ZG_ESYNTAX (with nothing added) or ZG_EINPUT (type mismatch).
 */
int zg_signed_rrset_add_text(zg_signed_rrset_t *s, const char *origin, const char *text);

/*!
 * Computes the DS rdata of a DNSKEY.
 *
 * \param out         DS rdata is added here (allocated with malloc; the caller
 *                    frees the set with knot_rdataset_clear(out, NULL)).
 * \param owner       The key's owner (the child zone apex).
 * \param dnskey      DNSKEY (or CDNSKEY) rdata.
 * \param digest      ZG_DS_SHA256, ZG_DS_SHA384 (or ZG_DS_SHA1).
 *
 * \return 0, ZG_ENOTSUP (digest type), ZG_EINPUT (bad key) or a DNSSEC_* code.
 */
int zg_ds_from_dnskey(knot_rdataset_t *out, const knot_dname_t *owner,
                      const knot_rdata_t *dnskey, uint8_t digest);

/*!
 * Tells whether a DS (or CDS) rdata is the digest of a DNSKEY (or CDNSKEY).
 * Key tag, algorithm and digest are compared; unsupported digest types never match.
 */
bool zg_ds_matches(const knot_dname_t *owner, const knot_rdata_t *ds,
                   const knot_rdata_t *dnskey);

/*! DNSKEY key tag (RFC 4034 Appendix B) of DNSKEY/CDNSKEY rdata. */
uint16_t zg_dnskey_keytag(const knot_rdata_t *dnskey);

/*! The RFC 8078 CDS delete form: CDS 0 0 0 00 (also accepts the digest "0" written as empty). */
bool zg_cds_is_delete(const knot_rdata_t *cds);

/*! The RFC 8078 CDNSKEY delete form: CDNSKEY 0 3 0 AA==. */
bool zg_cdnskey_is_delete(const knot_rdata_t *cdnskey);

/*!
 * RRSIG verification of one RRset (types without names in rdata).
 *
 * \param rrset     The RRset (owner, type, rdata; its TTL is not used).
 * \param sigs      RRSIG rdata to try (those covering rrset->type are used).
 * \param signer    Expected signer name (zone apex of the keys).
 * \param keys      Candidate DNSKEY rdata (owner = signer).
 * \param now       Validation time (UNIX seconds, serial arithmetic).
 * \param signed_by Optional, keys->count entries: set true for each key that
 *                  made at least one valid signature (others left as they are).
 *
 * \return 0 if at least one RRSIG is valid, ZG_EVALIDATION if none is,
 *         ZG_ENOTSUP if rrset->type has names in its rdata, -ENOMEM.
 */
int zg_rrset_verify(const knot_rrset_t *rrset, const knot_rdataset_t *sigs,
                    const knot_dname_t *signer, const knot_rdataset_t *keys,
                    uint32_t now, bool *signed_by);

/*!
 * DNSKEYs of a zone authenticated by a DS set: the keys a DS matches that
 * also make a valid RRSIG over the DNSKEY RRset.
 *
 * \param dnskey    The zone's DNSKEY RRset with its RRSIGs.
 * \param ds        DS rdata (owner = dnskey->rr.owner), may be empty.
 * \param now       Validation time.
 * \param auth      Out, dnskey->rr.rrs.count entries: true for authenticating keys.
 * \param algs_ok   Out (may be NULL): true when every algorithm present in the
 *                  DS set (with a supported digest type) has an authenticating key.
 *
 * \return Number of authenticating keys (0 = the DS set authenticates nothing),
 *         or a negative code.
 */
int zg_dnskey_authenticated(const zg_signed_rrset_t *dnskey, const knot_rdataset_t *ds,
                            uint32_t now, bool *auth, bool *algs_ok);

/*! What a child serves for the DS/CDS logic (one authoritative server). */
typedef struct {
	const char *server;          /*!< Label for reports ("127.0.0.1@53"); not owned. */
	zg_signed_rrset_t dnskey;
	zg_signed_rrset_t cds;
	zg_signed_rrset_t cdnskey;
} zg_child_view_t;

/*! Initializes the three RRsets of a child view for zone (owner copied). 0 or -ENOMEM. */
int zg_child_view_init(zg_child_view_t *v, const knot_dname_t *zone, const char *server);

/*! Frees the RRsets of a child view (not v). */
void zg_child_view_deinit(zg_child_view_t *v);

/*! Two child servers serve the same DNSKEY, CDS and CDNSKEY rdata (RRSIGs ignored). */
bool zg_child_view_equal(const zg_child_view_t *a, const zg_child_view_t *b);

/*!
 * Child-side safety of the CDS/CDNSKEY a zone publishes (one view): every
 * CDS/CDNSKEY that is not the delete form refers to a key that signs the
 * DNSKEY RRset; CDS and CDNSKEY agree (same keys, or both the delete form);
 * the delete form is not mixed with other records and appears only with
 * allow_delete; the CDS/CDNSKEY RRsets are signed by a key of the DNSKEY set.
 *
 * \param reason  Out (may be NULL): lowercase reason when unsafe, with key tags.
 *
 * \return 0 safe (also when nothing is published), ZG_EVALIDATION unsafe,
 *         other negative codes on errors.
 */
int zg_cds_check_published(const zg_child_view_t *v, uint32_t now, bool allow_delete,
                           char *reason, size_t reason_len);

/*! Parent-side verdict on a child's CDS/CDNSKEY (RFC 7344 section 4.1, RFC 8078). */
typedef enum {
	ZG_CDS_NONE = 0,   /*!< No CDS/CDNSKEY published: nothing to do. */
	ZG_CDS_UNCHANGED,  /*!< Published set equals the current DS set. */
	ZG_CDS_UPDATE,     /*!< Accepted: replace the DS set with result->ds. */
	ZG_CDS_DELETE,     /*!< Accepted delete: remove the DS set (allow_delete given). */
	ZG_CDS_REFUSED,    /*!< Refused: see result->reason. */
} zg_cds_verdict_t;

/*! Input of zg_cds_evaluate(). */
typedef struct {
	const knot_dname_t *zone;          /*!< Child zone apex. */
	const knot_rdataset_t *current_ds; /*!< DS set the parent serves now (validated by caller). */
	const zg_child_view_t *views;      /*!< One per authoritative server of the child. */
	size_t nviews;
	uint32_t now;                      /*!< Validation time. */
	bool allow_delete;                 /*!< Explicit permission for the RFC 8078 delete. */
	uint8_t cdnskey_digest;            /*!< DS digest from CDNSKEY-only sets; 0 = SHA-256. */
} zg_cds_input_t;

/*! Output of zg_cds_evaluate(). */
typedef struct {
	zg_cds_verdict_t verdict;
	/*! The resulting DS set (UPDATE, UNCHANGED); freed by zg_cds_result_deinit(). */
	knot_rdataset_t ds;
	char reason[256];   /*!< Lowercase reason, also for accepted verdicts (audit). */
} zg_cds_result_t;

/*!
 * RFC 7344/8078 acceptance of a child's CDS/CDNSKEY by its parent: identical
 * data on every child server; DNSKEY RRset authenticated by the current DS
 * set; CDS and CDNSKEY signed by a key the current DS set authenticates; CDS
 * and CDNSKEY consistent; the resulting DS set authenticates the DNSKEY RRset
 * for each of its algorithms; delete only with allow_delete. Pure function.
 *
 * \return 0 (the verdict is in res, REFUSED included), or a negative code on
 *         invalid input / allocation failure. Always call zg_cds_result_deinit().
 */
int zg_cds_evaluate(const zg_cds_input_t *in, zg_cds_result_t *res);

/*! Frees res->ds. */
void zg_cds_result_deinit(zg_cds_result_t *res);

/*!
 * Formats the key tags of DS/CDS rdata (or, with dnskey = true, of DNSKEY/
 * CDNSKEY rdata) as "tag/alg tag/alg", "-" when empty, "delete" for the delete form.
 *
 * \return buf.
 */
char *zg_tags_str(const knot_rdataset_t *rrs, bool dnskey, char *buf, size_t len);

#endif /* ZONEGATE_DS_H */
