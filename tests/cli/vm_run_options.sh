#!/bin/sh
# SPDX-License-Identifier: MIT
# vm_run_options.sh TESTS_VM_RUN: the guest test runner's command line. An
# option given without its value, or an unknown one, is a usage error
# (status 2, the option named) before any guest boots.
run=$1
failed=0
check() { # WANT ARGS...: status 2 and WANT in the message
	want=$1
	shift
	out=$("$run" "$@" 2>&1 </dev/null)
	rc=$?
	if [ "$rc" -ne 2 ] || ! echo "$out" | head -n 1 | grep -q -- "$want"; then
		echo "FAIL $*: status $rc, want 2 and '$want': $(echo "$out" | head -n 1)"
		failed=1
	else
		echo "ok   $*: 2"
	fi
}
for opt in --kernel --arch --cases --append; do
	check "$opt needs a value" "$opt"
	check "$opt needs a value" --verbose "$opt"
done
check "unknown argument '--bogus'" --bogus
exit $failed
