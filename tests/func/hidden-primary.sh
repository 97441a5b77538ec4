#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The reference deployment of doc/hidden-primary.md, built from that page:
# its three knot.conf blocks and its message block, with only the
# substitutions the page lists (addresses 192.0.2.N -> 127.0.0.N with a port
# per host, /var/lib/knot and /run/knot into the test's directories, syslog
# into a file, the SoftHSM library, the modules of the build tree). A
# message dropped into the signer's spool reaches the public secondary,
# signed and validated by the hidden primary.
# Then mod-validate's `source` as a remote id: a fourth knotd follows the
# signer through a remote whose first address is dead, from the remote's
# `via` and with its key (the signer allows only those); and a source that
# names no remote and no address loads closed (nothing passes the gate).
. "$ZG_SRCDIR/tests/func/lib.sh"
zg_init
. "$ZG_SRCDIR/tests/func/validate-lib.sh"

command -v softhsm2-util >/dev/null || zg_skip_all "softhsm2-util not installed"
command -v kdig >/dev/null || zg_skip_all "kdig not installed"
. "$ZG_SRCDIR/tests/func/topology-lib.sh"
DOC=$TOPO_DOC
zg_snapshot_modules
VL_ZONE=example.

declare -A P DIR
declare -a TOPO_ADDR TOPO_PORT TOPO_DIR
for n in 1 2 3; do
	P[$n]=$(zg_free_port)
	DIR[$n]=$ZG_TMP/${TOPO_NAMES[$n]}
	TOPO_ADDR[$n]=127.0.0.$n TOPO_PORT[$n]=${P[$n]} TOPO_DIR[$n]=${DIR[$n]}
done
doc_block() { topo_doc_block "$@"; }
subst() { topo_subst "$@"; }

for n in 1 2 3; do
	if topo_conf "$n" >"${DIR[$n]}.conf"; then
		pass "the page has the ${TOPO_NAMES[$n]}'s knot.conf block"
		mv "${DIR[$n]}.conf" "${DIR[$n]}/knot.conf"
	else
		fail "the page has the ${TOPO_NAMES[$n]}'s knot.conf block"
	fi
done
S=${DIR[1]} D=${DIR[2]} C=${DIR[3]}
VL_DIR=$D

# The signer's preparation, as the page says it.
cmd=$(grep -m 1 '^    softhsm2-util --init-token' "$DOC" | sed 's/^ *//')
like "$cmd" "--label zonegate --pin 1234" "the page says how to make the token"
mkdir -p "$ZG_TMP/hsm/tokens"
printf 'directories.tokendir = %s/hsm/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
	"$ZG_TMP" >"$ZG_TMP/hsm/softhsm2.conf"
export SOFTHSM2_CONF=$ZG_TMP/hsm/softhsm2.conf
ok "the token is made with the page's command" $cmd
mkdir -p "$S/lib/ingest"
zg_genzone example. 50 >"$S/lib/example.zone"

ok "signer: knotd starts with the page's configuration" zg_knotd_start "$S"
ok "signer: the zone is signed in the token" zg_wait 60 zg_zone_signed "$S" example.
ok "distribution: knotd starts with the page's configuration" zg_knotd_start "$D"
ok "secondary: knotd starts with the page's configuration" zg_knotd_start "$C"

serial_at() { # N: the serial host N serves
	kdig @127.0.0.$1 -p "${P[$1]}" example. SOA +short +time=2 +retry=0 2>/dev/null | awk '{print $3}'
}
same_serial() { local a b; a=$(serial_at 1); b=$(serial_at "$1"); [ -n "$a" ] && [ "$a" = "$b" ]; }
ok "the distribution server gets the signer's serial" zg_wait 60 same_serial 2
ok "mod-validate validates it" zg_wait 60 stat_ge serials-validated 1
ok "the secondary gets the validated serial" zg_wait 60 same_serial 3
s0=$(serial_at 3)

# The page's message block, run as written (after the substitutions).
msg=$(doc_block '^id=\$\(date -u')
like "$msg" "newdomain\\.example\\." "the page has the message block"
ok "the page's message block runs" bash -c "$(printf '%s\n' "$msg" | subst 1)"
applied() { [ -n "$(ls "$S/lib/ingest/done" 2>/dev/null)" ]; }
ok "mod-ingest applies the message" zg_wait 60 applied
newer() { local s; s=$(serial_at 3); [ -n "$s" ] && [ "$s" != "$s0" ] && same_serial 3; }
ok "the secondary gets the new serial" zg_wait 90 newer
s1=$(serial_at 3)
ds=$(kdig @127.0.0.3 -p "${P[3]}" newdomain.example. DS +dnssec +norec +time=3 2>/dev/null)
like "$ds" "newdomain\\.example\\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+DS[[:space:]]+12345 13 2" \
	"the secondary serves the new DS"
like "$ds" "IN[[:space:]]+RRSIG[[:space:]]+DS 13 " "signed"
like "$(cat "$D/knotd.log")" "mod-validate[^']*', serial $s1, validated \\(incremental" \
	"the hidden primary validated serial $s1 incrementally"
like "$(cat "$D/knotd.log")" "mod-validate[^']*', NOTIFY, outgoing, remote 127\\.0\\.0\\.3@${P[3]}, serial $s1\$" \
	"and NOTIFYed the secondary (TSIG, from its via)"
# The page gives the NOTIFY targets to the module, not to the zone: Knot
# sends no NOTIFY of its own, before the verdict (it logs each it sends as
# "notify, outgoing", like the module).
is "$(grep -i 'notify, outgoing' "$D/knotd.log" | grep -vc 'mod-validate')" 0 	"no NOTIFY from Knot itself before the verdict (the zone has no notify of its own)"
is "$(stat_of serials-failed)" 0 "no serial failed"
out=$(kdig @127.0.0.2 -p "${P[2]}" example. AXFR +time=3 +retry=0 2>&1)
like "$out" "Transfer failed|REFUSED|NOTAUTH" "the hidden primary gives the zone to no client without the key"

# --- source as a remote id: addresses in order (the first is dead), via, key.
E=$ZG_TMP/e; mkdir -p "$E"
PE=$(zg_free_port)
DEAD=$(zg_free_port)
secret=$(awk '/- id: signer-distribution/ { f = 1 } f && /secret:/ { print $2; exit }' "$D/knot.conf")

# signer_remote ADDRESS...: the signer as a remote (from 127.0.0.2 with the
# key, as the signer's acl wants) and an acl for the local clients.
signer_remote() {
	zg_conf_key signer-distribution "$secret"
	zg_conf_remotes signer "$* via:127.0.0.2 key:signer-distribution"
	zg_conf_acls local 127.0.0.0/8 "[transfer, notify]"
}
{
	zg_knot_conf "$E" "$PE" | sed "s/^    listen: 127\\.0\\.0\\.1@$PE\$/    listen: 127.0.0.4@$PE/"
	signer_remote "127.0.0.1@$DEAD" "127.0.0.1@${P[1]}"
	cat <<CONF
mod-validate:
  - id: follow
    source: signer
    poll-interval: 1s

zone:
  - domain: example.
    storage: "$E/zones"
    master: signer
    acl: local
    module: mod-validate/follow
CONF
} >"$E/knot.conf"
VL_DIR=$E
ok "E (source: a remote id) passes conf-check and starts" zg_knotd_start "$E"
like "$(cat "$E/knotd.log")" "validating transfers from signer \\(127\\.0\\.0\\.1@$DEAD, 127\\.0\\.0\\.1@${P[1]}\\)" \
	"E names the remote and its addresses"
s2=$(serial_at 1)
ok "E validates the signer's serial $s2" zg_wait 60 grep -q "mod-validate/follow', serial $s2, validated" "$E/knotd.log"
like "$(cat "$E/knotd.log")" "SOA query, remote signer \\(.*\\), using 127\\.0\\.0\\.1@${P[1]} \\(127\\.0\\.0\\.1@$DEAD failed: " \
	"the dead first address is skipped, logged"
# The signer's acl allows transfers only from 127.0.0.2 with the key: the
# module's transfer came from the remote's via, signed with its key.
like "$(cat "$E/knotd.log")" "mod-validate/follow', AXFR, incoming, remote 127\\.0\\.0\\.1@${P[1]}, serial" \
	"the module transferred from the second address, from the via, with the remote's key"
ok "E stops" zg_knotd_stop "$E"

# --- a source that is no remote and no address: loaded closed.
F=$ZG_TMP/f; mkdir -p "$F"
PF=$(zg_free_port)
{
	zg_knot_conf "$F" "$PF"
	signer_remote "127.0.0.1@${P[1]}"
	cat <<CONF
mod-validate:
  - id: typo
    source: singer

zone:
  - domain: example.
    storage: "$F/zones"
    master: signer
    acl: local
    module: mod-validate/typo
CONF
} >"$F/knot.conf"
ok "F (source names no remote) starts" zg_knotd_start "$F"
like "$(cat "$F/knotd.log")" "mod-validate/typo', source 'singer' is neither a remote of this server nor an IP address, nothing is validated and transfers are refused" \
	"F says the source is unknown"
ok "F has the zone from its master" zg_wait 30 zg_zone_loaded "$F" example.
out=$(kdig @127.0.0.1 -p "$PF" example. AXFR +time=3 +retry=0 2>&1)
like "$out" "REFUSED|failed" "F refuses to transfer a zone nothing validated"
ok "F stops" zg_knotd_stop "$F"

for n in 3 2 1; do ok "${names[$n]} stops" zg_knotd_stop "${DIR[$n]}"; done
unlike "$(cat "$S/knotd.stderr" "$D/knotd.stderr" "$C/knotd.stderr" "$E/knotd.stderr" "$F/knotd.stderr" 2>/dev/null)" \
	"Segmentation|Aborted|double free" "no crash"
zg_done
