# SPDX-License-Identifier: MIT
# A RAM BAR through vfio-user: pciem-bochs served over vfio-user
# (`pciem-bochs --vfio-user SOCK`) offers its 16 MiB VRAM BAR as an
# mmap()able region; pciem-proxy hands those pages to pciem.ko
# (PCIEM_IOC_BAR_BACKING), so the stock bochs driver's VRAM writes land in
# the server's memory with no trap (2 MiB ioremap leaves split into 4 KiB
# entries), while the register BAR stays forwarded. modetest's pattern and
# fbcon text show up in the server's PNG, the pattern bit for bit as in a
# direct run; the traps table shows the VRAM mapped as memory. The kernel
# log stays clean.
. /pciem/tests/vm/lib.sh

for t in pciem-bochs pciem-proxy modetest; do
	command -v "$t" >/dev/null || { fail "$t is not in the guest"; finish; }
done
log_mark
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

# The direct run: the reference picture.
start_owner pciem-bochs pciem-bochs --ready-file @READY@ --snapshot "$snap" || finish
modprobe bochs 2>/dev/null
wait_for 100 -e /dev/fb0 || fail "no /dev/fb0 in the direct run"
t0=$(date +%s%N)
modetest_smpte bochs-drm "direct run"
note "direct run: modetest's pattern seen after $(ms_since "$t0") ms"
cp "$snap" /tmp/direct.png
stop_model
wait_for 50 ! -e /dev/fb0 || fail "/dev/fb0 still there after the direct run"

# The same model behind vfio-user and pciem-proxy.
if start_served pciem-bochs /tmp/vfu-bochs.sock pciem-bochs --snapshot "$snap"; then
	grep 'shared with the server' /tmp/owner.$$.log ||
		fail "the proxy did not share the VRAM BAR: $(cat /tmp/owner.$$.log)"
	wait_for 100 -e /dev/fb0 || fail "no /dev/fb0 behind the proxy"
	expect_eq "driver of $(first_addr)" "$(driver_of "$(first_addr)")" bochs-drm
	# snapshot() signals MODEL_PID: here the model is the server.
	MODEL_PID=$SERVER_PID
	t0=$(date +%s%N)
	modetest_smpte bochs-drm "model over vfio-user"
	note "served run: modetest's pattern seen after $(ms_since "$t0") ms"
	same_as_direct "bochs over vfio-user" /tmp/direct.png
	# Some kernel mapping of the VRAM (fbdev's, TTM's) points at memory.
	note "traps: $(tr '\n' ';' </sys/kernel/debug/pciem/traps)"
	grep -q ' ram [1-9]' /sys/kernel/debug/pciem/traps ||
		fail "no kernel mapping of the VRAM points at memory"
	fbcon_abab "bochs over vfio-user"
	stop_served
	wait_for 50 ! -e /dev/fb0 || fail "/dev/fb0 still there after the proxy stopped"
fi
log_clean "bochs over vfio-user"
finish
