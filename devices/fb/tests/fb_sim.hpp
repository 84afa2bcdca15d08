// SPDX-License-Identifier: MIT
//
// The accelerator on a SimHost, with the test as its driver: a ring in
// coherent memory, commands, the doorbell, waiting for the engine, and
// MSI-X set up the way the Linux driver sets it up.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "fb_device.hpp"
#include "pciem/sim_host.hpp"

namespace fbtest {

using namespace pciem::fb;

class FbSim {
public:
    explicit FbSim(FbOptions options = {});
    ~FbSim();

    pciem::SimHost& host() { return *host_; }
    FbDevice& model() { return *model_; }
    std::span<std::byte> vram() { return model_->ram(PFB_VRAM_BAR); }
    uint32_t reg(uint64_t off) { return host_->read32(PFB_REG_BAR, off); }
    uint64_t reg64(uint64_t off) { return host_->read64(PFB_REG_BAR, off); }
    void set(uint64_t off, uint32_t v) { host_->write32(PFB_REG_BAR, off, v); }

    // MSI-X on, all three vectors unmasked, all causes in IRQ_MASK.
    void enable_msix();
    // Programs a mode at VRAM offset 0 and enables the display (latched
    // at once), as a driver's first modeset does.
    void show(uint32_t width, uint32_t height, uint32_t stride, uint32_t format);
    // A ring of `size` bytes, enabled.
    void setup_ring(uint32_t size = 4096);
    // Writes the commands at the tail and rings the doorbell.
    void submit(std::span<const pfb_cmd> cmds);
    void submit(const pfb_cmd& cmd) { submit(std::span(&cmd, 1)); }
    // Until RING_STATUS says IDLE (or STOPPED); false after 10 s.
    bool wait_idle();
    // submit + wait_idle, expecting no error.
    void run(std::span<const pfb_cmd> cmds);
    void run(const pfb_cmd& cmd) { run(std::span(&cmd, 1)); }

    uint64_t ring_bus() const { return ring_; }
    uint32_t tail() const { return tail_; }

private:
    FbOptions options_;
    std::unique_ptr<FbDevice> model_;
    std::unique_ptr<pciem::SimHost> host_;
    uint64_t ring_ = 0;
    uint32_t ring_size_ = 0;
    uint32_t tail_ = 0;
};

// Command builders.
pfb_surface surface(uint32_t offset, uint32_t pitch, uint32_t width, uint32_t height);
pfb_cmd fill_cmd(uint32_t fmt, pfb_surface dst, pfb_rect rect, uint32_t color);
pfb_cmd copy_cmd(uint32_t fmt, pfb_surface dst, pfb_surface src, pfb_rect rect, int32_t sx,
                 int32_t sy);
pfb_cmd xfer_cmd(uint32_t op, uint32_t fmt, pfb_surface s, pfb_rect rect, uint32_t host_pitch,
                 int32_t hx, int32_t hy, uint32_t sg_count, uint64_t sg_addr);
pfb_cmd fence_cmd(uint64_t seqno, uint64_t addr, bool irq);

} // namespace fbtest
