#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# MMIO round trip: a trapped PCIem register access against QEMU's own edu
# device, measured side by side in one guest run. See docs/bench.md.
set -euo pipefail

prog=${0##*/}
usage() {
	cat <<USAGE
Usage: $prog [-h|--help] [--kernel 6.1|6.12] [--arch amd64|arm64] [--reads N] [--writes N] [--reps N]

Boots one guest (tools/pciem-vm, TCG) with QEMU's edu device and, in it,
times N readl() of BAR0 offset 0 (the ID register) and N writel() to a
scratch register through drivers/pciem_mmio_test's debugfs 'bench' file:
  - on edu (QEMU's device model: a TCG MMIO exit, no trap),
  - on the PCIem test device (pciem-testdev: page fault, instruction
    emulation, round trip to the userspace model), once with the model's
    default loop (adaptive polling), once with --low-cpu and once with
    --busy-poll; the in-kernel floor (a shadowed register pciem.ko answers
    itself); and the default model's CPU use over 10 s while idle.
The model runs on CPU 0 and the driver's loop on CPU 1. Each measurement
runs --reps times and the fastest is kept. Prints ns/op
and the ratio PCIem/edu. Absolute times depend on the host and TCG; only
ratios from the same run mean anything.

Options:
  --kernel 6.1|6.12   guest kernel (default 6.1)
  --arch amd64|arm64  guest architecture (default amd64; arm64 boots QEMU's
                      virt machine, see docs/testing.md)
  --reads N           reads per measurement (default 20000)
  --writes N          writes per measurement (default 20000)
  --reps N            repetitions, fastest kept (default 3)
  --timeout SEC       guest timeout (default 300)
USAGE
}

kernel=6.1 arch=amd64 reads=20000 writes=20000 reps=3 timeout=300
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_options kernel arch reads writes reps timeout -- "$@"
bench_positive "$reads" "$writes" "$reps" "$timeout"

bench_tmpdir
tmp=$bench_tmp

# ---- the part that runs in the guest (busybox sh) ----
cat >"$tmp/guest.sh" <<'GUEST'
. /pciem/tests/vm/lib.sh
reads=$1 writes=$2 reps=$3
err() { echo "BENCH-ERROR $*"; }
modprobe pciem_mmio_test || { err "modprobe pciem_mmio_test failed"; exit 1; }
dbg=/sys/kernel/debug/pciem_mmio_test

# measure NAME DIR [OFFSET]: fastest ns/op of reps runs, for reads and for
# writes (only reads with an OFFSET: the floor's register is read-only)
measure() {
	taskset -c 1 sh -c "echo reads 200 >$2/bench"	# warm up: page tables, caches, the model's loop
	ops="reads writes"
	[ -n "$3" ] && ops=reads
	for op in $ops; do
		eval n=\$$op
		best=
		r=0
		while [ $r -lt "$reps" ]; do
			taskset -c 1 sh -c "echo $op $n $3 >$2/bench" || { err "$1: bench '$op $n $3' failed"; return; }
			set -- "$1" "$2" "$3" $(cat "$2/bench")	# $4=op $5=n $6=total_ns $7=ns_per_op
			if [ -z "$best" ] || [ "$7" -lt "$best" ]; then best=$7; fi
			r=$((r + 1))
		done
		echo "BENCH $1 $op $n $best"
	done
}

# cpu_ticks PID: user + system clock ticks the process has used
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

edu=$(pci_addr_of 0x1234 0x11e8)
if [ -n "$edu" ] && [ -d "$dbg/$edu" ]; then
	measure edu "$dbg/$edu"
else
	err "no edu device bound to pciem_mmio_test"
fi

command -v pciem-testdev >/dev/null || { err "pciem-testdev is not in the guest's PATH"; exit 1; }
for mode in default low-cpu busy-poll; do
	flag=
	[ $mode = default ] || flag=--$mode
	# The model on CPU 0, the driver's loop on CPU 1: unpinned, where the
	# scheduler puts the two decides the figure (on one CPU every read is
	# two context switches).
	if start_owner "pciem-testdev ($mode)" pciem-testdev --cpu 0 --ready-file @READY@ $flag &&
		wait_dir "$dbg/$(first_addr)"; then
		dir=$dbg/$(first_addr)
		measure "pciem-$mode" "$dir"
		if [ $mode = default ]; then
			# The floor: a shadowed register is answered by pciem.ko from
			# the model's shadow, so this is the fault, the decode and
			# the emulation with no round trip to the model.
			measure floor "$dir" 0x80
			# What the model costs while its driver is idle.
			sleep 1
			t0=$(cpu_ticks "$MODEL_PID")
			sleep 10
			t1=$(cpu_ticks "$MODEL_PID")
			# /proc counts in USER_HZ, 100 on x86 and arm64 whatever the kernel's HZ
			echo "BENCH-IDLE $((t1 - t0)) 100 10"
		fi
	else
		err "pciem-testdev ($mode) did not come up bound to pciem_mmio_test"
	fi
	stop_model
done
GUEST

out="$tmp/out"
bench_guest "$out" "$tmp/guest.sh" --kernel "$kernel" --arch "$arch" --timeout "$timeout" \
	--qemu-arg=-device --qemu-arg=edu -- "$reads" "$writes" "$reps"

# ---- the table ----
awk -v kernel="$kernel" -v arch="$arch" '
$1 == "BENCH" { ns[$2 " " $3] = $5; n[$3] = $4 }
$1 == "BENCH-IDLE" { idle_ticks = $2; hz = $3; idle_s = $4 }
function row(label, d, op, ref, refname,   word, p, e) {
	word = op == "reads" ? "read " : "write"
	if (!((d " " op) in ns) || !(ref in ns)) {
		printf "%-22s %s  (not measured)\n", label, word
		missing = 1
		return
	}
	p = ns[d " " op]
	e = ns[ref]
	printf "%-22s %s %9d ns/op   %-10s %7d ns/op   ratio %8.2fx\n",
		label, word, p, refname, e, (e > 0 ? p / e : 0)
}
END {
	printf "MMIO round trip, Linux %s%s guest under TCG, %d reads / %d writes, fastest of the runs\n",
		kernel, arch == "amd64" ? "" : " " arch, n["reads"], n["writes"]
	for (j = 1; j <= 2; j++) {
		op = j == 1 ? "reads" : "writes"
		word = j == 1 ? "read " : "write"
		if (("edu " op) in ns)
			printf "%-22s %s %9d ns/op   (reference: QEMU edu, no trap)\n", "edu", word, ns["edu " op]
		else {
			printf "%-22s %s  (not measured)\n", "edu", word
			missing = 1
		}
	}
	if ("floor reads" in ns)
		printf "%-22s read  %9d ns/op   (in-kernel floor: a shadowed register, no round trip)\n",
			"floor", ns["floor reads"]
	else {
		printf "%-22s read   (not measured)\n", "floor"
		missing = 1
	}
	split("default low-cpu busy-poll", modes, " ")
	for (i = 1; i <= 3; i++) {
		d = "pciem-" modes[i]
		label = modes[i] == "default" ? "trapped" : "trapped (" modes[i] ")"
		row(label, d, "reads", "edu reads", "edu read")
		row(label, d, "writes", "edu writes", "edu write")
	}
	print "Against the floor (the goal: reads <= 3x, writes <= 1.5x):"
	for (i = 1; i <= 3; i++) {
		d = "pciem-" modes[i]
		label = modes[i] == "default" ? "trapped" : "trapped (" modes[i] ")"
		row(label, d, "reads", "floor reads", "floor")
		row(label, d, "writes", "floor reads", "floor")
	}
	if (hz > 0)
		printf "idle model (default)   %.2f%% of a CPU over %d s with its driver bound and idle\n",
			100 * idle_ticks / hz / idle_s, idle_s
	else {
		print "idle model (default)   (not measured)"
		missing = 1
	}
	exit missing
}' "$out" || exit 1
exit "$bench_status"
