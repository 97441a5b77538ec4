#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Key-state fencing of zg-signer-knot (doc/redundant-signers.md, "The key
# state after every key event"), on a real signing knotd with its keys in
# SoftHSM: a snapshot records the token of the active that wrote it; a
# backup under a lower token is refused (exit 3), removed and never
# published; the same or a higher token publishes; a backup with no token
# (the bootstrap) is written unfenced; with -s (zg-signer's state file, the
# state-command path) the token comes from the file and a file that says
# standby writes nothing; the key-state watcher of an old active exits at
# its first key event once a newer active has written, and runs the alarm
# (-a), as one whose writes fail does at the second failure in a row; the active command
# refuses to take over below the published token. Each watcher's status file
# (the counters that zg-status --keystate reads) says running, fenced,
# stopped or, after the standby command, off; a watcher that cannot write
# that file says so every round and goes on. The standby command warns
# when two of its masters share an address (Knot 3.4+ would take one's
# NOTIFY for the other's).
. "$ZG_SRCDIR/tests/func/lib.sh"
zg_init
for t in softhsm2-util keymgr kdig; do command -v "$t" >/dev/null || zg_skip_all "$t not installed"; done
KN=$ZG_SRCDIR/tools/zg-signer-knot
ZG_STATUS=${ZG_STATUS:-$ZG_BUILDDIR/tools/zg-status}
# zgs ARGS: zg-status ARGS (its output; its exit code in zgs_rc)
zgs() { zgs_out=$("$ZG_BUILDDIR/libtool" --mode=execute "$ZG_STATUS" "$@" 2>&1); zgs_rc=$?; }
# The watchers' status files (-W's .pid as .json) as zg-status --keystate
# finds them: DIR/keystate-ZONE.json.
KS=$ZG_TMP/ks
mkdir -p "$KS"
ks_from() { ln -sfn "$1" "$KS/keystate-test.json"; }

ok "SoftHSM token initialised" zg_softhsm_init "$ZG_TMP/hsm" zonegate 1234
S=$ZG_TMP/signer PORT=$(zg_free_port) B=$ZG_TMP/kasp
mkdir -p "$S/zones" "$B"
zg_genzone test. 10 >"$S/zones/test.zone"
{
	zg_knot_conf_bare "$S" "$PORT"
	zg_signer_conf zonegate 1234 nsec
	# for the standby command's address check (end of the test)
	zg_conf_remotes peer "127.0.0.1@$(zg_free_port)" primary "127.0.0.1@$(zg_free_port)" \
		peer2 "127.0.0.2@$(zg_free_port)"
	cat <<CONF
zone:
  - domain: test
    storage: "$S/zones"
    dnssec-signing: on
    dnssec-policy: hsm
    zonefile-load: whole
CONF
} >"$S/knot.conf"
ok "signer starts" zg_knotd_start "$S"
ok "zone signed" zg_wait 60 zg_zone_signed "$S" test.

kn() { "$KN" -c "$S/knot.conf" -z test. -b "$B" -t 20 "$@"; }
link() { readlink "$B/test"; }
snaps() { ls -d "$B"/test.[0-9]* 2>/dev/null | wc -l; }

out=$(kn backup 2>&1); rc=$?
is "$rc" 0 "a backup with no token (the bootstrap) is written"
ok "it is unfenced: no token file" test ! -e "$B/test/token"
ok "it holds the key list" test -s "$B/test/keys.json"

out=$(ZG_SIGNER_TOKEN=5 kn backup 2>&1); rc=$?
is "$rc" 0 "token 5: written"
like "$out" "key state written to $B/test\.[0-9]+ \(token 5\)" "token 5: logged with its token"
is "$(cat "$B/test/token")" 5 "the published snapshot records token 5"
l5=$(link) n5=$(snaps)

out=$(ZG_SIGNER_TOKEN=4 kn backup 2>&1); rc=$?
is "$rc" 3 "token 4 below the published 5: exit 3"
like "$out" "key state not published: $B/test holds a snapshot of token 5, this signer's token is 4 \(a newer active took over\)" \
	"token 4: the refusal names both tokens"
is "$(link)" "$l5" "token 4: the published snapshot is still token 5's"
is "$(snaps)" "$n5" "token 4: its snapshot was removed"
ok "no lock or temporary link is left but the lock file" test ! -e "$B/.test.new"

out=$(kn backup 2>&1); rc=$?
is "$rc" 0 "no token over a token: written (unfenced, as documented)"
ZG_SIGNER_TOKEN=5 kn backup >/dev/null 2>&1
is "$(cat "$B/test/token")" 5 "token 5 again (the same active's next event): written"
out=$(ZG_SIGNER_TOKEN=7 kn backup 2>&1); rc=$?
is "$rc:$(cat "$B/test/token")" "0:7" "token 7: written"
is "$(ls -d "$B"/test.[0-9]* | wc -l)" 3 "the three newest snapshots are kept"

# -s: the controller's state file (a backup run as mod-keys' state-command)
SF=$ZG_TMP/state.json
echo '{"zone": "test.", "name": "a", "pid": 1, "role": "standby", "token": 9, "lease_age_ms": -1}' >"$SF"
l7=$(link)
out=$(kn -s "$SF" backup 2>&1); rc=$?
is "$rc" 1 "-s: a state file that says standby: exit 1"
like "$out" "the state file $SF does not say active: not writing the key state" "-s: standby is named"
is "$(link)" "$l7" "-s: nothing published while standby"
echo '{"zone": "test.", "name": "a", "pid": 1, "role": "active", "token": 6, "lease_age_ms": 10}' >"$SF"
out=$(kn -s "$SF" backup 2>&1); rc=$?
is "$rc" 3 "-s: active with token 6 below the published 7: exit 3"
echo '{"zone": "test.", "name": "a", "pid": 1, "role": "active", "token": 8, "lease_age_ms": 10}' >"$SF"
out=$(kn -s "$SF" backup 2>&1); rc=$?
is "$rc:$(cat "$B/test/token")" "0:8" "-s: active with token 8: written, token 8"
out=$(kn -s "$ZG_TMP/nonexistent.json" backup 2>&1); rc=$?
is "$rc" 1 "-s: an unreadable state file: exit 1"
like "$out" "cannot read the state file $ZG_TMP/nonexistent\.json" "-s: the unreadable file is named"
is "$(cat "$B/test/token")" 8 "-s: nothing published from an unreadable state file"
out=$(ZG_SIGNER_TOKEN=x8 kn backup 2>&1); rc=$?
is "$rc" 2 "a token that is not a number: usage error"
like "$out" "bad ZG_SIGNER_TOKEN 'x8'" "the bad token is named"

# The watcher of an old active (token 8) after a newer active (token 10)
# wrote: it exits at its next key event, and publishes nothing.
ZG_SIGNER_TOKEN=10 kn backup >/dev/null 2>&1
l10=$(link)
ALARM=$ZG_TMP/alarm.sh ALOG=$ZG_TMP/alarm.log
printf '#!/bin/sh\necho "$*" >>%s\n' "$ALOG" >"$ALARM"
chmod +x "$ALARM"
ZG_SIGNER_TOKEN=8 "$KN" -c "$S/knot.conf" -z test. -b "$B" -w 1 -W "$ZG_TMP/w.pid" -a "$ALARM" -t 20 watch 2>"$ZG_TMP/w.log" &
wpid=$!
zg_track_pid "$wpid"
ok "a ZSK rollover starts (a key event)" zg_knotc "$S" zone-key-rollover test. zsk
ok "the old active's watcher exits" zg_wait 30 eval "! zg_alive $wpid"
wait "$wpid"; rc=$?
is "$rc" 1 "it exits 1"
like "$(cat "$ZG_TMP/w.log")" "key-state watcher: a newer active wrote the key state, exiting" "it says why"
is "$(link)" "$l10" "the newer active's snapshot stays published"
ok "the alarm ran" zg_wait 10 test -s "$ALOG"
is "$(cat "$ALOG")" "test. 8 keystate-fenced: a newer active's key state refused this signer's (token 8)" \
	"the alarm got the zone, the token and why"
ks_from "$ZG_TMP/w.json"
zgs --keystate "$KS" test
is "$zgs_rc" 1 "zg-status --keystate: the fenced watcher is a WARNING"
like "$zgs_out" "^\[test\.\] status: WARNING \(key-state watcher fenced: a newer active \(token 10\) wrote the key state, this signer \(token 8\) must not sign\)" \
	"zg-status names both tokens"
like "$zgs_out" "key-state: watcher fenced \(pid $wpid, every 1s, updated [0-9]+s ago\) \| writes: 0 \| errors: 1 \| errors-in-a-row: 0 \| published: [0-9]+s ago \| published-token: 10" \
	"the watcher's status file: fenced, one refused write, the published token"

# A watcher whose writes fail (its -b is a file, not a directory): retried
# every round, the alarm once at the second failure in a row.
: >"$ALOG"
touch "$ZG_TMP/notadir"
ZG_SIGNER_TOKEN=11 "$KN" -c "$S/knot.conf" -z test. -b "$ZG_TMP/notadir" -w 1 -W "$ZG_TMP/w2.pid" -a "$ALARM" -t 20 watch 2>"$ZG_TMP/w2.log" &
wpid=$!
zg_track_pid "$wpid"
failed_n() { [ "$(grep -c 'key-state backup into .* failed' "$ZG_TMP/w2.log")" -ge "$1" ]; }
ok "the failing watcher retries (4 failed writes)" zg_wait 30 failed_n 4
ok "it is still running" zg_alive "$wpid"
is "$(cat "$ALOG")" "test. 11 keystate-failed: the key state was not written 2 times in a row; a standby taking over now restores an older one" \
	"the alarm ran once, at the second failure in a row"
like "$(cat "$ZG_TMP/w2.log")" "key-state watcher: the key state was not written 2 times in a row, alarm" "the watcher logs the alarm"
ks_from "$ZG_TMP/w2.json"
zgs --keystate "$KS" --format json test
is "$zgs_rc" 1 "zg-status --keystate: failed writes in a row are a WARNING"
is "$(printf '%s' "$zgs_out" | "$PYTHON3" -c '
import json, sys
o = json.load(sys.stdin); k = o["keystate"]
print(k["state"], k["writes"], k["errors"] >= 4, k["errors_in_a_row"] >= 4, k["errors"] == k["errors_in_a_row"],
      k["last_write"], k["token"], o["problems"][0]["text"].startswith("key state not written "),
      o["problems"][0]["text"].endswith(" times in a row: a standby taking over now restores an older one"))')" \
	"running 0 True True True None 11 True True" "zg-status json: the failing watcher's counters and the finding"
zg_stop_pid "$wpid"
ok "a stopped watcher says so in its status file" grep -q '"state": "stopped"' "$ZG_TMP/w2.json"
zgs --keystate "$KS" test
is "$zgs_rc" 0 "zg-status --keystate: a stopped watcher is no finding"

# A watcher that cannot write its status file (its .json.tmp is a
# directory): it says so every round and goes on writing the key state
# (into its own -b here, so the published token above stays 10); with no
# status file, zg-status --keystate is UNKNOWN and names the file.
mkdir -p "$ZG_TMP/kasp4" "$ZG_TMP/w4.json.tmp"
ZG_SIGNER_TOKEN=13 "$KN" -c "$S/knot.conf" -z test. -b "$ZG_TMP/kasp4" -w 1 -W "$ZG_TMP/w4.pid" -t 20 watch 2>"$ZG_TMP/w4.log" &
wpid=$!
zg_track_pid "$wpid"
nowrite_n() { [ "$(grep -c "key-state watcher: cannot write its status file $ZG_TMP/w4\.json (Is a directory)\$" "$ZG_TMP/w4.log")" -ge "$1" ]; }
ok "the watcher says it cannot write its status file, every round (3 rounds)" zg_wait 30 nowrite_n 3
ok "it is still running" zg_alive "$wpid"
ok "it still writes the key state" zg_wait 30 test -s "$ZG_TMP/kasp4/test/keys.json"
is "$(cat "$ZG_TMP/kasp4/test/token" 2>/dev/null)" 13 "under its token"
ok "no status file is left" test ! -e "$ZG_TMP/w4.json"
ks_from "$ZG_TMP/w4.json"
zgs --keystate "$KS" test
is "$zgs_rc:$(echo "$zgs_out" | head -n 1)" "3:[test.] status: UNKNOWN (key-state watcher: $KS/keystate-test.json: No such file or directory)" \
	"zg-status --keystate: no status file is UNKNOWN, naming the file"
zg_stop_pid "$wpid"
is "$(tail -n 2 "$ZG_TMP/w4.log" | sed 's/^zg-signer-knot: \[test\.\] //' | tr '\n' '|')" \
	"key-state watcher: stopped|key-state watcher: cannot write its status file $ZG_TMP/w4.json (Is a directory)|" \
	"stopped: the last status is not written either, and it says so"

# The active command below the published token: no takeover.
out=$(ZG_SIGNER_TOKEN=9 "$KN" -c "$S/knot.conf" -z test. -b "$B" -t 20 active 2>&1); rc=$?
is "$rc" 1 "the active command with token 9 below the published 10: exit 1"
like "$out" "the key state in $B/test is from token 10, above this signer's token 9: a newer active exists, not taking over" \
	"it names both tokens"
is "$(zg_knotc "$S" zone-status test. 2>/dev/null | grep -c 'freeze: yes')" 0 "the zone is not left frozen"

# A healthy watcher (token 12, above the published 10) writes the key
# state that the rollover changed; its status file says so; the standby
# command below stops it, and its file then says off.
ZG_SIGNER_TOKEN=12 "$KN" -c "$S/knot.conf" -z test. -b "$B" -w 1 -W "$ZG_TMP/w.pid" -t 20 watch 2>"$ZG_TMP/w3.log" &
wpid=$!
zg_track_pid "$wpid"
echo "$wpid" >"$ZG_TMP/w.pid"
ks_from "$ZG_TMP/w.json"
ok "the healthy watcher writes the key state once" zg_wait 30 grep -q '"writes": 1,.*"published_token": 12' "$ZG_TMP/w.json"
zgs --keystate "$KS" test
is "$zgs_rc" 0 "zg-status --keystate: a healthy watcher is OK"
like "$zgs_out" "key-state: watcher running \(pid $wpid, every 1s, updated [0-9]+s ago\) \| writes: 1 \| errors: 0 \| errors-in-a-row: 0 \| last-write: [0-9]+s ago \| published: [0-9]+s ago \| published-token: 12" \
	"zg-status: running, one write, the published token"
zgs --keystate "$KS" --time $(( $(date +%s) + 120 )) test
like "$zgs_rc:$zgs_out" "^1:\[test\.\] status: WARNING \(key-state watcher \(pid $wpid\) silent for 2m[0-9]*s?, over 42s: a key event may not reach the key state\)" \
	"zg-status: a watcher silent for two rounds is a WARNING"

# The standby command: masters on one address are named.
st() { "$KN" -c "$S/knot.conf" -z test. -m "$1" -P "$ZG_TMP/i.pid" -W "$ZG_TMP/w.pid" -t 20 standby 2>&1; }
out=$(st "peer2 primary"); rc=$?
is "$rc" 0 "standby with masters on two addresses: done"
ok "the standby command stopped the watcher" zg_wait 15 eval "! zg_alive $wpid"
ok "its status file says off" grep -q '"state": "off"' "$ZG_TMP/w.json"
zgs --keystate "$KS" test
is "$zgs_rc" 0 "zg-status: the standby's watcher is no finding"
like "$zgs_out" "key-state: watcher off \(pid $wpid," "zg-status: the standby's watcher is off"
unlike "$out" "warning" "no warning for masters on two addresses"
out=$(st "peer primary"); rc=$?
is "$rc" 0 "standby with two masters on 127.0.0.1: done (a warning only)"
like "$out" "warning: master primary shares the address 127\.0\.0\.1 with another master: Knot 3\.4 and later may take one's NOTIFY for the other's, and the standby then lags the active" \
	"the warning names the master and the address"
is "$(zg_knotc "$S" conf-read 'zone[test.].dnssec-signing' | sed -n 's/^[^=]*= *//p')" off "signing is off"
zg_done
