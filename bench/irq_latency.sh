#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Interrupt latency and throughput: a PCIem MSI-X interrupt raised by the
# userspace model against an MSI raised by QEMU's own edu device, measured
# side by side in one guest run. See docs/bench.md.
set -euo pipefail

prog=${0##*/}
usage() {
	cat <<USAGE
Usage: $prog [-h|--help] [--kernel 6.1|6.12] [--irqs N] [--reps N] [--timeout SEC]

Boots one guest (tools/pciem-vm, TCG, 2 vCPUs) with QEMU's edu device and,
in it, writes 'irq N' to drivers/pciem_mmio_test's debugfs 'bench' file:
  - on edu (QEMU's device model raises an MSI inside the hypervisor),
  - on the PCIem test device (pciem-testdev pinned to CPU 0: the driver's
    posted write reaches the model through the trap and the ring, the
    model raises MSI-X vector 0 through PCIEM_IOC_RAISE, pciem.ko runs
    the handler on its CPU), once with the model's default loop and once
    with --busy-poll.
Latency: N times, the time from just before the writel() that asks the
device to raise to the handler's entry, one interrupt at a time. Throughput:
N raises written back to back, until the last handler entry. Each
measurement runs --reps times; the fastest latency and the highest
throughput are kept. Prints ns/irq, interrupts/s and the ratios PCIem/edu.
Absolute times depend on the host and TCG; only ratios from the same run
mean anything.

Options:
  --kernel 6.1|6.12   guest kernel (default 6.1)
  --irqs N            interrupts per measurement (default 2000)
  --reps N            repetitions (default 3)
  --timeout SEC       guest timeout (default 300)
USAGE
}

kernel=6.1 irqs=2000 reps=3 timeout=300
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_options kernel irqs reps timeout -- "$@"
bench_positive "$irqs" "$reps" "$timeout"
[[ $irqs -le 1000000 ]] || { echo "$prog: --irqs is at most 1000000" >&2; exit 2; }

bench_tmpdir
tmp=$bench_tmp

# ---- the part that runs in the guest (busybox sh) ----
cat >"$tmp/guest.sh" <<'GUEST'
. /pciem/tests/vm/lib.sh
irqs=$1 reps=$2
err() { echo "BENCH-ERROR $*"; }
# The model runs on CPU 0; the driver measures on another CPU.
modprobe pciem_mmio_test model_cpu=0 || { err "modprobe pciem_mmio_test failed"; exit 1; }
dbg=/sys/kernel/debug/pciem_mmio_test

# measure NAME DIR: best latency and throughput of reps runs
measure() {
	echo "irq 50" >"$2/bench" || { err "$1: bench 'irq 50' failed"; return; }	# warm up
	lat= rate= r=0
	while [ $r -lt "$reps" ]; do
		echo "irq $irqs" >"$2/bench" || { err "$1: bench 'irq $irqs' failed"; return; }
		# $3=irq $4=N $5=total_ns $6=ns_per_irq $7=irqs_per_s $8=delivered
		set -- "$1" "$2" $(cat "$2/bench")
		if [ -z "$lat" ] || [ "$6" -lt "$lat" ]; then lat=$6; fi
		if [ -z "$rate" ] || [ "$7" -gt "$rate" ]; then rate=$7; delivered=$8; fi
		r=$((r + 1))
	done
	echo "BENCH $1 $irqs $lat $rate $delivered"
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
	if start_owner "pciem-testdev ($mode)" pciem-testdev --cpu 0 --ready-file @READY@ $flag &&
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
	--qemu-arg=-device --qemu-arg=edu -- "$irqs" "$reps"

# ---- the table ----
awk -v kernel="$kernel" '
$1 == "BENCH" { lat[$2] = $4; rate[$2] = $5; got[$2] = $6; n = $3 }
END {
	printf "Interrupt latency and throughput, Linux %s guest under TCG, %d interrupts per run, best of the runs\n",
		kernel, n
	if ("edu" in lat)
		printf "%-18s latency %9d ns/irq   throughput %8d irqs/s (%d of %d delivered)   (reference: QEMU edu MSI)\n",
			"edu", lat["edu"], rate["edu"], got["edu"], n
	else {
		printf "%-18s (not measured)\n", "edu"
		missing = 1
	}
	split("pciem-default pciem-busy-poll", devs, " ")
	for (i = 1; i <= 2; i++) {
		d = devs[i]
		label = d == "pciem-default" ? "PCIem" : "PCIem (busy-poll)"
		if (!(d in lat) || !("edu" in lat)) {
			printf "%-18s (not measured)\n", label
			missing = 1
			continue
		}
		printf "%-18s latency %9d ns/irq   throughput %8d irqs/s (%d of %d delivered)   ratio latency %.2fx, throughput %.3fx\n",
			label, lat[d], rate[d], got[d], n,
			(lat["edu"] > 0 ? lat[d] / lat["edu"] : 0),
			(rate["edu"] > 0 ? rate[d] / rate["edu"] : 0)
	}
	exit missing
}' "$out" || exit 1
exit "$bench_status"
