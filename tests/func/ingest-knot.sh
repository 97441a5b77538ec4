#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The Knot behaviours zg-ingest's gateway (and mod-ingest, the same code)
# relies on, checked on whatever series runs the test:
#  1. A DDNS batch that Knot refuses as a whole (here: over zone-max-size,
#     REFUSED for every UPDATE of the batch on 3.2 to 3.5) is bisected until
#     the culprit is alone; it goes to failed/ with Knot's answer, the
#     messages around it apply.
#  2. A message for an owner below a DNAME is refused by the gateway itself
#     (3.2 failed the batch over it; 3.4+ silently ignore such additions,
#     which would lose the message without a trace).
#  3. A frozen zone (knotc zone-freeze): Knot REFUSES UPDATEs with the
#     extended error "not ready" (3.2: every one; 3.4+: those beyond the
#     eight it queues). No message is lost or refused meanwhile, none is
#     applied twice, and after zone-thaw every one applies, in order.
. "$ZG_SRCDIR/tests/func/lib.sh"
. "$ZG_SRCDIR/tests/func/ingest-lib.sh"
zg_init

d=$ZG_TMP/knot
mkdir -p "$d"
port=$(zg_free_port)
secret=$(head -c 32 /dev/urandom | base64)
key="hmac-sha256:ingest:$secret"
srv="127.0.0.1@$port"
zg_knot_conf_bare "$d" "$port" >"$d/knot.conf"
cat >"$d/zones/test.zone" <<'ZONE'
$ORIGIN test.
$TTL 3600
@	SOA	ns.test. hostmaster.test. 1 3600 900 604800 300
	NS	ns.test.
ns	A	192.0.2.53
dn	DNAME	example.
ZONE
{
	zg_conf_key ingest "$secret"
	zg_conf_acls ingest "127.0.0.1 key:ingest" update
	cat <<CONF
zone:
  - domain: test
    storage: "$d/zones"
    file: test.zone
    zonefile-sync: -1
    zone-max-size: 20000
    acl: ingest
CONF
} >>"$d/knot.conf"
ok "knotd starts (zone-max-size 20000 bytes)" zg_knotd_start "$d"
ok "zone loaded" zg_wait 20 zg_zone_loaded "$d" test.

sp=$ZG_TMP/spool
mkdir -p "$sp/incoming"
put() { ingest_msg "$1" "$2" >"$sp/$1.json.tmp" && mv "$sp/$1.json.tmp" "$sp/incoming/$1.json"; }
a_rec() { printf '[{"owner":"%s","rrsets":[{"type":"A","ttl":300,"rdata":["%s"]}]}]' "$1" "$2"; }
run_once() {
	timeout 120 "$ZG_BUILDDIR/libtool" --mode=execute "$ZG_INGEST" run \
		--source "spool:$sp" -s "$srv" -y "$key" --once "$@" 2>&1
}
dir_list() { ls "$sp/$1" 2>/dev/null | grep -v '\.error$' | tr '\n' ' '; }
err() { cat "$sp/failed/$1.json.error"; }

# --- 1 and 2: a batch Knot refuses, an owner below a DNAME -----------------
# 170 TXT records of 230 bytes: ~40 KB in one UPDATE, twice the size limit.
big=$("$PYTHON3" -c 'import json; print(json.dumps([{"owner": "big.test.", "rrsets": [{"type": "TXT", "ttl": 300, "rdata": ["\"%03d%s\"" % (i, "x" * 227) for i in range(170)]}]}]))')
put 001-a "$(a_rec a.test. 192.0.2.1)"
put 002-big "$big"
put 003-b "$(a_rec b.test. 192.0.2.2)"
put 004-dname "$(a_rec x.dn.test. 192.0.2.4)"
put 005-c "$(a_rec c.test. 192.0.2.5)"
out=$(run_once)
rc=$?
is "$rc" 0 "run --once: exit 0"
[ "$rc" = 0 ] || zg_diag "$out"
is "$(dir_list done)" "001-a.json 003-b.json 005-c.json " "the messages around them applied"
is "$(dir_list failed)" "002-big.json 004-dname.json " "the oversized message and the one below the DNAME refused"
like "$(err 002-big)" "^message 002-big: server answered REFUSED to UPDATE 1/1 \(owners big\.test\. \.\. big\.test\.\)$" \
	"reason: Knot's answer to the oversized message alone"
like "$(cat "$d/knotd.log")" "DDNS, processing failed \(zone size exceeded\)" "Knot refused a batch over the size limit"
like "$(cat "$d/knotd.log")" "DDNS, processing ([2-9]|[1-9][0-9]+) updates" "several messages went into one Knot batch"
is "$(err 004-dname)" "message 004-dname: owner x.dn.test. is below the DNAME at dn.test. (data there is occluded)" \
	"reason: the owner is below a DNAME"
for o in a:192.0.2.1 b:192.0.2.2 c:192.0.2.5; do
	is "$(ingest_rr "$port" "${o%%:*}.test." A)" "${o#*:}" "${o%%:*}.test. A served"
done
zg_axfr 127.0.0.1 "$port" test. >"$ZG_TMP/axfr1.zone"
unlike "$(cat "$ZG_TMP/axfr1.zone")" "^(big|x\.dn)\.test\." "the refused messages changed nothing"

# --- 3. a frozen zone --------------------------------------------------------
# Blocking: knotc returns once the freeze event has run. Without -b, knotd
# only schedules it, and under load the first UPDATEs could arrive (and
# apply) before the zone is frozen.
ok "knotc zone-freeze" zg_knotc "$d" -b zone-freeze test.
like "$(cat "$d/knotd.log")" "\[test\.\] zone updates frozen" "the zone is frozen before any message is sent"
serial0=$(ingest_serial "$port")
# Twelve messages, more than the eight UPDATEs 3.4+ queue; 110 and 111 set
# the same owner (order matters).
for i in $(seq 100 109); do
	put "$i-f" "$(a_rec "f$i.test." "192.0.2.$((i - 90))")"
done
put 110-same "$(a_rec same.test. 192.0.2.110)"
put 111-same "$(a_rec same.test. 192.0.2.111)"
(exec "$ZG_INGEST" run --source "spool:$sp" -s "$srv" -y "$key" --interval 1 -t 3 \
	>"$ZG_TMP/daemon.out" 2>&1) &
gw=$!
zg_track_pid "$gw"
refused_seen() { grep -q "not ready" "$ZG_TMP/daemon.out"; }
ok "the gateway meets the frozen zone (not ready)" zg_wait 60 refused_seen
sleep 8 # Several retries while frozen.
is "$(dir_list failed)" "002-big.json 004-dname.json " "nothing refused while the zone is frozen"
is "$(ingest_serial "$port")" "$serial0" "nothing applied while frozen"
ok "the gateway still runs" zg_alive "$gw"
ok "knotc zone-thaw" zg_knotc "$d" zone-thaw test.
drained() { [ -z "$(ls "$sp/incoming")" ]; }
ok "after the thaw the queue drains" zg_wait 90 drained
is "$(dir_list failed)" "002-big.json 004-dname.json " "still nothing refused"
n_done=$(ls "$sp/done" | grep -cE '^1[01][0-9]-(f|same)\.json$')
is "$n_done" 12 "all twelve messages in done/"
wrong=
for i in $(seq 100 109); do
	[ "$(ingest_rr "$port" "f$i.test." A)" = "192.0.2.$((i - 90))" ] || wrong+=" f$i.test."
done
is "${wrong:-none}" none "the ten owners served with their data (wrong or missing: ${wrong:-none})"
is "$(ingest_rr "$port" same.test. A)" "192.0.2.111" "the later message for the same owner wins"
wrong=
for m in $(seq 100 109 | sed 's/$/-f/') 110-same 111-same; do
	c=$(grep -c "^applied $m\.json " "$ZG_TMP/daemon.out")
	[ "$c" -eq 1 ] || wrong+=" $m:$c"
done
is "${wrong:-none}" none "each message reported applied exactly once (others: ${wrong:-none})"
unlike "$(cat "$ZG_TMP/daemon.out")" "^refused " "no refusal reported by the daemon"
zg_stop_pid "$gw"
[ "$_zg_failed" -gt 0 ] && zg_diag "$(tail -n 30 "$ZG_TMP/daemon.out")" && zg_diag "$(grep -E 'DDNS|UPDATE|froz' "$d/knotd.log" | tail -n 30)"
ok "knotd stops cleanly" zg_knotd_stop "$d"
zg_done
