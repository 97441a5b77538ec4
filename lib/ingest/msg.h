/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * JSON ingest messages (version 1, see doc/contracts.md): parsing and the
 * refusal rules.
 *
 * A message lists owners with the complete RRsets each should have after the
 * message is applied. zg_msg_parse() checks the whole message and either fills
 * a zg_msg_t or refuses it with a one-line reason naming the message id, the
 * owner and the field, e.g.
 *   message 20261123T052001Z-000042: owner www.other. outside zone test.
 *   message X: owner a.test. rrset A: bad rdata "300.1.1.1" (invalid IPv4 address)
 */
#ifndef ZONEGATE_MSG_H
#define ZONEGATE_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libknot/dname.h>
#include <libknot/rrset.h>

#include "core/arena.h"

#define ZG_MSG_VERSION		1
#define ZG_MSG_ID_MAX		64        /*!< Longest message id (characters). */
#define ZG_MSG_DEPTH_MAX	8         /*!< Deepest JSON nesting accepted. */
#define ZG_MSG_RDATA_TEXT_MAX	(128 * 1024) /*!< Longest rdata string. */
#define ZG_MSG_REASON_MAX	512       /*!< Buffer size enough for any reason. */

#define ZG_MSG_MAX_SIZE_DEFAULT	(64 * 1024 * 1024)
#define ZG_MSG_MAX_CHANGES_DEFAULT 100000
#define ZG_MSG_TTL_MAX_DEFAULT	2147483647U /*!< RFC 2181, section 8. */

/*! Limits a message is checked against. */
typedef struct {
	size_t max_size;      /*!< Largest message in bytes of JSON. */
	size_t max_changes;   /*!< Most owners in one message. */
	uint32_t ttl_min;     /*!< Smallest TTL accepted. */
	uint32_t ttl_max;     /*!< Largest TTL accepted. */
} zg_msg_limits_t;

/*! The new state of one owner. */
typedef struct {
	knot_dname_t *owner;    /*!< Owner, lower case. */
	knot_rrset_t *rrsets;   /*!< Complete RRsets (class IN), none for removal. */
	uint16_t rrset_count;
	bool apex;              /*!< The owner is the zone apex. */
} zg_change_t;

/*! A parsed message; everything in it is allocated from its pool. */
typedef struct {
	char id[ZG_MSG_ID_MAX + 1]; /*!< Message id ("" until parsed). */
	knot_dname_t *zone;         /*!< Zone, lower case. */
	zg_change_t *changes;       /*!< Owners, in message order, each once. */
	size_t change_count;
	size_t rr_count;            /*!< Records in all RRsets. */
	zg_arena_t pool;
} zg_msg_t;

typedef struct zg_msg_parser zg_msg_parser_t;

/*!
 * Fills limits with the defaults (64 MiB, 100,000 owners, TTL 0..2^31-1).
 */
void zg_msg_limits_default(zg_msg_limits_t *limits);

/*!
 * Initialises an empty message (embedded; release with zg_msg_deinit()).
 */
void zg_msg_init(zg_msg_t *msg);

/*!
 * Releases everything the message holds; it may be initialised again.
 */
void zg_msg_deinit(zg_msg_t *msg);

/*!
 * Creates a parser; it holds a zone-file scanner reused for every rdata.
 *
 * \param limits  Limits to apply (copied), or NULL for the defaults.
 *
 * \return Parser to release with zg_msg_parser_free(), or NULL (out of memory).
 */
zg_msg_parser_t *zg_msg_parser_new(const zg_msg_limits_t *limits);

/*!
 * Releases a parser (NULL is fine).
 */
void zg_msg_parser_free(zg_msg_parser_t *parser);

/*!
 * Parses and checks one message.
 *
 * The previous content of msg is dropped first (its pool is reused).
 *
 * \param parser      Parser (not thread-safe: one per thread).
 * \param data        The JSON text (need not be NUL-terminated).
 * \param len         Its length in bytes.
 * \param zone        The zone the message must be for, or NULL for any.
 * \param msg         Initialised message to fill (owned by the caller).
 * \param reason      Buffer for the refusal reason (ZG_MSG_REASON_MAX is enough).
 * \param reason_len  Size of the buffer.
 *
 * \retval 0              Accepted; msg holds the changes.
 * \retval ZG_ESYNTAX     Not valid JSON (or not UTF-8); reason says where.
 * \retval ZG_ETOOBIG     Over a size limit.
 * \retval ZG_EOUTOFZONE  An owner outside the zone, or the wrong zone.
 * \retval ZG_EINPUT      Refused by another rule.
 * \retval -ENOMEM        Out of memory.
 * On every error reason holds one line without a final newline.
 */
int zg_msg_parse(zg_msg_parser_t *parser, const char *data, size_t len,
                 const knot_dname_t *zone, zg_msg_t *msg,
                 char *reason, size_t reason_len);

/*!
 * Writes a message (version 1, compact JSON): id, zone (presentation, with
 * the final dot) and the changes in order, each an owner with its complete
 * RRsets (type, TTL, rdata in presentation format; rrset_count 0: the owner
 * is removed). What zg_msg_parse() reads back. The writer of every message
 * zonegate itself produces (the CDS scanner's DS changes).
 *
 * \return The text (free() it), or NULL (out of memory, or a name or rdata
 *         that cannot be printed).
 */
char *zg_msg_write(const char *id, const char *zone, const zg_change_t *changes, size_t count);

/*!
 * Writes src into dst as a double-quoted string, escaping quotes,
 * backslashes and bytes outside printable ASCII as \xNN; cut to at most
 * max_show source bytes with "..." appended. Always NUL-terminates.
 *
 * \return dst.
 */
char *zg_quote(char *dst, size_t dst_len, const char *src, size_t src_len,
               size_t max_show);

/*!
 * Copies the NUL-terminated src into dst for a log line or a one-line file:
 * backslashes doubled, control characters (newline, ESC, ...), DEL and bytes
 * outside ASCII written as \xNN, so untrusted text (file names, message
 * text quoted in a reason) can neither break a line nor forge one. Cut at
 * dst_len - 1 bytes (never inside an escape); always NUL-terminates when
 * dst_len > 0.
 *
 * \return dst.
 */
char *zg_msg_escape(const char *src, char *dst, size_t dst_len);

/*!
 * True for the types the signer owns (DNSKEY, RRSIG, NSEC, NSEC3,
 * NSEC3PARAM, CDS, CDNSKEY); those are never changed by ingest.
 */
bool zg_msg_type_is_dnssec(uint16_t type);

#endif /* ZONEGATE_MSG_H */
