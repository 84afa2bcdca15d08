// SPDX-License-Identifier: MIT
//
// What a KernelHost is made of: the device, its mappings (request ring,
// shadows, RAM BARs, DMA window), the ring consumer, the checked DMA and
// interrupt ioctls bound to the model, the start thread and the loop's
// state. Private to libpciem; kernel_host.cpp sets it up,
// kernel_host_loop.cpp runs it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "kernel_dma.hpp"
#include "kernel_interrupts.hpp"
#include "pciem/kernel_host.hpp"
#include "pciem/unique_fd.hpp"
#include "ring_consumer.hpp"

namespace pciem {

struct KernelHost::Impl {
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

    enum class StartState { idle, starting, started, failed };

    Impl(DeviceModel& model, Device device, const KernelHostOptions& options);
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;
    Impl(Impl&&) = delete;
    Impl& operator=(Impl&&) = delete;
    ~Impl();

    // ---- setup (kernel_host.cpp) -------------------------------------------
    Result<void> map_ring();
    Result<void> map_shadows();
    Result<void> map_ram();
    Result<void> map_dma_window(uint64_t bytes, bool no_bounce);
    Result<pciem_dev_config> configure(pciem_dev_config config);
    [[nodiscard]] pciem_ring_stats stats() const;

    // ---- the start and the loop (kernel_host_loop.cpp) ----------------------
    Result<void> run();
    void stop() noexcept;
    Result<void> wait_started();
    void begin_start();
    // Whether run() may return now: stop() was called and no start is
    // in flight. Sets *error when the start failed.
    bool should_leave(std::optional<Error>* error);
    Result<void> run_polling();
    Result<void> run_sleeping();
    // The polling spell after a wake with work (idle_poll_us): false
    // when the loop should leave.
    bool poll_until_idle(std::optional<Error>* error);
    // Before a spell: the adaptive spell follows the gap since the last
    // one ended.
    void adapt_spell();

    DeviceModel& model_;
    Device device_;
    bool busy_poll_;
    uint32_t poll_interval_us_;
    // The polling spell after work (0: none), its ceiling (the adaptive
    // default grows it up to there, poll_spell.hpp) and its current
    // length; when the loop last went to sleep after a spell.
    uint32_t idle_poll_us_;
    uint32_t idle_poll_ceiling_us_;
    uint32_t spell_us_;
    std::optional<std::chrono::steady_clock::time_point> slept_at_;
    std::optional<Mapping> ring_map_;
    std::vector<Mapping> shadow_maps_;
    std::vector<Mapping> ram_maps_;
    std::optional<Mapping> dma_window_map_;
    std::optional<Mapping> dma_perm_map_;
    std::unique_ptr<RingConsumer> consumer_;
    RingView ring_;
    UniqueFd stop_fd_;
    std::atomic<bool> stop_{false};
    std::unique_ptr<KernelInterrupts> irq_;
    std::unique_ptr<KernelDma> dma_;
    // The start: state and result under start_mutex_; start_fd_ wakes a
    // sleeping loop when the helper thread is done.
    std::mutex start_mutex_;
    std::condition_variable start_cv_;
    StartState start_state_ = StartState::idle;
    std::optional<Error> start_error_;
    std::atomic<bool> start_settled_{false};
    UniqueFd start_fd_;
    std::thread starter_;
    // Last: destroyed first, it unbinds the model from the mappings,
    // interrupts and DMA above before they go.
    ModelBinding binding_;
};

} // namespace pciem
