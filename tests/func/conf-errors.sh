#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# A wrong module config item is rejected by `knotc conf-check` with a message
# naming the item (bad type, unknown key, missing reference, module checks).
. "$ZG_SRCDIR/tests/func/lib.sh"
zg_init

# refused NAME STANZA REGEX: conf-check fails and its message matches REGEX.
refused() {
	local name=$1 stanza=$2 re=$3 out rc
	{ zg_knot_conf "$ZG_TMP" 53; printf '%b' "$stanza"; } >"$ZG_TMP/bad.conf"
	out=$("$KNOTC" -c "$ZG_TMP/bad.conf" conf-check 2>&1)
	rc=$?
	if [ $rc -ne 0 ]; then pass "$name: conf-check fails"; else fail "$name: conf-check fails" "$out"; fi
	like "$out" "$re" "$name: message names the problem"
}

refused "validate horizon bad type" 'mod-validate:\n  - id: gate\n    horizon: soon\n' \
	"item 'horizon', value 'soon'"
refused "validate horizon negative" 'mod-validate:\n  - id: gate\n    horizon: -5\n' \
	"item 'horizon', value '-5'"
refused "validate unknown key" 'mod-validate:\n  - id: gate\n    bogus: 1\n' \
	"item 'bogus'.*invalid item"
refused "validate source not an IP" 'mod-validate:\n  - id: gate\n    source: /tmp/sock\n' \
	"item 'source', value '/tmp/sock' \\(source must be a remote id or an IP address"
refused "validate relative alarm" 'mod-validate:\n  - id: gate\n    alarm: page-me\n' \
	"mod-validate\\[gate\\].*alarm must be an absolute path"
refused "validate relative state-dir" 'mod-validate:\n  - id: gate\n    state-dir: var/lib/knot\n' \
	"mod-validate\\[gate\\].*state-dir must be an absolute path"
refused "validate p256-table-cache too large" 'mod-validate:\n  - id: gate\n    p256-table-cache: 4097\n' \
	"item 'p256-table-cache', value '4097'"
refused "validate notify an address" 'mod-validate:\n  - id: gate\n    notify: 192.0.2.3\n' \
	"item 'notify', value '192.0.2.3' \\(notify must be the id of a remote or a remotes group"
refused "validate p256-openssl not a boolean" 'mod-validate:\n  - id: gate\n    p256-openssl: maybe\n' \
	"item 'p256-openssl', value 'maybe'"
refused "ingest missing key reference" 'mod-ingest:\n  - id: r\n    key: nokey\n' \
	"item 'key', value 'nokey' \\(invalid reference\\)"
refused "ingest bad source scheme" 'mod-ingest:\n  - id: r\n    source: ftp://x\n' \
	"mod-ingest\\[r\\].*source must be spool:/ABSOLUTE/PATH or postgresql://"
refused "ingest relative spool" 'mod-ingest:\n  - id: r\n    source: spool:relative/dir\n' \
	"mod-ingest\\[r\\].*source must be spool:/ABSOLUTE/PATH"
refused "ingest server not an IP" 'mod-ingest:\n  - id: r\n    server: signer.example\n' \
	"mod-ingest\\[r\\].*server must be an IP address"
refused "ingest server bad port" 'mod-ingest:\n  - id: r\n    server: 127.0.0.1@99999\n' \
	"item 'server', value '127.0.0.1@99999'"
refused "ingest removal limit over 100%" 'mod-ingest:\n  - id: r\n    max-removal: 150\n' \
	"item 'max-removal', value '150'"
refused "ingest batch size zero" 'mod-ingest:\n  - id: r\n    batch-size: 0\n' \
	"item 'batch-size', value '0'"
refused "ingest poll interval not a time" 'mod-ingest:\n  - id: r\n    poll-interval: often\n' \
	"item 'poll-interval', value 'often'"
refused "ingest message size below 1 KiB" 'mod-ingest:\n  - id: r\n    max-message-size: 10\n' \
	"item 'max-message-size', value '10'"
refused "dsync bad mode" 'mod-dsync:\n  - id: d\n    mode: sideways\n' \
	"item 'mode', value 'sideways'"
refused "dsync parent mode without a queue" 'mod-dsync:\n  - id: d\n    mode: parent\n' \
	"mod-dsync\\[d\\].*parent mode needs a queue \\(spool:/PATH or postgresql://...\\), or dry-run on"
refused "dsync parent queue bad scheme" 'mod-dsync:\n  - id: d\n    mode: parent\n    queue: /var/spool\n' \
	"mod-dsync\\[d\\].*queue must be spool:/ABSOLUTE/PATH or postgresql://"
refused "dsync child-mode item in parent mode" 'mod-dsync:\n  - id: d\n    mode: parent\n    dry-run: on\n    overdue: 1d\n' \
	"mod-dsync\\[d\\].*parent, trust-anchor, overdue, alarm, alarm-timeout and control apply to child mode only"
refused "dsync parent-mode item in child mode" 'mod-dsync:\n  - id: d\n    queue: spool:/tmp\n' \
	"mod-dsync\\[d\\].*queue, dry-run, scan-interval, child, query-rate, child-port and key apply to parent mode only"
refused "dsync query rate zero" 'mod-dsync:\n  - id: d\n    mode: parent\n    dry-run: on\n    query-rate: 0\n' \
	"item 'query-rate', value '0'"
refused "keys without a register" 'mod-keys:\n  - id: k\n    check-interval: 5\n' \
	"mod-keys\\[k\\].*register \\(an absolute path\\) is required"
refused "keys relative register" 'mod-keys:\n  - id: k\n    register: keys.register\n' \
	"mod-keys\\[k\\].*register must be an absolute path"
refused "keys relative alarm" 'mod-keys:\n  - id: k\n    register: /r\n    alarm: page-me\n' \
	"mod-keys\\[k\\].*alarm must be an absolute path"
refused "keys relative keymgr" 'mod-keys:\n  - id: k\n    register: /r\n    keymgr: keymgr\n' \
	"mod-keys\\[k\\].*keymgr must be an absolute path"
refused "keys recovery-time not a time" 'mod-keys:\n  - id: k\n    register: /r\n    recovery-time: week\n' \
	"item 'recovery-time', value 'week'"
refused "keys check-interval over an hour" 'mod-keys:\n  - id: k\n    register: /r\n    check-interval: 2h\n' \
	"item 'check-interval', value '2h'"
refused "zone references a missing module instance" \
	'zone:\n  - domain: test\n    module: mod-ingest/nothere\n' \
	"item 'module', value 'mod-ingest/nothere' \\(invalid module reference\\)"

# And the good stanzas pass, so the failures above are about the items.
{
	zg_knot_conf "$ZG_TMP" 53
	printf 'key:\n  - id: k\n    algorithm: hmac-sha256\n    secret: AAAAAAAAAAAAAAAAAAAAAA==\n'
	printf 'mod-ingest:\n  - id: r\n    source: postgresql://zg@localhost/zonegate\n    key: k\n    server: ::1@5353\n    poll-interval: 2s\n    batch-size: 32\n    max-removal: 0\n    max-message-size: 16M\n'
	printf 'mod-validate:\n  - id: gate\n    source: 127.0.0.1\n    horizon: 36h\n    alarm: /bin/true\n    state-dir: /var/lib/knot\n    p256-openssl: on\n    p256-table-cache: 0\n'
	printf 'mod-dsync:\n  - id: d\n    mode: parent\n    queue: spool:/var/lib/knot/ingest\n    allow-delete: on\n    scan-interval: 12h\n    child: [ a.test, b.test ]\n    query-rate: 50\n    child-port: 5353\n    resolver: 127.0.0.1\n    key: k\n'
	printf 'mod-keys:\n  - id: k\n    register: /var/lib/knot/keys.register\n    check-interval: 30\n    recovery-time: 7d\n    backup-interval: 1d\n    alarm: /bin/true\n    alarm-timeout: 10\n    keymgr: /usr/sbin/keymgr\n    control: /run/knot/knot.sock\n'
	printf 'zone:\n  - domain: test\n    module: [mod-ingest/r, mod-validate/gate, mod-dsync/d, mod-keys/k]\n'
} >"$ZG_TMP/good.conf"
ok "the same items with good values pass conf-check" "$KNOTC" -c "$ZG_TMP/good.conf" conf-check

zg_done
