// SPDX-License-Identifier: MIT
//
// pciemctl's subcommands. Each file registers one subcommand; parsing
// only records what to run, so exit codes are decided in one place.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace pciemctl {

// Exit codes, documented in `pciemctl --help`.
inline constexpr int exit_ok = 0;
inline constexpr int exit_runtime_error = 1;
inline constexpr int exit_usage_error = 2;

// Set by the chosen subcommand's parse callback; returns the exit code.
using Action = std::function<int()>;

void add_run_command(CLI::App& app, Action& action);
void add_list_command(CLI::App& app, Action& action);
void add_info_command(CLI::App& app, Action& action);
void add_check_command(CLI::App& app, Action& action);
void add_inject_command(CLI::App& app, Action& action);
void add_trace_command(CLI::App& app, Action& action);
void add_record_command(CLI::App& app, Action& action);
void add_dump_command(CLI::App& app, Action& action);

} // namespace pciemctl
