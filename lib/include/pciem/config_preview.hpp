// SPDX-License-Identifier: MIT
//
// Offline preview: run the kernel's own config-space builder
// (pciem_cfg_build() from kernel/cfgspace) on a spec, without the kernel.
// A spec that passes here passes PCIEM_IOC_CREATE's validation too, apart
// from what depends on the live bus (free slots, window space left).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <pciem_cfg.h>

#include "pciem/device_spec.hpp"
#include "pciem/error.hpp"

namespace pciem {

// Stand-ins for the host-dependent limits the kernel takes from its BAR
// windows. 64 GiB and 256 MiB are generous but catch nonsense sizes.
struct ConfigLimits {
    uint64_t max_bar64 = uint64_t{1} << 36;
    uint64_t max_bar32 = uint64_t{1} << 28;
};

// The built config space (12+ KiB, hence on the heap), or the same
// sentence a failed create would give.
Result<std::unique_ptr<pciem_cfg>> preview_config(const DeviceSpec& spec,
                                                  const ConfigLimits& limits = {});

// lspci -xxxx style: lines of "OFF: b0 b1 ... b15", cfg.size bytes
// (256 for conventional functions, 4096 with a PCIe capability).
std::string hex_dump(const pciem_cfg& cfg);

} // namespace pciem
