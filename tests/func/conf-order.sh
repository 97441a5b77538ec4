#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# doc/runbooks.md's "knotd refuses the configuration" section quotes knotd's
# two messages for a module section placed after the zone that names it:
# each module, with its `module:` section after the zone ("unknown module")
# and with its own section after the zone ("invalid module reference"),
# gets exactly the message the runbook quotes from this series' knotc, and
# the right order passes conf-check.
. "$ZG_SRCDIR/tests/func/lib.sh"
zg_init
zg_snapshot_modules

doc=$ZG_SRCDIR/doc/runbooks.md
quoted() { grep -o "value 'mod-ingest/default' ($1)" "$doc" | head -n 1; }
unknown=$(quoted "unknown module")
invalid=$(quoted "invalid module reference")
ok "the runbook quotes the unknown-module message" test -n "$unknown"
ok "the runbook quotes the invalid-reference message" test -n "$invalid"

check() { # NAME CONF EXPECTED
	local out
	out=$(timeout 30 knotc -c "$2" conf-check 2>&1)
	like "$out" "$(printf '%s' "$3" | sed 's/[][().*]/\\&/g')" "$1"
}
for m in ingest validate dsync keys; do
	so=$(zg_module_file "$m")
	modsec="module:
  - id: mod-$m
    file: \"$so\""
	own="mod-$m:
  - id: default"
	zone="zone:
  - domain: test.
    module: mod-$m/default"
	printf '%s\n%s\n%s\n' "$zone" "$modsec" "$own" >"$ZG_TMP/$m-a.conf"
	check "mod-$m: module section after the zone" "$ZG_TMP/$m-a.conf" "${unknown//ingest/$m}"
	printf '%s\n%s\n%s\n' "$modsec" "$zone" "$own" >"$ZG_TMP/$m-b.conf"
	check "mod-$m: its own section after the zone" "$ZG_TMP/$m-b.conf" "${invalid//ingest/$m}"
	printf '%s\n%s\n%s\n' "$modsec" "$own" "$zone" >"$ZG_TMP/$m-c.conf"
	out=$(timeout 30 knotc -c "$ZG_TMP/$m-c.conf" conf-check 2>&1)
	unlike "$out" "unknown module|invalid module reference" "mod-$m: in order, no reference error"
done
zg_done
