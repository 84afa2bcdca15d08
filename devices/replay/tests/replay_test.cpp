// SPDX-License-Identifier: MIT
// pciem-replay's model (devices/replay) on the SimHost: the test plays the
// driver against a recording built in memory.
#include <cstddef>
#include <vector>

#include <gtest/gtest.h>

#include "pciem/recording.hpp"
#include "pciem/sim_host.hpp"
#include "replay.hpp"

namespace {

using pciem::RecordingBuilder;
using pciem::SimHost;
using pciem::SimInterrupt;
using pciem::devices::replay::ReplayModel;
using Outcome = ReplayModel::Outcome;

constexpr uint16_t mr = PCIEM_REC_MMIO_READ, mw = PCIEM_REC_MMIO_WRITE;
constexpr uint16_t model = PCIEM_REC_F_MODEL;

pciem::DeviceSpec spec() {
    return pciem::DeviceSpec{}
        .ids(0x1b36, 0x7e42)
        .class_code(0xff0000)
        .interrupt_pin(pciem::InterruptPin::a)
        .bar(0, pciem::Bar::mem64(4096))
        .msix(4, 0, 0x800, 0, 0xc00)
        .vendor({0, 0, 0, 0, 0, 0}) // header + 6 bytes: a body the model could own
        .pcie();
}

RecordingBuilder start() {
    RecordingBuilder b(pciem::make_recording_header({0x10000, 0, 0}, PCIEM_ABI_VERSION, 0));
    auto req = spec().build();
    EXPECT_TRUE(req);
    b.create(*req).state(PCIEM_STATE_PRESENT);
    return b;
}

struct Replay {
    std::unique_ptr<ReplayModel> model;
    std::unique_ptr<SimHost> host;
    std::vector<Outcome> told;
};

Replay replay(const RecordingBuilder& b, pciem::devices::replay::Options o = {}) {
    auto rec = pciem::Recording::parse(b.bytes());
    EXPECT_TRUE(rec) << rec.error().message;
    auto m = ReplayModel::create(std::move(*rec), o);
    EXPECT_TRUE(m) << m.error().message;
    Replay r;
    r.model = std::move(*m);
    r.model->on_finish([&told = r.told](Outcome x) { told.push_back(x); });
    auto h = SimHost::create(*r.model);
    EXPECT_TRUE(h) << h.error().message;
    r.host = std::move(*h);
    return r;
}

TEST(Replay, CreatesTheRecordedFunctionAndAnswersReadsInOrder) {
    auto b = start();
    b.access(mr, model, 0, 0x10, 4, 7)
        .access(mw, model, 0, 0x14, 4, 1)
        .access(mr, model, 0, 0x10, 4, 8) // the same register, another answer
        .access(mr, model, 0, 0x18, 8, 0x1122334455667788);
    auto r = replay(b);
    SimHost& h = *r.host;
    EXPECT_EQ(h.cfg_read(0x00, 4), 0x7e421b36u);
    EXPECT_EQ(h.cfg_read(0x3d, 1), 1u); // INTA
    EXPECT_EQ(r.model->accesses_expected(), 4u);
    EXPECT_EQ(h.read32(0, 0x10), 7u);
    h.write32(0, 0x14, 1);
    EXPECT_EQ(h.read32(0, 0x10), 8u);
    EXPECT_EQ(r.model->outcome(), Outcome::running);
    EXPECT_EQ(h.read64(0, 0x18), 0x1122334455667788u);
    EXPECT_EQ(r.model->outcome(), Outcome::complete);
    EXPECT_EQ(r.told, std::vector{Outcome::complete});
    EXPECT_EQ(r.model->accesses_matched(), 4u);
}

TEST(Replay, AWriteThatDiffersIsNamedWithWhatWasExpected) {
    auto b = start();
    b.access(mw, model, 0, 0x4, 4, 1).access(mw, model, 0, 0x4, 4, 2);
    auto r = replay(b);
    r.host->write32(0, 0x4, 1);
    r.host->write32(0, 0x4, 3);
    EXPECT_EQ(r.model->outcome(), Outcome::diverged);
    EXPECT_EQ(r.told, std::vector{Outcome::diverged});
    EXPECT_EQ(r.model->divergence(),
              "access #2 of the driver differs from record #3 (+0.000000000 s) of the recording, "
              "after 1 accesses that matched:\n"
              "  the driver did:       mmio-write BAR0+0x4/4 = 0x3\n"
              "  the recording has:    mmio-write BAR0+0x4/4 = 0x2");
    // From then on: all-ones, nothing more compared.
    EXPECT_EQ(r.host->read32(0, 0x0), 0xffffffffu);
    EXPECT_EQ(r.told.size(), 1u);
}

TEST(Replay, AReadOfAnotherRegisterOrWidthDiverges) {
    auto b = start();
    b.access(mr, model, 0, 0x8, 4, 5);
    auto r = replay(b);
    EXPECT_EQ(r.host->read16(0, 0x8), 0xffffu);
    EXPECT_EQ(r.model->outcome(), Outcome::diverged);
    EXPECT_NE(r.model->divergence().find("the driver did:       mmio-read BAR0+0x8/2\n"),
              std::string::npos)
        << r.model->divergence();
}

TEST(Replay, KernelServedAndAbortedAccessesAreNotDemanded) {
    auto b = start();
    b.access(PCIEM_REC_CFG_WRITE, 0, 0, 0x4, 2, 0x6)           // emulated config
        .access(mw, 0, 0, 0x80c, 4, 0)                         // MSI-X table: the kernel's
        .access(mr, PCIEM_REC_F_ABORT, 0, 0x20, 4, 0xffffffff) // master abort: optional
        .access(mr, PCIEM_REC_F_ABORT, 0, 0x24, 4, 0xffffffff) // ... this one comes
        .access(mr, model, 0, 0x28, 4, 9);
    auto r = replay(b);
    EXPECT_EQ(r.model->accesses_expected(), 3u);
    EXPECT_EQ(r.host->read32(0, 0x24), 0xffffffffu);
    EXPECT_EQ(r.host->read32(0, 0x28), 9u);
    EXPECT_EQ(r.model->outcome(), Outcome::complete) << r.model->divergence();
}

TEST(Replay, ModelOwnedConfigIsComparedToo) {
    pciem_cap vendor{};
    vendor.type = PCIEM_CAP_VENDOR;
    vendor.flags = PCIEM_CAP_F_MODEL;
    RecordingBuilder b(pciem::make_recording_header({0x10000, 0, 0}, PCIEM_ABI_VERSION, 0));
    auto req = pciem::DeviceSpec{}
                   .ids(0x1b36, 0x7e43)
                   .bar(0, pciem::Bar::mem32(4096))
                   .capability(vendor, {0, 0, 0, 0, 0, 0})
                   .build();
    ASSERT_TRUE(req) << req.error().message;
    b.create(*req);
    auto r0 = replay(b);
    const uint16_t cap = r0.host->cfg_read(0x34, 1) & 0xfc;
    ASSERT_NE(cap, 0);
    b.access(PCIEM_REC_CFG_READ, model, 0, cap + 4u, 4, 0xabcd)
        .access(PCIEM_REC_CFG_WRITE, model, 0, cap + 4u, 4, 0x55);
    auto r = replay(b);
    EXPECT_EQ(r.host->cfg_read(cap + 4, 4), 0xabcdu);
    r.host->cfg_write(cap + 4, 4, 0x56);
    EXPECT_EQ(r.model->outcome(), Outcome::diverged);
    EXPECT_NE(r.model->divergence().find("the recording has:    cfg-write"), std::string::npos)
        << r.model->divergence();
}

TEST(Replay, InterruptsHappenBetweenTheAccessesTheyFollowed) {
    auto b = start();
    b.access(mw, model, 0, 0x4, 4, 1) // the doorbell...
        .irq(2)                       // ... makes the device interrupt
        .access(mr, model, 0, 0x8, 4, 0x40)
        .intx(true)
        .intx(false);
    auto r = replay(b);
    SimHost& h = *r.host;
    const uint16_t msix = h.config().layout.msix;
    h.cfg_write(msix + 2, 2, 0x8000);     // MSI-X Enable
    h.write32(0, 0x800 + 16 * 2 + 12, 0); // unmask entry 2 (served by the host, not compared)
    h.write32(0, 0x4, 1);
    EXPECT_EQ(h.take_interrupts(), std::vector{SimInterrupt::msix(2)});
    EXPECT_EQ(h.read32(0, 0x8), 0x40u);
    EXPECT_EQ(r.model->events_done(), 3u);
    EXPECT_EQ(r.model->outcome(), Outcome::complete) << r.model->divergence();
}

TEST(Replay, ARaiseThatNowFailsIsADivergence) {
    auto b = start();
    b.access(mw, model, 0, 0x4, 4, 1).irq(2).access(mr, model, 0, 0x8, 4, 0);
    auto r = replay(b);
    r.host->write32(0, 0x4, 1); // the driver never enabled MSI-X this time
    EXPECT_EQ(r.model->outcome(), Outcome::diverged);
    EXPECT_NE(r.model->divergence().find("record #3 (+0.000000000 s): the recording raised "
                                         "vector 2, which now fails"),
              std::string::npos)
        << r.model->divergence();
}

TEST(Replay, DmaWritesTheRecordedBytesAndChecksWhatItReads) {
    SimHost* host = nullptr;
    // The driver's buffers first, so the recording can name their addresses.
    std::vector<std::byte> cmd(8), out(8);
    for (size_t i = 0; i < cmd.size(); ++i) {
        cmd[i] = std::byte(0xa0 + i);
    }
    auto b0 = start();
    auto r0 = replay(b0);
    host = r0.host.get();
    const uint64_t cmd_bus = host->dma().map(cmd, pciem::DmaDirection::to_device);
    const uint64_t out_bus = host->dma().map(out, pciem::DmaDirection::from_device);

    std::vector<std::byte> want(cmd.begin(), cmd.end());
    std::vector<std::byte> result = {std::byte{1}, std::byte{2}, std::byte{3}};
    auto b = start();
    b.access(mw, model, 0, 0x4, 4, 1)
        .dma(PCIEM_DMA_READ, cmd_bus, want)
        .dma(PCIEM_DMA_WRITE, out_bus, result)
        .access(mr, model, 0, 0x8, 4, 1);
    // Same SimDma addresses in a second host: map in the same order.
    auto r = replay(b);
    SimHost& h = *r.host;
    h.cfg_write(0x04, 2, 0x6); // memory + bus master
    ASSERT_EQ(h.dma().map(cmd, pciem::DmaDirection::to_device), cmd_bus);
    ASSERT_EQ(h.dma().map(out, pciem::DmaDirection::from_device), out_bus);
    h.write32(0, 0x4, 1);
    EXPECT_EQ(r.model->outcome(), Outcome::running) << r.model->divergence();
    EXPECT_EQ(out[0], std::byte{1});
    EXPECT_EQ(out[2], std::byte{3});
    EXPECT_EQ(h.read32(0, 0x8), 1u);
    EXPECT_EQ(r.model->outcome(), Outcome::complete);

    // The driver put other bytes in its command this time.
    cmd[5] = std::byte{0};
    auto r2 = replay(b);
    SimHost& h2 = *r2.host;
    h2.cfg_write(0x04, 2, 0x6);
    (void)h2.dma().map(cmd, pciem::DmaDirection::to_device);
    (void)h2.dma().map(out, pciem::DmaDirection::from_device);
    h2.write32(0, 0x4, 1);
    EXPECT_EQ(r2.model->outcome(), Outcome::diverged);
    EXPECT_NE(r2.model->divergence().find("finds byte 5"), std::string::npos)
        << r2.model->divergence();

    // Unless data is not compared.
    auto r3 = replay(b, {.check_dma_data = false});
    r3.host->cfg_write(0x04, 2, 0x6);
    (void)r3.host->dma().map(cmd, pciem::DmaDirection::to_device);
    (void)r3.host->dma().map(out, pciem::DmaDirection::from_device);
    r3.host->write32(0, 0x4, 1);
    EXPECT_EQ(r3.model->outcome(), Outcome::running) << r3.model->divergence();
}

TEST(Replay, ARefusalMustHappenAgain) {
    auto b = start();
    b.access(mw, model, 0, 0x4, 4, 1).dma(PCIEM_DMA_READ, 0x5000, {}, PCIEM_DMA_F_BUS_MASTER);
    auto r = replay(b);
    r.host->write32(0, 0x4, 1); // bus mastering is off here too
    EXPECT_EQ(r.model->outcome(), Outcome::complete) << r.model->divergence();
}

TEST(Replay, TheDriverGoingOnPastTheEndDiverges) {
    auto b = start();
    b.access(mw, model, 0, 0x4, 4, 1);
    auto r = replay(b);
    r.host->write32(0, 0x4, 1);
    r.host->write32(0, 0x4, 1);
    EXPECT_EQ(r.told, (std::vector{Outcome::complete, Outcome::diverged}));
    EXPECT_NE(r.model->divergence().find("comes after the end of the recording (record #2 was "
                                         "its last step; all 1 recorded accesses matched)"),
              std::string::npos)
        << r.model->divergence();
}

TEST(Replay, RecordingsWithGapsOrCutDataAreRefused) {
    auto b = start();
    b.access(mw, model, 0, 0x4, 4, 1).lost(3);
    auto rec = pciem::Recording::parse(b.bytes());
    ASSERT_TRUE(rec);
    auto m = ReplayModel::create(std::move(*rec), {});
    ASSERT_FALSE(m);
    EXPECT_NE(m.error().message.find("record #3: 3 records were lost"), std::string::npos)
        << m.error().message;

    auto b2 = start();
    pciem_rec_dma d{};
    d.hdr = {PCIEM_REC_DMA, PCIEM_REC_F_TRUNCATED, 0, 0};
    d.op = PCIEM_DMA_WRITE;
    d.addr = 0x1000;
    d.len = 100;
    d.data_len = 0;
    b2.raw(std::as_bytes(std::span(&d, 1)));
    rec = pciem::Recording::parse(b2.bytes());
    ASSERT_TRUE(rec) << rec.error().message;
    m = ReplayModel::create(std::move(*rec), {});
    ASSERT_FALSE(m);
    EXPECT_NE(m.error().message.find("kept only 0 of them"), std::string::npos)
        << m.error().message;
}

TEST(Replay, InjectedFaultsAreWarnedAbout) {
    auto b = start();
    b.fault(PCIEM_FAULT_MMIO_ALL_ONES, 1, 0x10).access(mr, PCIEM_REC_F_ABORT, 0, 0x10, 4, ~0u);
    auto r = replay(b);
    ASSERT_EQ(r.model->warnings().size(), 1u);
    EXPECT_NE(r.model->warnings()[0].find("mmio-all-ones"), std::string::npos);
    // The all-ones read reaches this model now: it answers as recorded.
    EXPECT_EQ(r.host->read32(0, 0x10), 0xffffffffu);
    EXPECT_EQ(r.model->outcome(), Outcome::complete);
}

} // namespace
