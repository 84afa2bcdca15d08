// SPDX-License-Identifier: MIT
//
// pciem-bochs: a bochs display (QEMU's bochs-display, 1234:1111) on the
// kernel until SIGINT or SIGTERM; the stock Linux bochs DRM driver binds
// to it. SIGUSR1 writes a PNG of the screen to --snapshot; --http-port
// serves the live view.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "bochs_display.hpp"
#include "display_cli.hpp"
#include "host_cli.hpp"

int main(int argc, char** argv) {
    CLI::App app{"Run a bochs display adapter (1234:1111, QEMU's bochs-display) on /dev/pciem "
                 "until SIGINT or SIGTERM. The stock Linux bochs DRM driver binds to it. Needs "
                 "pciem.ko and root."};
    uint32_t vram_mb = 16;
    pciem::picture::DisplayCli display;
    pciem::devices::HostCli host_cli;
    app.add_option("--vram-mb", vram_mb,
                   "VRAM (BAR0) in MiB: a power of two, 4..256 (the driver wants 4 or more; "
                   "1024x768 needs 8)")
        ->check(CLI::Range(4u, 256u))
        ->capture_default_str();
    display.add_options(app);
    host_cli.add_options(app);
    if (auto done = pciem::devices::parse_command_line(app, argc, argv)) {
        return *done;
    }
    if ((vram_mb & (vram_mb - 1)) != 0) {
        fmt::print(stderr, "pciem-bochs: --vram-mb {} is not a power of two\n", vram_mb);
        return 2;
    }
    pciem::bochs::BochsDisplay model(vram_mb << 20);
    auto pictures = display.start("pciem-bochs", [&model] { return model.picture(); });
    if (!pictures) {
        return 1;
    }
    return host_cli.serve("pciem-bochs", model);
}
