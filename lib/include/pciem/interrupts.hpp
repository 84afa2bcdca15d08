// SPDX-License-Identifier: MIT
//
// Interrupts: how a device model signals its driver. The host owns
// delivery (MSI/MSI-X tables, masking, pending bits, Interrupt Disable);
// the model only says "vector n" or "INTx high/low":
//
//     if (auto ok = irq().raise(3); !ok) { ... ok.error().code == EAGAIN ... }
//     (void)irq().set_intx(true);
//     auto fd = irq().eventfd(0);        // from a model thread: write(*fd, &one, 8)
//
// Every call is thread-safe: a model may raise from threads of its own.
// Semantics (the same on every host, see docs/device-model.md):
//  - raise(v) signals MSI-X table entry v when MSI-X is enabled (EINVAL
//    past the table), else MSI vector v when MSI is enabled (EINVAL at or
//    past 2^Multiple Message Enable), else fails with EAGAIN: a function
//    with neither enabled cannot signal. A masked vector (MSI-X entry
//    mask, Function Mask, MSI per-vector mask) becomes pending and fires
//    once when unmasked. Enabling MSI or MSI-X clears pending state.
//  - set_intx(level) drives the level-triggered INTx line; Interrupt
//    Disable gates it, Interrupt Status reflects it. EINVAL without an
//    interrupt pin in the spec.
//  - eventfd(v) is an eventfd bound to vector v (created on first use,
//    owned by the host, valid while the host lives): every count written
//    to it raises v once, with no PCIem call (irqfd). Failures of such
//    raises are not reported (the kernel counts them as dropped).
#pragma once

#include "pciem/error.hpp"

namespace pciem {

class Interrupts {
public:
    Interrupts() = default;
    Interrupts(const Interrupts&) = delete;
    Interrupts& operator=(const Interrupts&) = delete;
    Interrupts(Interrupts&&) = delete;
    Interrupts& operator=(Interrupts&&) = delete;
    virtual ~Interrupts() = default;

    [[nodiscard]] virtual Result<void> raise(unsigned vector) = 0;
    [[nodiscard]] virtual Result<void> set_intx(bool level) = 0;
    [[nodiscard]] virtual Result<int> eventfd(unsigned vector) = 0;
};

} // namespace pciem
