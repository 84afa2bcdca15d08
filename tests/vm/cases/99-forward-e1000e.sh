# SPDX-License-Identifier: MIT
# Forwarding (tools/pciem-proxy) of QEMU's e1000e (82574L), served over
# vfio-user inside the guest: the stock e1000e driver probes it through
# the proxy (EEPROM checksum, the MAC QEMU was given, PHY), takes MSI-X,
# registers a netdev that `ip link` shows with that MAC, and brings it up
# (descriptor rings in the DMA window, the server reaching them); then the
# server is killed with the interface up: the function goes, the netdev
# with it, the kernel log stays clean. (BAR 2, an I/O BAR, is left out
# with a note: e1000e does not use it. The server runs without the option
# ROM, romfile=, which the guest does not have.)
. /pciem/tests/vm/lib.sh
. /pciem/tests/vm/forward_lib.sh

MAC=52:54:00:a1:b2:c3
forward_tools

log_mark
start_server -device e1000e,id=d0,mac=$MAC,romfile=
if start_proxy; then
	addr=$(first_addr)
	note "forwarded e1000e at $addr"
	expect_eq "IDs of $addr" "$(cat "$(sysfs_dev "$addr")/vendor"):$(cat "$(sysfs_dev "$addr")/device")" "0x8086:0x10d3"
	grep -q "note: .*BAR 2" "$OWNER_LOG" || { cat "$OWNER_LOG"; fail "no note on the I/O BAR left out"; }
	dev=$(wait_netdev "$addr")
	if [ -n "$dev" ]; then
		expect_eq "driver of $addr" "$(driver_of "$addr")" e1000e
		expect_eq "MAC of $dev" "$(cat /sys/class/net/"$dev"/address)" $MAC
		ip link show "$dev" | grep -q "$MAC" || { ip link show "$dev"; fail "ip link does not show $MAC"; }
		lspci -vvv -s "$addr" | grep -q 'MSI-X: Enable+' ||
			{ lspci -vvv -s "$addr"; fail "lspci shows no enabled MSI-X"; }
		if ip link set "$dev" up; then
			sleep 1
			note "$dev: operstate $(cat /sys/class/net/"$dev"/operstate), carrier $(cat /sys/class/net/"$dev"/carrier 2>/dev/null)"
			ip addr add 10.99.0.1/24 dev "$dev" || fail "ip addr add on $dev failed"
			grep -q "PCIem-MSI.*$dev" /proc/interrupts ||
				{ grep PCIem /proc/interrupts; fail "no PCIem MSI-X vector named after $dev"; }
		else
			fail "ip link set $dev up failed"
		fi
		# The server dies with the interface up.
		kill -KILL "$SERVER_PID"
		wait "$SERVER_PID" 2>/dev/null
		proxy_gone "server killed" "$addr"
		wait_for 50 ! -e /sys/class/net/"$dev" || fail "$dev still there after its function went"
	else
		fail "e1000e registered no netdev for $addr"
		cat "$OWNER_LOG"
		dmesg | grep -i e1000e | tail -n 20
	fi
	stop_all
fi
log_clean "forwarded e1000e"
finish
