#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# NVMe with fio: the stock nvme driver on PCIem's NVMe model (pciem-nvme,
# namespace in memory) against QEMU's own -device nvme (image on the host's
# page cache), measured side by side in one guest run. See docs/bench.md.
set -euo pipefail

prog=${0##*/}
usage() {
	cat <<USAGE
Usage: $prog [-h|--help] [--kernel 6.1|6.12] [--size-mb N] [--runtime SEC] [--runs N]
       [--clock tsc|hpet] [--variants "V ..."] [--no-ceiling] [--timeout SEC]

Boots one guest (tools/pciem-vm --nvme-tools, TCG, 2 vCPUs, 1 GiB) with
QEMU's NVMe controller (-device nvme; its image a sparse raw file in a host
temporary directory, cache=writeback, so on the host's page cache) and runs
fio (--direct=1 --ioengine=libaio, pinned to CPU 1, time-based after a 1 s
ramp) on the first --size-mb MiB of each disk, written once beforehand so
reads return written data:
  rand4k-qd1    4 KiB random reads, queue depth 1   (IOPS)
  rand4k-qd16   4 KiB random reads, queue depth 16  (IOPS)
  seq128k       128 KiB sequential reads, queue depth 16  (MiB/s)
against
  - QEMU's nvme: the reference, measured first and again last in each run;
  - null_blk (queue_mode=2 irqmode=0, not memory-backed): a block device
    that does nothing, completing each I/O inside its submission: fio and
    the guest's block layer alone, no driver, no interrupt, no data moved.
    Not a competitor but the ceiling: no NVMe device, emulated or not, can
    beat it in this guest (--no-ceiling leaves it out);
  - pciem-nvme --memory, in the variants given:
      default    no options: what a user gets (adaptive polling, queues in a
                 32 MiB zero-copy window, data checked and copied once, no
                 call chains recorded for streaming mappings; the scheduler
                 places it); after its figures, a verifying fio (randwrite
                 4 KiB QD16, crc32c)
      pinned     --cpu 0: the default kept off fio's CPU
      low-cpu    --low-cpu: never spins, woken by every doorbell
      checked    --dma-window-mb 0: no window, every DMA access a system call
      traced     the default with pciem.ko dma_trace_depth=6 (call chains of
                 every map and unmap recorded for the sanitizer's reports)
      busy-poll  --busy-poll: the model spins all the time
      no-shadow  --no-shadow-doorbells: every doorbell a trapped MMIO write
      poll       --poll-interval-us 20: sleeps, woken every 20 us to poll
      bounce     --dma-window-bounce: data bounced through the window too
The whole sequence runs --runs times in the same guest; each figure is
printed as the median of the runs with the min and max of its ratio.
At QD 1 each device's line also gives percentiles of the completion
latency and how many times fio's thread slept per I/O (its context
switches): the mean, and so the IOPS, is made of the I/Os whose interrupt
reached fio's CPU before its vCPU halted and of those that had to wake it.
Ratios: PCIem / QEMU -device nvme (the mean of QEMU's two measurements of
the same run), and PCIem / null_blk (how much of the ceiling is reached).
Absolute figures depend on the host and TCG; only ratios from the same run
mean anything. Exits non-zero if a figure is missing or the verify failed.

The guest's clocksource matters more than anything else here: fio and the
block layer read the clock several times per I/O, and under TCG an HPET read
is an exit into QEMU under its big lock, which QEMU's own NVMe emulation
also holds. With HPET (what the kernel picks under TCG when it does not
trust the TSC) those reads cost more than the I/O and throttle QEMU's
device most; the default boots the guest with clocksource=tsc (pciem-vm
adds tsc=reliable to every x86 guest), so the devices are what is measured.

Options:
  --kernel 6.1|6.12   guest kernel (default 6.1)
  --clock tsc|hpet    guest clocksource (default tsc; hpet: clocksource=hpet,
                      what the kernel picks under TCG without tsc=reliable)
  --size-mb N         MiB of each disk used (default 128)
  --runtime SEC       seconds per fio run, after the ramp (default 5)
  --runs N            repetitions of the whole sequence (default 3)
  --variants "V ..."  PCIem variants (default "default low-cpu checked traced busy-poll")
  --no-ceiling        do not measure null_blk
  --timeout SEC       guest timeout (default 2400)
USAGE
}

kernel=6.1 size_mb=128 runtime=5 runs=3 variants="default low-cpu checked traced busy-poll" timeout=2400
clock=tsc no_ceiling=0
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_options kernel size-mb runtime runs variants clock no-ceiling! timeout -- "$@"
ceiling=$((1 - no_ceiling))
bench_positive "$size_mb" "$runtime" "$runs" "$timeout"
case "$clock" in
tsc) clock_args=(--append "clocksource=tsc tsc=reliable") ;;
hpet) clock_args=(--append "clocksource=hpet") ;;
*) echo "$prog: --clock is tsc or hpet" >&2; exit 2 ;;
esac
[[ $size_mb -le 512 ]] || { echo "$prog: --size-mb is at most 512 (the model's namespace is guest memory)" >&2; exit 2; }
# The one list of variants: each one's pciem-nvme options, and the pciem.ko
# parameters (NAME=VALUE, set in /sys/module/pciem/parameters for its run).
declare -A variant_args=(
	[default]=""
	[pinned]="--cpu 0"
	[low-cpu]="--low-cpu"
	[checked]="--dma-window-mb 0"
	[traced]=""
	[busy-poll]="--busy-poll"
	[no-shadow]="--no-shadow-doorbells"
	[poll]="--poll-interval-us 20"
	[bounce]="--dma-window-bounce"
)
declare -A variant_params=(
	[traced]="dma_trace_depth=6"
)
guest_variants=()
for v in $variants; do
	[[ -v variant_args[$v] ]] ||
		{ echo "$prog: unknown variant '$v' (${!variant_args[*]})" >&2; exit 2; }
	guest_variants+=("$v" "${variant_args[$v]}" "${variant_params[$v]:-}")
done
ceiling_args=()
[[ $ceiling == 1 ]] && ceiling_args=(--module null_blk)
bench_tmpdir

# ---- the part that runs in the guest (busybox sh) ----
bench_fio_guest "$size_mb" <<'GUEST'
. /pciem/tests/vm/lib.sh
size_mb=$1 runtime=$2 ceiling=$3 runs=$4
shift 4
err() { echo "BENCH-ERROR $*"; }
for t in nvme fio pciem-nvme; do
	command -v $t >/dev/null || { err "$t is not in the guest (pciem-vm --nvme-tools)"; exit 1; }
done
# verify RUN LABEL DEV: data written is data read back (crc32c), on the
# same configuration as the figures; "BENCH-VERIFY RUN LABEL PASS|FAIL"
verify() {
	if fio --allow_file_create=0 --name=verify --filename="$3" --direct=1 --ioengine=libaio --rw=randwrite \
		--bs=4k --iodepth=16 --size=32M --verify=crc32c --do_verify=1 \
		--verify_fatal=1 >/tmp/verify.log 2>&1; then
		echo "BENCH-VERIFY $1 $2 PASS"
	else
		tail -n 20 /tmp/verify.log
		echo "BENCH-VERIFY $1 $2 FAIL"
	fi
}

# set_params NAME=VALUE...: pciem.ko's parameters; prints what they were.
set_params() {
	for p in "$@"; do
		f=/sys/module/pciem/parameters/${p%%=*}
		printf '%s=%s ' "${p%%=*}" "$(cat "$f")"
		echo "${p#*=}" >"$f" || err "cannot set pciem.ko parameter $p"
	done
}

qemu_dev=$(disk_of qemu-ref) || { nvme list; err "QEMU's nvme (serial qemu-ref) not found"; exit 1; }
prefill "$qemu_dev" || exit 1

run=1
while [ $run -le "$runs" ]; do
	echo "run $run of $runs" >&2
	measure $run qemu-first "$qemu_dev"

	# The ceiling: null_blk completing in submission, moving no data.
	if [ "$ceiling" = 1 ]; then
		rmmod null_blk 2>/dev/null
		if modprobe null_blk queue_mode=2 irqmode=0 memory_backed=0 gb=1 nr_devices=1 &&
			[ -b /dev/nullb0 ]; then
			measure $run null_blk /dev/nullb0
			rmmod null_blk
		else
			err "null_blk could not be loaded"
		fi
	fi

	# the variants: VARIANT OPTIONS PARAMS triples
	set -- "$@" END
	nth=0
	while [ "$1" != END ]; do
		v=$1 extra=$2 params=$3
		shift 3
		set -- "$@" "$v" "$extra" "$params"	# keep them for the next run
		nth=$((nth + 1))
		serial=PCIEM-BENCH-$nth	# start_owner uses k and n itself
		old_params=$(set_params $params)
		if start_owner "pciem-nvme $extra" pciem-nvme --memory --size "${size_mb}M" \
			--serial "$serial" --ready-file @READY@ $extra; then
			if dev=$(disk_of "$serial"); then
				prefill "$dev" && measure $run "pciem-$v" "$dev"
				[ "$v" = default ] && verify $run "pciem-$v" "$dev"
			else
				nvme list
				err "pciem-nvme ($v, serial $serial) has no disk"
			fi
			stop_model
			wait_gone "$(first_addr)" || err "pciem-nvme ($v) still present after it exited"
		else
			err "pciem-nvme ($v) did not start"
		fi
		set_params $old_params >/dev/null
	done
	shift

	measure $run qemu-last "$qemu_dev"
	run=$((run + 1))
done
GUEST

out="$bench_tmp/out"
bench_guest "$out" "$bench_tmp/guest.sh" --kernel "$kernel" --timeout "$timeout" \
	--nvme-tools --mem 1024 "${clock_args[@]}" "${ceiling_args[@]}" \
	--qemu-arg=-drive --qemu-arg="file=$img,if=none,id=nvm,format=raw,cache=writeback" \
	--qemu-arg=-device --qemu-arg=nvme,serial=qemu-ref,drive=nvm \
	-- "$size_mb" "$runtime" "$ceiling" "$runs" "${guest_variants[@]}"

# ---- the table ----
legend=""
for v in $variants; do
	p=${variant_params[$v]:-}
	legend+="$v=${variant_args[$v]:-(no options)}${p:+, pciem.ko $p};"
done
awk -v kernel="$kernel" -v size="$size_mb" -v runtime="$runtime" -v variants="$variants" \
	-v clock="$clock" -v legend="$legend" -v runs="$runs" "$(cat "$bench_root/bench/stats.awk")"'
# BENCH RUN LABEL WORKLOAD IOPS KiB/s LAT_US P10_US P50_US P90_US P99_US P999_US SLEEPS_PER_IO
# (the percentiles kept as one string)
$1 == "BENCH" { k = $2 " " $3 " " $4; iops[k] = $5; kib[k] = $6; lat[k] = $7; pc[k] = $8 " " $9 " " $10 " " $11 " " $12; sl[k] = $13 }
# sleeps KEYS N: "fio slept N.NN times per I/O", the median over the runs
function sleeps(keys, n,   i, col) {
	delete col
	for (i = 1; i <= n; i++) col[i] = sl[keys[i]]
	return sprintf("fio slept %.2f times per I/O", median(col, n))
}
# percentiles KEYS N: "p10/p50/p90/p99/p99.9 A/B/C/D/E us", each the median
# over the runs of the measurements KEYS[1..N]
function percentiles(keys, n,   i, j, f, col, out) {
	out = ""
	for (j = 1; j <= 5; j++) {
		delete col
		for (i = 1; i <= n; i++) { split(pc[keys[i]], f, " "); col[i] = f[j] }
		out = out (j > 1 ? "/" : "") sprintf("%d", median(col, n))
	}
	return "p10/p50/p90/p99/p99.9 " out " us"
}
$1 == "BENCH-VERIFY" { verified[$3] = verified[$3] " " $4; if ($4 != "PASS") bad_verify = 1 }
function val(k, w) { return w == "seq128k" ? kib[k] / 1024 : iops[k] }
END {
	printf "NVMe with fio, Linux %s guest under TCG (clocksource %s), first %d MiB of each disk, %d s per run, %d runs\n",
		kernel, clock, size, runtime, runs
	printf "each figure: the median of the runs; ratios: median (min-max) over the runs of\n"
	printf "  vs QEMU = PCIem / QEMU -device nvme (mean of its first and last measurement of that run)\n"
	printf "  of ceiling = PCIem / null_blk of that run\n"
	printf "pciem-nvme variants:\n"
	nl = split(legend, ls, ";")
	for (i = 1; i <= nl; i++)
		if (ls[i] != "") {
			eq = index(ls[i], "=")
			printf "  %-12s %s\n", substr(ls[i], 1, eq - 1), substr(ls[i], eq + 1)
		}
	nv = split(variants, vs, " ")
	split("rand4k-qd1 rand4k-qd16 seq128k", ws, " ")
	for (i = 1; i <= 3; i++) {
		w = ws[i]
		unit = w == "seq128k" ? "MiB/s" : "IOPS"
		title = w == "rand4k-qd1" ? "4 KiB random read, QD 1" : \
			w == "rand4k-qd16" ? "4 KiB random read, QD 16" : "128 KiB sequential read, QD 16"
		printf "\n%s (%s)\n", title, unit
		n = 0
		delete refv; delete ceil; delete cr
		for (r = 1; r <= runs; r++) {
			f = r " qemu-first " w
			l = r " qemu-last " w
			if (!(f in iops) || !(l in iops)) continue
			refv[r] = (val(f, w) + val(l, w)) / 2
			n++
			c = r " null_blk " w
			if (c in iops && refv[r] > 0) { ceil[r] = val(c, w); cr[++nc[w]] = ceil[r] / refv[r] }
		}
		if (n < runs) {
			printf "  %-24s (not measured in every run)\n", "QEMU -device nvme"
			missing = 1
			continue
		}
		delete a; for (r = 1; r <= runs; r++) a[r] = refv[r]
		pct = ""
		if (w == "rand4k-qd1") {
			delete ks
			for (r = 1; r <= runs; r++) ks[r] = r " qemu-first " w
			pct = "; its first measurement " percentiles(ks, runs) "; " sleeps(ks, runs)
		}
		printf "  %-24s %9.1f   (the reference%s)\n", "QEMU -device nvme", median(a, runs), pct
		if (nc[w] == runs) {
			delete a; for (r = 1; r <= runs; r++) a[r] = ceil[r]
			printf "  %-24s %9.1f   vs QEMU %s   (the ceiling: fio and the block layer alone)\n",
				"null_blk (does nothing)", median(a, runs), spread(cr, runs)
		}
		for (j = 1; j <= nv; j++) {
			v = vs[j]
			label = "pciem-nvme " v
			got = 0
			delete a; delete q; delete o; delete lt; delete ks
			for (r = 1; r <= runs; r++) {
				k = r " pciem-" v " " w
				if (!(k in iops) || refv[r] <= 0) continue
				got++
				a[got] = val(k, w); q[got] = val(k, w) / refv[r]; lt[got] = lat[k]
				ks[got] = k
				if (r in ceil && ceil[r] > 0) o[got] = val(k, w) / ceil[r]
			}
			if (got < runs) {
				printf "  %-24s (not measured in every run)\n", label
				missing = 1
				continue
			}
			line = sprintf("  %-24s %9.1f   vs QEMU %s", label, median(a, got), spread(q, got))
			if (length(o) == got)
				line = line sprintf("   of ceiling %s", spread(o, got))
			# At QD 1 the percentiles show the two kinds of I/O (the
			# interrupt reached the CPU of fio before its vCPU halted, or after:
			# QEMU woke it again) and the tail, which weighs on the mean and
			# so on the IOPS; the sleeps say fio waited asleep either way.
			if (w == "rand4k-qd1")
				printf "%s   (latency %d us; %s; %s)\n", line, median(lt, got), percentiles(ks, got), sleeps(ks, got)
			else
				printf "%s   (latency %d us)\n", line, median(lt, got)
		}
	}
	for (j = 1; j <= nv; j++)
		if (vs[j] == "default") {
			if (!("pciem-default" in verified)) { print "\nfio --verify on the default: not run"; missing = 1 }
			else printf "\nfio --verify (randwrite 4 KiB QD16, crc32c) on the default, each run:%s\n", verified["pciem-default"]
		}
	exit missing || bad_verify
}' "$out" || exit 1
exit "$bench_status"
