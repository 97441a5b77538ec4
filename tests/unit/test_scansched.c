/* SPDX-License-Identifier: GPL-3.0-or-later */
/* dsync/scansched.h: parent mode's schedule on a fake clock. */
#include "dsync/scansched.h"
#include "tap.h"

/* Runs the schedule like the worker does on a fake clock until `end`:
 * a listed scan costs listed_cost s, a listing list_cost s (failing while
 * now < fail_until), a pass has `slices` slices of 1 s. Records when each
 * thing started and the longest gap between listed scans. */
typedef struct {
	int listed, listings, failed, passes, idles;
	int64_t pass_starts[64];
	int64_t listing_at[64];
	int64_t max_listed_gap, last_listed;
	int64_t max_wait;
	int steps;
} run_t;

static void simulate(zg_scansched_t *s, int64_t now, int64_t end, int slices,
                     int64_t listed_cost, int64_t list_cost, int64_t fail_until, run_t *r)
{
	int pos = 0;
	r->last_listed = -1;
	while (now < end && r->steps++ < 100000) {
		int64_t wait = -1;
		switch (zg_scansched_next(s, now, &wait)) {
		case ZG_SCANSCHED_LISTED:
			if (r->last_listed >= 0 && now - r->last_listed > r->max_listed_gap) {
				r->max_listed_gap = now - r->last_listed;
			}
			r->last_listed = now;
			r->listed++;
			now += listed_cost;
			zg_scansched_listed_done(s, now);
			break;
		case ZG_SCANSCHED_LIST: {
			int64_t start = now;
			now += list_cost;
			bool ok = start >= fail_until;
			if (r->listings < 64) {
				r->listing_at[r->listings] = start;
			}
			r->listings++;
			if (!ok) {
				r->failed++;
			} else {
				if (r->passes < 64) {
					r->pass_starts[r->passes] = start;
				}
				r->passes++;
				pos = 0;
			}
			zg_scansched_listing(s, start, now, ok);
			break;
		}
		case ZG_SCANSCHED_SLICE:
			now += 1;
			if (++pos == slices) {
				zg_scansched_pass_done(s);
			}
			break;
		case ZG_SCANSCHED_IDLE:
			r->idles++;
			if (wait > r->max_wait) {
				r->max_wait = wait;
			}
			now += wait > 0 ? wait : 1;
			break;
		default:
			return;
		}
	}
}

int main(void)
{
	plan_lazy();
	zg_scansched_t s;
	int64_t wait = -1;

	/* At start both are due; listed children first. */
	zg_scansched_init(&s, 1000, 10, 100, true);
	is_int(zg_scansched_next(&s, 1000, &wait), ZG_SCANSCHED_LISTED, "start: listed children first");
	is_int(wait, 0, "no wait when something is due");
	zg_scansched_listed_done(&s, 1002);
	is_int(zg_scansched_next(&s, 1002, &wait), ZG_SCANSCHED_LIST, "then the listing");
	zg_scansched_listing(&s, 1002, 1003, true);
	is_int(zg_scansched_next(&s, 1003, &wait), ZG_SCANSCHED_SLICE, "a listing that worked starts a pass");
	is_int(zg_scansched_next(&s, 1012, &wait), ZG_SCANSCHED_LISTED,
	       "listed children are due during a pass, and come before its slices");
	zg_scansched_listed_done(&s, 1012);
	is_int(zg_scansched_next(&s, 1013, &wait), ZG_SCANSCHED_SLICE, "the pass goes on after them");
	zg_scansched_pass_done(&s);
	is_int(zg_scansched_next(&s, 1013, &wait), ZG_SCANSCHED_IDLE, "pass done: idle");
	is_int(wait, 9, "waits until the listed children are due (1022)");
	is_int(zg_scansched_next(&s, 1022, &wait), ZG_SCANSCHED_LISTED, "listed children at 1022");
	zg_scansched_listed_done(&s, 1022);
	is_int(zg_scansched_next(&s, 1101, &wait), ZG_SCANSCHED_LISTED, "overdue listed first at 1101");
	zg_scansched_listed_done(&s, 1101);
	is_int(zg_scansched_next(&s, 1101, &wait), ZG_SCANSCHED_IDLE,
	       "next pass is scan-interval after the last pass's start (1102), not its end");
	is_int(wait, 1, "one second to the next listing");
	is_int(zg_scansched_next(&s, 1102, &wait), ZG_SCANSCHED_LIST, "listing at 1102");

	/* A failed listing is retried interval seconds after it ended. */
	zg_scansched_listing(&s, 1102, 1105, false);
	is_int(zg_scansched_next(&s, 1106, &wait), ZG_SCANSCHED_IDLE, "failed listing: idle");
	is_int(wait, 5, "listed children at 1111 come before the retry at 1115");
	zg_scansched_listed_done(&s, 1111);
	is_int(zg_scansched_next(&s, 1111, &wait), ZG_SCANSCHED_IDLE, "idle until the retry");
	is_int(wait, 4, "retry at end + interval (1115)");

	/* No listed children: only the passes; a long idle wait is capped. */
	zg_scansched_init(&s, 0, 10, 86400, false);
	is_int(zg_scansched_next(&s, 0, &wait), ZG_SCANSCHED_LIST, "no children: listing first");
	zg_scansched_listing(&s, 0, 1, true);
	zg_scansched_pass_done(&s);
	is_int(zg_scansched_next(&s, 5, &wait), ZG_SCANSCHED_IDLE, "idle after the pass");
	is_int(wait, ZG_SCANSCHED_MAX_WAIT, "a day's wait is capped at an hour");
	ok(zg_scansched_next(&s, 5, NULL) == ZG_SCANSCHED_IDLE, "wait may be NULL");

	/* A fake hour with passes of 25 s every 100 s and children every 10 s. */
	run_t r = { 0 };
	zg_scansched_init(&s, 0, 10, 100, true);
	simulate(&s, 0, 3600, 25, 0, 1, 0, &r);
	is_int(r.passes, 36, "36 passes in an hour at a 100 s scan-interval");
	bool spaced = true;
	for (int i = 1; i < r.passes && i < 64; i++) {
		spaced = spaced && r.pass_starts[i] - r.pass_starts[i - 1] == 100;
	}
	ok(spaced, "passes start 100 s apart, start to start");
	ok(r.max_listed_gap <= 11, "listed children never wait more than interval + one slice "
	   "during passes (longest gap %lld s)", (long long)r.max_listed_gap);
	ok(r.listed >= 3600 / 11, "listed children scanned %d times", r.listed);
	ok(r.max_wait <= 10, "idle waits are never longer than the next due scan (%lld s)",
	   (long long)r.max_wait);

	/* Listings fail for the first 35 s: retried every interval, then passes. */
	run_t f = { 0 };
	zg_scansched_init(&s, 0, 10, 100, false);
	simulate(&s, 0, 300, 5, 0, 2, 35, &f);
	is_int(f.failed, 3, "listings at 0, 12 and 24 fail (before 35 s), the one at 36 works");
	ok(f.listing_at[1] == 12 && f.listing_at[2] == 24, "a failed listing is retried "
	   "interval after it ended (%lld, %lld)", (long long)f.listing_at[1],
	   (long long)f.listing_at[2]);
	is_int(f.passes, 3, "then a pass every 100 s (36, 136, 236)");
	ok(f.steps < 100000, "the fake run ended (%d steps)", f.steps);
	return done_testing();
}
