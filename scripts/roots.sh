#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Builds (or reuses) a Debian root per Knot series for the test suite:
#
#   bash scripts/roots.sh [SUITE...]          default: trixie sid
#
# Each root (ZG_ROOTS_DIR/SUITE, default /var/cache/zonegate/roots/SUITE) has
# every Debian package of scripts/deps.sh (build and test dependencies),
# installed by mmdebstrap (debootstrap if mmdebstrap is missing) from the
# Debian mirror the host's apt sources name. A root is reused while its
# package list, mirror and suite are unchanged (the stamp file .zg-stamp),
# rebuilt otherwise; ZG_ROOTS_REFRESH=1 rebuilds it anyway. Downloaded .debs
# are kept in ZG_ROOTS_DIR/.debs/SUITE, so a rebuild fetches only new ones.
# Every step is bounded (ZG_ROOT_TIMEOUT seconds per root, default 1800).
# Release files are checked for their signature but not for Valid-Until: the
# host's mirror may be a dated snapshot, whose sid Release has "expired".
#
# Prints one line per suite: "root SUITE: ready PATH (Knot VERSION)" or
# "root SUITE: FAILED (reason)". Exit status: number of failed suites.
# Also sourced by scripts/test.sh for zg_root_* helpers (ZG_ROOTS_LIB=1).
set -u
ZG_ROOTS_DIR=${ZG_ROOTS_DIR:-/var/cache/zonegate/roots}
zg_roots_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# zg_root_mirror: the Debian archive URI of the host's apt sources (the
# entry that carries the host's own release, not its security suite).
zg_root_mirror() {
	local codename f uri=""
	codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		uri=$(awk -v want="$codename" '
			function flush() {
				if (types ~ /(^| )deb( |$)/ && uris != "" &&
				    (want == "" || (" " suites " ") ~ (" " want " ")) && found == "")
					found = uris
				types = ""; uris = ""; suites = ""
			}
			/^[ \t]*$/ { flush(); next }
			/^[ \t]*#/ { next }
			tolower($1) == "types:" { $1 = ""; types = $0 }
			tolower($1) == "uris:" { uris = $2 }
			tolower($1) == "suites:" { $1 = ""; suites = $0 }
			END { flush(); print found }' "$f")
		[ -n "$uri" ] && break
	done
	if [ -z "$uri" ]; then
		for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
			[ -f "$f" ] || continue
			uri=$(awk -v want="$codename" '
				$1 == "deb" {
					i = 2
					if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
					if (want == "" || $(i + 1) == want) { print $i; exit }
				}' "$f")
			[ -n "$uri" ] && break
		done
	fi
	[ -n "$uri" ] || return 1
	echo "${uri%/}"
}

# zg_root_packages SUITE: the packages a root gets (one line, sorted).
zg_root_packages() {
	(. "$zg_roots_here/deps.sh" && printf '%s\n' $ZG_DEPS $(zg_deps_suite "$1")) |
		sort -u | tr '\n' ' '
}

# zg_root_path SUITE
zg_root_path() { echo "$ZG_ROOTS_DIR/$1"; }

# zg_root_knot SUITE: the knot version installed in the root.
zg_root_knot() {
	chroot "$(zg_root_path "$1")" dpkg-query -W -f '${Version}' knot 2>/dev/null
}

# zg_root_build SUITE: make sure the root exists and is current.
zg_root_build() {
	local suite=$1 root mirror pkgs stamp tool rc debs tmp log
	root=$(zg_root_path "$suite")
	mirror=$(zg_root_mirror) || {
		echo "root $suite: FAILED (no Debian mirror in the host's apt sources)"
		return 1
	}
	pkgs=$(zg_root_packages "$suite")
	stamp="suite=$suite mirror=$mirror packages=$pkgs"
	if [ -z "${ZG_ROOTS_REFRESH:-}" ] && [ -f "$root/.zg-stamp" ] &&
		[ "$(cat "$root/.zg-stamp")" = "$stamp" ] && [ -x "$root/usr/sbin/knotd" ]; then
		echo "root $suite: ready $root (Knot $(zg_root_knot "$suite"), cached)"
		return 0
	fi
	if command -v mmdebstrap >/dev/null; then
		tool=mmdebstrap
	elif command -v debootstrap >/dev/null; then
		tool=debootstrap
	else
		echo "root $suite: FAILED (neither mmdebstrap nor debootstrap is installed: apt-get install mmdebstrap)"
		return 1
	fi
	mkdir -p "$ZG_ROOTS_DIR" || { echo "root $suite: FAILED (cannot create $ZG_ROOTS_DIR)"; return 1; }
	debs="$ZG_ROOTS_DIR/.debs/$suite"
	mkdir -p "$debs"
	tmp="$root.new"
	log="$ZG_ROOTS_DIR/$suite.log"
	zg_root_umount "$tmp"
	rm -rf --one-file-system "$tmp"
	echo "root $suite: building with $tool ($log)"
	if [ "$tool" = mmdebstrap ]; then
		timeout -k 30 "${ZG_ROOT_TIMEOUT:-1800}" mmdebstrap --mode=root --variant=apt \
			--include="$(echo "$pkgs" | tr ' ' ',' | sed 's/,*$//')" \
			--aptopt='APT::Install-Recommends "false"' \
			--aptopt='Acquire::Retries "3"' \
			--aptopt='Acquire::Check-Valid-Until "false"' \
			--aptopt='Acquire::http::Timeout "60"' \
			--setup-hook='mkdir -p "$1"/var/cache/apt/archives/' \
			--setup-hook="sync-in $debs /var/cache/apt/archives/" \
			--customize-hook="sync-out /var/cache/apt/archives $debs" \
			"$suite" "$tmp" "$mirror" >"$log" 2>&1
		rc=$?
	else
		timeout -k 30 "${ZG_ROOT_TIMEOUT:-1800}" debootstrap --variant=minbase \
			--cache-dir="$debs" --include="$(echo "$pkgs" | tr ' ' ',' | sed 's/,*$//')" \
			"$suite" "$tmp" "$mirror" >"$log" 2>&1
		rc=$?
	fi
	if [ $rc -ne 0 ] || [ ! -x "$tmp/usr/sbin/knotd" ]; then
		zg_root_umount "$tmp"
		rm -rf --one-file-system "$tmp"
		if grep -qiE 'could not resolve|connection (refused|timed out)|unable to connect|failed to fetch|temporary failure' "$log"; then
			echo "root $suite: FAILED (Debian mirror $mirror unreachable; see $log)"
		elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
			echo "root $suite: FAILED ($tool timed out after ${ZG_ROOT_TIMEOUT:-1800} s; see $log)"
		else
			echo "root $suite: FAILED ($tool exit $rc: $(grep -E '^(E|W): ' "$log" | tail -n 1); see $log)"
		fi
		return 1
	fi
	echo "$stamp" >"$tmp/.zg-stamp"
	zg_root_umount "$root"
	rm -rf --one-file-system "$root"
	mv "$tmp" "$root" || { echo "root $suite: FAILED (cannot move $tmp to $root)"; return 1; }
	echo "root $suite: ready $root (Knot $(zg_root_knot "$suite"), built)"
	return 0
}

# zg_root_umount ROOT: unmount anything left mounted below ROOT (deepest first).
zg_root_umount() {
	local m
	[ -n "$1" ] || return 0
	while read -r m; do
		umount -l "$m" 2>/dev/null
	done < <(awk -v r="$(readlink -m "$1")" '$5 == r || index($5, r "/") == 1 { print $5 }' \
		/proc/self/mountinfo | sort -r)
	return 0
}

# zg_root_run SUITE SECONDS CMD...: runs CMD inside the root, in a private
# mount and pid namespace with /proc, /dev, /dev/pts and /dev/shm mounted
# (unmounted again when CMD ends); everything CMD started is killed with it,
# and the whole run is bounded by SECONDS.
zg_root_run() {
	local suite=$1 secs=$2 root rc
	shift 2
	root=$(zg_root_path "$suite")
	[ -x "$root/bin/bash" ] || { echo "no root for $suite at $root" >&2; return 2; }
	timeout -k 20 "$secs" unshare --mount --pid --fork --kill-child --propagation private \
		env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LANG=C.UTF-8 TERM=dumb ZG_ROOT_SUITE="$suite" \
		ZG_JOBS="${ZG_JOBS:-}" CI="${CI:-}" \
		bash -c '
			r=$1; shift
			mount -t proc proc "$r/proc" &&
			mount --bind /dev "$r/dev" &&
			mount -t devpts -o newinstance,ptmxmode=0666 devpts "$r/dev/pts" &&
			mount -t tmpfs -o mode=1777,size=50% shm "$r/dev/shm" || exit 125
			chroot "$r" "$@"
			rc=$?
			umount "$r/dev/shm" "$r/dev/pts" "$r/dev" "$r/proc" 2>/dev/null
			exit $rc' zg-root "$root" "$@"
	rc=$?
	zg_root_umount "$root"
	return $rc
}

if [ -z "${ZG_ROOTS_LIB:-}" ]; then
	[ "$(id -u)" -eq 0 ] || { echo "scripts/roots.sh: run as root" >&2; exit 2; }
	suites=("$@")
	[ ${#suites[@]} -gt 0 ] || suites=(trixie sid)
	failed=0
	for s in "${suites[@]}"; do
		zg_root_build "$s" || failed=$((failed + 1))
	done
	exit $failed
fi
