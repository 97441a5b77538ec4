#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Benchmark (issue 20): registry commit to a validated, signed answer at a
# public secondary, the whole pipeline on loopback, against the path an
# operator builds without zonegate, in one run.
#
# zonegate (doc/hidden-primary.md, built by tests/func/topology-lib.sh from
# the page's own knot.conf blocks):
#   the registry queue  PostgreSQL (zonegate_queue; the spool as a second run)
#   A  127.0.0.1  the signer: mod-ingest consuming the queue, SoftHSM, Knot's
#                 signer (ECDSA P-256, NSEC3 opt-out), the registry settings
#                 of modules/ingest/ingest.rst
#   V  127.0.0.2  the hidden primary: mod-validate follows A by IXFR and lets
#                 only validated serials out
#   P  127.0.0.3  a public secondary of V
# the peer path (the same page's blocks without the modules):
#   B  127.0.0.4  a plain Knot signer fed by knsupdate (250 owners per UPDATE)
#   S  127.0.0.5  a Knot secondary of B with `dnssec-validation: on`
#   Q  127.0.0.6  a public secondary of S
# Every secondary gets the same journal settings (zonefile-sync: -1,
# journal-content: all, journal-max-depth: 1000, journal-max-usage: 4G):
# Knot's default zonefile-sync of 0 writes the whole zone file after every
# serial, which no registry runs. With these, a journal that reaches its
# depth folds its changesets into the zone it holds (a merge; Knot 3.2 logs
# none): the soak samples each journal's occupancy every minute (a fall by
# half is a merge) and reports the signer's longest pauses between applied
# messages (the merge runs in the update that reaches the depth).
#
# A producer commits messages of OWNERS owners at a steady RATE (owners/s):
# one third new delegations with NS and DS, one third changed NS sets of
# existing delegations (and DS sets, of those that have one: a delegation
# keeps its security, so the zone keeps its shape), one third removed
# delegations (the oldest that an
# earlier message of the same path added, while there is one: the zone keeps
# its size, so a soak's RSS shows the pipeline's growth, not the zone's; the
# runs of 2026-12-07 before this removed existing ones and the zone grew by
# the new ones, 200,000 to 369,340 delegations over a soak; the last owner of
# each message, which the checkers ask for, is never removed). zonegate's messages
# go into the queue (their commit time: the INSERT's commit, or the rename
# into incoming/); the peer's are the same changes sent with knsupdate at the
# same schedule (their commit time: the scheduled time; knsupdate runs one
# message at a time, as an operator's script does).
#
# Freshness of a message: from its commit to the first moment the public
# secondary (P, or Q) answers for the message's last owner (a new delegation)
# with its new DS and an RRSIG over it (check.py asks every 10 ms, message
# after message; a second checker asks the signer, A or B, to split the
# time). A poller records the serials P serves (its SOA every 10 ms), so the
# end can check that each was validated by V. At the end of each run the
# last new delegation of the last message is checked once more with kdig.
#
# For each path the rates in RATES (the peer: PEER_RATES) are tried in turn until freshness is no
# longer bounded (a message not served within DRAIN s after the last commit,
# or freshness growing over the run, by its least-squares slope, by more than
# 1 s or half the median: a growing backlog). The sustainable rate is the
# highest bounded one; freshness at 50% and 80% of it is measured after.
#
#   ZG_BENCH_E2E_ZONE=1000000         delegations (bench/genzone.py; 200000 for a quick run)
#   ZG_BENCH_E2E_OWNERS="100 1000"    owners per message
#   ZG_BENCH_E2E_RATES="250 500 1000 2000 4000 8000"  owners/s tried, in order
#   ZG_BENCH_E2E_PEER_RATES=RATES     the same for the peer path (its limit is lower:
#                                     "50 100 250" saves the 1M run the peer's
#                                     unbounded runs, and zonegate's slow ones)
#   ZG_BENCH_E2E_DURATION=60          seconds of commits per run
#   ZG_BENCH_E2E_DRAIN=60             bound (s) after the last commit
#   ZG_BENCH_E2E_QUEUES="pg spool"    zonegate's queues (the ladder runs on the first)
#   ZG_BENCH_E2E_SOAK=0               seconds of the soak at 80% of the sustainable
#                                     rate (1800 for the issue's soak; 0: none)
#   ZG_BENCH_E2E_FINAL_DRAIN=900      bound (s) of the wait for the backlog before the final checks
#   ZG_BENCH_E2E_OUT=bench/out/e2e    figures, series, plots and the logs of A, V and P
#
# Also printed: CPU seconds per component and run; at the end, every message
# applied exactly once (queue rows), the zone every public secondary serves
# against a model of the initial zone plus every message (NS and DS of every
# delegation), zg-verify of the distribution server's zone, and that every
# serial P ever served was validated by V.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
ZONE_N=${ZG_BENCH_E2E_ZONE:-1000000}
OWNERS_LIST=${ZG_BENCH_E2E_OWNERS:-"100 1000"}
RATES=${ZG_BENCH_E2E_RATES:-"250 500 1000 2000 4000 8000"}
PEER_RATES=${ZG_BENCH_E2E_PEER_RATES:-$RATES}
DURATION=${ZG_BENCH_E2E_DURATION:-60}
DRAIN=${ZG_BENCH_E2E_DRAIN:-60}
QUEUES=${ZG_BENCH_E2E_QUEUES:-"pg spool"}
SOAK=${ZG_BENCH_E2E_SOAK:-0}
OUT=${ZG_BENCH_E2E_OUT:-$top_srcdir/bench/out/e2e}
export ZG_SRCDIR=$top_srcdir ZG_BUILDDIR=$top_builddir
. "$top_srcdir/tests/func/lib.sh"
zg_init
. "$top_srcdir/tests/func/topology-lib.sh"
zg_snapshot_modules
ZGV=$top_builddir/tools/zg-verify
mkdir -p "$OUT" || exit 2
rm -f "$OUT"/fresh-run*.txt "$OUT"/soak-minutes.txt "$OUT"/*.png
log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "$*"; exit 1; }
command -v softhsm2-util >/dev/null || die "softhsm2-util not installed"
command -v knsupdate >/dev/null || die "knsupdate not installed"
TICK=$(getconf CLK_TCK)

zg_softhsm_init "$ZG_TMP/hsm" zonegate 1234 >/dev/null || die "SoftHSM token"
zg_pg_start "$ZG_TMP/pg" >/dev/null 2>&1 || die "PostgreSQL did not start"
# The queue's schema as the operator makes it (doc/postgresql.md).
psql -X -q -v ON_ERROR_STOP=1 -f "$top_srcdir/doc/zonegate-queue.sql" >/dev/null || die "the queue's DDL failed"
log "zone of $ZONE_N delegations"
zg_genzone example. "$ZONE_N" 1 >"$ZG_TMP/example.zone"

# ---- the two topologies -------------------------------------------------
declare -a TOPO_ADDR TOPO_PORT TOPO_DIR
declare -A H_ADDR H_PORT H_DIR
SECONDARY_SETTINGS='    zonefile-sync: -1
    journal-content: all
    journal-max-depth: 1000
    journal-max-usage: 4G'
SIGNER_SETTINGS='    zonefile-load: difference
    journal-max-depth: 1000
    journal-max-usage: 4G'
# add_zone_items: appends lines ($1) to the zone section of a knot.conf (stdin).
add_zone_items() {
	awk -v items="$1" '{ print } /^  - domain: / { print items }'
}
# topology NAMES... FIRST-OCTET: the page's three hosts as NAME1..3 on
# 127.0.0.FIRST-OCTET+0..2.
topology() {
	local first=$4 n name
	for n in 1 2 3; do
		name=${!n}
		H_ADDR[$name]=127.0.0.$((first + n - 1))
		H_PORT[$name]=$(zg_free_port)
		H_DIR[$name]=$ZG_TMP/$name
		TOPO_ADDR[$n]=${H_ADDR[$name]} TOPO_PORT[$n]=${H_PORT[$name]} TOPO_DIR[$n]=${H_DIR[$name]}
	done
}
topology A V P 1
for n in 1 2 3; do topo_conf "$n" >"${TOPO_DIR[$n]}.conf" || die "doc/hidden-primary.md: no block for host $n"; done
awk -v uri="$ZG_PG_URI" '/^    source: spool:/ { print "    source: \"" uri "\""; next } { print }' \
	"$ZG_TMP/A.conf" >"$ZG_TMP/A.conf.pg" && mv "$ZG_TMP/A.conf.pg" "$ZG_TMP/A.conf"
add_zone_items "$SIGNER_SETTINGS" <"$ZG_TMP/A.conf" >"$ZG_TMP/A/knot.conf"
add_zone_items "$SECONDARY_SETTINGS" <"$ZG_TMP/V.conf" >"$ZG_TMP/V/knot.conf"
add_zone_items "$SECONDARY_SETTINGS" <"$ZG_TMP/P.conf" >"$ZG_TMP/P/knot.conf"
SIGNER_KEY=$(awk '/- id: signer-key/ { f = 1 } f && /secret:/ { print $2; exit }' "$ZG_TMP/A/knot.conf")
PUB_KEY=$(awk '/- id: distribution-public/ { f = 1 } f && /secret:/ { print $2; exit }' "$ZG_TMP/V/knot.conf")

topology B S Q 4
for n in 1 2 3; do topo_conf "$n" >"${TOPO_DIR[$n]}.conf" || exit 1; done
# B: no mod-ingest; knsupdate connects from 127.0.0.1.
sed -e '/^mod-ingest:/,/^$/d' -e '/^    module: mod-ingest/d' \
	-e '/- id: ingest$/,/action:/ s|^    address: .*|    address: 127.0.0.1|' "$ZG_TMP/B.conf" |
	add_zone_items "$SIGNER_SETTINGS" >"$ZG_TMP/B/knot.conf"
# S: Knot's own validation instead of mod-validate.
sed -e '/^mod-validate:/,/^$/d' -e '/^    module: mod-validate/d' "$ZG_TMP/S.conf" |
	add_zone_items "$SECONDARY_SETTINGS
    dnssec-validation: on" >"$ZG_TMP/S/knot.conf"
add_zone_items "$SECONDARY_SETTINGS" <"$ZG_TMP/Q.conf" >"$ZG_TMP/Q/knot.conf"

for h in A B; do
	mkdir -p "${H_DIR[$h]}/lib/ingest"
	cp "$ZG_TMP/example.zone" "${H_DIR[$h]}/lib/example.zone"
done
serial_at() { # HOST: the serial it serves
	kdig @"${H_ADDR[$1]}" -p "${H_PORT[$1]}" example. SOA +short +time=2 +retry=0 2>/dev/null | awk '{print $3}'
}
same_serial() { local a b; a=$(serial_at "$1"); b=$(serial_at "$2"); [ -n "$a" ] && [ "$a" = "$b" ]; }
signed() { zg_knotc "${H_DIR[$1]}" zone-read example. @ DNSKEY 2>/dev/null | grep -q DNSKEY; }
t0=$(date +%s)
for h in A B; do
	zg_knotd_start "${H_DIR[$h]}" 2>/dev/null || zg_wait 3600 zg_knotc "${H_DIR[$h]}" status || die "$h did not start"
done
zg_wait 3600 signed A && zg_wait 3600 signed B || die "the signers did not sign"
log "signers loaded and signed the zone in $(( $(date +%s) - t0 )) s"
for h in V S P Q; do
	zg_knotd_start "${H_DIR[$h]}" 2>/dev/null || zg_wait 3600 zg_knotc "${H_DIR[$h]}" status || die "$h did not start"
done
zg_wait 3600 same_serial A P && zg_wait 3600 same_serial B Q || die "the public secondaries did not get the zone"
log "public secondaries serve the signed, validated zone after $(( $(date +%s) - t0 )) s"
pid_of() { cat "${H_DIR[$1]}/knotd.pid"; }
cpu_of() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
pg_cpu() { # the whole cluster's CPU ticks
	local t=0 p
	for p in $(pgrep -u "$(id -u "${PGUSER:-postgres}")" postgres); do t=$((t + $(cpu_of "$p"))); done
	echo "$t"
}
rss_mb() { awk '$1 == "VmRSS:" {printf "%.0f", $2 / 1024}' "/proc/$1/status" 2>/dev/null; }
# The private memory alone (VmRSS also counts the journal's mapped LMDB pages).
anon_mb() { awk '$1 == "RssAnon:" {printf "%.0f", $2 / 1024}' "/proc/$1/status" 2>/dev/null; }
# journal_mb HOST: what example.'s journal occupies (MB; Knot's metadata,
# read-only, beside the running knotd), or - when unknown. A merge of the
# journal (at journal-max-depth: the changesets folded into the zone stored
# in the journal) makes it fall; Knot 3.2 does not log a merge.
journal_mb() {
	# (the storage of doc/hidden-primary.md's hosts is lib/)
	kjournalprint -D "${H_DIR[$1]}/lib/journal" -z -d 2>/dev/null |
		awk '$1 == "example." { v = $2 } END { if (v == "") print "-"; else printf "%.0f\n", v / 1024 }'
}

# ---- the producer, the poller and the model --------------------------------
cat >"$ZG_TMP/produce.py" <<'PY'
# produce.py MODE RATE OWNERS DURATION RUN NAMES_FILE CURSOR_FILE OUT_PREFIX [ARGS]
#  MODE pg: ARGS none (psql from the environment); spool: ARGS SPOOL_DIR;
#  nsu: ARGS SERVER PORT KEY (knsupdate -y KEY), SOA from SERVER PORT.
# Writes OUT_PREFIX.msgs (one JSON message per line, for the model) and
# OUT_PREFIX.commits ("ID COMMIT_TIME [SERIAL]").
import hashlib, json, os, socket, struct, subprocess, sys, time
mode, rate, owners, duration, run = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
names = open(sys.argv[6]).read().split()
# The existing delegations that have a DS: a changed one keeps its security
# (a new DS if it had one, none if it had none), so the zone keeps its
# shape; giving every changed one a DS added an NSEC3 record and two RRSIGs
# per insecure delegation until the cursor had been round (the soak of
# 2026-12-07 16:18: content and RSS grew until minute 19, then held).
secure = set(open(sys.argv[6] + ".ds").read().split())
# Those with an in-bailiwick name server (ns1.NAME, glue): a changed one
# keeps it and gets one other NS, as it had; the others keep one NS. So a
# change keeps the NS count too (giving every changed delegation two made
# the 16:58 soak's content grow until the cursor had been round).
glued = set(open(sys.argv[6] + ".glue").read().split())
cursor_file, out = sys.argv[7], sys.argv[8]
cur = int(open(cursor_file).read()) if os.path.exists(cursor_file) else 0
# The delegations this path's earlier messages added and none removed yet,
# oldest first: a removal takes the oldest of them, so the zone keeps its
# size over a long run (the soak's RSS is the pipeline's, not the zone's).
fifo_file = cursor_file + (".nsu" if mode == "nsu" else ".zg") + ".added"
added = open(fifo_file).read().split() if os.path.exists(fifo_file) else []
head = 0
interval = owners / rate
count = max(1, int(duration / interval))
def last_of(m):
    c = m["changes"][-1]
    return c["owner"] + " " + c["rrsets"][1]["rdata"][0].split()[3]
def ds(o, tag):
    h = hashlib.sha256((o + tag).encode()).hexdigest().upper()
    return f"{int(h[:4], 16)} 13 2 {h}"
msgs = []
for m in range(count):
    ch = []
    before = len(added)   # never an owner this message adds
    for k in range(owners):
        kind = k % 3
        if kind == 0:   # a new delegation
            o = f"e2e-{run}-{m}-{k}.example."
            tag = "new"
            added.append(o)
        elif kind == 2 and head < before:   # removed: the oldest added one
            o = added[head]; head += 1
            tag = ""
        else:           # an existing one: changed, or removed
            # (Past the end of the list it starts again: a removed delegation
            # comes back, a changed one changes again; the model follows.)
            n = names[cur % len(names)]; cur += 1
            # A removal never takes one with glue: a later change keeps its
            # in-bailiwick name server, whose glue the removal took with it.
            while kind == 2 and n in glued:
                n = names[cur % len(names)]; cur += 1
            o = n + ".example."
            tag = f"{run}-{m}" if n in secure else None
        if kind == 2:
            ch.append({"owner": o, "rrsets": []})
        else:
            if tag == "new":
                ns = [f"ns1.e2e{m % 5}.example.net.", f"ns2.e2e{m % 5}.example.net."]
            elif n in glued:
                ns = [f"ns1.{o}", f"ns.e2e{m % 5}.example.net."]
            else:
                ns = [f"ns.e2e{m % 5}.example.net."]
            rr = [{"type": "NS", "ttl": 3600, "rdata": ns}]
            if tag is not None:
                rr.append({"type": "DS", "ttl": 3600, "rdata": [ds(o, tag)]})
            ch.append({"owner": o, "rrsets": rr})
    # The last owner a new delegation: the run's final check and the
    # freshness checkers ask for it. It is never removed (not in the list a
    # removal takes from): the list is short, so a removal a few messages
    # later took it while a checker still waited for it, and the checker
    # then waited until the drain's end and counted every later message
    # unserved (the 19:31 soak of 2026-12-07, after a pause of the signer).
    ch.append({"owner": f"e2e-{run}-{m}-last.example.", "rrsets": [
        {"type": "NS", "ttl": 3600, "rdata": ["ns1.e2e.example.net.", "ns2.e2e.example.net."]},
        {"type": "DS", "ttl": 3600, "rdata": [ds(f"e2e-{run}-{m}-last.example.", "new")]}]})
    msgs.append({"version": 1, "id": f"e2e-{run}-{m:06d}", "zone": "example.", "changes": ch})
open(cursor_file, "w").write(str(cur))
open(fifo_file, "w").write("\n".join(added[head:]))
with open(out + ".msgs", "w") as f:
    for m in msgs: f.write(json.dumps(m) + "\n")
def nsu_script(m, server, port):
    parts, lines = [], []
    for i, c in enumerate(m["changes"]):
        o = c["owner"]
        lines.append(f"del {o}")
        for rr in c["rrsets"]:
            for rd in rr["rdata"]:
                lines.append(f"add {o} {rr['ttl']} {rr['type']} {rd}")
        if (i + 1) % 250 == 0 or i + 1 == len(m["changes"]):
            parts.append(f"server {server} {port}\nzone example.\n" + "\n".join(lines) + "\nsend\n")
            lines = []
    return "".join(parts)
psql = None
if mode == "pg":
    psql = subprocess.Popen(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, bufsize=1)
commits = open(out + ".commits", "w")
start = time.time() + 0.5
late = 0.0
for i, m in enumerate(msgs):
    due = start + i * interval
    d = due - time.time()
    if d > 0: time.sleep(d)
    else: late = max(late, -d)
    body = json.dumps(m)
    if mode == "pg":
        psql.stdin.write("INSERT INTO zonegate_queue (zone, message) VALUES ('example.', $zg$" + body + "$zg$) RETURNING id;\n")
        psql.stdin.flush()
        psql.stdout.readline()
        commits.write(f"{m['id']} {time.time():.6f} {last_of(m)}\n")
    elif mode == "spool":
        sp = sys.argv[9]
        tmp = f"{sp}/{m['id']}.json.tmp"
        with open(tmp, "w") as f: f.write(body)
        os.rename(tmp, f"{sp}/incoming/{m['id']}.json")
        commits.write(f"{m['id']} {time.time():.6f} {last_of(m)}\n")
    else:
        server, port, key = sys.argv[9], int(sys.argv[10]), sys.argv[11]
        r = subprocess.run(["knsupdate", "-y", key], input=nsu_script(m, server, port), text=True,
                           capture_output=True)
        if r.returncode != 0:
            print(f"knsupdate failed for {m['id']}: {r.stderr.strip()}", file=sys.stderr)
        commits.write(f"{m['id']} {due:.6f} {last_of(m)}\n")
    commits.flush()
commits.close()
open(out + ".done", "w").write(f"{time.time():.6f}\n")
if psql:
    psql.stdin.close(); psql.wait()
print(f"producer: {len(msgs)} messages of {owners + 1} owners, most late {late:.2f} s", file=sys.stderr)
PY
cat >"$ZG_TMP/poll.py" <<'PY'
# poll.py STOPFILE OUT ADDR:PORT...: "TIME ADDR:PORT SERIAL" at every change,
# each server's SOA asked every 10 ms over UDP, until STOPFILE exists.
import os, socket, struct, sys, time
stop, out, servers = sys.argv[1], sys.argv[2], [(a.split(":")[0], int(a.split(":")[1])) for a in sys.argv[3:]]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(0.2)
last = {}
qid = 0
f = open(out, "a", buffering=1)
def skip(r, i):
    while True:
        l = r[i]
        if l == 0: return i + 1
        if l & 0xc0: return i + 2
        i += l + 1
while not os.path.exists(stop):
    for a in servers:
        qid = (qid + 1) & 0xffff
        q = struct.pack("!HHHHHH", qid, 0, 1, 0, 0, 0) + b"\x07example\x00" + struct.pack("!HH", 6, 1)
        try:
            s.sendto(q, a)
            while True:
                r = s.recv(4096)
                if r[:2] == q[:2]: break
        except OSError:
            continue
        if struct.unpack("!H", r[6:8])[0] < 1: continue
        i = skip(r, 12) + 4; i = skip(r, i) + 10; i = skip(r, skip(r, i))
        ser = struct.unpack("!I", r[i:i + 4])[0]
        if last.get(a) != ser:
            last[a] = ser
            f.write(f"{time.time():.6f} {a[0]}:{a[1]} {ser}\n")
    time.sleep(0.01)
PY
cat >"$ZG_TMP/check.py" <<'PY'
# check.py COMMITS DONEFILE ADDR PORT DRAIN OUT: for every message the
# producer committed (in order), asks the public secondary for the DS of its
# last owner (DO bit, every 10 ms) until the answer holds the new DS and a
# signature over it; writes "ID COMMIT SERVED" (SERVED -1: not within DRAIN s
# after the producer's end).
import random, socket, struct, sys, time
commits, donefile, addr, port, drain, out = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(0.2)
def served(owner, digest):
    qid = random.randrange(65536)
    q = struct.pack("!6H", qid, 0, 1, 0, 0, 1)
    q += b"".join(bytes([len(l)]) + l.encode() for l in owner.rstrip(".").split(".")) + b"\0"
    q += struct.pack("!HH", 43, 1) + b"\0" + struct.pack("!HHIH", 41, 1232, 0x8000, 0)
    try:
        s.sendto(q, (addr, port))
        while True:
            a = s.recv(65535)
            if a[:2] == q[:2]: break
    except OSError:
        return False
    # The new DS and its RRSIG in the answer section.
    return struct.unpack("!H", a[6:8])[0] >= 2 and digest in a
def deadline():
    try:
        return float(open(donefile).read()) + drain
    except (OSError, ValueError):
        return None
def next_line(f):
    buf = ""
    while True:
        piece = f.readline()
        buf += piece
        if buf.endswith("\n"):
            return buf
        if not piece and deadline() is not None:
            # The producer is done: what is not there now never comes.
            piece = f.readline(); buf += piece
            return buf if buf.endswith("\n") else None
        time.sleep(0.01)
f = None
while f is None:
    try:
        f = open(commits)
    except OSError:
        if deadline() is not None: sys.exit(0)
        time.sleep(0.05)
o = open(out, "w", buffering=1)
while True:
    line = next_line(f)
    if line is None: break
    mid, t, owner, digest = line.split()
    digest = bytes.fromhex(digest)
    got = -1.0
    while True:
        if served(owner, digest):
            got = time.time(); break
        d = deadline()
        if d is not None and time.time() > d: break
        time.sleep(0.01)
    o.write(f"{mid} {t} {got:.6f}\n")
PY
cat >"$ZG_TMP/fresh.py" <<'PY'
# fresh.py CHECKED SERIES: "N p50 p99 max unserved bounded growth"; SERIES
# gets "COMMIT FRESHNESS" per message. growth: the least-squares slope of
# freshness over commit time, times the run's length (s); bounded: every
# message served and growth at most max(1 s, half the median).
import sys
fr, ts, unserved = [], [], 0
with open(sys.argv[2], "w") as out:
    for line in open(sys.argv[1]):
        mid, t, got = line.split()
        t, got = float(t), float(got)
        if got < 0:
            unserved += 1; continue
        fr.append(max(0.0, got - t))
        ts.append(t)
        out.write(f"{t:.3f} {fr[-1]:.3f}\n")
def pct(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * q))] if v else -1
n = len(fr)
if n == 0:
    print("0 -1 -1 -1 %d no 0" % unserved); sys.exit(0)
mt, mf = sum(ts) / n, sum(fr) / n
var = sum((t - mt) ** 2 for t in ts)
slope = sum((t - mt) * (f - mf) for t, f in zip(ts, fr)) / var if var > 0 else 0.0
growth = slope * (ts[-1] - ts[0])
bounded = unserved == 0 and growth <= max(1.0, 0.5 * pct(fr, 0.5))
print("%d %.3f %.3f %.3f %d %s %.2f" % (n, pct(fr, 0.5), pct(fr, 0.99), max(fr), unserved, "yes" if bounded else "no", growth))
PY
grep -E '^(d[0-9]+x[0-9a-f]+) NS ' "$ZG_TMP/example.zone" | awk '{print $1}' | awk '!s[$0]++' >"$ZG_TMP/names"
grep -E '^(d[0-9]+x[0-9a-f]+) DS ' "$ZG_TMP/example.zone" | awk '{print $1}' | awk '!s[$0]++' >"$ZG_TMP/names.ds"
grep -E '^ns1\.(d[0-9]+x[0-9a-f]+) A ' "$ZG_TMP/example.zone" | awk '{sub(/^ns1\./, "", $1); print $1}' >"$ZG_TMP/names.glue"
touch "$ZG_TMP/poll.txt"
( exec "$PYTHON3" "$ZG_TMP/poll.py" "$ZG_TMP/poll.stop" "$ZG_TMP/poll.txt" "${H_ADDR[P]}:${H_PORT[P]}" ) &
poller=$!
zg_track_pid "$poller"

# ---- one run ------------------------------------------------------------
RUN=0
OURS_SERIES= PEER_SERIES=
SUMMARY=$OUT/summary.txt
: >"$SUMMARY"
# run PATH RATE OWNERS DURATION: prints "N p50 p99 max unserved bounded" and
# the CPU seconds per component.
run() {
	RUN=$((RUN + 1))
	local path=$1 rate=$2 owners=$3 dur=$4 pre=$ZG_TMP/run$RUN
	local comps h c0=() p0 sec=P sig=A
	comps=(A V P B S Q)
	for h in "${comps[@]}"; do c0+=("$(cpu_of "$(pid_of "$h")")"); done
	p0=$(pg_cpu)
	[ "$path" = nsu ] && sec=Q sig=B
	# Two checkers: the public secondary (freshness) and the signer (where
	# the time goes: before the signer serves the change, and after).
	( exec "$PYTHON3" "$ZG_TMP/check.py" "$pre.commits" "$pre.done" "${H_ADDR[$sec]}" "${H_PORT[$sec]}" \
		"$DRAIN" "$pre.checked" ) &
	local checker=$!
	zg_track_pid "$checker"
	( exec "$PYTHON3" "$ZG_TMP/check.py" "$pre.commits" "$pre.done" "${H_ADDR[$sig]}" "${H_PORT[$sig]}" \
		"$DRAIN" "$pre.signed" ) &
	local checker2=$!
	zg_track_pid "$checker2"
	local gw=""
	if [ "$path" = spool ]; then
		# The spool path: zg-ingest, the gateway as its own process, into A.
		mkdir -p "$SPOOL/incoming"
		( exec "$ZGI" run --source "spool:$SPOOL" -s "${H_ADDR[A]}@${H_PORT[A]}" -c "${H_DIR[A]}/run/knot.sock" \
			-y "hmac-sha256:signer-key:$SIGNER_KEY" -q -t 60 >"$pre.gw" 2>&1 ) &
		gw=$!
		zg_track_pid "$gw"
	fi
	case $path in
	pg)    "$PYTHON3" "$ZG_TMP/produce.py" pg "$rate" "$owners" "$dur" "$RUN" "$ZG_TMP/names" "$ZG_TMP/cursor" "$pre" ;;
	spool) "$PYTHON3" "$ZG_TMP/produce.py" spool "$rate" "$owners" "$dur" "$RUN" "$ZG_TMP/names" "$ZG_TMP/cursor" "$pre" "$SPOOL" ;;
	nsu)   "$PYTHON3" "$ZG_TMP/produce.py" nsu "$rate" "$owners" "$dur" "$RUN" "$ZG_TMP/names" "$ZG_TMP/cursor" "$pre" \
	           "${H_ADDR[B]}" "${H_PORT[B]}" "hmac-sha256:signer-key:$SIGNER_KEY" ;;
	esac
	[ -f "$pre.done" ] || date +%s.%N >"$pre.done"
	if [ -n "$gw" ]; then
		# Until the spool is empty (bounded by the checker's drain), then stopped.
		zg_wait "$DRAIN" sh -c "[ -z \"\$(ls '$SPOOL/incoming')\" ]"
	fi
	if [ "$path" = nsu ]; then
		cat "$pre.msgs" >>"$ZG_TMP/peer.msgs" 2>/dev/null
	else
		cat "$pre.msgs" >>"$ZG_TMP/ours.msgs" 2>/dev/null
	fi
	# The checker ends by itself, at the latest DRAIN s after the producer.
	for h in "$checker" "$checker2"; do
		zg_wait $((DRAIN + 30)) sh -c "! kill -0 $h 2>/dev/null" || zg_stop_pid "$h"
		wait "$h" 2>/dev/null
	done
	if [ -n "$gw" ]; then
		printf 'spool gateway (zg-ingest) RSS %s MB, ' "$(rss_mb "$gw")"
		zg_stop_pid "$gw"
	fi
	local res
	res=$("$PYTHON3" "$ZG_TMP/fresh.py" "$pre.checked" "$OUT/fresh-run$RUN-$path-$rate-$owners.txt")
	if [ "$path" = nsu ]; then
		PEER_SERIES=$OUT/fresh-run$RUN-$path-$rate-$owners.txt
	else
		OURS_SERIES=$OUT/fresh-run$RUN-$path-$rate-$owners.txt
	fi
	local split
	split=$("$PYTHON3" "$ZG_TMP/fresh.py" "$pre.signed" /dev/null | awk '{printf "signer serves it: p50 %s p99 %s", $2, $3}')
	local cpu="" i=0
	for h in "${comps[@]}"; do
		cpu+=$(printf ' %s %.1f' "$h" "$(echo "($(cpu_of "$(pid_of "$h")") - ${c0[$i]}) / $TICK" | bc -l)")
		i=$((i + 1))
	done
	cpu+=$(printf ' pg %.1f' "$(echo "($(pg_cpu) - $p0) / $TICK" | bc -l)")
	# The final check: the last new delegation at the public secondary, signed.
	local lastowner check=signed
	lastowner=$(tail -n 1 "$pre.msgs" | "$PYTHON3" -c 'import json,sys; print(json.load(sys.stdin)["changes"][-1]["owner"])')
	kdig @"${H_ADDR[$sec]}" -p "${H_PORT[$sec]}" +dnssec +norec "$lastowner" DS 2>/dev/null |
		grep -Eq "RRSIG[[:space:]]+DS " || check=NOT-SERVED-SIGNED
	printf '%-5s rate %5s owners/s, %4s owners/msg: n p50 p99 max unserved bounded growth = %s (%s); last owner %s; CPU s:%s\n' \
		"$path" "$rate" "$owners" "$res" "$split" "$check" "$cpu" | tee -a "$SUMMARY"
	LAST_BOUNDED=$(echo "$res" | awk '{print $6}')
	[ "$check" = signed ] || LAST_BOUNDED=no
}

# ---- the ladder ------------------------------------------------------------
SPOOL=$ZG_TMP/spool
ZGI=$top_builddir/tools/zg-ingest
if [ -x "$top_builddir/tools/.libs/zg-ingest" ]; then
	# The program itself, as installed, not the build tree's libtool wrapper.
	ZGI=$top_builddir/tools/.libs/zg-ingest
	export LD_LIBRARY_PATH="$top_builddir/lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
Q1=${QUEUES%% *}
declare -A SUST
for owners in $OWNERS_LIST; do
	for path in "$Q1" nsu; do
		SUST[$path-$owners]=0
		rates=$RATES
		[ "$path" = nsu ] && rates=$PEER_RATES
		for rate in $rates; do
			# A message has at least owners+1 owners: no rate below one message per run.
			run "$path" "$rate" "$owners" "$DURATION"
			[ "$LAST_BOUNDED" = yes ] || break
			SUST[$path-$owners]=$rate
		done
		s=${SUST[$path-$owners]}
		echo "sustainable: $path, $owners owners/msg: $s owners/s" | tee -a "$SUMMARY"
		if [ "$s" -gt 0 ]; then
			run "$path" $((s / 2)) "$owners" "$DURATION"
			run "$path" $((s * 8 / 10)) "$owners" "$DURATION"
		fi
	done
	z=${SUST[$Q1-$owners]} p=${SUST[nsu-$owners]}
	if [ "$p" -gt 0 ]; then
		printf 'sustainable rate, %s owners/msg: zonegate %s, peer %s owners/s = %.2fx\n' "$owners" "$z" "$p" \
			"$(echo "$z / $p" | bc -l)" | tee -a "$SUMMARY"
	else
		printf 'sustainable rate, %s owners/msg: zonegate %s, peer below the lowest rate tried (%s)\n' "$owners" "$z" \
			"${PEER_RATES%% *}" | tee -a "$SUMMARY"
	fi
done
# The other queues at 80% of the first one's sustainable rate.
o1=${OWNERS_LIST%% *}
for q in ${QUEUES#"$Q1"}; do
	s=${SUST[$Q1-$o1]}
	[ "$s" -gt 0 ] && run "$q" $((s * 8 / 10)) "$o1" "$DURATION"
done

# ---- the soak --------------------------------------------------------------
if [ "$SOAK" -gt 0 ] && [ "${SUST[$Q1-$o1]}" -gt 0 ]; then
	rate=$((SUST[$Q1-$o1] * 8 / 10))
	log "soak: $SOAK s at $rate owners/s ($o1 owners/msg)"
	( exec "$ZGV" --follow "${H_ADDR[A]}@${H_PORT[A]}" -y "hmac-sha256:signer-key:$SIGNER_KEY" \
		--poll 1 example. >"$ZG_TMP/follow.out" 2>&1 ) &
	follower=$!
	zg_track_pid "$follower"
	: >"$OUT/soak-minutes.txt"
	(
		m=0
		while [ $m -le $((SOAK / 60 + 1)) ]; do
			printf '%d' "$m"
			for h in A V P; do printf ' %s' "$(rss_mb "$(pid_of "$h")")"; done
			printf ' %s' "$(rss_mb "$follower")"
			printf ' %s' "$(psql -X -q -A -t -c "SELECT count(*) || ' ' || coalesce(extract(epoch FROM now() - min(enqueued_at))::int, 0)
				FROM zonegate_queue WHERE state = 'pending'" 2>/dev/null)"
			for h in A V P; do printf ' %s' "$(anon_mb "$(pid_of "$h")")"; done
			printf ' %s' "$(anon_mb "$follower")"
			for h in A V P; do printf ' %s' "$(journal_mb "$h")"; done
			echo
			m=$((m + 1))
			sleep 60
		done
	) >>"$OUT/soak-minutes.txt" &
	sampler=$!
	zg_track_pid "$sampler"
	merges0=$(grep -ci "merg" "${H_DIR[A]}/knotd.log")
	run "$Q1" "$rate" "$o1" "$SOAK"
	zg_stop_pid "$sampler"
	zg_stop_pid "$follower"
	echo "soak, per minute: minute RSS-MB(A V P zg-verify--follow) pending oldest-pending-s RssAnon-MB(A V P zg-verify--follow) journal-MB(A V P)" | tee -a "$SUMMARY"
	cat "$OUT/soak-minutes.txt" | tee -a "$SUMMARY"
	awk 'NR == 3 { for (i = 2; i <= 5; i++) w[i] = $i } { for (i = 2; i <= 5; i++) l[i] = $i }
		END { printf "soak RSS growth after warm-up (minute 2 to the end):"; n = split("A V P follow", nm, " ")
		      for (i = 2; i <= 5; i++) if (w[i] > 0) printf " %s %+.1f%%", nm[i - 1], 100 * (l[i] - w[i]) / w[i]; print "" }' \
		"$OUT/soak-minutes.txt" | tee -a "$SUMMARY"
	awk 'NR == 3 { for (i = 8; i <= 11; i++) w[i] = $i } { for (i = 8; i <= 11; i++) l[i] = $i }
		END { printf "soak RssAnon growth after warm-up (minute 2 to the end):"; n = split("A V P follow", nm, " ")
		      for (i = 8; i <= 11; i++) if (w[i] > 0) printf " %s %+.1f%%", nm[i - 7], 100 * (l[i] - w[i]) / w[i]; print "" }' \
		"$OUT/soak-minutes.txt" | tee -a "$SUMMARY"
	echo "soak: journal merge lines in A's log: $(( $(grep -ci "merg" "${H_DIR[A]}/knotd.log") - merges0 ))" | tee -a "$SUMMARY"
	# Merges from the journal's occupancy: a fall by half or more from one
	# minute to the next (Knot 3.2 logs none).
	awk '{ for (i = 12; i <= 14; i++) { if ($i != "-" && p[i] != "" && p[i] != "-" && $i * 2 <= p[i] + 0)
			mg[i] = mg[i] " " $1; p[i] = $i } }
		END { printf "soak: journal merges (occupancy fell by half or more; at minute):"; n = split("A V P", nm, " ")
		      for (i = 12; i <= 14; i++) printf " %s%s;", nm[i - 11], (mg[i] == "" ? " none" : mg[i]); print "" }' \
		"$OUT/soak-minutes.txt" | tee -a "$SUMMARY"
	# Their effect at the signer: its longest pauses between two applied
	# messages of the soak (the journal write is part of the update).
	grep "applied row .*(message e2e-$RUN-" "${H_DIR[A]}/knotd.log" |
		awk '{ split(substr($1, 12, 8), a, ":"); t = a[1] * 3600 + a[2] * 60 + a[3]
		       if (p != "") print (t < p ? t + 86400 : t) - p, substr($1, 12, 8); p = t }' | sort -rn | head -n 3 |
		awk '{ s = s sprintf(" %d s before %s;", $1, $2) } END { print "soak: the signer'"'"'s longest pauses between applied messages:" s }' |
		tee -a "$SUMMARY"
	printf 'soak: zg-verify --follow (following A) verdicts: %s, of which not VALID: %s\n' \
		"$(grep -c '^zone example\. serial [0-9]*: ' "$ZG_TMP/follow.out")" \
		"$(grep '^zone example\. serial [0-9]*: ' "$ZG_TMP/follow.out" | grep -vc ': VALID, ')" | tee -a "$SUMMARY"
fi

# ---- the end: exactly once, the served zones, validation --------------------
# The backlog drains first (bounded): the served zone is compared with the
# messages applied, and a message still pending is said.
FINAL_DRAIN=${ZG_BENCH_E2E_FINAL_DRAIN:-900}
pending() { psql -X -q -A -t -c "SELECT count(*) FROM zonegate_queue WHERE state = 'pending'" 2>/dev/null; }
t_drain=$(date +%s)
while [ "$(pending)" != 0 ] && [ $(( $(date +%s) - t_drain )) -lt "$FINAL_DRAIN" ]; do sleep 5; done
echo "backlog at the end: $(pending) pending after $(( $(date +%s) - t_drain )) s of drain (bound $FINAL_DRAIN s)" | tee -a "$SUMMARY"
sleep 5   # the last applied serial reaches V and P
psql -X -q -A -t -c "SELECT message->>'id' FROM zonegate_queue WHERE state = 'applied'" >"$ZG_TMP/applied.ids"
touch "$ZG_TMP/poll.stop"
zg_stop_pid "$poller"
psql -X -q -A -t -c "SELECT 'queue rows: ' || count(*) || ', applied ' || count(*) FILTER (WHERE state = 'applied')
	|| ', refused ' || count(*) FILTER (WHERE state = 'refused') || ', distinct ids ' || count(DISTINCT message->>'id')
	FROM zonegate_queue" | tee -a "$SUMMARY"
axfr_of() { # HOST KEYSPEC SOURCE: the zone by AXFR
	kdig -b "$3" ${2:+-y "$2"} @"${H_ADDR[$1]}" -p "${H_PORT[$1]}" example. AXFR +time=60 +noall +answer 2>/dev/null
}
axfr_of V "hmac-sha256:distribution-public:$PUB_KEY" "${H_ADDR[P]}" >"$ZG_TMP/v.axfr"
axfr_of S "hmac-sha256:distribution-public:$PUB_KEY" "${H_ADDR[Q]}" >"$ZG_TMP/s.axfr"
touch "$ZG_TMP/ours.msgs" "$ZG_TMP/peer.msgs"
"$PYTHON3" - "$ZG_TMP/example.zone" "$ZG_TMP/ours.msgs" "$ZG_TMP/v.axfr" "$ZG_TMP/peer.msgs" "$ZG_TMP/s.axfr" \
	"$ZG_TMP/applied.ids" <<'PY' | tee -a "$SUMMARY"
import json, sys
applied = set(l.strip() for l in open(sys.argv[6]) if l.strip())
zone = sys.argv[1]
def key(o): return o.lower().rstrip(".") + "."
initial = {}
def absn(o): return o if o.endswith(".") else o + ".example."
for line in open(zone):
    p = line.split()
    if len(p) >= 3 and p[1] in ("NS", "DS") and p[0] not in ("@",) and not line.startswith(("$", ";")):
        o = key(absn(p[0]))
        if o == "example.": continue
        rd = " ".join(p[2:]).lower()
        initial.setdefault(o, {}).setdefault(p[1], set()).add(absn(rd) if p[1] == "NS" else rd)
def apply(msgs, only=None):
  model = {o: dict(d) for o, d in initial.items()}
  for line in open(msgs):
    m = json.loads(line)
    if only is not None and m["id"] not in only: continue
    for c in m["changes"]:
        o = key(c["owner"])
        model.pop(o, None)
        for rr in c["rrsets"]:
            model.setdefault(o, {})[rr["type"]] = set(r.lower() for r in rr["rdata"])
  return model
def norm_ds(r):
    p = r.split()
    return " ".join(p[:3] + ["".join(p[3:])]).lower()
for msgs, f, name in ((sys.argv[2], sys.argv[3], "zonegate (V, what P serves)"),
                      (sys.argv[4], sys.argv[5], "peer (S, what Q serves)")):
    model = apply(msgs, applied if msgs == sys.argv[2] else None)
    got = {}
    for line in open(f):
        p = line.split()
        if len(p) < 5 or line.startswith(";") or p[3] not in ("NS", "DS"): continue
        o = key(p[0])
        if o == "example.": continue
        got.setdefault(o, {}).setdefault(p[3], set()).add(" ".join(p[4:]).lower())
    want = {o: {t: set(norm_ds(r) if t == "DS" else key(r) for r in v) for t, v in d.items()} for o, d in model.items() if d}
    have = {o: {t: set(norm_ds(r) if t == "DS" else key(r) for r in v) for t, v in d.items()} for o, d in got.items()}
    diff = [o for o in set(want) | set(have) if want.get(o) != have.get(o)]
    print(f"served zone against the model, {name}: {len(have)} delegations, {len(diff)} differ" + (f" (e.g. {sorted(diff)[:3]})" if diff else ""))
PY
if "$ZGV" -o example. "$ZG_TMP/v.axfr" >"$ZG_TMP/v.verify" 2>&1; then v=valid; else v="NOT VALID ($(head -n 3 "$ZG_TMP/v.verify" | tr '\n' ' '))"; fi
echo "zg-verify of the distribution server's zone: $v" | tee -a "$SUMMARY"
# Every serial P served was validated by V.
awk -v a="${H_ADDR[P]}:${H_PORT[P]}" '$2 == a {print $3}' "$ZG_TMP/poll.txt" | sort -u >"$ZG_TMP/p.serials"
grep -o "serial [0-9]*, validated" "${H_DIR[V]}/knotd.log" | awk '{print $2}' | tr -d , | sort -u >"$ZG_TMP/v.valid"
bad=$(comm -23 "$ZG_TMP/p.serials" "$ZG_TMP/v.valid" | wc -l)
echo "serials P served: $(wc -l <"$ZG_TMP/p.serials"), of which not validated by V: $bad; serials that failed validation at V: $(grep -c "validation failed" "${H_DIR[V]}/knotd.log")" | tee -a "$SUMMARY"
# Pictures (gnuplot from Debian's gnuplot-nox, when installed).
if command -v gnuplot >/dev/null; then
	# The soak's series (else zonegate's last run) and the peer's last run.
	plots=()
	for f in "${OURS_SERIES:-}" "${PEER_SERIES:-}"; do
		[ -s "$f" ] || continue
		t=$(basename "$f" .txt | sed 's/^fresh-run[0-9]*-//; s/^nsu/peer (knsupdate)/; s/-\([0-9]*\)-\([0-9]*\)$/, \1 owners\/s, \2 owners\/msg/')
		plots+=("'$f' using (\$1-$(head -n 1 "$f" | cut -d' ' -f1)):2 with points pt 7 ps 0.6 title '$t'")
	done
	if [ ${#plots[@]} -gt 0 ]; then
		(IFS=,; gnuplot -e "set terminal png size 900,400; set output '$OUT/freshness.png';
			set xlabel 'seconds since the run began (commit time)'; set ylabel 'freshness (s)';
			plot ${plots[*]}") && echo "plot: $OUT/freshness.png" | tee -a "$SUMMARY"
	fi
	[ -s "$OUT/soak-minutes.txt" ] && gnuplot -e "set terminal png size 900,400; set output '$OUT/rss.png';
		set xlabel 'minute'; set ylabel 'RSS (MB)';
		plot '$OUT/soak-minutes.txt' using 1:2 with lines title 'signer A', '' using 1:3 with lines title 'gate V',
		'' using 1:4 with lines title 'secondary P', '' using 1:5 with lines title 'zg-verify --follow'" &&
		echo "plot: $OUT/rss.png" | tee -a "$SUMMARY"
	# VmRSS counts the journal's mapped pages that knotd touched (they grow
	# with the journal until a merge); RssAnon is the heap alone.
	[ -s "$OUT/soak-minutes.txt" ] && gnuplot -e "set terminal png size 900,400; set output '$OUT/rssanon.png';
		set xlabel 'minute'; set ylabel 'RssAnon (MB)'; set key top left;
		plot '$OUT/soak-minutes.txt' using 1:8 with lines title 'signer A', '' using 1:9 with lines title 'gate V',
		'' using 1:10 with lines title 'secondary P', '' using 1:11 with lines title 'zg-verify --follow'" &&
		echo "plot: $OUT/rssanon.png" | tee -a "$SUMMARY"
	# The journals' occupancy: a fall is a merge.
	[ -s "$OUT/soak-minutes.txt" ] && awk 'NF >= 14 && $12 != "-" { f = 1 } END { exit !f }' "$OUT/soak-minutes.txt" &&
		gnuplot -e "set terminal png size 900,400; set output '$OUT/journal.png';
		set xlabel 'minute'; set ylabel 'journal (MB)'; set key top left;
		plot '$OUT/soak-minutes.txt' using 1:12 with lines title 'signer A', '' using 1:13 with lines title 'gate V',
		'' using 1:14 with lines title 'secondary P'" &&
		echo "plot: $OUT/journal.png" | tee -a "$SUMMARY"
else
	echo "no gnuplot (apt-get install gnuplot-nox): no pictures" | tee -a "$SUMMARY"
fi
for h in A V P B S Q; do zg_knotd_stop "${H_DIR[$h]}"; done
for h in A V P; do cp "${H_DIR[$h]}/knotd.log" "$OUT/knotd-$h.log" 2>/dev/null; done   # kept for the figures
exit 0
