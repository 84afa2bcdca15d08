// SPDX-License-Identifier: MIT
#include "pciem/vfio_user/server_wire.hpp"

#include <cstring>

#include <fmt/format.h>

namespace pciem::vfio_user {

namespace {

template <class T>
void put(Bytes& out, const T& v) {
    const auto* p = reinterpret_cast<const std::byte*>(&v);
    out.insert(out.end(), p, p + sizeof(T));
}

template <class T>
T load(std::span<const std::byte> bytes, size_t at = 0) {
    T v;
    std::memcpy(&v, bytes.data() + at, sizeof(T));
    return v;
}

// A request from the server: the header (size last), then the payload.
Bytes request(uint16_t id, Command command, const Bytes& payload) {
    // Sized once and copied into: GCC 12 warns (falsely) about insert()
    // after a header-sized vector.
    Bytes out(header_size + payload.size());
    if (!payload.empty()) {
        std::memcpy(out.data() + header_size, payload.data(), payload.size());
    }
    Header h;
    h.id = id;
    h.command = static_cast<uint16_t>(command);
    h.size = static_cast<uint32_t>(out.size());
    h.flags = type_command;
    encode_header(h, std::span<std::byte, header_size>(out.data(), header_size));
    return out;
}

} // namespace

Bytes encode_version_reply(const Header& request_header, const Version& v) {
    const std::string json = capabilities_json(v.caps);
    Bytes p;
    put(p, v.major);
    put(p, v.minor);
    const auto text = std::as_bytes(std::span(json.c_str(), json.size() + 1)); // NUL included
    p.insert(p.end(), text.begin(), text.end());
    return encode_reply(request_header, p);
}

Bytes encode_region_info_reply(const Header& request_header, uint32_t client_argsz,
                               const vfio_region_info& info, std::span<const MmapArea> areas) {
    vfio_region_info out = info;
    out.cap_offset = 0;
    const size_t cap_size = areas.empty() ? 0
                                          : sizeof(vfio_region_info_cap_sparse_mmap) +
                                                areas.size() * sizeof(vfio_region_sparse_mmap_area);
    out.argsz = static_cast<uint32_t>(sizeof(vfio_region_info) + cap_size);
    if (!areas.empty()) {
        out.flags |= VFIO_REGION_INFO_FLAG_MMAP;
    }
    const bool room = cap_size != 0 && client_argsz >= out.argsz;
    if (room) {
        out.flags |= VFIO_REGION_INFO_FLAG_CAPS;
        out.cap_offset = sizeof(vfio_region_info);
    }
    Bytes p;
    put(p, out);
    if (room) {
        vfio_region_info_cap_sparse_mmap cap{};
        cap.header.id = VFIO_REGION_INFO_CAP_SPARSE_MMAP;
        cap.header.version = 1;
        cap.header.next = 0;
        cap.nr_areas = static_cast<uint32_t>(areas.size());
        put(p, cap);
        for (const MmapArea& a : areas) {
            vfio_region_sparse_mmap_area area{};
            area.offset = a.offset;
            area.size = a.size;
            put(p, area);
        }
    }
    return encode_reply(request_header, p);
}

Bytes encode_irq_info_reply(const Header& request_header, uint32_t index, uint32_t flags,
                            uint32_t count) {
    vfio_irq_info out{};
    out.argsz = sizeof(vfio_irq_info);
    out.flags = flags;
    out.index = index;
    out.count = count;
    Bytes p;
    put(p, out);
    return encode_reply(request_header, p);
}

Bytes encode_device_info_reply(const Header& request_header, uint32_t flags, uint32_t num_regions,
                               uint32_t num_irqs) {
    Bytes p;
    put(p, DeviceInfo{sizeof(DeviceInfo), flags, num_regions, num_irqs});
    return encode_reply(request_header, p);
}

Bytes encode_region_read_reply(const Header& request_header, const RegionAccess& a,
                               std::span<const std::byte> data) {
    Bytes p;
    put(p, a);
    p.insert(p.end(), data.begin(), data.end());
    return encode_reply(request_header, p);
}

Bytes encode_region_write_reply(const Header& request_header, const RegionAccess& a) {
    Bytes p;
    put(p, a);
    return encode_reply(request_header, p);
}

Bytes encode_dma_read(uint16_t id, uint64_t address, uint64_t count) {
    Bytes p;
    put(p, DmaAccess{address, count});
    return request(id, Command::dma_read, p);
}

Bytes encode_dma_write(uint16_t id, uint64_t address, std::span<const std::byte> data) {
    Bytes p;
    put(p, DmaAccess{address, data.size()});
    p.insert(p.end(), data.begin(), data.end());
    return request(id, Command::dma_write, p);
}

Decoded<DmaUnmap> decode_dma_unmap(std::span<const std::byte> payload) {
    if (payload.size() < sizeof(DmaUnmap)) {
        return Decoded<DmaUnmap>::failure(
            fmt::format("its payload of {} bytes is shorter than the {} DMA_UNMAP needs",
                        payload.size(), sizeof(DmaUnmap)));
    }
    return load<DmaUnmap>(payload);
}

Decoded<std::span<const std::byte>> decode_dma_access_reply(std::span<const std::byte> payload,
                                                            Command command, uint64_t address,
                                                            uint64_t count) {
    using R = std::span<const std::byte>;
    const bool read = command == Command::dma_read;
    // DMA_WRITE's reply: 8 + 4 bytes in the spec's table, 16 in practice.
    const size_t head = read ? sizeof(DmaAccess) : 12;
    if (payload.size() < head) {
        return Decoded<R>::failure(fmt::format("its payload of {} bytes is shorter than the {} a "
                                               "{} reply needs",
                                               payload.size(), head,
                                               command_name(static_cast<uint16_t>(command))));
    }
    const auto got_address = load<uint64_t>(payload, 0);
    const uint64_t got_count = read || payload.size() >= sizeof(DmaAccess)
                                   ? load<uint64_t>(payload, 8)
                                   : load<uint32_t>(payload, 8);
    if (got_address != address || got_count != count) {
        return Decoded<R>::failure(fmt::format("it answers {:#x}+{} where {:#x}+{} was asked for",
                                               got_address, got_count, address, count));
    }
    if (!read) {
        return R{};
    }
    const size_t data = payload.size() - sizeof(DmaAccess);
    if (data != count) {
        return Decoded<R>::failure(
            fmt::format("it carries {} data bytes where {} belong", data, count));
    }
    return payload.subspan(sizeof(DmaAccess));
}

} // namespace pciem::vfio_user
