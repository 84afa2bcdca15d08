#!/bin/sh
# SPDX-License-Identifier: MIT
# What scripts/demo runs inside the guest: an NVMe controller written in C++
# (devices/nvme, pciem-nvme) appears on the PCI bus; the kernel's own nvme
# driver binds to it; nvme-cli, mkfs.ext4 and mount use it like any disk;
# then the model ends and the disk is hot-removed under the driver.
set -e
step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "pciem.ko is loaded; its root bus is empty"
pciemctl info

step "pciem-nvme --memory --size 256M (a userspace NVMe controller, in the background)"
pciem-nvme --memory --size 256M --cpu 0 --ready-file /tmp/ready &
model=$!
while [ ! -s /tmp/ready ]; do sleep 0.1; done
addr=$(head -n 1 /tmp/ready)

step "lspci sees an NVMe controller at $addr, and the stock nvme driver binds"
i=0
while [ ! -b /dev/nvme0n1 ] && [ $i -lt 150 ]; do sleep 0.2; i=$((i + 1)); done
lspci -D -nn -k -s "$addr"
grep -E 'nvme0q' /proc/interrupts

step "nvme list / nvme id-ctrl / nvme smart-log"
nvme list
nvme id-ctrl /dev/nvme0 | grep -E '^(vid|sn|mn|fr|ver|mdts|nn|sgls) '
nvme smart-log /dev/nvme0 | head -n 4

step "mkfs.ext4, mount, write files"
mkfs.ext4 -q -F /dev/nvme0n1
mkdir -p /mnt/disk
mount -t ext4 /dev/nvme0n1 /mnt/disk
echo "hello from a disk that is a C++ program" >/mnt/disk/hello.txt
dd if=/dev/urandom of=/mnt/disk/random.bin bs=1M count=16 2>/dev/null
sum=$(md5sum /mnt/disk/random.bin | cut -d' ' -f1)
df -h /mnt/disk

step "unmount, drop the page cache, mount again, read them back"
umount /mnt/disk
echo 3 >/proc/sys/vm/drop_caches
mount -t ext4 /dev/nvme0n1 /mnt/disk
cat /mnt/disk/hello.txt
[ "$(md5sum /mnt/disk/random.bin | cut -d' ' -f1)" = "$sum" ] && echo "random.bin: 16 MiB read back intact ($sum)"
umount /mnt/disk

step "ending the model hot-removes the disk; the driver lets go"
kill "$model"
wait "$model" || true
sleep 1
lspci -D -s "$addr" | grep . || echo "$addr is gone"
ls /dev/nvme* 2>/dev/null || echo "no /dev/nvme* left"
dmesg | grep -E "nvme|pciem" | tail -n 6
