# SPDX-License-Identifier: MIT
# The packaged model program (pciem-testdev, on the packaged libpciem.so.0)
# on the DKMS-built pciem.ko, bound by the DKMS-built pciem_mmio_test,
# which runs its MSI and MSI-X tests through it; then the function goes
# when the model exits.
. /pciem/tests/vm/lib.sh

DBG=/sys/kernel/debug/pciem_mmio_test
TESTDEV=/usr/bin/pciem-testdev
# (no ldd in the guest: the dynamic loader lists what it would load)
libs=$(/lib64/ld-linux-x86-64.so.2 --list $TESTDEV 2>&1)
echo "$libs" | grep -qE 'libpciem.so.0 => (/usr)?/lib/x86_64-linux-gnu/libpciem.so.0 ' ||
	fail "$TESTDEV does not load the packaged libpciem.so.0: $libs"
modprobe pciem_mmio_test model_cpu=0 || { fail "modprobe pciem_mmio_test failed"; finish; }
log_mark
if start_owner "packaged pciem-testdev" $TESTDEV --cpu 0 --ready-file @READY@; then
	addr=$(first_addr)
	expect_eq "driver of $addr" "$(driver_of "$addr")" pciem_mmio_test
	if wait_dir "$DBG/$addr"; then
		run_suite "$DBG/$addr" irq msi 1
		run_suite "$DBG/$addr" irq msix 1
	else
		fail "$DBG/$addr did not appear"
	fi
	stop_model
	wait_gone "$addr" || fail "$addr still present after the model exited"
fi
rmmod pciem_mmio_test || fail "rmmod pciem_mmio_test failed"
log_clean "the packaged model"
finish
