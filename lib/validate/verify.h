/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * DNSSEC validation of a zone held in a zg_zone_t.
 *
 * Checks (findings go to a zg_report_t as `<owner> <TYPE>: <reason>`):
 *   - every authoritative RRset (including DS at delegations, not delegation
 *     NS, not glue) has a valid RRSIG by a zone key of each algorithm in the
 *     DNSKEY RRset (RFC 6840 5.11); RRSIG signer, labels, original TTL,
 *     inception/expiration against the validation time; RRSIGs without RRset;
 *   - the DNSKEY RRset is signed by a key with the SEP flag, or by a key that
 *     matches a DS given in the options;
 *   - NSEC chain: every authoritative name has one NSEC, next names follow the
 *     canonical order and close at the apex, type bitmaps match exactly;
 *   - NSEC3 chain: NSEC3PARAM consistent with the chain, every authoritative
 *     name and empty non-terminal hashed and present (except those covered by
 *     an opt-out NSEC3: insecure delegations and empty non-terminals), bitmaps,
 *     next-hash order and closure, no orphan NSEC3;
 *   - unsigned delegation NS and glue; RRSIG or NSEC below a delegation;
 *   - ZONEMD (RFC 8976, scheme 1, SHA-384/SHA-512) when present;
 *   - warnings for signatures expiring within the horizon; the earliest
 *     expiry is kept in the report statistics.
 *
 * Rules from the RFCs beyond these (each with a documented limit):
 *   - one SOA at the apex; no RRSIG covering type RRSIG (RFC 4035 2.2);
 *   - NSEC3: iterations above 0 warn, above ZG_VERIFY_MAX_NSEC3_ITERATIONS
 *     fail (RFC 9276); zone keys of algorithm 1, 3 or 5 fail (RFC 5155 2);
 *     NSEC3PARAM records with flags other than 0 are ignored with a warning
 *     (RFC 5155 4.1.2); every chain announced by an NSEC3PARAM with flags 0
 *     is checked (up to ZG_VERIFY_MAX_NSEC3_CHAINS); an empty non-terminal
 *     may lack its NSEC3 only if every name below it is an insecure
 *     delegation or below one (RFC 5155 7.1);
 *   - zone keys sharing an algorithm and key tag warn, more than
 *     ZG_VERIFY_MAX_TAG_KEYS fail, and no signature is tried against more
 *     than that many keys (KeyTrap, CVE-2023-50387);
 *   - names below a DNAME (also at the apex) are occluded like names below
 *     a delegation, with a warning (RFC 6672 2.3);
 *   - a signature outside its validity period is an error unless another
 *     signature of the same algorithm validates the RRset: then a warning;
 *   - records a zone file had outside the zone (zg_zone_outside()): a
 *     warning each, an error for NSEC and NSEC3.
 *
 * A zg_verifier_t holds what is derived from the apex (keys, algorithms,
 * NSEC3 parameters): create it after the zone is loaded and again after the
 * apex DNSKEY or NSEC3PARAM RRsets change. Whole-zone validation runs in
 * threads (zg_verify_zone); incremental users (mod-validate) call
 * zg_verify_node() for each changed owner, its NSEC predecessor and the NSEC3
 * nodes concerned, with one zg_verify_worker_t per thread.
 *
 * Signatures of algorithm 13 are verified in batches (one inversion per
 * block, per-key tables: see validate/p256.h): zg_verify_zone() queues the
 * signatures of each chunk of 1024 nodes with zg_verify_prefetch() before
 * checking them, and incremental users can do the same.
 */
#ifndef ZONEGATE_VERIFY_H
#define ZONEGATE_VERIFY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "validate/report.h"
#include "validate/zone.h"

/*!
 * NSEC3 iterations above which a chain is an error (and not checked): the
 * most BIND 9.18's dnssec-signzone accepts and the limit of its validator,
 * above which answers are treated as insecure (RFC 9276 3.2 lets validating
 * resolvers do so). Any iterations above 0 give a warning (RFC 9276 3.1).
 */
#define ZG_VERIFY_MAX_NSEC3_ITERATIONS 150

/*!
 * Zone keys of one algorithm that may share a key tag: more is an error (a
 * signature with that tag cannot be checked by KeyTrap-hardened resolvers,
 * e.g. PowerDNS Recursor's max-dnskeys, default 2); 2 give a warning. No
 * signature is verified against more keys than this.
 */
#define ZG_VERIFY_MAX_TAG_KEYS 2

/*! NSEC3 chains (NSEC3PARAM records with flags 0) checked at most; more is an error. */
#define ZG_VERIFY_MAX_NSEC3_CHAINS 4

/*! Validation options. */
typedef struct {
	int64_t now;             /*!< Validation time (unix seconds). */
	int64_t horizon;         /*!< Warn about signatures expiring within this many seconds; 0: off. */
	unsigned threads;        /*!< Worker threads for zg_verify_zone(); 0: online CPUs. */
	const uint8_t *ds;       /*!< Trusted DS rdata packed like zg_rrset_t data (host-order
	                              uint16 length, rdata; see zg_ds_load_file()); NULL: trust SEP keys. */
	size_t ds_size;          /*!< Bytes at \a ds. */
	uint16_t ds_count;       /*!< Number of DS records at \a ds. */
	bool skip_zonemd;        /*!< Do not verify ZONEMD digests. */
	bool p256_openssl;       /*!< Verify algorithm 13 with OpenSSL, not the native
	                              P-256 verifier (also forced by ZG_P256=openssl). */
	const atomic_bool *cancel; /*!< NULL, or a flag owned by the caller (it must outlive
	                              the verifier): once set, zg_verify_zone(),
	                              zg_verify_node() and zg_verify_zonemd() stop at the
	                              next node and return -ECANCELED. */
} zg_verify_opts_t;

/*! Zone-level validation state; opaque. */
typedef struct zg_verifier zg_verifier_t;

/*! Per-thread state (crypto context and buffers); opaque. */
typedef struct zg_verify_worker zg_verify_worker_t;

/*!
 * Prepares validation of \a zone: parses the apex DNSKEY RRset and NSEC3PARAM.
 * Zone-level findings (no DNSKEY, unsupported algorithms) go to \a report.
 *
 * The zone must stay alive and unchanged (apex keys) while the verifier is used;
 * \a opts is copied (the DS data it points to must outlive the verifier).
 *
 * \return 0, -ENOMEM; free with zg_verifier_free().
 */
int zg_verifier_new(zg_verifier_t **out, const zg_zone_t *zone, const zg_verify_opts_t *opts,
                    zg_report_t *report);

/*! Frees a verifier (NULL is allowed). */
void zg_verifier_free(zg_verifier_t *v);

/*!
 * The i-th NSEC3 chain the verifier checks (hash algorithm, iterations and
 * salt, owned by the verifier); false past the last (or in an NSEC zone).
 */
bool zg_verifier_nsec3_chain(const zg_verifier_t *v, unsigned i, uint8_t *alg, uint16_t *iter,
                             const uint8_t **salt, size_t *salt_len);

/*! Creates per-thread state; free with zg_verify_worker_free(). Returns 0 or -ENOMEM. */
int zg_verify_worker_new(zg_verify_worker_t **out);

/*! Frees per-thread state (NULL is allowed). */
void zg_verify_worker_free(zg_verify_worker_t *w);

/*!
 * Validates the whole zone with opts.threads threads; findings are appended
 * to \a report in owner order (names, then NSEC3 owners, then ZONEMD).
 * Clears and uses the ZG_NODE_MARK bits of the zone.
 *
 * Checks opts.cancel before every node (every thread), so a set flag ends
 * the run within the time one node takes; the report is then incomplete.
 *
 * \return 0 (the zone may still be invalid: see report->errors), -ENOMEM,
 *         -ECANCELED (opts.cancel set), or -errno if threads cannot be started.
 */
int zg_verify_zone(zg_verifier_t *v, zg_report_t *report);

/*!
 * Validates one owner node: for a name node its RRSIGs, delegation/glue rules,
 * its NSEC (next name against the current successor, bitmap) or its NSEC3 and
 * the NSEC3 of the empty non-terminals between its predecessor and itself; for
 * an NSEC3 node its RRSIGs, parameters and next hash (orphan NSEC3 records are
 * only found by zg_verify_zone()). NSEC3 nodes matched by hashed names get
 * ZG_NODE_MARK.
 *
 * After a change, call it for every changed owner, for the NSEC predecessor
 * of added/removed owners (zg_zone_find_leq() / zg_node_prev()), and for the
 * NSEC3 nodes whose next hash may be affected.
 *
 * Thread-safe for distinct workers as long as the zone does not change.
 *
 * \return 0, -ENOMEM, or -ECANCELED when opts.cancel is set (nothing checked).
 */
int zg_verify_node(zg_verifier_t *v, zg_verify_worker_t *w, zg_node_t *node,
                   zg_report_t *report);

/*!
 * Queues the signatures of \a node that the native P-256 verifier checks
 * (algorithm 13 by a zone key, within their validity period) for one batch
 * on this worker. The next zg_verify_node() call on the worker verifies the
 * whole batch at once and every call uses its results; queuing after that
 * starts a new batch. Signatures not queued are verified one by one, so the
 * verdicts are the same with or without it. The zone must not change between
 * queuing and the zg_verify_node() calls that use the batch.
 *
 * \return 0, -ENOMEM.
 */
int zg_verify_prefetch(zg_verifier_t *v, zg_verify_worker_t *w, zg_node_t *node);

/*!
 * Like zg_verify_node(), for a node none of whose RRsets changed since they
 * last validated with the same zone keys (a neighbour of changed owners):
 * every check except the cryptographic verification of its signatures, which
 * count as valid when made by a zone key (algorithm, key tag) and within
 * their validity period. They are not counted in report->stats.signatures.
 *
 * \return as zg_verify_node().
 */
int zg_verify_node_unchanged(zg_verifier_t *v, zg_verify_worker_t *w, zg_node_t *node,
                             zg_report_t *report);

/*!
 * Validates the ZONEMD RRset at the apex (if any) by digesting the zone.
 *
 * \return 0, -ENOMEM, or -ECANCELED when opts.cancel is set (checked every
 *         1024 nodes of the digest).
 */
int zg_verify_zonemd(zg_verifier_t *v, zg_report_t *report);

/*!
 * Reads DS records (presentation format, owner = \a origin) from a file.
 *
 * \param out    Receives the packed rdata (uint16 length in host order, rdata),
 *               ready for zg_verify_opts_t.ds; the caller frees it with zg_buf_deinit().
 * \param count  Receives the number of DS records.
 *
 * \return 0; ZG_ESYNTAX, ZG_EINPUT (owner not the zone, other types, no DS; or
 *         what zg_zone_file_check() refuses)
 *         or -errno with \a err filled.
 */
int zg_ds_load_file(const char *path, const uint8_t *origin, zg_buf_t *out, uint16_t *count,
                    zg_load_error_t *err);

#endif /* ZONEGATE_VERIFY_H */
