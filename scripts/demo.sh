#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Sets up a Debian 12 machine (as root: installs the packages zonegate needs),
# builds zonegate and runs the demo pipeline (scripts/demo-run.sh) on
# loopback until Ctrl-C.
set -u
cd "$(dirname "$0")/.." || exit 2
. scripts/install-deps.sh || exit 2
echo "== building zonegate"
{ autoreconf -fi && ./configure -q && make -j"$(nproc)"; } >build.log 2>&1 || {
	tail -n 40 build.log
	echo "build failed (full log: build.log)"
	exit 1
}
exec bash scripts/demo-run.sh "$@"
