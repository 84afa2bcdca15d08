// SPDX-License-Identifier: MIT
//
// How hostile the chaos layer is (chaos_model.hpp): a probability per
// kind of misbehaviour and the limits of the background mischief. Every
// decision is drawn from generators seeded with `seed`, so a seed names
// one sequence of decisions (not one interleaving with the driver's
// threads, which no userspace program can fix).
#pragma once

#include <cstdint>
#include <vector>

#include "pciem/faults.hpp"

namespace pciem::devices {

struct ChaosOptions {
    uint64_t seed = 1;
    // For this many ms after the start the model behaves (no misbehaviour
    // per access, no mischief; death may still come): a driver whose probe
    // the chaos would end at once gets as far as I/O first.
    uint32_t calm_ms = 0;

    // Per MMIO read of the wrapped model (its side effects still happen).
    double wrong_read = 0.02;   // answered with a wrong value
    double late_read = 0.01;    // answered after up to twice the read timeout
    double never_read = 0.005;  // answered only once the kernel gave up on it
    // Registers read right and on time whatever the dice say (BAR:OFF+LEN,
    // parse_fault_region): the ones a driver trusts blindly to size its
    // memory, such as NVMe's CAP (docs/findings.md), so that a test of
    // pciem.ko is not ended by the driver corrupting memory.
    std::vector<FaultRegion> honest;
    // Per MMIO write: lost, or delivered with one bit flipped.
    double drop_write = 0.01;
    double corrupt_write = 0.005;
    // Per interrupt the wrapped model raises: lost, or raised twice.
    double drop_irq = 0.01;
    double duplicate_irq = 0.01;
    // Per DMA the wrapped model does: refused (as a fault would be), or
    // a read whose data comes back with one byte flipped.
    double dma_fail = 0.01;
    double dma_corrupt = 0.005;
    // The read timeout the device runs with (late and never are relative
    // to it), in microseconds.
    uint32_t read_timeout_us = 50'000;

    // The mischief thread: every 1..tick_ms_max ms one of an interrupt
    // storm (up to storm_max raises on random vectors below `vectors`,
    // beyond the function's own too), a DMA at a random range (near
    // addresses the model used, or anywhere), or nothing.
    bool mischief = true;
    uint32_t tick_ms_max = 50;
    uint32_t storm_max = 2000;
    uint32_t vectors = 40;
    uint32_t dma_max_bytes = 64 * 1024;
    // Chance a random DMA writes (random bytes, a fetch-add or a
    // compare-and-swap) rather than reads. Writes that land inside a live
    // mapping are let through by the sanitizer, as they must be: 0 keeps
    // a driver's queues and shadow doorbells intact (the stock nvme
    // driver cannot survive a forged completion: docs/findings.md).
    double random_dma_writes = 0.75;
    // Die (SIGKILL to itself) at a random moment within this many ms of
    // the start; 0: live until stopped.
    uint32_t die_within_ms = 0;
};

} // namespace pciem::devices
