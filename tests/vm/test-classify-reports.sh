#!/bin/sh
# SPDX-License-Identifier: MIT
# Host-side test of classify-reports.sh, which 94-chaos-nvme uses to tell
# the stock nvme driver's own reports (findings) from PCIem's (failures).
# Each log below is shaped as the kernel prints it; the lockdep one is the
# report the debug kernel gave during 94-chaos-nvme (2026-12-05): the nvme
# driver's own lock cycle, closed while PCIem removed the device.
here=$(cd "$(dirname "$0")" && pwd)
classify="$here/classify-reports.sh"
failures=0

# expect WANT NAME LOG: the classifier's first word for LOG is WANT.
expect() {
	got=$(printf '%s\n' "$3" | sh "$classify" | cut -f1 | sort -u | tr '\n' ' ')
	if [ "$got" = "$1 " ]; then
		echo "ok   $2"
	else
		echo "FAIL $2: want $1, got '$got':"
		printf '%s\n' "$3" | sh "$classify" | sed 's/^/     | /'
		failures=$((failures + 1))
	fi
}

# lockdep_cycle HELD-AT CHAIN-FRAME: a circular-locking report whose held
# lock was taken at HELD-AT; its dependency chain's first lock was taken
# by CHAIN-FRAME, called from PCIem's removal either way.
lockdep_cycle() {
	cat <<EOF
[  101.000001] WARNING: possible circular locking dependency detected
[  101.000002] 6.1.192-pciem-debug #1 Tainted: G           O
[  101.000003] ------------------------------------------------------
[  101.000004] kworker/u4:3/3730 is trying to acquire lock:
[  101.000005] ffff888009a08270 ((work_completion)(&q->timeout_work)){+.+.}-{0:0}, at: __flush_work+0xe6/0x5a8
[  101.000006]
[  101.000007] but task is already holding lock:
[  101.000008] ffff888009e78528 (&ctrl->namespaces_rwsem){++++}-{3:3}, at: $1
[  101.000009]
[  101.000010] which lock already depends on the new lock.
[  101.000011]
[  101.000012] the existing dependency chain (in reverse order) is:
[  101.000013]
[  101.000014] -> #2 (&ctrl->namespaces_rwsem){++++}-{3:3}:
[  101.000015]        down_read+0x83/0x250
[  101.000016]        $2
[  101.000017]        nvme_dev_disable+0x25d/0x5b9
[  101.000018]        nvme_remove+0x9f/0x25a
[  101.000019]        pci_device_remove+0x68/0xa2
[  101.000020]        pci_stop_and_remove_bus_device+0xf/0x19
[  101.000021]        remove_pdev+0x15f/0x1ef [pciem]
[  101.000022]        pciem_function_remove+0xa3/0x178 [pciem]
[  101.000023]        __fput+0x3da/0x6b5
[  101.000024]
[  101.000025] -> #1 ((work_completion)(&q->timeout_work)){+.+.}-{0:0}:
[  101.000026]        lock_acquire+0x1a2/0x4a0
[  101.000027]        process_one_work+0x7a3/0x1140
[  101.000028]        worker_thread+0x5e/0x580
[  101.000029]
[  101.000030] other info that might help us debug this:
[  101.000031]
[  101.000032] 3 locks held by kworker/u4:3/3730:
[  101.000033]  #0: ffff888009e78528 (&ctrl->namespaces_rwsem){++++}-{3:3}, at: $1
[  101.000034]
[  101.000035] stack backtrace:
[  101.000036] CPU: 1 PID: 3730 Comm: kworker/u4:3 Tainted: G           O       6.1.192-pciem-debug #1
[  101.000037] Call Trace:
[  101.000038]  <TASK>
[  101.000039]  dump_stack_lvl+0x5b/0x77
[  101.000040]  check_noncircular+0x185/0x1ae
[  101.000041]  __lock_acquire+0x1f2e/0x2b30
[  101.000042]  lock_acquire+0x1a2/0x4a0
[  101.000043]  __flush_work+0xf2/0x5a8
[  101.000044]  nvme_sync_io_queues+0x5a/0xa1
[  101.000045]  nvme_reset_work+0x2cf/0x1ce0
[  101.000046]  process_one_work+0x7a3/0x1140
[  101.000047]  </TASK>
EOF
}

expect STOCK "lockdep: the nvme driver's own cycle, closed during PCIem's removal" \
	"$(lockdep_cycle nvme_sync_io_queues+0x24/0xa1 nvme_stop_queues+0x24/0xd3)"
expect OURS "lockdep: a lock of the cycle held by PCIem" \
	"$(lockdep_cycle 'pciem_ring_post+0x24/0xa1 [pciem]' nvme_stop_queues+0x24/0xd3)"
expect OURS "lockdep: a lock of the chain taken by PCIem" \
	"$(lockdep_cycle nvme_sync_io_queues+0x24/0xa1 'pciem_irq_teardown+0x24/0xd3 [pciem]')"
expect STOCK "a WARNING in the nvme driver" \
	'[    5.1] WARNING: CPU: 1 PID: 9 at drivers/nvme/host/pci.c:1300 nvme_timeout+0x1/0x2 [nvme]'
expect OURS "KASAN in PCIem" \
	'[    5.1] BUG: KASAN: use-after-free in pciem_irq_raise+0x1/0x2 [pciem]'
expect OURS "an oops in the block layer" "$(printf '%s\n' \
	'[    6.0] general protection fault, probably for non-canonical address 0xdead000000000100' \
	'[    6.1] RIP: 0010:blk_mq_complete_request+0x10/0x40')"

[ $failures -eq 0 ] || { echo "$failures check(s) failed"; exit 1; }
echo "all checks passed"
