// SPDX-License-Identifier: MIT
//
// Every command of the accelerator against a straightforward CPU
// reference, pixel by pixel and bit-exact over the whole of VRAM (and of
// the host image for DOWNLOAD): random surfaces and rectangles, clipped
// on every side, overlapping copies in every direction, scatter-gather
// lists cut at random byte boundaries, both pixel formats.
#include <cstring>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "fb_sim.hpp"

namespace fbtest {
namespace {

constexpr uint32_t vram_size = 1u << 20;

// ---- the reference: one pixel at a time, no cleverness ----

struct Ref {
    uint32_t offset, pitch, width, height;
    unsigned bpp;
};

Ref ref_of(const pfb_surface& s, unsigned bpp) {
    return {s.offset, s.pitch, s.width, s.height, bpp};
}

bool inside(const Ref& s, int64_t x, int64_t y) {
    return x >= 0 && y >= 0 && x < s.width && y < s.height;
}

size_t at(const Ref& s, int64_t x, int64_t y) {
    return s.offset + static_cast<size_t>(y) * s.pitch + static_cast<size_t>(x) * s.bpp;
}

void ref_fill(std::vector<std::byte>& vram, const Ref& s, const pfb_rect& r, uint32_t color) {
    for (int64_t y = r.y; y < int64_t{r.y} + r.h; ++y) {
        for (int64_t x = r.x; x < int64_t{r.x} + r.w; ++x) {
            if (inside(s, x, y)) {
                std::memcpy(&vram[at(s, x, y)], &color, s.bpp);
            }
        }
    }
}

void ref_copy(std::vector<std::byte>& vram, const Ref& d, const Ref& s, const pfb_rect& r,
              int32_t sx, int32_t sy) {
    const std::vector<std::byte> before = vram; // "as if through a temporary"
    for (int64_t j = 0; j < r.h; ++j) {
        for (int64_t i = 0; i < r.w; ++i) {
            const int64_t dx = r.x + i, dy = r.y + j, fx = sx + i, fy = sy + j;
            if (inside(d, dx, dy) && inside(s, fx, fy)) {
                std::memcpy(&vram[at(d, dx, dy)], &before[at(s, fx, fy)], d.bpp);
            }
        }
    }
}

// host image <-> VRAM, host pixel (hx + i, hy + j) <-> rect pixel (x + i, y + j)
void ref_xfer(std::vector<std::byte>& vram, std::vector<std::byte>& host, const Ref& s,
              const pfb_rect& r, uint32_t host_pitch, int32_t hx, int32_t hy, bool upload) {
    for (int64_t j = 0; j < r.h; ++j) {
        for (int64_t i = 0; i < r.w; ++i) {
            const int64_t vx = r.x + i, vy = r.y + j;
            if (!inside(s, vx, vy)) {
                continue;
            }
            const size_t h =
                static_cast<size_t>(hy + j) * host_pitch + static_cast<size_t>(hx + i) * s.bpp;
            if (upload) {
                std::memcpy(&vram[at(s, vx, vy)], &host[h], s.bpp);
            } else {
                std::memcpy(&host[h], &vram[at(s, vx, vy)], s.bpp);
            }
        }
    }
}

// ---- random cases ----

// A host image in scatter-gather pieces of random sizes, each its own
// mapping, as a shmem buffer's pages are.
struct HostImage {
    std::vector<std::vector<std::byte>> pieces;
    std::vector<pfb_sg_entry> list;
    uint64_t list_bus = 0;

    std::vector<std::byte> linear() const {
        std::vector<std::byte> out;
        for (const auto& p : pieces) {
            out.insert(out.end(), p.begin(), p.end());
        }
        return out;
    }
};

HostImage make_host_image(pciem::SimHost& h, std::vector<std::byte> bytes, std::mt19937& rng,
                          pciem::DmaDirection dir) {
    HostImage img;
    size_t pos = 0;
    while (pos < bytes.size()) {
        const size_t n = std::min<size_t>(bytes.size() - pos,
                                          std::uniform_int_distribution<size_t>(1, 6000)(rng));
        img.pieces.emplace_back(bytes.begin() + static_cast<long>(pos),
                                bytes.begin() + static_cast<long>(pos + n));
        pos += n;
    }
    for (auto& p : img.pieces) {
        img.list.push_back({h.dma().map(p, dir), static_cast<uint32_t>(p.size()), 0});
    }
    img.list_bus = h.dma().alloc_coherent(img.list.size() * sizeof(pfb_sg_entry));
    std::memcpy(h.dma().coherent(img.list_bus).data(), img.list.data(),
                img.list.size() * sizeof(pfb_sg_entry));
    return img;
}

// One random UPLOAD or DOWNLOAD: host image, command, reference. The
// host bytes as the reference expects them afterwards are returned with
// the image the device saw.

class Commands : public ::testing::TestWithParam<uint32_t> {
protected:
    Commands() : sim_({.vram_bytes = vram_size}) {
        sim_.setup_ring(64 * 1024);
        std::uniform_int_distribution<int> byte(0, 255);
        for (auto& b : sim_.vram()) {
            b = std::byte(static_cast<uint8_t>(byte(rng_)));
        }
        ref_.assign(sim_.vram().begin(), sim_.vram().end());
    }

    uint32_t fmt() const { return GetParam(); }
    unsigned bpp() const { return fmt() == PFB_FMT_RGB565 ? 2 : 4; }
    uint32_t rand(uint32_t lo, uint32_t hi) {
        return std::uniform_int_distribution<uint32_t>(lo, hi)(rng_);
    }
    int32_t irand(int32_t lo, int32_t hi) {
        return std::uniform_int_distribution<int32_t>(lo, hi)(rng_);
    }

    // A random valid surface of up to 300 x 200 pixels.
    pfb_surface random_surface() {
        const uint32_t w = rand(1, 300), h = rand(1, 200);
        const uint32_t pitch = w * bpp() + rand(0, 3) * bpp() * rand(0, 16);
        const uint32_t bytes = pitch * (h - 1) + w * bpp();
        return surface(rand(0, vram_size - bytes) & ~3u, pitch, w, h);
    }
    // Anywhere from wholly outside to wholly inside, on every side.
    pfb_rect random_rect(const pfb_surface& s) {
        return {irand(-40, s.width + 10), irand(-40, s.height + 10), rand(0, s.width + 60),
                rand(0, s.height + 60)};
    }

    std::pair<std::vector<std::byte>, HostImage> random_transfer(bool upload);

    void expect_vram_matches(const char* what, int i) {
        const auto v = sim_.vram();
        ASSERT_EQ(0, std::memcmp(v.data(), ref_.data(), v.size())) << what << " case " << i;
    }

    std::mt19937 rng_{1234};
    FbSim sim_;
    std::vector<std::byte> ref_;
};

TEST_P(Commands, FillMatchesReference) {
    for (int i = 0; i < 150; ++i) {
        const pfb_surface s = random_surface();
        const pfb_rect r = random_rect(s);
        const uint32_t color = static_cast<uint32_t>(rng_());
        sim_.run(fill_cmd(fmt(), s, r, color));
        ref_fill(ref_, ref_of(s, bpp()), r, color);
        expect_vram_matches("FILL", i);
    }
}

TEST_P(Commands, CopyMatchesReferenceAcrossSurfaces) {
    for (int i = 0; i < 150; ++i) {
        const pfb_surface d = random_surface(), s = random_surface();
        const pfb_rect r = random_rect(d);
        const int32_t sx = irand(-30, s.width), sy = irand(-30, s.height);
        sim_.run(copy_cmd(fmt(), d, s, r, sx, sy));
        ref_copy(ref_, ref_of(d, bpp()), ref_of(s, bpp()), r, sx, sy);
        expect_vram_matches("COPY", i);
    }
}

TEST_P(Commands, OverlappingCopyWithinOneSurfaceInEveryDirection) {
    const pfb_surface s = surface(4096, 256 * bpp(), 200, 150);
    int i = 0;
    for (int dy : {-7, -1, 0, 1, 9}) {
        for (int dx : {-13, -1, 0, 1, 5}) {
            const pfb_rect r{20 + dx, 30 + dy, 150, 100};
            sim_.run(copy_cmd(fmt(), s, s, r, 20, 30));
            ref_copy(ref_, ref_of(s, bpp()), ref_of(s, bpp()), r, 20, 30);
            expect_vram_matches("overlapping COPY", i++);
        }
    }
    // Source and destination surfaces overlapping with different pitches:
    // no row order gets this right, only the temporary.
    const pfb_surface d = surface(4096 + 3 * bpp(), 200 * bpp(), 180, 140);
    const pfb_rect r{0, 0, 180, 140};
    sim_.run(copy_cmd(fmt(), d, s, r, 0, 0));
    ref_copy(ref_, ref_of(d, bpp()), ref_of(s, bpp()), r, 0, 0);
    expect_vram_matches("COPY between overlapping surfaces of different pitch", i);
}

std::pair<std::vector<std::byte>, HostImage> Commands::random_transfer(bool upload) {
    const pfb_surface s = random_surface();
    const pfb_rect r = random_rect(s);
    const int32_t hx = irand(0, 20), hy = irand(0, 20);
    const uint32_t host_pitch = (hx + r.w + rand(0, 8)) * bpp() + rand(0, 3);
    std::vector<std::byte> bytes(size_t{host_pitch} * (hy + r.h + 1) + 1);
    for (auto& b : bytes) {
        b = std::byte(static_cast<uint8_t>(rng_()));
    }
    HostImage img =
        make_host_image(sim_.host(), bytes, rng_,
                        upload ? pciem::DmaDirection::to_device : pciem::DmaDirection::from_device);
    sim_.run(xfer_cmd(upload ? PFB_OP_UPLOAD : PFB_OP_DOWNLOAD, fmt(), s, r, host_pitch, hx, hy,
                      static_cast<uint32_t>(img.list.size()), img.list_bus));
    ref_xfer(ref_, bytes, ref_of(s, bpp()), r, host_pitch, hx, hy, upload);
    return {std::move(bytes), std::move(img)};
}

TEST_P(Commands, UploadMatchesReference) {
    for (int i = 0; i < 80; ++i) {
        (void)random_transfer(true);
        expect_vram_matches("UPLOAD", i);
    }
    EXPECT_TRUE(sim_.host().dma().faults().empty());
}

TEST_P(Commands, DownloadMatchesReferenceAndLeavesOtherBytes) {
    for (int i = 0; i < 80; ++i) {
        const auto [bytes, img] = random_transfer(false);
        ASSERT_EQ(img.linear(), bytes) << "DOWNLOAD case " << i;
        expect_vram_matches("DOWNLOAD (VRAM unchanged)", i);
    }
}

INSTANTIATE_TEST_SUITE_P(Formats, Commands, ::testing::Values(PFB_FMT_XRGB8888, PFB_FMT_RGB565),
                         [](const auto& info) {
                             return std::string(info.param == PFB_FMT_RGB565 ? "RGB565"
                                                                             : "XRGB8888");
                         });

TEST(CommandsFill, Rgb565WritesTheLow16BitsOnly) {
    FbSim sim({.vram_bytes = vram_size});
    sim.setup_ring();
    sim.run(fill_cmd(PFB_FMT_RGB565, surface(0, 8, 3, 1), {0, 0, 3, 1}, 0xabcd1234));
    const auto v = sim.vram();
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(uint8_t(v[2 * i]), 0x34);
        EXPECT_EQ(uint8_t(v[2 * i + 1]), 0x12);
    }
    EXPECT_EQ(uint8_t(v[6]), 0);
}

TEST(CommandsRing, ManyCommandsWrapAroundTheRing) {
    FbSim sim({.vram_bytes = vram_size});
    sim.setup_ring(4096); // 64 slots
    std::vector<std::byte> ref(vram_size);
    const pfb_surface s = surface(0, 64 * 4, 64, 64);
    for (int round = 0; round < 10; ++round) {
        std::vector<pfb_cmd> cmds;
        for (int i = 0; i < 40; ++i) {
            const pfb_rect r{i, round, 3, 5};
            const uint32_t color = round * 1000 + i;
            cmds.push_back(fill_cmd(PFB_FMT_XRGB8888, s, r, color));
            ref_fill(ref, ref_of(s, 4), r, color);
        }
        sim.run(cmds);
    }
    EXPECT_EQ(0, std::memcmp(sim.vram().data(), ref.data(), vram_size));
}

} // namespace
} // namespace fbtest
