# SPDX-License-Identifier: MIT
# A model that stops consuming its ring (SIGSTOP) while the driver keeps
# writing: once the ring is full, one write waits for a slot until the
# read timeout and is dropped; every later write is dropped at once
# (stalled_posts), not after another timeout each with interrupts off. On
# the debug kernel an irq_startup() unmasking MSI-X entries on the model's
# own CPU held that CPU for most of an hour before this rule. Once the
# model runs again, it sees the writes that fit in the ring, in order, and
# answers reads.
# Then reads that cannot sleep: 20 reads of a register under a spinlock
# (as e1000e reads its statistics) while the model is stopped. The first
# waits out the read timeout; the 19 after it are refused at once, since
# the model has taken nothing since (without this rule the CPU spins 20
# timeouts with preemption off: RCU stall reports). Once the model runs
# again, such reads are answered.
. /pciem/tests/vm/lib.sh

DBG=/sys/kernel/debug/pciem_mmio_test
ENTRIES=4096	# PCIEM_RING_ENTRIES
EXTRA=300	# writes beyond a full ring
command -v pciem-testdev >/dev/null || { fail "pciem-testdev is not in PATH"; finish; }
modprobe pciem_mmio_test model_cpu=0 || { fail "modprobe pciem_mmio_test failed"; finish; }

# stopped_model: SIGSTOP the model and wait until it is stopped for sure.
stopped_model() {
	kill -STOP "$MODEL_PID"
	j=0
	while [ "$(cut -d' ' -f3 /proc/$MODEL_PID/stat)" != T ] && [ $j -lt 50 ]; do
		sleep 0.1
		j=$((j + 1))
	done
}

# end_session: the model runs again and ends, its function goes; REFUSED
# is the count of posts it says were refused while stalled.
end_session() {
	kill -CONT "$MODEL_PID" 2>/dev/null
	stop_model
	wait_gone "$addr" || fail "$addr still present after the model exited"
	line=$(grep 'stopped by' "$OWNER_LOG")
	note "model: $line"
	REFUSED=$(echo "$line" | sed -n 's/.* \([0-9]*\) posts refused while stalled.*/\1/p')
}

if start_testdev; then
	addr=$(first_addr)
	if wait_dir "$DBG/$addr"; then
		reg=$DBG/$addr/reg
		log_mark
		# stopped for sure before the first write (the signal is async)
		stopped_model
		i=1
		while [ $i -le $((ENTRIES + EXTRA)) ]; do
			echo "0x8 $i" >"$reg" || { fail "write $i through $reg failed"; break; }
			i=$((i + 1))
		done
		kill -CONT "$MODEL_PID"
		# The ring's writes in order: SCRATCH holds the last that fitted.
		# A read posted before the resumed model has consumed anything
		# still finds it stalled and is refused at once (all-ones):
		# retry, and count those reads among the refused posts. (Writing
		# an offset to `reg` reads the register; reading `reg` shows it.)
		echo 0x8 >"$reg"
		early=0
		val=$(cat "$reg")
		while [ "$val" = 0xffffffff ] && [ $early -lt 50 ]; do
			early=$((early + 1))
			sleep 0.1
			echo 0x8 >"$reg"
			val=$(cat "$reg")
		done
		note "reads refused before the model resumed: $early"
		expect_eq "SCRATCH after the model caught up" "$val" "$(printf '%#010x' $ENTRIES)"
		if log_since | grep -q "write to BAR0+0x8 dropped: the model left its ring full"; then
			note "ok: the dropped writes are logged"
		else
			fail "no log line for the dropped writes"
		fi
	else
		fail "$DBG/$addr did not appear"
	fi
	end_session
	# One write waited for the timeout; the others beyond the ring did not,
	# nor did the reads that came before the model resumed.
	expect_eq "posts refused at once while the model was stalled" "$REFUSED" $((EXTRA - 1 + ${early:-0}))
fi

# atomic_reads N: N reads of SCRATCH under a spinlock, from CPU 1: the
# model runs on CPU 0 and could not answer a reader spinning there.
atomic_reads() {
	taskset -c 1 sh -c "echo 'atomic 0x8 $1' >$reg"
}

ATOMIC=20
note "--- $ATOMIC reads that cannot sleep, the model stopped"
if start_testdev; then
	addr=$(first_addr)
	if wait_dir "$DBG/$addr"; then
		reg=$DBG/$addr/reg
		echo "0x8 0x5ca1ab1e" >"$reg" || fail "write SCRATCH"
		atomic_reads 1 || fail "one read under a spinlock"
		expect_eq "SCRATCH read under a spinlock" "$(cat "$reg")" 0x5ca1ab1e
		log_mark
		stopped_model
		atomic_reads $ATOMIC || fail "$ATOMIC reads under a spinlock"
		expect_eq "what they read (the model stopped)" "$(cat "$reg")" 0xffffffff
		log_since | grep -q "read of BAR0+0x8 (4 bytes) refused at once: the model has taken no request since a read timed out" ||
			fail "no log line for the reads refused at once"
		kill -CONT "$MODEL_PID"
		# A read that may sleep waits for the model, which takes the
		# stale read first; after it, reads under a spinlock are
		# answered again.
		echo 0x8 >"$reg"
		expect_eq "SCRATCH once the model runs again" "$(cat "$reg")" 0x5ca1ab1e
		atomic_reads 3 || fail "reads under a spinlock after the stall"
		expect_eq "SCRATCH read under a spinlock after the stall" "$(cat "$reg")" 0x5ca1ab1e
	else
		fail "$DBG/$addr did not appear"
	fi
	end_session
	expect_eq "reads refused at once" "$REFUSED" $((ATOMIC - 1))
fi
rmmod pciem_mmio_test 2>/dev/null
finish
