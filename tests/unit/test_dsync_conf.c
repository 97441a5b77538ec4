/* SPDX-License-Identifier: GPL-3.0-or-later */
/* dsync/conf.h: mod-dsync's configuration rules (items per mode, parent
 * mode's queue) on sets of items given by name. */
#include <string.h>

#include "dsync/conf.h"
#include "tap.h"

/* The items set: a NULL-terminated list of names. */
static bool fx_set(void *arg, const char *item)
{
	for (const char *const *i = arg; *i != NULL; i++) {
		if (strcmp(*i, item) == 0) {
			return true;
		}
	}
	return false;
}

static const char *check(zg_dsync_mode_t mode, const char *queue, bool dry_run,
                         const char *const *set)
{
	zg_dsync_conf_t c = { .mode = mode, .queue = queue, .dry_run = dry_run,
	                      .is_set = fx_set, .arg = (void *)set };
	return zg_dsync_conf_check(&c);
}

/* The error names the item as a word of its list ("key" is not "key tag"). */
static bool names(const char *err, const char *item)
{
	size_t n = strlen(item);
	for (const char *p = strstr(err, item); p != NULL; p = strstr(p + 1, item)) {
		if ((p == err || p[-1] == ' ') && (p[n] == ',' || p[n] == ' ')) {
			return true;
		}
	}
	return false;
}

int main(void)
{
	plan_lazy();
	const char *const none[] = { NULL };
	const char *const *child = zg_dsync_conf_items(ZG_DSYNC_CHILD);
	const char *const *parent = zg_dsync_conf_items(ZG_DSYNC_PARENT);
	ok(child != NULL && parent != NULL, "both modes have their own items");
	ok(zg_dsync_conf_items(0) == NULL, "no items for an unknown mode");

	ok(check(ZG_DSYNC_CHILD, NULL, false, none) == NULL, "child mode with no item set: fine");
	const char *child_err = "parent, trust-anchor, overdue, alarm, alarm-timeout and control "
	                        "apply to child mode only";
	const char *parent_err = "queue, dry-run, scan-interval, child, query-rate, child-port and "
	                         "key apply to parent mode only";
	size_t n = 0;
	for (const char *const *i = child; *i != NULL; i++, n++) {
		const char *set[] = { *i, NULL };
		ok(check(ZG_DSYNC_CHILD, NULL, false, set) == NULL, "child mode takes %s", *i);
		const char *err = check(ZG_DSYNC_PARENT, "spool:/x", false, set);
		ok(err != NULL && strcmp(err, child_err) == 0 && names(err, *i),
		   "parent mode refuses %s, naming it: %s", *i, err != NULL ? err : "(none)");
	}
	is_int(n, 6, "six items are child mode's");
	n = 0;
	for (const char *const *i = parent; *i != NULL; i++, n++) {
		const char *set[] = { *i, NULL };
		ok(check(ZG_DSYNC_PARENT, "spool:/x", false, set) == NULL, "parent mode takes %s", *i);
		const char *err = check(ZG_DSYNC_CHILD, NULL, false, set);
		ok(err != NULL && strcmp(err, parent_err) == 0 && names(err, *i),
		   "child mode refuses %s, naming it: %s", *i, err != NULL ? err : "(none)");
	}
	is_int(n, 7, "seven items are parent mode's");
	const char *both[] = { "mode", "server", "resolver", "allow-delete", "check-interval", NULL };
	ok(check(ZG_DSYNC_CHILD, NULL, false, both) == NULL &&
	   check(ZG_DSYNC_PARENT, NULL, true, both) == NULL, "the shared items suit both modes");

	/* Parent mode's queue. */
	const char *err = check(ZG_DSYNC_PARENT, NULL, false, none);
	is_str(err != NULL ? err : "(none)",
	       "parent mode needs a queue (spool:/PATH or postgresql://...), or dry-run on",
	       "parent mode without a queue or dry-run");
	ok(check(ZG_DSYNC_PARENT, NULL, true, none) == NULL, "dry-run needs no queue");
	ok(check(ZG_DSYNC_PARENT, "spool:/var/spool/zg", false, none) == NULL &&
	   check(ZG_DSYNC_PARENT, "postgresql://zg@localhost/zg", false, none) == NULL,
	   "a spool or a PostgreSQL queue");
	err = check(ZG_DSYNC_PARENT, "spool:relative", true, none);
	is_str(err != NULL ? err : "(none)", "queue must be spool:/ABSOLUTE/PATH or postgresql://...",
	       "a queue of neither form is refused, with dry-run too");
	const char *other[] = { "trust-anchor", NULL };
	err = check(ZG_DSYNC_PARENT, NULL, false, other);
	ok(err != NULL && strcmp(err, child_err) == 0, "the other mode's items are reported first");

	/* The names the module's item table takes: Knot's form, the length first. */
	const char *const knot_names[] = {
		ZG_DSYNC_ITEM_MODE, ZG_DSYNC_ITEM_ALLOW_DELETE, ZG_DSYNC_ITEM_INTERVAL,
		ZG_DSYNC_ITEM_SERVER, ZG_DSYNC_ITEM_RESOLVER, ZG_DSYNC_ITEM_PARENT, ZG_DSYNC_ITEM_TA,
		ZG_DSYNC_ITEM_OVERDUE, ZG_DSYNC_ITEM_ALARM, ZG_DSYNC_ITEM_ALARM_TO,
		ZG_DSYNC_ITEM_CONTROL, ZG_DSYNC_ITEM_QUEUE, ZG_DSYNC_ITEM_DRY_RUN,
		ZG_DSYNC_ITEM_SCAN_INTERVAL, ZG_DSYNC_ITEM_CHILD, ZG_DSYNC_ITEM_QUERY_RATE,
		ZG_DSYNC_ITEM_CHILD_PORT, ZG_DSYNC_ITEM_KEY,
	};
	for (size_t i = 0; i < sizeof(knot_names) / sizeof(knot_names[0]); i++) {
		is_int((unsigned char)knot_names[i][0], strlen(knot_names[i] + 1),
		       "%s: its length byte", knot_names[i] + 1);
	}
	ok(strcmp(child[0], ZG_DSYNC_ITEM_PARENT + 1) == 0 &&
	   strcmp(parent[6], ZG_DSYNC_ITEM_KEY + 1) == 0, "the rules take the same names");
	return done_testing();
}
