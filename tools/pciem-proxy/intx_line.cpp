// SPDX-License-Identifier: MIT
#include "intx_line.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include <fmt/format.h>

namespace pciem::proxy {

Result<std::unique_ptr<IntxLine>> IntxLine::create(Interrupts& irq) {
    UniqueFd event(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    UniqueFd stop(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!event.valid() || !stop.valid()) {
        return fail(errno, fmt::format("an eventfd for INTx: {}", std::strerror(errno)));
    }
    std::unique_ptr<IntxLine> line(new IntxLine(irq, std::move(event), std::move(stop)));
    line->thread_ = std::thread(&IntxLine::wait_for_assertions, line.get());
    return line;
}

IntxLine::~IntxLine() {
    const uint64_t one = 1;
    if (::write(stop_.get(), &one, sizeof(one)) != sizeof(one)) {
        // Cannot happen with a fresh counter; the join below would hang.
        std::terminate();
    }
    thread_.join();
}

void IntxLine::wait_for_assertions() {
    for (;;) {
        pollfd p[2] = {{event_.get(), POLLIN, 0}, {stop_.get(), POLLIN, 0}};
        if (::poll(p, 2, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            return;
        }
        if ((p[1].revents & POLLIN) != 0) {
            return;
        }
        uint64_t count = 0;
        if ((p[0].revents & POLLIN) == 0 || ::read(event_.get(), &count, sizeof(count)) < 0) {
            continue;
        }
        {
            // High before the raise: the driver's handler may run, and
            // ack, before set_intx returns, and its access must settle
            // the line. The raise itself outside the lock: a handler
            // that runs inside it on this CPU waits for the proxy's
            // thread, which may be waiting for this lock in settle().
            std::lock_guard lock(mutex_);
            high_.store(true);
        }
        // A failure means the function is going: nothing to raise.
        (void)irq_.set_intx(true);
    }
}

Result<void> IntxLine::settle(const std::function<Result<bool>()>& still_asserted) {
    std::lock_guard lock(mutex_);
    if (!high_.load()) {
        return {};
    }
    auto asserted = still_asserted();
    if (!asserted) {
        return std::unexpected(asserted.error());
    }
    if (!*asserted) {
        high_.store(false);
        return irq_.set_intx(false);
    }
    return {};
}

} // namespace pciem::proxy
