#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What bounds a 4 KiB read at queue depth 1 under TCG: the least each piece
# of an interrupt-driven I/O costs in this guest (bench/floors), their sum,
# and fio's latency on null_blk, QEMU's -device nvme and PCIem's NVMe model
# with its defaults, all in one guest. See docs/bench.md.
set -euo pipefail

prog=${0##*/}
usage() {
	cat <<USAGE
Usage: $prog [-h|--help] [--kernel 6.1|6.12] [--runtime SEC] [--runs N] [--timeout SEC]

Boots one guest (tools/pciem-vm --nvme-tools, TCG, 2 vCPUs, 1 GiB, the
TSC as clock) with QEMU's -device nvme and null_blk, and in each run:
  - pciem-bench-floors (bench/floors): on CPUs 0 and 1 with nothing of
    PCIem in the path, the median of
      syscall   a system call that does nothing
      copy-4k   4 KiB copied in memory
      notice    a store on one CPU seen by a thread spinning on the other
      wake      a thread asleep on the idle other CPU woken by an event
                (the interrupt, the vCPU leaving halt, the switch)
  - fio, 4 KiB random reads at queue depth 1 on CPU 1, mean latency, on
    null_blk (completes inside its submission), QEMU's nvme and
    pciem-nvme with no options (64 MiB in memory).
The floor of an I/O served by a model on the other CPU and completed by
an interrupt is null_blk's latency (fio, aio and the block layer) plus
wake, notice, one system call (the interrupt's) and copy-4k: no model can
go under it here, whatever the driver costs on top. Printed: each figure
(median of the runs), that floor, QEMU's latency over it (the best ratio
to QEMU any such device could reach: 2.0x needs it at 2.0 or more), and
pciem-nvme's ratio to QEMU and to the floor.

Options:
  --kernel 6.1|6.12   guest kernel (default 6.1)
  --runtime SEC       seconds per fio run (default 5)
  --runs N            runs (default 3)
  --timeout SEC       guest timeout (default 900)
USAGE
}

kernel=6.1 runtime=5 runs=3 timeout=900
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_options kernel runtime runs timeout -- "$@"
bench_positive "$runtime" "$runs" "$timeout"
bench_tmpdir
size_mb=64

# ---- the part that runs in the guest (busybox sh) ----
bench_fio_guest "$size_mb" <<'GUEST'
. /pciem/tests/vm/lib.sh
size_mb=$1 runtime=$2 runs=$3
err() { echo "BENCH-ERROR $*"; }
for t in fio pciem-nvme pciem-bench-floors; do
	command -v $t >/dev/null || { err "$t is not in the guest"; exit 1; }
done
# fio_guest.sh's measure, at queue depth 1 only
WORKLOADS=rand4k-qd1
default_disks PCIEM-FLOOR || exit 1
modprobe null_blk queue_mode=2 irqmode=0 memory_backed=0 gb=1 nr_devices=1 || { err "no null_blk"; exit 1; }
run=1
while [ "$run" -le "$runs" ]; do
	echo "run $run of $runs" >&2
	pciem-bench-floors 2000 | sed "s/^FLOOR /BENCH $run floor /"
	measure "$run" null_blk /dev/nullb0
	measure "$run" qemu "$qemu_dev"
	measure "$run" pciem "$dev"
	run=$((run + 1))
done
stop_model
GUEST

out="$bench_tmp/out"
bench_guest "$out" "$bench_tmp/guest.sh" --kernel "$kernel" --timeout "$timeout" \
	--nvme-tools --mem 1024 --module null_blk \
	--qemu-arg=-drive --qemu-arg="file=$img,if=none,id=nvm,format=raw,cache=writeback" \
	--qemu-arg=-device --qemu-arg=nvme,serial=qemu-ref,drive=nvm \
	-- "$size_mb" "$runtime" "$runs"

# ---- the table ----
# BENCH RUN floor NAME MEDIAN_NS MIN_NS SAMPLES | BENCH RUN LABEL rand4k-qd1 IOPS KiB/s LAT_US
awk -v kernel="$kernel" "$(cat "$bench_root/bench/stats.awk")"'
$1 == "BENCH" && $3 == "floor" { v[$4] = v[$4] " " $5 / 1000; next }
$1 == "BENCH" && $4 == "rand4k-qd1" { v[$3] = v[$3] " " $7 }
function med(name,   a, k) { k = split(v[name], a, " "); return k ? median(a, k) : -1 }
END {
	split("syscall copy-4k notice wake null_blk qemu pciem", names, " ")
	for (i = 1; i <= 7; i++) if (med(names[i]) < 0) { print "no figure for " names[i]; exit 1 }
	printf "What bounds a 4 KiB read at queue depth 1, Linux %s guest under TCG (median of the runs, us)\n", kernel
	printf "  floors (bench/floors, nothing of PCIem in the path):\n"
	printf "    %-10s %7.2f  a system call\n", "syscall", med("syscall")
	printf "    %-10s %7.2f  4 KiB copied\n", "copy-4k", med("copy-4k")
	printf "    %-10s %7.2f  a store seen by a thread spinning on the other CPU\n", "notice", med("notice")
	printf "    %-10s %7.2f  a sleeping thread on the idle other CPU woken by an event\n", "wake", med("wake")
	printf "  fio 4 KiB randread QD 1, mean latency:\n"
	printf "    %-10s %7.1f  fio, aio and the block layer alone\n", "null_blk", med("null_blk")
	printf "    %-10s %7.1f  QEMU -device nvme (the reference)\n", "qemu", med("qemu")
	printf "    %-10s %7.1f  pciem-nvme, no options\n", "pciem", med("pciem")
	floor = med("null_blk") + med("wake") + med("notice") + med("syscall") + med("copy-4k")
	printf "  floor of a device modelled on the other CPU: null_blk + wake + notice + syscall + copy-4k = %.1f us\n", floor
	printf "  best ratio to QEMU under that floor: %.2fx (goal 2.0x)\n", med("qemu") / floor
	printf "  pciem-nvme: %.2fx QEMU, its latency %.2fx the floor\n", med("qemu") / med("pciem"), med("pciem") / floor
}' "$out" || exit 1
exit "$bench_status"
