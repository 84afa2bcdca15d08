// SPDX-License-Identifier: MIT
//
// pciem-nvme: the NVMe controller model on the kernel, until SIGINT or
// SIGTERM. The stock Linux nvme driver binds to it by class code.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "backing.hpp"
#include "controller.hpp"
#include "host_cli.hpp"

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
    pciem::nvme::ControllerOptions ctrl;
    pciem::devices::HostCli host_cli;
    // Queues, PRP lists and shadow doorbells in a window by default: the
    // model polls them without a system call, every access still checked.
    host_cli.dma_window_mb = 32;
    host_cli.options.dma_window_no_bounce = true;

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
    app.add_flag("!--no-shadow-doorbells", ctrl.shadow_doorbells,
                 "Do not offer Doorbell Buffer Config (OACS bit 8): the driver then writes "
                 "every doorbell register, each a trapped MMIO write");
    app.add_option("--serial", ctrl.serial,
                   "Serial number (also names the subsystem NQN): give each controller its own")
        ->capture_default_str();
    host_cli.add_options(app);
    if (auto done = pciem::devices::parse_command_line(app, argc, argv)) {
        return *done;
    }

    if (size == 0) {
        fmt::print(stderr, "pciem-nvme: --size must be positive (e.g. --size 1G)\n");
        return 2;
    }
    if (size < lba_size || size % lba_size != 0) {
        fmt::print(stderr, "pciem-nvme: --size {} is not a multiple of --lba-size {}\n", size,
                   lba_size);
        return 2;
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

    pciem::nvme::Controller model(ctrl, std::move(nss));
    fmt::print("pciem-nvme: {} namespace(s) of {} bytes, {}-byte blocks, {}\n", namespaces, size,
               lba_size, backing.empty() ? std::string("in memory") : backing);
    return host_cli.serve("pciem-nvme", model);
}
