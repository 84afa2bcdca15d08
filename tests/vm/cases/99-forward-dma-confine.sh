# SPDX-License-Identifier: MIT
# Forwarding (tools/pciem-proxy) keeps a device server's DMA to the
# driver's live mappings (PCIEM_DMA_WINDOW_FD_F_CONFINED). The server is
# tests/vfio_user's pciem-vfu-bad-server --dma-probe, which reads or writes
# its DMA region wherever the driver's BAR writes point it, unchecked; the
# driver is pciem_mmio_test (bound by new_id as an edu-like device), whose
# debugfs `dmabuf` maps a page by hand and `reg` reaches BAR registers.
# - a live TO_DEVICE mapping: the server reads the driver's bytes; its
#   write there is against the direction: SIGBUS, the sanitizer's line.
# - a page no mapping ever covered: SIGBUS, "no mapping there".
# - a FROM_DEVICE mapping: the server's write reaches the driver; after the
#   unmap the server's read of it is refused ("the mapping was unmapped";
#   the zap is lazy, so the case reads until it is, 10 s at most).
# Each time the proxy exits naming the closed connection, the function is
# removed, and the kernel log has no report.
. /pciem/tests/vm/lib.sh
. /pciem/tests/vm/forward_lib.sh

DBG=/sys/kernel/debug/pciem_mmio_test
WINDOW=$((0x10000000))	# pciem.ko's window bus base (kernel/pciem_dma_window.c)
command -v pciem-vfu-bad-server >/dev/null || { fail "pciem-vfu-bad-server is not in PATH"; finish; }
forward_tools
modprobe pciem_mmio_test || { fail "modprobe pciem_mmio_test failed"; finish; }
# driver_data 1: PMT_EDU (needs 256 bytes of BAR 0, no testdev registers)
echo "1b36 0005 ffffffff ffffffff 0 0 1" >/sys/bus/pci/drivers/pciem_mmio_test/new_id ||
	{ fail "new_id for 1b36:0005 refused"; finish; }

# session: the probing server and the proxy; ADDR and DIR of the function.
session() {
	pciem-vfu-bad-server --socket "$SOCK" --dma-probe >/tmp/fwd-server.log 2>&1 &
	SERVER_PID=$!
	start_proxy || return 1
	ADDR=$(first_addr)
	DIR=$DBG/$ADDR
	wait_dir "$DIR" || { fail "pciem_mmio_test did not bind to $ADDR"; return 1; }
}

# probe BUS CMD [DATA]: the server's command CMD (1 read, 2 write DATA) at
# bus address BUS; prints the data register afterwards (all-ones once the
# server is gone).
probe() {
	echo "0 $(($1 & 0xffffffff))" >"$DIR/reg"
	echo "4 $(($1 >> 32))" >"$DIR/reg"
	echo "12 ${3:-0}" >"$DIR/reg"
	echo "8 $2" >"$DIR/reg"
	echo 12 >"$DIR/reg" 2>/dev/null && cat "$DIR/reg" 2>/dev/null
}

# stopped WHAT BUS VERB REASON: the server died of SIGBUS touching BUS,
# the proxy and the function went, and the kernel said why.
stopped() {
	wait_exit "$SERVER_PID" 100 || fail "$1: the server still runs"
	wait "$SERVER_PID"
	expect_eq "$1: the server's exit status (128 + SIGBUS)" "$?" 135
	proxy_gone "$1" "$ADDR" "server"	# closed the socket, or reset it
	bus=$(printf '%#x' "$2")
	log_since | grep -q "device server pciem-vfu-bad-.*\[[0-9]*\] $3 its DMA window at bus address $bus, which the driver's live mappings do not allow: SIGBUS" ||
		fail "$1: no kernel line naming the server's access at $bus"
	# with the call chain that mapped the page (dma_trace_depth, below)
	log_since | grep -q "DMA $4 of 1 bytes at $bus refused: $5 .*mapped by .*dmabuf" ||
		{ log_since | tail -n 5; fail "$1: no sanitizer line saying '$5' and who mapped"; }
	stop_all
}

echo 6 >/sys/module/pciem/parameters/dma_trace_depth	# the mappings' call chains
# The sanitizer's lines are rate-limited (20 per 5 s, all functions
# together): a case just before (95-dma, in the IOMMU lane) may have used
# up the window, and this case's three lines would be dropped. Let it pass.
sleep 6
log_mark
note "--- a live TO_DEVICE mapping: read, then a write against its direction"
if session; then
	echo "map to" >"$DIR/dmabuf" || fail "map to"
	bus=$(cut -d' ' -f1 "$DIR/dmabuf")
	expect_eq "the server reads the driver's page" "$(probe "$bus" 1)" 0xa5a5a5a5
	probe "$bus" 2 0x600d >/dev/null
	stopped direction "$bus" wrote write "against the mapping's direction"
else
	stop_all
fi

note "--- a page no mapping covered"
if session; then
	echo "map to" >"$DIR/dmabuf" || fail "map to"	# bus mastering on
	bus=$((WINDOW + 48 * 1024 * 1024))
	probe "$bus" 1 >/dev/null
	stopped never-mapped "$bus" read read "no mapping there"
else
	stop_all
fi

note "--- a FROM_DEVICE mapping: written, then unmapped"
if session; then
	echo "map from" >"$DIR/dmabuf" || fail "map from"
	bus=$(cut -d' ' -f1 "$DIR/dmabuf")
	probe "$bus" 2 0x12345678 >/dev/null
	expect_eq "the driver sees the server's write" "$(cut -d' ' -f2 "$DIR/dmabuf")" 0x12345678
	echo unmap >"$DIR/dmabuf"
	i=0
	while kill -0 "$SERVER_PID" 2>/dev/null && [ $i -lt 100 ]; do
		probe "$bus" 1 >/dev/null
		sleep 0.1
		i=$((i + 1))
	done
	stopped after-unmap "$bus" read read "the mapping was unmapped"
else
	stop_all
fi

echo "1b36 0005" >/sys/bus/pci/drivers/pciem_mmio_test/remove_id 2>/dev/null
echo 0 >/sys/module/pciem/parameters/dma_trace_depth
log_clean "a forwarded server confined to the driver's DMA mappings"
finish
