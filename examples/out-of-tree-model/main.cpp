// SPDX-License-Identifier: MIT
//
// The doorbell on the running kernel, until Ctrl-C (needs pciem.ko and
// root):
//
//     sudo ./doorbell-model
//     doorbell: created 10000:00:00.0
//
// The function exists while this program runs; lspci -s 10000:00:00.0 -vv
// shows it, and a driver bound to 1b36:7e30 sees the registers of
// doorbell_device.hpp.
#include <cstdio>

#include <pciem/pciem.hpp> // the SDK in one include

#include "doorbell_device.hpp"

int main() {
    // Signals are blocked before any thread starts, so that SIGINT and
    // SIGTERM reach serve_until_signal() and the device is removed cleanly.
    const sigset_t stop = pciem::block_stop_signals();
    doorbell::DoorbellDevice model;
    auto host = pciem::KernelHost::create(model);
    if (!host) {
        std::fprintf(stderr, "doorbell: %s\n", host.error().message.c_str());
        return 1;
    }
    std::printf("doorbell: created %s\n", (*host)->device().address().c_str());
    std::fflush(stdout);
    if (auto done = pciem::serve_until_signal(**host, stop); !done) {
        std::fprintf(stderr, "doorbell: %s\n", done.error().message.c_str());
        return 1;
    }
    return 0;
}
