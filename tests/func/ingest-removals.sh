#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Messages that remove delegations share a serial with their neighbours
# (issue 20): a removal (its glue with it, in its UPDATE) joins the gateway's
# pipelined batch unless another message of the batch lists a name at or
# below the removed cut; then the batch ends before that message, which goes
# in a later serial, in its place. Through spool runs on a signing knotd:
#  1. removals, new delegations, changed NS sets and additions interleaved:
#     every message applied once, the zone exactly as expected, fewer
#     serials than messages (the serial zg-ingest reports for each message:
#     the one served after its batch; how Knot splits a pipelined batch into
#     its own "DDNS, processing N updates" depends on timing, so only the
#     gateway's batches are counted);
#  2. a removal followed by a message listing a glue name of the removed cut,
#     and a message listing a glue name followed by the removal of its cut:
#     the result of applying them one by one, in order;
#  3. a message Knot refuses (over zone-max-size) among removals: refused
#     alone with Knot's answer, its neighbours applied.
. "$ZG_SRCDIR/tests/func/lib.sh"
. "$ZG_SRCDIR/tests/func/ingest-lib.sh"
zg_init
ingest_setup
zg_genzone test. 20 >"$ZG_TMP/test.zone"
for i in 1 2 3 4 5 6 7 8; do
	printf 'd%s.test. 3600 NS ns1.d%s.test.\nns1.d%s.test. 3600 A 192.0.2.%s\n' "$i" "$i" "$i" "$((60 + i))"
done >>"$ZG_TMP/test.zone"
cat >>"$ZG_TMP/test.zone" <<'ZONE'
d2.test. 3600 NS ns2.d2.test.
ns2.d2.test. 3600 AAAA 2001:db8::62
keep.test. 3600 NS ns1.keep.test.
ns1.keep.test. 3600 A 192.0.2.57
ZONE
# zone-max-size: room for the signed zone and every message here but the
# 56 KB one of part 3.
ingest_signer_conf "$d" "$port" "$secret" "$ZG_TMP/test.zone" "    zone-max-size: 50000" >"$d/knot.conf"
ok "signing knotd starts (zone-max-size 50000 bytes)" zg_knotd_start "$d"
ok "zone signed" zg_wait 60 zg_zone_signed "$d" test.

# The zone without the signer's records and the serial, sorted.
content() {
	zg_axfr 127.0.0.1 "$port" test. |
		awk '$4 != "SOA" && $4 != "RRSIG" && $4 != "NSEC3" && $4 != "NSEC3PARAM" &&
		     $4 != "DNSKEY" && $4 != "CDS" && $4 != "CDNSKEY"' | sort
}
changed() { diff "$1" "$2" | grep '^[<>]' | sort | tr -s ' \t' ' ' | tr '\n' '|'; }
# rcode NAME TYPE: the RCODE of the answer, "aa" appended when authoritative.
rcode() {
	kdig @127.0.0.1 -p "$port" +norec "$1" "$2" 2>/dev/null |
		awk '/status:/ { s = $6; sub(/[;,]/, "", s) }
		     /^;; Flags:/ { a = / aa[; ]/ ? " aa" : "" } END { print s a }'
}
# The distinct serials zg-ingest reported for the messages it applied.
serials() { grep -o ', serial [0-9]*' <<<"$1" | sort -u | wc -l; }
sp=$ZG_TMP/spool
mkdir -p "$sp/incoming"
put() { ingest_msg "$1" "$2" >"$sp/$1.json.tmp" && mv "$sp/$1.json.tmp" "$sp/incoming/$1.json"; }
a_rec() { printf '[{"owner":"%s","rrsets":[{"type":"A","ttl":300,"rdata":["%s"]}]}]' "$1" "$2"; }
del() { printf '[{"owner":"%s","rrsets":[]}]' "$1"; }
run_once() {
	timeout 120 "$ZG_BUILDDIR/libtool" --mode=execute "$ZG_INGEST" run \
		--source "spool:$sp" -s "$srv" -y "$key" --once 2>&1
}
dir_list() { ls "$sp/$1" 2>/dev/null | grep -v '\.error$' | tr '\n' ' '; }

# --- 1. removals interleaved with other changes -----------------------------
put 101-add-a "$(a_rec a.test. 192.0.2.101)"
put 102-del-d1 "$(del d1.test.)"
put 103-add-b "$(a_rec b.test. 192.0.2.103)"
put 104-del-d2 "$(del d2.test.)"
put 105-new-n1 '[{"owner":"n1.test.","rrsets":[{"type":"NS","ttl":3600,"rdata":["ns.provider1.example."]},{"type":"DS","ttl":3600,"rdata":["4711 13 2 A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8F90"]}]}]'
put 106-del-d3 "$(del d3.test.)"
put 107-chg-keep '[{"owner":"keep.test.","rrsets":[{"type":"NS","ttl":3600,"rdata":["ns.provider2.example."]}]}]'
put 108-add-c "$(a_rec c.test. 192.0.2.108)"
content >"$ZG_TMP/before1"
out=$(run_once); rc=$?
is "$rc" 0 "part 1: run --once: exit 0"; [ "$rc" = 0 ] || zg_diag "$out"
is "$(dir_list done)" "101-add-a.json 102-del-d1.json 103-add-b.json 104-del-d2.json 105-new-n1.json 106-del-d3.json 107-chg-keep.json 108-add-c.json " \
	"part 1: all eight applied"
like "$out" "\(message 104-del-d2\): 3 owners changed" "d2.test. and both its glue owners changed, in its UPDATE"
content >"$ZG_TMP/after1"
is "$(changed "$ZG_TMP/before1" "$ZG_TMP/after1")" \
	"< d1.test. 3600 IN NS ns1.d1.test.|< d2.test. 3600 IN NS ns1.d2.test.|< d2.test. 3600 IN NS ns2.d2.test.|< d3.test. 3600 IN NS ns1.d3.test.|< keep.test. 3600 IN NS ns1.keep.test.|< ns1.d1.test. 3600 IN A 192.0.2.61|< ns1.d2.test. 3600 IN A 192.0.2.62|< ns1.d3.test. 3600 IN A 192.0.2.63|< ns2.d2.test. 3600 IN AAAA 2001:db8::62|> a.test. 300 IN A 192.0.2.101|> b.test. 300 IN A 192.0.2.103|> c.test. 300 IN A 192.0.2.108|> keep.test. 3600 IN NS ns.provider2.example.|> n1.test. 3600 IN DS 4711 13 2 A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8F90|> n1.test. 3600 IN NS ns.provider1.example.|" \
	"part 1: the zone differs by exactly the eight messages (each applied once, glue removed)"
# 101 alone (the batch ends before 102: the zone's delegations are not
# counted yet, the removal limit is checked with 102 alone), 102 alone,
# then 103..108 in one batch, three removals and all (one serial per
# removing message made it seven).
is "$(serials "$out")" 3 "part 1: three serials for eight messages, three of them removals"
for n in ns1.d1.test. ns1.d2.test. ns1.d3.test.; do
	is "$(rcode "$n" A)" "NXDOMAIN aa" "glue $n not served"
done
ok "new delegation n1.test. served" test -n "$(ingest_rr "$port" n1.test. NS)"
ok "zone still signed (c.test. A)" ingest_signed "$port" c.test. A

# --- 2. a name below a removed cut, after and before the removal ------------
rm -f "$sp"/done/*
put 201-del-d4 "$(del d4.test.)"
put 202-add-x "$(a_rec x.test. 192.0.2.202)"
put 203-ns1-d4 "$(a_rec ns1.d4.test. 192.0.2.203)"
put 204-ns1-d5 "$(a_rec ns1.d5.test. 192.0.2.204)"
put 205-del-d5 "$(del d5.test.)"
put 206-add-y "$(a_rec y.test. 192.0.2.206)"
content >"$ZG_TMP/before2"
out=$(run_once); rc=$?
is "$rc" 0 "part 2: run --once: exit 0"; [ "$rc" = 0 ] || zg_diag "$out"
is "$(dir_list done)" "201-del-d4.json 202-add-x.json 203-ns1-d4.json 204-ns1-d5.json 205-del-d5.json 206-add-y.json " \
	"part 2: all six applied"
is "$(ingest_rr "$port" ns1.d4.test. A)" "192.0.2.203" "a message listing a glue name after the removal wins"
is "$(rcode ns1.d4.test. A)" "NOERROR aa" "... authoritative data now"
ok "... served signed" ingest_signed "$port" ns1.d4.test. A
is "$(rcode ns1.d5.test. A)" "NXDOMAIN aa" "a glue name listed before the removal of its cut: gone with it"
content >"$ZG_TMP/after2"
is "$(changed "$ZG_TMP/before2" "$ZG_TMP/after2")" \
	"< d4.test. 3600 IN NS ns1.d4.test.|< d5.test. 3600 IN NS ns1.d5.test.|< ns1.d4.test. 3600 IN A 192.0.2.64|< ns1.d5.test. 3600 IN A 192.0.2.65|> ns1.d4.test. 300 IN A 192.0.2.203|> x.test. 300 IN A 192.0.2.202|> y.test. 300 IN A 192.0.2.206|" \
	"part 2: the zone differs by exactly the six messages applied in order"
# 201+202 | 203+204 (203 lists a glue name of 201's cut) | 205+206 (205
# removes the cut 204 lists a name below).
is "$(serials "$out")" 3 "part 2: three serials, the ones the order needs"

# --- 3. a message Knot refuses among removals -------------------------------
rm -f "$sp"/done/*
big=$("$PYTHON3" -c 'import json; print(json.dumps([{"owner": "big.test.", "rrsets": [{"type": "TXT", "ttl": 300, "rdata": ["\"%03d%s\"" % (i, "x" * 227) for i in range(240)]}]}]))')
put 301-del-d6 "$(del d6.test.)"
put 302-big "$big"
put 303-add-e "$(a_rec e.test. 192.0.2.33)"
put 304-del-d7 "$(del d7.test.)"
content >"$ZG_TMP/before3"
out=$(run_once); rc=$?
is "$rc" 0 "part 3: run --once: exit 0"; [ "$rc" = 0 ] || zg_diag "$out"
is "$(dir_list done)" "301-del-d6.json 303-add-e.json 304-del-d7.json " "part 3: its neighbours applied"
is "$(dir_list failed)" "302-big.json " "part 3: the message over the size limit refused"
like "$(cat "$sp/failed/302-big.json.error")" "^message 302-big: server answered REFUSED to UPDATE 1/1" \
	"reason: Knot's answer to it alone"
content >"$ZG_TMP/after3"
is "$(changed "$ZG_TMP/before3" "$ZG_TMP/after3")" \
	"< d6.test. 3600 IN NS ns1.d6.test.|< d7.test. 3600 IN NS ns1.d7.test.|< ns1.d6.test. 3600 IN A 192.0.2.66|< ns1.d7.test. 3600 IN A 192.0.2.67|> e.test. 300 IN A 192.0.2.33|" \
	"part 3: the zone differs by exactly the three applied messages"
is "$(ingest_rr "$port" d8.test. NS)" "ns1.d8.test." "another delegation untouched"

ok "knotd stops cleanly" zg_knotd_stop "$d"
zg_done
