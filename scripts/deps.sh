# SPDX-License-Identifier: GPL-3.0-or-later
# Debian packages zonegate needs to build and to run its tests; sourced by the other scripts.
ZG_DEPS="build-essential procps openssl bc time autoconf automake libtool pkg-config python3 python3-cryptography knot knot-dnsutils knot-dnssecutils libknot-dev softhsm2 opensc liburcu-dev libjansson-dev libpq-dev postgresql libssl-dev libgnutls28-dev bind9-dnsutils bind9-utils ldnsutils xz-utils git dns-root-data prometheus"
ZG_DEPS+=" debhelper dpkg-dev lintian"
# Only for `make bench` (bench/e2e.sh draws its pictures with gnuplot; without
# it the figures are printed and the pictures left out) and for drawing the
# dashboard's preview (contrib/grafana/render-preview.py, doc/status.md).
ZG_BENCH_DEPS="gnuplot-nox"
# Only on the machine that runs scripts/test.sh: the Debian roots of the
# other Knot series are built with mmdebstrap (scripts/roots.sh).
ZG_HOST_DEPS="mmdebstrap"
# zg_deps_suite SUITE: what only some Debian releases have, or need, for the
# roots of scripts/roots.sh (Knot 3.5 moved keymgr into knot-keymgr;
# knot-exporter, for tests/func/prometheus.sh, is packaged from Debian 13 on).
zg_deps_suite() {
	case $1 in
	sid | unstable | forky) echo "knot-keymgr knot-exporter" ;;
	trixie) echo "knot-exporter" ;;
	esac
}
