// SPDX-License-Identifier: MIT
//
// The pixel operations of the accelerator's command engine, on VRAM: the
// surface and rectangle rules of docs/fb.md (validation, clipping) and
// FILL / COPY, plus the line layout UPLOAD and DOWNLOAD move. Pure
// functions of their arguments: no DMA, no threads, no registers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "pciem_fb_hw.h"

namespace pciem::fb {

// Bytes per pixel of a PFB_FMT_* value; 0 for an unknown one.
[[nodiscard]] unsigned bytes_per_pixel(uint32_t format);

struct Surface {
    uint32_t offset = 0;
    uint32_t pitch = 0;
    uint32_t width = 0;
    uint32_t height = 0;
    unsigned bpp = 4;

    static Surface from(const pfb_surface& s, unsigned bpp) {
        return {s.offset, s.pitch, s.width, s.height, bpp};
    }
    // Inside VRAM of vram_size bytes, pitch large enough, not empty.
    [[nodiscard]] bool valid(uint64_t vram_size) const;
    [[nodiscard]] uint64_t at(uint32_t x, uint32_t y) const {
        return offset + uint64_t{y} * pitch + uint64_t{x} * bpp;
    }
};

// A clipped rectangle: always inside its surface, possibly empty.
struct Clip {
    uint32_t x = 0;
    uint32_t y = 0;
    uint32_t w = 0;
    uint32_t h = 0;
    // How far the origin moved while clipping: add to a paired origin
    // (COPY's source, UPLOAD's host position).
    int64_t dx = 0;
    int64_t dy = 0;
    [[nodiscard]] bool empty() const { return w == 0 || h == 0; }
};

// rect ∩ [0, width) × [0, height).
[[nodiscard]] Clip clip(const pfb_rect& rect, uint32_t width, uint32_t height);

// FILL: every pixel of the clip = color (low 16 bits for 2-byte pixels).
void fill(std::span<std::byte> vram, const Surface& dst, const Clip& c, uint32_t color);

// COPY: dst rect ∩ dst, from src at (src_x, src_y) + the same offset,
// also clipped to src; overlapping regions behave as if copied through
// a temporary. Surfaces must be valid and share bpp.
void copy(std::span<std::byte> vram, const Surface& dst, const Surface& src, const pfb_rect& rect,
          int32_t src_x, int32_t src_y);

} // namespace pciem::fb
