#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# zg-ingest send against a real signing knotd (issue 13): full-state
# replacement removes every type not listed (SSHFP, TYPE65280; the owner's
# types come from the signer's NSEC3 bitmap); a message too big for one
# UPDATE is applied whole as one serial in a control-socket transaction, and
# a refusal of its last part leaves nothing applied; the removal limit holds
# a message while the delegations cannot be counted; a failing server is a
# server error (exit 3), not a refusal.
. "$ZG_SRCDIR/tests/func/lib.sh"
. "$ZG_SRCDIR/tests/func/ingest-lib.sh"
zg_init
ingest_setup
zg_genzone test. 100 >"$ZG_TMP/test.zone"
echo "dn.test. 3600 DNAME example." >>"$ZG_TMP/test.zone"
# A second key that may update but not transfer: the removal limit cannot
# count the delegations with it.
secret2=$(head -c 32 /dev/urandom | base64)
# zone-max-size: far above the zone with the 3000 delegations of big.json,
# far below it with the 12 MB of TXT of big-size.json (refused at commit).
ingest_signer_conf "$d" "$port" "$secret" "$ZG_TMP/test.zone" "    zone-max-size: 6M" |
	awk -v s="$secret2" '
		/^acl:$/ { print "  - id: upd2\n    algorithm: hmac-sha256\n    secret: " s "\n" }
		/^acl:$/ { print; print "  - id: upd2\n    address: 127.0.0.1\n    key: upd2\n    action: update"; next }
		{ sub(/acl: \[ingest, xfr\]/, "acl: [ingest, upd2, xfr]"); print }' >"$d/knot.conf"
ok "signing knotd starts" zg_knotd_start "$d"
ok "zone signed" zg_wait 60 zg_zone_signed "$d" test.
sock=$d/knot.sock
send() { zg_ingest send -s "$srv" -y "$key" "$@"; }
m() { ingest_msg "$1" "$2" >"$ZG_TMP/$1.json"; echo "$ZG_TMP/$1.json"; }
rr() { ingest_rr "$port" "$@"; }

# --- full-state replacement: types not listed are removed ------------------
A='{"type":"A","ttl":300,"rdata":["192.0.2.7"]}'
SSHFP='{"type":"SSHFP","ttl":300,"rdata":["1 1 0123456789abcdef0123456789abcdef01234567"]}'
PRIV='{"type":"TYPE65280","ttl":300,"rdata":["\\# 2 abcd"]}'
out=$(send "$(m f1 "[{\"owner\":\"f.test.\",\"rrsets\":[$A,$SSHFP,$PRIV]}]")" 2>&1); rc=$?
is "$rc" 0 "A + SSHFP + TYPE65280 applied"; [ "$rc" = 0 ] || zg_diag "$out"
ok "SSHFP served" test -n "$(rr f.test. SSHFP)"
ok "TYPE65280 served" test -n "$(rr f.test. TYPE65280)"
out=$(send "$(m f2 "[{\"owner\":\"f.test.\",\"rrsets\":[$A]}]")" 2>&1); rc=$?
is "$rc" 0 "a message with only A applied"
like "$out" "1 owners changed, 1 UPDATEs" "the owner changed in one UPDATE"
is "$(rr f.test. A)" "192.0.2.7" "A kept"
is "$(rr f.test. SSHFP)" "" "SSHFP not listed: removed"
is "$(rr f.test. TYPE65280)" "" "TYPE65280 not listed: removed"
out=$(send "$(m f2 "[{\"owner\":\"f.test.\",\"rrsets\":[$A]}]")" 2>&1)
like "$out" "0 owners changed, 0 UPDATEs" "the same message again changes nothing"
send "$(m f3 "[{\"owner\":\"f.test.\",\"rrsets\":[$A,$SSHFP,$PRIV]}]")" >/dev/null 2>&1
out=$(send "$(m f4 '[{"owner":"f.test.","rrsets":[]}]')" 2>&1); rc=$?
is "$rc" 0 "an empty list applied"
is "$(kdig @127.0.0.1 -p "$port" +norec f.test. A | sed -n 's/.*status: \([A-Z]*\).*/\1/p')" NXDOMAIN "an empty list removes the owner with every type (NXDOMAIN)"
TXT='{"type":"TXT","ttl":300,"rdata":["\"apex\""]}'
MX='{"type":"MX","ttl":300,"rdata":["10 mail.test."]}'
send "$(m f5 "[{\"owner\":\"test.\",\"rrsets\":[$TXT,$MX]}]")" >/dev/null 2>&1
out=$(send "$(m f6 "[{\"owner\":\"test.\",\"rrsets\":[$MX]}]")" 2>&1); rc=$?
is "$rc" 0 "apex: a message with only MX applied"
is "$(rr test. TXT)" "" "apex: TXT not listed, removed"
is "$(rr test. MX)" "10 mail.test." "apex: MX kept"
ok "apex: SOA, NS and DNSKEY untouched" test -n "$(rr test. SOA)" -a -n "$(rr test. NS)" -a -n "$(rr test. DNSKEY)"

# --- a message bigger than one UPDATE: whole, one serial, or nothing -------
ingest_big "$ZG_TMP/big-poison.json" big-poison big 1
ingest_big "$ZG_TMP/big-size.json" big-size big size
ingest_big "$ZG_TMP/big.json" big big
bigs() { zg_axfr 127.0.0.1 "$port" test. | awk '$1 ~ /^big/ && $4 == "NS"' | wc -l; }
s0=$(ingest_serial "$port")
out=$(send "$ZG_TMP/big.json" 2>&1); rc=$?
is "$rc" 3 "big message without a control socket: held (exit 3)"
like "$out" "message big: needs [0-9]+ UPDATEs; a message is applied whole only through knotd's control socket, none is configured; message held" "held: the reason says why"
is "$(ingest_serial "$port")" "$s0" "held: serial unchanged"
out=$(send -c "$sock" "$ZG_TMP/big-poison.json" 2>&1); rc=$?
is "$rc" 1 "big message with a last owner below a DNAME: refused (exit 1)"
like "$out" "^refused .*big-poison.json: message big-poison: owner x\.dn\.test\. is below the DNAME at dn\.test\." "refused: the reason names the owner and the DNAME"
is "$(ingest_serial "$port")" "$s0" "refused: serial unchanged"
is "$(bigs)" 0 "refused: none of its 3000 earlier owners applied"
out=$(send -c "$sock" "$ZG_TMP/big-size.json" 2>&1); rc=$?
is "$rc" 1 "big message knotd refuses at commit (zone-max-size): refused (exit 1)"
like "$out" "^refused .*big-size.json: message big-size: knotd refused the zone transaction \(.*\); nothing of it applied" "refused: the reason names the transaction"
is "$(ingest_serial "$port")" "$s0" "refused at commit: serial unchanged"
is "$(bigs)" 0 "refused at commit: none of its 3000 delegations applied"
is "$(zg_axfr 127.0.0.1 "$port" test. | awk '$1 ~ /^pad/' | wc -l)" 0 "refused at commit: none of its TXT records applied"
out=$(send -c "$sock" "$ZG_TMP/big.json" 2>&1); rc=$?
is "$rc" 0 "big message with the control socket: applied"; [ "$rc" = 0 ] || zg_diag "$out"
like "$out" "3000 owners changed, 1 zone transaction, serial $((s0 + 1))\$" "applied in one zone transaction"
is "$(ingest_serial "$port")" "$((s0 + 1))" "published as exactly one new serial"
is "$(bigs)" 6000 "all 6000 NS records served"
zg_axfr 127.0.0.1 "$port" test. >"$ZG_TMP/axfr.zone"
is "$(awk '$1 ~ /^big/ && $4 == "RRSIG" && $5 == "DS"' "$ZG_TMP/axfr.zone" | wc -l)" 3000 "every DS signed"
ok "dnssec-verify accepts the zone" dnssec-verify -q -o test. "$ZG_TMP/axfr.zone"
out=$(send -c "$sock" "$ZG_TMP/big.json" 2>&1)
like "$out" "0 owners changed, 0 UPDATEs, serial $((s0 + 1))\$" "the big message again changes nothing"

# --- removal limit: the count is retried, and the message waits without it --
deleg=$(awk '$2 == "NS" && $3 ~ /provider/ {print $1}' "$ZG_TMP/test.zone" | sed -n 1p)
key2="hmac-sha256:upd2:$secret2"
out=$(zg_ingest send -s "$srv" -y "$key2" "$(m r1 "[{\"owner\":\"$deleg.test.\",\"rrsets\":[]}]")" 2>&1); rc=$?
is "$rc" 3 "delegations not countable (no transfer for this key): message held (exit 3)"
like "$out" "message r1: removes 1 delegations, and the zone's delegations cannot be counted for the removal limit \(AXFR with TSIG from 127.0.0.1@$port: .*\); message held" "held: the reason"
ok "held: the delegation still served" test -n "$(rr "$deleg.test." NS)"
like "$out" "\((NOTAUTH|REFUSED|.*TSIG.*)\); message held" "held: the server's answer to the signed transfer named"
out=$(send "$ZG_TMP/r1.json" 2>&1); rc=$?
is "$rc" 0 "counted (TSIG-checked AXFR): the removal of 1 delegation applied"
is "$(rr "$deleg.test." NS)" "" "the delegation removed"
mass=$(zg_axfr 127.0.0.1 "$port" test. | awk '$4 == "NS" && $1 ~ /^big/ {print $1}' | sort -u | sed -n '1,400p' |
	sed 's/.*/{"owner":"&","rrsets":[]}/' | paste -sd, -)
out=$(send -c "$sock" "$(m r2 "[$mass]")" 2>&1); rc=$?
is "$rc" 1 "a mass removal is still refused by the limit"
like "$out" "removes 400 of [0-9]+ delegations, more than the limit of 10%" "limit reason"
out=$(send --blind "$(m r3 '[{"owner":"blind.test.","rrsets":[]}]')" 2>&1)
like "$out" "--blind: owners are not read first, every listed owner is replaced, the removal limit is not enforced" "--blind is said"

# --- a failing server: exit 3, not "refused" --------------------------------
# The signer's keystore is gone: knotd cannot sign, every UPDATE fails.
ok "keystore token deleted under the running signer" softhsm2-util --delete-token --token zonegate
out=$(send "$(m s1 '[{"owner":"sf.test.","rrsets":[{"type":"A","ttl":300,"rdata":["192.0.2.5"]}]}]')" 2>&1); rc=$?
is "$rc" 3 "SERVFAIL every time: server error (exit 3), not refused (exit 1)"
like "$out" "server answered SERVFAIL to UPDATE 1/1 .* every time; nothing else applies either, server failing\?" "the reason says the server fails"
unlike "$out" "^refused" "not reported as refused"

ok "knotd stops cleanly" zg_knotd_stop "$d"
zg_done
