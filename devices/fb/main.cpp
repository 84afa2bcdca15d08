// SPDX-License-Identifier: MIT
//
// pciem-fb: the framebuffer accelerator (docs/fb.md) on the kernel, until
// SIGINT or SIGTERM. Its DRM driver is drivers/pciem_fb. SIGUSR1 writes a
// PNG of the screen to --snapshot; --http-port serves the live view.
#include <cstdio>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "display_cli.hpp"
#include "fb_device.hpp"
#include "host_cli.hpp"

int main(int argc, char** argv) {
    CLI::App app{"Run the PCIem framebuffer accelerator (1b36:7e40, docs/fb.md) on /dev/pciem "
                 "until SIGINT or SIGTERM. Its DRM driver is pciem_fb. Needs pciem.ko and root.\n\n"
                 "Examples:\n"
                 "  pciem-fb --snapshot /tmp/screen.png      (kill -USR1 writes it)\n"
                 "  pciem-fb --vram-mb 64 --http-port 8080   (open http://HOST:8080/)\n"};
    pciem::fb::FbOptions fb;
    uint32_t vram_mb = fb.vram_bytes >> 20;
    std::string preferred = "1024x768";
    pciem::picture::DisplayCli display;
    pciem::devices::HostCli host_cli;

    app.add_option("--vram-mb", vram_mb, "VRAM (BAR2) in MiB: a power of two, 1..256")
        ->check(CLI::Range(1u, 256u))
        ->capture_default_str();
    app.add_option("--preferred", preferred,
                   "The mode the attached monitor prefers (PREF_WIDTH x PREF_HEIGHT)")
        ->capture_default_str();
    display.add_options(app);
    host_cli.add_options(app);
    if (auto done = pciem::devices::parse_command_line(app, argc, argv)) {
        return *done;
    }

    if ((vram_mb & (vram_mb - 1)) != 0) {
        fmt::print(stderr, "pciem-fb: --vram-mb {} is not a power of two (a BAR's size is)\n",
                   vram_mb);
        return 2;
    }
    fb.vram_bytes = vram_mb << 20;
    if (std::sscanf(preferred.c_str(), "%ux%u", &fb.preferred_width, &fb.preferred_height) != 2 ||
        fb.preferred_width == 0 || fb.preferred_height == 0 || fb.preferred_width > fb.max_width ||
        fb.preferred_height > fb.max_height) {
        fmt::print(stderr, "pciem-fb: --preferred '{}' is not WIDTHxHEIGHT within {}x{}\n",
                   preferred, fb.max_width, fb.max_height);
        return 2;
    }

    pciem::fb::FbDevice model(fb);
    auto pictures = display.start("pciem-fb", [&model] { return model.picture(); });
    if (!pictures) {
        return 1;
    }
    return host_cli.serve("pciem-fb", model);
}
