// SPDX-License-Identifier: MIT
#include "format.hpp"

#include <fmt/format.h>

namespace pciemctl {

std::string format_size(uint64_t bytes) {
    static constexpr const char* units[] = {"", "K", "M", "G", "T"};
    unsigned unit = 0;
    while (bytes != 0 && bytes % 1024 == 0 && unit < 4) {
        bytes /= 1024;
        ++unit;
    }
    return fmt::format("{}{}", bytes, units[unit]);
}

std::string format_bars(const pciem_dev_info& info, const pciem::DeviceSpec& spec) {
    std::string out;
    for (unsigned i = 0; i < PCIEM_MAX_BARS; ++i) {
        if (info.bar_size[i] == 0) {
            continue;
        }
        const uint64_t end = info.bar_start[i] + info.bar_size[i] - 1;
        std::string type;
        if (const auto bar = spec.bar_at(i)) {
            type = bar->is_64bit() ? ", mem64" : ", mem32";
            type += bar->is_prefetchable() ? " prefetchable" : "";
        }
        out += fmt::format("  BAR{}: {:#x}-{:#x} [{}{}]\n", i, info.bar_start[i], end,
                           format_size(info.bar_size[i]), type);
    }
    return out;
}

} // namespace pciemctl
