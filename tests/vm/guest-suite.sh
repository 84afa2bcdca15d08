#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs inside the test guest: every case under cases/ (or those whose name
# matches the regular expression in $PCIEM_CASES, and not the one in
# $PCIEM_SKIP), then a check that the
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

# proc_state PID: the one-letter state of the process (R, S, D, Z...).
proc_state() {
	sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null
}

# new_pids BEFORE: the user processes now that are not in the list BEFORE
# (nor this shell).
new_pids() {
	for p in $(user_pids); do
		echo " $1 " | grep -q " $p " && continue
		[ "$p" = "$$" ] || [ ! -e "/proc/$p/cmdline" ] && continue
		echo "$p"
	done
}

# after_timeout BEFORE: a case ran out of time. Say what every process it
# left is doing (state, where it waits in the kernel, the kernel stack of
# those in D state), then kill them, so that one stuck case costs its own
# time and not the rest of the suite's.
after_timeout() {
	echo "--- processes the case left behind (pid state wchan command):"
	for p in $(new_pids "$1"); do
		state=$(proc_state "$p")
		echo "  $p $state $(cat "/proc/$p/wchan" 2>/dev/null) $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"
		[ "$state" = D ] && sed 's/^/      /' "/proc/$p/stack" 2>/dev/null
		kill -KILL "$p" 2>/dev/null
	done
}

# running PID: the process exists and is not a zombie waiting for its
# parent (init here, which reaps late).
running() {
	st=$(proc_state "$1")
	[ -n "$st" ] && [ "$st" != Z ]
}

# left_behind BEFORE: the processes a finished case left running (not in
# BEFORE), each with its state and CPU time, then killed. A model or a
# load generator left spinning would slow every later case, and under
# TCG turn their waits into timeouts far from the cause.
left_behind() {
	# Busybox's timeout leaves a watcher that notices within a second that
	# the case ended: what is new gets 3 s to go by itself.
	new=$(new_pids "$1")
	i=0
	while [ $i -lt 30 ]; do
		alive=""
		for p in $new; do running "$p" && alive="$alive $p"; done
		[ -z "$alive" ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	found=""
	for p in $alive; do
		running "$p" || continue
		# fields 14 and 15 of stat: user and system time in clock ticks
		ticks=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null)
		state=$(proc_state "$p")
		found="$found  $p $state ${ticks:-?} ticks $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)
"
		kill -KILL "$p" 2>/dev/null
	done
	[ -z "$found" ] && return 0
	echo "--- processes the case left running (pid state cpu command), killed:"
	printf '%s' "$found"
	return 1
}

# dev_files: regular files directly in /dev. A program told to write to
# a disk that has just gone (fio, dd) creates a plain file of that name in
# devtmpfs instead, and the file then hides the next disk of that name
# from every later case.
dev_files() {
	find /dev -maxdepth 1 -type f 2>/dev/null | sort
}
dev_files_at_start=$(dev_files)

# stray_dev_files: the files dev_files finds that were not there at the
# start, removed. Fails if there were any.
stray_dev_files() {
	stray=$(dev_files | grep -vxF "$dev_files_at_start")
	[ -z "$stray" ] && return 0
	echo "--- regular files the case left in /dev, where device nodes belong, removed:"
	echo "$stray" | sed 's/^/  /'
	echo "$stray" | while read -r f; do rm -f "$f"; done
	return 1
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
	if [ $rc -eq 0 ] && ! left_behind "$before" >/tmp/left.log; then
		cat /tmp/left.log >>/tmp/case.log
		echo "  FAILED: the case left processes running" >>/tmp/case.log
		rc=1
	fi
	if ! stray_dev_files >/tmp/left.log; then
		cat /tmp/left.log >>/tmp/case.log
		echo "  FAILED: the case left files in /dev" >>/tmp/case.log
		[ $rc -eq 0 ] && rc=1
	fi
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
	left_behind "$before"
	echo "FAIL $name"
	failed=$((failed + 1))
}

for c in "$cases_dir"/*.sh; do
	name=$(basename "$c" .sh)
	if [ -n "$PCIEM_CASES" ] && ! echo "$name" | grep -qE "$PCIEM_CASES"; then
		continue
	fi
	if [ -n "${PCIEM_SKIP:-}" ] && echo "$name" | grep -qE "$PCIEM_SKIP"; then
		continue
	fi
	# '# needs: N CPUs': a case that holds several CPUs at once (drivers
	# spinning in reads while their models answer) is skipped, said so,
	# in a smaller guest.
	need=$(sed -n 's/^# needs: \([0-9]*\) CPUs$/\1/p' "$c")
	if [ -n "$need" ] && [ "$(nproc)" -lt "$need" ]; then
		echo "SKIP $name (needs $need CPUs, the guest has $(nproc): tests/vm/run --smp $need)"
		continue
	fi
	run_case "$name" sh "$c"
done

run_case kernel-log sh "$here/check-kernel-log.sh"
echo "guest: $pass passed, $failed failed"
[ "$failed" -eq 0 ]
