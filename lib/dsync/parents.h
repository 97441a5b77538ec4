/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * One check of the DS interlock's parent side, without knotd: every parent
 * server is asked for the child's DS (TSIG-signed where a key is given), the
 * answers are authenticated (TSIG, or the chain from a trust anchor through
 * a resolver) and evaluated as zg-checkds does, and the result is what
 * zg_interlock_step() takes for ZG_INTERLOCK_PARENTS.
 */
#ifndef ZONEGATE_PARENTS_H
#define ZONEGATE_PARENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libknot/libknot.h>

#include "dns/resolver.h"
#include "dsync/interlock.h"

/*! The parent side: servers, their keys and what authenticates them. */
typedef struct {
	const zg_server_t *servers;       /*!< The parent servers ... */
	const knot_tsig_key_t *keys;      /*!< ... and per server a key (name NULL: unsigned). */
	size_t nservers;
	const knot_dname_t *ta_owner;     /*!< Trust anchor owner (NULL: none). */
	const knot_rdataset_t *ta_ds;     /*!< Its DS ... */
	const knot_rdataset_t *ta_dnskey; /*!< ... and DNSKEY rdata. */
	const char *ta_path;              /*!< Where it was read, for messages. */
	const zg_server_t *resolver;      /*!< For the chain from the anchor (NULL: none). */
	unsigned timeout_ms;              /*!< Per query. */
	unsigned tries;                   /*!< UDP tries per query. */
	/*! Asked before each server: true stops the check (unloading). */
	bool (*stopping)(void *arg);
	void *stopping_arg;
} zg_parents_conf_t;

/*!
 * Asks every parent server for the DS of the change the child view announces
 * and evaluates the answers: in->matched (every server serves a validated DS
 * for every announced key), else in->why (= why, the first finding), the
 * largest DS TTL served (in->ds_ttl) and whether an answer was not
 * authenticated (in->unauthenticated).
 *
 * \param c     The parent side.
 * \param zone  The child zone.
 * \param v     What the child publishes (a safe set).
 * \param tags  The announced key tags, for messages.
 * \param now   Wall clock (signature validity).
 * \param in    Out: the interlock input's parent fields.
 * \param why   Out: the reason when not matched.
 *
 * \return true, or false when c->stopping said so (nothing checked).
 */
bool zg_parents_check(const zg_parents_conf_t *c, const knot_dname_t *zone,
                      const zg_child_view_t *v, const char *tags, uint32_t now,
                      zg_interlock_in_t *in, char *why, size_t whylen);

#endif /* ZONEGATE_PARENTS_H */
