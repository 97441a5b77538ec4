#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Diagnostic (issue 20, "where the time goes"): what one serial costs Knot
# itself, by zone size, with no zonegate code loaded. For each size, one
# knotd (no modules, no signing, journal-content: none, zonefile-sync: -1)
# loads a genzone zone of N delegations; then COMMITS control transactions
# each change one A record (knotc zone-begin, zone-set, zone-commit) and the
# wall time of each zone-commit is taken. A cost that grows with the zone
# for a change of one record is work Knot does over the whole zone on every
# serial; in a chain signer -> hidden primary -> public secondary each of
# the three pays it, one after the other.
#
#   ZG_BENCH_KC_SIZES="10000 200000 1000000"   delegations
#   ZG_BENCH_KC_COMMITS=15                      commits per size
#   ZG_BENCH_KC_JOURNAL=0                       a journal-max-depth: the zone keeps
#       journal-content: all (as the e2e bench's servers), COMMITS is DEPTH + 5 so
#       that one commit merges the journal (its time is the max), and a blocking, forced
#       `knotc zone-flush` (the zone file written whole) is timed after
#
# Prints per size: the load time and the zone-commit p50 / max (ms), and the
# p50 against the smallest size's; with a journal, the flush time too.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
export ZG_SRCDIR=$top_srcdir ZG_BUILDDIR=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/func/lib.sh"
zg_init
SIZES=${ZG_BENCH_KC_SIZES:-"10000 200000 1000000"}
COMMITS=${ZG_BENCH_KC_COMMITS:-15}
JOURNAL=${ZG_BENCH_KC_JOURNAL:-0}
JITEMS='    journal-content: none'
if [ "$JOURNAL" -gt 0 ]; then
	COMMITS=$((JOURNAL + 5))
	JITEMS="    journal-content: all
    journal-max-depth: $JOURNAL
    journal-max-usage: 4G"
fi
kc() { "$KNOTC" -c "$d/knot.conf" -t 600 "$@"; }
ms() { echo $(( $(date +%s%N) / 1000000 )); }
base=
for n in $SIZES; do
	d=$ZG_TMP/k$n port=$(zg_free_port)
	mkdir -p "$d/zones"
	{
		zg_knot_conf_bare "$d" "$port"
		cat <<CONF
zone:
  - domain: example.
    storage: "$d/zones"
    zonefile-sync: -1
$JITEMS
CONF
	} >"$d/knot.conf"
	zg_genzone example. "$n" 1 >"$d/zones/example.zone"
	t0=$(ms)
	zg_knotd_start "$d" || { echo "knotd did not start for $n" >&2; exit 1; }
	zg_wait 900 zg_zone_loaded "$d" example. || { echo "zone of $n not loaded within 900 s" >&2; exit 1; }
	load=$(( $(ms) - t0 ))
	: >"$d/commits"
	for i in $(seq 1 "$COMMITS"); do
		kc zone-begin example. >/dev/null || exit 1
		kc zone-set example. "kc$i.example." 3600 A "10.$((i / 65536 % 256)).$((i / 256 % 256)).$((i % 256))" >/dev/null || exit 1
		t0=$(ms)
		kc zone-commit example. >/dev/null || exit 1
		echo $(( $(ms) - t0 )) >>"$d/commits"
	done
	read -r p50 mx < <(sort -n "$d/commits" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)], v[NR] }')
	[ -n "$base" ] || base=$p50
	printf '%8d delegations: load %6.1f s, zone-commit of one record p50 %5d ms, max %5d ms (%s commits), p50 %.1fx the %s-delegation zone'"'"'s\n' \
		"$n" "$(echo "$load / 1000" | bc -l)" "$p50" "$mx" "$COMMITS" "$(echo "$p50 / ($base + 0.001)" | bc -l)" "${SIZES%% *}"
	if [ "$JOURNAL" -gt 0 ]; then
		t0=$(ms)
		kc -b -f zone-flush example. >/dev/null || exit 1
		printf '%8d delegations: journal depth %s: the slowest commit (the merge) %d ms; a blocking, forced zone-flush %d ms\n' \
			"$n" "$JOURNAL" "$mx" "$(( $(ms) - t0 ))"
	fi
	zg_knotd_stop "$d"
	rm -rf "$d"
done
