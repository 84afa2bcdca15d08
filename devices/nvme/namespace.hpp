// SPDX-License-Identifier: MIT
//
// One NVM namespace: its identifier, LBA format and the backing its
// blocks live in.
#pragma once

#include <cstdint>
#include <memory>

#include "backing.hpp"

namespace pciem::nvme {

struct Namespace {
    uint32_t nsid = 1;
    unsigned lba_shift = 9; // 512-byte blocks (12: 4096)
    std::unique_ptr<Backing> backing;

    [[nodiscard]] uint64_t blocks() const { return backing->size() >> lba_shift; }
    [[nodiscard]] uint64_t block_size() const { return uint64_t{1} << lba_shift; }
    // Whether [slba, slba + nlb) lies in the namespace (no overflow).
    [[nodiscard]] bool in_range(uint64_t slba, uint64_t nlb) const {
        return slba <= blocks() && nlb <= blocks() - slba;
    }
};

} // namespace pciem::nvme
