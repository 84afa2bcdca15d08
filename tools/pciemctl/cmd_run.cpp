// SPDX-License-Identifier: MIT
//
// pciemctl run: create devices from spec files and hold them until
// SIGINT/SIGTERM. The devices live exactly as long as this process holds
// their fds, so "run" is the simplest possible device owner: no model
// behind the BARs yet, but the functions enumerate and drivers can bind.
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "commands.hpp"
#include "format.hpp"
#include "pciem/control.hpp"
#include "pciem/serve.hpp"
#include "pciem/spec_file.hpp"

namespace pciemctl {

namespace {

struct RunOptions {
    std::vector<std::string> specs;
    std::string ready_file;
    std::string control_path = PCIEM_CONTROL_NODE;
};

int run(const RunOptions& opts) {
    // Block the stop signals before creating anything: one that arrives
    // while devices are being created then waits in sigwait() below
    // instead of killing us half-way.
    const sigset_t stop = pciem::block_stop_signals();

    std::vector<pciem::DeviceSpec> specs;
    for (const auto& file : opts.specs) {
        auto loaded = pciem::load_spec_file(file);
        if (!loaded) {
            fmt::print(stderr, "pciemctl: {}\n", loaded.error().message);
            return exit_runtime_error;
        }
        for (auto& s : *loaded) {
            specs.push_back(std::move(s));
        }
    }

    auto control = pciem::Control::open(opts.control_path);
    if (!control) {
        fmt::print(stderr, "pciemctl: {}\n", control.error().message);
        return exit_runtime_error;
    }

    std::vector<pciem::Device> devices;
    std::string addresses;
    for (const auto& spec : specs) {
        // No model serves these functions: BAR accesses master-abort at
        // once instead of waiting out a read timeout each.
        auto dev = control->create(spec, PCIEM_CREATE_F_NO_MODEL);
        if (!dev) {
            // Devices created so far are removed as `devices` goes away.
            fmt::print(stderr, "pciemctl: {}: {}\n", spec.origin(), dev.error().message);
            return exit_runtime_error;
        }
        fmt::print("created {} [{:04x}:{:04x}] from {}\n{}", dev->address(), spec.vendor_id(),
                   spec.device_id(), spec.origin(), format_bars(dev->cached_info(), spec));
        addresses += dev->address() + "\n";
        devices.push_back(std::move(*dev));
    }
    std::fflush(stdout);

    if (!opts.ready_file.empty() && !pciem::write_ready_file(opts.ready_file, addresses)) {
        fmt::print(stderr, "pciemctl: cannot write ready file {}\n", opts.ready_file);
        return exit_runtime_error;
    }

    int sig = 0;
    sigwait(&stop, &sig);

    // Last created first: function 0 of a multi-function slot goes last,
    // as hot-unplug of a whole slot would do it.
    while (!devices.empty()) {
        const std::string address = devices.back().address();
        devices.pop_back();
        fmt::print("removed {}\n", address);
    }
    fmt::print("stopped by {}\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    std::fflush(stdout);
    return exit_ok;
}

} // namespace

void add_run_command(CLI::App& app, Action& action) {
    auto opts = std::make_shared<RunOptions>();
    auto* cmd = app.add_subcommand(
        "run", "Create the devices described by SPEC files and keep them until SIGINT or "
               "SIGTERM; closing removes them (a surprise removal for their drivers). No "
               "model serves their BARs: reads return all-ones at once (write a device "
               "model with libpciem for behaviour).");
    cmd->add_option("spec", opts->specs, "Spec file(s) (JSON, see docs/spec-format.md)")
        ->required()
        ->check(CLI::ExistingFile);
    cmd->add_option("--ready-file", opts->ready_file,
                    "Once every device exists, write their addresses (one per line) to this "
                    "file, atomically");
    cmd->add_option("--control", opts->control_path, "PCIem control node")->capture_default_str();
    cmd->callback([opts, &action] {
        action = [opts] {
            return run(*opts);
        };
    });
}

} // namespace pciemctl
