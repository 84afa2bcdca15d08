# SPDX-License-Identifier: MIT
# Helpers of the forwarding guest cases (sourced after lib.sh): QEMU's
# x-vfio-user-server in the guest (tests/vm/run brings it in for *forward*
# cases) and pciem-proxy in front of it.

QEMU=/pciem/qemu-vfio-user/qemu-system-x86_64
SOCK=${SOCK:-/tmp/fwd.sock}
FWD_CPU=${FWD_CPU:-}	# CPUs for server and proxy (benchmarks pin them)
PROXY_CPU=${PROXY_CPU:-}	# CPUs for the proxy alone, if not $FWD_CPU

# on_cpus LIST CMD... &: CMD, on the CPUs of LIST if it is not empty.
# Background only: it execs, so that $! is CMD itself (signals reach it).
on_cpus() {
	if [ -n "$1" ]; then
		exec taskset -c "$@"
	fi
	shift
	exec "$@"
}
on_fwd_cpu() { on_cpus "$FWD_CPU" "$@"; }
on_proxy_cpu() { on_cpus "${PROXY_CPU:-$FWD_CPU}" "$@"; }

# forward_tools TOOL...: the server, pciem-proxy and each TOOL are there.
forward_tools() {
	for t in "$QEMU" "$(command -v pciem-proxy)" "$@"; do
		[ -x "$t" ] || { fail "$t is not in the guest (tests/vm/run adds it for *forward*)"; finish; }
	done
}

# start_server DEVICE-ARGS...: QEMU's model (its -device with id=d0, and
# whatever it needs) served over vfio-user at $SOCK, its output in
# $SERVER_LOG; SERVER_PID.
# $SERVER_ACCEL: qtest (no translation buffer) unless the device needs
# QEMU's virtual clock to run: under qtest it moves only when told, so
# timers (e1000e's link autonegotiation) never fire.
SERVER_LOG=${SERVER_LOG:-/tmp/fwd-server.log}
SERVER_ACCEL=${SERVER_ACCEL:-qtest}
start_server() {
	rm -f "$SOCK"
	on_fwd_cpu "$QEMU" -machine x-remote,vfio-user=on -accel "$SERVER_ACCEL" -m 32M -nodefaults -display none \
		-monitor none "$@" -object x-vfio-user-server,id=v0,type=unix,path="$SOCK",device=d0 \
		>"$SERVER_LOG" 2>&1 &
	SERVER_PID=$!
}

# start_proxy [ARGS...]: pciem-proxy on $SOCK until its function is on the bus.
start_proxy() {
	start_owner "pciem-proxy" on_proxy_cpu pciem-proxy --socket "$SOCK" --connect-timeout-s 60 \
		--ready-file @READY@ "$@" || { cat "$SERVER_LOG"; return 1; }
}

# stop_all: the proxy (the function goes), then the server.
stop_all() {
	stop_model
	kill "$SERVER_PID" 2>/dev/null
	wait "$SERVER_PID" 2>/dev/null
}

# proxy_gone WHAT ADDR [WORDS]: after a fault (WHAT, for the messages) the
# proxy exits 1 with a message naming it (matching WORDS, a grep pattern),
# and its function ADDR leaves the bus.
proxy_gone() {
	wait_exit "$MODEL_PID" 100 || fail "$1: the proxy did not exit"
	wait "$MODEL_PID"
	expect_eq "$1: proxy exit status" "$?" 1
	grep -q "pciem-proxy: .*${3:-}.*: the function was removed" "$OWNER_LOG" ||
		{ cat "$OWNER_LOG"; fail "$1: the proxy did not say why it stopped"; }
	wait_gone "$2" || fail "$1: $2 still there"
}

# netdev_of ADDR: the interface the driver registered for function ADDR.
netdev_of() {
	ls "$(sysfs_dev "$1")/net" 2>/dev/null | head -n 1
}

# wait_netdev ADDR: that interface's name, once the driver registered it
# (30 s at most); nothing if it never did.
wait_netdev() {
	i=0
	while [ -z "$(netdev_of "$1")" ] && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	netdev_of "$1"
}
