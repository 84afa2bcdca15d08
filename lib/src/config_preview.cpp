// SPDX-License-Identifier: MIT
#include "pciem/config_preview.hpp"

#include <fmt/format.h>

#include "pciem/error_text.hpp"

namespace pciem {

Result<std::unique_ptr<pciem_cfg>> preview_config(const DeviceSpec& spec,
                                                  const ConfigLimits& limits) {
    auto req = spec.build();
    if (!req) {
        return std::unexpected(req.error());
    }
    const auto caps = req->cfg_caps();
    const pciem_cfg_limits lim{limits.max_bar64, limits.max_bar32};
    auto cfg = std::make_unique<pciem_cfg>();
    pciem_error err{};
    const int ret = pciem_cfg_build(cfg.get(), &req->create(), caps.data(),
                                    static_cast<unsigned>(caps.size()), &lim, &err);
    if (ret < 0) {
        return fail(-ret, describe_create_error(-ret, err, spec));
    }
    return cfg;
}

std::string hex_dump(const pciem_cfg& cfg) {
    std::string out;
    const unsigned size = cfg.size <= PCIEM_CFG_SPACE_SIZE ? cfg.size : PCIEM_CFG_SPACE_SIZE;
    for (unsigned line = 0; line < size; line += 16) {
        // lspci prints "%02x:", which becomes three digits past 0xff.
        out += fmt::format("{:02x}:", line);
        for (unsigned i = 0; i < 16; ++i) {
            out += fmt::format(" {:02x}", cfg.val[line + i]);
        }
        out += '\n';
    }
    return out;
}

} // namespace pciem
