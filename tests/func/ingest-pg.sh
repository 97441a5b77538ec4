#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# zg-ingest with the PostgreSQL queue against a real signing knotd: rows
# applied in id order and marked with the serial, refusals recorded with
# their reason, two consumers on one zone never both apply (lease with a
# fencing token), PostgreSQL restarted in the middle of a run.
. "$ZG_SRCDIR/tests/func/lib.sh"
. "$ZG_SRCDIR/tests/func/ingest-lib.sh"
zg_init
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || zg_skip_all "postgresql server not installed"

ok "PostgreSQL cluster starts" zg_pg_start "$ZG_TMP/pg"
psql_q() { psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1" 2>&1; }
ingest_setup
zg_genzone test. 100 >"$ZG_TMP/test.zone"
ingest_signer_conf "$d" "$port" "$secret" "$ZG_TMP/test.zone" >"$d/knot.conf"
ok "signing knotd starts" zg_knotd_start "$d"
ok "zone signed" zg_wait 60 zg_zone_signed "$d" test.
run() { timeout 120 "$ZG_BUILDDIR/libtool" --mode=execute "$ZG_INGEST" run --consumer "${CONSUMER:-tester}" \
	--source "$ZG_PG_URI" -z test. -s "$srv" -y "$key" "$@"; }

# The first run creates the table.
out=$(run --once 2>&1); rc=$?
is "$rc" 0 "run --once on an empty queue: exit 0"
is "$(psql_q "SELECT count(*) FROM zonegate_queue")" 0 "zonegate_queue created"

enqueue() { # ID ZONE CHANGES
	psql_q "INSERT INTO zonegate_queue (zone, message) VALUES ('$2', \$\$$(ingest_msg "$1" "$3")\$\$)" >/dev/null
}
enqueue p-1 test. '[{"owner":"p.test.","rrsets":[{"type":"A","ttl":300,"rdata":["192.0.2.1"]}]}]'
enqueue p-2 test. '[{"owner":"www.other.","rrsets":[]}]'
enqueue p-3 test '[{"owner":"p.test.","rrsets":[{"type":"A","ttl":300,"rdata":["192.0.2.3"]}]}]'
enqueue p-4 test. '[{"owner":"q.test.","rrsets":[{"type":"TXT","ttl":300,"rdata":["\"q\""]}]}]'
enqueue o-1 other. '[{"owner":"x.other.","rrsets":[]}]'
out=$(run --once 2>&1); rc=$?
is "$rc" 0 "run --once: exit 0"
is "$(psql_q "SELECT string_agg(message->>'id' || '=' || state, ' ' ORDER BY id) FROM zonegate_queue")" \
	"p-1=applied p-2=refused p-3=applied p-4=applied o-1=pending" "rows of the zone applied or refused, other zone left alone"
is "$(psql_q "SELECT error FROM zonegate_queue WHERE message->>'id' = 'p-2'")" \
	"message p-2: owner www.other. outside zone test." "refusal reason recorded"
serial=$(ingest_serial "$port")
is "$(psql_q "SELECT max(applied_serial) FROM zonegate_queue")" "$serial" "applied_serial is the served serial"
ok "applied_at set" test "$(psql_q "SELECT count(*) FROM zonegate_queue WHERE state <> 'pending' AND applied_at IS NULL")" = 0
is "$(ingest_rr "$port" p.test. A)" "192.0.2.3" "id order kept (p-3 after p-1)"
ok "q.test. TXT served signed" ingest_signed "$port" q.test. TXT
like "$out" "lease of test. taken, fencing token [0-9]+" "lease taken"

# Two consumers at once: only one applies; the other stays standby.
for i in $(seq -w 1 30); do
	enqueue "c-$i" test. "[{\"owner\":\"c$i.test.\",\"rrsets\":[{\"type\":\"A\",\"ttl\":300,\"rdata\":[\"192.0.2.$((10#$i))\"]}]}]"
done
# Started with exec through the libtool wrapper, so that $! is the consumer itself.
daemon() { # NAME
	exec "$ZG_INGEST" run --consumer "$1" --source "$ZG_PG_URI" -z test. -s "$srv" \
		-y "$key" --interval 0.2 >"$ZG_TMP/$1.out" 2>&1
}
daemon one & p1=$!
daemon two & p2=$!
zg_track_pid "$p1"; zg_track_pid "$p2"
pending() { [ "$(psql_q "SELECT count(*) FROM zonegate_queue WHERE zone = 'test.' AND state = 'pending'")" = 0 ]; }
ok "30 rows applied by two consumers within 60 s" zg_wait 60 pending

# PostgreSQL restarted while the consumers run.
enqueue r-1 test. '[{"owner":"r1.test.","rrsets":[{"type":"A","ttl":300,"rdata":["192.0.2.101"]}]}]'
ok "PostgreSQL restarts" $ZG_PG_ASUSER "$ZG_PG_BINDIR/pg_ctl" -D "$ZG_TMP/pg/data" -m fast -w -t 30 restart -l "$ZG_TMP/pg/pg.log"
enqueue r-2 test. '[{"owner":"r2.test.","rrsets":[{"type":"A","ttl":300,"rdata":["192.0.2.102"]}]}]'
ok "rows enqueued around the restart applied within 60 s" zg_wait 60 pending
is "$(ingest_rr "$port" r2.test. A)" "192.0.2.102" "r2.test. served after the restart"
ok "consumer one stops on TERM" zg_stop_pid "$p1"
ok "consumer two stops on TERM" zg_stop_pid "$p2"

applied_by_one=$(grep -c '^applied row' "$ZG_TMP/one.out")
applied_by_two=$(grep -c '^applied row' "$ZG_TMP/two.out")
is "$((applied_by_one + applied_by_two))" 32 "every row applied exactly once (one: $applied_by_one, two: $applied_by_two)"
is "$(cat "$ZG_TMP/one.out" "$ZG_TMP/two.out" | grep '^applied row' | awk '{print $3}' | sort | uniq -d)" "" "no row applied by both"
is "$(psql_q "SELECT count(*) FROM zonegate_queue WHERE zone = 'test.' AND state = 'applied' AND applied_serial IS NOT NULL")" 34 "34 rows recorded applied with a serial"
ok "c01..c30 all served" test "$(for i in $(seq -w 1 30); do ingest_rr "$port" "c$i.test." A; done | wc -l)" = 30
like "$(cat "$ZG_TMP/one.out" "$ZG_TMP/two.out")" "standby: another consumer holds the lease of test." "one consumer waited as standby"

# Duplicate keys: the column keeps the text (json), so the queue refuses
# what the spool refuses, with the same reason.
dup='{"version":1,"id":"dup-1","zone":"test.","zone":"test.","changes":[{"owner":"dup.test.","rrsets":[]}]}'
is "$(psql_q "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'zonegate_queue'::regclass AND attname = 'message'")" json "the message column is json"
psql_q "INSERT INTO zonegate_queue (zone, message) VALUES ('test.', \$\$$dup\$\$)" >/dev/null
out=$(run --once 2>&1); rc=$?
is "$rc" 0 "run --once over a duplicate-key row: exit 0"
is "$(psql_q "SELECT state FROM zonegate_queue WHERE message::text LIKE '%dup-1%'")" refused "duplicate-key row refused"
pg_reason=$(psql_q "SELECT error FROM zonegate_queue WHERE message::text LIKE '%dup-1%'")
like "$pg_reason" "duplicate object key" "reason: duplicate key"
printf '%s' "$dup" >"$ZG_TMP/dup.json"
spool_reason=$(zg_ingest send -s "$srv" -y "$key" "$ZG_TMP/dup.json" 2>&1 | sed 's/^refused [^:]*: //')
is "$pg_reason" "$spool_reason" "the same reason as for the file"
ok "a producer's jsonb value goes into the json column" psql_q "INSERT INTO zonegate_queue (zone, message) VALUES ('test.', jsonb_build_object('version', 1, 'id', 'jb-1', 'zone', 'test.', 'changes', jsonb_build_array()))"

# A table made before as jsonb: not consumed until the operator changes it.
psql_q "ALTER TABLE zonegate_queue ALTER COLUMN message TYPE jsonb USING message::jsonb" >/dev/null
enqueue j-1 test. '[{"owner":"j1.test.","rrsets":[{"type":"A","ttl":300,"rdata":["192.0.2.111"]}]}]'
out=$(run --once 2>&1); rc=$?
is "$rc" 2 "jsonb column: run --once exits 2"
like "$out" "zonegate_queue.message is jsonb, which drops duplicate keys silently, so duplicate-key messages cannot be refused; not consuming until it is json: run ALTER TABLE zonegate_queue ALTER COLUMN message TYPE json USING message::json" "the reason says what to run"
is "$(psql_q "SELECT state FROM zonegate_queue WHERE message->>'id' = 'j-1'")" pending "the row stays pending"
psql_q "ALTER TABLE zonegate_queue ALTER COLUMN message TYPE json USING message::json" >/dev/null
out=$(run --once 2>&1); rc=$?
is "$rc" 0 "after the ALTER TABLE: run --once exit 0"
is "$(ingest_rr "$port" j1.test. A)" "192.0.2.111" "the waiting row applied"

ok "knotd stops cleanly" zg_knotd_stop "$d"
zg_done
