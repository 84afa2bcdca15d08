#!/bin/sh
# SPDX-License-Identifier: MIT
# Reproduces a finding about the stock nvme driver (docs/findings.md): it
# re-reads CAP at every controller reset and trusts the doorbell stride it
# finds there, while its shadow doorbell buffers keep the size the old
# stride gave them. One flipped bit (CAP.DSTRD 0 -> 8: doorbells 4 bytes
# apart -> 1 KiB) makes it clear 6,144 bytes of a 4 KiB buffer and index
# the buffer past its end, so it writes into whatever memory follows.
#
# NOT part of the guest suite: it corrupts the guest kernel's memory
# (one run in two ended in a panic here). Run it in a throwaway guest:
#   tools/pciem-vm --kernel 6.12 --nvme-tools \
#       --add tests/findings/nvme-cap-dstrd.sh:/pciem/repro.sh -- sh /pciem/repro.sh
# WINDOW_MB=32 puts the driver's coherent memory in the zero-copy window,
# where the overrun lands in window pages instead of the kernel's.
set -u
pciem-nvme --cpu 0 --memory --size 16M --dma-window-mb "${WINDOW_MB:-0}" \
	--ready-file /tmp/ready >/tmp/nvme.log 2>&1 &
pid=$!
i=0
while [ ! -s /tmp/ready ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
addr=$(head -n 1 /tmp/ready)
i=0
while [ ! -b /dev/nvme0n1 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
[ -b /dev/nvme0n1 ] || { echo "no disk: $(cat /tmp/nvme.log)"; exit 1; }
echo "controller at $addr; I/O before the fault:"
dd if=/dev/nvme0n1 of=/dev/null bs=4k count=100 iflag=direct 2>&1 | tail -n 1
echo "every read of CAP's upper half now has bit 35 (CAP.DSTRD bit 3) flipped; resetting"
pciemctl inject "$addr" mmio-flip --region 0:4+4 --param 0x8 || exit 1
echo 1 >/sys/class/nvme/nvme0/reset_controller
sleep 5
echo "I/O after the reset (a queue's doorbells are now where the device has none):"
timeout 20 dd if=/dev/nvme0n1 of=/dev/null bs=4k count=100 iflag=direct 2>&1 | tail -n 1
echo "stopping the model; the driver frees its shadow doorbells with the size it now believes"
kill "$pid"
wait "$pid"
sleep 2
dmesg | grep -E 'nvme|pciem: unmap|written past|BUG|Oops' | tail -n 20
echo "the guest survived this run"
