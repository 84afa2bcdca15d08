// SPDX-License-Identifier: MIT
//
// The PCIem test device (testdev_regs.h): a BAR of
// registers whose semantics a wrong emulation would break, a RAM BAR and
// interrupts (MSI, MSI-X, INTx, irqfd storms), for the kernel test driver
// that runs every MMIO accessor and interrupt path against it.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <thread>
#include <vector>

#include "testdev_regs.h"

#include "pciem/device_model.hpp"

namespace pciem::devices {

class TestDev : public DeviceModel {
public:
    TestDev();
    TestDev(const TestDev&) = delete;
    TestDev& operator=(const TestDev&) = delete;
    TestDev(TestDev&&) = delete;
    TestDev& operator=(TestDev&&) = delete;
    ~TestDev() override;

    [[nodiscard]] DeviceSpec spec() const override;
    // Ends a running interrupt storm: the host is going away.
    void on_stop() override;
    // Mirrors the driver's interrupt configuration for IRQCFG_*.
    void on_irq_config(const IrqConfigEvent& event) override;

private:
    void declare_identity(RegisterMap& regs);
    void declare_latches(RegisterMap& regs);
    void declare_fifo(RegisterMap& regs);
    void declare_timing(RegisterMap& regs);
    void declare_shadowed(RegisterMap& regs);
    void declare_ram(RegisterMap& regs);
    void declare_irq(RegisterMap& regs);
    void declare_dma(RegisterMap& regs);
    void dma_command(uint32_t cmd);
    DmaResult<void> dma_in(uint64_t address, std::span<std::byte> buf);
    DmaResult<void> dma_out(uint64_t address, std::span<const std::byte> buf);
    std::optional<uint64_t> pop_fifo();
    // BAR2 byte offset of the dword RAM_PEEK/RAM_POKE address.
    [[nodiscard]] uint64_t peek_offset() const;
    void raise(uint32_t vector);
    void start_storm();
    void stop_storm();

    Register* status_ = nullptr; // STATUS, set by STATUS_SET and FIFO underflow
    Register* rc_ = nullptr;     // RC, set by RC_SET
    Register* delay_us_ = nullptr;
    uint32_t counter_ = 0;
    uint32_t write_count_ = 0;
    uint32_t last_write_ = 0;
    std::deque<uint32_t> fifo_;
    Register* peek_off_ = nullptr;
    Register* storm_count_ = nullptr;
    Register* storm_nvec_ = nullptr;
    Register* via_irqfd_ = nullptr;
    // Written by the storm thread too.
    std::atomic<uint32_t> raise_err_{0};
    std::atomic<uint32_t> storm_done_{0};
    std::atomic<bool> storm_running_{false};
    std::atomic<bool> storm_cancel_{false};
    std::thread storm_;
    // DMA engine registers (testdev_dma.cpp) and its bounce buffer.
    Register* dma_src_ = nullptr;
    Register* dma_dst_ = nullptr;
    Register* dma_len_ = nullptr;
    Register* dma_seed_ = nullptr;
    Register* dma_operand_ = nullptr;
    Register* dma_compare_ = nullptr;
    Register* dma_count_ = nullptr;
    Register* dma_status_ = nullptr;
    Register* dma_result_ = nullptr;
    Register* dma_fault_addr_ = nullptr;
    Register* dma_direct_ = nullptr;
    Register* dma_pace_us_ = nullptr;
    uint32_t direct_hits_ = 0;
    std::vector<std::byte> dma_buf_;
    // The interrupt configuration as the events told it.
    uint32_t irqcfg_events_ = 0;
    uint32_t irqcfg_mode_ = 0;
    uint32_t msi_mask_ = 0;
    std::vector<bool> msix_masked_ = std::vector<bool>(TESTDEV_MSIX_VECTORS, true);
};

} // namespace pciem::devices
