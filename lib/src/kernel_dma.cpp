// SPDX-License-Identifier: MIT
#include "kernel_dma.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include <sys/ioctl.h>

#include <fmt/format.h>

#include "kernel_interrupts.hpp"

namespace pciem {

namespace {

// Transfers the kernel takes in one PCIEM_IOC_DMA.
constexpr size_t max_batch = 256;

const char* op_name(uint32_t op) {
    switch (op) {
    case PCIEM_DMA_READ:
        return "read";
    case PCIEM_DMA_WRITE:
        return "write";
    case PCIEM_DMA_RAISE:
        return "raise";
    default:
        return "atomic";
    }
}

pciem_dma_xfer transfer(uint32_t op, uint64_t address, uint64_t len, const void* buf) {
    pciem_dma_xfer x{};
    x.op = op;
    x.len = static_cast<uint32_t>(len);
    x.addr = address;
    x.buf = reinterpret_cast<uint64_t>(buf);
    return x;
}

} // namespace

DmaResult<uint64_t> KernelDma::run(pciem_dma_xfer& x) {
    return run_batch(std::span(&x, 1));
}

DmaResult<uint64_t> KernelDma::run_batch(std::span<pciem_dma_xfer> xs, size_t* refused) {
    pciem_dma_req req{};
    req.size = sizeof(req);
    req.xfers_ptr = reinterpret_cast<uint64_t>(xs.data());
    req.count = static_cast<uint32_t>(xs.size());
    req.xfer_size = sizeof(pciem_dma_xfer);
    if (::ioctl(fd_, PCIEM_IOC_DMA, &req) < 0) {
        const int err = errno;
        if (refused != nullptr) {
            *refused = 0; // which is not known: the batch's first
        }
        const pciem_dma_xfer& x = xs.front();
        return std::unexpected(
            DmaFault{DmaFaultKind::no_host, x.addr,
                     fmt::format("DMA {} of {} bytes at {:#x} failed: {}", op_name(x.op), x.len,
                                 x.addr, std::strerror(err))});
    }
    if (req.done < xs.size()) {
        if (refused != nullptr) {
            *refused = req.done;
        }
        const pciem_dma_xfer& x = xs[req.done];
        const DmaFaultKind kind = dma_fault_kind(x.fault);
        return std::unexpected(
            DmaFault{kind, x.fault_addr,
                     fmt::format("DMA {} of {} bytes at {:#x}: {} at {:#x}", op_name(x.op), x.len,
                                 x.addr, dma_fault_name(kind), x.fault_addr)});
    }
    return xs.back().result;
}

DmaResult<void> KernelDma::moved(uint32_t op, uint64_t address, std::byte* buf, size_t len) {
    // The kernel moves at most PCIEM_DMA_MAX_LEN bytes per transfer.
    for (size_t done = 0; done < len;) {
        const size_t n = std::min<size_t>(len - done, PCIEM_DMA_MAX_LEN);
        auto x = transfer(op, address + done, n, buf + done);
        if (auto r = run(x); !r) {
            return std::unexpected(r.error());
        }
        done += n;
    }
    return {};
}

DmaResult<void> KernelDma::moved_sg(uint32_t op, std::span<const DmaSegment> sg, std::byte* buf,
                                    size_t len) {
    // The kernel takes at most 256 transfers per call, each at most
    // PCIEM_DMA_MAX_LEN bytes: a longer segment becomes several.
    // Not value-initialised: zeroing its 16 KiB on every call cost more
    // under TCG than the 4 KiB transfer it carries (each entry used is
    // assigned whole by transfer()).
    std::array<pciem_dma_xfer, max_batch> xs;
    size_t done = 0;
    uint64_t in_seg = 0; // bytes of *seg already sent
    auto seg = sg.begin();
    while (done < len) {
        size_t n = 0;
        while (n < max_batch && done < len && seg != sg.end()) {
            const size_t piece =
                std::min<size_t>({seg->length - in_seg, len - done, size_t{PCIEM_DMA_MAX_LEN}});
            if (piece > 0) {
                xs[n++] = transfer(op, seg->address + in_seg, piece, buf + done);
                done += piece;
                in_seg += piece;
            }
            if (in_seg == seg->length) {
                ++seg;
                in_seg = 0;
            }
        }
        if (n == 0) {
            return std::unexpected(
                DmaFault{DmaFaultKind::bounds, 0, "scatter-gather list shorter than the transfer"});
        }
        if (auto r = run_batch(std::span(xs).first(n)); !r) {
            return std::unexpected(r.error());
        }
    }
    return {};
}

DmaResult<void> KernelDma::read_sg(std::span<const DmaSegment> sg, std::span<std::byte> out) {
    return moved_sg(PCIEM_DMA_READ, sg, out.data(), out.size());
}

DmaResult<void> KernelDma::write_sg(std::span<const DmaSegment> sg, std::span<const std::byte> in) {
    // The kernel only reads from buf for a write.
    return moved_sg(PCIEM_DMA_WRITE, sg, const_cast<std::byte*>(in.data()), in.size());
}

DmaResult<void> KernelDma::read(uint64_t address, std::span<std::byte> out) {
    return moved(PCIEM_DMA_READ, address, out.data(), out.size());
}

DmaResult<void> KernelDma::write(uint64_t address, std::span<const std::byte> in) {
    // The kernel only reads from buf for a write.
    return moved(PCIEM_DMA_WRITE, address, const_cast<std::byte*>(in.data()), in.size());
}

DmaResult<uint64_t> KernelDma::fetch_add(uint64_t address, uint64_t addend, unsigned size) {
    auto x = transfer(PCIEM_DMA_FETCH_ADD, address, size, nullptr);
    x.operand = addend;
    return run(x);
}

DmaResult<uint64_t> KernelDma::swap(uint64_t address, uint64_t value, unsigned size) {
    auto x = transfer(PCIEM_DMA_SWAP, address, size, nullptr);
    x.operand = value;
    return run(x);
}

DmaResult<uint64_t> KernelDma::compare_swap(uint64_t address, uint64_t expected, uint64_t desired,
                                            unsigned size) {
    auto x = transfer(PCIEM_DMA_CAS, address, size, nullptr);
    x.operand = desired;
    x.compare = expected;
    return run(x);
}

WriteThenRaise KernelDma::write_then_raise(std::span<const DmaWrite> writes,
                                           std::optional<unsigned> vector, Interrupts& irq) {
    const bool all_in_window = std::ranges::all_of(writes, [this](const DmaWrite& w) {
        return all_direct(w.sg, w.data.size(), DmaAccess::write);
    });
    if (&irq != raise_irq_ || all_in_window) {
        // Straight into the window needs no system call but the raise.
        return Dma::write_then_raise(writes, vector, irq);
    }
    // Transfers of up to 256 per call, each tagged with its write; the
    // raise goes in the last call, after them.
    std::array<pciem_dma_xfer, max_batch> xs; // each entry used is assigned whole
    std::array<uint32_t, max_batch> of_write;
    size_t n = 0;
    WriteThenRaise r;
    // Runs xs[0, n): on a refusal, r says which write it stopped.
    auto flush = [&]() -> bool {
        size_t refused = 0;
        if (auto ok = run_batch(std::span(xs).first(n), &refused); !ok) {
            r.written = of_write[refused];
            r.fault = std::move(ok.error());
            return false;
        }
        n = 0;
        return true;
    };
    for (uint32_t i = 0; i < writes.size(); ++i) {
        std::span<const std::byte> data = writes[i].data;
        for (const DmaSegment& seg : writes[i].sg) {
            for (uint64_t at = 0; at < seg.length && !data.empty();) {
                if (n == max_batch && !flush()) {
                    return r;
                }
                const size_t piece =
                    std::min<size_t>({seg.length - at, data.size(), size_t{PCIEM_DMA_MAX_LEN}});
                // The kernel only reads from buf for a write.
                xs[n] = transfer(PCIEM_DMA_WRITE, seg.address + at, piece,
                                 const_cast<std::byte*>(data.data()));
                of_write[n++] = i;
                data = data.subspan(piece);
                at += piece;
            }
        }
        if (!data.empty()) {
            if (n > 0 && !flush()) {
                return r;
            }
            r.written = i;
            r.fault =
                DmaFault{DmaFaultKind::bounds, 0, "scatter-gather list shorter than the transfer"};
            return r;
        }
    }
    size_t raise_at = max_batch;
    if (vector) {
        if (n == max_batch && !flush()) {
            return r;
        }
        raise_at = n;
        xs[n] = transfer(PCIEM_DMA_RAISE, 0, 0, nullptr);
        xs[n].operand = *vector;
        of_write[n++] = static_cast<uint32_t>(writes.size());
    }
    if (n > 0 && !flush()) {
        return r;
    }
    r.written = writes.size();
    if (vector) {
        // 0, or the negative errno PCIEM_IOC_RAISE would have returned.
        r.raised =
            raise_outcome(-static_cast<int>(static_cast<int64_t>(xs[raise_at].result)), *vector);
    }
    return r;
}

static_assert(static_cast<uint8_t>(DmaAccess::read) == PCIEM_DMA_PERM_READ &&
              static_cast<uint8_t>(DmaAccess::write) == PCIEM_DMA_PERM_WRITE);

bool KernelDma::window_allows(uint64_t address, size_t len, DmaAccess access) const {
    if (perm_ == nullptr) {
        return true;
    }
    // The kernel updates these as the driver maps, unmaps and programs
    // the command register; a stale byte is at worst one access early or
    // late, as with a device racing its driver.
    if (__atomic_load_n(&perm_->bus_master, __ATOMIC_RELAXED) == 0) {
        return false;
    }
    if (len == 0) {
        return true;
    }
    const auto* pages = reinterpret_cast<const uint8_t*>(perm_ + 1);
    const uint64_t first = (address - window_base_) / 4096;
    const uint64_t last = (address - window_base_ + len - 1) / 4096;
    const auto need = static_cast<uint8_t>(access);
    for (uint64_t p = first; p <= last; ++p) {
        if (p >= perm_->pages || (__atomic_load_n(&pages[p], __ATOMIC_RELAXED) & need) != need) {
            return false;
        }
    }
    return true;
}

} // namespace pciem
