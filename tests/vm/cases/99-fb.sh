# SPDX-License-Identifier: MIT
# The framebuffer accelerator (pciem-fb) with its own DRM driver
# (drivers/pciem_fb), checked by what the screen shows: the model's PNG
# snapshot (SIGUSR1) against modetest's SMPTE pattern computed by the test,
# fbcon text, and what a libdrm client drew with dumb buffers, an atomic
# modeset, a page flip and damage clips; vblank events at the refresh rate
# with MSI-X, MSI and INTx; fence sequence numbers that only grow; bad
# commands injected through debugfs end in a device reset and a working
# display; the live view serves the same picture; the model killed under
# fbcon leaves no oops.
. /pciem/tests/vm/lib.sh

dbg_dir() {
	for d in /sys/kernel/debug/dri/*; do
		[ -f "$d/pciem_fb" ] && { echo "$d"; return; }
	done
}
state() { # state FIELD: a line of the driver's debugfs state
	sed -n "s/^$1: //p" "$(dbg_dir)/pciem_fb"
}
log_mark
# The live view on port 8080: fetched here, and from the host through
# tools/pciem-vm --forward-port when tests/vm/run forwards it.
ip link set lo up
start_owner pciem-fb pciem-fb --ready-file @READY@ --snapshot "$snap" --http-port 8080 || finish
addr=$(first_addr)
modprobe pciem_fb || { fail "modprobe pciem_fb"; finish; }
wait_for 50 -e /dev/fb0 || fail "no /dev/fb0 (fbdev emulation) after 5 s"
expect_eq "driver of $addr" "$(driver_of "$addr")" pciem_fb
expect_eq "interrupts" "$(state irq_mode)" msix

fbcon_abab "own driver"

modetest_smpte pciem_fb "own driver"

# A DRM client: modeset, page flip, damage. It holds the display until
# killed; fence numbers are sampled meanwhile.
f0=$(state fence_completed)
rm -f /tmp/drawn
pciem_fb_client draw pciem_fb /tmp/expected.png /tmp/drawn &
client=$!
wait_for 100 -e /tmp/drawn || fail "the DRM client did not finish drawing"
screen_is "the client's flip and damage" same "$snap" /tmp/expected.png
# The live view's picture is the screen, bit for bit.
rm -f /tmp/live.png
wget -q -O /tmp/live.png http://127.0.0.1:8080/frame.png || fail "no picture from the live view"
if pciem_fb_client same /tmp/live.png /tmp/expected.png >/tmp/check.log 2>&1; then
	note "ok: the live view's frame.png: $(tail -n 1 /tmp/check.log)"
else
	cat /tmp/check.log
	fail "the live view's frame.png differs from the client's image"
fi
f1=$(state fence_completed)
kill "$client"
wait "$client"
[ "$f1" -gt "$f0" ] || fail "fences did not grow: $f0 then $f1"
note "fences completed: $f0 then $f1 (emitted $(state fence_emitted), device $(state fence_device))"

pciem_fb_client vblank pciem_fb 2 || fail "vblank events (MSI-X)"

# Bad commands through debugfs: each one stops the device's ring; the
# driver resets the engine and the display works on.
for bad in bad-opcode bad-surface bad-dma; do
	echo "$bad" >"$(dbg_dir)/pciem_fb" || fail "injecting $bad did not end in a recovered device error"
done
expect_eq "device errors" "$(state errors)" 3
expect_eq "engine resets" "$(state resets)" 3
log_since | grep -q 'device error 1 at ring offset' || fail "no log line for the bad opcode"
modetest_smpte pciem_fb "after three device resets"
f2=$(state fence_completed)
[ "$f2" -gt "$f1" ] || fail "fences went backwards or stalled: $f1 then $f2"
# every fence value the driver read after a submission was above the last
expect_eq "fence values that went backwards" "$(state fence_regressions)" 0

# The model killed under fbcon: a surprise removal.
kill -9 "$MODEL_PID"
wait "$MODEL_PID" 2>/dev/null
wait_gone "$addr" || fail "$addr still present after the model died"
wait_for 50 ! -e /dev/fb0 || fail "/dev/fb0 still present"
log_clean "surprise removal under fbcon"

# The single-vector fallbacks: threaded handler reading IRQ_STATUS; and
# the largest VRAM (--vram-mb 256) with the first.
rmmod pciem_fb || fail "rmmod pciem_fb"
for mode in msi intx; do
	vram=16
	[ $mode = msi ] && vram=256
	log_mark
	start_owner pciem-fb pciem-fb --ready-file @READY@ --snapshot "$snap" --vram-mb $vram || continue
	modprobe pciem_fb irq_mode=$mode || fail "modprobe pciem_fb irq_mode=$mode"
	wait_for 50 -e /dev/fb0 || fail "no /dev/fb0 with $mode"
	expect_eq "interrupts" "$(state irq_mode)" $mode
	log_since | grep -q "pciem-fb 1.0, $vram MiB VRAM" || fail "the driver did not find $vram MiB of VRAM"
	[ $mode = intx ] || fbcon_abab "$vram MiB VRAM, $mode"
	pciem_fb_client vblank pciem_fb 2 || fail "vblank events ($mode)"
	[ "$(state fence_completed)" -gt 0 ] || fail "no fence completed with $mode"
	stop_model
	rmmod pciem_fb || fail "rmmod pciem_fb"
	log_clean "$mode"
done
finish
