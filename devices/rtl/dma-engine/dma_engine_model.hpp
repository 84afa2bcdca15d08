// SPDX-License-Identifier: MIT
//
// DmaEngineModel: the example DMA engine (drivers/pciem_rtl_dma/rtl_dma_regs.h)
// written as an ordinary C++ device model, register for register and
// descriptor for descriptor what the SystemVerilog design does. It is the
// reference the RTL is compared against: the unit tests run the same
// driver sequence on both, and bench/rtl_dma.sh measures what simulating
// the RTL costs against it. It has no clock: a TAIL write runs the ring
// to completion before the write returns, and CYCLES reads 0.
#pragma once

#include <cstdint>
#include <vector>

#include "pciem/device_model.hpp"

namespace pciem::devices {

class DmaEngineModel : public DeviceModel {
public:
    explicit DmaEngineModel(uint16_t device_id);

    [[nodiscard]] DeviceSpec spec() const override;

private:
    void run();
    // Runs one descriptor; returns its STATUS word.
    uint32_t execute(uint64_t desc);
    void reset();
    [[nodiscard]] uint32_t mask() const;

    uint16_t device_id_;
    Register* ctrl_ = nullptr;
    Register* ring_lo_ = nullptr;
    Register* ring_hi_ = nullptr;
    Register* ring_order_ = nullptr;
    Register* tail_ = nullptr;
    Register* head_ = nullptr;
    Register* irq_status_ = nullptr;
    Register* completed_ = nullptr;
    Register* error_ = nullptr;
    bool halted_ = false;
    uint32_t last_ctrl_ = 0; // CTRL word of the descriptor run last
    std::vector<std::byte> chunk_;
};

} // namespace pciem::devices
