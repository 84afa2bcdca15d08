// SPDX-License-Identifier: MIT
//
// pciem-chaos: a device model that answers at random under a seed, until
// SIGINT, SIGTERM or the death it drew for itself. It wraps the NVMe
// controller (the stock nvme driver binds) or the test device (PCIem's
// test driver binds) in the chaos layer (chaos_model.hpp).
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "backing.hpp"
#include "chaos_model.hpp"
#include "controller.hpp"
#include "host_cli.hpp"
#include "testdev.hpp"

namespace {

void add_probability(CLI::App& app, const std::string& name, double& p, const std::string& what) {
    app.add_option(name, p, what)->check(CLI::Range(0.0, 1.0))->capture_default_str();
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"Run a device model that misbehaves at random, as broken or hostile hardware "
                 "does, on /dev/pciem until SIGINT or SIGTERM (or until the death it drew "
                 "with --die-within-ms). It looks like the model it wraps, so that model's "
                 "driver binds: --model nvme (the stock nvme driver) or testdev (PCIem's test "
                 "driver, pciem_mmio_test). A seed names the sequence of decisions. Needs "
                 "pciem.ko and root (docs/chaos.md).\n\n"
                 "Examples:\n"
                 "  pciem-chaos --model nvme --seed 7\n"
                 "  pciem-chaos --model testdev --seed 3 --die-within-ms 5000\n"};
    std::string model_name = "nvme";
    uint64_t size = uint64_t{64} << 20;
    pciem::devices::ChaosOptions chaos;
    pciem::devices::HostCli host_cli;
    // Reads answered "never" wait out this timeout: keep it short.
    host_cli.read_timeout_us = chaos.read_timeout_us;

    app.add_option("--model", model_name, "The model to wrap")
        ->check(CLI::IsMember({"nvme", "testdev"}))
        ->capture_default_str();
    app.add_option("--seed", chaos.seed, "Seed of every random decision")->capture_default_str();
    app.add_option("--calm-ms", chaos.calm_ms,
                   "Behave for this many ms after the start (the driver's probe gets through), "
                   "then misbehave; --die-within-ms still counts from the start")
        ->capture_default_str();
    app.add_option("--size", size, "With --model nvme: the namespace's size (in memory)")
        ->transform(CLI::AsSizeValue(false))
        ->capture_default_str();
    add_probability(app, "--wrong-read", chaos.wrong_read, "Chance a read answers a wrong value");
    add_probability(app, "--late-read", chaos.late_read,
                    "Chance a read answers after up to twice the read timeout");
    add_probability(app, "--never-read", chaos.never_read,
                    "Chance a read answers only after the read timeout (completed as all-ones)");
    std::vector<std::string> honest;
    app.add_option("--honest", honest,
                   "Reads of this register range (BAR:OFFSET+LEN, repeatable) are answered "
                   "right and on time, e.g. 0:0+8 for NVMe's CAP, which the nvme driver "
                   "trusts to size its memory (docs/findings.md)")
        ->check(CLI::Validator(
            [](std::string& text) {
                auto r = pciem::parse_fault_region(text, /*mmio=*/true);
                return r ? std::string{} : r.error().message;
            },
            "BAR:OFFSET+LEN"));
    add_probability(app, "--drop-write", chaos.drop_write, "Chance a write is lost");
    add_probability(app, "--corrupt-write", chaos.corrupt_write,
                    "Chance a write arrives with one bit flipped");
    add_probability(app, "--drop-irq", chaos.drop_irq, "Chance an interrupt the model raises is lost");
    add_probability(app, "--duplicate-irq", chaos.duplicate_irq,
                    "Chance an interrupt the model raises comes twice");
    add_probability(app, "--dma-fail", chaos.dma_fail, "Chance a DMA of the model is refused");
    add_probability(app, "--dma-corrupt", chaos.dma_corrupt,
                    "Chance a DMA read of the model returns a byte flipped");
    app.add_flag("!--no-mischief", chaos.mischief,
                 "No background thread of interrupt storms and random DMA");
    app.add_option("--storm-max", chaos.storm_max, "Most interrupts in one storm")
        ->check(CLI::Range(1u, 10'000'000u))
        ->capture_default_str();
    app.add_option("--storm-vectors", chaos.vectors,
                   "Storms raise vectors below this (past the function's own too)")
        ->check(CLI::Range(1u, 4096u))
        ->capture_default_str();
    app.add_option("--tick-ms", chaos.tick_ms_max, "Most ms between two mischiefs")
        ->check(CLI::Range(1u, 60'000u))
        ->capture_default_str();
    app.add_option("--dma-max-bytes", chaos.dma_max_bytes, "Largest random DMA")
        ->check(CLI::Range(1u, 1u << 24))
        ->capture_default_str();
    add_probability(app, "--random-dma-writes", chaos.random_dma_writes,
                    "Chance a random DMA writes rather than reads (0: reads only)");
    app.add_option("--die-within-ms", chaos.die_within_ms,
                   "SIGKILL itself at a random moment within this many ms (0: never)")
        ->capture_default_str();
    host_cli.add_options(app);
    if (auto done = pciem::devices::parse_command_line(app, argc, argv)) {
        return *done;
    }
    chaos.read_timeout_us = host_cli.read_timeout_us;
    for (const auto& text : honest) {
        chaos.honest.push_back(*pciem::parse_fault_region(text, /*mmio=*/true)); // checked above
    }

    std::unique_ptr<pciem::DeviceModel> inner;
    if (model_name == "nvme") {
        auto backing = pciem::nvme::make_memory_backing(size);
        if (!backing) {
            fmt::print(stderr, "pciem-chaos: {}\n", backing.error().message);
            return 1;
        }
        std::vector<pciem::nvme::Namespace> nss;
        nss.push_back({.nsid = 1, .lba_shift = 9, .backing = std::move(*backing)});
        pciem::nvme::ControllerOptions ctrl;
        ctrl.serial = fmt::format("PCIEM-CHAOS-{}", chaos.seed);
        inner = std::make_unique<pciem::nvme::Controller>(ctrl, std::move(nss));
    } else {
        inner = std::make_unique<pciem::devices::TestDev>();
    }
    auto model = pciem::devices::ChaosModel::create(*inner, chaos);
    if (!model) {
        fmt::print(stderr, "pciem-chaos: {}\n", model.error().message);
        return 1;
    }
    fmt::print("pciem-chaos: {} under chaos, seed {}\n", model_name, chaos.seed);
    return host_cli.serve("pciem-chaos", **model,
                          [&] { fmt::print("pciem-chaos: {}\n", (*model)->summary()); });
}
