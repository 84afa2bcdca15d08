#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# pciem-proxy --probe-only against pciem-vfu-bad-server, once per fault in
# the replies the proxy needs before it creates a function: the proxy must
# exit 1 (not hang, not crash) with a message naming the fault. Runs on the
# host (no PCIem needed); the guest case covers faults after creation.
# usage: proxy_faults.sh PCIEM-PROXY BAD-SERVER
set -uo pipefail
proxy=$1
server=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
failed=0

# check FAULT ON AFTER WANT: the proxy's message contains WANT.
check() {
	local sock="$dir/s.sock" out rc spid wait_ms=10000
	# only a silent server should meet the reply timeout: a loaded machine
	# may be slow with the correct replies before the fault
	[[ $1 == silence ]] && wait_ms=500
	"$server" --socket "$sock" --fault "$1" --on "$2" --after "$3" 2>/dev/null &
	spid=$!
	out=$(timeout 20 "$proxy" --probe-only --socket "$sock" --connect-timeout-s 10 \
		--reply-timeout-ms "$wait_ms" 2>&1)
	rc=$?
	kill "$spid" 2>/dev/null
	wait "$spid" 2>/dev/null
	if [[ $rc -ne 1 || "$out" != *"$4"* ]]; then
		echo "FAIL $1 on $2 (after $3): exit $rc, want 1 and '$4' in: $out"
		failed=$((failed + 1))
	else
		echo "ok   $1 on $2: $out"
	fi
}

# a well-behaved server first: the probe passes
"$server" --socket "$dir/ok.sock" --fault none 2>/dev/null &
spid=$!
out=$("$proxy" --probe-only --socket "$dir/ok.sock" --connect-timeout-s 10 2>&1)
rc=$?
wait "$spid" 2>/dev/null
if [[ $rc -ne 0 || "$out" != *"device 1b36:0005"* || "$out" != *"capability msi at 0x40"* ]]; then
	echo "FAIL the well-behaved server: exit $rc: $out"
	failed=$((failed + 1))
fi

check short-header version 0 "closed the socket in the middle of a message"
check oversized version 0 "more than the"
check bad-version version 0 "speaks vfio-user 1.0"
check garbage version 0 "a message with id 42405 for command 42405"
check short-payload device-info 0 "shorter than the 16 a DEVICE_GET_INFO reply needs"
check wrong-id device-info 0 "out of order"
check wrong-command device-info 0 "that id was a DEVICE_GET_INFO"
check extra-fd device-info 0 "file descriptors, where none belong"
check error device-info 0 "refused DEVICE_GET_INFO"
check silence device-info 0 "did not answer DEVICE_GET_INFO (id 2) within 500 ms"
check disconnect region-info 2 "closed the socket in the middle of a message"
check bad-index region-info 0 "where region 0 was asked for"
check bad-index irq-info 1 "where index 1 was asked for"
check bad-index region-read 0 "but region 7 offset 0x0 was accessed"
check short-payload region-read 0 "shorter than the 16"
check silence region-read 0 "did not answer REGION_READ"

[[ $failed -eq 0 ]]
