/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <libknot/errcode.h>
#include <libknot/error.h>
#include <libdnssec/error.h>

#include "core/error.h"

static const char *const zg_messages[] = {
	[ZG_ESYNTAX - ZG_ERROR_MIN]     = "syntax error",
	[ZG_EINPUT - ZG_ERROR_MIN]      = "input refused",
	[ZG_EOUTOFZONE - ZG_ERROR_MIN]  = "name outside the zone",
	[ZG_ETOOBIG - ZG_ERROR_MIN]     = "over the size limit",
	[ZG_EVALIDATION - ZG_ERROR_MIN] = "validation failed",
	[ZG_ETIMEOUT - ZG_ERROR_MIN]    = "timed out",
	[ZG_ECONNECT - ZG_ERROR_MIN]    = "server not reachable",
	[ZG_EPROTO - ZG_ERROR_MIN]      = "malformed or unexpected answer",
	[ZG_EREFUSED - ZG_ERROR_MIN]    = "refused by the server",
	[ZG_EFENCED - ZG_ERROR_MIN]     = "queue lease lost to another consumer",
	[ZG_ENOTSUP - ZG_ERROR_MIN]     = "not supported",
	[ZG_EINACTIVE - ZG_ERROR_MIN]   = "not active",
	[ZG_ENOTREADY - ZG_ERROR_MIN]   = "server not ready (zone frozen?)",
};

const char *zg_strerror(int code)
{
	if (code == ZG_EOK) {
		return "ok";
	}
	if (code >= ZG_ERROR_MIN && code <= ZG_ERROR_MAX) {
		size_t idx = (size_t)(code - ZG_ERROR_MIN);
		if (idx < sizeof(zg_messages) / sizeof(zg_messages[0]) &&
		    zg_messages[idx] != NULL) {
			return zg_messages[idx];
		}
		return "unknown zonegate error";
	}
	if (code >= DNSSEC_ERROR_MIN && code <= DNSSEC_ERROR_MAX) {
		return dnssec_strerror(code);
	}
	if (code >= KNOT_ERROR_MIN && code <= KNOT_ERROR_MAX) {
		return knot_strerror(code);
	}
	if (code < 0) {
		return strerror(-code);
	}
	return "unknown error";
}

int zg_reason(char *reason, size_t len, int code, const char *fmt, ...)
{
	if (reason != NULL && len > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(reason, len, fmt, ap);
		va_end(ap);
	}
	return code;
}
