// SPDX-License-Identifier: MIT
#include "doorbell_device.hpp"

namespace doorbell {

DoorbellDevice::DoorbellDevice() {
    // Registers are declared with their access semantics; the SDK answers
    // reads and applies writes (RO, RW, RW1C...) and calls back only where
    // a write has an effect of its own.
    pciem::RegisterMap& regs = declare_bar(0, "doorbell BAR0", 4096);
    regs.reg32(reg_id, "ID").ro(id_value);
    regs.reg32(reg_scratch, "SCRATCH").rw();
    ctrl_ = &regs.reg32(reg_ctrl, "CTRL").rw();
    regs.reg32(reg_doorbell, "DOORBELL").wo().on_write([this](uint64_t, uint64_t) { ring(); });
    status_ = &regs.reg32(reg_status, "STATUS").w1c();
    count_ = &regs.reg32(reg_count, "COUNT").ro();
}

pciem::DeviceSpec DoorbellDevice::spec() const {
    return pciem::DeviceSpec{}
        .ids(vendor_id, device_id)
        .class_code(0xff0000) // unclassified: no stock driver claims it
        .bar(0, pciem::Bar::mem64(4096))
        .msi(1)
        .pcie();
}

void DoorbellDevice::ring() {
    count_->set(count_->value() + 1);
    status_->set_bits(status_rang);
    if ((ctrl_->value() & ctrl_irq_enable) != 0) {
        // Fails (EAGAIN) while the driver has not enabled MSI: like
        // hardware, the device then just does not interrupt.
        (void)irq().raise(0);
    }
}

} // namespace doorbell
