// SPDX-License-Identifier: MIT
// The test device model on the SimHost, exercised the way the kernel
// test driver (drivers/pciem_mmio_test) does: every register, through
// MMIO of every width, plus its config space.
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <testdev_regs.h>

#include "pciem/sim_host.hpp"
#include "testdev.hpp"

namespace {

class TestDevSim : public ::testing::Test {
protected:
    void SetUp() override {
        auto h = pciem::SimHost::create(model_);
        ASSERT_TRUE(h) << h.error().message;
        host_ = std::move(*h);
    }
    pciem::SimHost& host() { return *host_; }

    pciem::devices::TestDev model_;
    std::unique_ptr<pciem::SimHost> host_;
};

// ---- config space ----------------------------------------------------------

TEST_F(TestDevSim, ConfigIdentity) {
    EXPECT_EQ(host().cfg_read(0x00, 2), TESTDEV_VENDOR_ID);
    EXPECT_EQ(host().cfg_read(0x02, 2), TESTDEV_DEVICE_ID);
    EXPECT_EQ(host().cfg_read(0x08, 4) >> 8, static_cast<uint32_t>(TESTDEV_CLASS));
    EXPECT_EQ(host().cfg_read(0x0e, 1) & 0x7f, 0u); // type 0 header
}

TEST_F(TestDevSim, Bar0SizingWithAllOnes) {
    // 64-bit non-prefetchable memory BAR: type bits 10b, prefetch 0.
    EXPECT_EQ(host().cfg_read(0x10, 4) & 0xf, 0x4u);
    host().cfg_write(0x10, 4, 0xffffffff);
    host().cfg_write(0x14, 4, 0xffffffff);
    const uint64_t lo = host().cfg_read(0x10, 4);
    const uint64_t hi = host().cfg_read(0x14, 4);
    const uint64_t mask = (hi << 32 | lo) & ~uint64_t{0xf};
    EXPECT_EQ(~mask + 1, uint64_t{TESTDEV_BAR0_SIZE});
    // BAR2: 64-bit prefetchable (type 10b, prefetch 1); BAR4 64-bit.
    EXPECT_EQ(host().cfg_read(0x18, 4) & 0xf, 0xcu);
    EXPECT_EQ(host().cfg_read(0x20, 4) & 0xf, 0x4u);
    for (const auto& [reg, size] : {std::pair<uint16_t, uint64_t>{0x18, TESTDEV_BAR2_SIZE},
                                    std::pair<uint16_t, uint64_t>{0x20, TESTDEV_BAR4_SIZE}}) {
        host().cfg_write(reg, 4, 0xffffffff);
        host().cfg_write(static_cast<uint16_t>(reg + 4), 4, 0xffffffff);
        const uint64_t m = (uint64_t{host().cfg_read(static_cast<uint16_t>(reg + 4), 4)} << 32 |
                            host().cfg_read(reg, 4)) &
                           ~uint64_t{0xf};
        EXPECT_EQ(~m + 1, size) << "BAR at " << reg;
    }
}

TEST_F(TestDevSim, CapabilityListHasPmAndPcie) {
    ASSERT_NE(host().cfg_read(0x06, 2) & (1u << 4), 0u); // Capabilities List
    EXPECT_EQ(host().cfg_read(0x3d, 1), 1u);             // INTA
    bool pm = false, pcie = false, msi = false, msix = false;
    unsigned ptr = host().cfg_read(0x34, 1) & 0xfc;
    for (int guard = 0; ptr != 0 && guard < 48; ++guard) {
        const uint32_t id = host().cfg_read(static_cast<uint16_t>(ptr), 1);
        pm |= id == 0x01;
        pcie |= id == 0x10;
        msi |= id == 0x05;
        msix |= id == 0x11;
        ptr = host().cfg_read(static_cast<uint16_t>(ptr + 1), 1) & 0xfc;
    }
    EXPECT_TRUE(pm);
    EXPECT_TRUE(pcie);
    EXPECT_TRUE(msi);
    EXPECT_TRUE(msix);
    const uint16_t mx = host().config().layout.msix;
    EXPECT_EQ((host().cfg_read(mx + 2, 2) & 0x7ff) + 1, uint32_t{TESTDEV_MSIX_VECTORS});
    EXPECT_EQ(host().cfg_read(mx + 4, 4), 4u);                    // table: BAR4 + 0
    EXPECT_EQ(host().cfg_read(mx + 8, 4), TESTDEV_MSIX_PBA | 4u); // PBA: BAR4 + 0x8000
    const uint16_t mi = host().config().layout.msi;
    const uint32_t ctl = host().cfg_read(mi + 2, 2);
    EXPECT_EQ(1u << ((ctl >> 1) & 7), uint32_t{TESTDEV_MSI_VECTORS});
    EXPECT_NE(ctl & 0x80, 0u);                             // 64-bit
    EXPECT_NE(ctl & 0x100, 0u);                            // per-vector masking
    EXPECT_EQ(host().config().size, PCIEM_CFG_SPACE_SIZE); // PCIe: 4 KiB
}

TEST_F(TestDevSim, ProgrammedBarDecodesOnlyWithMemorySpaceEnabled) {
    const uint64_t base = 0x4000'0000'0000;
    host().cfg_write(0x10, 4, static_cast<uint32_t>(base));
    host().cfg_write(0x14, 4, static_cast<uint32_t>(base >> 32));
    EXPECT_EQ(host().bar_address(0), base);
    EXPECT_EQ(host().bus_read(base + TESTDEV_ID, 4), 0xffffffffu); // MSE off: master abort
    host().cfg_write(0x04, 2, 0x2);
    EXPECT_EQ(host().bus_read(base + TESTDEV_ID, 4), TESTDEV_ID_VALUE);
    host().bus_write(base + TESTDEV_SCRATCH, 4, 0x1234);
    EXPECT_EQ(host().read32(0, TESTDEV_SCRATCH), 0x1234u);
    EXPECT_EQ(host().bus_read(base + TESTDEV_BAR0_SIZE, 4), 0xffffffffu); // past the BAR
}

// ---- registers -------------------------------------------------------------

TEST_F(TestDevSim, IdAndVersion) {
    EXPECT_EQ(host().read32(0, TESTDEV_ID), TESTDEV_ID_VALUE);
    EXPECT_EQ(host().read8(0, TESTDEV_ID), TESTDEV_ID_VALUE & 0xff);
    EXPECT_EQ(host().read16(0, TESTDEV_ID + 2), TESTDEV_ID_VALUE >> 16);
    EXPECT_EQ(host().read64(0, TESTDEV_ID), uint64_t{1} << 32 | TESTDEV_ID_VALUE);
    host().write32(0, TESTDEV_ID, 0);
    EXPECT_EQ(host().read32(0, TESTDEV_VERSION), 1u);
    EXPECT_EQ(host().read32(0, TESTDEV_ID), TESTDEV_ID_VALUE);
}

TEST_F(TestDevSim, ScratchAtEveryWidth) {
    host().write32(0, TESTDEV_SCRATCH, 0x11223344);
    host().write8(0, TESTDEV_SCRATCH + 1, 0xaa);
    host().write16(0, TESTDEV_SCRATCH + 2, 0xbbcc);
    EXPECT_EQ(host().read32(0, TESTDEV_SCRATCH), 0xbbccaa44u);
    EXPECT_EQ(host().read8(0, TESTDEV_SCRATCH + 3), 0xbbu);
    EXPECT_EQ(host().read16(0, TESTDEV_SCRATCH), 0xaa44u);
}

TEST_F(TestDevSim, Scratch64WholeAndHalves) {
    host().write64(0, TESTDEV_SCRATCH64, 0x0123456789abcdef);
    EXPECT_EQ(host().read64(0, TESTDEV_SCRATCH64), 0x0123456789abcdefu);
    EXPECT_EQ(host().read32(0, TESTDEV_SCRATCH64), 0x89abcdefu);
    EXPECT_EQ(host().read32(0, TESTDEV_SCRATCH64 + 4), 0x01234567u);
    host().write32(0, TESTDEV_SCRATCH64 + 4, 0xfeedface);
    EXPECT_EQ(host().read64(0, TESTDEV_SCRATCH64), 0xfeedface89abcdefu);
}

TEST_F(TestDevSim, CounterMovesOnEveryRead) {
    EXPECT_EQ(host().read32(0, TESTDEV_COUNTER), 0u);
    EXPECT_EQ(host().read32(0, TESTDEV_COUNTER), 1u);
    EXPECT_EQ(host().read8(0, TESTDEV_COUNTER), 2u);
    EXPECT_EQ(host().read16(0, TESTDEV_COUNTER), 3u);
    // A 64-bit read at COUNTER covers COUNTER and RC: one count.
    EXPECT_EQ(host().read64(0, TESTDEV_COUNTER) & 0xffffffff, 4u);
    EXPECT_EQ(host().read32(0, TESTDEV_COUNTER), 5u);
}

TEST_F(TestDevSim, ReadToClearLatch) {
    host().write32(0, TESTDEV_RC_SET, 0x5);
    host().write8(0, TESTDEV_RC_SET + 1, 0x1);       // RC |= 0x100
    EXPECT_EQ(host().read32(0, TESTDEV_RC_SET), 0u); // write-only
    EXPECT_EQ(host().read32(0, TESTDEV_RC), 0x105u);
    EXPECT_EQ(host().read32(0, TESTDEV_RC), 0u);
}

TEST_F(TestDevSim, StatusWriteOneToClear) {
    host().write32(0, TESTDEV_STATUS_SET, 0x0f);
    EXPECT_EQ(host().read32(0, TESTDEV_STATUS), 0x0fu);
    host().write32(0, TESTDEV_STATUS, 0x05);
    EXPECT_EQ(host().read32(0, TESTDEV_STATUS), 0x0au);
    host().write8(0, TESTDEV_STATUS, 0x08);
    EXPECT_EQ(host().read32(0, TESTDEV_STATUS), 0x02u);
}

TEST_F(TestDevSim, FifoOrderCountAndUnderflow) {
    for (uint32_t v : {10u, 20u, 30u}) {
        host().write32(0, TESTDEV_FIFO, v);
    }
    EXPECT_EQ(host().read32(0, TESTDEV_FIFO_COUNT), 3u);
    EXPECT_EQ(host().read32(0, TESTDEV_FIFO), 10u);
    EXPECT_EQ(host().read32(0, TESTDEV_FIFO), 20u);
    EXPECT_EQ(host().read32(0, TESTDEV_FIFO), 30u);
    EXPECT_EQ(host().read32(0, TESTDEV_STATUS) & TESTDEV_STATUS_UNDERFLOW, 0u);
    EXPECT_EQ(host().read32(0, TESTDEV_FIFO), 0u);
    EXPECT_NE(host().read32(0, TESTDEV_STATUS) & TESTDEV_STATUS_UNDERFLOW, 0u);
    host().write32(0, TESTDEV_STATUS, TESTDEV_STATUS_UNDERFLOW);
    EXPECT_EQ(host().read32(0, TESTDEV_STATUS), 0u);
}

TEST_F(TestDevSim, WriteCountAndLastWriteSeeEveryWidth) {
    host().write8(0, TESTDEV_SCRATCH, 0x12);
    host().write16(0, TESTDEV_SCRATCH, 0x3456);
    host().write32(0, TESTDEV_ID, 0x789abcde); // RO target still counts
    host().write64(0, TESTDEV_MEM, 0x1122334455667788);
    host().write32(0, 0x3c, 0x99); // unmapped still counts
    EXPECT_EQ(host().read32(0, TESTDEV_WRITE_COUNT), 5u);
    EXPECT_EQ(host().read32(0, TESTDEV_LAST_WRITE), 0x99u);
    host().write64(0, TESTDEV_MEM, 0x1122334455667788);
    EXPECT_EQ(host().read32(0, TESTDEV_LAST_WRITE), 0x55667788u);
    EXPECT_EQ(host().read32(0, TESTDEV_WRITE_COUNT), 6u);
}

TEST_F(TestDevSim, SlowAnswersAfterDelay) {
    EXPECT_EQ(host().read32(0, TESTDEV_SLOW), TESTDEV_SLOW_VALUE);
    host().write32(0, TESTDEV_DELAY_US, 20000);
    EXPECT_EQ(host().read32(0, TESTDEV_DELAY_US), 20000u);
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(host().read32(0, TESTDEV_SLOW), TESTDEV_SLOW_VALUE);
    EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(20));
}

TEST_F(TestDevSim, HangNeverAnswers) {
    EXPECT_EQ(host().read(0, TESTDEV_HANG, 4), std::nullopt);
    EXPECT_EQ(host().read32(0, TESTDEV_HANG), 0xffffffffu);
    EXPECT_EQ(host().stats().read_timeouts, 2u);
}

TEST_F(TestDevSim, ShadowedValuesComeFromTheShadow) {
    const auto before = host().stats();
    for (unsigned i = 0; i < 8; ++i) {
        EXPECT_EQ(host().read32(0, TESTDEV_SHADOWED + 4 * i), TESTDEV_SHADOW_VALUE(i));
    }
    EXPECT_EQ(host().read64(0, TESTDEV_SHADOWED + 8),
              uint64_t{TESTDEV_SHADOW_VALUE(3)} << 32 | TESTDEV_SHADOW_VALUE(2));
    EXPECT_EQ(host().read16(0, TESTDEV_SHADOWED + 6), TESTDEV_SHADOW_VALUE(1) >> 16);
    EXPECT_EQ(host().stats().shadow_reads - before.shadow_reads, 10u);
    EXPECT_EQ(host().stats().reads, before.reads);
}

TEST_F(TestDevSim, MemoryAtEveryWidth) {
    for (unsigned i = 0; i < 16; ++i) {
        host().write8(0, TESTDEV_MEM + i, static_cast<uint8_t>(i));
    }
    EXPECT_EQ(host().read32(0, TESTDEV_MEM + 4), 0x07060504u);
    EXPECT_EQ(host().read64(0, TESTDEV_MEM + 8), 0x0f0e0d0c0b0a0908u);
    host().write16(0, TESTDEV_MEM + TESTDEV_MEM_SIZE - 2, 0xabcd);
    EXPECT_EQ(host().read8(0, TESTDEV_MEM + TESTDEV_MEM_SIZE - 1), 0xabu);
    // memset_io on 6.1: rep stosq, 8 bytes at a time.
    for (unsigned off = 0; off < 64; off += 8) {
        host().write64(0, TESTDEV_MEM + 0x100 + off, 0x5a5a5a5a5a5a5a5a);
    }
    EXPECT_EQ(host().read32(0, TESTDEV_MEM + 0x13c), 0x5a5a5a5au);
}

TEST_F(TestDevSim, OutsideTheBarIsAMasterAbort) {
    EXPECT_EQ(host().read32(0, TESTDEV_BAR0_SIZE), 0xffffffffu);
    EXPECT_EQ(host().read32(0, TESTDEV_BAR0_SIZE - 2), 0xffffffffu);
    EXPECT_EQ(host().read32(1, 0), 0xffffffffu);
    EXPECT_EQ(host().stats().master_aborts, 3u);
}

// ---- RAM BAR ----------------------------------------------------------------

TEST_F(TestDevSim, RamPeekSeesWhatTheDriverWrote) {
    ASSERT_EQ(model_.ram(2).size(), uint64_t{TESTDEV_BAR2_SIZE});
    host().write32(2, 0x1000, 0xcafef00d);
    host().write32(2, TESTDEV_BAR2_SIZE - 4, 0x11223344);
    host().write32(0, TESTDEV_RAM_PEEK_OFF, 0x1000);
    EXPECT_EQ(host().read32(0, TESTDEV_RAM_PEEK_OFF), 0x1000u);
    EXPECT_EQ(host().read32(0, TESTDEV_RAM_PEEK), 0xcafef00du);
    host().write32(0, TESTDEV_RAM_PEEK_OFF, TESTDEV_BAR2_SIZE - 4);
    EXPECT_EQ(host().read32(0, TESTDEV_RAM_PEEK), 0x11223344u);
}

TEST_F(TestDevSim, RamPokeIsSeenByTheDriver) {
    host().write32(0, TESTDEV_RAM_PEEK_OFF, 0x2468);
    host().write32(0, TESTDEV_RAM_POKE, 0x600dbeef);
    EXPECT_EQ(host().read32(2, 0x2468), 0x600dbeefu);
    EXPECT_EQ(host().read32(0, TESTDEV_RAM_POKE), 0u); // write-only
    uint32_t v = 0;
    std::memcpy(&v, model_.ram(2).data() + 0x2468, 4);
    EXPECT_EQ(v, 0x600dbeefu);
    // BAR2 accesses never reach the model.
    const auto before = host().stats();
    (void)host().read64(2, 0x2468);
    host().write64(2, 0x10, 1);
    EXPECT_EQ(host().stats().reads, before.reads);
    EXPECT_EQ(host().stats().writes, before.writes);
}

// ---- interrupts --------------------------------------------------------------

class TestDevIrq : public TestDevSim {
protected:
    void enable_msix() {
        host().cfg_write(static_cast<uint16_t>(host().config().layout.msix + 2), 2, 0x8000);
    }
    void unmask(unsigned v) { host().write32(4, 16 * v + 12, 0); }
    // Polls STORM_DONE (each read also lets the SimHost drain eventfds).
    bool wait_storm(uint32_t count) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (host().read32(0, TESTDEV_IRQ_STORM_DONE) != count) {
            if (std::chrono::steady_clock::now() > deadline) {
                return false;
            }
            std::this_thread::yield();
        }
        return true;
    }
};

TEST_F(TestDevIrq, RaiseWithoutMsiReportsEagainOnceThenClears) {
    EXPECT_EQ(host().read32(0, TESTDEV_IRQ_RAISE_ERR), 0u);
    host().write32(0, TESTDEV_IRQ_RAISE, 0);
    EXPECT_EQ(host().read32(0, TESTDEV_IRQ_RAISE_ERR), uint32_t{EAGAIN});
    EXPECT_EQ(host().read32(0, TESTDEV_IRQ_RAISE_ERR), 0u); // read clears
    EXPECT_TRUE(host().interrupts().empty());
}

TEST_F(TestDevIrq, RaiseDeliversTheVector) {
    enable_msix();
    unmask(5);
    unmask(TESTDEV_MSIX_VECTORS - 1);
    host().write32(0, TESTDEV_IRQ_RAISE, 5);
    host().write32(0, TESTDEV_IRQ_RAISE, TESTDEV_MSIX_VECTORS - 1);
    host().write32(0, TESTDEV_IRQ_RAISE, 6); // masked: pending
    EXPECT_EQ(host().take_interrupts(),
              (std::vector{pciem::SimInterrupt::msix(5),
                           pciem::SimInterrupt::msix(TESTDEV_MSIX_VECTORS - 1)}));
    EXPECT_EQ(host().read32(4, TESTDEV_MSIX_PBA), 1u << 6);
    host().write32(0, TESTDEV_IRQ_RAISE, TESTDEV_MSIX_VECTORS);
    EXPECT_EQ(host().read32(0, TESTDEV_IRQ_RAISE_ERR), uint32_t{EINVAL});
}

TEST_F(TestDevIrq, RaiseViaIrqfd) {
    enable_msix();
    unmask(3);
    host().write32(0, TESTDEV_IRQ_VIA_IRQFD, 1);
    EXPECT_EQ(host().read32(0, TESTDEV_IRQ_VIA_IRQFD), 1u);
    host().write32(0, TESTDEV_IRQ_RAISE, 3);
    host().write32(0, TESTDEV_IRQ_RAISE, 3);
    EXPECT_EQ(host().interrupt_count(pciem::SimInterrupt::Kind::msix, 3), 2u);
    EXPECT_EQ(host().read32(0, TESTDEV_IRQ_RAISE_ERR), 0u);
}

TEST_F(TestDevIrq, IntxRegisterDrivesTheLine) {
    host().write32(0, TESTDEV_IRQ_INTX, 1);
    EXPECT_EQ(host().read32(0, TESTDEV_IRQ_INTX), 1u);
    EXPECT_TRUE(host().intx_asserted());
    EXPECT_EQ(host().take_interrupts(), std::vector{pciem::SimInterrupt::intx()});
    EXPECT_NE(host().cfg_read(0x06, 2) & 0x8, 0u);
    host().write32(0, TESTDEV_IRQ_INTX, 0);
    EXPECT_FALSE(host().intx_level());
    EXPECT_EQ(host().cfg_read(0x06, 2) & 0x8, 0u);
}

TEST_F(TestDevIrq, StormRaisesCountRoundRobin) {
    enable_msix();
    for (unsigned v = 0; v < 8; ++v) {
        unmask(v);
    }
    host().write32(0, TESTDEV_IRQ_STORM_COUNT, 20000);
    host().write32(0, TESTDEV_IRQ_STORM_NVEC, 8);
    EXPECT_EQ(host().read32(0, TESTDEV_IRQ_STORM_COUNT), 20000u);
    EXPECT_EQ(host().read32(0, TESTDEV_IRQ_STORM_NVEC), 8u);
    host().write32(0, TESTDEV_IRQ_STORM_GO, 1);
    ASSERT_TRUE(wait_storm(20000));
    for (unsigned v = 0; v < 8; ++v) {
        EXPECT_EQ(host().interrupt_count(pciem::SimInterrupt::Kind::msix, v), 2500u) << v;
    }
    EXPECT_EQ(host().interrupt_count(pciem::SimInterrupt::Kind::msix, 8), 0u);
    // A second storm after the first finished starts afresh.
    host().write32(0, TESTDEV_IRQ_STORM_COUNT, 3);
    host().write32(0, TESTDEV_IRQ_STORM_GO, 1);
    ASSERT_TRUE(wait_storm(3));
    EXPECT_EQ(host().interrupt_count(pciem::SimInterrupt::Kind::msix, 0), 2501u);
    EXPECT_EQ(host().interrupt_count(pciem::SimInterrupt::Kind::msix, 2), 2501u);
    EXPECT_EQ(host().interrupt_count(pciem::SimInterrupt::Kind::msix, 3), 2500u);
    EXPECT_EQ(host().read32(0, TESTDEV_IRQ_RAISE_ERR), 0u);
}

TEST_F(TestDevIrq, StormIsStoppedWithTheHost) {
    enable_msix();
    host().write32(0, TESTDEV_IRQ_STORM_COUNT, 0xffffffff);
    host().write32(0, TESTDEV_IRQ_STORM_NVEC, 2);
    host().write32(0, TESTDEV_IRQ_STORM_GO, 1);
    host_.reset(); // on_stop() ends the storm; nothing raises into a dead host
    EXPECT_EQ(model_.irq().raise(0).error().errnum, ENODEV);
}

// ---- DMA engine ----------------------------------------------------------------

class TestDevDma : public TestDevSim {
protected:
    void SetUp() override {
        TestDevSim::SetUp();
        host().cfg_write(0x04, 2, 0x0006); // Memory Space + Bus Master
    }
    uint32_t run(uint32_t cmd) {
        host().write32(0, TESTDEV_DMA_CMD, cmd);
        return host().read32(0, TESTDEV_DMA_STATUS);
    }
};

TEST_F(TestDevDma, CopyFillAndChecksum) {
    std::vector<std::byte> src(5000), dst(5000);
    const uint64_t d = host().dma().map(dst, pciem::DmaDirection::from_device);
    host().write64(0, TESTDEV_DMA_DST, d);
    host().write32(0, TESTDEV_DMA_LEN, 5000);
    host().write32(0, TESTDEV_DMA_SEED, 7);
    ASSERT_EQ(run(TESTDEV_DMA_CMD_FILL), uint32_t{TESTDEV_DMA_ST_OK});
    for (size_t i = 0; i < dst.size(); ++i) {
        ASSERT_EQ(dst[i], std::byte{testdev_dma_pattern(7, i)}) << i;
    }
    uint64_t h = TESTDEV_FNV_OFFSET;
    for (size_t i = 0; i < src.size(); ++i) {
        src[i] = std::byte(static_cast<uint8_t>(i * 7));
        h = (h ^ static_cast<uint8_t>(src[i])) * TESTDEV_FNV_PRIME;
    }
    const uint64_t s = host().dma().map(src, pciem::DmaDirection::to_device);
    host().write64(0, TESTDEV_DMA_SRC, s);
    ASSERT_EQ(run(TESTDEV_DMA_CMD_CSUM), uint32_t{TESTDEV_DMA_ST_OK});
    EXPECT_EQ(host().read64(0, TESTDEV_DMA_RESULT), h);
    ASSERT_EQ(run(TESTDEV_DMA_CMD_COPY), uint32_t{TESTDEV_DMA_ST_OK});
    EXPECT_EQ(dst, src);
}

TEST_F(TestDevDma, RefusalsBecomeStatusAndFaultAddress) {
    std::vector<std::byte> dst(64);
    const uint64_t d = host().dma().map(dst, pciem::DmaDirection::from_device);
    host().write64(0, TESTDEV_DMA_DST, d);
    host().write32(0, TESTDEV_DMA_LEN, 65);
    EXPECT_EQ(run(TESTDEV_DMA_CMD_FILL), uint32_t{TESTDEV_DMA_ST_BOUNDS});
    EXPECT_EQ(host().read64(0, TESTDEV_DMA_FAULT_ADDR), d + 64);
    EXPECT_EQ(dst, std::vector<std::byte>(64));
    host().write64(0, TESTDEV_DMA_SRC, d);
    host().write32(0, TESTDEV_DMA_LEN, 8);
    EXPECT_EQ(run(TESTDEV_DMA_CMD_CSUM), uint32_t{TESTDEV_DMA_ST_DIRECTION});
    host().cfg_write(0x04, 2, 0x0002);
    EXPECT_EQ(run(TESTDEV_DMA_CMD_FILL), uint32_t{TESTDEV_DMA_ST_BUS_MASTER});
    host().cfg_write(0x04, 2, 0x0006);
    host().dma().unmap(d);
    EXPECT_EQ(run(TESTDEV_DMA_CMD_FILL), uint32_t{TESTDEV_DMA_ST_STALE});
    EXPECT_EQ(host().dma().faults().size(), 4u);
}

TEST_F(TestDevDma, Atomics) {
    alignas(8) std::array<std::byte, 8> word{};
    const uint64_t a = host().dma().map(word, pciem::DmaDirection::bidirectional);
    host().write64(0, TESTDEV_DMA_DST, a);
    host().write32(0, TESTDEV_DMA_LEN, 8);
    host().write64(0, TESTDEV_DMA_OPERAND, 3);
    host().write32(0, TESTDEV_DMA_COUNT, 1000);
    ASSERT_EQ(run(TESTDEV_DMA_CMD_FETCH_ADD), uint32_t{TESTDEV_DMA_ST_OK});
    uint64_t v = 0;
    std::memcpy(&v, word.data(), 8);
    EXPECT_EQ(v, 3000u);
    EXPECT_EQ(host().read64(0, TESTDEV_DMA_RESULT), 2997u);
    host().write64(0, TESTDEV_DMA_COMPARE, 3000);
    host().write64(0, TESTDEV_DMA_OPERAND, 42);
    ASSERT_EQ(run(TESTDEV_DMA_CMD_CAS), uint32_t{TESTDEV_DMA_ST_OK});
    std::memcpy(&v, word.data(), 8);
    EXPECT_EQ(v, 42u);
    host().write32(0, TESTDEV_DMA_LEN, 3);
    EXPECT_EQ(run(TESTDEV_DMA_CMD_SWAP), uint32_t{TESTDEV_DMA_ST_ALIGNMENT});
}

} // namespace

// ---- the host's binding ----------------------------------------------------

// A host's ModelBinding lets go of everything when the host goes: DMA,
// interrupts and shadow backings point at nothing afterwards.
TEST(ModelBinding, AHostGoneLeavesTheModelUnbound) {
    pciem::devices::TestDev model;
    std::array<std::byte, 64> buf{};
    {
        auto h = pciem::SimHost::create(model);
        ASSERT_TRUE(h) << h.error().message;
        (*h)->cfg_write(0x04, 2, 0x0006); // memory and bus mastering
        const uint64_t bus = (*h)->dma().map(buf, pciem::DmaDirection::bidirectional);
        EXPECT_TRUE(model.dma().read(bus, buf)) << "bound: DMA reaches the SimDma";
        ASSERT_FALSE(model.shadows().empty());
        EXPECT_FALSE(model.shadows().front().backing.empty());
    }
    auto gone = model.dma().read(0x1000, buf);
    ASSERT_FALSE(gone);
    EXPECT_EQ(gone.error().kind, pciem::DmaFaultKind::no_host);
    for (const auto& s : model.shadows()) {
        EXPECT_TRUE(s.backing.empty());
    }
}

TEST(ModelBinding, ReleaseUnbindsAtOnce) {
    pciem::devices::TestDev model;
    ASSERT_TRUE(model.realize());
    pciem::SimDma dma;
    dma.set_bus_master(true);
    pciem::ModelBinding binding(model);
    binding.dma(&dma);
    std::array<std::byte, 8> buf{};
    auto bound = model.dma().read(0x1000, buf);
    ASSERT_FALSE(bound);
    EXPECT_EQ(bound.error().kind, pciem::DmaFaultKind::unmapped) << "the SimDma answered";
    binding.release();
    auto released = model.dma().read(0x1000, buf);
    ASSERT_FALSE(released);
    EXPECT_EQ(released.error().kind, pciem::DmaFaultKind::no_host);
}
