// SPDX-License-Identifier: MIT
//
// Unit tests of the config space unit (kernel/cfgspace) that pciem.ko,
// libpciem's simulated host and pciemctl all compile: header and BAR
// semantics, write masks, RW1C bits and capability chains, checked
// against the PCI and PCIe specifications' register layouts.
#include "pciem_cfg.h"
#include "pciem_cfg_decode.h"

#include <cerrno>
#include <cstdint>
#include <map>
#include <vector>

#include <gtest/gtest.h>

namespace {

struct Builder {
    pciem_create req{};
    std::vector<pciem_cap> caps;
    std::vector<std::vector<uint8_t>> bodies;
    pciem_cfg cfg{};
    pciem_error err{};
    pciem_cfg_limits limits{1ull << 30, 64u << 20};

    Builder() {
        req.size = sizeof(req);
        req.abi_version = PCIEM_ABI_VERSION;
        req.vendor_id = 0x1af4;
        req.device_id = 0x1001;
        req.subsys_vendor_id = 0x1af4;
        req.subsys_id = 0x0002;
        req.class_code = 0x010802;
        req.revision = 0x07;
        req.interrupt_pin = 1;
    }

    pciem_cap& cap(uint16_t type, uint16_t offset = 0) {
        pciem_cap c{};
        c.size = sizeof(c);
        c.type = type;
        c.offset = offset;
        caps.push_back(c);
        bodies.emplace_back();
        return caps.back();
    }

    void body(std::vector<uint8_t> b) {
        bodies.back() = std::move(b);
        caps.back().body.len = static_cast<uint16_t>(bodies.back().size());
    }

    int build() {
        std::vector<pciem_cfg_cap_in> in;
        for (size_t i = 0; i < caps.size(); i++)
            in.push_back({&caps[i], bodies[i].empty() ? nullptr : bodies[i].data()});
        return pciem_cfg_build(&cfg, &req, in.data(), static_cast<unsigned>(in.size()), &limits,
                               &err);
    }

    uint32_t rd(uint16_t off, unsigned size = 4) { return pciem_cfg_read(&cfg, off, size); }
    void wr(uint16_t off, uint32_t v, unsigned size = 4) { pciem_cfg_write(&cfg, off, size, v); }

    // Walk the standard capability list as the PCI core does.
    std::map<uint8_t, uint16_t> std_caps() {
        std::map<uint8_t, uint16_t> found;
        if (!(rd(0x06, 2) & 0x10))
            return found;
        uint16_t pos = rd(0x34, 1);
        for (int ttl = 48; pos && ttl; ttl--) {
            EXPECT_EQ(pos & 3, 0);
            found[static_cast<uint8_t>(rd(pos, 1))] = pos;
            pos = rd(pos + 1, 1);
        }
        return found;
    }

    std::map<uint16_t, uint16_t> ext_caps() {
        std::map<uint16_t, uint16_t> found;
        uint16_t pos = 0x100;
        for (int ttl = 960; pos && ttl; ttl--) {
            uint32_t h = rd(pos);
            if (!h)
                break;
            found[static_cast<uint16_t>(h & 0xffff)] = pos;
            pos = static_cast<uint16_t>(h >> 20);
        }
        return found;
    }
};

TEST(CfgHeader, IdsClassAndRevision) {
    Builder b;
    ASSERT_EQ(b.build(), 0);
    EXPECT_EQ(b.rd(0x00), 0x10011af4u);
    EXPECT_EQ(b.rd(0x08), 0x01080207u);
    EXPECT_EQ(b.rd(0x2c), 0x00021af4u);
    EXPECT_EQ(b.rd(0x3d, 1), 1u);
    EXPECT_EQ(b.rd(0x0e, 1), 0u);
    EXPECT_EQ(b.cfg.size, 256) << "no PCIe capability: conventional 256-byte space";
}

TEST(CfgHeader, VendorIdsThatMeanNoDeviceAreRefused) {
    // 0x0000/0xffff read as an empty slot, 0x0001 as Configuration
    // Request Retry Status, which the PCI core polls for a minute.
    for (uint16_t vendor : {0x0000, 0x0001, 0xffff}) {
        Builder b;
        b.req.vendor_id = vendor;
        EXPECT_EQ(b.build(), -EINVAL) << vendor;
        EXPECT_EQ(b.err.code, PCIEM_ERR_VENDOR_ID) << vendor;
    }
    Builder ok;
    ok.req.vendor_id = 0x0002;
    EXPECT_EQ(ok.build(), 0);
}

TEST(CfgHeader, ReadOnlyFieldsIgnoreWrites) {
    Builder b;
    ASSERT_EQ(b.build(), 0);
    for (uint16_t off : {0x00, 0x08, 0x2c, 0x34})
        b.wr(off, 0xffffffff);
    b.wr(0x3c, 0xffffffff);
    EXPECT_EQ(b.rd(0x00), 0x10011af4u);
    EXPECT_EQ(b.rd(0x08), 0x01080207u);
    EXPECT_EQ(b.rd(0x2c), 0x00021af4u);
    // Interrupt Line is writable, Pin, Min_Gnt and Max_Lat are not.
    EXPECT_EQ(b.rd(0x3c), 0x000001ffu);
}

TEST(CfgHeader, CommandRegisterMask) {
    Builder b;
    ASSERT_EQ(b.build(), 0);
    b.wr(0x04, 0xffff, 2);
    // Memory, bus master, parity, SERR#, INTx disable; never I/O space.
    EXPECT_EQ(b.rd(0x04, 2), 0x0546u);
    b.wr(0x04, 0x0000, 2);
    EXPECT_EQ(b.rd(0x04, 2), 0u);
}

TEST(CfgHeader, StatusErrorBitsAreWriteOneToClear) {
    Builder b;
    ASSERT_EQ(b.build(), 0);
    // The device sets error bits; software clears them by writing 1.
    pciem_cfg_set(&b.cfg, 0x06, 2, 0xf900);
    b.wr(0x06, 0x0000, 2);
    EXPECT_EQ(b.rd(0x06, 2), 0xf900u) << "writing 0 must not clear";
    b.wr(0x06, 0x2000, 2);
    EXPECT_EQ(b.rd(0x06, 2), 0xd900u) << "writing 1 clears just that bit";
    // A dword write to command must not clear status bits written as 0.
    b.wr(0x04, 0x00000006);
    EXPECT_EQ(b.rd(0x06, 2), 0xd900u);
    EXPECT_EQ(b.rd(0x04, 2), 0x0006u);
}

TEST(CfgBars, SizingReadsBackSizeMaskAndType) {
    Builder b;
    b.req.bars[0] = {16384, 0, 0};
    b.req.bars[1] = {1 << 20, PCIEM_BAR_MEM64 | PCIEM_BAR_PREFETCH, 0};
    b.req.bars[3] = {16, 0, 0};
    b.req.bars[4] = {1ull << 29, PCIEM_BAR_MEM64, 0};
    ASSERT_EQ(b.build(), 0);
    for (uint16_t off = 0x10; off <= 0x24; off += 4)
        b.wr(off, 0xffffffff);
    EXPECT_EQ(b.rd(0x10), 0xffffc000u);
    EXPECT_EQ(b.rd(0x14), 0xfff0000cu) << "64-bit prefetchable, 1 MiB";
    EXPECT_EQ(b.rd(0x18), 0xffffffffu) << "upper half is fully writable";
    EXPECT_EQ(b.rd(0x1c), 0xfffffff0u) << "16-byte BAR";
    EXPECT_EQ(b.rd(0x20), 0xe0000004u);
    EXPECT_EQ(b.rd(0x24), 0xffffffffu);
    EXPECT_EQ(b.cfg.bar_size[1], 1u << 20);
    EXPECT_EQ(b.cfg.bar_size[2], 0u) << "upper half is not a BAR of its own";
}

TEST(CfgBars, AssignedAddressKeepsTypeBits) {
    Builder b;
    b.req.bars[0] = {4096, PCIEM_BAR_MEM64, 0};
    ASSERT_EQ(b.build(), 0);
    b.wr(0x10, 0xfcc01234);
    b.wr(0x14, 0x000000fc);
    EXPECT_EQ(b.rd(0x10), 0xfcc01004u) << "bits below 4 KiB are hardwired";
    EXPECT_EQ(b.rd(0x14), 0xfcu);
}

TEST(CfgBars, BarLargerThan4GiBHasReadOnlyLowAddressBits) {
    Builder b;
    b.limits.max_bar64 = 1ull << 36;
    b.req.bars[2] = {1ull << 33, PCIEM_BAR_MEM64, 0};
    ASSERT_EQ(b.build(), 0);
    b.wr(0x18, 0xffffffff);
    b.wr(0x1c, 0xffffffff);
    EXPECT_EQ(b.rd(0x18), 0x00000004u);
    EXPECT_EQ(b.rd(0x1c), 0xfffffffeu);
}

// BAR decode (pciem_cfg_decode.c), the rule pciem.ko's trap and the SimHost share.
TEST(CfgDecode, HitsTheBarSoftwareProgrammed) {
    Builder b;
    b.req.bars[0] = {16384, 0, 0};
    b.req.bars[2] = {1 << 20, PCIEM_BAR_MEM64, 0};
    ASSERT_EQ(b.build(), 0);
    unsigned bar = 99;
    uint64_t off = 0;
    EXPECT_EQ(pciem_cfg_bar_base(&b.cfg, 0), 0u) << "unassigned";
    EXPECT_FALSE(pciem_cfg_bar_decode(&b.cfg, 0x100, 4, &bar, &off)) << "an unassigned BAR decodes nothing";
    b.wr(0x10, 0xfe000000);
    b.wr(0x18, 0x00000000);
    b.wr(0x1c, 0x00000001); // BAR2 at 4 GiB, both halves
    EXPECT_EQ(pciem_cfg_bar_base(&b.cfg, 0), 0xfe000000u);
    EXPECT_EQ(pciem_cfg_bar_base(&b.cfg, 2), 0x100000000u);
    EXPECT_EQ(pciem_cfg_bar_base(&b.cfg, 3), 0u) << "an upper half is no BAR";
    EXPECT_EQ(pciem_cfg_bar_base(&b.cfg, PCIEM_MAX_BARS), 0u);
    ASSERT_TRUE(pciem_cfg_bar_decode(&b.cfg, 0xfe000010, 4, &bar, &off));
    EXPECT_EQ(bar, 0u);
    EXPECT_EQ(off, 0x10u);
    ASSERT_TRUE(pciem_cfg_bar_decode(&b.cfg, 0x1000ffff8, 8, &bar, &off));
    EXPECT_EQ(bar, 2u);
    EXPECT_EQ(off, 0xffff8u);
}

TEST(CfgDecode, AnAccessMustFitInsideTheBar) {
    Builder b;
    b.req.bars[0] = {4096, 0, 0};
    ASSERT_EQ(b.build(), 0);
    b.wr(0x10, 0xfe000000);
    unsigned bar = 0;
    uint64_t off = 0;
    EXPECT_TRUE(pciem_cfg_bar_decode(&b.cfg, 0xfe000ffc, 4, &bar, &off));
    EXPECT_FALSE(pciem_cfg_bar_decode(&b.cfg, 0xfe000ffe, 4, &bar, &off)) << "straddles the end";
    EXPECT_FALSE(pciem_cfg_bar_decode(&b.cfg, 0xfe001000, 1, &bar, &off));
    EXPECT_FALSE(pciem_cfg_bar_decode(&b.cfg, 0xfdffffff, 1, &bar, &off));
    EXPECT_FALSE(pciem_cfg_bar_decode(&b.cfg, 0xfe000000, 8192, &bar, &off)) << "longer than the BAR";
    EXPECT_FALSE(pciem_cfg_bar_decode(&b.cfg, 0xfe000000, 0, &bar, &off)) << "no bytes, no hit";
    EXPECT_FALSE(pciem_cfg_bar_decode(&b.cfg, ~uint64_t{0}, 1, &bar, &off)) << "no overflow at the top";
}

TEST(CfgDecode, MemorySpaceEnableIsSeparate) {
    Builder b;
    b.req.bars[0] = {4096, 0, 0};
    ASSERT_EQ(b.build(), 0);
    b.wr(0x10, 0xfe000000);
    EXPECT_FALSE(pciem_cfg_memory_enabled(&b.cfg));
    unsigned bar = 0;
    uint64_t off = 0;
    EXPECT_TRUE(pciem_cfg_bar_decode(&b.cfg, 0xfe000000, 4, &bar, &off))
        << "decode does not look at the command register: each host decides";
    b.wr(0x04, 0x0002);
    EXPECT_TRUE(pciem_cfg_memory_enabled(&b.cfg));
}

TEST(CfgBars, Validation) {
    struct Case {
        pciem_bar bar;
        int index;
        int want_errno;
        uint32_t code;
    };
    const Case cases[] = {
        {{3000, 0, 0}, 0, EINVAL, PCIEM_ERR_BAR_SIZE},
        {{8, 0, 0}, 2, EINVAL, PCIEM_ERR_BAR_SIZE},
        {{4096, 0x10, 0}, 1, EINVAL, PCIEM_ERR_BAR_FLAGS},
        {{0, PCIEM_BAR_PREFETCH, 0}, 1, EINVAL, PCIEM_ERR_BAR_FLAGS},
        {{4096, PCIEM_BAR_MEM64, 0}, 5, EINVAL, PCIEM_ERR_BAR_SLOT},
        {{1ull << 31, PCIEM_BAR_MEM64, 0}, 0, EFBIG, PCIEM_ERR_BAR_TOO_BIG},
        {{1ull << 27, 0, 0}, 0, EFBIG, PCIEM_ERR_BAR_TOO_BIG},
        {{4096, 0, 1}, 3, EINVAL, PCIEM_ERR_RESERVED},
        {{2048, PCIEM_BAR_RAM, 0}, 1, EINVAL, PCIEM_ERR_BAR_SIZE},
        {{512ull << 20, PCIEM_BAR_MEM64 | PCIEM_BAR_RAM, 0}, 2, EFBIG, PCIEM_ERR_BAR_TOO_BIG},
    };
    for (const Case& c : cases) {
        Builder b;
        b.req.bars[c.index] = c.bar;
        EXPECT_EQ(b.build(), -c.want_errno) << "BAR " << c.index << " size " << c.bar.size;
        EXPECT_EQ(b.err.code, c.code);
        EXPECT_EQ(b.err.index, static_cast<uint32_t>(c.index));
    }
}

// The expansion ROM (register 30h): sized like a BAR, its enable bit writable.
TEST(CfgRom, SizingReadsBackMaskAndEnableBit) {
    Builder b;
    EXPECT_EQ(b.build(), 0);
    b.wr(0x30, 0xffffffff);
    EXPECT_EQ(b.rd(0x30), 0u) << "no ROM: the register is hardwired to 0";
    b.req.rom = {64 * 1024, 0, 0};
    ASSERT_EQ(b.build(), 0);
    EXPECT_EQ(b.cfg.rom_size, 64u * 1024);
    EXPECT_EQ(b.rd(0x30), 0u) << "disabled and unassigned at reset";
    b.wr(0x30, 0xfffff800); // what the PCI core writes to size it
    EXPECT_EQ(b.rd(0x30), 0xffff0000u);
    b.wr(0x30, 0xfebc1235);
    EXPECT_EQ(b.rd(0x30), 0xfebc0001u) << "address above the size, enable bit; the rest reads 0";
}

TEST(CfgRom, Validation) {
    struct Case {
        pciem_bar rom;
        uint64_t max_bar32;
        int want_errno;
        uint32_t code;
    };
    const Case cases[] = {
        {{1024, 0, 0}, 64u << 20, EINVAL, PCIEM_ERR_BAR_SIZE},
        {{6144, 0, 0}, 64u << 20, EINVAL, PCIEM_ERR_BAR_SIZE},
        {{32u << 20, 0, 0}, 64u << 20, EFBIG, PCIEM_ERR_BAR_TOO_BIG},
        {{4096, 0, 0}, 0, EFBIG, PCIEM_ERR_BAR_TOO_BIG},
        {{4096, PCIEM_BAR_PREFETCH, 0}, 64u << 20, EINVAL, PCIEM_ERR_BAR_FLAGS},
        {{0, PCIEM_BAR_MEM64, 0}, 64u << 20, EINVAL, PCIEM_ERR_BAR_FLAGS},
        {{4096, 0, 1}, 64u << 20, EINVAL, PCIEM_ERR_RESERVED},
    };
    for (const Case& c : cases) {
        Builder b;
        b.limits.max_bar32 = c.max_bar32;
        b.req.rom = c.rom;
        EXPECT_EQ(b.build(), -c.want_errno) << "ROM size " << c.rom.size;
        EXPECT_EQ(b.err.code, c.code);
        EXPECT_EQ(b.err.index, static_cast<uint32_t>(PCIEM_ROM_BAR));
    }
    Builder b;
    b.req.rom = {PCIEM_MAX_ROM, 0, 0};
    EXPECT_EQ(b.build(), 0) << "16 MiB, the largest";
    b.req.rom = {2048, 0, 0};
    EXPECT_EQ(b.build(), 0) << "2 KiB, the smallest";
}

TEST(CfgDecode, TheRomDecodesOnlyWhileEnabled) {
    Builder b;
    b.req.bars[0] = {4096, 0, 0};
    b.req.rom = {8192, 0, 0};
    ASSERT_EQ(b.build(), 0);
    b.wr(0x10, 0xfe000000);
    b.wr(0x30, 0xfe010000);
    unsigned bar = 0;
    uint64_t off = 0;
    EXPECT_EQ(pciem_cfg_rom_base(&b.cfg), 0u);
    EXPECT_FALSE(pciem_cfg_bar_decode(&b.cfg, 0xfe010000, 4, &bar, &off)) << "assigned, not enabled";
    b.wr(0x30, 0xfe010001);
    EXPECT_EQ(pciem_cfg_rom_base(&b.cfg), 0xfe010000u);
    ASSERT_TRUE(pciem_cfg_bar_decode(&b.cfg, 0xfe011ffc, 4, &bar, &off));
    EXPECT_EQ(bar, static_cast<unsigned>(PCIEM_ROM_BAR));
    EXPECT_EQ(off, 0x1ffcu);
    EXPECT_FALSE(pciem_cfg_bar_decode(&b.cfg, 0xfe011ffe, 4, &bar, &off)) << "straddles the end";
    ASSERT_TRUE(pciem_cfg_bar_decode(&b.cfg, 0xfe000004, 4, &bar, &off));
    EXPECT_EQ(bar, 0u) << "the BARs still decode";
    b.wr(0x30, 0xfe010000);
    EXPECT_FALSE(pciem_cfg_bar_decode(&b.cfg, 0xfe010000, 4, &bar, &off)) << "disabled again";
    EXPECT_EQ(pciem_cfg_region_size(&b.cfg, 0), 4096u);
    EXPECT_EQ(pciem_cfg_region_size(&b.cfg, 1), 0u);
    EXPECT_EQ(pciem_cfg_region_size(&b.cfg, PCIEM_ROM_BAR), 8192u);
    EXPECT_EQ(pciem_cfg_region_size(&b.cfg, PCIEM_ROM_BAR + 1), 0u);
}

TEST(CfgCaps, ChainIsLinkedInOffsetOrder) {
    Builder b;
    b.req.bars[0] = {16384, PCIEM_BAR_MEM64, 0};
    b.cap(PCIEM_CAP_PCIE).pcie.link_width = 4;
    b.cap(PCIEM_CAP_PM, 0x40);
    b.cap(PCIEM_CAP_MSI).msi.vectors = 8;
    pciem_cap& x = b.cap(PCIEM_CAP_MSIX);
    x.msix = {64, 0, 0x2000, 0, 0x3000};
    b.cap(PCIEM_CAP_VENDOR);
    b.body({0xde, 0xad, 0xbe, 0xef, 0x01});
    b.cap(PCIEM_CAP_EXT_AER);
    b.cap(PCIEM_CAP_EXT_DSN).dsn.serial = 0x0123456789abcdefull;
    ASSERT_EQ(b.build(), 0) << pciem_err_str(b.err.code) << " at " << b.err.index;

    EXPECT_EQ(b.cfg.size, 4096);
    auto s = b.std_caps();
    ASSERT_EQ(s.size(), 5u);
    EXPECT_EQ(s[0x01], 0x40) << "fixed offset honoured";
    EXPECT_EQ(b.rd(0x34, 1), 0x40u) << "chain starts at the lowest offset";
    EXPECT_TRUE(s.count(0x10) && s.count(0x05) && s.count(0x11) && s.count(0x09));
    uint16_t prev = 0;
    for (uint16_t pos = b.rd(0x34, 1); pos; pos = b.rd(pos + 1, 1)) {
        EXPECT_GT(pos, prev);
        prev = pos;
    }
    auto e = b.ext_caps();
    ASSERT_EQ(e.size(), 2u);
    EXPECT_EQ(e[0x0001], 0x100) << "first extended capability at 100h";
    EXPECT_EQ(b.rd(e[0x0003] + 4), 0x89abcdefu);
    EXPECT_EQ(b.rd(e[0x0003] + 8), 0x01234567u);
    EXPECT_EQ(b.rd(s[0x09] + 2, 1), 8u) << "vendor length counts the header";
    EXPECT_EQ(b.rd(s[0x09] + 3), 0xefbeaddeu);
    EXPECT_EQ(b.cfg.layout.msix, s[0x11]);
    EXPECT_EQ(b.cfg.layout.aer, 0x100);
}

TEST(CfgCaps, FixedExtendedCapAboveStartGetsNullHeader) {
    Builder b;
    b.cap(PCIEM_CAP_PCIE);
    b.cap(PCIEM_CAP_EXT_DSN, 0x200).dsn.serial = 42;
    ASSERT_EQ(b.build(), 0);
    uint32_t h = b.rd(0x100);
    EXPECT_EQ(h & 0xffff, 0u) << "null capability ID";
    EXPECT_EQ(h >> 20, 0x200u);
    EXPECT_EQ(b.rd(0x200) & 0xffff, 3u);
}

TEST(CfgCaps, MsiLayoutsAndMasks) {
    struct Case {
        uint32_t flags, vectors;
        uint16_t data_off;
        uint16_t ctl;
    };
    const Case cases[] = {
        {0, 1, 0x08, 0x0000},
        {PCIEM_MSI_64BIT, 4, 0x0c, 0x0084},
        {PCIEM_MSI_MASKABLE, 2, 0x08, 0x0102},
        {PCIEM_MSI_64BIT | PCIEM_MSI_MASKABLE, 32, 0x0c, 0x018a},
    };
    for (const Case& c : cases) {
        Builder b;
        pciem_cap& m = b.cap(PCIEM_CAP_MSI);
        m.msi.flags = c.flags;
        m.msi.vectors = c.vectors;
        ASSERT_EQ(b.build(), 0);
        uint16_t o = b.cfg.layout.msi;
        EXPECT_EQ(b.cfg.layout.msi_data, o + c.data_off) << "where the layout says Message Data is";
        EXPECT_EQ(b.rd(o + 2, 2), c.ctl);
        b.wr(o + 2, 0xffff, 2);
        // Enable and Multiple Message Enable are the only RW bits.
        EXPECT_EQ(b.rd(o + 2, 2), c.ctl | 0x71u);
        b.wr(o + 4, 0xffffffff);
        EXPECT_EQ(b.rd(o + 4), 0xfffffffcu) << "address is dword aligned";
        b.wr(o + c.data_off, 0xffffffff, 2);
        EXPECT_EQ(b.rd(o + c.data_off, 2), 0xffffu);
        if (c.flags & PCIEM_MSI_MASKABLE) {
            b.wr(o + c.data_off + 4, 0xffffffff);
            uint32_t want = c.vectors == 32 ? 0xffffffffu : (1u << c.vectors) - 1;
            EXPECT_EQ(b.rd(o + c.data_off + 4), want) << "one mask bit per vector";
            b.wr(o + c.data_off + 8, 0xffffffff);
            EXPECT_EQ(b.rd(o + c.data_off + 8), 0u) << "pending bits are read-only";
        }
    }
}

TEST(CfgCaps, MsixRegisters) {
    Builder b;
    b.req.bars[2] = {65536, 0, 0};
    pciem_cap& x = b.cap(PCIEM_CAP_MSIX);
    x.msix = {2048, 2, 0, 2, 0x8000}; // 32 KiB table, then the PBA
    ASSERT_EQ(b.build(), 0);
    uint16_t o = b.cfg.layout.msix;
    EXPECT_EQ(b.rd(o + 2, 2), 2047u);
    EXPECT_EQ(b.rd(o + 4), 0x00000002u);
    EXPECT_EQ(b.rd(o + 8), 0x00008002u);
    b.wr(o + 2, 0xffff, 2);
    EXPECT_EQ(b.rd(o + 2, 2), 0xc000u | 2047u) << "only enable and function mask are RW";
    b.wr(o + 4, 0);
    EXPECT_EQ(b.rd(o + 4), 0x00000002u);
}

TEST(CfgCaps, MsixTableMustFitAndNotOverlapPba) {
    Builder fit;
    fit.req.bars[0] = {4096, 0, 0};
    fit.cap(PCIEM_CAP_MSIX).msix = {256, 0, 0, 0, 0xff8}; // 4 KiB table
    EXPECT_EQ(fit.build(), -EINVAL);
    EXPECT_EQ(fit.err.code, PCIEM_ERR_CAP_PARAM);

    Builder overlap;
    overlap.req.bars[0] = {16384, 0, 0};
    overlap.cap(PCIEM_CAP_MSIX).msix = {16, 0, 0, 0, 0x80};
    EXPECT_EQ(overlap.build(), -EINVAL);

    Builder align;
    align.req.bars[0] = {16384, 0, 0};
    align.cap(PCIEM_CAP_MSIX).msix = {16, 0, 0x4, 0, 0x1000};
    EXPECT_EQ(align.build(), -EINVAL);
}

TEST(CfgCaps, PmControlAndStatus) {
    Builder b;
    b.cap(PCIEM_CAP_PM).pm.flags = PCIEM_PM_PME | PCIEM_PM_D1 | PCIEM_PM_NO_SOFT_RESET;
    ASSERT_EQ(b.build(), 0);
    uint16_t o = b.cfg.layout.pm;
    EXPECT_EQ(b.rd(o + 2, 2), 0x4a03u) << "v3, D1, PME from D0 and D3hot";
    EXPECT_EQ(b.rd(o + 4, 2), 0x0008u) << "No_Soft_Reset";
    b.wr(o + 4, 0x0103, 2);
    EXPECT_EQ(b.rd(o + 4, 2), 0x010bu) << "PowerState and PME_En are RW";
    pciem_cfg_set(&b.cfg, o + 4, 2, 0x810b);
    b.wr(o + 4, 0x8000 | 0x010b, 2);
    EXPECT_EQ(b.rd(o + 4, 2), 0x010bu) << "PME_Status is RW1C";
}

TEST(CfgCaps, PcieEndpointRegisters) {
    Builder b;
    pciem_cap& p = b.cap(PCIEM_CAP_PCIE);
    p.pcie.flags = PCIEM_PCIE_FLR | PCIEM_PCIE_EXT_TAG;
    p.pcie.max_payload = 2;
    p.pcie.link_speed = 3;
    p.pcie.link_width = 8;
    ASSERT_EQ(b.build(), 0);
    uint16_t o = b.cfg.layout.pcie;
    EXPECT_EQ(b.rd(o + 2, 2), 0x0002u) << "v2 endpoint";
    EXPECT_EQ(b.rd(o + 4), 0x10008022u) << "MPS 512, ext tag, RBER, FLR";
    EXPECT_EQ(b.rd(o + 0x0c) & 0x3ff, 0x83u) << "8.0 GT/s x8";
    EXPECT_EQ(b.rd(o + 0x12, 2), 0x0083u);
    EXPECT_EQ(b.rd(o + 0x2c), 0x0000000eu) << "2.5, 5 and 8 GT/s supported";
    pciem_cfg_set(&b.cfg, o + 0x0a, 2, 0x000f);
    b.wr(o + 0x0a, 0x0005, 2);
    EXPECT_EQ(b.rd(o + 0x0a, 2), 0x000au) << "DevSta error bits are RW1C";
    b.wr(o + 0x08, 0xffff, 2);
    EXPECT_EQ(b.rd(o + 0x08, 2), 0x7fffu) << "Initiate FLR reads as 0";
}

TEST(CfgCaps, RootComplexEndpointHasNoLink) {
    Builder b;
    b.cap(PCIEM_CAP_PCIE).pcie.port_type = PCIEM_PCIE_RC_ENDPOINT;
    ASSERT_EQ(b.build(), 0);
    uint16_t o = b.cfg.layout.pcie;
    EXPECT_EQ(b.rd(o + 2, 2), 0x0092u);
    EXPECT_EQ(b.rd(o + 0x0c), 0u);
    EXPECT_EQ(b.rd(o + 0x12, 2), 0u);
}

TEST(CfgCaps, AerStatusMaskSeverity) {
    Builder b;
    b.cap(PCIEM_CAP_PCIE);
    b.cap(PCIEM_CAP_EXT_AER);
    ASSERT_EQ(b.build(), 0);
    uint16_t o = b.cfg.layout.aer;
    EXPECT_EQ(b.rd(o), 0x00020001u);
    EXPECT_EQ(b.rd(o + 0x0c), 0x00062030u) << "default severities";
    EXPECT_EQ(b.rd(o + 0x14), 0x00002000u) << "advisory non-fatal masked";
    pciem_cfg_set(&b.cfg, o + 0x04, 4, 0x00001010);
    b.wr(o + 0x04, 0x00000010);
    EXPECT_EQ(b.rd(o + 0x04), 0x00001000u);
    b.wr(o + 0x08, 0xffffffff);
    EXPECT_EQ(b.rd(o + 0x08), 0x07fff030u);
}

TEST(CfgCaps, Validation) {
    {
        Builder b;
        b.cap(PCIEM_CAP_PM, 0x40);
        b.cap(PCIEM_CAP_MSI, 0x44).msi.vectors = 1;
        EXPECT_EQ(b.build(), -EINVAL);
        EXPECT_EQ(b.err.code, PCIEM_ERR_CAP_OVERLAP);
        EXPECT_EQ(b.err.index, 1u);
    }
    {
        Builder b;
        b.cap(PCIEM_CAP_EXT_DSN);
        EXPECT_EQ(b.build(), -EINVAL);
        EXPECT_EQ(b.err.code, PCIEM_ERR_CAP_NEEDS_PCIE);
    }
    {
        Builder b;
        b.cap(PCIEM_CAP_PCIE);
        b.cap(PCIEM_CAP_EXT_DSN, 0x80);
        EXPECT_EQ(b.build(), -EINVAL);
        EXPECT_EQ(b.err.code, PCIEM_ERR_CAP_OFFSET);
    }
    {
        Builder b;
        b.cap(PCIEM_CAP_RAW).body.id = 0x05; // MSI must use its own type
        EXPECT_EQ(b.build(), -EINVAL);
        EXPECT_EQ(b.err.code, PCIEM_ERR_CAP_PARAM);
    }
    {
        Builder b;
        b.cap(PCIEM_CAP_VENDOR);
        b.body(std::vector<uint8_t>(253, 1));
        EXPECT_EQ(b.build(), -EINVAL);
        EXPECT_EQ(b.err.code, PCIEM_ERR_CAP_PARAM);
    }
    {
        Builder b;
        b.cap(PCIEM_CAP_PCIE).pcie.link_width = 3;
        EXPECT_EQ(b.build(), -EINVAL);
        EXPECT_EQ(b.err.code, PCIEM_ERR_CAP_PARAM);
    }
    {
        Builder b;
        b.cap(0);
        EXPECT_EQ(b.build(), -EINVAL);
        EXPECT_EQ(b.err.code, PCIEM_ERR_CAP_TYPE);
    }
}

TEST(CfgCaps, ModelClaimsEveryDwordAfterTheHeader)
{
    Builder b;
    b.cap(PCIEM_CAP_VENDOR, 0x40).flags = PCIEM_CAP_F_MODEL;
    b.body(std::vector<uint8_t>(13, 0x11));  // 16 bytes in all
    b.cap(PCIEM_CAP_PCIE);
    b.cap(PCIEM_CAP_EXT_RAW).flags = PCIEM_CAP_F_MODEL;
    b.caps.back().body.id = 0x000b;
    b.body(std::vector<uint8_t>(8, 0x22));
    ASSERT_EQ(b.build(), 0) << pciem_err_str(b.err.code);
    ASSERT_EQ(b.cfg.nclaims, 2u);
    EXPECT_FALSE(pciem_cfg_claimed(&b.cfg, 0x40, 4)) << "header dword stays emulated";
    EXPECT_FALSE(pciem_cfg_claimed(&b.cfg, 0x43, 1));
    EXPECT_TRUE(pciem_cfg_claimed(&b.cfg, 0x44, 4));
    EXPECT_TRUE(pciem_cfg_claimed(&b.cfg, 0x4e, 2));
    EXPECT_FALSE(pciem_cfg_claimed(&b.cfg, 0x50, 4)) << "past the capability";
    EXPECT_TRUE(pciem_cfg_claimed(&b.cfg, 0x104, 4));
    EXPECT_TRUE(pciem_cfg_claimed(&b.cfg, 0x108, 4));
    EXPECT_FALSE(pciem_cfg_claimed(&b.cfg, 0x10c, 4));
    EXPECT_EQ(b.rd(0x44), 0x11111111u) << "the creation-time body is the fallback";
}

TEST(CfgCaps, OnlyUnemulatedCapabilitiesMayBeClaimed)
{
    for (uint16_t type : {PCIEM_CAP_PM, PCIEM_CAP_MSI, PCIEM_CAP_PCIE}) {
        Builder b;
        pciem_cap &c = b.cap(type);
        c.flags = PCIEM_CAP_F_MODEL;
        if (type == PCIEM_CAP_MSI)
            c.msi.vectors = 1;
        EXPECT_EQ(b.build(), -EINVAL) << type;
        EXPECT_EQ(b.err.code, PCIEM_ERR_FLAGS);
    }
    Builder unknown;
    unknown.cap(PCIEM_CAP_VENDOR).flags = 1u << 5;
    EXPECT_EQ(unknown.build(), -EINVAL);
    EXPECT_EQ(unknown.err.code, PCIEM_ERR_FLAGS);
}

TEST(CfgCaps, AutomaticPlacementFlowsAroundFixedOnes) {
    Builder b;
    b.cap(PCIEM_CAP_MSI, 0x48).msi.vectors = 1; // 0x48..0x53
    b.cap(PCIEM_CAP_PM);                        // 8 bytes: fits at 0x40
    b.cap(PCIEM_CAP_PCIE);                      // 60 bytes: after 0x54
    ASSERT_EQ(b.build(), 0);
    EXPECT_EQ(b.cfg.layout.pm, 0x40);
    EXPECT_EQ(b.cfg.layout.msi, 0x48);
    EXPECT_EQ(b.cfg.layout.pcie, 0x54);
}

TEST(CfgRecords, RecordLengthRules) {
    pciem_error err{};
    std::vector<uint8_t> buf(sizeof(pciem_cap) + 8, 0);
    uint32_t size = sizeof(pciem_cap);
    memcpy(buf.data(), &size, 4);
    EXPECT_EQ(pciem_cfg_cap_record_len(buf.data(), static_cast<uint32_t>(buf.size()), 0, &err),
              static_cast<int>(sizeof(pciem_cap)));
    size = sizeof(pciem_cap) + 8;
    memcpy(buf.data(), &size, 4);
    EXPECT_EQ(pciem_cfg_cap_record_len(buf.data(), static_cast<uint32_t>(buf.size()), 0, &err),
              static_cast<int>(size));
    buf.back() = 1;
    EXPECT_EQ(pciem_cfg_cap_record_len(buf.data(), static_cast<uint32_t>(buf.size()), 2, &err),
              -E2BIG);
    EXPECT_EQ(err.index, 2u);
    size = 20;
    memcpy(buf.data(), &size, 4);
    EXPECT_EQ(pciem_cfg_cap_record_len(buf.data(), static_cast<uint32_t>(buf.size()), 0, &err),
              -EINVAL);
    EXPECT_EQ(err.code, PCIEM_ERR_CAP_SIZE);
}

TEST(CfgErrors, EveryCodeHasTextAndErrno) {
    for (uint32_t c = 1; c < PCIEM_ERR__COUNT; c++) {
        EXPECT_STRNE(pciem_err_str(c), "unknown error") << c;
        EXPECT_LT(pciem_err_errno(c), 0) << c;
    }
    EXPECT_STREQ(pciem_err_str(PCIEM_ERR__COUNT), "unknown error");
}

} // namespace
