// SPDX-License-Identifier: MIT
#include "pciem/kernel_dma.hpp"

#include <cerrno>
#include <cstring>

#include <sys/ioctl.h>

#include <fmt/format.h>

namespace pciem {

namespace {

DmaFaultKind kind_of(uint32_t fault) {
    switch (fault) {
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
    default:
        return DmaFaultKind::unmapped;
    }
}

const char* op_name(uint32_t op) {
    switch (op) {
    case PCIEM_DMA_READ:
        return "read";
    case PCIEM_DMA_WRITE:
        return "write";
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
    pciem_dma_req req{};
    req.size = sizeof(req);
    req.xfers_ptr = reinterpret_cast<uint64_t>(&x);
    req.count = 1;
    req.xfer_size = sizeof(x);
    if (::ioctl(fd_, PCIEM_IOC_DMA, &req) < 0) {
        const int err = errno;
        return std::unexpected(DmaFault{
            DmaFaultKind::no_host, x.addr,
            fmt::format("DMA {} of {} bytes at {:#x} failed: {}", op_name(x.op), x.len, x.addr,
                        std::strerror(err))});
    }
    if (x.fault != PCIEM_DMA_OK) {
        const DmaFaultKind kind = kind_of(x.fault);
        return std::unexpected(
            DmaFault{kind, x.fault_addr,
                     fmt::format("DMA {} of {} bytes at {:#x}: {} at {:#x}", op_name(x.op), x.len,
                                 x.addr, dma_fault_name(kind), x.fault_addr)});
    }
    return x.result;
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

} // namespace pciem
