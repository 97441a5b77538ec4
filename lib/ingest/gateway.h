/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * The ingest gateway: applies parsed messages to a primary with RFC 2136
 * UPDATEs (TCP, TSIG), sending only the real difference to what the server
 * serves (see update.h), and tells applied, refused and "try again" apart.
 */
#ifndef ZONEGATE_GATEWAY_H
#define ZONEGATE_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <libknot/tsig.h>

#include "ingest/msg.h"

/*! Gateway settings. */
typedef struct {
	struct sockaddr_storage server; /*!< UPDATE target. */
	const knot_tsig_key_t *key;     /*!< TSIG key (borrowed), or NULL. */
	int timeout_ms;                 /*!< Per network operation; 0 = 10 s. */
	bool blind;                     /*!< Do not read the owners first. */
	unsigned servfail_retries;      /*!< Retries of an UPDATE answered SERVFAIL. */
	unsigned retry_delay_ms;        /*!< First retry delay (doubles each time). */
	unsigned batch_max;             /*!< Most messages sent at once (pipelined). */
	unsigned max_removal_pct;       /*!< Refuse a message removing more than this
	                                     share (%) of the zone's delegations; 0: no limit. */
	const char *ctl_socket;         /*!< knotd's control socket (borrowed), or NULL:
	                                     a message that needs more than one UPDATE
	                                     is applied there in one zone transaction
	                                     (without it, such a message is held). */
	int ctl_timeout_ms;             /*!< Bound of each control operation (the
	                                     commit signs); 0 = 10 x timeout_ms. */
} zg_gateway_conf_t;

/*! What applying one message did. */
typedef struct {
	size_t owners_changed;  /*!< Owners that differed from the server's data. */
	size_t updates;         /*!< UPDATE messages sent (retries not counted). */
	size_t ops;             /*!< Records in them (deletions and additions). */
	uint32_t serial;        /*!< Zone serial served afterwards. */
	bool serial_known;
	bool transaction;       /*!< Applied in one control-socket zone transaction
	                             (too big for one UPDATE). */
} zg_apply_result_t;

/*! One message of a batch and its outcome. */
typedef struct {
	const zg_msg_t *msg;            /*!< In: the parsed message. */
	int ret;                        /*!< Out: 0 applied, ZG_EREFUSED refused, else not done. */
	zg_apply_result_t res;          /*!< Out: what was done. */
	char reason[ZG_MSG_REASON_MAX]; /*!< Out: reason when ret != 0. */
	const void *states;             /*!< Internal. */
	bool whole;                     /*!< Internal: applied alone (needs a zone
	                                     transaction, or removes delegations
	                                     beyond what a batch can check). */
} zg_apply_item_t;

typedef struct zg_gateway zg_gateway_t;

/*!
 * Fills conf with defaults: 127.0.0.1@53, no key, 10 s, 3 retries from
 * 200 ms, batches of up to 16 messages, removal limit 10 % of the
 * delegations (counted by AXFR, TSIG-signed and checked when a key is set,
 * when a message first removes one; a message removing delegations waits
 * while the count fails).
 */
void zg_gateway_conf_default(zg_gateway_conf_t *conf);

/*!
 * Creates a gateway (no connection is opened yet).
 *
 * \param conf  Settings (copied; the key is borrowed and must outlive the gateway).
 *
 * \return Gateway to release with zg_gateway_free(), or NULL (out of memory).
 */
zg_gateway_t *zg_gateway_new(const zg_gateway_conf_t *conf);

/*!
 * Closes the connection and frees the gateway (NULL is fine).
 */
void zg_gateway_free(zg_gateway_t *gw);

/*!
 * Applies one message.
 *
 * \param gw      Gateway.
 * \param msg     Parsed message.
 * \param res     Filled with what was done (may be NULL).
 * \param reason  One-line reason on error (ZG_MSG_REASON_MAX bytes is enough).
 *
 * \retval 0            Applied (or nothing to change).
 * \retval ZG_EREFUSED  Refused for good: the server answered an error RCODE
 *                      other than SERVFAIL (reason names the message, the
 *                      UPDATE and the RCODE), the removal limit, or an
 *                      owner of the message below a DNAME of the zone.
 * A message whose changes need more than one UPDATE is applied in one zone
 * transaction on conf.ctl_socket instead, so that it is published whole as
 * one serial or not at all (ZG_EINACTIVE when no socket is configured).
 *
 * \retval other        Could not finish now (network, timeout, TSIG of the
 *                      answer, SERVFAIL after every retry: a failing server,
 *                      the delegations for the removal limit not countable);
 *                      apply the same message again later (full-state
 *                      replacement makes that safe).
 */
int zg_gateway_apply(zg_gateway_t *gw, const zg_msg_t *msg, zg_apply_result_t *res,
                     char *reason, size_t reason_len);

/*!
 * Applies several consecutive messages of one zone, pipelining their UPDATEs
 * so that the server can apply them as one batch (Knot 3.2: one serial bump
 * and one signing pass for all UPDATEs waiting).
 *
 * Messages are grouped in runs whose owners do not overlap (so their order
 * inside a run does not matter) of at most conf.batch_max. Knot answers
 * SERVFAIL to every UPDATE of a batch when one of them fails; the gateway
 * then retries the failed messages, splitting the group in halves
 * (bisection) until the failing message is alone, and only a message sent
 * alone is refused on the server's verdict. A lone message answered
 * SERVFAIL after every retry is refused only if other messages of the run
 * applied meanwhile; otherwise the server itself may be failing and the
 * message is left for later (transient). A retried message is read and
 * diffed again, so what already got applied is not sent twice.
 *
 * \param items  Messages in queue order; ret, res and reason are filled.
 *
 * \return 0 when every item has its verdict (ret 0 or ZG_EREFUSED); else a
 *         transient code, and items without verdict carry it in ret (apply
 *         them again later).
 */
int zg_gateway_apply_batch(zg_gateway_t *gw, zg_apply_item_t *items, size_t n);

/*!
 * Reads the zone's SOA serial (a plain query over the gateway's connection).
 *
 * \return 0 or a negative code.
 */
int zg_gateway_serial(zg_gateway_t *gw, const knot_dname_t *zone, uint32_t *serial);

#endif /* ZONEGATE_GATEWAY_H */
