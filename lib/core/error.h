/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * zonegate error codes.
 *
 * Every zg_ function that can fail returns int: 0 (ZG_EOK) or a negative code.
 * The code is one of:
 *   - -errno (system errors),
 *   - a libknot code (KNOT_E*, -1000 .. -501),
 *   - a libdnssec code (DNSSEC_*, -1500 .. -1001),
 *   - a zonegate code below (ZG_E*, -2000 .. -1501).
 * zg_strerror() turns any of them into a static string (never freed).
 */
#ifndef ZONEGATE_ERROR_H
#define ZONEGATE_ERROR_H

#include <stddef.h>

enum zg_error {
	ZG_EOK = 0,
	ZG_ERROR_MIN = -2000,
	ZG_ESYNTAX = ZG_ERROR_MIN, /*!< Syntax error in input (zone file, JSON). */
	ZG_EINPUT,                 /*!< Input refused by a semantic rule. */
	ZG_EOUTOFZONE,             /*!< Name outside the zone. */
	ZG_ETOOBIG,                /*!< Input over a configured or protocol limit. */
	ZG_EVALIDATION,            /*!< DNSSEC validation failed. */
	ZG_ETIMEOUT,               /*!< A bounded wait ran out. */
	ZG_ECONNECT,               /*!< Remote server not reachable. */
	ZG_EPROTO,                 /*!< Malformed or unexpected answer from a server. */
	ZG_EREFUSED,               /*!< Remote server refused the request. */
	ZG_EFENCED,                /*!< Lost the queue lease to another consumer. */
	ZG_ENOTSUP,                /*!< Feature or algorithm not supported. */
	ZG_EINACTIVE,              /*!< Component configured but not active. */
	ZG_ENOTREADY,              /*!< Remote server not ready now (a frozen zone); retry later. */
	ZG_ERROR_MAX = -1501
};

/*!
 * Returns a human-readable, lowercase description of an error code.
 *
 * \param code  0, -errno, KNOT_E*, DNSSEC_* or ZG_E*.
 *
 * \return Static string; the caller must not free it.
 */
const char *zg_strerror(int code);

/*!
 * Writes a short lowercase reason (printf format) into \a reason, for the
 * functions that return a code and say why (NULL or 0 \a len: nothing).
 *
 * \return \a code, so that `return zg_reason(buf, len, ZG_EPROTO, "...")`.
 */
int zg_reason(char *reason, size_t len, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif /* ZONEGATE_ERROR_H */
