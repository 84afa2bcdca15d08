// SPDX-License-Identifier: MIT
//
// pciemctl check: validate spec files offline with the kernel's own
// config-space builder, optionally dumping the config space it builds.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "commands.hpp"
#include "format.hpp"
#include "pciem/config_preview.hpp"
#include "pciem/spec_file.hpp"

namespace pciemctl {

namespace {

struct CheckOptions {
    std::vector<std::string> specs;
    bool dump = false;
    pciem::ConfigLimits limits;
};

int check(const CheckOptions& opts) {
    int status = exit_ok;
    for (const auto& file : opts.specs) {
        auto specs = pciem::load_spec_file(file);
        if (!specs) {
            fmt::print(stderr, "{}\n", specs.error().message);
            status = exit_runtime_error;
            continue;
        }
        for (const auto& spec : *specs) {
            auto cfg = pciem::preview_config(spec, opts.limits);
            if (!cfg) {
                fmt::print(stderr, "{}: {}\n", spec.origin(), cfg.error().message);
                status = exit_runtime_error;
                continue;
            }
            fmt::print("{}: ok [{:04x}:{:04x}], {} capabilities, {}-byte config space\n",
                       spec.origin(), spec.vendor_id(), spec.device_id(),
                       spec.capabilities().size(), (*cfg)->size);
            if (opts.dump) {
                fmt::print("{}\n", pciem::hex_dump(**cfg));
            }
        }
    }
    std::fflush(stdout);
    return status;
}

} // namespace

void add_check_command(CLI::App& app, Action& action) {
    auto opts = std::make_shared<CheckOptions>();
    auto* cmd = app.add_subcommand(
        "check", "Validate spec files without the kernel, using the same config-space builder "
                 "pciem.ko runs. Prints 'ok' or what is wrong; exit 1 if any spec fails.");
    cmd->add_option("spec", opts->specs, "Spec file(s) to check")
        ->required()
        ->check(CLI::ExistingFile);
    cmd->add_flag("--dump", opts->dump,
                  "Also print the resulting config space as a hex dump (lspci -xxxx format)");
    cmd->add_option("--max-bar64", opts->limits.max_bar64,
                    "Largest 64-bit BAR to accept (the kernel uses its window size)")
        ->capture_default_str();
    cmd->add_option("--max-bar32", opts->limits.max_bar32,
                    "Largest 32-bit BAR to accept (the kernel uses its window size)")
        ->capture_default_str();
    cmd->callback([opts, &action] {
        action = [opts] {
            return check(*opts);
        };
    });
}

} // namespace pciemctl
