// SPDX-License-Identifier: MIT
//
// Filling little-endian data structures (Identify data, log pages) at
// the byte offsets the specification tables give.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

namespace pciem::nvme {

template <class T>
void put_le(std::span<std::byte> out, size_t offset, T value) {
    // Hosts are little-endian (nvme_spec.hpp asserts it).
    std::memcpy(out.data() + offset, &value, sizeof(T));
}

// A 128-bit counter (SMART log) from a 64-bit value.
inline void put_le128(std::span<std::byte> out, size_t offset, uint64_t value) {
    put_le<uint64_t>(out, offset, value);
    put_le<uint64_t>(out, offset + 8, 0);
}

// ASCII fields are padded with spaces, not NULs.
inline void put_ascii(std::span<std::byte> out, size_t offset, size_t width,
                      std::string_view text) {
    std::memset(out.data() + offset, ' ', width);
    std::memcpy(out.data() + offset, text.data(), std::min(width, text.size()));
}

} // namespace pciem::nvme
