// SPDX-License-Identifier: MIT
#include "chaos_model.hpp"

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "pciem/dispatch.hpp"

namespace pciem::devices {

namespace {

uint64_t size_mask(unsigned size) {
    return size >= 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * size)) - 1;
}

void sleep_us(uint64_t us) {
    std::this_thread::sleep_for(std::chrono::microseconds(us));
}

} // namespace

// The wrapped model's interrupts, on their way to the host's.
class ChaosModel::ChaosInterrupts final : public Interrupts {
public:
    explicit ChaosInterrupts(ChaosModel& m) : m_(m) {}
    Result<void> raise(unsigned vector) override {
        if (m_.roll(m_.options_.drop_irq)) {
            m_.stats_.dropped_irqs.fetch_add(1, std::memory_order_relaxed);
            return {}; // lost on the way: the model believes it signalled
        }
        if (m_.roll(m_.options_.duplicate_irq)) {
            m_.stats_.duplicated_irqs.fetch_add(1, std::memory_order_relaxed);
            (void)m_.irq().raise(vector);
        }
        return m_.irq().raise(vector);
    }
    Result<void> set_intx(bool level) override { return m_.irq().set_intx(level); }
    Result<int> eventfd(unsigned vector) override { return m_.irq().eventfd(vector); }

private:
    ChaosModel& m_;
};

// The wrapped model's DMA, on its way to the host's. No zero-copy window
// (window() stays empty): every access passes through here.
class ChaosModel::ChaosDma final : public Dma {
public:
    explicit ChaosDma(ChaosModel& m) : m_(m) {}
    DmaResult<void> read(uint64_t address, std::span<std::byte> out) override {
        m_.remember(address);
        if (auto refused = refuse(address)) {
            return std::unexpected(*refused);
        }
        auto r = m_.dma().read(address, out);
        if (r && !out.empty() && m_.roll(m_.options_.dma_corrupt)) {
            m_.stats_.corrupted_dmas.fetch_add(1, std::memory_order_relaxed);
            out[m_.dice_.between(0, out.size() - 1)] ^=
                std::byte{static_cast<uint8_t>(1u << m_.dice_.between(0, 7))};
        }
        return r;
    }
    DmaResult<void> write(uint64_t address, std::span<const std::byte> in) override {
        m_.remember(address);
        if (auto refused = refuse(address)) {
            return std::unexpected(*refused);
        }
        return m_.dma().write(address, in);
    }
    DmaResult<uint64_t> fetch_add(uint64_t address, uint64_t addend, unsigned size) override {
        if (auto refused = refuse(address)) {
            return std::unexpected(*refused);
        }
        return m_.dma().fetch_add(address, addend, size);
    }
    DmaResult<uint64_t> swap(uint64_t address, uint64_t value, unsigned size) override {
        if (auto refused = refuse(address)) {
            return std::unexpected(*refused);
        }
        return m_.dma().swap(address, value, size);
    }
    DmaResult<uint64_t> compare_swap(uint64_t address, uint64_t expected, uint64_t desired,
                                     unsigned size) override {
        if (auto refused = refuse(address)) {
            return std::unexpected(*refused);
        }
        return m_.dma().compare_swap(address, expected, desired, size);
    }

private:
    std::optional<DmaFault> refuse(uint64_t address) {
        if (!m_.roll(m_.options_.dma_fail)) {
            return std::nullopt;
        }
        m_.stats_.failed_dmas.fetch_add(1, std::memory_order_relaxed);
        return DmaFault{DmaFaultKind::injected, address,
                        fmt::format("DMA at {:#x} refused by the chaos layer", address)};
    }

    ChaosModel& m_;
};

ChaosModel::ChaosModel(DeviceModel& inner, const ChaosOptions& options)
    : inner_(inner), options_(options), dice_(options.seed),
      mischief_dice_(options.seed ^ 0x9e3779b97f4a7c15ull),
      irq_(std::make_unique<ChaosInterrupts>(*this)), dma_(std::make_unique<ChaosDma>(*this)),
      seen_(64, 0), inner_binding_(inner) {
    inner_binding_.interrupts(irq_.get());
    inner_binding_.dma(dma_.get());
}

Result<std::unique_ptr<ChaosModel>> ChaosModel::create(DeviceModel& inner,
                                                       const ChaosOptions& options) {
    if (auto ok = inner.realize(); !ok) {
        return std::unexpected(ok.error());
    }
    return std::unique_ptr<ChaosModel>(new ChaosModel(inner, options));
}

ChaosModel::~ChaosModel() {
    stop_.store(true);
    if (mischief_.joinable()) {
        mischief_.join();
    }
}

void ChaosModel::on_start() {
    calm_until_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.calm_ms);
    // The host bound RAM BARs to the wrapper; the wrapped model owns them.
    for (unsigned bar = 0; bar < PCIEM_MAX_BARS; ++bar) {
        inner_binding_.ram(bar, ram(bar));
    }
    inner_.on_start();
    if (options_.mischief || options_.die_within_ms != 0) {
        stop_.store(false);
        mischief_ = std::thread([this] { mischief_loop(); });
    }
}

void ChaosModel::on_stop() {
    // No storm or random DMA once the host is going away.
    stop_.store(true);
    if (mischief_.joinable()) {
        mischief_.join();
    }
    inner_.on_stop();
    for (unsigned bar = 0; bar < PCIEM_MAX_BARS; ++bar) {
        inner_binding_.ram(bar, {});
    }
}

bool ChaosModel::is_honest(unsigned bar, uint64_t offset, unsigned size) const {
    return std::ranges::any_of(options_.honest, [&](const FaultRegion& r) {
        return r.bar == bar && offset < r.offset + r.len && r.offset < offset + size;
    });
}

std::optional<uint64_t> ChaosModel::on_mmio_read(unsigned bar, uint64_t offset, unsigned size) {
    stats_.reads.fetch_add(1, std::memory_order_relaxed);
    // The wrapped model answers first, so read side effects (FIFO pops,
    // read-to-clear) happen whatever the driver ends up seeing.
    uint64_t value = dispatch_mmio_read(inner_, bar, offset, size).value_or(size_mask(size));
    if (is_honest(bar, offset, size)) {
        return value & size_mask(size);
    }
    if (roll(options_.wrong_read)) {
        stats_.wrong_reads.fetch_add(1, std::memory_order_relaxed);
        switch (dice_.between(0, 3)) {
        case 0: value = dice_.any(); break;
        case 1: value = ~uint64_t{0}; break;
        case 2: value = 0; break;
        default: value ^= uint64_t{1} << dice_.between(0, 8 * size - 1); break;
        }
    }
    if (roll(options_.never_read)) {
        // Past the kernel's timeout: the read has completed as all-ones
        // by the time this answer arrives; pciem.ko must drop it.
        stats_.never_reads.fetch_add(1, std::memory_order_relaxed);
        sleep_us(options_.read_timeout_us + dice_.between(1000, 20'000));
    } else if (roll(options_.late_read)) {
        stats_.late_reads.fetch_add(1, std::memory_order_relaxed);
        sleep_us(dice_.between(0, 2ull * options_.read_timeout_us));
    }
    return value & size_mask(size);
}

void ChaosModel::on_mmio_write(unsigned bar, uint64_t offset, unsigned size, uint64_t value) {
    stats_.writes.fetch_add(1, std::memory_order_relaxed);
    if (roll(options_.drop_write)) {
        stats_.dropped_writes.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    if (roll(options_.corrupt_write)) {
        stats_.corrupted_writes.fetch_add(1, std::memory_order_relaxed);
        value ^= uint64_t{1} << dice_.between(0, 8 * size - 1);
    }
    dispatch_mmio_write(inner_, bar, offset, size, value);
}

std::string ChaosModel::summary() const {
    auto n = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
    const ChaosStats& s = stats_;
    return fmt::format("seed {}: {} reads ({} wrong, {} late, {} never answered in time), {} "
                       "writes ({} dropped, {} corrupted), {} interrupts dropped, {} doubled, "
                       "{} DMAs refused, {} corrupted, {} storms ({} raises), {} random DMAs "
                       "({} refused by PCIem)",
                       options_.seed, n(s.reads), n(s.wrong_reads), n(s.late_reads),
                       n(s.never_reads), n(s.writes), n(s.dropped_writes), n(s.corrupted_writes),
                       n(s.dropped_irqs), n(s.duplicated_irqs), n(s.failed_dmas),
                       n(s.corrupted_dmas), n(s.storms), n(s.storm_raises), n(s.random_dmas),
                       n(s.random_dmas_refused));
}

} // namespace pciem::devices
