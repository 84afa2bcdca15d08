// SPDX-License-Identifier: MIT
//
// KernelInterrupts: the Interrupts a KernelHost binds to its model.
// raise() and set_intx() are PCIEM_IOC_RAISE / PCIEM_IOC_SET_INTX on the
// device fd; eventfd() binds one eventfd per vector with PCIEM_IOC_IRQFD
// on first use, so a model thread can raise without a system call of ours.
// Private to libpciem: models reach it as DeviceModel::irq().
#pragma once

#include <map>
#include <mutex>

#include "pciem/interrupts.hpp"
#include "pciem/unique_fd.hpp"

namespace pciem {

// What a raise of `vector` that pciem.ko answered with errno `err` (0:
// sent) reports: PCIEM_IOC_RAISE's, and PCIEM_DMA_RAISE's in a batch.
Result<void> raise_outcome(int err, unsigned vector);

class KernelInterrupts final : public Interrupts {
public:
    explicit KernelInterrupts(int device_fd) : fd_(device_fd) {}
    Result<void> raise(unsigned vector) override;
    Result<void> set_intx(bool level) override;
    Result<int> eventfd(unsigned vector) override;

private:
    int fd_;
    std::mutex mutex_;
    std::map<unsigned, UniqueFd> eventfds_;
};

} // namespace pciem
