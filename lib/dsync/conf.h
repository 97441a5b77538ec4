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
