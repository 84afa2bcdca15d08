// SPDX-License-Identifier: MIT
#include "rtl_cli.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fmt/format.h>

namespace pciem::rtl {

void RtlCli::add_options(CLI::App& app) {
    app.add_option("--trace-vcd", options.trace_vcd,
                   "write the design's signals to this VCD file (GTKWave), for the window "
                   "--trace-start/--trace-cycles; a cycle is 10 ns of trace time");
    app.add_option("--trace-start", options.trace_start, "first cycle of the trace window")
        ->capture_default_str();
    app.add_option("--trace-cycles", options.trace_cycles, "length of the trace window in cycles")
        ->capture_default_str();
    app.add_flag("--log-transactions", options.log_transactions,
                 "log every register transaction, DMA request and interrupt to stderr");
    app.add_option("--read-timeout-cycles", options.read_timeout_cycles,
                   "cycles a register access may take before it completes as all-ones")
        ->capture_default_str()
        ->check(CLI::Range(1u, 1u << 30));
    app.add_option("--idle-tail-cycles", options.idle_tail_cycles,
                   "cycles the clock runs on after the design went idle")
        ->capture_default_str();
}

Result<void> RtlCli::check() const {
    if (options.trace_vcd.empty()) {
        return {};
    }
    FILE* f = std::fopen(options.trace_vcd.c_str(), "w");
    if (f == nullptr) {
        const int err = errno;
        return fail(err, fmt::format("cannot write the trace file {}: {}.", options.trace_vcd,
                                     std::strerror(err)));
    }
    std::fclose(f);
    return {};
}

std::string summary(const RtlStats& s) {
    const double secs = std::chrono::duration<double>(s.clock_time).count();
    return fmt::format("rtl: {} cycles ({} busy) in {:.1f} ms of clocking: {:.3g} cycles/s; "
                       "{} register reads, {} writes, {} timeouts, {} error responses; "
                       "{} DMA reads, {} writes, {} bytes, {} faults; {} interrupts, {} dropped",
                       s.cycles, s.busy_cycles, secs * 1e3,
                       secs > 0 ? static_cast<double>(s.cycles) / secs : 0.0, s.reg_reads,
                       s.reg_writes, s.timeouts, s.error_responses, s.dma_reads, s.dma_writes,
                       s.dma_bytes, s.dma_faults, s.irqs, s.irqs_dropped);
}

} // namespace pciem::rtl
