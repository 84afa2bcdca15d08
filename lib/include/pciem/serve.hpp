// SPDX-License-Identifier: MIT
//
// The main loop of a device-model program: serve one KernelHost until
// SIGINT or SIGTERM, the way `pciemctl run` holds its devices.
//
//     const sigset_t stop = pciem::block_stop_signals();   // before any thread
//     auto host = pciem::KernelHost::create(model, options);
//     ...
//     auto sig = pciem::serve_until_signal(**host, stop, ready_file);
#pragma once

#include <csignal>
#include <string>

#include "pciem/error.hpp"
#include "pciem/kernel_host.hpp"

namespace pciem {

// Blocks SIGINT and SIGTERM in the calling thread and every thread it
// starts later, so they wait for sigwait() instead of killing the
// process half-way through creating a device. Call it first in main().
sigset_t block_stop_signals();

// Writes text to path under a temporary name and renames it into place,
// so a test polling for the file never reads it half-written.
bool write_ready_file(const std::string& path, const std::string& text);

// Writes the device address to ready_file (if not empty; atomically, so
// a test polling for it never reads half a line), runs the host on its
// own thread and returns the signal that stopped it. An error if the
// ready file cannot be written or the loop failed.
Result<int> serve_until_signal(KernelHost& host, const sigset_t& stop,
                               const std::string& ready_file = {});

} // namespace pciem
