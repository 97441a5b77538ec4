#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Exactly once per message id and zone (issue 21, item 5), against a real
# signing knotd: a second spool file or queue row carrying an id already
# applied to the zone is refused with its reason (even in the same batch as
# the first, and in a later run: the record is done/ and the applied rows),
# the zone keeps the first message's data, and later messages still apply.
# A refused message's id stays usable.
. "$ZG_SRCDIR/tests/func/lib.sh"
. "$ZG_SRCDIR/tests/func/ingest-lib.sh"
zg_init
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || zg_skip_all "postgresql server not installed"
ingest_setup
zg_genzone test. 50 >"$ZG_TMP/test.zone"
ingest_signer_conf "$d" "$port" "$secret" "$ZG_TMP/test.zone" >"$d/knot.conf"
ok "signing knotd starts" zg_knotd_start "$d"
ok "zone signed" zg_wait 60 zg_zone_signed "$d" test.

a() { # OWNER ADDRESS: the changes setting OWNER's A record
	printf '[{"owner":"%s","rrsets":[{"type":"A","ttl":300,"rdata":["%s"]}]}]' "$1" "$2"
}

# --- spool -----------------------------------------------------------------
sp=$ZG_TMP/spool
mkdir -p "$sp/incoming"
put() { ingest_msg "$2" "$3" >"$sp/.$1.tmp" && mv "$sp/.$1.tmp" "$sp/incoming/$1.json"; }
spool_run() { timeout 120 "$ZG_BUILDDIR/libtool" --mode=execute "$ZG_INGEST" run \
	--source "spool:$sp" -s "$srv" -y "$key" --once 2>&1; }
put 100-first d-1 "$(a s1.test. 192.0.2.1)"
put 101-second d-1 "$(a s1.test. 192.0.2.2)"
put 102-later d-2 "$(a s2.test. 192.0.2.3)"
put 103-bad d-3 "$(a s3.test. 300.1.1.1)"
put 104-fixed d-3 "$(a s3.test. 192.0.2.4)"
out=$(spool_run); rc=$?
is "$rc" 0 "spool: run --once exits 0"; [ "$rc" = 0 ] || zg_diag "$out"
is "$(ls "$sp/done" | tr '\n' ' ')" "100-first.json 102-later.json 104-fixed.json " "spool: done/ holds the first of id d-1 and the later ones"
is "$(ls "$sp/failed" | tr '\n' ' ')" "101-second.json 101-second.json.error 103-bad.json 103-bad.json.error " "spool: the second of id d-1 is in failed/"
reason="message d-1: id already applied to zone test. (done/100-first.json), not applied again"
is "$(cat "$sp/failed/101-second.json.error")" "$reason" "spool: the reason names the id and the message applied"
like "$out" "refused 101-second.json: message d-1: id already applied to zone test\. \(done/100-first\.json\), not applied again" "spool: refused line"
is "$(ingest_rr "$port" s1.test. A)" "192.0.2.1" "spool: the zone keeps the first message's data"
is "$(ingest_rr "$port" s2.test. A)" "192.0.2.3" "spool: a later message still applies"
is "$(ingest_rr "$port" s3.test. A)" "192.0.2.4" "spool: the id of a refused message stays usable"

# A new consumer reads the record from done/ (as after a restart or a crash).
put 105-again d-1 "$(a s1.test. 192.0.2.5)"
put 106-also d-2 "$(a s2.test. 192.0.2.6)"
put 107-new d-4 "$(a s4.test. 192.0.2.7)"
out=$(spool_run); rc=$?
is "$rc" 0 "spool, second run: exit 0"
is "$(cat "$sp/failed/105-again.json.error" 2>&1)" "$reason" "spool, second run: an applied id is refused again"
is "$(cat "$sp/failed/106-also.json.error" 2>&1)" \
	"message d-2: id already applied to zone test. (done/102-later.json), not applied again" \
	"spool, second run: so is the other"
is "$(ingest_rr "$port" s1.test. A)" "192.0.2.1" "spool, second run: s1 unchanged"
is "$(ingest_rr "$port" s2.test. A)" "192.0.2.3" "spool, second run: s2 unchanged"
is "$(ingest_rr "$port" s4.test. A)" "192.0.2.7" "spool, second run: a new id applies"

# --- PostgreSQL --------------------------------------------------------------
ok "PostgreSQL cluster starts" zg_pg_start "$ZG_TMP/pg"
psql_q() { psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1" 2>&1; }
ok "the queue DDL runs" psql -X -q -v ON_ERROR_STOP=1 -f "$ZG_SRCDIR/doc/zonegate-queue.sql"
enqueue() { # ID CHANGES
	psql_q "INSERT INTO zonegate_queue (zone, message) VALUES ('test.', \$\$$(ingest_msg "$1" "$2")\$\$) RETURNING id"
}
pg_run() { timeout 120 "$ZG_BUILDDIR/libtool" --mode=execute "$ZG_INGEST" run --consumer tester \
	--source "$ZG_PG_URI" -z test. -s "$srv" -y "$key" --once 2>&1; }
r1=$(enqueue q-1 "$(a p1.test. 192.0.2.11)")
r2=$(enqueue q-1 "$(a p1.test. 192.0.2.12)")
enqueue q-2 "$(a p2.test. 192.0.2.13)" >/dev/null
enqueue q-3 "$(a p3.test. 300.1.1.1)" >/dev/null
enqueue q-3 "$(a p3.test. 192.0.2.14)" >/dev/null
out=$(pg_run); rc=$?
is "$rc" 0 "pg: run --once exits 0"; [ "$rc" = 0 ] || zg_diag "$out"
is "$(psql_q "SELECT string_agg(message->>'id' || '=' || state, ' ' ORDER BY id) FROM zonegate_queue")" \
	"q-1=applied q-1=refused q-2=applied q-3=refused q-3=applied" "pg: the second row of id q-1 is refused"
preason="message q-1: id already applied to zone test. (row $r1), not applied again"
is "$(psql_q "SELECT error FROM zonegate_queue WHERE id = $r2")" "$preason" "pg: the reason names the id and the row applied"
like "$out" "refused row $r2: message q-1: id already applied to zone test\. \(row $r1\), not applied again" "pg: refused line"
is "$(ingest_rr "$port" p1.test. A)" "192.0.2.11" "pg: the zone keeps the first row's data"
is "$(ingest_rr "$port" p2.test. A)" "192.0.2.13" "pg: a later row still applies"
is "$(ingest_rr "$port" p3.test. A)" "192.0.2.14" "pg: the id of a refused row stays usable"
r6=$(enqueue q-1 "$(a p1.test. 192.0.2.15)")
enqueue q-4 "$(a p4.test. 192.0.2.16)" >/dev/null
out=$(pg_run); rc=$?
is "$rc" 0 "pg, second run: exit 0"
is "$(psql_q "SELECT state || ': ' || error FROM zonegate_queue WHERE id = $r6")" "refused: $preason" \
	"pg, second run: an applied id is refused again"
is "$(ingest_rr "$port" p1.test. A)" "192.0.2.11" "pg, second run: p1 unchanged"
is "$(ingest_rr "$port" p4.test. A)" "192.0.2.16" "pg, second run: a new id applies"
zg_done
