# SPDX-License-Identifier: MIT
# $PCIEM_SOAK_IRQS (default one million) interrupts in one storm from the
# test device's thread, every one counted by the driver's handler on the
# vector it was raised on: none lost, none doubled (pciem_mmio_test's
# `storm` test asserts the counts).
. /pciem/tests/vm/lib.sh
. /pciem/tests/soak/soak_lib.sh

N=${PCIEM_SOAK_IRQS:-1000000}
DBG=/sys/kernel/debug/pciem_mmio_test
lsmod | grep -q '^pciem_mmio_test' || modprobe pciem_mmio_test model_cpu=0 ||
	{ fail "modprobe pciem_mmio_test failed"; finish; }
if start_testdev; then
	dir=$DBG/$(first_addr)
	if wait_dir "$dir"; then
		r0=$(sed -n 's/^runs //p' "$DBG/irq_stats")
		t0=$(date +%s)
		run_suite "$dir" irq "storm $N" 1
		r1=$(sed -n 's/^runs //p' "$DBG/irq_stats")
		note "storm of $N: $((r1 - r0)) handler runs in $(($(date +%s) - t0)) s"
		echo "SOAK irq: $N raised, $((r1 - r0)) handled, $((N - (r1 - r0))) lost"
	else
		fail "pciem_mmio_test did not bind"
	fi
	stop_model
fi
finish
