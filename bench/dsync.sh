#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Benchmark: mod-dsync parent mode scanning the children of a parent zone,
# all served by one loopback knotd (the "children" server), with the query
# rate bounded by configuration, and the processing of a 1% CDS change rate
# (accepted, queued, applied by mod-ingest, served).
#
#   ZG_BENCH_DSYNC_CHILDREN=10000   delegations (children) in the parent zone
#   ZG_BENCH_DSYNC_CHANGED=1        percent of the children that publish a CDS
#   ZG_BENCH_DSYNC_RATES="500 2000 100000"   query-rate values (100000 = the
#                                   item's maximum: effectively unbounded)
#
# The parent zone test. (signed by knotd, NSEC) delegates cN.test. to the
# shared in-zone name server ns.test. (127.0.0.1 at the children's port);
# 99% of the children are tiny unsigned zones without CDS (the cost of a
# child that publishes nothing: two queries), 1% are signed zones (BIND
# dnssec-signzone, one P-256 key each) with a DS at the parent, which later
# publish a CDS for a second key. One pass per query rate is started by
# `knotc reload` of the parent (the scanner restarts and scans at once); its
# duration and counts come from the module's "scan of N delegations done"
# line; CPU is the parent and children knotd processes' user+sys time over
# the pass (/proc). Prints children/s, queries/s and CPU per configured rate,
# then the time from the children publishing CDS to the parent serving every
# new DS (one pass + mod-ingest applying the messages).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${PYTHON3:=python3}"
N=${ZG_BENCH_DSYNC_CHILDREN:-10000}
PCT=${ZG_BENCH_DSYNC_CHANGED:-1}
RATES=${ZG_BENCH_DSYNC_RATES:-"500 2000 100000"}
export ZG_SRCDIR=$top_srcdir ZG_BUILDDIR=$top_builddir PYTHON3
. "$top_srcdir/tests/func/lib.sh"
zg_init
KNOTD=${KNOTD:-$(command -v knotd)} KNOTC=${KNOTC:-$(command -v knotc)}
export KNOTD KNOTC
for t in dnssec-keygen dnssec-signzone dnssec-dsfromkey kdig; do
	command -v "$t" >/dev/null || { echo "dsync.sh: $t missing" >&2; exit 2; }
done
now() { date +%s.%N; }
cpu_of() { awk '{print $14 + $15}' "/proc/$1/stat"; } # clock ticks
TICK=$(getconf CLK_TCK)
log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

NSIG=$(( N * PCT / 100 ))
[ "$NSIG" -ge 1 ] || NSIG=1
P=$ZG_TMP/p C=$ZG_TMP/c K=$ZG_TMP/keys SP=$ZG_TMP/spool
mkdir -p "$P/zones" "$C/zones" "$C/signed" "$K" "$SP"
pp=$(zg_free_port) pc=$(zg_free_port)
secret=$(head -c 32 /dev/urandom | base64)
echo "# $N children, $NSIG ($PCT%) of them signed and later publishing a CDS; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- children ----
log "generating and signing $NSIG signed children"
printf '$TTL 3600\n@ SOA ns.test. h.test. 1 3600 600 86400 300\n@ NS ns.test.\nwww A 192.0.2.1\n' >"$C/zones/plain.zone"
t0=$(now)
for i in $(seq 1 "$NSIG"); do
	z=c$i.test
	k1=$(dnssec-keygen -q -a ECDSAP256SHA256 -f KSK -K "$K" "$z")
	k2=$(dnssec-keygen -q -a ECDSAP256SHA256 -f KSK -K "$K" "$z")
	base="\$ORIGIN $z.\n\$TTL 3600\n@ SOA ns.test. h.test. 1 3600 600 86400 300\n@ NS ns.test.\nwww A 192.0.2.1\n"
	{ printf "$base"; grep -hv '^;' "$K/$k1.key" "$K/$k2.key"; } >"$K/$z.a"
	{ printf "$base"; grep -hv '^;' "$K/$k1.key" "$K/$k2.key"
	  dnssec-dsfromkey -2 -C "$K/$k2.key" | sed 's/ IN / /'; } >"$K/$z.b"
	(cd "$K" && dnssec-signzone -q -z -O full -o "$z." -f "$C/signed/$z.a" -e +864000 "$z.a" "$k1" "$k2" &&
		dnssec-signzone -q -z -O full -o "$z." -f "$C/signed/$z.b" -e +864000 "$z.b" "$k1" "$k2") \
		>/dev/null || { echo "signing $z failed" >&2; exit 1; }
	cp "$C/signed/$z.a" "$C/zones/$z.zone"
	dnssec-dsfromkey -2 "$K/$k1.key" | awk '{print $1, "DS", $4, $5, $6, $7}' >>"$ZG_TMP/parent-ds"
done
log "signed children ready ($(printf '%.0f' "$(echo "$(now) - $t0" | bc)") s)"
{
	zg_knot_conf "$C" "$pc" | awk '/^module:/ { skip = 1 } /^$/ { skip = 0 } !skip' |
		sed 's/udp-workers: 2/udp-workers: 1/; s/tcp-workers: 2/tcp-workers: 1/'
	cat <<CONF
template:
  - id: default
    storage: "$C/zones"
    journal-content: none
    zonefile-sync: -1
  - id: plain
    storage: "$C/zones"
    file: "$C/zones/plain.zone"
    journal-content: none
    zonefile-sync: -1

zone:
CONF
	for i in $(seq 1 "$N"); do
		if [ "$i" -le "$NSIG" ]; then
			printf '  - domain: c%d.test\n' "$i"
		else
			printf '  - domain: c%d.test\n    template: plain\n' "$i"
		fi
	done
} >"$C/knot.conf"
sed -i 's|    any: info|    any: warning|' "$C/knot.conf"
log "starting the children's knotd ($N zones)"
zg_knotd_start "$C" || exit 1
cpid=$(cat "$C/knotd.pid")
loaded() { [ "$(kdig @127.0.0.1 -p "$pc" +short "c$N.test." SOA 2>/dev/null | wc -l)" -eq 1 ] &&
	[ "$(kdig @127.0.0.1 -p "$pc" +short c1.test. SOA 2>/dev/null | wc -l)" -eq 1 ]; }
zg_wait 600 loaded || { echo "children not loaded" >&2; exit 1; }

# ---- parent ----
{
	printf '$ORIGIN test.\n$TTL 3600\n@ SOA ns.test. h.test. 1 3600 600 86400 300\n@ NS ns.test.\nns A 127.0.0.1\n'
	for i in $(seq 1 "$N"); do printf 'c%d NS ns.test.\n' "$i"; done
	cat "$ZG_TMP/parent-ds"
} >"$P/zones/test.zone"
# parent_conf QUERY-RATE
parent_conf() {
	zg_knot_conf "$P" "$pp" | sed 's/udp-workers: 2/udp-workers: 1/; s/tcp-workers: 2/tcp-workers: 1/'
	cat <<CONF
key:
  - id: ingest
    algorithm: hmac-sha256
    secret: $secret

acl:
  - id: local
    address: 127.0.0.1
    key: ingest
    action: update
  - id: xfr
    address: 127.0.0.1
    action: transfer

policy:
  - id: nsec
    algorithm: ecdsap256sha256
    ksk-lifetime: 0
    zsk-lifetime: 0

mod-ingest:
  - id: registry
    source: spool:$SP
    key: ingest
    poll-interval: 1

mod-dsync:
  - id: parent
    mode: parent
    queue: spool:$SP
    scan-interval: 1d
    check-interval: 1
    query-rate: $1
    child-port: $pc

zone:
  - domain: test
    storage: "$P/zones"
    dnssec-signing: on
    dnssec-policy: nsec
    zonefile-sync: -1
    journal-content: all
    acl: [local, xfr]
    module: [mod-ingest/registry, mod-dsync/parent]
CONF
}
first_rate=${RATES%% *}
parent_conf 100000 >"$P/knot.conf"
log "starting the parent knotd"
zg_knotd_start "$P" || exit 1
ppid=$(cat "$P/knotd.pid")
passes() { grep -c "mod-dsync.*scan of $N delegations done" "$P/knotd.log"; }
ndone() { [ "$(passes)" -ge "$1" ]; }
zg_wait 600 ndone 1 || { echo "no warm-up pass" >&2; tail -n 20 "$P/knotd.log" >&2; exit 1; }
log "warm-up pass: $(grep "scan of $N delegations done" "$P/knotd.log" | tail -n 1 | sed 's/.*done/done/')"

# pass RATE: one pass at RATE, prints a result line.
printf '%-10s %8s %9s %8s %11s %10s %10s %9s %10s\n' query-rate children queries pass_s children/s queries/s parent_cpu cpu_% child_cpu
pass() {
	local rate=$1 before c0p c0c t0 t1 line secs q
	before=$(passes)
	parent_conf "$rate" >"$P/knot.conf"
	c0p=$(cpu_of "$ppid") c0c=$(cpu_of "$cpid") t0=$(now)
	zg_knotc "$P" reload >/dev/null || { echo "reload failed" >&2; return 1; }
	zg_wait 3600 ndone $((before + 1)) || { echo "pass at $rate did not end" >&2; return 1; }
	t1=$(now)
	local c1p c1c
	c1p=$(cpu_of "$ppid") c1c=$(cpu_of "$cpid")
	line=$(grep "scan of $N delegations done" "$P/knotd.log" | tail -n 1)
	secs=$(echo "$line" | sed -E 's/.*done in ([0-9.]+) s.*/\1/')
	q=$(echo "$line" | sed -E 's/.* ([0-9]+) queries.*/\1/')
	"$PYTHON3" - "$rate" "$N" "$q" "$secs" "$c0p" "$c1p" "$c0c" "$c1c" "$TICK" "$t0" "$t1" <<'PY'
import sys
rate, n, q, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
c0p, c1p, c0c, c1c, tick = (float(x) for x in sys.argv[5:10])
wall = float(sys.argv[11]) - float(sys.argv[10])
pc = (c1p - c0p) / tick
cc = (c1c - c0c) / tick
label = rate if rate != "100000" else "max"
print(f"{label:<10} {n:8d} {q:9d} {secs:8.1f} {n / secs:11.0f} {q / secs:10.0f} {pc:9.2f}s {100 * pc / wall:9.1f} {cc:9.2f}s")
PY
	echo "$line" | sed 's/^/#   /' >&2
}
for r in $RATES; do
	pass "$r" || exit 1
done

# ---- 1% CDS change ----
log "$NSIG children publish a CDS"
for i in $(seq 1 "$NSIG"); do
	cp "$C/signed/c$i.test.b" "$C/zones/c$i.test.zone"
done
for i in $(seq 1 "$NSIG"); do
	zg_knotc "$C" zone-reload "c$i.test" >/dev/null 2>&1
done
published() { [ "$(kdig @127.0.0.1 -p "$pc" +short "c$NSIG.test." CDS 2>/dev/null | wc -l)" -eq 1 ]; }
zg_wait 120 published || { echo "CDS not published" >&2; exit 1; }
new_tag() { kdig @127.0.0.1 -p "$pc" +short "c$1.test." CDS 2>/dev/null | awk '{print $1}'; }
last_tag=$(new_tag "$NSIG") first_tag=$(new_tag 1)
all_served() {
	[ "$(kdig @127.0.0.1 -p "$pp" +short "c$NSIG.test." DS 2>/dev/null | awk '{print $1}')" = "$last_tag" ] &&
	[ "$(kdig @127.0.0.1 -p "$pp" +short c1.test. DS 2>/dev/null | awk '{print $1}')" = "$first_tag" ] &&
	[ "$(ls "$SP/incoming" | wc -l)" -eq 0 ] && [ "$(ls "$SP/done" | wc -l)" -ge "$NSIG" ]
}
rate=${RATES##* }
before=$(passes)
parent_conf "$rate" >"$P/knot.conf"
c0p=$(cpu_of "$ppid") t0=$(now)
zg_knotc "$P" reload >/dev/null
zg_wait 3600 ndone $((before + 1)) || { echo "change pass did not end" >&2; exit 1; }
t_pass=$(now)
zg_wait 600 all_served || { echo "not every new DS is served" >&2; ls "$SP/failed" >&2; exit 1; }
t_served=$(now)
c1p=$(cpu_of "$ppid")
line=$(grep "scan of $N delegations done" "$P/knotd.log" | tail -n 1)
echo "$line" | sed 's/^/#   /' >&2
failed=$(ls "$SP/failed" | grep -c '\.json$')
"$PYTHON3" - "$N" "$NSIG" "$t0" "$t_pass" "$t_served" "$c0p" "$c1p" "$TICK" "$failed" "$line" "$PCT" <<'PY'
import re, sys
n, nsig = int(sys.argv[1]), int(sys.argv[2])
t0, tp, ts = (float(x) for x in sys.argv[3:6])
cpu = (float(sys.argv[7]) - float(sys.argv[6])) / float(sys.argv[8])
m = re.search(r"(\d+) accepted, (\d+) refused, (\d+) queued, (\d+) failed", sys.argv[10])
acc, ref, q, f = m.groups() if m else ("?",) * 4
print(f"{sys.argv[11]}% change: {nsig} of {n} children publish a CDS: pass (scan + queue) {tp - t0:.1f} s, "
      f"every new DS served {ts - t0:.1f} s after the reload; {acc} accepted, {ref} refused, "
      f"{q} queued, {f} failed scans, {sys.argv[9]} messages refused by mod-ingest; "
      f"parent knotd CPU {cpu:.1f} s (scanner, mod-ingest and signing)")
PY
exit 0
