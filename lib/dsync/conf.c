/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * mod-dsync's configuration rules (see conf.h): one table row per mode, its
 * own items and the error when the other mode sets one of them.
 */
#include <stddef.h>

#include "dsync/conf.h"
#include "ingest/queue.h"

/* The items as text: conf.h's names without their length byte. */
static const char *const child_items[] = {
	ZG_DSYNC_ITEM_PARENT + 1, ZG_DSYNC_ITEM_TA + 1, ZG_DSYNC_ITEM_OVERDUE + 1,
	ZG_DSYNC_ITEM_ALARM + 1, ZG_DSYNC_ITEM_ALARM_TO + 1, ZG_DSYNC_ITEM_CONTROL + 1, NULL
};

static const char *const parent_items[] = {
	ZG_DSYNC_ITEM_QUEUE + 1, ZG_DSYNC_ITEM_DRY_RUN + 1, ZG_DSYNC_ITEM_SCAN_INTERVAL + 1,
	ZG_DSYNC_ITEM_CHILD + 1, ZG_DSYNC_ITEM_QUERY_RATE + 1, ZG_DSYNC_ITEM_CHILD_PORT + 1,
	ZG_DSYNC_ITEM_KEY + 1, NULL
};

static const struct {
	zg_dsync_mode_t mode;      /* The mode the items apply to ... */
	const char *const *items;
	const char *err;           /* ... and the error when another mode sets one. */
} rules[] = {
	{ ZG_DSYNC_CHILD, child_items,
	  "parent, trust-anchor, overdue, alarm, alarm-timeout and control apply to child mode only" },
	{ ZG_DSYNC_PARENT, parent_items,
	  "queue, dry-run, scan-interval, child, query-rate, child-port and key apply to parent "
	  "mode only" },
};

const char *const *zg_dsync_conf_items(zg_dsync_mode_t mode)
{
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		if (rules[i].mode == mode) {
			return rules[i].items;
		}
	}
	return NULL;
}

const char *zg_dsync_conf_check(const zg_dsync_conf_t *c)
{
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		if (rules[i].mode == c->mode) {
			continue;
		}
		for (const char *const *item = rules[i].items; *item != NULL; item++) {
			if (c->is_set(c->arg, *item)) {
				return rules[i].err;
			}
		}
	}
	if (c->mode != ZG_DSYNC_PARENT) {
		return NULL;
	}
	if (c->queue == NULL && !c->dry_run) {
		return "parent mode needs a queue (spool:/PATH or postgresql://...), or dry-run on";
	}
	if (c->queue != NULL && zg_queue_uri(c->queue, NULL) == ZG_QUEUE_INVALID) {
		return "queue must be " ZG_QUEUE_URI_FORMS;
	}
	return NULL;
}
