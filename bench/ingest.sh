#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Benchmark: the ingest gateway (zg-ingest, spool and PostgreSQL queues)
# against hand-made knsupdate scripts, into a signing knotd with a SoftHSM
# keystore, in one run; and zg-ingest init against knotd loading and signing
# the same zone from a file.
#
#   ZG_BENCH_INGEST_ZONE=200000     delegations in the signed zone
#   ZG_BENCH_INGEST_MSGS=20         messages per path
#   ZG_BENCH_INGEST_OWNERS=1000     changed delegations (NS+DS) per message
#   ZG_BENCH_INGEST_NSU=250         owners per knsupdate UPDATE
#   ZG_BENCH_INGEST_LATENCY=100     paced messages for the latency figures
#   ZG_BENCH_INGEST_INIT=1000000    delegations for the init comparison (0: skip)
#   ZG_BENCH_INGEST_ZONE_CONF=...   extra zone items (4-space indented lines) for
#                                   the signer of the 200k zone; default: the
#                                   registry signer settings recommended in
#                                   modules/ingest/ingest.rst
#                                   ("    journal-max-depth: 1000" and
#                                   "    journal-max-usage: 4G"); set it empty
#                                   for Knot's defaults (a journal merge every
#                                   20 serials)
#
# zg-ingest gets the signer's control socket (-c): a message too big for one
# UPDATE (1000 owners with NS and DS are) is applied whole in one zone
# transaction there (since issue 13; figures in bench/RESULTS.md from before
# were pipelined UPDATEs).
#
# Prints throughput (changed owners per second) of each path and the ratio to
# knsupdate, enqueue-to-served latency p50/p99 of single 1000-owner messages
# (enqueued one at a time, served = the message's last owner answers with
# its new DS), the gateway's CPU time against knotd's, and the init times.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
ZONE_N=${ZG_BENCH_INGEST_ZONE:-200000}
MSGS=${ZG_BENCH_INGEST_MSGS:-20}
OWNERS=${ZG_BENCH_INGEST_OWNERS:-1000}
NSU=${ZG_BENCH_INGEST_NSU:-250}
LAT=${ZG_BENCH_INGEST_LATENCY:-100}
INIT_N=${ZG_BENCH_INGEST_INIT:-1000000}
ZONE_CONF=${ZG_BENCH_INGEST_ZONE_CONF-"    journal-max-depth: 1000
    journal-max-usage: 4G"}
export ZG_SRCDIR=$top_srcdir ZG_BUILDDIR=$top_builddir
. "$top_srcdir/tests/func/lib.sh"
. "$top_srcdir/tests/func/ingest-lib.sh"
zg_init
ZGI="$top_builddir/tools/zg-ingest"
# In the build tree tools/zg-ingest is a libtool wrapper script that costs
# ~0.15 s of CPU per start; time the program itself, as installed.
if [ -x "$top_builddir/tools/.libs/zg-ingest" ]; then
	ZGI="$top_builddir/tools/.libs/zg-ingest"
	export LD_LIBRARY_PATH="$top_builddir/lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
now() { date +%s.%N; }
cpu_of() { awk '{print $14 + $15}' "/proc/$1/stat"; } # clock ticks
TICK=$(getconf CLK_TCK)

load_failed() { grep -q "zone event 'load' failed" "$1/knotd.log" 2>/dev/null; }
signed_or_failed() { zg_zone_signed "$1" test. || load_failed "$1"; }
# served_signed NAME: NAME's DS is served with its RRSIG.
served_signed() {
	kdig @127.0.0.1 -p "$port" +dnssec +norec "$1" DS 2>/dev/null | grep -q "RRSIG[[:space:]]*DS "
}
signer_conf() { # DIR ZONEFILE [EXTRA_ZONE_CONF] (copies ZONEFILE into DIR/zones)
	mkdir -p "$1"
	ingest_signer_conf "$1" "$port" "$secret" "$2" "${3:-}" >"$1/knot.conf"
}
start_signer() { # DIR ZONEFILE [EXTRA_ZONE_CONF] (ZONEFILE -: DIR is set up)
	local dir=$1
	[ "$2" = - ] || signer_conf "$@"
	# Big zones keep knotd's control socket busy longer than the harness waits.
	zg_knotd_start "$dir" 2>/dev/null || zg_wait 3600 zg_knotc "$dir" status ||
		{ echo "knotd did not start" >&2; exit 1; }
	zg_wait 3600 signed_or_failed "$dir" || { echo "zone not signed" >&2; exit 1; }
	if load_failed "$dir"; then
		echo "knotd could not load the zone: $(grep "event 'load' failed" "$dir/knotd.log" | tail -n 1)" >&2
		exit 1
	fi
	zg_wait 600 sh -c "kdig @127.0.0.1 -p $port +short test. SOA | grep -q ."
}

zg_softhsm_init "$ZG_TMP/hsm" zonegate 1234 >/dev/null || exit 1
port=$(zg_free_port)
secret=$(head -c 32 /dev/urandom | base64)
key="hmac-sha256:ingest:$secret"
echo "# zone of $ZONE_N delegations, $MSGS messages x $OWNERS owners per path, knsupdate $NSU owners per UPDATE"
zg_genzone test. "$ZONE_N" 1 >"$ZG_TMP/zone.zone"
t0=$(now)
[ -z "$ZONE_CONF" ] || printf 'signer zone config added:\n%s\n' "$ZONE_CONF"
start_signer "$ZG_TMP/s" "$ZG_TMP/zone.zone" "$ZONE_CONF"
printf 'knotd load+sign of %d delegations: %.1f s\n' "$ZONE_N" "$(echo "$(now) - $t0" | bc)"
kpid=$(cat "$ZG_TMP/s/knotd.pid")

# Three disjoint sets of existing delegations (one per path), and changes
# for each: a new NS set and a new DS.
"$PYTHON3" - "$ZG_TMP" "$MSGS" "$OWNERS" "$NSU" "$port" "$secret" "$LAT" <<'PY'
import json, sys, hashlib, re
tmp, msgs, owners, nsu, port, secret, lat = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6], int(sys.argv[7])
names = []
for line in open(f"{tmp}/zone.zone"):
    m = re.match(r"^(d\d+x[0-9a-f]+) NS ns\.provider", line)
    if m: names.append(m.group(1))
need = msgs * owners
paths = {"spool": names[0:need], "pg": names[need:2 * need], "nsu": names[2 * need:3 * need],
         "lat": names[3 * need:3 * need + lat * owners]}
def change(n, tag):
    o = f"{n}.test."
    ds = f"{abs(hash(n + tag)) % 65535} 13 2 " + hashlib.sha256((n + tag).encode()).hexdigest().upper()
    return o, ["ns1.bench-" + tag + ".example.", "ns2.bench-" + tag + ".example."], ds
for p in ("spool", "pg", "lat"):
    ns = paths[p]
    count = lat if p == "lat" else msgs
    for i in range(count):
        ch = []
        for n in ns[i * owners:(i + 1) * owners]:
            o, nss, ds = change(n, p)
            ch.append({"owner": o, "rrsets": [{"type": "NS", "ttl": 3600, "rdata": nss},
                                              {"type": "DS", "ttl": 3600, "rdata": [ds]}]})
        m = {"version": 1, "id": f"{p}-{i:04d}", "zone": "test.", "changes": ch}
        open(f"{tmp}/{p}-{i:04d}.json", "w").write(json.dumps(m))
        last = ch[-1]["owner"]
        open(f"{tmp}/{p}-{i:04d}.last", "w").write(last + " " + ch[-1]["rrsets"][1]["rdata"][0].split()[3] + "\n")
ns = paths["nsu"]
k = 0
for s in range(0, len(ns), nsu):
    with open(f"{tmp}/nsu-{k:04d}.txt", "w") as f:
        f.write(f"server 127.0.0.1 {port}\nzone test.\n")
        for n in ns[s:s + nsu]:
            o, nss, ds = change(n, "nsu")
            f.write(f"del {o} NS\ndel {o} DS\n")
            for x in nss: f.write(f"add {o} 3600 NS {x}\n")
            f.write(f"add {o} 3600 DS {ds}\n")
        f.write("send\n")
    k += 1
PY
total=$((MSGS * OWNERS))

# knsupdate path.
c0=$(cpu_of "$kpid"); t0=$(now)
for f in "$ZG_TMP"/nsu-*.txt; do knsupdate -y "$key" "$f" || echo "knsupdate failed: $f" >&2; done
t_nsu=$(echo "$(now) - $t0" | bc); c_nsu=$(( $(cpu_of "$kpid") - c0 ))
printf 'knsupdate:      %6d owners in %7.2f s = %7.0f owners/s (knotd CPU %.1f s)\n' "$total" "$t_nsu" "$(echo "$total / $t_nsu" | bc -l)" "$(echo "$c_nsu / $TICK" | bc -l)"

# Spool path.
sp=$ZG_TMP/spool; mkdir -p "$sp/incoming"
for f in "$ZG_TMP"/spool-*.json; do cp "$f" "$sp/incoming/"; done
c0=$(cpu_of "$kpid"); t0=$(now)
/usr/bin/time -f '%U %S' -o "$ZG_TMP/spool.time" "$ZGI" run --source "spool:$sp" -s "127.0.0.1@$port" -c "$ZG_TMP/s/knot.sock" -y "$key" --once -q -t 60 >"$ZG_TMP/spool.out" 2>&1
t_sp=$(echo "$(now) - $t0" | bc); c_sp=$(( $(cpu_of "$kpid") - c0 ))
g_sp=$(awk '{print $1 + $2}' "$ZG_TMP/spool.time")
printf 'zg-ingest spool:%6d owners in %7.2f s = %7.0f owners/s, %.2fx knsupdate; gateway CPU %.2f s = %.1f%% of knotd (%.1f s)\n' \
	"$total" "$t_sp" "$(echo "$total / $t_sp" | bc -l)" "$(echo "$t_nsu / $t_sp" | bc -l)" "$g_sp" "$(echo "100 * $g_sp * $TICK / $c_sp" | bc -l)" "$(echo "$c_sp / $TICK" | bc -l)"
[ -z "$(ls "$sp/failed")" ] || echo "refused: $(cat "$sp"/failed/*.error)"

# The same messages again: nothing left to change, so this is the cost of
# the reads alone (the gateway's queries and knotd answering them), which the
# knotd CPU of the spool run above includes.
sp0=$ZG_TMP/spool-noop; mkdir -p "$sp0/incoming"
for f in "$ZG_TMP"/spool-*.json; do cp "$f" "$sp0/incoming/"; done
c0=$(cpu_of "$kpid"); t0=$(now)
/usr/bin/time -f '%U %S' -o "$ZG_TMP/noop.time" "$ZGI" run --source "spool:$sp0" -s "127.0.0.1@$port" -c "$ZG_TMP/s/knot.sock" -y "$key" --once -q -t 60 >"$ZG_TMP/noop.out" 2>&1
t_r=$(echo "$(now) - $t0" | bc); c_r=$(( $(cpu_of "$kpid") - c0 ))
g_r=$(awk '{print $1 + $2}' "$ZG_TMP/noop.time")
printf 'zg-ingest spool again (all no-ops, reads only): %.2f s; gateway CPU %.2f s, knotd CPU %.2f s\n' \
	"$t_r" "$g_r" "$(echo "$c_r / $TICK" | bc -l)"
if [ "$c_sp" -gt "$c_r" ]; then
	printf 'gateway CPU of the spool run: %.1f%% of knotd'"'"'s CPU in that run, %.1f%% of it without answering the reads, %.1f%% of knotd'"'"'s CPU for the knsupdate path\n' \
		"$(echo "100 * $g_sp * $TICK / $c_sp" | bc -l)" "$(echo "100 * $g_sp * $TICK / ($c_sp - $c_r)" | bc -l)" "$(echo "100 * $g_sp * $TICK / $c_nsu" | bc -l)"
fi

# PostgreSQL path.
if zg_pg_start "$ZG_TMP/pg" >/dev/null 2>&1; then
	"$ZGI" run --source "$ZG_PG_URI" -z test. -s "127.0.0.1@$port" -c "$ZG_TMP/s/knot.sock" -y "$key" --once -q --consumer bench >/dev/null 2>&1
	for f in "$ZG_TMP"/pg-*.json; do printf "INSERT INTO zonegate_queue (zone, message) VALUES ('test.', \$j\$%s\$j\$);\n" "$(cat "$f")"; done >"$ZG_TMP/pg.sql"
	psql -X -q -f "$ZG_TMP/pg.sql"
	c0=$(cpu_of "$kpid"); t0=$(now)
	/usr/bin/time -f '%U %S' -o "$ZG_TMP/pg.time" "$ZGI" run --source "$ZG_PG_URI" -z test. -s "127.0.0.1@$port" -c "$ZG_TMP/s/knot.sock" -y "$key" --once -q -t 60 --consumer bench >"$ZG_TMP/pg.out" 2>&1
	t_pg=$(echo "$(now) - $t0" | bc); c_pg=$(( $(cpu_of "$kpid") - c0 ))
	g_pg=$(awk '{print $1 + $2}' "$ZG_TMP/pg.time")
	printf 'zg-ingest pg:   %6d owners in %7.2f s = %7.0f owners/s, %.2fx knsupdate; gateway CPU %.2f s = %.1f%% of knotd (%.1f s)\n' \
		"$total" "$t_pg" "$(echo "$total / $t_pg" | bc -l)" "$(echo "$t_nsu / $t_pg" | bc -l)" "$g_pg" "$(echo "100 * $g_pg * $TICK / $c_pg" | bc -l)" "$(echo "$c_pg / $TICK" | bc -l)"
	psql -X -A -t -c "SELECT 'pg rows: ' || string_agg(state || '=' || n, ' ') FROM (SELECT state, count(*) n FROM zonegate_queue GROUP BY state) s"
else
	echo "zg-ingest pg:   skipped (PostgreSQL did not start)"
fi

# Latency: a running gateway (default poll interval; a new file wakes it up),
# messages enqueued one at a time, 0.5 s apart once the previous is served.
lsp=$ZG_TMP/lspool; mkdir -p "$lsp/incoming"
( exec "$ZGI" run --source "spool:$lsp" -s "127.0.0.1@$port" -c "$ZG_TMP/s/knot.sock" -y "$key" -q -t 60 >"$ZG_TMP/lat.out" 2>&1 ) &
lgw=$!
zg_track_pid "$lgw"
log0=$(wc -l <"$ZG_TMP/s/knotd.log")
# Served = an authoritative UDP answer for the message's last owner carries
# its new DS digest; polled every 5 ms from one process (not a kdig per poll,
# which would compete with knotd for the CPUs).
"$PYTHON3" - "$port" "$lsp" "$ZG_TMP"/lat-*.json >"$ZG_TMP/lat.txt" <<'PY'
import os, random, shutil, socket, struct, sys, time
port, spool, files = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.2)
def served(owner, digest):
    qid = random.randrange(65536)
    q = struct.pack("!6H", qid, 0, 1, 0, 0, 0)
    q += b"".join(bytes([len(l)]) + l.encode() for l in owner.rstrip(".").split("."))
    q += b"\0" + struct.pack("!HH", 43, 1)
    s.sendto(q, ("127.0.0.1", port))
    try:
        a = s.recv(65535)
    except socket.timeout:
        return False
    return a[:2] == q[:2] and digest in a
for f in files:
    owner, digest = open(f[:-5] + ".last").read().split()
    digest = bytes.fromhex(digest)
    b = os.path.basename(f)
    t0 = time.monotonic()
    shutil.copyfile(f, f"{spool}/{b}.tmp")
    os.rename(f"{spool}/{b}.tmp", f"{spool}/incoming/{b}")
    while not served(owner, digest):
        if time.monotonic() - t0 > 60:
            print(f"timeout waiting for {owner}", file=sys.stderr)
            break
        time.sleep(0.005)
    print("%.3f" % (time.monotonic() - t0))
    time.sleep(0.5)
PY
zg_stop_pid "$lgw"
pct='{v[NR]=$1} END {p50=v[int((NR+1)/2)]; i=int(NR*0.99+0.999); if (i>NR) i=NR; printf "%d, p50 %.2f s, p99 %.2f s, max %.2f s\n", NR, p50, v[i], v[NR]}'
printf 'latency enqueue->served, messages of %d owners: ' "$OWNERS"
sort -n "$ZG_TMP/lat.txt" | awk "$pct"
# How much of it is knotd's own work: the "DDNS, finished ... N seconds" of
# each UPDATE batch knotd applied meanwhile (a message may take two).
printf 'of which knotd applying and signing (its log), UPDATE batches: '
tail -n +"$((log0 + 1))" "$ZG_TMP/s/knotd.log" | sed -n 's/.*DDNS, finished, .*, \([0-9.]*\) seconds$/\1/p' | sort -n | awk "$pct"
zg_knotd_stop "$ZG_TMP/s"

# init vs knotd loading and signing the same zone from a file. The signer
# keeps the whole zone in its journal (journal-content: all): a signed zone
# of 1M delegations needs more than the default journal-max-usage (100 MiB),
# else Knot fails the load (and the commit) with "not enough space provided".
# Two kinds of init: into a zone knotd has no data for (started without a
# zone file; the transaction is the whole zone and the commit signs it as a
# whole, as a load does) and into a served zone (SOA and apex NS there; the
# records are added and signed incrementally).
big="    journal-max-usage: 4G"
init_run() { # SIGNER_DIR FILE: seconds until the last DS is served signed
	local t0
	t0=$(now)
	if "$ZGI" init -c "$1/knot.sock" -z test. -t 3600 -q "$2" &&
	   zg_wait 600 served_signed "$last"; then
		echo "$(now) - $t0" | bc
	else
		echo "init failed: $(grep -E "error|failed" "$1/knotd.log" | tail -n 1)" >&2
		echo 0
	fi
}
if [ "$INIT_N" -gt 0 ]; then
	zg_genzone test. "$INIT_N" 3 >"$ZG_TMP/init.zone"
	# Done = the last secure delegation of the file is served signed.
	last=$(awk '$2 == "DS" {o = $1} END {print o}' "$ZG_TMP/init.zone").test.
	port=$(zg_free_port)
	signer_conf "$ZG_TMP/f" "$ZG_TMP/init.zone" "$big"
	t0=$(now)
	start_signer "$ZG_TMP/f" -
	zg_wait 600 served_signed "$last" || echo "$last not served signed" >&2
	t_file=$(echo "$(now) - $t0" | bc)
	zg_knotd_stop "$ZG_TMP/f"

	port=$(zg_free_port)
	zg_genzone test. 0 >"$ZG_TMP/empty.zone"
	d=$ZG_TMP/u
	signer_conf "$d" "$ZG_TMP/empty.zone" "$big"
	rm "$d/zones/test.zone"
	zg_knotd_start "$d" 2>/dev/null || { echo "knotd did not start" >&2; exit 1; }
	zg_wait 60 zg_knotc "$d" zone-status test. || { echo "no zone-status" >&2; exit 1; }
	t_full=$(init_run "$d" "$ZG_TMP/init.zone")
	zg_knotd_stop "$d"

	port=$(zg_free_port)
	start_signer "$ZG_TMP/i" "$ZG_TMP/empty.zone" "$big"
	grep -vE '^[ab]\.nic ' "$ZG_TMP/init.zone" >"$ZG_TMP/init-rest.zone"
	t_incr=$(init_run "$ZG_TMP/i" "$ZG_TMP/init-rest.zone")
	zg_knotd_stop "$ZG_TMP/i"
	printf 'init of %d delegations: knotd from file %.1f s; zg-ingest init into an unloaded zone %.1f s = %.2fx, into a served zone %.1f s = %.2fx\n' \
		"$INIT_N" "$t_file" "$t_full" "$(echo "$t_full / $t_file" | bc -l)" "$t_incr" "$(echo "$t_incr / $t_file" | bc -l)"
fi
