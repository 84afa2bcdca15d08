// SPDX-License-Identifier: MIT
// Interrupts and RAM BARs on the SimHost: the same rules as pciem.ko
// (kernel/pciem_irq.c). A model raises through irq(); the test plays the
// driver: it enables MSI/MSI-X and masks through config cycles, programs
// the MSI-X table through MMIO, and checks what got delivered.
#include <cerrno>
#include <cstring>
#include <thread>
#include <vector>

#include <unistd.h>

#include <gtest/gtest.h>

#include "pciem/sim_host.hpp"

namespace {

using pciem::SimInterrupt;
using Kind = pciem::SimInterrupt::Kind;

constexpr unsigned msix_vectors = 64;
constexpr uint64_t table_off = 0x1000; // BAR2
constexpr uint64_t pba_off = 0x3000;   // BAR2

class IrqModel : public pciem::DeviceModel {
public:
    explicit IrqModel(bool pin = true, bool maskable = true) : pin_(pin), maskable_(maskable) {
        declare_bar(0, "BAR0", 4096).reg32(0, "ID").ro(0x1234);
    }
    void on_irq_config(const pciem::IrqConfigEvent& event) override { events.push_back(event); }
    std::vector<pciem::IrqConfigEvent> events;
    pciem::DeviceSpec spec() const override {
        auto s = pciem::DeviceSpec{}
                     .ids(0x1b36, 0x7e20)
                     .bar(0, pciem::Bar::mem64(4096))
                     .bar(2, pciem::Bar::mem64(16 * 1024))
                     .bar(4, pciem::Bar::mem64(64 * 1024).prefetchable().ram())
                     .msi(8, true, maskable_)
                     .msix(msix_vectors, 2, table_off, 2, pba_off)
                     .pcie();
        if (pin_) {
            s.interrupt_pin(pciem::InterruptPin::a);
        }
        return s;
    }

private:
    bool pin_;
    bool maskable_;
};

class SimIrq : public ::testing::Test {
protected:
    void SetUp() override { make(); }
    void make(bool pin = true, bool maskable = true) {
        host_.reset();
        model_ = std::make_unique<IrqModel>(pin, maskable);
        auto h = pciem::SimHost::create(*model_);
        ASSERT_TRUE(h) << h.error().message;
        host_ = std::move(*h);
        msi_ = host_->config().layout.msi;
        msix_ = host_->config().layout.msix;
        ASSERT_NE(msi_, 0);
        ASSERT_NE(msix_, 0);
    }
    pciem::SimHost& h() { return *host_; }
    pciem::Interrupts& irq() { return model_->irq(); }

    // What a driver does, through config cycles.
    void msix_control(uint16_t bits) { h().cfg_write(static_cast<uint16_t>(msix_ + 2), 2, bits); }
    void enable_msix() { msix_control(0x8000); }
    void unmask(unsigned v) { h().write32(2, table_off + 16 * v + 12, 0); }
    void mask(unsigned v) { h().write32(2, table_off + 16 * v + 12, 1); }
    // MSI control with Multiple Message Enable = log2(n).
    void msi_control(bool enable, unsigned mme) {
        h().cfg_write(static_cast<uint16_t>(msi_ + 2), 2, (enable ? 1u : 0u) | (mme << 4));
    }
    uint16_t msi_mask_reg() const { return static_cast<uint16_t>(msi_ + 0x10); } // 64-bit MSI
    void msi_mask(uint32_t bits) { h().cfg_write(msi_mask_reg(), 4, bits); }

    std::unique_ptr<IrqModel> model_;
    std::unique_ptr<pciem::SimHost> host_;
    uint16_t msi_ = 0;
    uint16_t msix_ = 0;
};

TEST_F(SimIrq, RaiseWithNeitherMsiNorMsixEnabledIsEagain) {
    auto r = irq().raise(0);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().errnum, EAGAIN);
    EXPECT_TRUE(h().interrupts().empty());
    EXPECT_EQ(h().dropped_interrupts(), 1u);
}

TEST_F(SimIrq, MsixEntriesComeOutOfResetMasked) {
    enable_msix();
    for (unsigned v = 0; v < msix_vectors; ++v) {
        EXPECT_EQ(h().read32(2, table_off + 16 * v + 12), 1u) << v;
    }
    ASSERT_TRUE(irq().raise(3));
    EXPECT_TRUE(h().interrupts().empty());
    EXPECT_TRUE(h().msix_pending(3));
    EXPECT_EQ(h().read64(2, pba_off), uint64_t{1} << 3);
}

TEST_F(SimIrq, MaskedMsixVectorFiresOnceWhenUnmasked) {
    enable_msix();
    ASSERT_TRUE(irq().raise(5));
    ASSERT_TRUE(irq().raise(5)); // pending is one bit: still one delivery
    EXPECT_TRUE(h().interrupts().empty());
    unmask(5);
    EXPECT_EQ(h().take_interrupts(), std::vector{SimInterrupt::msix(5)});
    EXPECT_FALSE(h().msix_pending(5));
    EXPECT_EQ(h().read64(2, pba_off), 0u);
    mask(5);
    unmask(5);
    EXPECT_TRUE(h().interrupts().empty());
}

TEST_F(SimIrq, UnmaskedMsixVectorsAreDeliveredInOrder) {
    enable_msix();
    for (unsigned v : {0u, 2u, 7u, 63u}) {
        unmask(v);
    }
    for (unsigned v : {7u, 0u, 63u, 2u, 7u}) {
        ASSERT_TRUE(irq().raise(v));
    }
    EXPECT_EQ(h().interrupts(),
              (std::vector{SimInterrupt::msix(7), SimInterrupt::msix(0), SimInterrupt::msix(63),
                           SimInterrupt::msix(2), SimInterrupt::msix(7)}));
    EXPECT_EQ(h().interrupt_count(Kind::msix, 7), 2u);
    EXPECT_EQ(h().interrupt_count(Kind::msix, 1), 0u);
}

TEST_F(SimIrq, MsixVectorPastTheTableIsEinval) {
    enable_msix();
    auto r = irq().raise(msix_vectors);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().errnum, EINVAL);
}

TEST_F(SimIrq, FunctionMaskPendsAndReleases) {
    msix_control(0x8000 | 0x4000); // enable + Function Mask
    unmask(1);
    ASSERT_TRUE(irq().raise(1));
    EXPECT_TRUE(h().interrupts().empty());
    EXPECT_TRUE(h().msix_pending(1));
    msix_control(0x8000);
    EXPECT_EQ(h().take_interrupts(), std::vector{SimInterrupt::msix(1)});
    EXPECT_FALSE(h().msix_pending(1));
}

TEST_F(SimIrq, MsixTableAndPbaAreServedByTheHost) {
    const uint64_t e = table_off + 16 * 9;
    h().write32(2, e + 0, 0xfee00000);
    h().write32(2, e + 4, 0x1);
    h().write32(2, e + 8, 0x4041);
    h().write32(2, e + 12, 0xfffffffe); // only bit 0 of Vector Control is RW
    EXPECT_EQ(h().read32(2, e + 0), 0xfee00000u);
    EXPECT_EQ(h().read64(2, e + 0), 0x1'fee00000u);
    EXPECT_EQ(h().read32(2, e + 8), 0x4041u);
    EXPECT_EQ(h().read32(2, e + 12), 0u);
    h().write8(2, e + 12, 0xff);
    EXPECT_EQ(h().read32(2, e + 12), 1u);
    h().write64(2, pba_off, ~uint64_t{0}); // PBA writes are ignored
    EXPECT_EQ(h().read64(2, pba_off), 0u);
    // None of it reached the model.
    EXPECT_EQ(h().stats().reads, 0u);
    EXPECT_EQ(h().stats().writes, 0u);
    // Outside table and PBA, BAR2 is the model's again.
    (void)h().read32(2, 0);
    EXPECT_EQ(h().stats().reads, 1u);
}

TEST_F(SimIrq, EnablingMsixClearsPendingState) {
    enable_msix();
    ASSERT_TRUE(irq().raise(4));
    EXPECT_TRUE(h().msix_pending(4));
    msix_control(0);
    EXPECT_TRUE(h().msix_pending(4)); // disabling keeps it
    enable_msix();
    EXPECT_FALSE(h().msix_pending(4));
    unmask(4);
    EXPECT_TRUE(h().interrupts().empty());
}

TEST_F(SimIrq, MsiVectorsFollowMultipleMessageEnable) {
    msi_control(true, 2); // 4 vectors
    ASSERT_TRUE(irq().raise(3));
    auto r = irq().raise(4);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().errnum, EINVAL);
    EXPECT_EQ(h().take_interrupts(), std::vector{SimInterrupt::msi(3)});
    msi_control(true, 0); // one vector
    EXPECT_FALSE(irq().raise(1));
    EXPECT_TRUE(irq().raise(0));
}

TEST_F(SimIrq, MsiPerVectorMaskPendsAndFiresOnUnmask) {
    msi_control(true, 3);
    msi_mask(0b0110);
    ASSERT_TRUE(irq().raise(1));
    ASSERT_TRUE(irq().raise(2));
    ASSERT_TRUE(irq().raise(0));
    EXPECT_EQ(h().take_interrupts(), std::vector{SimInterrupt::msi(0)});
    EXPECT_TRUE(h().msi_pending(1));
    EXPECT_TRUE(h().msi_pending(2));
    // The Pending Bits register shows them (device-owned, read-only).
    const auto pending = static_cast<uint16_t>(msi_mask_reg() + 4);
    EXPECT_EQ(h().cfg_read(pending, 4), 0b0110u);
    EXPECT_EQ(h().cfg_read(pending, 1), 0b0110u);
    h().cfg_write(pending, 4, 0);
    EXPECT_EQ(h().cfg_read(pending, 4), 0b0110u);
    msi_mask(0b0100);
    EXPECT_EQ(h().take_interrupts(), std::vector{SimInterrupt::msi(1)});
    msi_mask(0);
    EXPECT_EQ(h().take_interrupts(), std::vector{SimInterrupt::msi(2)});
    EXPECT_EQ(h().cfg_read(pending, 4), 0u);
}

TEST_F(SimIrq, EnablingMsiClearsPendingState) {
    msi_control(true, 0);
    msi_mask(1);
    ASSERT_TRUE(irq().raise(0));
    EXPECT_TRUE(h().msi_pending(0));
    msi_control(false, 0);
    msi_control(true, 0);
    EXPECT_FALSE(h().msi_pending(0));
    msi_mask(0);
    EXPECT_TRUE(h().interrupts().empty());
}

TEST_F(SimIrq, MsiWithoutMaskingNeverPends) {
    make(true, /*maskable=*/false);
    msi_control(true, 0);
    ASSERT_TRUE(irq().raise(0));
    EXPECT_EQ(h().take_interrupts(), std::vector{SimInterrupt::msi(0)});
}

TEST_F(SimIrq, MsixWinsOverMsiAndMsiServesWhenMsixIsOff) {
    msi_control(true, 0);
    enable_msix();
    unmask(0);
    ASSERT_TRUE(irq().raise(0));
    msix_control(0);
    ASSERT_TRUE(irq().raise(0));
    EXPECT_EQ(h().take_interrupts(), (std::vector{SimInterrupt::msix(0), SimInterrupt::msi(0)}));
    msi_control(false, 0);
    EXPECT_EQ(irq().raise(0).error().errnum, EAGAIN);
}

TEST_F(SimIrq, IntxIsGatedByInterruptDisableAndShownInStatus) {
    constexpr uint32_t status_irq = 1u << 3;
    EXPECT_EQ(h().cfg_read(0x06, 2) & status_irq, 0u);
    ASSERT_TRUE(irq().set_intx(true));
    EXPECT_EQ(h().take_interrupts(), std::vector{SimInterrupt::intx()});
    EXPECT_TRUE(h().intx_asserted());
    EXPECT_NE(h().cfg_read(0x06, 2) & status_irq, 0u);
    EXPECT_NE(h().cfg_read(0x04, 4) & (status_irq << 16), 0u);
    ASSERT_TRUE(irq().set_intx(true)); // level: still high, no new edge
    EXPECT_TRUE(h().interrupts().empty());
    ASSERT_TRUE(irq().set_intx(false));
    EXPECT_FALSE(h().intx_asserted());
    EXPECT_EQ(h().cfg_read(0x06, 2) & status_irq, 0u);

    h().cfg_write(0x04, 2, 1u << 10); // Interrupt Disable
    ASSERT_TRUE(irq().set_intx(true));
    EXPECT_TRUE(h().interrupts().empty());
    EXPECT_FALSE(h().intx_asserted());
    EXPECT_TRUE(h().intx_level());
    EXPECT_NE(h().cfg_read(0x06, 2) & status_irq, 0u); // status shows the line anyway
    h().cfg_write(0x04, 2, 0);
    EXPECT_EQ(h().take_interrupts(), std::vector{SimInterrupt::intx()});
    EXPECT_TRUE(h().intx_asserted());
}

TEST_F(SimIrq, IntxWithoutAPinIsEinval) {
    make(/*pin=*/false);
    auto r = irq().set_intx(true);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().errnum, EINVAL);
}

TEST_F(SimIrq, EventfdCountsArePreserved) {
    enable_msix();
    unmask(2);
    auto fd = irq().eventfd(2);
    ASSERT_TRUE(fd) << fd.error().message;
    EXPECT_EQ(*irq().eventfd(2), *fd); // one per vector
    const uint64_t five = 5;
    ASSERT_EQ(::write(*fd, &five, sizeof(five)), 8);
    EXPECT_EQ(h().interrupt_count(Kind::msix, 2), 5u);
    // Masked: the counts collapse into one pending bit, as on the kernel.
    mask(2);
    const uint64_t three = 3;
    ASSERT_EQ(::write(*fd, &three, sizeof(three)), 8);
    h().poll_interrupts();
    EXPECT_TRUE(h().msix_pending(2));
    unmask(2);
    EXPECT_EQ(h().interrupt_count(Kind::msix, 2), 6u);
}

TEST_F(SimIrq, EventfdRaisesFromAModelThread) {
    enable_msix();
    for (unsigned v = 0; v < 4; ++v) {
        unmask(v);
    }
    std::thread t([this] {
        const uint64_t one = 1;
        for (unsigned i = 0; i < 4000; ++i) {
            auto fd = irq().eventfd(i % 4);
            ASSERT_TRUE(fd);
            ASSERT_EQ(::write(*fd, &one, sizeof(one)), 8);
        }
    });
    t.join();
    for (unsigned v = 0; v < 4; ++v) {
        EXPECT_EQ(h().interrupt_count(Kind::msix, v), 1000u) << v;
    }
}

TEST_F(SimIrq, EventfdRaisesWithNothingEnabledAreDropped) {
    auto fd = irq().eventfd(0);
    ASSERT_TRUE(fd);
    const uint64_t two = 2;
    ASSERT_EQ(::write(*fd, &two, sizeof(two)), 8);
    EXPECT_EQ(h().dropped_interrupts(), 2u);
    EXPECT_TRUE(h().interrupts().empty());
}

TEST(SimIrqUnbound, AModelOnNoHostCannotInterrupt) {
    IrqModel model;
    EXPECT_EQ(model.irq().raise(0).error().errnum, ENODEV);
    EXPECT_EQ(model.irq().set_intx(true).error().errnum, ENODEV);
    EXPECT_EQ(model.irq().eventfd(0).error().errnum, ENODEV);
    {
        auto h = pciem::SimHost::create(model);
        ASSERT_TRUE(h);
        EXPECT_EQ(model.irq().raise(0).error().errnum, EAGAIN);
    }
    EXPECT_EQ(model.irq().raise(0).error().errnum, ENODEV); // the host is gone
}

// ---- RAM BARs --------------------------------------------------------------

TEST_F(SimIrq, RamBarIsSharedBytesNotRequests) {
    auto ram = model_->ram(4);
    ASSERT_EQ(ram.size(), 64u * 1024);
    EXPECT_TRUE(model_->ram(0).empty());
    EXPECT_TRUE(model_->ram(2).empty());
    EXPECT_EQ(h().read64(4, 0x100), 0u); // zeroed
    h().write32(4, 0x100, 0xdeadbeef);
    h().write8(4, 0xffff, 0x5a);
    uint32_t v = 0;
    std::memcpy(&v, ram.data() + 0x100, 4);
    EXPECT_EQ(v, 0xdeadbeefu);
    EXPECT_EQ(static_cast<uint8_t>(ram[0xffff]), 0x5a);
    const uint64_t w = 0x0102030405060708;
    std::memcpy(ram.data() + 0x2000, &w, 8);
    EXPECT_EQ(h().read64(4, 0x2000), w);
    EXPECT_EQ(h().read16(4, 0x2002), 0x0506u);
    // Not trapped: no requests, nothing counted.
    EXPECT_EQ(h().stats().reads, 0u);
    EXPECT_EQ(h().stats().writes, 0u);
    EXPECT_EQ(h().read32(4, 64 * 1024), 0xffffffffu); // past the BAR
    EXPECT_EQ(h().stats().master_aborts, 1u);
}

class MapOnRam : public pciem::DeviceModel {
public:
    MapOnRam() { declare_bar(0, "RAM", 4096); }
    pciem::DeviceSpec spec() const override {
        return pciem::DeviceSpec{}.ids(1, 2).bar(0, pciem::Bar::mem64(4096).ram());
    }
};

TEST(SimRam, ARegisterMapOnARamBarIsRefused) {
    MapOnRam model;
    auto h = pciem::SimHost::create(model);
    ASSERT_FALSE(h);
    EXPECT_NE(h.error().message.find("RAM BAR"), std::string::npos) << h.error().message;
}

TEST(SimRam, ARamBarBelow4KiBIsRefused) {
    class Small : public pciem::DeviceModel {
    public:
        pciem::DeviceSpec spec() const override {
            return pciem::DeviceSpec{}.ids(1, 2).bar(0, pciem::Bar::mem64(2048).ram());
        }
    } model;
    EXPECT_FALSE(pciem::SimHost::create(model));
}

// ---- configuration events (PCIEM_REQ_IRQ_CONFIG) ---------------------------

using Ev = pciem::IrqConfigEvent;

Ev event(Ev::Kind kind) {
    Ev e;
    e.kind = kind;
    return e;
}

TEST_F(SimIrq, ModelHearsOfMsixEnableFunctionMaskAndEntryChanges) {
    enable_msix();
    h().write32(2, table_off + 16 * 5 + 8, 0x4025); // message data of entry 5
    unmask(5);
    unmask(5); // no change, no event
    msix_control(0xc000);
    Ev en = event(Ev::Kind::msix);
    en.enabled = true;
    Ev data = event(Ev::Kind::msix_entry);
    data.vector = 5;
    data.masked = true;
    data.message_data = 0x4025;
    Ev unm = data;
    unm.masked = false;
    Ev fm = en;
    fm.masked = true;
    EXPECT_EQ(model_->events, (std::vector{en, data, unm, fm}));
}

TEST_F(SimIrq, ModelHearsOfMsiEnableVectorsDataAndMaskBits) {
    h().cfg_write(static_cast<uint16_t>(msi_ + 0x0c), 2, 0x4100); // data (64-bit MSI)
    msi_control(true, 2);
    msi_mask(0x4);
    msi_mask(0x4); // no change, no event
    Ev d = event(Ev::Kind::msi);
    d.vectors = 1;
    d.message_data = 0x4100;
    Ev en = d;
    en.enabled = true;
    en.vectors = 4;
    Ev m = event(Ev::Kind::msi_mask);
    m.mask_bits = 0x4;
    EXPECT_EQ(model_->events, (std::vector{d, en, m}));
}

TEST_F(SimIrq, ModelHearsOfInterruptDisable) {
    h().cfg_write(0x04, 2, 0x0400);
    h().cfg_write(0x04, 2, 0x0406); // other bits: no event
    h().cfg_write(0x04, 2, 0x0006);
    Ev on = event(Ev::Kind::intx_disable);
    on.masked = true;
    EXPECT_EQ(model_->events, (std::vector{on, event(Ev::Kind::intx_disable)}));
}

} // namespace
