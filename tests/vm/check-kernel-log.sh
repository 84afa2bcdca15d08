#!/bin/sh
# SPDX-License-Identifier: MIT
# The kernel log of the whole guest run has no sign of a kernel bug.
# Patterns are the kernel's own report headers: BUG:, WARNING:, Oops,
# general protection fault, KASAN/UBSAN/kmemleak reports, lockdep splats,
# RCU stalls, "scheduling while atomic" and hung tasks.
pattern='BUG:|WARNING:|Oops|general protection|KASAN|UBSAN|kmemleak|unreferenced object|possible circular locking|rcu_sched self-detected|rcu: INFO|scheduling while atomic|blocked for more than|Call Trace'
if dmesg | grep -E "$pattern"; then
	echo "kernel log has the report(s) above; full log:"
	dmesg | tail -n 200
	exit 1
fi
echo "kernel log clean ($(dmesg | wc -l) lines)"
