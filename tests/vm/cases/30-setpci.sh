# Config space writes from the guest respect the write masks: read-only
# registers ignore writes, read-write bits stick, BAR sizing with all-ones
# reads back the size mask, MSI/MSI-X control bits are masked.
. /pciem/tests/vm/lib.sh

start_model /pciem/examples/all-caps.json || finish
a=$(first_addr)
note "device at $a"

setpci -s "$a" VENDOR_ID.w=0x5555
expect_eq "vendor after write" "$(setpci -s "$a" VENDOR_ID.w)" "$(cat "$(sysfs_dev "$a")/vendor" | sed 's/0x//')"

setpci -s "$a" COMMAND.w=0xffff
expect_eq "command after writing ffff" "$(setpci -s "$a" COMMAND.w)" "0546"
setpci -s "$a" COMMAND.w=0x0000
expect_eq "command after writing 0" "$(setpci -s "$a" COMMAND.w)" "0000"

setpci -s "$a" INTERRUPT_LINE.b=0x5a
expect_eq "interrupt line is RW" "$(setpci -s "$a" INTERRUPT_LINE.b)" "5a"
pin=$(setpci -s "$a" INTERRUPT_PIN.b)
setpci -s "$a" INTERRUPT_PIN.b=0x04
expect_eq "interrupt pin is RO" "$(setpci -s "$a" INTERRUPT_PIN.b)" "$pin"

# BAR sizing exactly as the PCI core does it, then restore.
bar0=$(setpci -s "$a" BASE_ADDRESS_0.l)
setpci -s "$a" BASE_ADDRESS_0.l=0xffffffff
expect_eq "BAR0 (4 KiB, 32-bit) sizing" "$(setpci -s "$a" BASE_ADDRESS_0.l)" "fffff000"
setpci -s "$a" BASE_ADDRESS_0.l="0x$bar0"
expect_eq "BAR0 restored" "$(setpci -s "$a" BASE_ADDRESS_0.l)" "$bar0"
bar2=$(setpci -s "$a" BASE_ADDRESS_2.l)
setpci -s "$a" BASE_ADDRESS_2.l=0xffffffff
expect_eq "BAR2 (64 KiB, 64-bit) sizing" "$(setpci -s "$a" BASE_ADDRESS_2.l)" "ffff0004"
setpci -s "$a" BASE_ADDRESS_2.l="0x$bar2"
expect_eq "BAR2 restored" "$(setpci -s "$a" BASE_ADDRESS_2.l)" "$bar2"

# MSI: Enable and MME are writable, the capability bits are not.
ctl=$(setpci -s "$a" CAP_MSI+2.w)
setpci -s "$a" CAP_MSI+2.w=0xffff
expect_eq "MSI control after writing ffff" "$(setpci -s "$a" CAP_MSI+2.w)" \
	"$(printf '%04x' $((0x$ctl | 0x71)))"
setpci -s "$a" CAP_MSI+2.w="0x$ctl"

# MSI-X: only Enable and Function Mask are writable.
ctl=$(setpci -s "$a" CAP_MSIX+2.w)
setpci -s "$a" CAP_MSIX+2.w=0x3fff
expect_eq "MSI-X control ignores table size writes" "$(setpci -s "$a" CAP_MSIX+2.w)" "$ctl"

# Status error bits are RW1C: writing 1 to a clear bit leaves it clear.
setpci -s "$a" STATUS.w=0xffff
expect_eq "status after writing ffff" "$(setpci -s "$a" STATUS.w)" "0010"

# AER masks are writable within the defined bits.
setpci -s "$a" ECAP_AER+8.l=0xffffffff
expect_eq "AER uncorrectable mask" "$(setpci -s "$a" ECAP_AER+8.l)" "07fff030"

stop_model
finish
