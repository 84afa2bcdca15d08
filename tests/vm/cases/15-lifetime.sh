# SPDX-License-Identifier: MIT
# A function's lifetime against everything else that adds and removes PCI
# devices (tests/guest/lifetime_test.cpp): rescans before START, sysfs
# remove as a removal its owner sees, sysfs remove racing close from
# several threads, rescan and remove storms during create/destroy storms,
# vendor IDs that mean "no device", mappings that outlive close. A hung
# task is reported after 20 s here (the kernel-log check fails on it), so
# a deadlock shows even when the case's own timeout ends it first.
. /pciem/tests/vm/lib.sh

hung=/proc/sys/kernel/hung_task_timeout_secs
old=$(cat $hung 2>/dev/null)
echo 20 >$hung 2>/dev/null || note "no hung-task detector in this kernel"
pciem_guest_lifetime_test --gtest_color=no || fail "lifetime test failed"

# A model program whose function is removed through sysfs while a driver
# is bound stops by itself and says why; nothing is left behind.
modprobe pciem_mmio_test model_cpu=0 || fail "modprobe pciem_mmio_test failed"
if start_testdev; then
	addr=$(first_addr)
	wait_for 50 -e "/sys/bus/pci/devices/$addr/driver" || fail "no driver bound to $addr"
	echo 1 >"/sys/bus/pci/devices/$addr/remove" || fail "sysfs remove of $addr failed"
	if ! wait_exit "$MODEL_PID" 50; then
		fail "pciem-testdev still runs 5 s after its function was removed"
		stop_model KILL
	fi
	grep -q "removed by the PCI core" "$OWNER_LOG" ||
		fail "the model did not say why it stopped: $(cat "$OWNER_LOG")"
	[ ! -e "/sys/bus/pci/devices/$addr" ] || fail "$addr still present"
	[ -z "$(pciemctl list --json 2>/dev/null | grep -o "$addr")" ] ||
		fail "$addr still listed after its model exited"
fi
rmmod pciem_mmio_test || fail "rmmod pciem_mmio_test failed"

# Unloading the module while rescans (global and of PCIem's own bus)
# storm: removing the bus must not deadlock against a rescan writer.
for i in 1 2 3; do
	bus=$(ls -d /sys/class/pci_bus/1????:00 2>/dev/null | head -n 1)
	(while :; do
		echo 1 >/sys/bus/pci/rescan
		[ -n "$bus" ] && echo 1 >"$bus/rescan" 2>/dev/null
	done) 2>/dev/null &
	storm=$!
	sleep 0.2
	rmmod pciem || fail "rmmod pciem during a rescan storm failed"
	insmod /lib/modules/"$(uname -r)"/extra/pciem.ko || fail "insmod pciem failed"
	kill "$storm"
	wait "$storm" 2>/dev/null
done
pciemctl info >/dev/null || fail "pciemctl info after the reloads failed"
[ -z "$old" ] || echo "$old" >$hung
# A duplicate add shows as a sysfs warning even when nothing crashes.
if dmesg | grep -q "cannot create duplicate filename"; then
	fail "a pci_dev was added twice: $(dmesg | grep -m1 'duplicate filename')"
fi
finish
