// SPDX-License-Identifier: MIT
#include "probe.hpp"

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace pciem::proxy {

Result<ServerDevice> probe_server(Client& client) {
    ServerDevice dev;
    auto info = client.device_info();
    if (!info) {
        return std::unexpected(info.error());
    }
    dev.info = *info;
    if ((info->flags & VFIO_DEVICE_FLAGS_PCI) == 0) {
        return fail(EPROTO, fmt::format("the server's device is not a PCI device (flags {:#x})",
                                        info->flags));
    }
    if (info->num_regions <= VFIO_PCI_CONFIG_REGION_INDEX) {
        return fail(EPROTO, fmt::format("the server offers {} regions, too few for a PCI device "
                                        "(config space is region {})",
                                        info->num_regions, VFIO_PCI_CONFIG_REGION_INDEX));
    }
    for (uint32_t i = 0; i <= VFIO_PCI_CONFIG_REGION_INDEX; ++i) {
        auto r = client.region_info(i, &dev.region_fds[i]);
        if (!r) {
            return std::unexpected(r.error());
        }
        dev.regions[i] = *r;
    }
    for (uint32_t i = 0; i < dev.irq_counts.size() && i < info->num_irqs; ++i) {
        auto q = client.irq_info(i);
        if (!q) {
            return std::unexpected(q.error());
        }
        dev.irq_counts[i] = q->count;
    }
    const uint64_t cfg_size = dev.regions[VFIO_PCI_CONFIG_REGION_INDEX].size;
    if (cfg_size < 64 || cfg_size > 4096) {
        return fail(EPROTO, fmt::format("the server's config space region has {} bytes; a PCI "
                                        "function has 256 or 4096",
                                        cfg_size));
    }
    auto cfg = client.region_read(VFIO_PCI_CONFIG_REGION_INDEX, 0, static_cast<uint32_t>(cfg_size));
    if (!cfg) {
        return std::unexpected(cfg.error());
    }
    dev.config.resize(cfg->size());
    std::memcpy(dev.config.data(), cfg->data(), cfg->size());
    return dev;
}

} // namespace pciem::proxy
