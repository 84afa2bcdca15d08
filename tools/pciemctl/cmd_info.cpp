// SPDX-License-Identifier: MIT
//
// pciemctl info: what this PCIem instance offers (PCIEM_IOC_GET_INFO).
#include <cstdio>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "format.hpp"
#include "pciem/control.hpp"

namespace pciemctl {

namespace {

struct InfoOptions {
    bool json = false;
    std::string control_path = PCIEM_CONTROL_NODE;
};

std::string window(uint64_t start, uint64_t size) {
    if (size == 0) {
        return "none";
    }
    return fmt::format("{:#x}-{:#x} ({})", start, start + size - 1, format_size(size));
}

int info(const InfoOptions& opts) {
    auto control = pciem::Control::open(opts.control_path);
    if (!control) {
        fmt::print(stderr, "pciemctl: {}\n", control.error().message);
        return exit_runtime_error;
    }
    auto i = control->info();
    if (!i) {
        fmt::print(stderr, "pciemctl: {}\n", i.error().message);
        return exit_runtime_error;
    }
    if (opts.json) {
        const nlohmann::json out = {{"abi_version", i->abi_version},
                                    {"libpciem_abi_version", PCIEM_ABI_VERSION},
                                    {"domain", fmt::format("{:04x}", i->domain)},
                                    {"bus", fmt::format("{:02x}", i->bus)},
                                    {"max_functions", i->max_functions},
                                    {"window64_start", i->window64_start},
                                    {"window64_size", i->window64_size},
                                    {"window32_start", i->window32_start},
                                    {"window32_size", i->window32_size}};
        fmt::print("{}\n", out.dump(2));
        return exit_ok;
    }
    fmt::print("ABI version:    {} (libpciem {})\n", i->abi_version, PCIEM_ABI_VERSION);
    fmt::print("root bus:       {:04x}:{:02x}\n", i->domain, i->bus);
    fmt::print("max functions:  {}\n", i->max_functions);
    fmt::print("64-bit window:  {}\n", window(i->window64_start, i->window64_size));
    fmt::print("32-bit window:  {}\n", window(i->window32_start, i->window32_size));
    return exit_ok;
}

} // namespace

void add_info_command(CLI::App& app, Action& action) {
    auto opts = std::make_shared<InfoOptions>();
    auto* cmd = app.add_subcommand(
        "info", "Show the PCIem instance: ABI version, PCI domain and root bus, BAR windows.");
    cmd->add_flag("--json", opts->json, "Print JSON instead of text");
    cmd->add_option("--control", opts->control_path, "PCIem control node")->capture_default_str();
    cmd->callback([opts, &action] {
        action = [opts] {
            return info(*opts);
        };
    });
}

} // namespace pciemctl
