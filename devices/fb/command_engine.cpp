// SPDX-License-Identifier: MIT
//
// Fetch and execute: the command engine's thread, and what each opcode
// does (docs/fb.md, "Commands").
#include "command_engine.hpp"

#include <algorithm>
#include <cstring>

#include "blit.hpp"

namespace pciem::fb {

namespace {

constexpr uint32_t batch_commands = 64; // fetched with one DMA read

bool ring_size_ok(uint32_t size) {
    return size >= PFB_RING_SIZE_MIN && size <= PFB_RING_SIZE_MAX && (size & (size - 1)) == 0;
}

} // namespace

CommandEngine::CommandEngine(DeviceModel& model, unsigned vram_bar, Hooks hooks)
    : model_(model), vram_bar_(vram_bar), hooks_(std::move(hooks)) {}

CommandEngine::~CommandEngine() {
    stop();
}

void CommandEngine::start() {
    if (thread_.joinable()) {
        return;
    }
    {
        std::lock_guard lk(wake_mutex_);
        quit_ = false;
    }
    thread_ = std::thread([this] { run(); });
}

void CommandEngine::stop() {
    {
        std::lock_guard lk(wake_mutex_);
        quit_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
}

void CommandEngine::set_base(uint64_t base) {
    std::lock_guard lk(wake_mutex_);
    base_ = base;
}

void CommandEngine::set_size(uint32_t size) {
    std::lock_guard lk(wake_mutex_);
    size_ = size;
}

void CommandEngine::set_enabled(bool on) {
    bool bad = false;
    {
        std::lock_guard lk(wake_mutex_);
        if (on && !enabled_) {
            head_.store(0, std::memory_order_release);
            tail_ = 0;
            bad = (base_ % PFB_CMD_SIZE) != 0 || !ring_size_ok(size_);
        }
        enabled_ = on && !bad;
    }
    if (bad) {
        fail({PFB_ERR_RING, 0}, 0);
    }
    wake_.notify_all();
}

void CommandEngine::doorbell(uint32_t tail) {
    bool bad = false;
    {
        std::lock_guard lk(wake_mutex_);
        if (enabled_ && (tail % PFB_CMD_SIZE != 0 || tail >= size_)) {
            bad = true;
        } else {
            tail_ = tail;
        }
    }
    if (bad) {
        fail({PFB_ERR_RING, 0}, head());
        return;
    }
    wake_.notify_all();
}

void CommandEngine::reset() {
    std::lock_guard exec(exec_mutex_);
    std::lock_guard lk(wake_mutex_);
    ++generation_;
    // A batch the thread is still fetching belongs to the old generation
    // and is dropped: the engine reads idle from the reset on (RING_STATUS
    // read 0 until the thread came round, seen under ASan's slowness).
    busy_ = false;
    enabled_ = false;
    tail_ = 0;
    head_.store(0, std::memory_order_release);
    stopped_.store(false);
    error_code_.store(PFB_ERR_NONE);
    error_offset_.store(0);
    error_addr_.store(0);
}

uint32_t CommandEngine::status() const {
    auto& self = const_cast<CommandEngine&>(*this); // the mutex only
    std::lock_guard lk(self.wake_mutex_);
    uint32_t st = 0;
    if (!busy_ && (!enabled_ || head() == tail_ || stopped_.load())) {
        st |= PFB_RING_IDLE;
    }
    if (stopped_.load()) {
        st |= PFB_RING_STOPPED;
    }
    return st;
}

void CommandEngine::fail(Failure f, uint32_t offset) {
    // The first error is the one reported; the ring is stopped from then on.
    uint32_t none = PFB_ERR_NONE;
    if (error_code_.compare_exchange_strong(none, f.code)) {
        error_offset_.store(offset);
        error_addr_.store(f.addr);
    }
    stopped_.store(true);
    if (hooks_.error) {
        hooks_.error();
    }
}

void CommandEngine::run() {
    std::vector<pfb_cmd> batch(batch_commands);
    std::unique_lock lk(wake_mutex_);
    for (;;) {
        wake_.wait(lk, [&] { return quit_ || (enabled_ && !stopped_.load() && head() != tail_); });
        if (quit_) {
            return;
        }
        const uint64_t base = base_;
        const uint32_t size = size_;
        const uint32_t tail = tail_;
        const uint64_t gen = generation_;
        const uint32_t head = head_.load();
        busy_ = true;
        lk.unlock();

        // Up to the tail, or to the end of the ring when it wraps.
        const uint32_t end = tail > head ? tail : size;
        const uint32_t n = std::min<uint32_t>((end - head) / PFB_CMD_SIZE, batch_commands);
        const auto bytes = std::as_writable_bytes(std::span(batch.data(), n));
        auto fetched = model_.dma().fast_read(base + head, bytes);
        {
            std::lock_guard exec(exec_mutex_);
            if (generation_ == gen) {
                if (!fetched) {
                    fail({PFB_ERR_DMA, fetched.error().address}, head);
                } else {
                    uint32_t at = head;
                    for (uint32_t i = 0; i < n; ++i) {
                        const Failure f = execute(batch[i]);
                        if (f.code != PFB_ERR_NONE) {
                            fail(f, at);
                            break;
                        }
                        at = (at + PFB_CMD_SIZE) & (size - 1);
                        head_.store(at, std::memory_order_release);
                    }
                }
            }
        }
        lk.lock();
        busy_ = false;
    }
}

CommandEngine::Failure CommandEngine::execute(const pfb_cmd& cmd) {
    const uint32_t op = PFB_CMD_OPCODE(cmd.header);
    const uint32_t flags = cmd.header >> 16;
    const unsigned bpp = bytes_per_pixel(PFB_CMD_FORMAT(cmd.header));
    const bool pixels =
        op == PFB_OP_FILL || op == PFB_OP_COPY || op == PFB_OP_UPLOAD || op == PFB_OP_DOWNLOAD;
    if (pixels && flags != 0) {
        return {PFB_ERR_OPCODE, 0};
    }
    if (pixels && bpp == 0) {
        return {PFB_ERR_SURFACE, 0};
    }
    switch (op) {
    case PFB_OP_NOP:
        return {};
    case PFB_OP_FILL:
        return fill(cmd.fill, bpp);
    case PFB_OP_COPY:
        return copy(cmd.copy, bpp);
    case PFB_OP_UPLOAD:
        return transfer(cmd.xfer, bpp, true);
    case PFB_OP_DOWNLOAD:
        return transfer(cmd.xfer, bpp, false);
    case PFB_OP_FENCE:
        return fence(cmd.fence, flags);
    default:
        return {PFB_ERR_OPCODE, 0};
    }
}

CommandEngine::Failure CommandEngine::fill(const pfb_cmd_fill& c, unsigned bpp) {
    const auto vram = model_.ram(vram_bar_);
    const Surface dst = Surface::from(c.dst, bpp);
    if (!dst.valid(vram.size())) {
        return {PFB_ERR_SURFACE, 0};
    }
    pciem::fb::fill(vram, dst, clip(c.rect, dst.width, dst.height), c.color);
    return {};
}

CommandEngine::Failure CommandEngine::copy(const pfb_cmd_copy& c, unsigned bpp) {
    const auto vram = model_.ram(vram_bar_);
    const Surface dst = Surface::from(c.dst, bpp);
    const Surface src = Surface::from(c.src, bpp);
    if (!dst.valid(vram.size()) || !src.valid(vram.size())) {
        return {PFB_ERR_SURFACE, 0};
    }
    pciem::fb::copy(vram, dst, src, c.rect, c.src_x, c.src_y);
    return {};
}

CommandEngine::Failure CommandEngine::transfer(const pfb_cmd_xfer& c, unsigned bpp, bool upload) {
    const auto vram = model_.ram(vram_bar_);
    const Surface s = Surface::from(c.vram, bpp);
    if (!s.valid(vram.size())) {
        return {PFB_ERR_SURFACE, 0};
    }
    if (c.sg_count == 0 || c.sg_count > PFB_SG_MAX) {
        return {PFB_ERR_SG, 0};
    }
    const Clip r = clip(c.rect, s.width, s.height);
    if (r.empty()) {
        return {};
    }
    const int64_t hx = int64_t{c.host_x} + r.dx;
    const int64_t hy = int64_t{c.host_y} + r.dy;
    if (hx < 0 || hy < 0) {
        return {PFB_ERR_SG, 0}; // before the start of the stream
    }

    std::vector<pfb_sg_entry> list(c.sg_count);
    if (auto ok = model_.dma().fast_read(c.sg_addr, std::as_writable_bytes(std::span(list))); !ok) {
        return {PFB_ERR_DMA, ok.error().address};
    }
    // Stream offset where each entry starts.
    std::vector<uint64_t> starts(list.size() + 1, 0);
    for (size_t i = 0; i < list.size(); ++i) {
        starts[i + 1] = starts[i] + list[i].len;
    }

    // The clipped rectangle's lines as pieces of host memory, merged where
    // they are contiguous in bus addresses (whole lines of a linear image
    // become one piece per entry).
    const uint64_t row = uint64_t{r.w} * bpp;
    std::vector<DmaSegment> segs;
    for (uint32_t j = 0; j < r.h; ++j) {
        uint64_t pos =
            static_cast<uint64_t>(hy + j) * c.host_pitch + static_cast<uint64_t>(hx) * bpp;
        uint64_t left = row;
        if (pos + left > starts.back()) {
            return {PFB_ERR_SG, 0};
        }
        size_t e = static_cast<size_t>(std::upper_bound(starts.begin(), starts.end(), pos) -
                                       starts.begin()) -
                   1;
        while (left > 0) {
            const uint64_t in_entry = pos - starts[e];
            const uint64_t take = std::min<uint64_t>(left, list[e].len - in_entry);
            if (take == 0) {
                ++e; // an empty entry
                continue;
            }
            const uint64_t addr = list[e].addr + in_entry;
            if (!segs.empty() && segs.back().address + segs.back().length == addr) {
                segs.back().length += take;
            } else {
                segs.push_back({addr, take});
            }
            pos += take;
            left -= take;
            ++e;
        }
    }

    staging_.resize(row * r.h);
    if (upload) {
        if (auto ok = model_.dma().fast_read_sg(segs, staging_); !ok) {
            return {PFB_ERR_DMA, ok.error().address};
        }
        for (uint32_t j = 0; j < r.h; ++j) {
            std::memcpy(vram.data() + s.at(r.x, r.y + j), staging_.data() + row * j, row);
        }
        return {};
    }
    for (uint32_t j = 0; j < r.h; ++j) {
        std::memcpy(staging_.data() + row * j, vram.data() + s.at(r.x, r.y + j), row);
    }
    if (auto ok = model_.dma().fast_write_sg(segs, staging_); !ok) {
        return {PFB_ERR_DMA, ok.error().address};
    }
    return {};
}

CommandEngine::Failure CommandEngine::fence(const pfb_cmd_fence& c, uint32_t flags) {
    if ((flags & ~PFB_FENCE_F_IRQ) != 0) {
        return {PFB_ERR_OPCODE, 0};
    }
    if (c.addr != 0) {
        if (auto ok = model_.dma().fast_write(c.addr, std::as_bytes(std::span(&c.seqno, 1))); !ok) {
            return {PFB_ERR_DMA, ok.error().address};
        }
    }
    seqno_.store(c.seqno, std::memory_order_release);
    if (hooks_.fence) {
        hooks_.fence((flags & PFB_FENCE_F_IRQ) != 0);
    }
    return {};
}

} // namespace pciem::fb
