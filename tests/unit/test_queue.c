/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ingest/queue.h: the queue URI, and the one interface over both backends:
 * the same producer and consumer passes against a spool in a temporary
 * directory and, when ZG_TEST_PG_URI names a database (tests/func/queue-pg.sh
 * starts a real PostgreSQL cluster for it), against PostgreSQL. */
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/error.h"
#include "ingest/queue.h"
#include "tap.h"

static char logged[4096];

/* Whether text matches the extended regular expression re. */
static bool matches(const char *text, const char *re)
{
	regex_t rx;
	if (regcomp(&rx, re, REG_EXTENDED | REG_NOSUB) != 0) {
		return false;
	}
	bool m = regexec(&rx, text, 0, NULL, 0) == 0;
	regfree(&rx);
	return m;
}

static void on_log(void *ctx, int level, bool limited, const char *text)
{
	(void)ctx;
	(void)level;
	(void)limited;
	size_t l = strlen(logged);
	snprintf(logged + l, sizeof(logged) - l, "%s\n", text);
}

static int states;

static void on_state(void *ctx, int connected, int holding, bool polled)
{
	(void)ctx;
	(void)connected;
	(void)holding;
	(void)polled;
	states++;
}

#define MSG(id) "{\"version\":1,\"id\":\"" id "\",\"zone\":\"test.\",\"changes\":[]}"

static void uri_forms(void)
{
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

	zg_queue_env_t env = { .zone = "test." };
	zg_queue_t *q = (zg_queue_t *)&env;
	char err[256] = "";
	is_int(zg_queue_open("mysql://x", &env, &q, err, sizeof(err)), ZG_EINPUT,
	       "open: another scheme refused");
	ok(q == NULL, "no queue");
	is_str(err, "queue 'mysql://x': not a queue URI (" ZG_QUEUE_URI_FORMS ")", "and says why");
	env.zone = NULL;
	env.consume = true;
	is_int(zg_queue_open("postgresql://u@/db?host=/nonexistent", &env, &q, err, sizeof(err)),
	       ZG_EINPUT, "open: a database without zone refused");
	is_str(err, "a PostgreSQL source needs the zone", "and says why");
	zg_queue_close(NULL);
}

/* The same passes on either backend (spool: pg false). */
static void exercise(const char *uri, bool pg)
{
	const char *kind = pg ? "pg" : "spool";
	char err[512] = "", where[128] = "";
	zg_queue_env_t penv = { .zone = "test.", .consumer = "producer", .lease_s = 30 };
	zg_queue_t *prod = NULL, *cons = NULL, *other = NULL;
	if (!ok(zg_queue_open(uri, &penv, &prod, err, sizeof(err)) == 0 && prod != NULL,
	        "%s: producer opens (%s)", kind, err)) {
		return;
	}
	is_int(zg_queue_put(prod, "m-1", MSG("m-1"), where, sizeof(where), err, sizeof(err)), 0,
	       "%s: put m-1", kind);
	if (pg) {
		ok(strncmp(where, " (row ", 6) == 0, "%s: where names the row: '%s'", kind, where);
	} else {
		is_str(where, "", "%s: no row for a file", kind);
		is_int(zg_queue_put(prod, "m-1", MSG("m-1"), where, sizeof(where), err, sizeof(err)),
		       -EEXIST, "%s: a waiting message of the same id is not replaced", kind);
		is_str(err, "cannot write m-1.json to the spool (File exists)", "%s: and says so",
		       kind);
	}
	is_int(zg_queue_put(prod, "m-2", MSG("m-2"), where, sizeof(where), err, sizeof(err)), 0,
	       "%s: put m-2", kind);
	is_int(zg_queue_put(prod, "m-3", MSG("m-3"), where, sizeof(where), err, sizeof(err)), 0,
	       "%s: put m-3", kind);
	size_t count = 0;
	time_t oldest = 0;
	is_int(zg_queue_pending(prod, &count, &oldest), 0, "%s: pending read", kind);
	is_int((int)count, 3, "%s: three waiting", kind);
	/* PostgreSQL rounds to the nearest second. */
	ok(oldest > 0 && oldest <= time(NULL) + 1, "%s: the oldest has a time", kind);

	zg_queue_env_t cenv = { .zone = "test.", .consumer = "a", .lease_s = 30, .consume = true,
	                        .once = true, .max_size = 1 << 20, .log = on_log,
	                        .state = on_state };
	logged[0] = '\0';
	states = 0;
	if (!ok(zg_queue_open(uri, &cenv, &cons, err, sizeof(err)) == 0 && cons != NULL,
	        "%s: consumer opens (%s)", kind, err)) {
		zg_queue_close(prod);
		return;
	}
	is_int(zg_queue_keeps_refusals_on_stop(cons), !pg, "%s: refusals kept on stop: spool only",
	       kind);
	zg_queue_pass_t pass;
	is_int(zg_queue_claim(cons, 2, &pass, err, sizeof(err)), 0, "%s: claim", kind);
	ok(!pass.empty && !pass.error, "%s: a pass without error", kind);
	is_int((int)pass.count, 2, "%s: two claimed (max 2)", kind);
	ok(states > 0, "%s: the consumer's state reported", kind);
	if (pass.count == 2) {
		ok(strstr(pass.items[0].data, "\"m-1\"") != NULL &&
		   strstr(pass.items[1].data, "\"m-2\"") != NULL, "%s: in queue order", kind);
		is_int((int)pass.items[0].len, (int)strlen(MSG("m-1")), "%s: whole text", kind);
		if (pg) {
			ok(pass.items[0].name == NULL && pass.items[0].row > 0 &&
			   pass.items[1].row > pass.items[0].row, "%s: rows, no names", kind);
			ok(matches(logged, "lease of test\\. taken, fencing token [0-9]+"), "%s: lease logged",
			     kind);
		} else {
			is_str(pass.items[0].name, "m-1.json", "%s: file name", kind);
			is_int((int)pass.items[0].row, -1, "%s: no row", kind);
		}
		ok(!pass.items[0].unusable, "%s: a readable message", kind);
		is_int(zg_queue_applied(cons, "test.", "m-1", where, sizeof(where)), 0,
		       "%s: m-1 not applied yet", kind);
		is_int(zg_queue_mark(cons, 0, true, 7, "test.", "m-1", NULL), 0, "%s: m-1 applied",
		       kind);
		is_int(zg_queue_mark(cons, 1, false, -1, NULL, NULL, "message m-2: refused here"),
		       0, "%s: m-2 refused", kind);
		is_int(zg_queue_commit(cons), 0, "%s: pass committed", kind);
	}
	if (pg) {
		/* A second consumer of the zone stands by while the lease is held. */
		zg_queue_env_t oenv = cenv;
		oenv.consumer = "b";
		is_int(zg_queue_open(uri, &oenv, &other, err, sizeof(err)), 0, "%s: b opens", kind);
		is_int(zg_queue_claim(other, 2, &pass, err, sizeof(err)), ZG_EFENCED,
		       "%s: b stands by (%s)", kind, err);
		ok(matches(logged, "standby: another consumer holds the lease of test\\."),
		     "%s: standby logged", kind);
	} else {
		/* A second consumer of the spool: refused with --once. */
		is_int(zg_queue_open(uri, &cenv, &other, err, sizeof(err)), ZG_EFENCED,
		       "%s: a second consumer is refused the lock", kind);
		ok(matches(logged, "spool /.* is in use by another consumer \\(.*pid [0-9]+\\), not "
		     "consuming it"), "%s: and says so", kind);
		ok(other == NULL, "%s: no second queue", kind);
	}
	zg_queue_close(other);
	is_int(zg_queue_claim(cons, 2, &pass, err, sizeof(err)), 0, "%s: claim again", kind);
	is_int((int)pass.count, 1, "%s: the third", kind);
	if (pass.count == 1) {
		ok(strstr(pass.items[0].data, "\"m-3\"") != NULL, "%s: m-3", kind);
		/* The record of applied ids is read inside a pass. */
		is_int(zg_queue_applied(cons, "test.", "m-1", where, sizeof(where)), 1,
		       "%s: m-1 recorded as applied", kind);
		ok(matches(where, pg ? "^row [0-9]+$" : "^done/m-1\\.json$"), "%s: where: %s", kind,
		   where);
		is_int(zg_queue_applied(cons, "test.", "m-2", where, sizeof(where)), 0,
		       "%s: a refused id is not applied", kind);
		is_int(zg_queue_mark(cons, 0, true, -1, "test.", "m-3", NULL), 0, "%s: m-3 applied",
		       kind);
	}
	is_int(zg_queue_commit(cons), 0, "%s: committed", kind);
	is_int(zg_queue_pending(cons, &count, &oldest), 0, "%s: pending read", kind);
	is_int((int)count, 0, "%s: none waits", kind);
	is_int(zg_queue_claim(cons, 2, &pass, err, sizeof(err)), 0, "%s: claim on empty", kind);
	ok(pass.empty && pass.count == 0, "%s: empty", kind);
	is_int(zg_queue_commit(cons), 0, "%s: empty pass ends", kind);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	zg_queue_wait(cons, 200);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double el = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ok(el >= 0.15 && el < 5, "%s: wait bounded by its timeout (%.2f s)", kind, el);
	zg_queue_close(cons);
	zg_queue_close(prod);
}

/* A spool entry that is no readable message is claimed as such. */
static void spool_unusable(const char *dir, const char *uri)
{
	char path[512], err[256];
	snprintf(path, sizeof(path), "%s/incoming/fifo.json", dir);
	if (mkfifo(path, 0600) != 0) {
		ok(false, "spool: a FIFO made");
		return;
	}
	zg_queue_env_t env = { .consume = true, .once = true, .max_size = 1 << 20 };
	zg_queue_t *q = NULL;
	is_int(zg_queue_open(uri, &env, &q, err, sizeof(err)), 0, "spool: consumer reopens");
	zg_queue_pass_t pass;
	is_int(zg_queue_claim(q, 4, &pass, err, sizeof(err)), 0, "spool: claim a FIFO");
	ok(pass.count == 1 && pass.items[0].unusable, "spool: claimed as unusable");
	if (pass.count == 1) {
		is_str(pass.items[0].why, "entry fifo.json: a FIFO, not a message", "spool: why");
		is_int(zg_queue_mark(q, 0, false, -1, NULL, NULL, "not a message"), 0,
		       "spool: refused");
	}
	snprintf(path, sizeof(path), "%s/failed/fifo.json.error", dir);
	struct stat st;
	ok(stat(path, &st) == 0, "spool: failed/fifo.json.error written");
	zg_queue_close(q);
}

int main(void)
{
	plan_lazy();
	uri_forms();

	char dir[] = "/tmp/zg-test-queue-XXXXXX", uri[64];
	if (mkdtemp(dir) != NULL) {
		snprintf(uri, sizeof(uri), "spool:%s", dir);
		exercise(uri, false);
		spool_unusable(dir, uri);
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		(void)!system(cmd);
	} else {
		ok(false, "a temporary directory");
	}

	const char *pg = getenv("ZG_TEST_PG_URI");
	if (pg != NULL && pg[0] != '\0') {
		exercise(pg, true);
	} else {
		diag("ZG_TEST_PG_URI not set: PostgreSQL backend in tests/func/queue-pg.sh");
	}
	return done_testing();
}
