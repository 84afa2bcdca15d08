#!/bin/sh
# SPDX-License-Identifier: MIT
# Host-side test of the guest suite's closing check (check-kernel-log.sh):
# each report the debug kernel's detectors print, as the kernel prints its
# first line, must fail the check; lockdep or kmemleak turned off must fail
# it; a kmemleak report is PCIem's by a pciem frame or a bare module
# address, and only then fails; a clean log and a tolerated chaos window
# pass. The check reads these files instead of the running kernel.
here=$(cd "$(dirname "$0")" && pwd)
check="$here/check-kernel-log.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

clean_log='[    1.000000] pciem: loaded
[    2.000000] pciem 10000:00:00.0: [1b36:0005] type 00 class 0x00ff00'
: >"$tmp/no-leaks"
printf ' debug_locks:                             1\n' >"$tmp/locks-on"
printf ' debug_locks:                             0\n' >"$tmp/locks-off"

# run WANT NAME LOG [LOCKDEP_STATS [KMEMLEAK]]: the check's exit status is
# 0 (WANT pass) or not (WANT fail).
run() {
	printf '%s\n' "$3" >"$tmp/log"
	PCIEM_KLOG_FILE="$tmp/log" PCIEM_KLOG_LOCKDEP_STATS="${4:-$tmp/locks-on}" \
		PCIEM_KLOG_KMEMLEAK="${5:-$tmp/no-leaks}" TMPDIR="$tmp" \
		sh "$check" >"$tmp/out" 2>&1
	rc=$?
	if { [ "$1" = pass ] && [ $rc -eq 0 ]; } || { [ "$1" = fail ] && [ $rc -ne 0 ]; }; then
		echo "ok   $2"
	else
		echo "FAIL $2: want $1, the check exited $rc:"
		sed 's/^/     | /' "$tmp/out"
		failures=$((failures + 1))
	fi
}

report() { # FIRST-LINE: a clean log with one report in the middle
	printf '%s\n[   3.000000] %s\n[   4.000000] pciem: unloaded' "$clean_log" "$1"
}

run pass "clean log" "$clean_log"
run fail "KASAN" "$(report 'BUG: KASAN: slab-use-after-free in pciem_ring_post+0x1a/0x2c [pciem]')"
run fail "KFENCE" "$(report 'BUG: KFENCE: use-after-free read in pciem_dma_unmap+0x3/0x40 [pciem]')"
run fail "lockdep circular" "$(report 'WARNING: possible circular locking dependency detected')"
run fail "lockdep recursive" "$(report 'WARNING: possible recursive locking detected')"
run fail "lockdep inconsistent" "$(report 'WARNING: inconsistent lock state')"
run fail "lockdep irq inversion" "$(report 'WARNING: possible irq lock inversion dependency detected')"
run fail "suspicious RCU usage" "$(report 'WARNING: suspicious RCU usage')"
run fail "a coherent buffer written past its end" \
	"$(report 'pciem: 10000:00:00.0: coherent buffer 0x100008000+24 was written past its end: bytes 0 to 6119 after it changed; allocated by nvme_dbbuf_dma_alloc+0x4e/0x110 [nvme]')"
run pass "the test driver's own overrun" \
	"$(report 'pciem: 10000:00:00.0: coherent buffer 0x100004000+100 was written past its end: bytes 0 to 3 after it changed; allocated by test_bad_calls+0xd2/0x240 [pciem_mmio_test]')"
run fail "UBSAN" "$(report 'UBSAN: shift-out-of-bounds in kernel/pciem_cfg.c:120:9')"
run fail "sleeping in atomic" \
	"$(report 'BUG: sleeping function called from invalid context at kernel/locking/mutex.c:580')"
run fail "DEBUG_OBJECTS" \
	"$(report 'ODEBUG: free active (active state 0) object: 00000000a1b2c3d4 object type: timer_list')"
run fail "list_add corruption" \
	"$(report 'list_add corruption. prev->next should be next (ffff888003a1b2c0), but was 0000000000000000.')"
run fail "list_del corruption" \
	"$(report 'list_del corruption, ffff888003a1b2c0->next is LIST_POISON1 (dead000000000100)')"
run fail "hung task" "$(report 'INFO: task pciem-testdev:123 blocked for more than 120 seconds.')"
run fail "soft lockup" "$(report 'watchdog: BUG: soft lockup - CPU#1 stuck for 26s! [insmod:90]')"
run fail "lockdep turned off" "$clean_log" "$tmp/locks-off"
run pass "lockdep turned off by the nvme driver's own report in a tolerated window" "$(printf '%s\n' "$clean_log" \
	'[    5.0] pciem-chaos-window-begin 9' \
	'[    5.1] WARNING: possible circular locking dependency detected' \
	'[    5.2] pciem-chaos-window-end 9 tolerated')" "$tmp/locks-off"
run fail "lockdep turned off by a report in a window not tolerated" "$(printf '%s\n' "$clean_log" \
	'[    5.0] pciem-chaos-window-begin 10' \
	'[    5.1] WARNING: possible circular locking dependency detected' \
	'[    5.2] pciem-chaos-window-end 10')" "$tmp/locks-off"

run pass "chaos window the nvme driver's own" "$(printf '%s\n' "$clean_log" \
	'[    5.0] pciem-chaos-window-begin 7' \
	'[    5.1] WARNING: CPU: 1 PID: 9 at drivers/nvme/host/pci.c:1300 nvme_timeout+0x1/0x2' \
	'[    5.2] pciem-chaos-window-end 7 tolerated')"
run fail "chaos window not tolerated" "$(printf '%s\n' "$clean_log" \
	'[    5.0] pciem-chaos-window-begin 8' \
	'[    5.1] BUG: KASAN: use-after-free in pciem_irq_raise+0x1/0x2 [pciem]' \
	'[    5.2] pciem-chaos-window-end 8')"

leak() { # FRAME...: one kmemleak report whose backtrace has these frames
	echo 'unreferenced object 0xffff888004a1b200 (size 64):'
	echo '  comm "pciem-testdev", pid 120, jiffies 4294901234 (age 12.345s)'
	echo '  hex dump (first 32 bytes):'
	echo '    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  ................'
	echo '  backtrace:'
	echo '    [<00000000c0ffee00>] kmalloc_trace+0x26/0x60'
	for f in "$@"; do
		echo "    [<00000000c0ffee01>] $f"
	done
	echo '    [<00000000c0ffee02>] do_syscall_64+0x3b/0x90'
}
leak 'pciem_function_create+0x91/0x3a0 [pciem]' >"$tmp/leak-ours"
leak '0xffffffffa0012345' >"$tmp/leak-unloaded"
leak 'kobject_set_name_vargs+0x2e/0x100' 'device_add+0x5c/0x900' >"$tmp/leak-stock"
run fail "kmemleak: a pciem frame" "$clean_log" "" "$tmp/leak-ours"
run fail "kmemleak: a bare (unloaded module) address" "$clean_log" "" "$tmp/leak-unloaded"
run pass "kmemleak: the stock kernel's own leak is listed" "$clean_log" "" "$tmp/leak-stock"
grep -q 'kobject_set_name_vargs' "$tmp/out" || {
	echo "FAIL the stock kernel's leak is not listed"
	failures=$((failures + 1))
}

[ $failures -eq 0 ] || { echo "$failures check(s) failed"; exit 1; }
echo "all checks passed"
