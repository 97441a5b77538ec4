#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# mod-dsync parent mode with mod-ingest on the parent, against real knotd
# instances on loopback:
#  - P: the parent zone test. signed by knotd (SoftHSM), mod-ingest on a spool
#    and mod-dsync in parent mode writing into that spool;
#  - C: the child zone child.test. signed by knotd (SoftHSM, timings of
#    seconds, KSK lifetime 40 s so Knot rolls the KSK by itself) with
#    mod-dsync in child mode pointed at P, listening on 127.0.0.1 and
#    127.0.0.2; it also serves a pre-signed disagree.test.;
#  - N: pre-signed children (dnssec-signzone) on 127.0.0.3, each with one
#    fault: newkey.test. (CDS signed only by the new key), disagree.test.
#    (its two servers serve different CDS), delete.test. (RFC 8078 delete
#    without allow-delete), unsigned.test. (no RRSIG at all), spoofed.test.
#    (a CDS whose RRSIG does not verify), insecure.test. (CDS but no DS at
#    the parent: no bootstrap); and accept.test. whose CDS is good.
# Children's servers share one port (child-port). Steps: the registry enrols
# child.test.'s first DS (from then on zg-checkds with the parent's trust
# anchor checks the chain every second in the background: never broken);
# dry-run (audit lines only, nothing queued); queueing (accept.test.'s DS
# replaced through the spool); Knot's automatic KSK rollover of child.test.
# completes by itself; PostgreSQL queue with allow-delete (delete.test.); a
# queue that cannot be opened fails the module's load (per Knot series), and
# the zone comes back whole once it is fixed.
. "$ZG_SRCDIR/tests/func/lib.sh"
zg_init
zg_snapshot_modules
for t in softhsm2-util kdig keymgr dnssec-keygen dnssec-signzone dnssec-dsfromkey; do
	command -v "$t" >/dev/null || zg_skip_all "$t not installed"
done
CHECKDS=$ZG_BUILDDIR/tools/zg-checkds
[ -x "$CHECKDS" ] || zg_bail "zg-checkds not built"
checkds_bin() { "$ZG_BUILDDIR/libtool" --mode=execute "$CHECKDS" "$@"; }

ok "SoftHSM tokens initialised" zg_softhsm_init "$ZG_TMP/hsm" parent 1234
ok "second token" softhsm2-util --init-token --free --label child --pin 1234 --so-pin 12341234

P=$ZG_TMP/p C=$ZG_TMP/c N=$ZG_TMP/n K=$ZG_TMP/keys SP=$ZG_TMP/spool
mkdir -p "$P/zones" "$C/zones" "$N/zones" "$K" "$SP"
pp=$(zg_free_port)
# One port free on 127.0.0.1-3 (children's servers).
pc=$("$PYTHON3" - <<'PY'
import socket
for _ in range(100):
    socks = []
    try:
        t = socket.socket(); t.bind(("127.0.0.1", 0)); port = t.getsockname()[1]; socks.append(t)
        for a in ("127.0.0.1", "127.0.0.2", "127.0.0.3"):
            for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                if a == "127.0.0.1" and kind == socket.SOCK_STREAM:
                    continue
                s = socket.socket(socket.AF_INET, kind); s.bind((a, port)); socks.append(s)
        print(port)
        break
    except OSError:
        pass
    finally:
        for s in socks:
            s.close()
PY
)
[ -n "$pc" ] || zg_bail "no port free on 127.0.0.1-3"
secret=$(head -c 32 /dev/urandom | base64)
DSQ_SECRET=$(head -c 32 /dev/urandom | base64)

# ---- pre-signed children (BIND's dnssec-signzone, ECDSA P-256 keys) ----
newkey() { dnssec-keygen -q -a ECDSAP256SHA256 -f KSK -K "$K" "$1"; }
ds_of() { dnssec-dsfromkey -2 "$K/$1.key" | awk '{print $4, $5, $6, $7}'; }
tag_of() { echo "$1" | sed 's/.*+0*//'; }
# child_zone NAME ADDR1 [ADDR2]: SOA, NS, glue-less in-zone server names.
child_zone() {
	printf '$ORIGIN %s.\n$TTL 2\n@ SOA ns1 h 1 3600 600 86400 2\n@ NS ns1\nns1 A %s\n' "$1" "$2"
	[ -n "${3:-}" ] && printf '@ NS ns2\nns2 A %s\n' "$3"
	return 0
}
# sign NAME IN OUT KEY...: signs with every key for everything (-z), one RR per line.
sign() {
	local name=$1 in=$2 out=$3; shift 3
	local k
	for k in "$@"; do grep -v '^;' "$K/$k.key" >>"$in"; done
	(cd "$K" && dnssec-signzone -q -z -O full -o "$name." -f "$out" -e +864000 "$in" "$@") >/dev/null
}
mkdir -p "$N/zones" "$C/zones"

# newkey.test.: DS at the parent = old key; CDS = new key; the CDS is signed
# by the new key only (the old key's RRSIG over the CDS is removed).
NK_OLD=$(newkey newkey.test) NK_NEW=$(newkey newkey.test)
{ child_zone newkey.test 127.0.0.3; echo "@ CDS $(ds_of "$NK_NEW")"; } >"$K/newkey.zone"
ok "newkey.test. signed" sign newkey.test "$K/newkey.zone" "$K/newkey.signed" "$NK_OLD" "$NK_NEW"
grep -Ev "RRSIG[[:space:]]+CDS .* $(tag_of "$NK_OLD") newkey\.test\. " "$K/newkey.signed" >"$N/zones/newkey.test.zone"
is "$(grep -c 'RRSIG[[:space:]]*CDS' "$N/zones/newkey.test.zone")" 1 "newkey.test.: CDS signed by the new key only"

# disagree.test.: ns1 (N) and ns2 (C) serve different CDS.
DG_K=$(newkey disagree.test) DG_K2=$(newkey disagree.test)
{ child_zone disagree.test 127.0.0.3 127.0.0.1; echo "@ CDS $(ds_of "$DG_K2")"; } >"$K/dga.zone"
{ child_zone disagree.test 127.0.0.3 127.0.0.1; echo "@ CDS $(ds_of "$DG_K")"; } >"$K/dgb.zone"
ok "disagree.test. (two variants) signed" sign disagree.test "$K/dga.zone" "$N/zones/disagree.test.zone" "$DG_K" "$DG_K2"
sign disagree.test "$K/dgb.zone" "$C/zones/disagree.test.zone" "$DG_K" "$DG_K2"

# delete.test.: the RFC 8078 delete form, validly signed.
DL_K=$(newkey delete.test)
{ child_zone delete.test 127.0.0.3; printf '@ CDS 0 0 0 00\n@ CDNSKEY 0 3 0 AA==\n'; } >"$K/delete.zone"
ok "delete.test. signed" sign delete.test "$K/delete.zone" "$N/zones/delete.test.zone" "$DL_K"

# unsigned.test.: DNSKEY and CDS without any RRSIG (a spoofed, unsigned answer).
US_K=$(newkey unsigned.test) US_K2=$(newkey unsigned.test)
{ child_zone unsigned.test 127.0.0.3; echo "@ CDS $(ds_of "$US_K2")"
  grep -hv '^;' "$K/$US_K.key" "$K/$US_K2.key"; } >"$N/zones/unsigned.test.zone"

# spoofed.test.: signed, but the CDS RRSIG was altered (does not verify).
SF_K=$(newkey spoofed.test) SF_K2=$(newkey spoofed.test)
{ child_zone spoofed.test 127.0.0.3; echo "@ CDS $(ds_of "$SF_K2")"; } >"$K/spoofed.zone"
ok "spoofed.test. signed" sign spoofed.test "$K/spoofed.zone" "$K/spoofed.signed" "$SF_K" "$SF_K2"
"$PYTHON3" - "$K/spoofed.signed" "$N/zones/spoofed.test.zone" <<'PY'
import sys
out = []
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) > 5 and f[3] == "RRSIG" and f[4] == "CDS":
        sig = f[-1]
        f[-1] = sig[:10] + ("A" if sig[10] != "A" else "B") + sig[11:]
        line = " ".join(f) + "\n"
    out.append(line)
open(sys.argv[2], "w").write("".join(out))
PY

# accept.test.: DS at the parent = K; CDS = K2; both keys sign everything.
AC_K=$(newkey accept.test) AC_K2=$(newkey accept.test)
{ child_zone accept.test 127.0.0.3; echo "@ CDS $(ds_of "$AC_K2")"; } >"$K/accept.zone"
ok "accept.test. signed" sign accept.test "$K/accept.zone" "$N/zones/accept.test.zone" "$AC_K" "$AC_K2"

# insecure.test.: signed, publishes a CDS, but the parent has no DS for it.
IN_K=$(newkey insecure.test)
{ child_zone insecure.test 127.0.0.3; echo "@ CDS $(ds_of "$IN_K")"; } >"$K/insecure.zone"
ok "insecure.test. signed" sign insecure.test "$K/insecure.zone" "$N/zones/insecure.test.zone" "$IN_K"

# ---- the parent zone ----
cat >"$P/zones/test.zone" <<ZONE
\$ORIGIN test.
\$TTL 2
@ SOA ns.test. hostmaster.test. 1 3600 600 86400 2
@ NS ns.test.
ns A 127.0.0.1
child NS ns1.child.test.
child NS ns2.child.test.
ns1.child A 127.0.0.1
ns2.child A 127.0.0.2
newkey NS ns1.newkey.test.
newkey DS $(ds_of "$NK_OLD")
ns1.newkey A 127.0.0.3
disagree NS ns1.disagree.test.
disagree NS ns2.disagree.test.
disagree DS $(ds_of "$DG_K")
ns1.disagree A 127.0.0.3
ns2.disagree A 127.0.0.1
delete NS ns1.delete.test.
delete DS $(ds_of "$DL_K")
ns1.delete A 127.0.0.3
unsigned NS ns1.unsigned.test.
unsigned DS $(ds_of "$US_K")
ns1.unsigned A 127.0.0.3
spoofed NS ns1.spoofed.test.
spoofed DS $(ds_of "$SF_K")
ns1.spoofed A 127.0.0.3
insecure NS ns1.insecure.test.
ns1.insecure A 127.0.0.3
accept NS ns1.accept.test.
accept DS $(ds_of "$AC_K")
ns1.accept A 127.0.0.3
ZONE

# ---- configurations ----
# parent_conf DRYRUN(on|off) [QUEUE [ALLOW-DELETE]]: the queue is mod-ingest's
# source and mod-dsync's queue (default: the spool).
parent_conf() {
	local queue=${2:-spool:$SP} del=${3:-off}
	zg_knot_conf "$P" "$pp"
	zg_signer_conf parent 1234 nsec | sed '/^policy:/,$d'
	zg_conf_fast_policy
	zg_conf_key ingest "$secret" dsquery "$DSQ_SECRET"
	zg_conf_acls ingest "127.0.0.1 key:ingest" update xfr 127.0.0.1 transfer \
		dsquery key:dsquery query
	cat <<CONF
mod-ingest:
  - id: registry
    source: $queue
    key: ingest
    poll-interval: 1

mod-dsync:
  - id: parent
    mode: parent
    queue: $queue
    dry-run: $1
    allow-delete: $del
    scan-interval: 1
    child: [ child.test ]
    check-interval: 1
    query-rate: 500
    child-port: $pc

zone:
  - domain: test
    storage: "$P/zones"
    dnssec-signing: on
    dnssec-policy: fast
    zonefile-sync: -1
    journal-content: all
    acl: [ingest, xfr, dsquery]
    module: [mod-ingest/registry, mod-dsync/parent]
CONF
}
parent_conf on >"$P/knot.conf"
{
	zg_knot_conf "$C" "$pc" | sed "s|^    listen: .*|    listen: [ 127.0.0.1@$pc, 127.0.0.2@$pc ]|"
	zg_signer_conf child 1234 nsec | sed '/^policy:/,$d'
	# Knot rolls the KSK by itself 40 s after the last one became active.
	zg_conf_fast_policy 40s
	zg_conf_key dsquery "$DSQ_SECRET"
	# The child's DS checks are signed: the parent's answers are authenticated.
	zg_conf_remotes parent "127.0.0.1@$pp key:dsquery"
	cat <<CONF
mod-dsync:
  - id: child
    mode: child
    check-interval: 1
    parent: parent
    overdue: 1h

zone:
  - domain: child.test
    storage: "$C/zones"
    dnssec-signing: on
    dnssec-policy: fast
    module: mod-dsync/child
  - domain: disagree.test
    storage: "$C/zones"
CONF
} >"$C/knot.conf"
cat >"$C/zones/child.test.zone" <<ZONE
\$ORIGIN child.test.
\$TTL 2
@ SOA ns1.child.test. hostmaster.child.test. 1 3600 600 86400 2
@ NS ns1.child.test.
@ NS ns2.child.test.
ns1 A 127.0.0.1
ns2 A 127.0.0.2
www A 192.0.2.1
ZONE
{
	zg_knot_conf_bare "$N" "$pc" | sed "s|^    listen: .*|    listen: 127.0.0.3@$pc|"
	echo "zone:"
	for z in newkey disagree delete unsigned spoofed insecure accept; do
		printf '  - domain: %s.test\n    storage: "%s/zones"\n' "$z" "$N"
	done
} >"$N/knot.conf"

ok "children's server N starts" zg_knotd_start "$N"
ok "child signer C starts" zg_knotd_start "$C"
ok "child signed" zg_wait 30 zg_zone_signed "$C" child.test.
ok "parent P starts (dry-run)" zg_knotd_start "$P"
ok "parent signed" zg_wait 30 zg_zone_signed "$P" test.
plog() { cat "$P/knotd.log"; }
plog_has() { grep -Eq "$1" "$P/knotd.log"; }
like "$(plog)" "mod-dsync.*cds scanner active \(queue spool:$SP, dry-run, server 127\.0\.0\.1@$pp, scan-interval 1s, 1 listed children every 1s, query-rate 500/s, child-port $pc, allow-delete off\)" \
	"scanner announced at load"

dig_short() { kdig @127.0.0.1 -p "$1" +short +time=2 +retry=1 "$2" "$3" 2>/dev/null; }
# keymgr next to a busy knotd (signing, SoftHSM token in use) can fail for a
# moment: retried, bounded; its last error is shown if it never succeeds.
ta_written() { keymgr -c "$P/knot.conf" test. ds >"$ZG_TMP/ta.ds" 2>"$ZG_TMP/ta.err" && test -s "$ZG_TMP/ta.ds"; }
ok "parent trust anchor written" zg_wait 30 ta_written
[ -s "$ZG_TMP/ta.ds" ] || zg_diag "keymgr: $(cat "$ZG_TMP/ta.err")"
# chain NAME [SERVERS...]: zg-checkds with the parent's trust anchor: not broken
# (0 in-sync or 1 pending); the output is kept in $chain_out.
chain() {
	local z=$1; shift
	chain_out=$(checkds_bin --parent "127.0.0.1@$pp" "$@" --trust-anchor "$ZG_TMP/ta.ds" "$z" 2>&1)
	local rc=$?
	[ "$rc" -le 1 ]
}

# ---- 0. the registry enrols child.test.'s first DS (bootstrapping is out of
# the scanner's scope); from then on the chain of trust is checked every
# second by zg-checkds with the parent's trust anchor, in the background.
ksk_ds() { zg_keymgr -c "$C/knot.conf" child.test. ds | awk '$5 == 2 {print $3, $4, $5, $6}'; }
mapfile -t OLD < <(ksk_ds)
is "${#OLD[@]}" 1 "child has one KSK (${OLD[*]})"
OLDTAG=${OLD[0]%% *}
# The registry enrols the first DS (bootstrap is out of the scanner's scope).
printf '{"version":1,"id":"enrol","zone":"test.","changes":[{"owner":"child.test.","rrsets":[{"type":"NS","ttl":2,"rdata":["ns1.child.test.","ns2.child.test."]},{"type":"DS","ttl":2,"rdata":["%s"]}]}]}\n' \
	"${OLD[0]}" >"$SP/incoming/.enrol.tmp" && mv "$SP/incoming/.enrol.tmp" "$SP/incoming/00-enrol.json"
child_ds() { [ "$(dig_short "$pp" child.test. DS | awk '{print $1}' | sort | tr '\n' ' ')" = "$1 " ]; }
ok "registry enrols the first DS ($OLDTAG)" zg_wait 30 child_ds "$OLDTAG"
clog_has() { grep -Eq "$1" "$C/knotd.log"; }
ok "child module confirms the first KSK" zg_wait 30 \
	clog_has "mod-dsync.*ksk submission confirmed \(zone-ksk-submitted\), key $OLDTAG/"
CHILDS=(--child "127.0.0.1@$pc" --child "127.0.0.2@$pc")
ok "chain intact after enrolment" chain child.test. "${CHILDS[@]}"
checker() {
	local i rc
	for i in $(seq 1 600); do
		checkds_bin --parent "127.0.0.1@$pp" "${CHILDS[@]}" --trust-anchor "$ZG_TMP/ta.ds" \
			--timeout 1000 child.test. >"$ZG_TMP/chain.last" 2>&1
		rc=$?
		echo "$(date +%s) $rc" >>"$ZG_TMP/chain.log"
		[ "$rc" -eq 2 ] && cp "$ZG_TMP/chain.last" "$ZG_TMP/chain.broken.$i"
		sleep 1
	done
}
checker &
checker_pid=$!
zg_track_pid "$checker_pid"

# ---- 1. dry-run: audit lines, nothing queued ----
audit() { plog_has "mod-dsync.*child $1, $2"; }
ok "scan passes run" zg_wait 30 plog_has "mod-dsync.*scan of 8 delegations done in"
ok "newkey.test.: refused, cds signed only by the new key" zg_wait 20 \
	audit 'newkey\.test\.' "cds/cdnskey refused \(cds not signed by a key the current ds set authenticates \(ds $(tag_of "$NK_OLD")/13/2, cds $(tag_of "$NK_NEW")/13/2\)\)"
ok "disagree.test.: refused, child servers disagree" zg_wait 20 \
	audit 'disagree\.test\.' "cds/cdnskey refused \(child servers disagree \(127\.0\.0\.[13]@$pc and 127\.0\.0\.[13]@$pc serve different dnskey/cds/cdnskey\)\)"
ok "delete.test.: refused, delete without permission" zg_wait 20 \
	audit 'delete\.test\.' "cds/cdnskey refused \(.*delete.*\)"
ok "unsigned.test.: refused, unsigned answers" zg_wait 20 \
	audit 'unsigned\.test\.' "cds/cdnskey refused \(dnskey rrset not authenticated by the current ds set \(ds $(tag_of "$US_K")/13/2\)\)"
ok "spoofed.test.: refused, CDS signature does not verify" zg_wait 20 \
	audit 'spoofed\.test\.' "cds/cdnskey refused \(cds not signed by a key the current ds set authenticates"
ok "accept.test.: accepted, dry-run" zg_wait 20 \
	audit 'accept\.test\.' "cds accepted \(ds $(tag_of "$AC_K")/13/2 -> $(tag_of "$AC_K2")/13/2\), dry-run, not queued"
ok "insecure.test.: refused, no DS to authenticate it (no bootstrap)" zg_wait 20 \
	audit 'insecure\.test\.' "cds/cdnskey refused \(no ds at the parent, cds bootstrap not supported \(cds $(tag_of "$IN_K")/13/2\)\)"
diag_log() { grep 'mod-dsync' "$P/knotd.log" | tail -n 30 | zg_diag "$(cat)"; }
n0=$(grep -c "child accept\.test\., cds accepted" "$P/knotd.log")
sleep 3
is "$(grep -c "child accept\.test\., cds accepted" "$P/knotd.log")" "$n0" \
	"audit line once per distinct set, not once per pass"
is "$(find "$SP" -name '*-dsync-*.json' | wc -l)" 0 "dry-run queued nothing"
pstats() { zg_knotc "$P" zone-stats test. mod-dsync 2>&1; }
like "$(pstats)" "cds-refused[^0-9]*([6-9]|[1-9][0-9])" "cds-refused counted (6 children)"
like "$(pstats)" "cds-accepted[^0-9]*1" "cds-accepted counted"
like "$(pstats)" "children-scanned[^0-9]*[1-9]" "children-scanned counted"
like "$(pstats)" "ds-messages-queued[^0-9]*0" "nothing queued in dry-run"
is "$(dig_short "$pp" accept.test. DS | awk '{print $1}')" "$(tag_of "$AC_K")" "accept.test.: DS unchanged"

# ---- 2. queueing: the accepted change goes through mod-ingest ----
parent_conf off >"$P/knot.conf"
ok "knotc reload (dry-run off)" zg_knotc "$P" reload
ok "scanner restarted without dry-run" zg_wait 20 plog_has "cds scanner active \(queue spool:$SP, server"
ok "accept.test.: message queued" zg_wait 30 \
	audit 'accept\.test\.' "cds accepted \(ds $(tag_of "$AC_K")/13/2 -> $(tag_of "$AC_K2")/13/2\), queued message [0-9]{8}T[0-9]{6}Z-dsync-[0-9]+-accept\.test"
accept_ds() { [ "$(dig_short "$pp" accept.test. DS | awk '{print $1}')" = "$(tag_of "$AC_K2")" ]; }
ok "mod-ingest applied it: the parent serves the new DS" zg_wait 30 accept_ds
applied=$(ls "$SP/done" 2>/dev/null | grep -c 'dsync-.*accept\.test\.json')
is "$applied" 1 "the message is in done/"
like "$(cat "$SP"/done/*accept.test.json 2>/dev/null)" "\"owner\": *\"accept\.test\.\".*\"type\": *\"NS\".*\"type\": *\"DS\".*\"$(tag_of "$AC_K2") 13 2 " \
	"message: full state of the delegation (NS and the new DS)"
like "$(kdig @127.0.0.1 -p "$pp" +norec +noall +authority accept.test. NS 2>/dev/null)" \
	"accept\.test\..*NS[[:space:]]+ns1\.accept\.test\." "accept.test. NS kept"
ok "chain of trust of accept.test. intact" chain accept.test. --child "127.0.0.3@$pc"
like "$chain_out" "in-sync" "accept.test. in sync (zg-checkds)"
sleep 3
is "$(ls "$SP/done" "$SP/incoming" 2>/dev/null | grep -c 'accept\.test\.json')" 1 "exactly one message for accept.test."
is "$(ls "$SP/failed" 2>/dev/null | wc -l)" 0 "no refused message"
for z in newkey disagree delete unsigned spoofed; do
	ok "$z.test.: DS not changed" test -n "$(dig_short "$pp" "$z.test." DS)"
done
like "$(pstats)" "ds-messages-queued[^0-9]*1" "one message queued"

# ---- 3. the automatic KSK rollover of child.test. completes by itself ----
waiting() { [ "$(grep -c "KSK submission, waiting for confirmation" "$C/knotd.log")" -ge "$1" ]; }
has_cds2() { [ -n "$(dig_short "$pc" child.test. CDS)" ] && [ "$(dig_short "$pc" child.test. CDS | awk '{print $1}')" != "$OLDTAG" ]; }
ok "knotd rolls the KSK by itself: the child publishes the CDS of a new KSK" zg_wait 120 has_cds2
ok "knotd waits for the new KSK's submission" waiting 2
NEWTAG=$(dig_short "$pc" child.test. CDS | awk '{print $1}')
ok "parent scanner accepts the CDS and queues it" zg_wait 30 \
	audit 'child\.test\.' "cds accepted \(ds $OLDTAG/13/2 -> $NEWTAG/13/2\), queued message"
ok "mod-ingest applies it: the parent serves the new DS" zg_wait 30 child_ds "$NEWTAG"
ok "child module confirms the new KSK" zg_wait 30 \
	clog_has "mod-dsync.*ksk submission confirmed \(zone-ksk-submitted\), key $NEWTAG/"
confirmed2() { [ "$(grep -c "KSK submission, confirmed" "$C/knotd.log")" -ge 2 ]; }
ok "knotd logs the submission confirmed" zg_wait 30 confirmed2
no_cds() { [ "$(dig_short "$pc" child.test. CDS | wc -l)" -eq 0 ]; }
ok "CDS withdrawn (new KSK active)" zg_wait 30 no_cds
old_gone() { [ "$(dig_short "$pc" child.test. DNSKEY | grep -c '^257 ')" -eq 1 ]; }
ok "old KSK retired from the DNSKEY set" zg_wait 60 old_gone
ok "chain intact after the rollover" chain child.test. "${CHILDS[@]}"
like "$chain_out" "in-sync" "child.test. in sync at the end"
# Checks that came to a verdict (0 in-sync, 1 pending, 2 broken; 3 is an
# error: no verdict).
chain_checks() { awk '$2 <= 2' "$ZG_TMP/chain.log" 2>/dev/null | wc -l; }
# A zg-checkds run takes longer on a loaded machine: the rollover may be over
# before 20 checks. Let the checker go on until it made them (it ends by
# itself after 600 runs; should it die early, stop waiting: the count tells).
enough_checks() { [ "$(chain_checks)" -ge 20 ] || ! zg_alive "$checker_pid"; }
zg_diag "zg-checkds verdicts until the rollover was over: $(chain_checks)"
zg_wait 900 enough_checks
kill "$checker_pid" 2>/dev/null
wait "$checker_pid" 2>/dev/null
nchecks=$(chain_checks)
ok "chain checked throughout ($nchecks checks)" test "$nchecks" -ge 20
is "$(awk '$2 == 2' "$ZG_TMP/chain.log" | wc -l)" 0 "zg-checkds never found the chain broken"
for f in "$ZG_TMP"/chain.broken.*; do [ -f "$f" ] && zg_diag "$(cat "$f")"; done
zg_diag "zg-checkds exit codes over the run: $(awk '{print $2}' "$ZG_TMP/chain.log" | sort | uniq -c | tr '\n' ' ')"
is "$(ls "$SP/failed" 2>/dev/null | wc -l)" 0 "no message refused by mod-ingest"

# ---- 4. PostgreSQL queue, delete accepted with allow-delete ----
if ok "PostgreSQL cluster starts" zg_pg_start "$ZG_TMP/pg"; then
	psql_q() { psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1" 2>&1; }
	parent_conf off "$ZG_PG_URI" on >"$P/knot.conf"
	ok "knotc reload (PostgreSQL queue, allow-delete on)" zg_knotc "$P" reload
	ok "delete.test.: delete accepted and queued into PostgreSQL" zg_wait 30 \
		audit 'delete\.test\.' "delete accepted \(ds $(tag_of "$DL_K")/13/2 removed\), queued message [0-9T]+Z-dsync-[0-9]+-delete\.test \(row [0-9]+(; created the missing queue tables)?\)"
	no_ds() { [ -z "$(dig_short "$pp" delete.test. DS)" ]; }
	ok "mod-ingest applied it from PostgreSQL: no DS for delete.test." zg_wait 30 no_ds
	is "$(psql_q "SELECT state || ' ' || (message->>'zone') || ' ' || (message->'changes'->0->>'owner') FROM zonegate_queue WHERE message->>'id' LIKE '%-dsync-%-delete.test'")" \
		"applied test. delete.test." "the row is recorded applied"
	like "$(kdig @127.0.0.1 -p "$pp" +norec +noall +authority delete.test. NS 2>/dev/null)" \
		"delete\.test\..*NS[[:space:]]+ns1\.delete\.test\." "delete.test.: delegation kept, now insecure"
	like "$(pstats)" "ds-messages-queued[^0-9]*[1-9]" "queued messages counted"
fi
# ---- 5. a queue that cannot be opened fails the module load; then fixed ----
# Up to Knot 3.4 knotd skips a module that fails to load and serves the zone
# without it; since 3.5 (module load failures fail the reload) the zone is
# not activated and no longer served. Either way the module's error names the
# queue, and once the queue is fixed the zone is served with its data intact.
nactive=$(grep -c "cds scanner active (queue spool:$SP, server" "$P/knotd.log")
parent_conf off "spool:$ZG_TMP/no/such/dir" >"$P/knot.conf"
zg_knotc "$P" reload >/dev/null 2>&1
ok "unusable queue: the load error names it" zg_wait 20 \
	plog_has "mod-dsync.*cannot open the queue spool:$ZG_TMP/no/such/dir \(No such file or directory\)"
if zg_knot_at_least 3.5; then
	ok "knotd 3.5+: the zone is not activated" zg_wait 20 \
		plog_has "\[test\.\] zone cannot be activated \(invalid module\)"
	refused() { kdig @127.0.0.1 -p "$pp" +time=2 +retry=1 test. SOA 2>/dev/null | grep -q 'status: REFUSED'; }
	ok "knotd 3.5+: the zone is no longer served (REFUSED)" zg_wait 20 refused
else
	is "$(dig_short "$pp" accept.test. DS | awk '{print $1}')" "$(tag_of "$AC_K2")" \
		"knotd 3.2-3.4: the zone is still served, accept.test.'s DS kept"
fi
parent_conf off >"$P/knot.conf"
ok "knotc reload (the queue fixed)" zg_knotc "$P" reload
active_again() { [ "$(grep -c "cds scanner active (queue spool:$SP, server" "$P/knotd.log")" -gt "$nactive" ]; }
ok "the scanner is active again" zg_wait 20 active_again
ok "the zone is served, accept.test.'s DS kept" zg_wait 30 accept_ds
[ "$_zg_failed" -gt 0 ] && diag_log
zg_done
