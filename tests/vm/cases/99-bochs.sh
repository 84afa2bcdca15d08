# SPDX-License-Identifier: MIT
# The stock Linux bochs DRM driver on pciem-bochs (QEMU's bochs-display,
# 1234:1111): it binds unmodified, reads the EDID (1024x768 preferred),
# fbcon and modetest's test pattern appear in the model's PNG snapshot,
# and the model going away under fbcon leaves no oops.
. /pciem/tests/vm/lib.sh

log_mark
start_owner pciem-bochs pciem-bochs --ready-file @READY@ --snapshot "$snap" || finish
addr=$(first_addr)
modprobe bochs 2>/dev/null # loaded at boot by the guest runner; binds now
wait_for 100 -e /dev/fb0 || fail "no /dev/fb0 after 10 s"
expect_eq "driver of $addr" "$(driver_of "$addr")" bochs-drm
log_since | grep -q 'Found EDID data blob' || fail "the driver did not read the EDID"
modetest -M bochs-drm -c >/tmp/conn.log 2>&1
grep -q '1024x768' /tmp/conn.log || { cat /tmp/conn.log; fail "no 1024x768 mode from the EDID"; }

fbcon_abab "bochs"
modetest_smpte bochs-drm "stock bochs driver"

stop_model
wait_gone "$addr" || fail "$addr still present after the model exited"
wait_for 50 ! -e /dev/fb0 || fail "/dev/fb0 still present"
log_clean "bochs"
finish
