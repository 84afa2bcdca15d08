// SPDX-License-Identifier: MIT
#include "edid.hpp"

#include <algorithm>

namespace pciem::bochs {

namespace {

// A detailed timing descriptor (EDID 1.4, section 3.10.2).
void detailed_timing(uint8_t* d, const EdidTiming& t) {
    const uint16_t hblank = t.hfront + t.hsync + t.hback;
    const uint16_t vblank = t.vfront + t.vsync + t.vback;
    const uint16_t clock = static_cast<uint16_t>(t.pixel_khz / 10);
    d[0] = clock & 0xff;
    d[1] = clock >> 8;
    d[2] = t.hactive & 0xff;
    d[3] = hblank & 0xff;
    d[4] = static_cast<uint8_t>((t.hactive >> 8) << 4 | (hblank >> 8));
    d[5] = t.vactive & 0xff;
    d[6] = vblank & 0xff;
    d[7] = static_cast<uint8_t>((t.vactive >> 8) << 4 | (vblank >> 8));
    d[8] = t.hfront & 0xff;
    d[9] = t.hsync & 0xff;
    d[10] = static_cast<uint8_t>((t.vfront & 0xf) << 4 | (t.vsync & 0xf));
    d[11] = static_cast<uint8_t>((t.hfront >> 8) << 6 | (t.hsync >> 8) << 4 | (t.vfront >> 4) << 2 |
                                 (t.vsync >> 4));
    // 400 x 300 mm: a 20" 4:3 monitor.
    d[12] = 400 & 0xff;
    d[13] = 300 & 0xff;
    d[14] = (400 >> 8) << 4 | (300 >> 8);
    d[15] = 0;
    d[16] = 0;
    d[17] = 0x18; // digital separate sync, both polarities negative (as DMT)
}

// A display descriptor holding text (tag 0xfc name, 0xfe string).
void text_descriptor(uint8_t* d, uint8_t tag, const std::string& text) {
    d[3] = tag;
    std::fill(d + 5, d + 18, uint8_t{' '});
    const size_t n = std::min<size_t>(text.size(), 12);
    std::copy_n(text.begin(), n, d + 5);
    d[5 + n] = '\n';
}

} // namespace

std::array<uint8_t, 128> make_edid(const EdidTiming& preferred, const std::string& name) {
    std::array<uint8_t, 128> e{};
    const uint8_t header[8] = {0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00};
    std::copy_n(header, 8, e.begin());
    // Manufacturer "PCM" in 5-bit letters, big-endian; product 0x1111.
    const uint16_t mfg = ('P' - '@') << 10 | ('C' - '@') << 5 | ('M' - '@');
    e[8] = mfg >> 8;
    e[9] = mfg & 0xff;
    e[10] = 0x11;
    e[11] = 0x11;
    e[16] = 1;  // week
    e[17] = 36; // 2026 - 1990
    e[18] = 1;  // EDID 1.4
    e[19] = 4;
    e[20] = 0x80; // digital input
    e[21] = 40;   // cm
    e[22] = 30;
    e[23] = 120;  // gamma 2.2
    e[24] = 0x06; // sRGB default colour space, preferred timing is native
    // sRGB primaries and D65 white point.
    const uint8_t chroma[10] = {0xee, 0x91, 0xa3, 0x54, 0x4c, 0x99, 0x26, 0x0f, 0x50, 0x54};
    std::copy_n(chroma, 10, e.begin() + 25);
    e[35] = 0x21; // established: 640x480@60, 800x600@60
    e[36] = 0x08; // 1024x768@60
    // Standard timings: 1280x1024@60 (5:4), 1280x800@60 (16:10); rest unused.
    const uint8_t standard[16] = {0x81, 0x80, 0x81, 0x00, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    std::copy_n(standard, 16, e.begin() + 38);
    detailed_timing(&e[54], preferred);
    text_descriptor(&e[72], 0xfc, name);
    // Range limits: 50-75 Hz, 30-80 kHz, 150 MHz, no timing formula.
    const uint8_t range[18] = {0,  0,    0,    0xfd, 0,   50,  75,  30,  80,
                               15, 0x01, 0x0a, ' ',  ' ', ' ', ' ', ' ', ' '};
    std::copy_n(range, 18, e.begin() + 90);
    e[108 + 3] = 0x10; // dummy descriptor
    uint8_t sum = 0;
    for (size_t i = 0; i < 127; ++i) {
        sum = static_cast<uint8_t>(sum + e[i]);
    }
    e[127] = static_cast<uint8_t>(0x100 - sum);
    return e;
}

} // namespace pciem::bochs
