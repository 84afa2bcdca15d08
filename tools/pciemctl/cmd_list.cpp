// SPDX-License-Identifier: MIT
//
// pciemctl list: the PCIem functions that exist now, whoever owns them,
// with the driver the PCI core bound to each.
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "pciem/address.hpp"
#include "pciem/control.hpp"

namespace pciemctl {

namespace {

struct ListOptions {
    bool json = false;
    std::string control_path = PCIEM_CONTROL_NODE;
};

// The bound driver is the target of the sysfs `driver` link; none bound
// (or the function detached from the bus) shows as "-".
std::string bound_driver(const std::string& address) {
    std::error_code ec;
    const auto target =
        std::filesystem::read_symlink("/sys/bus/pci/devices/" + address + "/driver", ec);
    return ec ? std::string("-") : target.filename().string();
}

// owner_comm is a kernel TASK_COMM_LEN buffer: NUL-terminated unless full.
std::string comm(const pciem_list_entry& e) {
    return {e.owner_comm, strnlen(e.owner_comm, sizeof(e.owner_comm))};
}

// The creator's label (PCIEM_LABEL_LEN, NUL-terminated by the kernel).
std::string label(const pciem_list_entry& e) {
    return {e.label, strnlen(e.label, sizeof(e.label))};
}

int list(const ListOptions& opts) {
    auto control = pciem::Control::open(opts.control_path);
    if (!control) {
        fmt::print(stderr, "pciemctl: {}\n", control.error().message);
        return exit_runtime_error;
    }
    auto entries = control->list();
    if (!entries) {
        fmt::print(stderr, "pciemctl: {}\n", entries.error().message);
        return exit_runtime_error;
    }
    if (opts.json) {
        auto out = nlohmann::json::array();
        for (const auto& e : *entries) {
            const auto address = pciem::format_pci_address(e.domain, e.bus, e.devfn);
            out.push_back({{"address", address},
                           {"vendor", fmt::format("{:04x}", e.vendor_id)},
                           {"device", fmt::format("{:04x}", e.device_id)},
                           {"class", fmt::format("{:06x}", e.class_code)},
                           {"state", pciem::state_name(e.state)},
                           {"owner_pid", e.owner_pid},
                           {"owner_comm", comm(e)},
                           {"label", label(e)},
                           {"driver", bound_driver(address)}});
        }
        fmt::print("{}\n", out.dump(2));
        return exit_ok;
    }
    fmt::print("{:<14} {:<9} {:<6} {:<8} {:<24} {:<12} {}\n", "ADDRESS", "ID", "CLASS", "STATE",
               "OWNER", "DRIVER", "LABEL");
    for (const auto& e : *entries) {
        const auto address = pciem::format_pci_address(e.domain, e.bus, e.devfn);
        fmt::print("{:<14} {:04x}:{:04x} {:06x} {:<8} {:<24} {:<12} {}\n", address, e.vendor_id,
                   e.device_id, e.class_code, pciem::state_name(e.state),
                   fmt::format("{} ({})", e.owner_pid, comm(e)), bound_driver(address), label(e));
    }
    if (entries->empty()) {
        fmt::print("(no PCIem devices)\n");
    }
    return exit_ok;
}

} // namespace

void add_list_command(CLI::App& app, Action& action) {
    auto opts = std::make_shared<ListOptions>();
    auto* cmd = app.add_subcommand(
        "list", "List existing PCIem functions: address, IDs, class, state, owning process, "
                "bound driver and label (e.g. a forwarded function's server socket).");
    cmd->add_flag("--json", opts->json, "Print a JSON array instead of a table");
    cmd->add_option("--control", opts->control_path, "PCIem control node")->capture_default_str();
    cmd->callback([opts, &action] {
        action = [opts] {
            return list(*opts);
        };
    });
}

} // namespace pciemctl
