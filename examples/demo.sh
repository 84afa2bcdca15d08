#!/bin/sh
# SPDX-License-Identifier: MIT
# What scripts/demo runs inside the guest: create a PCIem device from a
# spec file, look at it the way you would look at hardware, bind a stock
# driver to it, then end the model and watch the device go away.
set -e
step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "pciem.ko is loaded; its root bus is empty"
pciemctl info

step "pciemctl run examples/nic-like.json (in the background)"
pciemctl run --ready-file /tmp/ready /pciem/examples/nic-like.json &
model=$!
while [ ! -s /tmp/ready ]; do sleep 0.1; done
addr=$(head -n 1 /tmp/ready)

step "lspci sees a PCIe device at $addr"
lspci -D -nn | grep "$addr"
lspci -D -vvv -s "$addr"

step "a stock driver binds to it (pci-stub, through new_id)"
echo "1b36 7e01" >/sys/bus/pci/drivers/pci-stub/new_id
lspci -D -k -s "$addr"
pciemctl list

step "ending the model hot-removes the device; the driver lets go"
kill "$model"
wait "$model" || true
lspci -D -s "$addr" | grep . || echo "$addr is gone"
dmesg | grep -E "$addr|pciem" | tail -n 8
