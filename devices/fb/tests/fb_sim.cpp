// SPDX-License-Identifier: MIT
#include "fb_sim.hpp"

#include <cstring>
#include <thread>

#include <gtest/gtest.h>

namespace fbtest {

namespace {
constexpr uint16_t command_reg = 0x04;
constexpr uint16_t bus_master_and_memory = 0x0006;
} // namespace

FbSim::FbSim(FbOptions options) : options_(options) {
    model_ = std::make_unique<FbDevice>(options_);
    auto h = pciem::SimHost::create(*model_);
    if (!h) {
        ADD_FAILURE() << h.error().message;
        std::abort();
    }
    host_ = std::move(*h);
    host_->cfg_write(command_reg, 2, bus_master_and_memory);
}

FbSim::~FbSim() {
    host_.reset(); // on_stop: the engines' threads end before the model goes
}

void FbSim::enable_msix() {
    const uint16_t msix = host_->config().layout.msix;
    host_->cfg_write(msix + 2, 2, 0x8000);
    for (unsigned v = 0; v < PFB_MSIX_VECTORS; ++v) {
        host_->write32(PFB_MSIX_BAR, 16 * v + 12, 0);
    }
    set(PFB_IRQ_MASK, PFB_IRQ_ALL);
}

void FbSim::show(uint32_t width, uint32_t height, uint32_t stride, uint32_t format) {
    set(PFB_WIDTH, width);
    set(PFB_HEIGHT, height);
    set(PFB_STRIDE, stride);
    set(PFB_FORMAT, format);
    set(PFB_SCANOUT_OFFSET, 0);
    set(PFB_DISPLAY_CTRL, PFB_DISPLAY_ENABLE);
}

void FbSim::setup_ring(uint32_t size) {
    ring_ = host_->dma().alloc_coherent(size);
    ring_size_ = size;
    tail_ = 0;
    host_->write64(PFB_REG_BAR, PFB_RING_BASE, ring_);
    set(PFB_RING_SIZE, size);
    set(PFB_RING_CTRL, PFB_RING_ENABLE);
}

void FbSim::submit(std::span<const pfb_cmd> cmds) {
    auto ring = host_->dma().coherent(ring_);
    for (const pfb_cmd& c : cmds) {
        std::memcpy(ring.data() + tail_, &c, sizeof(c));
        tail_ = (tail_ + PFB_CMD_SIZE) % ring_size_;
    }
    set(PFB_RING_TAIL, tail_);
}

bool FbSim::wait_idle() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
        if ((reg(PFB_RING_STATUS) & (PFB_RING_IDLE | PFB_RING_STOPPED)) != 0) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    return false;
}

void FbSim::run(std::span<const pfb_cmd> cmds) {
    submit(cmds);
    ASSERT_TRUE(wait_idle());
    ASSERT_EQ(reg(PFB_ERROR_CODE), PFB_ERR_NONE) << "at ring offset " << reg(PFB_ERROR_OFFSET);
    ASSERT_EQ(reg(PFB_RING_HEAD), tail_);
}

pfb_surface surface(uint32_t offset, uint32_t pitch, uint32_t width, uint32_t height) {
    pfb_surface s{};
    s.offset = offset;
    s.pitch = pitch;
    s.width = static_cast<uint16_t>(width);
    s.height = static_cast<uint16_t>(height);
    return s;
}

pfb_cmd fill_cmd(uint32_t fmt, pfb_surface dst, pfb_rect rect, uint32_t color) {
    pfb_cmd c{};
    c.fill.header = PFB_CMD_HEADER(PFB_OP_FILL, fmt, 0u);
    c.fill.dst = dst;
    c.fill.rect = rect;
    c.fill.color = color;
    return c;
}

pfb_cmd copy_cmd(uint32_t fmt, pfb_surface dst, pfb_surface src, pfb_rect rect, int32_t sx,
                 int32_t sy) {
    pfb_cmd c{};
    c.copy.header = PFB_CMD_HEADER(PFB_OP_COPY, fmt, 0u);
    c.copy.dst = dst;
    c.copy.src = src;
    c.copy.rect = rect;
    c.copy.src_x = sx;
    c.copy.src_y = sy;
    return c;
}

pfb_cmd xfer_cmd(uint32_t op, uint32_t fmt, pfb_surface s, pfb_rect rect, uint32_t host_pitch,
                 int32_t hx, int32_t hy, uint32_t sg_count, uint64_t sg_addr) {
    pfb_cmd c{};
    c.xfer.header = PFB_CMD_HEADER(op, fmt, 0u);
    c.xfer.vram = s;
    c.xfer.rect = rect;
    c.xfer.host_pitch = host_pitch;
    c.xfer.host_x = hx;
    c.xfer.host_y = hy;
    c.xfer.sg_count = sg_count;
    c.xfer.sg_addr = sg_addr;
    return c;
}

pfb_cmd fence_cmd(uint64_t seqno, uint64_t addr, bool irq) {
    pfb_cmd c{};
    c.fence.header = PFB_CMD_HEADER(PFB_OP_FENCE, 0u, irq ? PFB_FENCE_F_IRQ : 0u);
    c.fence.seqno = seqno;
    c.fence.addr = addr;
    return c;
}

} // namespace fbtest
