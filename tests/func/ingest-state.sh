#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# mod-ingest's state counters with the PostgreSQL queue inside knotd:
# consumer-connected, lease-held and last-poll-time follow the database
# (answering or stopped) and the zone's lease (held by this consumer or by
# another), as ingest.rst describes them.
. "$ZG_SRCDIR/tests/func/lib.sh"
. "$ZG_SRCDIR/tests/func/ingest-lib.sh"
zg_init
[ -f "$(zg_module_file ingest)" ] || zg_skip_all "module not built"
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || zg_skip_all "postgresql server not installed"

ok "PostgreSQL cluster starts" zg_pg_start "$ZG_TMP/pg"
psql_q() { psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1" 2>&1; }
ok "the queue's DDL loads" psql -X -q -v ON_ERROR_STOP=1 -f "$ZG_SRCDIR/doc/zonegate-queue.sql"
ingest_setup
zg_genzone test. 100 >"$ZG_TMP/test.zone"
ingest_signer_conf "$d" "$port" "$secret" "$ZG_TMP/test.zone" \
	"    module: mod-ingest/registry" \
	"mod-ingest:
  - id: registry
    source: \"$ZG_PG_URI\"
    key: ingest
" >"$d/knot.conf"
ok "signing knotd with mod-ingest on PostgreSQL starts" zg_knotd_start "$d"
ok "zone signed" zg_wait 60 zg_zone_signed "$d" test.

stats() { zg_knotc "$d" zone-stats test. mod-ingest 2>&1; }
ctr() { stats | sed -n "s/.*mod-ingest\.$1 = //p"; }
is_ctr() { [ "$(ctr "$1")" = "$2" ]; }
ok "consumer-connected 1 within 30 s" zg_wait 30 is_ctr consumer-connected 1
ok "lease-held 1 within 30 s" zg_wait 30 is_ctr lease-held 1
is "$(psql_q "SELECT count(*) FROM zonegate_lease WHERE zone = 'test' AND expires_at > now()")" 1 \
	"the zone's lease row is live"
polled=$(ctr last-poll-time)
now=$(date +%s)
ok "last-poll-time is a unix time of the last seconds ($polled, now $now)" \
	test -n "$polled" -a "${polled:-0}" -le "$now" -a "${polled:-0}" -ge "$((now - 10))"
# Polls go on while idle (poll-interval 1 s): the time moves.
later() { [ "$(ctr last-poll-time)" -gt "$polled" ]; }
ok "last-poll-time advances while idle" zg_wait 10 later

# Another consumer holds the lease: connected, not holding, no polls.
psql_q "UPDATE zonegate_lease SET holder = 'elsewhere:1', token = token + 1,
	expires_at = now() + interval '1 hour' WHERE zone = 'test'" >/dev/null
ok "lease-held 0 while another consumer holds the lease" zg_wait 20 is_ctr lease-held 0
is "$(ctr consumer-connected)" 1 "consumer-connected stays 1 (the database answers)"
p1=$(ctr last-poll-time); sleep 3
is "$(ctr last-poll-time)" "$p1" "last-poll-time stands still on standby"
like "$(cat "$d/knotd.log")" "mod-ingest.*standby: another consumer holds the lease of test." "standby logged"
psql_q "UPDATE zonegate_lease SET expires_at = now() - interval '1 second' WHERE zone = 'test'" >/dev/null
ok "lease-held 1 once the other lease expired" zg_wait 20 is_ctr lease-held 1

# The database stops: neither connected nor holding; back when it returns.
ok "PostgreSQL stops" $ZG_PG_ASUSER "$ZG_PG_BINDIR/pg_ctl" -D "$ZG_TMP/pg/data" -m fast -w -t 30 stop
ok "consumer-connected 0 while PostgreSQL is down" zg_wait 30 is_ctr consumer-connected 0
is "$(ctr lease-held)" 0 "lease-held 0 while PostgreSQL is down"
ok "PostgreSQL starts again" $ZG_PG_ASUSER "$ZG_PG_BINDIR/pg_ctl" -D "$ZG_TMP/pg/data" -w -t 30 \
	-o "-k $ZG_TMP/pg -c listen_addresses='' -p $PGPORT -c fsync=off" start -l "$ZG_TMP/pg/pg.log"
ok "consumer-connected 1 again within 30 s" zg_wait 30 is_ctr consumer-connected 1
ok "lease-held 1 again within 30 s" zg_wait 30 is_ctr lease-held 1
ok "knotd stops cleanly (worker joined)" zg_knotd_stop "$d"
zg_done
