// SPDX-License-Identifier: MIT
#include "pciem/vfio_user/wire.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace pciem::vfio_user {

namespace {

// memcpy in and out of byte spans: the payloads are not aligned for the
// structures they hold.
template <class T>
T load(std::span<const std::byte> bytes, size_t at = 0) {
    T v;
    std::memcpy(&v, bytes.data() + at, sizeof(T));
    return v;
}

template <class T>
void append(Bytes& out, const T& v) {
    const auto* p = reinterpret_cast<const std::byte*>(&v);
    out.insert(out.end(), p, p + sizeof(T));
}

// A message: its header (size filled in last) followed by the payload.
class Builder {
public:
    Builder(uint16_t id, Command command, uint32_t flags = type_command) {
        h_.id = id;
        h_.command = static_cast<uint16_t>(command);
        h_.flags = flags;
        bytes_.resize(header_size);
    }
    template <class T>
    Builder& put(const T& v) {
        append(bytes_, v);
        return *this;
    }
    Builder& put(std::span<const std::byte> data) {
        bytes_.insert(bytes_.end(), data.begin(), data.end());
        return *this;
    }
    Bytes done() {
        h_.size = static_cast<uint32_t>(bytes_.size());
        encode_header(h_, std::span<std::byte, header_size>(bytes_.data(), header_size));
        return std::move(bytes_);
    }

private:
    Header h_;
    Bytes bytes_;
};

template <class T>
Decoded<T> refuse(std::string why) {
    return Decoded<T>::failure(std::move(why));
}

// "payload of 12 bytes is shorter than the 16 a DEVICE_GET_INFO reply needs"
std::string too_short(size_t have, size_t need, std::string_view what) {
    return fmt::format("its payload of {} bytes is shorter than the {} {} needs", have, need, what);
}

} // namespace

std::string command_name(uint16_t command) {
    switch (static_cast<Command>(command)) {
    case Command::version:
        return "VERSION";
    case Command::dma_map:
        return "DMA_MAP";
    case Command::dma_unmap:
        return "DMA_UNMAP";
    case Command::device_get_info:
        return "DEVICE_GET_INFO";
    case Command::get_region_info:
        return "DEVICE_GET_REGION_INFO";
    case Command::get_region_io_fds:
        return "DEVICE_GET_REGION_IO_FDS";
    case Command::get_irq_info:
        return "DEVICE_GET_IRQ_INFO";
    case Command::set_irqs:
        return "DEVICE_SET_IRQS";
    case Command::region_read:
        return "REGION_READ";
    case Command::region_write:
        return "REGION_WRITE";
    case Command::dma_read:
        return "DMA_READ";
    case Command::dma_write:
        return "DMA_WRITE";
    case Command::device_reset:
        return "DEVICE_RESET";
    }
    return fmt::format("command {}", command);
}

// ---- header ----------------------------------------------------------------

Header decode_header(std::span<const std::byte, header_size> bytes) {
    return load<Header>(bytes);
}

void encode_header(const Header& h, std::span<std::byte, header_size> out) {
    std::memcpy(out.data(), &h, header_size);
}

Decoded<Ok> check_header(const Header& h, size_t max_size) {
    if (h.size < header_size) {
        return refuse<Ok>(fmt::format("its header gives a message size of {} bytes, less "
                                      "than the {}-byte header itself",
                                      h.size, header_size));
    }
    if (h.size > max_size) {
        return refuse<Ok>(fmt::format("its header gives a message size of {} bytes, more "
                                      "than the {} allowed",
                                      h.size, max_size));
    }
    const uint32_t type = h.flags & flag_type_mask;
    if (type != type_command && type != type_reply) {
        return refuse<Ok>(fmt::format("its header has message type {} (0 command, 1 reply)", type));
    }
    if ((h.flags & ~flags_known) != 0) {
        return refuse<Ok>(
            fmt::format("its header has unknown flag bits {:#x}", h.flags & ~flags_known));
    }
    return Ok{};
}

Decoded<Ok> check_reply(const Header& h, uint16_t id, Command command) {
    if ((h.flags & flag_type_mask) != type_reply) {
        return refuse<Ok>(fmt::format("a {} command (id {}) came where the reply to {} (id {}) "
                                      "was due",
                                      command_name(h.command), h.id,
                                      command_name(static_cast<uint16_t>(command)), id));
    }
    if (h.id != id) {
        return refuse<Ok>(fmt::format("a reply with message id {} came where the reply to {} "
                                      "(id {}) was due: replies out of order, or to nothing",
                                      h.id, command_name(static_cast<uint16_t>(command)), id));
    }
    if (h.command != static_cast<uint16_t>(command)) {
        return refuse<Ok>(fmt::format("the reply with id {} is for {}, but that id was a {}", id,
                                      command_name(h.command),
                                      command_name(static_cast<uint16_t>(command))));
    }
    if ((h.flags & flag_no_reply) != 0) {
        return refuse<Ok>(fmt::format("the reply to {} (id {}) has the no-reply flag set",
                                      command_name(h.command), id));
    }
    return Ok{};
}

// ---- encoding ----------------------------------------------------------------

std::string capabilities_json(const Capabilities& caps) {
    nlohmann::json j;
    j["capabilities"]["max_msg_fds"] = caps.max_msg_fds;
    j["capabilities"]["max_data_xfer_size"] = caps.max_data_xfer_size;
    if (caps.migration_pgsize) {
        j["capabilities"]["migration"]["pgsize"] = *caps.migration_pgsize;
    }
    return j.dump();
}

Bytes encode_version(uint16_t id, const Version& v) {
    const std::string json = capabilities_json(v.caps);
    Builder b(id, Command::version);
    b.put(v.major).put(v.minor);
    // The JSON travels NUL-terminated.
    b.put(std::as_bytes(std::span(json.c_str(), json.size() + 1)));
    return b.done();
}

Bytes encode_device_get_info(uint16_t id) {
    DeviceInfo in{};
    in.argsz = sizeof(DeviceInfo);
    return Builder(id, Command::device_get_info).put(in).done();
}

Bytes encode_get_region_info(uint16_t id, uint32_t index, uint32_t argsz) {
    vfio_region_info in{};
    in.argsz = std::max<uint32_t>(argsz, sizeof(vfio_region_info));
    in.index = index;
    return Builder(id, Command::get_region_info).put(in).done();
}

Bytes encode_get_irq_info(uint16_t id, uint32_t index) {
    vfio_irq_info in{};
    in.argsz = sizeof(vfio_irq_info);
    in.index = index;
    return Builder(id, Command::get_irq_info).put(in).done();
}

Bytes encode_set_irqs(uint16_t id, uint32_t index, uint32_t flags, uint32_t start, uint32_t count) {
    IrqSet in{};
    in.argsz = sizeof(IrqSet);
    in.flags = flags;
    in.index = index;
    in.start = start;
    in.count = count;
    return Builder(id, Command::set_irqs).put(in).done();
}

Bytes encode_region_read(uint16_t id, uint32_t region, uint64_t offset, uint32_t count) {
    return Builder(id, Command::region_read).put(RegionAccess{offset, region, count}).done();
}

Bytes encode_region_write(uint16_t id, uint32_t region, uint64_t offset,
                          std::span<const std::byte> data, bool no_reply) {
    Builder b(id, Command::region_write, type_command | (no_reply ? flag_no_reply : 0));
    b.put(RegionAccess{offset, region, static_cast<uint32_t>(data.size())}).put(data);
    return b.done();
}

Bytes encode_dma_map(uint16_t id, uint32_t flags, uint64_t fd_offset, uint64_t addr,
                     uint64_t size) {
    return Builder(id, Command::dma_map)
        .put(DmaMap{sizeof(DmaMap), flags, fd_offset, addr, size})
        .done();
}

Bytes encode_dma_unmap(uint16_t id, uint64_t addr, uint64_t size) {
    return Builder(id, Command::dma_unmap).put(DmaUnmap{sizeof(DmaUnmap), 0, addr, size}).done();
}

Bytes encode_device_reset(uint16_t id) {
    return Builder(id, Command::device_reset).done();
}

Bytes encode_reply(const Header& request, std::span<const std::byte> payload) {
    return Builder(request.id, static_cast<Command>(request.command), type_reply)
        .put(payload)
        .done();
}

Bytes encode_error_reply(const Header& request, uint32_t err) {
    Bytes out =
        Builder(request.id, static_cast<Command>(request.command), type_reply | flag_error).done();
    Header h = decode_header(std::span<const std::byte, header_size>(out.data(), header_size));
    h.error = err;
    encode_header(h, std::span<std::byte, header_size>(out.data(), header_size));
    return out;
}

// ---- decoding replies ------------------------------------------------------------

namespace {

// A JSON number that must be a non-negative integer no larger than max.
Decoded<uint64_t> json_uint(const nlohmann::json& j, std::string_view name, uint64_t max) {
    if (!j.is_number_unsigned() && !(j.is_number_integer() && j.get<int64_t>() >= 0)) {
        return refuse<uint64_t>(fmt::format("its \"{}\" is not a non-negative integer", name));
    }
    const auto v = j.get<uint64_t>();
    if (v > max) {
        return refuse<uint64_t>(fmt::format("its \"{}\" of {} is larger than {}", name, v, max));
    }
    return v;
}

Decoded<Capabilities> parse_capabilities(std::span<const std::byte> text) {
    // The spec sends the JSON NUL-terminated; a missing NUL means the
    // length and the text disagree.
    if (text.empty() || text.back() != std::byte{0}) {
        return refuse<Capabilities>("its capability JSON is not NUL-terminated");
    }
    const auto* begin = reinterpret_cast<const char*>(text.data());
    const std::string_view s(begin, text.size() - 1);
    if (s.find('\0') != std::string_view::npos) {
        return refuse<Capabilities>("its capability JSON has a NUL inside it");
    }
    const auto j = nlohmann::json::parse(s, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
        return refuse<Capabilities>("its capability JSON does not parse");
    }
    Capabilities caps;
    if (!j.is_object()) {
        return refuse<Capabilities>("its capability JSON is not an object");
    }
    const auto top = j.find("capabilities");
    if (top == j.end()) {
        return caps; // only defaults
    }
    if (!top->is_object()) {
        return refuse<Capabilities>("its \"capabilities\" is not an object");
    }
    if (auto f = top->find("max_msg_fds"); f != top->end()) {
        auto v = json_uint(*f, "max_msg_fds", 1024);
        if (!v) {
            return refuse<Capabilities>(v.error());
        }
        caps.max_msg_fds = static_cast<uint32_t>(*v);
    }
    if (auto f = top->find("max_data_xfer_size"); f != top->end()) {
        auto v = json_uint(*f, "max_data_xfer_size", std::numeric_limits<uint32_t>::max());
        if (!v) {
            return refuse<Capabilities>(v.error());
        }
        if (*v == 0) {
            return refuse<Capabilities>("its \"max_data_xfer_size\" is 0");
        }
        caps.max_data_xfer_size = static_cast<uint32_t>(*v);
    }
    if (auto m = top->find("migration"); m != top->end()) {
        if (!m->is_object()) {
            return refuse<Capabilities>("its \"migration\" is not an object");
        }
        if (auto p = m->find("pgsize"); p != m->end()) {
            auto v = json_uint(*p, "pgsize", uint64_t{1} << 40);
            if (!v) {
                return refuse<Capabilities>(v.error());
            }
            caps.migration_pgsize = *v;
        }
    }
    return caps;
}

} // namespace

Decoded<Version> decode_version(std::span<const std::byte> payload) {
    if (payload.size() < 4) {
        return refuse<Version>(too_short(payload.size(), 4, "a VERSION message"));
    }
    Version v;
    v.major = load<uint16_t>(payload, 0);
    v.minor = load<uint16_t>(payload, 2);
    if (payload.size() > 4) {
        auto caps = parse_capabilities(payload.subspan(4));
        if (!caps) {
            return refuse<Version>(caps.error());
        }
        v.caps = *caps;
    }
    return v;
}

Decoded<DeviceInfo> decode_device_info(std::span<const std::byte> payload) {
    if (payload.size() < sizeof(DeviceInfo)) {
        return refuse<DeviceInfo>(
            too_short(payload.size(), sizeof(DeviceInfo), "a DEVICE_GET_INFO reply"));
    }
    const auto info = load<DeviceInfo>(payload);
    if (info.argsz < sizeof(DeviceInfo)) {
        return refuse<DeviceInfo>(fmt::format("its argsz of {} is below the {} of the structure",
                                              info.argsz, sizeof(DeviceInfo)));
    }
    return info;
}

namespace {

// The sparse mmap capability: areas that must lie inside the region.
Decoded<Ok> parse_sparse_mmap(std::span<const std::byte> cap, uint64_t region_size,
                              std::vector<MmapArea>& out) {
    constexpr size_t fixed = sizeof(vfio_region_info_cap_sparse_mmap);
    if (cap.size() < fixed) {
        return refuse<Ok>("its sparse mmap capability is cut short");
    }
    const auto nr = load<uint32_t>(cap, sizeof(vfio_info_cap_header));
    const size_t area = sizeof(vfio_region_sparse_mmap_area);
    if (nr > (cap.size() - fixed) / area) {
        return refuse<Ok>(fmt::format("its sparse mmap capability lists {} areas, more than "
                                      "its bytes hold",
                                      nr));
    }
    for (uint32_t i = 0; i < nr; ++i) {
        const auto a = load<vfio_region_sparse_mmap_area>(cap, fixed + i * area);
        if (a.size == 0 || a.offset > region_size || a.size > region_size - a.offset) {
            return refuse<Ok>(fmt::format("its sparse mmap area {} ({:#x}+{:#x}) is not inside "
                                          "the region of {:#x} bytes",
                                          i, a.offset, a.size, region_size));
        }
        out.push_back({a.offset, a.size});
    }
    return Ok{};
}

} // namespace

Decoded<RegionInfo> decode_region_info(std::span<const std::byte> payload, uint32_t index,
                                       size_t fds) {
    if (payload.size() < sizeof(vfio_region_info)) {
        return refuse<RegionInfo>(
            too_short(payload.size(), sizeof(vfio_region_info), "a DEVICE_GET_REGION_INFO reply"));
    }
    const auto in = load<vfio_region_info>(payload);
    RegionInfo r;
    r.index = in.index;
    r.flags = in.flags;
    r.size = in.size;
    r.offset = in.offset;
    r.argsz = in.argsz;
    if (in.index != index) {
        return refuse<RegionInfo>(
            fmt::format("it describes region {} where region {} was asked for", in.index, index));
    }
    if (in.argsz < sizeof(vfio_region_info)) {
        return refuse<RegionInfo>(fmt::format("its argsz of {} is below the {} of the structure",
                                              in.argsz, sizeof(vfio_region_info)));
    }
    const bool mmap = (in.flags & VFIO_REGION_INFO_FLAG_MMAP) != 0;
    if (fds > 1 || (fds == 1 && !mmap)) {
        return refuse<RegionInfo>(fmt::format("it came with {} file descriptors for a region "
                                              "that {} mmap()able",
                                              fds, mmap ? "is" : "is not"));
    }
    if (mmap && in.size != 0 && fds == 0) {
        return refuse<RegionInfo>("it offers an mmap()able region but no file descriptor");
    }
    // The capability chain, if the reply carries it: each header inside
    // the payload, offsets strictly increasing (so it ends).
    if ((in.flags & VFIO_REGION_INFO_FLAG_CAPS) != 0 && in.cap_offset != 0) {
        uint32_t at = in.cap_offset;
        uint32_t prev = 0;
        while (at != 0) {
            if (at < sizeof(vfio_region_info) || at <= prev ||
                at > payload.size() - sizeof(vfio_info_cap_header)) {
                return refuse<RegionInfo>(
                    fmt::format("its capability chain points to offset {} of a {}-byte reply", at,
                                payload.size()));
            }
            const auto cap = load<vfio_info_cap_header>(payload, at);
            const size_t end = cap.next != 0 && cap.next > at ? cap.next : payload.size();
            const auto body = payload.subspan(at, std::min(end, payload.size()) - at);
            if (cap.id == VFIO_REGION_INFO_CAP_SPARSE_MMAP) {
                if (auto ok = parse_sparse_mmap(body, in.size, r.mmap_areas); !ok) {
                    return refuse<RegionInfo>(ok.error());
                }
            } else {
                r.other_caps.push_back(cap.id);
            }
            prev = at;
            at = cap.next;
        }
    }
    if (mmap && r.mmap_areas.empty() && in.size != 0) {
        r.mmap_areas.push_back({0, in.size}); // the whole region
    }
    return r;
}

Decoded<IrqInfo> decode_irq_info(std::span<const std::byte> payload, uint32_t index) {
    if (payload.size() < sizeof(vfio_irq_info)) {
        return refuse<IrqInfo>(
            too_short(payload.size(), sizeof(vfio_irq_info), "a DEVICE_GET_IRQ_INFO reply"));
    }
    const auto in = load<vfio_irq_info>(payload);
    if (in.index != index) {
        return refuse<IrqInfo>(fmt::format("it describes interrupt index {} where index {} was "
                                           "asked for",
                                           in.index, index));
    }
    if (in.argsz < sizeof(vfio_irq_info)) {
        return refuse<IrqInfo>(fmt::format("its argsz of {} is below the {} of the structure",
                                           in.argsz, sizeof(vfio_irq_info)));
    }
    return IrqInfo{in.index, in.flags, in.count};
}

Decoded<std::span<const std::byte>> decode_region_access_reply(std::span<const std::byte> payload,
                                                               Command command, uint32_t region,
                                                               uint64_t offset, uint32_t count) {
    using R = std::span<const std::byte>;
    const std::string what = command_name(static_cast<uint16_t>(command)) + " reply";
    if (payload.size() < sizeof(RegionAccess)) {
        return refuse<R>(too_short(payload.size(), sizeof(RegionAccess), what));
    }
    const auto a = load<RegionAccess>(payload);
    if (a.region != region || a.offset != offset) {
        return refuse<R>(fmt::format("it answers region {} offset {:#x}, but region {} offset "
                                     "{:#x} was accessed",
                                     a.region, a.offset, region, offset));
    }
    if (a.count != count) {
        return refuse<R>(
            fmt::format("it reports {} bytes accessed of the {} asked for", a.count, count));
    }
    const size_t data = payload.size() - sizeof(RegionAccess);
    const size_t want = command == Command::region_read ? count : 0;
    if (data != want) {
        return refuse<R>(fmt::format("it carries {} data bytes where {} belong", data, want));
    }
    return payload.subspan(sizeof(RegionAccess));
}

// ---- decoding requests -------------------------------------------------------------

Decoded<RegionAccessRequest> decode_region_access_request(std::span<const std::byte> payload,
                                                          Command command) {
    const std::string what = command_name(static_cast<uint16_t>(command));
    if (payload.size() < sizeof(RegionAccess)) {
        return refuse<RegionAccessRequest>(too_short(payload.size(), sizeof(RegionAccess), what));
    }
    RegionAccessRequest r;
    r.access = load<RegionAccess>(payload);
    const size_t data = payload.size() - sizeof(RegionAccess);
    if (command == Command::region_write ? data != r.access.count : data != 0) {
        return refuse<RegionAccessRequest>(
            fmt::format("its {} data bytes do not match its count of {}", data, r.access.count));
    }
    if (r.access.count > default_max_data_xfer) {
        return refuse<RegionAccessRequest>(fmt::format("its count of {} is above the {} allowed",
                                                       r.access.count, default_max_data_xfer));
    }
    r.data = payload.subspan(sizeof(RegionAccess));
    return r;
}

Decoded<IrqSet> decode_set_irqs(std::span<const std::byte> payload, size_t fds) {
    if (payload.size() < sizeof(IrqSet)) {
        return refuse<IrqSet>(too_short(payload.size(), sizeof(IrqSet), "SET_IRQS"));
    }
    const auto s = load<IrqSet>(payload);
    const uint32_t data = s.flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
    const uint32_t action = s.flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
    if (std::popcount(data) != 1 || std::popcount(action) != 1 ||
        (s.flags & ~(VFIO_IRQ_SET_DATA_TYPE_MASK | VFIO_IRQ_SET_ACTION_TYPE_MASK)) != 0) {
        return refuse<IrqSet>(fmt::format("its flags {:#x} are not one data type and one "
                                          "action",
                                          s.flags));
    }
    if (fds != 0 && (data != VFIO_IRQ_SET_DATA_EVENTFD || fds != s.count)) {
        return refuse<IrqSet>(
            fmt::format("it came with {} file descriptors for {} vectors", fds, s.count));
    }
    if (data == VFIO_IRQ_SET_DATA_BOOL && payload.size() - sizeof(IrqSet) != s.count) {
        return refuse<IrqSet>("its bool data does not match its count");
    }
    return s;
}

Decoded<DmaMap> decode_dma_map(std::span<const std::byte> payload, size_t fds) {
    if (payload.size() < sizeof(DmaMap)) {
        return refuse<DmaMap>(too_short(payload.size(), sizeof(DmaMap), "DMA_MAP"));
    }
    const auto m = load<DmaMap>(payload);
    if ((m.flags & ~(dma_read_flag | dma_write_flag)) != 0) {
        return refuse<DmaMap>(fmt::format("its flags {:#x} are unknown", m.flags));
    }
    if (fds > 1) {
        return refuse<DmaMap>(fmt::format("it came with {} file descriptors", fds));
    }
    if (m.size == 0 || m.addr + m.size < m.addr) {
        return refuse<DmaMap>(
            fmt::format("its range {:#x}+{:#x} is empty or wraps", m.addr, m.size));
    }
    return m;
}

Decoded<uint32_t> decode_info_request(std::span<const std::byte> payload, Command command) {
    // GET_REGION_INFO and GET_IRQ_INFO both start argsz, flags, index.
    const size_t need =
        command == Command::get_region_info ? sizeof(vfio_region_info) : sizeof(vfio_irq_info);
    if (payload.size() < need) {
        return refuse<uint32_t>(
            too_short(payload.size(), need, command_name(static_cast<uint16_t>(command))));
    }
    return load<uint32_t>(payload, 8);
}

} // namespace pciem::vfio_user
