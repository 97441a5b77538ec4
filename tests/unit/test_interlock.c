/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The DS interlock state machine (lib/dsync/interlock.c) on a fake clock. */
#include <string.h>
#include <syslog.h>

#include "core/error.h"
#include "dsync/interlock.h"
#include "tap.h"

static zg_interlock_out_t out;

/* The zone announces hash (0: nothing, or a delete) at now. */
static void zone(zg_interlock_t *st, int64_t now, uint64_t hash, bool cdnskey, const char *tags,
                 uint16_t keytag)
{
	zg_interlock_in_t in = {
		.event = ZG_INTERLOCK_ZONE, .now = now, .announced = hash != 0, .cdnskey = cdnskey,
		.hash = hash, .tags = tags, .keytag = keytag,
	};
	is_int(zg_interlock_step(st, &in, &out), 0, "zone step at %lld", (long long)now);
}

static void parents(zg_interlock_t *st, int64_t now, int64_t mono, bool matched, const char *why,
                    uint32_t ttl)
{
	zg_interlock_in_t in = {
		.event = ZG_INTERLOCK_PARENTS, .now = now, .mono_ms = mono, .matched = matched,
		.why = why, .ds_ttl = ttl,
	};
	is_int(zg_interlock_step(st, &in, &out), 0, "parents step at %lld", (long long)now);
}

static void submitted(zg_interlock_t *st, int64_t now, int ret, const char *err)
{
	zg_interlock_in_t in = {
		.event = ZG_INTERLOCK_SUBMITTED, .now = now, .submit_ret = ret, .submit_err = err,
	};
	is_int(zg_interlock_step(st, &in, &out), 0, "submitted step at %lld", (long long)now);
}

/* The only log line of the last step. */
static void one_log(int level, const char *text, const char *what)
{
	is_int(out.nlogs, 1, "%s: one log line", what);
	is_int(out.logs[0].level, level, "%s: level", what);
	is_str(out.logs[0].text, text, "%s: text", what);
}

static void quiet(const char *what)
{
	ok(out.nlogs == 0 && !out.alarm && out.overdue == 0, "%s: no log, no alarm", what);
}

static void alarm_is(const char *reason, const char *what)
{
	char line[600];
	snprintf(line, sizeof(line), "ds sync overdue, %s", reason);
	ok(out.alarm, "%s: alarm", what);
	is_int(out.alarm_keytag, 12345, "%s: alarm key tag", what);
	is_str(out.alarm_reason, reason, "%s: alarm reason", what);
	is_int(out.overdue, 1, "%s: syncs-overdue +1", what);
	is_int(out.logs[out.nlogs - 1].level, LOG_ERR, "%s: error level", what);
	is_str(out.logs[out.nlogs - 1].text, line, "%s: overdue line", what);
}

/* A new interlock (overdue 100 s) with the change of key 12345 announced at 0. */
static void start(zg_interlock_t *st, size_t nparents, bool cdnskey, const char *what)
{
	char want[128];
	snprintf(want, sizeof(want), "ds change announced (%s 12345), checking %zu parent server(s)",
	         cdnskey ? "cdnskey" : "cds", nparents);
	zg_interlock_init(st, 100, nparents);
	zone(st, 0, 9, cdnskey, "12345", 12345);
	one_log(LOG_INFO, want, what);
	ok(out.check_parents == (nparents > 0), "%s: parent check %s", what,
	   nparents > 0 ? "asked" : "not asked");
}

#define WHY "parent server 192.0.2.1@53 serves ds 111, not yet for key 12345"

static void full_cycle(void)
{
	zg_interlock_t st;
	zg_interlock_init(&st, 100, 2);
	zone(&st, 1000, 7, false, "12345", 12345);
	one_log(LOG_INFO, "ds change announced (cds 12345), checking 2 parent server(s)", "announce");
	ok(out.check_parents && !out.submit, "announce: check the parents");

	parents(&st, 1000, 1, false, WHY, 0);
	one_log(LOG_NOTICE, "ds for key 12345 not confirmed (" WHY ")", "not served");
	ok(out.ds_failed == 1 && out.ds_ok == 0 && !out.submit && !out.alarm,
	   "not served: parent-ds-checks-failed +1, no submission, no alarm");
	zone(&st, 1050, 7, false, "12345", 12345);
	quiet("same announcement");
	ok(out.check_parents, "same announcement: check again");
	parents(&st, 1050, 1, false, WHY, 0);
	quiet("same finding");
	is_int(out.ds_failed, 1, "same finding: counted");
	parents(&st, 1099, 1, false, WHY, 0);
	quiet("1 s before overdue");
	parents(&st, 1100, 1, false, WHY, 0);
	alarm_is("ds for key 12345 not confirmed at the parent 100s after it was announced (" WHY ")",
	         "overdue");
	parents(&st, 1199, 1, false, WHY, 0);
	quiet("within the overdue interval");
	parents(&st, 1200, 1, false, WHY, 0);
	alarm_is("ds for key 12345 not confirmed at the parent 200s after it was announced (" WHY ")",
	         "overdue again");

	parents(&st, 1210, 5000, true, NULL, 60);
	one_log(LOG_NOTICE, "every parent server (2) serves a validated ds for key 12345, confirming "
	        "once its ttl (60s) has passed", "all served");
	ok(out.ds_ok == 1 && out.ds_failed == 0 && !out.submit, "all served: counted, waits the ttl");
	parents(&st, 1240, 64999, true, NULL, 60);
	ok(out.nlogs == 0 && !out.submit && out.ds_ok == 1, "ttl not passed: no submission");
	parents(&st, 1300, 64999, true, NULL, 60);
	alarm_is("ds for key 12345 not confirmed at the parent 300s after it was announced "
	         "(waiting for the parent's ds ttl)", "overdue while waiting");
	parents(&st, 1301, 65000, true, NULL, 60);
	ok(out.submit && out.nlogs == 0, "ttl passed: submit");
	submitted(&st, 1301, 0, "");
	one_log(LOG_NOTICE, "ksk submission confirmed (zone-ksk-submitted), key 12345", "submitted");
	ok(!out.alarm, "submitted: no alarm");

	zone(&st, 5000, 7, false, "12345", 12345);
	quiet("done");
	ok(!out.check_parents, "done: no parent check");
	zone(&st, 5001, 0, false, NULL, 0);
	quiet("withdrawn once done");
}

static void no_key_ready(void)
{
	zg_interlock_t st;
	start(&st, 1, true, "cdnskey announce");
	parents(&st, 0, 1, true, NULL, 0);
	ok(out.submit, "ttl 0: submit at once");
	submitted(&st, 0, -1, "no key ready for submission");
	one_log(LOG_INFO, "parent serves the ds for key 12345, no ksk waits for submission",
	        "no key ready");
	zone(&st, 500, 9, true, "12345", 12345);
	ok(!out.check_parents && out.nlogs == 0 && !out.alarm, "no key ready: done");
}

static void submit_fails(void)
{
	zg_interlock_t st;
	start(&st, 1, false, "announce");
	parents(&st, 0, 1, true, NULL, 0);
	submitted(&st, 0, -1, "connection refused");
	one_log(LOG_WARNING, "ksk submission confirmation failed (connection refused), retrying",
	        "submission failed");
	ok(!out.alarm, "submission failed before overdue: no alarm");
	zone(&st, 100, 9, false, "12345", 12345);
	ok(out.check_parents && out.nlogs == 0, "retry: check again");
	parents(&st, 100, 2, true, NULL, 0);
	ok(out.submit && out.nlogs == 0, "retry: submit again, no new log");
	submitted(&st, 100, -1, "connection refused");
	is_int(out.nlogs, 2, "failed at overdue: two lines");
	is_str(out.logs[0].text, "ksk submission confirmation failed (connection refused), retrying",
	       "failed at overdue: warning first");
	alarm_is("ds for key 12345 not confirmed at the parent 100s after it was announced "
	         "(connection refused)", "failed at overdue");
	zone(&st, 101, 9, false, "12345", 12345);
	parents(&st, 101, 3, true, NULL, 0);
	submitted(&st, 101, 0, "");
	one_log(LOG_NOTICE, "ksk submission confirmed (zone-ksk-submitted), key 12345", "retried");
}

static void withdrawal(void)
{
	zg_interlock_t st;
	zg_interlock_init(&st, 100, 1);
	zone(&st, 0, 0, false, NULL, 0);
	quiet("nothing announced");
	ok(!out.check_parents, "nothing announced: no parent check");
	zone(&st, 10, 9, false, "12345", 12345);
	parents(&st, 10, 1, false, WHY, 0);
	zone(&st, 20, 0, false, NULL, 0);
	one_log(LOG_INFO, "cds/cdnskey for key 12345 withdrawn, nothing to confirm", "withdrawn");
	ok(!out.check_parents, "withdrawn: no parent check");
	zone(&st, 500, 0, false, NULL, 0);
	quiet("withdrawn, later");
	parents(&st, 500, 1, false, WHY, 0);
	ok(out.nlogs == 0 && out.ds_failed == 0, "withdrawn: a late parent finding is ignored");
}

static void new_announcement(void)
{
	zg_interlock_t st;
	start(&st, 1, false, "first change");
	parents(&st, 0, 1, true, NULL, 3600);
	ok(!out.submit, "old change: waits the ttl");
	zone(&st, 50, 10, false, "12345 23456", 12345);
	one_log(LOG_INFO, "ds change announced (cds 12345 23456), checking 1 parent server(s)",
	        "hash change");
	parents(&st, 50, 2000, true, NULL, 1);
	one_log(LOG_NOTICE, "every parent server (1) serves a validated ds for key 12345 23456, "
	        "confirming once its ttl (1s) has passed", "new change: the ttl clock restarts");
	ok(!out.submit, "new change: waits its own ttl");
	parents(&st, 100, 2500, false, "x", 0);
	one_log(LOG_NOTICE, "ds for key 12345 23456 not confirmed (x)", "no longer served");
	ok(!out.alarm, "new change: not overdue 100 s after the first one");
	parents(&st, 149, 2600, false, "x", 0);
	quiet("new change, 99 s");
	parents(&st, 150, 2700, false, "x", 0);
	alarm_is("ds for key 12345 23456 not confirmed at the parent 100s after it was announced (x)",
	         "new change overdue");
}

static void no_parent(void)
{
	zg_interlock_t st;
	start(&st, 0, false, "no parent");
	zone(&st, 99, 9, false, "12345", 12345);
	quiet("no parent, 99 s");
	zone(&st, 100, 9, false, "12345", 12345);
	alarm_is("ds for key 12345 not confirmed at the parent 100s after it was announced "
	         "(no parent server configured)", "no parent: overdue");
	zone(&st, 150, 9, false, "12345", 12345);
	quiet("no parent, 150 s");
	zone(&st, 200, 9, false, "12345", 12345);
	alarm_is("ds for key 12345 not confirmed at the parent 200s after it was announced "
	         "(no parent server configured)", "no parent: overdue again");
}

static void bad_input(void)
{
	zg_interlock_t st;
	zg_interlock_init(&st, 100, 1);
	zg_interlock_in_t in = { .event = 99 };
	is_int(zg_interlock_step(&st, &in, &out), ZG_EINPUT, "unknown event refused");
	is_int(zg_interlock_step(NULL, &in, &out), ZG_EINPUT, "no state refused");
	in.event = ZG_INTERLOCK_ZONE;
	is_int(zg_interlock_step(&st, &in, NULL), ZG_EINPUT, "no output refused");
	in.event = ZG_INTERLOCK_PARENTS;
	in.unauthenticated = true;
	is_int(zg_interlock_step(&st, &in, &out), 0, "parents with nothing announced");
	ok(out.ds_unauth == 0 && out.nlogs == 0, "nothing announced: nothing counted");
	zone(&st, 0, 9, false, "12345", 12345);
	in.now = 0;
	is_int(zg_interlock_step(&st, &in, &out), 0, "unauthenticated answer");
	ok(out.ds_unauth == 1 && out.ds_failed == 1, "unauthenticated: counted, not confirmed");
}

int main(void)
{
	full_cycle();
	no_key_ready();
	submit_fails();
	withdrawal();
	new_announcement();
	no_parent();
	bad_input();
	return done_testing();
}
