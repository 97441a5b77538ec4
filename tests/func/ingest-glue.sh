#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Removing a delegation removes its glue (issue 21, item 4): a message that
# lists an in-bailiwick delegation with "rrsets": [] takes the glue its NS
# names below the cut with it, so the glue is not served afterwards as
# authoritative, signed data; nothing else changes. Through zg-ingest send
# (one message) and a spool run (a batch: a later message that lists a glue
# name is not in the removal's batch, and wins; tests/func/ingest-removals.sh
# checks the batching).
. "$ZG_SRCDIR/tests/func/lib.sh"
. "$ZG_SRCDIR/tests/func/ingest-lib.sh"
zg_init
ingest_setup
zg_genzone test. 50 >"$ZG_TMP/test.zone"
cat >>"$ZG_TMP/test.zone" <<'ZONE'
child.test. 3600 NS ns1.child.test.
child.test. 3600 NS ns.provider.example.
ns1.child.test. 3600 A 192.0.2.53
ns1.child.test. 3600 AAAA 2001:db8::53
d2.test. 3600 NS ns1.d2.test.
ns1.d2.test. 3600 A 192.0.2.54
d3.test. 3600 NS ns1.d3.test.
d3.test. 3600 NS ns2.d3.test.
ns1.d3.test. 3600 A 192.0.2.55
ns2.d3.test. 3600 A 192.0.2.56
keep.test. 3600 NS ns1.keep.test.
ns1.keep.test. 3600 A 192.0.2.57
ZONE
ingest_signer_conf "$d" "$port" "$secret" "$ZG_TMP/test.zone" >"$d/knot.conf"
ok "signing knotd starts" zg_knotd_start "$d"
ok "zone signed" zg_wait 60 zg_zone_signed "$d" test.

# The zone without the signer's records and the serial, sorted.
content() {
	zg_axfr 127.0.0.1 "$port" test. |
		awk '$4 != "SOA" && $4 != "RRSIG" && $4 != "NSEC3" && $4 != "NSEC3PARAM" &&
		     $4 != "DNSKEY" && $4 != "CDS" && $4 != "CDNSKEY"' | sort
}
# rcode NAME TYPE: the RCODE of the answer, "aa" appended when authoritative.
rcode() {
	kdig @127.0.0.1 -p "$port" +norec "$1" "$2" 2>/dev/null |
		awk '/status:/ { s = $6; sub(/[;,]/, "", s) }
		     /^;; Flags:/ { a = / aa[; ]/ ? " aa" : "" } END { print s a }'
}
content >"$ZG_TMP/before"
is "$(rcode ns1.child.test. A)" "NOERROR" "before: the glue is served in a referral (not authoritative)"

# --- one message: zg-ingest send --------------------------------------------
ingest_msg m-del '[{"owner":"child.test.","rrsets":[]}]' >"$ZG_TMP/del.json"
out=$(zg_ingest send -s "$srv" -y "$key" "$ZG_TMP/del.json" 2>&1); rc=$?
is "$rc" 0 "send: exit 0"; [ "$rc" = 0 ] || zg_diag "$out"
like "$out" "\(message m-del\): 2 owners changed, 1 UPDATEs" "the delegation and its glue owner changed in one UPDATE"
is "$(ingest_rr "$port" child.test. NS)" "" "the delegation's NS removed"
is "$(rcode ns1.child.test. A)" "NXDOMAIN aa" "its glue is not served (NXDOMAIN, authoritative)"
is "$(ingest_rr "$port" ns1.child.test. AAAA)" "" "no glue AAAA either"
content >"$ZG_TMP/after"
is "$(diff "$ZG_TMP/before" "$ZG_TMP/after" | grep '^[<>]' | sort | tr -s ' \t' ' ' | tr '\n' '|')" \
	"< child.test. 3600 IN NS ns.provider.example.|< child.test. 3600 IN NS ns1.child.test.|< ns1.child.test. 3600 IN A 192.0.2.53|< ns1.child.test. 3600 IN AAAA 2001:db8::53|" \
	"nothing else changed (the zone's data differs by exactly these records)"
ok "zone still signed (DNSKEY)" test -n "$(ingest_rr "$port" test. DNSKEY)"

# --- a batch from a spool ---------------------------------------------------
sp=$ZG_TMP/spool
mkdir -p "$sp/incoming"
put() { ingest_msg "$1" "$2" >"$sp/$1.json.tmp" && mv "$sp/$1.json.tmp" "$sp/incoming/$1.json"; }
put 100-add '[{"owner":"x.test.","rrsets":[{"type":"A","ttl":300,"rdata":["192.0.2.100"]}]}]'
put 101-del-d3 '[{"owner":"d3.test.","rrsets":[]}]'
put 102-del-d2 '[{"owner":"d2.test.","rrsets":[]}]'
put 103-ns1-d2 '[{"owner":"ns1.d2.test.","rrsets":[{"type":"A","ttl":300,"rdata":["192.0.2.77"]}]}]'
content >"$ZG_TMP/before2"
out=$(timeout 120 "$ZG_BUILDDIR/libtool" --mode=execute "$ZG_INGEST" run --source "spool:$sp" \
	-s "$srv" -y "$key" --once 2>&1); rc=$?
is "$rc" 0 "run --once: exit 0"; [ "$rc" = 0 ] || zg_diag "$out"
is "$(ls "$sp/done" | tr '\n' ' ')" "100-add.json 101-del-d3.json 102-del-d2.json 103-ns1-d2.json " "all four applied"
like "$out" "\(message 101-del-d3\): 3 owners changed" "d3.test. and both its glue owners changed"
is "$(rcode ns1.d3.test. A)" "NXDOMAIN aa" "glue ns1.d3.test. not served"
is "$(rcode ns2.d3.test. A)" "NXDOMAIN aa" "glue ns2.d3.test. not served"
is "$(ingest_rr "$port" ns1.d2.test. A)" "192.0.2.77" "a later message listing a glue name wins (order kept)"
is "$(rcode ns1.d2.test. A)" "NOERROR aa" "... and it is authoritative data now"
ok "... served signed" ingest_signed "$port" ns1.d2.test. A
is "$(ingest_rr "$port" x.test. A)" "192.0.2.100" "the message before them applied"
content >"$ZG_TMP/after2"
is "$(diff "$ZG_TMP/before2" "$ZG_TMP/after2" | grep '^[<>]' | sort | tr -s ' \t' ' ' | tr '\n' '|')" \
	"< d2.test. 3600 IN NS ns1.d2.test.|< d3.test. 3600 IN NS ns1.d3.test.|< d3.test. 3600 IN NS ns2.d3.test.|< ns1.d2.test. 3600 IN A 192.0.2.54|< ns1.d3.test. 3600 IN A 192.0.2.55|< ns2.d3.test. 3600 IN A 192.0.2.56|> ns1.d2.test. 300 IN A 192.0.2.77|> x.test. 300 IN A 192.0.2.100|" \
	"nothing else changed"
is "$(ingest_rr "$port" keep.test. NS)" "ns1.keep.test." "another delegation untouched"

ok "knotd stops cleanly" zg_knotd_stop "$d"
zg_done
