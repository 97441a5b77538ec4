#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The signer lease (lib/signer/lease.h, PostgreSQL store) and the role
# controller zg-signer, against a real PostgreSQL cluster: take, renew and
# release with a token that only grows, no renewal of an expired lease, the
# queue's own lease row untouched; bad input refused. Then two controllers
# of one zone, whose active/standby commands record each role change: they
# start at once (one active), kill -9 of the active (the other takes over
# with the next token, alarm and counters), switchover, SIGTERM, SIGSTOP past
# the lease then SIGCONT (the paused one steps down at once, without taking
# the lease back), PostgreSQL stopped past the lease (the active fences
# itself; after the restart one signer is active again), PostgreSQL hung
# (the watchdog steps the active down by the deadline), an active command
# that fails (standby again, lease released). At no moment are
# two signers active (tests/func/signer-roles.py over the recorded events).
. "$ZG_SRCDIR/tests/func/lib.sh"
zg_init
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || zg_skip_all "postgresql server not installed"

SIGNER=$ZG_BUILDDIR/tools/zg-signer
ok "PostgreSQL cluster starts" zg_pg_start "$ZG_TMP/pg"
db=$ZG_PG_URI
sg() { "$SIGNER" -d "$db" -z test. "$@"; }
dt() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }  # T0 T1: seconds between
within() { awk -v a="$1" -v b="$2" -v l="$3" 'BEGIN { exit !(b - a < l) }'; }  # T0 T1 LIMIT

# ---- The lease, step by step (10 s, shortened to 1 s to see it expire) ----
out=$(sg status 2>&1); rc=$?
is "$rc:$out" "1:test. no lease" "status of a zone never leased: free (exit 1)"
is "$(sg -n a -l 10 take 2>&1)" 1 "signer a takes the lease: token 1"
out=$(sg -n b -l 10 take 2>&1); rc=$?
is "$rc" 1 "signer b cannot take a held lease (exit 1)"
like "$out" "held by another signer" "and says so"
is "$(sg -n a -l 10 take 2>&1)" 1 "a takes its own unexpired lease again: same token"
is "$(sg -n a -l 10 -t 1 renew 2>&1)" 1 "a renews with token 1"
sg -n b -l 10 -t 1 renew >/dev/null 2>&1
is "$?" 1 "b cannot renew a's lease"
sg -n a -l 10 -t 2 renew >/dev/null 2>&1
is "$?" 1 "a cannot renew with a token it does not hold"
like "$(sg status)" "^test\. a token 1 expires in [0-9]+ ms$" "status names holder, token and expiry"
like "$(sg --format json status)" '"held": true, "holder": "a", "token": 1' "status as JSON"
out=$(sg --format nagios status); rc=$?
like "$rc:$out" "^0:ZONEGATE OK - signer lease of test\. held by a \(token 1\)" "status for Nagios: OK while held"
is "$(sg -n a -l 1 -t 1 renew 2>&1)" 1 "a renews for 1 s only"
ok "the lease expires after its period" zg_wait 10 eval "! sg status"
out=$(sg --format nagios status); rc=$?
like "$rc:$out" "^2:ZONEGATE CRITICAL - signer lease of test\. free, last holder a" "Nagios: CRITICAL once free"
sg -n a -l 1 -t 1 renew >/dev/null 2>&1
is "$?" 1 "an expired lease is never renewed, not even by its holder"
is "$(sg -n b -l 10 take 2>&1)" 2 "b takes the expired lease: token 2"
is "$(sg -n b -l 1 -t 2 release 2>&1)" 2 "b releases it"
is "$(sg -n a -l 30 take 2>&1)" 3 "a takes the released lease at once: token 3"
sg -n a -l 1 -t 3 release >/dev/null
is "$(sg -n a -l 10 take 2>&1)" 4 "a new take by the same holder after its release: token 4"
sg -n a -l 1 -t 4 release >/dev/null
is "$(psql -XAtc "select zone from zonegate_lease order by zone" | tr '\n' ' ')" "signer:test " \
	"the lease is row signer:ZONE of zonegate_lease (the queue's row is ZONE)"
is "$("$SIGNER" -d "$db" -z TEST -n a -l 10 take)" 5 "zone names are case-insensitive, final dot optional"
sg -n a -l 1 -t 5 release >/dev/null

# Bad input: exit 2 and a reason, nothing taken.
bad() { # WANT-REGEX ARGS...
	local want=$1; shift
	out=$("$SIGNER" "$@" 2>&1); rc=$?
	like "$rc:$out" "^2:.*$want" "refused: $*"
}
bad "bad --lease" -d "$db" -z test -n a -l 0 take
bad "bad --lease" -d "$db" -z test -n a -l 2x take
bad "needs --token" -d "$db" -z test -n a renew
bad "bad --token" -d "$db" -z test -n a -t -1 release
bad "unknown command" -d "$db" -z test -n a grab
bad "--db and --zone are required" -z test status
bad "lease store 'etcd' not supported" -d etcd://127.0.0.1:2379 -z test status
bad "bad --name" -d "$db" -z test -n 'a"b' take
bad "bad --format" -d "$db" -z test --format xml status
bad "--alarm needs an absolute path" -d "$db" -z test --alarm page run
bad "switchover needs --state" -d "$db" -z test switchover
like "$(sg status)" "^test\. a token 5 expired [0-9]+ ms$" "the refusals took nothing"

# ---- Two controllers (lease 2 s) ----
ev=$ZG_TMP/events
alarms=$ZG_TMP/alarms
cat >"$ZG_TMP/page" <<EOF2
#!/bin/sh
echo "\$*" >>"$alarms"
EOF2
chmod +x "$ZG_TMP/page"
hook() { # ROLE: the command run for ROLE, recording the event
	echo "echo \"\$(date +%s.%N) \$ZG_SIGNER_NAME $1 \$ZG_SIGNER_TOKEN\" >>$ev"
}
start() { # NAME
	"$SIGNER" -d "$db" -z test. -n "$1" -l 2 --state "$ZG_TMP/state.$1" --alarm "$ZG_TMP/page" \
		--on-active "$(hook active)" --on-standby "$(hook standby)" run \
		2>>"$ZG_TMP/log.$1" &
	eval "pid_$1=$!"
	zg_track_pid "$!"
}
mark() { echo "$(date +%s.%N) $1 $2" >>"$ev"; }
role() { sed -n 's/.*"role": "\([a-z]*\)".*/\1/p' "$ZG_TMP/state.$1" 2>/dev/null; }
field() { sed -n "s/.*\"$2\": \([0-9-]*\).*/\1/p" "$ZG_TMP/state.$1" 2>/dev/null; }
active_one() { # prints the name of the one active signer, fails if none or two
	local n=0 who=
	for s in a b; do
		[ "$(role $s)" = active ] && { n=$((n + 1)); who=$s; }
	done
	[ "$n" -eq 1 ] && echo "$who"
}
is_active() { [ "$(role "$1")" = active ]; }
start a
start b
ok "both controllers start at once: one becomes active" zg_wait 15 active_one
first=$(active_one)
other=$([ "$first" = a ] && echo b || echo a)
ok "the other one stays standby" zg_wait 5 eval "[ \"\$(role $other)\" = standby ]"
tok1=$(field "$first" token)
is "$(sg status | awk '{print $2}')" "$first" "the lease names the active one"

# kill -9 of the active: the standby takes over with the next token.
eval "victim=\$pid_$first"
t0=$(date +%s.%N)
kill -KILL "$victim"
mark "$first" dead
ok "kill -9 of the active ($first): $other becomes active" zg_wait 15 is_active "$other"
t1=$(date +%s.%N)
ok "the takeover came within the lease and two ticks ($(dt "$t0" "$t1") s)" \
	within "$t0" "$t1" 3.5
tok2=$(field "$other" token)
ok "its token ($tok2) is above the dead one's ($tok1)" test "$tok2" -gt "$tok1"
is "$(field "$other" failovers)" 1 "failovers counter 1"
ok "last takeover time recorded" test "$(field "$other" last_takeover)" -ge "${t0%.*}"
ok "the alarm ran for the takeover" zg_wait 5 grep -q "^test\. $tok2 takeover$" "$alarms"
like "$(cat "$ZG_TMP/log.$other")" "role active \(token $tok2, previous holder $first\)" "log line of the takeover"
start "$first"
ok "the restarted one ($first) comes back as standby" zg_wait 10 eval "[ \"\$(role $first)\" = standby ]"

# Switchover: the active steps down first, then the other takes the lease.
t0=$(date +%s.%N)
out=$(sg --state "$ZG_TMP/state.$other" --timeout 20 switchover 2>&1); rc=$?
t1=$(date +%s.%N)
# The command returns when the store names the new holder; the controller's
# state file follows within a tick.
tok3=${out##* }
is "$rc:$out" "0:$first $tok3" "switchover: $first now holds the lease"
ok "$first's state file reports token $tok3 and role active" zg_wait 5 eval \
	"[ \"\$(field $first token)\" = \"$tok3\" ] && [ \"\$(role $first)\" = active ]"
ok "the new token ($tok3) is above $other's ($tok2)" test "${tok3:-0}" -gt "$tok2"
ok "switchover took under 5 s ($(dt "$t0" "$t1") s)" within "$t0" "$t1" 5
ok "$other is standby after the switchover" zg_wait 5 eval "[ \"\$(role $other)\" = standby ]"
like "$(cat "$ZG_TMP/log.$other")" "role standby \(token $tok2, switchover\)" "log line of the step-down"
out=$(sg --state "$ZG_TMP/state.$other" --timeout 2 switchover 2>&1); rc=$?
like "$rc:$out" "^1:.*is not active" "switchover of a standby controller is refused"

# SIGSTOP of the active past its lease, then SIGCONT.
eval "paused=\$pid_$first"
kill -STOP "$paused"
mark "$first" paused
ok "SIGSTOP of the active ($first): $other takes over" zg_wait 15 is_active "$other"
tok4=$(field "$other" token)
sleep 1
t0=$(date +%s.%N)
kill -CONT "$paused"
mark "$first" resumed
ok "after SIGCONT $first steps down" zg_wait 5 eval "[ \"\$(role $first)\" = standby ]"
t1=$(tail -n 20 "$ev" | awk -v n="$first" '$2 == n && $3 == "standby" {t = $1} END {print t}')
ok "within a quarter lease of SIGCONT ($(dt "$t0" "$t1") s)" within "$t0" "$t1" 0.5
like "$(cat "$ZG_TMP/log.$first")" "(lease lost|lease not renewed in time, stepping down) \(token $tok3[,)]" \
	"it says it lost the lease"
sleep 1
is "$(sg status | awk '{print $2 " " $4}')" "$other $tok4" "the lease stayed with $other (token $tok4)"

# PostgreSQL stopped past the lease: the active fences itself.
ok "PostgreSQL stops" zg_pg_stop "$ZG_TMP/pg"
ok "the active ($other) steps down without its database" zg_wait 10 eval "[ \"\$(role $other)\" = standby ]"
like "$(cat "$ZG_TMP/log.$other")" "lease not renewed in time, stepping down \(token $tok4[,)]" "self-fencing log line"
out=$(sg status 2>&1); rc=$?
is "$rc" 3 "status: the store is unreachable (exit 3)"
sleep 2
ok "no signer active while the database is down" eval "[ \"\$(role a)\" = standby ] && [ \"\$(role b)\" = standby ]"
ok "PostgreSQL starts again" $ZG_PG_ASUSER "$ZG_PG_BINDIR/pg_ctl" -D "$ZG_TMP/pg/data" -l "$ZG_TMP/pg/pg.log" \
	-w -t 30 -o "-k $ZG_TMP/pg -c listen_addresses='' -p $PGPORT -c fsync=off" start
ok "one signer is active again" zg_wait 20 active_one
now=$(active_one)
ok "with a higher token" test "$(field "$now" token)" -gt "$tok4"

# SIGTERM of the active: it steps down and releases, the other takes at once.
eval "victim=\$pid_$now"
later=$([ "$now" = a ] && echo b || echo a)
t0=$(date +%s.%N)
ok "SIGTERM: the active controller ($now) stops" zg_stop_pid "$victim" 10
ok "$later becomes active" zg_wait 10 is_active "$later"
t1=$(date +%s.%N)
ok "before the lease could expire ($(dt "$t0" "$t1") s)" within "$t0" "$t1" 2
is "$(tail -n 1 "$ZG_TMP/log.$now")" "zg-signer: [test.] stopped" "the stopped one logged it"

# PostgreSQL hangs (all its processes stopped): the active's renewal blocks,
# and the watchdog steps it down by the deadline all the same.
pm=$(head -n 1 "$ZG_TMP/pg/data/postmaster.pid")
pgpids="$pm $(ps -o pid= --ppid "$pm" | tr '\n' ' ')"
standby_events() { awk -v n="$1" '$2 == n && $3 == "standby"' "$ev" | wc -l; }
before=$(standby_events "$later")
kill -STOP $pgpids
zg_on_exit "kill -CONT $pgpids"
t0=$(date +%s.%N)
ok "PostgreSQL hangs: the active ($later) steps down without an answer" \
	zg_wait 10 eval "[ \$(standby_events $later) -gt $before ]"
t1=$(awk -v n="$later" '$2 == n && $3 == "standby" {t = $1} END {print t}' "$ev")
ok "by the lease period ($(dt "$t0" "$t1") s)" within "$t0" "$t1" 2
like "$(cat "$ZG_TMP/log.$later")" "stepping down \(token [0-9]+, the lease store does not answer\)" \
	"the watchdog's log line"
kill -CONT $pgpids
ok "after PostgreSQL answers again, a signer is active again" zg_wait 20 is_active "$later"
ok "the step-down is counted (fenced)" test "$(field "$later" fenced)" -ge 1

# An active command that fails: fail closed (standby, lease released, the
# other signer takes it).
"$SIGNER" -d "$db" -z fail. -n x -l 2 --state "$ZG_TMP/state.x" --on-active "exit 3" \
	--on-standby true run 2>>"$ZG_TMP/log.x" &
zg_track_pid "$!"
ok "a failing active command is reported" zg_wait 15 grep -q "active command failed (exit 3)" "$ZG_TMP/log.x"
ok "that controller stays standby" zg_wait 5 grep -q "role standby (token 1, the active command failed)" "$ZG_TMP/log.x"
ok "and released the lease" zg_wait 5 eval "! \"$SIGNER\" -d \"$db\" -z fail. status"
"$SIGNER" -d "$db" -z fail. -n y -l 2 --state "$ZG_TMP/state.y" --on-active true --on-standby true \
	run 2>>"$ZG_TMP/log.y" &
zg_track_pid "$!"
ok "the other controller takes the zone" zg_wait 10 eval "[ \"\$(role y)\" = active ]"
is "$(field y token)" 2 "with the next token"

out=$("$PYTHON3" "$ZG_SRCDIR/tests/func/signer-roles.py" "$ev" 2>&1); rc=$?
is "$rc:$out" "0:$(printf '%s\n' "$out" | grep '^#' || true)" "at no moment were two signers active"
# The check can fail: two active events without a step-down between.
printf '1.0 a active 1\n2.0 b active 2\n' >"$ZG_TMP/bad-events"
"$PYTHON3" "$ZG_SRCDIR/tests/func/signer-roles.py" "$ZG_TMP/bad-events" >/dev/null 2>&1
is "$?" 1 "the check fails for two active signers"
zg_diag "events: $(wc -l <"$ev")"
zg_done
