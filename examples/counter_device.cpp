// SPDX-License-Identifier: MIT
//
// Runs the example CounterDevice on the kernel until SIGINT/SIGTERM:
//
//     sudo build/bin/pciem-example-counter &     # prints the address
//     setpci/devmem2, or a driver, on its BAR0
//
// The same class runs in-process in examples/tests/counter_example_test.cpp.
#include <cstdio>
#include <cstring>

#include <pciem/kernel_host.hpp>
#include <pciem/serve.hpp>

#include "counter_device.hpp"

int main(int argc, char** argv) {
    // No option parsing, to keep the example short; but an option is
    // never taken for the ready file: usage status 2, as every program.
    if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
        const bool help = argc == 2 && std::strcmp(argv[1], "--help") == 0;
        if (!help) {
            std::fprintf(stderr, "counter: unknown argument '%s'\n", argv[argc - 1]);
        }
        std::fprintf(help ? stdout : stderr,
                     "usage: pciem-example-counter [READY-FILE]\n"
                     "Runs the example counter device until SIGINT or SIGTERM; once drivers\n"
                     "can bind, writes its PCI address to READY-FILE.\n");
        return help ? 0 : 2;
    }
    const sigset_t stop = pciem::block_stop_signals();
    example::CounterDevice model;
    auto host = pciem::KernelHost::create(model);
    if (!host) {
        std::fprintf(stderr, "counter: %s\n", host.error().message.c_str());
        return 1;
    }
    std::printf("counter: created %s\n", (*host)->device().address().c_str());
    std::fflush(stdout);
    // Optional first argument: a ready file, as for pciem-testdev.
    auto sig = pciem::serve_until_signal(**host, stop, argc > 1 ? argv[1] : "");
    if (!sig) {
        std::fprintf(stderr, "counter: %s\n", sig.error().message.c_str());
        return 1;
    }
    return 0;
}
