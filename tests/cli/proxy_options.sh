#!/bin/sh
# SPDX-License-Identifier: MIT
# proxy_options.sh PCIEM_PROXY: pciem-proxy's event-loop options, those of
# the model programs but --poll-interval-us (its forwarding model polls no
# host memory). A bad value or a contradiction is a usage error (status 2,
# naming the options) before it connects to anything, and --help lists
# each mode.
proxy=$1
failed=0

. "$(dirname "$0")/usage_error.sh"
# refused WORDS ARG...: a usage error matching WORDS, before any connect.
refused() {
	words=$1
	shift
	usage_error "$words" "$proxy" --socket /nonexistent/pciem-test.sock "$@"
}

refused '--idle-poll-us' --idle-poll-us often
refused '--idle-poll-us' --idle-poll-us 20000000
refused '--low-cpu.*--busy-poll' --low-cpu --busy-poll
refused '--low-cpu.*--idle-poll-us' --low-cpu --idle-poll-us 50
refused '--poll-interval-us' --poll-interval-us 100
help=$("$proxy" --help 2>&1)
for o in --busy-poll --idle-poll-us --low-cpu; do
	if ! echo "$help" | grep -q -- "$o"; then
		echo "FAIL --help does not list $o"
		failed=1
	fi
done
exit $failed
