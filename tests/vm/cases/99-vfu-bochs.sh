# SPDX-License-Identifier: MIT
# A RAM BAR through vfio-user: pciem-bochs served over vfio-user
# (`pciem-bochs --vfio-user SOCK`) offers its 16 MiB VRAM BAR as an
# mmap()able region; pciem-proxy hands those pages to pciem.ko
# (PCIEM_IOC_BAR_BACKING), so the stock bochs driver's VRAM writes land in
# the server's memory with no trap (2 MiB ioremap leaves split into 4 KiB
# entries), while the register BAR stays forwarded. modetest's pattern and
# fbcon text show up in the server's PNG, the pattern bit for bit as in a
# direct run; the traps table shows the VRAM mapped as memory, and the
# proxy forwarded not one VRAM access (all of them were register BAR
# ones). The server killed, then the proxy killed, while the driver is
# bound to the pinned VRAM: the function goes. The kernel log stays clean.
. /pciem/tests/vm/lib.sh

for t in pciem-bochs pciem-proxy modetest; do
	command -v "$t" >/dev/null || { fail "$t is not in the guest"; finish; }
done
log_mark

# The direct run: the reference picture.
start_owner pciem-bochs pciem-bochs --ready-file @READY@ --snapshot "$snap" || finish
modprobe bochs 2>/dev/null
wait_for 100 -e /dev/fb0 || fail "no /dev/fb0 in the direct run"
modetest_smpte bochs-drm "direct run"
cp "$snap" /tmp/direct.png
stop_model
wait_for 50 ! -e /dev/fb0 || fail "/dev/fb0 still there after the direct run"

# The same model behind vfio-user and pciem-proxy.
if start_served pciem-bochs /tmp/vfu-bochs.sock pciem-bochs --snapshot "$snap"; then
	grep 'shared with the server' "$OWNER_LOG" ||
		fail "the proxy did not share the VRAM BAR: $(cat "$OWNER_LOG")"
	wait_for 100 -e /dev/fb0 || fail "no /dev/fb0 behind the proxy"
	expect_eq "driver of $(first_addr)" "$(driver_of "$(first_addr)")" bochs-drm
	# snapshot() signals MODEL_PID: here the model is the server.
	MODEL_PID=$SERVER_PID
	modetest_smpte bochs-drm "model over vfio-user"
	same_as_direct "bochs over vfio-user" /tmp/direct.png
	# Some kernel mapping of the VRAM (fbdev's, TTM's) points at memory.
	note "traps: $(tr '\n' ';' </sys/kernel/debug/pciem/traps)"
	grep -q ' ram [1-9]' /sys/kernel/debug/pciem/traps ||
		fail "no kernel mapping of the VRAM points at memory"
	fbcon_abab "bochs over vfio-user"
	stop_served
	wait_for 50 ! -e /dev/fb0 || fail "/dev/fb0 still there after the proxy stopped"
	# The driver drew a 3 MiB pattern and text into the VRAM (BAR0): none
	# of it was trapped; its registers (BAR2) were.
	fwd=$(grep 'pciem-proxy: forwarded:' "$OWNER_LOG")
	note "$fwd"
	echo "$fwd" | grep -q 'BAR0 0 reads 0 writes' ||
		fail "VRAM accesses were trapped and forwarded: ${fwd:-no count printed}"
	echo "$fwd" | grep -q 'BAR2 [0-9]* reads [1-9][0-9]* writes' ||
		fail "no register write was forwarded: ${fwd:-no count printed}"
fi

# The server killed (SIGKILL) while its VRAM is pinned into the bound
# driver's BAR: the proxy sees the socket close and removes the function,
# the driver lets its mappings go and the pins with them; then the proxy
# killed instead, the server left running.
for victim in server proxy; do
	start_served pciem-bochs /tmp/vfu-bochs.sock pciem-bochs || continue
	addr=$(first_addr)
	wait_for 100 -e /dev/fb0 || fail "no /dev/fb0 before the $victim is killed"
	grep -q ' ram [1-9]' /sys/kernel/debug/pciem/traps ||
		fail "no kernel mapping of the VRAM points at memory before the $victim is killed"
	if [ "$victim" = server ]; then
		kill -KILL "$SERVER_PID"
		wait_exit "$PROXY_PID" 100 || fail "the proxy still runs after its server was killed"
	else
		kill -KILL "$PROXY_PID"
	fi
	wait_gone "$addr" || fail "$addr still there after the $victim was killed"
	wait_for 50 ! -e /dev/fb0 || fail "/dev/fb0 still there after the $victim was killed"
	note "ok: the $victim killed with the VRAM pinned: $addr and /dev/fb0 are gone"
	kill "$SERVER_PID" "$PROXY_PID" 2>/dev/null
	wait "$SERVER_PID" "$PROXY_PID" 2>/dev/null
done
log_clean "bochs over vfio-user"
finish
