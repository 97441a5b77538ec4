#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# mod-validate verdicts survive a knotd restart and a knotc reload (state file).
#   A  source: a knotd serving the pre-signed NSEC3 fixture as is;
#   B  secondary of A with mod-validate following A (source: A), the gate;
#   C  downstream secondary of B, started late (empty: it must AXFR from B).
# With A stopped, B's worker cannot validate anything: whatever passes or is
# refused after a restart comes from the state file. Covered: a validated
# serial keeps passing after a restart and a reload (and the counter is back),
# a corrupt file is ignored with a warning (refused until validated again),
# restored verdicts whose signatures expired count as failed (at load and
# later), a failed serial stays refused across a restart.
. "$ZG_SRCDIR/tests/func/lib.sh"
zg_init
. "$ZG_SRCDIR/tests/func/validate-lib.sh"

command -v kdig >/dev/null || zg_skip_all "kdig not installed"

PA=$(zg_free_port)
PB=$(zg_free_port)
PC=$(zg_free_port)
A=$ZG_TMP/a B=$ZG_TMP/b C=$ZG_TMP/c
mkdir -p "$A" "$B" "$C"
Z=example.test.
S0=2024010101
VL_ZONE=$Z VL_DIR=$B   # serial_of, stat_of: the fixture zone, counters at B
vl_alarm_script

axfr_b() { kdig @127.0.0.1 -p "$PB" "$Z" AXFR +time=5 +retry=0 2>&1; }
axfr_allowed() { local o; o=$(axfr_b); ! grep -q REFUSED <<<"$o" && grep -q "DNSKEY" <<<"$o"; }
axfr_refused() { axfr_b | grep -q REFUSED; }
# refusal_logged REASON: a refused AXFR is logged with REASON (one message per
# 10 s at most: ask again, bounded by the caller's zg_wait).
refusal_logged() {
	kdig @127.0.0.1 -p "$PB" "$Z" AXFR +time=2 +retry=0 >/dev/null 2>&1
	grep -Eq "AXFR, outgoing, remote 127\\.0\\.0\\.1@[0-9]+, refused \\(serial $2 $1" "$B/knotd.log"
}
nlines() { grep -c -- "$1" "$B/knotd.log" 2>/dev/null; }
nlines_ge() { [ "$(nlines "$1")" -ge "$2" ]; }
c_axfrs_ge() { # N: C logged N finished AXFRs from B
	[ "$(grep -c "AXFR, incoming, remote 127\\.0\\.0\\.1@$PB.*finished" "$C/knotd.log" 2>/dev/null)" -ge "$1" ]
}

# --- A: the pre-signed fixture (signatures valid until 2030).
cp "$ZG_SRCDIR/tests/data/verify/nsec3.zone" "$A/fixture.zone"
mkdir -p "$A/zones"
cp "$A/fixture.zone" "$A/zones/example.test.zone"
{
	vconf "$A" "$PA"
	zg_conf_remotes b "127.0.0.1@$PB"
	zg_conf_acls local 127.0.0.1 transfer
	cat <<CONF
zone:
  - domain: example.test
    storage: "$A/zones"
    dnssec-signing: off
    zonefile-load: whole
    journal-content: none
    notify: b
    acl: local
CONF
} >"$A/knot.conf"
ok "A (source) starts" zg_knotd_start "$A"
ok "A serves serial $S0" zg_wait 20 serial_is "$PA" "$S0"

# --- B: secondary of A, mod-validate following A. STATE_CONF: the state-dir line.
bconf() {
	vconf "$B" "$PB"
	zg_conf_remotes a "127.0.0.1@$PA"
	zg_conf_acls notify-in 127.0.0.1 notify xfr-out 127.0.0.1 transfer
	cat <<CONF
mod-validate:
  - id: gate
    source: 127.0.0.1@$PA
    poll-interval: 1s
    alarm: $ZG_TMP/alarm.sh
    alarm-timeout: 10s
$STATE_CONF
zone:
  - domain: example.test
    storage: "$B/zones"
    master: a
    acl: [notify-in, xfr-out]
    module: mod-validate/gate
CONF
}
STATE_CONF=""
bconf >"$B/knot.conf"
SF=$B/zones/example.test.mod-validate
ok "B (secondary of A, mod-validate) starts" zg_knotd_start "$B"
ok "B serves serial $S0" zg_wait 30 serial_is "$PB" "$S0"
ok "serial $S0 validates" zg_wait 60 stat_ge serials-validated 1
ok "the state file is written in the zone's storage ($SF)" zg_wait 10 \
	grep -Eq "^verdict $S0 valid [0-9]+ 1893456000 [0-9a-f]{64}\$" "$SF"
head -n 2 "$SF" >"$ZG_TMP/head"
is "$(cat "$ZG_TMP/head")" "zonegate-mod-validate 2
zone $Z" "the state file starts with the version and the zone"
like "$(cat "$SF")" "^zonegate-mod-validate 2
zone example\\.test\\.
key [0-9a-f]{64}
last-validated $S0
verdict $S0 valid [0-9]+ 1893456000 [0-9a-f]{64}
end 1\$" "the state file holds the key, the verdict with its content digest and the last validated serial"
unlike "$(ls -a "$B/zones")" "mod-validate\\." "no temporary file left behind"
ok "transfers from B pass" axfr_allowed

# --- 1. restart of B with A stopped: the validated serial keeps passing.
ok "A stops" zg_knotd_stop "$A"
ok "B stops" zg_knotd_stop "$B"
ok "B starts again (A stopped)" zg_knotd_start "$B"
ok "B serves serial $S0 from its storage" zg_wait 20 serial_is "$PB" "$S0"
ok "an AXFR of B right after the restart is allowed" axfr_allowed
like "$(cat "$B/knotd.log")" \
	"mod-validate/gate', verdicts restored from $SF, serial $S0 validated at [0-9T:-]+Z \\(earliest signature expiry 2030-01-01T00:00:00Z, 1 verdicts\\)" \
	"the restore is logged with the file and the serial"
is "$(stat_of last-validated-serial)" "$S0" "last-validated-serial restored"
v=$(stat_of serials-validated)
is "${v:-0}" "0" "nothing validated since the restart (A is down)"
{
	vconf "$C" "$PC"
	zg_conf_remotes b "127.0.0.1@$PB"
	cat <<CONF
zone:
  - domain: example.test
    storage: "$C/zones"
    master: b
CONF
} >"$C/knot.conf"
ok "C (empty secondary of B) starts" zg_knotd_start "$C"
ok "C transfers serial $S0 from B" zg_wait 30 serial_is "$PC" "$S0"
ok "C's first AXFR from B is logged as finished" zg_wait 10 c_axfrs_ge 1
ok "C asks for a new AXFR" zg_knotc "$C" zone-retransfer "$Z"
ok "C's forced AXFR from B completes" zg_wait 30 c_axfrs_ge 2
is "$(stat_of transfers-refused)" "0" "B refused no transfer"
ok "C stops" zg_knotd_stop "$C"

# --- 2. knotc reload of B (A stopped): no refusal window.
ok "B reload" zg_knotc "$B" reload
ok "an AXFR right after the reload is allowed" axfr_allowed
ok "the reloaded module restored the verdicts" nlines_ge "verdicts restored from $SF" 2
is "$(stat_of transfers-refused)" "0" "no transfer refused across the reload"

# --- 3. a corrupt state file (and an explicit state-dir).
ok "B stops" zg_knotd_stop "$B"
mkdir -p "$B/state"
SF2=$B/state/example.test.mod-validate
sed 's/^verdict \([0-9]*\) valid/verdict \1 maybe/' "$SF" >"$SF2"
rm -f "$SF"
STATE_CONF="    state-dir: $B/state"
bconf >"$B/knot.conf"
ok "B starts with state-dir and a corrupt state file (A stopped)" zg_knotd_start "$B"
ok "B serves serial $S0" zg_wait 20 serial_is "$PB" "$S0"
like "$(cat "$B/knotd.log")" \
	"mod-validate/gate', verdicts not restored, $SF2 line 5: verdict must be valid or failed, file ignored" \
	"one warning names the file and the line"
ok "transfers are refused" axfr_refused
ok "refusal logged as not validated yet" zg_wait 25 refusal_logged "not validated yet" "$S0"
ok "A starts again" zg_knotd_start "$A"
ok "serial $S0 validates again" zg_wait 60 stat_ge serials-validated 1
ok "transfers pass again" zg_wait 10 axfr_allowed
ok "the state file is rewritten whole in state-dir" zg_wait 10 \
	grep -Eq "^verdict $S0 valid [0-9]+ 1893456000 [0-9a-f]{64}\$" "$SF2"
ok "no state file in the storage when state-dir is set" test ! -e "$SF"
cp "$SF2" "$ZG_TMP/good.state"

# --- 3b. a state file that cannot be written: warned, the gate unaffected.
ok "B stops" zg_knotd_stop "$B"
STATE_CONF="    state-dir: $B/missing"
bconf >"$B/knot.conf"
ok "B starts with a state-dir that does not exist" zg_knotd_start "$B"
ok "serial $S0 validates" zg_wait 60 stat_ge serials-validated 1
ok "the failed write is logged with the file and the reason" zg_wait 10 grep -Fq \
	"mod-validate/gate', failed to write verdicts to $B/missing/example.test.mod-validate (No such file or directory)" \
	"$B/knotd.log"
ok "transfers of the validated serial pass all the same" zg_wait 10 axfr_allowed
mkdir -p "$B/missing"
ok "B reload once the directory exists" zg_knotc "$B" reload
ok "the state file is written there" zg_wait 30 \
	grep -Eq "^verdict $S0 valid [0-9]+ 1893456000 [0-9a-f]{64}\$" "$B/missing/example.test.mod-validate"
ok "B stops" zg_knotd_stop "$B"
STATE_CONF="    state-dir: $B/state"
bconf >"$B/knot.conf"
ok "B starts with state-dir again" zg_knotd_start "$B"
ok "serial $S0 validates" zg_wait 60 stat_ge serials-validated 1

# --- 4. restored verdicts whose signatures expired count as failed.
ok "A stops" zg_knotd_stop "$A"
ok "B stops" zg_knotd_stop "$B"
now=$(date +%s)
sed "s/^verdict $S0 valid \\([0-9]*\\) [0-9]* \\([0-9a-f]*\\)\$/verdict $S0 valid \\1 $((now - 60)) \\2/" \
	"$ZG_TMP/good.state" >"$SF2"
ok "B starts with an expired valid verdict (A stopped)" zg_knotd_start "$B"
ok "B serves serial $S0" zg_wait 20 serial_is "$PB" "$S0"
like "$(cat "$B/knotd.log")" "serial $S0, signatures expired at [0-9T:-]+Z, restored as failed" \
	"restored as failed, logged"
ok "transfers of $S0 are refused" axfr_refused
ok "refusal logged as failed validation" zg_wait 25 refusal_logged "failed validation" "$S0"
ok "B stops" zg_knotd_stop "$B"
now=$(date +%s)
exp=$((now + 8))
sed "s/^verdict $S0 valid \\([0-9]*\\) [0-9]* \\([0-9a-f]*\\)\$/verdict $S0 valid \\1 $exp \\2/" \
	"$ZG_TMP/good.state" >"$SF2"
ok "B starts with a valid verdict expiring in 8 s (A stopped)" zg_knotd_start "$B"
ok "B serves serial $S0" zg_wait 20 serial_is "$PB" "$S0"
ok "transfers of $S0 pass before the expiry" axfr_allowed
ok "once the signatures expire, transfers of $S0 are refused" zg_wait 30 axfr_refused
ok "not before the expiry" test "$(date +%s)" -ge "$exp"
like "$(cat "$B/knotd.log")" "serial $S0, signatures expired at [0-9T:-]+Z \\(verdict restored at load, 1 restored serials expired\\), transfers of it refused" \
	"the expiry of a restored verdict is logged"
ok "the alarm ran for $S0" zg_wait 20 grep -q "^$Z $S0 signatures expired at" "$ALARM_OUT"
ok "the state file records the failed verdict" zg_wait 10 grep -Eq "^verdict $S0 failed [0-9]+ - [0-9a-f]{64}\$" "$SF2"

# --- 5. a failed serial stays refused across a restart.
cp "$ZG_TMP/good.state" "$SF2"
ok "B stops" zg_knotd_stop "$B"
ok "B starts with the good state file" zg_knotd_start "$B"
ok "A starts again" zg_knotd_start "$A"
sbad=$((S0 + 1))
# A higher serial: the SOA RRSIG no longer matches.
awk -v s="$sbad" '$4 == "SOA" && !soa { $7 = s; soa = 1 } { print }' "$A/fixture.zone" \
	>"$A/zones/example.test.zone"
ok "A reloads the zone with the faulty serial $sbad" zg_knotc "$A" zone-reload "$Z"
ok "B loads serial $sbad" zg_wait 30 serial_is "$PB" "$sbad"
ok "serial $sbad fails validation" zg_wait 60 stat_ge serials-failed 1
ok "the state file records the failure" zg_wait 10 grep -Eq "^verdict $sbad failed [0-9]+ - [0-9a-f]{64}\$" "$SF2"
like "$(cat "$SF2")" "verdict $S0 valid .*
verdict $sbad failed [0-9]+ - [0-9a-f]{64}
end 2\$" "both verdicts kept, newest last"
ok "A stops" zg_knotd_stop "$A"
ok "B stops" zg_knotd_stop "$B"
ok "B starts again (A stopped)" zg_knotd_start "$B"
ok "B serves serial $sbad" zg_wait 20 serial_is "$PB" "$sbad"
ok "transfers of $sbad are refused" axfr_refused
ok "refusal logged as failed validation (the persisted verdict)" zg_wait 25 \
	refusal_logged "failed validation" "$sbad"
is "$(stat_of last-validated-serial)" "$S0" "last-validated-serial restored as $S0"

ok "knotd B stops cleanly" zg_knotd_stop "$B"
unlike "$(cat "$B/knotd.log" "$B/knotd.stderr" 2>/dev/null)" \
	"(fatal|critical|segfault|double free|invalid module)" "no fatal line in B's log"

zg_done
