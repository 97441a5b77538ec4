/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "core/error.h"
#include "ingest/pgqueue.h"
#include "signer/pglease.h"

typedef struct {
	zg_lease_store_t base;
	zg_pgqueue_t *q;      /* Only its connection is used. */
} pglease_t;

/* Every statement is one autocommitted statement on the lease's row, timed
 * by the database's clock (clock_timestamp(): the time of the statement). */

/* Take: a free row (expired) or holder's own. The token grows unless the
 * holder renews its own unexpired lease. */
static const char *const take_sql =
	"INSERT INTO zonegate_lease AS l (zone, holder, token, expires_at) "
	"VALUES ($1, $2, 1, clock_timestamp() + $3::int * interval '1 millisecond') "
	"ON CONFLICT (zone) DO UPDATE SET "
	"  token = CASE WHEN l.holder = EXCLUDED.holder AND l.expires_at > clock_timestamp() "
	"    THEN l.token ELSE l.token + 1 END, "
	"  holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at "
	"WHERE l.holder = EXCLUDED.holder OR l.expires_at <= clock_timestamp() "
	"RETURNING token";

static const char *const renew_sql =
	"UPDATE zonegate_lease "
	"SET expires_at = clock_timestamp() + $4::int * interval '1 millisecond' "
	"WHERE zone = $1 AND holder = $2 AND token = $3::bigint "
	"  AND expires_at > clock_timestamp() RETURNING token";

static const char *const release_sql =
	"UPDATE zonegate_lease SET expires_at = clock_timestamp() "
	"WHERE zone = $1 AND holder = $2 AND token = $3::bigint "
	"  AND expires_at > clock_timestamp()";

static const char *const read_sql =
	"SELECT holder, token, "
	"  (extract(epoch FROM expires_at - clock_timestamp()) * 1000)::bigint "
	"FROM zonegate_lease WHERE zone = $1";

static int fail(pglease_t *p, PGresult *r, const char *what, char *err, size_t err_len)
{
	PGconn *c = zg_pgqueue_conn(p->q, NULL, 0);
	if (err != NULL && err_len > 0) {
		const char *m = r != NULL ? PQresultErrorMessage(r) : "";
		if ((m == NULL || m[0] == '\0') && c != NULL) {
			m = PQerrorMessage(c);
		}
		snprintf(err, err_len, "%s: %s", what, m != NULL ? m : "");
		for (char *s = err; *s != '\0'; s++) {
			if (*s == '\n') {
				*s = ' ';
			}
		}
		size_t n = strlen(err);
		while (n > 0 && err[n - 1] == ' ') {
			err[--n] = '\0';
		}
	}
	PQclear(r);
	zg_pgqueue_reset(p->q);
	return ZG_ECONNECT;
}

/* Runs one statement on the zone's row: $1 is the row's key, $2.. the
 * arguments (args[0] .. args[nargs - 1]). *out is its result (to PQclear). */
static int query(pglease_t *p, const char *sql, const char *what, const char *zone,
                 const char *const *args, int nargs, PGresult **out, char *err, size_t err_len)
{
	char key[300];
	if (zg_lease_key(zone, key, sizeof(key)) != 0) {
		snprintf(err, err_len, "bad zone name for a lease");
		return -EINVAL;
	}
	PGconn *c = zg_pgqueue_conn(p->q, err, err_len);
	if (c == NULL) {
		return ZG_ECONNECT;
	}
	const char *params[4] = { key };
	for (int i = 0; i < nargs && i < 3; i++) {
		params[i + 1] = args[i];
	}
	PGresult *r = PQexecParams(c, sql, nargs + 1, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		return fail(p, r, what, err, err_len);
	}
	*out = r;
	return 0;
}

/* Runs a statement; *rows is the number of rows it returned or changed,
 * *value the first column of the first (or -1). */
static int exec_row(pglease_t *p, const char *sql, const char *what, const char *zone,
                    const char *holder, const char *a3, const char *a4, int nparams,
                    int *rows, int64_t *value, char *err, size_t err_len)
{
	const char *args[] = { holder, a3, a4 };
	PGresult *r = NULL;
	int ret = query(p, sql, what, zone, args, nparams - 1, &r, err, err_len);
	if (ret != 0) {
		return ret;
	}
	if (PQresultStatus(r) == PGRES_TUPLES_OK) {
		*rows = PQntuples(r);
		*value = *rows > 0 ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : -1;
	} else {
		*rows = atoi(PQcmdTuples(r));
		*value = -1;
	}
	PQclear(r);
	return 0;
}

static int pg_take(zg_lease_store_t *s, const char *zone, const char *holder,
                   unsigned period_ms, int64_t *token, char *err, size_t err_len)
{
	char period[16];
	snprintf(period, sizeof(period), "%u", period_ms);
	int rows = 0;
	int64_t v = -1;
	int ret = exec_row((pglease_t *)s, take_sql, "taking the signer lease failed", zone,
	                   holder, period, NULL, 3, &rows, &v, err, err_len);
	if (ret != 0) {
		return ret;
	}
	if (rows == 0) {
		return ZG_EFENCED;
	}
	*token = v;
	return 0;
}

static int pg_renew(zg_lease_store_t *s, const char *zone, const char *holder, int64_t token,
                    unsigned period_ms, char *err, size_t err_len)
{
	char tok[24], period[16];
	snprintf(tok, sizeof(tok), "%lld", (long long)token);
	snprintf(period, sizeof(period), "%u", period_ms);
	int rows = 0;
	int64_t v = -1;
	int ret = exec_row((pglease_t *)s, renew_sql, "renewing the signer lease failed", zone,
	                   holder, tok, period, 4, &rows, &v, err, err_len);
	if (ret != 0) {
		return ret;
	}
	return rows == 0 ? ZG_EFENCED : 0;
}

static int pg_release(zg_lease_store_t *s, const char *zone, const char *holder, int64_t token,
                      char *err, size_t err_len)
{
	char tok[24];
	snprintf(tok, sizeof(tok), "%lld", (long long)token);
	int rows = 0;
	int64_t v = -1;
	return exec_row((pglease_t *)s, release_sql, "releasing the signer lease failed", zone,
	                holder, tok, NULL, 3, &rows, &v, err, err_len);
}

static int pg_read(zg_lease_store_t *s, const char *zone, zg_lease_info_t *info,
                   char *err, size_t err_len)
{
	PGresult *r = NULL;
	int ret = query((pglease_t *)s, read_sql, "reading the signer lease failed", zone, NULL, 0,
	                &r, err, err_len);
	if (ret != 0) {
		return ret;
	}
	if (PQntuples(r) == 1 && PQnfields(r) == 3) {
		info->exists = true;
		snprintf(info->holder, sizeof(info->holder), "%s", PQgetvalue(r, 0, 0));
		info->token = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
		info->remaining_ms = strtoll(PQgetvalue(r, 0, 2), NULL, 10);
	}
	PQclear(r);
	return 0;
}

static void pg_free(zg_lease_store_t *s)
{
	pglease_t *p = (pglease_t *)s;
	zg_pgqueue_free(p->q);
	free(p);
}

static const zg_lease_ops_t pg_ops = {
	.take = pg_take,
	.renew = pg_renew,
	.release = pg_release,
	.read = pg_read,
	.free = pg_free,
};

int zg_pglease_new(const char *conninfo, zg_lease_store_t **out)
{
	pglease_t *p = calloc(1, sizeof(*p));
	if (p == NULL) {
		return -ENOMEM;
	}
	/* A queue handle of no zone ("-" matches no lease row of a queue). */
	int ret = zg_pgqueue_new(conninfo, "-", "-", 1, &p->q);
	if (ret != 0) {
		free(p);
		return ret;
	}
	p->base.ops = &pg_ops;
	*out = &p->base;
	return 0;
}
