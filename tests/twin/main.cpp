// SPDX-License-Identifier: MIT
//
// pciem-twin: plays a twin script (twin_script.hpp) on the test device's
// model twice, on the SimHost in this process and on the same model behind
// pciem.ko (pciem-testdev with pciem_mmio_test bound, in the guest), and
// compares what the driver got, step by step. The SimHost starts from the
// kernel function's programmed state (command, BARs, interrupt line: what
// enumeration and probe wrote before the script), so a difference is a
// difference of the two hosts' rules, not of their history.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "twin_hosts.hpp"

using namespace pciem::twin;

namespace {

// Config registers enumeration and probe program, copied to the SimHost.
struct Programmed {
    uint32_t offset;
    unsigned size;
};
constexpr Programmed programmed[] = {{0x04, 2}, {0x0c, 1}, {0x0d, 1}, {0x10, 4}, {0x14, 4},
                                     {0x18, 4}, {0x1c, 4}, {0x20, 4}, {0x24, 4}, {0x3c, 1}};

int run(const std::vector<Step>& steps, const std::string& device, bool print_all) {
    auto sim = SimDriver::create();
    if (!sim) {
        std::fprintf(stderr, "pciem-twin: the SimHost: %s\n", sim.error().message.c_str());
        return 1;
    }
    if (device.empty()) { // --sim-only: the SimHost's transcript
        for (const std::string& l : play(steps, **sim)) {
            std::puts(l.c_str());
        }
        return 0;
    }
    auto kernel = KernelDriver::open(device);
    if (!kernel) {
        std::fprintf(stderr, "pciem-twin: %s\n", kernel.error().message.c_str());
        return 1;
    }
    for (const Programmed& p : programmed) {
        auto v = (*kernel)->cfg_read(p.offset, p.size);
        if (!v) {
            std::fprintf(stderr, "pciem-twin: %s\n", v.error().message.c_str());
            return 1;
        }
        (void)(*sim)->cfg_write(p.offset, p.size, *v);
    }
    const auto k = play(steps, **kernel);
    const auto s = play(steps, **sim);
    size_t differ = 0;
    for (size_t i = 0; i < k.size(); ++i) {
        if (k[i] != s[i]) {
            ++differ;
            std::printf("DIFFERS kernel: %s\n        sim:    %s\n", k[i].c_str(), s[i].c_str());
        } else if (print_all) {
            std::printf("same    %s\n", k[i].c_str());
        }
    }
    std::printf("pciem-twin: %zu steps, %zu differ\n", k.size(), differ);
    return differ == 0 ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"Plays a twin script on the test device's model on the SimHost and behind pciem.ko\n"
                 "(pciem-testdev with pciem_mmio_test bound) and compares what the driver got,\n"
                 "step by step. Exit status: 0 all steps agree, 1 a step differs or a host failed,\n"
                 "2 a usage error. The script format is in tests/twin/twin_script.hpp."};
    std::string script, device;
    bool sim_only = false, print_all = false;
    app.add_option("script", script, "the twin script")->required()->check(CLI::ExistingFile);
    auto* dev = app.add_option("--device", device, "the kernel's function, as sysfs names it "
                                                   "(e.g. 10000:00:00.0)");
    app.add_flag("--sim-only", sim_only, "play on the SimHost only and print its transcript")
        ->excludes(dev);
    app.add_flag("--all", print_all, "print the steps that agree too");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e);
        return rc == 0 ? 0 : 2;
    }
    if (!sim_only && device.empty()) {
        std::fprintf(stderr, "pciem-twin: give --device ADDR (or --sim-only)\n");
        return 2;
    }
    std::ifstream in(script);
    std::stringstream text;
    text << in.rdbuf();
    auto steps = parse_script(text.str(), script);
    if (!steps) {
        std::fprintf(stderr, "pciem-twin: %s\n", steps.error().message.c_str());
        return 2;
    }
    return run(*steps, device, print_all);
}
