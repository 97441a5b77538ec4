# SPDX-License-Identifier: GPL-3.0-or-later
# Sourced: installs the Debian packages of scripts/deps.sh that are missing
# (as root; otherwise only reports them). ZG_NO_INSTALL=1 skips it.
. "$(dirname "${BASH_SOURCE[0]}")/deps.sh"
zg_missing=()
zg_host=$ZG_HOST_DEPS
[ -z "${ZG_IN_ROOT:-}" ] || zg_host=
for p in $ZG_DEPS $(zg_deps_suite "$(. /etc/os-release 2>/dev/null; echo "${VERSION_CODENAME:-}")") $zg_host; do
	dpkg-query -W -f '${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || zg_missing+=("$p")
done
if [ ${#zg_missing[@]} -gt 0 ] && [ -z "${ZG_NO_INSTALL:-}" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "missing Debian packages (install them as root): ${zg_missing[*]}" >&2
		return 1
	fi
	echo "== installing: ${zg_missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq && apt-get install -y -qq --no-install-recommends "${zg_missing[@]}" >/dev/null || {
		echo "apt-get install failed" >&2
		return 1
	}
fi
return 0
