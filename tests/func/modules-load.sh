#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The modules load in a real knotd: every documented example stanza,
# then the doc/contracts.md stanza set; counters visible in `knotc zone-stats`;
# clean unload/load across `knotc reload`; clean stop.
. "$ZG_SRCDIR/tests/func/lib.sh"
zg_init

declare -A counters=(
	[ingest]="messages-applied messages-refused changes-applied queue-lag-seconds last-applied-id consumer-connected lease-held last-poll-time"
	[validate]="serials-validated serials-failed last-validated-serial validation-latency-ms transfers-refused earliest-expiry-seconds transfers-content-refused"
	[dsync]="parent-ds-checks-ok parent-ds-checks-failed syncs-overdue cds-unsafe cds-servfail children-scanned cds-accepted cds-refused ds-messages-queued child-scans-failed scan-pass-seconds parent-ds-unauthenticated transfers-refused"
	[keys]="keys-held keys-without-backup keys-missing runway-seconds"
)

for m in ingest validate dsync keys; do
	ok "mod-$m shared module built" test -f "$(zg_module_file $m)"
	syms=$(nm -D --defined-only "$(zg_module_file $m)" | awk '{print $3}' | sort | tr '\n' ' ')
	is "$syms" "knotd_mod_api " "mod-$m exports only knotd_mod_api"
done

# The line each module logs when it is loaded (dsync in child mode).
declare -A loadline=(
	[ingest]="consuming spool:"
	[validate]="validating transfers from "
	[dsync]="cds/cdnskey guard active"
	[keys]="backup interlock active"
)

zonefile() { # DIR: an unsigned zone "test." of 20 delegations
	mkdir -p "$1/zones"
	zg_genzone test. 20 >"$1/zones/test.zone"
}

# 1. Each module's documented example, unmodified.
for m in ingest validate dsync keys; do
	d=$ZG_TMP/doc-$m
	mkdir -p "$d"
	port=$(zg_free_port)
	{
		zg_knot_conf "$d" "$port"
		printf 'template:\n  - id: default\n    storage: "%s/zones"\n\n' "$d"
		"$PYTHON3" "$ZG_SRCDIR/tests/func/rst-example.py" "$ZG_SRCDIR/modules/$m/$m.rst"
	} >"$d/knot.conf"
	zonefile "$d"
	if ! ok "mod-$m: documented example passes knotc conf-check" \
		"$KNOTC" -c "$d/knot.conf" conf-check; then
		zg_diag "$(cat "$d/knot.conf")"
	fi
	ok "mod-$m: knotd starts with the documented example" zg_knotd_start "$d"
	ok "mod-$m: zone loaded" zg_wait 20 zg_zone_loaded "$d" test.
	stats=$(zg_knotc "$d" zone-stats test. "mod-$m" 2>&1)
	v=0
	[ "$m" = keys ] && v='[0-9]+'   # mod-keys counts the example zone's keys at once
	for c in ${counters[$m]}; do
		like "$stats" "mod-$m\\.$c(\\[[^]]*\\])? *= *$v\$|mod-$m\\.$c += $v\$|\\[test\\.\\] mod-$m\\.$c = $v" \
			"mod-$m: zone-stats lists $c"
	done
	like "$(cat "$d/knotd.log")" "module 'mod-$m/[^']+', ${loadline[$m]}" "mod-$m: logs what it does at load"
	ok "mod-$m: knotd stops cleanly" zg_knotd_stop "$d"
done

# 2. The doc/contracts.md stanzas together on one zone, then reloads.
d=$ZG_TMP/all
mkdir -p "$d"
port=$(zg_free_port)
spool=$d/spool
mkdir -p "$spool"
{
	zg_conf_key signer-key c2lnbmVyLWtleS1zZWNyZXQtZm9yLXRlc3RzLTAxMjM0NTY3OA==
	cat <<CONF
mod-ingest:
  - id: registry
    source: spool:$spool
    key: signer-key
    server: 127.0.0.1@$port

mod-validate:
  - id: gate
    source: 127.0.0.1@$port
    horizon: 2d
    alarm: /bin/true

mod-dsync:
  - id: child
    mode: child

zone:
  - domain: test
    storage: "$d/zones"
    module: [mod-ingest/registry, mod-validate/gate, mod-dsync/child]
CONF
} >"$d/extra.conf"
{ zg_knot_conf "$d" "$port"; cat "$d/extra.conf"; } >"$d/knot.conf"
zonefile "$d"
ok "contracts stanzas: knotd starts" zg_knotd_start "$d"
ok "contracts stanzas: zone loaded" zg_wait 20 zg_zone_loaded "$d" test.
for m in ingest validate dsync; do
	stats=$(zg_knotc "$d" zone-stats test. "mod-$m" 2>&1)
	n=$(printf '%s\n' "$stats" | grep -c "mod-$m\\.")
	want=$(echo ${counters[$m]} | wc -w)
	is "$n" "$want" "contracts stanzas: mod-$m has its $want counters"
done
pid=$ZG_KNOTD_PID
for i in 1 2 3; do
	ok "knotc reload #$i" zg_knotc "$d" reload
	ok "zone still loaded after reload #$i" zg_wait 20 zg_zone_loaded "$d" test.
done
ok "knotd survived the reloads" zg_alive "$pid"
stats=$(zg_knotc "$d" zone-stats test. 2>&1)
for m in ingest validate dsync; do
	like "$stats" "mod-$m\\." "counters of mod-$m still listed after reloads"
done
for m in ingest validate dsync; do
	loads=$(grep -cE "module 'mod-$m/[^']+', ${loadline[$m]}" "$d/knotd.log")
	is "$loads" 4 "mod-$m logged its load line once per load (start + 3 reloads)"
done
ok "knotd stops cleanly after reloads" zg_knotd_stop "$d"
unlike "$(cat "$d/knotd.log" "$d/knotd.stderr" 2>/dev/null)" "(fatal|critical|segfault|double free|invalid module)" \
	"no fatal or critical log line"

zg_done
