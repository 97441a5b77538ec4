#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Downstream fencing (issue 17, case 2): mod-validate with `lease` accepts
# serials only from the signer that holds the signer lease. Real PostgreSQL
# (zonegate-queue.sql), two signer knotds A and B on 127.0.0.1 (distinct
# ports) signing test. with the same keys (one SoftHSM token; B gets a copy
# of A's KASP database), a hidden primary H (secondary of A then B, with
# mod-validate: source = both signers, lease = the database) and a public
# secondary S of H.
#  (a) A holds the lease: A's serials reach S; B's lower serial is not
#      reported.
#  (b) A is paused (SIGSTOP) past its lease, B takes it (token 2): B's serial
#      reaches S; A resumes (SIGCONT) and signs a higher serial: refused with
#      a log line, counted (serials-fenced), alarmed; S keeps B's serial,
#      though H's knotd took A's serial. Restarting H keeps token 2.
#  (c) the database stops: B's next serial does not pass (lease-errors, log
#      line), S keeps the last good serial; the database is back: it passes.
#  (d) without `lease` the module behaves as before (no fencing counters,
#      A's serial validated whoever holds the lease). Bad lease/signer items
#      are refused by conf-check.
. "$ZG_SRCDIR/tests/func/lib.sh"
zg_init
. "$ZG_SRCDIR/tests/func/validate-lib.sh"
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || zg_skip_all "postgresql server not installed"
command -v softhsm2-util >/dev/null || zg_skip_all "softhsm2-util not installed"
command -v kdig >/dev/null || zg_skip_all "kdig not installed"

SIGNER=$ZG_BUILDDIR/tools/zg-signer
PA=$(zg_free_port) PB=$(zg_free_port) PH=$(zg_free_port) PS=$(zg_free_port) PD=$(zg_free_port)
# B listens on its own address, as a second signer host would: Knot 3.5
# matches a NOTIFY to a master by address alone, and takes a master on the
# same address as the notifier.
AB=127.0.0.2
A=$ZG_TMP/a B=$ZG_TMP/b H=$ZG_TMP/h S=$ZG_TMP/s D=$ZG_TMP/d
mkdir -p "$A" "$B" "$H" "$S" "$D"
VL_DIR=$H
vl_alarm_script

ok "PostgreSQL cluster starts" zg_pg_start "$ZG_TMP/pg"
ok "the queue DDL runs" psql -X -q -v ON_ERROR_STOP=1 -f "$ZG_SRCDIR/doc/zonegate-queue.sql"
db=$ZG_PG_URI
sg() { "$SIGNER" -d "$db" -z test. "$@"; }
zg_softhsm_init "$ZG_TMP/hsm" zgtest 1234 || zg_bail "softhsm init failed"

signer_conf() { # DIR PORT [ADDRESS]
	zg_knot_conf_bare "$1" "$2" | sed "s/listen: 127\.0\.0\.1@$2\$/listen: ${3:-127.0.0.1}@$2/"
	zg_signer_conf zgtest 1234 nsec3
	zg_conf_remotes h "127.0.0.1@$PH via:${3:-127.0.0.1}"
	zg_conf_acls local 127.0.0.1 transfer
	cat <<CONF
zone:
  - domain: test
    storage: "$1/zones"
    dnssec-signing: on
    dnssec-policy: hsm
    serial-policy: unixtime
    notify: h
    acl: local
CONF
}
# change DIR N: a change signed by the signer in DIR (a new serial).
change() {
	zg_knotc "$1" zone-begin test. >/dev/null &&
		zg_knotc "$1" zone-set test. "n$2.test." 300 A "192.0.2.$2" >/dev/null &&
		zg_knotc "$1" zone-commit test. >/dev/null
}
serial_gt() { local s; s=$(serial_of "$1" "${3:-}"); [ -n "$s" ] && [ "$s" -gt "$2" ]; }
dnskeys() { kdig @"${2:-127.0.0.1}" -p "$1" test. DNSKEY +short +time=2 +retry=0 2>/dev/null | sort; }

# A generates the keys (in the token) and signs; B gets A's KASP database.
signer_conf "$A" "$PA" >"$A/knot.conf"
signer_conf "$B" "$PB" "$AB" >"$B/knot.conf"
zg_genzone test. 20 >"$A/zones/test.zone"
cp "$A/zones/test.zone" "$B/zones/test.zone"
ok "A starts" zg_knotd_start "$A"
ok "A signs the zone" zg_wait 60 zg_zone_signed "$A" test.
ok "A stops (its KASP database is copied to B)" zg_knotd_stop "$A"
cp -a "$A/db/keys" "$B/db/keys"
ok "B starts" zg_knotd_start "$B"
ok "B signs the zone" zg_wait 60 zg_zone_signed "$B" test.
ok "A starts again" zg_knotd_start "$A"
ok "A serves a serial" zg_wait 20 has_serial "$PA"
is "$(dnskeys "$PB" "$AB")" "$(dnskeys "$PA")" "A and B sign with the same DNSKEY set"
sleep 1
sb0=$(serial_of "$PB" "$AB")
ok "A signs a change (a serial above B's $sb0)" change "$A" 1
ok "A's serial is above B's" zg_wait 20 serial_gt "$PA" "$sb0"
sa1=$(serial_of "$PA")
is "$(sg -n a -l 600 take)" 1 "A takes the signer lease: token 1"

# H: the hidden primary, secondary of A then B, mod-validate fenced by the lease.
dist_conf() { # DIR PORT MODULE-EXTRA
	vconf "$1" "$2"
	zg_conf_remotes a "127.0.0.1@$PA" b "$AB@$PB" signers "127.0.0.1@$PA $AB@$PB" \
		s "127.0.0.1@$PS"
	zg_conf_acls local "127.0.0.1 $AB" "[notify, transfer]"
	cat <<CONF
mod-validate:
  - id: gate
    source: signers
    poll-interval: 1s
    alarm: $ZG_TMP/alarm.sh
$3

zone:
  - domain: test
    storage: "$1/zones"
    master: [a, b]
    notify: s
    acl: local
    module: mod-validate/gate
CONF
}
dist_conf "$H" "$PH" "    lease: \"$db\"
    signer: [ \"a@127.0.0.1@$PA\", \"b@$AB@$PB\" ]" >"$H/knot.conf"
{
	vconf "$S" "$PS"
	zg_conf_remotes h "127.0.0.1@$PH"
	zg_conf_acls notify-in 127.0.0.1 notify
	cat <<CONF
zone:
  - domain: test
    storage: "$S/zones"
    master: h
    acl: notify-in
CONF
} >"$S/knot.conf"
ok "H (hidden primary, mod-validate with lease) starts" zg_knotd_start "$H"
ok "S (public secondary) starts" zg_knotd_start "$S"

# (a) A holds the lease.
ok "(a) S gets A's serial $sa1" zg_wait 60 serial_is "$PS" "$sa1"
is "$(stat_of last-validated-serial)" "$sa1" "(a) validated at H"
is "$(stat_of lease-token)" 1 "(a) lease-token 1 accepted"
is "$(stat_of serials-fenced)" 0 "(a) serials-fenced 0 (B's lower serial is no new serial)"
like "$(cat "$H/knotd.log")" "mod-validate.*serial $sa1, signer lease token 1 of a accepted" \
	"(a) the token's acceptance logged"
sleep 1
ok "(a) A signs another change" change "$A" 2
ok "(a) A's new serial" zg_wait 20 serial_gt "$PA" "$sa1"
sa2=$(serial_of "$PA")
ok "(a) S gets A's serial $sa2" zg_wait 60 serial_is "$PS" "$sa2"

# (b) A paused past its lease; B takes it; A resumes and signs.
pa=$(cat "$A/knotd.pid")
kill -STOP "$pa"
# A's controller renewed for 2 s last, just before the pause.
is "$(sg -n a -l 2 -t 1 renew)" 1 "(b) A's last renewal before the pause: 2 s"
ok "(b) A's lease expires while A is paused" zg_wait 15 eval "! sg status >/dev/null 2>&1"
is "$(sg -n b -l 600 take)" 2 "(b) B takes the lease: token 2"
sleep 1
ok "(b) B signs a change" change "$B" 3
ok "(b) B's serial is above A's last" zg_wait 20 serial_gt "$PB" "$sa2" "$AB"
sb1=$(serial_of "$PB" "$AB")
ok "(b) S gets B's serial $sb1" zg_wait 90 serial_is "$PS" "$sb1"
is "$(stat_of lease-token)" 2 "(b) lease-token 2"
tr0=$(stat_of transfers-refused)
kill -CONT "$pa"
sleep 1
ok "(b) A, resumed, signs a change" change "$A" 4
ok "(b) A's serial is above B's" zg_wait 20 serial_gt "$PA" "$sb1"
sa3=$(serial_of "$PA")
ok "(b) refused serial $sa3 from A, logged" zg_wait 30 grep -Eq \
	"mod-validate.*refused serial $sa3 from 127\.0\.0\.1@$PA: signer lease held by b, token 2" "$H/knotd.log"
is "$(stat_of serials-fenced)" 1 "(b) serials-fenced 1"
ok "(b) the alarm ran for it" zg_wait 10 grep -q "^test\. $sa3 refused serial $sa3 from 127\.0\.0\.1@$PA: signer lease held by b, token 2$" "$ALARM_OUT"
# Knot 3.2 asks its first master (A) and loads A's serial; later series may
# stay with the master that answered last (B). Either way S must keep B's.
if zg_wait 20 serial_is "$PH" "$sa3"; then
	pass "(b) H's knotd loaded A's serial $sa3 (its first master)"
	zg_knotc "$S" zone-refresh test. >/dev/null
	ok "(b) H refused A's serial to S (transfers-refused above $tr0)" \
		zg_wait 10 stat_ge transfers-refused $((tr0 + 1))
else
	is "$(serial_of "$PH")" "$sb1" "(b) H's knotd stayed with B's serial $sb1 (master pinned)"
	zg_knotc "$S" zone-refresh test. >/dev/null
	pass "(b) no transfer of A's serial to refuse"
fi
sleep 3
is "$(serial_of "$PS")" "$sb1" "(b) S keeps B's serial $sb1"
is "$(stat_of last-validated-serial)" "$sb1" "(b) the last validated serial is B's"
unlike "$(grep "serial $sa3, validated" "$H/knotd.log")" "validated" "(b) A's serial never validated"
# The token survives a restart of H (state file).
ok "(b) H stops" zg_knotd_stop "$H"
like "$(cat "$H/zones/test.mod-validate")" \
	"lease-token 2" "(b) the state file keeps token 2"
ok "(b) H starts again" zg_knotd_start "$H"
ok "(b) lease-token 2 restored" zg_wait 10 stat_is lease-token 2

# (c) the database stops.
ok "(c) A stops (fenced by hand now; H's first master again)" zg_knotd_stop "$A"
ok "(c) PostgreSQL stops" zg_pg_stop "$ZG_TMP/pg"
sleep 1
ok "(c) B signs a change" change "$B" 5
ok "(c) B's new serial" zg_wait 20 serial_gt "$PB" "$sa3" "$AB"
sb2=$(serial_of "$PB" "$AB")
ok "(c) H's knotd has B's serial $sb2" zg_wait 60 serial_is "$PH" "$sb2"
ok "(c) the unreadable lease is logged" zg_wait 30 grep -q \
	"mod-validate.*no serial accepted, signer lease not readable" "$H/knotd.log"
ok "(c) lease-errors counted" stat_ge lease-errors 1
zg_knotc "$S" zone-refresh test. >/dev/null
sleep 3
is "$(serial_of "$PS")" "$sb1" "(c) S keeps the last good serial $sb1"
is "$(stat_of last-validated-serial)" "$sb1" "(c) nothing validated since"
ok "(c) PostgreSQL starts again" $ZG_PG_ASUSER "$ZG_PG_BINDIR/pg_ctl" -D "$ZG_TMP/pg/data" \
	-l "$ZG_TMP/pg/pg.log" -w -t 30 -o "-k $ZG_TMP/pg -c listen_addresses='' -p $PGPORT -c fsync=off" start
ok "(c) S gets B's serial $sb2 once the lease is readable" zg_wait 60 serial_is "$PS" "$sb2"
like "$(cat "$H/knotd.log")" "mod-validate.*signer lease readable, held by b, token 2" "(c) logged"
is "$(stat_of serials-fenced)" 1 \
	"(c) serials-fenced 1 since H's restart (A's serial, refused again at H's start while A ran)"
ok "(c) H logged the refusal again after its restart" test \
	"$(grep -c "refused serial $sa3 from 127\.0\.0\.1@$PA" "$H/knotd.log")" -eq 2

# (d) without lease: unchanged (A's serial validated though B holds the lease).
ok "(d) A starts again (serial $sa3)" zg_knotd_start "$A"
dist_conf "$D" "$PD" "" >"$D/knot.conf"
ok "(d) D (mod-validate without lease) starts" zg_knotd_start "$D"
ok "(d) D validates A's serial $sa3" zg_wait 60 eval "VL_DIR=$D stat_is last-validated-serial $sa3"
is "$(VL_DIR=$D stat_of serials-fenced)" "" "(d) no fencing counters"
unlike "$(cat "$D/knotd.log")" "signer lease" "(d) no lease in its log"
like "$(cat "$D/knotd.log")" "mod-validate.*validating transfers from signers \(127\.0\.0\.1@$PA, 127\.0\.0\.2@$PB\), poll" \
	"(d) the source as before"

# Configuration errors: refused by knotc conf-check, with the reason.
cc() { # WANT-REGEX MODULE-EXTRA DESCRIPTION
	dist_conf "$ZG_TMP/cc" "$PD" "$2" >"$ZG_TMP/cc.conf"
	out=$("$KNOTC" -c "$ZG_TMP/cc.conf" conf-check 2>&1); rc=$?
	ok "conf-check refuses $3" test "$rc" -ne 0
	like "$out" "$1" "and says why ($3)"
}
cc "signer must be HOLDER@ADDRESS" "    lease: \"$db\"
    signer: 127.0.0.1@$PA" "a signer item without holder"
cc "signer must be HOLDER@ADDRESS" "    lease: \"$db\"
    signer: a@signer-a.example" "a signer item with a name, not an address"
cc "signer needs lease" "    signer: a@127.0.0.1@$PA" "signer without lease"
cc "lease must be a postgresql:// URI" "    lease: etcd://127.0.0.1:2379" "an unsupported lease store"

zg_knotd_stop "$D"
zg_knotd_stop "$S"
zg_knotd_stop "$H"
zg_knotd_stop "$A"
zg_knotd_stop "$B"
zg_done
