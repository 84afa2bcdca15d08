// SPDX-License-Identifier: MIT
//
// The zero-copy window's direct accesses are checked against the
// permissions pciem.ko publishes (struct pciem_dma_perm): bus mastering,
// and each page's mapping direction. What they refuse takes the checked
// path, so the model never touches a page the driver has not mapped.
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "kernel_dma.hpp"

namespace {

using pciem::DmaAccess;

constexpr uint64_t base = 0x10000000;
constexpr size_t pages = 8;

struct Window {
    std::vector<std::byte> bytes = std::vector<std::byte>(pages * 4096);
    std::vector<uint8_t> perm = std::vector<uint8_t>(sizeof(pciem_dma_perm) + pages);
    pciem::KernelDma dma{-1};

    Window() {
        header().magic = PCIEM_DMA_PERM_MAGIC;
        header().pages = pages;
        header().bus_master = 1;
        dma.bind_window(bytes, base, &header());
    }
    pciem_dma_perm& header() { return *reinterpret_cast<pciem_dma_perm*>(perm.data()); }
    uint8_t& page(size_t i) { return perm[sizeof(pciem_dma_perm) + i]; }
};

TEST(WindowPermissions, DirectAccessFollowsEachPagesMapping) {
    Window w;
    w.page(1) = PCIEM_DMA_PERM_READ | PCIEM_DMA_PERM_WRITE; // coherent
    w.page(2) = PCIEM_DMA_PERM_READ;                        // TO_DEVICE
    w.page(3) = PCIEM_DMA_PERM_WRITE;                       // FROM_DEVICE
    EXPECT_TRUE(w.dma.direct(base, 16).empty()) << "page 0 is not mapped";
    EXPECT_EQ(w.dma.direct(base + 4096, 4096).size(), 4096u);
    EXPECT_EQ(w.dma.direct(base + 2 * 4096, 8, DmaAccess::read).size(), 8u);
    EXPECT_TRUE(w.dma.direct(base + 2 * 4096, 8, DmaAccess::write).empty())
        << "a device write into a TO_DEVICE page";
    EXPECT_TRUE(w.dma.direct(base + 3 * 4096, 8, DmaAccess::read).empty())
        << "a device read of a FROM_DEVICE page";
    EXPECT_TRUE(w.dma.direct(base + 4096 + 4000, 200).empty())
        << "runs from a read-write page into a read-only one";
    EXPECT_EQ(w.dma.direct(base + 4096 + 4000, 200, DmaAccess::read).size(), 200u)
        << "both pages readable";
}

TEST(WindowPermissions, BusMasteringOffRefusesEverything) {
    Window w;
    w.page(0) = PCIEM_DMA_PERM_READ | PCIEM_DMA_PERM_WRITE;
    EXPECT_FALSE(w.dma.direct(base, 64).empty());
    w.header().bus_master = 0;
    EXPECT_TRUE(w.dma.direct(base, 64).empty());
    EXPECT_TRUE(w.dma.direct(base, 0).empty());
}

TEST(WindowPermissions, UnmappingRevokesAtOnce) {
    Window w;
    w.page(5) = PCIEM_DMA_PERM_READ | PCIEM_DMA_PERM_WRITE;
    EXPECT_FALSE(w.dma.direct(base + 5 * 4096, 4096).empty());
    w.page(5) = 0; // the driver unmapped it
    EXPECT_TRUE(w.dma.direct(base + 5 * 4096, 4096).empty());
    EXPECT_TRUE(w.dma.direct(base + pages * 4096, 1).empty()) << "past the window";
}

} // namespace
