// SPDX-License-Identifier: MIT
//
// The register chapter of the bochs display, as the Linux bochs driver
// reads it (drivers/gpu/drm/tiny/bochs.c): what it checks at probe, what
// a mode set writes, where the scanout starts.
#include "bochs_display.hpp"

#include <algorithm>

#include "edid.hpp"

namespace pciem::bochs {

BochsDisplay::BochsDisplay(uint32_t vram_bytes) : vram_bytes_(vram_bytes) {
    RegisterMap& regs = declare_bar(2, "bochs BAR2", mmio_size);
    declare_edid(regs);
    declare_vga(regs);
    declare_dispi(regs);
    declare_qext(regs);
    // Every write can change what is on screen: publish it for pictures.
    regs.observe_writes([this](uint64_t, unsigned, uint64_t) { publish(); });
}

DeviceSpec BochsDisplay::spec() const {
    // As QEMU's bochs-display: class "display, other", revision 2 (so the
    // driver looks for the extended registers), QEMU's subsystem IDs.
    return DeviceSpec{}
        .ids(vendor_id, device_id)
        .subsystem(0x1af4, 0x1100)
        .class_code(0x038000)
        .revision(2)
        .bar(0, Bar::mem64(vram_bytes_).prefetchable().ram())
        .bar(2, Bar::mem64(mmio_size))
        .pcie(PCIEM_PCIE_ENDPOINT);
}

void BochsDisplay::on_start() {
    std::unique_lock lk(mutex_);
    vram_bound_ = true;
}

void BochsDisplay::on_stop() {
    std::unique_lock lk(mutex_);
    vram_bound_ = false;
}

void BochsDisplay::declare_edid(RegisterMap& regs) {
    // The driver reads the EDID a byte at a time (1 KiB region, one block
    // used): constants, so the kernel answers from the shadow.
    MemoryRange& edid = regs.memory(edid_offset, 0x400, "EDID");
    const auto block = make_edid(dmt_1024x768_60, "PCIem bochs");
    std::copy(block.begin(), block.end(), edid.bytes().begin());
    declare_shadow(2, edid_offset, 0x400);
}

void BochsDisplay::declare_vga(RegisterMap& regs) {
    // VGA I/O ports 0x3c0-0x3df as memory. The driver blanks by writing the
    // attribute index register (0x3c0): bit 5 (PAS) set shows the picture.
    vga_ = &regs.memory(vga_offset, 0x20, "VGA ports");
}

void BochsDisplay::declare_dispi(RegisterMap& regs) {
    static const char* const names[dispi_count] = {"DISPI_ID",
                                                   "DISPI_XRES",
                                                   "DISPI_YRES",
                                                   "DISPI_BPP",
                                                   "DISPI_ENABLE",
                                                   "DISPI_BANK",
                                                   "DISPI_VIRT_WIDTH",
                                                   "DISPI_VIRT_HEIGHT",
                                                   "DISPI_X_OFFSET",
                                                   "DISPI_Y_OFFSET",
                                                   "DISPI_VIDEO_MEMORY_64K"};
    for (unsigned i = 0; i < dispi_count; ++i) {
        Register& r = regs.reg16(dispi_offset + 2 * i, names[i]);
        dispi_[i] = &r;
        if (i == dispi_id) {
            r.ro(dispi_id5); // the driver accepts 0xb0c0-0xb0c5
        } else if (i == dispi_video_memory_64k) {
            r.ro(vram_bytes_ / (64 * 1024)); // must match BAR0's size
        } else {
            r.rw();
        }
    }
    regs.unmapped({.read = UnmappedPolicy::Read::zeros});
}

void BochsDisplay::declare_qext(RegisterMap& regs) {
    regs.reg32(qext_offset, "QEXT_SIZE").ro(qext_size);
    byte_order_ = &regs.reg32(qext_offset + 4, "QEXT_BYTE_ORDER").rw(little_endian);
}

void BochsDisplay::publish() {
    State s;
    for (unsigned i = 0; i < dispi_count; ++i) {
        s.dispi[i] = static_cast<uint16_t>(dispi_[i]->value());
    }
    s.blanked = (vga_->bytes()[0] & 0x20) == 0;
    s.byte_order = static_cast<uint32_t>(byte_order_->value());
    std::unique_lock lk(mutex_);
    state_ = s;
}

picture::Picture BochsDisplay::picture() const {
    std::shared_lock lk(mutex_);
    const auto& d = state_.dispi;
    const auto vram = ram(0);
    if (!vram_bound_ || vram.empty() || state_.blanked || (d[dispi_enable] & dispi_enabled) == 0 ||
        d[dispi_bpp] != 32 || d[dispi_xres] == 0 || d[dispi_yres] == 0) {
        return picture::no_signal();
    }
    // Lines are VIRT_WIDTH pixels apart; the picture starts at the
    // virtual screen's (X_OFFSET, Y_OFFSET).
    const uint32_t virt = std::max(d[dispi_virt_width], d[dispi_xres]);
    const uint64_t stride = uint64_t{virt} * 4;
    const uint64_t offset = d[dispi_y_offset] * stride + uint64_t{d[dispi_x_offset]} * 4;
    if (offset + stride * (d[dispi_yres] - 1) + uint64_t{d[dispi_xres]} * 4 > vram.size()) {
        return picture::no_signal();
    }
    return picture::from_scanout(vram, offset, d[dispi_xres], d[dispi_yres],
                                 static_cast<uint32_t>(stride), picture::PixelFormat::xrgb8888);
}

} // namespace pciem::bochs
