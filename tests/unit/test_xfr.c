/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Unit tests for lib/dns/xfr.c without network: the transfer limits and how
 * the automatic ones scale with the zone.
 */
#include <stdint.h>

#include "tap.h"
#include "dns/xfr.h"

static void test_limits(void)
{
	zg_xfr_limits_t l = zg_xfr_limits_resolve(NULL, 0);
	ok(l.records == 50000000ULL, "unknown zone: 50000000 records (%llu)",
	   (unsigned long long)l.records);
	ok(l.bytes == 50000000ULL * 256, "unknown zone: 256 bytes per record (%llu)",
	   (unsigned long long)l.bytes);
	ok(l.time_ms == 5000U * 1000, "unknown zone: 5000 s (%u ms)", l.time_ms);

	l = zg_xfr_limits_resolve(NULL, 100);
	ok(l.records == 1000000ULL, "a 100-record zone: at least 1000000 records (%llu)",
	   (unsigned long long)l.records);
	ok(l.time_ms == 600U * 1000, "a 100-record zone: at least 600 s (%u ms)", l.time_ms);

	l = zg_xfr_limits_resolve(NULL, 10000000ULL);
	ok(l.records == 40000000ULL, "a 10M-record zone: 4 times its records (%llu)",
	   (unsigned long long)l.records);
	ok(l.bytes == 40000000ULL * 256, "... and 256 bytes for each (%llu)",
	   (unsigned long long)l.bytes);
	ok(l.time_ms == 4000U * 1000, "... at 10000 records per second (%u ms)", l.time_ms);

	zg_xfr_limits_t conf = { .records = 5000 };
	l = zg_xfr_limits_resolve(&conf, 10000000ULL);
	ok(l.records == 5000 && l.bytes == 5000ULL * 256 && l.time_ms == 600U * 1000,
	   "configured records: taken as is, size and time follow it (%llu, %llu, %u)",
	   (unsigned long long)l.records, (unsigned long long)l.bytes, l.time_ms);
	conf = (zg_xfr_limits_t){ .records = 1, .bytes = 2, .time_ms = 3 };
	l = zg_xfr_limits_resolve(&conf, 0);
	ok(l.records == 1 && l.bytes == 2 && l.time_ms == 3, "every limit configured: unchanged");

	l = zg_xfr_limits_resolve(NULL, UINT64_MAX / 2);
	ok(l.records == UINT64_MAX && l.bytes == UINT64_MAX && l.time_ms == UINT32_MAX,
	   "huge zones saturate instead of wrapping around");
}

int main(void)
{
	plan_lazy();
	test_limits();
	return done_testing();
}
