// SPDX-License-Identifier: MIT
// The DMA sanitizer's rules (kernel/rules/pciem_dma_rules.c), which
// pciem.ko's checked DMA and the SimHost's SimDma both judge by: each
// verdict, its order, and where the refused range starts.
#include "pciem_dma_rules.h"

#include <gtest/gtest.h>

namespace {

pciem_dma_found live(uint64_t iova, uint64_t len, uint8_t dir) {
    pciem_dma_found f{};
    f.bus_master = true;
    f.live = true;
    f.iova = iova;
    f.len = len;
    f.dir = dir;
    return f;
}

uint32_t judge(const pciem_dma_found& f, uint32_t op, uint64_t addr, uint64_t len,
               uint64_t* at = nullptr) {
    uint64_t where = 0;
    const uint32_t v = pciem_dma_judge(&f, op, addr, len, &where);
    if (at != nullptr) {
        *at = where;
    }
    return v;
}

} // namespace

TEST(DmaRules, InsideALiveMappingInItsDirection) {
    EXPECT_EQ(judge(live(0x1000, 512, PCIEM_DMA_RULES_TO_DEVICE), PCIEM_DMA_READ, 0x1000, 512),
              PCIEM_DMA_OK);
    EXPECT_EQ(judge(live(0x1000, 512, PCIEM_DMA_RULES_FROM_DEVICE), PCIEM_DMA_WRITE, 0x1100, 256),
              PCIEM_DMA_OK);
    EXPECT_EQ(judge(live(0x1000, 8, PCIEM_DMA_RULES_BIDIRECTIONAL), PCIEM_DMA_CAS, 0x1000, 8),
              PCIEM_DMA_OK);
}

TEST(DmaRules, BusMasteringComesFirst) {
    auto f = live(0x1000, 512, PCIEM_DMA_RULES_BIDIRECTIONAL);
    f.bus_master = false;
    uint64_t at = 0;
    EXPECT_EQ(judge(f, PCIEM_DMA_READ, 0x1010, 4, &at), PCIEM_DMA_F_BUS_MASTER);
    EXPECT_EQ(at, 0x1010u);
}

TEST(DmaRules, DirectionIsTheDriversWord) {
    EXPECT_EQ(judge(live(0x1000, 512, PCIEM_DMA_RULES_FROM_DEVICE), PCIEM_DMA_READ, 0x1000, 4),
              PCIEM_DMA_F_DIRECTION);
    EXPECT_EQ(judge(live(0x1000, 512, PCIEM_DMA_RULES_TO_DEVICE), PCIEM_DMA_WRITE, 0x1000, 4),
              PCIEM_DMA_F_DIRECTION);
    // an atomic reads and writes: only a bidirectional mapping allows it
    EXPECT_EQ(judge(live(0x1000, 512, PCIEM_DMA_RULES_TO_DEVICE), PCIEM_DMA_FETCH_ADD, 0x1000, 4),
              PCIEM_DMA_F_DIRECTION);
    EXPECT_EQ(judge(live(0x1000, 512, PCIEM_DMA_RULES_FROM_DEVICE), PCIEM_DMA_SWAP, 0x1000, 8),
              PCIEM_DMA_F_DIRECTION);
}

TEST(DmaRules, RunningOffTheEndIsBoundsAtTheEnd) {
    uint64_t at = 0;
    EXPECT_EQ(judge(live(0x1000, 512, PCIEM_DMA_RULES_BIDIRECTIONAL), PCIEM_DMA_READ, 0x11f0, 32, &at),
              PCIEM_DMA_F_BOUNDS);
    EXPECT_EQ(at, 0x1200u) << "the first byte past the mapping";
    // bounds is judged before direction
    EXPECT_EQ(judge(live(0x1000, 512, PCIEM_DMA_RULES_FROM_DEVICE), PCIEM_DMA_READ, 0x11f0, 32),
              PCIEM_DMA_F_BOUNDS);
    EXPECT_EQ(judge(live(0x1000, 512, PCIEM_DMA_RULES_BIDIRECTIONAL), PCIEM_DMA_READ, 0x1000,
                    ~uint64_t{0}),
              PCIEM_DMA_F_BOUNDS)
        << "no overflow in the check";
}

TEST(DmaRules, NoLiveMapping) {
    pciem_dma_found f{};
    f.bus_master = true;
    uint64_t at = 0;
    EXPECT_EQ(judge(f, PCIEM_DMA_READ, 0x5000, 4, &at), PCIEM_DMA_F_UNMAPPED);
    EXPECT_EQ(at, 0x5000u);
    f.retired = true;
    EXPECT_EQ(judge(f, PCIEM_DMA_READ, 0x5000, 4), PCIEM_DMA_F_STALE);
    f.in_span = true; // the guard zone of a live buffer wins over an old mapping
    EXPECT_EQ(judge(f, PCIEM_DMA_WRITE, 0x5000, 4), PCIEM_DMA_F_BOUNDS);
    f = {};
    f.bus_master = true;
    EXPECT_EQ(judge(f, PCIEM_DMA_READ, 0x5000, 0), PCIEM_DMA_F_UNMAPPED)
        << "an empty access still needs a mapping, as in the kernel";
}

TEST(DmaRules, AMappingBeingUnmappedIsStale) {
    auto f = live(0x1000, 512, PCIEM_DMA_RULES_BIDIRECTIONAL);
    f.dying = true;
    EXPECT_EQ(judge(f, PCIEM_DMA_READ, 0x1000, 4), PCIEM_DMA_F_STALE);
}

TEST(DmaRules, AtomicShape) {
    EXPECT_TRUE(pciem_dma_op_is_atomic(PCIEM_DMA_FETCH_ADD));
    EXPECT_TRUE(pciem_dma_op_is_atomic(PCIEM_DMA_SWAP));
    EXPECT_TRUE(pciem_dma_op_is_atomic(PCIEM_DMA_CAS));
    EXPECT_FALSE(pciem_dma_op_is_atomic(PCIEM_DMA_READ));
    EXPECT_FALSE(pciem_dma_op_is_atomic(PCIEM_DMA_WRITE));
    EXPECT_EQ(pciem_dma_atomic_shape(0x1000, 4), PCIEM_DMA_OK);
    EXPECT_EQ(pciem_dma_atomic_shape(0x1008, 8), PCIEM_DMA_OK);
    EXPECT_EQ(pciem_dma_atomic_shape(0x1004, 8), PCIEM_DMA_F_ALIGNMENT);
    EXPECT_EQ(pciem_dma_atomic_shape(0x1002, 4), PCIEM_DMA_F_ALIGNMENT);
    EXPECT_EQ(pciem_dma_atomic_shape(0x1000, 2), PCIEM_DMA_F_ALIGNMENT);
    EXPECT_EQ(pciem_dma_atomic_shape(0x1000, 16), PCIEM_DMA_F_ALIGNMENT);
}
