#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The README's demo pipeline (scripts/demo-run.sh, a smaller zone), step by
# step with the commands it prints: the signer, the hidden primary and the
# public secondary come up with the secondary serving the validated serial;
# a registry message reaches the secondary signed; a corrupted serial
# published upstream is held at the gate (the secondary keeps its serial,
# the alarm runs, the status says why); recover rolls forward with a new
# serial; `zg-demo stop` stops every knotd. Each step is checked from outside
# (SOA and DS queries, the alarm's log, the logs), not from the demo's words.
. "$ZG_SRCDIR/tests/func/lib.sh"
zg_init

command -v softhsm2-util >/dev/null || zg_skip_all "softhsm2-util not installed"
command -v kdig >/dev/null || zg_skip_all "kdig not installed"
# The status is zg-status's when there is one (ZG_STATUS, or built in the
# tree: scripts/demo-ctl.sh), else what the servers expose.
zgs=
[ -n "${ZG_STATUS:-}" ] || [ -x "$ZG_BUILDDIR/tools/zg-status" ] && zgs=1
port=$(zg_free_port)
out=$ZG_TMP/demo.out
bash "$ZG_SRCDIR/scripts/demo-run.sh" --port "$port" --delegations 500 >"$out" 2>&1 &
demo=$!
zg_track_pid "$demo"
ok "the demo is up within 300 s" zg_wait 300 grep -q 'Press Ctrl-C' "$out"
text=$(cat "$out")
[ -n "${ZG_VERBOSE:-}" ] && zg_diag "$text"

# --- 1. The pipeline is up.
re='signer 127\.0\.0\.1@([0-9]+) -> hidden primary 127\.0\.0\.2@([0-9]+) -> public secondary 127\.0\.0\.3@([0-9]+)'
if [[ $text =~ $re ]]; then
	P1=${BASH_REMATCH[1]} P2=${BASH_REMATCH[2]} P3=${BASH_REMATCH[3]}
	pass "the demo names the three servers"
else
	zg_diag "$text"
	zg_bail "the demo does not name its servers"
fi
is "$P3" "$port" "the public secondary listens on --port"
ctl=$(grep -oE '/[^ ]*/zg-demo message newdomain' "$out" | head -n 1)
ctl=${ctl% message newdomain}
ok "the demo prints its commands ($ctl)" test -x "$ctl"
DEMO=$(dirname "$ctl")
serial_at() { # N PORT: the serial 127.0.0.N@PORT serves
	kdig @127.0.0.$1 -p "$2" example. SOA +short +time=2 +retry=0 2>/dev/null | awk '{print $3}'
}
# status_shows TEXT GATE-SERIAL VERDICT LAST-VALID SECONDARY-SERIAL: the
# status printed says so (zg-status's lines, or the servers' own).
status_shows() {
	if [ -n "$zgs" ]; then
		like "$1" "^\\[example\\.\\] gate: serial: $2 \\| verdict: $3 \\| last-validated: $4 " \
			"status: the gate has serial $2, $3, last validated $4 (zg-status)"
		like "$1" "^\\[example\\.\\] secondary 127\\.0\\.0\\.3@$P3: serial: $5" \
			"status: the secondary has serial $5 (zg-status)"
	else
		like "$1" "^hidden primary 127\\.0\\.0\\.2@$P2 \\(mod-validate\\): serial $2\$" \
			"status: the hidden primary has serial $2"
		like "$1" "^  last-validated-serial +$4\$" "status: last validated $4"
		like "$1" "^public secondary 127\\.0\\.0\\.3@$P3: serial $5 " "status: the secondary has serial $5"
	fi
}
s0=$(serial_at 3 "$P3")
ok "the secondary serves a serial ($s0)" test -n "$s0"
is "$(serial_at 1 "$P1")" "$s0" "the signer's serial"
like "$(kdig @127.0.0.3 -p "$P3" example. SOA +dnssec +norec 2>&1)" "RRSIG[[:space:]]+SOA 13 " \
	"signed SOA answer at the secondary (ECDSA P-256)"
like "$(kdig @127.0.0.3 -p "$P3" nonexistent.example. A +dnssec +norec 2>&1)" "NSEC3" \
	"NXDOMAIN proven with NSEC3"
like "$(cat "$DEMO/distribution/knotd.log")" "mod-validate[^']*', serial $s0, validated" \
	"the hidden primary validated serial $s0"
status_shows "$text" "$s0" valid "$s0" "$s0"
like "$text" "^  serial $s0, validated \\(" "status: the last verdict"
like "$text" "kdig @127\\.0\\.0\\.3 -p $P3 example\\. SOA" "the demo prints how to query it"

# --- 2. A registry message reaches the secondary, signed.
mout=$("$ctl" message t1 2>&1)
is "$?" 0 "zg-demo message t1 exits 0"
[ -n "${ZG_VERBOSE:-}" ] && zg_diag "$mout"
ans=$(kdig @127.0.0.3 -p "$P3" t1.example. DS +dnssec +norec +time=2 2>&1)
like "$ans" "t1\\.example\\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+DS[[:space:]]+12345 13 2" \
	"the secondary serves the message's DS"
like "$ans" "IN[[:space:]]+RRSIG[[:space:]]+DS 13 " "signed"
s1=$(serial_at 3 "$P3")
ok "at a new serial ($s0 -> $s1)" test "${s1:-0}" -gt "$s0"
is "$(ls "$DEMO/signer/lib/ingest/done" | wc -l)" 1 "the message is in the spool's done/"
like "$(cat "$DEMO/distribution/knotd.log")" "mod-validate[^']*', serial $s1, validated" \
	"the hidden primary validated serial $s1"

# --- 3. A corrupted serial upstream: the gate holds.
cout=$("$ctl" corrupt 2>&1)
is "$?" 0 "zg-demo corrupt exits 0"
[ -n "${ZG_VERBOSE:-}" ] && zg_diag "$cout"
sbad=$(cat "$DEMO/bad.serial" 2>/dev/null)
is "$sbad" "$((s1 + 1))" "the corrupted serial is $((s1 + 1))"
is "$(serial_at 1 "$P1")" "$sbad" "the signer's address serves it"
is "$(serial_at 2 "$P2")" "$sbad" "the hidden primary loaded it"
like "$(cat "$DEMO/distribution/knotd.log")" "mod-validate[^']*', serial $sbad, validation failed" \
	"and failed its validation"
like "$(cat "$DEMO/distribution/knotd.log")" "serial $sbad, [^ ]+\\.example\\. DS: bad signature" \
	"naming the broken DS RRSIG"
like "$(cat "$DEMO/alarm.log" 2>/dev/null)" "example\\. $sbad .*validation errors" \
	"the alarm ran as: alarm ZONE SERIAL REASON"
# The secondary is told to refresh; the gate refuses, it keeps its serial.
# The hidden primary logs refusals at most once per 10 s (an earlier refusal,
# of a serial not validated yet, may hold the line back): ask again every 3 s.
asked=0
refused() {
	if [ $((SECONDS - asked)) -ge 3 ]; then
		asked=$SECONDS
		"$KNOTC" -c "$DEMO/secondary/knot.conf" zone-refresh example. >/dev/null 2>&1
	fi
	grep -Eq "(AXFR|IXFR), outgoing, remote 127\\.0\\.0\\.3@[0-9]+, refused \\(serial $sbad" "$DEMO/distribution/knotd.log"
}
ok "the hidden primary refuses the secondary's transfer of $sbad" zg_wait 30 refused
sleep 2
is "$(serial_at 3 "$P3")" "$s1" "the secondary keeps serial $s1"
sout=$("$ctl" status 2>&1)
is "$?" 0 "zg-demo status exits 0"
[ -n "${ZG_VERBOSE:-}" ] && zg_diag "$sout"
status_shows "$sout" "$sbad" failed "$s1" "$s1"
[ -n "$zgs" ] && like "$sout" "^\\[example\\.\\] status: CRITICAL \\(validation of serial $sbad failed, serial $s1 is the last valid one" \
	"status: CRITICAL, serial $sbad failed (zg-status)"
like "$sout" "^  serial $sbad, validation failed \\(" "status: the last verdict is that serial $sbad failed"
like "$sout" "^    [^ ]+\\.example\\. DS: bad signature" "and why"
like "$sout" "^  [0-9]{2}:[0-9]{2}:[0-9]{2} example\\. $sbad [0-9]+ validation errors" "the alarm's last call"
like "$cout" "the gate holds" "zg-demo corrupt says the gate holds"

# --- 4. Roll forward.
rout=$("$ctl" recover 2>&1)
is "$?" 0 "zg-demo recover exits 0"
[ -n "${ZG_VERBOSE:-}" ] && zg_diag "$rout"
s2=$(serial_at 3 "$P3")
ok "the secondary serves a newer serial ($sbad -> $s2)" test "${s2:-0}" -gt "$sbad"
is "$(serial_at 1 "$P1")" "$s2" "the signer's"
like "$(cat "$DEMO/distribution/knotd.log")" "mod-validate[^']*', serial $s2, validated" \
	"validated by the hidden primary"
name=$(printf '%s\n' "$rout" | grep -oE 'rollforward-[0-9]+' | head -n 1)
like "$(kdig @127.0.0.3 -p "$P3" "$name.example." DS +dnssec +norec +time=2 2>&1)" \
	"IN[[:space:]]+RRSIG[[:space:]]+DS 13 " "the roll-forward message ($name) is served signed"
sout=$("$ctl" status 2>&1)
status_shows "$sout" "$s2" valid "$s2" "$s2"
like "$sout" "^  serial $s2, validated \\(" "status: the last verdict"

# --- 5. Stop: every knotd by its pid.
pids=$(cat "$DEMO/.pids" 2>/dev/null)
ok "zg-demo stop" "$ctl" stop
ok "the demo exits within 60 s" zg_wait 60 eval "! zg_alive $demo"
wait "$demo"
is "$?" 0 "demo exit status 0"
like "$(cat "$out")" "knotd stopped cleanly" "the demo reports a clean stop"
left=
for p in $pids; do zg_alive "$p" && left="$left $p"; done
is "$left" "" "no knotd of the demo is left"
for a in "1 $P1" "2 $P2" "3 $P3"; do
	set -- $a
	ok "nothing answers on 127.0.0.$1@$2 any more" \
		sh -c "! kdig @127.0.0.$1 -p $2 +tcp +timeout=1 +retry=0 example. SOA >/dev/null"
done
ok "the demo removed its directory" test ! -d "$DEMO"
unlike "$(cat "$out")" "Segmentation|Aborted|double free" "no crash"
zg_done
