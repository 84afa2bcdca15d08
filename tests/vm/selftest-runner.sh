#!/bin/sh
# Guest-side sanity check of the pciem-vm environment (busybox sh, runs inside the guest).
# Host: tools/pciem-vm [--kernel 6.12] -- /pciem/tests/vm/selftest-runner.sh
# Prints one line per check; exits 0 iff every check passed.

case "${1:-}" in
-h | --help)
	echo "Usage: tools/pciem-vm -- /pciem/tests/vm/selftest-runner.sh"
	echo "Checks, inside a pciem-vm guest: lspci runs, /dev is populated, /proc and /sys"
	echo "are mounted, pciem.ko is loaded. Exits 0 iff all pass."
	exit 0
	;;
esac

fails=0
check() { # NAME COMMAND...
	name=$1
	shift
	if out=$("$@" 2>&1); then
		echo "ok   - $name"
	else
		echo "FAIL - $name"
		[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/       /'
		fails=$((fails + 1))
	fi
}

in_vm() { [ "${PCIEM_VM:-}" = 1 ]; }
proc_mounted() { [ -r /proc/modules ] && [ -r /proc/self/status ]; }
sys_mounted() { [ -d /sys/bus/pci/devices ]; }
dev_populated() { [ -c /dev/null ] && [ -c /dev/ttyS1 ] && [ "$(find /dev -mindepth 1 -maxdepth 1 | wc -l)" -gt 10 ]; }
lspci_runs() { lspci >/dev/null && [ -n "$(lspci)" ]; }
setpci_runs() { setpci -s 00:00.0 VENDOR_ID.w >/dev/null; }
pciem_loaded() { grep -q '^pciem ' /proc/modules; }
debugfs_mounted() { grep -q ' /sys/kernel/debug debugfs ' /proc/mounts; }
tmp_writable() { echo x >/tmp/.selftest && rm /tmp/.selftest; }

echo "# kernel $(uname -r), $(grep -c ^processor /proc/cpuinfo) CPUs"
check "running under pciem-vm (PCIEM_VM=1)" in_vm
check "/proc mounted" proc_mounted
check "/sys mounted" sys_mounted
check "/dev populated (devtmpfs)" dev_populated
check "debugfs mounted" debugfs_mounted
check "/tmp writable" tmp_writable
check "lspci runs and lists devices" lspci_runs
check "setpci reads config space" setpci_runs
check "pciem module loaded" pciem_loaded

if [ "$fails" -ne 0 ]; then
	echo "# $fails check(s) failed"
	exit 1
fi
echo "# all checks passed"
