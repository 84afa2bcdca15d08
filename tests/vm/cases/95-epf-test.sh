# SPDX-License-Identifier: MIT
# The kernel's own PCI endpoint test suite, unmodified, against the
# pci-epf-test compatible model (devices/epf-test): pci_endpoint_test.ko
# and pcitest built from Debian's linux-source by scripts/build-epf-suite
# (tests/vm/run passes --epf-suite to pciem-vm). The matrix of
# tools/pci/pcitest.sh: BAR0-5, the legacy interrupt, MSI 1-32, MSI-X
# 1-2048, then READ/WRITE/COPY of 1, 1024, 1025, 1024000 and 1024001 bytes,
# each with and without -d (DMA), which pcitest.sh never passes.
#
# PCIEM_EPF_DMA=0 skips the transfer matrix (they need the kernel's DMA
# path; without it every transfer fails with the model's error status) and
# says so. Default: on.
. /pciem/tests/vm/lib.sh

DMA=${PCIEM_EPF_DMA:-1}
DEV=/dev/pci-endpoint-test.0
SIZES="1 1024 1025 1024000 1024001"

command -v pcitest >/dev/null || { fail "pcitest is not in PATH (run pciem-vm with --epf-suite)"; finish; }
command -v pciem-epf-test >/dev/null || { fail "pciem-epf-test is not in PATH (devices/epf-test not built?)"; finish; }

# The driver's interrupt handler reads STATUS in hard-IRQ context, where
# the kernel spins until the model answers: keep the vectors the driver
# allocates off the CPU the model runs on.
echo 2 >/proc/irq/default_smp_affinity || fail "cannot set the default IRQ affinity"

start_owner "pciem-epf-test" pciem-epf-test --cpu 0 --ready-file @READY@ || finish
addr=$(first_addr)
modprobe pci_endpoint_test || { fail "modprobe pci_endpoint_test failed"; stop_model; finish; }
expect_eq "driver of $addr" "$(driver_of "$addr")" pci-endpoint-test
i=0
while [ ! -c "$DEV" ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
[ -c "$DEV" ] || { fail "$DEV did not appear"; stop_model; finish; }

# pt ARGS...: one pcitest run that must pass (pcitest exits 0 only on
# OKAY). No command substitution: a fork less per run counts 2000 times.
pt() {
	pcitest -D "$DEV" "$@" >/tmp/pt.out 2>&1
	rc=$?
	[ $rc -eq 0 ] && return 0
	fail "pcitest $*: exit $rc: $(tr '\n\t' '  ' </tmp/pt.out)"
	return 1
}

# range LABEL OPTION FIRST LAST: pcitest OPTION n for n = FIRST..LAST.
range() {
	t0=$(date +%s)
	n=$3
	ok=0
	while [ "$n" -le "$4" ]; do
		pt "$2" "$n" && ok=$((ok + 1))
		n=$((n + 1))
	done
	note "$1 $3..$4: $ok/$(($4 - $3 + 1)) OKAY ($(($(date +%s) - t0)) s)"
}

note "--- BAR tests"
range BAR -b 0 5

note "--- interrupt tests"
pt -i 0 && pt -l && note "legacy IRQ: OKAY"
pt -i 1 && range MSI -m 1 32
pt -i 2 && range MSI-X -x 1 2048

pt -i 1
if [ "$DMA" = 0 ]; then
	note "--- transfer tests SKIPPED (PCIEM_EPF_DMA=0): READ/WRITE/COPY x 5 sizes x with/without -d (30 runs) need the kernel's DMA path"
else
	for d in "" -d; do
		for op in r w c; do
			note "--- ${op} ${d:-(no DMA flag)}"
			t0=$(date +%s)
			ok=0
			for s in $SIZES; do
				# shellcheck disable=SC2086 # $d is empty or one word
				pt -$op -s "$s" $d && ok=$((ok + 1))
			done
			note "-$op $d sizes $SIZES: $ok/5 OKAY ($(($(date +%s) - t0)) s)"
		done
	done
fi

rmmod pci_endpoint_test || fail "rmmod pci_endpoint_test failed"
stop_model
grep 'pciem-epf-test:' "$OWNER_LOG" | sed 's/^/  /'
wait_gone "$addr" || fail "$addr still present after the model exited"
finish
