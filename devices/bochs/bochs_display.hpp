// SPDX-License-Identifier: MIT
//
// A bochs display adapter, register-compatible with QEMU's bochs-display
// (PCI 1234:1111, revision 2) as the stock Linux bochs DRM driver drives
// it on 6.1 and 6.12:
//   BAR0  VRAM, a RAM BAR (the driver maps it; nothing is trapped)
//   BAR2  4 KiB of registers:
//         0x000 EDID (1 KiB, read with readb; shadowed)
//         0x400 VGA ports 0x3c0-0x3df (only attribute-index blanking used)
//         0x500 DISPI registers, 16 bits at 0x500 + 2 * index
//         0x600 QEMU extended registers: size, framebuffer byte order
// No interrupts: the driver fakes its vblank events.
#pragma once

#include <cstdint>
#include <mutex>
#include <shared_mutex>

#include "pciem/device_model.hpp"
#include "picture.hpp"

namespace pciem::bochs {

// DISPI register indexes and values (Bochs VBE).
enum Dispi : unsigned {
    dispi_id = 0x0,
    dispi_xres = 0x1,
    dispi_yres = 0x2,
    dispi_bpp = 0x3,
    dispi_enable = 0x4,
    dispi_bank = 0x5,
    dispi_virt_width = 0x6,
    dispi_virt_height = 0x7,
    dispi_x_offset = 0x8,
    dispi_y_offset = 0x9,
    dispi_video_memory_64k = 0xa,
    dispi_count = 0xb,
};
inline constexpr uint16_t dispi_id5 = 0xb0c5;
inline constexpr uint16_t dispi_enabled = 0x01;
inline constexpr uint16_t dispi_lfb_enabled = 0x40;

inline constexpr uint16_t vendor_id = 0x1234;
inline constexpr uint16_t device_id = 0x1111;
inline constexpr uint64_t mmio_size = 4096;
inline constexpr uint64_t edid_offset = 0x000;
inline constexpr uint64_t vga_offset = 0x400; // I/O port 0x3c0
inline constexpr uint64_t dispi_offset = 0x500;
inline constexpr uint64_t qext_offset = 0x600;
inline constexpr uint32_t qext_size = 8; // size and byte order
inline constexpr uint32_t little_endian = 0x1e1e1e1e;
inline constexpr uint32_t big_endian = 0xbebebebe;

class BochsDisplay final : public DeviceModel {
public:
    explicit BochsDisplay(uint32_t vram_bytes = 16u << 20);

    [[nodiscard]] DeviceSpec spec() const override;
    void on_start() override;
    void on_stop() override;

    // What the display shows now (black while disabled or blanked).
    [[nodiscard]] picture::Picture picture() const;

private:
    void declare_edid(RegisterMap& regs);
    void declare_vga(RegisterMap& regs);
    void declare_dispi(RegisterMap& regs);
    void declare_qext(RegisterMap& regs);
    // Copies what the picture needs out of the registers (host thread).
    void publish();

    const uint32_t vram_bytes_;
    Register* dispi_[dispi_count] = {};
    MemoryRange* vga_ = nullptr;
    Register* byte_order_ = nullptr;

    // The display state the picture thread reads.
    struct State {
        uint16_t dispi[dispi_count] = {};
        bool blanked = true;
        uint32_t byte_order = little_endian;
    };
    mutable std::shared_mutex mutex_;
    State state_;
    bool vram_bound_ = false;
};

} // namespace pciem::bochs
