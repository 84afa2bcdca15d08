#!/bin/sh
# SPDX-License-Identifier: MIT
# The kernel log of the whole guest run has no sign of a kernel bug.
# Patterns are the kernel's own report headers: BUG:, WARNING:, Oops,
# general protection fault, RCU stalls, "scheduling while atomic", hung
# tasks, and the reports of the debug kernel's detectors
# (scripts/build-debug-kernel): KASAN and KFENCE ("BUG: KASAN:",
# "BUG: KFENCE:"), lockdep ("WARNING: possible circular locking
# dependency", "possible recursive locking", "inconsistent lock state"),
# UBSAN ("UBSAN:"), DEBUG_ATOMIC_SLEEP ("BUG: sleeping function called
# from invalid context"), DEBUG_OBJECTS ("ODEBUG:"), DEBUG_LIST ("list_add
# corruption", "list_del corruption"), and PCIem's own redzone reports of
# a driver that wrote past the end of its coherent DMA buffer (except the
# one the test driver's bad-calls test makes on purpose).
# The chaos case (94-chaos-nvme) brackets each run in the log with
# "pciem-chaos-window-begin ID" and "pciem-chaos-window-end ID"; it adds
# "tolerated" to the end marker when every report inside was the stock nvme
# driver's own (a finding, not a PCIem bug: classify-reports.sh). Only such
# windows are left out here; reports in any other window fail as always.
# The log and the detectors' state come from the running kernel; the
# PCIEM_KLOG_* variables name files instead, for the host-side test of this
# check (tests/vm/test-check-kernel-log.sh).
dmesg_text() {
	if [ -n "${PCIEM_KLOG_FILE:-}" ]; then cat "$PCIEM_KLOG_FILE"; else dmesg; fi
}
klog() {
	dmesg_text | awk '
		/pciem-chaos-window-end [^ ]+ tolerated/ { ok[$(NF - 1)] = 1 }
		{ line[NR] = $0 }
		END {
			for (i = 1; i <= NR; i++) {
				if (line[i] ~ /pciem-chaos-window-begin /) {
					n = split(line[i], f, " ")
					if (f[n] in ok) { skip = 1; continue }
				}
				if (skip && line[i] ~ /pciem-chaos-window-end /) { skip = 0; continue }
				if (!skip) print line[i]
			}
		}'
}
pattern='BUG:|WARNING:|Oops|general protection|KASAN|KFENCE|UBSAN|ODEBUG|list_add corruption|list_del corruption|unreferenced object|possible circular locking|possible recursive locking|inconsistent lock state|rcu_sched self-detected|rcu: INFO|scheduling while atomic|blocked for more than|Call Trace'
overrun='was written past its end'
if klog | grep -E "$pattern" || klog | grep "$overrun" | grep -v 'allocated by test_bad_calls'; then
	echo "kernel log has the report(s) above; full log:"
	klog | tail -n 200
	exit 1
fi
# lockdep reports the first problem it sees and then turns itself off
# (debug_locks 0): every lock bug after that goes unseen, so a run whose
# lockdep went off is not clean even when its report left the log ring.
stats=${PCIEM_KLOG_LOCKDEP_STATS:-/proc/lockdep_stats}
# The one exception: the report that turned it off is in the log, inside a
# tolerated chaos window (the stock nvme driver's own lock cycle, a
# finding). Then it is said, and scripts/check --debug-kernel runs the
# chaos case in a guest of its own, after the others, so that no other
# case runs without lock checking.
lockdep_re='possible circular locking|possible recursive locking|inconsistent lock state|irq lock inversion'
if [ -r "$stats" ] && grep -Eq '^ *debug_locks: *0$' "$stats"; then
	if dmesg_text | grep -Eq "$lockdep_re" && ! klog | grep -Eq "$lockdep_re"; then
		echo "lockdep turned itself off at a report inside a tolerated chaos window (the stock" \
			"nvme driver's own: a finding); lock checks after it did not run"
	else
		echo "lockdep turned itself off during the run (debug_locks: 0 in $stats):" \
			"a lock report came and went, or an oops; the later lock checks never ran"
		exit 1
	fi
fi
echo "kernel log clean ($(dmesg_text | wc -l) lines)"

# kmemleak (debug kernel only): scan now rather than wait for its thread.
# It reports nothing younger than 5 s, and a pointer that sat in a register
# during one scan hides a block once: two scans, as its documentation says.
# A leak fails the check if its allocation backtrace (not the process
# name) is PCIem's; leaks of the stock kernel are listed, not failed.
leaks=/sys/kernel/debug/kmemleak
report=${TMPDIR:-/tmp}/kmemleak.$$
trap 'rm -f "$report"' EXIT
if [ -n "${PCIEM_KLOG_KMEMLEAK:-}" ]; then
	cp "$PCIEM_KLOG_KMEMLEAK" $report
else
	[ -e "$leaks" ] || exit 0
	sleep 6
	# kmemleak turns itself off for good on an internal error (its object
	# pool exhausted, say) and then refuses commands: no scan, no check.
	if ! { echo scan >"$leaks" && sleep 1 && echo scan >"$leaks"; } 2>/dev/null; then
		echo "kmemleak is off, so no leak check ran; what the log says of it:"
		dmesg_text | grep -i kmemleak | tail -n 5
		exit 1
	fi
	cat "$leaks" >$report
fi
total=$(grep -c '^unreferenced object' $report)
# One report per object: 'unreferenced object' up to the next one. A
# backtrace frame is PCIem's when it names pciem (the module or one of its
# drivers, all named pciem_*) or is a bare address: the kernel's own code
# always resolves (KALLSYMS), so a bare one is in a module since unloaded,
# and the cases load and unload only PCIem's and pci_endpoint_test.
ours=$(awk '/^unreferenced object/ { if (rep != "" && hit) print rep; rep = ""; hit = 0 }
	{ rep = rep $0 "\n" }
	/^ *\[<[0-9a-f]+>\] (.*pciem|0x[0-9a-f]+ *$)/ { hit = 1 }
	END { if (rep != "" && hit) print rep }' $report)
if [ -n "$ours" ]; then
	echo "kmemleak: unreferenced objects allocated by PCIem:"
	echo "$ours"
	exit 1
fi
if [ "$total" -gt 0 ]; then
	echo "kmemleak: $total unreferenced object(s), none allocated by PCIem:"
	head -n 60 $report
fi
echo "kmemleak clean of PCIem ($total unreferenced object(s) in all)"
