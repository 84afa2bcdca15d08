# SPDX-License-Identifier: MIT
# The fio part of the NVMe benchmarks' guest scripts (busybox sh): a
# benchmark puts it in front of its own guest script. Uses the guest
# script's size_mb and runtime, and its err().

WORKLOADS="rand4k-qd1 rand4k-qd16 seq128k"

prefill() { # DEV
	fio --allow_file_create=0 --name=prefill --filename="$1" --direct=1 --ioengine=libaio --rw=write --bs=1M \
		--iodepth=4 --size="${size_mb}M" >/tmp/prefill.log 2>&1 ||
		{ cat /tmp/prefill.log; err "prefill of $1 failed"; return 1; }
}

# default_disks SERIAL: QEMU's nvme (serial qemu-ref) in qemu_dev, and
# pciem-nvme with no options (size_mb MiB in memory, serial SERIAL)
# started in dev, both prefilled; says what failed and returns 1.
default_disks() {
	qemu_dev=$(disk_of qemu-ref) || { err "QEMU's nvme (serial qemu-ref) not found"; return 1; }
	prefill "$qemu_dev" || return 1
	start_owner "pciem-nvme" pciem-nvme --memory --size "${size_mb}M" --serial "$1" \
		--ready-file @READY@ || { err "pciem-nvme did not start"; return 1; }
	dev=$(disk_of "$1") || { err "pciem-nvme has no disk"; return 1; }
	prefill "$dev"
}

# cpu_sample [cpus] NAME:PID...: one line of CPU time in clock ticks: each CPU's
# busy time (all but idle and iowait), then each process's user + system
# time (its threads', dead ones' included) and NAME.main its main thread's
# alone, "-" for a process that is gone.
cpu_sample() {
	awk '/^cpu[0-9]/ { printf "%s=%d ", $1, $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat
	for np in "$@"; do
		[ "${np#*:}" != "$np" ] || continue
		t=$(awk '{ print $14 + $15 }' "/proc/${np#*:}/stat" 2>/dev/null) || t=-
		m=$(awk '{ print $14 + $15 }' "/proc/${np#*:}/task/${np#*:}/stat" 2>/dev/null) || m=-
		printf '%s=%s %s.main=%s ' "${np%%:*}" "${t:--}" "${np%%:*}" "${m:--}"
	done
	echo
}

# measure RUN LABEL DEV [cpus] [NAME:PID...]: every workload; "BENCH RUN
# LABEL WORKLOAD IOPS KiB/s LAT_US P10_US P50_US P90_US P99_US P999_US
# SLEEPS_PER_IO" (P10-P999: percentiles of the completion latency, which
# show QD 1's two kinds of I/O and the tail that weighs on its mean;
# SLEEPS_PER_IO: fio's context switches per I/O, how often its thread
# waited for a completion asleep). With 'cpus' or NAME:PIDs (and a
# runtime of 4 s or more) also where the CPU time went while fio ran, over
# a window inside its measured part (from 1 s after the ramp to 1 s before the end):
# "BENCH-CPU RUN LABEL WORKLOAD WINDOW_S BEFORE... | AFTER..." in ticks
# (cpu_sample; USER_HZ, 100 on every architecture Linux runs this on),
# for the CPU time per I/O.
measure() {
	m_run=$1 m_label=$2 m_dev=$3
	shift 3
	for w in $WORKLOADS; do
		case $w in
		rand4k-qd1) args="--rw=randread --bs=4k --iodepth=1" ;;
		rand4k-qd16) args="--rw=randread --bs=4k --iodepth=16" ;;
		seq128k) args="--rw=read --bs=128k --iodepth=16" ;;
		esac
		fio --allow_file_create=0 --name="$w" --filename="$m_dev" --direct=1 --ioengine=libaio $args \
			--size="${size_mb}M" --time_based --runtime="$runtime" --ramp_time=1 \
			--cpus_allowed=1 --minimal >/tmp/fio.out 2>/tmp/fio.err &
		fio_pid=$!
		cpu=
		if [ $# -gt 0 ] && [ "$runtime" -ge 4 ]; then
			window=$((runtime - 2))
			sleep 2
			before=$(cpu_sample "$@")
			sleep "$window"
			after=$(cpu_sample "$@")
			cpu="BENCH-CPU $m_run $m_label $w $window $before | $after"
		fi
		wait "$fio_pid"
		# terse (v3): field 7 read KiB/s, 8 read IOPS, 9 runtime (ms), 40
		# read latency mean (us); 18-37 the completion latency's percentiles
		# as "P%=US" (fio's default list: 20 is the 10th, 24 the 50th, 28
		# the 90th, 30 the 99th, 32 the 99.9th); 90 the job's context
		# switches, over I/Os the times fio's thread slept per I/O
		r=$(tail -n 1 /tmp/fio.out | awk -F';' 'function us(f) { sub(/.*=/, "", f); return f }
			NF > 90 { ios = $8 * $9 / 1000
				printf "%d %d %d %d %d %d %d %d %.2f", $8, $7, $40, us($20), us($24), us($28), us($30), us($32),
					(ios > 0 ? $90 / ios : 0) }')
		if [ -n "$r" ]; then
			echo "BENCH $m_run $m_label $w $r"
			[ -z "$cpu" ] || echo "$cpu"
		else
			cat /tmp/fio.err
			err "fio $w on $m_label ($m_dev) failed"
		fi
	done
}
