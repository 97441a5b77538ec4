/* SPDX-License-Identifier: GPL-3.0-or-later */
/* dsync/scanrun.h: mod-dsync's parent-mode worker on a fake clock, against a
 * parent server that does not answer (no listing, no referral). */
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "core/error.h"
#include "dsync/scanrun.h"
#include "tap.h"
#include "worker_fx.h"

static int64_t fake_now;
static int64_t fake_clock(void *arg) { (void)arg; return fake_now; }

int main(void)
{
	plan_lazy();
	fx_logs_t logs = { 0 };
	zg_server_t srv;
	fx_dead_server(&srv);
	zg_cdscan_conf_t sc = { .zone = "example.", .server = srv, .dry_run = true,
	                        .timeout_ms = 300, .log = fx_log, .log_arg = &logs };
	zg_scanrun_t r;
	ok(zg_scanrun_init(&r, &sc, 10, 3600) == 0, "init (dry-run)");
	r.clock = fake_clock;
	knot_dname_t *child = knot_dname_from_str_alloc("child.example.");
	ok(zg_scanrun_add_child(&r, child) == 0 && r.nchildren == 1 &&
	   strcmp(r.children[0], "child.example.") == 0 && r.children[1] == NULL,
	   "a listed child");
	knot_dname_free(child, NULL);
	zg_scanrun_log_conf(&r);
	char want[512];
	snprintf(want, sizeof(want), "cds scanner active (queue none, dry-run, server %s, "
	         "scan-interval 3600s, 1 listed children every 10s, query-rate 0/s, "
	         "child-port 0, allow-delete off)", srv.name);
	ok(logs.n == 1 && logs.levels[0] == LOG_NOTICE, "the settings are logged");
	is_str(logs.lines[0], want, "the settings line");
	logs.n = 0;

	fake_now = 1000;
	zg_scanrun_out_t out;
	is_int(zg_scanrun_step(&r, &out), 0, "first step: the listed children are due");
	ok(logs.n == 1 && logs.levels[0] == LOG_WARNING &&
	   strncmp(logs.lines[0], "child child.example. not scanned (", 34) == 0,
	   "the failed lookup is logged: %s", logs.lines[0]);
	ok(!out.pass_done, "no pass ended");
	is_int(zg_scanrun_step(&r, &out), 0, "second step: the listing is due");
	snprintf(want, sizeof(want), "cannot list the delegations, AXFR from %s failed (", srv.name);
	ok(logs.n == 2 && logs.levels[1] == LOG_WARNING &&
	   strncmp(logs.lines[1], want, strlen(want)) == 0 &&
	   strstr(logs.lines[1], "retrying every 10s") != NULL,
	   "the failed listing is logged: %s", logs.lines[1]);
	is_int(zg_scanrun_step(&r, &out), 10, "then idle for the interval");
	fake_now += 4;
	is_int(zg_scanrun_step(&r, &out), 6, "the wait follows the clock");

	fake_now += 6;
	is_int(zg_scanrun_step(&r, &out), 0, "listed children due again");
	is_int(zg_scanrun_step(&r, &out), 0, "listing retried after the interval");
	is_int(logs.n, 2, "the same failures are not logged again");
	is_int(zg_scanrun_step(&r, &out), 10, "idle again");

	atomic_bool stop;
	atomic_init(&stop, true);
	r.stop = &stop;
	fake_now += 10;
	is_int(zg_scanrun_step(&r, &out), 0, "stopping: the step returns");
	is_int(logs.n, 2, "and scanned no child");

	zg_scanrun_deinit(&r);
	ok(r.scan == NULL && r.children == NULL && r.nchildren == 0, "deinit frees");

	/* The start as the module does it: the zone in lowercase, the key, the queue. */
	knot_dname_t *zone = knot_dname_from_str_alloc("Example.");
	char msg[640];
	sc.zone = "ignored.";
	sc.cancel = &stop;
	ok(zg_scanrun_open(&r, zone, NULL, &sc, 10, 3600, msg, sizeof(msg)) == 0 && msg[0] == '\0',
	   "open, no key");
	ok(r.stop == &stop && r.conf.zone == NULL && r.conf.tsig == NULL,
	   "stopped by the cancel flag; zone and key not kept");
	zg_scanrun_deinit(&r);
	knot_tsig_key_t key = { 0 };
	is_int(zg_scanrun_open(&r, zone, &key, &sc, 10, 3600, msg, sizeof(msg)), ZG_EINPUT,
	       "a key item that could not be read is an error");
	is_str(msg, "key has no usable secret", "the line to log");
	zg_scanrun_deinit(&r);
	ok(knot_tsig_key_init(&key, "hmac-sha256", "k.", "Zm9vYmFyZm9vYmFyZm9vYmFy") == KNOT_EOK,
	   "a tsig key");
	ok(zg_scanrun_open(&r, zone, &key, &sc, 10, 3600, msg, sizeof(msg)) == 0, "open with it");
	zg_scanrun_deinit(&r);
	sc.dry_run = false;
	sc.queue = "spool:/nonexistent/zg-scanrun-queue";
	int ret = zg_scanrun_open(&r, zone, &key, &sc, 10, 3600, msg, sizeof(msg));
	ok(ret != 0, "a queue that cannot be opened is an error");
	snprintf(want, sizeof(want), "cannot open the queue spool:/nonexistent/zg-scanrun-queue (%s)",
	         zg_strerror(ret));
	is_str(msg, want, "the line to log names the queue and the error");
	zg_scanrun_deinit(&r);
	knot_tsig_key_deinit(&key);
	knot_dname_free(zone, NULL);
	return done_testing();
}
