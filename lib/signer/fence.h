/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * Downstream fencing: whether a distribution server (mod-validate) may
 * accept a serial transferred from an address, given the signer lease
 * (signer/lease.h) as read just before. Pure: no store, no clock.
 *
 * A serial is accepted only if the lease exists and is unexpired, the
 * serial came from the holder's address, the lease's token is not below
 * the highest token accepted before (kept by the caller across restarts),
 * and, under a token newer than that, the serial is above the last serial
 * accepted (serials only grow across a change of signer).
 *
 * The holder's address: a map of "HOLDER@ADDR" items (ADDR as
 * zg_dns_addr_parse() reads it, port 53 by default; HOLDER without '@'),
 * else the holder's name read as an address.
 *
 * zg_fence_conf_check() also opens the lease store to check its URI (a
 * store connects lazily: nothing is reached).
 */
#ifndef ZONEGATE_FENCE_H
#define ZONEGATE_FENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "signer/lease.h"

/*! Signer map items (HOLDER@ADDR) at most. */
#define ZG_FENCE_MAP_MAX  16

/*! The decision on a serial. */
typedef enum {
	ZG_FENCE_ACCEPT = 0,    /*!< From the current holder, token current. */
	ZG_FENCE_NO_LEASE,      /*!< No lease was ever taken for the zone. */
	ZG_FENCE_EXPIRED,       /*!< The lease expired: nobody is active. */
	ZG_FENCE_NO_ADDRESS,    /*!< The holder has no known address. */
	ZG_FENCE_NOT_HOLDER,    /*!< From another address than the holder's. */
	ZG_FENCE_TOKEN_BACK,    /*!< Token below the highest accepted before. */
	ZG_FENCE_SERIAL_BACK,   /*!< New token, serial not above the last accepted. */
} zg_fence_t;

/*! What the decision is made on. */
typedef struct {
	const zg_lease_info_t *lease;               /*!< As just read. */
	const struct sockaddr_storage *holder_addr; /*!< NULL: holder unknown. */
	const struct sockaddr_storage *from;        /*!< Where the serial came from. */
	int64_t last_token;     /*!< Highest token accepted before (0: none). */
	uint32_t serial;        /*!< The serial. */
	bool have_last_serial;  /*!< A serial was accepted before: */
	uint32_t last_serial;   /*!< the last one. */
} zg_fence_in_t;

/*!
 * Decides on a serial.
 *
 * \param new_token  Set when accepted under a token above last_token (the
 *                   caller records lease->token as the new highest).
 */
zg_fence_t zg_fence_decide(const zg_fence_in_t *in, bool *new_token);

/*!
 * Writes why a serial was refused, for a log line and the alarm, e.g.
 * "signer lease held by B, token 7". Returns buf.
 */
char *zg_fence_reason(zg_fence_t d, const zg_fence_in_t *in, char *buf, size_t len);

/*!
 * Parses a map item "HOLDER@ADDR" (ADDR with an optional @PORT).
 *
 * \return 0 or ZG_EINPUT (no '@', empty holder, not an address).
 */
int zg_fence_map_parse(const char *text, char *holder, size_t holder_len,
                       struct sockaddr_storage *addr);

/*!
 * The address of holder: the first map item of that holder, else the
 * holder's name read as an address.
 *
 * \return 0 or ZG_EINPUT (no address known).
 */
int zg_fence_holder_addr(const char *const *map, size_t n, const char *holder,
                         struct sockaddr_storage *out);

/*!
 * Checks a fencing configuration: the signer map (n items, read only when
 * n <= ZG_FENCE_MAP_MAX) and the lease store's URI (NULL: none).
 *
 * \return NULL (fine) or the error, a static text naming the item:
 *         too many map items, a map item that is not HOLDER@ADDR, a map
 *         without a lease, a lease that is not a store's URI.
 */
const char *zg_fence_conf_check(const char *const *map, size_t n, const char *lease);

/*! Whether two addresses (with their ports) are the same. */
bool zg_fence_addr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b);

#endif /* ZONEGATE_FENCE_H */
