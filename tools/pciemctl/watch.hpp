// SPDX-License-Identifier: MIT
//
// What `pciemctl record` and `pciemctl trace` share: run a command (or
// wait for a duration, or for Ctrl-C) while draining a file descriptor.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "pciem/error.hpp"

namespace pciemctl {

struct WatchEnd {
    enum class Why { command_done, duration, signal, source_ended };
    Why why = Why::signal;
    int command_status = 0; // exit status, 128 + signal when killed
    int signal = 0;         // SIGINT/SIGTERM that stopped the watch
};

// Calls drain() when fd is readable and at least every poll_ms (some
// tracefs files wake poll() late), until `command` exits, `duration_s`
// (if > 0) passes, SIGINT or SIGTERM arrives (passed on to the command
// while it runs, which then ends the watch), or drain() returns false
// (its source ended). `command` is run with execvp(); its failure to
// start is reported as exit status 127. SIGINT, SIGTERM and SIGCHLD are
// blocked in this process while watching.
pciem::Result<WatchEnd> watch(int fd, const std::vector<std::string>& command, double duration_s,
                              int poll_ms, const std::function<bool()>& drain);

// pciemctl's exit status after watching `command` (none: exit_ok): a
// command that failed is a runtime error, said on stderr.
int command_outcome(const std::vector<std::string>& command, const WatchEnd& end);

// "sh -c 'x y'" for messages.
std::string command_text(const std::vector<std::string>& command);

} // namespace pciemctl
