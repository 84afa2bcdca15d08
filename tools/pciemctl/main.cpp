// SPDX-License-Identifier: MIT
//
// pciemctl: the command-line front end of PCIem.
#include <cstdio>

#include <CLI/CLI.hpp>

#include "commands.hpp"

int main(int argc, char** argv) {
    CLI::App app{"pciemctl: create synthetic PCIe devices from spec files and inspect PCIem.\n"
                 "Exit codes: 0 success, 1 runtime error, 2 usage error."};
    app.require_subcommand(1);
    pciemctl::Action action;
    pciemctl::add_run_command(app, action);
    pciemctl::add_list_command(app, action);
    pciemctl::add_info_command(app, action);
    pciemctl::add_check_command(app, action);
    pciemctl::add_inject_command(app, action);
    pciemctl::add_trace_command(app, action);
    pciemctl::add_record_command(app, action);
    pciemctl::add_dump_command(app, action);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        // --help is reported as a "parse error" with exit code 0.
        const int code = app.exit(e);
        return code == 0 ? pciemctl::exit_ok : pciemctl::exit_usage_error;
    }
    return action ? action() : pciemctl::exit_usage_error;
}
