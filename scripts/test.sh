#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Sets up a Debian 12 machine (as root: installs the packages zonegate needs),
# builds zonegate and runs the whole test suite: `make check` (unit tests,
# fuzz replays, functional tests with real knotd/SoftHSM/PostgreSQL in
# parallel), then the serial tests (tests/serial/*.sh, e.g. the Debian
# packaging test that installs into the system's knot module directory).
# The last line is `N passed, N failed, N skipped`.
#   ZG_NO_INSTALL=1  skip the package installation
#   ZG_JOBS=N        parallel build and test jobs (default: nproc)
set -u
cd "$(dirname "$0")/.." || exit 2
. scripts/install-deps.sh || exit 2
jobs=${ZG_JOBS:-$(nproc)}

echo "== build"
{ autoreconf -fi && ./configure -q && make -j"$jobs"; } >build.log 2>&1 || {
	tail -n 60 build.log
	echo "build failed (full log: build.log)"
	echo "0 passed, 1 failed"
	exit 1
}

echo "== make check"
find tests -name '*.trs' -delete 2>/dev/null
make -j"$jobs" -k check >check.log 2>&1
grep -E '^(PASS|FAIL|ERROR|XPASS|SKIP):' check.log | grep -vE '^(PASS|SKIP):' || true

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
