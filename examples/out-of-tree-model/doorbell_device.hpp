// SPDX-License-Identifier: MIT
//
// A doorbell: the smallest device with registers and an interrupt, as a
// template for a model of your own. BAR0 (4 KiB):
//
//   off  name      access  meaning
//   0x00 ID        RO      0x444f4f52 ("DOOR")
//   0x04 SCRATCH   RW      kept for the driver, no effect
//   0x08 CTRL      RW      bit 0 IRQ_ENABLE: ringing raises MSI vector 0
//   0x0c DOORBELL  WO      any write rings: COUNT += 1, STATUS.RANG set
//   0x10 STATUS    RW1C    bit 0 RANG (write 1 to clear)
//   0x14 COUNT     RO      rings so far
//
// The same class runs on the kernel (main.cpp, a real driver binds it) and
// in-process on the SimHost (test/doorbell_test.cpp, the test plays the
// driver).
#pragma once

#include <cstdint>

#include <pciem/device_model.hpp>

namespace doorbell {

inline constexpr uint16_t vendor_id = 0x1b36; // use your own IDs
inline constexpr uint16_t device_id = 0x7e30;
inline constexpr uint32_t id_value = 0x444f4f52; // "DOOR"

inline constexpr uint64_t reg_id = 0x00;
inline constexpr uint64_t reg_scratch = 0x04;
inline constexpr uint64_t reg_ctrl = 0x08;
inline constexpr uint64_t reg_doorbell = 0x0c;
inline constexpr uint64_t reg_status = 0x10;
inline constexpr uint64_t reg_count = 0x14;

inline constexpr uint32_t ctrl_irq_enable = 1u << 0;
inline constexpr uint32_t status_rang = 1u << 0;

class DoorbellDevice : public pciem::DeviceModel {
public:
    DoorbellDevice();

    // What the device looks like on the bus: IDs, class, BARs, MSI.
    [[nodiscard]] pciem::DeviceSpec spec() const override;

private:
    void ring();

    pciem::Register* ctrl_ = nullptr;
    pciem::Register* status_ = nullptr;
    pciem::Register* count_ = nullptr;
};

} // namespace doorbell
