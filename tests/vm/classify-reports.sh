#!/bin/sh
# SPDX-License-Identifier: MIT
# Reads kernel log text on stdin and prints one line per kernel report in
# it: "STOCK<TAB>culprit" when the report is the stock nvme driver's own
# (hostile hardware made it crash: a finding, docs/chaos.md), "OURS<TAB>
# culprit" for every other report (PCIem's, the kernel core's, anything
# not clearly the nvme driver's: a failure). The culprit is where the
# report points: the location of a WARNING, the function a KASAN or UBSAN
# report names, the RIP of an oops or else the first real frame of its
# call trace; for a hung task the whole trace; for a lockdep report the
# places its locks were taken (the "at:" lines and, for each lock of the
# dependency chain, the first frame that is not a locking primitive), not
# the callers further up: the nvme driver's own lock cycle closed while
# PCIem removes the device is the driver's. A report is the driver's when
# its culprit is in nvme and nowhere in PCIem.
awk '
function flush() {
	if (hdr == "")
		return
	c = culprit
	if (hung)
		c = c " " frames_all
	print ((c ~ /nvme/ && c !~ /pciem/) ? "STOCK" : "OURS") "\t" c
	hdr = ""
}
BEGIN {
	hdr_re = "BUG:|WARNING:|Oops|general protection|UBSAN:|ODEBUG:|list_add corruption|list_del corruption|possible circular locking|possible recursive locking|inconsistent lock state|irq lock inversion|rcu_sched self-detected|rcu: INFO|scheduling while atomic|blocked for more than|unreferenced object"
	any_re = hdr_re "|KASAN|KFENCE|Call Trace"
	lockdep_re = "possible circular locking|possible recursive locking|inconsistent lock state|irq lock inversion"
	lock_prim_re = "lock_acquire|_raw_|spin_lock|mutex_lock|down_read|down_write|rwsem|__flush_work|flush_work|lock_map|__wait_for_common|wait_for_completion|start_flush_work|touch_wq_lockdep"
	noise_re = "dump_stack|show_stack|__warn|report_bug|handle_bug|exc_invalid_op|asm_exc|kasan|ubsan|print_report|warn_slowpath|<TASK>|<IRQ>"
}
{
	if ($0 ~ hdr_re) {
		flush()
		hdr = $0
		culprit = $0
		# WARNING: ... at FILE:LINE FUNC; BUG: KASAN: ... in FUNC
		need = ($0 !~ / at [^ ]+:[0-9]+ / && $0 !~ /(KASAN|KFENCE|UBSAN).* in /)
		hung = ($0 ~ /blocked for more than/)
		lockdep = ($0 ~ lockdep_re)
		if (lockdep)
			need = 0
		chain = 0
		in_trace = 0
		frames_all = ""
		next
	}
	if (hdr != "" && lockdep) {
		if ($0 ~ /existing dependency chain|state was registered at|other info that might help/)
			chain = ($0 ~ /existing dependency chain/)
		else if ($0 ~ /^[^>]*-> #[0-9]/)
			want_frame = 1
		else if ($0 ~ /, at: /)
			culprit = culprit " " $0
		else if (chain && want_frame && $0 ~ /\+0x/ && $0 !~ lock_prim_re) {
			culprit = culprit " " $0
			want_frame = 0
		}
		if ($0 ~ /end trace/)
			flush()
		next
	}
	if (hdr != "") {
		if ($0 ~ /Call Trace/)
			in_trace = 1
		else if (in_trace && $0 ~ /\+0x/)
			frames_all = frames_all " " $0
		if (need && $0 ~ /RIP: /) {
			culprit = culprit " " $0
			need = 0
		} else if (need && in_trace && $0 ~ /\+0x/ && $0 !~ noise_re) {
			culprit = culprit " " $0
			need = 0
		}
		if ($0 ~ /end trace/)
			flush()
		next
	}
	# A report line with no header before it (a stray trace): ours.
	if ($0 ~ any_re)
		print "OURS\t" $0
}
END { flush() }
'
