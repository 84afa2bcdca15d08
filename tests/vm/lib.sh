# SPDX-License-Identifier: MIT
# Helpers for guest test cases (busybox sh). Source it: . /pciem/tests/vm/lib.sh
#
# A case is a shell script that exits 0 when every check passed. It calls
# `fail MESSAGE` for each failed check (the case goes on, so one run shows
# every problem) and `finish` at the end.

PCIEM_DOMAIN=""
FAILED=0

fail() {
	echo "  FAILED: $*"
	FAILED=$((FAILED + 1))
}

note() {
	echo "  $*"
}

# expect_eq WHAT GOT WANT
expect_eq() {
	if [ "$2" = "$3" ]; then
		note "ok: $1 = $3"
	else
		fail "$1: got '$2', want '$3'"
	fi
}

finish() {
	[ "$FAILED" -eq 0 ] || { echo "  $FAILED check(s) failed"; exit 1; }
	exit 0
}

# start_model SPEC... : run `pciemctl run` in the background until its
# functions exist. Sets MODEL_PID and MODEL_ADDRS (one address per line,
# in the order the spec files list the functions).
start_model() {
	ready=/tmp/ready.$$.$(date +%s%N)
	rm -f "$ready"
	pciemctl run --ready-file "$ready" "$@" >/tmp/model.$$.log 2>&1 &
	MODEL_PID=$!
	i=0
	while [ ! -s "$ready" ]; do
		if ! kill -0 "$MODEL_PID" 2>/dev/null; then
			cat /tmp/model.$$.log
			fail "pciemctl run $* exited before its devices were ready"
			MODEL_ADDRS=""
			return 1
		fi
		i=$((i + 1))
		[ $i -lt 200 ] || { fail "pciemctl run $* not ready after 20 s"; return 1; }
		sleep 0.1
	done
	MODEL_ADDRS=$(cat "$ready")
	rm -f "$ready"
	return 0
}

# stop_model [SIGNAL]: end the model started last and wait for it.
stop_model() {
	kill "-${1:-TERM}" "$MODEL_PID" 2>/dev/null
	wait "$MODEL_PID" 2>/dev/null
	return 0
}

# first_addr: the first address of the model started last.
first_addr() {
	echo "$MODEL_ADDRS" | head -n 1
}

sysfs_dev() {
	echo "/sys/bus/pci/devices/$1"
}

driver_of() {
	l=$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null) || { echo none; return; }
	basename "$l"
}

# wait_gone ADDR: the function disappears from sysfs within 5 s.
wait_gone() {
	i=0
	while [ -e "/sys/bus/pci/devices/$1" ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ ! -e "/sys/bus/pci/devices/$1" ]
}
