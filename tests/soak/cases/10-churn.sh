# SPDX-License-Identifier: MIT
# For $PCIEM_SOAK_MINUTES (default 10): 64 functions of mixed models
# created, bound to their drivers, used and destroyed, cycle after cycle:
# 2 NVMe controllers (the stock nvme driver; a write and read-back on
# each), 6 test devices (pciem_mmio_test; its MMIO tests on one) and 56
# functions in 7 multi-function slots from one `pciemctl run` (pci-stub). Owners end by SIGTERM and
# SIGKILL in turn, one NVMe model while its disk is being written.
. /pciem/tests/vm/lib.sh
. /pciem/tests/soak/soak_lib.sh
. /pciem/tests/vm/nvme_lib.sh

MINUTES=${PCIEM_SOAK_MINUTES:-10}
NVME=2
TESTDEV=6
STUB=$((64 - NVME - TESTDEV))
SIZE_MB=16
DBG=/sys/kernel/debug/pciem_mmio_test

lsmod | grep -q '^pciem_mmio_test' || modprobe pciem_mmio_test model_cpu=0 ||
	{ fail "modprobe pciem_mmio_test failed"; finish; }
[ -d /sys/bus/pci/drivers/pci-stub ] || modprobe pci-stub
echo "1b36 7e00" >/sys/bus/pci/drivers/pci-stub/new_id
# A bus has 32 slots: the stubs are 7 multi-function slots of 8 (24-30).
specs=/tmp/soak-stubs.json
{
	echo '{"devices": ['
	i=0
	while [ $i -lt $STUB ]; do
		[ $i -eq 0 ] || echo ','
		mf=false
		[ $((i % 8)) -eq 0 ] && mf=true
		printf '{"vendor": "0x1b36", "device": "0x7e00", "class": "0xff0000", "slot": %d, "function": %d, "multi_function": %s, "bars": [{"index": 0, "size": "4K"}]}' \
			$((24 + i / 8)) $((i % 8)) $mf
		i=$((i + 1))
	done
	echo ']}'
} >$specs

end=$(($(date +%s) + MINUTES * 60))
cycles=0
created=0
while [ "$(date +%s)" -lt "$end" ] && [ "$FAILED" -eq 0 ]; do
	cycles=$((cycles + 1))
	owners=""
	start_model $specs || break
	owners="$MODEL_PID"
	stubs=$MODEL_ADDRS
	td=0
	tdev=""
	while [ $td -lt $TESTDEV ]; do
		start_testdev || break
		owners="$owners $MODEL_PID"
		tdev="$tdev $(first_addr)"
		td=$((td + 1))
	done
	# (lib.sh's helpers use i, k, n and a: loop counters here are others)
	nv=0
	while [ $nv -lt $NVME ]; do
		start_nvme --serial "SOAK-$cycles-$nv" || break
		owners="$owners $MODEL_PID"
		nv=$((nv + 1))
	done
	have=$(pciem_functions)
	created=$((created + have))
	[ "$have" -eq 64 ] || fail "cycle $cycles: $have functions, want 64"

	# drivers bound, and used
	for f in $stubs; do
		[ "$(driver_of "$f")" = pci-stub ] || { fail "cycle $cycles: $f not bound to pci-stub"; break; }
	done
	for f in $tdev; do
		wait_dir "$DBG/$f" || fail "cycle $cycles: pciem_mmio_test not bound to $f"
	done
	first=$(echo $tdev | cut -d' ' -f1)
	echo "all" >"$DBG/$first/run" && ! grep -q '^FAIL' "$DBG/$first/run" ||
		fail "cycle $cycles: MMIO tests failed on $first"
	disks=0
	for d in /dev/nvme0n1 /dev/nvme1n1; do
		wait_disk "$d" || { fail "cycle $cycles: no $d"; continue; }
		dd if=/dev/urandom of=/tmp/soak.ref bs=64k count=16 2>/dev/null
		dd if=/tmp/soak.ref of="$d" bs=64k conv=fsync 2>/dev/null
		echo 1 >/proc/sys/vm/drop_caches
		dd if="$d" of=/tmp/soak.back bs=64k count=16 2>/dev/null
		cmp -s /tmp/soak.ref /tmp/soak.back || fail "cycle $cycles: $d read back differs"
		disks=$((disks + 1))
	done
	# one NVMe model killed while its disk is written
	dd if=/dev/zero of=/dev/nvme0n1 bs=64k count=256 2>/dev/null &
	writer=$!
	sleep 0.3
	sig=KILL
	for p in $owners; do
		kill -$sig "$p"
		if [ $sig = KILL ]; then sig=TERM; else sig=KILL; fi
	done
	for p in $owners; do wait "$p" 2>/dev/null; done
	wait "$writer" 2>/dev/null
	wait_no_functions 600 || fail "cycle $cycles: $(pciem_functions) function(s) left 60 s after their owners ended"
done
echo "1b36 7e00" >/sys/bus/pci/drivers/pci-stub/remove_id
note "$cycles cycles in $MINUTES min: $created functions created, bound and destroyed"
echo "SOAK churn: $cycles cycles, $created functions"
finish
