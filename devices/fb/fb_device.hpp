// SPDX-License-Identifier: MIT
//
// pciem-fb, the framebuffer accelerator of docs/fb.md: registers in BAR0,
// VRAM in BAR2 (a RAM BAR, never trapped), the MSI-X table in BAR4.
//
// The code is split by job:
//   fb_device.cpp       identity, the register chapter, interrupts, reset
//   display_engine.cpp  pending/active display sets, the vblank thread
//   command_engine.cpp  the ring, fetched and executed on its own thread
//   blit.cpp            surfaces, clipping, FILL and COPY on VRAM
//
// Threads: the host's (register accesses), the command engine's, the
// vblank thread, and whoever takes pictures (snapshots, the live view).
// What they share is behind the engines' own locks and state_mutex_.
#pragma once

#include <cstdint>
#include <mutex>
#include <shared_mutex>

#include "command_engine.hpp"
#include "display_engine.hpp"
#include "pciem/device_model.hpp"
#include "pciem_fb_hw.h"
#include "picture.hpp"

namespace pciem::fb {

struct FbOptions {
    uint32_t vram_bytes = PFB_VRAM_DEFAULT; // power of two, 1..256 MiB
    uint32_t max_width = 4096;
    uint32_t max_height = 4096;
    uint32_t preferred_width = 1024;
    uint32_t preferred_height = 768;
};

class FbDevice final : public DeviceModel {
public:
    explicit FbDevice(FbOptions options = {});
    FbDevice(const FbDevice&) = delete;
    FbDevice& operator=(const FbDevice&) = delete;
    FbDevice(FbDevice&&) = delete;
    FbDevice& operator=(FbDevice&&) = delete;
    ~FbDevice() override;

    [[nodiscard]] DeviceSpec spec() const override;
    void on_start() override;
    void on_stop() override;
    void on_irq_config(const IrqConfigEvent& event) override;

    // What the display shows now (black while it is off). Any thread.
    [[nodiscard]] picture::Picture picture() const;
    // The active display set while scanning out. Any thread.
    [[nodiscard]] std::optional<ScanoutMode> scanout() const { return display_.scanout(); }

    [[nodiscard]] const FbOptions& options() const { return options_; }

private:
    void declare_identity(RegisterMap& regs);
    void declare_display(RegisterMap& regs);
    void declare_interrupts(RegisterMap& regs);
    void declare_ring(RegisterMap& regs);
    void declare_errors(RegisterMap& regs);
    void pending_changed();
    void engine_reset();
    void device_reset();

    // A cause happened: IRQ_STATUS, then MSI-X / MSI / INTx as configured.
    void raise_cause(uint32_t cause);
    void acknowledge(uint32_t causes);
    void set_mask(uint32_t mask);
    // Callers hold state_mutex_.
    void update_intx_locked();

    const FbOptions options_;
    DisplayEngine display_;
    CommandEngine engine_;

    Register* width_ = nullptr;
    Register* height_ = nullptr;
    Register* stride_ = nullptr;
    Register* format_ = nullptr;
    Register* scanout_offset_ = nullptr;
    Register* refresh_ = nullptr;
    Register* display_ctrl_ = nullptr;
    Register* irq_mask_ = nullptr;
    Register* ring_base_ = nullptr;
    Register* ring_size_ = nullptr;
    Register* ring_ctrl_ = nullptr;
    Register* ring_tail_ = nullptr;

    // Interrupt state, shared by every thread that raises.
    mutable std::mutex state_mutex_;
    uint32_t irq_status_ = 0;
    uint32_t irq_mask_bits_ = 0;
    bool msix_enabled_ = false;
    bool msi_enabled_ = false;
    bool intx_level_ = false;

    // Pictures read VRAM from other threads: only while a host has it
    // bound (between on_start and on_stop).
    mutable std::shared_mutex picture_mutex_;
    bool vram_bound_ = false;
};

} // namespace pciem::fb
