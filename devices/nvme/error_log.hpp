// SPDX-License-Identifier: MIT
//
// The Error Information log (log page 01h): the last few failed
// commands, newest first, each with the running error count, the queue
// and command it came from, its status and, for block commands, the LBA.
// nvme-cli's error-log shows it; SMART reports the total count.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "nvme_spec.hpp"

namespace pciem::nvme {

class ErrorLog {
public:
    static constexpr size_t capacity = 16; // Identify ELPE + 1
    static constexpr size_t entry_size = 64;
    static constexpr size_t page_size = capacity * entry_size;

    struct Failure {
        uint16_t sqid = 0;
        uint16_t cid = 0;
        Status status;
        bool phase = false; // the phase tag of the completion that reported it
        uint32_t nsid = 0;
        uint64_t lba = 0;
    };

    void record(const Failure& f);
    // The page: capacity entries, newest first; unused ones are zero
    // (Error Count 0 means "no entry").
    void fill(std::span<std::byte, page_size> out) const;
    [[nodiscard]] uint64_t count() const { return count_; }

private:
    std::array<Failure, capacity> ring_{};
    uint64_t count_ = 0; // entries ever recorded; ring_[(count_ - 1) % capacity] is newest
};

} // namespace pciem::nvme
