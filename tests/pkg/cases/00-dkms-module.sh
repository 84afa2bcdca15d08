# SPDX-License-Identifier: MIT
# The pciem.ko this guest loaded at boot is the one DKMS built from the
# packaged source for this very kernel (same bytes, DKMS's signature
# appended), and the drivers DKMS built with it load too.
. /pciem/tests/vm/lib.sh

note "running $(uname -r); DKMS built for $PKG_KVER"
expect_eq "running kernel" "$(uname -r)" "$PKG_KVER"
grep -q '^pciem ' /proc/modules || fail "pciem is not loaded"
extra=/lib/modules/$(uname -r)/extra

# same_module NAME WANT_SHA256: the file insmod/modprobe load is DKMS's
same_module() {
	f=$extra/$1.ko
	expect_eq "$1.ko sha256" "$(sha256sum "$f" | cut -d' ' -f1)" "$2"
	# struct module_signature ends the file, then this marker (28 bytes)
	[ "$(tail -c 28 "$f" | tr -d '\n')" = "~Module signature appended~" ] ||
		fail "$1.ko carries no signature"
}
same_module pciem "$PKG_SHA256"
same_module pciem_mmio_test "$PKG_SHA256_MMIO"
same_module pciem_rtl_dma "$PKG_SHA256_RTL"
same_module pciem_fb "$PKG_SHA256_FB"

# pciem_fb pulls in DRM's helpers from the running kernel's own modules.
for m in pciem_mmio_test pciem_rtl_dma pciem_fb; do
	modprobe "$m" || fail "modprobe $m failed"
	grep -q "^$m " /proc/modules || fail "$m is not loaded"
	rmmod "$m" || fail "rmmod $m failed"
done
finish
