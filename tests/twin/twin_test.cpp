// SPDX-License-Identifier: MIT
// The twin's own logic on the host: the script parser, how values are
// shown, and the SimHost side of a script (the guest case compares it
// with pciem.ko).
#include <gtest/gtest.h>

#include "twin_hosts.hpp"

using namespace pciem::twin;

TEST(TwinScript, ParsesEveryOperation) {
    auto steps = parse_script("# c\ncfg_read 0x10 4\ncfg_write 0x4 2 6\nread 0x8 lo\n"
                              "write 0x200 BUF.lo+0x10\nwrite 0x204 BUF.hi\ndma_map from\n"
                              "dma_word\ndma_unmap\n",
                              "t");
    ASSERT_TRUE(steps) << steps.error().message;
    ASSERT_EQ(steps->size(), 8u);
    EXPECT_EQ((*steps)[0].line, 2u);
    EXPECT_EQ((*steps)[1].op, Op::cfg_write);
    EXPECT_EQ((*steps)[1].size, 2u);
    EXPECT_EQ((*steps)[2].addr, Step::Addr::lo);
    EXPECT_EQ((*steps)[3].value.kind, Value::Kind::buf_lo);
    EXPECT_EQ(resolve((*steps)[3].value, 0x1'2345'0000), 0x23450010u);
    EXPECT_EQ(resolve((*steps)[4].value, 0x1'2345'0000), 1u);
    EXPECT_EQ((*steps)[5].dir, "from");
}

TEST(TwinScript, RefusesWhatItCannotPlay) {
    for (const char* bad : {"cfg_read 0x3 2", "cfg_read 0x10 3", "cfg_read 0x1000 4", "read 0x2",
                            "write 0x8", "write 0x8 0x100000000", "write 0x8 BUF.mid",
                            "dma_map sideways", "dma_unmap now", "poke 1", ""}) {
        auto steps = parse_script(bad, "t");
        EXPECT_FALSE(steps) << bad;
    }
    auto steps = parse_script("read 0x8\nfrob\n", "s.twin");
    ASSERT_FALSE(steps);
    EXPECT_NE(steps.error().message.find("s.twin:2"), std::string::npos) << steps.error().message;
}

TEST(TwinScript, AddressesShowRelativeToThePage) {
    using A = Step::Addr;
    EXPECT_EQ(show_value(0x10000010, A::lo, 0x1'1000'0000), "BUF.lo+0x10");
    EXPECT_EQ(show_value(0x0ffffff0, A::lo, 0x1'1000'0000), "BUF.lo-0x10");
    EXPECT_EQ(show_value(1, A::hi, 0x1'1000'0000), "BUF.hi");
    EXPECT_EQ(show_value(2, A::hi, 0x1'1000'0000), "0x2");
    EXPECT_EQ(show_value(1, A::lo, 0x1'0000'0000), "BUF.lo+0x1");
    EXPECT_EQ(show_value(0x10000010, A::none, 0x1'1000'0000), "0x10000010");
    EXPECT_EQ(show_value(7, A::lo, std::nullopt), "0x7");
}

// The SimHost's side of a short script: what the device and the
// sanitizer's rules must give (the same answers pciem.ko must give).
TEST(TwinSim, RegistersAndDmaRules) {
    auto steps = parse_script("read 0x0\n"
                              "write 0x8 0x12345678\nread 0x8\n"
                              "dma_map to\n"
                              "write 0x208 BUF.lo\nwrite 0x20c BUF.hi\nwrite 0x210 64\n"
                              "write 0x228 2\nread 0x22c\nread 0x238 lo\n"
                              "dma_map from\n"
                              "write 0x208 BUF.lo\nwrite 0x20c BUF.hi\nwrite 0x214 7\n"
                              "write 0x228 2\nread 0x22c\ndma_word\n"
                              "write 0x208 BUF.lo+0xff0\nwrite 0x228 2\nread 0x22c\n"
                              "dma_unmap\nwrite 0x208 BUF.lo\nwrite 0x228 2\nread 0x22c\n",
                              "t");
    ASSERT_TRUE(steps) << steps.error().message;
    auto sim = SimDriver::create();
    ASSERT_TRUE(sim) << sim.error().message;
    // Memory decoding as enumeration leaves it.
    ASSERT_TRUE((*sim)->cfg_write(0x04, 2, 0x2));
    const auto t = play(*steps, **sim);
    ASSERT_EQ(t.size(), steps->size());
    EXPECT_EQ(t[0], "1: read 0x0 = 0x50434945");
    EXPECT_EQ(t[2], "3: read 0x8 = 0x12345678");
    EXPECT_EQ(t[8], "9: read 0x22c = 0x5");          // the direction forbids a fill
    EXPECT_EQ(t[9], "10: read 0x238 lo = BUF.lo+0x0");
    EXPECT_EQ(t[15], "16: read 0x22c = 0x0");        // it lands
    // testdev_dma_pattern(7, 0..3): bytes 7, 138, 13, 144.
    EXPECT_EQ(t[16], "17: dma_word = 0x900d8a07");
    EXPECT_EQ(t[19], "20: read 0x22c = 0x4");        // past the page
    EXPECT_EQ(t[23], "24: read 0x22c = 0x3");        // after the unmap
}
