#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Why 4 KiB reads at queue depth 1 move from run to run: round after round
# of fio on QEMU's -device nvme and on pciem-nvme with no options, each I/O
# sorted into the fast and the slow kind, beside how often fio's thread
# slept and what the host did to the guest's two vCPU threads meanwhile.
# See docs/bench.md.
set -euo pipefail

prog=${0##*/}
usage() {
	cat <<USAGE
Usage: $prog [-h|--help] [--kernel 6.1|6.12] [--runtime SEC] [--rounds N] [--split-us US] [--timeout SEC]
       [--raw FILE]

Boots one guest (tools/pciem-vm --nvme-tools, TCG, 2 vCPUs, 1 GiB, the TSC
as clock, QEMU's threads named with -name debug-threads=on) with QEMU's
-device nvme and pciem-nvme with no options (64 MiB in memory), and in
each round runs fio (4 KiB random reads, queue depth 1, pinned to CPU 1)
on QEMU's device, then on PCIem's. For each run it prints:
  mean        fio's mean completion latency (us)
  slept/IO    fio's context switches per I/O: how often its thread waited
              for the completion asleep
  fast        the share of I/Os under --split-us (fio's latency log, one
              entry per I/O), and the mean of those under and over it
  on the host the voluntary (halted, waiting to be woken) and involuntary
              (preempted) context switches of QEMU's vCPU threads per I/O,
              read from the host's /proc while fio ran: CPU 1's
              (fio's) and CPU 0's (where the model usually runs)
and each round's ratio QEMU / PCIem of the mean latency. Then the rounds
grouped by PCIem's fast share, and over all rounds: how much the fast
share moves, and how the slow share compares with the host's stops of
the vCPU threads.

Absolute figures depend on the host; only the same round's figures are
comparable.

Options:
  --kernel 6.1|6.12   guest kernel (default 6.1)
  --runtime SEC       seconds per fio run, after a 1 s ramp (default 5)
  --rounds N          rounds (default 6)
  --split-us US       where fast ends (default 50)
  --timeout SEC       guest timeout (default 1200)
  --raw FILE          also keep the guest's lines with the host's times in
                      FILE, and the host's samples in FILE.samples
USAGE
}

kernel=6.1 runtime=5 rounds=6 split_us=50 timeout=1200 raw=""
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_options kernel runtime rounds split-us timeout raw -- "$@"
bench_positive "$runtime" "$rounds" "$split_us" "$timeout"
bench_tmpdir
size_mb=64

# ---- the part that runs in the guest (busybox sh) ----
bench_fio_guest "$size_mb" <<'GUEST'
. /pciem/tests/vm/lib.sh
size_mb=$1 runtime=$2 rounds=$3 split_us=$4
err() { echo "BENCH-ERROR $*"; }
for t in fio pciem-nvme; do
	command -v $t >/dev/null || { err "$t is not in the guest"; exit 1; }
done
# qd1 ROUND LABEL DEV: "BENCH-START/END ROUND LABEL" around fio (the host
# times them), then "BENCH ROUND LABEL IOS MEAN_US SLEPT_PER_IO FAST_SHARE
# FAST_MEAN_US SLOW_MEAN_US"
qd1() {
	rm -f /tmp/qd1_*.log
	echo "BENCH-START $1 $2"
	fio --allow_file_create=0 --name=qd1 --filename="$3" --direct=1 --ioengine=libaio --rw=randread --bs=4k \
		--iodepth=1 --size="${size_mb}M" --time_based --runtime="$runtime" --ramp_time=1 --cpus_allowed=1 \
		--write_lat_log=/tmp/qd1 --log_avg_msec=0 --minimal >/tmp/fio.out 2>/tmp/fio.err ||
		{ cat /tmp/fio.err; err "fio on $2 failed"; return 1; }
	echo "BENCH-END $1 $2"
	# terse (v3): 8 read IOPS, 9 runtime (ms), 90 context switches
	slept=$(tail -n 1 /tmp/fio.out | awk -F';' 'NF > 90 && $8 * $9 > 0 { printf "%.3f", $90 / ($8 * $9 / 1000) }')
	[ -n "$slept" ] || { err "no figures from fio on $2"; return 1; }
	# the latency log: TIME_MS, LATENCY_NS, DIRECTION, BS[, OFFSET]
	awk -F, -v r="$1" -v l="$2" -v s="$slept" -v cut="$split_us" '
		{ us = $2 / 1000; n++; sum += us; if (us < cut) { f++; fs += us } else ss += us }
		END { if (n) printf "BENCH %s %s %d %.1f %s %.3f %.1f %.1f\n", r, l, n, sum / n, s, f / n,
			(f ? fs / f : 0), (n > f ? ss / (n - f) : 0) }' /tmp/qd1_clat.1.log
}
default_disks PCIEM-MODES || exit 1
round=1
while [ "$round" -le "$rounds" ]; do
	echo "round $round of $rounds" >&2
	qd1 "$round" qemu "$qemu_dev" || exit 1
	qd1 "$round" pciem "$dev" || exit 1
	round=$((round + 1))
done
stop_model
GUEST

# ---- the host's side: the vCPU threads' context switches ----
# "S TIME CPU0_VOL CPU0_INVOL CPU1_VOL CPU1_INVOL" every 0.2 s while the
# guest's QEMU (the one with this run's image) lives
samples="$bench_tmp/samples"
sample_vcpus() {
	local pid="" i t comm vol invol
	for ((i = 0; i < 600; i++)); do
		pid=$(pgrep -n -f -- "^qemu-system[^ ]* .*file=$img,") && break
		sleep 0.5
	done
	[[ -n $pid ]] || return 0
	while kill -0 "$pid" 2>/dev/null; do
		declare -A v=() n=()
		for t in /proc/"$pid"/task/*; do
			comm=$(<"$t/comm") || continue
			[[ $comm =~ ^CPU\ ([01])/TCG$ ]] || continue
			vol=$(awk '/^voluntary_ctxt_switches/ { print $2 }' "$t/status") || continue
			invol=$(awk '/^nonvoluntary_ctxt_switches/ { print $2 }' "$t/status") || continue
			v[${BASH_REMATCH[1]}]=$vol n[${BASH_REMATCH[1]}]=$invol
		done
		[[ -n ${v[0]:-} && -n ${v[1]:-} ]] &&
			echo "S $EPOCHREALTIME ${v[0]} ${n[0]} ${v[1]} ${n[1]}"
		unset v n
		sleep 0.2
	done
}
sample_vcpus >"$samples" &
sampler=$!

# The guest's lines, each with the host's time it arrived at (fio's start
# and end, for the samples).
out="$bench_tmp/out"
bench_status=0
"$bench_root/tools/pciem-vm" --kernel "$kernel" --timeout "$timeout" --nvme-tools --mem 1024 \
	--qemu-arg=-name --qemu-arg=pciem-bench,debug-threads=on \
	--qemu-arg=-drive --qemu-arg="file=$img,if=none,id=nvm,format=raw,cache=writeback" \
	--qemu-arg=-device --qemu-arg=nvme,serial=qemu-ref,drive=nvm \
	--add "$bench_tmp/guest.sh:/pciem/bench-guest.sh" \
	-- sh /pciem/bench-guest.sh "$size_mb" "$runtime" "$rounds" "$split_us" 2>&1 |
	while IFS= read -r line; do echo "$EPOCHREALTIME $line"; done >"$out" || bench_status=$?
wait "$sampler" || true
if [[ -n $raw ]]; then
	cp "$out" "$raw"
	cp "$samples" "$raw.samples"
fi
if grep -qE 'BENCH-ERROR|FAILED:' "$out" || [[ $bench_status -ne 0 ]]; then
	grep -v ' BENCH' "$out" | cut -d' ' -f2- >&2 || true
	echo "$prog: the guest run failed" >&2
	exit 1
fi

# ---- the table ----
awk -v kernel="$kernel" -v cut="$split_us" -v runtime="$runtime" "$(cat "$bench_root/bench/stats.awk")"'
# the samples first (S TIME CPU0_VOL CPU0_INVOL CPU1_VOL CPU1_INVOL)
FILENAME == ARGV[1] { if ($1 == "S") { ns++; st[ns] = $2; for (i = 3; i <= 6; i++) sv[ns, i - 2] = $i }; next }
$2 == "BENCH-START" { t0[$3, $4] = $1 }
$2 == "BENCH-END" { t1[$3, $4] = $1 }
$2 == "BENCH" { k = $3 SUBSEP $4; ios[k] = $5; mean[k] = $6; slept[k] = $7; fast[k] = $8; fmean[k] = $9; smean[k] = $10
	if ($3 > last) last = $3 }
# host(K, J): vCPU counter J (1 CPU 0 voluntary, 2 CPU 0 involuntary,
# 3 CPU 1 voluntary, 4 CPU 1 involuntary) per I/O over the measured part
# of run K (after the ramp, to fio end), or -1 without samples there
function host(k, j,   a, b, i) {
	a = b = 0
	for (i = 1; i <= ns; i++) {
		if (!a && st[i] >= t0[k] + 1.2) a = i
		if (st[i] <= t1[k] - 0.1) b = i
	}
	if (!a || b <= a || ios[k] <= 0) return -1
	# the log holds the measured part only: scale the I/Os to the window
	return (sv[b, j] - sv[a, j]) / (ios[k] * (st[b] - st[a]) / runtime)
}
function line(k, label,   hv, hq) {
	hv = host(k, 3); hq = host(k, 2) + host(k, 4)
	printf "  %-6s %6.1f us  slept/IO %.2f  fast %5.1f%% (%5.1f / %6.1f us)", label, mean[k], slept[k],
		100 * fast[k], fmean[k], smean[k]
	if (hv >= 0) printf "  host: CPU 1 halted %.2f/IO, vCPUs preempted %.2f/IO", hv, hq
	printf "\n"
}
END {
	if (last == 0) { print "no figures"; exit 1 }
	printf "4 KiB random reads at QD 1, round by round, Linux %s guest under TCG, %d s per run\n", kernel, runtime
	printf "fast: I/Os under %d us (mean of the fast / of the slow ones); slept/IO: fio context switches per I/O;\n", cut
	printf "host: context switches of the vCPU threads of QEMU per I/O (halted: voluntary, of fio CPU 1; preempted: involuntary, both)\n"
	nr = 0
	for (r = 1; r <= last; r++) {
		q = r SUBSEP "qemu"; p = r SUBSEP "pciem"
		if (!(q in mean) || !(p in mean) || mean[p] <= 0) continue
		nr++
		ratio[nr] = mean[q] / mean[p]; share[nr] = fast[p]
		hs = host(p, 3); hp = host(p, 2) + host(p, 4)
		stops[nr] = hs >= 0 ? hs + hp : -1
		printf "round %d: QEMU / PCIem %.2fx\n", r, ratio[nr]
		line(q, "qemu"); line(p, "pciem")
	}
	if (!nr) { print "no round with both devices"; exit 1 }
	printf "\nrounds by the fast share of PCIem (ratio QEMU / PCIem: min / median / max):\n"
	split("0 0.2 0.5 0.7 1.01", edge, " ")
	for (g = 1; g <= 4; g++) {
		delete a; n = 0
		for (i = 1; i <= nr; i++) if (share[i] >= edge[g] && share[i] < edge[g + 1]) a[++n] = ratio[i]
		if (!n) continue
		printf "  %3d-%3d%%  %2d rounds  %s\n", 100 * edge[g], g == 4 ? 100 : 100 * edge[g + 1], n, minmedmax(a, n)
	}
	delete a; for (i = 1; i <= nr; i++) a[i] = ratio[i]
	printf "  all       %2d rounds  %s\n", nr, minmedmax(a, nr)
	delete a; for (i = 1; i <= nr; i++) a[i] = 100 * share[i]
	printf "PCIem fast share over the rounds: %s %%\n", minmedmax(a, nr)
	printf "PCIem slow share against the host stops of its vCPU threads (halted + preempted), per I/O:\n "
	for (i = 1; i <= nr; i++) if (stops[i] >= 0) printf " %.2f/%.2f", 1 - share[i], stops[i]
	printf "\n"
}
function minmedmax(a, n) { return sprintf("%.2f / %.2f / %.2f", lo(a, n), median(a, n), hi(a, n)) }
' "$samples" "$out"
