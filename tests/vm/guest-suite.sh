#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs inside the test guest: every case under cases/ (or those whose name
# matches the regular expression in $PCIEM_CASES), then a check that the
# kernel log holds no BUG, WARNING, Oops or leak report. Prints PASS/FAIL
# per case for tests/vm/run to count. $PCIEM_CASES_DIR, if set, is the
# folder of cases instead (tests/pkg/cases: the installed packages).
here=$(dirname "$0")
cases_dir=${PCIEM_CASES_DIR:-$here/cases}
pass=0
failed=0

run_case() {
	name=$1
	shift
	echo "=== $name"
	start=$(date +%s)
	if timeout "${PCIEM_CASE_TIMEOUT:-300}" "$@" >/tmp/case.log 2>&1; then
		[ -n "$PCIEM_VERBOSE" ] && cat /tmp/case.log
		echo "PASS $name ($(($(date +%s) - start)) s)"
		pass=$((pass + 1))
	else
		cat /tmp/case.log
		echo "FAIL $name"
		failed=$((failed + 1))
	fi
}

for c in "$cases_dir"/*.sh; do
	name=$(basename "$c" .sh)
	if [ -n "$PCIEM_CASES" ] && ! echo "$name" | grep -qE "$PCIEM_CASES"; then
		continue
	fi
	run_case "$name" sh "$c"
done

run_case kernel-log sh "$here/check-kernel-log.sh"
echo "guest: $pass passed, $failed failed"
[ "$failed" -eq 0 ]
