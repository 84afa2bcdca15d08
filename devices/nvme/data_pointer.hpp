// SPDX-License-Identifier: MIT
//
// A command's data pointer (PRP1/PRP2 with PRP lists, or SGL1 with SGL
// segments) resolved into the bus-address runs of host memory it names.
// Adjacent pages are merged, so a buffer that is contiguous in bus
// address space becomes one run and moves with one dma() call.
//
// Lists are read from host memory through dma(): a fault there is a Data
// Transfer Error, like a fault on the data itself. `runs` is the
// caller's reusable vector (cleared here): no allocation per command once
// it has grown.
#pragma once

#include <cstdint>
#include <vector>

#include "nvme_spec.hpp"
#include "pciem/dma.hpp"

namespace pciem::nvme {

// PRP1/PRP2 for `length` bytes with memory pages of `page_size` bytes
// (CC.MPS).
Status resolve_prps(Dma& dma, uint64_t prp1, uint64_t prp2, uint64_t length, uint64_t page_size,
                    std::vector<DmaSegment>& runs);

// SGL1 (the 16 bytes of the command's DPTR) for exactly `length` bytes.
// Supported: Data Block, Segment and Last Segment descriptors with
// addresses (subtype 0).
Status resolve_sgl(Dma& dma, uint64_t dptr1, uint64_t dptr2, uint64_t length,
                   std::vector<DmaSegment>& runs);

// Whichever the command's PSDT selects. SGLs only where allowed (I/O
// commands); PSDT 11b is reserved.
Status resolve_data_pointer(Dma& dma, const Sqe& cmd, uint64_t length, uint64_t page_size,
                            bool sgl_allowed, std::vector<DmaSegment>& runs);

} // namespace pciem::nvme
