#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Shared BAR memory (PCIEM_IOC_BAR_BACKING): a driver's 32-bit writes and
# reads of a VRAM BAR on a model served over vfio-user behind pciem-proxy,
# with the VRAM shared (the proxy's default) and with every access
# forwarded (--trap-all), against the same model on /dev/pciem (a RAM
# BAR). One guest run. See docs/bench.md.
set -euo pipefail

prog=${0##*/}
usage() {
	cat <<USAGE
Usage: $prog [-h|--help] [--kernel 6.1|6.12] [--ops N] [--reps N] [--timeout SEC]

Boots one guest (tools/pciem-vm --display-tools, TCG, 2 vCPUs). pciem-bochs
(16 MiB VRAM as BAR0) runs three ways:
  - direct: pciem-bochs on /dev/pciem: BAR0 is a RAM BAR, the reference;
  - shared: pciem-bochs --vfio-user behind pciem-proxy: the proxy hands
    the server's VRAM pages to pciem.ko, the driver's mapping points at them;
  - trapped: the same with pciem-proxy --trap-all: every access is a fault,
    a ring request and a REGION_WRITE/REGION_READ message to the server.
Each time drivers/pciem_mmio_test is bound to the function (new_id, edu
kind: it maps BAR0 with pci_iomap) and its debugfs 'bench' file times N
writel() and N readl() at VRAM offset 0x1000, the fastest of --reps, on
CPU 1 (the server and proxy on CPU 0). trapped runs N/50 accesses, for time.
Prints ns per access, shared / direct (1 means no cost for the socket in
between) and trapped / shared (what sharing saves per access), and the
accesses the proxy forwarded for BAR0 in the shared run (0: none trapped).
Absolute figures depend on the host and TCG; only the ratios of one run
mean anything. Exits non-zero if a figure is missing.

Options:
  --kernel 6.1|6.12   guest kernel (default 6.1)
  --ops N             writes and reads per measurement (default 100000)
  --reps N            repetitions, fastest kept (default 3)
  --timeout SEC       guest timeout (default 900)
USAGE
}

kernel=6.1 ops=100000 reps=3 timeout=900
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_options kernel ops reps timeout -- "$@"
bench_positive "$ops" "$reps" "$timeout"
[[ $ops -ge 50 ]] || { echo "$prog: --ops must be at least 50" >&2; exit 2; }

bench_tmpdir
tmp=$bench_tmp

# ---- the part that runs in the guest (busybox sh) ----
cat >"$tmp/guest.sh" <<'GUEST'
. /pciem/tests/vm/lib.sh
ops=$1 reps=$2
err() { echo "BENCH-ERROR $*"; }
dbg=/sys/kernel/debug/pciem_mmio_test
modprobe pciem_mmio_test || { err "modprobe pciem_mmio_test failed"; exit 1; }
# The bochs driver (--display-tools loads it) would win the function:
# unloaded, pciem_mmio_test binds at START through the new_id below.
rmmod bochs 2>/dev/null
# driver_data 1: the edu kind, which needs only 256 bytes of BAR0.
echo "1234 1111 ffffffff ffffffff 0 0 1" >/sys/bus/pci/drivers/pciem_mmio_test/new_id ||
	{ err "new_id for 1234:1111 refused"; exit 1; }

# measure NAME DIR N: the fastest of reps runs (total ns: a shared access
# takes about 1 ns under TCG, below the file's whole-ns-per-op figure),
# writes then reads
measure() {
	taskset -c 1 sh -c "echo reads 16 0x1000 >$2/bench" # warm up
	for op in writes reads; do
		best=
		r=0
		while [ $r -lt "$reps" ]; do
			taskset -c 1 sh -c "echo $op $3 0x1000 >$2/bench" ||
				{ err "$1: bench '$op $3' failed"; return; }
			set -- "$1" "$2" "$3" $(cat "$2/bench") # $6 = total ns
			if [ -z "$best" ] || [ "$6" -lt "$best" ]; then best=$6; fi
			r=$((r + 1))
		done
		echo "BENCH $1 $op $3 $best"
	done
}

# run NAME N: the function started last, bound to pciem_mmio_test, measured
run() {
	if wait_dir "$dbg/$(first_addr)"; then
		measure "$1" "$dbg/$(first_addr)" "$2"
	else
		err "$1: pciem_mmio_test did not bind to $(first_addr) ($(driver_of "$(first_addr)"))"
	fi
}

# served NAME N PROXY-OPTION...: pciem-bochs over vfio-user behind the proxy
served() {
	name=$1 count=$2 # not n: start_owner sets it
	shift 2
	rm -f /tmp/vfu.ready /tmp/vfu.sock
	taskset -c 0 pciem-bochs --vfio-user /tmp/vfu.sock --ready-file /tmp/vfu.ready >/tmp/vfu.log 2>&1 &
	server=$!
	if wait_for 200 -s /tmp/vfu.ready &&
		start_owner pciem-proxy taskset -c 0 pciem-proxy --socket /tmp/vfu.sock \
			--ready-file @READY@ "$@"; then
		run "$name" "$count"
		stop_model
		echo "BENCH $name-forwarded $(grep -o 'BAR0 [0-9]* reads [0-9]* writes' "$OWNER_LOG")"
	else
		err "$name: the served pciem-bochs did not come up: $(cat /tmp/vfu.log "$OWNER_LOG")"
	fi
	kill "$server" 2>/dev/null
	wait "$server" 2>/dev/null
}

if start_owner pciem-bochs taskset -c 0 pciem-bochs --ready-file @READY@; then
	run direct "$ops"
	stop_model
else
	err "pciem-bochs did not start"
fi
served shared "$ops"
served trapped $((ops / 50)) --trap-all
GUEST

out="$tmp/out"
bench_guest "$out" "$tmp/guest.sh" --kernel "$kernel" --timeout "$timeout" --display-tools \
	-- "$ops" "$reps"

# ---- the table ----
awk -v kernel="$kernel" '
$1 == "BENCH" && ($3 == "writes" || $3 == "reads") { n[$2, $3] = $4; ns[$2, $3] = $4 > 0 ? $5 / $4 : 0 }
$1 == "BENCH" && $2 ~ /-forwarded$/ { fwd[$2] = $0; sub(/^BENCH [^ ]* /, "", fwd[$2]) }
END {
	printf "Shared BAR memory, Linux %s guest under TCG: one 32-bit access to pciem-bochs VRAM (BAR0) through pci_iomap\n", kernel
	split("direct shared trapped", path, " ")
	for (i = 1; i <= 3; i++) {
		p = path[i]
		if ((p, "writes") in ns)
			printf "%-8s writel %12.2f ns  readl %12.2f ns  (%d each)\n", p, ns[p, "writes"], ns[p, "reads"], n[p, "writes"]
		else
			missing = 1
	}
	for (op in ns) if (ns[op] <= 0) missing = 1
	if (!missing) {
		printf "shared / direct:  writel %.2fx  readl %.2fx\n",
			ns["shared", "writes"] / ns["direct", "writes"], ns["shared", "reads"] / ns["direct", "reads"]
		printf "trapped / shared: writel %.0fx  readl %.0fx\n",
			ns["trapped", "writes"] / ns["shared", "writes"], ns["trapped", "reads"] / ns["shared", "reads"]
	}
	printf "forwarded by the proxy: shared run %s; trapped run %s\n",
		("shared-forwarded" in fwd) ? fwd["shared-forwarded"] : "?",
		("trapped-forwarded" in fwd) ? fwd["trapped-forwarded"] : "?"
	if (missing) { print "(some figures were not measured: see the guest output above)"; exit 1 }
}' "$out"
