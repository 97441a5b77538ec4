#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# zg-verify --follow -j 2 on IXFR diffs large enough for the threaded
# incremental path (>= 256 nodes) and with unchanged neighbours (whose
# signatures are not verified again):
#   A  signer (SoftHSM keystore, NSEC3 opt-out); two DDNS changes of 150 new
#      secure delegations each give three signed snapshots z1, z2, z3;
#   F  a knotd with dnssec-signing off and zonefile-load: difference serving
#      z1, then z2 (IXFR z1 -> z2: valid), then z3 with one corrupted DS RRSIG
#      of a new delegation (IXFR z2 -> z3: invalid, that owner named).
. "$ZG_SRCDIR/tests/func/lib.sh"
zg_init
. "$ZG_SRCDIR/tests/func/validate-lib.sh"

command -v softhsm2-util >/dev/null || zg_skip_all "softhsm2-util not installed"
command -v kdig >/dev/null || zg_skip_all "kdig not installed"
command -v knsupdate >/dev/null || zg_skip_all "knsupdate not installed"

ZGV=$ZG_BUILDDIR/tools/zg-verify
PA=$(zg_free_port)
PF=$(zg_free_port)
A=$ZG_TMP/a F=$ZG_TMP/f
mkdir -p "$A" "$F/zones"
OUT=$ZG_TMP/follow.out ERR=$ZG_TMP/follow.err

zg_softhsm_init "$ZG_TMP/hsm" zglarge 1234 || zg_bail "softhsm init failed"

verdict_for() { grep -q "^zone test\\. serial $1: " "$OUT" 2>/dev/null; }
snapshot() { # FILE: A's zone by AXFR
	kdig @127.0.0.1 -p "$PA" test. AXFR +nocomments +nostats +noheader 2>/dev/null |
		awk '!/^;/ && NF && !seen[$0]++' >"$1"
}
ddns() { # TAG: 150 new delegations, NS + DS each, in one UPDATE
	{
		echo "server 127.0.0.1 $PA"
		echo "zone test."
		for i in $(seq 1 150); do
			echo "update add $1-$i.test. 3600 NS ns.provider.example."
			echo "update add $1-$i.test. 3600 DS $i 13 2 $(printf '%s-%s' "$1" "$i" | sha256sum | cut -c1-64)"
		done
		echo "send"
	} | knsupdate
}

# --- A: the signer, three snapshots.
{
	zg_knot_conf_bare "$A" "$PA"
	zg_signer_conf zglarge 1234 nsec3
	zg_conf_acls local 127.0.0.1 "[transfer, update]"
	cat <<CONF
zone:
  - domain: test
    storage: "$A/zones"
    dnssec-signing: on
    dnssec-policy: hsm
    acl: local
CONF
} >"$A/knot.conf"
zg_genzone test. 300 >"$A/zones/test.zone"
ok "A (signer) starts" zg_knotd_start "$A"
ok "A signs the zone" zg_wait 60 zg_zone_signed "$A" test.
ok "A serves a serial" zg_wait 20 has_serial "$PA"
s1=$(serial_of "$PA")
snapshot "$ZG_TMP/z1.zone"
ok "DDNS: 150 delegations" ddns first
ok "A signed them" zg_wait 30 serial_not "$PA" "$s1"
s2=$(serial_of "$PA")
snapshot "$ZG_TMP/z2.zone"
ok "DDNS: 150 more" ddns second
ok "A signed them too" zg_wait 30 serial_not "$PA" "$s2"
s3=$(serial_of "$PA")
snapshot "$ZG_TMP/z3.zone"
ok "A stops" zg_knotd_stop "$A"
ok "three snapshots" test "$(grep -c RRSIG "$ZG_TMP/z3.zone")" -gt "$(grep -c RRSIG "$ZG_TMP/z1.zone")"
# One DS RRSIG of a delegation added in z3 gets a flipped signature byte
# (the SOA serial and its signature stay right: exactly one error).
awk '
	$4 == "RRSIG" && $5 == "DS" && $1 ~ /^second-/ && !bad {
		sig = $NF; c = substr(sig, 1, 1); sig = (c == "A" ? "B" : "A") substr(sig, 2)
		$NF = sig; bad = 1; badowner = $1
	}
	{ print }
	END { print badowner > "/dev/stderr" }' "$ZG_TMP/z3.zone" >"$ZG_TMP/z3bad.zone" 2>"$ZG_TMP/badowner"
badowner=$(cat "$ZG_TMP/badowner")
ok "a new DS RRSIG was corrupted ($badowner)" test -n "$badowner"

# --- F serves the snapshots; it computes the IXFR diffs from the files.
cp "$ZG_TMP/z1.zone" "$F/zones/test.zone"
{
	zg_knot_conf_bare "$F" "$PF"
	zg_conf_acls local 127.0.0.1 transfer
	cat <<CONF
zone:
  - domain: test
    storage: "$F/zones"
    dnssec-signing: off
    zonefile-load: difference
    journal-content: changes
    acl: local
CONF
} >"$F/knot.conf"
ok "F (pre-signed snapshots) starts" zg_knotd_start "$F"
ok "F serves z1 (serial $s1)" zg_wait 20 serial_is "$PF" "$s1"

"$ZGV" --follow 127.0.0.1@"$PF" -j 2 --poll 1 --count 5 test. >"$OUT" 2>"$ERR" &
zg_track_pid $!
ok "verdict for serial $s1" zg_wait 60 verdict_for "$s1"

cp "$ZG_TMP/z2.zone" "$F/zones/test.zone"
ok "F reloads z2" zg_knotc "$F" zone-reload test.
ok "F serves serial $s2" zg_wait 30 serial_is "$PF" "$s2"
ok "verdict for serial $s2" zg_wait 60 verdict_for "$s2"
like "$(cat "$OUT")" "^zone test\\. serial $s2: VALID, 0 errors, .* \\(incremental, [0-9]+ names" \
	"serial $s2: VALID, incremental"
n2=$(sed -n "s/^zone test\\. serial $s2: .*(incremental, \\([0-9]*\\) names.*/\\1/p" "$OUT")
ok "the diff z1 -> z2 is on the threaded path ($n2 nodes >= 256)" test "${n2:-0}" -ge 256

cp "$ZG_TMP/z3bad.zone" "$F/zones/test.zone"
ok "F reloads z3 with the corrupted RRSIG" zg_knotc "$F" zone-reload test.
ok "F serves serial $s3" zg_wait 30 serial_is "$PF" "$s3"
ok "verdict for serial $s3" zg_wait 60 verdict_for "$s3"
out=$(cat "$OUT")
like "$out" "^zone test\\. serial $s3: INVALID, 1 error, .* \\(incremental, [0-9]+ names" \
	"serial $s3: INVALID, incremental, exactly one error"
like "$out" "^$badowner DS: bad signature" "the corrupted RRSIG is named"
unlike "$(cat "$ERR")" "(does not apply|answered with the whole zone)" "both serials came as IXFR diffs"

ok "F stops" zg_knotd_stop "$F"
zg_done
