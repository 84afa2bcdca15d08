// SPDX-License-Identifier: MIT
//
// Sentences for failures, built from the kernel's error detail plus what
// the spec says about the BAR or capability at fault. The base wording
// comes from pciem_err_str() in pciem_cfg.h, the same table the kernel
// module uses, so offline checks and real creates read identically.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <linux/pciem.h>

#include "pciem/device_spec.hpp"

namespace pciem {

// "EINVAL", "ENOENT", ...; "errno 1234" for numbers without a name.
std::string errno_name(int errnum);

// A failed PCIEM_IOC_CREATE or pciem_cfg_build(): errnum is the positive
// errno, err the detail the kernel filled in. Example:
//   "BAR 2 (mem32, size 3000): BAR size must be a power of two of at
//    least 16 bytes (EINVAL)"
std::string describe_create_error(int errnum, const pciem_error& err, const DeviceSpec& spec);

// A failed open() of the control node, with what to do about it (load
// the module, run as root).
std::string describe_open_error(int errnum, std::string_view path);

// A failed call that carries no PCIEM_ERR_* detail. `what` names the
// operation ("PCIEM_IOC_LIST on /dev/pciem").
std::string describe_errno(int errnum, std::string_view what);

// The module behind the control node at `path` reports ABI version
// `module_version` (PCIEM_IOC_GET_INFO), which is not the one this
// libpciem was built for: a sentence naming both and what to install.
std::string describe_abi_mismatch(uint32_t module_version, std::string_view path);

} // namespace pciem
