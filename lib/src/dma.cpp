// SPDX-License-Identifier: MIT
#include "pciem/dma.hpp"

#include <algorithm>

namespace pciem {

const char* dma_fault_name(DmaFaultKind kind) {
    switch (kind) {
    case DmaFaultKind::bus_master_off:
        return "bus mastering disabled";
    case DmaFaultKind::unmapped:
        return "address not mapped";
    case DmaFaultKind::stale:
        return "mapping already unmapped";
    case DmaFaultKind::bounds:
        return "past the end of the mapping";
    case DmaFaultKind::direction:
        return "wrong direction";
    case DmaFaultKind::alignment:
        return "misaligned atomic";
    case DmaFaultKind::no_host:
        return "no host";
    }
    return "unknown";
}

std::span<std::byte> Dma::direct(uint64_t address, size_t len) {
    const std::span<std::byte> w = window();
    const uint64_t base = window_base();
    if (w.empty() || address < base || address - base > w.size() ||
        len > w.size() - (address - base)) {
        return {};
    }
    return w.subspan(address - base, len);
}

DmaResult<void> Dma::read_sg(std::span<const DmaSegment> sg, std::span<std::byte> out) {
    for (const DmaSegment& seg : sg) {
        if (out.empty()) {
            break;
        }
        const size_t n = static_cast<size_t>(std::min<uint64_t>(seg.length, out.size()));
        if (auto ok = read(seg.address, out.first(n)); !ok) {
            return ok;
        }
        out = out.subspan(n);
    }
    if (!out.empty()) {
        return std::unexpected(DmaFault{DmaFaultKind::bounds, 0,
                                        "scatter-gather list shorter than the transfer"});
    }
    return {};
}

DmaResult<void> Dma::write_sg(std::span<const DmaSegment> sg, std::span<const std::byte> in) {
    for (const DmaSegment& seg : sg) {
        if (in.empty()) {
            break;
        }
        const size_t n = static_cast<size_t>(std::min<uint64_t>(seg.length, in.size()));
        if (auto ok = write(seg.address, in.first(n)); !ok) {
            return ok;
        }
        in = in.subspan(n);
    }
    if (!in.empty()) {
        return std::unexpected(DmaFault{DmaFaultKind::bounds, 0,
                                        "scatter-gather list shorter than the transfer"});
    }
    return {};
}

} // namespace pciem
