# SPDX-License-Identifier: GPL-3.0-or-later
# Shell helpers for the mod-validate and zg-verify --follow functional tests
# and bench/validate.sh (source after lib.sh). VL_ZONE is the zone the
# helpers ask for (default test.), VL_DIR the knotd directory whose
# mod-validate counters stat_of reads; both are read at each call.

# vconf DIR PORT: zg_knot_conf with mod-validate only (the other modules are
# rebuilt by other work in the same tree; knotd loads every configured module
# file).
vconf() {
	zg_knot_conf "$@" | awk '
		/^  - id: mod-(ingest|dsync)$/ { skip = 1; next }
		skip && /^    file:/ { skip = 0; next }
		{ skip = 0; print }'
}

# serial_of PORT: the SOA serial of VL_ZONE served on 127.0.0.1@PORT (empty
# if none).
serial_of() { # PORT [ADDRESS]
	kdig @"${2:-127.0.0.1}" -p "$1" "${VL_ZONE:-test.}" SOA +short +time=2 +retry=0 2>/dev/null |
		awk '{print $3}'
}
serial_is() { [ "$(serial_of "$1")" = "$2" ]; }
serial_not() { local s; s=$(serial_of "$1"); [ -n "$s" ] && [ "$s" != "$2" ]; }
has_serial() { [ -n "$(serial_of "$1")" ]; }

# stat_of NAME: the mod-validate counter NAME of VL_ZONE at the knotd in VL_DIR.
stat_of() {
	zg_knotc "$VL_DIR" zone-stats "${VL_ZONE:-test.}" mod-validate 2>/dev/null |
		awk -v n="mod-validate.$1" '$0 ~ n {print $NF}' | head -n 1
}
stat_is() { [ "$(stat_of "$1")" = "$2" ]; }
stat_ge() { local v; v=$(stat_of "$1"); [ -n "$v" ] && [ "$v" -ge "$2" ]; }

# vl_alarm_script: $ZG_TMP/alarm.sh, an alarm command that appends its
# arguments as one line to ALARM_OUT (set to $ZG_TMP/alarm.out).
vl_alarm_script() {
	ALARM_OUT=$ZG_TMP/alarm.out
	cat >"$ZG_TMP/alarm.sh" <<ALARM
#!/bin/sh
echo "\$@" >>"$ALARM_OUT"
ALARM
	chmod 755 "$ZG_TMP/alarm.sh"
}

# The knot.conf stanzas the validation chains repeat (zone "test"):
# vl_gate_stanzas PRIMARY-ID PRIMARY-PORT SECONDARY-PORT: a distribution
# server's key validator ($SECRET), remotes PRIMARY-ID and c (127.0.0.1 at
# the ports), and acls notify-in, xfr-validator (its mod-validate's own
# transfers) and xfr-out.
vl_gate_stanzas() {
	zg_conf_key validator "$SECRET"
	zg_conf_remotes "$1" "127.0.0.1@$2" c "127.0.0.1@$3"
	zg_conf_acls notify-in 127.0.0.1 notify xfr-validator key:validator transfer \
		xfr-out 127.0.0.1 transfer
}

# vl_secondary_conf BASE DIR PORT UPSTREAM-PORT: the knot.conf of a secondary
# of b (127.0.0.1@UPSTREAM-PORT, NOTIFY from loopback); BASE writes the common
# part (vconf or zg_knot_conf_bare).
vl_secondary_conf() {
	"$1" "$2" "$3"
	zg_conf_remotes b "127.0.0.1@$4"
	zg_conf_acls notify-in 127.0.0.1 notify
	cat <<CONF
zone:
  - domain: test
    storage: "$2/zones"
    master: b
    acl: notify-in
CONF
}

# vl_presigned_conf BASE DIR PORT NOTIFY-PORT ZONEFILE-LOAD JOURNAL-CONTENT: the
# knot.conf of a primary of the pre-signed zone (no signing) in DIR/zones,
# notifying b (127.0.0.1@NOTIFY-PORT), transfers to loopback; BASE as above.
vl_presigned_conf() {
	"$1" "$2" "$3"
	zg_conf_remotes b "127.0.0.1@$4"
	zg_conf_acls local 127.0.0.1 transfer
	cat <<CONF
zone:
  - domain: test
    storage: "$2/zones"
    dnssec-signing: off
    zonefile-load: $5
    journal-content: $6
    notify: b
    acl: local
CONF
}
