// SPDX-License-Identifier: MIT
//
// The bochs display on the SimHost, driven the way the Linux bochs driver
// drives it: probe checks (ID, VRAM size, revision, extended registers),
// the EDID it parses, a mode set, flips by offset, blanking.
#include <cstring>

#include <gtest/gtest.h>

#include "bochs_display.hpp"
#include "edid.hpp"
#include "pciem/sim_host.hpp"

namespace {

using namespace pciem::bochs;

constexpr uint32_t vram = 16u << 20;

class Bochs : public ::testing::Test {
protected:
    Bochs() {
        auto h = pciem::SimHost::create(model_);
        EXPECT_TRUE(h) << h.error().message;
        host_ = std::move(*h);
        host_->cfg_write(0x04, 2, 0x0002); // Memory Space
    }
    uint16_t dispi(unsigned i) { return host_->read16(2, dispi_offset + 2 * i); }
    void set(unsigned i, uint16_t v) { host_->write16(2, dispi_offset + 2 * i, v); }
    // bochs_hw_blank(false) then bochs_hw_setmode(), as the driver does.
    void modeset(uint16_t w, uint16_t h) {
        host_->write8(2, vga_offset + 0x02, 0x01); // VGA_MIS_W: colour
        (void)host_->read8(2, vga_offset + 0x1a);  // VGA_IS1_RC: reset the flip-flop
        host_->write8(2, vga_offset, 0x20);        // VGA_ATT_W: PAS, unblank
        set(dispi_enable, 0);
        set(dispi_bpp, 32);
        set(dispi_xres, w);
        set(dispi_yres, h);
        set(dispi_bank, 0);
        set(dispi_virt_width, w);
        set(dispi_virt_height, static_cast<uint16_t>(vram / (w * 4)));
        set(dispi_x_offset, 0);
        set(dispi_y_offset, 0);
        set(dispi_enable, dispi_enabled | dispi_lfb_enabled);
    }

    BochsDisplay model_{vram};
    std::unique_ptr<pciem::SimHost> host_;
};

TEST_F(Bochs, WhatTheDriverChecksAtProbe) {
    EXPECT_EQ(host_->cfg_read(0x00, 4), 0x11111234u);
    EXPECT_EQ(host_->cfg_read(0x08, 1), 2u) << "revision 2: extended registers";
    EXPECT_EQ(host_->cfg_read(0x0a, 2), 0x0380u);
    EXPECT_EQ(dispi(dispi_id) & 0xfff0, 0xb0c0);
    EXPECT_EQ(uint64_t{dispi(dispi_video_memory_64k)} * 64 * 1024, vram);
    EXPECT_EQ(model_.ram(0).size(), vram);
    const uint32_t qext = host_->read32(2, qext_offset);
    EXPECT_GE(qext, 8u) << "size and byte order present";
    EXPECT_LE(qext, 4096u);
    EXPECT_EQ(host_->read32(2, qext_offset + 4), little_endian);
    host_->write32(2, qext_offset + 4, big_endian);
    EXPECT_EQ(host_->read32(2, qext_offset + 4), big_endian);
}

TEST_F(Bochs, EdidIsAValidBlockPreferring1024x768) {
    uint8_t e[128];
    for (int i = 0; i < 128; ++i) {
        e[i] = host_->read8(2, edid_offset + i);
    }
    const uint8_t header[8] = {0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0};
    EXPECT_EQ(0, std::memcmp(e, header, 8));
    uint8_t sum = 0;
    for (uint8_t b : e) {
        sum = static_cast<uint8_t>(sum + b);
    }
    EXPECT_EQ(sum, 0) << "checksum";
    EXPECT_EQ(e[18], 1);
    EXPECT_EQ(e[19], 4);
    // First detailed timing: 65 MHz, 1024 x 768.
    EXPECT_EQ(e[54] | e[55] << 8, 6500);
    EXPECT_EQ(e[56] | (e[58] >> 4) << 8, 1024);
    EXPECT_EQ(e[59] | (e[61] >> 4) << 8, 768);
    EXPECT_EQ(host_->stats().shadow_reads, 128u) << "EDID bytes come from the shadow";
}

TEST_F(Bochs, PictureFollowsModeOffsetsAndBlanking) {
    EXPECT_EQ(model_.picture(), pciem::picture::no_signal()) << "before a mode set";
    modeset(64, 48);
    auto v = model_.ram(0);
    const uint32_t red = 0xff0000, green = 0x00ff00;
    std::memcpy(v.data() + (3 * 64 + 5) * 4, &red, 4);
    auto p = model_.picture();
    ASSERT_EQ(p.width, 64u);
    ASSERT_EQ(p.height, 48u);
    EXPECT_EQ(p.pixel(5, 3), red);
    // The driver's page flip: a buffer further down the virtual screen.
    std::memcpy(v.data() + ((100 + 3) * 64 + 5) * 4, &green, 4);
    set(dispi_y_offset, 100);
    EXPECT_EQ(model_.picture().pixel(5, 3), green);
    host_->write8(2, vga_offset, 0); // blank
    EXPECT_EQ(model_.picture(), pciem::picture::no_signal());
    host_->write8(2, vga_offset, 0x20);
    set(dispi_enable, 0);
    EXPECT_EQ(model_.picture(), pciem::picture::no_signal()) << "disabled";
}

} // namespace
