// SPDX-License-Identifier: MIT
//
// The accelerator's registers, fences, interrupts (MSI-X, MSI, INTx),
// errors and resets, and its display engine, on the SimHost.
#include <chrono>
#include <cstring>
#include <thread>

#include <gtest/gtest.h>

#include "fb_sim.hpp"

namespace fbtest {
namespace {

using pciem::SimInterrupt;
using namespace std::chrono_literals;

constexpr uint32_t vram_size = 4u << 20;

// Waits up to 5 s for `cond`.
template <class F>
bool eventually(F cond) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!cond()) {
        if (std::chrono::steady_clock::now() > deadline) {
            return false;
        }
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

TEST(FbRegisters, IdentityAndReset) {
    FbSim sim({.vram_bytes = vram_size, .preferred_width = 800, .preferred_height = 600});
    EXPECT_EQ(sim.host().cfg_read(0x00, 4), uint32_t{PFB_DEVICE_ID} << 16 | PFB_VENDOR_ID);
    EXPECT_EQ(sim.host().cfg_read(0x08, 4) >> 8, PFB_CLASS);
    EXPECT_EQ(sim.reg(PFB_ID), PFB_ID_VALUE);
    EXPECT_EQ(sim.reg(PFB_VERSION), PFB_VERSION_VALUE);
    EXPECT_EQ(sim.reg(PFB_CAPS), PFB_CAP_XRGB8888 | PFB_CAP_RGB565 | PFB_CAP_RING | PFB_CAP_VBLANK);
    EXPECT_EQ(sim.reg(PFB_VRAM_SIZE), vram_size);
    EXPECT_EQ(sim.reg(PFB_PREF_WIDTH), 800u);
    EXPECT_EQ(sim.reg(PFB_PREF_HEIGHT), 600u);
    EXPECT_EQ(sim.host().stats().shadow_reads, 6u) << "identification comes from the shadow";
    EXPECT_EQ(sim.reg(PFB_REFRESH_HZ), uint32_t{PFB_REFRESH_DEFAULT});
    EXPECT_EQ(sim.reg(PFB_RING_STATUS), PFB_RING_IDLE);
    EXPECT_EQ(sim.model().ram(PFB_VRAM_BAR).size(), vram_size);

    sim.set(PFB_WIDTH, 640);
    sim.set(PFB_IRQ_MASK, 0xffffffff);
    EXPECT_EQ(sim.reg(PFB_IRQ_MASK), 0xffffffffu) << "RW: what was written";
    sim.set(PFB_REFRESH_HZ, 75);
    sim.set(PFB_RESET, PFB_RESET_DEVICE);
    EXPECT_EQ(sim.reg(PFB_WIDTH), 0u);
    EXPECT_EQ(sim.reg(PFB_IRQ_MASK), 0u);
    EXPECT_EQ(sim.reg(PFB_REFRESH_HZ), uint32_t{PFB_REFRESH_DEFAULT});
}

TEST(FbFence, WritesTheSeqnoAndInterruptsOnlyWhenAsked) {
    FbSim sim({.vram_bytes = vram_size});
    sim.enable_msix();
    sim.setup_ring();
    const uint64_t slot = sim.host().dma().alloc_coherent(4096);
    auto mem = sim.host().dma().coherent(slot);
    sim.run(fence_cmd(41, slot, false));
    uint64_t v = 0;
    std::memcpy(&v, mem.data(), 8);
    EXPECT_EQ(v, 41u);
    EXPECT_EQ(sim.reg64(PFB_FENCE_SEQNO), 41u);
    EXPECT_TRUE(sim.host().take_interrupts().empty());

    sim.run(fence_cmd(0x1234567890ull, slot + 8, true));
    std::memcpy(&v, mem.data() + 8, 8);
    EXPECT_EQ(v, 0x1234567890ull) << "all 64 bits";
    EXPECT_EQ(sim.reg64(PFB_FENCE_SEQNO), 0x1234567890ull);
    ASSERT_TRUE(eventually([&] { return !sim.host().interrupts().empty(); }));
    EXPECT_EQ(sim.host().take_interrupts(), std::vector{SimInterrupt::msix(PFB_VEC_FENCE)});
    EXPECT_EQ(sim.reg(PFB_IRQ_STATUS) & PFB_IRQ_FENCE, PFB_IRQ_FENCE);
    sim.set(PFB_IRQ_ACK, PFB_IRQ_FENCE);
    EXPECT_EQ(sim.reg(PFB_IRQ_STATUS) & PFB_IRQ_FENCE, 0u);

    // Without a memory slot: only the register.
    sim.run(fence_cmd(7, 0, false));
    EXPECT_EQ(sim.reg64(PFB_FENCE_SEQNO), 7u);
}

TEST(FbInterrupts, MsiSignalsEveryCauseOnVectorZero) {
    FbSim sim({.vram_bytes = vram_size});
    const uint16_t msi = sim.host().config().layout.msi;
    sim.host().cfg_write(msi + 2, 2, 1); // MSI Enable, one vector
    sim.set(PFB_IRQ_MASK, PFB_IRQ_ALL);
    sim.setup_ring();
    sim.run(fence_cmd(1, 0, true));
    ASSERT_TRUE(eventually([&] { return !sim.host().interrupts().empty(); }));
    EXPECT_EQ(sim.host().take_interrupts(), std::vector{SimInterrupt::msi(0)});
    EXPECT_EQ(sim.reg(PFB_IRQ_STATUS), PFB_IRQ_FENCE) << "the handler reads the cause here";
}

TEST(FbInterrupts, IntxIsALevelUntilAcknowledged) {
    FbSim sim({.vram_bytes = vram_size});
    sim.setup_ring();
    sim.run(fence_cmd(1, 0, true));
    EXPECT_FALSE(sim.host().intx_level()) << "masked: no level";
    sim.set(PFB_IRQ_MASK, PFB_IRQ_FENCE);
    EXPECT_TRUE(sim.host().intx_level()) << "unmasking a pending cause raises the line";
    sim.set(PFB_IRQ_ACK, PFB_IRQ_FENCE);
    EXPECT_FALSE(sim.host().intx_level());
    sim.run(fence_cmd(2, 0, true));
    EXPECT_TRUE(eventually([&] { return sim.host().intx_level(); }));
}

// What a bad command leaves behind: the error registers, a stopped ring,
// the error interrupt, nothing after it executed; an engine reset brings
// the ring back.
void expect_stopped_by(FbSim& sim, uint32_t code, uint32_t offset) {
    ASSERT_TRUE(sim.wait_idle());
    EXPECT_EQ(sim.reg(PFB_ERROR_CODE), code);
    EXPECT_EQ(sim.reg(PFB_ERROR_OFFSET), offset);
    EXPECT_EQ(sim.reg(PFB_RING_STATUS) & PFB_RING_STOPPED, PFB_RING_STOPPED);
    EXPECT_EQ(sim.reg(PFB_RING_HEAD), offset) << "HEAD stays at the failing command";
    ASSERT_TRUE(eventually([&] { return !sim.host().interrupts().empty(); }));
    EXPECT_EQ(sim.host().take_interrupts(), std::vector{SimInterrupt::msix(PFB_VEC_ERROR)});
    EXPECT_EQ(sim.reg(PFB_IRQ_STATUS) & PFB_IRQ_ERROR, PFB_IRQ_ERROR);
}

void recover(FbSim& sim) {
    sim.set(PFB_RESET, PFB_RESET_ENGINE);
    EXPECT_EQ(sim.reg(PFB_ERROR_CODE), PFB_ERR_NONE);
    EXPECT_EQ(sim.reg(PFB_RING_STATUS), PFB_RING_IDLE);
    EXPECT_EQ(sim.reg(PFB_IRQ_STATUS) & PFB_IRQ_ERROR, 0u);
    sim.setup_ring();
    sim.run(fence_cmd(99, 0, false));
    EXPECT_EQ(sim.reg64(PFB_FENCE_SEQNO), 99u) << "the ring works again";
}

class FbErrors : public ::testing::Test {
protected:
    FbErrors() : sim_({.vram_bytes = vram_size}) {
        sim_.enable_msix();
        sim_.setup_ring();
    }
    // good, bad, then a fence that must not run
    void submit_bad(const pfb_cmd& bad) {
        const pfb_cmd cmds[] = {fence_cmd(5, 0, false), bad, fence_cmd(6, 0, false)};
        sim_.submit(cmds);
    }
    FbSim sim_;
};

TEST_F(FbErrors, UnknownOpcode) {
    pfb_cmd bad{};
    bad.header = 0x77;
    submit_bad(bad);
    expect_stopped_by(sim_, PFB_ERR_OPCODE, 64);
    EXPECT_EQ(sim_.reg64(PFB_FENCE_SEQNO), 5u) << "before it ran, after it did not";
    recover(sim_);
}

TEST_F(FbErrors, ReservedFlags) {
    pfb_cmd bad = fill_cmd(PFB_FMT_XRGB8888, surface(0, 64, 16, 16), {0, 0, 1, 1}, 0);
    bad.header |= 1u << 20;
    submit_bad(bad);
    expect_stopped_by(sim_, PFB_ERR_OPCODE, 64);
    recover(sim_);
}

TEST_F(FbErrors, SurfaceOutsideVram) {
    // The last line ends one pixel past VRAM (at vram_size it would fit).
    submit_bad(
        fill_cmd(PFB_FMT_XRGB8888, surface(vram_size - 4096 + 4, 1024, 256, 4), {0, 0, 1, 1}, 0));
    expect_stopped_by(sim_, PFB_ERR_SURFACE, 64);
    recover(sim_);
}

TEST_F(FbErrors, PitchTooSmallAndUnknownFormat) {
    submit_bad(copy_cmd(PFB_FMT_XRGB8888, surface(0, 64, 16, 16), surface(0, 60, 16, 16),
                        {0, 0, 4, 4}, 0, 0));
    expect_stopped_by(sim_, PFB_ERR_SURFACE, 64);
    recover(sim_);
    submit_bad(fill_cmd(9, surface(0, 64, 16, 16), {0, 0, 1, 1}, 0));
    expect_stopped_by(sim_, PFB_ERR_SURFACE, 64 * 2); // after recover's fence
    recover(sim_);
}

TEST_F(FbErrors, DmaRefusedNamesTheAddress) {
    const uint64_t list = sim_.host().dma().alloc_coherent(4096);
    const pfb_sg_entry e{0xdead0000, 4096, 0}; // never mapped
    std::memcpy(sim_.host().dma().coherent(list).data(), &e, sizeof(e));
    submit_bad(xfer_cmd(PFB_OP_UPLOAD, PFB_FMT_XRGB8888, surface(0, 64, 16, 16), {0, 0, 16, 16}, 64,
                        0, 0, 1, list));
    expect_stopped_by(sim_, PFB_ERR_DMA, 64);
    EXPECT_EQ(sim_.reg64(PFB_ERROR_ADDR), 0xdead0000u);
    EXPECT_FALSE(sim_.host().dma().take_faults().empty());
    recover(sim_);
}

TEST_F(FbErrors, ScatterGatherListTooShort) {
    std::vector<std::byte> buf(1000);
    const uint64_t bus = sim_.host().dma().map(buf, pciem::DmaDirection::to_device);
    const uint64_t list = sim_.host().dma().alloc_coherent(4096);
    const pfb_sg_entry e{bus, 1000, 0};
    std::memcpy(sim_.host().dma().coherent(list).data(), &e, sizeof(e));
    // 16 lines of 64 bytes need 1024.
    submit_bad(xfer_cmd(PFB_OP_UPLOAD, PFB_FMT_XRGB8888, surface(0, 64, 16, 16), {0, 0, 16, 16}, 64,
                        0, 0, 1, list));
    expect_stopped_by(sim_, PFB_ERR_SG, 64);
    recover(sim_);
}

TEST_F(FbErrors, TailNotOnACommand) {
    sim_.set(PFB_RING_TAIL, 100);
    expect_stopped_by(sim_, PFB_ERR_RING, 0);
    recover(sim_);
}

TEST(FbDisplay, FlipsAtVblankAndCountsFrames) {
    FbSim sim({.vram_bytes = vram_size});
    sim.enable_msix();
    sim.set(PFB_REFRESH_HZ, 100);
    sim.show(64, 32, 256, PFB_FMT_XRGB8888);
    EXPECT_EQ(sim.reg(PFB_DISPLAY_STATUS), PFB_DISPLAY_SCANNING) << "enable latches at once";

    // Pixel (1, 2) of the first buffer, then of a second one.
    auto vram = sim.vram();
    const uint32_t red = 0x00ff0000, blue = 0x000000ff;
    std::memcpy(vram.data() + 2 * 256 + 4, &red, 4);
    std::memcpy(vram.data() + 65536 + 2 * 256 + 4, &blue, 4);
    EXPECT_EQ(sim.model().picture().pixel(1, 2), red);

    sim.set(PFB_SCANOUT_OFFSET, 65536);
    const uint32_t frames = sim.reg(PFB_FRAME_COUNT);
    ASSERT_TRUE(eventually([&] { return sim.reg(PFB_ACTIVE_OFFSET) == 65536; }));
    EXPECT_GT(sim.reg(PFB_FRAME_COUNT), frames) << "the flip waited for a vblank";
    EXPECT_EQ(sim.reg(PFB_DISPLAY_STATUS) & PFB_DISPLAY_UPDATE_PENDING, 0u);
    EXPECT_EQ(sim.model().picture().pixel(1, 2), blue);

    // Vblank interrupts on their vector while the display is on.
    sim.host().take_interrupts();
    std::this_thread::sleep_for(300ms);
    const auto n = sim.host().interrupt_count(SimInterrupt::Kind::msix, PFB_VEC_VBLANK);
    EXPECT_GE(n, 10u);
    EXPECT_LE(n, 40u);
    sim.set(PFB_DISPLAY_CTRL, 0);
    EXPECT_EQ(sim.model().picture(), pciem::picture::no_signal()) << "off: black";
    const uint32_t stopped = sim.reg(PFB_FRAME_COUNT);
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(sim.reg(PFB_FRAME_COUNT), stopped) << "no vblanks while off";
}

TEST(FbDisplay, RefusesAModeOutsideVramAndKeepsTheOldOne) {
    FbSim sim({.vram_bytes = vram_size});
    sim.show(1024, 768, 4096, PFB_FMT_XRGB8888);
    ASSERT_EQ(sim.reg(PFB_DISPLAY_STATUS), PFB_DISPLAY_SCANNING);
    sim.set(PFB_SCANOUT_OFFSET, vram_size - 4096); // the image would run past VRAM
    ASSERT_TRUE(eventually(
        [&] { return (sim.reg(PFB_DISPLAY_STATUS) & PFB_DISPLAY_UPDATE_PENDING) == 0; }));
    EXPECT_EQ(sim.reg(PFB_DISPLAY_STATUS), PFB_DISPLAY_SCANNING | PFB_DISPLAY_MODE_BAD);
    EXPECT_EQ(sim.reg(PFB_ACTIVE_OFFSET), 0u);
}

TEST(FbDisplay, Rgb565PictureIsWidenedByBitReplication) {
    FbSim sim({.vram_bytes = vram_size});
    sim.show(2, 1, 4, PFB_FMT_RGB565);
    const uint16_t px[2] = {0xf800, 0x07e0 | 0x0001};
    std::memcpy(sim.vram().data(), px, 4);
    const auto p = sim.model().picture();
    EXPECT_EQ(p.pixel(0, 0), 0xff0000u);
    EXPECT_EQ(p.pixel(1, 0), 0x00ff08u);
}

} // namespace
} // namespace fbtest
