// SPDX-License-Identifier: MIT
//
// pciem-testdev: the test device on the kernel, until SIGINT/SIGTERM.
// The VM tests start it, wait for --ready-file, load the test driver.
#include <sched.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "pciem/kernel_host.hpp"
#include "pciem/serve.hpp"
#include "testdev.hpp"

int main(int argc, char** argv) {
    CLI::App app{"Run the PCIem test device (tests/common/testdev_regs.h) on /dev/pciem until "
                 "SIGINT or SIGTERM. Needs pciem.ko and root."};
    std::string ready_file;
    uint32_t read_timeout_us = 0;
    pciem::KernelHostOptions options;
    app.add_option("--ready-file", ready_file,
                   "Once the device exists, write its address to this file, atomically");
    app.add_option("--read-timeout-us", read_timeout_us,
                   "Complete reads the model has not answered after this long as all-ones "
                   "(kernel default: 1 s)")
        ->check(CLI::Range(1u, 10'000'000u));
    app.add_flag("--busy-poll", options.busy_poll,
                 "Spin on the request ring instead of sleeping: lowest latency, one busy CPU");
    app.add_option("--control", options.control_path, "PCIem control node")->capture_default_str();
    int cpu = -1;
    app.add_option("--cpu", cpu,
                   "Run the model on this CPU only. Reads from atomic context (interrupt "
                   "handlers) spin until answered, so the model must be able to run on "
                   "another CPU than the one they come from")
        ->check(CLI::Range(0, CPU_SETSIZE - 1));
    CLI11_PARSE(app, argc, argv);
    if (cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        // Before any thread exists, so every thread inherits it.
        if (sched_setaffinity(0, sizeof(set), &set) != 0) {
            fmt::print(stderr, "pciem-testdev: cannot pin to CPU {}: {}\n", cpu,
                       std::strerror(errno));
            return 1;
        }
    }
    if (read_timeout_us != 0) {
        options.read_timeout_us = read_timeout_us;
    }

    const sigset_t stop = pciem::block_stop_signals();
    pciem::devices::TestDev model;
    auto host = pciem::KernelHost::create(model, options);
    if (!host) {
        fmt::print(stderr, "pciem-testdev: {}\n", host.error().message);
        return 1;
    }
    fmt::print("pciem-testdev: created {}\n", (*host)->device().address());
    std::fflush(stdout);
    auto sig = pciem::serve_until_signal(**host, stop, ready_file);
    if (!sig) {
        fmt::print(stderr, "pciem-testdev: {}\n", sig.error().message);
        return 1;
    }
    const auto st = (*host)->stats();
    fmt::print("pciem-testdev: stopped by {}; {} reads, {} writes, {} shadow reads, {} timeouts\n",
               *sig == SIGINT ? "SIGINT" : "SIGTERM", st.reads, st.writes, st.shadow_reads,
               st.read_timeouts);
    return 0;
}
