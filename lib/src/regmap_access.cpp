// SPDX-License-Identifier: MIT
//
// The access path of RegisterMap: an access of 1..8 bytes is cut into
// segments, each inside one register, one memory range or one hole, and
// the segments are handled in address order. Values are little-endian
// like the PCI bus: byte k of the access is bits 8k..8k+7 of its value.
#include <algorithm>
#include <cstring>

#include "pciem/regmap.hpp"

namespace pciem {

namespace {

uint64_t low_mask(unsigned len) {
    return len >= 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * len)) - 1;
}

} // namespace

const RegisterMap::Entry* RegisterMap::entry_at(uint64_t offset) const {
    // First entry starting after offset; the one before may contain it.
    auto it = std::upper_bound(index_.begin(), index_.end(), offset,
                               [](uint64_t off, const Entry& e) { return off < e.start; });
    if (it == index_.begin()) {
        return nullptr;
    }
    --it;
    return offset < it->end ? &*it : nullptr;
}

uint64_t RegisterMap::next_start(uint64_t offset) const {
    auto it = std::upper_bound(index_.begin(), index_.end(), offset,
                               [](uint64_t off, const Entry& e) { return off < e.start; });
    return it == index_.end() ? ~uint64_t{0} : it->start;
}

uint64_t RegisterMap::unmapped_value(unsigned len) const {
    return policy_.read == UnmappedPolicy::Read::ones ? low_mask(len) : 0;
}

std::optional<uint64_t> RegisterMap::read_segment(uint64_t offset, unsigned len) {
    const Entry* e = entry_at(offset);
    if (e != nullptr && e->reg != nullptr) {
        const auto byte = static_cast<unsigned>(offset - e->start);
        const auto v = e->reg->bus_read(byte, len);
        if (!v) {
            return std::nullopt;
        }
        return (*v >> (8 * byte)) & low_mask(len);
    }
    if (e != nullptr) {
        uint64_t v = 0;
        std::memcpy(&v, e->mem->bytes().data() + (offset - e->start), len);
        return v;
    }
    ++stats_.unmapped_reads;
    if (fallback_read_) {
        if (auto v = fallback_read_(offset, len)) {
            return *v & low_mask(len);
        }
    }
    log_unmapped("read", offset, len);
    return unmapped_value(len);
}

void RegisterMap::write_segment(uint64_t offset, unsigned len, uint64_t value) {
    const Entry* e = entry_at(offset);
    if (e != nullptr && e->reg != nullptr) {
        const auto byte = static_cast<unsigned>(offset - e->start);
        e->reg->bus_write(byte, len, (value & low_mask(len)) << (8 * byte));
        return;
    }
    if (e != nullptr) {
        std::memcpy(e->mem->bytes().data() + (offset - e->start), &value, len);
        return;
    }
    ++stats_.unmapped_writes;
    if (fallback_write_) {
        fallback_write_(offset, len, value & low_mask(len));
        return;
    }
    log_unmapped("write", offset, len);
}

uint64_t RegisterMap::peek_segment(uint64_t offset, unsigned len) const {
    const Entry* e = entry_at(offset);
    if (e != nullptr && e->reg != nullptr) {
        return (e->reg->value() >> (8 * (offset - e->start))) & low_mask(len);
    }
    if (e != nullptr) {
        uint64_t v = 0;
        std::memcpy(&v, e->mem->bytes().data() + (offset - e->start), len);
        return v;
    }
    return unmapped_value(len);
}

// Bytes from pos up to the end of its entry or hole, at most `left`.
unsigned RegisterMap::segment_len(uint64_t pos, unsigned left) const {
    const Entry* e = entry_at(pos);
    const uint64_t stop = e != nullptr ? e->end : next_start(pos);
    return static_cast<unsigned>(std::min<uint64_t>(stop - pos, left));
}

std::optional<uint64_t> RegisterMap::read(uint64_t offset, unsigned size) {
    if (!sealed_) {
        (void)seal(); // a broken map serves as unmapped; seal() said why
    }
    uint64_t value = 0;
    unsigned done = 0;
    while (done < size) {
        const uint64_t pos = offset + done;
        const unsigned len = segment_len(pos, size - done);
        const auto part = read_segment(pos, len);
        if (!part) {
            return std::nullopt;
        }
        value |= *part << (8 * done);
        done += len;
    }
    return value;
}

void RegisterMap::write(uint64_t offset, unsigned size, uint64_t value) {
    if (!sealed_) {
        (void)seal();
    }
    unsigned done = 0;
    while (done < size) {
        const uint64_t pos = offset + done;
        const unsigned len = segment_len(pos, size - done);
        write_segment(pos, len, done >= 8 ? 0 : value >> (8 * done));
        done += len;
    }
    if (observer_) {
        observer_(offset, size, value & low_mask(size));
    }
}

uint64_t RegisterMap::peek(uint64_t offset, unsigned size) const {
    uint64_t value = 0;
    unsigned done = 0;
    while (done < size) {
        const uint64_t pos = offset + done;
        const unsigned len = segment_len(pos, size - done);
        value |= peek_segment(pos, len) << (8 * done);
        done += len;
    }
    return value;
}

} // namespace pciem
