// SPDX-License-Identifier: MIT
//
// libFuzzer target for the vfio-user message layer
// (lib/src/vfio_user/wire.cpp): every byte of a message comes from the
// other end of a socket, a device server (pciem-proxy) or a client (the
// vfio-user server host), so every decoder must refuse or accept any input
// without reading past it, and what it accepts must be consistent with
// the bytes it was given.
//
// Input: byte 0 picks the decoder, byte 1 the number of fds that came
// with the message (0..16), byte 2 the index or region a reply is checked
// against; the rest is a message: a 16-byte header, then its payload.
// Both the client's and the server's decoders live here so the two sides
// share one target.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>

#include "pciem/vfio_user/server_wire.hpp"
#include "pciem/vfio_user/wire.hpp"

namespace vu = pciem::vfio_user;

// channel.hpp's max_fds_per_message (the channel is not built here: it needs
// std::expected, which clang 14 lacks with this libstdc++).
constexpr size_t max_fds = 16;

namespace {

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            std::fprintf(stderr, "vfio_user_fuzz: %s:%d: %s\n", __FILE__, __LINE__, #cond);        \
            std::abort();                                                                          \
        }                                                                                          \
    } while (0)

// A refusal is a sentence, never empty.
template <class T>
void refused_in_words(const vu::Decoded<T>& d) {
    if (!d) {
        CHECK(!d.error().empty());
    }
}

// The data span of a decoded access lies inside the payload it came from.
void inside(std::span<const std::byte> part, std::span<const std::byte> whole) {
    if (part.empty()) {
        return;
    }
    CHECK(part.data() >= whole.data());
    CHECK(part.data() + part.size() <= whole.data() + whole.size());
}

void header(std::span<const std::byte> msg, uint16_t id, vu::Command command) {
    if (msg.size() < vu::header_size) {
        return;
    }
    const vu::Header h = vu::decode_header(msg.first<vu::header_size>());
    auto ok = vu::check_header(h);
    refused_in_words(ok);
    if (ok) {
        CHECK(h.size >= vu::header_size);
        CHECK((h.flags & ~vu::flags_known) == 0);
        // What decodes re-encodes to the same bytes.
        std::byte again[vu::header_size];
        vu::encode_header(h, again);
        CHECK(std::memcmp(again, msg.data(), vu::header_size) == 0);
    }
    refused_in_words(vu::check_reply(h, id, command));
    (void)vu::command_name(h.command);
}

void payload(uint8_t which, size_t fds, uint32_t index, std::span<const std::byte> p) {
    switch (which % 14) {
    case 0: // the version range is the client's to judge, not the decoder's
        refused_in_words(vu::decode_version(p));
        break;
    case 1:
        refused_in_words(vu::decode_device_info(p));
        break;
    case 2: {
        auto r = vu::decode_region_info(p, index, fds);
        refused_in_words(r);
        if (r) {
            CHECK(r->index == index);
            for (const auto& a : r->mmap_areas) {
                CHECK(a.size <= r->size && a.offset <= r->size - a.size);
            }
        }
        break;
    }
    case 3:
        refused_in_words(vu::decode_irq_info(p, index));
        break;
    case 4:
    case 5: {
        const auto cmd = which % 14 == 4 ? vu::Command::region_read : vu::Command::region_write;
        const uint32_t count = index % 9;
        auto d = vu::decode_region_access_reply(p, cmd, index % 10, 0, count);
        refused_in_words(d);
        if (d) {
            CHECK(d->size() == (cmd == vu::Command::region_read ? count : 0));
            inside(*d, p);
        }
        break;
    }
    case 6:
    case 7: {
        const auto cmd = which % 14 == 6 ? vu::Command::region_read : vu::Command::region_write;
        auto r = vu::decode_region_access_request(p, cmd);
        refused_in_words(r);
        if (r) {
            inside(r->data, p);
            if (cmd == vu::Command::region_write) {
                CHECK(r->data.size() == r->access.count);
            }
        }
        break;
    }
    case 8:
        refused_in_words(vu::decode_set_irqs(p, fds));
        break;
    case 9:
        refused_in_words(vu::decode_dma_map(p, fds));
        break;
    case 10:
        refused_in_words(vu::decode_info_request(p, vu::Command::get_region_info));
        break;
    case 11:
        refused_in_words(vu::decode_info_request(p, vu::Command::get_irq_info));
        break;
    // The server host's side (VfioUserHost): what a client sends it.
    case 12:
        refused_in_words(vu::decode_dma_unmap(p));
        break;
    default: {
        const auto cmd = index % 2 == 0 ? vu::Command::dma_read : vu::Command::dma_write;
        const uint64_t count = index % 17;
        auto d = vu::decode_dma_access_reply(p, cmd, 0x1000, count);
        refused_in_words(d);
        if (d) {
            CHECK(d->size() == (cmd == vu::Command::dma_read ? count : 0));
            inside(*d, p);
        }
        break;
    }
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 3) {
        return 0;
    }
    const uint8_t which = data[0];
    const size_t fds = data[1] % (max_fds + 1);
    const uint32_t index = data[2];
    const std::span<const std::byte> msg(reinterpret_cast<const std::byte*>(data + 3), size - 3);
    header(msg, static_cast<uint16_t>(index), static_cast<vu::Command>(1 + which % 13));
    payload(which, fds, index,
            msg.size() > vu::header_size ? msg.subspan(vu::header_size)
                                         : std::span<const std::byte>{});
    return 0;
}
