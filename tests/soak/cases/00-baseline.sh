# SPDX-License-Identifier: MIT
# Kernel memory before the soak, after one round of every model and driver
# it uses (so caches that fill once are in the baseline): 99-memory
# compares the end with it.
. /pciem/tests/vm/lib.sh
. /pciem/tests/soak/soak_lib.sh
. /pciem/tests/vm/nvme_lib.sh

SIZE_MB=16
modprobe pciem_mmio_test model_cpu=0 || { fail "modprobe pciem_mmio_test failed"; finish; }
if start_testdev; then
	wait_dir "/sys/kernel/debug/pciem_mmio_test/$(first_addr)" || fail "pciem_mmio_test did not bind"
	stop_model
fi
if start_nvme; then
	wait_disk /dev/nvme0n1 && dd if=/dev/nvme0n1 of=/dev/null bs=64k count=16 2>/dev/null
	stop_model
fi
wait_no_functions 100 || fail "functions left after the warm-up"
kmem_figures >$baseline
read -r slab unrecl vmalloc pages <$baseline
note "start: slab $slab KiB ($unrecl unreclaimable), vmalloc $vmalloc KiB, $pages pages in use"
finish
