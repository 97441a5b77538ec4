/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ingest/queue.h: the queue URI. */
#include <stddef.h>

#include "ingest/queue.h"
#include "tap.h"

int main(void)
{
	plan_lazy();
	const char *dir = "x";
	is_int(zg_queue_uri("spool:/var/lib/knot/ingest", &dir), ZG_QUEUE_SPOOL, "spool");
	is_str(dir, "/var/lib/knot/ingest", "its directory");
	is_int(zg_queue_uri("postgresql://knot@/registry?host=/run/postgresql", &dir), ZG_QUEUE_PG,
	       "postgresql://");
	ok(dir == NULL, "no directory for a database");
	is_int(zg_queue_uri("postgres://u@h/db", NULL), ZG_QUEUE_PG, "postgres://");
	is_int(zg_queue_uri("spool:relative/dir", &dir), ZG_QUEUE_INVALID, "relative spool refused");
	ok(dir == NULL, "no directory when invalid");
	is_int(zg_queue_uri("spool:/", NULL), ZG_QUEUE_INVALID, "spool:/ alone refused");
	is_int(zg_queue_uri("spool:", NULL), ZG_QUEUE_INVALID, "spool: alone refused");
	is_int(zg_queue_uri("/var/lib/knot/ingest", NULL), ZG_QUEUE_INVALID, "a bare path refused");
	is_int(zg_queue_uri("mysql://x", NULL), ZG_QUEUE_INVALID, "another scheme refused");
	is_int(zg_queue_uri("", NULL), ZG_QUEUE_INVALID, "empty refused");
	is_int(zg_queue_uri(NULL, NULL), ZG_QUEUE_INVALID, "NULL refused");
	is_str(ZG_QUEUE_URI_FORMS, "spool:/ABSOLUTE/PATH or postgresql://...", "the forms");
	return done_testing();
}
