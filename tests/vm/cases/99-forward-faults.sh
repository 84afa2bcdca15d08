# SPDX-License-Identifier: MIT
# Forwarding (tools/pciem-proxy) with a server that fails after the
# function exists and its driver is bound: tests/vfio_user's
# pciem-vfu-bad-server serves a small device (1b36:0005, 4 KiB BAR) well,
# then answers the driver's first BAR read with garbage, with silence past
# the proxy's reply timeout, or with half a reply and a hang-up. Each
# time: the read completes (all-ones), the proxy exits 1 naming the fault,
# the function is surprise-removed and its driver's remove() runs, and the
# kernel log stays clean. The driver is pciem_mmio_test, bound by new_id
# as an edu-like device, whose debugfs `reg` file reads a BAR register.
. /pciem/tests/vm/lib.sh
. /pciem/tests/vm/forward_lib.sh

DBG=/sys/kernel/debug/pciem_mmio_test
command -v pciem-vfu-bad-server >/dev/null || { fail "pciem-vfu-bad-server is not in PATH"; finish; }
forward_tools
modprobe pciem_mmio_test || { fail "modprobe pciem_mmio_test failed"; finish; }
# driver_data 1: PMT_EDU (needs 256 bytes of BAR 0, no testdev registers)
echo "1b36 0005 ffffffff ffffffff 0 0 1" >/sys/bus/pci/drivers/pciem_mmio_test/new_id ||
	{ fail "new_id for 1b36:0005 refused"; finish; }

log_mark
# fault WORDS: the fault, then what the proxy's message must contain
for spec in "garbage:more than the .* allowed" "silence:did not answer" "disconnect:closed"; do
	fault=${spec%%:*}
	words=${spec#*:}
	note "--- $fault"
	pciem-vfu-bad-server --socket "$SOCK" --fault "$fault" --on region-read --bar-only \
		>/tmp/fwd-server.log 2>&1 &
	SERVER_PID=$!
	if ! start_proxy --reply-timeout-ms 300; then
		stop_all
		continue
	fi
	addr=$(first_addr)
	dir=$DBG/$addr
	if wait_dir "$dir"; then
		expect_eq "$fault: driver of $addr" "$(driver_of "$addr")" pciem_mmio_test
		# The read completes; its value, all-ones, can be fetched unless
		# the removal already took the driver's debugfs files with it.
		if echo 0 >"$dir/reg"; then
			v=$(cat "$dir/reg" 2>/dev/null)
			[ -z "$v" ] || expect_eq "$fault: the read that met the fault" "$v" 0xffffffff
		else
			fail "$fault: the read that met the fault failed"
		fi
		proxy_gone "$fault" "$addr" "$words"
	else
		fail "$fault: pciem_mmio_test did not bind to $addr"
		cat "$OWNER_LOG"
	fi
	stop_all
done
echo "1b36 0005" >/sys/bus/pci/drivers/pciem_mmio_test/remove_id 2>/dev/null
log_clean "faults after the function exists"
finish
