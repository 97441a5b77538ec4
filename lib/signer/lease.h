/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * The signer lease: which signer of a redundant pair is active for a zone.
 *
 * A lease has a holder (the signer's name), an expiry and a fencing token
 * that only grows: every change of holder, and every new take after the
 * lease expired, gives the next token. The holder renews before the expiry;
 * a holder that cannot renew must stop signing before the expiry (the
 * caller's self-fencing), and downstream servers accept only the current
 * token's holder.
 *
 * The store is an interface (zg_lease_ops_t), so that another consistent
 * store (etcd) can be added next to PostgreSQL. The PostgreSQL store keeps
 * the lease in table zonegate_lease (of the queue, doc/zonegate-queue.sql)
 * under the key "signer:ZONE" (ZONE in lower case, without the final dot),
 * apart from the queue consumer's own row "ZONE". All times are the
 * database's clock.
 */
#ifndef ZONEGATE_LEASE_H
#define ZONEGATE_LEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*! The lease of a zone as the store holds it. */
typedef struct {
	bool exists;          /*!< A lease was ever taken for the zone. */
	char holder[256];     /*!< Its holder (the last one, when expired). */
	int64_t token;        /*!< Its fencing token. */
	int64_t remaining_ms; /*!< Time to its expiry (<= 0: expired, free). */
} zg_lease_info_t;

typedef struct zg_lease_store zg_lease_store_t;

/*! A store's operations (see the zg_lease_* functions for their contract). */
typedef struct {
	int (*take)(zg_lease_store_t *s, const char *zone, const char *holder,
	            unsigned period_ms, int64_t *token, char *err, size_t err_len);
	int (*renew)(zg_lease_store_t *s, const char *zone, const char *holder, int64_t token,
	             unsigned period_ms, char *err, size_t err_len);
	int (*release)(zg_lease_store_t *s, const char *zone, const char *holder, int64_t token,
	               char *err, size_t err_len);
	int (*read)(zg_lease_store_t *s, const char *zone, zg_lease_info_t *info,
	            char *err, size_t err_len);
	void (*free)(zg_lease_store_t *s);
} zg_lease_ops_t;

/*! A store: its operations first, then the store's own state. */
struct zg_lease_store {
	const zg_lease_ops_t *ops;
};

/*!
 * Opens the store that URI names: postgresql://... or postgres://... (a
 * libpq URI), or a libpq key=value string. Connects lazily, on first use.
 *
 * \param out  The store, to release with zg_lease_free().
 *
 * \return 0, ZG_ENOTSUP (a URI of an unknown store; err says which), -EINVAL
 *         or -ENOMEM.
 */
int zg_lease_open(const char *uri, zg_lease_store_t **out, char *err, size_t err_len);

/*!
 * Takes the zone's lease for holder for period_ms, if it is free (never
 * taken, expired or released) or already held by holder. A new take gives
 * the next token; holder's own unexpired lease keeps its token (a renewal).
 *
 * \param token  Set to the token held.
 *
 * \retval 0           Held.
 * \retval ZG_EFENCED  Another holder holds an unexpired lease.
 * \retval ZG_ECONNECT The store is unreachable (err says why).
 */
int zg_lease_take(zg_lease_store_t *s, const char *zone, const char *holder,
                  unsigned period_ms, int64_t *token, char *err, size_t err_len);

/*!
 * Renews holder's lease with this token for period_ms from now, only while
 * it has not expired: an expired lease is never renewed (take it again,
 * with a new token, after stopping whatever the old one allowed).
 *
 * \retval 0, ZG_EFENCED (not held with that token, or expired), ZG_ECONNECT.
 */
int zg_lease_renew(zg_lease_store_t *s, const char *zone, const char *holder, int64_t token,
                   unsigned period_ms, char *err, size_t err_len);

/*!
 * Ends holder's lease with this token now (the token stays: the next take
 * gives the next one). Releasing a lease not held is not an error.
 *
 * \return 0 or ZG_ECONNECT.
 */
int zg_lease_release(zg_lease_store_t *s, const char *zone, const char *holder, int64_t token,
                     char *err, size_t err_len);

/*!
 * Reads the zone's lease (info->exists false when none was ever taken).
 *
 * \return 0 or ZG_ECONNECT.
 */
int zg_lease_read(zg_lease_store_t *s, const char *zone, zg_lease_info_t *info,
                  char *err, size_t err_len);

/*!
 * Closes the store (NULL is fine). A lease held stays until it expires.
 */
void zg_lease_free(zg_lease_store_t *s);

/*!
 * The store's key of the zone's lease: "signer:" and the zone in lower
 * case without the final dot ("signer:." for the root).
 *
 * \return 0 or -EINVAL (empty zone, or key longer than len).
 */
int zg_lease_key(const char *zone, char *key, size_t len);

#endif /* ZONEGATE_LEASE_H */
