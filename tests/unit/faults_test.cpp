// SPDX-License-Identifier: MIT
//
// Fault requests as libpciem builds them for PCIEM_IOC_INJECT, and PCI
// addresses as users type them: mistakes are sentences before any ioctl.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pciem/address.hpp"
#include "pciem/faults.hpp"

namespace {

using ::testing::HasSubstr;

TEST(PciAddress, ParsesWhatLspciPrints) {
    auto a = pciem::parse_pci_address("10000:00:1f.7");
    ASSERT_TRUE(a) << a.error().message;
    EXPECT_EQ(a->domain, 0x10000u);
    EXPECT_EQ(a->bus, 0);
    EXPECT_EQ(a->devfn, pciem::make_devfn(0x1f, 7));
    EXPECT_EQ(pciem::format_pci_address(*a), "10000:00:1f.7");
    auto b = pciem::parse_pci_address("03:00.1");
    ASSERT_TRUE(b);
    EXPECT_EQ(b->domain, 0u);
    EXPECT_EQ(b->bus, 3);
    EXPECT_EQ(b->devfn, pciem::make_devfn(0, 1));
}

TEST(PciAddress, RefusesWhatIsNotOne) {
    for (const char* bad : {"", "10000:00:20.0", "10000:00:1f.8", "10000:100:00.0", "0000:00:00",
                            "10000:00:00.0x", "x:00:00.0", "10000::00.0"}) {
        auto a = pciem::parse_pci_address(bad);
        ASSERT_FALSE(a) << bad;
        EXPECT_EQ(a.error().errnum, EINVAL);
        EXPECT_THAT(a.error().message, HasSubstr("e.g. 10000:00:03.0")) << bad;
    }
}

TEST(FaultCatalog, NamesEveryFaultOnceInOrder) {
    const auto faults = pciem::fault_catalog();
    ASSERT_EQ(faults.size(), PCIEM_FAULT__COUNT - 1u);
    for (size_t i = 0; i < faults.size(); i++) {
        EXPECT_EQ(faults[i].fault, i + 1);
        EXPECT_EQ(pciem::find_fault(faults[i].name), &faults[i]);
        EXPECT_FALSE(faults[i].what.empty());
    }
    EXPECT_EQ(pciem::find_fault("no-such-fault"), nullptr);
    EXPECT_EQ(pciem::find_fault(uint16_t{0}), nullptr);
}

TEST(FaultRequest, BuildsTheAbiStructure) {
    pciem::FaultRequest f;
    f.fault = PCIEM_FAULT_MMIO_ALL_ONES;
    f.count = 3;
    f.after = 2;
    f.every = 4;
    f.probability = 0.25;
    f.region = pciem::FaultRegion{2, 0x100, 8};
    auto q = f.build(0x10000, 0, pciem::make_devfn(3, 0));
    ASSERT_TRUE(q) << q.error().message;
    EXPECT_EQ(q->size, sizeof(pciem_inject));
    EXPECT_EQ(q->fault, PCIEM_FAULT_MMIO_ALL_ONES);
    EXPECT_EQ(q->flags, PCIEM_INJECT_F_REGION);
    EXPECT_EQ(q->bar, 2u);
    EXPECT_EQ(q->offset, 0x100u);
    EXPECT_EQ(q->len, 8u);
    EXPECT_EQ(q->probability, 250000u);
    EXPECT_EQ(q->devfn, pciem::make_devfn(3, 0));

    pciem::FaultRequest drop;
    drop.fault = PCIEM_FAULT_IRQ_DROP;
    drop.vector = 5;
    auto d = drop.build(0x10000, 0, 0);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->flags, PCIEM_INJECT_F_VECTOR);
    EXPECT_EQ(d->vector, 5u);
}

TEST(FaultRegion, ParsesBothForms) {
    auto mmio = pciem::parse_fault_region("2:0x1000+4", true);
    ASSERT_TRUE(mmio.has_value()) << mmio.error().message;
    EXPECT_EQ(mmio->bar, 2u);
    EXPECT_EQ(mmio->offset, 0x1000u);
    EXPECT_EQ(mmio->len, 4u);
    auto dma = pciem::parse_fault_region("0x100000+4K", false);
    ASSERT_TRUE(dma.has_value()) << dma.error().message;
    EXPECT_EQ(dma->offset, 0x100000u);
    EXPECT_EQ(dma->len, 4096u);
    const std::pair<const char*, const char*> bad_mmio[] = {
        {"0x1000+4", "BAR:OFFSET+LEN"}, {"6:0+4", "0 to 5"},  {"0:0", "BAR:OFFSET+LEN"},
        {"0:0+0", "BAR:OFFSET+LEN"},    {"0:x+4", "BAR:OFFSET+LEN"},
        {"0:0xffffffffffffffff+2", "BAR:OFFSET+LEN"},
    };
    for (const auto& [text, why] : bad_mmio) {
        auto r = pciem::parse_fault_region(text, true);
        ASSERT_FALSE(r.has_value()) << text;
        EXPECT_NE(r.error().message.find(why), std::string::npos) << text << ": " << r.error().message;
    }
    EXPECT_FALSE(pciem::parse_fault_region("0:0+4", false).has_value()) << "no BAR in a DMA region";
}

TEST(FaultRequest, MistakesAreSentences) {
    // A request of @fault with one field set by @set.
    auto req = [](uint16_t fault, auto set) {
        pciem::FaultRequest f;
        f.fault = fault;
        set(f);
        return f;
    };
    using R = pciem::FaultRequest;
    const std::pair<pciem::FaultRequest, const char*> cases[] = {
        {req(0, [](R&) {}), "unknown fault"},
        {req(PCIEM_FAULT_LINK_DOWN, [](R& f) { f.after = 1; }), "apply to rules"},
        {req(PCIEM_FAULT_AER_FATAL, [](R& f) { f.count = 2; }), "--count applies"},
        {req(PCIEM_FAULT_DMA_REFUSE, [](R& f) { f.probability = 1.5; }), "between 0 and 1"},
        {req(PCIEM_FAULT_IRQ_DROP, [](R& f) { f.region = pciem::FaultRegion{0, 0, 4}; }),
         "--region"},
        {req(PCIEM_FAULT_MMIO_ALL_ONES, [](R& f) { f.region = pciem::FaultRegion{6, 0, 4}; }),
         "BAR 0-5"},
        {req(PCIEM_FAULT_DMA_REFUSE, [](R& f) { f.vector = 1; }), "--vector"},
        {req(PCIEM_FAULT_LINK_UP, [](R& f) { f.param = 1; }), "takes no --param"},
        {req(PCIEM_FAULT_MMIO_LATENCY, [](R&) {}), "needs --param (nanoseconds"},
        {req(PCIEM_FAULT_CRS, [](R&) {}), "needs --param (milliseconds"},
    };
    for (const auto& [f, says] : cases) {
        auto q = f.build(0x10000, 0, 0);
        ASSERT_FALSE(q) << says;
        EXPECT_EQ(q.error().errnum, EINVAL);
        EXPECT_THAT(q.error().message, HasSubstr(says));
    }
}

} // namespace
