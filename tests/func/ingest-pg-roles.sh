#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The shipped DDL (doc/zonegate-queue.sql) and doc/postgresql.md: the DDL is
# idempotent and makes the schema the consumer would make; a consumer and a
# producer with only its GRANTs work over a unix-socket URI of the documented
# form; the consumer changes no existing schema and says when it creates a
# missing one; a consumer that may not create refuses with a clear reason; the
# documented producer example, run in a non-UTC session, gives a UTC id; the
# consumer role refuses a row whose message id was applied, also on a table
# made before the index of applied ids (it says to run the DDL again).
. "$ZG_SRCDIR/tests/func/lib.sh"
. "$ZG_SRCDIR/tests/func/ingest-lib.sh"
zg_init
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || zg_skip_all "postgresql server not installed"

ddl=$ZG_SRCDIR/doc/zonegate-queue.sql
doc=$ZG_SRCDIR/doc/postgresql.md
ok "PostgreSQL cluster starts" zg_pg_start "$ZG_TMP/pg"
psql_q() { # DB SQL
	psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$1" -c "$2" 2>&1
}
# The schema of a database, without privileges, owners and pg_dump's
# per-run lines.
schema() {
	"$ZG_PG_BINDIR/pg_dump" -s -x -O -d "$1" | grep -v -e '^\\restrict' -e '^\\unrestrict' -e '^--' -e '^$'
}
ingest_setup
zg_genzone test. 50 >"$ZG_TMP/test.zone"
ingest_signer_conf "$d" "$port" "$secret" "$ZG_TMP/test.zone" >"$d/knot.conf"
ok "signing knotd starts" zg_knotd_start "$d"
ok "zone signed" zg_wait 60 zg_zone_signed "$d" test.
uri() { # USER DB: the unix-socket form of doc/postgresql.md
	echo "postgresql://$1@/$2?host=$PGHOST&port=$PGPORT"
}
like "$(cat "$doc")" "postgresql://knot@/registry\?host=/var/run/postgresql&port=5433" \
	"doc/postgresql.md gives the unix-socket URI form used here"
run() { # USER DB [ARGS]
	local u=$1 db=$2
	shift 2
	timeout 120 "$ZG_BUILDDIR/libtool" --mode=execute "$ZG_INGEST" run --consumer tester \
		--source "$(uri "$u" "$db")" -z test. -s "$srv" -y "$key" "$@"
}

# --- the DDL: idempotent, the consumer's schema --------------------------
createdb fromfile; createdb byconsumer; createdb empty
ok "zonegate-queue.sql runs" psql -X -q -v ON_ERROR_STOP=1 -d fromfile -f "$ddl"
first=$(schema fromfile)
ok "zonegate-queue.sql runs a second time" psql -X -q -v ON_ERROR_STOP=1 -d fromfile -f "$ddl"
is "$(schema fromfile)" "$first" "the second run changes nothing"
out=$(run "$PGUSER" byconsumer --once 2>&1); rc=$?
is "$rc" 0 "a consumer allowed to create, on an empty database: exit 0"
like "$out" "created the missing queue tables of zonegate-queue.sql in PostgreSQL" "it says it created the schema"
is "$(schema byconsumer)" "$first" "the consumer's schema is the DDL's"
out=$(run "$PGUSER" byconsumer --once 2>&1)
unlike "$out" "created the missing" "a second run creates nothing"
# An early table with a jsonb column: the DDL converts it.
psql_q byconsumer "ALTER TABLE zonegate_queue ALTER COLUMN message TYPE jsonb USING message::jsonb" >/dev/null
ok "zonegate-queue.sql over a jsonb column" psql -X -q -v ON_ERROR_STOP=1 -d byconsumer -f "$ddl"
is "$(psql_q byconsumer "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'zonegate_queue'::regclass AND attname = 'message'")" \
	json "the DDL made the column json again"

# --- least-privilege roles -------------------------------------------------
psql_q postgres "CREATE ROLE zgc LOGIN IN ROLE zonegate_consumer; CREATE ROLE zgp LOGIN IN ROLE zonegate_producer" >/dev/null
for db in fromfile empty; do
	psql_q "$db" "REVOKE CREATE ON SCHEMA public FROM PUBLIC" >/dev/null
done
is "$(psql_q fromfile "SELECT rolcanlogin FROM pg_roles WHERE rolname IN ('zonegate_producer', 'zonegate_consumer') ORDER BY 1" | tr '\n' ' ')" \
	"f f " "the DDL's roles cannot log in"

# The producer example of doc/postgresql.md, verbatim, in a session of a
# time zone far from UTC. The owner creates the producer's sequence.
example=$(awk '/^## Producing messages/ { p = 1 } p && /^```sql/ { s = 1; next } s && /^```/ { exit } s' "$doc")
like "$example" "INSERT INTO zonegate_queue" "the producer example found in doc/postgresql.md"
psql_q fromfile "CREATE SEQUENCE msg_seq; GRANT USAGE ON SEQUENCE msg_seq TO zonegate_producer" >/dev/null
before=$(date -u +%s)
row=$(PGTZ=Pacific/Kiritimati psql -X -q -A -t -v ON_ERROR_STOP=1 -U zgp -d fromfile -c "$example" 2>&1)
after=$(date -u +%s)
like "$row" "^[0-9]+$" "the producer role inserts the example (row $row)"
mid=$(psql_q fromfile "SELECT message->>'id' FROM zonegate_queue WHERE id = ${row:-0}")
like "$mid" "^[0-9]{8}T[0-9]{6}Z-[0-9]{6}$" "message id $mid"
ts=$(date -u -d "$(echo "$mid" | sed -E 's/^(....)(..)(..)T(..)(..)(..)Z.*/\1-\2-\3 \4:\5:\6 UTC/')" +%s 2>/dev/null || echo 0)
ok "the id's time is UTC (+14:00 session)" test "$ts" -ge "$((before - 2))" -a "$ts" -le "$((after + 2))"
like "$(psql_q fromfile "SET ROLE zgp; UPDATE zonegate_queue SET state = 'applied'")" "permission denied" \
	"the producer cannot change a row"
like "$(psql_q fromfile "SET ROLE zgp; DELETE FROM zonegate_queue")" "permission denied" \
	"the producer cannot delete a row"
like "$(psql_q fromfile "SET ROLE zgc; INSERT INTO zonegate_queue (zone, message) VALUES ('test.', '{}')")" \
	"permission denied" "the consumer cannot insert a row"
like "$(psql_q fromfile "SET ROLE zgc; CREATE TABLE x (i int)")" "permission denied" \
	"the consumer cannot create in the schema"

before_run=$(schema fromfile)
out=$(run zgc fromfile --once 2>&1); rc=$?
is "$rc" 0 "the consumer role drains the queue: exit 0"
unlike "$out" "created the missing" "it created nothing"
like "$out" "lease of test. taken, fencing token 1" "it took the lease"
is "$(psql_q fromfile "SELECT state FROM zonegate_queue WHERE id = ${row:-0}")" applied "the example row applied"
is "$(ingest_rr "$port" example.test. NS | tr '\n' ' ')" \
	"ns1.provider.example. ns2.provider.example. " "example.test. NS served"
is "$(psql_q fromfile "SELECT applied_serial FROM zonegate_queue WHERE id = ${row:-0}")" \
	"$(ingest_serial "$port")" "applied_serial is the served serial"
is "$(schema fromfile)" "$before_run" "the schema is unchanged after the consumer ran"

# Exactly once per message id, with the consumer role, on a table made
# before the index of applied ids (an upgrade): consumed, a notice, nothing
# created; the DDL run again adds the index.
ok "the DDL made the index of applied ids" test "$(psql_q fromfile "SELECT count(*) FROM pg_indexes WHERE indexname = 'zonegate_queue_applied_id'")" = 1
with_index=$(schema fromfile)
psql_q fromfile "DROP INDEX zonegate_queue_applied_id" >/dev/null
before_run=$(schema fromfile)
dup=$(psql -X -q -A -t -v ON_ERROR_STOP=1 -U zgp -d fromfile -c "INSERT INTO zonegate_queue (zone, message) SELECT zone, message FROM zonegate_queue WHERE id = ${row:-0} RETURNING id" 2>&1)
like "$dup" "^[0-9]+$" "the producer role inserts the same message again (row $dup)"
out=$(run zgc fromfile --once 2>&1); rc=$?
is "$rc" 0 "the consumer role, without the index: exit 0"
like "$out" "the index zonegate_queue_applied_id is missing, so each message's duplicate-id check reads the zone's applied rows; create it by running zonegate-queue.sql again" \
	"it says the index is missing and what to run"
is "$(psql_q fromfile "SELECT state || ': ' || error FROM zonegate_queue WHERE id = ${dup:-0}")" \
	"refused: message $mid: id already applied to zone test. (row $row), not applied again" \
	"the second row of the message id is refused with its reason"
is "$(schema fromfile)" "$before_run" "the consumer created nothing"
ok "zonegate-queue.sql runs again" psql -X -q -v ON_ERROR_STOP=1 -d fromfile -f "$ddl"
is "$(schema fromfile)" "$with_index" "the index is back as it was"
out=$(run zgc fromfile --once 2>&1); rc=$?
unlike "$out" "zonegate_queue_applied_id is missing" "no notice once the index exists"

# A consumer that may not create, on a database without the tables.
out=$(run zgc empty --once 2>&1); rc=$?
is "$rc" 3 "the consumer role on an empty database: exit 3"
like "$out" "the queue tables are missing or incomplete and cannot be created \(create them with zonegate-queue.sql\): ERROR: +permission denied for schema public" \
	"the reason names the DDL and the refusal"
is "$(psql_q empty "SELECT count(*) FROM pg_class WHERE relname LIKE 'zonegate%'")" 0 "nothing created"

ok "knotd stops cleanly" zg_knotd_stop "$d"
zg_done
