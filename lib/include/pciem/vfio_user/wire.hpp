// SPDX-License-Identifier: MIT
//
// The vfio-user wire format: the 16-byte header, the payload of each
// command and reply, and every check a receiver makes before it trusts a
// byte from the other side. No I/O here (channel.hpp moves the bytes), and
// no std::expected, so the same unit builds into libpciem, its unit tests
// and the libFuzzer target (clang 14 lacks <expected>).
//
// Encoders build whole messages (header included) into a byte vector;
// decoders take a payload (the bytes after the header) and return either
// the value or a sentence saying what was wrong with it:
//
//     auto msg = encode_region_read(id, VFIO_PCI_BAR0_REGION_INDEX, 0x1c, 4);
//     ... send, receive a reply whose header passed check_reply() ...
//     auto data = decode_region_access_reply(payload, Command::region_read,
//                                            VFIO_PCI_BAR0_REGION_INDEX, 0x1c, 4);
//     if (!data) { report(data.error()); }
//
// The layouts are those of QEMU's docs/interop/vfio-user.rst (protocol
// 0.x); structures shared with VFIO proper (region and IRQ info, SET_IRQS)
// are <linux/vfio.h>'s. Everything is little-endian, like every host PCIem
// runs on.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <linux/vfio.h>

namespace pciem::vfio_user {

static_assert(std::endian::native == std::endian::little,
              "vfio-user is little-endian; so is every host PCIem runs on");

inline constexpr size_t header_size = 16;
// Protocol versions this unit speaks: major 0, minor 0..2 (QEMU's client
// 0.0, QEMU 7.2's server and SPDK 0.1, libvfio-user 0.2).
inline constexpr uint16_t version_major = 0;
inline constexpr uint16_t version_minor_max = 2;
// What a peer may send per message unless it says otherwise (spec).
inline constexpr uint32_t default_max_data_xfer = 1u << 20;
inline constexpr uint32_t default_max_msg_fds = 1;
// Largest message this unit accepts: a full data transfer, its access
// header and the message header, with room for a region-info capability
// chain. Anything larger is a broken peer, not a big message.
inline constexpr size_t max_message_size = header_size + 16 + default_max_data_xfer + 4096;

enum class Command : uint16_t {
    version = 1,
    dma_map = 2,
    dma_unmap = 3,
    device_get_info = 4,
    get_region_info = 5,
    get_region_io_fds = 6,
    get_irq_info = 7,
    set_irqs = 8,
    region_read = 9,
    region_write = 10,
    dma_read = 11,
    dma_write = 12,
    device_reset = 13,
};
// "REGION_READ", ... ("command 42" for an unknown number).
std::string command_name(uint16_t command);

// Header flags: bits 0-3 the type, bit 4 no reply wanted, bit 5 error.
inline constexpr uint32_t flag_type_mask = 0xf;
inline constexpr uint32_t type_command = 0;
inline constexpr uint32_t type_reply = 1;
inline constexpr uint32_t flag_no_reply = 1u << 4;
inline constexpr uint32_t flag_error = 1u << 5;
inline constexpr uint32_t flags_known = flag_type_mask | flag_no_reply | flag_error;

struct Header {
    uint16_t id = 0;
    uint16_t command = 0;
    uint32_t size = 0; // header included
    uint32_t flags = 0;
    uint32_t error = 0; // errno of a failed command (flag_error)
};
static_assert(sizeof(Header) == header_size);

// DMA_MAP flags (the region's protection for the server).
inline constexpr uint32_t dma_read_flag = 1u << 0;
inline constexpr uint32_t dma_write_flag = 1u << 1;

// Payload layouts specific to vfio-user (the rest are <linux/vfio.h>'s).
struct RegionAccess {
    uint64_t offset;
    uint32_t region;
    uint32_t count;
};
static_assert(sizeof(RegionAccess) == 16);

struct DmaMap {
    uint32_t argsz;
    uint32_t flags;
    uint64_t offset; // into the fd that comes with the message
    uint64_t addr;   // bus address
    uint64_t size;
};
static_assert(sizeof(DmaMap) == 32);

struct DmaUnmap {
    uint32_t argsz;
    uint32_t flags;
    uint64_t addr;
    uint64_t size;
};
static_assert(sizeof(DmaUnmap) == 24);

// struct vfio_irq_set without its flexible array (which cannot live in
// a std::variant): what SET_IRQS carries before its bool data, if any.
struct IrqSet {
    uint32_t argsz;
    uint32_t flags; // VFIO_IRQ_SET_DATA_* | VFIO_IRQ_SET_ACTION_*
    uint32_t index;
    uint32_t start;
    uint32_t count;
};
static_assert(sizeof(IrqSet) == 20);

struct DeviceInfo {
    uint32_t argsz;
    uint32_t flags; // VFIO_DEVICE_FLAGS_*
    uint32_t num_regions;
    uint32_t num_irqs;
};
static_assert(sizeof(DeviceInfo) == 16);

// A decoded value, or the sentence saying why the bytes were refused.
// (std::expected in miniature; see the file comment for why.)
template <class T>
class Decoded {
public:
    Decoded(T value) : v_(std::move(value)) {} // NOLINT: implicit, like expected
    static Decoded failure(std::string why) { return Decoded(Tag{}, std::move(why)); }

    explicit operator bool() const { return v_.index() == 0; }
    [[nodiscard]] bool has_value() const { return v_.index() == 0; }
    T& operator*() { return std::get<0>(v_); }
    const T& operator*() const { return std::get<0>(v_); }
    T* operator->() { return &std::get<0>(v_); }
    const T* operator->() const { return &std::get<0>(v_); }
    [[nodiscard]] const std::string& error() const { return std::get<1>(v_); }

private:
    struct Tag {};
    Decoded(Tag, std::string why) : v_(std::in_place_index<1>, std::move(why)) {}
    std::variant<T, std::string> v_;
};

// The empty success of a check.
struct Ok {};

// ---- the header ---------------------------------------------------------

Header decode_header(std::span<const std::byte, header_size> bytes);
void encode_header(const Header& h, std::span<std::byte, header_size> out);

// Checks that make sense for any header before its payload is read: a
// size that covers the header and stays below max_size, a known type,
// no unknown flag bits.
Decoded<Ok> check_header(const Header& h, size_t max_size = max_message_size);

// Checks a reply against the command it answers (id and command echoed,
// type reply). An error reply passes: its errno is in h.error.
Decoded<Ok> check_reply(const Header& h, uint16_t id, Command command);

// ---- messages a client sends ----------------------------------------------

using Bytes = std::vector<std::byte>;

// Capabilities of the VERSION JSON. Absent fields keep the spec defaults.
struct Capabilities {
    uint32_t max_msg_fds = default_max_msg_fds;
    uint32_t max_data_xfer_size = default_max_data_xfer;
    std::optional<uint64_t> migration_pgsize;
};

struct Version {
    uint16_t major = version_major;
    uint16_t minor = 0;
    Capabilities caps;
};

// The JSON text (NUL included) a VERSION message carries for `caps`.
std::string capabilities_json(const Capabilities& caps);

Bytes encode_version(uint16_t id, const Version& v);
Bytes encode_device_get_info(uint16_t id);
Bytes encode_get_region_info(uint16_t id, uint32_t index, uint32_t argsz);
Bytes encode_get_irq_info(uint16_t id, uint32_t index);
// SET_IRQS; the eventfds (DATA_EVENTFD) travel beside it, `count` of them.
Bytes encode_set_irqs(uint16_t id, uint32_t index, uint32_t flags, uint32_t start, uint32_t count);
Bytes encode_region_read(uint16_t id, uint32_t region, uint64_t offset, uint32_t count);
Bytes encode_region_write(uint16_t id, uint32_t region, uint64_t offset,
                          std::span<const std::byte> data, bool no_reply);
// DMA_MAP; the fd travels beside it.
Bytes encode_dma_map(uint16_t id, uint32_t flags, uint64_t fd_offset, uint64_t addr, uint64_t size);
Bytes encode_dma_unmap(uint16_t id, uint64_t addr, uint64_t size);
Bytes encode_device_reset(uint16_t id);

// A reply to `request` carrying `payload` (servers, and test servers).
Bytes encode_reply(const Header& request, std::span<const std::byte> payload);
// An error reply with errno `err` and no payload.
Bytes encode_error_reply(const Header& request, uint32_t err);

// ---- decoding replies -------------------------------------------------------

Decoded<Version> decode_version(std::span<const std::byte> payload);
Decoded<DeviceInfo> decode_device_info(std::span<const std::byte> payload);

// One mmap()able piece of a region (sparse mmap capability), or the whole
// region when the server offers no capability but the MMAP flag.
struct MmapArea {
    uint64_t offset = 0;
    uint64_t size = 0;
    friend bool operator==(const MmapArea&, const MmapArea&) = default;
};

struct RegionInfo {
    uint32_t index = 0;
    uint32_t flags = 0;  // VFIO_REGION_INFO_FLAG_*
    uint64_t size = 0;   // bytes
    uint64_t offset = 0; // offset of the region in its mmap fd
    uint32_t argsz = 0;  // what the whole reply needs (caps included)
    std::vector<MmapArea> mmap_areas;
    // Capabilities the reply carried but this unit does not interpret.
    std::vector<uint16_t> other_caps;
};

// `fds` is how many descriptors came with the reply: one is needed when
// the region is mmap()able, none otherwise.
Decoded<RegionInfo> decode_region_info(std::span<const std::byte> payload, uint32_t index,
                                       size_t fds);

struct IrqInfo {
    uint32_t index = 0;
    uint32_t flags = 0; // VFIO_IRQ_INFO_*
    uint32_t count = 0;
};
Decoded<IrqInfo> decode_irq_info(std::span<const std::byte> payload, uint32_t index);

// The reply to REGION_READ or REGION_WRITE: the access echoed, and for a
// read exactly `count` data bytes (returned; empty for a write).
Decoded<std::span<const std::byte>> decode_region_access_reply(std::span<const std::byte> payload,
                                                               Command command, uint32_t region,
                                                               uint64_t offset, uint32_t count);

// ---- decoding requests (the server side) ------------------------------------

struct RegionAccessRequest {
    RegionAccess access{};
    std::span<const std::byte> data; // REGION_WRITE: count bytes
};
Decoded<RegionAccessRequest> decode_region_access_request(std::span<const std::byte> payload,
                                                          Command command);
Decoded<IrqSet> decode_set_irqs(std::span<const std::byte> payload, size_t fds);
Decoded<DmaMap> decode_dma_map(std::span<const std::byte> payload, size_t fds);
// The index a GET_REGION_INFO or GET_IRQ_INFO asks about.
Decoded<uint32_t> decode_info_request(std::span<const std::byte> payload, Command command);

} // namespace pciem::vfio_user
