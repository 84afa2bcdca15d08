// SPDX-License-Identifier: MIT
//
// ChaosModel: a device model wrapped so that it misbehaves at random, as
// broken or hostile hardware does, while still looking like the device
// it wraps (same IDs, class, BARs, capabilities), so the device's own
// driver binds to it. Around an NVMe controller the stock nvme driver
// binds; around the test device, PCIem's test driver.
//
//   - reads: wrong values, late answers, answers after the kernel's read
//     timeout (the read completes as all-ones; the answer comes too late);
//   - writes: lost, or one bit flipped;
//   - interrupts the model raises: lost or doubled;
//   - DMA the model does: refused, or read data with a byte flipped;
//   - on its own thread (mischief.cpp): storms of interrupts on random
//     vectors, DMA at random ranges near the addresses the model used
//     and anywhere, and a SIGKILL to itself at a random moment.
//
// pciem.ko must survive all of it with a clean log; what a driver does
// with it is the driver's business (docs/chaos.md).
//
// The wrapper declares no register map: every access reaches it through
// the on_mmio_* fallbacks and goes on to the wrapped model's maps, so no
// read is served from a shadow the chaos could not touch. The wrapped
// model's interrupts and DMA are bound to the wrapper's, which pass them
// on (or not) to the host's.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "chaos_options.hpp"
#include "dice.hpp"
#include "pciem/device_model.hpp"

namespace pciem::devices {

// What the chaos did, for the closing line and tests.
struct ChaosStats {
    std::atomic<uint64_t> reads{0};
    std::atomic<uint64_t> wrong_reads{0};
    std::atomic<uint64_t> late_reads{0};
    std::atomic<uint64_t> never_reads{0};
    std::atomic<uint64_t> writes{0};
    std::atomic<uint64_t> dropped_writes{0};
    std::atomic<uint64_t> corrupted_writes{0};
    std::atomic<uint64_t> dropped_irqs{0};
    std::atomic<uint64_t> duplicated_irqs{0};
    std::atomic<uint64_t> failed_dmas{0};
    std::atomic<uint64_t> corrupted_dmas{0};
    std::atomic<uint64_t> storms{0};
    std::atomic<uint64_t> storm_raises{0};
    std::atomic<uint64_t> random_dmas{0};
    std::atomic<uint64_t> random_dmas_refused{0};
};

class ChaosModel final : public DeviceModel {
public:
    // Realizes `inner` (which must outlive the wrapper) and wraps it.
    static Result<std::unique_ptr<ChaosModel>> create(DeviceModel& inner,
                                                      const ChaosOptions& options);
    ~ChaosModel() override;
    ChaosModel(const ChaosModel&) = delete;
    ChaosModel& operator=(const ChaosModel&) = delete;
    ChaosModel(ChaosModel&&) = delete;
    ChaosModel& operator=(ChaosModel&&) = delete;

    [[nodiscard]] DeviceSpec spec() const override { return inner_.spec(); }
    void on_start() override;
    void on_stop() override;
    std::optional<uint64_t> on_mmio_read(unsigned bar, uint64_t offset, unsigned size) override;
    void on_mmio_write(unsigned bar, uint64_t offset, unsigned size, uint64_t value) override;
    uint32_t on_config_read(uint16_t offset, unsigned size) override {
        return inner_.on_config_read(offset, size);
    }
    void on_config_write(uint16_t offset, unsigned size, uint32_t value) override {
        inner_.on_config_write(offset, size, value);
    }
    void on_irq_config(const IrqConfigEvent& event) override { inner_.on_irq_config(event); }
    void on_command(uint16_t value) override { inner_.on_command(value); }
    void on_reset() override { inner_.on_reset(); }
    bool on_poll() override { return inner_.on_poll(); }
    bool on_idle() override { return inner_.on_idle(); }

    [[nodiscard]] const ChaosStats& stats() const { return stats_; }
    [[nodiscard]] const ChaosOptions& options() const { return options_; }
    // One line: the seed and what the chaos did.
    [[nodiscard]] std::string summary() const;

private:
    class ChaosInterrupts;
    class ChaosDma;

    ChaosModel(DeviceModel& inner, const ChaosOptions& options);

    // Still in the calm start (ChaosOptions::calm_ms): no misbehaviour.
    [[nodiscard]] bool calm() const {
        return std::chrono::steady_clock::now() < calm_until_;
    }
    // Whether a read of [offset, offset + size) touches an honest region.
    [[nodiscard]] bool is_honest(unsigned bar, uint64_t offset, unsigned size) const;
    // A roll of the access dice that never comes up while calm.
    bool roll(double p) { return !calm() && dice_.roll(p); }

    // mischief.cpp: the background thread.
    void mischief_loop();
    void storm();
    void random_dma();
    // A bus address the wrapped model used lately (its queues, PRP lists,
    // data buffers), remembered for random DMA near real mappings.
    void remember(uint64_t address);
    [[nodiscard]] uint64_t recalled();

    DeviceModel& inner_;
    const ChaosOptions options_;
    Dice dice_;          // decisions on the host's and the model's threads
    Dice mischief_dice_; // the mischief thread's own, so its sequence is the seed's
    ChaosStats stats_;
    std::unique_ptr<ChaosInterrupts> irq_;
    std::unique_ptr<ChaosDma> dma_;

    std::mutex seen_mu_;
    std::vector<uint64_t> seen_; // ring of recent addresses
    size_t seen_next_ = 0;

    std::chrono::steady_clock::time_point calm_until_{};
    std::atomic<bool> stop_{false};
    std::thread mischief_;
    // Last: this layer is the wrapped model's host. Destroyed first (after
    // the destructor stopped the mischief thread), it unbinds the wrapped
    // model from irq_, dma_ and the RAM BARs before they go.
    ModelBinding inner_binding_;
};

} // namespace pciem::devices
