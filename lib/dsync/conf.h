/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * mod-dsync's configuration rules without knotd: which items each mode
 * takes, and what parent mode needs (a queue, or dry-run). The module's
 * configuration check reads the items through a callback and reports the
 * text this returns.
 */
#ifndef ZONEGATE_DSYNC_CONF_H
#define ZONEGATE_DSYNC_CONF_H

#include <stdbool.h>

/*!
 * mod-dsync's configuration items, one list for the module's item table and
 * the rules below: each name in Knot's form (yp_name_t), its length in the
 * first byte, then the name; NAME + 1 is the name as text.
 */
/* Both modes. */
#define ZG_DSYNC_ITEM_MODE		"\x04""mode"
#define ZG_DSYNC_ITEM_ALLOW_DELETE	"\x0c""allow-delete"
#define ZG_DSYNC_ITEM_INTERVAL		"\x0e""check-interval"
#define ZG_DSYNC_ITEM_SERVER		"\x06""server"
#define ZG_DSYNC_ITEM_RESOLVER		"\x08""resolver"
/* Child mode only. */
#define ZG_DSYNC_ITEM_PARENT		"\x06""parent"
#define ZG_DSYNC_ITEM_TA		"\x0c""trust-anchor"
#define ZG_DSYNC_ITEM_OVERDUE		"\x07""overdue"
#define ZG_DSYNC_ITEM_ALARM		"\x05""alarm"
#define ZG_DSYNC_ITEM_ALARM_TO		"\x0d""alarm-timeout"
#define ZG_DSYNC_ITEM_CONTROL		"\x07""control"
/* Parent mode only. */
#define ZG_DSYNC_ITEM_QUEUE		"\x05""queue"
#define ZG_DSYNC_ITEM_DRY_RUN		"\x07""dry-run"
#define ZG_DSYNC_ITEM_SCAN_INTERVAL	"\x0d""scan-interval"
#define ZG_DSYNC_ITEM_CHILD		"\x05""child"
#define ZG_DSYNC_ITEM_QUERY_RATE	"\x0a""query-rate"
#define ZG_DSYNC_ITEM_CHILD_PORT	"\x0a""child-port"
#define ZG_DSYNC_ITEM_KEY		"\x03""key"

/*! mod-dsync's modes (the values of its 'mode' item). */
typedef enum {
	ZG_DSYNC_CHILD = 1,  /*!< The guard and the DS interlock (the default). */
	ZG_DSYNC_PARENT = 2, /*!< The CDS scanner. */
} zg_dsync_mode_t;

/*! What the check reads of a module instance's configuration. */
typedef struct {
	zg_dsync_mode_t mode;
	const char *queue;  /*!< The queue item (NULL: not set). */
	bool dry_run;       /*!< dry-run on. */
	/*! Whether the item (its name, e.g. "trust-anchor") is set. */
	bool (*is_set)(void *arg, const char *item);
	void *arg;
} zg_dsync_conf_t;

/*! The items that apply to the mode only, NULL-terminated. */
const char *const *zg_dsync_conf_items(zg_dsync_mode_t mode);

/*!
 * The rules: no item of the other mode is set; parent mode has a queue of a
 * valid form, or dry-run on.
 *
 * \return NULL, or the error (a static string naming the items).
 */
const char *zg_dsync_conf_check(const zg_dsync_conf_t *c);

#endif /* ZONEGATE_DSYNC_CONF_H */
