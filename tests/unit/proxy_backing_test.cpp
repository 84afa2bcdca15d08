// SPDX-License-Identifier: MIT
// pciem-proxy's BAR backing without the kernel: which pieces of a server's
// mmap()able regions become shared memory (whole pages only, page-aligned
// fd offsets, BARs PCIem backs), and that what is handed to the kernel is
// a mapping of the server's own memory, reached through a REGION_INFO
// reply on a socketpair.
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>

#include <gtest/gtest.h>
#include <linux/pci_regs.h>

#include "bar_backing.hpp"
#include "client.hpp"
#include "mirror.hpp"
#include "pciem/vfio_user/server_wire.hpp"

namespace vu = pciem::vfio_user;
namespace px = pciem::proxy;
using namespace std::chrono_literals;

namespace {

constexpr size_t page = 4096;

// BAR0 (16 KiB, trapped registers) and BAR2 (64 KiB of memory) of a
// device the mirror accepts; BAR2 comes with a memfd, its areas as given.
px::ServerDevice with_memory_bar(std::vector<vu::MmapArea> areas, uint64_t fd_offset = 0) {
    px::ServerDevice d;
    d.config.assign(256, 0);
    d.config[PCI_VENDOR_ID] = 0x34;
    d.config[PCI_VENDOR_ID + 1] = 0x12;
    d.config[PCI_DEVICE_ID] = 0x11;
    d.config[PCI_DEVICE_ID + 1] = 0x11;
    d.regions[0].size = 16384;
    d.regions[2].size = 65536;
    d.regions[2].offset = fd_offset;
    d.regions[2].flags = VFIO_REGION_INFO_FLAG_MMAP;
    d.regions[2].mmap_areas = std::move(areas);
    d.regions[VFIO_PCI_CONFIG_REGION_INDEX].size = 256;
    d.region_fds[2].reset(::memfd_create("bar2", MFD_CLOEXEC));
    EXPECT_EQ(::ftruncate(d.region_fds[2].get(), static_cast<off_t>(fd_offset + 65536)), 0);
    return d;
}

px::BackingPlan plan_of(const px::ServerDevice& d) {
    auto m = px::mirror_device(d);
    EXPECT_TRUE(m) << m.error().message;
    return px::plan_bar_backing(d, *m, page);
}

} // namespace

TEST(ProxyBacking, AWholeMmapableRegionIsOnePieceAndTrappedBarsNone) {
    const auto p = plan_of(with_memory_bar({{0, 65536}}, 0x10000));
    ASSERT_EQ(p.pieces.size(), 1u);
    EXPECT_EQ(p.pieces[0], (px::BackingPiece{2, 0, 65536, 0x10000}));
    EXPECT_TRUE(p.notes.empty());
}

TEST(ProxyBacking, SparseAreasAreCutToWholePagesAndTheRestSaysWhy) {
    const auto p = plan_of(with_memory_bar({{0x0, 0x1000}, {0x2800, 0x2000}, {0x8100, 0x800}}));
    ASSERT_EQ(p.pieces.size(), 2u);
    EXPECT_EQ(p.pieces[0], (px::BackingPiece{2, 0x0, 0x1000, 0x0}));
    // 0x2800..0x4800 holds one whole page, 0x3000..0x4000.
    EXPECT_EQ(p.pieces[1], (px::BackingPiece{2, 0x3000, 0x1000, 0x3000}));
    ASSERT_EQ(p.notes.size(), 2u);
    EXPECT_NE(p.notes[0].find("only the whole pages 0x3000..0x4000"), std::string::npos)
        << p.notes[0];
    EXPECT_NE(p.notes[1].find("hold no whole page"), std::string::npos) << p.notes[1];
}

TEST(ProxyBacking, AnUnalignedFdOffsetOrNoFdOrAnAbsentBarIsNotBacked) {
    auto p = plan_of(with_memory_bar({{0, 65536}}, 0x800));
    EXPECT_TRUE(p.pieces.empty());
    ASSERT_EQ(p.notes.size(), 1u);
    EXPECT_NE(p.notes[0].find("not page aligned"), std::string::npos) << p.notes[0];

    auto d = with_memory_bar({{0, 65536}});
    d.region_fds[2].reset();
    EXPECT_TRUE(plan_of(d).pieces.empty());

    d = with_memory_bar({{0, 65536}});
    auto m = px::mirror_device(d);
    ASSERT_TRUE(m);
    m->bar_present[2] = false;
    EXPECT_TRUE(px::plan_bar_backing(d, *m, page).pieces.empty());
}

// The server's REGION_INFO reply (sparse mmap capability, memfd beside
// it) through the client, then the plan applied: what the kernel is
// handed is the server's memory (a byte written there is in the memfd),
// and a piece it refuses stays trapped with the kernel's reason.
TEST(ProxyBacking, WhatTheKernelIsHandedIsTheServersMemory) {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    pciem::UniqueFd server_mem(::memfd_create("vram", MFD_CLOEXEC));
    ASSERT_EQ(::ftruncate(server_mem.get(), 65536), 0);
    std::thread server([fd = sv[1], mem = server_mem.get()] {
        vu::Channel ch{pciem::UniqueFd(fd)};
        auto m = ch.receive(2000ms);
        ASSERT_TRUE(m);
        uint16_t v[2] = {0, 2};
        vu::Bytes ver(sizeof(v));
        std::memcpy(ver.data(), v, sizeof(v));
        for (char c : std::string(R"({"capabilities":{"max_msg_fds":8}})")) {
            ver.push_back(static_cast<std::byte>(c));
        }
        ver.push_back(std::byte{0});
        ASSERT_TRUE(ch.send(vu::encode_reply(m->header, ver)));
        m = ch.receive(2000ms);
        ASSERT_TRUE(m);
        vfio_region_info info{};
        info.index = 2;
        info.flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
                     VFIO_REGION_INFO_FLAG_MMAP;
        info.size = 65536;
        const vu::MmapArea areas[] = {{0x0, 0x4000}, {0x8000, 0x2000}};
        const int fds[] = {mem};
        ASSERT_TRUE(ch.send(vu::encode_region_info_reply(m->header, 256, info, areas), fds));
    });
    auto c = px::Client::negotiate(vu::Channel(pciem::UniqueFd(sv[0])), 2000ms);
    ASSERT_TRUE(c) << c.error().message;
    auto d = with_memory_bar({});
    auto r = c->region_info(2, &d.region_fds[2]);
    server.join();
    ASSERT_TRUE(r) << r.error().message;
    d.regions[2] = *r;
    const auto plan = plan_of(d);
    ASSERT_EQ(plan.pieces.size(), 2u);

    std::vector<std::string> notes;
    std::vector<px::BackingPiece> given;
    const uint64_t backed = px::apply_bar_backing(
        d, plan,
        [&](const px::BackingPiece& p, void* addr) -> pciem::Result<void> {
            if (p.bar_offset == 0x8000) {
                return pciem::fail(EBUSY, "PCIEM_IOC_BAR_BACKING: busy");
            }
            given.push_back(p);
            std::memcpy(static_cast<char*>(addr) + 0x1000, "driver", 6);
            return {};
        },
        notes);
    EXPECT_EQ(backed, 0x4000u);
    ASSERT_EQ(given.size(), 1u);
    char got[6] = {};
    ASSERT_EQ(::pread(server_mem.get(), got, sizeof(got), 0x1000), 6);
    EXPECT_EQ(std::string(got, 6), "driver");
    ASSERT_EQ(notes.size(), 1u);
    EXPECT_NE(notes[0].find("0x8000..0xa000 stay trapped: PCIEM_IOC_BAR_BACKING: busy"),
              std::string::npos)
        << notes[0];
}
