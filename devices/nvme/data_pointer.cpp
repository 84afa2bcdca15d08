// SPDX-License-Identifier: MIT
#include "data_pointer.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <span>

namespace pciem::nvme {

namespace {

// List entries are fetched this many at a time: a stack buffer, one
// dma() call per chunk.
constexpr unsigned list_chunk = 64;

void append_run(std::vector<DmaSegment>& runs, uint64_t address, uint64_t length) {
    if (!runs.empty() && runs.back().address + runs.back().length == address) {
        runs.back().length += length;
        return;
    }
    runs.push_back({address, length});
}

struct SglDescriptor {
    uint64_t address;
    uint32_t length;
    uint8_t reserved[3];
    uint8_t id; // type 7:4, subtype 3:0

    [[nodiscard]] unsigned type() const { return id >> 4; }
    [[nodiscard]] unsigned subtype() const { return id & 0xfu; }
    [[nodiscard]] bool is_segment() const {
        return type() == sgl::segment || type() == sgl::last_segment;
    }
};
static_assert(sizeof(SglDescriptor) == sgl::descriptor_size);

// Bounds a malicious or corrupt SGL: more descriptors than any transfer
// up to MDTS could need is an error, not a loop.
constexpr unsigned max_sgl_descriptors = 4096;

} // namespace

Status resolve_prps(Dma& dma, uint64_t prp1, uint64_t prp2, uint64_t length, uint64_t page_size,
                    std::vector<DmaSegment>& runs) {
    runs.clear();
    if (length == 0) {
        return status::success;
    }
    // PRP1 may start anywhere in a page, but dword aligned.
    if ((prp1 & 3) != 0) {
        return status::prp_invalid_offset;
    }
    const uint64_t first = std::min(length, page_size - (prp1 & (page_size - 1)));
    append_run(runs, prp1, first);
    uint64_t left = length - first;
    if (left == 0) {
        return status::success;
    }
    if (left <= page_size) {
        // PRP2 is the second (and last) page.
        if ((prp2 & (page_size - 1)) != 0) {
            return status::prp_invalid_offset;
        }
        append_run(runs, prp2, left);
        return status::success;
    }
    // PRP2 points to a PRP list; an entry is a page, except the last
    // entry of a list page when more entries follow: it points to the
    // next list page.
    uint64_t list = prp2;
    std::array<uint64_t, list_chunk> entries{};
    // Every list page but a degenerate one yields at least one data page;
    // this bounds lists that point at themselves.
    uint64_t pages_left_guard = left / page_size + 2;
    while (left > 0) {
        if ((list & 7) != 0 || pages_left_guard-- == 0) {
            return status::prp_invalid_offset;
        }
        const uint64_t in_page = (page_size - (list & (page_size - 1))) / 8;
        const uint64_t needed = (left + page_size - 1) / page_size;
        const bool chained = needed > in_page;
        const uint64_t count = chained ? in_page : needed;
        uint64_t next_list = 0;
        for (uint64_t i = 0; i < count; i += list_chunk) {
            const auto n = static_cast<size_t>(std::min<uint64_t>(list_chunk, count - i));
            auto bytes = std::as_writable_bytes(std::span(entries).first(n));
            if (!dma.fast_read(list + i * 8, bytes)) {
                return status::data_transfer_error;
            }
            for (size_t k = 0; k < n; ++k) {
                if (chained && i + k == count - 1) {
                    next_list = entries[k];
                    break;
                }
                if ((entries[k] & (page_size - 1)) != 0) {
                    return status::prp_invalid_offset;
                }
                const uint64_t len = std::min(left, page_size);
                append_run(runs, entries[k], len);
                left -= len;
            }
        }
        list = next_list;
    }
    return status::success;
}

Status resolve_sgl(Dma& dma, uint64_t dptr1, uint64_t dptr2, uint64_t length,
                   std::vector<DmaSegment>& runs) {
    runs.clear();
    SglDescriptor current{};
    std::memcpy(&current.address, &dptr1, 8);
    std::memcpy(&current.length, &dptr2, 8); // length, reserved, identifier
    uint64_t described = 0;
    unsigned seen = 0;
    auto add_data = [&](const SglDescriptor& d) -> Status {
        if (d.subtype() != 0) {
            return status::sgl_invalid_type;
        }
        if (d.length != 0) {
            append_run(runs, d.address, d.length);
        }
        described += d.length;
        return status::success;
    };

    std::array<SglDescriptor, list_chunk> chunk{};
    for (;;) {
        if (current.type() == sgl::data_block) {
            if (Status s = add_data(current); !s.ok()) {
                return s;
            }
            break;
        }
        if (!current.is_segment()) {
            return status::sgl_invalid_type;
        }
        if (current.subtype() != 0) {
            return status::sgl_invalid_type;
        }
        if (current.length == 0 || current.length % sgl::descriptor_size != 0) {
            return status::sgl_invalid_count;
        }
        const uint64_t count = current.length / sgl::descriptor_size;
        seen += static_cast<unsigned>(std::min<uint64_t>(count, max_sgl_descriptors + 1));
        if (seen > max_sgl_descriptors) {
            return status::sgl_invalid_count;
        }
        // Only a Segment's last descriptor may lead to another segment.
        const bool may_chain = current.type() == sgl::segment;
        std::optional<SglDescriptor> next;
        for (uint64_t i = 0; i < count; i += list_chunk) {
            const auto n = static_cast<size_t>(std::min<uint64_t>(list_chunk, count - i));
            if (!dma.fast_read(current.address + i * sgl::descriptor_size,
                          std::as_writable_bytes(std::span(chunk).first(n)))) {
                return status::data_transfer_error;
            }
            for (size_t k = 0; k < n; ++k) {
                const SglDescriptor& d = chunk[k];
                if (d.is_segment()) {
                    if (!may_chain || i + k != count - 1) {
                        return status::sgl_invalid_segment;
                    }
                    next = d;
                } else if (d.type() == sgl::data_block) {
                    if (Status s = add_data(d); !s.ok()) {
                        return s;
                    }
                } else {
                    return status::sgl_invalid_type;
                }
            }
        }
        if (!next) {
            break;
        }
        current = *next;
    }
    // The SGL must describe the transfer exactly (SGLS does not announce
    // support for longer lists or bit buckets).
    if (described != length) {
        return status::sgl_invalid_data_length;
    }
    return status::success;
}

Status resolve_data_pointer(Dma& dma, const Sqe& cmd, uint64_t length, uint64_t page_size,
                            bool sgl_allowed, std::vector<DmaSegment>& runs) {
    switch (cmd.psdt()) {
    case 0:
        return resolve_prps(dma, cmd.dptr1, cmd.dptr2, length, page_size, runs);
    case 1:
    case 2:
        // MPTR (metadata) is unused: namespaces have no metadata.
        if (!sgl_allowed) {
            return status::invalid_field;
        }
        return resolve_sgl(dma, cmd.dptr1, cmd.dptr2, length, runs);
    default:
        return status::invalid_field;
    }
}

} // namespace pciem::nvme
