#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The recovery drill: a lost keystore is survivable.
#   S  signer (SoftHSM token, mod-keys), notifies B;
#   B  distribution server with mod-validate (secondary of S), notifies C;
#   C  public secondary of B, watched by zg-verify --follow all along.
# Sign; back up (zg-keys backup, check); sign more; wipe the token (every key
# lost): mod-keys alarms at once, signing fails, C keeps serving the last
# validated serial while the runway counts down (mod-keys runway-seconds,
# mod-validate earliest-expiry-seconds); restore (zg-keys restore), restart
# S: signing resumes with the same keys, the DNSKEY RRset unchanged; then the
# whole signer is lost: a new one gets token and KASP state back from the
# backup and signs with the same keys. C never served a serial that did not
# validate.
. "$ZG_SRCDIR/tests/func/lib.sh"
zg_init
zg_snapshot_modules
command -v softhsm2-util >/dev/null || zg_skip_all "softhsm2-util not installed"
command -v keymgr >/dev/null || zg_skip_all "keymgr not installed"
command -v kdig >/dev/null || zg_skip_all "kdig not installed"
. "$ZG_SRCDIR/tests/func/keys-lib.sh"
. "$ZG_SRCDIR/tests/func/validate-lib.sh"
ZGV=$ZG_BUILDDIR/tools/zg-verify

ok "SoftHSM token initialised" zg_softhsm_init "$ZG_TMP/hsm" zonegate 1234
S=$ZG_TMP/s B=$ZG_TMP/b C=$ZG_TMP/c
PORT=$(zg_free_port) PB=$(zg_free_port) PC=$(zg_free_port)
mkdir -p "$S" "$B" "$C" "$ZG_TMP/backups"
VL_DIR=$B
SECRET=dmFsaWRhdG9yLWtleS1zZWNyZXQtZm9yLXRlc3RzLTAxMjM0NTY3OA==
keys_zone "$S"
keys_signer "$S" "$PORT" "" "$(printf '\nremote:\n  - id: b\n    address: 127.0.0.1@%s' "$PB")" \
	"    notify: b" >"$S/knot.conf"
{
	vconf "$B" "$PB"
	vl_gate_stanzas s "$PORT" "$PC"
	cat <<CONF
mod-validate:
  - id: gate
    key: validator
    poll-interval: 1s
    horizon: 1d

zone:
  - domain: test
    storage: "$B/zones"
    master: s
    notify: c
    acl: [notify-in, xfr-validator, xfr-out]
    module: mod-validate/gate
CONF
} >"$B/knot.conf"
{
	vconf "$C" "$PC"
	zg_conf_remotes b "127.0.0.1@$PB"
	zg_conf_acls notify-in 127.0.0.1 notify xfr-out 127.0.0.1 transfer
	cat <<CONF
zone:
  - domain: test
    storage: "$C/zones"
    master: b
    acl: [notify-in, xfr-out]
CONF
} >"$C/knot.conf"

ok "signer S starts" zg_knotd_start "$S"
ok "S signs" zg_wait 30 zg_zone_signed "$S" test.
ok "distribution B (mod-validate) starts" zg_knotd_start "$B"
ok "secondary C starts" zg_knotd_start "$C"
s0=$(serial_of "$PORT")
ok "C serves S's serial $s0, validated at B" zg_wait 30 serial_is "$PC" "$s0"
FOLLOW=$ZG_TMP/follow.out
"$ZGV" --follow 127.0.0.1@"$PC" --poll 1 test. >"$FOLLOW" 2>"$ZG_TMP/follow.err" &
zg_track_pid $!
verdicts() { grep -cE '^zone test\. serial [0-9]+: ' "$FOLLOW" 2>/dev/null; }
has_verdict() { [ "$(verdicts)" -ge 1 ]; }
ok "zg-verify follows C" zg_wait 20 has_verdict

# change VALUE: one zone-set through S's control socket (one new serial).
change() {
	zg_knotc "$S" zone-begin test. >/dev/null || return 1
	if zg_knotc "$S" zone-set test. drill 5 TXT "\"$1\"" >/dev/null &&
	   zg_knotc "$S" zone-commit test.; then
		return 0
	fi
	zg_knotc "$S" zone-abort test. >/dev/null 2>&1
	return 1
}
at_c() { kdig @127.0.0.1 -p "$PC" +short drill.test. TXT 2>/dev/null | grep -q "\"$1\""; }

# Back up; check the backup.
ok "zg-keys backup" zgk backup -d "$ZG_TMP/backups"
LOC=$(ls -d "$ZG_TMP"/backups/*Z | head -n 1)
out=$(zgk check "$LOC" 2>&1)
is "$?" 0 "zg-keys check: the backup checks out"
like "$out" "backup $LOC of [0-9TZ:-]+ checks out: [0-9]+ file\(s\), 2 key\(s\) in its KASP copy and its token copy" \
	"check names what it verified"
ok "status OK after the backup (recovery-time 1d)" zgk status --recovery-time 1d --format nagios

# Sign more.
for v in one two; do
	ok "change '$v' signed at S" change "$v"
	ok "change '$v' reaches C" zg_wait 30 at_c "$v"
done
DNSKEY_BEFORE=$(dig_short test. DNSKEY | sort)
s1=$(serial_of "$PC")

# Wipe the token: every key lost.
rm -rf "$ZG_TMP"/hsm/tokens/*
t_wipe=$SECONDS
lost() { grep -q "^test\. [0-9]* keystore hsm lost 2 of 2 key(s)" "$ALARMLOG" 2>/dev/null; }
ok "mod-keys alarms at once (within 5 s)" zg_wait 5 lost
like "$(cat "$S/knotd.log")" "critical: .*mod-keys.*keystore hsm lost 2 of 2 key\(s\): .*signing fails until they are restored from a backup" \
	"logged at critical level, naming the keys"
is "$(kstat keys-missing)" 2 "keys-missing 2"
if change three >"$ZG_TMP/change.out" 2>&1; then
	fail "a change cannot be signed without keys"
else
	pass "a change cannot be signed without keys ($(tail -n 1 "$ZG_TMP/change.out"))"
fi
st=$(zgk status --recovery-time 1d --format nagios 2>&1)
is "$?" 2 "zg-keys status CRITICAL while keys are missing"
like "$st" "2 missing" "status counts the missing keys"
r1=$(kstat runway-seconds) e1=$(stat_of earliest-expiry-seconds)
sleep 3
r2=$(kstat runway-seconds) e2=$(stat_of earliest-expiry-seconds)
ok "mod-keys runway counts down ($r1 -> $r2 s)" test "$r2" -lt "$r1" -a "$r2" -gt 80000
ok "mod-validate's earliest expiry counts down ($e1 -> $e2 s)" test "$e2" -lt "$e1" -a "$e2" -gt 80000
is "$(serial_of "$PC")" "$s1" "C keeps serving serial $s1"
zg_axfr 127.0.0.1 "$PC" test. >"$ZG_TMP/c.zone"
ok "and it validates (zg-verify)" "$ZGV" -o test. "$ZG_TMP/c.zone"

# Restore, restart: signing resumes with the same keys.
out=$(zgk restore -z test. "$LOC" 2>&1)
is "$?" 0 "zg-keys restore succeeds"
like "$out" "token directory [0-9a-f-]+ restored" "the token directory is back"
like "$out" "Restart knotd" "and says to restart knotd"
nlost=$(log_count "keystore hsm lost")
ok "S restarted" zg_knotd_stop "$S"
ok "S starts again" zg_knotd_start "$S"
nomissing() { [ "$(kstat keys-missing)" = 0 ] && [ "$(kstat runway-seconds)" -gt 86000 ]; }
ok "mod-keys finds every key in the keystore, runway back to 1d" zg_wait 10 nomissing
is "$(log_count "keystore hsm lost")" "$nlost" "no keystore loss since the restart"
ok "change 'three' signed after the restore" change three
ok "it reaches C" zg_wait 30 at_c three
is "$(dig_short test. DNSKEY | sort)" "$DNSKEY_BEFORE" "the DNSKEY RRset is unchanged"
ok "status OK again" zgk status --recovery-time 1d --format nagios
out=$(zgk restore -z test. --kasp "$LOC" 2>&1)
is "$?" 0 "zg-keys restore --kasp: the KASP state from the backup too (knotc zone-restore)"
like "$out" "keystore intact, nothing to restore" "the keystore is left alone when it is intact"
like "$out" "test\.: KASP state restored from $LOC/knot" "the KASP state is restored"
ok "change 'four' signed after the KASP restore" change four
ok "it reaches C" zg_wait 30 at_c four
is "$(dig_short test. DNSKEY | sort)" "$DNSKEY_BEFORE" "the DNSKEY RRset is still unchanged"
echo "drill: wiped to restored in $((SECONDS - t_wipe)) s" >&2

# The signer is lost (token and KASP database): a new one, S2, on S's port,
# configured unsigned until the KASP state is back (runbook: "The signer is lost").
ok "S stopped for good" zg_knotd_stop "$S"
rm -rf "$ZG_TMP"/hsm/tokens/*
S2=$ZG_TMP/s2
mkdir -p "$S2/zones" "$S2/db"
cp "$S/zones/test.zone" "$S2/zones/"
sed -e "s#$S#$S2#g" -e 's/^    dnssec-signing: on$/    dnssec-signing: off/' "$S/knot.conf" >"$S2/knot.conf"
z2() { "$ZGK" -c "$S2/knot.conf" -r "$REG" "$@"; }
out=$(z2 restore -z test. "$LOC" 2>&1)
is "$?" 0 "new signer: zg-keys restore brings the token back before knotd starts"
ok "S2 starts (signing off)" zg_knotd_start "$S2"
out=$(z2 restore -z test. --kasp "$LOC" 2>&1)
is "$?" 0 "zg-keys restore --kasp: Knot restores the KASP state"
like "$(keymgr -D "$S2/db/keys" test. list 2>&1)" "KSK" "the new signer's KASP has the keys"
sed -i 's/^    dnssec-signing: off$/    dnssec-signing: on/' "$S2/knot.conf"
ok "signing turned on (reload)" zg_knotc "$S2" reload
S=$S2
ok "change 'five' signed by the new signer" zg_wait 20 change five
ok "it reaches C" zg_wait 30 at_c five
is "$(dig_short test. DNSKEY | sort)" "$DNSKEY_BEFORE" "the new signer signs with the same DNSKEY RRset"

# No serial C served failed to validate.
sleep 2
nv=$(verdicts)
ok "zg-verify judged every serial C served ($nv verdicts)" test "$nv" -ge 4
unlike "$(cat "$FOLLOW")" "INVALID|[1-9][0-9]* errors" "no verdict was invalid"
ok "secondaries stop" zg_knotd_stop "$C"
zg_done
