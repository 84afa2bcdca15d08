# SPDX-License-Identifier: MIT
# The packaged udev rule (72-pciem.rules) under a real udevd: a broader
# rule read after it (90-, so only ':=' can hold against it) that opens
# misc devices to everyone does not reach /dev/pciem, and without the
# packaged rule it would (so the rule is what keeps it).
. /pciem/tests/vm/lib.sh

command -v udevadm >/dev/null || { fail "udevadm is not in the guest (the host has no udev package)"; finish; }
RULE=/usr/lib/udev/rules.d/72-pciem.rules
[ -f $RULE ] || { fail "$RULE is missing"; finish; }
mkdir -p /etc/udev/rules.d /run/udev
cat >/etc/udev/rules.d/90-everyone.rules <<'RULES'
SUBSYSTEM=="misc", MODE="0666", GROUP="100"
RULES
ln -sf "$(command -v udevadm)" /tmp/systemd-udevd
/tmp/systemd-udevd --daemon || { fail "udevd did not start"; finish; }

# trigger: replay the node's add event and wait until udev handled it
trigger() {
	udevadm control --reload
	udevadm trigger --action=add --sysname-match=pciem
	udevadm settle --timeout=20
	stat -c '%a %u %g' /dev/pciem
}
expect_eq "/dev/pciem with the packaged rule" "$(trigger)" "600 0 0"
udevadm test --action=add /sys/class/misc/pciem 2>&1 | grep -E '72-pciem.rules' | head -n 4 | sed 's/^/    /'

mv $RULE /tmp/72-pciem.rules
expect_eq "/dev/pciem without it (the broad rule applies)" "$(trigger)" "666 0 100"
mv /tmp/72-pciem.rules $RULE
expect_eq "/dev/pciem with it again" "$(trigger)" "600 0 0"

udevd_pid=$(grep -lx systemd-udevd /proc/[0-9]*/comm 2>/dev/null | cut -d/ -f3)
udevadm control --exit
# the suite fails a case that leaves a process running: see udevd go
for p in $udevd_pid; do wait_exit "$p" 50 || fail "udevd (pid $p) did not exit"; done
rm -f /etc/udev/rules.d/90-everyone.rules
chmod 0600 /dev/pciem
chgrp 0 /dev/pciem
finish
