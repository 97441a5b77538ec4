#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The harness's throwaway PostgreSQL cluster: initdb in a temp dir, started
# by an unprivileged user, unix socket in the temp dir, stopped by pid.
. "$ZG_SRCDIR/tests/func/lib.sh"
zg_init
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || zg_skip_all "postgresql server not installed"

ok "cluster initialised and started" zg_pg_start "$ZG_TMP/pg"
is "$(psql -XAtc 'select 1+1')" 2 "psql answers over the unix socket in the temp dir"
owner=$(stat -c %U "$ZG_TMP/pg/data")
if [ "$(id -u)" -eq 0 ]; then
	is "$owner" postgres "cluster files owned by the unprivileged postgres user"
else
	is "$owner" "$(id -un)" "cluster files owned by the test user"
fi
is "$(psql -XAtc "show listen_addresses")" "" "no TCP listener (unix socket only)"
ok "a table can be created and filled" psql -Xqc "create table t(id bigserial primary key, v text); insert into t(v) values ('a'),('b')"
is "$(psql -XAtc 'select count(*) from t')" 2 "rows read back"
pid=$(head -n 1 "$ZG_TMP/pg/data/postmaster.pid")
ok "postmaster pid $pid is running" zg_alive "$pid"
ok "cluster stops" zg_pg_stop "$ZG_TMP/pg"
ok "postmaster gone after stop" zg_wait 10 eval "! zg_alive $pid"
zg_done
