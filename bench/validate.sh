#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Benchmark: mod-validate against Knot 3.2's validating secondary
# (`dnssec-validation: on`), both following the same signer in one run.
#
#   ZG_BENCH_VALIDATE_SIZES="200000 1000000"  delegations in the zone (bench/genzone.py)
#   ZG_BENCH_VALIDATE_BATCHES="10 100 1000 10000"  new delegations (NS+DS) per serial
#   ZG_BENCH_VALIDATE_RUNS=3        serials per batch size
#   ZG_BENCH_VALIDATE_MEMORY=1      0: skip the memory comparison runs
#   ZG_BENCH_VALIDATE_OUT=bench/out/validate  cache of the unsigned zones
#   ZG_BENCH_VALIDATE_WAIT=600      bound (s) of every wait for one serial
#   ZG_BENCH_VALIDATE_INITIAL_WAIT=3600  bound (s) of signing and initial validations
#   ZG_BENCH_VALIDATE_PERF=FILE     perf record V during the batches into FILE.SIZE
#   ZG_BENCH_VALIDATE_MODES="alone together"  how S is started on each serial (below)
#   ZG_BENCH_VALIDATE_ENGINES="native openssl"  mod-validate's P-256 verifier: each
#                                   engine gets its own V (p256-openssl: on for
#                                   openssl), started in turn after the previous
#                                   one is stopped, against the same A and S
#
# Three knotd on 127.0.0.1 (random ports):
#   A  the signer: SoftHSM keystore, ECDSA P-256 KSK+ZSK, NSEC3 opt-out (no
#      salt, 0 iterations), loads the generated zone and signs it;
#   V  a secondary of A with mod-validate, `source` = A: the module follows A
#      by IXFR on its own and validates each serial;
#   S  a secondary of A with `dnssec-validation: on` (Knot's own validation).
# Each batch is one serial at A: N new delegations (NS + DS each) added in one
# control-socket transaction (`zg-ingest init`: zone-begin, zone-set...,
# zone-commit; A signs the change on commit). One transaction, because Knot
# 3.2 makes one serial per processed DDNS queue, and 1,000 NS+DS changes do
# not fit one 64 KiB UPDATE message: several UPDATEs may give several serials.
#
# Knot 3.2 logs with one-second timestamps, so a poller (python, UDP SOA
# queries every millisecond, and the new lines of V's log) measures, per
# serial, (a) from A serving it (A's commit) to mod-validate's verdict line in
# V's log and (b) from the NOTIFY sent to S to S serving it (Knot serves an
# IXFR only after it validated). Also printed: the module's own time (its log
# line) and Knot's "zone updated, N seconds" of S (its refresh from the SOA
# query). The NOTIFYs come from the poller, not from A (Knot sends its NOTIFY
# from a background event that a busy 1M-delegation signer can delay by tens
# of ms): to V as soon as A serves the serial, and to S:
#   alone     once V's verdict is logged and V's knotd serves the serial, so
#             each validator has the machine to itself (the cost of each);
#   together  at A's commit, as A's own NOTIFY would: both validate at once on
#             the same cores, and each one's time includes the other's load.
#
# Memory: VmRSS/VmHWM of S and V after the initial validation and after the
# batches; the shadow's share of V is estimated as V's RSS minus the RSS of a
# plain secondary P of the same zone (same config without the module or
# validation, run afterwards alone), and measured directly as the RSS of
# `zg-verify --follow`, which runs the module's engine without knotd.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
SIZES=${ZG_BENCH_VALIDATE_SIZES:-"200000 1000000"}
BATCHES=${ZG_BENCH_VALIDATE_BATCHES:-"10 100 1000 10000"}
RUNS=${ZG_BENCH_VALIDATE_RUNS:-3}
MODES=${ZG_BENCH_VALIDATE_MODES:-"alone together"}
MEMORY=${ZG_BENCH_VALIDATE_MEMORY:-1}
ENGINES=${ZG_BENCH_VALIDATE_ENGINES:-"native openssl"}
OUT=${ZG_BENCH_VALIDATE_OUT:-$top_srcdir/bench/out/validate}
export ZG_SRCDIR=$top_srcdir ZG_BUILDDIR=$top_builddir
. "$top_srcdir/tests/func/lib.sh"
zg_init
. "$top_srcdir/tests/func/validate-lib.sh"   # vconf, serial_of, serial_is, has_serial
zg_snapshot_modules
ZGI=$top_builddir/tools/zg-ingest
ZGV=$top_builddir/tools/zg-verify
WAIT=${ZG_BENCH_VALIDATE_WAIT:-600}   # bound of every wait for one serial, s
IWAIT=${ZG_BENCH_VALIDATE_INITIAL_WAIT:-3600}   # bound of the initial loads and validations, s
mkdir -p "$OUT" || exit 2
status=0

log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
now() { date +%s.%N; }

verdict_logged() { grep -Eq "mod-validate.*serial $2, valid" "$1/knotd.log"; }
rss_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status" 2>/dev/null; }
mb() { echo "${1:-0}" | awk '{printf "%.0f", $1 / 1024}'; }

# The poller: prints "SERIAL T_MODULE T_SECONDARY MODULE_MS KNOT_S" (seconds
# from A's commit; -1 when not seen within the bound).
cat >"$ZG_TMP/poll.py" <<'PY'
import os, re, socket, struct, sys, time
pa, pv, ps, vlog, slog, old, bound, mode = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], int(sys.argv[6]), float(sys.argv[7]), sys.argv[8]
q_id = 0
def notify(port):
    # NOTIFY test. SOA (opcode 4, AA) to S, as the signer's own would be.
    q = struct.pack("!HHHHHH", 0x5a5a, 0x2400, 1, 0, 0, 0) + b"\x04test\x00" + struct.pack("!HH", 6, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.sendto(q, ("127.0.0.1", port))
    finally:
        s.close()
def soa(port):
    global q_id
    q_id = (q_id + 1) & 0xffff
    q = struct.pack("!HHHHHH", q_id, 0, 1, 0, 0, 0) + b"\x04test\x00" + struct.pack("!HH", 6, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.5)
    try:
        s.sendto(q, ("127.0.0.1", port))
        r = s.recv(4096)
    except OSError:
        return None
    finally:
        s.close()
    if struct.unpack("!H", r[6:8])[0] < 1:
        return None
    def skip(i):
        while True:
            l = r[i]
            if l == 0: return i + 1
            if l & 0xc0: return i + 2
            i += l + 1
    i = skip(12) + 4          # question
    i = skip(i) + 10          # answer owner, type, class, ttl, rdlength
    i = skip(skip(i))         # mname, rname
    return struct.unpack("!I", r[i:i + 4])[0]
vf = open(vlog, "rb"); vf.seek(0, 2)
sf = open(slog, "rb"); sf.seek(0, 2)
print("ready", file=sys.stderr, flush=True)   # the script commits only now
end = time.time() + bound
t0 = None
while time.time() < end:
    s = soa(pa)
    if s is not None and s != old:
        t0 = time.time(); new = s; break
    time.sleep(0.001)
if t0 is None:
    print("0 -1 -1 -1 -1"); sys.exit(1)
tm = ts = t1 = None; mms = -1; vbuf = b""
pat = re.compile(rb"serial %d, validated \([^)]*?(\d+) ms\)" % new)
bad = re.compile(rb"serial %d, validation failed" % new)
notify(pv)                     # V learns of the serial from its NOTIFY, at once
if mode == "together":
    notify(ps); t1 = time.time()
while time.time() < end and (tm is None or ts is None):
    if tm is None:
        vbuf += vf.read()
        m = pat.search(vbuf)
        if m:
            tm = time.time() - t0; mms = int(m.group(1))
        elif bad.search(vbuf):
            tm = time.time() - t0; mms = -2
    if t1 is None and tm is not None and soa(pv) == new:
        notify(ps); t1 = time.time()
    if t1 is not None and ts is None and soa(ps) == new:
        ts = time.time() - t1
    time.sleep(0.001)
ks = -1
sbuf = b""
for _ in range(100):
    sbuf += sf.read()
    m = re.search(rb"zone updated, ([0-9.]+) seconds, serial \d+ -> %d" % new, sbuf)
    if m: ks = float(m.group(1)); break
    time.sleep(0.01)
print(new, -1 if tm is None else "%.4f" % tm, -1 if ts is None else "%.4f" % ts, mms, ks)
sys.exit(0 if tm is not None and ts is not None and mms >= 0 else 1)
PY

# batch_file FILE TAG N: N new delegations (NS + DS each), names unique per TAG.
batch_file() {
	"$PYTHON3" - "$@" <<'PY'
import hashlib, sys
f, tag, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(f, "w") as o:
    for i in range(n):
        name = f"zgb{tag}x{i:05d}"
        d = hashlib.sha256(name.encode()).hexdigest().upper()
        o.write(f"{name} 3600 NS ns1.bench{i % 7}.example.\n{name} 3600 DS {i % 65535} 13 2 {d}\n")
PY
}

signer_conf() { # DIR PORT ZONEFILE PORT_V PORT_S
	vconf "$1" "$2"
	zg_signer_conf zgbench 1234 nsec3
	cat <<CONF
acl:
  - id: local
    address: 127.0.0.1
    action: [transfer, notify]

zone:
  - domain: test
    file: "$3"
    storage: "$1/zones"
    dnssec-signing: on
    dnssec-policy: hsm
    zonefile-sync: -1
    zonefile-load: whole
    journal-max-usage: 8G      # the initial signing of 1M delegations exceeds the default 100M
    acl: local
CONF
}

secondary_conf() { # DIR PORT PORT_A KIND (validate | knot | plain) [P256_ENGINE]
	vconf "$1" "$2"
	cat <<CONF
remote:
  - id: a
    address: 127.0.0.1@$3

acl:
  - id: local
    address: 127.0.0.1
    action: [transfer, notify]

CONF
	if [ "$4" = validate ]; then
		cat <<CONF
mod-validate:
  - id: bench
    source: 127.0.0.1@$3
    horizon: 1d
    p256-openssl: $([ "${5:-native}" = openssl ] && echo on || echo off)

CONF
	fi
	cat <<CONF
zone:
  - domain: test
    storage: "$1/zones"
    master: a
    zonefile-sync: -1
    acl: local
CONF
	case $4 in
	validate) echo "    module: mod-validate/bench" ;;
	knot) echo "    dnssec-validation: on" ;;
	esac
}

start_knotd() { # DIR: start, waiting as long as a big zone keeps the control socket busy
	zg_knotd_start "$1" 2>/dev/null || zg_wait 3600 zg_knotc "$1" status ||
		{ echo "knotd in $1 did not start" >&2; return 1; }
}

run_size() { # N
	local n=$1 dir=$OUT/$n
	mkdir -p "$dir"
	if [ ! -s "$dir/unsigned.zone" ]; then
		log "generating $n delegations"
		zg_genzone test. "$n" >"$dir/unsigned.zone.tmp" && mv "$dir/unsigned.zone.tmp" "$dir/unsigned.zone" ||
			return 1
	fi
	local T=$ZG_TMP/$n A V S P
	A=$T/a S=$T/s P=$T/p
	mkdir -p "$A" "$S" "$P"
	zg_softhsm_init "$T/hsm" zgbench 1234 >/dev/null || return 1
	local pa pv ps pp
	pa=$(zg_free_port); pv=$(zg_free_port); ps=$(zg_free_port); pp=$(zg_free_port)
	cp "$dir/unsigned.zone" "$T/test.zone"
	signer_conf "$A" "$pa" "$T/test.zone" "$pv" "$ps" >"$A/knot.conf"
	secondary_conf "$S" "$ps" "$pa" knot >"$S/knot.conf"
	secondary_conf "$P" "$pp" "$pa" plain >"$P/knot.conf"

	log "$n: signer loads and signs (SoftHSM)"
	local t0 t1 s0
	t0=$(now)
	start_knotd "$A" || return 1
	zg_wait "$IWAIT" zg_zone_signed "$A" test. && zg_wait 600 has_serial "$pa" ||
		{ echo "signer did not sign the zone" >&2; return 1; }
	s0=$(serial_of "$pa")
	printf '%d delegations: signer load+sign %.0f s, serial %s\n' "$n" "$(echo "$(now) - $t0" | bc)" "$s0"

	# Initial full validation, one at a time (each alone on the machine).
	log "$n: validating secondary S, initial AXFR + validation"
	t0=$(now)
	start_knotd "$S" || return 1
	zg_wait "$IWAIT" serial_is "$ps" "$s0" || { echo "S did not load serial $s0" >&2; return 1; }
	local s_init s_init_knot
	s_init=$(echo "$(now) - $t0" | bc)
	s_init_knot=$(grep -oE "zone updated, [0-9.]+ seconds, serial none -> $s0" "$S/knotd.log" | awk '{print $3}' | head -n 1)
	local engine first=1 spid vpid s_rss0 v_rss0 k=0 v_rss_first v_hwm_first v_rss0_first
	spid=$(cat "$S/knotd.pid")
	s_rss0=$(rss_kb "$spid" VmRSS)
	for engine in $ENGINES; do
	V=$T/v-$engine
	mkdir -p "$V"
	pv=$(zg_free_port)
	secondary_conf "$V" "$pv" "$pa" validate "$engine" >"$V/knot.conf"
	s0=$(serial_of "$pa")
	log "$n: mod-validate V ($engine P-256 verifier), initial AXFR + validation"
	t0=$(now)
	start_knotd "$V" || return 1
	zg_wait "$IWAIT" verdict_logged "$V" "$s0" || { echo "V did not validate serial $s0" >&2; return 1; }
	local v_init v_init_mod
	v_init=$(echo "$(now) - $t0" | bc)
	v_init_mod=$(grep -oE "serial $s0, validated \(whole zone.* ([0-9]+) ms\)" "$V/knotd.log" | grep -oE '[0-9]+ ms' | tail -n 1)
	zg_wait "$IWAIT" serial_is "$pv" "$s0" || { echo "V did not load serial $s0" >&2; return 1; }
	printf 'initial, %s P-256 verifier: secondary serves after %.2f s (Knot: zone updated, %s s); mod-validate verdict after %.2f s (module: %s, transfer + validation)\n' \
		"$engine" "$s_init" "${s_init_knot:-?}" "$v_init" "${v_init_mod:-?}"
	vpid=$(cat "$V/knotd.pid")
	sleep 2
	v_rss0=$(rss_kb "$vpid" VmRSS)

	# The batches: one serial each, both followers must be done before the next.
	local perf_pid=
	if [ -n "${ZG_BENCH_VALIDATE_PERF:-}" ]; then   # profile V during the batches
		perf record -q -g -p "$vpid" -o "$ZG_BENCH_VALIDATE_PERF.$n.$engine" >/dev/null 2>&1 &
		perf_pid=$!
		zg_track_pid "$perf_pid"
		sleep 1
	fi
	local b r res serial=$s0
	[ -z "$first" ] || : >"$T/results"
	local mode
	for mode in $MODES; do
	for b in $BATCHES; do
		for r in $(seq 1 "$RUNS"); do
			k=$((k + 1))
			batch_file "$T/batch.zone" "$k" "$b"
			# Raised priority (when allowed): the poller must see the commit at once.
			# The previous poller's "ready" must not be taken for this one's.
			rm -f "$T/poll.err" "$T/poll.out"
			nice -n -10 "$PYTHON3" "$ZG_TMP/poll.py" "$pa" "$pv" "$ps" "$V/knotd.log" "$S/knotd.log" "$serial" "$WAIT" "$mode" \
				>"$T/poll.out" 2>"$T/poll.err" &
			local pp_pid=$!
			zg_track_pid "$pp_pid"
			zg_wait 30 grep -q ready "$T/poll.err" || { echo "poller did not start" >&2; return 1; }
			"$ZGI" init -c "$A/knot.sock" -z test. -t 600 -q "$T/batch.zone" >"$T/init.out" 2>&1 ||
				{ echo "batch $k: zg-ingest init failed: $(cat "$T/init.out")" >&2; status=1; }
			wait "$pp_pid" || { echo "batch $k ($b delegations): not seen by both within $WAIT s: $(cat "$T/poll.out" "$T/poll.err")" >&2; status=1; }
			read -r serial tm ts mms ks <"$T/poll.out"
			echo "$b $r $serial $tm $ts $mms $ks $mode $engine" >>"$T/results"
			log "$n: $engine: $mode: batch $b #$r serial $serial: mod-validate $tm s (module $mms ms), secondary $ts s (Knot $ks s)"
			[ "$serial" != 0 ] || serial=$(serial_of "$pa")
			# Both caught up (bounded) before the next serial.
			zg_wait "$WAIT" serial_is "$pv" "$serial"
			zg_wait "$WAIT" serial_is "$ps" "$serial"
		done
	done
	done
	[ -z "$perf_pid" ] || { kill -INT "$perf_pid"; zg_wait 60 sh -c "! kill -0 $perf_pid"; }
	sleep 2
	local s_rss s_hwm v_rss v_hwm
	s_rss=$(rss_kb "$spid" VmRSS); s_hwm=$(rss_kb "$spid" VmHWM)
	v_rss=$(rss_kb "$vpid" VmRSS); v_hwm=$(rss_kb "$vpid" VmHWM)
	grep -E "validation failed|error" "$V/knotd.log" | head -n 5 >&2
	grep -E "validation failed" "$S/knotd.log" | head -n 5 >&2
	zg_knotd_stop "$V"
	[ -z "$first" ] || { v_rss_first=$v_rss; v_hwm_first=$v_hwm; v_rss0_first=$v_rss0; }
	first=
	done
	v_rss=$v_rss_first v_hwm=$v_hwm_first v_rss0=$v_rss0_first   # memory: the first engine's V

	for engine in $ENGINES; do
	for mode in $MODES; do
	echo
	echo "$mode, $engine P-256 verifier: per serial, seconds (median of $RUNS; min-max): mod-validate from the signer's commit, validating secondary from its NOTIFY:"
	printf '| %-12s | %-22s | %-22s | %9s | %9s | %7s |\n' "delegations" "mod-validate verdict" "validating secondary" "module ms" "Knot s" "ratio"
	printf '|%s|%s|%s|%s|%s|%s|\n' "--------------:" "------------------------:" "------------------------:" "----------:" "----------:" "--------:"
	for b in $BATCHES; do
		awk -v b="$b" -v m="$mode" -v e="$engine" '$1 == b && $8 == m && $9 == e' "$T/results" | "$PYTHON3" -c '
import sys, statistics as st
rows = [l.split() for l in sys.stdin if l.strip()]
b = sys.argv[1]
tm = sorted(float(r[3]) for r in rows); ts = sorted(float(r[4]) for r in rows)
mms = st.median(float(r[5]) for r in rows); ks = st.median(float(r[6]) for r in rows)
m, s = st.median(tm), st.median(ts)
ratio = s / m if m > 0 else float("nan")
print("| %12s | %6.3f (%.3f-%.3f) | %6.3f (%.3f-%.3f) | %9.0f | %9.2f | %6.1fx |" % (
    f"{int(b):,}", m, tm[0], tm[-1], s, ts[0], ts[-1], mms, ks, ratio))
print("RATIO %s %.4f %.4f %.2f %s %s" % (b, m, s, ratio, sys.argv[2], sys.argv[3]), file=sys.stderr)
' "$b" "$mode" "$engine" 2>>"$ZG_TMP/ratios.$n"
	done
	done
	done
	echo
	printf 'RSS MB: validating secondary S %s after the initial validation, %s after the batches (peak %s); knotd+mod-validate V %s / %s (peak %s)\n' \
		"$(mb "$s_rss0")" "$(mb "$s_rss")" "$(mb "$s_hwm")" "$(mb "$v_rss0")" "$(mb "$v_rss")" "$(mb "$v_hwm")"
	echo "S_RSS $n $s_rss $s_hwm $v_rss $v_hwm" >>"$ZG_TMP/mem"
	zg_knotd_stop "$S"

	if [ "$MEMORY" = 1 ]; then
		# A plain secondary of the same zone, alone: V's RSS minus this one is the module's share.
		start_knotd "$P" || return 1
		serial=$(serial_of "$pa")
		zg_wait "$IWAIT" serial_is "$pp" "$serial" || echo "plain secondary did not load $serial" >&2
		sleep 2
		local ppid p_rss p_hwm
		ppid=$(cat "$P/knotd.pid")
		p_rss=$(rss_kb "$ppid" VmRSS); p_hwm=$(rss_kb "$ppid" VmHWM)
		zg_knotd_stop "$P"
		# The engine alone: zg-verify --follow, initial serial then one 10,000 batch.
		"$ZGV" --follow "127.0.0.1@$pa" --poll 1 test. >"$T/follow.out" 2>"$T/follow.err" &
		local fpid=$!
		zg_track_pid "$fpid"
		zg_wait "$IWAIT" grep -q "^zone test\\. serial $serial" "$T/follow.out" ||
			{ echo "zg-verify --follow: no verdict: $(cat "$T/follow.err")" >&2; status=1; }
		local f_rss0 f_rss f_hwm
		f_rss0=$(rss_kb "$fpid" VmRSS)
		k=$((k + 1))
		batch_file "$T/batch.zone" "$k" 10000
		"$ZGI" init -c "$A/knot.sock" -z test. -t 600 -q "$T/batch.zone" >/dev/null 2>&1
		serial=$(serial_of "$pa")
		zg_wait "$WAIT" grep -q "^zone test\\. serial $serial" "$T/follow.out" ||
			{ echo "zg-verify --follow: no verdict for $serial" >&2; status=1; }
		f_rss=$(rss_kb "$fpid" VmRSS); f_hwm=$(rss_kb "$fpid" VmHWM)
		zg_stop_pid "$fpid"
		grep -q ': VALID' "$T/follow.out" || true
		printf 'RSS MB: plain secondary P %s (peak %s); V - P = %s; zg-verify --follow %s after the initial validation, %s after a 10,000 batch (peak %s)\n' \
			"$(mb "$p_rss")" "$(mb "$p_hwm")" "$(mb $((v_rss - p_rss)))" "$(mb "$f_rss0")" "$(mb "$f_rss")" "$(mb "$f_hwm")"
		echo "MEM $n $s_rss $s_hwm $v_rss $p_rss $f_rss $f_hwm" >>"$ZG_TMP/mem"
	fi
	zg_knotd_stop "$A"
	return 0
}

echo "# mod-validate vs Knot $(knotd --version | awk '{print $NF}') dnssec-validation; sizes: $SIZES; batches: $BATCHES x $RUNS; $(nproc) CPUs; commit $(git -C "$top_srcdir" rev-parse --short HEAD 2>/dev/null || echo '?'); $(date -u '+%Y-%m-%d %H:%M UTC'); load: $(cut -d' ' -f1-3 /proc/loadavg)"
for n in $SIZES; do
	run_size "$n" || { echo "size $n failed" >&2; status=1; }
	[ -n "${ZG_KEEP:-}" ] || rm -rf "${ZG_TMP:?}/$n"
done

# Targets.
echo
echo "targets:"
for n in $SIZES; do
	[ -f "$ZG_TMP/ratios.$n" ] || continue
	awk -v n="$n" '$1 == "RATIO" {
		ok = $5 >= 4 ? "met" : "NOT met"
		printf "  %s delegations, %s per serial, %s, %s P-256 verifier: secondary/mod-validate %.1fx (>= 4x: %s)\n", n, $2, $6, $7, $5, ok
	}' "$ZG_TMP/ratios.$n"
done
set -- $SIZES
if [ $# -ge 2 ] && [ -f "$ZG_TMP/ratios.$1" ] && [ -f "$ZG_TMP/ratios.${!#}" ]; then
	for mode in $MODES; do
	a=$(awk -v m="$mode" '$2 == 1000 && $6 == m {print $3; exit}' "$ZG_TMP/ratios.$1")
	z=$(awk -v m="$mode" '$2 == 1000 && $6 == m {print $3; exit}' "$ZG_TMP/ratios.${!#}")
	if [ -n "$a" ] && [ -n "$z" ]; then
		awk -v a="$a" -v z="$z" -v s="$1" -v l="${!#}" -v m="$mode" 'BEGIN {
			g = z / a; printf "  1,000-delegation serial, %s vs %s, %s: %.2fx (<= 2x: %s)\n", l, s, m, g, g <= 2 ? "met" : "NOT met" }'
	fi
	done
fi
[ -f "$ZG_TMP/mem" ] && awk '$1 == "MEM" {
	shadow = $5 - $6
	printf "  %s delegations, shadow memory: V - P %.0f MB, zg-verify --follow %.0f MB (peak %.0f) vs validating secondary RSS %.0f MB (peak %.0f): %s\n",
		$2, shadow / 1024, $7 / 1024, $8 / 1024, $3 / 1024, $4 / 1024, ($8 <= $3 && shadow <= $3) ? "met" : "NOT met" }' "$ZG_TMP/mem"
echo "# load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
exit $status
