/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The spool's record of applied message ids (done/): per zone, read from
 * done/ by a new handle, kept up to date by zg_spool_done(). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ingest/spool.h"
#include "tap.h"

static char dir[] = "/tmp/zg-spool-XXXXXX";

/* Writes done/NAME (as a message applied before this handle). */
static void write_done(const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/done/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (f != NULL) {
		fputs(text, f);
		fclose(f);
	}
}

static int applied(zg_spool_t *sp, const char *zone, const char *id, char *name)
{
	name[0] = '\0';
	return zg_spool_applied(sp, zone, id, name);
}

int main(void)
{
	plan_lazy();
	char name[ZG_SPOOL_NAME_MAX + 1];
	if (mkdtemp(dir) == NULL) {
		skip_all("no temporary directory");
	}
	zg_spool_t *sp = NULL;
	is_int(zg_spool_open(dir, &sp), 0, "spool opened");
	write_done("a.json", "{\"version\":1,\"id\":\"m-1\",\"zone\":\"Test.\",\"changes\":[]}");
	write_done("b.json", "{\"version\":1,\"id\":\"m-2\",\"zone\":\"other\",\"changes\":[]}");
	write_done("c.json", "not json");
	write_done("d.json", "{\"id\":7,\"zone\":\"test.\"}");
	write_done("e.json.error", "{\"id\":\"m-9\",\"zone\":\"test.\"}");
	write_done(".f.json", "{\"id\":\"m-8\",\"zone\":\"test.\"}");

	is_int(applied(sp, "test.", "m-1", name), 1, "an id in done/ is applied");
	is_str(name, "a.json", "with the name of its file");
	is_int(applied(sp, "TEST", "m-1", name), 1, "zone: any case, final dot optional");
	is_int(applied(sp, "other.", "m-1", name), 0, "per zone: not applied to another zone");
	is_int(applied(sp, "other.", "m-2", name), 1, "the other zone's id");
	is_str(name, "b.json", "with its file");
	is_int(applied(sp, "test.", "m-2", name), 0, "not applied to test.");
	is_int(applied(sp, "test.", "M-1", name), 0, "ids are compared exactly (case matters)");
	is_int(applied(sp, "test.", "7", name), 0, "a non-string id does not count");
	is_int(applied(sp, "test.", "m-9", name), 0, "only NAME.json files count");
	is_int(applied(sp, "test.", "m-8", name), 0, "hidden files do not count");

	/* Applied during this run: recorded by zg_spool_done(). */
	const char *m = "{\"version\":1,\"id\":\"m-3\",\"zone\":\"test.\",\"changes\":[]}";
	is_int(zg_spool_put(sp, "g.json", m, strlen(m)), 0, "message put");
	is_int(applied(sp, "test.", "m-3", name), 0, "a waiting message is not applied");
	is_int(zg_spool_done(sp, "g.json", "test.", "m-3"), 0, "moved to done/");
	is_int(applied(sp, "test.", "m-3", name), 1, "recorded when moved");
	is_str(name, "g.json", "under its name");
	/* The first file of an id stays the one named. */
	is_int(zg_spool_put(sp, "h.json", m, strlen(m)), 0, "second message put");
	is_int(zg_spool_done(sp, "h.json", "test.", "m-3"), 0, "moved to done/");
	is_int(applied(sp, "test.", "m-3", name), 1, "still applied");
	is_str(name, "g.json", "the first file named");
	/* Many ids: the set grows. */
	char id[32], fname[32];
	int bad = 0;
	for (int i = 0; i < 1000; i++) {
		snprintf(fname, sizeof(fname), "n%04d.json", i);
		snprintf(id, sizeof(id), "n-%d", i);
		if (zg_spool_put(sp, fname, m, strlen(m)) != 0 ||
		    zg_spool_done(sp, fname, "test.", id) != 0) {
			bad++;
		}
	}
	is_int(bad, 0, "1000 messages moved to done/");
	is_int(applied(sp, "test.", "n-999", name), 1, "the last recorded");
	is_int(applied(sp, "test.", "n-0", name), 1, "the first still there");
	is_int(applied(sp, "test.", "n-1000", name), 0, "no other");
	zg_spool_free(sp);

	/* A new handle (a restart) reads the record from done/. */
	is_int(zg_spool_open(dir, &sp), 0, "spool opened again");
	is_int(applied(sp, "test.", "m-3", name), 1, "m-3 read from done/");
	is_int(applied(sp, "test.", "m-1", name), 1, "m-1 read from done/");
	is_str(name, "a.json", "its file");
	/* zg_spool_put wrote h.json with id m-3 too: the files' own id counts. */
	is_int(applied(sp, "test.", "n-5", name), 0, "n-5: its file holds id m-3");
	zg_spool_free(sp);

	/* done/ unreadable: an error, not "not applied". */
	if (geteuid() != 0) {
		is_int(zg_spool_open(dir, &sp), 0, "spool opened a third time");
		char done[256];
		snprintf(done, sizeof(done), "%s/done", dir);
		chmod(done, 0);
		ok(applied(sp, "test.", "m-1", name) < 0, "an unreadable done/ is an error");
		chmod(done, 0755);
		is_int(applied(sp, "test.", "m-1", name), 1, "read once readable again");
		zg_spool_free(sp);
	}
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	(void)!system(cmd);
	return done_testing();
}
