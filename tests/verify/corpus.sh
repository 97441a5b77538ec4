# SPDX-License-Identifier: GPL-3.0-or-later
# Correctness corpus for zg-verify: small zones signed by BIND
# (dnssec-signzone), ldns (ldns-signzone) and Knot (kzonesign), valid and
# with one injected fault each (tests/verify/inject.py). Sourced by
# tests/func/verify-*.sh after tests/func/lib.sh; everything is generated in
# $ZG_TMP at test time.
#
#   zgv_unsigned DIR              DIR/unsigned.zone and DIR/unsigned-txt.zone
#   zgv_sign SIGNER ALG DENIAL KEYDIR IN OUT [valid|expired|horizon]
#   zgv_corpus SIGNER ALG DENIAL DIR   the valid zone and every fault in DIR
#   zgv_check_corpus DIR LABEL    runs zg-verify and the peers on each case
#   zgv_run ARGS... / zgv_peer NAME FILE [ARGS...] / zgv_names ...  helpers
#
# Peer blind spots found with this corpus (asserted only where the peer can
# see the fault; see zgv_check_corpus and the verify-*.sh scripts):
#   ldns-verify-zone 1.8.3: NSEC/NSEC3 bitmap lacking a present type; DNSKEY
#     RRset without a SEP-key signature (if the ZSK signs it); an RRset
#     signed by only one of two zone algorithms.
#   kzonecheck 3.2.6: an RRset signed by only one of two zone algorithms;
#     ZONEMD digest mismatch.
#   dnssec-verify 9.18: ZONEMD digest mismatch.
#   None of the three has a horizon option except ldns-verify-zone -e.

ZGV_ORIGIN=test.
ZGV_INJECT="$PYTHON3 $ZG_SRCDIR/tests/verify/inject.py"
: "${ZG_VERIFY:=$ZG_BUILDDIR/tools/zg-verify}"
ZGV_NOW=$(date +%s)
ZGV_SALT=C0FFEE42

zgv_stamp() { date -u -d "@$1" +%Y%m%d%H%M%S; }

# zgv_unsigned DIR: a small TLD-like zone (bench/genzone.py test. 300) plus a
# wildcard, an empty non-terminal, a TXT at the apex and an owner with several
# types; unsigned-txt.zone is the same with a TXT at www and mail.
zgv_unsigned() {
	local dir=$1
	mkdir -p "$dir"
	{
		zg_genzone "$ZGV_ORIGIN" 300 7
		cat <<'EOF'
@ TXT "v=zonegate test corpus"
www A 192.0.2.1
www AAAA 2001:db8::1
www MX 10 mail
mail A 192.0.2.25
*.wild A 192.0.2.80
*.wild TXT "wildcard"
host.sub.ent A 192.0.2.81
EOF
	} >"$dir/unsigned.zone"
	{
		cat "$dir/unsigned.zone"
		printf 'www TXT "spliced"\nmail TXT "unsigned"\n'
	} >"$dir/unsigned-txt.zone"
}

# zgv_secure_delegation ZONEFILE: the first delegation with a DS and no glue.
zgv_secure_delegation() {
	awk '$2 == "DS" { ds[$1] = 1 } $2 == "A" && $1 ~ /^ns1\./ { sub(/^ns1\./, "", $1); glue[$1] = 1 }
		END { for (n in ds) if (!(n in glue)) print n }' "$1" | sort | head -n 1 | sed 's/$/.test./'
}

_zgv_keygen() {
	local signer=$1 alg=$2 kd=$3 bits=()
	[ -n "$(ls "$kd"/K*.private 2>/dev/null)" ] && return 0
	mkdir -p "$kd"
	case $alg in
	RSASHA256) bits=(-b 2048) ;;
	esac
	case $signer in
	bind)
		dnssec-keygen -q -K "$kd" -a "$alg" "${bits[@]}" -f KSK "$ZGV_ORIGIN" >/dev/null &&
			dnssec-keygen -q -K "$kd" -a "$alg" "${bits[@]}" "$ZGV_ORIGIN" >/dev/null
		;;
	ldns)
		(cd "$kd" && ldns-keygen -a "$alg" "${bits[@]}" -k "$ZGV_ORIGIN" >/dev/null &&
			ldns-keygen -a "$alg" "${bits[@]}" "$ZGV_ORIGIN" >/dev/null)
		;;
	esac
}

# _zgv_knot_conf KD ALG DENIAL ZONEFILE LIFETIME: kzonesign configuration.
_zgv_knot_conf() {
	local kd=$1 alg=$2 denial=$3 zf=$4 lifetime=$5 nsec3=off
	[ "$denial" = NSEC3 ] && nsec3=on
	cat <<EOF
database:
    storage: "$kd"
    kasp-db: "$kd/kasp"

template:
  - id: default
    storage: "$kd"

policy:
  - id: corpus
    algorithm: $(echo "$alg" | tr 'A-Z' 'a-z')
$([ "$alg" = RSASHA256 ] && printf '    ksk-size: 2048\n    zsk-size: 2048\n')
    rrsig-lifetime: $lifetime
    rrsig-refresh: 1d
    nsec3: $nsec3
    nsec3-opt-out: on
    nsec3-iterations: ${ZGV_N3ITER:-0}
    nsec3-salt-length: 4
    nsec3-salt-lifetime: 0

zone:
  - domain: $ZGV_ORIGIN
    file: "$zf"
    dnssec-signing: on
    dnssec-policy: corpus
    zonefile-load: whole
EOF
}

# zgv_sign SIGNER ALG DENIAL KEYDIR IN OUT [MODE]: signs IN into OUT with the
# keys in KEYDIR (generated on first use). MODE valid (default: inception an
# hour ago, expiry in 30 days), expired (a window 60 to 30 days ago), future
# (a window 10 to 40 days ahead; bind and ldns) or horizon (expiry in 12
# hours). NSEC3 uses opt-out, ZGV_N3ITER iterations (default 0, RFC 9276) and
# the salt ZGV_N3SALT (default ZGV_SALT).
zgv_sign() {
	local signer=$1 alg=$2 denial=$3 kd=$4 in=$5 out=$6 mode=${7:-valid}
	local start end
	case $mode in
	valid) start=$((ZGV_NOW - 3600)) end=$((ZGV_NOW + 30 * 86400)) ;;
	expired) start=$((ZGV_NOW - 60 * 86400)) end=$((ZGV_NOW - 30 * 86400)) ;;
	future) start=$((ZGV_NOW + 10 * 86400)) end=$((ZGV_NOW + 40 * 86400)) ;;
	horizon) start=$((ZGV_NOW - 86400)) end=$((ZGV_NOW + 12 * 3600)) ;;
	*) echo "zgv_sign: bad mode $mode" >&2; return 1 ;;
	esac
	case $signer in
	bind)
		_zgv_keygen bind "$alg" "$kd" || return 1
		local n3=()
		[ "$denial" = NSEC3 ] && n3=(-3 "${ZGV_N3SALT:-$ZGV_SALT}" -H "${ZGV_N3ITER:-0}" -A)
		# in KEYDIR: dnssec-signzone writes dsset-test. to the current directory
		(cd "$kd" && dnssec-signzone -S -q -P -K "$kd" -o "$ZGV_ORIGIN" "${n3[@]}" \
			-s "$(zgv_stamp $start)" -e "$(zgv_stamp $end)" -f "$out" "$in" >/dev/null)
		;;
	ldns)
		_zgv_keygen ldns "$alg" "$kd" || return 1
		local n3=()
		[ "$denial" = NSEC3 ] && n3=(-n -p -s "${ZGV_N3SALT:-$ZGV_SALT}" -t "${ZGV_N3ITER:-0}")
		ldns-signzone -A "${n3[@]}" -i "$(zgv_stamp $start)" -e "$(zgv_stamp $end)" \
			-o "$ZGV_ORIGIN" -f "$out" "$in" $(ls "$kd"/K*.private | sed 's/\.private$//')
		;;
	knot)
		# kzonesign signs "as of" -t with the policy's RRSIG lifetime; the
		# keys are created at that time in a KASP db per mode, so each mode
		# has its own key directory (KEYDIR-MODE).
		local t lifetime=30d
		case $mode in
		valid) t=$ZGV_NOW ;;
		expired) t=$((ZGV_NOW - 60 * 86400)) ;;
		horizon) t=$((ZGV_NOW - 30 * 86400 + 12 * 3600)) ;;
		esac
		local kdm=$kd-$mode conf od
		mkdir -p "$kdm/out"
		conf=$kdm/$(basename "$in").conf
		_zgv_knot_conf "$kdm" "$alg" "$denial" "$in" "$lifetime" >"$conf"
		od=$kdm/out
		rm -f "$od/$ZGV_ORIGIN"zone "$od"/*.zone
		kzonesign -c "$conf" -o "$od" -t "$t" "$ZGV_ORIGIN" >"$kdm/kzonesign.log" 2>&1 ||
			{ cat "$kdm/kzonesign.log" >&2; return 1; }
		mv "$(ls "$od"/*.zone | head -n 1)" "$out"
		;;
	*) echo "zgv_sign: unknown signer $signer" >&2; return 1 ;;
	esac
}

# zgv_rr FILE: one RR per line (ldns-read-zone), the form inject.py reads.
zgv_rr() {
	ldns-read-zone "$1"
}

# zgv_corpus SIGNER ALG DENIAL DIR: signs the corpus zones into DIR and
# injects the faults. Each case is DIR/<case>.zone with DIR/<case>.expect
# ("OWNER TYPE [HASHED-OWNER]" of the fault, from inject.py). Cases:
#   valid      the signer's own output (its native layout, comments, parentheses)
#   valid-rr   the same, one RR per line (the base of the faults)
#   corrupt    one RRSIG (over www A) with altered signature bytes
#   expired    signed with a validity window 60 to 30 days ago
#   norrsig    the RRSIG over a secure delegation's DS removed
#   nodenial   the NSEC/NSEC3 of www (with its RRSIG) removed
#   noentnsec3 NSEC3 zones: the NSEC3 of the empty non-terminal ent.test. removed
#   bitmap     a validly signed TXT at www spliced in; www's NSEC/NSEC3 lacks TXT
#   noksksig   the SEP key's RRSIG over DNSKEY removed
#   unsigned   a TXT at mail without RRSIG (its denial record lists TXT)
#   horizon    valid, signatures expire in 12 hours
zgv_corpus() {
	local signer=$1 alg=$2 denial=$3 dir=$4 kd
	mkdir -p "$dir"
	kd=$dir/keys
	[ -s "$dir/../unsigned.zone" ] || zgv_unsigned "$dir/.."
	local u=$dir/../unsigned.zone ut=$dir/../unsigned-txt.zone
	zgv_sign "$signer" "$alg" "$denial" "$kd" "$u" "$dir/valid.zone" valid &&
		zgv_sign "$signer" "$alg" "$denial" "$kd" "$ut" "$dir/txt.signed" valid &&
		zgv_sign "$signer" "$alg" "$denial" "$kd" "$u" "$dir/expired.zone" expired &&
		zgv_sign "$signer" "$alg" "$denial" "$kd" "$u" "$dir/horizon.zone" horizon || return 1
	zgv_rr "$dir/valid.zone" >"$dir/valid-rr.zone" &&
		zgv_rr "$dir/txt.signed" >"$dir/txt.rr" || return 1
	echo "$ZGV_ORIGIN SOA" >"$dir/valid.expect"
	echo "$ZGV_ORIGIN SOA" >"$dir/valid-rr.expect"
	echo "$ZGV_ORIGIN RRSIG" >"$dir/expired.expect"
	echo "$ZGV_ORIGIN RRSIG" >"$dir/horizon.expect"
	local v=$dir/valid-rr.zone sd
	sd=$(zgv_secure_delegation "$u")
	$ZGV_INJECT corrupt-sig "$v" "$dir/corrupt.zone" www.test. A >"$dir/corrupt.expect" &&
		$ZGV_INJECT drop-rrsig "$v" "$dir/norrsig.zone" "$sd" DS >"$dir/norrsig.expect" &&
		$ZGV_INJECT drop-denial "$v" "$dir/nodenial.zone" www.test. >"$dir/nodenial.expect" &&
		$ZGV_INJECT splice-signed "$v" "$dir/bitmap.zone" www.test. TXT "$dir/txt.rr" \
			>"$dir/bitmap.expect" &&
		$ZGV_INJECT drop-ksk-sig "$v" "$dir/noksksig.zone" >"$dir/noksksig.expect" &&
		$ZGV_INJECT splice-unsigned "$v" "$dir/unsigned.zone" mail.test. TXT "$dir/txt.rr" \
			>"$dir/unsigned.expect" || return 1
	if [ "$denial" = NSEC3 ]; then
		$ZGV_INJECT drop-denial "$v" "$dir/noentnsec3.zone" ent.test. \
			>"$dir/noentnsec3.expect" || return 1
	fi
}

# zgv_run ARGS...: runs zg-verify, output in ZGV_OUT, exit status in ZGV_RC.
# A missing binary gives status 127 (and every assertion fails); a run over
# ZGV_TIMEOUT seconds (120) is killed (status 124).
zgv_run() {
	ZGV_OUT=$(timeout -k 5 "${ZGV_TIMEOUT:-120}" "$ZG_VERIFY" "$@" 2>&1)
	ZGV_RC=$?
}

# zgv_peer NAME ZONEFILE [ARGS...]: exit status of a peer validator.
zgv_peer() {
	local name=$1 zf=$2; shift 2
	local t=(timeout -k 5 120)
	case $name in
	dnssec-verify) "${t[@]}" dnssec-verify -q -o "$ZGV_ORIGIN" "$@" "$zf" ;;
	kzonecheck) "${t[@]}" kzonecheck -d on -o "$ZGV_ORIGIN" "$@" "$zf" ;;
	ldns-verify-zone) "${t[@]}" ldns-verify-zone -V1 "$@" "$zf" ;;
	esac >/dev/null 2>&1
	echo $?
}

# zgv_names OUTPUT OWNER TYPES [HASHED-OWNER] NAME: some problem line
# "<owner> <TYPE>: <reason>" has TYPE in TYPES (an extended regex) and names
# OWNER (or the NSEC3 owner HASHED-OWNER), as its owner or in its reason.
zgv_names() {
	local out=$1 owner=$2 types=$3 hashed=$4 name=$5 re
	re=$(printf '%s' "$owner" | sed 's/[.*]/\\&/g')
	[ -n "$hashed" ] && re="$re|$(printf '%s' "$hashed" | sed 's/[.*]/\\&/g')"
	if printf '%s\n' "$out" | grep -Ei "^[^ ]+ ($types): " | grep -Eiq -- "(^| |\\()($re)( |:|\\)|,|$)"; then
		pass "$name"
	else
		fail "$name" "no line '<$owner|$hashed> <$types>: ...' in: $(printf '%s\n' "$out" | head -n 10)"
	fi
}

# zgv_check_corpus DIR LABEL: each case of DIR through zg-verify and the peers.
#
# Peers: dnssec-verify and kzonecheck -d on detect every injected fault
# except the horizon (neither has a horizon option: both must say valid).
# ldns-verify-zone 1.8.3 has two blind spots found with this corpus, so it
# is asserted only where it can see the fault:
#   - bitmap: an NSEC/NSEC3 bitmap lacking a present, signed type passes;
#   - noksksig: a DNSKEY RRset signed only by the ZSK (no SEP key signature)
#     passes, as long as some DNSKEY signature validates (Knot signs DNSKEY
#     with the KSK only: there the RRset is left unsigned, which ldns sees).
# It detects the horizon with `-e P2D`.
zgv_check_corpus() {
	local dir=$1 label=$2 c f want owner types hashed
	for f in "$dir"/*.zone; do
		c=$(basename "$f" .zone)
		read -r owner types hashed <"$dir/$c.expect"
		want=1
		case $c in
		valid | valid-rr | horizon) want=0 ;;
		esac
		# Peers first: a corpus that lost its fault is itself an error.
		is "$(zgv_peer dnssec-verify "$f")" $want "$label $c: dnssec-verify verdict"
		is "$(zgv_peer kzonecheck "$f")" $want "$label $c: kzonecheck verdict"
		case $c in
		noksksig) if [ "$hashed" = remaining-dnskey-sigs=0 ]; then
			is "$([ "$(zgv_peer ldns-verify-zone "$f")" -eq 0 ] && echo 0 || echo 1)" 1 \
				"$label $c: ldns-verify-zone verdict (DNSKEY left unsigned)"
		else
			zg_diag "$label $c: ldns-verify-zone blind spot, not asserted (exit $(zgv_peer ldns-verify-zone "$f"))"
		fi ;;
		bitmap) zg_diag "$label $c: ldns-verify-zone blind spot, not asserted (exit $(zgv_peer ldns-verify-zone "$f"))" ;;
		horizon) isnt_zero "$(zgv_peer ldns-verify-zone "$f" -e P2D)" "$label $c: ldns-verify-zone -e P2D sees the horizon" ;;
		*) is "$([ "$(zgv_peer ldns-verify-zone "$f")" -eq 0 ] && echo 0 || echo 1)" $want "$label $c: ldns-verify-zone verdict" ;;
		esac

		case $c in
		horizon)
			zgv_run -o "$ZGV_ORIGIN" "$f"
			is "$ZGV_RC" 0 "$label $c: zg-verify valid without --horizon"
			zgv_run -o "$ZGV_ORIGIN" --horizon 2d "$f"
			is "$ZGV_RC" 0 "$label $c: zg-verify --horizon 2d exit 0"
			like "$ZGV_OUT" '^[^ ]+ [A-Z0-9]+: .*(expir|horizon)' "$label $c: zg-verify --horizon 2d prints a warning line"
			zgv_run -o "$ZGV_ORIGIN" --horizon 2d --format nagios "$f"
			is "$ZGV_RC" 1 "$label $c: zg-verify --horizon 2d --format nagios exit 1"
			like "$(printf '%s\n' "$ZGV_OUT" | head -n 1)" '^ZONEGATE WARNING' \
				"$label $c: nagios status line WARNING"
			zgv_run -o "$ZGV_ORIGIN" --horizon 6h --format nagios "$f"
			is "$ZGV_RC" 0 "$label $c: zg-verify --horizon 6h --format nagios exit 0"
			continue
			;;
		esac
		zgv_run -o "$ZGV_ORIGIN" "$f"
		is "$ZGV_RC" $want "$label $c: zg-verify exit $want"
		[ $want -eq 0 ] && continue
		case $c in
		corrupt) zgv_names "$ZGV_OUT" "$owner" 'A|RRSIG' "" "$label $c: names $owner A" ;;
		expired)
			like "$ZGV_OUT" '^([^ ]+\.)?test\. [A-Z0-9]+: .*[Ee]xpir' "$label $c: reports expired signatures"
			;;
		norrsig) zgv_names "$ZGV_OUT" "$owner" 'DS|RRSIG' "" "$label $c: names $owner DS" ;;
		nodenial | bitmap)
			zgv_names "$ZGV_OUT" "$owner" "NSEC|NSEC3|TXT" "$hashed" "$label $c: names $owner ($types)"
			;;
		noentnsec3)
			# The empty non-terminal must be named (as dnssec-verify and
			# kzonecheck do), not only the chain break its removal leaves.
			zgv_names "$ZGV_OUT" "$owner" "NSEC3" "" "$label $c: names the empty non-terminal $owner"
			;;
		noksksig) zgv_names "$ZGV_OUT" "$owner" 'DNSKEY|RRSIG' "" "$label $c: names $owner DNSKEY" ;;
		unsigned) zgv_names "$ZGV_OUT" "$owner" 'TXT|RRSIG' "" "$label $c: names $owner TXT" ;;
		esac
		# One fault: nothing about owners the fault does not touch.
		[ "$c" = expired ] ||
			unlike "$ZGV_OUT" '^(a\.nic|b\.nic)\.test\. ' "$label $c: no error about untouched owners"
	done
}

isnt_zero() {
	if [ "$1" != 0 ]; then pass "$2"; else fail "$2" "got exit 0"; fi
}
