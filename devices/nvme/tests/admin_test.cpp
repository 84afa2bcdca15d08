// SPDX-License-Identifier: MIT
// The admin command set as the Linux driver and nvme-cli use it.
#include <cstring>

#include <gtest/gtest.h>

#include "nvme_driver.hpp"

namespace pciem::nvme::test {
namespace {

template <class T>
T le(std::span<const std::byte> b, size_t off) {
    T v;
    std::memcpy(&v, b.data() + off, sizeof(T));
    return v;
}

std::string ascii(std::span<const std::byte> b, size_t off, size_t len) {
    return std::string(reinterpret_cast<const char*>(b.data() + off), len);
}

class NvmeAdmin : public ::testing::Test {
protected:
    explicit NvmeAdmin(ControllerOptions o = {.io_queues = 4},
                       std::vector<NamespaceSpec> ns = {NamespaceSpec(1 << 20),
                                                        NamespaceSpec(8 << 20, 12),
                                                        NamespaceSpec(1 << 20)})
        : d(std::move(o), std::move(ns)) {
        EXPECT_EQ(d.start() & csts::rdy, csts::rdy);
        buf = d.map(4096, DmaDirection::from_device);
    }

    Cqe identify(uint8_t cns, uint32_t nsid = 0) {
        std::fill(buf->bytes.begin(), buf->bytes.end(), std::byte{0xee});
        Sqe c = command(admin_op::identify, nsid);
        c.dptr1 = buf->bus;
        c.cdw10 = cns;
        return d.admin(c);
    }
    Cqe features(uint8_t op, uint32_t cdw10, uint32_t cdw11 = 0) {
        Sqe c = command(op);
        c.cdw10 = cdw10;
        c.cdw11 = cdw11;
        return d.admin(c);
    }
    Cqe log_page(uint8_t lid, uint32_t bytes, bool rae = false, uint32_t nsid = broadcast_nsid) {
        Sqe c = command(admin_op::get_log_page, nsid);
        c.dptr1 = buf->bus;
        c.cdw10 = (bytes / 4 - 1) << 16 | (rae ? 1u << 15 : 0) | lid;
        return d.admin(c);
    }

    Driver d;
    std::unique_ptr<Driver::Buffer> buf;
};

TEST_F(NvmeAdmin, IdentifyController) {
    Cqe c = identify(cns::ctrl);
    ASSERT_EQ(status_of(c), status::success);
    auto id = std::span<const std::byte>(buf->bytes);
    EXPECT_EQ(le<uint16_t>(id, 0), 0x1b36);
    EXPECT_EQ(ascii(id, 4, 20), "PCIEM-NVME-0001     ") << "space padded";
    EXPECT_EQ(ascii(id, 24, 21), "PCIem NVMe Controller");
    EXPECT_EQ(le<uint8_t>(id, 77), 8) << "MDTS";
    EXPECT_EQ(le<uint32_t>(id, 80), 0x00010400u) << "VER";
    EXPECT_EQ(le<uint8_t>(id, 259), Controller::max_async_events - 1) << "AERL";
    EXPECT_EQ(le<uint8_t>(id, 512), 0x66) << "SQES";
    EXPECT_EQ(le<uint8_t>(id, 513), 0x44) << "CQES";
    EXPECT_EQ(le<uint32_t>(id, 516), 3u) << "NN";
    EXPECT_EQ(le<uint16_t>(id, 520) & 0xc, 0xc) << "ONCS: DSM and Write Zeroes";
    EXPECT_EQ(le<uint8_t>(id, 525) & 1, 1) << "VWC";
    EXPECT_EQ(le<uint32_t>(id, 536) & 3, 1u) << "SGLS";
    EXPECT_EQ(ascii(id, 768, 26), "nqn.2024-01.io.pciem:nvme:");
    // The completion: SQ 0, head after the command, the command's id.
    EXPECT_EQ(c.sqid, 0);
    EXPECT_EQ(c.sqhd, 1);
}

TEST_F(NvmeAdmin, IdentifyNamespaceAndLbaFormats) {
    ASSERT_EQ(status_of(identify(cns::ns, 1)), status::success);
    auto id = std::span<const std::byte>(buf->bytes);
    EXPECT_EQ(le<uint64_t>(id, 0), (1u << 20) / 512) << "NSZE";
    const unsigned flbas = le<uint8_t>(id, 26) & 0xf;
    EXPECT_EQ((le<uint32_t>(id, 128 + 4 * flbas) >> 16) & 0xff, 9u) << "LBADS";
    EXPECT_EQ(le<uint8_t>(id, 33) & 0x7, 1) << "DLFEAT: deallocated reads zeros";

    ASSERT_EQ(status_of(identify(cns::ns, 2)), status::success);
    EXPECT_EQ(le<uint64_t>(id, 0), (8u << 20) / 4096);
    const unsigned flbas2 = le<uint8_t>(id, 26) & 0xf;
    EXPECT_EQ((le<uint32_t>(id, 128 + 4 * flbas2) >> 16) & 0xff, 12u);
}

TEST_F(NvmeAdmin, ActiveNamespaceListAndDescriptors) {
    ASSERT_EQ(status_of(identify(cns::active_ns_list, 1)), status::success);
    auto id = std::span<const std::byte>(buf->bytes);
    EXPECT_EQ(le<uint32_t>(id, 0), 2u);
    EXPECT_EQ(le<uint32_t>(id, 4), 3u);
    EXPECT_EQ(le<uint32_t>(id, 8), 0u) << "zero ends the list";

    ASSERT_EQ(status_of(identify(cns::ns, 3)), status::success);
    std::array<std::byte, 16> nguid{};
    std::memcpy(nguid.data(), buf->bytes.data() + 104, 16);
    EXPECT_NE(nguid, (std::array<std::byte, 16>{}));
    ASSERT_EQ(status_of(identify(cns::ns_descriptors, 3)), status::success);
    EXPECT_EQ(le<uint8_t>(id, 0), 2) << "NIDT: NGUID";
    EXPECT_EQ(le<uint8_t>(id, 1), 16) << "NIDL";
    EXPECT_EQ(std::memcmp(buf->bytes.data() + 4, nguid.data(), 16), 0);
    EXPECT_EQ(le<uint8_t>(id, 20), 0) << "one descriptor";
}

TEST_F(NvmeAdmin, IdentifyNvmCommandSetController) {
    // The Linux driver gives up on the controller if this fails.
    Sqe c = command(admin_op::identify);
    c.dptr1 = buf->bus;
    c.cdw10 = cns::io_command_set_ctrl;
    c.cdw11 = uint32_t{csi_nvm} << 24;
    ASSERT_EQ(status_of(d.admin(c)), status::success);
    EXPECT_EQ(buf->bytes[1], std::byte{0}) << "WZSL: no Write Zeroes limit";
    c.cdw11 = 2u << 24; // Zoned Namespace command set
    EXPECT_EQ(status_of(d.admin(c)), status::invalid_field);
}

TEST_F(NvmeAdmin, IdentifyErrors) {
    EXPECT_EQ(status_of(identify(cns::ns, 0)), status::invalid_namespace);
    EXPECT_EQ(status_of(identify(cns::ns, 4)), status::invalid_namespace);
    EXPECT_EQ(status_of(identify(cns::ns_descriptors, 9)), status::invalid_namespace);
    EXPECT_EQ(status_of(identify(cns::active_ns_list, 0xfffffffe)), status::invalid_namespace);
    EXPECT_EQ(status_of(identify(0x55)), status::invalid_field);
    // Admin commands take PRPs only.
    Sqe c = command(admin_op::identify);
    c.flags = 1u << 6;
    c.cdw10 = cns::ctrl;
    EXPECT_EQ(status_of(d.admin(c)), status::invalid_field);
    EXPECT_TRUE(status_of(d.admin(c)).dnr());
}

TEST_F(NvmeAdmin, IdentifyIntoAToDeviceBufferIsADataTransferError) {
    auto wrong = d.map(4096, DmaDirection::to_device);
    std::fill(wrong->bytes.begin(), wrong->bytes.end(), std::byte{0x5a});
    Sqe c = command(admin_op::identify);
    c.dptr1 = wrong->bus;
    c.cdw10 = cns::ctrl;
    EXPECT_EQ(status_of(d.admin(c)), status::data_transfer_error);
    EXPECT_EQ(wrong->bytes[0], std::byte{0x5a}) << "no byte written";
    EXPECT_EQ(d.host().read32(0, reg::csts) & csts::cfs, 0u) << "a data fault is not fatal";
}

TEST_F(NvmeAdmin, UnknownOpcodeCompletesWithItsIdsAndPhase) {
    Sqe c = command(0x7f);
    c.cid = 0xbeef;
    Cqe r = d.admin(c);
    EXPECT_EQ(status_of(r), status::invalid_opcode);
    EXPECT_EQ(status_of(r).sct(), sct::generic);
    EXPECT_TRUE(status_of(r).dnr());
    EXPECT_EQ(r.cid, 0xbeef);
    EXPECT_EQ(r.sqid, 0);
    EXPECT_EQ(r.status & 1, 1) << "phase 1 on the first pass";
}

TEST_F(NvmeAdmin, NumberOfQueues) {
    Cqe r = features(admin_op::set_features, feature::number_of_queues, 63u << 16 | 63u);
    ASSERT_EQ(status_of(r), status::success);
    EXPECT_EQ(r.dw0, 3u << 16 | 3u) << "4 granted, 0's based";
    EXPECT_EQ(features(admin_op::get_features, feature::number_of_queues).dw0, 3u << 16 | 3u);
    EXPECT_EQ(status_of(features(admin_op::set_features, feature::number_of_queues, 0xffff)),
              status::invalid_field);
    d.create_io_queue(1, 16, 1);
    EXPECT_EQ(status_of(features(admin_op::set_features, feature::number_of_queues, 0)),
              status::command_sequence_error);
}

TEST_F(NvmeAdmin, FeaturesGetSetAndErrors) {
    EXPECT_EQ(features(admin_op::get_features, feature::volatile_write_cache).dw0, 1u);
    ASSERT_EQ(status_of(features(admin_op::set_features, feature::volatile_write_cache, 0)),
              status::success);
    EXPECT_EQ(features(admin_op::get_features, feature::volatile_write_cache).dw0, 0u);
    EXPECT_EQ(features(admin_op::get_features, feature::volatile_write_cache | 1u << 8).dw0, 1u)
        << "SEL=default";
    EXPECT_EQ(features(admin_op::get_features, feature::arbitration | 3u << 8).dw0, 0x4u)
        << "SEL=capabilities: changeable";
    ASSERT_EQ(status_of(features(admin_op::set_features, feature::arbitration, 0x03020103)),
              status::success);
    EXPECT_EQ(features(admin_op::get_features, feature::arbitration).dw0, 0x03020103u);
    ASSERT_EQ(status_of(features(admin_op::set_features, feature::interrupt_coalescing, 0x0a08)),
              status::success);
    EXPECT_EQ(features(admin_op::get_features, feature::interrupt_coalescing).dw0, 0x0a08u);
    EXPECT_EQ(features(admin_op::get_features, feature::temperature_threshold).dw0,
              Controller::warning_temperature);
    EXPECT_EQ(status_of(features(admin_op::set_features, feature::power_management, 1)),
              status::invalid_field)
        << "power state 1 does not exist";
    EXPECT_EQ(
        status_of(features(admin_op::set_features, feature::temperature_threshold, 1u << 16 | 300)),
        status::invalid_field)
        << "sensor 1 does not exist";
    EXPECT_EQ(status_of(features(admin_op::set_features, 0x0c /* APST */, 1)),
              status::invalid_field);
    EXPECT_EQ(status_of(features(admin_op::get_features, 0x80)), status::invalid_field);
    EXPECT_EQ(status_of(features(admin_op::set_features, feature::arbitration | 1u << 31, 0)),
              status::feature_not_saveable);
}

TEST_F(NvmeAdmin, CreateAndDeleteQueueErrors) {
    const uint64_t mem = d.alloc_coherent(64 * 64);
    EXPECT_EQ(status_of(d.create_cq(0, 16, 1, mem)), status::invalid_queue_id);
    EXPECT_EQ(status_of(d.create_cq(5, 16, 1, mem)), status::invalid_queue_id) << "4 granted";
    EXPECT_EQ(status_of(d.create_cq(1, 1, 1, mem)), status::invalid_queue_size);
    EXPECT_EQ(status_of(d.create_cq(1, 2048, 1, mem)), status::invalid_queue_size);
    EXPECT_EQ(status_of(d.create_cq(1, 16, 5, mem)), status::invalid_interrupt_vector);
    EXPECT_EQ(status_of(d.create_cq(1, 16, 1, mem + 8)), status::prp_invalid_offset);
    EXPECT_EQ(status_of(d.create_sq(1, 16, 1, mem)), status::cq_invalid) << "no CQ 1 yet";
    EXPECT_EQ(status_of(d.create_sq(1, 16, 0, mem)), status::cq_invalid) << "admin CQ";
    ASSERT_EQ(status_of(d.create_cq(1, 16, 1, mem)), status::success);
    EXPECT_EQ(status_of(d.create_cq(1, 16, 1, mem)), status::invalid_queue_id) << "exists";
    const uint64_t sq = d.alloc_coherent(16 * 64);
    EXPECT_EQ(status_of(d.create_sq(1, 1, 1, sq)), status::invalid_queue_size);
    ASSERT_EQ(status_of(d.create_sq(1, 16, 1, sq)), status::success);
    EXPECT_EQ(status_of(d.create_sq(1, 16, 1, sq)), status::invalid_queue_id);

    Sqe del_cq = command(admin_op::delete_io_cq);
    del_cq.cdw10 = 1;
    EXPECT_EQ(status_of(d.admin(del_cq)), status::invalid_queue_deletion) << "SQ 1 uses it";
    Sqe del_sq = command(admin_op::delete_io_sq);
    del_sq.cdw10 = 1;
    EXPECT_EQ(status_of(d.admin(del_sq)), status::success);
    EXPECT_EQ(status_of(d.admin(del_sq)), status::invalid_queue_id) << "already gone";
    EXPECT_EQ(status_of(d.admin(del_cq)), status::success);
    del_cq.cdw10 = 0;
    EXPECT_EQ(status_of(d.admin(del_cq)), status::invalid_queue_id) << "the admin CQ";
    EXPECT_EQ(status_of(d.create_cq(1, 16, 1, mem)).sct(), sct::generic) << "can be recreated";
}

TEST_F(NvmeAdmin, PhaseTagFlipsWhenTheAdminQueueWraps) {
    Driver small;
    small.enable_pci();
    small.enable_controller(/*admin_entries=*/4);
    HostQueue& q = small.admin_queue();
    for (unsigned i = 0; i < 11; ++i) {
        Sqe c = command(0xff);
        c.cid = static_cast<uint16_t>(100 + i);
        small.submit(q, c);
        Cqe r{};
        std::memcpy(&r, small.coherent(q.cq_bus).data() + (i % 4) * sizeof(Cqe), sizeof(Cqe));
        EXPECT_EQ(r.status & 1, (i / 4) % 2 == 0 ? 1 : 0) << "entry " << i;
        EXPECT_EQ(r.sqhd, (i + 1) % 4) << "entry " << i;
        EXPECT_EQ(r.cid, 100 + i);
        ASSERT_TRUE(small.reap(q));
    }
}

TEST_F(NvmeAdmin, AsyncEventIsHeldUntilATemperatureThresholdIsCrossed) {
    // Enable SMART temperature events, then leave an AER outstanding.
    ASSERT_EQ(status_of(features(admin_op::set_features, feature::async_event_config, 0x2)),
              status::success);
    Sqe aer = command(admin_op::async_event_request);
    aer.cid = 0xae1;
    d.submit(d.admin_queue(), aer);
    EXPECT_FALSE(d.reap(d.admin_queue())) << "held";
    d.host().take_interrupts();
    // An over-temperature threshold below the current temperature.
    Sqe set = command(admin_op::set_features);
    set.cid = 0x5e7;
    set.cdw10 = feature::temperature_threshold;
    set.cdw11 = Controller::default_temperature - 10;
    d.submit(d.admin_queue(), set);
    auto first = d.reap(d.admin_queue());
    auto second = d.reap(d.admin_queue());
    ASSERT_TRUE(first && second);
    const Cqe& event = first->cid == 0xae1 ? *first : *second;
    EXPECT_EQ(status_of(event), status::success);
    EXPECT_EQ(event.dw0 & 0x7, aer::type_smart);
    EXPECT_EQ((event.dw0 >> 8) & 0xff, aer::info_temperature_threshold);
    EXPECT_EQ((event.dw0 >> 16) & 0xff, log_page::smart);
    EXPECT_GE(d.host().interrupt_count(SimInterrupt::Kind::msix, 0), 1u);
    // The SMART log shows the warning; reading it re-arms the event.
    ASSERT_EQ(status_of(log_page(log_page::smart, 512)), status::success);
    EXPECT_EQ(le<uint8_t>(buf->bytes, 0) & 0x2, 0x2) << "critical warning: temperature";
    EXPECT_EQ(le<uint16_t>(buf->bytes, 1), Controller::default_temperature);
}

TEST_F(NvmeAdmin, AsyncEventRequestLimit) {
    for (unsigned i = 0; i < Controller::max_async_events; ++i) {
        d.submit(d.admin_queue(), command(admin_op::async_event_request));
    }
    EXPECT_FALSE(d.reap(d.admin_queue()));
    Cqe r = d.admin(command(admin_op::async_event_request));
    EXPECT_EQ(status_of(r), status::aer_limit_exceeded);
    EXPECT_EQ(status_of(r).sct(), sct::command_specific);
}

TEST_F(NvmeAdmin, InvalidDoorbellWriteIsReportedAsAnErrorEvent) {
    d.submit(d.admin_queue(), command(admin_op::async_event_request));
    EXPECT_FALSE(d.reap(d.admin_queue()));
    d.host().write32(0, d.model().sq_doorbell_offset(3), 1); // SQ 3 does not exist
    auto ev = d.reap(d.admin_queue());
    ASSERT_TRUE(ev);
    EXPECT_EQ(ev->dw0 & 0x7, aer::type_error);
    EXPECT_EQ((ev->dw0 >> 8) & 0xff, aer::info_invalid_doorbell_register);
    EXPECT_EQ((ev->dw0 >> 16) & 0xff, log_page::error_info);
    // A second one is not reported before the error log is read...
    d.submit(d.admin_queue(), command(admin_op::async_event_request));
    d.host().write32(0, d.model().sq_doorbell_offset(0), 1000); // beyond the admin SQ
    EXPECT_FALSE(d.reap(d.admin_queue()));
    // ...and reading it (RAE clear) lets the next one through.
    ASSERT_EQ(status_of(log_page(log_page::error_info, 64)), status::success);
    d.host().write32(0, d.model().sq_doorbell_offset(0), 1000);
    ev = d.reap(d.admin_queue());
    ASSERT_TRUE(ev);
    EXPECT_EQ((ev->dw0 >> 8) & 0xff, aer::info_invalid_doorbell_value);
}

TEST_F(NvmeAdmin, LogPages) {
    ASSERT_EQ(status_of(log_page(log_page::firmware_slot, 512)), status::success);
    EXPECT_EQ(le<uint8_t>(buf->bytes, 0), 1) << "AFI: slot 1";
    EXPECT_EQ(ascii(buf->bytes, 8, 3), "1.0");
    ASSERT_EQ(status_of(log_page(log_page::smart, 512)), status::success);
    EXPECT_EQ(le<uint8_t>(buf->bytes, 3), 100) << "available spare";
    EXPECT_EQ(le<uint64_t>(buf->bytes, 112), 1u) << "power cycles";
    ASSERT_EQ(status_of(log_page(log_page::error_info, 4096)), status::success);
    EXPECT_EQ(status_of(log_page(0x70, 512)), status::invalid_log_page);
    EXPECT_EQ(status_of(log_page(log_page::smart, 512, false, 1)), status::invalid_field)
        << "no per-namespace SMART";
    Sqe past = command(admin_op::get_log_page);
    past.dptr1 = buf->bus;
    past.cdw10 = (128u - 1) << 16 | log_page::smart;
    past.cdw12 = 512; // offset past the end
    EXPECT_EQ(status_of(d.admin(past)), status::invalid_field);
}

TEST_F(NvmeAdmin, ErrorLogListsFailedCommandsNewestFirst) {
    Sqe bad = command(0x7f);
    bad.cid = 0x1234;
    ASSERT_EQ(status_of(d.admin(bad)), status::invalid_opcode);
    HostQueue q = d.create_io_queue(1, 16, 1);
    auto rd = d.map(512, DmaDirection::from_device);
    Sqe oor = block_command(io_op::read, 1, 0x7777777, 1, rd->bus);
    oor.cid = 0x4321;
    ASSERT_EQ(status_of(d.run(q, oor)), status::lba_out_of_range);
    ASSERT_EQ(status_of(log_page(log_page::error_info, 128)), status::success);
    auto e = std::span<const std::byte>(buf->bytes);
    EXPECT_EQ(le<uint64_t>(e, 0), 2u) << "error count of the newest";
    EXPECT_EQ(le<uint16_t>(e, 8), 1u) << "SQID";
    EXPECT_EQ(le<uint16_t>(e, 10), 0x4321u) << "CID";
    EXPECT_EQ(le<uint16_t>(e, 12) >> 1, status::lba_out_of_range.field);
    EXPECT_EQ(le<uint64_t>(e, 16), 0x7777777u) << "LBA";
    EXPECT_EQ(le<uint32_t>(e, 24), 1u) << "NSID";
    EXPECT_EQ(le<uint64_t>(e, 64), 1u);
    EXPECT_EQ(le<uint16_t>(e, 64 + 8), 0u);
    EXPECT_EQ(le<uint16_t>(e, 64 + 10), 0x1234u);
    EXPECT_EQ(le<uint16_t>(e, 64 + 12) >> 1, status::invalid_opcode.field);
    ASSERT_EQ(status_of(log_page(log_page::smart, 512)), status::success);
    EXPECT_EQ(le<uint64_t>(buf->bytes, 176), 2u) << "SMART: error log entries";
}

TEST_F(NvmeAdmin, AbortFindsNothingToAbort) {
    Sqe c = command(admin_op::abort);
    c.cdw10 = 1u << 16 | 0; // CID 1 on SQ 0
    Cqe r = d.admin(c);
    EXPECT_EQ(status_of(r), status::success);
    EXPECT_EQ(r.dw0 & 1, 1u) << "not aborted";
}

} // namespace
} // namespace pciem::nvme::test
