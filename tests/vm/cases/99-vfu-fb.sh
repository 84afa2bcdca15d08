# SPDX-License-Identifier: MIT
# The framebuffer loop of issue 21: PCIem's framebuffer model served over
# vfio-user (`pciem-fb --vfio-user SOCK`) and put on the PCIem bus by
# pciem-proxy. The project's DRM driver binds, modetest draws its SMPTE
# pattern, and the model's PNG snapshot is bit for bit the one the same
# model took in a direct run (pciem-fb on /dev/pciem) earlier in this
# case. The kernel log stays clean.
. /pciem/tests/vm/lib.sh

SOCK=/tmp/vfu-fb.sock
for t in pciem-fb pciem-proxy modetest; do
	command -v "$t" >/dev/null || { fail "$t is not in the guest"; finish; }
done

# The direct run: the reference picture.
log_mark
start_owner pciem-fb pciem-fb --ready-file @READY@ --snapshot "$snap" || finish
modprobe pciem_fb || { fail "modprobe pciem_fb"; finish; }
wait_for 50 -e /dev/fb0 || fail "no /dev/fb0 in the direct run"
modetest_smpte pciem_fb "direct run"
cp "$snap" /tmp/direct.png
stop_model
wait_for 50 ! -e /dev/fb0 || fail "/dev/fb0 still there after the direct run"

# The same model behind vfio-user and pciem-proxy.
ready=/tmp/vfu-fb.ready
rm -f "$ready" "$SOCK"
pciem-fb --vfio-user "$SOCK" --ready-file "$ready" --snapshot "$snap" >/tmp/vfu-fb.log 2>&1 &
SERVER_PID=$!
if wait_for 200 -s "$ready" &&
	start_owner pciem-proxy pciem-proxy --socket "$SOCK" --ready-file @READY@; then
	PROXY_PID=$MODEL_PID
	addr=$(first_addr)
	wait_for 100 -e /dev/fb0 || fail "no /dev/fb0 behind the proxy"
	expect_eq "driver of $addr" "$(driver_of "$addr")" pciem_fb
	# snapshot() signals MODEL_PID: here the model is the server.
	MODEL_PID=$SERVER_PID
	modetest_smpte pciem_fb "model over vfio-user"
	if pciem_fb_client same "$snap" /tmp/direct.png >/tmp/check.log 2>&1; then
		note "ok: the served model's picture is the direct run's: $(tail -n 1 /tmp/check.log)"
	else
		cat /tmp/check.log
		fail "the served model's picture differs from the direct run's"
	fi
	# The proxy stopped: the function goes, the server stays.
	MODEL_PID=$PROXY_PID
	stop_model
	wait_gone "$addr" || fail "$addr still there after the proxy stopped"
	kill -0 "$SERVER_PID" 2>/dev/null || fail "the server exited when its client left"
else
	cat /tmp/vfu-fb.log
	fail "the server or the proxy did not start"
fi
kill "$SERVER_PID" 2>/dev/null
wait "$SERVER_PID"
expect_eq "server exit status on SIGTERM" "$?" 0
rmmod pciem_fb || fail "rmmod pciem_fb"
log_clean "fb over vfio-user"
finish
