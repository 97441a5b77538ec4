/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * RFC 2136 UPDATE messages for a parsed ingest message: full-state
 * replacement per owner, packed into as few messages as fit in 65,535 bytes.
 *
 * With the owners' current RRsets (zg_update_read_state()), only the real
 * difference is sent: unchanged owners are left out (Knot 3.2 bumps the
 * serial for every UPDATE, even one that changes nothing), changed RRsets
 * are replaced (delete RRset + add; Knot does not re-sign RRsets that end up
 * unchanged), RRsets no longer listed are deleted. Without them ("blind"
 * mode) every listed owner is replaced: delete the whole name (not at the
 * apex) and add the listed RRsets, which makes Knot re-sign the owner's
 * RRsets even when nothing changed.
 *
 * Never touched: SOA and NS at the apex, DNSSEC records (the signer's).
 */
#ifndef ZONEGATE_UPDATE_H
#define ZONEGATE_UPDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libknot/packet/pkt.h>

#include "dns/dnsclient.h"
#include "core/arena.h"
#include "ingest/msg.h"

#define ZG_UPDATE_MAX_SIZE	65535

/*! Current RRsets at an owner, as served. */
typedef struct {
	knot_rrset_t *rrsets;   /*!< Non-DNSSEC RRsets at the owner. */
	uint16_t count;
	bool complete;          /*!< Authoritative data or NXDOMAIN: nothing else there.
	                             False below a zone cut (only glue seen). */
	bool absent;            /*!< NXDOMAIN. */
	bool at_cut;            /*!< The owner is a zone cut (delegation). */
	bool types_unknown;     /*!< No type list to be had (a zone without DNSSEC):
	                             a changed owner is replaced whole. */
	uint16_t *types;        /*!< The owner's types from its NSEC/NSEC3 bitmap
	                             (DNSSEC types, SOA, apex NS left out). */
	uint16_t type_count;
} zg_owner_state_t;

/*! One UPDATE message and the owners it carries. */
typedef struct {
	knot_pkt_t *pkt;        /*!< Unsigned, ends with an OPT (EDNS); TSIG space reserved. */
	size_t first_change;    /*!< Index of the first change (zg_msg_t.changes) in it. */
	size_t last_change;     /*!< Index of the last one. */
} zg_update_t;

/*! A list of UPDATEs; packets are kept and reused between builds. */
typedef struct {
	zg_update_t *items;
	size_t count;
	size_t alloc;
	size_t owners_changed;  /*!< Owners with at least one operation. */
	size_t ops;             /*!< Records written (deletions and additions). */
	zg_arena_t pool;        /*!< Temporary rrsets for the packets. */
} zg_update_list_t;

/*! Embedded init/deinit; zg_update_list_deinit() frees every packet. */
void zg_update_list_init(zg_update_list_t *list);
void zg_update_list_deinit(zg_update_list_t *list);

/*!
 * Builds the UPDATEs for msg.
 *
 * \param list          Output (previous content dropped, packets reused).
 * \param msg           Parsed message (must outlive the packets' use).
 * \param states        Current state of each owner (msg->change_count entries,
 *                      from zg_update_read_state()), or NULL for blind mode.
 * \param max_size      Largest UPDATE (<= 65535), TSIG included.
 * \param tsig_reserve  Bytes to keep free for the TSIG RR (knot_tsig_wire_size()).
 *
 * \return 0 or a negative code (-ENOMEM, KNOT_E*).
 */
int zg_update_build(zg_update_list_t *list, const zg_msg_t *msg,
                    const zg_owner_state_t *states, size_t max_size,
                    size_t tsig_reserve);

/*! One operation of a plan (zg_update_plan()). */
typedef enum {
	ZG_UPDATE_DEL_NODE,     /*!< Delete every RRset at the owner (never at the apex). */
	ZG_UPDATE_DEL_RRSET,    /*!< Delete the RRset of a type. */
	ZG_UPDATE_ADD,          /*!< Add an RRset of the message. */
} zg_update_op_t;

/*!
 * Called by zg_update_plan() for each operation, owners in message order,
 * deletions of an owner before its additions.
 *
 * \param change  Index of the change (msg->changes).
 * \param type    The type (0 for ZG_UPDATE_DEL_NODE).
 * \param rr      The RRset to add (ZG_UPDATE_ADD), else NULL.
 *
 * \return 0 to go on, a negative code to stop with it.
 */
typedef int (*zg_update_op_cb_t)(void *ctx, size_t change, zg_update_op_t op, uint16_t type,
                                 const knot_rrset_t *rr);

/*!
 * The operations zg_update_build() would pack into UPDATEs, one by one:
 * for applying a message by other means (a control-socket transaction).
 *
 * \param states  As for zg_update_build() (NULL: blind).
 *
 * \return 0, the first non-zero return of cb, or -ENOMEM.
 */
int zg_update_plan(const zg_msg_t *msg, const zg_owner_state_t *states,
                   zg_update_op_cb_t cb, void *ctx);

/*!
 * Does change ch remove a delegation: the owner is a zone cut (st, from
 * zg_update_read_state(); NULL: blind, unknown) and ch lists no NS?
 */
bool zg_update_removes_cut(const zg_change_t *ch, const zg_owner_state_t *st);

/*!
 * The grouping rule of the gateway's batches: messages a and b (owners
 * disjoint, states from zg_update_read_state(), NULL when blind) may not be
 * applied in one serial when one removes a delegation at or above an owner
 * of the other. Removing a delegation removes its glue as read before the
 * batch is sent (the names below the cut its NS set points to), so a
 * message listing a name at or below the cut must come strictly after it,
 * in a later serial, and one before it strictly before.
 *
 * \return true when a and b must not share a serial.
 */
bool zg_update_cut_conflict(const zg_msg_t *a, const zg_owner_state_t *sa,
                            const zg_msg_t *b, const zg_owner_state_t *sb);

/*!
 * Reads the current RRsets of every owner of msg over conn: one query (DO
 * set, TCP, pipelined in a bounded window, written many at a time) per
 * owner for its NSEC records, whose answer says whether the owner exists,
 * is a zone cut (the referral carries its NS and DS sets: nothing else is
 * visible there) or lies below one, and lists the owner's types (its NSEC
 * record, or the NSEC3 record of its hash: the signer's own type bitmap);
 * then one query per type of that list. Every type at the owner is seen,
 * TYPE65280 as well as A, so full-state replacement removes whatever is not
 * listed. Knot answers ANY with a single RRset (RFC 8482; over TCP and with
 * TSIG too), so ANY cannot be used. In a zone without DNSSEC there is no
 * type list: states[i].types_unknown is set and a changed owner is
 * replaced whole.
 *
 * \param conn    Open connection to the server.
 * \param msg     Parsed message.
 * \param states  Array of msg->change_count entries to fill; RRsets are
 *                allocated from pool.
 * \param pool    Pool owned by the caller (reset it before the next message).
 * \param reason  Buffer for a one-line reason on error.
 *
 * \retval 0, ZG_EREFUSED (the server refused a query), ZG_EPROTO,
 *         ZG_ETIMEOUT, ZG_ECONNECT, -ENOMEM; ZG_EINPUT (the message's
 *         verdict, reason set) when an owner lies below a DNAME: its data
 *         would be occluded, and Knot 3.4+ silently ignores such additions.
 */
int zg_update_read_state(zg_dnsconn_t *conn, const zg_msg_t *msg,
                         zg_owner_state_t *states, zg_arena_t *pool,
                         char *reason, size_t reason_len);

#endif /* ZONEGATE_UPDATE_H */
