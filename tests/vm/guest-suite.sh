#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs inside the test guest: every case under cases/ (or those whose name
# matches the regular expression in $PCIEM_CASES), then a check that the
# kernel log holds no BUG, WARNING, Oops or leak report. Prints PASS/FAIL
# per case for tests/vm/run to count. $PCIEM_CASES_DIR, if set, is the
# folder of cases instead (tests/pkg/cases: the installed packages).
here=$(dirname "$0")
cases_dir=${PCIEM_CASES_DIR:-$here/cases}
case_timeout=${PCIEM_CASE_TIMEOUT:-300}
pass=0
failed=0

# user_pids: the processes with a command line (kernel threads have none).
user_pids() {
	for d in /proc/[0-9]*; do
		# /proc files have no size: read one
		[ -n "$(head -c 1 "$d/cmdline" 2>/dev/null | tr -d '\0')" ] && echo "${d#/proc/}"
	done
}

# after_timeout BEFORE: a case ran out of time. Say what every process it
# left is doing (state, where it waits in the kernel, the kernel stack of
# those in D state), then kill them, so that one stuck case costs its own
# time and not the rest of the suite's.
after_timeout() {
	before=$1
	echo "--- processes the case left behind (pid state wchan command):"
	left=$(user_pids)
	for p in $left; do
		echo " $before " | grep -q " $p " && continue
		[ "$p" = "$$" ] || [ ! -e "/proc/$p/cmdline" ] && continue
		state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$p/status" 2>/dev/null)
		echo "  $p $state $(cat "/proc/$p/wchan" 2>/dev/null) $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"
		[ "$state" = D ] && sed 's/^/      /' "/proc/$p/stack" 2>/dev/null
		kill -KILL "$p" 2>/dev/null
	done
}

run_case() {
	name=$1
	shift
	echo "=== $name"
	start=$(date +%s)
	before=$(user_pids | tr '\n' ' ')
	# -k: a case that ignores SIGTERM (a trap waiting on a stuck child)
	# is killed 20 s later.
	timeout -k 20 "$case_timeout" "$@" >/tmp/case.log 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		[ -n "$PCIEM_VERBOSE" ] && cat /tmp/case.log
		echo "PASS $name ($(($(date +%s) - start)) s)"
		pass=$((pass + 1))
		return
	fi
	cat /tmp/case.log
	elapsed=$(($(date +%s) - start))
	# busybox timeout: the case dies of SIGTERM (143) or SIGKILL (137)
	if [ $rc -eq 143 ] || [ $rc -eq 137 ] || [ $rc -eq 124 ]; then
		if [ "$elapsed" -ge "$case_timeout" ]; then
			after_timeout "$before"
			echo "FAIL $name (timed out after ${case_timeout} s, PCIEM_CASE_TIMEOUT)"
			failed=$((failed + 1))
			return
		fi
	fi
	echo "FAIL $name"
	failed=$((failed + 1))
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
