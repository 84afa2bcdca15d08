// SPDX-License-Identifier: MIT
//
// pciem-testdev: the test device on the kernel, until SIGINT/SIGTERM.
// The VM tests start it, wait for --ready-file, load the test driver.
#include <CLI/CLI.hpp>

#include "host_cli.hpp"
#include "testdev.hpp"

int main(int argc, char** argv) {
    CLI::App app{"Run the PCIem test device (devices/testdev/testdev_regs.h) on /dev/pciem until "
                 "SIGINT or SIGTERM. Needs pciem.ko and root."};
    pciem::devices::HostCli host_cli;
    host_cli.add_options(app);
    if (auto done = pciem::devices::parse_command_line(app, argc, argv)) {
        return *done;
    }

    pciem::devices::TestDev model;
    return host_cli.serve("pciem-testdev", model);
}
