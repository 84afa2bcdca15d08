#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Where a 4 KiB NVMe read's time goes on PCIem: one guest, the stock nvme
# driver on pciem-nvme, fio at queue depth 1 with pciem.ko's tracepoints and
# the block layer's on, each I/O cut into its steps. See docs/bench.md.
set -euo pipefail

prog=${0##*/}
usage() {
	cat <<USAGE
Usage: $prog [-h|--help] [--kernel 6.1|6.12] [--runtime SEC] [--variants "V ..."] [--timeout SEC]

Boots one guest (tools/pciem-vm --nvme-tools, TCG, 2 vCPUs, with QEMU's own
-device nvme beside PCIem's) and, for QEMU's device and each variant of
pciem-nvme (--memory, 64 MiB, placed by the guest's scheduler as a
user's would be), runs fio (4 KiB random
reads, queue depth 1, pinned to CPU 1) twice: once plain, for the latency
the driver sees, and once with these tracepoints on:
  block:block_rq_issue / block_rq_complete   the I/O's start and end
  pciem:pciem_mmio                            trapped accesses (doorbells)
  pciem:pciem_dma_map                         the driver's DMA API calls
  pciem:pciem_dma_access                      the model's checked accesses
                                              (one system call each)
  pciem:pciem_irq_raise / pciem_irq_deliver   the completion interrupt
At queue depth 1 every event between an issue and its completion belongs
to that I/O (an I/O whose events are out of this order is skipped and
counted), so each I/O is cut into steps (mean over all I/Os, in us):
  submit      issue -> the model's first checked DMA access (the driver
              writes the SQE and rings the doorbell, the model notices,
              fetches the command; with a window the fetch is not traced)
  data        first -> last checked DMA access before the interrupt (the
              data, the CQE when it is not in the window)
  complete    that access -> interrupt raised (the model posts the CQE)
  deliver     raise -> delivery to the guest's handler
  finish      delivery -> the block layer's completion
and counted per I/O: trapped accesses, checked DMA accesses, DMA API map
and unmap calls, interrupts. The same steps are printed again over the
slowest tenth of the I/Os alone (at QD 1 the mean lies far above the
median). A second table puts each request's window (issue to completion,
the only thing to see of QEMU's device from inside) beside fio's mean
latency: what lies outside it (fio, aio, the wake-up of fio's thread after
the completion) is the part no device changes. Tracing adds its own cost
under TCG: the traced mean is printed against fio's untraced mean latency
of the same variant, so the overhead is visible.

Variants (pciem-nvme options):
  default    (none): adaptive polling, queues in the zero-copy window
  checked    --dma-window-mb 0: every DMA access checked (all traced)
  low-cpu    --low-cpu: woken by every doorbell
  busy-poll  --busy-poll: the model spins all the time

Options:
  --kernel 6.1|6.12   guest kernel (default 6.1)
  --runtime SEC       seconds per fio run (default 3)
  --variants "V ..."  (default "default checked low-cpu")
  --timeout SEC       guest timeout (default 900)
USAGE
}

kernel=6.1 runtime=3 variants="default checked low-cpu" timeout=900
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_options kernel runtime variants timeout -- "$@"
bench_positive "$runtime" "$timeout"
declare -A variant_args=(
	[default]=""
	[checked]="--dma-window-mb 0"
	[low-cpu]="--low-cpu"
	[busy-poll]="--busy-poll"
)
guest_variants=()
for v in $variants; do
	[[ -v variant_args[$v] ]] ||
		{ echo "$prog: unknown variant '$v' (${!variant_args[*]})" >&2; exit 2; }
	guest_variants+=("$v" "${variant_args[$v]}")
done
bench_tmpdir

# ---- the part that runs in the guest (busybox sh) ----
bench_fio_guest 64 <<'GUEST'
. /pciem/tests/vm/lib.sh
runtime=$1
size_mb=64	# prefill's (fio_guest.sh)
shift
err() { echo "BENCH-ERROR $*"; }
T=/sys/kernel/tracing
[ -d $T/events/pciem ] || mount -t tracefs tracefs $T 2>/dev/null
[ -d $T/events/pciem ] || { err "no pciem tracepoints in $T"; exit 1; }
EVENTS="block/block_rq_issue block/block_rq_complete pciem/pciem_mmio pciem/pciem_dma_map
	pciem/pciem_dma_access pciem/pciem_irq_raise pciem/pciem_irq_deliver"

fio_qd1() { # DEV: fio's mean completion latency in us
	fio --allow_file_create=0 --name=qd1 --filename="$1" --direct=1 --ioengine=libaio --rw=randread --bs=4k \
		--iodepth=1 --size=64M --time_based --runtime="$runtime" --cpus_allowed=1 \
		--minimal 2>/tmp/fio.err | tail -n 1 | awk -F';' 'NF > 40 { printf "%d", $40 }'
}

# breakdown MM LABEL PLAIN TRACED < TRACE: one I/O runs from the issue of a
# request on disk MM (major,minor) to its completion; BENCH lines of the
# phases in between, of the slowest tenth, and of the window alone (the
# only one for QEMU's device, LABEL qemu, which has no PCIem events)
breakdown() {
	awk -v mm="$1" -v v="$2" -v plain="$3" -v traced="$4" '
	function ts(   i) { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+\.[0-9]+:$/) return substr($i, 1, length($i) - 1) * 1e6; return -1 }
	function ev(   i) { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+\.[0-9]+:$/) return $(i + 1); return "" }
	# above(H, N, SHARE): the smallest whole-us value with at most SHARE
	# of the N I/Os counted in histogram H (1 us steps) at or above it
	function above(h, n, share,   v, seen) {
		for (v = 0; n - seen > n * share && v <= 100000; v++) seen += h[v] + 0
		return v
	}
	function reset() { open = 1; t0 = t; first = last = raise = deliver = -1; nm = nd = na = ni = tm = 0 }
	/^#/ { next }
	{
		t = ts(); e = ev()
		if (t < 0) next
		if (e == "block_rq_issue:" && index($0, " " mm " ")) { reset(); next }
		if (!open) next
		if (e == "pciem_mmio:") { nm++; if ($NF ~ /ns$/) tm += substr($NF, 1, length($NF) - 2) / 1000 }
		else if (e == "pciem_dma_map:") nd++
		else if (e == "pciem_dma_access:") {
			na++
			if (raise < 0) { if (first < 0) first = t; last = t }
		}
		else if (e == "pciem_irq_raise:") { ni++; if (raise < 0) raise = t }
		else if (e == "pciem_irq_deliver:") { if (deliver < 0) deliver = t }
		else if (e == "block_rq_complete:" && index($0, " " mm " ")) {
			open = 0
			# the window, issue to completion, of every I/O
			wn++; w_sum += t - t0; wt[wn] = t - t0; wh[int(t - t0)]++
			if (v == "qemu") next
			if (first < 0 || raise < 0 || deliver < 0 || deliver < raise || t < deliver) { skipped++; next }
			n++
			s_sub += first - t0; s_data += last - first; s_cpl += raise - last
			s_dlv += deliver - raise; s_fin += t - deliver; s_tot += t - t0
			c_m += nm; c_d += nd; c_a += na; c_i += ni; s_trap += tm
			# each I/O kept for the slowest tenth, the total in 1 us steps
			p_sub[n] = first - t0; p_data[n] = last - first; p_cpl[n] = raise - last
			p_dlv[n] = deliver - raise; p_fin[n] = t - deliver; p_tot[n] = t - t0
			hist[int(t - t0)]++
		}
	}
	END {
		if (wn == 0) { print "BENCH-ERROR " v ": no complete I/O in the trace"; exit }
		# the median window, and the mean of the slowest tenth
		half = above(wh, wn, 0.5)
		cut = above(wh, wn, 0.1)
		m = 0; w_tail = 0
		for (i = 1; i <= wn; i++) if (int(wt[i]) >= cut) { m++; w_tail += wt[i] }
		printf "BENCH-WINDOW %s %d %.1f %d %.1f %s %s\n", v, wn, w_sum / wn, half - 1, m ? w_tail / m : 0, plain, traced
		if (v == "qemu") exit
		if (n == 0) { print "BENCH-ERROR " v ": no complete I/O in the trace (" skipped " skipped)"; exit }
		printf "BENCH %s %d %d %.1f %.1f %.1f %.1f %.1f %.1f %.2f %.2f %.2f %.2f %s %s %.1f\n", v, n, skipped + 0,
			s_sub / n, s_data / n, s_cpl / n, s_dlv / n, s_fin / n, s_tot / n,
			c_m / n, c_a / n, c_d / n, c_i / n, plain, traced, s_trap / n
		# The slowest tenth of the I/Os (at QD 1 the mean is far above the
		# median): where their time goes, phase by phase.
		cut = above(hist, n, 0.1)
		m = 0
		for (i = 1; i <= n; i++) {
			if (int(p_tot[i]) < cut) continue
			m++
			t_sub += p_sub[i]; t_data += p_data[i]; t_cpl += p_cpl[i]
			t_dlv += p_dlv[i]; t_fin += p_fin[i]; t_tot += p_tot[i]
		}
		if (m > 0)
			printf "BENCH-TAIL %s %d %.1f %.1f %.1f %.1f %.1f %.1f\n", v, m,
				t_sub / m, t_data / m, t_cpl / m, t_dlv / m, t_fin / m, t_tot / m
	}'
}

# trace_qd1 DEV LABEL: fio at QD 1 on DEV, plain then traced; the trace
# broken down (breakdown)
trace_qd1() {
	t_dev=$1 t_label=$2
	plain=$(fio_qd1 "$t_dev")
	[ -n "$plain" ] || { cat /tmp/fio.err; err "fio on $t_dev failed"; }
	# the disk's major,minor as the block events print it
	mm=$(tr ':' ',' <"/sys/block/${t_dev#/dev/}/dev")
	echo 0 >$T/tracing_on
	echo >$T/trace
	echo 8192 >$T/buffer_size_kb
	for e in $EVENTS; do echo 1 >"$T/events/$e/enable"; done
	echo 1 >$T/tracing_on
	traced=$(fio_qd1 "$t_dev")
	echo 0 >$T/tracing_on
	for e in $EVENTS; do echo 0 >"$T/events/$e/enable"; done
	breakdown "$mm" "$t_label" "$plain" "$traced" <$T/trace
	echo >$T/trace
}

# QEMU's own nvme: where its time goes cannot be seen from inside, but the
# request's window (issue to completion) against fio's latency can.
qemu_dev=$(disk_of qemu-ref) || { nvme list; err "QEMU's nvme (serial qemu-ref) not found"; exit 1; }
prefill "$qemu_dev" || exit 1
trace_qd1 "$qemu_dev" qemu

nth=0
while [ $# -ge 2 ]; do
	v=$1 extra=$2
	shift 2
	nth=$((nth + 1))
	serial=PCIEM-BD-$nth	# start_owner uses k and n itself
	start_owner "pciem-nvme $extra" pciem-nvme --memory --size 64M \
		--serial "$serial" --ready-file @READY@ $extra || { err "pciem-nvme ($v) did not start"; continue; }
	dev=$(disk_of "$serial") || { err "pciem-nvme ($v) has no disk"; stop_model; continue; }
	prefill "$dev"
	trace_qd1 "$dev" "$v"
	stop_model
	wait_gone "$(first_addr)" || err "pciem-nvme ($v) still present after it exited"
done
GUEST

out="$bench_tmp/out"
bench_guest "$out" "$bench_tmp/guest.sh" --kernel "$kernel" --timeout "$timeout" \
	--nvme-tools --mem 1024 \
	--qemu-arg=-drive --qemu-arg="file=$img,if=none,id=nvm,format=raw,cache=writeback" \
	--qemu-arg=-device --qemu-arg=nvme,serial=qemu-ref,drive=nvm \
	-- "$runtime" "${guest_variants[@]}"
# ---- the table ----
awk -v kernel="$kernel" '
# BENCH V IOS SKIPPED SUBMIT DATA COMPLETE DELIVER FINISH TOTAL TRAPS ACCESSES MAPS IRQS PLAIN TRACED TRAP_US
$1 == "BENCH" { rows[++n] = $0 }
# BENCH-TAIL V IOS SUBMIT DATA COMPLETE DELIVER FINISH TOTAL: the slowest tenth
$1 == "BENCH-TAIL" { tail[$2] = $0 }
# BENCH-WINDOW V IOS MEAN P50 SLOWEST_TENTH PLAIN TRACED
$1 == "BENCH-WINDOW" { win[++nw] = $0 }
END {
	printf "Per-I/O breakdown of a 4 KiB random read at QD 1, Linux %s guest under TCG (mean us per I/O)\n", kernel
	printf "%-9s %7s %7s %8s %8s %7s %7s | %5s %7s %5s %5s %5s | %9s %9s\n", "variant", "submit", "data",
		"complete", "deliver", "finish", "total", "traps", "in trap", "dma", "maps", "irqs", "fio plain", "traced"
	for (i = 1; i <= n; i++) {
		split(rows[i], f, " ")
		printf "%-9s %7.1f %7.1f %8.1f %8.1f %7.1f %7.1f | %5.2f %7.1f %5.2f %5.2f %5.2f | %7d us %6d us   (%d I/Os, %d skipped)\n",
			f[2], f[5], f[6], f[7], f[8], f[9], f[10], f[11], f[17], f[12], f[13], f[14], f[15], f[16], f[3], f[4]
		if (f[2] in tail) {
			split(tail[f[2]], g, " ")
			printf "%-9s %7.1f %7.1f %8.1f %8.1f %7.1f %7.1f   (the slowest tenth: %d I/Os)\n", "  slowest",
				g[4], g[5], g[6], g[7], g[8], g[9], g[3]
		}
	}
	print "traps: trapped MMIO accesses (in trap: their time in pciem.ko, us); dma: the model'"'"'s checked DMA"
	print "accesses (system calls, shadow-doorbell polls included); maps: the"
	print "driver'"'"'s DMA API map/unmap calls; irqs: interrupts raised; all per I/O."
	print "fio plain: fio'"'"'s mean completion latency without tracing; traced: with the tracepoints on."
	print "slowest: the same phases over the slowest tenth of the traced I/Os alone."
	printf "\nThe request'"'"'s window (block_rq_issue to block_rq_complete, traced) against fio'"'"'s latency (us)\n"
	printf "%-9s %7s %7s %8s | %9s %7s\n", "device", "mean", "median", "slowest", "fio traced", "outside"
	for (i = 1; i <= nw; i++) {
		split(win[i], f, " ")
		printf "%-9s %7.1f %7d %8.1f | %9d %7.1f   (%d I/Os)\n", f[2], f[4], f[5], f[6], f[8], f[8] - f[4], f[3]
	}
	print "slowest: mean window of the slowest tenth; outside: fio'"'"'s mean latency minus the mean window"
	print "(fio, aio, and the wake-up of fio'"'"'s thread after the completion; qemu: QEMU'"'"'s own -device nvme)"
	exit n == 0
}' "$out" || exit 1
exit "$bench_status"
