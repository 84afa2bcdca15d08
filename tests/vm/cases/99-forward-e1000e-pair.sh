# SPDX-License-Identifier: MIT
# needs: 4 CPUs
# Two forwarded e1000e (QEMU's 82574L, each served over vfio-user inside
# the guest and put on the bus by its own pciem-proxy) whose servers are
# joined by a socket netdev: a wire between two NICs. The stock e1000e
# driver binds both; each interface goes into a network namespace of its
# own, so traffic between them leaves through one forwarded NIC and comes
# in through the other. 100 pings pass; 64 MiB sent with nc arrive with
# the same SHA-256; the MSI-X vectors of both count up. Transmit checksum
# offload is off (ethtool): QEMU 7.2's e1000e writes the checksum into the
# driver's TO_DEVICE buffer, which forwarding refuses (docs/findings.md);
# at the end the case turns it on to show exactly that.
#
# e1000e reads registers from its interrupt handler (ICR) and with
# preemption off (statistics under a spinlock, the receive mode under the
# address lock), and two such drivers may do so at once: the CPUs that
# spin meanwhile cannot run the servers and proxies that answer. So the
# case places them as docs/forwarding.md says to ("CPUs for a server"):
# the guest has 4 vCPUs (scripts/check, tests/vm/run --smp 4), the
# interrupts and the traffic go to CPU 0, the servers and proxies to CPUs
# 1-3: three, because the drivers' own work items (e1000e's watchdog reads
# its statistics under a spinlock) run where they were queued, which may
# be a CPU of theirs. (Without that placement, the proxies' slow replies
# and pciem.ko's "waits with preemption off" lines show where the answers
# got stuck.)
. /pciem/tests/vm/lib.sh
. /pciem/tests/vm/forward_lib.sh

ETHTOOL=/pciem/tools/ethtool
PORT=${PAIR_PORT:-47011}
MIB=${PAIR_MIB:-64}
MTU=${PAIR_MTU:-1500}
# QEMU's virtual clock must run (e1000e's link and interrupt-throttling
# timers), so the servers run under TCG: a machine with no CPU, only a
# small translation buffer.
SERVER_ACCEL=tcg,tb-size=16
forward_tools "$ETHTOOL" /pciem/tools/ip
ip() { /pciem/tools/ip "$@"; }

# serve N NETDEV-ARGS: server N (socket /tmp/pair-N.sock, MAC ...:0N), on CPUs 2-3.
serve() {
	n=$1
	shift
	SOCK=/tmp/pair-$n.sock SERVER_LOG=/tmp/pair-server-$n.log FWD_CPU=1-3
	start_server -device e1000e,id=d0,mac=52:54:00:a1:b2:0$n,romfile=,netdev=n0 -netdev "$@"
	eval "SERVER_PID_$n=\$SERVER_PID"
}
# forward N: its proxy, until the function is on the bus (ADDR_N, PROXY_PID_N).
forward() {
	SOCK=/tmp/pair-$1.sock OWNER_LOG=/tmp/pair-proxy-$1.log FWD_CPU=1-3
	start_proxy || return 1
	eval "ADDR_$1=\$(first_addr) PROXY_PID_$1=\$MODEL_PID"
}
# vectors DEV: MSI-X interrupts of DEV's vectors so far, summed over CPUs.
vectors() {
	grep "PCIem-MSI.*$1" /proc/interrupts |
		awk '{ for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i } END { print s + 0 }'
}
stop_pair() {
	for n in 1 2; do
		eval "p=\${PROXY_PID_$n:-} s=\${SERVER_PID_$n:-}"
		[ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
		[ -n "$s" ] && kill "$s" 2>/dev/null && wait "$s" 2>/dev/null
	done
	ip netns del pair1 2>/dev/null
	ip netns del pair2 2>/dev/null
}
show_logs() {
	for f in /tmp/pair-proxy-1.log /tmp/pair-proxy-2.log /tmp/pair-server-1.log /tmp/pair-server-2.log; do
		echo "--- $f"
		tail -n 20 "$f"
	done
}

log_mark
# Interrupts (allocated from here on) and this shell (ip, ping, nc) on
# CPU 0; timers stay where they were armed.
irq_default=$(cat /proc/irq/default_smp_affinity)
echo 1 >/proc/irq/default_smp_affinity || fail "cannot set the default IRQ affinity"
echo 0 >/proc/sys/kernel/timer_migration 2>/dev/null
taskset -p -c 0 $$ >/dev/null || fail "cannot move the case to CPU 0"
ip link set lo up
serve 1 socket,id=n0,listen=127.0.0.1:$PORT
sleep 1
serve 2 socket,id=n0,connect=127.0.0.1:$PORT
if forward 1 && forward 2; then
	for n in 1 2; do
		eval "addr=\$ADDR_$n"
		dev=$(wait_netdev "$addr")
		[ -n "$dev" ] || { fail "e1000e registered no netdev for $addr"; continue; }
		expect_eq "driver of $addr" "$(driver_of "$addr")" e1000e
		eval "DEV_$n=$dev"
		ip netns add pair$n || fail "ip netns add pair$n failed"
		"$ETHTOOL" -K "$dev" tx off >/dev/null || fail "ethtool -K $dev tx off failed"
		ip link set "$dev" netns pair$n || fail "moving $dev to netns pair$n failed"
		ip -n pair$n link set lo up
		ip -n pair$n link set "$dev" mtu "$MTU" || fail "mtu $MTU on $dev failed"
		ip -n pair$n addr add 10.77.0.$n/24 dev "$dev"
		ip -n pair$n link set "$dev" up || fail "ip link set $dev up failed"
	done
	if [ -n "${DEV_1:-}" ] && [ -n "${DEV_2:-}" ]; then
		before1=$(vectors "$DEV_1")
		before2=$(vectors "$DEV_2")
		# the link comes up after autonegotiation (QEMU's timers)
		i=0
		while [ $i -lt 100 ] && ! ip netns exec pair1 ping -c 1 -W 1 10.77.0.2 >/dev/null 2>&1; do
			i=$((i + 1))
		done
		note "first ping answered after $i tries"
		out=$(ip netns exec pair1 ping -c 100 -i 0.05 -W 2 10.77.0.2 2>&1)
		echo "$out" | tail -n 2 | sed 's/^/    /'
		echo "$out" | grep -q '100 packets received' || fail "not all of 100 pings came back"

		head -c $((MIB * 1024 * 1024)) /dev/urandom >/tmp/pair.data
		want=$(sha256sum </tmp/pair.data | cut -d' ' -f1)
		rm -f /tmp/pair.got /tmp/pair.fifo
		# The receiver's input must not end: busybox nc half-closes on
		# its end of input, and the sender stops when its peer does. A
		# FIFO this shell holds open for writing never ends.
		mkfifo /tmp/pair.fifo
		exec 3<>/tmp/pair.fifo
		ip netns exec pair2 nc -l -p 5001 >/tmp/pair.got </tmp/pair.fifo &
		listener=$!
		sleep 1
		t0=$(date +%s)
		ip netns exec pair1 nc -w 5 10.77.0.2 5001 </tmp/pair.data &
		sender=$!
		# progress, and a bound: a stalled link must not hang the suite
		i=0
		while kill -0 "$sender" 2>/dev/null && [ $i -lt 300 ]; do
			sleep 1
			i=$((i + 1))
			[ $((i % 10)) -eq 0 ] && note "$i s: $(($(stat -c %s /tmp/pair.got) / 1048576)) MiB of $MIB arrived"
		done
		if kill -0 "$sender" 2>/dev/null; then
			fail "the transfer did not end within 300 s"
			kill "$sender" 2>/dev/null
		fi
		wait "$sender"
		src=$?
		[ $src -eq 0 ] || fail "the sending nc exited with status $src"
		wait_exit "$listener" 100 || kill "$listener" 2>/dev/null
		wait "$listener" 2>/dev/null
		exec 3>&-
		rm -f /tmp/pair.fifo
		t=$(($(date +%s) - t0))
		got=$(sha256sum </tmp/pair.got | cut -d' ' -f1)
		note "$(stat -c %s /tmp/pair.got) bytes arrived in about $t s"
		expect_eq "SHA-256 of the $MIB MiB that arrived" "$got" "$want"
		rm -f /tmp/pair.data /tmp/pair.got
		after1=$(vectors "$DEV_1")
		after2=$(vectors "$DEV_2")
		note "MSI-X interrupts: $DEV_1 $before1 -> $after1, $DEV_2 $before2 -> $after2"
		[ "$after1" -gt "$before1" ] || fail "$DEV_1's MSI-X vectors did not count up"
		[ "$after2" -gt "$before2" ] || fail "$DEV_2's MSI-X vectors did not count up"

		# The finding, on purpose: with transmit checksum offload back on,
		# the first TCP segment makes server 1 store its checksum into the
		# driver's TO_DEVICE buffer; confinement ends that server (SIGBUS,
		# the sanitizer's lines), its proxy says so, the function goes.
		ip netns exec pair1 "$ETHTOOL" -K "$DEV_1" tx on >/dev/null || fail "ethtool -K $DEV_1 tx on failed"
		ip netns exec pair1 nc -w 2 10.77.0.2 5002 </dev/null >/dev/null 2>&1
		if wait_exit "$SERVER_PID_1" 100; then
			log_since | grep -q "device server qemu-system-x86\[$SERVER_PID_1\] wrote its DMA window" ||
				fail "no line naming server 1's write to its DMA window"
			log_since | grep -q "refused: against the mapping's direction" ||
				fail "no sanitizer line on a write against the mapping's direction"
			SERVER_PID_1=""
			MODEL_PID=$PROXY_PID_1 OWNER_LOG=/tmp/pair-proxy-1.log
			proxy_gone "server 1 ended by SIGBUS" "$ADDR_1"
			PROXY_PID_1=""
		else
			fail "server 1 still runs after a checksum-offloaded TCP segment"
		fi
	fi
	# what the proxies had to say beyond their notes (slow replies)
	grep -h "pciem-proxy:" /tmp/pair-proxy-1.log /tmp/pair-proxy-2.log |
		grep -v "^pciem-proxy: note:\| as 10000:" | head -n 10
	if [ "$FAILED" -ne 0 ]; then
		show_logs
		dmesg | grep -i 'e1000e' | tail -n 20
		ip -n pair1 -s link show "${DEV_1:-none}"
		ip -n pair2 -s link show "${DEV_2:-none}"
	fi
fi
stop_pair
echo "$irq_default" >/proc/irq/default_smp_affinity
echo 1 >/proc/sys/kernel/timer_migration 2>/dev/null
for n in 1 2; do
	eval "addr=\${ADDR_$n:-}"
	[ -z "$addr" ] || wait_gone "$addr" || fail "$addr still there after its proxy stopped"
done
# No read went unanswered: one that times out hands the driver all-ones
# (which e1000e writes back into RCTL), so placement that leaves the
# servers and proxies a CPU must show none of pciem.ko's lines about it.
# A read that waited past 100 ms and was answered is slow, not wrong:
# pciem.ko's line about it is shown, not failed on (e1000e's watchdog,
# queued where the probe ran, may read from a server's CPU now and then).
stuck=$(log_since | grep "not answered within\|refused at once")
[ -z "$stuck" ] || { echo "$stuck" | head -n 5; fail "reads went unanswered: servers and proxies kept off every CPU"; }
slow=$(log_since | grep "waits with preemption off\|whose thread")
[ -z "$slow" ] || { echo "note: reads that waited, answered in the end:"; echo "$slow" | head -n 3; }
log_clean "forwarded e1000e pair"
finish
