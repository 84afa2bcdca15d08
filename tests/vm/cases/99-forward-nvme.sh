# SPDX-License-Identifier: MIT
# Forwarding (tools/pciem-proxy): QEMU's own nvme model, served over
# vfio-user by QEMU's x-vfio-user-server inside the guest, put on the PCIem
# bus by pciem-proxy. The stock nvme driver binds with MSI-X and the disk
# works (id-ctrl is QEMU's, fio verifies 4k-128k writes at QD16 with two
# jobs, ext4 made, mounted, written, read back); an FLR from sysfs
# resets the server's device and I/O goes on; the
# data survives a restart of server and proxy on the same backing file.
# Then the server is killed with SIGKILL under I/O: the proxy says why
# and exits, the function is removed, the I/O fails rather than hangs and
# the kernel log stays clean. The same with the proxy SIGKILLed.
. /pciem/tests/vm/lib.sh
. /pciem/tests/vm/nvme_lib.sh
. /pciem/tests/vm/forward_lib.sh

SOCK=/tmp/fwd-nvme.sock
IMG=/tmp/fwd-nvme.img
forward_tools "$(command -v nvme)"
nvme_server() {
	start_server -device nvme,id=d0,serial=PCIEMFWD,drive=img \
		-drive id=img,if=none,file="$IMG",format=raw
}

log_mark
dd if=/dev/zero of="$IMG" bs=1M count=64 2>/dev/null
nvme_server
if start_proxy; then
	addr=$(first_addr)
	note "forwarded function at $addr"
	expect_eq "IDs of $addr" "$(cat "$(sysfs_dev "$addr")/vendor"):$(cat "$(sysfs_dev "$addr")/device")" "0x1b36:0x0010"
	expect_eq "class of $addr" "$(cat "$(sysfs_dev "$addr")/class")" 0x010802
	pciemctl list | grep "$addr" | grep -q "vfio-user:$SOCK" ||
		{ pciemctl list; fail "pciemctl list does not show the server socket"; }
	dev=$(disk_of PCIEMFWD)
	if [ -n "$dev" ]; then
		expect_eq "driver of $addr" "$(driver_of "$addr")" nvme
		lspci -vvv -s "$addr" | grep -q 'MSI-X: Enable+' ||
			{ lspci -vvv -s "$addr"; fail "lspci shows no enabled MSI-X"; }
		grep -q 'PCIem-MSI.*nvme0q0' /proc/interrupts || fail "the admin queue has no PCIem MSI-X vector"
		ctrl=$(nvme id-ctrl "${dev%n1}")
		expect_eq "id-ctrl vid" "$(echo "$ctrl" | sed -n 's/^vid *: //p')" 0x1b36
		echo "$ctrl" | grep -q '^mn *: QEMU NVMe Ctrl' ||
			{ echo "$ctrl" | head -n 12; fail "id-ctrl does not name QEMU's controller"; }
		# fio on the raw disk first (each job its own 8 MiB), then the
		# filesystem whose file must outlive a restart
		fio_dev=$dev
		fio_verify fwd-randwrite --rw=randwrite --bsrange=4k-128k --iodepth=16 --numjobs=2 \
			--size=8M --offset_increment=8M --group_reporting
		# An FLR from sysfs (the nvme driver's reset_prepare and
		# reset_done around it): the server's device is reset too and
		# comes back with its BARs and MSI-X wired, so I/O goes on.
		if echo 1 >"$(sysfs_dev "$addr")/reset"; then
			grep -q "the driver reset the function: the server's device was reset" \
				"$OWNER_LOG" || { cat "$OWNER_LOG"; fail "the FLR did not reach the server"; }
			fio_verify fwd-after-flr --rw=randwrite --bs=4k --iodepth=16 --size=4M
		else
			fail "the sysfs reset of $addr failed"
		fi
		ext4_round_trip "$dev" /mnt/fwd /tmp/fwd-ref
	else
		fail "no namespace of serial PCIEMFWD appeared"
		cat "$OWNER_LOG"
		dmesg | tail -n 30
	fi
	stop_all
	wait_gone "$addr" || fail "$addr still there after the proxy stopped"

	# The same disk again: a new server and proxy on the same file.
	nvme_server
	if start_proxy; then
		addr=$(first_addr)
		dev=$(disk_of PCIEMFWD)
		if [ -n "$dev" ] && mount -t ext4 "$dev" /mnt/fwd; then
			cmp -s /tmp/fwd-ref /mnt/fwd/big || fail "the data did not survive a restart"
			umount /mnt/fwd
		else
			fail "the disk did not come back after a restart"
		fi
		# The server dies under I/O.
		dd if="$dev" of=/dev/null bs=64k iflag=direct 2>/dev/null &
		io=$!
		sleep 1
		kill -KILL "$SERVER_PID"
		wait "$SERVER_PID" 2>/dev/null
		proxy_gone "server killed" "$addr"
		wait_exit "$io" 300 || fail "I/O to the dead disk hangs"
		kill "$io" 2>/dev/null
	fi
	# The proxy killed with SIGKILL under I/O: the same removal, and the
	# server, disconnected, exits.
	nvme_server
	if start_proxy; then
		addr=$(first_addr)
		dev=$(disk_of PCIEMFWD)
		dd if="$dev" of=/dev/null bs=64k iflag=direct 2>/dev/null &
		io=$!
		sleep 1
		stop_model KILL
		wait_gone "$addr" || fail "$addr still there after its proxy was killed"
		wait_exit "$io" 300 || fail "I/O to the disk of a killed proxy hangs"
		kill "$io" 2>/dev/null
		wait_exit "$SERVER_PID" 100 || fail "the server did not exit when its proxy died"
	fi
fi
kill "$SERVER_PID" 2>/dev/null
log_clean "forwarded nvme"
finish
