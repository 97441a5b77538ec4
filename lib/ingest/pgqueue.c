/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "core/clock.h"
#include "core/error.h"
#include "ingest/pgqueue.h"

struct zg_pgqueue {
	char *conninfo;
	char *zone;          /* Lower case, no final dot. */
	char *consumer;
	unsigned lease_s;
	PGconn *conn;
	bool in_tx;
	bool listening;
	bool column_ok;      /* The message column is json (checked by claim). */
	bool created;        /* This handle created missing queue objects. */
	bool no_index;       /* The index of applied message ids is missing. */
	int64_t token;
	PGresult *claimed;   /* Rows of the last claim. */
	zg_pgitem_t *items;
	size_t items_alloc;
};

static const char *const schema_sql =
	"SELECT pg_advisory_xact_lock(7383651);"
	"CREATE TABLE IF NOT EXISTS zonegate_queue ("
	"  id bigserial PRIMARY KEY,"
	"  zone text NOT NULL,"
	"  message json NOT NULL,"
	"  enqueued_at timestamptz NOT NULL DEFAULT now(),"
	"  state text NOT NULL DEFAULT 'pending'"
	"    CHECK (state IN ('pending', 'applied', 'refused')),"
	"  applied_at timestamptz,"
	"  applied_serial bigint,"
	"  error text);"
	"CREATE INDEX IF NOT EXISTS zonegate_queue_pending"
	"  ON zonegate_queue (zone, id) WHERE state = 'pending';"
	"CREATE INDEX IF NOT EXISTS zonegate_queue_applied_id"
	"  ON zonegate_queue (lower(rtrim(zone, '.')), (message->>'id'))"
	"  WHERE state = 'applied';"
	"CREATE TABLE IF NOT EXISTS zonegate_lease ("
	"  zone text PRIMARY KEY,"
	"  holder text NOT NULL,"
	"  token bigint NOT NULL,"
	"  expires_at timestamptz NOT NULL);"
	"CREATE OR REPLACE FUNCTION zonegate_queue_notify() RETURNS trigger"
	"  LANGUAGE plpgsql AS $$ BEGIN"
	"  PERFORM pg_notify('" ZG_PGQUEUE_CHANNEL "', NEW.zone); RETURN NULL; END $$;"
	"CREATE OR REPLACE TRIGGER zonegate_queue_notify AFTER INSERT ON zonegate_queue"
	"  FOR EACH ROW EXECUTE FUNCTION zonegate_queue_notify();";

/* Whether every object of schema_sql exists (then nothing is created: a
 * least-privilege role may neither create nor replace them). The index of
 * applied message ids (added later) is not required: without it the
 * duplicate-id look-up scans the table, and zg_pgqueue_notice() says so. */
static const char *const schema_check_sql =
	"SELECT to_regclass('zonegate_queue') IS NOT NULL"
	"  AND to_regclass('zonegate_lease') IS NOT NULL"
	"  AND to_regclass('zonegate_queue_pending') IS NOT NULL"
	"  AND EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'zonegate_queue_notify'"
	"    AND tgrelid = to_regclass('zonegate_queue')),"
	"  to_regclass('zonegate_queue_applied_id') IS NOT NULL";

/* Pending rows of this zone: the zone column with or without the final dot. */
#define ZONE_MATCH "lower(rtrim(zone, '.')) = $1"

/* The zone as the queries compare it: lower case, no final dot (in place). */
static void zone_key(char *zone)
{
	size_t n = strlen(zone);
	while (n > 1 && zone[n - 1] == '.') {
		zone[--n] = '\0';
	}
	for (size_t i = 0; i < n; i++) {
		if (zone[i] >= 'A' && zone[i] <= 'Z') {
			zone[i] = (char)(zone[i] - 'A' + 'a');
		}
	}
}

int zg_pgqueue_new(const char *conninfo, const char *zone, const char *consumer,
                   unsigned lease_s, zg_pgqueue_t **out)
{
	zg_pgqueue_t *q = calloc(1, sizeof(*q));
	if (q == NULL) {
		return -ENOMEM;
	}
	q->conninfo = strdup(conninfo);
	q->zone = strdup(zone);
	q->consumer = strdup(consumer);
	q->lease_s = lease_s > 0 ? lease_s : 30;
	if (q->conninfo == NULL || q->zone == NULL || q->consumer == NULL) {
		zg_pgqueue_free(q);
		return -ENOMEM;
	}
	zone_key(q->zone);
	*out = q;
	return 0;
}

static void clear_claim(zg_pgqueue_t *q)
{
	if (q->claimed != NULL) {
		PQclear(q->claimed);
		q->claimed = NULL;
	}
}

static void drop_conn(zg_pgqueue_t *q)
{
	clear_claim(q);
	if (q->conn != NULL) {
		PQfinish(q->conn);
		q->conn = NULL;
	}
	q->in_tx = false;
	q->listening = false;
	q->column_ok = false;
}

void zg_pgqueue_free(zg_pgqueue_t *q)
{
	if (q == NULL) {
		return;
	}
	if (q->in_tx) {
		zg_pgqueue_rollback(q);
	}
	if (q->conn != NULL) {
		/* Hand the lease over at once instead of letting it expire. */
		const char *p[] = { q->zone, q->consumer };
		PGresult *r = PQexecParams(q->conn, "UPDATE zonegate_lease SET expires_at = now() "
		                           "WHERE zone = $1 AND holder = $2", 2, NULL, p, NULL,
		                           NULL, 0);
		PQclear(r);
	}
	drop_conn(q);
	free(q->items);
	free(q->conninfo);
	free(q->zone);
	free(q->consumer);
	free(q);
}

static int fail(zg_pgqueue_t *q, char *err, size_t err_len, const char *what)
{
	if (err != NULL && err_len > 0) {
		const char *m = q->conn != NULL ? PQerrorMessage(q->conn) : "no connection";
		snprintf(err, err_len, "%s: %s", what, m);
		/* One line. */
		for (char *p = err; *p != '\0'; p++) {
			if (*p == '\n') {
				*p = ' ';
			}
		}
	}
	drop_conn(q);
	return ZG_ECONNECT;
}

static bool exec_ok(PGresult *r)
{
	ExecStatusType st = PQresultStatus(r);
	return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

static void quiet_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static int ensure_conn(zg_pgqueue_t *q, char *err, size_t err_len)
{
	if (q->conn != NULL && PQstatus(q->conn) == CONNECTION_OK) {
		return 0;
	}
	drop_conn(q);
	q->conn = PQconnectdb(q->conninfo);
	if (q->conn == NULL || PQstatus(q->conn) != CONNECTION_OK) {
		return fail(q, err, err_len, "cannot connect to PostgreSQL");
	}
	PQsetNoticeProcessor(q->conn, quiet_notice, NULL);
	PGresult *r = PQexec(q->conn, "SET lock_timeout = '2s'; SET statement_timeout = '30s'");
	bool ok = exec_ok(r);
	PQclear(r);
	bool complete = false;
	if (ok) {
		r = PQexec(q->conn, schema_check_sql);
		ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
		complete = ok && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
		q->no_index = complete && strcmp(PQgetvalue(r, 0, 1), "t") != 0;
		PQclear(r);
	}
	if (!ok) {
		return fail(q, err, err_len, "cannot read the queue schema");
	}
	if (!complete) {
		/* Something is missing: create what is (the caller says so). */
		r = PQexec(q->conn, "BEGIN");
		PQclear(r);
		r = PQexec(q->conn, schema_sql);
		ok = exec_ok(r);
		PQclear(r);
		if (!ok) {
			/* E.g. a least-privilege role: the operator runs the DDL. */
			return fail(q, err, err_len, "the queue tables are missing or incomplete "
			            "and cannot be created (create them with zonegate-queue.sql)");
		}
		r = PQexec(q->conn, "COMMIT");
		ok = exec_ok(r);
		PQclear(r);
		if (!ok) {
			return fail(q, err, err_len, "cannot create the queue tables");
		}
		q->created = true;
	}
	r = PQexec(q->conn, "LISTEN " ZG_PGQUEUE_CHANNEL);
	ok = exec_ok(r);
	PQclear(r);
	q->listening = ok;
	if (!ok) {
		return fail(q, err, err_len, "LISTEN " ZG_PGQUEUE_CHANNEL " failed");
	}
	return 0;
}

/* The consumer's check of the message column (once per connection). */
static int check_column(zg_pgqueue_t *q, char *err, size_t err_len)
{
	if (q->column_ok) {
		return 0;
	}
	PGresult *r;
	bool ok;
	/* jsonb keeps one of duplicate keys silently, so a message with a
	 * duplicate key (which the spool refuses) would pass: the column must
	 * keep the text as written (json). A table made before is not changed
	 * behind the operator's back (the rewrite locks it). */
	r = PQexec(q->conn, "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
	           "WHERE attrelid = 'zonegate_queue'::regclass AND attname = 'message'");
	ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
	bool jsonb = ok && strcmp(PQgetvalue(r, 0, 0), "json") != 0;
	if (jsonb && err != NULL) {
		snprintf(err, err_len, "zonegate_queue.message is %s, which drops duplicate keys "
		         "silently, so duplicate-key messages cannot be refused; not consuming "
		         "until it is json: run ALTER TABLE zonegate_queue ALTER COLUMN message "
		         "TYPE json USING message::json", PQgetvalue(r, 0, 0));
	}
	PQclear(r);
	if (jsonb) {
		drop_conn(q);
		return ZG_EINPUT;
	}
	if (!ok) {
		return fail(q, err, err_len, "cannot read the queue table's columns");
	}
	q->column_ok = true;
	return 0;
}

bool zg_pgqueue_created(zg_pgqueue_t *q)
{
	bool created = q->created;
	q->created = false;
	return created;
}

const char *zg_pgqueue_notice(zg_pgqueue_t *q)
{
	if (!q->no_index) {
		return NULL;
	}
	q->no_index = false;
	return "the index zonegate_queue_applied_id is missing, so each message's "
	       "duplicate-id check reads the zone's applied rows; create it by running "
	       "zonegate-queue.sql again";
}

int zg_pgqueue_claim(zg_pgqueue_t *q, size_t max, zg_pgitem_t **items, size_t *count,
                     int64_t *token, char *err, size_t err_len)
{
	*count = 0;
	clear_claim(q);
	int ret = ensure_conn(q, err, err_len);
	if (ret == 0) {
		ret = check_column(q, err, err_len);
	}
	if (ret != 0) {
		return ret;
	}
	PGresult *r = PQexec(q->conn, "BEGIN");
	bool ok = exec_ok(r);
	PQclear(r);
	if (!ok) {
		return fail(q, err, err_len, "BEGIN failed");
	}
	q->in_tx = true;

	char lease[32], limit[32];
	snprintf(lease, sizeof(lease), "%u", q->lease_s);
	snprintf(limit, sizeof(limit), "%zu", max);
	const char *lp[] = { q->zone, q->consumer, lease };
	r = PQexecParams(q->conn,
		"INSERT INTO zonegate_lease AS l (zone, holder, token, expires_at) "
		"VALUES ($1, $2, 1, now() + $3::int * interval '1 second') "
		"ON CONFLICT (zone) DO UPDATE SET "
		"  token = CASE WHEN l.holder = EXCLUDED.holder THEN l.token ELSE l.token + 1 END, "
		"  holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at "
		"WHERE l.holder = EXCLUDED.holder OR l.expires_at < now() "
		"RETURNING token", 3, NULL, lp, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_TUPLES_OK) {
		/* lock_not_available: the holder is inside a claim right now. */
		const char *code = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		bool locked = code != NULL && strcmp(code, "55P03") == 0;
		PQclear(r);
		if (locked) {
			zg_pgqueue_rollback(q);
			return q->conn != NULL ? ZG_EFENCED : ZG_ECONNECT;
		}
		return fail(q, err, err_len, "taking the lease failed");
	}
	if (PQntuples(r) == 0) {
		PQclear(r);
		zg_pgqueue_rollback(q);
		return q->conn != NULL ? ZG_EFENCED : ZG_ECONNECT;
	}
	q->token = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	if (token != NULL) {
		*token = q->token;
	}

	const char *cp[] = { q->zone, limit };
	r = PQexecParams(q->conn,
		"SELECT id, message::text, extract(epoch FROM enqueued_at)::bigint "
		"FROM zonegate_queue WHERE " ZONE_MATCH " AND state = 'pending' "
		"ORDER BY id LIMIT $2::int FOR UPDATE SKIP LOCKED", 2, NULL, cp, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		PQclear(r);
		return fail(q, err, err_len, "claiming rows failed");
	}
	size_t n = (size_t)PQntuples(r);
	if (n > q->items_alloc) {
		zg_pgitem_t *ni = realloc(q->items, n * sizeof(*ni));
		if (ni == NULL) {
			PQclear(r);
			zg_pgqueue_rollback(q);
			return -ENOMEM;
		}
		q->items = ni;
		q->items_alloc = n;
	}
	for (size_t i = 0; i < n; i++) {
		q->items[i].id = strtoll(PQgetvalue(r, (int)i, 0), NULL, 10);
		q->items[i].json = PQgetvalue(r, (int)i, 1);
		q->items[i].len = (size_t)PQgetlength(r, (int)i, 1);
		q->items[i].enqueued = (time_t)strtoll(PQgetvalue(r, (int)i, 2), NULL, 10);
	}
	q->claimed = r;
	*items = q->items;
	*count = n;
	return 0;
}

int zg_pgqueue_applied(zg_pgqueue_t *q, const char *msg_id, int64_t *row,
                       char *err, size_t err_len)
{
	if (q->conn == NULL || !q->in_tx) {
		return ZG_ECONNECT;
	}
	/* The expression of the index zonegate_queue_applied_id. */
	const char *p[] = { q->zone, msg_id };
	PGresult *r = PQexecParams(q->conn, "SELECT min(id) FROM zonegate_queue WHERE "
	                           ZONE_MATCH " AND (message->>'id') = $2 AND state = 'applied'",
	                           2, NULL, p, NULL, NULL, 0);
	bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
	bool found = ok && !PQgetisnull(r, 0, 0);
	if (found) {
		*row = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	}
	PQclear(r);
	if (!ok) {
		return fail(q, err, err_len, "looking up the message id failed");
	}
	return found ? 1 : 0;
}

int zg_pgqueue_finish(zg_pgqueue_t *q, int64_t id, bool applied, int64_t serial,
                      const char *reason, char *err, size_t err_len)
{
	if (q->conn == NULL || !q->in_tx) {
		return ZG_ECONNECT;
	}
	char ids[32], ser[32];
	snprintf(ids, sizeof(ids), "%lld", (long long)id);
	snprintf(ser, sizeof(ser), "%lld", (long long)serial);
	PGresult *r;
	if (applied) {
		const char *p[] = { ids, serial >= 0 ? ser : NULL };
		r = PQexecParams(q->conn, "UPDATE zonegate_queue SET state = 'applied', "
		                 "applied_at = now(), applied_serial = $2::bigint, error = NULL "
		                 "WHERE id = $1::bigint AND state = 'pending'",
		                 2, NULL, p, NULL, NULL, 0);
	} else {
		const char *p[] = { ids, reason };
		r = PQexecParams(q->conn, "UPDATE zonegate_queue SET state = 'refused', "
		                 "applied_at = now(), error = $2 "
		                 "WHERE id = $1::bigint AND state = 'pending'",
		                 2, NULL, p, NULL, NULL, 0);
	}
	bool ok = exec_ok(r) && strcmp(PQcmdTuples(r), "1") == 0;
	PQclear(r);
	if (!ok) {
		return fail(q, err, err_len, "recording the outcome failed");
	}
	return 0;
}

int zg_pgqueue_commit(zg_pgqueue_t *q, char *err, size_t err_len)
{
	if (q->conn == NULL || !q->in_tx) {
		return ZG_ECONNECT;
	}
	char tok[32];
	snprintf(tok, sizeof(tok), "%lld", (long long)q->token);
	const char *p[] = { q->zone, q->consumer, tok };
	PGresult *r = PQexecParams(q->conn, "SELECT 1 FROM zonegate_lease WHERE zone = $1 "
	                           "AND holder = $2 AND token = $3::bigint", 3, NULL, p,
	                           NULL, NULL, 0);
	bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
	bool ours = ok && PQntuples(r) == 1;
	PQclear(r);
	if (!ok) {
		return fail(q, err, err_len, "checking the lease failed");
	}
	if (!ours) {
		zg_pgqueue_rollback(q);
		return ZG_EFENCED;
	}
	r = PQexec(q->conn, "COMMIT");
	ok = exec_ok(r);
	PQclear(r);
	q->in_tx = false;
	clear_claim(q);
	if (!ok) {
		return fail(q, err, err_len, "COMMIT failed");
	}
	return 0;
}

void zg_pgqueue_rollback(zg_pgqueue_t *q)
{
	clear_claim(q);
	if (q->conn == NULL) {
		q->in_tx = false;
		return;
	}
	PGresult *r = PQexec(q->conn, "ROLLBACK");
	bool ok = exec_ok(r);
	PQclear(r);
	q->in_tx = false;
	if (!ok) {
		drop_conn(q);
	}
}

int zg_pgqueue_wait(zg_pgqueue_t *q, int timeout_ms)
{
	if (ensure_conn(q, NULL, 0) != 0) {
		return ZG_ECONNECT;
	}
	int64_t end = zg_clock_ms() + timeout_ms;
	for (;;) {
		if (!PQconsumeInput(q->conn)) {
			drop_conn(q);
			return ZG_ECONNECT;
		}
		PGnotify *n = PQnotifies(q->conn);
		if (n != NULL) {
			/* Any insert wakes us up (a claim finds nothing if it was for
			 * another zone); drain the rest. */
			PQfreemem(n);
			while ((n = PQnotifies(q->conn)) != NULL) {
				PQfreemem(n);
			}
			return 0;
		}
		int64_t left = end - zg_clock_ms();
		if (left <= 0) {
			return 0;
		}
		struct pollfd pfd = { .fd = PQsocket(q->conn), .events = POLLIN };
		if (poll(&pfd, 1, left > 100 ? 100 : (int)left) < 0 && errno != EINTR) {
			return ZG_ECONNECT;
		}
	}
}

int zg_pgqueue_pending(zg_pgqueue_t *q, size_t *count, time_t *oldest)
{
	if (q->in_tx || ensure_conn(q, NULL, 0) != 0) {
		return ZG_ECONNECT;
	}
	const char *p[] = { q->zone };
	PGresult *r = PQexecParams(q->conn, "SELECT count(*), coalesce(extract(epoch FROM "
	                           "min(enqueued_at))::bigint, 0) FROM zonegate_queue WHERE "
	                           ZONE_MATCH " AND state = 'pending'", 1, NULL, p, NULL, NULL, 0);
	bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
	if (ok) {
		*count = (size_t)strtoull(PQgetvalue(r, 0, 0), NULL, 10);
		*oldest = (time_t)strtoll(PQgetvalue(r, 0, 1), NULL, 10);
	}
	PQclear(r);
	if (!ok) {
		drop_conn(q);
		return ZG_ECONNECT;
	}
	return 0;
}

int zg_pgqueue_enqueue(zg_pgqueue_t *q, const char *json, int64_t *id, char *err, size_t err_len)
{
	if (q == NULL || json == NULL || q->in_tx) {
		return -EINVAL;
	}
	int ret = ensure_conn(q, err, err_len);
	if (ret != 0) {
		return ret;
	}
	const char *p[] = { q->zone, json };
	PGresult *r = PQexecParams(q->conn, "INSERT INTO zonegate_queue (zone, message) "
	                           "VALUES ($1, $2::json) RETURNING id", 2, NULL, p, NULL, NULL, 0);
	bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
	if (ok && id != NULL) {
		*id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	}
	if (!ok && err != NULL && err_len > 0) {
		snprintf(err, err_len, "insert failed: %s", PQresultErrorMessage(r));
		for (char *c = err; *c != '\0'; c++) {
			if (*c == '\n') {
				*c = ' ';
			}
		}
	}
	PQclear(r);
	/* A producer does not wait for notifications: drop the ones received. */
	PGnotify *n;
	while ((n = PQnotifies(q->conn)) != NULL) {
		PQfreemem(n);
	}
	if (!ok) {
		if (PQstatus(q->conn) != CONNECTION_OK) {
			drop_conn(q);
			return ZG_ECONNECT;
		}
		return ZG_EINPUT;
	}
	return 0;
}

/* One row of a read-only status query (NULL on failure: err filled). */
static PGresult *status_query(PGconn *c, const char *sql, int n, const char *const *p,
                              char *err, size_t err_len)
{
	PGresult *r = PQexecParams(c, sql, n, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(r) == PGRES_TUPLES_OK) {
		return r;
	}
	snprintf(err, err_len, "queue query failed: %s", PQresultErrorMessage(r));
	PQclear(r);
	return NULL;
}

static int status_fail(PGconn *c, PGresult *r, char *err, size_t err_len, const char *what)
{
	if (what != NULL) {
		snprintf(err, err_len, "%s: %s", what, c != NULL ? PQerrorMessage(c) : "out of memory");
	}
	for (char *p = err; *p != '\0'; p++) {
		if (*p == '\n' || *p == '\t') {
			*p = (p[1] == '\0') ? '\0' : ' ';
		}
	}
	PQclear(r);
	PQfinish(c);
	return ZG_ECONNECT;
}

int zg_pgqueue_status(const char *conninfo, const char *zone, int64_t served,
                      zg_queue_status_t *out, char *err, size_t err_len)
{
	char z[256];
	snprintf(z, sizeof(z), "%s", zone);
	zone_key(z);
	const char *keys[] = { "dbname", "connect_timeout", "options", NULL };
	const char *vals[] = { conninfo, "5",
	                       "-c statement_timeout=10s -c default_transaction_read_only=on", NULL };
	PGconn *c = PQconnectdbParams(keys, vals, 1);
	if (c == NULL || PQstatus(c) != CONNECTION_OK) {
		return status_fail(c, NULL, err, err_len, "cannot connect to PostgreSQL");
	}
	PQsetNoticeProcessor(c, quiet_notice, NULL);
	PGresult *r = status_query(c, "SELECT to_regclass('zonegate_queue') IS NOT NULL, "
	                           "to_regclass('zonegate_lease') IS NOT NULL", 0, NULL, err, err_len);
	if (r == NULL) {
		return status_fail(c, NULL, err, err_len, NULL);
	}
	if (strcmp(PQgetvalue(r, 0, 0), "t") != 0) {
		snprintf(err, err_len, "no table zonegate_queue in this database");
		return status_fail(c, r, err, err_len, NULL);
	}
	bool lease_table = strcmp(PQgetvalue(r, 0, 1), "t") == 0;
	PQclear(r);
	out->pg = true;
	out->last_row = out->last_serial = -1;
	const char *p1[] = { z };
	r = status_query(c, "SELECT count(*) FILTER (WHERE state = 'pending'), "
	                 "coalesce(extract(epoch FROM min(enqueued_at) FILTER (WHERE state = 'pending'))"
	                 "::bigint, 0), count(*) FILTER (WHERE state = 'refused') "
	                 "FROM zonegate_queue WHERE " ZONE_MATCH, 1, p1, err, err_len);
	if (r == NULL) {
		return status_fail(c, NULL, err, err_len, NULL);
	}
	out->pending = (size_t)strtoull(PQgetvalue(r, 0, 0), NULL, 10);
	out->oldest = (time_t)strtoll(PQgetvalue(r, 0, 1), NULL, 10);
	out->refused = (size_t)strtoull(PQgetvalue(r, 0, 2), NULL, 10);
	PQclear(r);
	r = status_query(c, "SELECT id, coalesce(message->>'id', ''), coalesce(applied_serial, -1), "
	                 "extract(epoch FROM enqueued_at)::bigint, "
	                 "coalesce(extract(epoch FROM applied_at)::bigint, 0) FROM zonegate_queue "
	                 "WHERE " ZONE_MATCH " AND state = 'applied' ORDER BY id DESC LIMIT 1",
	                 1, p1, err, err_len);
	if (r == NULL) {
		return status_fail(c, NULL, err, err_len, NULL);
	}
	if (PQntuples(r) == 1) {
		out->have_last = true;
		out->last_row = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		snprintf(out->last_id, sizeof(out->last_id), "%s", PQgetvalue(r, 0, 1));
		out->last_serial = strtoll(PQgetvalue(r, 0, 2), NULL, 10);
		out->last_enqueued = (time_t)strtoll(PQgetvalue(r, 0, 3), NULL, 10);
		out->last_applied = (time_t)strtoll(PQgetvalue(r, 0, 4), NULL, 10);
	}
	PQclear(r);
	if (served >= 0) {
		/* Serials above the served one (RFC 1982 arithmetic). */
		char sv[24];
		snprintf(sv, sizeof(sv), "%lld", (long long)served);
		const char *p2[] = { z, sv };
		r = status_query(c, "SELECT coalesce(extract(epoch FROM min(enqueued_at))::bigint, 0) "
		                 "FROM zonegate_queue WHERE " ZONE_MATCH " AND state = 'applied' "
		                 "AND applied_serial IS NOT NULL AND ((applied_serial - $2::bigint) "
		                 "% 4294967296 + 4294967296) % 4294967296 BETWEEN 1 AND 2147483647",
		                 2, p2, err, err_len);
		if (r == NULL) {
			return status_fail(c, NULL, err, err_len, NULL);
		}
		out->unserved_oldest = (time_t)strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		PQclear(r);
	}
	if (lease_table) {
		r = status_query(c, "SELECT holder, token, extract(epoch FROM expires_at)::bigint "
		                 "FROM zonegate_lease WHERE lower(rtrim(zone, '.')) = $1", 1, p1,
		                 err, err_len);
		if (r == NULL) {
			return status_fail(c, NULL, err, err_len, NULL);
		}
		if (PQntuples(r) == 1) {
			out->have_lease = true;
			snprintf(out->lease_holder, sizeof(out->lease_holder), "%s", PQgetvalue(r, 0, 0));
			out->lease_token = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
			out->lease_expires = (time_t)strtoll(PQgetvalue(r, 0, 2), NULL, 10);
		}
		PQclear(r);
	}
	PQfinish(c);
	return 0;
}

struct pg_conn *zg_pgqueue_conn(zg_pgqueue_t *q, char *err, size_t err_len)
{
	if (q->in_tx) {
		if (err != NULL && err_len > 0) {
			snprintf(err, err_len, "a claim is open on this connection");
		}
		return NULL;
	}
	return ensure_conn(q, err, err_len) == 0 ? q->conn : NULL;
}

void zg_pgqueue_reset(zg_pgqueue_t *q)
{
	drop_conn(q);
}
