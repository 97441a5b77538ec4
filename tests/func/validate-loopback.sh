#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# mod-validate with its default configuration (no key, no allow, no source),
# as a new user sets it up, everything on one host:
#   A  signer on 127.0.0.1 (Knot's own keys, unixtime serials);
#   B  distribution server on 127.0.0.1, secondary of A, `module: mod-validate`;
#   C  secondary of B on 127.0.0.1.
# Only the module's own transfers pass the gate by default (recognised by
# address and port of the connections it opened): a serial that fails
# validation never reaches C, nor any other client on the loopback. Then B
# listening only on 127.0.0.2 (not 127.0.0.1): the module still validates
# its own server; and a server whose acl refuses the module's own transfer
# says what to change.
. "$ZG_SRCDIR/tests/func/lib.sh"
zg_init
. "$ZG_SRCDIR/tests/func/validate-lib.sh"

command -v kdig >/dev/null || zg_skip_all "kdig not installed"
command -v knsupdate >/dev/null || zg_skip_all "knsupdate not installed"

PA=$(zg_free_port) PB=$(zg_free_port) PC=$(zg_free_port) PD=$(zg_free_port) PE=$(zg_free_port)
A=$ZG_TMP/a B=$ZG_TMP/b C=$ZG_TMP/c D=$ZG_TMP/d E=$ZG_TMP/e F=$ZG_TMP/f
mkdir -p "$A" "$B" "$C" "$D" "$E" "$F"
VL_DIR=$B

# --- A: the signer.
{
	zg_knot_conf_bare "$A" "$PA"
	zg_conf_remotes b "127.0.0.1@$PB"
	zg_conf_acls local 127.0.0.0/8 "[transfer, update]"
	cat <<CONF
zone:
  - domain: test
    storage: "$A/zones"
    dnssec-signing: on
    serial-policy: unixtime
    notify: b
    acl: local
CONF
} >"$A/knot.conf"
zg_genzone test. 20 >"$A/zones/test.zone"
ok "A (signer) starts" zg_knotd_start "$A"
ok "A signs the zone" zg_wait 60 zg_zone_signed "$A" test.
ok "A serves a serial" zg_wait 20 has_serial "$PA"

# --- B: the distribution server, mod-validate with the default configuration.
{
	vconf "$B" "$PB"
	zg_conf_remotes a "127.0.0.1@$PA" c "127.0.0.1@$PC"
	zg_conf_acls local 127.0.0.1 "[transfer, notify]"
	cat <<CONF
zone:
  - domain: test
    storage: "$B/zones"
    master: a
    notify: c
    acl: local
    module: mod-validate
CONF
} >"$B/knot.conf"
ok "B (mod-validate, default configuration) starts" zg_knotd_start "$B"
s0=$(serial_of "$PA")
ok "B follows A (serial $s0)" zg_wait 30 serial_is "$PB" "$s0"
ok "the module's own transfer passes its gate: serial $s0 validated" \
	zg_wait 60 grep -q "mod-validate.*serial $s0, validated" "$B/knotd.log"

# --- C: secondary of B on the same host.
vl_secondary_conf zg_knot_conf_bare "$C" "$PC" "$PB" >"$C/knot.conf"
ok "C starts" zg_knotd_start "$C"
ok "C gets the validated serial $s0" zg_wait 30 serial_is "$PC" "$s0"

# --- A serial that fails validation: F replaces A on its port, serving A's
# signed zone with the next serial (the SOA RRSIG no longer matches).
zg_axfr 127.0.0.1 "$PA" test. >"$ZG_TMP/signed.zone"
sbad=$((s0 + 1))
awk -v s="$sbad" '$4 == "SOA" && !soa { $7 = s; soa = 1 } { print }' "$ZG_TMP/signed.zone" \
	>"$ZG_TMP/bad.zone"
ok "A stops" zg_knotd_stop "$A"
mkdir -p "$F/zones"
cp "$ZG_TMP/bad.zone" "$F/zones/test.zone"
vl_presigned_conf zg_knot_conf_bare "$F" "$PA" "$PB" whole none >"$F/knot.conf"
ok "F (serial $sbad, bad SOA signature) starts on A's port" zg_knotd_start "$F"
ok "B serves serial $sbad" zg_wait 30 serial_is "$PB" "$sbad"
ok "mod-validate fails serial $sbad" \
	zg_wait 60 grep -q "mod-validate.*serial $sbad, validation failed" "$B/knotd.log"
ok "B refuses C's transfer of serial $sbad" zg_wait 30 grep -Eq \
	"mod-validate.*XFR, outgoing, remote 127\\.0\\.0\\.1@[0-9]*, refused \\(serial $sbad (failed validation|not validated yet)" \
	"$B/knotd.log"
sleep 3
is "$(serial_of "$PC")" "$s0" "C still serves $s0: the failed serial never reached it"
out=$(kdig @127.0.0.1 -p "$PB" test. AXFR +time=5 +retry=0 2>&1)
like "$out" "REFUSED" "another client on 127.0.0.1 (AXFR) is refused too"
out=$(kdig @127.0.0.1 -p "$PB" test. IXFR="$s0" +time=5 +retry=0 2>&1)
like "$out" "REFUSED" "and its IXFR as well"
ok "transfers-refused counts them" stat_ge transfers-refused 3

# --- A comes back and signs a newer serial: it validates and reaches C.
ok "F stops" zg_knotd_stop "$F"
ok "A starts again" zg_knotd_start "$A"
sleep 1.1
ok "A signs a change" knsupdate <<EOF
server 127.0.0.1 $PA
zone test.
update add fresh.test. 3600 A 192.0.2.77
send
EOF
s2() { local s; s=$(serial_of "$PA"); [ -n "$s" ] && [ "$s" -gt "$sbad" ]; }
ok "A serves a serial above $sbad" zg_wait 30 s2
sgood=$(serial_of "$PA")
ok "knotc zone-refresh at B" zg_knotc "$B" zone-refresh test.
ok "B serves $sgood" zg_wait 30 serial_is "$PB" "$sgood"
ok "serial $sgood validated" zg_wait 60 grep -q "mod-validate.*serial $sgood, validated" "$B/knotd.log"
ok "C receives $sgood" zg_wait 30 serial_is "$PC" "$sgood"
ok "B stops" zg_knotd_stop "$B"
ok "C stops" zg_knotd_stop "$C"

# --- D listens on 127.0.0.2 only: the module transfers from there, from an
# address the old loopback rule did not know, and still passes its own gate.
{
	vconf "$D" "$PD" | sed "s/^    listen: 127\\.0\\.0\\.1@$PD\$/    listen: 127.0.0.2@$PD/"
	zg_conf_remotes a "127.0.0.1@$PA"
	zg_conf_acls local 127.0.0.0/8 "[transfer, notify]"
	cat <<CONF
zone:
  - domain: test
    storage: "$D/zones"
    master: a
    acl: local
    module: mod-validate
CONF
} >"$D/knot.conf"
ok "D listens on 127.0.0.2 only" grep -q "listen: 127.0.0.2@$PD" "$D/knot.conf"
ok "D (mod-validate, default configuration) starts" zg_knotd_start "$D"
ok "D validates serial $sgood through its own transfer from 127.0.0.2" \
	zg_wait 60 grep -q "mod-validate.*serial $sgood, validated" "$D/knotd.log"
out=$(kdig @127.0.0.2 -p "$PD" test. AXFR +time=5 +retry=0 2>&1)
like "$out" "fresh\\.test\\." "a secondary gets the validated serial from D"
ok "D stops" zg_knotd_stop "$D"

# --- E: the zone's acl does not allow the module's own transfer: logged with
# the address to allow, and nothing passes.
{
	vconf "$E" "$PE"
	zg_conf_remotes a "127.0.0.1@$PA"
	zg_conf_acls elsewhere 192.0.2.1 transfer
	cat <<CONF
zone:
  - domain: test
    storage: "$E/zones"
    master: a
    acl: elsewhere
    module: mod-validate
CONF
} >"$E/knot.conf"
ok "E (acl without this host) starts" zg_knotd_start "$E"
ok "E logs why nothing can validate" zg_wait 60 grep -Eq \
	"mod-validate.*AXFR, incoming, remote 127\\.0\\.0\\.1@$PE, failed \\(server answered (REFUSED|NOTAUTH)\\), this server refuses the module's own transfer: the zone's acl must allow transfers from 127\\.0\\.0\\.1" \
	"$E/knotd.log"
ok "E stops" zg_knotd_stop "$E"
ok "A stops" zg_knotd_stop "$A"
zg_done
