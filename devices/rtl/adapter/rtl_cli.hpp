// SPDX-License-Identifier: MIT
//
// The command line an RTL device program adds to HostCli's: waveforms,
// the transaction log and the adapter's limits; and the summary it prints
// when it stops.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "rtl_adapter.hpp"

namespace pciem::rtl {

struct RtlCli {
    RtlOptions options;

    // --trace-vcd, --trace-start, --trace-cycles, --log-transactions,
    // --read-timeout-cycles, --idle-tail-cycles.
    void add_options(CLI::App& app);
    // Checks what CLI11 cannot (the trace file can be written); a message
    // when it cannot.
    [[nodiscard]] Result<void> check() const;
};

// "rtl: 1234 cycles (1000 busy) in 1.2 ms: 1.0e6 cycles/s; ..."
std::string summary(const RtlStats& stats);

} // namespace pciem::rtl
