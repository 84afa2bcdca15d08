# The ABI contract through raw ioctls: every malformed request gets its
# precise errno and error code, 33 functions fit, multi-function devices,
# owner death, non-root callers; device-side DMA (PCIEM_IOC_DMA) and the
# DMA window (PCIEM_IOC_DMA_WINDOW) refused precisely when malformed,
# hostile or too big, and the window shared by mmap (tests/guest/abi_test.cpp).
exec pciem_guest_abi_test --gtest_color=no
