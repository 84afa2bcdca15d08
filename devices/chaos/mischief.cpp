// SPDX-License-Identifier: MIT
//
// The chaos layer's own thread: what hostile hardware does unasked.
// Interrupt storms on random vectors, DMA at random ranges (near the
// addresses the wrapped model used, so the sanitizer's bounds, direction
// and stale-mapping rules are hit, and anywhere), and death by SIGKILL at
// a random moment (the surprise removal of a device mid-I/O).
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <optional>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "chaos_model.hpp"

namespace pciem::devices {

void ChaosModel::remember(uint64_t address) {
    const std::lock_guard lock(seen_mu_);
    seen_[seen_next_] = address;
    seen_next_ = (seen_next_ + 1) % seen_.size();
}

uint64_t ChaosModel::recalled() {
    const std::lock_guard lock(seen_mu_);
    return seen_[mischief_dice_.between(0, seen_.size() - 1)];
}

void ChaosModel::storm() {
    stats_.storms.fetch_add(1, std::memory_order_relaxed);
    const uint64_t n = mischief_dice_.between(1, options_.storm_max);
    for (uint64_t i = 0; i < n && !stop_.load(std::memory_order_relaxed); ++i) {
        // Vectors past the function's fail with EINVAL: hostile all the same.
        (void)irq().raise(static_cast<unsigned>(mischief_dice_.between(0, options_.vectors - 1)));
        stats_.storm_raises.fetch_add(1, std::memory_order_relaxed);
    }
}

void ChaosModel::random_dma() {
    stats_.random_dmas.fetch_add(1, std::memory_order_relaxed);
    uint64_t address = recalled();
    uint64_t len = mischief_dice_.between(1, options_.dma_max_bytes);
    if (address == 0 || mischief_dice_.roll(0.25)) {
        address = mischief_dice_.any(); // anywhere at all
    } else if (mischief_dice_.roll(0.5)) {
        // inside the mapping, most likely: what the sanitizer lets through
        address += mischief_dice_.between(0, 63) * 8;
        len = std::min<uint64_t>(len, 64);
    } else {
        address += mischief_dice_.between(0, 16384) - 8192; // around it: bounds, guards
    }
    std::vector<std::byte> buf(len);
    bool ok = false;
    if (!mischief_dice_.roll(options_.random_dma_writes)) {
        ok = dma().read(address, buf).has_value();
    } else {
        switch (mischief_dice_.between(0, 2)) {
        case 0:
            for (auto& b : buf) {
                b = std::byte{static_cast<uint8_t>(mischief_dice_.between(0, 255))};
            }
            ok = dma().write(address, buf).has_value();
            break;
        case 1:
            ok = dma().fetch_add(address, mischief_dice_.any(), mischief_dice_.roll(0.5) ? 8 : 4)
                     .has_value();
            break;
        default:
            ok = dma().compare_swap(address, 0, mischief_dice_.any(), 8).has_value();
            break;
        }
    }
    if (!ok) {
        stats_.random_dmas_refused.fetch_add(1, std::memory_order_relaxed);
    }
}

void ChaosModel::mischief_loop() {
    using clock = std::chrono::steady_clock;
    const auto start = clock::now();
    std::optional<clock::time_point> death;
    if (options_.die_within_ms != 0) {
        death = start + std::chrono::milliseconds(
                            mischief_dice_.between(0, options_.die_within_ms - 1));
    }
    while (!stop_.load()) {
        if (death && clock::now() >= *death) {
            fmt::print("pciem-chaos: {}; dying now (SIGKILL)\n", summary());
            std::fflush(stdout);
            std::raise(SIGKILL);
        }
        if (options_.mischief && !calm()) {
            switch (mischief_dice_.between(0, 3)) {
            case 0: storm(); break;
            case 1:
            case 2: random_dma(); break;
            default: break; // a quiet moment
            }
        }
        // Sleep in slices, so on_stop() never waits long for the join.
        auto left = std::chrono::milliseconds(mischief_dice_.between(1, options_.tick_ms_max));
        while (left.count() > 0 && !stop_.load()) {
            const auto slice = std::min(left, std::chrono::milliseconds(5));
            std::this_thread::sleep_for(slice);
            left -= slice;
        }
    }
}

} // namespace pciem::devices
