// SPDX-License-Identifier: MIT
//
// The kernel host's setup: create the function, map what the model
// shares with the kernel (ring, shadows, RAM BARs, DMA window), bind the
// model, and the ioctls a tool may call afterwards. The loop is in
// kernel_host_loop.cpp, the ring protocol in ring_consumer.cpp (where
// tests reach it).
#include "pciem/kernel_host.hpp"

#include <cerrno>

#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <fmt/format.h>

#include "kernel_host_impl.hpp"
#include "pciem/control.hpp"
#include "pciem/dispatch.hpp"
#include "pciem/error_text.hpp"

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

} // namespace

KernelHost::Impl::Mapping::~Mapping() {
    if (addr != nullptr) {
        ::munmap(addr, len);
    }
}

KernelHost::Impl::Impl(DeviceModel& model, Device device, const KernelHostOptions& options)
    : model_(model), device_(std::move(device)), busy_poll_(options.busy_poll),
      poll_interval_us_(options.poll_interval_us),
      idle_poll_us_(options.effective_idle_poll_us()),
      idle_poll_ceiling_us_(options.effective_idle_poll_ceiling_us()), spell_us_(idle_poll_us_),
      binding_(model) {}

KernelHost::Impl::~Impl() {
    if (starter_.joinable()) {
        starter_.join();
    }
    // The shadow and RAM pages go with the mappings, the interrupt sink
    // with us: binding_, the last member, is destroyed first and unbinds
    // them, so the model cannot touch freed memory.
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
    auto host = std::make_unique<Impl>(model, std::move(*device), options);
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
    // A module that takes PCIEM_DMA_RAISE lets a model's completion (data,
    // entry, interrupt) go in one system call; an older one is asked
    // nothing it does not know.
    if (auto info = control->info(); info && (info->features & PCIEM_INFO_F_DMA_RAISE) != 0) {
        host->dma_->bind_raise(host->irq_.get());
    }
    host->binding_.interrupts(host->irq_.get());
    host->binding_.dma(host->dma_.get());
    return std::unique_ptr<KernelHost>(new KernelHost(std::move(host)));
}

KernelHost::KernelHost(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

KernelHost::~KernelHost() = default;

Result<void> KernelHost::run() {
    return impl_->run();
}

void KernelHost::stop() noexcept {
    impl_->stop();
}

Result<void> KernelHost::wait_started() {
    return impl_->wait_started();
}

Result<pciem_dev_config> KernelHost::configure(pciem_dev_config config) {
    return impl_->configure(config);
}

pciem_ring_stats KernelHost::stats() const {
    return impl_->stats();
}

const Device& KernelHost::device() const {
    return impl_->device_;
}

Result<void> KernelHost::Impl::map_ring() {
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

Result<void> KernelHost::Impl::map_shadows() {
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
        binding_.shadow(s, std::span<uint8_t>(static_cast<uint8_t*>(m.addr) + skip, s.len));
    }
    // Current before the first read can be served from them.
    model_.shadow_update();
    return {};
}

Result<void> KernelHost::Impl::map_dma_window(uint64_t bytes, bool no_bounce) {
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

Result<void> KernelHost::Impl::map_ram() {
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
        binding_.ram(bar, std::span<std::byte>(static_cast<std::byte*>(m.addr), m.len));
    }
    return {};
}

Result<pciem_dev_config> KernelHost::Impl::configure(pciem_dev_config config) {
    config.size = sizeof(config);
    if (::ioctl(device_.fd(), PCIEM_IOC_DEV_CONFIG, &config) < 0) {
        const int e = errno;
        return fail(e, describe_errno(e, "PCIEM_IOC_DEV_CONFIG"));
    }
    return config;
}

pciem_ring_stats KernelHost::Impl::stats() const {
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
    out.irq_events = load(in.irq_events);
    out.stalled_posts = load(in.stalled_posts);
    return out;
}


} // namespace pciem
