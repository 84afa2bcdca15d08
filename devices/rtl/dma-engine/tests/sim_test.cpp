// SPDX-License-Identifier: MIT
//
// The DMA engine as a PCIem device model on the SimHost, the test playing
// its driver: the SystemVerilog design behind the RTL adapter (with its
// clock thread, and clocked by the test alone), and the C++ reference
// model, through the same sequences. Then what only the adapter does:
// register timeouts, an idle clock, the transaction log, waveforms.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <rtl_dma_regs.h>

#include "Vdma_engine.h"
#include "dma_engine_model.hpp"
#include "dma_engine_spec.hpp"
#include "rtl_model.hpp"
#include "verilated_design.hpp"

#include "pciem/sim_host.hpp"

namespace {

using namespace std::chrono_literals;
using pciem::DmaDirection;
using pciem::SimInterrupt;

enum class Kind { rtl_thread, rtl_inline, cpp };

std::unique_ptr<pciem::DeviceModel> make_model(Kind kind, pciem::rtl::RtlOptions opt = {}) {
    if (kind == Kind::cpp) {
        return std::make_unique<pciem::devices::DmaEngineModel>(RTL_DMA_DEVICE_ID_CPP);
    }
    opt.clock_thread = kind == Kind::rtl_thread;
    return std::make_unique<pciem::rtl::RtlModel>(
        pciem::devices::dma_engine_spec(RTL_DMA_DEVICE_ID),
        std::make_unique<pciem::rtl::VerilatedDesign<Vdma_engine>>(), opt);
}

// What drivers/pciem_rtl_dma does, on the SimHost.
class Driver {
public:
    Driver(Kind kind, pciem::DeviceModel& model) : kind_(kind), model_(model) {
        auto h = pciem::SimHost::create(model);
        EXPECT_TRUE(h) << h.error().message;
        host_ = std::move(*h);
        auto& h_ = *host_;
        h_.cfg_write(0x04, 2, 0x0006); // Memory Space, Bus Master
        const uint16_t msix = h_.config().layout.msix;
        h_.cfg_write(msix + 2, 2, 0x8000);
        for (unsigned v = 0; v < RTL_DMA_MSIX_VECTORS; ++v) {
            h_.write32(2, 16 * v + 12, 0); // unmask
        }
        ring_ = h_.dma().alloc_coherent(64 * RTL_DMA_DESC_SIZE);
        h_.write32(0, RTL_DMA_RING_LO, static_cast<uint32_t>(ring_));
        h_.write32(0, RTL_DMA_RING_HI, static_cast<uint32_t>(ring_ >> 32));
        h_.write32(0, RTL_DMA_RING_ORDER, 6);
        h_.write32(0, RTL_DMA_CTRL, RTL_DMA_CTRL_ENABLE | RTL_DMA_CTRL_IRQ_EN);
    }

    pciem::SimHost& h() { return *host_; }
    pciem::rtl::RtlAdapter* adapter() {
        return kind_ == Kind::cpp ? nullptr : &static_cast<pciem::rtl::RtlModel&>(model_).adapter();
    }

    std::byte* desc(unsigned i) { return h().dma().coherent(ring_).data() + i * RTL_DMA_DESC_SIZE; }
    uint32_t status(unsigned i) {
        uint32_t v;
        std::memcpy(&v, desc(i) + RTL_DMA_D_STATUS, 4);
        return v;
    }

    void submit(uint32_t ctrl, uint32_t len, uint64_t src, uint64_t dst) {
        std::byte* d = desc(tail_);
        std::memcpy(d + RTL_DMA_D_CTRL, &ctrl, 4);
        std::memcpy(d + RTL_DMA_D_LEN, &len, 4);
        std::memcpy(d + RTL_DMA_D_SRC, &src, 8);
        std::memcpy(d + RTL_DMA_D_DST, &dst, 8);
        const uint32_t pending = 0xdeadbeef;
        std::memcpy(d + RTL_DMA_D_STATUS, &pending, 4);
        tail_ = (tail_ + 1) % 64;
        h().write32(0, RTL_DMA_TAIL, tail_);
    }

    // Waits as the driver does for its completion interrupt; the C++
    // model completes within the TAIL write.
    void settle() {
        if (auto* a = adapter(); a != nullptr) {
            if (kind_ == Kind::rtl_inline) {
                ASSERT_TRUE(a->run_until_idle(50'000'000));
            } else {
                ASSERT_TRUE(a->wait_idle(20s));
            }
        }
        h().poll_interrupts();
    }

    unsigned tail() const { return tail_; }

private:
    Kind kind_;
    pciem::DeviceModel& model_;
    std::unique_ptr<pciem::SimHost> host_;
    uint64_t ring_ = 0;
    unsigned tail_ = 0;
};

class DmaEngine : public ::testing::TestWithParam<Kind> {
protected:
    std::unique_ptr<pciem::DeviceModel> model_ = make_model(GetParam());
    Driver drv_{GetParam(), *model_};
};

TEST_P(DmaEngine, Identity) {
    auto& h = drv_.h();
    EXPECT_EQ(h.cfg_read(0, 2), RTL_DMA_VENDOR_ID);
    EXPECT_EQ(h.read32(0, RTL_DMA_ID), RTL_DMA_ID_VALUE);
    h.write32(0, RTL_DMA_SCRATCH, 0xa5a5f00d);
    EXPECT_EQ(h.read32(0, RTL_DMA_SCRATCH), 0xa5a5f00du);
    h.write8(0, RTL_DMA_SCRATCH + 1, 0x42);
    EXPECT_EQ(h.read32(0, RTL_DMA_SCRATCH), 0xa5a5420du);
    EXPECT_EQ(h.read16(0, RTL_DMA_SCRATCH + 2), 0xa5a5u);
    h.write64(0, RTL_DMA_RING_LO, 0x1122334455667788ull); // two 32-bit transactions
    EXPECT_EQ(h.read64(0, RTL_DMA_RING_LO), 0x1122334455667788ull);
    EXPECT_EQ(h.read32(0, 0x80), 0xffffffffu) << "undecoded offsets read all-ones";
    EXPECT_EQ(h.read32(0, RTL_DMA_STATUS), 0u);
}

TEST_P(DmaEngine, CopiesBitExactWithCompletionInterrupts) {
    auto& h = drv_.h();
    std::mt19937 rng(GetParam() == Kind::cpp ? 1 : 2);
    std::vector<std::byte> src(300000), dst(300000 + 64);
    for (auto& b : src) {
        b = static_cast<std::byte>(rng());
    }
    const uint64_t s = h.dma().map(src, DmaDirection::to_device);
    const uint64_t d = h.dma().map(dst, DmaDirection::from_device);
    const std::vector<uint32_t> sizes = {1, 4095, 4096, 4097, 65536 + 3, 200000};
    uint64_t off = 0;
    for (uint32_t n : sizes) {
        drv_.submit(RTL_DMA_OP_COPY | RTL_DMA_D_IRQ, n, s + off, d + off);
        drv_.settle();
        EXPECT_EQ(drv_.status(drv_.tail() - 1), RTL_DMA_ST_DONE) << n;
        EXPECT_EQ(std::memcmp(dst.data() + off, src.data() + off, n), 0) << n;
        EXPECT_EQ(h.take_interrupts(), std::vector{SimInterrupt::msix(RTL_DMA_VEC_DONE)}) << n;
        h.write32(0, RTL_DMA_IRQ_STATUS, RTL_DMA_IRQ_DONE);
        off += n;
        if (off + 200000 > src.size()) {
            off = 0;
        }
    }
    EXPECT_EQ(h.read32(0, RTL_DMA_COMPLETED), sizes.size());
    EXPECT_EQ(h.read32(0, RTL_DMA_HEAD), drv_.tail());
    // A FILL with no IRQ bit: no interrupt, the pattern in place.
    drv_.submit(RTL_DMA_OP_FILL, 1000, 0x0807060504030201ull, d + 7);
    drv_.settle();
    for (unsigned i = 0; i < 1000; ++i) {
        ASSERT_EQ(static_cast<unsigned>(dst[7 + i]), (i % 8) + 1) << i;
    }
    EXPECT_TRUE(h.take_interrupts().empty());
    EXPECT_TRUE(h.dma().faults().empty());
}

TEST_P(DmaEngine, SanitizerRefusalsHaltTheEngine) {
    auto& h = drv_.h();
    std::vector<std::byte> a(8192), b(8192);
    const uint64_t to_dev = h.dma().map(a, DmaDirection::to_device);
    const uint64_t from_dev = h.dma().map(b, DmaDirection::from_device);
    // The destination is a TO_DEVICE mapping: the write is refused.
    drv_.submit(RTL_DMA_OP_COPY | RTL_DMA_D_IRQ, 4096, to_dev, to_dev + 4096);
    drv_.settle();
    EXPECT_EQ(drv_.status(0), RTL_DMA_ST_ERROR | RTL_DMA_E_DST);
    EXPECT_EQ(h.read32(0, RTL_DMA_ERROR), unsigned{RTL_DMA_E_DST});
    EXPECT_EQ(h.read32(0, RTL_DMA_STATUS) & RTL_DMA_STATUS_HALTED, unsigned{RTL_DMA_STATUS_HALTED});
    EXPECT_EQ(h.take_interrupts(), std::vector{SimInterrupt::msix(RTL_DMA_VEC_ERROR)});
    auto faults = h.dma().take_faults();
    ASSERT_EQ(faults.size(), 1u);
    EXPECT_EQ(faults[0].kind, pciem::DmaFaultKind::direction);

    // Reset, then a read past the end of the source mapping.
    h.write32(0, RTL_DMA_CTRL, RTL_DMA_CTRL_RESET);
    h.write32(0, RTL_DMA_TAIL, 0);
    h.write32(0, RTL_DMA_CTRL, RTL_DMA_CTRL_ENABLE | RTL_DMA_CTRL_IRQ_EN);
    drv_.settle();
    EXPECT_EQ(h.read32(0, RTL_DMA_STATUS), 0u);
    EXPECT_EQ(h.read32(0, RTL_DMA_HEAD), 0u);
    // (the driver's own tail restarts at 1 past the failed one: rewrite it)
    std::byte* d0 = drv_.desc(0);
    const uint32_t ctrl = RTL_DMA_OP_COPY | RTL_DMA_D_IRQ;
    const uint32_t len = 8193;
    std::memcpy(d0 + RTL_DMA_D_CTRL, &ctrl, 4);
    std::memcpy(d0 + RTL_DMA_D_LEN, &len, 4);
    std::memcpy(d0 + RTL_DMA_D_SRC, &to_dev, 8);
    std::memcpy(d0 + RTL_DMA_D_DST, &from_dev, 8);
    h.write32(0, RTL_DMA_TAIL, 1);
    drv_.settle();
    EXPECT_EQ(drv_.status(0), RTL_DMA_ST_ERROR | RTL_DMA_E_SRC);
    faults = h.dma().take_faults();
    ASSERT_EQ(faults.size(), 1u);
    EXPECT_EQ(faults[0].kind, pciem::DmaFaultKind::bounds);
    // The two whole chunks before the refused one were copied.
    EXPECT_EQ(std::memcmp(a.data(), b.data(), 8192), 0);
}

TEST_P(DmaEngine, BusMasterOffIsRefused) {
    auto& h = drv_.h();
    std::vector<std::byte> a(64);
    const uint64_t d = h.dma().map(a, DmaDirection::bidirectional);
    h.cfg_write(0x04, 2, 0x0002); // Memory Space only
    drv_.submit(RTL_DMA_OP_FILL | RTL_DMA_D_IRQ, 64, 1, d);
    drv_.settle();
    EXPECT_EQ(h.read32(0, RTL_DMA_ERROR), unsigned{RTL_DMA_E_FETCH});
    EXPECT_EQ(h.take_interrupts(), std::vector{SimInterrupt::msix(RTL_DMA_VEC_ERROR)});
    EXPECT_FALSE(h.dma().faults().empty());
}

INSTANTIATE_TEST_SUITE_P(Models, DmaEngine,
                         ::testing::Values(Kind::rtl_thread, Kind::rtl_inline, Kind::cpp),
                         [](const auto& info) {
                             switch (info.param) {
                             case Kind::rtl_thread:
                                 return "rtl";
                             case Kind::rtl_inline:
                                 return "rtl_no_clock_thread";
                             default:
                                 return "cpp";
                             }
                         });

// ---- the adapter itself ----------------------------------------------------------

TEST(RtlAdapter, ATimedOutReadCompletesAsAllOnes) {
    pciem::rtl::RtlOptions opt;
    opt.read_timeout_cycles = 1; // the design answers in 2
    auto model = make_model(Kind::rtl_thread, opt);
    Driver drv(Kind::rtl_thread, *model);
    EXPECT_EQ(drv.h().read32(0, RTL_DMA_ID), 0xffffffffu);
    EXPECT_EQ(drv.h().read16(0, RTL_DMA_ID), 0xffffu);
    EXPECT_GE(drv.adapter()->stats().timeouts, 2u);
}

TEST(RtlAdapter, AnIdleDesignIsNotClocked) {
    auto model = make_model(Kind::rtl_thread);
    Driver drv(Kind::rtl_thread, *model);
    auto& a = *drv.adapter();
    ASSERT_TRUE(a.wait_idle(5s));
    const uint64_t c0 = a.cycle();
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(a.cycle(), c0);
    // One register read: a few cycles for the transaction, then the tail.
    const uint32_t cycles0 = drv.h().read32(0, RTL_DMA_CYCLES);
    ASSERT_TRUE(a.wait_idle(5s));
    std::this_thread::sleep_for(20ms);
    const uint32_t cycles1 = drv.h().read32(0, RTL_DMA_CYCLES);
    EXPECT_GT(cycles1, cycles0);
    EXPECT_LE(cycles1 - cycles0, pciem::rtl::RtlOptions{}.idle_tail_cycles + 8);
}

TEST(RtlAdapter, LogsTransactionsAndWritesWaveforms) {
    char* buf = nullptr;
    size_t len = 0;
    FILE* log = open_memstream(&buf, &len);
    ASSERT_NE(log, nullptr);
    const std::string vcd = ::testing::TempDir() + "rtl_dma_test.vcd";
    {
        pciem::rtl::RtlOptions opt;
        opt.log_transactions = true;
        opt.log = log;
        opt.trace_vcd = vcd;
        opt.trace_cycles = 60;
        auto model = make_model(Kind::rtl_inline, opt);
        Driver drv(Kind::rtl_inline, *model);
        std::vector<std::byte> a(100);
        const uint64_t d = drv.h().dma().map(a, DmaDirection::from_device);
        drv.submit(RTL_DMA_OP_FILL | RTL_DMA_D_IRQ, 100, 0x4242424242424242ull, d);
        drv.settle();
        EXPECT_EQ(static_cast<unsigned>(a[99]), 0x42u);
    }
    std::fclose(log);
    const std::string text(buf, len);
    std::free(buf);
    EXPECT_NE(text.find("write 0x001c <- 0x00000001"), std::string::npos) << text;
    EXPECT_NE(text.find("dma read  0x"), std::string::npos) << text;
    EXPECT_NE(text.find(" +100\n"), std::string::npos) << text;
    EXPECT_NE(text.find("irq 0: raised vector 0"), std::string::npos) << text;
    EXPECT_NE(text.find("trace: " + vcd + " closed after cycle 60"), std::string::npos) << text;

    std::ifstream in(vcd);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string wave = ss.str();
    EXPECT_NE(wave.find("$var wire  1 "), std::string::npos);
    EXPECT_NE(wave.find("s_axil_awvalid"), std::string::npos);
    EXPECT_NE(wave.find("dma_wr_req_valid"), std::string::npos);
    EXPECT_NE(wave.find("#595"), std::string::npos) << "the last half-cycle of the window";
    EXPECT_EQ(wave.find("#600"), std::string::npos) << "a dump after the window";
}

} // namespace
