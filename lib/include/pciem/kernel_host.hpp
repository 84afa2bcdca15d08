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
//     ... (*host)->stop(); loop.join();     // stop() is async-signal-safe
//
// Lifecycle: create() realizes the model, creates the function, maps its
// request ring and shadows and applies the per-device config; run()
// serves requests until stop(); destroying the host removes the function
// (a surprise removal for its driver).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <linux/pciem.h>

#include "pciem/device.hpp"
#include "pciem/device_model.hpp"
#include "pciem/error.hpp"
#include "pciem/ring_consumer.hpp"
#include "pciem/unique_fd.hpp"

namespace pciem {

struct KernelHostOptions {
    std::string control_path = PCIEM_CONTROL_NODE;
    // Spin on the ring instead of sleeping in poll(): lowest latency,
    // one CPU kept busy. The kernel then skips wake-ups entirely.
    bool busy_poll = false;
    // PCIEM_IOC_DEV_CONFIG; unset keeps the kernel's defaults (1 s, 100 us).
    std::optional<uint32_t> read_timeout_us;
    std::optional<uint32_t> spin_us;
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
    // goes away (an error saying so). Calls on_start()/on_stop().
    Result<void> run();
    // Makes run() return. Thread-safe and async-signal-safe.
    void stop() noexcept;

    // PCIEM_IOC_DEV_CONFIG: set the fields named in config.flags and
    // return the values now in force.
    Result<pciem_dev_config> configure(pciem_dev_config config);
    // A snapshot of the kernel's counters for this device.
    [[nodiscard]] pciem_ring_stats stats() const;
    [[nodiscard]] const Device& device() const { return device_; }

private:
    // One mmap()ed region, unmapped on destruction.
    struct Mapping {
        void* addr = nullptr;
        size_t len = 0;
        Mapping() = default;
        Mapping(void* a, size_t l) : addr(a), len(l) {}
        Mapping(Mapping&& o) noexcept : addr(o.addr), len(o.len) { o.addr = nullptr; }
        Mapping& operator=(Mapping&&) = delete;
        Mapping(const Mapping&) = delete;
        Mapping& operator=(const Mapping&) = delete;
        ~Mapping();
    };

    KernelHost(DeviceModel& model, Device device, bool busy_poll);
    Result<void> map_ring();
    Result<void> map_shadows();
    void run_polling();
    Result<void> run_sleeping();

    DeviceModel& model_;
    Device device_;
    bool busy_poll_;
    std::optional<Mapping> ring_map_;
    std::vector<Mapping> shadow_maps_;
    std::unique_ptr<RingConsumer> consumer_;
    RingView ring_;
    UniqueFd stop_fd_;
    std::atomic<bool> stop_{false};
};

} // namespace pciem
