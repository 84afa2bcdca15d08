// SPDX-License-Identifier: MIT
#include "pciem/dma.hpp"

#include <algorithm>
#include <cstring>

#include "pciem/interrupts.hpp"

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
    case DmaFaultKind::injected:
        return "refused by an injected fault";
    }
    return "unknown";
}

DmaFaultKind dma_fault_kind(uint32_t abi_fault) {
    switch (abi_fault) {
    case PCIEM_DMA_F_BUS_MASTER:
        return DmaFaultKind::bus_master_off;
    case PCIEM_DMA_F_STALE:
        return DmaFaultKind::stale;
    case PCIEM_DMA_F_BOUNDS:
        return DmaFaultKind::bounds;
    case PCIEM_DMA_F_DIRECTION:
        return DmaFaultKind::direction;
    case PCIEM_DMA_F_ALIGNMENT:
        return DmaFaultKind::alignment;
    case PCIEM_DMA_F_INJECTED:
        return DmaFaultKind::injected;
    default:
        return DmaFaultKind::unmapped;
    }
}

std::span<std::byte> Dma::direct(uint64_t address, size_t len, DmaAccess access) {
    const std::span<std::byte> w = window();
    const uint64_t base = window_base();
    if (w.empty() || address < base || address - base > w.size() ||
        len > w.size() - (address - base) || !window_allows(address, len, access)) {
        return {};
    }
    return w.subspan(address - base, len);
}

DmaResult<void> Dma::fast_read(uint64_t address, std::span<std::byte> out) {
    if (auto w = direct(address, out.size(), DmaAccess::read); !w.empty()) {
        std::memcpy(out.data(), w.data(), out.size());
        return {};
    }
    return read(address, out);
}

DmaResult<void> Dma::fast_write(uint64_t address, std::span<const std::byte> in) {
    if (auto w = direct(address, in.size(), DmaAccess::write); !w.empty()) {
        std::memcpy(w.data(), in.data(), in.size());
        return {};
    }
    return write(address, in);
}

namespace {

// The segments in order as one transfer of bytes.size() bytes, each piece
// moved by `move(address, piece)`.
template <class Bytes, class Move>
DmaResult<void> walk_sg(std::span<const DmaSegment> sg, Bytes bytes, Move move) {
    for (const DmaSegment& seg : sg) {
        if (bytes.empty()) {
            break;
        }
        const size_t n = static_cast<size_t>(std::min<uint64_t>(seg.length, bytes.size()));
        if (auto ok = move(seg.address, bytes.first(n)); !ok) {
            return ok;
        }
        bytes = bytes.subspan(n);
    }
    if (!bytes.empty()) {
        return std::unexpected(DmaFault{DmaFaultKind::bounds, 0,
                                        "scatter-gather list shorter than the transfer"});
    }
    return {};
}

} // namespace

DmaResult<void> Dma::read_sg(std::span<const DmaSegment> sg, std::span<std::byte> out) {
    return walk_sg(sg, out, [this](uint64_t a, std::span<std::byte> b) { return read(a, b); });
}

DmaResult<void> Dma::write_sg(std::span<const DmaSegment> sg, std::span<const std::byte> in) {
    return walk_sg(sg, in,
                   [this](uint64_t a, std::span<const std::byte> b) { return write(a, b); });
}

// Whether the first `bytes` bytes of the list all lie in the window.
bool Dma::all_direct(std::span<const DmaSegment> sg, size_t bytes, DmaAccess access) {
    if (window().empty()) {
        return false;
    }
    for (const DmaSegment& seg : sg) {
        if (bytes == 0) {
            break;
        }
        const size_t n = static_cast<size_t>(std::min<uint64_t>(seg.length, bytes));
        if (direct(seg.address, n, access).empty()) {
            return false;
        }
        bytes -= n;
    }
    return bytes == 0;
}

DmaResult<void> Dma::fast_read_sg(std::span<const DmaSegment> sg, std::span<std::byte> out) {
    if (!all_direct(sg, out.size(), DmaAccess::read)) {
        return read_sg(sg, out);
    }
    return walk_sg(sg, out,
                   [this](uint64_t a, std::span<std::byte> b) { return fast_read(a, b); });
}

DmaResult<void> Dma::fast_write_sg(std::span<const DmaSegment> sg, std::span<const std::byte> in) {
    if (!all_direct(sg, in.size(), DmaAccess::write)) {
        return write_sg(sg, in);
    }
    return walk_sg(sg, in,
                   [this](uint64_t a, std::span<const std::byte> b) { return fast_write(a, b); });
}

WriteThenRaise Dma::write_then_raise(std::span<const DmaWrite> writes,
                                     std::optional<unsigned> vector, Interrupts& irq) {
    WriteThenRaise r;
    for (const DmaWrite& w : writes) {
        if (auto ok = fast_write_sg(w.sg, w.data); !ok) {
            r.fault = std::move(ok.error());
            return r;
        }
        ++r.written;
    }
    if (vector) {
        r.raised = irq.raise(*vector);
    }
    return r;
}

} // namespace pciem
