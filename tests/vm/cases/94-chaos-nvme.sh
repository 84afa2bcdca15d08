# SPDX-License-Identifier: MIT
# The chaos model (devices/chaos, docs/chaos.md): an NVMe controller that
# answers at random (wrong values, late or never, lost writes and
# interrupts, refused and corrupted DMA, interrupt storms on random
# vectors, DMA at random ranges, death by SIGKILL at a random moment)
# under the stock nvme driver with I/O running, then the test device under
# chaos under PCIem's own test driver running its suites, for several
# seeds each. pciem.ko must stay quiet: any kernel report is a failure,
# except reports the stock nvme driver makes itself (classify-reports.sh),
# which are findings, printed with the seed that reproduces them.
. /pciem/tests/vm/lib.sh

# The odd seeds die under nvme, the even ones under the test driver. To
# keep the default suite within its time, each production kernel runs one
# of them (6.1 seed 1, 6.12 seed 2), so a full run covers both; the
# debug kernel runs both, and PCIEM_CHAOS_SEEDS gives any list.
case "$(uname -r)" in
*-debug*) default_seeds="1 2" ;;
6.1.*) default_seeds=1 ;;
*) default_seeds=2 ;;
esac
SEEDS=${PCIEM_CHAOS_SEEDS:-$default_seeds}
RUN_S=${PCIEM_CHAOS_SECONDS:-15}
# the nvme driver's probe alone takes seconds under TCG, more with resets
NVME_S=${PCIEM_CHAOS_NVME_SECONDS:-30}
SIZE_MB=32
here=/pciem/tests/vm

command -v pciem-chaos >/dev/null || { fail "pciem-chaos is not in PATH (devices/chaos not built?)"; finish; }
. $here/nvme_lib.sh

# A lost completion times the command out and resets the controller: in
# seconds rather than the default 30/60, so it happens within a run.
nvme_param=/sys/module/nvme_core/parameters
old_io=$(cat $nvme_param/io_timeout)
old_admin=$(cat $nvme_param/admin_timeout)
echo 3 >$nvme_param/io_timeout
echo 3 >$nvme_param/admin_timeout

# start_chaos MODEL SEED ARGS...: pciem-chaos in the background; its
# function's address in CHAOS_ADDR once it exists (it may die at any
# moment after, which is its right).
start_chaos() {
	model=$1
	seed=$2
	shift 2
	ready=/tmp/chaos-ready.$seed
	rm -f "$ready"
	pciem-chaos --model "$model" --seed "$seed" --cpu 0 --ready-file "$ready" "$@" \
		>/tmp/chaos.$seed.log 2>&1 &
	CHAOS_PID=$!
	if ! wait_for 200 -s "$ready"; then
		# dying before the ready file is written is within its rights
		grep -q 'dying now' /tmp/chaos.$seed.log && { note "seed $seed: died at once"; return 1; }
		cat /tmp/chaos.$seed.log
		fail "seed $seed: pciem-chaos never created its function"
		return 1
	fi
	CHAOS_ADDR=$(head -n 1 "$ready")
}

# begin_run ID MODEL SEED ARGS...: open the log window of run ID and start
# pciem-chaos for it; fails if it never created its function.
begin_run() {
	id=$1
	shift
	echo "--model $1 --seed $2 --read-timeout-us 50000" >/tmp/chaos-args.$id
	(shift 2; echo "$@") >>/tmp/chaos-args.$id
	log_mark
	echo "pciem-chaos-window-begin $id" >/dev/kmsg
	start_chaos "$@" || { end_window "$id"; return 1; }
}

# end_run ID SEED WHAT: the model killed if still alive, its summary and
# WHAT printed, its function gone within 30 s, the window closed.
end_run() {
	# SIGTERM first, so that it prints what it did; SIGKILL if it hangs
	kill -TERM "$CHAOS_PID" 2>/dev/null
	wait_exit "$CHAOS_PID" 50 || kill -KILL "$CHAOS_PID" 2>/dev/null
	wait "$CHAOS_PID" 2>/dev/null
	grep -E 'seed [0-9]+:' "/tmp/chaos.$2.log" | tail -n 1 | sed 's/^/    /'
	note "$1: $3"
	wait_for 300 ! -e "/sys/bus/pci/devices/$CHAOS_ADDR" ||
		fail "$1: $CHAOS_ADDR still present 30 s after its model died"
	end_window "$1"
}

# end_window ID: close the log window of run ID, classifying its reports:
# PCIem's (or anyone's but the nvme driver's) fail, the driver's are
# findings and make the window tolerated for the closing log check.
end_window() {
	reports=$(log_since | sh $here/classify-reports.sh)
	ours=$(echo "$reports" | grep '^OURS' | cut -f2-)
	stock=$(echo "$reports" | grep '^STOCK' | cut -f2-)
	if [ -n "$ours" ]; then
		log_since | grep -A 30 -E 'BUG:|WARNING:|Oops|general protection|UBSAN|ODEBUG|corruption' | head -n 80
		fail "$1: kernel report(s) not from the stock nvme driver: $ours"
		echo "pciem-chaos-window-end $1" >/dev/kmsg
	elif [ -n "$stock" ]; then
		echo "FINDING $1 (reproduce: pciem-chaos $(tr '\n' ' ' </tmp/chaos-args.$1)): $stock"
		echo "pciem-chaos-window-end $1 tolerated" >/dev/kmsg
	else
		note "ok: $1: no kernel report"
		echo "pciem-chaos-window-end $1" >/dev/kmsg
	fi
}

# ---- the stock nvme driver, with I/O ----
for seed in $SEEDS; do
	# odd seeds also die at a random moment of the run
	die=""
	[ $((seed % 2)) -eq 1 ] && die="--die-within-ms $((NVME_S * 1000))"
	# shellcheck disable=SC2086
	# calm for its first 10 s: the driver's probe gets through to I/O.
	# No corrupted writes or DMA reads, and random DMA only reads: a
	# flipped doorbell or command, or random bytes written into the
	# driver's queues or shadow doorbells (which the sanitizer must let
	# through: they are live mappings), make the model run stale
	# submission entries or forge completions, and the stock driver then
	# completes a request it already freed, corrupting memory or oopsing
	# in its interrupt handler (docs/findings.md, 6.12, seed 2). CAP is
	# read right: the driver re-reads it at each reset and sizes its shadow
	# doorbells by the old doorbell stride but indexes them by the new one,
	# so a wrong CAP.DSTRD makes it write past them into whatever memory
	# follows (docs/findings.md, the CI runs that died in kmalloc).
	begin_run "nvme-$seed" nvme "$seed" --size "${SIZE_MB}M" --calm-ms 10000 \
		--corrupt-write 0 --dma-corrupt 0 --random-dma-writes 0 --honest 0:0+8 $die || continue
	end=$(($(date +%s) + NVME_S))
	ios=0
	while [ "$(date +%s)" -lt "$end" ]; do
		dev=$(ls /dev/nvme*n1 2>/dev/null | head -n 1)
		if [ -b "$dev" ]; then
			timeout 8 fio --allow_file_create=0 --name=chaos --filename="$dev" --direct=1 --ioengine=libaio \
				--rw=randrw --bs=4k --iodepth=8 --size=4M --time_based --runtime=2 \
				>/dev/null 2>&1
			timeout 5 dd if="$dev" of=/dev/null bs=64k count=8 2>/dev/null
			ios=$((ios + 1))
		else
			sleep 0.5
		fi
	done
	end_run "nvme-$seed" "$seed" "$ios rounds of I/O"
done
echo "$old_io" >$nvme_param/io_timeout
echo "$old_admin" >$nvme_param/admin_timeout

# ---- PCIem's test driver, running its suites ----
modprobe pciem_mmio_test model_cpu=0 || { fail "modprobe pciem_mmio_test failed"; finish; }
for seed in $SEEDS; do
	die=""
	[ $((seed % 2)) -eq 0 ] && die="--die-within-ms $((RUN_S * 1000))"
	# shellcheck disable=SC2086
	begin_run "testdev-$seed" testdev "$seed" $die || continue
	dir=/sys/kernel/debug/pciem_mmio_test/$CHAOS_ADDR
	end=$(($(date +%s) + RUN_S))
	rounds=0
	while [ "$(date +%s)" -lt "$end" ] && [ -d "$dir" ]; do
		# Failing tests are expected (the device lies); a crash is not.
		for s in run irq dma; do
			[ -e "$dir/$s" ] && timeout 30 sh -c "echo all >$dir/$s && cat $dir/$s" >/dev/null 2>&1
		done
		rounds=$((rounds + 1))
	done
	end_run "testdev-$seed" "$seed" "$rounds rounds of the driver's suites"
done
rmmod pciem_mmio_test || fail "rmmod pciem_mmio_test failed"
finish
