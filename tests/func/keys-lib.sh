# SPDX-License-Identifier: GPL-3.0-or-later
# Helpers of the mod-keys / zg-keys tests (sourced after lib.sh; skips the
# test without softhsm2-util, keymgr or kdig): a knotd signer whose keys
# live in a SoftHSM token, with mod-keys, and the alarm recorder.
#
#   keys_signer DIR PORT [MODKEYS-EXTRA] [POLICY-EXTRA] [ZONE-EXTRA]   knot.conf on stdout
#   zgk ARGS...          zg-keys against the signer in $S with the register $REG
#   keys_of ZONE         "ROLE TAG ID active=.. ..." lines (keymgr list, unix times)
#   rrsig_tag NAME TYPE  key tag of the RRSIG over NAME/TYPE served on $PORT
#   dnskey_tags          the DNSKEY tags served on $PORT, sorted, one line
#   kstat NAME           a mod-keys counter of test.

for _kl_tool in softhsm2-util keymgr kdig; do
	command -v "$_kl_tool" >/dev/null || zg_skip_all "$_kl_tool not installed"
done
ZGK=${ZG_BUILDDIR}/tools/zg-keys
[ -x "$ZGK" ] || zg_bail "tools/zg-keys not built"
export LD_LIBRARY_PATH=$ZG_BUILDDIR/lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

ALARM=$ZG_TMP/alarm.sh ALARMLOG=$ZG_TMP/alarm.log
printf '#!/bin/sh\necho "$@" >>%s\n' "$ALARMLOG" >"$ALARM"
chmod +x "$ALARM"
REG=$ZG_TMP/register

# keys_signer DIR PORT [MODKEYS-EXTRA] [POLICY-EXTRA] [ZONE-EXTRA]: the signer of test.
# (policy "fast": propagation-delay 5 s, DNSKEY TTL 2 s, so Knot activates a
# new ZSK 7 s after publishing it; signatures valid 7 days, refreshed 1 day
# ahead), mod-keys checking every second.
keys_signer() {
	local dir=$1 port=$2 modextra=${3:-} polextra=${4:-} zoneextra=${5:-}
	zg_knot_conf "$dir" "$port"
	zg_signer_conf zonegate 1234 nsec
	cat <<CONF
policy:
  - id: fast
    keystore: hsm
    algorithm: ecdsap256sha256
    ksk-lifetime: 0
    zsk-lifetime: 0
    dnskey-ttl: 2
    zone-max-ttl: 5
    propagation-delay: 5
    rrsig-lifetime: 7d
    rrsig-refresh: 1d
$polextra

CONF
	zg_conf_acls xfr 127.0.0.1 "[transfer, update]"
	cat <<CONF
mod-keys:
  - id: interlock
    register: "$REG"
    check-interval: 1
    alarm: "$ALARM"
$modextra

zone:
  - domain: test
    storage: "$dir/zones"
    dnssec-signing: on
    dnssec-policy: fast
    zonefile-load: difference
    acl: xfr
    module: mod-keys/interlock
$zoneextra
CONF
}

# keys_zone DIR: a small unsigned zone test. (TTL 5).
keys_zone() {
	mkdir -p "$1/zones"
	cat >"$1/zones/test.zone" <<ZONE
\$ORIGIN test.
\$TTL 5
@ SOA ns.test. hostmaster.test. 1 3600 600 86400 5
@ NS ns.test.
ns A 127.0.0.1
www A 192.0.2.1
ZONE
}

zgk() { "$ZGK" -c "$S/knot.conf" -r "$REG" "$@"; }

keys_of() {
	keymgr -D "$S/db/keys" "${1:-test.}" list 2>/dev/null |
		awk '{ printf "%s %s %s", $3, $2, $1; for (i = 5; i <= NF; i++) printf " %s", $i; print "" }'
}

dig_short() { kdig @127.0.0.1 -p "$PORT" +short +time=2 +retry=1 "$@" 2>/dev/null; }
rrsig_tag() { kdig @127.0.0.1 -p "$PORT" +dnssec +time=2 +retry=1 "$1" "$2" 2>/dev/null |
	awk -v t="$2" '$4 == "RRSIG" && $5 == t { print $11 }' | sort -u | tr '\n' ' ' | sed 's/ $//'; }
dnskey_tags() {
	kdig @127.0.0.1 -p "$PORT" +time=2 +retry=1 +multiline test. DNSKEY 2>/dev/null |
		grep -oE 'id = [0-9]+' | awk '{print $3}' | sort -n | tr '\n' ' ' | sed 's/ $//'
}
kstat() { zg_knotc "$S" zone-stats test. mod-keys 2>/dev/null | awk -v c="mod-keys.$1" '$2 == c { print $4 }'; }
log_has() { grep -Eq -- "$1" "$S/knotd.log"; }
log_count() { grep -Ec -- "$1" "$S/knotd.log"; }
