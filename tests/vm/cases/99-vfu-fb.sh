# SPDX-License-Identifier: MIT
# The framebuffer loop of issue 21: PCIem's framebuffer model served over
# vfio-user (`pciem-fb --vfio-user SOCK`) and put on the PCIem bus by
# pciem-proxy. Its VRAM BAR is shared memory (PCIEM_IOC_BAR_BACKING); the
# project's DRM driver binds, modetest draws its SMPTE pattern (uploads by
# DMA through the proxy's window), and the model's PNG snapshot is bit for
# bit the one the same model took in a direct run (pciem-fb on /dev/pciem)
# earlier in this case. The kernel log stays clean.
. /pciem/tests/vm/lib.sh

for t in pciem-fb pciem-proxy modetest; do
	command -v "$t" >/dev/null || { fail "$t is not in the guest"; finish; }
done
log_mark

# The direct run: the reference picture.
start_owner pciem-fb pciem-fb --ready-file @READY@ --snapshot "$snap" || finish
modprobe pciem_fb || { fail "modprobe pciem_fb"; finish; }
wait_for 50 -e /dev/fb0 || fail "no /dev/fb0 in the direct run"
modetest_smpte pciem_fb "direct run"
cp "$snap" /tmp/direct.png
stop_model
wait_for 50 ! -e /dev/fb0 || fail "/dev/fb0 still there after the direct run"

# The same model behind vfio-user and pciem-proxy.
if start_served pciem-fb /tmp/vfu-fb.sock pciem-fb --snapshot "$snap"; then
	grep -q 'shared with the server' "$OWNER_LOG" ||
		fail "the proxy did not share the VRAM BAR: $(cat "$OWNER_LOG")"
	wait_for 100 -e /dev/fb0 || fail "no /dev/fb0 behind the proxy"
	expect_eq "driver of $(first_addr)" "$(driver_of "$(first_addr)")" pciem_fb
	# snapshot() signals MODEL_PID: here the model is the server.
	MODEL_PID=$SERVER_PID
	modetest_smpte pciem_fb "model over vfio-user"
	same_as_direct "fb over vfio-user" /tmp/direct.png
	stop_served
fi
rmmod pciem_fb || fail "rmmod pciem_fb"
log_clean "fb over vfio-user"
finish
