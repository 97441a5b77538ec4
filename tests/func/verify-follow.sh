#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# zg-verify --follow against real knotd on loopback:
#   A  signer (SoftHSM keystore, NSEC3 opt-out), DDNS target, transfers with TSIG;
#   F  a knotd with dnssec-signing off serving A's signed zone with a higher
#      serial and one corrupted DS RRSIG, on A's port once A is stopped.
# One verdict line per serial (whole zone first, then incremental), JSON
# lines, --count, an INVALID verdict naming the corrupted owner, a primary
# that disappears for a while, and SIGINT ending the loop within seconds.
. "$ZG_SRCDIR/tests/func/lib.sh"
zg_init
. "$ZG_SRCDIR/tests/func/validate-lib.sh"

command -v softhsm2-util >/dev/null || zg_skip_all "softhsm2-util not installed"
command -v kdig >/dev/null || zg_skip_all "kdig not installed"
command -v knsupdate >/dev/null || zg_skip_all "knsupdate not installed"

ZGV=$ZG_BUILDDIR/tools/zg-verify
PA=$(zg_free_port)
A=$ZG_TMP/a F=$ZG_TMP/f
mkdir -p "$A" "$F"
SECRET=Zm9sbG93LWtleS1zZWNyZXQtZm9yLXRlc3RzLTAxMjM0NTY3ODk=
TSIG=hmac-sha256:follow.:$SECRET
OUT=$ZG_TMP/follow.out ERR=$ZG_TMP/follow.err

zg_softhsm_init "$ZG_TMP/hsm" zgfollow 1234 || zg_bail "softhsm init failed"

key_acl() { # the TSIG key and an ACL allowing transfers with it
	zg_conf_key follow. "$SECRET"
	zg_conf_acls xfr key:follow. transfer local 127.0.0.1 update
}

verdicts() { grep -c '^zone test\. serial ' "$OUT" 2>/dev/null; }
verdict_for() { grep -q "^zone test\\. serial $1: " "$OUT" 2>/dev/null; }

# --- A: the signer.
{
	zg_knot_conf_bare "$A" "$PA"
	zg_signer_conf zgfollow 1234 nsec3
	key_acl
	cat <<CONF
zone:
  - domain: test
    storage: "$A/zones"
    dnssec-signing: on
    dnssec-policy: hsm
    acl: [xfr, local]
CONF
} >"$A/knot.conf"
zg_genzone test. 20 >"$A/zones/test.zone"
ok "A (signer) starts" zg_knotd_start "$A"
ok "A signs the zone" zg_wait 60 zg_zone_signed "$A" test.
ok "A serves a serial" zg_wait 20 has_serial "$PA"
s0=$(serial_of "$PA")

# --- Usage and start errors.
"$ZGV" --follow 127.0.0.1@"$PA" --poll 0 test. >/dev/null 2>"$ZG_TMP/e"
is "$?" 2 "--poll 0 is a usage error"
like "$(cat "$ZG_TMP/e")" "bad poll interval" "the bad poll interval is named"
"$ZGV" --follow 127.0.0.1@"$PA" --format nagios test. >/dev/null 2>&1
is "$?" 2 "--follow with --format nagios is a usage error"
"$ZGV" --count 1 test. >/dev/null 2>&1
is "$?" 2 "--count without --follow is a usage error"
"$ZGV" --follow 127.0.0.1@"$PA" --count 1 test. >/dev/null 2>"$ZG_TMP/e"
is "$?" 2 "without the TSIG key the first transfer fails: exit 2"
like "$(cat "$ZG_TMP/e")" "transfer of test\\. from 127\\.0\\.0\\.1@$PA failed" \
	"the failed transfer is named"
timeout 30 "$ZGV" --follow 127.0.0.1@"$PA" -y "$TSIG" --count 1 --format json test. \
	>"$ZG_TMP/json.out" 2>"$ZG_TMP/json.err"
is "$?" 0 "--count 1 --format json: one valid verdict, exit 0"
is "$(wc -l <"$ZG_TMP/json.out")" 1 "JSON: one line per verdict"
ok "JSON verdict: zone, serial, valid, whole zone" "$PYTHON3" -c '
import json, sys
o = json.loads(open(sys.argv[1]).readline())
assert o["zone"] == "test." and o["serial"] == int(sys.argv[2]), o
assert o["valid"] is True and o["errors"] == [] and o["mode"] == "whole zone", o
assert o["names_checked"] > 20 and "validation_ms" in o and o["stats"]["signatures"] > 0, o
' "$ZG_TMP/json.out" "$s0"

# --- Follow A through two DDNS changes.
"$ZGV" --follow 127.0.0.1@"$PA" -y "$TSIG" --poll 1 --count 10 test. >"$OUT" 2>"$ERR" &
ZPID=$!
zg_track_pid "$ZPID"
ok "first verdict (serial $s0)" zg_wait 30 verdict_for "$s0"

ddns() { # OWNER: a delegation with NS and DS
	knsupdate <<EOF
server 127.0.0.1 $PA
zone test.
update add $1.test. 3600 NS ns.provider.example.
update add $1.test. 3600 DS 12345 13 2 3A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F6071829
send
EOF
}
ok "DDNS change 1 at A" ddns newdeleg1
ok "A signed change 1" zg_wait 30 serial_not "$PA" "$s0"
s1=$(serial_of "$PA")
ok "verdict for serial $s1" zg_wait 30 verdict_for "$s1"
ok "DDNS change 2 at A" ddns newdeleg2
ok "A signed change 2" zg_wait 30 serial_not "$PA" "$s1"
s2=$(serial_of "$PA")
ok "verdict for serial $s2" zg_wait 30 verdict_for "$s2"
sleep 2   # a few more polls: no new line without a new serial
out=$(cat "$OUT")
is "$(verdicts)" 3 "one verdict line per serial"
like "$out" "^zone test\\. serial $s0: VALID, 0 errors, .* \\(whole zone, [0-9]+ names, [0-9]+ ms\\)$" \
	"serial $s0: VALID, whole zone"
like "$out" "^zone test\\. serial $s1: VALID, 0 errors, .* \\(incremental, [0-9]+ names, [0-9]+ ms\\)$" \
	"serial $s1: VALID, incremental"
like "$out" "^zone test\\. serial $s2: VALID, 0 errors, .* \\(incremental, [0-9]+ names, [0-9]+ ms\\)$" \
	"serial $s2: VALID, incremental"
n0=$(sed -n "s/^zone test\\. serial $s0: .*(whole zone, \\([0-9]*\\) names.*/\\1/p" "$OUT")
n2=$(sed -n "s/^zone test\\. serial $s2: .*(incremental, \\([0-9]*\\) names.*/\\1/p" "$OUT")
ok "the incremental run checked fewer names ($n2) than the whole zone ($n0)" \
	test "${n2:-999999}" -lt "${n0:-0}"
is "$(grep -vc '^zone test\. serial ' "$OUT")" 0 "no problem lines for valid serials"

# --- A faulty serial: F serves A's signed zone with one corrupted DS RRSIG.
kdig @127.0.0.1 -p "$PA" -y "$TSIG" test. AXFR +nocomments +nostats +noheader 2>/dev/null |
	awk '!/^;/ && NF && $4 != "TSIG" && !seen[$0]++' >"$ZG_TMP/signed.zone"
ok "signed zone snapshot taken" grep -q RRSIG "$ZG_TMP/signed.zone"
sbad=$((s2 + 1))
awk -v s="$sbad" '
	$4 == "SOA" && !soa { $7 = s; soa = 1 }
	$4 == "RRSIG" && $5 == "DS" && !bad {
		sig = $NF; c = substr(sig, 1, 1); sig = (c == "A" ? "B" : "A") substr(sig, 2)
		$NF = sig; bad = 1; badowner = $1
	}
	{ print }
	END { print badowner > "/dev/stderr" }' "$ZG_TMP/signed.zone" \
	>"$ZG_TMP/bad.zone" 2>"$ZG_TMP/badowner"
badowner=$(cat "$ZG_TMP/badowner")
ok "a DS RRSIG was corrupted (owner $badowner)" test -n "$badowner"
ok "A stops" zg_knotd_stop "$A"
sleep 2   # zg-verify's SOA queries fail meanwhile: it keeps following
ok "zg-verify survives its primary going away" zg_alive "$ZPID"
mkdir -p "$F/zones"
cp "$ZG_TMP/bad.zone" "$F/zones/test.zone"
{
	zg_knot_conf_bare "$F" "$PA"
	key_acl
	cat <<CONF
zone:
  - domain: test
    storage: "$F/zones"
    dnssec-signing: off
    zonefile-load: whole
    journal-content: none
    acl: xfr
CONF
} >"$F/knot.conf"
ok "F (pre-signed, faulty) starts on A's port" zg_knotd_start "$F"
ok "F serves the faulty serial $sbad" zg_wait 20 serial_is "$PA" "$sbad"
serial_is "$PA" "$sbad" || zg_diag "$(tail -n 5 "$F/knotd.log")"
ok "verdict for serial $sbad" zg_wait 30 verdict_for "$sbad"
out=$(cat "$OUT")
like "$out" "^zone test\\. serial $sbad: INVALID, [1-9][0-9]* errors?, .* \\(whole zone, [0-9]+ names, [0-9]+ ms\\)$" \
	"serial $sbad: INVALID (the IXFR was answered with the whole zone)"
like "$out" "^$badowner DS: bad signature" "the corrupted RRSIG is named as <owner> DS: <reason>"
ok "problems come before the verdict line" "$PYTHON3" -c '
import sys
lines = open(sys.argv[1]).read().splitlines()
p = [i for i, l in enumerate(lines) if l.startswith(sys.argv[2] + " DS: bad signature")]
v = [i for i, l in enumerate(lines) if l.startswith("zone test. serial %s: INVALID" % sys.argv[3])]
assert p and v and p[0] < v[0], (p, v)
' "$OUT" "$badowner" "$sbad"
is "$(verdicts)" 4 "still one verdict line per serial"
like "$(cat "$ERR")" "SOA query for test\\. at 127\\.0\\.0\\.1@$PA failed" \
	"the unreachable primary was reported on stderr"

# --count with the faulty serial: exit 1.
timeout 30 "$ZGV" --follow 127.0.0.1@"$PA" -y "$TSIG" --count 1 test. >"$ZG_TMP/one.out" 2>&1
is "$?" 1 "--count 1 on the faulty serial: exit 1"

# --- SIGINT ends the loop within seconds; the last verdict was invalid: exit 1.
ok "zg-verify still follows" zg_alive "$ZPID"
t0=$SECONDS
kill -INT "$ZPID"
gone() { ! zg_alive "$ZPID"; }
ok "SIGINT stops zg-verify within 5 s" zg_wait 5 gone
wait "$ZPID" 2>/dev/null
rc=$?
is "$rc" 1 "exit status 1: the last verdict was INVALID"
zg_diag "stopped $((SECONDS - t0)) s after SIGINT"

ok "F stops" zg_knotd_stop "$F"
unlike "$(cat "$ERR")" "(segfault|double free|abort)" "no crash on stderr"

zg_done
