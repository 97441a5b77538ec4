#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# mod-keys' interlock on a real knotd signer with its keys in SoftHSM:
#  1. the keys are backed up (zg-keys backup) and recorded;
#  2. a ZSK rollover (knotc zone-key-rollover) whose new key has no backup:
#     the key is published but never activated, the old ZSK keeps signing,
#     the alarm names the key and from when the rollover is late, zg-keys
#     status says WARNING;
#  3. zg-keys backup records the new key: the rollover completes by itself
#     (new ZSK signs, old one removed), no further alarm;
#  4. a rollover to a key that is already backed up is not held.
. "$ZG_SRCDIR/tests/func/lib.sh"
zg_init
zg_snapshot_modules
command -v softhsm2-util >/dev/null || zg_skip_all "softhsm2-util not installed"
command -v keymgr >/dev/null || zg_skip_all "keymgr not installed"
command -v kdig >/dev/null || zg_skip_all "kdig not installed"
. "$ZG_SRCDIR/tests/func/keys-lib.sh"

ok "SoftHSM token initialised" zg_softhsm_init "$ZG_TMP/hsm" zonegate 1234
S=$ZG_TMP/signer PORT=$(zg_free_port)
mkdir -p "$S" "$ZG_TMP/backups"
keys_zone "$S"
keys_signer "$S" "$PORT" >"$S/knot.conf"
ok "signer with mod-keys starts" zg_knotd_start "$S"
ok "zone signed" zg_wait 30 zg_zone_signed "$S" test.
like "$(cat "$S/knotd.log")" "mod-keys/interlock', backup interlock active \(register $REG, keystore hsm, policy fast" \
	"mod-keys announces the interlock at load"
like "$(cat "$S/knotd.log")" "policy fast leaves a recovery runway of 1d \(rrsig-refresh\), less than recovery-time 7d" \
	"the policy's runway (1d) is checked against recovery-time (7d) at load"
ok "keys without backup in use are reported" zg_wait 10 log_has "key KSK [0-9]+ \(id [0-9a-f]+\) is in use \(ready\) without a backup"

# 1. Back up, record.
out=$(zgk backup -d "$ZG_TMP/backups" 2>&1)
rc=$?
is "$rc" 0 "zg-keys backup succeeds"
like "$out" "backup $ZG_TMP/backups/[0-9T]+Z: 2 key\(s\) of 1 zone\(s\), recorded in $REG" "and reports the backup"
is "$(grep -c $'^test\.\t' "$REG")" 2 "the register lists the zone's two keys"
ok "mod-keys sees them backed up" zg_wait 10 log_has "key KSK [0-9]+ \(id [0-9a-f]+\) backed up"
ZSK1=$(keys_of | awk '$1 == "ZSK" { print $2 }')
is "$(rrsig_tag www.test. A)" "$ZSK1" "ZSK $ZSK1 signs"

# 2. A rollover whose new key has no backup.
nalarm=$(cat "$ALARMLOG" 2>/dev/null | wc -l)
ok "ZSK rollover started" zg_knotc "$S" zone-key-rollover test. zsk
newzsk() { keys_of | awk -v old="$ZSK1" '$1 == "ZSK" && $2 != old { print $2 }'; }
has_newzsk() { [ -n "$(newzsk)" ]; }
ok "Knot generated a new ZSK" zg_wait 10 has_newzsk
ZSK2=$(newzsk)
ok "mod-keys holds it" zg_wait 10 log_has "key ZSK $ZSK2 \(id [0-9a-f]+\) has no backup, holding it \(not activated\), the rollover is late from 20[0-9-]+T[0-9:]+Z until a backup is recorded"
alarmed() { grep -q "^test\. $ZSK2 key ZSK $ZSK2 .* has no backup" "$ALARMLOG" 2>/dev/null; }
ok "the alarm command runs, naming the key" zg_wait 10 alarmed
# (Knot 3.4+ clears the mark, a future timer, at each key event of an
# auto-managed key; mod-keys sets it again within a check.)
marked() { keys_of | grep "^ZSK $ZSK2 " | grep -q "active=2145916800"; }
ok "the held key's active timer is the hold time (2038-01-01)" zg_wait 10 marked
sleep 16   # more than twice propagation-delay + dnskey-ttl (7 s)
is "$(rrsig_tag www.test. A)" "$ZSK1" "16 s later the old ZSK $ZSK1 still signs"
like "$(dnskey_tags)" "(^| )$ZSK2( |$)" "the new ZSK is published"
unlike "$(keys_of | grep "^ZSK $ZSK2 ")" "active=1[0-9]{9}( |$)" "and not active"
unlike "$(cat "$S/knotd.log")" "DNSKEY.*tag +$ZSK2.*, active" "knotd never activated it"
is "$(kstat keys-held)" 1 "keys-held counts it"
st=$(zgk status --format nagios 2>&1)
is "$?" 1 "zg-keys status: WARNING (exit 1)"
like "$st" "^ZONEGATE KEYS WARNING - test\. 3 keys, 1 held" "status line names the held key"
st=$(zgk status 2>&1)
like "$st" "test\. ZSK +$ZSK2 [0-9a-f]+ published keystore=present backup=held" "status shows the key held"

# 3. Back it up: the rollover completes by itself.
ok "zg-keys backup records the new key" zgk backup -d "$ZG_TMP/backups"
ok "mod-keys releases it" zg_wait 10 log_has "key ZSK $ZSK2 \(id [0-9a-f]+\) backed up \(.*\), the rollover continues"
signs_new() { [ "$(rrsig_tag www.test. A)" = "$ZSK2" ]; }
ok "the new ZSK signs within 20 s" zg_wait 20 signs_new
old_gone() { ! dnskey_tags | grep -Eq "(^| )$ZSK1( |$)"; }
ok "the old ZSK leaves the DNSKEY RRset" zg_wait 30 old_gone
n=$(cat "$ALARMLOG" 2>/dev/null | wc -l)
sleep 3
is "$(cat "$ALARMLOG" | wc -l)" "$n" "no alarm after the release"
is "$(kstat keys-held)" 0 "keys-held back to 0"
ok "zg-keys status OK again (recovery-time 1d, as the policy leaves)" zgk status --recovery-time 1d --format nagios

# 4. A rollover to a key backed up before Knot uses it is not held. Knot
# 3.2 publishes the key by its timer; 3.4 and later clear the future timers
# of auto-managed keys (the key becomes a spare, never used by Knot itself),
# so there the operator publishes it once it is backed up.
t=$(date +%s)
ok "a ZSK generated ahead (published in 20 s)" keymgr -c "$S/knot.conf" test. generate \
	algorithm=ecdsap256sha256 ksk=no zsk=yes publish=$((t + 20)) active=0
ZSK3=$(keys_of | awk -v a="$ZSK1" -v b="$ZSK2" '$1 == "ZSK" && $2 != a && $2 != b { print $2 }')
ok "backed up at once" zgk backup -d "$ZG_TMP/backups"
ok "knotd loads it" zg_knotc "$S" zone-keys-load test.
# (keymgr list: 3.2 prints every timer, 3.4+ only those set)
pub3() { keys_of | awk -v t="$ZSK3" '$1 == "ZSK" && $2 == t { p = 0
	for (i = 4; i <= NF; i++) if ($i ~ /^publish=/) { sub("publish=", "", $i); p = $i }
	print p }'; }
# knotd -V: "knotd (Knot DNS), version 3.2.6", "knotd, Knot DNS 3.4.6"
knot_minor=$("$KNOTD" -V 2>&1 | sed -nE 's/.*[^0-9.]3\.([0-9]+)\.[0-9]+.*/\1/p' | head -n 1)
ok "knotd's series is known (3.$knot_minor)" test -n "$knot_minor"
if [ "${knot_minor:-0}" -ge 4 ]; then
	cleared() { [ "$(pub3)" = 0 ]; }
	ok "Knot 3.$knot_minor clears its future publish timer" zg_wait 10 cleared
	id3=$(keys_of | awk -v t="$ZSK3" '$1 == "ZSK" && $2 == t { print $3 }')
	ok "the operator publishes it now" keymgr -c "$S/knot.conf" test. set "id=$id3" publish=$(date +%s)
	ok "knotd loads it again" zg_knotc "$S" zone-keys-load test.
else
	is "$(pub3)" "$((t + 20))" "Knot 3.$knot_minor keeps its publish timer"
fi
signs3() { [ "$(rrsig_tag www.test. A)" = "$ZSK3" ]; }
ok "Knot rolls to it on time (publish + 7 s, within 45 s)" zg_wait 45 signs3
is "$(log_count "key ZSK $ZSK3 .*holding it")" 0 "the backed-up key was never held"
is "$(( $(date +%s) - t < 45 ))" 1 "the rollover was not late"

ok "knotd stops cleanly" zg_knotd_stop "$S"
unlike "$(cat "$S/knotd.log")" "cannot change the timers|cannot list the zone's keys" "no interlock errors"
zg_done
