// SPDX-License-Identifier: MIT
// The expansion ROM on the SimHost, by pciem.ko's rules: it decodes only
// while software has set its enable bit (and Memory Space Enable), reads
// come from the model's declare_rom() image (zeros past its end, the
// model's on_mmio_read() without one), writes are dropped.
#include <cerrno>
#include <vector>

#include <gtest/gtest.h>
#include <linux/pci_regs.h>

#include "pciem/sim_host.hpp"

namespace {

constexpr uint64_t rom_size = 8192;

class RomModel : public pciem::DeviceModel {
public:
    explicit RomModel(std::vector<uint8_t> image, uint64_t spec_rom = rom_size)
        : spec_rom_(spec_rom) {
        declare_bar(0, "BAR0", 4096).reg32(0, "ID").ro(0x1234);
        if (!image.empty()) {
            declare_rom(std::move(image));
        }
    }
    pciem::DeviceSpec spec() const override {
        return pciem::DeviceSpec{}
            .ids(0x1b36, 0x7e21)
            .bar(0, pciem::Bar::mem32(4096))
            .rom(spec_rom_);
    }
    std::optional<uint64_t> on_mmio_read(unsigned bar, uint64_t offset, unsigned) override {
        fallback_reads.push_back({bar, offset});
        return 0x5a5a5a5a;
    }
    void on_mmio_write(unsigned bar, uint64_t, unsigned, uint64_t) override {
        writes_seen.push_back(bar);
    }
    std::vector<std::pair<unsigned, uint64_t>> fallback_reads;
    std::vector<unsigned> writes_seen;

private:
    uint64_t spec_rom_;
};

TEST(SimRom, ReadsComeFromTheImageAndWritesAreDropped) {
    RomModel m({0x55, 0xaa, 0x10, 0x20, 0x30});
    auto h = pciem::SimHost::create(m);
    ASSERT_TRUE(h) << h.error().message;
    EXPECT_EQ((*h)->read32(PCIEM_ROM_BAR, 0), 0x2010aa55u);
    EXPECT_EQ((*h)->read64(PCIEM_ROM_BAR, 0), 0x302010aa55ull) << "zeros past the image";
    EXPECT_EQ((*h)->read16(PCIEM_ROM_BAR, rom_size - 2), 0u);
    EXPECT_FALSE((*h)->read(PCIEM_ROM_BAR, rom_size - 2, 4)) << "past the ROM: a master abort";
    (*h)->write32(PCIEM_ROM_BAR, 0, 0xdeadbeef);
    EXPECT_EQ((*h)->read32(PCIEM_ROM_BAR, 0), 0x2010aa55u) << "a ROM is read-only";
    EXPECT_TRUE(m.writes_seen.empty()) << "the write never reached the model";
    EXPECT_TRUE(m.fallback_reads.empty());
}

TEST(SimRom, DecodesOnlyWhileEnabled) {
    RomModel m({0x55, 0xaa});
    auto h = pciem::SimHost::create(m);
    ASSERT_TRUE(h) << h.error().message;
    pciem::SimHost& host = **h;
    host.cfg_write(PCI_ROM_ADDRESS, 4, 0xfffff800);
    EXPECT_EQ(host.cfg_read(PCI_ROM_ADDRESS, 4), 0xffffe000u) << "sized as 8 KiB";
    host.cfg_write(PCI_ROM_ADDRESS, 4, 0xfe100000);
    host.cfg_write(PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
    EXPECT_EQ(host.bus_read(0xfe100000, 2), 0xffffu) << "not enabled: a master abort";
    host.cfg_write(PCI_ROM_ADDRESS, 4, 0xfe100001);
    EXPECT_EQ(host.bus_read(0xfe100000, 2), 0xaa55u);
    host.cfg_write(PCI_COMMAND, 2, 0);
    EXPECT_EQ(host.bus_read(0xfe100000, 2), 0xffffu) << "Memory Space Enable off";
}

TEST(SimRom, WithoutAnImageTheModelAnswers) {
    RomModel m({});
    auto h = pciem::SimHost::create(m);
    ASSERT_TRUE(h) << h.error().message;
    EXPECT_EQ((*h)->read32(PCIEM_ROM_BAR, 0x100), 0x5a5a5a5au);
    ASSERT_EQ(m.fallback_reads.size(), 1u);
    EXPECT_EQ(m.fallback_reads[0].first, static_cast<unsigned>(PCIEM_ROM_BAR));
    EXPECT_EQ(m.fallback_reads[0].second, 0x100u);
}

TEST(SimRom, AnImageLargerThanTheRomIsRefused) {
    RomModel m(std::vector<uint8_t>(rom_size + 1, 0xff));
    auto h = pciem::SimHost::create(m);
    ASSERT_FALSE(h);
    EXPECT_EQ(h.error().errnum, EINVAL);
    EXPECT_NE(h.error().message.find("ROM image of 8193 bytes"), std::string::npos)
        << h.error().message;
    RomModel none(std::vector<uint8_t>(16, 0), 0);
    auto h2 = pciem::SimHost::create(none);
    ASSERT_FALSE(h2);
    EXPECT_NE(h2.error().message.find("no ROM"), std::string::npos) << h2.error().message;
}

} // namespace
