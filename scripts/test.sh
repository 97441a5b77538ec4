#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Sets up a Debian 12 machine (as root: installs the packages zonegate needs),
# builds zonegate and runs the whole test suite: `make check` (unit tests,
# fuzz replays, functional tests with real knotd/SoftHSM/PostgreSQL in
# parallel), then the serial tests (tests/serial/*.sh, e.g. the Debian
# packaging test that installs into the system's knot module directory).
# That is the host's Knot series (3.2 on Debian 12). Then the same suite on
# every other Knot series Debian ships: for each Debian suite of ZG_SERIES
# (default "trixie sid": Knot 3.4 and 3.5) a Debian root is built or reused
# (scripts/roots.sh, cached in /var/cache/zonegate/roots), a copy of the
# clean source tree goes into it, and this script runs there as well.
# Each series gets its own `N passed, N failed, N skipped` line, by name; a
# series whose root cannot be built counts as one failure. The last line is
# the combined `N passed, N failed, N skipped`.
#   ZG_NO_INSTALL=1  skip the package installation
#   ZG_JOBS=N        parallel build and test jobs (default: nproc)
#   ZG_SERIES="..."  Debian suites to run in roots (empty: the host only)
#   ZG_SERIES_TIMEOUT=S  bound of one series' run in its root (default 2400)
set -u
cd "$(dirname "$0")/.." || exit 2
. scripts/install-deps.sh || exit 2
jobs=${ZG_JOBS:-$(nproc)}

# series_name: "Knot X.Y.Z (Debian NAME N)" of this machine or root.
series_name() {
	local knot deb
	knot=$(dpkg-query -W -f '${Version}' knot 2>/dev/null | sed 's/-[^-]*$//')
	deb=$(. /etc/os-release 2>/dev/null && echo "${PRETTY_NAME#Debian GNU/Linux }")
	echo "Knot ${knot:-?} (Debian ${deb:-?})"
}

# run_suite: build and run everything here; the summary's last line is
# `N passed, N failed, N skipped`.
run_suite() {
	echo "== build ($(series_name))"
	{ autoreconf -fi && ./configure -q && make -j"$jobs"; } >build.log 2>&1 || {
		tail -n 60 build.log
		echo "build failed (full log: build.log)"
		echo "0 passed, 1 failed, 0 skipped"
		return 1
	}

	echo "== make check"
	find tests -name '*.trs' -delete 2>/dev/null
	make -j"$jobs" -k check >check.log 2>&1
	grep -E '^(PASS|FAIL|ERROR|XPASS|SKIP):' check.log | grep -vE '^(PASS|SKIP):' || true
	# What a failed test said about it (its diagnostics, the lines after
	# each failed check), bounded: CI keeps only this output, not the logs.
	sed -nE 's/^(FAIL|ERROR): ([^ ]+).*/\2/p' check.log | sort -u | head -n 5 | while read -r t; do
		log=${t%.*}.log
		[ -f "$log" ] || continue
		echo "-- $log: failed checks and their diagnostics (at most 40 lines)"
		awk '/^not ok/ { n = 12 } n > 0 && /^(not ok|#)/ { print; n-- }' "$log" | head -n 40
	done

	echo "== serial tests"
	for t in tests/serial/*.sh; do
		[ -f "$t" ] || continue
		base=${t%.sh}
		env ZG_SRCDIR="$PWD" ZG_BUILDDIR="$PWD" PYTHON3=python3 \
			timeout -k 10 900 build-aux/tap-driver.sh --test-name "$t" \
			--log-file "$base.log" --trs-file "$base.trs" --comments -- bash "$t" || true
	done

	echo "== summary"
	scripts/summary.sh tests
}

# Inside a root (or with no other series asked for): this series only.
if [ -n "${ZG_IN_ROOT:-}" ]; then
	run_suite
	exit $?
fi

results=()
host=$(series_name)
run_suite | tee test-host.log
results+=("$host, host: $(tail -n 1 test-host.log)")

series=${ZG_SERIES-trixie sid}
if [ -n "$series" ]; then
	ZG_ROOTS_LIB=1 . scripts/roots.sh
	# The clean source tree: tracked files and new ones not ignored, as a
	# git checkout of its own (the packaging test builds from git).
	src_files() { git ls-files -co --exclude-standard -z; }
	if ! git rev-parse --git-dir >/dev/null 2>&1; then
		echo "this tree is not a git checkout: the series in Debian roots need one"
		for s in $series; do
			results+=("series $s: FAILED (no git checkout to copy): 0 passed, 1 failed, 0 skipped")
		done
		series=
	fi
fi
for s in $series; do
	echo
	echo "======== series $s: Debian root"
	line=$(zg_root_build "$s" 2>&1)
	rc=$?
	echo "$line"
	if [ $rc -ne 0 ]; then
		results+=("series $s: $(printf '%s\n' "$line" | tail -n 1 | sed 's/^root [^:]*: //'): 0 passed, 1 failed, 0 skipped")
		continue
	fi
	root=$(zg_root_path "$s")
	rm -rf --one-file-system "$root/build/zonegate"
	mkdir -p "$root/build/zonegate"
	src_files | tar --null -T - -cf - | tar -C "$root/build/zonegate" -xf - &&
		git -C "$root/build/zonegate" init -q &&
		git -C "$root/build/zonegate" add -A &&
		git -C "$root/build/zonegate" -c user.name=zonegate -c user.email=zonegate@localhost \
			commit -q -m "tree under test" || {
		results+=("series $s: FAILED (cannot copy the source tree into $root): 0 passed, 1 failed, 0 skipped")
		continue
	}
	echo "======== series $s: suite in $root"
	zg_root_run "$s" "${ZG_SERIES_TIMEOUT:-2400}" env ZG_IN_ROOT=1 ZG_NO_INSTALL=1 ZG_JOBS="$jobs" \
		bash -c 'cd /build/zonegate && bash scripts/test.sh' | tee "test-$s.log"
	rc=${PIPESTATUS[0]}
	last=$(tail -n 1 "test-$s.log")
	name=$(sed -n 's/^== build (\(.*\))$/\1/p' "test-$s.log" | head -n 1)
	if ! printf '%s\n' "$last" | grep -qE '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$'; then
		[ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] && last="timed out after ${ZG_SERIES_TIMEOUT:-2400} s"
		results+=("${name:-series $s}, root $s: did not finish ($last): 0 passed, 1 failed, 0 skipped")
	else
		results+=("${name:-series $s}, root $s: $last")
	fi
done

echo
echo "======== every series"
passed=0 failed=0 skipped=0
for r in "${results[@]}"; do
	echo "$r"
	read -r p f k < <(printf '%s\n' "$r" | sed -nE 's/.*: ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped$/\1 \2 \3/p')
	passed=$((passed + ${p:-0})) failed=$((failed + ${f:-1})) skipped=$((skipped + ${k:-0}))
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
