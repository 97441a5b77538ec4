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

#include "zonegate/msg.h"

/*! Gateway settings. */
typedef struct {
	struct sockaddr_storage server; /*!< UPDATE target. */
	const knot_tsig_key_t *key;     /*!< TSIG key (borrowed), or NULL. */
	int timeout_ms;                 /*!< Per network operation; 0 = 10 s. */
	bool blind;                     /*!< Do not read the owners first. */
	unsigned servfail_retries;      /*!< Retries of an UPDATE answered SERVFAIL. */
	unsigned retry_delay_ms;        /*!< First retry delay (doubles each time). */
} zg_gateway_conf_t;

/*! What applying one message did. */
typedef struct {
	size_t owners_changed;  /*!< Owners that differed from the server's data. */
	size_t updates;         /*!< UPDATE messages sent (retries not counted). */
	size_t ops;             /*!< Records in them (deletions and additions). */
	uint32_t serial;        /*!< Zone serial served afterwards. */
	bool serial_known;
} zg_apply_result_t;

typedef struct zg_gateway zg_gateway_t;

/*!
 * Fills conf with defaults: 127.0.0.1@53, no key, 10 s, 3 retries from 200 ms.
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
 * \retval ZG_EREFUSED  The server refused an UPDATE of the message for good
 *                      (an error RCODE, or SERVFAIL after every retry);
 *                      reason names the message, the UPDATE and the RCODE.
 * \retval other        Could not finish now (network, timeout, TSIG of the
 *                      answer); apply the same message again later (full-state
 *                      replacement makes that safe).
 */
int zg_gateway_apply(zg_gateway_t *gw, const zg_msg_t *msg, zg_apply_result_t *res,
                     char *reason, size_t reason_len);

/*!
 * Reads the zone's SOA serial (a plain query over the gateway's connection).
 *
 * \return 0 or a negative code.
 */
int zg_gateway_serial(zg_gateway_t *gw, const knot_dname_t *zone, uint32_t *serial);

#endif /* ZONEGATE_GATEWAY_H */
