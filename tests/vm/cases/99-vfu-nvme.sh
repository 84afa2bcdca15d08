# SPDX-License-Identifier: MIT
# The third host (VfioUserHost): PCIem's own NVMe model served over
# vfio-user (`pciem-nvme --vfio-user SOCK`, no /dev/pciem in that process)
# and put on the PCIem bus by pciem-proxy, PCIem's vfio-user client. The
# stock nvme driver binds with MSI-X, nvme-cli sees the model, fio
# verifies 4k-128k writes at QD16 with two jobs, ext4 is made, written and
# read back. The proxy killed with SIGKILL: the function goes, the server
# stays and takes the next proxy, and the data is still there. Then the
# server stopped: the proxy says why and exits 1, the function is gone.
# The kernel log stays clean.
. /pciem/tests/vm/lib.sh
. /pciem/tests/vm/nvme_lib.sh

SOCK=/tmp/vfu-nvme.sock
SERIAL=PCIEMVFU
for t in nvme mkfs.ext4 fio pciem-nvme pciem-proxy; do
	command -v "$t" >/dev/null || { fail "$t is not in the guest (pciem-vm --nvme-tools)"; finish; }
done

# start_server: the model as a vfio-user server; SERVER_PID.
start_server() {
	ready=/tmp/vfu-server.ready
	rm -f "$ready"
	pciem-nvme --memory --size 64M --serial "$SERIAL" --vfio-user "$SOCK" \
		--ready-file "$ready" >/tmp/vfu-server.log 2>&1 &
	SERVER_PID=$!
	wait_for 200 -s "$ready" || { cat /tmp/vfu-server.log; fail "the server did not start"; return 1; }
	expect_eq "the server's ready file" "$(cat "$ready")" "$SOCK"
}

start_proxy() {
	start_owner "pciem-proxy" pciem-proxy --socket "$SOCK" --ready-file @READY@
}

log_mark
if start_server && start_proxy; then
	addr=$(first_addr)
	note "served function at $addr"
	expect_eq "IDs of $addr" "$(cat "$(sysfs_dev "$addr")/vendor"):$(cat "$(sysfs_dev "$addr")/class")" \
		"0x1b36:0x010802"
	pciemctl list | grep "$addr" | grep -q "vfio-user:$SOCK" ||
		{ pciemctl list; fail "pciemctl list does not show the server socket"; }
	dev=$(disk_of $SERIAL)
	if [ -n "$dev" ]; then
		expect_eq "driver of $addr" "$(driver_of "$addr")" nvme
		lspci -vvv -s "$addr" | grep -q 'MSI-X: Enable+' ||
			{ lspci -vvv -s "$addr"; fail "lspci shows no enabled MSI-X"; }
		grep -q 'PCIem-MSI.*nvme0q0' /proc/interrupts || fail "the admin queue has no PCIem MSI-X vector"
		ctrl=$(nvme id-ctrl "${dev%n1}")
		echo "$ctrl" | grep -q '^mn *: PCIem NVMe Controller' ||
			{ echo "$ctrl" | head -n 12; fail "id-ctrl does not name the PCIem model"; }
		fio_dev=$dev
		fio_verify vfu-randwrite --rw=randwrite --bsrange=4k-128k --iodepth=16 --numjobs=2 \
			--size=8M --offset_increment=8M --group_reporting
		ext4_round_trip "$dev" /mnt/vfu /tmp/vfu-ref
	else
		fail "no namespace of serial $SERIAL appeared"
		cat "$OWNER_LOG" /tmp/vfu-server.log
		dmesg | tail -n 30
	fi

	# The proxy killed: its function goes, the server waits for the next
	# client, which finds the same disk.
	stop_model KILL
	wait_gone "$addr" || fail "$addr still there after its proxy was killed"
	kill -0 "$SERVER_PID" 2>/dev/null || fail "the server exited when its client died"
	if start_proxy; then
		addr=$(first_addr)
		dev=$(disk_of $SERIAL)
		if [ -n "$dev" ] && mount -t ext4 "$dev" /mnt/vfu; then
			cmp -s /tmp/vfu-ref /mnt/vfu/big || fail "the data did not survive a new client"
			umount /mnt/vfu
		else
			fail "the disk did not come back for the next client"
		fi
		# The server stopped: the proxy sees the hang-up and removes the function.
		kill "$SERVER_PID"
		wait "$SERVER_PID"
		expect_eq "server exit status on SIGTERM" "$?" 0
		wait_exit "$MODEL_PID" 100 || fail "the proxy did not exit after its server stopped"
		wait "$MODEL_PID"
		expect_eq "proxy exit status after its server stopped" "$?" 1
		wait_gone "$addr" || fail "$addr still there after its server stopped"
		grep -q "2 clients" /tmp/vfu-server.log ||
			{ cat /tmp/vfu-server.log; fail "the server did not count its two clients"; }
	fi
fi
kill "$SERVER_PID" 2>/dev/null
log_clean "nvme over vfio-user"
finish
