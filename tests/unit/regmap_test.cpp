// SPDX-License-Identifier: MIT
// RegisterMap semantics: every access type, partial and split accesses,
// 64-bit registers as 2 x 32, the unmapped policy, declaration errors.
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pciem/regmap.hpp"

namespace {

using ::testing::HasSubstr;

TEST(RegisterMap, ReadOnlyConstantIgnoresWrites) {
    pciem::RegisterMap m("t", 0x100);
    m.reg32(0x0, "ID").ro(0x11223344);
    ASSERT_TRUE(m.seal());
    m.write(0x0, 4, 0);
    EXPECT_EQ(m.read(0x0, 4), 0x11223344u);
}

TEST(RegisterMap, ReadOnlyGetterIsAskedEachRead) {
    pciem::RegisterMap m("t", 0x100);
    uint32_t v = 5;
    m.reg32(0x0, "V").ro([&] { return v; });
    ASSERT_TRUE(m.seal());
    EXPECT_EQ(m.read(0x0, 4), 5u);
    v = 7;
    EXPECT_EQ(m.read(0x0, 4), 7u);
}

TEST(RegisterMap, ReadWriteKeepsWhatWasWritten) {
    pciem::RegisterMap m("t", 0x100);
    m.reg32(0x4, "R").rw(0xaa);
    ASSERT_TRUE(m.seal());
    EXPECT_EQ(m.read(0x4, 4), 0xaau);
    m.write(0x4, 4, 0xdeadbeef);
    EXPECT_EQ(m.read(0x4, 4), 0xdeadbeefu);
}

TEST(RegisterMap, WriteOneToClear) {
    pciem::RegisterMap m("t", 0x100);
    auto& st = m.reg32(0x8, "STATUS").w1c(0xf0);
    ASSERT_TRUE(m.seal());
    m.write(0x8, 4, 0x30);
    EXPECT_EQ(m.read(0x8, 4), 0xc0u);
    m.write(0x8, 4, 0x0); // writing 0 changes nothing
    EXPECT_EQ(m.read(0x8, 4), 0xc0u);
    st.set_bits(0x1); // the device sets bits
    EXPECT_EQ(m.read(0x8, 4), 0xc1u);
}

TEST(RegisterMap, ReadToClearClearsOnlyTheBytesRead) {
    pciem::RegisterMap m("t", 0x100);
    m.reg32(0xc, "RC").rc(0x12345678);
    ASSERT_TRUE(m.seal());
    EXPECT_EQ(m.read(0xc, 1), 0x78u);
    EXPECT_EQ(m.read(0xc, 4), 0x12345600u);
    EXPECT_EQ(m.read(0xc, 4), 0u);
    m.write(0xc, 4, 0xffffffff); // RC latches are not writable
    EXPECT_EQ(m.read(0xc, 4), 0u);
}

TEST(RegisterMap, WriteOnlyReadsZeroAndActsWithTheBytesWritten) {
    pciem::RegisterMap m("t", 0x100);
    std::vector<std::pair<uint64_t, uint64_t>> seen;
    m.reg32(0x10, "SET").wo().on_write([&](uint64_t o, uint64_t n) { seen.emplace_back(o, n); });
    ASSERT_TRUE(m.seal());
    m.write(0x10, 4, 0xff00ff00);
    m.write(0x11, 1, 0x01); // byte 1 only: the other bytes are not re-sent
    EXPECT_EQ(m.read(0x10, 4), 0u);
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[1].second, 0x100u);
}

TEST(RegisterMap, WriteHookSeesOldAndNewValue) {
    pciem::RegisterMap m("t", 0x100);
    uint64_t old_v = 0, new_v = 0;
    m.reg32(0x0, "R").rw(0x1111).on_write([&](uint64_t o, uint64_t n) {
        old_v = o;
        new_v = n;
    });
    ASSERT_TRUE(m.seal());
    m.write(0x1, 1, 0x22);
    EXPECT_EQ(old_v, 0x1111u);
    EXPECT_EQ(new_v, 0x2211u);
}

TEST(RegisterMap, ReadHookCanReplaceOrWithholdTheAnswer) {
    pciem::RegisterMap m("t", 0x100);
    int reads = 0;
    m.reg32(0x0, "A").ro(1).on_read([&](uint64_t v) {
        ++reads;
        return v + 1;
    });
    m.reg32(0x4, "HANG").ro().on_read([](uint64_t) { return std::optional<uint64_t>{}; });
    ASSERT_TRUE(m.seal());
    EXPECT_EQ(m.read(0x0, 4), 2u);
    EXPECT_EQ(m.read(0x4, 4), std::nullopt);
    // A 64-bit read over both: the hang wins, the whole read gets no answer.
    EXPECT_EQ(m.read(0x0, 8), std::nullopt);
    EXPECT_EQ(reads, 2);
}

TEST(RegisterMap, NarrowAccessesHitTheRightBytes) {
    pciem::RegisterMap m("t", 0x100);
    m.reg32(0x8, "R").rw(0xa1b2c3d4);
    ASSERT_TRUE(m.seal());
    EXPECT_EQ(m.read(0x8, 1), 0xd4u);
    EXPECT_EQ(m.read(0xb, 1), 0xa1u);
    EXPECT_EQ(m.read(0xa, 2), 0xa1b2u);
    m.write(0xa, 2, 0x5566);
    EXPECT_EQ(m.read(0x8, 4), 0x5566c3d4u);
    m.write(0x9, 1, 0x77);
    EXPECT_EQ(m.read(0x8, 4), 0x556677d4u);
}

TEST(RegisterMap, AccessSpanningTwoRegistersIsSplitInOrder) {
    pciem::RegisterMap m("t", 0x100);
    std::vector<std::string> order;
    m.reg32(0x0, "LO").rw().on_write([&](uint64_t, uint64_t) { order.push_back("LO"); });
    m.reg32(0x4, "HI").rw().on_write([&](uint64_t, uint64_t) { order.push_back("HI"); });
    ASSERT_TRUE(m.seal());
    m.write(0x0, 8, 0x1111222233334444);
    EXPECT_EQ(m.read(0x0, 4), 0x33334444u);
    EXPECT_EQ(m.read(0x4, 4), 0x11112222u);
    EXPECT_EQ(m.read(0x0, 8), 0x1111222233334444u);
    EXPECT_EQ(order, (std::vector<std::string>{"LO", "HI"}));
    // An unaligned 4-byte read straddling both.
    EXPECT_EQ(m.read(0x2, 4), 0x22223333u);
}

TEST(RegisterMap, SixtyFourBitRegisterAsTwoHalves) {
    pciem::RegisterMap m("t", 0x100);
    auto& r = m.reg64(0x10, "ADDR").rw();
    ASSERT_TRUE(m.seal());
    m.write(0x10, 4, 0x89abcdef);
    m.write(0x14, 4, 0x01234567);
    EXPECT_EQ(r.value(), 0x0123456789abcdefu);
    EXPECT_EQ(m.read(0x10, 8), 0x0123456789abcdefu);
    EXPECT_EQ(m.read(0x14, 4), 0x01234567u);
    EXPECT_EQ(m.read(0x16, 2), 0x0123u);
}

TEST(RegisterMap, ReadSideEffectsHappenOncePerAccess) {
    pciem::RegisterMap m("t", 0x100);
    uint32_t n = 0;
    m.reg32(0x0, "COUNTER").ro().on_read([&](uint64_t) { return uint64_t{n++}; });
    ASSERT_TRUE(m.seal());
    EXPECT_EQ(m.read(0x0, 4), 0u);
    EXPECT_EQ(m.read(0x2, 2), 0u); // upper half of value 1
    EXPECT_EQ(m.read(0x0, 1), 2u);
    EXPECT_EQ(n, 3u);
}

TEST(RegisterMap, MemoryRangeStoresAnyWidth) {
    pciem::RegisterMap m("t", 0x2000);
    auto& mem = m.memory(0x1000, 0x100, "SRAM");
    ASSERT_TRUE(m.seal());
    m.write(0x1003, 8, 0x0807060504030201);
    EXPECT_EQ(mem.bytes()[3], 0x01);
    EXPECT_EQ(mem.bytes()[10], 0x08);
    EXPECT_EQ(m.read(0x1004, 2), 0x0302u);
    EXPECT_EQ(m.read(0x1003, 8), 0x0807060504030201u);
}

TEST(RegisterMap, UnmappedReadsFollowThePolicyAndAreCounted) {
    pciem::RegisterMap m("t", 0x100);
    m.reg32(0x0, "A").rw(0x11111111);
    ASSERT_TRUE(m.seal());
    EXPECT_EQ(m.read(0x40, 4), 0u);
    // Half register, half hole.
    EXPECT_EQ(m.read(0x0, 8), 0x11111111u);
    m.unmapped({pciem::UnmappedPolicy::Read::ones, false});
    EXPECT_EQ(m.read(0x40, 4), 0xffffffffu);
    EXPECT_EQ(m.read(0x0, 8), 0xffffffff11111111u);
    m.write(0x40, 4, 1);
    EXPECT_EQ(m.stats().unmapped_reads, 4u);
    EXPECT_EQ(m.stats().unmapped_writes, 1u);
}

TEST(RegisterMap, UnmappedAccessesAreLoggedWithTheNearestRegister) {
    pciem::RegisterMap m("dev BAR0", 0x100);
    m.reg32(0x38, "LAST_WRITE").ro();
    std::vector<std::string> lines;
    m.unmapped({pciem::UnmappedPolicy::Read::zeros, true}).log_to([&](std::string_view l) {
        lines.emplace_back(l);
    });
    ASSERT_TRUE(m.seal());
    (void)m.read(0x3c, 4);
    m.write(0x3c, 2, 0);
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[0], "dev BAR0: read of 4 bytes at 0x3c hits no register "
                        "(4 bytes after LAST_WRITE)");
    EXPECT_THAT(lines[1], HasSubstr("write of 2 bytes at 0x3c"));
}

TEST(RegisterMap, FallbackAnswersBeforeThePolicy) {
    pciem::RegisterMap m("t", 0x100);
    m.fallback([](uint64_t off, unsigned) { return std::optional<uint64_t>{off}; },
               [](uint64_t, unsigned, uint64_t) {});
    ASSERT_TRUE(m.seal());
    EXPECT_EQ(m.read(0x42, 1), 0x42u);
}

TEST(RegisterMap, WriteObserverSeesEveryAccessOnce) {
    pciem::RegisterMap m("t", 0x100);
    m.reg32(0x0, "A").rw();
    m.reg32(0x4, "B").ro();
    int writes = 0;
    uint64_t last = 0;
    m.observe_writes([&](uint64_t, unsigned, uint64_t v) {
        ++writes;
        last = v;
    });
    ASSERT_TRUE(m.seal());
    m.write(0x0, 8, 0x1234);
    m.write(0x80, 1, 0x1ff); // unmapped, and only its byte counts
    EXPECT_EQ(writes, 2);
    EXPECT_EQ(last, 0xffu);
}

TEST(RegisterMap, OverlapIsAnError) {
    pciem::RegisterMap m("BAR0", 0x100);
    m.reg32(0x0, "A");
    m.reg16(0x2, "B");
    auto r = m.seal();
    ASSERT_FALSE(r);
    EXPECT_THAT(r.error().message,
                HasSubstr("BAR0 map: B (0x2, 2 bytes) overlaps A (0x0, 4 bytes)"));
}

TEST(RegisterMap, MemoryOverlappingARegisterIsAnError) {
    pciem::RegisterMap m("BAR0", 0x2000);
    m.memory(0x1000, 0x1000, "MEM");
    m.reg32(0x1800, "X");
    EXPECT_FALSE(m.seal());
}

TEST(RegisterMap, MisalignmentIsAnError) {
    pciem::RegisterMap m("BAR0", 0x100);
    m.reg32(0x6, "M");
    auto r = m.seal();
    ASSERT_FALSE(r);
    EXPECT_THAT(r.error().message, HasSubstr("M (0x6, 4 bytes) is not aligned"));
}

TEST(RegisterMap, BeyondTheBarIsAnError) {
    pciem::RegisterMap m("BAR0", 0x100);
    m.reg64(0x100, "FAR").rw();
    m.memory(0xe0, 0x40, "MEM");
    auto r = m.seal();
    ASSERT_FALSE(r);
    EXPECT_THAT(r.error().message, HasSubstr("beyond the BAR size 0x100"));
    EXPECT_THAT(r.error().message, HasSubstr("more problems"));
}

TEST(RegisterMap, BadWidthIsAnError) {
    pciem::RegisterMap m("BAR0", 0x100);
    m.reg(0x0, 24, "ODD");
    auto r = m.seal();
    ASSERT_FALSE(r);
    EXPECT_THAT(r.error().message, HasSubstr("ODD has a width of 24 bits"));
}

TEST(RegisterMap, ABrokenMapServesNothing) {
    pciem::RegisterMap m("BAR0", 0x100);
    m.reg32(0x0, "A").ro(5);
    m.reg32(0x0, "B").ro(6);
    EXPECT_EQ(m.read(0x0, 4), 0u); // unmapped, not a guess between A and B
}

TEST(RegisterMap, PeekHasNoSideEffects) {
    pciem::RegisterMap m("t", 0x100);
    m.reg32(0x0, "RC").rc(0xff);
    int hooks = 0;
    m.reg32(0x4, "H").ro(3).on_read([&](uint64_t v) {
        ++hooks;
        return v;
    });
    ASSERT_TRUE(m.seal());
    EXPECT_EQ(m.peek(0x0, 8), 0x3000000ffu);
    EXPECT_EQ(m.read(0x0, 4), 0xffu);
    EXPECT_EQ(hooks, 0);
}

} // namespace
