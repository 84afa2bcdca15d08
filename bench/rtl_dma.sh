#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# RTL behind a real driver, what it costs: register reads and DMA copies
# through the example DMA engine's SystemVerilog design (Verilator, behind
# the PCIem RTL adapter) against the same operations on its C++ reference
# model, in one guest run; and the simulated clock's rate. See docs/bench.md.
set -euo pipefail

prog=${0##*/}
usage() {
	cat <<USAGE
Usage: $prog [-h|--help] [--kernel 6.1|6.12] [--reads N] [--sizes "4K 64K 1M"]
       [--mib N] [--reps N] [--timeout SEC]

Boots one guest (tools/pciem-vm, TCG, 2 vCPUs) and, for the C++ model and
then the RTL design (pciem-rtl-dma --model cpp|rtl, pinned to CPU 0),
writes to drivers/pciem_rtl_dma's debugfs 'run' file from CPU 1:
  - reads N: N readl() of the ID register, timed (each one a trapped
    access answered by the model; for the RTL, an AXI4-Lite read),
  - bandwidth SIZE N: N one-descriptor copies of SIZE bytes between two
    streaming mappings, each waited for through its completion interrupt.
N for copies is --mib MiB divided by SIZE (at least 4). Each measurement
runs --reps times and the fastest is kept. Prints each figure for both and
the ratio RTL/C++ (1.0 = the RTL costs nothing extra), then the design's
clock rate: cycles per second of clocking (the adapter's count) and per
second of the copies (the design's CYCLES register over the driver's wall
time). Absolute figures depend on the host and TCG; only ratios from the
same run mean anything.

Options:
  --kernel 6.1|6.12   guest kernel (default 6.1)
  --reads N           register reads per measurement (default 2000)
  --sizes "S ..."     copy sizes, bytes with optional K/M suffix, at most 1M
                      (default "4K 64K 1M")
  --mib N             MiB copied per measurement (default 8)
  --reps N            repetitions, fastest kept (default 3)
  --timeout SEC       guest timeout (default 900)
USAGE
}

kernel=6.1 reads=2000 sizes="4K 64K 1M" mib=8 reps=3 timeout=900
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_options kernel reads sizes mib reps timeout -- "$@"
bench_positive "$reads" "$mib" "$reps" "$timeout"
# shellcheck disable=SC2086 # one word per size
bench_sizes 1048576 1M $sizes
bench_tmpdir

# ---- the part that runs in the guest (busybox sh) ----
cat >"$bench_tmp/guest.sh" <<'GUEST'
. /pciem/tests/vm/lib.sh
reads=$1 mib=$2 reps=$3
shift 3
err() { echo "BENCH-ERROR $*"; }
modprobe pciem_rtl_dma || { err "modprobe pciem_rtl_dma failed"; exit 1; }
command -v pciem-rtl-dma >/dev/null || { err "pciem-rtl-dma is not in the guest's PATH"; exit 1; }

# best DIR CMD FIELD: runs CMD reps times; keeps the answer whose FIELD-th
# word is smallest (a time) in $best.
best() {
	best= bv= r=0
	while [ $r -lt "$reps" ]; do
		# the driver's loop on CPU 1, away from the model on CPU 0
		taskset 2 sh -c "echo '$2' >'$1/run'" || { err "'$2' failed"; return 1; }
		line=$(cat "$1/run")
		case "$line" in FAIL*) err "$line"; return 1 ;; esac
		v=$(echo "$line" | awk -v f="$3" '{ print $f }')
		if [ -z "$bv" ] || [ "$v" -lt "$bv" ]; then
			bv=$v best=$line
		fi
		r=$((r + 1))
	done
}

for model in cpp rtl; do
	start_owner "pciem-rtl-dma --model $model" pciem-rtl-dma --model $model --cpu 0 \
		--ready-file @READY@ || { err "pciem-rtl-dma --model $model did not start"; continue; }
	dir=/sys/kernel/debug/pciem_rtl_dma/$(first_addr)
	wait_dir "$dir" || { err "$model: the driver did not bind"; stop_model; continue; }
	echo "bandwidth 65536 4" >"$dir/run"	# warm-up
	# "reads N ns T ns_per_read P bad B"
	best "$dir" "reads $reads" 4 && echo "BENCH $model reads $best"
	for size in "$@"; do
		n=$((mib * 1048576 / size))
		[ $n -ge 4 ] || n=4
		# "bandwidth SIZE xN ns T kBps K cycles C"
		best "$dir" "bandwidth $size $n" 5 && echo "BENCH $model copy $best"
	done
	stop_model
	sed -n 's/^rtl: /BENCH rtl summary /p' "$OWNER_LOG"
done
GUEST

out="$bench_tmp/out"
bench_guest "$out" "$bench_tmp/guest.sh" --kernel "$kernel" --timeout "$timeout" \
	-- "$reads" "$mib" "$reps" "${bytes[@]}"

# ---- the table ----
awk -v kernel="$kernel" -v reps="$reps" '
function human(b) {
	return b % 1048576 == 0 ? (b / 1048576) " MiB" : b % 1024 == 0 ? (b / 1024) " KiB" : b " B"
}
# BENCH model reads reads N ns T ns_per_read P bad B
$1 == "BENCH" && $3 == "reads" { rd[$2] = $9; bad += $11 }
# BENCH model copy bandwidth SIZE xN ns T kBps K cycles C
$1 == "BENCH" && $3 == "copy" {
	kb[$2 " " $5] = $10; ns[$2 " " $5] = $8; cyc[$2 " " $5] = $12
	if (!($5 in seen)) { seen[$5] = 1; sizes[++nsz] = $5 }
}
# BENCH rtl summary N cycles (B busy) in T ms of clocking: R cycles/s; ...
$1 == "BENCH" && $3 == "summary" { clk = $13 }
END {
	printf "RTL DMA engine (Verilator) against its C++ model, Linux %s guest under TCG, fastest of %d\n",
		kernel, reps
	printf "ratio = RTL / C++ of the same operation, same run (rates: <1 is slower; times: >1 is slower)\n"
	printf "%-24s %14s %14s %9s\n", "operation", "C++ model", "RTL", "ratio"
	if ("cpp" in rd && "rtl" in rd && rd["cpp"] > 0)
		printf "%-24s %11d ns %11d ns %8.2fx\n", "register read", rd["cpp"], rd["rtl"],
			rd["rtl"] / rd["cpp"]
	else { print "register read: not measured"; missing = 1 }
	for (i = 1; i <= nsz; i++) {
		s = sizes[i]; c = "cpp " s; r = "rtl " s
		if (!(c in kb) || !(r in kb) || kb[c] <= 0) {
			printf "copy %s: not measured\n", human(s); missing = 1; continue
		}
		printf "%-24s %9.1f MB/s %9.1f MB/s %8.3fx\n", "copy " human(s), kb[c] / 1000,
			kb[r] / 1000, kb[r] / kb[c]
	}
	if (nsz > 0 && ("rtl " sizes[nsz]) in ns) {
		k = "rtl " sizes[nsz]
		printf "RTL clock: %.3g cycles/s while clocking (adapter); %.3g cycles/s over the %s copies\n",
			clk, cyc[k] / (ns[k] / 1e9), human(sizes[nsz])
	}
	if (bad) { printf "%d register reads returned a wrong ID\n", bad; missing = 1 }
	exit missing
}' "$out" || exit 1
exit "$bench_status"
