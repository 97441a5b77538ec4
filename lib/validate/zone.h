/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * Compact in-memory zone store.
 *
 * A zone holds two ordered sets of owner nodes:
 *   - the name tree: every owner except NSEC3 owners, in canonical DNS order
 *     (RFC 4034 6.1);
 *   - the NSEC3 tree: owners holding NSEC3 records (and their RRSIGs), in hash
 *     order (which is the canonical order of their base32hex labels).
 *
 * A node holds its RRsets; each RRset's rdata is kept in canonical form
 * (names lowercased for the RFC 4034 6.2 / RFC 6840 types), sorted in
 * canonical order and without duplicates, so RRSIG verification and ZONEMD
 * need no per-record transformation. RRSIGs are grouped per covered type: an
 * RRset of type RRSIG has `covered` set.
 *
 * Usage:
 *   - bulk: zg_zone_new(), zg_zone_add() for each RR (grouped by owner for
 *     best memory use, though any order works), zg_zone_finalize();
 *     zg_zone_load_file() does all of it from a zone file;
 *   - incremental (after finalize): zg_zone_add() / zg_zone_remove() change
 *     one RR at a time and keep the order and the node flags up to date.
 *
 * Nodes returned by lookups stay valid until the next change of the same
 * owner (a change replaces the node) or zg_zone_free(). The memory of a
 * replaced or removed node goes back to the store, and later changes take
 * their nodes from it before the store grows: a long stream of changes that
 * keeps the zone's size keeps the store's (zg_zone_mem()). Lookups may run in
 * many threads at once; changes must be serialised by the caller and must
 * not run concurrently with lookups.
 */
#ifndef ZONEGATE_ZONE_H
#define ZONEGATE_ZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/diff.h"
#include "dns/dname.h"


/*! Node flags. */
enum zg_node_flags {
	ZG_NODE_APEX    = 1 << 0,  /*!< The zone apex. */
	ZG_NODE_DELEG   = 1 << 1,  /*!< Delegation point (NS, not apex, not below another cut). */
	ZG_NODE_NONAUTH = 1 << 2,  /*!< Strictly below a delegation or a DNAME (glue or occluded
	                                data; RFC 6672 2.3: names below a DNAME are not authoritative). */
	ZG_NODE_NSEC3   = 1 << 3,  /*!< Node of the NSEC3 tree. */
	ZG_NODE_BELOW_DNAME = 1 << 4, /*!< With ZG_NODE_NONAUTH: the cut above is a DNAME (at the
	                                apex or at an authoritative name), not a delegation. */
	ZG_NODE_MARK    = 1 << 8,  /*!< Scratch bit for checkers (set with atomics). */
};

/*! One RRset of a node (read-only view). */
typedef struct {
	uint16_t type;          /*!< RR type. */
	uint16_t covered;       /*!< Type covered for RRSIG sets, otherwise 0. */
	uint16_t count;         /*!< Number of RRs. */
	uint16_t reserved;
	uint32_t ttl;           /*!< TTL (of the first RR in the input). */
	uint32_t size;          /*!< Bytes at data. */
	const uint8_t *data;    /*!< count times: uint16_t length (host order), rdata. */
} zg_rrset_t;

/*! Owner node; opaque except through the functions below. */
typedef struct zg_node zg_node_t;

/*! Zone; opaque. */
typedef struct zg_zone zg_zone_t;

/*! Where and why a zone file failed to load. */
typedef struct {
	char file[256];       /*!< File name (of an $INCLUDE-d file if the error is there). */
	uint64_t line;        /*!< Line number, 0 if not applicable. */
	char reason[256];     /*!< Short lowercase reason. */
} zg_load_error_t;

/*!
 * Creates an empty zone in bulk-load mode.
 *
 * \param out     Receives the zone; free it with zg_zone_free().
 * \param origin  Zone apex in wire format (any case).
 *
 * \return 0, -ENOMEM or KNOT_EINVAL for a malformed name.
 */
int zg_zone_new(zg_zone_t **out, const uint8_t *origin);

/*! Frees the zone and every node (NULL is allowed). */
void zg_zone_free(zg_zone_t *zone);

/*!
 * Adds one RR. Before zg_zone_finalize() this appends to the bulk load;
 * afterwards it updates the zone in place (replacing the owner's node).
 * Adding an RR that is already present does nothing.
 *
 * \param owner  Owner in wire format (any case; stored lowercased).
 * \param rdata  Rdata in wire format (uncompressed); copied.
 *
 * \return 0, ZG_EOUTOFZONE if the owner is not at or below the apex,
 *         KNOT_EMALF for malformed rdata, -ENOMEM.
 */
int zg_zone_add(zg_zone_t *zone, const uint8_t *owner, uint16_t type, uint32_t ttl,
                const uint8_t *rdata, uint16_t rdlen);

/*!
 * Removes one RR (matched by owner, type and canonical rdata); an owner left
 * without RRs disappears. Only after zg_zone_finalize().
 *
 * \return 0, KNOT_ENOENT if there is no such RR, KNOT_EINVAL before finalize.
 */
int zg_zone_remove(zg_zone_t *zone, const uint8_t *owner, uint16_t type,
                   const uint8_t *rdata, uint16_t rdlen);

/*!
 * Appends the bulk load of \a src to the bulk load of \a dst, as if \a src's
 * RRs had been added to \a dst after its own (and its out-of-zone records
 * noted after those of \a dst), and frees \a src. Both zones
 * must be in bulk-load mode and have the same origin. This is how parts of
 * a zone loaded in parallel become one zone.
 *
 * \return 0 (\a src is freed), KNOT_EINVAL (not bulk mode or another origin),
 *         -ENOMEM (both zones are left as they were).
 */
int zg_zone_absorb(zg_zone_t *dst, zg_zone_t *src);

/*!
 * Ends the bulk load: sorts, merges owners that appeared more than once,
 * links the ordered sets and computes node flags.
 *
 * \return 0, -ENOMEM.
 */
int zg_zone_finalize(zg_zone_t *zone);

/*!
 * Loads a zone file with libzscanner (streaming, the text is not kept).
 *
 * \param out     Receives the finalized zone; free it with zg_zone_free().
 * \param path    Zone file.
 * \param origin  Origin in presentation format, or NULL to take it from the
 *                file: the owner of the first SOA record (relative names
 *                before a $ORIGIN are then relative to the root).
 * \param err     Filled on failure (may be NULL).
 *
 * Records outside the origin do not fail the load: they are left out of the
 * zone and remembered (zg_zone_outside()), for the checks to name them.
 *
 * The file is checked before it is read (zg_zone_file_check()).
 *
 * \return 0; ZG_ESYNTAX (syntax error, err says file and line), ZG_EINPUT
 *         (no SOA at the apex, class other than IN, not a regular file, empty,
 *         binary data), -errno for I/O errors, -ENOMEM.
 */
int zg_zone_load_file(zg_zone_t **out, const char *path, const char *origin,
                      zg_load_error_t *err);

/*! Bytes at the start of a zone file that zg_zone_file_check() reads. */
#define ZG_FILE_CHECK_HEAD (64 << 10)

/*!
 * Checks a zone (or DS) file before it is parsed, so that what cannot be a
 * zone file fails at once with a clear reason instead of after the scanner
 * has read all of it: it must be a regular file (not a directory, FIFO,
 * device or socket: opened without blocking), not empty, and its first
 * ZG_FILE_CHECK_HEAD bytes must hold no NUL byte (binary data, or a sparse
 * file: libzscanner reads a line to its end before it reports an error on
 * it, and such a file may have no line end for gigabytes).
 *
 * \param err  Receives file, line (of a NUL byte) and reason on failure (may be NULL).
 *
 * \return 0, ZG_EINPUT (not a regular file, empty, binary), -errno (cannot open or read).
 */
int zg_zone_file_check(const char *path, zg_load_error_t *err);

/*! Most parts zg_zone_load_file_opts() cuts a file into. */
#define ZG_LOAD_MAX_PARTS 8
/*! Smallest part (bytes) when zg_zone_load_file_opts() picks the number of parts. */
#define ZG_LOAD_MIN_PART (4 << 20)

/*! Options of zg_zone_load_file_opts(). */
typedef struct {
	unsigned threads;  /*!< In: parts parsed in parallel. 0: one per online CPU, but
	                        parts of at least ZG_LOAD_MIN_PART bytes; 1: no split; N:
	                        up to N parts (at most ZG_LOAD_MAX_PARTS) whatever the size. */
	unsigned parts;    /*!< Out: parts the zone was parsed in; 1 when the text was not
	                        cut or a part failed and the file was parsed again whole. */
} zg_load_opts_t;

/*!
 * Like zg_zone_load_file(), but parses large files in several parts in
 * parallel threads: the text is cut at record boundaries (see
 * zg_zone_text_split()), each part starts with the $ORIGIN and $TTL in force
 * at its cut, and the parts are merged with zg_zone_absorb(). The result is
 * the same as that of zg_zone_load_file(): after the parts are parsed, the
 * scanner state at the end of each part is checked against what the next
 * part assumed; on any mismatch or error the file is parsed again in one
 * piece, so errors (and their line numbers) are exactly those of the
 * single-threaded load.
 *
 * \param opts  NULL for the defaults (threads 0); \a parts is filled.
 */
int zg_zone_load_file_opts(zg_zone_t **out, const char *path, const char *origin,
                           zg_load_opts_t *opts, zg_load_error_t *err);

/*!
 * Like zg_zone_load_string(), with the parallel parts of
 * zg_zone_load_file_opts() (relative $INCLUDE paths start at ".").
 */
int zg_zone_load_string_opts(zg_zone_t **out, const char *text, size_t len, const char *origin,
                             zg_load_opts_t *opts, zg_load_error_t *err);

/*!
 * Finds where zone text can be cut into parts that libzscanner can parse
 * independently: each cut is at the start of a line that begins a record
 * with an explicit owner, outside parentheses, quoted strings and comments,
 * near i * len / parts, and not between two records that share the owner
 * spelled the same way. Directive lines ($ORIGIN, $TTL, $INCLUDE) are never
 * cut at.
 *
 * \param cuts   Receives up to parts - 1 increasing offsets (0 < cut < len).
 *
 * \return Number of parts (number of cuts + 1); 1 if the text cannot be cut.
 */
unsigned zg_zone_text_split(const char *text, size_t len, unsigned parts, size_t *cuts);

/*!
 * Like zg_zone_load_file() but parses zone text from memory (no $INCLUDE).
 * Error locations name the file "(string)".
 */
int zg_zone_load_string(zg_zone_t **out, const char *text, size_t len, const char *origin,
                        zg_load_error_t *err);

/*! Out-of-zone records a zone remembers one by one (zg_zone_note_outside()). */
#define ZG_ZONE_OUTSIDE_MAX 100

/*!
 * Remembers a record that was left out of the zone because its owner is not
 * at or below the apex (the zone-file loader calls it for ZG_EOUTOFZONE).
 * Consecutive records of one owner and type count once. The first
 * ZG_ZONE_OUTSIDE_MAX owner/type pairs are kept; beyond them only the number
 * of further pairs, and of further NSEC/NSEC3 records, is counted.
 *
 * \return 0, -ENOMEM.
 */
int zg_zone_note_outside(zg_zone_t *zone, const uint8_t *owner, uint16_t type);

/*!
 * The i-th remembered out-of-zone owner/type pair (zone file order).
 *
 * \param owner  Receives the owner (wire format, lowercase; owned by the zone).
 *
 * \return false when i is past the last remembered pair.
 */
bool zg_zone_outside(const zg_zone_t *zone, size_t i, const uint8_t **owner, uint16_t *type);

/*!
 * Out-of-zone owner/type pairs beyond the remembered ones: \a more of them,
 * \a more_denial of which are NSEC or NSEC3 records (either may be NULL).
 */
void zg_zone_outside_more(const zg_zone_t *zone, size_t *more, size_t *more_denial);

/*! Zone apex in wire format, lowercase (owned by the zone). */
const uint8_t *zg_zone_origin(const zg_zone_t *zone);

/*! Apex node, or NULL if the apex has no data. */
zg_node_t *zg_zone_apex(const zg_zone_t *zone);

/*! SOA serial, or 0 without SOA; \a found (may be NULL) tells which. */
uint32_t zg_zone_serial(const zg_zone_t *zone, bool *found);

/*! Number of nodes in the name tree and in the NSEC3 tree; number of RRs. */
void zg_zone_counts(const zg_zone_t *zone, size_t *names, size_t *nsec3, size_t *rrs);

/*!
 * Memory of the store's nodes: \a total bytes the store took for them, of
 * which \a nfree are in no node now (blocks of replaced or removed nodes,
 * which later changes reuse before the store takes more); either may be NULL.
 * A stream of changes that leaves the content the same size leaves \a total
 * about the same (issue 20).
 */
void zg_zone_mem(const zg_zone_t *zone, size_t *total, size_t *nfree);

/*!
 * Appends every RR of a node to a diff, all as removals or all as additions
 * (rdata in the store's canonical form).
 *
 * \return 0, -ENOMEM.
 */
int zg_zone_node_to_diff(const zg_node_t *node, bool add, zg_diff_t *diff);

/*! First node of the name tree (the apex if it exists), or NULL. */
zg_node_t *zg_zone_first(const zg_zone_t *zone);

/*! First node of the NSEC3 tree, or NULL. */
zg_node_t *zg_zone_nsec3_first(const zg_zone_t *zone);

/*! Last node of the name tree / NSEC3 tree, or NULL. */
zg_node_t *zg_zone_last(const zg_zone_t *zone);
zg_node_t *zg_zone_nsec3_last(const zg_zone_t *zone);

/*! Exact lookup of an owner (wire, any case) in the name tree; NULL if absent. */
zg_node_t *zg_zone_find(const zg_zone_t *zone, const uint8_t *owner);

/*!
 * Canonical predecessor-or-equal of \a owner in the name tree: the node with
 * the greatest name <= owner, or NULL if owner sorts before every node.
 * Its successor (zg_node_next()) is the canonical successor of owner.
 */
zg_node_t *zg_zone_find_leq(const zg_zone_t *zone, const uint8_t *owner);

/*! Exact lookup of the NSEC3 node of a raw hash; NULL if absent. */
zg_node_t *zg_zone_find_nsec3(const zg_zone_t *zone, const uint8_t *hash, size_t hash_len);

/*!
 * NSEC3 node with the greatest hash <= \a hash, or NULL if the hash sorts
 * before every NSEC3 owner (the covering NSEC3 is then the last one).
 */
zg_node_t *zg_zone_find_nsec3_leq(const zg_zone_t *zone, const uint8_t *hash, size_t hash_len);

/*! Next / previous node in the same tree, or NULL at the end. */
zg_node_t *zg_node_next(const zg_node_t *node);
zg_node_t *zg_node_prev(const zg_node_t *node);

/*! Node flags (enum zg_node_flags). */
uint32_t zg_node_flags(const zg_node_t *node);

/*! Atomically sets ZG_NODE_MARK; returns whether it was set before. */
bool zg_node_mark(zg_node_t *node);

/*! Clears ZG_NODE_MARK on every node of both trees (not thread-safe). */
void zg_zone_clear_marks(zg_zone_t *zone);

/*!
 * Writes the owner of a node in wire format, lowercase.
 *
 * \param buf  At least ZG_DNAME_MAXLEN bytes.
 *
 * \return Length of the name.
 */
size_t zg_node_owner(const zg_node_t *node, uint8_t *buf);

/*! Canonical key of the node (see zg_dname_key()); \a len receives its length. */
const uint8_t *zg_node_key(const zg_node_t *node, size_t *len);

/*! Number of RRsets of the node. */
unsigned zg_node_rrset_count(const zg_node_t *node);

/*! The i-th RRset (sorted by type, then covered type). */
const zg_rrset_t *zg_node_rrset_at(const zg_node_t *node, unsigned i);

/*! RRset of \a type (not RRSIG), or NULL. */
const zg_rrset_t *zg_node_rrset(const zg_node_t *node, uint16_t type);

/*! RRSIGs covering \a covered, or NULL. */
const zg_rrset_t *zg_node_rrsig(const zg_node_t *node, uint16_t covered);

/*! Iterates RRs of an RRset: `const uint8_t *rd; uint16_t len; size_t pos = 0;
 *  while (zg_rrset_next(set, &pos, &rd, &len)) { ... }` */
static inline bool zg_rrset_next(const zg_rrset_t *set, size_t *pos,
                                 const uint8_t **rdata, uint16_t *len)
{
	if (*pos >= set->size) {
		return false;
	}
	uint16_t l;
	__builtin_memcpy(&l, set->data + *pos, sizeof(l));
	*len = l;
	*rdata = set->data + *pos + 2;
	*pos += 2 + (size_t)l;
	return true;
}

#endif /* ZONEGATE_ZONE_H */
