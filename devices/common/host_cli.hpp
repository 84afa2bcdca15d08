// SPDX-License-Identifier: MIT
//
// What every device-model program's command line shares: where to write
// the ready file, KernelHost options, pinning to a CPU, and the main loop
// on /dev/pciem until SIGINT/SIGTERM.
//
//     CLI::App app{"..."};
//     pciem::devices::HostCli host_cli;
//     host_cli.add_options(app);
//     CLI11_PARSE(app, argc, argv);
//     MyModel model;
//     return host_cli.serve("pciem-my-model", model);
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include <CLI/CLI.hpp>

#include "pciem/device_model.hpp"
#include "pciem/kernel_host.hpp"

namespace pciem::devices {

struct HostCli {
    std::string ready_file;
    uint32_t read_timeout_us = 0;
    int cpu = -1;
    uint32_t dma_window_mb = 0;
    KernelHostOptions options;

    // --ready-file, --read-timeout-us, --busy-poll, --control, --cpu,
    // --dma-window-mb, --dma-window-no-bounce, --aer.
    void add_options(CLI::App& app);
    // Pins to --cpu, creates the function, serves it until SIGINT or
    // SIGTERM and prints the host's counters (then `stopped`, if given).
    // Returns main()'s exit status. Call before starting any thread.
    int serve(const std::string& prog, DeviceModel& model,
              const std::function<void()>& stopped = {});
};

} // namespace pciem::devices
