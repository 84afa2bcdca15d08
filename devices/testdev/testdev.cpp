// SPDX-License-Identifier: MIT
//
// The register chapter of the test device. Every register is exactly as
// testdev_regs.h describes it; the comments give the reason a register
// exists (what emulation bug it catches).
#include "testdev.hpp"

#include <chrono>
#include <thread>

#include <testdev_regs.h>

namespace pciem::devices {

TestDev::TestDev() {
    RegisterMap& regs = declare_bar(0, "testdev BAR0", TESTDEV_BAR0_SIZE);
    declare_identity(regs);
    declare_latches(regs);
    declare_fifo(regs);
    declare_timing(regs);
    declare_shadowed(regs);
    // memcpy_toio/memcpy_fromio/memset_io land here with string
    // instructions of every width.
    regs.memory(TESTDEV_MEM, TESTDEV_MEM_SIZE, "MEM");
    // Counts writes of any width to any offset, so a test can see that
    // none was lost, duplicated or split by the trap.
    regs.observe_writes([this](uint64_t, unsigned, uint64_t value) {
        ++write_count_;
        last_write_ = static_cast<uint32_t>(value);
    });
}

DeviceSpec TestDev::spec() const {
    // A PCIe endpoint with PM, like real hardware, so the PCI core
    // treats it as it would a plug-in card.
    return DeviceSpec{}
        .ids(TESTDEV_VENDOR_ID, TESTDEV_DEVICE_ID)
        .class_code(TESTDEV_CLASS)
        .bar(0, Bar::mem64(TESTDEV_BAR0_SIZE))
        .pm()
        .pcie(PCIEM_PCIE_ENDPOINT);
}

void TestDev::declare_identity(RegisterMap& regs) {
    regs.reg32(TESTDEV_ID, "ID").ro(TESTDEV_ID_VALUE);
    regs.reg32(TESTDEV_VERSION, "VERSION").ro(1);
    // Narrow accesses must hit the right bytes of these.
    regs.reg32(TESTDEV_SCRATCH, "SCRATCH").rw();
    regs.reg64(TESTDEV_SCRATCH64, "SCRATCH64").rw();
    regs.reg32(TESTDEV_WRITE_COUNT, "WRITE_COUNT").ro([this] { return write_count_; });
    regs.reg32(TESTDEV_LAST_WRITE, "LAST_WRITE").ro([this] { return last_write_; });
}

void TestDev::declare_latches(RegisterMap& regs) {
    // Moves on every read: a read that reaches the model twice, or a
    // cached one, shows up as a skipped or repeated value.
    regs.reg32(TESTDEV_COUNTER, "COUNTER").ro().on_read([this](uint64_t) {
        return uint64_t{counter_++};
    });
    rc_ = &regs.reg32(TESTDEV_RC, "RC").rc();
    regs.reg32(TESTDEV_RC_SET, "RC_SET").wo().on_write([this](uint64_t, uint64_t bits) {
        rc_->set_bits(bits);
    });
    status_ = &regs.reg32(TESTDEV_STATUS, "STATUS").w1c();
    regs.reg32(TESTDEV_STATUS_SET, "STATUS_SET").wo().on_write([this](uint64_t, uint64_t bits) {
        status_->set_bits(bits);
    });
}

std::optional<uint64_t> TestDev::pop_fifo() {
    if (fifo_.empty()) {
        status_->set_bits(TESTDEV_STATUS_UNDERFLOW);
        return 0;
    }
    const uint32_t v = fifo_.front();
    fifo_.pop_front();
    return v;
}

void TestDev::declare_fifo(RegisterMap& regs) {
    // Order-sensitive in both directions: reordered or replayed accesses
    // come out in the wrong order.
    regs.reg32(TESTDEV_FIFO, "FIFO")
        .rw()
        .on_read([this](uint64_t) { return pop_fifo(); })
        .on_write(
            [this](uint64_t, uint64_t value) { fifo_.push_back(static_cast<uint32_t>(value)); });
    regs.reg32(TESTDEV_FIFO_COUNT, "FIFO_COUNT").ro([this] { return fifo_.size(); });
}

void TestDev::declare_timing(RegisterMap& regs) {
    delay_us_ = &regs.reg32(TESTDEV_DELAY_US, "DELAY_US").rw();
    // Answers late: exercises the kernel's spin-then-sleep wait and, past
    // the read timeout, its all-ones completion.
    regs.reg32(TESTDEV_SLOW, "SLOW").ro(TESTDEV_SLOW_VALUE).on_read([this](uint64_t v) {
        std::this_thread::sleep_for(std::chrono::microseconds(delay_us_->value()));
        return std::optional<uint64_t>{v};
    });
    // Never answers: the kernel must time the read out, not hang.
    regs.reg32(TESTDEV_HANG, "HANG").ro().on_read([](uint64_t) {
        return std::optional<uint64_t>{};
    });
}

void TestDev::declare_shadowed(RegisterMap& regs) {
    for (unsigned i = 0; i < 8; ++i) {
        regs.reg32(TESTDEV_SHADOWED + 4 * i, "SHADOWED" + std::to_string(i))
            .ro(TESTDEV_SHADOW_VALUE(i));
    }
    // Constants with no read side effects: the kernel answers these from
    // its shadow without a round trip to us.
    declare_shadow(0, TESTDEV_SHADOWED, 8 * 4);
}

} // namespace pciem::devices
