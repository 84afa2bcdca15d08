# SPDX-License-Identifier: MIT
# An ordinary kernel driver (drivers/pciem_mmio_test) drives the PCIem test
# device through trapped MMIO: every read and write accessor and width, the
# instruction forms compilers emit (immediates, extending loads, r8-r15,
# %ah, SIB addressing, rep movs/stos both ways), memcpy_*io/memset_io,
# register side effects (counter, read-to-clear, RW1C, FIFO), write/read
# ordering, reads in atomic and hard-IRQ context, two CPUs at once, several
# mappings of one BAR, shadowed registers; then the slow register. Once with
# the model's default loop and once with --busy-poll.
. /pciem/tests/vm/lib.sh

MIN_TESTS=21	# tests `all` runs on testdev today; fewer means some were lost

# run_tests DIR WHAT WANT: write WHAT to DIR/run; every line must be PASS,
# and there must be WANT of them.
run_tests() {
	echo "$2" >"$1/run" || { fail "writing '$2' to $1/run failed"; return; }
	out=$(cat "$1/run")
	echo "$out" | sed 's/^/    /'
	echo "$out" | grep -q '^FAIL' && fail "'$2': $(echo "$out" | grep -c '^FAIL') test(s) failed"
	got=$(echo "$out" | grep -c '^PASS')
	[ "$got" -ge "$3" ] || fail "'$2': $got tests passed, want $3"
}

command -v pciem-testdev >/dev/null || { fail "pciem-testdev is not in PATH (devices/testdev not built?)"; finish; }
modprobe pciem_mmio_test model_cpu=0 || { fail "modprobe pciem_mmio_test failed"; finish; }

for mode in "" "--busy-poll"; do
	note "--- pciem-testdev ${mode:-(default)}"
	start_testdev $mode || continue
	addr=$(first_addr)
	dir=/sys/kernel/debug/pciem_mmio_test/$addr
	wait_dir "$dir" || { fail "$dir did not appear"; stop_model; continue; }
	expect_eq "driver of $addr" "$(driver_of "$addr")" "pciem_mmio_test"
	# BAR0 is 4 MiB: the driver's ioremap of it uses 2 MiB leaves, so the
	# tests below go through the trap's huge-mapping path.
	grep -q ' 2M [1-9]' /sys/kernel/debug/pciem/traps ||
		fail "no 2 MiB leaf is trapped: $(cat /sys/kernel/debug/pciem/traps)"
	note "traps: $(tr '\n' ';' </sys/kernel/debug/pciem/traps)"
	want=$(grep -vc explicit "$dir/tests")
	[ "$want" -ge "$MIN_TESTS" ] || fail "only $want tests listed, want >= $MIN_TESTS"
	t0=$(date +%s)
	run_tests "$dir" all "$want"
	note "all: $(($(date +%s) - t0)) s"
	run_tests "$dir" slow 1
	echo "reads 1000" >"$dir/bench" && note "bench: $(cat "$dir/bench")"
	echo "writes 1000" >"$dir/bench" && note "bench: $(cat "$dir/bench")"
	stop_model
	wait_gone "$addr" || fail "$addr still present after the model exited"
	[ ! -d "$dir" ] || fail "$dir still present after the function went away"
done

rmmod pciem_mmio_test || fail "rmmod pciem_mmio_test failed"
finish
