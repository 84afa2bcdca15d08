// SPDX-License-Identifier: MIT
//
// The doorbell on PCIem's simulated host: the test plays the driver
// (config cycles, MMIO, MSI) with no kernel and no root, in milliseconds.
#include <vector>

#include <gtest/gtest.h>

#include <pciem/sim_host.hpp>

#include "doorbell_device.hpp"

namespace {

using pciem::SimInterrupt;

class Doorbell : public ::testing::Test {
protected:
    void SetUp() override {
        auto host = pciem::SimHost::create(model_);
        ASSERT_TRUE(host) << host.error().message;
        host_ = std::move(*host);
    }
    pciem::SimHost& h() { return *host_; }
    // What a driver's pci_alloc_irq_vectors(..., PCI_IRQ_MSI) does to
    // config space: set MSI Enable.
    void enable_msi() {
        const uint16_t msi = h().config().layout.msi;
        ASSERT_NE(msi, 0) << "the spec has an MSI capability";
        h().cfg_write(static_cast<uint16_t>(msi + 2), 2, 0x0001);
    }

    doorbell::DoorbellDevice model_;
    std::unique_ptr<pciem::SimHost> host_;
};

TEST_F(Doorbell, IdentifiesItself) {
    EXPECT_EQ(h().cfg_read(0x00, 4), (uint32_t{doorbell::device_id} << 16) | doorbell::vendor_id);
    EXPECT_EQ(h().read32(0, doorbell::reg_id), doorbell::id_value);
}

TEST_F(Doorbell, ScratchKeepsWhatIsWritten) {
    h().write32(0, doorbell::reg_scratch, 0xcafef00d);
    EXPECT_EQ(h().read32(0, doorbell::reg_scratch), 0xcafef00du);
    h().write32(0, doorbell::reg_id, 0); // read-only: ignored
    EXPECT_EQ(h().read32(0, doorbell::reg_id), doorbell::id_value);
}

TEST_F(Doorbell, RingingCountsAndSetsStatus) {
    h().write32(0, doorbell::reg_doorbell, 1);
    h().write32(0, doorbell::reg_doorbell, 1);
    EXPECT_EQ(h().read32(0, doorbell::reg_count), 2u);
    EXPECT_EQ(h().read32(0, doorbell::reg_status), doorbell::status_rang);
    h().write32(0, doorbell::reg_status, doorbell::status_rang); // write 1 to clear
    EXPECT_EQ(h().read32(0, doorbell::reg_status), 0u);
    EXPECT_TRUE(h().interrupts().empty()) << "IRQ_ENABLE is clear";
}

TEST_F(Doorbell, RingingInterruptsWhenEnabled) {
    enable_msi();
    h().write32(0, doorbell::reg_ctrl, doorbell::ctrl_irq_enable);
    h().write32(0, doorbell::reg_doorbell, 1);
    EXPECT_EQ(h().take_interrupts(), std::vector{SimInterrupt::msi(0)});
    h().write32(0, doorbell::reg_ctrl, 0);
    h().write32(0, doorbell::reg_doorbell, 1);
    EXPECT_TRUE(h().take_interrupts().empty());
}

// Without MSI enabled by the driver the raise goes nowhere, as on
// hardware; the device still records the ring.
TEST_F(Doorbell, NoInterruptBeforeTheDriverEnablesMsi) {
    h().write32(0, doorbell::reg_ctrl, doorbell::ctrl_irq_enable);
    h().write32(0, doorbell::reg_doorbell, 1);
    EXPECT_TRUE(h().interrupts().empty());
    EXPECT_EQ(h().read32(0, doorbell::reg_count), 1u);
}

} // namespace
