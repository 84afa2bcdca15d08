// SPDX-License-Identifier: MIT
#include "error_log.hpp"

#include "le_bytes.hpp"

namespace pciem::nvme {

void ErrorLog::record(const Failure& f) {
    ring_[count_ % capacity] = f;
    ++count_;
}

void ErrorLog::fill(std::span<std::byte, page_size> out) const {
    const uint64_t n = count_ < capacity ? count_ : capacity;
    for (uint64_t i = 0; i < n; ++i) {
        const uint64_t number = count_ - i; // Error Count of this entry (1-based)
        const Failure& f = ring_[(number - 1) % capacity];
        const auto at = static_cast<size_t>(i * entry_size);
        std::span<std::byte> e = std::span<std::byte>(out).subspan(at, entry_size);
        put_le<uint64_t>(e, 0, number);
        put_le<uint16_t>(e, 8, f.sqid);
        put_le<uint16_t>(e, 10, f.cid);
        put_le<uint16_t>(e, 12, static_cast<uint16_t>(f.status.field << 1 | (f.phase ? 1 : 0)));
        put_le<uint16_t>(e, 14, 0xffff); // Parameter Error Location: not given
        put_le<uint64_t>(e, 16, f.lba);
        put_le<uint32_t>(e, 24, f.nsid);
    }
}

} // namespace pciem::nvme
