// SPDX-License-Identifier: MIT
//
// The PCIem test device (tests/common/testdev_regs.h): one BAR of
// registers whose semantics a wrong emulation would break, for the
// kernel test driver that runs every MMIO accessor against it.
#pragma once

#include <cstdint>
#include <deque>

#include "pciem/device_model.hpp"

namespace pciem::devices {

class TestDev : public DeviceModel {
public:
    TestDev();

    [[nodiscard]] DeviceSpec spec() const override;

private:
    void declare_identity(RegisterMap& regs);
    void declare_latches(RegisterMap& regs);
    void declare_fifo(RegisterMap& regs);
    void declare_timing(RegisterMap& regs);
    void declare_shadowed(RegisterMap& regs);
    std::optional<uint64_t> pop_fifo();

    Register* status_ = nullptr; // STATUS, set by STATUS_SET and FIFO underflow
    Register* rc_ = nullptr;     // RC, set by RC_SET
    Register* delay_us_ = nullptr;
    uint32_t counter_ = 0;
    uint32_t write_count_ = 0;
    uint32_t last_write_ = 0;
    std::deque<uint32_t> fifo_;
};

} // namespace pciem::devices
