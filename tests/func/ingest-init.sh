#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# zg-ingest init: a whole zone loaded into a signing knotd through one
# control-socket transaction (zone-begin, zone-set block, zone-commit), from
# a zone file and from JSON lines; a conflicting load is aborted whole; into
# a zone knotd has no data for, the whole zone signed at the commit.
. "$ZG_SRCDIR/tests/func/lib.sh"
. "$ZG_SRCDIR/tests/func/ingest-lib.sh"
zg_init
ingest_setup
zg_genzone test. 0 >"$ZG_TMP/empty.zone"
ingest_signer_conf "$d" "$port" "$secret" "$ZG_TMP/empty.zone" >"$d/knot.conf"
ok "signing knotd starts with an empty zone" zg_knotd_start "$d"
ok "zone signed" zg_wait 60 zg_zone_signed "$d" test.
s0=$(ingest_serial "$port")

# The apex and its glue are in the running zone already: load the rest.
zg_genzone test. 3000 7 | grep -vE '^[ab]\.nic ' >"$ZG_TMP/full.zone"
init() { "$ZG_BUILDDIR/libtool" --mode=execute "$ZG_INGEST" init -c "$d/knot.sock" -z test. "$@"; }
out=$(init "$ZG_TMP/full.zone" 2>&1); rc=$?
is "$rc" 0 "init from a zone file: exit 0"
want=$(grep -vcE '^\$|^@ ' "$ZG_TMP/full.zone")
like "$out" "^committed $want records \(3 left to the signer" "all records but the apex sent in one transaction"
zg_axfr 127.0.0.1 "$port" test. >"$ZG_TMP/axfr.zone"
is "$(awk '$4 == "DS"' "$ZG_TMP/axfr.zone" | wc -l)" 1000 "1000 DS records served"
is "$(awk '$4 == "RRSIG" && $5 == "DS"' "$ZG_TMP/axfr.zone" | wc -l)" 1000 "all DS signed"
s1=$(ingest_serial "$port")
is "$((s1 - s0))" 1 "one serial increment for the whole load"

out=$(init "$ZG_TMP/full.zone" 2>&1); rc=$?
is "$rc" 1 "loading the same records again: refused (Knot 3.2 is strict), exit 1"
like "$out" "records refused, transaction aborted" "the whole transaction aborted"
is "$(ingest_serial "$port")" "$s1" "nothing changed"

printf '%s\n' \
	'{"version":1,"id":"j1","zone":"test.","changes":[{"owner":"json1.test.","rrsets":[{"type":"NS","ttl":3600,"rdata":["ns.example."]}]}]}' \
	'{"version":1,"id":"j2","zone":"test.","changes":[{"owner":"json2.test.","rrsets":[{"type":"A","ttl":60,"rdata":["192.0.2.7"]}]}]}' \
	>"$ZG_TMP/load.jsonl"
out=$(init "$ZG_TMP/load.jsonl" 2>&1); rc=$?
is "$rc" 0 "init from JSON lines: exit 0"
is "$(ingest_rr "$port" json2.test. A)" "192.0.2.7" "record from JSON lines served"
printf '%s\n' '{"version":1,"id":"j3","zone":"test.","changes":[{"owner":"x.other.","rrsets":[]}]}' >"$ZG_TMP/bad.jsonl"
out=$(init "$ZG_TMP/bad.jsonl" 2>&1); rc=$?
is "$rc" 1 "a refused message in JSON lines: exit 1"
like "$out" "line 1: message j3: owner x.other. outside zone test." "with the reason and the line"
ok "knotd stops cleanly" zg_knotd_stop "$d"

# Into a zone knotd has no data for (no zone file): the whole zone, SOA and
# apex NS included, signed as a whole at the commit.
u=$ZG_TMP/unloaded
mkdir -p "$u"
port=$(zg_free_port)
ingest_signer_conf "$u" "$port" "$secret" "$ZG_TMP/empty.zone" >"$u/knot.conf"
rm "$u/zones/test.zone"
ok "signing knotd starts without zone data" zg_knotd_start "$u"
like "$(zg_knotc "$u" zone-status test.)" "serial: -" "the zone has no data"
zg_genzone test. 2000 8 >"$ZG_TMP/whole.zone"
out=$("$ZG_BUILDDIR/libtool" --mode=execute "$ZG_INGEST" init -c "$u/knot.sock" -z test. "$ZG_TMP/whole.zone" 2>&1); rc=$?
is "$rc" 0 "init into the unloaded zone: exit 0"
want=$(grep -vcE '^\$' "$ZG_TMP/whole.zone")
like "$out" "^committed $want records as the whole zone" "every record sent, SOA and apex NS too"
zg_axfr 127.0.0.1 "$port" test. >"$ZG_TMP/axfr2.zone"
is "$(awk '$4 == "SOA"' "$ZG_TMP/axfr2.zone" | wc -l)" 1 "SOA served"
is "$(awk '$1 == "test." && $4 == "NS"' "$ZG_TMP/axfr2.zone" | wc -l)" 2 "apex NS from the file served"
is "$(awk '$4 == "DS"' "$ZG_TMP/axfr2.zone" | wc -l)" 667 "667 DS records served"
is "$(awk '$4 == "RRSIG" && $5 == "DS"' "$ZG_TMP/axfr2.zone" | wc -l)" 667 "all DS signed"
ok "dnssec-verify accepts the loaded zone" dnssec-verify -q -o test. "$ZG_TMP/axfr2.zone"
ok "knotd stops cleanly" zg_knotd_stop "$u"
zg_done
