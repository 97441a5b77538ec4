# SPDX-License-Identifier: GPL-3.0-or-later
# Shell helpers for the ingest functional tests (source after lib.sh).

ZG_INGEST=${ZG_INGEST:-$ZG_BUILDDIR/tools/zg-ingest}
# zg-ingest links the shared libzonegate of the build tree.
zg_ingest() { "$ZG_BUILDDIR/libtool" --mode=execute "$ZG_INGEST" "$@"; }

# ingest_signer_conf DIR PORT SECRET ZONEFILE [EXTRA_ZONE_CONF [SECTIONS]]:
# knot.conf of a signing knotd (SoftHSM keystore, NSEC3) serving zone "test."
# from ZONEFILE, accepting updates signed with the hmac-sha256 key "ingest"
# (SECRET). EXTRA_ZONE_CONF is appended to the zone, SECTIONS (e.g. a
# mod-ingest section) go before the zone section.
ingest_signer_conf() {
	local dir=$1 port=$2 secret=$3 zonefile=$4 extra=${5:-} sections=${6:-}
	mkdir -p "$dir/zones"
	cp "$zonefile" "$dir/zones/test.zone"
	# Only mod-ingest of the build tree's modules: the others are not needed
	# here (and a broken one would stop knotd from starting).
	zg_knot_conf "$dir" "$port" | awk '
		/^  - id: mod-/ { skip = ($3 != "mod-ingest") }
		/^[^ ]/ || /^$/ { skip = 0 }
		!skip'
	zg_signer_conf zonegate 1234 nsec3
	cat <<CONF
key:
  - id: ingest
    algorithm: hmac-sha256
    secret: $secret

acl:
  - id: ingest
    address: 127.0.0.1
    key: ingest
    action: [update, transfer]
  - id: xfr
    address: 127.0.0.1
    action: transfer

$sections

zone:
  - domain: test
    storage: "$dir/zones"
    dnssec-signing: on
    dnssec-policy: hsm
    zonefile-sync: -1
    journal-content: all
    acl: [ingest, xfr]
$extra
CONF
}

# ingest_serial PORT: the SOA serial served for test.
ingest_serial() {
	kdig @127.0.0.1 -p "$1" +short +norec test. SOA 2>/dev/null | awk '{print $3}'
}

# ingest_rr PORT NAME TYPE: the served rdata (sorted, one per line), from the
# answer or, at a delegation, the authority section.
ingest_rr() {
	kdig @127.0.0.1 -p "$1" +noall +answer +authority +norec "$2" "$3" 2>/dev/null |
		awk -v n="$2" -v t="$3" 'tolower($1) == tolower(n) && $4 == t { $1 = $2 = $3 = $4 = ""; sub(/^ +/, ""); print }' | sort
}

# ingest_signed PORT NAME TYPE: NAME TYPE is served with an RRSIG over it.
ingest_signed() {
	kdig @127.0.0.1 -p "$1" +dnssec +norec "$2" "$3" 2>/dev/null |
		grep -Eq "^$2[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+RRSIG[[:space:]]+$3 "
}

# ingest_msg ID CHANGES_JSON: a version 1 message for zone test. on stdout.
ingest_msg() {
	printf '{"version":1,"id":"%s","zone":"test.","changes":%s}\n' "$1" "$2"
}
