#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# mod-validate end to end with three real knotd on loopback:
#   A  signer (SoftHSM keystore, NSEC3, serial-policy unixtime), DDNS target;
#   B  distribution server, secondary of A, with mod-validate (the gate);
#   C  downstream secondary of B.
# A DDNS change at A reaches C validated. Then A is replaced on its port by F,
# a knotd with dnssec-signing off serving A's signed zone with a higher serial
# and one corrupted RRSIG, then with one NSEC3 missing: C never gets those
# serials, the alarm command runs, the counters show it. A comes back, signs a newer serial, and C gets it
# without any manual action.
. "$ZG_SRCDIR/tests/func/lib.sh"
zg_init
. "$ZG_SRCDIR/tests/func/validate-lib.sh"

command -v softhsm2-util >/dev/null || zg_skip_all "softhsm2-util not installed"
command -v kdig >/dev/null || zg_skip_all "kdig not installed"
command -v knsupdate >/dev/null || zg_skip_all "knsupdate not installed"

PA=$(zg_free_port)
PB=$(zg_free_port)
PC=$(zg_free_port)
A=$ZG_TMP/a B=$ZG_TMP/b C=$ZG_TMP/c F=$ZG_TMP/f
mkdir -p "$A" "$B" "$C" "$F"
VL_DIR=$B   # stat_of: the counters of mod-validate at B
SECRET=dmFsaWRhdG9yLWtleS1zZWNyZXQtZm9yLXRlc3RzLTAxMjM0NTY3OA==

vl_alarm_script

zg_softhsm_init "$ZG_TMP/hsm" zgtest 1234 || zg_bail "softhsm init failed"

# --- A: the signer.
{
	vconf "$A" "$PA"
	zg_signer_conf zgtest 1234 nsec3
	zg_conf_remotes b "127.0.0.1@$PB"
	zg_conf_acls local 127.0.0.1 "[transfer, update]"
	cat <<CONF
zone:
  - domain: test
    storage: "$A/zones"
    dnssec-signing: on
    dnssec-policy: hsm
    serial-policy: unixtime
    notify: b
    acl: local
CONF
} >"$A/knot.conf"
zg_genzone test. 20 >"$A/zones/test.zone"
ok "A (signer) starts" zg_knotd_start "$A"
ok "A signs the zone" zg_wait 60 zg_zone_signed "$A" test.
serial_gt() { local s; s=$(serial_of "$1"); [ -n "$s" ] && [ "$s" -gt "$2" ]; }
ok "A serves a serial" zg_wait 20 has_serial "$PA"

# --- B: distribution with mod-validate.
{
	vconf "$B" "$PB"
	vl_gate_stanzas a "$PA" "$PC"
	cat <<CONF
mod-validate:
  - id: gate
    key: validator
    poll-interval: 2s
    horizon: 1d
    alarm: $ZG_TMP/alarm.sh
    alarm-timeout: 10s
    resign-on-failure: on

zone:
  - domain: test
    storage: "$B/zones"
    master: a
    notify: c
    acl: [notify-in, xfr-validator, xfr-out]
    module: mod-validate/gate
CONF
} >"$B/knot.conf"
ok "B (distribution, mod-validate) starts" zg_knotd_start "$B"
s0=$(serial_of "$PA")
ok "B follows A (serial $s0)" zg_wait 30 serial_is "$PB" "$s0"
ok "mod-validate validates B's first serial" zg_wait 60 stat_ge serials-validated 1
is "$(stat_of last-validated-serial)" "$s0" "last-validated-serial is A's serial"
like "$(cat "$B/knotd.log")" "mod-validate.*serial $s0, validated" "validation logged"
like "$(cat "$B/knotd.log")" "mod-validate.*validating transfers from .*P-256 verifier native" \
	"the module names its P-256 verifier (native by default; the zone is ECDSA P-256)"
exp=$(stat_of earliest-expiry-seconds)
ok "earliest-expiry-seconds is positive ($exp)" test "${exp:-0}" -gt 3600

# --- C: downstream secondary of B.
vl_secondary_conf vconf "$C" "$PC" "$PB" >"$C/knot.conf"
ok "C (downstream) starts" zg_knotd_start "$C"
ok "C gets the validated serial $s0" zg_wait 30 serial_is "$PC" "$s0"

# --- 1. A DDNS change at the signer reaches C, validated.
sleep 1.1   # unixtime serials: make sure the next one is higher
ok "DDNS at A" knsupdate <<EOF
server 127.0.0.1 $PA
zone test.
update add newdeleg.test. 3600 NS ns.provider.example.
update add newdeleg.test. 3600 DS 12345 13 2 3A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F6071829
send
EOF
ok "A signed the change" zg_wait 30 serial_not "$PA" "$s0"
s1=$(serial_of "$PA")
ok "B follows A to serial $s1" zg_wait 30 serial_is "$PB" "$s1"
ok "C receives serial $s1" zg_wait 30 serial_is "$PC" "$s1"
is "$(stat_of last-validated-serial)" "$s1" "serial $s1 validated before C got it"
like "$(cat "$B/knotd.log")" "mod-validate.*IXFR, incoming, remote 127\\.0\\.0\\.1@$PB, serial $s0 -> $s1" \
	"mod-validate followed the change by IXFR"
like "$(cat "$B/knotd.log")" "mod-validate.*serial $s1, validated \\(incremental" \
	"serial $s1 validated incrementally"
like "$(kdig @127.0.0.1 -p "$PC" newdeleg.test. NS +norec +short 2>&1; \
	kdig @127.0.0.1 -p "$PC" newdeleg.test. DS +norec +short 2>&1)" "12345 13 2" \
	"the new delegation's DS is at C"

# --- 2. A faulty serial published upstream.
zg_axfr 127.0.0.1 "$PA" test. >"$ZG_TMP/signed.zone"
ok "signed zone snapshot taken" test -s "$ZG_TMP/signed.zone"
sbad=$((s1 + 1))
# Higher serial (so the SOA RRSIG no longer matches either) and one DS RRSIG
# with a flipped signature byte.
awk -v s="$sbad" '
	$4 == "SOA" && !soa { $7 = s; soa = 1 }
	$4 == "RRSIG" && $5 == "DS" && !bad {
		sig = $NF; c = substr(sig, 1, 1); sig = (c == "A" ? "B" : "A") substr(sig, 2)
		$NF = sig; bad = 1; badowner = $1
	}
	{ print }
	END { print badowner > "/dev/stderr" }' "$ZG_TMP/signed.zone" \
	>"$F/bad.zone" 2>"$ZG_TMP/badowner"
badowner=$(cat "$ZG_TMP/badowner")
ok "a DS RRSIG was corrupted (owner $badowner)" test -n "$badowner"
ok "A stops" zg_knotd_stop "$A"
mkdir -p "$F/zones"
cp "$F/bad.zone" "$F/zones/test.zone"
vl_presigned_conf vconf "$F" "$PA" "$PB" whole none >"$F/knot.conf"
ok "F (pre-signed, faulty) starts on A's port" zg_knotd_start "$F"
ok "F serves the faulty serial $sbad" zg_wait 20 serial_is "$PA" "$sbad"
ok "B loads the faulty serial $sbad" zg_wait 30 serial_is "$PB" "$sbad"
ok "mod-validate fails serial $sbad" zg_wait 60 stat_ge serials-failed 1
ok "the alarm command ran" zg_wait 20 test -s "$ALARM_OUT"
like "$(cat "$ALARM_OUT" 2>/dev/null)" "^test\\. $sbad .*validation errors" \
	"alarm called as: alarm ZONE SERIAL REASON"
log=$(cat "$B/knotd.log")
like "$log" "serial $sbad, validation failed" "failure logged"
# B is not a signer: the zone-sign request is sent and knotd's answer logged.
ok "re-signing requested through the control socket" zg_wait 10 grep -Eq \
	"mod-validate.*serial $sbad, re-signing (requested|request failed \\(.+\\))" "$B/knotd.log"
like "$log" "serial $sbad, $badowner DS: bad signature" "the corrupted RRSIG is named in zg-verify's format"
# C is told to refresh: B refuses, C keeps its serial.
zg_knotc "$C" zone-refresh test. >/dev/null 2>&1
ok "B refuses transfers of $sbad" zg_wait 20 stat_ge transfers-refused 1
like "$(kdig @127.0.0.1 -p "$PB" test. AXFR +time=5 +retry=0 2>&1)" "REFUSED|refused" \
	"an AXFR of B is refused"
# Refusals are logged at most once per 10 s (an earlier refusal may have just
# used the slot): ask again, bounded, until this serial's refusal is logged.
refusal_logged() {
	kdig @127.0.0.1 -p "$PB" test. AXFR +time=2 +retry=0 >/dev/null 2>&1
	grep -Eq "(AXFR|IXFR), outgoing, remote 127\\.0\\.0\\.1@[0-9]+, refused \\(serial $sbad failed validation" "$B/knotd.log"
}
ok "refusal logged in Knot's style" zg_wait 25 refusal_logged
sleep 3
is "$(serial_of "$PC")" "$s1" "C never received serial $sbad"
is "$(stat_of last-validated-serial)" "$s1" "last-validated-serial stays $s1"

# A second faulty serial: one NSEC3 (with its signature) missing.
sbad2=$((sbad + 1))
awk -v s="$sbad2" '
	$4 == "SOA" && !soa { $7 = s; soa = 1 }
	$4 == "NSEC3" && !gone { gone = $1 }
	gone && $1 == gone { next }
	{ print }
	END { print gone > "/dev/stderr" }' "$ZG_TMP/signed.zone" \
	>"$F/zones/test.zone" 2>"$ZG_TMP/gone"
gone=$(cat "$ZG_TMP/gone")
ok "an NSEC3 was removed ($gone)" test -n "$gone"
ok "F reloads the zone with serial $sbad2" zg_knotc "$F" zone-reload test.
ok "B loads the faulty serial $sbad2" zg_wait 30 serial_is "$PB" "$sbad2"
ok "mod-validate fails serial $sbad2" zg_wait 60 stat_ge serials-failed 2
ok "the alarm ran for $sbad2" zg_wait 20 grep -q "^test\\. $sbad2 " "$ALARM_OUT"
like "$(cat "$B/knotd.log")" "serial $sbad2, [^ ]+ NSEC3: " "the missing NSEC3 is reported"
zg_knotc "$C" zone-refresh test. >/dev/null 2>&1
sleep 2
is "$(serial_of "$PC")" "$s1" "C never received serial $sbad2 either"

# --- 3. Roll forward: the signer comes back and signs a newer serial.
ok "F stops" zg_knotd_stop "$F"
ok "A restarts" zg_knotd_start "$A"
ok "A serves its zone again" zg_wait 30 serial_is "$PA" "$s1"
sleep 1.1
ok "DDNS at A (roll forward)" knsupdate <<EOF
server 127.0.0.1 $PA
zone test.
update add another.test. 3600 NS ns.provider.example.
send
EOF
ok "A signs a serial above $sbad2" zg_wait 30 serial_gt "$PA" "$sbad2"
s2=$(serial_of "$PA")
ok "B follows A to serial $s2" zg_wait 30 serial_is "$PB" "$s2"
ok "C receives serial $s2 without manual action" zg_wait 40 serial_is "$PC" "$s2"
is "$(stat_of last-validated-serial)" "$s2" "last-validated-serial is $s2"
like "$(cat "$B/knotd.log")" "mod-validate.*IXFR, incoming, remote 127\\.0\\.0\\.1@$PB, serial $sbad2, answered with the whole zone, serial $s2" \
	"IXFR from the faulty serial answered with the whole zone, taken as is"
like "$(cat "$B/knotd.log")" "mod-validate.*serial $s2, validated \\(whole zone" \
	"after a failed serial the next one is validated in full"
like "$(kdig @127.0.0.1 -p "$PC" another.test. NS +norec 2>&1)" "ns.provider.example" \
	"the roll-forward change is at C"
like "$(cat "$B/knotd.log")" "NOTIFY, outgoing, remote 127\\.0\\.0\\.1@$PC, serial $s2" \
	"mod-validate notified C of serial $s2"

# --- 4. knotc reload: the module is unloaded and loaded again, and revalidates.
pidb=$(cat "$B/knotd.pid")
nval() { [ "$(grep -c "mod-validate.*serial $s2, validated" "$B/knotd.log")" -ge 2 ]; }
ok "B reload" zg_knotc "$B" reload
ok "after reload the served serial validates again" zg_wait 60 nval
ok "B survived the reload" zg_alive "$pidb"
kdig_axfr=$(kdig @127.0.0.1 -p "$PB" test. AXFR +time=5 +retry=0 2>&1)
unlike "$kdig_axfr" "REFUSED" "transfers of the validated serial are allowed after reload"

for d in "$C" "$B" "$A"; do
	ok "knotd $(basename "$d") stops cleanly" zg_knotd_stop "$d"
done
unlike "$(cat "$B/knotd.log" "$B/knotd.stderr" 2>/dev/null)" \
	"(fatal|critical|segfault|double free|invalid module)" "no fatal line in B's log"

zg_done
