# SPDX-License-Identifier: MIT
# Kernel memory after the soak, against 00-baseline's: no function left,
# and slab plus vmalloc within 1 MiB of the start (one leaked function
# costs more than 16 KiB, a leak per cycle of the soak far more). Pages in
# use are printed beside; they also count the page tables and stacks of
# the guest's processes, so they are shown, not judged.
. /pciem/tests/vm/lib.sh
. /pciem/tests/soak/soak_lib.sh

[ -s $baseline ] || { fail "no baseline (00-baseline did not run)"; finish; }
wait_no_functions 300 || fail "$(pciem_functions) PCIem function(s) left at the end"
read -r slab0 unrecl0 vmalloc0 pages0 <$baseline
set -- $(kmem_figures)
slab=$1 unrecl=$2 vmalloc=$3 pages=$4
note "start: slab $slab0 KiB ($unrecl0 unreclaimable), vmalloc $vmalloc0 KiB, $pages0 pages in use"
note "end:   slab $slab KiB ($unrecl unreclaimable), vmalloc $vmalloc KiB, $pages pages in use"
grow=$((slab + vmalloc - slab0 - vmalloc0))
note "slab+vmalloc grew by $grow KiB; pages in use by $((pages - pages0))"
[ "$grow" -lt 1024 ] || fail "kernel memory (slab + vmalloc) grew by $grow KiB over the soak"
rmmod pciem_mmio_test 2>/dev/null
rmmod pciem || fail "rmmod pciem failed at the end (a reference leaked)"
insmod /lib/modules/"$(uname -r)"/extra/pciem.ko || fail "insmod after rmmod failed"
finish
