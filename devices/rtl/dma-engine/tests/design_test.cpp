// SPDX-License-Identifier: MIT
//
// The DMA engine's design alone, against a C++ testbench: its own
// AXI4-Lite master and a DMA responder over a flat host memory, written
// from the interface description in docs/rtl.md, not from the adapter.
// The responder can stall every handshake at random (the adapter never
// does), so the design is checked against back-pressure too.
#include <cstring>
#include <map>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include <rtl_dma_regs.h>

#include "Vdma_engine.h"

namespace {

constexpr uint64_t mem_base = 0x10000000;
constexpr size_t mem_size = 1 << 20;

class Bench {
public:
    explicit Bench(unsigned stall_percent = 0, uint32_t seed = 1)
        : top_(&ctx_, "tb"), stall_(stall_percent), rng_(seed), mem_(mem_size) {
        top_.s_axil_bready = 1;
        top_.s_axil_rready = 1;
        top_.rst_n = 0;
        for (int i = 0; i < 4; ++i) {
            cycle();
        }
        top_.rst_n = 1;
    }

    // ---- AXI4-Lite master ------------------------------------------------
    // Returns {data, resp}.
    std::pair<uint32_t, unsigned> read(uint32_t addr) {
        top_.s_axil_arvalid = 1;
        top_.s_axil_araddr = addr;
        for (int n = 0; n < 100; ++n) {
            settle();
            const bool ar = top_.s_axil_arready;
            cycle();
            if (ar) {
                break;
            }
        }
        top_.s_axil_arvalid = 0;
        for (int n = 0; n < 100; ++n) {
            settle();
            if (top_.s_axil_rvalid) {
                const std::pair<uint32_t, unsigned> r{top_.s_axil_rdata, top_.s_axil_rresp};
                cycle();
                return r;
            }
            cycle();
        }
        ADD_FAILURE() << "no read response at " << addr;
        return {~0u, 3};
    }

    unsigned write(uint32_t addr, uint32_t data, uint8_t strb = 0xf) {
        top_.s_axil_awvalid = 1;
        top_.s_axil_awaddr = addr;
        top_.s_axil_wvalid = 1;
        top_.s_axil_wdata = data;
        top_.s_axil_wstrb = strb;
        for (int n = 0; n < 100 && (top_.s_axil_awvalid || top_.s_axil_wvalid); ++n) {
            settle();
            const bool aw = top_.s_axil_awready;
            const bool w = top_.s_axil_wready;
            cycle();
            if (aw) {
                top_.s_axil_awvalid = 0;
            }
            if (w) {
                top_.s_axil_wvalid = 0;
            }
        }
        for (int n = 0; n < 100; ++n) {
            settle();
            if (top_.s_axil_bvalid) {
                const unsigned resp = top_.s_axil_bresp;
                cycle();
                return resp;
            }
            cycle();
        }
        ADD_FAILURE() << "no write response at " << addr;
        return 3;
    }
    uint32_t reg(uint32_t addr) { return read(addr).first; }

    // Runs until busy stays low for a while; false after max cycles.
    bool run_idle(uint64_t max = 2'000'000) {
        unsigned quiet = 0;
        for (uint64_t n = 0; n < max; ++n) {
            settle();
            quiet = top_.busy ? 0 : quiet + 1;
            if (quiet > 16) {
                return true;
            }
            cycle();
        }
        return false;
    }

    // ---- host memory -------------------------------------------------------
    std::byte* at(uint64_t bus) { return mem_.data() + (bus - mem_base); }
    void put32(uint64_t bus, uint32_t v) { std::memcpy(at(bus), &v, 4); }
    void put64(uint64_t bus, uint64_t v) { std::memcpy(at(bus), &v, 8); }
    uint32_t get32(uint64_t bus) {
        uint32_t v;
        std::memcpy(&v, at(bus), 4);
        return v;
    }
    // Bus ranges the responder refuses (an error beat / error done).
    std::vector<std::pair<uint64_t, uint64_t>> refuse;

    unsigned irq_pulses[2] = {0, 0};
    uint64_t max_burst = 0;

private:
    bool ok(uint64_t addr, uint64_t len) const {
        if (addr < mem_base || addr + len > mem_base + mem_size) {
            return false;
        }
        for (auto [a, l] : refuse) {
            if (addr < a + l && a < addr + len) {
                return false;
            }
        }
        return true;
    }
    bool go() { return stall_ == 0 || rng_() % 100 >= stall_; }

    void settle() {
        drive_dma();
        top_.clk = 0;
        top_.eval();
    }

    void drive_dma() {
        top_.dma_rd_req_ready = !rd_active_ && go();
        top_.dma_rd_valid = rd_active_ && go();
        if (rd_active_) {
            uint64_t data = 0;
            const size_t at = rd_beat_ * 8;
            if (!rd_err_) {
                std::memcpy(&data, this->at(rd_addr_) + at, std::min<size_t>(8, rd_len_ - at));
            }
            top_.dma_rd_data = data;
            top_.dma_rd_last = rd_err_ || at + 8 >= rd_len_;
            top_.dma_rd_err = rd_err_;
        }
        top_.dma_wr_req_ready = wr_state_ == 0 && go();
        top_.dma_wr_ready = wr_state_ == 1 && go();
        top_.dma_wr_done = wr_state_ == 2 && go();
        top_.dma_wr_err = top_.dma_wr_done && wr_err_;
    }

    // One clock: outputs sampled before the edge decide the handshakes.
    void cycle() {
        settle();
        const bool rd_req = top_.dma_rd_req_valid && top_.dma_rd_req_ready;
        const uint64_t rd_addr = top_.dma_rd_req_addr;
        const unsigned rd_len = top_.dma_rd_req_len;
        const bool rd_beat = top_.dma_rd_valid && top_.dma_rd_ready;
        const bool rd_last = top_.dma_rd_last;
        const bool wr_req = top_.dma_wr_req_valid && top_.dma_wr_req_ready;
        const uint64_t wr_addr = top_.dma_wr_req_addr;
        const unsigned wr_len = top_.dma_wr_req_len;
        const bool wr_beat = top_.dma_wr_valid && top_.dma_wr_ready;
        const uint64_t wr_data = top_.dma_wr_data;
        const bool wr_done = top_.dma_wr_done;
        const uint8_t irq = top_.irq;
        top_.clk = 1;
        top_.eval();

        for (unsigned i = 0; i < 2; ++i) {
            if ((irq & ~irq_prev_ & (1u << i)) != 0) {
                ++irq_pulses[i];
            }
        }
        irq_prev_ = irq;
        if (rd_req) {
            rd_active_ = true;
            rd_addr_ = rd_addr;
            rd_len_ = rd_len;
            rd_beat_ = 0;
            rd_err_ = rd_len == 0 || rd_len > 4096 || !ok(rd_addr, rd_len);
            max_burst = std::max<uint64_t>(max_burst, rd_len);
        } else if (rd_beat) {
            ++rd_beat_;
            rd_active_ = !rd_last;
        }
        if (wr_req) {
            wr_state_ = 1;
            wr_addr_ = wr_addr;
            wr_buf_.assign(wr_len, std::byte{0});
            wr_beat_ = 0;
            max_burst = std::max<uint64_t>(max_burst, wr_len);
        } else if (wr_beat) {
            const size_t pos = wr_beat_ * 8;
            std::memcpy(wr_buf_.data() + pos, &wr_data, std::min<size_t>(8, wr_buf_.size() - pos));
            if (++wr_beat_ * 8 >= wr_buf_.size()) {
                wr_err_ = wr_buf_.size() > 4096 || !ok(wr_addr_, wr_buf_.size());
                if (!wr_err_) {
                    std::memcpy(at(wr_addr_), wr_buf_.data(), wr_buf_.size());
                }
                wr_state_ = 2;
            }
        } else if (wr_done) {
            wr_state_ = 0;
        }
    }

    VerilatedContext ctx_;
    Vdma_engine top_;
    unsigned stall_;
    std::mt19937 rng_;
    std::vector<std::byte> mem_;
    uint8_t irq_prev_ = 0;
    bool rd_active_ = false;
    uint64_t rd_addr_ = 0;
    size_t rd_len_ = 0;
    size_t rd_beat_ = 0;
    bool rd_err_ = false;
    int wr_state_ = 0; // 0 idle, 1 collecting beats, 2 signalling done
    uint64_t wr_addr_ = 0;
    std::vector<std::byte> wr_buf_;
    size_t wr_beat_ = 0;
    bool wr_err_ = false;
};

constexpr uint64_t ring = mem_base; // 64 entries
constexpr uint64_t data = mem_base + 0x10000;

void setup_ring(Bench& b, unsigned order) {
    b.write(RTL_DMA_RING_LO, static_cast<uint32_t>(ring));
    b.write(RTL_DMA_RING_HI, static_cast<uint32_t>(ring >> 32));
    b.write(RTL_DMA_RING_ORDER, order);
    b.write(RTL_DMA_CTRL, RTL_DMA_CTRL_ENABLE | RTL_DMA_CTRL_IRQ_EN);
}

void put_desc(Bench& b, unsigned index, uint32_t ctrl, uint32_t len, uint64_t src, uint64_t dst) {
    const uint64_t d = ring + index * RTL_DMA_DESC_SIZE;
    b.put32(d + RTL_DMA_D_CTRL, ctrl);
    b.put32(d + RTL_DMA_D_LEN, len);
    b.put64(d + RTL_DMA_D_SRC, src);
    b.put64(d + RTL_DMA_D_DST, dst);
    b.put32(d + RTL_DMA_D_STATUS, 0xdeadbeef);
}

TEST(DmaEngineDesign, RegistersMatchTheHeader) {
    Bench b;
    EXPECT_EQ(b.reg(RTL_DMA_ID), RTL_DMA_ID_VALUE);
    EXPECT_EQ(b.reg(RTL_DMA_VERSION), 0x00010000u);
    EXPECT_EQ(b.write(RTL_DMA_SCRATCH, 0x12345678), 0u);
    EXPECT_EQ(b.reg(RTL_DMA_SCRATCH), 0x12345678u);
    b.write(RTL_DMA_SCRATCH, 0x0000ab00, 0x2); // one byte lane
    EXPECT_EQ(b.reg(RTL_DMA_SCRATCH), 0x1234ab78u);
    b.write(RTL_DMA_RING_ORDER, 15);
    EXPECT_EQ(b.reg(RTL_DMA_RING_ORDER), unsigned{RTL_DMA_MAX_ORDER});
    b.write(RTL_DMA_CTRL, 0xffffffff & ~RTL_DMA_CTRL_RESET);
    EXPECT_EQ(b.reg(RTL_DMA_CTRL), RTL_DMA_CTRL_ENABLE | RTL_DMA_CTRL_IRQ_EN);
    EXPECT_EQ(b.reg(RTL_DMA_STATUS), 0u);
    // Undecoded offsets answer DECERR on both channels.
    EXPECT_EQ(b.read(0x100).second, 3u);
    EXPECT_EQ(b.read(0x38).second, 3u);
    EXPECT_EQ(b.write(0x200, 1), 3u);
    // CYCLES counts every clock.
    const uint32_t c0 = b.reg(RTL_DMA_CYCLES);
    const uint32_t c1 = b.reg(RTL_DMA_CYCLES);
    EXPECT_GT(c1, c0);
    EXPECT_LT(c1 - c0, 10u);
}

class DmaEngineTransfers : public ::testing::TestWithParam<unsigned> {};

TEST_P(DmaEngineTransfers, CopiesAndFillsBitExact) {
    Bench b(GetParam(), 7 + GetParam());
    std::mt19937 rng(42);
    for (size_t i = 0; i < 0x40000; ++i) {
        *b.at(data + i) = static_cast<std::byte>(rng());
    }
    setup_ring(b, 6);
    const std::vector<uint32_t> sizes = {1, 7, 8, 9, 4095, 4096, 4097, 12345};
    uint64_t dst = data + 0x20000;
    std::vector<uint64_t> dsts;
    unsigned i = 0;
    for (uint32_t n : sizes) {
        put_desc(b, i, RTL_DMA_OP_COPY | RTL_DMA_D_IRQ, n, data + 3 * (i + 1), dst);
        ++i;
        dsts.push_back(dst);
        dst += n + 16;
    }
    const uint64_t pattern = 0x0123456789abcdefull;
    put_desc(b, i++, RTL_DMA_OP_FILL, 5000, pattern, dst); // no IRQ bit
    std::memset(b.at(dst + 5000), 0x5a, 16);
    b.write(RTL_DMA_TAIL, i);
    ASSERT_TRUE(b.run_idle());

    EXPECT_EQ(b.reg(RTL_DMA_HEAD), i);
    EXPECT_EQ(b.reg(RTL_DMA_COMPLETED), i);
    EXPECT_EQ(b.reg(RTL_DMA_ERROR), 0u);
    EXPECT_EQ(b.reg(RTL_DMA_IRQ_STATUS), unsigned{RTL_DMA_IRQ_DONE});
    EXPECT_EQ(b.irq_pulses[0], sizes.size());
    EXPECT_EQ(b.irq_pulses[1], 0u);
    EXPECT_LE(b.max_burst, 4096u);
    for (unsigned k = 0; k < sizes.size(); ++k) {
        EXPECT_EQ(std::memcmp(b.at(dsts[k]), b.at(data + 3 * (k + 1)), sizes[k]), 0) << sizes[k];
        EXPECT_EQ(b.get32(ring + k * RTL_DMA_DESC_SIZE + RTL_DMA_D_STATUS), RTL_DMA_ST_DONE);
    }
    for (unsigned k = 0; k < 5000; ++k) {
        ASSERT_EQ(static_cast<uint8_t>(*b.at(dst + k)),
                  static_cast<uint8_t>(pattern >> (8 * (k % 8))))
            << k;
    }
    EXPECT_EQ(static_cast<uint8_t>(*b.at(dst + 5000)), 0x5a) << "FILL wrote past its end";
    b.write(RTL_DMA_IRQ_STATUS, RTL_DMA_IRQ_DONE);
    EXPECT_EQ(b.reg(RTL_DMA_IRQ_STATUS), 0u);
}

INSTANTIATE_TEST_SUITE_P(Stalls, DmaEngineTransfers, ::testing::Values(0u, 30u, 70u),
                         [](const auto& info) { return "stall" + std::to_string(info.param); });

TEST(DmaEngineDesign, RingWrapsAround) {
    Bench b;
    setup_ring(b, 2); // 4 entries
    for (unsigned round = 0; round < 3; ++round) {
        for (unsigned k = 0; k < 3; ++k) {
            const unsigned idx = (round * 3 + k) % 4;
            put_desc(b, idx, RTL_DMA_OP_FILL | RTL_DMA_D_IRQ, 8, round * 3 + k, data + 64 * idx);
        }
        b.write(RTL_DMA_TAIL, (round * 3 + 3) % 4);
        ASSERT_TRUE(b.run_idle());
        EXPECT_EQ(b.reg(RTL_DMA_HEAD), (round * 3 + 3) % 4);
    }
    EXPECT_EQ(b.reg(RTL_DMA_COMPLETED), 9u);
    EXPECT_EQ(b.irq_pulses[0], 9u);
}

struct Fault {
    const char* name;
    uint32_t code;
};

TEST(DmaEngineDesign, FaultsHaltWithTheirCode) {
    for (const auto& [name, code] :
         {Fault{"src", RTL_DMA_E_SRC}, Fault{"dst", RTL_DMA_E_DST},
          Fault{"opcode", RTL_DMA_E_OPCODE}, Fault{"length", RTL_DMA_E_LENGTH},
          Fault{"fetch", RTL_DMA_E_FETCH}}) {
        SCOPED_TRACE(name);
        Bench b;
        setup_ring(b, 3);
        put_desc(b, 0, RTL_DMA_OP_COPY | RTL_DMA_D_IRQ, 16, data, data + 0x100); // fine
        put_desc(b, 1, code == RTL_DMA_E_OPCODE ? 7u : RTL_DMA_OP_COPY | RTL_DMA_D_IRQ,
                 code == RTL_DMA_E_LENGTH ? 0u : 10000u, data, data + 0x4000);
        put_desc(b, 2, RTL_DMA_OP_COPY | RTL_DMA_D_IRQ, 16, data, data + 0x200); // never run
        if (code == RTL_DMA_E_SRC) {
            b.refuse.emplace_back(data + 4096, 1); // the second chunk
        } else if (code == RTL_DMA_E_DST) {
            b.refuse.emplace_back(data + 0x4000 + 8192, 1); // the third chunk
        } else if (code == RTL_DMA_E_FETCH) {
            b.refuse.emplace_back(ring + RTL_DMA_DESC_SIZE, 8);
        }
        b.write(RTL_DMA_TAIL, 3);
        ASSERT_TRUE(b.run_idle());
        EXPECT_EQ(b.reg(RTL_DMA_HEAD), 1u);
        EXPECT_EQ(b.reg(RTL_DMA_COMPLETED), 1u);
        EXPECT_EQ(b.reg(RTL_DMA_ERROR), code);
        EXPECT_EQ(b.reg(RTL_DMA_STATUS), unsigned{RTL_DMA_STATUS_HALTED});
        EXPECT_EQ(b.reg(RTL_DMA_IRQ_STATUS), unsigned{RTL_DMA_IRQ_DONE | RTL_DMA_IRQ_ERROR});
        EXPECT_EQ(b.irq_pulses[1], 1u);
        EXPECT_EQ(b.get32(ring + RTL_DMA_DESC_SIZE + RTL_DMA_D_STATUS), RTL_DMA_ST_ERROR | code);
        EXPECT_EQ(b.get32(ring + 2 * RTL_DMA_DESC_SIZE + RTL_DMA_D_STATUS), 0xdeadbeefu);
        if (code == RTL_DMA_E_DST) { // the first two chunks landed
            EXPECT_EQ(std::memcmp(b.at(data + 0x4000), b.at(data), 8192), 0);
        }
        // RESET clears the error; the engine runs again from index 0.
        b.refuse.clear();
        // RESET with ENABLE clear, then TAIL back to 0 before enabling,
        // or the engine would run the old descriptors again.
        b.write(RTL_DMA_CTRL, RTL_DMA_CTRL_RESET);
        b.write(RTL_DMA_TAIL, 0);
        b.write(RTL_DMA_CTRL, RTL_DMA_CTRL_ENABLE);
        ASSERT_TRUE(b.run_idle());
        EXPECT_EQ(b.reg(RTL_DMA_STATUS), 0u);
        EXPECT_EQ(b.reg(RTL_DMA_ERROR), 0u);
        EXPECT_EQ(b.reg(RTL_DMA_HEAD), 0u);
        put_desc(b, 0, RTL_DMA_OP_FILL, 8, 0x1111111111111111, data + 0x300);
        b.write(RTL_DMA_TAIL, 1);
        ASSERT_TRUE(b.run_idle());
        EXPECT_EQ(b.reg(RTL_DMA_COMPLETED), 1u);
        EXPECT_EQ(b.get32(data + 0x300), 0x11111111u);
    }
}

TEST(DmaEngineDesign, DisabledEngineRunsNothingAndIsIdle) {
    Bench b;
    setup_ring(b, 3);
    b.write(RTL_DMA_CTRL, 0);
    put_desc(b, 0, RTL_DMA_OP_FILL, 8, 1, data);
    b.write(RTL_DMA_TAIL, 1);
    ASSERT_TRUE(b.run_idle(100)) << "busy without ENABLE";
    EXPECT_EQ(b.reg(RTL_DMA_HEAD), 0u);
    b.write(RTL_DMA_CTRL, RTL_DMA_CTRL_ENABLE);
    ASSERT_TRUE(b.run_idle());
    EXPECT_EQ(b.reg(RTL_DMA_HEAD), 1u);
    EXPECT_EQ(b.irq_pulses[0], 0u) << "IRQ_EN is off";
}

} // namespace
