/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Minimal TAP producer for the unit tests (header only).
 *
 *   plan_lazy();                   // or plan(N)
 *   ok(expr, "what %s", ...);      // one test point
 *   is_int(got, want, "what");     // prints both on failure
 *   is_str(got, want, "what");
 *   return done_testing();         // exit status: 0 if every point passed
 */
#ifndef ZG_TESTS_TAP_H
#define ZG_TESTS_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_count, tap_failed, tap_planned = -1;

static inline void plan(int n)
{
	tap_planned = n;
	printf("1..%d\n", n);
}

static inline void plan_lazy(void)
{
	tap_planned = -1;
}

static inline void skip_all(const char *why)
{
	printf("1..0 # SKIP %s\n", why);
	exit(0);
}

static inline bool tap_vok(bool cond, const char *fmt, va_list ap)
{
	tap_count++;
	printf("%s %d - ", cond ? "ok" : "not ok", tap_count);
	vprintf(fmt, ap);
	printf("\n");
	if (!cond) {
		tap_failed++;
	}
	fflush(stdout);
	return cond;
}

static inline bool ok(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline bool ok(bool cond, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	bool r = tap_vok(cond, fmt, ap);
	va_end(ap);
	return r;
}

static inline void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void diag(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("# ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
}

#define is_int(got, want, ...) do { \
	long long tap_g_ = (long long)(got), tap_w_ = (long long)(want); \
	if (!ok(tap_g_ == tap_w_, __VA_ARGS__)) { \
		diag("  got: %lld, expected: %lld", tap_g_, tap_w_); \
	} \
} while (0)

#define is_str(got, want, ...) do { \
	const char *tap_g_ = (got), *tap_w_ = (want); \
	bool tap_eq_ = (tap_g_ == NULL && tap_w_ == NULL) || \
	               (tap_g_ != NULL && tap_w_ != NULL && strcmp(tap_g_, tap_w_) == 0); \
	if (!ok(tap_eq_, __VA_ARGS__)) { \
		diag("  got: '%s', expected: '%s'", tap_g_ ? tap_g_ : "(null)", \
		     tap_w_ ? tap_w_ : "(null)"); \
	} \
} while (0)

static inline int done_testing(void)
{
	if (tap_planned < 0) {
		printf("1..%d\n", tap_count);
	} else if (tap_planned != tap_count) {
		diag("planned %d tests but ran %d", tap_planned, tap_count);
		return 1;
	}
	if (tap_count == 0) {
		diag("no test ran");
		return 1;
	}
	return tap_failed == 0 ? 0 : 1;
}

#endif /* ZG_TESTS_TAP_H */
