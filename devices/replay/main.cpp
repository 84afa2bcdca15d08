// SPDX-License-Identifier: MIT
//
// pciem-replay: play a recording (`pciemctl record`) back as a device
// model, so the driver that was recorded runs against it again; the first
// access that differs from the recording ends the replay with a message
// naming it and exit status 1 (docs/record.md).
#include <csignal>
#include <cstdio>
#include <string>

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "host_cli.hpp"
#include "replay.hpp"

namespace replay = pciem::devices::replay;

int main(int argc, char** argv) {
    CLI::App app{"Play a PCIem recording (pciemctl record) back: create the recorded function "
                 "again, answer its driver's reads with the recorded values, do the recorded "
                 "interrupts and DMA between its accesses, and stop at the first access that "
                 "differs from the recording: its description and what the recording expected "
                 "go to stderr at once, and from then on every read is all-ones and nothing "
                 "more happens. Runs until SIGINT or SIGTERM; exit status 0 only when every "
                 "recorded step happened, 1 otherwise (docs/record.md). Needs pciem.ko and "
                 "root."};
    std::string file;
    bool no_dma_data = false;
    bool exit_on_divergence = false;
    app.add_option("recording", file, "The recording (pciemctl record -o FILE)")
        ->required()
        ->check(CLI::ExistingFile);
    app.add_flag("--no-dma-data", no_dma_data,
                 "Do not compare what recorded DMA reads find in host memory (commands, "
                 "descriptors, data the driver wrote) with the recording");
    app.add_flag("--exit-on-divergence", exit_on_divergence,
                 "Exit at the first divergence, which removes the function under its driver "
                 "(a surprise removal). Default: keep it, answering every read with all-ones "
                 "and doing nothing more, until SIGINT or SIGTERM");
    pciem::devices::HostCli host_cli;
    host_cli.add_options(app);
    if (auto done = pciem::devices::parse_command_line(app, argc, argv)) {
        return *done;
    }

    auto rec = pciem::Recording::load(file);
    if (!rec) {
        fmt::print(stderr, "pciem-replay: {}\n", rec.error().message);
        return 1;
    }
    const pciem::RecordingHeader h = rec->header();
    const size_t nrec = rec->records().size();
    auto model = replay::ReplayModel::create(std::move(*rec), {.check_dma_data = !no_dma_data});
    if (!model) {
        fmt::print(stderr, "pciem-replay: {}: {}\n", file, model.error().message);
        return 1;
    }
    replay::ReplayModel& m = **model;
    for (const std::string& w : m.warnings()) {
        fmt::print(stderr, "pciem-replay: warning: {}\n", w);
    }
    fmt::print("pciem-replay: {}: {} recorded on {} (kernel {}), {} records: {} accesses to "
               "match, {} device events to do\n",
               file, pciem::format_pci_address(h.domain, h.bus, h.devfn),
               pciem::recording_start_text(h), pciem::recording_kernel(h), nrec,
               m.accesses_expected(), m.events_expected());
    std::fflush(stdout);

    m.on_finish([&m, exit_on_divergence](replay::ReplayModel::Outcome outcome) {
        if (outcome == replay::ReplayModel::Outcome::complete) {
            fmt::print("pciem-replay: replay complete: all {} accesses and {} device events of "
                       "the recording matched\n",
                       m.accesses_matched(), m.events_done());
            std::fflush(stdout);
            return;
        }
        fmt::print(stderr, "pciem-replay: DIVERGENCE: {}\n", m.divergence());
        std::fflush(stderr);
        if (exit_on_divergence) {
            kill(getpid(), SIGTERM); // serve() stops; the function goes
        }
    });

    const int status = host_cli.serve("pciem-replay", m);
    if (status != 0) {
        return status;
    }
    switch (m.outcome()) {
    case replay::ReplayModel::Outcome::complete:
        return 0;
    case replay::ReplayModel::Outcome::diverged:
        return 1;
    case replay::ReplayModel::Outcome::running:
        break;
    }
    fmt::print(stderr,
               "pciem-replay: stopped before the end of the recording: {} of {} accesses and {} "
               "of {} device events happened; the recording expected next {}\n",
               m.accesses_matched(), m.accesses_expected(), m.events_done(), m.events_expected(),
               m.next_expected());
    return 1;
}
