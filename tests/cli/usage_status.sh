#!/bin/sh
# SPDX-License-Identifier: MIT
# usage_status.sh PROGRAM...: every program PCIem installs answers a command
# line it cannot use as pciemctl does: exit status 2 and a message (naming
# the option, unless a required argument is missing first), and --help
# succeeds. (CLI11's own exit codes, 105-109, are
# not what scripts expect from a usage error.)
failed=0
for p in "$@"; do
	name=$(basename "$p")
	out=$("$p" --no-such-option 2>&1 </dev/null)
	rc=$?
	if [ "$rc" -ne 2 ]; then
		echo "FAIL $name --no-such-option: exit status $rc, want 2 ($out)"
		failed=1
	elif ! echo "$out" | grep -qE -- '--no-such-option|required'; then
		echo "FAIL $name --no-such-option: the message says neither what is wrong nor what is missing: $out"
		failed=1
	else
		echo "ok   $name --no-such-option: 2"
	fi
	"$p" --help >/dev/null 2>&1 </dev/null
	rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "FAIL $name --help: exit status $rc"
		failed=1
	fi
done
exit $failed
