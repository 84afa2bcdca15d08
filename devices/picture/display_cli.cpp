// SPDX-License-Identifier: MIT
#include "display_cli.hpp"

#include <cstdio>

#include <fmt/format.h>

#include "pciem/serve.hpp"

namespace pciem::picture {

void DisplayCli::add_options(CLI::App& app) {
    app.add_option("--snapshot", snapshot,
                   "On SIGUSR1, write what the display shows to this file as PNG (atomically)");
    app.add_option("--http-port", http_port,
                   "Serve the live view (a web page that follows the screen) on this TCP port; "
                   "0 picks a free one");
    app.add_option("--http-address", http_address, "IPv4 address the live view listens on")
        ->capture_default_str();
}

std::unique_ptr<DisplayCli::Running> DisplayCli::start(const std::string& prog,
                                                       const LiveView::Source& source) const {
    auto running = std::make_unique<Running>();
    // Before the threads below exist, so that they inherit the mask: the
    // program waits for SIGINT/SIGTERM on its main thread (serve()), and
    // a thread that does not block them would die of them instead (exit
    // status 143, seen once in 99-vfu-fb).
    (void)pciem::block_stop_signals();
    const sigset_t usr1 = SnapshotOnSignal::block();
    if (!snapshot.empty()) {
        running->snapshots = SnapshotOnSignal::start(usr1, snapshot, source);
    }
    if (http_port) {
        auto view =
            LiveView::start({.address = http_address, .port = *http_port, .title = prog}, source);
        if (!view) {
            fmt::print(stderr, "{}: {}\n", prog, view.error().message);
            return nullptr;
        }
        running->live_view = std::move(*view);
        fmt::print("{}: live view on http://{}:{}/\n", prog, http_address,
                   running->live_view->port());
        std::fflush(stdout);
    }
    return running;
}

} // namespace pciem::picture
