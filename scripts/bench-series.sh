#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# `make bench` against another Knot series: in the Debian root of SUITE
# (scripts/roots.sh; trixie: Knot 3.4, sid: Knot 3.5), on a copy of the
# clean source tree, so zg-verify meets that series' kzonecheck (with -j
# where it has it) and mod-validate that series' dnssec-validation
# secondary. Takes /tmp/zg-bench.lock (benchmarks need a quiet machine),
# prints what make bench prints; the figures go into bench/RESULTS.md.
#
#   bash scripts/bench-series.sh SUITE [MAKE-BENCH-VARIABLES...]
#   e.g. bash scripts/bench-series.sh sid ZG_BENCH_SIZES=200000
#   ZG_BENCH_TIMEOUT=S  bound of the run (default 14400)
set -u
cd "$(dirname "$0")/.." || exit 2
[ $# -ge 1 ] || { echo "usage: $0 SUITE [VAR=VALUE...]" >&2; exit 2; }
suite=$1
shift
ZG_ROOTS_LIB=1 . scripts/roots.sh
zg_root_build "$suite" || exit 1
root=$(zg_root_path "$suite")
rm -rf --one-file-system "$root/build/zonegate"
mkdir -p "$root/build/zonegate"
git ls-files -co --exclude-standard -z | tar --null -T - -cf - | tar -C "$root/build/zonegate" -xf - ||
	exit 1
exec 9>/tmp/zg-bench.lock
flock -w 3600 9 || { echo "another benchmark holds /tmp/zg-bench.lock" >&2; exit 1; }
zg_root_run "$suite" "${ZG_BENCH_TIMEOUT:-14400}" bash -c \
	'cd /build/zonegate && autoreconf -fi >/dev/null 2>&1 && ./configure -q && make -j2 >/dev/null &&
	 make bench "$@"' zg-bench "$@"
