// SPDX-License-Identifier: MIT
//
// The EDID of the monitor the bochs display reports (VESA E-EDID 1.4, one
// 128-byte block): its preferred mode as the first detailed timing, a few
// established and standard modes, a name and range limits.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace pciem::bochs {

struct EdidTiming {
    uint32_t pixel_khz;
    uint16_t hactive, hfront, hsync, hback;
    uint16_t vactive, vfront, vsync, vback;
};

// DMT 1024x768 at 60 Hz (VESA Display Monitor Timing 0x10).
inline constexpr EdidTiming dmt_1024x768_60{65000, 1024, 24, 136, 160, 768, 3, 6, 29};

std::array<uint8_t, 128> make_edid(const EdidTiming& preferred, const std::string& name);

} // namespace pciem::bochs
