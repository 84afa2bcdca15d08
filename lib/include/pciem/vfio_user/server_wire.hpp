// SPDX-License-Identifier: MIT
//
// The server's half of the vfio-user wire format (wire.hpp holds the
// header, the client's requests and their checks): the replies a server
// builds, the DMA_READ / DMA_WRITE requests it sends the client when a
// DMA region came without a file descriptor, and the decoders for what
// only a server receives. Like wire.hpp: no I/O, no std::expected.
//
//     Bytes r = encode_region_info_reply(req, info, {{0, bar_size}});
//     Bytes q = encode_dma_read(id, 0x1000, 64);   // to the client
//     auto data = decode_dma_access_reply(reply_payload, Command::dma_read, 0x1000, 64);
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "pciem/vfio_user/wire.hpp"

namespace pciem::vfio_user {

// The payload of DMA_READ / DMA_WRITE (both ways) before any data.
struct DmaAccess {
    uint64_t address;
    uint64_t count;
};
static_assert(sizeof(DmaAccess) == 16);

// VERSION reply: major, minor and the server's capabilities.
Bytes encode_version_reply(const Header& request, const Version& v);

// DEVICE_GET_REGION_INFO reply. With mmap areas the region is offered
// as mmap()able (the fd travels beside the reply) with a sparse mmap
// capability, but only when the client's argsz leaves room for it: else
// the reply carries argsz = the size needed and no capability, as VFIO
// does, so the client can ask again.
Bytes encode_region_info_reply(const Header& request, uint32_t client_argsz,
                               const vfio_region_info& info, std::span<const MmapArea> areas);

// DEVICE_GET_IRQ_INFO and DEVICE_GET_INFO replies.
Bytes encode_irq_info_reply(const Header& request, uint32_t index, uint32_t flags, uint32_t count);
Bytes encode_device_info_reply(const Header& request, uint32_t flags, uint32_t num_regions,
                               uint32_t num_irqs);

// REGION_READ reply (the access echoed and its data) / REGION_WRITE reply
// (the access echoed).
Bytes encode_region_read_reply(const Header& request, const RegionAccess& a,
                               std::span<const std::byte> data);
Bytes encode_region_write_reply(const Header& request, const RegionAccess& a);

// Server to client: read `count` bytes at `address` / write `data` there.
Bytes encode_dma_read(uint16_t id, uint64_t address, uint64_t count);
Bytes encode_dma_write(uint16_t id, uint64_t address, std::span<const std::byte> data);

// DMA_UNMAP as a server receives it.
Decoded<DmaUnmap> decode_dma_unmap(std::span<const std::byte> payload);

// The client's reply to DMA_READ (the access echoed, then exactly
// `count` data bytes, returned) or DMA_WRITE (the access echoed; the
// spec's table gives its count 4 bytes, libvfio-user sends 8: both are
// accepted).
Decoded<std::span<const std::byte>> decode_dma_access_reply(std::span<const std::byte> payload,
                                                            Command command, uint64_t address,
                                                            uint64_t count);

} // namespace pciem::vfio_user
