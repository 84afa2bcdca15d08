#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# MMIO round trip: a trapped PCIem register access against QEMU's own edu
# device, measured side by side in one guest run. See docs/bench.md.
set -euo pipefail

prog=${0##*/}
usage() {
	cat <<USAGE
Usage: $prog [-h|--help] [--kernel 6.1|6.12] [--reads N] [--writes N] [--reps N]

Boots one guest (tools/pciem-vm, TCG) with QEMU's edu device and, in it,
times N readl() of BAR0 offset 0 (the ID register) and N writel() to a
scratch register through drivers/pciem_mmio_test's debugfs 'bench' file:
  - on edu (QEMU's device model: a TCG MMIO exit, no trap),
  - on the PCIem test device (pciem-testdev: page fault, instruction
    emulation, round trip to the userspace model), once with the model's
    default loop and once with --busy-poll.
Each measurement runs --reps times and the fastest is kept. Prints ns/op
and the ratio PCIem/edu. Absolute times depend on the host and TCG; only
ratios from the same run mean anything.

Options:
  --kernel 6.1|6.12   guest kernel (default 6.1)
  --reads N           reads per measurement (default 20000)
  --writes N          writes per measurement (default 20000)
  --reps N            repetitions, fastest kept (default 3)
  --timeout SEC       guest timeout (default 300)
USAGE
}

kernel=6.1 reads=20000 writes=20000 reps=3 timeout=300
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_options kernel reads writes reps timeout -- "$@"
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

# measure NAME DIR: fastest ns/op of reps runs, for reads and for writes
measure() {
	echo "reads 200" >"$2/bench"	# warm up: page tables, caches, the model's loop
	for op in reads writes; do
		eval n=\$$op
		best=
		r=0
		while [ $r -lt "$reps" ]; do
			echo "$op $n" >"$2/bench" || { err "$1: bench '$op $n' failed"; return; }
			set -- "$1" "$2" $(cat "$2/bench")	# $3=op $4=n $5=total_ns $6=ns_per_op
			if [ -z "$best" ] || [ "$6" -lt "$best" ]; then best=$6; fi
			r=$((r + 1))
		done
		echo "BENCH $1 $op $n $best"
	done
}

edu=$(pci_addr_of 0x1234 0x11e8)
if [ -n "$edu" ] && [ -d "$dbg/$edu" ]; then
	measure edu "$dbg/$edu"
else
	err "no edu device bound to pciem_mmio_test"
fi

command -v pciem-testdev >/dev/null || { err "pciem-testdev is not in the guest's PATH"; exit 1; }
for mode in default busy-poll; do
	flag=
	[ $mode = busy-poll ] && flag=--busy-poll
	if start_owner "pciem-testdev ($mode)" pciem-testdev --ready-file @READY@ $flag &&
		wait_dir "$dbg/$(first_addr)"; then
		measure "pciem-$mode" "$dbg/$(first_addr)"
	else
		err "pciem-testdev ($mode) did not come up bound to pciem_mmio_test"
	fi
	stop_model
done
GUEST

out="$tmp/out"
bench_guest "$out" "$tmp/guest.sh" --kernel "$kernel" --timeout "$timeout" \
	--qemu-arg=-device --qemu-arg=edu -- "$reads" "$writes" "$reps"

# ---- the table ----
awk -v kernel="$kernel" '
$1 == "BENCH" { ns[$2 " " $3] = $5; n[$3] = $4 }
END {
	printf "MMIO round trip, Linux %s guest under TCG, %d reads / %d writes, fastest of the runs\n",
		kernel, n["reads"], n["writes"]
	for (j = 1; j <= 2; j++) {
		op = j == 1 ? "reads" : "writes"
		word = j == 1 ? "read " : "write"
		if (("edu " op) in ns)
			printf "%-20s %s %9d ns/op   (reference: QEMU edu, no trap)\n", "edu", word, ns["edu " op]
		else {
			printf "%-20s %s  (not measured)\n", "edu", word
			missing = 1
		}
	}
	split("pciem-default pciem-busy-poll", devs, " ")
	for (i = 1; i <= 2; i++) {
		for (j = 1; j <= 2; j++) {
			op = j == 1 ? "reads" : "writes"
			word = j == 1 ? "read " : "write"
			d = devs[i]
			label = d == "pciem-default" ? "trapped" : "trapped (busy-poll)"
			if (!((d " " op) in ns) || !(("edu " op) in ns)) {
				printf "%-20s %s  (not measured)\n", label, word
				missing = 1
				continue
			}
			e = ns["edu " op]
			p = ns[d " " op]
			printf "%-20s %s %9d ns/op   edu %s %7d ns/op   ratio %8.2fx\n",
				label, word, p, word, e, (e > 0 ? p / e : 0)
		}
	}
	exit missing
}' "$out" || exit 1
exit "$bench_status"
