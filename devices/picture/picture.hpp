// SPDX-License-Identifier: MIT
//
// Pictures of what a display device shows: its scanout converted to 8-bit
// RGB, and that as PNG (libpng). Shared by every display model
// (devices/fb, devices/bochs), the live view and the tests that compare
// what a device shows with what they expect.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "pciem/error.hpp"

namespace pciem::picture {

enum class PixelFormat : uint8_t {
    xrgb8888, // 4 bytes, 0x00RRGGBB little-endian
    rgb565,   // 2 bytes, RRRRRGGG GGGBBBBB little-endian
};

struct Picture {
    uint32_t width = 0;
    uint32_t height = 0;
    std::vector<uint8_t> rgb; // width * height * 3, line after line

    [[nodiscard]] uint32_t pixel(uint32_t x, uint32_t y) const {
        const uint8_t* p = rgb.data() + (size_t{y} * width + x) * 3;
        return uint32_t{p[0]} << 16 | uint32_t{p[1]} << 8 | p[2];
    }
    friend bool operator==(const Picture&, const Picture&) = default;
};

// The image of width x height pixels at `offset` in `memory`, lines
// `stride` bytes apart. The caller has checked it lies inside `memory`.
// RGB565 is widened by bit replication (0x1f -> 0xff), as displays do.
[[nodiscard]] Picture from_scanout(std::span<const std::byte> memory, uint64_t offset,
                                   uint32_t width, uint32_t height, uint32_t stride,
                                   PixelFormat format);

// What a monitor shows with no signal: black.
[[nodiscard]] Picture no_signal(uint32_t width = 640, uint32_t height = 480);

// PNG, 8-bit RGB. level: zlib's 0 (stored, fastest) .. 9.
[[nodiscard]] Result<std::vector<uint8_t>> encode_png(const Picture& picture, int level = 1);
[[nodiscard]] Result<Picture> decode_png(std::span<const uint8_t> png);
// Written to PATH.tmp and renamed, so a reader never sees half a file.
[[nodiscard]] Result<void> write_png(const Picture& picture, const std::string& path);
[[nodiscard]] Result<Picture> read_png(const std::string& path);

} // namespace pciem::picture
