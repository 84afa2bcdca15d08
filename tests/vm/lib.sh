# SPDX-License-Identifier: MIT
# Helpers for guest test cases (busybox sh). Source it: . /pciem/tests/vm/lib.sh
#
# A case is a shell script that exits 0 when every check passed. It calls
# `fail MESSAGE` for each failed check (the case goes on, so one run shows
# every problem) and `finish` at the end.

PCIEM_DOMAIN=""
FAILED=0
# what start_owner's program prints (a case running two sets it per owner)
OWNER_LOG=${OWNER_LOG:-/tmp/owner.$$.log}

fail() {
	echo "  FAILED: $*"
	FAILED=$((FAILED + 1))
}

note() {
	echo "  $*"
}

# expect_eq WHAT GOT WANT
expect_eq() {
	if [ "$2" = "$3" ]; then
		note "ok: $1 = $3"
	else
		fail "$1: got '$2', want '$3'"
	fi
}

# shrink_slabs: every slab cache gives back its empty slabs and per-CPU
# caches, and (on the debug kernel) empties its part of KASAN's quarantine,
# freed objects held back to catch uses after free: megabytes that say
# nothing about leaks. Before measuring kernel memory.
shrink_slabs() {
	for f in /sys/kernel/slab/*/shrink; do
		[ -e "$f" ] && echo 1 >"$f" 2>/dev/null
	done
}

finish() {
	[ "$FAILED" -eq 0 ] || { echo "  $FAILED check(s) failed"; exit 1; }
	exit 0
}

# start_owner LABEL CMD...: run CMD in the background, with the argument
# @READY@ replaced by a ready-file path, until CMD writes that file (its
# functions exist). Sets MODEL_PID and MODEL_ADDRS (one address per line).
start_owner() {
	label=$1
	shift
	ready=/tmp/ready.$$.$(date +%s%N)
	rm -f "$ready"
	n=$#
	k=0
	while [ $k -lt $n ]; do
		a=$1
		shift
		[ "$a" = @READY@ ] && a=$ready
		set -- "$@" "$a"
		k=$((k + 1))
	done
	"$@" >"$OWNER_LOG" 2>&1 &
	MODEL_PID=$!
	i=0
	while [ ! -s "$ready" ]; do
		if ! kill -0 "$MODEL_PID" 2>/dev/null; then
			cat "$OWNER_LOG"
			fail "$label exited before its devices were ready"
			MODEL_ADDRS=""
			return 1
		fi
		i=$((i + 1))
		[ $i -lt 200 ] || { fail "$label not ready after 20 s"; return 1; }
		sleep 0.1
	done
	MODEL_ADDRS=$(cat "$ready")
	rm -f "$ready"
	return 0
}

# start_model SPEC...: `pciemctl run` (functions with no model behind them).
start_model() {
	start_owner "pciemctl run $*" pciemctl run --ready-file @READY@ "$@"
}

# start_testdev ARGS...: the C++ test device, pinned to CPU 0 (tests load
# the driver with model_cpu=0): reads from interrupt context spin until the
# model answers, so it must run on another CPU than they come from.
start_testdev() {
	start_owner "pciem-testdev $*" pciem-testdev --cpu 0 --ready-file @READY@ "$@"
}

# wait_for TENTHS TEST...: `test TEST...` comes true within TENTHS tenths
# of a second; its last result is the return status.
wait_for() {
	n=$1
	shift
	i=0
	while ! test "$@" && [ $i -lt "$n" ]; do
		sleep 0.1
		i=$((i + 1))
	done
	test "$@"
}

# stuck_tasks: what every task in D state waits on (kernel stack), and the
# nvme driver's workers' stacks too. Printed when a device's disk or
# directory does not come, so a CI log says where the probe stands.
stuck_tasks() {
	echo "--- tasks in D state, and nvme/scan workers (pid comm: kernel stack)"
	for d in /proc/[0-9]*; do
		st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "$d/status" 2>/dev/null)
		stack=$(cat "$d/stack" 2>/dev/null)
		case "$st:$stack" in
		D:* | *nvme*) echo "  ${d#/proc/} $(cat "$d/comm" 2>/dev/null) ($st):"
			echo "$stack" | sed 's/^/      /' ;;
		esac
	done
	echo "--- PCIem interrupts"
	grep PCIem /proc/interrupts | sed 's/^/  /'
}

# wait_exit PID TENTHS: process PID ends within TENTHS tenths of a second.
wait_exit() {
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt "$2" ]; do
		sleep 0.1
		i=$((i + 1))
	done
	! kill -0 "$1" 2>/dev/null
}

# wait_dir DIR: a directory (a driver's debugfs entry) appears within 5 s.
wait_dir() {
	wait_for 50 -d "$1"
}

# disk_of SERIAL: the namespace block device `nvme list` (nvme-cli) shows
# for the NVMe controller with that serial, once it exists (the driver
# probes asynchronously; 30 s at most). Prints nothing and fails if never.
disk_of() {
	i=0
	while [ $i -lt 150 ]; do
		d=$(nvme list 2>/dev/null | awk -v s="$1" '{ for (f = 2; f <= NF; f++) if ($f == s) { print $1; exit } }')
		if [ -n "$d" ] && [ -b "$d" ]; then
			echo "$d"
			return 0
		fi
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}

# stop_model [SIGNAL]: end the model started last and wait for it.
stop_model() {
	kill "-${1:-TERM}" "$MODEL_PID" 2>/dev/null
	wait "$MODEL_PID" 2>/dev/null
	return 0
}

# first_addr: the first address of the model started last.
first_addr() {
	echo "$MODEL_ADDRS" | head -n 1
}

# pci_addr_of VENDOR DEVICE: the first PCI function with these IDs
# (0x-prefixed, as sysfs shows them), or nothing.
pci_addr_of() {
	for d in /sys/bus/pci/devices/*; do
		if [ "$(cat "$d/vendor")" = "$1" ] && [ "$(cat "$d/device")" = "$2" ]; then
			basename "$d"
			return
		fi
	done
}

sysfs_dev() {
	echo "/sys/bus/pci/devices/$1"
}

driver_of() {
	l=$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null) || { echo none; return; }
	basename "$l"
}

# wait_gone ADDR: the function disappears from sysfs within 5 s.
wait_gone() {
	wait_for 50 ! -e "/sys/bus/pci/devices/$1"
}

# run_suite DIR FILE WHAT WANT: write WHAT to the driver's debugfs file
# DIR/FILE (a pciem_mmio_test suite: irq, dma); every line it answers must
# be PASS, at least WANT of them.
run_suite() {
	echo "$3" >"$1/$2" || { fail "writing '$3' to $1/$2 failed"; return 1; }
	out=$(cat "$1/$2")
	echo "$out" | sed 's/^/    /'
	if echo "$out" | grep -q '^FAIL'; then
		fail "'$3': $(echo "$out" | grep -c '^FAIL') test(s) failed"
		return 1
	fi
	got=$(echo "$out" | grep -c '^PASS')
	[ "$got" -ge "$4" ] || { fail "'$3': $got tests passed, want $4"; return 1; }
}

# run_suite_all DIR FILE MIN: every test of the suite DIR/FILE that `all`
# runs (the non-explicit ones of DIR/FILE-tests, at least MIN of them:
# fewer means some were lost) passes.
run_suite_all() {
	want=$(grep -vc explicit "$1/$2-tests")
	[ "$want" -ge "$3" ] || fail "only $want tests listed in $1/$2-tests, want >= $3"
	run_suite "$1" "$2" all "$want"
}

# A marker written into the kernel log, rather than a line count: the log
# is a ring, and counts shift once it wraps.
oops_pattern='BUG:|WARNING:|Oops|general protection|Call Trace|scheduling while atomic|rcu: INFO'
log_mark() {
	LOG_MARK="pciem-test-mark-$$-$(date +%s%N)"
	echo "$LOG_MARK" >/dev/kmsg
}
log_since() { dmesg | sed -n "/$LOG_MARK/,\$p"; }
# log_clean WHAT: no kernel report since the last log_mark.
log_clean() {
	bad=$(log_since | grep -E "$oops_pattern")
	[ -z "$bad" ] || { echo "$bad" | head -n 20; fail "$1: kernel log reports the above"; }
}

# ---- display models (pciem-fb, pciem-bochs): what the screen shows ----
# The model runs with --snapshot "$snap"; SIGUSR1 makes it write the PNG.
snap=/tmp/fb-snap.png
# snapshot: a fresh PNG of the screen from the model.
snapshot() {
	rm -f "$snap"
	kill -USR1 "$MODEL_PID"
	wait_for 50 -s "$snap"
}
# screen_is WHAT CHECK...: the screen passes `pciem_fb_client CHECK...`
# (with the snapshot as its PNG) within 10 s; updates reach the screen at
# the next vblank after the upload.
screen_is() {
	what=$1
	shift
	i=0
	while [ $i -lt 20 ]; do
		if snapshot && pciem_fb_client "$@" >/tmp/check.log 2>&1; then
			note "ok: $what: $(tail -n 1 /tmp/check.log)"
			return 0
		fi
		sleep 0.5
		i=$((i + 1))
	done
	cat /tmp/check.log
	cp "$snap" "/tmp/failed-$(echo "$what" | tr ' ' '-').png" 2>/dev/null
	fail "$what: the screen never showed it"
	return 1
}
# modetest_smpte DRIVER WHAT: `modetest -M DRIVER -s CONN@CRTC:1024x768`
# shows its SMPTE test pattern, bit for bit (modetest waits for Enter).
modetest_smpte() {
	ids=$(pciem_fb_client ids "$1") || { fail "no connector/CRTC for modetest"; return; }
	(sleep 12; echo) | modetest -M "$1" -s "$ids:1024x768" >/tmp/modetest.log 2>&1 &
	mt=$!
	screen_is "modetest -s $ids:1024x768 pattern ($2)" smpte "$snap"
	wait "$mt" || { cat /tmp/modetest.log; fail "modetest failed"; }
}

# fbcon_abab WHAT: "ABAB" written to the console (cursor hidden) shows up
# at the top left as glyphs.
fbcon_abab() {
	printf '\033[2J\033[H\033[?25lABAB' >/dev/tty1
	screen_is "fbcon text ABAB ($1)" text "$snap" 0 0 4
}

# ---- models served over vfio-user behind pciem-proxy ----
# start_served LABEL SOCK CMD...: CMD (a model program) serving vfio-user
# on SOCK, then pciem-proxy putting it on the bus. Sets SERVER_PID,
# PROXY_PID, and MODEL_PID/MODEL_ADDRS as start_owner does (the proxy);
# the proxy's output is in $OWNER_LOG.
start_served() {
	label=$1
	sock=$2
	shift 2
	rm -f /tmp/served.ready "$sock"
	"$@" --vfio-user "$sock" --ready-file /tmp/served.ready >/tmp/served.log 2>&1 &
	SERVER_PID=$!
	if ! wait_for 200 -s /tmp/served.ready; then
		cat /tmp/served.log
		fail "$label did not serve on $sock"
		return 1
	fi
	start_owner pciem-proxy pciem-proxy --socket "$sock" --ready-file @READY@ || return 1
	PROXY_PID=$MODEL_PID
}
# same_as_direct WHAT PNG: the snapshot is bit for bit PNG (a direct run's).
same_as_direct() {
	if pciem_fb_client same "$snap" "$2" >/tmp/check.log 2>&1; then
		note "ok: $1: the picture is the direct run's: $(tail -n 1 /tmp/check.log)"
	else
		cat /tmp/check.log
		fail "$1: the picture differs from the direct run's"
	fi
}
# stop_served: the proxy stops: its function goes, the server stays; then
# the server ends on SIGTERM with status 0.
stop_served() {
	addr=$(first_addr)
	MODEL_PID=$PROXY_PID
	stop_model
	wait_gone "$addr" || fail "$addr still there after the proxy stopped"
	kill -0 "$SERVER_PID" 2>/dev/null || fail "the server exited when its client left"
	kill "$SERVER_PID" 2>/dev/null
	wait "$SERVER_PID"
	expect_eq "server exit status on SIGTERM" "$?" 0
}
