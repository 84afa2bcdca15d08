# SPDX-License-Identifier: MIT
# Interrupts of a PCIem function, through the kernel API an ordinary driver
# uses (drivers/pciem_mmio_test, debugfs file `irq`): MSI 1-32 and MSI-X
# 1-2048 vectors with exact counts in hard-IRQ context and in
# /proc/interrupts, masking and pending bits, affinity, level-triggered
# INTx with Interrupt Disable and Interrupt Status, refused raises, irqfd;
# a storm of a million interrupts from a model thread; the vectors in
# /proc/interrupts while held; and a storm during which the model is killed:
# the function goes, no handler runs after remove() freed its vectors, and
# the kernel log stays clean.
. /pciem/tests/vm/lib.sh

MIN_TESTS=8	# tests `all` runs on testdev today; fewer means some were lost
STORM=${PCIEM_IRQ_STORM:-1000000}
DBG=/sys/kernel/debug/pciem_mmio_test

# irq DIR WHAT WANT: run interrupt tests (lib.sh run_suite).
irq() {
	run_suite "$1" irq "$2" "$3"
}

# pciem_irq_lines: lines of /proc/interrupts for PCIem vectors this driver holds.
pciem_irq_lines() {
	grep PCIem /proc/interrupts | grep -c pciem_mmio_test
}

stat_of() {
	sed -n "s/^$1 //p" "$DBG/irq_stats"
}

command -v pciem-testdev >/dev/null || { fail "pciem-testdev is not in PATH (devices/testdev not built?)"; finish; }
# On the debug kernel the kernel's own teardown of 2048 MSI-X vectors
# (a linear sysfs search per vector, no scheduling point) takes tens of
# seconds under TCG and stalls RCU: the tests stop at 512 vectors there.
max_vectors=2048
case "$(uname -r)" in *debug*) max_vectors=512; note "debug kernel: at most $max_vectors vectors per test" ;; esac
modprobe pciem_mmio_test model_cpu=0 || { fail "modprobe pciem_mmio_test failed"; finish; }
# (an earlier case may have loaded it already: set the parameter in place)
echo $max_vectors >/sys/module/pciem_mmio_test/parameters/max_vectors ||
	fail "cannot set pciem_mmio_test's max_vectors"
[ -r "$DBG/irq_stats" ] || { fail "$DBG/irq_stats missing"; finish; }
log_mark

# ---- all tests, the storm, the vectors in /proc/interrupts ----
note "--- all"
if start_testdev; then
	addr=$(first_addr)
	dir=$DBG/$addr
	if wait_dir "$dir"; then
		t0=$(date +%s)
		run_suite_all "$dir" irq "$MIN_TESTS"
		note "all: $(($(date +%s) - t0)) s"

		note "--- storm $STORM"
		t0=$(date +%s)
		irq "$dir" "storm $STORM" 1
		note "storm: $(($(date +%s) - t0)) s"

		note "--- /proc/interrupts while vectors are held"
		expect_eq "PCIem vectors listed before hold" "$(pciem_irq_lines)" 0
		if irq "$dir" "hold 8" 1; then
			expect_eq "PCIem vectors listed while held" "$(pciem_irq_lines)" 8
			grep PCIem /proc/interrupts | grep pciem_mmio_test | head -n 2 | sed 's/^/    /'
			irq "$dir" release 1
		fi
		expect_eq "PCIem vectors listed after release" "$(pciem_irq_lines)" 0
	else
		fail "$dir did not appear"
	fi
	stop_model
	wait_gone "$addr" || fail "$addr still present after the model exited"
fi
log_clean "the tests"

# ---- the model killed in a storm, vectors held by the driver ----
# remove() frees them with deliveries possibly in flight; no handler may
# run afterwards (irq_stats counts every run and those after a remove).
note "--- kill -9 during a storm (vectors held)"
log_mark
if start_testdev; then
	addr=$(first_addr)
	dir=$DBG/$addr
	if wait_dir "$dir" && irq "$dir" "hold 8" 1 && irq "$dir" "storm-start $STORM" 1; then
		r0=$(stat_of runs)
		sleep 2
		r1=$(stat_of runs)
		[ "$r1" -gt "$r0" ] || fail "no interrupts during the storm (runs $r0 -> $r1)"
		note "storm running: $((r1 - r0)) interrupts in 2 s"
		kill -9 "$MODEL_PID"
		wait "$MODEL_PID" 2>/dev/null
		wait_gone "$addr" || fail "$addr still present after kill -9"
		[ ! -d "$dir" ] || fail "$dir still present after the function went away"
		sleep 1
		expect_eq "handler runs after remove()" "$(stat_of runs_since_remove)" 0
		expect_eq "handler runs on freed vectors" "$(stat_of late)" 0
	else
		stop_model 9
	fi
fi
log_clean "kill -9 with vectors held"

# ---- the model killed while the storm test waits in the driver ----
note "--- kill -9 during 'storm' (the test owns the vectors)"
log_mark
if start_testdev; then
	addr=$(first_addr)
	dir=$DBG/$addr
	if wait_dir "$dir"; then
		echo "storm $STORM" >"$dir/irq" &
		writer=$!
		sleep 2
		kill -9 "$MODEL_PID"
		wait "$MODEL_PID" 2>/dev/null
		wait_gone "$addr" || fail "$addr still present after kill -9"
		# the test sees the device gone and frees its vectors; remove() waits for it
		wait_exit "$writer" 100 || fail "'storm' still running 10 s after the model died"
		wait "$writer" 2>/dev/null
		sleep 1
		expect_eq "handler runs after remove()" "$(stat_of runs_since_remove)" 0
		expect_eq "handler runs on freed vectors" "$(stat_of late)" 0
	else
		fail "$dir did not appear"
		stop_model 9
	fi
fi
log_clean "kill -9 during the storm test"

rmmod pciem_mmio_test || fail "rmmod pciem_mmio_test failed"
finish
