# The ABI contract through raw ioctls: every malformed request gets its
# precise errno and error code, 33 functions fit, multi-function devices,
# owner death, non-root callers; device-side DMA (PCIEM_IOC_DMA) and the
# DMA window (PCIEM_IOC_DMA_WINDOW) refused precisely when malformed,
# hostile or too big, and the window shared by mmap (tests/guest/abi_test.cpp).
# BAR backing (PCIEM_IOC_BAR_BACKING) refused when malformed, after START,
# for pages backed already or memory that cannot be pinned; a driver
# (pciem_mmio_test) reading and writing backed pages untrapped, a page
# left out of the same 2 MiB leaf still trapped
# (tests/guest/bar_backing_test.cpp).
# Fault injection and recording requests, and the faults that need no
# model: link down and up, CRS, surprise removal and reinsertion
# (tests/guest/inject_test.cpp).
pciem_guest_abi_test --gtest_color=no || exit 1
modprobe pciem_mmio_test || exit 1
pciem_guest_bar_backing_test --gtest_color=no || exit 1
rmmod pciem_mmio_test || exit 1
exec pciem_guest_inject_test --gtest_color=no
