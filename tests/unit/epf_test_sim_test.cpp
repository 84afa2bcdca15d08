// SPDX-License-Identifier: MIT
// The pci-epf-test compatible endpoint (devices/epf-test) on the SimHost,
// driven the way drivers/misc/pci_endpoint_test.c drives it: the BAR
// test, each interrupt command, READ/WRITE/COPY with and without the DMA
// flag, and every DMA fault ending with the failure status and the
// completion interrupt (the driver waits for it with no timeout).
#include <algorithm>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "epf_test.hpp"
#include "pciem/sim_host.hpp"

namespace epf = pciem::devices::epf;
using pciem::DmaDirection;
using pciem::SimInterrupt;

namespace {

constexpr uint16_t command_reg = 0x04;
constexpr uint16_t bus_master_and_memory = 0x0006;
constexpr uint16_t interrupt_disable = 0x0400;

std::vector<std::byte> random_bytes(size_t n, unsigned seed) {
    std::mt19937 gen(seed);
    std::vector<std::byte> v(n);
    for (auto& b : v) {
        b = std::byte(static_cast<uint8_t>(gen()));
    }
    return v;
}

uint32_t crc(std::span<const std::byte> data) {
    return epf::crc32_le(~0u, data);
}

class EpfSim : public ::testing::Test {
protected:
    void SetUp() override { make({}); }

    void make(const epf::Config& config) {
        host_.reset();
        config_ = config;
        ASSERT_TRUE(epf::validate(config_));
        model_ = std::make_unique<epf::EpfTest>(config_);
        model_->log_to([this](std::string_view line) { log_.emplace_back(line); });
        auto h = pciem::SimHost::create(*model_);
        ASSERT_TRUE(h) << h.error().message;
        host_ = std::move(*h);
        h_ = host_.get();
        h_->cfg_write(command_reg, 2, bus_master_and_memory);
    }

    uint32_t reg(uint64_t off) { return h_->read32(config_.test_bar, off); }
    void set(uint64_t off, uint32_t v) { h_->write32(config_.test_bar, off, v); }

    // What pci_endpoint_test_alloc_irq_vectors() leaves enabled.
    void use_msi(unsigned vectors) {
        const uint16_t msi = h_->config().layout.msi;
        const unsigned mme = static_cast<unsigned>(std::countr_zero(vectors));
        h_->cfg_write(static_cast<uint16_t>(msi + 2), 2, 1u | (mme << 4));
    }
    void use_msix(unsigned vectors) {
        const uint16_t msix = h_->config().layout.msix;
        h_->cfg_write(static_cast<uint16_t>(msix + 2), 2, 0x8000);
        for (unsigned v = 0; v < vectors; ++v) {
            h_->write32(config_.test_bar, epf::msix_table_offset + 16 * v + 12, 0);
        }
    }

    // pci_endpoint_test_{legacy,msi}_irq(): type, number, command.
    void raise(uint32_t type, uint32_t number, uint32_t command) {
        set(epf::reg_irq_type, type);
        set(epf::reg_irq_number, number);
        set(epf::reg_command, command);
    }

    // One transfer as the driver sets it up; returns STATUS afterwards.
    uint32_t transfer(uint32_t command, uint64_t src, uint64_t dst, uint32_t size, bool dma,
                      uint32_t checksum = 0) {
        set(epf::reg_checksum, checksum);
        set(epf::reg_src_lo, static_cast<uint32_t>(src));
        set(epf::reg_src_hi, static_cast<uint32_t>(src >> 32));
        set(epf::reg_dst_lo, static_cast<uint32_t>(dst));
        set(epf::reg_dst_hi, static_cast<uint32_t>(dst >> 32));
        set(epf::reg_size, size);
        set(epf::reg_flags, dma ? epf::flag_use_dma : 0);
        set(epf::reg_irq_type, epf::irq_type_msi);
        set(epf::reg_irq_number, 1);
        set(epf::reg_command, command);
        return reg(epf::reg_status);
    }

    // The completion interrupt the driver waits for: MSI vector 0, once.
    void expect_completion() {
        EXPECT_EQ(h_->take_interrupts(), std::vector{SimInterrupt::msi(0)});
    }

    epf::Config config_;
    std::unique_ptr<epf::EpfTest> model_;
    std::unique_ptr<pciem::SimHost> host_;
    pciem::SimHost* h_ = nullptr;
    std::vector<std::string> log_;
};

TEST(EpfCrc, IsTheKernelsCrc32Le) {
    const std::string check = "123456789";
    // The CRC-32 check value is 0xCBF43926 after the final inversion,
    // which crc32_le(~0, ...) leaves out.
    EXPECT_EQ(epf::crc32_le(~0u, std::as_bytes(std::span(check))), ~0xcbf43926u);
    EXPECT_EQ(epf::crc32_le(~0u, {}), ~0u);
    EXPECT_EQ(epf::crc32_le(0, std::as_bytes(std::span(check))), 0x2dfd2d88u);
}

TEST(EpfConfig, RefusesWhatTheHardwareCannotBe) {
    epf::Config c;
    EXPECT_TRUE(epf::validate(c));
    EXPECT_EQ(epf::test_bar_size(c), 64u * 1024) << "2048 MSI-X entries after 4 KiB";
    c.msix_vectors = 0;
    EXPECT_EQ(epf::test_bar_size(c), 512u);

    // Each change alone, and the word the message must name.
    const std::vector<std::pair<std::function<void(epf::Config&)>, std::string>> bad = {
        {[](epf::Config& k) { k.msi_vectors = 3; }, "MSI"},
        {[](epf::Config& k) { k.msi_vectors = 64; }, "MSI"},
        {[](epf::Config& k) { k.msix_vectors = 2049; }, "MSI-X"},
        {[](epf::Config& k) { k.bar_size[0] = 4096; }, "MSI-X"}, // table does not fit
        {[](epf::Config& k) { k.bar_size[3] = 3000; }, "BAR3"},
        {[](epf::Config& k) { k.test_bar = 6; }, "BAR"},
        {[](epf::Config& k) { k.pio_chunk = 0; }, "PIO"},
    };
    for (const auto& [change, word] : bad) {
        epf::Config k;
        change(k);
        auto r = epf::validate(k);
        ASSERT_FALSE(r) << word;
        EXPECT_NE(r.error().message.find(word), std::string::npos) << r.error().message;
    }
}

TEST_F(EpfSim, IdentityTheDriverBindsTo) {
    EXPECT_EQ(h_->cfg_read(0x00, 4), 0xb500104cu); // TI DRA74x: default_data
    EXPECT_EQ(h_->cfg_read(0x08, 4) >> 8, epf::class_others);
    EXPECT_EQ(h_->cfg_read(0x3d, 1), 1u) << "INTA";
    EXPECT_NE(h_->config().layout.msi, 0);
    EXPECT_NE(h_->config().layout.msix, 0);
    const uint64_t sizes[] = {64 * 1024, 512, 1024, 16384, 131072, 1048576};
    for (unsigned bar = 0; bar < 6; ++bar) {
        const uint16_t off = static_cast<uint16_t>(0x10 + 4 * bar);
        h_->cfg_write(off, 4, 0xffffffff);
        const uint32_t probe = h_->cfg_read(off, 4);
        EXPECT_EQ(probe & 0x6, 0u) << "BAR" << bar << " is 32-bit";
        EXPECT_EQ(~(probe & ~0xfu) + 1, sizes[bar]) << "BAR" << bar;
    }
}

// pci_endpoint_test_bar(): the 6.1 driver writes 0xA0A0A0A0 over every
// BAR (only the first word of the test BAR) and reads it back; 6.12
// writes 0xA0A0A0A0 + BAR * 0x01010101 with memcpy_toio.
TEST_F(EpfSim, EveryBarHoldsWhatTheBarTestWrites) {
    for (unsigned bar = 0; bar < 6; ++bar) {
        const uint64_t size = bar == 0 ? 4 : config_.bar_size[bar];
        for (uint32_t pattern : {0xa0a0a0a0u, 0xa0a0a0a0u + bar * 0x01010101u}) {
            for (uint64_t off = 0; off < size; off += 4) {
                h_->write32(bar, off, pattern);
            }
            bool all = true;
            for (uint64_t off = 0; off < size && all; off += 4) {
                all = h_->read32(bar, off) == pattern;
            }
            EXPECT_TRUE(all) << "BAR" << bar << " pattern " << std::hex << pattern;
        }
    }
    // Byte-wise too (memcpy_toio of an odd tail).
    h_->write8(1, 511, 0x5a);
    EXPECT_EQ(h_->read8(1, 511), 0x5a);
    EXPECT_EQ(reg(epf::reg_magic), 0xa0a0a0a0u) << "MAGIC is memory on the endpoint";
}

TEST_F(EpfSim, IntxIsAPulseTheHandlerSeesOnce) {
    raise(epf::irq_type_intx, 0, epf::cmd_raise_intx);
    EXPECT_EQ(h_->take_interrupts(), std::vector{SimInterrupt::intx()});
    EXPECT_FALSE(h_->intx_level()) << "the 6.12 driver never acknowledges: no held line";
    EXPECT_EQ(reg(epf::reg_status), epf::status_irq_raised);
    EXPECT_EQ(reg(epf::reg_command), 0u) << "taken commands are cleared";
    // 6.1's handler writes STATUS back without IRQ_RAISED.
    set(epf::reg_status, reg(epf::reg_status) & ~epf::status_irq_raised);
    EXPECT_EQ(reg(epf::reg_status), 0u);
    // Interrupt Disable gates it, as on the bus.
    h_->cfg_write(command_reg, 2, bus_master_and_memory | interrupt_disable);
    raise(epf::irq_type_intx, 0, epf::cmd_raise_intx);
    EXPECT_TRUE(h_->take_interrupts().empty());
}

TEST_F(EpfSim, MsiNumberNRaisesVectorNMinusOne) {
    use_msi(32);
    for (uint32_t n = 1; n <= 32; ++n) {
        raise(epf::irq_type_msi, n, epf::cmd_raise_msi);
        EXPECT_EQ(h_->take_interrupts(), std::vector{SimInterrupt::msi(n - 1)}) << "MSI " << n;
        EXPECT_EQ(reg(epf::reg_status), epf::status_irq_raised);
    }
    EXPECT_EQ(model_->stats().irqs_raised, 32u);
}

TEST_F(EpfSim, MsixNumberNRaisesVectorNMinusOneUpTo2048) {
    use_msix(2048);
    for (uint32_t n = 1; n <= 2048; ++n) {
        raise(epf::irq_type_msix, n, epf::cmd_raise_msix);
        ASSERT_EQ(h_->take_interrupts(), std::vector{SimInterrupt::msix(n - 1)}) << "MSI-X " << n;
    }
    EXPECT_EQ(model_->stats().irqs_failed, 0u);
}

TEST_F(EpfSim, ConfiguredVectorCounts) {
    epf::Config c;
    c.msi_vectors = 4;
    c.msix_vectors = 7;
    make(c);
    use_msi(4);
    raise(epf::irq_type_msi, 4, epf::cmd_raise_msi);
    EXPECT_EQ(h_->take_interrupts(), std::vector{SimInterrupt::msi(3)});
    // Past the vectors: nothing arrives (the driver's 1 s wait fails).
    raise(epf::irq_type_msi, 5, epf::cmd_raise_msi);
    EXPECT_TRUE(h_->take_interrupts().empty());
    raise(epf::irq_type_msi, 0, epf::cmd_raise_msi);
    EXPECT_TRUE(h_->take_interrupts().empty());
    EXPECT_EQ(model_->stats().irqs_failed, 2u);
    h_->cfg_write(static_cast<uint16_t>(h_->config().layout.msi + 2), 2, 0);
    use_msix(7);
    raise(epf::irq_type_msix, 7, epf::cmd_raise_msix);
    EXPECT_EQ(h_->take_interrupts(), std::vector{SimInterrupt::msix(6)});
}

TEST_F(EpfSim, UnknownIrqTypeOrCommandIsIgnored) {
    use_msi(1);
    raise(3, 1, epf::cmd_raise_msi);
    EXPECT_TRUE(h_->take_interrupts().empty());
    raise(epf::irq_type_msi, 1, epf::cmd_read | epf::cmd_write);
    EXPECT_TRUE(h_->take_interrupts().empty());
    raise(epf::irq_type_msi, 1, 1u << 9);
    EXPECT_TRUE(h_->take_interrupts().empty());
    EXPECT_EQ(model_->stats().commands_ignored, 3u);
    EXPECT_EQ(log_.size(), 3u);
}

// The driver's sizes (pcitest.sh), each with and without FLAG_USE_DMA.
class EpfTransfer : public EpfSim,
                    public ::testing::WithParamInterface<std::tuple<uint32_t, bool>> {
protected:
    // pci_endpoint_test maps size + alignment and aligns the start.
    static constexpr uint32_t alignment = 4096;
};

// PCITEST_WRITE: the device READs what the driver offers and checks it
// against CHECKSUM.
TEST_P(EpfTransfer, DeviceReadChecksTheDriversCrc) {
    const auto [size, dma] = GetParam();
    use_msi(32);
    auto buf = random_bytes(size + alignment, size);
    const uint64_t bus = h_->dma().map(buf, DmaDirection::to_device);
    const uint64_t src = (bus + alignment - 1) & ~uint64_t{alignment - 1};
    const auto data = std::span(buf).subspan(src - bus, size);
    EXPECT_EQ(transfer(epf::cmd_read, src, 0, size, dma, crc(data)),
              epf::status_read_success | epf::status_irq_raised);
    expect_completion();
    // A wrong CHECKSUM fails, still with the interrupt.
    EXPECT_EQ(transfer(epf::cmd_read, src, 0, size, dma, crc(data) ^ 1),
              epf::status_read_fail | epf::status_irq_raised);
    expect_completion();
    EXPECT_TRUE(h_->dma().faults().empty());
}

// PCITEST_READ: the device WRITEs random bytes and their CRC.
TEST_P(EpfTransfer, DeviceWriteLeavesItsCrcInChecksum) {
    const auto [size, dma] = GetParam();
    use_msi(32);
    std::vector<std::byte> buf(size + alignment);
    const uint64_t dst = h_->dma().map(buf, DmaDirection::from_device);
    EXPECT_EQ(transfer(epf::cmd_write, 0, dst, size, dma),
              epf::status_write_success | epf::status_irq_raised);
    expect_completion();
    const uint32_t first = reg(epf::reg_checksum);
    EXPECT_EQ(crc(std::span(buf).first(size)), first);
    EXPECT_TRUE(std::all_of(buf.begin() + size, buf.end(), [](std::byte b) {
        return b == std::byte{0};
    })) << "nothing past SIZE";
    // Fresh bytes every time.
    EXPECT_EQ(transfer(epf::cmd_write, 0, dst, size, dma),
              epf::status_write_success | epf::status_irq_raised);
    expect_completion();
    EXPECT_EQ(crc(std::span(buf).first(size)), reg(epf::reg_checksum));
    if (size >= 4) {
        EXPECT_NE(first, reg(epf::reg_checksum));
    }
}

TEST_P(EpfTransfer, CopyMovesSourceToDestination) {
    const auto [size, dma] = GetParam();
    use_msi(32);
    auto src = random_bytes(size, ~size);
    std::vector<std::byte> dst(size);
    const uint64_t s = h_->dma().map(src, DmaDirection::to_device);
    const uint64_t d = h_->dma().map(dst, DmaDirection::from_device);
    EXPECT_EQ(transfer(epf::cmd_copy, s, d, size, dma),
              epf::status_copy_success | epf::status_irq_raised);
    expect_completion();
    EXPECT_EQ(dst, src);
    EXPECT_TRUE(h_->dma().faults().empty());
}

INSTANTIATE_TEST_SUITE_P(PcitestSizes, EpfTransfer,
                         ::testing::Combine(::testing::Values(1u, 1024u, 1025u, 1024000u, 1024001u),
                                            ::testing::Bool()),
                         [](const auto& info) {
                             return std::to_string(std::get<0>(info.param)) +
                                    (std::get<1>(info.param) ? "_dma" : "_pio");
                         });

// Any DMA fault ends the command with the failure bits, the side's
// ADDR_INVALID bit and the completion interrupt.
TEST_F(EpfSim, DmaFaultsFailWithTheCompletionInterrupt) {
    use_msi(1);
    auto src = random_bytes(8192, 1);
    std::vector<std::byte> dst(8192);
    const uint64_t s = h_->dma().map(src, DmaDirection::to_device);
    const uint64_t d = h_->dma().map(dst, DmaDirection::from_device);
    for (bool dma : {false, true}) {
        // Unmapped source.
        EXPECT_EQ(transfer(epf::cmd_read, 0x1000, 0, 100, dma),
                  epf::status_src_addr_invalid | epf::status_read_fail | epf::status_irq_raised);
        expect_completion();
        // Past the end of the mapping.
        EXPECT_EQ(transfer(epf::cmd_read, s + 8000, 0, 1000, dma),
                  epf::status_src_addr_invalid | epf::status_read_fail | epf::status_irq_raised);
        expect_completion();
        // Writing a TO_DEVICE mapping.
        EXPECT_EQ(transfer(epf::cmd_write, 0, s, 100, dma),
                  epf::status_dst_addr_invalid | epf::status_write_fail | epf::status_irq_raised);
        expect_completion();
        // COPY: a bad destination after a good source.
        EXPECT_EQ(transfer(epf::cmd_copy, s, s, 100, dma),
                  epf::status_dst_addr_invalid | epf::status_copy_fail | epf::status_irq_raised);
        expect_completion();
        // COPY: reading a FROM_DEVICE mapping.
        EXPECT_EQ(transfer(epf::cmd_copy, d, d, 100, dma),
                  epf::status_src_addr_invalid | epf::status_copy_fail | epf::status_irq_raised);
        expect_completion();
    }
    EXPECT_EQ(dst, std::vector<std::byte>(8192)) << "refused accesses write nothing";
    // After unmap.
    h_->dma().unmap(d);
    EXPECT_EQ(transfer(epf::cmd_write, 0, d, 16, true),
              epf::status_dst_addr_invalid | epf::status_write_fail | epf::status_irq_raised);
    expect_completion();
    // Bus mastering off.
    h_->cfg_write(command_reg, 2, 0x0002);
    EXPECT_EQ(transfer(epf::cmd_copy, s, d, 16, false),
              epf::status_src_addr_invalid | epf::status_copy_fail | epf::status_irq_raised);
    expect_completion();
    EXPECT_EQ(model_->stats().transfers_failed, 12u);
    EXPECT_EQ(model_->stats().transfers_ok, 0u);
    EXPECT_FALSE(log_.empty());
}

// Without the DMA flag data moves in --pio-chunk pieces, as CPU copies
// through an outbound window do: a fault stops after the pieces before
// it. With the flag it is one transfer, refused whole.
TEST_F(EpfSim, PioMovesInChunksDmaInOneTransfer) {
    use_msi(1);
    std::vector<std::byte> dst(6000);
    const uint64_t d = h_->dma().map(dst, DmaDirection::from_device);
    EXPECT_EQ(transfer(epf::cmd_write, 0, d, 8192, true),
              epf::status_dst_addr_invalid | epf::status_write_fail | epf::status_irq_raised);
    expect_completion();
    EXPECT_EQ(dst, std::vector<std::byte>(6000));
    EXPECT_EQ(transfer(epf::cmd_write, 0, d, 8192, false),
              epf::status_dst_addr_invalid | epf::status_write_fail | epf::status_irq_raised);
    expect_completion();
    EXPECT_TRUE(std::any_of(dst.begin(), dst.begin() + 4096,
                            [](std::byte b) { return b != std::byte{0}; }));
    EXPECT_TRUE(
        std::all_of(dst.begin() + 4096, dst.end(), [](std::byte b) { return b == std::byte{0}; }));
}

TEST_F(EpfSim, NoHostMeansFailureNotAHang) {
    // What the model sees on a kernel without DMA support: every access
    // refused. The command must still complete.
    use_msi(1);
    // A second hold on the model that takes its DMA away. When it goes it
    // lets go of everything, the SimHost's interrupts included: the test
    // ends there.
    pciem::ModelBinding no_dma(*model_);
    no_dma.dma(nullptr);
    EXPECT_EQ(transfer(epf::cmd_write, 0, 0x1000, 1024, true),
              epf::status_dst_addr_invalid | epf::status_write_fail | epf::status_irq_raised);
    expect_completion();
    ASSERT_FALSE(log_.empty());
    EXPECT_NE(log_.back().find("no host"), std::string::npos) << log_.back();
}

TEST_F(EpfSim, OversizedTransfersFailWithTheInterrupt) {
    epf::Config c;
    c.max_transfer = 4096;
    make(c);
    use_msi(1);
    EXPECT_EQ(transfer(epf::cmd_read, 0, 0, 4097, false),
              epf::status_src_addr_invalid | epf::status_read_fail | epf::status_irq_raised);
    expect_completion();
    EXPECT_EQ(transfer(epf::cmd_write, 0, 0, 4097, false),
              epf::status_dst_addr_invalid | epf::status_write_fail | epf::status_irq_raised);
    expect_completion();
    EXPECT_EQ(transfer(epf::cmd_copy, 0, 0, 4097, false),
              epf::status_src_addr_invalid | epf::status_copy_fail | epf::status_irq_raised);
    expect_completion();
}

TEST_F(EpfSim, CompletionUsesTheAskedTypeAndNumber) {
    std::vector<std::byte> dst(64);
    const uint64_t d = h_->dma().map(dst, DmaDirection::from_device);
    set(epf::reg_dst_lo, static_cast<uint32_t>(d));
    set(epf::reg_dst_hi, static_cast<uint32_t>(d >> 32));
    set(epf::reg_size, 64);
    set(epf::reg_flags, 0);
    // INTx (irq_type module parameter 0).
    raise(epf::irq_type_intx, 1, epf::cmd_write);
    EXPECT_EQ(h_->take_interrupts(), std::vector{SimInterrupt::intx()});
    // MSI-X, vector 3.
    use_msix(8);
    raise(epf::irq_type_msix, 4, epf::cmd_write);
    EXPECT_EQ(h_->take_interrupts(), std::vector{SimInterrupt::msix(3)});
    EXPECT_EQ(reg(epf::reg_status), epf::status_write_success | epf::status_irq_raised);
}

TEST_F(EpfSim, HandlerReadsStatusFromTheShadow) {
    use_msi(1);
    const uint64_t before = h_->stats().shadow_reads;
    raise(epf::irq_type_msi, 1, epf::cmd_raise_msi);
    EXPECT_EQ(reg(epf::reg_status), epf::status_irq_raised) << "the shadow is current";
    EXPECT_EQ(h_->stats().shadow_reads, before + 1);
}

TEST_F(EpfSim, TestRegistersInAnotherBar) {
    // TI AM654 (104c:b00c): am654_data puts them in BAR2.
    epf::Config c;
    c.vendor = 0x104c;
    c.device = 0xb00c;
    c.test_bar = 2;
    c.bar_size[0] = 4096;
    c.bar_size[2] = 0;
    make(c);
    EXPECT_EQ(h_->cfg_read(0x00, 4), 0xb00c104cu);
    use_msix(16);
    raise(epf::irq_type_msix, 16, epf::cmd_raise_msix);
    EXPECT_EQ(h_->take_interrupts(), std::vector{SimInterrupt::msix(15)});
    h_->write32(0, 0, 0xa0a0a0a0);
    EXPECT_EQ(h_->read32(0, 0), 0xa0a0a0a0u);
}

} // namespace
