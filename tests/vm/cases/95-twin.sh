# SPDX-License-Identifier: MIT
# The SimHost against pciem.ko (issue 18): pciem-twin plays one script of
# driver operations on the test device (tests/twin/testdev.twin: config
# space, register semantics, DMA engine under the sanitizer: direction,
# bounds, bus mastering, after unmap) on the model in a SimHost and on the
# same model behind pciem.ko with pciem_mmio_test bound, and compares what
# the driver got, step by step. Every step must agree. Then a host that
# does not behave like the model (an injected all-ones read of SCRATCH)
# must be reported at exactly that step.
. /pciem/tests/vm/lib.sh

SCRIPT=/pciem/tests/twin/testdev.twin
DBG=/sys/kernel/debug/pciem_mmio_test
for t in pciem-twin pciem-testdev pciemctl; do
	command -v "$t" >/dev/null || { fail "$t is not in PATH"; finish; }
done
[ -f "$SCRIPT" ] || { fail "$SCRIPT is missing"; finish; }
modprobe pciem_mmio_test model_cpu=0 || { fail "modprobe pciem_mmio_test failed"; finish; }

if start_testdev; then
	addr=$(first_addr)
	if wait_dir "$DBG/$addr"; then
		out=$(pciem-twin --device "$addr" "$SCRIPT" 2>&1)
		rc=$?
		echo "$out" | tail -n 20
		expect_eq "pciem-twin exit status" "$rc" 0
		steps=$(grep -c '^[a-z]' "$SCRIPT")
		if echo "$out" | grep -qx "pciem-twin: $steps steps, 0 differ"; then
			note "ok: all $steps steps agree"
		else
			fail "want 'pciem-twin: $steps steps, 0 differ'"
		fi

	else
		fail "$DBG/$addr did not appear"
	fi
	stop_model
	wait_gone "$addr" || fail "$addr still present after the model exited"
fi

# The SimHost knows nothing of an injected fault: the twin must name the
# one step whose answer pciem.ko changed. A fresh model, since the script
# moved the first one's counters and FIFO.
if start_testdev; then
	addr=$(first_addr)
	if ! wait_dir "$DBG/$addr"; then
		fail "$DBG/$addr did not appear"
	elif pciemctl inject "$addr" mmio-all-ones --region 0:0x8+4 >/dev/null; then
		out=$(pciem-twin --device "$addr" "$SCRIPT" 2>&1)
		rc=$?
		expect_eq "pciem-twin exit status with a fault injected" "$rc" 1
		diffs=$(echo "$out" | grep -c '^DIFFERS')
		expect_eq "steps reported as different" "$diffs" 1
		if echo "$out" | grep -q '^DIFFERS kernel: [0-9]*: read 0x0008 = 0xffffffff$'; then
			note "ok: $(echo "$out" | grep -A1 '^DIFFERS' | tr -s ' \n' ' ')"
		else
			echo "$out" | grep -A1 '^DIFFERS'
			fail "the injected all-ones read of SCRATCH was not the step reported"
		fi
	else
		fail "pciemctl inject mmio-all-ones failed"
	fi
	stop_model
	wait_gone "$addr" || fail "$addr still present after the model exited"
fi
rmmod pciem_mmio_test 2>/dev/null
finish
