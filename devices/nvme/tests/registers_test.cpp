// SPDX-License-Identifier: MIT
// Controller registers: identity, CAP/VS, enable, reset, shutdown, the
// fatal status, interrupt masking, doorbell stride.
#include <gtest/gtest.h>

#include "nvme_driver.hpp"

namespace pciem::nvme::test {
namespace {

TEST(NvmeRegisters, ConfigSpaceSaysNvmeWithMsix) {
    Driver d(ControllerOptions{.io_queues = 4});
    SimHost& h = d.host();
    EXPECT_EQ(h.cfg_read(0x00, 4), 0x7e301b36u);
    EXPECT_EQ(h.cfg_read(0x08, 4) >> 8, 0x010802u) << "class code the nvme driver binds to";
    const uint16_t msix = h.config().layout.msix;
    ASSERT_NE(msix, 0);
    EXPECT_EQ(h.cfg_read(msix + 2, 2) & 0x7ff, 4u) << "1 + 4 I/O queues = 5 vectors";
    EXPECT_NE(h.config().layout.msi, 0);
    EXPECT_NE(h.cfg_read(0x3d, 1), 0u) << "INTA for the fallback";
}

TEST(NvmeRegisters, CapAndVersion) {
    Driver d(ControllerOptions{.max_queue_entries = 256, .doorbell_stride = 2});
    const uint64_t cap = d.host().read64(0, reg::cap);
    EXPECT_EQ(cap & 0xffff, 255u) << "MQES";
    EXPECT_EQ((cap >> 16) & 1, 1u) << "CQR";
    EXPECT_NE((cap >> 24) & 0xff, 0u) << "TO";
    EXPECT_EQ((cap >> 32) & 0xf, 2u) << "DSTRD";
    EXPECT_EQ((cap >> 37) & 0xff, 1u) << "CSS: NVM";
    EXPECT_EQ((cap >> 48) & 0xf, 0u) << "MPSMIN 4 KiB";
    EXPECT_GE((cap >> 52) & 0xf, 0u);
    // Drivers read CAP as two halves.
    EXPECT_EQ(d.host().read32(0, reg::cap + 4), static_cast<uint32_t>(cap >> 32));
    EXPECT_EQ(d.host().read32(0, reg::vs), 0x00010400u);
}

TEST(NvmeRegisters, EnableReportsReadyAndCstsIsShadowed) {
    Driver d;
    d.enable_pci();
    EXPECT_EQ(d.host().read32(0, reg::csts), 0u);
    const uint64_t before = d.host().stats().shadow_reads;
    EXPECT_EQ(d.enable_controller() & csts::rdy, csts::rdy);
    EXPECT_GT(d.host().stats().shadow_reads, before) << "CSTS polling must not reach the model";
    // The admin queue works.
    Cqe c = d.admin(command(0xff));
    EXPECT_EQ(status_of(c), status::invalid_opcode);
}

TEST(NvmeRegisters, UnusableConfigurationSetsFatalStatusNotReady) {
    Driver d;
    d.enable_pci();
    const uint32_t csts = d.enable_controller(32, /*mps=*/9); // 2 MiB pages: above MPSMAX
    EXPECT_EQ(csts & csts::rdy, 0u);
    EXPECT_EQ(csts & csts::cfs, csts::cfs);
    d.disable_controller();
    EXPECT_EQ(d.host().read32(0, reg::csts), 0u) << "reset clears CFS";
    EXPECT_EQ(d.enable_controller() & (csts::rdy | csts::cfs), csts::rdy);
}

TEST(NvmeRegisters, MqesLimitsIoQueuesNotTheAdminQueue) {
    Driver d(ControllerOptions{.max_queue_entries = 16});
    d.enable_pci();
    EXPECT_EQ(d.enable_controller(/*admin_entries=*/32) & csts::rdy, csts::rdy)
        << "Linux's admin queue has 32 entries whatever MQES says";
    EXPECT_EQ(status_of(d.create_cq(1, 17, 1, d.alloc_coherent(4096))), status::invalid_queue_size);
}

TEST(NvmeRegisters, ResetDeletesIoQueuesAndKeepsAdminRegisters) {
    Driver d;
    d.start();
    HostQueue q = d.create_io_queue(1, 16, 1);
    const uint64_t asq = d.host().read64(0, reg::asq);
    d.disable_controller();
    EXPECT_EQ(d.host().read32(0, reg::csts) & csts::rdy, 0u);
    EXPECT_EQ(d.host().read64(0, reg::asq), asq);
    // A doorbell of a queue that reset deleted does nothing.
    auto buf = d.map(512, DmaDirection::from_device);
    d.submit(q, block_command(io_op::read, 1, 0, 1, buf->bus));
    EXPECT_FALSE(d.reap(q));
    // After re-enabling, queue 1 can be created again: it was deleted.
    d.enable_controller();
    HostQueue again = d.create_io_queue(1, 16, 1);
    EXPECT_EQ(status_of(d.io(again, io_op::read, 1, 0, 1, buf->bus)), status::success);
}

TEST(NvmeRegisters, ShutdownReportsCompleteAndStopsProcessing) {
    Driver d;
    d.start();
    HostQueue q = d.create_io_queue(1, 16, 1);
    const uint32_t cc = d.host().read32(0, reg::cc);
    d.host().write32(0, reg::cc, cc | 1u << cc::shn_shift); // normal shutdown
    const uint32_t csts = d.host().read32(0, reg::csts);
    EXPECT_EQ(csts & csts::shst_mask, csts::shst_complete);
    EXPECT_EQ(csts & csts::rdy, csts::rdy) << "CC.EN is still 1";
    auto buf = d.map(512, DmaDirection::from_device);
    d.submit(q, block_command(io_op::read, 1, 0, 1, buf->bus));
    EXPECT_FALSE(d.reap(q)) << "no commands after shutdown";
    // A reset makes the controller usable again.
    d.host().write32(0, reg::cc, 0);
    EXPECT_EQ(d.host().read32(0, reg::csts), 0u);
    EXPECT_EQ(d.enable_controller() & csts::rdy, csts::rdy);
}

TEST(NvmeRegisters, AdminQueueFaultSetsFatalStatus) {
    Driver d;
    d.start();
    // The admin SQ is fine, but the driver "frees" the admin CQ.
    d.host().dma().free_coherent(d.admin_queue().cq_bus);
    d.submit(d.admin_queue(), command(admin_op::identify));
    EXPECT_EQ(d.host().read32(0, reg::csts) & csts::cfs, csts::cfs);
    EXPECT_FALSE(d.host().dma().faults().empty());
}

TEST(NvmeRegisters, BusMasteringOffIsAControllerFatalError) {
    Driver d;
    d.start();
    d.host().cfg_write(0x04, 2, 0x0002); // Bus Master Enable cleared
    d.submit(d.admin_queue(), command(admin_op::identify));
    EXPECT_EQ(d.host().read32(0, reg::csts) & csts::cfs, csts::cfs);
    EXPECT_EQ(d.host().dma().faults().at(0).kind, DmaFaultKind::bus_master_off);
}

TEST(NvmeRegisters, DoorbellStrideIsHonoured) {
    Driver d(ControllerOptions{.doorbell_stride = 3});
    EXPECT_EQ(d.model().sq_doorbell_offset(1), 0x1000u + 2 * 32);
    EXPECT_EQ(d.model().cq_doorbell_offset(1), 0x1000u + 3 * 32);
    d.start();
    HostQueue q = d.create_io_queue(1, 8, 1);
    auto buf = d.map(512, DmaDirection::from_device);
    for (int i = 0; i < 20; ++i) { // wraps the 8-entry queue twice
        ASSERT_EQ(status_of(d.io(q, io_op::read, 1, 0, 1, buf->bus)), status::success);
    }
    // A write between two doorbells is an Invalid Doorbell Register event.
    d.submit(d.admin_queue(), command(admin_op::async_event_request));
    EXPECT_FALSE(d.reap(d.admin_queue()));
    d.host().write32(0, 0x1000 + 4, 1);
    auto ev = d.reap(d.admin_queue());
    ASSERT_TRUE(ev);
    EXPECT_EQ(ev->dw0, uint32_t{aer::type_error} | aer::info_invalid_doorbell_register << 8 |
                           uint32_t{log_page::error_info} << 16);
}

TEST(NvmeRegisters, PinInterruptFollowsCompletionsAndIntms) {
    Driver d;
    d.enable_pci(/*msix=*/false); // neither MSI-X nor MSI: INTA
    d.enable_controller();
    HostQueue& aq = d.admin_queue();
    d.submit(aq, command(0xff));
    EXPECT_TRUE(d.host().intx_asserted()) << "an unconsumed completion holds the line high";
    ASSERT_TRUE(d.reap(aq, /*ring=*/false));
    EXPECT_TRUE(d.host().intx_asserted()) << "until the host's CQ head doorbell";
    d.ring_cq(aq);
    EXPECT_FALSE(d.host().intx_asserted());
    // Masked with INTMS: a completion does not assert; INTMC does.
    d.host().write32(0, reg::intms, 1);
    EXPECT_EQ(d.host().read32(0, reg::intmc), 1u) << "both read the mask";
    d.submit(aq, command(0xff));
    EXPECT_FALSE(d.host().intx_asserted());
    d.host().write32(0, reg::intmc, 1);
    EXPECT_EQ(d.host().read32(0, reg::intms), 0u);
    EXPECT_TRUE(d.host().intx_asserted());
    ASSERT_TRUE(d.reap(aq));
    EXPECT_FALSE(d.host().intx_asserted());
}

} // namespace
} // namespace pciem::nvme::test
