#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# NVMe with fio: the stock nvme driver on PCIem's NVMe model (pciem-nvme,
# namespace in memory) against QEMU's own -device nvme (image on the host's
# page cache), measured side by side in one guest run. See docs/bench.md.
set -euo pipefail

prog=${0##*/}
usage() {
	cat <<USAGE
Usage: $prog [-h|--help] [--kernel 6.1|6.12] [--size-mb N] [--runtime SEC] [--clock tsc|hpet]
       [--variants "default no-shadow busy-poll idle-poll window poll poll-window fast"] [--no-ceiling]
       [--timeout SEC]

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
  - QEMU's nvme: the reference, measured first and again last;
  - null_blk (queue_mode=2 irqmode=0, not memory-backed): a block device
    that does nothing, completing each I/O inside its submission: fio and
    the guest's block layer alone, no driver, no interrupt, no data moved.
    Not a competitor but the ceiling: no NVMe device, emulated or not, can
    beat it in this guest (--no-ceiling leaves it out);
  - pciem-nvme --memory --cpu 0, in the variants given:
      default    the model's default event loop, checked DMA (ioctls), shadow
                 doorbells (Doorbell Buffer Config) in event mode
      no-shadow  --no-shadow-doorbells: every doorbell a trapped MMIO write
      busy-poll  --busy-poll: the model spins on its request ring and polls
                 the shadow doorbells (no doorbell traps, coalesced interrupts)
      idle-poll  --idle-poll-us 1000: after work the model polls as busy-poll
                 does until 1 ms passes idle, then sleeps (event mode)
      window     --dma-window-mb 64: the device's DMA lands in a zero-copy
                 window (streaming mappings bounced through it)
      poll       --poll-interval-us 20: the model sleeps, but wakes every 20 us
                 to poll the shadow doorbells (no doorbell traps, batched and
                 coalesced completions, no spinning CPU)
      poll-window  --poll-interval-us 20 --dma-window-mb 64
                 --dma-window-no-bounce: the same, with queues and shadows
                 in the window (polled with no system call), data checked
                 and copied once
      fast       --busy-poll --dma-window-mb 64 --dma-window-no-bounce, and
                 pciem.ko's dma_trace_depth=0 (no call chains recorded):
                 everything for speed, the DMA checks still on
The disks are told apart by serial (nvme list). Prints each figure and the
ratio PCIem/QEMU (QEMU: the mean of its two runs). Absolute figures depend
on the host and TCG; only ratios from the same run mean anything.

The guest's clocksource matters more than anything else here: fio and the
block layer read the clock several times per I/O, and under TCG an HPET read
is an exit into QEMU under its big lock, which QEMU's own NVMe emulation
also holds. With HPET (what the kernel picks under TCG on its own) those
reads cost more than the I/O and throttle QEMU's device most; the default
boots the guest with clocksource=tsc tsc=reliable, so the devices are what
is measured.

Options:
  --kernel 6.1|6.12   guest kernel (default 6.1)
  --clock tsc|hpet    guest clocksource (default tsc; hpet: the kernel's own
                      choice under TCG)
  --size-mb N         MiB of each disk used (default 128)
  --runtime SEC       seconds per fio run, after the ramp (default 5)
  --variants "V ..."  PCIem variants (default "default no-shadow busy-poll idle-poll window poll poll-window fast")
  --no-ceiling        do not measure null_blk
  --timeout SEC       guest timeout (default 900)
USAGE
}

kernel=6.1 size_mb=128 runtime=5 variants="default no-shadow busy-poll idle-poll window poll poll-window fast" timeout=900
clock=tsc no_ceiling=0
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_options kernel size-mb runtime variants clock no-ceiling! timeout -- "$@"
ceiling=$((1 - no_ceiling))
bench_positive "$size_mb" "$runtime" "$timeout"
case "$clock" in
tsc) clock_args=(--append "clocksource=tsc tsc=reliable") ;;
hpet) clock_args=() ;;
*) echo "$prog: --clock is tsc or hpet" >&2; exit 2 ;;
esac
[[ $size_mb -le 512 ]] || { echo "$prog: --size-mb is at most 512 (the model's namespace is guest memory)" >&2; exit 2; }
# The one list of variants: each one's pciem-nvme options, and the pciem.ko
# parameters (NAME=VALUE, set in /sys/module/pciem/parameters for its run).
declare -A variant_args=(
	[default]=""
	[no-shadow]="--no-shadow-doorbells"
	[busy-poll]="--busy-poll"
	[window]="--dma-window-mb 64"
	[poll]="--poll-interval-us 20"
	[poll-window]="--poll-interval-us 20 --dma-window-mb 64 --dma-window-no-bounce"
	[fast]="--busy-poll --dma-window-mb 64 --dma-window-no-bounce"
	[idle-poll]="--idle-poll-us 1000"
)
declare -A variant_params=(
	[fast]="dma_trace_depth=0"
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
img="$bench_tmp/qemu-nvme.img"
truncate -s "${size_mb}M" "$img"

# ---- the part that runs in the guest (busybox sh) ----
cat >"$bench_tmp/guest.sh" <<'GUEST'
. /pciem/tests/vm/lib.sh
size_mb=$1 runtime=$2 ceiling=$3
shift 3
err() { echo "BENCH-ERROR $*"; }
for t in nvme fio pciem-nvme; do
	command -v $t >/dev/null || { err "$t is not in the guest (pciem-vm --nvme-tools)"; exit 1; }
done
WORKLOADS="rand4k-qd1 rand4k-qd16 seq128k"

prefill() { # DEV
	fio --name=prefill --filename="$1" --direct=1 --ioengine=libaio --rw=write --bs=1M \
		--iodepth=4 --size="${size_mb}M" >/tmp/prefill.log 2>&1 ||
		{ cat /tmp/prefill.log; err "prefill of $1 failed"; return 1; }
}

# measure LABEL DEV: every workload; "BENCH LABEL WORKLOAD IOPS KiB/s LAT_US"
measure() {
	for w in $WORKLOADS; do
		case $w in
		rand4k-qd1) args="--rw=randread --bs=4k --iodepth=1" ;;
		rand4k-qd16) args="--rw=randread --bs=4k --iodepth=16" ;;
		seq128k) args="--rw=read --bs=128k --iodepth=16" ;;
		esac
		# terse (v3): field 7 read KiB/s, 8 read IOPS, 40 read latency mean (us)
		r=$(fio --name="$w" --filename="$2" --direct=1 --ioengine=libaio $args \
			--size="${size_mb}M" --time_based --runtime="$runtime" --ramp_time=1 \
			--cpus_allowed=1 --minimal 2>/tmp/fio.err | tail -n 1 |
			awk -F';' 'NF > 40 { printf "%d %d %d", $8, $7, $40 }')
		if [ -n "$r" ]; then
			echo "BENCH $1 $w $r"
		else
			cat /tmp/fio.err
			err "fio $w on $1 ($2) failed"
		fi
	done
}

qemu_dev=$(disk_of qemu-ref) || { nvme list; err "QEMU's nvme (serial qemu-ref) not found"; exit 1; }
prefill "$qemu_dev" && measure qemu-first "$qemu_dev"

# The ceiling: null_blk completing in submission, moving no data.
if [ "$ceiling" = 1 ]; then
	rmmod null_blk 2>/dev/null
	if modprobe null_blk queue_mode=2 irqmode=0 memory_backed=0 gb=1 nr_devices=1 &&
		[ -b /dev/nullb0 ]; then
		measure null_blk /dev/nullb0
		rmmod null_blk
	else
		err "null_blk could not be loaded"
	fi
fi

# set_params NAME=VALUE...: pciem.ko's parameters; prints what they were.
set_params() {
	for p in "$@"; do
		f=/sys/module/pciem/parameters/${p%%=*}
		printf '%s=%s ' "${p%%=*}" "$(cat "$f")"
		echo "${p#*=}" >"$f" || err "cannot set pciem.ko parameter $p"
	done
}

# the rest: VARIANT OPTIONS PARAMS triples
k=0
while [ $# -ge 3 ]; do
	v=$1 extra=$2 params=$3
	shift 3
	k=$((k + 1))
	serial=PCIEM-BENCH-$k
	old_params=$(set_params $params)
	start_owner "pciem-nvme $extra" pciem-nvme --cpu 0 --memory --size "${size_mb}M" \
		--serial "$serial" --ready-file @READY@ $extra || { err "pciem-nvme ($v) did not start"; continue; }
	if dev=$(disk_of "$serial"); then
		prefill "$dev" && measure "pciem-$v" "$dev"
	else
		nvme list
		err "pciem-nvme ($v, serial $serial) has no disk"
	fi
	stop_model
	wait_gone "$(first_addr)" || err "pciem-nvme ($v) still present after it exited"
	set_params $old_params >/dev/null
done

measure qemu-last "$qemu_dev"
GUEST

out="$bench_tmp/out"
bench_guest "$out" "$bench_tmp/guest.sh" --kernel "$kernel" --timeout "$timeout" \
	--nvme-tools --mem 1024 "${clock_args[@]}" "${ceiling_args[@]}" \
	--qemu-arg=-drive --qemu-arg="file=$img,if=none,id=nvm,format=raw,cache=writeback" \
	--qemu-arg=-device --qemu-arg=nvme,serial=qemu-ref,drive=nvm \
	-- "$size_mb" "$runtime" "$ceiling" "${guest_variants[@]}"

# ---- the table ----
legend=""
for v in $variants; do
	p=${variant_params[$v]:-}
	legend+="$v=${variant_args[$v]:-(no options)}${p:+, pciem.ko $p};"
done
awk -v kernel="$kernel" -v size="$size_mb" -v runtime="$runtime" -v variants="$variants" \
	-v clock="$clock" -v legend="$legend" '
# BENCH LABEL WORKLOAD IOPS KiB/s LAT_US
$1 == "BENCH" { k = $2 " " $3; iops[k] = $4; kib[k] = $5; lat[k] = $6 }
function val(k, w) { return w == "seq128k" ? kib[k] / 1024 : iops[k] }
END {
	printf "NVMe with fio, Linux %s guest under TCG (clocksource %s), first %d MiB of each disk, %d s per run\n",
		kernel, clock, size, runtime
	printf "ratio = PCIem / QEMU -device nvme (mean of its first and last run), same guest run\n"
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
		f = "qemu-first " w
		l = "qemu-last " w
		if (!(f in iops) || !(l in iops)) {
			printf "  %-30s (not measured)\n", "QEMU -device nvme"
			missing = 1
			continue
		}
		ref = (val(f, w) + val(l, w)) / 2
		printf "  %-30s %9.1f   (first %.1f, last %.1f; mean latency %d / %d us)\n",
			"QEMU -device nvme", ref, val(f, w), val(l, w), lat[f], lat[l]
		c = "null_blk " w
		if (c in iops && ref > 0)
			printf "  %-30s %9.1f   ratio %6.3fx   (the ceiling: fio and the block layer alone)\n",
				"null_blk (does nothing)", val(c, w), val(c, w) / ref
		for (j = 1; j <= nv; j++) {
			v = vs[j]
			label = "pciem-nvme " v
			k = "pciem-" v " " w
			if (!(k in iops) || ref <= 0) {
				printf "  %-30s (not measured)\n", label
				missing = 1
				continue
			}
			printf "  %-30s %9.1f   ratio %6.3fx   (mean latency %d us)\n",
				label, val(k, w), val(k, w) / ref, lat[k]
		}
	}
	exit missing
}' "$out" || exit 1
exit "$bench_status"
