#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# DMA bandwidth: the test device's engine reading and writing host memory
# through PCIem's checked path and through the zero-copy window, against
# memcpy() of the same sizes, measured side by side in one guest run. See
# docs/bench.md.
set -euo pipefail

prog=${0##*/}
usage() {
	cat <<USAGE
Usage: $prog [-h|--help] [--kernel 6.1|6.12] [--sizes "4K 64K 1M 4M"] [--mib N]
       [--reps N] [--window-mb N] [--timeout SEC]

Boots one guest (tools/pciem-vm, TCG, 2 vCPUs) and, in it, writes to
drivers/pciem_mmio_test's debugfs 'bench' file of the PCIem test device
(pciem-testdev pinned to CPU 0; the driver's loops run on CPU 1):
  - memcpy SIZE N: N memcpy() of SIZE bytes between two kernel buffers
    (the reference),
  - dma-read SIZE N: N engine commands reading SIZE bytes of a coherent
    buffer (TESTDEV_DMA_CMD_READ), each timed as a whole round trip:
    writel(DMA_CMD), then readl(DMA_STATUS) once the model finished,
  - dma-write SIZE N: the same writing into it (TESTDEV_DMA_CMD_WRITE),
once with the checked path (no window: every device access is a
PCIEM_IOC_DMA ioctl, checked against the driver's mappings) and once with
pciem-testdev --dma-window-mb and TESTDEV_DMA_DIRECT=1 (the model copies
straight from/to its mmap of the window). N is --mib MiB divided by SIZE
(at least 4). Each measurement runs --reps times and the fastest is kept.
Prints MB/s and the ratio PCIem/memcpy. Absolute figures depend on the
host and TCG; only ratios from the same run mean anything.

Options:
  --kernel 6.1|6.12   guest kernel (default 6.1)
  --sizes "S ..."     transfer sizes, bytes with optional K/M suffix, at most
                      4M (default "4K 64K 1M 4M")
  --mib N             MiB moved per measurement (default 16)
  --reps N            repetitions, fastest kept (default 3)
  --window-mb N       zero-copy window size in MiB, even (default 64)
  --timeout SEC       guest timeout (default 600)
USAGE
}

kernel=6.1 sizes="4K 64K 1M 4M" mib=16 reps=3 window_mb=64 timeout=600
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_options kernel sizes mib reps window-mb timeout -- "$@"
bench_positive "$mib" "$reps" "$window_mb" "$timeout"
# shellcheck disable=SC2086 # one word per size
bench_sizes 4194304 4M $sizes
bench_tmpdir

# ---- the part that runs in the guest (busybox sh) ----
cat >"$bench_tmp/guest.sh" <<'GUEST'
. /pciem/tests/vm/lib.sh
mib=$1 reps=$2 window_mb=$3
shift 3
err() { echo "BENCH-ERROR $*"; }
modprobe pciem_mmio_test model_cpu=0 || { err "modprobe pciem_mmio_test failed"; exit 1; }
command -v pciem-testdev >/dev/null || { err "pciem-testdev is not in the guest's PATH"; exit 1; }
dbg=/sys/kernel/debug/pciem_mmio_test

# best DIR CMD: the fastest of reps runs of CMD; sets ns (per op), mbps, hits.
# The file reads "<verb> SIZE N <total_ns> <ns_per_op> <MB_per_s> <hits>".
best() {
	bns= r=0
	while [ $r -lt "$reps" ]; do
		echo "$2" >"$1/bench" || { err "bench '$2' failed"; return 1; }
		set -- "$1" "$2" $(cat "$1/bench")
		if [ -z "$bns" ] || [ "$7" -lt "$bns" ]; then
			bns=$7 mbps=$8 hits=$9
		fi
		r=$((r + 1))
	done
	ns=$bns
}

for path in checked window; do
	if [ $path = window ]; then
		direct=1
		start_testdev --dma-window-mb "$window_mb"
	else
		direct=0
		start_testdev
	fi || { err "pciem-testdev ($path) did not start"; continue; }
	dir=$dbg/$(first_addr)
	if ! wait_dir "$dir"; then
		err "pciem-testdev ($path) is not bound to pciem_mmio_test"
		stop_model
		continue
	fi
	# warm up: the model's buffers, page tables, the translation cache
	echo "dma-read 65536 20 $direct" >"$dir/bench" || err "$path: warm-up failed"
	for size in "$@"; do
		n=$((mib * 1048576 / size))
		[ $n -ge 4 ] || n=4
		best "$dir" "memcpy $size $n" && echo "BENCH $path memcpy $size $n $ns $mbps 0"
		for op in read write; do
			best "$dir" "dma-$op $size $n $direct" &&
				echo "BENCH $path $op $size $n $ns $mbps $hits"
		done
	done
	stop_model
done
GUEST

out="$bench_tmp/out"
bench_guest "$out" "$bench_tmp/guest.sh" --kernel "$kernel" --timeout "$timeout" \
	-- "$mib" "$reps" "$window_mb" "${bytes[@]}"

# ---- the table ----
awk -v kernel="$kernel" -v mib="$mib" -v sizes="${bytes[*]}" -v window="$window_mb" '
function human(b) {
	return b % 1048576 == 0 ? (b / 1048576) " MiB" : b % 1024 == 0 ? (b / 1024) " KiB" : b " B"
}
# BENCH path op size n ns_per_op MBps hits
$1 == "BENCH" { k = $2 " " $3 " " $4; ns[k] = $6; mb[k] = $7; hits[k] = $8; n[k] = $5 }
END {
	printf "DMA bandwidth, Linux %s guest under TCG, %d MiB per measurement, fastest of the runs\n",
		kernel, mib
	printf "ratio = PCIem MB/s / memcpy MB/s of the same size, same run (1.0 = as fast as memcpy)\n"
	printf "%-22s %-6s %8s %11s %10s %12s %9s\n", "path", "op", "size", "ns/op", "MB/s",
		"memcpy MB/s", "ratio"
	ns_ = split(sizes, sz, " ")
	split("checked window", paths, " ")
	for (p = 1; p <= 2; p++) {
		path = paths[p]
		label = path == "checked" ? "checked (ioctl)" : "window " window " MiB (direct)"
		for (i = 1; i <= ns_; i++) {
			s = sz[i]
			ref = path " memcpy " s
			for (j = 1; j <= 2; j++) {
				op = j == 1 ? "read" : "write"
				k = path " " op " " s
				if (!(k in ns) || !(ref in ns) || ns[k] <= 0) {
					printf "%-22s %-6s %8s  (not measured)\n", label, op, human(s)
					missing = 1
					continue
				}
				note = ""
				if (path == "window" && hits[k] != n[k]) {
					note = sprintf("   (only %d of %d commands went through the window)", hits[k], n[k])
					missing = 1
				}
				printf "%-22s %-6s %8s %11d %10d %12d %8.3fx%s\n", label, op, human(s),
					ns[k], mb[k], mb[ref], ns[ref] / ns[k], note
			}
		}
	}
	exit missing
}' "$out" || exit 1
exit "$bench_status"
