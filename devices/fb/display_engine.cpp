// SPDX-License-Identifier: MIT
#include "display_engine.hpp"

#include <algorithm>

#include <sys/prctl.h>

#include "blit.hpp"
#include "pciem_fb_hw.h"

namespace pciem::fb {

namespace {

using Clock = std::chrono::steady_clock;

// A vblank thread behind its schedule (the model, or the whole guest, was
// descheduled) fires the vblanks it missed at once, so FRAME_COUNT follows
// the clock as a display's would and the driver counts every one; more than
// this many periods behind (what the driver's shared handler accepts as one
// step) it starts a new schedule instead.
constexpr int max_lag_periods = PFB_REFRESH_MAX;

} // namespace

DisplayEngine::DisplayEngine(Limits limits, VblankHook on_vblank)
    : limits_(limits), on_vblank_(std::move(on_vblank)), refresh_hz_(PFB_REFRESH_DEFAULT) {}

DisplayEngine::~DisplayEngine() {
    stop();
}

void DisplayEngine::start() {
    if (thread_.joinable()) {
        return;
    }
    {
        std::lock_guard lk(mutex_);
        quit_ = false;
    }
    thread_ = std::thread([this] { run(); });
}

void DisplayEngine::stop() {
    {
        std::lock_guard lk(mutex_);
        quit_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
}

void DisplayEngine::set_pending(uint32_t width, uint32_t height, uint32_t stride, uint32_t format) {
    std::lock_guard lk(mutex_);
    pending_.width = width;
    pending_.height = height;
    pending_.stride = stride;
    pending_.format = format;
}

void DisplayEngine::arm(uint32_t offset) {
    std::lock_guard lk(mutex_);
    pending_.offset = offset;
    update_pending_ = true;
}

void DisplayEngine::set_enabled(bool on) {
    {
        std::lock_guard lk(mutex_);
        if (on && !enabled_) {
            latch_locked();
        }
        enabled_ = on;
        ++schedule_epoch_;
    }
    wake_.notify_all();
}

void DisplayEngine::set_refresh(uint32_t hz) {
    {
        std::lock_guard lk(mutex_);
        refresh_hz_ = std::clamp<uint32_t>(hz, 1, PFB_REFRESH_MAX);
        ++schedule_epoch_;
    }
    wake_.notify_all();
}

void DisplayEngine::reset() {
    {
        std::lock_guard lk(mutex_);
        pending_ = {};
        active_ = {};
        active_valid_ = false;
        update_pending_ = false;
        mode_bad_ = false;
        enabled_ = false;
        refresh_hz_ = PFB_REFRESH_DEFAULT;
        frames_ = 0;
        ++schedule_epoch_;
    }
    wake_.notify_all();
}

bool DisplayEngine::acceptable(const ScanoutMode& m) const {
    if (m.width == 0 || m.height == 0 || m.width > limits_.max_width ||
        m.height > limits_.max_height) {
        return false;
    }
    const Surface s{m.offset, m.stride, m.width, m.height, bytes_per_pixel(m.format)};
    return s.valid(limits_.vram_size);
}

void DisplayEngine::latch_locked() {
    update_pending_ = false;
    if (acceptable(pending_)) {
        active_ = pending_;
        active_valid_ = true;
        mode_bad_ = false;
    } else {
        mode_bad_ = true;
    }
}

uint32_t DisplayEngine::status() const {
    std::lock_guard lk(mutex_);
    uint32_t st = 0;
    if (enabled_ && active_valid_) {
        st |= PFB_DISPLAY_SCANNING;
    }
    if (update_pending_) {
        st |= PFB_DISPLAY_UPDATE_PENDING;
    }
    if (mode_bad_) {
        st |= PFB_DISPLAY_MODE_BAD;
    }
    return st;
}

uint32_t DisplayEngine::frame_count() const {
    std::lock_guard lk(mutex_);
    return frames_;
}

uint32_t DisplayEngine::active_offset() const {
    std::lock_guard lk(mutex_);
    return active_.offset;
}

std::optional<ScanoutMode> DisplayEngine::scanout() const {
    std::lock_guard lk(mutex_);
    if (!enabled_ || !active_valid_) {
        return std::nullopt;
    }
    return active_;
}

void DisplayEngine::run() {
    // Vblanks are deadlines: ask the kernel not to round them up by the
    // default 50 us of timer slack.
    prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
    std::unique_lock lk(mutex_);
    while (!quit_) {
        if (!enabled_) {
            wake_.wait(lk, [&] { return quit_ || enabled_; });
            continue;
        }
        const uint64_t epoch = schedule_epoch_;
        const auto period = std::chrono::nanoseconds(1'000'000'000 / refresh_hz_);
        auto next = Clock::now() + period;
        while (!quit_ && enabled_ && schedule_epoch_ == epoch) {
            if (wake_.wait_until(lk, next, [&] { return quit_ || schedule_epoch_ != epoch; })) {
                break;
            }
            if (update_pending_) {
                latch_locked();
            }
            ++frames_;
            lk.unlock();
            on_vblank_();
            lk.lock();
            next += period;
            if (Clock::now() - next > period * max_lag_periods) {
                next = Clock::now() + period;
            }
        }
    }
}

} // namespace pciem::fb
