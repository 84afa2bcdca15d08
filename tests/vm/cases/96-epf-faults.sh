# SPDX-License-Identifier: MIT
# Faults under the kernel's endpoint test suite (pci_endpoint_test and
# pcitest, unmodified) on the pci-epf-test model: an MMIO read slower than
# the read timeout and a refused DMA transfer turn into the errors pcitest
# reports, never into a hang, and the next run passes again.
. /pciem/tests/vm/lib.sh

DEV=/dev/pci-endpoint-test.0

command -v pcitest >/dev/null || { fail "pcitest is not in PATH (run pciem-vm with --epf-suite)"; finish; }
echo 2 >/proc/irq/default_smp_affinity || fail "cannot set the default IRQ affinity"
start_owner "pciem-epf-test" pciem-epf-test --cpu 0 --ready-file @READY@ || finish
addr=$(first_addr)
modprobe pci_endpoint_test || { fail "modprobe pci_endpoint_test failed"; stop_model; finish; }
wait_for 50 -c "$DEV" || { fail "$DEV did not appear"; stop_model; finish; }

inject() {
	pciemctl inject "$addr" "$@" >/tmp/inject.log 2>&1 ||
		{ fail "pciemctl inject $*: $(cat /tmp/inject.log)"; return 1; }
}

# pcitest_rc ARGS...: pcitest's exit status; 124 if it hung for 60 s.
pcitest_rc() {
	timeout 60 pcitest -D "$DEV" "$@" >/tmp/pt.out 2>&1
	echo $?
}

# expect_error WHAT RC: pcitest reported an error (not OKAY), and did not hang.
expect_error() {
	if [ "$2" = 124 ]; then
		fail "$1: pcitest hung"
	elif [ "$2" = 0 ]; then
		fail "$1: pcitest passed"
	else
		note "ok: $1: pcitest says $(tr '\n\t' '  ' </tmp/pt.out)"
	fi
}

expect_eq "BAR1 test, no fault" "$(pcitest_rc -b 1)" 0
inject mmio-latency --param 20000000 --region 1:0+4 --count 1
expect_eq "BAR1 test, a read 20 ms late" "$(pcitest_rc -b 1)" 0
inject mmio-latency --param 3000000000 --region 1:0+4 --count 1
expect_error "a read slower than the read timeout" "$(pcitest_rc -b 1)"
expect_eq "BAR1 test after the fault" "$(pcitest_rc -b 1)" 0

pcitest -D "$DEV" -i 1 >/dev/null
expect_eq "DMA read, no fault" "$(pcitest_rc -r -s 4096 -d)" 0
inject dma-refuse --count 1
expect_error "a refused DMA transfer" "$(pcitest_rc -r -s 4096 -d)"
expect_eq "DMA read after the fault" "$(pcitest_rc -r -s 4096 -d)" 0
inject dma-poison --count 1
expect_error "a corrupted DMA transfer (the checksum catches it)" "$(pcitest_rc -w -s 4096 -d)"

rmmod pci_endpoint_test || fail "rmmod pci_endpoint_test failed"
stop_model
wait_gone "$addr" || fail "$addr still present after the model exited"
finish
