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

# measure RUN LABEL DEV: every workload; "BENCH RUN LABEL WORKLOAD IOPS KiB/s LAT_US"
measure() {
	for w in $WORKLOADS; do
		case $w in
		rand4k-qd1) args="--rw=randread --bs=4k --iodepth=1" ;;
		rand4k-qd16) args="--rw=randread --bs=4k --iodepth=16" ;;
		seq128k) args="--rw=read --bs=128k --iodepth=16" ;;
		esac
		# terse (v3): field 7 read KiB/s, 8 read IOPS, 40 read latency mean (us)
		r=$(fio --allow_file_create=0 --name="$w" --filename="$3" --direct=1 --ioengine=libaio $args \
			--size="${size_mb}M" --time_based --runtime="$runtime" --ramp_time=1 \
			--cpus_allowed=1 --minimal 2>/tmp/fio.err | tail -n 1 |
			awk -F';' 'NF > 40 { printf "%d %d %d", $8, $7, $40 }')
		if [ -n "$r" ]; then
			echo "BENCH $1 $2 $w $r"
		else
			cat /tmp/fio.err
			err "fio $w on $2 ($3) failed"
		fi
	done
}
