// SPDX-License-Identifier: MIT
//
// What every device-model program's command line shares: where to write
// the ready file, KernelHost options, pinning to a CPU, and the main loop
// until SIGINT/SIGTERM: on /dev/pciem, or with --vfio-user SOCKET as a
// vfio-user server (VfioUserHost) for pciem-proxy, QEMU or any client.
//
//     CLI::App app{"..."};
//     pciem::devices::HostCli host_cli;
//     host_cli.add_options(app);
//     if (auto done = pciem::devices::parse_command_line(app, argc, argv)) return *done;
//     MyModel model;
//     return host_cli.serve("pciem-my-model", model);
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "pciem/device_model.hpp"
#include "pciem/kernel_host.hpp"

namespace pciem::devices {

// Parses the command line the way every PCIem program does: --help and
// --version exit 0, any usage mistake (unknown option, bad value) prints
// CLI11's message and exits 2, as pciemctl does. Returns the exit status
// when the program should stop, nothing when it should run.
std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv);

// Whose event loop add_event_loop_options() sets up: a model program's,
// with --poll-interval-us for models that poll host memory, or
// pciem-proxy's, which polls nothing (and whose --low-cpu costs differ).
enum class EventLoopKind { model, proxy };

// The event loop's options, into `options`: --busy-poll, --idle-poll-us,
// --low-cpu and, for a model, --poll-interval-us, each with its cost in its
// help (KernelHostOptions::validate() refuses contradictions). Part of
// HostCli::add_options().
void add_event_loop_options(CLI::App& app, KernelHostOptions& options, EventLoopKind kind);

struct HostCli {
    std::string ready_file;
    std::string vfio_user_socket; // --vfio-user: serve there instead of /dev/pciem
    uint32_t read_timeout_us = 0;
    int cpu = -1;
    uint32_t dma_window_mb = 0;
    KernelHostOptions options;
    // A program may set dma_window_mb and options.* before add_options():
    // they become its defaults, shown in --help.

    // --ready-file, --vfio-user, --read-timeout-us, --busy-poll, --control,
    // --cpu, --dma-window-mb, --dma-window-no-bounce, --aer.
    void add_options(CLI::App& app);
    // Turns the parsed options into `options`; a contradiction is EINVAL
    // with a sentence (serve() exits 2 on it).
    [[nodiscard]] Result<void> resolve();
    // Pins to --cpu, creates the function (or, with --vfio-user, listens
    // on the socket and serves one client after another), serves it until
    // SIGINT or SIGTERM and prints the host's counters (then `stopped`, if
    // given). Returns main()'s exit status. Call before starting any thread.
    int serve(const std::string& prog, DeviceModel& model,
              const std::function<void()>& stopped = {});

private:
    int serve_vfio_user(const std::string& prog, DeviceModel& model, const sigset_t& stop);

    bool no_bounce_given_ = false; // --dma-window-[no-]bounce on the command line
};

} // namespace pciem::devices
