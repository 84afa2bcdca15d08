// SPDX-License-Identifier: MIT
#include "kernel_interrupts.hpp"

#include <cerrno>

#include <sys/eventfd.h>
#include <sys/ioctl.h>

#include <fmt/format.h>

#include "pciem/error_text.hpp"

namespace pciem {

Result<void> raise_outcome(int err, unsigned vector) {
    if (err == 0) {
        return {};
    }
    if (err == EAGAIN) {
        return fail(err, fmt::format("cannot raise vector {}: neither MSI nor MSI-X is "
                                     "enabled, so the function cannot signal (EAGAIN)",
                                     vector));
    }
    return fail(err, describe_errno(err, fmt::format("PCIEM_IOC_RAISE of vector {}", vector)));
}

Result<void> KernelInterrupts::raise(unsigned vector) {
    pciem_irq_req req{};
    req.size = sizeof(req);
    req.value = vector;
    if (::ioctl(fd_, PCIEM_IOC_RAISE, &req) < 0) {
        return raise_outcome(errno, vector);
    }
    return {};
}

Result<void> KernelInterrupts::set_intx(bool level) {
    pciem_irq_req req{};
    req.size = sizeof(req);
    req.value = level ? 1 : 0;
    if (::ioctl(fd_, PCIEM_IOC_SET_INTX, &req) < 0) {
        const int e = errno;
        return fail(e, describe_errno(e, fmt::format("PCIEM_IOC_SET_INTX to {}", req.value)));
    }
    return {};
}

Result<int> KernelInterrupts::eventfd(unsigned vector) {
    const std::lock_guard lock(mutex_);
    if (auto it = eventfds_.find(vector); it != eventfds_.end()) {
        return it->second.get();
    }
    UniqueFd efd{::eventfd(0, EFD_CLOEXEC)};
    if (!efd.valid()) {
        const int e = errno;
        return fail(e, describe_errno(e, fmt::format("eventfd for vector {}", vector)));
    }
    pciem_irqfd_req req{};
    req.size = sizeof(req);
    req.fd = efd.get();
    req.vector = vector;
    if (::ioctl(fd_, PCIEM_IOC_IRQFD, &req) < 0) {
        const int e = errno;
        return fail(e, describe_errno(e, fmt::format("PCIEM_IOC_IRQFD for vector {}", vector)));
    }
    const int fd = efd.get();
    eventfds_.emplace(vector, std::move(efd));
    return fd;
}

} // namespace pciem
