#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# mod-keys' state-command on a real knotd signer (keys in SoftHSM, the
# backup interlock on): the key state is written at the first check, not
# again while nothing changes, and after a key event (a ZSK rollover's new
# key) by itself; a failing command is logged (a warning, then an error),
# alarmed once at its second failure, counted and retried at every check
# until it succeeds; one that hangs is killed after
# state-timeout. knotc conf-check refuses mod-keys with neither a register
# nor a state-command. (tests/func/signer-pair.sh case 6: the same with
# zg-signer-knot backup across a failover.)
. "$ZG_SRCDIR/tests/func/lib.sh"
zg_init
zg_snapshot_modules
. "$ZG_SRCDIR/tests/func/keys-lib.sh"

# The state command: records "ZONE-ARG ZONE-ENV" per write; fails with
# "disk full" while $ZG_TMP/fail exists, hangs while $ZG_TMP/hang exists.
STATE_SH=$ZG_TMP/state.sh STATE_LOG=$ZG_TMP/state.log
cat >"$STATE_SH" <<SH
#!/bin/sh
[ -e "$ZG_TMP/hang" ] && exec sleep 60
[ -e "$ZG_TMP/fail" ] && { echo "writing the snapshot" >&2; echo "disk full" >&2; exit 3; }
echo "\$1 \$ZG_SIGNER_ZONE" >>"$STATE_LOG"
SH
chmod +x "$STATE_SH"
writes() { wc -l <"$STATE_LOG" 2>/dev/null || echo 0; }

ok "SoftHSM token initialised" zg_softhsm_init "$ZG_TMP/hsm" zonegate 1234
S=$ZG_TMP/signer PORT=$(zg_free_port)
mkdir -p "$S"
keys_zone "$S"
keys_signer "$S" "$PORT" "    state-command: \"$STATE_SH \$1\"
    state-timeout: 3" >"$S/knot.conf"
ok "signer with mod-keys (register and state-command) starts" zg_knotd_start "$S"
ok "zone signed" zg_wait 30 zg_zone_signed "$S" test.
like "$(cat "$S/knotd.log")" "key state written by the state-command at the first check and after every key event \(seen within check-interval 1s, state-timeout 3s\)" \
	"mod-keys announces the state command at load"

# 1. The first check that finds keys writes (a check before Knot generated
# them writes nothing); nothing changes, nothing is written.
ok "the first check writes the key state" zg_wait 10 log_has "key state written \(first snapshot, [0-9]+ keys?\)"
is "$(sed -n 1p "$STATE_LOG")" "test. test." "the command got the zone as \$1 and in ZG_SIGNER_ZONE"
ok "the written state has the zone's two keys" \
	zg_wait 10 log_has "key state written \((first snapshot, 2 keys|[KZ]SK [0-9]+ \(id [0-9a-f]+\.\.\.\) added)\)"
n1=$(writes)
sleep 4
is "$(writes)" "$n1" "4 checks later: no other write (nothing changed)"
is "$(kstat key-state-writes)" "$n1" "key-state-writes counts them ($n1)"
is "$(kstat key-state-errors)" 0 "key-state-errors is 0"

# 2. A key event while the command fails: logged, alarmed once, retried.
touch "$ZG_TMP/fail"
nalarm=$(grep -c "cannot write the key state" "$ALARMLOG" 2>/dev/null)
ok "ZSK rollover started" zg_knotc "$S" zone-key-rollover test. zsk
ok "the failed write is logged with the new key and the command's last line" \
	zg_wait 10 log_has "cannot write the key state \(ZSK [0-9]+ \(id [0-9a-f]+\.\.\.\) added[^;]*; state-command exit status 3: disk full\), a standby signer taking over now restores an older one, retrying at the next check"
retried() { [ "$(kstat key-state-errors)" -ge 3 ]; }
ok "it is retried at every check (key-state-errors >= 3)" zg_wait 10 retried
is "$(grep -c "cannot write the key state" "$ALARMLOG")" $((nalarm + 1)) "the alarm ran once for the run of failures"
is "$(log_count "cannot write the key state")" 2 "the same failure is logged twice"
ok "first as a warning" log_has "warning: \[test\.\] module 'mod-keys/interlock', cannot write the key state"
ok "then, failing again, as an error" log_has "error: \[test\.\] module 'mod-keys/interlock', cannot write the key state"
is "$(writes)" "$n1" "nothing was written meanwhile"

# 3. The command works again: the pending change is written.
rm -f "$ZG_TMP/fail"
ok "the next check writes it" zg_wait 10 log_has "key state written \(ZSK [0-9]+ \(id [0-9a-f]+\.\.\.\) added.*\), after [0-9]+ failed attempts"
is "$(sed -n "$((n1 + 1))p" "$STATE_LOG")" "test. test." "the command ran again"
nw=$(kstat key-state-writes)
ok "key-state-writes counts it" test "$nw" -gt "$n1"

# 4. A hanging command is killed after state-timeout, a failure like the
# others. (The held ZSK's timers may change too: any key may be named.)
touch "$ZG_TMP/hang"
ne=$(kstat key-state-errors)
na=$(log_count "key state written \(.*\), after [0-9]+ failed attempts")
ok "a timer change (keymgr set) is a key event" \
	keymgr -D "$S/db/keys" test. set "$(keys_of | awk '$1 == "KSK" { print $3 }')" created=$(($(date +%s) - 100))
ok "the hanging command is killed after state-timeout 3 s" \
	zg_wait 15 log_has "cannot write the key state \([KZ]SK [0-9]+ \(id [0-9a-f]+\.\.\.\) timers changed[^;]*; state-command killed after 3s\)"
grew() { [ "$(kstat key-state-errors)" -gt "$ne" ]; }
ok "and counted" zg_wait 5 grew
rm -f "$ZG_TMP/hang"
again() { [ "$(log_count "key state written \(.*\), after [0-9]+ failed attempts")" -gt "$na" ]; }
ok "then written" zg_wait 15 again
zg_knotd_stop "$S"

# 5. conf-check: a register or a state-command is required.
B=$ZG_TMP/bad
mkdir -p "$B"
keys_signer "$B" "$(zg_free_port)" | grep -v '^    register:' >"$B/knot.conf"
out=$(knotc -c "$B/knot.conf" conf-check 2>&1)
like "$out" "register \(an absolute path\) is required without state-command" \
	"conf-check refuses mod-keys without register and state-command"
keys_signer "$B" "$(zg_free_port)" "    state-command: /bin/true" | grep -v '^    register:' >"$B/knot.conf"
ok "conf-check accepts a state-command without a register" knotc -c "$B/knot.conf" conf-check
zg_done
