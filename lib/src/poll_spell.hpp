// SPDX-License-Identifier: MIT
#pragma once
// How long the sleeping loop keeps polling after work before it sleeps.
//
// A fixed spell loses whenever the driver's rhythm is slower than the
// spell: at queue depth 1 under TCG one I/O takes ~400 us, so a 200 us
// spell runs out before the next doorbell and every I/O pays a wake-up of
// the model's thread (a vCPU woken from halt: ~300 us). The adaptive spell
// learns the gap between going to sleep and the next request: when that
// gap was short (under the ceiling), the next spell covers it twice over,
// so a steady stream of requests is served by polling; when it was long,
// the spell falls back to its base, so an idle model sleeps after one base
// spell and costs next to nothing.
#include <algorithm>
#include <chrono>

namespace pciem {

struct PollSpellLimits {
    std::chrono::microseconds base;
    std::chrono::microseconds ceiling; // <= base: a fixed spell
};

// The spell after the loop slept for `slept` and was woken by work.
inline std::chrono::microseconds next_poll_spell(const PollSpellLimits& limits,
                                                 std::chrono::microseconds slept) {
    if (limits.ceiling <= limits.base || slept >= limits.ceiling) {
        return limits.base;
    }
    return std::clamp(slept * 2, limits.base, limits.ceiling);
}

} // namespace pciem
