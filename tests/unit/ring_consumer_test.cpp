// SPDX-License-Identifier: MIT
// The KernelHost's ring protocol without a kernel: an in-memory ring
// played by the test as pciem.ko would fill it.
#include <cstring>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pciem/dispatch.hpp"
#include "ring_consumer.hpp"
#include "testdev.hpp"

#include <testdev_regs.h>

namespace {

using ::testing::HasSubstr;

// A ring laid out as the kernel lays it out: header page, then slots.
class FakeRing {
public:
    explicit FakeRing(uint32_t entries) : mem_((4096 + entries * sizeof(pciem_req)) / 8) {
        header().magic = PCIEM_RING_MAGIC;
        header().version = PCIEM_RING_VERSION;
        header().entries = entries;
        header().entry_size = sizeof(pciem_req);
        header().slots_offset = 4096;
    }
    void* base() { return mem_.data(); }
    size_t len() const { return mem_.size() * 8; }
    pciem_ring_header& header() { return *reinterpret_cast<pciem_ring_header*>(mem_.data()); }
    pciem_req& slot(uint32_t i) {
        auto* slots = reinterpret_cast<pciem_req*>(reinterpret_cast<uint8_t*>(mem_.data()) + 4096);
        return slots[i & (header().entries - 1)];
    }
    pciem::RingView view() { return *pciem::check_ring(base(), len()); }

    // What ring_post() does: fill the slot, then publish prod.
    uint32_t post(uint16_t type, uint64_t offset, unsigned size, uint64_t data = 0) {
        pciem_req& r = slot(header().prod);
        r = pciem_req{};
        r.seq = ++seq_;
        r.type = type;
        r.bar = 0;
        r.size = static_cast<uint8_t>(size);
        r.offset = offset;
        r.data = data;
        ++header().prod;
        return header().prod - 1;
    }

private:
    std::vector<uint64_t> mem_; // uint64_t: the header and slots are 8-byte aligned
    uint32_t seq_ = 0;
};

TEST(RingCheck, AcceptsTheKernelLayout) {
    FakeRing ring(16);
    auto v = pciem::check_ring(ring.base(), ring.len());
    ASSERT_TRUE(v) << v.error().message;
    EXPECT_EQ(v->entries, 16u);
    EXPECT_EQ(pciem::ring_map_length(ring.header()), ring.len());
}

TEST(RingCheck, RefusesWrongMagicVersionAndSize) {
    FakeRing ring(16);
    ring.header().magic = 0;
    EXPECT_THAT(pciem::check_ring(ring.base(), ring.len()).error().message, HasSubstr("magic"));
    ring.header().magic = PCIEM_RING_MAGIC;
    ring.header().entry_size = 64;
    EXPECT_THAT(pciem::check_ring(ring.base(), ring.len()).error().message,
                HasSubstr("64-byte slots"));
    ring.header().entry_size = sizeof(pciem_req);
    ring.header().entries = 12;
    EXPECT_FALSE(pciem::check_ring(ring.base(), ring.len()));
    ring.header().entries = 16;
    EXPECT_THAT(pciem::check_ring(ring.base(), 4096).error().message, HasSubstr("are mapped"));
}

TEST(RingConsumer, HandlesSlotsInOrderAndPublishesAnswers) {
    FakeRing ring(8);
    std::vector<uint32_t> order;
    std::vector<uint32_t> cons_seen;
    pciem::RingConsumer c(
        ring.view(),
        [&](const pciem_req& r) -> std::optional<uint64_t> {
            order.push_back(r.seq);
            cons_seen.push_back(ring.header().cons);
            return r.offset + 0x100;
        },
        [] {});
    const uint32_t w = ring.post(PCIEM_REQ_MMIO_WRITE, 0x10, 4, 7);
    const uint32_t r = ring.post(PCIEM_REQ_MMIO_READ, 0x20, 4);
    EXPECT_TRUE(c.pending());
    EXPECT_EQ(c.drain(), 2u);
    EXPECT_FALSE(c.pending());
    EXPECT_EQ(order, (std::vector<uint32_t>{1, 2}));
    // cons moves after each slot, not only after the batch.
    EXPECT_EQ(cons_seen, (std::vector<uint32_t>{0, 1}));
    EXPECT_EQ(ring.header().cons, 2u);
    EXPECT_EQ(ring.slot(w).done, 0u); // writes are posted: no answer
    EXPECT_EQ(ring.slot(r).done, ring.slot(r).seq);
    EXPECT_EQ(ring.slot(r).data, 0x120u);
    EXPECT_EQ(c.drain(), 0u);
}

TEST(RingConsumer, WrapsAroundTheRing) {
    FakeRing ring(4);
    ring.header().prod = ring.header().cons = 0xfffffffe; // free-running indices wrap
    pciem::RingConsumer c(
        ring.view(), [](const pciem_req& r) { return r.offset; }, [] {});
    for (uint64_t i = 0; i < 4; ++i) {
        ring.post(PCIEM_REQ_MMIO_READ, i, 4);
    }
    EXPECT_EQ(c.drain(), 4u);
    EXPECT_EQ(ring.header().cons, 2u);
    for (uint32_t i = 0; i < 4; ++i) {
        EXPECT_EQ(ring.slot(0xfffffffe + i).data, i);
        EXPECT_EQ(ring.slot(i).done, ring.slot(i).seq);
    }
}

TEST(RingConsumer, WakesOnlyWhenTheKernelWaits) {
    FakeRing ring(8);
    int wakes = 0;
    pciem::RingConsumer c(
        ring.view(), [](const pciem_req&) { return uint64_t{1}; }, [&] { ++wakes; });
    ring.post(PCIEM_REQ_MMIO_READ, 0, 4);
    c.drain();
    EXPECT_EQ(wakes, 0);
    ring.header().kernel_waiting = 1;
    ring.post(PCIEM_REQ_MMIO_READ, 0, 4);
    ring.post(PCIEM_REQ_MMIO_READ, 4, 4);
    c.drain();
    EXPECT_EQ(wakes, 2); // once per answered read: a sleeper never waits for later slots
    ring.post(PCIEM_REQ_MMIO_WRITE, 0, 4);
    c.drain();
    EXPECT_EQ(wakes, 2); // writes answer nothing, so they wake nobody
}

TEST(RingConsumer, UnansweredReadStillAdvancesCons) {
    FakeRing ring(8);
    int wakes = 0;
    ring.header().kernel_waiting = 1;
    pciem::RingConsumer c(
        ring.view(), [](const pciem_req&) { return std::optional<uint64_t>{}; }, [&] { ++wakes; });
    const uint32_t r = ring.post(PCIEM_REQ_MMIO_READ, 0, 4);
    c.drain();
    // No done: the kernel times the read out (all-ones); the slot is
    // consumed so the ring does not stall behind it.
    EXPECT_EQ(ring.slot(r).done, 0u);
    EXPECT_EQ(ring.header().cons, 1u);
    EXPECT_EQ(wakes, 0);
}

TEST(RingConsumer, PollingFlag) {
    FakeRing ring(8);
    pciem::RingConsumer c(
        ring.view(), [](const pciem_req&) { return std::nullopt; }, [] {});
    c.set_polling(true);
    EXPECT_EQ(ring.header().model_flags, uint32_t{PCIEM_MODEL_F_POLLING});
    c.set_polling(false);
    EXPECT_EQ(ring.header().model_flags, 0u);
}

// The whole path the KernelHost runs: ring slots → dispatch → testdev.
TEST(RingConsumer, DrivesTheTestDeviceInDriverOrder) {
    FakeRing ring(8);
    pciem::devices::TestDev model;
    ASSERT_TRUE(model.realize());
    pciem::RingConsumer c(
        ring.view(), [&](const pciem_req& r) { return pciem::dispatch_request(model, r); }, [] {});
    ring.post(PCIEM_REQ_MMIO_WRITE, TESTDEV_FIFO, 4, 1);
    ring.post(PCIEM_REQ_MMIO_WRITE, TESTDEV_FIFO, 4, 2);
    const uint32_t a = ring.post(PCIEM_REQ_MMIO_READ, TESTDEV_FIFO, 4);
    const uint32_t n = ring.post(PCIEM_REQ_MMIO_READ, TESTDEV_WRITE_COUNT, 4);
    const uint32_t h = ring.post(PCIEM_REQ_MMIO_READ, TESTDEV_HANG, 4);
    const uint32_t k = ring.post(PCIEM_REQ_MMIO_READ, TESTDEV_COUNTER, 2);
    EXPECT_EQ(c.drain(), 6u);
    EXPECT_EQ(ring.slot(a).data, 1u);
    EXPECT_EQ(ring.slot(n).data, 2u); // the read saw both earlier writes
    EXPECT_EQ(ring.slot(h).done, 0u);
    EXPECT_EQ(ring.slot(k).done, ring.slot(k).seq);
    EXPECT_EQ(ring.slot(k).data, 0u);
}

// A model that notes, in order, what the header events told it.
class HeaderEvents : public pciem::DeviceModel {
public:
    [[nodiscard]] pciem::DeviceSpec spec() const override { return pciem::DeviceSpec{}.ids(1, 2); }
    void on_command(uint16_t value) override { seen.push_back("command " + std::to_string(value)); }
    void on_reset() override { seen.push_back("reset"); }
    std::vector<std::string> seen;
};

// The PCI core's FLR: Command cleared, the reset, Command restored; the
// model hears all three in the order the driver made them.
TEST(RingConsumer, DeliversAResetInOrderWithTheHeaderEvents) {
    FakeRing ring(8);
    HeaderEvents model;
    pciem::RingConsumer c(
        ring.view(), [&](const pciem_req& r) { return pciem::dispatch_request(model, r); }, [] {});
    ring.post(PCIEM_REQ_COMMAND, 4, 2, 0x400);
    ring.post(PCIEM_REQ_RESET, 0, 0);
    ring.post(PCIEM_REQ_COMMAND, 4, 2, 0x6);
    EXPECT_EQ(c.drain(), 3u);
    EXPECT_THAT(model.seen, ::testing::ElementsAre("command 1024", "reset", "command 6"));
}

} // namespace
