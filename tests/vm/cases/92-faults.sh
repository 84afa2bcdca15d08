# SPDX-License-Identifier: MIT
# Faults injected with `pciemctl inject` into the test device, with the
# project's test driver bound (drivers/pciem_mmio_test: its `reg` file
# reads and writes registers, its `aer` file counts the pci_error_handlers
# calls): MMIO reads as all-ones, late and with bits flipped, interrupts spurious, dropped
# and delayed, the link down and up, AER correctable, non-fatal and fatal
# errors through PCIem's Root Complex Event Collector and the kernel's
# AER service, surprise removal and reinsertion with CRS. None of it may
# leave a BUG, WARNING or Oops behind: only the driver's own messages.
. /pciem/tests/vm/lib.sh

DBG=/sys/kernel/debug/pciem_mmio_test

# reg OFFSET: the 32-bit register at OFFSET of BAR0, as the driver reads it.
reg() {
	echo "$1" >"$dir/reg" && cat "$dir/reg"
}

# aer_field NAME: a counter of the driver's error handlers.
aer_field() {
	sed -n "s/.*$1 \([^ ]*\).*/\1/p" "$dir/aer"
}

inject() {
	pciemctl inject "$addr" "$@" >/tmp/inject.log 2>&1 ||
		{ fail "pciemctl inject $*: $(cat /tmp/inject.log)"; return 1; }
}

runs() {
	sed -n 's/^runs //p' "$DBG/irq_stats"
}

# wait_runs N: the driver's handlers have run N times in all (5 s at most).
wait_runs() {
	i=0
	while [ "$(runs)" != "$1" ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	expect_eq "interrupt handler runs" "$(runs)" "$1"
}

modprobe pciem_mmio_test model_cpu=0 || { fail "modprobe pciem_mmio_test failed"; finish; }
start_testdev --aer || finish
addr=$(first_addr)
dir=$DBG/$addr
wait_dir "$dir" || { fail "$dir did not appear"; finish; }
lspci -vvv -s "$addr" >/tmp/lspci.txt
grep -q "Root Complex Integrated Endpoint" /tmp/lspci.txt || fail "--aer: not an RCiEP"
grep -q "Advanced Error Reporting" /tmp/lspci.txt || fail "--aer: no AER capability"
id=$(reg 0)
note "ID register reads $id"

note "--- MMIO reads as all-ones, the second and third of them (--after 1 --count 2)"
inject mmio-all-ones --region 0:0+4 --after 1 --count 2
expect_eq "read 1" "$(reg 0)" "$id"
expect_eq "read 2" "$(reg 0)" 0xffffffff
expect_eq "read 3" "$(reg 0)" 0xffffffff
expect_eq "read 4" "$(reg 0)" "$id"
expect_eq "a read outside the region" "$(reg 0x10)" "$(reg 0x10)"
grep -q "mmio-all-ones.* fired 2" /sys/kernel/debug/pciem/faults ||
	fail "the rule did not fire twice: $(cat /sys/kernel/debug/pciem/faults)"
pciemctl inject "$addr" --clear >/dev/null || fail "clear failed"

note "--- MMIO latency: late but right; longer than the read timeout: all-ones"
inject mmio-latency --param 20000000 --region 0:0+4 --count 1
expect_eq "a late read" "$(reg 0)" "$id"
inject mmio-latency --param 3000000000 --region 0:0+4 --count 1
expect_eq "a read later than the 1 s read timeout" "$(reg 0)" 0xffffffff
expect_eq "the next read" "$(reg 0)" "$id"

note "--- MMIO flip: the model answers, with the mask's bits flipped, in its region only"
inject mmio-flip --param 0x80000001 --region 0:0+4 --count 1
expect_eq "a flipped read" "$(reg 0)" "$(printf '0x%08x' $((id ^ 0x80000001)))"
expect_eq "the next read" "$(reg 0)" "$id"
inject mmio-flip --param 0x100 --region 0:2+2 --count 1
expect_eq "a read overlapping the region: bit 8 of what it read" "$(reg 0)" \
	"$(printf '0x%08x' $((id ^ 0x100)))"
if pciemctl inject "$addr" mmio-flip --region 0:0+4 >/tmp/inject.log 2>&1; then
	fail "mmio-flip without --param was accepted"
fi
grep -q "needs --param" /tmp/inject.log || fail "mmio-flip without --param: $(cat /tmp/inject.log)"
pciemctl inject "$addr" --clear >/dev/null || fail "clear failed"

note "--- interrupts: spurious, dropped, delayed"
if run_suite "$dir" irq "hold 4" 1; then
	base=$(runs)
	inject irq-spurious --param 2 --count 5
	wait_runs $((base + 5))
	inject irq-drop --vector 1 --count 1
	echo "$((0x100)) 1" >"$dir/reg"
	echo "$((0x100)) 1" >"$dir/reg"
	wait_runs $((base + 6))
	inject irq-delay --param 3000000000 --count 1
	echo "$((0x100)) 3" >"$dir/reg"
	expect_eq "runs right after a delayed raise" "$(runs)" $((base + 6))
	i=0
	while [ "$(runs)" != $((base + 7)) ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	expect_eq "the delayed interrupt arrived" "$(runs)" $((base + 7))
	run_suite "$dir" irq release 1
fi

note "--- link down and up"
inject link-down
expect_eq "BAR read, link down" "$(reg 0)" 0xffffffff
expect_eq "config read, link down" "$(setpci -s "$addr" 0.l)" ffffffff
inject link-up
expect_eq "BAR read, link up" "$(reg 0)" "$id"

note "--- AER"
log_mark
inject aer-correctable
i=0
while ! log_since | grep -q "AER: Correct" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
log_since | grep -q "AER: Correct" || fail "no correctable error in the log"
expect_eq "handlers after a correctable error" "$(aer_field error_detected)" 0
inject aer-nonfatal
i=0
while [ "$(aer_field resume)" != 1 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
expect_eq "non-fatal: error_detected" "$(aer_field error_detected)" 1
expect_eq "non-fatal: state" "$(aer_field last)" io_normal
expect_eq "non-fatal: mmio_enabled" "$(aer_field mmio_enabled)" 1
expect_eq "non-fatal: slot_reset" "$(aer_field slot_reset)" 0
expect_eq "non-fatal: resume" "$(aer_field resume)" 1
inject aer-fatal
i=0
while [ "$(aer_field resume)" != 2 ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
expect_eq "fatal: error_detected" "$(aer_field error_detected)" 2
expect_eq "fatal: state" "$(aer_field last)" io_frozen
expect_eq "fatal: slot_reset after the reset" "$(aer_field slot_reset)" 1
expect_eq "fatal: resume" "$(aer_field resume)" 2
expect_eq "the device after recovery" "$(reg 0)" "$id"
log_since | grep -E "AER|pciem_mmio_test" | sed 's/^/    /' | head -n 20
lspci -d 1b36:7ee0 | grep -q . || fail "no Root Complex Event Collector on the bus"

note "--- surprise removal and reinsertion, with CRS for 300 ms"
inject crs --param 300 --count 1
inject surprise-remove
wait_gone "$addr" || fail "$addr still present after a surprise removal"
kill -0 "$MODEL_PID" || fail "the model stopped on a surprise removal"
expect_eq "state" "$(pciemctl list | awk -v a="$addr" '$1 == a { print $4 }')" pulled
inject reinsert
wait_dir "$dir" || fail "the driver did not bind to the reinserted device"
expect_eq "the reinserted device" "$(reg 0)" "$id"
grep -q "crs.* fired 1" /sys/kernel/debug/pciem/faults || fail "the reinsertion ran no CRS"

stop_model
wait_gone "$addr" || fail "$addr still present after the model exited"
rmmod pciem_mmio_test || fail "rmmod pciem_mmio_test failed"
finish
