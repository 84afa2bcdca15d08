// SPDX-License-Identifier: MIT
//
// The test device's DMA engine (TESTDEV_DMA_* in testdev_regs.h): copy,
// fill, checksum and PCIe atomics through dma(), run synchronously in
// the write of DMA_CMD so a later read of DMA_STATUS sees the outcome.
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include <testdev_regs.h>

#include "testdev.hpp"

namespace pciem::devices {

namespace {

uint32_t status_of(const DmaFault& f) {
    switch (f.kind) {
    case DmaFaultKind::bus_master_off:
        return TESTDEV_DMA_ST_BUS_MASTER;
    case DmaFaultKind::unmapped:
        return TESTDEV_DMA_ST_UNMAPPED;
    case DmaFaultKind::stale:
        return TESTDEV_DMA_ST_STALE;
    case DmaFaultKind::bounds:
        return TESTDEV_DMA_ST_BOUNDS;
    case DmaFaultKind::direction:
        return TESTDEV_DMA_ST_DIRECTION;
    case DmaFaultKind::alignment:
        return TESTDEV_DMA_ST_ALIGNMENT;
    case DmaFaultKind::injected:
        return TESTDEV_DMA_ST_INJECTED;
    case DmaFaultKind::no_host:
        break;
    }
    return TESTDEV_DMA_ST_NO_HOST;
}

uint64_t fnv1a(std::span<const std::byte> bytes) {
    uint64_t h = TESTDEV_FNV_OFFSET;
    for (std::byte b : bytes) {
        h = (h ^ static_cast<uint8_t>(b)) * TESTDEV_FNV_PRIME;
    }
    return h;
}

} // namespace

void TestDev::declare_dma(RegisterMap& regs) {
    dma_src_ = &regs.reg64(TESTDEV_DMA_SRC, "DMA_SRC").rw();
    dma_dst_ = &regs.reg64(TESTDEV_DMA_DST, "DMA_DST").rw();
    dma_len_ = &regs.reg32(TESTDEV_DMA_LEN, "DMA_LEN").rw();
    dma_seed_ = &regs.reg32(TESTDEV_DMA_SEED, "DMA_SEED").rw();
    dma_operand_ = &regs.reg64(TESTDEV_DMA_OPERAND, "DMA_OPERAND").rw();
    dma_compare_ = &regs.reg64(TESTDEV_DMA_COMPARE, "DMA_COMPARE").rw();
    dma_count_ = &regs.reg32(TESTDEV_DMA_COUNT, "DMA_COUNT").rw();
    dma_direct_ = &regs.reg32(TESTDEV_DMA_DIRECT, "DMA_DIRECT").rw();
    dma_pace_us_ = &regs.reg32(TESTDEV_DMA_PACE_US, "DMA_PACE_US").rw();
    regs.reg32(TESTDEV_DMA_DIRECT_HITS, "DMA_DIRECT_HITS").ro().on_read([this](uint64_t) {
        return std::optional<uint64_t>{direct_hits_};
    });
    regs.reg32(TESTDEV_DMA_CMD, "DMA_CMD").wo().on_write([this](uint64_t, uint64_t cmd) {
        dma_command(static_cast<uint32_t>(cmd));
    });
    dma_status_ = &regs.reg32(TESTDEV_DMA_STATUS, "DMA_STATUS").ro(0);
    dma_result_ = &regs.reg64(TESTDEV_DMA_RESULT, "DMA_RESULT").ro(0);
    dma_fault_addr_ = &regs.reg64(TESTDEV_DMA_FAULT_ADDR, "DMA_FAULT_ADDR").ro(0);
}

// Host memory into buf: straight from the zero-copy window when allowed
// and the bytes lie in it, else through the checked path.
DmaResult<void> TestDev::dma_in(uint64_t address, std::span<std::byte> buf) {
    if (dma_direct_->value() == 1) {
        if (auto w = dma().direct(address, buf.size(), DmaAccess::read); !w.empty()) {
            std::memcpy(buf.data(), w.data(), buf.size());
            ++direct_hits_;
            return {};
        }
    }
    return dma().read(address, buf);
}

DmaResult<void> TestDev::dma_out(uint64_t address, std::span<const std::byte> buf) {
    if (dma_direct_->value() == 1) {
        if (auto w = dma().direct(address, buf.size(), DmaAccess::write); !w.empty()) {
            std::memcpy(w.data(), buf.data(), buf.size());
            ++direct_hits_;
            return {};
        }
    }
    const uint64_t pace = dma_pace_us_->value();
    if (pace == 0) {
        return dma().write(address, buf);
    }
    // Paced: the driver's unmap lands between pieces, not after the last.
    constexpr size_t piece = 64 * 1024;
    for (size_t off = 0; off < buf.size(); off += piece) {
        auto r = dma().write(address + off, buf.subspan(off, std::min(piece, buf.size() - off)));
        if (!r) {
            return r;
        }
        std::this_thread::sleep_for(std::chrono::microseconds(pace));
    }
    return {};
}

void TestDev::dma_command(uint32_t cmd) {
    const uint64_t src = dma_src_->value();
    const uint64_t dst = dma_dst_->value();
    const auto len = static_cast<uint32_t>(dma_len_->value());
    DmaResult<uint64_t> r = 0;
    auto done = [](DmaResult<void> ok) -> DmaResult<uint64_t> {
        if (!ok) {
            return std::unexpected(ok.error());
        }
        return 0;
    };
    const bool bulk = cmd <= TESTDEV_DMA_CMD_CSUM || cmd >= TESTDEV_DMA_CMD_READ;
    if (bulk && len > TESTDEV_DMA_MAX) {
        dma_status_->set(TESTDEV_DMA_ST_BAD_CMD);
        return;
    }
    dma_buf_.resize(std::max<size_t>(dma_buf_.size(), len));
    const std::span<std::byte> buf(dma_buf_.data(), len);
    switch (cmd) {
    case TESTDEV_DMA_CMD_COPY:
        r = done(dma_in(src, buf));
        if (r) {
            r = done(dma_out(dst, buf));
        }
        break;
    case TESTDEV_DMA_CMD_READ:
        r = done(dma_in(src, buf));
        break;
    case TESTDEV_DMA_CMD_WRITE:
        r = done(dma_out(dst, buf));
        break;
    case TESTDEV_DMA_CMD_FILL: {
        const auto seed = static_cast<uint32_t>(dma_seed_->value());
        for (uint32_t i = 0; i < len; ++i) {
            buf[i] = std::byte{testdev_dma_pattern(seed, i)};
        }
        r = done(dma_out(dst, buf));
        break;
    }
    case TESTDEV_DMA_CMD_CSUM:
        r = done(dma_in(src, buf));
        if (r) {
            r = fnv1a(buf);
        }
        break;
    case TESTDEV_DMA_CMD_FETCH_ADD: {
        const uint64_t n = std::max<uint64_t>(dma_count_->value(), 1);
        for (uint64_t i = 0; i < n && r; ++i) {
            r = dma().fetch_add(dst, dma_operand_->value(), len);
        }
        break;
    }
    case TESTDEV_DMA_CMD_SWAP:
        r = dma().swap(dst, dma_operand_->value(), len);
        break;
    case TESTDEV_DMA_CMD_CAS:
        r = dma().compare_swap(dst, dma_compare_->value(), dma_operand_->value(), len);
        break;
    default:
        dma_status_->set(TESTDEV_DMA_ST_BAD_CMD);
        return;
    }
    if (r) {
        dma_status_->set(TESTDEV_DMA_ST_OK);
        dma_result_->set(*r);
        dma_fault_addr_->set(0);
    } else {
        dma_status_->set(status_of(r.error()));
        dma_fault_addr_->set(r.error().address);
    }
}

} // namespace pciem::devices
