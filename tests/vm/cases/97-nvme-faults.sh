# SPDX-License-Identifier: MIT
# Faults injected with `pciemctl inject` under the stock nvme driver on
# PCIem's NVMe model, none of them needing a change to the model: a lost
# completion interrupt (the driver's timeout handler finds the completion
# and fio --verify passes), AER non-fatal and fatal errors in the middle
# of a verifying fio (the driver's error handlers run, I/O resumes), a
# surprise removal under a mounted ext4 (errors, no oops) and the device
# plugged in again (the data is there), and every MMIO read answered
# all-ones (the driver gives the controller up cleanly).
. /pciem/tests/vm/lib.sh
. /pciem/tests/vm/nvme_lib.sh

SIZE_MB=64
T0=$(date +%s)
section() { note "--- $* (at $(($(date +%s) - T0)) s)"; }

for t in nvme mkfs.ext4 fio pciem-nvme; do
	command -v "$t" >/dev/null || { fail "$t is not in the guest (pciem-vm --nvme-tools)"; finish; }
done

inject() {
	pciemctl inject "$addr" "$@" >/tmp/inject.log 2>&1 ||
		{ fail "pciemctl inject $*: $(cat /tmp/inject.log)"; return 1; }
}

# ctrl_of ADDR: the nvme controller's character device for a PCI function.
ctrl_of() {
	echo "/dev/$(basename /sys/bus/pci/devices/"$1"/nvme/nvme*)"
}

# log_wait PATTERN TENTHS: the kernel log has PATTERN since the mark.
log_wait() {
	i=0
	while ! log_since | grep -q "$1" && [ $i -lt "$2" ]; do
		sleep 0.1
		i=$((i + 1))
	done
	log_since | grep -q "$1" || { fail "no '$1' in the kernel log"; return 1; }
}

# A timed-out command is looked at after 5 s, not 30.
old_timeout=$(cat /sys/module/nvme_core/parameters/io_timeout)
echo 5 >/sys/module/nvme_core/parameters/io_timeout

log_mark
section "a lost completion interrupt"
start_nvme --serial PCIEM-FAULTS-1 --aer || finish
addr=$(first_addr)
fio_dev=$(disk_of PCIEM-FAULTS-1) || { fail "the disk did not appear"; stuck_tasks; stop_model; finish; }
ctrl=$(ctrl_of "$addr")
note "controller $ctrl, disk $fio_dev at $addr"
# One read alone in flight: nothing else comes to deliver its completion.
inject irq-drop --count 1
dd if="$fio_dev" of=/dev/null bs=4k count=1 iflag=direct 2>/dev/null ||
	fail "the read whose interrupt was lost failed"
log_wait "timeout, completion polled" 100 && note "ok: the driver's timeout handler found the completion"
fio_verify after-lost-irq --rw=randwrite --bs=4k --iodepth=8 --size=8M

section "AER non-fatal and fatal in the middle of a verifying fio"
fio --allow_file_create=0 --name=aer --filename="$fio_dev" --direct=1 --ioengine=libaio --rw=randwrite --bs=4k \
	--iodepth=8 --size=16M --verify=crc32c --do_verify=1 --verify_fatal=1 \
	>/tmp/fio-aer.log 2>&1 &
fio_pid=$!
sleep 1
inject aer-nonfatal
log_wait "AER: device recovery successful" 100
inject aer-fatal
log_wait "frozen state error detected, reset controller" 100
log_wait "restart after slot reset" 150
if wait "$fio_pid"; then
	note "ok: fio across both errors passed its verify"
else
	tail -n 15 /tmp/fio-aer.log
	fail "fio across AER errors failed"
fi
# The reset after the slot reset is the driver's own work item and may
# still run after fio's last I/O: wait for the controller to be live.
state=/sys/class/nvme/$(basename "$ctrl")/state
i=0
while [ "$(cat "$state" 2>/dev/null)" != live ] && [ $i -lt 150 ]; do
	sleep 0.1
	i=$((i + 1))
done
nvme id-ctrl "$ctrl" >/dev/null || fail "the controller does not answer after recovery (state $(cat "$state" 2>/dev/null))"
log_since | grep -E "AER|nvme" | sed 's/^/    /' | head -n 16

section "surprise removal under a mounted ext4, and the device back"
mkdir -p /mnt/faults
if mkfs.ext4 -q -F "$fio_dev" && mount -t ext4 "$fio_dev" /mnt/faults; then
	dd if=/dev/urandom of=/tmp/ref bs=1M count=4 2>/dev/null
	cp /tmp/ref /mnt/faults/data && sync
	inject surprise-remove
	wait_gone "$addr" || fail "$addr still present after a surprise removal"
	# The filesystem lost its disk: writing through it fails, nothing crashes.
	if dd if=/dev/zero of=/mnt/faults/after bs=1M count=8 conv=fsync 2>/dev/null; then
		fail "a write to the removed disk succeeded"
	else
		note "ok: writing to the removed disk fails"
	fi
	umount /mnt/faults 2>/dev/null || umount -l /mnt/faults
	inject reinsert
	dev=$(disk_of PCIEM-FAULTS-1) || fail "the disk did not come back"
	if [ -n "$dev" ] && mount -t ext4 "$dev" /mnt/faults; then
		cmp -s /tmp/ref /mnt/faults/data && note "ok: the data is there after reinsertion" ||
			fail "the file differs after reinsertion"
		umount /mnt/faults
	else
		fail "cannot mount the reinserted disk"
	fi
	fio_dev=$dev
else
	fail "mkfs.ext4 or mount failed"
fi

section "every MMIO read all-ones"
ctrl=$(ctrl_of "$addr")
state=/sys/class/nvme/$(basename "$ctrl")/state
inject mmio-all-ones
nvme reset "$ctrl" >/dev/null 2>&1
# 6.1 removes the controller; 6.12 keeps it, marked dead.
given_up() { [ ! -e "$ctrl" ] || [ "$(cat "$state" 2>/dev/null)" = dead ]; }
i=0
while ! given_up && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
given_up && note "ok: the driver gave the dead controller up ($(cat "$state" 2>/dev/null || echo removed))" ||
	fail "$ctrl is $(cat "$state") 30 s after every read turned all-ones"
pciemctl inject "$addr" --clear >/dev/null
stop_model
wait_gone "$addr" || fail "$addr still present after the model exited"
echo "$old_timeout" >/sys/module/nvme_core/parameters/io_timeout
log_clean "nvme faults"
finish
