// SPDX-License-Identifier: MIT
// Doorbell Buffer Config: the driver keeps SQ tails and CQ heads in a
// shadow buffer and writes a doorbell register only when the EventIdx
// asks for it, as Linux's nvme_dbbuf_update_and_check_event() does.
// Event mode (the controller sleeps until a doorbell) and polled mode
// (a busy-polling host calls on_poll()), with interrupt coalescing, and
// the turns between them of a host that polls until idle, then sleeps.
#include <cstring>

#include <gtest/gtest.h>

#include "nvme_driver.hpp"

namespace pciem::nvme::test {
namespace {

uint16_t oacs(Driver& d) {
    auto id = d.map(4096, DmaDirection::from_device);
    Sqe c = command(admin_op::identify);
    c.dptr1 = id->bus;
    c.cdw10 = cns::ctrl;
    EXPECT_EQ(status_of(d.admin(c)), status::success);
    uint16_t v = 0;
    std::memcpy(&v, id->bytes.data() + 256, 2);
    return v;
}

// A started controller with I/O queue pair 1 (vector 1) of `entries`
// and Doorbell Buffer Config on.
HostQueue shadowed_queue(Driver& d, uint32_t entries) {
    d.start();
    HostQueue q = d.create_io_queue(1, entries, 1);
    EXPECT_EQ(d.enable_shadow_doorbells(), status::success);
    return q;
}

// A flush: completes with no data.
Sqe flush_cmd() {
    return command(io_op::flush, 1);
}

TEST(NvmeShadowDoorbells, OfferedByDefaultAndOptional) {
    Driver on;
    on.start();
    EXPECT_EQ(oacs(on), 1u << 8 | 1u << 1) << "Doorbell Buffer Config and Format NVM";
    Driver off(ControllerOptions{.shadow_doorbells = false});
    off.start();
    EXPECT_EQ(oacs(off), 1u << 1) << "Format NVM only";
    EXPECT_EQ(off.enable_shadow_doorbells(), status::invalid_opcode);
}

TEST(NvmeShadowDoorbells, BuffersMustBePageAligned) {
    Driver d;
    d.start();
    const uint64_t page = d.alloc_coherent(8192);
    for (auto [db, ei] : {std::pair{page + 8, page + 4096}, std::pair{page, page + 4096 + 4},
                          std::pair{page, uint64_t{0}}, std::pair{uint64_t{0}, page}}) {
        Sqe c = command(admin_op::doorbell_buffer_config);
        c.dptr1 = db;
        c.dptr2 = ei;
        EXPECT_EQ(status_of(d.admin(c)), status::invalid_field) << db << " " << ei;
    }
    EXPECT_EQ(d.enable_shadow_doorbells(), status::success);
}

TEST(NvmeShadowDoorbells, EventModeAsksForEverySubmissionButNoCqHead) {
    Driver d;
    HostQueue q = shadowed_queue(d, 16);
    d.host().take_interrupts();
    for (int i = 0; i < 20; ++i) { // more than a lap of the 16-entry queues
        const Cqe c = d.run(q, flush_cmd());
        EXPECT_EQ(status_of(c), status::success);
        EXPECT_EQ(d.event_index(1, false), q.sq_tail) << "EventIdx follows the tail";
    }
    // Each submission rang (the controller sleeps between them); CQ head
    // updates went to the shadow only, except the two that passed the
    // CQ EventIdx it never moved from 0 (0 -> 1, then again a lap later).
    EXPECT_EQ(d.io_doorbell_writes(), 20u + 2u);
    EXPECT_EQ(d.shadow(1, true), q.cq_head);
    EXPECT_EQ(d.host().take_interrupts().size(), 20u);
}

TEST(NvmeShadowDoorbells, TheShadowIsTheTailNotTheRegister) {
    Driver d;
    HostQueue q = shadowed_queue(d, 16);
    // Two entries announced in the shadow; the register write that
    // follows carries an older value, as a write posted before the
    // second shadow update would.
    Sqe a = flush_cmd();
    a.cid = 0x101;
    Sqe b = flush_cmd();
    b.cid = 0x102;
    std::memcpy(d.coherent(q.sq_bus).data(), &a, sizeof a);
    std::memcpy(d.coherent(q.sq_bus).data() + sizeof(Sqe), &b, sizeof b);
    d.shadow(1, false) = 2;
    d.host().write32(0, d.model().sq_doorbell_offset(1), 1);
    q.sq_tail = 2;
    auto c1 = d.reap(q);
    auto c2 = d.reap(q);
    ASSERT_TRUE(c1 && c2);
    EXPECT_EQ(c1->cid, 0x101);
    EXPECT_EQ(c2->cid, 0x102);
    EXPECT_FALSE(d.reap(q)) << "nothing beyond the shadow tail";
    // A stale register value later does not rewind the tail.
    d.host().write32(0, d.model().sq_doorbell_offset(1), 1);
    EXPECT_FALSE(d.reap(q));
    EXPECT_TRUE(d.host().dma().faults().empty());
}

TEST(NvmeShadowDoorbells, FullCqAsksForTheHeadAndResumes) {
    Driver d;
    HostQueue q = shadowed_queue(d, 4); // 3 completions fit
    for (int i = 0; i < 4; ++i) {
        d.submit(q, flush_cmd());
    }
    std::vector<Cqe> got;
    while (auto c = d.reap(q, /*ring=*/false)) {
        got.push_back(*c);
    }
    ASSERT_EQ(got.size(), 3u) << "the fourth waits for room";
    // The controller asked to hear about the head (CQ EventIdx = the
    // head it saw), so publishing it rings the register, and the fourth
    // completes.
    EXPECT_EQ(d.event_index(1, true), 0u);
    const unsigned rung = d.io_doorbell_writes();
    d.ring_cq(q);
    EXPECT_EQ(d.io_doorbell_writes(), rung + 1);
    auto last = d.reap(q);
    ASSERT_TRUE(last);
    EXPECT_EQ(status_of(*last), status::success);
}

TEST(NvmeShadowDoorbells, PolledNeedsNoDoorbellAndCoalesces) {
    Driver d;
    d.start();
    HostQueue q = d.create_io_queue(1, 64, 1);
    EXPECT_FALSE(d.host().poll()) << "nothing configured yet";
    ASSERT_EQ(d.enable_shadow_doorbells(), status::success);
    d.host().take_interrupts();
    const unsigned rung = d.io_doorbell_writes();

    d.submit(q, flush_cmd()); // tail 0 -> 1 passes EventIdx 0: the one ring of this lap
    EXPECT_EQ(d.host().take_interrupts().size(), 1u);
    auto c = d.reap(q, /*ring=*/false);
    ASSERT_TRUE(c);

    // Shadow-only submissions are found by polling.
    d.submit(q, flush_cmd());
    EXPECT_FALSE(d.reap(q, false)) << "not processed before a poll";
    EXPECT_TRUE(d.host().poll());
    ASSERT_TRUE(d.reap(q, false));
    // The handler of the first interrupt has not published a head yet:
    // no second interrupt until it does.
    EXPECT_TRUE(d.host().take_interrupts().empty());
    d.submit(q, flush_cmd());
    d.host().poll();
    EXPECT_TRUE(d.host().take_interrupts().empty());
    // The host publishes the head of the first interrupt's entry only:
    // entries remain, so the vector is raised for them.
    d.shadow(1, true) = 1;
    d.host().poll();
    EXPECT_EQ(d.host().take_interrupts(), (std::vector{SimInterrupt::msix(1)}));
    // It consumes everything: nothing is raised for entries it took.
    ASSERT_TRUE(d.reap(q, false));
    d.submit(q, flush_cmd());
    d.host().poll();
    ASSERT_TRUE(d.reap(q, false));
    d.ring_cq(q); // head == tail
    d.host().poll();
    d.submit(q, flush_cmd());
    d.host().poll();
    EXPECT_EQ(d.host().take_interrupts(), (std::vector{SimInterrupt::msix(1)}))
        << "a new completion after the host caught up raises at once";
    EXPECT_EQ(d.io_doorbell_writes(), rung + 1) << "only the first submission rang";
}

// A host that polls until idle: polled while it polls, and on_idle()
// before it sleeps leaves nothing behind that only a poll would find.
TEST(NvmeShadowDoorbells, IdleReturnsToEventMode) {
    Driver d;
    HostQueue q = shadowed_queue(d, 64);
    EXPECT_FALSE(d.host().idle()) << "never polled: nothing to do";
    d.host().take_interrupts();

    // A polling spell: one interrupt raised, a second completion held
    // back behind it (its handler has not published a head).
    EXPECT_FALSE(d.host().poll());
    const unsigned rung = d.io_doorbell_writes();
    d.submit(q, flush_cmd()); // tail 0 -> 1 passes EventIdx 0: rings once
    d.submit(q, flush_cmd());
    d.host().poll();
    EXPECT_EQ(d.host().take_interrupts().size(), 1u);
    ASSERT_TRUE(d.reap(q, false));
    ASSERT_TRUE(d.reap(q, false));
    d.submit(q, flush_cmd());
    d.host().poll();
    EXPECT_TRUE(d.host().take_interrupts().empty()) << "coalesced while polled";
    EXPECT_EQ(d.io_doorbell_writes(), rung + 1);

    // Going to sleep: the held-back interrupt goes out, and the SQ's
    // EventIdx is the tail again, so the next submission rings.
    EXPECT_FALSE(d.host().idle());
    EXPECT_EQ(d.host().take_interrupts(), (std::vector{SimInterrupt::msix(1)}));
    EXPECT_EQ(d.event_index(1, false), q.sq_tail);
    ASSERT_TRUE(d.reap(q, false));
    d.ring_cq(q);
    const unsigned before = d.io_doorbell_writes();
    d.submit(q, flush_cmd());
    EXPECT_EQ(d.io_doorbell_writes(), before + 1) << "asleep: the submission rang";
    auto c = d.reap(q, false);
    ASSERT_TRUE(c) << "processed on the doorbell, with no poll";
    EXPECT_EQ(status_of(*c), status::success);
    EXPECT_EQ(d.host().take_interrupts().size(), 1u) << "event mode: raised at once";
}

// Work that arrives between the last poll and on_idle() is processed
// there, and on_idle() says so: the host polls on.
TEST(NvmeShadowDoorbells, IdleFindsLateWork) {
    Driver d;
    HostQueue q = shadowed_queue(d, 64);
    d.host().poll();
    d.submit(q, flush_cmd()); // rings (EventIdx 0), processed at once
    ASSERT_TRUE(d.reap(q));
    // Shadow only: the EventIdx is behind, no doorbell.
    d.submit(q, flush_cmd());
    d.submit(q, flush_cmd());
    EXPECT_TRUE(d.host().idle());
    ASSERT_TRUE(d.reap(q));
    ASSERT_TRUE(d.reap(q));
    EXPECT_EQ(d.event_index(1, false), q.sq_tail);
    EXPECT_FALSE(d.host().idle()) << "back in event mode, nothing new";
}

// A CQ that filled while polled asks for its head doorbell when the
// host goes to sleep, and resumes on it.
TEST(NvmeShadowDoorbells, IdleWithAFullCqAsksForItsHead) {
    Driver d;
    HostQueue q = shadowed_queue(d, 4); // 3 completions fit
    d.host().poll();
    for (int i = 0; i < 4; ++i) {
        d.submit(q, flush_cmd());
    }
    d.host().poll();
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(d.reap(q, /*ring=*/false));
    }
    EXPECT_FALSE(d.reap(q, false)) << "the fourth waits for room";
    d.host().idle();
    EXPECT_EQ(d.event_index(1, true), 0u) << "asks to hear about the head";
    const unsigned rung = d.io_doorbell_writes();
    d.ring_cq(q);
    EXPECT_EQ(d.io_doorbell_writes(), rung + 1);
    ASSERT_TRUE(d.reap(q, false)) << "resumed by the head doorbell";
}

} // namespace
} // namespace pciem::nvme::test

namespace pciem::nvme::test {
namespace {

TEST(NvmeShadowDoorbells, PinInterruptDropsWhenTheShadowHeadCatchesUp) {
    Driver d;
    d.enable_pci(/*msix=*/false); // INTA: the level follows unconsumed entries
    d.enable_controller();
    HostQueue q = d.create_io_queue(1, 16, 0);
    ASSERT_EQ(d.enable_shadow_doorbells(), status::success);
    d.ring_cq(d.admin_queue());
    EXPECT_FALSE(d.host().intx_asserted());
    d.submit(q, command(io_op::flush, 1));
    EXPECT_TRUE(d.host().intx_asserted());
    // The controller asked for the CQ head (EventIdx = the head it saw),
    // so publishing it in the shadow also rings, and the line drops.
    EXPECT_EQ(d.event_index(1, true), 0u);
    ASSERT_TRUE(d.reap(q));
    EXPECT_FALSE(d.host().intx_asserted());
    for (int i = 0; i < 20; ++i) { // and so on, across a wrap
        d.submit(q, command(io_op::flush, 1));
        EXPECT_TRUE(d.host().intx_asserted());
        ASSERT_TRUE(d.reap(q));
        EXPECT_FALSE(d.host().intx_asserted()) << i;
    }
}

} // namespace
} // namespace pciem::nvme::test
