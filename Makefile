# SPDX-License-Identifier: MIT
# PCIem top-level build.
#
#   make            pciem.ko (+ project drivers) for Debian's 6.1 kernel, and
#                   the userspace (libpciem, pciemctl, guest test programs)
#   make check      every test: unit tests, then the guest suites (scripts/check)
#   make demo       boot the guest and show a driver using a PCIem device
#   make deps       install the Debian packages the project needs
#   make deb        Debian packages in build/deb (scripts/build-deb, docs/install.md)
#
# KERNEL=6.12 builds the module for Debian's 6.12 kernel instead. KVER and
# KDIR, if set, override the kernel version and headers directory that
# scripts/kver and scripts/kdir derive from Debian's metapackages.

KERNEL ?= 6.1
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)

all: module userspace

module:
	scripts/build-kmod $(KERNEL)

userspace:
	cmake -S . -B build -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)
	cmake --build build -j$(JOBS)

debug:
	cmake -S . -B build/debug -DCMAKE_BUILD_TYPE=Debug
	cmake --build build/debug -j$(JOBS)

check:
	scripts/check

demo:
	scripts/demo

deps:
	scripts/install-deps

deb:
	scripts/build-deb

clean:
	rm -rf build/bin build/CMakeFiles build/CMakeCache.txt build/debug build/kmod
	rm -rf build/lib build/tools build/tests build/vm-logs

.PHONY: all module userspace debug check demo deps deb clean
