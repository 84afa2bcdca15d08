// SPDX-License-Identifier: MIT
//
// The accelerator's display engine (docs/fb.md, "Display engine"): the
// pending and active register sets, the vblank timer (a thread of the
// model, on an absolute schedule) and what is on screen at any moment.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

namespace pciem::fb {

struct ScanoutMode {
    uint32_t width = 0;
    uint32_t height = 0;
    uint32_t stride = 0;
    uint32_t format = 0;
    uint32_t offset = 0;
    friend bool operator==(const ScanoutMode&, const ScanoutMode&) = default;
};

class DisplayEngine {
public:
    struct Limits {
        uint64_t vram_size = 0;
        uint32_t max_width = 0;
        uint32_t max_height = 0;
    };
    // Called on the vblank thread after each vblank (latch done).
    using VblankHook = std::function<void()>;

    DisplayEngine(Limits limits, VblankHook on_vblank);
    DisplayEngine(const DisplayEngine&) = delete;
    DisplayEngine& operator=(const DisplayEngine&) = delete;
    DisplayEngine(DisplayEngine&&) = delete;
    DisplayEngine& operator=(DisplayEngine&&) = delete;
    ~DisplayEngine();

    void start();
    void stop();

    // ---- the host thread's side (registers) ----
    // The pending set (offset is written by arm()).
    void set_pending(uint32_t width, uint32_t height, uint32_t stride, uint32_t format);
    // SCANOUT_OFFSET written: latch the pending set at the next vblank.
    void arm(uint32_t offset);
    void set_enabled(bool on);
    // Clamped to 1..PFB_REFRESH_MAX.
    void set_refresh(uint32_t hz);
    void reset();

    // ---- any thread ----
    [[nodiscard]] uint32_t status() const;
    [[nodiscard]] uint32_t frame_count() const;
    [[nodiscard]] uint32_t active_offset() const;
    // The active set while scanning out, nullopt while not.
    [[nodiscard]] std::optional<ScanoutMode> scanout() const;

private:
    void run();
    // Callers hold mutex_.
    void latch_locked();
    [[nodiscard]] bool acceptable(const ScanoutMode& m) const;

    const Limits limits_;
    VblankHook on_vblank_;

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    ScanoutMode pending_;
    ScanoutMode active_;
    bool active_valid_ = false;
    bool update_pending_ = false;
    bool mode_bad_ = false;
    bool enabled_ = false;
    uint32_t refresh_hz_;
    uint32_t frames_ = 0;
    uint64_t schedule_epoch_ = 0; // bumped when enable/refresh changes
    bool quit_ = false;
    std::thread thread_;
};

} // namespace pciem::fb
