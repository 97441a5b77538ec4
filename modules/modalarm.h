/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The modules' side of lib/alarm: runs `alarm ZONE VALUE REASON` for a module
 * and logs what happens in Knot's style. Header only, included by the modules
 * that have an `alarm` item (mod-validate: VALUE is the serial; mod-dsync:
 * the key tag).
 */
#ifndef ZONEGATE_MODULES_MODALARM_H
#define ZONEGATE_MODULES_MODALARM_H

#include <errno.h>
#include <stdio.h>

#include <knot/module.h>

#include "core/alarm.h"
#include "core/error.h"

/* Logs a report of the alarm runner (a command failed or was killed). */
static inline void zg_modalarm_report(void *mod, const char *text)
{
	knotd_mod_log(mod, LOG_WARNING, "%s", text);
}

/* Reaps finished alarm commands, kills overdue ones (all with kill_all). */
static inline void zg_modalarm_reap(knotd_mod_t *mod, zg_alarm_t *alarm, bool kill_all)
{
	zg_alarm_reap(alarm, kill_all, zg_modalarm_report, mod);
}

/*
 * Starts `alarm ZONE VALUE REASON` without waiting for it; label names VALUE
 * in the log lines ("serial", "key tag"). Does nothing without an alarm.
 */
static inline void zg_modalarm_run(knotd_mod_t *mod, zg_alarm_t *alarm, const char *zone,
                                   const char *label, unsigned value, const char *reason)
{
	if (!zg_alarm_enabled(alarm)) {
		return;
	}
	char value_str[16];
	snprintf(value_str, sizeof(value_str), "%u", value);
	const char *args[] = { zone, value_str, reason };
	int ret = zg_alarm_run(alarm, args, 3, zg_modalarm_report, mod);
	if (ret == -EBUSY) {
		knotd_mod_log(mod, LOG_WARNING, "alarm command not run, %s %u "
		              "(%u alarm commands still running)", label, value, ZG_ALARM_SLOTS);
	} else if (ret != 0) {
		knotd_mod_log(mod, LOG_ERR, "alarm command failed to start, %s %u (%s)",
		              label, value, zg_strerror(ret));
	} else {
		knotd_mod_log(mod, LOG_INFO, "alarm command started, %s %u", label, value);
	}
}

#endif /* ZONEGATE_MODULES_MODALARM_H */
