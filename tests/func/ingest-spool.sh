#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# zg-ingest against a real signing knotd (SoftHSM keystore): messages from a
# spool applied in order and served signed; refusals with their exact reason
# while later messages still apply; no serial churn for a repeated message;
# a message bigger than one UPDATE applied whole in one control-socket
# zone transaction; a poisoned message (data below a DNAME, which Knot 3.2
# refused and 3.4+ silently ignore) refused with its reason; TSIG required;
# an idle gateway wakes up when a message arrives.
# A batch Knot itself refuses, and a frozen zone: ingest-knot.sh.
. "$ZG_SRCDIR/tests/func/lib.sh"
. "$ZG_SRCDIR/tests/func/ingest-lib.sh"
zg_init
ingest_setup
zg_genzone test. 200 >"$ZG_TMP/test.zone"
echo "dn.test. 3600 DNAME example." >>"$ZG_TMP/test.zone"
ingest_signer_conf "$d" "$port" "$secret" "$ZG_TMP/test.zone" >"$d/knot.conf"
ok "signing knotd starts" zg_knotd_start "$d"
ok "zone signed" zg_wait 60 zg_zone_signed "$d" test.

# --- send: one message ---------------------------------------------------
ingest_msg m-001 '[{"owner":"new1.test.","rrsets":[{"type":"NS","ttl":3600,"rdata":["ns1.new1.test.","ns.provider.example."]},{"type":"DS","ttl":3600,"rdata":["12345 13 2 3A4B5C6D7E8F90123A4B5C6D7E8F90123A4B5C6D7E8F90123A4B5C6D7E8F9012"]}]},{"owner":"ns1.new1.test.","rrsets":[{"type":"A","ttl":3600,"rdata":["192.0.2.1"]}]}]' >"$ZG_TMP/m1.json"
out=$(zg_ingest send -s "$srv" -y "$key" "$ZG_TMP/m1.json" 2>&1); rc=$?
is "$rc" 0 "send: exit 0"
like "$out" "^applied .*m1.json \(message m-001\): 2 owners changed, 1 UPDATEs, serial [0-9]+" "send: applied line"
ok "new delegation's DS served signed" zg_wait 10 ingest_signed "$port" new1.test. DS
is "$(ingest_rr "$port" new1.test. DS)" "12345 13 2 3A4B5C6D7E8F90123A4B5C6D7E8F90123A4B5C6D7E8F90123A4B5C6D7E8F9012" "DS rdata"
s1=$(ingest_serial "$port")
out=$(zg_ingest send -s "$srv" -y "$key" "$ZG_TMP/m1.json" 2>&1); rc=$?
is "$rc" 0 "send again: exit 0"
like "$out" "0 owners changed, 0 UPDATEs, serial $s1\$" "the same message again changes nothing"
is "$(ingest_serial "$port")" "$s1" "no serial churn for an unchanged message"
out=$(zg_ingest send -s "$srv" -y "hmac-sha256:ingest:$(head -c 32 /dev/urandom | base64)" "$ZG_TMP/m1.json" 2>&1); rc=$?
ingest_msg m-002 '[{"owner":"new2.test.","rrsets":[{"type":"NS","ttl":3600,"rdata":["ns.provider.example."]}]}]' >"$ZG_TMP/m2.json"
out=$(zg_ingest send -s "$srv" -y "hmac-sha256:ingest:$(head -c 32 /dev/urandom | base64)" "$ZG_TMP/m2.json" 2>&1); rc=$?
is "$rc" 3 "wrong TSIG secret: exit 3"
like "$out" "NOTAUTH|TSIG|refused" "wrong TSIG secret: reason"
is "$(ingest_rr "$port" new2.test. NS)" "" "nothing applied with a wrong key"
out=$(zg_ingest send -s "$srv" "$ZG_TMP/m2.json" 2>&1); rc=$?
is "$rc" 1 "no TSIG: refused by the server (exit 1)"
like "$out" "server answered (REFUSED|NOTAUTH)" "no TSIG: Knot's verdict in the reason"

# --- run: a spool of messages ----------------------------------------------
sp=$ZG_TMP/spool
mkdir -p "$sp/incoming"
put() { ingest_msg "$1" "$2" >"$sp/$1.json.tmp" && mv "$sp/$1.json.tmp" "$sp/incoming/$1.json"; }
existing=$(awk '$2 == "DS" {print $1; exit}' "$ZG_TMP/test.zone")
put 010-add '[{"owner":"a.test.","rrsets":[{"type":"A","ttl":300,"rdata":["192.0.2.10"]},{"type":"TXT","ttl":300,"rdata":["\"first\""]}]}]'
put 011-outside '[{"owner":"www.other.","rrsets":[]}]'
put 012-change '[{"owner":"a.test.","rrsets":[{"type":"A","ttl":300,"rdata":["192.0.2.11","192.0.2.12"]}]}]'
put 013-badrdata '[{"owner":"b.test.","rrsets":[{"type":"A","ttl":300,"rdata":["300.1.1.1"]}]}]'
put 014-apexns '[{"owner":"test.","rrsets":[{"type":"NS","ttl":300,"rdata":["ns.example."]}]}]'
put 015-dnssec '[{"owner":"c.test.","rrsets":[{"type":"RRSIG","ttl":300,"rdata":["A 13 2 300 20300101000000 20200101000000 1 test. AAAA"]}]}]'
put 016-ttl '[{"owner":"c.test.","rrsets":[{"type":"A","ttl":4294967296,"rdata":["192.0.2.1"]}]}]'
put 017-unknown '[{"owner":"c.test.","rrsets":[],"comment":"x"}]'
put 018-remove "[{\"owner\":\"$existing.test.\",\"rrsets\":[]},{\"owner\":\"new1.test.\",\"rrsets\":[{\"type\":\"NS\",\"ttl\":3600,\"rdata\":[\"ns.other.example.\"]}]}]"
put 019-poison '[{"owner":"x.dn.test.","rrsets":[{"type":"A","ttl":300,"rdata":["192.0.2.99"]}]}]'
put 020-after '[{"owner":"z.test.","rrsets":[{"type":"AAAA","ttl":300,"rdata":["2001:db8::20"]}]}]'
# Six more small messages pipelined behind 020-after: Knot takes whatever
# UPDATEs are queued when its DDNS event runs, so several of them share a
# batch (one or two alone race with the first's processing).
for i in 1 2 3 4 5 6; do
	put 020-batch$i "[{\"owner\":\"y$i.test.\",\"rrsets\":[{\"type\":\"AAAA\",\"ttl\":300,\"rdata\":[\"2001:db8::2$i\"]}]}]"
done
printf '{"version":1,"id":"021-size","zone":"test.","changes":[]}' >"$sp/incoming/021-size.json"
mass=$(awk '$2 == "NS" && $3 ~ /provider/ {print $1}' "$ZG_TMP/test.zone" | sed -n '2,26p' |
	sed 's/.*/{"owner":"&.test.","rrsets":[]}/' | paste -sd, -)
put 024-mass-removal "[$mass]"
printf 'not json' >"$sp/incoming/022-garbage.json"
echo '{"partial":' >"$sp/incoming/023-tmp.json.tmp"

out=$(timeout 120 "$ZG_BUILDDIR/libtool" --mode=execute "$ZG_INGEST" run --source "spool:$sp" \
	-s "$srv" -y "$key" --once 2>&1); rc=$?
is "$rc" 0 "run --once: exit 0"; [ "$rc" = 0 ] || zg_diag "$out"
is "$(ls "$sp/done" | tr '\n' ' ')" "010-add.json 012-change.json 018-remove.json 020-after.json 020-batch1.json 020-batch2.json 020-batch3.json 020-batch4.json 020-batch5.json 020-batch6.json 021-size.json " "applied messages in done/"
is "$(ls "$sp/failed" | grep -v '\.error$' | tr '\n' ' ')" "011-outside.json 013-badrdata.json 014-apexns.json 015-dnssec.json 016-ttl.json 017-unknown.json 019-poison.json 022-garbage.json 024-mass-removal.json " "refused messages in failed/"
is "$(ls "$sp/incoming")" "023-tmp.json.tmp" "incoming/ drained (a .tmp file is left alone)"
err() { cat "$sp/failed/$1.json.error"; }
is "$(err 011-outside)" "message 011-outside: owner www.other. outside zone test." "reason: outside the zone"
is "$(err 013-badrdata)" 'message 013-badrdata: owner b.test. rrset A: bad rdata "300.1.1.1" (invalid IPv4 address)' "reason: bad rdata"
is "$(err 014-apexns)" "message 014-apexns: owner test. rrset NS: apex NS is maintained by the operator, not by ingest" "reason: apex NS"
is "$(err 015-dnssec)" "message 015-dnssec: owner c.test. rrset RRSIG: DNSSEC records are maintained by the signer" "reason: DNSSEC type"
is "$(err 016-ttl)" "message 016-ttl: owner c.test. rrset A: TTL 4294967296 out of range 0..2147483647" "reason: TTL"
is "$(err 017-unknown)" 'message 017-unknown: owner c.test.: unknown field "comment"' "reason: unknown field"
is "$(err 019-poison)" "message 019-poison: owner x.dn.test. is below the DNAME at dn.test. (data there is occluded)" "reason: the poisoned message's owner is below a DNAME"
# (020-after and 020-batch1..6 are pipelined.)
ok "UPDATEs of several messages went into one Knot batch" \
	zg_wait 10 grep -Eq "DDNS, processing ([2-9]|[1-9][0-9]+) updates" "$d/knotd.log"
like "$(err 024-mass-removal)" "^message 024-mass-removal: removes 25 of 20[0-9] delegations, more than the limit of 10%\$" "reason: too many delegations removed at once"
like "$(err 022-garbage)" "^message \(no id\): invalid JSON at line 1 column 3" "reason: not JSON"
is "$(wc -l <"$sp/failed/011-outside.json.error")" 1 "reason file is one line"
like "$out" "refused 013-badrdata.json: message 013-badrdata" "run prints refusals"

is "$(ingest_rr "$port" a.test. A | tr '\n' ' ')" "192.0.2.11 192.0.2.12 " "later message wins (order kept)"
is "$(ingest_rr "$port" a.test. TXT)" "" "type not listed any more is removed"
ok "a.test. A served signed" ingest_signed "$port" a.test. A
is "$(ingest_rr "$port" "$existing.test." NS)" "" "owner with an empty list removed"
is "$(ingest_rr "$port" "$existing.test." DS)" "" "its DS removed too"
is "$(ingest_rr "$port" new1.test. NS)" "ns.other.example." "delegation NS replaced"
is "$(ingest_rr "$port" new1.test. DS)" "" "delegation DS removed (not listed)"
is "$(ingest_rr "$port" z.test. AAAA)" "2001:db8::20" "message after the poisoned one applied"
for i in 1 2 3 4 5 6; do
	is "$(ingest_rr "$port" y$i.test. AAAA)" "2001:db8::2$i" "and 020-batch$i after it"
done
zg_axfr 127.0.0.1 "$port" test. >"$ZG_TMP/axfr1.zone"
unlike "$(cat "$ZG_TMP/axfr1.zone")" "^x\.dn\.test\." "poisoned message changed nothing"
ok "apex NS untouched" test -n "$(ingest_rr "$port" test. NS)"
ok "zone still signed (DNSKEY)" test -n "$(ingest_rr "$port" test. DNSKEY)"

# --- a message bigger than one UPDATE ----------------------------------------
ingest_big "$ZG_TMP/030-big.json" 030-big big && mv "$ZG_TMP/030-big.json" "$sp/incoming/"
out=$(timeout 300 "$ZG_BUILDDIR/libtool" --mode=execute "$ZG_INGEST" run --source "spool:$sp" \
	-s "$srv" -y "$key" -c "$d/knot.sock" --once 2>&1); rc=$?
is "$rc" 0 "big message: exit 0"
like "$out" "030-big\): 3000 owners changed, 1 zone transaction" "big message applied in one zone transaction"
zg_axfr 127.0.0.1 "$port" test. >"$ZG_TMP/axfr.zone"
is "$(awk '$1 ~ /^big/ && $4 == "NS"' "$ZG_TMP/axfr.zone" | wc -l)" 6000 "all 6000 NS records served"
is "$(awk '$1 ~ /^big/ && $4 == "DS"' "$ZG_TMP/axfr.zone" | wc -l)" 3000 "all 3000 DS records served"
is "$(awk '$1 ~ /^big/ && $4 == "RRSIG" && $5 == "DS"' "$ZG_TMP/axfr.zone" | wc -l)" 3000 "all 3000 DS RRsets signed"
ok "dnssec-verify accepts the zone" dnssec-verify -q -o test. "$ZG_TMP/axfr.zone"

# --- a running gateway wakes up when a message arrives ------------------------
# The poll interval is an hour: only the wake-up on a new file in incoming/
# (inotify) can apply the message within the bound. Started with exec, so
# that $! is the gateway itself.
wsp=$ZG_TMP/wspool
mkdir -p "$wsp/incoming"
( exec "$ZG_INGEST" run --source "spool:$wsp" -s "$srv" -y "$key" --interval 3600 -q \
	>"$ZG_TMP/wake.out" 2>&1 ) &
gw=$!
zg_track_pid "$gw"
sleep 2 # Let it find incoming/ empty and start waiting.
ingest_msg 040-wake '[{"owner":"wake.test.","rrsets":[{"type":"A","ttl":300,"rdata":["192.0.2.40"]}]}]' >"$wsp/040-wake.json.tmp"
mv "$wsp/040-wake.json.tmp" "$wsp/incoming/040-wake.json"
woken() { [ "$(ingest_rr "$port" wake.test. A)" = 192.0.2.40 ]; }
ok "an idle gateway (poll interval 1 h) applies a new message within 10 s" zg_wait 10 woken
ok "gateway stops on TERM" zg_stop_pid "$gw"

ok "knotd stops cleanly" zg_knotd_stop "$d"
zg_done
