/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * The monotonic clock of the library: every deadline, timeout and duration
 * (never the wall clock, which an operator or NTP may step).
 */
#ifndef ZONEGATE_CLOCK_H
#define ZONEGATE_CLOCK_H

#include <stdint.h>
#include <time.h>

/*! Milliseconds of CLOCK_MONOTONIC. */
static inline int64_t zg_clock_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*! Seconds of CLOCK_MONOTONIC, with their fraction. */
static inline double zg_clock_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif
