// SPDX-License-Identifier: MIT
//
// RtlAdapter: runs a simulated design (RtlDesign) behind a PCIem device
// model. It owns the design's clock:
//  - a BAR access becomes AXI4-Lite transactions, clocked right away on
//    the host's thread until the design answers (reads are synchronous);
//    a design that does not answer within read_timeout_cycles completes
//    the access as all-ones (a read) or drops it (a write), as PCIe does
//    after a completion timeout, and the log says so;
//  - DMA requests become dma() reads and writes (the sanitizer checks
//    them), their bytes streamed to or from the design as 64-bit beats;
//  - a rising edge on irq line i raises interrupt vector i;
//  - after an access the host's thread runs idle_tail_cycles more (so
//    work the access started shows as `busy`); while the design is `busy`
//    a clock thread runs it, and idle_tail_cycles more after `busy` fell,
//    then sleeps: an idle design costs nothing.
// One mutex owns the design; a host access takes it between two batches
// of the clock thread's cycles, so it waits at most one cycle of work.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "rtl_design.hpp"

#include "pciem/device_model.hpp"

namespace pciem::rtl {

struct RtlOptions {
    // Cycles a register access may take before it completes as a timeout.
    uint32_t read_timeout_cycles = 100000;
    // Cycles the clock keeps running after `busy` fell and after the
    // last access, so pulses and registered outputs settle and work an
    // access started shows as `busy`.
    uint32_t idle_tail_cycles = 8;
    // Run the clock on a thread of its own while the design is busy. Unit
    // tests may turn it off and clock with run_until_idle() instead.
    bool clock_thread = true;
    // Cycles of reset (rst_n low) at start.
    uint32_t reset_cycles = 8;
    // Waveforms: a VCD of cycles [trace_start, trace_start + trace_cycles).
    std::string trace_vcd;
    uint64_t trace_start = 0;
    uint64_t trace_cycles = 1'000'000;
    // One line per register access, DMA request and interrupt, to `log`.
    bool log_transactions = false;
    FILE* log = stderr;
};

// Counters, for programs' exit summaries and benchmarks.
struct RtlStats {
    uint64_t cycles = 0;      // clock cycles run
    uint64_t busy_cycles = 0; // of which `busy` was high
    uint64_t reg_reads = 0;   // AXI4-Lite transactions
    uint64_t reg_writes = 0;
    uint64_t timeouts = 0;        // transactions the design never answered
    uint64_t error_responses = 0; // SLVERR/DECERR answers
    uint64_t dma_reads = 0;
    uint64_t dma_writes = 0;
    uint64_t dma_bytes = 0;
    uint64_t dma_faults = 0;                // requests the sanitizer refused
    uint64_t irqs = 0;                      // rising edges seen
    uint64_t irqs_dropped = 0;              // raises that failed (vector not enabled)
    std::chrono::nanoseconds clock_time{0}; // wall time spent clocking
};

class RtlAdapter {
public:
    // `model` gives dma() and irq(); it must outlive the adapter.
    RtlAdapter(DeviceModel& model, std::unique_ptr<RtlDesign> design, RtlOptions options);
    RtlAdapter(const RtlAdapter&) = delete;
    RtlAdapter& operator=(const RtlAdapter&) = delete;
    RtlAdapter(RtlAdapter&&) = delete;
    RtlAdapter& operator=(RtlAdapter&&) = delete;
    ~RtlAdapter();

    // Resets the design, opens the trace, starts the clock thread.
    [[nodiscard]] Result<void> start();
    // Stops the clock thread and closes the trace. Idempotent.
    void stop();

    // A BAR access of 1, 2, 4 or 8 bytes at any offset, as AXI4-Lite
    // transactions on the 32-bit words it touches, in address order.
    // An error response or a timeout makes the whole read all-ones.
    uint64_t read(uint64_t offset, unsigned size);
    void write(uint64_t offset, unsigned size, uint64_t value);

    // Clocks until the design is idle (and the tail ran out), at most
    // max_cycles. Returns whether it became idle.
    bool run_until_idle(uint64_t max_cycles);
    // With the clock thread: waits until it went to sleep.
    bool wait_idle(std::chrono::milliseconds timeout);

    [[nodiscard]] RtlStats stats() const;
    [[nodiscard]] uint64_t cycle() const;

private:
    enum class RdState : uint8_t { idle, streaming };
    enum class WrState : uint8_t { idle, collecting, done };

    struct Axil {
        bool active = false;
        bool write = false;
        bool addr_done = false;
        bool data_done = false;
        bool done = false;
        uint32_t rdata = 0;
        uint8_t resp = 0;
    };

    void tick();
    void drive();
    void step_axil(const RtlOutputs& out);
    void step_dma_read(const RtlOutputs& out);
    void step_dma_write(const RtlOutputs& out);
    void step_irq(const RtlOutputs& out);
    // busy, or a DMA request in flight.
    bool design_active() const;
    // design_active(), or tail cycles still owed.
    bool has_work() const;
    // After a register access: runs the tail, hands work to the clock thread.
    void finish_access(std::unique_lock<std::mutex>& lk);
    // One AXI4-Lite transaction; nullopt on timeout.
    std::optional<uint32_t> transact(bool write, uint32_t addr, uint32_t data, uint8_t strb);
    void clock_loop();
    void trace(uint64_t time);
    template <class... Args>
    void log(const char* fmt, const Args&... args);

    DeviceModel& model_;
    std::unique_ptr<RtlDesign> design_;
    RtlOptions opt_;

    mutable std::mutex mu_; // owns everything below
    std::condition_variable cv_;
    RtlInputs in_;
    RtlOutputs out_;
    Axil axil_;
    uint64_t cycle_ = 0;
    uint32_t tail_left_ = 0;
    uint64_t irq_prev_ = 0;
    bool tracing_ = false;
    bool started_ = false;
    bool stopping_ = false;
    bool sleeping_ = true;
    RtlStats stats_;

    RdState rd_state_ = RdState::idle;
    std::vector<std::byte> rd_buf_;
    size_t rd_beat_ = 0;
    bool rd_fault_ = false;

    WrState wr_state_ = WrState::idle;
    uint64_t wr_addr_ = 0;
    std::vector<std::byte> wr_buf_;
    size_t wr_beat_ = 0;
    bool wr_fault_ = false;

    std::atomic<unsigned> host_waiting_{0};
    std::condition_variable idle_cv_;
    std::thread clock_;
};

} // namespace pciem::rtl
