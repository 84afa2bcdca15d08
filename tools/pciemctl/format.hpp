// SPDX-License-Identifier: MIT
//
// Small text helpers shared by the subcommands.
#pragma once

#include <cstdint>
#include <string>

#include <linux/pciem.h>

#include "pciem/device_spec.hpp"

namespace pciemctl {

// 16384 -> "16K", 1048576 -> "1M", 3000 -> "3000": sizes as spec files
// write them.
std::string format_size(uint64_t bytes);

// One line per used BAR, the type taken from the spec it was made from:
//   "  BAR0: 0x4000000000-0x4000003fff [16K, mem64 prefetchable]"
std::string format_bars(const pciem_dev_info& info, const pciem::DeviceSpec& spec);

} // namespace pciemctl
