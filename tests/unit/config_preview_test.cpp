// SPDX-License-Identifier: MIT
// The offline preview runs kernel/cfgspace/pciem_cfg.c, the builder
// pciem.ko uses; these tests pin how libpciem drives it.
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pciem/config_preview.hpp"
#include "pciem/spec_file.hpp"

namespace {

using ::testing::StartsWith;

uint32_t read32(const pciem_cfg& cfg, uint16_t off) {
    return pciem_cfg_read(&cfg, off, 4);
}

TEST(ConfigPreview, HeaderAndBars) {
    const auto spec = pciem::DeviceSpec{}
                          .ids(0x1b36, 0x7e00)
                          .class_code(0x010802)
                          .revision(2)
                          .bar(0, pciem::Bar::mem64(16384).prefetchable())
                          .bar(2, pciem::Bar::mem32(4096));
    auto cfg = pciem::preview_config(spec);
    ASSERT_TRUE(cfg) << cfg.error().message;
    const pciem_cfg& c = **cfg;
    EXPECT_EQ(c.size, 256);
    EXPECT_EQ(read32(c, 0x00), 0x7e001b36u);
    EXPECT_EQ(read32(c, 0x08), 0x01080202u);
    EXPECT_EQ(read32(c, 0x10), 0xcu); // 64-bit, prefetchable
    EXPECT_EQ(read32(c, 0x18), 0x0u); // 32-bit, non-prefetchable
    EXPECT_EQ(c.bar_size[0], 16384u);
    EXPECT_EQ(c.bar_size[2], 4096u);
}

TEST(ConfigPreview, CapabilitiesArePlacedWhereTheLayoutSays) {
    auto specs = pciem::load_spec_file(std::string(PCIEM_EXAMPLES_DIR) + "/nic-like.json");
    ASSERT_TRUE(specs);
    auto cfg = pciem::preview_config(specs->at(0));
    ASSERT_TRUE(cfg) << cfg.error().message;
    const pciem_cfg& c = **cfg;
    EXPECT_EQ(c.size, PCIEM_CFG_SPACE_SIZE);
    ASSERT_NE(c.layout.msix, 0);
    EXPECT_EQ(c.val[c.layout.msix], 0x11);
    ASSERT_NE(c.layout.pm, 0);
    EXPECT_EQ(c.val[c.layout.pm], 0x01);
    ASSERT_NE(c.layout.pcie, 0);
    EXPECT_EQ(c.val[c.layout.pcie], 0x10);
    ASSERT_GE(c.layout.aer, 0x100);
    EXPECT_EQ(pciem_cfg_read(&c, c.layout.aer, 2), 0x0001u);
    ASSERT_GE(c.layout.dsn, 0x100);
    EXPECT_EQ(read32(c, c.layout.dsn + 4), 0x44556677u);
    EXPECT_EQ(read32(c, c.layout.dsn + 8), 0x00112233u);
}

TEST(ConfigPreview, KernelRulesProduceTheSentence) {
    const auto spec = pciem::DeviceSpec{}.ids(0x1b36, 2).bar(2, pciem::Bar::mem32(3000));
    auto cfg = pciem::preview_config(spec);
    ASSERT_FALSE(cfg);
    EXPECT_EQ(cfg.error().errnum, EINVAL);
    EXPECT_EQ(cfg.error().message,
              "BAR 2 (mem32, size 3000): BAR size must be a power of two of at least 16 bytes "
              "(4 KiB for a RAM BAR) (EINVAL)");
}

TEST(ConfigPreview, LimitsApply) {
    const auto spec = pciem::DeviceSpec{}.ids(0x1b36, 2).bar(0, pciem::Bar::mem32(1 << 20));
    auto cfg = pciem::preview_config(spec, {.max_bar64 = 1 << 30, .max_bar32 = 1 << 16});
    ASSERT_FALSE(cfg);
    EXPECT_EQ(cfg.error().errnum, EFBIG);
    EXPECT_THAT(cfg.error().message, StartsWith("BAR 0 (mem32, size 1048576): "));
}

TEST(ConfigPreview, ExtendedCapabilityWithoutPcie) {
    auto cfg = pciem::preview_config(pciem::DeviceSpec{}.ids(0x1b36, 2).pm().aer());
    ASSERT_FALSE(cfg);
    EXPECT_THAT(cfg.error().message, StartsWith("capability 1 (aer): "));
}

TEST(ConfigPreview, RciepWithAerTurnsAnEndpointIntoAnIntegratedOneThatReports) {
    for (bool has_pcie : {false, true}) {
        auto spec = pciem::DeviceSpec{}.ids(0x1b36, 2).msi(1);
        if (has_pcie) {
            spec.pcie(PCIEM_PCIE_ENDPOINT);
        }
        auto cfg = pciem::preview_config(spec.rciep_with_aer());
        ASSERT_TRUE(cfg) << cfg.error().message;
        const pciem_cfg& c = **cfg;
        ASSERT_NE(c.layout.pcie, 0);
        EXPECT_EQ((pciem_cfg_read(&c, c.layout.pcie + 2, 2) >> 4) & 0xf,
                  unsigned{PCIEM_PCIE_RC_ENDPOINT});
        EXPECT_TRUE(read32(c, c.layout.pcie + 4) & (1u << 28)) << "Function Level Reset";
        EXPECT_GE(c.layout.aer, 0x100);
        // Twice is the same as once: no second AER capability.
        auto again = pciem::preview_config(spec.rciep_with_aer().rciep_with_aer());
        EXPECT_TRUE(again) << again.error().message;
    }
}

TEST(HexDump, LspciFormat) {
    auto cfg = pciem::preview_config(pciem::DeviceSpec{}.ids(0x1b36, 0x7e00));
    ASSERT_TRUE(cfg);
    const std::string dump = pciem::hex_dump(**cfg);
    EXPECT_THAT(dump, StartsWith("00: 36 1b 00 7e 00 00 00 00 00 00 00 00 00 00 00 00\n10: "));
    EXPECT_EQ(std::count(dump.begin(), dump.end(), '\n'), 16);
    EXPECT_EQ(dump.size(), 16u * (3 + 16 * 3 + 1));

    auto big = pciem::preview_config(pciem::DeviceSpec{}.ids(0x1b36, 2).pcie());
    ASSERT_TRUE(big);
    const std::string big_dump = pciem::hex_dump(**big);
    EXPECT_EQ(std::count(big_dump.begin(), big_dump.end(), '\n'), 256);
    EXPECT_NE(big_dump.find("\n100: "), std::string::npos);
    EXPECT_NE(big_dump.find("\nff0: "), std::string::npos);
}

} // namespace
