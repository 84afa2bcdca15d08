# SPDX-License-Identifier: MIT
# Helpers of the soak (tests/soak/cases, run by tests/vm/run --soak):
# kernel memory figures, and counting PCIem's functions. Sourced after
# /pciem/tests/vm/lib.sh.

baseline=/tmp/soak-memory-start

# kmem_figures: "SLAB_KIB UNRECLAIMABLE_KIB VMALLOC_KIB USED_PAGES" after the
# page cache and reclaimable slabs are dropped. USED_PAGES is every page
# neither free nor cache: kernel allocations plus the processes alive.
kmem_figures() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
	sleep 2	# RCU-deferred frees land
	echo 3 >/proc/sys/vm/drop_caches
	shrink_slabs
	awk '/^MemTotal:/ { t = $2 } /^MemFree:/ { f = $2 } /^Buffers:/ { b = $2 }
		/^Cached:/ { c = $2 } /^SReclaimable:/ { r = $2 } /^Slab:/ { s = $2 }
		/^SUnreclaim:/ { u = $2 } /^VmallocUsed:/ { v = $2 }
		END { print s, u, v, int((t - f - b - c - r) / 4) }' /proc/meminfo
}

# pciem_functions: how many PCI functions PCIem's buses hold (domains
# 0x10000 and up).
pciem_functions() {
	ls /sys/bus/pci/devices | grep -c '^1[0-9a-f]\{4\}:'
}

# wait_no_functions TENTHS: every PCIem function is gone within TENTHS.
wait_no_functions() {
	i=0
	while [ "$(pciem_functions)" -ne 0 ] && [ $i -lt "$1" ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ "$(pciem_functions)" -eq 0 ]
}
