#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The queue interface (ingest/queue.h) against both backends: the unit test
# tests/unit/test_queue runs its producer and consumer passes on a spool and,
# here, on a real PostgreSQL cluster in the temp dir. Each of its test points
# is one here.
. "$ZG_SRCDIR/tests/func/lib.sh"
zg_init
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || zg_skip_all "postgresql server not installed"

ok "PostgreSQL cluster starts" zg_pg_start "$ZG_TMP/pg"
out=$(ZG_TEST_PG_URI=$ZG_PG_URI timeout 120 "$ZG_BUILDDIR/tests/unit/test_queue" 2>&1); rc=$?
is "$rc" 0 "test_queue exits 0"
pg=0
while IFS= read -r line; do
	case $line in
	"ok "*" - pg: "*) pass "${line#* - }"; pg=$((pg + 1)) ;;
	"not ok "*) fail "${line#* - }"; [[ $line == *" - pg: "* ]] && pg=$((pg + 1)) ;;
	"#"*) echo "$line" ;;
	esac
done <<<"$out"
ok "the PostgreSQL backend was exercised ($pg points)" test "$pg" -ge 30
is "$(psql -XAtc "SELECT string_agg(message->>'id' || '=' || state, ' ' ORDER BY id) FROM zonegate_queue")" \
	"m-1=applied m-2=refused m-3=applied" "the rows as the passes left them"
is "$(psql -XAtc "SELECT applied_serial FROM zonegate_queue WHERE message->>'id' = 'm-1'")" 7 \
	"the serial marked with the outcome"
is "$(psql -XAtc "SELECT error FROM zonegate_queue WHERE message->>'id' = 'm-2'")" \
	"message m-2: refused here" "the refusal's reason marked"
zg_done
