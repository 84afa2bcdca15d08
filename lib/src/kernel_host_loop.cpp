// SPDX-License-Identifier: MIT
//
// The kernel host's event loop: the start of the function (from a helper
// thread, since drivers probe inside it), and the three ways of waiting
// for requests: busy polling, sleeping in poll(), and sleeping with a
// polling spell after work.
#include "kernel_host_impl.hpp"

#include <cerrno>
#include <chrono>

#include <poll.h>
#include <sched.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "pciem/error_text.hpp"
#include "poll_spell.hpp"

namespace pciem {

namespace {

void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

} // namespace

void KernelHost::Impl::stop() noexcept {
    stop_.store(true, std::memory_order_relaxed);
    // write(2) on an eventfd is async-signal-safe and wakes poll().
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(stop_fd_.get(), &one, sizeof(one));
}

// ---- the start -------------------------------------------------------------

void KernelHost::Impl::begin_start() {
    {
        const std::lock_guard lock(start_mutex_);
        if (start_state_ != StartState::idle) {
            return;
        }
        start_state_ = StartState::starting;
    }
    // PCIEM_IOC_START blocks while drivers probe, and their reads come to
    // this thread's loop: issue it from a helper.
    starter_ = std::thread([this] {
        auto ok = device_.start();
        {
            const std::lock_guard lock(start_mutex_);
            if (ok) {
                start_state_ = StartState::started;
            } else {
                start_state_ = StartState::failed;
                start_error_ = ok.error();
            }
        }
        start_settled_.store(true, std::memory_order_release);
        start_cv_.notify_all();
        const uint64_t one = 1;
        [[maybe_unused]] const ssize_t n = ::write(start_fd_.get(), &one, sizeof(one));
    });
}

Result<void> KernelHost::Impl::wait_started() {
    std::unique_lock lock(start_mutex_);
    start_cv_.wait(lock, [this] {
        return start_state_ == StartState::started || start_state_ == StartState::failed;
    });
    if (start_state_ == StartState::failed) {
        return std::unexpected(*start_error_);
    }
    return {};
}

bool KernelHost::Impl::should_leave(std::optional<Error>* error) {
    const bool settled = start_settled_.load(std::memory_order_acquire);
    // No lock, on every turn of the loop: the state and error were
    // written before the release store of start_settled_ and never after.
    if (settled) {
        if (start_state_ == StartState::failed) {
            *error = start_error_;
            return true;
        }
    }
    return settled && stop_.load(std::memory_order_relaxed);
}

// ---- the loop ---------------------------------------------------------------

Result<void> KernelHost::Impl::run_polling() {
    consumer_->set_polling(true);
    std::optional<Error> error;
    while (!should_leave(&error)) {
        const bool ring_work = consumer_->drain() != 0;
        if (!model_.on_poll() && !ring_work) {
            cpu_relax();
        }
    }
    consumer_->set_polling(false);
    // Requests posted while the flag was still set got no wake-up.
    consumer_->drain();
    if (error) {
        return std::unexpected(*error);
    }
    return {};
}

bool KernelHost::Impl::poll_until_idle(std::optional<Error>* error) {
    using clock = std::chrono::steady_clock;
    // The clock is read once per this many empty turns, never while there
    // is work: without a TSC clocksource (the kernel's choice under TCG) a
    // clock read is a system call and an HPET access that takes QEMU's big
    // lock, dearer than a turn of the loop.
    constexpr unsigned turns_per_clock_read = 32;
    const auto idle = std::chrono::microseconds(spell_us_);
    consumer_->set_polling(true); // the kernel skips wake-ups meanwhile
    unsigned empty_turns = 0;
    clock::time_point deadline{}; // valid once armed: at the first read after work
    bool armed = false;
    while (!should_leave(error)) {
        const bool ring_work = consumer_->drain() != 0;
        if (model_.on_poll() || ring_work) {
            empty_turns = 0;
            armed = false;
            continue;
        }
        // Not cpu_relax(): the thread that will bring the next request
        // (the driver's, or a vCPU's) may be waiting for this very CPU;
        // yielding lets it run, and costs nothing when nobody waits.
        ::sched_yield();
        if (++empty_turns % turns_per_clock_read != 0) {
            continue;
        }
        const auto now = clock::now();
        if (!armed) {
            deadline = now + idle;
            armed = true;
        }
        if (now < deadline) {
            continue;
        }
        // Idle long enough. Wake-ups on again first, then what was posted
        // while they were off, then the model's own last look.
        consumer_->set_polling(false);
        const bool late = consumer_->drain() != 0;
        if (!model_.on_idle() && !late) {
            slept_at_ = now;
            return true;
        }
        consumer_->set_polling(true);
        empty_turns = 0;
        armed = false;
    }
    consumer_->set_polling(false);
    consumer_->drain();
    return false;
}

void KernelHost::Impl::adapt_spell() {
    if (idle_poll_ceiling_us_ <= idle_poll_us_ || !slept_at_) {
        return; // a fixed spell: no clock read
    }
    const auto slept = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - *slept_at_);
    spell_us_ = static_cast<uint32_t>(
        next_poll_spell({std::chrono::microseconds(idle_poll_us_),
                         std::chrono::microseconds(idle_poll_ceiling_us_)},
                        slept)
            .count());
}

Result<void> KernelHost::Impl::run_sleeping() {
    pollfd fds[3] = {
        {device_.fd(), POLLIN, 0}, {stop_fd_.get(), POLLIN, 0}, {start_fd_.get(), POLLIN, 0}};
    // Timed polling: the model's on_poll() after every wake, and a wake
    // at least every interval. The default 50 us of timer slack would
    // double a short interval.
    const timespec interval{.tv_sec = poll_interval_us_ / 1000000,
                            .tv_nsec = long{poll_interval_us_ % 1000000} * 1000};
    if (poll_interval_us_ != 0) {
        ::prctl(PR_SET_TIMERSLACK, 1000UL, 0UL, 0UL, 0UL);
    }
    std::optional<Error> error;
    while (!should_leave(&error)) {
        // Level-triggered: POLLIN holds while prod != cons, so slots
        // posted while we were draining wake the next poll at once. The
        // stop eventfd is never read (once signalled, should_leave()
        // decides; while a start is still in flight it is not polled).
        const bool settled = start_settled_.load(std::memory_order_acquire);
        fds[1].events = stop_.load(std::memory_order_relaxed) && !settled ? 0 : POLLIN;
        if (::ppoll(fds, 3, poll_interval_us_ != 0 ? &interval : nullptr, nullptr) < 0) {
            if (errno == EINTR) {
                continue;
            }
            const int e = errno;
            return fail(e, describe_errno(e, "poll on the device fd"));
        }
        bool work = false;
        if ((fds[0].revents & POLLIN) != 0) {
            work = consumer_->drain() != 0;
        }
        if ((fds[2].revents & POLLIN) != 0) {
            uint64_t n = 0;
            [[maybe_unused]] const ssize_t got = ::read(start_fd_.get(), &n, sizeof(n));
        }
        if ((fds[0].revents & (POLLHUP | POLLERR | POLLNVAL)) != 0) {
            // The PCI core removed the function (sysfs remove), or the
            // kernel is removing it: either way nothing is left to model.
            auto info = device_.info();
            const bool detached = info && info->state == PCIEM_STATE_DETACHED;
            return fail(ENODEV, fmt::format("{}: {}; stopping its model", device_.address(),
                                            detached ? "removed by the PCI core (sysfs remove)"
                                                     : "the device is being removed"));
        }
        if (poll_interval_us_ != 0) {
            (void)model_.on_poll();
        }
        if (work && idle_poll_us_ != 0) {
            adapt_spell();
            if (!poll_until_idle(&error)) {
                break;
            }
        }
    }
    if (error) {
        return std::unexpected(*error);
    }
    return {};
}

Result<void> KernelHost::Impl::run() {
    model_.on_start();
    begin_start();
    Result<void> result;
    if (busy_poll_) {
        result = run_polling();
    } else {
        result = run_sleeping();
    }
    if (starter_.joinable()) {
        // Only after a removal: the start returns once the function is gone.
        starter_.join();
    }
    model_.on_stop();
    return result;
}

} // namespace pciem
