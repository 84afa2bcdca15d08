// SPDX-License-Identifier: MIT
// The example model of docs/device-model.md on the SimHost: the test is
// part of the walkthrough, so the documented example keeps working.
#include <gtest/gtest.h>

#include "counter_device.hpp"
#include "pciem/sim_host.hpp"

namespace {

TEST(CounterExample, CountsTicksWhileEnabled) {
    example::CounterDevice model;
    auto host = pciem::SimHost::create(model);
    ASSERT_TRUE(host) << host.error().message;
    pciem::SimHost& h = **host;

    EXPECT_EQ(h.cfg_read(0x00, 4), 0x7e111b36u);
    EXPECT_EQ(h.read32(0, 0x00), example::counter_id);

    h.write32(0, 0x0c, 5); // disabled: ignored
    EXPECT_EQ(h.read32(0, 0x08), 0u);

    h.write32(0, 0x10, 10);                   // LIMIT
    h.write32(0, 0x04, example::ctrl_enable); // CTRL.ENABLE
    h.write32(0, 0x0c, 4);
    h.write32(0, 0x0c, 6);
    EXPECT_EQ(h.read32(0, 0x08), 10u);
    EXPECT_EQ(h.read32(0, 0x14), example::status_limit);
    h.write32(0, 0x14, example::status_limit); // RW1C
    EXPECT_EQ(h.read32(0, 0x14), 0u);

    // RESET clears COUNT and itself; CTRL is shadowed, and the shadow
    // follows the self-clearing bit.
    h.write32(0, 0x04, example::ctrl_enable | example::ctrl_reset);
    EXPECT_EQ(h.read32(0, 0x08), 0u);
    const auto before = h.stats().shadow_reads;
    EXPECT_EQ(h.read32(0, 0x04), example::ctrl_enable);
    EXPECT_EQ(h.stats().shadow_reads, before + 1);
}

// A model that shadows a register with read side effects is refused at
// realize(): the shadow would silently skip the side effect.
class BadShadow : public pciem::DeviceModel {
public:
    BadShadow() {
        auto& regs = declare_bar(0, "bad BAR0", 4096);
        regs.reg32(0x0, "RC").rc();
        declare_shadow(0, 0x0, 8);
    }
    [[nodiscard]] pciem::DeviceSpec spec() const override {
        return pciem::DeviceSpec{}.ids(1, 2).bar(0, pciem::Bar::mem32(4096));
    }
};

TEST(CounterExample, ShadowOfSideEffectsIsRefused) {
    BadShadow model;
    auto host = pciem::SimHost::create(model);
    ASSERT_FALSE(host);
    EXPECT_EQ(host.error().message, "shadow BAR0 0x0..0x8: register RC has read side effects");
}

class WrongSize : public pciem::DeviceModel {
public:
    WrongSize() { declare_bar(0, "BAR0", 8192); }
    [[nodiscard]] pciem::DeviceSpec spec() const override {
        return pciem::DeviceSpec{}.ids(1, 2).bar(0, pciem::Bar::mem32(4096));
    }
};

TEST(CounterExample, MapMustMatchTheSpec) {
    WrongSize model;
    auto host = pciem::SimHost::create(model);
    ASSERT_FALSE(host);
    EXPECT_EQ(host.error().message,
              "BAR0 map: declared for BAR0 of 0x2000 bytes, but the spec has 0x1000 bytes");
}

} // namespace
