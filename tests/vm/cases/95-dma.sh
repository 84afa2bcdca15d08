# SPDX-License-Identifier: MIT
# DMA through PCIem's own DMA mapping operations, driven by the ordinary DMA
# API in drivers/pciem_mmio_test (debugfs file `dma`): the test device's
# copy, fill and checksum engines over coherent, single and scatter-gather
# mappings from 1 byte to 4 MiB, 32-bit masks, PCIe atomics against
# concurrent CPU increments; and the DMA sanitizer: after unmap, one byte
# out of bounds, wrong direction, bus mastering off, never mapped, each
# refused with host memory untouched and a kernel log line that names the
# mapping and where it was made (and unmapped). All of it again with a
# zero-copy DMA window, and the engines reaching into the window directly.
. /pciem/tests/vm/lib.sh

MIN_TESTS=13	# tests `all` runs today; fewer means some were lost
DBG=/sys/kernel/debug/pciem_mmio_test

# expect_log WHAT REGEX: a line since the mark matches.
expect_log() {
	if log_since | grep -qE "$2"; then
		note "ok: log line for $1"
	else
		log_since | grep 'DMA' | tail -n 5
		fail "no kernel log line for $1 (want /$2/)"
	fi
}

command -v pciem-testdev >/dev/null || { fail "pciem-testdev is not in PATH (devices/testdev not built?)"; finish; }
modprobe pciem_mmio_test model_cpu=0 || { fail "modprobe pciem_mmio_test failed"; finish; }
note "kernel command line: $(cat /proc/cmdline)"
[ -d /sys/class/iommu ] && note "IOMMUs: $(ls /sys/class/iommu | tr '\n' ' ')"
# Call chains cost every I/O, so they are recorded only when asked for; the
# reports below name the mapping function, so this case asks.
depth=/sys/module/pciem/parameters/dma_trace_depth
expect_eq "default dma_trace_depth" "$(cat $depth)" 0
echo 6 >$depth

log_mark
if start_testdev; then
	addr=$(first_addr)
	dir=$DBG/$addr
	if wait_dir "$dir"; then
		run_suite_all "$dir" dma "$MIN_TESTS"
		# what PCIem counted: every refusal above, no mapping left behind
		line=$(grep "^$addr:" /sys/kernel/debug/pciem/dma)
		note "debugfs: $line"
		refused=$(echo "$line" | sed -n 's/.* \([0-9]*\) refused.*/\1/p')
		# ten refusals by the negative tests, and the FILLs an unmap cut
		cut=$(echo "$out" | sed -n 's/^PASS unmap-mid-write (\([0-9]*\) of .*/\1/p')
		expect_eq "refused DMA accesses counted" "$refused" $((10 + ${cut:-0}))
		expect_eq "coherent buffers written past their end (bad-calls)" \
			"$(echo "$line" | sed -n 's/.* \([0-9]*\) written past.*/\1/p')" 1
		expect_eq "mappings still live after the tests" \
			"$(sed -n "/^$addr:/,/^[^ ]/p" /sys/kernel/debug/pciem/dma | grep -c '^  0x')" 0
	else
		fail "$dir did not appear"
	fi
	stop_model
	wait_gone "$addr" || fail "$addr still present after the model exited"
fi
# The same with a zero-copy window: every test on the checked path (which
# still checks window mappings), then the engines touching the window.
note "--- with a 64 MiB zero-copy DMA window"
if start_testdev --dma-window-mb 64; then
	addr=$(first_addr)
	dir=$DBG/$addr
	if wait_dir "$dir"; then
		run_suite_all "$dir" dma "$MIN_TESTS"
		run_suite "$dir" dma direct 1
		run_suite "$dir" dma direct-checked 1
	else
		fail "$dir did not appear"
	fi
	stop_model
	wait_gone "$addr" || fail "$addr still present after the model exited"
fi
# A window that bounces nothing: coherent memory in it (the engines reach
# it directly), streaming mappings outside it, still checked (the misuse
# tests must be refused exactly as without a window). With no call chains
# recorded (dma_trace_depth=0): the same refusals, reports say "mapped by ?".
note "--- with a 64 MiB DMA window that bounces nothing (--dma-window-no-bounce), dma_trace_depth=0"
sleep 5 # the refusal log is rate-limited (20 lines per 5 s)
if start_testdev --dma-window-mb 64 --dma-window-no-bounce; then
	addr=$(first_addr)
	dir=$DBG/$addr
	if wait_dir "$dir"; then
		echo 0 >$depth
		run_suite_all "$dir" dma "$MIN_TESTS"
		echo 6 >$depth
		run_suite "$dir" dma direct 1
		run_suite "$dir" dma direct-checked 1
		expect_log "a refusal with no call chain recorded" \
			"DMA write of 65 bytes at 0x[0-9a-f]+ refused: past the bounds .* FROM_DEVICE single, mapped by \\? \\(no call chains recorded: set .*dma_trace_depth to 6\\)"
	else
		fail "$dir did not appear"
	fi
	stop_model
	wait_gone "$addr" || fail "$addr still present after the model exited"
fi
# "mapped by" names the function that called dma_map_single()
hex='0x[0-9a-f]+'
expect_log "a write one byte past the end" \
	"DMA write of 65 bytes at $hex refused: past the bounds of the mapping at $hex; nearest mapping $hex\\+64 FROM_DEVICE single, mapped by (poisoned_map|test_bounds)"
expect_log "a write after unmap" \
	"DMA write of 64 bytes at $hex refused: the mapping was unmapped at $hex; unmapped mapping $hex\\+4096 FROM_DEVICE single, mapped by (poisoned_map|test_after_unmap).*unmapped by test_after_unmap"
expect_log "a write into a TO_DEVICE mapping" \
	"DMA write of 256 bytes at $hex refused: against the mapping's direction.*TO_DEVICE single, mapped by (poisoned_map|test_direction)"
expect_log "bus mastering off" "DMA write of 512 bytes at $hex refused: bus mastering is disabled"
expect_log "a never mapped address" "DMA write of 8 bytes at 0x1000 refused: no mapping there"
expect_log "an unmap of what was never mapped" \
	"pciem: unmap of 0x1000 \\(64 bytes\\), which is not a live mapping of that kind: test_bad_calls"
expect_log "a coherent buffer written past its end" \
	"coherent buffer $hex\\+100 was written past its end: bytes 0 to 3 after it changed; allocated by test_bad_calls"
expect_log "a coherent free with the wrong size" \
	"pciem: unmap of $hex with size 6144, mapped with 24"
expect_log "a coherent free in a window with the wrong address" \
	"pciem: coherent free of $hex with an address it was not allocated at\$"
expect_log "a sync of what was never mapped" \
	"pciem: sync of 64 bytes at 0x1000, which is not inside a live mapping: test_bad_calls"
log_clean "the DMA tests"
echo 0 >$depth
finish
