#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Forwarding: QEMU's nvme model served over vfio-user and put on the PCIem
# bus by pciem-proxy, against PCIem's own NVMe model and QEMU's own
# -device nvme; and one register access through the proxy against the same
# access on a PCIem model and on QEMU's edu. One guest run. See docs/bench.md.
set -euo pipefail

prog=${0##*/}
usage() {
	cat <<USAGE
Usage: $prog [-h|--help] [--kernel 6.1|6.12] [--size-mb N] [--runtime SEC] [--runs N]
       [--reads N] [--reps N] [--timeout SEC] [--fwd-cpus LIST] [--proxy-args ARGS]
       [--proxy-cpus LIST] [--raw FILE]

Boots one guest (tools/pciem-vm --nvme-tools, TCG, 2 vCPUs, clocksource=tsc
as in bench/nvme_fio.sh) with QEMU's -device nvme and -device edu, and QEMU's
x-vfio-user-server (scripts/build-qemu-vfio-user) brought in. In the guest,
fio (--direct=1 --ioengine=libaio, pinned to CPU 1, time-based after a 1 s
ramp) runs on the first --size-mb MiB of each disk, written once before:
  rand4k-qd1    4 KiB random reads, queue depth 1   (IOPS)
  rand4k-qd16   4 KiB random reads, queue depth 16  (IOPS)
  seq128k       128 KiB sequential reads, queue depth 16  (MiB/s)
on
  - QEMU's nvme (-device nvme on the VM, image on the host's page cache):
    the reference, measured first and again last in each run;
  - pciem-nvme --memory --cpu 0: PCIem's own NVMe model, its defaults;
  - forwarded: QEMU's nvme model in a second QEMU inside the guest
    (-machine x-remote -accel qtest, image in the guest's RAM) behind
    pciem-proxy; server and proxy on --fwd-cpus (CPU 0);
  - served: PCIem's NVMe model as a vfio-user server (pciem-nvme
    --vfio-user, libpciem's third host) behind pciem-proxy, both on --fwd-cpus:
    the same model as pciem-nvme, one socket between it and the bus.
Then the per-access round trip, through drivers/pciem_mmio_test's debugfs
'bench' file (N readl() of BAR0 offset 0, N writel() to a scratch register
and one read; the fastest of --reps, on CPU 1):
  - edu: QEMU's edu on the VM (a TCG MMIO exit, no trap): the reference;
  - PCIem model: pciem-testdev --cpu 0, its defaults (trap, ring, model);
  - forwarded: QEMU's edu model inside the guest behind pciem-proxy (trap,
    ring, proxy, REGION_READ/WRITE on the socket, the server);
  - served: pciem-testdev --vfio-user behind pciem-proxy (the PCIem model's
    register, one vfio-user message away).
While each 4 KiB QD 16 run goes on, the CPU time of each vCPU and of the
server and proxy processes is sampled (/proc, over the measured part but
its first and last second) and printed per I/O, with what the forwarded
server's CPU time per I/O alone allows: the IOPS it could serve with both
vCPUs to itself and nothing else to run, what its main loop thread allows
on any number of CPUs, and, when servers and proxies share one CPU, what
the server allows there with a proxy that cost nothing (a bound for any
proxy in that placement).
Ratios: forwarded / QEMU nvme, forwarded / pciem-nvme, pciem-nvme / QEMU
nvme, served / pciem-nvme (each run's QEMU figure is the mean of its first
and last); the forwarded and served accesses against the PCIem model's and
edu's, and what one vfio-user message adds to a read. Absolute figures
depend on the host and TCG; only ratios from the same run mean anything.
Exits non-zero if a figure is missing.

Options:
  --kernel 6.1|6.12   guest kernel (default 6.1)
  --size-mb N         MiB of each disk used (default 64)
  --runtime SEC       seconds per fio run, after the ramp (default 5)
  --runs N            repetitions of the fio sequence (default 3)
  --reads N           register reads and writes per measurement (default 5000)
  --reps N            round-trip repetitions, fastest kept (default 3)
  --timeout SEC       guest timeout (default 2400)
  --fwd-cpus LIST     guest CPUs for the servers and proxies (default 0; fio
                      runs on CPU 1, so 0-1 lets them share fio's CPU too)
  --proxy-args ARGS   more options for every pciem-proxy, e.g. "--low-cpu"
  --proxy-cpus LIST   guest CPUs for the proxies alone (default: --fwd-cpus)
  --raw FILE          also keep the guest's raw output (BENCH lines) in FILE
USAGE
}

kernel=6.1 size_mb=64 runtime=5 runs=3 reads=5000 reps=3 timeout=2400 raw= fwd_cpus=0 proxy_args= proxy_cpus=
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_options kernel size-mb runtime runs reads reps timeout raw fwd-cpus proxy-args proxy-cpus -- "$@"
for l in "$fwd_cpus" "${proxy_cpus:-0}"; do
	[[ $l =~ ^[0-9]+([-,][0-9]+)*$ ]] || { echo "$prog: --fwd-cpus and --proxy-cpus take a CPU list such as 0 or 0-1" >&2; exit 2; }
done
bench_positive "$size_mb" "$runtime" "$runs" "$reads" "$reps" "$timeout"
[[ $size_mb -le 256 ]] || { echo "$prog: --size-mb is at most 256 (two disks live in guest memory)" >&2; exit 2; }
qemu_vfu=$("$bench_root/scripts/build-qemu-vfio-user" --print-path) ||
	{ echo "$prog: no vfio-user server: run scripts/build-qemu-vfio-user" >&2; exit 1; }
bench_tmpdir

# ---- the part that runs in the guest (busybox sh) ----
bench_fio_guest "$size_mb" <<'GUEST'
. /pciem/tests/vm/lib.sh
size_mb=$1 runtime=$2 runs=$3 reads=$4 reps=$5 fwd_cpus=$6 proxy_args=$7 proxy_cpus=$8
err() { echo "BENCH-ERROR $*"; }
for t in nvme fio pciem-nvme pciem-proxy pciem-testdev /pciem/qemu-vfio-user/qemu-system-x86_64; do
	command -v "$t" >/dev/null || { err "$t is not in the guest"; exit 1; }
done
# servers and proxies on --fwd-cpus (forward_lib.sh)
FWD_CPU=$fwd_cpus PROXY_CPU=$proxy_cpus
. /pciem/tests/vm/forward_lib.sh
start_forwarded() { # DEVICE-ARGS...
	start_server "$@"
	start_proxy $proxy_args
}

qemu_dev=$(disk_of qemu-ref) || { nvme list; err "QEMU's nvme (serial qemu-ref) not found"; exit 1; }
prefill "$qemu_dev" || exit 1
dd if=/dev/zero of=/tmp/fwd.img bs=1M count="$size_mb" 2>/dev/null ||
	{ err "no room for the forwarded disk's image in the guest"; exit 1; }

run=1
while [ $run -le "$runs" ]; do
	echo "run $run of $runs" >&2
	measure $run qemu-first "$qemu_dev" cpus

	if start_owner pciem-nvme pciem-nvme --cpu 0 --memory --size "${size_mb}M" \
		--serial PCIEM-BENCH --ready-file @READY@; then
		if dev=$(disk_of PCIEM-BENCH); then
			prefill "$dev" && measure $run pciem-nvme "$dev" model:$MODEL_PID
		else
			err "pciem-nvme has no disk"
		fi
		stop_model
		wait_gone "$(first_addr)" || err "pciem-nvme still present after it exited"
	else
		err "pciem-nvme did not start"
	fi

	if start_forwarded -device nvme,id=d0,serial=PCIEM-FWD,drive=img \
		-drive id=img,if=none,file=/tmp/fwd.img,format=raw; then
		if dev=$(disk_of PCIEM-FWD); then
			prefill "$dev" && measure $run forwarded "$dev" server:$SERVER_PID proxy:$MODEL_PID
		else
			err "the forwarded nvme has no disk"
		fi
		stop_all
		wait_gone "$(first_addr)" || err "the forwarded nvme still present after its proxy exited"
	else
		err "the forwarded nvme did not start"
	fi

	# the same model served over vfio-user, behind the proxy
	rm -f /tmp/vfu-bench.sock /tmp/vfu-bench.ready
	taskset -c "$FWD_CPU" pciem-nvme --memory --size "${size_mb}M" --serial PCIEM-VFU \
		--vfio-user /tmp/vfu-bench.sock --ready-file /tmp/vfu-bench.ready >/tmp/vfu-bench.log 2>&1 &
	vfu_pid=$!
	if wait_for 200 -s /tmp/vfu-bench.ready &&
		start_owner pciem-proxy taskset -c "${PROXY_CPU:-$FWD_CPU}" pciem-proxy --socket /tmp/vfu-bench.sock --ready-file @READY@ $proxy_args; then
		if dev=$(disk_of PCIEM-VFU); then
			prefill "$dev" && measure $run served "$dev" server:$vfu_pid proxy:$MODEL_PID
		else
			err "the served pciem-nvme has no disk"
		fi
		stop_model
		wait_gone "$(first_addr)" || err "the served nvme still present after its proxy exited"
	else
		cat /tmp/vfu-bench.log >&2
		err "the served pciem-nvme did not start"
	fi
	kill "$vfu_pid" 2>/dev/null
	wait "$vfu_pid" 2>/dev/null

	measure $run qemu-last "$qemu_dev" cpus
	run=$((run + 1))
done
rm -f /tmp/fwd.img

# ---- one register access ----
modprobe pciem_mmio_test || { err "modprobe pciem_mmio_test failed"; exit 1; }
dbg=/sys/kernel/debug/pciem_mmio_test

# roundtrip NAME DIR: fastest ns/op of reps runs of reads and of writes;
# "BENCH-RT NAME OP N NS_PER_OP"
roundtrip() {
	taskset -c 1 sh -c "echo reads 200 >$2/bench"	# warm up: page tables, caches, loops
	for op in reads writes; do
		best=
		r=0
		while [ $r -lt "$reps" ]; do
			taskset -c 1 sh -c "echo $op $reads >$2/bench" || { err "$1: bench '$op $reads' failed"; return; }
			set -- "$1" "$2" $(cat "$2/bench")	# $3=op $4=n $5=total_ns $6=ns_per_op
			if [ -z "$best" ] || [ "$6" -lt "$best" ]; then best=$6; fi
			r=$((r + 1))
		done
		echo "BENCH-RT $1 $op $reads $best"
	done
}

edu=$(pci_addr_of 0x1234 0x11e8)
if [ -n "$edu" ] && wait_dir "$dbg/$edu"; then
	roundtrip edu "$dbg/$edu"
else
	err "QEMU's edu is not bound to pciem_mmio_test"
fi
if start_owner pciem-testdev pciem-testdev --cpu 0 --ready-file @READY@ &&
	wait_dir "$dbg/$(first_addr)"; then
	roundtrip model "$dbg/$(first_addr)"
else
	err "pciem-testdev did not come up bound to pciem_mmio_test"
fi
stop_model
if start_forwarded -device edu,id=d0 && wait_dir "$dbg/$(first_addr)"; then
	roundtrip forwarded "$dbg/$(first_addr)"
else
	err "the forwarded edu did not come up bound to pciem_mmio_test"
fi
stop_all
rm -f /tmp/vfu-bench.sock /tmp/vfu-bench.ready
taskset -c "$FWD_CPU" pciem-testdev --vfio-user /tmp/vfu-bench.sock --ready-file /tmp/vfu-bench.ready \
	>/tmp/vfu-bench.log 2>&1 &
vfu_pid=$!
if wait_for 200 -s /tmp/vfu-bench.ready &&
	start_owner pciem-proxy taskset -c "${PROXY_CPU:-$FWD_CPU}" pciem-proxy --socket /tmp/vfu-bench.sock --ready-file @READY@ $proxy_args &&
	wait_dir "$dbg/$(first_addr)"; then
	roundtrip served "$dbg/$(first_addr)"
else
	cat /tmp/vfu-bench.log >&2
	err "the served pciem-testdev did not come up bound to pciem_mmio_test"
fi
stop_model
kill "$vfu_pid" 2>/dev/null
wait "$vfu_pid" 2>/dev/null
GUEST

out="$bench_tmp/out"
bench_guest "$out" "$bench_tmp/guest.sh" --kernel "$kernel" --timeout "$timeout" \
	--nvme-tools --mem 1536 --append "clocksource=tsc tsc=reliable" \
	--add "$(dirname "$qemu_vfu"):/pciem/qemu-vfio-user" \
	--qemu-arg=-drive --qemu-arg="file=$img,if=none,id=nvm,format=raw,cache=writeback" \
	--qemu-arg=-device --qemu-arg=nvme,serial=qemu-ref,drive=nvm \
	--qemu-arg=-device --qemu-arg=edu \
	-- "$size_mb" "$runtime" "$runs" "$reads" "$reps" "$fwd_cpus" "$proxy_args" "$proxy_cpus"
[[ -z $raw ]] || cp "$out" "$raw"

# ---- the table ----
awk -v kernel="$kernel" -v fwd_cpus="$fwd_cpus" -v proxy_cpus="$proxy_cpus" -v size="$size_mb" -v runtime="$runtime" -v runs="$runs" \
	"$(cat "$bench_root/bench/stats.awk")"'
# BENCH RUN LABEL WORKLOAD IOPS KiB/s LAT_US
$1 == "BENCH" { k = $2 " " $3 " " $4; iops[k] = $5; kib[k] = $6; lat[k] = $7 }
# BENCH-RT NAME OP N NS_PER_OP
$1 == "BENCH-RT" { rt[$2 " " $3] = $5; rtn = $4 }
# BENCH-CPU RUN LABEL WORKLOAD WINDOW_S name=ticks... | name=ticks...:
# seconds of CPU per name over the window (100 ticks a second)
$1 == "BENCH-CPU" {
	k = $2 " " $3 " " $4; win[k] = $5; delete t0; after = 0
	for (i = 6; i <= NF; i++) {
		if ($i == "|") { after = 1; continue }
		split($i, kv, "=")
		if (!after) { t0[kv[1]] = kv[2]; continue }
		if (kv[2] == "-" || !(kv[1] in t0) || t0[kv[1]] == "-") continue
		cpus[k " " kv[1]] = (kv[2] - t0[kv[1]]) / 100
	}
}
function val(k, w) { return w == "seq128k" ? kib[k] / 1024 : iops[k] }
# row LABEL W NUM DEN: "LABEL median   vs DEN spread" over the runs, the
# ratio NUM/DEN of each run ("qemu" is the mean of its two measurements)
function figure(r, who, w,   f, l) {
	if (who != "qemu") return (r " " who " " w) in iops ? val(r " " who " " w, w) : -1
	f = r " qemu-first " w; l = r " qemu-last " w
	return (f in iops && l in iops) ? (val(f, w) + val(l, w)) / 2 : -1
}
function row(label, w, num, den, denname,   r, n, a, q, lt, x, y) {
	n = 0
	for (r = 1; r <= runs; r++) {
		x = figure(r, num, w); y = figure(r, den, w)
		if (x < 0 || y <= 0) continue
		n++; a[n] = x; q[n] = x / y
		if (num != "qemu") lt[n] = lat[r " " num " " w]
	}
	if (n < runs) { printf "  %-22s (not measured in every run)\n", label; missing = 1; return }
	if (num == den) { printf "  %-22s %9.1f   (the reference)\n", label, median(a, n); return }
	printf "  %-22s %9.1f   vs %-10s %s   (latency %d us)\n", label, median(a, n), denname,
		spread(q, n), median(lt, n)
}
# per_io RUN LABEL W NAME: µs of CPU time of NAME per I/O in that run, -1
# if not measured
function per_io(r, who, w, name,   k) {
	k = r " " who " " w
	if (!((k " " name) in cpus) || !(k in iops) || iops[k] <= 0) return -1
	return cpus[k " " name] * 1e6 / (iops[k] * win[k])
}
# median over the runs of per_io (both QEMU measurements count)
function med_io(who, w, name,   r, n, a, v, l, j) {
	n = 0
	for (r = 1; r <= runs; r++) {
		if (who == "qemu") {
			split("qemu-first qemu-last", l, " ")
			for (j in l) if ((v = per_io(r, l[j], w, name)) >= 0) a[++n] = v
		} else if ((v = per_io(r, who, w, name)) >= 0) a[++n] = v
	}
	return n ? median(a, n) : -1
}
# Where the CPU time went at QD 16, and what the server alone allows: its
# CPU time per I/O, were it given both vCPUs and everything else were
# free, bounds the IOPS of any path to it.
function cpu_table(   w, who, lbl, i, j, line, v, order, nn, srv, main, ref, fio_side, r, n, q, x) {
	w = "rand4k-qd16"
	if (!(("1 forwarded " w " cpu0") in cpus)) return
	printf "\nCPU time per I/O at 4 KiB QD 16, us (median of the runs; fio on cpu1, servers on %s, proxies on %s)\n",
		fwd_cpus, proxy_cpus == "" ? fwd_cpus : proxy_cpus
	split("qemu pciem-nvme forwarded served", who, " ")
	nn = split("cpu0 cpu1 model server server.main proxy", order, " ")
	split("QEMU -device nvme|pciem-nvme|forwarded nvme|served pciem-nvme", lbl, "|")
	for (i = 1; i <= 4; i++) {
		line = ""
		for (j = 1; j <= nn; j++) {
			if ((v = med_io(who[i], w, order[j])) < 0) continue
			line = line sprintf("  %s %.0f", order[j], v)
		}
		if (line != "") printf "  %-22s%s\n", lbl[i], line
	}
	srv = med_io("forwarded", w, "server"); main = med_io("forwarded", w, "server.main"); ref = 0
	for (r = 1; r <= runs; r++) ref += figure(r, "qemu", w) / runs
	fio_side = med_io("qemu", w, "cpu1")
	if (srv > 0 && ref > 0) {
		printf "QEMU'"'"'s nvme server alone: %.0f us of CPU per I/O; with both vCPUs to itself it serves at most\n", srv
		printf "  %.0f IOPS = %.2fx QEMU'"'"'s own nvme; with fio'"'"'s side as on QEMU'"'"'s nvme (%.0f us) %.0f IOPS = %.2fx\n",
			2e6 / srv, 2e6 / srv / ref, fio_side, 2e6 / (srv + fio_side), 2e6 / (srv + fio_side) / ref
	}
	if (main > 0 && ref > 0)
		printf "its main loop thread, which every doorbell message and completion passes: %.0f us per I/O, so at most\n  %.0f IOPS = %.2fx QEMU'"'"'s own nvme however many CPUs it is given\n",
			main, 1e6 / main, 1e6 / main / ref
	# On the one vCPU server and proxy were given, with a proxy that cost
	# nothing: each run against its own reference.
	if (fwd_cpus ~ /^[0-9]+$/ && proxy_cpus == "") {
		n = 0
		for (r = 1; r <= runs; r++) {
			v = per_io(r, "forwarded", w, "server"); x = figure(r, "qemu", w)
			if (v > 0 && x > 0) q[++n] = 1e6 / v / x
		}
		if (n == runs)
			printf "on CPU %s alone, with a proxy that cost nothing, the server allows at most %s QEMU'"'"'s own nvme\n",
				fwd_cpus, spread(q, n)
	}
}
function access(label, who, op, ref, refname,   p, e) {
	if (!((who " " op) in rt) || !((ref " " op) in rt)) {
		printf "  %-22s (not measured)\n", label; missing = 1; return
	}
	p = rt[who " " op]; e = rt[ref " " op]
	if (who == ref) { printf "  %-22s %9d ns/op   (the reference)\n", label, p; return }
	printf "  %-22s %9d ns/op   vs %-10s %8.2fx\n", label, p, refname, (e > 0 ? p / e : 0)
}
END {
	printf "Forwarded NVMe (pciem-proxy + QEMU x-vfio-user-server, and pciem-nvme --vfio-user), Linux %s guest under TCG,\n", kernel
	printf "first %d MiB of each disk, %d s per fio run, %d runs; figures are medians of the runs,\n",
		size, runtime, runs
	printf "ratios median (min-max) over the runs, each against the same run'"'"'s reference\n"
	split("rand4k-qd1 rand4k-qd16 seq128k", ws, " ")
	for (i = 1; i <= 3; i++) {
		w = ws[i]
		printf "\n%s (%s)\n", w == "rand4k-qd1" ? "4 KiB random read, QD 1" : \
			w == "rand4k-qd16" ? "4 KiB random read, QD 16" : "128 KiB sequential read, QD 16",
			w == "seq128k" ? "MiB/s" : "IOPS"
		row("QEMU -device nvme", w, "qemu", "qemu")
		row("pciem-nvme", w, "pciem-nvme", "qemu", "QEMU")
		row("forwarded nvme", w, "forwarded", "qemu", "QEMU")
		row("forwarded nvme", w, "forwarded", "pciem-nvme", "pciem-nvme")
		row("served pciem-nvme", w, "served", "qemu", "QEMU")
		row("served pciem-nvme", w, "served", "pciem-nvme", "pciem-nvme")
	}
	cpu_table()
	printf "\nOne register access (fastest of the repetitions, %d per measurement)\n", rtn
	for (j = 1; j <= 2; j++) {
		op = j == 1 ? "reads" : "writes"
		printf "%s\n", op == "reads" ? "readl, BAR0 offset 0" : "writel to a scratch register (posted)"
		access("QEMU edu", "edu", op, "edu")
		access("PCIem model", "model", op, "edu", "edu")
		access("forwarded edu", "forwarded", op, "edu", "edu")
		access("forwarded edu", "forwarded", op, "model", "model")
		access("served testdev", "served", op, "model", "model")
	}
	if (("forwarded reads" in rt) && ("model reads" in rt))
		printf "\nthe proxy and the socket add %d ns to each forwarded read\n",
			rt["forwarded reads"] - rt["model reads"]
	if (("served reads" in rt) && ("model reads" in rt))
		printf "one vfio-user message (model served, behind the proxy) adds %d ns to each read\n",
			rt["served reads"] - rt["model reads"]
	exit missing
}' "$out" || exit 1
exit "$bench_status"
