/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/alarm.h"

extern char **environ;

#define ALARM_MAX_ARGS	8

void zg_spawnattr_init(posix_spawnattr_t *attr)
{
	posix_spawnattr_init(attr);
	sigset_t none, dfl;
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	posix_spawnattr_setsigmask(attr, &none);
	posix_spawnattr_setsigdefault(attr, &dfl);
	posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
}

int zg_alarm_init(zg_alarm_t *alarm, const char *path, unsigned timeout_s)
{
	memset(alarm, 0, sizeof(*alarm));
	alarm->timeout = timeout_s > 0 ? timeout_s : 1;
	if (path != NULL && (alarm->path = strdup(path)) == NULL) {
		return -ENOMEM;
	}
	return 0;
}

void zg_alarm_deinit(zg_alarm_t *alarm)
{
	zg_alarm_reap(alarm, true, NULL, NULL);
	free(alarm->path);
	alarm->path = NULL;
}

static void report_line(zg_alarm_report_f report, void *ctx, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void report_line(zg_alarm_report_f report, void *ctx, const char *fmt, ...)
{
	if (report == NULL) {
		return;
	}
	char text[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	report(ctx, text);
}

void zg_alarm_reap(zg_alarm_t *alarm, bool kill_all, zg_alarm_report_f report, void *ctx)
{
	time_t now = time(NULL);
	for (unsigned i = 0; i < ZG_ALARM_SLOTS; i++) {
		zg_alarm_child_t *c = &alarm->children[i];
		if (c->pid <= 0) {
			continue;
		}
		int status;
		pid_t r = waitpid(c->pid, &status, WNOHANG);
		if (r == c->pid || (r < 0 && errno == ECHILD)) {
			if (r == c->pid && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
				report_line(report, ctx, "alarm command failed (%s %d)",
				            WIFEXITED(status) ? "exit status" : "signal",
				            WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
			}
			c->pid = 0;
			continue;
		}
		if (kill_all || now - c->started >= (time_t)alarm->timeout) {
			report_line(report, ctx, "alarm command killed (%s)",
			            kill_all ? "module unloaded" : "timeout");
			kill(c->pid, SIGKILL);
			/* SIGKILL cannot be caught: the child is gone promptly (bounded wait). */
			for (int t = 0; t < 100 && waitpid(c->pid, &status, WNOHANG) == 0; t++) {
				usleep(10000);
			}
			c->pid = 0;
		}
	}
}

int zg_alarm_run(zg_alarm_t *alarm, const char *const args[], size_t nargs,
                 zg_alarm_report_f report, void *ctx)
{
	if (alarm->path == NULL || nargs > ALARM_MAX_ARGS) {
		return -EINVAL;
	}
	zg_alarm_reap(alarm, false, report, ctx);
	zg_alarm_child_t *slot = NULL;
	for (unsigned i = 0; i < ZG_ALARM_SLOTS && slot == NULL; i++) {
		if (alarm->children[i].pid <= 0) {
			slot = &alarm->children[i];
		}
	}
	if (slot == NULL) {
		return -EBUSY;
	}

	char *argv[ALARM_MAX_ARGS + 2];
	argv[0] = alarm->path;
	for (size_t i = 0; i < nargs; i++) {
		argv[i + 1] = (char *)args[i];
	}
	argv[nargs + 1] = NULL;

	posix_spawnattr_t attr;
	zg_spawnattr_init(&attr);
	pid_t pid;
	int ret = posix_spawn(&pid, alarm->path, NULL, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	if (ret != 0) {
		return -ret;
	}
	slot->pid = pid;
	slot->started = time(NULL);
	return 0;
}
