// SPDX-License-Identifier: MIT
#include "dma_engine_model.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include <rtl_dma_regs.h>

#include "dma_engine_spec.hpp"

namespace pciem::devices {

namespace {

template <class T>
T le(std::span<const std::byte> bytes, size_t at) {
    T v{};
    std::memcpy(&v, bytes.data() + at, sizeof(v));
    return v;
}

} // namespace

DmaEngineModel::DmaEngineModel(uint16_t device_id) : device_id_(device_id) {
    RegisterMap& regs = declare_bar(0, "dma-engine BAR0", RTL_DMA_BAR0_SIZE);
    regs.reg32(RTL_DMA_ID, "ID").ro(RTL_DMA_ID_VALUE);
    regs.reg32(RTL_DMA_VERSION, "VERSION").ro(0x00010000);
    ctrl_ = &regs.reg32(RTL_DMA_CTRL, "CTRL").rw().on_write([this](uint64_t, uint64_t now) {
        ctrl_->set(now & (RTL_DMA_CTRL_ENABLE | RTL_DMA_CTRL_IRQ_EN)); // RESET reads 0
        if ((now & RTL_DMA_CTRL_RESET) != 0) {
            reset();
        }
        run();
    });
    regs.reg32(RTL_DMA_STATUS, "STATUS").ro([this] {
        return uint64_t{halted_ ? RTL_DMA_STATUS_HALTED : 0u};
    });
    ring_lo_ = &regs.reg32(RTL_DMA_RING_LO, "RING_LO").rw();
    ring_hi_ = &regs.reg32(RTL_DMA_RING_HI, "RING_HI").rw();
    ring_order_ =
        &regs.reg32(RTL_DMA_RING_ORDER, "RING_ORDER").rw().on_write([this](uint64_t, uint64_t now) {
            ring_order_->set(std::min<uint64_t>(now & 0xf, RTL_DMA_MAX_ORDER));
        });
    tail_ = &regs.reg32(RTL_DMA_TAIL, "TAIL").rw().on_write([this](uint64_t, uint64_t now) {
        tail_->set(now & 0xfff);
        run();
    });
    head_ = &regs.reg32(RTL_DMA_HEAD, "HEAD").ro();
    irq_status_ = &regs.reg32(RTL_DMA_IRQ_STATUS, "IRQ_STATUS").w1c();
    completed_ = &regs.reg32(RTL_DMA_COMPLETED, "COMPLETED").ro();
    error_ = &regs.reg32(RTL_DMA_ERROR, "ERROR").ro();
    regs.reg32(RTL_DMA_SCRATCH, "SCRATCH").rw();
    regs.reg32(RTL_DMA_CYCLES, "CYCLES").ro(0);
    // The RTL answers DECERR there, which reads as all-ones.
    regs.unmapped({.read = UnmappedPolicy::Read::ones});
}

DeviceSpec DmaEngineModel::spec() const {
    return dma_engine_spec(device_id_);
}

uint32_t DmaEngineModel::mask() const {
    return (1u << ring_order_->value()) - 1;
}

void DmaEngineModel::reset() {
    head_->set(0);
    completed_->set(0);
    error_->set(0);
    halted_ = false;
}

void DmaEngineModel::run() {
    const uint64_t ring = ring_hi_->value() << 32 | ring_lo_->value();
    while ((ctrl_->value() & RTL_DMA_CTRL_ENABLE) != 0 && !halted_ &&
           (head_->value() & mask()) != (tail_->value() & mask())) {
        const uint64_t desc = ring + head_->value() * RTL_DMA_DESC_SIZE;
        const uint32_t status = execute(desc);
        std::array<std::byte, 4> word{};
        std::memcpy(word.data(), &status, sizeof(status));
        const bool written = dma().write(desc + RTL_DMA_D_STATUS, word).has_value();
        if (!written && error_->value() == 0) {
            error_->set(RTL_DMA_E_STATUS);
        }
        const bool irq_en = (ctrl_->value() & RTL_DMA_CTRL_IRQ_EN) != 0;
        if (!written || status != RTL_DMA_ST_DONE) {
            halted_ = true; // HEAD stays on the failed descriptor
            irq_status_->set_bits(RTL_DMA_IRQ_ERROR);
            if (irq_en) {
                (void)irq().raise(RTL_DMA_VEC_ERROR);
            }
            return;
        }
        head_->set((head_->value() + 1) & mask());
        completed_->set(completed_->value() + 1);
        if ((last_ctrl_ & RTL_DMA_D_IRQ) != 0) {
            irq_status_->set_bits(RTL_DMA_IRQ_DONE);
            if (irq_en) {
                (void)irq().raise(RTL_DMA_VEC_DONE);
            }
        }
    }
}

uint32_t DmaEngineModel::execute(uint64_t desc) {
    auto fail = [this](uint32_t code) {
        if (error_->value() == 0) {
            error_->set(code);
        }
        return RTL_DMA_ST_ERROR | code;
    };
    std::array<std::byte, RTL_DMA_DESC_SIZE> d{};
    if (!dma().read(desc, d)) {
        return fail(RTL_DMA_E_FETCH);
    }
    last_ctrl_ = le<uint32_t>(d, RTL_DMA_D_CTRL);
    const uint32_t op = last_ctrl_ & 0xff;
    const auto len = le<uint32_t>(d, RTL_DMA_D_LEN);
    const auto src = le<uint64_t>(d, RTL_DMA_D_SRC);
    const auto dst = le<uint64_t>(d, RTL_DMA_D_DST);
    if (op != RTL_DMA_OP_COPY && op != RTL_DMA_OP_FILL) {
        return fail(RTL_DMA_E_OPCODE);
    }
    if (len == 0 || len > RTL_DMA_MAX_LEN) {
        return fail(RTL_DMA_E_LENGTH);
    }
    // Chunk by chunk, as the RTL does, so a fault half-way leaves the same
    // bytes behind.
    for (uint32_t done = 0; done < len;) {
        const uint32_t n = std::min<uint32_t>(RTL_DMA_CHUNK, len - done);
        chunk_.resize(n);
        if (op == RTL_DMA_OP_COPY) {
            if (!dma().read(src + done, chunk_)) {
                return fail(RTL_DMA_E_SRC);
            }
        } else {
            for (uint32_t i = 0; i < n; ++i) {
                chunk_[i] = static_cast<std::byte>(src >> (8 * ((done + i) % 8)));
            }
        }
        if (!dma().write(dst + done, chunk_)) {
            return fail(RTL_DMA_E_DST);
        }
        done += n;
    }
    return RTL_DMA_ST_DONE;
}

} // namespace pciem::devices
