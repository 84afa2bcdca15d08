# SPDX-License-Identifier: MIT
# pciemctl trace (docs/tracing.md) on the NVMe model under the stock nvme
# driver: PCIem's tracepoints are in tracefs; a trace of `nvme id-ctrl`
# holds the admin command's life in order (the submission doorbell, the
# command fetched by DMA, the data (two pieces: the driver's buffer is not
# page-aligned) and the completion written by DMA, the
# MSI-X vector raised and delivered, the completion doorbell), in text
# and, with the nvme module's functions, as Trace Event Format JSON that
# a strict parser accepts; the errors of a wrong setup are sentences; the
# private tracefs instance is gone afterwards.
. /pciem/tests/vm/lib.sh

SIZE_MB=16
for t in nvme pciem-nvme pciemctl pciem_guest_trace_check trace-cmd; do
	command -v "$t" >/dev/null || { fail "$t is not in the guest (pciem-vm --nvme-tools, build/bin)"; finish; }
done
. /pciem/tests/vm/nvme_lib.sh

tracefs=/sys/kernel/tracing
for e in config mmio irq_raise irq_mask irq_deliver dma_map dma_access ring_full state fault; do
	grep -qx "pciem:pciem_$e" "$tracefs/available_events" || fail "pciem:pciem_$e is not in $tracefs/available_events"
done
note "ok: the 10 pciem tracepoints are in available_events"
# Debian's trace-cmd sees them too
trace-cmd list -e pciem >/tmp/tc.list 2>&1 || { cat /tmp/tc.list; fail "trace-cmd list -e pciem failed"; }
expect_eq "pciem events in trace-cmd list -e pciem" "$(grep -c '^pciem:pciem_' /tmp/tc.list)" 10

# in_order FILE REGEX...: lines matching each REGEX occur in FILE in this
# order; prints the lines found.
in_order() {
	f=$1
	shift
	from=0
	for re in "$@"; do
		n=$(awk -v from="$from" -v re="$re" 'NR > from && $0 ~ re { print NR; exit }' "$f")
		[ -n "$n" ] || { echo "    missing after line $from: $re"; return 1; }
		echo "    $(sed -n "${n}p" "$f")"
		from=$n
	done
}

log_mark
# Without the zero-copy DMA window (pciem-nvme's default): the model's
# direct accesses to it pass no tracepoint (docs/tracing.md).
if start_nvme --dma-window-mb 0 && wait_disk /dev/nvme0n1; then
	addr=$(first_addr)

	# --- text
	if pciemctl trace --function "$addr" -o /tmp/idctrl.txt -- sh -c 'nvme id-ctrl /dev/nvme0 >/dev/null' >/tmp/trace.out 2>&1; then
		note "$(cat /tmp/trace.out)"
		in_order /tmp/idctrl.txt \
			" $addr mmio write BAR0[+]0x1000/4 = " \
			" $addr dma read 0x[0-9a-f]+[+]64\$" \
			" $addr dma write 0x[0-9a-f]+[+][0-9]+\$" \
			" $addr dma write 0x[0-9a-f]+[+]16\$" \
			" $addr irq raise vector 0\$" \
			" $addr irq deliver vector 0 as irq [0-9]+\$" \
			" $addr mmio write BAR0[+]0x1004/4 = " ||
			{ head -n 40 /tmp/idctrl.txt; fail "the text trace of nvme id-ctrl lacks the admin command's sequence"; }
		others=$(grep -v "^#" /tmp/idctrl.txt | grep -vc " $addr ")
		expect_eq "events of other functions in a --function trace" "$others" 0
	else
		cat /tmp/trace.out
		fail "pciemctl trace -- nvme id-ctrl failed"
	fi

	# --- JSON, with the driver's functions
	if pciemctl trace --function "$addr" --format json --driver nvme -o /tmp/idctrl.json \
		-- sh -c 'nvme id-ctrl /dev/nvme0 >/dev/null' >/tmp/trace.out 2>&1; then
		note "$(cat /tmp/trace.out)"
		if pciem_guest_trace_check /tmp/idctrl.json \
			--expect "^PCIem $addr\\|MMIO \\(CPU [0-9]+\\)\\|write BAR0\\+0x1000\\|" \
			--expect "^PCIem $addr\\|DMA\\|dma read 0x[0-9a-f]+\\+64\\|" \
			--expect "^PCIem $addr\\|DMA\\|dma write 0x[0-9a-f]+\\+16\\|" \
			--expect "^PCIem $addr\\|vector 0\\|raise\\|" \
			--expect "^PCIem $addr\\|vector 0\\|deliver\\|" \
			--expect "^driver nvme\\|[^|]+\\|nvme_irq\\|" \
			--expect "^PCIem $addr\\|MMIO \\(CPU [0-9]+\\)\\|write BAR0\\+0x1004\\|" >/tmp/check.out 2>&1; then
			sed 's/^/    /' /tmp/check.out
		else
			cat /tmp/check.out
			fail "the JSON trace does not pass the strict check or lacks the sequence"
		fi
	else
		cat /tmp/trace.out
		fail "pciemctl trace --format json --driver nvme failed"
	fi

	# --- a trace of a duration, all functions: the driver's own doings
	pciemctl trace --duration 1 -o /tmp/idle.txt >/tmp/trace.out 2>&1 ||
		{ cat /tmp/trace.out; fail "pciemctl trace --duration 1 failed"; }

	# nothing left behind in tracefs
	expect_eq "tracefs instances left" "$(ls $tracefs/instances | wc -l)" 0
	expect_eq "pciem events enabled globally" "$(cat $tracefs/events/pciem/enable)" 0
	stop_model
else
	fail "the NVMe model did not come up with a disk"
	stop_model
fi

# --- errors, as sentences
mkdir -p /tmp/notracefs
out=$(pciemctl trace --tracefs /tmp/notracefs -o /tmp/x -- true 2>&1)
rc=$?
expect_eq "exit status without tracefs" "$rc" 1
echo "$out" | grep -q "tracefs is not mounted at /tmp/notracefs: mount it with 'mount -t tracefs nodev /tmp/notracefs'" ||
	fail "without tracefs: $out"
grep -q '^nobody:' /etc/passwd 2>/dev/null || echo 'nobody:x:65534:65534:nobody:/:/bin/sh' >>/etc/passwd
out=$(su nobody -s /bin/sh -c 'pciemctl trace -o /tmp/x -- true' 2>&1)
echo "$out" | grep -q "trace needs root" || fail "non-root pciemctl trace said: $out"
out=$(pciemctl trace --duration 1 -o /tmp/x -- true 2>&1)
expect_eq "--duration with a command" "$out" "pciemctl: give --duration or a COMMAND, not both"
note "errors: ok"

log_clean "tracing"
finish
