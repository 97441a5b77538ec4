/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * Operator alarm commands: run `PATH ARG...` without waiting for it, reap it
 * later without blocking, kill it when it overruns its timeout. Used by the
 * modules' worker threads (never by query-processing threads).
 */
#ifndef ZONEGATE_ALARM_H
#define ZONEGATE_ALARM_H

#include <stdbool.h>
#include <spawn.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

/*!
 * Initialises \a attr for a child of a daemon: knotd blocks its signals in
 * every thread and ignores SIGPIPE, so the child gets an empty signal mask
 * and SIGPIPE's default action. Destroy it with posix_spawnattr_destroy().
 */
void zg_spawnattr_init(posix_spawnattr_t *attr);

/*! How many alarm commands may run at once. */
#define ZG_ALARM_SLOTS	8

typedef struct {
	pid_t pid;       /*!< Running child, or 0. */
	time_t started;  /*!< When it was started. */
} zg_alarm_child_t;

/*! Alarm runner; embed it, zg_alarm_init() it, zg_alarm_deinit() it. */
typedef struct {
	char *path;                                   /*!< Command (owned), NULL: no alarm. */
	unsigned timeout;                             /*!< Seconds before a child is killed. */
	zg_alarm_child_t children[ZG_ALARM_SLOTS];
} zg_alarm_t;

/*! Receives one line about a finished or killed command (e.g. for the log). */
typedef void (*zg_alarm_report_f)(void *ctx, const char *text);

/*!
 * Initialises the runner.
 *
 * \param path       Absolute path of the command (copied), or NULL for none.
 * \param timeout_s  Seconds a command may run before it is killed (0: 1 s).
 *
 * \return 0, or -ENOMEM.
 */
int zg_alarm_init(zg_alarm_t *alarm, const char *path, unsigned timeout_s);

/*! Kills and reaps the commands still running, frees the path. */
void zg_alarm_deinit(zg_alarm_t *alarm);

/*! True if an alarm command is configured. */
static inline bool zg_alarm_enabled(const zg_alarm_t *alarm)
{
	return alarm->path != NULL;
}

/*!
 * Starts `path args[0] ... args[nargs-1]` without waiting for it. The child
 * gets an empty signal mask and default SIGPIPE (knotd blocks and ignores
 * signals in its threads). Reaps finished children first.
 *
 * \return 0 started, -EBUSY all slots busy, -EINVAL no command configured or
 *         too many arguments, or -errno from posix_spawn.
 */
int zg_alarm_run(zg_alarm_t *alarm, const char *const args[], size_t nargs,
                 zg_alarm_report_f report, void *ctx);

/*!
 * Reaps finished commands and kills those past the timeout (all of them
 * when kill_all), without blocking (a killed child is waited for at most
 * 1 s). Reports commands that failed (non-zero exit or signal) or were
 * killed through report (may be NULL).
 */
void zg_alarm_reap(zg_alarm_t *alarm, bool kill_all, zg_alarm_report_f report, void *ctx);

#endif /* ZONEGATE_ALARM_H */
