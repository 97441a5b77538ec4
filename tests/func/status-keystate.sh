#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# zg-status --keystate DIR: the key-state watcher's status file
# (zg-signer-knot watch, DIR/keystate-ZONE.json) read at a fixed --time, each
# state and finding with its exact line and exit code, in text, json, nagios
# and prometheus; a missing, malformed or wrongly typed file is UNKNOWN
# naming the file and the field, never a guess. The files a real watcher
# writes are checked in tests/func/signer-keystate.sh.
. "$ZG_SRCDIR/tests/func/lib.sh"
zg_init
ZG_STATUS=${ZG_STATUS:-$ZG_BUILDDIR/tools/zg-status}
# zgs ARGS: zg-status ARGS at a fixed time (output in out, exit code in rc).
T=1800000000
zgs() { out=$("$ZG_BUILDDIR/libtool" --mode=execute "$ZG_STATUS" --time "$T" "$@" 2>&1); rc=$?; }
KS=$ZG_TMP/ks
mkdir -p "$KS"
# ks STATE UPDATED-AGO WRITES ERRORS IN-A-ROW [LAST-WRITE-AGO]: a status file
# as the watcher writes it (pid 4242, token 7, every 10 s, timeout 30 s,
# published token 7 an hour ago).
ks() {
	local lw=null
	[ -z "${6:-}" ] || lw=$((T - $6))
	printf '{"zone": "test.", "pid": 4242, "state": "%s", "token": 7, "period": 10, "timeout": 30, "started": %s, "updated": %s, "checks": 99, "writes": %s, "errors": %s, "errors_in_a_row": %s, "last_write": %s, "last_error": null, "published_token": 7, "published_at": %s}\n' \
		"$1" $((T - 7200)) $((T - $2)) "$3" "$4" "$5" "$lw" $((T - 3600)) >"$KS/keystate-test.json"
}

ks running 5 3 0 0 3600
zgs --keystate "$KS" test
is "$rc" 0 "a running watcher that reported 5 s ago: OK"
is "$out" "[test.] status: OK
[test.] freshness: -
[test.] key-state: watcher running (pid 4242, every 10s, updated 5s ago) | writes: 3 | errors: 0 | errors-in-a-row: 0 | last-write: 1h ago | published: 1h ago | published-token: 7" \
	"text: the whole report"
zgs --keystate "$KS" TEST.
is "$rc:$(echo "$out" | sed -n 3p)" "0:[test.] key-state: watcher running (pid 4242, every 10s, updated 5s ago) | writes: 3 | errors: 0 | errors-in-a-row: 0 | last-write: 1h ago | published: 1h ago | published-token: 7" \
	"the zone name in any case finds keystate-test.json"

ks running 81 3 0 0 3600
zgs --keystate "$KS" test
is "$rc:$(echo "$out" | head -n 1)" "1:[test.] status: WARNING (key-state watcher (pid 4242) silent for 1m21s, over 1m20s: a key event may not reach the key state)" \
	"silent for more than two rounds (2 x (period + timeout)): WARNING"
ks running 80 3 0 0 3600
zgs --keystate "$KS" test
is "$rc" 0 "silent for exactly two rounds: still OK"

ks running 5 3 2 2 3600
zgs --keystate "$KS" test
is "$rc:$(echo "$out" | head -n 1)" "1:[test.] status: WARNING (key state not written 2 times in a row: a standby taking over now restores an older one)" \
	"two failed writes in a row (the alarm's threshold): WARNING"
ks running 5 3 1 1 3600
zgs --keystate "$KS" test
is "$rc" 0 "one failed write (retried next round): OK"

ks fenced 5 3 1 0 3600
zgs --keystate "$KS" --format nagios test
is "$rc:$out" "1:ZONEGATE STATUS WARNING - test. key-state watcher fenced: a newer active (token 7) wrote the key state, this signer (token 7) must not sign" \
	"fenced: WARNING (nagios)"
ks unreachable 5 3 0 0
zgs --keystate "$KS" test
is "$rc:$(echo "$out" | head -n 1)" "1:[test.] status: WARNING (key-state watcher exited: the signer's knotd did not answer for 30s)" \
	"exited, knotd unreachable: WARNING"
for s in off stopped; do
	ks "$s" 9999 3 0 0
	zgs --keystate "$KS" test
	is "$rc:$(echo "$out" | sed -n 3p)" "0:[test.] key-state: watcher $s (pid 4242, every 10s, updated 2h46m ago) | writes: 3 | errors: 0 | errors-in-a-row: 0 | published: 1h ago | published-token: 7" \
		"$s (a standby's): OK however old"
done

ks running 5 3 0 0 3600
zgs --keystate "$KS" --format json test
is "$rc:$(printf '%s' "$out" | "$PYTHON3" -c '
import json, sys
k = json.load(sys.stdin)["keystate"]
print(k)')" "0:{'file': '$KS/keystate-test.json', 'state': 'running', 'pid': 4242, 'token': 7, 'period_s': 10, 'updated': $((T - 5)), 'checks': 99, 'writes': 3, 'errors': 0, 'errors_in_a_row': 0, 'last_write': $((T - 3600)), 'last_error': None, 'published_token': 7, 'published_at': $((T - 3600))}" \
	"json: the keystate object"
zgs --keystate "$KS" --format prometheus test
is "$rc:$(printf '%s\n' "$out" | grep '^zonegate_keystate')" '0:zonegate_keystate_writes{zone="test."} 3
zonegate_keystate_errors{zone="test."} 0
zonegate_keystate_errors_in_a_row{zone="test."} 0
zonegate_keystate_published_age_seconds{zone="test."} 3600' "prometheus: the four keystate gauges"

# Bad input: UNKNOWN, naming the file and what is wrong.
rm -f "$KS/keystate-test.json"
zgs --keystate "$KS" test
is "$rc:$(echo "$out" | head -n 1)" "3:[test.] status: UNKNOWN (key-state watcher: $KS/keystate-test.json: No such file or directory)" \
	"no status file: UNKNOWN naming it"
printf '{"state": "running", "pid": 1' >"$KS/keystate-test.json"
zgs --keystate "$KS" test
like "$rc:$(echo "$out" | sed -n 3p)" "^3:\\[test\\.\\] key-state: error: $KS/keystate-test\\.json: line 1: ." \
	"a truncated file: UNKNOWN, the parser's line and reason"
ks running 5 3 0 0 3600
sed -i 's/"writes": 3/"writes": "3"/' "$KS/keystate-test.json"
zgs --keystate "$KS" test
is "$rc:$(echo "$out" | head -n 1)" "3:[test.] status: UNKNOWN (key-state watcher: $KS/keystate-test.json: \"writes\" is not a count or time)" \
	"a field of the wrong type: UNKNOWN naming the field"
ks running 5 3 0 0 3600
sed -i 's/"state": "running", //' "$KS/keystate-test.json"
zgs --keystate "$KS" test
is "$rc:$(echo "$out" | head -n 1)" "3:[test.] status: UNKNOWN (key-state watcher: $KS/keystate-test.json: no \"state\")" \
	"no state: UNKNOWN"
ks sleeping 5 3 0 0 3600
zgs --keystate "$KS" test
is "$rc:$(echo "$out" | head -n 1)" "3:[test.] status: UNKNOWN (key-state watcher: $KS/keystate-test.json: \"state\" is none of running, stopped, off, fenced, unreachable)" \
	"a state of no known name: UNKNOWN"
echo '[1, 2]' >"$KS/keystate-test.json"
zgs --keystate "$KS" test
is "$rc:$(echo "$out" | head -n 1)" "3:[test.] status: UNKNOWN (key-state watcher: $KS/keystate-test.json: no \"state\")" \
	"a JSON array: UNKNOWN"
zgs test
is "$rc:$out" "3:zg-status: nothing to read: give --queue, --signer-ctl, --gate-ctl, --secondary or --keystate" \
	"no source at all: the message names --keystate"
zg_done
