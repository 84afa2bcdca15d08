// SPDX-License-Identifier: MIT
//
// The example of docs/device-model.md: a tick counter with a limit, in
// six registers. Small enough to read in one go, complete enough to show
// each access type, a self-clearing bit and a shadowed range.
//
//   off  name    access  meaning
//   0x00 ID      RO      0x434e5452 ("CNTR")
//   0x04 CTRL    RW      bit 0 ENABLE; bit 1 RESET (self-clearing)
//   0x08 COUNT   RO      sum of TICK writes while enabled
//   0x0c TICK    WO      COUNT += value
//   0x10 LIMIT   RW      STATUS.LIMIT is set when COUNT reaches it (0: never)
//   0x14 STATUS  RW1C    bit 0 LIMIT
#pragma once

#include <cstdint>

#include <pciem/device_model.hpp>

namespace example {

inline constexpr uint32_t counter_id = 0x434e5452;
inline constexpr uint32_t ctrl_enable = 1u << 0;
inline constexpr uint32_t ctrl_reset = 1u << 1;
inline constexpr uint32_t status_limit = 1u << 0;

class CounterDevice : public pciem::DeviceModel {
public:
    CounterDevice() {
        pciem::RegisterMap& regs = declare_bar(0, "counter BAR0", 4096);
        regs.reg32(0x00, "ID").ro(counter_id);
        ctrl_ = &regs.reg32(0x04, "CTRL").rw().on_write([this](uint64_t, uint64_t now) {
            if ((now & ctrl_reset) != 0) {
                count_->set(0);
                ctrl_->clear_bits(ctrl_reset); // self-clearing, as datasheets say
            }
        });
        count_ = &regs.reg32(0x08, "COUNT").ro();
        regs.reg32(0x0c, "TICK").wo().on_write([this](uint64_t, uint64_t ticks) { tick(ticks); });
        limit_ = &regs.reg32(0x10, "LIMIT").rw();
        status_ = &regs.reg32(0x14, "STATUS").w1c();
        // A driver polls ID and CTRL often; neither has read side
        // effects, so the kernel may answer them without a round trip.
        declare_shadow(0, 0x00, 8);
    }

    [[nodiscard]] pciem::DeviceSpec spec() const override {
        return pciem::DeviceSpec{}
            .ids(0x1b36, 0x7e11)
            .class_code(0xff0000)
            .bar(0, pciem::Bar::mem64(4096))
            .pcie();
    }

private:
    void tick(uint64_t ticks) {
        if ((ctrl_->value() & ctrl_enable) == 0) {
            return;
        }
        count_->set(count_->value() + ticks);
        if (limit_->value() != 0 && count_->value() >= limit_->value()) {
            status_->set_bits(status_limit);
        }
    }

    pciem::Register* ctrl_ = nullptr;
    pciem::Register* count_ = nullptr;
    pciem::Register* limit_ = nullptr;
    pciem::Register* status_ = nullptr;
};

} // namespace example
