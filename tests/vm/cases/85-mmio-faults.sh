# SPDX-License-Identifier: MIT
# Trapped MMIO when things go wrong, with an ordinary driver
# (drivers/pciem_mmio_test) bound to the PCIem test device:
#  (a) the model never answers a read: all-ones after --read-timeout-us,
#      the kernel stays healthy;
#  (b) the model is SIGKILLed with reads in flight: the function goes away,
#      remove() stops the driver's I/O thread, nothing oopses;
#  (c) the driver unloads and reloads (also with I/O running) and works;
#  (d) an instruction the emulator refuses completes as a master abort and
#      the kernel log names its bytes and why: on x86 a locked RMW; on
#      arm64 the exclusive and atomic forms, and the CONSTRAINED
#      UNPREDICTABLE pair and writeback encodings (the driver's 'refused'
#      test issues each with fixed registers, so the bytes are known).
. /pciem/tests/vm/lib.sh

# start_dev: the test device, with ADDR and DIR set for it.
start_dev() {
	start_testdev "$@" || return 1
	ADDR=$(first_addr)
	DIR=/sys/kernel/debug/pciem_mmio_test/$ADDR
}

# expect_pass WHAT: run the tests WHAT; each must PASS.
expect_pass() {
	echo "$1" >"$DIR/run" || { fail "writing '$1' to $DIR/run failed"; return; }
	out=$(cat "$DIR/run")
	echo "$out" | sed 's/^/    /'
	n=$(echo "$out" | grep -c '^PASS')
	if [ "$n" -ne "$(echo "$1" | wc -w)" ] || echo "$out" | grep -q '^FAIL'; then
		fail "'$1' did not pass"
	fi
}

# check_refusals_logged: since log_mark, one kernel log line per refused
# instruction of the driver's 'refused' test, naming its bytes (as %*ph
# prints them) and the decoder's reason.
check_refusals_logged() {
	case "$(uname -m)" in
	aarch64)
		# not stxr (2a 7d 0b 88): with no monitor open the CPU may fail
		# it without touching the device (QEMU does), so PCIem never sees it
		set -- "2a 7d 5f 88|exclusive" \
			"2b 01 2a b8|atomic" "2b 81 2a b8|atomic" "2b 7d aa 88|atomic" \
			"2a 29 40 29|CONSTRAINED UNPREDICTABLE" "29 45 40 b8|CONSTRAINED UNPREDICTABLE"
		;;
	*) set -- "f0 81 0f|" ;;	# lock orl $0x100,(%rdi): f0 81 0f 00 01 00 00
	esac
	for r in "$@"; do
		bytes=${r%%|*} why=${r#*|}
		if log_since | grep "cannot emulate instruction $bytes " | grep -q "$why"; then
			note "ok: the kernel log names the refused $bytes${why:+ ($why)}"
		else
			log_since | grep 'cannot emulate' | tail -n 10
			fail "(d) no kernel log line names the refused bytes $bytes${why:+ as $why}"
		fi
	done
}

stress_threads() {
	cat /proc/[0-9]*/comm 2>/dev/null | grep -c '^pmt-stress'
}

command -v pciem-testdev >/dev/null || { fail "pciem-testdev is not in PATH (devices/testdev not built?)"; finish; }
modprobe pciem_mmio_test model_cpu=0 || { fail "modprobe pciem_mmio_test failed"; finish; }

note "--- (a) a read the model never answers"
log_mark
# 200 ms: short enough for the hang, long enough for an answer from a
# model whose vCPU waits behind a loaded host (20 ms failed under load)
if start_dev --read-timeout-us 200000; then
	wait_dir "$DIR" || fail "$DIR did not appear"
	expect_pass hang
	expect_pass "read-widths counter"
	stop_model
	wait_gone "$ADDR" || fail "(a) $ADDR still present after the model exited"
fi
log_clean "(a)"

note "--- (b) model killed with reads in flight"
log_mark
if start_dev; then
	wait_dir "$DIR" || fail "$DIR did not appear"
	echo start >"$DIR/stress" || fail "stress start failed"
	sleep 1
	s=$(cat "$DIR/stress")
	note "stress before the kill: $s"
	case "$s" in running*) ;; *) fail "stress thread not running: $s" ;; esac
	kill -KILL "$MODEL_PID"
	wait "$MODEL_PID" 2>/dev/null
	wait_gone "$ADDR" || fail "(b) $ADDR still present 5 s after SIGKILL of the model"
	[ ! -d "$DIR" ] || fail "(b) $DIR still present: remove() did not run"
	[ ! -e "/sys/bus/pci/drivers/pciem_mmio_test/$ADDR" ] || fail "(b) driver still bound to $ADDR"
	expect_eq "(b) stress threads left" "$(stress_threads)" 0
fi
log_clean "(b)"

note "--- (c) unload and reload the driver"
log_mark
if start_dev; then
	wait_dir "$DIR" || fail "$DIR did not appear"
	rmmod pciem_mmio_test || fail "(c) rmmod failed"
	expect_eq "(c) driver of $ADDR after rmmod" "$(driver_of "$ADDR")" none
	modprobe pciem_mmio_test model_cpu=0 || fail "(c) modprobe failed"
	wait_dir "$DIR" || fail "(c) $DIR did not reappear after modprobe"
	expect_eq "(c) driver of $ADDR after modprobe" "$(driver_of "$ADDR")" pciem_mmio_test
	expect_pass "read-widths counter fifo"
	# unload with I/O running: remove() stops the thread before unmapping
	echo start >"$DIR/stress" || fail "(c) stress start failed"
	sleep 0.5
	rmmod pciem_mmio_test || fail "(c) rmmod with the stress thread running failed"
	expect_eq "(c) stress threads left" "$(stress_threads)" 0
	modprobe pciem_mmio_test model_cpu=0 || fail "(c) second modprobe failed"
	wait_dir "$DIR" || fail "(c) $DIR did not reappear"
	expect_pass counter
	stop_model
	wait_gone "$ADDR" || fail "(c) $ADDR still present after the model exited"
fi
log_clean "(c)"

note "--- (d) an instruction the emulator refuses"
log_mark
if start_dev; then
	wait_dir "$DIR" || fail "$DIR did not appear"
	expect_pass refused
	check_refusals_logged
	expect_pass counter
	stop_model
	wait_gone "$ADDR" || fail "(d) $ADDR still present after the model exited"
fi
log_clean "(d)"

rmmod pciem_mmio_test || fail "rmmod pciem_mmio_test failed"
finish
