# SPDX-License-Identifier: GPL-3.0-or-later
# The reference deployment of doc/hidden-primary.md as knotd configurations
# on one machine (source after lib.sh). tests/func/hidden-primary.sh and the
# demo (scripts/demo-run.sh, scripts/demo-ctl.sh) both build their three
# knotd from the page's blocks with the substitutions the page lists, so the
# page, the test and the demo cannot drift apart.
#
# Hosts: 1 signer, 2 distribution (the hidden primary), 3 secondary. Set
# HP_PORT[N] and HP_DIR[N] for each, and HP_ALARM (optional) to the program
# that replaces the page's alarm command; then hp_conf N writes
# HP_DIR[N]/knot.conf.

HP_DOC=$ZG_SRCDIR/doc/hidden-primary.md
HP_NAMES=([1]=signer [2]=distribution [3]=secondary)
declare -A HP_PORT HP_DIR

# hp_block FIRST-LINE-REGEX: the fenced block of the page whose first line
# matches (the block's own lines, fences left out).
hp_block() {
	awk -v re="$1" '
		/^```/ { if (inb) exit; isopen = !isopen; first = isopen; next }
		first { first = 0; if ($0 ~ re) inb = 1 }
		inb' "$HP_DOC"
}

# hp_subst N: the page's substitutions for host N (stdin to stdout).
hp_subst() {
	local d=${HP_DIR[$1]} sed_args=() m
	for m in 1 2 3; do
		sed_args+=(-e "s/192\\.0\\.2\\.$m@53/127.0.0.$m@${HP_PORT[$m]}/g")
	done
	[ -n "${HP_ALARM:-}" ] && sed_args+=(-e "s|alarm: /usr/local/sbin/page-dns-oncall|alarm: $HP_ALARM|")
	sed "${sed_args[@]}" \
		-e 's/192\.0\.2\.\([0-9]\)/127.0.0.\1/g' \
		-e "s|/var/lib/knot|$d/lib|g" \
		-e "s|/run/knot|$d/run|g" \
		-e "s|target: syslog|target: \"$d/knotd.log\"|" \
		-e "s|/usr/lib/softhsm/libsofthsm2.so|$ZG_SOFTHSM_LIB|"
}

# hp_modules_section: the build tree's modules (installed packages need no
# module: section).
hp_modules_section() {
	[ -n "${ZG_MODULES_INSTALLED:-}" ] && return 0
	zg_knot_conf "$ZG_TMP/unused" 53 | awk '/^module:$/ { on = 1 } on { print } on && /^$/ { exit }'
}

# hp_conf N: HP_DIR[N]/knot.conf (and its lib/ and run/ directories) from the
# page's knot.conf block of host N; non-zero if the page has no such block.
hp_conf() {
	local n=$1 block
	block=$(hp_block "^# /etc/knot/knot.conf on the ${HP_NAMES[$n]} ")
	[ -n "$block" ] || return 1
	mkdir -p "${HP_DIR[$n]}/lib" "${HP_DIR[$n]}/run"
	{ hp_modules_section; printf '%s\n' "$block" | hp_subst "$n"; } >"${HP_DIR[$n]}/knot.conf"
}

# hp_token_cmd: the page's command that makes the SoftHSM token.
hp_token_cmd() {
	grep -m 1 '^    softhsm2-util --init-token' "$HP_DOC" | sed 's/^ *//'
}

# hp_token DIR: the token made with the page's command in DIR (exports
# SOFTHSM2_CONF).
hp_token() {
	mkdir -p "$1/tokens"
	printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
		"$1" >"$1/softhsm2.conf"
	export SOFTHSM2_CONF=$1/softhsm2.conf
	$(hp_token_cmd) >/dev/null
}

# hp_serial N [ZONE]: the serial host N serves (empty if none).
hp_serial() {
	kdig @127.0.0.$1 -p "${HP_PORT[$1]}" "${2:-example.}" SOA +short +time=2 +retry=0 2>/dev/null |
		awk '{print $3}'
}
