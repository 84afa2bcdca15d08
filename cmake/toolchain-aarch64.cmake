# SPDX-License-Identifier: MIT
# Cross-build PCIem's userspace for arm64 with Debian's cross compilers
# (g++-aarch64-linux-gnu) against arm64 libraries installed multiarch
# (dpkg --add-architecture arm64; libfmt-dev:arm64 and the others that
# scripts/install-deps --arch arm64 lists):
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64.cmake
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

# Libraries and headers from the target's multiarch directories; programs
# (pkg-config, verilator) from the host.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")

# The test binaries cannot run on the build host: list their tests when
# ctest runs (on an arm64 machine), not after linking them.
set(CMAKE_GTEST_DISCOVER_TESTS_DISCOVERY_MODE PRE_TEST)
