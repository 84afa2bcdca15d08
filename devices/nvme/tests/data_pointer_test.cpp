// SPDX-License-Identifier: MIT
// PRPs and SGLs resolved against a SimDma, without a controller.
#include <cstring>

#include <gtest/gtest.h>

#include "data_pointer.hpp"
#include "pciem/sim_dma.hpp"

namespace pciem::nvme {
namespace {

constexpr uint64_t page = 4096;

class DataPointer : public ::testing::Test {
protected:
    void SetUp() override { dma.set_bus_master(true); }

    // A list in coherent memory: returns its bus address.
    uint64_t list(const std::vector<uint64_t>& entries, uint64_t offset = 0) {
        const uint64_t bus = dma.alloc_coherent(2 * page);
        std::memcpy(dma.coherent(bus).data() + offset, entries.data(), entries.size() * 8);
        return bus + offset;
    }
    struct Sgl {
        uint64_t address;
        uint32_t length;
        uint8_t reserved[3];
        uint8_t id;
    };
    static Sgl desc(uint64_t address, uint32_t length, uint8_t type) {
        return Sgl{address, length, {}, static_cast<uint8_t>(type << 4)};
    }
    uint64_t segment(const std::vector<Sgl>& descs) {
        const uint64_t bus = dma.alloc_coherent(page);
        if (!descs.empty()) {
            std::memcpy(dma.coherent(bus).data(), descs.data(), descs.size() * sizeof(Sgl));
        }
        return bus;
    }
    Status sgl(const Sgl& first, uint64_t length) {
        uint64_t w[2];
        std::memcpy(w, &first, 16);
        return resolve_sgl(dma, w[0], w[1], length, runs);
    }

    SimDma dma;
    std::vector<DmaSegment> runs;
};

TEST_F(DataPointer, Prp1AloneWithAnOffset) {
    ASSERT_EQ(resolve_prps(dma, 0x10000 + 512, 0, 1024, page, runs), status::success);
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(runs[0].address, 0x10000u + 512);
    EXPECT_EQ(runs[0].length, 1024u);
    EXPECT_EQ(resolve_prps(dma, 0x10002, 0, 8, page, runs), status::prp_invalid_offset)
        << "dword alignment";
}

TEST_F(DataPointer, Prp2IsTheSecondPage) {
    ASSERT_EQ(resolve_prps(dma, 0x10000 + 3072, 0x50000, 4096, page, runs), status::success);
    ASSERT_EQ(runs.size(), 2u);
    EXPECT_EQ(runs[0].length, 1024u);
    EXPECT_EQ(runs[1].address, 0x50000u);
    EXPECT_EQ(runs[1].length, 3072u);
    EXPECT_EQ(resolve_prps(dma, 0x10000, 0x50010, 8192, page, runs), status::prp_invalid_offset);
}

TEST_F(DataPointer, PrpListMergesAdjacentPages) {
    const uint64_t l = list({0x21000, 0x22000, 0x40000});
    ASSERT_EQ(resolve_prps(dma, 0x20000, l, 4 * page - 100, page, runs), status::success);
    ASSERT_EQ(runs.size(), 2u);
    EXPECT_EQ(runs[0].address, 0x20000u);
    EXPECT_EQ(runs[0].length, 3 * page);
    EXPECT_EQ(runs[1].address, 0x40000u);
    EXPECT_EQ(runs[1].length, page - 100);
}

TEST_F(DataPointer, PrpListsChainAtTheEndOfAListPage) {
    // The first list page holds two entries from its offset on: one data
    // page and the pointer to the next list.
    const uint64_t second = list({0x38000, 0x34000});
    const uint64_t first = list({0x31000, second}, page - 16);
    ASSERT_EQ(resolve_prps(dma, 0x30000, first, 4 * page, page, runs), status::success);
    ASSERT_EQ(runs.size(), 3u);
    EXPECT_EQ(runs[0].length, 2 * page); // 0x30000 and 0x31000 merged
    EXPECT_EQ(runs[1].address, 0x38000u);
    EXPECT_EQ(runs[2].address, 0x34000u);
}

TEST_F(DataPointer, PrpListErrors) {
    EXPECT_EQ(resolve_prps(dma, 0x30000, list({0x31008, 0x32000}), 3 * page, page, runs),
              status::prp_invalid_offset);
    EXPECT_EQ(resolve_prps(dma, 0x30000, 0xdead0000, 3 * page, page, runs),
              status::data_transfer_error)
        << "the list itself is unmapped";
    EXPECT_FALSE(dma.faults().empty());
}

TEST_F(DataPointer, LargerMemoryPages) {
    ASSERT_EQ(resolve_prps(dma, 0x40000, 0x80000, 2 * 16384, 16384, runs), status::success);
    EXPECT_EQ(runs.size(), 2u);
}

TEST_F(DataPointer, SglDataBlockInline) {
    ASSERT_EQ(sgl(desc(0x1234, 700, sgl::data_block), 700), status::success);
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(runs[0].address, 0x1234u);
    EXPECT_EQ(sgl(desc(0x1234, 700, sgl::data_block), 512), status::sgl_invalid_data_length);
    EXPECT_EQ(sgl(desc(0x1234, 100, sgl::data_block), 512), status::sgl_invalid_data_length);
}

TEST_F(DataPointer, SglSegmentChain) {
    const uint64_t last =
        segment({desc(0x9000, 100, sgl::data_block), desc(0xa000, 200, sgl::data_block)});
    const uint64_t seg =
        segment({desc(0x7000, 4096, sgl::data_block), desc(0x8000, 50, sgl::data_block),
                 desc(last, 32, sgl::last_segment)});
    ASSERT_EQ(sgl(desc(seg, 48, sgl::segment), 4096 + 50 + 300), status::success);
    ASSERT_EQ(runs.size(), 3u) << "0x7000+4096 and 0x8000 merge";
    EXPECT_EQ(runs[0].length, 4096u + 50);
    EXPECT_EQ(runs[2].address, 0xa000u);
}

TEST_F(DataPointer, SglErrors) {
    EXPECT_EQ(sgl(desc(0x1000, 16, 0x1 /* bit bucket */), 16), status::sgl_invalid_type);
    EXPECT_EQ(sgl(desc(0x1000, 16, 0x4 /* keyed */), 16), status::sgl_invalid_type);
    EXPECT_EQ(sgl(desc(segment({}), 24, sgl::last_segment), 16), status::sgl_invalid_count);
    // A Segment descriptor in a Last Segment.
    const uint64_t inner = segment({desc(0x1000, 16, sgl::data_block)});
    const uint64_t bad = segment({desc(inner, 16, sgl::segment)});
    EXPECT_EQ(sgl(desc(bad, 16, sgl::last_segment), 16), status::sgl_invalid_segment);
    // A segment descriptor that is not last in its segment.
    const uint64_t mid =
        segment({desc(inner, 16, sgl::last_segment), desc(0x2000, 16, sgl::data_block)});
    EXPECT_EQ(sgl(desc(mid, 32, sgl::segment), 32), status::sgl_invalid_segment);
    // A segment that loops to itself is bounded.
    const uint64_t self = dma.alloc_coherent(page);
    const Sgl loop[2] = {desc(0x1000, 16, sgl::data_block), desc(self, 32, sgl::segment)};
    std::memcpy(dma.coherent(self).data(), loop, sizeof(loop));
    EXPECT_EQ(sgl(desc(self, 32, sgl::segment), 16), status::sgl_invalid_count);
    EXPECT_EQ(sgl(desc(0xdead0000, 16, sgl::last_segment), 16), status::data_transfer_error);
}

} // namespace
} // namespace pciem::nvme
