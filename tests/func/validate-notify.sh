#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# mod-validate's NOTIFY to the zone's notify remotes, as Knot's own NOTIFY:
#   B  signer on 127.0.0.1 with mod-validate (default configuration), its
#      zone's notify remotes: `c` (via 127.0.0.2) and `c-badkey` (a TSIG key
#      that C does not know);
#   C  secondary of B whose acl allows NOTIFY from 127.0.0.2 only.
# The module's NOTIFY for a validated serial leaves from the remote's `via`
# address (C accepts it); the NOTIFY C refuses for its key is logged with
# what C answered as Knot's own NOTIFY logs it (Knot 3.2: NOTAUTH, TSIG
# error BADKEY; 3.4: NOTAUTH), not as a malformed answer.
. "$ZG_SRCDIR/tests/func/lib.sh"
zg_init
. "$ZG_SRCDIR/tests/func/validate-lib.sh"

command -v kdig >/dev/null || zg_skip_all "kdig not installed"

PB=$(zg_free_port) PC=$(zg_free_port)
B=$ZG_TMP/b C=$ZG_TMP/c
mkdir -p "$B" "$C"
VL_DIR=$B

# --- B: signer with mod-validate.
{
	vconf "$B" "$PB"
	zg_conf_key wrong. "$(printf 'zonegate-wrong-key-0123456789ab' | base64)"
	zg_conf_remotes c "127.0.0.1@$PC via:127.0.0.2" c-badkey "127.0.0.1@$PC key:wrong."
	zg_conf_acls local 127.0.0.1 transfer
	cat <<CONF
zone:
  - domain: test
    storage: "$B/zones"
    dnssec-signing: on
    notify: [c, c-badkey]
    acl: local
    module: mod-validate
CONF
} >"$B/knot.conf"
zg_genzone test. 10 >"$B/zones/test.zone"
ok "B (signer, mod-validate) starts" zg_knotd_start "$B"
ok "B signs the zone" zg_wait 60 zg_zone_signed "$B" test.
ok "B serves a serial" zg_wait 20 has_serial "$PB"
s1=$(serial_of "$PB")
ok "serial $s1 validated" zg_wait 60 grep -q "mod-validate.*serial $s1, validated" "$B/knotd.log"

# --- C: NOTIFY from 127.0.0.2 only (no refresh of its own for a day).
{
	zg_knot_conf_bare "$C" "$PC"
	zg_conf_remotes b "127.0.0.1@$PB"
	zg_conf_acls notify-via 127.0.0.2 notify
	cat <<CONF
zone:
  - domain: test
    storage: "$C/zones"
    master: b
    refresh-min-interval: 86400
    retry-min-interval: 86400
    acl: notify-via
CONF
} >"$C/knot.conf"
ok "C starts" zg_knotd_start "$C"
ok "C gets serial $s1" zg_wait 30 serial_is "$PC" "$s1"

# --- A change at B: a new serial, validated, NOTIFY to C.
ok "zone-begin at B" zg_knotc "$B" zone-begin test.
ok "zone-set" zg_knotc "$B" zone-set test. fresh.test. 3600 A 192.0.2.77
ok "zone-commit" zg_knotc "$B" zone-commit test.
s2up() { local s; s=$(serial_of "$PB"); [ -n "$s" ] && [ "$s" != "$s1" ]; }
ok "B serves a new serial" zg_wait 30 s2up
s2=$(serial_of "$PB")
ok "serial $s2 validated" zg_wait 60 grep -q "mod-validate.*serial $s2, validated" "$B/knotd.log"
ok "the module's NOTIFY to c (via 127.0.0.2) is answered" zg_wait 30 grep -Eq \
	"mod-validate.*NOTIFY, outgoing, remote 127\\.0\\.0\\.1@$PC, serial $s2\$" "$B/knotd.log"
ok "C receives serial $s2" zg_wait 30 serial_is "$PC" "$s2"
# Knot's own NOTIFY (it honours via) and the module's, both from 127.0.0.2
# (Knot logs no ACL denial at level info, so count the accepted ones).
notified_twice() {
	[ "$(grep -Eic "notify, incoming, remote 127\\.0\\.0\\.2@[0-9]+.*serial $s2\$" "$C/knotd.log")" -ge 2 ]
}
ok "C logs two NOTIFYs of serial $s2 from 127.0.0.2: Knot's and the module's" zg_wait 30 notified_twice
ok "the NOTIFY with the unknown key: the module logs what C answered" zg_wait 30 grep -Eq \
	"mod-validate.*NOTIFY, outgoing, remote 127\\.0\\.0\\.1@$PC, serial $s2, failed \\(server answered NOTAUTH(, TSIG error BADKEY)?\\)" \
	"$B/knotd.log"
unlike "$(grep 'mod-validate' "$B/knotd.log")" "malformed or unexpected answer" \
	"no NOTIFY logged as a malformed answer"


# --- The module's own notify item: the zone has none, so Knot sends no
# NOTIFY of its own before the verdict; only the module's reaches C.
ok "B stops (for the module's notify item)" zg_knotd_stop "$B"
bconf() { # ZONE-NOTIFY-LINE MODULE-NOTIFY-LINE
	vconf "$B" "$PB"
	zg_conf_remotes c "127.0.0.1@$PC via:127.0.0.2"
	zg_conf_acls local 127.0.0.1 transfer
	cat <<CONF
mod-validate:
  - id: gate
$2

zone:
  - domain: test
    storage: "$B/zones"
    dnssec-signing: on
$1
    acl: local
    module: mod-validate/gate
CONF
}
bconf "" "    notify: [nosuch, c]" >"$B/knot.conf"
ok "conf-check accepts the module's notify: [nosuch, c]" "$KNOTC" -c "$B/knot.conf" conf-check
cp "$B/knotd.log" "$B/knotd.log.before"
ok "B starts again" zg_knotd_start "$B"
ok "B serves serial $s2" zg_wait 30 serial_is "$PB" "$s2"
like "$(sed -n "$(($(wc -l <"$B/knotd.log.before") + 1)),\$p" "$B/knotd.log")" \
	"mod-validate.*1 notify targets" "the module loads one notify target, its own"
like "$(cat "$B/knotd.log")" "mod-validate.*notify 'nosuch' is neither a remote nor a remotes group" \
	"an id that names no remote is logged at load"
ok "zone-begin at B" zg_knotc "$B" zone-begin test.
ok "zone-set" zg_knotc "$B" zone-set test. fresh3.test. 3600 A 192.0.2.78
ok "zone-commit" zg_knotc "$B" zone-commit test.
ok "B serves a new serial" zg_wait 30 serial_not "$PB" "$s2"
s3=$(serial_of "$PB")
ok "serial $s3 validated" zg_wait 60 grep -q "mod-validate.*serial $s3, validated" "$B/knotd.log"
ok "the module's NOTIFY of $s3 to c is answered" zg_wait 30 grep -Eq \
	"mod-validate.*NOTIFY, outgoing, remote 127\\.0\\.0\\.1@$PC, serial $s3\$" "$B/knotd.log"
ok "C receives serial $s3 (refresh-min-interval is a day: only a NOTIFY brings it)" \
	zg_wait 30 serial_is "$PC" "$s3"
sleep 2   # a NOTIFY of Knot's own would have come with the module's
is "$(grep -Eic "notify, incoming, remote 127\\.0\\.0\\.2@[0-9]+.*serial $s3\$" "$C/knotd.log")" 1 \
	"C logs one NOTIFY of serial $s3, the module's"
is "$(grep "serial $s3" "$B/knotd.log" | grep -i 'notify, outgoing' | grep -vc 'mod-validate')" 0 \
	"B (Knot) sent no NOTIFY of its own for serial $s3"

# Both set: the module NOTIFYs its own remotes only, and says so at load.
ok "B stops (both notify items)" zg_knotd_stop "$B"
bconf "    notify: c" "    notify: c" >"$B/knot.conf"
ok "B starts with both" zg_knotd_start "$B"
ok "the module logs that the zone's notify remotes are Knot's alone" zg_wait 30 grep -q \
	"mod-validate.*the zone's notify remotes are not notified by the module" "$B/knotd.log"

ok "C stops" zg_knotd_stop "$C"
ok "B stops" zg_knotd_stop "$B"
zg_done
