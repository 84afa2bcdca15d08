# SPDX-License-Identifier: MIT
# Record and replay (docs/record.md) with the kernel's endpoint test suite:
# `pciemctl record` keeps what pciem-epf-test saw and answered while the
# stock pci_endpoint_test driver probes, runs a deterministic pcitest
# sequence (BAR tests, legacy IRQ, MSI, MSI-X: the transfers move random
# data, so they are left out) and is removed; `pciemctl dump` prints it.
# pciem-replay then plays the recording to the same driver and pcitest: no
# divergence, every pcitest passes, every recorded step happens. A
# recording with one expected write changed is reported at exactly that
# record, naming what the driver wrote and what was recorded; one with a
# read answered differently makes the driver fail (its BAR test), and a
# divergence that follows names the next record.
. /pciem/tests/vm/lib.sh

DEV=/dev/pci-endpoint-test.0
for t in pcitest pciem-epf-test pciem-replay pciemctl; do
	command -v "$t" >/dev/null || { fail "$t is not in PATH (pciem-vm --epf-suite, build/bin)"; finish; }
done
# The driver's handler reads STATUS in hard-IRQ context, spinning until
# the model answers: keep its vectors off the model's CPU.
echo 2 >/proc/irq/default_smp_affinity || fail "cannot set the default IRQ affinity"

# What is recorded and replayed: probe, pcitest, removal. Prints one line
# per pcitest run; exits with the number that failed.
cat >/tmp/epf-run.sh <<'RUN'
modprobe pci_endpoint_test || exit 100
i=0
while [ ! -c /dev/pci-endpoint-test.0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
bad=0
for a in "-b 0" "-b 1" "-b 2" "-b 3" "-i 0" "-l" "-i 1" "-m 1" "-m 2" "-m 5" "-i 2" "-x 1" "-x 2" "-x 7"; do
	# shellcheck disable=SC2086 # two words
	if pcitest -D /dev/pci-endpoint-test.0 $a >/tmp/pt.out 2>&1; then
		echo "pcitest $a: OKAY"
	else
		echo "pcitest $a: FAILED: $(tr '\n' ' ' </tmp/pt.out)"
		bad=$((bad + 1))
	fi
done
rmmod pci_endpoint_test || bad=$((bad + 1))
exit $bad
RUN

# replay FILE LOG: pciem-replay FILE and the run under it; sets REPLAY_RC
# (the model's exit status) and RUN_RC (the run's).
replay() {
	start_owner "pciem-replay $1" pciem-replay "$1" --cpu 0 --ready-file @READY@ || { REPLAY_RC=x; RUN_RC=x; return 1; }
	sh /tmp/epf-run.sh >"$2" 2>&1
	RUN_RC=$?
	# A replay that diverged answers all-ones since and exits 1 now.
	kill -TERM "$MODEL_PID" 2>/dev/null
	wait "$MODEL_PID"
	REPLAY_RC=$?
	cp "$OWNER_LOG" "$2.replay"
	rmmod pci_endpoint_test 2>/dev/null
	return 0
}

log_mark
# ---- record
t0=$(date +%s)
start_owner "pciem-epf-test" pciem-epf-test --cpu 0 --ready-file @READY@ || finish
addr=$(first_addr)
if pciemctl record "$addr" -o /tmp/epf.rec -- sh /tmp/epf-run.sh >/tmp/record.log 2>&1; then
	note "$(grep -c OKAY /tmp/record.log) pcitest runs OKAY while recording; $(tail -n 1 /tmp/record.log)"
else
	cat /tmp/record.log
	fail "the recorded run failed"
fi
stop_model
wait_gone "$addr" || fail "$addr still present after the model exited"
note "recorded in $(($(date +%s) - t0)) s, $(wc -c </tmp/epf.rec) bytes"

# ---- dump
if pciemctl dump --offsets /tmp/epf.rec >/tmp/epf.dump; then
	sed -n 1,3p /tmp/epf.dump | sed 's/^/    /'
	grep -q '^@0x60 #0 +0.000000000 create 104c:b500 class ff0000 .*BAR0 64K mem32' /tmp/epf.dump ||
		fail "dump: the first record is not the epf-test function's creation"
	# pci_enable_device() reads the command register; pciem.ko answers it
	grep -qE ' cfg-read 0x004/2 = 0x[0-9a-f]+ [(]emulated[)]$' /tmp/epf.dump ||
		{ grep -m 5 ' cfg-' /tmp/epf.dump; fail "dump: no read of the command register, answered by pciem.ko"; }
	for what in 'mmio-write BAR0+0x4/4 = 0x1 (model)' \
		'mmio-read BAR0+0x8/4 = 0x40 (model)' 'intx 1' 'irq vector 0' 'irq vector 4' 'irq vector 6' \
		'mmio-write BAR1+0x0/4 = 0xa'; do
		grep -qF "$what" /tmp/epf.dump || fail "dump: no '$what'"
	done
	note "dump: $(grep -c ' mmio-' /tmp/epf.dump) MMIO, $(grep -c ' cfg-' /tmp/epf.dump) config, $(grep -cE ' (irq|intx) ' /tmp/epf.dump) interrupt records"
else
	fail "pciemctl dump failed"
fi

# ---- replay: no divergence
t0=$(date +%s)
replay /tmp/epf.rec /tmp/replay.log
expect_eq "pcitest runs failed under the replay" "$RUN_RC" 0
expect_eq "pciem-replay exit status" "$REPLAY_RC" 0
grep -q 'pciem-replay: replay complete: all [0-9]* accesses and [0-9]* device events of the recording matched' /tmp/replay.log.replay ||
	{ cat /tmp/replay.log /tmp/replay.log.replay; fail "pciem-replay did not report a complete replay"; }
note "$(grep 'replay complete' /tmp/replay.log.replay) ($(($(date +%s) - t0)) s)"

# patch FILE OFFSET BYTE: one byte of FILE becomes BYTE (octal, for printf)
patch() {
	printf "\\$3" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
# ---- one expected write changed: the first COMMAND write (RAISE_INTX, 0x1)
line=$(grep -m 1 'mmio-write BAR0+0x4/4 = 0x1 (model)' /tmp/epf.dump)
off=$(echo "$line" | sed 's/^@\(0x[0-9a-f]*\) .*/\1/')
rec=$(echo "$line" | sed 's/^@0x[0-9a-f]* #\([0-9]*\) .*/\1/')
cp /tmp/epf.rec /tmp/epf-write.rec
patch /tmp/epf-write.rec $((off + 32)) 101 # value 0x41
pciemctl dump /tmp/epf-write.rec | grep -q "^#$rec .* mmio-write BAR0+0x4/4 = 0x41 (model)" || fail "the patch did not change record #$rec"
replay /tmp/epf-write.rec /tmp/replay-write.log
expect_eq "pciem-replay exit status, write changed" "$REPLAY_RC" 1
sed -n '/DIVERGENCE/,$p' /tmp/replay-write.log.replay | head -n 3 | sed 's/^/    /'
grep -q "DIVERGENCE: access #[0-9]* of the driver differs from record #$rec (" /tmp/replay-write.log.replay ||
	fail "the divergence is not reported at record #$rec"
grep -q '^  the driver did:       mmio-write BAR0+0x4/4 = 0x1$' /tmp/replay-write.log.replay ||
	fail "the divergence does not name the driver's write"
grep -q '^  the recording has:    mmio-write BAR0+0x4/4 = 0x41$' /tmp/replay-write.log.replay ||
	fail "the divergence does not name the recorded write"

# ---- one answer changed: the first read of BAR1's test pattern
# (6.1 writes 0xa0a0a0a0 to every BAR, 6.12 0xa0a0a0a0 + BAR * 0x01010101)
line=$(grep -m 1 -E 'mmio-read BAR1[+]0x0/4 = 0xa[01]a[01]a[01]a[01] [(]model[)]' /tmp/epf.dump)
off=$(echo "$line" | sed 's/^@\(0x[0-9a-f]*\) .*/\1/')
rec=$(echo "$line" | sed 's/^@0x[0-9a-f]* #\([0-9]*\) .*/\1/')
cp /tmp/epf.rec /tmp/epf-read.rec
patch /tmp/epf-read.rec $((off + 32)) 000 # the driver reads 0xa?a?a?00
replay /tmp/epf-read.rec /tmp/replay-read.log
grep -q '^pcitest -b 1: FAILED' /tmp/replay-read.log ||
	{ cat /tmp/replay-read.log; fail "the BAR1 test passed with a changed answer"; }
if [ "$REPLAY_RC" = 1 ]; then
	# 6.1's test stops at the first wrong word: the next access differs.
	grep -q "DIVERGENCE: access #[0-9]* of the driver differs from record #$((rec + 1)) (" /tmp/replay-read.log.replay ||
		{ cat /tmp/replay-read.log.replay; fail "the divergence after the changed answer is not at record #$((rec + 1))"; }
	note "changed answer: BAR1 test failed, divergence at record #$((rec + 1))"
else
	# 6.12's reads the whole BAR before comparing: the accesses stay the same.
	note "changed answer: BAR1 test failed, the accesses stayed as recorded (replay exit $REPLAY_RC)"
fi

log_clean "record and replay"
finish
