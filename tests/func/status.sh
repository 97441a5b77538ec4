#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# zg-status against real servers on loopback:
#   A  signer (knotd, Knot's PEM keys) with mod-ingest consuming a PostgreSQL
#      queue (a real cluster in the test's directory);
#   B  hidden primary, secondary of A, with mod-validate (the gate), NOTIFYs C;
#   C  public secondary of B; D  public secondary of B that B does not NOTIFY
#      (it refreshes hourly: a lagging secondary).
# The healthy pipeline is OK; a change served by C but not D makes D "behind"
# and the freshness the age of that change; a corrupted serial published
# upstream fails at the gate (CRITICAL); messages that wait while the signer
# is down are a backlog; a KSK whose DS the parent never publishes makes the
# DS sync overdue (mod-dsync child mode, a second small topology). Each with
# the exact line and exit code, in text, json, nagios and prometheus. Bad
# input (an unreachable socket, a bad URI or address) is UNKNOWN with a reason.
. "$ZG_SRCDIR/tests/func/lib.sh"
. "$ZG_SRCDIR/tests/func/ingest-lib.sh"
zg_init
. "$ZG_SRCDIR/tests/func/validate-lib.sh"

command -v kdig >/dev/null || zg_skip_all "kdig not installed"
command -v psql >/dev/null || zg_skip_all "psql not installed"
zg_snapshot_modules
ZG_STATUS=${ZG_STATUS:-$ZG_BUILDDIR/tools/zg-status}
zgs() { "$ZG_BUILDDIR/libtool" --mode=execute "$ZG_STATUS" "$@"; }
# run VAR ARGS...: zg-status ARGS, its output in VAR, its exit code in VAR_rc.
run() {
	local _v=$1 _o _r; shift
	_o=$(zgs "$@" 2>&1); _r=$?
	printf -v "$_v" '%s' "$_o"
	printf -v "${_v}_rc" '%s' "$_r"
}
# line OUTPUT KEY: the line "[ZONE] KEY..." of a text report.
line() { printf '%s\n' "$1" | grep -F -- "] $2" | head -n 1; }

ingest_setup
export INGEST_KEYSTORE=pem
ok "PostgreSQL cluster starts" zg_pg_start "$ZG_TMP/pg"
psql_q() { psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1" 2>&1; }
A=$d PA=$port
PB=$(zg_free_port) PC=$(zg_free_port) PD=$(zg_free_port)
B=$ZG_TMP/b C=$ZG_TMP/c D=$ZG_TMP/d
mkdir -p "$B" "$C" "$D"
VL_DIR=$B

zg_genzone test. 30 >"$ZG_TMP/test.zone"
ingest_signer_conf "$A" "$PA" "$secret" "$ZG_TMP/test.zone" \
	"    serial-policy: unixtime
    notify: b
    module: mod-ingest/registry" \
	"remote:
  - id: b
    address: 127.0.0.1@$PB

mod-ingest:
  - id: registry
    source: $ZG_PG_URI
    key: ingest
    poll-interval: 1s
" >"$A/knot.conf"
ok "A (signer, mod-ingest on PostgreSQL) starts" zg_knotd_start "$A"
ok "A signs the zone" zg_wait 60 zg_zone_signed "$A" test.
tables() { [ "$(psql_q "SELECT to_regclass('zonegate_queue') IS NOT NULL")" = t ]; }
ok "mod-ingest made the queue tables" zg_wait 30 tables

secondary_conf() { vl_secondary_conf zg_knot_conf_bare "$1" "$2" "$PB"; } # DIR PORT

{
	vconf "$B" "$PB"
	zg_conf_remotes a "127.0.0.1@$PA" c "127.0.0.1@$PC"
	zg_conf_acls notify-in 127.0.0.1 notify xfr-out 127.0.0.1 transfer
	cat <<CONF
mod-validate:
  - id: gate
    poll-interval: 1s

zone:
  - domain: test
    storage: "$B/zones"
    master: a
    notify: c
    acl: [notify-in, xfr-out]
    module: mod-validate/gate
CONF
} >"$B/knot.conf"
ok "B (hidden primary, mod-validate) starts" zg_knotd_start "$B"
s0=$(serial_of "$PA")
ok "B validates A's serial $s0" zg_wait 60 stat_is last-validated-serial "$s0"
secondary_conf "$C" "$PC" >"$C/knot.conf"
secondary_conf "$D" "$PD" >"$D/knot.conf"
ok "C starts" zg_knotd_start "$C"
ok "D starts" zg_knotd_start "$D"
ok "C serves $s0" zg_wait 30 serial_is "$PC" "$s0"
ok "D serves $s0" zg_wait 30 serial_is "$PD" "$s0"

ALL=(--queue "$ZG_PG_URI" --signer-ctl "$A/knot.sock" --gate-ctl "$B/knot.sock"
     --secondary "127.0.0.1@$PC" --secondary "127.0.0.1@$PD")

# --- 1. Healthy.
run out "${ALL[@]}" test
is "$out_rc" 0 "healthy: exit 0"
is "$(line "$out" "status:")" "[test.] status: OK" "healthy: status line"
is "$(line "$out" "freshness:")" "[test.] freshness: 0s" "healthy: freshness 0s"
is "$(line "$out" "secondary 127.0.0.1@$PD")" "[test.] secondary 127.0.0.1@$PD: serial: $s0" \
	"healthy: D's line"
like "$(line "$out" "signer:")" "^\\[test\\.\\] signer: serial: $s0 \\| role: active \\| lease: [^ ]+ token [0-9]+ expires in [0-9]+s \\| messages-applied: 0 \\| messages-refused: 0 \\| consumer-connected: 1\$" \
	"healthy: the signer's line (role from lease-held, the zonegate_lease row)"
like "$(line "$out" "gate:")" "^\\[test\\.\\] gate: serial: $s0 \\| verdict: valid \\| last-validated: $s0 \\| serials-validated: [1-9][0-9]* \\| serials-failed: 0 \\| transfers-refused: [0-9]+ \\| validation-time: [0-9]+ ms\$" \
	"healthy: the gate's line"
like "$(line "$out" "runway:")" "^\\[test\\.\\] runway: [0-9]+d" "healthy: runway in days"
run out "${ALL[@]}" --format nagios test
is "$out_rc" 0 "nagios: exit 0"
like "$out" "^ZONEGATE STATUS OK - test\\. serial $s0 served \\| freshness=0s;300;1800;0; runway=[0-9]+s;259200:;86400:;0; pending=0 refused=0\$" \
	"nagios: the OK line with perfdata"

# --- 2. A lagging secondary: D is not NOTIFYed.
msg=$(ingest_msg s-1 '[{"owner":"fresh.test.","rrsets":[{"type":"A","ttl":300,"rdata":["192.0.2.1"]}]}]')
sleep 1.1	# unixtime serials
ok "a message enters the queue" psql_q "INSERT INTO zonegate_queue (zone, message) VALUES ('test.', \$\$$msg\$\$)"
applied() { [ "$(psql_q "SELECT state FROM zonegate_queue WHERE message->>'id' = 's-1'")" = applied ]; }
ok "mod-ingest applies it" zg_wait 30 applied
s1=$(psql_q "SELECT applied_serial FROM zonegate_queue WHERE message->>'id' = 's-1'")
enq=$(psql_q "SELECT extract(epoch FROM enqueued_at)::bigint FROM zonegate_queue WHERE message->>'id' = 's-1'")
ok "B validates serial $s1" zg_wait 60 stat_is last-validated-serial "$s1"
ok "C serves $s1" zg_wait 30 serial_is "$PC" "$s1"
is "$(serial_of "$PD")" "$s0" "D still serves $s0"
t=$((enq + 600))
run out "${ALL[@]}" --time "$t" test
is "$out_rc" 1 "lagging secondary, change 10 minutes old: exit 1 (WARNING)"
is "$(line "$out" "status:")" "[test.] status: WARNING (freshness 10m over 5m)" "lagging: status line"
is "$(line "$out" "freshness:")" "[test.] freshness: 10m" "lagging: freshness is the age of the unserved change"
is "$(line "$out" "secondary 127.0.0.1@$PD")" "[test.] secondary 127.0.0.1@$PD: serial: $s0 | behind" \
	"lagging: D is behind"
is "$(line "$out" "secondary 127.0.0.1@$PC")" "[test.] secondary 127.0.0.1@$PC: serial: $s1" \
	"lagging: C is not"
like "$(line "$out" "queue:")" "^\\[test\\.\\] queue: postgresql://[^ ]+ \\| pending: 0 \\| oldest: - \\| last-applied: s-1 \\| serial: $s1 \\| refused: 0\$" \
	"lagging: the queue's line (last applied id and serial)"
run out "${ALL[@]}" --time "$t" --format json test
is "$(printf '%s' "$out" | "$PYTHON3" -c 'import json,sys; o=json.load(sys.stdin); print(o["status"], o["exit"], o["freshness_s"], o["served_serial"], o["queue"]["last_applied_serial"], [s["serial"] for s in o["secondaries"]])')" \
	"WARNING 1 600 $s0 $s1 [$s1, $s0]" "lagging: json"
run out "${ALL[@]}" --time "$t" --format prometheus test
is "$(printf '%s\n' "$out" | grep '^zonegate_freshness_seconds')" "zonegate_freshness_seconds{zone=\"test.\"} 600" \
	"lagging: prometheus freshness gauge"
is "$(printf '%s\n' "$out" | grep "^zonegate_secondary_serial{zone=\"test.\",secondary=\"127.0.0.1@$PD\"}")" \
	"zonegate_secondary_serial{zone=\"test.\",secondary=\"127.0.0.1@$PD\"} $s0" "lagging: prometheus D's serial"
run out "${ALL[@]}" --time "$((enq + 2400))" --format nagios test
is "$out_rc" 2 "lagging 40 minutes: exit 2"
like "$out" "^ZONEGATE STATUS CRITICAL - test\\. freshness 40m over 30m \\| freshness=2400s;300;1800;0;" \
	"lagging 40 minutes: CRITICAL"
ok "D catches up (zone-refresh)" zg_knotc "$D" zone-refresh test.
ok "D serves $s1" zg_wait 30 serial_is "$PD" "$s1"
run out "${ALL[@]}" --time "$t" test
is "$out_rc:$(line "$out" "status:")" "0:[test.] status: OK" "all secondaries current: OK again"

# --- 3. A corrupted serial published upstream fails at the gate.
zg_axfr 127.0.0.1 "$PA" test. >"$ZG_TMP/signed.zone"
sbad=$((s1 + 1))
awk -v s="$sbad" '
	$4 == "SOA" && !soa { $7 = s; soa = 1 }
	$4 == "RRSIG" && $5 == "NS" && !bad && $1 != "test." {
		sig = $NF; c = substr(sig, 1, 1); sig = (c == "A" ? "B" : "A") substr(sig, 2)
		$NF = sig; bad = 1
	}
	{ print }' "$ZG_TMP/signed.zone" >"$ZG_TMP/bad.zone"
ok "A stops" zg_knotd_stop "$A"
F=$ZG_TMP/f
mkdir -p "$F/zones"
cp "$ZG_TMP/bad.zone" "$F/zones/test.zone"
vl_presigned_conf zg_knot_conf_bare "$F" "$PA" "$PB" whole none >"$F/knot.conf"
ok "F (the upstream, serving a corrupted serial $sbad) starts" zg_knotd_start "$F"
ok "B loads serial $sbad" zg_wait 60 serial_is "$PB" "$sbad"
ok "mod-validate fails it" zg_wait 60 stat_ge serials-failed 1
run out --signer-ctl "$F/knot.sock" --gate-ctl "$B/knot.sock" --secondary "127.0.0.1@$PC" test
is "$out_rc" 2 "failed serial: exit 2 (CRITICAL)"
is "$(line "$out" "status:")" "[test.] status: CRITICAL (validation of serial $sbad failed, serial $s1 is the last valid one)" \
	"failed serial: status line"
like "$(line "$out" "gate:")" "^\\[test\\.\\] gate: serial: $sbad \\| verdict: failed \\| last-validated: $s1 \\| serials-validated: [0-9]+ \\| serials-failed: [1-9]" \
	"failed serial: the gate's line"
is "$(line "$out" "secondary")" "[test.] secondary 127.0.0.1@$PC: serial: $s1" "failed serial: C keeps $s1"
run out --signer-ctl "$F/knot.sock" --gate-ctl "$B/knot.sock" --format nagios test
like "$out" "^ZONEGATE STATUS CRITICAL - test\\. validation of serial $sbad failed, serial $s1 is the last valid one( \\||\$)" \
	"failed serial: nagios line"

# --- 4. Backlog: messages wait while the signer is down.
ok "F stops" zg_knotd_stop "$F"
for i in 1 2; do
	m=$(ingest_msg "b-$i" '[{"owner":"late'"$i"'.test.","rrsets":[{"type":"A","ttl":300,"rdata":["192.0.2.9"]}]}]')
	psql_q "INSERT INTO zonegate_queue (zone, message) VALUES ('test.', \$\$$m\$\$)" >/dev/null
done
oldest=$(psql_q "SELECT extract(epoch FROM min(enqueued_at))::bigint FROM zonegate_queue WHERE state = 'pending'")
run out --queue "$ZG_PG_URI" --secondary "127.0.0.1@$PC" --time "$((oldest + 420))" test
is "$out_rc" 1 "backlog of 7 minutes: exit 1"
is "$(line "$out" "status:")" "[test.] status: WARNING (freshness 7m over 5m)" "backlog: status line"
like "$(line "$out" "queue:")" "^\\[test\\.\\] queue: postgresql://[^ ]+ \\| pending: 2 \\| oldest: 7m \\| last-applied: s-1 \\| serial: $s1 \\| refused: 0\$" \
	"backlog: the queue's line"
run out --queue "$ZG_PG_URI" --signer-ctl "$A/knot.sock" --time "$((oldest + 420))" test
is "$out_rc" 3 "backlog, signer down: UNKNOWN (what cannot be read may hide a CRITICAL)"
is "$(line "$out" "status:")" "[test.] status: UNKNOWN (signer: control socket $A/knot.sock, No such file or directory; freshness >= 7m over 5m)" \
	"backlog, signer down: both reasons (no secondary given: the freshness is a lower bound)"
run out --queue "$ZG_PG_URI" --signer-ctl "$A/knot.sock" test
is "$out_rc" 3 "signer down, no finding: exit 3 (UNKNOWN)"
like "$(line "$out" "signer:")" "^\\[test\\.\\] signer: error: control socket $A/knot\\.sock, " \
	"signer down: the signer's line names the socket"

# --- 5. Bad input.
run out --signer-ctl "$ZG_TMP/none.sock" test
is "$out_rc" 3 "unreachable socket: exit 3"
like "$(line "$out" "status:")" "^\\[test\\.\\] status: UNKNOWN \\(signer: control socket $ZG_TMP/none\\.sock, " \
	"unreachable socket: the reason"
run out --queue "postgresql://nobody@/zonegate?host=$ZG_TMP/nopg" --format nagios test
is "$out_rc" 3 "bad PostgreSQL URI: exit 3"
like "$out" "^ZONEGATE STATUS UNKNOWN - test\\. queue: cannot connect to PostgreSQL: " \
	"bad PostgreSQL URI: the reason"
run out --queue "mysql://x" test
is "$out_rc:$(line "$out" "queue:")" \
	"3:[test.] queue: mysql://x | error: queue 'mysql://x': not a queue URI (spool:/ABSOLUTE/PATH or postgresql://...)" \
	"unknown queue kind"
run out --queue "spool:$ZG_TMP/nospool" test
like "$(line "$out" "queue:")" "error: spool $ZG_TMP/nospool: No such file or directory\$" "missing spool"
mkdir -p "$ZG_TMP/empty"
run out --queue "spool:$ZG_TMP/empty" test
like "$(line "$out" "queue:")" "error: spool $ZG_TMP/empty: not a spool \\(no incoming/ directory\\)\$" \
	"a directory that is no spool"
ok "and zg-status created nothing in it" test -z "$(ls -A "$ZG_TMP/empty")"
run out --secondary 192.0.2.300 --format nagios test
is "$out_rc:$out" "3:ZONEGATE STATUS UNKNOWN - test. invalid secondary '192.0.2.300' (ADDR[@PORT])" "bad address"
run out --secondary "127.0.0.1@$(zg_free_port)" --timeout 300 test
like "$out_rc:$(line "$out" "secondary")" "^3:\\[test\\.\\] secondary 127\\.0\\.0\\.1@[0-9]+: error: SOA query failed" \
	"a secondary that does not answer"
run out test
is "$out_rc:$out" "3:zg-status: nothing to read: give --queue, --signer-ctl, --gate-ctl, --secondary or --keystate" "no source"
run out --format yaml --secondary 127.0.0.1 test
is "$out_rc:$out" "3:zg-status: unknown format 'yaml' (text, json, nagios or prometheus)" "unknown format"
run out --warn-freshness 5x --secondary 127.0.0.1 test
is "$out_rc:$out" "3:zg-status: invalid duration '5x' for --warn-freshness (e.g. 90s, 5m, 2d)" "bad duration"
run out --help
is "$out_rc" 0 "--help exits 0"
like "$out" "^Usage: zg-status " "--help prints the usage"

# --- 6. DS sync overdue: a child signer whose parent never publishes the DS.
P1=$ZG_TMP/p1 C1=$ZG_TMP/c1
pp1=$(zg_free_port) pc1=$(zg_free_port)
mkdir -p "$P1/zones" "$C1/zones"
QSECRET=cGFyZW50LXF1ZXJ5LWtleS1mb3ItdGhlLXN0YXR1cy10ZXN0
cat >"$P1/zones/parent.zone" <<ZONE
\$ORIGIN parent.
\$TTL 2
@ SOA ns.parent. hostmaster.parent. 1 3600 600 86400 2
@ NS ns.parent.
ns A 127.0.0.1
child NS ns.child.parent.
ns.child A 127.0.0.1
ZONE
cat >"$C1/zones/healthy.zone" <<ZONE
\$ORIGIN healthy.
\$TTL 2
@ SOA ns.healthy. hostmaster.healthy. 7 3600 600 86400 2
@ NS ns.healthy.
ns A 127.0.0.1
ZONE
cat >"$C1/zones/child.parent.zone" <<ZONE
\$ORIGIN child.parent.
\$TTL 2
@ SOA ns.child.parent. hostmaster.child.parent. 1 3600 600 86400 2
@ NS ns.child.parent.
ns A 127.0.0.1
ZONE
{
	zg_knot_conf_bare "$P1" "$pp1"
	zg_conf_key parent-query "$QSECRET"
	zg_conf_acls signed-query key:parent-query query
	cat <<CONF
zone:
  - domain: parent
    storage: "$P1/zones"
    file: parent.zone
    acl: signed-query
CONF
} >"$P1/knot.conf"
{
	zg_knot_conf "$C1" "$pc1" | awk '
		/^  - id: mod-/ { skip = ($3 != "mod-dsync") }
		/^[^ ]/ || /^$/ { skip = 0 }
		!skip'
	cat <<CONF
policy:
  - id: fast
    algorithm: ecdsap256sha256
    ksk-lifetime: 0
    zsk-lifetime: 0
    dnskey-ttl: 2
    zone-max-ttl: 2
    propagation-delay: 1

CONF
	zg_conf_key parent-query "$QSECRET"
	zg_conf_remotes p1 "127.0.0.1@$pp1 key:parent-query"
	cat <<CONF
mod-dsync:
  - id: child
    mode: child
    check-interval: 1
    parent: p1
    overdue: 2

zone:
  - domain: child.parent
    storage: "$C1/zones"
    file: child.parent.zone
    dnssec-signing: on
    dnssec-policy: fast
    module: mod-dsync/child
  - domain: healthy
    storage: "$C1/zones"
    file: healthy.zone
CONF
} >"$C1/knot.conf"
ok "parent P1 starts" zg_knotd_start "$P1"
ok "child signer C1 (mod-dsync) starts" zg_knotd_start "$C1"
ok "child signed" zg_wait 30 zg_zone_signed "$C1" child.parent.
overdue() { zg_knotc "$C1" zone-stats child.parent. mod-dsync 2>/dev/null | grep -Eq 'syncs-overdue = [1-9]'; }
ok "mod-dsync counts the sync overdue" zg_wait 30 overdue
run out --signer-ctl "$C1/knot.sock" child.parent
is "$out_rc" 1 "DS overdue: exit 1 (WARNING)"
is "$(line "$out" "status:")" "[child.parent.] status: WARNING (DS sync overdue)" "DS overdue: status line"
like "$(line "$out" "ds-sync:")" "^\\[child\\.parent\\.\\] ds-sync: overdue \\| parent-ds-checks-ok: 0 \\| parent-ds-checks-failed: [0-9]+ \\| syncs-overdue: [1-9][0-9]*\$" \
	"DS overdue: the ds-sync line"
run out --signer-ctl "$C1/knot.sock" --format nagios child.parent
is "$out_rc:$out" "1:ZONEGATE STATUS WARNING - child.parent. DS sync overdue" "DS overdue: nagios"

# --- 7. All zones of a configuration: C1 serves child.parent. (DS overdue)
# and healthy. (no finding); without ZONE zg-status reports both.
run out --signer-ctl "$C1/knot.sock"
is "$out_rc" 1 "all zones: exit 1, the worst (WARNING)"
is "$(printf '%s\n' "$out" | grep -F '] status:')" "[child.parent.] status: WARNING (DS sync overdue)
[healthy.] status: OK" "all zones: one status line per zone, sorted"
is "$(printf '%s\n' "$out" | grep -F '[healthy.] signer:')" \
	"[healthy.] signer: serial: 7 | role: -" "all zones: healthy.'s signer line"
is "$(printf '%s\n' "$out" | sed 's/\].*/]/' | uniq)" "[child.parent.]
[healthy.]" "all zones: one block per zone"
run out --signer-ctl "$C1/knot.sock" --format nagios
is "$out_rc:$out" "1:ZONEGATE STATUS WARNING - 2 zones (1 WARNING, 1 OK) [child.parent.] DS sync overdue" \
	"all zones: nagios, one line"
run out --signer-ctl "$C1/knot.sock" --format json --time 1800000000
run one --signer-ctl "$C1/knot.sock" --format json --time 1800000000 child.parent
is "$out_rc:$one_rc" "1:1" "all zones and one zone: json exit 1"
is "$(printf '%s' "$out" | "$PYTHON3" -c '
import json, sys
o = json.load(sys.stdin)
one = json.loads(sys.argv[1])
keys = lambda d: sorted((k, sorted(v) if isinstance(v, dict) else None) for k, v in d.items())
print(o["status"], o["exit"], o["time"], [(z["zone"], z["status"], z["exit"]) for z in o["zones"]],
      keys(o["zones"][0]) == keys(one), o["zones"][0]["problems"] == one["problems"])' "$one")" \
	"WARNING 1 1800000000 [('child.parent.', 'WARNING', 1), ('healthy.', 'OK', 0)] True True" \
	"all zones: json, each zone the one-zone object"
run out --signer-ctl "$C1/knot.sock" --format prometheus
is "$out_rc:$(printf '%s\n' "$out" | grep '^zonegate_status')" '1:zonegate_status{zone="child.parent."} 1
zonegate_status{zone="healthy."} 0' "all zones: prometheus, a sample per zone"
is "$(printf '%s\n' "$out" | grep '^# TYPE' | sort | uniq -d)" "" "all zones: prometheus, each gauge's TYPE once"
run out --gate-ctl "$B/knot.sock" --format nagios
is "$out_rc" 2 "all zones of the gate: exit 2 (the failed serial)"
like "$out" "^ZONEGATE STATUS CRITICAL - 1 zone \\(1 CRITICAL\\) \\[test\\.\\] validation of serial $sbad failed, serial $s1 is the last valid one \\| 'test\\. runway'=[0-9]+s;259200:;86400:;0;\$" \
	"all zones of the gate: nagios names the zone and why, perfdata labelled by zone"
run out --secondary 127.0.0.1
is "$out_rc:$out" "3:zg-status: no ZONE: give --signer-ctl or --gate-ctl to list the zones" \
	"all zones without a control socket: UNKNOWN with the reason"
run out --signer-ctl "$ZG_TMP/none.sock" --format nagios
like "$out_rc:$out" "^3:ZONEGATE STATUS UNKNOWN - control socket $ZG_TMP/none\\.sock, " \
	"all zones, unreachable socket: UNKNOWN naming it"

for x in "$C1" "$P1" "$D" "$C" "$B"; do ok "knotd $(basename "$x") stops" zg_knotd_stop "$x"; done
zg_done
