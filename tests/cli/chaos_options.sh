#!/bin/sh
# SPDX-License-Identifier: MIT
# chaos_options.sh PCIEM_CHAOS: pciem-chaos's command line. A probability out of
# [0, 1] is a usage error (status 2, naming the option) before any device
# is created, and --help documents --random-dma-writes and its default.
# So is an --honest region that is not BAR:OFFSET+LEN.
chaos=$1
failed=0

. "$(dirname "$0")/usage_error.sh"
# refused OPTION VALUE: a usage error naming the option.
refused() { usage_error "$1" "$chaos" --model testdev "$1" "$2"; }

for bad in 1.5 -0.1 often; do
	refused --random-dma-writes "$bad"
done
for bad in 0x10 6:0+4 0:0+0 0:8; do
	refused --honest "$bad"
done
help=$("$chaos" --help 2>&1)
if ! echo "$help" | grep -- '--random-dma-writes' | grep -q '0.75'; then
	echo "FAIL --help does not document --random-dma-writes with its default 0.75"
	failed=1
else
	echo "ok   --help documents --random-dma-writes"
fi
exit $failed
