#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# A verdict belongs to the content, not to the serial number. B serves a
# pre-signed zone from a file (tests/data/verify/nsec3.zone) with mod-validate
# (default configuration):
#   1. the zone file changes behind an unchanged serial (one signature
#      corrupted) and `knotc zone-reload` loads it ("serial N -> N"): no new
#      transfer gets it, the module validates it as new content and fails it,
#      a secondary that bootstraps never receives it;
#   2. the file is fixed, still with the same serial (other glue): a refused
#      transfer has the content checked again, it validates, the secondary
#      gets it;
#   3. restart with a corrupted file and a verdict restored from the state
#      file, the source unreachable: the restored verdict does not open the
#      gate for the other content (the records sent are summed and compared
#      with the digest kept in the state file).
. "$ZG_SRCDIR/tests/func/lib.sh"
zg_init
. "$ZG_SRCDIR/tests/func/validate-lib.sh"

command -v kdig >/dev/null || zg_skip_all "kdig not installed"

VL_ZONE=example.test.
PB=$(zg_free_port) PC=$(zg_free_port) DEAD=$(zg_free_port)
B=$ZG_TMP/b C=$ZG_TMP/c
mkdir -p "$B/zones" "$C"
VL_DIR=$B
FIX=$ZG_SRCDIR/tests/data/verify/nsec3.zone
SERIAL=2024010101

# bconf [SOURCE]: B's configuration, mod-validate with its defaults (or a source).
bconf() {
	vconf "$B" "$PB"
	zg_conf_remotes c "127.0.0.1@$PC"
	zg_conf_acls local 127.0.0.1 transfer
	if [ -n "${1:-}" ]; then
		printf 'mod-validate:\n  - id: gate\n    source: %s\n\n' "$1"
	fi
	cat <<CONF
zone:
  - domain: example.test.
    storage: "$B/zones"
    file: "%s.zone"
    dnssec-signing: off
    zonefile-load: whole
    journal-content: none
    notify: c
    acl: local
    module: mod-validate${1:+/gate}
CONF
}
# corrupt: the fixture with one signature byte changed (the MX RRSIG).
corrupt() {
	awk '$4 == "RRSIG" && $5 == "MX" && !done { s = $NF; c = substr(s, 1, 1);
		$NF = (c == "A" ? "B" : "A") substr(s, 2); done = 1 } { print }' "$FIX"
}
# axfr: a new transfer from B as a client on the same host would make it.
axfr() { kdig @127.0.0.1 -p "$PB" example.test. AXFR +time=5 +retry=0 2>&1; }
has_glue() { axfr | grep -q "ns\\.sub\\.example\\.test\\..*A.*$1"; }

cp "$FIX" "$B/zones/example.test.zone"
bconf >"$B/knot.conf"
ok "B starts" zg_knotd_start "$B"
ok "serial $SERIAL validated" zg_wait 60 grep -q "mod-validate.*serial $SERIAL, validated" "$B/knotd.log"
ok "a new transfer gets it" has_glue 192.0.2.4

# --- 1. Other content behind the same serial.
corrupt >"$B/zones/example.test.zone"
ok "the zone file changed (one signature), same serial" \
	test "$(grep -c . "$B/zones/example.test.zone")" -eq "$(grep -c . "$FIX")"
ok "knotc zone-reload" zg_knotc "$B" zone-reload example.test.
ok "knotd loaded it: serial $SERIAL -> $SERIAL" \
	zg_wait 30 grep -q "loaded, serial $SERIAL -> $SERIAL" "$B/knotd.log"
out=$(axfr)
unlike "$out" "MX" "a new transfer does not get the changed content"
like "$out" "REFUSED" "it ends with REFUSED"
ok "B says why: the content sent is not the validated one" zg_wait 10 grep -q \
	"mod-validate.*AXFR, outgoing, remote 127\\.0\\.0\\.1@[0-9]*, failed at its end (serial $SERIAL, content differs from the validated content" \
	"$B/knotd.log"
ok "the module validates the served content as new content" zg_wait 60 grep -q \
	"mod-validate.*serial $SERIAL, content differs from that of its earlier verdict without a serial change" \
	"$B/knotd.log"
ok "and fails it" zg_wait 60 grep -q "mod-validate.*serial $SERIAL, validation failed" "$B/knotd.log"
ok "the bad signature is named" grep -q "mod-validate.*serial $SERIAL, example\\.test\\. MX: bad signature" \
	"$B/knotd.log"
out=$(axfr)
like "$out" "REFUSED" "transfers of it are now refused at once"
ok "transfers-content-refused counts the transfer that failed at its end" stat_ge transfers-content-refused 1
ok "serials-failed 1" stat_is serials-failed 1

# A secondary that bootstraps now never gets it.
{
	zg_knot_conf_bare "$C" "$PC"
	zg_conf_remotes b "127.0.0.1@$PB"
	zg_conf_acls notify-in 127.0.0.1 notify
	cat <<CONF
zone:
  - domain: example.test.
    storage: "$C/zones"
    master: b
    acl: notify-in
CONF
} >"$C/knot.conf"
ok "C (secondary of B) starts" zg_knotd_start "$C"
sleep 5
is "$(serial_of "$PC")" "" "C has no zone: the changed content never reached it"

# --- 2. Fixed, still the same serial, with other glue: valid content.
sed 's/^ns\.sub\.example\.test\.\(.*\)192\.0\.2\.4$/ns.sub.example.test.\1192.0.2.44/' "$FIX" \
	>"$B/zones/example.test.zone"
ok "fixed zone file: other glue, same serial" grep -q '192\.0\.2\.44$' "$B/zones/example.test.zone"
ok "knotc zone-reload" zg_knotc "$B" zone-reload example.test.
out=$(axfr)
like "$out" "REFUSED" "a transfer is still refused (the serial failed) ..."
validated_twice() { [ "$(grep -c "mod-validate.*serial $SERIAL, validated" "$B/knotd.log")" -ge 2 ]; }
ok "... and has the served content checked: it validates" zg_wait 90 validated_twice
ok "a new transfer gets the fixed content" zg_wait 30 has_glue 192.0.2.44
ok "C gets it too (NOTIFY after the verdict)" zg_wait 60 serial_is "$PC" "$SERIAL"
like "$(zg_knotc "$C" zone-read example.test. ns.sub.example.test. A 2>&1)" "192\\.0\\.2\\.44" "C has the fixed glue"
ok "C stops" zg_knotd_stop "$C"

# --- 3. Restart: the state file says serial N is valid (with its content
# digest); the file now holds other content; the source cannot be reached,
# so only the check of what is sent stands between the two.
ok "B stops" zg_knotd_stop "$B"
ok "the state file keeps the content digest" \
	grep -Eq "^verdict $SERIAL valid [0-9]+ [0-9]+ [0-9a-f]{64}$" "$B/zones/example.test.mod-validate"
corrupt >"$B/zones/example.test.zone"
bconf "127.0.0.1@$DEAD" >"$B/knot.conf"
: >"$B/knotd.log"
ok "B starts again, source unreachable" zg_knotd_start "$B"
ok "the valid verdict of $SERIAL is restored" zg_wait 10 grep -q \
	"mod-validate.*verdicts restored from .*serial $SERIAL validated" "$B/knotd.log"
out=$(axfr)
unlike "$out" "MX" "a new transfer does not get the other content"
like "$out" "REFUSED" "it ends with REFUSED"
ok "the content sent differs from the restored verdict's" zg_wait 10 grep -q \
	"mod-validate.*failed at its end (serial $SERIAL, content differs from the validated content" \
	"$B/knotd.log"
ok "the module checks the served content (from this server) and fails it" zg_wait 60 grep -q \
	"mod-validate.*serial $SERIAL, validation failed" "$B/knotd.log"
out=$(axfr)
like "$out" "REFUSED" "then transfers of it are refused at once"
ok "B stops" zg_knotd_stop "$B"

# The state file of format 1 (no digests) does not open the gate either.
cp "$FIX" "$B/zones/example.test.zone"
printf 'zonegate-mod-validate 1\nzone example.test.\nlast-validated %s\nverdict %s valid %s -\nend 1\n' \
	"$SERIAL" "$SERIAL" "$(date +%s)" >"$B/zones/example.test.mod-validate"
: >"$B/knotd.log"
ok "B starts with a state file of format 1, source unreachable" zg_knotd_start "$B"
ok "the valid verdict without a digest is not used" zg_wait 10 grep -q \
	"mod-validate.*1 valid verdicts restored without the digest of their content (state file format 1)" \
	"$B/knotd.log"
out=$(axfr)
like "$out" "REFUSED" "a transfer is refused (not validated yet)"
ok "B stops" zg_knotd_stop "$B"
zg_done
