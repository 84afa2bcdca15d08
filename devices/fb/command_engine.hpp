// SPDX-License-Identifier: MIT
//
// The accelerator's command engine (docs/fb.md, "Command ring"): a thread
// of the model that fetches 64-byte commands from the ring in host memory
// by DMA and executes them on VRAM, in order. The host thread only
// programs it (base, size, enable, tail doorbell, reset) and reads its
// state; a bad command stops it until reset, never the model.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "pciem/device_model.hpp"
#include "pciem_fb_hw.h"

namespace pciem::fb {

class CommandEngine {
public:
    struct Hooks {
        // A FENCE executed; irq: its interrupt flag was set.
        std::function<void(bool irq)> fence;
        // The ring stopped on an error (codes in error_code() etc.).
        std::function<void()> error;
    };

    // VRAM is the model's RAM BAR vram_bar; DMA goes through model.dma().
    CommandEngine(DeviceModel& model, unsigned vram_bar, Hooks hooks);
    CommandEngine(const CommandEngine&) = delete;
    CommandEngine& operator=(const CommandEngine&) = delete;
    CommandEngine(CommandEngine&&) = delete;
    CommandEngine& operator=(CommandEngine&&) = delete;
    ~CommandEngine();

    void start();
    void stop();

    // ---- the host thread's side (registers) ----
    void set_base(uint64_t base);
    void set_size(uint32_t size);
    void set_enabled(bool on);
    void doorbell(uint32_t tail);
    // RESET_ENGINE: waits for the command executing, if any, to end.
    void reset();

    [[nodiscard]] uint32_t head() const { return head_.load(std::memory_order_acquire); }
    [[nodiscard]] uint32_t status() const;
    [[nodiscard]] uint64_t fence_seqno() const { return seqno_.load(std::memory_order_acquire); }
    [[nodiscard]] uint32_t error_code() const { return error_code_.load(); }
    [[nodiscard]] uint32_t error_offset() const { return error_offset_.load(); }
    [[nodiscard]] uint64_t error_addr() const { return error_addr_.load(); }

private:
    struct Failure {
        uint32_t code = PFB_ERR_NONE;
        uint64_t addr = 0;
    };

    void run();
    // One command; a Failure with code NONE is success.
    [[nodiscard]] Failure execute(const pfb_cmd& cmd);
    [[nodiscard]] Failure fill(const pfb_cmd_fill& c, unsigned bpp);
    [[nodiscard]] Failure copy(const pfb_cmd_copy& c, unsigned bpp);
    [[nodiscard]] Failure transfer(const pfb_cmd_xfer& c, unsigned bpp, bool upload);
    [[nodiscard]] Failure fence(const pfb_cmd_fence& c, uint32_t flags);
    void fail(Failure f, uint32_t offset);

    DeviceModel& model_;
    unsigned vram_bar_;
    Hooks hooks_;

    // Programmed by the host thread, read by the engine: under wake_mutex_.
    std::mutex wake_mutex_;
    std::condition_variable wake_;
    uint64_t base_ = 0;
    uint32_t size_ = 0;
    bool enabled_ = false;
    uint32_t tail_ = 0;
    bool quit_ = false;
    bool busy_ = false; // a batch is being executed
    // Held while commands execute, so a reset never lands in the middle
    // of one; generation_ tells the engine a reset happened meanwhile.
    std::mutex exec_mutex_;
    uint64_t generation_ = 0;

    std::atomic<uint32_t> head_{0};
    std::atomic<bool> stopped_{false};
    std::atomic<uint64_t> seqno_{0};
    std::atomic<uint32_t> error_code_{PFB_ERR_NONE};
    std::atomic<uint32_t> error_offset_{0};
    std::atomic<uint64_t> error_addr_{0};

    std::vector<std::byte> staging_; // pixels between host memory and VRAM
    std::thread thread_;
};

} // namespace pciem::fb
