#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What PCIem's tracepoints and recorder cost a trapped MMIO round trip,
# measured side by side in one guest run. See docs/bench.md.
set -euo pipefail

prog=${0##*/}
usage() {
	cat <<USAGE
Usage: $prog [-h|--help] [--kernel 6.1|6.12] [--reads N] [--writes N] [--reps N]

Boots one guest (tools/pciem-vm, TCG) and times N readl() of the PCIem test
device's ID register, N writel() to its scratch register and N readl() of a
shadowed register (the floor: pciem.ko answers it, no round trip) through
drivers/pciem_mmio_test's debugfs 'bench' file (pciem-testdev, the model's
default loop), the same accesses in four set-ups:
  - compiled out: a pciem.ko built here with -DNOTRACE (the kernel's
    switch that turns every tracepoint into an empty inline), loaded in
    place of the real one: the reference;
  - compiled in, off: the real pciem.ko with nothing enabled (static keys);
  - on: PCIem's ten events enabled in a tracefs instance, written to its
    ring buffer (nobody reads it; it overwrites);
  - recording: pciemctl record of the function running (PCIEM_IOC_RECORD).
Each measurement runs --reps times (the four set-ups interleaved: the
modules are swapped every repetition) and the fastest is kept. Prints ns/op and the ratio to the
compiled-out module. Absolute times depend on the host and TCG; only ratios
from the same run mean anything.

Options:
  --kernel 6.1|6.12   guest kernel (default 6.1)
  --reads N           reads per measurement (default 20000)
  --writes N          writes per measurement (default 20000)
  --reps N            repetitions, fastest kept (default 3)
  --timeout SEC       guest timeout (default 600)
USAGE
}

kernel=6.1 reads=20000 writes=20000 reps=3 timeout=600
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_options kernel reads writes reps timeout -- "$@"
bench_positive "$reads" "$writes" "$reps" "$timeout"

bench_tmpdir
tmp=$bench_tmp

# ---- the reference module: the same sources with tracepoints compiled out
"$bench_root/scripts/build-kmod" "$kernel" >&2
kver=$("$bench_root/scripts/kver" "$kernel")
kdir=$(KVER=$kver "$bench_root/scripts/kdir" "$kernel")
src="$bench_root/build/kmod/$kver/src"
mkdir -p "$tmp/notrace"
cp -a "$src/kernel" "$src/include" "$tmp/notrace/"
find "$tmp/notrace" \( -name '*.o' -o -name '*.ko' -o -name '.*.cmd' -o -name '*.mod*' \) -delete
make -s -C "$kdir" -j2 M="$tmp/notrace/kernel" KCFLAGS=-DNOTRACE modules 2>&1 |
	grep -v '^Skipping BTF generation' >&2 || true
[[ -f "$tmp/notrace/kernel/pciem.ko" ]] || { echo "$prog: building pciem.ko with -DNOTRACE failed" >&2; exit 1; }
if nm "$tmp/notrace/kernel/pciem.ko" | grep -q '__tracepoint_pciem_mmio'; then
	echo "$prog: the -DNOTRACE module still has tracepoints" >&2
	exit 1
fi

# ---- the part that runs in the guest (busybox sh) ----
cat >"$tmp/guest.sh" <<'GUEST'
. /pciem/tests/vm/lib.sh
reads=$1 writes=$2 reps=$3
err() { echo "BENCH-ERROR $*"; }
dbg=/sys/kernel/debug/pciem_mmio_test
tfs=/sys/kernel/tracing
modprobe pciem_mmio_test || { err "modprobe pciem_mmio_test failed"; exit 1; }
command -v pciem-testdev >/dev/null || { err "pciem-testdev is not in the guest's PATH"; exit 1; }

# once NAME DIR: one measurement of reads, writes and floor reads (a
# shadowed register pciem.ko answers itself: the trap alone, where a
# tracepoint weighs most); keeps the fastest in best_<name>_<op>
once() {
	for op in reads writes floor; do
		if [ $op = floor ]; then
			cmd="reads $reads 0x80"
		else
			eval n=\$$op
			cmd="$op $n"
		fi
		echo "$cmd" >"$2/bench" || { err "$1: bench '$cmd' failed"; return; }
		set -- "$1" "$2" $(cat "$2/bench")	# $3=op $4=n $5=total_ns $6=ns_per_op
		eval b=\${best_$1_$op:-}
		if [ -z "$b" ] || [ "$6" -lt "$b" ]; then eval best_$1_$op=$6; fi
	done
}
up() { # start the test device, bound to the driver; sets dev
	start_owner "pciem-testdev" pciem-testdev --ready-file @READY@ || return 1
	addr=$(first_addr)
	dev=$dbg/$addr
	wait_dir "$dev" || { err "pciem-testdev not bound to pciem_mmio_test"; return 1; }
	echo "reads 200" >"$dev/bench"	# warm up: page tables, caches, the model's loop
}
swap() { # swap MODULE: pciem.ko becomes MODULE (a path, or 'pciem' for the real one)
	rmmod pciem || { err "rmmod pciem failed"; exit 1; }
	if [ "$1" = pciem ]; then
		modprobe pciem || { err "modprobe pciem failed"; exit 1; }
	else
		insmod "$1" || { err "insmod $1 failed"; exit 1; }
	fi
}

# Each repetition: the compiled-out module, then the real one off, on and
# recording, so drift in the host's load hits all four alike.
r=0
while [ $r -lt "$reps" ]; do
	swap /pciem/pciem-notrace.ko
	[ -d $tfs/events/pciem ] && { err "the -DNOTRACE module has pciem events"; exit 1; }
	up && once out "$dev"
	stop_model
	swap pciem
	mkdir $tfs/instances/bench || { err "no tracefs instance"; exit 1; }
	if up; then
		once off "$dev"
		echo 1 >$tfs/instances/bench/events/pciem/enable
		once on "$dev"
		echo 0 >$tfs/instances/bench/events/pciem/enable
		pciemctl record "$addr" -o /tmp/bench.rec --buffer-kb 65536 --duration 3600 >/dev/null 2>&1 &
		rec=$!
		sleep 1
		once rec "$dev"
		kill $rec
		wait $rec
	fi
	stop_model
	rmdir $tfs/instances/bench
	r=$((r + 1))
done
echo "BENCH-NOTE recording of the last round: $(wc -c </tmp/bench.rec) bytes"
for c in out off on rec; do
	for op in reads writes floor; do
		eval b=\${best_${c}_$op:-}
		n=$reads
		[ $op = writes ] && n=$writes
		[ -n "$b" ] && echo "BENCH $c $op $n $b"
	done
done
GUEST

out="$tmp/out"
bench_guest "$out" "$tmp/guest.sh" --kernel "$kernel" --timeout "$timeout" \
	--add "$tmp/notrace/kernel/pciem.ko:/pciem/pciem-notrace.ko" -- "$reads" "$writes" "$reps"

# ---- the table ----
awk -v kernel="$kernel" -v reps="$reps" '
$1 == "BENCH" { ns[$2 " " $3] = $5; n[$3] = $4 }
END {
	printf "PCIem tracing and MMIO, Linux %s guest under TCG, %d reads / %d writes, fastest of %d\n",
		kernel, n["reads"], n["writes"], reps
	printf "%-30s %11s %7s %11s %7s %11s %7s\n", "", "read ns/op", "ratio", "write ns/op", "ratio",
		"floor ns/op", "ratio"
	split("out off on rec", cs, " ")
	label["out"] = "tracepoints compiled out"
	label["off"] = "compiled in, off"
	label["on"] = "on (10 events to a buffer)"
	label["rec"] = "recording (pciemctl record)"
	split("reads writes floor", ops, " ")
	for (i = 1; i <= 4; i++) {
		c = cs[i]
		line = sprintf("%-30s", label[c])
		for (j = 1; j <= 3; j++) {
			o = ops[j]
			if (!((c " " o) in ns) || !(("out " o) in ns) || ns["out " o] == 0) {
				line = line sprintf(" %11s %7s", "-", "-")
				missing = 1
				continue
			}
			line = line sprintf(" %11d %6.2fx", ns[c " " o], ns[c " " o] / ns["out " o])
		}
		print line
	}
	print "ratio: against the compiled-out module in the same run; floor: reads of a shadowed"
	print "register, answered by pciem.ko (the trap alone, no round trip to the model)"
	exit missing
}' "$out" || exit 1
exit "$bench_status"
