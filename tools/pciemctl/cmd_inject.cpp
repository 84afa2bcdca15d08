// SPDX-License-Identifier: MIT
//
// pciemctl inject: make a function misbehave (PCIEM_IOC_INJECT), list
// the faults there are, show and clear the rules that are set.
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include <fmt/format.h>

#include "commands.hpp"
#include "pciem/control.hpp"
#include "pciem/spec_number.hpp"

namespace pciemctl {

namespace {

constexpr const char* faults_file = "/sys/kernel/debug/pciem/faults";

struct InjectOptions {
    std::string address;
    std::string fault;
    uint32_t count = 0, after = 0, every = 0;
    double probability = 0;
    std::string region;
    std::optional<uint32_t> vector;
    std::string param;
    bool list = false, show = false, clear = false;
    uint32_t id = 0;
    std::string control_path = PCIEM_CONTROL_NODE;
};

int list_faults() {
    for (const auto& f : pciem::fault_catalog()) {
        fmt::print("{} ({}{}{})\n", f.name, f.rule ? "rule" : "action",
                   f.param.empty() ? "" : "; --param: ", f.param);
        // Wrapped at 76 columns, indented under the name.
        std::istringstream words{std::string(f.what)};
        std::string word, line = "   ";
        while (words >> word) {
            if (line.size() + word.size() + 1 > 76) {
                fmt::print("{}\n", line);
                line = "   ";
            }
            line += " " + word;
        }
        fmt::print("{}\n\n", line);
    }
    fmt::print("Rules take --count, --after, --every and --probability; mmio-* and dma-* rules "
               "take --region,\nirq-drop and irq-delay take --vector. See docs/faults.md.\n");
    return exit_ok;
}

int show_rules() {
    std::ifstream in(faults_file);
    if (!in) {
        fmt::print(stderr,
                   "pciemctl: cannot read {}: run as root with debugfs mounted "
                   "(mount -t debugfs none /sys/kernel/debug)\n",
                   faults_file);
        return exit_runtime_error;
    }
    std::string line;
    bool any = false;
    while (std::getline(in, line)) {
        fmt::print("{}\n", line);
        any = true;
    }
    if (!any) {
        fmt::print("no faults set\n");
    }
    return exit_ok;
}

int inject(const InjectOptions& o) {
    if (o.list) {
        return list_faults();
    }
    if (o.show) {
        return show_rules();
    }
    if (o.address.empty() || (!o.clear && o.fault.empty())) {
        fmt::print(stderr, "pciemctl: inject needs ADDRESS and FAULT (or --clear, --list, "
                           "--show); see pciemctl inject --help\n");
        return exit_usage_error;
    }
    auto at = pciem::parse_pci_address(o.address);
    if (!at) {
        fmt::print(stderr, "pciemctl: {}\n", at.error().message);
        return exit_usage_error;
    }
    if (o.clear) {
        auto control = pciem::Control::open(o.control_path);
        if (!control) {
            fmt::print(stderr, "pciemctl: {}\n", control.error().message);
            return exit_runtime_error;
        }
        auto r = control->clear_faults(*at, o.id);
        if (!r) {
            fmt::print(stderr, "pciemctl: {}\n", r.error().message);
            return exit_runtime_error;
        }
        fmt::print("{}: {} cleared\n", o.address,
                   o.id ? fmt::format("rule {}", o.id) : std::string("all rules"));
        return exit_ok;
    }
    const pciem::FaultInfo* info = pciem::find_fault(o.fault);
    if (info == nullptr) {
        fmt::print(stderr, "pciemctl: unknown fault '{}'; pciemctl inject --list shows them\n",
                   o.fault);
        return exit_usage_error;
    }
    pciem::FaultRequest f;
    f.fault = info->fault;
    f.count = o.count;
    f.after = o.after;
    f.every = o.every;
    f.probability = o.probability;
    f.vector = o.vector;
    if (!o.param.empty()) {
        auto p = pciem::parse_spec_number(o.param);
        if (!p) {
            fmt::print(stderr, "pciemctl: --param '{}' is not a number\n", o.param);
            return exit_usage_error;
        }
        f.param = *p;
    }
    if (!o.region.empty()) {
        auto region = pciem::parse_fault_region(o.region, info->name.starts_with("mmio-"));
        if (!region) {
            fmt::print(stderr, "pciemctl: --region '{}': {}\n", o.region,
                       region.error().message);
            return exit_usage_error;
        }
        f.region = *region;
    }
    // Checked before the ioctl, so a mistake is a usage error.
    if (auto q = f.build(at->domain, at->bus, at->devfn); !q) {
        fmt::print(stderr, "pciemctl: {}\n", q.error().message);
        return exit_usage_error;
    }
    auto control = pciem::Control::open(o.control_path);
    if (!control) {
        fmt::print(stderr, "pciemctl: {}\n", control.error().message);
        return exit_runtime_error;
    }
    auto id = control->inject(*at, f);
    if (!id) {
        fmt::print(stderr, "pciemctl: {}\n", id.error().message);
        return exit_runtime_error;
    }
    if (info->rule) {
        fmt::print("{}: rule {} set ({}); clear it with pciemctl inject {} --clear --id {}\n",
                   o.address, *id, info->name, o.address, *id);
    } else {
        fmt::print("{}: {} done\n", o.address, info->name);
    }
    return exit_ok;
}

} // namespace

void add_inject_command(CLI::App& app, Action& action) {
    auto o = std::make_shared<InjectOptions>();
    auto* cmd = app.add_subcommand(
        "inject",
        "Inject a fault into a PCIem function, for any model: MMIO reads that fail or stall, "
        "interrupts lost, late or spurious, DMA refused or corrupted, surprise removal and "
        "reinsertion, AER errors, link down/up, CRS after reset. `--list` explains each.");
    cmd->add_option("address", o->address, "The function, as lspci prints it (10000:00:03.0)");
    cmd->add_option("fault", o->fault, "The fault's name (see --list)");
    cmd->add_flag("--list", o->list, "Explain every fault and exit");
    cmd->add_flag("--show", o->show, "Show the rules that are set (debugfs)");
    cmd->add_flag("--clear", o->clear, "Clear the function's rules (all, or --id)");
    cmd->add_option("--id", o->id, "With --clear: the rule to clear");
    cmd->add_option("--count", o->count, "Rules: fire at most N times (0: no limit); "
                                         "irq-spurious: raise N times");
    cmd->add_option("--after", o->after, "Rules: let the first N matching events pass");
    cmd->add_option("--every", o->every, "Rules: then fire on every Nth");
    cmd->add_option("--probability", o->probability, "Rules: fire with this probability (0-1)")
        ->check(CLI::Range(0.0, 1.0));
    cmd->add_option("--region", o->region,
                    "mmio-*: BAR:OFFSET+LEN; dma-*: BUS_ADDRESS+LEN (numbers in C syntax)");
    cmd->add_option("--vector", o->vector, "irq-drop, irq-delay: only this vector");
    cmd->add_option("--param", o->param,
                    "The fault's parameter (ns, ms, a vector, status bits: see --list)");
    cmd->add_option("--control", o->control_path, "PCIem control node")->capture_default_str();
    cmd->callback([o, &action] {
        action = [o] {
            return inject(*o);
        };
    });
}

} // namespace pciemctl
