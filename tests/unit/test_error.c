/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>

#include <libknot/errcode.h>
#include <libknot/error.h>
#include <libdnssec/error.h>

#include "core/error.h"
#include "tap.h"

int main(void)
{
	plan_lazy();
	is_str(zg_strerror(ZG_EOK), "ok", "zero is ok");
	is_str(zg_strerror(ZG_EOUTOFZONE), "name outside the zone", "zonegate code");
	is_str(zg_strerror(ZG_EINACTIVE), "not active", "last zonegate code has a message");
	for (int c = ZG_ERROR_MIN; c <= ZG_EINACTIVE; c++) {
		const char *m = zg_strerror(c);
		if (!ok(m != NULL && strcmp(m, "unknown zonegate error") != 0,
		        "code %d has its own message", c)) {
			break;
		}
	}
	is_str(zg_strerror(ZG_ERROR_MAX), "unknown zonegate error", "unused code in range");
	is_str(zg_strerror(-ENOENT), strerror(ENOENT), "errno passes through");
	is_str(zg_strerror(KNOT_EMALF), knot_strerror(KNOT_EMALF), "libknot code");
	is_str(zg_strerror(DNSSEC_INVALID_SIGNATURE),
	       dnssec_strerror(DNSSEC_INVALID_SIGNATURE), "libdnssec code");
	ok((int)ZG_ERROR_MAX < (int)DNSSEC_ERROR_MIN, "zonegate range below libdnssec's");
	return done_testing();
}
