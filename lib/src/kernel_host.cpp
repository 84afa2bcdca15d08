// SPDX-License-Identifier: MIT
//
// The syscall-facing part of the kernel host: create, mmap, poll, ioctl.
// The ring protocol itself is in ring_consumer.cpp, where tests reach it.
#include "pciem/kernel_host.hpp"

#include <cerrno>

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <fmt/format.h>

#include "pciem/control.hpp"
#include "pciem/dispatch.hpp"
#include "pciem/error_text.hpp"

namespace pciem {

namespace {

Result<void*> map_fd(int fd, size_t len, uint64_t offset, const char* what) {
    void* p =
        ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, static_cast<off_t>(offset));
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

KernelHost::KernelHost(DeviceModel& model, Device device, bool busy_poll)
    : model_(model), device_(std::move(device)), busy_poll_(busy_poll) {}

KernelHost::~KernelHost() {
    // The shadow pages go with the mappings: unbind them first so the
    // model cannot write into freed memory.
    for (auto& s : model_.shadows()) {
        s.backing = {};
    }
}

Result<std::unique_ptr<KernelHost>> KernelHost::create(DeviceModel& model,
                                                       const KernelHostOptions& options) {
    if (auto ok = model.realize(); !ok) {
        return std::unexpected(ok.error());
    }
    auto control = Control::open(options.control_path);
    if (!control) {
        return std::unexpected(control.error());
    }
    auto device = control->create(model.spec());
    if (!device) {
        return std::unexpected(device.error());
    }
    std::unique_ptr<KernelHost> host(new KernelHost(model, std::move(*device), options.busy_poll));
    if (auto ok = host->map_ring(); !ok) {
        return std::unexpected(ok.error());
    }
    if (auto ok = host->map_shadows(); !ok) {
        return std::unexpected(ok.error());
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

void KernelHost::run_polling() {
    consumer_->set_polling(true);
    while (!stop_.load(std::memory_order_relaxed)) {
        if (consumer_->drain() == 0) {
            cpu_relax();
        }
    }
    consumer_->set_polling(false);
    // Requests posted while the flag was still set got no wake-up.
    consumer_->drain();
}

Result<void> KernelHost::run_sleeping() {
    pollfd fds[2] = {{device_.fd(), POLLIN, 0}, {stop_fd_.get(), POLLIN, 0}};
    while (!stop_.load(std::memory_order_relaxed)) {
        // Level-triggered: POLLIN holds while prod != cons, so slots
        // posted while we were draining wake the next poll at once.
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            const int e = errno;
            return fail(e, describe_errno(e, "poll on the device fd"));
        }
        if ((fds[0].revents & POLLIN) != 0) {
            consumer_->drain();
        }
        if ((fds[0].revents & (POLLHUP | POLLERR | POLLNVAL)) != 0) {
            return fail(ENODEV, fmt::format("{}: the device is being removed; stopping its model",
                                            device_.address()));
        }
    }
    return {};
}

Result<void> KernelHost::run() {
    model_.on_start();
    Result<void> result;
    if (busy_poll_) {
        run_polling();
    } else {
        result = run_sleeping();
    }
    model_.on_stop();
    return result;
}

} // namespace pciem
