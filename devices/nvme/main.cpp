// SPDX-License-Identifier: MIT
//
// pciem-nvme: the NVMe controller model on the kernel, until SIGINT or
// SIGTERM. The stock Linux nvme driver binds to it by class code.
#include <sched.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "backing.hpp"
#include "controller.hpp"
#include "pciem/kernel_host.hpp"
#include "pciem/serve.hpp"

namespace {

int pin_to_cpu(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    // Before any thread exists, so every thread inherits it.
    if (sched_setaffinity(0, sizeof(set), &set) != 0) {
        fmt::print(stderr, "pciem-nvme: cannot pin to CPU {}: {}\n", cpu, std::strerror(errno));
        return 1;
    }
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"Run an NVMe controller (class 010802h, NVMe 1.4) on /dev/pciem until SIGINT or "
                 "SIGTERM. The stock Linux nvme driver binds to it; nvme-cli, mkfs and fio work on "
                 "its namespaces. Needs pciem.ko and root.\n\n"
                 "Examples:\n"
                 "  pciem-nvme --memory --size 1G\n"
                 "  pciem-nvme --backing disk.img --size 16G --lba-size 4096 --namespaces 2\n"};
    uint64_t size = uint64_t{1} << 30;
    unsigned lba_size = 512;
    unsigned namespaces = 1;
    std::string backing;
    bool memory = false;
    std::string ready_file;
    uint32_t read_timeout_us = 0;
    int cpu = -1;
    pciem::nvme::ControllerOptions ctrl;
    pciem::KernelHostOptions host_options;

    app.add_option("--size", size,
                   "Size of each namespace, in bytes; suffixes K, M, G, T (powers of 1024)")
        ->transform(CLI::AsSizeValue(false))
        ->capture_default_str();
    app.add_option("--lba-size", lba_size, "Logical block size")
        ->check(CLI::IsMember({512u, 4096u}))
        ->capture_default_str();
    app.add_option("--namespaces", namespaces,
                   "Number of namespaces (NSIDs 1..N); with --backing they lie one after the "
                   "other in the file")
        ->check(CLI::Range(1u, 1024u))
        ->capture_default_str();
    auto* file_opt = app.add_option("--backing", backing,
                                    "Keep the blocks in this file (created if missing, grown "
                                    "sparsely; deallocation punches holes)");
    auto* mem_opt =
        app.add_flag("--memory", memory, "Keep the blocks in memory (the default), lost on exit");
    file_opt->excludes(mem_opt);
    app.add_option("--queues", ctrl.io_queues,
                   "I/O queue pairs the controller grants (the driver wants one per CPU)")
        ->check(CLI::Range(1u, 1024u))
        ->capture_default_str();
    app.add_option("--vectors", ctrl.msix_vectors,
                   "MSI-X vectors (default: one per I/O queue plus the admin queue's)")
        ->check(CLI::Range(1u, 2048u));
    app.add_option("--max-queue-entries", ctrl.max_queue_entries, "CAP.MQES + 1")
        ->check(CLI::Range(2u, 65536u))
        ->capture_default_str();
    app.add_option("--doorbell-stride", ctrl.doorbell_stride,
                   "CAP.DSTRD: doorbells are (4 << N) bytes apart")
        ->check(CLI::Range(0u, 8u))
        ->capture_default_str();
    app.add_option("--mdts", ctrl.mdts, "Maximum data transfer: 2^N pages of 4 KiB per command")
        ->check(CLI::Range(1u, 12u))
        ->capture_default_str();
    app.add_option("--serial", ctrl.serial,
                   "Serial number (also names the subsystem NQN): give each controller its own")
        ->capture_default_str();
    app.add_option("--ready-file", ready_file,
                   "Once the device is on the bus, write its address to this file, atomically");
    app.add_option("--read-timeout-us", read_timeout_us,
                   "Complete register reads the model has not answered after this long as "
                   "all-ones (kernel default: 1 s)")
        ->check(CLI::Range(1u, 10'000'000u));
    app.add_flag("--busy-poll", host_options.busy_poll,
                 "Spin on the request ring instead of sleeping: lowest latency, one busy CPU");
    app.add_option("--cpu", cpu,
                   "Run the model on this CPU only (it must not be the CPU the driver's "
                   "interrupt handlers spin on)")
        ->check(CLI::Range(0, CPU_SETSIZE - 1));
    app.add_option("--control", host_options.control_path, "PCIem control node")
        ->capture_default_str();
    CLI11_PARSE(app, argc, argv);

    if (size < lba_size || size % lba_size != 0) {
        fmt::print(stderr, "pciem-nvme: --size {} is not a multiple of --lba-size {}\n", size,
                   lba_size);
        return 1;
    }
    if (cpu >= 0 && pin_to_cpu(cpu) != 0) {
        return 1;
    }
    if (read_timeout_us != 0) {
        host_options.read_timeout_us = read_timeout_us;
    }

    std::vector<pciem::nvme::Namespace> nss;
    for (unsigned i = 0; i < namespaces; ++i) {
        auto b = backing.empty() ? pciem::nvme::make_memory_backing(size)
                                 : pciem::nvme::open_file_backing(backing, i * size, size);
        if (!b) {
            fmt::print(stderr, "pciem-nvme: {}\n", b.error().message);
            return 1;
        }
        nss.push_back(
            {.nsid = i + 1, .lba_shift = lba_size == 4096 ? 12u : 9u, .backing = std::move(*b)});
    }

    const sigset_t stop = pciem::block_stop_signals();
    pciem::nvme::Controller model(ctrl, std::move(nss));
    auto host = pciem::KernelHost::create(model, host_options);
    if (!host) {
        fmt::print(stderr, "pciem-nvme: {}\n", host.error().message);
        return 1;
    }
    fmt::print("pciem-nvme: created {}: {} namespace(s) of {} bytes, {}-byte blocks, {}\n",
               (*host)->device().address(), namespaces, size, lba_size,
               backing.empty() ? std::string("in memory") : backing);
    std::fflush(stdout);
    auto sig = pciem::serve_until_signal(**host, stop, ready_file);
    if (!sig) {
        fmt::print(stderr, "pciem-nvme: {}\n", sig.error().message);
        return 1;
    }
    const auto st = (*host)->stats();
    fmt::print("pciem-nvme: stopped by {}; {} reads, {} writes, {} shadow reads, {} timeouts\n",
               *sig == SIGINT ? "SIGINT" : "SIGTERM", st.reads, st.writes, st.shadow_reads,
               st.read_timeouts);
    return 0;
}
