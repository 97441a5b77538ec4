#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Transfer limits against hostile primaries on loopback (tests/func/hostile-xfr.py):
# an endless AXFR, and an IXFR to 102 whose deltas loop 100 -> 101 -> 100 ...
# without ever reaching 102. Without limits both grow the client without end
# (zg-verify --axfr reached 4 GB in 14 s).
# zg-verify --axfr and --follow, and mod-validate inside knotd, stop the
# transfer at the configured limit (records, size, time), name the limit,
# fail the serial and do not transfer that serial again.
. "$ZG_SRCDIR/tests/func/lib.sh"
zg_init
. "$ZG_SRCDIR/tests/func/validate-lib.sh"

command -v kdig >/dev/null || zg_skip_all "kdig not installed"
ZGV=$ZG_BUILDDIR/tools/zg-verify
HOSTILE=$ZG_SRCDIR/tests/func/hostile-xfr.py

# hostile PORT ZONE MODE LOG: starts a hostile primary, waits until it answers.
hostile() {
	"$PYTHON3" "$HOSTILE" "$@" >/dev/null 2>&1 &
	zg_track_pid $!
	zg_wait 10 kdig @127.0.0.1 -p "$1" +tcp +time=1 +retry=0 "$2" SOA
}
# requests LOG QTYPE: how many requests of QTYPE (252 AXFR, 251 IXFR) the hostile server got.
requests() { awk -v t="$2" '$1 == t' "$1" 2>/dev/null | wc -l; }
# vmrss_kb PID
vmrss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null; }

PE=$(zg_free_port) PI=$(zg_free_port)
ok "endless AXFR server starts" hostile "$PE" endless. endless-axfr "$ZG_TMP/endless.log"
ok "looping IXFR server starts" hostile "$PI" loop. ixfr-loop "$ZG_TMP/loop.log"
PA=$(zg_free_port)
ok "SOA-ahead server starts" hostile "$PA" ahead. soa-ahead "$ZG_TMP/ahead.log"

# --- zg-verify --axfr: each limit stops the endless AXFR; the serial fails (exit 1).
out=$(timeout 60 "$ZGV" --axfr "127.0.0.1@$PE" --max-records 50000 endless. 2>&1); rc=$?
is "$rc" 1 "--axfr, endless AXFR, --max-records 50000: exit 1 (the serial fails)"
like "$out" '^endless\. SOA: transfer stopped after more than 50000 records \(records limit\)' \
	"--axfr: the error names the records limit"
like "$out" 'serial 100: INVALID' "--axfr: the summary gives the serial that failed"
out=$(timeout 60 "$ZGV" --axfr "127.0.0.1@$PE" --max-size 2M endless. 2>&1); rc=$?
is "$rc" 1 "--axfr, endless AXFR, --max-size 2M: exit 1"
like "$out" 'more than 2097152 bytes \(size limit\)' "--axfr: the error names the size limit"
out=$(timeout 60 "$ZGV" --axfr "127.0.0.1@$PE" --max-records 100000000 --max-size 100G \
	--max-time 2s endless. 2>&1); rc=$?
is "$rc" 1 "--axfr, endless AXFR, --max-time 2s: exit 1"
like "$out" 'more than 2 s \(time limit\)' "--axfr: the error names the time limit"
out=$(timeout 60 "$ZGV" --axfr "127.0.0.1@$PE" --max-records 50000 --format nagios endless. 2>&1)
is "$?" 2 "--axfr --format nagios over a limit: CRITICAL (2)"
like "$out" '^ZONEGATE CRITICAL' "--axfr --format nagios: the status line says CRITICAL"
out=$(timeout 60 "$ZGV" --axfr "127.0.0.1@$PE" --max-records 50000 --format json endless. 2>&1)
is "$(printf '%s' "$out" | "$PYTHON3" -c 'import json,sys; o=json.load(sys.stdin); print(o["serial"], o["valid"], "records limit" in o["errors"][0]["reason"])' 2>&1)" \
	"100 False True" "--axfr --format json: serial 100 invalid, the error names the limit"
out=$(timeout 10 "$ZGV" --max-records 10 "$ZG_TMP/endless.log" 2>&1)
is "$?" 2 "--max-records without --axfr or --follow: usage error"
out=$(timeout 10 "$ZGV" --axfr "127.0.0.1@$PE" --max-size 0 endless. 2>&1)
is "$?" 2 "--max-size 0: usage error"

# --- zg-verify --follow: the loop stops at the limit, serial 102 fails, and
# is not transferred again while the primary keeps announcing it.
out=$(timeout 120 "$ZGV" --follow "127.0.0.1@$PI" --poll 1 --count 2 --max-records 20000 loop. \
	2>"$ZG_TMP/follow.err"); rc=$?
is "$rc" 1 "--follow, looping IXFR: exit 1 after two verdicts"
like "$out" 'serial 100: INVALID' "--follow: first verdict for serial 100 (unsigned zone)"
like "$out" '^loop\. SOA: IXFR from serial 100: transfer stopped after more than 20000 records \(records limit\)' \
	"--follow: the IXFR stopped at the records limit"
like "$out" 'serial 102: INVALID.*\(transfer\)$' "--follow: serial 102 fails (verdict line)"
: >"$ZG_TMP/loop.log"
"$ZGV" --follow "127.0.0.1@$PI" --poll 1 --max-records 20000 loop. >"$ZG_TMP/follow2.out" 2>&1 &
FPID=$!
zg_track_pid "$FPID"
ok "--follow: the limit verdict for 102 comes" zg_wait 60 grep -q 'serial 102: INVALID' "$ZG_TMP/follow2.out"
n=$(requests "$ZG_TMP/loop.log" 251)
sleep 4
is "$(requests "$ZG_TMP/loop.log" 251)" "$n" "--follow: serial 102 not transferred again over 4 polls ($n IXFR)"
ok "--follow: more SOA polls meanwhile" [ "$(requests "$ZG_TMP/loop.log" 6)" -ge 3 ]
rss=$(vmrss_kb "$FPID")
ok "--follow: memory stays bounded (${rss} kB < 200 MB)" [ -n "$rss" ] && [ "$rss" -lt 204800 ]
zg_stop_pid "$FPID"

# --- mod-validate in knotd: zone loop. follows the looping IXFR, zone
# endless. the endless AXFR; the limits of the module stop both.
K=$ZG_TMP/k
PK=$(zg_free_port)
vl_alarm_script
mkdir -p "$K/zones"
for z in loop endless ahead; do
	printf '%s. 3600 SOA ns.%s. h.%s. 1 3600 900 86400 300\n%s. 3600 NS ns.%s.\nns.%s. 3600 A 192.0.2.1\n' \
		$z $z $z $z $z $z >"$K/zones/$z.zone"
done
{
	vconf "$K" "$PK"
	cat <<CONF
mod-validate:
  - id: loop
    source: 127.0.0.1@$PI
    poll-interval: 1s
    xfr-max-records: 20000
    alarm: $ZG_TMP/alarm.sh
  - id: endless
    source: 127.0.0.1@$PE
    poll-interval: 1s
    xfr-max-size: 4M
    alarm: $ZG_TMP/alarm.sh
  - id: ahead
    source: 127.0.0.1@$PA
    poll-interval: 1s
    alarm: $ZG_TMP/alarm.sh

template:
  - id: default
    storage: "$K/zones"
    file: "%s.zone"

zone:
  - domain: loop.
    module: mod-validate/loop
  - domain: endless.
    module: mod-validate/endless
  - domain: ahead.
    module: mod-validate/ahead
CONF
} >"$K/knot.conf"
: >"$ZG_TMP/loop.log"
: >"$ZG_TMP/endless.log"
ok "knotd with mod-validate starts" zg_knotd_start "$K"
KPID=$(cat "$K/knotd.pid")
ok "loop.: serial 102 fails at the records limit" zg_wait 60 grep -q \
	"serial 102, transfer from 127.0.0.1@$PI stopped by a limit (IXFR from serial 100: transfer stopped after more than 20000 records (records limit)), transfers of it refused" \
	"$K/knotd.log"
ok "endless.: serial 100 fails at the size limit" zg_wait 60 grep -q \
	"serial 100, transfer from 127.0.0.1@$PE stopped by a limit (AXFR: transfer stopped after more than 4194304 bytes (size limit)), transfers of it refused" \
	"$K/knotd.log"
VL_ZONE=loop. VL_DIR=$K
ok "loop.: serials-failed counts 100 (unsigned) and 102 (limit)" zg_wait 10 stat_is serials-failed 2
VL_ZONE=endless.
ok "endless.: serials-failed 1" zg_wait 10 stat_is serials-failed 1
ok "the alarm ran for loop. 102 naming the limit" zg_wait 10 grep -q \
	'^loop\. 102 transfer stopped by a limit, IXFR from serial 100: .*records limit' "$ALARM_OUT"
ok "the alarm ran for endless. 100 naming the limit" zg_wait 10 grep -q \
	'^endless\. 100 transfer stopped by a limit, AXFR: .*size limit' "$ALARM_OUT"
ni=$(requests "$ZG_TMP/loop.log" 251) na=$(requests "$ZG_TMP/endless.log" 252)
sleep 4
is "$(requests "$ZG_TMP/loop.log" 251)" "$ni" "loop.: serial 102 not transferred again over 4 polls"
is "$(requests "$ZG_TMP/endless.log" 252)" "$na" "endless.: serial 100 not transferred again over 4 polls"
# ahead.: the SOA announces 101, the IXFR never serves it: one IXFR per
# poll (1 s; 200 ms during the first 10 s), not a transfer loop without a
# pause (before the fix: some 2,500 IXFR requests in 4 s).
ok "ahead.: transferred (AXFR of serial 100), then asked for 101" \
	zg_wait 30 eval '[ "$(requests "$ZG_TMP/ahead.log" 252)" -ge 1 ] && [ "$(requests "$ZG_TMP/ahead.log" 251)" -ge 1 ]'
n0=$(requests "$ZG_TMP/ahead.log" 251)
sleep 4
n1=$(requests "$ZG_TMP/ahead.log" 251)
ok "ahead.: $((n1 - n0)) IXFR requests in 4 s for a serial never served (at most 30: one per poll, every 200 ms in the fast polling after start)" \
	[ $((n1 - n0)) -le 30 ]
rss=$(vmrss_kb "$KPID")
ok "knotd memory stays bounded (${rss} kB < 300 MB)" [ -n "$rss" ] && [ "$rss" -lt 307200 ]
ok "knotd stops" zg_knotd_stop "$K"
zg_done
