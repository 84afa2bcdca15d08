#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The display models side by side in one guest run: the accelerator's
# upload bandwidth through its command ring against the CPU writing into
# VRAM, full-screen redraws per second through the own driver (pciem_fb)
# against the bochs path (stock bochs driver, CPU writes into a RAM BAR),
# and vblank jitter against a plain timer's. See docs/bench.md.
set -euo pipefail

prog=${0##*/}
usage() {
	cat <<USAGE
Usage: $prog [-h|--help] [--kernel 6.1|6.12] [--frames N] [--seconds N] [--timeout SEC]

Boots one guest (tools/pciem-vm --display-tools, TCG, 2 vCPUs). In it:
  - pciem-bochs with the stock bochs driver: pciem_fb_client redraw writes
    N full 1024x768 frames into a dumb buffer, which that driver places in
    VRAM (BAR0, a RAM BAR), then DIRTYFB: redraws/s, and the CPU's write
    bandwidth into VRAM (the reference for uploads).
  - pciem-fb with pciem_fb: the same N redraws (the buffer is in system
    memory; each DIRTYFB is a COPY and an UPLOAD through the ring, then a
    flip at the next vblank): redraws/s, and the ring's upload bandwidth
    (pixel bytes / time from doorbell to fence, from the driver's debugfs).
  - vblank events for --seconds, and a plain clock_nanosleep loop at the
    same rate: the jitter of event timestamps around the period.
Ratios are own driver / bochs path, ring upload / CPU write, vblank jitter
/ timer jitter. Absolute figures depend on the host and TCG.

Options:
  --kernel 6.1|6.12   guest kernel (default 6.1)
  --frames N          redraws per path (default 60)
  --seconds N         vblank and timer measurement time (default 5)
  --timeout SEC       guest timeout (default 600)
USAGE
}

kernel=6.1 frames=60 seconds=5 timeout=600
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_options kernel frames seconds timeout -- "$@"
bench_positive "$frames" "$seconds" "$timeout"

bench_tmpdir
tmp=$bench_tmp

# ---- the part that runs in the guest (busybox sh) ----
cat >"$tmp/guest.sh" <<'GUEST'
. /pciem/tests/vm/lib.sh
frames=$1 seconds=$2
err() { echo "BENCH-ERROR $*"; }
dbg() { for d in /sys/kernel/debug/dri/*; do [ -f "$d/pciem_fb" ] && cat "$d/pciem_fb"; done; }

if start_owner pciem-bochs pciem-bochs --ready-file @READY@ && wait_for 100 -e /dev/fb0; then
	set -- $(pciem_fb_client redraw bochs-drm "$frames")
	echo "BENCH bochs $2 $3"
else
	err "pciem-bochs did not come up with the bochs driver"
fi
stop_model

if start_owner pciem-fb pciem-fb --ready-file @READY@ && modprobe pciem_fb &&
	wait_for 100 -e /dev/fb0; then
	b0=$(dbg | sed -n 's/^upload_bytes: //p') n0=$(dbg | sed -n 's/^busy_ns: //p')
	set -- $(pciem_fb_client redraw pciem_fb "$frames")
	b1=$(dbg | sed -n 's/^upload_bytes: //p') n1=$(dbg | sed -n 's/^busy_ns: //p')
	echo "BENCH fb $2 $3 $((b1 - b0)) $((n1 - n0))"
	set -- $(pciem_fb_client vblank pciem_fb "$seconds" | grep '^jitter')
	echo "BENCH vblank $2 $3 $4"
	set -- $(pciem_fb_client timer 60 "$seconds")
	echo "BENCH timer $2 $3 $4"
else
	err "pciem-fb did not come up with pciem_fb"
fi
stop_model
GUEST

out="$tmp/out"
bench_guest "$out" "$tmp/guest.sh" --kernel "$kernel" --timeout "$timeout" --display-tools \
	-- "$frames" "$seconds"

# ---- the table ----
awk -v kernel="$kernel" -v frames="$frames" '
$1 == "BENCH" { for (i = 3; i <= NF; i++) v[$2, i - 2] = $i; have[$2] = 1 }
END {
	printf "Display paths, Linux %s guest under TCG, %d full-screen 1024x768 redraws per path\n",
		kernel, frames
	if (have["bochs"])
		printf "%-34s %8.2f redraws/s   CPU writes into VRAM %8.1f MB/s   (reference)\n",
			"bochs (stock driver, VRAM buffer)", v["bochs", 1], v["bochs", 2]
	if (have["fb"]) {
		up = v["fb", 4] > 0 ? v["fb", 3] / v["fb", 4] * 1000 : 0
		printf "%-34s %8.2f redraws/s   ring upload %8.1f MB/s (%d MB in %.2f s); CPU writes into its system-memory buffer %.1f MB/s\n",
			"pciem_fb (ring upload + flip)", v["fb", 1], up, v["fb", 3] / 1e6, v["fb", 4] / 1e9, v["fb", 2]
		if (have["bochs"])
			printf "%-34s redraws %.3fx, upload bandwidth %.3fx of the CPU writing into VRAM\n",
				"ratio pciem_fb / bochs", v["fb", 1] / v["bochs", 1], up / v["bochs", 2]
	}
	if (have["vblank"] && have["timer"])
		printf "vblank jitter (us): mean %.1f, stddev %.1f, max %.1f; timer: mean %.1f, stddev %.1f, max %.1f; ratio stddev %.2fx\n",
			v["vblank", 1], v["vblank", 2], v["vblank", 3], v["timer", 1], v["timer", 2],
			v["timer", 3], (v["timer", 2] > 0 ? v["vblank", 2] / v["timer", 2] : 0)
	if (!have["bochs"] || !have["fb"] || !have["vblank"])
		print "(some figures were not measured: see the guest output above)"
}' "$out"
