# SPDX-License-Identifier: GPL-3.0-or-later
# Shell helpers for the ingest functional tests (source after lib.sh).

ZG_INGEST=${ZG_INGEST:-$ZG_BUILDDIR/tools/zg-ingest}
# zg-ingest links the shared libzonegate of the build tree.
zg_ingest() { "$ZG_BUILDDIR/libtool" --mode=execute "$ZG_INGEST" "$@"; }

# ingest_setup: the start of a test with a signing knotd: skips without
# SoftHSM; a token in $ZG_TMP/hsm; sets d (the signer's directory), port,
# secret, key (the "ingest" TSIG key as zg-ingest -y takes it) and srv.
ingest_setup() {
	command -v softhsm2-util >/dev/null || zg_skip_all "softhsm2-util not installed"
	d=$ZG_TMP/signer
	mkdir -p "$d"
	zg_softhsm_init "$ZG_TMP/hsm" zonegate 1234 || zg_bail "SoftHSM token"
	port=$(zg_free_port)
	secret=$(head -c 32 /dev/urandom | base64)
	key="hmac-sha256:ingest:$secret"
	srv="127.0.0.1@$port"
}

# ingest_big FILE ID PREFIX [POISON]: a message of 3000 delegations
# PREFIXnnnnn.test. (NS and DS each), too big for one UPDATE; with POISON
# set to 1, a last owner below the DNAME dn.test. (refused by the gateway
# before anything is sent); with POISON set to "size", last owners
# padNN.test. with 12 MB of TXT records (a zone-max-size of a few MB makes
# knotd refuse the whole transaction at commit).
ingest_big() {
	"$PYTHON3" - "$1" "$2" "$3" "${4:-0}" <<'PY'
import json, sys, hashlib
f, mid, prefix, poison = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
ch = []
for i in range(3000):
    o = f"{prefix}{i:05d}.test."
    ch.append({"owner": o, "rrsets": [
        {"type": "NS", "ttl": 3600, "rdata": [f"ns1.provider{i % 7}.example.", f"ns2.provider{i % 7}.example."]},
        {"type": "DS", "ttl": 3600, "rdata": [f"{i} 13 2 " + hashlib.sha256(o.encode()).hexdigest()]}]})
if poison == "1":
    ch.append({"owner": "x.dn.test.", "rrsets": [{"type": "A", "ttl": 300, "rdata": ["192.0.2.99"]}]})
elif poison == "size":
    for j in range(60):
        txt = [" ".join(f'"{j:02d}{k:03d}{s}' + "x" * 249 + '"' for s in range(8)) for k in range(100)]
        ch.append({"owner": f"pad{j:02d}.test.", "rrsets": [{"type": "TXT", "ttl": 300, "rdata": txt}]})
json.dump({"version": 1, "id": mid, "zone": "test.", "changes": ch}, open(f, "w"))
PY
}

# ingest_signer_conf DIR PORT SECRET ZONEFILE [EXTRA_ZONE_CONF [SECTIONS]]:
# knot.conf of a signing knotd (SoftHSM keystore, NSEC3) serving zone "test."
# from ZONEFILE, accepting updates signed with the hmac-sha256 key "ingest"
# (SECRET). EXTRA_ZONE_CONF is appended to the zone, SECTIONS (e.g. a
# mod-ingest section) go before the zone section. With INGEST_KEYSTORE=pem
# the keys are Knot's PEM files instead (the keystore keeps its id "hsm").
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
	if [ "${INGEST_KEYSTORE:-pkcs11}" = pem ]; then
		zg_signer_conf zonegate 1234 nsec3 | sed '/^    backend: pkcs11$/,/^    config: /c\    backend: pem'
	else
		zg_signer_conf zonegate 1234 nsec3
	fi
	zg_conf_key ingest "$secret"
	zg_conf_acls ingest "127.0.0.1 key:ingest" "[update, transfer]" xfr 127.0.0.1 transfer
	cat <<CONF
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
