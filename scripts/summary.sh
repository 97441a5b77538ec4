#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Counts the TAP results of every test that ran (automake .trs files under
# the given directories), shows the failures, and prints the closing line
# `N passed, N failed, N skipped`. Exit status 0 only if something passed and
# nothing failed.
set -u
dirs=("$@")
[ ${#dirs[@]} -gt 0 ] || dirs=(tests)
mapfile -t trs < <(find "${dirs[@]}" -name '*.trs' 2>/dev/null | sort)
passed=0 failed=0 skipped=0
for f in "${trs[@]}"; do
	while read -r _ res; do
		case $res in
		PASS | XFAIL) passed=$((passed + 1)) ;;
		SKIP) skipped=$((skipped + 1)) ;;
		*) failed=$((failed + 1)) ;;
		esac
	done < <(grep '^:test-result:' "$f")
	if grep -qE '^:global-test-result: (FAIL|ERROR|XPASS)' "$f"; then
		log=${f%.trs}.log
		echo "---- FAILED: ${f%.trs} (last lines of $log)"
		grep -vE '^ok ' "$log" 2>/dev/null | tail -n 40
		# A script that died before printing a plan has no failing test point.
		if ! grep -qE '^:test-result: (FAIL|ERROR|XPASS)' "$f"; then
			failed=$((failed + 1))
		fi
	fi
done
echo "tests: ${#trs[@]} scripts and programs"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
