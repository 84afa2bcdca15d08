// SPDX-License-Identifier: MIT
// DeviceSpec -> struct pciem_create + capability records, byte for byte.
#include <cstddef>
#include <cstring>

#include <gtest/gtest.h>

#include "pciem/device_spec.hpp"

namespace {

using pciem::Bar;
using pciem::DeviceSpec;

TEST(DeviceSpec, HeaderFieldsLandInTheAbiStruct) {
    auto req = DeviceSpec{}
                   .ids(0x1af4, 0x1000)
                   .subsystem(0x1b36, 0x0042)
                   .class_code(0x020000)
                   .revision(7)
                   .multi_function()
                   .interrupt_pin(pciem::InterruptPin::c)
                   .devfn(3, 2)
                   .build();
    ASSERT_TRUE(req) << req.error().message;
    const pciem_create& c = req->create();
    EXPECT_EQ(c.size, sizeof(pciem_create));
    EXPECT_EQ(c.abi_version, PCIEM_ABI_VERSION);
    EXPECT_EQ(c.flags, PCIEM_CREATE_F_DEVFN);
    EXPECT_EQ(c.vendor_id, 0x1af4);
    EXPECT_EQ(c.device_id, 0x1000);
    EXPECT_EQ(c.subsys_vendor_id, 0x1b36);
    EXPECT_EQ(c.subsys_id, 0x0042);
    EXPECT_EQ(c.class_code, 0x020000u);
    EXPECT_EQ(c.revision, 7);
    EXPECT_EQ(c.header_type, 0x80);
    EXPECT_EQ(c.interrupt_pin, 3);
    EXPECT_EQ(c.devfn, (3 << 3) | 2);
    EXPECT_EQ(c.caps_ptr, 0u);
    EXPECT_EQ(c.caps_len, 0u);
    EXPECT_EQ(c.reserved, 0u);
    EXPECT_EQ(c.error.code, 0u);
}

TEST(DeviceSpec, DefaultsAreZeroAndAutoPlaced) {
    auto req = DeviceSpec{}.ids(1, 2).build();
    ASSERT_TRUE(req);
    EXPECT_EQ(req->create().flags, 0u);
    EXPECT_EQ(req->create().header_type, 0);
    EXPECT_EQ(req->create().interrupt_pin, 0);
    for (const auto& bar : req->create().bars) {
        EXPECT_EQ(bar.size, 0u);
        EXPECT_EQ(bar.flags, 0u);
    }
}

TEST(DeviceSpec, PaddingBytesAreZero) {
    auto req = DeviceSpec{}.ids(0xffff, 0xffff).revision(0xff).devfn(31, 7).build();
    ASSERT_TRUE(req);
    // Bytes between devfn and bars[] are padding; they reach the kernel.
    const auto* bytes = reinterpret_cast<const unsigned char*>(&req->create());
    for (size_t i = offsetof(pciem_create, devfn) + 1; i < offsetof(pciem_create, bars); ++i) {
        EXPECT_EQ(bytes[i], 0) << "padding byte " << i;
    }
}

TEST(DeviceSpec, BarFlagsAndSizes) {
    auto req = DeviceSpec{}
                   .ids(1, 2)
                   .bar(0, Bar::mem64(16384).prefetchable())
                   .bar(2, Bar::mem32(4096))
                   .bar(3, Bar::mem32(256).prefetchable())
                   .bar(4, Bar::mem64(1 << 20))
                   .build();
    ASSERT_TRUE(req);
    const auto& b = req->create().bars;
    EXPECT_EQ(b[0].size, 16384u);
    EXPECT_EQ(b[0].flags, PCIEM_BAR_MEM64 | PCIEM_BAR_PREFETCH);
    EXPECT_EQ(b[1].size, 0u);
    EXPECT_EQ(b[1].flags, 0u);
    EXPECT_EQ(b[2].size, 4096u);
    EXPECT_EQ(b[2].flags, 0u);
    EXPECT_EQ(b[3].flags, PCIEM_BAR_PREFETCH);
    EXPECT_EQ(b[4].size, 1u << 20);
    EXPECT_EQ(b[4].flags, PCIEM_BAR_MEM64);
    EXPECT_EQ(b[5].size, 0u);
}

TEST(DeviceSpec, RamBarFlag) {
    const auto bar = pciem::Bar::mem64(2 << 20).prefetchable().ram();
    EXPECT_TRUE(bar.is_ram());
    EXPECT_EQ(bar.abi_flags(), PCIEM_BAR_MEM64 | PCIEM_BAR_PREFETCH | PCIEM_BAR_RAM);
    EXPECT_FALSE(bar.ram(false).is_ram());
    EXPECT_EQ(bar.ram(false).abi_flags(), PCIEM_BAR_MEM64 | PCIEM_BAR_PREFETCH);
    auto req = pciem::DeviceSpec{}.ids(1, 2).bar(2, pciem::Bar::mem32(4096).ram()).build();
    ASSERT_TRUE(req);
    EXPECT_EQ(req->create().bars[2].flags, PCIEM_BAR_RAM);
}

TEST(DeviceSpec, BarPrefetchableCanBeTurnedOff) {
    const Bar bar = Bar::mem64(64).prefetchable().prefetchable(false);
    EXPECT_EQ(bar.abi_flags(), PCIEM_BAR_MEM64);
}

TEST(DeviceSpec, CapabilityRecords) {
    auto req = DeviceSpec{}
                   .ids(1, 2)
                   .pm(PCIEM_PM_PME | PCIEM_PM_D1, 0x40)
                   .msi(8, true, true)
                   .msix(16, 2, 0x1000, 2, 0x1800)
                   .pcie(PCIEM_PCIE_LEGACY_ENDPOINT, 1, 3, 4, PCIEM_PCIE_FLR)
                   .dsn(0x1122334455667788ull, 0x100)
                   .aer()
                   .build();
    ASSERT_TRUE(req);
    const auto& r = req->records();
    ASSERT_EQ(r.size(), 6u);
    EXPECT_EQ(req->create().caps_len, 6 * sizeof(pciem_cap));
    EXPECT_EQ(req->create().caps_ptr, reinterpret_cast<uintptr_t>(r.data()));
    for (const auto& rec : r) {
        EXPECT_EQ(rec.size, sizeof(pciem_cap));
        EXPECT_EQ(rec.flags, 0u);
        EXPECT_EQ(rec.reserved, 0u);
    }
    EXPECT_EQ(r[0].type, PCIEM_CAP_PM);
    EXPECT_EQ(r[0].offset, 0x40);
    EXPECT_EQ(r[0].pm.flags, PCIEM_PM_PME | PCIEM_PM_D1);
    EXPECT_EQ(r[1].type, PCIEM_CAP_MSI);
    EXPECT_EQ(r[1].offset, 0);
    EXPECT_EQ(r[1].msi.vectors, 8u);
    EXPECT_EQ(r[1].msi.flags, PCIEM_MSI_64BIT | PCIEM_MSI_MASKABLE);
    EXPECT_EQ(r[2].type, PCIEM_CAP_MSIX);
    EXPECT_EQ(r[2].msix.vectors, 16u);
    EXPECT_EQ(r[2].msix.table_bar, 2u);
    EXPECT_EQ(r[2].msix.table_offset, 0x1000u);
    EXPECT_EQ(r[2].msix.pba_bar, 2u);
    EXPECT_EQ(r[2].msix.pba_offset, 0x1800u);
    EXPECT_EQ(r[3].type, PCIEM_CAP_PCIE);
    EXPECT_EQ(r[3].pcie.port_type, PCIEM_PCIE_LEGACY_ENDPOINT);
    EXPECT_EQ(r[3].pcie.max_payload, 1);
    EXPECT_EQ(r[3].pcie.link_speed, 3);
    EXPECT_EQ(r[3].pcie.link_width, 4);
    EXPECT_EQ(r[3].pcie.flags, PCIEM_PCIE_FLR);
    EXPECT_EQ(r[4].type, PCIEM_CAP_EXT_DSN);
    EXPECT_EQ(r[4].offset, 0x100);
    EXPECT_EQ(r[4].dsn.serial, 0x1122334455667788ull);
    EXPECT_EQ(r[5].type, PCIEM_CAP_EXT_AER);
    // Unused union bytes must be zero or the kernel refuses the record.
    for (unsigned char byte : r[5].raw) {
        EXPECT_EQ(byte, 0);
    }
    for (size_t i = sizeof(r[1].msi); i < sizeof(r[1].raw); ++i) {
        EXPECT_EQ(r[1].raw[i], 0) << i;
    }
}

TEST(DeviceSpec, BodiesArePointedToAndOutliveMoves) {
    auto built = DeviceSpec{}
                     .ids(1, 2)
                     .vendor({0xde, 0xad})
                     .raw(0x0a, {1, 2, 3})
                     .ext_raw(0x000b, 2, {9, 8, 7, 6})
                     .build();
    ASSERT_TRUE(built);
    pciem::AbiRequest req = std::move(*built); // pointers must survive this
    const auto& r = req.records();
    ASSERT_EQ(r.size(), 3u);
    EXPECT_EQ(req.create().caps_ptr, reinterpret_cast<uintptr_t>(r.data()));

    EXPECT_EQ(r[0].type, PCIEM_CAP_VENDOR);
    ASSERT_EQ(r[0].body.len, 2);
    const auto* v = reinterpret_cast<const uint8_t*>(r[0].body.data_ptr);
    EXPECT_EQ(v[0], 0xde);
    EXPECT_EQ(v[1], 0xad);

    EXPECT_EQ(r[1].type, PCIEM_CAP_RAW);
    EXPECT_EQ(r[1].body.id, 0x0a);
    ASSERT_EQ(r[1].body.len, 3);
    EXPECT_EQ(reinterpret_cast<const uint8_t*>(r[1].body.data_ptr)[2], 3);

    EXPECT_EQ(r[2].type, PCIEM_CAP_EXT_RAW);
    EXPECT_EQ(r[2].body.id, 0x000b);
    EXPECT_EQ(r[2].body.version, 2);
    ASSERT_EQ(r[2].body.len, 4);
    EXPECT_EQ(reinterpret_cast<const uint8_t*>(r[2].body.data_ptr)[0], 9);

    const auto in = req.cfg_caps();
    ASSERT_EQ(in.size(), 3u);
    EXPECT_EQ(in[0].cap, &r[0]);
    EXPECT_EQ(in[0].body, reinterpret_cast<const uint8_t*>(r[0].body.data_ptr));
}

TEST(DeviceSpec, EmptyBodyHasNoPointer) {
    auto req = DeviceSpec{}.ids(1, 2).vendor({}).build();
    ASSERT_TRUE(req);
    EXPECT_EQ(req->records()[0].body.data_ptr, 0u);
    EXPECT_EQ(req->records()[0].body.len, 0);
    EXPECT_EQ(req->cfg_caps()[0].body, nullptr);
}

TEST(DeviceSpecValidate, BarIndexOutOfRange) {
    auto req = DeviceSpec{}.ids(1, 2).bar(6, Bar::mem32(4096)).build();
    ASSERT_FALSE(req);
    EXPECT_EQ(req.error().errnum, EINVAL);
    EXPECT_EQ(req.error().message,
              "BAR index 6 is out of range: a function has at most 6 BARs, numbered 0..5");
}

TEST(DeviceSpecValidate, MoreThanSixBars) {
    DeviceSpec spec;
    for (unsigned i = 0; i < 7; ++i) {
        spec.bar(i % 6, Bar::mem32(4096));
    }
    auto ok = spec.validate();
    ASSERT_FALSE(ok);
    EXPECT_EQ(ok.error().message, "7 BARs given: a function has at most 6 (BAR 0..5)");
}

TEST(DeviceSpecValidate, DuplicateBar) {
    auto ok = DeviceSpec{}.bar(1, Bar::mem32(16)).bar(1, Bar::mem32(32)).validate();
    ASSERT_FALSE(ok);
    EXPECT_EQ(ok.error().message, "BAR 1 is given twice: give each index once");
}

TEST(DeviceSpecValidate, SlotAndFunctionRanges) {
    EXPECT_FALSE(DeviceSpec{}.devfn(32, 0).validate());
    EXPECT_FALSE(DeviceSpec{}.devfn(0, 8).validate());
    EXPECT_TRUE(DeviceSpec{}.devfn(31, 7).validate());
}

TEST(DeviceSpecValidate, BodyTooLongForTheAbi) {
    auto ok = DeviceSpec{}.vendor(std::vector<uint8_t>(70000)).validate();
    ASSERT_FALSE(ok);
    EXPECT_NE(ok.error().message.find("capability 0 (vendor)"), std::string::npos);
}

TEST(DeviceSpec, CapabilityNames) {
    EXPECT_EQ(pciem::capability_name(PCIEM_CAP_MSIX), "msix");
    EXPECT_EQ(pciem::capability_name(PCIEM_CAP_EXT_RAW), "ext_raw");
    EXPECT_EQ(pciem::capability_name(PCIEM_CAP_EXT_DSN), "dsn");
    EXPECT_EQ(pciem::capability_name(0), "unknown");
}

} // namespace
