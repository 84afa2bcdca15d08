# SPDX-License-Identifier: MIT
# An unprivileged user cannot use PCIem, whatever the node's mode: open()
# fails with EACCES on the 0600 node and with EPERM (the module's own
# CAP_SYS_ADMIN check) on a node made world-writable; the packaged
# pciemctl says so in words; nothing is created either way.
. /pciem/tests/vm/lib.sh

PCIEMCTL=/usr/bin/pciemctl
SPEC=/pciem/examples/minimal.json
# as_nobody CMD: CMD (one shell command) as uid/gid 65534, no groups
grep -q '^nobody:' /etc/passwd 2>/dev/null || echo 'nobody:x:65534:65534:nobody:/:/bin/sh' >>/etc/passwd
grep -q '^nogroup:' /etc/group 2>/dev/null || echo 'nogroup:x:65534:' >>/etc/group
as_nobody() {
	su -s /bin/sh nobody -c "$1"
}
# what exists: PCIem's functions as the packaged tool lists them, and every
# PCI device sysfs knows
state() {
	$PCIEMCTL list 2>&1
	ls /sys/bus/pci/devices
}

expect_eq "/dev/pciem mode" "$(stat -c '%a %u %g' /dev/pciem)" "600 0 0"
expect_eq "uid as nobody" "$(as_nobody 'id -u')" 65534
before=$(state)

err=$(as_nobody 'exec 3<>/dev/pciem' 2>&1) && fail "uid 65534 opened /dev/pciem"
echo "$err" | grep -q 'Permission denied' || fail "open as uid 65534: '$err', want EACCES (Permission denied)"
note "open as uid 65534: $err"

out=$(as_nobody "$PCIEMCTL run $SPEC" 2>&1)
rc=$?
expect_eq "pciemctl run as uid 65534: exit status" "$rc" 1
echo "$out" | grep -q 'permission denied: only root may use PCIem' ||
	fail "pciemctl run as uid 65534 said '$out'"
note "pciemctl: $out"

# The mode is not the only guard: a node anyone may open still refuses.
chmod 0666 /dev/pciem
err=$(as_nobody 'exec 3<>/dev/pciem' 2>&1) && fail "uid 65534 opened a 0666 /dev/pciem"
echo "$err" | grep -q 'Operation not permitted' ||
	fail "open of a 0666 node as uid 65534: '$err', want EPERM (Operation not permitted)"
note "open of a 0666 node as uid 65534: $err"
out=$(as_nobody "$PCIEMCTL run $SPEC" 2>&1) && fail "pciemctl run as uid 65534 succeeded on a 0666 node"
echo "$out" | grep -q 'only root may use PCIem' || fail "pciemctl run on a 0666 node said '$out'"
chmod 0600 /dev/pciem

expect_eq "functions and PCI devices after the refusals" "$(state)" "$before"
finish
