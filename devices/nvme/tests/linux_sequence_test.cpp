// SPDX-License-Identifier: MIT
// The Linux nvme driver's probe, I/O and shutdown, in its order and with
// its register access widths (drivers/nvme/host/pci.c and core.c of 6.1
// as far as the controller can tell): the path the guest tests take.
#include <cstring>

#include <gtest/gtest.h>

#include "nvme_driver.hpp"

namespace pciem::nvme::test {
namespace {

TEST(NvmeLinuxSequence, ProbeIoAndShutdown) {
    Driver d(ControllerOptions{.io_queues = 8}, {NamespaceSpec(16 << 20)});
    SimHost& h = d.host();
    // nvme_pci_enable: memory + bus master, CSTS is not all-ones, CAP by
    // halves (lo_hi_readq), VS; one MSI-X vector for the admin queue.
    h.cfg_write(0x04, 2, 0x0006);
    ASSERT_NE(h.read32(0, reg::csts), 0xffffffffu);
    const uint64_t cap = h.read32(0, reg::cap) | uint64_t{h.read32(0, reg::cap + 4)} << 32;
    const unsigned stride = 4u << ((cap >> 32) & 0xf);
    ASSERT_EQ(h.read32(0, reg::vs), 0x00010400u);
    EXPECT_EQ(h.read32(0, reg::cmbsz), 0u);
    const uint16_t msix = h.config().layout.msix;
    h.cfg_write(msix + 2, 2, 0x8000);
    h.write32(Controller::msix_bar, 12, 0);

    // nvme_pci_configure_admin_queue: disable, wait !RDY, admin queue
    // registers (lo_hi_writeq), CC without EN, read back, CC with EN, poll.
    h.write32(0, reg::cc, 0);
    ASSERT_EQ(h.read32(0, reg::csts) & csts::rdy, 0u);
    HostQueue& aq = d.admin_queue();
    aq.sq_entries = aq.cq_entries = 32;
    aq.sq_bus = d.alloc_coherent(32 * sizeof(Sqe));
    aq.cq_bus = d.alloc_coherent(32 * sizeof(Cqe));
    h.write32(0, reg::aqa, 31u << 16 | 31u);
    h.write32(0, reg::asq, static_cast<uint32_t>(aq.sq_bus));
    h.write32(0, reg::asq + 4, static_cast<uint32_t>(aq.sq_bus >> 32));
    h.write32(0, reg::acq, static_cast<uint32_t>(aq.cq_bus));
    h.write32(0, reg::acq + 4, static_cast<uint32_t>(aq.cq_bus >> 32));
    const uint32_t cc = 6u << 16 | 4u << 20; // IOSQES, IOCQES; CSS NVM, 4 KiB pages, RR
    h.write32(0, reg::cc, cc);
    ASSERT_EQ(h.read32(0, reg::cc), cc);
    h.write32(0, reg::cc, cc | cc::en);
    const uint64_t shadowed = h.stats().shadow_reads;
    ASSERT_EQ(h.read32(0, reg::csts) & (csts::rdy | csts::cfs), csts::rdy);
    EXPECT_EQ(h.stats().shadow_reads, shadowed + 1);

    // nvme_init_ctrl_finish: Identify Controller, the NVM command set's
    // limits, hwmon's thresholds and SMART log.
    auto id = d.map(4096, DmaDirection::from_device);
    Sqe ident = command(admin_op::identify);
    ident.dptr1 = id->bus;
    ident.cdw10 = cns::ctrl;
    ASSERT_EQ(status_of(d.admin(ident)), status::success);
    ident.cdw10 = cns::io_command_set_ctrl;
    ident.cdw11 = uint32_t{csi_nvm} << 24;
    ASSERT_EQ(status_of(d.admin(ident)), status::success);
    for (uint32_t thsel : {0u, 1u}) {
        Sqe gf = command(admin_op::get_features);
        gf.cdw10 = feature::temperature_threshold;
        gf.cdw11 = thsel << 20;
        ASSERT_EQ(status_of(d.admin(gf)), status::success);
    }
    Sqe smart = command(admin_op::get_log_page, broadcast_nsid);
    smart.dptr1 = id->bus;
    smart.cdw10 = (512u / 4 - 1) << 16 | log_page::smart;
    ASSERT_EQ(status_of(d.admin(smart)), status::success);

    // nvme_setup_io_queues: two CPUs, so two queues; every vector.
    Sqe nq = command(admin_op::set_features);
    nq.cdw10 = feature::number_of_queues;
    nq.cdw11 = 1u << 16 | 1u;
    Cqe granted = d.admin(nq);
    ASSERT_EQ(status_of(granted), status::success);
    EXPECT_GE(granted.dw0 & 0xffff, 1u);
    d.enable_pci(); // pci_alloc_irq_vectors again, all vectors unmasked
    HostQueue q1 = d.create_io_queue(1, 1024, 1);
    HostQueue q2 = d.create_io_queue(2, 1024, 2);

    // nvme_scan_work: active list, descriptors, Identify Namespace.
    ident.cdw11 = 0;
    ident.cdw10 = cns::active_ns_list;
    ASSERT_EQ(status_of(d.admin(ident)), status::success);
    uint32_t nsid = 0;
    std::memcpy(&nsid, id->bytes.data(), 4);
    ASSERT_EQ(nsid, 1u);
    ident.nsid = nsid;
    ident.cdw10 = cns::ns_descriptors;
    ASSERT_EQ(status_of(d.admin(ident)), status::success);
    ident.cdw10 = cns::ns;
    ASSERT_EQ(status_of(d.admin(ident)), status::success);
    uint64_t nsze = 0;
    std::memcpy(&nsze, id->bytes.data(), 8);
    EXPECT_EQ(nsze, (16u << 20) / 512);

    // nvme_queue_async_events: one AER, outstanding for good.
    d.submit(aq, command(admin_op::async_event_request));
    EXPECT_FALSE(d.reap(aq));
    h.take_interrupts();

    // I/O: a 64 KiB write on CPU 0's queue (PRP list), read back on CPU 1's.
    auto src = d.map(64 * 1024, DmaDirection::to_device);
    const auto data = pattern(64 * 1024, 9);
    std::memcpy(src->bytes.data(), data.data(), data.size());
    const uint64_t list = d.alloc_coherent(4096);
    for (uint64_t i = 1; i < 16; ++i) {
        const uint64_t entry = src->bus + i * 4096;
        std::memcpy(d.coherent(list).data() + (i - 1) * 8, &entry, 8);
    }
    ASSERT_EQ(status_of(d.io(q1, io_op::write, 1, 2048, 128, src->bus, list)), status::success);
    auto dst = d.map(64 * 1024, DmaDirection::from_device);
    for (uint64_t i = 1; i < 16; ++i) {
        const uint64_t entry = dst->bus + i * 4096;
        std::memcpy(d.coherent(list).data() + (i - 1) * 8, &entry, 8);
    }
    ASSERT_EQ(status_of(d.io(q2, io_op::read, 1, 2048, 128, dst->bus, list)), status::success);
    EXPECT_TRUE(std::equal(data.begin(), data.end(), dst->bytes.begin()));
    EXPECT_EQ(status_of(d.run(q1, command(io_op::flush, 1))), status::success);
    EXPECT_EQ(h.take_interrupts(),
              (std::vector{SimInterrupt::msix(1), SimInterrupt::msix(2), SimInterrupt::msix(1)}));

    // nvme_dev_disable(shutdown): delete SQs, then CQs; CC.SHN; poll SHST.
    for (uint16_t q : {uint16_t{1}, uint16_t{2}}) {
        Sqe del = command(admin_op::delete_io_sq);
        del.cdw10 = q;
        ASSERT_EQ(status_of(d.admin(del)), status::success);
    }
    for (uint16_t q : {uint16_t{1}, uint16_t{2}}) {
        Sqe del = command(admin_op::delete_io_cq);
        del.cdw10 = q;
        ASSERT_EQ(status_of(d.admin(del)), status::success);
    }
    h.write32(0, reg::cc, cc | cc::en | 1u << cc::shn_shift);
    EXPECT_EQ(h.read32(0, reg::csts) & csts::shst_mask, csts::shst_complete);

    EXPECT_TRUE(h.dma().faults().empty());
    EXPECT_EQ(h.dropped_interrupts(), 0u);
    EXPECT_EQ(stride, 4u);
}

TEST(NvmeLinuxSequence, MsiFallbackHonoursIntmsPerVector) {
    Driver d(ControllerOptions{.io_queues = 2});
    SimHost& h = d.host();
    d.enable_pci(/*msix=*/false);
    const uint16_t msi = h.config().layout.msi;
    ASSERT_NE(msi, 0);
    h.cfg_write(msi + 2, 2, 2u << 4 | 1u); // MSI enable, 4 messages
    d.enable_controller();
    HostQueue q = d.create_io_queue(1, 16, 1);
    auto buf = d.map(512, DmaDirection::from_device);
    h.take_interrupts();
    ASSERT_EQ(status_of(d.io(q, io_op::read, 1, 0, 1, buf->bus)), status::success);
    EXPECT_EQ(h.take_interrupts(), (std::vector{SimInterrupt::msi(1)}));
    // INTMS bit 1 holds vector 1 back; INTMC releases it once.
    h.write32(0, reg::intms, 1u << 1);
    ASSERT_EQ(status_of(d.io(q, io_op::read, 1, 0, 1, buf->bus)), status::success);
    ASSERT_EQ(status_of(d.io(q, io_op::read, 1, 0, 1, buf->bus)), status::success);
    EXPECT_TRUE(h.take_interrupts().empty());
    h.write32(0, reg::intmc, 1u << 1);
    EXPECT_EQ(h.take_interrupts(), (std::vector{SimInterrupt::msi(1)}));
}

} // namespace
} // namespace pciem::nvme::test
