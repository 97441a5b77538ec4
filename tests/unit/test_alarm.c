/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alarm.h"
#include "tap.h"

static char last[256];
static int reports;

static void on_report(void *ctx, const char *text)
{
	(void)ctx;
	snprintf(last, sizeof(last), "%s", text);
	reports++;
}

static void write_script(const char *path, const char *body)
{
	FILE *f = fopen(path, "w");
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	chmod(path, 0755);
}

/* Reaps until no child runs (bounded: 5 s). */
static void reap_all(zg_alarm_t *a)
{
	for (int t = 0; t < 500; t++) {
		zg_alarm_reap(a, false, on_report, NULL);
		bool running = false;
		for (unsigned i = 0; i < ZG_ALARM_SLOTS; i++) {
			running |= a->children[i].pid > 0;
		}
		if (!running) {
			return;
		}
		usleep(10000);
	}
}

int main(void)
{
	plan_lazy();
	char dir[] = "/tmp/zg-alarm-XXXXXX";
	if (mkdtemp(dir) == NULL) {
		skip_all("no temp dir");
	}
	char ok_sh[300], fail_sh[300], slow_sh[300], out[300];
	snprintf(ok_sh, sizeof(ok_sh), "%s/ok.sh", dir);
	snprintf(fail_sh, sizeof(fail_sh), "%s/fail.sh", dir);
	snprintf(slow_sh, sizeof(slow_sh), "%s/slow.sh", dir);
	snprintf(out, sizeof(out), "%s/args", dir);
	char body[400];
	snprintf(body, sizeof(body), "printf '%%s|' \"$@\" > %s", out);
	write_script(ok_sh, body);
	write_script(fail_sh, "exit 3");
	write_script(slow_sh, "exec sleep 30");

	zg_alarm_t a;
	is_int(zg_alarm_init(&a, NULL, 5), 0, "init without a command");
	ok(!zg_alarm_enabled(&a), "no command: disabled");
	const char *args[] = { "test.", "42", "bad signature" };
	is_int(zg_alarm_run(&a, args, 3, on_report, NULL), -EINVAL, "run without a command: -EINVAL");
	zg_alarm_deinit(&a);

	is_int(zg_alarm_init(&a, ok_sh, 5), 0, "init with a command");
	ok(zg_alarm_enabled(&a), "enabled");
	is_int(zg_alarm_run(&a, args, 3, on_report, NULL), 0, "command started");
	reap_all(&a);
	char buf[256] = "";
	FILE *f = fopen(out, "r");
	if (f != NULL) {
		if (fgets(buf, sizeof(buf), f) == NULL) {
			buf[0] = '\0';
		}
		fclose(f);
	}
	is_str(buf, "test.|42|bad signature|", "command got ZONE SERIAL REASON as separate arguments");
	is_int(reports, 0, "a successful command reports nothing");
	zg_alarm_deinit(&a);

	zg_alarm_init(&a, fail_sh, 5);
	zg_alarm_run(&a, args, 3, on_report, NULL);
	reap_all(&a);
	is_str(last, "alarm command failed (exit status 3)", "a failing command is reported with its status");
	zg_alarm_deinit(&a);

	zg_alarm_init(&a, slow_sh, 1);
	reports = 0;
	is_int(zg_alarm_run(&a, args, 3, on_report, NULL), 0, "slow command started");
	sleep(2);
	zg_alarm_reap(&a, false, on_report, NULL);
	is_str(last, "alarm command killed (timeout)", "a command over its timeout is killed");
	ok(a.children[0].pid == 0, "the killed command was reaped");
	zg_alarm_deinit(&a);
	/* Slots filled with commands that outlive the check. With the 1 s limit
	 * above, a run on a loaded host (the suite's, once) got a slot: starting
	 * them can take over a second there, and a run first reaps a command
	 * past its limit, which frees that slot. */
	zg_alarm_init(&a, slow_sh, 60);
	for (int i = 0; i < ZG_ALARM_SLOTS; i++) {
		zg_alarm_run(&a, args, 3, on_report, NULL);
	}
	is_int(zg_alarm_run(&a, args, 3, on_report, NULL), -EBUSY, "all slots busy: -EBUSY");
	reports = 0;
	zg_alarm_deinit(&a);
	is_int(reports, 0, "deinit kills the rest quietly (no report callback)");
	ok(a.path == NULL, "deinit frees the path");

	zg_alarm_init(&a, "/nonexistent/alarm", 1);
	ok(zg_alarm_run(&a, args, 3, on_report, NULL) < 0, "a missing command fails to start");
	zg_alarm_deinit(&a);

	unlink(ok_sh); unlink(fail_sh); unlink(slow_sh); unlink(out); rmdir(dir);
	return done_testing();
}
