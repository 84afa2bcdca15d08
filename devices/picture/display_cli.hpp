// SPDX-License-Identifier: MIT
//
// What every display model's program offers on its command line: PNG
// snapshots on SIGUSR1 (--snapshot) and the live view (--http-port).
//
//     pciem::picture::DisplayCli display;
//     display.add_options(app);
//     CLI11_PARSE(app, argc, argv);
//     auto pictures = display.start("pciem-x", [&] { return model.picture(); });
//     if (!pictures) return 1;             // said why on stderr
//     return host_cli.serve("pciem-x", model);
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "live_view.hpp"
#include "snapshot_signal.hpp"

namespace pciem::picture {

struct DisplayCli {
    std::string snapshot;
    std::optional<uint16_t> http_port;
    std::string http_address = "0.0.0.0";

    // What start() keeps running.
    struct Running {
        std::unique_ptr<SnapshotOnSignal> snapshots;
        std::unique_ptr<LiveView> live_view;
    };

    void add_options(CLI::App& app);
    // Call before any thread exists (it blocks SIGUSR1 for all that
    // follow). nullptr after printing why it could not start.
    std::unique_ptr<Running> start(const std::string& prog, const LiveView::Source& source) const;
};

} // namespace pciem::picture
