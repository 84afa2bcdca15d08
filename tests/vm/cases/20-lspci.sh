# lspci -vvv decodes every function of every example spec exactly as
# expected: IDs, BARs, and each capability (PM, MSI, MSI-X, PCIe, vendor,
# raw, AER, DSN, VSEC). The expected decodes are in tests/vm/expected/;
# bus addresses of BARs are masked since they depend on allocation order.
# With PCIEM_UPDATE_EXPECTED=1 the case prints what it got between markers
# instead of comparing (see docs/testing.md).
. /pciem/tests/vm/lib.sh

# The NUMA node line is the platform's topology, not the device's: arm64
# kernels place devices of a one-node machine on node 0, x86 on none.
normalize() {
	sed -E -e 's/Memory at [0-9a-f]+/Memory at ADDR/' \
		-e 's/^[0-9a-f]{4,}:/DOMAIN:/' -e '/^\tNUMA node: /d'
}

for spec in minimal nic-like all-caps multifunction; do
	start_model "/pciem/examples/$spec.json" || continue
	got=/tmp/lspci.$spec
	: >"$got"
	for a in $MODEL_ADDRS; do
		lspci -D -vvv -s "$a" | normalize >>"$got"
	done
	stop_model
	if [ -n "$PCIEM_UPDATE_EXPECTED" ]; then
		echo "@@BEGIN $spec.lspci"
		cat "$got"
		echo "@@END $spec.lspci"
		continue
	fi
	if diff -u "/pciem/tests/vm/expected/$spec.lspci" "$got"; then
		note "ok: lspci -vvv of $spec.json as expected"
	else
		fail "lspci -vvv of $spec.json differs from tests/vm/expected/$spec.lspci"
	fi
done
finish
