#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# `make fuzz`: builds every fuzz harness (tests/fuzz/fuzz_*.c) with clang
# -fsanitize=fuzzer,address together with the lib/ sources, runs each on a
# copy of its seed corpus for FUZZ_TIME seconds, and prints a table of what
# each run did (executions, coverage, corpus size, crashes), also written to
# $FUZZ_DIR/RESULTS.md.
#
#   FUZZ_TIME=SECONDS     per harness (default 1800: 30 minutes)
#   FUZZ_JOBS=N           harnesses run at the same time (default 1)
#   FUZZ_HARNESSES="zone verify ..."   a subset (default: all)
#   FUZZ_DIR=DIR          work dir (default fuzz-work in the build dir): bin/,
#                         <name>/corpus (grows, kept between runs), <name>/crash-*
#                         (artifacts: replay with bin/fuzz_<name> FILE; only those of
#                         this run count), <name>/log
#   CLANG=clang           the compiler (Debian: clang and libclang-rt-14-dev)
#
# Called by `make fuzz`, which passes ZG_SRCDIR and the dependency flags
# (ZG_FUZZ_CFLAGS, ZG_FUZZ_LIBS). A harness whose run finds a crash, leak or
# timeout makes the exit status 1.
set -u
src=${ZG_SRCDIR:?set by make fuzz}
time=${FUZZ_TIME:-1800}
jobs=${FUZZ_JOBS:-1}
dir=${FUZZ_DIR:-$PWD/fuzz-work}
cc=${CLANG:-clang}
all=$(cd "$src/tests/fuzz" && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//' | tr '\n' ' ')
harnesses=${FUZZ_HARNESSES:-$all}

if ! echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }' |
	"$cc" -x c -fsanitize=fuzzer,address -o /dev/null - 2>/dev/null; then
	echo "fuzz: $cc cannot build -fsanitize=fuzzer,address programs (apt-get install clang libclang-rt-14-dev)" >&2
	exit 2
fi
mkdir -p "$dir/bin" "$dir/obj"
cflags="-g -O1 -std=gnu11 -fno-omit-frame-pointer -I$src/lib -I$src/tests/lib -I$src/tests/fuzz ${ZG_FUZZ_CFLAGS:-}"

# The library once, instrumented (fuzzer-no-link: coverage without main).
echo "== building the library with $cc (fuzzer, address)"
objs=()
for c in "$src"/lib/*/*.c; do
	o=$dir/obj/$(basename "$(dirname "$c")")_$(basename "$c" .c).o
	if [ ! -e "$o" ] || [ "$c" -nt "$o" ] || [ -n "$(find "$src/lib" -name '*.h' -newer "$o" -print -quit)" ]; then
		# shellcheck disable=SC2086
		"$cc" $cflags -fsanitize=fuzzer-no-link,address -c "$c" -o "$o" || exit 2
	fi
	objs+=("$o")
done
for h in $harnesses; do
	echo "== building fuzz_$h"
	# shellcheck disable=SC2086
	# A harness comparing against the test library's reference code
	# (tests/lib, e.g. p256_ref.c) links it too.
	extra=()
	grep -q '"p256_ref.h"' "$src/tests/fuzz/fuzz_$h.c" && extra+=("$src/tests/lib/p256_ref.c")
	"$cc" $cflags -fsanitize=fuzzer,address "$src/tests/fuzz/fuzz_$h.c" "${extra[@]}" "${objs[@]}" \
		${ZG_FUZZ_LIBS:-} -lpthread -o "$dir/bin/fuzz_$h" || exit 2
done

# run NAME: one campaign; its figures in $dir/NAME/figures.
run() {
	local h=$1 w=$dir/$1
	mkdir -p "$w/corpus"
	cp -n "$src/tests/fuzz/corpus/$h"/* "$w/corpus/" 2>/dev/null
	local seeds
	seeds=$(ls "$w/corpus" | wc -l)
	local start=$SECONDS
	touch "$w/.start"  # findings of this run: the artifacts newer than it
	# -timeout: one input may take at most 25 s (network harnesses wait on
	# bounded client timeouts); -rss_limit_mb: a leak or blow-up is a finding.
	"$dir/bin/fuzz_$h" "$w/corpus" -max_total_time="$time" -timeout=25 -rss_limit_mb=2048 \
		-max_len=65536 -print_final_stats=1 -artifact_prefix="$w/" >"$w/log" 2>&1
	local rc=$?
	local last execs cov ft crashes
	last=$(grep -E '^#[0-9]+' "$w/log" | tail -n 1)
	execs=$(grep -E '^stat::number_of_executed_units' "$w/log" | awk '{ print $2 }')
	cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
	crashes=$(find "$w" -maxdepth 1 -newer "$w/.start" \( -name 'crash-*' -o -name 'leak-*' \
		-o -name 'timeout-*' -o -name 'oom-*' -o -name 'slow-unit-*' \) | wc -l)
	printf '%s|%s|%s|%s|%s|%s|%s|%s\n' "$h" "$((SECONDS - start))" "${execs:-?}" "${cov:-?}" \
		"${ft:-?}" "$seeds" "$(ls "$w/corpus" | wc -l)" "$crashes" >"$w/figures"
	[ "$rc" -eq 0 ] && [ "$crashes" -eq 0 ]
}

echo "== fuzzing: ${harnesses} for ${time} s each, ${jobs} at a time"
status=0
pids=()
for h in $harnesses; do
	run "$h" &
	pids+=($!)
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
		wait -n || status=1
	done
done
while [ "$(jobs -rp | wc -l)" -gt 0 ]; do
	wait -n || status=1
done

{
	echo "| harness | seconds | executions | exec/s | coverage (edges) | features | corpus (seeds -> now) | crashes |"
	echo "|---|---|---|---|---|---|---|---|"
	for h in $harnesses; do
		IFS='|' read -r name secs execs cov ft seeds corpus crashes <"$dir/$h/figures"
		rate='?'
		[ "$execs" != '?' ] && [ "$secs" -gt 0 ] && rate=$((execs / secs))
		echo "| $name | $secs | $execs | $rate | $cov | $ft | $seeds -> $corpus | $crashes |"
	done
} >"$dir/RESULTS.md"
cat "$dir/RESULTS.md"
for h in $harnesses; do
	find "$dir/$h" -maxdepth 1 -newer "$dir/$h/.start" \( -name 'crash-*' -o -name 'leak-*' \
		-o -name 'timeout-*' -o -name 'oom-*' \) | while read -r f; do
		echo "finding: $f (replay: $dir/bin/fuzz_$h $f; log: $dir/$h/log)"
	done
done
exit $status
