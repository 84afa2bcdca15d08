# SPDX-License-Identifier: MIT
# Sourced by the option tests here (POSIX sh).
#
# usage_error WORDS PROGRAM ARG...: PROGRAM ARG... must exit 2 (a usage
# error) with a message matching WORDS (grep -E), before it touches
# anything. Prints "ok" or "FAIL" with the arguments; sets failed=1 on a
# failure.
usage_error() {
	ue_words=$1
	shift
	ue_prog=$1
	shift
	ue_out=$("$ue_prog" "$@" 2>&1 </dev/null)
	ue_rc=$?
	if [ "$ue_rc" -ne 2 ] || ! echo "$ue_out" | grep -qE -- "$ue_words"; then
		echo "FAIL $*: status $ue_rc, want 2 and '$ue_words': $ue_out"
		failed=1
	else
		echo "ok   $*: 2"
	fi
}
