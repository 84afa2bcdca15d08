// SPDX-License-Identifier: MIT
//
// The adapter's clock: one tick() is one cycle of the design, in which
// every channel of the PCIem RTL interface takes its step. Handshakes are
// decided the way the design's flip-flops see them: from what both sides
// drove just before the rising edge.
#include "rtl_adapter.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

namespace pciem::rtl {

namespace {

constexpr uint32_t max_dma_len = 4096;
constexpr unsigned batch_cycles = 1024;
// Trace timestamps: a cycle is 10 time units (10 ns at 1 ns precision),
// the clock low in its first half and high in its second.
constexpr uint64_t cycle_time = 10;

uint64_t ones(unsigned size) {
    return size >= 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * size)) - 1;
}

using clock_type = std::chrono::steady_clock;

} // namespace

RtlAdapter::RtlAdapter(DeviceModel& model, std::unique_ptr<RtlDesign> design, RtlOptions options)
    : model_(model), design_(std::move(design)), opt_(std::move(options)) {}

RtlAdapter::~RtlAdapter() {
    stop();
}

template <class... Args>
void RtlAdapter::log(const char* format, const Args&... args) {
    if (!opt_.log_transactions || opt_.log == nullptr) {
        return;
    }
    fmt::print(opt_.log, "rtl: [{}] {}\n", cycle_, fmt::format(fmt::runtime(format), args...));
    std::fflush(opt_.log);
}

Result<void> RtlAdapter::start() {
    std::unique_lock lk(mu_);
    if (started_) {
        return {};
    }
    if (!opt_.trace_vcd.empty()) {
        if (auto ok = design_->open_trace(opt_.trace_vcd); !ok) {
            return ok;
        }
        tracing_ = true;
    }
    in_ = RtlInputs{};
    in_.rst_n = false;
    for (uint32_t i = 0; i < std::max(opt_.reset_cycles, 1u); ++i) {
        tick();
    }
    in_.rst_n = true;
    irq_prev_ = out_.irq;
    tail_left_ = opt_.idle_tail_cycles;
    started_ = true;
    stopping_ = false;
    if (opt_.clock_thread) {
        clock_ = std::thread([this] { clock_loop(); });
    }
    lk.unlock();
    cv_.notify_one();
    return {};
}

void RtlAdapter::stop() {
    {
        std::lock_guard lk(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (clock_.joinable()) {
        clock_.join();
    }
    std::lock_guard lk(mu_);
    if (tracing_) {
        design_->close_trace();
        tracing_ = false;
    }
    started_ = false;
    sleeping_ = true;
    idle_cv_.notify_all();
}

// ---- one cycle ---------------------------------------------------------------

void RtlAdapter::drive() {
    const bool writing = axil_.active && axil_.write;
    in_.awvalid = writing && !axil_.addr_done;
    in_.wvalid = writing && !axil_.data_done;
    in_.arvalid = axil_.active && !axil_.write && !axil_.addr_done;

    in_.rd_req_ready = in_.rst_n && rd_state_ == RdState::idle;
    in_.rd_valid = rd_state_ == RdState::streaming;
    if (in_.rd_valid) {
        const size_t beats = rd_fault_ ? 1 : (rd_buf_.size() + 7) / 8;
        uint64_t data = 0;
        if (!rd_fault_) {
            const size_t at = rd_beat_ * 8;
            std::memcpy(&data, rd_buf_.data() + at, std::min<size_t>(8, rd_buf_.size() - at));
        }
        in_.rd_data = data;
        in_.rd_last = rd_beat_ + 1 == beats;
        in_.rd_err = rd_fault_;
    } else {
        in_.rd_data = 0;
        in_.rd_last = false;
        in_.rd_err = false;
    }

    in_.wr_req_ready = in_.rst_n && wr_state_ == WrState::idle;
    in_.wr_ready = wr_state_ == WrState::collecting;
    in_.wr_done = wr_state_ == WrState::done;
    in_.wr_err = in_.wr_done && wr_fault_;
}

void RtlAdapter::tick() {
    drive();
    design_->eval(in_, false);
    const RtlOutputs out = design_->outputs();
    trace(cycle_ * cycle_time);
    design_->eval(in_, true);
    trace(cycle_ * cycle_time + cycle_time / 2);
    ++cycle_;
    ++stats_.cycles;
    if (out.busy) {
        ++stats_.busy_cycles;
        tail_left_ = opt_.idle_tail_cycles;
    } else if (tail_left_ > 0) {
        --tail_left_;
    }
    if (in_.rst_n) {
        step_axil(out);
        step_dma_read(out);
        step_dma_write(out);
        step_irq(out);
    }
    out_ = out;
}

void RtlAdapter::trace(uint64_t time) {
    if (!tracing_) {
        return;
    }
    if (cycle_ >= opt_.trace_start + opt_.trace_cycles) {
        design_->close_trace();
        tracing_ = false;
        log("trace: {} closed after cycle {}", opt_.trace_vcd, cycle_);
        return;
    }
    if (cycle_ >= opt_.trace_start) {
        design_->dump_trace(time);
    }
}

void RtlAdapter::step_axil(const RtlOutputs& out) {
    if (!axil_.active) {
        if (out.bvalid || out.rvalid) {
            log("AXI4-Lite response with no transaction outstanding (a late answer?)");
        }
        return;
    }
    // A response belongs to a request whose handshakes happened at an
    // earlier edge (AXI's dependency rules), so test before updating.
    if (axil_.write) {
        if (axil_.addr_done && axil_.data_done && out.bvalid) {
            axil_.done = true;
            axil_.resp = out.bresp;
        }
        axil_.addr_done = axil_.addr_done || (in_.awvalid && out.awready);
        axil_.data_done = axil_.data_done || (in_.wvalid && out.wready);
    } else {
        if (axil_.addr_done && out.rvalid) {
            axil_.done = true;
            axil_.resp = out.rresp;
            axil_.rdata = out.rdata;
        }
        axil_.addr_done = axil_.addr_done || (in_.arvalid && out.arready);
    }
}

void RtlAdapter::step_dma_read(const RtlOutputs& out) {
    if (rd_state_ == RdState::streaming) {
        if (in_.rd_valid && out.rd_ready) {
            if (in_.rd_last) {
                rd_state_ = RdState::idle;
            } else {
                ++rd_beat_;
            }
        }
        return;
    }
    if (!(in_.rd_req_ready && out.rd_req_valid)) {
        return;
    }
    ++stats_.dma_reads;
    const uint64_t addr = out.rd_req_addr;
    const uint32_t len = out.rd_req_len;
    rd_beat_ = 0;
    rd_state_ = RdState::streaming;
    if (len == 0 || len > max_dma_len) {
        rd_fault_ = true;
        ++stats_.dma_faults;
        log("dma read  {:#x} +{}: refused, a request is 1..{} bytes", addr, len, max_dma_len);
        return;
    }
    rd_buf_.resize(len);
    auto ok = model_.dma().read(addr, rd_buf_);
    rd_fault_ = !ok.has_value();
    if (!ok) {
        ++stats_.dma_faults;
        log("dma read  {:#x} +{}: fault: {}", addr, len, ok.error().message);
        return;
    }
    stats_.dma_bytes += len;
    log("dma read  {:#x} +{}", addr, len);
}

void RtlAdapter::step_dma_write(const RtlOutputs& out) {
    switch (wr_state_) {
    case WrState::done:
        wr_state_ = WrState::idle; // the design saw wr_done at this edge
        return;
    case WrState::idle:
        if (in_.wr_req_ready && out.wr_req_valid) {
            ++stats_.dma_writes;
            wr_addr_ = out.wr_req_addr;
            wr_buf_.assign(out.wr_req_len, std::byte{0});
            wr_beat_ = 0;
            wr_fault_ = out.wr_req_len == 0 || out.wr_req_len > max_dma_len;
            wr_state_ = out.wr_req_len == 0 ? WrState::done : WrState::collecting;
            if (wr_fault_) {
                ++stats_.dma_faults;
                log("dma write {:#x} +{}: refused, a request is 1..{} bytes", wr_addr_,
                    wr_buf_.size(), max_dma_len);
            }
        }
        return;
    case WrState::collecting:
        break;
    }
    if (!(in_.wr_ready && out.wr_valid)) {
        return;
    }
    const size_t at = wr_beat_ * 8;
    std::memcpy(wr_buf_.data() + at, &out.wr_data, std::min<size_t>(8, wr_buf_.size() - at));
    ++wr_beat_;
    if (wr_beat_ * 8 < wr_buf_.size()) {
        return;
    }
    wr_state_ = WrState::done;
    if (wr_fault_) {
        return;
    }
    auto ok = model_.dma().write(wr_addr_, wr_buf_);
    wr_fault_ = !ok.has_value();
    if (!ok) {
        ++stats_.dma_faults;
        log("dma write {:#x} +{}: fault: {}", wr_addr_, wr_buf_.size(), ok.error().message);
        return;
    }
    stats_.dma_bytes += wr_buf_.size();
    log("dma write {:#x} +{}", wr_addr_, wr_buf_.size());
}

void RtlAdapter::step_irq(const RtlOutputs& out) {
    const uint64_t rising = out.irq & ~irq_prev_;
    irq_prev_ = out.irq;
    for (unsigned line = 0; line < 64; ++line) {
        if ((rising & (uint64_t{1} << line)) == 0) {
            continue;
        }
        ++stats_.irqs;
        if (auto ok = model_.irq().raise(line); !ok) {
            ++stats_.irqs_dropped;
            log("irq {}: not delivered: {}", line, ok.error().message);
        } else {
            log("irq {}: raised vector {}", line, line);
        }
    }
}

// ---- register accesses ---------------------------------------------------------

std::optional<uint32_t> RtlAdapter::transact(bool write, uint32_t addr, uint32_t data,
                                             uint8_t strb) {
    axil_ = Axil{.active = true, .write = write};
    in_.awaddr = write ? addr : 0;
    in_.wdata = data;
    in_.wstrb = strb;
    in_.araddr = write ? 0 : addr;
    const uint64_t first = cycle_;
    const auto t0 = clock_type::now();
    while (!axil_.done && cycle_ - first < opt_.read_timeout_cycles) {
        tick();
    }
    stats_.clock_time += clock_type::now() - t0;
    tail_left_ = std::max(tail_left_, opt_.idle_tail_cycles);
    const Axil done = axil_;
    axil_ = Axil{};
    ++(write ? stats_.reg_writes : stats_.reg_reads);
    if (!done.done) {
        ++stats_.timeouts;
        log("{} {:#06x}: no response in {} cycles: {}", write ? "write" : "read ", addr,
            opt_.read_timeout_cycles, write ? "dropped" : "all-ones");
        return std::nullopt;
    }
    if (done.resp != 0) {
        ++stats_.error_responses;
        log("{} {:#06x}: {} response{}", write ? "write" : "read ", addr,
            done.resp == 2 ? "SLVERR" : "DECERR", write ? "" : ": all-ones");
        return std::nullopt;
    }
    return done.rdata;
}

uint64_t RtlAdapter::read(uint64_t offset, unsigned size) {
    host_waiting_.fetch_add(1);
    std::unique_lock lk(mu_);
    host_waiting_.fetch_sub(1);
    uint64_t value = 0;
    bool bad = !started_;
    const uint64_t first_word = offset & ~uint64_t{3};
    for (uint64_t word = first_word; !bad && word < offset + size; word += 4) {
        const uint64_t cycles = cycle_;
        auto v = transact(false, static_cast<uint32_t>(word), 0, 0);
        if (!v) {
            bad = true;
            break;
        }
        for (unsigned b = 0; b < 4; ++b) {
            const uint64_t at = word + b;
            if (at >= offset && at < offset + size) {
                value |= uint64_t{(*v >> (8 * b)) & 0xff} << (8 * (at - offset));
            }
        }
        log("read  {:#06x} -> {:#010x} ({} cycles)", word, *v, cycle_ - cycles);
    }
    if (bad) {
        value = ones(size);
    }
    finish_access(lk);
    return value;
}

void RtlAdapter::write(uint64_t offset, unsigned size, uint64_t value) {
    host_waiting_.fetch_add(1);
    std::unique_lock lk(mu_);
    host_waiting_.fetch_sub(1);
    if (!started_) {
        return;
    }
    const uint64_t first_word = offset & ~uint64_t{3};
    for (uint64_t word = first_word; word < offset + size; word += 4) {
        uint32_t data = 0;
        uint8_t strb = 0;
        for (unsigned b = 0; b < 4; ++b) {
            const uint64_t at = word + b;
            if (at >= offset && at < offset + size) {
                data |= static_cast<uint32_t>((value >> (8 * (at - offset))) & 0xff) << (8 * b);
                strb |= static_cast<uint8_t>(1u << b);
            }
        }
        const uint64_t cycles = cycle_;
        (void)transact(true, static_cast<uint32_t>(word), data, strb);
        log("write {:#06x} <- {:#010x} strb {:#x} ({} cycles)", word, data, strb, cycle_ - cycles);
    }
    finish_access(lk);
}

// The tail after an access runs right here, on the host's thread: an
// access that gives the design no work (most reads) then costs no hand-off
// to the clock thread, which under a loaded or emulated CPU is the most
// expensive part of it. Work the access started goes to the clock thread.
void RtlAdapter::finish_access(std::unique_lock<std::mutex>& lk) {
    const auto t0 = clock_type::now();
    while (started_ && tail_left_ > 0 && !design_active()) {
        tick();
    }
    stats_.clock_time += clock_type::now() - t0;
    const bool work = has_work();
    lk.unlock();
    if (work) {
        cv_.notify_one();
    }
}

// ---- running between accesses -----------------------------------------------------

bool RtlAdapter::design_active() const {
    return out_.busy || rd_state_ != RdState::idle || wr_state_ != WrState::idle;
}

bool RtlAdapter::has_work() const {
    return started_ && (design_active() || tail_left_ > 0);
}

void RtlAdapter::clock_loop() {
    std::unique_lock lk(mu_);
    for (;;) {
        cv_.wait(lk, [this] { return stopping_ || (has_work() && host_waiting_.load() == 0); });
        if (stopping_) {
            return;
        }
        sleeping_ = false;
        const auto t0 = clock_type::now();
        for (unsigned i = 0; i < batch_cycles && has_work() && host_waiting_.load() == 0; ++i) {
            tick();
        }
        stats_.clock_time += clock_type::now() - t0;
        if (!has_work()) {
            sleeping_ = true;
            idle_cv_.notify_all();
        }
        // A host access is waiting for the design: let it in before the
        // next batch (the mutex alone would let this loop take it again).
        if (host_waiting_.load() != 0) {
            lk.unlock();
            while (host_waiting_.load() != 0) {
                std::this_thread::yield();
            }
            lk.lock();
        }
    }
}

bool RtlAdapter::run_until_idle(uint64_t max_cycles) {
    std::lock_guard lk(mu_);
    const auto t0 = clock_type::now();
    for (uint64_t i = 0; i < max_cycles && has_work(); ++i) {
        tick();
    }
    stats_.clock_time += clock_type::now() - t0;
    return !has_work();
}

bool RtlAdapter::wait_idle(std::chrono::milliseconds timeout) {
    std::unique_lock lk(mu_);
    if (!opt_.clock_thread) {
        return !has_work();
    }
    return idle_cv_.wait_for(lk, timeout, [this] { return sleeping_ && !has_work(); });
}

RtlStats RtlAdapter::stats() const {
    std::lock_guard lk(mu_);
    return stats_;
}

uint64_t RtlAdapter::cycle() const {
    std::lock_guard lk(mu_);
    return cycle_;
}

} // namespace pciem::rtl
