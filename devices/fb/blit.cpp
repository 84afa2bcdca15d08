// SPDX-License-Identifier: MIT
#include "blit.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

namespace pciem::fb {

namespace {

// [x, x + w) ∩ [0, limit) along one axis, with how far x moved.
struct Span1 {
    int64_t start = 0;
    int64_t len = 0;
    int64_t moved = 0;
};

Span1 clip_axis(int64_t x, int64_t w, int64_t limit) {
    const int64_t lo = std::max<int64_t>(x, 0);
    const int64_t hi = std::min<int64_t>(x + w, limit);
    if (hi <= lo) {
        return {0, 0, 0};
    }
    return {lo, hi - lo, lo - x};
}

Clip clip_rect(int64_t x, int64_t y, int64_t w, int64_t h, uint32_t width, uint32_t height) {
    const Span1 cx = clip_axis(x, w, width);
    const Span1 cy = clip_axis(y, h, height);
    if (cx.len == 0 || cy.len == 0) {
        return {};
    }
    return {static_cast<uint32_t>(cx.start),
            static_cast<uint32_t>(cy.start),
            static_cast<uint32_t>(cx.len),
            static_cast<uint32_t>(cy.len),
            cx.moved,
            cy.moved};
}

} // namespace

unsigned bytes_per_pixel(uint32_t format) {
    switch (format) {
    case PFB_FMT_XRGB8888:
        return 4;
    case PFB_FMT_RGB565:
        return 2;
    default:
        return 0;
    }
}

bool Surface::valid(uint64_t vram_size) const {
    if (bpp == 0 || width == 0 || height == 0 || uint64_t{pitch} < uint64_t{width} * bpp) {
        return false;
    }
    const uint64_t end = offset + uint64_t{pitch} * (height - 1) + uint64_t{width} * bpp;
    return end <= vram_size;
}

Clip clip(const pfb_rect& rect, uint32_t width, uint32_t height) {
    return clip_rect(rect.x, rect.y, rect.w, rect.h, width, height);
}

void fill(std::span<std::byte> vram, const Surface& dst, const Clip& c, uint32_t color) {
    if (c.empty()) {
        return;
    }
    // One line of the colour, then copied to every line.
    std::vector<std::byte> line(size_t{c.w} * dst.bpp);
    for (uint32_t i = 0; i < c.w; ++i) {
        std::memcpy(line.data() + size_t{i} * dst.bpp, &color, dst.bpp); // little-endian
    }
    for (uint32_t j = 0; j < c.h; ++j) {
        std::memcpy(vram.data() + dst.at(c.x, c.y + j), line.data(), line.size());
    }
}

void copy(std::span<std::byte> vram, const Surface& dst, const Surface& src, const pfb_rect& rect,
          int32_t src_x, int32_t src_y) {
    const Clip d = clip(rect, dst.width, dst.height);
    if (d.empty()) {
        return;
    }
    // The source of what survived the destination clip, clipped to the
    // source surface; whatever that removes is removed from both.
    const Clip s =
        clip_rect(int64_t{src_x} + d.dx, int64_t{src_y} + d.dy, d.w, d.h, src.width, src.height);
    if (s.empty()) {
        return;
    }
    const auto dx = static_cast<uint32_t>(d.x + s.dx);
    const auto dy = static_cast<uint32_t>(d.y + s.dy);
    const size_t row = size_t{s.w} * src.bpp;

    const uint64_t src_lo = src.at(s.x, s.y);
    const uint64_t src_hi = src.at(s.x, s.y + s.h - 1) + row;
    const uint64_t dst_lo = dst.at(dx, dy);
    const uint64_t dst_hi = dst.at(dx, dy + s.h - 1) + row;
    if (src_hi <= dst_lo || dst_hi <= src_lo) {
        for (uint32_t j = 0; j < s.h; ++j) {
            std::memcpy(vram.data() + dst.at(dx, dy + j), vram.data() + src.at(s.x, s.y + j), row);
        }
        return;
    }
    // Overlap: through a temporary, which is what the datasheet promises
    // whatever the two pitches are.
    std::vector<std::byte> tmp(row * s.h);
    for (uint32_t j = 0; j < s.h; ++j) {
        std::memcpy(tmp.data() + row * j, vram.data() + src.at(s.x, s.y + j), row);
    }
    for (uint32_t j = 0; j < s.h; ++j) {
        std::memcpy(vram.data() + dst.at(dx, dy + j), tmp.data() + row * j, row);
    }
}

} // namespace pciem::fb
