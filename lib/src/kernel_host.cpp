// SPDX-License-Identifier: MIT
//
// The syscall-facing part of the kernel host: create, mmap, poll, ioctl.
// The ring protocol itself is in ring_consumer.cpp, where tests reach it.
#include "pciem/kernel_host.hpp"

#include <cerrno>
#include <chrono>

#include <poll.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "pciem/control.hpp"
#include "pciem/dispatch.hpp"
#include "pciem/error_text.hpp"
#include "poll_spell.hpp"

namespace pciem {

namespace {

Result<void*> map_fd(int fd, size_t len, uint64_t offset, const char* what,
                     int prot = PROT_READ | PROT_WRITE) {
    void* p = ::mmap(nullptr, len, prot, MAP_SHARED, fd, static_cast<off_t>(offset));
    if (p == MAP_FAILED) {
        const int e = errno;
        return fail(e, describe_errno(e, fmt::format("mmap of the {} ({} bytes at {:#x})", what,
                                                     len, offset)));
    }
    return p;
}

void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

} // namespace

KernelHost::Mapping::~Mapping() {
    if (addr != nullptr) {
        ::munmap(addr, len);
    }
}

KernelHost::KernelHost(DeviceModel& model, Device device, const KernelHostOptions& options)
    : model_(model), device_(std::move(device)), busy_poll_(options.busy_poll),
      poll_interval_us_(options.poll_interval_us),
      idle_poll_us_(options.effective_idle_poll_us()),
      idle_poll_ceiling_us_(options.effective_idle_poll_ceiling_us()), spell_us_(idle_poll_us_) {}

KernelHost::~KernelHost() {
    if (starter_.joinable()) {
        starter_.join();
    }
    // The shadow and RAM pages go with the mappings, the interrupt sink
    // with us: unbind them first so the model cannot touch freed memory.
    for (auto& s : model_.shadows()) {
        s.backing = {};
    }
    for (unsigned bar = 0; bar < PCIEM_MAX_BARS; ++bar) {
        model_.bind_ram(bar, {});
    }
    model_.bind_interrupts(nullptr);
    model_.bind_dma(nullptr);
}

Result<void> KernelHostOptions::validate() const {
    // Options that would be silently ignored are refused up front.
    if (dma_window_no_bounce && dma_window_bytes == 0) {
        return fail(EINVAL, "a DMA window that bounces nothing needs a window: give its size "
                            "(--dma-window-mb, KernelHostOptions::dma_window_bytes)");
    }
    if (busy_poll && poll_interval_us != 0) {
        return fail(EINVAL, "busy polling already polls without pause: drop the poll interval "
                            "(--poll-interval-us) or the busy polling (--busy-poll)");
    }
    if (idle_poll_us && *idle_poll_us != 0 && (busy_poll || poll_interval_us != 0)) {
        return fail(EINVAL, "polling until idle (--idle-poll-us) is a way of sleeping: it goes "
                            "with neither busy polling (--busy-poll) nor a poll interval "
                            "(--poll-interval-us)");
    }
    if (low_cpu && (busy_poll || poll_interval_us != 0 || (idle_poll_us && *idle_poll_us != 0))) {
        return fail(EINVAL, "--low-cpu never polls: it goes with none of --busy-poll, "
                            "--poll-interval-us and --idle-poll-us");
    }
    return {};
}

uint32_t KernelHostOptions::effective_idle_poll_us() const {
    if (busy_poll || poll_interval_us != 0 || low_cpu) {
        return 0;
    }
    return idle_poll_us.value_or(default_idle_poll_us);
}

uint32_t KernelHostOptions::effective_idle_poll_ceiling_us() const {
    const uint32_t base = effective_idle_poll_us();
    return base != 0 && !idle_poll_us ? default_idle_poll_ceiling_us : base;
}

Result<std::unique_ptr<KernelHost>> KernelHost::create(DeviceModel& model,
                                                       const KernelHostOptions& options) {
    if (auto ok = options.validate(); !ok) {
        return std::unexpected(ok.error());
    }
    if (auto ok = model.realize(); !ok) {
        return std::unexpected(ok.error());
    }
    auto control = Control::open(options.control_path);
    if (!control) {
        return std::unexpected(control.error());
    }
    // Off the bus until run() serves the ring: a driver that binds at
    // once must find its reads answered.
    DeviceSpec spec = model.spec();
    if (options.aer) {
        spec.rciep_with_aer();
    }
    auto device = control->create(spec, PCIEM_CREATE_F_DEFER_ADD);
    if (!device) {
        return std::unexpected(device.error());
    }
    std::unique_ptr<KernelHost> host(new KernelHost(model, std::move(*device), options));
    if (auto ok = host->map_ring(); !ok) {
        return std::unexpected(ok.error());
    }
    if (auto ok = host->map_shadows(); !ok) {
        return std::unexpected(ok.error());
    }
    if (auto ok = host->map_ram(); !ok) {
        return std::unexpected(ok.error());
    }
    host->dma_ = std::make_unique<KernelDma>(host->device_.fd());
    if (options.dma_window_bytes != 0) {
        if (auto ok = host->map_dma_window(options.dma_window_bytes, options.dma_window_no_bounce);
            !ok) {
            return std::unexpected(ok.error());
        }
    }
    pciem_dev_config cfg{};
    if (options.read_timeout_us) {
        cfg.flags |= PCIEM_CONFIG_F_READ_TIMEOUT;
        cfg.read_timeout_us = *options.read_timeout_us;
    }
    if (options.spin_us) {
        cfg.flags |= PCIEM_CONFIG_F_SPIN;
        cfg.spin_us = *options.spin_us;
    }
    if (cfg.flags != 0) {
        if (auto ok = host->configure(cfg); !ok) {
            return std::unexpected(ok.error());
        }
    }
    const int efd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (efd < 0) {
        const int e = errno;
        return fail(e, describe_errno(e, "eventfd for stopping the device loop"));
    }
    host->stop_fd_.reset(efd);
    const int sfd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (sfd < 0) {
        const int e = errno;
        return fail(e, describe_errno(e, "eventfd for the start of the device"));
    }
    host->start_fd_.reset(sfd);
    host->irq_ = std::make_unique<KernelInterrupts>(host->device_.fd());
    model.bind_interrupts(host->irq_.get());
    model.bind_dma(host->dma_.get());
    return host;
}

Result<void> KernelHost::map_ring() {
    const int fd = device_.fd();
    const auto page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
    // The header says how big the whole ring is: map it alone first.
    size_t len = 0;
    {
        auto first = map_fd(fd, page, 0, "ring header");
        if (!first) {
            return std::unexpected(first.error());
        }
        const Mapping header(*first, page);
        if (auto ok = check_ring_header(*static_cast<pciem_ring_header*>(header.addr)); !ok) {
            return ok;
        }
        len = ring_map_length(*static_cast<pciem_ring_header*>(header.addr));
    }
    auto whole = map_fd(fd, len, 0, "request ring");
    if (!whole) {
        return std::unexpected(whole.error());
    }
    ring_map_.emplace(*whole, len);
    auto ring = check_ring(ring_map_->addr, len);
    if (!ring) {
        return std::unexpected(ring.error());
    }
    ring_ = *ring;
    consumer_ = std::make_unique<RingConsumer>(
        ring_, [this](const pciem_req& req) { return dispatch_request(model_, req); },
        [fd] {
            // A failure leaves the sleeping reader to its timeout, which
            // the kernel logs; there is nothing better to do here.
            (void)::ioctl(fd, PCIEM_IOC_WAKE);
        });
    return {};
}

Result<void> KernelHost::map_shadows() {
    const auto page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
    for (auto& s : model_.shadows()) {
        pciem_shadow req{};
        req.size = sizeof(req);
        req.bar = s.bar;
        req.offset = static_cast<uint32_t>(s.offset);
        req.len = s.len;
        if (::ioctl(device_.fd(), PCIEM_IOC_SHADOW, &req) < 0) {
            const int e = errno;
            return fail(e, describe_errno(e, fmt::format("PCIEM_IOC_SHADOW for BAR{} {:#x}+{:#x}",
                                                         s.bar, s.offset, s.len)));
        }
        // Shadows are packed in one area, so one may start mid-page:
        // map from the page boundary and point into it.
        const uint64_t start = req.shadow_offset & ~(page - 1);
        const uint64_t skip = req.shadow_offset - start;
        auto p = map_fd(device_.fd(), skip + s.len, start, "shadow");
        if (!p) {
            return std::unexpected(p.error());
        }
        auto& m = shadow_maps_.emplace_back(*p, skip + s.len);
        s.backing = std::span<uint8_t>(static_cast<uint8_t*>(m.addr) + skip, s.len);
    }
    // Current before the first read can be served from them.
    model_.shadow_update();
    return {};
}

Result<void> KernelHost::map_dma_window(uint64_t bytes, bool no_bounce) {
    pciem_dma_window req{};
    req.size = sizeof(req);
    req.flags = no_bounce ? PCIEM_DMA_WINDOW_F_NO_BOUNCE : 0;
    req.window_size = bytes;
    if (::ioctl(device_.fd(), PCIEM_IOC_DMA_WINDOW, &req) < 0) {
        const int e = errno;
        return fail(e, describe_errno(e, fmt::format("a zero-copy DMA window of {} bytes (a "
                                                     "multiple of 2 MiB, at most 1 GiB)",
                                                     bytes)));
    }
    auto p = map_fd(device_.fd(), bytes, req.mmap_offset, "DMA window");
    if (!p) {
        return std::unexpected(p.error());
    }
    dma_window_map_.emplace(*p, bytes);
    // What the device may do to each page: checked before every direct
    // access, so the window is sanitized as the checked path is.
    const size_t perm_len = sizeof(pciem_dma_perm) + bytes / 4096;
    auto perm = map_fd(device_.fd(), perm_len, req.perm_mmap_offset, "DMA window permissions",
                       PROT_READ);
    if (!perm) {
        return std::unexpected(perm.error());
    }
    dma_perm_map_.emplace(*perm, perm_len);
    dma_->bind_window(std::span<std::byte>(static_cast<std::byte*>(*p), bytes), req.bus_base,
                      static_cast<const pciem_dma_perm*>(*perm));
    return {};
}

Result<void> KernelHost::map_ram() {
    const DeviceSpec spec = model_.spec();
    for (unsigned bar = 0; bar < PCIEM_MAX_BARS; ++bar) {
        const auto b = spec.bar_at(bar);
        if (!b || !b->is_ram()) {
            continue;
        }
        auto p = map_fd(device_.fd(), b->size(), PCIEM_MMAP_BAR_OFFSET(bar),
                        fmt::format("RAM BAR{}", bar).c_str());
        if (!p) {
            return std::unexpected(p.error());
        }
        auto& m = ram_maps_.emplace_back(*p, b->size());
        model_.bind_ram(bar, std::span<std::byte>(static_cast<std::byte*>(m.addr), m.len));
    }
    return {};
}

// ---- interrupts ---------------------------------------------------------

Result<void> KernelHost::KernelInterrupts::raise(unsigned vector) {
    pciem_irq_req req{};
    req.size = sizeof(req);
    req.value = vector;
    if (::ioctl(fd_, PCIEM_IOC_RAISE, &req) < 0) {
        const int e = errno;
        if (e == EAGAIN) {
            return fail(e, fmt::format("cannot raise vector {}: neither MSI nor MSI-X is "
                                       "enabled, so the function cannot signal (EAGAIN)",
                                       vector));
        }
        return fail(e, describe_errno(e, fmt::format("PCIEM_IOC_RAISE of vector {}", vector)));
    }
    return {};
}

Result<void> KernelHost::KernelInterrupts::set_intx(bool level) {
    pciem_irq_req req{};
    req.size = sizeof(req);
    req.value = level ? 1 : 0;
    if (::ioctl(fd_, PCIEM_IOC_SET_INTX, &req) < 0) {
        const int e = errno;
        return fail(e, describe_errno(e, fmt::format("PCIEM_IOC_SET_INTX to {}", req.value)));
    }
    return {};
}

Result<int> KernelHost::KernelInterrupts::eventfd(unsigned vector) {
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

Result<pciem_dev_config> KernelHost::configure(pciem_dev_config config) {
    config.size = sizeof(config);
    if (::ioctl(device_.fd(), PCIEM_IOC_DEV_CONFIG, &config) < 0) {
        const int e = errno;
        return fail(e, describe_errno(e, "PCIEM_IOC_DEV_CONFIG"));
    }
    return config;
}

pciem_ring_stats KernelHost::stats() const {
    // The kernel bumps these with WRITE_ONCE; relaxed word-sized loads
    // see whole values.
    auto load = [](__u64& counter) {
        return std::atomic_ref<__u64>(counter).load(std::memory_order_relaxed);
    };
    pciem_ring_stats& in = ring_.header->stats;
    pciem_ring_stats out{};
    out.reads = load(in.reads);
    out.writes = load(in.writes);
    out.shadow_reads = load(in.shadow_reads);
    out.read_timeouts = load(in.read_timeouts);
    out.master_aborts = load(in.master_aborts);
    out.refused_insns = load(in.refused_insns);
    out.ring_full_waits = load(in.ring_full_waits);
    return out;
}

void KernelHost::stop() noexcept {
    stop_.store(true, std::memory_order_relaxed);
    // write(2) on an eventfd is async-signal-safe and wakes poll().
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(stop_fd_.get(), &one, sizeof(one));
}

// ---- the start -------------------------------------------------------------

void KernelHost::begin_start() {
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

Result<void> KernelHost::wait_started() {
    std::unique_lock lock(start_mutex_);
    start_cv_.wait(lock, [this] {
        return start_state_ == StartState::started || start_state_ == StartState::failed;
    });
    if (start_state_ == StartState::failed) {
        return std::unexpected(*start_error_);
    }
    return {};
}

bool KernelHost::should_leave(std::optional<Error>* error) {
    const bool settled = start_settled_.load(std::memory_order_acquire);
    if (settled) {
        const std::lock_guard lock(start_mutex_);
        if (start_state_ == StartState::failed) {
            *error = start_error_;
            return true;
        }
    }
    return settled && stop_.load(std::memory_order_relaxed);
}

// ---- the loop ---------------------------------------------------------------

Result<void> KernelHost::run_polling() {
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

bool KernelHost::poll_until_idle(std::optional<Error>* error) {
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

void KernelHost::adapt_spell() {
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

Result<void> KernelHost::run_sleeping() {
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

Result<void> KernelHost::run() {
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
