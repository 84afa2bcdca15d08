// SPDX-License-Identifier: MIT
//
// KernelHost: runs a DeviceModel behind a real PCI function created
// through /dev/pciem. One host per device, one thread per host: a model
// that answers slowly (or never) delays only its own device.
//
//     MyModel model;
//     auto host = pciem::KernelHost::create(model, {.read_timeout_us = 50'000});
//     if (!host) { print(host.error().message); return 1; }
//     std::thread loop([&] { (void)(*host)->run(); });
//     if (auto ok = (*host)->wait_started(); !ok) { ... }   // now on the bus
//     ... (*host)->stop(); loop.join();     // stop() is async-signal-safe
//
// Lifecycle: create() realizes the model, creates the function off the
// bus (PCIEM_CREATE_F_DEFER_ADD), maps its request ring, shadows and RAM
// BARs, binds the model's interrupts and applies the per-device config;
// run() serves requests and, the first time, puts the function on the
// bus (PCIEM_IOC_START, from a short-lived helper thread: drivers probe
// inside that call and their reads must be answered) and serves until
// stop(); destroying the host removes the function (a surprise removal
// for its driver).
//
// What it is made of (the ring consumer, the checked DMA, the interrupt
// ioctls, the mappings, the start thread) is libpciem's own business,
// behind KernelHost::Impl (lib/src/kernel_host_impl.hpp).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <linux/pciem.h>

#include "pciem/device.hpp"
#include "pciem/device_model.hpp"
#include "pciem/error.hpp"

namespace pciem {

struct KernelHostOptions {
    std::string control_path = PCIEM_CONTROL_NODE;
    // Spin on the ring instead of sleeping in poll(): lowest latency,
    // one CPU kept busy. The kernel then skips wake-ups entirely.
    bool busy_poll = false;
    // Sleeping loop only: besides waking for requests, wake every this
    // many microseconds to call the model's on_poll() (0: never). A model
    // that polls host memory (shadow doorbells) then needs no trapped
    // MMIO and batches what arrived meanwhile, without a spinning CPU.
    uint32_t poll_interval_us = 0;
    // Sleeping loop only: after a wake that found work, keep polling
    // (ring and on_poll(), as busy_poll does) until this many
    // microseconds pass with nothing to do, then on_idle() and sleep
    // (0: sleep at once). Busy polling's latency while the driver is
    // busy, no spinning CPU while it is not. Unset: the default, adaptive
    // polling, unless busy_poll, poll_interval_us or low_cpu choose
    // another loop: the spell starts at default_idle_poll_us and follows
    // the driver's rhythm (twice the last gap between sleeping and the
    // next request) up to default_idle_poll_ceiling_us, so that requests
    // arriving every few hundred microseconds never wait for a wake-up.
    // A value given here is a fixed spell.
    std::optional<uint32_t> idle_poll_us;
    static constexpr uint32_t default_idle_poll_us = 200;
    static constexpr uint32_t default_idle_poll_ceiling_us = 2000;
    // Never spin: sleep between requests, woken by each one (the lowest
    // CPU use, a wake-up per access: trapped reads take several times as
    // long under load).
    bool low_cpu = false;
    // PCIEM_IOC_DEV_CONFIG; unset keeps the kernel's defaults (1 s, 100 us).
    std::optional<uint32_t> read_timeout_us;
    std::optional<uint32_t> spin_us;
    // Zero-copy DMA window (PCIEM_IOC_DMA_WINDOW) of this many bytes
    // (a multiple of 2 MiB, at most 1 GiB); 0 = the checked path only.
    // All of the device's DMA then lands in pages the model maps, and
    // dma().window()/direct() reach them with no system call.
    uint64_t dma_window_bytes = 0;
    // With a window: bounce nothing (PCIEM_DMA_WINDOW_F_NO_BOUNCE). Only
    // coherent memory (queues, rings, shadow doorbells) is in the window;
    // streaming buffers keep their checked bus addresses, which
    // fast_read()/fast_write() reach through one ioctl and one copy.
    bool dma_window_no_bounce = false;
    // Present the function as a Root Complex Integrated Endpoint with AER
    // and FLR (DeviceSpec::rciep_with_aer()), whatever the model's spec
    // says, so that injected AER errors reach its driver.
    bool aer = false;

    // Refuses combinations that would silently ignore an option (EINVAL,
    // with what to drop or add). KernelHost::create() calls it too.
    [[nodiscard]] Result<void> validate() const;
    // The polling spell the loop uses after work: 0 when another loop
    // (busy, interval, low-CPU) is chosen; its ceiling, the same value
    // unless the spell is the default adaptive one.
    [[nodiscard]] uint32_t effective_idle_poll_us() const;
    [[nodiscard]] uint32_t effective_idle_poll_ceiling_us() const;
};

class KernelHost {
public:
    static Result<std::unique_ptr<KernelHost>> create(DeviceModel& model,
                                                      const KernelHostOptions& options = {});
    KernelHost(const KernelHost&) = delete;
    KernelHost& operator=(const KernelHost&) = delete;
    KernelHost(KernelHost&&) = delete;
    KernelHost& operator=(KernelHost&&) = delete;
    ~KernelHost();

    // Serves requests until stop() (returns success) or until the device
    // goes away (an error saying so). Calls on_start()/on_stop(). The
    // first run() also puts the function on the bus; if that fails, run()
    // returns the error. A stop() during the start takes effect once the
    // start completed (the driver probing meanwhile is still answered).
    Result<void> run();
    // Makes run() return. Thread-safe and async-signal-safe.
    void stop() noexcept;
    // Blocks until the function is on the bus (success) or failed to get
    // there (the error). Call it from another thread than run()'s, once
    // run() has been started: tools write their ready file after it.
    Result<void> wait_started();

    // PCIEM_IOC_DEV_CONFIG: set the fields named in config.flags and
    // return the values now in force.
    Result<pciem_dev_config> configure(pciem_dev_config config);
    // A snapshot of the kernel's counters for this device.
    [[nodiscard]] pciem_ring_stats stats() const;
    [[nodiscard]] const Device& device() const;

    struct Impl;

private:
    explicit KernelHost(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

} // namespace pciem
