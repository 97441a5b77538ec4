#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# mod-validate and signature expiry, end to end with real knotd on loopback:
#   F  a knotd with dnssec-signing off serving zones pre-signed by
#      dnssec-signzone with chosen validity (NSEC3 opt-out, ECDSA P-256),
#      reloaded with a new serial for each case (IXFR from zone differences);
#   B  distribution server, secondary of F, with mod-validate (the gate,
#      horizon 1d, poll-interval 30s: every wake-up below comes from a NOTIFY
#      or from the signature expiry itself);
#   C  downstream secondary of B.
# 1. a serial with one RRSIG already expired fails (zg-verify's format,
#    alarm ZONE SERIAL REASON, transfers refused, serials-failed);
# 2. a serial whose signatures expire in 2 h validates, a horizon warning
#    is logged and the alarm runs once, earliest-expiry-seconds is right;
# 3. a served serial whose DS signature expires ~20 s later flips to failed
#    at that moment without a new serial (log, alarm, REFUSED, counter); a
#    newer serial that leaves that expired signature untouched fails too
#    (whole-zone validation while a signature has expired), also for
#    zg-verify --follow; a correctly signed serial then reaches C.
. "$ZG_SRCDIR/tests/func/lib.sh"
zg_init
. "$ZG_SRCDIR/tests/func/validate-lib.sh"

command -v kdig >/dev/null || zg_skip_all "kdig not installed"
command -v dnssec-signzone >/dev/null || zg_skip_all "dnssec-signzone (bind9-utils) not installed"
command -v dnssec-keygen >/dev/null || zg_skip_all "dnssec-keygen (bind9-utils) not installed"
zg_snapshot_modules

PF=$(zg_free_port)
PB=$(zg_free_port)
PC=$(zg_free_port)
B=$ZG_TMP/b C=$ZG_TMP/c F=$ZG_TMP/f K=$ZG_TMP/keys
mkdir -p "$B" "$C" "$F" "$K"
SECRET=dmFsaWRhdG9yLWtleS1zZWNyZXQtZm9yLXRlc3RzLTAxMjM0NTY3OA==
VL_DIR=$B   # stat_of: the counters of mod-validate at B
vl_alarm_script
: >"$ALARM_OUT"

utc() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
esc() { printf '%s' "$1" | sed 's/[.]/\\./g'; }
axfr_refused() {
	kdig @127.0.0.1 -p "$PB" test. AXFR +time=3 +retry=0 2>&1 | grep -q "REFUSED"
}
alarms() { grep -c -- "$1" "$ALARM_OUT"; }
logs() { grep -c -- "$1" "$B/knotd.log"; }

# --- Keys and the signing helper.
KSK=$(cd "$K" && dnssec-keygen -q -a ECDSAP256SHA256 -f KSK -n ZONE test.) &&
	ZSK=$(cd "$K" && dnssec-keygen -q -a ECDSAP256SHA256 -n ZONE test.)
ok "KSK and ZSK generated ($KSK, $ZSK)" test -s "$K/$KSK.private" -a -s "$K/$ZSK.private"
zg_genzone test. 20 >"$K/unsigned.zone"

# sign SERIAL INCEPTION EXPIRATION OUT [A-ADDR]: the zone signed (NSEC3
# opt-out, one RR per line), a.nic.test. A set to A-ADDR if given.
sign() {
	local a=${5:-192.0.2.53}
	{
		sed -e "s/^@ SOA a.nic hostmaster.nic 1 /@ SOA a.nic hostmaster.nic $1 /" \
			-e "s/^a.nic A 192.0.2.53$/a.nic A $a/" "$K/unsigned.zone"
		echo "\$INCLUDE $K/$KSK.key"
		echo "\$INCLUDE $K/$ZSK.key"
	} >"$K/in.zone"
	dnssec-signzone -q -P -3 - -A -O full -K "$K" -d "$K" -o test. -s "$2" -e "$3" \
		-f "$4" "$K/in.zone" "$K/$KSK" "$K/$ZSK" >/dev/null
}
# splice BASE DONOR OWNER[/TYPE]...: BASE with these RRsets (owner: all of its
# RRsets) and the RRSIGs covering them taken from DONOR.
splice() {
	local base=$1 donor=$2; shift 2
	awk -v keys="$*" '
		BEGIN { n = split(keys, k, " "); for (i = 1; i <= n; i++) want[k[i]] = 1 }
		FNR == 1 { f++ }
		/^;/ || NF == 0 { next }
		{ t = ($4 == "RRSIG") ? $5 : $4; p = (($1) in want) || (($1 "/" t) in want) }
		(f == 1 && !p) || (f == 2 && p) { print }' "$base" "$donor"
}
# publish FILE SERIAL: F serves FILE (and NOTIFYs B).
publish() {
	cp "$1" "$F/zones/test.zone" && zg_knotc "$F" zone-reload test. >/dev/null &&
		zg_wait 20 serial_is "$PF" "$2"
}

now=$(date +%s)
ok "serial 1 signed (valid 30 days)" sign 1 $((now - 3600)) $((now + 30 * 86400)) "$K/s1.zone"

# --- F: the pre-signed primary.
vl_presigned_conf vconf "$F" "$PF" "$PB" difference changes >"$F/knot.conf"
cp "$K/s1.zone" "$F/zones/test.zone"
ok "F (pre-signed primary) starts" zg_knotd_start "$F"
ok "F serves serial 1" zg_wait 20 serial_is "$PF" 1

# --- B: distribution with mod-validate.
{
	vconf "$B" "$PB"
	vl_gate_stanzas f "$PF" "$PC"
	cat <<CONF
mod-validate:
  - id: gate
    key: validator
    poll-interval: 30s
    horizon: 1d
    alarm: $ZG_TMP/alarm.sh
    alarm-timeout: 10s

zone:
  - domain: test
    storage: "$B/zones"
    master: f
    notify: c
    acl: [notify-in, xfr-validator, xfr-out]
    module: mod-validate/gate
CONF
} >"$B/knot.conf"
ok "B (distribution, mod-validate) starts" zg_knotd_start "$B"
ok "mod-validate validates serial 1" zg_wait 30 stat_is serials-validated 1

# --- C: downstream secondary of B.
vl_secondary_conf vconf "$C" "$PC" "$PB" >"$C/knot.conf"
ok "C (downstream) starts" zg_knotd_start "$C"
ok "C gets serial 1" zg_wait 30 serial_is "$PC" 1
is "$(cat "$ALARM_OUT")" "" "no alarm for a serial valid 30 days"

# --- 1. A new serial with one RRSIG already expired.
now=$(date +%s)
old_exp=$((now - 86400))
sign 2 $((now - 10 * 86400)) "$old_exp" "$K/s2-old.zone"
sign 2 $((now - 3600)) $((now + 30 * 86400)) "$K/s2-new.zone"
splice "$K/s2-new.zone" "$K/s2-old.zone" a.nic.test./A >"$K/s2.zone"
is "$(awk '$4 == "RRSIG" && $5 == "A" && $1 == "a.nic.test." {print $9}' "$K/s2.zone")" \
	"$(date -u -d "@$old_exp" +%Y%m%d%H%M%S)" "serial 2: a.nic.test. A signed to expire a day ago"
ok "F serves serial 2" publish "$K/s2.zone" 2
ok "B loads serial 2" zg_wait 20 serial_is "$PB" 2
ok "mod-validate fails serial 2" zg_wait 30 stat_is serials-failed 1
T=$(esc "$(utc "$old_exp")")
like "$(cat "$B/knotd.log")" "mod-validate.*serial 2, validation failed \\(whole zone, 1 errors, transfers of it refused\\)" \
	"failure logged"
like "$(cat "$B/knotd.log")" "mod-validate.*serial 2, a\\.nic\\.test\\. A: signature expired $T \\(key [0-9]+ alg 13\\)" \
	"the expired RRSIG is named in zg-verify's format"
ok "the alarm ran for serial 2" zg_wait 20 grep -q "^test\\. 2 " "$ALARM_OUT"
like "$(grep "^test\\. 2 " "$ALARM_OUT")" \
	"^test\\. 2 1 validation errors, first: a\\.nic\\.test\\. A: signature expired $T \\(key [0-9]+ alg 13\\)$" \
	"alarm called as: alarm ZONE SERIAL REASON"
ok "an AXFR of B is refused" axfr_refused
zg_knotc "$C" zone-refresh test. >/dev/null 2>&1
ok "transfers-refused counts the refusals" zg_wait 10 eval '[ "$(stat_of transfers-refused)" -ge 2 ]'
sleep 1
is "$(serial_of "$PC")" 1 "C keeps serial 1"
is "$(stat_of serials-validated)" 1 "serials-validated stays 1"

# --- 2. Signatures expiring within the horizon (2 h, horizon 1 d).
now=$(date +%s)
h_exp=$((now + 7200))
sign 3 $((now - 3600)) "$h_exp" "$K/s3.zone"
ok "F serves serial 3 (signatures expire in 2 h)" publish "$K/s3.zone" 3
ok "mod-validate validates serial 3" zg_wait 30 stat_is last-validated-serial 3
ok "C gets serial 3" zg_wait 30 serial_is "$PC" 3
T=$(esc "$(utc "$h_exp")")
like "$(cat "$B/knotd.log")" "mod-validate.*serial 3, signatures expire within the horizon \\(earliest at $T\\)" \
	"horizon warning logged"
like "$(cat "$B/knotd.log")" "mod-validate.*serial 3, [^ ]+ [A-Z0-9]+: warning: signature expires $T, within the horizon \\(key [0-9]+ alg 13\\)" \
	"the RRsets concerned are logged as warnings in zg-verify's format"
ok "the horizon alarm ran" zg_wait 10 grep -q "^test\\. 3 " "$ALARM_OUT"
exp=$(stat_of earliest-expiry-seconds)
ok "earliest-expiry-seconds between 1 h and 2 h ($exp)" test "${exp:-0}" -gt 3600 -a "${exp:-0}" -le 7200
# The NOTIFY made the worker poll every 200 ms for 10 s: 50 rounds.
sleep 11
is "$(grep "^test\\. 3 " "$ALARM_OUT")" "test. 3 signatures expire within the horizon, earliest at $(utc "$h_exp")" \
	"the alarm ran once, as: alarm ZONE SERIAL REASON"
is "$(logs "serial 3, signatures expire within the horizon")" 1 "the horizon warning is logged once"
is "$(stat_of serials-failed)" 1 "serials-failed unchanged by the horizon"

# --- 3. A served serial whose DS signature expires while it is served.
# X: a delegation with DS in the middle of the zone (far from a.nic.test.).
X=$(awk '$4 == "DS" {print $1}' "$K/s3.zone" | sort -u | awk '{a[NR] = $0} END {print a[int((NR + 1) / 2)]}')
ok "a delegation with DS chosen ($X)" test -n "$X"
now=$(date +%s)
x_exp=$((now + 20))
sign 4 $((now - 3600)) "$x_exp" "$K/s4-short.zone"
sign 4 $((now - 3600)) $((now + 30 * 86400)) "$K/s4-long.zone"
splice "$K/s4-long.zone" "$K/s4-short.zone" "$X/DS" >"$K/s4.zone"
ok "F serves serial 4 ($X DS expires at $(utc "$x_exp"))" publish "$K/s4.zone" 4
ok "mod-validate validates serial 4" zg_wait 15 stat_is last-validated-serial 4
ok "C gets serial 4" zg_wait 15 serial_is "$PC" 4
T=$(esc "$(utc "$x_exp")")
like "$(cat "$B/knotd.log")" "mod-validate.*serial 4, signatures expire within the horizon \\(earliest at $T\\)" \
	"serial 4 is within the horizon"
left=$((x_exp - $(date +%s)))
ok "serial 4 still validated ${left} s before the expiry" test "$left" -gt 0 -a "$(stat_of serials-failed)" = 1
# With poll-interval 30s, the flip within 3 s of the expiry comes from the
# worker waking up for the expiry itself.
flipped() { grep -q "mod-validate.*serial 4, signatures expired at $T, transfers of it refused" "$B/knotd.log"; }
ok "the verdict flips at the expiry (logged)" zg_wait $((x_exp - $(date +%s) + 3)) flipped
ok "the alarm ran for the expiry" zg_wait 5 grep -q "^test\\. 4 signatures expired" "$ALARM_OUT"
like "$(grep "^test\\. 4 " "$ALARM_OUT")" "^test\\. 4 signatures expired at $T$" \
	"alarm called as: alarm ZONE SERIAL REASON"
is "$(stat_of serials-failed)" 2 "serials-failed counts the expiry"
ok "an AXFR of serial 4 is refused now" axfr_refused
is "$(serial_of "$PB")" 4 "B still serves serial 4 (no new serial)"
is "$(alarms "^test\\. 4 ")" 2 "serial 4: one horizon alarm, one expiry alarm"

# A newer serial that re-signs only the SOA and a.nic.test. A (changed) and
# leaves the expired DS signature of X: IXFR, validated whole, failed.
sign 5 $((now - 3600)) $((now + 30 * 86400)) "$K/s5-new.zone" 192.0.2.54
splice "$K/s4.zone" "$K/s5-new.zone" test./SOA a.nic.test./A >"$K/s5.zone"
ok "F serves serial 5 (expired DS signature left)" publish "$K/s5.zone" 5
ok "mod-validate fails serial 5" zg_wait 30 stat_is serials-failed 3
like "$(cat "$B/knotd.log")" "mod-validate.*IXFR, incoming, remote 127\\.0\\.0\\.1@$PB, serial 4 -> 5, [0-9] changes" \
	"serial 5 arrived as a small IXFR"
like "$(cat "$B/knotd.log")" "mod-validate.*serial 5, validation failed \\(whole zone, 1 errors" \
	"serial 5 validated whole (a signature in the zone has expired)"
like "$(cat "$B/knotd.log")" "mod-validate.*serial 5, $(esc "$X") DS: signature expired $T " \
	"the expired DS signature is named"
ok "the alarm ran for serial 5" zg_wait 10 grep -q "^test\\. 5 1 validation errors, first: $(esc "$X") DS: signature expired $T " "$ALARM_OUT"
zg_knotc "$C" zone-refresh test. >/dev/null 2>&1
sleep 1
is "$(serial_of "$PC")" 4 "C never gets serial 5"

# --- 4. zg-verify --follow on the same serial prints a failed verdict.
ZGV=$ZG_BUILDDIR/tools/zg-verify
if [ -x "$ZGV" ]; then
	fout=$(timeout 30 "$ZGV" --follow "127.0.0.1@$PF" --count 1 test. 2>&1)
	frc=$?
	is "$frc" 1 "zg-verify --follow exits 1 on the failed serial"
	like "$fout" "^zone test\\. serial 5: INVALID, 1 error, 0 warnings, .*\\(whole zone, " \
		"zg-verify --follow prints the failed verdict of serial 5 (whole zone)"
	like "$fout" "$(esc "$X") DS: signature expired $T " "zg-verify --follow names the expired signature"
else
	fail "zg-verify built" "$ZGV missing"
fi

# --- Roll forward: a correctly signed serial.
now=$(date +%s)
sign 6 $((now - 3600)) $((now + 30 * 86400)) "$K/s6.zone" 192.0.2.54
ok "F serves serial 6 (re-signed)" publish "$K/s6.zone" 6
ok "mod-validate validates serial 6" zg_wait 30 stat_is last-validated-serial 6
ok "C gets serial 6 without manual action" zg_wait 30 serial_is "$PC" 6
like "$(cat "$B/knotd.log")" "mod-validate.*NOTIFY, outgoing, remote 127\\.0\\.0\\.1@$PC, serial 6" \
	"mod-validate notified C of serial 6"
is "$(stat_of serials-validated)" 4 "serials-validated: 1, 3, 4, 6"
is "$(stat_of serials-failed)" 3 "serials-failed: 2, 4 (expired while served), 5"
is "$(grep -c . "$ALARM_OUT")" 5 "five alarms in all"
exp=$(stat_of earliest-expiry-seconds)
ok "earliest-expiry-seconds back to about 30 days ($exp)" test "${exp:-0}" -gt $((29 * 86400))

for d in "$C" "$B" "$F"; do
	ok "knotd $(basename "$d") stops cleanly" zg_knotd_stop "$d"
done
unlike "$(cat "$B/knotd.log" "$B/knotd.stderr" 2>/dev/null)" \
	"(fatal|critical|segfault|double free|invalid module)" "no fatal line in B's log"

zg_done
