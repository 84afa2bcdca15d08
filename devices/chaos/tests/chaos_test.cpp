// SPDX-License-Identifier: MIT
//
// The chaos layer on the SimHost, around the test device: it is the
// wrapped device when told to do nothing, misbehaves when told to, the
// same way for the same seed, and its mischief thread storms, DMAs and
// dies as asked.
#include <csignal>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "chaos_model.hpp"
#include "pciem/sim_host.hpp"
#include "testdev.hpp"

namespace pciem::devices {
namespace {

ChaosOptions calm(uint64_t seed = 1) {
    ChaosOptions o;
    o.seed = seed;
    o.wrong_read = o.late_read = o.never_read = 0;
    o.drop_write = o.corrupt_write = 0;
    o.drop_irq = o.duplicate_irq = 0;
    o.dma_fail = o.dma_corrupt = 0;
    o.mischief = false;
    return o;
}

struct Rig {
    explicit Rig(const ChaosOptions& o) {
        auto m = ChaosModel::create(dev, o);
        EXPECT_TRUE(m.has_value());
        model = std::move(*m);
        auto h = SimHost::create(*model);
        EXPECT_TRUE(h.has_value());
        host = std::move(*h);
    }
    TestDev dev;
    std::unique_ptr<ChaosModel> model;
    std::unique_ptr<SimHost> host;
};

std::vector<uint32_t> ids(const ChaosOptions& o, int n) {
    Rig r(o);
    std::vector<uint32_t> v;
    for (int i = 0; i < n; ++i) {
        v.push_back(r.host->read32(0, TESTDEV_ID));
    }
    return v;
}

TEST(Chaos, CalmIsTheWrappedDevice) {
    Rig r(calm());
    EXPECT_EQ(r.host->cfg_read(0, 2), r.dev.spec().vendor_id());
    EXPECT_EQ(r.host->read32(0, TESTDEV_ID), TESTDEV_ID_VALUE);
    const uint32_t c = r.host->read32(0, TESTDEV_COUNTER);
    EXPECT_EQ(r.host->read32(0, TESTDEV_COUNTER), c + 1) << "read side effects reach the model";
    r.host->write32(0, TESTDEV_SCRATCH, 0xfeedbeef);
    EXPECT_EQ(r.host->read32(0, TESTDEV_SCRATCH), 0xfeedbeefu);
    EXPECT_EQ(r.model->stats().reads.load(), 4u);
}

TEST(Chaos, WrongReadsAreWrong) {
    ChaosOptions o = calm();
    o.wrong_read = 1;
    for (uint32_t id : ids(o, 100)) {
        EXPECT_NE(id, TESTDEV_ID_VALUE);
    }
}

TEST(Chaos, HonestRegionsAreReadRightAndOnTime) {
    ChaosOptions o = calm();
    o.wrong_read = 1;
    o.never_read = 1;
    o.read_timeout_us = 1; // a "never" read then sleeps 1-20 ms
    o.honest = {FaultRegion{.bar = 0, .offset = TESTDEV_ID, .len = 4}};
    Rig r(o);
    for (int i = 0; i < 100; ++i) {
        EXPECT_EQ(r.host->read32(0, TESTDEV_ID), TESTDEV_ID_VALUE);
        // Partly inside is inside: a 64-bit read over CAP's two halves.
        EXPECT_EQ(r.host->read64(0, TESTDEV_ID) & 0xffffffffu, TESTDEV_ID_VALUE);
    }
    EXPECT_EQ(r.model->stats().wrong_reads.load(), 0u);
    EXPECT_EQ(r.model->stats().never_reads.load(), 0u);
    // The register next to it is as hostile as ever.
    int wrong = 0;
    for (int i = 0; i < 10; ++i) {
        wrong += r.host->read32(0, TESTDEV_SCRATCH) != r.host->read32(0, TESTDEV_SCRATCH) ? 1 : 0;
    }
    EXPECT_EQ(r.model->stats().wrong_reads.load(), 20u);
    EXPECT_EQ(r.model->stats().never_reads.load(), 20u);
    EXPECT_GT(wrong, 0);
}

TEST(Chaos, ASeedIsOneSequenceOfDecisions) {
    ChaosOptions o = calm(42);
    o.wrong_read = 0.5;
    const auto a = ids(o, 200);
    EXPECT_EQ(ids(o, 200), a);
    int wrong = 0;
    for (uint32_t id : a) {
        wrong += id != TESTDEV_ID_VALUE ? 1 : 0;
    }
    EXPECT_GT(wrong, 50);
    EXPECT_LT(wrong, 150);
    o.seed = 43;
    EXPECT_NE(ids(o, 200), a);
}

TEST(Chaos, DroppedWritesNeverArrive) {
    ChaosOptions o = calm();
    o.drop_write = 1;
    Rig r(o);
    const uint32_t before = r.host->read32(0, TESTDEV_SCRATCH);
    r.host->write32(0, TESTDEV_SCRATCH, ~before);
    EXPECT_EQ(r.host->read32(0, TESTDEV_SCRATCH), before);
    EXPECT_EQ(r.model->stats().dropped_writes.load(), 1u);
}

TEST(Chaos, NeverAnsweredReadsAreCounted) {
    ChaosOptions o = calm();
    o.never_read = 1;
    o.read_timeout_us = 2000;
    Rig r(o);
    // The SimHost waits for any answer; the kernel would have given up.
    EXPECT_EQ(r.host->read32(0, TESTDEV_ID), TESTDEV_ID_VALUE);
    EXPECT_EQ(r.model->stats().never_reads.load(), 1u);
}

TEST(Chaos, MischiefStormsAndDmasUntilStopped) {
    ChaosOptions o = calm();
    o.mischief = true;
    o.tick_ms_max = 2;
    o.storm_max = 50;
    Rig r(o);
    for (int i = 0; i < 400 && (r.model->stats().storms.load() == 0 ||
                                r.model->stats().random_dmas.load() == 0);
         ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_GT(r.model->stats().storm_raises.load(), 0u);
    r.host.reset(); // on_stop() joins the thread
    // No mapping on the SimHost yet: every random DMA is refused. Compared
    // only once the thread is gone: a DMA is counted as it starts and as
    // refused when it ends, so a running thread can be between the two.
    EXPECT_EQ(r.model->stats().random_dmas_refused.load(), r.model->stats().random_dmas.load());
    const uint64_t storms = r.model->stats().storms.load();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(r.model->stats().storms.load(), storms);
}

// Random DMA near an address the wrapped device used: the device checksums
// the start of a 256 KiB bidirectional mapping (so the chaos layer
// remembers its address), then the mischief thread runs until `dmas`
// random DMAs were made. Returns how many got through the sanitizer and
// whether the mapping's bytes changed.
struct Damage {
    uint64_t let_through = 0;
    bool changed = false;
};
Damage random_dma_damage(double writes, uint64_t dmas) {
    ChaosOptions o = calm(7);
    o.mischief = true;
    o.tick_ms_max = 1;
    o.storm_max = 1;
    o.random_dma_writes = writes;
    Rig r(o);
    std::vector<std::byte> mem(256 * 1024, std::byte{0x5a});
    const std::vector<std::byte> before = mem;
    r.host->cfg_write(0x04, 2, 0x0006); // Memory Space + Bus Master
    const uint64_t at = r.host->dma().map(mem, DmaDirection::bidirectional);
    r.host->write64(0, TESTDEV_DMA_SRC, at);
    r.host->write32(0, TESTDEV_DMA_LEN, 64);
    r.host->write32(0, TESTDEV_DMA_CMD, TESTDEV_DMA_CMD_CSUM);
    EXPECT_EQ(r.host->read32(0, TESTDEV_DMA_STATUS), uint32_t{TESTDEV_DMA_ST_OK});
    const uint64_t start = r.model->stats().random_dmas.load();
    for (int i = 0; i < 4000 && r.model->stats().random_dmas.load() < start + dmas; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    r.host.reset(); // joins the mischief thread before the mapping goes
    const auto& s = r.model->stats();
    EXPECT_GE(s.random_dmas.load(), start + dmas);
    return {s.random_dmas.load() - s.random_dmas_refused.load(), mem != before};
}

TEST(Chaos, RandomDmaWritesOnlyWhenAllowed) {
    const Damage reads_only = random_dma_damage(0, 300);
    EXPECT_GT(reads_only.let_through, 0u) << "reads inside the mapping still happen";
    EXPECT_FALSE(reads_only.changed) << "--random-dma-writes 0 wrote into a live mapping";
    const Damage writes = random_dma_damage(1, 300);
    EXPECT_GT(writes.let_through, 0u);
    EXPECT_TRUE(writes.changed) << "writes inside a live mapping are let through, as they must be";
}

TEST(ChaosDeathTest, DiesByItsOwnHandWithinTheLimit) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    ChaosOptions o = calm();
    o.die_within_ms = 50;
    EXPECT_EXIT(
        {
            Rig r(o);
            std::this_thread::sleep_for(std::chrono::seconds(5));
            std::exit(0);
        },
        testing::KilledBySignal(SIGKILL), "");
}

} // namespace
} // namespace pciem::devices
