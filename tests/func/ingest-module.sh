#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# mod-ingest inside a signing knotd (module loaded from the build tree): the
# worker consumes a spool, applies and refuses messages, counts them in
# knotc zone-stats, applies a message too big for one UPDATE whole in one
# transaction on knotd's own control socket (one serial), survives knotc
# reload (unload joins the thread, load starts a new one; the new worker
# refuses a message whose id done/ holds) and stops with
# knotd.
. "$ZG_SRCDIR/tests/func/lib.sh"
. "$ZG_SRCDIR/tests/func/ingest-lib.sh"
zg_init
[ -f "$(zg_module_file ingest)" ] || zg_skip_all "module not built"
ingest_setup
sp=$ZG_TMP/spool
mkdir -p "$sp"
zg_genzone test. 100 >"$ZG_TMP/test.zone"
ingest_signer_conf "$d" "$port" "$secret" "$ZG_TMP/test.zone" \
	"    module: mod-ingest/registry" \
	"mod-ingest:
  - id: registry
    source: spool:$sp
    key: ingest
" >"$d/knot.conf"
ok "knotc conf-check accepts the mod-ingest stanza" zg_knotc "$d" conf-check
ok "signing knotd with mod-ingest starts" zg_knotd_start "$d"
ok "zone signed" zg_wait 60 zg_zone_signed "$d" test.
like "$(cat "$d/knotd.log")" "mod-ingest.*consuming spool:$sp" "worker started"

put() { ingest_msg "$1" "$2" >"$sp/$1.json.tmp" && mv "$sp/$1.json.tmp" "$sp/incoming/$1.json"; }
put m-01 '[{"owner":"mod1.test.","rrsets":[{"type":"NS","ttl":3600,"rdata":["ns.provider.example."]},{"type":"DS","ttl":3600,"rdata":["1 13 2 3A4B5C6D7E8F90123A4B5C6D7E8F90123A4B5C6D7E8F90123A4B5C6D7E8F9012"]}]}]'
put m-02 '[{"owner":"www.other.","rrsets":[]}]'
put m-03 '[{"owner":"mod3.test.","rrsets":[{"type":"A","ttl":300,"rdata":["192.0.2.3"]}]},{"owner":"mod4.test.","rrsets":[{"type":"TXT","ttl":300,"rdata":["\"four\""]}]}]'
drained() { [ -z "$(ls "$sp/incoming")" ]; }
ok "spool drained by the module within 30 s" zg_wait 30 drained
is "$(ls "$sp/done" | tr '\n' ' ')" "m-01.json m-03.json " "applied messages in done/"
is "$(cat "$sp/failed/m-02.json.error")" "message m-02: owner www.other. outside zone test." "refusal reason"
ok "mod1.test. DS served signed" zg_wait 10 ingest_signed "$port" mod1.test. DS
is "$(ingest_rr "$port" mod3.test. A)" "192.0.2.3" "mod3.test. A served"

stats() { zg_knotc "$d" zone-stats test. mod-ingest 2>&1; }
st=$(stats)
like "$st" "mod-ingest.messages-applied = 2$" "messages-applied 2"
like "$st" "mod-ingest.messages-refused = 1$" "messages-refused 1"
like "$st" "mod-ingest.changes-applied = 3$" "changes-applied 3"
like "$st" "queue-lag-seconds" "queue-lag-seconds reported"
like "$st" "mod-ingest.consumer-connected = 1$" "consumer-connected 1 (spool open)"
like "$st" "mod-ingest.lease-held = 1$" "lease-held 1 (the spool's lock)"
polled=$(printf '%s\n' "$st" | sed -n 's/.*mod-ingest.last-poll-time = //p')
now=$(date +%s)
ok "last-poll-time is a unix time of the last seconds ($polled, now $now)" \
	test -n "$polled" -a "${polled:-0}" -le "$now" -a "${polled:-0}" -ge "$((now - 10))"
like "$(cat "$d/knotd.log")" "mod-ingest.*refused m-02.json \(message m-02: owner www.other. outside zone test.\)" "refusal logged"

# A message too big for one UPDATE: one zone transaction on knotd's own
# control socket (control.listen), one new serial.
ingest_big "$sp/m-big.json.tmp" m-big mbig
ingest_msg m-c1 '[{"owner":"after-big.test.","rrsets":[{"type":"A","ttl":300,"rdata":["192.0.2.77"]}]}]' >"$sp/m-c1.json.tmp"
s0=$(ingest_serial "$port")
# Both in one pass: the big one goes alone (a transaction), the other in an UPDATE.
mv "$sp/m-big.json.tmp" "$sp/incoming/m-big.json"
mv "$sp/m-c1.json.tmp" "$sp/incoming/m-c1.json"
ok "big message applied by the module within 60 s" zg_wait 60 drained
is "$(ls "$sp/done" | grep -c 'm-big\|m-c1')" 2 "big message and the one after it in done/"
is "$(ingest_rr "$port" after-big.test. A)" "192.0.2.77" "the message after the big one applied"
like "$(cat "$d/knotd.log")" "mod-ingest.*applied m-big.json \(message m-big, 3000 owners changed, one zone transaction\)" "applied in one zone transaction"
ok "the big message published as one serial (at most one more for the other)" test "$(ingest_serial "$port")" -le "$((s0 + 2))"
is "$(zg_axfr 127.0.0.1 "$port" test. | awk '$1 ~ /^mbig/ && $4 == "NS"' | wc -l)" 6000 "all 6000 NS records served"
ok "knotc status answers after the transaction" zg_knotc "$d" status

# Counters survive a zone reload (the module stays loaded) and restart from
# zero on a configuration reload (the module is unloaded and loaded again),
# as the .rst says.
ok "knotc zone-reload" zg_knotc "$d" zone-reload test.
like "$(stats)" "mod-ingest.messages-applied = 4$" "counters kept over zone-reload (messages-applied 4)"
ok "knotc reload" zg_knotc "$d" reload
ok "worker started again after reload" zg_wait 20 sh -c "[ \$(grep -c 'consuming spool:' '$d/knotd.log') -ge 2 ]"
put m-04 '[{"owner":"mod5.test.","rrsets":[{"type":"AAAA","ttl":300,"rdata":["2001:db8::5"]}]}]'
ok "message after the reload applied within 30 s" zg_wait 30 drained
applied_after() { stats | grep -q "mod-ingest.messages-applied = 1$"; }
ok "counters restart from zero after reload (messages-applied 1)" zg_wait 10 applied_after
like "$(stats)" "mod-ingest.lease-held = 1$" "lease-held 1 again after reload"
is "$(ingest_rr "$port" mod5.test. AAAA)" "2001:db8::5" "mod5.test. AAAA served"
# Exactly once per message id: the worker started by the reload reads done/;
# a file carrying the id of an applied message is refused, a later one applies.
ingest_msg m-01 '[{"owner":"mod1.test.","rrsets":[{"type":"NS","ttl":3600,"rdata":["ns.changed.example."]}]}]' >"$sp/m-05.json.tmp"
mv "$sp/m-05.json.tmp" "$sp/incoming/m-05.json"
put m-06 '[{"owner":"mod6.test.","rrsets":[{"type":"A","ttl":300,"rdata":["192.0.2.6"]}]}]'
ok "a repeated id and a new message handled within 30 s" zg_wait 30 drained
is "$(cat "$sp/failed/m-05.json.error" 2>&1)" "message m-01: id already applied to zone test. (done/m-01.json), not applied again" \
	"repeated id refused with its reason"
like "$(cat "$d/knotd.log")" "mod-ingest.*refused m-05.json \(message m-01: id already applied to zone test\. \(done/m-01\.json\), not applied again\)" \
	"repeated id refusal logged"
is "$(ingest_rr "$port" mod1.test. NS)" "ns.provider.example." "mod1.test. NS unchanged"
is "$(ingest_rr "$port" mod6.test. A)" "192.0.2.6" "the message after it applied"
ok "knotd stops cleanly (worker joined)" zg_knotd_stop "$d"
unlike "$(cat "$d/knotd.stderr" 2>/dev/null)" "Segmentation|Aborted|double free" "no crash"
zg_done
