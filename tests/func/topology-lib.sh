# SPDX-License-Identifier: GPL-3.0-or-later
# The reference deployment of doc/hidden-primary.md (signer, distribution
# server with mod-validate, public secondary) built from that page's
# knot.conf blocks, with only the substitutions the page lists: addresses
# 192.0.2.N -> TOPO_ADDR[N] with a port per host, /var/lib/knot and
# /run/knot into each host's directory, syslog into a file, the SoftHSM
# library, the modules of the build tree. Used by tests/func/hidden-primary.sh
# and bench/e2e.sh (source after lib.sh).
#
# Set before topo_conf: TOPO_ADDR[1..3] (e.g. 127.0.0.1..3), TOPO_PORT[1..3],
# TOPO_DIR[1..3]. The page's hosts are 1 signer, 2 distribution, 3 secondary.

TOPO_DOC=${TOPO_DOC:-$ZG_SRCDIR/doc/hidden-primary.md}
TOPO_NAMES=([1]=signer [2]=distribution [3]=secondary)

# topo_doc_block FIRST-LINE-REGEX: the fenced block of the page whose first
# line matches (the block's own lines, fences left out).
topo_doc_block() {
	awk -v re="$1" '
		/^```/ { if (inb) exit; isopen = !isopen; first = isopen; next }
		first { first = 0; if ($0 ~ re) inb = 1 }
		inb' "$TOPO_DOC"
}

# topo_subst N: the page's substitutions for host N (stdin to stdout).
topo_subst() {
	local d=${TOPO_DIR[$1]} sed_args=() m
	for m in 1 2 3; do
		sed_args+=(-e "s/192\\.0\\.2\\.$m@53/${TOPO_ADDR[$m]}@${TOPO_PORT[$m]}/g"
		           -e "s/192\\.0\\.2\\.$m\\b/${TOPO_ADDR[$m]}/g")
	done
	sed "${sed_args[@]}" \
		-e "s|/var/lib/knot|$d/lib|g" \
		-e "s|/run/knot|$d/run|g" \
		-e "s|target: syslog|target: \"$d/knotd.log\"|" \
		-e "s|/usr/lib/softhsm/libsofthsm2.so|$ZG_SOFTHSM_LIB|"
}

# topo_modules_section: the build tree's modules (installed packages need no
# module: section).
topo_modules_section() {
	[ -n "${ZG_MODULES_INSTALLED:-}" ] && return 0
	zg_knot_conf "$ZG_TMP/unused" 53 | awk '/^module:$/ { on = 1 } on { print } on && /^$/ { exit }'
}

# topo_conf N: host N's knot.conf from the page on stdout (empty and status 1
# when the page has no block for it).
topo_conf() {
	local block
	block=$(topo_doc_block "^# /etc/knot/knot.conf on the ${TOPO_NAMES[$1]} ")
	[ -n "$block" ] || return 1
	mkdir -p "${TOPO_DIR[$1]}/lib" "${TOPO_DIR[$1]}/run"
	topo_modules_section
	printf '%s\n' "$block" | topo_subst "$1"
}
