// SPDX-License-Identifier: MIT
// The SimHost's DMA checks: the rules pciem.ko's sanitizer applies
// (lib/include/pciem/dma.hpp), so models are unit-tested against them.
#include <array>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "pciem/sim_dma.hpp"

using pciem::DmaDirection;
using pciem::DmaFaultKind;
using pciem::SimDma;

namespace {

std::vector<std::byte> bytes(size_t n, uint8_t first = 0) {
    std::vector<std::byte> v(n);
    for (size_t i = 0; i < n; ++i) {
        v[i] = std::byte(static_cast<uint8_t>(first + i));
    }
    return v;
}

class SimDmaTest : public ::testing::Test {
protected:
    void SetUp() override { dma.set_bus_master(true); }
    SimDma dma;
};

TEST_F(SimDmaTest, ReadsAndWritesTheDriversBuffer) {
    auto src = bytes(100, 1);
    std::vector<std::byte> dst(100);
    const uint64_t a = dma.map(src, DmaDirection::to_device);
    const uint64_t b = dma.map(dst, DmaDirection::from_device);
    std::vector<std::byte> tmp(100);
    ASSERT_TRUE(dma.read(a, tmp));
    ASSERT_TRUE(dma.write(b, tmp));
    EXPECT_EQ(dst, src);
    // Partial, at an offset.
    std::array<std::byte, 3> three{};
    ASSERT_TRUE(dma.read(a + 97, three));
    EXPECT_EQ(three[2], std::byte{100});
    EXPECT_TRUE(dma.faults().empty());
}

TEST_F(SimDmaTest, BusAddressKeepsThePageOffset) {
    auto buf = bytes(8192);
    const uint64_t a = dma.map(std::span(buf).subspan(123), DmaDirection::bidirectional);
    EXPECT_EQ(a % 4096, (reinterpret_cast<uintptr_t>(buf.data()) + 123) % 4096);
}

TEST_F(SimDmaTest, RefusesWithBusMasteringOffAndTouchesNothing) {
    std::vector<std::byte> dst(16);
    const uint64_t b = dma.map(dst, DmaDirection::from_device);
    dma.set_bus_master(false);
    auto r = dma.write(b, bytes(16, 7));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, DmaFaultKind::bus_master_off);
    EXPECT_EQ(dst, std::vector<std::byte>(16));
    EXPECT_EQ(dma.faults().size(), 1u);
}

TEST_F(SimDmaTest, OneByteOutOfBoundsIsRefusedWhole) {
    std::vector<std::byte> dst(64);
    const uint64_t b = dma.map(dst, DmaDirection::from_device);
    auto r = dma.write(b, bytes(65, 1));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, DmaFaultKind::bounds);
    EXPECT_EQ(r.error().address, b + 64);
    EXPECT_EQ(dst, std::vector<std::byte>(64)) << "no byte may be written";
    EXPECT_NE(r.error().message.find("past the end"), std::string::npos) << r.error().message;
    // One byte before the buffer, in its page: out of its bounds too.
    auto before = dma.write(b - 1, bytes(2, 1));
    ASSERT_FALSE(before);
    EXPECT_EQ(before.error().kind, DmaFaultKind::bounds);
}

TEST_F(SimDmaTest, WrongDirectionBothWays) {
    auto to = bytes(32);
    std::vector<std::byte> from(32);
    const uint64_t a = dma.map(to, DmaDirection::to_device);
    const uint64_t b = dma.map(from, DmaDirection::from_device);
    auto w = dma.write(a, bytes(4, 9));
    ASSERT_FALSE(w);
    EXPECT_EQ(w.error().kind, DmaFaultKind::direction);
    EXPECT_EQ(to, bytes(32));
    std::array<std::byte, 4> out{};
    auto r = dma.read(b, out);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, DmaFaultKind::direction);
}

TEST_F(SimDmaTest, AfterUnmapIsStaleAndNeverMappedIsUnmapped) {
    std::vector<std::byte> dst(64);
    const uint64_t b = dma.map(dst, DmaDirection::from_device);
    dma.unmap(b);
    auto r = dma.write(b + 8, bytes(8, 1));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, DmaFaultKind::stale);
    EXPECT_EQ(dst, std::vector<std::byte>(64));
    // Later mappings never reuse the address.
    std::vector<std::byte> other(64);
    EXPECT_NE(dma.map(other, DmaDirection::from_device), b);
    auto u = dma.write(0xdead0000, bytes(8));
    ASSERT_FALSE(u);
    EXPECT_EQ(u.error().kind, DmaFaultKind::unmapped);
    EXPECT_EQ(dma.faults().size(), 2u);
    dma.unmap(b);
    EXPECT_EQ(dma.bad_unmaps(), 1u);
}

TEST_F(SimDmaTest, CoherentMemoryIsZeroedBidirectionalAndPageAligned) {
    const uint64_t c = dma.alloc_coherent(10000);
    EXPECT_EQ(c % 4096, 0u);
    auto mem = dma.coherent(c);
    ASSERT_EQ(mem.size(), 10000u);
    EXPECT_EQ(mem[9999], std::byte{0});
    ASSERT_TRUE(dma.write(c + 5000, bytes(4, 0xa0)));
    EXPECT_EQ(mem[5003], std::byte{0xa3});
    std::array<std::byte, 4> out{};
    ASSERT_TRUE(dma.read(c + 5000, out));
    dma.free_coherent(c);
    EXPECT_EQ(dma.live_mappings(), 0u);
    EXPECT_EQ(dma.read(c, out).error().kind, DmaFaultKind::stale);
}

TEST_F(SimDmaTest, ThirtyTwoBitMaskGivesLowAddresses) {
    dma.set_mask_bits(32);
    std::vector<std::byte> buf(1 << 20);
    const uint64_t a = dma.map(buf, DmaDirection::bidirectional);
    EXPECT_LT(a + buf.size(), uint64_t{1} << 32);
    dma.set_mask_bits(64);
    EXPECT_GE(dma.map(buf, DmaDirection::bidirectional), uint64_t{1} << 32);
}

TEST_F(SimDmaTest, ScatterGatherAcrossSegments) {
    auto a = bytes(10, 0);
    auto b = bytes(20, 10);
    const uint64_t sa = dma.map(a, DmaDirection::to_device);
    const uint64_t sb = dma.map(b, DmaDirection::to_device);
    const std::array sg{pciem::DmaSegment{sa, 10}, pciem::DmaSegment{sb, 20}};
    std::vector<std::byte> out(30);
    ASSERT_TRUE(dma.read_sg(sg, out));
    EXPECT_EQ(out, bytes(30, 0));
    std::vector<std::byte> more(31);
    EXPECT_FALSE(dma.read_sg(sg, more));
}

TEST_F(SimDmaTest, AtomicsAreAtomicAgainstConcurrentCpus) {
    alignas(8) std::array<std::byte, 16> mem{};
    const uint64_t a = dma.map(mem, DmaDirection::bidirectional);
    auto* cpu_side = reinterpret_cast<uint64_t*>(mem.data());
    std::thread cpu([&] {
        for (int i = 0; i < 100000; ++i) {
            std::atomic_ref<uint64_t>(*cpu_side).fetch_add(1);
        }
    });
    for (int i = 0; i < 100000; ++i) {
        ASSERT_TRUE(dma.fetch_add(a, 1, 8));
    }
    cpu.join();
    EXPECT_EQ(*cpu_side, 200000u);
    EXPECT_EQ(*dma.swap(a + 8, 0x11223344, 4), 0u);
    EXPECT_EQ(*dma.compare_swap(a + 8, 5, 6, 4), 0x11223344u) << "mismatch: old value back";
    EXPECT_EQ(*dma.compare_swap(a + 8, 0x11223344, 6, 4), 0x11223344u);
    EXPECT_EQ(*dma.fetch_add(a + 8, 0, 4), 6u);
}

TEST_F(SimDmaTest, AtomicsNeedAlignmentAndABidirectionalMapping) {
    alignas(8) std::array<std::byte, 16> mem{};
    const uint64_t a = dma.map(mem, DmaDirection::bidirectional);
    EXPECT_EQ(dma.fetch_add(a + 4, 1, 8).error().kind, DmaFaultKind::alignment);
    EXPECT_EQ(dma.fetch_add(a, 1, 2).error().kind, DmaFaultKind::alignment);
    const uint64_t t = dma.map(mem, DmaDirection::to_device);
    EXPECT_EQ(dma.swap(t, 1, 8).error().kind, DmaFaultKind::direction);
    EXPECT_EQ(mem, (std::array<std::byte, 16>{}));
}

} // namespace
