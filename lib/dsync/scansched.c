/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <stddef.h>

#include "dsync/scansched.h"

void zg_scansched_init(zg_scansched_t *s, int64_t now, unsigned interval,
                       unsigned scan_interval, bool listed)
{
	*s = (zg_scansched_t){
		.interval = interval, .scan_interval = scan_interval, .listed = listed,
		.next_listed = now, .next_full = now,
	};
}

zg_scansched_action_t zg_scansched_next(const zg_scansched_t *s, int64_t now, int64_t *wait_s)
{
	if (wait_s != NULL) {
		*wait_s = 0;
	}
	if (s->listed && now >= s->next_listed) {
		return ZG_SCANSCHED_LISTED;
	}
	if (s->in_pass) {
		return ZG_SCANSCHED_SLICE;
	}
	if (now >= s->next_full) {
		return ZG_SCANSCHED_LIST;
	}
	int64_t wake = s->next_full;
	if (s->listed && s->next_listed < wake) {
		wake = s->next_listed;
	}
	if (wait_s != NULL) {
		int64_t w = wake - now;
		*wait_s = w < ZG_SCANSCHED_MAX_WAIT ? w : ZG_SCANSCHED_MAX_WAIT;
	}
	return ZG_SCANSCHED_IDLE;
}

void zg_scansched_listed_done(zg_scansched_t *s, int64_t now)
{
	s->next_listed = now + s->interval;
}

void zg_scansched_listing(zg_scansched_t *s, int64_t start, int64_t end, bool ok)
{
	if (ok) {
		s->in_pass = true;
		s->pass_start = start;
	} else {
		s->next_full = end + s->interval;
	}
}

void zg_scansched_pass_done(zg_scansched_t *s)
{
	s->in_pass = false;
	s->next_full = s->pass_start + s->scan_interval;
}
