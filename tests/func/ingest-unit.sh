#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The command line of tools/zg-ingest@.service works: its ExecStart, with
# the unit's Environment= defaults overridden by an instance's environment
# file and its specifiers (%i, %I, %H) filled in as systemd does, runs
# zg-ingest (of the build tree) against a real signing knotd and applies a
# spool message, including one too big for an UPDATE (the control socket
# the unit passes). systemd itself is not needed (docs.sh and
# debian-package.sh run systemd-analyze verify on the unit).
. "$ZG_SRCDIR/tests/func/lib.sh"
. "$ZG_SRCDIR/tests/func/ingest-lib.sh"
zg_init
ingest_setup
unit=$ZG_SRCDIR/tools/zg-ingest@.service
sp=$ZG_TMP/spool
mkdir -p "$sp/incoming" "$sp/done" "$sp/failed"
zg_genzone test. 50 >"$ZG_TMP/test.zone"
ingest_signer_conf "$d" "$port" "$secret" "$ZG_TMP/test.zone" >"$d/knot.conf"
ok "signing knotd starts" zg_knotd_start "$d"
ok "zone signed" zg_wait 60 zg_zone_signed "$d" test.

# The instance "test" (zone test.): its environment file and key file.
printf '%s\n' "$key" >"$ZG_TMP/test.key"
cat >"$ZG_TMP/test.conf" <<CONF
# zg-ingest@test
ZG_INGEST_SOURCE=spool:$sp
ZG_INGEST_SERVER=$srv
ZG_INGEST_KEYFILE=$ZG_TMP/test.key
ZG_INGEST_SOCKET=$d/knot.sock
ZG_INGEST_ARGS=--once --interval 0.2
CONF

# The unit's command as systemd runs it: Environment= first, then the
# EnvironmentFile (which overrides it), specifiers, ${VAR} as one word and
# $VAR split at white space.
command_of_unit() {
	local line
	(
		while IFS= read -r line; do
			case $line in Environment=*) export "${line#Environment=}" ;; esac
		done < <(sed 's/%i/test/g' "$unit")
		while IFS= read -r line; do
			case $line in ''|'#'*) continue ;; esac
			export "$line"
		done <"$ZG_TMP/test.conf"
		cmd=$(sed -e ':a' -e '/\\$/N; s/\\\n[[:space:]]*/ /; ta' "$unit" | sed -n 's/^ExecStart=//p' |
			sed -e 's/%I/test/g; s/%i/test/g' -e "s/%H/$(hostname)/g" \
			    -e 's/\${\([A-Z_]*\)}/"${\1}"/g' \
			    -e "s|^/usr/bin/zg-ingest |$ZG_BUILDDIR/libtool --mode=execute $ZG_INGEST |")
		eval "set -- $cmd"
		printf '%s\n' "$@"
	)
}
args=$(command_of_unit)
like "$args" "^--consumer$" "the command names the consumer"
like "$(printf '%s\n' "$args" | grep -A1 '^-z$' | tail -n 1)" "^test$" "the zone is the instance name (%I)"
like "$(printf '%s\n' "$args" | grep -A1 '^-c$' | tail -n 1)" "^$d/knot.sock$" "the environment file sets the control socket"
like "$args" "^--once$" "ZG_INGEST_ARGS split into words"

ingest_msg u-1 '[{"owner":"unit1.test.","rrsets":[{"type":"A","ttl":300,"rdata":["192.0.2.41"]}]}]' >"$sp/incoming/u-1.json"
ingest_big "$sp/u-big.json.tmp" u-big ubig
mv "$sp/u-big.json.tmp" "$sp/incoming/u-big.json"
mapfile -t argv < <(command_of_unit)
out=$(timeout 300 "${argv[@]}" 2>&1); rc=$?
is "$rc" 0 "the unit's command (with --once) exits 0"
is "$(ls "$sp/done" | tr '\n' ' ')" "u-1.json u-big.json " "both messages applied"
is "$(ingest_rr "$port" unit1.test. A)" "192.0.2.41" "unit1.test. A served"
like "$out" "applied u-big.json \(message u-big\): 3000 owners changed, 1 zone transaction" \
	"the big message went through the control socket the unit passes"
ok "knotd stops cleanly" zg_knotd_stop "$d"
zg_done
