# SPDX-License-Identifier: MIT
# RTL behind a real driver: the example DMA engine's SystemVerilog design
# (devices/rtl/dma-engine), simulated by Verilator inside pciem-rtl-dma,
# bound by its Linux driver (drivers/pciem_rtl_dma): the probe's
# self-test, DMA copies and fills checked bit-exact, completion interrupts
# counted, a copy the DMA sanitizer refuses, an idle design that is not
# clocked, waveforms and the transaction log, then the simulation SIGKILLed
# in the middle of copies (surprise removal). Last, the same driver on the
# engine's C++ reference model.
. /pciem/tests/vm/lib.sh

# cmd DIR COMMAND: run a driver command; its answer must start with PASS.
cmd() {
	echo "$2" >"$1/run" || { fail "'$2' was refused"; return 1; }
	out=$(cat "$1/run")
	note "$2: $out"
	case "$out" in PASS*) return 0 ;; esac
	fail "'$2': $out"
	return 1
}
stat_of() { awk -v k="$2" '$1 == k { print $2 }' "$1/stats"; }
ticks_of() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }	# utime + stime
value_of() { cat "$1/run" | awk '{ print $2 }'; }

command -v pciem-rtl-dma >/dev/null ||
	{ fail "pciem-rtl-dma is not in PATH (was verilator missing when it was built?)"; finish; }
modprobe pciem_rtl_dma || { fail "modprobe pciem_rtl_dma failed"; finish; }
log_mark

# ---- the RTL design -----------------------------------------------------------
start_owner "pciem-rtl-dma" pciem-rtl-dma --cpu 0 --ready-file @READY@ || finish
addr=$(first_addr)
dir=/sys/kernel/debug/pciem_rtl_dma/$addr
wait_dir "$dir" || { fail "$dir did not appear (probe failed?)"; dmesg | tail -n 5; stop_model; finish; }
expect_eq "driver of $addr" "$(driver_of "$addr")" pciem_rtl_dma
expect_eq "device ID" "$(cat "$(sysfs_dev "$addr")/device")" 0x7e20
log_since | grep -q "$addr: RTL DMA engine 7e20, .*self-test passed" ||
	fail "no 'self-test passed' line for $addr in the kernel log"
done0=$(stat_of "$dir" done_irqs)
err0=$(stat_of "$dir" error_irqs)

cmd "$dir" selftest
cmd "$dir" "copy 1 16"
cmd "$dir" "copy 4097 8"
cmd "$dir" "copy 65536 4"
cmd "$dir" "copy 1048576 2"
cmd "$dir" "fill 12345 4"
cmd "$dir" "batch 32 4096"
cmd "$dir" fault
# One completion interrupt per submission: selftest 2, copies 30, fills 4,
# the batch 1, fault's recovery copy 1; one error interrupt (fault).
expect_eq "completion interrupts" $(($(stat_of "$dir" done_irqs) - done0)) 38
expect_eq "error interrupts" $(($(stat_of "$dir" error_irqs) - err0)) 1
grep -q "pciem_rtl_dma-done" /proc/interrupts || fail "no pciem_rtl_dma-done line in /proc/interrupts"

# Idle costs nothing: the clock stops once the design is idle.
echo cycles >"$dir/run" && c0=$(value_of "$dir")
t0=$(ticks_of "$MODEL_PID")
sleep 2
t1=$(ticks_of "$MODEL_PID")
echo cycles >"$dir/run" && c1=$(value_of "$dir")
note "idle: $((c1 - c0)) cycles and $((t1 - t0)) CPU ticks in 2 s"
[ $((c1 - c0)) -lt 200 ] || fail "the design was clocked $((c1 - c0)) cycles while idle"
[ $((t1 - t0)) -le 10 ] || fail "the idle simulation used $((t1 - t0)) CPU ticks in 2 s"

# Surprise removal: SIGKILL the simulation while copies run.
(echo "copy 1048576 1000" >"$dir/run"; echo "rc $?" >/tmp/rtl-copy.rc) &
copier=$!
sleep 2
kill -0 "$copier" 2>/dev/null || fail "the copies ended before the kill: it tests nothing"
t_kill=$(date +%s)
kill -9 "$MODEL_PID"
wait_exit "$MODEL_PID" 100 || fail "pciem-rtl-dma survived SIGKILL"
wait_gone "$addr" || fail "$addr still present after the simulation died"
wait_exit "$copier" 300 || fail "the copy still hangs 30 s after the simulation died"
note "copier returned $(($(date +%s) - t_kill)) s after the kill ($(cat /tmp/rtl-copy.rc 2>/dev/null))"
[ ! -d "$dir" ] || fail "$dir still present after the function went away"
log_since | grep -q "pciem_rtl_dma.*self-test failed" && fail "a self-test failed"

# ---- waveforms and the transaction log ---------------------------------------------
start_owner "pciem-rtl-dma --trace-vcd" pciem-rtl-dma --cpu 0 --ready-file @READY@ \
	--trace-vcd /tmp/rtl.vcd --trace-cycles 50000 --log-transactions || finish
addr=$(first_addr)
dir=/sys/kernel/debug/pciem_rtl_dma/$addr
wait_dir "$dir" || fail "$dir did not appear (second start)"
cmd "$dir" "copy 4096 1"
stop_model
wait_gone "$addr" || fail "$addr still present after the model stopped"
grep -q 'dma write 0x[0-9a-f]* +4096$' "$OWNER_LOG" ||
	fail "no 'dma write ... +4096' line in the transaction log"
grep -q 'irq 0: raised vector 0' "$OWNER_LOG" || fail "no interrupt in the transaction log"
grep -q '^rtl: .* cycles/s' "$OWNER_LOG" || fail "no summary line"
grep -q 'enddefinitions' /tmp/rtl.vcd || fail "/tmp/rtl.vcd is no VCD"
grep -q 'dma_rd_req_valid' /tmp/rtl.vcd || fail "/tmp/rtl.vcd lacks the DMA signals"
note "waveform: $(wc -c </tmp/rtl.vcd) bytes; $(grep -c '^rtl:' "$OWNER_LOG") log lines"
rm -f /tmp/rtl.vcd

# ---- the same driver on the C++ reference model -------------------------------------
start_owner "pciem-rtl-dma --model cpp" pciem-rtl-dma --model cpp --cpu 0 --ready-file @READY@ || finish
addr=$(first_addr)
dir=/sys/kernel/debug/pciem_rtl_dma/$addr
wait_dir "$dir" || fail "$dir did not appear (C++ model)"
expect_eq "device ID" "$(cat "$(sysfs_dev "$addr")/device")" 0x7e21
cmd "$dir" "copy 65536 4"
cmd "$dir" "batch 32 4096"
cmd "$dir" fault
stop_model
wait_gone "$addr" || fail "$addr still present after the C++ model stopped"

rmmod pciem_rtl_dma || fail "rmmod pciem_rtl_dma failed"
log_clean "rtl"
finish
