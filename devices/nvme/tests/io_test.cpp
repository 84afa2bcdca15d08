// SPDX-License-Identifier: MIT
// The NVM command set through I/O queues, as the Linux driver submits
// it: PRP1, PRP1+PRP2, PRP lists, SGLs; completions, interrupts and the
// error statuses.
#include <fcntl.h>
#include <unistd.h>

#include <cstring>

#include <gtest/gtest.h>

#include "nvme_driver.hpp"

namespace pciem::nvme::test {
namespace {

constexpr uint64_t page = 4096;

class NvmeIo : public ::testing::Test {
protected:
    explicit NvmeIo(std::vector<NamespaceSpec> ns = {NamespaceSpec(4 << 20)})
        : d(ControllerOptions{.io_queues = 4}, std::move(ns)) {
        EXPECT_EQ(d.start() & csts::rdy, csts::rdy);
        q1 = d.create_io_queue(1, 32, 1);
        q2 = d.create_io_queue(2, 32, 2);
        d.host().take_interrupts();
    }

    // Writes `data` at slba through a single mapped buffer (PRP1/PRP2).
    void write_blocks(uint64_t slba, std::span<const std::byte> data, unsigned shift = 9) {
        auto b = d.map(data.size(), DmaDirection::to_device);
        std::memcpy(b->bytes.data(), data.data(), data.size());
        const uint64_t prp2 = data.size() > page ? b->bus + page : 0;
        ASSERT_LE(data.size(), 2 * page);
        ASSERT_EQ(status_of(d.io(q1, io_op::write, 1, slba,
                                 static_cast<uint32_t>(data.size() >> shift), b->bus, prp2)),
                  status::success);
    }
    std::vector<std::byte> read_blocks(uint64_t slba, size_t bytes, unsigned shift = 9) {
        auto b = d.map(bytes, DmaDirection::from_device);
        const uint64_t prp2 = bytes > page ? b->bus + page : 0;
        EXPECT_LE(bytes, 2 * page);
        EXPECT_EQ(status_of(d.io(q1, io_op::read, 1, slba, static_cast<uint32_t>(bytes >> shift),
                                 b->bus, prp2)),
                  status::success);
        return {b->bytes.begin(), b->bytes.end()};
    }

    Driver d;
    HostQueue q1, q2;
};

TEST_F(NvmeIo, WriteThenReadWithPrp1) {
    const auto data = pattern(512, 1);
    auto src = d.map(512, DmaDirection::to_device);
    std::memcpy(src->bytes.data(), data.data(), 512);
    Cqe w = d.io(q1, io_op::write, 1, 5, 1, src->bus);
    EXPECT_EQ(status_of(w), status::success);
    EXPECT_EQ(w.sqid, 1);
    EXPECT_EQ(w.sqhd, 1);
    auto dst = d.map(512, DmaDirection::from_device);
    Cqe r = d.io(q1, io_op::read, 1, 5, 1, dst->bus);
    EXPECT_EQ(status_of(r), status::success);
    EXPECT_EQ(r.sqhd, 2);
    EXPECT_TRUE(std::equal(data.begin(), data.end(), dst->bytes.begin()));
    EXPECT_EQ(d.host().take_interrupts(),
              (std::vector{SimInterrupt::msix(1), SimInterrupt::msix(1)}));
    EXPECT_TRUE(d.host().dma().faults().empty());
}

TEST_F(NvmeIo, Prp1WithOffsetAndPrp2) {
    const auto data = pattern(4096, 2);
    // 4 KiB starting 512 bytes into a page: PRP2 is the next page.
    auto src = d.map(4096, DmaDirection::to_device, 512);
    std::memcpy(src->bytes.data(), data.data(), 4096);
    const uint64_t next_page = (src->bus & ~(page - 1)) + page;
    ASSERT_EQ(status_of(d.io(q1, io_op::write, 1, 16, 8, src->bus, next_page)), status::success);
    EXPECT_EQ(read_blocks(16, 4096), data);
}

TEST_F(NvmeIo, PrpListInAnyPageOrder) {
    // Five pages of host memory; the PRPs name them 0, 3, 1, 4, 2.
    auto src = d.map(5 * page, DmaDirection::to_device);
    const auto data = pattern(5 * page, 3);
    std::memcpy(src->bytes.data(), data.data(), data.size());
    const uint64_t list = d.alloc_coherent(page);
    const uint64_t entries[] = {src->bus + 3 * page, src->bus + page, src->bus + 4 * page,
                                src->bus + 2 * page};
    std::memcpy(d.coherent(list).data(), entries, sizeof(entries));
    ASSERT_EQ(status_of(d.io(q1, io_op::write, 1, 0, 40, src->bus, list)), status::success);
    // Read back into one contiguous buffer, PRPs in order.
    auto dst = d.map(5 * page, DmaDirection::from_device);
    const uint64_t in_order[] = {dst->bus + page, dst->bus + 2 * page, dst->bus + 3 * page,
                                 dst->bus + 4 * page};
    std::memcpy(d.coherent(list).data(), in_order, sizeof(in_order));
    ASSERT_EQ(status_of(d.io(q1, io_op::read, 1, 0, 40, dst->bus, list)), status::success);
    const size_t order[] = {0, 3, 1, 4, 2};
    for (size_t i = 0; i < 5; ++i) {
        EXPECT_EQ(std::memcmp(dst->bytes.data() + i * page, data.data() + order[i] * page, page), 0)
            << "page " << i;
    }
}

TEST_F(NvmeIo, SglSegmentsWriteAndPrpReadBack) {
    auto a = d.map(1000, DmaDirection::to_device);
    auto b = d.map(24, DmaDirection::to_device);
    auto c = d.map(1024, DmaDirection::to_device);
    const auto data = pattern(2048, 4);
    std::memcpy(a->bytes.data(), data.data(), 1000);
    std::memcpy(b->bytes.data(), data.data() + 1000, 24);
    std::memcpy(c->bytes.data(), data.data() + 1024, 1024);
    struct Desc {
        uint64_t addr;
        uint32_t len;
        uint8_t rsvd[3];
        uint8_t id;
    };
    // SGL1: Segment -> {data a, Last Segment} -> {data b, data c}.
    const uint64_t last = d.alloc_coherent(page);
    const Desc last_descs[] = {{b->bus, 24, {}, 0x00}, {c->bus, 1024, {}, 0x00}};
    std::memcpy(d.coherent(last).data(), last_descs, sizeof(last_descs));
    const uint64_t seg = d.alloc_coherent(page);
    const Desc seg_descs[] = {{a->bus, 1000, {}, 0x00}, {last, 32, {}, 0x30}};
    std::memcpy(d.coherent(seg).data(), seg_descs, sizeof(seg_descs));
    Sqe w = command(io_op::write, 1);
    w.flags = 1u << 6; // PSDT: SGL
    const Desc sgl1{seg, 32, {}, 0x20};
    std::memcpy(&w.dptr1, &sgl1, 16);
    w.cdw10 = 100;
    w.cdw12 = 3; // 4 blocks
    ASSERT_EQ(status_of(d.run(q1, w)), status::success);
    EXPECT_EQ(read_blocks(100, 2048), data);

    // An SGL that describes less than the transfer.
    const Desc short_sgl{a->bus, 1000, {}, 0x00};
    std::memcpy(&w.dptr1, &short_sgl, 16);
    EXPECT_EQ(status_of(d.run(q1, w)), status::sgl_invalid_data_length);
}

TEST_F(NvmeIo, ErrorStatuses) {
    auto buf = d.map(page, DmaDirection::bidirectional);
    const uint64_t blocks = (4 << 20) / 512;
    EXPECT_EQ(status_of(d.io(q1, 0x7e, 1, 0, 1, buf->bus)), status::invalid_opcode);
    EXPECT_EQ(status_of(d.io(q1, io_op::read, 0, 0, 1, buf->bus)), status::invalid_namespace);
    EXPECT_EQ(status_of(d.io(q1, io_op::read, 2, 0, 1, buf->bus)), status::invalid_namespace);
    EXPECT_EQ(status_of(d.io(q1, io_op::write, broadcast_nsid, 0, 1, buf->bus)),
              status::invalid_namespace);
    EXPECT_EQ(status_of(d.io(q1, io_op::read, 1, blocks - 1, 2, buf->bus)),
              status::lba_out_of_range);
    EXPECT_EQ(status_of(d.io(q1, io_op::read, 1, ~uint64_t{0}, 2, buf->bus)),
              status::lba_out_of_range)
        << "SLBA + NLB must not wrap";
    EXPECT_EQ(status_of(d.io(q1, io_op::read, 1, 0, 2049, buf->bus)), status::invalid_field)
        << "beyond MDTS (1 MiB)";
    Sqe c = command(io_op::read, 1);
    c.dptr1 = buf->bus;
    c.flags = 3u << 6; // PSDT 11b: reserved
    EXPECT_EQ(status_of(d.run(q1, c)), status::invalid_field);
    c.flags = 1; // fused
    EXPECT_EQ(status_of(d.run(q1, c)), status::invalid_field);
    EXPECT_EQ(d.host().read32(0, reg::csts) & csts::cfs, 0u);
}

TEST_F(NvmeIo, DmaFaultsAreDataTransferErrorsAndTouchNothing) {
    write_blocks(0, pattern(512, 5));
    // A read whose buffer the driver mapped TO_DEVICE: the device may not write it.
    auto wrong = d.map(512, DmaDirection::to_device);
    std::fill(wrong->bytes.begin(), wrong->bytes.end(), std::byte{0x77});
    Cqe r = d.io(q1, io_op::read, 1, 0, 1, wrong->bus);
    EXPECT_EQ(status_of(r), status::data_transfer_error);
    EXPECT_TRUE(std::all_of(wrong->bytes.begin(), wrong->bytes.end(),
                            [](std::byte b) { return b == std::byte{0x77}; }));
    auto faults = d.host().dma().take_faults();
    ASSERT_EQ(faults.size(), 1u);
    EXPECT_EQ(faults[0].kind, DmaFaultKind::direction);
    // An unmapped (already unmapped) buffer.
    auto gone = d.map(512, DmaDirection::from_device);
    d.host().dma().unmap(gone->bus);
    EXPECT_EQ(status_of(d.io(q1, io_op::read, 1, 0, 1, gone->bus)), status::data_transfer_error);
    EXPECT_EQ(d.host().dma().take_faults().at(0).kind, DmaFaultKind::stale);
    // A write from a buffer too short for the transfer: nothing reaches the medium.
    auto small = d.map(256, DmaDirection::to_device);
    EXPECT_EQ(status_of(d.io(q1, io_op::write, 1, 0, 1, small->bus)), status::data_transfer_error);
    EXPECT_EQ(read_blocks(0, 512), pattern(512, 5));
    EXPECT_EQ(d.host().read32(0, reg::csts) & csts::cfs, 0u) << "data faults are not fatal";
}

TEST_F(NvmeIo, ARefusedReadInABatchFailsAloneAndOneInterruptFollows) {
    // Four reads in one doorbell write, the third into a buffer mapped
    // TO_DEVICE: its data is refused when the batch's data, entries and
    // interrupt go to the host together, so its entry becomes a Data
    // Transfer Error; the others complete with their data, after one
    // interrupt.
    write_blocks(0, pattern(512, 9));
    (void)d.host().take_interrupts(); // the write's, on q1
    std::vector<std::unique_ptr<Driver::Buffer>> bufs;
    std::vector<Sqe> batch;
    for (int i = 0; i < 4; ++i) {
        bufs.push_back(d.map(512, i == 2 ? DmaDirection::to_device : DmaDirection::from_device));
        Sqe c = block_command(io_op::read, 1, 0, 1, bufs.back()->bus);
        c.cid = static_cast<uint16_t>(0x300 + i);
        batch.push_back(c);
    }
    d.submit_batch(q2, batch);
    EXPECT_EQ(d.host().take_interrupts(), (std::vector{SimInterrupt::msix(2)}));
    for (int i = 0; i < 4; ++i) {
        auto c = d.reap(q2, false);
        ASSERT_TRUE(c) << "completion " << i;
        EXPECT_EQ(c->cid, 0x300 + i);
        EXPECT_EQ(status_of(*c), i == 2 ? status::data_transfer_error : status::success);
        const std::vector<std::byte> got(bufs[i]->bytes.begin(), bufs[i]->bytes.end());
        if (i != 2) {
            EXPECT_EQ(got, pattern(512, 9)) << "read " << i;
        } else {
            EXPECT_NE(got, pattern(512, 9)) << "the refused read's buffer was written";
        }
    }
    d.ring_cq(q2);
    auto faults = d.host().dma().take_faults();
    ASSERT_EQ(faults.size(), 1u);
    EXPECT_EQ(faults[0].kind, DmaFaultKind::direction);
    EXPECT_EQ(d.host().read32(0, reg::csts) & csts::cfs, 0u);
    // The error log names the refused read.
    auto log = d.map(64, DmaDirection::from_device);
    Sqe get = command(admin_op::get_log_page, 0xffffffff);
    get.dptr1 = log->bus;
    get.cdw10 = (64u / 4 - 1) << 16 | log_page::error_info;
    ASSERT_EQ(status_of(d.admin(get)), status::success);
    uint16_t sqid = 0, cid = 0, st = 0;
    std::memcpy(&sqid, log->bytes.data() + 8, 2);
    std::memcpy(&cid, log->bytes.data() + 10, 2);
    std::memcpy(&st, log->bytes.data() + 12, 2);
    EXPECT_EQ(sqid, 2u);
    EXPECT_EQ(cid, 0x302u);
    EXPECT_EQ(st >> 1, status::data_transfer_error.field);
}

TEST_F(NvmeIo, UnreachableSubmissionQueueIsFatal) {
    const uint64_t cq = d.alloc_coherent(page);
    ASSERT_EQ(status_of(d.create_cq(3, 16, 3, cq)), status::success);
    ASSERT_EQ(status_of(d.create_sq(3, 16, 3, 0x7700000000)), status::success)
        << "the controller cannot know the address is bad until it fetches";
    d.host().write32(0, d.model().sq_doorbell_offset(3), 1);
    EXPECT_EQ(d.host().read32(0, reg::csts) & csts::cfs, csts::cfs);
}

TEST_F(NvmeIo, EachCqInterruptsOnItsVector) {
    auto buf = d.map(512, DmaDirection::from_device);
    for (int i = 0; i < 3; ++i) {
        ASSERT_EQ(status_of(d.io(q2, io_op::read, 1, 0, 1, buf->bus)), status::success);
    }
    ASSERT_EQ(status_of(d.io(q1, io_op::read, 1, 0, 1, buf->bus)), status::success);
    EXPECT_EQ(d.host().take_interrupts(),
              (std::vector{SimInterrupt::msix(2), SimInterrupt::msix(2), SimInterrupt::msix(2),
                           SimInterrupt::msix(1)}));
    // A batch of commands in one doorbell write: one interrupt.
    std::vector<Sqe> batch;
    for (int i = 0; i < 5; ++i) {
        Sqe c = command(io_op::read, 1);
        c.dptr1 = buf->bus;
        batch.push_back(c);
    }
    d.submit_batch(q2, batch);
    EXPECT_EQ(d.host().take_interrupts(), (std::vector{SimInterrupt::msix(2)}));
    for (int i = 0; i < 5; ++i) {
        ASSERT_TRUE(d.reap(q2, false));
    }
    d.ring_cq(q2);
}

TEST_F(NvmeIo, ABatchOfLargeTransfersSignalsAsItGoes) {
    // Eight 8 KiB reads in one doorbell write: the vector is raised each
    // time 32 KiB have moved (after the 4th and the 8th), not only once
    // the whole batch is done, so the host can reap the first ones early.
    auto buf = d.map(8192, DmaDirection::from_device);
    std::vector<Sqe> batch;
    for (int i = 0; i < 8; ++i) {
        Sqe c = block_command(io_op::read, 1, 0, 16, buf->bus, buf->bus + 4096);
        c.cid = static_cast<uint16_t>(0x200 + i);
        batch.push_back(c);
    }
    d.submit_batch(q2, batch);
    EXPECT_EQ(d.host().take_interrupts(),
              (std::vector{SimInterrupt::msix(2), SimInterrupt::msix(2)}));
    for (int i = 0; i < 8; ++i) {
        auto c = d.reap(q2, false);
        ASSERT_TRUE(c);
        EXPECT_EQ(status_of(*c), status::success);
    }
    d.ring_cq(q2);
}

TEST_F(NvmeIo, CompletionQueueSharedByTwoSubmissionQueues) {
    HostQueue a = d.create_io_queue(3, 16, 3);
    HostQueue b = d.create_io_queue(4, 16, 0, /*cqid=*/3);
    b.cq_bus = a.cq_bus;
    auto buf = d.map(512, DmaDirection::from_device);
    Sqe c = command(io_op::read, 1);
    c.dptr1 = buf->bus;
    d.submit(a, c);
    d.submit(b, c);
    d.submit(a, c);
    // All three land in CQ 3, in order, naming their SQ and its head.
    Cqe got[3];
    for (Cqe& g : got) {
        auto r = d.reap(a, false);
        ASSERT_TRUE(r);
        g = *r;
    }
    d.ring_cq(a);
    EXPECT_EQ(got[0].sqid, 3);
    EXPECT_EQ(got[0].sqhd, 1);
    EXPECT_EQ(got[1].sqid, 4);
    EXPECT_EQ(got[1].sqhd, 1);
    EXPECT_EQ(got[2].sqid, 3);
    EXPECT_EQ(got[2].sqhd, 2);
    Sqe del = command(admin_op::delete_io_cq);
    del.cdw10 = 3;
    EXPECT_EQ(status_of(d.admin(del)), status::invalid_queue_deletion);
}

TEST_F(NvmeIo, FullCompletionQueueHoldsSubmissionsBack) {
    const uint64_t cq = d.alloc_coherent(page);
    const uint64_t sq = d.alloc_coherent(page);
    ASSERT_EQ(status_of(d.create_cq(3, 2, 3, cq)), status::success); // one usable slot
    ASSERT_EQ(status_of(d.create_sq(3, 8, 3, sq)), status::success);
    HostQueue q{.qid = 3,
                .cqid = 3,
                .sq_bus = sq,
                .cq_bus = cq,
                .sq_entries = 8,
                .cq_entries = 2,
                .sq_tail = 0,
                .cq_head = 0,
                .phase = true};
    auto buf = d.map(512, DmaDirection::from_device);
    for (int i = 0; i < 3; ++i) {
        Sqe c = command(io_op::read, 1);
        c.dptr1 = buf->bus;
        c.cid = static_cast<uint16_t>(10 + i);
        std::memcpy(d.coherent(sq).data() + i * sizeof(Sqe), &c, sizeof(c));
    }
    q.sq_tail = 3;
    d.host().write32(0, d.model().sq_doorbell_offset(3), 3);
    for (int i = 0; i < 3; ++i) {
        auto r = d.reap(q, false);
        ASSERT_TRUE(r) << i;
        EXPECT_EQ(r->cid, 10 + i);
        EXPECT_EQ(r->sqhd, i + 1) << "the command after it was not fetched yet";
        EXPECT_FALSE(d.reap(q, false)) << "CQ full: nothing more until the head doorbell";
        d.ring_cq(q);
    }
}

TEST_F(NvmeIo, IoQueuePhaseAndHeadAcrossWraps) {
    auto buf = d.map(512, DmaDirection::from_device);
    for (unsigned i = 0; i < 100; ++i) {
        Cqe r = d.io(q1, io_op::read, 1, i, 1, buf->bus);
        ASSERT_EQ(status_of(r), status::success);
        EXPECT_EQ(r.sqhd, (i + 1) % 32);
        EXPECT_EQ(r.status & 1, (i / 32) % 2 == 0 ? 1 : 0);
    }
}

TEST_F(NvmeIo, CompareMatchesAndMismatches) {
    const auto data = pattern(1024, 6);
    write_blocks(7, data);
    auto same = d.map(1024, DmaDirection::to_device);
    std::memcpy(same->bytes.data(), data.data(), 1024);
    EXPECT_EQ(status_of(d.io(q1, io_op::compare, 1, 7, 2, same->bus)), status::success);
    same->bytes[1000] ^= std::byte{1};
    Cqe r = d.io(q1, io_op::compare, 1, 7, 2, same->bus);
    EXPECT_EQ(status_of(r), status::compare_failure);
    EXPECT_EQ(status_of(r).sct(), sct::media);
}

TEST_F(NvmeIo, FlushAndForceUnitAccess) {
    EXPECT_EQ(status_of(d.run(q1, command(io_op::flush, 1))), status::success);
    EXPECT_EQ(status_of(d.run(q1, command(io_op::flush, broadcast_nsid))), status::success);
    EXPECT_EQ(status_of(d.run(q1, command(io_op::flush, 2))), status::invalid_namespace);
    auto src = d.map(512, DmaDirection::to_device);
    Sqe w = command(io_op::write, 1);
    w.dptr1 = src->bus;
    w.cdw12 = 1u << 30; // FUA
    EXPECT_EQ(status_of(d.run(q1, w)), status::success);
}

class NvmeFileIo : public NvmeIo {
protected:
    static std::string temp_path() {
        char path[] = "/tmp/pciem-nvme-test-XXXXXX";
        const int fd = ::mkstemp(path);
        ::close(fd);
        return path;
    }
    NvmeFileIo() : NvmeIo({NamespaceSpec(1 << 20, 9, temp_path())}) {}
};

TEST_F(NvmeFileIo, DeallocateAndWriteZeroesReadZeros) {
    const auto data = pattern(8192, 7);
    write_blocks(0, data);
    ASSERT_EQ(read_blocks(0, 8192), data);
    // DSM: deallocate LBAs 0..7 (a 4 KiB hole) and 12..13; one empty range.
    struct Range {
        uint32_t attributes, nlb;
        uint64_t slba;
    };
    auto list = d.map(3 * sizeof(Range), DmaDirection::to_device);
    const Range ranges[] = {{0, 8, 0}, {0, 0, 9}, {0, 2, 12}};
    std::memcpy(list->bytes.data(), ranges, sizeof(ranges));
    Sqe dsm = command(io_op::dataset_management, 1);
    dsm.dptr1 = list->bus;
    dsm.cdw10 = 2;       // three ranges
    dsm.cdw11 = 1u << 2; // AD
    ASSERT_EQ(status_of(d.run(q1, dsm)), status::success);
    auto back = read_blocks(0, 8192);
    auto expect = data;
    std::fill_n(expect.begin(), 4096, std::byte{0});
    std::fill_n(expect.begin() + 12 * 512, 1024, std::byte{0});
    EXPECT_EQ(back, expect);
    // Write Zeroes on LBA 8.
    Sqe wz = command(io_op::write_zeroes, 1);
    wz.cdw10 = 8;
    wz.cdw12 = 0;
    ASSERT_EQ(status_of(d.run(q1, wz)), status::success);
    std::fill_n(expect.begin() + 8 * 512, 512, std::byte{0});
    EXPECT_EQ(read_blocks(0, 8192), expect);
    // A range past the end: nothing is deallocated.
    const Range bad[] = {{0, 2, 14}, {0, 1, 1u << 20}};
    std::memcpy(list->bytes.data(), bad, sizeof(bad));
    dsm.cdw10 = 1;
    EXPECT_EQ(status_of(d.run(q1, dsm)), status::lba_out_of_range);
    EXPECT_EQ(read_blocks(0, 8192), expect);
    wz.cdw10 = (1 << 20) / 512;
    EXPECT_EQ(status_of(d.run(q1, wz)), status::lba_out_of_range);
}

class NvmeBigBlocks : public NvmeIo {
protected:
    NvmeBigBlocks() : NvmeIo({NamespaceSpec(1 << 20, 12)}) {}
};

TEST_F(NvmeBigBlocks, FourKiBlocks) {
    const auto data = pattern(8192, 8);
    write_blocks(3, data, 12);
    EXPECT_EQ(read_blocks(3, 8192, 12), data);
    auto buf = d.map(page, DmaDirection::from_device);
    EXPECT_EQ(status_of(d.io(q1, io_op::read, 1, 255, 2, buf->bus)), status::lba_out_of_range);
}

} // namespace
// ---- Format NVM ---------------------------------------------------------------

Sqe format_cmd(uint32_t nsid, uint32_t lbaf, uint32_t ses = 0, uint32_t pi = 0) {
    Sqe c = command(admin_op::format_nvm, nsid);
    c.cdw10 = lbaf | pi << 5 | ses << 9;
    return c;
}

TEST_F(NvmeIo, FormatSwitchesTheLbaFormatAndErasesTheData) {
    write_blocks(8, pattern(1024, 5));
    for (uint32_t ses : {0u, 1u}) {
        ASSERT_EQ(status_of(d.admin(format_cmd(1, 1, ses))), status::success) << ses;
        // 4096-byte blocks now: LBA 1 is bytes 4096..8191, erased.
        EXPECT_EQ(read_blocks(1, 4096, 12), std::vector<std::byte>(4096)) << ses;
        auto id = d.map(4096, DmaDirection::from_device);
        Sqe c = command(admin_op::identify, 1);
        c.dptr1 = id->bus;
        ASSERT_EQ(status_of(d.admin(c)), status::success);
        uint64_t nsze;
        std::memcpy(&nsze, id->bytes.data(), 8);
        EXPECT_EQ(nsze, (4u << 20) / 4096) << "NSZE in 4 KiB blocks";
        EXPECT_EQ(static_cast<uint8_t>(id->bytes[26]) & 0xf, 1) << "FLBAS names format 1";
        write_blocks(2, pattern(4096, 6), 12);
        EXPECT_EQ(read_blocks(2, 4096, 12), pattern(4096, 6));
        // And back to 512-byte blocks, erased again.
        ASSERT_EQ(status_of(d.admin(format_cmd(broadcast_nsid, 0, ses))), status::success);
        EXPECT_EQ(read_blocks(16, 1024), std::vector<std::byte>(1024));
    }
}

TEST_F(NvmeIo, FormatRefusesWhatItCannotDo) {
    write_blocks(3, pattern(512, 7));
    EXPECT_EQ(status_of(d.admin(format_cmd(1, 2))), status::invalid_format) << "no LBA format 2";
    EXPECT_EQ(status_of(d.admin(format_cmd(1, 0, 0, 1))), status::invalid_format)
        << "protection information without metadata";
    EXPECT_EQ(status_of(d.admin(format_cmd(1, 0, 2))), status::invalid_field)
        << "cryptographic erase is not offered";
    EXPECT_EQ(status_of(d.admin(format_cmd(9, 0))), status::invalid_namespace);
    EXPECT_EQ(read_blocks(3, 512), pattern(512, 7)) << "a refused format erased nothing";
}

} // namespace pciem::nvme::test
