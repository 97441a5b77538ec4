#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Benchmark (issue 17): the time without publication across a failover
# (kill -9 of the active signer) and across a switchover (zg-signer
# switchover), on a big zone under steady ingest from the PostgreSQL queue.
#
# The topology is the one of tests/func/signer-pair.sh, built by
# tests/func/signer-pair-lib.sh (doc/redundant-signers.md): PostgreSQL
# (queue + lease), one SoftHSM token, signer knotds a on 127.0.0.1 and b on 127.0.0.2,
# each with its zg-signer controller running tools/zg-signer-knot as active
# and standby command (zg-ingest consuming the queue on the active only), the
# hidden primary p (mod-validate) following both, the secondary s.
#
# A feeder puts one message into the queue every FEED s for the whole run.
# A poller asks the SOA serial of a, b and s every 20 ms (UDP) and records
# every change. Then CRASHES failovers and SWITCHES switchovers, alternating
# (each swaps the active): a crash is kill -9 of the active's knotd,
# controller and queue consumer (then they are started again and the signer
# comes back as standby); a switchover is `zg-signer switchover`.
#
# Time without publication of one event, at the secondary s: from the moment
# s received the last serial of the old active to the moment it received the
# first serial of the new active. The poller tells versions apart by serial
# and SOA signature (a crashed active's unpublished serial and the new
# active's serial of the same number differ); a version belongs to the new
# active when it first appeared at the new signer after its takeover (its
# controller's "active" role event, signer-pair-lib.sh's SP_EV). Also
# printed per event: when the last serial of the old active reached s, the
# takeover, the new active's first serial at itself and at s; the lease
# period, and for crashes the time from the kill to the takeover.
#
# At the end: signer-pair-lib.sh's sp_check (at most one signer active at any
# moment, every new serial from the active signer, every queued message
# applied exactly once, the final zone equals the expected one, the serials
# s received after each event and at the end validate with zg-verify, s's
# serials only grew, the DNSKEY RRset did not change), and the DNSKEY RRset
# at s after every event.
#
#   ZG_BENCH_FAILOVER_ZONE=200000   delegations (bench/genzone.py)
#   ZG_BENCH_FAILOVER_CRASHES=10    failovers (kill -9)
#   ZG_BENCH_FAILOVER_SWITCHES=10   switchovers
#   ZG_BENCH_FAILOVER_LEASE=10      lease period (s) of zg-signer
#   ZG_BENCH_FAILOVER_HOOK_T=120    zg-signer-knot -t; zg-signer --timeout is twice it
#   ZG_BENCH_FAILOVER_THREADS=nproc Knot's signing-threads of the signers (the
#                                   load that turns signing on checks every
#                                   signature of the zone, in that many threads)
#   ZG_BENCH_FAILOVER_FEED=0.5      seconds between two queued messages
#   ZG_BENCH_FAILOVER_STEADY=5      seconds of steady ingest before each event
#   ZG_BENCH_FAILOVER_OUT=bench/out/failover   records, the summary and the logs
#   ZG_BENCH_LOCK=/tmp/zg-bench.lock           taken for the whole run (waits
#                                              at most ZG_BENCH_LOCK_WAIT=3600 s)
#
# Targets: crash p99 < 30 s (lease included), switchover p99 < 5 s, nothing
# lost. Exit 1 when a check failed or the run stopped early (a missed time
# target is printed as MISS, exit 0).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
ZONE_N=${ZG_BENCH_FAILOVER_ZONE:-200000}
CRASHES=${ZG_BENCH_FAILOVER_CRASHES:-10}
SWITCHES=${ZG_BENCH_FAILOVER_SWITCHES:-10}
FEED=${ZG_BENCH_FAILOVER_FEED:-0.5}
STEADY=${ZG_BENCH_FAILOVER_STEADY:-5}
OUT=${ZG_BENCH_FAILOVER_OUT:-$top_srcdir/bench/out/failover}
LOCK=${ZG_BENCH_LOCK:-/tmp/zg-bench.lock}
export ZG_SRCDIR=$top_srcdir ZG_BUILDDIR=$top_builddir
export SP_LEASE=${ZG_BENCH_FAILOVER_LEASE:-10}
export ZG_SIGNING_THREADS=${ZG_BENCH_FAILOVER_THREADS:-$(nproc)}
# zg-signer-knot -t (each wait in the hooks; the controller allows the active
# command twice that): 30 s in the tests; Knot 3.2 on a loaded machine takes
# longer than 60 s to make a standby of 200,000 delegations active.
export SP_HOOK_T=${ZG_BENCH_FAILOVER_HOOK_T:-120}
# The setup's waits: signing and transferring the big zone take minutes.
export SP_WAIT=${SP_WAIT:-1800}
log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "$*"; exit 1; }
for v in "$ZONE_N" "$CRASHES" "$SWITCHES" "$SP_LEASE" "$STEADY" "$SP_HOOK_T"; do
	case $v in '' | *[!0-9]*) die "failover.sh: '$v' is not a number (ZG_BENCH_FAILOVER_*)" ;; esac
done

exec 9>>"$LOCK" || die "cannot open $LOCK"
log "waiting for $LOCK"
flock -w "${ZG_BENCH_LOCK_WAIT:-3600}" 9 || die "$LOCK stays taken (another benchmark runs)"
. "$top_srcdir/tests/func/lib.sh"
. "$top_srcdir/tests/func/ingest-lib.sh"
. "$top_srcdir/tests/func/validate-lib.sh"
zg_init
zg_snapshot_modules
. "$top_srcdir/tests/func/signer-pair-lib.sh"
command -v kdig >/dev/null || die "kdig not installed"
mkdir -p "$OUT" || die "cannot make $OUT"

t0=$SECONDS
log "zone of $ZONE_N delegations: setting up the pair (lease $SP_LEASE s)"
sp_setup "$ZONE_N"
log "topology up after $((SECONDS - t0)) s: secondary serves serial $(serial_of "${SP_PORT[s]}")"
# axfr_whole FILE: the zone from s by AXFR, as zg_axfr writes it, only when
# the transfer is whole (ends with the SOA; kdig's default 2 s idle timeout
# cuts a 200,000-delegation transfer short on a loaded machine).
axfr_whole() {
	kdig @127.0.0.1 -p "${SP_PORT[s]}" test. AXFR +time=60 +retry=0 +nocomments +nostats +noheader 2>/dev/null \
		>"$1.raw" || return 1
	[ "$(awk '!/^;/ && $4 == "SOA"' "$1.raw" | wc -l)" -ge 2 ] || return 1
	awk '!/^;/ && NF && !seen[$0]++' "$1.raw" >"$1" && rm -f "$1.raw"
}
axfr_whole "$ZG_TMP/base.zone" || die "no whole AXFR of the zone from s"
SP_DNSKEY=$(awk '$4 == "DNSKEY"' "$ZG_TMP/base.zone" | sp_content_keys)
[ -n "$SP_DNSKEY" ] || die "the published zone has no DNSKEY RRset"
: >"$ZG_TMP/expected.add"
dnskey_at_s() { kdig @127.0.0.1 -p "${SP_PORT[s]}" test. DNSKEY +norec +time=5 +retry=1 +noall +answer 2>/dev/null |
	awk '$4 == "DNSKEY"' | sp_content_keys; }

# ---- the poller: every change of the serial at a, b and s (SP_MON) ----------
cat >"$ZG_TMP/poll.py" <<'PY'
# poll.py STOPFILE OUT VERSIONS NAME=ADDR@PORT...: the SOA of test. at
# ADDR@PORT with its RRSIG (DO bit), asked every 20 ms over UDP. OUT gets
# "TIME NAME SERIAL" at every change of the serial, VERSIONS "TIME NAME
# SERIAL SIG" at every change of the signed SOA (SIG: the end of its RRSIG;
# ECDSA signatures differ at every signing, so two signers' versions of one
# serial differ, and a version transferred by IXFR keeps its SIG).
import os, socket, struct, sys, time
stop, out, vout = sys.argv[1], sys.argv[2], sys.argv[3]
hosts = [(a.split("=")[0], (a.split("=")[1].split("@")[0], int(a.split("@")[1]))) for a in sys.argv[4:]]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.1)
last, lastv, qid = {}, {}, 0
f = open(out, "a", buffering=1)
fv = open(vout, "a", buffering=1)
def skip(r, i):
    while r[i] and not r[i] & 0xc0:
        i += r[i] + 1
    return i + (2 if r[i] & 0xc0 else 1)
def soa(r):
    i = skip(r, 12) + 4
    ser = sig = None
    for _ in range(struct.unpack("!H", r[6:8])[0]):
        i = skip(r, i)
        typ, _, _, rdlen = struct.unpack("!HHIH", r[i:i + 10])
        i += 10
        if typ == 6:
            j = skip(r, skip(r, i))
            ser = struct.unpack("!I", r[j:j + 4])[0]
        elif typ == 46:
            sig = r[i + rdlen - 8:i + rdlen].hex()
        i += rdlen
    return ser, sig
while not os.path.exists(stop):
    for name, a in hosts:
        qid = (qid + 1) & 0xffff
        q = struct.pack("!HHHHHH", qid, 0, 1, 0, 0, 1) + b"\x04test\x00" + struct.pack("!HH", 6, 1) \
            + b"\x00" + struct.pack("!HHIH", 41, 1232, 0x8000, 0)
        try:
            s.sendto(q, a)
            while True:
                r = s.recv(4096)
                if r[:2] == q[:2]:
                    break
            ser, sig = soa(r)
        except (OSError, IndexError, struct.error):
            continue
        if ser is None:
            continue
        t = time.time()
        if last.get(name) != ser:
            last[name] = ser
            f.write(f"{t:.6f} {name} {ser}\n")
        if lastv.get(name) != (ser, sig):
            lastv[name] = (ser, sig)
            fv.write(f"{t:.6f} {name} {ser} {sig}\n")
    time.sleep(0.02)
PY
rm -f "$ZG_TMP/monitor.stop"
( exec "$PYTHON3" "$ZG_TMP/poll.py" "$ZG_TMP/monitor.stop" "$SP_MON" "$ZG_TMP/versions" \
	a="${SP_ADDR[a]}@${SP_PORT[a]}" b="${SP_ADDR[b]}@${SP_PORT[b]}" s="${SP_ADDR[s]}@${SP_PORT[s]}" ) &
SP_MONPID=$!
zg_track_pid "$SP_MONPID"

# zg-ingest creates the queue tables on its first run; make them now.
zg_ingest run --once --consumer setup --source "$ZG_PG_URI" -z test. -s "127.0.0.1@${SP_PORT[a]}" \
	-y "hmac-sha256:ingest:$SP_SECRET" --lease 1 >/dev/null 2>&1
sp_q "SELECT 1 FROM zonegate_queue LIMIT 1" >/dev/null || die "no queue table"

# ---- the controllers, the feeder -------------------------------------------
sp_ctl_start a
sp_ctl_start b
zg_wait 600 sp_active || die "no signer became active ($(tail -n 5 "$ZG_TMP/hooks.log" | tr '\n' ' '))"
log "controllers up: $(sp_active) is active"
# One message every FEED s until feed.stop (bounded: at most 2 hours).
(
	end=$((SECONDS + 7200)) i=0
	while [ ! -e "$ZG_TMP/feed.stop" ] && [ $SECONDS -lt $end ]; do
		i=$((i + 1))
		sp_enqueue "f$i" || echo "enqueue f$i failed" >>"$ZG_TMP/feed.err"
		sleep "$FEED"
	done
) &
FEEDPID=$!
zg_track_pid "$FEEDPID"

other_of() { [ "$1" = a ] && echo b || echo a; }
ser_ge() { [ -n "$1" ] && [ -n "$2" ] && [ $((($1 - $2 + 4294967296) % 4294967296)) -lt 2147483648 ]; }
# new_at_s NAME SERIAL: s serves a serial above SERIAL (the new active's at its takeover).
new_at_s() { local v; v=$(serial_of "${SP_PORT[s]}"); [ -n "$v" ] && [ "$v" != "$2" ] && ser_ge "$v" "$2"; }
: >"$ZG_TMP/bench.events"
keys_changed=0
# event KIND: one crash or switchover of the current active; "TIME KIND OLD NEW" into bench.events.
event() {
	local kind=$1 was now t s0 rc out
	was=$(sp_active) || { log "no signing active before the $kind"; return 1; }
	now=$(other_of "$was")
	sleep "$STEADY"
	t=$(date +%s.%N)
	if [ "$kind" = crash ]; then
		local kpid ipid
		kpid=$(cat "${SP_DIR[$was]}/knotd.pid") ipid=$(cat "${SP_DIR[$was]}/ingest.pid" 2>/dev/null)
		kill -KILL "$kpid" "${SP_CTL[$was]}" $ipid 2>/dev/null
		echo "$(date +%s.%N) $was dead" >>"$SP_EV"
	else
		out=$("$SP_SIGNER" -d "$ZG_PG_URI" -z test. --state "$ZG_TMP/state.$was" --timeout 60 switchover 2>&1)
		rc=$?
		[ "$rc" = 0 ] || log "switchover: exit $rc: $out"
	fi
	echo "$t $kind $was $now" >>"$ZG_TMP/bench.events"
	zg_wait $((SP_LEASE * 3 + 120)) eval '[ "$(sp_active)" = "$now" ]' ||
		{ log "$kind: $now did not become the signing active ($(tail -n 5 "$ZG_TMP/hooks.log" | tr '\n' ' '))"; return 1; }
	s0=$(serial_of "${SP_PORT[$now]}" "${SP_ADDR[$now]}")
	zg_wait 300 new_at_s s "$s0" || { log "$kind: s got no serial of $now above $s0"; return 1; }
	local k
	k=$(dnskey_at_s)
	[ "$k" = "$SP_DNSKEY" ] || { keys_changed=$((keys_changed + 1)); log "$kind: the DNSKEY RRset at s changed"; }
	# The serial s serves now, for zg-verify at the end (sp_check).
	axfr_whole "$ZG_TMP/sec/$kind.$(date +%s).zone" || { log "$kind: no whole AXFR from s"; return 1; }
	if [ "$kind" = crash ]; then
		sp_knotd_start "${SP_DIR[$was]}" || { log "$was's knotd does not start again"; return 1; }
		sp_ctl_start "$was"
		zg_wait 600 eval '[ "$(sp_role '"$was"')" = standby ] && [ -n "$(serial_of '"${SP_PORT[$was]} ${SP_ADDR[$was]}"')" ]' ||
			{ log "$was did not come back as standby"; return 1; }
	fi
	log "$kind $was -> $now done"
}

i=0 c=0 w=0 failed=0
while [ $c -lt "$CRASHES" ] || [ $w -lt "$SWITCHES" ]; do
	if { [ $((i % 2)) = 0 ] && [ $c -lt "$CRASHES" ]; } || [ $w -ge "$SWITCHES" ]; then
		c=$((c + 1)); event crash || { failed=1; break; }
	else
		w=$((w + 1)); event switchover || { failed=1; break; }
	fi
	i=$((i + 1))
done

# ---- drain, stop, check -------------------------------------------------------
touch "$ZG_TMP/feed.stop"
zg_wait 30 eval "! zg_alive $FEEDPID" || zg_stop_pid "$FEEDPID"
zg_wait 300 sp_drained || log "the queue did not drain: $(sp_pending) pending"
last=$(tail -n 1 "$ZG_TMP/expected.add" | awk '{print $1}')
zg_wait 300 eval "[ -n \"\$(ingest_rr \"${SP_PORT[s]}\" $last TXT)\" ]" || log "s does not serve the last message ($last)"
sleep 2
touch "$ZG_TMP/monitor.stop"
zg_wait 10 eval "! zg_alive $SP_MONPID" || zg_stop_pid "$SP_MONPID"

"$PYTHON3" - "$SP_EV" "$ZG_TMP/versions" "$ZG_TMP/bench.events" "$SP_LEASE" >"$ZG_TMP/figures" <<'PY'
# The time without publication at s for each event (see the header). A
# version (serial, SOA signature) belongs to the new active when it first
# appeared at the new signer, after its takeover (its "active" role event),
# and not before at the other signer; every other version is the old
# active's (or older).
import sys
ev = sorted((float(p[0]), p[1], p[2]) for p in (l.split() for l in open(sys.argv[1])) if len(p) >= 3)
ver = [(float(p[0]), p[1], (int(p[2]), p[3])) for p in (l.split() for l in open(sys.argv[2])) if len(p) == 4]
bench = [(float(p[0]), p[1], p[2], p[3]) for p in (l.split() for l in open(sys.argv[3])) if len(p) == 4]
lease = sys.argv[4]
first = {}
for t, h, v in ver:
    if h in ("a", "b") and v not in first:
        first[v] = (t, h)
at_s = [(t, v) for t, h, v in ver if h == "s"]
res = {"crash": [], "switchover": []}
detect = []
for k, (t0, kind, old, new) in enumerate(bench):
    t_end = bench[k + 1][0] if k + 1 < len(bench) else float("inf")
    act = [t for t, h, r in ev if h == new and r == "active" and t >= t0 - 1]
    if not act:
        print(f"event {k + 1} {kind} {old}->{new}: no takeover recorded"); continue
    ta = act[0]
    def is_new(v):
        return v in first and first[v][1] == new and ta <= first[v][0] < t_end
    own = sorted(first[v][0] for v in first if is_new(v))
    new_s = [(t, v) for t, v in at_s if t < t_end and is_new(v)]
    old_s = [(t, v) for t, v in at_s if new_s and t < new_s[0][0]]
    if not new_s or not old_s:
        print(f"event {k + 1} {kind} {old}->{new}: no serial of the new active at s"); continue
    gap = new_s[0][0] - old_s[-1][0]
    res[kind].append(gap)
    if kind == "crash":
        detect.append(ta - t0)
    print(f"event {k + 1} {kind:10s} {old}->{new}: {gap:6.2f} s without publication at s (serial {old_s[-1][1][0]} "
          f"of {old} to {new_s[0][1][0]} of {new}); from the {kind}: last serial of {old} at s {old_s[-1][0] - t0:+.2f} s, "
          f"takeover {ta - t0:+.2f} s, first serial of {new} at {new} {own[0] - t0:+.2f} s, at s {new_s[0][0] - t0:+.2f} s")
def pct(v, q):  # nearest rank
    v = sorted(v)
    return v[min(len(v), max(1, -int(-len(v) * q // 1))) - 1] if v else float("nan")
for kind, target in (("crash", 30.0), ("switchover", 5.0)):
    v = res[kind]
    p50, p99, mx = pct(v, 0.5), pct(v, 0.99), max(v) if v else float("nan")
    n = sum(1 for b in bench if b[1] == kind)
    ok = "PASS" if v and len(v) == n and p99 < target else "MISS"
    print(f"FIGURE {kind}: n {len(v)} of {n}, time without publication p50 {p50:.2f} s, p99 {p99:.2f} s, "
          f"max {mx:.2f} s; target p99 < {target:.0f} s{' (lease ' + lease + ' s included)' if kind == 'crash' else ''}: {ok}")
print(f"FIGURE lease period {lease} s" + (f"; kill -9 to takeover p50 {pct(detect, 0.5):.2f} s, max {max(detect):.2f} s" if detect else ""))
PY
cat "$ZG_TMP/figures"

# The checks of issue 17 over the whole run (TAP lines of signer-pair-lib.sh).
axfr_whole "$ZG_TMP/sec/final.zone" || log "no whole AXFR of the final zone from s"
sp_check "failover bench" | tee "$ZG_TMP/checks"
nok=$(grep -c '^not ok' "$ZG_TMP/checks")
{
	echo "failover bench, $(date -u '+%Y-%m-%d %H:%M') UTC, commit $(git -C "$top_srcdir" rev-parse --short HEAD 2>/dev/null)," \
		"zone $ZONE_N delegations, lease $SP_LEASE s, hook -t $SP_HOOK_T s, one message every $FEED s, $CRASHES crashes, $SWITCHES switchovers," \
		"$(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), knotd $("$KNOTD" -V 2>/dev/null | awk '{print $NF}')"
	grep -v '^FIGURE' "$ZG_TMP/figures"
	grep '^FIGURE' "$ZG_TMP/figures" | sed 's/^FIGURE //'
	echo "messages queued $(wc -l <"$ZG_TMP/expected.add" | awk '{print $1 / 2}'), failed enqueues $(cat "$ZG_TMP/feed.err" 2>/dev/null | wc -l);" \
		"DNSKEY RRset at s changed after $keys_changed events; checks: $(grep -c '^ok' "$ZG_TMP/checks") ok, $nok not ok" \
		"$([ "$failed" = 0 ] || echo "; STOPPED EARLY (see the log above)")"
	[ "$nok" = 0 ] && [ "$keys_changed" = 0 ] && [ "$failed" = 0 ] && echo "nothing lost: PASS" || echo "nothing lost: MISS"
} | tee "$OUT/summary.txt"
cp "$SP_MON" "$OUT/serials.txt"; cp "$ZG_TMP/versions" "$OUT/versions.txt"; cp "$SP_EV" "$OUT/roles.txt"; cp "$ZG_TMP/bench.events" "$OUT/events.txt"
# the logs, for where the time of each takeover goes (knotd's log has the
# times of the freeze, the restore, the load and the signing)
for n in a b; do
	cp "${SP_DIR[$n]}/knotd.log" "$OUT/knotd-$n.log" 2>/dev/null
	cp "$ZG_TMP/ctl.$n.log" "$OUT/ctl-$n.log" 2>/dev/null
done
cp "$ZG_TMP/hooks.log" "$OUT/hooks.log" 2>/dev/null
# The controllers first (their standby command stops the queue consumer), then the knotds.
for h in a b; do zg_stop_pid "${SP_CTL[$h]}" 60; done
for h in a b; do
	p=$(cat "${SP_DIR[$h]}/ingest.pid" 2>/dev/null) && [ -n "$p" ] && zg_alive "$p" && zg_stop_pid "$p"
done
for h in a b p s; do zg_knotd_stop "${SP_DIR[$h]}"; done
# A missed time target is a figure; a failed check (something lost) fails.
grep -q 'nothing lost: PASS' "$OUT/summary.txt"
