# The ABI contract through raw ioctls: every malformed request gets its
# precise errno and error code, 33 functions fit, multi-function devices,
# owner death, non-root callers (tests/guest/abi_test.cpp).
exec pciem_guest_abi_test --gtest_color=no
