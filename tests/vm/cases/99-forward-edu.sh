# SPDX-License-Identifier: MIT
# Forwarding (tools/pciem-proxy) of QEMU's edu device, served over
# vfio-user inside the guest: drivers/pciem_mmio_test binds to it as it
# does to edu on QEMU's own bus, and its edu tests pass through the proxy
# (every accessor width, the liveness register, rep movs); the factorial
# engine computes 5! through the driver's trapped mapping; edu's MSI
# arrives (the server signals PCIem's irqfd); its INTx arrives, level-
# triggered (the server's eventfd raises PCIem's line, the proxy lowers it
# once the driver's ack cleared edu's Interrupt Status), Interrupt Disable
# gating it in pciem.ko. edu is given an option ROM (romfile=): the
# function shows it as its expansion ROM in lspci, and the PCI core reads
# back through sysfs `rom` exactly the image's bytes (the ROM BAR enabled,
# its reads trapped and forwarded as reads of the server's ROM region);
# a store into the enabled ROM ends in pciem.ko and changes nothing.
# Then the server is killed with the driver bound: the function goes, the
# kernel log stays clean.
. /pciem/tests/vm/lib.sh

DBG=/sys/kernel/debug/pciem_mmio_test
# Server and proxy on CPU 0 (model_cpu), this script and so the driver's
# tests on CPU 1, where pciem_mmio_test also puts the edu handlers, which
# read the device: a read in a handler waits for the proxy, which must
# have a CPU of its own.
FWD_CPU=0
taskset -p -c 1 $$ >/dev/null
. /pciem/tests/vm/forward_lib.sh
EDU_FACT=0x08
EDU_STATUS=0x20

forward_tools
modprobe pciem_mmio_test model_cpu=0 || { fail "modprobe pciem_mmio_test failed"; finish; }

# reg DIR OFFSET [VALUE]: a 32-bit register through the driver's mapping
# (debugfs `reg`); prints what a read returned.
reg() {
	echo "$2${3:+ $3}" >"$1/reg" && cat "$1/reg"
}

# make_rom FILE: a 4 KiB option ROM image as the PCI core parses one
# (signature 55 AA, length in 512-byte units at 2, the "PCIR" data
# structure at 0x20 naming edu, one last image of 8 units), random bytes
# after its headers, so that a readback proves every byte came through.
make_rom() {
	head -c 4096 /dev/urandom >"$1"
	{
		printf '\125\252\010'
		dd if="$1" bs=1 skip=3 count=21 2>/dev/null
		printf '\040\000'                                  # 0x18: PCIR at 0x20
		dd if="$1" bs=1 skip=26 count=6 2>/dev/null
		printf 'PCIR\064\022\350\021\000\000\030\000' # vendor 1234, device 11e8, length 24
		printf '\000\000\377\000\010\000\000\000\000\200' # class 00ff00, 8 units, last image
		dd if="$1" bs=1 skip=54 2>/dev/null
	} >"$1.new" && mv "$1.new" "$1"
}
ROM=/tmp/edu.rom
make_rom "$ROM"

# rom_write: a store into the enabled ROM (the driver's edu-rom-write:
# pci_map_rom(), writel() of the dword at 0x100 inverted, readl()) ends in
# pciem.ko, as on hardware a ROM ignores writes: the driver reads back the
# old dword, the trace says the kernel answered the write (not the model,
# so it never reached the server), and sysfs `rom` still reads back the
# image's bytes.
rom_write() {
	tracefs=/sys/kernel/tracing
	want=$(od -An -tx4 -j 256 -N 4 "$ROM" | tr -d ' ')
	written=$(printf '0x%x' $((~0x$want & 0xffffffff)))
	read_back=$(printf '0x%x' $((0x$want)))
	echo 'bar == 6' >$tracefs/events/pciem/pciem_mmio/filter
	echo 1 >$tracefs/events/pciem/pciem_mmio/enable
	echo >$tracefs/trace
	run_suite "$dir" run edu-rom-write 1
	echo 0 >$tracefs/events/pciem/pciem_mmio/enable
	echo 0 >$tracefs/events/pciem/pciem_mmio/filter
	grep -q "mmio write BAR6+0x100/4 = $written .* kernel " $tracefs/trace ||
		{ cat $tracefs/trace; fail "the ROM write ($written) was not ended in pciem.ko"; }
	grep -q "mmio read BAR6+0x100/4 = $read_back .* model " $tracefs/trace ||
		{ cat $tracefs/trace; fail "the ROM read after the write was not the model's $read_back"; }
	echo >$tracefs/trace
	echo 1 >"$sys/rom"
	cat "$sys/rom" >/tmp/rom.back || fail "reading $sys/rom after the write failed"
	echo 0 >"$sys/rom"
	expect_eq "ROM bytes after the write" "$(cmp "$ROM" /tmp/rom.back && echo same)" same
}

log_mark
start_server -device edu,id=d0,romfile=$ROM
if start_proxy; then
	addr=$(first_addr)
	dir=$DBG/$addr
	note "forwarded edu at $addr"
	expect_eq "IDs of $addr" "$(cat "$(sysfs_dev "$addr")/vendor"):$(cat "$(sysfs_dev "$addr")/device")" "0x1234:0x11e8"
	expect_eq "class of $addr" "$(cat "$(sysfs_dev "$addr")/class")" 0x00ff00
	if wait_dir "$dir"; then
		expect_eq "driver of $addr" "$(driver_of "$addr")" pciem_mmio_test
		run_suite "$dir" run "edu-read edu-write edu-asm" 3

		# edu's factorial engine: write N to 0x08, Status bit 0 is set
		# while it computes, then 0x08 holds N!.
		reg "$dir" $EDU_FACT 5 >/dev/null
		i=0
		while [ $(($(reg "$dir" $EDU_STATUS) & 1)) -ne 0 ] && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		expect_eq "5! from edu's factorial register" "$(reg "$dir" $EDU_FACT)" 0x00000078

		run_suite "$dir" irq msi 1
		run_suite "$dir" irq intx 1

		# The expansion ROM: shown, and read back byte for byte.
		rom_line=$(lspci -vv -s "$addr" | grep "Expansion ROM")
		note "lspci: $rom_line"
		echo "$rom_line" | grep -Eq 'Expansion ROM at [0-9a-f]+ .*\[size=4K\]' ||
			fail "lspci shows no 4 KiB expansion ROM: '$rom_line'"
		sys=$(sysfs_dev "$addr")
		echo 1 >"$sys/rom"
		if cat "$sys/rom" >/tmp/rom.back; then
			expect_eq "ROM bytes read back" "$(cmp "$ROM" /tmp/rom.back && echo same)" same
		else
			fail "reading $sys/rom failed"
		fi
		echo 0 >"$sys/rom"
		expect_eq "the ROM is disabled again" \
			"$(($(setpci -s "$addr" ROM_ADDRESS.L) & 1))" 0
		rom_write

		# The server dies with the driver bound.
		kill -KILL "$SERVER_PID"
		wait "$SERVER_PID" 2>/dev/null
		proxy_gone "server killed" "$addr" "closed"
	else
		fail "pciem_mmio_test did not bind to $addr"
		cat "$OWNER_LOG"
	fi
	stop_all
fi
log_clean "forwarded edu"
finish
