#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The supply of backed-up keys: ZSKs roll every 60 s (zsk-lifetime), backups
# are scheduled every 300 s (mod-keys backup-interval). A backup of the
# current keys only does not last until the next one: mod-keys alarms, and
# zg-keys status warns with --backup-interval 300 but not with 30. zg-keys
# backup --supply 10m generates the ZSKs of the next 10 minutes (keymgr
# pregenerate) and backs them up with the rest: the supply lasts, and Knot
# rolls to the pre-generated key on time without any hold.
. "$ZG_SRCDIR/tests/func/lib.sh"
zg_init
zg_snapshot_modules
command -v softhsm2-util >/dev/null || zg_skip_all "softhsm2-util not installed"
command -v keymgr >/dev/null || zg_skip_all "keymgr not installed"
command -v kdig >/dev/null || zg_skip_all "kdig not installed"
. "$ZG_SRCDIR/tests/func/keys-lib.sh"

ok "SoftHSM token initialised" zg_softhsm_init "$ZG_TMP/hsm" zonegate 1234
S=$ZG_TMP/signer PORT=$(zg_free_port)
mkdir -p "$S" "$ZG_TMP/backups"
keys_zone "$S"
keys_signer "$S" "$PORT" "    backup-interval: 300" >"$S/knot.conf"
sed -i '/id: fast/,/rrsig-refresh/ s/^    zsk-lifetime: 0$/    zsk-lifetime: 60/' "$S/knot.conf"
ok "signer (zsk-lifetime 60 s, backup-interval 300 s) starts" zg_knotd_start "$S"
ok "zone signed" zg_wait 30 zg_zone_signed "$S" test.
ZSK1=$(keys_of | awk '$1 == "ZSK" { print $2 }')
ACT1=$(keys_of | awk '$1 == "ZSK" { for (i = 4; i <= NF; i++) if ($i ~ /^active=/) { sub("active=", "", $i); print $i } }')

ok "backup of the current keys" zgk backup -d "$ZG_TMP/backups"
short() { grep -q "^test\. 0 the supply of backed-up ZSKs runs out at .*, before the next scheduled backup at" "$ALARMLOG" 2>/dev/null; }
ok "mod-keys alarms: the ZSK supply runs out before the next backup" zg_wait 10 short
end=$(date -u -d "@$((ACT1 + 60))" +%Y-%m-%dT%H:%M:%SZ)
like "$(cat "$S/knotd.log")" "warning: .*mod-keys.*the supply of backed-up ZSKs runs out at $end, before the next scheduled backup at" \
	"logged with the time the supply ends (ZSK active + zsk-lifetime, $end)"
unlike "$(cat "$ALARMLOG")" "supply of backed-up KSKs" "no KSK supply alarm (ksk-lifetime 0: no KSK rollover)"
st=$(zgk status --recovery-time 1d --backup-interval 300 2>&1)
is "$?" 1 "zg-keys status --backup-interval 300: WARNING"
like "$st" "the supply of backed-up ZSKs runs out at $end, before the next scheduled backup" "status names the supply"
st=$(zgk status --recovery-time 1d --backup-interval 30 2>&1)
is "$?" 0 "zg-keys status --backup-interval 30: OK (the supply lasts 60 s)"
unlike "$st" "supply of backed-up ZSKs runs out" "and no supply warning"

# Keys ahead.
out=$(zgk backup -d "$ZG_TMP/backups" --supply 10m 2>&1)
rc=$?
is "$rc" 0 "zg-keys backup --supply 10m"
[ "$rc" -eq 0 ] || zg_diag "$out"
like "$out" "test\.: ZSKs generated for 10m ahead" "keys generated ahead first"
nz=$(keys_of | awk '$1 == "ZSK"' | wc -l)
ok "keymgr pregenerate made the ZSKs of the next 10 minutes ($nz)" test "$nz" -ge 10
nreg=$(awk -F'\t' '$1 == "test."' "$REG" | sort -u -k2,2 | wc -l)
is "$nreg" "$((nz + 1))" "every key is in the register"
ok "mod-keys: the supply lasts beyond the next backup" zg_wait 10 \
	log_has "the supply of backed-up ZSKs lasts beyond the next scheduled backup"
n=$(grep -c 'supply' "$ALARMLOG")
ok "zg-keys status OK with --backup-interval 300" zgk status --recovery-time 1d --backup-interval 300

# The rollover at ACT1 + 60 goes to a pre-generated, backed-up key, on time.
new_signs() { local t; t=$(rrsig_tag www.test. A); [ -n "$t" ] && [ "$t" != "$ZSK1" ]; }
wait_s=$((ACT1 + 60 + 7 + 20 - $(date +%s)))
ok "Knot rolls the ZSK on time (active + lifetime + 7 s)" zg_wait "$wait_s" new_signs
ZSK2=$(rrsig_tag www.test. A)
is "$(awk -F'\t' -v t="$ZSK2" '$1 == "test." && $3 == t' "$REG" | wc -l)" 1 "to a key of the supply backup"
is "$(log_count "holding it")" 0 "no key was held"
is "$(grep -c 'supply' "$ALARMLOG")" "$n" "no new supply alarm"
ok "knotd stops cleanly" zg_knotd_stop "$S"
zg_done
