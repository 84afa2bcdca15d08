// SPDX-License-Identifier: MIT
//
// One handler per vfio-user command. A handler returns the reply (and the
// descriptors that travel with it) or the errno and sentence of an error
// reply; only a failure to send ends the connection. Requests are checked
// by the decoders of the shared message layer (wire.hpp), then here
// against the device.
#include <cerrno>

#include <fmt/format.h>

#include "server.hpp"

namespace pciem {

namespace {

using namespace vfio_user;

struct Reply {
    Bytes message;
    std::vector<int> fds;
};
using Handled = Result<Reply>;

Handled refuse(int err, std::string why) {
    return std::unexpected(Error{err, std::move(why)});
}

constexpr uint32_t num_regions = VFIO_PCI_NUM_REGIONS;
constexpr uint32_t num_irqs = VFIO_PCI_NUM_IRQS;

// Commands that carry descriptors: DMA_MAP (one) and SET_IRQS (eventfds).
bool takes_fds(uint16_t command) {
    return command == static_cast<uint16_t>(Command::dma_map) ||
           command == static_cast<uint16_t>(Command::set_irqs);
}

} // namespace

void VfioUserHost::Impl::reply_error(const Header& h, const Error& e) {
    {
        const std::lock_guard s(stats_mutex);
        ++stats.error_replies;
    }
    (void)e; // the sentence stays here; the client gets the errno
    if ((h.flags & flag_no_reply) == 0) {
        send(encode_error_reply(h, static_cast<uint32_t>(e.errnum)));
    }
}

namespace {

Handled on_version(VfioUserHost::Impl& s, const Message& m) {
    if (s.negotiated) {
        return refuse(EINVAL, "VERSION again: the version is negotiated once per connection");
    }
    auto v = decode_version(m.payload);
    if (!v) {
        return refuse(EINVAL, "VERSION: " + v.error());
    }
    if (v->major != version_major) {
        return refuse(ENOTSUP, fmt::format("VERSION {}.{}: this server speaks {}.0 to {}.{}",
                                           v->major, v->minor, version_major, version_major,
                                           version_minor_max));
    }
    s.client_caps = v->caps;
    s.negotiated = true;
    Version ours;
    ours.minor = std::min(v->minor, version_minor_max);
    ours.caps.max_msg_fds = 8; // what servers in the wild promise
    ours.caps.max_data_xfer_size = default_max_data_xfer;
    return Reply{encode_version_reply(m.header, ours), {}};
}

Handled on_device_info(VfioUserHost::Impl&, const Message& m) {
    auto in = decode_device_info(m.payload);
    if (!in) {
        return refuse(EINVAL, "DEVICE_GET_INFO: " + in.error());
    }
    return Reply{encode_device_info_reply(m.header, VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET,
                                          num_regions, num_irqs),
                 {}};
}

Handled on_region_info(VfioUserHost::Impl& s, const Message& m) {
    auto index = decode_info_request(m.payload, Command::get_region_info);
    if (!index) {
        return refuse(EINVAL, index.error());
    }
    const auto argsz = *reinterpret_cast<const uint32_t*>(m.payload.data()); // NOLINT
    if (argsz < sizeof(vfio_region_info)) {
        return refuse(EINVAL, fmt::format("DEVICE_GET_REGION_INFO with argsz {}, below the {} of "
                                          "the structure",
                                          argsz, sizeof(vfio_region_info)));
    }
    if (*index >= num_regions) {
        return refuse(EINVAL, fmt::format("DEVICE_GET_REGION_INFO for region {}: the device has "
                                          "{}",
                                          *index, num_regions));
    }
    vfio_region_info info{};
    info.index = *index;
    std::vector<MmapArea> areas;
    std::vector<int> fds;
    if (*index == VFIO_PCI_CONFIG_REGION_INDEX) {
        info.size = s.cfg->size;
    } else if (*index < PCIEM_MAX_BARS) {
        info.size = s.cfg->bar_size[*index];
    } else if (*index == VFIO_PCI_ROM_REGION_INDEX) {
        info.size = s.cfg->rom_size;
    }
    if (info.size != 0) {
        info.flags = VFIO_REGION_INFO_FLAG_READ;
        if (*index != VFIO_PCI_ROM_REGION_INDEX) {
            info.flags |= VFIO_REGION_INFO_FLAG_WRITE;
        }
    }
    if (*index < PCIEM_MAX_BARS && s.ram_fd.at(*index).valid()) {
        areas.push_back({0, info.size}); // the whole RAM BAR, at offset 0 of its memfd
        fds.push_back(s.ram_fd[*index].get());
    }
    return Reply{encode_region_info_reply(m.header, argsz, info, areas), std::move(fds)};
}

Handled on_irq_info(VfioUserHost::Impl& s, const Message& m) {
    auto index = decode_info_request(m.payload, Command::get_irq_info);
    if (!index) {
        return refuse(EINVAL, index.error());
    }
    if (*index >= num_irqs) {
        return refuse(EINVAL, fmt::format("DEVICE_GET_IRQ_INFO for index {}: the device has {}",
                                          *index, num_irqs));
    }
    const uint32_t count = *index < vfu::irq_indexes ? s.irqs.count(*index) : 0;
    return Reply{encode_irq_info_reply(m.header, *index,
                                       count != 0 ? vfu::ServerIrqs::info_flags(*index) : 0, count),
                 {}};
}

Handled on_set_irqs(VfioUserHost::Impl& s, Message& m) {
    auto set = decode_set_irqs(m.payload, m.fds.size());
    if (!set) {
        return refuse(EINVAL, "DEVICE_SET_IRQS: " + set.error());
    }
    if (auto ok = s.irqs.set_irqs(*set, std::span(m.payload).subspan(sizeof(IrqSet)), m.fds); !ok) {
        return std::unexpected(ok.error());
    }
    s.config_changed(); // wiring MSI/MSI-X triggers enables them
    return Reply{encode_reply(m.header, {}), {}};
}

Handled on_region_access(VfioUserHost::Impl& s, const Message& m, Command command) {
    auto req = decode_region_access_request(m.payload, command);
    if (!req) {
        return refuse(EINVAL, command_name(m.header.command) + ": " + req.error());
    }
    const RegionAccess& a = req->access;
    const bool config = a.region == VFIO_PCI_CONFIG_REGION_INDEX;
    const bool rom = a.region == VFIO_PCI_ROM_REGION_INDEX;
    if (!config && !rom && a.region >= PCIEM_MAX_BARS) {
        return refuse(EINVAL, fmt::format("{} of region {}, which has no bytes",
                                          command_name(m.header.command), a.region));
    }
    if (rom && command == Command::region_write) {
        return refuse(EINVAL, "REGION_WRITE of the expansion ROM, which is read-only");
    }
    {
        const std::lock_guard st(s.stats_mutex);
        ++(command == Command::region_read ? s.stats.region_reads : s.stats.region_writes);
    }
    if (command == Command::region_write) {
        auto ok = config ? s.config_write(a.offset, req->data)
                         : s.bar_write(a.region, a.offset, req->data);
        if (!ok) {
            return std::unexpected(ok.error());
        }
        return Reply{encode_region_write_reply(m.header, a), {}};
    }
    std::vector<std::byte> data(a.count);
    auto ok = config ? s.config_read(a.offset, data) : s.bar_read(a.region, a.offset, data);
    if (!ok) {
        return std::unexpected(ok.error());
    }
    return Reply{encode_region_read_reply(m.header, a, data), {}};
}

Handled on_dma_map(VfioUserHost::Impl& s, Message& m) {
    auto map = decode_dma_map(m.payload, m.fds.size());
    if (!map) {
        return refuse(EINVAL, "DMA_MAP: " + map.error());
    }
    UniqueFd fd = m.fds.empty() ? UniqueFd{} : std::move(m.fds.front());
    if (auto ok = s.dma.map(*map, std::move(fd)); !ok) {
        return std::unexpected(ok.error());
    }
    return Reply{encode_reply(m.header, {}), {}};
}

Handled on_dma_unmap(VfioUserHost::Impl& s, const Message& m) {
    auto unmap = decode_dma_unmap(m.payload);
    if (!unmap) {
        return refuse(EINVAL, "DMA_UNMAP: " + unmap.error());
    }
    if (unmap->flags != 0) {
        return refuse(ENOTSUP, fmt::format("DMA_UNMAP with flags {:#x}: dirty bitmaps and "
                                           "unmap-all are not supported",
                                           unmap->flags));
    }
    if (auto ok = s.dma.unmap(unmap->addr, unmap->size); !ok) {
        return std::unexpected(ok.error());
    }
    // The reply echoes the region unmapped.
    return Reply{encode_reply(m.header, std::span(m.payload).first(sizeof(DmaUnmap))), {}};
}

} // namespace

Result<void> VfioUserHost::Impl::handle(Message& m) {
    const Header& h = m.header;
    if ((h.flags & flag_type_mask) != type_command) {
        return fail(EPROTO, fmt::format("the client sent a reply (id {}, {}) to no request of the "
                                        "server",
                                        h.id, command_name(h.command)));
    }
    {
        const std::lock_guard st(stats_mutex);
        ++stats.messages;
    }
    const auto command = static_cast<Command>(h.command);
    Handled r;
    if (!negotiated && command != Command::version) {
        r = refuse(EINVAL, fmt::format("{} before VERSION", command_name(h.command)));
    } else if (!m.fds.empty() && !takes_fds(h.command)) {
        r = refuse(EINVAL, fmt::format("{} came with {} file descriptors; it takes none",
                                       command_name(h.command), m.fds.size()));
    } else {
        switch (command) {
        case Command::version:
            r = on_version(*this, m);
            break;
        case Command::device_get_info:
            r = on_device_info(*this, m);
            break;
        case Command::get_region_info:
            r = on_region_info(*this, m);
            break;
        case Command::get_irq_info:
            r = on_irq_info(*this, m);
            break;
        case Command::set_irqs:
            r = on_set_irqs(*this, m);
            break;
        case Command::region_read:
        case Command::region_write:
            r = on_region_access(*this, m, command);
            break;
        case Command::dma_map:
            r = on_dma_map(*this, m);
            break;
        case Command::dma_unmap:
            r = on_dma_unmap(*this, m);
            break;
        case Command::device_reset:
            reset_function(false);
            r = Reply{encode_reply(h, {}), {}};
            break;
        case Command::get_region_io_fds:
            r = refuse(ENOTSUP, "DEVICE_GET_REGION_IO_FDS: no region offers I/O fds");
            break;
        case Command::dma_read:
        case Command::dma_write:
            r = refuse(EINVAL, fmt::format("{} goes from server to client, not the other way",
                                           command_name(h.command)));
            break;
        default:
            r = refuse(ENOSYS, fmt::format("{} is not a command this server knows",
                                           command_name(h.command)));
            break;
        }
    }
    if (!r) {
        reply_error(h, r.error());
    } else if ((h.flags & flag_no_reply) == 0) {
        send(r->message, r->fds);
    }
    return {};
}

} // namespace pciem
