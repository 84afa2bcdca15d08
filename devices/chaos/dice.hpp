// SPDX-License-Identifier: MIT
//
// The chaos layer's random decisions: a seeded generator behind a lock,
// since the wrapped model may raise interrupts and DMA from threads of
// its own.
#pragma once

#include <cstdint>
#include <mutex>
#include <random>

namespace pciem::devices {

class Dice {
public:
    explicit Dice(uint64_t seed) : gen_(seed) {}

    // True with probability p (0 never, 1 always).
    bool roll(double p) {
        if (p <= 0) {
            return false;
        }
        const std::lock_guard lock(mu_);
        return std::uniform_real_distribution<double>(0, 1)(gen_) < p;
    }
    // Uniform in [lo, hi].
    uint64_t between(uint64_t lo, uint64_t hi) {
        const std::lock_guard lock(mu_);
        return std::uniform_int_distribution<uint64_t>(lo, hi)(gen_);
    }
    uint64_t any() {
        const std::lock_guard lock(mu_);
        return gen_();
    }

private:
    std::mutex mu_;
    std::mt19937_64 gen_;
};

} // namespace pciem::devices
