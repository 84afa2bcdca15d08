#!/bin/sh
# SPDX-License-Identifier: MIT
# chaos_options.sh PCIEM_CHAOS: pciem-chaos's command line. A probability out of
# [0, 1] is a usage error (status 2, naming the option) before any device
# is created, and --help documents --random-dma-writes and its default.
chaos=$1
failed=0
for bad in 1.5 -0.1 often; do
	out=$("$chaos" --model testdev --random-dma-writes "$bad" 2>&1 </dev/null)
	rc=$?
	if [ "$rc" -ne 2 ] || ! echo "$out" | grep -q -- '--random-dma-writes'; then
		echo "FAIL --random-dma-writes $bad: status $rc, want 2 and the option named: $out"
		failed=1
	else
		echo "ok   --random-dma-writes $bad: 2"
	fi
done
help=$("$chaos" --help 2>&1)
if ! echo "$help" | grep -- '--random-dma-writes' | grep -q '0.75'; then
	echo "FAIL --help does not document --random-dma-writes with its default 0.75"
	failed=1
else
	echo "ok   --help documents --random-dma-writes"
fi
exit $failed
